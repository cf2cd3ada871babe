/* shell.c - `vaultctl shell`: an interactive session with readline.
 *
 * Commands run in one child process, the worker (worker.c), over one
 * database connection and one value-store connection kept open between
 * commands; Ctrl-C stops the command and the shell goes on, and at the
 * prompt it drops the line, as in bash and psql.  Values are still never
 * taken from the command line: `secret set` asks for them.  History is
 * saved in $XDG_STATE_HOME/vaultctl/history (mode 0600), without the lines
 * of commands that write values.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "db.h"
#include "ref.h"
#include "vaultctl.h"
#include "host.h"

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
		for (size_t k = 0; k < ARRAY_SIZE(cmds); k++)
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

/* The history is the caller's file: read and written with the caller's
 * own rights (lib/host.h). */
static int history_load(void *unused)
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
	(void)unused;
	return read_history(history_path);
}

static int history_store(void *unused)
{
	mode_t old = umask(077);
	int rc = write_history(history_path);

	(void)unused;
	chmod(history_path, 0600);
	umask(old);
	return rc;
}

static void history_init(void)
{
	vc_host_as_user(history_load, NULL);
}

static void history_save(void)
{
	vc_host_as_user(history_store, NULL);
}

int vaultctl_shell_exec(int argc, char **argv, struct vc_session *s)
{
	const struct cli_tool *t = tool_named(argv[0]);

	return t ? cli_run(t, argc, argv, s) : 2;
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
	if (t == &vc_tool_secret && argc > 1 && !strcmp(argv[1], "run"))
		rc = vaultctl_run_child(argv);
	else
		rc = vaultctl_worker_run(argc, argv);
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
	for (size_t i = 0; i < ARRAY_SIZE(global); i++)
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
	/* Completion is quiet: nobody to act as, no names.  The same acting
	 * user as every command (lib/session.c); where a password must prove
	 * it, completion has none to check and offers no names at all. */
	if (!shared.have_user && vc_session_actor(&shared, NULL, 0, &e) < 0)
		return;
	if (vc_session_wants_password(&shared))
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

/* ---- the prompt ---- */

static volatile sig_atomic_t got_int, got_winch, got_tstp;
static char *line_read;
static int line_done;

static void on_signal(int sig)
{
	if (sig == SIGINT)
		got_int = 1;
	else if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_tstp = 1;
}

/* Outside its prompt the shell ignores SIGINT (a Ctrl-C is the running
 * command's) and SIGPIPE (a worker that died must not take the shell
 * along); the commands get them back as they were (worker.c). */
static void signals_init(void)
{
	struct sigaction ign;

	vaultctl_signals_save();
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
}

struct prompt_sigs {
	struct sigaction winch, tstp;
	sigset_t mask;          /* outside the prompt */
};

/* At the prompt, Ctrl-C, Ctrl-Z and a new window size only set flags,
 * read while it waits for a key: they are blocked elsewhere, so that
 * readline never sees one halfway through a key and none comes between a
 * check of the flags and the wait.  A signal the shell was started with
 * ignored stays ignored. */
static void prompt_enter(struct prompt_sigs *old)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGWINCH);
	sigaddset(&block, SIGTSTP);
	sigprocmask(SIG_BLOCK, &block, &old->mask);
	if (!vaultctl_signal_ignored(SIGINT))
		sigaction(SIGINT, &sa, NULL);
	sigaction(SIGWINCH, &sa, &old->winch);
	sigaction(SIGTSTP, vaultctl_signal_ignored(SIGTSTP) ? NULL : &sa,
		  &old->tstp);
}

/* SIG_IGN first: it also drops a Ctrl-C still pending. */
static void prompt_leave(const struct prompt_sigs *old)
{
	struct sigaction ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGWINCH, &old->winch, NULL);
	sigaction(SIGTSTP, &old->tstp, NULL);
	sigprocmask(SIG_SETMASK, &old->mask, NULL);
}

static void on_line(char *line)
{
	line_read = line;
	line_done = 1;
	rl_callback_handler_remove();
}

/* Ctrl-C at the prompt: the line is dropped, ^C shown after it, and a new
 * prompt comes, as in bash and psql. */
static void cancel_line(const char *prompt)
{
	rl_callback_sigcleanup();
	rl_free_line_state();
	rl_point = rl_end;
	rl_redisplay();
	rl_echo_signal_char(SIGINT);
	rl_callback_handler_remove();
	fputc('\n', rl_outstream ? rl_outstream : stdout);
	rl_callback_handler_install(prompt, on_line);
}

/* Ctrl-Z at the prompt: stopped with the terminal as it was before
 * readline set it, and the line shown again after `fg`. */
static void suspend(const struct prompt_sigs *old)
{
	struct sigaction ours;
	sigset_t tstp;

	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	rl_echo_signal_char(SIGTSTP);
	rl_cleanup_after_signal();
	sigaction(SIGTSTP, &old->tstp, &ours);
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	raise(SIGTSTP);
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	sigaction(SIGTSTP, &ours, NULL);
	rl_reset_after_signal();
	rl_forced_update_display();
}

/* readline(), but with the signals handled as above; NULL at end of
 * input. */
static char *read_line(const char *prompt)
{
	struct pollfd p = { rl_instream ? fileno(rl_instream) : STDIN_FILENO,
			    POLLIN, 0 };
	struct prompt_sigs old;
	int n;

	line_done = 0;
	line_read = NULL;
	prompt_enter(&old);
	rl_callback_handler_install(prompt, on_line);
	while (!line_done) {
		n = ppoll(&p, 1, NULL, &old.mask);
		if (got_winch) {
			got_winch = 0;
			rl_resize_terminal();
		}
		if (got_tstp) {
			got_tstp = 0;
			suspend(&old);
		} else if (got_int) {
			got_int = 0;
			cancel_line(prompt);
		} else if (n > 0) {
			rl_callback_read_char();
		} else if (n < 0 && errno != EINTR) {
			rl_callback_handler_remove();
			break;
		}
	}
	prompt_leave(&old);
	return line_read;
}

int vaultctl_shell(void)
{
	char *line, **argv;
	int argc, status = 0, rc, quit = 0;

	cli_harden();
	history_init();
	rl_attempted_completion_function = complete;
	rl_completer_word_break_characters = " \t";
	signals_init();
	while ((line = read_line("vaultctl> ")) != NULL) {
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
			quit = 1;
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
	/* Ctrl-D: the operator's next prompt starts on a line of its own. */
	if (!quit && isatty(STDIN_FILENO))
		putchar('\n');
	vaultctl_worker_stop();
	history_save();
	if (session_open)
		vc_session_close(&shared);
	return status;
}
