/* audit_stats.c - usage_statistics recomputed from the metadata and the
 * audit trail, and read back. */
#include "auditlog.h"

/* Organizations get a row even without secrets (COUNT of no rows is 0).
 * Each statement in two forms, all organizations or one: MariaDB folds
 * "? IS NULL OR" once the parameter is bound, MySQL may not, and these
 * two statements are the ones that read millions of rows. */
#define SECRETS_HEAD \
	"INSERT INTO usage_statistics (id, organization_id, secret_count, " \
	"api_calls, last_updated) " \
	"SELECT UUID(), o.id, COUNT(sm.id), 0, UTC_TIMESTAMP() " \
	"FROM organizations o LEFT JOIN secret_metadata sm ON " \
	"sm.organization_id = o.id AND sm.deleted_at IS NULL "
#define SECRETS_TAIL \
	"GROUP BY o.id ON DUPLICATE KEY UPDATE secret_count = " \
	"VALUES(secret_count), last_updated = VALUES(last_updated)"

/* The active subscription's start bounds the count; the join reads each
 * organization's range of ix_audit_logs_org_time, nothing else. */
#define CALLS_HEAD \
	"INSERT INTO usage_statistics (id, organization_id, secret_count, " \
	"api_calls, last_updated) " \
	"SELECT UUID(), o.id, 0, LEAST(COUNT(a.seq), 2147483647), " \
	"UTC_TIMESTAMP() FROM organizations o " \
	"LEFT JOIN (SELECT organization_id, MAX(start_date) AS since FROM " \
	"subscriptions WHERE status = 'active' GROUP BY organization_id) s " \
	"ON s.organization_id = o.id " \
	"LEFT JOIN audit_logs a ON a.organization_id = o.id AND " \
	"a.`timestamp` >= COALESCE(s.since, '1000-01-01 00:00:00') "
/* Commands that write no audit row (metadata reads) are counted apart as
 * they happen, in read_calls: added back, since no audit row recounts
 * them. */
#define CALLS_TAIL \
	"GROUP BY o.id ON DUPLICATE KEY UPDATE api_calls = " \
	"LEAST(VALUES(api_calls) + read_calls, 2147483647), " \
	"last_updated = VALUES(last_updated)"

/* A row that lists n reads (lib/audit_reads.c) stands for n calls, as
 * the n rows it replaced did: n - 1 more than COUNT counted.  Read from
 * audit_reads, one group per listing row, and only those rows of
 * audit_logs looked up: the cost follows the reads, not the log. */
#define LISTS_HEAD \
	"UPDATE usage_statistics us JOIN (SELECT a.organization_id AS org, " \
	"SUM(x.n - 1) AS extra FROM (SELECT seq, COUNT(*) AS n FROM " \
	"audit_reads GROUP BY seq) x JOIN audit_logs a ON a.seq = x.seq " \
	"LEFT JOIN (SELECT organization_id, MAX(start_date) AS since FROM " \
	"subscriptions WHERE status = 'active' GROUP BY organization_id) s " \
	"ON s.organization_id = a.organization_id WHERE a.action = " \
	"'secret.read' AND a.resource_type = 'environment' AND " \
	"a.`timestamp` >= COALESCE(s.since, '1000-01-01 00:00:00') "
#define LISTS_TAIL \
	"GROUP BY a.organization_id) r ON r.org = us.organization_id SET " \
	"us.api_calls = LEAST(us.api_calls + r.extra, 2147483647)"

static const char *const recompute_sql[2][4] = {
	{ SECRETS_HEAD SECRETS_TAIL, CALLS_HEAD CALLS_TAIL,
	  LISTS_HEAD LISTS_TAIL, "SELECT COUNT(*) FROM organizations" },
	{ SECRETS_HEAD "WHERE o.id = ? " SECRETS_TAIL,
	  CALLS_HEAD "WHERE o.id = ? " CALLS_TAIL,
	  LISTS_HEAD "AND a.organization_id = ? " LISTS_TAIL,
	  "SELECT COUNT(*) FROM organizations WHERE id = ?" },
};

struct recompute {
	const char *org;
	long long orgs;
};

static int recompute_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct recompute *a = arg;
	const char *const *sql = recompute_sql[a->org != NULL];
	const char *types = a->org ? "s" : "";
	struct vc_res *r;
	int rc;

	rc = vc_db_exec(db, NULL, e, sql[0], types, a->org);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, sql[1], types, a->org);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, sql[2], types, a->org);
	if (rc == 0)
		rc = vc_db_query(db, &r, e, sql[3], types, a->org);
	if (rc == 0) {
		a->orgs = vc_res_int(r, 0, 0);
		vc_res_free(r);
	}
	return rc;
}

int vc_auditlog_recompute(struct vc_db *db, const char *org_id,
			  long long *orgs, struct vc_err *e)
{
	struct recompute a = { org_id, 0 };
	struct vc_err ignored;
	int rc;

	/* READ COMMITTED: the SELECT half reads a snapshot instead of
	 * share-locking every audit row it counts, which would stall every
	 * writer for as long as the count takes. */
	rc = vc_db_simple(db, "SET SESSION TRANSACTION ISOLATION LEVEL READ "
			  "COMMITTED", e);
	if (rc == 0)
		rc = vc_db_txn(db, recompute_txn, &a, e);
	vc_db_simple(db, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE "
		     "READ", &ignored);
	*orgs = a.orgs;
	return rc;
}

int vc_auditlog_stats(struct vc_db *db, const char *org_id,
		      const char *user_id, struct vc_res **rows,
		      struct vc_err *e)
{
	return vc_db_query(db, rows, e, "SELECT o.name, COALESCE(us.secret_count, "
			   "0), COALESCE(us.api_calls, 0), DATE_FORMAT("
			   "us.last_updated, '%Y-%m-%dT%H:%i:%sZ'), o.id FROM "
			   "organizations o LEFT JOIN usage_statistics us ON "
			   "us.organization_id = o.id WHERE (? IS NULL OR o.id = ?) "
			   "AND (? IS NULL OR o.id IN (SELECT organization_id FROM "
			   "user_organizations WHERE user_id = ?)) ORDER BY o.name",
			   "ssss", org_id, org_id, user_id, user_id);
}
