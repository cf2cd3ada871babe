/* batch.c - many secrets of one environment as one change.
 *
 * The order of a single write (lib/secret.c), taken once for the batch:
 * the quota lock, every metadata row of the batch locked, the quota
 * checked for all the creates together (less the removals), the values
 * written and the deletes and undeletes made (the local store in one
 * transaction of its own, Vault several requests in flight), then the
 * metadata, one audit row per secret in one statement and the usage, and
 * one commit.  The metadata's statements overlap the store's writes (a
 * thread runs put_many); its commit waits for the store's answer.
 * Statements work on up to CHUNK rows each.
 */
#include "batch.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "db.h"
#include "plan.h"
#include "secret.h"
#include "store.h"
#include "valuemac.h"

#define CHUNK 200               /* rows per statement built at run time */

struct bmeta {
	int exists, deleted, version;
	char id[37];
	char name[256];         /* as stored */
};

struct bctx {
	struct vc_session *s;
	const struct vc_ref *env;
	struct vc_batch_item *items;
	size_t n;
	const struct vc_batch_opts *o;
	struct vc_store *st;
	struct bmeta *m;
	size_t *order;          /* item indices by name, case-insensitive */
	struct vc_store_put *put;
	int *ver;               /* per item: the version finish records */
	struct vc_buf *path;
	unsigned char (*mac)[32];       /* per write: its value's MAC, */
	char (*mac_ver)[12];            /* the version it is of as text */
	unsigned char mac_key[8];       /* under this audit key */
	int mac_have;                   /* 0: no audit key, no MAC */
	long creates, removes;  /* secrets made live, and removed */
	int held;               /* SIGINT and SIGTERM deferred, old mask: */
	sigset_t mask;
};

static int oom(struct vc_err *e)
{
	return vc_err_set(e, VC_EFAIL, "out of memory");
}

/* ---- names ---- */

static int by_name(const void *a, const void *b, void *arg)
{
	const struct vc_batch_item *it = arg;

	return strcasecmp(it[*(const size_t *)a].name,
			  it[*(const size_t *)b].name);
}

/* Sorts the names once: the metadata's rows are matched to items by a
 * binary search, and a name given twice is refused. */
static int names_sort(struct bctx *c, struct vc_err *e)
{
	for (size_t i = 0; i < c->n; i++) {
		c->order[i] = i;
		if (vc_secret_name_check(c->items[i].name, e) < 0)
			return vc_err_prefix(e, "entry '%.64s'", c->items[i].name);
		if (c->items[i].op > VC_BATCH_UNDELETE)
			return vc_err_set(e, VC_EUSAGE, "unknown batch operation");
	}
	qsort_r(c->order, c->n, sizeof(*c->order), by_name, c->items);
	for (size_t i = 1; i < c->n; i++)
		if (!strcasecmp(c->items[c->order[i - 1]].name,
				c->items[c->order[i]].name))
			return vc_err_set(e, VC_EUSAGE, "'%.64s' is twice in the "
					  "batch", c->items[c->order[i]].name);
	return 0;
}

