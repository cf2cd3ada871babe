/* batch.h - many secrets of one environment written as one change
 * (import, copy, restore-env): the quota taken once, the values written
 * together, metadata and audit rows in one transaction (batch.c). */
#ifndef VC_BATCH_H
#define VC_BATCH_H

#include <signal.h>
#include <stddef.h>

#include "ref.h"
#include "session.h"
#include "vc.h"

enum vc_batch_op {
	VC_BATCH_PUT,           /* a new version with val */
	VC_BATCH_DELETE,        /* soft-deleted, as by rm: it must be live */
	VC_BATCH_UNDELETE,      /* live again at its version, as by restore:
				 * it must be removed */
};

struct vc_batch_item {
	const char *name;
	enum vc_batch_op op;
	const void *val;
	size_t len;
	int expect;             /* the version it must be at: -1 any, 0 new */
	/* A put's audit row: its action (NULL: secret.create or
	 * secret.update) and the version whose value it copies (0: none). */
	const char *action;
	int from;
	/* Filled on success: */
	int version;            /* the version written (or deleted, undeleted) */
	int created;            /* it was new (or deleted) and counts now */
};

#define VC_BATCH_CONCURRENCY 8  /* store writes in flight by default */
#define VC_BATCH_CONCURRENCY_MAX 64

struct vc_batch_opts {
	const char *reason;     /* recorded in every audit row, or NULL */
	int concurrency;        /* Vault writes in flight; 0: the default */
	/* Not NULL: set by a signal handler, it stops the batch (VC_EINTR,
	 * nothing written) until the values go to the store; from there to
	 * the commit, SIGINT and SIGTERM are held back. */
	const volatile sig_atomic_t *stop;
};

/* Writes every item of the environment env (depth 3) or none, each
 * with one audit row, the quota checked for the secrets the batch makes
 * live less those it removes; a delete needs the role of rm, an undelete
 * that of restore.  The local store commits all values in one
 * transaction; with Vault the values go concurrency at a time and a
 * failure takes back those written (the new secrets removed, the changed
 * ones set back to their previous value, deletes and undeletes undone),
 * the message saying so, or naming 'vaultctl-audit reconcile' when that
 * failed too.  VC_ECONFLICT, nothing written, when an item is not at
 * its expected version or, for a delete or undelete, not live or not
 * removed. */
int vc_secret_write_batch(struct vc_session *s, const struct vc_ref *env,
			  struct vc_batch_item *items, size_t n,
			  const struct vc_batch_opts *o, struct vc_err *e);

#endif
