/* Unit tests of the support modules: errors, buffers, configuration,
 * output rendering, name and reference validation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "db.h"
#include "output.h"
#include "ref.h"
#include "bulk.h"
#include "runenv.h"
#include "watch.h"
#include "secret.h"
#include "vc.h"

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(vc_err_exit(VC_OK), 0);
	assert_int_equal(vc_err_exit(VC_EFAIL), 1);
	assert_int_equal(vc_err_exit(VC_EUSAGE), 2);
	assert_int_equal(vc_err_exit(VC_ENOTFOUND), 3);
	assert_int_equal(vc_err_exit(VC_EPERM), 4);
	assert_int_equal(vc_err_exit(VC_EQUOTA), 5);
	assert_int_equal(vc_err_exit(VC_ECONFLICT), 6);
	assert_int_equal(vc_err_exit(VC_EUNAVAIL), 7);
	assert_int_equal(vc_err_exit(VC_EINCONSIST), 8);
	assert_int_equal(vc_err_exit(VC_EINTR), 130);
	assert_string_equal(vc_err_name(VC_ENOTFOUND), "not_found");
}

static void test_err_prefix(void **state)
{
	struct vc_err e;

	(void)state;
	assert_int_equal(vc_err_set(&e, VC_ENOTFOUND, "not %s", "found"),
			 VC_ENOTFOUND);
	vc_err_prefix(&e, "cannot read secret '%s'", "a/b/c/D");
	assert_string_equal(e.msg, "cannot read secret 'a/b/c/D': not found");
	assert_int_equal(e.code, VC_ENOTFOUND);
}

static void test_buf(void **state)
{
	struct vc_buf b = VC_BUF_INIT;
	char big[5000];
	size_t n;
	char *p;

	(void)state;
	vc_buf_init(&b, 1);
	assert_int_equal(vc_buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	memset(big, 'x', sizeof(big));
	assert_int_equal(vc_buf_add(&b, big, sizeof(big)), 0);
	assert_int_equal(b.len, 3 + sizeof(big));
	assert_int_equal(b.data[b.len], '\0');
	vc_buf_reset(&b);
	assert_int_equal(b.len, 0);
	vc_buf_printf(&b, "%d-%s", 42, "x");
	assert_string_equal(b.data, "42-x");
	p = vc_buf_detach(&b, &n);
	assert_int_equal(n, 4);
	assert_null(b.data);
	free(p);
	vc_buf_release(&b);
}

/* The order MariaDB's ORDER BY name gave for these names (column in
 * utf8mb4_unicode_ci), which the client-side sort of an export keeps. */
static void test_name_order(void **state)
{
	static const char *const db_order[] = { "_", "__", "_1", "_a", "_Z",
		"A", "A_", "a__b", "A_1", "a_b", "A0", "A1", "a2", "AB", "Ab_",
		"ab1", "b", "B_", "x", "X_Y", "X1Y", "XY", "z_", "Z9" };
	size_t n = ARRAY_SIZE(db_order);

	(void)state;
	for (size_t i = 0; i + 1 < n; i++) {
		assert_true(vc_secret_name_cmp(db_order[i], db_order[i + 1]) < 0);
		assert_true(vc_secret_name_cmp(db_order[i + 1], db_order[i]) > 0);
	}
	assert_int_equal(vc_secret_name_cmp("Ab_1", "Ab_1"), 0);
}

static void test_names(void **state)
{
	struct vc_err e;
	char long_name[80];

	(void)state;
	assert_int_equal(vc_name_check("organization", "acme", &e), 0);
	assert_int_equal(vc_name_check("organization", "a.b_c-1", &e), 0);
	assert_int_equal(vc_name_check("organization", "", &e), VC_EUSAGE);
	assert_int_equal(vc_name_check("organization", "-x", &e), VC_EUSAGE);
	assert_int_equal(vc_name_check("organization", "a/b", &e), VC_EUSAGE);
	assert_int_equal(vc_name_check("organization", "..", &e), VC_EUSAGE);
	assert_int_equal(vc_name_check("project", "x'; DROP", &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "project"));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_int_equal(vc_name_check("environment", long_name, &e), VC_EUSAGE);
	long_name[63] = '\0';
	assert_int_equal(vc_name_check("environment", long_name, &e), 0);
	assert_int_equal(vc_secret_name_check("DB_URL", &e), 0);
	assert_int_equal(vc_secret_name_check("_x1", &e), 0);
	assert_int_equal(vc_secret_name_check("1X", &e), VC_EUSAGE);
	assert_int_equal(vc_secret_name_check("A-B", &e), VC_EUSAGE);
	assert_int_equal(vc_secret_name_check("A\nB", &e), VC_EUSAGE);
	assert_int_equal(vc_email_check("a@example.com", &e), 0);
	assert_int_equal(vc_email_check("a@b", &e), VC_EUSAGE);
	assert_int_equal(vc_email_check("a b@example.com", &e), VC_EUSAGE);
	assert_int_equal(vc_email_check("x'@example.com", &e), VC_EUSAGE);
	assert_true(vc_is_uuid("bc40941d-c31d-4754-906f-6c470d78cb73"));
	assert_false(vc_is_uuid("bc40941d-c31d-4754-906f-6c470d78cb7"));
}

