/* project.c - vaultctl-org project ... and env ... */
#include <stdio.h>
#include <string.h>

#include "orgcmd.h"

/* Splits "ORG/PROJECT[/ENV]" into the parent reference and the last name. */
static int parent_of(struct cli *c, char *parent, size_t n, const char **name)
{
	const char *slash = strrchr(c->args[0], '/');

	if (!slash || (size_t)(slash - c->args[0]) >= n)
		return cli_fail(c, VC_EUSAGE, "'%s' needs a parent (ORG/PROJECT "
				"or ORG/PROJECT/ENV)", c->args[0]);
	memcpy(parent, c->args[0], (size_t)(slash - c->args[0]));
	parent[slash - c->args[0]] = '\0';
	*name = slash + 1;
	return 0;
}

static int slashes(const char *s)
{
	int n = 0;

	while ((s = strchr(s, '/')) != NULL && ++n)
		s++;
	return n;
}

static int create(struct cli *c, int depth, const char *what)
{
	char parent[512];
	const char *name = "";
	struct vc_ref ref;
	int rc = parent_of(c, parent, sizeof(parent), &name);

	if (rc == 0 && slashes(c->args[0]) != depth)
		rc = cli_fail(c, VC_EUSAGE, "'%s' is not of the form %s",
			      c->args[0], depth == 1 ? "ORG/PROJECT" :
			      "ORG/PROJECT/ENV");
	if (rc == 0)
		rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], parent, depth,
				    &ref, &c->err);
	if (rc == 0)
		rc = vc_child_create(&c->s, &ref, name, cli_opt(c, O_DESC),
				     &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot create %s '%s'", what,
				     org_cut(c->args[0]));
	if (!c->quiet)
		printf("created %s %s/%s\n", what, ref.text, name);
	return 0;
}

int cmd_project_create(struct cli *c) { return create(c, 1, "project"); }
int cmd_env_create(struct cli *c) { return create(c, 2, "environment"); }

static const struct vc_col project_cols[] = {
	{ "name", VC_COL_STR }, { "environments", VC_COL_NUM },
	{ "secrets", VC_COL_NUM }, { "description", VC_COL_STR },
	{ "created_by", VC_COL_STR }, { "id", VC_COL_STR },
	{ "created_at", VC_COL_STR },
};

int cmd_project_list(struct cli *c)
{
	return org_list(c, 1, vc_project_list, project_cols,
			ARRAY_SIZE(project_cols), 0);
}

int cmd_project_show(struct cli *c)
{
	return org_list(c, 2, vc_project_list, project_cols,
			ARRAY_SIZE(project_cols), 1);
}

int cmd_project_set(struct cli *c)
{
	struct vc_ref ref;
	int rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0], 2,
				&ref, &c->err);

	if (rc == 0)
		rc = vc_project_set(&c->s, &ref, cli_opt(c, O_NAME),
				    cli_opt(c, O_DESC), &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot change project '%s'",
				     org_cut(c->args[0]));
	return 0;
}

int cmd_project_rm(struct cli *c) { return org_rm_ref(c, 2, "project"); }
int cmd_env_rm(struct cli *c) { return org_rm_ref(c, 3, "environment"); }

static const struct vc_col env_cols[] = {
	{ "name", VC_COL_STR }, { "secrets", VC_COL_NUM },
	{ "description", VC_COL_STR }, { "id", VC_COL_STR },
	{ "created_at", VC_COL_STR },
};

int cmd_env_list(struct cli *c)
{
	return org_list(c, 2, vc_env_list, env_cols, ARRAY_SIZE(env_cols), 0);
}

int cmd_policy(struct cli *c)
{
	struct vc_buf out = VC_BUF_INIT;
	int rc = vc_policy_render(&c->s, c->args[0], cli_opt(c, O_ROLE),
				  cli_opt(c, O_READ_ONLY) != NULL, &out,
				  &c->err);

	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	vc_buf_release(&out);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot generate a policy for "
				     "'%s'", org_cut(c->args[0]));
	return 0;
}

int cmd_env_set(struct cli *c)
{
	const char *max = cli_opt(c, O_MAX_VERSIONS);
	struct vc_ref ref;
	long n = -1;
	int rc = max ? cli_uint(c, "--max-versions", max, 1000000, &n) : 0;

	if (rc == 0)
		rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0],
				    3, &ref, &c->err);
	if (rc == 0)
		rc = vc_env_set(&c->s, &ref, cli_opt(c, O_NAME),
				cli_opt(c, O_DESC), (int)n, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot change environment '%s'",
				     org_cut(c->args[0]));
	return 0;
}
