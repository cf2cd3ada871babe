/* config.h - where the tools find their settings (vaultctl.conf(5)).
 *
 * The configuration is a MariaDB option file: libmariadb itself reads the
 * connection settings of [client] and of each account's group
 * ([vaultctl-metadata], [vaultctl-values], [vaultctl-monitoring]); the
 * administrative account ([vaultctl-admin]) is in a file of its own,
 * named by admin_config.  Only the [vaultctl] group is read here, and an
 * unknown key or value there is an error.
 */
#ifndef VC_CONFIG_H
#define VC_CONFIG_H

#include <stddef.h>

#include "vault.h"
#include "vc.h"

struct vc_conf {
	char *path;             /* the option file */
	char *database;         /* default docksky_vault */
	char *backend;          /* "local" or "vault" */
	char *master_key_file;
	char *audit_key_file;
	char *admin_config;     /* option file of the administrative account */
	char *default_user;
	char *authenticate;     /* "password" or NULL */
	size_t max_value_size;  /* default 1 MiB */
	char *vault[13];        /* the vault_* keys, see vc_conf_vault() */
};

/* Picks the file: explicit (-c), else $VAULTCTL_CONFIG, else
 * $XDG_CONFIG_HOME/vaultctl/vaultctl.cnf (~/.config when unset), else
 * /etc/vaultctl/vaultctl.cnf.  Writes the path into out. */
int vc_conf_find(const char *explicit_path, char *out, size_t n,
		 struct vc_err *e);
/* Reads [vaultctl]; refuses a file readable or writable by group or
 * others, and (VC_EUSAGE) an unknown key or group, an invalid value or
 * the administrative account's group. */
int vc_conf_load(struct vc_conf *c, const char *path, struct vc_err *e);
void vc_conf_release(struct vc_conf *c);
/* Refuses (VC_EPERM) a file that group or others may read or write. */
struct stat;
/* Whether a file of credentials or keys is private enough: nobody but its
 * owner, and with group_read its group read-only when that group is the
 * one the tools run as (a shared host's 0640 root:vaultctl). */
int vc_conf_private_mode(const struct stat *st, int group_read);
/* Refuses the owner-only file (the administrative account) otherwise. */
int vc_conf_check_owner_only(const char *path, const char *what,
			     struct vc_err *e);
int vc_conf_check_private(const char *path, const char *what,
			  struct vc_err *e);
/* Fills the Vault store's settings from the configuration. */
void vc_conf_vault(const struct vc_conf *c, struct vc_vault_conf *v);

#endif
