/* table.c - the command table of vaultctl-audit (audit log, usage
 * statistics, tamper evidence, reconciliation, retention), shared with
 * the in-process `vaultctl shell`. */
#include "auditcmd.h"

#define END { NULL, 0, NULL, 0 }
static const struct option log_opts[] = {
	{ "org", required_argument, NULL, O_ORG },
	{ "user", required_argument, NULL, O_USER },
	{ "action", required_argument, NULL, O_ACTION },
	{ "resource-type", required_argument, NULL, O_RTYPE },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "after", required_argument, NULL, O_AFTER },
	{ "follow", no_argument, NULL, O_FOLLOW }, END,
};
static const struct option org_opts[] = {
	{ "org", required_argument, NULL, O_ORG }, END,
};
static const struct option verify_opts[] = {
	{ "org", required_argument, NULL, O_ORG },
	{ "anchor", required_argument, NULL, O_ANCHOR }, END,
};
static const struct option yes_opts[] = {
	{ "yes", no_argument, NULL, O_YES }, END,
};
static const struct option reconcile_opts[] = {
	{ "org", required_argument, NULL, O_ORG },
	{ "fix", no_argument, NULL, O_FIX },
	{ "yes", no_argument, NULL, O_YES }, END,
};
static const struct option prune_opts[] = {
	{ "before", required_argument, NULL, O_BEFORE },
	{ "yes", no_argument, NULL, O_YES }, END,
};

/* Reports read with the monitoring account; the acting user (for roles)
 * comes from the metadata connection. */
#define REPORT (NEED_USER | NEED_MON)
static const struct cli_cmd cmds[] = {
	{ .name = "log", .run = cmd_audit_log, .needs = REPORT,
	  .usage = "[--org ORG] [--user EMAIL] [--action A] [--resource-type "
	           "T] [--since T] [--until T] [--limit N] [--after CURSOR] "
	           "[--follow]",
	  .longopts = log_opts,
	  .summary = "Audit rows, newest first, a page at a time; --follow "
	             "prints new rows until interrupted." },
	{ .name = "stats recompute", .run = cmd_audit_stats_recompute,
	  .needs = NEED_DB, .usage = "[--org ORG]", .longopts = org_opts,
	  .summary = "Recompute usage statistics from the source tables (for "
	             "cron: idempotent, single-instance, silent)." },
	{ .name = "stats show", .run = cmd_audit_stats_show, .needs = REPORT,
	  .usage = "[--org ORG]", .longopts = org_opts,
	  .summary = "Usage statistics per organization." },
	{ .name = "verify", .run = cmd_audit_verify, .needs = REPORT,
	  .usage = "[--org ORG] [--anchor FILE]", .longopts = verify_opts,
	  .summary = "Recompute the audit hash chains; exit 8 when one is "
	             "broken (or, with --anchor, cut back since the last "
	             "run)." },
	{ .name = "rekey", .run = cmd_audit_rekey, .needs = NEED_USER,
	  .usage = "[--yes]", .longopts = yes_opts,
	  .summary = "New audit key; every chain goes on in a new epoch under "
	             "it." },
	{ .name = "reconcile", .run = cmd_audit_reconcile,
	  .needs = NEED_USER | NEED_STORE,
	  .usage = "[--org ORG] [--fix [--yes]]", .longopts = reconcile_opts,
	  .summary = "Compare secret metadata with the value store; exit 8 on "
	             "drift." },
	{ .name = "prune", .run = cmd_audit_prune,
	  .needs = NEED_USER | NEED_ADMIN, .usage = "--before DATE [--yes]",
	  .longopts = prune_opts,
	  .summary = "Delete audit rows older than DATE, keeping the chains "
	             "verifiable." },
};

const struct cli_tool vc_tool_audit = {
	.prog = "vaultctl-audit", .cmds = cmds, .ncmds = ARRAY_SIZE(cmds),
};
