/* vault_http.c - HTTP transfers to Vault, with the retries, the deadline
 * and the rate limit as the official Go client applies them
 * (doc/architecture.md, section 6).  Over http:// and unix:// requests go
 * through vault_h1.c: a single one on the run's kept-alive connection, a
 * batch on one connection per request in flight.  At https, one libcurl
 * multi handle for the run, so that every request shares one cache of
 * kept-alive connections.
 */
#define _POSIX_C_SOURCE 200809L
#include "vault_int.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A 32 MiB value (Vault's limit) in base64 inside JSON stays below this. */
#define RESP_MAX ((size_t)64 << 20)

/* REQ_CURL: vault_h1.c cannot carry it (a redirect to https). */
enum { REQ_PENDING, REQ_RUNNING, REQ_DONE, REQ_CURL };

/* The requests of one vault_exec call and how far they are. */
struct batch {
	struct vault *v;
	struct vault_req *r;
	size_t n, next, running, waiting, done, conc;
	int stop;
	struct vc_err err;
};

int64_t vault_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vault_notify(struct vault *v, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!v->notify)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->notify(v->notify_ctx, line);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct vault_req *r = ctx;

	if (r->resp.len + size * n > RESP_MAX ||
	    vc_buf_add(&r->resp, p, size * n) < 0)
		return 0;       /* fails the transfer with CURLE_WRITE_ERROR */
	return size * n;
}

static int setup_tls(struct vault *v, CURL *h)
{
	const struct vault_settings *s = &v->set;
	int bad = 0;

	/* long, as curl_shim.c forwards exactly what the option type says */
	bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION,
				(long)CURL_SSLVERSION_TLSv1_2);
	bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
				(long)CURL_HTTP_VERSION_2TLS);
	/* With HTTP/2, wait to multiplex on the one connection rather than
	 * opening more. */
	bad |= curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	if (s->cacert)
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, s->cacert);
	if (s->capath)
		bad |= curl_easy_setopt(h, CURLOPT_CAPATH, s->capath);
	if (s->client_cert) {
		bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, s->client_cert);
		bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, s->client_key);
	}
	if (s->skip_verify) {
		bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (v->connect_to)
		bad |= curl_easy_setopt(h, CURLOPT_CONNECT_TO, v->connect_to);
	return bad;
}

static CURL *handle_new(struct vault *v)
{
	CURL *h = curl_easy_init();
	int bad;

	if (!h)
		return NULL;
	bad = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* One redirect, as the Go client: a standby's 307 to the active
	 * node.  Never from https down to http. */
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR,
				v->set.https ? "https" : "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (v->set.unix_socket)
		bad |= curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH,
					v->set.unix_socket);
	if (v->set.https)
		bad |= setup_tls(v, h);
	if (bad) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

static int slots_ensure(struct vault *v, size_t n, struct vc_err *e)
{
	struct vault_slot *s;

	if (n <= v->nslots)
		return 0;
	s = realloc(v->slots, n * sizeof(*s));
	if (!s)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	v->slots = s;
	for (; v->nslots < n; v->nslots++) {
		s[v->nslots].busy = 0;
		s[v->nslots].h = handle_new(v);
		if (!s[v->nslots].h)
			return vc_err_set(e, VC_EFAIL, "cannot set up libcurl");
	}
	return 0;
}

int vault_http_open(struct vault *v, struct vc_err *e)
{
	(void)e;
	v->tokens = v->set.burst;
	v->tokens_at = vault_now_ms();
	return 0;
}

static int headers_rebuild(struct vault *v, struct vc_err *e);

/* libcurl is loaded (curl_shim.c) and set up on the first request that
 * needs it: https, or a redirect there. */
