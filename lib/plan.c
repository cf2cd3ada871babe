/* plan.c - plans, subscriptions, usage and quota checks.
 *
 * A subscription change locks what a secret create locks, in the same
 * order: first the organization's active subscription row, written
 * (write_seq + 1, lib/secret.c's quota lock), then the organization row
 * (which a create's foreign key check reads).  Writes, not SELECT ... FOR
 * UPDATE, so that concurrent changes serialise on a Galera cluster too
 * (doc/architecture.md, section 7); the same order, so that a subscribe and a create
 * wait for each other instead of deadlocking.  Writing the organization
 * row also serialises two subscribes when there is no active
 * subscription to lock.
 */
#include "plan.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"

/* ---- pure validators ---- */

static int reason(struct vc_err *e, const char *why)
{
	return vc_err_set(e, VC_EUSAGE, "%s", why);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const char *s)
{
	size_t n = 0;

	while (is_digit(s[n]))
		n++;
	return n;
}

int vc_plan_price_check(const char *s, struct vc_err *e)
{
	size_t whole, frac;

	if (!s || !*s)
		return reason(e, "empty (use a decimal such as 9.99)");
	whole = digits(s);
	if (whole == 0 || (s[whole] && s[whole] != '.'))
		return reason(e, "not a plain decimal such as 9.99");
	if (s[0] == '0' && whole > 1)
		return reason(e, "leading zeros");
	if (whole > 8)
		return reason(e, "more than 99999999.99");
	if (!s[whole])
		return 0;
	frac = digits(s + whole + 1);
	if (s[whole + 1 + frac])
		return reason(e, "not a plain decimal such as 9.99");
	if (frac == 0)
		return reason(e, "no digits after the decimal point");
	if (frac > 2)
		return reason(e, "more than two decimal places");
	return 0;
}

int vc_plan_cycle_check(const char *s, struct vc_err *e)
{
	if (s && (!strcmp(s, "monthly") || !strcmp(s, "yearly")))
		return 0;
	return reason(e, "not monthly or yearly");
}

/* Length of the valid UTF-8 sequence at p (at most left bytes), or 0.
 * Refuses overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t n;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if (n > left || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

/* Copies a string token.  cJSON has checked its escapes, but it lets raw
 * control characters, invalid UTF-8 and a \u without four hex digits
 * (read as U+0000) through, which the JSON column (and every strict
 * reader) refuses. */
static int copy_string(const char **pp, const char *end, struct vc_buf *out,
		       struct vc_err *e)
{
	const unsigned char *p = (const unsigned char *)*pp + 1;
	size_t n;

	vc_buf_addch(out, '"');
	while (p < (const unsigned char *)end && *p != '"') {
		n = 1;
		if (*p < 0x20)
			return reason(e, "control character inside a string");
		if (*p == '\\') {
			n = p[1] == 'u' ? 6 : 2;
			for (size_t i = 2; i < n; i++)
				if (p + i >= (const unsigned char *)end ||
				    !isxdigit(p[i]))
					return reason(e, "invalid \\u escape "
						      "inside a string");
		} else if (*p >= 0x80 && !(n = utf8_len(p, (size_t)(
				 (const unsigned char *)end - p))))
			return reason(e, "invalid UTF-8 inside a string");
		vc_buf_add(out, p, n);
		p += n;
	}
	vc_buf_addch(out, '"');
	*pp = (const char *)p + 1;
	return 0;
}

/* Copies a number token, held to RFC 8259's grammar: cJSON hands the
 * token to strtod, which also takes "01", "1." and "1.e5".  The check
 * reads the copy, which is NUL-terminated where the input may not be. */
static int copy_number(const char **pp, const char *end, struct vc_buf *out,
		       struct vc_err *e)
{
	const char *p = *pp, *s;
	size_t at = out->len, n;

