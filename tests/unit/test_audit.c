/* Unit tests of the audit keys, head MACs, anchor files and the digest of
 * a list of reads (lib/audit_key.c, lib/audit_anchor.c, audit_reads.c).  Known answers computed outside
 * the code (Python hashlib.blake2b, as tests/galera/audit_chain.py does):
 * every keyed chain head depends on them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "auditlog.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vc-test-audit.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_key_id_head_mac_genesis(void **state)
{
	unsigned char key[32], id[8], hash[32], mac[32];
	char hex[65];

	(void)state;
	memset(key, 7, sizeof(key));
	for (int i = 0; i < 32; i++)
		hash[i] = (unsigned char)i;
	vc_audit_key_id(id, key);
	vc_audit_key_hex(hex, id);
	assert_string_equal(hex, "51c3df056b3957a2");
	vc_audit_head_mac(mac, key, "01a214d1-5bca-7230-a7cb-442d19e108b8", 4242,
			  hash, 3, id);
	sodium_bin2hex(hex, sizeof(hex), mac, 32);
	assert_string_equal(hex, "4e62ad700db30e1706a41b9249b6e970"
			    "f2c4d6304189c5247b441a0df941caff");
	/* The global chain's new head: every field counts. */
	memset(hash, 0, sizeof(hash));
	vc_audit_head_mac(mac, key, "", 0, hash, 0, id);
	sodium_bin2hex(hex, sizeof(hex), mac, 32);
	assert_string_equal(hex, "83e198ad9ed81a32a3050b762fb2f23b"
			    "e2db2d3c3ddd760951b18b92591367ef");
	vc_audit_head_mac(mac, key, "", 1, hash, 0, id);
	sodium_bin2hex(hex, sizeof(hex), mac, 32);
	assert_string_not_equal(hex, "83e198ad9ed81a32a3050b762fb2f23b"
				"e2db2d3c3ddd760951b18b92591367ef");
	vc_audit_genesis(mac, key, "01a214d1-5bca-7230-a7cb-442d19e108b8");
	sodium_bin2hex(hex, sizeof(hex), mac, 32);
	assert_string_equal(hex, "134c958c79715239d48cd357cf62def2"
			    "3bfbda534b375d879351d6fcacbdf5df");
}

/* The digest of a list of reads (lib/audit_reads.c), as verify and
 * tests/galera/audit_chain.py recompute it: short ids, an id longer than
 * the buffer, and a thousand reads that fill it many times. */
static void test_reads_digest(void **state)
{
	static const struct vc_audit_read two[] = {
		{ "01a214d1-5bca-7230-a7cb-442d19e108b8", 3 },
		{ "01a214d1-5bca-7230-a7cb-442d19e108b9", 1 },
	};
	struct vc_audit_read odd[2], *many = calloc(1000, sizeof(*many));
	char (*ids)[37] = calloc(1000, sizeof(*ids)), details[128], hex[65];
	char *longid = malloc(2001), digest[65];
	struct vc_audit_digest g;

	(void)state;
	assert_non_null(many);
	assert_non_null(ids);
	assert_non_null(longid);
	assert_int_equal(vc_audit_reads_details(two, 2, details), 0);
	assert_string_equal(details, "{\"reads\":2,\"digest\":\"716deb1c5c4105"
			    "485429f36e5f9f1b995598ef80154579fcb9303b59a9e469b1\"}");
	vc_audit_digest_init(&g);
	assert_int_equal(vc_audit_digest_final(&g, 0, hex), 0);
	assert_string_equal(hex, "ae5ef8c7ee28ba16e5eecfe7e0e75f1e"
			    "7f062f9ac7c60b5145ac126c6a14aaca");
	memset(longid, 'x', 2000);
	longid[2000] = '\0';
	odd[0] = (struct vc_audit_read){ longid, -1 };
	odd[1] = (struct vc_audit_read){ "y", 7 };
	assert_int_equal(vc_audit_reads_details(odd, 2, details), 0);
	assert_non_null(strstr(details, "544a62fbfe8684585a527c5fdf01888c"
			       "6f6e4fb5e96354bc88ec4adfe0e66901"));
	for (int i = 0; i < 1000; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%036d", i);
		many[i] = (struct vc_audit_read){ ids[i], i };
	}
	assert_int_equal(vc_audit_reads_details(many, 1000, details), 0);
	assert_string_equal(details, "{\"reads\":1000,\"digest\":\"2c8ce806b5e7"
			    "6cfb0aad70719bf716e378c74012ad80d2f17f940cd7f2972174\"}");
	/* What verify compares: the count and the digest, both. */
	snprintf(digest, sizeof(digest), "%s", strstr(details, "2c8c"));
	assert_true(vc_audit_reads_match(details, 1000, digest));
	assert_false(vc_audit_reads_match(details, 999, digest));
	assert_false(vc_audit_reads_match("{\"version\":3}", 1000, digest));
	digest[0] = '3';
	assert_false(vc_audit_reads_match(details, 1000, digest));
	assert_true(vc_audit_is_list("secret.read", "environment"));
	assert_false(vc_audit_is_list("secret.read", "secret"));
	free(many);
	free(ids);
	free(longid);
}

