/* lifecycle.c - vaultctl-secret set|get|rm|restore|purge|rollback|rotate */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prompt.h"
#include "secretcmd.h"

int secret_ref(struct cli *c, int i, int depth, struct vc_ref *ref)
{
	return vc_ref_resolve(&c->s, c->s.db[VC_DB_METADATA], c->args[i], depth,
			      ref, &c->err);
}

static int write_value(struct cli *c, const struct vc_ref *ref,
		       struct vc_secret_write *w, int cas, const char *verb)
{
	int version = 0, created = 0;
	int rc = vc_secret_write_cas(&c->s, ref, w, cas, &version, &created,
				     &c->err);

	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot %s secret '%s'", verb,
				     c->args[0]);
	if (!c->quiet)
		fprintf(stderr, "%s: %s %s version %d\n", c->tool->prog,
			created ? "created" : "updated", ref->text, version);
	return 0;
}

static int check_desc(struct cli *c)
{
	const char *d = cli_opt(c, O_DESC), *r = cli_opt(c, O_REASON);

	if (d && strlen(d) > 65535)
		return cli_fail(c, VC_EUSAGE, "--description is longer than 65535 "
				"bytes");
	if (r && strlen(r) > VC_SECRET_REASON_MAX)
		return cli_fail(c, VC_EUSAGE, "--reason is longer than %d bytes",
				VC_SECRET_REASON_MAX);
	return 0;
}

/* --cas N: N from 0 (a new secret); -1 without it. */
static int parse_cas(struct cli *c, int *cas)
{
	const char *v = cli_opt(c, O_CAS);
	long n = 0;
	int rc;

	*cas = -1;
	if (!v)
		return 0;
	rc = cli_uint(c, "--cas", v, 2147483647L, &n);
	if (rc == 0)
		*cas = (int)n;
	return rc;
}

int cmd_set(struct cli *c)
{
	struct vc_buf val = VC_BUF_INIT;
	struct vc_secret_write w = { NULL, 0, cli_opt(c, O_DESC),
				     cli_opt(c, O_REASON), NULL, 0 };
	struct vc_ref ref;
	int rc, cas = -1;

	val.secret = 1;
	rc = check_desc(c);
	if (rc == 0)
		rc = parse_cas(c, &cas);
	if (rc == 0)
		rc = secret_ref(c, 0, 4, &ref);
	if (rc == 0)
		rc = vc_secret_may(&c->s, &ref, VC_SECRET_WRITE, &c->err);
	if (rc == 0)
		rc = read_value(c, "value", cli_opt(c, O_FROM_FILE),
				c->s.conf.max_value_size, &val);
	if (rc < 0) {
		vc_buf_release(&val);
		return vc_err_prefix(&c->err, "cannot set secret '%s'", c->args[0]);
	}
	w.val = val.data ? val.data : "";
	w.len = val.len;
	rc = write_value(c, &ref, &w, cas, "set");
	vc_buf_release(&val);
	return rc;
}

static int parse_version(struct cli *c, int opt, int *out)
{
	const char *v = cli_opt(c, opt);
	long n = 0;

	*out = 0;
	if (!v)
		return 0;
	if (cli_uint(c, "version", v, 2147483647L, &n) < 0 || n == 0)
		return cli_fail(c, VC_EUSAGE, "version must be a whole number "
				"from 1, not '%.40s'", v);
	*out = (int)n;
	return 0;
}

int cmd_get(struct cli *c)
{
	struct vc_buf val = VC_BUF_INIT;
	struct vc_ref ref;
	int rc, version, got = 0;

	val.secret = 1;
	rc = parse_version(c, O_VERSION, &version);
	if (rc == 0)
		rc = secret_ref(c, 0, 4, &ref);
	if (rc == 0)
		rc = vc_secret_read(&c->s, &ref, version, &val, &got, &c->err);
	if (rc == 0 && val.len && fwrite(val.data, 1, val.len, stdout) != val.len)
		rc = cli_fail(c, VC_EFAIL, "cannot write output: %s",
			      strerror(errno));
	vc_buf_release(&val);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot read secret '%s'",
				     c->args[0]);
	return 0;
}

