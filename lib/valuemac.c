/* valuemac.c - the MAC of each secret's current value in its metadata
 * row, and the plan of a batch made with it.
 *
 * The key is derived from the audit key, which every tool that writes
 * holds already: no other key file to install, guard or rotate.  When
 * the audit key is replaced, the MACs made under the old one read as
 * unknown until their secrets are written again.  A MAC is trusted only
 * for the version it names: every write that changes a version without
 * the value at hand leaves it behind, so that a stale MAC cannot stand
 * for another value.
 */
#include "valuemac.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "bulk.h"
#include "secret.h"

#define MAC_LEN crypto_auth_hmacsha256_BYTES
#define KEY_ID_LEN 8

struct mac_key {
	int have;
	unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
	unsigned char id[KEY_ID_LEN];   /* the audit key's id */
	/* The key's pads hashed once: every MAC starts from a copy (an
	 * import makes two a value). */
	crypto_auth_hmacsha256_state start;
};

static int oom(struct vc_err *e)
{
	return vc_err_set(e, VC_EFAIL, "out of memory");
}

static int key_load(struct vc_session *s, struct mac_key *k, struct vc_err *e)
{
	unsigned char master[32];
	int rc;

	memset(k, 0, sizeof(*k));
	if (sodium_init() < 0)
		return vc_err_set(e, VC_EFAIL, "libsodium cannot start");
	rc = vc_audit_key(s, master, &k->have, e);
	if (rc == 0 && k->have) {
		vc_audit_key_id(k->id, master);
		crypto_kdf_derive_from_key(k->key, sizeof(k->key), 1, "vcvalmac",
					   master);
		crypto_auth_hmacsha256_init(&k->start, k->key, sizeof(k->key));
	}
	sodium_memzero(master, sizeof(master));
	return rc;
}

