/* format.c - export encoders: sh, dotenv, json, yaml, docker, env0.
 *
 * Each format checks every value first and only then writes, so a refusal
 * leaves the caller's buffer untouched.  What each consumer really does is
 * in vaultctl-secret(1), EXPORT FORMATS; the rules below are derived from it and
 * confirmed by tests/e2e/roundtrip against the real consumers.
 */
#include "format.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

/* Hints for refusals: which formats do carry the value. */
#define HINT_TEXT "use --format sh or json"
#define HINT_BYTES "use --format sh or env0"

/* docker reads --env-file with Go's bufio.Scanner, whose default token
 * limit is 64 KiB including the newline: longer lines fail the whole file. */
#define DOCKER_MAX_LINE 65535

static const char *const format_names[] = {
	[VC_FMT_SH] = "sh",
	[VC_FMT_DOTENV] = "dotenv",
	[VC_FMT_JSON] = "json",
	[VC_FMT_YAML] = "yaml",
	[VC_FMT_DOCKER] = "docker",
	[VC_FMT_ENV0] = "env0",
};
#define NFORMATS ARRAY_SIZE(format_names)

int vc_format_parse(const char *name, enum vc_format *out, struct vc_err *e)
{
	for (size_t i = 0; name && i < NFORMATS; i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum vc_format)i;
			return 0;
		}
	}
	return vc_err_set(e, VC_EUSAGE, "unknown export format '%.64s' "
			  "(valid: sh, dotenv, json, yaml, docker, env0)",
			  name ? name : "");
}

const char *vc_format_name(enum vc_format f)
{
	return (unsigned)f < NFORMATS ? format_names[f] : "?";
}

/* ---- UTF-8 ---- */

/* Length of the well-formed UTF-8 sequence at s (n > 0 bytes available),
 * storing its code point; 0 if ill-formed.  The second-byte ranges follow
 * Unicode table 3-7, which excludes overlongs, surrogates and > U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		*cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		*cp = s[0] & 0x0F;
		if (s[0] == 0xE0)
			lo = 0xA0;
		else if (s[0] == 0xED)
			hi = 0x9F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		*cp = s[0] & 0x07;
		if (s[0] == 0xF0)
			lo = 0x90;
		else if (s[0] == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xBF))
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	return len;
}

int vc_utf8_valid(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t cp;

	while (n) {
		size_t k = utf8_seq(s, n, &cp);

		if (!k)
			return 0;
		s += k;
		n -= k;
	}
	return 1;
}

/* ---- shared helpers ---- */

/* Names are validated by the caller; this only keeps a bad one from
 * breaking the syntax of the output. */