/* splits TEXT; returns the code, the parts joined by '|' in out. */
static int split(const char *text, char *out, size_t n, struct vc_err *e)
{
	char parts[4][256];
	int k = 0, rc = vc_ref_split(text, parts, &k, e);

	out[0] = '\0';
	for (int i = 0; rc == 0 && i < k; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s",
			 i ? "|" : "", parts[i]);
	return rc;
}

/* One trailing '/' ends a reference to an organization, project or
 * environment (what completion writes); never a secret name, never two. */
static void test_ref_split(void **state)
{
	struct vc_err e;
	char got[1100];

	(void)state;
	assert_int_equal(split("acme/api/prod/DB_URL", got, sizeof(got), &e), 0);
	assert_string_equal(got, "acme|api|prod|DB_URL");
	assert_int_equal(split("acme/", got, sizeof(got), &e), 0);
	assert_string_equal(got, "acme");
	assert_int_equal(split("acme/api/", got, sizeof(got), &e), 0);
	assert_string_equal(got, "acme|api");
	assert_int_equal(split("acme/api/prod/", got, sizeof(got), &e), 0);
	assert_string_equal(got, "acme|api|prod");
	assert_int_equal(split("acme/api/prod/X/", got, sizeof(got), &e),
			 VC_EUSAGE);
	assert_non_null(strstr(e.msg, "ends in '/' after the secret name"));
	assert_int_equal(split("acme//api", got, sizeof(got), &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "has an empty part"));
	assert_int_equal(split("acme/api//", got, sizeof(got), &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "has an empty part"));
	assert_int_equal(split("/", got, sizeof(got), &e), VC_EUSAGE);
	assert_int_equal(split("/acme", got, sizeof(got), &e), VC_EUSAGE);
	assert_int_equal(split("", got, sizeof(got), &e), VC_EUSAGE);
	assert_int_equal(split("a/b/c/D/e", got, sizeof(got), &e), VC_EUSAGE);
	assert_non_null(strstr(e.msg, "too many parts"));
}

/* Version 7 ids: a batch spans several randomness chunks (256 each); every
 * id is well formed, the batch is strictly increasing (so distinct), and
 * starts with the current millisecond. */
static void test_uuids(void **state)
{
	enum { N = 600 };
	static char ids[N][37];
	struct timespec ts;
	unsigned long long ms, got;

	(void)state;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (unsigned long long)ts.tv_sec * 1000 +
	     (unsigned long long)ts.tv_nsec / 1000000;
	vc_uuids(ids, N);
	for (int i = 0; i < N; i++) {
		assert_true(vc_is_uuid(ids[i]));
		assert_int_equal(ids[i][14], '7');
		assert_non_null(strchr("89ab", ids[i][19]));
		/* in order within the batch: appended to a B-tree */
		if (i)
			assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	}
	got = strtoull(ids[N - 1], NULL, 16) << 16 |
	      strtoull(ids[N - 1] + 9, NULL, 16);
	assert_true(got >= ms && got < ms + 5000);
	vc_uuid(ids[0]);
	assert_true(vc_is_uuid(ids[0]));
	assert_string_not_equal(ids[0], ids[1]);
}

/* Known answers computed outside the code (Python hashlib.blake2b over
 * prev || per field: 8-byte little-endian length, or all ones for NULL,
 * then the bytes), so that a change to the hashing cannot go unnoticed:
 * every stored chain depends on it.  A 700-byte field passes the 512-byte
 * staging buffer. */
