/* The command table of vaultctl-org - users, organizations, members, projects, environments. */
#include "orgcmd.h"



static const struct option user_add_opts[] = {
	{ "first-name", required_argument, NULL, O_FIRST },
	{ "last-name", required_argument, NULL, O_LAST },
	{ "role", required_argument, NULL, O_ROLE },
	{ "password-stdin", no_argument, NULL, O_PW_STDIN },
	{ "no-password", no_argument, NULL, O_NO_PW },
	{ NULL, 0, NULL, 0 },
};
static const struct option user_set_opts[] = {
	{ "first-name", required_argument, NULL, O_FIRST },
	{ "last-name", required_argument, NULL, O_LAST },
	{ "role", required_argument, NULL, O_ROLE },
	{ NULL, 0, NULL, 0 },
};
static const struct option pw_opts[] = {
	{ "password-stdin", no_argument, NULL, O_PW_STDIN },
	{ NULL, 0, NULL, 0 },
};

static const struct option desc_opts[] = {
	{ "description", required_argument, NULL, O_DESC },
	{ NULL, 0, NULL, 0 },
};
static const struct option create_opts[] = {
	{ "description", required_argument, NULL, O_DESC },
	{ "plan", required_argument, NULL, O_PLAN },
	{ "owner", required_argument, NULL, O_OWNER },
	{ NULL, 0, NULL, 0 },
};
static const struct option set_opts[] = {
	{ "name", required_argument, NULL, O_NAME },
	{ "description", required_argument, NULL, O_DESC },
	{ NULL, 0, NULL, 0 },
};
static const struct option yes_opts[] = {
	{ "yes", no_argument, NULL, O_YES },
	{ NULL, 0, NULL, 0 },
};
static const struct option role_opts[] = {
	{ "role", required_argument, NULL, O_ROLE },
	{ NULL, 0, NULL, 0 },
};
static const struct option policy_opts[] = {
	{ "role", required_argument, NULL, O_ROLE },
	{ "read-only", no_argument, NULL, O_READ_ONLY },
	{ NULL, 0, NULL, 0 },
};

static const struct cli_cmd cmds[] = {
	{ "user add", cmd_user_add, "EMAIL [--first-name S] [--last-name S] "
	  "[--role admin|user] [--password-stdin | --no-password]", NEED_DB,
	  "", user_add_opts, 1, 1, "Add a user (the first user becomes a "
	  "global admin)." },
	{ "user list", cmd_user_list, "", NEED_USER, "", NULL, 0, 0,
	  "List users." },
	{ "user show", cmd_user_show, "EMAIL", NEED_USER, "", NULL, 1, 1,
	  "Show one user." },
	{ "user set", cmd_user_set, "EMAIL [--first-name S] [--last-name S] "
	  "[--role R]", NEED_USER, "", user_set_opts, 1, 1,
	  "Change a user's name or global role." },
	{ "user passwd", cmd_user_passwd, "EMAIL [--password-stdin]",
	  NEED_USER, "", pw_opts, 1, 1, "Set a user's password." },
	{ "user check-password", cmd_user_check_password,
	  "EMAIL [--password-stdin]", NEED_DB, "", pw_opts, 1, 1,
	  "Exit 0 when the password matches, 4 when not." },
	{ "user rm", cmd_user_rm, "EMAIL", NEED_USER, "", NULL, 1, 1,
	  "Remove a user." },
	{ "create", cmd_org_create, "ORG [--description S] [--plan PLAN] "
	  "[--owner EMAIL]", NEED_USER, "", create_opts, 1, 1,
	  "Create an organization, subscribed to PLAN (default: free)." },
	{ "list", cmd_org_list, "", NEED_USER, "", NULL, 0, 0,
	  "List the organizations you belong to (all for global admins)." },
	{ "show", cmd_org_show, "ORG", NEED_USER, "", NULL, 1, 1,
	  "Show an organization." },
	{ "set", cmd_org_set, "ORG [--name S] [--description S]", NEED_USER, "",
	  set_opts, 1, 1, "Rename or describe an organization (owners)." },
	{ "rm", cmd_org_rm, "ORG [--yes]", NEED_USER, "", yes_opts, 1, 1,
	  "Remove an organization with all its secrets (owners)." },
	{ "member add", cmd_member_add, "ORG EMAIL [--role owner|admin|member|"
	  "viewer]", NEED_USER, "", role_opts, 2, 2, "Add a member." },
	{ "member list", cmd_member_list, "ORG", NEED_USER, "", NULL, 1, 1,
	  "List members and their roles." },
	{ "member set", cmd_member_set, "ORG EMAIL --role R", NEED_USER, "",
	  role_opts, 2, 2, "Change a member's role." },
	{ "member rm", cmd_member_rm, "ORG EMAIL", NEED_USER, "", NULL, 2, 2,
	  "Remove a member (an organization keeps at least one owner)." },
	{ "project create", cmd_project_create, "ORG/PROJECT [--description S]",
	  NEED_USER, "", desc_opts, 1, 1, "Create a project." },
	{ "project list", cmd_project_list, "ORG", NEED_USER, "", NULL, 1, 1,
	  "List projects." },
	{ "project show", cmd_project_show, "ORG/PROJECT", NEED_USER, "", NULL,
	  1, 1, "Show a project." },
	{ "project set", cmd_project_set, "ORG/PROJECT [--name S] "
	  "[--description S]", NEED_USER, "", set_opts, 1, 1,
	  "Rename or describe a project." },
	{ "project rm", cmd_project_rm, "ORG/PROJECT [--yes]", NEED_USER, "",
	  yes_opts, 1, 1, "Remove a project with all its secrets." },
	{ "env create", cmd_env_create, "ORG/PROJECT/ENV [--description S]",
	  NEED_USER, "", desc_opts, 1, 1, "Create an environment." },
	{ "env list", cmd_env_list, "ORG/PROJECT", NEED_USER, "", NULL, 1, 1,
	  "List environments." },
	{ "env rm", cmd_env_rm, "ORG/PROJECT/ENV [--yes]", NEED_USER, "",
	  yes_opts, 1, 1, "Remove an environment with all its secrets." },
	{ "policy", cmd_policy, "ORG[/PROJECT[/ENV]] [--role R] [--read-only]",
	  NEED_USER, "", policy_opts, 1, 1, "Print the Vault ACL policy (HCL) "
	  "of a role on an organization, project or environment." },
};

const struct cli_tool vc_tool_org = {
	"vaultctl-org", "users, organizations, members, projects and "
	"environments", cmds, sizeof(cmds) / sizeof(cmds[0]),
};

