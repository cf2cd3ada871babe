/* audit_reads.c - the values a bulk read read, listed in audit_reads
 * under the one audit row that stands for them (sql/012-audit-reads.sql).
 *
 * That row's details carry the number of reads and a digest of the list,
 * and its hash covers the details: the list cannot change, lose or gain
 * a read without the digest showing it, whatever key the chain has.
 */
#include "audit.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vc_audit_is_list(const char *action, const char *rtype)
{
	return action && rtype && !strcmp(action, "secret.read") &&
	       !strcmp(rtype, "environment");
}

/* A read's bytes gather in a buffer: one generichash update per read
 * would show in an export of a thousand. */
struct dbuf {
	crypto_generichash_state st;
	size_t n;
	unsigned char b[1024];
};

static void d_le64(struct dbuf *d, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		d->b[d->n++] = (unsigned char)(v >> (8 * i));
}

/* An id too long for the buffer goes to the hash on its own. */
static void d_read(struct dbuf *d, const char *id, long long version)
{
	size_t len = strlen(id);

	if (d->n + len + 16 > sizeof(d->b)) {
		crypto_generichash_update(&d->st, d->b, d->n);
		d->n = 0;
	}
	d_le64(d, len);
	if (len + 8 > sizeof(d->b) - d->n) {
		crypto_generichash_update(&d->st, d->b, d->n);
		crypto_generichash_update(&d->st, (const unsigned char *)id, len);
		d->n = 0;
	} else {
		memcpy(d->b + d->n, id, len);
		d->n += len;
	}
	d_le64(d, (uint64_t)version);
}

void vc_audit_digest_init(struct vc_audit_digest *g)
{
	static const char what[] = "vaultctl audit reads v1";
	struct dbuf *d = malloc(sizeof(*d));

	g->p = d;
	if (!d)
		return;
	crypto_generichash_init(&d->st, NULL, 0, 32);
	crypto_generichash_update(&d->st, (const unsigned char *)what,
				  sizeof(what) - 1);
	d->n = 0;
}

void vc_audit_digest_add(struct vc_audit_digest *g, const char *secret_id,
			 long long version)
{
	if (g->p)
		d_read(g->p, secret_id ? secret_id : "", version);
}

int vc_audit_digest_final(struct vc_audit_digest *g, size_t n, char hex[65])
{
	struct dbuf *d = g->p;
	unsigned char out[32];

	if (!d)
		return -1;
	if (d->n + 8 > sizeof(d->b)) {
		crypto_generichash_update(&d->st, d->b, d->n);
		d->n = 0;
	}
	d_le64(d, n);
	crypto_generichash_update(&d->st, d->b, d->n);
	crypto_generichash_final(&d->st, out, sizeof(out));
	sodium_bin2hex(hex, 65, out, sizeof(out));
	free(d);
	g->p = NULL;
	return 0;
}

int vc_audit_reads_details(const struct vc_audit_read *r, size_t n,
			   char details[128])
{
	struct vc_audit_digest g;
	char hex[65];

	vc_audit_digest_init(&g);
	for (size_t i = 0; i < n; i++)
		vc_audit_digest_add(&g, r[i].secret_id, r[i].version);
	if (vc_audit_digest_final(&g, n, hex) < 0)
		return -1;
	snprintf(details, 128, "{\"reads\":%zu,\"digest\":\"%s\"}", n, hex);
	return 0;
}

int vc_audit_reads_put(struct vc_db *db, const long long *seq,
		       const struct vc_audit_list *const *l, size_t k,
		       struct vc_err *e)
{
	size_t total = 0, row = 0;
	struct vc_param *p;
	int rc;

	for (size_t j = 0; j < k; j++)
		total += l[j]->n;
	p = calloc(total * 4 + 1, sizeof(*p));
	if (!p)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t j = 0; j < k; j++)
		for (size_t i = 0; i < l[j]->n; i++, row++) {
			struct vc_param *q = p + row * 4;
			const struct vc_audit_read *r = &l[j]->r[i];
			q[0] = (struct vc_param){ 'l', NULL, 0, seq[j] };
			q[1] = (struct vc_param){ 'i', NULL, 0, (long long)i };
			q[2] = (struct vc_param){ 's', r->secret_id,
						  strlen(r->secret_id), 0 };
			q[3] = (struct vc_param){ 'i', NULL, 0, r->version };
		}
	rc = vc_db_insert_rows(db, e, "INSERT INTO audit_reads (seq, pos, "
			       "secret_id, version) VALUES ", "(?,?,?,?)", p, 4,
			       total);
	free(p);
	return rc;
}

