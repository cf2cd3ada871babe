/* audit_verify.c - the hash chains of the audit trail recomputed.
 *
 * Rows are read through an index in chain order, so that a chain of
 * millions of rows is read once: by (organization_id, seq) for one chain,
 * by seq alone for all of them.
 *
 * Each row is hashed with its epoch's key: an 'audit.epoch' row names the
 * key of the rows after it (and is keyed with it); the rows before a
 * chain's first epoch row are unkeyed or keyed with one of the keys at
 * hand, as their first row shows (a chain begun under a key starts from
 * that key's genesis hash).  The head must name the last row, under the
 * last epoch's key, with a MAC that key computed.
 */
#include "auditlog.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

enum { MODE_UNKNOWN, MODE_UNKEYED, MODE_KEYED };

/* One chain while it is being checked. */
struct vchain {
	struct vc_auditlog_chain pub;
	unsigned char run[32];          /* hash the next row must follow */
	long long last_seq, first_seq;  /* of the rows checked */
	/* audit_chain_heads */
	unsigned char last[32], head_id[8], head_mac[32];
	long long head_seq, head_epoch;
	int head_keyed, head_has_mac;
	/* the epoch the rows are in: -1 while unknown (what prune left) */
	long long epoch;
	int pruned, keyed_start, mode, epochs_seen;
	const unsigned char *key;
	unsigned char key_id[8];
	/* --anchor: the row the file recorded */
	int anchored, anchor_found;
	long long anchor_seq;
	unsigned char anchor_hash[32];
};

struct verify {
	struct vchain *c;
	size_t n, cap;
	struct vc_audit_keyring kr;
	struct vc_audit_rcur *reads;    /* audit_reads beside the rows */
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

static struct vchain *vchain_get(const struct verify *v, const char *chain)
{
	struct vchain key;

	snprintf(key.pub.chain, sizeof(key.pub.chain), "%s", chain);
	return bsearch(&key, v->c, v->n, sizeof(*v->c), vchain_cmp);
}

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

/* A chain that has rows but no head: rows written around vaultctl. */
static struct vchain *vchain_find(struct verify *v, const char *chain,
				  long long seq)
{
	struct vchain *c = vchain_get(v, chain);

	if (c)
		return c;
	c = vchain_add(v, chain);
	if (!c)
		return NULL;
	broken(c, seq, "seq %lld belongs to a chain without a head (rows "
	       "written around vaultctl)", seq);
	qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
	return vchain_get(v, chain);
}

static void copy_bin(unsigned char *to, const struct vc_res *r, size_t row,
		     size_t col, size_t n, int *set)
{
	size_t len;
	const char *p = vc_res_get(r, row, col, &len);

	*set = p && len == n;
	memcpy(to, *set ? p : (const char *)zero32, n);
}

static void head_of(struct vchain *c, const struct vc_res *r, size_t i)
{
	int set;

	copy_bin(c->last, r, i, 1, 32, &set);
	copy_bin(c->run, r, i, 2, 32, &c->pruned);
	c->epoch = c->pruned ? -1 : 0;  /* pruned: the epoch it starts in */
	snprintf(c->pub.org, sizeof(c->pub.org), "%s",
		 vc_res_get(r, i, 3, NULL) ? vc_res_get(r, i, 3, NULL) : "");
	c->head_seq = vc_res_int(r, i, 4);
	c->head_epoch = vc_res_int(r, i, 5);
	copy_bin(c->head_id, r, i, 6, 8, &c->head_keyed);
	copy_bin(c->head_mac, r, i, 7, 32, &c->head_has_mac);
}

static int load_heads(struct vc_db *db, const char *org_id, struct verify *v,
		      struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT h.chain, h.last_hash, h.anchor_hash, "
			 "o.name, h.last_seq, h.epoch, h.key_id, h.head_mac FROM "
			 "audit_chain_heads h LEFT JOIN organizations o ON o.id = "
			 "h.chain WHERE ? IS NULL OR h.chain = ?", "ss", org_id,
			 org_id);
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		struct vchain *c = vchain_add(v, vc_res_get(r, i, 0, NULL));
		if (!c)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
		else
			head_of(c, r, i);
	}
	vc_res_free(r);
	if (rc == 0)
		qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
	return rc;
}

/* ---- rows ---- */

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

/* The first row of an epoch without an epoch row (a chain's first, or
 * the first prune left) shows its key: none, or one of those at hand. */
