/* ref.c - validation of names and resolution of references. */
#include "ref.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

static const char *const role_names[] = { "none", "viewer", "member",
					  "admin", "owner", "global admin" };

int vc_name_check(const char *kind, const char *s, struct vc_err *e)
{
	size_t n = strlen(s);

	if (n == 0)
		return vc_err_set(e, VC_EUSAGE, "%s name is empty", kind);
	if (n > 63)
		return vc_err_set(e, VC_EUSAGE, "%s name is longer than 63 "
				  "characters", kind);
	if (!isalnum((unsigned char)s[0]) || !isascii((unsigned char)s[0]))
		return vc_err_set(e, VC_EUSAGE, "invalid %s name: it must start "
				  "with a letter or digit", kind);
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isascii(c) || !(isalnum(c) || c == '.' || c == '_' ||
				     c == '-'))
			return vc_err_set(e, VC_EUSAGE, "invalid %s name: only "
					  "letters, digits, '.', '_' and '-' "
					  "are allowed", kind);
	}
	/* A reference part is a name or an id: a name of the form of an id
	 * could hide another object's id, or be hidden by it. */
	if (vc_is_uuid(s))
		return vc_err_set(e, VC_EUSAGE, "invalid %s name: it has the "
				  "form of a UUID, which names objects by id",
				  kind);
	return 0;
}

int vc_secret_name_check(const char *s, struct vc_err *e)
{
	size_t n = strlen(s);

	if (n == 0)
		return vc_err_set(e, VC_EUSAGE, "secret name is empty");
	if (n > 255)
		return vc_err_set(e, VC_EUSAGE, "secret name is longer than 255 "
				  "characters");
	if (!(isascii((unsigned char)s[0]) &&
	      (isalpha((unsigned char)s[0]) || s[0] == '_')))
		return vc_err_set(e, VC_EUSAGE, "invalid secret name: it must "
				  "start with a letter or '_'");
	for (size_t i = 1; i < n; i++)
		if (!isascii((unsigned char)s[i]) ||
		    !(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return vc_err_set(e, VC_EUSAGE, "invalid secret name: "
					  "only letters, digits and '_' are "
					  "allowed (it must work as an "
					  "environment variable name)");
	return 0;
}

/* A name character's place in utf8mb4_unicode_ci order: '_' before the
 * digits, the digits before the letters, case ignored. */
static int name_rank(unsigned char c)
{
	if (c == '_')
		return 0;
	if (isdigit(c))
		return 1 + (c - '0');
	if (isalpha(c))
		return 11 + (tolower(c) - 'a');
	return 64 + c;          /* not a valid name character */
}

int vc_secret_name_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; *p && *q; p++, q++) {
		int d;

		if (*p == *q)   /* most of two sorted names: no rank needed */
			continue;
		d = name_rank(*p) - name_rank(*q);
		if (d)
			return d;
	}
	if (*p || *q)
		return *p ? 1 : -1;
	return strcmp(a, b);    /* differ in case only: a fixed order */
}

int vc_email_check(const char *s, struct vc_err *e)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n == 0 || n > 254 || !at || at == s || strchr(at + 1, '@') ||
	    !strchr(at + 1, '.') || at[1] == '.' || s[n - 1] == '.')
		return vc_err_set(e, VC_EUSAGE, "invalid email address");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f ||
		    strchr("\"'<>()[]\\,;:", s[i]))
			return vc_err_set(e, VC_EUSAGE, "invalid email address");
	return 0;
}

int vc_is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int vc_role_parse(const char *s, enum vc_role *r, struct vc_err *e)
{
	for (int i = VC_ROLE_VIEWER; i <= VC_ROLE_OWNER; i++)
		if (!strcmp(s, role_names[i])) {
			*r = (enum vc_role)i;
			return 0;
		}
	return vc_err_set(e, VC_EUSAGE, "invalid role '%.64s' (use owner, admin, "
			  "member or viewer)", s);
}

const char *vc_role_name(enum vc_role r)
{
	return role_names[r];
}

