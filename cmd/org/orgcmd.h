/* org.h - handlers of vaultctl-org, one file per subcommand group. */
#ifndef VC_ORGCMD_H
#define VC_ORGCMD_H

#include "cli.h"
#include "ref.h"
#include "org.h"
#include "policy.h"

int cmd_user_add(struct cli *c);
int cmd_user_list(struct cli *c);
int cmd_user_show(struct cli *c);
int cmd_user_set(struct cli *c);
int cmd_user_passwd(struct cli *c);
int cmd_user_check_password(struct cli *c);
int cmd_user_rm(struct cli *c);

int cmd_org_create(struct cli *c);
int cmd_org_list(struct cli *c);
int cmd_org_show(struct cli *c);
int cmd_org_set(struct cli *c);
int cmd_org_rm(struct cli *c);
int cmd_member_add(struct cli *c);
int cmd_member_list(struct cli *c);
int cmd_member_set(struct cli *c);
int cmd_member_rm(struct cli *c);
int cmd_project_create(struct cli *c);
int cmd_project_list(struct cli *c);
int cmd_project_show(struct cli *c);
int cmd_project_set(struct cli *c);
int cmd_project_rm(struct cli *c);
int cmd_env_create(struct cli *c);
int cmd_env_list(struct cli *c);
int cmd_env_rm(struct cli *c);
int cmd_env_set(struct cli *c);
int cmd_policy(struct cli *c);
int org_rm_ref(struct cli *c, int depth, const char *what);

/* Option ids of vaultctl-org, shared by the table and the handlers. */
enum { O_FIRST = OPT_FIRST_LONG, O_LAST, O_ROLE, O_PW_STDIN, O_NO_PW,
       O_DESC, O_PLAN, O_OWNER, O_NAME, O_YES, O_READ_ONLY, O_LOGIN,
       O_NO_LOGIN, O_MAX_VERSIONS };

/* An argument as echoed before an error's reason: a long one is cut, so
 * that the reason still fits in the fixed-size message.  Two calls may
 * share one message. */
const char *org_cut(const char *arg);

/* Prints a listing with the given columns, one per result column in
 * order, and frees it. */
int org_print(struct cli *c, const struct vc_col *cols, size_t ncols,
	      struct vc_res *r, int single);
/* Resolves c->args[0] as a reference of depth parts and prints what list
 * gives for it. */
int org_list(struct cli *c, int depth,
	     int (*list)(struct vc_session *, const struct vc_ref *,
			 struct vc_res **, struct vc_err *),
	     const struct vc_col *cols, size_t ncols, int single);
#endif
