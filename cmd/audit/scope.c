/* scope.c - the organizations a report covers: --org ORG or all. */
#include "auditcmd.h"

int audit_scope(struct cli *c, enum vc_audit_act act, struct vc_ref *ref,
		const char **org_id)
{
	return vc_audit_scope(&c->s, cli_opt(c, O_ORG), act, ref, org_id, NULL,
			      &c->err);
}
