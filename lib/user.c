/* user.c - user accounts. */
#include "user.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "host.h"
#include "ref.h"

int vc_password_hash(const char *pw, char out[128], struct vc_err *e)
{
	if (crypto_pwhash_str(out, pw, strlen(pw),
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return vc_err_set(e, VC_EFAIL, "cannot hash the password (out "
				  "of memory)");
	return 0;
}

int vc_user_count(struct vc_session *s, long long *n, struct vc_err *e)
{
	struct vc_res *r;
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	if (rc == 0)
		rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM users", "");
	if (rc < 0)
		return rc;
	*n = vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

struct add {
	struct vc_session *s;
	const struct vc_user_fields *f;
	const char *hash;
	int bootstrap;
	char id[37];
};

/* Which unique key a conflicting insert or update hit. */
static int conflict(struct vc_db *db, const struct vc_user_fields *f,
		    struct vc_err *e)
{
	struct vc_res *r;
	int taken = 0;

	if (f->login && vc_db_query(db, &r, e, "SELECT 1 FROM users WHERE "
				    "login = ? AND email <> ?", "ss", f->login,
				    f->email) == 0) {
		taken = vc_res_rows(r) > 0;
		vc_res_free(r);
	}
	if (taken)
		return vc_err_set(e, VC_ECONFLICT, "login '%s' is already bound "
				  "to another user", f->login);
	return vc_err_set(e, VC_ECONFLICT, "user '%s' already exists",
			  f->email);
}

static int add_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct add *a = arg;
	struct vc_audit_ev ev = { NULL, "user.create", "user", a->id, NULL };
	struct vc_res *r;
	int rc;

	/* Bootstrap is decided inside the transaction: two first users
	 * racing cannot both become admin without the acting user. */
	rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM users FOR UPDATE", "");
	if (rc < 0)
		return rc;
	a->bootstrap = vc_res_int(r, 0, 0) == 0;
	vc_res_free(r);
	/* On a shared host the first user is a global admin: root's call. */
	if (a->bootstrap && vc_host_mode() && !vc_host_root())
		return vc_err_set(e, VC_EPERM, "permission denied: only root "
				  "adds the first user on this host");
	if (!a->bootstrap && !a->s->have_user)
		return vc_err_set(e, VC_EPERM, "no acting user: use --as EMAIL "
				  "or $VAULTCTL_USER");
	if (!a->bootstrap && !vc_session_is_admin(a->s))
		return vc_ref_need_admin(a->s, "only global admins add users", e);
	vc_uuid(a->id);
	rc = vc_db_exec(db, NULL, e, "INSERT INTO users (id, email, login, "
			"hashed_password, first_name, last_name, role, "
			"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
			"UTC_TIMESTAMP(), UTC_TIMESTAMP())", "sssssss", a->id,
			a->f->email, a->f->login, a->hash, a->f->first,
			a->f->last, a->bootstrap ? "admin" : a->f->role ?
			a->f->role : "user");
	if (rc == VC_ECONFLICT)
		return conflict(db, a->f, e);
	return rc < 0 ? rc : vc_audit_write(a->s, db, &ev, 1, e);
}

/* A login name as useradd takes it (and Samba's trailing $). */
static int check_login(const char *login, struct vc_err *e)
{
	size_t n = login ? strlen(login) : 0;

	if (!login)
		return 0;
	if (n == 0 || n > 64 || strspn(login, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") < n - (login[n - 1] ==
	    '$') || login[0] == '-' || login[0] == '.')
		return vc_err_set(e, VC_EUSAGE, "invalid login name '%.64s'",
				  login);
	return 0;
}

static int check_role(const char *role, struct vc_err *e)
{
	if (role && strcmp(role, "admin") && strcmp(role, "user"))
		return vc_err_set(e, VC_EUSAGE, "invalid global role '%.64s' (use "
				  "admin or user)", role);
	return 0;
}

static int check_field(const char *what, const char *v, struct vc_err *e)
{
	if (v && strlen(v) > 255)
		return vc_err_set(e, VC_EUSAGE, "%s is longer than 255 "
				  "characters", what);
	return 0;
}

static int check_fields(const struct vc_user_fields *f, struct vc_err *e)
{
	int rc = vc_email_check(f->email, e);

	if (rc == 0)
		rc = check_role(f->role, e);
	if (rc == 0)
		rc = check_field("first name", f->first, e);
	if (rc == 0)
		rc = check_field("last name", f->last, e);
	if (rc == 0)
		rc = check_login(f->login, e);
	if (rc == 0 && f->login && f->no_login)
		rc = vc_err_set(e, VC_EUSAGE, "--login and --no-login exclude "
				"each other");
	return rc;
}

int vc_user_add(struct vc_session *s, const struct vc_user_fields *f,
		int *bootstrap, struct vc_err *e)
{
	struct add a = { s, f, "", 0, "" };
	char hash[128];
	struct vc_db *db;
	int rc = check_fields(f, e);

	if (rc == 0 && f->password) {
		rc = vc_password_hash(f->password, hash, e);
		a.hash = hash;
	}
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_db_txn(db, add_txn, &a, e);
	*bootstrap = a.bootstrap;
	return rc;
}

struct set {
	struct vc_session *s;
	const struct vc_user_fields *f;
	const char *hash;
};

static int set_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct set *a = arg;
	const struct vc_user_fields *f = a->f;
	struct vc_audit_ev ev = { NULL, a->hash ? "user.passwd" : "user.update",
				  "user", NULL, NULL };
	unsigned long long n;
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT id FROM users WHERE email = ? FOR "
			 "UPDATE", "s", f->email);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0) {
		vc_res_free(r);
		return vc_err_set(e, VC_ENOTFOUND, "user '%.80s' not found", f->email);
	}
	ev.rid = vc_res_get(r, 0, 0, NULL);
	rc = vc_db_exec(db, &n, e, "UPDATE users SET first_name = COALESCE(?, "
			"first_name), last_name = COALESCE(?, last_name), role = "
			"COALESCE(?, role), hashed_password = COALESCE(?, "
			"hashed_password), login = IF(?, NULL, COALESCE(?, "
			"login)), updated_at = UTC_TIMESTAMP() WHERE id = ?",
			"ssssiss", f->first, f->last, f->role, a->hash,
			f->no_login, f->login, ev.rid);
	if (rc == VC_ECONFLICT)
		rc = conflict(db, f, e);
	if (rc == 0)
		rc = vc_audit_write(a->s, db, &ev, 1, e);
	vc_res_free(r);
	return rc;
}

