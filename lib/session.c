/* session.c - lazily opened connections, store and acting user. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "host.h"
#include "audit.h"
#include "localstore.h"
#include "vault.h"
#include "user.h"

static void client_address(char *out, size_t n)
{
	const char *ssh = getenv("SSH_CONNECTION");
	size_t len;

	out[0] = '\0';
	if (!ssh)
		return;
	/* "client_ip client_port server_ip server_port" */
	len = strcspn(ssh, " ");
	if (len >= n)
		len = n - 1;
	memcpy(out, ssh, len);
	out[len] = '\0';
}

/* The effective user's name, "?" if it has none.  /etc/passwd first:
 * asking NSS loads its modules (systemd's, on Debian), about a
 * millisecond of every command, for a name that local accounts have in
 * that file anyway. */
static void os_user(char *out, size_t n)
{
	uid_t uid = geteuid();
	struct passwd pw, *p = NULL;
	char tmp[1024];
	FILE *f = fopen("/etc/passwd", "re");

	while (f && fgetpwent_r(f, &pw, tmp, sizeof(tmp), &p) == 0 &&
	       p->pw_uid != uid)
		p = NULL;
	if (f)
		fclose(f);
	if (!p)
		p = getpwuid(uid);
	snprintf(out, n, "%s", p ? p->pw_name : "?");
}

void vc_session_init(struct vc_session *s, const char *tool)
{
	char user[64];
	struct utsname u;

	memset(s, 0, sizeof(*s));
	snprintf(s->tool, sizeof(s->tool), "%s", tool);
	if (uname(&u) < 0)
		snprintf(u.sysname, sizeof(u.sysname), "unknown");
	os_user(user, sizeof(user));
	snprintf(s->user_agent, sizeof(s->user_agent), "%s/%s (%s; os-user %s)",
		 tool, VC_VERSION, u.sysname, user);
	client_address(s->ip, sizeof(s->ip));
}

void vc_session_set_command(struct vc_session *s, const char *prog,
			    const char *name)
{
	const char *noun = strncmp(prog, "vaultctl-", 9) ? prog : prog + 9;
	char *p;

	vc_audit_flush(s);
	snprintf(s->audit.command, sizeof(s->audit.command), "%s.%s", noun,
		 name);
	for (p = s->audit.command; *p; p++)
		if (*p == ' ')
			*p = '.';
}

void vc_session_end_command(struct vc_session *s, int rc)
{
	if (rc < 0)
		s->audit.calls_org[0] = '\0';
	vc_audit_flush(s);
}

int vc_session_load_conf(struct vc_session *s, const char *path,
			 struct vc_err *e)
{
	char file[4096];
	int rc;

	if (s->conf_loaded)
		return 0;
	rc = vc_conf_find(path, file, sizeof(file), e);
	if (rc == 0)
		rc = vc_conf_load(&s->conf, file, e);
	if (rc == 0)
		s->conf_loaded = 1;
	return rc;
}

/* The administrative account is in admin_config's file, which only root
 * reads: say so rather than let libmariadb skip a file it cannot read and
 * log in as nobody. */
static int check_admin_config(const struct vc_conf *c, struct vc_err *e)
{
	const char *path = c->admin_config;
	int fd, rc;

	if (!path)
		return vc_err_set(e, VC_EUSAGE, "%s names no admin_config, the "
				  "file of the administrative account (run "
				  "sql/install.sh again)", c->path);
	rc = vc_conf_check_owner_only(path, "administrative account file", e);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vc_err_set(e, VC_EPERM, "cannot read administrative "
				  "account file '%s': %s", path,
				  strerror(errno));
	close(fd);
	return 0;
}

int vc_session_db(struct vc_session *s, enum vc_db_role role,
		  struct vc_db **out, struct vc_err *e)
{
	int rc;

	if (!s->conf_loaded && (rc = vc_session_load_conf(s, NULL, e)) < 0)
		return rc;
	if (!s->db[role] && role == VC_DB_ADMIN &&
	    (rc = check_admin_config(&s->conf, e)) < 0)
		return rc;
	if (!s->db[role]) {
		rc = vc_db_open(&s->db[role], &s->conf, role, s->notify,
				s->notify_ctx, e);
		if (rc < 0)
			return rc;
	}
	*out = s->db[role];
	return 0;
}

