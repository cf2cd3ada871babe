/* export.c - vaultctl-secret export|run */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulk.h"
#include "fallback.h"
#include "format.h"
#include "runenv.h"
#include "secretcmd.h"
#include "host.h"
#include "watch.h"

extern char **environ;

int secret_only(struct cli *c, char ***out)
{
	const char *v = cli_opt(c, O_ONLY);
	char **list, *copy, *tok, *save = NULL;
	size_t n = 1;

	*out = NULL;
	if (!v)
		return 0;
	for (const char *p = v; *p; p++)
		n += *p == ',';
	list = calloc(n + 1, sizeof(char *));
	copy = strdup(v);
	if (!list || !copy) {
		free(list);
		free(copy);
		return cli_fail(c, VC_EFAIL, "out of memory");
	}
	n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (vc_secret_name_check(tok, &c->err) < 0) {
			free(list);
			free(copy);
			return vc_err_prefix(&c->err, "--only");
		}
		list[n++] = tok;
	}
	if (n == 0) {
		free(list);
		free(copy);
		return cli_fail(c, VC_EUSAGE, "--only needs at least one name");
	}
	*out = list;            /* list[0] points into copy: free both */
	return 0;
}

void secret_only_free(char **only)
{
	if (only) {
		free(only[0]);
		free(only);
	}
}

int secret_concurrency(struct cli *c, int *out)
{
	long n = 8;

	if (cli_opt(c, O_CONCURRENCY) &&
	    cli_uint(c, "--concurrency", cli_opt(c, O_CONCURRENCY), 64, &n) < 0)
		return c->err.code;
	if (n < 1)
		return cli_fail(c, VC_EUSAGE, "--concurrency must be from 1 to 64");
	*out = (int)n;
	return 0;
}

/* Reads the values of an environment resolved already (--only and
 * --concurrency apply). */
int secret_read_values(struct cli *c, const struct vc_ref *ref,
		       struct vc_secret_set *set, int how)
{
	char **only = NULL;
	int conc = 8, rc;

	rc = secret_concurrency(c, &conc);
	if (rc == 0)
		rc = secret_only(c, &only);
	if (rc == 0)
		rc = vc_secret_read_env(&c->s, ref, (const char *const *)only,
					how, conc, set, &c->err);
	secret_only_free(only);
	return rc;
}

/* --fallback FILE [--fallback-max-age D], --only and --concurrency,
 * checked before anything is read; the environments c->args[0..n), not
 * resolved yet.  *refs and *only are the caller's to free
 * (secret_only_free), and fb to release. */
static int envs_opts(struct cli *c, int n, struct vc_fallback *fb,
		     struct vc_ref **refs, char ***only, int *conc)
{
	const char *age = cli_opt(c, O_FALLBACK_MAX_AGE);

	*fb = (struct vc_fallback){ cli_opt(c, O_FALLBACK), -1, c->as, 0, 0,
				    NULL };
	*refs = NULL;
	*only = NULL;
	if (fb->path && vc_fallback_check_path(fb->path, &c->err) < 0)
		return c->err.code;
	if (age && !fb->path)
		return cli_fail(c, VC_EUSAGE, "--fallback-max-age goes with "
				"--fallback FILE");
	if (age && vc_fallback_age_parse(age, &fb->max_age, &c->err) < 0)
		return c->err.code;
	if (secret_concurrency(c, conc) < 0 || secret_only(c, only) < 0)
		return c->err.code;
	if (!(*refs = calloc((size_t)n, sizeof(**refs))))
		return cli_fail(c, VC_EFAIL, "out of memory");
	return 0;
}

/* The values of the environments c->args[0..n), merged: from the
 * backends, or with --fallback from the snapshot when they are
 * unavailable (also before the command ran: c->offline). */
static int read_envs(struct cli *c, int n, struct vc_fallback *fb,
		     struct vc_ref **refs, char ***only,
		     struct vc_secret_envs *m)
{
	int conc = 8, rc = envs_opts(c, n, fb, refs, only, &conc);

