/* shell.c - `vaultctl shell`: an interactive session with readline.
 *
 * Commands run in this process over one database connection and one
 * value-store connection, kept open between commands.  Values are still
 * never taken from the command line: `secret set` asks for them.  History
 * is saved in $XDG_STATE_HOME/vaultctl/history (mode 0600), without the
 * lines of commands that write values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "db.h"
#include "ref.h"
#include "vaultctl.h"

static struct vc_session shared;
static int session_open;

#define TOOL_TABLE_(name, summary) &vc_tool_##name,
static const struct cli_tool *const tools[] = { VC_TOOLS(TOOL_TABLE_) };
#define NTOOLS ARRAY_SIZE(tools)

static const struct cli_tool *tool_named(const char *name)
{
	if (!strncmp(name, "vaultctl-", 9))
		name += 9;
	for (size_t i = 0; i < NTOOLS; i++)
		if (!strcmp(tools[i]->prog + 9, name))
			return tools[i];
	return NULL;
}

/* Splits a line like a shell does for words: blanks, '...', "...", \x. */
static int split_line(const char *line, char ***argv, int *argc)
{
	size_t n = strlen(line);
	char **v = calloc(n / 2 + 3, sizeof(char *)), *w;
	int k = 0, in = 0;
	char q = 0;

	w = malloc(n + 1);
	if (!v || !w) {
		free(v);
		free(w);
		return -1;
	}
	v[0] = w;
	for (const char *p = line; *p; p++) {
		if (q && *p == q) {
			q = 0;
		} else if (!q && (*p == '\'' || *p == '"')) {
			q = *p;
			in = 1;
		} else if (!q && (*p == ' ' || *p == '\t')) {
			if (in) {
				*w++ = '\0';
				v[++k] = w;
				in = 0;
			}
		} else {
			if (*p == '\\' && q != '\'' && p[1])
				p++;
			*w++ = *p;
			in = 1;
		}
	}
	*w = '\0';
	if (q) {
		free(v[0]);
		free(v);
		return -2;
	}
	*argc = k + in;
	v[*argc] = NULL;
	*argv = v;
	return 0;
}

static void free_argv(char **argv)
{
	if (argv) {
		free(argv[0]);
		free(argv);
	}
}

/* Lines that write values are kept out of the history file. */
static int writes_value(int argc, char **argv)
{
	static const char *const cmds[] = { "set", "rotate", "import",
					    "rollback", "passwd" };

	for (int i = 1; i < argc && i < 3; i++)
		for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
			if (!strcmp(argv[i], cmds[k]))
				return 1;
	return 0;
}

static char history_path[4096];

/* mkdir -p, private: the history may name organizations and secrets. */
static void make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
	mkdir(path, 0700);
}

static void history_init(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[4096];

	if (state && *state)
		snprintf(dir, sizeof(dir), "%s/vaultctl", state);
	else
		snprintf(dir, sizeof(dir), "%s/.local/state/vaultctl",
			 home ? home : ".");
	make_dirs(dir);
	snprintf(history_path, sizeof(history_path), "%.4000s/history", dir);
	read_history(history_path);
}

static void history_save(void)
{
	mode_t old = umask(077);

	write_history(history_path);
	chmod(history_path, 0600);
	umask(old);
}

/* `secret run` replaces the process: it runs as a child instead. */
static int run_child(char **argv)
{
	char *name = argv[0];
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		vaultctl_exec_tool(name + 9, argv);
		fprintf(stderr, "vaultctl: cannot run %s: %s\n", name,
			strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* argv[0] is replaced by the tool's name in a copy: the caller frees the
 * words through its own argv[0]. */
static int run_line(int argc, char **words)
{
	const struct cli_tool *t = tool_named(words[0]);
	char prog[64], **argv;
	int rc;

	if (!t) {
		fprintf(stderr, "vaultctl: unknown tool '%s' (%s; 'help' lists "
			"them)\n", words[0], VC_TOOL_NAMES);
		return 2;
	}
	argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!argv)
		return 1;
	memcpy(argv, words, (size_t)argc * sizeof(char *));
	snprintf(prog, sizeof(prog), "%s", t->prog);
	argv[0] = prog;
	if (!session_open) {
		vc_session_init(&shared, "vaultctl-shell");
		session_open = 1;
	}
	if (t == &vc_tool_secret && argc > 1 && !strcmp(argv[1], "run"))
		rc = run_child(argv);
	else
		rc = cli_run(t, argc, argv, &shared);
	free(argv);
	return rc;
}

/* ---- completion ---- */

static char **matches;
static size_t nmatches, cap_matches;

static void add_match(const char *s, const char *prefix)
{
	char **m;

	if (strncmp(s, prefix, strlen(prefix)))
		return;
	for (size_t i = 0; i < nmatches; i++)
		if (!strcmp(matches[i], s))
			return;
	if (nmatches + 1 >= cap_matches) {
		cap_matches = cap_matches ? cap_matches * 2 : 32;
		m = realloc(matches, cap_matches * sizeof(char *));
		if (!m)
			return;
		matches = m;
	}
	matches[nmatches++] = strdup(s);
}

static void add_commands(const struct cli_tool *t, int argc, char **argv,
			 const char *prefix)
{
	for (size_t i = 0; i < t->ncmds; i++) {
		char name[64], *sp;
		snprintf(name, sizeof(name), "%s", t->cmds[i].name);
		sp = strchr(name, ' ');
		if (argc == 1) {
			if (sp)
				*sp = '\0';
			add_match(name, prefix);
		} else if (argc == 2 && sp && !strncmp(name, argv[1],
			   (size_t)(sp - name)) && argv[1][sp - name] == '\0') {
			add_match(sp + 1, prefix);
		}
	}
}

static void add_options(const struct cli_tool *t, int argc, char **argv,
			const char *prefix)
{
	static const char *const global[] = { "--help", "--output", "--as",
					      "--quiet", "--verbose" };
	char opt[80];

	for (size_t i = 0; i < t->ncmds; i++) {
		const char *n = t->cmds[i].name, *sp = strchr(n, ' ');
		const struct option *o = t->cmds[i].longopts;
		int words = sp ? 2 : 1;
		if (argc <= words || strncmp(n, argv[1], sp ? (size_t)(sp - n) :
					     strlen(n) + 1))
			continue;
		if (sp && strcmp(sp + 1, argv[2]))
			continue;
		for (; o && o->name; o++) {
			snprintf(opt, sizeof(opt), "--%s", o->name);
			add_match(opt, prefix);
		}
	}
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++)
		add_match(global[i], prefix);
}

