/* test_store.c - one conformance suite for both value stores.
 *
 * The store comes from the environment, so the same cases run against the
 * local store and the Vault store:
 *   VC_TEST_STORE=local  VC_TEST_CNF=<vaultctl config written by install.sh>
 *   VC_TEST_STORE=vault  VAULT_ADDR=... VAULT_TOKEN=...
 * Anything else fails: a suite that skips itself silently proves nothing.
 * Every run works below a random prefix, so reruns never collide, and
 * removes what it wrote at the end.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "localstore.h"
#include "store.h"
#include "vault.h"
#include "vc.h"

static struct vc_store *store;
static MYSQL *conn;             /* local store only */
static char master_file[4096];  /* local store only: its key file */
static char prefix[64];         /* "vctest/<random hex>/" */

#define OPS (store->ops)

/* ---- helpers ---- */

/* prefix + formatted rest, in one of a few rotating buffers. */
static const char *P(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
	static char bufs[8][512];
	static unsigned next;
	char *b = bufs[next++ % 8];
	size_t n = (size_t)snprintf(b, sizeof(bufs[0]), "%s", prefix);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, sizeof(bufs[0]) - n, fmt, ap);
	va_end(ap);
	return b;
}

/* The version written, or the VC_E* code. */
static int put(const char *path, const void *v, size_t n, int cas,
	       struct vc_err *e)
{
	int version = -1, rc;

	vc_err_clear(e);
	rc = OPS->put(store, path, v, n, cas, &version, e);
	return rc < 0 ? rc : version;
}

static void put_ok(const char *path, const char *v, int cas, int want)
{
	struct vc_err e;
	int rc = put(path, v, strlen(v), cas, &e);

	if (rc < 0)
		fail_msg("put '%s' cas %d: %s (%d)", path, cas, e.msg, rc);
	assert_int_equal(rc, want);
}

static void expect_bytes(const char *path, int version, const void *v,
			 size_t n)
{
	struct vc_buf out;
	struct vc_store_got got;
	struct vc_err e;
	int rc;

	vc_buf_init(&out, 1);
	vc_err_clear(&e);
	rc = OPS->get(store, path, version, &out, &got, &e);
	if (rc < 0)
		fail_msg("get '%s' version %d: %s (%d)", path, version,
			 e.msg, rc);
	assert_int_equal(out.len, n);
	if (n)
		assert_memory_equal(out.data, v, n);
	if (version)
		assert_int_equal(got.version, version);
	assert_int_equal(got.deleted, 0);
	assert_int_equal(got.destroyed, 0);
	vc_buf_release(&out);
}

static void expect_text(const char *path, int version, const char *v)
{
	expect_bytes(path, version, v, strlen(v));
}

/* A get that finds nothing; deleted/destroyed say which kind of nothing. */
static void expect_absent(const char *path, int version, int deleted,
			  int destroyed)
{
	struct vc_buf out;
	struct vc_store_got got;
	struct vc_err e;
	int rc;

	vc_buf_init(&out, 1);
	vc_err_clear(&e);
	memset(&got, 0x55, sizeof(got));
	rc = OPS->get(store, path, version, &out, &got, &e);
	if (rc != VC_ENOTFOUND)
		fail_msg("get '%s' version %d: want not found, got %d (%s)",
			 path, version, rc, e.msg);
	assert_int_equal(e.code, VC_ENOTFOUND);
	assert_int_equal(got.deleted, deleted);
	assert_int_equal(got.destroyed, destroyed);
	assert_int_equal(out.len, 0);
	vc_buf_release(&out);
}

static void call_ok(int rc, const struct vc_err *e, const char *what)
{
	if (rc < 0)
		fail_msg("%s: %s (%d)", what, e->msg, rc);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists dir and compares, in any order, with the NULL-terminated want. */
static void expect_list(const char *dir, const char *const *want)
{
	struct vc_err e;
	char **keys = NULL;
	size_t n = 0, nwant = 0;
	int rc;

	vc_err_clear(&e);
	rc = OPS->list(store, dir, &keys, &n, &e);
	call_ok(rc, &e, "list");
	while (want[nwant])
		nwant++;
	if (n)
		qsort(keys, n, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < n && i < nwant; i++)
		if (strcmp(keys[i], want[i]))
			fail_msg("list '%s' item %zu: '%s', want '%s'", dir,
				 i, keys[i], want[i]);
	if (n != nwant)
		fail_msg("list '%s': %zu keys, want %zu", dir, n, nwant);
	vc_store_list_free(keys, n);
}

/* ---- cases for both stores ---- */

static void test_round_trip_exact_bytes(void **state)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} v[] = {
		{ "empty", "", 0 },
		{ "nul", "\0", 1 },
		{ "ff", "\xff", 1 },
		{ "bad-utf8", "\xc3\x28\xa0\xa1\xed\xa0\x80 x", 9 },
		{ "nul-inside", "a\0b\0", 4 },
	};
	size_t big = 1 << 20;
	unsigned char *rnd = malloc(big);
	struct vc_err e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		assert_int_equal(put(P("rt/%s", v[i].name), v[i].bytes,
				     v[i].len, 0, &e), 1);
		expect_bytes(P("rt/%s", v[i].name), 0, v[i].bytes, v[i].len);
		expect_bytes(P("rt/%s", v[i].name), 1, v[i].bytes, v[i].len);
	}
	assert_non_null(rnd);
	randombytes_buf(rnd, big);
	if (put(P("rt/random-1MiB"), rnd, big, 0, &e) != 1)
		fail_msg("put 1 MiB: %s", e.msg);
	expect_bytes(P("rt/random-1MiB"), 0, rnd, big);
	free(rnd);
}