int vc_ref_split(const char *text, char parts[4][256], int *n,
		 struct vc_err *e)
{
	static const char *const kinds[] = { "organization", "project",
					     "environment", "secret" };
	const char *p = text, *slash;
	size_t len;

	*n = 0;
	for (;;) {
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		/* The reference is not repeated in full: the caller's
		 * message names it, and a long one would push out the
		 * reason. */
		if (*n == 4)
			return vc_err_set(e, VC_EUSAGE, "reference '%.80s' has too "
					  "many parts (ORG/PROJECT/ENV/NAME)", text);
		if (len == 0)
			return vc_err_set(e, VC_EUSAGE, "reference '%.80s' has an "
					  "empty part", text);
		if (len > 255)
			return vc_err_set(e, VC_EUSAGE, "%s name is longer than %s "
					  "characters", kinds[*n], *n == 3 ?
					  "255" : "63");
		memcpy(parts[*n], p, len);
		parts[(*n)++][len] = '\0';
		if (!slash)
			return 0;
		/* One '/' may end a reference to an organization, project
		 * or environment: completion writes "acme/api/", and so do
		 * people.  Nothing is below a secret. */
		if (slash[1] == '\0' && *n == 4)
			return vc_err_set(e, VC_EUSAGE, "reference '%.80s' ends in "
					  "'/' after the secret name", text);
		if (slash[1] == '\0')
			return 0;
		p = slash + 1;
	}
}

static int check_parts(char parts[4][256], int n, struct vc_err *e)
{
	static const char *const kinds[] = { "organization", "project",
					     "environment" };
	int rc = 0;

	for (int i = 0; i < n && i < 3 && rc == 0; i++)
		if (!vc_is_uuid(parts[i]))
			rc = vc_name_check(kinds[i], parts[i], e);
	if (rc == 0 && n == 4)
		rc = vc_secret_name_check(parts[3], e);
	return rc;
}

/* A reference split and checked, to be looked up. */
struct parsed {
	char parts[4][256];
	int n;
};

static int not_found(const struct parsed *p, const struct vc_res *r,
		     size_t row, size_t rows, struct vc_err *e)
{
	static const char *const kinds[] = { "organization", "project",
					     "environment" };
	int level = 0;

	if (rows == 1)
		level = !vc_res_get(r, row, 2, NULL) ? 1 :
			!vc_res_get(r, row, 4, NULL) ? 2 : 3;
	if (level >= p->n || level > 2)
		return vc_err_set(e, VC_EFAIL, "cannot resolve reference");
	return vc_err_set(e, VC_ENOTFOUND, "%s '%s' not found", kinds[level],
			  p->parts[level]);
}

static void fill(struct vc_ref *ref, const struct vc_res *r, size_t row)
{
	const char *v;

	snprintf(ref->org_id, sizeof(ref->org_id), "%s",
		 vc_res_get(r, row, 0, NULL));
	snprintf(ref->org, sizeof(ref->org), "%s", vc_res_get(r, row, 1, NULL));
	if ((v = vc_res_get(r, row, 2, NULL)))
		snprintf(ref->project_id, sizeof(ref->project_id), "%s", v);
	if ((v = vc_res_get(r, row, 3, NULL)))
		snprintf(ref->project, sizeof(ref->project), "%s", v);
	if ((v = vc_res_get(r, row, 4, NULL)))
		snprintf(ref->env_id, sizeof(ref->env_id), "%s", v);
	if ((v = vc_res_get(r, row, 5, NULL)))
		snprintf(ref->env, sizeof(ref->env), "%s", v);
}

static enum vc_role role_of(const char *s)
{
	for (int i = VC_ROLE_VIEWER; s && i <= VC_ROLE_OWNER; i++)
		if (!strcmp(s, role_names[i]))
			return (enum vc_role)i;
	return VC_ROLE_NONE;
}

/* One query resolves every level by name or id, with the caller's role;
 * several references are its copies joined by UNION ALL, each row
 * saying whose it is (the last column). */
