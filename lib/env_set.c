/* env_set.c - an environment renamed, described, and the number of
 * versions each of its secrets keeps, in both stores (env set). */
#include "org.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "store.h"

struct env_set {
	struct vc_session *s;
	const struct vc_ref *ref;
	const char *name, *desc;
	int max;                /* -1: unchanged */
};

static int env_set_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct env_set *a = arg;
	char det[48] = "";
	struct vc_audit_ev ev = { a->ref->org_id, "env.update", "environment",
				  a->ref->env_id, NULL };
	int rc;

	rc = vc_db_exec(db, NULL, e, "UPDATE environments SET name = "
			"COALESCE(?, name), description = COALESCE(?, "
			"description), max_versions = IF(? < 0, max_versions, ?), "
			"updated_at = UTC_TIMESTAMP() WHERE id = ?", "ssiis",
			a->name, a->desc, a->max, a->max, a->ref->env_id);
	if (rc == VC_ECONFLICT)
		return vc_err_set(e, VC_ECONFLICT, "environment '%s' already "
				  "exists", a->name);
	if (a->max >= 0) {
		snprintf(det, sizeof(det), "{\"max_versions\":%d}", a->max);
		ev.details = det;
	}
	return rc < 0 ? rc : vc_audit_write(a->s, db, &ev, 1, e);
}

/* After the commit, every secret of the environment, removed ones too,
 * gets the limit in the store; the writes to come set it again, so a
 * failure here is mended by the next write of that secret. */
static int keys_set_max(struct vc_session *s, struct vc_db *db,
			const struct vc_ref *ref, int max, struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store *st;
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT name FROM secret_metadata "
			     "WHERE environment = ?", "s", ref->env_id);

	if (rc < 0)
		return rc;
	if (vc_res_rows(r))
		rc = vc_session_store(s, &st, e);
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		vc_buf_reset(&path);
		rc = vc_store_path(&path, ref->org_id, ref->project_id,
				   ref->env_id, vc_res_get(r, i, 0, NULL));
		if (rc == 0)
			rc = st->ops->set_max(st, path.data, max, e);
	}
	vc_buf_release(&path);
	vc_res_free(r);
	return rc;
}

int vc_env_set(struct vc_session *s, const struct vc_ref *ref,
	       const char *name, const char *desc, int max_versions,
	       struct vc_err *e)
{
	struct env_set a = { s, ref, name, desc, max_versions };
	struct vc_db *db;
	int rc = vc_ref_need(s, ref, VC_ROLE_ADMIN, "changing an environment",
			     e);

	if (rc == 0 && !name && !desc && max_versions < 0)
		rc = vc_err_set(e, VC_EUSAGE, "nothing to change (use --name, "
				"--description or --max-versions)");
	if (rc == 0 && name)
		rc = vc_name_check("environment", name, e);
	if (rc == 0 && desc && strlen(desc) > 65535)
		rc = vc_err_set(e, VC_EUSAGE, "description is longer than "
				"65535 bytes");
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_db_txn(db, env_set_txn, &a, e);
	if (rc == 0 && max_versions >= 0)
		rc = keys_set_max(s, db, ref, max_versions, e);
	return rc;
}