static int find_mode(struct verify *v, struct vchain *c, long long seq,
		     const char *const f[10], const unsigned char *hash)
{
	unsigned char h[32];

	vc_audit_hash(h, c->run, f, NULL);
	if (!memcmp(h, hash, 32)) {
		c->mode = MODE_UNKEYED;
		return 1;
	}
	for (size_t k = 0; k < v->kr.n; k++) {
		vc_audit_hash(h, c->run, f, v->kr.k[k].key);
		if (memcmp(h, hash, 32))
			continue;
		c->mode = MODE_KEYED;
		c->key = v->kr.k[k].key;
		memcpy(c->key_id, v->kr.k[k].id, 8);
		return 1;
	}
	broken(c, seq, "seq %lld was edited, or is keyed with an audit key this "
	       "configuration lacks: its hash does not match its fields", seq);
	return 0;
}

static int row_ok(struct verify *v, struct vchain *c, long long seq,
		  const char *const f[10], const unsigned char *hash)
{
	unsigned char h[32];

	if (c->mode == MODE_UNKNOWN)
		return find_mode(v, c, seq, f, hash);
	vc_audit_hash(h, c->run, f, c->key);
	if (!memcmp(h, hash, 32))
		return 1;
	broken(c, seq, "seq %lld was edited: its hash does not match its "
	       "fields", seq);
	return 0;
}

struct epoch_info {
	long long epoch;
	unsigned char id[8], prev[8];
	int prev_null;
	char reason[48];
};

static int hex8(const char *s, unsigned char out[8])
{
	size_t n;

	return s && strlen(s) == 16 &&
	       sodium_hex2bin(out, 8, s, 16, NULL, &n, NULL) == 0 && n == 8;
}

static int parse_epoch(const char *details, struct epoch_info *ei)
{
	cJSON *o = details ? cJSON_Parse(details) : NULL;
	cJSON *ep = cJSON_GetObjectItemCaseSensitive(o, "epoch");
	cJSON *pv = cJSON_GetObjectItemCaseSensitive(o, "previous_key_id");
	const char *id = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(o, "key_id"));
	const char *why = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(o, "reason"));
	int ok;

	ei->prev_null = cJSON_IsNull(pv);
	ok = cJSON_IsNumber(ep) && hex8(id, ei->id) && why &&
	     (ei->prev_null || hex8(cJSON_GetStringValue(pv), ei->prev));
	if (ok) {
		ei->epoch = (long long)ep->valuedouble;
		snprintf(ei->reason, sizeof(ei->reason), "%s", why);
	}
	cJSON_Delete(o);
	return ok ? 0 : -1;
}

/* An epoch follows the one before it, and names its key.  Only the
 * first epoch's head may have named no key (rows from before keys, or
 * a key enabled later); once prune cut what came before, anything goes. */
static int epoch_follows(const struct vchain *c, const struct epoch_info *ei)
{
	if (c->epoch >= 0 ? ei->epoch != c->epoch + 1 : ei->epoch < 1)
		return 0;
	if (ei->prev_null)
		return c->epochs_seen == 0 && c->epoch <= 0;
	if (c->mode == MODE_UNKNOWN)
		return 1;
	return c->mode == MODE_KEYED && !memcmp(ei->prev, c->key_id, 8);
}

static int epoch_row(struct verify *v, struct vchain *c, long long seq,
		     const char *const f[10], const unsigned char *hash)
{
	struct epoch_info ei;
	const unsigned char *key;
	unsigned char h[32];
	char hex[17];

	if (parse_epoch(f[9], &ei) < 0) {
		broken(c, seq, "seq %lld starts an epoch, and its details are "
		       "damaged", seq);
		return 0;
	}
	key = vc_audit_keyring_find(&v->kr, ei.id);
	vc_audit_key_hex(hex, ei.id);
	if (!key) {
		broken(c, seq, "seq %lld starts epoch %lld under audit key %s, "
		       "which this configuration lacks (audit_key_file, or the "
		       "old key kept beside it as FILE.%s)", seq, ei.epoch, hex,
		       hex);
		return 0;
	}
	vc_audit_hash(h, c->run, f, key);
	if (memcmp(h, hash, 32)) {
		broken(c, seq, "seq %lld was edited: its hash does not match its "
		       "fields", seq);
		return 0;
	}
	if (!epoch_follows(c, &ei) || !strcmp(ei.reason, "head not authenticated")) {
		broken(c, seq, "seq %lld was written after the chain head had been "
		       "changed outside vaultctl (rows cut, or the head wound "
		       "back or stripped of its key)", seq);
		return 0;
	}
	c->epoch = ei.epoch;
	c->epochs_seen++;
	c->mode = MODE_KEYED;
	c->key = key;
	memcpy(c->key_id, ei.id, 8);
	return 1;
}

