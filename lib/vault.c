/* vault.c - the value store on HashiCorp Vault KV v2 (doc/architecture.md,
 * section 6).  A value is stored as {"value": "<text>"} when its bytes are
 * UTF-8 without NUL, which JSON carries unchanged, else as
 * {"value": "<base64>", "encoding": "base64"}: get returns exactly the
 * bytes put.  Transfers and retries are in vault_http.c, settings in
 * vault_env.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "vault_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONCURRENCY 8
#define MAX_CONCURRENCY 64

static int oom(struct vc_err *e)
{
	return vc_err_set(e, VC_EFAIL, "out of memory");
}

static struct vault *vault_of(struct vc_store *s)
{
	return (struct vault *)s;
}

/* ---- JSON ---- */

/* cJSON copies strings it parses: wipe them, values among them, before
 * the tree is freed. */
static void json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring && !(j->type & cJSON_IsReference))
			sodium_memzero(j->valuestring, strlen(j->valuestring));
		json_wipe(j->child);
	}
}

static void json_free(cJSON *j)
{
	json_wipe(j);
	cJSON_Delete(j);
}

static cJSON *json_at(const cJSON *j, const char *a, const char *b)
{
	cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);

	return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

static int json_int(const cJSON *j, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsNumber(x) ? x->valueint : 0;
}

/* The bytes cJSON prints for string s, quotes included. */
static size_t json_escaped_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++) {
		if (strchr("\"\\\b\f\n\r\t", *s))
			n += 2;
		else
			n += (unsigned char)*s < 0x20 ? 6 : 1;
	}
	return n;
}

/* Prints into a secret buffer sized up front, so that no copy of the
 * strings (a value, a secret id) is left in memory cJSON would free
 * without wiping.  strings: json_escaped_len() of the long strings. */
