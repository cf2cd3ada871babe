/* fallback.h - the offline snapshot of `run` and `export` (--fallback):
 * what the last successful read of a set of environments gave, sealed
 * under a key only the tools hold, bound to the caller and to that set,
 * and served when the database or Vault is unavailable, never for
 * anything else.  Reads served from it are kept in it until a run that
 * reaches the database audits them. */
#ifndef VC_FALLBACK_H
#define VC_FALLBACK_H

#include "bulk.h"
#include "ref.h"
#include "session.h"
#include "vc.h"

struct vc_fallback_snap;

struct vc_fallback {
	const char *path;       /* --fallback FILE; NULL: no snapshot */
	long long max_age;      /* seconds; < 0: any age */
	const char *as;         /* --as, part of the identity bound */
	int offline;            /* out: the values came from the snapshot */
	long long age;          /* out: the snapshot's age, seconds */
	struct vc_fallback_snap *snap;  /* the snapshot served, until commit */
};

/* "90s", "30m", "24h", "7d", "2w" (or plain seconds) into seconds, at
 * least 1, at most ten years; VC_EUSAGE naming --fallback-max-age. */
int vc_fallback_age_parse(const char *s, long long *out, struct vc_err *e);

/* Before anything is read: VC_EUSAGE unless the snapshot's directory
 * exists, VC_EPERM unless the caller may write in it (their own rights):
 * a snapshot that cannot be kept fails the command before any read. */
int vc_fallback_check_path(const char *path, struct vc_err *e);

/* What a read of the n environments texts needs that the dispatcher
 * could not give while a backend was away: the acting user (fb->as;
 * fb may be NULL) and every ref not resolved yet (depth 0). */
int vc_fallback_resolve(struct vc_session *s, const struct vc_fallback *fb,
			const char *const *texts, struct vc_ref *refs, size_t n,
			struct vc_err *e);

/* The values of the n environments texts into m (refs, the caller's,
 * become m->refs), merged as vc_secret_read_envs merges them; only and
 * concurrency as there.  cause is what opening the backends gave (0, or
 * VC_EUNAVAIL when they were away: then they are not tried again).
 *
 * From the backends, refs resolved first (vc_fallback_resolve); when
 * that fails with VC_EUNAVAIL and fb has a path, from the snapshot
 * instead: fb->offline and fb->age set, refs named as it names them but
 * left unresolved (depth 0), and a warning through s->notify.  Not
 * found, permission, quota are returned as they are.  A snapshot
 * missing, tampered with, older than fb->max_age, of other environments
 * (in any order: the same set), of another identity, or lacking a name
 * of only is VC_EUNAVAIL saying why, after the outage. */
/* How vc_secret_read_envs reads for fb: a snapshot keeps every value of
 * each environment, those a later one overrides too (VC_READ_*). */
int vc_fallback_how(const struct vc_fallback *fb);
int vc_fallback_read(struct vc_session *s, struct vc_fallback *fb,
		     const char *const *texts, struct vc_ref *refs, size_t n,
		     const char *const *only, int concurrency, int cause,
		     struct vc_secret_envs *m, struct vc_err *e);

/* Once the values of m will be used: online, audits them (and the reads
 * an earlier run served from the snapshot), then rewrites the snapshot;
 * offline, records the reads in the snapshot.  Without fb or its path,
 * vc_secret_audit_envs.  Releases what fb held. */
int vc_fallback_commit(struct vc_session *s, struct vc_fallback *fb,
		       struct vc_secret_envs *m, const char *const *only,
		       struct vc_err *e);

/* Wipes and frees the snapshot a read served and no commit took. */
void vc_fallback_release(struct vc_fallback *fb);

#endif
