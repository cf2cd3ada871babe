/* localstore.c - the local value store: KV v2 semantics over two tables.
 *
 * vc_value_keys holds one row per key (its metadata: current and oldest
 * version), vc_values one row per version with the sealed value.  Every
 * write runs in its own transaction, retried on deadlock or lock timeout,
 * and locks the key row first, so concurrent writers of one key queue up
 * there instead of deadlocking on the version rows.
 *
 * Each version row carries the id of the master key it is sealed under
 * (localkey.c), and is opened with that key: during a rekey, values under
 * the previous key and under the next one are read alike.
 */
#define _POSIX_C_SOURCE 200809L

#include "localstore.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CIPHERTEXT_MAX 16777215UL    /* MEDIUMBLOB */
#define DEFAULT_MAX_VERSIONS 10      /* Vault's, for max_versions 0 */
#define TX_ATTEMPTS 4
#define BATCH_MAX 200                /* items per get_many statement */
#define PATH_MAX_BYTES 3000          /* vc_values.path VARBINARY(3000) */

struct local {
	struct vc_store base;
	MYSQL *conn;
	unsigned int last_errno;     /* of the last failed statement: retry? */
	struct vc_local_keys keys;
	char *key_file;              /* NULL: opened with one key, no file */
};

static struct local *local_of(struct vc_store *st)
{
	return (struct local *)st;
}

/* ---- statements ---- */

static int db_code(unsigned int no)
{
	switch (no) {
	case ER_LOCK_DEADLOCK:
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_DUP_ENTRY:
		return VC_ECONFLICT;
	case ER_DBACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_ERROR:
	case ER_TABLEACCESS_DENIED_ERROR:
	case ER_COLUMNACCESS_DENIED_ERROR:
		return VC_EPERM;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
		return VC_EUNAVAIL;
	}
	return VC_EFAIL;
}

/* Server messages name at most a path ("Duplicate entry ..."), never a
 * value: values only ever travel as bound parameters. */
static int db_fail(struct local *s, unsigned int no, const char *msg,
		   struct vc_err *e)
{
	s->last_errno = no;
	if (db_code(no) == VC_EUNAVAIL)
		return vc_err_set(e, VC_EUNAVAIL, "local store: database "
				  "unavailable: %s; check that the server is "
				  "running, then try again", msg);
	return vc_err_set(e, db_code(no), "local store: %s", msg);
}

static int stmt_fail(struct local *s, MYSQL_STMT *st, struct vc_err *e)
{
	return db_fail(s, mysql_stmt_errno(st), mysql_stmt_error(st), e);
}

static int conn_fail(struct local *s, struct vc_err *e)
{
	return db_fail(s, mysql_errno(s->conn), mysql_error(s->conn), e);
}

static int oom(struct vc_err *e)
{
	return vc_err_set(e, VC_EFAIL, "local store: out of memory");
}

/* Binary-safe: the length travels with the bytes, no charset conversion. */
static void bind_bytes(MYSQL_BIND *b, const void *p, size_t cap,
		       unsigned long *len)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_BLOB;
	b->buffer = (void *)p;
	b->buffer_length = cap;
	b->length = len;
}

static void bind_path(MYSQL_BIND *b, const char *path)
{
	bind_bytes(b, path, strlen(path), NULL);
}

static void bind_int(MYSQL_BIND *b, const int *v, my_bool *is_null)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONG;
	b->buffer = (void *)v;
	b->is_null = is_null;
}

/* A key id column, which is NULL in rows from before key ids. */
static void bind_key_id(MYSQL_BIND *b, unsigned char *id, unsigned long *len,
			my_bool *is_null)
{
	bind_bytes(b, id, VC_LOCAL_KEY_ID_BYTES, len);
	b->is_null = is_null;
}

static void bind_i64(MYSQL_BIND *b, long long *v)
{
	memset(b, 0, sizeof(*b));
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = v;
}

/* Prepares, binds par (NULL: no parameters) and executes sql.  With out,
 * the statement is handed over with res (when not NULL) bound to its
 * columns; without, it is closed. */
static int stmt_run(struct local *s, const char *sql, MYSQL_BIND *par,
		    MYSQL_BIND *res, MYSQL_STMT **out, struct vc_err *e)
{
	MYSQL_STMT *st = mysql_stmt_init(s->conn);
	int rc = 0;

	if (!st)
		return oom(e);
	if (mysql_stmt_prepare(st, sql, strlen(sql)) ||
	    (par && mysql_stmt_bind_param(st, par)) ||
	    mysql_stmt_execute(st) ||
	    (res && mysql_stmt_bind_result(st, res)))
		rc = stmt_fail(s, st, e);
	if (rc < 0 || !out)
		mysql_stmt_close(st);
	else
		*out = st;
	return rc;
}

/* 1 with a row, 0 at the end, or a VC_E* code.  A truncated column is
 * expected: blobs are bound without a buffer and read by fetch_bytes. */
static int stmt_next(struct local *s, MYSQL_STMT *st, struct vc_err *e)
{
	int r = mysql_stmt_fetch(st);

	if (r == 0 || r == MYSQL_DATA_TRUNCATED)
		return 1;
	if (r == MYSQL_NO_DATA)
		return 0;
	return stmt_fail(s, st, e);
}

/* Reads column col of the current row, len bytes long, into b. */
static int fetch_bytes(struct local *s, MYSQL_STMT *st, unsigned int col,
		       unsigned long len, struct vc_buf *b, struct vc_err *e)
{
	MYSQL_BIND bb;
	unsigned long got = 0;

	vc_buf_reset(b);
	if (vc_buf_grow(b, len) < 0)
		return oom(e);
	bind_bytes(&bb, b->data, len, &got);
	if (len && mysql_stmt_fetch_column(st, &bb, col, 0))
		return stmt_fail(s, st, e);
	b->len = len;
	b->data[len] = '\0';
	return 0;
}

/* ---- transactions ---- */

typedef int (*tx_fn)(struct local *s, void *ctx, struct vc_err *e);

static int retryable(unsigned int no)
{
	/* A duplicate key is a concurrent first write of the same key that
	 * slipped past the row lock (READ COMMITTED takes no gap lock). */
	return no == ER_LOCK_DEADLOCK || no == ER_LOCK_WAIT_TIMEOUT ||
	       no == ER_DUP_ENTRY;
}