static int curl_ready(struct vault *v, struct vc_err *e)
{
	if (v->curl_up)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return vc_err_set(e, VC_EFAIL, "cannot initialise libcurl "
				  "(is libcurl4 installed?)");
	v->global_init = 1;
	v->multi = curl_multi_init();
	if (!v->multi)
		return vc_err_set(e, VC_EFAIL, "cannot initialise libcurl");
	if (v->set.connect_to) {
		v->connect_to = curl_slist_append(NULL, v->set.connect_to);
		if (!v->connect_to)
			return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	if (slots_ensure(v, 1, e) < 0 || headers_rebuild(v, e) < 0)
		return e->code;
	v->curl_up = 1;
	return 0;
}

/* Header lists hold the token: wipe them before curl frees them. */
static void headers_free(struct curl_slist *l)
{
	if (!l)         /* nothing to free: do not load libcurl for it */
		return;
	for (struct curl_slist *p = l; p; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

void vault_http_close(struct vault *v)
{
	vault_h1_close(&v->h1);
	vc_buf_release(&v->token);
	v->has_token = 0;
	for (size_t i = 0; i < v->nslots; i++)
		curl_easy_cleanup(v->slots[i].h);
	free(v->slots);
	v->slots = NULL;
	v->nslots = 0;
	if (v->multi)
		curl_multi_cleanup(v->multi);
	v->multi = NULL;
	headers_free(v->hdrs);
	headers_free(v->hdrs_json);
	if (v->connect_to)
		curl_slist_free_all(v->connect_to);
	v->hdrs = v->hdrs_json = v->connect_to = NULL;
	if (v->global_init)
		curl_global_cleanup();
	v->global_init = 0;
	v->curl_up = 0;
}

static int header_add(struct curl_slist **l, const char *name,
		      const char *val)
{
	struct curl_slist *t = NULL;
	struct vc_buf line;

	vc_buf_init(&line, 1);
	/* "Name:" with nothing after it stops curl sending its own. */
	if (vc_buf_printf(&line, *val ? "%s: %s" : "%s:%s", name, val) == 0)
		t = curl_slist_append(*l, line.data);
	vc_buf_release(&line);
	if (!t)
		return -1;
	*l = t;
	return 0;
}

static struct curl_slist *headers_build(struct vault *v, const char *token,
					int json)
{
	struct curl_slist *l = NULL;
	int bad;

	bad = header_add(&l, "X-Vault-Request", "true");
	if (!bad && token)
		bad = header_add(&l, "X-Vault-Token", token);
	if (!bad && v->set.namespace_)
		bad = header_add(&l, "X-Vault-Namespace", v->set.namespace_);
	/* Vault answers at once: waiting for "100 Continue" on a large
	 * body would only cost a round trip. */
	if (!bad && json)
		bad = header_add(&l, "Content-Type", "application/json") ||
		      header_add(&l, "Expect", "");
	if (bad) {
		headers_free(l);
		return NULL;
	}
	return l;
}

static int headers_rebuild(struct vault *v, struct vc_err *e)
{
	const char *token = v->has_token ? v->token.data : NULL;
	struct curl_slist *h = headers_build(v, token, 0);
	struct curl_slist *j = headers_build(v, token, 1);

	if (!h || !j) {
		headers_free(h);
		headers_free(j);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	headers_free(v->hdrs);
	headers_free(v->hdrs_json);
	v->hdrs = h;
	v->hdrs_json = j;
	return 0;
}

int vault_http_headers(struct vault *v, const char *token, struct vc_err *e)
{
	vc_buf_reset(&v->token);
	v->has_token = token != NULL;
	if (token && vc_buf_addstr(&v->token, token) < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	return v->curl_up ? headers_rebuild(v, e) : 0;
}

void vault_req_init(struct vault_req *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	vc_buf_init(&r->url, 0);
	vc_buf_init(&r->body, 1);
	vc_buf_init(&r->resp, 1);
	r->retry_after = -1;
}

void vault_req_release(struct vault_req *r)
{
	vc_buf_release(&r->url);
	vc_buf_release(&r->body);
	vc_buf_release(&r->resp);
}

/* As curl_easy_escape: all but RFC 3986's unreserved characters as %XX.
 * Not libcurl's own, which would load libcurl for every request. */
static int url_escape(struct vc_buf *url, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;

	for (size_t i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			if (vc_buf_addch(url, (char)c) < 0)
				return VC_EFAIL;
		} else if (vc_buf_addch(url, '%') < 0 ||
			   vc_buf_addch(url, hex[c >> 4]) < 0 ||
			   vc_buf_addch(url, hex[c & 15]) < 0) {
			return VC_EFAIL;
		}
	}
	return 0;
}

int vault_url_path(struct vc_buf *url, const char *path)
{
	const char *seg = path, *slash;
	size_t n;

	for (;;) {
		slash = strchr(seg, '/');
		n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (url_escape(url, seg, n) < 0)
			return VC_EFAIL;
		if (!slash)
			return 0;
		if (vc_buf_addch(url, '/') < 0)
			return VC_EFAIL;
		seg = slash + 1;
	}
}

/* Token bucket of VAULT_RATE_LIMIT: how long until a request may go. */
static int64_t rate_wait(struct vault *v, int64_t now)
{
	double t;

	if (!(v->set.rate > 0))
		return 0;
	t = v->tokens + (double)(now - v->tokens_at) * v->set.rate / 1000;
	v->tokens = t < v->set.burst ? t : v->set.burst;
	v->tokens_at = now;
	if (v->tokens >= 1)
		return 0;
	return (int64_t)((1 - v->tokens) * 1000 / v->set.rate) + 1;
}

static void attempt_begin(struct vault *v, struct vault_req *r, int64_t now)
{
	if (!r->attempts)
		r->deadline = now + v->set.timeout_ms;
	r->attempts++;
	vc_buf_reset(&r->resp);
	r->status = 0;
	r->retry_after = -1;
	r->curl_msg[0] = '\0';
	r->cc = CURLE_OK;
}

static int req_start(struct vault *v, CURL *h, struct vault_req *r,
		     int64_t now)
{
	int has_body = strcmp(r->method, "GET") && strcmp(r->method, "DELETE");
	int bad;

	attempt_begin(v, r, now);
	bad = curl_easy_setopt(h, CURLOPT_URL, r->url.data);
	/* The handle is reused: HTTPGET clears the last request's method. */
	bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	if (has_body) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)r->body.len);
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS,
					r->body.data ? r->body.data : "");
	}
	if (strcmp(r->method, "GET") && strcmp(r->method, "POST"))
		bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER,
				has_body ? v->hdrs_json : v->hdrs);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	bad |= curl_easy_setopt(h, CURLOPT_PRIVATE, r);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->curl_msg);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
				(long)(r->deadline > now ? r->deadline - now : 1));
	if (bad || curl_multi_add_handle(v->multi, h) != CURLM_OK)
		return vc_err_set(&r->err, r->rc = VC_EFAIL,
				  "cannot set up the request to vault");
	r->state = REQ_RUNNING;
	return 0;
}