static void test_versions_increase_by_one(void **state)
{
	(void)state;
	for (int i = 1; i <= 4; i++) {
		char v[16];

		snprintf(v, sizeof(v), "v%d", i);
		put_ok(P("ver/k"), v, -1, i);
	}
	expect_text(P("ver/k"), 0, "v4");
	expect_text(P("ver/k"), 2, "v2");
	expect_text(P("ver/k"), 4, "v4");
	expect_absent(P("ver/k"), 5, 0, 0);
}

static void test_check_and_set(void **state)
{
	static const char secret[] = "SECRET-VALUE-cas";
	struct vc_err e;

	(void)state;
	assert_int_equal(put(P("cas/k"), "a", 1, 3, &e), VC_ECONFLICT);
	put_ok(P("cas/k"), "a", 0, 1);
	assert_int_equal(put(P("cas/k"), secret, strlen(secret), 0, &e),
			 VC_ECONFLICT);
	assert_non_null(strstr(e.msg, "check-and-set"));
	assert_null(strstr(e.msg, "SECRET"));
	assert_int_equal(put(P("cas/k"), "b", 1, 2, &e), VC_ECONFLICT);
	assert_int_equal(e.code, VC_ECONFLICT);
	put_ok(P("cas/k"), "b", 1, 2);
	put_ok(P("cas/k"), "c", -1, 3);
	expect_text(P("cas/k"), 0, "c");
}

static void test_deleted_versus_missing(void **state)
{
	struct vc_err e;

	(void)state;
	expect_absent(P("del/never"), 0, 0, 0);
	expect_absent(P("del/never"), 1, 0, 0);
	/* Like Vault: deleting what is not there is no error. */
	call_ok(OPS->del(store, P("del/never"), NULL, 0, &e), &e, "del");
	put_ok(P("del/k"), "one", 0, 1);
	put_ok(P("del/k"), "two", 1, 2);
	call_ok(OPS->del(store, P("del/k"), NULL, 0, &e), &e, "del latest");
	expect_absent(P("del/k"), 0, 1, 0);
	expect_absent(P("del/k"), 2, 1, 0);
	expect_text(P("del/k"), 1, "one");
	expect_absent(P("del/k"), 3, 0, 0);
	call_ok(OPS->del(store, P("del/k"), (int[]){ 1 }, 1, &e), &e, "del 1");
	expect_absent(P("del/k"), 1, 1, 0);
	/* Every version deleted: the key still exists and keeps its number. */
	assert_int_equal(put(P("del/k"), "x", 1, 0, &e), VC_ECONFLICT);
	put_ok(P("del/k"), "three", 2, 3);
	expect_text(P("del/k"), 0, "three");
}

static void test_undelete_restores(void **state)
{
	struct vc_err e;

	(void)state;
	put_ok(P("undel/k"), "u1", 0, 1);
	put_ok(P("undel/k"), "u2", 1, 2);
	call_ok(OPS->del(store, P("undel/k"), (int[]){ 1, 2 }, 2, &e), &e,
		"del 1 2");
	expect_absent(P("undel/k"), 1, 1, 0);
	expect_absent(P("undel/k"), 0, 1, 0);
	call_ok(OPS->undelete(store, P("undel/k"), (int[]){ 1, 7 }, 2, &e),
		&e, "undelete 1 7");
	expect_text(P("undel/k"), 1, "u1");
	expect_absent(P("undel/k"), 2, 1, 0);
	call_ok(OPS->undelete(store, P("undel/k"), (int[]){ 2 }, 1, &e), &e,
		"undelete 2");
	expect_text(P("undel/k"), 0, "u2");
}

static void test_destroy_is_final(void **state)
{
	struct vc_err e;

	(void)state;
	put_ok(P("destroy/k"), "d1", 0, 1);
	put_ok(P("destroy/k"), "d2", 1, 2);
	call_ok(OPS->destroy(store, P("destroy/k"), (int[]){ 1 }, 1, &e), &e,
		"destroy 1");
	expect_absent(P("destroy/k"), 1, 0, 1);
	call_ok(OPS->undelete(store, P("destroy/k"), (int[]){ 1 }, 1, &e), &e,
		"undelete 1");
	expect_absent(P("destroy/k"), 1, 0, 1);
	expect_text(P("destroy/k"), 0, "d2");
	call_ok(OPS->destroy(store, P("destroy/k"), (int[]){ 2 }, 1, &e), &e,
		"destroy 2");
	expect_absent(P("destroy/k"), 0, 0, 1);
	put_ok(P("destroy/k"), "d3", 2, 3);
	expect_text(P("destroy/k"), 0, "d3");
}

static void test_list_one_level(void **state)
{
	struct vc_err e;

	(void)state;
	put_ok(P("ls/x"), "1", 0, 1);
	put_ok(P("ls/y"), "1", 0, 1);
	put_ok(P("ls/sub/z"), "1", 0, 1);
	put_ok(P("ls/sub/w"), "1", 0, 1);
	put_ok(P("ls/sub2/deep/q"), "1", 0, 1);
	put_ok(P("lsx/other"), "1", 0, 1);
	/* A key whose versions are all deleted is still listed. */
	call_ok(OPS->del(store, P("ls/y"), NULL, 0, &e), &e, "del");
	expect_list(P("ls/"), (const char *[]){ "sub/", "sub2/", "x", "y",
						NULL });
	expect_list(P("ls/sub/"), (const char *[]){ "w", "z", NULL });
	expect_list(P("ls/sub2/"), (const char *[]){ "deep/", NULL });
	expect_list(P("ls/none/"), (const char *[]){ NULL });
}