/* Jittered, so that two writers that collided do not collide again. */
static void tx_pause(int attempt)
{
	long ms = 10L * attempt + (long)randombytes_uniform(20);
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Guarded like vc_db_begin/vc_db_commit (lib/db.c): with autocommit off
 * and a savepoint, a transaction that a Galera node rolled back between two
 * statements cannot half-commit; its loss shows at commit and is retried
 * like a deadlock. */
static int tx_once(struct local *s, tx_fn fn, void *ctx, struct vc_err *e)
{
	int rc = 0;

	if (mysql_query(s->conn, "SET autocommit = 0") ||
	    mysql_query(s->conn, "SAVEPOINT vc_store"))
		rc = conn_fail(s, e);
	if (rc == 0)
		rc = fn(s, ctx, e);
	if (rc == 0 && mysql_query(s->conn, "RELEASE SAVEPOINT vc_store")) {
		if (mysql_errno(s->conn) == ER_SP_DOES_NOT_EXIST) {
			s->last_errno = ER_LOCK_DEADLOCK;
			rc = vc_err_set(e, VC_ECONFLICT, "concurrent change (the "
					"server rolled the transaction back)");
		} else {
			rc = conn_fail(s, e);
		}
	}
	/* A commit whose answer never came may have been done: say so, a
	 * write may be in the store without its metadata. */
	if (rc == 0 && mysql_commit(s->conn) &&
	    (rc = conn_fail(s, e)) == VC_EUNAVAIL)
		vc_err_prefix(e, "the commit's answer was lost, the value store "
			      "may hold the write ('vaultctl-audit reconcile' "
			      "tells)");
	if (rc < 0)
		mysql_rollback(s->conn);  /* may fail too: the first error counts */
	mysql_autocommit(s->conn, 1);
	return rc;
}

static int tx_run(struct local *s, tx_fn fn, void *ctx, struct vc_err *e)
{
	int rc;

	for (int attempt = 1;; attempt++) {
		s->last_errno = 0;
		rc = tx_once(s, fn, ctx, e);
		if (rc == 0 || !retryable(s->last_errno) ||
		    attempt == TX_ATTEMPTS)
			return rc;
		tx_pause(attempt);
	}
}

/* Statements that share one parameter list, run in one transaction. */
struct script {
	const char *const *sql;
	size_t nsql;
	MYSQL_BIND *par;
};

static int script_tx(struct local *s, void *ctx, struct vc_err *e)
{
	const struct script *sc = ctx;
	int rc = 0;

	for (size_t i = 0; i < sc->nsql && rc == 0; i++)
		rc = stmt_run(s, sc->sql[i], sc->par, NULL, NULL, e);
	return rc;
}

/* ---- sealing ---- */

/* Reads the key files again when a rekey has moved them on since they
 * were read (a long-lived shell, or a rekey running beside this run). */
static int keys_fresh(struct local *s, struct vc_err *e)
{
	struct vc_local_keys k;
	int rc;

	if (!s->key_file || !vc_local_keys_stale(s->key_file, &s->keys))
		return 0;
	rc = vc_local_keys_load(s->key_file, &k, e);
	if (rc == 0) {
		vc_local_keys_wipe(&s->keys);
		s->keys = k;
	}
	vc_local_keys_wipe(&k);
	return rc;
}

/* The slot of the key a row names; the key files are read again once
 * when none holds it, since a rekey may have gone on meanwhile. */
static int key_for(struct local *s, const char *path, int version,
		   const unsigned char *id, struct vc_err *e)
{
	char want[2 * VC_LOCAL_KEY_ID_BYTES + 1], have[sizeof(want)];
	int slot = vc_local_keys_find(&s->keys, id), rc;

	if (slot >= 0)
		return slot;
	rc = keys_fresh(s, e);
	if (rc < 0)
		return rc;
	slot = vc_local_keys_find(&s->keys, id);
	if (slot >= 0)
		return slot;
	vc_local_key_id_hex(id, want);
	vc_local_key_id_hex(s->keys.id[VC_LOCAL_CUR], have);
	return vc_err_set(e, VC_EINCONSIST, "value at '%s' version %d is sealed"
			  " under key %s, which the master key file%s%s does"
			  " not hold (its key is %s)", path, version, want,
			  s->key_file ? " " : "", s->key_file ? s->key_file : "",
			  have);
}

/* The path and the version are authenticated with the value, so a row
 * copied to another key or version fails to open. */
static int seal_ad(struct vc_buf *ad, const char *path, int version)
{
	size_t len = strlen(path) + 1;
	char v[16];
	int n = snprintf(v, sizeof(v), "%d", version);

	/* Sized once: an export opens a value per secret. */
	vc_buf_reset(ad);
	if (vc_buf_grow(ad, len + (size_t)n) < 0 ||
	    vc_buf_add(ad, path, len) < 0 || vc_buf_add(ad, v, (size_t)n) < 0)
		return VC_EFAIL;
	return 0;
}

/* Seals under the key of slot; its id goes into the row with the bytes. */
static int seal(struct local *s, int slot, const char *path, int version,
		const unsigned char *val, size_t len,
		unsigned char nonce[NONCE_BYTES], unsigned char *ct,
		struct vc_err *e)
{
	struct vc_buf ad = VC_BUF_INIT;
	unsigned long long clen;

	if (seal_ad(&ad, path, version) < 0) {
		vc_buf_release(&ad);
		return oom(e);
	}
	randombytes_buf(nonce, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, val, len,
		(unsigned char *)ad.data, ad.len, NULL, nonce,
		s->keys.key[slot]);
	vc_buf_release(&ad);
	return 0;
}

/* Decrypts into out (a secret buffer), which is left empty on failure.
 * id is the row's key id, NULL for a row from before key ids. */
static int unseal(struct local *s, const char *path, int version,
		  const unsigned char *id, const unsigned char *nonce,
		  const struct vc_buf *ct, struct vc_buf *out,
		  struct vc_err *e)
{
	struct vc_buf ad = VC_BUF_INIT;
	unsigned long long mlen = 0;
	int rc = 0, slot;

	out->secret = 1;
	vc_buf_reset(out);
	slot = key_for(s, path, version, id, e);
	if (slot < 0)
		return slot;
	if (seal_ad(&ad, path, version) < 0 ||
	    vc_buf_grow(out, ct->len) < 0)
		rc = oom(e);
	else if (ct->len < TAG_BYTES ||
		 crypto_aead_xchacha20poly1305_ietf_decrypt(
			(unsigned char *)out->data, &mlen, NULL,
			(const unsigned char *)ct->data, ct->len,
			(unsigned char *)ad.data, ad.len, nonce,
			s->keys.key[slot]) != 0)
		rc = vc_err_set(e, VC_EINCONSIST,
				"value at '%s' version %d fails authentication",
				path, version);
	vc_buf_release(&ad);
	if (rc < 0) {
		vc_buf_reset(out);
		return rc;
	}
	out->len = (size_t)mlen;
	out->data[out->len] = '\0';
	return 0;
}

/* ---- put ---- */

struct key_row {
	int exists, current, oldest, max;
};

static int key_lock(struct local *s, const char *path, struct key_row *k,
		    struct vc_err *e)
{
	static const char sql[] =
		"SELECT current_version, oldest_version, max_versions"
		" FROM vc_value_keys WHERE path = ? FOR UPDATE";
	MYSQL_BIND par[1], res[3];
	MYSQL_STMT *st;
	int rc;

	memset(k, 0, sizeof(*k));
	bind_path(&par[0], path);
	bind_int(&res[0], &k->current, NULL);
	bind_int(&res[1], &k->oldest, NULL);
	bind_int(&res[2], &k->max, NULL);
	rc = stmt_run(s, sql, par, res, &st, e);
	if (rc < 0)
		return rc;
	rc = stmt_next(s, st, e);
	mysql_stmt_close(st);
	if (rc < 0)
		return rc;
	k->exists = rc;
	if (!k->exists)
		k->oldest = 1;
	return 0;
}

/* Like Vault: keep max_versions versions (0 means 10), forget older ones. */
static int keep_from(const struct key_row *k, int version)
{
	int max = k->max > 0 ? k->max : DEFAULT_MAX_VERSIONS;

	return version - k->oldest >= max ? version - max + 1 : k->oldest;
}

static int key_write(struct local *s, const char *path, int exists,
		     int current, int oldest, struct vc_err *e)
{
	static const char ins[] =
		"INSERT INTO vc_value_keys (current_version, oldest_version,"
		" path, max_versions, created_at, updated_at)"
		" VALUES (?, ?, ?, 0, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))";
	static const char upd[] =
		"UPDATE vc_value_keys SET current_version = ?,"
		" oldest_version = ?, updated_at = UTC_TIMESTAMP(6)"
		" WHERE path = ?";
	MYSQL_BIND par[3];

	bind_int(&par[0], &current, NULL);
	bind_int(&par[1], &oldest, NULL);
	bind_path(&par[2], path);
	return stmt_run(s, exists ? upd : ins, par, NULL, NULL, e);
}

static int version_insert(struct local *s, const char *path, int version,
			  int slot, const unsigned char *nonce,
			  const unsigned char *ct, size_t clen, struct vc_err *e)
{
	static const char sql[] =
		"INSERT INTO vc_values (path, version, nonce, key_id, ciphertext,"
		" created_at) VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))";
	MYSQL_BIND par[5];

	bind_path(&par[0], path);
	bind_int(&par[1], &version, NULL);
	bind_bytes(&par[2], nonce, NONCE_BYTES, NULL);
	bind_bytes(&par[3], s->keys.id[slot], VC_LOCAL_KEY_ID_BYTES, NULL);
	bind_bytes(&par[4], ct, clen, NULL);
	return stmt_run(s, sql, par, NULL, NULL, e);
}

static int versions_prune(struct local *s, const char *path, int keep,
			  struct vc_err *e)
{
	static const char sql[] =
		"DELETE FROM vc_values WHERE path = ? AND version < ?";
	MYSQL_BIND par[2];

	bind_path(&par[0], path);
	bind_int(&par[1], &keep, NULL);
	return stmt_run(s, sql, par, NULL, NULL, e);
}

struct put_job {
	const char *path;
	const unsigned char *val;
	size_t len;
	int cas;
	int version;            /* the one written */
	unsigned char *ct;      /* len + TAG_BYTES */
};

static int put_tx(struct local *s, void *ctx, struct vc_err *e)
{
	struct put_job *j = ctx;
	unsigned char nonce[NONCE_BYTES];
	struct key_row k;
	int rc, keep, slot;

	rc = key_lock(s, j->path, &k, e);
	if (rc < 0)
		return rc;
	/* A key whose versions are all deleted still exists: current stays. */
	if (j->cas >= 0 && j->cas != k.current)
		return vc_err_set(e, VC_ECONFLICT, "check-and-set parameter"
				  " did not match the current version");
	j->version = k.current + 1;
	keep = keep_from(&k, j->version);
	rc = key_write(s, j->path, k.exists, j->version, keep, e);
	/* Only now, with the key row locked (or inserted), which the end of
	 * a rekey waits for: a key file read here is at least as new as the
	 * one that rekey made current, or the rekey sees this row. */
	if (rc == 0)
		rc = keys_fresh(s, e);
	slot = vc_local_keys_sealer(&s->keys);
	if (rc == 0)
		rc = seal(s, slot, j->path, j->version, j->val, j->len, nonce,
			  j->ct, e);
	if (rc == 0)
		rc = version_insert(s, j->path, j->version, slot, nonce, j->ct,
				    j->len + TAG_BYTES, e);
	if (rc == 0 && keep > k.oldest)
		rc = versions_prune(s, j->path, keep, e);
	return rc;
}

static int local_put(struct vc_store *st, const char *path, const void *val,
		     size_t len, int cas, int *new_version, struct vc_err *e)
{
	static const unsigned char none[1];
	struct put_job j = { path, val ? val : none, len, cas, 0, NULL };
	int rc;

	if (len > CIPHERTEXT_MAX - TAG_BYTES)
		return vc_err_set(e, VC_EUSAGE, "value of %zu bytes is too"
				  " large for the local store (at most %lu)",
				  len, CIPHERTEXT_MAX - TAG_BYTES);
	j.ct = malloc(len + TAG_BYTES);
	if (!j.ct)
		return oom(e);
	rc = tx_run(local_of(st), put_tx, &j, e);
	free(j.ct);
	if (rc == 0 && new_version)
		*new_version = j.version;
	return rc;
}

/* ---- put_many: a batch in one transaction ---- */

struct many_item {
	struct key_row k;
	int keep, slot;
	unsigned char nonce[NONCE_BYTES];
	unsigned char *ct;      /* len + TAG_BYTES */
};

struct many_job {
	struct vc_store_put *items;
	struct many_item *m;
	size_t n;
	size_t *order;          /* item indices by path, as the key rows */
};

static int by_path(const void *a, const void *b, void *items)
{
	const struct vc_store_put *it = items;

	return strcmp(it[*(const size_t *)a].path, it[*(const size_t *)b].path);
}

/* The first of j->order whose item's path is path, or j->n. */
static size_t path_find(const struct many_job *j, const char *path)
{
	size_t lo = 0, hi = j->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(j->items[j->order[mid]].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < j->n && !strcmp(j->items[j->order[lo]].path, path) ? lo :
	       j->n;
}

/* head, then n times row joined by commas, then tail. */
static int rows_sql(struct vc_buf *sql, const char *head, const char *row,
		    size_t n, const char *tail)
{
	int rc = vc_buf_addstr(sql, head);

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = vc_buf_printf(sql, i ? ",%s" : "%s", row);
	return rc == 0 ? vc_buf_addstr(sql, tail) : rc;
}

/* A column of the rows bound one after the other: numbers in one
 * array, bytes as pointers and lengths (a bulk execute's layout). */
struct bulk_col {
	void *buf;
	unsigned long *len;
};

static int bulk_bind(MYSQL_BIND *b, struct bulk_col *col,
		     const MYSQL_BIND *par, size_t cols, size_t rows)
{
	for (size_t c = 0; c < cols; c++) {
		int num = par[c].buffer_type == MYSQL_TYPE_LONG;

		col[c].buf = calloc(rows, num ? sizeof(int) : sizeof(void *));
		col[c].len = calloc(rows, sizeof(*col[c].len));
		if (!col[c].buf || !col[c].len)
			return -1;
		for (size_t r = 0; r < rows; r++) {
			const MYSQL_BIND *p = &par[r * cols + c];

			if (num)
				((int *)col[c].buf)[r] = *(const int *)p->buffer;
			else
				((const void **)col[c].buf)[r] = p->buffer;
			col[c].len[r] = p->length ? *p->length : p->buffer_length;
		}
		b[c] = par[c];
		b[c].buffer = col[c].buf;
		b[c].length = col[c].len;
		b[c].is_null = NULL;
	}
	return 0;
}

/* The one-row statement (head, row, tail) run once over the rows' arrays
 * of parameters. */
static int bulk_run(struct local *s, const char *sql, const MYSQL_BIND *par,
		    size_t cols, size_t rows, struct vc_err *e)
{
	MYSQL_BIND *b = calloc(cols, sizeof(*b));
	struct bulk_col *col = calloc(cols, sizeof(*col));
	unsigned int size = (unsigned int)rows;
	MYSQL_STMT *st = NULL;
	int rc = 0;

	if (!b || !col || bulk_bind(b, col, par, cols, rows) < 0)
		rc = oom(e);
	else if (!(st = mysql_stmt_init(s->conn)))
		rc = oom(e);
	else if (mysql_stmt_prepare(st, sql, strlen(sql)) ||
		 mysql_stmt_attr_set(st, STMT_ATTR_ARRAY_SIZE, &size) ||
		 mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st))
		rc = stmt_fail(s, st, e);
	if (st)
		mysql_stmt_close(st);
	for (size_t c = 0; col && c < cols; c++) {
		free(col[c].buf);
		free(col[c].len);
	}
	free(col);
	free(b);
	return rc;
}

/* rows rows of cols parameters each (par, row after row) into one
 * statement: head, row and tail.  Where the server has a bulk execute the
 * one-row statement runs over arrays of them: 200 rows' INSERT costs the
 * server half of the multi-row statement's, whose 1000 placeholders it
 * parses first.  Elsewhere (MySQL) the multi-row statement. */
static int rows_run(struct local *s, const char *head, const char *row,
		    const char *tail, const MYSQL_BIND *par, size_t cols,
		    size_t rows, struct vc_err *e)
{
	int bulk = rows > 1 && vc_db_handle_bulk(s->conn);
	struct vc_buf sql = VC_BUF_INIT;
	int rc = rows_sql(&sql, head, row, bulk ? 1 : rows, tail) < 0 ?
		 oom(e) : 0;

	if (rc == 0)
		rc = bulk ? bulk_run(s, sql.data, par, cols, rows, e) :
		     stmt_run(s, sql.data, (MYSQL_BIND *)par, NULL, NULL, e);
	vc_buf_release(&sql);
	return rc;
}

/* The key row just read, for the items of [i0, i0 + n) at its path. */
static void lock_match(struct many_job *j, size_t i0, size_t n,
		       const char *path, const struct key_row *k)
{
	for (size_t o = path_find(j, path); o < j->n &&
	     !strcmp(j->items[j->order[o]].path, path); o++) {
		size_t x = j->order[o];

		if (x >= i0 && x < i0 + n) {
			j->m[x].k = *k;
			j->m[x].k.exists = 1;
		}
	}
}

/* Locks the key rows of items [i0, i0 + n) and reads them: points of
 * the primary key, forced, since a scan would lock every row it passed.
 * A derived table of the paths cost the server half as much again, to
 * parse its 200 SELECTs. */
static int many_lock(struct local *s, struct many_job *j, size_t i0, size_t n,
		     struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	MYSQL_BIND *par = calloc(n, sizeof(*par)), res[4];
	char path[PATH_MAX_BYTES + 1];
	unsigned long len = 0;
	struct key_row k;
	MYSQL_STMT *st = NULL;
	int rc = !par || rows_sql(&sql, "SELECT path, current_version,"
		" oldest_version, max_versions FROM vc_value_keys FORCE INDEX"
		" (PRIMARY) WHERE path IN (", "?", n, ") FOR UPDATE") < 0 ?
		oom(e) : 0;

	for (size_t x = 0; x < n && rc == 0; x++)
		bind_path(&par[x], j->items[i0 + x].path);
	memset(&k, 0, sizeof(k));
	bind_bytes(&res[0], path, PATH_MAX_BYTES, &len);
	bind_int(&res[1], &k.current, NULL);
	bind_int(&res[2], &k.oldest, NULL);
	bind_int(&res[3], &k.max, NULL);
	if (rc == 0)
		rc = stmt_run(s, sql.data, par, res, &st, e);
	while (rc == 0 && (rc = stmt_next(s, st, e)) == 1) {
		rc = 0;
		path[len < PATH_MAX_BYTES ? len : PATH_MAX_BYTES] = '\0';
		lock_match(j, i0, n, path, &k);
	}
	if (st)
		mysql_stmt_close(st);
	free(par);
	vc_buf_release(&sql);
	return rc < 0 ? rc : 0;
}

/* How many items of [i0, i0 + n) do op. */
static size_t many_count(const struct many_job *j, size_t i0, size_t n,
			 enum vc_store_put_op op)
{
	size_t k = 0;

	for (size_t x = i0; x < i0 + n; x++)
		k += j->items[x].op == op;
	return k;
}

/* Every key row of the chunk's writes in one statement. */
static int many_keys(struct local *s, struct many_job *j, size_t i0, size_t n,
		     struct vc_err *e)
{
	size_t w = many_count(j, i0, n, VC_STORE_WRITE), k = 0;
	MYSQL_BIND *par;
	int rc;

	if (w == 0)
		return 0;
	par = calloc(4 * w, sizeof(*par));
	if (!par)
		return oom(e);
	for (size_t x = i0; x < i0 + n; x++) {
		if (j->items[x].op != VC_STORE_WRITE)
			continue;
		bind_int(&par[4 * k], &j->items[x].version, NULL);
		bind_int(&par[4 * k + 1], &j->m[x].keep, NULL);
		bind_path(&par[4 * k + 2], j->items[x].path);
		bind_int(&par[4 * k + 3], &j->items[x].max_versions, NULL);
		k++;
	}
	rc = rows_run(s, "INSERT INTO vc_value_keys (current_version,"
		" oldest_version, path, max_versions, created_at, updated_at)"
		" VALUES ", "(?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6))",
		" ON DUPLICATE KEY UPDATE current_version ="
		" VALUES(current_version), oldest_version ="
		" VALUES(oldest_version), updated_at = VALUES(updated_at),"
		" max_versions = IF(VALUES(max_versions) > 0,"
		" VALUES(max_versions), max_versions)", par, 4, w, e);
	free(par);
	return rc;
}

/* Seals and inserts the values of the chunk's writes in one statement. */
static int many_values(struct local *s, struct many_job *j, size_t i0,
		       size_t n, struct vc_err *e)
{
	size_t w = many_count(j, i0, n, VC_STORE_WRITE), k = 0;
	MYSQL_BIND *par;
	int slot = vc_local_keys_sealer(&s->keys), rc = 0;

	if (w == 0)
		return 0;
	par = calloc(5 * w, sizeof(*par));
	if (!par)
		return oom(e);
	for (size_t x = i0; x < i0 + n && rc == 0; x++) {
		struct vc_store_put *it = &j->items[x];
		struct many_item *m = &j->m[x];
		static const unsigned char none[1];

		if (it->op != VC_STORE_WRITE)
			continue;
		rc = seal(s, slot, it->path, it->version, it->val ? it->val :
			  none, it->len, m->nonce, m->ct, e);
		bind_path(&par[5 * k], it->path);
		bind_int(&par[5 * k + 1], &it->version, NULL);
		bind_bytes(&par[5 * k + 2], m->nonce, NONCE_BYTES, NULL);
		bind_bytes(&par[5 * k + 3], s->keys.id[slot],
			   VC_LOCAL_KEY_ID_BYTES, NULL);
		bind_bytes(&par[5 * k + 4], m->ct, it->len + TAG_BYTES, NULL);
		k++;
	}
	if (rc == 0)
		rc = rows_run(s, "INSERT INTO vc_values (path, version, nonce,"
			      " key_id, ciphertext, created_at) VALUES ",
			      "(?, ?, ?, ?, ?, UTC_TIMESTAMP(6))", "", par, 5,
			      w, e);
	free(par);
	return rc;
}

/* The chunk's deletes or undeletes (op) in one UPDATE, as del and
 * undelete mark a version: its row stays. */
static int many_marks(struct local *s, struct many_job *j, size_t i0,
		      size_t n, enum vc_store_put_op op, struct vc_err *e)
{
	size_t w = many_count(j, i0, n, op), k = 0;
	struct vc_buf sql = VC_BUF_INIT;
	MYSQL_BIND *par;
	int rc;

	if (w == 0)
		return 0;
	par = calloc(2 * w, sizeof(*par));
	rc = !par || vc_buf_addstr(&sql, op == VC_STORE_DELETE ?
		"UPDATE vc_values SET deleted_at = UTC_TIMESTAMP(6) WHERE"
		" deleted_at IS NULL AND destroyed = 0 AND (" :
		"UPDATE vc_values SET deleted_at = NULL WHERE destroyed = 0"
		" AND (") < 0 ? oom(e) : 0;
	for (size_t x = i0; x < i0 + n && rc == 0; x++) {
		if (j->items[x].op != op)
			continue;
		if (vc_buf_addstr(&sql, k ? " OR (path = ? AND version = ?)" :
				  "(path = ? AND version = ?)") < 0)
			rc = oom(e);
		bind_path(&par[2 * k], j->items[x].path);
		bind_int(&par[2 * k + 1], &j->items[x].cas, NULL);
		k++;
	}
	if (rc == 0 && vc_buf_addch(&sql, ')') < 0)
		rc = oom(e);
	if (rc == 0)
		rc = stmt_run(s, sql.data, par, NULL, NULL, e);
	free(par);
	vc_buf_release(&sql);
	return rc;
}

/* Versions per prune statement: below MariaDB's
 * in_predicate_conversion_threshold (1000), past which an IN list is
 * made a subquery and no longer read as points of the primary key. */
#define PRUNE_MAX 500

/* One DELETE of the n (path, version) pairs in par, as points of the
 * primary key: a join over the keys' rows walked every version of each
 * key and cost the server twice as much. */
static int prune_run(struct local *s, MYSQL_BIND *par, size_t n,
		     struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	int rc;

	if (n == 0)
		return 0;
	rc = rows_sql(&sql, "DELETE FROM vc_values WHERE (path, version) IN (",
		      "(?, ?)", n, ")") < 0 ? oom(e) : 0;
	if (rc == 0)
		rc = stmt_run(s, sql.data, par, NULL, NULL, e);
	vc_buf_release(&sql);
	return rc;
}

/* Versions past max_versions of the chunk's writes: from each key's
 * oldest_version before the write up to the one it keeps now (the rows
 * below are gone already), at most PRUNE_MAX a statement. */
static int many_prune(struct local *s, struct many_job *j, size_t i0,
		      size_t n, struct vc_err *e)
{
	MYSQL_BIND *par = calloc(2 * PRUNE_MAX, sizeof(*par));
	int *ver = calloc(PRUNE_MAX, sizeof(*ver)), rc = par && ver ? 0 : oom(e);
	size_t k = 0;

	for (size_t x = i0; x < i0 + n && rc == 0; x++) {
		struct many_item *m = &j->m[x];

		if (j->items[x].op != VC_STORE_WRITE)
			continue;
		for (int v = m->k.oldest; v < m->keep && rc == 0; v++) {
			ver[k] = v;
			bind_path(&par[2 * k], j->items[x].path);
			bind_int(&par[2 * k + 1], &ver[k], NULL);
			if (++k == PRUNE_MAX) {
				rc = prune_run(s, par, k, e);
				k = 0;
			}
		}
	}
	if (rc == 0)
		rc = prune_run(s, par, k, e);
	free(ver);
	free(par);
	return rc;
}

/* Check-and-set of every item against the key rows just locked; a
 * delete or undelete is of the current version of a key that exists. */
static int many_cas(struct many_job *j, size_t i0, size_t n, struct vc_err *e)
{
	for (size_t x = i0; x < i0 + n; x++) {
		struct vc_store_put *it = &j->items[x];
		struct many_item *m = &j->m[x];
		int mark = it->op != VC_STORE_WRITE;

		if (!m->k.exists)
			m->k.oldest = 1;
		if ((it->cas >= 0 || mark) && (it->cas != m->k.current ||
					       (mark && !m->k.exists)))
			return vc_err_set(e, VC_ECONFLICT, "check-and-set"
					  " parameter did not match the current"
					  " version of '%s'", it->path);
		if (mark) {
			it->version = it->cas;
			continue;
		}
		it->version = m->k.current + 1;
		/* The environment's limit, given with the write, holds for
		 * this write already (as set_max before a single put does). */
		if (it->max_versions > 0)
			m->k.max = it->max_versions;
		m->keep = keep_from(&m->k, it->version);
	}
	return 0;
}

static int many_tx(struct local *s, void *ctx, struct vc_err *e)
{
	struct many_job *j = ctx;
	size_t i0, n;
	int rc = 0;

	for (size_t x = 0; x < j->n; x++) {
		memset(&j->m[x].k, 0, sizeof(j->m[x].k));
		j->items[x].version = 0;
	}
	/* Every key row locked (or inserted) first, as put does, so that
	 * the key files read next are at least as new as a rekey's. */
	for (i0 = 0; i0 < j->n && rc == 0; i0 += n) {
		n = j->n - i0 < BATCH_MAX ? j->n - i0 : BATCH_MAX;
		rc = many_lock(s, j, i0, n, e);
		if (rc == 0)
			rc = many_cas(j, i0, n, e);
		if (rc == 0)
			rc = many_keys(s, j, i0, n, e);
	}
	if (rc == 0)
		rc = keys_fresh(s, e);
	for (i0 = 0; i0 < j->n && rc == 0; i0 += n) {
		n = j->n - i0 < BATCH_MAX ? j->n - i0 : BATCH_MAX;
		rc = many_values(s, j, i0, n, e);
		if (rc == 0)
			rc = many_prune(s, j, i0, n, e);
		if (rc == 0)
			rc = many_marks(s, j, i0, n, VC_STORE_DELETE, e);
		if (rc == 0)
			rc = many_marks(s, j, i0, n, VC_STORE_UNDELETE, e);
	}
	if (rc < 0)
		for (size_t x = 0; x < j->n; x++)
			j->items[x].version = 0;
	return rc;
}

/* All or nothing: one transaction, a few statements per BATCH_MAX items. */
static int local_put_many(struct vc_store *st, struct vc_store_put *items,
			  size_t n, int concurrency, struct vc_err *e)
{
	struct many_job j = { items, calloc(n ? n : 1, sizeof(*j.m)), n,
			      calloc(n ? n : 1, sizeof(*j.order)) };
	int rc = j.m && j.order ? 0 : oom(e);

	(void)concurrency;      /* one connection, one transaction */
	for (size_t x = 0; x < n && rc == 0; x++)
		j.order[x] = x;
	if (rc == 0)
		qsort_r(j.order, n, sizeof(*j.order), by_path, items);
	for (size_t x = 0; x < n && rc == 0; x++) {
		if (items[x].op != VC_STORE_WRITE)
			continue;
		if (items[x].len > CIPHERTEXT_MAX - TAG_BYTES)
			rc = vc_err_set(e, VC_EUSAGE, "value of %zu bytes is"
					" too large for the local store (at most"
					" %lu)", items[x].len,
					CIPHERTEXT_MAX - TAG_BYTES);
		else if (!(j.m[x].ct = malloc(items[x].len + TAG_BYTES)))
			rc = oom(e);
	}
	if (rc == 0)
		rc = tx_run(local_of(st), many_tx, &j, e);
	for (size_t x = 0; j.m && x < n; x++)
		free(j.m[x].ct);
	free(j.m);
	free(j.order);
	return rc;
}

/* ---- get, get_many ---- */

/* One row per item: r.i is the item's index, v.* NULL when the key or the
 * version does not exist (never written, pruned, or removed). */
static int batch_sql(struct vc_buf *sql, size_t n)
{
	int rc = vc_buf_addstr(sql, "SELECT r.i, v.version, v.nonce,"
		" v.ciphertext, v.deleted_at IS NOT NULL, IFNULL(v.destroyed, 0),"
		" v.key_id FROM (");

	for (size_t i = 0; i < n && rc == 0; i++)
		rc = vc_buf_printf(sql, "%sSELECT %zu AS i, CAST(? AS BINARY)"
				   " AS p, CAST(? AS SIGNED) AS ver",
				   i ? " UNION ALL " : "", i);
	if (rc == 0)
		rc = vc_buf_addstr(sql, ") r"
			" LEFT JOIN vc_value_keys k ON k.path = r.p"
			" LEFT JOIN vc_values v ON v.path = k.path AND v.version"
			" = IF(r.ver = 0, k.current_version, r.ver)");
	return rc;
}

struct batch_row {
	int i, version, deleted, destroyed;
	my_bool no_version, no_key_id;
	unsigned char nonce[NONCE_BYTES];
	unsigned char key_id[VC_LOCAL_KEY_ID_BYTES];
	unsigned long nonce_len, ct_len, key_id_len;
	MYSQL_BIND res[7];
};

static void batch_row_bind(struct batch_row *r)
{
	bind_int(&r->res[0], &r->i, NULL);
	bind_int(&r->res[1], &r->version, &r->no_version);
	bind_bytes(&r->res[2], r->nonce, sizeof(r->nonce), &r->nonce_len);
	bind_bytes(&r->res[3], NULL, 0, &r->ct_len);
	bind_int(&r->res[4], &r->deleted, NULL);
	bind_int(&r->res[5], &r->destroyed, NULL);
	bind_key_id(&r->res[6], r->key_id, &r->key_id_len, &r->no_key_id);
}

static void item_start(struct vc_store_item *it)
{
	it->value.secret = 1;
	vc_buf_reset(&it->value);
	memset(&it->got, 0, sizeof(it->got));
	vc_err_clear(&it->err);
	it->rc = it->path ? vc_err_set(&it->err, VC_ENOTFOUND, "not found")
			  : vc_err_set(&it->err, VC_EUSAGE, "no path given");
}

static int item_fill(struct local *s, MYSQL_STMT *st,
		     const struct batch_row *r, struct vc_buf *ct,
		     struct vc_store_item *it, struct vc_err *e)
{
	int rc;

	if (r->no_version)
		return 0;
	it->rc = 0;
	vc_err_clear(&it->err);
	it->got.version = r->version;
	it->got.deleted = r->deleted;
	it->got.destroyed = r->destroyed;
	if (r->destroyed || r->deleted) {
		it->rc = vc_err_set(&it->err, VC_ENOTFOUND,
				    "version %d is %s", r->version,
				    r->destroyed ? "destroyed" : "deleted");
		return 0;
	}
	rc = fetch_bytes(s, st, 3, r->ct_len, ct, e);
	if (rc < 0)
		return rc;
	if (r->nonce_len != NONCE_BYTES || (!r->no_key_id &&
	    r->key_id_len != VC_LOCAL_KEY_ID_BYTES))
		it->rc = vc_err_set(&it->err, VC_EINCONSIST, "value at '%s'"
				    " version %d has a malformed nonce or key"
				    " id", it->path, r->version);
	else
		it->rc = unseal(s, it->path, r->version,
				r->no_key_id ? NULL : r->key_id, r->nonce, ct,
				&it->value, &it->err);
	return 0;
}

static int batch_rows(struct local *s, MYSQL_STMT *st, struct batch_row *r,
		      struct vc_store_item *items, size_t n, struct vc_err *e)
{
	struct vc_buf ct = VC_BUF_INIT;
	int rc;

	while ((rc = stmt_next(s, st, e)) == 1) {
		if (r->i < 0 || (size_t)r->i >= n) {
			rc = vc_err_set(e, VC_EFAIL, "local store: row for"
					" unknown item %d", r->i);
			break;
		}
		rc = item_fill(s, st, r, &ct, &items[r->i], e);
		if (rc < 0)
			break;
	}
	vc_buf_release(&ct);
	return rc < 0 ? rc : 0;
}

/* One statement for n (at most BATCH_MAX) items. */
static int batch_run(struct local *s, struct vc_store_item *items, size_t n,
		     struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	struct batch_row r;
	MYSQL_BIND *par = calloc(2 * n, sizeof(*par));
	MYSQL_STMT *st;
	int rc;

	for (size_t i = 0; i < n; i++)
		item_start(&items[i]);
	rc = !par || batch_sql(&sql, n) < 0 ? oom(e) : 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* A missing path matches nothing; its item says why. */
		bind_path(&par[2 * i], items[i].path ? items[i].path : "");
		bind_int(&par[2 * i + 1], &items[i].version, NULL);
	}
	memset(&r, 0, sizeof(r));
	batch_row_bind(&r);
	if (rc == 0)
		rc = stmt_run(s, sql.data, par, r.res, &st, e);
	if (rc == 0) {
		rc = batch_rows(s, st, &r, items, n, e);
		mysql_stmt_close(st);
	}
	free(par);
	vc_buf_release(&sql);
	return rc;
}

