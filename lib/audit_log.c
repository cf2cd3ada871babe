/* audit_log.c - the audit trail read back: a page at a time, newest
 * first, or the rows newer than the last one seen (log --follow).
 *
 * Every query here reads through an index in the order it returns rows,
 * so that a page deep into millions of rows costs what the first one does:
 * log pages by (organization_id|user_id, timestamp, seq).
 *
 * A row that lists reads (lib/audit_reads.c) shows them in its details,
 * as "secrets": [{"id": ..., "version": ...}, ...] in their order: one
 * row per seq still, which paging and --follow count on.
 */
#include "auditlog.h"

#include <stdio.h>
#include <string.h>

#include "ref.h"

/* A list row's reads joined into its details (GROUP_CONCAT, not
 * JSON_ARRAYAGG: MySQL has no order in the latter); details that do not
 * parse are shown as they are. */
#define IS_LIST "(a.action = 'secret.read' AND a.resource_type = 'environment')"
#define LOG_DETAILS \
	"IF(" IS_LIST ", COALESCE(JSON_MERGE_PATCH(a.details, " \
	"JSON_OBJECT('secrets', JSON_EXTRACT((SELECT CONCAT('[', " \
	"GROUP_CONCAT(JSON_OBJECT('id', r.secret_id, 'version', r.version) " \
	"ORDER BY r.pos SEPARATOR ','), ']') FROM audit_reads r WHERE " \
	"r.seq = a.seq), '$'))), a.details), a.details)"
#define LOG_SELECT \
	"SELECT a.seq, DATE_FORMAT(a.`timestamp`, '%Y-%m-%dT%H:%i:%sZ'), " \
	"u.email, a.user_id, o.name, a.organization_id, a.action, " \
	"a.resource_type, a.resource_id, a.ip_address, a.user_agent, " \
	LOG_DETAILS " FROM audit_logs a LEFT JOIN users u ON u.id = " \
	"a.user_id LEFT JOIN organizations o ON o.id = a.organization_id " \
	"WHERE 1 = 1"

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
	/* A list row is about its environment and the secrets it lists. */
	if (rc == 0)
		rc = q_cond(q, f->rtype && !strcmp(f->rtype, "secret") ?
			    " AND (a.resource_type = ? OR " IS_LIST ")" :
			    " AND a.resource_type = ?", f->rtype);
	if (rc == 0)
		rc = q_cond(q, " AND a.`timestamp` >= ?", f->since);
	if (rc == 0)
		rc = q_cond(q, " AND a.`timestamp` < ?", f->until);
	return rc < 0 ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}

/* The session's GROUP_CONCAT limit (1 MiB by default, about 19 000
 * reads) up to what a result may carry anyway: a list cut short would
 * not parse and show without its reads. */
static int lists_whole(struct vc_db *db, struct vc_err *e)
{
	return vc_db_simple(db, "SET SESSION group_concat_max_len = "
			    "@@max_allowed_packet", e);
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
	rc = lists_whole(db, e);
	if (rc == 0 && after > 0)
		rc = cursor_time(db, after, ts, e);
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
	int rc = lists_whole(db, e);

	*rows = NULL;
	if (rc == 0)
		rc = q_filter(&q, f, e);
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
