/* audit.c - hash-chained audit rows.
 *
 * Each organization's rows form a chain: row_hash = BLAKE2b(prev_hash ||
 * fields), keyed when the configuration names an audit key.  The head of
 * each chain lives in audit_chain_heads; writing that row in the same
 * transaction serialises writers of one chain (on Galera too, where only a
 * written row conflicts across nodes), so the chain never forks.
 *
 * Under a key the head carries a MAC, checked before the chain is
 * extended: a head someone moved without the key (rows cut, the head
 * wound back) would otherwise be extended and look right ever after.
 * Such a head, a head under another key (rekey) or none (a key enabled
 * on an old database) makes the write start a new epoch, whose first row
 * records why; verify reports the unauthenticated ones.
 */
#include "audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The hashed bytes go through a buffer: one generichash update per row
 * instead of two per field (an import hashes a row per secret). */
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

static void utc_now(char out[20])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

static const unsigned char zero_hash[32];

/* Why a write starts a new epoch (the epoch row's "reason"). */
static const char reason_enabled[] = "key enabled";
static const char reason_changed[] = "key changed";
static const char reason_unauth[] = "head not authenticated";

/* One chain while it is written: its head as locked and the key the
 * configuration names. */
struct chain {
	const char *org;                /* NULL: the global chain */
	const char *name;               /* audit_chain_heads.chain */
	unsigned char hash[32], id[8], mac[32];
	long long seq, epoch;
	int found, keyed, has_mac;
	int have_key;
	unsigned char key[32], key_id[8];
	const char *reason;             /* a new epoch starts, or NULL */
};

static int read_head(struct vc_db *db, struct chain *c, struct vc_err *e)
{
	struct vc_res *r;
	const char *h, *id, *mac;
	size_t len, il, ml;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT last_hash, last_seq, epoch, key_id, "
			 "head_mac FROM audit_chain_heads WHERE chain = ? FOR "
			 "UPDATE", "s", c->name);
	if (rc < 0)
		return rc;
	c->found = vc_res_rows(r) > 0;
	h = vc_res_get(r, 0, 0, &len);
	id = vc_res_get(r, 0, 3, &il);
	mac = vc_res_get(r, 0, 4, &ml);
	if (c->found && (!h || len != 32)) {
		rc = vc_err_set(e, VC_EFAIL, "audit chain head is damaged");
	} else if (c->found) {
		memcpy(c->hash, h, 32);
		c->seq = vc_res_int(r, 0, 1);
		c->epoch = vc_res_int(r, 0, 2);
		c->keyed = id && il == 8;
		if (c->keyed)
			memcpy(c->id, id, 8);
		c->has_mac = mac && ml == 32;
		if (c->has_mac)
			memcpy(c->mac, mac, 32);
	}
	vc_res_free(r);
	return rc;
}

/* A chain's first write creates its head, under the key if there is one:
 * a new chain starts keyed, in epoch 0, without an epoch row, from the
 * key's genesis hash for the chain. */
static int new_head(struct vc_db *db, struct chain *c, struct vc_err *e)
{
	unsigned char mac[32], start[32];

	memcpy(start, zero_hash, 32);
	if (c->have_key) {
		vc_audit_genesis(start, c->key, c->name);
		vc_audit_head_mac(mac, c->key, c->name, 0, start, 0, c->key_id);
	}
	return vc_db_exec(db, NULL, e, "INSERT IGNORE INTO audit_chain_heads "
			  "(chain, last_seq, last_hash, epoch, key_id, head_mac, "
			  "updated_at) VALUES (?, 0, ?, 0, ?, ?, UTC_TIMESTAMP())",
			  "sbbb", c->name, start, (size_t)32,
			  c->have_key ? c->key_id : NULL, (size_t)8,
			  c->have_key ? mac : NULL, (size_t)32);
}

/* Locks the chain head.  The head row is created on a chain's first
 * write only: one round trip saved per audit write after that. */
