/* fallback.c - the offline snapshot of run and export (fallback.h): when
 * it may stand in, serving it, recording and auditing what it served.
 * The file itself is fallback_file.c's.
 *
 * One snapshot for the whole set of environments a command names, not one
 * per environment: the command gives one FILE, the environments are
 * replaced together (a reader never gets one environment from today and
 * another from last week, a mix that no online read gave), and serving
 * them takes one open and one decryption.  Each environment's secrets are
 * kept apart, the ones a later environment overrides too, so that the
 * merge is redone by the function that merges online
 * (vc_secret_envs_merge), in the order the environments are asked.
 */
#include "fallback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "fallback_int.h"
#include "host.h"

/* Who asks, as far as can be told without the database: the real uid,
 * its login, and the name given (--as, $VAULTCTL_USER, default_user;
 * "" for the user bound to the login). */
static void who_asks(struct vc_session *s, const char *as, long long *uid,
		     char login[65], char asked[256])
{
	const char *env = getenv("VAULTCTL_USER");
	const char *who = as ? as : env && *env ? env :
			  vc_host_mode() ? NULL : s->conf.default_user;
	struct vc_err ignored;

	*uid = (long long)getuid();
	if (vc_host_login(login, 65, &ignored) < 0)
		snprintf(login, 65, "#%lld", *uid);
	snprintf(asked, 256, "%s", who ? who : "");
}

/* ---- the options ---- */

int vc_fallback_age_parse(const char *s, long long *out, struct vc_err *e)
{
	static const char units[] = "smhdw";
	static const long long mult[] = { 1, 60, 3600, 86400, 604800 };
	char *end = NULL;
	long long n;
	const char *u;

	errno = 0;
	n = s && *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : -1;
	u = end && *end ? strchr(units, *end) : units;
	if (n < 1 || errno || !u || (end && *end && end[1]) ||
	    n > 315360000LL / mult[u - units])
		return vc_err_set(e, VC_EUSAGE, "--fallback-max-age: '%.40s' is "
				  "not a duration from 1s to 10 years (90s, "
				  "30m, 24h, 7d, 2w)", s ? s : "");
	*out = n * mult[u - units];
	return 0;
}

static int dir_writable(void *arg)
{
	return access(arg, W_OK | X_OK);
}

int vc_fallback_check_path(const char *path, struct vc_err *e)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!*path || (slash && !slash[1]))
		return vc_err_set(e, VC_EUSAGE, "--fallback needs a file name");
	if (snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) +
		     (slash == path) : 1, slash ? path : ".") >= (int)sizeof(dir))
		return vc_err_set(e, VC_EUSAGE, "--fallback: path too long");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vc_err_set(e, VC_EUSAGE, "--fallback: no directory '%s' "
				  "for the snapshot", dir);
	if (vc_host_as_user(dir_writable, dir) < 0)
		return vc_err_set(e, VC_EPERM, "--fallback: cannot write in '%s': "
				  "%s", dir, strerror(errno));
	return 0;
}

/* ---- whether the snapshot may stand for this read ---- */

/* Whether the text asked names the environment se: each part its name
 * (case ignored, as names compare) or its id. */
static int env_is(const char *text, const struct snap_env *se)
{
	const char *name[3] = { se->org, se->project, se->env };
	const char *id[3] = { se->org_id, se->project_id, se->env_id };
	char parts[4][256];
	struct vc_err ignored;
	int n = 0;

	if (vc_ref_split(text, parts, &n, &ignored) < 0 || n != 3)
		return 0;
	for (int i = 0; i < 3; i++)
		if (strcasecmp(parts[i], name[i]) &&
		    !(vc_is_uuid(parts[i]) && !strcasecmp(parts[i], id[i])))
			return 0;
	return 1;
}

static void env_list(struct vc_buf *b, const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vc_buf_printf(b, "%s'%.200s'", i ? ", " : "", texts[i]);
}

/* order[i]: the snapshot's environment that stands for texts[i]; the
 * same set, in any order, or a refusal naming both. */
static int match_envs(const struct vc_fallback_snap *sn, const char *path,
		      const char *const *texts, size_t n, size_t *order,
		      struct vc_err *e)
{
	struct vc_buf held = VC_BUF_INIT, asked = VC_BUF_INIT;
	unsigned char *taken = calloc(sn->nenv + 1, 1);
	size_t i, j = 0;
	const char **names;