static int name_ok(const char *s)
{
	size_t i;

	if (!s || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
		    (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (i = 1; s[i]; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i <= 255;
}

/* An empty value may come as NULL; pointer arithmetic needs real bytes. */
static const char *value_of(const struct vc_kv *kv)
{
	return kv->value ? kv->value : "";
}

/* memchr() that also takes a NULL pointer for an empty value. */
static int has_byte(const char *v, size_t len, char c)
{
	return len && memchr(v, c, len) != NULL;
}

static int refuse(struct vc_err *e, enum vc_format f, const struct vc_kv *kv,
		  const char *why, const char *hint)
{
	return vc_err_set(e, VC_EUSAGE, "secret '%s': %s cannot carry it: %s; %s",
			  kv->name, format_names[f], why, hint);
}

/* NUL and UTF-8 checks shared by several formats; 0 if the value passes. */
static int refuse_nul(struct vc_err *e, enum vc_format f, const struct vc_kv *kv)
{
	if (!has_byte(kv->value, kv->len, '\0'))
		return 0;
	return refuse(e, f, kv, "the value contains a NUL byte, which an "
		      "environment variable cannot hold",
		      "read it with 'vaultctl-secret get'");
}

static int refuse_utf8(struct vc_err *e, enum vc_format f, const struct vc_kv *kv)
{
	if (vc_utf8_valid(kv->value, kv->len))
		return 0;
	return refuse(e, f, kv, "the value is not valid UTF-8", HINT_BYTES);
}

/* Drops what an export appended after a failure, wiping it first. */
static void truncate_back(struct vc_buf *out, size_t len)
{
	if (!out->data || out->len <= len)
		return;
	sodium_memzero(out->data + len, out->len - len);
	out->len = len;
}

/* ---- sh ---- */

/* Inside single quotes every byte is literal to a POSIX shell except the
 * closing quote itself, which is written as '\'' (close, escaped quote,
 * reopen).  Only NUL is out of reach: the environment cannot hold it. */
static int sh_check(const struct vc_kv *kv, struct vc_err *e)
{
	return refuse_nul(e, VC_FMT_SH, kv);
}

/* The inside of a single-quoted word (inject's sh filter too). */
static int sh_inner(const char *v, size_t len, struct vc_buf *out)
{
	size_t i, run = 0;
	int rc = 0;

	for (i = 0; rc == 0 && i < len; i++) {
		if (v[i] != '\'')
			continue;
		rc = vc_buf_add(out, v + run, i - run);
		if (rc == 0)
			rc = vc_buf_addstr(out, "'\\''");
		run = i + 1;
	}
	return rc ? rc : vc_buf_add(out, v + run, len - run);
}

static int sh_emit(const struct vc_kv *kv, struct vc_buf *out)
{
	int rc = vc_buf_printf(out, "export %s='", kv->name);

	if (rc == 0)
		rc = sh_inner(value_of(kv), kv->len, out);
	return rc ? rc : vc_buf_addstr(out, "'\n");
}

/* ---- dotenv ----
 *
 * The value is written NAME='v' or NAME="v", the first that both npm
 * dotenv 16 and python-dotenv 0.21 read back as exactly v:
 *
 *   single quotes: both take the bytes literally, except that python turns
 *     \\ into \ (and \' into ', but v has no ') -> v must have no ', no
 *     two backslashes in a row, and no CR (both readers turn a raw CR or
 *     CRLF into LF, even inside quotes);
 *   double quotes: npm expands only \n and \r, python expands
 *     \\ \' \" \a \b \f \n \r \t \v; a " cannot be escaped alike (npm
 *     keeps the backslash) -> v must have no " and no backslash followed by
 *     one of \ ' " a b f n r t v or CR.  A CR is written as \r, which both
 *     expand; newlines stay raw (multi-line values are read by both).
 *
 * Refused whatever the quoting: a value ending in a backslash (it escapes
 * the closing quote), containing "${" with a "}" anywhere after it (python
 * expands ${VAR} and ${VAR:-default} in every quoting and has no escape for
 * $; refusing every "${...}" is a little wider than python's exact
 * pattern and simpler to state), not valid UTF-8 (npm substitutes U+FFFD,
 * python fails), or containing NUL.  So are values both quotings exclude,
 * e.g. one holding both ' and ", or a CR and a ".
 */
struct dotenv_scan {
	const char *single_no;  /* why single quotes fail, NULL if they work */
	const char *double_no;
};

static int is_py_escape(char c)
{
	return c && strchr("\\'\"abfnrtv\r", c) != NULL;
}

/* True if some "${" has a "}" after it: it suffices to look after the
 * first "${", which keeps this linear. */
static int has_interpolation(const char *v, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (v[i] == '$' && v[i + 1] == '{')
			return memchr(v + i + 2, '}', len - i - 2) != NULL;
	return 0;
}

static void dotenv_scan(const struct vc_kv *kv, struct dotenv_scan *s)
{
	const char *v = kv->value;

	s->single_no = s->double_no = NULL;
	for (size_t i = 0; i < kv->len; i++) {
		char next = i + 1 < kv->len ? v[i + 1] : '\0';

		if (v[i] == '\'' && !s->single_no)
			s->single_no = "it has a '";
		if (v[i] == '\r' && !s->single_no)
			s->single_no = "it has a carriage return";
		if (v[i] == '\\' && next == '\\' && !s->single_no)
			s->single_no = "it has two backslashes in a row";
		if (v[i] == '"' && !s->double_no)
			s->double_no = "it has a \"";
		if (v[i] == '\\' && is_py_escape(next) && !s->double_no)
			s->double_no = "it has a backslash escape";
	}
}

static int dotenv_check(const struct vc_kv *kv, struct vc_err *e)
{
	struct dotenv_scan s;
	int rc;

	if ((rc = refuse_nul(e, VC_FMT_DOTENV, kv)) ||
	    (rc = refuse_utf8(e, VC_FMT_DOTENV, kv)))
		return rc;
	if (kv->len && kv->value[kv->len - 1] == '\\')
		return refuse(e, VC_FMT_DOTENV, kv, "the value ends with a "
			      "backslash, which escapes the closing quote", HINT_TEXT);
	if (has_interpolation(kv->value, kv->len))
		return refuse(e, VC_FMT_DOTENV, kv, "the value has ${...}, which "
			      "python-dotenv expands in any quoting", HINT_TEXT);
	dotenv_scan(kv, &s);
	if (s.single_no && s.double_no)
		return vc_err_set(e, VC_EUSAGE, "secret '%s': dotenv cannot carry "
				  "it: npm and python dotenv would read it differently "
				  "(single quotes: %s; double quotes: %s); %s",
				  kv->name, s.single_no, s.double_no, HINT_TEXT);
	return 0;
}

static int dotenv_emit(const struct vc_kv *kv, struct vc_buf *out)
{
	const char *v = value_of(kv);
	struct dotenv_scan s;
	size_t i, run = 0;
	int rc;

	dotenv_scan(kv, &s);
	if (!s.single_no) {
		rc = vc_buf_printf(out, "%s='", kv->name);
		if (rc == 0)
			rc = vc_buf_add(out, kv->value, kv->len);
		return rc ? rc : vc_buf_addstr(out, "'\n");
	}
	rc = vc_buf_printf(out, "%s=\"", kv->name);
	for (i = 0; rc == 0 && i < kv->len; i++) {
		if (v[i] != '\r')
			continue;
		rc = vc_buf_add(out, v + run, i - run);
		if (rc == 0)
			rc = vc_buf_addstr(out, "\\r");
		run = i + 1;
	}
	if (rc == 0)
		rc = vc_buf_add(out, v + run, kv->len - run);
	return rc ? rc : vc_buf_addstr(out, "\"\n");
}

/* ---- json ---- */

static int json_check(const struct vc_kv *kv, struct vc_err *e)
{
	int rc;

	if ((rc = refuse_nul(e, VC_FMT_JSON, kv)) == 0)
		rc = refuse_utf8(e, VC_FMT_JSON, kv);
	return rc;
}

/* Appends the value as a JSON string printed by cJSON.  The string item
 * only references a secret NUL-terminated copy and prints into a secret
 * buffer, so no copy of the value is left unwiped in cJSON's memory. */
static int json_string(const char *v, size_t len, struct vc_buf *out)
{
	struct vc_buf copy, text;
	cJSON *item = NULL;
	size_t bound;
	int rc = VC_EFAIL;

	/* Worst case: every byte printed as \u00XX, plus quotes and slack. */
	if (len > ((size_t)INT_MAX - 16) / 6)
		return VC_EFAIL;
	bound = len * 6 + 16;
	vc_buf_init(&copy, 1);
	vc_buf_init(&text, 1);
	if (vc_buf_add(&copy, v, len) < 0 || vc_buf_grow(&text, bound) < 0)
		goto out;
	item = cJSON_CreateStringReference(copy.data);
	if (item && cJSON_PrintPreallocated(item, text.data, (int)bound, 0))
		rc = vc_buf_addstr(out, text.data);
out:
	cJSON_Delete(item);
	vc_buf_release(&copy);
	vc_buf_release(&text);
	return rc;
}

static int json_emit_all(const struct vc_kv *kv, size_t n, struct vc_buf *out)
{
	int rc = vc_buf_addch(out, '{');

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = vc_buf_printf(out, "%s\"%s\":", i ? "," : "", kv[i].name);
		if (rc == 0)
			rc = json_string(kv[i].value, kv[i].len, out);
	}
	return rc ? rc : vc_buf_addstr(out, "}\n");
}

/* ---- yaml ----
 *
 * Each pair is "NAME": "escaped" -- the key is quoted too, so names like
 * yes, NO, null or on stay strings in YAML 1.1.  The escapes are the JSON
 * ones (valid in YAML double quotes) plus \uXXXX for what a YAML reader
 * would not keep as is: C0/C1 controls and DEL (not printable in YAML),
 * U+2028/U+2029 (line breaks, folded inside quotes), U+FEFF, U+FFFE and
 * U+FFFF (PyYAML refuses them as unprintable).
 */
static int yaml_check(const struct vc_kv *kv, struct vc_err *e)
{
	int rc;

	if ((rc = refuse_nul(e, VC_FMT_YAML, kv)) == 0)
		rc = refuse_utf8(e, VC_FMT_YAML, kv);
	return rc;
}

static int yaml_needs_u(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

static int yaml_char(const unsigned char *s, size_t k, uint32_t cp,
		     struct vc_buf *out)
{
	switch (cp) {
	case '"': return vc_buf_addstr(out, "\\\"");
	case '\\': return vc_buf_addstr(out, "\\\\");
	case '\n': return vc_buf_addstr(out, "\\n");
	case '\r': return vc_buf_addstr(out, "\\r");
	case '\t': return vc_buf_addstr(out, "\\t");
	default: break;
	}
	if (yaml_needs_u(cp))
		return vc_buf_printf(out, "\\u%04X", (unsigned)cp);
	return vc_buf_add(out, s, k);
}

/* The inside of a double-quoted scalar.  Every escape it writes is a
 * JSON escape too, and what it leaves raw is valid in a JSON string: it
 * is inject's json filter as well. */
static int yaml_inner(const char *v, size_t len, struct vc_buf *out)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = len, k;
	uint32_t cp;
	int rc = 0;

	/* Checked as valid UTF-8 before, so utf8_seq cannot return 0. */
	while (rc == 0 && n && (k = utf8_seq(s, n, &cp)) > 0) {
		rc = yaml_char(s, k, cp, out);
		s += k;
		n -= k;
	}
	return rc;
}

static int yaml_emit(const struct vc_kv *kv, struct vc_buf *out)
{
	int rc = vc_buf_printf(out, "\"%s\": \"", kv->name);

	if (rc == 0)
		rc = yaml_inner(value_of(kv), kv->len, out);
	return rc ? rc : vc_buf_addstr(out, "\"\n");
}

static int yaml_emit_all(const struct vc_kv *kv, size_t n, struct vc_buf *out)
{
	int rc = 0;

	if (n == 0)
		return vc_buf_addstr(out, "{}\n");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = yaml_emit(&kv[i], out);
	return rc;
}

/* ---- docker ----
 *
 * docker run --env-file takes everything after the first '=' up to the end
 * of the line, with no quoting at all, so a value with a newline cannot be
 * written.  Go's line scanner also drops a CR before the line end, and
 * other env-file readers take a lone CR as a line end, so CR is refused as
 * well.  docker rejects the whole file on invalid UTF-8 or a line over
 * 64 KiB.
 */
static int docker_check(const struct vc_kv *kv, struct vc_err *e)
{
	int rc;

	if ((rc = refuse_nul(e, VC_FMT_DOCKER, kv)) ||
	    (rc = refuse_utf8(e, VC_FMT_DOCKER, kv)))
		return rc;
	if (has_byte(kv->value, kv->len, '\n'))
		return refuse(e, VC_FMT_DOCKER, kv, "the value has a newline, "
			      "which ends an --env-file line", HINT_TEXT);
	if (has_byte(kv->value, kv->len, '\r'))
		return refuse(e, VC_FMT_DOCKER, kv, "the value has a carriage "
			      "return, which --env-file readers drop or take as "
			      "a line end", HINT_TEXT);
	if (kv->len > DOCKER_MAX_LINE - 1 - strlen(kv->name))
		return refuse(e, VC_FMT_DOCKER, kv, "the line would exceed the "
			      "64 KiB docker reads per --env-file line", HINT_TEXT);
	return 0;
}

static int docker_emit(const struct vc_kv *kv, struct vc_buf *out)
{
	int rc = vc_buf_printf(out, "%s=", kv->name);

	if (rc == 0)
		rc = vc_buf_add(out, kv->value, kv->len);
	return rc ? rc : vc_buf_addch(out, '\n');
}

/* ---- env0 ---- */

/* NAME=value records ended by NUL (as env -0 prints): every byte but NUL. */
static int env0_check(const struct vc_kv *kv, struct vc_err *e)
{
	return refuse_nul(e, VC_FMT_ENV0, kv);
}

static int env0_emit(const struct vc_kv *kv, struct vc_buf *out)
{
	int rc = vc_buf_printf(out, "%s=", kv->name);

	if (rc == 0)
		rc = vc_buf_add(out, kv->value, kv->len);
	return rc ? rc : vc_buf_addch(out, '\0');
}

/* ---- dispatch ---- */

struct codec {
	int (*check)(const struct vc_kv *kv, struct vc_err *e);
	/* Per-pair line writer, or NULL when emit_all writes the document. */
	int (*emit)(const struct vc_kv *kv, struct vc_buf *out);
	int (*emit_all)(const struct vc_kv *kv, size_t n, struct vc_buf *out);
};

static const struct codec codecs[] = {
	[VC_FMT_SH] = { sh_check, sh_emit, NULL },
	[VC_FMT_DOTENV] = { dotenv_check, dotenv_emit, NULL },
	[VC_FMT_JSON] = { json_check, NULL, json_emit_all },
	[VC_FMT_YAML] = { yaml_check, NULL, yaml_emit_all },
	[VC_FMT_DOCKER] = { docker_check, docker_emit, NULL },
	[VC_FMT_ENV0] = { env0_check, env0_emit, NULL },
};

static int check_all(const struct codec *c, const struct vc_kv *kv, size_t n,
		     struct vc_err *e)
{
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (!name_ok(kv[i].name))
			return vc_err_set(e, VC_EUSAGE, "invalid secret name '%.64s'",
					  kv[i].name ? kv[i].name : "");
		if (!kv[i].value && kv[i].len)
			return vc_err_set(e, VC_EUSAGE, "secret '%s': no value",
					  kv[i].name);
		if ((rc = c->check(&kv[i], e)) < 0)
			return rc;
	}
	return 0;
}

int vc_format_export(enum vc_format f, const struct vc_kv *kv, size_t n,
		     struct vc_buf *out, struct vc_err *e)
{
	const struct codec *c;
	size_t start = out->len;
	int rc = 0;

	if ((unsigned)f >= NFORMATS)
		return vc_err_set(e, VC_EUSAGE, "unknown export format %d", (int)f);
	c = &codecs[f];
	if ((rc = check_all(c, kv, n, e)) < 0)
		return rc;
	if (c->emit_all) {
		rc = c->emit_all(kv, n, out);
	} else {
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = c->emit(&kv[i], out);
	}
	if (rc < 0) {
		truncate_back(out, start);
		return vc_err_set(e, VC_EFAIL, "cannot export as %s: out of memory",
				  format_names[f]);
	}
	return 0;
}

/* ---- inject filters ----
 *
 * The inside of a quoted string, the quotes being the template's: raw is
 * the bytes; json and yaml escape as the yaml export does (NUL as \u0000,
 * which both readers take), so they refuse only invalid UTF-8; sh is the
 * inside of a single-quoted word, which no shell can give a NUL. */
static const char *const filter_names[] = {
	[VC_FILTER_RAW] = "raw",
	[VC_FILTER_JSON] = "json",
	[VC_FILTER_YAML] = "yaml",
	[VC_FILTER_SH] = "sh",
};

int vc_filter_parse(const char *name, size_t len, enum vc_filter *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(filter_names); i++)
		if (strlen(filter_names[i]) == len &&
		    !memcmp(filter_names[i], name, len)) {
			*out = (enum vc_filter)i;
			return 0;
		}
	return VC_EUSAGE;
}

static int filter_refuse(struct vc_err *e, enum vc_filter f, const char *ref,
			 const char *why)
{
	return vc_err_set(e, VC_EUSAGE, "secret '%s': the %s filter cannot "
			  "carry it: %s; use %s", ref, filter_names[f], why,
			  f == VC_FILTER_SH ? "the raw filter" :
			  "the raw or sh filter");
}

int vc_filter_apply(enum vc_filter f, const char *ref, const char *v,
		    size_t len, struct vc_buf *out, struct vc_err *e)
{
	int rc;

	v = v ? v : "";
	if ((f == VC_FILTER_JSON || f == VC_FILTER_YAML) &&
	    !vc_utf8_valid(v, len))
		return filter_refuse(e, f, ref, "the value is not valid UTF-8");
	if (f == VC_FILTER_SH && has_byte(v, len, '\0'))
		return filter_refuse(e, f, ref, "the value contains a NUL byte, "
				     "which no shell word can hold");
	switch (f) {
	case VC_FILTER_JSON:
	case VC_FILTER_YAML: rc = yaml_inner(v, len, out); break;
	case VC_FILTER_SH: rc = sh_inner(v, len, out); break;
	default: rc = vc_buf_add(out, v, len); break;
	}
	return rc ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}
