/* destroy.c - vaultctl-secret destroy REF --versions N[,N...] */
#include <stdlib.h>
#include <string.h>

#include "secretcmd.h"

#define MAX_VERSIONS 100

/* --versions N[,N...]: whole numbers from 1, each once. */
static int parse_versions(struct cli *c, int *out, size_t *n)
{
	const char *v = cli_opt(c, O_VERSIONS), *p;
	char tok[24];
	long num;

	*n = 0;
	if (!v)
		return cli_fail(c, VC_EUSAGE, "--versions N[,N...] is required");
	for (p = v;; p += strcspn(p, ",") + 1) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(tok))
			return cli_fail(c, VC_EUSAGE, "--versions: a list of "
					"version numbers, not '%.40s'", v);
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (cli_uint(c, "--versions", tok, 2147483647L, &num) < 0 ||
		    num == 0)
			return cli_fail(c, VC_EUSAGE, "--versions: a version is a "
					"whole number from 1, not '%.24s'", tok);
		for (size_t i = 0; i < *n; i++)
			if (out[i] == (int)num)
				return cli_fail(c, VC_EUSAGE, "--versions: %ld "
						"given twice", num);
		if (*n == MAX_VERSIONS)
			return cli_fail(c, VC_EUSAGE, "--versions: at most %d "
					"versions at once", MAX_VERSIONS);
		out[(*n)++] = (int)num;
		if (!p[len])
			return 0;
	}
}

int cmd_destroy(struct cli *c)
{
	int versions[MAX_VERSIONS];
	size_t n = 0;
	struct vc_ref ref;
	int rc = parse_versions(c, versions, &n);

	if (rc == 0)
		rc = secret_ref(c, 0, 4, &ref);
	if (rc == 0)
		rc = vc_secret_may(&c->s, &ref, VC_SECRET_DESTROY, &c->err);
	if (rc == 0)
		rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "destroy version%s "
				 "%s of '%s' for good?", n > 1 ? "s" : "",
				 cli_opt(c, O_VERSIONS), ref.text);
	if (rc == 0)
		rc = vc_secret_destroy(&c->s, &ref, versions, n, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot destroy versions of '%s'",
				     c->args[0]);
	if (!c->quiet)
		fprintf(stderr, "%s: destroyed version%s %s of %s\n",
			c->tool->prog, n > 1 ? "s" : "", cli_opt(c, O_VERSIONS),
			ref.text);
	return 0;
}