static void test_list_wildcards_are_literal(void **state)
{
	(void)state;
	put_ok(P("esc/a_c/1"), "1", 0, 1);
	put_ok(P("esc/abc/2"), "1", 0, 1);
	put_ok(P("esc/a%%c/3"), "1", 0, 1);
	put_ok(P("esc/aXYc/4"), "1", 0, 1);
	put_ok(P("esc/b\\c/5"), "1", 0, 1);
	put_ok(P("esc/b!c/6"), "1", 0, 1);
	put_ok(P("esc/bc/7"), "1", 0, 1);
	expect_list(P("esc/a_c/"), (const char *[]){ "1", NULL });
	expect_list(P("esc/a%%c/"), (const char *[]){ "3", NULL });
	expect_list(P("esc/b\\c/"), (const char *[]){ "5", NULL });
	expect_list(P("esc/b!c/"), (const char *[]){ "6", NULL });
}

/* put_many carries soft deletes and undeletes of the current version
 * beside the writes (a batch of restore-env). */
static void test_put_many_marks(void **state)
{
	struct vc_store_put it[3];
	struct vc_err e;

	(void)state;
	put_ok(P("many/w"), "w1", 0, 1);
	put_ok(P("many/d"), "d1", 0, 1);
	put_ok(P("many/u"), "u1", 0, 1);
	call_ok(OPS->del(store, P("many/u"), NULL, 0, &e), &e, "del u");
	it[0] = (struct vc_store_put){ .path = P("many/w"), .val = "w2",
				       .len = 2, .cas = 1 };
	it[1] = (struct vc_store_put){ .path = P("many/d"), .cas = 1,
				       .op = VC_STORE_DELETE };
	it[2] = (struct vc_store_put){ .path = P("many/u"), .cas = 1,
				       .op = VC_STORE_UNDELETE };
	vc_err_clear(&e);
	call_ok(OPS->put_many(store, it, 3, 2, &e), &e, "put_many");
	assert_int_equal(it[0].version, 2);
	assert_int_equal(it[1].version, 1);
	assert_int_equal(it[2].version, 1);
	expect_text(P("many/w"), 0, "w2");
	expect_absent(P("many/d"), 0, 1, 0);
	expect_text(P("many/u"), 0, "u1");
}

static void test_delete_all(void **state)
{
	struct vc_store_meta m;
	struct vc_err e;

	(void)state;
	put_ok(P("da/k"), "1", 0, 1);
	put_ok(P("da/k"), "2", 1, 2);
	put_ok(P("da/keep"), "1", 0, 1);
	call_ok(OPS->delete_all(store, P("da/k"), &e), &e, "delete_all");
	expect_absent(P("da/k"), 0, 0, 0);
	expect_absent(P("da/k"), 1, 0, 0);
	assert_int_equal(OPS->meta(store, P("da/k"), &m, &e), VC_ENOTFOUND);
	assert_int_equal(m.current_version, 0);
	vc_store_meta_release(&m);
	expect_list(P("da/"), (const char *[]){ "keep", NULL });
	call_ok(OPS->delete_all(store, P("da/never"), &e), &e,
		"delete_all of nothing");
	/* Gone means gone: a new key starts at version 1 again. */
	put_ok(P("da/k"), "new", 0, 1);
	expect_text(P("da/k"), 0, "new");
}

static void check_item(const struct vc_store_item *it, size_t i)
{
	char want[32];

	if (i == 7 || i == 13) {
		assert_int_equal(it->rc, VC_ENOTFOUND);
		assert_int_equal(it->err.code, VC_ENOTFOUND);
		assert_int_equal(it->got.deleted, i == 7);
		assert_int_equal(it->got.destroyed, 0);
		assert_int_equal(it->value.len, 0);
		return;
	}
	if (it->rc != 0)
		fail_msg("item %zu ('%s'): %s (%d)", i, it->path, it->err.msg,
			 it->rc);
	assert_int_equal(it->err.code, 0);
	snprintf(want, sizeof(want), i == 20 ? "old-%zu" : "value-%zu", i);
	assert_int_equal(it->value.len, strlen(want));
	assert_memory_equal(it->value.data, want, strlen(want));
	assert_int_equal(it->got.version, i == 20 || i % 3 ? 1 : 2);
}

static void test_get_many(void **state)
{
	enum { N = 50 };
	struct vc_store_item items[N];
	char paths[N][256], v[32];
	struct vc_err e;

	(void)state;
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s", P("gm/s%02zu", i));
		items[i].path = paths[i];
		if (i == 13)
			continue;       /* never written */
		snprintf(v, sizeof(v), "old-%zu", i);
		if (i % 3 == 0 || i == 20)
			put_ok(paths[i], v, 0, 1);
		snprintf(v, sizeof(v), "value-%zu", i);
		put_ok(paths[i], v, -1, i % 3 == 0 || i == 20 ? 2 : 1);
	}
	items[20].version = 1;  /* an explicit version among latest ones */
	call_ok(OPS->del(store, paths[7], NULL, 0, &e), &e, "del");
	call_ok(OPS->get_many(store, items, N, 4, &e), &e, "get_many");
	for (size_t i = 0; i < N; i++) {
		check_item(&items[i], i);
		vc_buf_release(&items[i].value);
	}
}

