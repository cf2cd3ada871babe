/* user.c - vaultctl-org user add|list|show|set|passwd|check-password|rm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orgcmd.h"
#include "prompt.h"
#include "user.h"



/* A password from stdin (--password-stdin: one line, newline dropped) or
 * asked twice on the terminal. */
static int get_password(struct cli *c, int confirm, struct vc_buf *pw)
{
	int rc;

	pw->secret = 1;
	if (cli_opt(c, O_PW_STDIN)) {
		rc = read_fd_all(c, STDIN_FILENO, "standard input", 4096, pw);
		while (rc == 0 && pw->len && (pw->data[pw->len - 1] == '\n' ||
					      pw->data[pw->len - 1] == '\r'))
			pw->data[--pw->len] = '\0';
	} else {
		rc = prompt_secret(c, "password", confirm, pw);
	}
	if (rc == 0 && pw->len == 0)
		rc = cli_fail(c, VC_EUSAGE, "the password is empty");
	if (rc == 0 && memchr(pw->data, '\0', pw->len))
		rc = cli_fail(c, VC_EUSAGE, "the password contains a NUL byte");
	return rc;
}

/* The acting user when there is one; bootstrap needs none. */
static int maybe_user(struct cli *c)
{
	const char *who = c->as ? c->as : getenv("VAULTCTL_USER");
	long long n;
	int rc;

	if (!who || !*who)
		who = c->s.conf.default_user;
	rc = vc_user_count(&c->s, &n, &c->err);
	if (rc < 0 || n == 0 || !who || !*who)
		return rc;
	return vc_session_set_user(&c->s, who, &c->err);
}

int cmd_user_add(struct cli *c)
{
	struct vc_user_fields f = { c->args[0], cli_opt(c, O_FIRST),
				    cli_opt(c, O_LAST), cli_opt(c, O_ROLE), NULL };
	struct vc_buf pw = VC_BUF_INIT;
	int rc, boot = 0;

	if (cli_opt(c, O_PW_STDIN) && cli_opt(c, O_NO_PW))
		return cli_fail(c, VC_EUSAGE, "--password-stdin and "
				"--no-password exclude each other");
	rc = maybe_user(c);
	if (rc == 0 && !cli_opt(c, O_NO_PW) &&
	    (cli_opt(c, O_PW_STDIN) || isatty(STDIN_FILENO))) {
		rc = get_password(c, 1, &pw);
		f.password = pw.data;
	}
	if (rc == 0)
		rc = vc_user_add(&c->s, &f, &boot, &c->err);
	vc_buf_release(&pw);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot add user '%s'",
				     org_cut(f.email));
	if (!c->quiet)
		printf("added user %s%s\n", f.email,
		       boot ? " (first user: global admin)" : "");
	return 0;
}

static const struct vc_col user_cols[] = {
	{ "email", VC_COL_STR }, { "first_name", VC_COL_STR },
	{ "last_name", VC_COL_STR }, { "role", VC_COL_STR },
	{ "password", VC_COL_BOOL }, { "organizations", VC_COL_NUM },
	{ "created_at", VC_COL_STR }, { "id", VC_COL_STR },
};

static const char user_sql[] =
	"SELECT u.email, u.first_name, u.last_name, u.role, "
	"u.hashed_password <> '', (SELECT COUNT(*) FROM user_organizations uo "
	"WHERE uo.user_id = u.id), DATE_FORMAT(u.created_at, "
	"'%Y-%m-%dT%H:%i:%sZ'), u.id FROM users u ";

static int print_users(struct cli *c, const char *where, const char *email,
		       int single)
{
	char sql[600];
	struct vc_res *r;
	struct vc_db *db;
	int rc;

	snprintf(sql, sizeof(sql), "%s%s ORDER BY u.email", user_sql, where);
	rc = vc_session_db(&c->s, VC_DB_METADATA, &db, &c->err);
	if (rc == 0)
		rc = email ? vc_db_query(db, &r, &c->err, sql, "s", email)
			   : vc_db_query(db, &r, &c->err, sql, "");
	if (rc < 0)
		return rc;
	if (single && vc_res_rows(r) == 0) {
		vc_res_free(r);
		return cli_fail(c, VC_ENOTFOUND, "user '%s' not found", email);
	}
	rc = cli_print_res(c, user_cols, 8, r, single);
	vc_res_free(r);
	return rc;
}

int cmd_user_list(struct cli *c)
{
	return print_users(c, "", NULL, 0);
}

int cmd_user_show(struct cli *c)
{
	return print_users(c, "WHERE u.email = ?", c->args[0], 1);
}

/* Only a global admin changes others; anyone may change their own name. */
static int may_change(struct cli *c, const char *email, int role_change)
{
	if (vc_session_is_admin(&c->s))
		return 0;
	if (role_change)
		return vc_ref_need_admin(&c->s, "only global admins change roles",
					 &c->err);
	if (strcasecmp(email, c->s.user.email))
		return vc_ref_need_admin(&c->s, "only global admins change other "
					 "users", &c->err);
	return 0;
}

int cmd_user_set(struct cli *c)
{
	struct vc_user_fields f = { c->args[0], cli_opt(c, O_FIRST),
				    cli_opt(c, O_LAST), cli_opt(c, O_ROLE), NULL };
	int rc;

	if (!f.first && !f.last && !f.role)
		return cli_fail(c, VC_EUSAGE, "nothing to change (use "
				"--first-name, --last-name or --role)");
	rc = may_change(c, f.email, f.role != NULL);
	if (rc == 0)
		rc = vc_user_set(&c->s, &f, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot change user '%s'",
				     org_cut(f.email));
	return 0;
}

int cmd_user_passwd(struct cli *c)
{
	struct vc_user_fields f = { c->args[0], NULL, NULL, NULL, NULL };
	struct vc_buf pw = VC_BUF_INIT;
	int rc = may_change(c, f.email, 0);

	if (rc == 0)
		rc = get_password(c, 1, &pw);
	f.password = pw.data;
	if (rc == 0)
		rc = vc_user_set(&c->s, &f, &c->err);
	vc_buf_release(&pw);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot set the password of '%s'",
				     org_cut(f.email));
	return 0;
}

int cmd_user_check_password(struct cli *c)
{
	struct vc_buf pw = VC_BUF_INIT;
	int rc = get_password(c, 0, &pw);

	if (rc == 0)
		rc = vc_session_check_password(&c->s, c->args[0], pw.data,
					       &c->err);
	vc_buf_release(&pw);
	if (rc == 0 && !c->quiet)
		printf("password matches\n");
	return rc;
}

int cmd_user_rm(struct cli *c)
{
	int rc = vc_ref_need_admin(&c->s, "only global admins remove users",
				   &c->err);

	if (rc == 0)
		rc = vc_user_rm(&c->s, c->args[0], &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot remove user '%s'",
				     org_cut(c->args[0]));
	if (!c->quiet)
		printf("removed user %s\n", c->args[0]);
	return 0;
}
