/* localstore.h - the local value store (doc/architecture.md, section 6).
 *
 * Values sealed with XChaCha20-Poly1305 under a 32-byte master key, in the
 * tables vc_value_keys and vc_values, reached with the value-store account.
 * Same versions, check-and-set and soft-delete semantics as Vault KV v2.
 *
 * Library-internal: it names MYSQL, so cmd/ never includes it (the opener
 * of the value store does).
 */
#ifndef VC_LOCALSTORE_H
#define VC_LOCALSTORE_H

#include <mysql.h>

#include "store.h"

#define VC_LOCAL_KEY_BYTES 32

/* conn is connected as the value-store account with the database selected.
 * The store borrows it: vc_store_close() frees the store, not conn.  Each
 * write is a transaction of its own (START TRANSACTION ... COMMIT), so conn
 * must not be inside another one.  The key is copied and wiped on close. */
int vc_local_open(struct vc_store **out, MYSQL *conn,
		  const unsigned char key[VC_LOCAL_KEY_BYTES], struct vc_err *e);

/* Reads a raw 32-byte key.  A file that group or others may read or write
 * is refused (VC_EPERM), a file of another size too (VC_EUSAGE). */
int vc_local_key_load(const char *path, unsigned char key[VC_LOCAL_KEY_BYTES],
		      struct vc_err *e);

#endif
