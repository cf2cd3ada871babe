/* session.h - what one run of a tool holds open: configuration,
 * connections, value store and the acting user.  Opened lazily, so a
 * command opens only what it needs (doc/architecture.md, section 1). */
#ifndef VC_SESSION_H
#define VC_SESSION_H

#include "config.h"
#include "db.h"
#include "store.h"
#include "vc.h"

struct vc_user {
	char id[37];
	char email[256];
	char role[51];          /* global role: "admin" or "user" */
};

/* What the running command leaves for the audit trail when it ends
 * (lib/audit_record.c). */
struct vc_session_audit {
	char command[64];       /* "secret.get": the command, audit style */
	char calls_org[37];     /* an organization acted on, not yet counted */
	int denied;             /* a refusal waiting to be written */
	char org_id[37], rtype[32], rid[37];
	char details[512];
};

struct vc_session {
	struct vc_conf conf;
	int conf_loaded;
	struct vc_db *db[4];            /* by enum vc_db_role */
	struct vc_store *store;
	struct vc_user user;
	int have_user;
	/* In host mode, when root or a global admin acts as another: who
	 * really does (email, or "root"); recorded in every audit row. */
	char by[256];
	char tool[64];                  /* for the audit user agent */
	char user_agent[256];
	char ip[46];
	int verbose;
	void (*notify)(void *, const char *);
	void *notify_ctx;
	struct vc_session_audit audit;
};

void vc_session_init(struct vc_session *s, const char *tool);
/* The command about to run ("vaultctl-org", "member add"): names its
 * refusals in the audit trail.  Writes what the previous command of the
 * session left (vc_audit_flush). */
void vc_session_set_command(struct vc_session *s, const char *prog,
			    const char *name);
/* The command ended with rc (0 or a VC_E* code): writes what it left
 * for the audit trail; a command that failed counts no API call beyond
 * its audit rows. */
void vc_session_end_command(struct vc_session *s, int rc);
int vc_session_load_conf(struct vc_session *s, const char *path,
			 struct vc_err *e);
/* Returns the connection of that role, opening it on first use. */
int vc_session_db(struct vc_session *s, enum vc_db_role role,
		  struct vc_db **out, struct vc_err *e);
int vc_session_store(struct vc_session *s, struct vc_store **out,
		     struct vc_err *e);
/* Resolves the acting user by email. */
int vc_session_set_user(struct vc_session *s, const char *email,
			struct vc_err *e);

/* vc_session_actor's flags. */
enum {
	/* Nobody needs to act while the users table is empty: the first
	 * user is being added. */
	VC_ACTOR_FIRST = 1 << 0,
};

/* Who acts, resolved into s->user: as (what the caller was given with
 * --as, NULL when nothing), else $VAULTCTL_USER, else the configuration's
 * default_user.  A name given empty is a usage error; nobody named at all
 * is VC_EPERM.  The one place that decides who acts: every tool and the
 * shell come here. */
int vc_session_actor(struct vc_session *s, const char *as, unsigned flags,
		     struct vc_err *e);
/* Whether the acting user must prove who they are before a command runs
 * (authenticate = password); the caller asks and calls
 * vc_session_check_password. */
int vc_session_wants_password(const struct vc_session *s);
int vc_session_is_admin(const struct vc_session *s);
/* Whose password proves the caller (authenticate = password): the acting
 * user's, or in host mode the admin's who acts as them. */
const char *vc_session_prover(const struct vc_session *s);
/* Checks a password against the users table (Argon2id). */
int vc_session_check_password(struct vc_session *s, const char *email,
			      const char *password, struct vc_err *e);
/* For a command about to read many values: starts loading libcurl in
 * the background when the value store will need it (Vault at https). */
void vc_session_preload(struct vc_session *s);
void vc_session_close(struct vc_session *s);

#endif
