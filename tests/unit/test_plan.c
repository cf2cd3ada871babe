/* test_plan.c - the pure validators of lib/plan.c: prices, billing
 * cycles, features JSON and ISO 8601 dates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "vc.h"

static void price_ok(void **state)
{
	static const char *const ok[] = {
		"0", "0.5", "0.05", "0.00", "1", "9.99", "10", "1200",
		"1200.00", "99999999", "99999999.99", "12345678.9",
	};
	struct vc_err e = { 0, "" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (vc_plan_price_check(ok[i], &e) != 0)
			fail_msg("refused '%s': %s", ok[i], e.msg);
}

static void price_refused(void **state)
{
	static const char *const bad[] = {
		"", "9.999", "-1", "+1", "1e3", "1E3", "abc", " 1", "1 ", "1,5",
		"5.", ".5", "01", "00", "00.50", "100000000", "999999999.99",
		"0x10", "1.2.3", "NaN", "inf", "1.-1", "9.9a", "١",
	};
	struct vc_err e = { 0, "" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		e.code = 0;
		if (vc_plan_price_check(bad[i], &e) != VC_EUSAGE)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(e.code, VC_EUSAGE);
		assert_true(e.msg[0] != '\0');
	}
	assert_int_equal(vc_plan_price_check(NULL, &e), VC_EUSAGE);
}

static void price_reasons(void **state)
{
	struct vc_err e = { 0, "" };

	(void)state;
	vc_plan_price_check("9.999", &e);
	assert_string_equal(e.msg, "more than two decimal places");
	vc_plan_price_check("5.", &e);
	assert_string_equal(e.msg, "no digits after the decimal point");
	vc_plan_price_check("100000000", &e);
	assert_string_equal(e.msg, "more than 99999999.99");
}

static void cycle(void **state)
{
	struct vc_err e = { 0, "" };

	(void)state;
	assert_int_equal(vc_plan_cycle_check("monthly", &e), 0);
	assert_int_equal(vc_plan_cycle_check("yearly", &e), 0);
	assert_int_equal(vc_plan_cycle_check("Monthly", &e), VC_EUSAGE);
	assert_int_equal(vc_plan_cycle_check("weekly", &e), VC_EUSAGE);
	assert_int_equal(vc_plan_cycle_check("", &e), VC_EUSAGE);
	assert_int_equal(vc_plan_cycle_check(NULL, &e), VC_EUSAGE);
}

/* The text is accepted and comes out as want. */
static void features_as(const char *in, size_t n, const char *want)
{
	struct vc_err e = { 0, "" };
	char *out = NULL;

	if (vc_plan_features_parse(in, n, &out, &e) != 0)
		fail_msg("refused [%.*s]: %s", (int)n, in, e.msg);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

#define FEATURES_AS(lit, want) features_as(lit, sizeof(lit) - 1, want)

static void features_ok(void **state)
{
	(void)state;
	FEATURES_AS("{}", "{}");
	FEATURES_AS(" {\n\t\"a\" : 1 ,\r\n \"b\": [ true, null ] }\n",
		    "{\"a\":1,\"b\":[true,null]}");
	/* Numbers and strings are kept byte for byte. */
	FEATURES_AS("{\"big\": 12345678901234567890, \"x\": -0.50e+3}",
		    "{\"big\":12345678901234567890,\"x\":-0.50e+3}");
	FEATURES_AS("{\"s\": \"a b\\t\\\"c\\\" \\u00e9 \xc3\xa9 \xf0\x9f\x94\x91\"}",
		    "{\"s\":\"a b\\t\\\"c\\\" \\u00e9 \xc3\xa9 \xf0\x9f\x94\x91\"}");
	FEATURES_AS("{\"nested\": {\"k\": [1, {\"z\": \"\"}]}}",
		    "{\"nested\":{\"k\":[1,{\"z\":\"\"}]}}");
	/* A byte order mark is dropped. */
	FEATURES_AS("\xef\xbb\xbf{\"a\":1}", "{\"a\":1}");
	/* Only n bytes count. */
	features_as("{\"a\":1}garbage", 7, "{\"a\":1}");
}

static void features_refused_as(const char *in, size_t n, const char *why)
{
	struct vc_err e = { 0, "" };
	char *out = (char *)"untouched";

	if (vc_plan_features_parse(in, n, &out, &e) != VC_EUSAGE)
		fail_msg("accepted [%.*s]", (int)n, in);
	assert_null(out);
	if (why && !strstr(e.msg, why))
		fail_msg("[%.*s]: '%s' does not say '%s'", (int)n, in, e.msg,
			 why);
}

#define REFUSED(lit, why) features_refused_as(lit, sizeof(lit) - 1, why)

static void features_refused(void **state)
{
	char *big;

	(void)state;
	REFUSED("[1, 2]", "array");
	REFUSED("[]", "array");
	REFUSED("\"text\"", "string");
	REFUSED("42", "number");
	REFUSED("true", "boolean");
	REFUSED("null", "null");
	REFUSED("", "invalid JSON");
	REFUSED("   ", "invalid JSON");
	REFUSED("{", "invalid JSON");
	REFUSED("{\"a\":1,}", "invalid JSON");
	REFUSED("{'a':1}", "invalid JSON");
	REFUSED("{\"a\":NaN}", "invalid JSON");
	REFUSED("{\"a\":1} {}", "text after the object");
	REFUSED("{\"a\":1}x", "text after the object");
	REFUSED("{\"a\":1 /* c */}", "invalid JSON");
	/* What cJSON alone lets through. */
	REFUSED("{\"a\":01}", "invalid number");
	REFUSED("{\"a\":1.}", "invalid number");
	REFUSED("{\"a\":1.e5}", "invalid number");
	REFUSED("{\"a\":-01}", "invalid number");
	REFUSED("{\"a\":\"tab\there\"}", "control character");
	REFUSED("{\"a\":\"\xff\"}", "UTF-8");
	REFUSED("{\"a\":\"\xc0\xaf\"}", "UTF-8");             /* overlong */
	REFUSED("{\"a\":\"\xed\xa0\x80\"}", "UTF-8");         /* surrogate */
	REFUSED("{\"a\":\"\xf4\x90\x80\x80\"}", "UTF-8");     /* > U+10FFFF */
	REFUSED("{\"a\":\"\xe2\x82\"}", "UTF-8");             /* truncated */
	REFUSED("{\"a\":\"x\0y\"}", "NUL");
	big = malloc(VC_PLAN_FEATURES_MAX + 16);
	assert_non_null(big);
	memset(big, ' ', VC_PLAN_FEATURES_MAX + 16);
	memcpy(big, "{}", 2);
	features_refused_as(big, VC_PLAN_FEATURES_MAX + 1, "longer than");
	features_as(big, VC_PLAN_FEATURES_MAX, "{}");
	free(big);
}

static void date_as(const char *in, const char *want)
{
	struct vc_err e = { 0, "" };
	char out[20];

	if (vc_plan_date_parse(in, out, &e) != 0)
		fail_msg("refused '%s': %s", in, e.msg);
	assert_string_equal(out, want);
}

static void dates(void **state)
{
	static const char *const bad[] = {
		"", "2025-1-01", "2025-01-1", "2025/01/01", "20250101",
		"2025-13-01", "2025-00-10", "2025-01-00", "2025-02-29",
		"2100-02-29", "2025-04-31", "2025-01-01T24:00:00",
		"2025-01-01T23:60:00", "2025-01-01T23:59:60",
		"2025-01-01T10:00", "2025-01-01 10:00:00",
		"2025-01-01T10:00:00+02:00", "2025-01-01T10:00:00z",
		"2025-01-01T10:00:00.5Z", "2025-01-01Z", "1969-12-31",
		" 2025-01-01", "2025-01-01 ", "tomorrow",
	};
	struct vc_err e = { 0, "" };
	char out[20];

	(void)state;
	date_as("2025-01-31", "2025-01-31 00:00:00");
	date_as("2024-02-29", "2024-02-29 00:00:00");
	date_as("2000-02-29T12:00:00", "2000-02-29 12:00:00");
	date_as("2025-12-31T23:59:59Z", "2025-12-31 23:59:59");
	date_as("1970-01-01", "1970-01-01 00:00:00");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (vc_plan_date_parse(bad[i], out, &e) != VC_EUSAGE)
			fail_msg("accepted '%s'", bad[i]);
	assert_int_equal(vc_plan_date_parse(NULL, out, &e), VC_EUSAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(price_ok),
		cmocka_unit_test(price_refused),
		cmocka_unit_test(price_reasons),
		cmocka_unit_test(cycle),
		cmocka_unit_test(features_ok),
		cmocka_unit_test(features_refused),
		cmocka_unit_test(dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
