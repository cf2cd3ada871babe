/* auditlog.c - the audit trail read back: log pages, chain verification,
 * usage statistics, metadata against the value store, retention.
 *
 * Every query here reads through an index in the order it returns rows,
 * so that a page deep into millions of rows costs what the first one does:
 * log pages by (organization_id|user_id, timestamp, seq), chains by
 * (organization_id, seq) or seq alone.
 */
#include "auditlog.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "ref.h"
#include "store.h"

/* ---- time ---- */

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int parse_relative(const char *s, time_t now, time_t *t)
{
	static const char units[] = "smhdw";
	static const long long secs[] = { 1, 60, 3600, 86400, 604800 };
	const char *u;
	char *end;
	long long n;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || !*end || end[1] || !(u = strchr(units, *end)))
		return -1;
	/* About 1000 years at most: the result stays a DATETIME. */
	if (n > 32000000000LL / secs[u - units])
		return -1;
	*t = now - (time_t)(n * secs[u - units]);
	return 0;
}

/* "Z", "+02:00", "-0530" or nothing (UTC); *p is past it on success. */
static int parse_zone(const char **p, long *off)
{
	const char *s = *p;
	int h, m, sign;

	*off = 0;
	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return 0;
	sign = *s == '-' ? -1 : 1;
	if (digits(s + 1, 2, &h) < 0)
		return -1;
	s += 3;
	if (*s == ':')
		s++;
	if (digits(s, 2, &m) < 0 || h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	*p = s + 2;
	return 0;
}

/* The time of day after a date: "THH:MM[:SS[.fff]]" and a zone. */
static int parse_clock(const char *p, struct tm *tm, long *off)
{
	if (!*p)
		return 0;
	if ((*p != 'T' && *p != 't' && *p != ' ') ||
	    digits(p + 1, 2, &tm->tm_hour) < 0 || p[3] != ':' ||
	    digits(p + 4, 2, &tm->tm_min) < 0)
		return -1;
	p += 6;
	if (*p == ':') {
		if (digits(p + 1, 2, &tm->tm_sec) < 0)
			return -1;
		p += 3;
		if (*p == '.' && isdigit((unsigned char)p[1]))
			for (p++; isdigit((unsigned char)*p); p++)
				;       /* fractions: DATETIME has none */
	}
	if (parse_zone(&p, off) < 0 || *p)
		return -1;
	return tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 59 ? -1 : 0;
}

static int parse_iso(const char *s, time_t *t)
{
	struct tm tm, back;
	long off = 0;
	int y, mo, d;

	memset(&tm, 0, sizeof(tm));
	if (digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 ||
	    s[7] != '-' || digits(s + 8, 2, &d) < 0 ||
	    parse_clock(s + 10, &tm, &off) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	*t = timegm(&tm);
	/* timegm normalises 2024-02-30 to March: refuse instead. */
	if (!gmtime_r(t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*t -= off;
	return 0;
}

int vc_auditlog_time(const char *s, time_t now, char out[20],
		     struct vc_err *e)
{
	struct tm tm;
	time_t t;

	if (parse_relative(s, now, &t) < 0 && parse_iso(s, &t) < 0)
		return vc_err_set(e, VC_EUSAGE, "invalid time '%.80s' (use an ISO "
				  "8601 date or time such as 2024-05-01 or "
				  "2024-05-01T12:00:00Z, or an age such as 30m, "
				  "24h, 7d)", s);
	if (!gmtime_r(&t, &tm) || tm.tm_year < 1000 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return vc_err_set(e, VC_EUSAGE, "time '%.80s' is out of range", s);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
	return 0;
}

/* ---- log ---- */

#define LOG_SELECT \
	"SELECT a.seq, DATE_FORMAT(a.`timestamp`, '%Y-%m-%dT%H:%i:%sZ'), " \
	"u.email, a.user_id, o.name, a.organization_id, a.action, " \
	"a.resource_type, a.resource_id, a.ip_address, a.user_agent, " \
	"a.details FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id " \
	"LEFT JOIN organizations o ON o.id = a.organization_id WHERE 1 = 1"

/* A statement with its parameters, built from the filter. */
struct query {
	struct vc_buf sql, like;
	struct vc_param p[16];
	size_t n;
};

static void q_str(struct query *q, const char *v)
{
	q->p[q->n++] = (struct vc_param){ 's', v, strlen(v), 0 };
}

static void q_int(struct query *q, long long v)
{
	q->p[q->n++] = (struct vc_param){ 'l', NULL, 0, v };
}

static int q_cond(struct query *q, const char *cond, const char *v)
{
	if (!v)
		return 0;
	q_str(q, v);
	return vc_buf_addstr(&q->sql, cond);
}

/* "secret.*" matches every secret action: LIKE with '!' as the escape,
 * whatever NO_BACKSLASH_ESCAPES says. */
static int q_action(struct query *q, const char *a)
{
	size_t n = strlen(a);

	if (!n || a[n - 1] != '*')
		return q_cond(q, " AND a.action = ?", a);
	for (size_t i = 0; i + 1 < n; i++)
		if (((a[i] == '%' || a[i] == '_' || a[i] == '!') &&
		     vc_buf_addch(&q->like, '!') < 0) ||
		    vc_buf_addch(&q->like, a[i]) < 0)
			return VC_EFAIL;
	if (vc_buf_addch(&q->like, '%') < 0)
		return VC_EFAIL;
	q_str(q, q->like.data);
	return vc_buf_addstr(&q->sql, " AND a.action LIKE ? ESCAPE '!'");
}

static int q_filter(struct query *q, const struct vc_auditlog_filter *f,
		    struct vc_err *e)
{
	int rc = vc_buf_addstr(&q->sql, LOG_SELECT);

	if (rc == 0)
		rc = q_cond(q, " AND a.organization_id = ?", f->org_id);
	if (rc == 0)
		rc = q_cond(q, " AND a.user_id = ?", f->user_id);
	if (rc == 0 && f->action)
		rc = q_action(q, f->action);
	if (rc == 0)
		rc = q_cond(q, " AND a.resource_type = ?", f->rtype);
	if (rc == 0)
		rc = q_cond(q, " AND a.`timestamp` >= ?", f->since);
	if (rc == 0)
		rc = q_cond(q, " AND a.`timestamp` < ?", f->until);
	return rc < 0 ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}

static void q_release(struct query *q)
{
	vc_buf_release(&q->sql);
	vc_buf_release(&q->like);
}

/* The time of the cursor row, or of the nearest older one when the cursor
 * row has been pruned meanwhile; "" when there is nothing older. */
static int cursor_time(struct vc_db *db, long long after, char ts[20],
		       struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT DATE_FORMAT(`timestamp`, "
			 "'%Y-%m-%d %H:%i:%s') FROM audit_logs WHERE seq <= ? "
			 "ORDER BY seq DESC LIMIT 1", "l", after);
	if (rc < 0)
		return rc;
	snprintf(ts, 20, "%s", vc_res_rows(r) ? vc_res_get(r, 0, 0, NULL) : "");
	vc_res_free(r);
	return 0;
}

int vc_auditlog_page(struct vc_db *db, const struct vc_auditlog_filter *f,
		     long long after, long limit, struct vc_res **rows,
		     long long *next, struct vc_err *e)
{
	struct query q = { VC_BUF_INIT, VC_BUF_INIT, { { 0, NULL, 0, 0 } }, 0 };
	char ts[20] = "";
	int rc;

	*rows = NULL;
	*next = 0;
	rc = after > 0 ? cursor_time(db, after, ts, e) : 0;
	if (rc == 0)
		rc = q_filter(&q, f, e);
	/* Keyset on (timestamp, seq), the order of the indexes: the page
	 * starts where the last one stopped, without an OFFSET. */
	if (rc == 0 && after > 0 && ts[0]) {
		q_str(&q, ts);
		q_str(&q, ts);
		q_int(&q, after);
		rc = vc_buf_addstr(&q.sql, " AND a.`timestamp` <= ? AND "
				   "(a.`timestamp` < ? OR a.seq < ?)");
	} else if (rc == 0 && after > 0) {
		rc = vc_buf_addstr(&q.sql, " AND 1 = 0");
	}
	q_int(&q, limit + 1);   /* one more: is there a next page? */
	if (rc == 0 && vc_buf_addstr(&q.sql, " ORDER BY a.`timestamp` DESC, "
				     "a.seq DESC LIMIT ?") < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = vc_db_queryv(db, rows, e, q.sql.data, q.p, q.n);
	if (rc == 0 && vc_res_rows(*rows) > (size_t)limit)
		*next = vc_res_int(*rows, (size_t)limit - 1, VC_AL_SEQ);
	q_release(&q);
	return rc;
}

int vc_auditlog_newer(struct vc_db *db, const struct vc_auditlog_filter *f,
		      long long after, long limit, struct vc_res **rows,
		      struct vc_err *e)
{
	struct query q = { VC_BUF_INIT, VC_BUF_INIT, { { 0, NULL, 0, 0 } }, 0 };
	int rc = q_filter(&q, f, e);

	*rows = NULL;
	q_int(&q, after);
	q_int(&q, limit);
	if (rc == 0 && vc_buf_addstr(&q.sql, " AND a.seq > ? ORDER BY a.seq "
				     "LIMIT ?") < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = vc_db_queryv(db, rows, e, q.sql.data, q.p, q.n);
	q_release(&q);
	return rc;
}

int vc_auditlog_max_seq(struct vc_db *db, long long *seq, struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT COALESCE(MAX(seq), 0) FROM "
			     "audit_logs", "");

	if (rc < 0)
		return rc;
	*seq = vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

int vc_auditlog_user_id(struct vc_db *db, const char *who, char id[37],
			struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	if (vc_is_uuid(who)) {
		snprintf(id, 37, "%s", who);
		return 0;
	}
	rc = vc_db_query(db, &r, e, "SELECT id FROM users WHERE email = ?", "s",
			 who);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0)
		rc = vc_err_set(e, VC_ENOTFOUND, "user '%.80s' not found (give the "
				"id of a removed user)", who);
	else
		snprintf(id, 37, "%s", vc_res_get(r, 0, 0, NULL));
	vc_res_free(r);
	return rc;
}

/* ---- verify ---- */

/* One chain while it is being checked. */
struct vchain {
	struct vc_auditlog_chain pub;
	unsigned char run[32];          /* hash the next row must follow */
	unsigned char last[32];         /* audit_chain_heads.last_hash */
	long long last_seq;
};

struct verify {
	struct vchain *c;
	size_t n, cap;
	const unsigned char *key;
};

static const unsigned char zero32[32];

static int vchain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vchain *)a)->pub.chain,
		      ((const struct vchain *)b)->pub.chain);
}

static struct vchain *vchain_add(struct verify *v, const char *chain)
{
	struct vchain *c;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		c = realloc(v->c, cap * sizeof(*c));
		if (!c)
			return NULL;
		v->c = c;
		v->cap = cap;
	}
	c = &v->c[v->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->pub.chain, sizeof(c->pub.chain), "%s", chain);
	return c;
}

/* A chain that has rows but no head: rows written around vaultctl. */
static struct vchain *vchain_find(struct verify *v, const char *chain,
				  long long seq)
{
	struct vchain key, *c;

	snprintf(key.pub.chain, sizeof(key.pub.chain), "%s", chain);
	c = bsearch(&key, v->c, v->n, sizeof(*v->c), vchain_cmp);
	if (c)
		return c;
	c = vchain_add(v, chain);
	if (!c)
		return NULL;
	c->pub.bad_seq = seq;
	snprintf(c->pub.problem, sizeof(c->pub.problem), "seq %lld belongs to "
		 "a chain without a head (rows written around vaultctl)", seq);
	qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
	return bsearch(&key, v->c, v->n, sizeof(*v->c), vchain_cmp);
}

static int load_heads(struct vc_db *db, const char *org_id, struct verify *v,
		      struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT h.chain, h.last_hash, h.anchor_hash, "
			 "o.name FROM audit_chain_heads h LEFT JOIN organizations "
			 "o ON o.id = h.chain WHERE ? IS NULL OR h.chain = ?",
			 "ss", org_id, org_id);
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		struct vchain *c = vchain_add(v, vc_res_get(r, i, 0, NULL));
		size_t ll, al;
		const char *last = vc_res_get(r, i, 1, &ll);
		const char *anchor = vc_res_get(r, i, 2, &al);
		if (!c) {
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
			break;
		}
		memcpy(c->last, ll == 32 ? last : (const char *)zero32, 32);
		memcpy(c->run, anchor && al == 32 ? anchor : (const char *)zero32,
		       32);
		snprintf(c->pub.org, sizeof(c->pub.org), "%s",
			 vc_res_get(r, i, 3, NULL) ? vc_res_get(r, i, 3, NULL) : "");
	}
	vc_res_free(r);
	if (rc == 0)
		qsort(v->c, v->n, sizeof(*v->c), vchain_cmp);
	return rc;
}

