/* org.c - organizations, members, projects and environments.
 * Every change writes its audit row in the same transaction. */
#include "org.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store.h"

static int field_len(const char *what, const char *v, size_t max,
		     struct vc_err *e)
{
	if (v && strlen(v) > max)
		return vc_err_set(e, VC_EUSAGE, "%s is longer than %zu bytes",
				  what, max);
	return 0;
}

struct create {
	struct vc_session *s;
	const char *name, *desc, *plan, *owner;
	char id[37];
};

static int find_plan(struct vc_db *db, const char *plan, char id[37],
		     long long *limit, int *unlimited, struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT id, secrets_limit FROM plans WHERE "
			 "name = ? OR id = ?", "ss", plan ? plan : "free",
			 plan ? plan : "free");
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0) {
		vc_res_free(r);
		id[0] = '\0';
		return plan ? vc_err_set(e, VC_ENOTFOUND, "plan '%.80s' not found",
					 plan) : 0;
	}
	snprintf(id, 37, "%s", vc_res_get(r, 0, 0, NULL));
	*unlimited = vc_res_get(r, 0, 1, NULL) == NULL;
	*limit = vc_res_int(r, 0, 1);
	vc_res_free(r);
	return 0;
}

static int subscribe_new(struct vc_db *db, const char *org, const char *plan,
			 long long limit, int unlimited, struct vc_err *e)
{
	char id[37];

	vc_uuid(id);
	if (unlimited)
		return vc_db_exec(db, NULL, e, "INSERT INTO subscriptions (id, "
				  "organization_id, plan_id, status, secrets_limit, "
				  "start_date, end_date, created_at, updated_at) "
				  "VALUES (?, ?, ?, 'active', NULL, UTC_TIMESTAMP(), "
				  "NULL, UTC_TIMESTAMP(), UTC_TIMESTAMP())", "sss",
				  id, org, plan);
	return vc_db_exec(db, NULL, e, "INSERT INTO subscriptions (id, "
			  "organization_id, plan_id, status, secrets_limit, "
			  "start_date, end_date, created_at, updated_at) VALUES "
			  "(?, ?, ?, 'active', ?, UTC_TIMESTAMP(), NULL, "
			  "UTC_TIMESTAMP(), UTC_TIMESTAMP())", "sssl", id, org,
			  plan, limit);
}

static int owner_id(struct vc_session *s, struct vc_db *db, const char *email,
		    char id[37], struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	if (!email || !strcasecmp(email, s->user.email)) {
		snprintf(id, 37, "%s", s->user.id);
		return 0;
	}
	if (!vc_session_is_admin(s))
		return vc_ref_need_admin(s, "only global admins create "
					 "organizations for others", e);
	rc = vc_db_query(db, &r, e, "SELECT id FROM users WHERE email = ?", "s",
			 email);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0)
		rc = vc_err_set(e, VC_ENOTFOUND, "user '%.80s' not found", email);
	else
		snprintf(id, 37, "%s", vc_res_get(r, 0, 0, NULL));
	vc_res_free(r);
	return rc;
}

static int create_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct create *a = arg;
	struct vc_audit_ev ev = { a->id, "org.create", "organization", a->id,
				  NULL };
	char plan[37], owner[37], sid[37];
	long long limit = 0;
	int unlimited = 0, rc;

	rc = owner_id(a->s, db, a->owner, owner, e);
	if (rc == 0)
		rc = find_plan(db, a->plan, plan, &limit, &unlimited, e);
	if (rc < 0)
		return rc;
	vc_uuid(a->id);
	rc = vc_db_exec(db, NULL, e, "INSERT INTO organizations (id, name, "
			"description, plan_id, created_at, updated_at, owner_id) "
			"VALUES (?, ?, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP(), ?)",
			"sssss", a->id, a->name, a->desc, plan[0] ? plan : NULL,
			owner);
	if (rc == VC_ECONFLICT)
		return vc_err_set(e, VC_ECONFLICT, "organization '%s' already "
				  "exists", a->name);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "INSERT INTO user_organizations "
				"(user_id, organization_id, role, created_at, "
				"updated_at) VALUES (?, ?, 'owner', UTC_TIMESTAMP(), "
				"UTC_TIMESTAMP())", "ss", owner, a->id);
	vc_uuid(sid);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "INSERT INTO usage_statistics (id, "
				"organization_id, secret_count, api_calls, "
				"last_updated) VALUES (?, ?, 0, 0, UTC_TIMESTAMP())",
				"ss", sid, a->id);
	if (rc == 0 && plan[0])
		rc = subscribe_new(db, a->id, plan, limit, unlimited, e);
	return rc < 0 ? rc : vc_audit_write(a->s, db, &ev, 1, e);
}

