/* inject.c - vaultctl-secret inject */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "inject.h"
#include "prompt.h"
#include "secretcmd.h"

/* A template may itself hold secrets written in clear: kept in a secret
 * buffer like the output. */
static int read_template(struct cli *c, const char *file, struct vc_buf *text)
{
	return read_file(c, "-i", file && strcmp(file, "-") ? file : NULL,
			 64 * 1024 * 1024, text);
}

int cmd_inject(struct cli *c)
{
	const char *in = cli_opt(c, 'i'), *file = cli_opt(c, 'o');
	struct vc_buf text = VC_BUF_INIT, out = VC_BUF_INIT;
	struct atomic_out a = { "", -1, "-o" };
	int rc = 0;

	text.secret = out.secret = 1;
	if (file)
		rc = atomic_open(c, "-o", file, &a);
	if (rc == 0)
		rc = read_template(c, in, &text);
	if (rc == 0)
		rc = vc_inject(&c->s, text.data, text.len, 8, &out, &c->err);
	if (rc == 0 && file)
		rc = atomic_commit(c, file, &a, out.data ? out.data : "", out.len);
	else if (rc == 0 && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = cli_fail(c, VC_EFAIL, "cannot write output: %s",
			      strerror(errno));
	atomic_abort(&a);
	vc_buf_release(&text);
	vc_buf_release(&out);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot inject %s", in ? in :
				     "standard input");
	return 0;
}