static int json_print(const cJSON *root, size_t strings, struct vc_buf *out)
{
	size_t cap = strings + 256;

	out->secret = 1;
	vc_buf_reset(out);
	if (cap > INT_MAX || vc_buf_grow(out, cap) < 0 ||
	    !cJSON_PrintPreallocated((cJSON *)root, out->data, (int)cap, 0))
		return VC_EFAIL;
	out->len = strlen(out->data);
	return 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 3339 as Vault writes it ("2018-03-22T02:24:06.945319214Z") to unix
 * seconds; "" or anything unreadable is 0. */
static int64_t rfc3339(const cJSON *j)
{
	int y, mo, d, h, mi, s, n = 0, oh, om;
	const char *p = cJSON_GetStringValue(j);
	int64_t t, off = 0;

	if (!p || sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
			 &s, &n) != 6 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	p += n;
	if (*p == '.')
		while (isdigit((unsigned char)*++p))
			;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
		off = (*p == '-' ? -60 : 60) * (oh * 60 + om);
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + s - off;
	return t > 0 ? t : 0;
}

/* ---- values ---- */

/* Well-formed UTF-8 (RFC 3629) without NUL survives JSON and Go as is. */
static int utf8_text(const unsigned char *s, size_t n)
{
	size_t i = 0, need, k;
	uint32_t cp, min;

	while (i < n) {
		if (s[i] == 0)
			return 0;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 1, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2, cp = s[i] & 0x0f, min = 0x800;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			need = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static int base64_encode(struct vc_buf *out, const void *val, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
					     sodium_base64_VARIANT_ORIGINAL);

	if (vc_buf_grow(out, n) < 0)
		return VC_EFAIL;
	sodium_bin2base64(out->data, n, val, len,
			  sodium_base64_VARIANT_ORIGINAL);
	out->len = n - 1;
	return 0;
}

static int put_body(struct vc_buf *out, const void *val, size_t len, int cas)
{
	int b64 = !utf8_text(val, len), rc;
	cJSON *root = cJSON_CreateObject(), *data, *opt;
	struct vc_buf text;

	vc_buf_init(&text, 1);
	rc = b64 ? base64_encode(&text, val, len) : vc_buf_add(&text, val, len);
	data = cJSON_AddObjectToObject(root, "data");
	if (rc < 0 || !data ||
	    !cJSON_AddItemToObject(data, "value",
				   cJSON_CreateStringReference(text.data)) ||
	    (b64 && !cJSON_AddStringToObject(data, "encoding", "base64")))
		rc = VC_EFAIL;
	if (!rc && cas >= 0) {
		opt = cJSON_AddObjectToObject(root, "options");
		if (!opt || !cJSON_AddNumberToObject(opt, "cas", cas))
			rc = VC_EFAIL;
	}
	if (!rc)
		rc = json_print(root, json_escaped_len(text.data), out);
	cJSON_Delete(root);
	vc_buf_release(&text);
	return rc;
}

static int value_decode(const cJSON *data, struct vc_buf *out,
			struct vc_err *e)
{
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(data, "value");
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(data, "encoding");
	size_t len, n;

	if (!cJSON_IsString(val))
		return vc_err_set(e, VC_EFAIL, "the secret in vault has no "
				  "\"value\" field (not written by vaultctl?)");
	len = strlen(val->valuestring);
	if (!enc)
		return vc_buf_add(out, val->valuestring, len) < 0 ? oom(e) : 0;
	if (!cJSON_IsString(enc) || strcmp(enc->valuestring, "base64"))
		return vc_err_set(e, VC_EFAIL, "the secret in vault has an "
				  "unknown \"encoding\"");
	if (vc_buf_grow(out, len / 4 * 3 + 3) < 0)
		return oom(e);
	if (sodium_base642bin((unsigned char *)out->data, out->cap - 1,
			      val->valuestring, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return vc_err_set(e, VC_EFAIL, "the secret in vault has a "
				  "corrupt base64 value");
	out->len = n;
	out->data[n] = '\0';
	return 0;
}

/* A 404 with data.metadata is a deleted or destroyed version; without,
 * nothing was ever there. */
static int get_gone(const cJSON *meta, int version, struct vc_store_got *got,
		    struct vc_err *e)
{
	const char *dt = cJSON_GetStringValue(json_at(meta, "deletion_time",
						      NULL));

	got->destroyed = cJSON_IsTrue(json_at(meta, "destroyed", NULL));
	got->deleted = !got->destroyed && dt && *dt;
	if (!got->deleted && !got->destroyed)
		return vc_err_set(e, VC_ENOTFOUND, "not found");
	return vc_err_set(e, VC_ENOTFOUND, "version %d is %s",
			  got->version ? got->version : version,
			  got->destroyed ? "destroyed" : "deleted");
}

static int get_parse(struct vault *v, const struct vault_req *r, int version,
		     struct vc_buf *out, struct vc_store_got *got,
		     struct vc_err *e)
{
	cJSON *j, *data;
	int rc;

	memset(got, 0, sizeof(*got));
	out->secret = 1;
	vc_buf_reset(out);
	if (r->rc < 0) {
		if (e)
			*e = r->err;
		return r->rc;
	}
	/* Any other 2xx is read like a 200: passed to vault_status_err it
	 * would be a success with no value, an empty secret. */
	if ((r->status < 200 || r->status > 299) && r->status != 404)
		return vault_status_err(v, r, e);
	j = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	data = json_at(j, "data", NULL);
	got->version = json_int(json_at(data, "metadata", NULL), "version");
	if (r->status == 404)
		rc = get_gone(json_at(data, "metadata", NULL), version, got, e);
	else if (!cJSON_IsObject(json_at(data, "data", NULL)))
		rc = vc_err_set(e, VC_EFAIL, "vault's answer holds no secret");
	else
		rc = value_decode(json_at(data, "data", NULL), out, e);
	json_free(j);
	if (rc < 0)
		vc_buf_reset(out);
	return rc;
}

/* ---- requests ---- */

/* <base><mount>/<kind>/<path><query>, each segment escaped. */
static int kv_req(struct vault *v, struct vault_req *r, const char *method,
		  const char *kind, const char *path, const char *query)
{
	vault_req_init(r, method);
	if (vc_buf_addstr(&r->url, v->set.base) < 0 ||
	    vault_url_path(&r->url, v->set.mount) < 0 ||
	    vc_buf_printf(&r->url, "/%s/", kind) < 0 ||
	    vault_url_path(&r->url, path) < 0 ||
	    (query && vc_buf_addstr(&r->url, query) < 0))
		return VC_EFAIL;
	return 0;
}

static int kv_call(struct vault *v, struct vault_req *r, struct vc_err *e)
{
	int rc = vault_exec1(v, r, e);

	return rc < 0 ? rc : vault_status_err(v, r, e);
}

static void version_query(char *q, size_t n, int version)
{
	if (version > 0)
		snprintf(q, n, "?version=%d", version);
	else
		q[0] = '\0';
}

/* A write that was retried may have been applied by an attempt whose
 * answer never arrived (the connection dropped mid-response, a proxy
 * timed out): the retry's check-and-set then fails against that very
 * write.  Version cas+1 holding exactly these bytes is it.  (Writers of
 * one secret are serialised by its metadata row lock, so no one else
 * wrote cas+1 meanwhile through the tools.) */
static int put_landed(struct vault *v, const char *path, const void *val,
		      size_t len, int cas)
{
	struct vc_err ignored = { 0, "" };
	struct vc_store_got got;
	struct vault_req r;
	struct vc_buf cur;
	char q[32];
	int same = 0;

	vc_buf_init(&cur, 1);
	version_query(q, sizeof(q), cas + 1);
	if (kv_req(v, &r, "GET", "data", path, q) == 0 &&
	    vault_exec1(v, &r, &ignored) == 0 &&
	    get_parse(v, &r, cas + 1, &cur, &got, &ignored) == 0)
		same = got.version == cas + 1 && cur.len == len &&
		       (len == 0 || !memcmp(cur.data, val, len));
	vault_req_release(&r);
	vc_buf_release(&cur);
	return same;
}

static int vault_put(struct vc_store *s, const char *path, const void *val,
		     size_t len, int cas, int *new_version, struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req r;
	cJSON *j;
	int rc;

	if (kv_req(v, &r, "POST", "data", path, NULL) < 0 ||
	    put_body(&r.body, val, len, cas) < 0)
		rc = oom(e);
	else
		rc = kv_call(v, &r, e);
	/* Lost answers: the retry met the write itself (a check-and-set
	 * conflict), or the retries ran out.  Did vault take it? */
	if (cas >= 0 && ((rc == VC_ECONFLICT && r.attempts > 1) ||
			 (rc == VC_EUNAVAIL && r.lost))) {
		if (put_landed(v, path, val, len, cas)) {
			vault_notify(v, "vault had taken the write whose answer "
				     "was lost: version %d", cas + 1);
			vault_req_release(&r);
			vc_err_clear(e);
			if (new_version)
				*new_version = cas + 1;
			return 0;
		}
		if (rc == VC_EUNAVAIL)
			vc_err_prefix(e, "vault may hold the write, its answer "
				      "was lost ('vaultctl-audit reconcile' "
				      "tells)");
	}
	if (!rc && new_version) {
		j = cJSON_ParseWithLength(r.resp.data, r.resp.len);
		*new_version = json_int(json_at(j, "data", NULL), "version");
		cJSON_Delete(j);
		if (*new_version <= 0)
			rc = vc_err_set(e, VC_EFAIL, "vault's answer to the "
					"write has no version");
	}
	vault_req_release(&r);
	return rc;
}

static int vault_get(struct vc_store *s, const char *path, int version,
		     struct vc_buf *out, struct vc_store_got *got,
		     struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req r;
	char q[32];
	int rc;

	version_query(q, sizeof(q), version);
	if (kv_req(v, &r, "GET", "data", path, q) < 0)
		rc = oom(e);
	else if ((rc = vault_exec1(v, &r, e)) == 0)
		rc = get_parse(v, &r, version, out, got, e);
	vault_req_release(&r);
	return rc;
}

/* One request per item that has a path, in order; returns how many, or
 * VC_EFAIL. */
static int get_many_prepare(struct vault *v, struct vault_req *reqs,
			    const struct vc_store_item *items, size_t n,
			    size_t *m)
{
	char q[32];
	int rc = 0;

	*m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!items[i].path)
			continue;
		version_query(q, sizeof(q), items[i].version);
		if (kv_req(v, &reqs[(*m)++], "GET", "data", items[i].path,
			   q) < 0)
			rc = VC_EFAIL;
	}
	return rc;
}

static int item_fail(struct vc_store_item *it, int code, const char *msg)
{
	it->value.secret = 1;
	vc_buf_reset(&it->value);
	memset(&it->got, 0, sizeof(it->got));
	return vc_err_set(&it->err, code, "%s", msg);
}

static int vault_get_many(struct vc_store *s, struct vc_store_item *items,
			  size_t n, int concurrency, struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req *reqs = calloc(n ? n : 1, sizeof(*reqs));
	struct vc_store_item *it;
	size_t m, k = 0;
	int rc, prepared;

	if (concurrency <= 0)
		concurrency = DEFAULT_CONCURRENCY;
	if (concurrency > MAX_CONCURRENCY)
		concurrency = MAX_CONCURRENCY;
	if (!reqs)
		return oom(e);
	prepared = get_many_prepare(v, reqs, items, n, &m) == 0;
	rc = prepared ? vault_exec(v, reqs, m, concurrency, e) : oom(e);
	/* vault_exec gave every request an outcome, even when it failed. */
	for (size_t i = 0; i < n; i++) {
		it = &items[i];
		if (!it->path) {
			it->rc = item_fail(it, VC_EUSAGE, "no path given");
			continue;
		}
		it->rc = prepared ? get_parse(v, &reqs[k], it->version,
					      &it->value, &it->got, &it->err)
				  : item_fail(it, VC_EFAIL, "out of memory");
		vault_req_release(&reqs[k++]);
	}
	free(reqs);
	return rc;
}

/* The outcome of one write of a put_many: the version it made, or why
 * not (a lost answer that vault had taken counts as made).  A delete or
 * undelete that was sent counts as made even when it failed: it may
 * have been done, and taking it back is harmless when it was not. */
static int put_outcome(struct vault *v, struct vault_req *r,
		       struct vc_store_put *it, struct vc_err *e)
{
	int rc = r->rc < 0 ? r->rc : vault_status_err(v, r, e);
	cJSON *j;

	if (r->rc < 0)
		*e = r->err;
	if (it->op != VC_STORE_WRITE) {
		it->version = r->attempts ? it->cas : 0;
		return rc;
	}
	if (it->cas >= 0 && ((rc == VC_ECONFLICT && r->attempts > 1) ||
			     (rc == VC_EUNAVAIL && r->lost)) &&
	    put_landed(v, it->path, it->val, it->len, it->cas)) {
		vault_notify(v, "vault had taken the write whose answer was "
			     "lost: version %d", it->cas + 1);
		vc_err_clear(e);
		it->version = it->cas + 1;
		return 0;
	}
	if (rc < 0)
		return rc;
	j = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	it->version = json_int(json_at(j, "data", NULL), "version");
	cJSON_Delete(j);
	if (it->version <= 0) {
		it->version = 0;
		return vc_err_set(e, VC_EFAIL, "vault's answer to the write of"
				  " '%s' has no version", it->path);
	}
	return 0;
}

/* The request of one item: POST data/PATH with the value, or POST
 * delete/PATH or undelete/PATH naming version cas. */
static int put_prepare(struct vault *v, struct vault_req *r,
		       const struct vc_store_put *it)
{
	if (it->op == VC_STORE_WRITE)
		return kv_req(v, r, "POST", "data", it->path, NULL) < 0 ||
		       put_body(&r->body, it->val, it->len, it->cas) < 0 ?
		       VC_EFAIL : 0;
	if (kv_req(v, r, "POST", it->op == VC_STORE_DELETE ? "delete" :
		   "undelete", it->path, NULL) < 0 ||
	    vc_buf_printf(&r->body, "{\"versions\":[%d]}", it->cas) < 0)
		return VC_EFAIL;
	return 0;
}

/* concurrency writes in flight over the kept-alive connections; the
 * first failure is returned, every item says whether it was written. */
static int vault_set_max(struct vc_store *s, const char *path, int max,
			 struct vc_err *e);

static int vault_put_many(struct vc_store *s, struct vc_store_put *items,
			  size_t n, int concurrency, struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req *reqs = calloc(n ? n : 1, sizeof(*reqs));
	struct vc_err e1;
	int rc = reqs ? 0 : oom(e), rc1, prepared;

	if (concurrency <= 0)
		concurrency = DEFAULT_CONCURRENCY;
	if (concurrency > MAX_CONCURRENCY)
		concurrency = MAX_CONCURRENCY;
	for (size_t i = 0; i < n && rc == 0; i++) {
		items[i].version = 0;
		if (put_prepare(v, &reqs[i], &items[i]) < 0)
			rc = oom(e);
	}
	/* A new key takes the environment's limit before its first write,
	 * as a single put does; existing keys have it (env set gave it). */
	for (size_t i = 0; i < n && rc == 0; i++)
		if (items[i].max_versions > 0 && items[i].cas == 0 &&
		    items[i].op == VC_STORE_WRITE)
			rc = vault_set_max(s, items[i].path,
					   items[i].max_versions, e);
	prepared = rc == 0;
	if (prepared)
		(void)vault_exec(v, reqs, n, concurrency, e);
	/* Every outcome is read, also after a failure: the writes that
	 * succeeded are the caller's to take back. */
	for (size_t i = 0; reqs && i < n; i++) {
		rc1 = prepared ? put_outcome(v, &reqs[i], &items[i], &e1) : 0;
		if (rc == 0 && rc1 < 0) {
			rc = rc1;
			vc_err_set(e, rc1, "'%s': %s", strrchr(items[i].path,
				   '/') ? strrchr(items[i].path, '/') + 1 :
				   items[i].path, e1.msg);
		}
		vault_req_release(&reqs[i]);
	}
	free(reqs);
	return rc;
}

static int meta_versions(const cJSON *vs, struct vc_store_meta *out)
{
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(vs);
	int ver;

	out->versions = calloc(n ? n : 1, sizeof(*out->versions));
	if (!out->versions)
		return VC_EFAIL;
	cJSON_ArrayForEach(it, vs) {
		ver = it->string ? atoi(it->string) : 0;
		if (ver <= 0 || out->nversions == n)
			continue;
		out->versions[out->nversions++] = (struct vc_store_version){
			.version = ver,
			.created = rfc3339(json_at(it, "created_time", NULL)),
			.deleted = rfc3339(json_at(it, "deletion_time", NULL)),
			.destroyed = cJSON_IsTrue(json_at(it, "destroyed",
							  NULL)),
		};
	}
	return 0;
}

static int version_cmp(const void *a, const void *b)
{
	int x = ((const struct vc_store_version *)a)->version;
	int y = ((const struct vc_store_version *)b)->version;

	return (x > y) - (x < y);
}

static int vault_meta(struct vc_store *s, const char *path,
		      struct vc_store_meta *out, struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req r;
	cJSON *j, *d;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = kv_req(v, &r, "GET", "metadata", path, NULL) < 0 ? oom(e) :
	     kv_call(v, &r, e);
	if (!rc) {
		j = cJSON_ParseWithLength(r.resp.data, r.resp.len);
		d = json_at(j, "data", NULL);
		out->current_version = json_int(d, "current_version");
		out->oldest_version = json_int(d, "oldest_version");
		if (meta_versions(json_at(d, "versions", NULL), out) < 0)
			rc = oom(e);
		else
			qsort(out->versions, out->nversions,
			      sizeof(*out->versions), version_cmp);
		cJSON_Delete(j);
	}
	if (rc < 0)
		vc_store_meta_release(out);
	vault_req_release(&r);
	return rc;
}

/* POST or PUT <mount>/<kind>/<path> {"versions": [...]} */
static int kv_versions(struct vault *v, const char *method, const char *kind,
		       const char *path, const int *versions, size_t n,
		       struct vc_err *e)
{
	struct vault_req r;
	cJSON *j;
	char *body = NULL;
	int rc;

	if (n == 0)
		return vc_err_set(e, VC_EUSAGE, "no version number provided");
	if (n > INT_MAX)
		return vc_err_set(e, VC_EUSAGE, "too many versions");
	j = cJSON_CreateObject();
	if (j && cJSON_AddItemToObject(j, "versions",
				       cJSON_CreateIntArray(versions, (int)n)))
		body = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (kv_req(v, &r, method, kind, path, NULL) < 0 || !body ||
	    vc_buf_addstr(&r.body, body) < 0)
		rc = oom(e);
	else
		rc = kv_call(v, &r, e);
	cJSON_free(body);
	vault_req_release(&r);
	return rc;
}

static int kv_simple(struct vault *v, const char *method, const char *kind,
		     const char *path, struct vc_err *e)
{
	struct vault_req r;
	int rc;

	rc = kv_req(v, &r, method, kind, path, NULL) < 0 ? oom(e) :
	     kv_call(v, &r, e);
	vault_req_release(&r);
	return rc;
}

static int vault_del(struct vc_store *s, const char *path,
		     const int *versions, size_t n, struct vc_err *e)
{
	if (n == 0)
		return kv_simple(vault_of(s), "DELETE", "data", path, e);
	return kv_versions(vault_of(s), "POST", "delete", path, versions, n, e);
}

static int vault_undelete(struct vc_store *s, const char *path,
			  const int *versions, size_t n, struct vc_err *e)
{
	return kv_versions(vault_of(s), "POST", "undelete", path, versions, n,
			   e);
}

static int vault_destroy(struct vc_store *s, const char *path,
			 const int *versions, size_t n, struct vc_err *e)
{
	return kv_versions(vault_of(s), "PUT", "destroy", path, versions, n, e);
}

static int vault_delete_all(struct vc_store *s, const char *path,
			    struct vc_err *e)
{
	return kv_simple(vault_of(s), "DELETE", "metadata", path, e);
}

static int list_keys(const struct vault_req *r, char ***keys, size_t *n)
{
	cJSON *j = cJSON_ParseWithLength(r->resp.data, r->resp.len), *it;
	cJSON *arr = json_at(json_at(j, "data", NULL), "keys", NULL);
	int rc = 0;

	*keys = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**keys));
	if (!*keys)
		rc = VC_EFAIL;
	cJSON_ArrayForEach(it, arr) {
		if (rc || !cJSON_IsString(it))
			continue;
		if (!((*keys)[*n] = strdup(it->valuestring)))
			rc = VC_EFAIL;
		else
			(*n)++;
	}
	cJSON_Delete(j);
	return rc;
}

