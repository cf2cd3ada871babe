/* secret.h - the secret lifecycle over metadata and the value store,
 * following the write path of doc/architecture.md, section 4. */
#ifndef VC_SECRET_H
#define VC_SECRET_H

#include <signal.h>

#include "output.h"
#include "ref.h"
#include "session.h"
#include "vc.h"

/* The longest --reason, in bytes (kept in the audit row's details). */
#define VC_SECRET_REASON_MAX 500

struct vc_secret_write {
	const void *val;
	size_t len;
	const char *desc;       /* NULL: keep */
	const char *reason;     /* recorded in the audit row, or NULL */
	const char *action;     /* NULL: secret.create / secret.update */
	int from_version;       /* rollback: the version copied */
};

/* Writes a new version.  *version is the new version, *created whether
 * the secret was new.  Concurrent writers of the secret are waited out and
 * the write tried again (the last one wins); VC_ECONFLICT only when they
 * keep it changing past a deadline, or when the value store stays at
 * another version than the metadata records (drift, which reconcile
 * repairs). */
int vc_secret_write(struct vc_session *s, const struct vc_ref *ref,
		    const struct vc_secret_write *w, int *version,
		    int *created, struct vc_err *e);
/* The same only if the secret is at version cas (0: there is no such
 * secret; a removed one keeps its version), as the caller last saw it:
 * else VC_ECONFLICT and nothing is written.  cas < 0: any version. */
int vc_secret_write_cas(struct vc_session *s, const struct vc_ref *ref,
			const struct vc_secret_write *w, int cas, int *version,
			int *created, struct vc_err *e);
/* Reads the bytes of a live secret (version 0 = latest) and writes its
 * audit row. */
int vc_secret_read(struct vc_session *s, const struct vc_ref *ref,
		   int version, struct vc_buf *out, int *got, struct vc_err *e);
int vc_secret_delete(struct vc_session *s, const struct vc_ref *ref,
		     struct vc_err *e);
int vc_secret_restore(struct vc_session *s, const struct vc_ref *ref,
		      struct vc_err *e);
int vc_secret_purge(struct vc_session *s, const struct vc_ref *ref,
		    struct vc_err *e);
/* Destroys the values of the n versions (each from 1 to the latest) in
 * the store for good; history shows them destroyed.  Admins only. */
int vc_secret_destroy(struct vc_session *s, const struct vc_ref *ref,
		      const int *versions, size_t n, struct vc_err *e);

/* A new master key for the local store, every value re-sealed under it
 * (secret_rekey.c).  Global admins only; the Vault store is VC_EUSAGE.
 * confirm is asked once the checks have passed, before anything changes;
 * progress (may be NULL) hears the running count after each batch. */
struct vc_secret_rekey {
	int (*confirm)(void *ctx, const char *question, struct vc_err *e);
	void (*progress)(void *ctx, long long resealed);
	void *ctx;
	long long resealed;     /* out: values re-sealed */
	int resumed;            /* out: an interrupted rekey was finished */
	char old_id[17], new_id[17];    /* out: the key ids, in hex */
};
int vc_secret_rekey(struct vc_session *s, struct vc_secret_rekey *rk,
		    struct vc_err *e);

/* ---- an environment back to a point in time (secret_restore.c) ---- */

enum vc_restore_kind {
	VC_RESTORE_UNCHANGED,
	VC_RESTORE_REVERT,      /* version from's value as a new version */
	VC_RESTORE_REMOVE,      /* soft-deleted */
	VC_RESTORE_RESTORE,     /* brought back (undeleted, or from written) */
	VC_RESTORE_KINDS
};

struct vc_restore_op {
	char name[256];         /* as stored */
	enum vc_restore_kind kind;
	int from;               /* the version current at TIME, 0 if none */
	int expect;             /* the current version the plan was made on */
};

