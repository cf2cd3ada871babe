/* audit_lock.c - single-instance jobs (stats recompute, audit prune): a
 * maintenance_locks row that every node sees, taken over once expired. */
#include "auditlog.h"

#include <stdio.h>
#include <unistd.h>

struct lock {
	const char *name, *what, *holder;
	int minutes;
};

static int lock_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct lock *l = arg;
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT holder, DATE_FORMAT(expires_at, "
			 "'%Y-%m-%dT%H:%i:%sZ'), expires_at > UTC_TIMESTAMP() "
			 "FROM maintenance_locks WHERE name = ? FOR UPDATE", "s",
			 l->name);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) && vc_res_int(r, 0, 2))
		rc = vc_err_set(e, VC_ECONFLICT, "another %s is running (holder "
				"%s, lock until %s)", l->what,
				vc_res_get(r, 0, 0, NULL), vc_res_get(r, 0, 1, NULL));
	else if (vc_res_rows(r))        /* expired: its holder died */
		rc = vc_db_exec(db, NULL, e, "UPDATE maintenance_locks SET "
				"holder = ?, acquired_at = UTC_TIMESTAMP(), "
				"expires_at = UTC_TIMESTAMP() + INTERVAL ? MINUTE "
				"WHERE name = ?", "sis", l->holder, l->minutes,
				l->name);
	else
		rc = vc_db_exec(db, NULL, e, "INSERT INTO maintenance_locks "
				"(name, holder, acquired_at, expires_at) VALUES "
				"(?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL "
				"? MINUTE)", "ssi", l->name, l->holder, l->minutes);
	vc_res_free(r);
	if (rc == VC_ECONFLICT && vc_db_errno(db) == 1062)  /* ER_DUP_ENTRY */
		return vc_err_set(e, VC_ECONFLICT, "another %s is running (it "
				  "took the lock just now)", l->what);
	return rc;
}

int vc_auditlog_lock(struct vc_db *db, const char *name, const char *what,
		     int minutes, char holder[128], struct vc_err *e)
{
	char host[64];
	struct lock l = { name, what, holder, minutes };

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(holder, 128, "%s:%ld", host, (long)getpid());
	return vc_db_txn(db, lock_txn, &l, e);
}

void vc_auditlog_unlock(struct vc_db *db, const char *name,
			const char *holder)
{
	struct vc_err e;

	/* Best effort: a row left behind expires. */
	vc_db_exec(db, NULL, &e, "DELETE FROM maintenance_locks WHERE name = ? "
		   "AND holder = ?", "ss", name, holder);
}