int vc_org_create(struct vc_session *s, const char *name, const char *desc,
		  const char *plan, const char *owner, struct vc_err *e)
{
	struct create a = { s, name, desc, plan, owner, "" };
	struct vc_db *db;
	int rc = vc_name_check("organization", name, e);

	if (rc == 0)
		rc = field_len("description", desc, 65535, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, create_txn, &a, e);
}

/* Renames and describes organizations (depth 1) and projects (depth 2). */
struct set {
	struct vc_session *s;
	const struct vc_ref *ref;
	const char *name, *desc;
};

static int set_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct set *a = arg;
	int org = a->ref->depth == 1;
	const char *id = org ? a->ref->org_id : a->ref->project_id;
	struct vc_audit_ev ev = { a->ref->org_id, org ? "org.update" :
				  "project.update", org ? "organization" :
				  "project", id, NULL };
	int rc;

	rc = vc_db_exec(db, NULL, e, org ?
			"UPDATE organizations SET name = COALESCE(?, name), "
			"description = COALESCE(?, description), updated_at = "
			"UTC_TIMESTAMP() WHERE id = ?" :
			"UPDATE projects SET name = COALESCE(?, name), "
			"description = COALESCE(?, description), updated_at = "
			"UTC_TIMESTAMP() WHERE id = ?", "sss", a->name, a->desc, id);
	if (rc == VC_ECONFLICT)
		return vc_err_set(e, VC_ECONFLICT, "%s '%s' already exists",
				  org ? "organization" : "project", a->name);
	return rc < 0 ? rc : vc_audit_write(a->s, db, &ev, 1, e);
}

static int do_set(struct vc_session *s, const struct vc_ref *ref,
		  const char *name, const char *desc, struct vc_err *e)
{
	struct set a = { s, ref, name, desc };
	struct vc_db *db;
	int rc = 0;

	if (!name && !desc)
		return vc_err_set(e, VC_EUSAGE, "nothing to change (use --name "
				  "or --description)");
	if (name)
		rc = vc_name_check(ref->depth == 1 ? "organization" : "project",
				   name, e);
	if (rc == 0)
		rc = field_len("description", desc, 65535, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, set_txn, &a, e);
}

int vc_org_set(struct vc_session *s, const struct vc_ref *ref,
	       const char *name, const char *desc, struct vc_err *e)
{
	int rc = vc_ref_need(s, ref, VC_ROLE_OWNER,
			     "changing the organization", e);

	return rc < 0 ? rc : do_set(s, ref, name, desc, e);
}

int vc_project_set(struct vc_session *s, const struct vc_ref *ref,
		   const char *name, const char *desc, struct vc_err *e)
{
	int rc = vc_ref_need(s, ref, VC_ROLE_ADMIN, "changing a project", e);

	return rc < 0 ? rc : do_set(s, ref, name, desc, e);
}

/* ---- removal ---- */

static const char *const scope_col[] = { "", "organization_id",
					 "project_id", "environment" };

/* The store paths of every secret in ref's scope (organization_id,
 * project_id, environment, name), locked when lock. */
static int values_of(struct vc_db *db, const struct vc_ref *ref, int lock,
		     struct vc_res **r, struct vc_err *e)
{
	const char *id = ref->depth == 1 ? ref->org_id : ref->depth == 2 ?
			 ref->project_id : ref->env_id;
	struct vc_buf sql = VC_BUF_INIT;
	int rc;