static void key_wipe(struct mac_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

static void put_le64(unsigned char b[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

/* The id's length first: the input of one (id, version, value) can be
 * the input of no other. */
static void mac_of(unsigned char out[MAC_LEN], const struct mac_key *k,
		   const char *id, int version, const void *val, size_t len)
{
	crypto_auth_hmacsha256_state st = k->start;
	unsigned char num[8];
	size_t idlen = strlen(id);

	put_le64(num, idlen);
	crypto_auth_hmacsha256_update(&st, num, sizeof(num));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, idlen);
	put_le64(num, (uint64_t)(int64_t)version);
	crypto_auth_hmacsha256_update(&st, num, sizeof(num));
	if (len)
		crypto_auth_hmacsha256_update(&st, val, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

/* ---- written with the value ---- */

/* guarded (a value read, not written): only while the row is at the
 * version read, and never over the mark of a destroyed current version,
 * which a destroy that committed after the value was read has left. */
static const char *const mac_sql[2] = {
	"UPDATE secret_metadata SET value_mac = ?, value_mac_version = ?, "
	"value_mac_key = ? WHERE id = ?",
	"UPDATE secret_metadata SET value_mac = ?, value_mac_version = ?, "
	"value_mac_key = ? WHERE id = ? AND version = ? AND NOT (value_mac "
	"IS NULL AND value_mac_version <=> version)",
};

/* The rows' UPDATEs in one bulk execute; one by one where the server has
 * none. */
static int mac_rows(struct vc_db *db, int guarded, const struct vc_param *p,
		    size_t k, struct vc_err *e)
{
	size_t cols = 4 + (size_t)guarded;
	int rc = k > 1 ? vc_db_exec_rows(db, e, mac_sql[guarded], p, cols, k) :
		 1;

	if (rc != 1)
		return rc;
	rc = 0;
	for (size_t i = 0; rc == 0 && i < k; i++)
		rc = vc_db_execv(db, NULL, e, mac_sql[guarded], p + i * cols,
				 cols);
	return rc;
}

/* The MACs of the items (those with a version) into their rows. */
static int mac_store(struct vc_db *db, const struct mac_key *k, int guarded,
		     const struct vc_valuemac_item *it, size_t n,
		     struct vc_err *e)
{
	size_t cols = 4 + (size_t)guarded, rows = 0;
	unsigned char (*mac)[MAC_LEN] = calloc(n + 1, sizeof(*mac));
	struct vc_param *p = calloc(n * cols + 1, sizeof(*p));
	int rc = mac && p ? 0 : oom(e);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct vc_param *q = p + rows * cols;

		if (it[i].version < 1)
			continue;
		mac_of(mac[rows], k, it[i].id, it[i].version, it[i].val,
		       it[i].len);
		q[0] = (struct vc_param){ 'b', mac[rows], MAC_LEN, 0 };
		q[1] = (struct vc_param){ 'i', NULL, 0, it[i].version };
		q[2] = (struct vc_param){ 'b', k->id, KEY_ID_LEN, 0 };
		q[3] = (struct vc_param){ 's', it[i].id, strlen(it[i].id), 0 };
		if (guarded)
			q[4] = q[1];    /* the version it must be at */
		rows++;
	}
	if (rc == 0)
		rc = mac_rows(db, guarded, p, rows, e);
	free(mac);
	free(p);
	return rc;
}

int vc_valuemac_write(struct vc_session *s, struct vc_db *db,
		      const struct vc_valuemac_item *it, size_t n,
		      struct vc_err *e)
{
	struct vc_err ignored;
	struct mac_key k;
	int rc = 0;

	if (n && key_load(s, &k, &ignored) == 0 && k.have)
		rc = mac_store(db, &k, 0, it, n, e);
	key_wipe(&k);
	return rc;
}

void vc_valuemac_of(struct vc_session *s, const struct vc_valuemac_item *it,
		    size_t n, unsigned char (*mac)[MAC_LEN],
		    unsigned char key_id[KEY_ID_LEN], int *have)
{
	struct vc_err ignored;
	struct mac_key k;

	*have = 0;
	if (key_load(s, &k, &ignored) == 0 && k.have) {
		for (size_t i = 0; i < n; i++)
			if (it[i].version >= 1)
				mac_of(mac[i], &k, it[i].id, it[i].version,
				       it[i].val, it[i].len);
		memcpy(key_id, k.id, KEY_ID_LEN);
		*have = 1;
	}
	key_wipe(&k);
}

/* The destroyed current version is marked: no MAC, value_mac_version at
 * the version.  Unknown to the plan, and no MAC of a value read before
 * the destroy goes over it. */
int vc_valuemac_forget(struct vc_db *db, const char *id, int current,
		       const int *versions, size_t n, struct vc_err *e)
{
	for (size_t i = 0; i < n; i++)
		if (versions[i] == current)
			return vc_db_exec(db, NULL, e, "UPDATE secret_metadata "
					  "SET value_mac = NULL, value_mac_version "
					  "= ?, value_mac_key = NULL WHERE id = ?",
					  "is", current, id);
	return 0;
}

/* ---- the plan of a batch ---- */

enum { C_NAME, C_ID, C_VERSION, C_MAC, C_MAC_VERSION, C_MAC_KEY };

struct plan {
	struct vc_session *s;
	struct vc_db *db;
	const struct vc_ref *env;
	int dry;                /* a dry run: nothing is written */
	struct vc_res *r;       /* the live rows of the environment */
	size_t *order;          /* their numbers by name, case ignored */
	size_t rows;
	struct mac_key k;
	int concurrency;        /* store reads in flight */
	struct pend {           /* an entry whose row's MAC is unknown */
		size_t entry, row;
	} *unknown;
	size_t nunknown;
	char *asked;            /* per row: an unknown entry names it */
	size_t nasked;
};

static int by_name(const void *a, const void *b, void *res)
{
	return strcasecmp(vc_res_get(res, *(const size_t *)a, C_NAME, NULL),
			  vc_res_get(res, *(const size_t *)b, C_NAME, NULL));
}

/* The live rows with their MAC columns, in one query that reads no
 * value, sorted here by name (as bulk.c does: cheaper than the server's
 * collation). */
static int load_rows(struct vc_db *db, struct plan *p, struct vc_err *e)
{
	int rc = vc_db_query(db, &p->r, e, "SELECT name, id, version, "
			     "value_mac, value_mac_version, value_mac_key FROM "
			     "secret_metadata WHERE environment = ? AND "
			     "deleted_at IS NULL", "s", p->env->env_id);

	if (rc < 0)
		return rc;
	p->rows = vc_res_rows(p->r);
	p->order = calloc(p->rows + 1, sizeof(*p->order));
	if (!p->order)
		return oom(e);
	for (size_t i = 0; i < p->rows; i++)
		p->order[i] = i;
	qsort_r(p->order, p->rows, sizeof(*p->order), by_name, p->r);
	return 0;
}

/* The row of the live secret name, or -1. */
static long row_find(const struct plan *p, const char *name)
{
	size_t lo = 0, hi = p->rows;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcasecmp(vc_res_get(p->r, p->order[mid], C_NAME,
						NULL), name);

		if (!cmp)
			return (long)p->order[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Whether row's MAC is of its current version, under the key at hand. */
static int mac_known(const struct plan *p, size_t row)
{
	size_t mlen = 0, klen = 0;
	const char *mac = vc_res_get(p->r, row, C_MAC, &mlen);
	const char *kid = vc_res_get(p->r, row, C_MAC_KEY, &klen);

	return p->k.have && mac && mlen == MAC_LEN && kid &&
	       klen == KEY_ID_LEN && !memcmp(kid, p->k.id, KEY_ID_LEN) &&
	       vc_res_get(p->r, row, C_MAC_VERSION, NULL) &&
	       vc_res_int(p->r, row, C_MAC_VERSION) ==
	       vc_res_int(p->r, row, C_VERSION);
}

/* The MAC of the new value against the row's. */
static enum vc_change by_mac(const struct plan *p, size_t row,
			     const struct vc_kv *kv)
{
	unsigned char mac[MAC_LEN];
	int same;

	mac_of(mac, &p->k, vc_res_get(p->r, row, C_ID, NULL),
	       (int)vc_res_int(p->r, row, C_VERSION), kv->value, kv->len);
	same = !crypto_verify_32(mac, (const unsigned char *)
				 vc_res_get(p->r, row, C_MAC, NULL));
	return same ? VC_CHANGE_SAME : VC_CHANGE_CHANGE;
}

/* Entry i, of row, is to be compared with the store's value. */
static void ask_store(struct plan *p, size_t i, size_t row)
{
	p->unknown[p->nunknown++] = (struct pend){ i, row };
	p->nasked += !p->asked[row];
	p->asked[row] = 1;
}

/* Every entry decided by the metadata alone, but those whose row's MAC
 * is unknown: they go to p->unknown. */
static void plan_by_mac(struct plan *p, const struct vc_kv *kv, size_t n,
			enum vc_change *out)
{
	for (size_t i = 0; i < n; i++) {
		long row = row_find(p, kv[i].name);

		if (row < 0)
			out[i] = VC_CHANGE_ADD;
		else if (mac_known(p, (size_t)row))
			out[i] = by_mac(p, (size_t)row, &kv[i]);
		else
			ask_store(p, i, (size_t)row);
	}
}

static const struct vc_secret_val *val_find(const struct vc_secret_set *set,
					    const char *name)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = vc_secret_name_cmp(set->v[mid].name, name);

		if (!cmp)
			return &set->v[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The names as stored of the unknown entries, for the store's read;
 * NULL-terminated.  NULL in *only when they are every live secret: the
 * same read without a list to match. */
static int unknown_names(const struct plan *p, const char ***only,
			 struct vc_err *e)
{
	*only = NULL;
	if (p->nasked == p->rows)
		return 0;
	*only = calloc(p->nunknown + 1, sizeof(**only));
	if (!*only)
		return oom(e);
	for (size_t j = 0; j < p->nunknown; j++)
		(*only)[j] = vc_res_get(p->r, p->unknown[j].row, C_NAME, NULL);
	return 0;
}

struct remember {
	const struct mac_key *k;
	const struct vc_valuemac_item *it;
	size_t n;
};

static int remember_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct remember *r = arg;

	return mac_store(db, r->k, 1, r->it, r->n, e);
}

/* The MACs of the values read that are of their row's version, so that
 * the next batch need not read them again: the rows written before the
 * MAC existed, or under an audit key since replaced.  Saves reads only:
 * a failure is not the batch's. */
static void remember(struct plan *p, const struct vc_secret_set *set)
{
	struct vc_valuemac_item *it = calloc(set->n + 1, sizeof(*it));
	struct vc_err ignored;
	size_t k = 0;

	for (size_t i = 0; it && i < set->n; i++) {
		long row = row_find(p, set->v[i].name);

		if (row < 0 || vc_res_int(p->r, (size_t)row, C_VERSION) !=
		    set->v[i].version)
			continue;
		it[k++] = (struct vc_valuemac_item){ vc_res_get(p->r, (size_t)row,
			C_ID, NULL), set->v[i].version, set->v[i].value.data,
			set->v[i].value.len };
	}
	if (k)
		vc_db_txn(p->db, remember_txn, &(struct remember){ &p->k, it, k },
			  &ignored);
	free(it);
}

/* The current values of the unknown entries, read from the store and
 * audited as reads, compared byte for byte. */
static int plan_by_value(struct plan *p, const struct vc_kv *kv,
			 enum vc_change *out, struct vc_err *e)
{
	struct vc_secret_set set = { NULL, 0, NULL };
	const char **only;
	int rc = unknown_names(p, &only, e);

	if (rc == 0)
		rc = vc_secret_read_env(p->s, p->env, only, VC_READ_VALUES,
					p->concurrency, &set, e);
	if (rc == 0)
		rc = vc_secret_audit_reads(p->s, p->env, &set, e);
	for (size_t j = 0; rc == 0 && j < p->nunknown; j++) {
		const struct vc_kv *k = &kv[p->unknown[j].entry];
		const struct vc_secret_val *v = val_find(&set, vc_res_get(p->r,
						p->unknown[j].row, C_NAME, NULL));

		out[p->unknown[j].entry] = !v ? VC_CHANGE_ADD :
			v->value.len == k->len && (!k->len ||
			!memcmp(v->value.data, k->value, k->len)) ?
			VC_CHANGE_SAME : VC_CHANGE_CHANGE;
	}
	if (rc == 0 && !p->dry && p->k.have)
		remember(p, &set);
	free(only);
	vc_secret_set_free(&set);
	return rc;
}

int vc_secret_plan_changes(struct vc_session *s, const struct vc_ref *env,
			   const struct vc_kv *kv, size_t n, int concurrency,
			   int dry, enum vc_change *out, struct vc_err *e)
{
	struct plan p = { .s = s, .env = env, .dry = dry,
			  .concurrency = concurrency };
	int rc = vc_secret_may(s, env, VC_SECRET_WRITE, e);

	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &p.db, e);
	if (rc == 0)
		rc = load_rows(p.db, &p, e);
	if (rc == 0)
		rc = key_load(s, &p.k, e);
	if (rc == 0) {
		p.unknown = calloc(n + 1, sizeof(*p.unknown));
		p.asked = calloc(p.rows + 1, 1);
		if (!p.unknown || !p.asked)
			rc = oom(e);
	}
	if (rc == 0)
		plan_by_mac(&p, kv, n, out);
	if (rc == 0 && p.nunknown)
		rc = plan_by_value(&p, kv, out, e);
	key_wipe(&p.k);
	free(p.unknown);
	free(p.asked);
	free(p.order);
	vc_res_free(p.r);
	return rc;
}