static long name_find(const struct bctx *c, const char *name)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcasecmp(c->items[c->order[mid]].name, name);

		if (!cmp)
			return (long)c->order[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- the metadata transaction ---- */

/* Locks the metadata rows of items i0 .. i0+k (in name order). */
static int lock_chunk(struct vc_db *db, struct bctx *c, size_t i0, size_t k,
		      struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_param *p = calloc(k + 2, sizeof(*p));
	struct vc_res *r = NULL;
	int rc = p ? vc_buf_addstr(&sql, "SELECT id, version, deleted_at IS "
			"NOT NULL, name FROM secret_metadata WHERE project_id = "
			"? AND environment = ? AND name IN (") : -1;

	for (size_t x = 0; rc == 0 && x < k; x++) {
		const char *name = c->items[c->order[i0 + x]].name;

		p[x + 2] = (struct vc_param){ 's', name, strlen(name), 0 };
		rc = vc_buf_addstr(&sql, x ? ", ?" : "?");
	}
	if (rc == 0)
		rc = vc_buf_addstr(&sql, ") FOR UPDATE");
	if (rc < 0) {
		free(p);
		vc_buf_release(&sql);
		return oom(e);
	}
	p[0] = (struct vc_param){ 's', c->env->project_id,
				  strlen(c->env->project_id), 0 };
	p[1] = (struct vc_param){ 's', c->env->env_id, strlen(c->env->env_id), 0 };
	rc = vc_db_queryv(db, &r, e, sql.data, p, k + 2);
	for (size_t row = 0; rc == 0 && row < vc_res_rows(r); row++) {
		long i = name_find(c, vc_res_get(r, row, 3, NULL));
		struct bmeta *m = i < 0 ? NULL : &c->m[i];

		if (!m)
			continue;
		m->exists = 1;
		snprintf(m->id, sizeof(m->id), "%s", vc_res_get(r, row, 0, NULL));
		m->version = (int)vc_res_int(r, row, 1);
		m->deleted = vc_res_int(r, row, 2) != 0;
		snprintf(m->name, sizeof(m->name), "%s",
			 vc_res_get(r, row, 3, NULL));
	}
	vc_res_free(r);
	free(p);
	vc_buf_release(&sql);
	return rc;
}

/* An item against its locked metadata row: the version it expects, and
 * a delete of a live secret, an undelete of a removed one. */
static int item_check(const struct vc_batch_item *it, const struct bmeta *m,
		      struct vc_err *e)
{
	int wrong = it->op != VC_BATCH_PUT && (!m->exists ||
		    m->deleted != (it->op == VC_BATCH_UNDELETE));

	if (it->expect >= 0 && (wrong || it->expect != (m->exists ?
							m->version : 0)))
		return vc_err_set(e, VC_ECONFLICT, "secret '%s' changed since the "
				  "plan was made; nothing was changed; try again",
				  it->name);
	if (!m->exists && it->op != VC_BATCH_PUT)
		return vc_err_set(e, VC_ENOTFOUND, "secret '%s' not found",
				  it->name);
	if (wrong)
		return vc_err_set(e, VC_ECONFLICT, "secret '%s' is %s", it->name,
				  m->deleted ? "removed already" : "not removed");
	return 0;
}

static const enum vc_store_put_op store_op[] = {
	[VC_BATCH_PUT] = VC_STORE_WRITE, [VC_BATCH_DELETE] = VC_STORE_DELETE,
	[VC_BATCH_UNDELETE] = VC_STORE_UNDELETE,
};

/* What each item asks of the store: its path (the name as stored when
 * the secret exists) and the check-and-set on the metadata's version. */
static int plan_items(struct bctx *c, struct vc_err *e)
{
	const struct vc_ref *env = c->env;

	c->creates = c->removes = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct vc_batch_item *it = &c->items[i];
		struct bmeta *m = &c->m[i];
		int rc = item_check(it, m, e);

		if (rc < 0)
			return rc;
		it->created = it->op != VC_BATCH_DELETE &&
			      (!m->exists || m->deleted);
		c->creates += it->created;
		c->removes += it->op == VC_BATCH_DELETE;
		vc_buf_reset(&c->path[i]);
		if (vc_store_path(&c->path[i], env->org_id, env->project_id,
				  env->env_id, m->exists ? m->name : it->name) < 0)
			return oom(e);
		c->put[i] = (struct vc_store_put){ .path = c->path[i].data,
			.val = it->val, .len = it->len, .op = store_op[it->op],
			.cas = m->exists ? m->version : 0 };
	}
	return 0;
}

/* The secrets the batch makes live less those it removes must fit: the
 * removals make room first, as the transaction commits them together. */
static int quota(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	struct vc_plan_usage u;
	long need = c->creates - c->removes;

	return need > 0 ? vc_plan_quota(db, c->env, need, &u, e) : 0;
}

/* The environment's --max-versions goes with each write: the store keeps
 * at most that many versions of the keys the batch makes too. */
static int env_max(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	int max, rc = vc_secret_env_max(db, c->env, &max, e);

	for (size_t i = 0; rc == 0 && max > 0 && i < c->n; i++)
		c->put[i].max_versions = max;
	return rc;
}

