/* test_dotenv.c - import parsers (lib/dotenv.c) and the export -> import
 * round trip of lib/format.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dotenv.h"
#include "format.h"
#include "vc.h"

typedef int (*parse_fn)(const char *, size_t, struct vc_kvlist *, struct vc_err *);

/* Parses text (a literal, NULs included) and checks the entries against
 * want: name, value pairs, value lengths taken by strlen. */
static void check_parse(parse_fn parse, const char *text, size_t len,
			const char *const *want, size_t nwant)
{
	struct vc_kvlist l = VC_KVLIST_INIT;
	struct vc_err e = { 0, "" };

	if (parse(text, len, &l, &e) != 0)
		fail_msg("parse failed: %s\n[%.*s]", e.msg, (int)len, text);
	if (l.n != nwant / 2)
		fail_msg("%zu entries, want %zu\n[%.*s]", l.n, nwant / 2, (int)len, text);
	for (size_t i = 0; i < l.n; i++) {
		const char *v = want[2 * i + 1];

		assert_string_equal(l.items[i].name, want[2 * i]);
		if (l.items[i].len != strlen(v) || memcmp(l.items[i].value, v, strlen(v)))
			fail_msg("%s: got [%.*s] want [%s]", want[2 * i],
				 (int)l.items[i].len, l.items[i].value, v);
		assert_int_equal(l.items[i].value[l.items[i].len], '\0');
	}
	vc_kvlist_free(&l);
}

#define PARSES(text, ...) do { \
	static const char *const want_[] = { __VA_ARGS__ }; \
	check_parse(vc_dotenv_parse, text, sizeof(text) - 1, want_, \
		    ARRAY_SIZE(want_)); \
} while (0)

#define PARSES_NONE(parse, text) \
	check_parse(parse, text, sizeof(text) - 1, NULL, 0)

/* The parse fails with VC_EUSAGE, a message containing msg, and an empty
 * list. */
static void check_error(parse_fn parse, const char *text, size_t len,
			const char *msg)
{
	struct vc_kvlist l = VC_KVLIST_INIT;
	struct vc_err e = { 0, "" };

	if (parse(text, len, &l, &e) != VC_EUSAGE)
		fail_msg("no usage error for [%.*s]", (int)len, text);
	if (!strstr(e.msg, msg))
		fail_msg("message [%s] lacks [%s]", e.msg, msg);
	assert_int_equal(l.n, 0);
	assert_null(l.items);
}

#define FAILS(text, msg) check_error(vc_dotenv_parse, text, sizeof(text) - 1, msg)
#define JSON_FAILS(text, msg) \
	check_error(vc_json_import_parse, text, sizeof(text) - 1, msg)
#define JSON_PARSES(text, ...) do { \
	static const char *const want_[] = { __VA_ARGS__ }; \
	check_parse(vc_json_import_parse, text, sizeof(text) - 1, want_, \
		    ARRAY_SIZE(want_)); \
} while (0)

/* ---- dotenv constructs ---- */

/* A multi-line value left unquoted: its lines are not NAME=VALUE.  The
 * message names the line but never carries the text, which is a value. */
static void test_error_hides_text(void **state)
{
	static const char *const bad[] = {
		"KEY=-----BEGIN PRIVATE KEY-----\n"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj\n",
		"KEY=-----BEGIN PRIVATE KEY-----\n"
		"MIIEvQIBADA+NBgkqhkiG9w0B/AQEFAASCBKcwg==\n",
		/* a name too long: 8 x 40 characters of base64 */
		"KEY=x\n"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj"
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSj=1\n",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vc_kvlist l = VC_KVLIST_INIT;
		struct vc_err e = { 0, "" };

		if (vc_dotenv_parse(bad[i], strlen(bad[i]), &l, &e) != VC_EUSAGE)
			fail_msg("case %zu parsed: [%s]", i, e.msg);
		if (!strstr(e.msg, "line 2: ") || strstr(e.msg, "MIIE") ||
		    !strstr(e.msg, "must be quoted"))
			fail_msg("case %zu: [%s]", i, e.msg);
	}
}

static void test_comments_blanks(void **state)
{
	(void)state;
	PARSES_NONE(vc_dotenv_parse, "");
	PARSES_NONE(vc_dotenv_parse, "\n\n  \t\n# only a comment\n   # indented\n");
	PARSES("# c\n\nA=1\n\n# d\nB=2", "A", "1", "B", "2");
	PARSES("A=1 # comment\n", "A", "1");
	PARSES("A=1\t# comment\n", "A", "1");
	PARSES("A=a#b\n", "A", "a#b");
	PARSES("A= #only a comment\n", "A", "");
	PARSES("A=#not a comment\n", "A", "#not a comment");
	PARSES("A='x' # c\nB=\"y\"#c\n", "A", "x", "B", "y");
	PARSES("A='#x'\n", "A", "#x");
}

