/* bulk.c - reading a whole environment at once: one metadata query, the
 * store's bulk get with several requests in flight, one audit statement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "secret.h"
#include "store.h"

void vc_secret_set_free(struct vc_secret_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		vc_buf_release(&set->v[i].value);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int wanted(const char *name, const char *const *only)
{
	if (!only)
		return 1;
	for (; *only; only++)
		if (!strcasecmp(*only, name))
			return 1;
	return 0;
}

static int check_only(const struct vc_secret_set *set,
		      const char *const *only, struct vc_err *e)
{
	for (; only && *only; only++) {
		size_t i;
		for (i = 0; i < set->n; i++)
			if (!strcasecmp(set->v[i].name, *only))
				break;
		if (i == set->n)
			return vc_err_set(e, VC_ENOTFOUND, "secret '%.80s' not found",
					  *only);
	}
	return 0;
}

static int load_names(struct vc_db *db, const struct vc_ref *ref,
		      const char *const *only, struct vc_secret_set *out,
		      struct vc_err *e)
{
	struct vc_res *r;
	size_t k = 0;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT name, id, version FROM "
			 "secret_metadata WHERE environment = ? AND deleted_at "
			 "IS NULL ORDER BY name", "s", ref->env_id);
	if (rc < 0)
		return rc;
	out->v = calloc(vc_res_rows(r) + 1, sizeof(*out->v));
	if (!out->v) {
		vc_res_free(r);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		if (!wanted(vc_res_get(r, i, 0, NULL), only))
			continue;
		snprintf(out->v[k].name, sizeof(out->v[k].name), "%s",
			 vc_res_get(r, i, 0, NULL));
		snprintf(out->v[k].id, sizeof(out->v[k].id), "%s",
			 vc_res_get(r, i, 1, NULL));
		out->v[k].version = (int)vc_res_int(r, i, 2);
		vc_buf_init(&out->v[k].value, 1);
		k++;
	}
	out->n = k;
	vc_res_free(r);
	return check_only(out, only, e);
}

static int fetch_values(struct vc_session *s, const struct vc_ref *ref,
			struct vc_secret_set *set, int concurrency,
			struct vc_err *e)
{
	struct vc_store_item *items = calloc(set->n + 1, sizeof(*items));
	struct vc_buf *paths = calloc(set->n + 1, sizeof(*paths));
	struct vc_buf folder = VC_BUF_INIT;
	struct vc_store *st;
	int rc = items && paths ? vc_session_store(s, &st, e) :
		 vc_err_set(e, VC_EFAIL, "out of memory");

	/* The folder once, then each name after it, each path allocated
	 * once: a thousand formatted paths showed in an export's profile. */
	if (rc == 0)
		rc = vc_store_path(&folder, ref->org_id, ref->project_id,
				   ref->env_id, "");
	for (size_t i = 0; rc == 0 && i < set->n; i++) {
		size_t len = strlen(set->v[i].name);
		if (vc_buf_grow(&paths[i], folder.len + len) < 0 ||
		    vc_buf_add(&paths[i], folder.data, folder.len) < 0 ||
		    vc_buf_add(&paths[i], set->v[i].name, len) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
		items[i].path = paths[i].data;
		vc_buf_init(&items[i].value, 1);
	}
	vc_buf_release(&folder);
	if (rc == 0 && set->n)
		rc = st->ops->get_many(st, items, set->n, concurrency, e);
	for (size_t i = 0; rc == 0 && i < set->n; i++) {
		if (items[i].rc < 0) {
			rc = vc_err_set(e, items[i].rc, "secret '%s': %s",
					set->v[i].name, items[i].err.msg);
			break;
		}
		set->v[i].value = items[i].value;
		vc_buf_init(&items[i].value, 1);
		set->v[i].version = items[i].got.version;
	}
	for (size_t i = 0; items && paths && i < set->n; i++) {
		vc_buf_release(&items[i].value);
		vc_buf_release(&paths[i]);
	}
	free(items);
	free(paths);
	return rc;
}

struct audit_job {
	struct vc_session *s;
	const struct vc_audit_ev *ev;
	size_t n;
};

/* Retried whole on a concurrent change of the chain head (on Galera, a
 * write of the same head on another node). */
static int audit_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct audit_job *j = arg;

	return vc_audit_write(j->s, db, j->ev, j->n, e);
}

/* One audit row per value read, all in one INSERT, committed.  Called by
 * the command once it knows the values will be used (an export refused
 * by its format reads nothing out and audits nothing); no lock is held
 * while the store is read (DESIGN.md section 3). */
int vc_secret_audit_reads(struct vc_session *s, const struct vc_ref *ref,
			  const struct vc_secret_set *set, struct vc_err *e)
{
	struct vc_audit_ev *ev;
	char (*det)[48];
	struct vc_db *db;
	int rc;

	if (set->n == 0)
		return 0;
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc < 0)
		return rc;
	ev = calloc(set->n, sizeof(*ev));
	det = calloc(set->n, sizeof(*det));
	if (!ev || !det) {
		free(ev);
		free(det);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < set->n; i++) {
		snprintf(det[i], sizeof(det[i]), "{\"version\":%d}",
			 set->v[i].version);
		ev[i] = (struct vc_audit_ev){ ref->org_id, "secret.read",
					      "secret", set->v[i].id, det[i] };
	}
	rc = vc_db_txn(db, audit_txn, &(struct audit_job){ s, ev, set->n }, e);
	free(ev);
	free(det);
	return rc;
}

int vc_secret_read_env(struct vc_session *s, const struct vc_ref *ref,
		       const char *const *only, int values, int concurrency,
		       struct vc_secret_set *out, struct vc_err *e)
{
	struct vc_db *db;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = vc_ref_need(s, ref, values ? VC_ROLE_MEMBER : VC_ROLE_VIEWER,
			 values ? "reading values" : "listing secrets", e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = load_names(db, ref, only, out, e);
	if (rc == 0 && values)
		rc = fetch_values(s, ref, out, concurrency, e);
	if (rc < 0)
		vc_secret_set_free(out);
	return rc;
}