	while (p < end && (is_digit(*p) || strchr("+-.eE", *p)))
		p++;
	n = (size_t)(p - *pp);
	*pp = p;
	if (vc_buf_add(out, p - n, n) < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	s = out->data + at;
	if (*s == '-')
		s++;
	if (!is_digit(*s) || (*s == '0' && is_digit(s[1])))
		return reason(e, "invalid number");
	s += digits(s);
	if (*s == '.') {
		if (!is_digit(*++s))
			return reason(e, "invalid number");
		s += digits(s);
	}
	if (*s == 'e' || *s == 'E') {
		s += s[1] == '+' || s[1] == '-' ? 2 : 1;
		if (!is_digit(*s))
			return reason(e, "invalid number");
		s += digits(s);
	}
	return *s ? reason(e, "invalid number") : 0;
}

/* Copies JSON text that cJSON accepted, without insignificant white
 * space, holding tokens to the strict grammar. */
static int strict_copy(const char *p, const char *end, struct vc_buf *out,
		       struct vc_err *e)
{
	int rc = 0;

	while (rc == 0 && p < end) {
		if (strchr(" \t\r\n", *p))
			p++;
		else if (*p == '"')
			rc = copy_string(&p, end, out, e);
		else if (*p == '-' || is_digit(*p))
			rc = copy_number(&p, end, out, e);
		/* cJSON skips control bytes and a byte order mark there */
		else if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x80)
			rc = reason(e, "invalid character outside a string");
		else
			vc_buf_addch(out, *p++);
	}
	return rc;
}

static const char *json_kind(const cJSON *j)
{
	if (cJSON_IsArray(j))
		return "not a JSON object but an array";
	if (cJSON_IsString(j))
		return "not a JSON object but a string";
	if (cJSON_IsNumber(j))
		return "not a JSON object but a number";
	if (cJSON_IsNull(j))
		return "not a JSON object but null";
	return "not a JSON object but a boolean";
}

static int features_check(const char *text, size_t n, struct vc_err *e)
{
	const char *end = NULL;
	cJSON *j;
	int rc = 0;

	if (n > VC_PLAN_FEATURES_MAX)
		return vc_err_set(e, VC_EUSAGE, "longer than %d bytes",
				  VC_PLAN_FEATURES_MAX);
	if (memchr(text, '\0', n))
		return reason(e, "contains a NUL byte");
	j = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	if (!j)
		return vc_err_set(e, VC_EUSAGE, "invalid JSON at byte %zu",
				  end && end >= text ? (size_t)(end - text) : 0);
	if (!cJSON_IsObject(j))
		rc = reason(e, json_kind(j));
	cJSON_Delete(j);
	for (; rc == 0 && end < text + n; end++)
		if (!strchr(" \t\r\n", *end))
			rc = vc_err_set(e, VC_EUSAGE, "invalid JSON at byte %zu: "
					"text after the object",
					(size_t)(end - text));
	return rc;
}

int vc_plan_features_parse(const char *text, size_t n, char **out,
			   struct vc_err *e)
{
	struct vc_buf b = VC_BUF_INIT;
	int rc;

	*out = NULL;
	if (n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;      /* a byte order mark is no part of the JSON */
		n -= 3;
	}
	rc = features_check(text, n, e);
	if (rc == 0)
		rc = strict_copy(text, text + n, &b, e);
	if (rc == 0 && !b.data)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0)
		*out = vc_buf_detach(&b, NULL);
	vc_buf_release(&b);
	return rc;
}

static int num_at(const char *s, size_t at, size_t n)
{
	int v = 0;

	for (size_t i = at; i < at + n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

int vc_plan_date_parse(const char *s, char out[20], struct vc_err *e)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t n = s ? strlen(s) : 0;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	char buf[64];

	if (n != 10 && n != 19 && !(n == 20 && s[19] == 'Z'))
		return reason(e, "not an ISO 8601 date (YYYY-MM-DD or "
			      "YYYY-MM-DDTHH:MM:SSZ, UTC)");
	for (size_t i = 0; i < n && i < 19; i++)
		if (pat[i] == 'd' ? !is_digit(s[i]) : s[i] != pat[i])
			return reason(e, "not an ISO 8601 date (YYYY-MM-DD or "
				      "YYYY-MM-DDTHH:MM:SSZ, UTC)");
	y = num_at(s, 0, 4);
	mo = num_at(s, 5, 2);
	d = num_at(s, 8, 2);
	if (n > 10) {
		h = num_at(s, 11, 2);
		mi = num_at(s, 14, 2);
		sec = num_at(s, 17, 2);
	}
	if (y < 1970)
		return reason(e, "years before 1970 are refused");
	if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 ||
	    mi > 59 || sec > 59)
		return reason(e, "no such date or time");
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d,
		 h, mi, sec);
	memcpy(out, buf, 20);
	return 0;
}

