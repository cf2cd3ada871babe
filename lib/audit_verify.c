/* audit_verify.c - the hash chains of the audit trail recomputed.
 *
 * Rows are read through an index in chain order, so that a chain of
 * millions of rows is read once: by (organization_id, seq) for one chain,
 * by seq alone for all of them.
 */
#include "auditlog.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

/* One chain while it is being checked. */
struct vchain {
	struct vc_auditlog_chain pub;
	unsigned char run[32];          /* hash the next row must follow */
	unsigned char last[32];         /* audit_chain_heads.last_hash */
	long long last_seq;
};

struct verify {
	struct vchain *c;
	size_t n, cap;
	const unsigned char *key;
};

static const unsigned char zero32[32];

static int vchain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vchain *)a)->pub.chain,
		      ((const struct vchain *)b)->pub.chain);
}

static struct vchain *vchain_add(struct verify *v, const char *chain)
{
	struct vchain *c;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		c = realloc(v->c, cap * sizeof(*c));
		if (!c)
			return NULL;
		v->c = c;
		v->cap = cap;
	}
	c = &v->c[v->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->pub.chain, sizeof(c->pub.chain), "%s", chain);
	return c;
}

/* A chain that has rows but no head: rows written around vaultctl. */
static struct vchain *vchain_find(struct verify *v, const char *chain,
				  long long seq)
{
	struct vchain key, *c;

	snprintf(key.pub.chain, sizeof(key.pub.chain), "%s", chain);
	c = bsearch(&key, v->c, v->n, sizeof(*v->c), vchain_cmp);
	if (c)
		return c;
	c = vchain_add(v, chain);
	if (!c)
		return NULL;
	c->pub.bad_seq = seq;
	snprintf(c->pub.problem, sizeof(c->pub.problem), "seq %lld belongs to "
		 "a chain without a head (rows written around vaultctl)", seq);
	qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
	return bsearch(&key, v->c, v->n, sizeof(*v->c), vchain_cmp);
}

static int load_heads(struct vc_db *db, const char *org_id, struct verify *v,
		      struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT h.chain, h.last_hash, h.anchor_hash, "
			 "o.name FROM audit_chain_heads h LEFT JOIN organizations "
			 "o ON o.id = h.chain WHERE ? IS NULL OR h.chain = ?",
			 "ss", org_id, org_id);
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		struct vchain *c = vchain_add(v, vc_res_get(r, i, 0, NULL));
		size_t ll, al;
		const char *last = vc_res_get(r, i, 1, &ll);
		const char *anchor = vc_res_get(r, i, 2, &al);
		if (!c) {
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
			break;
		}
		memcpy(c->last, ll == 32 ? last : (const char *)zero32, 32);
		memcpy(c->run, anchor && al == 32 ? anchor : (const char *)zero32,
		       32);
		snprintf(c->pub.org, sizeof(c->pub.org), "%s",
			 vc_res_get(r, i, 3, NULL) ? vc_res_get(r, i, 3, NULL) : "");
	}
	vc_res_free(r);
	if (rc == 0)
		qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
	return rc;
}

/* Columns: seq, the ten hashed fields as stored, prev and row hash.
 * Every chain in one pass along the primary key (seq), or one chain along
 * ix_audit_logs_org_seq. */
#define VERIFY_BATCH 10000
#define VERIFY_SELECT \
	"SELECT seq, id, user_id, organization_id, action, resource_type, " \
	"resource_id, DATE_FORMAT(`timestamp`, '%Y-%m-%d %H:%i:%s'), " \
	"ip_address, user_agent, details, prev_hash, row_hash FROM audit_logs "
static const char verify_all_sql[] = VERIFY_SELECT
	"WHERE seq > ? ORDER BY seq LIMIT ?";
static const char verify_org_sql[] = VERIFY_SELECT
	"WHERE organization_id = ? AND seq > ? ORDER BY seq LIMIT ?";

