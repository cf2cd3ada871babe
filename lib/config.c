/* config.c - the [vaultctl] group of the option file. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

	if (explicit_path && *explicit_path)
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
		len = snprintf(out, n, "/etc/vaultctl/vaultctl.cnf");
	}
	if (len < 0 || (size_t)len >= n)
		return vc_err_set(e, VC_EUSAGE, "configuration path too long");
	return 0;
}

int vc_conf_check_private(const char *path, const char *what,
			  struct vc_err *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return vc_err_set(e, errno == ENOENT ? VC_ENOTFOUND : VC_EFAIL,
				  "cannot read %s '%s': %s", what, path,
				  strerror(errno));
	if (st.st_mode & 077)
		return vc_err_set(e, VC_EPERM,
				  "%s '%s' has mode %04o; it must not be "
				  "readable by group or others (chmod 600 '%s')",
				  what, path, (unsigned)(st.st_mode & 07777), path);
	return 0;
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

static char **slot(struct vc_conf *c, const char *key)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "database", offsetof(struct vc_conf, database) },
		{ "backend", offsetof(struct vc_conf, backend) },
		{ "master_key_file", offsetof(struct vc_conf, master_key_file) },
		{ "audit_key_file", offsetof(struct vc_conf, audit_key_file) },
		{ "default_user", offsetof(struct vc_conf, default_user) },
		{ "authenticate", offsetof(struct vc_conf, authenticate) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(key, keys[i].key))
			return (char **)((char *)c + keys[i].off);
	for (size_t i = 0; i < 13; i++)
		if (!strcmp(key, vault_keys[i]))
			return &c->vault[i];
	return NULL;
}

static int set_key(struct vc_conf *c, const char *key, const char *val,
		   int line, struct vc_err *e)
{
	char **p, *end;
	unsigned long long n;

	if (!strcmp(key, "max_value_size")) {
		errno = 0;
		n = strtoull(val, &end, 10);
		if (errno || *end || !*val || n == 0)
			return vc_err_set(e, VC_EUSAGE,
					  "%s:%d: max_value_size must be a "
					  "positive number of bytes", c->path, line);
		c->max_value_size = (size_t)n;
		return 0;
	}
	p = slot(c, key);
	if (!p)
		return 0;       /* unknown keys are left for newer versions */
	free(*p);
	*p = strdup(val);
	return *p ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");
}

static int parse(struct vc_conf *c, FILE *f, struct vc_err *e)
{
	char line[4096], *s, *eq;
	int in_group = 0, no = 0;

	while (fgets(line, sizeof(line), f)) {
		no++;
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			in_group = !strcmp(s, "[vaultctl]");
			continue;
		}
		if (!in_group)
			continue;
		eq = strchr(s, '=');
		if (!eq)
			return vc_err_set(e, VC_EUSAGE, "%s:%d: expected key = value",
					  c->path, no);
		*eq = '\0';
		if (set_key(c, trim(s), trim(eq + 1), no, e) < 0)
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
	if (strcmp(c->backend, "local") && strcmp(c->backend, "vault"))
		return vc_err_set(e, VC_EUSAGE, "%s: backend must be local or "
				  "vault, not '%s'", path, c->backend);
	return 0;
}

void vc_conf_release(struct vc_conf *c)
{
	free(c->path);
	free(c->database);
	free(c->backend);
	free(c->master_key_file);
	free(c->audit_key_file);
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
