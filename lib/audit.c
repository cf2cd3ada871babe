/* audit.c - hash-chained audit rows.
 *
 * Each organization's rows form a chain: row_hash = BLAKE2b(prev_hash ||
 * fields), keyed when the configuration names an audit key.  The head of
 * each chain lives in audit_chain_heads; writing that row in the same
 * transaction serialises writers of one chain (on Galera too, where only a
 * written row conflicts across nodes), so the chain never forks.
 */
#include "audit.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

/* The hashed bytes go through a buffer: one generichash update per row
 * instead of two per field (an export hashes a row per secret). */
struct hbuf {
	crypto_generichash_state st;
	size_t n;
	unsigned char b[512];
};

static void h_add(struct hbuf *h, const void *p, size_t len)
{
	if (h->n + len > sizeof(h->b)) {
		crypto_generichash_update(&h->st, h->b, h->n);
		h->n = 0;
	}
	if (len > sizeof(h->b)) {
		crypto_generichash_update(&h->st, p, len);
		return;
	}
	memcpy(h->b + h->n, p, len);
	h->n += len;
}

static void put_field(struct hbuf *h, const char *f)
{
	unsigned char len[8];
	uint64_t n = f ? strlen(f) : UINT64_MAX;  /* NULL differs from "" */

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	h_add(h, len, sizeof(len));
	if (f)
		h_add(h, f, (size_t)n);
}

void vc_audit_hash(unsigned char out[32], const unsigned char prev[32],
		   const char *const fields[10], const unsigned char *key)
{
	struct hbuf h;

	h.n = 0;
	crypto_generichash_init(&h.st, key, key ? 32 : 0, 32);
	h_add(&h, prev, 32);
	for (int i = 0; i < 10; i++)
		put_field(&h, fields[i]);
	crypto_generichash_update(&h.st, h.b, h.n);
	crypto_generichash_final(&h.st, out, 32);
}

int vc_audit_key(struct vc_session *s, unsigned char key[32], int *have,
		 struct vc_err *e)
{
	const char *path = s->conf.audit_key_file;
	ssize_t n;
	int fd, rc;

	*have = 0;
	if (!path || !*path)
		return 0;
	rc = vc_conf_check_private(path, "audit key file", e);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vc_err_set(e, VC_EFAIL, "cannot read audit key file '%s'",
				  path);
	n = read(fd, key, 32);
	close(fd);
	if (n != 32)
		return vc_err_set(e, VC_EUSAGE, "audit key file '%s' must hold "
				  "32 bytes", path);
	*have = 1;
	return 0;
}

static void utc_now(char out[20])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

static const unsigned char zero_hash[32];

static int read_head(struct vc_db *db, const char *chain,
		     unsigned char prev[32], int *found, struct vc_err *e)
{
	struct vc_res *r;
	const char *h;
	size_t len;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT last_hash FROM audit_chain_heads "
			 "WHERE chain = ? FOR UPDATE", "s", chain);
	if (rc < 0)
		return rc;
	*found = vc_res_rows(r) > 0;
	h = vc_res_get(r, 0, 0, &len);
	if (*found && (!h || len != 32))
		rc = vc_err_set(e, VC_EFAIL, "audit chain head is damaged");
	else if (*found)
		memcpy(prev, h, 32);
	vc_res_free(r);
	return rc;
}

/* Locks the chain head and returns its hash in prev.  The head row is
 * created on a chain's first write only: one round trip saved per audit
 * write after that. */
static int lock_head(struct vc_db *db, const char *chain,
		     unsigned char prev[32], struct vc_err *e)
{
	int found = 0, rc = read_head(db, chain, prev, &found, e);

	if (rc < 0 || found)
		return rc;
	rc = vc_db_exec(db, NULL, e, "INSERT IGNORE INTO audit_chain_heads "
			"(chain, last_seq, last_hash, updated_at) VALUES "
			"(?, 0, ?, UTC_TIMESTAMP())", "sb", chain, zero_hash,
			(size_t)32);
	if (rc == 0)
		rc = read_head(db, chain, prev, &found, e);
	if (rc == 0 && !found)
		rc = vc_err_set(e, VC_EFAIL, "audit chain head missing");
	return rc;
}

#define AUDIT_COLS 12

struct row {
	const char *id;
	unsigned char prev[32], hash[32];
};

static int insert_rows(struct vc_session *s, struct vc_db *db,
		       const struct vc_audit_ev *ev, size_t n,
		       const char *ts, struct row *rows, struct vc_err *e)
{
	struct vc_param *p = calloc(n * AUDIT_COLS, sizeof(*p));
	const char *user = s->have_user ? s->user.id : NULL;
	const char *ip = s->ip[0] ? s->ip : NULL;
	int rc;

	if (!p)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *v[10] = { rows[i].id, user, ev[i].org_id,
				      ev[i].action, ev[i].rtype, ev[i].rid, ts,
				      ip, s->user_agent, ev[i].details };
		struct vc_param *q = p + i * AUDIT_COLS;
		for (int k = 0; k < 10; k++) {
			q[k].type = 's';
			q[k].p = v[k];
			q[k].len = v[k] ? strlen(v[k]) : 0;
		}
		q[10] = (struct vc_param){ 'b', rows[i].prev, 32, 0 };
		q[11] = (struct vc_param){ 'b', rows[i].hash, 32, 0 };
	}
	rc = vc_db_insert_rows(db, e, "INSERT INTO audit_logs (id, user_id, "
			       "organization_id, action, resource_type, "
			       "resource_id, timestamp, ip_address, user_agent, "
			       "details, prev_hash, row_hash) VALUES ",
			       "(?,?,?,?,?,?,?,?,?,?,?,?)", p, AUDIT_COLS, n);
	free(p);
	return rc;
}

