/* secret_list.c - what is known about secrets besides their values: the
 * listing of an environment and the versions of one secret. */
#include "secret.h"

#include <stdio.h>
#include <time.h>

#include "store.h"

int vc_secret_list(struct vc_session *s, const struct vc_ref *ref,
		   struct vc_res **out, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_secret_may(s, ref, VC_SECRET_LIST, e);

	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_query(db, out, e, "SELECT sm.name, "
		"sm.version, sm.description, u.email, DATE_FORMAT(sm.updated_at, "
		"'%Y-%m-%dT%H:%i:%sZ'), sm.id FROM secret_metadata sm LEFT JOIN "
		"users u ON u.id = sm.created_by WHERE sm.environment = ? AND "
		"sm.deleted_at IS NULL ORDER BY sm.name", "s", ref->env_id);
}

static void iso(char out[24], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t) {
		out[0] = '\0';
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Who wrote version v, from the audit trail (details carry the version). */
static size_t author_row(struct vc_res *a, int v)
{
	for (size_t i = vc_res_rows(a); i-- > 0;)
		if (vc_res_int(a, i, 0) == v)
			return i;
	return (size_t)-1;
}

/* The store knows the versions and their states, the audit trail who
 * wrote each, how and why: one row a version, newest first. */
static int history_rows(const struct vc_store_meta *m, struct vc_res *a,
			struct vc_table *t, struct vc_err *e)
{
	char created[24], num[16];

	for (size_t i = m->nversions; i-- > 0;) {
		const struct vc_store_version *v = &m->versions[i];
		size_t k = author_row(a, v->version);
		snprintf(num, sizeof(num), "%d", v->version);
		iso(created, v->created);
		if (vc_table_addv(t, num, created, v->destroyed ? "destroyed" :
				  v->deleted ? "deleted" : "live",
				  k == (size_t)-1 ? NULL : vc_res_get(a, k, 1, NULL),
				  k == (size_t)-1 ? NULL : vc_res_get(a, k, 2, NULL),
				  k == (size_t)-1 ? NULL : vc_res_get(a, k, 3, NULL)) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	return 0;
}

/* The secret's id and its name as stored (the store's keys are
 * case-sensitive, names are not). */
static int find_secret(struct vc_db *db, const struct vc_ref *ref,
		       struct vc_res **id, struct vc_err *e)
{
	int rc = vc_db_query(db, id, e, "SELECT id, name FROM secret_metadata "
			     "WHERE project_id = ? AND environment = ? AND name "
			     "= ?", "sss", ref->project_id, ref->env_id,
			     ref->name);

	if (rc == 0 && vc_res_rows(*id) == 0)
		rc = vc_err_set(e, VC_ENOTFOUND, "not found");
	return rc;
}

static int authors(struct vc_db *db, const struct vc_ref *ref,
		   const char *id, struct vc_res **out, struct vc_err *e)
{
	return vc_db_query(db, out, e, "SELECT JSON_VALUE(a.details, "
			   "'$.version'), u.email, a.action, JSON_VALUE("
			   "a.details, '$.reason') FROM audit_logs a LEFT JOIN "
			   "users u ON u.id = a.user_id WHERE a.organization_id "
			   "= ? AND a.resource_id = ? AND a.action IN "
			   "('secret.create', 'secret.update', 'secret.rollback', "
			   "'secret.rotate') ORDER BY a.seq", "ss", ref->org_id,
			   id);
}

int vc_secret_history(struct vc_session *s, const struct vc_ref *ref,
		      struct vc_table *t, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store_meta m = { 0, 0, 0, NULL };
	struct vc_res *a = NULL, *id = NULL;
	struct vc_store *st;
	struct vc_db *db;
	int rc = t->ncols == 6 ? 0 : vc_err_set(e, VC_EFAIL, "history has six "
						 "columns");

	if (rc == 0)
		rc = vc_secret_may(s, ref, VC_SECRET_HISTORY, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = find_secret(db, ref, &id, e);
	if (rc == 0)
		rc = authors(db, ref, vc_res_get(id, 0, 0, NULL), &a, e);
	if (rc == 0)
		rc = vc_session_store(s, &st, e);
	if (rc == 0 && vc_store_path(&path, ref->org_id, ref->project_id,
				     ref->env_id, vc_res_get(id, 0, 1, NULL)) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = st->ops->meta(st, path.data, &m, e);
	if (rc == 0)
		rc = history_rows(&m, a, t, e);
	vc_store_meta_release(&m);
	vc_buf_release(&path);
	vc_res_free(a);
	vc_res_free(id);
	return rc;
}
