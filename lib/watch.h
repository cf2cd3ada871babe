/* watch.h - `vaultctl-secret run --watch`: the command run with the
 * secrets of its environments, stopped and run again with the new values
 * whenever their versions change, the watcher staying as its parent. */
#ifndef VC_WATCH_H
#define VC_WATCH_H

#include <stddef.h>

#include "fallback.h"
#include "ref.h"
#include "session.h"
#include "vc.h"

struct vc_watch {
	const char *const *texts;       /* the environments as given */
	struct vc_ref *refs;            /* resolved as vc_fallback_read does */
	size_t n;
	const char *const *only;        /* as vc_secret_read_envs */
	int concurrency;
	int how;                        /* as vc_runenv_build */
	const char *const *allow;
	char *const *argv;              /* the command, NULL-terminated */
	long interval_ms;               /* between two polls */
	int signal;                     /* what stops the command on a change */
	struct vc_fallback *fb;         /* --fallback, or NULL */
	int cause;                      /* as vc_fallback_read, at the start */
	int exec_errno;                 /* out: why the command did not start */
};

/* Runs w->argv with the values of w's environments (each read audited),
 * polls their names and versions every w->interval_ms with one query, and
 * on a change reads the values anew, sends w->signal to the command,
 * waits for it and runs it again with them.  SIGTERM, SIGINT and SIGHUP
 * to the caller go to the command too.  Returns 0 once the command has
 * ended, for good, with its wait status in *wstatus; an error when values
 * cannot be read or the command cannot start (w->exec_errno then says
 * why), the command of an earlier round stopped already.  A failed poll
 * (the database away) leaves the command running: the next one tries
 * again.  In host mode the command's process gives up the tools' group
 * before exec; the caller keeps it, and its connections, for polling.
 *
 * With w->fb, values that cannot be read for an outage come from the
 * snapshot (vc_fallback_read), at the start or at a change; while the
 * command runs on them, every poll reads the values from the backends,
 * and once that works runs the command again with them, unless they are
 * the very versions it has.  A round whose values are those the command
 * has (the snapshot of its own start) does not restart it. */
int vc_watch_run(struct vc_session *s, struct vc_watch *w, int *wstatus,
		 struct vc_err *e);

/* A duration: a whole number and a unit ms, s, m or h (10s, 500ms, 2m),
 * from 100ms to 24h; VC_EUSAGE otherwise. */
int vc_watch_interval(const char *text, long *ms, struct vc_err *e);
/* A signal by name (TERM, SIGTERM, hup, ...) or number; VC_EUSAGE for
 * one that is not. */
int vc_watch_signal(const char *text, int *sig, struct vc_err *e);

#endif
