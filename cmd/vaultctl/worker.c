/* worker.c - where the commands of `vaultctl shell` run.
 *
 * Ctrl-C must stop the running command wherever it is: in a query waiting
 * on a lock, a slow Vault request, a prompt, a long export.  libmariadb
 * and the HTTP clients go on through an interrupted read, and code stopped
 * halfway through one of them cannot use its connection again (the
 * protocol is at an unknown point, maybe inside a transaction).  So the
 * commands run in a child of the shell, the worker,
 * which takes SIGINT as a one-shot tool does: it dies, the kernel closes
 * its sockets, the server rolls back what the command had not committed,
 * and the two stores are left as a killed vaultctl-secret would leave them
 * (a batch still finishes the secret it is writing).  The shell, which
 * takes SIGINT only at its prompt, reports the command interrupted (exit
 * status 130) and starts a new worker, with new connections, for the next
 * command.
 *
 * Between commands the worker keeps its session (connections, value store,
 * acting user), so that a shell costs one connection, not one per command.
 * They are the worker's alone: a socket (and its TLS state) written by two
 * processes would be corrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "session.h"
#include "vaultctl.h"

/* The signals the shell handles itself, and how it found them: what the
 * commands get back.  SIGINT first. */
static const int sigs[] = { SIGINT, SIGPIPE, SIGWINCH, SIGTSTP };
#define NSIGS (ARRAY_SIZE(sigs))
static struct sigaction orig[NSIGS];
static sigset_t orig_mask;

static pid_t worker;
static int to_worker = -1, from_worker = -1;

void vaultctl_signals_save(void)
{
	for (size_t i = 0; i < NSIGS; i++)
		sigaction(sigs[i], NULL, &orig[i]);
	sigprocmask(SIG_SETMASK, NULL, &orig_mask);
}

int vaultctl_signal_ignored(int sig)
{
	for (size_t i = 0; i < NSIGS; i++)
		if (sigs[i] == sig)
			return orig[i].sa_handler == SIG_IGN;
	return 0;
}

void vaultctl_signals_restore(void)
{
	for (size_t i = 0; i < NSIGS; i++)
		sigaction(sigs[i], &orig[i], NULL);
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
}

