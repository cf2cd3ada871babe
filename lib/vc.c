/* vc.c - errors and buffers. */
#include "vc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vc_err_set(struct vc_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	/* A message without arguments is copied: the local store sets
	 * "not found" on each item of a bulk read before it is filled. */
	if (!strchr(fmt, '%')) {
		size_t n = strlen(fmt);
		if (n >= sizeof(e->msg))
			n = sizeof(e->msg) - 1;
		memcpy(e->msg, fmt, n);
		e->msg[n] = '\0';
		return code;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void vc_err_clear(struct vc_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

int vc_err_prefix(struct vc_err *e, const char *fmt, ...)
{
	char pre[256], old[sizeof(e->msg)];
	size_t keep, room;
	va_list ap;

	if (!e)
		return VC_EFAIL;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	/* The reason matters more than the context: when both do not fit,
	 * the prefix is shortened, never the reason. */
	room = sizeof(e->msg) - 1;
	keep = strlen(old) + 2 < room ? room - strlen(old) - 2 : 0;
	if (strlen(pre) > keep && keep < 4)
		return e->code;         /* no room for any context */
	if (strlen(pre) > keep)
		memcpy(pre + keep - 3, "...", 4);
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", pre, old) < 0)
		e->msg[0] = '\0';
	return e->code;
}

static const struct {
	int code, exit;
	const char *name;
} codes[] = {
	{ VC_OK, 0, "ok" },
	{ VC_EFAIL, 1, "failure" },
	{ VC_EUSAGE, 2, "usage" },
	{ VC_ENOTFOUND, 3, "not_found" },
	{ VC_EPERM, 4, "permission_denied" },
	{ VC_EQUOTA, 5, "quota_exceeded" },
	{ VC_ECONFLICT, 6, "conflict" },
	{ VC_EUNAVAIL, 7, "unavailable" },
	{ VC_EINCONSIST, 8, "inconsistent" },
	{ VC_EINTR, 130, "interrupted" },
};

int vc_err_exit(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].exit;
	return 1;
}

const char *vc_err_name(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "failure";
}

void vc_buf_init(struct vc_buf *b, int secret)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->secret = secret;
}

int vc_buf_grow(struct vc_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > ((size_t)-1) / 2 - b->len)
		return VC_EFAIL;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	/* A secret buffer must never leave a stale copy behind in freed
	 * memory, so it is moved by hand instead of with realloc(). */
	p = malloc(cap);
	if (!p)
		return VC_EFAIL;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		if (b->secret)
			sodium_memzero(b->data, b->cap);
		free(b->data);
	} else {
		p[0] = '\0';
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int vc_buf_add(struct vc_buf *b, const void *p, size_t n)
{
	if (vc_buf_grow(b, n) < 0)
		return VC_EFAIL;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int vc_buf_addstr(struct vc_buf *b, const char *s)
{
	return vc_buf_add(b, s, strlen(s));
}

int vc_buf_addch(struct vc_buf *b, char c)
{
	return vc_buf_add(b, &c, 1);
}

int vc_buf_vprintf(struct vc_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || vc_buf_grow(b, (size_t)n) < 0)
		return VC_EFAIL;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int vc_buf_printf(struct vc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vc_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void vc_buf_reset(struct vc_buf *b)
{
	if (b->data) {
		if (b->secret)
			sodium_memzero(b->data, b->cap);
		b->data[0] = '\0';
	}
	b->len = 0;
}

void vc_buf_release(struct vc_buf *b)
{
	if (b->data && b->secret)
		sodium_memzero(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *vc_buf_detach(struct vc_buf *b, size_t *len)
{
	char *p;

	if (!b->data && vc_buf_grow(b, 0) < 0)
		return NULL;
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void vc_free_secret(void *p, size_t n)
{
	if (p)
		sodium_memzero(p, n);
	free(p);
}