/* Columns: seq, the ten hashed fields as stored, prev and row hash.
 * Every chain in one pass along the primary key (seq), or one chain along
 * ix_audit_logs_org_seq. */
#define VERIFY_BATCH 10000
#define VERIFY_SELECT \
	"SELECT seq, id, user_id, organization_id, action, resource_type, " \
	"resource_id, DATE_FORMAT(`timestamp`, '%Y-%m-%d %H:%i:%s'), " \
	"ip_address, user_agent, details, prev_hash, row_hash FROM audit_logs "
static const char verify_all_sql[] = VERIFY_SELECT
	"WHERE seq > ? ORDER BY seq LIMIT ?";
static const char verify_org_sql[] = VERIFY_SELECT
	"WHERE organization_id = ? AND seq > ? ORDER BY seq LIMIT ?";

static void broken(struct vchain *c, long long seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void broken(struct vchain *c, long long seq, const char *fmt, ...)
{
	va_list ap;

	c->pub.bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(c->pub.problem, sizeof(c->pub.problem), fmt, ap);
	va_end(ap);
}

static void check_row(struct verify *v, struct vchain *c,
		      const struct vc_res *r, size_t i)
{
	const char *f[10];
	unsigned char h[32];
	long long seq = vc_res_int(r, i, 0);
	size_t pl, hl;
	const char *prev = vc_res_get(r, i, 11, &pl);
	const char *hash = vc_res_get(r, i, 12, &hl);

	c->pub.rows++;
	if (c->pub.bad_seq)
		return;
	for (int k = 0; k < 10; k++)
		f[k] = vc_res_get(r, i, (size_t)k + 1, NULL);
	if (!prev || pl != 32 || memcmp(prev, c->run, 32)) {
		if (c->last_seq)
			broken(c, seq, "seq %lld does not follow seq %lld: a row "
			       "between them was removed, or seq %lld was "
			       "inserted", seq, c->last_seq, seq);
		else
			broken(c, seq, "seq %lld does not follow the chain's "
			       "start: an older row was removed, or seq %lld "
			       "was inserted", seq, seq);
		return;
	}
	vc_audit_hash(h, c->run, f, v->key);
	if (!hash || hl != 32 || memcmp(hash, h, 32)) {
		broken(c, seq, "seq %lld was edited: its hash does not match "
		       "its fields", seq);
		return;
	}
	memcpy(c->run, h, 32);
	c->last_seq = seq;
}

static int verify_rows(struct vc_db *db, const char *org_id,
		       struct verify *v, struct vc_err *e)
{
	long long after = 0;
	size_t got;

	do {
		struct vc_res *r;
		int rc = org_id ?
			vc_db_query(db, &r, e, verify_org_sql, "sll", org_id,
				    after, (long long)VERIFY_BATCH) :
			vc_db_query(db, &r, e, verify_all_sql, "ll", after,
				    (long long)VERIFY_BATCH);
		if (rc < 0)
			return rc;
		got = vc_res_rows(r);
		for (size_t i = 0; i < got; i++) {
			const char *org = vc_res_get(r, i, 3, NULL);
			struct vchain *c = vchain_find(v, org ? org : "",
						       vc_res_int(r, i, 0));
			if (!c) {
				vc_res_free(r);
				return vc_err_set(e, VC_EFAIL, "out of memory");
			}
			check_row(v, c, r, i);
		}
		if (got)
			after = vc_res_int(r, got - 1, 0);
		vc_res_free(r);
	} while (got == VERIFY_BATCH);
	return 0;
}

/* After the last row: the head must name it, or newer rows are gone. */
static void check_ends(struct verify *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct vchain *c = &v->c[i];
		if (c->pub.bad_seq || !memcmp(c->run, c->last, 32))
			continue;
		if (c->last_seq)
			broken(c, c->last_seq, "the chain head does not match its "
			       "last row, seq %lld: newer rows were removed (or "
			       "the head was changed)", c->last_seq);
		else
			broken(c, -1, "the chain has no rows left but its head "
			       "expects some: they were removed");
	}
}

