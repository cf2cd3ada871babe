/* secretcmd.h - handlers of vaultctl-secret. */
#ifndef VC_SECRETCMD_H
#define VC_SECRETCMD_H

#include <signal.h>

#include "cli.h"
#include "ref.h"
#include "secret.h"

enum { O_DESC = OPT_FIRST_LONG, O_FROM_FILE, O_REASON, O_VERSION, O_YES,
       O_TO, O_LENGTH, O_CHARSET, O_SHOW, O_FORMAT, O_ONLY, O_OUT,
       O_CONCURRENCY, O_FILE, O_OVERWRITE, O_SKIP, O_DRY_RUN, O_PRISTINE,
       O_SHOW_VALUES, O_ALLOW_NAME, O_AT, O_VERSIONS, O_CAS, O_FALLBACK,
       O_FALLBACK_MAX_AGE, O_PRESERVE_ENV, O_WATCH, O_INTERVAL, O_SIGNAL };

int cmd_set(struct cli *c);
int cmd_get(struct cli *c);
int cmd_list(struct cli *c);
int cmd_rm(struct cli *c);
int cmd_restore(struct cli *c);
int cmd_purge(struct cli *c);
int cmd_history(struct cli *c);
int cmd_rollback(struct cli *c);
int cmd_rotate(struct cli *c);
int cmd_export(struct cli *c);
int cmd_import(struct cli *c);
int cmd_run(struct cli *c);
int cmd_diff(struct cli *c);
int cmd_copy(struct cli *c);
int cmd_rekey(struct cli *c);
int cmd_restore_env(struct cli *c);
int cmd_inject(struct cli *c);
int cmd_destroy(struct cli *c);

/* SIGINT and SIGTERM caught into batch_interrupted, for a batch's stop
 * (lib/batch.h), until released (batch.c). */
extern volatile sig_atomic_t batch_interrupted;
void catch_interrupts(struct sigaction old[2]);
void release_interrupts(const struct sigaction old[2]);

/* Resolves c->args[i] as a reference of the given depth. */
int secret_ref(struct cli *c, int i, int depth, struct vc_ref *ref);

/* A file written atomically with mode 0600 (export -O, inject -o): made
 * beside path before anything is read, renamed over it by atomic_commit,
 * both with the caller's own rights; atomic_abort drops it. */
struct atomic_out {
	char tmp[4096];
	int fd;
	const char *opt;        /* the option that named it, for messages */
};

int atomic_open(struct cli *c, const char *opt, const char *path,
		struct atomic_out *a);
int atomic_commit(struct cli *c, const char *path, struct atomic_out *a,
		  const char *data, size_t len);
void atomic_abort(struct atomic_out *a);

#endif