/* ---- helpers over the database ---- */

static int need_admin(struct vc_session *s, struct vc_err *e)
{
	return vc_ref_need_admin(s, "only global admins manage plans", e);
}

static int metadata(struct vc_session *s, struct vc_db **db,
		    struct vc_err *e)
{
	return vc_session_db(s, VC_DB_METADATA, db, e);
}

struct plan_row {
	char id[37];
	char name[256];
	long long limit;        /* -1 unlimited */
};

static int plan_find(struct vc_db *db, const char *plan, int lock,
		     struct plan_row *p, struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, lock ? "SELECT id, name, secrets_limit "
			 "FROM plans WHERE name = ? OR id = ? FOR UPDATE" :
			 "SELECT id, name, secrets_limit FROM plans WHERE name = "
			 "? OR id = ?", "ss", plan, plan);
	if (rc < 0)
		return rc;
	if (vc_res_rows(r) == 0) {
		vc_res_free(r);
		return vc_err_set(e, VC_ENOTFOUND, "plan '%.80s' not found", plan);
	}
	snprintf(p->id, sizeof(p->id), "%s", vc_res_get(r, 0, 0, NULL));
	snprintf(p->name, sizeof(p->name), "%s", vc_res_get(r, 0, 1, NULL));
	p->limit = vc_res_get(r, 0, 2, NULL) ? vc_res_int(r, 0, 2) : -1;
	vc_res_free(r);
	return 0;
}

/* Audit details as a JSON object; NULL members are left out. */
static char *details(const char *const *kv, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	for (size_t i = 0; o && i + 1 < n; i += 2)
		if (kv[i + 1])
			cJSON_AddStringToObject(o, kv[i], kv[i + 1]);
	s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return s;
}

static int audit(struct vc_session *s, struct vc_db *db, const char *org,
		 const char *action, const char *rtype, const char *rid,
		 const char *const *kv, size_t n, struct vc_err *e)
{
	char *d = details(kv, n);
	struct vc_audit_ev ev = { org, action, rtype, rid, d };
	int rc;

	if (!d)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	rc = vc_audit_write(s, db, &ev, 1, e);
	free(d);
	return rc;
}

/* ---- plans ---- */

static int spec_check(const struct vc_plan_spec *p, struct vc_err *e)
{
	char *f = NULL;
	int rc = 0;

	if (p->price && vc_plan_price_check(p->price, e) < 0)
		return vc_err_prefix(e, "invalid price '%s'", p->price);
	if (p->cycle && vc_plan_cycle_check(p->cycle, e) < 0)
		return vc_err_prefix(e, "invalid billing cycle '%s'", p->cycle);
	if (p->has_limit && (p->limit < -1 || p->limit > 2147483647LL))
		return vc_err_set(e, VC_EUSAGE, "invalid secrets limit %lld",
				  p->limit);
	if (p->features)
		rc = vc_plan_features_parse(p->features, strlen(p->features),
					    &f, e);
	free(f);
	if (rc < 0)
		return vc_err_prefix(e, "invalid features");
	if (p->desc && strlen(p->desc) > 65535)
		return vc_err_set(e, VC_EUSAGE, "description is longer than "
				  "65535 bytes");
	return 0;
}

struct plan_op {
	struct vc_session *s;
	const char *name;               /* as given */
	const struct vc_plan_spec *p;
};

static void limit_text(const struct vc_plan_spec *p, char buf[24],
		       const char **out)
{
	snprintf(buf, 24, "%lld", p->limit);
	*out = p->has_limit && p->limit >= 0 ? buf : NULL;
}

static int create_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct plan_op *a = arg;
	const struct vc_plan_spec *p = a->p;
	const char *lim;
	char id[37], buf[24];
	int rc;

	vc_uuid(id);
	limit_text(p, buf, &lim);
	/* The price and the limit go as text: the server converts decimal
	 * text to DECIMAL(10,2) exactly. */
	rc = vc_db_exec(db, NULL, e, "INSERT INTO plans (id, name, description, "
			"price, billing_cycle, secrets_limit, features, "
			"created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
			"UTC_TIMESTAMP(), UTC_TIMESTAMP())", "sssssss", id,
			a->name, p->desc, p->price, p->cycle, lim, p->features);
	if (rc == VC_ECONFLICT)
		return vc_err_set(e, VC_ECONFLICT, "plan '%.80s' already exists",
				  a->name);
	if (rc < 0)
		return rc;
	return audit(a->s, db, NULL, "plan.create", "plan", id,
		     (const char *[]){ "name", a->name, "price", p->price,
				       "cycle", p->cycle, "secrets_limit",
				       lim ? lim : "unlimited" }, 8, e);
}