static int simple_op(struct cli *c, int (*fn)(struct vc_session *,
		     const struct vc_ref *, struct vc_err *), const char *verb,
		     const char *done, int confirm)
{
	struct vc_ref ref;
	int rc = secret_ref(c, 0, 4, &ref);

	if (rc == 0 && confirm)
		rc = vc_secret_may(&c->s, &ref, VC_SECRET_PURGE, &c->err);
	if (rc == 0 && confirm)
		rc = cli_confirm(c, cli_opt(c, O_YES) != NULL, "destroy every "
				 "version of '%s'?", ref.text);
	if (rc == 0)
		rc = fn(&c->s, &ref, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot %s secret '%s'", verb,
				     c->args[0]);
	if (!c->quiet)
		fprintf(stderr, "%s: %s %s\n", c->tool->prog, done, ref.text);
	return 0;
}

int cmd_rm(struct cli *c)
{
	return simple_op(c, vc_secret_delete, "remove", "removed (restorable)",
			 0);
}

int cmd_restore(struct cli *c)
{
	return simple_op(c, vc_secret_restore, "restore", "restored", 0);
}

int cmd_purge(struct cli *c)
{
	return simple_op(c, vc_secret_purge, "purge", "purged", 1);
}

int cmd_rollback(struct cli *c)
{
	struct vc_buf val = VC_BUF_INIT;
	struct vc_secret_write w = { NULL, 0, NULL, cli_opt(c, O_REASON),
				     "secret.rollback", 0 };
	struct vc_ref ref;
	int rc, to = 0, got;

	val.secret = 1;
	rc = check_desc(c);
	if (rc == 0)
		rc = parse_version(c, O_TO, &to);
	if (rc == 0 && !to)
		rc = cli_fail(c, VC_EUSAGE, "--to N is required");
	if (rc == 0)
		rc = secret_ref(c, 0, 4, &ref);
	if (rc == 0)
		rc = vc_secret_may(&c->s, &ref, VC_SECRET_ROLLBACK, &c->err);
	if (rc == 0)
		rc = vc_secret_read(&c->s, &ref, to, &val, &got, &c->err);
	w.val = val.data ? val.data : "";
	w.len = val.len;
	w.from_version = to;
	if (rc == 0)
		rc = write_value(c, &ref, &w, -1, "roll back");
	else
		vc_err_prefix(&c->err, "cannot roll back secret '%s'", c->args[0]);
	vc_buf_release(&val);
	return rc;
}

int cmd_rotate(struct cli *c)
{
	struct vc_buf val = VC_BUF_INIT;
	struct vc_secret_write w = { NULL, 0, NULL, cli_opt(c, O_REASON),
				     "secret.rotate", 0 };
	const char *cs = cli_opt(c, O_CHARSET);
	struct vc_ref ref;
	long len = 32;
	int rc = 0;

	val.secret = 1;
	rc = check_desc(c);
	if (rc == 0 && cli_opt(c, O_LENGTH))
		rc = cli_uint(c, "--length", cli_opt(c, O_LENGTH), 4096, &len);
	if (rc == 0)
		rc = vc_secret_random(cs ? cs : "alnum", (size_t)len, &val, &c->err);
	if (rc == 0)
		rc = secret_ref(c, 0, 4, &ref);
	w.val = val.data;
	w.len = val.len;
	if (rc == 0)
		rc = write_value(c, &ref, &w, -1, "rotate");
	else
		vc_err_prefix(&c->err, "cannot rotate secret '%s'", c->args[0]);
	if (rc == 0 && cli_opt(c, O_SHOW))
		fwrite(val.data, 1, val.len, stdout);
	vc_buf_release(&val);
	return rc;
}