	for (i = 0; taken && n == sn->nenv && i < n; i++) {
		for (j = 0; j < sn->nenv; j++)
			if (!taken[j] && env_is(texts[i], &sn->env[j]))
				break;
		if (j == sn->nenv)
			break;
		taken[j] = 1;
		order[i] = j;
	}
	free(taken);
	/* n of them, each a different one of the n held: all of them. */
	if (n == sn->nenv && i == n)
		return 0;
	names = calloc(sn->nenv + 1, sizeof(*names));
	for (j = 0; names && j < sn->nenv; j++)
		names[j] = sn->env[j].name;
	if (names)
		env_list(&held, names, sn->nenv);
	env_list(&asked, texts, n);
	vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' holds %s, not %s: not used",
		   path, held.data ? held.data : "?",
		   asked.data ? asked.data : "?");
	free(names);
	vc_buf_release(&held);
	vc_buf_release(&asked);
	return VC_EUNAVAIL;
}

/* Why the snapshot may not stand for this read; 0 when it may. */
static int snap_refuses(struct vc_session *s, const struct vc_fallback *fb,
			const struct vc_fallback_snap *sn,
			const char *const *texts, size_t n, size_t *order,
			struct vc_err *e)
{
	char login[65], asked[256];
	long long uid, age = (long long)time(NULL) - sn->created;

	who_asks(s, fb->as, &uid, login, asked);
	/* With the database up (Vault away) the acting user is known, and
	 * proved; without it, a password cannot be checked at all. */
	if (!s->have_user && s->conf.authenticate &&
	    !strcmp(s->conf.authenticate, "password"))
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' not used: "
				  "without the database no password can be "
				  "checked", fb->path);
	if (uid != sn->uid || strcmp(login, sn->login) ||
	    (s->have_user ? strcmp(s->user.id, sn->user_id) :
	     strcasecmp(asked, sn->asked)))
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' was taken for "
				  "another user: not used", fb->path);
	if (match_envs(sn, fb->path, texts, n, order, e) < 0)
		return VC_EUNAVAIL;
	if (fb->max_age >= 0 && age > fb->max_age)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' is %llds old, "
				  "older than --fallback-max-age (%llds): not "
				  "used", fb->path, age, fb->max_age);
	return 0;
}

static int in_only(const char *name, const char *const *only)
{
	if (!only)
		return 1;
	for (; *only; only++)
		if (!strcasecmp(name, *only))
			return 1;
	return 0;
}

static int snap_names(const struct vc_fallback_snap *sn, const char *name)
{
	for (size_t j = 0; j < sn->nenv; j++)
		for (size_t i = 0; i < sn->env[j].set.n; i++)
			if (!strcasecmp(sn->env[j].set.v[i].name, name))
				return 1;
	return 0;
}

/* Every name of only in one environment of the snapshot at least, as
 * online; a snapshot of some names serves only reads of some names. */
static int snap_has(const struct vc_fallback_snap *sn, const char *path,
		    const char *const *only, struct vc_err *e)
{
	if (!only && sn->only)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' holds only %s, "
				  "not whole environments: not used", path,
				  sn->only);
	for (; only && *only; only++)
		if (!snap_names(sn, *only))
			return vc_err_set(e, VC_EUNAVAIL, "secret '%.80s' is not "
					  "in snapshot '%s': not used", *only,
					  path);
	return 0;
}

/* ---- serving ---- */

/* Whether the read served offline at p gave secret k of the snapshot
 * (its bits after its time). */
static int rec_has(const unsigned char *p, size_t k)
{
	return p[8 + k / 8] >> k % 8 & 1;
}

static void rec_set(unsigned char *p, size_t k)
{
	p[8 + k / 8] |= (unsigned char)(1u << k % 8);
}

/* ref as the snapshot names it, left unresolved (depth 0, no role): the
 * database resolves it once it answers (run --watch). */
static void ref_from(const struct snap_env *se, struct vc_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	snprintf(ref->org_id, sizeof(ref->org_id), "%s", se->org_id);
	snprintf(ref->project_id, sizeof(ref->project_id), "%s", se->project_id);
	snprintf(ref->env_id, sizeof(ref->env_id), "%s", se->env_id);
	snprintf(ref->org, sizeof(ref->org), "%s", se->org);
	snprintf(ref->project, sizeof(ref->project), "%s", se->project);
	snprintf(ref->env, sizeof(ref->env), "%s", se->env);
	snprintf(ref->text, sizeof(ref->text), "%s", se->name);
}

/* Copies into out the secrets of se that only asks for, marking them in
 * the record of this run (se's first secret is the snapshot's first). */
