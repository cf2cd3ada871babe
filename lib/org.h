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
/* VC_EPERM unless the acting user may remove what ref names (owners an
 * organization, admins projects and environments): vc_org_remove checks
 * it, a command before it asks for a confirmation. */
int vc_org_may_remove(struct vc_session *s, const struct vc_ref *ref,
		      struct vc_err *e);

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
/* Renames or describes an environment (ref depth 3; name, desc may be
 * NULL) and, max_versions >= 0, sets how many versions each of its
 * secrets keeps in the store (0: the store's default; env_set.c).
 * Admins only. */
int vc_env_set(struct vc_session *s, const struct vc_ref *ref,
	       const char *name, const char *desc, int max_versions,
	       struct vc_err *e);

/* ---- listings, one row each, for viewers and up unless said ----
 * Times are ISO 8601 UTC text. */

/* The organizations the acting user belongs to (every one for a global
 * admin) by name; columns: name, role (admin* for a global admin who is
 * not a member), plan, secrets, secrets_limit, projects, owner,
 * description, id, created_at. */
int vc_org_list(struct vc_session *s, struct vc_res **out, struct vc_err *e);
/* One organization: the columns of vc_org_list, then members and
 * environments, as JSON arrays when json is set, else one readable line
 * each. */
int vc_org_show(struct vc_session *s, const struct vc_ref *ref, int json,
		struct vc_res **out, struct vc_err *e);
/* Members, owners first; columns: email, role, first_name, last_name,
 * since. */
int vc_member_list(struct vc_session *s, const struct vc_ref *ref,
		   struct vc_res **out, struct vc_err *e);
/* The projects of ref's organization (depth 1) or the one project
 * (depth 2); columns: name, environments, secrets, description,
 * created_by, id, created_at. */
int vc_project_list(struct vc_session *s, const struct vc_ref *ref,
		    struct vc_res **out, struct vc_err *e);
/* The environments of ref's project; columns: name, secrets,
 * description, id, created_at. */
int vc_env_list(struct vc_session *s, const struct vc_ref *ref,
		struct vc_res **out, struct vc_err *e);

#endif