static int lock_head(struct vc_db *db, struct chain *c, struct vc_err *e)
{
	int rc = read_head(db, c, e);

	if (rc < 0 || c->found)
		return rc;
	rc = new_head(db, c, e);
	if (rc == 0)
		rc = read_head(db, c, e);
	if (rc == 0 && !c->found)
		rc = vc_err_set(e, VC_EFAIL, "audit chain head missing");
	return rc;
}

static int epoch_reason(struct chain *c, struct vc_err *e)
{
	unsigned char mac[32];

	c->reason = NULL;
	if (!c->have_key)
		return !c->keyed ? 0 : vc_err_set(e, VC_EFAIL, "the audit chain "
			"is keyed, and the configuration names no "
			"audit_key_file to extend it with");
	if (!c->keyed) {
		c->reason = c->epoch == 0 ? reason_enabled : reason_unauth;
		return 0;
	}
	if (memcmp(c->id, c->key_id, 8)) {
		c->reason = reason_changed;
		return 0;
	}
	vc_audit_head_mac(mac, c->key, c->name, c->seq, c->hash, c->epoch,
			  c->id);
	if (!c->has_mac || sodium_memcmp(mac, c->mac, 32))
		c->reason = reason_unauth;
	return 0;
}

static int open_chain(struct vc_session *s, struct vc_db *db,
		      const char *org, struct chain *c, struct vc_err *e)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->org = org;
	c->name = org ? org : "";
	rc = vc_audit_key(s, c->key, &c->have_key, e);
	if (rc == 0 && c->have_key)
		vc_audit_key_id(c->key_id, c->key);
	if (rc == 0)
		rc = lock_head(db, c, e);
	if (rc == 0)
		rc = epoch_reason(c, e);
	return rc;
}

#define AUDIT_COLS 12

struct row {
	const char *id;
	unsigned char prev[32], hash[32];
};

/* Up to this many rows a chain write takes their seqs back from the
 * INSERT itself (RETURNING): a run of three environments writes three,
 * and the query for them after was a round trip on the way of every
 * read.  More rows go in one bulk execute and are looked up after. */
#define RETURNING_MAX 64

/* The seqs of rows[0 .. n) from the RETURNING id, seq rows of r, by id
 * (the order of the rows returned is not promised). */
static int take_seqs(struct vc_res *r, const struct row *rows, size_t n,
		     long long *seq, struct vc_err *e)
{
	if (vc_res_rows(r) != n)
		return vc_err_set(e, VC_EFAIL, "audit rows just written are "
				  "missing");
	for (size_t i = 0; i < n; i++) {
		const char *id = vc_res_get(r, i, 0, NULL);
		size_t k = 0;

		while (k < n && (!id || strcmp(rows[k].id, id)))
			k++;
		if (k == n)
			return vc_err_set(e, VC_EFAIL, "audit row %s came back "
					  "from its insert unknown", id ? id :
					  "(null)");
		seq[k] = vc_res_int(r, i, 1);
	}
	return 0;
}

/* The n rows inserted; their seqs in seq (*have_seq) when the insert
 * can return them. */
