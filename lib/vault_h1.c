/* vault_h1.c - a small HTTP/1.1 client for Vault at http:// and unix://
 * addresses: one request at a time on one kept-alive connection
 * (vault_http.c runs several of these connections for a bulk read).
 *
 * Loading libcurl costs a process about 4.7 ms and 5 MB (27 shared
 * libraries for TLS, HTTP/2, IDN, LDAP, ...), more than a whole `get`
 * against the local store.  Over plain HTTP a single request needs none of
 * that: this file speaks HTTP/1.1 on one kept-alive socket (Content-Length
 * and chunked bodies, 1xx skipped, one redirect as the Go client follows
 * it) and reports failures as the CURLcode libcurl would give, so that
 * vault_http.c retries and words them the same for both transports.
 * https stays with libcurl; so does a redirect to https.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memmem, strcasestr */
#endif
#include "vault_int.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HEAD_MAX ((size_t)64 << 10)
#define RESP_MAX ((size_t)64 << 20)     /* as vault_http.c */

/* Where one URL points. */
struct target {
	char authority[256];    /* host[:port], for the Host header */
	char host[256];
	char port[8];
	const char *path;       /* from the first '/' on */
};

/* What the head of an answer said. */
struct head {
	int minor;              /* HTTP/1.<minor> */
	long status;
	long long length;       /* -1: none given */
	int chunked, close;
	int te_seen;            /* a Transfer-Encoding header came */
	char location[2048];
	int location_seen;
};

static int fail(struct vault_req *r, CURLcode cc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct vault_req *r, CURLcode cc, const char *fmt, ...)
{
	va_list ap;

	r->cc = cc;
	va_start(ap, fmt);
	vsnprintf(r->curl_msg, sizeof(r->curl_msg), fmt, ap);
	va_end(ap);
	return -1;
}

int vault_h1_usable(const struct vault *v)
{
	return !v->set.https && !v->set.connect_to && !v->set.curl_only;
}

/* "http://host[:port]/path" -> t; -1 for any other scheme, userinfo or
 * a name too long (libcurl then carries the request). */
static int target_parse(const char *url, struct target *t)
{
	const char *a, *slash, *colon;
	size_t n, hn;

	if (strncasecmp(url, "http://", 7))
		return -1;
	a = url + 7;
	slash = strchr(a, '/');
	n = slash ? (size_t)(slash - a) : strlen(a);
	if (!n || n >= sizeof(t->authority) || memchr(a, '@', n))
		return -1;
	memcpy(t->authority, a, n);
	t->authority[n] = '\0';
	t->path = slash ? slash : "/";
	if (a[0] == '[') {
		colon = memchr(a, ']', n);
		if (!colon)
			return -1;
		hn = (size_t)(colon - a - 1);
		memcpy(t->host, a + 1, hn);
		colon = colon + 1 < a + n && colon[1] == ':' ? colon + 1 : NULL;
	} else {
		colon = memchr(a, ':', n);
		hn = colon ? (size_t)(colon - a) : n;
		memcpy(t->host, a, hn);
	}
	t->host[hn] = '\0';
	n -= colon ? (size_t)(colon + 1 - a) : n;
	if (n >= sizeof(t->port) || (colon && strspn(colon + 1, "0123456789") < n))
		return -1;
	if (colon && n) {
		memcpy(t->port, colon + 1, n);
		t->port[n] = '\0';
	} else {
		strcpy(t->port, "80");
	}
	return 0;
}

/* Waits until fd is ready for ev or the deadline passes: 1, 0 or -1. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - vault_now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int timed_out(struct vault_req *r, struct vault *v)
{
	return fail(r, CURLE_OPERATION_TIMEDOUT, "Operation timed out after "
		    "%lld milliseconds", (long long)v->set.timeout_ms);
}

/* Connects one non-blocking socket; 0, or -1 with errno set. */
static int connect_one(int fd, const struct sockaddr *sa, socklen_t len,
		       int64_t deadline)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	switch (wait_fd(fd, POLLOUT, deadline)) {
	case 0:
		errno = ETIMEDOUT;
		return -1;
	case -1:
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return -1;
	errno = err;
	return err ? -1 : 0;
}