/* Every current value of one folder, as an export asks (the local store
 * reads the folder in one range scan): deleted, destroyed, never written,
 * asked twice, and neighbours that were not asked for. */
static void test_get_many_folder(void **state)
{
	enum { N = 60 };
	struct vc_store_item items[N];
	char paths[N][256], v[32];
	struct vc_err e;

	(void)state;
	memset(items, 0, sizeof(items));
	put_ok(P("gmf/sub/x"), "not asked", -1, 1);
	put_ok(P("gmf0"), "not asked", -1, 1);
	put_ok(P("gmf.x"), "not asked", -1, 1);
	for (size_t i = 0; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s",
			 P("gmf/s%02zu", i == 25 ? (size_t)24 : i));
		items[i].path = paths[i];
		snprintf(v, sizeof(v), "value-%zu", i == 25 ? (size_t)24 : i);
		if (i != 13 && i != 25)
			put_ok(paths[i], v, -1, 1);
	}
	call_ok(OPS->del(store, paths[7], NULL, 0, &e), &e, "del");
	call_ok(OPS->destroy(store, paths[30], (int[]){ 1 }, 1, &e), &e,
		"destroy");
	call_ok(OPS->get_many(store, items, N, 4, &e), &e, "get_many");
	for (size_t i = 0; i < N; i++) {
		if (i == 7 || i == 13 || i == 30) {
			assert_int_equal(items[i].rc, VC_ENOTFOUND);
			assert_int_equal(items[i].got.deleted, i == 7);
			assert_int_equal(items[i].got.destroyed, i == 30);
			assert_int_equal(items[i].value.len, 0);
			continue;
		}
		if (items[i].rc)
			fail_msg("item %zu: %s", i, items[i].err.msg);
		snprintf(v, sizeof(v), "value-%zu", i == 25 ? (size_t)24 : i);
		assert_int_equal(items[i].value.len, strlen(v));
		assert_memory_equal(items[i].value.data, v, strlen(v));
		assert_int_equal(items[i].got.version, 1);
		vc_buf_release(&items[i].value);
	}
}

static void test_meta_versions(void **state)
{
	struct vc_store_meta m;
	struct vc_err e;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	memset(&m, 0x55, sizeof(m));
	assert_int_equal(OPS->meta(store, P("meta/never"), &m, &e),
			 VC_ENOTFOUND);
	assert_int_equal(m.current_version, 0);
	assert_int_equal(m.nversions, 0);
	vc_store_meta_release(&m);
	for (int i = 1; i <= 3; i++)
		put_ok(P("meta/k"), "v", -1, i);
	call_ok(OPS->del(store, P("meta/k"), (int[]){ 2 }, 1, &e), &e, "del");
	call_ok(OPS->destroy(store, P("meta/k"), (int[]){ 1 }, 1, &e), &e,
		"destroy");
	call_ok(OPS->meta(store, P("meta/k"), &m, &e), &e, "meta");
	assert_int_equal(m.current_version, 3);
	assert_int_equal(m.nversions, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(m.versions[i].version, i + 1);
		/* Both stores speak UTC unix seconds. */
		assert_in_range(m.versions[i].created, now - 300, now + 300);
	}
	assert_int_equal(m.versions[0].destroyed, 1);
	assert_in_range(m.versions[1].deleted, now - 300, now + 300);
	assert_int_equal(m.versions[1].destroyed, 0);
	assert_int_equal(m.versions[2].deleted, 0);
	assert_int_equal(m.versions[2].destroyed, 0);
	vc_store_meta_release(&m);
}

static void test_old_versions_pruned(void **state)
{
	struct vc_store_meta m;
	struct vc_err e;

	(void)state;
	for (int i = 1; i <= 12; i++)
		put_ok(P("prune/k"), i == 2 ? "second" : "v", -1, i);
	call_ok(OPS->meta(store, P("prune/k"), &m, &e), &e, "meta");
	assert_int_equal(m.current_version, 12);
	assert_int_equal(m.oldest_version, 3);
	assert_int_equal(m.nversions, 10);
	assert_int_equal(m.versions[0].version, 3);
	assert_int_equal(m.versions[9].version, 12);
	vc_store_meta_release(&m);
	expect_absent(P("prune/k"), 2, 0, 0);
	expect_absent(P("prune/k"), 1, 0, 0);
	expect_text(P("prune/k"), 3, "v");
}

/* Removes everything below dir, depth first, with list + delete_all. */
static void remove_tree(const char *dir)
{
	struct vc_err e;
	char **keys = NULL, sub[1024];
	size_t n = 0;

	call_ok(OPS->list(store, dir, &keys, &n, &e), &e, "list");
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof(sub), "%s%s", dir, keys[i]);
		if (sub[strlen(sub) - 1] == '/')
			remove_tree(sub);
		else
			call_ok(OPS->delete_all(store, sub, &e), &e,
				"delete_all");
	}
	vc_store_list_free(keys, n);
}

static void test_cleanup(void **state)
{
	(void)state;
	remove_tree(prefix);
	expect_list(prefix, (const char *[]){ NULL });
}

/* ---- local store only ---- */

static void sql_ok(const char *sql)
{
	if (mysql_query(conn, sql))
		fail_msg("%s: %s", sql, mysql_error(conn));
}