int vc_plan_create(struct vc_session *s, const char *name,
		   const struct vc_plan_spec *p, struct vc_err *e)
{
	struct plan_op a = { s, name, p };
	struct vc_db *db;
	int rc = need_admin(s, e);

	if (rc == 0)
		rc = vc_name_check("plan", name, e);
	if (rc == 0 && (!p->price || !p->cycle))
		rc = vc_err_set(e, VC_EUSAGE, "a plan needs a price and a "
				"billing cycle (--price, --cycle)");
	if (rc == 0)
		rc = spec_check(p, e);
	if (rc == 0)
		rc = metadata(s, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, create_txn, &a, e);
}

static int set_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct plan_op *a = arg;
	const struct vc_plan_spec *p = a->p;
	struct plan_row pl;
	const char *lim;
	char buf[24];
	int rc = plan_find(db, a->name, 1, &pl, e);

	limit_text(p, buf, &lim);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE plans SET price = "
				"COALESCE(?, price), billing_cycle = COALESCE(?, "
				"billing_cycle), secrets_limit = IF(?, ?, "
				"secrets_limit), features = COALESCE(?, features), "
				"description = COALESCE(?, description), updated_at "
				"= UTC_TIMESTAMP() WHERE id = ?", "ssissss",
				p->price, p->cycle, p->has_limit, lim, p->features,
				p->desc, pl.id);
	if (rc < 0)
		return rc;
	return audit(a->s, db, NULL, "plan.update", "plan", pl.id,
		     (const char *[]){ "name", pl.name, "price", p->price,
				       "cycle", p->cycle, "secrets_limit",
				       p->has_limit ? (lim ? lim : "unlimited")
						    : NULL,
				       "features", p->features ? "changed" : NULL,
				       "description", p->desc ? "changed" : NULL },
		     12, e);
}

int vc_plan_set(struct vc_session *s, const char *plan,
		const struct vc_plan_spec *p, struct vc_err *e)
{
	struct plan_op a = { s, plan, p };
	struct vc_db *db;
	int rc = need_admin(s, e);

	if (rc == 0 && !p->price && !p->cycle && !p->has_limit &&
	    !p->features && !p->desc)
		rc = vc_err_set(e, VC_EUSAGE, "nothing to change (use --price, "
				"--cycle, --secrets-limit, --features or "
				"--description)");
	if (rc == 0)
		rc = spec_check(p, e);
	if (rc == 0)
		rc = metadata(s, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, set_txn, &a, e);
}

static int rm_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct plan_op *a = arg;
	struct plan_row pl;
	struct vc_res *r;
	long long subs, orgs;
	int rc = plan_find(db, a->name, 1, &pl, e);

	if (rc == 0)
		rc = vc_db_query(db, &r, e, "SELECT (SELECT COUNT(*) FROM "
				 "subscriptions WHERE plan_id = ?), (SELECT "
				 "COUNT(*) FROM organizations WHERE plan_id = ?)",
				 "ss", pl.id, pl.id);
	if (rc < 0)
		return rc;
	subs = vc_res_int(r, 0, 0);
	orgs = vc_res_int(r, 0, 1);
	vc_res_free(r);
	/* Past subscriptions count too: they are the billing history. */
	if (subs || orgs)
		return vc_err_set(e, VC_ECONFLICT, "plan '%s' is still in use: "
				  "organizations %lld, subscriptions %lld (past "
				  "ones included)", pl.name, orgs, subs);
	rc = vc_db_exec(db, NULL, e, "DELETE FROM plans WHERE id = ?", "s",
			pl.id);
	if (rc < 0)
		return rc;
	return audit(a->s, db, NULL, "plan.delete", "plan", pl.id,
		     (const char *[]){ "name", pl.name }, 2, e);
}