static int connect_unix(struct vault *v, struct vault_req *r,
			int64_t deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = v->set.unix_socket;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return fail(r, CURLE_COULDNT_CONNECT, "unix socket path too "
			    "long: %s", path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect_one(fd, (struct sockaddr *)&sun, sizeof(sun),
				  deadline) < 0) {
		if (errno == ETIMEDOUT)
			timed_out(r, v);
		else
			fail(r, CURLE_COULDNT_CONNECT, "Failed to connect to "
			     "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(struct vault *v, struct vault_req *r,
		       const struct target *t, int64_t deadline)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, one = 1, err = 0, gai;

	gai = getaddrinfo(t->host, t->port, &hints, &res);
	if (gai)
		return fail(r, CURLE_COULDNT_RESOLVE_HOST, "Could not resolve "
			    "host: %s", t->host);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd >= 0 && connect_one(fd, ai->ai_addr, ai->ai_addrlen,
					   deadline) == 0)
			break;
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		if (err == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (err == ETIMEDOUT)
			return timed_out(r, v);
		return fail(r, CURLE_COULDNT_CONNECT, "Failed to connect to %s "
			    "port %s: %s", t->host, t->port, strerror(err));
	}
	/* As libcurl: a request goes out in one segment, and a dead peer
	 * on an idle kept-alive connection is noticed. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	return fd;
}

void vault_h1_close(struct vault_h1_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->authority[0] = '\0';
}

/* A kept-alive socket the server has not closed (nothing to read). */
static int idle_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* The connection for t: the kept-alive one when it goes there. */
static int conn_get(struct vault *v, struct vault_h1_conn *c,
		    struct vault_req *r, const struct target *t,
		    int64_t deadline, int *reused)
{
	int fd;

	*reused = 0;
	if (c->fd >= 0 && !strcmp(c->authority, t->authority) &&
	    idle_alive(c->fd)) {
		*reused = 1;
		return c->fd;
	}
	vault_h1_close(c);
	fd = v->set.unix_socket ? connect_unix(v, r, deadline) :
				  connect_tcp(v, r, t, deadline);
	if (fd < 0)
		return -1;
	c->fd = fd;
	snprintf(c->authority, sizeof(c->authority), "%s", t->authority);
	return fd;
}

/* The request's text: it holds the token and maybe a value. */
static int request_build(struct vault *v, const struct vault_req *r,
			 const struct target *t, struct vc_buf *out)
{
	int body = strcmp(r->method, "GET") && strcmp(r->method, "DELETE");
	int bad;

	bad = vc_buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n"
			    "X-Vault-Request: true\r\n", r->method, t->path,
			    v->set.unix_socket ? "localhost" : t->authority);
	if (!bad && v->has_token)
		bad = vc_buf_addstr(out, "X-Vault-Token: ") ||
		      vc_buf_add(out, v->token.data, v->token.len) ||
		      vc_buf_addstr(out, "\r\n");
	if (!bad && v->set.namespace_)
		bad = vc_buf_printf(out, "X-Vault-Namespace: %s\r\n",
				    v->set.namespace_);
	if (!bad && body)
		bad = vc_buf_printf(out, "Content-Type: application/json\r\n"
				    "Content-Length: %zu\r\n", r->body.len);
	if (!bad)
		bad = vc_buf_addstr(out, "\r\n") ||
		      (body && r->body.len &&
		       vc_buf_add(out, r->body.data, r->body.len));
	return bad ? -1 : 0;
}

static int send_all(struct vault *v, struct vault_req *r, int fd,
		    const struct vc_buf *b, int64_t deadline)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(r, CURLE_SEND_ERROR, "Failed sending data "
				    "to the peer: %s", strerror(errno));
		if (wait_fd(fd, POLLOUT, deadline) <= 0)
			return timed_out(r, v);
	}
	return 0;
}

/* Reads more of the answer onto r->resp: bytes read, 0 at the end.
 * Through a buffer on the stack, wiped after, so that r->resp grows by
 * what came: a thousand reads of a bulk export in flight at once would
 * otherwise hold 32 KiB each. */
static ssize_t recv_more(struct vault *v, struct vault_req *r, int fd,
			 int64_t deadline)
{
	char chunk[16384];
	ssize_t n;

	if (r->resp.len >= RESP_MAX)
		return fail(r, CURLE_WRITE_ERROR, "Failure writing output");
	for (;;) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(r, CURLE_RECV_ERROR, "Recv failure: %s",
				    strerror(errno));
		if (wait_fd(fd, POLLIN, deadline) <= 0)
			return timed_out(r, v);
	}
	if (n > 0) {
		int bad = vc_buf_add(&r->resp, chunk, (size_t)n) < 0;

		sodium_memzero(chunk, (size_t)n);
		if (bad)
			return fail(r, CURLE_WRITE_ERROR, "Failure writing "
				    "output");
	}
	return n;
}

/* Length of the head (through the blank line) in r->resp, 0 if not yet
 * all there. */