	memset(m, 0, sizeof(*m));
	if (rc == 0)
		rc = vc_fallback_read(&c->s, fb, (const char *const *)c->args,
				      *refs, (size_t)n,
				      (const char *const *)*only, conc,
				      c->offline, m, &c->err);
	return rc;
}

/* The error of a command over n environments, naming the one there is:
 * with several, the message names the one at fault. */
static int envs_fail(struct cli *c, const char *verb, const char *with,
		     int n)
{
	if (n > 1)
		return vc_err_prefix(&c->err, "cannot %s", verb);
	return vc_err_prefix(&c->err, "cannot %s%s '%s'", verb, with,
			     c->args[0]);
}

/* -O FILE is written atomically with mode 0600: a temporary file beside
 * it, fsync, rename, so that nothing half-written is ever left at FILE.
 * The temporary file is made before any value is read: a directory that
 * is missing or not writable fails the export before it reads (and
 * audits) anything. */
/* The file is the caller's: made and renamed with the caller's own rights
 * (lib/host.h), never with the tools' group's. */
static int make_tmp(void *arg)
{
	struct atomic_out *a = arg;

	return a->fd = mkstemp(a->tmp);
}

struct move {
	const char *from, *to;
};

static int move_tmp(void *arg)
{
	struct move *m = arg;

	return rename(m->from, m->to);
}

int atomic_open(struct cli *c, const char *opt, const char *path,
		struct atomic_out *a)
{
	a->fd = -1;
	a->opt = opt;
	if (snprintf(a->tmp, sizeof(a->tmp), "%s.XXXXXX", path) >=
	    (int)sizeof(a->tmp))
		return cli_fail(c, VC_EUSAGE, "%s: path too long: '%s'", opt,
				path);
	if (vc_host_as_user(make_tmp, a) < 0)
		return cli_fail(c, errno == ENOENT || errno == ENOTDIR ?
				VC_EUSAGE : errno == EACCES || errno == EPERM ?
				VC_EPERM : VC_EFAIL, "%s: cannot create a file "
				"beside '%s': %s; nothing was read or written",
				opt, path, strerror(errno));
	if (fchmod(a->fd, 0600) < 0) {
		int err = errno;
		close(a->fd);
		unlink(a->tmp);
		a->fd = -1;
		return cli_fail(c, VC_EFAIL, "%s: cannot make '%s' private: %s",
				opt, a->tmp, strerror(err));
	}
	return 0;
}

/* Drops the temporary file of an export that failed before writing. */
void atomic_abort(struct atomic_out *a)
{
	if (a->fd >= 0) {
		close(a->fd);
		unlink(a->tmp);
		a->fd = -1;
	}
}

int atomic_commit(struct cli *c, const char *path, struct atomic_out *a,
		  const char *data, size_t len)
{
	size_t off = 0;
	ssize_t n = 0;
	int err = 0, fd = a->fd, full;

	a->fd = -1;
	while (off < len && (n = write(fd, data + off, len - off)) > 0)
		off += (size_t)n;
	if (off < len)
		err = n < 0 ? errno : EIO;
	else if (fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && vc_host_as_user(move_tmp, &(struct move){ a->tmp, path }) < 0)
		err = errno;
	if (!err)
		return 0;
	unlink(a->tmp);
	full = err == ENOSPC || err == EDQUOT;
	return cli_fail(c, VC_EFAIL, "cannot write '%s': %s; nothing was "
			"written there%s%s%s", path, strerror(err),
			full ? " (free some space, or choose another " : "",
			full ? a->opt : "", full ? " FILE)" : "");
}