static int take_set(struct vc_fallback_snap *sn, const struct snap_env *se,
		    size_t first, const char *const *only,
		    struct vc_secret_set *out)
{
	out->v = calloc(se->set.n + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (size_t i = 0; i < se->set.n; i++) {
		struct vc_secret_val *v = &out->v[out->n];
		if (!in_only(se->set.v[i].name, only))
			continue;
		*v = se->set.v[i];
		vc_buf_init(&v->value, 1);
		out->n++;
		if (vc_buf_add(&v->value, se->set.v[i].value.data ?
			       se->set.v[i].value.data : "",
			       se->set.v[i].value.len) < 0)
			return -1;
		rec_set(sn->served, first + i);
	}
	return 0;
}

/* m from the snapshot: texts[i]'s environment is order[i]'s. */
static int take_envs(struct vc_fallback_snap *sn, const size_t *order,
		     size_t n, const char *const *only, struct vc_ref *refs,
		     struct vc_secret_envs *m, struct vc_err *e)
{
	size_t *first = calloc(sn->nenv + 1, sizeof(*first));
	int rc = 0;

	m->refs = refs;
	m->sets = calloc(n + 1, sizeof(*m->sets));
	sn->served = calloc(snap_rec_len(sn), 1);
	if (!first || !m->sets || !sn->served)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	else
		m->n = n;
	for (size_t j = 1; rc == 0 && j <= sn->nenv; j++)
		first[j] = first[j - 1] + sn->env[j - 1].set.n;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		ref_from(&sn->env[order[i]], &refs[i]);
		if (take_set(sn, &sn->env[order[i]], first[order[i]], only,
			     &m->sets[i]) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
	}
	free(first);
	return rc == 0 ? vc_secret_envs_merge(m, e) : rc;
}

static int serve(struct vc_session *s, struct vc_fallback *fb,
		 const char *const *texts, struct vc_ref *refs, size_t n,
		 const char *const *only, struct vc_secret_envs *m,
		 struct vc_err *e)
{
	struct vc_err why, was = *e;    /* the outage, said first */
	struct vc_fallback_snap *sn = calloc(1, sizeof(*sn));
	size_t *order = calloc(n + 1, sizeof(*order));
	int rc;

	vc_err_clear(&why);
	rc = sn && order ? 0 : vc_err_set(&why, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = snap_load(s, fb->path, sn, &why);
	if (rc == 0)
		rc = snap_refuses(s, fb, sn, texts, n, order, &why);
	if (rc == 0)
		rc = snap_has(sn, fb->path, only, &why);
	if (rc == 0)
		rc = take_envs(sn, order, n, only, refs, m, &why);
	free(order);
	if (rc < 0) {
		vc_secret_envs_free(m);
		if (sn)
			snap_free(sn);
		free(sn);
		return vc_err_set(e, rc == VC_EFAIL ? rc : VC_EUNAVAIL,
				  "%s; and %s", was.msg, why.msg);
	}
	fb->snap = sn;
	fb->offline = 1;
	fb->age = (long long)time(NULL) - sn->created;
	if (s->notify) {
		char note[sizeof(was.msg) + 4200];
		snprintf(note, sizeof(note), "warning: %s; using snapshot '%s' "
			 "taken %llds ago", was.msg, fb->path, fb->age);
		s->notify(s->notify_ctx, note);
	}
	return 0;
}

int vc_fallback_resolve(struct vc_session *s, const struct vc_fallback *fb,
			const char *const *texts, struct vc_ref *refs, size_t n,
			struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	if (rc == 0 && !s->have_user) {
		rc = vc_session_actor(s, fb ? fb->as : NULL, 0, e);
		/* A password is asked for at the start, on the terminal the
		 * command may have had; not later (no snapshot serves
		 * without it either). */
		if (rc == 0 && vc_session_wants_password(s)) {
			s->have_user = 0;
			rc = vc_err_set(e, VC_EPERM, "no password was checked at "
					"the start (the database was "
					"unavailable)");
		}
	}
	if (rc == 0)
		rc = vc_ref_resolve_many(s, db, texts, 3, refs, n, e);
	return rc;
}

int vc_fallback_how(const struct vc_fallback *fb)
{
	return fb && fb->path ? VC_READ_OVERRIDDEN : 0;
}

int vc_fallback_read(struct vc_session *s, struct vc_fallback *fb,
		     const char *const *texts, struct vc_ref *refs, size_t n,
		     const char *const *only, int concurrency, int cause,
		     struct vc_secret_envs *m, struct vc_err *e)
{
	int rc = cause;

