/* fallback.h - the offline snapshot of `run` and `export` (--fallback):
 * what the last successful read of an environment gave, sealed under a
 * key only the tools hold, bound to the caller and the environment, and
 * served when the database or Vault is unavailable, never for anything
 * else.  Reads served from it are kept in it until a run that reaches
 * the database audits them. */
#ifndef VC_FALLBACK_H
#define VC_FALLBACK_H

#include "bulk.h"
#include "ref.h"
#include "session.h"
#include "vc.h"

struct vc_fallback {
	const char *path;       /* --fallback FILE; NULL: no snapshot */
	long long max_age;      /* seconds; < 0: any age */
	const char *as;         /* --as, part of the identity bound */
	int offline;            /* out: the values came from the snapshot */
	long long age;          /* out: the snapshot's age, seconds */
};

/* "90s", "30m", "24h", "7d", "2w" (or plain seconds) into seconds, at
 * least 1, at most ten years; VC_EUSAGE naming --fallback-max-age. */
int vc_fallback_age_parse(const char *s, long long *out, struct vc_err *e);

/* Before anything is read: VC_EUSAGE unless the snapshot's directory
 * exists, VC_EPERM unless the caller may write in it (their own rights):
 * a snapshot that cannot be kept fails the command before any read. */
int vc_fallback_check_path(const char *path, struct vc_err *e);

/* Called with cause, the error of a read of the environment text that
 * failed: unless cause is VC_EUNAVAIL and fb has a path, returns cause
 * as it was (not found, permission, quota are never served).  Else fills
 * ref and set from the snapshot (the names in only, which must all be in
 * it) and sets fb->offline and fb->age; a snapshot missing, tampered
 * with, older than fb->max_age, of another environment or of another
 * identity is VC_EUNAVAIL saying why. */
int vc_fallback_serve(struct vc_session *s, struct vc_fallback *fb,
		      const char *text, const char *const *only, int cause,
		      struct vc_ref *ref, struct vc_secret_set *set,
		      struct vc_err *e);

/* Once the values of set will be used: online, audits them (and the
 * reads an earlier run served from the snapshot), then rewrites the
 * snapshot; offline, records the reads in the snapshot.  Without a path,
 * vc_secret_audit_reads. */
int vc_fallback_commit(struct vc_session *s, struct vc_fallback *fb,
		       const struct vc_ref *ref, const char *const *only,
		       struct vc_secret_set *set, struct vc_err *e);

#endif
