/* inject.c - a template's references replaced by the values: the template
 * parsed whole first, then each environment it names read at once through
 * the bulk path, the output rendered, and only then the reads audited. */
#include "inject.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bulk.h"
#include "format.h"
#include "ref.h"

#define SCHEME "vaultctl://"

struct inj_ref {
	size_t start, end;      /* the reference's bytes in the template */
	size_t env;             /* index in inj.env */
	char name[256];
	char text[480];         /* ORG/PROJECT/ENV/NAME as written */
	enum vc_filter filter;
};

struct inj_env {
	char text[480];         /* ORG/PROJECT/ENV as written */
	struct vc_ref ref;
	struct vc_secret_set set;
};

struct inj {
	struct inj_ref *r;
	size_t nr, capr;
	struct inj_env *env;
	size_t nenv, capenv;
};

static void inj_free(struct inj *j)
{
	for (size_t i = 0; i < j->nenv; i++)
		vc_secret_set_free(&j->env[i].set);
	free(j->r);
	free(j->env);
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, (*cap ? *cap * 2 : 16) * size);
	if (!p)
		return -1;
	*v = p;
	*cap = *cap ? *cap * 2 : 16;
	return 0;
}

static size_t line_of(const char *t, size_t off)
{
	size_t n = 1;

	for (size_t i = 0; i < off; i++)
		n += t[i] == '\n';
	return n;
}

static size_t blanks(const char *t, size_t len, size_t i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i;
}

/* The environment of ORG/PROJECT/ENV (the first len bytes of text),
 * added when new; names are compared as the database does, case ignored. */
static int env_index(struct inj *j, const char *text, size_t len, size_t *out)
{
	for (size_t i = 0; i < j->nenv; i++)
		if (strlen(j->env[i].text) == len &&
		    !strncasecmp(j->env[i].text, text, len)) {
			*out = i;
			return 0;
		}
	if (grow((void **)&j->env, &j->capenv, j->nenv, sizeof(*j->env)) < 0)
		return -1;
	memset(&j->env[j->nenv], 0, sizeof(*j->env));
	memcpy(j->env[j->nenv].text, text, len);
	*out = j->nenv++;
	return 0;
}

/* Checks the ORG/PROJECT/ENV/NAME of r and files it under its env. */
static int ref_place(struct inj *j, struct inj_ref *r, size_t line,
		     struct vc_err *e)
{
	char parts[4][256];
	int n = 0;

	int rc = vc_ref_split(r->text, parts, &n, e);

	if (rc == 0 && n != 4)
		rc = vc_err_set(e, VC_EUSAGE, "a reference is "
				"ORG/PROJECT/ENV/NAME");
	if (rc == 0)
		rc = vc_secret_name_check(parts[3], e);
	if (rc < 0)
		return vc_err_prefix(e, "template line %zu: reference "
				     "'%.80s'", line, r->text);
	memcpy(r->name, parts[3], sizeof(r->name));
	if (env_index(j, r->text, strlen(r->text) - strlen(parts[3]) - 1,
		      &r->env) < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	return 0;
}

/* After "{{" and blanks at i: the reference up to its "}}".  *end is past
 * it. */
static int ref_parse(struct inj *j, const char *t, size_t len, size_t i,
		     struct inj_ref *r, size_t line, struct vc_err *e)
{
	size_t k = i, f;

