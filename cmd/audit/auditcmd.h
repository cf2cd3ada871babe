/* auditcmd.h - handlers of vaultctl-audit.  Names carry "audit" because
 * the front command links every tool's handlers into one binary. */
#ifndef VC_AUDITCMD_H
#define VC_AUDITCMD_H

#include "audit.h"
#include "cli.h"
#include "ref.h"

enum { O_ORG = OPT_FIRST_LONG, O_USER, O_ACTION, O_RTYPE, O_SINCE, O_UNTIL,
       O_LIMIT, O_AFTER, O_FOLLOW, O_FIX, O_YES, O_BEFORE, O_ANCHOR };

int cmd_audit_log(struct cli *c);
int cmd_audit_stats_recompute(struct cli *c);
int cmd_audit_stats_show(struct cli *c);
int cmd_audit_verify(struct cli *c);
int cmd_audit_reconcile(struct cli *c);
int cmd_audit_prune(struct cli *c);
int cmd_audit_rekey(struct cli *c);

/* The scope of a report (vc_audit_scope): --org ORG, or without it
 * every organization.  *org_id is NULL for every organization. */
int audit_scope(struct cli *c, enum vc_audit_act act, struct vc_ref *ref,
		const char **org_id);

#endif
