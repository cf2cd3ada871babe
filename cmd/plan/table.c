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
	{ .name = "create", .run = cmd_plan_create, .needs = NEED_USER,
	  .usage = "NAME --price D --cycle monthly|yearly [--secrets-limit "
	           "N|unlimited] [--features JSON|@FILE] [--description S]",
	  .longopts = plan_opts, .nargs = { 1, 1 },
	  .summary = "Create a plan (global admins)." },
	{ .name = "list", .run = cmd_plan_list, .needs = NEED_USER,
	  .summary = "List plans." },
	{ .name = "show", .run = cmd_plan_show, .needs = NEED_USER,
	  .usage = "PLAN", .nargs = { 1, 1 },
	  .summary = "Show a plan, with its features." },
	{ .name = "set", .run = cmd_plan_set, .needs = NEED_USER,
	  .usage = "PLAN [--price D] [--cycle monthly|yearly] "
	           "[--secrets-limit N|unlimited] [--features JSON|@FILE] "
	           "[--description S]",
	  .longopts = plan_opts, .nargs = { 1, 1 },
	  .summary = "Change a plan (global admins)." },
	{ .name = "rm", .run = cmd_plan_rm, .needs = NEED_USER,
	  .usage = "PLAN", .nargs = { 1, 1 },
	  .summary = "Remove a plan that nothing uses (global admins)." },
	{ .name = "subscribe", .run = cmd_plan_subscribe, .needs = NEED_USER,
	  .usage = "ORG PLAN [--start DATE] [--end DATE] [--force]",
	  .longopts = subscribe_opts, .nargs = { 2, 2 },
	  .summary = "End the active subscription and start one on PLAN "
	             "(owners)." },
	{ .name = "cancel", .run = cmd_plan_cancel, .needs = NEED_USER,
	  .usage = "ORG", .nargs = { 1, 1 },
	  .summary = "Cancel the active subscription (owners)." },
	{ .name = "subscriptions", .run = cmd_plan_subscriptions,
	  .needs = NEED_USER, .usage = "ORG", .nargs = { 1, 1 },
	  .summary = "List the organization's subscriptions, newest first "
	             "(admins)." },
	{ .name = "usage", .run = cmd_plan_usage, .needs = NEED_USER,
	  .usage = "ORG", .nargs = { 1, 1 },
	  .summary = "Secrets used and allowed, API calls, per project and "
	             "environment." },
	{ .name = "check", .run = cmd_plan_check, .needs = NEED_USER,
	  .usage = "ORG [--need N]", .longopts = check_opts, .nargs = { 1, 1 },
	  .summary = "Exit 0 if N more secrets fit (default 1), 5 if not." },
	/* For cron: no acting user, the audit rows name none. */
	{ .name = "expire", .run = cmd_plan_expire, .needs = NEED_DB,
	  .summary = "Mark active subscriptions past their end date as "
	             "expired." },
};

const struct cli_tool vc_tool_plan = {
	.prog = "vaultctl-plan", .cmds = cmds, .ncmds = ARRAY_SIZE(cmds),
};