/* A chain's first row follows 32 zero bytes, or, begun under a key, that
 * key's genesis hash: then the rows are keyed from the start. */
static void genesis(struct verify *v, struct vchain *c, const char *prev,
		    size_t len)
{
	unsigned char g[32];

	if (c->first_seq || c->pruned || !prev || len != 32)
		return;
	for (size_t k = 0; k < v->kr.n; k++) {
		vc_audit_genesis(g, v->kr.k[k].key, c->pub.chain);
		if (memcmp(g, prev, 32))
			continue;
		memcpy(c->run, g, 32);
		c->keyed_start = 1;
		c->mode = MODE_KEYED;
		c->key = v->kr.k[k].key;
		memcpy(c->key_id, v->kr.k[k].id, 8);
		return;
	}
}

/* Reads in audit_reads under no row of the log: the row was removed (its
 * chain shows that too), or they were inserted.  They are nobody's chain
 * but the log's as a whole: the global chain's problem. */
static void stray_reads(struct verify *v, long long seq)
{
	struct vchain *c = vchain_find(v, "", seq);

	if (c && !c->pub.bad_seq)
		broken(c, seq, "audit_reads holds reads under seq %lld, which is "
		       "no row of the audit log: the row was removed, or the "
		       "reads were inserted", seq);
}

/* The reads under a row: a list row's must be those its hash covers
 * (the digest in its details), any other row has none. */
static void check_reads(struct vchain *c, long long seq, const char *details,
			int list, size_t n, const char hex[65])
{
	if (!list && n)
		broken(c, seq, "seq %lld lists no reads, and audit_reads holds %zu "
		       "under it: they were inserted", seq, n);
	else if (list && !vc_audit_reads_match(details, n, hex))
		broken(c, seq, "seq %lld lists reads that audit_reads no longer "
		       "holds as they were (%zu now): reads were changed, "
		       "removed or inserted", seq, n);
}

/* The reads audit_reads holds under a row, as taken beside it. */
struct taken {
	int list;               /* the row lists reads */
	size_t n;
	char hex[65];           /* their digest, when it does */
};

static void check_row(struct verify *v, struct vchain *c,
		      const struct vc_res *r, size_t i, const struct taken *t)
{
	const char *f[10];
	long long seq = vc_res_int(r, i, 0);
	size_t pl, hl;
	const char *prev = vc_res_get(r, i, 11, &pl);
	const char *hash = vc_res_get(r, i, 12, &hl);

	c->pub.rows++;
	if (c->pub.bad_seq)
		return;
	for (int k = 0; k < 10; k++)
		f[k] = vc_res_get(r, i, (size_t)k + 1, NULL);
	genesis(v, c, prev, pl);
	if (!prev || pl != 32 || memcmp(prev, c->run, 32)) {
		if (c->last_seq)
			broken(c, seq, "seq %lld does not follow seq %lld: a row "
			       "between them was removed, or seq %lld was "
			       "inserted", seq, c->last_seq, seq);
		else
			broken(c, seq, "seq %lld does not follow the chain's "
			       "start: an older row was removed, or seq %lld "
			       "was inserted%s", seq, seq, c->pruned ? "" :
			       ", or the chain was begun under an audit key "
			       "this configuration lacks");
		return;
	}
	if (!hash || hl != 32) {
		broken(c, seq, "seq %lld has a damaged hash", seq);
		return;
	}
	if (f[3] && !strcmp(f[3], "audit.epoch") ?
	    !epoch_row(v, c, seq, f, (const unsigned char *)hash) :
	    !row_ok(v, c, seq, f, (const unsigned char *)hash))
		return;
	check_reads(c, seq, f[9], t->list, t->n, t->hex);
	if (c->pub.bad_seq)
		return;
	if (c->anchored && seq == c->anchor_seq) {
		if (memcmp(hash, c->anchor_hash, 32)) {
			broken(c, seq, "seq %lld is not the row the anchor file "
			       "recorded: the chain was rewritten from there", seq);
			return;
		}
		c->anchor_found = 1;
	}
	memcpy(c->run, hash, 32);
	c->last_seq = seq;
	if (!c->first_seq)
		c->first_seq = seq;
}

/* Takes the reads up to row i (whatever its chain's state: they go along
 * with the rows), then checks the row in its chain. */
static int take_row(struct verify *v, const struct vc_res *r, size_t i,
		    struct vc_err *e)
{
	const char *org = vc_res_get(r, i, 3, NULL);
	long long seq = vc_res_int(r, i, 0), stray;
	struct taken t = { vc_audit_is_list(vc_res_get(r, i, 4, NULL),
					    vc_res_get(r, i, 5, NULL)), 0, "" };
	struct vchain *c;
	int rc = vc_audit_rcur_take(v->reads, seq, t.list, &stray, &t.n, t.hex,
				    e);