static void write_key(const char *path, unsigned char fill)
{
	unsigned char key[32];
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	memset(key, fill, sizeof(key));
	assert_int_equal(fwrite(key, 1, 32, f), 32);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* The current key and the old ones rekey kept, found by their ids; a
 * file beside them that is not named FILE.<16 hex digits> is no key. */
static void test_keyring_and_rotate(void **state)
{
	struct vc_session s;
	struct vc_audit_keyring kr;
	struct vc_err e;
	unsigned char key[32], id[8], new_id[8], old_id[8];
	char path[128], other[160], hex[17];
	struct stat st;

	(void)state;
	memset(&s, 0, sizeof(s));
	snprintf(path, sizeof(path), "%s/audit.key", tmpdir);
	s.conf.audit_key_file = path;
	/* No key yet: rotate writes the first one. */
	assert_int_equal(vc_audit_key_rotate(&s, old_id, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vc_audit_keyring_load(&s, &kr, &e), 0);
	assert_int_equal(kr.n, 1);
	assert_memory_equal(kr.k[0].id, old_id, 8);
	vc_audit_keyring_wipe(&kr);

	assert_int_equal(vc_audit_key_rotate(&s, new_id, &e), 0);
	assert_memory_not_equal(new_id, old_id, 8);
	vc_audit_key_hex(hex, old_id);
	snprintf(other, sizeof(other), "%s.%s", path, hex);
	assert_int_equal(access(other, R_OK), 0);
	snprintf(other, sizeof(other), "%s.notakey", path);
	write_key(other, 9);
	assert_int_equal(vc_audit_keyring_load(&s, &kr, &e), 0);
	assert_int_equal(kr.n, 2);
	assert_memory_equal(kr.k[0].id, new_id, 8);
	assert_non_null(vc_audit_keyring_find(&kr, old_id));
	memset(key, 9, sizeof(key));
	vc_audit_key_id(id, key);
	assert_null(vc_audit_keyring_find(&kr, id));
	vc_audit_keyring_wipe(&kr);
	assert_int_equal(kr.n, 0);
	/* A key file of another size is refused. */
	assert_int_equal(truncate(path, 31), 0);
	assert_int_equal(vc_audit_keyring_load(&s, &kr, &e), VC_EUSAGE);
}

static void test_anchor_round_trip(void **state)
{
	struct vc_auditlog_anchor a[2], *back = NULL;
	struct vc_err e;
	char path[128];
	struct stat st;
	size_t n = 99;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/audit.anchor", tmpdir);
	assert_int_equal(vc_auditlog_anchor_read(path, &back, &n, &e), 0);
	assert_int_equal(n, 0);
	memset(a, 0, sizeof(a));
	a[0].seq = 12;
	memset(a[0].hash, 0xab, 32);
	snprintf(a[1].chain, sizeof(a[1].chain),
		 "01a214d1-5bca-7230-a7cb-442d19e108b8");
	a[1].seq = 9000000000LL;
	memset(a[1].hash, 0x01, 32);
	assert_int_equal(vc_auditlog_anchor_write(path, a, 2, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(vc_auditlog_anchor_read(path, &back, &n, &e), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back[i].chain, a[i].chain);
		assert_int_equal(back[i].seq, a[i].seq);
		assert_memory_equal(back[i].hash, a[i].hash, 32);
	}
	free(back);
	/* A damaged line is an error naming it, not an empty anchor. */
	f = fopen(path, "a");
	assert_non_null(f);
	fprintf(f, "- 12 abab\n");
	fclose(f);
	assert_int_equal(vc_auditlog_anchor_read(path, &back, &n, &e), VC_EFAIL);
	assert_non_null(strstr(e.msg, "line 4"));
	assert_null(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id_head_mac_genesis),
		cmocka_unit_test(test_reads_digest),
		cmocka_unit_test(test_keyring_and_rotate),
		cmocka_unit_test(test_anchor_round_trip),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
