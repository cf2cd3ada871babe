/* list.c - vaultctl-secret list|history */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "secretcmd.h"
#include "store.h"

static const struct vc_col list_cols[] = {
	{ "name", VC_COL_STR }, { "version", VC_COL_NUM },
	{ "description", VC_COL_STR }, { "created_by", VC_COL_STR },
	{ "updated_at", VC_COL_STR }, { "id", VC_COL_STR },
};

int cmd_list(struct cli *c)
{
	struct vc_ref ref;
	struct vc_res *r;
	int rc = secret_ref(c, 0, 3, &ref);

	if (rc == 0)
		rc = vc_ref_need(&c->s, &ref, VC_ROLE_VIEWER, "listing secrets",
				 &c->err);
	if (rc == 0)
		rc = vc_db_query(c->s.db[VC_DB_METADATA], &r, &c->err,
				 "SELECT sm.name, sm.version, sm.description, "
				 "u.email, DATE_FORMAT(sm.updated_at, "
				 "'%Y-%m-%dT%H:%i:%sZ'), sm.id FROM "
				 "secret_metadata sm LEFT JOIN users u ON u.id = "
				 "sm.created_by WHERE sm.environment = ? AND "
				 "sm.deleted_at IS NULL ORDER BY sm.name", "s",
				 ref.env_id);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot list '%s'", c->args[0]);
	rc = cli_print_res(c, list_cols, 6, r, 0);
	vc_res_free(r);
	return rc;
}

static const struct vc_col hist_cols[] = {
	{ "version", VC_COL_NUM }, { "created_at", VC_COL_STR },
	{ "state", VC_COL_STR }, { "author", VC_COL_STR },
	{ "action", VC_COL_STR }, { "reason", VC_COL_STR },
};

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

static int history_rows(struct cli *c, struct vc_store_meta *m,
			struct vc_res *a)
{
	struct vc_table t;
	char created[24];
	int rc = 0;

	vc_table_init(&t, hist_cols, 6);
	for (size_t i = m->nversions; i-- > 0 && rc == 0;) {
		const struct vc_store_version *v = &m->versions[i];
		char num[16];
		size_t k = author_row(a, v->version);
		snprintf(num, sizeof(num), "%d", v->version);
		iso(created, v->created);
		rc = vc_table_addv(&t, num, created, v->destroyed ? "destroyed" :
				   v->deleted ? "deleted" : "live",
				   k == (size_t)-1 ? NULL : vc_res_get(a, k, 1, NULL),
				   k == (size_t)-1 ? NULL : vc_res_get(a, k, 2, NULL),
				   k == (size_t)-1 ? NULL : vc_res_get(a, k, 3, NULL));
	}
	if (rc == 0)
		rc = cli_print_table(c, &t, 0);
	vc_table_release(&t);
	return rc;
}

int cmd_history(struct cli *c)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store_meta m = { 0, 0, 0, NULL };
	struct vc_store *st;
	struct vc_res *a = NULL, *id = NULL;
	struct vc_ref ref;
	int rc = secret_ref(c, 0, 4, &ref);

	if (rc == 0)
		rc = vc_ref_need(&c->s, &ref, VC_ROLE_MEMBER, "reading history",
				 &c->err);
	if (rc == 0)
		rc = vc_db_query(c->s.db[VC_DB_METADATA], &id, &c->err, "SELECT id, "
				 "name FROM secret_metadata WHERE project_id = ? AND "
				 "environment = ? AND name = ?", "sss",
				 ref.project_id, ref.env_id, ref.name);
	if (rc == 0 && vc_res_rows(id) == 0)
		rc = cli_fail(c, VC_ENOTFOUND, "not found");
	if (rc == 0)
		rc = vc_db_query(c->s.db[VC_DB_METADATA], &a, &c->err,
				 "SELECT JSON_VALUE(a.details, '$.version'), "
				 "u.email, a.action, JSON_VALUE(a.details, "
				 "'$.reason') FROM audit_logs a LEFT JOIN users u "
				 "ON u.id = a.user_id WHERE a.organization_id = ? "
				 "AND a.resource_id = ? AND a.action IN "
				 "('secret.create', 'secret.update', "
				 "'secret.rollback', 'secret.rotate') ORDER BY "
				 "a.seq", "ss", ref.org_id,
				 vc_res_get(id, 0, 0, NULL));
	if (rc == 0)
		rc = vc_session_store(&c->s, &st, &c->err);
	/* The stored name: the store's keys are case-sensitive. */
	if (rc == 0)
		rc = vc_store_path(&path, ref.org_id, ref.project_id, ref.env_id,
				   vc_res_get(id, 0, 1, NULL));
	if (rc == 0)
		rc = st->ops->meta(st, path.data, &m, &c->err);
	if (rc == 0)
		rc = history_rows(c, &m, a);
	vc_store_meta_release(&m);
	vc_buf_release(&path);
	vc_res_free(a);
	vc_res_free(id);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot read the history of '%s'",
				     c->args[0]);
	return 0;
}
