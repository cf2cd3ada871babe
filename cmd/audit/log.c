/* log.c - vaultctl-audit log [--follow] */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auditcmd.h"
#include "auditlog.h"

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 10000

/* Every column for other tools; a table shows what a reader scans. */
static const struct vc_col all_cols[VC_AL_NCOLS] = {
	{ "seq", VC_COL_NUM }, { "timestamp", VC_COL_STR },
	{ "user", VC_COL_STR }, { "user_id", VC_COL_STR },
	{ "organization", VC_COL_STR }, { "organization_id", VC_COL_STR },
	{ "action", VC_COL_STR }, { "resource_type", VC_COL_STR },
	{ "resource_id", VC_COL_STR }, { "ip_address", VC_COL_STR },
	{ "user_agent", VC_COL_STR }, { "details", VC_COL_JSON },
};
static const struct vc_col short_cols[] = {
	{ "seq", VC_COL_NUM }, { "timestamp", VC_COL_STR },
	{ "user", VC_COL_STR }, { "organization", VC_COL_STR },
	{ "action", VC_COL_STR }, { "resource_type", VC_COL_STR },
	{ "resource_id", VC_COL_STR }, { "details", VC_COL_STR },
};

struct log {
	struct vc_auditlog_filter f;
	char since[20], until[20], user_id[37];
	long limit;
	long long after;
	struct vc_db *db;
	int header_done;        /* --follow: the header went out already */
};

/* A removed user or organization still has its id; the global chain and
 * system jobs have neither. */
static const char *either(const char *a, const char *b)
{
	return a ? a : b;
}

static int add_row(struct cli *c, struct vc_table *t, const struct vc_res *r,
		   size_t i)
{
	const char *v[VC_AL_NCOLS];

	for (size_t k = 0; k < VC_AL_NCOLS; k++)
		v[k] = vc_res_get(r, i, k, NULL);
	if (c->out != VC_OUT_TABLE)
		return vc_table_add(t, v);
	return vc_table_addv(t, v[VC_AL_SEQ], v[VC_AL_TIME],
			     either(v[VC_AL_USER], v[VC_AL_USER_ID]),
			     either(v[VC_AL_ORG], v[VC_AL_ORG_ID]),
			     v[VC_AL_ACTION], v[VC_AL_RTYPE], v[VC_AL_RID],
			     v[VC_AL_DETAILS]);
}

/* Renders the rows of r listed in idx, in that order. */
static int render(struct cli *c, const struct vc_res *r, const size_t *idx,
		  size_t n, struct vc_buf *out)
{
	struct vc_table t;
	int rc = 0;

	if (c->out == VC_OUT_TABLE)
		vc_table_init(&t, short_cols, ARRAY_SIZE(short_cols));
	else
		vc_table_init(&t, all_cols, VC_AL_NCOLS);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = add_row(c, &t, r, idx[i]);
	if (rc == 0)
		rc = vc_table_render(&t, c->out, 0, out);
	vc_table_release(&t);
	return rc < 0 ? cli_fail(c, VC_EFAIL, "out of memory") : 0;
}

/* Row numbers 0..n-1 of a result, or n-1..0 for oldest first. */
static size_t *order(struct cli *c, size_t n, int reverse)
{
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));

	if (!idx) {
		cli_fail(c, VC_EFAIL, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = reverse ? n - 1 - i : i;
	return idx;
}

static int put(struct cli *c, const char *p, size_t n)
{
	if (n && (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0))
		return cli_fail(c, VC_EFAIL, "cannot write output: %s",
				strerror(errno));
	return 0;
}

/* -o json: one object, so that the cursor travels with the rows:
 * {"rows": [...], "next": N or null}. */
static int print_json(struct cli *c, const struct vc_buf *rows,
		      long long next)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_Parse(rows->data);
	char *text = NULL;
	int rc;

	if (o && a && cJSON_AddItemToObject(o, "rows", a)) {
		a = NULL;
		if (next ? cJSON_AddNumberToObject(o, "next", (double)next) :
		    cJSON_AddNullToObject(o, "next"))
			text = cJSON_Print(o);
	}
	cJSON_Delete(a);
	cJSON_Delete(o);
	if (!text)
		return cli_fail(c, VC_EFAIL, "out of memory");
	rc = put(c, text, strlen(text));
	if (rc == 0)
		rc = put(c, "\n", 1);
	free(text);
	return rc;
}