/* ---- get_many of whole folders ---- */

/* An export reads the current value of every secret of one environment:
 * one range scan over the folder costs the server about half of the same
 * rows looked up one by one from a derived table.  A run with several
 * environments reads several folders: their ranges go in one statement,
 * a round trip and a prepare each fewer. */
#define FOLDER_MIN 32
#define FOLDERS_MAX 16

/* An item of folder j by its name in the folder: the paths of a folder
 * share a hundred bytes, which comparing whole paths would go over each
 * time. */
struct by_path {
	const char *name;
	size_t i, j;
};

static int by_path_cmp(const void *a, const void *b)
{
	const struct by_path *x = a, *y = b;

	if (x->j != y->j)
		return x->j < y->j ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The length of path's folder, up to its last '/'. */
static size_t dir_len(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? (size_t)(slash - path) + 1 : 0;
}

/* The end of the run of items from i0 in the folder of the first. */
static size_t run_end(const struct vc_store_item *items, size_t n, size_t i0)
{
	size_t len = dir_len(items[i0].path), i = i0 + 1;

	while (len && i < n && dir_len(items[i].path) == len &&
	       !strncmp(items[i].path, items[i0].path, len))
		i++;
	return i;
}

/* The length of the folder ("…/secrets/") that every item's path is
 * directly in, each item asking for the current version; 0 if none. */
static size_t folder_of(const struct vc_store_item *items, size_t n)
{
	const char *p0 = n >= FOLDER_MIN ? items[0].path : NULL;
	size_t len = dir_len(p0);

	for (size_t i = 0; len && i < n; i++)
		if (!items[i].path || items[i].version ||
		    strncmp(items[i].path, p0, len) ||
		    strchr(items[i].path + len, '/'))
			len = 0;
	return len;
}

/* A run of items in one folder: items[i0 .. i0+n), the folder's length. */
struct folder {
	size_t i0, n, len;
	char *lo, *hi;          /* the folder, and just past it */
};

/* The folder of f[0 .. k) that path is in, *j the one tried first (the
 * rows come by path, a folder's together); k if none. */
static size_t folder_find(const struct folder *f, size_t k, size_t *j,
			  const char *path)
{
	for (size_t t = 0; t < k; t++) {
		size_t x = (*j + t) % k;

		if (!strncmp(path, f[x].lo, f[x].len))
			return *j = x;
	}
	return k;
}

/* Fills every item whose path is the row's (an item may be asked twice). */
static int folder_row(struct local *s, MYSQL_STMT *st,
		      const struct batch_row *r, const char *path,
		      const struct by_path *sorted, size_t n,
		      const struct folder *f, size_t k, size_t *last,
		      struct vc_store_item *items, struct vc_buf *ct,
		      struct vc_err *e)
{
	size_t j = folder_find(f, k, last, path), lo = 0, hi = n, mid;
	struct by_path key = { j < k ? path + f[j].len : "", 0, j };
	int rc = 0;

	if (j == k)
		return 0;       /* not asked for */
	while (lo < hi) {       /* the first entry not below path */
		mid = lo + (hi - lo) / 2;
		if (by_path_cmp(&sorted[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; rc == 0 && lo < n && !by_path_cmp(&sorted[lo], &key); lo++)
		rc = item_fill(s, st, r, ct, &items[sorted[lo].i], e);
	return rc;
}

/* The statement over k folders, their bounds bound in par. */
static int folders_sql(struct vc_buf *sql, struct folder *f, size_t k,
		       const struct vc_store_item *items, MYSQL_BIND *par)
{
	int rc = vc_buf_addstr(sql, "SELECT k.path, v.version, v.nonce,"
		" v.ciphertext, v.deleted_at IS NOT NULL, v.destroyed, v.key_id"
		" FROM vc_value_keys k JOIN vc_values v ON v.path = k.path"
		" AND v.version = k.current_version WHERE ");

	for (size_t j = 0; rc == 0 && j < k; j++) {
		f[j].lo = strndup(items[f[j].i0].path, f[j].len);
		f[j].hi = f[j].lo ? strdup(f[j].lo) : NULL;
		if (!f[j].hi)
			return -1;
		f[j].hi[f[j].len - 1] = '/' + 1; /* past every "folder/..." */
		bind_path(&par[2 * j], f[j].lo);
		bind_path(&par[2 * j + 1], f[j].hi);
		rc = vc_buf_addstr(sql, j ? " OR (k.path >= ? AND k.path < ?)" :
				   "(k.path >= ? AND k.path < ?)");
	}
	return rc;
}

/* The items of the k folders, by path. */
static struct by_path *folders_sorted(struct vc_store_item *items,
				      const struct folder *f, size_t k,
				      size_t *n)
{
	struct by_path *v;

	*n = 0;
	for (size_t j = 0; j < k; j++)
		*n += f[j].n;
	v = calloc(*n + 1, sizeof(*v));
	*n = 0;
	for (size_t j = 0; v && j < k; j++)
		for (size_t i = f[j].i0; i < f[j].i0 + f[j].n; i++) {
			item_start(&items[i]);
			v[(*n)++] = (struct by_path){ items[i].path + f[j].len,
						      i, j };
		}
	if (v)
		qsort(v, *n, sizeof(*v), by_path_cmp);
	return v;
}

static int folders_run(struct local *s, struct vc_store_item *items,
		       struct folder *f, size_t k, struct vc_err *e)
{
	char path[PATH_MAX_BYTES + 1];
	unsigned long path_len = 0;
	struct vc_buf ct = VC_BUF_INIT, sql = VC_BUF_INIT;
	struct batch_row r;
	MYSQL_BIND par[2 * FOLDERS_MAX];
	MYSQL_STMT *st = NULL;
	size_t n, last = 0;
	struct by_path *sorted = folders_sorted(items, f, k, &n);
	int rc = sorted && folders_sql(&sql, f, k, items, par) == 0 ? 0 :
		 oom(e);

	if (rc == 0) {
		memset(&r, 0, sizeof(r));
		batch_row_bind(&r);
		bind_bytes(&r.res[0], path, sizeof(path) - 1, &path_len);
		rc = stmt_run(s, sql.data, par, r.res, &st, e);
	}
	while (rc == 0 && (rc = stmt_next(s, st, e)) == 1) {
		rc = 0;
		if (path_len >= sizeof(path))
			continue;       /* longer than any path we write */
		path[path_len] = '\0';
		rc = folder_row(s, st, &r, path, sorted, n, f, k, &last,
				items, &ct, e);
	}
	if (st)
		mysql_stmt_close(st);
	for (size_t j = 0; j < k; j++) {
		free(f[j].lo);
		free(f[j].hi);
	}
	vc_buf_release(&ct);
	vc_buf_release(&sql);
	free(sorted);
	return rc < 0 ? rc : 0;
}

/* items[i0 .. i1), by path, BATCH_MAX a statement. */
static int span_run(struct local *s, struct vc_store_item *items, size_t i0,
		    size_t i1, struct vc_err *e)
{
	int rc = 0;

	for (size_t i = i0; i < i1 && rc == 0; i += BATCH_MAX)
		rc = batch_run(s, items + i, i1 - i < BATCH_MAX ? i1 - i :
			       BATCH_MAX, e);
	return rc;
}

/* Whether the folder of items[i] (len bytes) is one of f[0 .. k). */
static int folder_taken(const struct vc_store_item *items,
			const struct folder *f, size_t k, size_t i, size_t len)
{
	for (size_t x = 0; x < k; x++)
		if (f[x].len == len &&
		    !strncmp(items[f[x].i0].path, items[i].path, len))
			return 1;
	return 0;
}

/* Runs of items that are whole folders go by range, up to FOLDERS_MAX a
 * statement (a folder asked twice, in the next one: a row is matched to
 * one folder); the items between them by path. */
static int local_get_many(struct vc_store *st, struct vc_store_item *items,
			  size_t n, int concurrency, struct vc_err *e)
{
	struct local *s = local_of(st);
	struct folder f[FOLDERS_MAX];
	size_t k = 0, span = 0, end;
	int rc = 0;

	(void)concurrency;   /* one statement at a time: nothing to overlap */
	for (size_t i = 0; rc == 0 && i < n; i = end) {
		size_t len;
		end = run_end(items, n, i);
		len = folder_of(items + i, end - i);
		if (!len)
			continue;       /* stays in the span by path */
		rc = span_run(s, items, span, i, e);
		span = end;
		if (rc == 0 && folder_taken(items, f, k, i, len)) {
			rc = folders_run(s, items, f, k, e);
			k = 0;
		}
		f[k++] = (struct folder){ i, end - i, len, NULL, NULL };
		if (rc == 0 && k == FOLDERS_MAX) {
			rc = folders_run(s, items, f, k, e);
			k = 0;
		}
	}
	if (rc == 0)
		rc = span_run(s, items, span, n, e);
	if (rc == 0 && k)
		rc = folders_run(s, items, f, k, e);
	return rc;
}

static int local_get(struct vc_store *st, const char *path, int version,
		     struct vc_buf *out, struct vc_store_got *got,
		     struct vc_err *e)
{
	struct vc_store_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	it.path = path;
	it.version = version;
	it.value = *out;     /* decrypt straight into the caller's buffer */
	rc = batch_run(local_of(st), &it, 1, e);
	*out = it.value;
	if (got)
		*got = it.got;
	if (rc == 0 && it.rc < 0) {
		rc = it.rc;
		if (e)
			*e = it.err;
	}
	return rc;
}

/* ---- meta ---- */

struct meta_row {
	int current, oldest, destroyed;
	struct vc_store_version v;
	long long created, deleted;
	my_bool no_version;
	MYSQL_BIND res[6];
};

static void meta_row_bind(struct meta_row *r)
{
	bind_int(&r->res[0], &r->current, NULL);
	bind_int(&r->res[1], &r->oldest, NULL);
	bind_int(&r->res[2], &r->v.version, &r->no_version);
	bind_i64(&r->res[3], &r->created);
	bind_i64(&r->res[4], &r->deleted);
	bind_int(&r->res[5], &r->destroyed, NULL);
}

static int meta_rows(struct local *s, MYSQL_STMT *st, struct meta_row *r,
		     struct vc_store_meta *out, struct vc_err *e)
{
	size_t cap = (size_t)mysql_stmt_num_rows(st);
	int rc;

	out->versions = calloc(cap ? cap : 1, sizeof(*out->versions));
	if (!out->versions)
		return oom(e);
	while ((rc = stmt_next(s, st, e)) == 1) {
		out->current_version = r->current;
		out->oldest_version = r->oldest;
		if (r->no_version || out->nversions == cap)
			continue;
		r->v.created = r->created;
		r->v.deleted = r->deleted;
		r->v.destroyed = r->destroyed;
		out->versions[out->nversions++] = r->v;
	}
	if (rc == 0 && out->current_version == 0)
		rc = vc_err_set(e, VC_ENOTFOUND, "not found");
	return rc;
}

static int local_meta(struct vc_store *st, const char *path,
		      struct vc_store_meta *out, struct vc_err *e)
{
	/* Timestamps are stored in UTC; TIMESTAMPDIFF keeps the session's
	 * time zone out of the conversion to unix seconds. */
	static const char sql[] =
		"SELECT k.current_version, k.oldest_version, v.version,"
		" TIMESTAMPDIFF(SECOND, '1970-01-01', v.created_at),"
		" IFNULL(TIMESTAMPDIFF(SECOND, '1970-01-01', v.deleted_at), 0),"
		" IFNULL(v.destroyed, 0)"
		" FROM vc_value_keys k LEFT JOIN vc_values v ON v.path = k.path"
		" WHERE k.path = ? ORDER BY v.version";
	struct local *s = local_of(st);
	struct meta_row r;
	MYSQL_BIND par[1];
	MYSQL_STMT *stmt;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	meta_row_bind(&r);
	bind_path(&par[0], path);
	rc = stmt_run(s, sql, par, r.res, &stmt, e);
	if (rc < 0)
		return rc;
	rc = mysql_stmt_store_result(stmt) ? stmt_fail(s, stmt, e)
					   : meta_rows(s, stmt, &r, out, e);
	mysql_stmt_close(stmt);
	if (rc < 0)
		vc_store_meta_release(out);
	return rc;
}

/* ---- delete, undelete, destroy, delete_all ---- */

/* Runs head + "(?, ?, ...)" over the given versions of path, in one
 * transaction.  Versions that do not exist are skipped, as Vault does. */
static int versions_mark(struct local *s, const char *head, const char *path,
			 const int *versions, size_t n, struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	MYSQL_BIND *par = calloc(n + 1, sizeof(*par));
	const char *stmt[1];
	struct script sc = { stmt, 1, par };
	int rc = par && vc_buf_addstr(&sql, head) == 0 ? 0 : oom(e);

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = vc_buf_addstr(&sql, i ? ", ?" : " (?") < 0 ? oom(e) : 0;
		bind_int(&par[i + 1], &versions[i], NULL);
	}
	if (rc == 0 && vc_buf_addch(&sql, ')') < 0)
		rc = oom(e);
	if (rc == 0) {
		bind_path(&par[0], path);
		stmt[0] = sql.data;
		rc = tx_run(s, script_tx, &sc, e);
	}
	free(par);
	vc_buf_release(&sql);
	return rc;
}

static int no_versions(struct vc_err *e)
{
	return vc_err_set(e, VC_EUSAGE, "no version number provided");
}

static int local_del(struct vc_store *st, const char *path,
		     const int *versions, size_t n, struct vc_err *e)
{
	/* DELETE <mount>/data/<path>: the current version, if still live. */
	static const char *const latest[] = {
		"UPDATE vc_values v JOIN vc_value_keys k ON k.path = v.path"
		" AND k.current_version = v.version"
		" SET v.deleted_at = UTC_TIMESTAMP(6)"
		" WHERE v.path = ? AND v.deleted_at IS NULL AND v.destroyed = 0"
	};
	MYSQL_BIND par[1];
	struct script sc = { latest, 1, par };

	if (n > 0)
		return versions_mark(local_of(st),
			"UPDATE vc_values SET deleted_at = UTC_TIMESTAMP(6)"
			" WHERE path = ? AND deleted_at IS NULL"
			" AND destroyed = 0 AND version IN", path, versions, n, e);
	bind_path(&par[0], path);
	return tx_run(local_of(st), script_tx, &sc, e);
}

static int local_undelete(struct vc_store *st, const char *path,
			  const int *versions, size_t n, struct vc_err *e)
{
	if (n == 0)
		return no_versions(e);
	return versions_mark(local_of(st),
		"UPDATE vc_values SET deleted_at = NULL"
		" WHERE path = ? AND destroyed = 0 AND version IN",
		path, versions, n, e);
}

static int local_destroy(struct vc_store *st, const char *path,
			 const int *versions, size_t n, struct vc_err *e)
{
	/* The row stays, for the metadata; the sealed bytes go. */
	if (n == 0)
		return no_versions(e);
	return versions_mark(local_of(st),
		"UPDATE vc_values SET ciphertext = '', destroyed = 1"
		" WHERE path = ? AND destroyed = 0 AND version IN",
		path, versions, n, e);
}

static int local_delete_all(struct vc_store *st, const char *path,
			    struct vc_err *e)
{
	/* Key row first, in the order put locks them. */
	static const char *const sql[] = {
		"DELETE FROM vc_value_keys WHERE path = ?",
		"DELETE FROM vc_values WHERE path = ?",
	};
	MYSQL_BIND par[1];
	struct script sc = { sql, 2, par };

	bind_path(&par[0], path);
	return tx_run(local_of(st), script_tx, &sc, e);
}

/* ---- max_versions ---- */

struct max_job {
	const char *path;
	int max, keep;
};

static int set_max_tx(struct local *s, void *ctx, struct vc_err *e)
{
	static const char upd[] =
		"UPDATE vc_value_keys SET max_versions = ?, oldest_version ="
		" GREATEST(oldest_version, current_version - ? + 1),"
		" updated_at = UTC_TIMESTAMP(6) WHERE path = ?";
	static const char del[] =
		"DELETE v FROM vc_values v JOIN vc_value_keys k"
		" ON k.path = v.path WHERE v.path = ?"
		" AND v.version < k.oldest_version";
	struct max_job *j = ctx;
	MYSQL_BIND par[3];
	int rc;

	bind_int(&par[0], &j->max, NULL);
	bind_int(&par[1], &j->keep, NULL);
	bind_path(&par[2], j->path);
	rc = stmt_run(s, upd, par, NULL, NULL, e);
	bind_path(&par[0], j->path);
	return rc < 0 ? rc : stmt_run(s, del, par, NULL, NULL, e);
}

/* As put keeps versions: oldest_version moves up, the rows below go.  A
 * key not written yet has no row: put makes it with max_versions 0, and
 * the next set_max before a write sets it. */
static int local_set_max(struct vc_store *st, const char *path, int max,
			 struct vc_err *e)
{
	struct max_job j = { path, max, max > 0 ? max : DEFAULT_MAX_VERSIONS };

	return tx_run(local_of(st), set_max_tx, &j, e);
}

/* ---- list ---- */

/* '!' rather than the default '\', whose meaning depends on the sql_mode
 * NO_BACKSLASH_ESCAPES; '%', '_' and '!' in the prefix match themselves. */
static int like_prefix(struct vc_buf *pat, const char *prefix)
{
	for (const char *p = prefix; *p; p++)
		if (((*p == '%' || *p == '_' || *p == '!') &&
		     vc_buf_addch(pat, '!') < 0) || vc_buf_addch(pat, *p) < 0)
			return VC_EFAIL;
	return vc_buf_addch(pat, '%');
}

static int list_rows(struct local *s, MYSQL_STMT *st, unsigned long *len,
		     char ***keys, size_t *n, struct vc_err *e)
{
	size_t cap = (size_t)mysql_stmt_num_rows(st);
	struct vc_buf b = VC_BUF_INIT;
	int rc = 0;

	*keys = calloc(cap ? cap : 1, sizeof(**keys));
	if (!*keys)
		return oom(e);
	while (*n < cap && (rc = stmt_next(s, st, e)) == 1) {
		rc = fetch_bytes(s, st, 0, *len, &b, e);
		if (rc < 0)
			return rc;
		(*keys)[(*n)++] = vc_buf_detach(&b, NULL);
		if (!(*keys)[*n - 1])
			return oom(e);
	}
	return rc < 0 ? rc : 0;
}

static int local_list(struct vc_store *st, const char *prefix, char ***keys,
		      size_t *n, struct vc_err *e)
{
	/* The next segment below prefix, with its '/' when it is a folder:
	 * byte positions, since path is binary. */
	static const char sql[] =
		"SELECT DISTINCT IF(LOCATE('/', r) > 0,"
		" CONCAT(SUBSTRING_INDEX(r, '/', 1), '/'), r) AS k"
		" FROM (SELECT SUBSTRING(path, ?) AS r FROM vc_value_keys"
		" WHERE path LIKE ? ESCAPE '!') t ORDER BY k";
	struct local *s = local_of(st);
	struct vc_buf pat = VC_BUF_INIT;
	int from = (int)strlen(prefix) + 1, rc;
	unsigned long len = 0;
	MYSQL_BIND par[2], res[1];
	MYSQL_STMT *stmt;

	*keys = NULL;
	*n = 0;
	if (like_prefix(&pat, prefix) < 0) {
		vc_buf_release(&pat);
		return oom(e);
	}
	bind_int(&par[0], &from, NULL);
	bind_bytes(&par[1], pat.data, pat.len, NULL);
	bind_bytes(&res[0], NULL, 0, &len);
	rc = stmt_run(s, sql, par, res, &stmt, e);
	vc_buf_release(&pat);
	if (rc < 0)
		return rc;
	rc = mysql_stmt_store_result(stmt) ? stmt_fail(s, stmt, e)
					   : list_rows(s, stmt, &len, keys, n, e);
	mysql_stmt_close(stmt);
	if (rc < 0) {
		vc_store_list_free(*keys, *n);
		*keys = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- open, close ---- */

static void local_close(struct vc_store *st)
{
	struct local *s = local_of(st);

	free(s->key_file);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

static const struct vc_store_ops local_ops = {
	.name = "local",
	.put = local_put,
	.get = local_get,
	.meta = local_meta,
	.del = local_del,
	.undelete = local_undelete,
	.destroy = local_destroy,
	.delete_all = local_delete_all,
	.set_max = local_set_max,
	.list = local_list,
	.get_many = local_get_many,
	.put_many = local_put_many,
	.close = local_close,
};

static int local_new(struct local **out, MYSQL *conn, struct vc_err *e)
{
	*out = NULL;
	if (!conn)
		return vc_err_set(e, VC_EUSAGE, "local store: no connection");
	if (sodium_init() < 0)
		return vc_err_set(e, VC_EFAIL, "cannot initialise libsodium");
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return oom(e);
	(*out)->base.ops = &local_ops;
	(*out)->conn = conn;
	return 0;
}

int vc_local_open(struct vc_store **out, MYSQL *conn,
		  const unsigned char key[VC_LOCAL_KEY_BYTES], struct vc_err *e)
{
	struct local *s;
	int rc;

	*out = NULL;
	if (!key)
		return vc_err_set(e, VC_EUSAGE, "local store: no key");
	rc = local_new(&s, conn, e);
	if (rc < 0)
		return rc;
	memcpy(s->keys.key[VC_LOCAL_CUR], key, VC_LOCAL_KEY_BYTES);
	vc_local_key_id(key, s->keys.id[VC_LOCAL_CUR]);
	s->keys.have[VC_LOCAL_CUR] = 1;
	*out = &s->base;
	return 0;
}

int vc_local_open_file(struct vc_store **out, MYSQL *conn, const char *path,
		       struct vc_err *e)
{
	struct local *s;
	int rc;

	*out = NULL;
	rc = local_new(&s, conn, e);
	if (rc == 0 && !(s->key_file = strdup(path)))
		rc = oom(e);
	if (rc == 0)
		rc = vc_local_keys_load(path, &s->keys, e);
	if (rc < 0) {
		if (s)
			local_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* ---- re-sealing (rekey) ---- */

struct reseal_row {
	char path[PATH_MAX_BYTES + 1];
	int version, destroyed;
	my_bool no_key_id;
	unsigned char nonce[NONCE_BYTES];
	unsigned char key_id[VC_LOCAL_KEY_ID_BYTES];
	unsigned long path_len, nonce_len, ct_len, key_id_len;
	MYSQL_BIND res[6];
};

struct reseal_job {
	int batch, all, slot;
	long long done;
	struct vc_buf old, plain, sealed;   /* plain is secret */
};

static void reseal_row_bind(struct reseal_row *r)
{
	memset(r, 0, sizeof(*r));
	bind_bytes(&r->res[0], r->path, PATH_MAX_BYTES, &r->path_len);
	bind_int(&r->res[1], &r->version, NULL);
	bind_bytes(&r->res[2], r->nonce, sizeof(r->nonce), &r->nonce_len);
	bind_bytes(&r->res[3], NULL, 0, &r->ct_len);
	bind_key_id(&r->res[4], r->key_id, &r->key_id_len, &r->no_key_id);
	bind_int(&r->res[5], &r->destroyed, NULL);
}

/* A destroyed version has no bytes to seal: only its key id changes, so
 * that every row names the new key once the rekey is done. */
static int reseal_write(struct local *s, const struct reseal_row *r,
			int slot, const unsigned char *nonce,
			const struct vc_buf *ct, struct vc_err *e)
{
	static const char sealed[] = "UPDATE vc_values SET nonce = ?,"
		" ciphertext = ?, key_id = ? WHERE path = ? AND version = ?";
	static const char bare[] = "UPDATE vc_values SET key_id = ?"
		" WHERE path = ? AND version = ?";
	MYSQL_BIND par[5], *p = par;

	if (ct) {
		bind_bytes(p++, nonce, NONCE_BYTES, NULL);
		bind_bytes(p++, ct->data, ct->len, NULL);
	}
	bind_bytes(p++, s->keys.id[slot], VC_LOCAL_KEY_ID_BYTES, NULL);
	bind_bytes(p++, r->path, r->path_len, NULL);
	bind_int(p, &r->version, NULL);
	return stmt_run(s, ct ? sealed : bare, par, NULL, NULL, e);
}

static int reseal_one(struct local *s, MYSQL_STMT *st, struct reseal_row *r,
		      struct reseal_job *j, struct vc_err *e)
{
	unsigned char nonce[NONCE_BYTES];
	int rc;

	if (r->path_len > PATH_MAX_BYTES)
		return vc_err_set(e, VC_EINCONSIST, "a value's path is longer"
				  " than %d bytes", PATH_MAX_BYTES);
	r->path[r->path_len] = '\0';
	if (r->destroyed)
		return reseal_write(s, r, j->slot, NULL, NULL, e);
	if (r->nonce_len != NONCE_BYTES ||
	    (!r->no_key_id && r->key_id_len != VC_LOCAL_KEY_ID_BYTES))
		return vc_err_set(e, VC_EINCONSIST, "value at '%s' version %d"
				  " has a malformed nonce or key id", r->path,
				  r->version);
	rc = fetch_bytes(s, st, 3, r->ct_len, &j->old, e);
	if (rc == 0)
		rc = unseal(s, r->path, r->version,
			    r->no_key_id ? NULL : r->key_id, r->nonce, &j->old,
			    &j->plain, e);
	vc_buf_reset(&j->sealed);
	if (rc == 0 && vc_buf_grow(&j->sealed, j->plain.len + TAG_BYTES) < 0)
		rc = oom(e);
	if (rc == 0)
		rc = seal(s, j->slot, r->path, r->version,
			  (unsigned char *)j->plain.data, j->plain.len, nonce,
			  (unsigned char *)j->sealed.data, e);
	j->sealed.len = j->plain.len + TAG_BYTES;
	vc_buf_reset(&j->plain);
	return rc < 0 ? rc : reseal_write(s, r, j->slot, nonce, &j->sealed, e);
}

/* Re-seals up to j->batch rows not under the sealing key; returns how
 * many, or a VC_E* code.  The rows are locked until the commit. */
static int reseal_batch(struct local *s, struct reseal_job *j,
			struct vc_err *e)
{
	static const char sql[] = "SELECT path, version, nonce, ciphertext,"
		" key_id, destroyed FROM vc_values"
		" WHERE key_id IS NULL OR key_id <> ? LIMIT ? FOR UPDATE";
	struct reseal_row r;
	MYSQL_BIND par[2];
	MYSQL_STMT *st;
	int rc, n = 0;

	reseal_row_bind(&r);
	bind_bytes(&par[0], s->keys.id[j->slot], VC_LOCAL_KEY_ID_BYTES, NULL);
	bind_int(&par[1], &j->batch, NULL);
	rc = stmt_run(s, sql, par, r.res, &st, e);
	if (rc < 0)
		return rc;
	/* Buffered, so that the UPDATEs can run while the rows are read. */
	if (mysql_stmt_store_result(st))
		rc = stmt_fail(s, st, e);
	while (rc == 0 && (rc = stmt_next(s, st, e)) == 1) {
		rc = reseal_one(s, st, &r, j, e);
		n++;
	}
	mysql_stmt_close(st);
	return rc < 0 ? rc : n;
}

static int reseal_tx(struct local *s, void *ctx, struct vc_err *e)
{
	/* Every key row: a writer holds its own from before it reads the key
	 * files until its commit (put_tx). */
	static const char lock_all[] =
		"SELECT COUNT(*) FROM vc_value_keys FOR UPDATE";
	struct reseal_job *j = ctx;
	int n, rc = 0;

	j->done = 0;
	if (j->all)
		rc = stmt_run(s, lock_all, NULL, NULL, NULL, e);
	do {
		n = rc < 0 ? rc : reseal_batch(s, j, e);
		if (n > 0)
			j->done += n;
	} while (j->all && n == j->batch);
	return n < 0 ? n : 0;
}

int vc_local_reseal(struct vc_store *st, int batch, int all, long long *done,
		    struct vc_err *e)
{
	struct local *s = local_of(st);
	struct reseal_job j = { batch, all, 0, 0, VC_BUF_INIT, VC_BUF_INIT,
				VC_BUF_INIT };
	int rc;

	*done = 0;
	if (st->ops != &local_ops || batch < 1)
		return vc_err_set(e, VC_EUSAGE, "re-sealing is for the local"
				  " store, in batches of at least one value");
	rc = keys_fresh(s, e);
	if (rc < 0)
		return rc;
	j.slot = vc_local_keys_sealer(&s->keys);
	j.plain.secret = 1;
	/* READ COMMITTED: a batch locks the rows it re-seals and no gaps
	 * between them, so that writers of new versions never wait for it. */
	if (mysql_query(s->conn, "SET SESSION TRANSACTION ISOLATION LEVEL"
			" READ COMMITTED"))
		rc = conn_fail(s, e);
	if (rc == 0)
		rc = tx_run(s, reseal_tx, &j, e);
	mysql_query(s->conn, "SET SESSION TRANSACTION ISOLATION LEVEL"
		    " REPEATABLE READ");
	*done = j.done;
	vc_buf_release(&j.old);
	vc_buf_release(&j.plain);
	vc_buf_release(&j.sealed);
	return rc;
}
