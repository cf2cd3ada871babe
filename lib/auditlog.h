/* auditlog.h - reading and keeping the audit trail: log pages, chain
 * verification, usage statistics, reconciliation of metadata with the
 * value store, and retention (vaultctl-audit(1)). */
#ifndef VC_AUDITLOG_H
#define VC_AUDITLOG_H

#include <time.h>

#include "db.h"
#include "session.h"
#include "vc.h"

/* One file per section below: lib/audit_time.c, audit_log.c,
 * audit_verify.c (and audit_anchor.c), audit_lock.c, audit_stats.c,
 * audit_reconcile.c, audit_prune.c and audit_rekey.c. */

/* ---- time ---- */

/* "2024-05-01", "2024-05-01T12:00[:00][Z|+02:00]" or a time back from
 * now ("30m", "24h", "7d", "2w", "90s") as UTC 'YYYY-MM-DD HH:MM:SS'.
 * A date or time without a zone is UTC. */
int vc_auditlog_time(const char *s, time_t now, char out[20],
		     struct vc_err *e);

/* ---- log ---- */

struct vc_auditlog_filter {
	const char *org_id;     /* NULL: every chain */
	const char *user_id;
	const char *action;     /* exact, or a prefix ending in '*' */
	const char *rtype;
	const char *since;      /* inclusive, 'YYYY-MM-DD HH:MM:SS' */
	const char *until;      /* exclusive */
};

/* Columns of the rows vc_auditlog_page and vc_auditlog_newer return. */
enum { VC_AL_SEQ, VC_AL_TIME, VC_AL_USER, VC_AL_USER_ID, VC_AL_ORG,
       VC_AL_ORG_ID, VC_AL_ACTION, VC_AL_RTYPE, VC_AL_RID, VC_AL_IP,
       VC_AL_AGENT, VC_AL_DETAILS, VC_AL_NCOLS };

/* One page of at most limit rows, newest first (by time, then seq).
 * after > 0 continues below the row with that seq.  *next is the seq to
 * pass as after for the following page, 0 when this was the last. */
int vc_auditlog_page(struct vc_db *db, const struct vc_auditlog_filter *f,
		     long long after, long limit, struct vc_res **rows,
		     long long *next, struct vc_err *e);
/* At most limit rows with seq > after, oldest first (log --follow). */
int vc_auditlog_newer(struct vc_db *db, const struct vc_auditlog_filter *f,
		      long long after, long limit, struct vc_res **rows,
		      struct vc_err *e);
/* The highest seq there is (0 for an empty log). */
int vc_auditlog_max_seq(struct vc_db *db, long long *seq, struct vc_err *e);
/* A user id by email, or the id itself (users may be gone, rows not). */
int vc_auditlog_user_id(struct vc_db *db, const char *who, char id[37],
			struct vc_err *e);

/* ---- verify ---- */

struct vc_auditlog_chain {
	char chain[37];         /* organization id, "" for the global chain */
	char org[256];          /* its name when it still exists */
	long long rows;
	long long bad_seq;      /* the first broken link, 0 when intact */
	char problem[200];      /* "" when intact */
};

/* Recomputes the hash chains (one organization's, or all when org_id is
 * NULL) in one consistent snapshot, each epoch with its key (the current
 * audit key, or an old one kept beside it), and checks each head's MAC.
 * With anchor (a file name, else NULL), also that each chain still holds
 * the row the file recorded for it (or lost it to prune only), then
 * records the intact chains' heads there.  Returns 0 having filled *out
 * (free it) even when chains are broken: see each chain's problem. */
int vc_auditlog_verify(struct vc_session *s, struct vc_db *db,
		       const char *org_id, const char *anchor,
		       struct vc_auditlog_chain **out, size_t *n,
		       struct vc_err *e);

/* One line of an anchor file (lib/audit_anchor.c). */
struct vc_auditlog_anchor {
	char chain[37];         /* "" for the global chain */
	long long seq;
	unsigned char hash[32];
};

/* A missing file reads as empty.  Writing replaces it atomically, mode
 * 0600, with the caller's own rights. */
int vc_auditlog_anchor_read(const char *path, struct vc_auditlog_anchor **out,
			    size_t *n, struct vc_err *e);
int vc_auditlog_anchor_write(const char *path,
			     const struct vc_auditlog_anchor *a, size_t n,
			     struct vc_err *e);

/* ---- rekey ---- */

/* 0 for a global admin, and for root in host mode; else VC_EPERM, the
 * refusal audited. */
