/* audit_reconcile.c - the metadata compared with the value store, and the
 * three repairs: adopting the store's version, aligning the store's
 * deleted state with the metadata's, removing an orphaned value. */
#include "auditlog.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "store.h"

/* One metadata row, by store path. */
struct mrow {
	char *path;
	size_t row;
	int seen;
};

struct recon {
	struct vc_session *s;
	struct vc_store *st;
	struct vc_res *meta, *envs;
	struct mrow *m;
	size_t nm;
	struct vc_drift *d;
	size_t nd, cap;
	char ids[3][64];        /* org, project, env of the folder walked */
	struct vc_err *e;
};

enum { M_ID, M_ORG, M_PROJECT, M_ENV, M_NAME, M_VERSION, M_ORGN, M_PROJN,
       M_ENVN, M_DELETED };

static int mrow_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mrow *)a)->path,
		      ((const struct mrow *)b)->path);
}

static int load_meta(struct recon *c, struct vc_db *db, const char *org_id)
{
	int rc;

	rc = vc_db_query(db, &c->meta, c->e, "SELECT sm.id, sm.organization_id, "
			 "sm.project_id, sm.environment, sm.name, sm.version, "
			 "o.name, p.name, en.name, sm.deleted_at IS NOT NULL "
			 "FROM secret_metadata sm JOIN "
			 "organizations o ON o.id = sm.organization_id JOIN "
			 "projects p ON p.id = sm.project_id JOIN environments en "
			 "ON en.id = sm.environment WHERE ? IS NULL OR "
			 "sm.organization_id = ?", "ss", org_id, org_id);
	if (rc == 0)
		rc = vc_db_query(db, &c->envs, c->e, "SELECT o.id, p.id, en.id, "
				 "o.name, p.name, en.name FROM environments en JOIN "
				 "projects p ON p.id = en.project_id JOIN "
				 "organizations o ON o.id = p.organization_id WHERE "
				 "? IS NULL OR o.id = ?", "ss", org_id, org_id);
	if (rc < 0)
		return rc;
	c->nm = vc_res_rows(c->meta);
	c->m = calloc(c->nm ? c->nm : 1, sizeof(*c->m));
	if (!c->m)
		return vc_err_set(c->e, VC_EFAIL, "out of memory");
	for (size_t i = 0; i < c->nm; i++) {
		struct vc_buf p = VC_BUF_INIT;
		if (vc_store_path(&p, vc_res_get(c->meta, i, M_ORG, NULL),
				  vc_res_get(c->meta, i, M_PROJECT, NULL),
				  vc_res_get(c->meta, i, M_ENV, NULL),
				  vc_res_get(c->meta, i, M_NAME, NULL)) < 0)
			return vc_err_set(c->e, VC_EFAIL, "out of memory");
		c->m[i].path = vc_buf_detach(&p, NULL);
		c->m[i].row = i;
	}
	qsort(c->m, c->nm, sizeof(*c->m), mrow_cmp);
	return 0;
}

static struct vc_drift *drift_add(struct recon *c, enum vc_drift_kind kind,
				  const char *path)
{
	struct vc_drift *d;

	if (c->nd == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		d = realloc(c->d, cap * sizeof(*d));
		if (!d)
			return NULL;
		c->d = d;
		c->cap = cap;
	}
	d = &c->d[c->nd++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	snprintf(d->path, sizeof(d->path), "%s", path);
	return d;
}

/* Names and ids of a metadata row. */
static void drift_meta(struct recon *c, struct vc_drift *d, size_t row)
{
	const struct vc_res *r = c->meta;

	snprintf(d->secret_id, sizeof(d->secret_id), "%s",
		 vc_res_get(r, row, M_ID, NULL));
	snprintf(d->org_id, sizeof(d->org_id), "%s", vc_res_get(r, row, M_ORG, NULL));
	snprintf(d->project_id, sizeof(d->project_id), "%s",
		 vc_res_get(r, row, M_PROJECT, NULL));
	snprintf(d->env_id, sizeof(d->env_id), "%s", vc_res_get(r, row, M_ENV, NULL));
	snprintf(d->name, sizeof(d->name), "%s", vc_res_get(r, row, M_NAME, NULL));
	snprintf(d->ref, sizeof(d->ref), "%s/%s/%s/%s",
		 vc_res_get(r, row, M_ORGN, NULL), vc_res_get(r, row, M_PROJN, NULL),
		 vc_res_get(r, row, M_ENVN, NULL), d->name);
	d->meta_version = (int)vc_res_int(r, row, M_VERSION);
}

/* An orphaned value: names from the environment when it still exists. */
static void drift_orphan(struct recon *c, struct vc_drift *d,
			 const char *name)
{
	const struct vc_res *r = c->envs;

	snprintf(d->org_id, sizeof(d->org_id), "%.36s", c->ids[0]);
	snprintf(d->project_id, sizeof(d->project_id), "%.36s", c->ids[1]);
	snprintf(d->env_id, sizeof(d->env_id), "%.36s", c->ids[2]);
	snprintf(d->name, sizeof(d->name), "%s", name);
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		if (strcmp(vc_res_get(r, i, 2, NULL), c->ids[2]) ||
		    strcmp(vc_res_get(r, i, 1, NULL), c->ids[1]) ||
		    strcmp(vc_res_get(r, i, 0, NULL), c->ids[0]))
			continue;
		snprintf(d->ref, sizeof(d->ref), "%s/%s/%s/%s",
			 vc_res_get(r, i, 3, NULL), vc_res_get(r, i, 4, NULL),
			 vc_res_get(r, i, 5, NULL), name);
		return;
	}
}

