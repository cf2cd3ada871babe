/* store.h - the value-store interface (doc/architecture.md, section 1).
 *
 * Two implementations behave the same: Vault KV v2 over HTTP (vault.c) and
 * the local sealed table (localstore.c).  Paths are relative to the KV v2
 * mount: organizations/{org}/projects/{project}/environments/{env}/secrets/{NAME}.
 * Versions start at 1; a soft-deleted version keeps its number; check-and-set
 * follows KV v2 (cas 0 = only if the key does not exist, N = only if the
 * current version is N).
 */
#ifndef VC_STORE_H
#define VC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "vc.h"

struct vc_store;

/* One version as the store's metadata describes it. */
struct vc_store_version {
	int version;
	int64_t created;        /* unix seconds */
	int64_t deleted;        /* unix seconds, 0 when not soft-deleted */
	int destroyed;
};

struct vc_store_meta {
	int current_version;    /* 0 when the key does not exist */
	int oldest_version;
	size_t nversions;
	struct vc_store_version *versions;   /* ascending by version */
};

/* What a get found besides the bytes. */
struct vc_store_got {
	int version;
	int deleted;            /* the version is soft-deleted (VC_ENOTFOUND) */
	int destroyed;          /* the version is destroyed (VC_ENOTFOUND) */
};

/* One item of a bulk get.  On return rc is 0 or a VC_E* code and err says
 * why; value is a secret buffer owned by the caller (release it). */
struct vc_store_item {
	const char *path;
	int version;            /* 0 = latest */
	struct vc_buf value;
	struct vc_store_got got;
	int rc;
	struct vc_err err;
};

/* What an item of a bulk put does: a new version with val, or version
 * cas (the current one) soft-deleted or undeleted, so that a batch that
 * removes or brings back secrets is one change of the store too. */
enum vc_store_put_op { VC_STORE_WRITE, VC_STORE_DELETE, VC_STORE_UNDELETE };

/* One item of a bulk put: cas as put's.  On return version is the one
 * written (deleted or undeleted: cas), 0 when the item was not done. */
struct vc_store_put {
	const char *path;
	const void *val;
	size_t len;
	int cas;
	int version;
	enum vc_store_put_op op;
	/* > 0: the key keeps at most this many versions from this write on
	 * (the environment's --max-versions); 0: as the key has it. */
	int max_versions;
};

struct vc_store_ops {
	const char *name;       /* "vault" or "local" */
	/* cas < 0: no check-and-set.  new_version may be NULL. */
	int (*put)(struct vc_store *s, const char *path, const void *val,
		   size_t len, int cas, int *new_version, struct vc_err *e);
	/* version 0 = latest.  Missing key or version: VC_ENOTFOUND with
	 * got->deleted/destroyed telling a deleted version from a missing one. */
	int (*get)(struct vc_store *s, const char *path, int version,
		   struct vc_buf *out, struct vc_store_got *got, struct vc_err *e);
	int (*meta)(struct vc_store *s, const char *path,
		    struct vc_store_meta *out, struct vc_err *e);
	/* n == 0 means the latest version (DELETE <mount>/data/<path>). */
	int (*del)(struct vc_store *s, const char *path, const int *versions,
		   size_t n, struct vc_err *e);
	int (*undelete)(struct vc_store *s, const char *path,
			const int *versions, size_t n, struct vc_err *e);
	int (*destroy)(struct vc_store *s, const char *path,
		       const int *versions, size_t n, struct vc_err *e);
	/* Removes the key with every version and its metadata. */
	int (*delete_all)(struct vc_store *s, const char *path, struct vc_err *e);
	/* The key keeps at most max versions from its next write on (0: the
	 * store's default); the local store also drops the older ones now.
	 * Works on a key not written yet. */
	int (*set_max)(struct vc_store *s, const char *path, int max,
		       struct vc_err *e);
	/* One level below prefix (which ends with '/'); names of sub-folders
	 * end with '/'.  Nothing there: 0 with *n = 0.  Free with
	 * vc_store_list_free. */
	int (*list)(struct vc_store *s, const char *prefix, char ***keys,
		    size_t *n, struct vc_err *e);
	/* Fills every item; returns 0 when the batch ran (items carry their own
	 * rc), or a VC_E* code when the store failed as a whole. */
	int (*get_many)(struct vc_store *s, struct vc_store_item *items,
			size_t n, int concurrency, struct vc_err *e);
	/* Writes every item, up to concurrency at a time (a delete or an
	 * undelete needs the key at version cas).  The local store writes
	 * all of them in one transaction or none; Vault writes them one
	 * request each: after a failure, the items with a version were
	 * written and are the caller's to take back. */
	int (*put_many)(struct vc_store *s, struct vc_store_put *items,
			size_t n, int concurrency, struct vc_err *e);
	void (*close)(struct vc_store *s);
};

struct vc_store {
	const struct vc_store_ops *ops;
};

void vc_store_meta_release(struct vc_store_meta *m);
void vc_store_list_free(char **keys, size_t n);
void vc_store_close(struct vc_store *s);         /* NULL is fine */
/* Builds "organizations/%s/projects/%s/environments/%s/secrets/%s". */
int vc_store_path(struct vc_buf *out, const char *org_id,
		  const char *project_id, const char *env_id, const char *name);

#endif
