/* ref.h - names, references ORG[/PROJECT[/ENV[/NAME]]] and roles
 * (vaultctl(7)). */
#ifndef VC_REF_H
#define VC_REF_H

#include "db.h"
#include "session.h"
#include "vc.h"

enum vc_role { VC_ROLE_NONE, VC_ROLE_VIEWER, VC_ROLE_MEMBER, VC_ROLE_ADMIN,
	       VC_ROLE_OWNER, VC_ROLE_GLOBAL_ADMIN };

/* Validators set e naming what is wrong ("organization name 'x': ..."). */
int vc_name_check(const char *kind, const char *s, struct vc_err *e);
int vc_secret_name_check(const char *s, struct vc_err *e);
/* Orders secret names as the database's ORDER BY name does
 * (utf8mb4_unicode_ci): '_' < digits < letters, case ignored. */
int vc_secret_name_cmp(const char *a, const char *b);
int vc_email_check(const char *s, struct vc_err *e);
int vc_is_uuid(const char *s);
int vc_role_parse(const char *s, enum vc_role *r, struct vc_err *e);
const char *vc_role_name(enum vc_role r);

/* Splits ORG[/PROJECT[/ENV[/NAME]]] at '/' into 1 to 4 parts of 1 to 255
 * bytes, without checking the names: VC_EUSAGE for more parts or an
 * empty or overlong one.  One trailing '/' is accepted after an
 * organization, project or environment ("acme/api/"), not after a
 * secret name. */
int vc_ref_split(const char *text, char parts[4][256], int *n,
		 struct vc_err *e);

struct vc_ref {
	int depth;              /* 1 org, 2 project, 3 env, 4 secret */
	char org_id[37], project_id[37], env_id[37];
	char org[64], project[64], env[64];     /* names as stored */
	char name[256];         /* secret name as given */
	enum vc_role role;      /* the acting user's role here */
	char text[480];         /* canonical "org/project/env[/NAME]" */
	/* The environment's --max-versions as resolved (-1: none), when
	 * max_known; a ref made otherwise asks the database. */
	int max_known, max_versions;
};

/* Splits and resolves a reference that must have exactly depth parts
 * (or at least min and at most depth when min > 0).  A secret name is
 * validated but not looked up.  Unknown parts give VC_ENOTFOUND naming
 * the part.  The acting user's role is filled in. */
int vc_ref_resolve(struct vc_session *s, struct vc_db *db, const char *text,
		   int depth, struct vc_ref *ref, struct vc_err *e);
/* The n references of texts into refs as vc_ref_resolve, in one query;
 * those of refs with a depth already are left as they are.  The first
 * that fails, in order, is the error. */
int vc_ref_resolve_many(struct vc_session *s, struct vc_db *db,
			const char *const *texts, int depth,
			struct vc_ref *refs, size_t n, struct vc_err *e);
/* VC_EPERM unless the acting user has at least role min in ref's org.
 * A refusal is audited as "<command>.denied" (vc_audit_denied), and a
 * pass counts the command as an API call of the organization: check
 * ref->role instead to find out what the user may do without asking. */
int vc_ref_need(struct vc_session *s, const struct vc_ref *ref,
		enum vc_role min, const char *what, struct vc_err *e);
/* VC_EPERM "permission denied: WHY" unless the acting user is a global
 * admin; a refusal is audited likewise. */
int vc_ref_need_admin(struct vc_session *s, const char *why,
		      struct vc_err *e);

/* Which organizations a report or a repair covers, and whether the acting
 * user may have it: org (a name or id) where they need role min, or with
 * org NULL every organization, which is for global admins, unless
 * member_id is given: then anyone else gets the organizations they belong
 * to (*member_id: their id).  *org_id: org's id, NULL when not one.  A
 * command run without an acting user (by cron) checks no role. */
int vc_ref_scope(struct vc_session *s, const char *org, enum vc_role min,
		 const char *what, struct vc_ref *ref, const char **org_id,
		 const char **member_id, struct vc_err *e);

/* Names that complete prefix, one column, of what the acting user may
 * see: "ac" gives organizations, "acme/" acme's projects ("acme/api"),
 * "acme/api/" its environments, "acme/api/prod/" its live secrets.
 * *depth: how many whole parts prefix has (0 to 3). */
int vc_ref_complete(struct vc_session *s, const char *prefix,
		    struct vc_res **out, int *depth, struct vc_err *e);

#endif