int vc_auditlog_verify(struct vc_session *s, struct vc_db *db,
		       const char *org_id, struct vc_auditlog_chain **out,
		       size_t *n, struct vc_err *e)
{
	struct verify v = { NULL, 0, 0, NULL };
	unsigned char key[32];
	int have_key = 0, rc;

	*out = NULL;
	*n = 0;
	rc = vc_audit_key(s, key, &have_key, e);
	v.key = have_key ? key : NULL;
	/* One snapshot: rows written while we read cannot look like a
	 * mismatch with heads read earlier. */
	if (rc == 0)
		rc = vc_db_simple(db, "START TRANSACTION WITH CONSISTENT "
				  "SNAPSHOT, READ ONLY", e);
	if (rc == 0) {
		rc = load_heads(db, org_id, &v, e);
		if (rc == 0)
			rc = verify_rows(db, org_id, &v, e);
		vc_db_rollback(db);
	}
	sodium_memzero(key, sizeof(key));
	if (rc < 0) {
		free(v.c);
		return rc;
	}
	check_ends(&v);
	*out = calloc(v.n ? v.n : 1, sizeof(**out));
	if (!*out) {
		free(v.c);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	for (size_t i = 0; i < v.n; i++)
		(*out)[i] = v.c[i].pub;
	*n = v.n;
	free(v.c);
	return 0;
}

/* ---- single-instance jobs ---- */

struct lock {
	const char *name, *what, *holder;
	int minutes;
};

static int lock_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct lock *l = arg;
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT holder, DATE_FORMAT(expires_at, "
			 "'%Y-%m-%dT%H:%i:%sZ'), expires_at > UTC_TIMESTAMP() "
			 "FROM maintenance_locks WHERE name = ? FOR UPDATE", "s",
			 l->name);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) && vc_res_int(r, 0, 2))
		rc = vc_err_set(e, VC_ECONFLICT, "another %s is running (holder "
				"%s, lock until %s)", l->what,
				vc_res_get(r, 0, 0, NULL), vc_res_get(r, 0, 1, NULL));
	else if (vc_res_rows(r))        /* expired: its holder died */
		rc = vc_db_exec(db, NULL, e, "UPDATE maintenance_locks SET "
				"holder = ?, acquired_at = UTC_TIMESTAMP(), "
				"expires_at = UTC_TIMESTAMP() + INTERVAL ? MINUTE "
				"WHERE name = ?", "sis", l->holder, l->minutes,
				l->name);
	else
		rc = vc_db_exec(db, NULL, e, "INSERT INTO maintenance_locks "
				"(name, holder, acquired_at, expires_at) VALUES "
				"(?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL "
				"? MINUTE)", "ssi", l->name, l->holder, l->minutes);
	vc_res_free(r);
	if (rc == VC_ECONFLICT && vc_db_errno(db) == 1062)  /* ER_DUP_ENTRY */
		return vc_err_set(e, VC_ECONFLICT, "another %s is running (it "
				  "took the lock just now)", l->what);
	return rc;
}

