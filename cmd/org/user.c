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

int cmd_user_add(struct cli *c)
{
	struct vc_user_fields f = { c->args[0], cli_opt(c, O_FIRST),
				    cli_opt(c, O_LAST), cli_opt(c, O_ROLE), NULL,
				    cli_opt(c, O_LOGIN), 0 };
	struct vc_buf pw = VC_BUF_INIT;
	int rc = 0, boot = 0;

	if (cli_opt(c, O_PW_STDIN) && cli_opt(c, O_NO_PW))
		return cli_fail(c, VC_EUSAGE, "--password-stdin and "
				"--no-password exclude each other");
	if (!cli_opt(c, O_NO_PW) &&
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
	{ "login", VC_COL_STR },
};

static int print_users(struct cli *c, const char *email)
{
	struct vc_res *r;
	int rc = vc_user_query(&c->s, email, &r, &c->err);

	return rc < 0 ? rc : org_print(c, user_cols, ARRAY_SIZE(user_cols), r,
				       email != NULL);
}

int cmd_user_list(struct cli *c)
{
	return print_users(c, NULL);
}

int cmd_user_show(struct cli *c)
{
	return print_users(c, c->args[0]);
}

int cmd_user_set(struct cli *c)
{
	struct vc_user_fields f = { c->args[0], cli_opt(c, O_FIRST),
				    cli_opt(c, O_LAST), cli_opt(c, O_ROLE), NULL,
				    cli_opt(c, O_LOGIN),
				    cli_opt(c, O_NO_LOGIN) != NULL };
	int rc;

	if (!f.first && !f.last && !f.role && !f.login && !f.no_login)
		return cli_fail(c, VC_EUSAGE, "nothing to change (use "
				"--first-name, --last-name, --role, --login or "
				"--no-login)");
	rc = vc_user_set(&c->s, &f, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot change user '%s'",
				     org_cut(f.email));
	return 0;
}

int cmd_user_passwd(struct cli *c)
{
	struct vc_user_fields f = { .email = c->args[0] };
	struct vc_buf pw = VC_BUF_INIT;
	/* Before the password is asked for. */
	int rc = vc_user_may_change(&c->s, f.email, 0, &c->err);

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
	int rc = vc_user_may_check(&c->s, c->args[0], &c->err);

	if (rc == 0)
		rc = get_password(c, 0, &pw);
	if (rc == 0)
		rc = vc_user_check_password(&c->s, c->args[0], pw.data,
					    &c->err);
	vc_buf_release(&pw);
	if (rc == 0 && !c->quiet)
		printf("password matches\n");
	return rc;
}

int cmd_user_rm(struct cli *c)
{
	int rc = vc_user_rm(&c->s, c->args[0], &c->err);

	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot remove user '%s'",
				     org_cut(c->args[0]));
	if (!c->quiet)
		printf("removed user %s\n", c->args[0]);
	return 0;
}
