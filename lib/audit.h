/* audit.h - append-only, hash-chained audit rows (doc/architecture.md,
 * section 8; vaultctl-audit(1)). */
#ifndef VC_AUDIT_H
#define VC_AUDIT_H

#include "db.h"
#include "ref.h"
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
 * as API calls of the organization in usage_statistics.  Under a key the
 * chain's head is checked and MACed; a chain whose head is not under this
 * key (or not authenticated) goes on in a new epoch, begun by an
 * 'audit.epoch' row. */
int vc_audit_write(struct vc_session *s, struct vc_db *db,
		   const struct vc_audit_ev *ev, size_t n, struct vc_err *e);
/* Moves one chain (org_id NULL: the global one) into a new epoch under
 * the configured key, unless it is under that key already (*moved 0).
 * reason goes into the epoch row's details. */
int vc_audit_epoch(struct vc_session *s, struct vc_db *db, const char *org_id,
		   const char *reason, int *moved, struct vc_err *e);

/* ---- reads (lib/audit_reads.c) ---- */

/* One value read: the secret and the version read. */
struct vc_audit_read {
	const char *secret_id;
	int version;
};

/* The reads of one command in the environment env_id of org_id, inside
 * the caller's transaction on db.  One read is one 'secret.read' row
 * about the secret, as a get writes.  Several are one 'secret.read' row
 * about the environment, details {"reads": n, "digest": hex}, and the
 * reads in audit_reads under its seq, in one bulk insert: an export of a
 * thousand secrets costs one chained row, not a thousand.  Each read
 * counts as an API call either way. */
int vc_audit_reads(struct vc_session *s, struct vc_db *db, const char *org_id,
		   const char *env_id, const struct vc_audit_read *r, size_t n,
		   struct vc_err *e);
/* The reads of one command in one environment. */
struct vc_audit_list {
	const char *org_id, *env_id;
	const struct vc_audit_read *r;
	size_t n;
};
/* vc_audit_reads for several environments at once (run and export with
 * several): the rows of one organization in one insert, their reads in
 * one more, one head update and one count of calls; organizations in
 * the order of their ids, so that two such commands lock heads alike. */
int vc_audit_reads_many(struct vc_session *s, struct vc_db *db,
			const struct vc_audit_list *l, size_t n,
			struct vc_err *e);
/* Whether a row of these fields lists reads in audit_reads. */
int vc_audit_is_list(const char *action, const char *rtype);

/* The digest of a list of reads, in order, as the details carry it:
 * BLAKE2b-256 of "vaultctl audit reads v1", per read its id's length and
 * bytes and its version, then the number of reads, each number 8 bytes
 * little-endian (the number last: verify learns it at the end).  final
 * returns -1 when init ran out of memory. */
struct vc_audit_digest {
	void *p;
};
void vc_audit_digest_init(struct vc_audit_digest *g);
void vc_audit_digest_add(struct vc_audit_digest *g, const char *secret_id,
			 long long version);
int vc_audit_digest_final(struct vc_audit_digest *g, size_t n, char hex[65]);
/* The details of a row listing r: -1 when out of memory. */
int vc_audit_reads_details(const struct vc_audit_read *r, size_t n,
			   char details[128]);
/* The reads' rows of the k lists l, each under its audit row seq[i], in
 * one bulk insert. */
int vc_audit_reads_put(struct vc_db *db, const long long *seq,
		       const struct vc_audit_list *const *l, size_t k,
		       struct vc_err *e);

/* The reads of audit_reads in (seq, pos) order, of every chain (org_id
 * NULL) or of org_id's rows, taken beside the rows as verify reads them. */
struct vc_audit_rcur;
int vc_audit_rcur_open(struct vc_db *db, const char *org_id,
		       struct vc_audit_rcur **out, struct vc_err *e);
void vc_audit_rcur_close(struct vc_audit_rcur *c);
/* Takes every read up to the row seq: *n of them under seq itself, their
 * digest into hex when list; *stray is the first seq below it that has
 * reads (a row verify did not find; 0: none). */
int vc_audit_rcur_take(struct vc_audit_rcur *c, long long seq, int list,
		       long long *stray, size_t *n, char hex[65],
		       struct vc_err *e);
/* Whether a list row's details say n reads of that digest. */
int vc_audit_reads_match(const char *details, size_t n, const char hex[65]);

