/* dotenv.c - import parsers for dotenv and JSON (see dotenv.h). */
#include "dotenv.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 255

/* ---- the list ---- */

void vc_kvlist_free(struct vc_kvlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->items[i].name);
		vc_free_secret((char *)l->items[i].value, l->items[i].len + 1);
	}
	free(l->items);
	free(l->slot);
	l->items = NULL;
	l->slot = NULL;
	l->n = l->cap = l->nslot = 0;
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* FNV-1a of the name with its case ignored, as names are compared. */
static size_t name_hash(const char *s, size_t n)
{
	unsigned long long h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)upper(s[i]);
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

/* Entry i into the index: open addressing, slot holds index + 1. */
static void slot_put(struct vc_kvlist *l, size_t i)
{
	const char *name = l->items[i].name;
	size_t mask = l->nslot - 1, h = name_hash(name, strlen(name)) & mask;

	while (l->slot[h])
		h = (h + 1) & mask;
	l->slot[h] = i + 1;
}

/* Keeps the index at most half full: a file of thousands of names
 * checked each against all before cost more than the rest of an
 * import's own work. */
static int index_grow(struct vc_kvlist *l)
{
	size_t nslot = l->nslot ? l->nslot * 2 : 64;

	if (2 * (l->n + 1) <= l->nslot)
		return 0;
	free(l->slot);
	l->slot = calloc(nslot, sizeof(*l->slot));
	if (!l->slot) {
		l->nslot = 0;
		return VC_EFAIL;
	}
	l->nslot = nslot;
	for (size_t i = 0; i < l->n; i++)
		slot_put(l, i);
	return 0;
}

/* Appends name (namelen bytes) and takes the value out of val, which is
 * left empty.  0 or VC_EFAIL. */
static int kvlist_push(struct vc_kvlist *l, const char *name, size_t namelen,
		       struct vc_buf *val)
{
	struct vc_kv *kv;
	char *n, *v;
	size_t vlen;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		kv = realloc(l->items, cap * sizeof(*kv));
		if (!kv)
			return VC_EFAIL;
		l->items = kv;
		l->cap = cap;
	}
	if (index_grow(l) < 0)
		return VC_EFAIL;
	n = malloc(namelen + 1);
	if (!n)
		return VC_EFAIL;
	v = vc_buf_detach(val, &vlen);
	if (!v) {
		free(n);
		return VC_EFAIL;
	}
	memcpy(n, name, namelen);
	n[namelen] = '\0';
	l->items[l->n] = (struct vc_kv){ n, v, vlen };
	slot_put(l, l->n++);
	return 0;
}

