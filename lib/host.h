/* host.h - host mode: the tools installed setgid to a group that alone may
 * read the configuration and the keys, so that the people who run them
 * cannot read the credentials they use (doc/architecture.md, "Trust").
 *
 * A tool is in host mode when its effective group differs from its real
 * group.  Then the caller is identified by the login (real uid), the
 * environment is cut to an allow-list before any library reads it, the
 * files a user names are opened with the user's own rights, and a command
 * that `run` starts gets none of the group's rights.  Root is trusted in
 * both modes.
 */
#ifndef VC_HOST_H
#define VC_HOST_H

#include <stdio.h>
#include <sys/types.h>

#include "vc.h"

/* Once, first thing in main: notes the tools' group, and in host mode cuts
 * the environment of a caller who is not root to the allow-list.  Returns
 * 0, or VC_EPERM with e naming what the caller may not set in host mode
 * ($VAULTCTL_CONFIG, $VAULTCTL_DB_HOSTS). */
int vc_host_init(struct vc_err *e);
int vc_host_mode(void);         /* setgid and effective group != real group */
/* The environment the caller gave, before the cut: for the command that
 * `run` starts once the group is given up (environ when nothing was cut). */
char **vc_host_caller_env(void);
int vc_host_root(void);         /* the caller (real uid) is root */
/* The caller's login name (real uid), from /etc/passwd or NSS. */
int vc_host_login(char *out, size_t n, struct vc_err *e);

/* open(2)/fopen(3) with the caller's own rights: in host mode the
 * effective group is the real one during the call, so that a file the
 * group may write but the user may not stays out of reach. */
int vc_host_open(const char *path, int flags, mode_t mode);
FILE *vc_host_fopen(const char *path, const char *mode);
/* Runs fn(arg) with the caller's own rights (rename, mkstemp, history). */
int vc_host_as_user(int (*fn)(void *), void *arg);

/* For good: real, effective and saved group set to the caller's, before
 * exec of a command the caller chose. */
int vc_host_drop(struct vc_err *e);

#endif
