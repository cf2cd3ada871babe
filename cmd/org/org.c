/* org.c - vaultctl-org create|list|show|set|rm */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
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

int org_print_query(struct cli *c, const struct vc_col *cols, size_t ncols,
		    int single, const char *sql, const char *types, ...)
{
	struct vc_param p[8];
	struct vc_res *r;
	struct vc_db *db;
	va_list ap;
	size_t n = strlen(types);
	int rc;

	va_start(ap, types);
	for (size_t i = 0; i < n && i < 8; i++) {
		p[i].type = 's';
		p[i].p = va_arg(ap, const char *);
		p[i].len = strlen(p[i].p);
	}
	va_end(ap);
	rc = vc_session_db(&c->s, VC_DB_METADATA, &db, &c->err);
	if (rc == 0)
		rc = vc_db_queryv(db, &r, &c->err, sql, p, n);
	if (rc < 0)
		return rc;
	rc = cli_print_res(c, cols, ncols, r, single);
	vc_res_free(r);
	return rc;
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

#define ORG_SELECT_COLS \
	"SELECT o.name, COALESCE(uo.role, IF(? = 'admin', 'admin*', NULL)), " \
	"pl.name, (SELECT COUNT(*) FROM secret_metadata sm WHERE " \
	"sm.organization_id = o.id AND sm.deleted_at IS NULL), " \
	"(SELECT su.secrets_limit FROM subscriptions su WHERE " \
	"su.organization_id = o.id AND su.status = 'active' LIMIT 1), " \
	"(SELECT COUNT(*) FROM projects p WHERE p.organization_id = o.id), " \
	"ow.email, o.description, o.id, DATE_FORMAT(o.created_at, " \
	"'%Y-%m-%dT%H:%i:%sZ')"
#define ORG_SELECT_FROM \
	"FROM organizations o " \
	"JOIN users ow ON ow.id = o.owner_id " \
	"LEFT JOIN plans pl ON pl.id = o.plan_id " \
	"LEFT JOIN user_organizations uo ON uo.organization_id = o.id AND " \
	"uo.user_id = ? "
#define ORG_SELECT ORG_SELECT_COLS " " ORG_SELECT_FROM

int cmd_org_list(struct cli *c)
{
	return org_print_query(c, org_cols, 10, 0, ORG_SELECT
			       "WHERE uo.user_id IS NOT NULL OR ? = 'admin' "
			       "ORDER BY o.name", "sss", c->s.user.role,
			       c->s.user.id, c->s.user.role);
}

/* show adds the members and the projects with their environments: JSON
 * arrays for -o json, one readable line each otherwise.  Built with
 * GROUP_CONCAT and JSON_QUOTE, which MariaDB and MySQL both have (not
 * JSON_ARRAYAGG ... ORDER BY, which MySQL lacks). */
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

int cmd_org_show(struct cli *c)
{
	int json = c->out == VC_OUT_JSON || c->out == VC_OUT_JSONL;
	struct vc_db *db = c->s.db[VC_DB_METADATA];
	struct vc_ref ref;
	int rc = vc_ref_resolve(&c->s, db, c->args[0], 1, &ref, &c->err);

	if (rc == 0)
		rc = vc_ref_need(&c->s, &ref, VC_ROLE_VIEWER, "showing the "
				 "organization", &c->err);
	/* The default 1024 bytes would cut the lists of a large organization. */
	if (rc == 0)
		rc = vc_db_simple(db, "SET SESSION group_concat_max_len = "
				  "16777216", &c->err);
	if (rc < 0)
		return rc;
	return org_print_query(c, json ? show_json_cols : show_text_cols, 12, 1,
			       json ? show_json_sql : show_text_sql, "sss",
			       c->s.user.role, c->s.user.id, ref.org_id);
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
		rc = vc_ref_need(&c->s, &ref, depth == 1 ? VC_ROLE_OWNER :
				 VC_ROLE_ADMIN, "removing it", &c->err);
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