	if (vc_buf_printf(&sql, "SELECT organization_id, project_id, "
			  "environment, name FROM secret_metadata WHERE %s = ?%s",
			  scope_col[ref->depth], lock ? " FOR UPDATE" : "") < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	rc = vc_db_query(db, r, e, sql.data, "s", id);
	vc_buf_release(&sql);
	return rc;
}

/* After the metadata's commit: a value left behind is an orphan that
 * reconcile finds, whereas a value removed before a transaction that
 * then failed would be lost with its metadata still there. */
static int remove_values(struct vc_session *s, const struct vc_res *r,
			 struct vc_err *e)
{
	struct vc_buf path = VC_BUF_INIT;
	struct vc_store *st;
	int rc = vc_res_rows(r) ? vc_session_store(s, &st, e) : 0;

	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		vc_buf_reset(&path);
		rc = vc_store_path(&path, vc_res_get(r, i, 0, NULL),
				   vc_res_get(r, i, 1, NULL),
				   vc_res_get(r, i, 2, NULL),
				   vc_res_get(r, i, 3, NULL));
		if (rc == 0)
			rc = st->ops->delete_all(st, path.data, e);
		if (rc == VC_ENOTFOUND)
			rc = 0;         /* already gone: nothing to lose */
	}
	vc_buf_release(&path);
	return rc;
}

struct rm {
	struct vc_session *s;
	const struct vc_ref *ref;
	struct vc_res *values;  /* what the committed transaction removed */
};

static int rm_env_rows(struct vc_db *db, const char *col, const char *id,
		       struct vc_err *e)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "DELETE FROM secret_metadata WHERE %s = ?",
		 col);
	return vc_db_exec(db, NULL, e, sql, "s", id);
}

static int rm_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct rm *a = arg;
	const struct vc_ref *r = a->ref;
	static const char *const what[] = { "", "org.delete", "project.delete",
					    "env.delete" };
	static const char *const type[] = { "", "organization", "project",
					    "environment" };
	const char *id = r->depth == 1 ? r->org_id : r->depth == 2 ?
			 r->project_id : r->env_id;
	struct vc_audit_ev ev = { r->org_id, what[r->depth], type[r->depth],
				  id, NULL };
	int rc;

	vc_res_free(a->values);         /* of an attempt that was retried */
	a->values = NULL;
	rc = values_of(db, r, 1, &a->values, e);
	/* The audit row first: it also counts an API call in the
	 * organization's usage_statistics row, which must still exist (its
	 * foreign key); removing the organization then removes that row. */
	if (rc == 0)
		rc = vc_audit_write(a->s, db, &ev, 1, e);

	if (rc == 0)
		rc = rm_env_rows(db, scope_col[r->depth], id, e);

	if (rc == 0 && r->depth == 3)
		rc = vc_db_exec(db, NULL, e, "DELETE FROM environments WHERE id "
				"= ?", "s", id);
	if (rc == 0 && r->depth <= 2)
		rc = vc_db_exec(db, NULL, e, r->depth == 2 ?
				"DELETE en FROM environments en WHERE "
				"en.project_id = ?" : "DELETE en FROM environments "
				"en JOIN projects p ON p.id = en.project_id WHERE "
				"p.organization_id = ?", "s", id);
	if (rc == 0 && r->depth == 2)
		rc = vc_db_exec(db, NULL, e, "DELETE FROM projects WHERE id = ?",
				"s", id);
	if (rc == 0 && r->depth == 1) {
		static const char *const del[] = {
			"DELETE FROM projects WHERE organization_id = ?",
			"DELETE FROM user_organizations WHERE organization_id = ?",
			"DELETE FROM subscriptions WHERE organization_id = ?",
			"DELETE FROM usage_statistics WHERE organization_id = ?",
			"DELETE FROM organizations WHERE id = ?",
		};
		for (size_t i = 0; rc == 0 && i < 5; i++)
			rc = vc_db_exec(db, NULL, e, del[i], "s", id);
	}
	if (rc == 0 && r->depth > 1)
		rc = vc_db_exec(db, NULL, e, "UPDATE usage_statistics SET "
				"secret_count = (SELECT COUNT(*) FROM "
				"secret_metadata WHERE organization_id = ? AND "
				"deleted_at IS NULL) WHERE organization_id = ?",
				"ss", r->org_id, r->org_id);
	return rc;
}

int vc_org_may_remove(struct vc_session *s, const struct vc_ref *ref,
		      struct vc_err *e)
{
	return vc_ref_need(s, ref, ref->depth == 1 ? VC_ROLE_OWNER :
			   VC_ROLE_ADMIN, ref->depth == 1 ?
			   "removing the organization" :
			   "removing projects and environments", e);
}