static int vault_list(struct vc_store *s, const char *prefix, char ***keys,
		      size_t *n, struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req r;
	int rc;

	*keys = NULL;
	*n = 0;
	rc = kv_req(v, &r, "GET", "metadata", prefix, "?list=true") < 0 ?
	     oom(e) : vault_exec1(v, &r, e);
	if (!rc && r.status != 404 && !(rc = vault_status_err(v, &r, e)) &&
	    list_keys(&r, keys, n) < 0) {
		vc_store_list_free(*keys, *n);
		*keys = NULL;
		*n = 0;
		rc = oom(e);
	}
	vault_req_release(&r);
	return rc;
}

static void vault_close(struct vc_store *s)
{
	struct vault *v = vault_of(s);

	vault_http_close(v);
	vault_settings_release(&v->set);
	free(v);
}

/* POST <mount>/metadata/<path>: Vault applies max_versions at the key's
 * next write, and creates the metadata of a key not written yet. */
static int vault_set_max(struct vc_store *s, const char *path, int max,
			 struct vc_err *e)
{
	struct vault *v = vault_of(s);
	struct vault_req r;
	int rc;

	if (kv_req(v, &r, "POST", "metadata", path, NULL) < 0 ||
	    vc_buf_printf(&r.body, "{\"max_versions\":%d}", max) < 0)
		rc = oom(e);
	else
		rc = kv_call(v, &r, e);
	vault_req_release(&r);
	return rc;
}

