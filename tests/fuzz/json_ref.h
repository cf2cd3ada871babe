/* json_ref.h - a reference JSON reader for the fuzz targets, written from
 * RFC 8259 independently of cJSON, which the library uses.
 *
 * Strict mode is RFC 8259.  Lenient mode also takes what cJSON is known
 * to take harmlessly: a leading byte order mark, any byte from 0x01 to
 * 0x20 as white space (but not after the top-level value, where the
 * library checks the rest itself) and raw control bytes inside strings.
 * Neither takes a \u without four hex digits or a lone surrogate.  The
 * members of the top-level object can be collected with their strings
 * decoded to UTF-8.
 */
#ifndef VC_FUZZ_JSON_REF_H
#define VC_FUZZ_JSON_REF_H

#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "vc.h"

#define JREF_MAX_MEMBERS 256

struct jref_member {
	struct vc_buf key, val;
	int val_is_string;
};

struct jref {
	const unsigned char *p, *end;
	int lenient, depth;
	int unusual;            /* valid, but deeper than cJSON goes */
	struct jref_member *m;  /* top-level members, or NULL */
	size_t nm;
};

static int jref_value(struct jref *r, struct vc_buf *out);

static void jref_ws(struct jref *r)
{
	while (r->p < r->end && (r->lenient ? *r->p >= 1 && *r->p <= 0x20 :
				 *r->p && strchr(" \t\r\n", *r->p)))
		r->p++;
}

static int jref_lit(struct jref *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return 0;
	r->p += n;
	return 1;
}

static int jref_hex4(const unsigned char *p, const unsigned char *end,
		     unsigned *v)
{
	*v = 0;
	if (end - p < 4)
		return 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i] | 0x20;

		*v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*v |= p[i] - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else
			return 0;
	}
	return 1;
}

static void jref_put_utf8(struct vc_buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (!b)
		return;
	if (cp < 0x80) {
		u[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12), n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++)
		u[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
	vc_buf_add(b, u, n);
}

/* The length of the well-formed UTF-8 sequence at p, or 0. */
static size_t jref_utf8(const unsigned char *p, const unsigned char *end)
{
	size_t k = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 :
		   (p[0] & 0xF8) == 0xF0 ? 4 : 0;

	return k && (size_t)(end - p) >= k && vc_utf8_valid(p, k) ? k : 0;
}

static int jref_string(struct jref *r, struct vc_buf *out)
{
	if (r->p >= r->end || *r->p != '"')
		return 0;
	for (r->p++; r->p < r->end; ) {
		unsigned c = *r->p, v, lo;
		size_t k;

		if (c == '"') {
			r->p++;
			return 1;
		}
		if (c == 0 || (c < 0x20 && !r->lenient))
			return 0;
		if (c >= 0x80) {
			if (!(k = jref_utf8(r->p, r->end)))
				return 0;
			if (out)
				vc_buf_add(out, r->p, k);
			r->p += k;
			continue;
		}
		if (c != '\\') {
			if (out)
				vc_buf_addch(out, (char)c);
			r->p++;
			continue;
		}
		if (r->end - r->p < 2)
			return 0;
		c = r->p[1];
		r->p += 2;
		switch (c) {
		case '"': case '\\': case '/':
			if (out)
				vc_buf_addch(out, (char)c);
			continue;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (!jref_hex4(r->p, r->end, &v))
				return 0;
			r->p += 4;
			if (v >= 0xDC00 && v <= 0xDFFF)
				return 0;               /* lone low surrogate */
			if (v >= 0xD800 && v <= 0xDBFF) {
				if (r->end - r->p < 6 || r->p[0] != '\\' ||
				    r->p[1] != 'u' ||
				    !jref_hex4(r->p + 2, r->end, &lo) ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return 0;
				r->p += 6;
				v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
			}
			jref_put_utf8(out, v);
			continue;
		default:
			return 0;
		}
		if (out)
			vc_buf_addch(out, (char)c);
	}
	return 0;
}

static int jref_digits(struct jref *r)
{
	const unsigned char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s;
}

static int jref_number(struct jref *r)
{
	const unsigned char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!jref_digits(r))
		return 0;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!jref_digits(r))
			return 0;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!jref_digits(r))
			return 0;
	}
	return r->p > s;
}

static int jref_members(struct jref *r, int object)
{
	char close = object ? '}' : ']';
	int top = r->depth == 0 && object;

	if (++r->depth > 900)
		r->unusual = 1;         /* cJSON stops at 1000 levels */
	if (r->depth > 5000)
		return 0;
	r->p++;
	jref_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return 1;
	}
	for (;;) {
		struct jref_member *m = NULL;

		if (top && r->m && r->nm < JREF_MAX_MEMBERS) {
			m = &r->m[r->nm++];
			vc_buf_init(&m->key, 0);
			vc_buf_init(&m->val, 0);
			m->val_is_string = 0;
		}
		if (object) {
			jref_ws(r);
			if (!jref_string(r, m ? &m->key : NULL))
				return 0;
			jref_ws(r);
			if (r->p >= r->end || *r->p++ != ':')
				return 0;
		}
		jref_ws(r);
		if (m)
			m->val_is_string = r->p < r->end && *r->p == '"';
		if (!jref_value(r, m ? &m->val : NULL))
			return 0;
		jref_ws(r);
		if (r->p >= r->end)
			return 0;
		if (*r->p == close) {
			r->p++;
			r->depth--;
			return 1;
		}
		if (*r->p++ != ',')
			return 0;
	}
}

static int jref_value(struct jref *r, struct vc_buf *out)
{
	jref_ws(r);
	if (r->p >= r->end)
		return 0;
	switch (*r->p) {
	case '{': return jref_members(r, 1);
	case '[': return jref_members(r, 0);
	case '"': return jref_string(r, out);
	case 't': return jref_lit(r, "true");
	case 'f': return jref_lit(r, "false");
	case 'n': return jref_lit(r, "null");
	default: return jref_number(r);
	}
}

/* 1 if text is one JSON object with only white space around it.  When
 * r->m is set (JREF_MAX_MEMBERS entries) the members are collected; free
 * them with jref_free. */
static int jref_object(struct jref *r, const char *text, size_t n)
{
	int ok;

	r->p = (const unsigned char *)text;
	r->end = r->p + n;
	r->depth = r->unusual = 0;
	r->nm = 0;
	if (r->lenient && n >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		r->p += 3;      /* cJSON skips a byte order mark */
	jref_ws(r);
	ok = r->p < r->end && *r->p == '{' && jref_value(r, NULL);
	/* After the value, both the importer and the features check take
	 * only JSON's own white space. */
	while (r->p < r->end && *r->p && strchr(" \t\r\n", *r->p))
		r->p++;
	return ok && r->p == r->end;
}

static void jref_free(struct jref *r)
{
	for (size_t i = 0; r->m && i < r->nm; i++) {
		vc_buf_release(&r->m[i].key);
		vc_buf_release(&r->m[i].val);
	}
	r->nm = 0;
}

#endif
