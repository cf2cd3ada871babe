/* test_format.c - export encoders (lib/format.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "vc.h"

#define KV(name, lit) { name, lit, sizeof(lit) - 1 }

/* Exports n pairs and checks the output is exactly want (wlen bytes). */
static void check_export(enum vc_format f, const struct vc_kv *kv, size_t n,
			 const char *want, size_t wlen)
{
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	vc_buf_init(&out, 1);
	assert_int_equal(vc_format_export(f, kv, n, &out, &e), 0);
	if (out.len != wlen || (wlen && memcmp(out.data, want, wlen) != 0))
		fail_msg("got [%.*s] want [%.*s]", (int)out.len, out.data,
			 (int)wlen, want);
	vc_buf_release(&out);
}

#define EXPECT(f, kv, n, want) check_export(f, kv, n, want, sizeof(want) - 1)

#define EXPECT1(f, name, lit, want) do { \
	struct vc_kv kv_[] = { KV(name, lit) }; \
	check_export(f, kv_, 1, want, sizeof(want) - 1); \
} while (0)

/* The value is refused by name with a message containing why, and the
 * buffer keeps what it held before. */
static void check_refused(enum vc_format f, const char *name, const char *v,
			  size_t len, const char *why)
{
	struct vc_kv kv[] = { { "BEFORE", "ok", 2 }, { name, v, len } };
	struct vc_buf out;
	struct vc_err e = { 0, "" };
	char quoted[300];

	vc_buf_init(&out, 1);
	assert_int_equal(vc_buf_addstr(&out, "keep"), 0);
	assert_int_equal(vc_format_export(f, kv, 2, &out, &e), VC_EUSAGE);
	assert_int_equal(e.code, VC_EUSAGE);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "keep");
	snprintf(quoted, sizeof(quoted), "'%s'", name);
	if (!strstr(e.msg, quoted) || !strstr(e.msg, why))
		fail_msg("message [%s] lacks [%s] or [%s]", e.msg, quoted, why);
	vc_buf_release(&out);
}

#define REFUSED(f, name, lit, why) check_refused(f, name, lit, sizeof(lit) - 1, why)

/* ---- vc_format_parse ---- */

static void test_parse_names(void **state)
{
	static const char *names[] = { "sh", "dotenv", "json", "yaml", "docker", "env0" };
	struct vc_err e = { 0, "" };
	enum vc_format f;

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(vc_format_parse(names[i], &f, &e), 0);
		assert_int_equal((int)f, (int)i);
		assert_string_equal(vc_format_name(f), names[i]);
	}
	assert_int_equal(vc_format_parse("toml", &f, &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "'toml'"));
	assert_non_null(strstr(e.msg, "sh, dotenv, json, yaml, docker, env0"));
	assert_int_equal(vc_format_parse("SH", &f, &e), VC_EUSAGE);
	assert_int_equal(vc_format_parse(NULL, &f, &e), VC_EUSAGE);
}

/* ---- vc_utf8_valid ---- */