static int print_page(struct cli *c, struct log *l)
{
	struct vc_buf b = VC_BUF_INIT;
	struct vc_res *r;
	long long next;
	size_t n, *idx;
	int rc;

	rc = vc_auditlog_page(l->db, &l->f, l->after, l->limit, &r, &next,
			      &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "cannot read the audit log");
	/* The result holds one row more when there is a next page. */
	n = vc_res_rows(r) < (size_t)l->limit ? vc_res_rows(r) : (size_t)l->limit;
	idx = order(c, n, 0);
	rc = idx ? render(c, r, idx, n, &b) : c->err.code;
	free(idx);
	vc_res_free(r);
	if (rc == 0 && c->out == VC_OUT_JSON)
		rc = print_json(c, &b, next);
	else if (rc == 0)
		rc = put(c, b.data, b.len);
	if (rc == 0 && next && c->out != VC_OUT_JSON && !c->quiet)
		fprintf(stderr, "next: --after %lld\n", next);
	vc_buf_release(&b);
	return rc;
}

/* ---- --follow ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Rows printed lately, by seq.  A row whose transaction took its seq
 * before another's but committed after it is still printed: each poll
 * reads again from the horizon, the highest seq printed SETTLE seconds
 * ago or more, and skips what it printed already. */
#define SETTLE 30
struct seen {
	long long *seq;
	time_t *at;
	size_t n, cap;
	long long horizon;
};

static int seen_has(const struct seen *s, long long seq)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->seq[i] == seq)
			return 1;
	return 0;
}

static int seen_add(struct seen *s, long long seq, time_t now)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		long long *q = realloc(s->seq, cap * sizeof(*q));
		time_t *a;
		if (!q)
			return VC_EFAIL;
		s->seq = q;
		a = realloc(s->at, cap * sizeof(*a));
		if (!a)
			return VC_EFAIL;
		s->at = a;
		s->cap = cap;
	}
	s->seq[s->n] = seq;
	s->at[s->n++] = now;
	return 0;
}

static void seen_settle(struct seen *s, time_t now)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->at[i] + SETTLE <= now && s->seq[i] > s->horizon)
			s->horizon = s->seq[i];
	for (size_t i = 0; i < s->n; i++)
		if (s->seq[i] > s->horizon) {
			s->seq[k] = s->seq[i];
			s->at[k++] = s->at[i];
		}
	s->n = k;
}

/* Writes rendered rows; a table's or CSV's header only once. */
static int put_batch(struct cli *c, struct log *l, const struct vc_buf *b)
{
	const char *p = b->data;
	size_t n = b->len;

	if (l->header_done && (c->out == VC_OUT_TABLE || c->out == VC_OUT_CSV)) {
		const char *nl = memchr(p, '\n', n);
		n -= nl ? (size_t)(nl + 1 - p) : n;
		p = nl ? nl + 1 : p;
	}
	l->header_done = 1;
	return put(c, p, n);
}

/* Prints the rows of r (the first n) not printed yet, oldest first. */
static int print_new(struct cli *c, struct log *l, struct seen *s,
		     const struct vc_res *r, size_t n, int reverse)
{
	struct vc_buf b = VC_BUF_INIT;
	time_t now = time(NULL);
	size_t *idx = order(c, n, reverse), fresh = 0;
	int rc = idx ? 0 : c->err.code;

	for (size_t i = 0; i < n && rc == 0; i++) {
		long long seq = vc_res_int(r, idx[i], VC_AL_SEQ);
		if (seen_has(s, seq))
			continue;
		if (seen_add(s, seq, now) < 0)
			rc = cli_fail(c, VC_EFAIL, "out of memory");
		idx[fresh++] = idx[i];
	}
	if (rc == 0 && (fresh || !l->header_done))
		rc = render(c, r, idx, fresh, &b);
	if (rc == 0 && (fresh || !l->header_done))
		rc = put_batch(c, l, &b);
	free(idx);
	vc_buf_release(&b);
	return rc;
}

/* One poll: everything above the horizon, in batches. */
static int poll_once(struct cli *c, struct log *l, struct seen *s)
{
	long long after = s->horizon;
	size_t got;

	do {
		struct vc_res *r;
		int rc = vc_auditlog_newer(l->db, &l->f, after, 1000, &r,
					   &c->err);
		if (rc < 0)
			return vc_err_prefix(&c->err, "cannot read the audit log");
		got = vc_res_rows(r);
		rc = print_new(c, l, s, r, got, 0);
		if (got)
			after = vc_res_int(r, got - 1, VC_AL_SEQ);
		vc_res_free(r);
		if (rc < 0)
			return rc;
	} while (got == 1000 && !stop);
	seen_settle(s, time(NULL));
	return 0;
}

/* The last page, oldest first, then new rows as they come, until SIGINT
 * or SIGTERM, which end it normally (exit 0): that is how one stops it. */