int vc_auditlog_lock(struct vc_db *db, const char *name, const char *what,
		     int minutes, char holder[128], struct vc_err *e)
{
	char host[64];
	struct lock l = { name, what, holder, minutes };

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(holder, 128, "%s:%ld", host, (long)getpid());
	return vc_db_txn(db, lock_txn, &l, e);
}

void vc_auditlog_unlock(struct vc_db *db, const char *name,
			const char *holder)
{
	struct vc_err e;

	/* Best effort: a row left behind expires. */
	vc_db_exec(db, NULL, &e, "DELETE FROM maintenance_locks WHERE name = ? "
		   "AND holder = ?", "ss", name, holder);
}

/* ---- usage statistics ---- */

/* Organizations get a row even without secrets (COUNT of no rows is 0).
 * Each statement in two forms, all organizations or one: MariaDB folds
 * "? IS NULL OR" once the parameter is bound, MySQL may not, and these
 * two statements are the ones that read millions of rows. */
#define SECRETS_HEAD \
	"INSERT INTO usage_statistics (id, organization_id, secret_count, " \
	"api_calls, last_updated) " \
	"SELECT UUID(), o.id, COUNT(sm.id), 0, UTC_TIMESTAMP() " \
	"FROM organizations o LEFT JOIN secret_metadata sm ON " \
	"sm.organization_id = o.id AND sm.deleted_at IS NULL "
#define SECRETS_TAIL \
	"GROUP BY o.id ON DUPLICATE KEY UPDATE secret_count = " \
	"VALUES(secret_count), last_updated = VALUES(last_updated)"

/* The active subscription's start bounds the count; the join reads each
 * organization's range of ix_audit_logs_org_time, nothing else. */
#define CALLS_HEAD \
	"INSERT INTO usage_statistics (id, organization_id, secret_count, " \
	"api_calls, last_updated) " \
	"SELECT UUID(), o.id, 0, LEAST(COUNT(a.seq), 2147483647), " \
	"UTC_TIMESTAMP() FROM organizations o " \
	"LEFT JOIN (SELECT organization_id, MAX(start_date) AS since FROM " \
	"subscriptions WHERE status = 'active' GROUP BY organization_id) s " \
	"ON s.organization_id = o.id " \
	"LEFT JOIN audit_logs a ON a.organization_id = o.id AND " \
	"a.`timestamp` >= COALESCE(s.since, '1000-01-01 00:00:00') "
#define CALLS_TAIL \
	"GROUP BY o.id ON DUPLICATE KEY UPDATE api_calls = VALUES(api_calls), " \
	"last_updated = VALUES(last_updated)"

