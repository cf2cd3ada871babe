/* fuzz_format.c - vc_format_export (vaultctl-secret export) and
 * vc_utf8_valid.
 *
 * Input: one byte choosing the format (6 and 7 are not formats), then up
 * to 64 records: a name byte (bit 7: a generated name "K<i>", else the
 * low 6 bits are the length of a name taken from the input; bit 6: a NULL
 * value), a 2-byte little-endian value length, the value bytes.
 *
 * Invariants: a refusal leaves the buffer as it was; a format refuses a
 * value exactly for the reasons it documents (sh and env0 only for NUL;
 * the text formats also for invalid UTF-8); and every accepted export
 * decodes back to the exact names and bytes -- sh with a POSIX-sh word
 * reader, env0 and docker by splitting, yaml with a reader of its
 * escapes, json and dotenv through vaultctl's own import parsers.
 * vc_utf8_valid is compared with a second, independent decoder.
 */
#include "fuzz.h"

#include <strings.h>

#include "dotenv.h"
#include "format.h"

#define MAXKV 64
#define PREFIX "PREFIX"

struct input {
	enum vc_format f;
	struct vc_kv kv[MAXKV];
	char names[MAXKV][72];
	size_t n;
};

/* Well-formed UTF-8 decided by code point ranges rather than by the
 * second-byte table format.c uses. */
static int utf8_ref(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; ) {
		unsigned b = s[i];
		size_t need;
		uint32_t cp, min;

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xE0) == 0xC0)
			need = 1, cp = b & 0x1F, min = 0x80;
		else if ((b & 0xF0) == 0xE0)
			need = 2, cp = b & 0x0F, min = 0x800;
		else if ((b & 0xF8) == 0xF0)
			need = 3, cp = b & 0x07, min = 0x10000;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

static void take(struct input *in, const uint8_t *d, size_t size)
{
	size_t p = 1;

	in->f = (enum vc_format)(size ? d[0] % 8 : 0);
	in->n = 0;
	while (p < size && in->n < MAXKV) {
		struct vc_kv *kv = &in->kv[in->n];
		char *name = in->names[in->n];
		unsigned hdr = d[p++];
		size_t len;

		if (hdr & 0x80) {
			snprintf(name, sizeof(in->names[0]), "K%zu", in->n);
		} else {
			len = hdr & 0x3F;
			if (len > size - p)
				len = size - p;
			memcpy(name, d + p, len);
			name[len] = '\0';
			p += len;
		}
		len = p < size ? d[p++] : 0;
		len |= p < size ? (size_t)d[p++] << 8 : 0;
		if (len > size - p)
			len = size - p;
		kv->name = name;
		kv->value = (hdr & 0x40) && len == 0 ? NULL : (const char *)d + p;
		kv->len = len;
		p += len;
		in->n++;
	}
}

static int has(const struct vc_kv *kv, char c)
{
	return kv->len && memchr(kv->value, c, kv->len);
}

/* Whether the format must refuse this input, judged from its rules. */
static int must_refuse(const struct input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		const struct vc_kv *kv = &in->kv[i];

		if (!name_ok(kv->name) || has(kv, '\0'))
			return 1;
		if (in->f == VC_FMT_SH || in->f == VC_FMT_ENV0)
			continue;
		if (!utf8_ref((const unsigned char *)kv->value, kv->len))
			return 1;
		if (in->f == VC_FMT_DOCKER &&
		    (has(kv, '\n') || has(kv, '\r') ||
		     kv->len + strlen(kv->name) + 1 > 65535))
			return 1;
	}
	return 0;
}

static int names_distinct(const struct input *in)
{
	for (size_t i = 0; i < in->n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(in->kv[i].name, in->kv[j].name))
				return 0;
	return 1;
}

static void same(const struct vc_kv *kv, const char *name, const char *v,
		 size_t len)
{
	FUZZ_CHECK(strcmp(name, kv->name) == 0, "name '%s' read back as '%s'",
		   kv->name, name);
	FUZZ_CHECK(len == kv->len && (len == 0 || memcmp(v, kv->value, len) == 0),
		   "value of '%s' changed (%zu bytes, read back %zu)", kv->name,
		   kv->len, len);
}