int vc_plan_remove(struct vc_session *s, const char *plan, struct vc_err *e)
{
	struct plan_op a = { s, plan, NULL };
	struct vc_db *db;
	int rc = need_admin(s, e);

	if (rc == 0)
		rc = metadata(s, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, rm_txn, &a, e);
}

#define ISO(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

#define PLAN_SELECT "SELECT p.name, p.price, p.billing_cycle, " \
	"p.secrets_limit, p.features, p.description, (SELECT COUNT(*) FROM " \
	"subscriptions s WHERE s.plan_id = p.id AND s.status = 'active'), " \
	"p.id, " ISO("p.created_at") ", " ISO("p.updated_at") " FROM plans p "

int vc_plan_query(struct vc_session *s, const char *plan,
		  struct vc_res **out, struct vc_err *e)
{
	struct vc_db *db;
	int rc = metadata(s, &db, e);

	if (rc == 0 && !plan)
		return vc_db_query(db, out, e, PLAN_SELECT "ORDER BY p.price, "
				   "p.name", "");
	if (rc == 0)
		rc = vc_db_query(db, out, e, PLAN_SELECT "WHERE p.name = ? OR "
				 "p.id = ?", "ss", plan, plan);
	if (rc == 0 && vc_res_rows(*out) == 0) {
		vc_res_free(*out);
		*out = NULL;
		rc = vc_err_set(e, VC_ENOTFOUND, "plan '%.80s' not found", plan);
	}
	return rc;
}

/* ---- subscriptions ---- */

/* The organization's quota lock, then the organization row, which is all
 * there is to lock when it has no active subscription yet. */
static int lock_org(struct vc_db *db, const char *org, struct vc_err *e)
{
	int rc = vc_plan_quota_lock(db, org, e);

	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE organizations SET "
				"updated_at = UTC_TIMESTAMP() WHERE id = ?", "s",
				org);
	return rc;
}

/* The active subscription's id and plan name ("" when none). */
static int active_sub(struct vc_db *db, const char *org, char id[37],
		      char plan[256], struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT s.id, p.name FROM subscriptions s "
			 "JOIN plans p ON p.id = s.plan_id WHERE s.organization_id "
			 "= ? AND s.status = 'active' ORDER BY s.start_date DESC "
			 "LIMIT 1", "s", org);
	if (rc < 0)
		return rc;
	id[0] = plan[0] = '\0';
	if (vc_res_rows(r)) {
		snprintf(id, 37, "%s", vc_res_get(r, 0, 0, NULL));
		snprintf(plan, 256, "%s", vc_res_get(r, 0, 1, NULL));
	}
	vc_res_free(r);
	return 0;
}

static int live_secrets(struct vc_db *db, const char *org, long long *n,
			struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT COUNT(*) FROM secret_metadata WHERE "
			 "organization_id = ? AND deleted_at IS NULL", "s", org);
	if (rc < 0)
		return rc;
	*n = vc_res_int(r, 0, 0);
	vc_res_free(r);
	return 0;
}

/* Cancels the active subscription: it ends now, or when it already
 * ended if that is past (expire has not run yet). */
static int end_active(struct vc_db *db, const char *org, struct vc_err *e)
{
	return vc_db_exec(db, NULL, e, "UPDATE subscriptions SET status = "
			  "'canceled', end_date = IF(end_date IS NULL OR "
			  "end_date > UTC_TIMESTAMP(), UTC_TIMESTAMP(), "
			  "end_date), updated_at = UTC_TIMESTAMP() WHERE "
			  "organization_id = ? AND status = 'active'", "s", org);
}

struct sub_op {
	struct vc_session *s;
	const struct vc_ref *org;
	const struct vc_plan_sub *sub;
	const char *start, *end;        /* DATETIME text or NULL */
	long long used, limit;
};

static int sub_insert(struct vc_db *db, const struct sub_op *a,
		      const struct plan_row *pl, char id[37], struct vc_err *e)
{
	char lim[24];

	snprintf(lim, sizeof(lim), "%lld", pl->limit);
	vc_uuid(id);
	return vc_db_exec(db, NULL, e, "INSERT INTO subscriptions (id, "
			  "organization_id, plan_id, status, secrets_limit, "
			  "start_date, end_date, created_at, updated_at) VALUES "
			  "(?, ?, ?, 'active', ?, COALESCE(?, UTC_TIMESTAMP()), ?, "
			  "UTC_TIMESTAMP(), UTC_TIMESTAMP())", "ssssss", id,
			  a->org->org_id, pl->id, pl->limit < 0 ? NULL : lim,
			  a->start, a->end);
}