#define RESOLVE_PARAMS 9
static const char resolve_sql[] =
	"SELECT o.id, o.name, p.id, p.name, en.id, en.name, uo.role, "
	"IFNULL(en.max_versions, -1), %zu "
	"FROM organizations o "
	"LEFT JOIN projects p ON p.organization_id = o.id AND ? IS NOT NULL "
	"  AND (p.id = ? OR p.name = ?) "
	"LEFT JOIN environments en ON en.project_id = p.id AND ? IS NOT NULL "
	"  AND (en.id = ? OR en.name = ?) "
	"LEFT JOIN user_organizations uo ON uo.organization_id = o.id "
	"  AND uo.user_id = ? "
	"WHERE o.id = ? OR o.name = ?";

static int parse(const char *text, int depth, struct parsed *p,
		 struct vc_err *e)
{
	static const char *const want[] = { "", "ORG", "ORG/PROJECT",
					    "ORG/PROJECT/ENV",
					    "ORG/PROJECT/ENV/NAME" };
	int rc = vc_ref_split(text, p->parts, &p->n, e);

	if (rc == 0 && p->n != depth)
		rc = vc_err_set(e, VC_EUSAGE, "'%.100s' is not a reference of "
				"the form %s", text, want[depth]);
	if (rc == 0)
		rc = check_parts(p->parts, p->n, e);
	return rc;
}

/* p's parameters of the query, user the acting user's id. */
static void params_of(const struct parsed *p, const char *user,
		      struct vc_param *q)
{
	const char *pj = p->n > 1 ? p->parts[1] : NULL;
	const char *ev = p->n > 2 ? p->parts[2] : NULL;
	const char *v[RESOLVE_PARAMS] = { pj, pj, pj, ev, ev, ev, user,
					  p->parts[0], p->parts[0] };

	for (int i = 0; i < RESOLVE_PARAMS; i++)
		q[i] = (struct vc_param){ 's', v[i], v[i] ? strlen(v[i]) : 0,
					  0 };
}

/* ref from row of r, found for p. */
static void take_row(struct vc_session *s, const struct parsed *p,
		     const struct vc_res *r, size_t row, struct vc_ref *ref)
{
	int n = p->n;

	fill(ref, r, row);
	ref->role = vc_session_is_admin(s) ? VC_ROLE_GLOBAL_ADMIN :
		    role_of(vc_res_get(r, row, 6, NULL));
	/* A write applies it (lib/secret.c) without asking again. */
	if (n > 2) {
		ref->max_known = 1;
		ref->max_versions = (int)vc_res_int(r, row, 7);
	}
	ref->depth = n;
	if (n == 4)
		snprintf(ref->name, sizeof(ref->name), "%s", p->parts[3]);
	snprintf(ref->text, sizeof(ref->text), "%s%s%s%s%s%s%s", ref->org,
		 n > 1 ? "/" : "", n > 1 ? ref->project : "", n > 2 ? "/" : "",
		 n > 2 ? ref->env : "", n > 3 ? "/" : "", n > 3 ? ref->name : "");
}

/* ref from the rows of r that are reference k's. */
static int take(struct vc_session *s, const struct parsed *p,
		const struct vc_res *r, size_t k, struct vc_ref *ref,
		struct vc_err *e)
{
	size_t rows = 0, row = 0;
	int n = p->n;

	for (size_t i = 0; i < vc_res_rows(r); i++)
		if ((size_t)vc_res_int(r, i, 8) == k && rows++ == 0)
			row = i;
	memset(ref, 0, sizeof(*ref));
	if (rows != 1 || (n > 1 && !vc_res_get(r, row, 2, NULL)) ||
	    (n > 2 && !vc_res_get(r, row, 4, NULL)))
		return not_found(p, r, row, rows, e);
	take_row(s, p, r, row, ref);
	return 0;
}