	if (rc < 0)
		return rc;
	if (stray)
		stray_reads(v, stray);
	/* Found after stray_reads, which may add the global chain. */
	c = vchain_find(v, org ? org : "", seq);
	if (!c)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	check_row(v, c, r, i, &t);
	return 0;
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
		for (size_t i = 0; rc == 0 && i < got; i++)
			rc = take_row(v, r, i, e);
		if (got)
			after = vc_res_int(r, got - 1, 0);
		vc_res_free(r);
		if (rc < 0)
			return rc;
	} while (got == VERIFY_BATCH);
	return 0;
}

/* Reads left after the last row belong to none. */
static int stray_tail(struct verify *v, struct vc_err *e)
{
	long long stray;
	size_t n;
	char hex[65];
	int rc = vc_audit_rcur_take(v->reads, LLONG_MAX, 0, &stray, &n, hex, e);

	if (rc == 0 && stray)
		stray_reads(v, stray);
	return rc;
}

/* ---- the head, and the anchor ---- */

static long long where(const struct vchain *c)
{
	return c->last_seq ? c->last_seq : -1;
}

/* The head names the last epoch's key and epoch, with a MAC of that key.
 * An unkeyed head is right only for a chain begun without a key that no
 * epoch row has moved under one since: rows from before heads were
 * authenticated, unkeyed or keyed. */
static void check_head_key(struct verify *v, struct vchain *c)
{
	const unsigned char *key;
	unsigned char mac[32];
	char hex[17];

	if (c->epoch >= 0 && c->head_epoch != c->epoch)
		broken(c, where(c), "the chain head names epoch %lld, its rows end "
		       "in epoch %lld: the head was changed outside vaultctl",
		       c->head_epoch, c->epoch);
	else if (!c->head_keyed && (c->epochs_seen || c->keyed_start))
		broken(c, where(c), "the chain head is not authenticated: its key "
		       "was removed outside vaultctl");
	else if (c->head_keyed && c->mode == MODE_UNKEYED)
		broken(c, where(c), "the chain head names an audit key, and its "
		       "last epoch is unkeyed: the head was changed outside "
		       "vaultctl");
	else if (c->head_keyed && c->mode == MODE_KEYED &&
		 memcmp(c->head_id, c->key_id, 8))
		broken(c, where(c), "the chain head names another audit key than "
		       "its last epoch's: the head was changed outside vaultctl");
	if (c->pub.bad_seq || !c->head_keyed)
		return;
	key = vc_audit_keyring_find(&v->kr, c->head_id);
	vc_audit_key_hex(hex, c->head_id);
	if (!key) {
		broken(c, where(c), "the chain head is keyed with audit key %s, "
		       "which this configuration lacks", hex);
		return;
	}
	vc_audit_head_mac(mac, key, c->pub.chain, c->head_seq, c->last,
			  c->head_epoch, c->head_id);
	if (!c->head_has_mac || sodium_memcmp(mac, c->head_mac, 32))
		broken(c, where(c), "the chain head is not authenticated: it was "
		       "changed outside vaultctl (rows cut, or the head wound "
		       "back)");
}

/* The anchored row is still there, or went with the oldest rows (prune). */
static int anchor_kept(const struct vchain *c)
{
	if (c->anchor_found)
		return 1;
	if (c->first_seq)
		return c->first_seq > c->anchor_seq;
	return c->head_seq > c->anchor_seq || (c->head_seq == c->anchor_seq &&
	       !memcmp(c->last, c->anchor_hash, 32));
}

/* After the last row: the head must name it, or newer rows are gone. */
static void check_end(struct verify *v, struct vchain *c)
{
	if (c->pub.bad_seq)
		return;
	if (memcmp(c->run, c->last, 32)) {
		if (c->last_seq)
			broken(c, c->last_seq, "the chain head does not match its "
			       "last row, seq %lld: newer rows were removed (or "
			       "the head was changed)", c->last_seq);
		else
			broken(c, -1, "the chain has no rows left but its head "
			       "expects some: they were removed");
		return;
	}
	if (c->last_seq && c->head_seq != c->last_seq) {
		broken(c, c->last_seq, "the chain head names seq %lld, its last "
		       "row is seq %lld: the head was changed outside vaultctl",
		       c->head_seq, c->last_seq);
		return;
	}
	check_head_key(v, c);
	if (!c->pub.bad_seq && c->anchored && !anchor_kept(c))
		broken(c, c->anchor_seq, "seq %lld, the newest row when the anchor "
		       "file was written, is gone: rows were cut, or the chain "
		       "wound back", c->anchor_seq);
}