static int follow(struct cli *c, struct log *l)
{
	struct sigaction sa, old_int, old_term;
	struct seen s = { NULL, NULL, 0, 0, 0 };
	struct vc_res *r = NULL;
	long long next;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;      /* no SA_RESTART: the sleep ends */
	sigemptyset(&sa.sa_mask);
	stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = vc_auditlog_max_seq(l->db, &s.horizon, &c->err);
	if (rc == 0)
		rc = vc_auditlog_page(l->db, &l->f, 0, l->limit, &r, &next,
				      &c->err);
	if (rc == 0)
		rc = print_new(c, l, &s, r, vc_res_rows(r) < (size_t)l->limit ?
			       vc_res_rows(r) : (size_t)l->limit, 1);
	vc_res_free(r);
	while (rc == 0 && !stop) {
		struct timespec ts = { 1, 0 };
		nanosleep(&ts, NULL);
		if (!stop)
			rc = poll_once(c, l, &s);
	}
	/* A one-shot process keeps the handler to its end: a signal that
	 * comes again while it exits (a second Ctrl-C, or a supervisor that
	 * repeats it) must not turn the normal end into a death by signal.
	 * The shell gets its own handlers back. */
	if (c->shared) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	free(s.seq);
	free(s.at);
	return rc;
}

/* ---- options ---- */

static int time_opt(struct cli *c, int opt, char out[20], const char **to)
{
	const char *v = cli_opt(c, opt);
	int rc;

	if (!v)
		return 0;
	rc = vc_auditlog_time(v, time(NULL), out, &c->err);
	if (rc < 0)
		return vc_err_prefix(&c->err, "%s", opt == O_SINCE ? "--since" :
				     "--until");
	*to = out;
	return 0;
}

/* --action and --resource-type name what the tools write (secret.read,
 * org.create; secret, user): a value no row can hold is a typo, said as
 * such rather than answered with an empty page.  --action may end in '*'
 * (every action of a family). */
static int word_opt(struct cli *c, const char *name, const char *v,
		    int star)
{
	size_t n = strlen(v);

	if (star && n && v[n - 1] == '*')
		n--;
	if (n == 0 || n > 50)
		return cli_fail(c, VC_EUSAGE, "invalid %s '%.60s': 1 to 50 "
				"characters", name, v);
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || strchr("._-", v[i])))
			return cli_fail(c, VC_EUSAGE, "invalid %s '%.60s': only "
					"letters, digits, '.', '_' and '-'%s",
					name, v, star ? ", and '*' at the end" :
					"");
	return 0;
}

static int parse(struct cli *c, struct log *l)
{
	const char *v;
	long n;
	int rc = 0;

	l->limit = DEFAULT_LIMIT;
	if ((v = cli_opt(c, O_LIMIT)) &&
	    (rc = cli_uint(c, "--limit", v, MAX_LIMIT, &l->limit)) == 0 &&
	    l->limit < 1)
		rc = cli_fail(c, VC_EUSAGE, "--limit must be at least 1");
	if (rc == 0 && (v = cli_opt(c, O_AFTER)) &&
	    (rc = cli_uint(c, "--after", v, LONG_MAX, &n)) == 0) {
		l->after = n;
		if (n < 1)
			rc = cli_fail(c, VC_EUSAGE, "--after must be a seq of "
				      "the audit log, at least 1");
	}
	if (rc == 0)
		rc = time_opt(c, O_SINCE, l->since, &l->f.since);
	if (rc == 0)
		rc = time_opt(c, O_UNTIL, l->until, &l->f.until);
	if (rc == 0 && (v = cli_opt(c, O_ACTION)))
		rc = word_opt(c, "--action", v, 1);
	if (rc == 0 && (v = cli_opt(c, O_RTYPE)))
		rc = word_opt(c, "--resource-type", v, 0);
	l->f.action = cli_opt(c, O_ACTION);
	l->f.rtype = cli_opt(c, O_RTYPE);
	if (rc < 0 || !cli_opt(c, O_FOLLOW))
		return rc;
	if (l->after || l->f.until)
		return cli_fail(c, VC_EUSAGE, "--follow reads new rows: it "
				"takes neither --after nor --until");
	if (c->out == VC_OUT_JSON)
		return cli_fail(c, VC_EUSAGE, "--follow writes rows as they "
				"come: use -o jsonl rather than -o json");
	return 0;
}

int cmd_audit_log(struct cli *c)
{
	struct log l;
	struct vc_ref ref;
	const char *who = cli_opt(c, O_USER);
	int rc;

	memset(&l, 0, sizeof(l));
	rc = parse(c, &l);
	if (rc == 0)
		rc = audit_scope(c, VC_AUDIT_LOG, &ref, &l.f.org_id);
	if (rc == 0)
		rc = vc_session_db(&c->s, VC_DB_MONITORING, &l.db, &c->err);
	if (rc == 0 && who) {
		rc = vc_auditlog_user_id(l.db, who, l.user_id, &c->err);
		l.f.user_id = l.user_id;
	}
	if (rc < 0)
		return rc;
	return cli_opt(c, O_FOLLOW) ? follow(c, &l) : print_page(c, &l);
}
