/* table.c - the command table of vaultctl-plan (plans, subscriptions,
 * usage and quota checks), shared with the in-process `vaultctl shell`. */
#include "plancmd.h"

static const struct option plan_opts[] = {
	{ "price", required_argument, NULL, O_PRICE },
	{ "cycle", required_argument, NULL, O_CYCLE },
	{ "secrets-limit", required_argument, NULL, O_LIMIT },
	{ "features", required_argument, NULL, O_FEATURES },
	{ "description", required_argument, NULL, O_DESC },
	{ NULL, 0, NULL, 0 },
};
static const struct option subscribe_opts[] = {
	{ "start", required_argument, NULL, O_START },
	{ "end", required_argument, NULL, O_END },
	{ "force", no_argument, NULL, O_FORCE },
	{ NULL, 0, NULL, 0 },
};
static const struct option check_opts[] = {
	{ "need", required_argument, NULL, O_NEED },
	{ NULL, 0, NULL, 0 },
};

static const struct cli_cmd cmds[] = {
	{ "create", cmd_plan_create, "NAME --price D --cycle monthly|yearly "
	  "[--secrets-limit N|unlimited] [--features JSON|@FILE] "
	  "[--description S]", NEED_USER, "", plan_opts, 1, 1,
	  "Create a plan (global admins)." },
	{ "list", cmd_plan_list, "", NEED_USER, "", NULL, 0, 0, "List plans." },
	{ "show", cmd_plan_show, "PLAN", NEED_USER, "", NULL, 1, 1,
	  "Show a plan, with its features." },
	{ "set", cmd_plan_set, "PLAN [--price D] [--cycle monthly|yearly] "
	  "[--secrets-limit N|unlimited] [--features JSON|@FILE] "
	  "[--description S]", NEED_USER, "", plan_opts, 1, 1,
	  "Change a plan (global admins)." },
	{ "rm", cmd_plan_rm, "PLAN", NEED_USER, "", NULL, 1, 1,
	  "Remove a plan that nothing uses (global admins)." },
	{ "subscribe", cmd_plan_subscribe, "ORG PLAN [--start DATE] "
	  "[--end DATE] [--force]", NEED_USER, "", subscribe_opts, 2, 2,
	  "End the active subscription and start one on PLAN (owners)." },
	{ "cancel", cmd_plan_cancel, "ORG", NEED_USER, "", NULL, 1, 1,
	  "Cancel the active subscription (owners)." },
	{ "subscriptions", cmd_plan_subscriptions, "ORG", NEED_USER, "", NULL,
	  1, 1, "List the organization's subscriptions, newest first "
	  "(admins)." },
	{ "usage", cmd_plan_usage, "ORG", NEED_USER, "", NULL, 1, 1,
	  "Secrets used and allowed, API calls, per project and environment." },
	{ "check", cmd_plan_check, "ORG [--need N]", NEED_USER, "", check_opts,
	  1, 1, "Exit 0 if N more secrets fit (default 1), 5 if not." },
	/* For cron: no acting user, the audit rows name none. */
	{ "expire", cmd_plan_expire, "", NEED_DB, "", NULL, 0, 0,
	  "Mark active subscriptions past their end date as expired." },
};

const struct cli_tool vc_tool_plan = {
	"vaultctl-plan", "plans, subscriptions, usage and quota checks", cmds,
	sizeof(cmds) / sizeof(cmds[0]),
};