/* Chains the file names that are in scope: checked in the pass.  One
 * whose head is gone is broken now. */
static int attach_anchor(struct verify *v, const char *org_id,
			 const struct vc_auditlog_anchor *a, size_t n,
			 struct vc_err *e)
{
	for (size_t i = 0; i < n; i++) {
		struct vchain *c;
		if (org_id && strcmp(a[i].chain, org_id))
			continue;
		c = vchain_get(v, a[i].chain);
		if (!c) {
			c = vchain_add(v, a[i].chain);
			if (!c)
				return vc_err_set(e, VC_EFAIL, "out of memory");
			broken(c, a[i].seq, "the anchor file records seq %lld of "
			       "this chain, and its head is gone", a[i].seq);
			qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
			continue;
		}
		c->anchored = 1;
		c->anchor_seq = a[i].seq;
		memcpy(c->anchor_hash, a[i].hash, 32);
	}
	return 0;
}

static int anchor_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vc_auditlog_anchor *)a)->chain,
		      ((const struct vc_auditlog_anchor *)b)->chain);
}

/* The file anew: an intact chain in scope at its head now, any other
 * chain as it was recorded (a broken one keeps its evidence). */
static int anchor_update(const struct verify *v, const char *org_id,
			 const char *path, const struct vc_auditlog_anchor *old,
			 size_t n_old, struct vc_err *e)
{
	struct vc_auditlog_anchor *a = calloc(v->n + n_old + 1, sizeof(*a));
	size_t n = 0;
	int rc;

	if (!a)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t i = 0; i < n_old; i++)
		if ((org_id && strcmp(old[i].chain, org_id)) ||
		    vchain_get(v, old[i].chain)->pub.bad_seq)
			a[n++] = old[i];
	for (size_t i = 0; i < v->n; i++) {
		const struct vchain *c = &v->c[i];
		if (c->pub.bad_seq || (!c->pub.rows && !c->head_seq))
			continue;
		snprintf(a[n].chain, sizeof(a[n].chain), "%s", c->pub.chain);
		a[n].seq = c->head_seq;
		memcpy(a[n].hash, c->last, 32);
		n++;
	}
	qsort(a, n, sizeof(*a), anchor_cmp);
	rc = vc_auditlog_anchor_write(path, a, n, e);
	free(a);
	return rc;
}

static int verify_snapshot(struct vc_db *db, const char *org_id,
			   struct verify *v, const struct vc_auditlog_anchor *a,
			   size_t na, struct vc_err *e)
{
	/* One snapshot: rows written while we read cannot look like a
	 * mismatch with heads read earlier. */
	int rc = vc_db_simple(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT, "
			      "READ ONLY", e);

	if (rc < 0)
		return rc;
	rc = load_heads(db, org_id, v, e);
	if (rc == 0)
		rc = attach_anchor(v, org_id, a, na, e);
	if (rc == 0)
		rc = vc_audit_rcur_open(db, org_id, &v->reads, e);
	if (rc == 0)
		rc = verify_rows(db, org_id, v, e);
	if (rc == 0)
		rc = stray_tail(v, e);
	vc_audit_rcur_close(v->reads);
	v->reads = NULL;
	vc_db_rollback(db);
	return rc;
}

int vc_auditlog_verify(struct vc_session *s, struct vc_db *db,
		       const char *org_id, const char *anchor,
		       struct vc_auditlog_chain **out, size_t *n,
		       struct vc_err *e)
{
	struct verify v = { NULL, 0, 0, { 0 }, NULL };
	struct vc_auditlog_anchor *a = NULL;
	size_t na = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = vc_audit_keyring_load(s, &v.kr, e);
	if (rc == 0 && anchor)
		rc = vc_auditlog_anchor_read(anchor, &a, &na, e);
	if (rc == 0)
		rc = verify_snapshot(db, org_id, &v, a, na, e);
	for (size_t i = 0; rc == 0 && i < v.n; i++)
		check_end(&v, &v.c[i]);
	vc_audit_keyring_wipe(&v.kr);
	if (rc == 0 && anchor)
		rc = anchor_update(&v, org_id, anchor, a, na, e);
	free(a);
	if (rc == 0) {
		*out = calloc(v.n ? v.n : 1, sizeof(**out));
		if (!*out)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < v.n; i++)
		(*out)[i] = v.c[i].pub;
	if (rc == 0)
		*n = v.n;
	free(v.c);
	return rc;
}
