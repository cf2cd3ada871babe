/* secret.c - the secret lifecycle.
 *
 * A write takes the organization's quota lock by writing its active
 * subscription row, locks the secret's metadata row, writes the value with
 * check-and-set on the metadata's version, then updates metadata, audit and
 * usage and commits.  Writing a row, not only SELECT ... FOR UPDATE, is
 * what serialises writers across Galera nodes (doc/architecture.md, section 4).
 * A writer that loses (a deadlock, a certification, the store's
 * check-and-set) is rolled back and tried again, unless it gave --cas.
 */
#include "secret.h"

#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "plan.h"
#include "store.h"
#include "valuemac.h"

struct meta {
	int exists, deleted, version;
	char id[37];
	char name[256];         /* as stored: names compare case-insensitively */
};

/* Fills m from a row of (id, version, deleted, name). */
static void meta_from(struct meta *m, struct vc_res *r)
{
	memset(m, 0, sizeof(*m));
	if (!vc_res_rows(r))
		return;
	m->exists = 1;
	snprintf(m->id, sizeof(m->id), "%s", vc_res_get(r, 0, 0, NULL));
	m->version = (int)vc_res_int(r, 0, 1);
	m->deleted = vc_res_int(r, 0, 2) != 0;
	snprintf(m->name, sizeof(m->name), "%s", vc_res_get(r, 0, 3, NULL));
}

static int lock_meta(struct vc_db *db, const struct vc_ref *ref,
		     struct meta *m, struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT id, version, deleted_at IS NOT NULL, "
			 "name FROM secret_metadata WHERE project_id = ? AND "
			 "environment = ? AND name = ? FOR UPDATE", "sss",
			 ref->project_id, ref->env_id, ref->name);
	if (rc < 0)
		return rc;
	meta_from(m, r);
	vc_res_free(r);
	return 0;
}

/* The quota lock (lib/plan.c).  Every write and restore takes it first,
 * so that all of them lock in one order (subscription, metadata row, audit
 * chain head, usage) and cannot deadlock one another. */
static int quota_lock(struct vc_db *db, const struct vc_ref *ref,
		      struct vc_err *e)
{
	return vc_plan_quota_lock(db, ref->org_id, e);
}

/* Under the quota lock: do need more live secrets fit?  The count is the
 * transaction's first consistent read, so its snapshot is taken after the
 * lock was granted and sees every create committed before. */
static int check_quota(struct vc_db *db, const struct vc_ref *ref, long need,
		       struct vc_err *e)
{
	struct vc_plan_usage u;

	return vc_plan_quota(db, ref, need, &u, e);
}

static int count_secrets(struct vc_db *db, const char *org, int delta,
			 struct vc_err *e)
{
	char id[37];

	vc_uuid(id);
	return vc_db_exec(db, NULL, e, "INSERT INTO usage_statistics (id, "
			  "organization_id, secret_count, api_calls, last_updated) "
			  "VALUES (?, ?, GREATEST(?, 0), 0, UTC_TIMESTAMP()) ON "
			  "DUPLICATE KEY UPDATE secret_count = GREATEST(CAST("
			  "secret_count AS SIGNED) + ?, 0), last_updated = "
			  "UTC_TIMESTAMP()", "ssii", id, org, delta, delta);
}

static int audit(struct vc_session *s, struct vc_db *db,
		 const struct vc_ref *ref, const char *action, const char *id,
		 const char *details, struct vc_err *e)
{
	struct vc_audit_ev ev = { ref->org_id, action, "secret", id, details };

	return vc_audit_write(s, db, &ev, 1, e);
}

/* The store's path uses the name as stored when the secret exists: the
 * metadata finds db_url for DB_URL, the store's keys are case-sensitive. */