static const char *const recompute_sql[2][3] = {
	{ SECRETS_HEAD SECRETS_TAIL, CALLS_HEAD CALLS_TAIL,
	  "SELECT COUNT(*) FROM organizations" },
	{ SECRETS_HEAD "WHERE o.id = ? " SECRETS_TAIL,
	  CALLS_HEAD "WHERE o.id = ? " CALLS_TAIL,
	  "SELECT COUNT(*) FROM organizations WHERE id = ?" },
};

struct recompute {
	const char *org;
	long long orgs;
};

static int recompute_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct recompute *a = arg;
	const char *const *sql = recompute_sql[a->org != NULL];
	const char *types = a->org ? "s" : "";
	struct vc_res *r;
	int rc;

	rc = vc_db_exec(db, NULL, e, sql[0], types, a->org);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, sql[1], types, a->org);
	if (rc == 0)
		rc = vc_db_query(db, &r, e, sql[2], types, a->org);
	if (rc == 0) {
		a->orgs = vc_res_int(r, 0, 0);
		vc_res_free(r);
	}
	return rc;
}

int vc_auditlog_recompute(struct vc_db *db, const char *org_id,
			  long long *orgs, struct vc_err *e)
{
	struct recompute a = { org_id, 0 };
	struct vc_err ignored;
	int rc;

	/* READ COMMITTED: the SELECT half reads a snapshot instead of
	 * share-locking every audit row it counts, which would stall every
	 * writer for as long as the count takes. */
	rc = vc_db_simple(db, "SET SESSION TRANSACTION ISOLATION LEVEL READ "
			  "COMMITTED", e);
	if (rc == 0)
		rc = vc_db_txn(db, recompute_txn, &a, e);
	vc_db_simple(db, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE "
		     "READ", &ignored);
	*orgs = a.orgs;
	return rc;
}

int vc_auditlog_stats(struct vc_db *db, const char *org_id,
		      const char *user_id, struct vc_res **rows,
		      struct vc_err *e)
{
	return vc_db_query(db, rows, e, "SELECT o.name, COALESCE(us.secret_count, "
			   "0), COALESCE(us.api_calls, 0), DATE_FORMAT("
			   "us.last_updated, '%Y-%m-%dT%H:%i:%sZ'), o.id FROM "
			   "organizations o LEFT JOIN usage_statistics us ON "
			   "us.organization_id = o.id WHERE (? IS NULL OR o.id = ?) "
			   "AND (? IS NULL OR o.id IN (SELECT organization_id FROM "
			   "user_organizations WHERE user_id = ?)) ORDER BY o.name",
			   "ssss", org_id, org_id, user_id, user_id);
}

/* ---- reconcile ---- */

/* One metadata row, by store path. */
struct mrow {
	char *path;
	size_t row;
	int seen;
};

struct recon {
	struct vc_session *s;
	struct vc_store *st;
	struct vc_res *meta, *envs;
	struct mrow *m;
	size_t nm;
	struct vc_drift *d;
	size_t nd, cap;
	char ids[3][64];        /* org, project, env of the folder walked */
	struct vc_err *e;
};

enum { M_ID, M_ORG, M_PROJECT, M_ENV, M_NAME, M_VERSION, M_ORGN, M_PROJN,
       M_ENVN };

static int mrow_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mrow *)a)->path,
		      ((const struct mrow *)b)->path);
}

static int load_meta(struct recon *c, struct vc_db *db, const char *org_id)
{
	int rc;

	rc = vc_db_query(db, &c->meta, c->e, "SELECT sm.id, sm.organization_id, "
			 "sm.project_id, sm.environment, sm.name, sm.version, "
			 "o.name, p.name, en.name FROM secret_metadata sm JOIN "
			 "organizations o ON o.id = sm.organization_id JOIN "
			 "projects p ON p.id = sm.project_id JOIN environments en "
			 "ON en.id = sm.environment WHERE ? IS NULL OR "
			 "sm.organization_id = ?", "ss", org_id, org_id);
	if (rc == 0)
		rc = vc_db_query(db, &c->envs, c->e, "SELECT o.id, p.id, en.id, "
				 "o.name, p.name, en.name FROM environments en JOIN "
				 "projects p ON p.id = en.project_id JOIN "
				 "organizations o ON o.id = p.organization_id WHERE "
				 "? IS NULL OR o.id = ?", "ss", org_id, org_id);
	if (rc < 0)
		return rc;
	c->nm = vc_res_rows(c->meta);
	c->m = calloc(c->nm ? c->nm : 1, sizeof(*c->m));
	if (!c->m)
		return vc_err_set(c->e, VC_EFAIL, "out of memory");
	for (size_t i = 0; i < c->nm; i++) {
		struct vc_buf p = VC_BUF_INIT;
		if (vc_store_path(&p, vc_res_get(c->meta, i, M_ORG, NULL),
				  vc_res_get(c->meta, i, M_PROJECT, NULL),
				  vc_res_get(c->meta, i, M_ENV, NULL),
				  vc_res_get(c->meta, i, M_NAME, NULL)) < 0)
			return vc_err_set(c->e, VC_EFAIL, "out of memory");
		c->m[i].path = vc_buf_detach(&p, NULL);
		c->m[i].row = i;
	}
	qsort(c->m, c->nm, sizeof(*c->m), mrow_cmp);
	return 0;
}

static struct vc_drift *drift_add(struct recon *c, enum vc_drift_kind kind,
				  const char *path)
{
	struct vc_drift *d;

	if (c->nd == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		d = realloc(c->d, cap * sizeof(*d));
		if (!d)
			return NULL;
		c->d = d;
		c->cap = cap;
	}
	d = &c->d[c->nd++];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	snprintf(d->path, sizeof(d->path), "%s", path);
	return d;
}