static int insert_rows(struct vc_session *s, struct vc_db *db,
		       const struct vc_audit_ev *ev, size_t n,
		       const char *ts, struct row *rows, long long *seq,
		       int *have_seq, struct vc_err *e)
{
	static const char head[] = "INSERT INTO audit_logs (id, user_id, "
		"organization_id, action, resource_type, resource_id, "
		"timestamp, ip_address, user_agent, details, prev_hash, "
		"row_hash) VALUES ", one[] = "(?,?,?,?,?,?,?,?,?,?,?,?)";
	struct vc_param *p = calloc(n * AUDIT_COLS, sizeof(*p));
	const char *user = s->have_user ? s->user.id : NULL;
	const char *ip = s->ip[0] ? s->ip : NULL;
	struct vc_res *r = NULL;
	int rc;

	*have_seq = 0;
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
	/* One row's seq is the insert's id, which costs nothing. */
	if (n > 1 && n <= RETURNING_MAX && vc_db_has_returning(db)) {
		rc = vc_db_insert_returning(db, &r, e, head, one,
					    " RETURNING id, seq", p,
					    AUDIT_COLS, n);
		if (rc == 0)
			rc = take_seqs(r, rows, n, seq, e);
		*have_seq = rc == 0;
		vc_res_free(r);
	} else {
		rc = vc_db_insert_rows(db, e, head, one, p, AUDIT_COLS, n);
	}
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

/* The first row of a new epoch: which one, under which key, after which
 * key (null: the head named none) and why. */
static void epoch_event(const struct chain *c, struct vc_audit_ev *ev,
			char details[200])
{
	char id[17], prev[19] = "null";

	vc_audit_key_hex(id, c->key_id);
	if (c->keyed) {
		vc_audit_key_hex(prev + 1, c->id);
		prev[0] = prev[17] = '"';
		prev[18] = '\0';
	}
	snprintf(details, 200, "{\"epoch\":%lld,\"key_id\":\"%s\","
		 "\"previous_key_id\":%s,\"reason\":\"%s\"}", c->epoch + 1, id,
		 prev, c->reason);
	*ev = (struct vc_audit_ev){ c->org, "audit.epoch", "audit_chain",
				    c->name, details };
}

/* The chain's last row, found through ix_audit_logs_org_seq: the head's
 * MAC and a list's reads need its seq.  LAST_INSERT_ID() is the first row
 * of a multi-row insert, and Galera does not allocate seq consecutively.
 * The head is locked: no other writer of the chain is in between. */
static int last_seq(struct vc_db *db, const struct chain *c, long long *seq,
		    struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT MAX(seq) FROM audit_logs WHERE "
			     "organization_id <=> ?", "s", c->org);

	if (rc < 0)
		return rc;
	*seq = vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

static int update_head(struct vc_db *db, struct chain *c, long long seq,
		       const unsigned char hash[32], struct vc_err *e)
{
	unsigned char mac[32];
	long long epoch = c->epoch + (c->reason != NULL);

	if (!c->have_key)
		return vc_db_exec(db, NULL, e, "UPDATE audit_chain_heads SET "
				  "last_hash = ?, last_seq = ?, updated_at = "
				  "UTC_TIMESTAMP() WHERE chain = ?", "bls", hash,
				  (size_t)32, seq, c->name);
	vc_audit_head_mac(mac, c->key, c->name, seq, hash, epoch, c->key_id);
	return vc_db_exec(db, NULL, e, "UPDATE audit_chain_heads SET last_hash "
			  "= ?, last_seq = ?, epoch = ?, key_id = ?, head_mac = ?, "
			  "updated_at = UTC_TIMESTAMP() WHERE chain = ?", "bllbbs",
			  hash, (size_t)32, seq, epoch, c->key_id, (size_t)8, mac,
			  (size_t)32, c->name);
}

/* The reads rows list (vc_audit_reads_many): l[i] for the i-th row
 * written, NULL for a row that lists none; or no lists at all. */
struct lists {
	const struct vc_audit_list *const *l;
	size_t rows;            /* rows that list reads */
	size_t reads;           /* reads they list */
};

/* The seqs of the chain's last n rows, oldest first, through
 * ix_audit_logs_org_seq.  LAST_INSERT_ID() is the first row of a
 * multi-row insert, and Galera does not allocate seq consecutively; the
 * head is locked: the last rows of the chain are the ones just written. */
static int last_seqs(struct vc_db *db, const struct chain *c, long long *seq,
		     size_t n, struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT seq FROM audit_logs WHERE "
			     "organization_id <=> ? ORDER BY seq DESC LIMIT ?",
			     "sl", c->org, (long long)n);

	if (rc < 0)
		return rc;
	if (vc_res_rows(r) != n)
		rc = vc_err_set(e, VC_EFAIL, "audit rows just written are "
				"missing");
	for (size_t i = 0; rc == 0 && i < n; i++)
		seq[n - 1 - i] = vc_res_int(r, i, 0);
	vc_res_free(r);
	return rc;
}

