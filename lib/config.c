/* config.c - the [vaultctl] group of the option file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

#ifndef VC_SYSCONFDIR
#define VC_SYSCONFDIR "/etc"
#endif
#define VC_CONF_SYSTEM VC_SYSCONFDIR "/vaultctl/vaultctl.cnf"

static const char *const vault_keys[13] = {
	"vault_addr", "vault_mount", "vault_namespace", "vault_token_file",
	"vault_approle_mount", "vault_role_id", "vault_role_id_file",
	"vault_secret_id_file", "vault_cacert", "vault_capath",
	"vault_client_cert", "vault_client_key", "vault_tls_server_name",
};

int vc_conf_find(const char *explicit_path, char *out, size_t n,
		 struct vc_err *e)
{
	const char *env = getenv("VAULTCTL_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	struct stat st;
	int len;

	/* On a shared host the tools' configuration is theirs: a caller's
	 * own file would name servers and accounts of the caller's choice
	 * while the tools hold the group's rights. */
	if (vc_host_mode() && !vc_host_root()) {
		if (explicit_path)
			return vc_err_set(e, VC_EPERM, "-c is for root only on "
					  "this host");
		len = snprintf(out, n, "%s", VC_CONF_SYSTEM);
	} else if (explicit_path && *explicit_path)
		len = snprintf(out, n, "%s", explicit_path);
	else if (env && *env)
		len = snprintf(out, n, "%s", env);
	else {
		if (xdg && *xdg)
			len = snprintf(out, n, "%s/vaultctl/vaultctl.cnf", xdg);
		else
			len = snprintf(out, n, "%s/.config/vaultctl/vaultctl.cnf",
				       home ? home : "");
		if (len > 0 && (size_t)len < n && stat(out, &st) == 0)
			return 0;
		len = snprintf(out, n, "%s", VC_CONF_SYSTEM);
	}
	if (len < 0 || (size_t)len >= n)
		return vc_err_set(e, VC_EUSAGE, "configuration path too long");
	return 0;
}

/* In host mode the tools' own files may also be read by their group
 * (sql/install.sh --group: 0640 root:G, the group the tools run as), but
 * never written by it, and never reached by others.  Elsewhere: 0600. */
int vc_conf_private_mode(const struct stat *st, int group_read)
{
	if (st->st_mode & 007)
		return 0;
	if (!(st->st_mode & 070))
		return 1;
	return group_read && vc_host_mode() && !(st->st_mode & 030) &&
	       st->st_gid == getegid();
}

static int check_mode(const char *path, const char *what, int group_read,
		      struct vc_err *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return vc_err_set(e, errno == ENOENT ? VC_ENOTFOUND : VC_EFAIL,
				  "cannot read %s '%s': %s", what, path,
				  strerror(errno));
	if (!vc_conf_private_mode(&st, group_read))
		return vc_err_set(e, VC_EPERM,
				  "%s '%s' has mode %04o; it must not be "
				  "readable by others%s (chmod %s '%s')", what,
				  path, (unsigned)(st.st_mode & 07777),
				  group_read && vc_host_mode() ? ", nor by a "
				  "group other than the tools' own" :
				  " or its group", "0600", path);
	return 0;
}

int vc_conf_check_private(const char *path, const char *what,
			  struct vc_err *e)
{
	return check_mode(path, what, 1, e);
}

int vc_conf_check_owner_only(const char *path, const char *what,
			     struct vc_err *e)
{
	return check_mode(path, what, 0, e);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	/* Option files allow quoting a value. */
	if (end - s >= 2 && (*s == '"' || *s == '\'') && end[-1] == *s) {
		end[-1] = '\0';
		s++;
	}
	return s;
}

/* What a [vaultctl] value must look like; a value that is not one is an
 * error, never a silent default (authenticate = Password must not turn
 * authentication off). */
enum kind { TEXT, DBNAME, BACKEND, AUTH };

static const struct key {
	const char *name;
	size_t off;
	enum kind kind;
} keys[] = {
	{ "database", offsetof(struct vc_conf, database), DBNAME },
	{ "backend", offsetof(struct vc_conf, backend), BACKEND },
	{ "master_key_file", offsetof(struct vc_conf, master_key_file), TEXT },
	{ "audit_key_file", offsetof(struct vc_conf, audit_key_file), TEXT },
	{ "admin_config", offsetof(struct vc_conf, admin_config), TEXT },
	{ "default_user", offsetof(struct vc_conf, default_user), TEXT },
	{ "authenticate", offsetof(struct vc_conf, authenticate), AUTH },
};

static char **slot(struct vc_conf *c, const char *name, enum kind *kind)
{
	*kind = TEXT;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(name, keys[i].name)) {
			*kind = keys[i].kind;
			return (char **)((char *)c + keys[i].off);
		}
	for (size_t i = 0; i < 13; i++)
		if (!strcmp(name, vault_keys[i]))
			return &c->vault[i];
	return NULL;
}

static int valid_dbname(const char *v)
{
	size_t n = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			  "0123456789_");

	return n > 0 && n <= 64 && !v[n];
}

/* NULL when val is valid for kind, else what it should be. */
static const char *check_value(enum kind kind, const char *val)
{
	switch (kind) {
	case DBNAME:
		return valid_dbname(val) ? NULL :
		       "1 to 64 letters, digits or underscores";
	case BACKEND:
		return !strcmp(val, "local") || !strcmp(val, "vault") ? NULL :
		       "local or vault";
	case AUTH:
		return !strcmp(val, "password") || !strcmp(val, "none") ? NULL :
		       "password or none";
	case TEXT:
		break;
	}
	return *val ? NULL : "not empty";
}

