/* audit_rekey.c - a new audit key, and every chain moved into a new epoch
 * under it. */
#include "auditlog.h"

#include <stdio.h>

#include "audit.h"
#include "host.h"
#include "ref.h"

int vc_auditlog_rekey_allowed(struct vc_session *s, struct vc_err *e)
{
	/* Root owns the key files in host mode, and may replace them anyway. */
	if (vc_host_mode() && vc_host_root())
		return 0;
	return vc_ref_need_admin(s, "rekeying the audit log needs the global "
				 "role admin", e);
}

struct move {
	struct vc_session *s;
	const char *org;        /* NULL: the global chain */
	int moved;
};

static int move_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct move *m = arg;

	return vc_audit_epoch(m->s, db, m->org, "rekey", &m->moved, e);
}

struct rekeyed {
	struct vc_session *s;
	const char *key_id;
	long long chains;
};

static int rekeyed_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct rekeyed *a = arg;
	char details[96];
	struct vc_audit_ev ev = { NULL, "audit.rekey", "audit_key", a->key_id,
				  details };

	snprintf(details, sizeof(details), "{\"key_id\":\"%s\",\"chains\":%lld}",
		 a->key_id, a->chains);
	return vc_audit_write(a->s, db, &ev, 1, e);
}

/* The global chain too, although the rekey row moves it anyway: it is
 * listed with the others, and a chain already moved is left alone. */
static int move_all(struct vc_session *s, struct vc_db *db, long long *chains,
		    struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT chain FROM audit_chain_heads ORDER "
			 "BY chain", "");
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		const char *chain = vc_res_get(r, i, 0, NULL);
		struct move m = { s, chain[0] ? chain : NULL, 0 };
		rc = vc_db_txn(db, move_txn, &m, e);
		*chains += m.moved;
	}
	vc_res_free(r);
	return rc;
}

int vc_auditlog_rekey(struct vc_session *s, struct vc_db *db,
		      char key_id[17], long long *chains, struct vc_err *e)
{
	unsigned char id[8];
	struct rekeyed done = { s, key_id, 0 };
	int rc;

	*chains = 0;
	key_id[0] = '\0';
	rc = vc_auditlog_rekey_allowed(s, e);
	if (rc == 0)
		rc = vc_audit_key_rotate(s, id, e);
	if (rc < 0)
		return rc;
	vc_audit_key_hex(key_id, id);
	rc = move_all(s, db, chains, e);
	done.chains = *chains;
	if (rc == 0)
		rc = vc_db_txn(db, rekeyed_txn, &done, e);
	return rc;
}