static void expect_unauthentic(const char *path, int version)
{
	struct vc_buf out;
	struct vc_err e;
	int rc;

	vc_buf_init(&out, 1);
	rc = OPS->get(store, path, version, &out, NULL, &e);
	if (rc != VC_EINCONSIST)
		fail_msg("get '%s': want inconsistent, got %d (%s)", path, rc,
			 e.msg);
	assert_non_null(strstr(e.msg, "fails authentication"));
	assert_non_null(strstr(e.msg, path));
	assert_null(strstr(e.msg, "alpha"));
	assert_int_equal(out.len, 0);
	vc_buf_release(&out);
}

/* A delete of a version that is not the current one fails the batch's
 * check-and-set: nothing of the batch is written, the writes before it
 * included. */
static void test_put_many_all_or_nothing(void **state)
{
	struct vc_store_put it[2];
	struct vc_err e;

	(void)state;
	put_ok(P("many1/w"), "w1", 0, 1);
	put_ok(P("many1/d"), "d1", 0, 1);
	put_ok(P("many1/d"), "d2", 1, 2);
	it[0] = (struct vc_store_put){ .path = P("many1/w"), .val = "w2",
				       .len = 2, .cas = 1 };
	it[1] = (struct vc_store_put){ .path = P("many1/d"), .cas = 1,
				       .op = VC_STORE_DELETE };
	vc_err_clear(&e);
	assert_int_equal(OPS->put_many(store, it, 2, 1, &e), VC_ECONFLICT);
	assert_int_equal(it[0].version, 0);
	assert_int_equal(it[1].version, 0);
	expect_text(P("many1/w"), 0, "w1");
	expect_text(P("many1/d"), 0, "d2");
	expect_text(P("many1/d"), 1, "d1");
}

static void test_moved_row_fails_authentication(void **state)
{
	char sql[1024];

	(void)state;
	put_ok(P("mv/a"), "alpha", 0, 1);
	put_ok(P("mv/b"), "beta", 0, 1);
	/* Another key's sealed value under b's name. */
	snprintf(sql, sizeof(sql), "DELETE FROM vc_values WHERE path = '%s'",
		 P("mv/b"));
	sql_ok(sql);
	snprintf(sql, sizeof(sql), "UPDATE vc_values SET path = '%s'"
		 " WHERE path = '%s'", P("mv/b"), P("mv/a"));
	sql_ok(sql);
	expect_unauthentic(P("mv/b"), 0);
	/* Version 1's sealed value posing as version 2. */
	put_ok(P("mv/c"), "alpha", 0, 1);
	put_ok(P("mv/c"), "gamma", 1, 2);
	snprintf(sql, sizeof(sql), "DELETE FROM vc_values WHERE path = '%s'"
		 " AND version = 2", P("mv/c"));
	sql_ok(sql);
	snprintf(sql, sizeof(sql), "UPDATE vc_values SET version = 2"
		 " WHERE path = '%s'", P("mv/c"));
	sql_ok(sql);
	expect_unauthentic(P("mv/c"), 0);
	expect_unauthentic(P("mv/c"), 2);
}

static void test_destroy_removes_ciphertext(void **state)
{
	struct vc_err e;
	char sql[1024];
	MYSQL_RES *res;
	MYSQL_ROW row;

	(void)state;
	put_ok(P("gone/k"), "burn after reading", 0, 1);
	call_ok(OPS->destroy(store, P("gone/k"), (int[]){ 1 }, 1, &e), &e,
		"destroy");
	snprintf(sql, sizeof(sql), "SELECT LENGTH(ciphertext), destroyed"
		 " FROM vc_values WHERE path = '%s'", P("gone/k"));
	sql_ok(sql);
	res = mysql_store_result(conn);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	assert_non_null(row);
	assert_string_equal(row[0], "0");
	assert_string_equal(row[1], "1");
	mysql_free_result(res);
}

static void write_key(const char *path, size_t n, mode_t mode)
{
	unsigned char k[40];
	FILE *f;

	memset(k, 0xa5, sizeof(k));
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(k, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void expect_key_refused(const char *path, int code, const char *says)
{
	unsigned char key[VC_LOCAL_KEY_BYTES];
	struct vc_err e;

	vc_err_clear(&e);
	assert_int_equal(vc_local_key_load(path, key, &e), code);
	if (!strstr(e.msg, says))
		fail_msg("'%s' does not say '%s'", e.msg, says);
}

static void test_key_file_checks(void **state)
{
	char dir[] = "/tmp/vc-test-key-XXXXXX", path[64], want[128];
	unsigned char key[VC_LOCAL_KEY_BYTES], ref[VC_LOCAL_KEY_BYTES];
	struct vc_err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	expect_key_refused(path, VC_ENOTFOUND, path);
	write_key(path, 32, 0644);
	snprintf(want, sizeof(want), "key file '%s' has mode 0644; it must"
		 " be 0600", path);
	expect_key_refused(path, VC_EPERM, want);
	write_key(path, 32, 0640);
	expect_key_refused(path, VC_EPERM, "0640");
	write_key(path, 32, 0602);
	expect_key_refused(path, VC_EPERM, "0602");
	write_key(path, 31, 0600);
	expect_key_refused(path, VC_EUSAGE, "31 bytes");
	write_key(path, 33, 0600);
	expect_key_refused(path, VC_EUSAGE, "33 bytes");
	write_key(path, 32, 0600);
	memset(ref, 0xa5, sizeof(ref));
	call_ok(vc_local_key_load(path, key, &e), &e, "key load 0600");
	assert_memory_equal(key, ref, sizeof(key));
	write_key(path, 32, 0400);
	call_ok(vc_local_key_load(path, key, &e), &e, "key load 0400");
	unlink(path);
	rmdir(dir);
}

/* ---- key ids and rekey (local store only) ---- */

static void key_file_put(const char *path, const unsigned char *k,
			 mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(k, 1, VC_LOCAL_KEY_BYTES, f),
			 VC_LOCAL_KEY_BYTES);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void key_file_get(const char *path, unsigned char *k)
{
	struct vc_err e;

	call_ok(vc_local_key_load(path, k, &e), &e, path);
}

/* One cell of a query as text ("NULL" for SQL NULL). */
static void sql_cell(const char *sql, char *out, size_t n)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	sql_ok(sql);
	res = mysql_store_result(conn);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	assert_non_null(row);
	snprintf(out, n, "%s", row[0] ? row[0] : "NULL");
	mysql_free_result(res);
}

static void row_key_id(const char *path, int version, char *out, size_t n)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "SELECT LOWER(HEX(key_id)) FROM vc_values"
		 " WHERE path = '%s' AND version = %d", path, version);
	sql_cell(sql, out, n);
}