static int open_local(struct vc_session *s, struct vc_err *e)
{
	struct vc_db *db;
	int rc;

	if (!s->conf.master_key_file)
		return vc_err_set(e, VC_EUSAGE, "%s: backend local needs "
				  "master_key_file", s->conf.path);
	rc = vc_session_db(s, VC_DB_VALUES, &db, e);
	if (rc == 0)
		rc = vc_local_open_file(&s->store, vc_db_handle(db),
					s->conf.master_key_file, e);
	return rc;
}

int vc_session_store(struct vc_session *s, struct vc_store **out,
		     struct vc_err *e)
{
	struct vc_vault_conf vc;
	int rc = 0;

	if (!s->conf_loaded && (rc = vc_session_load_conf(s, NULL, e)) < 0)
		return rc;
	if (!s->store) {
		if (!strcmp(s->conf.backend, "local")) {
			rc = open_local(s, e);
		} else {
			vc_conf_vault(&s->conf, &vc);
			vc.verbose = s->verbose;
			vc.notify = s->notify;
			vc.notify_ctx = s->notify_ctx;
			rc = vc_vault_open(&s->store, &vc, e);
		}
	}
	*out = s->store;
	return rc;
}

void vc_session_preload(struct vc_session *s)
{
	struct vc_vault_conf vc;

	if (!s->conf_loaded || !strcmp(s->conf.backend, "local"))
		return;
	vc_conf_vault(&s->conf, &vc);
	if (vc_vault_needs_curl(&vc))
		vc_vault_preload();
}

/* The user that SQL (one "?" for KEY) selects as id, email, role, made
 * the acting user: 1, or 0 when no user matches (the session unchanged). */
static int load_user(struct vc_session *s, const char *sql, const char *key,
		     struct vc_err *e)
{
	struct vc_res *r;
	struct vc_db *db;
	int rc;

	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc < 0)
		return rc;
	rc = vc_db_query(db, &r, e, sql, "s", key);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0) {
		vc_res_free(r);
		return 0;
	}
	snprintf(s->user.id, sizeof(s->user.id), "%s", vc_res_get(r, 0, 0, NULL));
	snprintf(s->user.email, sizeof(s->user.email), "%s",
		 vc_res_get(r, 0, 1, NULL));
	snprintf(s->user.role, sizeof(s->user.role), "%s",
		 vc_res_get(r, 0, 2, NULL));
	vc_res_free(r);
	s->have_user = 1;
	return 1;
}

int vc_session_set_user(struct vc_session *s, const char *email,
			struct vc_err *e)
{
	int rc = load_user(s, "SELECT id, email, role FROM users "
			   "WHERE email = ?", email, e);

	if (rc == 0)
		return vc_err_set(e, VC_EPERM, "unknown user '%.80s'", email);
	return rc < 0 ? rc : 0;
}

/* The user bound to the caller's login made the acting user: 1, or 0
 * when none is.  One query, not login to email to user: host mode runs it
 * in every command. */
static int bound_user(struct vc_session *s, char login[65], struct vc_err *e)
{
	int rc = vc_host_login(login, 65, e);

	if (rc < 0)
		return rc;
	return load_user(s, "SELECT id, email, role FROM users "
			 "WHERE login = ?", login, e);
}

/* Audit rows name both: the user acted as, and who acted (user agent). */
static void record_by(struct vc_session *s, const char *by)
{
	size_t n = strlen(s->user_agent);

	snprintf(s->by, sizeof(s->by), "%s", by);
	if (n > 1 && s->user_agent[n - 1] == ')')
		snprintf(s->user_agent + n - 1, sizeof(s->user_agent) - n + 1,
			 "; acting for %s: %.200s)", s->user.email, by);
}

