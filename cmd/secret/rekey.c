/* rekey.c - vaultctl-secret rekey: a new master key for the local store */
#include <stdio.h>
#include <unistd.h>

#include "secretcmd.h"

static int confirm(void *ctx, const char *question, struct vc_err *e)
{
	struct cli *c = ctx;
	int rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "%s", question);

	if (rc < 0 && e != &c->err)
		*e = c->err;
	return rc;
}

/* A count on one line of the terminal: a large store takes a while. */
static void progress(void *ctx, long long resealed)
{
	struct cli *c = ctx;

	if (!c->quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "\r%s: re-sealed %lld values", c->tool->prog,
			resealed);
}

int cmd_rekey(struct cli *c)
{
	struct vc_secret_rekey rk = { confirm, progress, c, 0, 0, "", "" };
	int rc = vc_secret_rekey(&c->s, &rk, &c->err);

	if (rk.resealed && !c->quiet && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot rekey the value store");
	if (!c->quiet)
		fprintf(stderr, "%s: %s: %lld values re-sealed under key %s "
			"(previous key %s)\n", c->tool->prog, rk.resumed ?
			"finished an interrupted rekey" : "rekeyed",
			rk.resealed, rk.new_id, rk.old_id);
	return 0;
}