static int subscribe_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct sub_op *a = arg;
	const char *org = a->org->org_id;
	struct plan_row pl;
	char old_id[37], old_plan[256], id[37], used[24];
	int rc = lock_org(db, org, e);

	if (rc == 0)
		rc = plan_find(db, a->sub->plan, 0, &pl, e);
	if (rc == 0)
		rc = live_secrets(db, org, &a->used, e);
	if (rc < 0)
		return rc;
	a->limit = pl.limit;
	if (pl.limit >= 0 && a->used > pl.limit && !a->sub->force)
		return vc_err_set(e, VC_EQUOTA, "plan '%s' allows %lld secrets "
				  "but organization '%s' holds %lld (remove some, "
				  "or use --force)", pl.name, pl.limit,
				  a->org->org, a->used);
	rc = active_sub(db, org, old_id, old_plan, e);
	if (rc == 0)
		rc = end_active(db, org, e);
	if (rc == 0)
		rc = sub_insert(db, a, &pl, id, e);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE organizations SET plan_id = "
				"?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
				"ss", pl.id, org);
	snprintf(used, sizeof(used), "%lld", a->used);
	return rc < 0 ? rc : audit(a->s, db, org, "subscription.create",
		"subscription", id, (const char *[]){ "plan", pl.name,
		"previous", old_plan[0] ? old_plan : NULL, "secrets", used,
		"forced", a->sub->force && pl.limit >= 0 &&
		a->used > pl.limit ? "true" : NULL }, 8, e);
}

static int check_dates(struct sub_op *a, char start[20], char end[20],
		       struct vc_err *e)
{
	char now[20];
	time_t t = time(NULL);
	struct tm tm;

	if (a->sub->start && vc_plan_date_parse(a->sub->start, start, e) < 0)
		return vc_err_prefix(e, "invalid start date '%s'", a->sub->start);
	if (a->sub->end && vc_plan_date_parse(a->sub->end, end, e) < 0)
		return vc_err_prefix(e, "invalid end date '%s'", a->sub->end);
	a->start = a->sub->start ? start : NULL;
	a->end = a->sub->end ? end : NULL;
	if (!a->end)
		return 0;
	/* This host's clock, not the server's: good enough to refuse a
	 * subscription that would be over before it starts. */
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S", &tm);
	/* The canonical form orders as text. */
	if (strcmp(end, a->start ? start : now) <= 0)
		return vc_err_set(e, VC_EUSAGE, "the end date must be after the "
				  "start date");
	if (strcmp(end, now) <= 0)
		return vc_err_set(e, VC_EUSAGE, "the end date is in the past");
	return 0;
}

int vc_plan_subscribe(struct vc_session *s, const struct vc_ref *org,
		      const struct vc_plan_sub *sub, long long *used,
		      long long *limit, struct vc_err *e)
{
	struct sub_op a = { s, org, sub, NULL, NULL, 0, -1 };
	char start[20], end[20];
	struct vc_db *db;
	int rc = vc_ref_need(s, org, VC_ROLE_OWNER, "changing the subscription",
			     e);

	if (rc == 0)
		rc = check_dates(&a, start, end, e);
	if (rc == 0)
		rc = metadata(s, &db, e);
	if (rc == 0)
		rc = vc_db_txn(db, subscribe_txn, &a, e);
	*used = a.used;
	*limit = a.limit;
	return rc;
}

static int cancel_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct sub_op *a = arg;
	const char *org = a->org->org_id;
	char id[37], plan[256];
	int rc = lock_org(db, org, e);

	if (rc == 0)
		rc = active_sub(db, org, id, plan, e);
	if (rc < 0)
		return rc;
	if (!id[0])
		return vc_err_set(e, VC_ENOTFOUND, "organization '%s' has no "
				  "active subscription", a->org->org);
	rc = end_active(db, org, e);
	if (rc == 0)
		rc = vc_db_exec(db, NULL, e, "UPDATE organizations SET plan_id = "
				"NULL WHERE id = ?", "s", org);
	return rc < 0 ? rc : audit(a->s, db, org, "subscription.cancel",
				   "subscription", id,
				   (const char *[]){ "plan", plan }, 2, e);
}