static size_t head_end(const struct vc_buf *b)
{
	for (size_t i = 3; i < b->len; i++)
		if (!memcmp(b->data + i - 3, "\r\n\r\n", 4))
			return i + 1;
	return 0;
}

/* An answer whose body two readers could frame two ways (a proxy in
 * front of vault and this file) is refused, never guessed at: what one
 * takes for the body the other takes for the next answer. */
static int refuse(struct vault_req *r, const char *why)
{
	return fail(r, CURLE_WEIRD_SERVER_REPLY, "vault's answer refused: %s",
		    why);
}

/* Digits only: strtoll would also take a sign, spaces or (base 0) 0x. */
static int length_parse(const char *val, long long *out)
{
	size_t n = strlen(val);

	if (!n || n > 18 || strspn(val, "0123456789") != n)
		return -1;
	*out = strtoll(val, NULL, 10);
	return 0;
}

/* Vault percent-encodes its redirects: a space, control or 8-bit byte
 * means a server that does not, and a URL we would read otherwise than
 * it meant. */
static int location_ok(const char *val)
{
	for (const unsigned char *p = (const unsigned char *)val; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return 0;
	return 1;
}

static int head_header(struct head *h, const char *name, const char *val,
		       struct vault_req *r)
{
	char *end;
	long ra;

	if (!strcasecmp(name, "Content-Length")) {
		if (h->length >= 0)
			return refuse(r, "more than one Content-Length");
		if (length_parse(val, &h->length) < 0)
			return refuse(r, "Content-Length is not a decimal "
				      "number alone");
	} else if (!strcasecmp(name, "Transfer-Encoding")) {
		if (h->te_seen++ || strcasecmp(val, "chunked"))
			return refuse(r, "Transfer-Encoding other than one "
				      "'chunked'");
		h->chunked = 1;
	} else if (!strcasecmp(name, "Connection")) {
		h->close |= strcasestr(val, "close") != NULL;
	} else if (!strcasecmp(name, "Retry-After")) {
		ra = strtol(val, &end, 10);
		/* Clamped as in vault_http.c */
		if (end != val && !*end && ra >= 0)
			r->retry_after = ra > 3600 ? 3600 : ra;
	} else if (!strcasecmp(name, "Location")) {
		if (h->location_seen++)
			return refuse(r, "more than one Location");
		if (!location_ok(val))
			return refuse(r, "Location with a space, control or "
				      "non-ASCII character");
		if (strlen(val) >= sizeof(h->location))
			return refuse(r, "Location too long");
		strcpy(h->location, val);
	}
	return 0;
}

static int invalid(struct vault_req *r)
{
	return fail(r, CURLE_WEIRD_SERVER_REPLY, "Invalid HTTP answer from "
		    "vault");
}

/* Parses the head in r->resp[0, n): status line, then "Name: value"
 * lines (obsolete folding, a lone CR or LF refused). */
static int head_parse(struct head *h, struct vault_req *r, size_t n)
{
	char *p = r->resp.data, *line, *colon, *end = p + n - 2, *eol;
	int major;

	memset(h, 0, sizeof(*h));
	h->length = -1;
	if (sscanf(p, "HTTP/%d.%d %3ld", &major, &h->minor, &h->status) != 3 ||
	    major != 1 || h->status < 100 || h->status > 999)
		return invalid(r);
	h->close = h->minor == 0;
	/* memchr, memmem: a NUL inside the head must not end a line. */
	line = (char *)memmem(p, n, "\r\n", 2) + 2;
	for (; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		*eol = '\0';
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line || *line == ' ' || *line == '\t' ||
		    memchr(line, '\0', (size_t)(eol - line)) ||
		    strpbrk(line, "\r\n"))
			return invalid(r);
		*colon++ = '\0';
		colon += strspn(colon, " \t");
		for (char *t = eol; t > colon && (t[-1] == ' ' || t[-1] == '\t');)
			*--t = '\0';
		if (head_header(h, line, colon, r) < 0)
			return -1;
	}
	if (h->chunked && h->length >= 0)
		return refuse(r, "both Content-Length and Transfer-Encoding");
	return 0;
}

/* Drops the first n bytes of r->resp. */
static void resp_consume(struct vault_req *r, size_t n)
{
	memmove(r->resp.data, r->resp.data + n, r->resp.len - n);
	sodium_memzero(r->resp.data + r->resp.len - n, n);
	r->resp.len -= n;
}

static int eof_in_body(struct vault_req *r, long long left)
{
	return fail(r, CURLE_PARTIAL_FILE, "transfer closed with %lld bytes "
		    "remaining to read", left);
}