/* Host mode, a caller who is not root: the login is the identity. */
static int host_actor(struct vc_session *s, const char *asked,
		      struct vc_err *e)
{
	char login[65], by[256];
	int rc = bound_user(s, login, e);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return vc_err_set(e, VC_EPERM, "permission denied: login '%s' "
				  "is bound to no user (a global admin binds "
				  "it: vaultctl-org user set EMAIL --login %s)",
				  login, login);
	if (!asked || !strcasecmp(asked, s->user.email))
		return 0;
	if (!vc_session_is_admin(s))
		return vc_err_set(e, VC_EPERM, "permission denied: only root and "
				  "global admins may act as another user");
	snprintf(by, sizeof(by), "%s", s->user.email);
	rc = vc_session_set_user(s, asked, e);
	if (rc == 0)
		record_by(s, by);
	return rc;
}

int vc_session_actor(struct vc_session *s, const char *as, unsigned flags,
		     struct vc_err *e)
{
	const char *env = getenv("VAULTCTL_USER"), *who;
	char login[65];
	long long users = 1;
	int rc;

	s->have_user = 0;
	s->by[0] = '\0';
	/* An empty name is a mistake (an unset shell variable), not a wish
	 * to fall back to the next source and act as someone else. */
	if (as && !*as)
		return vc_err_set(e, VC_EUSAGE, "empty user name (--as '')");
	if (!as && env && !*env)
		return vc_err_set(e, VC_EUSAGE, "empty user name "
				  "($VAULTCTL_USER is set but empty)");
	rc = vc_session_load_conf(s, NULL, e);
	if (rc == 0 && (flags & VC_ACTOR_FIRST))
		rc = vc_user_count(s, &users, e);
	if (rc < 0 || users == 0)
		return rc;
	if (vc_host_mode() && !vc_host_root())
		return host_actor(s, as ? as : env, e);
	who = as ? as : env ? env : s->conf.default_user;
	if (!who || !*who) {
		rc = bound_user(s, login, e);
		if (rc == 0)
			return vc_err_set(e, VC_EPERM, "no acting user: use "
					  "--as EMAIL, $VAULTCTL_USER, "
					  "default_user in %s, or a user bound "
					  "to your login", s->conf.path);
		return rc < 0 ? rc : 0;
	}
	rc = vc_session_set_user(s, who, e);
	if (rc == 0 && vc_host_mode() && (as || env))
		record_by(s, "root");
	return rc;
}

const char *vc_session_prover(const struct vc_session *s)
{
	return s->by[0] && strcmp(s->by, "root") ? s->by : s->user.email;
}

int vc_session_wants_password(const struct vc_session *s)
{
	return s->have_user && s->conf.authenticate &&
	       !strcmp(s->conf.authenticate, "password");
}

int vc_session_is_admin(const struct vc_session *s)
{
	return s->have_user && !strcmp(s->user.role, "admin");
}

void vc_session_close(struct vc_session *s)
{
	vc_audit_flush(s);
	vc_vault_preload_end();
	vc_store_close(s->store);
	s->store = NULL;
	for (size_t i = 0; i < 4; i++) {
		vc_db_close(s->db[i]);
		s->db[i] = NULL;
	}
	if (s->conf_loaded)
		vc_conf_release(&s->conf);
	s->conf_loaded = 0;
}

int vc_session_check_password(struct vc_session *s, const char *email,
			      const char *password, struct vc_err *e)
{
	struct vc_res *r;
	struct vc_db *db;
	const char *hash;
	int rc, ok;

	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_db_query(db, &r, e, "SELECT hashed_password, id FROM users "
				 "WHERE email = ?", "s", email);
	if (rc < 0)
		return rc;
	hash = vc_res_get(r, 0, 0, NULL);
	/* The same answer for an unknown user and a wrong password. */
	ok = hash && *hash && crypto_pwhash_str_verify(hash, password,
						       strlen(password)) == 0;
	if (!ok)
		vc_audit_auth_failed(s, vc_res_get(r, 0, 1, NULL), email);
	vc_res_free(r);
	return ok ? 0 : vc_err_set(e, VC_EPERM, "authentication failed for "
				   "'%.80s'", email);
}
