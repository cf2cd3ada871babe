/* org.h - organizations, members, projects and environments. */
#ifndef VC_ORG_H
#define VC_ORG_H

#include "ref.h"
#include "session.h"
#include "vc.h"

int vc_org_create(struct vc_session *s, const char *name, const char *desc,
		  const char *plan, const char *owner, struct vc_err *e);
/* Renames (name may be NULL) or changes the description (may be NULL). */
int vc_org_set(struct vc_session *s, const struct vc_ref *ref,
	       const char *name, const char *desc, struct vc_err *e);

/* Removes everything under ref (depth 1 organization, 2 project,
 * 3 environment): values from the store first, then the rows.  *secrets
 * says how many secrets went. */
int vc_org_remove(struct vc_session *s, const struct vc_ref *ref,
		  long long *secrets, struct vc_err *e);

int vc_member_add(struct vc_session *s, const struct vc_ref *ref,
		  const char *email, enum vc_role role, struct vc_err *e);
int vc_member_set(struct vc_session *s, const struct vc_ref *ref,
		  const char *email, enum vc_role role, struct vc_err *e);
int vc_member_rm(struct vc_session *s, const struct vc_ref *ref,
		 const char *email, struct vc_err *e);

/* Creates a project (ref depth 1) or an environment (ref depth 2). */
int vc_child_create(struct vc_session *s, const struct vc_ref *parent,
		    const char *name, const char *desc, struct vc_err *e);
int vc_project_set(struct vc_session *s, const struct vc_ref *ref,
		   const char *name, const char *desc, struct vc_err *e);

#endif