/* ---- several environments of one project ----
 *
 * `run A/B/x A/B/y A/B/z` names one organization and project three
 * times: one join, the environments IN a list, resolves them all, where
 * the UNION ALL of three joins cost the server twice as long.  Column
 * 8 + j says whether a row is reference j's, compared by the server as
 * the general query compares (collation included).  Anything but one
 * organization, one project and one row for each reference (a name not
 * found, a name that is another's id) goes the general way, which
 * words the error.  At most SAME_MAX references: a result has 64
 * columns at most (lib/db.c), and this one 8 + one a reference. */
#define SAME_COLS 8
#define SAME_MAX 32

static int same_project(const struct parsed *p, size_t k)
{
	if (k < 2 || k > SAME_MAX)
		return 0;
	for (size_t j = 0; j < k; j++)
		if (p[j].n != 3 || strcmp(p[j].parts[0], p[0].parts[0]) ||
		    strcmp(p[j].parts[1], p[0].parts[1]))
			return 0;
	return 1;
}

/* The query of the k references of one project, its parameters in q
 * (5 + 4k of them). */
static int same_query(struct vc_session *s, const struct parsed *p, size_t k,
		      struct vc_buf *sql, struct vc_param *q, struct vc_err *e)
{
	const char *user = s->have_user ? s->user.id : "";
	size_t at = 0;
	int rc = vc_buf_addstr(sql, "SELECT o.id, o.name, p.id, p.name, en.id, "
			       "en.name, uo.role, IFNULL(en.max_versions, -1)");

#define PARAM(v) (q[at++] = (struct vc_param){ 's', (v), strlen(v), 0 })
	for (size_t j = 0; rc == 0 && j < k; j++) {
		rc = vc_buf_addstr(sql, ", en.id = ? OR en.name = ?");
		PARAM(p[j].parts[2]);
		PARAM(p[j].parts[2]);
	}
	if (rc == 0)
		rc = vc_buf_addstr(sql, " FROM organizations o LEFT JOIN "
				   "projects p ON p.organization_id = o.id AND "
				   "(p.id = ? OR p.name = ?) LEFT JOIN "
				   "environments en ON en.project_id = p.id AND "
				   "(en.id IN (");
	PARAM(p[0].parts[1]);
	PARAM(p[0].parts[1]);
	for (int pass = 0; pass < 2; pass++)
		for (size_t j = 0; rc == 0 && j < k; j++) {
			rc = vc_buf_addstr(sql, j ? ", ?" : pass ?
					   ") OR en.name IN (?" : "?");
			PARAM(p[j].parts[2]);
		}
	if (rc == 0)
		rc = vc_buf_addstr(sql, ")) LEFT JOIN user_organizations uo ON "
				   "uo.organization_id = o.id AND uo.user_id = "
				   "? WHERE o.id = ? OR o.name = ?");
	PARAM(user);
	PARAM(p[0].parts[0]);
	PARAM(p[0].parts[0]);
#undef PARAM
	return rc < 0 ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}

/* Row j's of r for each reference into row[j]; 0 unless there is
 * exactly one for each, all of one organization and project. */
static int same_rows(const struct vc_res *r, size_t k, size_t *row)
{
	const char *org = vc_res_get(r, 0, 0, NULL);
	const char *proj = vc_res_get(r, 0, 2, NULL);

	if (!org || !proj)
		return 0;
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		const char *o = vc_res_get(r, i, 0, NULL);
		const char *pj = vc_res_get(r, i, 2, NULL);
		if (!o || !pj || strcmp(o, org) || strcmp(pj, proj))
			return 0;
	}
	for (size_t j = 0; j < k; j++) {
		size_t found = 0;
		for (size_t i = 0; i < vc_res_rows(r); i++)
			if (vc_res_int(r, i, SAME_COLS + j) == 1 &&
			    vc_res_get(r, i, 4, NULL) && found++ == 0)
				row[j] = i;
		if (found != 1)
			return 0;
	}
	return 1;
}

/* The k references of p (one project's) into refs[at[j]]: 1 when done,
 * 0 when the general query must do it. */