static void broken(struct vchain *c, long long seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void broken(struct vchain *c, long long seq, const char *fmt, ...)
{
	va_list ap;

	c->pub.bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(c->pub.problem, sizeof(c->pub.problem), fmt, ap);
	va_end(ap);
}

static void check_row(struct verify *v, struct vchain *c,
		      const struct vc_res *r, size_t i)
{
	const char *f[10];
	unsigned char h[32];
	long long seq = vc_res_int(r, i, 0);
	size_t pl, hl;
	const char *prev = vc_res_get(r, i, 11, &pl);
	const char *hash = vc_res_get(r, i, 12, &hl);

	c->pub.rows++;
	if (c->pub.bad_seq)
		return;
	for (int k = 0; k < 10; k++)
		f[k] = vc_res_get(r, i, (size_t)k + 1, NULL);
	if (!prev || pl != 32 || memcmp(prev, c->run, 32)) {
		if (c->last_seq)
			broken(c, seq, "seq %lld does not follow seq %lld: a row "
			       "between them was removed, or seq %lld was "
			       "inserted", seq, c->last_seq, seq);
		else
			broken(c, seq, "seq %lld does not follow the chain's "
			       "start: an older row was removed, or seq %lld "
			       "was inserted", seq, seq);
		return;
	}
	vc_audit_hash(h, c->run, f, v->key);
	if (!hash || hl != 32 || memcmp(hash, h, 32)) {
		broken(c, seq, "seq %lld was edited: its hash does not match "
		       "its fields", seq);
		return;
	}
	memcpy(c->run, h, 32);
	c->last_seq = seq;
}

static int verify_rows(struct vc_db *db, const char *org_id,
		       struct verify *v, struct vc_err *e)
{
	long long after = 0;
	size_t got;

	do {
		struct vc_res *r;
		int rc = org_id ?
			vc_db_query(db, &r, e, verify_org_sql, "sll", org_id,
				    after, (long long)VERIFY_BATCH) :
			vc_db_query(db, &r, e, verify_all_sql, "ll", after,
				    (long long)VERIFY_BATCH);
		if (rc < 0)
			return rc;
		got = vc_res_rows(r);
		for (size_t i = 0; i < got; i++) {
			const char *org = vc_res_get(r, i, 3, NULL);
			struct vchain *c = vchain_find(v, org ? org : "",
						       vc_res_int(r, i, 0));
			if (!c) {
				vc_res_free(r);
				return vc_err_set(e, VC_EFAIL, "out of memory");
			}
			check_row(v, c, r, i);
		}
		if (got)
			after = vc_res_int(r, got - 1, 0);
		vc_res_free(r);
	} while (got == VERIFY_BATCH);
	return 0;
}

/* After the last row: the head must name it, or newer rows are gone. */
static void check_ends(struct verify *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct vchain *c = &v->c[i];
		if (c->pub.bad_seq || !memcmp(c->run, c->last, 32))
			continue;
		if (c->last_seq)
			broken(c, c->last_seq, "the chain head does not match its "
			       "last row, seq %lld: newer rows were removed (or "
			       "the head was changed)", c->last_seq);
		else
			broken(c, -1, "the chain has no rows left but its head "
			       "expects some: they were removed");
	}
}

int vc_auditlog_verify(struct vc_session *s, struct vc_db *db,
		       const char *org_id, struct vc_auditlog_chain **out,
		       size_t *n, struct vc_err *e)
{
	struct verify v = { NULL, 0, 0, NULL };
	unsigned char key[32];
	int have_key = 0, rc;

	*out = NULL;
	*n = 0;
	rc = vc_audit_key(s, key, &have_key, e);
	v.key = have_key ? key : NULL;
	/* One snapshot: rows written while we read cannot look like a
	 * mismatch with heads read earlier. */
	if (rc == 0)
		rc = vc_db_simple(db, "START TRANSACTION WITH CONSISTENT "
				  "SNAPSHOT, READ ONLY", e);
	if (rc == 0) {
		rc = load_heads(db, org_id, &v, e);
		if (rc == 0)
			rc = verify_rows(db, org_id, &v, e);
		vc_db_rollback(db);
	}
	sodium_memzero(key, sizeof(key));
	if (rc < 0) {
		free(v.c);
		return rc;
	}
	check_ends(&v);
	*out = calloc(v.n ? v.n : 1, sizeof(**out));
	if (!*out) {
		free(v.c);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < v.n; i++)
		(*out)[i] = v.c[i].pub;
	*n = v.n;
	free(v.c);
	return 0;
}
