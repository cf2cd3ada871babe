/* host.c - host mode: group rights held only where they are needed. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gid_t tools_gid, user_gid;
static int host;

/* What a caller may pass to a setgid tool: nothing that a library reads
 * to find code, servers, certificates or credentials (libmariadb's
 * MYSQL_* and MARIADB_PLUGIN_DIR, libcurl's proxies and CA paths,
 * readline's INPUTRC, ncurses' TERMINFO, VAULT_*).  VAULTCTL_USER stays,
 * so that using it without the right is refused aloud, not ignored. */
static int allowed(const char *kv)
{
	static const char *const keep[] = {
		"TERM=", "LANG=", "LANGUAGE=", "TZ=", "NO_COLOR=", "COLUMNS=",
		"LINES=", "HOME=", "PATH=", "SSH_CONNECTION=", "XDG_STATE_HOME=",
		"VAULTCTL_USER=", "VAULTCTL_PASSWORD_FILE=", "LC_",
	};

	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (!strncmp(kv, keep[i], strlen(keep[i])))
			return 1;
	return 0;
}

static char **caller_env;

/* environ keeps the allowed entries, in their order; the caller's whole
 * environment is kept aside for the command `run` starts, which gets it
 * after the group is gone. */
static void cut_environment(void)
{
	extern char **environ;
	size_t out = 0, n = 0;

	if (!environ)
		return;
	while (environ[n])
		n++;
	caller_env = calloc(n + 1, sizeof(char *));
	if (caller_env)
		memcpy(caller_env, environ, n * sizeof(char *));
	for (size_t i = 0; environ[i]; i++)
		if (allowed(environ[i]))
			environ[out++] = environ[i];
	environ[out] = NULL;
}

int vc_host_init(struct vc_err *e)
{
	static const char *const root_only[] = {
		"VAULTCTL_CONFIG", "VAULTCTL_DB_HOSTS",
	};

	tools_gid = getegid();
	user_gid = getgid();
	host = tools_gid != user_gid;
	if (!host || getuid() == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(root_only); i++)
		if (getenv(root_only[i])) {
			cut_environment();
			return vc_err_set(e, VC_EPERM, "$%s is for root only on "
					  "this host: the configuration says "
					  "where the servers are", root_only[i]);
		}
	cut_environment();
	return 0;
}

char **vc_host_caller_env(void)
{
	extern char **environ;

	return caller_env ? caller_env : environ;
}

int vc_host_mode(void)
{
	return host;
}

int vc_host_root(void)
{
	return getuid() == 0;
}

int vc_host_login(char *out, size_t n, struct vc_err *e)
{
	struct passwd pw, *p = NULL;
	char tmp[1024];
	uid_t uid = getuid();
	int rc = getpwuid_r(uid, &pw, tmp, sizeof(tmp), &p);

	if (rc || !p)
		return vc_err_set(e, VC_EPERM, "uid %u has no login name",
				  (unsigned)uid);
	if ((size_t)snprintf(out, n, "%s", p->pw_name) >= n)
		return vc_err_set(e, VC_EPERM, "login name too long");
	return 0;
}

/* The group switch is per process (glibc applies it to every thread).
 * Failing to drop fails the open; failing to take the group back only
 * leaves the process with less than it had. */
static int to_user(void)
{
	if (host && setegid(user_gid) < 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static void to_tools(void)
{
	int saved = errno, rc = host ? setegid(tools_gid) : 0;

	(void)rc;       /* see above: fewer rights, nothing worse */
	errno = saved;
}

int vc_host_open(const char *path, int flags, mode_t mode)
{
	int fd;

	if (to_user() < 0)
		return -1;
	fd = open(path, flags | O_CLOEXEC, mode);
	to_tools();
	return fd;
}

FILE *vc_host_fopen(const char *path, const char *mode)
{
	FILE *f;

	if (to_user() < 0)
		return NULL;
	f = fopen(path, mode);
	to_tools();
	return f;
}

int vc_host_as_user(int (*fn)(void *), void *arg)
{
	int rc;

	if (to_user() < 0)
		return -1;
	rc = fn(arg);
	to_tools();
	return rc;
}

int vc_host_drop(struct vc_err *e)
{
	if (!host)
		return 0;
	if (setresgid(user_gid, user_gid, user_gid) < 0)
		return vc_err_set(e, VC_EFAIL, "cannot give up the tools' "
				  "group: %s", strerror(errno));
	host = 0;
	return 0;
}
