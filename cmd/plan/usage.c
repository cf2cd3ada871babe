/* usage.c - vaultctl-plan usage|check */
#include <stdio.h>

#include "plancmd.h"

static const struct vc_col env_cols[] = {
	{ "project", VC_COL_STR }, { "environment", VC_COL_STR },
	{ "secrets", VC_COL_NUM },
};

/* The summary; the last column (the environments as a JSON array) only
 * in JSON, where the whole report is one object. */
static const struct vc_col sum_cols[] = {
	{ "organization", VC_COL_STR }, { "plan", VC_COL_STR },
	{ "secrets", VC_COL_NUM }, { "secrets_limit", VC_COL_NUM },
	{ "percent", VC_COL_NUM }, { "api_calls", VC_COL_NUM },
	{ "environments", VC_COL_JSON },
};

static int env_table(struct cli *c, const struct vc_res *r,
		     struct vc_table *t)
{
	vc_table_init(t, env_cols, ARRAY_SIZE(env_cols));
	for (size_t i = 0; i < vc_res_rows(r); i++)
		if (vc_table_addv(t, vc_res_get(r, i, 0, NULL),
				  vc_res_get(r, i, 1, NULL),
				  vc_res_get(r, i, 2, NULL)) < 0)
			return cli_fail(c, VC_EFAIL, "out of memory");
	return 0;
}

/* NULL (JSON null, "-" in a table) without a subscription; unlimited is
 * null in JSON too, where "plan" tells the two apart. */
static const char *limit_cell(const struct vc_plan_usage *u, int json,
			      const char *limit)
{
	if (u->limit >= 0)
		return limit;
	return u->active && !json ? "unlimited" : NULL;
}

static int print_usage(struct cli *c, const struct vc_ref *ref,
		       const struct vc_plan_usage *u, struct vc_table *envs)
{
	int json = c->out == VC_OUT_JSON || c->out == VC_OUT_JSONL;
	struct vc_buf arr = VC_BUF_INIT;
	char used[24], limit[24], calls[24], pct[32];
	struct vc_table t;
	int rc;

	if (c->out == VC_OUT_TSV || c->out == VC_OUT_CSV)
		return cli_print_table(c, envs, 0);
	snprintf(used, sizeof(used), "%lld", u->used);
	snprintf(limit, sizeof(limit), "%lld", u->limit);
	snprintf(calls, sizeof(calls), "%lld", u->api_calls);
	snprintf(pct, sizeof(pct), json ? "%s" : "%s%%", u->percent);
	rc = json ? vc_table_render(envs, VC_OUT_JSON, 0, &arr) : 0;
	vc_table_init(&t, sum_cols, ARRAY_SIZE(sum_cols) - !json);
	if (rc == 0)
		rc = vc_table_addv(&t, ref->org, u->active ? u->plan : NULL, used,
				   limit_cell(u, json, limit),
				   u->percent[0] ? pct : NULL, calls, arr.data);
	if (rc == 0)
		rc = cli_print_table(c, &t, 1);
	if (rc == 0 && !json && envs->nrows) {
		putchar('\n');
		rc = cli_print_table(c, envs, 0);
	}
	vc_table_release(&t);
	vc_buf_release(&arr);
	return rc;
}

int cmd_plan_usage(struct cli *c)
{
	struct vc_plan_usage u;
	struct vc_res *r = NULL;
	struct vc_table envs;
	struct vc_ref ref;
	int rc = plan_org(c, 0, &ref);

	vc_table_init(&envs, env_cols, ARRAY_SIZE(env_cols));
	if (rc == 0)
		rc = vc_plan_usage(&c->s, &ref, &u, &r, &c->err);
	if (rc == 0)
		rc = env_table(c, r, &envs);
	if (rc == 0)
		rc = print_usage(c, &ref, &u, &envs);
	vc_table_release(&envs);
	vc_res_free(r);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot show the usage of "
				     "organization '%s'", c->args[0]);
	return 0;
}

/* For scripts and CI gates: the verdict is the exit status, and -q makes
 * a "no" as silent as a "yes". */
int cmd_plan_check(struct cli *c)
{
	const char *v = cli_opt(c, O_NEED);
	struct vc_plan_usage u;
	struct vc_ref ref;
	long need = 1;
	int rc = v ? cli_uint(c, "--need", v, 2147483647L, &need) : 0;

	if (rc == 0)
		rc = plan_org(c, 0, &ref);
	if (rc == 0)
		rc = vc_plan_check(&c->s, &ref, need, &u, &c->err);
	if (rc == VC_EQUOTA && c->quiet)
		c->silent = 1;
	if (rc < 0)
		return rc;
	if (!c->quiet && u.limit >= 0)
		printf("organization %s: %lld of %lld secrets used, room for "
		       "%lld more\n", ref.org, u.used, u.limit,
		       u.limit - u.used);
	else if (!c->quiet)
		printf("organization %s: %lld secrets used, no limit\n", ref.org,
		       u.used);
	return 0;
}