static void file_key_id(const char *path, char hex[17])
{
	unsigned char k[VC_LOCAL_KEY_BYTES], id[VC_LOCAL_KEY_ID_BYTES];

	key_file_get(path, k);
	vc_local_key_id(k, id);
	sodium_memzero(k, sizeof(k));
	vc_local_key_id_hex(id, hex);
}

static void test_key_id_known_answer(void **state)
{
	unsigned char k[VC_LOCAL_KEY_BYTES], id[VC_LOCAL_KEY_ID_BYTES];
	char hex[17];

	(void)state;
	for (int i = 0; i < VC_LOCAL_KEY_BYTES; i++)
		k[i] = (unsigned char)i;
	vc_local_key_id(k, id);
	vc_local_key_id_hex(id, hex);
	/* Python: blake2b(b"vaultctl local store key id", key=bytes(range(32)),
	 * digest_size=16).hexdigest()[:16] */
	assert_string_equal(hex, "260e9cf0dde0ac48");
	k[31] ^= 1;
	vc_local_key_id(k, id);
	vc_local_key_id_hex(id, hex);
	assert_string_not_equal(hex, "260e9cf0dde0ac48");
}

static void test_rows_name_their_key(void **state)
{
	char want[17], got[64];
	struct vc_buf out;
	struct vc_err e;
	char sql[1024];
	int rc;

	(void)state;
	file_key_id(master_file, want);
	put_ok(P("kid/a"), "labelled", 0, 1);
	row_key_id(P("kid/a"), 1, got, sizeof(got));
	assert_string_equal(got, want);
	/* A row from before key ids opens with the current key. */
	snprintf(sql, sizeof(sql), "UPDATE vc_values SET key_id = NULL"
		 " WHERE path = '%s'", P("kid/a"));
	sql_ok(sql);
	expect_text(P("kid/a"), 0, "labelled");
	/* A row naming another key fails, naming both keys. */
	snprintf(sql, sizeof(sql), "UPDATE vc_values SET key_id ="
		 " UNHEX('0011223344556677') WHERE path = '%s'", P("kid/a"));
	sql_ok(sql);
	vc_buf_init(&out, 1);
	rc = OPS->get(store, P("kid/a"), 0, &out, NULL, &e);
	assert_int_equal(rc, VC_EINCONSIST);
	assert_non_null(strstr(e.msg, "sealed under key 0011223344556677"));
	assert_non_null(strstr(e.msg, want));
	assert_null(strstr(e.msg, "labelled"));
	assert_int_equal(out.len, 0);
	vc_buf_release(&out);
	snprintf(sql, sizeof(sql), "DELETE FROM vc_values WHERE path = '%s'",
		 P("kid/a"));
	sql_ok(sql);
}