/* export NAME=WORD\n lines, WORD read as a POSIX shell reads it. */
static void decode_sh(const struct input *in, const char *p, const char *end)
{
	struct vc_buf w;
	char name[300];

	vc_buf_init(&w, 0);
	for (size_t i = 0; i < in->n; i++) {
		const char *eq;

		FUZZ_CHECK(end - p > 7 && !memcmp(p, "export ", 7), "sh line %zu", i);
		p += 7;
		eq = memchr(p, '=', (size_t)(end - p));
		FUZZ_CHECK(eq && eq - p < 300, "sh line %zu has no '='", i);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		vc_buf_reset(&w);
		for (p = eq + 1; p < end && *p != '\n'; ) {
			if (*p == '\'') {
				const char *q = memchr(p + 1, '\'',
						       (size_t)(end - p - 1));

				FUZZ_CHECK(q, "unterminated ' in sh output");
				vc_buf_add(&w, p + 1, (size_t)(q - p - 1));
				p = q + 1;
			} else if (*p == '\\' && p + 1 < end && p[1] != '\n') {
				vc_buf_add(&w, p + 1, 1);
				p += 2;
			} else {
				FUZZ_CHECK(!strchr(" \t;&|<>()$`\"*?[#~=%", *p),
					   "unquoted shell character '%c'", *p);
				vc_buf_add(&w, p++, 1);
			}
		}
		FUZZ_CHECK(p < end, "sh line %zu not ended", i);
		p++;
		same(&in->kv[i], name, w.data ? w.data : "", w.len);
	}
	FUZZ_CHECK(p == end, "trailing sh output");
	vc_buf_release(&w);
}

/* NAME=value followed by sep, as docker and env0 write them. */
static void decode_split(const struct input *in, const char *p,
			 const char *end, char sep)
{
	for (size_t i = 0; i < in->n; i++) {
		const char *eq = memchr(p, '=', (size_t)(end - p)), *stop;
		char name[300];

		FUZZ_CHECK(eq && eq - p < 300, "record %zu has no '='", i);
		stop = memchr(eq, sep, (size_t)(end - eq));
		FUZZ_CHECK(stop, "record %zu not ended", i);
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		same(&in->kv[i], name, eq + 1, (size_t)(stop - eq - 1));
		p = stop + 1;
	}
	FUZZ_CHECK(p == end, "trailing output");
}

static void utf8_put(struct vc_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80)
		u[0] = (char)cp, n = 1;
	else if (cp < 0x800)
		u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)),
		n = 2;
	else
		u[0] = (char)(0xE0 | cp >> 12),
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
		u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
	vc_buf_add(b, u, n);
}

/* "NAME": "escaped"\n lines. */
static void decode_yaml(const struct input *in, const char *p, const char *end)
{
	struct vc_buf w;

	if (in->n == 0) {
		FUZZ_CHECK(end - p == 3 && !memcmp(p, "{}\n", 3), "empty yaml");
		return;
	}
	vc_buf_init(&w, 0);
	for (size_t i = 0; i < in->n; i++) {
		const char *q;
		char name[300];

		FUZZ_CHECK(p < end && *p == '"', "yaml line %zu", i);
		q = memchr(p + 1, '"', (size_t)(end - p - 1));
		FUZZ_CHECK(q && q - p < 300 && end - q > 4 &&
			   !memcmp(q, "\": \"", 4), "yaml key %zu", i);
		memcpy(name, p + 1, (size_t)(q - p - 1));
		name[q - p - 1] = '\0';
		vc_buf_reset(&w);
		for (p = q + 4; p < end && *p != '"'; p++) {
			unsigned char c = (unsigned char)*p;
			unsigned x;

			FUZZ_CHECK(c >= 0x20 && c != 0x7F, "raw control byte "
				   "0x%02x in yaml", c);
			if (c != '\\') {
				vc_buf_add(&w, p, 1);
				continue;
			}
			FUZZ_CHECK(++p < end, "yaml escape at the end");
			switch (*p) {
			case '"': case '\\': vc_buf_add(&w, p, 1); break;
			case 'n': vc_buf_addch(&w, '\n'); break;
			case 'r': vc_buf_addch(&w, '\r'); break;
			case 't': vc_buf_addch(&w, '\t'); break;
			case 'u':
				FUZZ_CHECK(end - p > 4 &&
					   sscanf(p + 1, "%4X", &x) == 1,
					   "yaml \\u escape");
				utf8_put(&w, x);
				p += 4;
				break;
			default:
				FUZZ_CHECK(0, "unknown yaml escape '\\%c'", *p);
			}
		}
		FUZZ_CHECK(end - p >= 2 && p[1] == '\n', "yaml line %zu end", i);
		p += 2;
		same(&in->kv[i], name, w.data ? w.data : "", w.len);
	}
	FUZZ_CHECK(p == end, "trailing yaml output");
	vc_buf_release(&w);
}