int vc_org_remove(struct vc_session *s, const struct vc_ref *ref,
		  long long *secrets, struct vc_err *e)
{
	struct rm a = { s, ref, NULL };
	struct vc_store *st;
	struct vc_res *r = NULL;
	struct vc_db *db;
	int rc;

	*secrets = 0;
	rc = vc_org_may_remove(s, ref, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	/* The store is opened before the transaction (no Vault login under
	 * its locks), and one that cannot be opened changes nothing. */
	if (rc == 0)
		rc = values_of(db, ref, 0, &r, e);
	if (rc == 0 && vc_res_rows(r))
		rc = vc_session_store(s, &st, e);
	vc_res_free(r);
	if (rc == 0)
		rc = vc_db_txn(db, rm_txn, &a, e);
	if (rc == 0) {
		*secrets = (long long)vc_res_rows(a.values);
		rc = remove_values(s, a.values, e);
		if (rc < 0)
			vc_err_prefix(e, "its metadata was removed, but the "
				      "values of its %lld secret%s may remain in "
				      "the value store ('vaultctl-audit reconcile "
				      "--fix' removes them)", *secrets,
				      *secrets == 1 ? "" : "s");
	}
	vc_res_free(a.values);
	return rc;
}

/* ---- members ---- */

struct member {
	struct vc_session *s;
	const struct vc_ref *ref;
	const char *email;
	enum vc_role role;      /* VC_ROLE_NONE: remove */
	int add;
};

static int member_lookup(struct vc_db *db, const struct member *a, char id[37],
			 enum vc_role *cur, struct vc_err *e)
{
	struct vc_res *r;
	const char *role;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT u.id, uo.role FROM users u LEFT "
			 "JOIN user_organizations uo ON uo.user_id = u.id AND "
			 "uo.organization_id = ? WHERE u.email = ? FOR UPDATE",
			 "ss", a->ref->org_id, a->email);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0) {
		vc_res_free(r);
		return vc_err_set(e, VC_ENOTFOUND, "user '%.80s' not found", a->email);
	}
	snprintf(id, 37, "%s", vc_res_get(r, 0, 0, NULL));
	role = vc_res_get(r, 0, 1, NULL);
	*cur = VC_ROLE_NONE;
	if (role)
		vc_role_parse(role, cur, NULL);
	vc_res_free(r);
	return 0;
}

/* An organization always keeps at least one owner. */
static int keeps_owner(struct vc_db *db, const struct member *a,
		       enum vc_role cur, struct vc_err *e)
{
	struct vc_res *r;
	long long owners;
	int rc;

	if (cur != VC_ROLE_OWNER || a->role == VC_ROLE_OWNER)
		return 0;
	/* Two owners demoting each other at once must not both succeed: a
	 * written row serialises them, also across Galera nodes, where
	 * FOR UPDATE alone is local (doc/architecture.md, section 7). */
	rc = vc_db_exec(db, NULL, e, "UPDATE organizations SET updated_at = "
			"UTC_TIMESTAMP() WHERE id = ?", "s", a->ref->org_id);
	if (rc < 0)
		return rc;
	rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM user_organizations "
			 "WHERE organization_id = ? AND role = 'owner' FOR UPDATE",
			 "s", a->ref->org_id);
	if (rc < 0)
		return rc;
	owners = vc_res_int(r, 0, 0);
	vc_res_free(r);
	if (owners <= 1)
		return vc_err_set(e, VC_ECONFLICT, "'%s' is the last owner of "
				  "organization '%s'; make someone else owner "
				  "first", a->email, a->ref->org);
	return 0;
}

/* organizations.owner_id names an owner: when that user stops being one,
 * another owner (keeps_owner made sure there is one) takes the place, so
 * that the former owner can later be removed as a user. */
static int move_owner_of_record(struct vc_db *db, const char *org,
				const char *uid, struct vc_err *e)
{
	return vc_db_exec(db, NULL, e, "UPDATE organizations SET owner_id = "
			  "(SELECT uo.user_id FROM user_organizations uo WHERE "
			  "uo.organization_id = ? AND uo.role = 'owner' ORDER BY "
			  "uo.created_at, uo.user_id LIMIT 1), updated_at = "
			  "UTC_TIMESTAMP() WHERE id = ? AND owner_id = ?", "sss",
			  org, org, uid);
}

