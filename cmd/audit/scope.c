/* scope.c - who may read or repair which organizations (vaultctl(7),
 * roles). */
#include "auditcmd.h"

int audit_scope(struct cli *c, enum vc_role min, const char *what,
		struct vc_ref *ref, const char **org_id)
{
	const char *org = cli_opt(c, O_ORG);
	struct vc_db *db;
	int rc;

	*org_id = NULL;
	if (!org) {
		if (vc_ref_need_admin(&c->s, what, &c->err) == 0)
			return 0;
		/* The message names the way out. */
		return cli_fail(c, VC_EPERM, "permission denied: %s of every "
				"organization needs the global role admin (name "
				"one with --org ORG)", what);
	}
	rc = vc_session_db(&c->s, VC_DB_METADATA, &db, &c->err);
	if (rc == 0)
		rc = vc_ref_resolve(&c->s, db, org, 1, ref, &c->err);
	if (rc == 0 && c->s.have_user)
		rc = vc_ref_need(&c->s, ref, min, what, &c->err);
	if (rc == 0)
		*org_id = ref->org_id;
	return rc;
}
