/* audit_prune.c - retention: the oldest rows of each chain deleted, the
 * last one's hash kept as the chain's anchor for verify to start from. */
#include "auditlog.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"

#define PRUNE_BATCH 10000

int vc_auditlog_count_before(struct vc_db *db, const char *before,
			     long long *n, struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM audit_logs WHERE "
			     "`timestamp` < ?", "s", before);

	if (rc < 0)
		return rc;
	*n = vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

struct prune {
	const char *chain;      /* "" for the global chain */
	const char *before;
	long long deleted;
	int done;
};

/* The batch: the chain's oldest rows, up to the first one that is not
 * old enough.  Only a prefix of the chain may go, or verify could not
 * start from the anchor. */
static int prune_prefix(struct vc_db *db, struct prune *a, long long *last,
			unsigned char hash[32], struct vc_err *e)
{
	int global = !a->chain[0];
	struct vc_res *r;
	size_t k = 0, len;
	int rc;

	if (global)
		rc = vc_db_query(db, &r, e, "SELECT seq, row_hash, `timestamp` < ? "
				 "FROM audit_logs WHERE organization_id IS NULL "
				 "ORDER BY seq LIMIT ?", "sl", a->before,
				 (long long)PRUNE_BATCH);
	else
		rc = vc_db_query(db, &r, e, "SELECT seq, row_hash, `timestamp` < ? "
				 "FROM audit_logs WHERE organization_id = ? ORDER "
				 "BY seq LIMIT ?", "ssl", a->before, a->chain,
				 (long long)PRUNE_BATCH);
	if (rc < 0)
		return rc;
	while (k < vc_res_rows(r) && vc_res_int(r, k, 2))
		k++;
	a->done = k < PRUNE_BATCH;
	*last = 0;
	if (k) {
		const char *h = vc_res_get(r, k - 1, 1, &len);
		*last = vc_res_int(r, k - 1, 0);
		if (!h || len != 32)
			rc = vc_err_set(e, VC_EFAIL, "audit row seq %lld has a "
					"damaged hash", *last);
		else
			memcpy(hash, h, 32);
	}
	vc_res_free(r);
	return rc;
}

/* The reads the rows to go list go with them, in the same transaction:
 * none is left under no row (verify would call it inserted). */
static int prune_reads(struct vc_db *db, const char *chain, long long last,
		       struct vc_err *e)
{
	if (chain[0])
		return vc_db_exec(db, NULL, e, "DELETE r FROM audit_logs a JOIN "
				  "audit_reads r ON r.seq = a.seq WHERE "
				  "a.organization_id = ? AND a.seq <= ?", "sl",
				  chain, last);
	return vc_db_exec(db, NULL, e, "DELETE r FROM audit_logs a JOIN "
			  "audit_reads r ON r.seq = a.seq WHERE a.organization_id "
			  "IS NULL AND a.seq <= ?", "l", last);
}

static int prune_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct prune *a = arg;
	unsigned char hash[32];
	unsigned long long n = 0;
	struct vc_res *r;
	long long last;
	int rc;

	a->deleted = 0;
	a->done = 1;
	/* Writers of this chain wait on its head until we commit. */
	rc = vc_db_query(db, &r, e, "SELECT chain FROM audit_chain_heads WHERE "
			 "chain = ? FOR UPDATE", "s", a->chain);
	if (rc < 0)
		return rc;
	n = vc_res_rows(r);
	vc_res_free(r);
	if (n == 0)             /* no head, no anchor to keep: leave it */
		return 0;
	rc = prune_prefix(db, a, &last, hash, e);
	if (rc < 0 || last == 0)
		return rc;
	rc = prune_reads(db, a->chain, last, e);
	if (rc == 0 && a->chain[0])
		rc = vc_db_exec(db, &n, e, "DELETE FROM audit_logs WHERE "
				"organization_id = ? AND seq <= ?", "sl", a->chain,
				last);
	else if (rc == 0)
		rc = vc_db_exec(db, &n, e, "DELETE FROM audit_logs WHERE "
				"organization_id IS NULL AND seq <= ?", "l", last);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE audit_chain_heads SET "
				"anchor_hash = ?, updated_at = UTC_TIMESTAMP() "
				"WHERE chain = ?", "bs", hash, (size_t)32, a->chain);
	a->deleted = (long long)n;
	return rc;
}

struct pruned {
	struct vc_session *s;
	const char *before;
	long long rows;
};

static int pruned_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct pruned *a = arg;
	char details[96];
	struct vc_audit_ev ev = { NULL, "audit.prune", "audit_log", "",
				  details };

	snprintf(details, sizeof(details), "{\"before\":\"%s\",\"rows\":%lld}",
		 a->before, a->rows);
	return vc_audit_write(a->s, db, &ev, 1, e);
}

int vc_auditlog_prune(struct vc_session *s, struct vc_db *db,
		      const char *before, long long *rows, struct vc_err *e)
{
	struct pruned done = { s, before, 0 };
	struct vc_res *r;
	int rc;

	*rows = 0;
	/* Chains with anything old: one loose index scan of
	 * ix_audit_logs_org_time, not a read of every old row. */
	rc = vc_db_query(db, &r, e, "SELECT COALESCE(organization_id, '') FROM "
			 "audit_logs GROUP BY organization_id HAVING "
			 "MIN(`timestamp`) < ?", "s", before);
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		struct prune a = { vc_res_get(r, i, 0, NULL), before, 0, 0 };
		do {
			rc = vc_db_txn(db, prune_txn, &a, e);
			if (rc == 0)
				*rows += a.deleted;
		} while (rc == 0 && !a.done);
	}
	vc_res_free(r);
	done.rows = *rows;
	if (rc == 0 && *rows)
		rc = vc_db_txn(db, pruned_txn, &done, e);
	return rc;
}