/* Whether the attempt may have reached vault without its answer coming
 * back: then the write may have happened. */
static void req_settle(struct vault_req *r)
{
	switch (r->cc) {
	case CURLE_OK:
		/* A gateway in front of vault gave up waiting for it. */
		if (r->status == 502 || r->status == 504)
			r->lost = 1;
		return;
	/* Sent, or partly: vault may have done it. */
	case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE: case CURLE_OPERATION_TIMEDOUT:
	case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		r->lost = 1;
		r->status = 0;
		return;
	default:
		r->status = 0;
		return;
	}
}

static void req_answer(struct vault_req *r, CURL *h, CURLcode cc)
{
	struct curl_header *hh;
	long ra;
	char *end;

	r->cc = cc;
	r->status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	req_settle(r);
	if (cc != CURLE_OK)
		return;
	if (curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &hh) ==
	    CURLHE_OK) {
		ra = strtol(hh->value, &end, 10);
		/* Clamped: the wait in milliseconds must not overflow, and
		 * the client timeout bounds it anyway. */
		if (end != hh->value && !*end && ra >= 0)
			r->retry_after = ra > 3600 ? 3600 : ra;
	}
}

/* The Go client retries connection errors, never TLS, redirect or local
 * failures; the deadline already ended a timed-out transfer. */
static int transfer_transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

static int transient(const struct vault_req *r)
{
	if (r->cc != CURLE_OK)
		return transfer_transient(r->cc);
	return r->status == 412 || r->status == 429 ||
	       (r->status >= 500 && r->status != 501);
}

static const char *transfer_why(const struct vault_req *r)
{
	return r->curl_msg[0] ? r->curl_msg : curl_easy_strerror(r->cc);
}

/* Puts r back in the queue when the Go client would retry it and the
 * deadline leaves room for the wait. */