int vc_user_may_change(struct vc_session *s, const char *email, int role,
		       struct vc_err *e)
{
	if (vc_session_is_admin(s))
		return 0;
	if (role)
		return vc_ref_need_admin(s, "only global admins change roles and "
					 "login bindings", e);
	if (!s->have_user || strcasecmp(email, s->user.email))
		return vc_ref_need_admin(s, "only global admins change other "
					 "users", e);
	return 0;
}

int vc_user_may_check(struct vc_session *s, const char *email,
		      struct vc_err *e)
{
	if (s->have_user && !strcasecmp(email, s->user.email))
		return 0;
	return vc_ref_need_admin(s, "only global admins and the user themself "
				 "may check a password", e);
}

int vc_user_check_password(struct vc_session *s, const char *email,
			   const char *password, struct vc_err *e)
{
	int rc = vc_user_may_check(s, email, e);

	return rc < 0 ? rc : vc_session_check_password(s, email, password, e);
}

int vc_user_set(struct vc_session *s, const struct vc_user_fields *f,
		struct vc_err *e)
{
	struct set a = { s, f, NULL };
	char hash[128];
	struct vc_db *db;
	int rc = vc_user_may_change(s, f->email, f->role || f->login ||
				    f->no_login, e);

	if (rc == 0)
		rc = check_fields(f, e);

	if (rc == 0 && f->password) {
		rc = vc_password_hash(f->password, hash, e);
		a.hash = hash;
	}
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_db_txn(db, set_txn, &a, e);
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

struct rm {
	struct vc_session *s;
	const char *email;
};

static int rm_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct rm *a = arg;
	struct vc_audit_ev ev = { NULL, "user.delete", "user", NULL, NULL };
	struct vc_res *r;
	int rc;

	/* Owner of record, or the last member with the role owner: either
	 * way an organization would be left without an owner. */
	rc = vc_db_query(db, &r, e, "SELECT u.id, (SELECT COUNT(*) FROM "
			 "organizations o WHERE o.owner_id = u.id) + (SELECT "
			 "COUNT(*) FROM user_organizations uo WHERE uo.user_id = "
			 "u.id AND uo.role = 'owner' AND NOT EXISTS (SELECT 1 FROM "
			 "user_organizations o2 WHERE o2.organization_id = "
			 "uo.organization_id AND o2.role = 'owner' AND o2.user_id "
			 "<> u.id)) FROM users u WHERE u.email = ? FOR UPDATE",
			 "s", a->email);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0)
		rc = vc_err_set(e, VC_ENOTFOUND, "user '%.80s' not found", a->email);
	else if (vc_res_int(r, 0, 1) > 0)
		rc = vc_err_set(e, VC_ECONFLICT, "user '%s' still owns "
				"organizations; make someone else owner or "
				"remove them first", a->email);
	ev.rid = vc_res_get(r, 0, 0, NULL);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "DELETE FROM user_organizations "
				"WHERE user_id = ?", "s", ev.rid);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "DELETE FROM users WHERE id = ?",
				"s", ev.rid);
	if (rc == VC_ECONFLICT && !strstr(e->msg, "owns"))
		vc_err_set(e, VC_ECONFLICT, "user '%s' is still referenced "
			   "(created projects or secrets)", a->email);
	if (rc == 0)
		rc = vc_audit_write(a->s, db, &ev, 1, e);
	vc_res_free(r);
	return rc;
}

int vc_user_rm(struct vc_session *s, const char *email, struct vc_err *e)
{
	struct rm a = { s, email };
	struct vc_db *db;
	int rc = vc_ref_need_admin(s, "only global admins remove users", e);

	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, rm_txn, &a, e);
}

#define USER_SELECT \
	"SELECT u.email, u.first_name, u.last_name, u.role, " \
	"u.hashed_password <> '', (SELECT COUNT(*) FROM user_organizations " \
	"uo WHERE uo.user_id = u.id), DATE_FORMAT(u.created_at, " \
	"'%Y-%m-%dT%H:%i:%sZ'), u.id, u.login FROM users u "

int vc_user_query(struct vc_session *s, const char *email,
		  struct vc_res **out, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	if (rc == 0 && !email)
		rc = vc_db_query(db, out, e, USER_SELECT "ORDER BY u.email", "");
	else if (rc == 0)
		rc = vc_db_query(db, out, e, USER_SELECT "WHERE u.email = ?", "s",
				 email);
	if (rc == 0 && email && vc_res_rows(*out) == 0) {
		vc_res_free(*out);
		rc = vc_err_set(e, VC_ENOTFOUND, "user '%.200s' not found", email);
	}
	return rc;
}