/* Locks and checks; nothing is written yet. */
static int start(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	int rc = vc_plan_quota_lock(db, c->env->org_id, e);

	memset(c->m, 0, c->n * sizeof(*c->m));
	for (size_t i0 = 0; rc == 0 && i0 < c->n; i0 += CHUNK)
		rc = lock_chunk(db, c, i0, c->n - i0 < CHUNK ? c->n - i0 : CHUNK, e);
	if (rc == 0)
		rc = plan_items(c, e);
	if (rc == 0)
		rc = quota(db, c, e);
	if (rc == 0)
		rc = env_max(db, c, e);
	return rc;
}

/* The ids of the rows that are new, taken again by every finish: the
 * MACs of their values are made with them. */
static int new_ids(struct bctx *c, size_t fresh, struct vc_err *e)
{
	char (*id)[37] = calloc(fresh + 1, sizeof(*id));
	size_t k = 0;

	if (!id)
		return oom(e);
	vc_uuids(id, fresh);
	for (size_t i = 0; i < c->n; i++)
		if (!c->m[i].exists)
			memcpy(c->m[i].id, id[k++], sizeof(c->m[i].id));
	free(id);
	return 0;
}

/* The MAC of each value written, recorded by the statements that write
 * its row's version, as a single set records it (valuemac.h). */
static void macs(struct bctx *c)
{
	struct vc_valuemac_item *v = calloc(c->n + 1, sizeof(*v));

	c->mac_have = 0;
	if (!v)
		return;         /* no MAC: unknown, never wrong */
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].op == VC_BATCH_PUT)
			v[i] = (struct vc_valuemac_item){ c->m[i].id,
				c->ver[i], c->items[i].val,
				c->items[i].len };
	vc_valuemac_of(c->s, v, c->n, c->mac, c->mac_key, &c->mac_have);
	free(v);
}

/* Item i's value_mac, value_mac_version and value_mac_key in q[0..2]:
 * NULL without an audit key. */
static void mac_params(struct bctx *c, size_t i, struct vc_param *q)
{
	int have = c->mac_have;

	snprintf(c->mac_ver[i], sizeof(c->mac_ver[i]), "%d", c->ver[i]);
	q[0] = (struct vc_param){ 'b', have ? c->mac[i] : NULL, 32, 0 };
	q[1] = (struct vc_param){ 's', have ? c->mac_ver[i] : NULL,
				  strlen(c->mac_ver[i]), 0 };
	q[2] = (struct vc_param){ 'b', have ? c->mac_key : NULL, 8, 0 };
}

/* The rows of the secrets that are new (all of them writes), in one
 * statement. */
static int meta_insert(struct vc_db *db, struct bctx *c, size_t fresh,
		       struct vc_err *e)
{
	const struct vc_ref *env = c->env;
	struct vc_param *p = calloc(10 * fresh + 1, sizeof(*p));
	size_t k = 0;
	int rc;

	if (!p)
		return oom(e);
	for (size_t i = 0; i < c->n; i++) {
		struct vc_param *q = &p[10 * k];

		if (c->m[i].exists)
			continue;
		q[0] = (struct vc_param){ 's', c->m[i].id, 36, 0 };
		q[1] = (struct vc_param){ 's', c->items[i].name,
					  strlen(c->items[i].name), 0 };
		q[2] = (struct vc_param){ 's', env->org_id, strlen(env->org_id), 0 };
		q[3] = (struct vc_param){ 's', env->project_id,
					  strlen(env->project_id), 0 };
		q[4] = (struct vc_param){ 's', env->env_id, strlen(env->env_id), 0 };
		q[5] = (struct vc_param){ 's', c->s->user.id,
					  strlen(c->s->user.id), 0 };
		q[6] = (struct vc_param){ 'i', NULL, 0, c->ver[i] };
		mac_params(c, i, &q[7]);
		k++;
	}
	rc = vc_db_insert_rows(db, e, "INSERT INTO secret_metadata (id, name, "
			       "organization_id, project_id, environment, "
			       "created_by, version, value_mac, "
			       "value_mac_version, value_mac_key, created_at, "
			       "updated_at) VALUES ", "(?, ?, ?, ?, ?, ?, ?, ?, "
			       "?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP())", p, 10, k);
	free(p);
	return rc;
}

/* Item i names an existing secret that the batch leaves live. */
static int live_after(const struct bctx *c, size_t i)
{
	return c->m[i].exists && c->items[i].op != VC_BATCH_DELETE;
}

