/* runenv.c - the environment of `vaultctl-secret run`'s command.
 *
 * Anyone who may write a secret of an environment decides the value of a
 * variable in the process of whoever runs a command with it.  For most
 * names that is the point; for the few below it is the process itself:
 * they make the dynamic loader, the C library or a shell load or run
 * something, or look elsewhere for what it loads, before the command has
 * a say.  Those are refused unless the caller names them (--allow-name).
 */
#include "runenv.h"

#include "bulk.h"

#include <stdlib.h>
#include <string.h>

#include "secret.h"


/* The loader's LD_* (LD_PRELOAD, LD_AUDIT, LD_LIBRARY_PATH, ...), glibc's
 * malloc settings, and bash's exported functions (BASH_FUNC_name%%). */
static const char *const refused_prefix[] = { "LD_", "MALLOC_", "BASH_FUNC_" };

static const char *const refused_name[] = {
	/* What glibc drops for setuid programs (its unsecvars.h), but
	 * TMPDIR, which only says where temporary files go: modules it
	 * loads (GCONV_PATH), programs it runs (GETCONF_DIR), its tunables,
	 * where name resolution, locales, messages and time zones come
	 * from. */
	"GCONV_PATH", "GETCONF_DIR", "GLIBC_TUNABLES", "HOSTALIASES",
	"LOCALDOMAIN", "LOCPATH", "NIS_PATH", "NLSPATH", "RESOLV_HOST_CONF",
	"RES_OPTIONS", "TZDIR",
	/* Shells: a file run at start (bash, sh and dash, zsh's .zshenv),
	 * options that turn on tracing, the trace prompt that is expanded
	 * (command substitution included), word splitting. */
	"BASH_ENV", "ENV", "ZDOTDIR", "SHELLOPTS", "BASHOPTS", "PS4", "IFS",
};

/* The tools' own settings, which may name credentials: never passed on,
 * whatever the caller had (a secret of such a name is the secret's). */
static const char *const own_prefix[] = { "VAULT_", "VAULTCTL_" };

static int has_prefix(const char *s, const char *const *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(s, p[i], strlen(p[i])))
			return 1;
	return 0;
}

int vc_runenv_refused(const char *name)
{
	if (has_prefix(name, refused_prefix, ARRAY_SIZE(refused_prefix)))
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(refused_name); i++)
		if (!strcmp(name, refused_name[i]))
			return 1;
	return 0;
}

static int allowed(const char *name, const char *const *allow)
{
	for (; allow && *allow; allow++)
		if (!strcmp(name, *allow))
			return 1;
	return 0;
}

/* Every secret the command may not get, named in one message. */
static int check_names(const struct vc_secret_set *set,
		       const char *const *allow, struct vc_err *e)
{
	struct vc_buf bad = VC_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct vc_secret_val *v = &set->v[i];

		if (v->value.len && memchr(v->value.data, '\0', v->value.len))
			return vc_err_set(e, VC_EUSAGE, "secret '%s' holds a NUL "
					  "byte, which an environment variable "
					  "cannot carry", v->name);
		if (vc_runenv_refused(v->name) && !allowed(v->name, allow) &&
		    vc_buf_printf(&bad, "%s'%s'", bad.len ? ", " : "",
				  v->name) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
	}
	if (rc == 0 && bad.len)
		rc = vc_err_set(e, VC_EUSAGE, "secret %s: the dynamic loader, the "
				"C library or a shell acts on that name before "
				"the command does; refused (--allow-name NAME "
				"passes it on)", bad.data);
	vc_buf_release(&bad);
	return rc;
}

/* A variable's name: an entry's ("NAME=value") up to its '=', a secret's
 * whole.  Ordered as strcmp orders names. */
static int key_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ea = !*a || *a == '=', eb = !*b || *b == '=';

		if (ea || eb)
			return eb - ea;
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
	}
}

static int by_key(const void *a, const void *b)
{
	return key_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* v[0 .. n) sorted by name, to look many names up in: compared one by
 * one, forty variables and three hundred secrets were twelve thousand
 * comparisons, either way round (--preserve-env asks the caller's). */
static const char **sorted_keys(const char **v, size_t n)
{
	if (v)
		qsort(v, n, sizeof(*v), by_key);
	return v;
}

static const char **names_of(const struct vc_secret_set *set)
{
	const char **v = calloc(set->n + 1, sizeof(*v));

	for (size_t i = 0; v && i < set->n; i++)
		v[i] = set->v[i].name;
	return sorted_keys(v, set->n);
}

static const char **names_in(char *const *env, size_t n)
{
	const char **v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++)
		v[i] = env[i];
	return sorted_keys(v, n);
}

/* Whether key's name is one of keys[0 .. n) (sorted_keys). */
static int has_key(const char **keys, size_t n, const char *key)
{
	return n && bsearch(&key, keys, n, sizeof(*keys), by_key);
}

/* Whether the caller's entry "NAME=..." passes: not the tools' own, not
 * one a secret sets unless the caller's win (names: the secrets' names,
 * sorted). */
static int caller_passes(const char *entry, const char **names, size_t n,
			 int how)
{
	if (has_prefix(entry, own_prefix, ARRAY_SIZE(own_prefix)))
		return 0;
	return (how & VC_RUNENV_PRESERVE) || !has_key(names, n, entry);
}

static char *secret_entry(const struct vc_secret_val *v)
{
	size_t nl = strlen(v->name);
	char *s = malloc(nl + v->value.len + 2);

	if (!s)
		return NULL;
	memcpy(s, v->name, nl);
	s[nl] = '=';
	if (v->value.len)
		memcpy(s + nl + 1, v->value.data, v->value.len);
	s[nl + 1 + v->value.len] = '\0';
	return s;
}

int vc_runenv_build(struct vc_runenv *r, const struct vc_secret_set *set,
		    char *const *caller, int how,
		    const char *const *allow, struct vc_err *e)
{
	int pristine = how & VC_RUNENV_PRISTINE;
	const char **names;
	size_t nc = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = check_names(set, allow, e);
	if (rc < 0)
		return rc;
	while (!pristine && caller && caller[nc])
		nc++;
	r->env = calloc(nc + set->n + 1, sizeof(char *));
	names = r->env ? names_of(set) : NULL;
	if (!names) {
		free(r->env);
		r->env = NULL;
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < nc; i++)
		if (caller_passes(caller[i], names, set->n, how))
			r->env[r->n++] = caller[i];
	free(names);
	r->own = r->n;
	/* The caller's names, when theirs win. */
	names = how & VC_RUNENV_PRESERVE ? names_in(r->env, r->own) : NULL;
	if ((how & VC_RUNENV_PRESERVE) && !names) {
		vc_runenv_release(r);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < set->n; i++) {
		if (names && has_key(names, r->own, set->v[i].name))
			continue;
		r->env[r->n] = secret_entry(&set->v[i]);
		if (!r->env[r->n]) {
			free(names);
			vc_runenv_release(r);
			return vc_err_set(e, VC_EFAIL, "out of memory");
		}
		r->n++;
	}
	free(names);
	return 0;
}

void vc_runenv_release(struct vc_runenv *r)
{
	for (size_t i = r->own; r->env && i < r->n; i++)
		vc_free_secret(r->env[i], strlen(r->env[i]));
	free(r->env);
	memset(r, 0, sizeof(*r));
}