int cmd_export(struct cli *c)
{
	const char *fmt = cli_opt(c, O_FORMAT), *file = cli_opt(c, 'O');
	struct vc_secret_envs m;
	struct vc_secret_set *set = &m.merged;
	struct vc_buf out = VC_BUF_INIT;
	enum vc_format f = VC_FMT_SH;
	struct vc_kv *kv = NULL;
	struct vc_ref *refs = NULL;
	struct vc_fallback fb;
	struct atomic_out a = { "", -1, "-O" };
	char **only = NULL;
	int rc = vc_format_parse(fmt ? fmt : "sh", &f, &c->err);

	memset(&m, 0, sizeof(m));
	memset(&fb, 0, sizeof(fb));
	out.secret = 1;
	if (rc == 0 && file)
		rc = atomic_open(c, "-O", file, &a);
	if (rc == 0)
		rc = read_envs(c, c->nargs, &fb, &refs, &only, &m);
	if (rc == 0 && !(kv = calloc(set->n + 1, sizeof(*kv))))
		rc = cli_fail(c, VC_EFAIL, "out of memory");
	for (size_t i = 0; rc == 0 && i < set->n; i++)
		kv[i] = (struct vc_kv){ set->v[i].name, set->v[i].value.data ?
			set->v[i].value.data : "", set->v[i].value.len };
	if (rc == 0)
		rc = vc_format_export(f, kv, set->n, &out, &c->err);
	/* Audited once the export will leave: a refused one read nothing out. */
	if (rc == 0)
		rc = vc_fallback_commit(&c->s, &fb, &m,
					(const char *const *)only, &c->err);
	if (rc == 0 && file)
		rc = atomic_commit(c, file, &a, out.data ? out.data : "", out.len);
	else if (rc == 0 && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = cli_fail(c, VC_EFAIL, "cannot write output: %s",
			      strerror(errno));
	atomic_abort(&a);
	free(kv);
	vc_buf_release(&out);
	vc_secret_envs_free(&m);
	vc_fallback_release(&fb);
	secret_only_free(only);
	free(refs);
	if (rc < 0)
		return envs_fail(c, "export", "", c->nargs);
	return 0;
}

/* --allow-name, each a secret name. */
static int allow_names(struct cli *c, const char ***out)
{
	*out = cli_opt_all(c, O_ALLOW_NAME);
	if (!*out)
		return cli_fail(c, VC_EFAIL, "out of memory");
	for (const char **n = *out; *n; n++)
		if (vc_secret_name_check(*n, &c->err) < 0)
			return vc_err_prefix(&c->err, "--allow-name");
	return 0;
}

/* How run's command gets the caller's variables. */
static int caller_how(struct cli *c, int *how)
{
	int pristine = cli_opt(c, O_PRISTINE) != NULL;
	int preserve = cli_opt(c, O_PRESERVE_ENV) != NULL;

	if (pristine && preserve)
		return cli_fail(c, VC_EUSAGE, "--pristine and --preserve-env "
				"exclude each other");
	*how = (pristine ? VC_RUNENV_PRISTINE : 0) |
	       (preserve ? VC_RUNENV_PRESERVE : 0);
	return 0;
}

/* The environments are the arguments before "--" (without it, the
 * first); the command is the rest. */
static int run_envs(struct cli *c, int *nenv)
{
	*nenv = c->ndash >= 0 ? c->ndash : 1;
	if (*nenv == 0)
		return cli_fail(c, VC_EUSAGE, "run needs an environment before "
				"'--'");
	if (c->nargs <= *nenv)
		return cli_fail(c, VC_EUSAGE, "run needs a command after '--'");
	return 0;
}

/* --interval and --signal, which need --watch. */
static int watch_opts(struct cli *c, struct vc_watch *w)
{
	const char *iv = cli_opt(c, O_INTERVAL), *sig = cli_opt(c, O_SIGNAL);

	w->interval_ms = 10000;
	w->signal = SIGTERM;
	if (!cli_opt(c, O_WATCH) && (iv || sig))
		return cli_fail(c, VC_EUSAGE, "%s needs --watch",
				iv ? "--interval" : "--signal");
	if (iv && vc_watch_interval(iv, &w->interval_ms, &c->err) < 0)
		return c->err.code;
	if (sig && vc_watch_signal(sig, &w->signal, &c->err) < 0)
		return c->err.code;
	return 0;
}

/* The command's end as the watcher's: its exit status, or the signal
 * that killed it raised again, as if run had exec'd it. */
static int watch_status(struct cli *c, int st)
{
	if (WIFSIGNALED(st)) {
		vc_session_close(&c->s);
		fflush(NULL);
		signal(WTERMSIG(st), SIG_DFL);
		raise(WTERMSIG(st));
		c->status = 128 + WTERMSIG(st);
		return 0;
	}
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	return 0;
}

static int run_watch(struct cli *c, struct vc_watch *w, int nenv)
{
	struct vc_ref *refs = NULL;
	struct vc_fallback fb;
	char **only = NULL;
	int rc, st = 0;

	rc = envs_opts(c, nenv, &fb, &refs, &only, &w->concurrency);
	w->texts = (const char *const *)c->args;
	w->refs = refs;
	w->n = (size_t)nenv;
	w->only = (const char *const *)only;
	w->argv = &c->args[nenv];
	w->fb = fb.path ? &fb : NULL;
	w->cause = c->offline;
	if (rc == 0)
		rc = vc_watch_run(&c->s, w, &st, &c->err);
	vc_fallback_release(&fb);
	secret_only_free(only);
	free(refs);
	if (rc < 0 && w->exec_errno) {
		fprintf(stderr, "%s: %s\n", c->tool->prog, c->err.msg);
		exit(w->exec_errno == ENOENT ? 127 : 126);
	}
	if (rc < 0)
		return envs_fail(c, "run", " with", nenv);
	return watch_status(c, st);
}

int cmd_run(struct cli *c)
{
	struct vc_runenv env = { NULL, 0, 0 };
	struct vc_secret_envs m;
	struct vc_watch w = { .concurrency = 8 };
	struct vc_ref *refs = NULL;
	const char **allow = NULL;
	struct vc_fallback fb;
	char **only = NULL;
	int rc, nenv = 1, how = 0;
	char **argv;

	memset(&m, 0, sizeof(m));
	memset(&fb, 0, sizeof(fb));
	rc = run_envs(c, &nenv);
	if (rc == 0)
		rc = caller_how(c, &how);
	if (rc == 0)
		rc = watch_opts(c, &w);
	if (rc == 0)
		rc = allow_names(c, &allow);
	if (rc == 0 && cli_opt(c, O_WATCH)) {
		w.how = how;
		w.allow = allow;
		rc = run_watch(c, &w, nenv);
		free(allow);
		return rc;
	}
	if (rc == 0)
		rc = read_envs(c, nenv, &fb, &refs, &only, &m);
	if (rc == 0)
		rc = vc_runenv_build(&env, &m.merged, vc_host_caller_env(), how,
				     allow, &c->err);
	free(allow);
	if (rc == 0)
		rc = vc_fallback_commit(&c->s, &fb, &m,
					(const char *const *)only, &c->err);
	vc_secret_envs_free(&m);
	vc_fallback_release(&fb);
	secret_only_free(only);
	free(refs);
	if (rc < 0) {
		vc_runenv_release(&env);
		return envs_fail(c, "run", " with", nenv);
	}
	/* Connections close on exec; the values now live only in env.  The
	 * command is the caller's: none of the tools' group goes with it,
	 * and SIGPIPE as a shell would leave it (libmariadb ignores it). */
	vc_session_close(&c->s);
	if (vc_host_drop(&c->err) < 0) {
		vc_runenv_release(&env);
		return c->err.code;
	}
	signal(SIGPIPE, SIG_DFL);
	fflush(NULL);
	argv = &c->args[nenv];
	execvpe(argv[0], argv, env.env);
	rc = errno;
	vc_runenv_release(&env);
	fprintf(stderr, "%s: cannot run '%s': %s\n", c->tool->prog, argv[0],
		strerror(rc));
	exit(rc == ENOENT ? 127 : 126);
}
