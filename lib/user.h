/* user.h - users of the suite and their passwords (Argon2id). */
#ifndef VC_USER_H
#define VC_USER_H

#include "db.h"
#include "session.h"
#include "vc.h"

/* crypto_pwhash_str with OPSLIMIT_INTERACTIVE (2 passes) and
 * MEMLIMIT_INTERACTIVE (64 MiB): about 0.1 s on this class of machine,
 * libsodium's recommendation for interactive logins. */
int vc_password_hash(const char *pw, char out[128], struct vc_err *e);

struct vc_user_fields {
	const char *email, *first, *last, *role;
	const char *password;   /* NULL: leave / set none */
	const char *login;      /* bind to this OS login (NULL: leave) */
	int no_login;           /* unbind (set only) */
};

/* Adds a user.  While the users table is empty no acting user is needed
 * and the first user becomes a global admin (vaultctl.conf(5)). */
int vc_user_add(struct vc_session *s, const struct vc_user_fields *f,
		int *bootstrap, struct vc_err *e);
int vc_user_count(struct vc_session *s, long long *n, struct vc_err *e);
/* Changes names, role or password (NULL fields stay). */
int vc_user_set(struct vc_session *s, const struct vc_user_fields *f,
		struct vc_err *e);
/* VC_EPERM unless the acting user may change the user email: global
 * admins anyone, others their own names and password, and only global
 * admins a role or a login binding (role set).  vc_user_set checks it; a command asks it
 * first when it would ask for a password. */
int vc_user_may_change(struct vc_session *s, const char *email, int role,
		       struct vc_err *e);
/* Whether email's password matches (0, else VC_EPERM "authentication
 * failed", unknown users alike).  Only a global admin or the user
 * themself may ask: anyone else would have a password oracle.
 * vc_user_may_check is that rule alone, for a command to ask first. */
int vc_user_may_check(struct vc_session *s, const char *email,
		      struct vc_err *e);
int vc_user_check_password(struct vc_session *s, const char *email,
			   const char *password, struct vc_err *e);
/* Removes a user (global admins). */
int vc_user_rm(struct vc_session *s, const char *email, struct vc_err *e);
/* Users by email (all, or the one named: VC_ENOTFOUND when unknown);
 * columns: email, first_name, last_name, role, password (1 when one is
 * set), organizations, created_at, id, login. */
int vc_user_query(struct vc_session *s, const char *email,
		  struct vc_res **out, struct vc_err *e);

#endif