static const struct vc_store_ops vault_ops = {
	.name = "vault",
	.put = vault_put,
	.get = vault_get,
	.meta = vault_meta,
	.del = vault_del,
	.undelete = vault_undelete,
	.destroy = vault_destroy,
	.delete_all = vault_delete_all,
	.set_max = vault_set_max,
	.list = vault_list,
	.get_many = vault_get_many,
	.put_many = vault_put_many,
	.close = vault_close,
};

/* ---- authentication ---- */

static int approle_body(struct vc_buf *body, const char *role,
			const char *secret)
{
	cJSON *j = cJSON_CreateObject();
	int rc = VC_EFAIL;

	if (j && cJSON_AddItemToObject(j, "role_id",
				       cJSON_CreateStringReference(role)) &&
	    cJSON_AddItemToObject(j, "secret_id",
				  cJSON_CreateStringReference(secret)))
		rc = json_print(j, json_escaped_len(role) +
				json_escaped_len(secret), body);
	cJSON_Delete(j);
	return rc;
}

static int approle_answer(struct vault *v, const struct vault_req *r,
			  struct vc_buf *tok, struct vc_err *e)
{
	char why[160];
	const char *t;
	cJSON *j;
	int rc = 0;

	/* Vault answers a wrong role or secret id with 400. */
	if (r->status == 400 || r->status == 403) {
		vault_errors_text(r, why, sizeof(why));
		return vc_err_set(e, VC_EPERM, "vault AppRole login failed "
				  "(%s): check the role id and secret id", why);
	}
	if ((rc = vault_status_err(v, r, e)) < 0)
		return rc;
	j = cJSON_ParseWithLength(r->resp.data, r->resp.len);
	t = cJSON_GetStringValue(json_at(json_at(j, "auth", NULL),
					 "client_token", NULL));
	if (!t || !*t)
		rc = vc_err_set(e, VC_EFAIL, "vault's AppRole login answer "
				"has no client_token");
	else if (vc_buf_addstr(tok, t) < 0)
		rc = oom(e);
	json_free(j);
	return rc;
}