static int body_length(struct vault *v, struct vault_req *r, int fd,
		       long long len, int64_t deadline)
{
	ssize_t n;

	if ((unsigned long long)len > RESP_MAX)
		return fail(r, CURLE_WRITE_ERROR, "Failure writing output");
	while (r->resp.len < (size_t)len) {
		n = recv_more(v, r, fd, deadline);
		if (n <= 0)
			return n < 0 ? -1 :
			       eof_in_body(r, len - (long long)r->resp.len);
	}
	return r->resp.len > (size_t)len ? 1 : 0;   /* 1: extra bytes */
}

/* A chunk's size line up to eol: hex digits, then an extension after
 * ';' or nothing.  No sign, space or 0x, which strtoul would take, and
 * no CR or LF inside. */
static int chunk_size(const char *p, const char *eol, size_t *size)
{
	const char *q = p;
	size_t v = 0, n;

	for (; q < eol && isxdigit((unsigned char)*q); q++) {
		v = v * 16 + (size_t)(*q <= '9' ? *q - '0' :
				      (*q | 0x20) - 'a' + 10);
		if (v > RESP_MAX)
			return -1;
	}
	n = (size_t)(eol - q);
	if (q == p || (n && *q != ';') || memchr(q, '\r', n) ||
	    memchr(q, '\n', n))
		return -1;
	*size = v;
	return 0;
}

/* Decodes a chunked body in place: the decoded bytes never overtake the
 * ones still to decode. */
static int body_chunked(struct vault *v, struct vault_req *r, int fd,
			int64_t deadline)
{
	size_t out = 0, pos = 0, size;
	char *eol;
	ssize_t n;

	for (;;) {
		while (!(eol = memmem(r->resp.data + pos, r->resp.len - pos,
				      "\r\n", 2))) {
			if (r->resp.len - pos > 4096)
				return fail(r, CURLE_WEIRD_SERVER_REPLY,
					    "chunk line too long");
			if ((n = recv_more(v, r, fd, deadline)) <= 0)
				return n < 0 ? -1 : eof_in_body(r, 0);
		}
		if (chunk_size(r->resp.data + pos, eol, &size) < 0)
			return refuse(r, "invalid chunk size");
		pos = (size_t)(eol - r->resp.data) + 2;
		if (!size)
			break;
		while (r->resp.len < pos + size + 2)
			if ((n = recv_more(v, r, fd, deadline)) <= 0)
				return n < 0 ? -1 : eof_in_body(r, (long long)
				       (pos + size + 2 - r->resp.len));
		if (memcmp(r->resp.data + pos + size, "\r\n", 2))
			return fail(r, CURLE_WEIRD_SERVER_REPLY, "chunk "
				    "without its CRLF");
		memmove(r->resp.data + out, r->resp.data + pos, size);
		out += size;
		pos += size + 2;
	}
	/* Trailers, then the blank line that ends them. */
	for (;;) {
		while (!(eol = memmem(r->resp.data + pos, r->resp.len - pos,
				      "\r\n", 2)))
			if ((n = recv_more(v, r, fd, deadline)) <= 0)
				return n < 0 ? -1 : eof_in_body(r, 0);
		if (eol == r->resp.data + pos)
			break;
		pos = (size_t)(eol - r->resp.data) + 2;
	}
	pos += 2;
	n = pos < r->resp.len;          /* bytes past the end */
	sodium_memzero(r->resp.data + out, r->resp.len - out);
	r->resp.len = out;
	return (int)n;
}

static int body_to_eof(struct vault *v, struct vault_req *r, int fd,
		       int64_t deadline)
{
	ssize_t n;

	while ((n = recv_more(v, r, fd, deadline)) > 0)
		;
	return n < 0 ? -1 : 0;
}

/* Reads one answer (after any 1xx) into h and r->resp (the body only).
 * Returns 0 with the connection reusable, 1 when it must close, -1. */
static int answer_read(struct vault *v, struct vault_req *r, int fd,
		       struct head *h, int64_t deadline)
{
	size_t n;
	ssize_t got;
	int rc;