static int same_resolve(struct vc_session *s, struct vc_db *db,
			const struct parsed *p, size_t k, const size_t *at,
			struct vc_ref *refs, struct vc_err *e)
{
	struct vc_param *q = calloc(5 + 4 * k, sizeof(*q));
	size_t *row = calloc(k, sizeof(*row));
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_res *r = NULL;
	int rc = q && row ? same_query(s, p, k, &sql, q, e) :
		 vc_err_set(e, VC_EFAIL, "out of memory");

	if (rc == 0)
		rc = vc_db_queryv(db, &r, e, sql.data, q, 5 + 4 * k);
	if (rc == 0 && vc_res_rows(r) && same_rows(r, k, row)) {
		for (size_t j = 0; j < k; j++) {
			memset(&refs[at[j]], 0, sizeof(refs[at[j]]));
			take_row(s, &p[j], r, row[j], &refs[at[j]]);
		}
		rc = 1;
	}
	vc_res_free(r);
	vc_buf_release(&sql);
	free(q);
	free(row);
	return rc;
}

/* The query of the k references of p, their parameters in q. */
static int resolve_query(struct vc_session *s, const struct parsed *p,
			 size_t k, struct vc_buf *sql, struct vc_param *q,
			 struct vc_err *e)
{
	const char *user = s->have_user ? s->user.id : "";
	char one[sizeof(resolve_sql) + 24];