/* POST auth/<mount>/login {"role_id", "secret_id"}: the token is kept for
 * the run only. */
static int approle_login(struct vault *v, const struct vc_vault_conf *c,
			 struct vc_buf *tok, struct vc_err *e)
{
	struct vc_buf role, secret;
	struct vault_req r;
	int rc;

	vc_buf_init(&role, 1);
	vc_buf_init(&secret, 1);
	vault_req_init(&r, "POST");
	if (c->role_id && *c->role_id)
		rc = vc_buf_addstr(&role, c->role_id) < 0 ? oom(e) : 0;
	else
		rc = vault_read_trimmed(&role, c->role_id_file,
					"vault_role_id_file", e);
	if (!rc)
		rc = vault_read_trimmed(&secret, c->secret_id_file,
					"vault_secret_id_file", e);
	if (!rc && (vc_buf_printf(&r.url, "%sauth/", v->set.base) < 0 ||
		    vault_url_path(&r.url, c->approle_mount &&
				   *c->approle_mount ? c->approle_mount :
				   "approle") < 0 ||
		    vc_buf_addstr(&r.url, "/login") < 0 ||
		    approle_body(&r.body, role.data, secret.data) < 0))
		rc = oom(e);
	if (!rc)
		rc = vault_http_headers(v, NULL, e);
	if (!rc && !(rc = vault_exec1(v, &r, e)))
		rc = approle_answer(v, &r, tok, e);
	vc_buf_release(&role);
	vc_buf_release(&secret);
	vault_req_release(&r);
	return rc;
}