/* The existing rows of items i0 .. i0+k left live, in one UPDATE. */
static int update_chunk(struct vc_db *db, struct bctx *c, size_t i0, size_t k,
			struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_param *p = calloc(3 * k + 1, sizeof(*p));
	size_t np = 0, nid = 0;
	int rc = p ? vc_buf_addstr(&sql, "UPDATE secret_metadata SET "
				   "deleted_at = NULL, updated_at = "
				   "UTC_TIMESTAMP(), version = CASE id") : -1;

	for (size_t i = i0; rc == 0 && i < i0 + k; i++)
		if (live_after(c, i)) {
			p[np++] = (struct vc_param){ 's', c->m[i].id, 36, 0 };
			p[np++] = (struct vc_param){ 'i', NULL, 0, c->ver[i] };
			rc = vc_buf_addstr(&sql, " WHEN ? THEN ?");
		}
	if (rc == 0)
		rc = vc_buf_addstr(&sql, " END WHERE id IN (");
	for (size_t i = i0; rc == 0 && i < i0 + k; i++)
		if (live_after(c, i)) {
			p[np++] = (struct vc_param){ 's', c->m[i].id, 36, 0 };
			rc = vc_buf_addstr(&sql, nid++ ? ", ?" : "?");
		}
	if (rc == 0)
		rc = vc_buf_addch(&sql, ')');
	if (rc < 0)
		rc = oom(e);
	else if (nid)
		rc = vc_db_execv(db, NULL, e, sql.data, p, np);
	free(p);
	vc_buf_release(&sql);
	return rc;
}

/* The existing rows left live that are (put 1) or are not (put 0)
 * written, one UPDATE by key run as one bulk execute: a CASE over 200 ids
 * costs the server ten times more per row.  A write's row takes its
 * value's MAC in the same UPDATE; a restore keeps its MAC, of the same
 * version.  1 when the server cannot (update_chunk then). */
static int update_bulk(struct vc_db *db, struct bctx *c, int put,
		       struct vc_err *e)
{
	static const char *const sql[2] = {
		"UPDATE secret_metadata SET deleted_at = NULL, updated_at = "
		"UTC_TIMESTAMP(), version = ? WHERE id = ?",
		"UPDATE secret_metadata SET deleted_at = NULL, updated_at = "
		"UTC_TIMESTAMP(), version = ?, value_mac = ?, value_mac_version "
		"= ?, value_mac_key = ? WHERE id = ?",
	};
	size_t cols = put ? 5 : 2, k = 0;
	struct vc_param *p = calloc(cols * c->n + 1, sizeof(*p));
	int rc;

	if (!p)
		return oom(e);
	for (size_t i = 0; i < c->n; i++) {
		struct vc_param *q = &p[cols * k];

		if (!live_after(c, i) || (c->items[i].op == VC_BATCH_PUT) != put)
			continue;
		q[0] = (struct vc_param){ 'i', NULL, 0, c->ver[i] };
		if (put)
			mac_params(c, i, &q[1]);
		q[cols - 1] = (struct vc_param){ 's', c->m[i].id, 36, 0 };
		k++;
	}
	rc = vc_db_exec_rows(db, e, sql[put], p, cols, k);
	free(p);
	return rc;
}

/* The rows of the items that the batch removes, in one UPDATE. */
static int delete_chunk(struct vc_db *db, struct bctx *c, size_t i0, size_t k,
			struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_param *p = calloc(k + 1, sizeof(*p));
	size_t np = 0;
	int rc = p ? vc_buf_addstr(&sql, "UPDATE secret_metadata SET deleted_at "
				   "= UTC_TIMESTAMP(), updated_at = "
				   "UTC_TIMESTAMP() WHERE id IN (") : -1;

	for (size_t i = i0; rc == 0 && i < i0 + k; i++)
		if (c->items[i].op == VC_BATCH_DELETE) {
			p[np] = (struct vc_param){ 's', c->m[i].id, 36, 0 };
			rc = vc_buf_addstr(&sql, np++ ? ", ?" : "?");
		}
	if (rc == 0)
		rc = vc_buf_addch(&sql, ')');
	if (rc < 0)
		rc = oom(e);
	else if (np)
		rc = vc_db_execv(db, NULL, e, sql.data, p, np);
	free(p);
	vc_buf_release(&sql);
	return rc;
}

