/* Unit tests of the offline snapshot's rules that need no server:
 * --fallback-max-age, the snapshot's directory, and which failures a
 * snapshot may stand in for. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fallback.h"
#include "vc.h"

static void test_age(void **state)
{
	static const struct { const char *in; long long out; } ok[] = {
		{ "1", 1 }, { "90s", 90 }, { "30m", 1800 }, { "24h", 86400 },
		{ "7d", 604800 }, { "2w", 1209600 }, { "3650d", 315360000 },
	};
	static const char *const bad[] = {
		"", "0", "0s", "-1", "1y", "1h2", "h", "1 h", "1hh", "3651d",
		"99999999999999999999", " 1", "x'; DROP TABLE users; --",
	};
	struct vc_err e;
	long long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		assert_int_equal(vc_fallback_age_parse(ok[i].in, &v, &e), 0);
		assert_int_equal(v, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -7;
		assert_int_equal(vc_fallback_age_parse(bad[i], &v, &e), VC_EUSAGE);
		assert_int_equal(v, -7);
		assert_non_null(strstr(e.msg, "--fallback-max-age"));
	}
}

static void test_path(void **state)
{
	struct vc_err e;

	(void)state;
	assert_int_equal(vc_fallback_check_path("/tmp/snap", &e), 0);
	assert_int_equal(vc_fallback_check_path("snap", &e), 0);
	assert_int_equal(vc_fallback_check_path("", &e), VC_EUSAGE);
	assert_int_equal(vc_fallback_check_path("/tmp/", &e), VC_EUSAGE);
	assert_int_equal(vc_fallback_check_path("/nonexistent/dir/snap", &e),
			 VC_EUSAGE);
	assert_non_null(strstr(e.msg, "/nonexistent/dir"));
}

/* Not found, permission, quota, bad input: returned as they were, the
 * snapshot not even looked at (the path names none). */
static void test_only_outages(void **state)
{
	static const int causes[] = { VC_ENOTFOUND, VC_EPERM, VC_EQUOTA,
				      VC_EUSAGE, VC_EFAIL, VC_ECONFLICT };
	struct vc_fallback fb = { "/nonexistent/snap", -1, NULL, 0, 0, NULL };
	const char *const texts[] = { "a/b/c", "a/b/d" };
	struct vc_secret_envs m;
	struct vc_ref refs[2];
	struct vc_err e;

	(void)state;
	memset(refs, 0, sizeof(refs));
	for (size_t i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		vc_err_clear(&e);
		assert_int_equal(vc_fallback_read(NULL, &fb, texts, refs, 2, NULL,
						  8, causes[i], &m, &e),
				 causes[i]);
		assert_int_equal(fb.offline, 0);
		assert_null(fb.snap);
	}
	/* Without --fallback, an outage stays one. */
	fb.path = NULL;
	assert_int_equal(vc_fallback_read(NULL, &fb, texts, refs, 2, NULL, 8,
					  VC_EUNAVAIL, &m, &e), VC_EUNAVAIL);
	assert_int_equal(vc_fallback_read(NULL, NULL, texts, refs, 2, NULL, 8,
					  VC_EUNAVAIL, &m, &e), VC_EUNAVAIL);
	/* With it, a missing snapshot is still an outage, said so. */
	fb.path = "/nonexistent/snap";
	vc_err_set(&e, VC_EUNAVAIL, "database unavailable");
	assert_int_equal(vc_fallback_read(NULL, &fb, texts, refs, 2, NULL, 8,
					  VC_EUNAVAIL, &m, &e), VC_EUNAVAIL);
	assert_non_null(strstr(e.msg, "database unavailable"));
	assert_non_null(strstr(e.msg, "no snapshot"));
	assert_int_equal(fb.offline, 0);
	assert_null(fb.snap);
	assert_null(m.sets);
	vc_fallback_release(&fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_only_outages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
