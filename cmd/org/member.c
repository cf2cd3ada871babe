/* member.c - vaultctl-org member add|list|set|rm */
#include <stdio.h>

#include "orgcmd.h"

static int resolve_org(struct cli *c, struct vc_ref *ref)
{
	return vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[0], 1,
			      ref, &c->err);
}

static int change(struct cli *c, int op)
{
	static const char *const verb[] = { "add", "change", "remove" };
	const char *r = cli_opt(c, O_ROLE);
	enum vc_role role = VC_ROLE_MEMBER;
	struct vc_ref ref;
	int rc = 0;

	if (op == 1 && !r)
		rc = cli_fail(c, VC_EUSAGE, "--role is required");
	if (rc == 0 && r)
		rc = vc_role_parse(r, &role, &c->err);
	if (rc == 0)
		rc = resolve_org(c, &ref);
	if (rc == 0)
		rc = op == 0 ? vc_member_add(&c->s, &ref, c->args[1], role, &c->err)
		   : op == 1 ? vc_member_set(&c->s, &ref, c->args[1], role, &c->err)
		   : vc_member_rm(&c->s, &ref, c->args[1], &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot %s member '%s' of '%s'",
				     verb[op], org_cut(c->args[1]),
				     org_cut(c->args[0]));
	if (!c->quiet && op != 1)
		printf("%s %s %s %s\n", op == 0 ? "added" : "removed",
		       c->args[1], op == 0 ? "to" : "from", ref.org);
	return 0;
}

int cmd_member_add(struct cli *c) { return change(c, 0); }
int cmd_member_set(struct cli *c) { return change(c, 1); }
int cmd_member_rm(struct cli *c) { return change(c, 2); }

static const struct vc_col member_cols[] = {
	{ "email", VC_COL_STR }, { "role", VC_COL_STR },
	{ "first_name", VC_COL_STR }, { "last_name", VC_COL_STR },
	{ "since", VC_COL_STR },
};

int cmd_member_list(struct cli *c)
{
	return org_list(c, 1, vc_member_list, member_cols,
			ARRAY_SIZE(member_cols), 0);
}