struct vc_restore_plan {
	char at[20];            /* TIME as UTC 'YYYY-MM-DD HH:MM:SS' */
	struct vc_restore_op *ops;      /* every secret of the environment */
	size_t n;
	size_t count[VC_RESTORE_KINDS];
};

/* What restore-env would do to the environment env (depth 3) to put it
 * back as it was at TIME (ISO 8601 or an age such as 2h); nothing is
 * written.  VC_EUSAGE for a bad or future TIME, VC_ECONFLICT naming a
 * secret whose state at TIME the store no longer holds (its version was
 * destroyed or pruned), VC_EQUOTA when the secrets brought back would not
 * fit (read without the quota lock). */
int vc_secret_restore_plan(struct vc_session *s, const struct vc_ref *env,
			   const char *at, struct vc_restore_plan *plan,
			   struct vc_err *e);
/* Carries the plan out as one batch (lib/batch.h): every change or
 * none, each with its own audit row, the quota taken for the whole batch
 * under its lock.  VC_ECONFLICT, nothing changed, when a secret changed
 * since the plan; stop as the batch's (may be NULL). */
int vc_secret_restore_apply(struct vc_session *s, const struct vc_ref *env,
			    const struct vc_restore_plan *plan,
			    const volatile sig_atomic_t *stop, struct vc_err *e);
void vc_secret_restore_plan_release(struct vc_restore_plan *plan);

/* Random value of length n from a charset ("alnum", "hex", "base64",
 * "ascii") drawn with libsodium. */
int vc_secret_random(const char *charset, size_t n, struct vc_buf *out,
		     struct vc_err *e);

/* What can be done with the secrets of an environment; each needs a role
 * in the organization (viewers list, members read and write, admins
 * remove). */
enum vc_secret_act {
	VC_SECRET_LIST,         /* names and metadata, never values */
	VC_SECRET_READ,
	VC_SECRET_HISTORY,
	VC_SECRET_WRITE,        /* set, rotate, import, copy */
	VC_SECRET_ROLLBACK,
	VC_SECRET_DELETE,
	VC_SECRET_RESTORE,
	VC_SECRET_PURGE,
	VC_SECRET_DESTROY,
};

/* VC_EPERM unless the acting user may do act under ref.  Every operation
 * checks it itself; a command asks it first only when it has something to
 * ask the user before (a value, a confirmation). */
int vc_secret_may(struct vc_session *s, const struct vc_ref *ref,
		  enum vc_secret_act act, struct vc_err *e);

/* The live secrets of an environment (ref depth 3) by name; columns:
 * name, version, description, created_by, updated_at, id. */
int vc_secret_list(struct vc_session *s, const struct vc_ref *ref,
		   struct vc_res **out, struct vc_err *e);
/* The versions of a secret (ref depth 4), newest first, added to t, which
 * the caller set up with six columns: version, created_at, state (live,
 * deleted, destroyed), author, action, reason. */
int vc_secret_history(struct vc_session *s, const struct vc_ref *ref,
		      struct vc_table *t, struct vc_err *e);

/* Pre-flight for a batch: VC_EQUOTA unless need more secrets fit. */
int vc_secret_quota_check(struct vc_session *s, const struct vc_ref *ref,
			  long need, struct vc_err *e);

/* For batches (lib/batch.c), the single write's rules: the details of a
 * write's audit row (never the value), and the count of live secrets in
 * usage_statistics moved by delta, inside the caller's transaction. */
int vc_secret_details(struct vc_buf *b, int version, int from,
		      const char *reason);
struct vc_db;
int vc_secret_count(struct vc_db *db, const char *org_id, int delta,
		    struct vc_err *e);
/* The environment's --max-versions (env set); -1 when it has none.  As
 * resolved with ref when it was (ref->max_known), else from the database. */
int vc_secret_env_max(struct vc_db *db, const struct vc_ref *ref, int *max,
		      struct vc_err *e);

#endif