	while (k < len && !strchr(" \t|}\n", t[k]))
		k++;
	if (k == i || k - i >= sizeof(r->text))
		return vc_err_set(e, VC_EUSAGE, "template line %zu: %s "
				  "reference", line, k == i ? "an empty" :
				  "an overlong");
	memcpy(r->text, t + i, k - i);
	r->text[k - i] = '\0';
	r->filter = VC_FILTER_RAW;
	k = blanks(t, len, k);
	if (k < len && t[k] == '|') {
		k = f = blanks(t, len, k + 1);
		while (k < len && !strchr(" \t}\n", t[k]))
			k++;
		if (vc_filter_parse(t + f, k - f, &r->filter) < 0)
			return vc_err_set(e, VC_EUSAGE, "template line %zu: "
					  "unknown filter '%.*s' (raw, json, "
					  "yaml or sh)", line,
					  (int)(k - f > 40 ? 40 : k - f), t + f);
		k = blanks(t, len, k);
	}
	if (k + 1 >= len || t[k] != '}' || t[k + 1] != '}')
		return vc_err_set(e, VC_EUSAGE, "template line %zu: reference "
				  "'%.80s' not closed by '}}'", line, r->text);
	r->end = k + 2;
	return ref_place(j, r, line, e);
}

/* Finds every reference; "{{" not followed by vaultctl:// is text. */
static int parse(struct inj *j, const char *t, size_t len, struct vc_err *e)
{
	const size_t sl = strlen(SCHEME);

	for (size_t i = 0; i + 1 < len; i++) {
		size_t k;

		if (t[i] != '{' || t[i + 1] != '{')
			continue;
		k = blanks(t, len, i + 2);
		if (len - k < sl || memcmp(t + k, SCHEME, sl))
			continue;
		if (grow((void **)&j->r, &j->capr, j->nr, sizeof(*j->r)) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		memset(&j->r[j->nr], 0, sizeof(*j->r));
		j->r[j->nr].start = i;
		if (ref_parse(j, t, len, k + sl, &j->r[j->nr], line_of(t, i),
			      e) < 0)
			return e->code;
		i = j->r[j->nr++].end - 1;
	}
	return 0;
}

/* Reads env's secrets that the template names, and only those. */
static int read_env(struct vc_session *s, struct inj *j, size_t k, int how,
		    int concurrency, struct vc_err *e)
{
	struct inj_env *env = &j->env[k];
	const char **only = calloc(j->nr + 1, sizeof(*only));
	struct vc_db *db;
	size_t n = 0;
	int rc = only ? vc_session_db(s, VC_DB_METADATA, &db, e) :
		 vc_err_set(e, VC_EFAIL, "out of memory");

	for (size_t i = 0; only && i < j->nr; i++)
		if (j->r[i].env == k)
			only[n++] = j->r[i].name;
	if (rc == 0)
		rc = vc_ref_resolve(s, db, env->text, 3, &env->ref, e);
	if (rc == 0)
		rc = vc_secret_read_env(s, &env->ref, only, how, concurrency,
					&env->set, e);
	free(only);
	if (rc < 0 && rc != VC_EFAIL)
		vc_err_prefix(e, "'%s'", env->text);
	return rc;
}

static const struct vc_secret_val *value_of(const struct inj *j,
					    const struct inj_ref *r)
{
	const struct vc_secret_set *set = &j->env[r->env].set;

	for (size_t i = 0; i < set->n; i++)
		if (!strcasecmp(set->v[i].name, r->name))
			return &set->v[i];
	return NULL;
}

static int render(const struct inj *j, const char *t, size_t len,
		  struct vc_buf *out, struct vc_err *e)
{
	size_t pos = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < j->nr; i++) {
		const struct inj_ref *r = &j->r[i];
		const struct vc_secret_val *v = value_of(j, r);

		if (!v)
			return vc_err_set(e, VC_ENOTFOUND, "secret '%s' not "
					  "found", r->text);
		if (vc_buf_add(out, t + pos, r->start - pos) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		rc = vc_filter_apply(r->filter, r->text, v->value.data,
				     v->value.len, out, e);
		pos = r->end;
	}
	if (rc == 0 && vc_buf_add(out, t + pos, len - pos) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	return rc;
}

static int audit(struct vc_session *s, struct inj *j, struct vc_err *e)
{
	int rc = 0;

	for (size_t k = 0; rc == 0 && k < j->nenv; k++)
		rc = vc_secret_audit_reads(s, &j->env[k].ref, &j->env[k].set,
					   e);
	return rc;
}

int vc_inject(struct vc_session *s, const char *tmpl, size_t len,
	      int concurrency, struct vc_buf *out, struct vc_err *e)
{
	struct inj j = { NULL, 0, 0, NULL, 0, 0 };
	struct vc_buf text;
	int rc, how = VC_READ_VALUES;

	vc_buf_init(&text, 1);
	tmpl = tmpl ? tmpl : "";
	rc = parse(&j, tmpl, len, e);
	/* One environment: its audit rows are written while the values are
	 * read, as export does.  With several, the metadata connection is
	 * needed between the reads. */
	if (j.nenv == 1)
		how |= VC_READ_AUDIT_EARLY;
	for (size_t k = 0; rc == 0 && k < j.nenv; k++)
		rc = read_env(s, &j, k, how, concurrency, e);
	if (rc == 0)
		rc = render(&j, tmpl, len, &text, e);
	if (rc == 0)
		rc = audit(s, &j, e);
	if (rc == 0 && text.len && vc_buf_add(out, text.data, text.len) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	vc_buf_release(&text);
	inj_free(&j);
	return rc;
}