static void test_unquoted(void **state)
{
	(void)state;
	PARSES("A=plain\n", "A", "plain");
	PARSES("A=  padded value \t \n", "A", "padded value");
	PARSES("A =  x\n", "A", "x");
	PARSES("A\t=\tx\n", "A", "x");
	PARSES("A=\nB=", "A", "", "B", "");
	PARSES("A=a=b==\n", "A", "a=b==");
	PARSES("A=it's \"q\" \\n $HOME ${X}\n", "A", "it's \"q\" \\n $HOME ${X}");
	PARSES("  A=x\n", "A", "x");
	PARSES("_a_1=x\n", "_a_1", "x");
}

static void test_export_prefix(void **state)
{
	(void)state;
	PARSES("export A=1\nexport\tB='2'\n", "A", "1", "B", "2");
	PARSES("export=1\n", "export", "1");
	PARSES("export =1\n", "export", "1");
	PARSES("exported=1\n", "exported", "1");
	FAILS("export A\n", "line 1: NAME=VALUE expected, no '=' found");
}

static void test_single_quotes(void **state)
{
	(void)state;
	PARSES("A='  x  '\n", "A", "  x  ");
	PARSES("A=''\n", "A", "");
	PARSES("A='a\\nb\\\\c\\'\n", "A", "a\\nb\\\\c\\");
	PARSES("A='\"$HOME\" ${X} `id`'\n", "A", "\"$HOME\" ${X} `id`");
	PARSES("A='line1\nline2\n'\nB=2\n", "A", "line1\nline2\n", "B", "2");
	PARSES("A='x\nB=y'\n", "A", "x\nB=y");
}

static void test_double_quotes(void **state)
{
	(void)state;
	PARSES("A=\"x y\"\n", "A", "x y");
	PARSES("A=\"\"\n", "A", "");
	PARSES("A=\"a\\nb\\rc\\td\\\\e\\\"f\"\n", "A", "a\nb\rc\td\\e\"f");
	/* Other backslashes are kept, as python-dotenv and npm do. */
	PARSES("A=\"C:\\dir\\x \\u00e9 \\$\"\n", "A", "C:\\dir\\x \\u00e9 \\$");
	PARSES("A=\"it's\"\n", "A", "it's");
	PARSES("A=\"l1\nl2\"\nB=\"\\\nx\"\n", "A", "l1\nl2", "B", "\\\nx");
	PARSES("A=\"$HOME ${X}\"\n", "A", "$HOME ${X}");
}

static void test_line_ends(void **state)
{
	(void)state;
	PARSES("A=1\r\nB='x'\r\n\r\nC=\"y\"\r\n", "A", "1", "B", "x", "C", "y");
	PARSES("A=1\rB=2\r", "A", "1", "B", "2");
	/* Inside quotes a CRLF or lone CR is a line end too: it reads as LF. */
	PARSES("A='a\r\nb\rc'\r\n", "A", "a\nb\nc");
	PARSES("A=\"a\r\nb\\r\"\r\n", "A", "a\nb\r");
	PARSES("A=1 \r\n", "A", "1");
	PARSES("A=x", "A", "x");
	PARSES("\xef\xbb\xbf" "A=1\n", "A", "1");
}

static void test_bytes(void **state)
{
	(void)state;
	PARSES("A='h\xc3\xa9 \xf0\x9f\x94\x91'\n", "A", "h\xc3\xa9 \xf0\x9f\x94\x91");
	PARSES("A=\xff\xfe\n", "A", "\xff\xfe");
	PARSES("A='\x01\x7f'\n", "A", "\x01\x7f");
}

/* ---- dotenv errors ---- */