static int member_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct member *a = arg;
	struct vc_audit_ev ev = { a->ref->org_id, a->add ? "member.add" :
				  a->role ? "member.update" : "member.remove",
				  "user", NULL, NULL };
	enum vc_role cur;
	char uid[37];
	int rc = member_lookup(db, a, uid, &cur, e);

	ev.rid = uid;
	if (rc < 0)
		return rc;
	if (a->add && cur != VC_ROLE_NONE)
		return vc_err_set(e, VC_ECONFLICT, "'%s' is already a member "
				  "(%s)", a->email, vc_role_name(cur));
	if (!a->add && cur == VC_ROLE_NONE)
		return vc_err_set(e, VC_ENOTFOUND, "'%s' is not a member",
				  a->email);
	if (cur == VC_ROLE_OWNER && a->ref->role < VC_ROLE_OWNER) {
		vc_audit_denied(a->s, a->ref, "owner");
		return vc_err_set(e, VC_EPERM, "permission denied: only owners "
				  "manage owners");
	}
	rc = keeps_owner(db, a, cur, e);
	if (rc == 0 && a->add)
		rc = vc_db_exec(db, NULL, e, "INSERT INTO user_organizations "
				"(user_id, organization_id, role, created_at, "
				"updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(), "
				"UTC_TIMESTAMP())", "sss", uid, a->ref->org_id,
				vc_role_name(a->role));
	else if (rc == 0 && a->role)
		rc = vc_db_exec(db, NULL, e, "UPDATE user_organizations SET role "
				"= ?, updated_at = UTC_TIMESTAMP() WHERE user_id = ? "
				"AND organization_id = ?", "sss",
				vc_role_name(a->role), uid, a->ref->org_id);
	else if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "DELETE FROM user_organizations "
				"WHERE user_id = ? AND organization_id = ?", "ss",
				uid, a->ref->org_id);
	if (rc == 0 && cur == VC_ROLE_OWNER && a->role != VC_ROLE_OWNER)
		rc = move_owner_of_record(db, a->ref->org_id, uid, e);
	return rc < 0 ? rc : vc_audit_write(a->s, db, &ev, 1, e);
}

static int member_change(struct member *a, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_ref_need(a->s, a->ref, VC_ROLE_ADMIN, "managing members", e);

	if (rc == 0 && a->role == VC_ROLE_OWNER && a->ref->role < VC_ROLE_OWNER) {
		vc_audit_denied(a->s, a->ref, "owner");
		rc = vc_err_set(e, VC_EPERM, "permission denied: only owners "
				"manage owners");
	}
	if (rc == 0)
		rc = vc_session_db(a->s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, member_txn, a, e);
}

int vc_member_add(struct vc_session *s, const struct vc_ref *ref,
		  const char *email, enum vc_role role, struct vc_err *e)
{
	struct member a = { s, ref, email, role, 1 };

	return member_change(&a, e);
}

int vc_member_set(struct vc_session *s, const struct vc_ref *ref,
		  const char *email, enum vc_role role, struct vc_err *e)
{
	struct member a = { s, ref, email, role, 0 };

	return member_change(&a, e);
}

int vc_member_rm(struct vc_session *s, const struct vc_ref *ref,
		 const char *email, struct vc_err *e)
{
	struct member a = { s, ref, email, VC_ROLE_NONE, 0 };

	return member_change(&a, e);
}

/* ---- projects and environments ---- */

struct child {
	struct vc_session *s;
	const struct vc_ref *parent;
	const char *name, *desc;
};

