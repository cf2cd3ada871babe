/* restore_env.c - vaultctl-secret restore-env: an environment back as it
 * was at a point in time (lib/secret_restore.c). */
#include <stdio.h>

#include "secretcmd.h"

static const char *const kind_word[VC_RESTORE_KINDS] = {
	[VC_RESTORE_UNCHANGED] = "unchanged", [VC_RESTORE_REVERT] = "reverted",
	[VC_RESTORE_REMOVE] = "removed", [VC_RESTORE_RESTORE] = "restored",
};

/* One row a secret: what the run would do, the version now and the one
 * current at TIME (empty when it did not exist then). */
static int print_plan(struct cli *c, const struct vc_restore_plan *p)
{
	static const struct vc_col cols[] = {
		{ "change", VC_COL_STR }, { "name", VC_COL_STR },
		{ "version", VC_COL_NUM }, { "version_at", VC_COL_NUM },
	};
	struct vc_table t;
	char now[16], then[16];
	int rc = 0;

	vc_table_init(&t, cols, ARRAY_SIZE(cols));
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		const struct vc_restore_op *op = &p->ops[i];
		snprintf(now, sizeof(now), "%d", op->expect);
		snprintf(then, sizeof(then), "%d", op->from);
		if (vc_table_addv(&t, kind_word[op->kind], op->name, now,
				  op->from ? then : NULL) < 0)
			rc = cli_fail(c, VC_EFAIL, "out of memory");
	}
	if (rc == 0)
		rc = cli_print_table(c, &t, 0);
	vc_table_release(&t);
	return rc;
}

static void summary(struct cli *c, const struct vc_ref *env,
		    const struct vc_restore_plan *p, const char *verb)
{
	if (c->quiet)
		return;
	fprintf(stderr, "%s: %s %s as at %s UTC: %zu reverted, %zu removed, "
		"%zu restored, %zu unchanged\n", c->tool->prog, verb, env->text,
		p->at, p->count[VC_RESTORE_REVERT], p->count[VC_RESTORE_REMOVE],
		p->count[VC_RESTORE_RESTORE], p->count[VC_RESTORE_UNCHANGED]);
}

static int changes(const struct vc_restore_plan *p)
{
	return p->n != p->count[VC_RESTORE_UNCHANGED];
}

/* The plan as one batch: a signal before its changes go to the store
 * stops it with nothing changed; after, it waits for the commit. */
static int apply(struct cli *c, const struct vc_ref *env,
		 const struct vc_restore_plan *plan)
{
	struct sigaction old[2];
	int rc;

	catch_interrupts(old);
	rc = vc_secret_restore_apply(&c->s, env, plan, &batch_interrupted,
				     &c->err);
	release_interrupts(old);
	if (rc == VC_EINTR)
		return cli_fail(c, VC_EINTR, "interrupted before the changes "
				"went to the store: nothing was changed; run the "
				"same command again");
	return rc;
}

int cmd_restore_env(struct cli *c)
{
	struct vc_restore_plan plan = { "", NULL, 0, { 0 } };
	const char *at = cli_opt(c, O_AT);
	int dry = cli_opt(c, O_DRY_RUN) != NULL;
	struct vc_ref env;
	int rc = at ? 0 : cli_fail(c, VC_EUSAGE, "--at TIME is required");

	if (rc == 0)
		rc = secret_ref(c, 0, 3, &env);
	if (rc == 0)
		rc = vc_secret_restore_plan(&c->s, &env, at, &plan, &c->err);
	if (rc == 0 && dry)
		rc = print_plan(c, &plan);
	if (rc == 0 && !dry && changes(&plan))
		rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "put %zu secrets "
				 "of '%s' back as they were at %s UTC?",
				 plan.n - plan.count[VC_RESTORE_UNCHANGED],
				 env.text, plan.at);
	if (rc == 0 && !dry && changes(&plan))
		rc = apply(c, &env, &plan);
	if (rc == 0)
		summary(c, &env, &plan, dry ? "would put" : "put back");
	vc_secret_restore_plan_release(&plan);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot restore '%s'", c->args[0]);
	return 0;
}