static void test_errors(void **state)
{
	(void)state;
	FAILS("A='x\n", "line 1: unterminated single quote");
	FAILS("A=1\n\nB=\"x\ny\n", "line 3: unterminated double quote");
	FAILS("A=\"x\\\"", "line 1: unterminated double quote");
	FAILS("A=\"x\\", "line 1: unterminated double quote");
	FAILS("A=1\n1A=2\n", "line 2: invalid name (letters, digits");
	FAILS("A-B=1\n", "line 1: invalid name");
	FAILS("A.B=1\n", "line 1: invalid name");
	FAILS("\xc3\xa9=1\n", "line 1: invalid name");
	FAILS("=1\n", "line 1: missing name before '='");
	FAILS("A\n", "line 1: NAME=VALUE expected, no '=' found; a value on "
	      "several lines must be quoted");
	FAILS("A B=1\n", "line 1: NAME=VALUE expected");
	FAILS("A: 1\n", "line 1: invalid name");
	FAILS("A='x' y\n", "line 1: unexpected text after the closing quote");
	FAILS("A=\"x\"y\n", "line 1: unexpected text after the closing quote");
	FAILS("A=`x`\n", "line 1: backquoted values are not supported");
	FAILS("A=1\nB=2\na=3\n", "line 3: 'a' is already set on line 1");
	FAILS("A=1\nA=1\n", "line 2: 'A' is already set on line 1");
	FAILS("A=1\nB=x\0y\n", "line 2: NUL byte");
	FAILS("A='x' 'y'\n", "unexpected text");
}

static void test_error_line_numbers(void **state)
{
	char name[300];

	(void)state;
	/* Lines of multi-line values, CRLF and lone CR all count. */
	FAILS("A='1\n2\n3'\nB=\"4\r\n5\"\r\nC=x\rD\n", "line 7: NAME=VALUE expected");
	FAILS("# c\r\n\r\nA='x\ny", "line 3: unterminated single quote");
	FAILS("\n\n\nA=1\n\n\nexport a=2\n", "line 7: 'a' is already set on line 4");
	memset(name, 'N', 256);
	memcpy(name + 256, "=1\n", 4);
	check_error(vc_dotenv_parse, name, 259, "line 1: the name is longer than 255");
	memcpy(name + 255, "=1\n", 4);
	{
		struct vc_kvlist l = VC_KVLIST_INIT;
		struct vc_err e = { 0, "" };

		assert_int_equal(vc_dotenv_parse(name, 258, &l, &e), 0);
		assert_int_equal(strlen(l.items[0].name), 255);
		vc_kvlist_free(&l);
	}
}

/* ---- JSON import ---- */

static void test_json_import(void **state)
{
	(void)state;
	PARSES_NONE(vc_json_import_parse, "{}");
	PARSES_NONE(vc_json_import_parse, " \n{ }\n\n");
	JSON_PARSES("{\"B\":\"2\",\"A\":\"1\"}\n", "B", "2", "A", "1");
	JSON_PARSES("{\"A\": \"q\\\"\\\\\\/\\n\\r\\t\\b\\f\\u00e9\\ud83d\\udd11\"}",
		    "A", "q\"\\/\n\r\t\b\f\xc3\xa9\xf0\x9f\x94\x91");
	JSON_PARSES("{\"A\": \"\"}", "A", "");
	JSON_PARSES("\xef\xbb\xbf{\"A\": \"x\"}", "A", "x");
}

static void test_json_import_errors(void **state)
{
	(void)state;
	JSON_FAILS("[]", "wants an object");
	JSON_FAILS("\"A\"", "wants an object");
	JSON_FAILS("", "line 1: invalid JSON");
	JSON_FAILS("{\"A\": 1}", "'A': the value is not a string");
	JSON_FAILS("{\"A\": \"x\", \"B\": null}", "'B': the value is not a string");
	JSON_FAILS("{\"A\": {\"B\": \"x\"}}", "'A': the value is not a string");
	JSON_FAILS("{\"A\": [\"x\"]}", "'A': the value is not a string");
	JSON_FAILS("{\"A\": true}", "'A'");
	JSON_FAILS("{\"1A\": \"x\"}", "invalid secret name '1A'");
	JSON_FAILS("{\"\": \"x\"}", "invalid secret name ''");
	JSON_FAILS("{\"A\": \"x\", \"a\": \"y\"}", "'a' is given twice");
	JSON_FAILS("{\n\"A\": \"x\",\n\"B\": \"y\\u0000z\"}", "line 3: \\u0000");
	JSON_FAILS("{\"A\": \"\xff\"}", "line 1: invalid UTF-8");
	JSON_FAILS("{\n\"A\": \"\xed\xa0\x80\"}", "line 2: invalid UTF-8");
	JSON_FAILS("{\"A\": \"x\"\0}", "NUL byte");
	JSON_FAILS("{\n\"A\": \"x\",\n}", "line 3: invalid JSON");
	JSON_FAILS("{\"A\": \"x\"} {}", "invalid JSON");
	JSON_FAILS("{\"A\": \"\\ud800\"}", "invalid JSON");
	/* An escaped backslash before u0000 is not a NUL. */
	JSON_PARSES("{\"A\": \"\\\\u0000\"}", "A", "\\u0000");
}