static int child_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct child *a = arg;
	int proj = a->parent->depth == 1;
	char id[37];
	struct vc_audit_ev ev = { a->parent->org_id, proj ? "project.create" :
				  "env.create", proj ? "project" : "environment",
				  id, NULL };
	int rc;

	vc_uuid(id);
	if (proj)
		rc = vc_db_exec(db, NULL, e, "INSERT INTO projects (id, name, "
				"description, organization_id, created_at, "
				"updated_at, created_by) VALUES (?, ?, ?, ?, "
				"UTC_TIMESTAMP(), UTC_TIMESTAMP(), ?)", "sssss", id,
				a->name, a->desc, a->parent->org_id, a->s->user.id);
	else
		rc = vc_db_exec(db, NULL, e, "INSERT INTO environments (id, name, "
				"description, project_id, created_at, updated_at) "
				"VALUES (?, ?, ?, ?, UTC_TIMESTAMP(), "
				"UTC_TIMESTAMP())", "ssss", id, a->name, a->desc,
				a->parent->project_id);
	if (rc == VC_ECONFLICT)
		return vc_err_set(e, VC_ECONFLICT, "%s '%s' already exists in "
				  "'%s'", proj ? "project" : "environment",
				  a->name, a->parent->text);
	return rc < 0 ? rc : vc_audit_write(a->s, db, &ev, 1, e);
}

int vc_child_create(struct vc_session *s, const struct vc_ref *parent,
		    const char *name, const char *desc, struct vc_err *e)
{
	struct child a = { s, parent, name, desc };
	struct vc_db *db;
	int rc = vc_name_check(parent->depth == 1 ? "project" : "environment",
			       name, e);

	if (rc == 0)
		rc = field_len("description", desc, 65535, e);
	if (rc == 0)
		rc = vc_ref_need(s, parent, VC_ROLE_ADMIN, "creating projects "
				 "and environments", e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, child_txn, &a, e);
}

/* ---- listings: one row each, columns as org.h says ---- */

#define ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

static int query(struct vc_session *s, struct vc_res **out,
		 struct vc_err *e, const char *sql, const char *id)
{
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	return rc < 0 ? rc : vc_db_query(db, out, e, sql, "s", id);
}

/* An organization's row as listed, with the acting user's role in it
 * ("admin*" for a global admin who is not a member).  Parameters: the
 * acting user's global role and id. */
#define ORG_SELECT_COLS \
	"SELECT o.name, COALESCE(uo.role, IF(? = 'admin', 'admin*', NULL)), " \
	"pl.name, (SELECT COUNT(*) FROM secret_metadata sm WHERE " \
	"sm.organization_id = o.id AND sm.deleted_at IS NULL), " \
	"(SELECT su.secrets_limit FROM subscriptions su WHERE " \
	"su.organization_id = o.id AND su.status = 'active' LIMIT 1), " \
	"(SELECT COUNT(*) FROM projects p WHERE p.organization_id = o.id), " \
	"ow.email, o.description, o.id, " ISO("o.created_at")
#define ORG_SELECT_FROM \
	"FROM organizations o " \
	"JOIN users ow ON ow.id = o.owner_id " \
	"LEFT JOIN plans pl ON pl.id = o.plan_id " \
	"LEFT JOIN user_organizations uo ON uo.organization_id = o.id AND " \
	"uo.user_id = ? "

int vc_org_list(struct vc_session *s, struct vc_res **out, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	return rc < 0 ? rc : vc_db_query(db, out, e, ORG_SELECT_COLS " "
		ORG_SELECT_FROM "WHERE uo.user_id IS NOT NULL OR ? = 'admin' "
		"ORDER BY o.name", "sss", s->user.role, s->user.id,
		s->user.role);
}

/* show adds the members and the projects with their environments: JSON
 * arrays, or one readable line each.  Built with GROUP_CONCAT and
 * JSON_QUOTE, which MariaDB and MySQL both have (not JSON_ARRAYAGG ...
 * ORDER BY, which MySQL lacks). */
#define MEMBER_ORDER "ORDER BY FIELD(m.role, 'owner', 'admin', 'member', " \
	"'viewer'), u.email"
#define SHOW_FROM_MEMBERS " FROM user_organizations m JOIN users u ON " \
	"u.id = m.user_id WHERE m.organization_id = o.id)"
#define SHOW_FROM_PROJECTS " FROM projects p WHERE p.organization_id = o.id)"
#define ENVS_OF(item, sep) "(SELECT GROUP_CONCAT(" item " ORDER BY en.name " \
	"SEPARATOR " sep ") FROM environments en WHERE en.project_id = p.id)"

