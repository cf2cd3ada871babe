/* localstore.h - the local value store (doc/architecture.md, section 6).
 *
 * Values sealed with XChaCha20-Poly1305 under a 32-byte master key, in the
 * tables vc_value_keys and vc_values, reached with the value-store account.
 * Same versions, check-and-set and soft-delete semantics as Vault KV v2.
 * Each row names the key it is sealed under by the key's id, so that the
 * key can be replaced (vaultctl-secret rekey) while values stay readable.
 *
 * Library-internal: it names MYSQL, so cmd/ never includes it (the opener
 * of the value store does).
 */
#ifndef VC_LOCALSTORE_H
#define VC_LOCALSTORE_H

#include <mysql.h>

#include "store.h"

#define VC_LOCAL_KEY_BYTES 32
#define VC_LOCAL_KEY_ID_BYTES 8

/* conn is connected as the value-store account with the database selected.
 * The store borrows it: vc_store_close() frees the store, not conn.  Each
 * write is a transaction of its own (START TRANSACTION ... COMMIT), so conn
 * must not be inside another one.  The key is copied and wiped on close. */
int vc_local_open(struct vc_store **out, MYSQL *conn,
		  const unsigned char key[VC_LOCAL_KEY_BYTES], struct vc_err *e);
/* The same with the keys of the master key file path (see below), read
 * again whenever a rekey has moved them on. */
int vc_local_open_file(struct vc_store **out, MYSQL *conn, const char *path,
		       struct vc_err *e);

/* Reads a raw 32-byte key.  A file that group or others may read or write
 * is refused (VC_EPERM), a file of another size too (VC_EUSAGE). */
int vc_local_key_load(const char *path, unsigned char key[VC_LOCAL_KEY_BYTES],
		      struct vc_err *e);

/* ---- key ids and the key files of a rekey (localkey.c) ----
 *
 * A master key file FILE is alone outside a rekey.  A rekey writes the
 * next key to FILE.new, re-seals every value under it, keeps the previous
 * key as FILE.old while it makes FILE.new the current FILE, re-seals what
 * was written meanwhile, and only then removes FILE.old.  Whatever the
 * point at which it stops, the files present open every value. */

enum vc_local_slot {
	VC_LOCAL_CUR,           /* FILE */
	VC_LOCAL_NEW,           /* FILE.new: the key being rolled in */
	VC_LOCAL_OLD,           /* FILE.old: the key being rolled out */
	VC_LOCAL_SLOTS
};

struct vc_local_keys {
	unsigned char key[VC_LOCAL_SLOTS][VC_LOCAL_KEY_BYTES];
	unsigned char id[VC_LOCAL_SLOTS][VC_LOCAL_KEY_ID_BYTES];
	int have[VC_LOCAL_SLOTS];
	/* The files read (device, inode): other files mean a rekey moved on. */
	unsigned long long dev[VC_LOCAL_SLOTS], ino[VC_LOCAL_SLOTS];
};

/* The id of a key: the first bytes of BLAKE2b keyed with it, over a
 * constant.  It tells keys apart and gives nothing of the key away. */
void vc_local_key_id(const unsigned char key[VC_LOCAL_KEY_BYTES],
		     unsigned char id[VC_LOCAL_KEY_ID_BYTES]);
/* Hex of an id, NUL-terminated. */
void vc_local_key_id_hex(const unsigned char id[VC_LOCAL_KEY_ID_BYTES],
			 char out[2 * VC_LOCAL_KEY_ID_BYTES + 1]);
/* Reads FILE, and FILE.new and FILE.old when they exist. */
int vc_local_keys_load(const char *file, struct vc_local_keys *k,
		       struct vc_err *e);
/* 1 when the key files on disk are not the ones k was read from. */
int vc_local_keys_stale(const char *file, const struct vc_local_keys *k);
/* The slot new values are sealed with: FILE.new while a rekey runs. */
int vc_local_keys_sealer(const struct vc_local_keys *k);
/* The slot of the key with that id, -1 if none.  id NULL: a row sealed
 * before key ids existed, under the key current then (FILE.old while a
 * rekey finishes, else FILE). */
int vc_local_keys_find(const struct vc_local_keys *k,
		       const unsigned char *id);
void vc_local_keys_wipe(struct vc_local_keys *k);

/* One rekey of FILE at a time: a lock on FILE's directory, held until
 * vc_local_key_unlock or the process's end (VC_ECONFLICT when taken). */
int vc_local_key_lock(const char *file, int *fd, struct vc_err *e);
void vc_local_key_unlock(int fd);
/* Writes a new random key to FILE.new, with FILE's mode, owner and group,
 * durably (a temporary file, fsync, rename, fsync of the directory). */
int vc_local_key_begin(const char *file, struct vc_err *e);
/* FILE.new becomes FILE; the key it replaces stays as FILE.old.  Nothing
 * to do when there is no FILE.new. */
int vc_local_key_switch(const char *file, struct vc_err *e);
/* Removes FILE.old. */
int vc_local_key_finish(const char *file, struct vc_err *e);

/* ---- re-sealing (localstore.c) ---- */

/* Re-seals, in one transaction, up to batch values that are not sealed
 * under the store's sealing key (after reading the key files again);
 * *done is how many.  With all, the transaction first locks every key
 * row, so that no write that began under an older key is still on its
 * way, and re-seals every value left, batch by batch. */
int vc_local_reseal(struct vc_store *st, int batch, int all, long long *done,
		    struct vc_err *e);

#endif