static int req_requeue(struct batch *b, struct vault_req *r, int64_t now)
{
	struct vault *v = b->v;
	int64_t wait;

	if (b->stop || !transient(r) || r->attempts > v->set.max_retries)
		return 0;
	if ((r->status == 429 || r->status == 503) && r->retry_after >= 0)
		wait = (int64_t)r->retry_after * 1000;
	else    /* 1-1.5 s times the attempt number, jittered */
		wait = r->attempts * (1000 + (int64_t)randombytes_uniform(501));
	if (now + wait >= r->deadline)
		return 0;
	r->state = REQ_PENDING;
	r->not_before = now + wait;
	/* A bulk read could say this for every item: once a second is
	 * enough.  1.5 s is said as 1 s. */
	if (b->n == 1 || now - v->last_notify >= 1000) {
		v->last_notify = now;
		if (r->status)
			vault_notify(v, "vault answered %ld; retrying in %lld s",
				     r->status, (long long)(wait + 499) / 1000);
		else
			vault_notify(v, "vault unreachable (%s); retrying in "
				     "%lld s", transfer_why(r),
				     (long long)(wait + 499) / 1000);
	}
	return 1;
}

static int transfer_err(struct vault *v, struct vault_req *r)
{
	const char *addr = v->set.addr, *why = transfer_why(r);
	struct vc_err *e = &r->err;

	switch (r->cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return vc_err_set(e, VC_EUNAVAIL, "vault at %s did not answer "
				  "within %lld s (VAULT_CLIENT_TIMEOUT)", addr,
				  (long long)(v->set.timeout_ms + 999) / 1000);
	case CURLE_SSL_CONNECT_ERROR:
		return vc_err_set(e, VC_EUNAVAIL, "TLS handshake with vault at "
				  "%s failed (%s): does the server speak https "
				  "there? check VAULT_ADDR", addr, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return vc_err_set(e, VC_EUNAVAIL, "cannot verify the TLS "
				  "certificate of vault at %s (%s): check "
				  "VAULT_CACERT, VAULT_CAPATH or "
				  "VAULT_TLS_SERVER_NAME", addr, why);
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return vc_err_set(e, VC_EUNAVAIL, "vault at %s redirected more "
				  "than once or to a refused address (%s)",
				  addr, why);
	/* Not "unreachable": something answered, and not as HTTP/1.1
	 * allows; a proxy in between would read it otherwise. */
	case CURLE_WEIRD_SERVER_REPLY:
		return vc_err_set(e, VC_EUNAVAIL, "vault at %s sent a malformed "
				  "HTTP answer (%s) after %d attempt%s; check "
				  "VAULT_ADDR and any proxy in between", addr, why,
				  r->attempts, r->attempts > 1 ? "s" : "");
	case CURLE_WRITE_ERROR:
	case CURLE_OUT_OF_MEMORY:
		return vc_err_set(e, VC_EFAIL, "vault's answer is too large or "
				  "memory ran out");
	default:
		return vc_err_set(e, VC_EUNAVAIL, "vault unreachable at %s (%s) "
				  "after %d attempt%s; check VAULT_ADDR and that "
				  "vault is running", addr, why, r->attempts,
				  r->attempts > 1 ? "s" : "");
	}
}

/* Vault failed for good: the rest of a batch would only fail slower. */
static int req_fatal(const struct vault_req *r)
{
	return r->rc == VC_EUNAVAIL ||
	       (r->rc == 0 && (transient(r) || r->status == 501));
}

static void batch_stop(struct batch *b, struct vault_req *failed)
{
	if (failed->rc < 0)
		b->err = failed->err;
	else
		vault_status_err(b->v, failed, &b->err);
	b->stop = 1;
	for (size_t i = 0; i < b->n; i++) {
		struct vault_req *r = &b->r[i];

		if (r->state != REQ_PENDING)
			continue;
		r->state = REQ_DONE;
		b->done++;
		if (r->attempts) {
			b->waiting--;
			r->rc = r->cc != CURLE_OK ? transfer_err(b->v, r) : 0;
		} else {
			r->rc = vc_err_set(&r->err, VC_EUNAVAIL, "not read: %s",
					   b->err.msg);
		}
	}
	b->next = b->n;
}

static struct vault_slot *slot_of(struct vault *v, CURL *h)
{
	for (size_t i = 0; i < v->nslots; i++)
		if (v->slots[i].h == h)
			return &v->slots[i];
	return NULL;
}

static void batch_collect(struct batch *b)
{
	struct vault *v = b->v;
	struct vault_slot *slot;
	struct vault_req *r;
	CURLMsg *m;
	CURLcode cc;
	void *priv;
	int left;

	while ((m = curl_multi_info_read(v->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		cc = m->data.result;
		slot = slot_of(v, m->easy_handle);
		curl_easy_getinfo(slot->h, CURLINFO_PRIVATE, &priv);
		r = priv;
		req_answer(r, slot->h, cc);
		curl_multi_remove_handle(v->multi, slot->h);
		slot->busy = 0;
		b->running--;
		if (req_requeue(b, r, vault_now_ms())) {
			b->waiting++;
			continue;
		}
		r->state = REQ_DONE;
		b->done++;
		r->rc = cc != CURLE_OK ? transfer_err(v, r) : 0;
		if (b->n > 1 && !b->stop && req_fatal(r))
			batch_stop(b, r);
	}
}

/* The next request that may start now: a retry whose wait is over, else
 * the next new one.  *wake shrinks to the earliest retry still waiting. */
static struct vault_req *batch_next(struct batch *b, int64_t now,
				    int64_t *wake)
{
	struct vault_req *r;

	for (size_t i = 0; b->waiting && i < b->next; i++) {
		r = &b->r[i];
		if (r->state != REQ_PENDING)
			continue;
		if (r->not_before <= now)
			return r;
		if (r->not_before - now < *wake)
			*wake = r->not_before - now;
	}
	return b->next < b->n ? &b->r[b->next] : NULL;
}

/* Starts what may start; returns how long to sleep at most. */
static int64_t batch_start(struct batch *b)
{
	struct vault *v = b->v;
	int64_t now = vault_now_ms(), wake = 1000, rate;
	struct vault_slot *slot;
	struct vault_req *r;

	while (b->running < b->conc && (r = batch_next(b, now, &wake))) {
		rate = rate_wait(v, now);
		if (rate > 0)
			return rate < wake ? rate : wake;
		if (r->attempts)
			b->waiting--;
		else
			b->next++;
		slot = v->slots;
		while (slot->busy)
			slot++;
		if (req_start(v, slot->h, r, now) < 0) {
			r->state = REQ_DONE;
			b->done++;
			continue;
		}
		slot->busy = 1;
		b->running++;
		if (v->set.rate > 0)
			v->tokens -= 1;
	}
	return wake;
}

static int batch_abort(struct batch *b, CURLMcode mc, struct vc_err *e)
{
	for (size_t i = 0; i < b->v->nslots; i++) {
		if (b->v->slots[i].busy)
			curl_multi_remove_handle(b->v->multi, b->v->slots[i].h);
		b->v->slots[i].busy = 0;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->r[i].state != REQ_DONE)
			b->r[i].rc = vc_err_set(&b->r[i].err, VC_EFAIL,
						"libcurl: %s",
						curl_multi_strerror(mc));
	return vc_err_set(e, VC_EFAIL, "libcurl: %s", curl_multi_strerror(mc));
}

/* Every request of a batch pending, not yet tried. */
static void reqs_reset(struct vault_req *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		reqs[i].state = REQ_PENDING;
		reqs[i].attempts = 0;
		reqs[i].rc = 0;
	}
}

static int exec_curl(struct vault *v, struct vault_req *reqs, size_t n,
		     int conc, struct vc_err *e)
{
	struct batch b = { .v = v, .r = reqs, .n = n };
	size_t before;
	int64_t wake;
	CURLMcode mc;
	int running;

	b.conc = conc < 1 ? 1 : (size_t)conc < n ? (size_t)conc : n;
	if (curl_ready(v, e) < 0 || slots_ensure(v, b.conc, e) < 0)
		return e->code;
	curl_multi_setopt(v->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)b.conc);
	curl_multi_setopt(v->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)b.conc);
	reqs_reset(reqs, n);
	while (b.done < n) {
		wake = batch_start(&b);
		mc = curl_multi_perform(v->multi, &running);
		if (mc != CURLM_OK)
			return batch_abort(&b, mc, e);
		before = b.done + b.waiting;
		batch_collect(&b);
		if (b.done < n && b.done + b.waiting == before)
			curl_multi_poll(v->multi, NULL, 0, (int)wake, NULL);
	}
	if (b.stop) {
		if (e)
			*e = b.err;
		return b.err.code;
	}
	return 0;
}