static void test_audit_hash(void **state)
{
	static const char *want_plain =
		"b9f4a6aa212949cbb01decc986738435e12082e41556485ccddadf085ddc1350";
	static const char *want_keyed =
		"2e0c64af822ff275d2de3a9fba4c3e33ef42c6b13fcc94f7b4ced1842bf11547";
	unsigned char prev[32], key[32], out[32];
	char long_field[701], hex[65];
	const char *f[10] = { "01a214d1-5bca-7230-a7cb-442d19e108b8", NULL,
			      "org", "secret.read", "secret", "",
			      "2026-11-25 22:00:00", NULL, "ua", long_field };

	(void)state;
	for (int i = 0; i < 32; i++) {
		prev[i] = (unsigned char)i;
		key[i] = 7;
	}
	memset(long_field, 'x', 700);
	long_field[700] = '\0';
	vc_audit_hash(out, prev, f, NULL);
	sodium_bin2hex(hex, sizeof(hex), out, 32);
	assert_string_equal(hex, want_plain);
	vc_audit_hash(out, prev, f, key);
	sodium_bin2hex(hex, sizeof(hex), out, 32);
	assert_string_equal(hex, want_keyed);
}

static void test_roles(void **state)
{
	enum vc_role r;
	struct vc_err e;

	(void)state;
	assert_int_equal(vc_role_parse("viewer", &r, &e), 0);
	assert_int_equal(r, VC_ROLE_VIEWER);
	assert_int_equal(vc_role_parse("owner", &r, &e), 0);
	assert_true(r > VC_ROLE_ADMIN);
	assert_int_equal(vc_role_parse("root", &r, &e), VC_EUSAGE);
}

static const struct vc_col cols[] = {
	{ "name", VC_COL_STR }, { "count", VC_COL_NUM },
	{ "on", VC_COL_BOOL }, { "extra", VC_COL_JSON },
};

static void fill(struct vc_table *t)
{
	vc_table_init(t, cols, 4);
	vc_table_addv(t, "a\tb", "12.50", "1", "{\"k\":[1]}");
	vc_table_addv(t, "q\"x,y", "3", "0", NULL);
}

static void test_render(void **state)
{
	struct vc_buf b = VC_BUF_INIT;
	struct vc_table t;

	(void)state;
	fill(&t);
	assert_int_equal(vc_table_render(&t, VC_OUT_TSV, 0, &b), 0);
	assert_string_equal(b.data, "a\\tb\t12.50\t1\t{\"k\":[1]}\n"
			    "q\"x,y\t3\t0\t\n");
	vc_buf_reset(&b);
	assert_int_equal(vc_table_render(&t, VC_OUT_CSV, 0, &b), 0);
	assert_string_equal(b.data, "name,count,on,extra\r\n"
			    "a\tb,12.50,1,\"{\"\"k\"\":[1]}\"\r\n"
			    "\"q\"\"x,y\",3,0,\r\n");
	vc_buf_reset(&b);
	assert_int_equal(vc_table_render(&t, VC_OUT_JSONL, 0, &b), 0);
	assert_string_equal(b.data, "{\"name\":\"a\\tb\",\"count\":12.50,"
			    "\"on\":true,\"extra\":{\"k\":[1]}}\n"
			    "{\"name\":\"q\\\"x,y\",\"count\":3,\"on\":false,"
			    "\"extra\":null}\n");
	vc_buf_reset(&b);
	assert_int_equal(vc_table_render(&t, VC_OUT_TABLE, 0, &b), 0);
	assert_non_null(strstr(b.data, "NAME "));
	assert_non_null(strstr(b.data, "a\\tb"));
	vc_buf_release(&b);
	vc_table_release(&t);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void test_config(void **state)
{
	char path[] = "/tmp/vc-test-conf-XXXXXX";
	struct vc_conf c;
	struct vc_err e;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "[client]\nsocket = /x\n[vaultctl]\ndatabase = db1\n"
		   "backend = vault\nvault_addr = \"http://h:1\"\n"
		   "max_value_size = 10\nadmin-config = /etc/a.cnf\n"
		   "authenticate = none\n[vaultctl-metadata]\nuser = u\n"
		   "[other]\ndatabase = no\n", 0600);
	assert_int_equal(vc_conf_load(&c, path, &e), 0);
	assert_string_equal(c.database, "db1");
	assert_string_equal(c.backend, "vault");
	assert_string_equal(c.vault[0], "http://h:1");
	assert_int_equal(c.max_value_size, 10);
	assert_string_equal(c.admin_config, "/etc/a.cnf");
	assert_null(c.authenticate);
	vc_conf_release(&c);
	write_file(path, "[vaultctl]\nauthenticate = password\n", 0600);
	assert_int_equal(vc_conf_load(&c, path, &e), 0);
	assert_string_equal(c.authenticate, "password");
	vc_conf_release(&c);
	chmod(path, 0640);
	assert_int_equal(vc_conf_load(&c, path, &e), VC_EPERM);
	assert_non_null(strstr(e.msg, "0640"));
	vc_conf_release(&c);
	write_file(path, "[vaultctl]\nbackend = other\n", 0600);
	assert_int_equal(vc_conf_load(&c, path, &e), VC_EUSAGE);
	vc_conf_release(&c);
	unlink(path);
	assert_int_equal(vc_conf_load(&c, path, &e), VC_EUSAGE);
	vc_conf_release(&c);
}