/* ---- read back in (seq, pos) order, beside the rows (verify) ---- */

#define RCUR_BATCH 10000
#define RCUR_SELECT "SELECT r.seq, r.pos, r.secret_id, r.version FROM " \
	"audit_reads r "
#define RCUR_AFTER "(r.seq > ? OR (r.seq = ? AND r.pos > ?)) ORDER BY " \
	"r.seq, r.pos LIMIT ?"
/* Along the primary key of audit_reads; for one chain, each read's row
 * looked up by seq to keep the chain's (no index leads from a chain to
 * its reads, and the writes are what must stay cheap). */
static const char rcur_all_sql[] = RCUR_SELECT "WHERE " RCUR_AFTER;
static const char rcur_org_sql[] = RCUR_SELECT "JOIN audit_logs a ON "
	"a.seq = r.seq WHERE a.organization_id = ? AND " RCUR_AFTER;

struct vc_audit_rcur {
	struct vc_db *db;
	const char *org;
	struct vc_res *r;
	size_t i;
	long long seq, pos;     /* the last read taken */
	int end;
};

int vc_audit_rcur_open(struct vc_db *db, const char *org_id,
		       struct vc_audit_rcur **out, struct vc_err *e)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	(*out)->db = db;
	(*out)->org = org_id;
	(*out)->pos = -1;
	return 0;
}

void vc_audit_rcur_close(struct vc_audit_rcur *c)
{
	if (!c)
		return;
	vc_res_free(c->r);
	free(c);
}

/* Whether there is a read at the cursor, fetching the next batch when
 * the last one is used up. */
static int rcur_more(struct vc_audit_rcur *c, int *more, struct vc_err *e)
{
	int rc = 0;

	if ((!c->r || c->i == vc_res_rows(c->r)) && !c->end) {
		vc_res_free(c->r);
		c->r = NULL;
		c->i = 0;
		rc = c->org ?
		     vc_db_query(c->db, &c->r, e, rcur_org_sql, "sllll", c->org,
				 c->seq, c->seq, c->pos, (long long)RCUR_BATCH) :
		     vc_db_query(c->db, &c->r, e, rcur_all_sql, "llll", c->seq,
				 c->seq, c->pos, (long long)RCUR_BATCH);
		c->end = rc < 0 || vc_res_rows(c->r) < RCUR_BATCH;
	}
	*more = rc == 0 && c->r && c->i < vc_res_rows(c->r);
	return rc;
}

static void rcur_next(struct vc_audit_rcur *c)
{
	c->seq = vc_res_int(c->r, c->i, 0);
	c->pos = vc_res_int(c->r, c->i, 1);
	c->i++;
}

int vc_audit_rcur_take(struct vc_audit_rcur *c, long long seq, int list,
		       long long *stray, size_t *n, char hex[65],
		       struct vc_err *e)
{
	struct vc_audit_digest g = { NULL };
	int more, rc;

	*stray = 0;
	*n = 0;
	if (list)
		vc_audit_digest_init(&g);
	while ((rc = rcur_more(c, &more, e)) == 0 && more &&
	       vc_res_int(c->r, c->i, 0) <= seq) {
		long long at = vc_res_int(c->r, c->i, 0);
		if (at < seq && !*stray)
			*stray = at;
		if (at == seq && list)
			vc_audit_digest_add(&g, vc_res_get(c->r, c->i, 2, NULL),
					    vc_res_int(c->r, c->i, 3));
		*n += at == seq;
		rcur_next(c);
	}
	if (list && vc_audit_digest_final(&g, *n, hex) < 0 && rc == 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	return rc;
}

int vc_audit_reads_match(const char *details, size_t n, const char hex[65])
{
	cJSON *o = details ? cJSON_Parse(details) : NULL;
	cJSON *reads = cJSON_GetObjectItemCaseSensitive(o, "reads");
	const char *digest = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(o, "digest"));
	int ok = cJSON_IsNumber(reads) && reads->valuedouble == (double)n &&
		 digest && !strcmp(digest, hex);

	cJSON_Delete(o);
	return ok;
}
