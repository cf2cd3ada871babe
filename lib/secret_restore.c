/* secret_restore.c - restore-env: an environment back as it was at a
 * point in time.
 *
 * What each secret was at TIME comes from two places.  The value store
 * keeps every version with its creation time, so the version current at
 * TIME is the newest one created by then.  Whether the secret was deleted
 * at TIME is not in the store (a restore clears a version's deletion
 * time), but the audit trail has it: the last lifecycle row of the secret
 * up to TIME says delete or not.  When retention pruned those rows, the
 * store's deletion time of that version is the best left.
 *
 * TIME has a resolution of one second, as the tables have: what happened
 * within the second of TIME counts as done by TIME.
 *
 * The plan is carried out as one batch of lib/batch.c: the rewrites,
 * removals and restores are one change of the metadata and of the store,
 * all of it or none, whatever fails or kills the run in between.
 */
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auditlog.h"
#include "batch.h"
#include "plan.h"
#include "store.h"

/* A secret as the metadata has it now, and what is known of it at TIME. */
struct now_then {
	const char *name;
	int version, deleted;   /* now */
	int existed;            /* its metadata row was made by TIME */
	int audit_deleted;      /* -1: no audit row by TIME */
};

static int parse_at(const char *at, char out[20], time_t *t,
		    struct vc_err *e)
{
	time_t now = time(NULL);
	struct tm tm;

	if (vc_auditlog_time(at, now, out, e) < 0)
		return VC_EUSAGE;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(out, "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return vc_err_set(e, VC_EUSAGE, "invalid time '%.80s'", at);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	if (*t > now)
		return vc_err_set(e, VC_EUSAGE, "time '%.80s' is in the future",
				  at);
	return 0;
}

/* Every secret of the environment, deleted ones too, with the last of its
 * lifecycle audit rows up to TIME (a write or restore makes it live). */
static int env_rows(struct vc_db *db, const struct vc_ref *env,
		    const char *at, struct vc_res **out, struct vc_err *e)
{
	return vc_db_query(db, out, e, "SELECT sm.name, sm.version, "
		"sm.deleted_at IS NOT NULL, sm.created_at <= ?, (SELECT "
		"a.action = 'secret.delete' FROM audit_logs a WHERE "
		"a.organization_id = ? AND a.resource_type = 'secret' AND "
		"a.resource_id = sm.id AND a.`timestamp` <= ? AND a.action IN "
		"('secret.create', 'secret.update', 'secret.rollback', "
		"'secret.rotate', 'secret.delete', 'secret.restore') ORDER BY "
		"a.seq DESC LIMIT 1) FROM secret_metadata sm WHERE "
		"sm.environment = ? ORDER BY sm.name", "ssss", at, env->org_id,
		at, env->env_id);
}

static const struct vc_store_version *version_at(const struct vc_store_meta *m,
						 time_t t)
{
	for (size_t i = m->nversions; i-- > 0;)
		if (m->versions[i].created <= (int64_t)t)
			return &m->versions[i];
	return NULL;
}

static int live_then(const struct now_then *s, const struct vc_store_version *v,
		     time_t t)
{
	if (!s->existed || !v)
		return 0;
	if (s->audit_deleted >= 0)
		return !s->audit_deleted;
	return !(v->deleted && v->deleted <= (int64_t)t);
}

static int store_path(const struct vc_ref *env, const char *name,
		      struct vc_buf *path, struct vc_err *e)
{
	vc_buf_reset(path);
	if (vc_store_path(path, env->org_id, env->project_id, env->env_id,
			  name) < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	return 0;
}

/* 1 when versions a and b hold the same bytes, 0 when not or when one
 * cannot be read as it is (a soft-deleted older version). */
static int same_bytes(struct vc_store *st, const char *path, int a, int b,
		      struct vc_err *e)
{
	struct vc_buf va = VC_BUF_INIT, vb = VC_BUF_INIT;
	struct vc_store_got g;
	int rc, same;

	va.secret = vb.secret = 1;
	rc = st->ops->get(st, path, a, &va, &g, e);
	if (rc == 0)
		rc = st->ops->get(st, path, b, &vb, &g, e);
	same = rc == 0 && va.len == vb.len &&
	       (!va.len || !memcmp(va.data, vb.data, va.len));
	vc_buf_release(&va);
	vc_buf_release(&vb);
	if (rc < 0 && rc != VC_ENOTFOUND)
		return rc;
	vc_err_clear(e);
	return same;
}

/* What to do for one secret, from the store's versions. */
static int decide(struct vc_store *st, const char *path,
		  const struct now_then *s, const struct vc_store_meta *m,
		  time_t t, const char *at, struct vc_restore_op *op,
		  struct vc_err *e)
{
	const struct vc_store_version *v = version_at(m, t);
	int same;