static void test_key_file_steps(void **state)
{
	char dir[] = "/tmp/vc-test-rekey-XXXXXX", file[64], next[80], old[80];
	unsigned char first[VC_LOCAL_KEY_BYTES], k[VC_LOCAL_KEY_BYTES];
	struct vc_local_keys ks, ks2;
	struct stat sb;
	struct vc_err e;
	int fd, fd2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/master.key", dir);
	snprintf(next, sizeof(next), "%s.new", file);
	snprintf(old, sizeof(old), "%s.old", file);
	randombytes_buf(first, sizeof(first));
	key_file_put(file, first, 0400);

	call_ok(vc_local_keys_load(file, &ks, &e), &e, "load");
	assert_true(ks.have[VC_LOCAL_CUR] && !ks.have[VC_LOCAL_NEW] &&
		    !ks.have[VC_LOCAL_OLD]);
	assert_int_equal(vc_local_keys_sealer(&ks), VC_LOCAL_CUR);
	assert_int_equal(vc_local_keys_find(&ks, NULL), VC_LOCAL_CUR);
	assert_int_equal(vc_local_keys_find(&ks, ks.id[VC_LOCAL_CUR]),
			 VC_LOCAL_CUR);
	assert_int_equal(vc_local_keys_find(&ks, (const unsigned char *)
					    "01234567"), -1);
	assert_int_equal(vc_local_keys_stale(file, &ks), 0);

	/* 1: FILE.new, with FILE's mode; FILE untouched. */
	call_ok(vc_local_key_begin(file, &e), &e, "begin");
	assert_int_equal(stat(next, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0400);
	assert_int_equal(sb.st_size, VC_LOCAL_KEY_BYTES);
	assert_int_equal(vc_local_keys_stale(file, &ks), 1);
	call_ok(vc_local_keys_load(file, &ks2, &e), &e, "load with .new");
	assert_true(ks2.have[VC_LOCAL_NEW]);
	assert_int_equal(vc_local_keys_sealer(&ks2), VC_LOCAL_NEW);
	assert_memory_equal(ks2.key[VC_LOCAL_CUR], first, sizeof(first));
	assert_memory_not_equal(ks2.key[VC_LOCAL_NEW], first, sizeof(first));
	assert_memory_not_equal(ks2.id[VC_LOCAL_NEW], ks2.id[VC_LOCAL_CUR],
				VC_LOCAL_KEY_ID_BYTES);

	/* 3: FILE.new becomes FILE, the previous key FILE.old. */
	call_ok(vc_local_key_switch(file, &e), &e, "switch");
	assert_int_equal(access(next, F_OK), -1);
	key_file_get(file, k);
	assert_memory_equal(k, ks2.key[VC_LOCAL_NEW], sizeof(k));
	key_file_get(old, k);
	assert_memory_equal(k, first, sizeof(k));
	call_ok(vc_local_keys_load(file, &ks, &e), &e, "load with .old");
	assert_true(ks.have[VC_LOCAL_OLD] && !ks.have[VC_LOCAL_NEW]);
	assert_int_equal(vc_local_keys_find(&ks, NULL), VC_LOCAL_OLD);
	assert_int_equal(vc_local_keys_sealer(&ks), VC_LOCAL_CUR);
	/* Again, as a resumed rekey does: nothing left to switch. */
	call_ok(vc_local_key_switch(file, &e), &e, "switch again");
	key_file_get(file, k);
	assert_memory_equal(k, ks2.key[VC_LOCAL_NEW], sizeof(k));

	/* 5: FILE.old goes. */
	call_ok(vc_local_key_finish(file, &e), &e, "finish");
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(vc_local_keys_stale(file, &ks), 1);

	/* One rekey at a time. */
	call_ok(vc_local_key_lock(file, &fd, &e), &e, "lock");
	assert_int_equal(vc_local_key_lock(file, &fd2, &e), VC_ECONFLICT);
	assert_non_null(strstr(e.msg, "another rekey"));
	vc_local_key_unlock(fd);
	call_ok(vc_local_key_lock(file, &fd2, &e), &e, "lock after unlock");
	vc_local_key_unlock(fd2);

	vc_local_keys_wipe(&ks);
	vc_local_keys_wipe(&ks2);
	sodium_memzero(k, sizeof(k));
	unlink(file);
	rmdir(dir);
}

/* Counts the rows of vc_values not under the key of file. */
static long rows_not_under(const char *file)
{
	char hex[17], sql[256], n[32];

	file_key_id(file, hex);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM vc_values WHERE"
		 " key_id IS NULL OR key_id <> UNHEX('%s')", hex);
	sql_cell(sql, n, sizeof(n));
	return atol(n);
}

/* Re-seals everything under the key of file (FILE.new of a rekey). */
static long reseal_all(struct vc_store *st, int batch)
{
	long long n, total = 0;
	struct vc_err e;

	do {
		call_ok(vc_local_reseal(st, batch, 0, &n, &e), &e, "reseal");
		assert_true(n <= batch);
		total += n;
	} while (n > 0);
	return (long)total;
}

static void test_reseal_under_the_next_key(void **state)
{
	char dir[] = "/tmp/vc-test-reseal-XXXXXX", file[64], next[80];
	char want[17], got[64];
	unsigned char k[VC_LOCAL_KEY_BYTES];
	struct vc_store *st;
	struct vc_buf out;
	struct vc_err e;
	long todo;
	long long n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/master.key", dir);
	snprintf(next, sizeof(next), "%s.new", file);
	key_file_get(master_file, k);
	key_file_put(file, k, 0600);
	call_ok(vc_local_open_file(&st, conn, file, &e), &e, "open file");
	put_ok(P("rk/a"), "first", 0, 1);
	put_ok(P("rk/a"), "second", 1, 2);
	put_ok(P("rk/gone"), "destroyed", 0, 1);
	call_ok(OPS->destroy(store, P("rk/gone"), (int[]){ 1 }, 1, &e), &e,
		"destroy");

	call_ok(vc_local_key_begin(file, &e), &e, "begin");
	/* A writer that opened before FILE.new seals under it all the same. */
	vc_err_clear(&e);
	call_ok(st->ops->put(st, P("rk/during"), "during", 6, 0, NULL, &e), &e,
		"put during");
	file_key_id(next, want);
	row_key_id(P("rk/during"), 1, got, sizeof(got));
	assert_string_equal(got, want);

	todo = rows_not_under(next);
	assert_true(todo >= 3);
	assert_int_equal(reseal_all(st, 2), todo);
	assert_int_equal(rows_not_under(next), 0);
	row_key_id(P("rk/gone"), 1, got, sizeof(got));
	assert_string_equal(got, want);
	/* The store that holds the old key alone says which key it lacks. */
	vc_buf_init(&out, 1);
	assert_int_equal(OPS->get(store, P("rk/a"), 1, &out, NULL, &e),
			 VC_EINCONSIST);
	assert_non_null(strstr(e.msg, want));
	vc_buf_release(&out);
	vc_buf_init(&out, 1);
	call_ok(st->ops->get(st, P("rk/a"), 1, &out, NULL, &e), &e, "get");
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "first", 5);
	vc_buf_release(&out);

	call_ok(vc_local_key_switch(file, &e), &e, "switch");
	call_ok(vc_local_reseal(st, 2, 1, &n, &e), &e, "last sweep");
	assert_int_equal(n, 0);
	call_ok(vc_local_key_finish(file, &e), &e, "finish");

	/* Back under the suite's own key, by the same steps. */
	key_file_put(next, k, 0600);
	assert_int_equal(reseal_all(st, 1000), todo + 1);
	call_ok(vc_local_key_switch(file, &e), &e, "switch back");
	call_ok(vc_local_key_finish(file, &e), &e, "finish back");
	expect_text(P("rk/a"), 1, "first");
	expect_text(P("rk/a"), 2, "second");
	expect_text(P("rk/during"), 0, "during");
	vc_store_close(st);
	sodium_memzero(k, sizeof(k));
	unlink(file);
	rmdir(dir);
}

