/* The command table of vaultctl-org - users, organizations, members, projects, environments. */
#include "orgcmd.h"



static const struct option user_add_opts[] = {
	{ "first-name", required_argument, NULL, O_FIRST },
	{ "last-name", required_argument, NULL, O_LAST },
	{ "role", required_argument, NULL, O_ROLE },
	{ "password-stdin", no_argument, NULL, O_PW_STDIN },
	{ "no-password", no_argument, NULL, O_NO_PW },
	{ "login", required_argument, NULL, O_LOGIN },
	{ NULL, 0, NULL, 0 },
};
static const struct option user_set_opts[] = {
	{ "first-name", required_argument, NULL, O_FIRST },
	{ "last-name", required_argument, NULL, O_LAST },
	{ "role", required_argument, NULL, O_ROLE },
	{ "login", required_argument, NULL, O_LOGIN },
	{ "no-login", no_argument, NULL, O_NO_LOGIN },
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
static const struct option env_set_opts[] = {
	{ "name", required_argument, NULL, O_NAME },
	{ "description", required_argument, NULL, O_DESC },
	{ "max-versions", required_argument, NULL, O_MAX_VERSIONS },
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
	{ .name = "user add", .run = cmd_user_add,
	  .needs = NEED_USER | NEED_FIRST,
	  .usage = "EMAIL [--first-name S] [--last-name S] [--role "
	           "admin|user] [--login NAME] [--password-stdin | "
	           "--no-password]",
	  .longopts = user_add_opts, .nargs = { 1, 1 },
	  .summary = "Add a user (the first user becomes a global admin)." },
	{ .name = "user list", .run = cmd_user_list, .needs = NEED_USER,
	  .summary = "List users." },
	{ .name = "user show", .run = cmd_user_show, .needs = NEED_USER,
	  .usage = "EMAIL", .nargs = { 1, 1 }, .summary = "Show one user." },
	{ .name = "user set", .run = cmd_user_set, .needs = NEED_USER,
	  .usage = "EMAIL [--first-name S] [--last-name S] [--role R] "
	           "[--login NAME | --no-login]",
	  .longopts = user_set_opts, .nargs = { 1, 1 },
	  .summary = "Change a user's name, global role or login." },
	{ .name = "user passwd", .run = cmd_user_passwd, .needs = NEED_USER,
	  .usage = "EMAIL [--password-stdin]", .longopts = pw_opts,
	  .nargs = { 1, 1 }, .summary = "Set a user's password." },
	{ .name = "user check-password", .run = cmd_user_check_password,
	  .needs = NEED_USER, .usage = "EMAIL [--password-stdin]",
	  .longopts = pw_opts, .nargs = { 1, 1 },
	  .summary = "Exit 0 when the password matches, 4 when not." },
	{ .name = "user rm", .run = cmd_user_rm, .needs = NEED_USER,
	  .usage = "EMAIL", .nargs = { 1, 1 }, .summary = "Remove a user." },
	{ .name = "create", .run = cmd_org_create, .needs = NEED_USER,
	  .usage = "ORG [--description S] [--plan PLAN] [--owner EMAIL]",
	  .longopts = create_opts, .nargs = { 1, 1 },
	  .summary = "Create an organization, subscribed to PLAN (default: "
	             "free)." },
	{ .name = "list", .run = cmd_org_list, .needs = NEED_USER,
	  .summary = "List the organizations you belong to (all for global "
	             "admins)." },
	{ .name = "show", .run = cmd_org_show, .needs = NEED_USER,
	  .usage = "ORG", .nargs = { 1, 1 },
	  .summary = "Show an organization." },
	{ .name = "set", .run = cmd_org_set, .needs = NEED_USER,
	  .usage = "ORG [--name S] [--description S]", .longopts = set_opts,
	  .nargs = { 1, 1 },
	  .summary = "Rename or describe an organization (owners)." },
	{ .name = "rm", .run = cmd_org_rm, .needs = NEED_USER,
	  .usage = "ORG [--yes]", .longopts = yes_opts, .nargs = { 1, 1 },
	  .summary = "Remove an organization with all its secrets (owners)." },
	{ .name = "member add", .run = cmd_member_add, .needs = NEED_USER,
	  .usage = "ORG EMAIL [--role owner|admin|member|viewer]",
	  .longopts = role_opts, .nargs = { 2, 2 },
	  .summary = "Add a member." },
	{ .name = "member list", .run = cmd_member_list, .needs = NEED_USER,
	  .usage = "ORG", .nargs = { 1, 1 },
	  .summary = "List members and their roles." },
	{ .name = "member set", .run = cmd_member_set, .needs = NEED_USER,
	  .usage = "ORG EMAIL --role R", .longopts = role_opts,
	  .nargs = { 2, 2 }, .summary = "Change a member's role." },
	{ .name = "member rm", .run = cmd_member_rm, .needs = NEED_USER,
	  .usage = "ORG EMAIL", .nargs = { 2, 2 },
	  .summary = "Remove a member (an organization keeps at least one "
	             "owner)." },
	{ .name = "project create", .run = cmd_project_create,
	  .needs = NEED_USER, .usage = "ORG/PROJECT [--description S]",
	  .longopts = desc_opts, .nargs = { 1, 1 },
	  .summary = "Create a project." },
	{ .name = "project list", .run = cmd_project_list, .needs = NEED_USER,
	  .usage = "ORG", .nargs = { 1, 1 }, .summary = "List projects." },
	{ .name = "project show", .run = cmd_project_show, .needs = NEED_USER,
	  .usage = "ORG/PROJECT", .nargs = { 1, 1 },
	  .summary = "Show a project." },
	{ .name = "project set", .run = cmd_project_set, .needs = NEED_USER,
	  .usage = "ORG/PROJECT [--name S] [--description S]",
	  .longopts = set_opts, .nargs = { 1, 1 },
	  .summary = "Rename or describe a project." },
	{ .name = "project rm", .run = cmd_project_rm, .needs = NEED_USER,
	  .usage = "ORG/PROJECT [--yes]", .longopts = yes_opts,
	  .nargs = { 1, 1 },
	  .summary = "Remove a project with all its secrets." },
	{ .name = "env create", .run = cmd_env_create, .needs = NEED_USER,
	  .usage = "ORG/PROJECT/ENV [--description S]", .longopts = desc_opts,
	  .nargs = { 1, 1 }, .summary = "Create an environment." },
	{ .name = "env list", .run = cmd_env_list, .needs = NEED_USER,
	  .usage = "ORG/PROJECT", .nargs = { 1, 1 },
	  .summary = "List environments." },
	{ .name = "env set", .run = cmd_env_set, .needs = NEED_USER,
	  .usage = "ORG/PROJECT/ENV [--name S] [--description S] "
	           "[--max-versions N]",
	  .longopts = env_set_opts, .nargs = { 1, 1 },
	  .summary = "Rename or describe an environment; --max-versions: "
	             "how many versions each of its secrets keeps." },
	{ .name = "env rm", .run = cmd_env_rm, .needs = NEED_USER,
	  .usage = "ORG/PROJECT/ENV [--yes]", .longopts = yes_opts,
	  .nargs = { 1, 1 },
	  .summary = "Remove an environment with all its secrets." },
	{ .name = "policy", .run = cmd_policy, .needs = NEED_USER,
	  .usage = "ORG[/PROJECT[/ENV]] [--role R] [--read-only]",
	  .longopts = policy_opts, .nargs = { 1, 1 },
	  .summary = "Print the Vault ACL policy (HCL) of a role on an "
	             "organization, project or environment." },
};

const struct cli_tool vc_tool_org = {
	.prog = "vaultctl-org", .cmds = cmds, .ncmds = ARRAY_SIZE(cmds),
};

