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

#define PROJECT_SELECT \
	"SELECT p.name, (SELECT COUNT(*) FROM environments en WHERE " \
	"en.project_id = p.id), (SELECT COUNT(*) FROM secret_metadata sm " \
	"WHERE sm.project_id = p.id AND sm.deleted_at IS NULL), " \
	"p.description, u.email, p.id, DATE_FORMAT(p.created_at, " \
	"'%Y-%m-%dT%H:%i:%sZ') FROM projects p LEFT JOIN users u ON " \
	"u.id = p.created_by "

static int viewable(struct cli *c, int depth, struct vc_ref *ref)
{
	int rc = vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0],
				depth, ref, &c->err);

	return rc < 0 ? rc : vc_ref_need(&c->s, ref, VC_ROLE_VIEWER, "listing",
					 &c->err);
}

int cmd_project_list(struct cli *c)
{
	struct vc_ref ref;
	int rc = viewable(c, 1, &ref);

	return rc < 0 ? rc : org_print_query(c, project_cols, 7, 0,
		PROJECT_SELECT "WHERE p.organization_id = ? ORDER BY p.name",
		"s", ref.org_id);
}

int cmd_project_show(struct cli *c)
{
	struct vc_ref ref;
	int rc = viewable(c, 2, &ref);

	return rc < 0 ? rc : org_print_query(c, project_cols, 7, 1,
		PROJECT_SELECT "WHERE p.id = ?", "s", ref.project_id);
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
	struct vc_ref ref;
	int rc = viewable(c, 2, &ref);

	return rc < 0 ? rc : org_print_query(c, env_cols, 5, 0,
		"SELECT en.name, (SELECT COUNT(*) FROM secret_metadata sm WHERE "
		"sm.environment = en.id AND sm.deleted_at IS NULL), "
		"en.description, en.id, DATE_FORMAT(en.created_at, "
		"'%Y-%m-%dT%H:%i:%sZ') FROM environments en WHERE en.project_id "
		"= ? ORDER BY en.name", "s", ref.project_id);
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