static const char show_text_sql[] = ORG_SELECT_COLS ", "
	"(SELECT GROUP_CONCAT(CONCAT(u.email, ' (', m.role, ')') "
	MEMBER_ORDER " SEPARATOR ', ')" SHOW_FROM_MEMBERS ", "
	"(SELECT GROUP_CONCAT(CONCAT(p.name, ': ', COALESCE(" ENVS_OF("en.name",
	"', '") ", '-')) ORDER BY p.name SEPARATOR '; ')" SHOW_FROM_PROJECTS " "
	ORG_SELECT_FROM "WHERE o.id = ?";
static const char show_json_sql[] = ORG_SELECT_COLS ", "
	"CONCAT('[', COALESCE((SELECT GROUP_CONCAT(CONCAT('{\"email\":', "
	"JSON_QUOTE(u.email), ',\"role\":', JSON_QUOTE(m.role), '}') "
	MEMBER_ORDER ")" SHOW_FROM_MEMBERS ", ''), ']'), "
	"CONCAT('[', COALESCE((SELECT GROUP_CONCAT(CONCAT('{\"project\":', "
	"JSON_QUOTE(p.name), ',\"environments\":[', COALESCE(" ENVS_OF(
	"JSON_QUOTE(en.name)", "','") ", ''), ']}') ORDER BY p.name)"
	SHOW_FROM_PROJECTS ", ''), ']') " ORG_SELECT_FROM "WHERE o.id = ?";

int vc_org_show(struct vc_session *s, const struct vc_ref *ref, int json,
		struct vc_res **out, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_ref_need(s, ref, VC_ROLE_VIEWER, "showing the organization",
			     e);

	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	/* The default 1024 bytes would cut the lists of a large organization. */
	if (rc == 0)
		rc = vc_db_simple(db, "SET SESSION group_concat_max_len = "
				  "16777216", e);
	return rc < 0 ? rc : vc_db_query(db, out, e, json ? show_json_sql :
					 show_text_sql, "sss", s->user.role,
					 s->user.id, ref->org_id);
}

int vc_member_list(struct vc_session *s, const struct vc_ref *ref,
		   struct vc_res **out, struct vc_err *e)
{
	int rc = vc_ref_need(s, ref, VC_ROLE_VIEWER, "listing members", e);

	return rc < 0 ? rc : query(s, out, e, "SELECT u.email, uo.role, "
		"u.first_name, u.last_name, " ISO("uo.created_at") " FROM "
		"user_organizations uo JOIN users u ON u.id = uo.user_id WHERE "
		"uo.organization_id = ? ORDER BY FIELD(uo.role, 'owner', 'admin', "
		"'member', 'viewer'), u.email", ref->org_id);
}

#define PROJECT_SELECT \
	"SELECT p.name, (SELECT COUNT(*) FROM environments en WHERE " \
	"en.project_id = p.id), (SELECT COUNT(*) FROM secret_metadata sm " \
	"WHERE sm.project_id = p.id AND sm.deleted_at IS NULL), " \
	"p.description, u.email, p.id, " ISO("p.created_at") " FROM " \
	"projects p LEFT JOIN users u ON u.id = p.created_by "

int vc_project_list(struct vc_session *s, const struct vc_ref *ref,
		    struct vc_res **out, struct vc_err *e)
{
	int rc = vc_ref_need(s, ref, VC_ROLE_VIEWER, "listing", e);

	if (rc < 0)
		return rc;
	if (ref->depth == 1)
		return query(s, out, e, PROJECT_SELECT "WHERE p.organization_id "
			     "= ? ORDER BY p.name", ref->org_id);
	return query(s, out, e, PROJECT_SELECT "WHERE p.id = ?",
		     ref->project_id);
}

int vc_env_list(struct vc_session *s, const struct vc_ref *ref,
		struct vc_res **out, struct vc_err *e)
{
	int rc = vc_ref_need(s, ref, VC_ROLE_VIEWER, "listing", e);

	return rc < 0 ? rc : query(s, out, e, "SELECT en.name, (SELECT "
		"COUNT(*) FROM secret_metadata sm WHERE sm.environment = en.id "
		"AND sm.deleted_at IS NULL), en.description, en.id, "
		ISO("en.created_at") " FROM environments en WHERE en.project_id "
		"= ? ORDER BY en.name", ref->project_id);
}
