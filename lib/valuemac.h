/* valuemac.h - what vaultctl last wrote as a secret's value, kept in its
 * metadata row as a keyed MAC (sql/013-value-mac.sql), so that a batch
 * tells an unchanged value from a changed one without reading the value
 * store (valuemac.c). */
#ifndef VC_VALUEMAC_H
#define VC_VALUEMAC_H

#include <stddef.h>

#include "db.h"
#include "format.h"
#include "ref.h"
#include "session.h"
#include "vc.h"

/* A value written, with the metadata row that records it. */
struct vc_valuemac_item {
	const char *id;         /* secret_metadata.id */
	int version;            /* the version written; 0: none, skipped */
	const void *val;        /* that version's value */
	size_t len;
};

/* Inside the caller's transaction on db, after the rows' versions were
 * set: records the MAC of each item's value.  Without an audit key, or
 * with one that cannot be read, nothing is written: the rows' MACs stay
 * behind their versions, which means unknown, and the write goes on (the
 * MAC saves reads, a write never fails for it). */
int vc_valuemac_write(struct vc_session *s, struct vc_db *db,
		      const struct vc_valuemac_item *it, size_t n,
		      struct vc_err *e);
/* The MACs of the n items' values (those with a version), for a writer
 * that records them in its own statements (value_mac = mac[i],
 * value_mac_version = it[i].version, value_mac_key = key_id): *have 1,
 * or 0 without an audit key (the columns then go NULL: unknown). */
void vc_valuemac_of(struct vc_session *s, const struct vc_valuemac_item *it,
		    size_t n, unsigned char (*mac)[32], unsigned char key_id[8],
		    int *have);
/* Inside the caller's transaction: the n versions of the row id, whose
 * current version is current, are destroyed.  If the current one is
 * among them its MAC is forgotten, since it no longer describes a value
 * the store holds, and the version marked so that no MAC of a value read
 * before the destroy is recorded for it. */
int vc_valuemac_forget(struct vc_db *db, const char *id, int current,
		       const int *versions, size_t n, struct vc_err *e);

enum vc_change {
	VC_CHANGE_ADD,          /* no live secret of that name */
	VC_CHANGE_CHANGE,       /* one with another value */
	VC_CHANGE_SAME,         /* one with this value */
};

/* What writing each of the n entries of kv into env (depth 3) would do,
 * in out[i].  Compared with what vaultctl last wrote: the MAC in the
 * metadata row, and only where it is unknown with the current value read
 * from the store (audited as reads, as any read; concurrency requests in
 * flight), whose MAC is then recorded unless dry (a dry run writes
 * nothing).  A value changed in the store behind vaultctl's back is not
 * seen here: that is drift, which reconcile reports. */
int vc_secret_plan_changes(struct vc_session *s, const struct vc_ref *env,
			   const struct vc_kv *kv, size_t n, int concurrency,
			   int dry, enum vc_change *out, struct vc_err *e);

#endif