static int found_orphan(struct recon *c, const char *path, const char *name)
{
	struct vc_store_meta sm = { 0, 0, 0, NULL };
	struct vc_drift *d = drift_add(c, VC_DRIFT_ORPHAN_VALUE, path);
	int rc;

	if (!d)
		return vc_err_set(c->e, VC_EFAIL, "out of memory");
	drift_orphan(c, d, name);
	rc = c->st->ops->meta(c->st, path, &sm, c->e);
	d->store_version = sm.current_version;
	vc_store_meta_release(&sm);
	if (rc == VC_ENOTFOUND) {       /* gone since the listing */
		c->nd--;
		rc = 0;
	}
	return rc;
}

/* The store's current version, or NULL when it lists none. */
static const struct vc_store_version *current_of(const struct vc_store_meta *sm)
{
	for (size_t i = 0; i < sm->nversions; i++)
		if (sm->versions[i].version == sm->current_version)
			return &sm->versions[i];
	return NULL;
}

/* Whether the store and metadata row m disagree on the secret being
 * removed: the store's current version soft-deleted now (a deletion time
 * still to come, as a mount's delete_version_after sets, is not).  A
 * destroyed current version has no value to remove or give back: either
 * state is right for it. */
static int deleted_differs(const struct recon *c, const struct mrow *m,
			   const struct vc_store_meta *sm)
{
	const struct vc_store_version *v = current_of(sm);
	int deleted = v && v->deleted != 0 && v->deleted <= (int64_t)time(NULL);

	return v && !v->destroyed &&
	       deleted != (vc_res_int(c->meta, m->row, M_DELETED) != 0);
}

/* A finding of kind at path about metadata row m, the store at sm. */
static int found_drift(struct recon *c, enum vc_drift_kind kind,
		       const char *path, const struct mrow *m,
		       const struct vc_store_meta *sm)
{
	struct vc_drift *d = drift_add(c, kind, path);

	if (!d)
		return vc_err_set(c->e, VC_EFAIL, "out of memory");
	drift_meta(c, d, m->row);
	d->store_version = sm->current_version;
	d->meta_deleted = vc_res_int(c->meta, m->row, M_DELETED) != 0;
	return 0;
}

static int found_value(struct recon *c, const char *path, const char *name)
{
	struct vc_store_meta sm = { 0, 0, 0, NULL };
	struct mrow key = { (char *)path, 0, 0 }, *m;
	int rc;

	m = bsearch(&key, c->m, c->nm, sizeof(*c->m), mrow_cmp);
	if (!m)
		return found_orphan(c, path, name);
	rc = c->st->ops->meta(c->st, path, &sm, c->e);
	if (rc == VC_ENOTFOUND)         /* gone since the listing */
		return 0;
	m->seen = 1;
	if (rc == 0 && sm.current_version !=
	    (int)vc_res_int(c->meta, m->row, M_VERSION))
		rc = found_drift(c, VC_DRIFT_VERSION, path, m, &sm);
	else if (rc == 0 && deleted_differs(c, m, &sm))
		rc = found_drift(c, VC_DRIFT_DELETED, path, m, &sm);
	vc_store_meta_release(&sm);
	return rc;
}

/* The layout below the mount, one level of folders at a time:
 * organizations/O/projects/P/environments/E/secrets/NAME. */
static const char *const below[] = { "projects/", "environments/",
				      "secrets/" };