/* Names and ids of a metadata row. */
static void drift_meta(struct recon *c, struct vc_drift *d, size_t row)
{
	const struct vc_res *r = c->meta;

	snprintf(d->secret_id, sizeof(d->secret_id), "%s",
		 vc_res_get(r, row, M_ID, NULL));
	snprintf(d->org_id, sizeof(d->org_id), "%s", vc_res_get(r, row, M_ORG, NULL));
	snprintf(d->project_id, sizeof(d->project_id), "%s",
		 vc_res_get(r, row, M_PROJECT, NULL));
	snprintf(d->env_id, sizeof(d->env_id), "%s", vc_res_get(r, row, M_ENV, NULL));
	snprintf(d->name, sizeof(d->name), "%s", vc_res_get(r, row, M_NAME, NULL));
	snprintf(d->ref, sizeof(d->ref), "%s/%s/%s/%s",
		 vc_res_get(r, row, M_ORGN, NULL), vc_res_get(r, row, M_PROJN, NULL),
		 vc_res_get(r, row, M_ENVN, NULL), d->name);
	d->meta_version = (int)vc_res_int(r, row, M_VERSION);
}

/* An orphaned value: names from the environment when it still exists. */
static void drift_orphan(struct recon *c, struct vc_drift *d,
			 const char *name)
{
	const struct vc_res *r = c->envs;

	snprintf(d->org_id, sizeof(d->org_id), "%.36s", c->ids[0]);
	snprintf(d->project_id, sizeof(d->project_id), "%.36s", c->ids[1]);
	snprintf(d->env_id, sizeof(d->env_id), "%.36s", c->ids[2]);
	snprintf(d->name, sizeof(d->name), "%s", name);
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		if (strcmp(vc_res_get(r, i, 2, NULL), c->ids[2]) ||
		    strcmp(vc_res_get(r, i, 1, NULL), c->ids[1]) ||
		    strcmp(vc_res_get(r, i, 0, NULL), c->ids[0]))
			continue;
		snprintf(d->ref, sizeof(d->ref), "%s/%s/%s/%s",
			 vc_res_get(r, i, 3, NULL), vc_res_get(r, i, 4, NULL),
			 vc_res_get(r, i, 5, NULL), name);
		return;
	}
}

static int found_orphan(struct recon *c, const char *path, const char *name)
{
	struct vc_store_meta sm = { 0, 0, 0, NULL };
	struct vc_drift *d = drift_add(c, VC_DRIFT_ORPHAN_VALUE, path);
	int rc;

	if (!d)
		return vc_err_set(c->e, VC_EFAIL, "out of memory");
	drift_orphan(c, d, name);
	rc = c->st->ops->meta(c->st, path, &sm, c->e);
	d->store_version = sm.current_version;
	vc_store_meta_release(&sm);
	if (rc == VC_ENOTFOUND) {       /* gone since the listing */
		c->nd--;
		rc = 0;
	}
	return rc;
}

static int found_value(struct recon *c, const char *path, const char *name)
{
	struct vc_store_meta sm = { 0, 0, 0, NULL };
	struct mrow key = { (char *)path, 0, 0 }, *m;
	struct vc_drift *d;
	int rc;

	m = bsearch(&key, c->m, c->nm, sizeof(*c->m), mrow_cmp);
	if (!m)
		return found_orphan(c, path, name);
	rc = c->st->ops->meta(c->st, path, &sm, c->e);
	if (rc == VC_ENOTFOUND)         /* gone since the listing */
		return 0;
	m->seen = 1;
	if (rc == 0 && sm.current_version !=
	    (int)vc_res_int(c->meta, m->row, M_VERSION)) {
		d = drift_add(c, VC_DRIFT_VERSION, path);
		if (!d) {
			rc = vc_err_set(c->e, VC_EFAIL, "out of memory");
		} else {
			drift_meta(c, d, m->row);
			d->store_version = sm.current_version;
		}
	}
	vc_store_meta_release(&sm);
	return rc;
}

/* The layout below the mount, one level of folders at a time:
 * organizations/O/projects/P/environments/E/secrets/NAME. */
static const char *const below[] = { "projects/", "environments/",
				      "secrets/" };

static int walk(struct recon *c, const char *prefix, int level)
{
	struct vc_buf sub = VC_BUF_INIT;
	char **keys = NULL;
	size_t n = 0;
	int rc = c->st->ops->list(c->st, prefix, &keys, &n, c->e);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t len = strlen(keys[i]);
		int folder = len && keys[i][len - 1] == '/';
		vc_buf_reset(&sub);
		if (vc_buf_printf(&sub, "%s%s%s", prefix, keys[i],
				  level < 3 && folder ? below[level] : "") < 0) {
			rc = vc_err_set(c->e, VC_EFAIL, "out of memory");
		} else if (level < 3 && folder) {
			snprintf(c->ids[level], sizeof(c->ids[level]), "%.*s",
				 (int)(len - 1), keys[i]);
			rc = walk(c, sub.data, level + 1);
		} else if (level == 3 && !folder) {
			rc = found_value(c, sub.data, keys[i]);
		}
	}
	vc_store_list_free(keys, n);
	vc_buf_release(&sub);
	return rc;
}

static int missing_values(struct recon *c)
{
	for (size_t i = 0; i < c->nm; i++) {
		struct vc_drift *d;
		if (c->m[i].seen)
			continue;
		d = drift_add(c, VC_DRIFT_NO_VALUE, c->m[i].path);
		if (!d)
			return vc_err_set(c->e, VC_EFAIL, "out of memory");
		drift_meta(c, d, c->m[i].row);
	}
	return 0;
}