/* ---- opening the store under test ---- */

/* The [vaultctl] group comes from the project's own reader; libmariadb
 * reads [client] and [vaultctl-values], as the tools do. */
static int open_local(void)
{
	const char *cnf = getenv("VC_TEST_CNF");
	unsigned char key[VC_LOCAL_KEY_BYTES];
	struct vc_conf c;
	struct vc_err e;
	int rc;

	if (!cnf) {
		fprintf(stderr, "test_store: VC_TEST_STORE=local needs"
			" VC_TEST_CNF, a vaultctl config file\n");
		return -1;
	}
	vc_err_clear(&e);
	rc = vc_conf_load(&c, cnf, &e);
	if (rc == 0 && !c.master_key_file)
		rc = vc_err_set(&e, VC_EUSAGE, "%s has no master_key_file", cnf);
	conn = rc == 0 ? mysql_init(NULL) : NULL;
	if (rc == 0 && (!conn ||
	    mysql_options(conn, MYSQL_READ_DEFAULT_FILE, cnf) ||
	    mysql_options(conn, MYSQL_READ_DEFAULT_GROUP, "vaultctl-values") ||
	    !mysql_real_connect(conn, NULL, NULL, NULL, c.database, 0, NULL,
				0)))
		rc = vc_err_set(&e, VC_EUNAVAIL, "cannot connect with '%s': %s",
				cnf, conn ? mysql_error(conn) : "no memory");
	if (rc == 0)
		rc = vc_local_key_load(c.master_key_file, key, &e);
	if (rc == 0)
		rc = vc_local_open(&store, conn, key, &e);
	if (rc == 0)
		snprintf(master_file, sizeof(master_file), "%s",
			 c.master_key_file);
	sodium_memzero(key, sizeof(key));
	vc_conf_release(&c);
	if (rc < 0)
		fprintf(stderr, "test_store: %s\n", e.msg);
	return rc;
}

static int open_vault(void)
{
	struct vc_vault_conf conf;
	struct vc_err e;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = vc_vault_open(&store, &conf, &e);
	if (rc < 0)
		fprintf(stderr, "test_store: %s\n", e.msg);
	return rc;
}

int main(void)
{
	const struct CMUnitTest both[] = {
		cmocka_unit_test(test_round_trip_exact_bytes),
		cmocka_unit_test(test_versions_increase_by_one),
		cmocka_unit_test(test_check_and_set),
		cmocka_unit_test(test_deleted_versus_missing),
		cmocka_unit_test(test_undelete_restores),
		cmocka_unit_test(test_destroy_is_final),
		cmocka_unit_test(test_list_one_level),
		cmocka_unit_test(test_list_wildcards_are_literal),
		cmocka_unit_test(test_delete_all),
		cmocka_unit_test(test_put_many_marks),
		cmocka_unit_test(test_get_many),
		cmocka_unit_test(test_get_many_folder),
		cmocka_unit_test(test_meta_versions),
		cmocka_unit_test(test_old_versions_pruned),
		cmocka_unit_test(test_cleanup),
	};
	const struct CMUnitTest local_only[] = {
		cmocka_unit_test(test_put_many_all_or_nothing),
		cmocka_unit_test(test_moved_row_fails_authentication),
		cmocka_unit_test(test_destroy_removes_ciphertext),
		cmocka_unit_test(test_key_file_checks),
		cmocka_unit_test(test_cleanup),
		/* Every row of the table is re-sealed: nothing left over
		 * that does not open (the moved rows above). */
		cmocka_unit_test(test_key_id_known_answer),
		cmocka_unit_test(test_rows_name_their_key),
		cmocka_unit_test(test_key_file_steps),
		cmocka_unit_test(test_reseal_under_the_next_key),
		cmocka_unit_test(test_cleanup),
	};
	const char *kind = getenv("VC_TEST_STORE");
	unsigned char rnd[8];
	int failed, local = kind && !strcmp(kind, "local");

	if (!local && !(kind && !strcmp(kind, "vault"))) {
		fprintf(stderr, "test_store: VC_TEST_STORE must be 'local' or"
			" 'vault' (it is %s%s%s)\n", kind ? "'" : "",
			kind ? kind : "unset", kind ? "'" : "");
		return 1;
	}
	if (sodium_init() < 0 || (local ? open_local() : open_vault()) < 0)
		return 1;
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(prefix, sizeof(prefix), "vctest/%02x%02x%02x%02x%02x%02x"
		 "%02x%02x/", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		 rnd[6], rnd[7]);
	failed = cmocka_run_group_tests_name(local ? "store (local)"
					     : "store (vault)", both, NULL, NULL);
	if (local)
		failed += cmocka_run_group_tests_name("local store only",
						      local_only, NULL, NULL);
	vc_store_close(store);
	if (conn)
		mysql_close(conn);
	return failed ? 1 : 0;
}