	for (;;) {
		while (!(n = head_end(&r->resp))) {
			if (r->resp.len > HEAD_MAX)
				return fail(r, CURLE_WEIRD_SERVER_REPLY, "header "
					    "section too large");
			got = recv_more(v, r, fd, deadline);
			if (got < 0)
				return -1;
			if (!got && !r->resp.len)
				return fail(r, CURLE_GOT_NOTHING, "Empty reply "
					    "from server");
			if (!got)
				return fail(r, CURLE_RECV_ERROR, "Connection "
					    "closed in the middle of the answer's "
					    "header");
		}
		if (head_parse(h, r, n) < 0)
			return -1;
		resp_consume(r, n);
		if (h->status >= 200 || h->status == 101)
			break;
	}
	if (!strcmp(r->method, "HEAD") || h->status == 204 ||
	    h->status == 304 || h->status == 101)
		rc = r->resp.len ? 1 : 0;
	else if (h->chunked)
		rc = body_chunked(v, r, fd, deadline);
	else if (h->length >= 0)
		rc = body_length(v, r, fd, h->length, deadline);
	else
		rc = body_to_eof(v, r, fd, deadline) < 0 ? -1 : 1;
	if (rc < 0)
		return -1;
	return rc || h->close || h->status == 101;
}

int vault_h1_read_answer(struct vault *v, struct vault_req *r, int fd)
{
	struct head h;

	if (answer_read(v, r, fd, &h, r->deadline) < 0)
		return -1;
	r->status = h.status;
	return 0;
}

/* One exchange on the connection to t.  A kept-alive connection the
 * server closed meanwhile gets one fresh try, as libcurl does. */
static int exchange(struct vault *v, struct vault_h1_conn *c,
		    struct vault_req *r, const struct target *t,
		    struct head *h)
{
	struct vc_buf req;
	int fd, reused, rc = -1;

	vc_buf_init(&req, 1);
	if (request_build(v, r, t, &req) < 0) {
		vc_buf_release(&req);
		return fail(r, CURLE_OUT_OF_MEMORY, "out of memory");
	}
	for (int tries = 0; tries < 2; tries++) {
		vc_buf_reset(&r->resp);
		r->retry_after = -1;
		fd = conn_get(v, c, r, t, r->deadline, &reused);
		if (fd < 0)
			break;
		rc = send_all(v, r, fd, &req, r->deadline);
		/* The answer takes a while: a read now would only fail. */
		if (!rc && wait_fd(fd, POLLIN, r->deadline) <= 0)
			rc = timed_out(r, v);
		if (!rc)
			rc = answer_read(v, r, fd, h, r->deadline);
		if (rc != 0)
			vault_h1_close(c);
		if (rc >= 0 || !reused || r->resp.len ||
		    (r->cc != CURLE_SEND_ERROR && r->cc != CURLE_GOT_NOTHING &&
		     r->cc != CURLE_RECV_ERROR))
			break;
	}
	vc_buf_release(&req);
	return rc < 0 ? -1 : 0;
}

/* Where a redirect goes: into *t (path kept in pathbuf).  1 when only
 * libcurl can go there (https). */
static int redirect_target(struct vault_req *r, const struct head *h,
			   struct target *t, struct vc_buf *pathbuf)
{
	const char *loc = h->location;

	if (loc[0] == '/' && loc[1] != '/') {
		vc_buf_reset(pathbuf);
		if (vc_buf_addstr(pathbuf, loc) < 0)
			return fail(r, CURLE_OUT_OF_MEMORY, "out of memory");
		t->path = pathbuf->data;
		return 0;
	}
	if (!strncasecmp(loc, "https://", 8))
		return 1;
	vc_buf_reset(pathbuf);
	if (vc_buf_addstr(pathbuf, loc) < 0)
		return fail(r, CURLE_OUT_OF_MEMORY, "out of memory");
	if (target_parse(pathbuf->data, t) < 0)
		return fail(r, CURLE_UNSUPPORTED_PROTOCOL, "refused redirect "
			    "to '%.200s'", loc);
	return 0;
}

static int is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

int vault_h1_attempt(struct vault *v, struct vault_h1_conn *c,
		     struct vault_req *r)
{
	struct target t;
	struct head h;
	struct vc_buf path;
	int rc = 0;

	r->cc = CURLE_OK;
	if (target_parse(r->url.data, &t) < 0)
		return 1;
	vc_buf_init(&path, 0);
	for (int hops = 0;; hops++) {
		if (exchange(v, c, r, &t, &h) < 0)
			break;
		if (!is_redirect(h.status) || !h.location[0]) {
			r->status = h.status;
			break;
		}
		if (hops == 1) {
			fail(r, CURLE_TOO_MANY_REDIRECTS, "Maximum (1) "
			     "redirects followed");
			break;
		}
		rc = redirect_target(r, &h, &t, &path);
		if (rc)
			break;
	}
	vc_buf_release(&path);
	return rc > 0 ? 1 : 0;
}