	memset(m, 0, sizeof(*m));
	if (fb)
		fb->offline = 0;
	if (rc == 0)
		rc = vc_fallback_resolve(s, fb, texts, refs, n, e);
	/* export and run use nothing else of the database until they audit
	 * or drop the sets: the rows may be written while the values are
	 * read. */
	if (rc == 0)
		rc = vc_secret_read_envs(s, refs, n, only, vc_fallback_how(fb),
					 concurrency, m, e);
	if (rc != VC_EUNAVAIL || !fb || !fb->path)
		return rc;
	for (size_t i = 0; i < n; i++)
		refs[i].depth = 0;
	return serve(s, fb, texts, refs, n, only, m, e);
}

/* ---- recording and auditing ---- */

static long long rec_time(const unsigned char *p)
{
	unsigned long long t = 0;

	for (int k = 0; k < 8; k++)
		t = t << 8 | p[k];
	return (long long)t;
}

struct pend_job {
	struct vc_session *s;
	const struct vc_fallback_snap *sn;
	struct vc_audit_ev *ev;
	size_t *start;          /* environment j's events: start[j].. */
};

/* A write per environment, each naming its own organization's chain, a
 * thousand rows at most: a week offline is many reads. */
static int audit_pending_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct pend_job *j = arg;
	int rc = 0;

	for (size_t k = 0; k < j->sn->nenv; k++)
		for (size_t i = j->start[k]; rc == 0 && i < j->start[k + 1];
		     i += 1000) {
			size_t n = j->start[k + 1] - i;
			rc = vc_audit_write(j->s, db, j->ev + i,
					    n < 1000 ? n : 1000, e);
		}
	return rc;
}

static size_t pending_count(const struct vc_fallback_snap *sn)
{
	size_t n = 0;

	for (size_t r = 0; r < sn->npend; r++)
		for (size_t k = 0; k < sn->total; k++)
			n += (size_t)rec_has(sn->pend + r * snap_rec_len(sn), k);
	return n;
}

/* The events of the pending reads, environment by environment; det
 * holds their details. */
static void pending_events(const struct vc_fallback_snap *sn,
			   struct vc_audit_ev *ev, char (*det)[96],
			   size_t *start)
{
	size_t n = 0, first = 0;

	for (size_t j = 0; j < sn->nenv; first += sn->env[j++].set.n) {
		start[j] = n;
		for (size_t r = 0; r < sn->npend; r++) {
			const unsigned char *p = sn->pend + r * snap_rec_len(sn);
			const struct vc_secret_set *set = &sn->env[j].set;
			time_t t = (time_t)rec_time(p);
			struct tm tm;
			char at[20];
			gmtime_r(&t, &tm);
			strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
			for (size_t i = 0; i < set->n; i++) {
				if (!rec_has(p, first + i))
					continue;
				snprintf(det[n], sizeof(det[n]), "{\"version\":%d,"
					 "\"offline\":true,\"at\":\"%s\"}",
					 set->v[i].version, at);
				ev[n] = (struct vc_audit_ev){ sn->env[j].org_id,
					"secret.read", "secret", set->v[i].id,
					det[n] };
				n++;
			}
		}
	}
	start[sn->nenv] = n;
}

/* Writes the events of the pending reads of sn, as the user they were
 * served to. */
static int audit_snap(struct vc_session *s, const struct vc_fallback_snap *sn,
		      struct vc_err *e)
{
	size_t n = pending_count(sn);
	struct vc_audit_ev *ev = calloc(n + 1, sizeof(*ev));
	char (*det)[96] = calloc(n + 1, sizeof(*det));
	size_t *start = calloc(sn->nenv + 1, sizeof(*start));
	struct vc_user me = s->user;
	int rc, had = s->have_user;
	struct vc_db *db;

	rc = ev && det && start ? vc_session_db(s, VC_DB_METADATA, &db, e) :
	     vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0 && n > 0) {
		pending_events(sn, ev, det, start);
		/* The rows name whom the values went to, not who runs now. */
		snprintf(s->user.id, sizeof(s->user.id), "%s", sn->user_id);
		snprintf(s->user.email, sizeof(s->user.email), "%s", sn->email);
		s->have_user = 1;
		rc = vc_db_txn(db, audit_pending_txn, &(struct pend_job){ s, sn,
			       ev, start }, e);
		s->user = me;
		s->have_user = had;
	}
	free(ev);
	free(det);
	free(start);
	return rc;
}

/* The reads an earlier run served from the snapshot at path.  A snapshot
 * that does not open has nothing to audit. */
static int audit_pending(struct vc_session *s, const char *path,
			 struct vc_err *e)
{
	struct vc_fallback_snap sn;
	struct vc_err ignored;
	int rc;

	if (snap_load(s, path, &sn, &ignored) < 0)
		return 0;
	rc = sn.npend ? audit_snap(s, &sn, e) : 0;
	snap_free(&sn);
	return rc;
}