/* Hash of one audit row as stored; key may be NULL (unkeyed). */
void vc_audit_hash(unsigned char out[32], const unsigned char prev[32],
		   const char *const fields[10], const unsigned char *key);

/* ---- keys (lib/audit_key.c) ---- */

/* Reads the audit key named by audit_key_file (32 bytes), if any. */
int vc_audit_key(struct vc_session *s, unsigned char key[32], int *have,
		 struct vc_err *e);
/* A key's id: 8 bytes of BLAKE2b keyed with it; hex as 16 digits. */
void vc_audit_key_id(unsigned char id[8], const unsigned char key[32]);
void vc_audit_key_hex(char out[17], const unsigned char id[8]);
/* The MAC of a chain's head (chain "" is the global one). */
void vc_audit_head_mac(unsigned char mac[32], const unsigned char key[32],
		       const char *chain, long long seq,
		       const unsigned char hash[32], long long epoch,
		       const unsigned char id[8]);

/* What the first row of a chain begun under a key follows, instead of 32
 * zero bytes: a chain that starts so was keyed from its start, and its
 * head may never be unkeyed (a head stripped of its key would otherwise
 * pass for one from before keys). */
void vc_audit_genesis(unsigned char out[32], const unsigned char key[32],
		      const char *chain);

/* The current key and the ones it replaced (FILE.<key id> beside it). */
struct vc_audit_keyring {
	size_t n;
	struct {
		unsigned char id[8], key[32];
	} k[32];
};
int vc_audit_keyring_load(struct vc_session *s, struct vc_audit_keyring *kr,
			  struct vc_err *e);
const unsigned char *vc_audit_keyring_find(const struct vc_audit_keyring *kr,
					   const unsigned char id[8]);
void vc_audit_keyring_wipe(struct vc_audit_keyring *kr);
/* rekey's file part: a fresh key written beside audit_key_file and renamed
 * over it, the old one kept as FILE.<its id>.  new_id: the new key's id. */
int vc_audit_key_rotate(struct vc_session *s, unsigned char new_id[8],
			struct vc_err *e);

/* ---- what a command leaves for the trail (lib/audit_record.c) ---- */

struct vc_ref;

/* A refusal (VC_EPERM) by a role check: recorded as "<command>.denied"
 * (vc_session_set_command) for the acting user, in ref's organization
 * (ref NULL: the global chain).  need names the role that was missing.
 * Written when the command ends (vc_audit_flush), so that a refusal
 * inside a transaction that rolls back is kept; the first one only. */
void vc_audit_denied(struct vc_session *s, const struct vc_ref *ref,
		     const char *need);
/* A password that did not match: an 'auth.failed' row in the global
 * chain, now.  user_id: the user it was checked for, NULL if unknown. */
void vc_audit_auth_failed(struct vc_session *s, const char *user_id,
			  const char *email);
/* A command that may act on org_id: counted as an API call when it ends
 * well, unless it writes audit rows of that organization (counted with
 * them). */
void vc_audit_count_call(struct vc_session *s, const char *org_id);
/* Writes what the command left (a refusal, an API call to count).  Best
 * effort: the command's own outcome stands whatever happens here. */
void vc_audit_flush(struct vc_session *s);

/* The reports and repairs of vaultctl-audit. */
enum vc_audit_act {
	VC_AUDIT_LOG,           /* reading the audit log: admins */
	VC_AUDIT_VERIFY,        /* admins */
	VC_AUDIT_RECONCILE,     /* admins */
	VC_AUDIT_STATS,         /* usage statistics: viewers, their own */
	VC_AUDIT_RECOMPUTE,     /* for cron, no acting user */
};

/* Which organizations act covers and whether the acting user may have it
 * (vc_ref_scope with act's role): org (--org, a name or id) or NULL for
 * every one.  *org_id: org's id or NULL; *member_id (may be NULL where
 * act has no such scope): the acting user's id when they get the
 * organizations they belong to. */
int vc_audit_scope(struct vc_session *s, const char *org,
		   enum vc_audit_act act, struct vc_ref *ref,
		   const char **org_id, const char **member_id,
		   struct vc_err *e);
/* VC_EPERM unless the acting user may prune the audit log (global admins,
 * and with the administrative account: the metadata account cannot
 * delete audit rows at all). */
int vc_audit_may_prune(struct vc_session *s, struct vc_err *e);

#endif
