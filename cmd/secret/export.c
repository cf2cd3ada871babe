/* export.c - vaultctl-secret export|run */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "secretcmd.h"

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

/* Reads an environment's values (the reference in c->args[i]). */
int secret_read_env(struct cli *c, int i, struct vc_ref *ref,
		    struct vc_secret_set *set)
{
	char **only = NULL;
	int conc = 8, rc;

	rc = secret_concurrency(c, &conc);
	if (rc == 0)
		rc = secret_only(c, &only);
	if (rc == 0)
		rc = secret_ref(c, i, 3, ref);
	if (rc == 0)
		rc = vc_secret_read_env(&c->s, ref, (const char *const *)only, 1,
					conc, set, &c->err);
	secret_only_free(only);
	return rc;
}

/* Writes a file atomically with mode 0600: a temporary file beside it,
 * fsync, rename.  Nothing half-written is ever left at path. */
static int write_atomic(struct cli *c, const char *path, const char *data,
			size_t len)
{
	char tmp[4096];
	size_t off = 0;
	ssize_t n;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return cli_fail(c, VC_EUSAGE, "path too long: '%s'", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return cli_fail(c, VC_EFAIL, "cannot create a file beside '%s': "
				"%s", path, strerror(errno));
	fchmod(fd, 0600);
	while (off < len && (n = write(fd, data + off, len - off)) > 0)
		off += (size_t)n;
	if (off < len || fsync(fd) < 0 || close(fd) < 0) {
		int err = errno;
		if (off < len || fd >= 0)
			close(fd);
		unlink(tmp);
		return cli_fail(c, VC_EFAIL, "cannot write '%s': %s; nothing "
				"was written", path, strerror(err));
	}
	if (rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		return cli_fail(c, VC_EFAIL, "cannot write '%s': %s", path,
				strerror(err));
	}
	return 0;
}

int cmd_export(struct cli *c)
{
	const char *fmt = cli_opt(c, O_FORMAT), *file = cli_opt(c, 'O');
	struct vc_secret_set set = { NULL, 0 };
	struct vc_buf out = VC_BUF_INIT;
	enum vc_format f = VC_FMT_SH;
	struct vc_kv *kv = NULL;
	struct vc_ref ref;
	int rc = vc_format_parse(fmt ? fmt : "sh", &f, &c->err);

	out.secret = 1;
	if (rc == 0)
		rc = secret_read_env(c, 0, &ref, &set);
	if (rc == 0 && !(kv = calloc(set.n + 1, sizeof(*kv))))
		rc = cli_fail(c, VC_EFAIL, "out of memory");
	for (size_t i = 0; rc == 0 && i < set.n; i++)
		kv[i] = (struct vc_kv){ set.v[i].name, set.v[i].value.data ?
			set.v[i].value.data : "", set.v[i].value.len };
	if (rc == 0)
		rc = vc_format_export(f, kv, set.n, &out, &c->err);
	if (rc == 0 && file)
		rc = write_atomic(c, file, out.data ? out.data : "", out.len);
	else if (rc == 0 && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
		rc = cli_fail(c, VC_EFAIL, "cannot write output: %s",
			      strerror(errno));
	free(kv);
	vc_buf_release(&out);
	vc_secret_set_free(&set);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot export '%s'", c->args[0]);
	return 0;
}

/* The environment of COMMAND: the caller's (unless --pristine) with the
 * secrets set over it. */
static char **build_env(struct cli *c, const struct vc_secret_set *set)
{
	size_t n = 0, k = 0;
	char **env;

	if (!cli_opt(c, O_PRISTINE))
		while (environ[n])
			n++;
	env = calloc(n + set->n + 1, sizeof(char *));
	for (size_t i = 0; env && i < n; i++) {
		size_t j, len = strcspn(environ[i], "=");
		for (j = 0; j < set->n; j++)
			if (strlen(set->v[j].name) == len &&
			    !strncmp(set->v[j].name, environ[i], len))
				break;
		if (j == set->n)
			env[k++] = environ[i];
	}
	for (size_t i = 0; env && i < set->n; i++) {
		size_t len = strlen(set->v[i].name) + set->v[i].value.len + 2;
		char *s = malloc(len);
		if (!s)
			return NULL;
		snprintf(s, len, "%s=%s", set->v[i].name,
			 set->v[i].value.data ? set->v[i].value.data : "");
		env[k++] = s;
	}
	return env;
}

int cmd_run(struct cli *c)
{
	struct vc_secret_set set = { NULL, 0 };
	struct vc_ref ref;
	char **env;
	int rc;

	if (c->nargs < 2)
		return cli_fail(c, VC_EUSAGE, "run needs a command after '--'");
	rc = secret_read_env(c, 0, &ref, &set);
	for (size_t i = 0; rc == 0 && i < set.n; i++)
		if (set.v[i].value.len && memchr(set.v[i].value.data, '\0',
						 set.v[i].value.len))
			rc = cli_fail(c, VC_EUSAGE, "secret '%s' holds a NUL byte, "
				      "which an environment variable cannot "
				      "carry", set.v[i].name);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot run with '%s'", c->args[0]);
	env = build_env(c, &set);
	if (!env)
		return cli_fail(c, VC_EFAIL, "out of memory");
	/* Connections close on exec; the values now live only in env. */
	vc_session_close(&c->s);
	fflush(NULL);
	execvpe(c->args[1], &c->args[1], env);
	rc = errno;
	fprintf(stderr, "%s: cannot run '%s': %s\n", c->tool->prog, c->args[1],
		strerror(rc));
	exit(rc == ENOENT ? 127 : 126);
}