	op->from = v ? v->version : 0;
	/* Nothing of it is needed when it was deleted then. */
	if (s->existed && !v && s->audit_deleted != 1)
		return vc_err_set(e, VC_ECONFLICT, "secret '%s' existed at %s but "
				  "the store no longer keeps its version of then; "
				  "nothing was changed", s->name, at);
	if (!live_then(s, v, t)) {
		op->kind = s->deleted ? VC_RESTORE_UNCHANGED : VC_RESTORE_REMOVE;
		return 0;
	}
	if (!s->deleted && v->version == s->version) {
		op->kind = VC_RESTORE_UNCHANGED;
		return 0;
	}
	if (v->destroyed)
		return vc_err_set(e, VC_ECONFLICT, "version %d of secret '%s', "
				  "current at %s, is destroyed: it cannot be "
				  "brought back; nothing was changed", v->version,
				  s->name, at);
	if (s->deleted) {
		op->kind = VC_RESTORE_RESTORE;
		return 0;
	}
	same = same_bytes(st, path, v->version, s->version, e);
	if (same < 0)
		return same;
	op->kind = same ? VC_RESTORE_UNCHANGED : VC_RESTORE_REVERT;
	return 0;
}

static int plan_one(struct vc_store *st, const struct vc_ref *env,
		    const struct now_then *s, time_t t, const char *at,
		    struct vc_restore_op *op, struct vc_err *e)
{
	struct vc_store_meta m = { 0, 0, 0, NULL };
	struct vc_buf path = VC_BUF_INIT;
	int rc = store_path(env, s->name, &path, e);

	snprintf(op->name, sizeof(op->name), "%s", s->name);
	op->expect = s->version;
	if (rc == 0)
		rc = st->ops->meta(st, path.data, &m, e);
	if (rc == 0)
		rc = decide(st, path.data, s, &m, t, at, op, e);
	vc_store_meta_release(&m);
	vc_buf_release(&path);
	return rc;
}

static int plan_rows(struct vc_store *st, const struct vc_ref *env,
		     struct vc_res *r, time_t t, struct vc_restore_plan *p,
		     struct vc_err *e)
{
	size_t n = vc_res_rows(r);
	int rc = 0;

	p->ops = calloc(n ? n : 1, sizeof(*p->ops));
	if (!p->ops)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct now_then s = {
			vc_res_get(r, i, 0, NULL), (int)vc_res_int(r, i, 1),
			vc_res_int(r, i, 2) != 0, vc_res_int(r, i, 3) != 0,
			vc_res_get(r, i, 4, NULL) ? (int)vc_res_int(r, i, 4) : -1,
		};
		rc = plan_one(st, env, &s, t, p->at, &p->ops[i], e);
		if (rc == 0)
			p->count[p->ops[i].kind]++;
		p->n = i + 1;
	}
	return rc;
}

/* Secrets that become live less those that stop being: what the batch
 * adds to the organization's count. */
static long plan_need(const struct vc_restore_plan *p)
{
	return (long)p->count[VC_RESTORE_RESTORE] -
	       (long)p->count[VC_RESTORE_REMOVE];
}

int vc_secret_restore_plan(struct vc_session *s, const struct vc_ref *env,
			   const char *at, struct vc_restore_plan *plan,
			   struct vc_err *e)
{
	struct vc_plan_usage u;
	struct vc_res *r = NULL;
	struct vc_store *st;
	struct vc_db *db;
	time_t t = 0;
	int rc;

	memset(plan, 0, sizeof(*plan));
	rc = env->depth == 3 ? 0 : vc_err_set(e, VC_EUSAGE, "restore-env "
					       "takes ORG/PROJECT/ENV");
	if (rc == 0)
		rc = parse_at(at, plan->at, &t, e);
	if (rc == 0)
		rc = vc_secret_may(s, env, VC_SECRET_RESTORE, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	if (rc == 0)
		rc = env_rows(db, env, plan->at, &r, e);
	if (rc == 0)
		rc = plan_rows(st, env, r, t, plan, e);
	vc_res_free(r);
	if (rc == 0 && plan_need(plan) > 0)
		rc = vc_plan_check(s, env, plan_need(plan), &u, e);
	if (rc < 0)
		vc_secret_restore_plan_release(plan);
	return rc;
}

void vc_secret_restore_plan_release(struct vc_restore_plan *plan)
{
	free(plan->ops);
	plan->ops = NULL;
	plan->n = 0;
}

/* The plan's changes as one batch (lib/batch.c); vals[i] holds what
 * items[i] writes, undeleted[i] the version undeleted to read it. */
struct rbatch {
	struct vc_batch_item *items;
	struct vc_buf *vals;
	int *undeleted;
	size_t n;
};

/* Version from's bytes; a version soft-deleted since (the secret was
 * deleted, then written again) is undeleted to be read, as the value it
 * holds is what the environment had at TIME, and *undeleted says so. */
static int read_version(struct vc_store *st, const struct vc_ref *env,
			const struct vc_restore_op *op, struct vc_buf *val,
			int *undeleted, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store_got g = { 0, 0, 0 };
	int rc = store_path(env, op->name, &path, e);

	if (rc == 0)
		rc = st->ops->get(st, path.data, op->from, val, &g, e);
	if (rc == VC_ENOTFOUND && g.deleted && !g.destroyed) {
		rc = st->ops->undelete(st, path.data, &op->from, 1, e);
		if (rc == 0)
			*undeleted = op->from;
		if (rc == 0)
			rc = st->ops->get(st, path.data, op->from, val, &g, e);
	}
	vc_buf_release(&path);
	return rc;
}

/* After a batch that failed, the versions undeleted to be read are
 * deleted again: nothing changed.  After one that went through they stay
 * readable, so that the next plan can compare their bytes.  A failure
 * here leaves an old version readable, no more. */
static void reread_undo(struct vc_store *st, const struct vc_ref *env,
			const struct rbatch *b)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_err ignored;

