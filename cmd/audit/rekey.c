/* rekey.c - vaultctl-audit rekey [--yes] */
#include <stdio.h>

#include "auditcmd.h"
#include "auditlog.h"

int cmd_audit_rekey(struct cli *c)
{
	struct vc_db *db = c->s.db[VC_DB_METADATA];
	long long chains = 0;
	char id[17];
	int rc;

	rc = vc_auditlog_rekey_allowed(&c->s, &c->err);
	if (rc == 0)
		rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "replace the audit "
				 "key and start a new epoch in every audit chain");
	if (rc == 0)
		rc = vc_auditlog_rekey(&c->s, db, id, &chains, &c->err);
	if (rc < 0)
		return rc == VC_EINTR ? rc :
		       vc_err_prefix(&c->err, "cannot rekey the audit log");
	if (!c->quiet)
		printf("new audit key %s; %lld chain%s in a new epoch\n", id, chains,
		       chains == 1 ? "" : "s");
	return 0;
}