/* The action of item i's audit row, as the single operations name it. */
static const char *item_action(const struct bctx *c, size_t i)
{
	const struct vc_batch_item *it = &c->items[i];

	if (it->op == VC_BATCH_DELETE)
		return "secret.delete";
	if (it->op == VC_BATCH_UNDELETE)
		return "secret.restore";
	if (it->action)
		return it->action;
	return c->m[i].exists && !c->m[i].deleted ? "secret.update" :
	       "secret.create";
}

static int audit_rows(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	struct vc_audit_ev *ev = calloc(c->n + 1, sizeof(*ev));
	struct vc_buf *d = calloc(c->n + 1, sizeof(*d));
	int rc = ev && d ? 0 : oom(e);

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		if (vc_secret_details(&d[i], c->ver[i],
				      c->items[i].op == VC_BATCH_PUT ?
				      c->items[i].from : 0,
				      c->o ? c->o->reason : NULL) < 0)
			rc = oom(e);
		ev[i] = (struct vc_audit_ev){ c->env->org_id, item_action(c, i),
			"secret", c->m[i].id, d[i].data };
	}
	if (rc == 0)
		rc = vc_audit_write(c->s, db, ev, c->n, e);
	for (size_t i = 0; d && i < c->n; i++)
		vc_buf_release(&d[i]);
	free(d);
	free(ev);
	return rc;
}

/* Where the server has no bulk execute: the MACs of the existing rows
 * written, after update_chunk set their versions (valuemac.c). */
static int value_macs(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	struct vc_valuemac_item *v = calloc(c->n + 1, sizeof(*v));
	int rc;

	if (!v)
		return oom(e);
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].exists && c->items[i].op == VC_BATCH_PUT)
			v[i] = (struct vc_valuemac_item){ c->m[i].id,
				c->ver[i], c->items[i].val,
				c->items[i].len };
	rc = vc_valuemac_write(c->s, db, v, c->n, e);
	free(v);
	return rc;
}

/* After the store took the values: metadata, audit and usage.  Safe to
 * repeat: the store's check-and-set already decided. */
static int finish(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct bctx *c = arg;
	size_t fresh = 0;
	int rc = 0, bulk;

	for (size_t i = 0; i < c->n; i++)
		fresh += !c->m[i].exists;
	if (fresh)
		rc = new_ids(c, fresh, e);
	if (rc == 0)
		macs(c);
	if (rc == 0 && fresh)
		rc = meta_insert(db, c, fresh, e);
	/* 0: the live rows updated in bulk executes; 1: not (the server
	 * has none), update_chunk and value_macs do it. */
	bulk = rc == 0 ? update_bulk(db, c, 1, e) : rc;
	if (bulk == 0)
		bulk = update_bulk(db, c, 0, e);
	rc = bulk < 0 ? bulk : 0;
	for (size_t i0 = 0; rc == 0 && i0 < c->n; i0 += CHUNK) {
		size_t k = c->n - i0 < CHUNK ? c->n - i0 : CHUNK;

		if (bulk == 1)
			rc = update_chunk(db, c, i0, k, e);
		if (rc == 0 && c->removes)
			rc = delete_chunk(db, c, i0, k, e);
	}
	if (rc == 0 && bulk == 1)
		rc = value_macs(db, c, e);
	if (rc == 0)
		rc = audit_rows(db, c, e);
	/* After the audit rows: usage is locked last, as by every reader. */
	if (rc == 0 && c->creates != c->removes)
		rc = vc_secret_count(db, c->env->org_id,
				     (int)(c->creates - c->removes), e);
	return rc;
}

/* finish again after its commit was lost: the creates take the quota
 * again (on Galera, a lost commit is how a concurrent create on another
 * node that won the quota shows itself). */
static int refinish(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct bctx *c = arg;
	int rc = 0;

	if (c->creates > c->removes) {
		rc = vc_plan_quota_lock(db, c->env->org_id, e);
		if (rc == 0)
			rc = quota(db, c, e);
	}
	return rc < 0 ? rc : finish(db, arg, e);
}

/* ---- signals ---- */

/* From the store's writes to the commit, SIGINT and SIGTERM wait, as in
 * a single write: their default action there would leave the store ahead
 * of the metadata. */