/* The lists' reads, each under the seq of its row (seq[i]: the caller's
 * i-th row), in one insert. */
static int put_lists(struct vc_db *db, const struct lists *ls, size_t n,
		     const long long *seq, struct vc_err *e)
{
	const struct vc_audit_list **l = calloc(ls->rows + 1, sizeof(*l));
	long long *at = calloc(ls->rows + 1, sizeof(*at));
	size_t k = 0;
	int rc = l && at ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");

	for (size_t i = 0; rc == 0 && i < n && k < ls->rows; i++)
		if (ls->l[i]) {
			l[k] = ls->l[i];
			at[k++] = seq[i];
		}
	if (rc == 0)
		rc = vc_audit_reads_put(db, at, l, k, e);
	free(l);
	free(at);
	return rc;
}

/* After the rows (total, the caller's n after an epoch row when one
 * started; their seqs in seq when have_seq): the reads they list, the
 * head moved past them, the calls counted (each read listed one, as
 * when each had its own row). */
static int finish(struct vc_db *db, struct chain *c, size_t total, size_t n,
		  const unsigned char hash[32], const struct lists *ls,
		  long long *seq, int have_seq, struct vc_err *e)
{
	int listed = ls && ls->rows;
	/* One row (a get, a set): the insert's own id, no round trip. */
	long long one = total == 1 ? (long long)vc_db_insert_id(db) : 0;
	int rc = have_seq ? 0 :
		 one > 0 ? (seq[0] = one, 0) :
		 listed ? last_seqs(db, c, seq, total, e) :
		 last_seq(db, c, &seq[total - 1], e);

	if (rc == 0 && listed)
		rc = put_lists(db, ls, n, seq + (total - n), e);
	if (rc == 0)
		rc = update_head(db, c, seq[total - 1], hash, e);
	if (rc == 0 && c->org)
		rc = count_calls(db, c->org, listed ? total - ls->rows +
				 ls->reads : total, e);
	return rc;
}

/* Appends the rows (after an epoch row when one starts), the last one's
 * reads, and moves the head past them. */
static int append(struct vc_session *s, struct vc_db *db, struct chain *c,
		  const struct vc_audit_ev *ev, size_t n,
		  const struct lists *ls, struct vc_err *e)
{
	size_t first = c->reason != NULL, total = n + first;
	struct vc_audit_ev *all = calloc(total, sizeof(*all));
	struct row *rows = calloc(total, sizeof(*rows));
	char (*ids)[37] = calloc(total, sizeof(*ids));
	long long *seq = calloc(total + 1, sizeof(*seq));
	char ts[20], details[200];
	int rc = 0, have_seq = 0;

	if (!all || !rows || !ids || !seq)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0) {
		if (first)
			epoch_event(c, &all[0], details);
		if (n)
			memcpy(all + first, ev, n * sizeof(*ev));
		vc_uuids(ids, total);   /* one batch: in order, appended */
		for (size_t i = 0; i < total; i++)
			rows[i].id = ids[i];
		utc_now(ts);
		chain_rows(s, all, total, ts, c->have_key ? c->key : NULL,
			   c->hash, rows);
		rc = insert_rows(s, db, all, total, ts, rows, seq, &have_seq,
				 e);
	}
	if (rc == 0)
		rc = finish(db, c, total, n, rows[total - 1].hash, ls, seq,
			    have_seq, e);
	free(seq);
	free(all);
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

int vc_audit_may_prune(struct vc_session *s, struct vc_err *e)
{
	return vc_ref_need_admin(s, "pruning the audit log needs the global "
				 "role admin", e);
}

static int write_chain(struct vc_session *s, struct vc_db *db,
		       const struct vc_audit_ev *ev, size_t n,
		       const struct lists *ls, struct vc_err *e)
{
	struct chain c;
	int rc;

	rc = open_chain(s, db, ev[0].org_id, &c, e);
	if (rc == 0)
		rc = append(s, db, &c, ev, n, ls, e);
	sodium_memzero(c.key, sizeof(c.key));
	/* Counted with its rows: the command's call is not counted again. */
	if (rc == 0 && c.org && !strcmp(s->audit.calls_org, c.org))
		s->audit.calls_org[0] = '\0';
	return rc;
}