static char *only_list(const char *const *only)
{
	struct vc_buf b = VC_BUF_INIT;

	for (; only && *only; only++)
		if (vc_buf_printf(&b, "%s%s", b.len ? "," : "", *only) < 0) {
			vc_buf_release(&b);
			return NULL;
		}
	return vc_buf_detach(&b, NULL);
}

static int by_id(const void *a, const void *b)
{
	const struct vc_secret_val *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

/* set's secrets, borrowed into out: the values merged took from it (the
 * winners, by id) from merged, the others from set itself. */
static int borrow_set(const struct vc_secret_set *set,
		      const struct vc_secret_val *const *won, size_t nwon,
		      struct vc_secret_set *out)
{
	out->v = calloc(set->n + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (out->n = 0; out->n < set->n; out->n++) {
		const struct vc_secret_val *v = &set->v[out->n], *const *w;
		w = bsearch(&v, won, nwon, sizeof(*won), by_id);
		out->v[out->n] = w ? **w : *v;
	}
	return 0;
}

static void env_from(const struct vc_ref *ref, struct snap_env *se)
{
	snprintf(se->name, sizeof(se->name), "%s", ref->text);
	snprintf(se->org_id, sizeof(se->org_id), "%s", ref->org_id);
	snprintf(se->project_id, sizeof(se->project_id), "%s", ref->project_id);
	snprintf(se->env_id, sizeof(se->env_id), "%s", ref->env_id);
	snprintf(se->org, sizeof(se->org), "%s", ref->org);
	snprintf(se->project, sizeof(se->project), "%s", ref->project);
	snprintf(se->env, sizeof(se->env), "%s", ref->env);
}

/* sn holding m's environments, every secret each one gave (the values
 * borrowed: free the arrays only), nothing pending. */
static int snap_of(const struct vc_secret_envs *m, struct vc_fallback_snap *sn)
{
	const struct vc_secret_val **won = calloc(m->merged.n + 1, sizeof(*won));
	int rc = won && (sn->env = calloc(m->n + 1, sizeof(*sn->env))) ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < m->merged.n; i++)
		won[i] = &m->merged.v[i];
	if (rc == 0)
		qsort(won, m->merged.n, sizeof(*won), by_id);
	for (sn->nenv = 0; rc == 0 && sn->nenv < m->n; sn->nenv++) {
		env_from(&m->refs[sn->nenv], &sn->env[sn->nenv]);
		rc = borrow_set(&m->sets[sn->nenv], won, m->merged.n,
				&sn->env[sn->nenv].set);
	}
	free(won);
	return rc;
}

/* Online: the snapshot of what m holds, nothing pending. */
static int save_online(struct vc_session *s, const struct vc_fallback *fb,
		       const struct vc_secret_envs *m, const char *const *only,
		       struct vc_err *e)
{
	struct vc_fallback_snap sn;
	int rc;

	memset(&sn, 0, sizeof(sn));
	who_asks(s, fb->as, &sn.uid, sn.login, sn.asked);
	snprintf(sn.user_id, sizeof(sn.user_id), "%s", s->user.id);
	snprintf(sn.email, sizeof(sn.email), "%s", s->user.email);
	sn.created = (long long)time(NULL);
	rc = snap_of(m, &sn) < 0 || (only && !(sn.only = only_list(only))) ?
	     vc_err_set(e, VC_EFAIL, "out of memory") : 0;
	if (rc == 0)
		rc = snap_save(s, fb->path, &sn, e);
	for (size_t j = 0; sn.env && j < sn.nenv; j++)
		free(sn.env[j].set.v);
	free(sn.env);
	free(sn.only);
	return rc;
}

int vc_fallback_commit(struct vc_session *s, struct vc_fallback *fb,
		       struct vc_secret_envs *m, const char *const *only,
		       struct vc_err *e)
{
	int rc;

	if (!fb || !fb->path)
		return vc_secret_audit_envs(s, m, e);
	/* Offline: this run's reads join the snapshot's pending ones. */
	if (fb->offline) {
		rc = snap_append(fb->path, fb->snap, e);
		vc_fallback_release(fb);
		return rc;
	}
	rc = vc_secret_audit_envs(s, m, e);
	if (rc == 0)
		rc = audit_pending(s, fb->path, e);
	if (rc == 0)
		rc = save_online(s, fb, m, only, e);
	return rc;
}

void vc_fallback_release(struct vc_fallback *fb)
{
	if (fb && fb->snap) {
		snap_free(fb->snap);
		free(fb->snap);
		fb->snap = NULL;
	}
}
