/* prune.c - vaultctl-audit prune --before DATE */
#include <stdio.h>
#include <time.h>

#include "auditcmd.h"
#include "auditlog.h"

#define LOCK_NAME "audit-prune"
#define LOCK_MINUTES 60

/* Global admins only, with the administrative account: the metadata
 * account cannot delete audit rows at all (sql/install.sh). */
int cmd_audit_prune(struct cli *c)
{
	const char *v = cli_opt(c, O_BEFORE);
	struct vc_db *db = c->s.db[VC_DB_ADMIN];
	char before[20], holder[128];
	long long old = 0, rows = 0;
	int rc;

	if (!v)
		return cli_fail(c, VC_EUSAGE, "prune needs --before DATE");
	if (vc_auditlog_time(v, time(NULL), before, &c->err) < 0)
		return vc_err_prefix(&c->err, "--before");
	rc = vc_ref_need_admin(&c->s, "pruning the audit log needs the global "
			       "role admin", &c->err);
	if (rc == 0)
		rc = vc_auditlog_count_before(db, before, &old, &c->err);
	if (rc == 0 && old == 0) {
		if (!c->quiet)
			printf("no audit rows older than %s UTC\n", before);
		return 0;
	}
	if (rc == 0)
		rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "delete %lld audit "
				 "row%s older than %s UTC", old, old == 1 ? "" : "s",
				 before);
	if (rc == 0)
		rc = vc_auditlog_lock(db, LOCK_NAME, "audit prune", LOCK_MINUTES,
				      holder, &c->err);
	if (rc < 0)
		return rc == VC_EINTR ? rc :
		       vc_err_prefix(&c->err, "cannot prune the audit log");
	rc = vc_auditlog_prune(&c->s, db, before, &rows, &c->err);
	vc_auditlog_unlock(db, LOCK_NAME, holder);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot prune the audit log (%lld "
				     "row%s went, the chains stay verifiable)",
				     rows, rows == 1 ? "" : "s");
	if (!c->quiet)
		printf("pruned %lld audit row%s older than %s UTC\n", rows,
		       rows == 1 ? "" : "s", before);
	return 0;
}