int vc_auditlog_rekey_allowed(struct vc_session *s, struct vc_err *e);
/* A new audit key (the old one kept as FILE.<id>, see lib/audit_key.c),
 * then every chain moved into a new epoch under it, each in its own
 * transaction on db (the metadata connection), and the rekey recorded in
 * the global chain.  key_id: the new key's id in hex; *chains: how many
 * chains moved. */
int vc_auditlog_rekey(struct vc_session *s, struct vc_db *db,
		      char key_id[17], long long *chains, struct vc_err *e);

/* ---- single-instance jobs ---- */

/* Takes the maintenance_locks row name for minutes, in its own committed
 * transaction so that other nodes see it.  A live row held by another
 * run is VC_ECONFLICT naming the holder and what ("stats recompute"); an
 * expired one is taken over.  holder receives "host:pid". */
int vc_auditlog_lock(struct vc_db *db, const char *name, const char *what,
		     int minutes, char holder[128], struct vc_err *e);
void vc_auditlog_unlock(struct vc_db *db, const char *name,
			const char *holder);

/* ---- usage statistics ---- */

/* Recomputes usage_statistics of one organization or all (org_id NULL)
 * with set-based statements: secret_count from live secrets, api_calls
 * from the organization's audit rows since its active subscription's
 * start (all time without one), plus its metadata reads (read_calls).
 * *orgs: how many organizations. */
int vc_auditlog_recompute(struct vc_db *db, const char *org_id,
			  long long *orgs, struct vc_err *e);
/* organization, secret_count, api_calls, last_updated, organization_id:
 * of org_id, else every organization (user_id NULL) or the user's. */
int vc_auditlog_stats(struct vc_db *db, const char *org_id,
		      const char *user_id, struct vc_res **rows,
		      struct vc_err *e);

/* ---- reconcile ---- */

/* VC_DRIFT_DELETED: at the same version, one side has the secret removed
 * (its current version soft-deleted) and the other live. */
enum vc_drift_kind { VC_DRIFT_ORPHAN_VALUE, VC_DRIFT_NO_VALUE,
		     VC_DRIFT_VERSION, VC_DRIFT_DELETED };

struct vc_drift {
	enum vc_drift_kind kind;
	char path[512];         /* the value store path */
	char ref[480];          /* org/project/env/NAME, "" when unknown */
	char org_id[37], project_id[37], env_id[37];
	char name[256];
	char secret_id[37];     /* metadata row, "" for an orphaned value */
	int meta_version, store_version;        /* 0 when absent */
	int meta_deleted;       /* VC_DRIFT_DELETED: removed in the metadata
				 * (the store has it live), or the reverse */
};

/* Compares secret_metadata with the value store under one organization
 * or all of them.  *secrets: metadata rows compared. */
int vc_auditlog_reconcile(struct vc_session *s, const char *org_id,
			  struct vc_drift **out, size_t *n,
			  long long *secrets, struct vc_err *e);
/* Version drift: the metadata takes the store's version (check-and-set
 * on the version the scan saw; VC_ECONFLICT when it moved meanwhile). */
int vc_auditlog_adopt(struct vc_session *s, const struct vc_drift *d,
		      struct vc_err *e);
/* Deleted-state drift: the store's current version is deleted or
 * undeleted as the metadata has it.  Every writer changes the store
 * first and the metadata (with its audit row) in the commit after, so
 * the metadata says what the user was told happened; the store's side is
 * what a lost commit left.  Under the metadata row's lock, checked again
 * (VC_ECONFLICT when it moved meanwhile). */
int vc_auditlog_align(struct vc_session *s, const struct vc_drift *d,
		      struct vc_err *e);
/* Orphaned value: removed with every version, under the organization's
 * quota lock and after checking again that no metadata names it. */
int vc_auditlog_drop_value(struct vc_session *s, const struct vc_drift *d,
			   struct vc_err *e);

/* ---- prune ---- */

/* Rows older than before, as prune would see them. */
int vc_auditlog_count_before(struct vc_db *db, const char *before,
			     long long *n, struct vc_err *e);
/* Deletes, chain by chain in batches, the oldest rows up to the first one
 * not older than before, and records the last deleted row's hash as the
 * chain's anchor.  db is the administrative connection; the prune itself
 * is recorded in the global chain. */
int vc_auditlog_prune(struct vc_session *s, struct vc_db *db,
		      const char *before, long long *rows, struct vc_err *e);

#endif
