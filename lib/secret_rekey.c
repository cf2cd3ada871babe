/* secret_rekey.c - a new master key for the local store.
 *
 * The key files and the order of their steps are localkey.c's, the
 * re-sealing localstore.c's; here are the rules around them: who may,
 * which store, one rekey at a time, and the audit row, written before the
 * previous key is removed so that no rekey ends unrecorded.
 */
#include "secret.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "localstore.h"

/* Values per transaction: enough that commits do not dominate, few enough
 * that a batch holds few row locks, and memory for at most 100 values of
 * max_value_size bytes. */
#define REKEY_BATCH 100

static int rekey_allowed(struct vc_session *s, struct vc_err *e)
{
	int rc = s->conf_loaded ? 0 : vc_session_load_conf(s, NULL, e);

	if (rc < 0)
		return rc;
	if (strcmp(s->conf.backend, "local"))
		return vc_err_set(e, VC_EUSAGE, "rekey is for the local store;"
				  " Vault keeps its own keys (rotate them with"
				  " 'vault operator rotate')");
	if (!vc_session_is_admin(s))
		return vc_err_set(e, VC_EPERM, "permission denied: only global"
				  " admins rekey the value store");
	if (!s->conf.master_key_file)
		return vc_err_set(e, VC_EUSAGE, "%s: backend local needs "
				  "master_key_file", s->conf.path);
	return 0;
}

/* The ids of the key being rolled out and of the one rolled in. */
static void rekey_ids(const struct vc_local_keys *k, struct vc_secret_rekey *rk)
{
	int from = k->have[VC_LOCAL_NEW] ? VC_LOCAL_CUR : VC_LOCAL_OLD;

	vc_local_key_id_hex(k->id[from], rk->old_id);
	vc_local_key_id_hex(k->id[vc_local_keys_sealer(k)], rk->new_id);
}

/* Asks, then writes FILE.new unless an interrupted rekey left one (or
 * already made it current, leaving FILE.old). */
static int rekey_start(const char *file, struct vc_secret_rekey *rk,
		       struct vc_err *e)
{
	char q[512];
	struct vc_local_keys k;
	int rc = vc_local_keys_load(file, &k, e);

	if (rc < 0)
		return rc;
	rk->resumed = k.have[VC_LOCAL_NEW] || k.have[VC_LOCAL_OLD];
	vc_local_keys_wipe(&k);
	snprintf(q, sizeof(q), rk->resumed ? "finish the interrupted rekey of"
		 " '%s'?" : "replace the master key '%s' and re-seal every"
		 " value under the new one?", file);
	rc = rk->confirm ? rk->confirm(rk->ctx, q, e) : 0;
	if (rc == 0 && !rk->resumed)
		rc = vc_local_key_begin(file, e);
	if (rc == 0)
		rc = vc_local_keys_load(file, &k, e);
	if (rc == 0)
		rekey_ids(&k, rk);
	vc_local_keys_wipe(&k);
	return rc;
}

static int reseal(struct vc_store *st, int all, struct vc_secret_rekey *rk,
		  long long *n, struct vc_err *e)
{
	int rc = vc_local_reseal(st, REKEY_BATCH, all, n, e);

	if (rc == 0)
		rk->resealed += *n;
	if (rc == 0 && *n && rk->progress)
		rk->progress(rk->ctx, rk->resealed);
	return rc;
}

/* Every value under FILE.new, FILE.new made current, then what writers
 * sealed under the previous key meanwhile. */
static int rekey_values(struct vc_session *s, const char *file,
			struct vc_secret_rekey *rk, struct vc_err *e)
{
	struct vc_store *st;
	long long n = REKEY_BATCH;
	int rc = vc_session_store(s, &st, e);

	while (rc == 0 && n == REKEY_BATCH)
		rc = reseal(st, 0, rk, &n, e);
	if (rc == 0)
		rc = vc_local_key_switch(file, e);
	if (rc == 0)
		rc = reseal(st, 1, rk, &n, e);
	return rc;
}

struct rekey_audit {
	struct vc_session *s;
	const struct vc_secret_rekey *rk;
};

static int audit_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	const struct rekey_audit *a = arg;
	char details[160];
	struct vc_audit_ev ev = { NULL, "secret.rekey", "master_key",
				  a->rk->new_id, details };

	snprintf(details, sizeof(details), "{\"backend\":\"local\","
		 "\"previous_key_id\":\"%s\",\"values\":%lld,\"resumed\":%s}",
		 a->rk->old_id, a->rk->resealed, a->rk->resumed ? "true" :
		 "false");
	return vc_audit_write(a->s, db, &ev, 1, e);
}

static int rekey_audit(struct vc_session *s, const struct vc_secret_rekey *rk,
		       struct vc_err *e)
{
	struct rekey_audit a = { s, rk };
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	return rc < 0 ? rc : vc_db_txn(db, audit_txn, &a, e);
}

int vc_secret_rekey(struct vc_session *s, struct vc_secret_rekey *rk,
		    struct vc_err *e)
{
	const char *file;
	int lock = -1, rc;

	rk->resealed = 0;
	rk->resumed = 0;
	rk->old_id[0] = rk->new_id[0] = '\0';
	rc = rekey_allowed(s, e);
	if (rc < 0)
		return rc;
	file = s->conf.master_key_file;
	rc = vc_local_key_lock(file, &lock, e);
	if (rc == 0)
		rc = rekey_start(file, rk, e);
	if (rc == 0 && (rc = rekey_values(s, file, rk, e)) == 0)
		rc = rekey_audit(s, rk, e);
	if (rc == 0)
		rc = vc_local_key_finish(file, e);
	else if (rk->new_id[0])
		vc_err_prefix(e, "the rekey stopped after re-sealing %lld values"
			      " (they open as before; run rekey again to finish"
			      " it)", rk->resealed);
	vc_local_key_unlock(lock);
	return rc;
}
