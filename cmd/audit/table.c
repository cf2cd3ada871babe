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
	{ "log", cmd_audit_log, "[--org ORG] [--user EMAIL] [--action A] "
	  "[--resource-type T] [--since T] [--until T] [--limit N] "
	  "[--after CURSOR] [--follow]", REPORT, "", log_opts, 0, 0,
	  "Audit rows, newest first, a page at a time; --follow prints new "
	  "rows until interrupted." },
	{ "stats recompute", cmd_audit_stats_recompute, "[--org ORG]", NEED_DB,
	  "", org_opts, 0, 0, "Recompute usage statistics from the source "
	  "tables (for cron: idempotent, single-instance, silent)." },
	{ "stats show", cmd_audit_stats_show, "[--org ORG]", REPORT, "",
	  org_opts, 0, 0, "Usage statistics per organization." },
	{ "verify", cmd_audit_verify, "[--org ORG] [--anchor FILE]", REPORT, "",
	  verify_opts, 0, 0, "Recompute the audit hash chains; exit 8 when one "
	  "is broken (or, with --anchor, cut back since the last run)." },
	{ "rekey", cmd_audit_rekey, "[--yes]", NEED_USER, "", yes_opts, 0, 0,
	  "New audit key; every chain goes on in a new epoch under it." },
	{ "reconcile", cmd_audit_reconcile, "[--org ORG] [--fix [--yes]]",
	  NEED_USER | NEED_STORE, "", reconcile_opts, 0, 0,
	  "Compare secret metadata with the value store; exit 8 on drift." },
	{ "prune", cmd_audit_prune, "--before DATE [--yes]",
	  NEED_USER | NEED_ADMIN, "", prune_opts, 0, 0,
	  "Delete audit rows older than DATE, keeping the chains verifiable." },
};

const struct cli_tool vc_tool_audit = {
	"vaultctl-audit", "audit log, usage statistics, tamper evidence, "
	"reconciliation and retention", cmds, sizeof(cmds) / sizeof(cmds[0]),
};
