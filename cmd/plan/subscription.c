/* subscription.c - vaultctl-plan subscribe|cancel|subscriptions|expire */
#include <stdio.h>

#include "plancmd.h"

int plan_org(struct cli *c, int i, struct vc_ref *ref)
{
	return vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[i], 1,
			      ref, &c->err);
}

/* Checks --start and --end here too, so that the message names them. */
static int check_date(struct cli *c, int opt, const char *name)
{
	const char *v = cli_opt(c, opt);
	struct vc_err e = { 0, "" };
	char out[20];

	if (v && vc_plan_date_parse(v, out, &e) < 0)
		return cli_fail(c, e.code, "invalid %s '%.40s': %s", name, v, e.msg);
	return 0;
}

int cmd_plan_subscribe(struct cli *c)
{
	struct vc_plan_sub sub = { c->args[1], cli_opt(c, O_START),
				   cli_opt(c, O_END), cli_opt(c, O_FORCE) != NULL };
	long long used = 0, limit = -1;
	struct vc_ref ref;
	int rc = check_date(c, O_START, "--start");

	if (rc == 0)
		rc = check_date(c, O_END, "--end");
	if (rc == 0)
		rc = plan_org(c, 0, &ref);
	if (rc == 0)
		rc = vc_plan_subscribe(&c->s, &ref, &sub, &used, &limit, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot subscribe organization '%s' "
				     "to plan '%s'", c->args[0], c->args[1]);
	if (!c->quiet)
		printf("subscribed organization %s to plan %s\n", ref.org,
		       c->args[1]);
	if (limit >= 0 && used > limit)
		cli_note(c, "warning: organization '%s' holds %lld secrets, more "
			 "than the %lld plan '%s' allows: new secrets are "
			 "refused until it is under the limit", ref.org, used,
			 limit, c->args[1]);
	return 0;
}

int cmd_plan_cancel(struct cli *c)
{
	struct vc_ref ref;
	int rc = plan_org(c, 0, &ref);

	if (rc == 0)
		rc = vc_plan_cancel(&c->s, &ref, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot cancel the subscription of "
				     "organization '%s'", c->args[0]);
	if (!c->quiet)
		printf("canceled the subscription of organization %s\n", ref.org);
	return 0;
}

/* In vc_plan_history's order. */
static const struct vc_col sub_cols[] = {
	{ "plan", VC_COL_STR }, { "status", VC_COL_STR },
	{ "secrets_limit", VC_COL_NUM }, { "start_date", VC_COL_STR },
	{ "end_date", VC_COL_STR }, { "created_at", VC_COL_STR },
	{ "id", VC_COL_STR },
};

int cmd_plan_subscriptions(struct cli *c)
{
	struct vc_res *r = NULL;
	struct vc_ref ref;
	int rc = plan_org(c, 0, &ref);

	if (rc == 0)
		rc = vc_plan_history(&c->s, &ref, &r, &c->err);
	if (rc == 0)
		rc = plan_print_res(c, sub_cols, ARRAY_SIZE(sub_cols), r, 0, 2);
	vc_res_free(r);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot list the subscriptions of "
				     "organization '%s'", c->args[0]);
	return 0;
}

/* Silent unless -v: cron mails whatever a job prints. */
int cmd_plan_expire(struct cli *c)
{
	long long n = 0;
	int rc = vc_plan_expire(&c->s, &n, &c->err);

	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot expire subscriptions");
	if (c->verbose)
		cli_note(c, "expired %lld subscription%s", n, n == 1 ? "" : "s");
	return 0;
}