/* Names from the database: organizations the acting user belongs to (all
 * for global admins), then projects, environments and secrets. */
static void add_names(const char *prefix)
{
	struct vc_res *r = NULL;
	struct vc_err e;
	int depth;

	if (!session_open) {
		vc_session_init(&shared, "vaultctl-shell");
		session_open = 1;
	}
	/* Completion is quiet: nobody to act as, no names. */
	if (!shared.have_user && vc_session_actor(&shared, NULL, 0, &e) < 0)
		return;
	if (vc_ref_complete(&shared, prefix, &r, &depth, &e) < 0)
		return;
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		char name[1100];
		snprintf(name, sizeof(name), "%s%s", vc_res_get(r, i, 0, NULL),
			 depth < 3 ? "/" : "");
		add_match(name, prefix);
	}
	vc_res_free(r);
}

static char *next_match(const char *text, int state)
{
	(void)text;
	static size_t i;

	if (state == 0)
		i = 0;
	return i < nmatches ? strdup(matches[i++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
	char **argv = NULL, *before = strndup(rl_line_buffer, (size_t)start);
	const struct cli_tool *t;
	int argc = 0;

	(void)end;
	for (size_t i = 0; i < nmatches; i++)
		free(matches[i]);
	nmatches = 0;
	rl_attempted_completion_over = 1;
	if (!before || split_line(before, &argv, &argc) < 0) {
		free(before);
		return NULL;
	}
	if (argc == 0) {
		for (size_t i = 0; i < NTOOLS; i++)
			add_match(tools[i]->prog + 9, text);
		add_match("help", text);
		add_match("exit", text);
	} else if ((t = tool_named(argv[0]))) {
		if (text[0] == '-')
			add_options(t, argc, argv, text);
		else if (argc <= 2)
			add_commands(t, argc, argv, text);
		if (text[0] != '-' && argc >= 2)
			add_names(text);
	}
	rl_completion_append_character = nmatches == 1 &&
		matches[0][strlen(matches[0]) - 1] == '/' ? '\0' : ' ';
	free_argv(argv);
	free(before);
	return nmatches ? rl_completion_matches(text, next_match) : NULL;
}

static void help(void)
{
	printf("commands: TOOL COMMAND [ARGS]   with TOOL one of %s\n"
	       "          help [TOOL]   exit\nTab completes tools, commands, "
	       "options and names.\n", VC_TOOL_NAMES);
}

int vaultctl_shell(void)
{
	char *line, **argv;
	int argc, status = 0, rc;

	history_init();
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = " \t";
	while ((line = readline("vaultctl> ")) != NULL) {
		rc = split_line(line, &argv, &argc);
		if (rc == -2)
			fprintf(stderr, "vaultctl: unterminated quote\n");
		if (rc < 0 || argc == 0) {
			free(line);
			if (rc == 0)
				free_argv(argv);
			continue;
		}
		if (!writes_value(argc, argv))
			add_history(line);
		if (!strcmp(argv[0], "exit") || !strcmp(argv[0], "quit")) {
			free_argv(argv);
			free(line);
			break;
		}
		if (!strcmp(argv[0], "help") && argc == 1)
			help();
		else if (!strcmp(argv[0], "help"))
			status = run_line(2, (char *[]){ argv[1], "--help", NULL });
		else
			status = run_line(argc, argv);
		free_argv(argv);
		free(line);
	}
	history_save();
	if (session_open)
		vc_session_close(&shared);
	return status;
}