static void signals_hold(struct bctx *c)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	c->held = pthread_sigmask(SIG_BLOCK, &set, &c->mask) == 0;
}

static void signals_release(struct bctx *c)
{
	if (c->held)
		pthread_sigmask(SIG_SETMASK, &c->mask, NULL);
	c->held = 0;
}

/* ---- taking back what Vault took ---- */

/* Version cas's value, which a removed secret's store holds deleted:
 * undeleted to be read, then deleted again. */
static int old_value(struct bctx *c, size_t i, struct vc_buf *old,
		     struct vc_err *e)
{
	const struct vc_store_put *p = &c->put[i];
	struct vc_store_got got;
	int removed = c->m[i].deleted, rc = 0;

	if (removed)
		rc = c->st->ops->undelete(c->st, p->path, &p->cas, 1, e);
	if (rc == 0)
		rc = c->st->ops->get(c->st, p->path, p->cas, old, &got, e);
	if (removed && rc == 0)
		rc = c->st->ops->del(c->st, p->path, &p->cas, 1, e);
	return rc;
}

/* One item done in the store: a new secret is removed whole; a delete or
 * an undelete is undone; a secret that existed at version V gets V's
 * value again as the next version (deleted again when the secret was
 * removed), and the version written by the batch is destroyed.  *back is
 * that next version. */
static int undo_item(struct bctx *c, size_t i, int *back, struct vc_err *e)
{
	const struct vc_store_put *p = &c->put[i];
	struct vc_buf old;
	int rc;

	*back = 0;
	if (!c->m[i].exists)
		return c->st->ops->delete_all(c->st, p->path, e);
	if (p->op == VC_STORE_DELETE)
		return c->st->ops->undelete(c->st, p->path, &p->cas, 1, e);
	if (p->op == VC_STORE_UNDELETE)
		return c->st->ops->del(c->st, p->path, &p->cas, 1, e);
	vc_buf_init(&old, 1);
	rc = old_value(c, i, &old, e);
	if (rc == 0)
		rc = c->st->ops->put(c->st, p->path, old.data, old.len,
				     p->version, back, e);
	if (rc == 0)
		rc = c->st->ops->destroy(c->st, p->path, &p->version, 1, e);
	if (rc == 0 && c->m[i].deleted)
		rc = c->st->ops->del(c->st, p->path, back, 1, e);
	vc_buf_release(&old);
	return rc;
}

struct undo {
	struct bctx *c;
	size_t removed, setback, undone;
};

/* The metadata follows the versions set back, with their audit rows: a
 * removed secret stays removed, at its new version. */
static int undo_meta(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct undo *u = arg;
	struct bctx *c = u->c;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		struct vc_audit_ev ev = { c->env->org_id, c->m[i].deleted ?
			"secret.delete" : "secret.update", "secret", c->m[i].id,
			NULL };
		struct vc_buf d = VC_BUF_INIT;

		if (!c->m[i].exists || !c->items[i].version)
			continue;
		rc = vc_db_exec(db, NULL, e, "UPDATE secret_metadata SET "
				"version = ?, updated_at = UTC_TIMESTAMP() WHERE "
				"id = ?", "is", c->items[i].version, c->m[i].id);
		if (rc == 0 && vc_secret_details(&d, c->items[i].version,
						 c->put[i].cas, "batch taken "
						 "back") < 0)
			rc = oom(e);
		ev.details = d.data;
		if (rc == 0)
			rc = vc_audit_write(c->s, db, &ev, 1, e);
		vc_buf_release(&d);
	}
	return rc;
}

/* What the batch took back, after the failure's message why. */
static int undone(struct vc_err *e, int rc, const char *why,
		  const struct undo *u)
{
	char marks[64] = "";

	if (u->undone)
		snprintf(marks, sizeof(marks), ", %zu removal%s or restore%s "
			 "undone", u->undone, u->undone == 1 ? "" : "s",
			 u->undone == 1 ? "" : "s");
	return vc_err_set(e, rc, "%.150s; nothing was written: %zu new "
			  "secret%s removed, %zu set back to the previous "
			  "value%s", why, u->removed, u->removed == 1 ? "" : "s",
			  u->setback, marks);
}

/* After a store failure with Vault: takes back each value written and
 * says so in e, after the failure's own message. */