int vc_plan_cancel(struct vc_session *s, const struct vc_ref *org,
		   struct vc_err *e)
{
	struct sub_op a = { s, org, NULL, NULL, NULL, 0, -1 };
	struct vc_db *db;
	int rc = vc_ref_need(s, org, VC_ROLE_OWNER, "changing the subscription",
			     e);

	if (rc == 0)
		rc = metadata(s, &db, e);
	return rc < 0 ? rc : vc_db_txn(db, cancel_txn, &a, e);
}

/* Expires row i of r (id, organization_id, plan, end_date) unless a
 * concurrent run did first: the UPDATE re-reads the row's current status
 * under its lock.  *done says whether this run expired it. */
static int expire_one(struct vc_session *s, struct vc_db *db,
		      const struct vc_res *r, size_t i, int *done,
		      struct vc_err *e)
{
	const char *id = vc_res_get(r, i, 0, NULL);
	const char *org = vc_res_get(r, i, 1, NULL);
	unsigned long long n = 0;
	int rc;

	rc = vc_db_exec(db, &n, e, "UPDATE subscriptions SET status = "
			"'expired', updated_at = UTC_TIMESTAMP() WHERE id = ? AND "
			"status = 'active'", "s", id);
	*done = rc == 0 && n == 1;
	if (rc < 0 || !*done)
		return rc;
	rc = vc_db_exec(db, NULL, e, "UPDATE organizations o SET o.plan_id = "
			"NULL WHERE o.id = ? AND NOT EXISTS (SELECT 1 FROM "
			"subscriptions s WHERE s.organization_id = o.id AND "
			"s.status = 'active')", "s", org);
	return rc < 0 ? rc : audit(s, db, org, "subscription.expire",
				   "subscription", id, (const char *[]){ "plan",
				   vc_res_get(r, i, 2, NULL), "end_date",
				   vc_res_get(r, i, 3, NULL) }, 4, e);
}

struct expire_op {
	struct vc_session *s;
	long long n;
};

/* Safe to run twice at once: both may find the same candidates, but each
 * row is expired (and audited) by whichever UPDATE gets it first; on
 * Galera the second writer fails certification and runs again. */
static int expire_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct expire_op *a = arg;
	struct vc_res *r = NULL;
	int rc, done;

	a->n = 0;
	rc = vc_db_query(db, &r, e, "SELECT s.id, s.organization_id, p.name, "
			 ISO("s.end_date") " FROM subscriptions s JOIN plans p "
			 "ON p.id = s.plan_id WHERE s.status = 'active' AND "
			 "s.end_date < UTC_TIMESTAMP() ORDER BY s.organization_id, "
			 "s.id", "");
	for (size_t i = 0; rc == 0 && i < vc_res_rows(r); i++) {
		rc = expire_one(a->s, db, r, i, &done, e);
		a->n += done;
	}
	vc_res_free(r);
	return rc;
}

int vc_plan_expire(struct vc_session *s, long long *n, struct vc_err *e)
{
	struct expire_op a = { s, 0 };
	struct vc_db *db;
	int rc = metadata(s, &db, e);

	if (rc == 0)
		rc = vc_db_txn(db, expire_txn, &a, e);
	*n = rc == 0 ? a.n : 0;
	return rc;
}

int vc_plan_history(struct vc_session *s, const struct vc_ref *org,
		    struct vc_res **out, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_ref_need(s, org, VC_ROLE_ADMIN, "reading the subscriptions",
			     e);

	if (rc == 0)
		rc = metadata(s, &db, e);
	if (rc < 0)
		return rc;
	/* created_at has one-second resolution: the active one (the newest)
	 * goes first among ties. */
	return vc_db_query(db, out, e, "SELECT p.name, s.status, "
			   "s.secrets_limit, " ISO("s.start_date") ", "
			   ISO("s.end_date") ", " ISO("s.created_at") ", s.id "
			   "FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
			   "WHERE s.organization_id = ? ORDER BY s.created_at "
			   "DESC, s.status = 'active' DESC, s.start_date DESC, "
			   "s.id", "s", org->org_id);
}

/* ---- usage and quota ---- */