static int walk(struct recon *c, const char *prefix, int level)
{
	struct vc_buf sub = VC_BUF_INIT;
	char **keys = NULL;
	size_t n = 0;
	int rc = c->st->ops->list(c->st, prefix, &keys, &n, c->e);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t len = strlen(keys[i]);
		int folder = len && keys[i][len - 1] == '/';
		vc_buf_reset(&sub);
		if (vc_buf_printf(&sub, "%s%s%s", prefix, keys[i],
				  level < 3 && folder ? below[level] : "") < 0) {
			rc = vc_err_set(c->e, VC_EFAIL, "out of memory");
		} else if (level < 3 && folder) {
			snprintf(c->ids[level], sizeof(c->ids[level]), "%.*s",
				 (int)(len - 1), keys[i]);
			rc = walk(c, sub.data, level + 1);
		} else if (level == 3 && !folder) {
			rc = found_value(c, sub.data, keys[i]);
		}
	}
	vc_store_list_free(keys, n);
	vc_buf_release(&sub);
	return rc;
}

static int missing_values(struct recon *c)
{
	for (size_t i = 0; i < c->nm; i++) {
		struct vc_drift *d;
		if (c->m[i].seen)
			continue;
		d = drift_add(c, VC_DRIFT_NO_VALUE, c->m[i].path);
		if (!d)
			return vc_err_set(c->e, VC_EFAIL, "out of memory");
		drift_meta(c, d, c->m[i].row);
	}
	return 0;
}

static void recon_release(struct recon *c)
{
	for (size_t i = 0; i < c->nm; i++)
		free(c->m[i].path);
	free(c->m);
	vc_res_free(c->meta);
	vc_res_free(c->envs);
}

int vc_auditlog_reconcile(struct vc_session *s, const char *org_id,
			  struct vc_drift **out, size_t *n,
			  long long *secrets, struct vc_err *e)
{
	struct recon c;
	struct vc_buf top = VC_BUF_INIT;
	struct vc_db *db;
	int rc;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.e = e;
	*out = NULL;
	*n = 0;
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_session_store(s, &c.st, e);
	if (rc == 0)
		rc = load_meta(&c, db, org_id);
	if (rc == 0 && org_id) {
		snprintf(c.ids[0], sizeof(c.ids[0]), "%s", org_id);
		rc = vc_buf_printf(&top, "organizations/%s/projects/", org_id) < 0 ?
		     vc_err_set(e, VC_EFAIL, "out of memory") : 0;
		if (rc == 0)
			rc = walk(&c, top.data, 1);
	} else if (rc == 0) {
		rc = walk(&c, "organizations/", 0);
	}
	if (rc == 0)
		rc = missing_values(&c);
	*secrets = (long long)c.nm;
	recon_release(&c);
	vc_buf_release(&top);
	if (rc < 0) {
		free(c.d);
		return rc;
	}
	*out = c.d;
	*n = c.nd;
	return 0;
}

struct fix {
	struct vc_session *s;
	const struct vc_drift *d;
	struct vc_store *st;
};

/* One repair: txn in a transaction of the metadata's connection, the
 * store opened first when it is to change too. */
static int fix_run(struct vc_session *s, const struct vc_drift *d,
		   int (*txn)(struct vc_db *, void *, struct vc_err *),
		   int store, struct vc_err *e)
{
	struct fix f = { s, d, NULL };
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	if (rc == 0 && store)
		rc = vc_session_store(s, &f.st, e);
	return rc < 0 ? rc : vc_db_txn(db, txn, &f, e);
}

static int adopt_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct fix *f = arg;
	const struct vc_drift *d = f->d;
	unsigned long long n;
	char details[96];
	struct vc_audit_ev ev = { d->org_id, "secret.adopt_version", "secret",
				  d->secret_id, details };
	int rc;

	snprintf(details, sizeof(details), "{\"from\":%d,\"to\":%d,"
		 "\"reason\":\"reconcile\"}", d->meta_version, d->store_version);
	rc = vc_db_exec(db, &n, e, "UPDATE secret_metadata SET version = ?, "
			"updated_at = UTC_TIMESTAMP() WHERE id = ? AND version = ?",
			"isi", d->store_version, d->secret_id, d->meta_version);
	if (rc == 0 && n == 0)
		return vc_err_set(e, VC_ECONFLICT, "secret '%s' changed meanwhile; "
				  "run reconcile again", d->ref);
	return rc < 0 ? rc : vc_audit_write(f->s, db, &ev, 1, e);
}

int vc_auditlog_adopt(struct vc_session *s, const struct vc_drift *d,
		      struct vc_err *e)
{
	if (d->kind != VC_DRIFT_VERSION || d->store_version < 1)
		return vc_err_set(e, VC_EUSAGE, "nothing to adopt for '%s'",
				  d->path);
	return fix_run(s, d, adopt_txn, 0, e);
}