static int set_size(struct vc_conf *c, const char *val, int line,
		    struct vc_err *e)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(val, &end, 10);
	if (errno || *end || !isdigit((unsigned char)*val) || n == 0)
		return vc_err_set(e, VC_EUSAGE, "%s:%d: max_value_size must be "
				  "a positive number of bytes", c->path, line);
	c->max_value_size = (size_t)n;
	return 0;
}

static int set_key(struct vc_conf *c, const char *key, const char *val,
		   int line, struct vc_err *e)
{
	const char *want;
	enum kind kind;
	char **p;

	if (!strcmp(key, "max_value_size"))
		return set_size(c, val, line, e);
	p = slot(c, key, &kind);
	if (!p)
		return vc_err_set(e, VC_EUSAGE, "%s:%d: unknown key '%.64s' in "
				  "[vaultctl]", c->path, line, key);
	want = check_value(kind, val);
	if (want && kind == TEXT)
		return vc_err_set(e, VC_EUSAGE, "%s:%d: %s has no value",
				  c->path, line, key);
	if (want)
		return vc_err_set(e, VC_EUSAGE, "%s:%d: %s = '%.64s' is not "
				  "valid: it must be %s", c->path, line, key,
				  val, want);
	free(*p);
	*p = NULL;
	/* none is authenticate's default, spelled out */
	if (kind == AUTH && !strcmp(val, "none"))
		return 0;
	*p = strdup(val);
	return *p ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");
}

/* Enters the group named by a "[name]" line; sets *ours when it is
 * [vaultctl].  Groups of other programs are theirs; a [vaultctl-...] group
 * that is not an account of the tools is a typo or the administrative
 * account, which lives in admin_config's file, readable by root alone. */
static int enter_group(struct vc_conf *c, char *s, int line, int *ours,
		       struct vc_err *e)
{
	static const char *const accounts[] = {
		"vaultctl-metadata", "vaultctl-values", "vaultctl-monitoring",
	};
	char *end = strchr(s, ']'), *name;

	if (!end)
		return vc_err_set(e, VC_EUSAGE, "%s:%d: expected [group]",
				  c->path, line);
	*end = '\0';
	name = trim(s + 1);
	*ours = !strcmp(name, "vaultctl");
	if (*ours || strncmp(name, "vaultctl-", 9))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(accounts); i++)
		if (!strcmp(name, accounts[i]))
			return 0;
	if (!strcmp(name, "vaultctl-admin"))
		return vc_err_set(e, VC_EUSAGE, "%s:%d: the administrative "
				  "account does not belong in the tools' "
				  "configuration: move [vaultctl-admin] to a "
				  "file of its own, named by admin_config "
				  "(sql/install.sh does)", c->path, line);
	return vc_err_set(e, VC_EUSAGE, "%s:%d: unknown group [%.64s]",
			  c->path, line, name);
}

static int parse(struct vc_conf *c, FILE *f, struct vc_err *e)
{
	char line[4096], *s, *eq, *key;
	int in_group = 0, no = 0;

	while (fgets(line, sizeof(line), f)) {
		no++;
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (enter_group(c, s, no, &in_group, e) < 0)
				return e->code;
			continue;
		}
		if (!in_group)
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return vc_err_set(e, VC_EUSAGE, "%s:%d: expected key = value",
					  c->path, no);
		*eq = '\0';
		/* Option files spell a key with '-' or '_' alike. */
		key = trim(s);
		for (s = key; *s; s++)
			if (*s == '-')
				*s = '_';
		if (set_key(c, key, trim(eq + 1), no, e) < 0)
			return e->code;
	}
	return 0;
}

int vc_conf_load(struct vc_conf *c, const char *path, struct vc_err *e)
{
	FILE *f;
	int rc;

	memset(c, 0, sizeof(*c));
	c->max_value_size = 1024 * 1024;
	c->path = strdup(path);
	if (!c->path)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	rc = vc_conf_check_private(path, "configuration file", e);
	if (rc < 0) {
		if (rc == VC_ENOTFOUND)
			vc_err_set(e, VC_EUSAGE, "no configuration file '%.120s' "
				   "(run sql/install.sh, or use -c FILE or "
				   "$VAULTCTL_CONFIG)", path);
		return e->code;
	}
	f = fopen(path, "r");
	if (!f)
		return vc_err_set(e, VC_EFAIL, "cannot read configuration file "
				  "'%s': %s", path, strerror(errno));
	rc = parse(c, f, e);
	fclose(f);
	if (rc < 0)
		return rc;
	if (!c->database && !(c->database = strdup("docksky_vault")))
		return vc_err_set(e, VC_EFAIL, "out of memory");
	if (!c->backend && !(c->backend = strdup("local")))
		return vc_err_set(e, VC_EFAIL, "out of memory");
	return 0;
}

void vc_conf_release(struct vc_conf *c)
{
	free(c->path);
	free(c->database);
	free(c->backend);
	free(c->master_key_file);
	free(c->audit_key_file);
	free(c->admin_config);
	free(c->default_user);
	free(c->authenticate);
	for (size_t i = 0; i < 13; i++)
		free(c->vault[i]);
	memset(c, 0, sizeof(*c));
}

void vc_conf_vault(const struct vc_conf *c, struct vc_vault_conf *v)
{
	memset(v, 0, sizeof(*v));
	v->addr = c->vault[0];
	v->mount = c->vault[1];
	v->namespace_ = c->vault[2];
	v->token_file = c->vault[3];
	v->approle_mount = c->vault[4];
	v->role_id = c->vault[5];
	v->role_id_file = c->vault[6];
	v->secret_id_file = c->vault[7];
	v->cacert = c->vault[8];
	v->capath = c->vault[9];
	v->client_cert = c->vault[10];
	v->client_key = c->vault[11];
	v->tls_server_name = c->vault[12];
}
