/* watch.c - run --watch.
 *
 * The watcher waits in sigtimedwait() for the end of the interval, the
 * command's end (SIGCHLD) or a signal to stop (SIGTERM, SIGINT, SIGHUP),
 * all of them blocked so that none is lost between two waits and none
 * needs a handler that could run in the middle of a query.  A poll is one
 * query of names and versions (vc_secret_envs_stamp), never a value.
 */
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bulk.h"
#include "host.h"
#include "runenv.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "WINCH", SIGWINCH },
};

int vc_watch_signal(const char *text, int *sig, struct vc_err *e)
{
	const char *name = text;
	char *end;
	long n;

	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < NELEM(signals); i++)
		if (!strcasecmp(name, signals[i].name)) {
			*sig = signals[i].sig;
			return 0;
		}
	errno = 0;
	n = strtol(text, &end, 10);
	if (text[0] >= '0' && text[0] <= '9' && !*end && !errno && n >= 1 &&
	    n <= SIGRTMAX) {
		*sig = (int)n;
		return 0;
	}
	return vc_err_set(e, VC_EUSAGE, "--signal: not a signal: '%.40s' "
			  "(a name such as TERM, HUP, INT, USR1, or a number)",
			  text);
}

int vc_watch_interval(const char *text, long *ms, struct vc_err *e)
{
	static const struct {
		const char *unit;
		long ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		      { "h", 3600000 } };
	const char *p = text;
	long n = 0;

	while (*p >= '0' && *p <= '9' && n <= 86400000)
		n = n * 10 + (*p++ - '0');
	for (size_t i = 0; p != text && i < NELEM(units); i++)
		if (!strcmp(p, units[i].unit) && n <= 86400000 / units[i].ms) {
			*ms = n * units[i].ms;
			if (*ms >= 100)
				return 0;
		}
	return vc_err_set(e, VC_EUSAGE, "--interval: not a duration from "
			  "100ms to 24h: '%.40s' (a whole number and ms, s, m "
			  "or h: 500ms, 10s, 2m)", text);
}

/* ---- the command's process ---- */

/* In the child: the caller's signal mask and SIGPIPE back, the group
 * given up, exec; on failure its errno goes up the pipe. */
static void child(const struct vc_watch *w, char **env, const sigset_t *old,
		  int fd)
{
	struct vc_err e;
	int err;

	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	if (vc_host_drop(&e) < 0)
		err = EPERM;
	else {
		execvpe(w->argv[0], w->argv, env);
		err = errno;
	}
	if (write(fd, &err, sizeof(err)) < 0)
		err = EIO;
	_exit(err == ENOENT ? 127 : 126);
}

/* Forks the command with env; an exec that fails is an error here. */
static int spawn(struct vc_watch *w, char **env, const sigset_t *old,
		 pid_t *pid, struct vc_err *e)
{
	int fd[2], err = 0;
	ssize_t got;

	if (pipe2(fd, O_CLOEXEC) < 0)
		return vc_err_set(e, VC_EFAIL, "cannot make a pipe: %s",
				  strerror(errno));
	*pid = fork();
	if (*pid == 0)
		child(w, env, old, fd[1]);
	err = errno;
	close(fd[1]);
	if (*pid < 0) {
		close(fd[0]);
		return vc_err_set(e, VC_EFAIL, "cannot fork: %s", strerror(err));
	}
	/* Closed on a successful exec: nothing to read. */
	while ((got = read(fd[0], &err, sizeof(err))) < 0 && errno == EINTR)
		;
	close(fd[0]);
	if (got != (ssize_t)sizeof(err))
		return 0;
	waitpid(*pid, NULL, 0);
	*pid = -1;
	w->exec_errno = err;
	return vc_err_set(e, VC_EFAIL, "cannot run '%s': %s", w->argv[0],
			  strerror(err));
}

/* ---- the watcher ---- */

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for a signal of set until deadline: the signal, or 0 at the
 * deadline. */
static int wait_signal(const sigset_t *set, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		struct timespec ts;
		int sig;

		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno == EAGAIN)
			return 0;
	}
}