static void recon_release(struct recon *c)
{
	for (size_t i = 0; i < c->nm; i++)
		free(c->m[i].path);
	free(c->m);
	vc_res_free(c->meta);
	vc_res_free(c->envs);
}

int vc_auditlog_reconcile(struct vc_session *s, const char *org_id,
			  struct vc_drift **out, size_t *n,
			  long long *secrets, struct vc_err *e)
{
	struct recon c;
	struct vc_buf top = VC_BUF_INIT;
	struct vc_db *db;
	int rc;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.e = e;
	*out = NULL;
	*n = 0;
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_session_store(s, &c.st, e);
	if (rc == 0)
		rc = load_meta(&c, db, org_id);
	if (rc == 0 && org_id) {
		snprintf(c.ids[0], sizeof(c.ids[0]), "%s", org_id);
		rc = vc_buf_printf(&top, "organizations/%s/projects/", org_id) < 0 ?
		     vc_err_set(e, VC_EFAIL, "out of memory") : 0;
		if (rc == 0)
			rc = walk(&c, top.data, 1);
	} else if (rc == 0) {
		rc = walk(&c, "organizations/", 0);
	}
	if (rc == 0)
		rc = missing_values(&c);
	*secrets = (long long)c.nm;
	recon_release(&c);
	vc_buf_release(&top);
	if (rc < 0) {
		free(c.d);
		return rc;
	}
	*out = c.d;
	*n = c.nd;
	return 0;
}

struct fix {
	struct vc_session *s;
	const struct vc_drift *d;
	struct vc_store *st;
};

static int adopt_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct fix *f = arg;
	const struct vc_drift *d = f->d;
	unsigned long long n;
	char details[96];
	struct vc_audit_ev ev = { d->org_id, "secret.adopt_version", "secret",
				  d->secret_id, details };
	int rc;

	snprintf(details, sizeof(details), "{\"from\":%d,\"to\":%d,"
		 "\"reason\":\"reconcile\"}", d->meta_version, d->store_version);
	rc = vc_db_exec(db, &n, e, "UPDATE secret_metadata SET version = ?, "
			"updated_at = UTC_TIMESTAMP() WHERE id = ? AND version = ?",
			"isi", d->store_version, d->secret_id, d->meta_version);
	if (rc == 0 && n == 0)
		return vc_err_set(e, VC_ECONFLICT, "secret '%s' changed meanwhile; "
				  "run reconcile again", d->ref);
	return rc < 0 ? rc : vc_audit_write(f->s, db, &ev, 1, e);
}

int vc_auditlog_adopt(struct vc_session *s, const struct vc_drift *d,
		      struct vc_err *e)
{
	struct fix f = { s, d, NULL };
	struct vc_db *db;
	int rc;

	if (d->kind != VC_DRIFT_VERSION || d->store_version < 1)
		return vc_err_set(e, VC_EUSAGE, "nothing to adopt for '%s'",
				  d->path);
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, adopt_txn, &f, e);
}

/* {"name": ..., "path": ...}; names from the store may hold anything. */
static char *orphan_details(const struct vc_drift *d)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "name", d->name) &&
	    cJSON_AddStringToObject(o, "path", d->path) &&
	    cJSON_AddNumberToObject(o, "store_version", d->store_version) &&
	    cJSON_AddStringToObject(o, "reason", "reconcile"))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The audit row goes to the organization's chain, or to the global one
 * when the organization is gone (its chain is closed). */
static int orphan_event(struct vc_db *db, const struct vc_drift *d,
			struct vc_audit_ev *ev, struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT id FROM organizations WHERE "
			     "id = ?", "s", d->org_id);

	if (rc < 0)
		return rc;
	ev->action = "secret.remove_orphan";
	if (vc_res_rows(r)) {
		ev->org_id = d->org_id;
		ev->rtype = "environment";
		ev->rid = d->env_id;
	} else {
		ev->org_id = NULL;
		ev->rtype = "organization";
		ev->rid = d->org_id;
	}
	vc_res_free(r);
	return 0;
}

/* Byte for byte, as the store compares paths. */
static int still_orphan(struct vc_db *db, const struct vc_drift *d,
			struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM secret_metadata "
			     "WHERE project_id = ? AND environment = ? AND "
			     "CAST(name AS BINARY) = CAST(? AS BINARY)", "sss",
			     d->project_id, d->env_id, d->name);

	if (rc < 0)
		return rc;
	if (vc_res_int(r, 0, 0))
		rc = vc_err_set(e, VC_ECONFLICT, "'%s' has metadata now; left "
				"alone", d->path);
	vc_res_free(r);
	return rc;
}

static int drop_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct fix *f = arg;
	struct vc_audit_ev ev = { NULL, NULL, NULL, NULL, NULL };
	int rc;

	/* The quota lock, as a create takes it before writing its value:
	 * a create in flight finishes first, and is seen below. */
	rc = vc_db_exec(db, NULL, e, "UPDATE subscriptions SET write_seq = "
			"write_seq + 1 WHERE organization_id = ? AND status = "
			"'active'", "s", f->d->org_id);
	if (rc == 0)
		rc = orphan_event(db, f->d, &ev, e);
	if (rc == 0)
		rc = still_orphan(db, f->d, e);
	if (rc == 0)
		rc = f->st->ops->delete_all(f->st, f->d->path, e);
	if (rc == VC_ENOTFOUND)         /* a retry after it went */
		rc = 0;
	if (rc < 0)
		return rc;
	ev.details = orphan_details(f->d);
	rc = ev.details ? vc_audit_write(f->s, db, &ev, 1, e) :
	     vc_err_set(e, VC_EFAIL, "out of memory");
	free((char *)ev.details);
	return rc;
}