/* Fails closed: each of these is an error naming the file and the key or
 * group, never a default. */
static void test_config_strict(void **state)
{
	static const struct { const char *text, *says; } bad[] = {
		{ "[vaultctl]\nauthenticate = Password\n", "authenticate" },
		{ "[vaultctl]\nauthenticate =\n", "authenticate" },
		{ "[vaultctl]\nunknown_key = 1\n", "unknown_key" },
		{ "[vaultctl]\nmax_value_size = -1\n", "max_value_size" },
		{ "[vaultctl]\nmax_value_size = 10k\n", "max_value_size" },
		{ "[vaultctl]\ndatabase = a;b\n", "database" },
		{ "[vaultctl]\naudit_key_file = \"\"\n", "audit_key_file" },
		{ "[vaultctl]\nbackend = Local\n", "backend" },
		{ "[client]\n[vaultctl-admin]\nuser = root\n", "vaultctl-admin" },
		{ "[vaultctl-metdata]\nuser = x\n", "vaultctl-metdata" },
		{ "[vaultctl\n", "[group]" },
	};
	char path[] = "/tmp/vc-test-conf-XXXXXX";
	struct vc_conf c;
	struct vc_err e;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		write_file(path, bad[i].text, 0600);
		assert_int_equal(vc_conf_load(&c, path, &e), VC_EUSAGE);
		assert_non_null(strstr(e.msg, path));
		if (!strstr(e.msg, bad[i].says))
			fail_msg("'%s': %s", bad[i].text, e.msg);
		vc_conf_release(&c);
	}
	unlink(path);
	assert_int_equal(vc_conf_load(&c, path, &e), VC_EUSAGE);
	vc_conf_release(&c);
}

/* What run hands its command: loader and shell names refused unless
 * allowed exactly, the caller's VAULT_* and VAULTCTL_* dropped, secrets
 * over the caller's variables. */
static void test_runenv(void **state)
{
	static const char *const refused[] = { "LD_PRELOAD", "LD_AUDIT",
		"BASH_ENV", "ENV", "BASH_FUNC_x", "MALLOC_CHECK_", "GCONV_PATH",
		"GLIBC_TUNABLES", "IFS", "PS4", "SHELLOPTS", "ZDOTDIR" };
	static const char *const passed[] = { "PATH", "HOME", "ld_preload",
		"ENVIRONMENT", "LD", "DB_URL", "VAULT_TOKEN", "TMPDIR" };
	char *caller[] = { "HOME=/h", "VAULT_TOKEN=t", "VAULTCTL_CONFIG=c",
			   "DB_URL=old", "VAULT=x", NULL };
	const char *allow[] = { "LD_PRELOAD", NULL };
	struct vc_secret_val v[2] = { { .name = "DB_URL" },
				      { .name = "LD_PRELOAD" } };
	struct vc_secret_set set = { v, 2, NULL };
	struct vc_runenv r;
	struct vc_err e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		assert_true(vc_runenv_refused(refused[i]));
	for (size_t i = 0; i < ARRAY_SIZE(passed); i++)
		assert_false(vc_runenv_refused(passed[i]));
	vc_buf_init(&v[0].value, 1);
	vc_buf_init(&v[1].value, 1);
	vc_buf_addstr(&v[0].value, "new");
	vc_buf_addstr(&v[1].value, "x.so");
	assert_int_equal(vc_runenv_build(&r, &set, caller, 0, NULL, &e),
			 VC_EUSAGE);
	assert_non_null(strstr(e.msg, "'LD_PRELOAD'"));
	assert_null(r.env);
	assert_int_equal(vc_runenv_build(&r, &set, caller, 0, allow, &e), 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.env[0], "HOME=/h");
	assert_string_equal(r.env[1], "VAULT=x");
	assert_string_equal(r.env[2], "DB_URL=new");
	assert_string_equal(r.env[3], "LD_PRELOAD=x.so");
	assert_null(r.env[4]);
	vc_runenv_release(&r);
	assert_int_equal(vc_runenv_build(&r, &set, caller, 1, allow, &e), 0);
	assert_int_equal(r.n, 2);
	vc_runenv_release(&r);
	vc_buf_add(&v[0].value, "\0", 1);
	assert_int_equal(vc_runenv_build(&r, &set, caller, 0, allow, &e),
			 VC_EUSAGE);
	assert_non_null(strstr(e.msg, "NUL"));
	vc_buf_release(&v[0].value);
	vc_buf_release(&v[1].value);
}