static int path_of(const struct vc_ref *ref, const struct meta *m,
		   struct vc_buf *path, struct vc_err *e)
{
	if (vc_store_path(path, ref->org_id, ref->project_id, ref->env_id,
			  m->exists ? m->name : ref->name) < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	return 0;
}

/* Details of a write's audit row: the version, never the value.  Built
 * to its full length: an escaped reason is up to six times its bytes, and
 * a cut would leave JSON that JSON_VALUE and readers cannot parse. */
static int write_details(struct vc_buf *b, int version, int from,
			 const char *reason)
{
	int rc = vc_buf_printf(b, "{\"version\":%d", version);

	if (rc == 0 && from)
		rc = vc_buf_printf(b, ",\"from_version\":%d", from);
	if (rc == 0 && reason) {
		/* cJSON would do, but a reason is short text: escape by hand
		 * only what JSON requires. */
		rc = vc_buf_addstr(b, ",\"reason\":\"");
		for (const char *p = reason; rc == 0 && *p; p++) {
			if (*p == '"' || *p == '\\')
				rc = vc_buf_printf(b, "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				rc = vc_buf_printf(b, "\\u%04x", (unsigned char)*p);
			else
				rc = vc_buf_addch(b, *p);
		}
		if (rc == 0)
			rc = vc_buf_addch(b, '"');
	}
	if (rc == 0)
		rc = vc_buf_addch(b, '}');
	return rc;
}

struct wctx {
	struct vc_session *s;
	const struct vc_ref *ref;
	const struct vc_secret_write *w;
	int cas;                /* the caller's check-and-set, or < 0 */
	struct meta m;
	int version, created;
	int raced;              /* the store's check-and-set refused */
	int held;               /* SIGINT and SIGTERM deferred, old mask: */
	sigset_t mask;
};

/* From the store's write to the commit, SIGINT and SIGTERM wait: their
 * default action there would leave the store a version ahead of the
 * metadata, which only reconcile repairs.  A signal that came meanwhile
 * is delivered as soon as they are released. */
static void signals_hold(struct wctx *c)
{
	sigset_t s;

	if (c->held)
		return;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	c->held = pthread_sigmask(SIG_BLOCK, &s, &c->mask) == 0;
}

static void signals_release(struct wctx *c)
{
	if (c->held)
		pthread_sigmask(SIG_SETMASK, &c->mask, NULL);
	c->held = 0;
}

/* Second half of a write, after the store took the new version: it is
 * safe to repeat because the store's check-and-set already decided. */
static int finish_write(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct wctx *c = arg;
	const struct vc_ref *ref = c->ref;
	struct vc_buf details = VC_BUF_INIT;
	const char *action = c->w->action;
	char id[37], ver[16];
	unsigned char mac[32], key[8];
	int rc, have;

	if (!c->m.exists)
		vc_uuid(id);
	else
		snprintf(id, sizeof(id), "%s", c->m.id);
	/* The value's MAC in the same statement (valuemac.h); without an
	 * audit key the MAC columns go NULL: unknown. */
	vc_valuemac_of(c->s, &(struct vc_valuemac_item){ id, c->version,
		       c->w->val, c->w->len }, 1, &mac, key, &have);
	snprintf(ver, sizeof(ver), "%d", c->version);
	if (!c->m.exists)
		rc = vc_db_exec(db, NULL, e, "INSERT INTO secret_metadata (id, "
				"name, description, organization_id, project_id, "
				"environment, created_by, created_at, updated_at, "
				"version, value_mac, value_mac_version, "
				"value_mac_key) VALUES (?, ?, ?, ?, ?, ?, ?, "
				"UTC_TIMESTAMP(), UTC_TIMESTAMP(), ?, ?, ?, ?)",
				"sssssssibsb", id, ref->name, c->w->desc,
				ref->org_id, ref->project_id, ref->env_id,
				c->s->user.id, c->version, have ? mac : NULL,
				sizeof(mac), have ? ver : NULL,
				have ? key : NULL, sizeof(key));
	else
		rc = vc_db_exec(db, NULL, e, "UPDATE secret_metadata SET version "
				"= ?, description = COALESCE(?, description), "
				"deleted_at = NULL, updated_at = UTC_TIMESTAMP(), "
				"value_mac = ?, value_mac_version = ?, "
				"value_mac_key = ? WHERE id = ?", "isbsbs",
				c->version, c->w->desc, have ? mac : NULL,
				sizeof(mac), have ? ver : NULL,
				have ? key : NULL, sizeof(key), id);
	if (!action)
		action = c->m.exists && !c->m.deleted ? "secret.update" :
			 "secret.create";
	if (rc == 0 && write_details(&details, c->version, c->w->from_version,
				     c->w->reason) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = audit(c->s, db, ref, action, id, details.data, e);
	vc_buf_release(&details);
	/* After the audit row: usage is locked last, as by every reader. */
	if (rc == 0 && c->created)
		rc = count_secrets(db, ref->org_id, 1, e);
	return rc;
}

/* finish_write again after its commit was lost.  A create takes the quota
 * again: on Galera, a lost commit is how a concurrent create on another
 * node that won the quota shows itself. */
static int refinish_write(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct wctx *c = arg;
	int rc = 0;

	if (c->created) {
		rc = quota_lock(db, c->ref, e);
		if (rc == 0)
			rc = check_quota(db, c->ref, 1, e);
	}
	return rc < 0 ? rc : finish_write(db, arg, e);
}

/* A create that lost the quota after the store took its value: take the
 * value back.  A new key is removed whole (no metadata names it, and a
 * concurrent create of the same name lost the store's check-and-set); a
 * deleted secret keeps its versions and the metadata follows the store. */
static int undo_create(struct vc_db *db, struct wctx *c, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store *st;
	struct vc_err e2;
	char why[sizeof(e->msg)];
	int rc = vc_session_store(c->s, &st, &e2);

	snprintf(why, sizeof(why), "%s", e->msg);
	if (rc == 0)
		rc = path_of(c->ref, &c->m, &path, &e2);
	if (rc == 0 && !c->m.exists)
		rc = st->ops->delete_all(st, path.data, &e2);
	else if (rc == 0)
		rc = st->ops->destroy(st, path.data, &c->version, 1, &e2);
	if (rc == 0 && c->m.exists)
		rc = vc_db_exec(db, NULL, &e2, "UPDATE secret_metadata SET "
				"version = ? WHERE id = ?", "is", c->version,
				c->m.id);
	vc_buf_release(&path);
	if (rc < 0)
		return vc_err_set(e, VC_EQUOTA, "%s; and the value store kept "
				  "version %d (%s): 'vaultctl-audit reconcile "
				  "--fix' repairs it", why, c->version, e2.msg);
	return VC_EQUOTA;
}

int vc_secret_env_max(struct vc_db *db, const struct vc_ref *ref, int *max,
		      struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	*max = ref->max_versions;
	if (ref->max_known)     /* read with the reference (lib/ref.c) */
		return 0;
	rc = vc_db_query(db, &r, e, "SELECT max_versions FROM environments "
			 "WHERE id = ? AND max_versions IS NOT NULL", "s",
			 ref->env_id);
	*max = -1;
	if (rc < 0)
		return rc;
	if (vc_res_rows(r))
		*max = (int)vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

/* The environment's max_versions, given to the key before each write: the
 * store then keeps at most that many versions, dropping older ones in the
 * write itself. */
static int env_max_apply(struct vc_db *db, struct vc_store *st,
			 const struct vc_ref *ref, const char *path,
			 struct vc_err *e)
{
	int max, rc = vc_secret_env_max(db, ref, &max, e);

	return rc < 0 || max < 0 ? rc : st->ops->set_max(st, path, max, e);
}

/* --cas N: the version the caller last saw, compared with the metadata's
 * as the store compares it (a removed secret keeps its version). */
static int check_cas(const struct wctx *c, struct vc_err *e)
{
	int at = c->m.exists ? c->m.version : 0;

	if (c->cas < 0 || at == c->cas)
		return 0;
	if (!c->m.exists)
		return vc_err_set(e, VC_ECONFLICT, "--cas %d: the secret does "
				  "not exist; nothing was written", c->cas);
	return vc_err_set(e, VC_ECONFLICT, "--cas %d: the secret is at version "
			  "%d%s; nothing was written", c->cas, at,
			  c->m.deleted ? " (removed)" : "");
}

/* First half: locks, quota, and the store write with check-and-set. */
static int start_write(struct vc_db *db, struct wctx *c, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store *st;
	int rc;

	c->raced = 0;
	rc = quota_lock(db, c->ref, e);
	if (rc == 0)
		rc = lock_meta(db, c->ref, &c->m, e);
	if (rc == 0)
		rc = check_cas(c, e);
	c->created = !c->m.exists || c->m.deleted;
	if (rc == 0 && c->created)
		rc = check_quota(db, c->ref, 1, e);
	if (rc == 0)
		rc = vc_session_store(c->s, &st, e);
	if (rc == 0)
		rc = path_of(c->ref, &c->m, &path, e);
	if (rc == 0)
		rc = env_max_apply(db, st, c->ref, path.data, e);
	if (rc == 0)
		signals_hold(c);
	if (rc == 0) {
		rc = st->ops->put(st, path.data, c->w->val, c->w->len,
				  c->m.exists ? c->m.version : 0, &c->version, e);
		c->raced = rc == VC_ECONFLICT;
	}
	vc_buf_release(&path);
	return rc;
}

/* A write outlasts concurrent writers of its secret for this long. */
#define WRITE_DEADLINE_MS 10000
/* A writer stands between its store write and its commit for
 * milliseconds: a store at another version than the metadata that no one
 * moves for this long is drift (a commit lost after the store's write). */
#define DRIFT_STILL_MS 1000

/* What the conflicts of one write saw. */
struct race {
	int seen, meta, store, tries;
	long long start, since;         /* ms, monotonic */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Jittered, so that writers that collided do not collide again in step,
 * and short: a retry waits for one commit, not for a queue. */
static void write_pause(int tries)
{
	long ms = 2 + (long)randombytes_uniform(10 + 10 * (uint32_t)
						(tries < 8 ? tries : 8));
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The store's current version (0: no such key).  Its refusal of a
 * check-and-set does not say it: Vault answers 400 with a message only. */
static int store_at(struct wctx *c, int *version, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store_meta sm = { 0, 0, 0, NULL };
	struct vc_store *st;
	int rc = vc_session_store(c->s, &st, e);

	if (rc == 0)
		rc = path_of(c->ref, &c->m, &path, e);
	if (rc == 0)
		rc = st->ops->meta(st, path.data, &sm, e);
	*version = rc == 0 ? sm.current_version : 0;
	if (rc == VC_ENOTFOUND) {
		vc_err_clear(e);
		rc = 0;
	}
	vc_store_meta_release(&sm);
	vc_buf_release(&path);
	return rc;
}

/* After the store refused the check-and-set: another writer between its
 * store write and its commit (or past its commit: the metadata read was
 * older), whom the next try outlasts; or drift, when metadata and store
 * stay as they are. */
static int observe(struct wctx *c, struct race *r, struct vc_err *e)
{
	int meta = c->m.exists ? c->m.version : 0, store;
	long long now = now_ms();
	int rc = store_at(c, &store, e);

	if (rc < 0)
		return rc;
	if (!r->seen || meta != r->meta || store != r->store) {
		r->seen = 1;
		r->meta = meta;
		r->store = store;
		r->since = now;
		return 0;
	}
	if (store == meta || now - r->since < DRIFT_STILL_MS)
		return 0;
	return vc_err_set(e, VC_ECONFLICT, "the value store is at version %d, "
			  "not at version %d that the metadata records, and no "
			  "write of it is under way: drift, which 'vaultctl-audit "
			  "reconcile --fix' repairs", store, meta);
}

/* After a failed first half, rolled back: 0 to try again (after a
 * pause), or the error to report.  Lost are a deadlock, a Galera
 * certification failure (both 1213) or a lock wait (1205), and the
 * store's check-and-set; --cas and everything else are final. */
static int write_again(struct vc_db *db, struct wctx *c, struct race *r,
		       int rc, struct vc_err *e)
{
	unsigned no = vc_db_errno(db);

	if (c->raced)
		rc = observe(c, r, e);
	else if (no == 1213 || no == 1205)
		rc = 0;
	if (rc < 0)
		return rc;
	if (now_ms() - r->start >= WRITE_DEADLINE_MS)
		return vc_err_set(e, VC_ECONFLICT, "concurrent writers kept "
				  "changing it for %d s: nothing was written; "
				  "try again", WRITE_DEADLINE_MS / 1000);
	write_pause(++r->tries);
	return 0;
}

static int write_locked(struct wctx *c, int *version, int *created,
			struct vc_err *e);

int vc_secret_write_cas(struct vc_session *s, const struct vc_ref *ref,
			const struct vc_secret_write *w, int cas, int *version,
			int *created, struct vc_err *e)
{
	struct wctx c = { s, ref, w, cas, { 0, 0, 0, "", "" }, 0, 0, 0, 0,
			  { { 0 } } };
	int rc = write_locked(&c, version, created, e);

	signals_release(&c);
	return rc;
}

int vc_secret_write(struct vc_session *s, const struct vc_ref *ref,
		    const struct vc_secret_write *w, int *version,
		    int *created, struct vc_err *e)
{
	return vc_secret_write_cas(s, ref, w, -1, version, created, e);
}

static int write_locked(struct wctx *c, int *version, int *created,
			struct vc_err *e)
{
	struct vc_session *s = c->s;
	const struct vc_ref *ref = c->ref;
	const struct vc_secret_write *w = c->w;
	struct race r = { 0, 0, 0, 0, now_ms(), 0 };
	struct vc_store *st;
	struct vc_db *db;
	int rc;

	if (w->reason && strlen(w->reason) > VC_SECRET_REASON_MAX)
		return vc_err_set(e, VC_EUSAGE, "reason is longer than %d bytes",
				  VC_SECRET_REASON_MAX);
	rc = vc_secret_may(s, ref, VC_SECRET_WRITE, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	/* Before the quota lock: no Vault login (AppRole) or key file read
	 * while the organization's writers wait. */
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	/* The metadata's version decides the write: read it causally.  The
	 * local store's own read of its version need not be: a stale one
	 * fails its check-and-set or the cluster's certification, and the
	 * write is tried again. */
	if (rc == 0)
		rc = vc_db_causal(db, 0, e);
	while (rc == 0) {
		rc = vc_db_begin(db, e);
		if (rc == 0)
			rc = start_write(db, c, e);
		if (rc == 0)
			break;
		vc_db_rollback(db);
		/* Nothing written: an interrupt may end the wait. */
		signals_release(c);
		rc = write_again(db, c, &r, rc, e);
	}
	if (rc < 0)
		return rc;
	/* The store holds the new version now: finish it in this
	 * transaction, or (after a deadlock) in a fresh one. */
	rc = finish_write(db, c, e);
	if (rc == 0)
		rc = vc_db_commit(db, e);
	if (rc < 0) {
		vc_db_rollback(db);
		rc = vc_db_txn(db, refinish_write, c, e);
		if (rc == VC_EQUOTA)
			return undo_create(db, c, e);
	}
	if (rc < 0)
		/* The next write's check-and-set refuses (exit 6) until
		 * reconcile adopts the version: say so, the cause after. */
		return vc_err_prefix(e, "the value store took version %d but "
				     "the metadata was not updated: run "
				     "'vaultctl-audit reconcile --fix' (writes of "
				     "it fail until then)", c->version);
	*version = c->version;
	*created = c->created;
	return 0;
}

static int live_meta(struct vc_db *db, const struct vc_ref *ref,
		     struct meta *m, int lock, struct vc_err *e)
{
	int rc = lock ? lock_meta(db, ref, m, e) : 0;
	struct vc_res *r;

	if (!lock) {
		rc = vc_db_query(db, &r, e, "SELECT id, version, deleted_at IS "
				 "NOT NULL, name FROM secret_metadata WHERE "
				 "project_id = ? AND environment = ? AND name = ?",
				 "sss", ref->project_id, ref->env_id, ref->name);
		if (rc < 0)
			return rc;
		meta_from(m, r);
		vc_res_free(r);
	}
	if (rc == 0 && (!m->exists || m->deleted))
		rc = vc_err_set(e, VC_ENOTFOUND, "not found%s",
				m->deleted ? " (deleted; 'restore' brings it "
				"back)" : "");
	return rc;
}

struct rctx {
	struct vc_session *s;
	const struct vc_ref *ref;
	const char *id, *details;
};

/* The read's audit row, retried whole on a concurrent change (on Galera,
 * a write of the same chain head on another node). */
static int read_audit(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct rctx *r = arg;

	return audit(r->s, db, r->ref, "secret.read", r->id, r->details, e);
}

static int drift_free(const struct meta *m, int asked, int got)
{
	return asked ? got <= m->version : got == m->version;
}

/* A writer on another Galera node holds no lock here: until its commit
 * reaches this node, the store is ahead.  Read the metadata again (causal)
 * until it has caught up with version got, or stayed still as long as
 * a write never does. */
static int await_meta(struct vc_db *db, const struct vc_ref *ref,
		      struct meta *m, int got, struct vc_err *e)
{
	long long since = now_ms();
	int seen = m->version, tries = 0;
	int rc = vc_db_causal(db, 1, e);

	while (rc == 0 && m->version < got &&
	       now_ms() - since < DRIFT_STILL_MS) {
		write_pause(++tries);
		rc = live_meta(db, ref, m, 0, e);
		if (rc == 0 && m->version != seen) {
			seen = m->version;
			since = now_ms();
		}
	}
	return rc;
}

/* A value the metadata does not describe is not served as if it did: the
 * store's latest is not the metadata's version (a write whose commit was
 * lost, or a store changed behind the tools' back), or a version asked
 * for is past it.  A write in flight looks the same until it commits: a
 * locking read of the row waits for its writer on this server, and one on
 * another node is waited for; a value read before a commit that followed
 * it is still one the metadata describes. */
static int check_drift(struct vc_db *db, const struct vc_ref *ref,
		       struct meta *m, int asked, int got, struct vc_err *e)
{
	int ahead = got > m->version, rc;

	if (drift_free(m, asked, got))
		return 0;
	rc = live_meta(db, ref, m, 1, e);
	if (rc == 0 && ahead)
		rc = await_meta(db, ref, m, got, e);
	if (rc < 0 || drift_free(m, asked, got) || (ahead && got <= m->version))
		return rc;
	return vc_err_set(e, VC_EINCONSIST, "the value store holds version %d "
			  "but the metadata records %d as the latest: nothing "
			  "was read out; 'vaultctl-audit reconcile' says more "
			  "and '--fix' repairs it", got, m->version);
}

int vc_secret_read(struct vc_session *s, const struct vc_ref *ref,
		   int version, struct vc_buf *out, int *got, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store_got g = { 0, 0, 0 };
	char details[64];
	struct vc_store *st;
	struct vc_db *db;
	struct meta m;
	int rc;

	rc = vc_secret_may(s, ref, VC_SECRET_READ, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = live_meta(db, ref, &m, 0, e);
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	if (rc == 0)
		rc = path_of(ref, &m, &path, e);
	/* No lock is held while the store answers. */
	if (rc == 0)
		rc = st->ops->get(st, path.data, version, out, &g, e);
	vc_buf_release(&path);
	if (rc == VC_ENOTFOUND && (g.deleted || g.destroyed))
		vc_err_set(e, VC_ENOTFOUND, "version %d is %s", g.version ?
			   g.version : version, g.destroyed ? "destroyed" :
			   "deleted");
	else if (rc == VC_ENOTFOUND && version > 0)
		vc_err_set(e, VC_ENOTFOUND, "version %d not found (the latest "
			   "is %d)", version, m.version);
	if (rc == 0)
		rc = check_drift(db, ref, &m, version, g.version, e);
	if (rc < 0) {
		vc_buf_reset(out);
		return rc;
	}
	*got = g.version;
	snprintf(details, sizeof(details), "{\"version\":%d}", g.version);
	rc = vc_db_txn(db, read_audit, &(struct rctx){ s, ref, m.id, details }, e);
	if (rc < 0) {
		vc_buf_reset(out);      /* no value leaves without its audit row */
	}
	return rc;
}

enum op { OP_DELETE, OP_RESTORE, OP_PURGE };

struct octx {
	struct vc_session *s;
	const struct vc_ref *ref;
	enum op op;
};

static int store_op(struct octx *c, const struct meta *m, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store *st;
	int rc = vc_session_store(c->s, &st, e);

	if (rc == 0)
		rc = path_of(c->ref, m, &path, e);
	if (rc == 0 && c->op == OP_DELETE)
		rc = st->ops->del(st, path.data, &m->version, 1, e);
	else if (rc == 0 && c->op == OP_RESTORE)
		rc = st->ops->undelete(st, path.data, &m->version, 1, e);
	else if (rc == 0)
		rc = st->ops->delete_all(st, path.data, e);
	if (rc == VC_ENOTFOUND && c->op == OP_PURGE)
		rc = 0;         /* nothing left to destroy */
	vc_buf_release(&path);
	return rc;
}

static int op_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	static const char *const action[] = { "secret.delete",
					      "secret.restore", "secret.purge" };
	struct octx *c = arg;
	struct meta m;
	int rc = 0;

	if (c->op == OP_RESTORE)
		rc = quota_lock(db, c->ref, e);
	if (rc == 0)
		rc = lock_meta(db, c->ref, &m, e);

	if (rc == 0 && !m.exists)
		rc = vc_err_set(e, VC_ENOTFOUND, "not found");
	else if (rc == 0 && c->op == OP_DELETE && m.deleted)
		rc = vc_err_set(e, VC_ENOTFOUND, "already deleted");
	else if (rc == 0 && c->op == OP_RESTORE && !m.deleted)
		rc = vc_err_set(e, VC_ECONFLICT, "not deleted");
	if (rc == 0 && c->op == OP_RESTORE)
		rc = check_quota(db, c->ref, 1, e);
	if (rc == 0)
		rc = store_op(c, &m, e);
	if (rc == 0 && c->op == OP_PURGE)
		rc = vc_db_exec(db, NULL, e, "DELETE FROM secret_metadata WHERE "
				"id = ?", "s", m.id);
	else if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE secret_metadata SET "
				"deleted_at = IF(?, UTC_TIMESTAMP(), NULL), "
				"updated_at = UTC_TIMESTAMP() WHERE id = ?", "is",
				c->op == OP_DELETE, m.id);
	if (rc == 0)
		rc = audit(c->s, db, c->ref, action[c->op], m.id, NULL, e);
	if (rc == 0 && (c->op == OP_RESTORE || !m.deleted))
		rc = count_secrets(db, c->ref->org_id,
				   c->op == OP_RESTORE ? 1 : -1, e);
	return rc;
}

static int secret_op(struct vc_session *s, const struct vc_ref *ref,
		     enum op op, struct vc_err *e)
{
	struct octx c = { s, ref, op };
	struct vc_store *st;
	struct vc_db *db;
	int rc = vc_secret_may(s, ref, op == OP_DELETE ? VC_SECRET_DELETE :
			       op == OP_RESTORE ? VC_SECRET_RESTORE :
			       VC_SECRET_PURGE, e);

	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	/* Before the transaction: restore takes the quota lock. */
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	return rc < 0 ? rc : vc_db_txn(db, op_txn, &c, e);
}

int vc_secret_delete(struct vc_session *s, const struct vc_ref *ref,
		     struct vc_err *e)
{
	return secret_op(s, ref, OP_DELETE, e);
}

int vc_secret_restore(struct vc_session *s, const struct vc_ref *ref,
		      struct vc_err *e)
{
	return secret_op(s, ref, OP_RESTORE, e);
}

int vc_secret_purge(struct vc_session *s, const struct vc_ref *ref,
		    struct vc_err *e)
{
	return secret_op(s, ref, OP_PURGE, e);
}

struct dctx {
	struct vc_session *s;
	const struct vc_ref *ref;
	const int *versions;
	size_t n;
};

/* {"versions":[1,3]}: what was destroyed, never a value. */
static int destroy_details(struct vc_buf *b, const int *v, size_t n,
			   struct vc_err *e)
{
	int rc = vc_buf_addstr(b, "{\"versions\":[");

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = vc_buf_printf(b, "%s%d", i ? "," : "", v[i]);
	if (rc == 0)
		rc = vc_buf_addstr(b, "]}");
	return rc < 0 ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}

/* Every version asked for must exist: the stores skip unknown ones
 * silently, and an audit row would then record a destroy that did
 * nothing. */
static int destroy_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct dctx *c = arg;
	struct vc_buf path = VC_BUF_INIT, det = VC_BUF_INIT;
	struct vc_store *st;
	struct meta m;
	int rc = lock_meta(db, c->ref, &m, e);

	if (rc == 0 && !m.exists)
		rc = vc_err_set(e, VC_ENOTFOUND, "not found");
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		if (c->versions[i] < 1 || c->versions[i] > m.version)
			rc = vc_err_set(e, VC_ENOTFOUND, "version %d not found "
					"(the latest is %d)", c->versions[i],
					m.version);
	if (rc == 0)
		rc = vc_session_store(c->s, &st, e);
	if (rc == 0)
		rc = path_of(c->ref, &m, &path, e);
	if (rc == 0)
		rc = destroy_details(&det, c->versions, c->n, e);
	if (rc == 0)
		rc = st->ops->destroy(st, path.data, c->versions, c->n, e);
	if (rc == 0)
		rc = vc_valuemac_forget(db, m.id, m.version, c->versions, c->n,
					e);
	if (rc == 0)
		rc = audit(c->s, db, c->ref, "secret.destroy", m.id, det.data, e);
	vc_buf_release(&path);
	vc_buf_release(&det);
	return rc;
}

int vc_secret_destroy(struct vc_session *s, const struct vc_ref *ref,
		      const int *versions, size_t n, struct vc_err *e)
{
	struct dctx c = { s, ref, versions, n };
	struct vc_store *st;
	struct vc_db *db;
	int rc = vc_secret_may(s, ref, VC_SECRET_DESTROY, e);

	if (rc == 0 && n == 0)
		rc = vc_err_set(e, VC_EUSAGE, "no version to destroy");
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	return rc < 0 ? rc : vc_db_txn(db, destroy_txn, &c, e);
}

int vc_secret_random(const char *charset, size_t n, struct vc_buf *out,
		     struct vc_err *e)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				    "opqrstuvwxyz0123456789";
	static const char hex[] = "0123456789abcdef";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789+/";
	const char *set;
	char ascii[95];

	for (int i = 0; i < 94; i++)
		ascii[i] = (char)('!' + i);
	ascii[94] = '\0';
	if (!strcmp(charset, "alnum"))
		set = alnum;
	else if (!strcmp(charset, "hex"))
		set = hex;
	else if (!strcmp(charset, "base64"))
		set = b64;
	else if (!strcmp(charset, "ascii"))
		set = ascii;
	else
		return vc_err_set(e, VC_EUSAGE, "unknown charset '%.64s' (use alnum, "
				  "hex, base64 or ascii)", charset);
	if (n == 0 || n > 4096)
		return vc_err_set(e, VC_EUSAGE, "length must be from 1 to 4096");
	if (vc_buf_grow(out, n) < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	/* randombytes_uniform avoids modulo bias. */
	for (size_t i = 0; i < n; i++)
		vc_buf_addch(out, set[randombytes_uniform((uint32_t)strlen(set))]);
	return 0;
}

int vc_secret_may(struct vc_session *s, const struct vc_ref *ref,
		  enum vc_secret_act act, struct vc_err *e)
{
	static const struct {
		enum vc_role role;
		const char *what;
	} rule[] = {
		[VC_SECRET_LIST] = { VC_ROLE_VIEWER, "listing secrets" },
		[VC_SECRET_READ] = { VC_ROLE_MEMBER, "reading values" },
		[VC_SECRET_HISTORY] = { VC_ROLE_MEMBER, "reading history" },
		[VC_SECRET_WRITE] = { VC_ROLE_MEMBER, "writing secrets" },
		[VC_SECRET_ROLLBACK] = { VC_ROLE_MEMBER, "rolling back" },
		[VC_SECRET_DELETE] = { VC_ROLE_ADMIN, "removing secrets" },
		[VC_SECRET_RESTORE] = { VC_ROLE_ADMIN, "restoring secrets" },
		[VC_SECRET_PURGE] = { VC_ROLE_ADMIN, "purging secrets" },
		[VC_SECRET_DESTROY] = { VC_ROLE_ADMIN, "destroying versions" },
	};

	return vc_ref_need(s, ref, rule[act].role, rule[act].what, e);
}

struct qctx {
	const struct vc_ref *ref;
	long need;
};

static int quota_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct qctx *q = arg;
	int rc = quota_lock(db, q->ref, e);

	return rc < 0 ? rc : check_quota(db, q->ref, q->need, e);
}

int vc_secret_quota_check(struct vc_session *s, const struct vc_ref *ref,
			  long need, struct vc_err *e)
{
	struct qctx q = { ref, need };
	struct vc_db *db;
	int rc;

	if (need <= 0)
		return 0;
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, quota_txn, &q, e);
}

int vc_secret_details(struct vc_buf *b, int version, int from,
		      const char *reason)
{
	return write_details(b, version, from, reason);
}

int vc_secret_count(struct vc_db *db, const char *org_id, int delta,
		    struct vc_err *e)
{
	return count_secrets(db, org_id, delta, e);
}