static int approle_configured(const struct vc_vault_conf *c)
{
	return ((c->role_id && *c->role_id) ||
		(c->role_id_file && *c->role_id_file)) &&
	       c->secret_id_file && *c->secret_id_file;
}

static void token_notify(struct vault *v, const cJSON *d)
{
	const char *name = cJSON_GetStringValue(json_at(d, "display_name", NULL));
	const cJSON *ttl = json_at(d, "ttl", NULL), *it;
	struct vc_buf pol = VC_BUF_INIT;

	cJSON_ArrayForEach(it, json_at(d, "policies", NULL))
		if (cJSON_IsString(it))
			vc_buf_printf(&pol, "%s%s", pol.len ? ", " : "",
				      it->valuestring);
	vault_notify(v, "vault: token %s policies [%s] ttl %llds",
		     name ? name : "?", pol.len ? pol.data : "",
		     cJSON_IsNumber(ttl) ? (long long)ttl->valueint : 0LL);
	vc_buf_release(&pol);
}

/* -v: who Vault takes us for, from auth/token/lookup-self.  A failure is
 * only reported: the command itself will say what is wrong. */
static void token_describe(struct vault *v)
{
	struct vault_req r;
	struct vc_err e;
	cJSON *j;

	vault_req_init(&r, "GET");
	if (vc_buf_printf(&r.url, "%sauth/token/lookup-self", v->set.base) < 0)
		vault_notify(v, "vault: token lookup failed: out of memory");
	else if (kv_call(v, &r, &e) < 0)
		vault_notify(v, "vault: token lookup failed: %s", e.msg);
	else {
		/* The answer holds the token itself: wipe it. */
		j = cJSON_ParseWithLength(r.resp.data, r.resp.len);
		token_notify(v, json_at(j, "data", NULL));
		json_free(j);
	}
	vault_req_release(&r);
}