	for (size_t j = 0; j < k; j++) {
		snprintf(one, sizeof(one), resolve_sql, j);
		if ((j && vc_buf_addstr(sql, " UNION ALL ") < 0) ||
		    vc_buf_addstr(sql, one) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		params_of(&p[j], user, q + j * RESOLVE_PARAMS);
	}
	return 0;
}

/* The n references of texts, of which those of refs with a depth are
 * resolved already, in one query. */
int vc_ref_resolve_many(struct vc_session *s, struct vc_db *db,
			const char *const *texts, int depth,
			struct vc_ref *refs, size_t n, struct vc_err *e)
{
	struct parsed *p = calloc(n + 1, sizeof(*p));
	struct vc_param *q = calloc(n * RESOLVE_PARAMS + 1, sizeof(*q));
	size_t *at = calloc(n + 1, sizeof(*at)), k = 0, bad = n;
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_res *r = NULL;
	int rc = p && q && at ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (refs[i].depth == 0) {
			at[k] = i;
			if ((rc = parse(texts[i], depth, &p[k++], e)) < 0 &&
			    n > 1)
				bad = i;
		}
	if (rc == 0 && same_project(p, k)) {
		rc = same_resolve(s, db, p, k, at, refs, e);
		if (rc == 1)
			rc = 0, k = 0;  /* all resolved */
	}
	if (rc == 0 && k)
		rc = resolve_query(s, p, k, &sql, q, e);
	if (rc == 0 && k)
		rc = vc_db_queryv(db, &r, e, sql.data, q, k * RESOLVE_PARAMS);
	for (size_t j = 0; rc == 0 && j < k; j++)
		if ((rc = take(s, &p[j], r, j, &refs[at[j]], e)) < 0 && n > 1)
			bad = at[j];
	/* Which of several references is wrong: the caller names one. */
	if (rc < 0 && bad < n)
		vc_err_prefix(e, "'%.200s'", texts[bad]);
	vc_res_free(r);
	vc_buf_release(&sql);
	free(p);
	free(q);
	free(at);
	return rc;
}

int vc_ref_resolve(struct vc_session *s, struct vc_db *db, const char *text,
		   int depth, struct vc_ref *ref, struct vc_err *e)
{
	memset(ref, 0, sizeof(*ref));
	return vc_ref_resolve_many(s, db, &text, depth, ref, 1, e);
}

int vc_ref_need(struct vc_session *s, const struct vc_ref *ref,
		enum vc_role min, const char *what, struct vc_err *e)
{
	if (ref->role >= min) {
		vc_audit_count_call(s, ref->org_id);
		return 0;
	}
	vc_audit_denied(s, ref, role_names[min]);
	if (ref->role == VC_ROLE_NONE)
		return vc_err_set(e, VC_EPERM, "permission denied: you are not a "
				  "member of organization '%s'", ref->org);
	return vc_err_set(e, VC_EPERM, "permission denied: %s needs the role "
			  "%s in organization '%s' (you are %s)", what,
			  role_names[min], ref->org, role_names[ref->role]);
}

int vc_ref_scope(struct vc_session *s, const char *org, enum vc_role min,
		 const char *what, struct vc_ref *ref, const char **org_id,
		 const char **member_id, struct vc_err *e)
{
	struct vc_db *db;
	int rc;

	*org_id = NULL;
	if (member_id)
		*member_id = NULL;
	if (!org && (!s->have_user || vc_session_is_admin(s)))
		return 0;
	if (!org && member_id) {
		*member_id = s->user.id;
		return 0;
	}
	if (!org && !vc_ref_need_admin(s, what, e))
		return 0;
	if (!org)
		return vc_err_set(e, VC_EPERM, "permission denied: %s of every "
				  "organization needs the global role admin "
				  "(name one with --org ORG)", what);
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_ref_resolve(s, db, org, 1, ref, e);
	if (rc == 0 && s->have_user)
		rc = vc_ref_need(s, ref, min, what, e);
	if (rc == 0)
		*org_id = ref->org_id;
	return rc;
}

/* ---- completion ---- */

/* Every statement takes the parts of the prefix, then the acting user's
 * global role and id: only what they may see is offered. */
#define MEMBER_OF " AND (? = 'admin' OR EXISTS (SELECT 1 FROM " \
	"user_organizations uo WHERE uo.organization_id = o.id AND " \
	"uo.user_id = ?))"
static const char *const complete_sql[] = {
	"SELECT o.name FROM organizations o WHERE 1" MEMBER_OF,
	"SELECT CONCAT(o.name, '/', p.name) FROM projects p JOIN "
	"organizations o ON o.id = p.organization_id WHERE o.name = ?"
	MEMBER_OF,
	"SELECT CONCAT(o.name, '/', p.name, '/', e.name) FROM "
	"environments e JOIN projects p ON p.id = e.project_id JOIN "
	"organizations o ON o.id = p.organization_id WHERE o.name = ? "
	"AND p.name = ?" MEMBER_OF,
	"SELECT CONCAT(o.name, '/', p.name, '/', e.name, '/', s.name) "
	"FROM secret_metadata s JOIN environments e ON e.id = "
	"s.environment JOIN projects p ON p.id = e.project_id JOIN "
	"organizations o ON o.id = p.organization_id WHERE o.name = ? "
	"AND p.name = ? AND e.name = ? AND s.deleted_at IS NULL" MEMBER_OF,
};

static struct vc_param text_param(const char *s)
{
	return (struct vc_param){ 's', s, strlen(s), 0 };
}

int vc_ref_complete(struct vc_session *s, const char *prefix,
		    struct vc_res **out, int *depth, struct vc_err *e)
{
	char parts[3][256];
	struct vc_param p[5];
	const char *at = prefix;
	struct vc_db *db;
	int n = 0, rc;

	for (; n < 3; n++) {
		const char *slash = strchr(at, '/');
		if (!slash || slash - at > 255)
			break;
		memcpy(parts[n], at, (size_t)(slash - at));
		parts[n][slash - at] = '\0';
		p[n] = text_param(parts[n]);
		at = slash + 1;
	}
	p[n] = text_param(s->have_user ? s->user.role : "");
	p[n + 1] = text_param(s->have_user ? s->user.id : "");
	*depth = n;
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_queryv(db, out, e, complete_sql[n], p,
					  (size_t)n + 2);
}

int vc_ref_need_admin(struct vc_session *s, const char *why,
		      struct vc_err *e)
{
	if (vc_session_is_admin(s))
		return 0;
	vc_audit_denied(s, NULL, "global admin");
	return vc_err_set(e, VC_EPERM, "permission denied: %s", why);
}