int vc_auditlog_drop_value(struct vc_session *s, const struct vc_drift *d,
			   struct vc_err *e)
{
	struct fix f = { s, d, NULL };
	struct vc_db *db;
	int rc;

	if (d->kind != VC_DRIFT_ORPHAN_VALUE)
		return vc_err_set(e, VC_EUSAGE, "'%s' is not an orphaned value",
				  d->path);
	rc = vc_session_db(s, VC_DB_METADATA, &db, e);
	if (rc == 0)
		rc = vc_session_store(s, &f.st, e);
	return rc < 0 ? rc : vc_db_txn(db, drop_txn, &f, e);
}

/* ---- prune ---- */

#define PRUNE_BATCH 10000

int vc_auditlog_count_before(struct vc_db *db, const char *before,
			     long long *n, struct vc_err *e)
{
	struct vc_res *r;
	int rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM audit_logs WHERE "
			     "`timestamp` < ?", "s", before);

	if (rc < 0)
		return rc;
	*n = vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

struct prune {
	const char *chain;      /* "" for the global chain */
	const char *before;
	long long deleted;
	int done;
};

/* The batch: the chain's oldest rows, up to the first one that is not
 * old enough.  Only a prefix of the chain may go, or verify could not
 * start from the anchor. */
static int prune_prefix(struct vc_db *db, struct prune *a, long long *last,
			unsigned char hash[32], struct vc_err *e)
{
	int global = !a->chain[0];
	struct vc_res *r;
	size_t k = 0, len;
	int rc;

	if (global)
		rc = vc_db_query(db, &r, e, "SELECT seq, row_hash, `timestamp` < ? "
				 "FROM audit_logs WHERE organization_id IS NULL "
				 "ORDER BY seq LIMIT ?", "sl", a->before,
				 (long long)PRUNE_BATCH);
	else
		rc = vc_db_query(db, &r, e, "SELECT seq, row_hash, `timestamp` < ? "
				 "FROM audit_logs WHERE organization_id = ? ORDER "
				 "BY seq LIMIT ?", "ssl", a->before, a->chain,
				 (long long)PRUNE_BATCH);
	if (rc < 0)
		return rc;
	while (k < vc_res_rows(r) && vc_res_int(r, k, 2))
		k++;
	a->done = k < PRUNE_BATCH;
	*last = 0;
	if (k) {
		const char *h = vc_res_get(r, k - 1, 1, &len);
		*last = vc_res_int(r, k - 1, 0);
		if (!h || len != 32)
			rc = vc_err_set(e, VC_EFAIL, "audit row seq %lld has a "
					"damaged hash", *last);
		else
			memcpy(hash, h, 32);
	}
	vc_res_free(r);
	return rc;
}

static int prune_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct prune *a = arg;
	unsigned char hash[32];
	unsigned long long n = 0;
	struct vc_res *r;
	long long last;
	int rc;

	a->deleted = 0;
	a->done = 1;
	/* Writers of this chain wait on its head until we commit. */
	rc = vc_db_query(db, &r, e, "SELECT chain FROM audit_chain_heads WHERE "
			 "chain = ? FOR UPDATE", "s", a->chain);
	if (rc < 0)
		return rc;
	n = vc_res_rows(r);
	vc_res_free(r);
	if (n == 0)             /* no head, no anchor to keep: leave it */
		return 0;
	rc = prune_prefix(db, a, &last, hash, e);
	if (rc < 0 || last == 0)
		return rc;
	if (a->chain[0])
		rc = vc_db_exec(db, &n, e, "DELETE FROM audit_logs WHERE "
				"organization_id = ? AND seq <= ?", "sl", a->chain,
				last);
	else
		rc = vc_db_exec(db, &n, e, "DELETE FROM audit_logs WHERE "
				"organization_id IS NULL AND seq <= ?", "l", last);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE audit_chain_heads SET "
				"anchor_hash = ?, updated_at = UTC_TIMESTAMP() "
				"WHERE chain = ?", "bs", hash, (size_t)32, a->chain);
	a->deleted = (long long)n;
	return rc;
}

struct pruned {
	struct vc_session *s;
	const char *before;
	long long rows;
};

static int pruned_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct pruned *a = arg;
	char details[96];
	struct vc_audit_ev ev = { NULL, "audit.prune", "audit_log", "",
				  details };

	snprintf(details, sizeof(details), "{\"before\":\"%s\",\"rows\":%lld}",
		 a->before, a->rows);
	return vc_audit_write(a->s, db, &ev, 1, e);
}

int vc_auditlog_prune(struct vc_session *s, struct vc_db *db,
		      const char *before, long long *rows, struct vc_err *e)
{
	struct pruned done = { s, before, 0 };
	struct vc_res *r;
	int rc;

	*rows = 0;
	/* Chains with anything old: one loose index scan of
	 * ix_audit_logs_org_time, not a read of every old row. */
	rc = vc_db_query(db, &r, e, "SELECT COALESCE(organization_id, '') FROM "
			 "audit_logs GROUP BY organization_id HAVING "
			 "MIN(`timestamp`) < ?", "s", before);
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		struct prune a = { vc_res_get(r, i, 0, NULL), before, 0, 0 };
		do {
			rc = vc_db_txn(db, prune_txn, &a, e);
			if (rc == 0)
				*rows += a.deleted;
		} while (rc == 0 && !a.done);
	}
	vc_res_free(r);
	done.rows = *rows;
	if (rc == 0 && *rows)
		rc = vc_db_txn(db, pruned_txn, &done, e);
	return rc;
}