static void chain_rows(struct vc_session *s, const struct vc_audit_ev *ev,
		       size_t n, const char *ts, const unsigned char *key,
		       const unsigned char head[32], struct row *rows)
{
	const char *user = s->have_user ? s->user.id : NULL;
	const char *ip = s->ip[0] ? s->ip : NULL;

	for (size_t i = 0; i < n; i++) {
		const char *v[10];
		memcpy(rows[i].prev, i ? rows[i - 1].hash : head, 32);
		v[0] = rows[i].id; v[1] = user; v[2] = ev[i].org_id;
		v[3] = ev[i].action; v[4] = ev[i].rtype; v[5] = ev[i].rid;
		v[6] = ts; v[7] = ip; v[8] = s->user_agent; v[9] = ev[i].details;
		vc_audit_hash(rows[i].hash, rows[i].prev, v, key);
	}
}

/* Counts API calls without a read-modify-write: one upsert. */
static int count_calls(struct vc_db *db, const char *org, size_t n,
		       struct vc_err *e)
{
	char id[37];

	vc_uuid(id);
	return vc_db_exec(db, NULL, e, "INSERT INTO usage_statistics (id, "
			  "organization_id, secret_count, api_calls, "
			  "last_updated) VALUES (?, ?, 0, ?, UTC_TIMESTAMP()) "
			  "ON DUPLICATE KEY UPDATE api_calls = api_calls + "
			  "VALUES(api_calls), last_updated = UTC_TIMESTAMP()",
			  "ssl", id, org, (long long)n);
}

int vc_audit_write(struct vc_session *s, struct vc_db *db,
		   const struct vc_audit_ev *ev, size_t n, struct vc_err *e)
{
	const char *chain = ev[0].org_id ? ev[0].org_id : "";
	unsigned char head[32], key[32];
	struct row *rows;
	char (*ids)[37], ts[20];
	int rc, have_key;

	if (n == 0)
		return 0;
	rc = vc_audit_key(s, key, &have_key, e);
	if (rc == 0)
		rc = lock_head(db, chain, head, e);
	if (rc < 0)
		return rc;
	rows = calloc(n, sizeof(*rows));
	ids = calloc(n, sizeof(*ids));
	if (!rows || !ids) {
		free(rows);
		free(ids);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	vc_uuids(ids, n);       /* one batch: in order, appended */
	for (size_t i = 0; i < n; i++)
		rows[i].id = ids[i];
	utc_now(ts);
	chain_rows(s, ev, n, ts, have_key ? key : NULL, head, rows);
	sodium_memzero(key, sizeof(key));
	rc = insert_rows(s, db, ev, n, ts, rows, e);
	if (rc == 0)
		/* LAST_INSERT_ID() is the first row of a multi-row insert,
		 * and Galera does not allocate seq consecutively. */
		rc = vc_db_exec(db, NULL, e, "UPDATE audit_chain_heads SET "
				"last_hash = ?, last_seq = (SELECT MAX(seq) FROM "
				"audit_logs WHERE organization_id <=> ?), "
				"updated_at = UTC_TIMESTAMP() WHERE chain = ?",
				"bss", rows[n - 1].hash, (size_t)32, ev[0].org_id,
				chain);
	if (rc == 0 && ev[0].org_id)
		rc = count_calls(db, ev[0].org_id, n, e);
	free(rows);
	free(ids);
	return rc;
}

int vc_audit_scope(struct vc_session *s, const char *org,
		   enum vc_audit_act act, struct vc_ref *ref,
		   const char **org_id, const char **member_id,
		   struct vc_err *e)
{
	static const struct {
		enum vc_role role;
		const char *what;
		int own;        /* without org, anyone sees their own */
	} rule[] = {
		[VC_AUDIT_LOG] = { VC_ROLE_ADMIN, "reading the audit log", 0 },
		[VC_AUDIT_VERIFY] = { VC_ROLE_ADMIN, "verifying the audit log",
				      0 },
		[VC_AUDIT_RECONCILE] = { VC_ROLE_ADMIN, "reconciling secrets",
					 0 },
		[VC_AUDIT_STATS] = { VC_ROLE_VIEWER, "reading usage statistics",
				     1 },
		[VC_AUDIT_RECOMPUTE] = { VC_ROLE_NONE, "recomputing usage "
					 "statistics", 0 },
	};

	if (member_id)
		*member_id = NULL;
	return vc_ref_scope(s, org, rule[act].role, rule[act].what, ref, org_id,
			    rule[act].own ? member_id : NULL, e);
}

int vc_audit_may_prune(const struct vc_session *s, struct vc_err *e)
{
	if (vc_session_is_admin(s))
		return 0;
	return vc_err_set(e, VC_EPERM, "permission denied: pruning the audit "
			  "log needs the global role admin");
}