static void test_utf8(void **state)
{
	static const struct { const char *s; int ok; } cases[] = {
		{ "", 1 }, { "plain ascii", 1 }, { "\xc3\xa9", 1 },
		{ "\xe2\x82\xac", 1 }, { "\xf0\x9f\x94\x91", 1 },
		{ "\xef\xbf\xbf", 1 },                  /* U+FFFF: a noncharacter, valid */
		{ "\xf4\x8f\xbf\xbf", 1 },              /* U+10FFFF */
		{ "\xed\x9f\xbf", 1 },                  /* U+D7FF */
		{ "\xee\x80\x80", 1 },                  /* U+E000 */
		{ "\xc0\xaf", 0 }, { "\xc1\xbf", 0 },   /* overlong 2 bytes */
		{ "\xe0\x80\xaf", 0 }, { "\xe0\x9f\xbf", 0 },
		{ "\xf0\x80\x80\xaf", 0 }, { "\xf0\x8f\xbf\xbf", 0 },
		{ "\xed\xa0\x80", 0 }, { "\xed\xbf\xbf", 0 },   /* surrogates */
		{ "\xf4\x90\x80\x80", 0 }, { "\xf5\x80\x80\x80", 0 }, /* > U+10FFFF */
		{ "\xff", 0 }, { "\xfe", 0 }, { "\x80", 0 }, { "a\xbf", 0 },
		{ "\xc3", 0 }, { "\xe2\x82", 0 }, { "\xf0\x9f\x94", 0 }, /* truncated */
		{ "\xc3\x28", 0 }, { "\xe2\x28\xa1", 0 }, { "\xe2\x82\x28", 0 },
		{ "\xf0\x9f\x28\x91", 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (vc_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
			fail_msg("case %zu: expected %d", i, cases[i].ok);
	assert_int_equal(vc_utf8_valid("a\0b", 3), 1);
	assert_int_equal(vc_utf8_valid(NULL, 0), 1);
}

/* ---- sh ---- */

static void test_sh(void **state)
{
	struct vc_kv two[] = { KV("A", "1"), KV("B_2", "x y") };

	(void)state;
	EXPECT1(VC_FMT_SH, "A", "", "export A=''\n");
	EXPECT1(VC_FMT_SH, "A", "it's", "export A='it'\\''s'\n");
	EXPECT1(VC_FMT_SH, "A", "''", "export A=''\\'''\\'''\n");
	EXPECT1(VC_FMT_SH, "A", "$HOME `id` $(id) \\ \"", "export A='$HOME `id` $(id) \\ \"'\n");
	EXPECT1(VC_FMT_SH, "A", "a\nb\r\n", "export A='a\nb\r\n'\n");
	EXPECT1(VC_FMT_SH, "A", "\xff\xfe", "export A='\xff\xfe'\n");
	EXPECT(VC_FMT_SH, two, 2, "export A='1'\nexport B_2='x y'\n");
	EXPECT(VC_FMT_SH, NULL, 0, "");
	REFUSED(VC_FMT_SH, "NUL_VALUE", "a\0b", "NUL");
}

/* ---- dotenv ---- */

static void test_dotenv_quoting(void **state)
{
	(void)state;
	/* Single quotes whenever they carry the value. */
	EXPECT1(VC_FMT_DOTENV, "A", "", "A=''\n");
	EXPECT1(VC_FMT_DOTENV, "A", "  x  ", "A='  x  '\n");
	EXPECT1(VC_FMT_DOTENV, "A", "say \"hi\"", "A='say \"hi\"'\n");
	EXPECT1(VC_FMT_DOTENV, "A", "a\\nb", "A='a\\nb'\n");
	EXPECT1(VC_FMT_DOTENV, "A", "a\\\"b", "A='a\\\"b'\n");
	EXPECT1(VC_FMT_DOTENV, "A", "l1\nl2\n", "A='l1\nl2\n'\n");
	EXPECT1(VC_FMT_DOTENV, "A", "$HOME a${b #c `x`", "A='$HOME a${b #c `x`'\n");
	EXPECT1(VC_FMT_DOTENV, "A", "\xf0\x9f\x94\x91", "A='\xf0\x9f\x94\x91'\n");
	/* Double quotes for ' and CR, which single quotes cannot carry. */
	EXPECT1(VC_FMT_DOTENV, "A", "it's", "A=\"it's\"\n");
	EXPECT1(VC_FMT_DOTENV, "A", "a\r\nb", "A=\"a\\r\nb\"\n");
	EXPECT1(VC_FMT_DOTENV, "A", "C:\\dir it's", "A=\"C:\\dir it's\"\n");
	EXPECT1(VC_FMT_DOTENV, "A", "x'\nB='y", "A=\"x'\nB='y\"\n");
}

static void test_dotenv_refusals(void **state)
{
	(void)state;
	REFUSED(VC_FMT_DOTENV, "BOTH", "'\"", "single quotes: it has a '");
	REFUSED(VC_FMT_DOTENV, "BOTH", "'\"", "double quotes: it has a \"");
	REFUSED(VC_FMT_DOTENV, "BOTH", "'\"", "use --format sh or json");
	REFUSED(VC_FMT_DOTENV, "CR_DQ", "\r\"", "carriage return");
	REFUSED(VC_FMT_DOTENV, "BS_PAIR", "a\\\\b", "two backslashes");
	REFUSED(VC_FMT_DOTENV, "BS_SQ", "a\\'b", "backslash escape");
	REFUSED(VC_FMT_DOTENV, "BS_T", "it's \\t", "backslash escape");
	REFUSED(VC_FMT_DOTENV, "BS_CR", "a\\\rb", "backslash escape");
	REFUSED(VC_FMT_DOTENV, "BS_END", "abc\\", "ends with a backslash");
	REFUSED(VC_FMT_DOTENV, "BS_END", "\\", "ends with a backslash");
	REFUSED(VC_FMT_DOTENV, "INTERP", "${X}", "${...}");
	REFUSED(VC_FMT_DOTENV, "INTERP", "a${X:-y}b", "${...}");
	REFUSED(VC_FMT_DOTENV, "INTERP", "${ and }", "${...}");
	REFUSED(VC_FMT_DOTENV, "BAD_UTF8", "\xc0\xaf", "not valid UTF-8");
	REFUSED(VC_FMT_DOTENV, "BAD_UTF8", "\xc0\xaf", "use --format sh or env0");
	REFUSED(VC_FMT_DOTENV, "NUL", "\0", "NUL");
	/* Not refused: "${" with no "}" after it is not expanded. */
	EXPECT1(VC_FMT_DOTENV, "A", "} ${", "A='} ${'\n");
}

/* ---- json ---- */

static void test_json(void **state)
{
	struct vc_kv kv[] = { KV("A", "x"), KV("B", "q\"\\/\n\t\x01\x7f\xc3\xa9") };

	(void)state;
	EXPECT(VC_FMT_JSON, NULL, 0, "{}\n");
	EXPECT1(VC_FMT_JSON, "A", "", "{\"A\":\"\"}\n");
	EXPECT(VC_FMT_JSON, kv, 2,
	       "{\"A\":\"x\",\"B\":\"q\\\"\\\\/\\n\\t\\u0001\x7f\xc3\xa9\"}\n");
	EXPECT1(VC_FMT_JSON, "A", "\xe2\x80\xa8", "{\"A\":\"\xe2\x80\xa8\"}\n");
	REFUSED(VC_FMT_JSON, "BAD", "\xed\xa0\x80", "not valid UTF-8");
	REFUSED(VC_FMT_JSON, "NUL", "a\0", "NUL");
}

static void test_json_large(void **state)
{
	size_t len = 1 << 20;
	char *v = malloc(len);
	struct vc_kv kv = { "BIG", v, len };
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	(void)state;
	assert_non_null(v);
	memset(v, '\x1f', len);         /* each byte grows to \u001f */
	vc_buf_init(&out, 1);
	assert_int_equal(vc_format_export(VC_FMT_JSON, &kv, 1, &out, &e), 0);
	assert_int_equal(out.len, strlen("{\"BIG\":\"\"}\n") + 6 * len);
	assert_memory_equal(out.data + 8, "\\u001f\\u001f", 12);
	vc_buf_release(&out);
	free(v);
}

/* ---- yaml ---- */

static void test_yaml(void **state)
{
	struct vc_kv two[] = { KV("on", "yes"), KV("null", "~") };

	(void)state;
	EXPECT(VC_FMT_YAML, NULL, 0, "{}\n");
	EXPECT1(VC_FMT_YAML, "A", "", "\"A\": \"\"\n");
	EXPECT1(VC_FMT_YAML, "A", "a\"b\\c\nd\re\tf", "\"A\": \"a\\\"b\\\\c\\nd\\re\\tf\"\n");
	/* Controls, DEL, C1 (NEL), line/paragraph separators, BOM, U+FFFE/F. */
	EXPECT1(VC_FMT_YAML, "A", "\x01\x7f\xc2\x85\xc2\x9f\xc2\xa0",
		"\"A\": \"\\u0001\\u007F\\u0085\\u009F\xc2\xa0\"\n");
	EXPECT1(VC_FMT_YAML, "A", "\xe2\x80\xa8\xe2\x80\xa9\xef\xbb\xbf\xef\xbf\xbe\xef\xbf\xbf",
		"\"A\": \"\\u2028\\u2029\\uFEFF\\uFFFE\\uFFFF\"\n");
	EXPECT1(VC_FMT_YAML, "A", "h\xc3\xa9 \xf0\x9f\x94\x91 # : - ' {",
		"\"A\": \"h\xc3\xa9 \xf0\x9f\x94\x91 # : - ' {\"\n");
	EXPECT(VC_FMT_YAML, two, 2, "\"on\": \"yes\"\n\"null\": \"~\"\n");
	REFUSED(VC_FMT_YAML, "BAD", "\xff", "not valid UTF-8");
	REFUSED(VC_FMT_YAML, "NUL", "\0", "NUL");
}

/* ---- docker ---- */

static void test_docker(void **state)
{
	size_t max = 65535 - 2;        /* "A=" + value = 65535 bytes */
	char *v = malloc(max + 1);
	struct vc_kv kv = { "A", v, max };
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	(void)state;
	EXPECT1(VC_FMT_DOCKER, "A", "", "A=\n");
	EXPECT1(VC_FMT_DOCKER, "A", " 'q' \"d\" $X #c = \t", "A= 'q' \"d\" $X #c = \t\n");
	REFUSED(VC_FMT_DOCKER, "NL", "a\nb", "newline");
	REFUSED(VC_FMT_DOCKER, "NL", "a\nb", "use --format sh or json");
	REFUSED(VC_FMT_DOCKER, "CR", "a\rb", "carriage return");
	REFUSED(VC_FMT_DOCKER, "BAD", "\xe0\x80\x80", "not valid UTF-8");
	REFUSED(VC_FMT_DOCKER, "NUL", "\0", "NUL");

	assert_non_null(v);
	memset(v, 'x', max + 1);
	vc_buf_init(&out, 1);
	assert_int_equal(vc_format_export(VC_FMT_DOCKER, &kv, 1, &out, &e), 0);
	assert_int_equal(out.len, 65536);
	kv.len++;
	assert_int_equal(vc_format_export(VC_FMT_DOCKER, &kv, 1, &out, &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "64 KiB"));
	assert_int_equal(out.len, 65536);
	vc_buf_release(&out);
	free(v);
}

/* ---- env0 ---- */

static void test_env0(void **state)
{
	struct vc_kv two[] = { KV("A", "x\ny"), KV("B", "\xff=") };

	(void)state;
	EXPECT(VC_FMT_ENV0, two, 2, "A=x\ny\0B=\xff=\0");
	EXPECT1(VC_FMT_ENV0, "A", "", "A=\0");
	REFUSED(VC_FMT_ENV0, "NUL", "a\0b", "NUL");
}

/* ---- names and arguments ---- */

static void test_bad_names(void **state)
{
	static const char *bad[] = { "", "1A", "A-B", "A B", "A=B", "\xc3\xa9" };
	char longname[257];
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	(void)state;
	vc_buf_init(&out, 1);
	for (int f = VC_FMT_SH; f <= VC_FMT_ENV0; f++) {
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			struct vc_kv kv = { bad[i], "v", 1 };

			assert_int_equal(vc_format_export((enum vc_format)f, &kv, 1,
							  &out, &e), VC_EUSAGE);
			assert_non_null(strstr(e.msg, "invalid secret name"));
		}
	}
	memset(longname, 'A', 256);
	longname[256] = '\0';
	{
		struct vc_kv kv = { longname, "v", 1 };

		assert_int_equal(vc_format_export(VC_FMT_SH, &kv, 1, &out, &e), VC_EUSAGE);
		longname[255] = '\0';
		assert_int_equal(vc_format_export(VC_FMT_SH, &kv, 1, &out, &e), 0);
	}
	{
		struct vc_kv kv = { NULL, "v", 1 };

		assert_int_equal(vc_format_export(VC_FMT_SH, &kv, 1, &out, &e), VC_EUSAGE);
	}
	assert_int_equal(vc_format_export((enum vc_format)42, NULL, 0, &out, &e),
			 VC_EUSAGE);
	vc_buf_release(&out);
}

/* An empty value may come as NULL with len 0. */
static void test_null_empty_value(void **state)
{
	struct vc_kv kv = { "A", NULL, 0 };
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	(void)state;
	vc_buf_init(&out, 1);
	for (int f = VC_FMT_SH; f <= VC_FMT_ENV0; f++)
		assert_int_equal(vc_format_export((enum vc_format)f, &kv, 1, &out, &e), 0);
	kv.len = 1;
	assert_int_equal(vc_format_export(VC_FMT_SH, &kv, 1, &out, &e), VC_EUSAGE);
	vc_buf_release(&out);
}

/* inject's filters: the inside of the quotes, refusals by reference, out
 * left as it was. */
static void check_filter(enum vc_filter f, const char *v, size_t len,
			 const char *want, size_t wlen)
{
	struct vc_buf out;
	struct vc_err e = { 0, "" };

	vc_buf_init(&out, 1);
	assert_int_equal(vc_filter_apply(f, "o/p/e/K", v, len, &out, &e), 0);
	if (out.len != wlen || (wlen && memcmp(out.data, want, wlen) != 0))
		fail_msg("got [%.*s] want [%.*s]", (int)out.len, out.data,
			 (int)wlen, want);
	vc_buf_release(&out);
}

#define FILTER(f, lit, want) \
	check_filter(f, lit, sizeof(lit) - 1, want, sizeof(want) - 1)

static void test_filters(void **state)
{
	struct vc_buf out;
	struct vc_err e = { 0, "" };
	enum vc_filter f;

	(void)state;
	assert_int_equal(vc_filter_parse("yaml", 4, &f), 0);
	assert_int_equal(f, VC_FILTER_YAML);
	assert_int_equal(vc_filter_parse("shell", 5, &f), VC_EUSAGE);
	assert_int_equal(vc_filter_parse("", 0, &f), VC_EUSAGE);
	assert_int_equal(vc_filter_parse("jsonx", 4, &f), 0);
	assert_int_equal(f, VC_FILTER_JSON);
	FILTER(VC_FILTER_RAW, "a\0b\xff'\"", "a\0b\xff'\"");
	FILTER(VC_FILTER_SH, "it's", "it'\\''s");
	FILTER(VC_FILTER_SH, "$x\n`y`\\", "$x\n`y`\\");
	FILTER(VC_FILTER_JSON, "a\"b\\c\nd\0e", "a\\\"b\\\\c\\nd\\u0000e");
	FILTER(VC_FILTER_YAML, "\xc3\xa9\xe2\x80\xa8\x7f",
	       "\xc3\xa9\\u2028\\u007F");
	FILTER(VC_FILTER_JSON, "", "");
	vc_buf_init(&out, 1);
	vc_buf_addstr(&out, "kept");
	assert_int_equal(vc_filter_apply(VC_FILTER_JSON, "o/p/e/K", "\xff", 1,
					 &out, &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "'o/p/e/K'"));
	assert_non_null(strstr(e.msg, "not valid UTF-8"));
	assert_int_equal(vc_filter_apply(VC_FILTER_SH, "o/p/e/K", "a\0", 2,
					 &out, &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "NUL"));
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "kept", 4);
	vc_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_sh),
		cmocka_unit_test(test_dotenv_quoting),
		cmocka_unit_test(test_dotenv_refusals),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_large),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_env0),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_null_empty_value),
		cmocka_unit_test(test_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