/* ---- requests over vault_h1.c: one thread per connection ----
 *
 * Requests to http:// or unix:// need neither TLS nor HTTP/2.  Loading
 * libcurl costs a process 5-7 ms, and its work per request (URL parsing,
 * header scanning, polls) was a fifth of an export's CPU, which on a
 * small machine a local Vault lacks.  Each of conc threads (the calling
 * one included; a single request starts no other) carries one request at
 * a time on its own kept-alive connection, the caller's being the run's
 * one, with the Go client's retries and the rate limit.  The batch's shared
 * state (queue, rate limiter, notices, stop) is under one mutex, released
 * while a request is in flight or a retry waits. */
struct pool {
	struct batch b;
	pthread_mutex_t mu;
	pthread_cond_t stopped;         /* wakes retries waiting */
};

struct worker {
	struct pool *p;
	struct vault_h1_conn own, *conn;
	pthread_t th;
	int started;
};

/* Waits ms or until the batch stops, p->mu held. */
static void pool_sleep(struct pool *p, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&p->stopped, &p->mu, &ts);
}

static void pool_stop(struct pool *p, struct vault_req *failed)
{
	if (failed->rc < 0)
		p->b.err = failed->err;
	else
		vault_status_err(p->b.v, failed, &p->b.err);
	p->b.stop = 1;
	pthread_cond_broadcast(&p->stopped);
}

