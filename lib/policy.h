/* policy.h - HashiCorp Vault ACL policies for the roles of an
 * organization, on one organization, project or environment. */
#ifndef VC_POLICY_H
#define VC_POLICY_H

#include "ref.h"
#include "session.h"
#include "vc.h"

/* The policy (HCL) that gives role exactly its capabilities on the KV v2
 * paths of ref (depth 1 to 3) under mount; with read_only, read and list
 * only, whatever the role.  VC_EUSAGE for a mount that a policy cannot
 * carry. */
int vc_policy_hcl(const struct vc_ref *ref, enum vc_role role, int read_only,
		  const char *mount, struct vc_buf *out, struct vc_err *e);

/* vc_policy_hcl for the reference ORG[/PROJECT[/ENV]] and the role named
 * role (NULL: member), under the configured mount.  Admins and owners of
 * the organization, and global admins, may ask. */
int vc_policy_render(struct vc_session *s, const char *ref, const char *role,
		     int read_only, struct vc_buf *out, struct vc_err *e);

#endif
