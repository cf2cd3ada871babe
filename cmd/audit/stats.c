/* stats.c - vaultctl-audit stats recompute|show */
#include <stdio.h>
#include <unistd.h>

#include "auditcmd.h"
#include "auditlog.h"

#define LOCK_NAME "stats-recompute"
#define LOCK_MINUTES 10

/* For cron, so no acting user: whoever holds the configuration's database
 * credentials can write these tables anyway (doc/architecture.md,
 * section 8), and the statement only brings them back to what the source
 * tables say. */
int cmd_audit_stats_recompute(struct cli *c)
{
	const char *org_id = NULL;
	char holder[128];
	struct vc_ref ref;
	struct vc_db *db;
	long long orgs = 0;
	int tty = isatty(STDERR_FILENO) && !c->quiet, rc;

	rc = audit_scope(c, VC_AUDIT_RECOMPUTE, &ref, &org_id);
	if (rc == 0)
		rc = vc_session_db(&c->s, VC_DB_METADATA, &db, &c->err);
	if (rc == 0)
		rc = vc_auditlog_lock(db, LOCK_NAME, "stats recompute",
				      LOCK_MINUTES, holder, &c->err);
	if (rc < 0)
		return rc;
	if (tty)
		fprintf(stderr, "%s: recomputing usage statistics...",
			c->tool->prog);
	rc = vc_auditlog_recompute(db, org_id, &orgs, &c->err);
	if (tty)
		fprintf(stderr, "\r\033[K");
	vc_auditlog_unlock(db, LOCK_NAME, holder);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot recompute usage statistics");
	if (c->verbose)
		printf("recomputed usage statistics of %lld organization%s\n",
		       orgs, orgs == 1 ? "" : "s");
	return 0;
}

static const struct vc_col stats_cols[] = {
	{ "organization", VC_COL_STR }, { "secret_count", VC_COL_NUM },
	{ "api_calls", VC_COL_NUM }, { "last_updated", VC_COL_STR },
	{ "organization_id", VC_COL_STR },
};

/* Usage is for every member (vaultctl(7): viewers see usage); without
 * --org a global admin sees every organization, anyone else their own. */
int cmd_audit_stats_show(struct cli *c)
{
	const char *org_id, *member_id;
	struct vc_ref ref;
	struct vc_res *r;
	int rc = vc_audit_scope(&c->s, cli_opt(c, O_ORG), VC_AUDIT_STATS, &ref,
				&org_id, &member_id, &c->err);

	if (rc == 0)
		rc = vc_auditlog_stats(c->s.db[VC_DB_MONITORING], org_id,
				       member_id, &r, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot show usage statistics");
	rc = cli_print_res(c, stats_cols, ARRAY_SIZE(stats_cols), r, 0);
	vc_res_free(r);
	return rc;
}