/* ---- export -> import round trip ---- */

struct sample {
	const char *name;
	const char *value;
	size_t len;
	int dotenv_refused;
};

#define S(name, lit, refused) { name, lit, sizeof(lit) - 1, refused }

/* The hard corpus of tests/e2e/roundtrip/corpus.sh, minus the 64 KiB
 * values (added at run time). */
static const struct sample corpus[] = {
	S("EMPTY", "", 0),
	S("SPACES", "  both ends  ", 0),
	S("TAB", "a\tb", 0),
	S("EQUALS", "a=b==c=", 0),
	S("HASH_START", "#not a comment", 0),
	S("HASH_SPACE", "a #b", 0),
	S("HASH_ONLY", "#", 0),
	S("DOLLAR_HOME", "$HOME", 0),
	S("DOLLAR_BRACE", "${X}", 1),
	S("DOLLAR_BRACE_DEFAULT", "${HOME:-x}", 1),
	S("DOLLAR_BRACE_OPEN", "a${b", 0),
	S("DOLLAR_BRACE_COLON", "${a:b}", 1),
	S("DOLLAR_SQUOTE", "$'x'", 0),
	S("CMD_SUBST", "$(id)", 0),
	S("BACKQUOTES", "`id`", 0),
	S("SQUOTE", "it's", 0),
	S("SQUOTE_ONLY", "'", 0),
	S("DQUOTE", "say \"hi\"", 0),
	S("DQUOTE_ONLY", "\"", 0),
	S("ALL_QUOTES", "'\"`", 1),
	S("JSON_LIKE", "{\"a\": [1, \"\\u00e9\"]}", 0),
	S("BS_N", "a\\nb", 0),
	S("BS_SQUOTE", "a\\'b", 1),
	S("BS_DQUOTE", "a\\\"b", 0),
	S("BS_END", "abc\\", 1),
	S("BS_ONLY", "\\", 1),
	S("BS_DOUBLE", "a\\\\b", 1),
	S("BS_NEWLINE", "a\\\nb", 0),
	S("BS_CR", "a\\\rb", 1),
	S("BS_T_SQUOTE", "it's \\t", 1),
	S("SQUOTE_WINPATH", "it's C:\\dir\\x", 0),
	S("NEWLINES", "line1\nline2\n", 0),
	S("ONLY_NEWLINE", "\n", 0),
	S("LEADING_NEWLINE", "\nfoo", 0),
	S("CRLF", "a\r\nb\r\n", 0),
	S("CR", "a\rb", 0),
	S("CR_DQUOTE", "a\r\"b", 1),
	S("CR_SQUOTE", "a\r'b", 0),
	S("INJECT_SQ", "x'\nB='y", 0),
	S("INJECT_DQ", "x\"\nB=\"y", 0),
	S("EXPORT_LIKE", "export B=1", 0),
	S("UTF8", "h\xc3\xa9llo \xf0\x9f\x94\x91 \xe6\x97\xa5\xe6\x9c\xac", 0),
	S("UNICODE_SEPS", "a\xc2\x85" "b\xe2\x80\xa8" "c\xe2\x80\xa9" "d\xef\xbb\xbf"
	  "e\xef\xbf\xbf" "f\x7fg\x01h\xc2\xa0i", 0),
	S("INVALID_UTF8", "\xff\xfe abc \xc0\xaf", 1),
	S("SURROGATE", "x\xed\xa0\x80y", 1),
	S("NUL", "a\0b", 1),
	S("on", "off", 0),
	S("null", "null", 0),
	S("PEM", "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n"
	  "-----END PRIVATE KEY-----\n", 0),
};

#define NCORPUS ARRAY_SIZE(corpus)