static int is_name_start(char c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int name_valid(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN || !is_name_start(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_name_char(s[i]))
			return 0;
	return 1;
}

static int name_eq_nocase(const char *a, const char *b, size_t blen)
{
	for (size_t i = 0; i < blen; i++) {
		char x = upper(a[i]), y = upper(b[i]);

		if (x != y || x == '\0')
			return 0;
	}
	return a[blen] == '\0';
}

/* Index of an entry named like name (case-insensitively), or -1. */
static long kvlist_find(const struct vc_kvlist *l, const char *name, size_t n)
{
	size_t mask = l->nslot - 1, h;

	if (!l->nslot)
		return -1;
	for (h = name_hash(name, n) & mask; l->slot[h]; h = (h + 1) & mask)
		if (name_eq_nocase(l->items[l->slot[h] - 1].name, name, n))
			return (long)(l->slot[h] - 1);
	return -1;
}

/* 1-based line of offset off in text (len bytes); CRLF and a lone CR
 * each end one line, as in the parser. */
static unsigned line_of(const char *text, size_t len, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off && i < len; i++)
		if (text[i] == '\n' ||
		    (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n')))
			line++;
	return line;
}

/* ---- dotenv ---- */

struct cursor {
	const char *p, *end;
	unsigned line;
	unsigned *lines;        /* line of each entry, for duplicate errors */
};

static int at_eol(const struct cursor *c)
{
	return c->p == c->end || *c->p == '\n' || *c->p == '\r';
}

/* Consumes one line end at the cursor: LF, CRLF or a lone CR. */
static void eat_eol(struct cursor *c)
{
	if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
		c->p++;
	c->p++;
	c->line++;
}

static void skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static void skip_to_eol(struct cursor *c)
{
	while (!at_eol(c))
		c->p++;
}

/* Adds the line end at the cursor to val as one LF and consumes it. */
static int take_eol(struct cursor *c, struct vc_buf *val)
{
	eat_eol(c);
	return vc_buf_addch(val, '\n');
}

static int parse_single(struct cursor *c, struct vc_buf *val, struct vc_err *e)
{
	unsigned start = c->line;

	for (c->p++; c->p < c->end && *c->p != '\''; ) {
		int rc = at_eol(c) ? take_eol(c, val) : vc_buf_addch(val, *c->p++);

		if (rc < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	if (c->p == c->end)
		return vc_err_set(e, VC_EUSAGE, "line %u: unterminated single quote",
				  start);
	c->p++;
	return 0;
}

/* The escapes of a double-quoted value; 0 when the backslash is literal. */
static char dq_escape(char c)
{
	switch (c) {
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case '\\': return '\\';
	case '"': return '"';
	default: return 0;
	}
}

static int parse_double(struct cursor *c, struct vc_buf *val, struct vc_err *e)
{
	unsigned start = c->line;
	int rc = 0;

	for (c->p++; rc == 0 && c->p < c->end && *c->p != '"'; ) {
		char esc = *c->p == '\\' && c->p + 1 < c->end ? dq_escape(c->p[1]) : 0;

		if (esc) {
			rc = vc_buf_addch(val, esc);
			c->p += 2;
		} else if (at_eol(c)) {
			rc = take_eol(c, val);
		} else {
			rc = vc_buf_addch(val, *c->p++);
		}
	}
	if (rc < 0)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	if (c->p == c->end)
		return vc_err_set(e, VC_EUSAGE, "line %u: unterminated double quote",
				  start);
	c->p++;
	return 0;
}

/* An unquoted value runs to the end of the line; a # after a blank starts
 * a comment, and blanks around the value are dropped. */
static int parse_unquoted(struct cursor *c, int after_blank, struct vc_buf *val)
{
	const char *start = c->p, *stop;

	while (!at_eol(c) && !(*c->p == '#' && after_blank)) {
		after_blank = *c->p == ' ' || *c->p == '\t';
		c->p++;
	}
	stop = c->p;
	while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
		stop--;
	skip_to_eol(c);
	return vc_buf_add(val, start, (size_t)(stop - start));
}

static int parse_value(struct cursor *c, struct vc_buf *val, struct vc_err *e)
{
	const char *eq = c->p;
	int rc;

	skip_blanks(c);
	if (c->p < c->end && *c->p == '`')
		return vc_err_set(e, VC_EUSAGE, "line %u: backquoted values are not "
				  "supported (npm and python dotenv disagree on "
				  "them); use single quotes", c->line);
	if (c->p == c->end || (*c->p != '\'' && *c->p != '"')) {
		if (parse_unquoted(c, c->p > eq, val) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		return 0;
	}
	rc = *c->p == '\'' ? parse_single(c, val, e) : parse_double(c, val, e);
	if (rc < 0)
		return rc;
	skip_blanks(c);
	if (!at_eol(c) && *c->p != '#')
		return vc_err_set(e, VC_EUSAGE, "line %u: unexpected text after the "
				  "closing quote", c->line);
	skip_to_eol(c);
	return 0;
}

/* Skips "export" and the blanks after it when a name follows. */
static void skip_export(struct cursor *c)
{
	const char *q = c->p + 6;

	if (c->end - c->p <= 6 || memcmp(c->p, "export", 6) != 0 ||
	    (*q != ' ' && *q != '\t'))
		return;
	while (q < c->end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < c->end && is_name_start(*q))
		c->p = q;
}

#define UNQUOTED_HINT "; a value on several lines must be quoted"

/* Reads NAME and the '=' after it; name and nlen point into the text. */
static int parse_name(struct cursor *c, const char **name, size_t *nlen,
		      struct vc_err *e)
{
	const char *s = c->p;

	while (!at_eol(c) && *c->p != '=' && *c->p != ' ' && *c->p != '\t')
		c->p++;
	*name = s;
	*nlen = (size_t)(c->p - s);
	/* The text is not echoed: a line that is not NAME=VALUE is often a
	 * piece of a multi-line value left unquoted (a PEM body), and an
	 * error message must never carry a value. */
	if (*nlen == 0)
		return vc_err_set(e, VC_EUSAGE, "line %u: missing name before '='",
				  c->line);
	if (*nlen > NAME_MAX_LEN)
		return vc_err_set(e, VC_EUSAGE, "line %u: the name is longer than "
				  "%d characters%s", c->line, NAME_MAX_LEN,
				  UNQUOTED_HINT);
	if (!name_valid(s, *nlen))
		return vc_err_set(e, VC_EUSAGE, "line %u: invalid name (letters, "
				  "digits and '_', not starting with a digit)%s",
				  c->line, UNQUOTED_HINT);
	skip_blanks(c);
	if (at_eol(c) || *c->p != '=')
		return vc_err_set(e, VC_EUSAGE, "line %u: NAME=VALUE expected, no "
				  "'=' found%s", c->line, UNQUOTED_HINT);
	c->p++;
	return 0;
}

static int parse_entry(struct cursor *c, struct vc_kvlist *out, struct vc_err *e)
{
	struct vc_buf val;
	unsigned line = c->line;
	const char *name;
	size_t nlen;
	long dup;
	int rc;

	skip_export(c);
	if ((rc = parse_name(c, &name, &nlen, e)) < 0)
		return rc;
	if ((dup = kvlist_find(out, name, nlen)) >= 0)
		return vc_err_set(e, VC_EUSAGE, "line %u: '%.*s' is already set on "
				  "line %u", line, (int)nlen, name, c->lines[dup]);
	vc_buf_init(&val, 1);
	rc = parse_value(c, &val, e);
	if (rc == 0 && kvlist_push(out, name, nlen, &val) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	vc_buf_release(&val);
	return rc;
}

/* Grows the per-entry line array along with the list. */
static int note_line(struct cursor *c, const struct vc_kvlist *l, unsigned line)
{
	if (l->n % 16 == 0) {
		unsigned *p = realloc(c->lines, (l->n + 16) * sizeof(*p));

		if (!p)
			return VC_EFAIL;
		c->lines = p;
	}
	c->lines[l->n] = line;
	return 0;
}

static int parse_lines(struct cursor *c, struct vc_kvlist *out, struct vc_err *e)
{
	while (c->p < c->end) {
		unsigned line;
		int rc;

		skip_blanks(c);
		if (at_eol(c)) {
			if (c->p < c->end)
				eat_eol(c);
			continue;
		}
		if (*c->p == '#') {
			skip_to_eol(c);
			continue;
		}
		line = c->line;
		if (note_line(c, out, line) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		if ((rc = parse_entry(c, out, e)) < 0)
			return rc;
	}
	return 0;
}

int vc_dotenv_parse(const char *text, size_t len, struct vc_kvlist *out,
		    struct vc_err *e)
{
	struct cursor c = { text, text + len, 1, NULL };
	const char *nul = len ? memchr(text, '\0', len) : NULL;
	int rc;

	*out = (struct vc_kvlist)VC_KVLIST_INIT;
	if (nul)
		return vc_err_set(e, VC_EUSAGE, "line %u: NUL byte",
				  line_of(text, len, (size_t)(nul - text)));
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3;
	rc = parse_lines(&c, out, e);
	free(c.lines);
	if (rc < 0)
		vc_kvlist_free(out);
	return rc;
}

/* ---- JSON ---- */

/* Offset of the first \u escape that is \u0000 or not four hex digits
 * in JSON text, or -1; *zero tells which.  cJSON reads both as a NUL that
 * silently cuts the string short.  Outside strings valid JSON has no
 * backslash, and inside one each backslash starts an escape, so skipping
 * the escaped character is enough. */
static long json_bad_u_escape(const char *text, size_t len, int *zero)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (text[i + 1] == 'u') {
			if (i + 6 > len)
				return *zero = 0, (long)i;
			*zero = memcmp(text + i + 2, "0000", 4) == 0;
			for (size_t k = 2; k < 6; k++)
				if (!isxdigit((unsigned char)text[i + k]))
					return (long)i;
			if (*zero)
				return (long)i;
		}
		i++;
	}
	return -1;
}

/* First line that is not valid UTF-8, or 0.  A newline byte is never part
 * of a multi-byte sequence, so lines can be checked one by one. */
static unsigned json_bad_utf8_line(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	unsigned line = 1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (!vc_utf8_valid(p, n))
			return line;
		p += n + (nl != NULL);
		line++;
	}
	return 0;
}

/* Pre-checks cJSON cannot do for us: it stops a string at \u0000 and
 * passes bytes through without checking UTF-8. */
static int json_precheck(const char *text, size_t len, struct vc_err *e)
{
	const char *nul = len ? memchr(text, '\0', len) : NULL;
	unsigned bad;
	long off;
	int zero;

	if (nul)
		return vc_err_set(e, VC_EUSAGE, "line %u: NUL byte",
				  line_of(text, len, (size_t)(nul - text)));
	if ((bad = json_bad_utf8_line(text, len)) > 0)
		return vc_err_set(e, VC_EUSAGE, "line %u: invalid UTF-8", bad);
	if ((off = json_bad_u_escape(text, len, &zero)) >= 0)
		return vc_err_set(e, VC_EUSAGE, zero ? "line %u: \\u0000 in a "
				  "string (a secret value cannot hold a NUL byte)" :
				  "line %u: invalid JSON: \\u needs four hex digits",
				  line_of(text, len, (size_t)off));
	return 0;
}

static int json_take(const cJSON *item, struct vc_kvlist *out, struct vc_err *e)
{
	const char *key = item->string;
	size_t klen = strlen(key);
	struct vc_buf val;
	int rc;

	if (klen > NAME_MAX_LEN)
		return vc_err_set(e, VC_EUSAGE, "secret name '%.32s...' is longer "
				  "than %d characters", key, NAME_MAX_LEN);
	if (!name_valid(key, klen))
		return vc_err_set(e, VC_EUSAGE, "invalid secret name '%.64s'", key);
	if (!cJSON_IsString(item) || !item->valuestring)
		return vc_err_set(e, VC_EUSAGE, "'%.64s': the value is not a string",
				  key);
	if (kvlist_find(out, key, klen) >= 0)
		return vc_err_set(e, VC_EUSAGE, "'%.64s' is given twice (names are "
				  "compared case-insensitively)", key);
	vc_buf_init(&val, 1);
	rc = vc_buf_addstr(&val, item->valuestring);
	if (rc == 0)
		rc = kvlist_push(out, key, klen, &val);
	vc_buf_release(&val);
	return rc < 0 ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}

/* cJSON frees without wiping: clear the string values first. */
static void json_wipe_delete(cJSON *root)
{
	for (cJSON *it = root ? root->child : NULL; it; it = it->next)
		if (cJSON_IsString(it) && it->valuestring)
			sodium_memzero(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(root);
}

static int trailing_garbage(const char *p, const char *end)
{
	for (; p && p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return 1;
	return 0;
}

int vc_json_import_parse(const char *text, size_t len, struct vc_kvlist *out,
			 struct vc_err *e)
{
	const char *end = NULL;
	cJSON *root;
	int rc;

	*out = (struct vc_kvlist)VC_KVLIST_INIT;
	if ((rc = json_precheck(text, len, e)) < 0)
		return rc;
	/* Not require_null_terminated: text need not end in a NUL, so the
	 * rest after the value is checked here. */
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root || trailing_garbage(end, text + len)) {
		size_t off = end && end >= text ? (size_t)(end - text) : 0;

		cJSON_Delete(root);
		return vc_err_set(e, VC_EUSAGE, "line %u: invalid JSON",
				  line_of(text, len, off));
	}
	if (!cJSON_IsObject(root))
		rc = vc_err_set(e, VC_EUSAGE, "JSON import wants an object "
				"{\"NAME\": \"value\", ...}");
	for (cJSON *it = root->child; rc == 0 && it; it = it->next)
		rc = json_take(it, out, e);
	json_wipe_delete(root);
	if (rc < 0)
		vc_kvlist_free(out);
	return rc;
}