static int undo(struct vc_db *db, struct bctx *c, int rc, struct vc_err *e)
{
	struct undo u = { c, 0, 0, 0 };
	char why[sizeof(e->msg)];
	struct vc_err e2;
	int rc2 = 0, back;
	size_t left = 0;

	snprintf(why, sizeof(why), "%s", e->msg);
	for (size_t i = 0; i < c->n; i++) {
		c->items[i].version = 0;
		if (!c->put[i].version)
			continue;
		if (undo_item(c, i, &back, &e2) < 0) {
			left++;
			rc2 = -1;
			continue;       /* the metadata stays */
		}
		c->items[i].version = back;
		if (!c->m[i].exists)
			u.removed++;
		else if (c->put[i].op == VC_STORE_WRITE)
			u.setback++;
		else
			u.undone++;
	}
	if (u.setback && vc_db_txn(db, undo_meta, &u, &e2) < 0)
		rc2 = -1, left += u.setback;
	if (rc2 < 0)
		return vc_err_set(e, rc, "%.120s; %zu value%s written by the batch"
				  " could not be taken back (%.60s): run "
				  "'vaultctl-audit reconcile --fix'", why, left,
				  left == 1 ? "" : "s", e2.msg);
	return undone(e, rc, why, &u);
}

/* ---- the batch ---- */

/* Locks and checks, retried whole on a deadlock before anything reached
 * the store. */
static int write_start(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	int rc = 0;

	for (int attempt = 0; attempt < 10; attempt++) {
		rc = vc_db_begin(db, e);
		if (rc == 0)
			rc = start(db, c, e);
		if (rc == 0)
			return 0;
		vc_db_rollback(db);
		if (vc_db_errno(db) != 1213 && vc_db_errno(db) != 1205)
			return rc;
	}
	return vc_err_set(e, VC_ECONFLICT, "too many concurrent changes; try "
			  "again");
}

/* The store's writes, in a thread of their own. */
struct store_run {
	struct bctx *c;
	int conc, rc;
	struct vc_err e;
};

static void *store_write(void *arg)
{
	struct store_run *r = arg;

	r->rc = r->c->st->ops->put_many(r->c->st, r->c->put, r->c->n, r->conc,
					&r->e);
	return NULL;
}

/* The version each item will have once the store took it: both stores
 * number a write cas + 1 (its check-and-set holds it to that) and leave
 * a removal or a restore at cas. */
static void predict(struct bctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		c->ver[i] = c->put[i].cas + (c->put[i].op == VC_STORE_WRITE);
}

static int predicted(const struct bctx *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ver[i] != c->put[i].version)
			return 0;
	return 1;
}

/* The store's writes and, meanwhile on the metadata's connection, finish
 * with the versions they will have: the two transactions' statements
 * overlap (the store's work is the larger half of a batch), their
 * commits keep the order, the store's first.  *done: finish went through
 * with the versions the store gave; else it runs again after. */
static int write_values(struct vc_db *db, struct bctx *c, int *done,
			struct vc_err *e)
{
	struct store_run r = { c, c->o && c->o->concurrency > 0 ?
			       c->o->concurrency : VC_BATCH_CONCURRENCY, 0,
			       { 0, "" } };
	pthread_t t;
	struct vc_err fe;
	int rc = write_start(db, c, e), threaded;

	*done = 0;
	if (rc < 0)
		return rc;
	/* Held first: a signal that came before stops the batch, one that
	 * comes now waits for the commit (the thread inherits the mask). */
	signals_hold(c);
	if (c->o && c->o->stop && *c->o->stop) {
		vc_db_rollback(db);
		return vc_err_set(e, VC_EINTR, "interrupted; nothing was written");
	}
	predict(c);
	threaded = pthread_create(&t, NULL, store_write, &r) == 0;
	if (!threaded)
		store_write(&r);
	*done = finish(db, c, &fe) == 0;
	if (threaded)
		pthread_join(t, NULL);
	rc = r.rc;
	if (rc < 0)
		*e = r.e;
	if (rc == VC_ECONFLICT)
		vc_err_prefix(e, "the value store is not at the version that "
			      "the metadata records (a concurrent write, or drift "
			      "that 'vaultctl-audit reconcile --fix' repairs)");
	if (rc < 0) {
		vc_db_rollback(db);
		for (size_t i = 0; i < c->n; i++)
			if (c->put[i].version)
				return undo(db, c, rc, e);
		return rc;
	}
	*done = *done && predicted(c);
	if (!*done)
		*e = fe;
	return 0;
}