/* The corpus plus two 64 KiB values (one line, and many lines). */
static size_t build_corpus(struct vc_kv *kv, char *big, char *lines, size_t bigsz)
{
	size_t n = 0;

	for (size_t i = 0; i < NCORPUS; i++)
		kv[n++] = (struct vc_kv){ corpus[i].name, corpus[i].value, corpus[i].len };
	for (size_t i = 0; i < bigsz; i++) {
		big[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
		lines[i] = i % 65 == 64 ? '\n' : big[i];
	}
	kv[n++] = (struct vc_kv){ "BIG", big, bigsz };
	kv[n++] = (struct vc_kv){ "BIG_LINES", lines, bigsz };
	return n;
}

static int dotenv_refused(const char *name)
{
	for (size_t i = 0; i < NCORPUS; i++)
		if (strcmp(corpus[i].name, name) == 0)
			return corpus[i].dotenv_refused;
	return 0;
}

/* Exports kv alone: 0, or VC_EUSAGE naming it. */
static int export_one(enum vc_format f, const struct vc_kv *kv)
{
	struct vc_buf out;
	struct vc_err e = { 0, "" };
	char quoted[300];
	int rc;

	vc_buf_init(&out, 1);
	rc = vc_format_export(f, kv, 1, &out, &e);
	snprintf(quoted, sizeof(quoted), "'%s'", kv->name);
	if (rc != 0 && (rc != VC_EUSAGE || !strstr(e.msg, quoted)))
		fail_msg("%s: rc %d [%s]", kv->name, rc, e.msg);
	vc_buf_release(&out);
	return rc;
}

/* Exports the n pairs together and parses them back: same names, same
 * bytes, same order. */
static void round_trip(enum vc_format f, parse_fn parse, const struct vc_kv *kv,
		       size_t n)
{
	struct vc_kvlist l = VC_KVLIST_INIT;
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	vc_buf_init(&out, 1);
	assert_int_equal(vc_format_export(f, kv, n, &out, &e), 0);
	if (parse(out.data, out.len, &l, &e) != 0)
		fail_msg("parse of the export failed: %s", e.msg);
	assert_int_equal(l.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(l.items[i].name, kv[i].name);
		if (l.items[i].len != kv[i].len ||
		    memcmp(l.items[i].value, kv[i].value, kv[i].len) != 0)
			fail_msg("%s: value differs after the round trip", kv[i].name);
	}
	vc_kvlist_free(&l);
	vc_buf_release(&out);
}

/* Keeps the pairs f accepts, checking each refusal is the expected one. */
static size_t accepted(enum vc_format f, struct vc_kv *kv, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		int rc = export_one(f, &kv[i]);

		if (f == VC_FMT_DOTENV && (rc != 0) != dotenv_refused(kv[i].name))
			fail_msg("dotenv %s %s", rc ? "refuses" : "accepts", kv[i].name);
		if (rc == 0)
			kv[m++] = kv[i];
	}
	return m;
}

static void test_round_trip(void **state)
{
	size_t bigsz = 65536, n;
	char *big = malloc(bigsz), *lines = malloc(bigsz);
	struct vc_kv kv[NCORPUS + 2];

	(void)state;
	assert_non_null(big);
	assert_non_null(lines);
	n = accepted(VC_FMT_DOTENV, kv, build_corpus(kv, big, lines, bigsz));
	assert_int_equal(n, NCORPUS + 2 - 14);
	round_trip(VC_FMT_DOTENV, vc_dotenv_parse, kv, n);
	for (size_t i = 0; i < n; i++)
		round_trip(VC_FMT_DOTENV, vc_dotenv_parse, &kv[i], 1);

	n = accepted(VC_FMT_JSON, kv, build_corpus(kv, big, lines, bigsz));
	assert_int_equal(n, NCORPUS + 2 - 3);
	round_trip(VC_FMT_JSON, vc_json_import_parse, kv, n);
	free(big);
	free(lines);
}

/* Every three-byte value over a nasty alphabet: what dotenv accepts comes
 * back exactly. */
static void test_round_trip_pairs(void **state)
{
	static const char alpha[] = "'\"`\\$#{} \t\n\rnrtabfvx=";
	size_t na = sizeof(alpha) - 1, kept = 0;
	char v[3];

	(void)state;
	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < na; j++) {
			for (size_t k = 0; k < na; k++) {
				struct vc_kv kv = { "V", v, 3 };

				v[0] = alpha[i];
				v[1] = alpha[j];
				v[2] = alpha[k];
				if (export_one(VC_FMT_DOTENV, &kv) != 0)
					continue;
				round_trip(VC_FMT_DOTENV, vc_dotenv_parse, &kv, 1);
				kept++;
			}
		}
	}
	assert_true(kept > na * na * na / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_hides_text),
		cmocka_unit_test(test_comments_blanks),
		cmocka_unit_test(test_unquoted),
		cmocka_unit_test(test_export_prefix),
		cmocka_unit_test(test_single_quotes),
		cmocka_unit_test(test_double_quotes),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_line_numbers),
		cmocka_unit_test(test_json_import),
		cmocka_unit_test(test_json_import_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
