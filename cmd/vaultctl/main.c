/* vaultctl - the front command: `vaultctl X ARGS` runs `vaultctl-X ARGS`,
 * found beside this binary first, then on PATH (like git). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "host.h"
#include "vaultctl.h"
#include "vc.h"

/* The directory of this executable, so a build tree works unchanged. */
static int self_dir(char *out, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", out, n - 1);
	char *slash;

	if (len <= 0)
		return -1;
	out[len] = '\0';
	slash = strrchr(out, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

/* A tool is setgid itself and takes the group back at exec; anything
 * else found on the caller's PATH must not inherit it. */
void vaultctl_exec_tool(const char *tool, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], name[64];
	struct vc_err e;

	if (vc_host_drop(&e) < 0)
		return;

	snprintf(name, sizeof(name), "vaultctl-%s", tool);
	if (self_dir(dir, sizeof(dir)) == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (access(path, X_OK) == 0)
			execv(path, argv);
	}
	execvp(name, argv);
}

static int known(const char *tool)
{
	return cli_tool_summary(tool) != NULL;
}

/* Lists each tool's commands by asking the tool itself. */
static void help(void)
{
	char *argv[3] = { NULL, "--list-commands", NULL };
	char name[64];
	pid_t pid;
	int st;

	printf("vaultctl - secrets for organizations, projects and "
	       "environments\n\nusage: vaultctl TOOL COMMAND [ARGS]  "
	       "(runs vaultctl-TOOL COMMAND [ARGS])\n");
	for (size_t i = 0; i < cli_ntools; i++) {
		snprintf(name, sizeof(name), "vaultctl-%s", cli_tools[i].name);
		printf("\n%s: %s\n", name, cli_tools[i].summary);
		fflush(stdout);
		argv[0] = name;
		pid = fork();
		if (pid == 0) {
			/* Indent the tool's lines through sed would need a
			 * pipe; the plain list reads well enough. */
			vaultctl_exec_tool(cli_tools[i].name, argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, &st, 0);
	}
	printf("\nvaultctl shell: an interactive session (readline, completion)."
	       "\nEvery tool takes -h/--help.  See vaultctl(1), vaultctl(7).\n");
}

int main(int argc, char **argv)
{
	char name[64];
	struct vc_err e;

	if (vc_host_init(&e) < 0) {
		fprintf(stderr, "vaultctl: %s\n", e.msg);
		return vc_err_exit(e.code);
	}
	if (argc < 2) {
		help();
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		help();
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("vaultctl %s\n", VC_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "shell"))
		return vaultctl_shell();
	if (!known(argv[1])) {
		fprintf(stderr, "vaultctl: unknown tool '%s' (one of %s; see "
			"vaultctl --help)\n", argv[1], VC_TOOL_NAMES);
		return 2;
	}
	snprintf(name, sizeof(name), "vaultctl-%s", argv[1]);
	argv[1] = name;
	vaultctl_exec_tool(name + 9, argv + 1);
	fprintf(stderr, "vaultctl: cannot run %s: %s\n", name, strerror(errno));
	return 127;
}