/* Stops the command with sig and waits for its end. */
static int stop(pid_t pid, int sig)
{
	int st = 0;

	kill(pid, sig);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Starts a round of the command with the values of m (freed): audited,
 * or recorded in the snapshot they came from, first. */
static int launch(struct vc_session *s, struct vc_watch *w,
		  struct vc_secret_envs *m, const sigset_t *old, pid_t *pid,
		  struct vc_err *e)
{
	struct vc_runenv env = { NULL, 0, 0 };
	int rc = vc_runenv_build(&env, &m->merged, vc_host_caller_env(),
				 w->how, w->allow, e);

	if (rc == 0)
		rc = vc_fallback_commit(s, w->fb, m, w->only, e);
	vc_secret_envs_free(m);
	if (rc == 0)
		rc = spawn(w, env.env, old, pid, e);
	vc_runenv_release(&env);
	return rc;
}

/* ---- the rounds ---- */

struct round {
	pid_t pid;
	unsigned char seen[VC_SECRET_STAMP_LEN];        /* the last poll's */
	unsigned char have[32]; /* what the command got: got() */
	/* It runs on values that may be behind (the snapshot's, or the
	 * ones before a change that could not be read): every poll reads. */
	int behind;
};

/* The secrets and versions of m, environment by environment. */
static void got(const struct vc_secret_envs *m, unsigned char out[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t j = 0; j < m->n; j++) {
		uint64_t n = m->sets[j].n;
		crypto_generichash_update(&st, (const unsigned char *)&n,
					  sizeof(n));
		for (size_t i = 0; i < m->sets[j].n; i++) {
			const struct vc_secret_val *v = &m->sets[j].v[i];
			crypto_generichash_update(&st, (const unsigned char *)
						  v->id, strlen(v->id) + 1);
			crypto_generichash_update(&st, (const unsigned char *)
						  &v->version, sizeof(v->version));
		}
	}
	crypto_generichash_final(&st, out, 32);
}

/* A connection the server dropped (restarted, failed over) stays dead:
 * after an outage, the next poll opens new ones. */
static void reconnect_later(struct vc_session *s)
{
	vc_store_close(s->store);
	s->store = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(s->db); i++) {
		vc_db_close(s->db[i]);
		s->db[i] = NULL;
	}
}

/* Ends the watch on error rc, the command stopped. */
static int fail(const struct vc_watch *w, struct round *r, int rc,
		int *wstatus)
{
	*wstatus = stop(r->pid, w->signal);
	return rc;
}

/* A later round's values, from the backends only: the snapshot holds at
 * best what the command has already.  Read as the snapshot keeps them:
 * they are committed to it. */
static int values(struct vc_session *s, struct vc_watch *w,
		  struct vc_secret_envs *m, struct vc_err *e)
{
	int rc = vc_fallback_resolve(s, NULL, w->texts, w->refs, w->n, e);

	memset(m, 0, sizeof(*m));
	if (rc == 0)
		rc = vc_secret_read_envs(s, w->refs, w->n, w->only,
					 vc_fallback_how(w->fb), w->concurrency,
					 m, e);
	if (rc == 0 && w->fb)
		w->fb->offline = 0;     /* committed as read online */
	return rc;
}

/* The first round: the stamp before the values, so that a change in
 * between shows at the first poll (one restart too many, never one
 * missed); with a snapshot, an outage serves it. */
static int first(struct vc_session *s, struct vc_watch *w,
		 const sigset_t *old, struct round *r, struct vc_err *e)
{
	struct vc_secret_envs m;
	int rc = w->cause;

	if (rc == 0)
		rc = vc_fallback_resolve(s, w->fb, w->texts, w->refs, w->n, e);
	if (rc == 0)
		rc = vc_secret_envs_stamp(s, w->refs, w->n, w->only, r->seen, e);
	if (rc == VC_EUNAVAIL && w->fb)
		w->cause = rc;
	else if (rc < 0)
		return rc;
	rc = vc_fallback_read(s, w->fb, w->texts, w->refs, w->n, w->only,
			      w->concurrency, w->cause, &m, e);
	if (rc < 0)
		return rc;
	r->behind = w->fb && w->fb->offline;
	got(&m, r->have);
	return launch(s, w, &m, old, &r->pid, e);
}

/* The command run again with m; 1 when it ended by itself meanwhile
 * (not run again: its status in *wstatus). */
static int relaunch(struct vc_session *s, struct vc_watch *w,
		    const sigset_t *old, struct round *r,
		    struct vc_secret_envs *m, int *wstatus, struct vc_err *e)
{
	if (waitpid(r->pid, wstatus, WNOHANG) == r->pid) {
		vc_secret_envs_free(m);
		return 1;
	}
	*wstatus = stop(r->pid, w->signal);
	got(m, r->have);
	return launch(s, w, m, old, &r->pid, e);
}