	for (size_t i = 0; i < b->n; i++)
		if (b->undeleted[i] &&
		    store_path(env, b->items[i].name, &path, &ignored) == 0)
			st->ops->del(st, path.data, &b->undeleted[i], 1, &ignored);
	vc_buf_release(&path);
}

/* A change of the plan as a batch item: a removal and a restore of the
 * version current now are the store's delete and undelete; the rest
 * writes the value of then as a new version, as rollback does. */
static int plan_item(struct vc_store *st, const struct vc_ref *env,
		     const struct vc_restore_op *op, struct rbatch *b,
		     struct vc_err *e)
{
	struct vc_batch_item *it = &b->items[b->n];
	struct vc_buf *val = &b->vals[b->n];
	int rc = 0;

	*it = (struct vc_batch_item){ .name = op->name, .expect = op->expect,
				      .op = VC_BATCH_PUT };
	vc_buf_init(val, 1);
	if (op->kind == VC_RESTORE_REMOVE)
		it->op = VC_BATCH_DELETE;
	else if (op->kind == VC_RESTORE_RESTORE && op->from == op->expect)
		it->op = VC_BATCH_UNDELETE;
	else
		rc = read_version(st, env, op, val, &b->undeleted[b->n], e);
	if (it->op == VC_BATCH_PUT) {
		it->action = "secret.rollback";
		it->from = op->from;
		it->val = val->data ? val->data : "";
		it->len = val->len;
	}
	b->n++;
	return rc < 0 ? vc_err_prefix(e, "secret '%s'", op->name) : 0;
}

static int rbatch_make(struct vc_store *st, const struct vc_ref *env,
		       const struct vc_restore_plan *plan, struct rbatch *b,
		       struct vc_err *e)
{
	size_t k = plan->n + 1;
	int rc = 0;

	b->items = calloc(k, sizeof(*b->items));
	b->vals = calloc(k, sizeof(*b->vals));
	b->undeleted = calloc(k, sizeof(*b->undeleted));
	if (!b->items || !b->vals || !b->undeleted)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t i = 0; rc == 0 && i < plan->n; i++)
		if (plan->ops[i].kind != VC_RESTORE_UNCHANGED)
			rc = plan_item(st, env, &plan->ops[i], b, e);
	return rc;
}

static void rbatch_free(struct rbatch *b)
{
	for (size_t i = 0; b->vals && i < b->n; i++)
		vc_buf_release(&b->vals[i]);
	free(b->vals);
	free(b->items);
	free(b->undeleted);
}

int vc_secret_restore_apply(struct vc_session *s, const struct vc_ref *env,
			    const struct vc_restore_plan *plan,
			    const volatile sig_atomic_t *stop, struct vc_err *e)
{
	char reason[64];
	struct vc_batch_opts o = { reason, 0, stop };
	struct rbatch b = { NULL, NULL, NULL, 0 };
	struct vc_store *st = NULL;
	int rc = vc_secret_may(s, env, VC_SECRET_RESTORE, e);

	snprintf(reason, sizeof(reason), "restore-env --at '%s'", plan->at);
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	if (rc == 0)
		rc = rbatch_make(st, env, plan, &b, e);
	/* One change: the secrets that come back and those that go, each
	 * with its audit row, all or none (lib/batch.c). */
	if (rc == 0)
		rc = vc_secret_write_batch(s, env, b.items, b.n, &o, e);
	if (rc < 0 && b.undeleted)
		reread_undo(st, env, &b);
	rbatch_free(&b);
	return rc;
}
