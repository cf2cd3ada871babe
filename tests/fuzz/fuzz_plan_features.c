/* fuzz_plan_features.c - vc_plan_features_parse (vaultctl-plan --features,
 * stored in the plans.features JSON column).
 *
 * A strict RFC 8259 reader written here is the reference.  Invariants:
 * what is accepted comes out as strictly valid JSON, an object, without
 * white space or control bytes, equal to the input as cJSON reads both,
 * and parsing it again gives it back unchanged; an input the reference
 * finds valid (an object, within the size limit, and nothing cJSON is
 * known to refuse: surrogate escapes, deep nesting) is accepted.  Numbers
 * that are long or overflow a double are left out of the comparison.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "plan.h"

struct rd {
	const unsigned char *p, *end;
	int depth, unusual;
};

static int value(struct rd *r);

static void ws(struct rd *r)
{
	while (r->p < r->end && strchr(" \t\r\n", *r->p) && *r->p)
		r->p++;
}

static int lit(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return 0;
	r->p += n;
	return 1;
}

static int hex4(const unsigned char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			*v |= (c | 0x20) - 'a' + 10;
		else
			return 0;
	}
	return 1;
}

static int string(struct rd *r)
{
	if (r->p >= r->end || *r->p != '"')
		return 0;
	for (r->p++; r->p < r->end; ) {
		unsigned c = *r->p, v;

		if (c == '"') {
			r->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (r->end - r->p < 2)
				return 0;
			c = r->p[1];
			if (c == 'u') {
				if (r->end - r->p < 6 || !hex4(r->p + 2, &v))
					return 0;
				if (v >= 0xD800 && v <= 0xDFFF)
					r->unusual = 1;
				r->p += 6;
			} else if (strchr("\"\\/bfnrt", (int)c) && c) {
				r->p += 2;
			} else {
				return 0;
			}
			continue;
		}
		if (c >= 0x80) {
			size_t left = (size_t)(r->end - r->p), k;

			for (k = 1; k < 4 && k < left && (r->p[k] & 0xC0) == 0x80; k++)
				;
			if (!vc_utf8_valid(r->p, k) ||
			    (k == 1) || ((r->p[0] & 0xE0) == 0xC0 && k != 2) ||
			    ((r->p[0] & 0xF0) == 0xE0 && k != 3) ||
			    ((r->p[0] & 0xF8) == 0xF0 && k != 4))
				return 0;
			r->p += k;
			continue;
		}
		r->p++;
	}
	return 0;
}

static int digits(struct rd *r)
{
	const unsigned char *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s;
}

static int number(struct rd *r)
{
	const unsigned char *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!digits(r))
		return 0;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!digits(r))
			return 0;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!digits(r))
			return 0;
	}
	{
		/* cJSON reads numbers as doubles: 1e999 is inf, which
		 * cJSON_Compare never finds equal. */
		char buf[64];
		size_t n = (size_t)(r->p - s);

		if (n >= sizeof(buf) ||
		    (memcpy(buf, s, n), buf[n] = '\0', !isfinite(strtod(buf, NULL))))
			r->unusual = 1;
	}
	return 1;
}

static int members(struct rd *r, int object)
{
	char close = object ? '}' : ']';

	if (++r->depth > 900)
		r->unusual = 1;
	if (r->depth > 5000)
		return 0;
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		r->depth--;
		return 1;
	}
	for (;;) {
		if (object) {
			if (!string(r))
				return 0;
			ws(r);
			if (r->p >= r->end || *r->p++ != ':')
				return 0;
		}
		if (!value(r))
			return 0;
		ws(r);
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

static int value(struct rd *r)
{
	ws(r);
	if (r->p >= r->end)
		return 0;
	switch (*r->p) {
	case '{': return members(r, 1);
	case '[': return members(r, 0);
	case '"': return string(r);
	case 't': return lit(r, "true");
	case 'f': return lit(r, "false");
	case 'n': return lit(r, "null");
	default: return number(r);
	}
}

/* 1 if text is one JSON object with only white space around it. */
static int strict_object(const char *text, size_t n, int *unusual)
{
	struct rd r = { (const unsigned char *)text,
			(const unsigned char *)text + n, 0, 0 };
	int ok;

	ws(&r);
	ok = r.p < r.end && *r.p == '{' && value(&r);
	ws(&r);
	*unusual = r.unusual;
	return ok && r.p == r.end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), *out = NULL, *again = NULL;
	struct vc_err e = { 0, "" };
	int rc, unusual, valid;
	size_t skip;

	if (!text)
		abort();
	memcpy(text, data, size);
	rc = vc_plan_features_parse(text, size, &out, &e);
	fuzz_check_err(rc, &e);
	skip = size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
	valid = strict_object(text + skip, size - skip, &unusual);
	if (rc < 0) {
		FUZZ_CHECK(out == NULL, "output left after an error");
		FUZZ_CHECK(!valid || unusual || size - skip >
			   VC_PLAN_FEATURES_MAX || memchr(text, '\0', size),
			   "valid JSON object refused: %s", e.msg);
	} else {
		size_t n = strlen(out);
		cJSON *a, *b;
		int u2;

		FUZZ_CHECK(out != NULL, "no output");
		FUZZ_CHECK(strict_object(out, n, &u2), "output is not strict "
			   "JSON: %s", out);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK((unsigned char)out[i] >= 0x20, "byte 0x%02x "
				   "in the output", (unsigned char)out[i]);
		a = cJSON_ParseWithLength(text + skip, size - skip);
		b = cJSON_Parse(out);
		FUZZ_CHECK(a && b && (unusual || cJSON_Compare(a, b, 1)),
			   "output differs from the input");
		cJSON_Delete(a);
		cJSON_Delete(b);
		rc = vc_plan_features_parse(out, n, &again, &e);
		FUZZ_CHECK(rc == 0 && !strcmp(out, again), "not idempotent: %s",
			   rc ? e.msg : again);
	}
	free(again);
	free(out);
	free(text);
	return 0;
}