/* While the values may be behind: they are read from the backends as
 * soon as these answer; the same versions leave the command alone (the
 * reads served offline audited, the snapshot rewritten), others run it
 * again. */
static int poll_behind(struct vc_session *s, struct vc_watch *w,
		       const sigset_t *old, struct round *r, int *wstatus,
		       struct vc_err *e)
{
	unsigned char now[VC_SECRET_STAMP_LEN], have[32];
	struct vc_secret_envs m;
	int rc = vc_fallback_resolve(s, w->fb, w->texts, w->refs, w->n, e);

	if (rc == 0)
		rc = vc_secret_envs_stamp(s, w->refs, w->n, w->only, now, e);
	if (rc == 0)
		rc = values(s, w, &m, e);
	if (rc == VC_EUNAVAIL) {
		reconnect_later(s);
		return 0;
	}
	if (rc < 0)
		return fail(w, r, rc, wstatus);
	memcpy(r->seen, now, sizeof(now));
	r->behind = 0;
	got(&m, have);
	if (memcmp(have, r->have, sizeof(have)))
		return relaunch(s, w, old, r, &m, wstatus, e);
	rc = vc_fallback_commit(s, w->fb, &m, w->only, e);
	vc_secret_envs_free(&m);
	r->behind = rc == VC_EUNAVAIL;
	return rc == VC_EUNAVAIL ? 0 : rc < 0 ? fail(w, r, rc, wstatus) : 0;
}

/* One poll: 0 to go on, 1 when the command has ended by itself (its
 * status in *wstatus), or an error, the command stopped. */
static int poll_once(struct vc_session *s, struct vc_watch *w,
		     const sigset_t *old, struct round *r, int *wstatus,
		     struct vc_err *e)
{
	unsigned char now[VC_SECRET_STAMP_LEN], have[32];
	struct vc_secret_envs m;
	int rc;

	if (r->behind)
		return poll_behind(s, w, old, r, wstatus, e);
	rc = vc_secret_envs_stamp(s, w->refs, w->n, w->only, now, e);
	if (rc == VC_EUNAVAIL)
		reconnect_later(s);
	if (rc < 0 || !memcmp(r->seen, now, sizeof(now)))
		return 0;
	memcpy(r->seen, now, sizeof(now));
	rc = values(s, w, &m, e);
	/* With a snapshot, an outage keeps the command as it is until the
	 * values can be read. */
	if (rc == VC_EUNAVAIL && w->fb) {
		reconnect_later(s);
		r->behind = 1;
		return 0;
	}
	if (rc < 0)
		return fail(w, r, rc, wstatus);
	/* The stamp covers every name of every environment; what the
	 * command got may be the same (a value a later environment
	 * overrides changed): it keeps running, on nothing new, and the
	 * reads it will not get are not audited. */
	got(&m, have);
	if (!memcmp(have, r->have, sizeof(have))) {
		vc_secret_envs_free(&m);
		return 0;
	}
	return relaunch(s, w, old, r, &m, wstatus, e);
}

/* The rounds: returns 0 with the last command's wait status, or the error
 * of a round that did not start. */
static int watch_loop(struct vc_session *s, struct vc_watch *w,
		      const sigset_t *set, const sigset_t *old, int *wstatus,
		      struct vc_err *e)
{
	struct round r = { .pid = -1 };
	long long deadline;
	int rc, sig;

	rc = first(s, w, old, &r, e);
	deadline = now_ms() + w->interval_ms;
	while (rc == 0) {
		sig = wait_signal(set, deadline);
		if (sig == SIGCHLD) {
			if (waitpid(r.pid, wstatus, WNOHANG) == r.pid)
				return 0;
			continue;
		}
		if (sig != 0) {
			*wstatus = stop(r.pid, sig);
			return 0;
		}
		deadline = now_ms() + w->interval_ms;
		rc = poll_once(s, w, old, &r, wstatus, e);
	}
	return rc == 1 ? 0 : rc;
}

static void on_child(int sig)
{
	(void)sig;
}

int vc_watch_run(struct vc_session *s, struct vc_watch *w, int *wstatus,
		 struct vc_err *e)
{
	struct sigaction sa, was;
	sigset_t set, old;
	int rc;

	w->exec_errno = 0;
	*wstatus = 0;
	/* SIGCHLD ignored by default may be dropped rather than queued. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &was);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	rc = watch_loop(s, w, &set, &old, wstatus, e);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGCHLD, &was, NULL);
	return rc;
}