/* used/limit in percent with one decimal, rounded, in integers. */
static void percent(struct vc_plan_usage *u)
{
	long long tenths;

	u->percent[0] = '\0';
	if (u->limit < 0)
		return;
	tenths = u->limit ? (u->used * 1000 + u->limit / 2) / u->limit :
		 1000;
	snprintf(u->percent, sizeof(u->percent), "%lld.%lld", tenths / 10,
		 tenths % 10);
}

static int usage_row(struct vc_db *db, const char *org,
		     struct vc_plan_usage *u, struct vc_err *e)
{
	struct vc_res *r;
	int rc;

	rc = vc_db_query(db, &r, e, "SELECT (SELECT COUNT(*) FROM "
			 "secret_metadata WHERE organization_id = o.id AND "
			 "deleted_at IS NULL), s.id IS NOT NULL, p.name, "
			 "s.secrets_limit, COALESCE(u.api_calls, 0) FROM "
			 "organizations o LEFT JOIN subscriptions s ON "
			 "s.organization_id = o.id AND s.status = 'active' LEFT "
			 "JOIN plans p ON p.id = s.plan_id LEFT JOIN "
			 "usage_statistics u ON u.organization_id = o.id WHERE "
			 "o.id = ? ORDER BY s.start_date DESC LIMIT 1", "s", org);
	if (rc < 0)
		return rc;
	memset(u, 0, sizeof(*u));
	u->limit = -1;
	if (vc_res_rows(r)) {
		u->used = vc_res_int(r, 0, 0);
		u->active = vc_res_int(r, 0, 1) != 0;
		snprintf(u->plan, sizeof(u->plan), "%s",
			 u->active ? vc_res_get(r, 0, 2, NULL) : "");
		if (vc_res_get(r, 0, 3, NULL))
			u->limit = vc_res_int(r, 0, 3);
		u->api_calls = vc_res_int(r, 0, 4);
	}
	vc_res_free(r);
	percent(u);
	return 0;
}

int vc_plan_usage(struct vc_session *s, const struct vc_ref *org,
		  struct vc_plan_usage *u, struct vc_res **envs,
		  struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_ref_need(s, org, VC_ROLE_VIEWER, "showing usage", e);

	if (rc == 0)
		rc = metadata(s, &db, e);
	if (rc == 0)
		rc = usage_row(db, org->org_id, u, e);
	if (rc < 0 || !envs)
		return rc;
	return vc_db_query(db, envs, e, "SELECT p.name, en.name, COUNT(sm.id) "
			   "FROM projects p LEFT JOIN environments en ON "
			   "en.project_id = p.id LEFT JOIN secret_metadata sm ON "
			   "sm.environment = en.id AND sm.deleted_at IS NULL "
			   "WHERE p.organization_id = ? GROUP BY p.id, p.name, "
			   "en.id, en.name ORDER BY p.name, en.name", "s",
			   org->org_id);
}

int vc_plan_quota_lock(struct vc_db *db, const char *org_id,
		       struct vc_err *e)
{
	return vc_db_exec(db, NULL, e, "UPDATE subscriptions SET write_seq = "
			  "write_seq + 1 WHERE organization_id = ? AND status = "
			  "'active'", "s", org_id);
}

int vc_plan_quota(struct vc_db *db, const struct vc_ref *org, long need,
		  struct vc_plan_usage *u, struct vc_err *e)
{
	int rc = usage_row(db, org->org_id, u, e);

	if (rc < 0)
		return rc;
	if (!u->active)
		return vc_err_set(e, VC_EQUOTA, "quota exceeded: organization "
				  "'%s' has no active subscription", org->org);
	if (u->limit >= 0 && u->used + need > u->limit)
		return vc_err_set(e, VC_EQUOTA, "quota exceeded: organization "
				  "'%s' holds %lld of %lld secrets its plan '%s' "
				  "allows, no room for %ld more", org->org, u->used,
				  u->limit, u->plan, need);
	return 0;
}

int vc_plan_check(struct vc_session *s, const struct vc_ref *org, long need,
		  struct vc_plan_usage *u, struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_ref_need(s, org, VC_ROLE_VIEWER, "showing usage", e);

	if (rc == 0)
		rc = metadata(s, &db, e);
	return rc < 0 ? rc : vc_plan_quota(db, org, need, u, e);
}
