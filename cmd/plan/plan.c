/* plan.c - vaultctl-plan create|list|show|set|rm */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plancmd.h"
#include "host.h"

int plan_print_res(struct cli *c, const struct vc_col *cols, size_t ncols,
		   const struct vc_res *r, int single, int limit_col)
{
	int json = c->out == VC_OUT_JSON || c->out == VC_OUT_JSONL;
	struct vc_table t;
	int rc = 0;

	vc_table_init(&t, cols, ncols);
	for (size_t i = 0; i < vc_res_rows(r) && rc == 0; i++) {
		const char *row[16] = { NULL };
		for (size_t k = 0; k < ncols && k < ARRAY_SIZE(row); k++)
			row[k] = vc_res_get(r, i, k, NULL);
		if (limit_col >= 0 && !row[limit_col] && !json)
			row[limit_col] = "unlimited";
		rc = vc_table_add(&t, row) < 0 ?
		     cli_fail(c, VC_EFAIL, "out of memory") : 0;
	}
	if (rc == 0)
		rc = cli_print_table(c, &t, single);
	vc_table_release(&t);
	return rc;
}

/* Reads --features @FILE (@- for standard input), one byte more than
 * allowed so that a longer file is noticed. */
static int read_features(struct cli *c, const char *path, struct vc_buf *b)
{
	FILE *f = strcmp(path, "-") ? vc_host_fopen(path, "r") : stdin;
	char chunk[4096];
	size_t n;
	int bad;

	if (!f)
		return cli_fail(c, VC_EUSAGE, "cannot read --features file '%.120s': "
				"%s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	       b->len <= VC_PLAN_FEATURES_MAX)
		if (vc_buf_add(b, chunk, n) < 0)
			break;
	bad = ferror(f) ? (errno ? errno : EIO) : 0;
	if (f != stdin)
		fclose(f);
	if (bad)
		return cli_fail(c, VC_EUSAGE, "cannot read --features file '%.120s': "
				"%s", path, strerror(bad));
	return 0;
}

/* The features JSON, validated and made compact into *out. */
static int parse_features(struct cli *c, const char *v, char **out)
{
	struct vc_buf b = VC_BUF_INIT;
	struct vc_err e = { 0, "" };
	int rc = 0;

	if (v[0] == '@')
		rc = read_features(c, v + 1, &b);
	else
		rc = vc_buf_addstr(&b, v) < 0 ? VC_EFAIL : 0;
	if (rc == 0 && vc_plan_features_parse(b.data ? b.data : "", b.len, out,
					      &e) < 0)
		rc = v[0] == '@' ? cli_fail(c, e.code, "invalid --features file "
					    "'%.120s': %s", v + 1, e.msg)
				 : cli_fail(c, e.code, "invalid --features: %s",
					    e.msg);
	vc_buf_release(&b);
	return rc;
}

static int parse_limit(struct cli *c, const char *v, struct vc_plan_spec *p)
{
	long n;

	if (!v)
		return 0;
	p->has_limit = 1;
	if (!strcmp(v, "unlimited")) {
		p->limit = -1;
		return 0;
	}
	if (cli_uint(c, "--secrets-limit", v, 2147483647L, &n) < 0)
		return cli_fail(c, VC_EUSAGE, "invalid --secrets-limit '%.40s': use "
				"a whole number from 0 to 2147483647 or "
				"'unlimited'", v);
	p->limit = n;
	return 0;
}

/* Options to a spec; every check names the option it refuses. */
static int parse_spec(struct cli *c, struct vc_plan_spec *p, char **features)
{
	const char *price = cli_opt(c, O_PRICE), *cycle = cli_opt(c, O_CYCLE);
	const char *f = cli_opt(c, O_FEATURES);
	struct vc_err e = { 0, "" };

	memset(p, 0, sizeof(*p));
	*features = NULL;
	if (price && vc_plan_price_check(price, &e) < 0)
		return cli_fail(c, e.code, "invalid --price '%.40s': %s", price,
				e.msg);
	if (cycle && vc_plan_cycle_check(cycle, &e) < 0)
		return cli_fail(c, e.code, "invalid --cycle '%.40s': %s", cycle,
				e.msg);
	if (parse_limit(c, cli_opt(c, O_LIMIT), p) < 0)
		return c->err.code;
	if (f && parse_features(c, f, features) < 0)
		return c->err.code;
	p->price = price;
	p->cycle = cycle;
	p->features = *features;
	p->desc = cli_opt(c, O_DESC);
	return 0;
}

int cmd_plan_create(struct cli *c)
{
	struct vc_plan_spec p;
	char *features;
	int rc = parse_spec(c, &p, &features);

	if (rc == 0 && !p.price)
		rc = cli_fail(c, VC_EUSAGE, "--price is required");
	if (rc == 0 && !p.cycle)
		rc = cli_fail(c, VC_EUSAGE, "--cycle is required");
	if (rc == 0)
		rc = vc_plan_create(&c->s, c->args[0], &p, &c->err);
	free(features);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot create plan '%s'",
				     c->args[0]);
	if (!c->quiet)
		printf("created plan %s\n", c->args[0]);
	return 0;
}

int cmd_plan_set(struct cli *c)
{
	struct vc_plan_spec p;
	char *features;
	int rc = parse_spec(c, &p, &features);

	if (rc == 0)
		rc = vc_plan_set(&c->s, c->args[0], &p, &c->err);
	free(features);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot change plan '%s'",
				     c->args[0]);
	if (!c->quiet)
		printf("changed plan %s\n", c->args[0]);
	return 0;
}

int cmd_plan_rm(struct cli *c)
{
	int rc = vc_plan_remove(&c->s, c->args[0], &c->err);

	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot remove plan '%s'",
				     c->args[0]);
	if (!c->quiet)
		printf("removed plan %s\n", c->args[0]);
	return 0;
}

/* In vc_plan_query's order.  The price is a JSON string: its exact
 * decimal text, which a JSON number would invite readers to turn into a
 * float. */
static const struct vc_col plan_cols[] = {
	{ "name", VC_COL_STR }, { "price", VC_COL_STR },
	{ "cycle", VC_COL_STR }, { "secrets_limit", VC_COL_NUM },
	{ "features", VC_COL_JSON }, { "description", VC_COL_STR },
	{ "organizations", VC_COL_NUM }, { "id", VC_COL_STR },
	{ "created_at", VC_COL_STR }, { "updated_at", VC_COL_STR },
};

/* The listing leaves out the features: one line per plan. */
static const struct vc_col list_cols[] = {
	{ "name", VC_COL_STR }, { "price", VC_COL_STR },
	{ "cycle", VC_COL_STR }, { "secrets_limit", VC_COL_NUM },
};

static int print_plans(struct cli *c, const char *plan, int single)
{
	struct vc_res *r;
	int rc = vc_plan_query(&c->s, plan, &r, &c->err);

	if (rc < 0)
		return plan ? vc_err_prefix(&c->err, "cannot show plan '%s'",
					    plan) : rc;
	rc = single ? plan_print_res(c, plan_cols, ARRAY_SIZE(plan_cols), r,
				     1, 3)
		    : plan_print_res(c, list_cols, ARRAY_SIZE(list_cols), r,
				     0, 3);
	vc_res_free(r);
	return rc;
}

int cmd_plan_list(struct cli *c)
{
	return print_plans(c, NULL, 0);
}

int cmd_plan_show(struct cli *c)
{
	return print_plans(c, c->args[0], 1);
}