static int write_all(struct vc_db *db, struct bctx *c, struct vc_err *e)
{
	int done, rc = write_values(db, c, &done, e);

	if (rc < 0)
		return rc;
	rc = done ? vc_db_commit(db, e) : -1;
	if (rc < 0) {
		vc_db_rollback(db);
		for (size_t i = 0; i < c->n; i++)
			c->ver[i] = c->put[i].version;
		rc = vc_db_txn(db, refinish, c, e);
	}
	if (rc < 0)
		return vc_err_prefix(e, "the value store took the %zu values but "
				     "the metadata was not updated: run "
				     "'vaultctl-audit reconcile --fix' (writes of "
				     "them fail until then)", c->n);
	for (size_t i = 0; i < c->n; i++)
		c->items[i].version = c->put[i].version;
	return 0;
}

static int ctx_alloc(struct bctx *c)
{
	size_t n = c->n ? c->n : 1;

	c->m = calloc(n, sizeof(*c->m));
	c->order = calloc(n, sizeof(*c->order));
	c->put = calloc(n, sizeof(*c->put));
	c->ver = calloc(n, sizeof(*c->ver));
	c->path = calloc(n, sizeof(*c->path));
	c->mac = calloc(n, sizeof(*c->mac));
	c->mac_ver = calloc(n, sizeof(*c->mac_ver));
	return c->m && c->order && c->put && c->ver && c->path && c->mac &&
	       c->mac_ver ? 0 : -1;
}

static void ctx_free(struct bctx *c)
{
	for (size_t i = 0; c->path && i < c->n; i++)
		vc_buf_release(&c->path[i]);
	free(c->path);
	free(c->mac_ver);
	free(c->mac);
	free(c->ver);
	free(c->put);
	free(c->order);
	free(c->m);
}

/* The role of each kind of change the batch holds: writes need a
 * member, removals and restores an admin, as rm and restore do. */
static int batch_may(struct vc_session *s, const struct vc_ref *env,
		     const struct vc_batch_item *items, size_t n,
		     struct vc_err *e)
{
	static const enum vc_secret_act act[] = {
		[VC_BATCH_PUT] = VC_SECRET_WRITE,
		[VC_BATCH_DELETE] = VC_SECRET_DELETE,
		[VC_BATCH_UNDELETE] = VC_SECRET_RESTORE,
	};
	int seen[ARRAY_SIZE(act)] = { 0 }, rc = vc_secret_may(s, env,
							  VC_SECRET_WRITE, e);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		enum vc_batch_op op = items[i].op;

		if (op < ARRAY_SIZE(act) && !seen[op]++)
			rc = vc_secret_may(s, env, act[op], e);
	}
	return rc;
}

int vc_secret_write_batch(struct vc_session *s, const struct vc_ref *env,
			  struct vc_batch_item *items, size_t n,
			  const struct vc_batch_opts *o, struct vc_err *e)
{
	struct bctx c = { .s = s, .env = env, .items = items, .n = n, .o = o };
	struct vc_db *db;
	int rc;

	if (o && o->reason && strlen(o->reason) > VC_SECRET_REASON_MAX)
		return vc_err_set(e, VC_EUSAGE, "reason is longer than %d bytes",
				  VC_SECRET_REASON_MAX);
	if (o && (o->concurrency < 0 ||
		  o->concurrency > VC_BATCH_CONCURRENCY_MAX))
		return vc_err_set(e, VC_EUSAGE, "concurrency must be from 1 to "
				  "%d", VC_BATCH_CONCURRENCY_MAX);
	rc = batch_may(s, env, items, n, e);
	if (rc < 0 || n == 0)
		return rc;
	rc = ctx_alloc(&c) < 0 ? oom(e) : names_sort(&c, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	/* Before the quota lock: no Vault login or key file read while the
	 * organization's writers wait. */
	if (rc == 0)
		rc = vc_session_store(s, &c.st, e);
	if (rc == 0)
		rc = write_all(db, &c, e);
	signals_release(&c);
	ctx_free(&c);
	return rc;
}