static void not_read(struct batch *b, struct vault_req *r)
{
	r->state = REQ_DONE;
	r->rc = vc_err_set(&r->err, VC_EUNAVAIL, "not read: %s", b->err.msg);
}

/* One request to its end; p->mu held on entry and return. */
static void pool_one(struct pool *p, struct vault_h1_conn *c,
		     struct vault_req *r)
{
	struct vault *v = p->b.v;
	int64_t now, wait;
	int curl;

	for (;;) {
		if (p->b.stop && !r->attempts) {
			not_read(&p->b, r);
			return;
		}
		if (p->b.stop)
			break;          /* its last outcome stands */
		now = vault_now_ms();
		wait = r->attempts && r->not_before > now ?
		       r->not_before - now : rate_wait(v, now);
		if (wait > 0) {
			pool_sleep(p, wait);
			continue;
		}
		if (v->set.rate > 0)
			v->tokens -= 1;
		pthread_mutex_unlock(&p->mu);
		attempt_begin(v, r, now);
		curl = vault_h1_attempt(v, c, r) > 0;
		if (!curl)
			req_settle(r);
		pthread_mutex_lock(&p->mu);
		if (curl) {
			r->state = REQ_CURL;
			return;
		}
		if (!req_requeue(&p->b, r, vault_now_ms()))
			break;
	}
	r->state = REQ_DONE;
	r->rc = r->cc != CURLE_OK ? transfer_err(v, r) : 0;
}

