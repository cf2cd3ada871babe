/* runenv.h - the environment `vaultctl-secret run` hands its command:
 * the secrets over the caller's variables, without what would let a
 * secret's writer run code in the command before it has a say, and
 * without the tools' own settings. */
#ifndef VC_RUNENV_H
#define VC_RUNENV_H

#include <stddef.h>

#include "vc.h"

struct vc_secret_set;           /* secret.h */

struct vc_runenv {
	char **env;             /* NULL-terminated, for execve */
	size_t n;
	size_t own;             /* env[own..n) are ours: they hold values */
};

/* Whether the dynamic loader, the C library or a shell acts on a variable
 * of this name at start-up (LD_PRELOAD, BASH_ENV, BASH_FUNC_x%%, ...). */
int vc_runenv_refused(const char *name);

/* How vc_runenv_build treats the caller's variables (flags). */
enum {
	VC_RUNENV_PRISTINE = 1, /* none of them */
	VC_RUNENV_PRESERVE = 2, /* theirs win over a secret of the same name */
};

/* Builds r->env from the secrets of set over caller (the environment
 * the tool got), as how (VC_RUNENV_*, or 0: the secrets win).  The caller's VAULT_* and VAULTCTL_*
 * never pass.  A secret whose name vc_runenv_refused() is refused by name
 * (VC_EUSAGE) unless allow (NULL-terminated, or NULL) names it exactly,
 * and so is a value with a NUL byte.  Nothing is built on failure. */
int vc_runenv_build(struct vc_runenv *r, const struct vc_secret_set *set,
		    char *const *caller, int how,
		    const char *const *allow, struct vc_err *e);
/* Wipes and frees the values; the caller's strings are left alone. */
void vc_runenv_release(struct vc_runenv *r);

#endif
