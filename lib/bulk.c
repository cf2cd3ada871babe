/* bulk.c - reading a whole environment at once: one metadata query, the
 * store's bulk get with several requests in flight, one audit row
 * listing the reads. */
#include "bulk.h"
#include "secret.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "store.h"

static int early_finish(struct vc_audit_early *a, int commit,
			struct vc_err *e);

void vc_secret_set_free(struct vc_secret_set *set)
{
	if (set->early) {
		struct vc_err ignored;
		vc_err_clear(&ignored);
		early_finish(set->early, 0, &ignored);
		set->early = NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		vc_buf_release(&set->v[i].value);
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int wanted(const char *name, const char *const *only)
{
	if (!only)
		return 1;
	for (; *only; only++)
		if (!strcasecmp(*only, name))
			return 1;
	return 0;
}

static int check_only(const struct vc_secret_set *set,
		      const char *const *only, struct vc_err *e)
{
	for (; only && *only; only++) {
		size_t i;
		for (i = 0; i < set->n; i++)
			if (!strcasecmp(set->v[i].name, *only))
				break;
		if (i == set->n)
			return vc_err_set(e, VC_ENOTFOUND, "secret '%.80s' not found",
					  *only);
	}
	return 0;
}

/* Orders row numbers of a result by the name in their first column. */
static int by_name(const void *a, const void *b, void *res)
{
	const struct vc_res *r = res;

	return vc_secret_name_cmp(vc_res_get(r, *(const size_t *)a, 0, NULL),
				  vc_res_get(r, *(const size_t *)b, 0, NULL));
}

/* Copies the cell into out (n bytes), cut short if it is longer. */
static void cell_copy(char *out, size_t n, const struct vc_res *r, size_t row,
		      size_t col)
{
	size_t len = 0;
	const char *v = vc_res_get(r, row, col, &len);

	if (!v || len >= n)
		len = v ? n - 1 : 0;
	if (len)
		memcpy(out, v, len);
	out[len] = '\0';
}

/* The numbers of the rows of r of environment env (fourth column)
 * wanted, sorted by name. */
static size_t *sorted_rows(struct vc_res *r, const char *env,
			   const char *const *only, size_t *n)
{
	size_t *v = calloc(vc_res_rows(r) + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < vc_res_rows(r); i++) {
		const char *in = vc_res_get(r, i, 3, NULL);
		if (in && !strcmp(in, env) &&
		    wanted(vc_res_get(r, i, 0, NULL), only))
			v[(*n)++] = i;
	}
	if (v)
		qsort_r(v, *n, sizeof(*v), by_name, r);
	return v;
}

/* "... environment IN (?, ?, ...)..." for the n environments of refs. */
static int env_in_sql(struct vc_buf *sql, const char *head, const char *tail,
		      const struct vc_ref *refs, size_t n, struct vc_param **p,
		      struct vc_err *e)
{
	int rc = vc_buf_addstr(sql, head);

	*p = calloc(n, sizeof(**p));
	for (size_t j = 0; rc == 0 && *p && j < n; j++) {
		rc = vc_buf_addstr(sql, j ? ", ?" : "?");
		(*p)[j] = (struct vc_param){ .type = 's', .p = refs[j].env_id,
						.len = strlen(refs[j].env_id) };
	}
	if (rc == 0)
		rc = vc_buf_addstr(sql, tail);
	if (rc < 0 || !*p) {
		free(*p);
		*p = NULL;
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	return 0;
}

/* Environment ref's rows of r into out. */
static int take_names(struct vc_res *r, const struct vc_ref *ref,
		      const char *const *only, struct vc_secret_set *out,
		      struct vc_err *e)
{
	size_t n = 0, *rows = sorted_rows(r, ref->env_id, only, &n);

	out->v = rows ? calloc(n + 1, sizeof(*out->v)) : NULL;
	if (!out->v) {
		free(rows);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t k = 0; k < n; k++) {
		cell_copy(out->v[k].name, sizeof(out->v[k].name), r, rows[k], 0);
		cell_copy(out->v[k].id, sizeof(out->v[k].id), r, rows[k], 1);
		out->v[k].version = (int)vc_res_int(r, rows[k], 2);
		vc_buf_init(&out->v[k].value, 1);
	}
	out->n = n;
	free(rows);
	return 0;
}

/* The names of the n environments of refs into sets, in one query.
 * check: every name of only must be in each.  Sorted here, row numbers
 * not rows: the server's sort of a thousand names by collation costs
 * three times the rest of the query. */
static int load_names(struct vc_db *db, const struct vc_ref *refs, size_t n,
		      const char *const *only, int check,
		      struct vc_secret_set *sets, struct vc_err *e)
{
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_param *p = NULL;
	struct vc_res *r = NULL;
	int rc = env_in_sql(&sql, "SELECT name, id, version, environment FROM "
			    "secret_metadata WHERE deleted_at IS NULL AND "
			    "environment IN (", ")", refs, n, &p, e);

	if (rc == 0)
		rc = vc_db_queryv(db, &r, e, sql.data, p, n);
	vc_buf_release(&sql);
	free(p);
	for (size_t j = 0; rc == 0 && j < n; j++) {
		rc = take_names(r, &refs[j], only, &sets[j], e);
		if (rc == 0 && check)
			rc = check_only(&sets[j], only, e);
	}
	vc_res_free(r);
	return rc;
}

/* The store paths of set's secrets, each allocated once, into items and
 * paths from k on: a thousand formatted paths showed in an export's
 * profile, so the folder is made once and each name put after it. */
static int set_paths(const struct vc_ref *ref, const struct vc_secret_set *set,
		     struct vc_store_item *items, struct vc_buf *paths,
		     struct vc_err *e)
{
	struct vc_buf folder = VC_BUF_INIT;
	int rc = vc_store_path(&folder, ref->org_id, ref->project_id,
			       ref->env_id, "");

	for (size_t i = 0; rc == 0 && i < set->n; i++) {
		size_t len = strlen(set->v[i].name);
		if (vc_buf_grow(&paths[i], folder.len + len) < 0 ||
		    vc_buf_add(&paths[i], folder.data, folder.len) < 0 ||
		    vc_buf_add(&paths[i], set->v[i].name, len) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
		items[i].path = paths[i].data;
		vc_buf_init(&items[i].value, 1);
	}
	vc_buf_release(&folder);
	return rc;
}

/* Moves what the store gave for set (items from the first) into it. */
static int take_values(struct vc_secret_set *set, struct vc_store_item *items,
		       struct vc_err *e)
{
	for (size_t i = 0; i < set->n; i++) {
		if (items[i].rc < 0)
			return vc_err_set(e, items[i].rc, "secret '%s': %s",
					  set->v[i].name, items[i].err.msg);
		set->v[i].value = items[i].value;
		vc_buf_init(&items[i].value, 1);
		set->v[i].version = items[i].got.version;
	}
	return 0;
}

/* Every request of every environment in one call: the local store
 * reads their folders in one statement; Vault gets them in one flight,
 * concurrency for each environment (64 at most in all), so that several
 * environments take about as long as one. */
static int get_sets(struct vc_store *st, struct vc_store_item *items,
		    const struct vc_secret_set *sets, size_t n,
		    int concurrency, struct vc_err *e)
{
	size_t total = 0;

	for (size_t j = 0; j < n; j++)
		total += sets[j].n;
	if ((size_t)concurrency * n > 64)
		concurrency = 64;
	else
		concurrency *= (int)n;
	return st->ops->get_many(st, items, total, concurrency, e);
}

/* The values of the n sets (of refs), all asked together. */
static int fetch_many(struct vc_session *s, const struct vc_ref *refs,
		      struct vc_secret_set *sets, size_t n, int concurrency,
		      struct vc_err *e)
{
	size_t total = 0, k = 0;
	struct vc_store_item *items;
	struct vc_buf *paths;
	struct vc_store *st;
	int rc;

	for (size_t j = 0; j < n; j++)
		total += sets[j].n;
	items = calloc(total + 1, sizeof(*items));
	paths = calloc(total + 1, sizeof(*paths));
	rc = items && paths ? vc_session_store(s, &st, e) :
	     vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t j = 0; rc == 0 && j < n; k += sets[j++].n)
		rc = set_paths(&refs[j], &sets[j], items + k, paths + k, e);
	if (rc == 0 && total)
		rc = get_sets(st, items, sets, n, concurrency, e);
	k = 0;
	for (size_t j = 0; rc == 0 && j < n; k += sets[j++].n)
		rc = take_values(&sets[j], items + k, e);
	for (size_t i = 0; items && paths && i < total; i++) {
		vc_buf_release(&items[i].value);
		vc_buf_release(&paths[i]);
	}
	free(items);
	free(paths);
	return rc;
}

/* What the sets of refs read, for the audit: each secret and its
 * version now (the versions of a set being read may still change). */
struct alist {
	struct vc_audit_list *l;
	size_t n;
};

static void alist_free(struct alist *a)
{
	for (size_t j = 0; a->l && j < a->n; j++)
		free((void *)a->l[j].r);
	free(a->l);
	a->l = NULL;
}

static int alist_make(const struct vc_ref *refs,
		      const struct vc_secret_set *sets, size_t n,
		      struct alist *a, struct vc_err *e)
{
	a->n = n;
	a->l = calloc(n + 1, sizeof(*a->l));
	for (size_t j = 0; a->l && j < n; j++) {
		struct vc_audit_read *r = calloc(sets[j].n + 1, sizeof(*r));
		if (!r) {
			alist_free(a);
			break;
		}
		for (size_t i = 0; i < sets[j].n; i++)
			r[i] = (struct vc_audit_read){ sets[j].v[i].id,
						       sets[j].v[i].version };
		a->l[j] = (struct vc_audit_list){ refs[j].org_id,
			refs[j].env_id, r, sets[j].n };
	}
	return a->l ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");
}

struct audit_job {
	struct vc_session *s;
	const struct alist *a;
};

/* Retried whole on a concurrent change of a chain head (on Galera, a
 * write of the same head on another node). */
static int audit_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct audit_job *j = arg;

	return vc_audit_reads_many(j->s, db, j->a->l, j->a->n, e);
}

/* ---- the audit written while the values are read ----
 *
 * Writing an export's audit rows costs the server about as long as
 * reading its values and more than formatting them.  With the local
 * store (the same database: no lock is held while Vault is asked), a
 * thread writes the rows, with the versions the metadata names, while
 * the values are read, and waits: the command then commits them once
 * the values will be used, or the rows are rolled back (the read or the
 * format failed, or a value's version is not the one audited, which the
 * ordinary audit then records).  Nothing is committed that was not read
 * out, as before.  The chain head is held while the rest of the values
 * are read from the same database, which mostly ends before the INSERT
 * does: other writers of the organization wait about as long as before.
 * Several environments are one transaction, as without it.  Never with
 * Vault, which may be slow or away (doc/architecture.md, section 5). */
struct vc_audit_early {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int verdict;            /* 0 open, 1 commit, -1 roll back */
	int rc;                 /* the writer's, once joined */
	struct vc_err err;
	struct audit_job job;
	struct alist a;         /* with the versions audited */
	struct vc_db *db;
};

static int early_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct vc_audit_early *a = arg;
	int rc = audit_txn(db, &a->job, e), v;

	if (rc < 0)
		return rc;      /* rolled back; retried if it may be */
	pthread_mutex_lock(&a->mu);
	while (a->verdict == 0)
		pthread_cond_wait(&a->cv, &a->mu);
	v = a->verdict;
	pthread_mutex_unlock(&a->mu);
	return v > 0 ? 0 : vc_err_set(e, VC_EFAIL, "reads not used");
}

static void *early_main(void *arg)
{
	struct vc_audit_early *a = arg;

	a->rc = vc_db_txn(a->db, early_txn, a, &a->err);
	return NULL;
}

static void early_free(struct vc_audit_early *a)
{
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	alist_free(&a->a);
	free(a);
}

/* Starts the writer for the n sets of refs (the versions load_names
 * found), in *out. */
static int early_start(struct vc_session *s, const struct vc_ref *refs,
		       struct vc_db *db, const struct vc_secret_set *sets,
		       size_t n, struct vc_audit_early **out, struct vc_err *e)
{
	struct vc_audit_early *a = calloc(1, sizeof(*a));
	int rc = a ? alist_make(refs, sets, n, &a->a, e) :
		 vc_err_set(e, VC_EFAIL, "out of memory");

	if (rc < 0) {
		free(a);
		return rc;
	}
	a->job = (struct audit_job){ s, &a->a };
	a->db = db;
	vc_err_clear(&a->err);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	if (pthread_create(&a->th, NULL, early_main, a) != 0) {
		early_free(a);  /* the ordinary audit will do */
		return 0;
	}
	*out = a;
	return 0;
}

/* Tells the writer to commit or roll back, waits for it, and returns
 * its result (commit only: a roll-back always succeeds). */
static int early_finish(struct vc_audit_early *a, int commit,
			struct vc_err *e)
{
	int rc;

	pthread_mutex_lock(&a->mu);
	a->verdict = commit ? 1 : -1;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	rc = commit ? a->rc : 0;
	if (rc < 0)
		*e = a->err;
	early_free(a);
	return rc;
}

/* Whether the early rows say what was read: same versions. */
static int early_matches(const struct vc_audit_early *a,
			 const struct vc_secret_set *sets, size_t n)
{
	if (a->a.n != n)
		return 0;
	for (size_t j = 0; j < n; j++) {
		if (a->a.l[j].n != sets[j].n)
			return 0;
		for (size_t i = 0; i < sets[j].n; i++)
			if (a->a.l[j].r[i].version != sets[j].v[i].version)
				return 0;
	}
	return 1;
}

/* The reads of the n sets of refs audited, committed.  Rows written
 * early (*early) are committed if they name the versions read;
 * otherwise, and without early rows, they are written now: no lock is
 * held while Vault is read (doc/architecture.md, section 5). */
static int audit_sets(struct vc_session *s, const struct vc_ref *refs,
		      const struct vc_secret_set *sets, size_t n,
		      struct vc_audit_early **early, struct vc_err *e)
{
	struct alist a = { NULL, 0 };
	struct vc_db *db;
	size_t total = 0;
	int rc;

	if (*early) {
		struct vc_audit_early *w = *early;
		int same = early_matches(w, sets, n);
		*early = NULL;
		rc = early_finish(w, same, e);
		if (same)
			return rc;
	}
	for (size_t j = 0; j < n; j++)
		total += sets[j].n;
	if (total == 0)
		return 0;
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = alist_make(refs, sets, n, &a, e);
	if (rc == 0)
		rc = vc_db_txn(db, audit_txn, &(struct audit_job){ s, &a }, e);
	alist_free(&a);
	return rc;
}

/* Called by the command once it knows the values will be used (an
 * export refused by its format reads nothing out and audits nothing). */
int vc_secret_audit_reads(struct vc_session *s, const struct vc_ref *ref,
			  struct vc_secret_set *set, struct vc_err *e)
{
	return audit_sets(s, ref, set, 1, &set->early, e);
}

static int local_store(const struct vc_session *s)
{
	return s->conf_loaded && !strcmp(s->conf.backend, "local");
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Drops from each of the n sets the secrets that a later set has by the
 * same name (exactly, as the merge compares): their values would be
 * thrown away unused, so they are neither asked of the store nor
 * audited nor kept in a snapshot. */
static int drop_shadowed(struct vc_secret_set *sets, size_t n,
			 struct vc_err *e)
{
	size_t total = 0, k = 0;
	const char **later;

	for (size_t j = 0; j < n; j++)
		total += sets[j].n;
	later = calloc(total + 1, sizeof(*later));
	if (!later)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t j = n; j-- > 0;) {
		struct vc_secret_set *set = &sets[j];
		size_t kept = 0;

		qsort(later, k, sizeof(*later), by_str);
		for (size_t i = 0; i < set->n; i++) {
			const char *name = set->v[i].name;
			if (k && bsearch(&name, later, k, sizeof(*later), by_str))
				continue;       /* no value read yet: none to wipe */
			set->v[kept++] = set->v[i];
		}
		set->n = kept;
		for (size_t i = 0; i < kept; i++)
			later[k++] = set->v[i].name;
	}
	free(later);
	return 0;
}

/* The names of the n environments of refs (each one's right checked),
 * then, with values, every value in one flight, the audit rows written
 * meanwhile into *early when asked and the store is local. */
static int read_sets(struct vc_session *s, const struct vc_ref *refs,
		     size_t n, const char *const *only, int how, int check,
		     int concurrency, struct vc_secret_set *sets,
		     struct vc_audit_early **early, struct vc_err *e)
{
	int values = how & VC_READ_VALUES;
	size_t total = 0;
	struct vc_db *db;
	int rc = 0;

	for (size_t j = 0; rc == 0 && j < n; j++)
		rc = vc_secret_may(s, &refs[j], values ? VC_SECRET_READ :
				   VC_SECRET_LIST, e);
	if (rc == 0)
		rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = load_names(db, refs, n, only, check, sets, e);
	if (rc == 0 && n > 1 && !(how & VC_READ_OVERRIDDEN))
		rc = drop_shadowed(sets, n, e);
	for (size_t j = 0; rc == 0 && j < n; j++)
		total += sets[j].n;
	if (rc == 0 && values && (how & VC_READ_AUDIT_EARLY) && total &&
	    local_store(s))
		rc = early_start(s, refs, db, sets, n, early, e);
	if (rc == 0 && values)
		rc = fetch_many(s, refs, sets, n, concurrency, e);
	return rc;
}

int vc_secret_read_env(struct vc_session *s, const struct vc_ref *ref,
		       const char *const *only, int how, int concurrency,
		       struct vc_secret_set *out, struct vc_err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_sets(s, ref, 1, only, how, 1, concurrency, out, &out->early,
		       e);
	if (rc < 0)
		vc_secret_set_free(out);
	return rc;
}

/* ---- several environments ---- */

struct ranked {
	struct vc_secret_val *v;
	size_t env;
};

/* By name, and the same name by environment, the later last. */
static int by_name_env(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int c = vc_secret_name_cmp(x->v->name, y->v->name);

	if (c == 0)
		c = strcmp(x->v->name, y->v->name);
	if (c == 0)
		c = x->env < y->env ? -1 : x->env > y->env;
	return c;
}

/* The others stay in their sets, to be wiped with them.  Names are
 * compared exactly: they become variables and keys, where case counts. */
int vc_secret_envs_merge(struct vc_secret_envs *m, struct vc_err *e)
{
	size_t total = 0, k = 0;
	struct ranked *r;

	for (size_t j = 0; j < m->n; j++)
		total += m->sets[j].n;
	r = calloc(total + 1, sizeof(*r));
	m->merged.v = calloc(total + 1, sizeof(*m->merged.v));
	if (!r || !m->merged.v) {
		free(r);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t j = 0; j < m->n; j++)
		for (size_t i = 0; i < m->sets[j].n; i++)
			r[k++] = (struct ranked){ &m->sets[j].v[i], j };
	qsort(r, total, sizeof(*r), by_name_env);
	for (size_t i = 0; i < total; i++) {
		if (i + 1 < total && !strcmp(r[i].v->name, r[i + 1].v->name))
			continue;
		m->merged.v[m->merged.n++] = *r[i].v;
		vc_buf_init(&r[i].v->value, 1);
	}
	free(r);
	return 0;
}

/* Several environments go as one: one query of their names, their
 * values in one flight, their audit rows written meanwhile (local
 * store) in one transaction.  A name of only must be in one of them at
 * least (in each when there is one). */
int vc_secret_read_envs(struct vc_session *s, const struct vc_ref *refs,
			size_t n, const char *const *only, int how,
			int concurrency, struct vc_secret_envs *out,
			struct vc_err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->refs = refs;
	out->sets = calloc(n + 1, sizeof(*out->sets));
	if (!out->sets)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	out->n = n;
	rc = read_sets(s, refs, n, only, how | VC_READ_VALUES |
		       VC_READ_AUDIT_EARLY, n == 1, concurrency, out->sets,
		       &out->early, e);
	if (rc == 0)
		rc = vc_secret_envs_merge(out, e);
	if (rc == 0 && n > 1)
		rc = check_only(&out->merged, only, e);
	if (rc < 0)
		vc_secret_envs_free(out);
	return rc;
}

int vc_secret_audit_envs(struct vc_session *s, struct vc_secret_envs *m,
			 struct vc_err *e)
{
	return audit_sets(s, m->refs, m->sets, m->n, &m->early, e);
}

void vc_secret_envs_free(struct vc_secret_envs *m)
{
	if (m->early) {
		struct vc_err ignored;
		vc_err_clear(&ignored);
		early_finish(m->early, 0, &ignored);
	}
	for (size_t i = 0; m->sets && i < m->n; i++)
		vc_secret_set_free(&m->sets[i]);
	free(m->sets);
	vc_secret_set_free(&m->merged);
	memset(m, 0, sizeof(*m));
}

/* ---- what run --watch polls ---- */

int vc_secret_envs_stamp(struct vc_session *s, const struct vc_ref *refs,
			 size_t n, const char *const *only,
			 unsigned char stamp[VC_SECRET_STAMP_LEN],
			 struct vc_err *e)
{
	crypto_generichash_state st;
	struct vc_buf sql = VC_BUF_INIT;
	struct vc_param *p = NULL;
	struct vc_res *r = NULL;
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	if (rc == 0)
		rc = env_in_sql(&sql, "SELECT environment, name, version FROM "
				"secret_metadata WHERE deleted_at IS NULL AND "
				"environment IN (", ") ORDER BY environment, name",
				refs, n, &p, e);
	if (rc == 0)
		rc = vc_db_queryv(db, &r, e, sql.data, p, n);
	vc_buf_release(&sql);
	free(p);
	if (rc < 0)
		return rc;
	crypto_generichash_init(&st, NULL, 0, VC_SECRET_STAMP_LEN);
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		size_t len;
		const char *name = vc_res_get(r, i, 1, NULL);
		long long version = vc_res_int(r, i, 2);

		if (!name || !wanted(name, only))
			continue;
		/* Each string ended by its NUL: no two rows hash alike. */
		for (size_t col = 0; col < 2; col++) {
			const char *v = vc_res_get(r, i, col, &len);
			if (v)
				crypto_generichash_update(&st, (const unsigned
							  char *)v, len);
			crypto_generichash_update(&st, (const unsigned char *)"",
						  1);
		}
		crypto_generichash_update(&st, (const unsigned char *)&version,
					  sizeof(version));
	}
	crypto_generichash_final(&st, stamp, VC_SECRET_STAMP_LEN);
	vc_res_free(r);
	return 0;
}
