/* fallback_int.h - what fallback.c (serving, recording, auditing) and
 * fallback_file.c (the sealed file) share.  Not a public header. */
#ifndef VC_FALLBACK_INT_H
#define VC_FALLBACK_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "bulk.h"
#include "fallback.h"
#include "session.h"
#include "vc.h"

#define SNAP_NONCE_LEN 24

/* One environment of the snapshot, and every secret it gave. */
struct snap_env {
	char name[480];         /* canonical "org/project/env" */
	char org_id[37], project_id[37], env_id[37];
	char org[64], project[64], env[64];
	struct vc_secret_set set;
};

struct vc_fallback_snap {
	long long uid, created;
	char login[65], asked[256], user_id[37], email[256];
	char *only;             /* comma-separated, or NULL: all */
	struct snap_env *env;
	size_t nenv, total;     /* total: secrets of every environment */
	/* The reads served offline: npend records of snap_rec_len() bytes,
	 * a time (8 bytes, big-endian) and a bit per secret, in the order
	 * of env. */
	unsigned char *pend;
	size_t npend;
	unsigned char *served;  /* a record: what this run served */
	/* Of the file it was read from (snap_load): where its records go. */
	unsigned char key[32], mac_key[32], nonce[SNAP_NONCE_LEN];
	dev_t dev;
	ino_t ino;
	size_t sealed;          /* bytes before the first record */
};

size_t snap_rec_len(const struct vc_fallback_snap *sn);
/* Wipes and frees what sn holds (not sn). */
void snap_free(struct vc_fallback_snap *sn);
/* Opens the snapshot at path into sn, its records checked: VC_EUNAVAIL
 * when it is missing or does not open under the tools' key. */
int snap_load(struct vc_session *s, const char *path,
	      struct vc_fallback_snap *sn, struct vc_err *e);
/* Writes sn (no record) to path: 0600, fsync, rename, with the caller's
 * own rights. */
int snap_save(struct vc_session *s, const char *path,
	      const struct vc_fallback_snap *sn, struct vc_err *e);
/* Appends sn->served, stamped now, to the snapshot at path that sn was
 * loaded from: VC_EUNAVAIL when another has replaced it meanwhile. */
int snap_append(const char *path, struct vc_fallback_snap *sn,
		struct vc_err *e);

#endif
