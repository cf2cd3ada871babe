/* Unit tests of lib/db_probe.c: a server refused before libmariadb is
 * asked only when the unix socket libmariadb would use is missing, read
 * from the option file as libmariadb reads it; anything else is no
 * verdict. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "vc.h"

static char dir[] = "/tmp/vc-test-probe-XXXXXX";
static char file[4200], there[4200];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/vaultctl.cnf", dir);
	/* A file where the socket would be: a socket is there. */
	snprintf(there, sizeof(there), "%s/there.sock", dir);
	f = fopen(there, "w");
	return f && fclose(f) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file);
	unlink(there);
	return rmdir(dir);
}

/* The verdict for group and host on an option file of text. */
static int verdict(const char *text, const char *group, const char *host,
		   char *msg, size_t n)
{
	FILE *f = fopen(file, "w");
	unsigned no = 0;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	msg[0] = '\0';
	return vc_db_refused(file, group, host, &no, msg, n);
}

static void test_missing_socket(void **state)
{
	char msg[512];

	(void)state;
	assert_int_equal(verdict("[client]\nsocket = /nonexistent/vc.sock\n",
				 "vaultctl-metadata", NULL, msg, sizeof(msg)), 1);
	assert_string_equal(msg, "Can't connect to local server through "
			    "socket '/nonexistent/vc.sock' (2)");
	/* libmariadb drops quotes, one on each side or one first. */
	assert_int_equal(verdict("[client]\nsocket = '/nonexistent/a'\n",
				 "vaultctl-metadata", NULL, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "'/nonexistent/a'"));
	assert_int_equal(verdict("[client]\n  socket=\"/nonexistent/b\n",
				 "vaultctl-metadata", NULL, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "'/nonexistent/b'"));
	/* localhost is the socket too. */
	assert_int_equal(verdict("[client]\nsocket = /nonexistent/vc.sock\n",
				 "vaultctl-metadata", "localhost", msg,
				 sizeof(msg)), 1);
}

static void test_groups(void **state)
{
	char text[9000], msg[512];

	(void)state;
	/* The account's group after [client] wins; another's is not read. */
	snprintf(text, sizeof(text), "[client]\nsocket = %s\n[vaultctl-metadata]\n"
		 "socket = /nonexistent/m.sock\n[vaultctl-values]\n"
		 "socket = /nonexistent/v.sock\n", there);
	assert_int_equal(verdict(text, "vaultctl-metadata", NULL, msg,
				 sizeof(msg)), 1);
	assert_non_null(strstr(msg, "m.sock"));
	snprintf(text, sizeof(text), "[client]\nsocket = /nonexistent/c.sock\n"
		 "[vaultctl-values]\nsocket = %s\n[vaultctl]\nsocket = /x\n",
		 there);
	assert_int_equal(verdict(text, "vaultctl-values", NULL, msg,
				 sizeof(msg)), 0);
	assert_int_equal(verdict(text, "vaultctl-metadata", NULL, msg,
				 sizeof(msg)), 1);
	assert_non_null(strstr(msg, "c.sock"));
	/* [ client] is not [client] for libmariadb. */
	assert_int_equal(verdict("[ client]\nsocket = /nonexistent/vc.sock\n",
				 "vaultctl-metadata", NULL, msg, sizeof(msg)), 0);
}

/* No verdict: the socket is there, TCP, or a line this reader does not
 * follow as libmariadb would. */
static void test_no_verdict(void **state)
{
	static const char *const texts[] = {
		"[client]\nsocket = /nonexistent/vc.sock\nprotocol = tcp\n",
		"[client]\nsocket = /nonexistent/vc.sock\nhost = 127.0.0.1\n",
		"[client]\nsocket = /nonexistent/vc.sock\nprotocol = pipe\n",
		"[client]\nsocket = /nonexistent/vc.sock\npipe\n",
		"[client]\nsocket = /nonexistent/vc\\.sock\n",
		"!include /etc/other.cnf\n[client]\nsocket = /nonexistent/vc.sock\n",
		"[client]\n'quoted'\nsocket = /nonexistent/vc.sock\n",
		"socket = /nonexistent/vc.sock\n[client]\n",
		"[client\nsocket = /nonexistent/vc.sock\n",
		"[client]\nhost = localhost\n",
		"[vaultctl]\nsocket = /nonexistent/vc.sock\n",
	};
	char text[9000], msg[512];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(verdict(texts[i], "vaultctl-metadata", NULL,
					 msg, sizeof(msg)), 0);
	snprintf(text, sizeof(text), "[client]\nsocket = %s\n", there);
	assert_int_equal(verdict(text, "vaultctl-metadata", NULL, msg,
				 sizeof(msg)), 0);
	assert_int_equal(verdict("[client]\nsocket = /nonexistent/vc.sock\n",
				 "vaultctl-metadata", "127.0.0.1", msg,
				 sizeof(msg)), 0);
	assert_int_equal(vc_db_refused("/nonexistent/file.cnf",
				       "vaultctl-metadata", NULL,
				       &(unsigned){ 0 }, msg, sizeof(msg)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_socket),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_no_verdict),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