static int wait_for(pid_t pid, int *st)
{
	int rc;

	while ((rc = (int)waitpid(pid, st, 0)) < 0 && errno == EINTR)
		;
	return rc < 0 ? -1 : 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t k;

	while (n) {
		k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* 0, or -1 at end of file or on an error. */
static int read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	ssize_t k;

	while (n) {
		k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A command goes to the worker as its size, then its words, each with
 * its NUL. */
static int send_words(int argc, char **argv)
{
	struct vc_buf b = VC_BUF_INIT;
	uint32_t len;
	int rc = 0;

	for (int i = 0; i < argc && rc == 0; i++)
		rc = vc_buf_add(&b, argv[i], strlen(argv[i]) + 1);
	len = (uint32_t)b.len;
	if (rc == 0)
		rc = write_all(to_worker, &len, sizeof(len));
	if (rc == 0)
		rc = write_all(to_worker, b.data, b.len);
	vc_buf_release(&b);
	return rc;
}

/* The words of the next command (NULL at the end); *words holds them
 * all, to be freed with the array. */
static char **recv_words(int fd, int *argc, char **words)
{
	char **argv;
	uint32_t len;
	int n = 0;

	if (read_all(fd, &len, sizeof(len)) < 0 || len == 0 || len > 1 << 24)
		return NULL;
	*words = malloc(len);
	if (!*words || read_all(fd, *words, len) < 0 || (*words)[len - 1]) {
		free(*words);
		return NULL;
	}
	for (uint32_t i = 0; i < len; i++)
		n += (*words)[i] == '\0';
	argv = calloc((size_t)n + 1, sizeof(char *));
	if (!argv) {
		free(*words);
		return NULL;
	}
	*argc = 0;
	for (char *p = *words; p < *words + len; p += strlen(p) + 1)
		argv[(*argc)++] = p;
	return argv;
}

/* The worker: commands until the shell closes the pipe.  It starts with
 * the shell's signals between prompts: SIGINT ignored, for a Ctrl-C at
 * the prompt reaches the whole process group, and SIGPIPE ignored, as
 * libmariadb sets it in a one-shot tool.  During a command SIGINT is as
 * the shell found it. */
static void serve(int in, int out)
{
	struct sigaction ign;
	struct vc_session s;
	char **argv, *words;
	int argc, st;

	vc_session_init(&s, "vaultctl-shell");
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigprocmask(SIG_SETMASK, &orig_mask, NULL);
	while ((argv = recv_words(in, &argc, &words)) != NULL) {
		sigaction(SIGINT, &orig[0], NULL);
		st = vaultctl_shell_exec(argc, argv, &s);
		fflush(stdout);
		fflush(stderr);
		sigaction(SIGINT, &ign, NULL);
		free(argv);
		free(words);
		if (write_all(out, &st, sizeof(st)) < 0)
			break;
	}
	vc_session_close(&s);
	_exit(0);
}

static int start(void)
{
	int down[2], up[2];
	pid_t pid;

	if (pipe2(down, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(up, O_CLOEXEC) < 0) {
		close(down[0]);
		close(down[1]);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		serve(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	if (pid < 0) {
		close(down[1]);
		close(up[0]);
		return -1;
	}
	worker = pid;
	to_worker = down[1];
	from_worker = up[0];
	return 0;
}

/* The worker is gone in the middle of a command, most likely by Ctrl-C:
 * the terminal goes back as it was (a prompt may have turned echo off),
 * and the next command starts a new worker. */
static int lost(const char *prog, const struct termios *tty)
{
	int st = 0, got = wait_for(worker, &st);

	close(to_worker);
	close(from_worker);
	worker = 0;
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, tty);
	if (got == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) {
		fprintf(stderr, "%s%s: interrupted\n", tty ? "\n" : "", prog);
		return 130;
	}
	if (got == 0 && WIFSIGNALED(st)) {
		fprintf(stderr, "%s: %s\n", prog, strsignal(WTERMSIG(st)));
		return 128 + WTERMSIG(st);
	}
	fprintf(stderr, "%s: the command ended without a status\n", prog);
	return got == 0 && WIFEXITED(st) && WEXITSTATUS(st) ?
	       WEXITSTATUS(st) : 1;
}

/* A worker that died between commands (killed from outside) is replaced
 * before it is given one. */
static void reap_idle(void)
{
	int st;

	if (worker && waitpid(worker, &st, WNOHANG) == worker) {
		close(to_worker);
		close(from_worker);
		worker = 0;
	}
}

int vaultctl_worker_run(int argc, char **argv)
{
	struct termios tty;
	int have_tty = tcgetattr(STDIN_FILENO, &tty) == 0, st;

	reap_idle();
	if (!worker && start() < 0) {
		fprintf(stderr, "vaultctl: cannot start a process for the "
			"command: %s\n", strerror(errno));
		return 1;
	}
	if (send_words(argc, argv) < 0 ||
	    read_all(from_worker, &st, sizeof(st)) < 0)
		st = lost(argv[0], have_tty ? &tty : NULL);
	return st;
}

void vaultctl_worker_stop(void)
{
	int st;

	if (!worker)
		return;
	/* End of file: the worker closes its session and exits. */
	close(to_worker);
	wait_for(worker, &st);
	close(from_worker);
	worker = 0;
}

/* `secret run` replaces its process by COMMAND, so it runs as a child of
 * the shell, in the foreground as under any shell: Ctrl-C is COMMAND's to
 * take (psql cancels its query and goes on), and the shell waits. */
int vaultctl_run_child(char **argv)
{
	pid_t pid;
	int st = 0;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		vaultctl_signals_restore();
		vaultctl_exec_tool(argv[0] + 9, argv);
		fprintf(stderr, "vaultctl: cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	if (pid < 0 || wait_for(pid, &st) < 0)
		return 1;
	/* As bash does: the ^C the terminal echoed ends its line. */
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGINT && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