static void *pool_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	struct vault_req *r;

	pthread_mutex_lock(&p->mu);
	while (!p->b.stop && p->b.next < p->b.n) {
		r = &p->b.r[p->b.next++];
		pool_one(p, w->conn, r);
		/* As exec_curl: a lone request's caller words its failure. */
		if (r->state == REQ_DONE && p->b.n > 1 && !p->b.stop &&
		    req_fatal(r))
			pool_stop(p, r);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Threads for the other connections; the caller is the first.  Fewer
 * when threads cannot start: the batch only goes slower. */
static void pool_run(struct pool *p, struct worker *w, size_t conc)
{
	for (size_t i = 1; i < conc; i++) {
		w[i] = (struct worker){ .p = p, .own = { .fd = -1 } };
		w[i].conn = &w[i].own;
		w[i].started = pthread_create(&w[i].th, NULL, pool_main,
					      &w[i]) == 0;
	}
	pool_main(&w[0]);
	for (size_t i = 1; i < conc; i++) {
		if (w[i].started)
			pthread_join(w[i].th, NULL);
		vault_h1_close(&w[i].own);
	}
}

static int exec_pool(struct vault *v, struct vault_req *reqs, size_t n,
		     int conc, struct vc_err *e)
{
	struct pool p = { .b = { .v = v, .r = reqs, .n = n } };
	pthread_condattr_t ca;
	struct worker *w;
	int rc = 0;

	p.b.conc = conc < 1 ? 1 : (size_t)conc < n ? (size_t)conc : n;
	w = calloc(p.b.conc, sizeof(*w));
	if (!w)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	w[0] = (struct worker){ .p = &p, .conn = &v->h1 };
	reqs_reset(reqs, n);
	pthread_mutex_init(&p.mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.stopped, &ca);
	pthread_condattr_destroy(&ca);
	pool_run(&p, w, p.b.conc);
	pthread_cond_destroy(&p.stopped);
	pthread_mutex_destroy(&p.mu);
	free(w);
	/* Redirected to https, one at a time; never picked: not read. */
	for (size_t i = 0; i < n; i++) {
		int one = 0;

		if (reqs[i].state == REQ_CURL)
			one = exec_curl(v, &reqs[i], 1, 1, e);
		else if (reqs[i].state == REQ_PENDING)
			not_read(&p.b, &reqs[i]);
		if (one < 0 && rc == 0)
			rc = one;
	}
	if (rc < 0)
		return rc;
	if (p.b.stop) {
		if (e)
			*e = p.b.err;
		return p.b.err.code;
	}
	return 0;
}

int vault_exec(struct vault *v, struct vault_req *reqs, size_t n, int conc,
	       struct vc_err *e)
{
	if (!vault_h1_usable(v))
		return exec_curl(v, reqs, n, conc, e);
	return exec_pool(v, reqs, n, conc, e);
}

int vault_exec1(struct vault *v, struct vault_req *r, struct vc_err *e)
{
	int rc = vault_exec(v, r, 1, 1, e);

	if (rc < 0)
		return rc;
	if (r->rc < 0 && e)
		*e = r->err;
	return r->rc;
}

void vault_errors_text(const struct vault_req *r, char *out, size_t n)
{
	cJSON *j = cJSON_ParseWithLength(r->resp.data, r->resp.len), *it;
	size_t len = 0;
	int k;

	out[0] = '\0';
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "errors")) {
		if (!cJSON_IsString(it) || !*it->valuestring || len >= n - 1)
			continue;
		k = snprintf(out + len, n - len, "%s%s", len ? "; " : "",
			     it->valuestring);
		len = k < 0 ? len : len + (size_t)k < n ? len + (size_t)k : n - 1;
	}
	cJSON_Delete(j);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
	if (!out[0])
		snprintf(out, n, "no reason given");
}

int vault_status_err(struct vault *v, const struct vault_req *r,
		     struct vc_err *e)
{
	long st = r->status;
	char why[160], tries[40] = "";

	if (st >= 200 && st < 300)
		return 0;
	vault_errors_text(r, why, sizeof(why));
	if (r->attempts > 1)
		snprintf(tries, sizeof(tries), " after %d attempts", r->attempts);
	switch (st) {
	case 400:
		if (strstr(why, "check-and-set parameter did not match"))
			return vc_err_set(e, VC_ECONFLICT, "%s", why);
		return vc_err_set(e, VC_EFAIL, "vault refused the request: %s",
				  why);
	case 403:
		return vc_err_set(e, VC_EPERM, "vault denied access (%s): check "
				  "the token and its policies", why);
	case 404:
		return vc_err_set(e, VC_ENOTFOUND, "not found");
	case 405:
		return vc_err_set(e, VC_EFAIL, "vault does not support this "
				  "request (405): is '%s' a KV v2 mount?",
				  v->set.mount);
	case 413:
		return vc_err_set(e, VC_EUSAGE, "value too large for Vault");
	case 429:
		return vc_err_set(e, VC_EUNAVAIL, "vault is rate limiting "
				  "requests (429: %s)%s; try again later", why,
				  tries);
	case 501:
		return vc_err_set(e, VC_EUNAVAIL, "vault is not initialized "
				  "(vault operator init)");
	case 503:
		return vc_err_set(e, VC_EUNAVAIL, "vault is unavailable (503: %s)"
				  "%s; %s", why, tries, strstr(why, "sealed") ?
				  "unseal it (vault operator unseal)" :
				  "try again later");
	}
	if (st == 412 || st >= 500)
		return vc_err_set(e, VC_EUNAVAIL, "vault failed (%ld: %s)%s; "
				  "see the vault server's log", st, why, tries);
	return vc_err_set(e, VC_EFAIL, "vault answered %ld: %s", st, why);
}