static int vault_auth(struct vault *v, const struct vc_vault_conf *conf,
		      struct vc_buf *tok, struct vc_err *e)
{
	int rc = 0;

	if (!tok->len)
		rc = approle_login(v, conf, tok, e);
	if (!rc)
		rc = vault_http_headers(v, tok->data, e);
	if (!rc && conf->verbose)
		token_describe(v);
	return rc;
}

/* Said on every run that talks to Vault this way, whatever the caller
 * filters: a connection someone may read or impersonate must not go
 * unnoticed in a cron job's mail. */
static void transport_warn(struct vault *v)
{
	if (v->set.https && v->set.skip_verify)
		vault_notify(v, VC_NOTE_WARNING "VAULT_SKIP_VERIFY is set: the "
			     "Vault server's certificate is not verified");
	if (v->set.plain_remote)
		vault_notify(v, VC_NOTE_WARNING "vault address '%s' is plain "
			     "http to another host: the token and the values "
			     "cross the network unencrypted (use https://)",
			     v->set.addr);
}

int vc_vault_open(struct vc_store **out, const struct vc_vault_conf *conf,
		  struct vc_err *e)
{
	struct vault *v = calloc(1, sizeof(*v));
	struct vc_buf tok;
	int rc;

	*out = NULL;
	if (!v)
		return oom(e);
	v->store.ops = &vault_ops;
	v->h1.fd = -1;
	vc_buf_init(&v->token, 1);
	v->notify = conf->notify;
	v->notify_ctx = conf->notify_ctx;
	vc_buf_init(&tok, 1);
	rc = vault_settings_load(&v->set, conf, e);
	if (!rc && sodium_init() < 0)
		rc = vc_err_set(e, VC_EFAIL, "cannot initialise libsodium");
	if (!rc)
		rc = vault_token_find(&tok, conf, e);
	if (!rc && !tok.len && !approle_configured(conf))
		rc = vc_err_set(e, VC_EPERM, "no vault token: set VAULT_TOKEN, "
				"~/.vault-token or vault_token_file (or "
				"vault_role_id and vault_secret_id_file)");
	if (!rc)
		transport_warn(v);
	if (!rc)
		rc = vault_http_open(v, e);
	if (!rc)
		rc = vault_auth(v, conf, &tok, e);
	vc_buf_release(&tok);
	if (rc < 0) {
		vault_close(&v->store);
		return rc;
	}
	*out = &v->store;
	return 0;
}
