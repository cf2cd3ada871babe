/* org.c - vaultctl-org create|list|show|set|rm */
#include <stdio.h>
#include <string.h>

#include "orgcmd.h"

const char *org_cut(const char *arg)
{
	static char buf[2][80];
	static int next;
	char *b = buf[next++ % 2];

	if (strlen(arg) < sizeof(buf[0]))
		return arg;
	snprintf(b, sizeof(buf[0]), "%.*s...", (int)sizeof(buf[0]) - 4, arg);
	return b;
}

int org_print(struct cli *c, const struct vc_col *cols, size_t ncols,
	      struct vc_res *r, int single)
{
	int rc = cli_print_res(c, cols, ncols, r, single);

	vc_res_free(r);
	return rc;
}

int org_list(struct cli *c, int depth,
	     int (*list)(struct vc_session *, const struct vc_ref *,
			 struct vc_res **, struct vc_err *),
	     const struct vc_col *cols, size_t ncols, int single)
{
	struct vc_res *r;
	struct vc_ref ref;
	int rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0],
				depth, &ref, &c->err);

	if (rc == 0)
		rc = list(&c->s, &ref, &r, &c->err);
	return rc < 0 ? rc : org_print(c, cols, ncols, r, single);
}

int cmd_org_create(struct cli *c)
{
	int rc = vc_org_create(&c->s, c->args[0], cli_opt(c, O_DESC),
			       cli_opt(c, O_PLAN), cli_opt(c, O_OWNER), &c->err);

	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot create organization '%s'",
				     org_cut(c->args[0]));
	if (!c->quiet)
		printf("created organization %s\n", c->args[0]);
	return 0;
}

static const struct vc_col org_cols[] = {
	{ "name", VC_COL_STR }, { "role", VC_COL_STR }, { "plan", VC_COL_STR },
	{ "secrets", VC_COL_NUM }, { "secrets_limit", VC_COL_NUM },
	{ "projects", VC_COL_NUM }, { "owner", VC_COL_STR },
	{ "description", VC_COL_STR }, { "id", VC_COL_STR },
	{ "created_at", VC_COL_STR },
};

int cmd_org_list(struct cli *c)
{
	struct vc_res *r;
	int rc = vc_org_list(&c->s, &r, &c->err);

	return rc < 0 ? rc : org_print(c, org_cols, ARRAY_SIZE(org_cols), r, 0);
}

/* show adds the members and the projects with their environments: JSON
 * arrays for -o json, one readable line each otherwise. */
static const struct vc_col show_text_cols[] = {
	{ "name", VC_COL_STR }, { "role", VC_COL_STR }, { "plan", VC_COL_STR },
	{ "secrets", VC_COL_NUM }, { "secrets_limit", VC_COL_NUM },
	{ "projects", VC_COL_NUM }, { "owner", VC_COL_STR },
	{ "description", VC_COL_STR }, { "id", VC_COL_STR },
	{ "created_at", VC_COL_STR }, { "members", VC_COL_STR },
	{ "environments", VC_COL_STR },
};
static const struct vc_col show_json_cols[] = {
	{ "name", VC_COL_STR }, { "role", VC_COL_STR }, { "plan", VC_COL_STR },
	{ "secrets", VC_COL_NUM }, { "secrets_limit", VC_COL_NUM },
	{ "projects", VC_COL_NUM }, { "owner", VC_COL_STR },
	{ "description", VC_COL_STR }, { "id", VC_COL_STR },
	{ "created_at", VC_COL_STR }, { "members", VC_COL_JSON },
	{ "environments", VC_COL_JSON },
};

int cmd_org_show(struct cli *c)
{
	int json = c->out == VC_OUT_JSON || c->out == VC_OUT_JSONL;
	struct vc_res *r;
	struct vc_ref ref;
	int rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0], 1,
				&ref, &c->err);

	if (rc == 0)
		rc = vc_org_show(&c->s, &ref, json, &r, &c->err);
	if (rc < 0)
		return rc;
	return json ? org_print(c, show_json_cols, ARRAY_SIZE(show_json_cols),
				r, 1)
		    : org_print(c, show_text_cols, ARRAY_SIZE(show_text_cols),
				r, 1);
}

int cmd_org_set(struct cli *c)
{
	struct vc_ref ref;
	int rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0], 1,
				&ref, &c->err);

	if (rc == 0)
		rc = vc_org_set(&c->s, &ref, cli_opt(c, O_NAME),
				cli_opt(c, O_DESC), &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot change organization '%s'",
				     org_cut(c->args[0]));
	return 0;
}

/* Shared by rm of organizations, projects and environments. */
int org_rm_ref(struct cli *c, int depth, const char *what)
{
	long long n = 0;
	struct vc_ref ref;
	int rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0],
				depth, &ref, &c->err);

	if (rc == 0)
		rc = vc_org_may_remove(&c->s, &ref, &c->err);
	if (rc == 0)
		rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "remove %s '%s' "
				 "and every secret in it?", what, ref.text);
	if (rc == 0)
		rc = vc_org_remove(&c->s, &ref, &n, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot remove %s '%s'", what,
				     org_cut(c->args[0]));
	if (!c->quiet)
		printf("removed %s %s (%lld secret%s)\n", what, ref.text, n,
		       n == 1 ? "" : "s");
	return 0;
}

int cmd_org_rm(struct cli *c)
{
	return org_rm_ref(c, 1, "organization");
}