/* --preserve-env: the caller's variables win over secrets of the same
 * name, but the caller's VAULT_* still never pass (a secret so named
 * does); the secrets the caller lacks are added. */
static void test_runenv_preserve(void **state)
{
	char *caller[] = { "HOME=/h", "DB_URL=caller", "VAULT_TOKEN=t", NULL };
	struct vc_secret_val v[3] = { { .name = "DB_URL" }, { .name = "NEW" },
				      { .name = "VAULT_TOKEN" } };
	struct vc_secret_set set = { v, 3, NULL };
	struct vc_runenv r;
	struct vc_err e;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		vc_buf_init(&v[i].value, 1);
		vc_buf_addstr(&v[i].value, "s");
	}
	assert_int_equal(vc_runenv_build(&r, &set, caller, VC_RUNENV_PRESERVE,
					 NULL, &e), 0);
	assert_int_equal(r.n, 4);
	assert_string_equal(r.env[0], "HOME=/h");
	assert_string_equal(r.env[1], "DB_URL=caller");
	assert_string_equal(r.env[2], "NEW=s");
	assert_string_equal(r.env[3], "VAULT_TOKEN=s");
	assert_null(r.env[4]);
	vc_runenv_release(&r);
	assert_int_equal(vc_runenv_build(&r, &set, caller, 0, NULL, &e), 0);
	assert_string_equal(r.env[1], "DB_URL=s");
	vc_runenv_release(&r);
	for (size_t i = 0; i < 3; i++)
		vc_buf_release(&v[i].value);
}

/* run --watch's --interval and --signal. */
static void test_watch_args(void **state)
{
	static const char *const bad_d[] = { "", "10", "10x", "0s", "99ms",
		"25h", "-1s", "1.5s", "s", "100000000000000000000ms", "10 s" };
	static const char *const bad_sig[] = { "", "0", "FOO", "SIG", "65",
		"-1", "TERMX", "1x" };
	struct vc_err e;
	long ms;
	int sig;

	(void)state;
	assert_int_equal(vc_watch_interval("500ms", &ms, &e), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(vc_watch_interval("10s", &ms, &e), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(vc_watch_interval("2m", &ms, &e), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(vc_watch_interval("24h", &ms, &e), 0);
	assert_int_equal(ms, 86400000);
	for (size_t i = 0; i < sizeof(bad_d) / sizeof(bad_d[0]); i++)
		assert_int_equal(vc_watch_interval(bad_d[i], &ms, &e), VC_EUSAGE);
	assert_int_equal(vc_watch_signal("TERM", &sig, &e), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(vc_watch_signal("sighup", &sig, &e), 0);
	assert_int_equal(sig, SIGHUP);
	assert_int_equal(vc_watch_signal("USR1", &sig, &e), 0);
	assert_int_equal(sig, SIGUSR1);
	assert_int_equal(vc_watch_signal("9", &sig, &e), 0);
	assert_int_equal(sig, 9);
	for (size_t i = 0; i < sizeof(bad_sig) / sizeof(bad_sig[0]); i++)
		assert_int_equal(vc_watch_signal(bad_sig[i], &sig, &e), VC_EUSAGE);
}

static void test_conf_find(void **state)
{
	char out[256];
	struct vc_err e;

	(void)state;
	setenv("VAULTCTL_CONFIG", "/env/path.cnf", 1);
	assert_int_equal(vc_conf_find("/explicit.cnf", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/explicit.cnf");
	assert_int_equal(vc_conf_find(NULL, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/env/path.cnf");
	unsetenv("VAULTCTL_CONFIG");
	setenv("XDG_CONFIG_HOME", "/nonexistent-xdg", 1);
	assert_int_equal(vc_conf_find(NULL, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/etc/vaultctl/vaultctl.cnf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_err_prefix),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ref_split),
		cmocka_unit_test(test_name_order),
		cmocka_unit_test(test_uuids),
		cmocka_unit_test(test_audit_hash),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_strict),
		cmocka_unit_test(test_conf_find),
		cmocka_unit_test(test_runenv),
		cmocka_unit_test(test_runenv_preserve),
		cmocka_unit_test(test_watch_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
