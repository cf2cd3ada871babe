/* bulk.h - bulk reads of secrets (export, run, diff, copy, import): a
 * whole environment at once, its values fetched with several store
 * requests in flight and audited as one chained row (bulk.c). */
#ifndef VC_BULK_H
#define VC_BULK_H

#include <stddef.h>

#include "ref.h"
#include "session.h"
#include "vc.h"

struct vc_secret_val {
	char name[256];
	char id[37];
	int version;
	struct vc_buf value;    /* secret */
};

struct vc_audit_early;

struct vc_secret_set {
	struct vc_secret_val *v;
	size_t n;
	struct vc_audit_early *early;   /* rows written, not yet committed */
};

/* How vc_secret_read_env reads. */
enum {
	VC_READ_NAMES = 0,      /* names and versions only, no store access */
	VC_READ_VALUES = 1,
	/* With values, from the local store: the audit rows are written
	 * (not committed) while the values are read.  Until the set is
	 * audited or freed, the caller must not use the metadata
	 * connection. */
	VC_READ_AUDIT_EARLY = 2,
	/* Several environments: also the values a later one overrides (a
	 * snapshot serves the set in any order). */
	VC_READ_OVERRIDDEN = 4,
};

/* Reads the live secrets of an environment (ref depth 3), all or those
 * named in only (NULL-terminated; an unknown name is VC_ENOTFOUND), with
 * up to concurrency store requests in flight; how is VC_READ_*.  The
 * caller audits the values it uses with vc_secret_audit_reads before any
 * leaves the process. */
int vc_secret_read_env(struct vc_session *s, const struct vc_ref *ref,
		       const char *const *only, int how, int concurrency,
		       struct vc_secret_set *out, struct vc_err *e);
/* Frees the values (wiped); rows written early are rolled back. */
void vc_secret_set_free(struct vc_secret_set *set);
/* The values of set audited as read (vc_audit_reads: one chained row
 * listing them), committed. */
int vc_secret_audit_reads(struct vc_session *s, const struct vc_ref *ref,
			  struct vc_secret_set *set, struct vc_err *e);

/* Several environments read as one (run and export): each one's names
 * and versions in sets[i], less those a later environment has too
 * unless how has VC_READ_OVERRIDDEN (the merge would drop them: they
 * are not read), the values of all of them
 * fetched together (one statement of the local store, every Vault
 * request in the same flight), then merged by name into merged.  merged
 * holds the values; sets keep what was read, for the audit. */
struct vc_secret_envs {
	const struct vc_ref *refs;
	struct vc_secret_set *sets;
	size_t n;
	struct vc_secret_set merged;
	struct vc_audit_early *early;   /* rows written, not yet committed */
};

/* Reads the n environments of refs (depth 3; n >= 1) as above; only and
 * concurrency as vc_secret_read_env, a name of only having to be in one
 * of them at least.  The caller audits with vc_secret_audit_envs before a
 * value leaves the process; refs must outlive out. */
int vc_secret_read_envs(struct vc_session *s, const struct vc_ref *refs,
			size_t n, const char *const *only, int how,
			int concurrency, struct vc_secret_envs *out,
			struct vc_err *e);
/* Moves into m->merged the value of each name from the last of m->sets
 * that has it, as vc_secret_read_envs does once it has read them; for
 * sets that come from elsewhere (run --fallback's snapshot). */
int vc_secret_envs_merge(struct vc_secret_envs *m, struct vc_err *e);
/* The values read audited (vc_audit_reads_many: one row per
 * environment), committed at once. */
int vc_secret_audit_envs(struct vc_session *s, struct vc_secret_envs *m,
			 struct vc_err *e);
void vc_secret_envs_free(struct vc_secret_envs *m);

/* A digest of the names and versions of the live secrets of the n
 * environments of refs (those in only), in one query that reads no
 * value: what changes whenever a value a read of them would give does. */
#define VC_SECRET_STAMP_LEN 32
int vc_secret_envs_stamp(struct vc_session *s, const struct vc_ref *refs,
			 size_t n, const char *const *only,
			 unsigned char stamp[VC_SECRET_STAMP_LEN],
			 struct vc_err *e);

#endif