int vc_audit_write(struct vc_session *s, struct vc_db *db,
		   const struct vc_audit_ev *ev, size_t n, struct vc_err *e)
{
	return n ? write_chain(s, db, ev, n, NULL, e) : 0;
}

int vc_audit_reads(struct vc_session *s, struct vc_db *db, const char *org_id,
		   const char *env_id, const struct vc_audit_read *r, size_t n,
		   struct vc_err *e)
{
	struct vc_audit_list l = { org_id, env_id, r, n };

	return vc_audit_reads_many(s, db, &l, 1, e);
}

/* The row standing for list l: about its one secret, or about the
 * environment with the digest of its reads (then listing them). */
static int list_event(const struct vc_audit_list *l, struct vc_audit_ev *ev,
		      char details[128], const struct vc_audit_list **listed)
{
	*ev = (struct vc_audit_ev){ l->org_id, "secret.read", "environment",
				    l->env_id, details };
	*listed = NULL;
	if (l->n == 1) {
		snprintf(details, 128, "{\"version\":%d}", l->r->version);
		ev->rtype = "secret";
		ev->rid = l->r->secret_id;
		return 0;
	}
	*listed = l;
	return vc_audit_reads_details(l->r, l->n, details);
}

/* The lists of organization org (those with reads), in one chain write. */
static int reads_of_org(struct vc_session *s, struct vc_db *db,
			const struct vc_audit_list *l, size_t n,
			const char *org, struct vc_err *e)
{
	struct vc_audit_ev *ev = calloc(n, sizeof(*ev));
	char (*d)[128] = calloc(n, sizeof(*d));
	const struct vc_audit_list **lp = calloc(n, sizeof(*lp));
	struct lists ls = { lp, 0, 0 };
	size_t k = 0;
	int rc = ev && d && lp ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!l[i].n || strcmp(l[i].org_id, org))
			continue;
		if (list_event(&l[i], &ev[k], d[k], &lp[k]) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
		ls.rows += lp[k] != NULL;
		ls.reads += lp[k] ? l[i].n : 0;
		k++;
	}
	if (rc == 0 && k)
		rc = write_chain(s, db, ev, k, &ls, e);
	free(ev);
	free(d);
	free(lp);
	return rc;
}

static int by_org(const void *a, const void *b)
{
	return strcmp((*(const struct vc_audit_list *const *)a)->org_id,
		      (*(const struct vc_audit_list *const *)b)->org_id);
}

int vc_audit_reads_many(struct vc_session *s, struct vc_db *db,
			const struct vc_audit_list *l, size_t n,
			struct vc_err *e)
{
	const struct vc_audit_list **o = calloc(n + 1, sizeof(*o));
	int rc = o ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");

	for (size_t i = 0; o && i < n; i++)
		o[i] = &l[i];
	if (o)
		qsort(o, n, sizeof(*o), by_org);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (i == 0 || strcmp(o[i]->org_id, o[i - 1]->org_id))
			rc = reads_of_org(s, db, l, n, o[i]->org_id, e);
	free(o);
	return rc;
}

int vc_audit_epoch(struct vc_session *s, struct vc_db *db, const char *org_id,
		   const char *reason, int *moved, struct vc_err *e)
{
	struct chain c;
	int rc;

	*moved = 0;
	rc = open_chain(s, db, org_id, &c, e);
	if (rc == 0 && !c.have_key)
		rc = vc_err_set(e, VC_EUSAGE, "no audit_key_file in the "
				"configuration");
	if (rc == 0 && c.reason) {
		/* An unauthenticated head keeps its reason: it is evidence. */
		if (c.reason != reason_unauth)
			c.reason = reason;
		rc = append(s, db, &c, NULL, 0, NULL, e);
		*moved = rc == 0;
	}
	sodium_memzero(c.key, sizeof(c.key));
	return rc;
}
