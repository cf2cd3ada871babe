/* Unit tests of lib/session.c: who acts, as far as it is decided before a
 * database is asked (the rest is tested end to end). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "vc.h"

static char conf_path[] = "/tmp/vc-test-session-XXXXXX";

/* A configuration without default_user whose database is nowhere. */
static int setup(void **state)
{
	int fd = mkstemp(conf_path);
	static const char text[] = "[client]\nsocket = /nonexistent/vc.sock\n"
				   "[vaultctl]\ndatabase = db1\n";

	(void)state;
	if (fd < 0 || write(fd, text, sizeof(text) - 1) != sizeof(text) - 1)
		return -1;
	close(fd);
	setenv("VAULTCTL_CONFIG", conf_path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	return 0;
}

static int actor(const char *as, const char *env, struct vc_err *e)
{
	struct vc_session s;
	int rc;

	if (env)
		setenv("VAULTCTL_USER", env, 1);
	else
		unsetenv("VAULTCTL_USER");
	vc_session_init(&s, "test");
	rc = vc_session_actor(&s, as, 0, e);
	assert_false(s.have_user);
	assert_false(vc_session_wants_password(&s));
	vc_session_close(&s);
	return rc;
}

static void test_empty_name(void **state)
{
	struct vc_err e;

	(void)state;
	assert_int_equal(actor("", NULL, &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "empty user name (--as"));
	/* Not the next source instead: an empty --as is never $VAULTCTL_USER. */
	assert_int_equal(actor("", "someone@example.com", &e), VC_EUSAGE);
	assert_int_equal(actor(NULL, "", &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "$VAULTCTL_USER"));
}

static void test_order(void **state)
{
	struct vc_err e;

	(void)state;
	/* Nobody named anywhere, and no default_user: the user bound to the
	 * caller's login is looked up, which needs the database (none here;
	 * tests/e2e/10-org.bats has "no acting user" with one). */
	assert_int_equal(actor(NULL, NULL, &e), VC_EUNAVAIL);
	assert_null(strstr(e.msg, "empty user name"));
	/* --as wins over an empty $VAULTCTL_USER: it goes on to look the
	 * user up (and finds no database here). */
	assert_true(actor("a@example.com", "", &e) < 0);
	assert_null(strstr(e.msg, "empty user name"));
	assert_null(strstr(e.msg, "no acting user"));
	assert_true(actor(NULL, "a@example.com", &e) < 0);
	assert_null(strstr(e.msg, "no acting user"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_name),
		cmocka_unit_test(test_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
