/* list.c - vaultctl-secret list|history */
#include "secretcmd.h"

static const struct vc_col list_cols[] = {
	{ "name", VC_COL_STR }, { "version", VC_COL_NUM },
	{ "description", VC_COL_STR }, { "created_by", VC_COL_STR },
	{ "updated_at", VC_COL_STR }, { "id", VC_COL_STR },
};

int cmd_list(struct cli *c)
{
	struct vc_ref ref;
	struct vc_res *r;
	int rc = secret_ref(c, 0, 3, &ref);

	if (rc == 0)
		rc = vc_secret_list(&c->s, &ref, &r, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot list '%s'", c->args[0]);
	rc = cli_print_res(c, list_cols, ARRAY_SIZE(list_cols), r, 0);
	vc_res_free(r);
	return rc;
}

static const struct vc_col hist_cols[] = {
	{ "version", VC_COL_NUM }, { "created_at", VC_COL_STR },
	{ "state", VC_COL_STR }, { "author", VC_COL_STR },
	{ "action", VC_COL_STR }, { "reason", VC_COL_STR },
};

int cmd_history(struct cli *c)
{
	struct vc_table t;
	struct vc_ref ref;
	int rc = secret_ref(c, 0, 4, &ref);

	vc_table_init(&t, hist_cols, ARRAY_SIZE(hist_cols));
	if (rc == 0)
		rc = vc_secret_history(&c->s, &ref, &t, &c->err);
	if (rc == 0)
		rc = cli_print_table(c, &t, 0);
	vc_table_release(&t);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot read the history of '%s'",
				     c->args[0]);
	return 0;
}
