/* audit.h - append-only, hash-chained audit rows (doc/architecture.md, sections 8 and 9). */
#ifndef VC_AUDIT_H
#define VC_AUDIT_H

#include "db.h"
#include "session.h"
#include "vc.h"

struct vc_audit_ev {
	const char *org_id;     /* NULL: the global chain (users, plans) */
	const char *action;     /* "secret.read", "org.create", ... */
	const char *rtype;      /* "secret", "organization", ... */
	const char *rid;        /* the resource's id */
	const char *details;    /* JSON object or NULL; never a value */
};

/* Appends n events of one chain (all with the same org_id) inside the
 * caller's transaction on db, in one multi-row INSERT.  Also counts them
 * as API calls of the organization in usage_statistics. */
int vc_audit_write(struct vc_session *s, struct vc_db *db,
		   const struct vc_audit_ev *ev, size_t n, struct vc_err *e);

/* Hash of one audit row as stored; key may be NULL (unkeyed). */
void vc_audit_hash(unsigned char out[32], const unsigned char prev[32],
		   const char *const fields[10], const unsigned char *key);
/* Reads the audit key named by audit_key_file (32 bytes), if any. */
int vc_audit_key(struct vc_session *s, unsigned char key[32], int *have,
		 struct vc_err *e);

#endif