/* The metadata row as the scan saw it, locked until the commit. */
static int still_as_seen(struct vc_db *db, const struct vc_drift *d,
			 struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT version, deleted_at IS NOT "
			     "NULL FROM secret_metadata WHERE id = ? FOR UPDATE",
			     "s", d->secret_id);

	if (rc < 0)
		return rc;
	if (vc_res_rows(r) != 1 || vc_res_int(r, 0, 0) != d->meta_version ||
	    (vc_res_int(r, 0, 1) != 0) != d->meta_deleted)
		rc = vc_err_set(e, VC_ECONFLICT, "secret '%s' changed meanwhile; "
				"run reconcile again", d->ref);
	vc_res_free(r);
	return rc;
}

static int align_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct fix *f = arg;
	const struct vc_drift *d = f->d;
	char details[96];
	struct vc_audit_ev ev = { d->org_id, "secret.align_state", "secret",
				  d->secret_id, details };
	int rc = still_as_seen(db, d, e);

	if (rc == 0 && d->meta_deleted)
		rc = f->st->ops->del(f->st, d->path, &d->meta_version, 1, e);
	else if (rc == 0)
		rc = f->st->ops->undelete(f->st, d->path, &d->meta_version, 1,
					  e);
	if (rc < 0)
		return rc;
	snprintf(details, sizeof(details), "{\"version\":%d,\"store\":\"%s\","
		 "\"reason\":\"reconcile\"}", d->meta_version,
		 d->meta_deleted ? "deleted" : "undeleted");
	return vc_audit_write(f->s, db, &ev, 1, e);
}

int vc_auditlog_align(struct vc_session *s, const struct vc_drift *d,
		      struct vc_err *e)
{
	if (d->kind != VC_DRIFT_DELETED || d->meta_version < 1)
		return vc_err_set(e, VC_EUSAGE, "nothing to align for '%s'",
				  d->path);
	return fix_run(s, d, align_txn, 1, e);
}

/* {"name": ..., "path": ...}; names from the store may hold anything. */
static char *orphan_details(const struct vc_drift *d)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "name", d->name) &&
	    cJSON_AddStringToObject(o, "path", d->path) &&
	    cJSON_AddNumberToObject(o, "store_version", d->store_version) &&
	    cJSON_AddStringToObject(o, "reason", "reconcile"))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The audit row goes to the organization's chain, or to the global one
 * when the organization is gone (its chain is closed). */
static int orphan_event(struct vc_db *db, const struct vc_drift *d,
			struct vc_audit_ev *ev, struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT id FROM organizations WHERE "
			     "id = ?", "s", d->org_id);

	if (rc < 0)
		return rc;
	ev->action = "secret.remove_orphan";
	if (vc_res_rows(r)) {
		ev->org_id = d->org_id;
		ev->rtype = "environment";
		ev->rid = d->env_id;
	} else {
		ev->org_id = NULL;
		ev->rtype = "organization";
		ev->rid = d->org_id;
	}
	vc_res_free(r);
	return 0;
}

/* Byte for byte, as the store compares paths. */
static int still_orphan(struct vc_db *db, const struct vc_drift *d,
			struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM secret_metadata "
			     "WHERE project_id = ? AND environment = ? AND "
			     "CAST(name AS BINARY) = CAST(? AS BINARY)", "sss",
			     d->project_id, d->env_id, d->name);

	if (rc < 0)
		return rc;
	if (vc_res_int(r, 0, 0))
		rc = vc_err_set(e, VC_ECONFLICT, "'%s' has metadata now; left "
				"alone", d->path);
	vc_res_free(r);
	return rc;
}

static int drop_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct fix *f = arg;
	struct vc_audit_ev ev = { NULL, NULL, NULL, NULL, NULL };
	int rc;

	/* The quota lock, as a create takes it before writing its value:
	 * a create in flight finishes first, and is seen below. */
	rc = vc_db_exec(db, NULL, e, "UPDATE subscriptions SET write_seq = "
			"write_seq + 1 WHERE organization_id = ? AND status = "
			"'active'", "s", f->d->org_id);
	if (rc == 0)
		rc = orphan_event(db, f->d, &ev, e);
	if (rc == 0)
		rc = still_orphan(db, f->d, e);
	if (rc == 0)
		rc = f->st->ops->delete_all(f->st, f->d->path, e);
	if (rc == VC_ENOTFOUND)         /* a retry after it went */
		rc = 0;
	if (rc < 0)
		return rc;
	ev.details = orphan_details(f->d);
	rc = ev.details ? vc_audit_write(f->s, db, &ev, 1, e) :
	     vc_err_set(e, VC_EFAIL, "out of memory");
	free((char *)ev.details);
	return rc;
}

int vc_auditlog_drop_value(struct vc_session *s, const struct vc_drift *d,
			   struct vc_err *e)
{
	if (d->kind != VC_DRIFT_ORPHAN_VALUE)
		return vc_err_set(e, VC_EUSAGE, "'%s' is not an orphaned value",
				  d->path);
	return fix_run(s, d, drop_txn, 1, e);
}