static void decode_import(const struct input *in, const char *p, size_t len)
{
	struct vc_kvlist back;
	struct vc_err e;
	int rc;

	if (!names_distinct(in))        /* the importers refuse those */
		return;
	rc = in->f == VC_FMT_JSON ? vc_json_import_parse(p, len, &back, &e) :
				     vc_dotenv_parse(p, len, &back, &e);
	FUZZ_CHECK(rc == 0, "%s export does not import: %s",
		   vc_format_name(in->f), e.msg);
	FUZZ_CHECK(back.n == in->n, "%zu entries became %zu", in->n, back.n);
	for (size_t i = 0; i < in->n; i++)
		same(&in->kv[i], back.items[i].name, back.items[i].value,
		     back.items[i].len);
	vc_kvlist_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct input in;
	struct vc_err e = { 0, "" };
	struct vc_buf out;
	const char *p, *end;
	int rc;

	take(&in, data, size);
	for (size_t i = 0; i < in.n; i++)
		FUZZ_CHECK(vc_utf8_valid(in.kv[i].value, in.kv[i].len) ==
			   utf8_ref((const unsigned char *)in.kv[i].value,
				    in.kv[i].len), "vc_utf8_valid disagrees");
	vc_buf_init(&out, 1);
	vc_buf_addstr(&out, PREFIX);
	rc = vc_format_export(in.f, in.kv, in.n, &out, &e);
	fuzz_check_err(rc, &e);
	if (rc < 0 || (unsigned)in.f > VC_FMT_ENV0) {
		FUZZ_CHECK(rc == VC_EUSAGE, "code %d: %s", rc, e.msg);
		FUZZ_CHECK(out.len == strlen(PREFIX) &&
			   !memcmp(out.data, PREFIX, out.len),
			   "a refusal changed the buffer");
		/* dotenv has more reasons of its own (see format.c); its
		 * acceptances are checked by reading them back. */
		FUZZ_CHECK((unsigned)in.f > VC_FMT_ENV0 || must_refuse(&in) ||
			   in.f == VC_FMT_DOTENV,
			   "%s refused a value it can carry: %s",
			   vc_format_name(in.f), e.msg);
		vc_buf_release(&out);
		return 0;
	}
	FUZZ_CHECK(!must_refuse(&in), "%s accepted what it cannot carry",
		   vc_format_name(in.f));
	FUZZ_CHECK(!memcmp(out.data, PREFIX, strlen(PREFIX)), "prefix lost");
	p = out.data + strlen(PREFIX);
	end = out.data + out.len;
	switch (in.f) {
	case VC_FMT_SH: decode_sh(&in, p, end); break;
	case VC_FMT_ENV0: decode_split(&in, p, end, '\0'); break;
	case VC_FMT_DOCKER: decode_split(&in, p, end, '\n'); break;
	case VC_FMT_YAML: decode_yaml(&in, p, end); break;
	case VC_FMT_JSON:
	case VC_FMT_DOTENV: decode_import(&in, p, (size_t)(end - p)); break;
	}
	vc_buf_release(&out);
	return 0;
}
