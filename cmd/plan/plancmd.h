/* plancmd.h - handlers of vaultctl-plan, one file per subcommand group. */
#ifndef VC_PLANCMD_H
#define VC_PLANCMD_H

#include "cli.h"
#include "db.h"
#include "plan.h"
#include "ref.h"

/* Option ids of vaultctl-plan, shared by the table and the handlers. */
enum { O_PRICE = OPT_FIRST_LONG, O_CYCLE, O_LIMIT, O_FEATURES, O_DESC,
       O_START, O_END, O_FORCE, O_NEED };

int cmd_plan_create(struct cli *c);
int cmd_plan_list(struct cli *c);
int cmd_plan_show(struct cli *c);
int cmd_plan_set(struct cli *c);
int cmd_plan_rm(struct cli *c);

int cmd_plan_subscribe(struct cli *c);
int cmd_plan_cancel(struct cli *c);
int cmd_plan_subscriptions(struct cli *c);
int cmd_plan_expire(struct cli *c);

int cmd_plan_usage(struct cli *c);
int cmd_plan_check(struct cli *c);

/* Prints r with the given columns (one per result column, in order).
 * A NULL in column limit_col (-1: none) means unlimited and shows as
 * "unlimited" outside JSON, where it stays null. */
int plan_print_res(struct cli *c, const struct vc_col *cols, size_t ncols,
		   const struct vc_res *r, int single, int limit_col);
/* Resolves c->args[i] as an organization. */
int plan_org(struct cli *c, int i, struct vc_ref *ref);

#endif
