/* vc-values.c - test tool: every value the local store of a test server
 * holds or was ever sent, for the secret-hygiene scan (issue 10).
 *
 *   vc-values [-c CONFIG] [--log GENERAL_LOG]
 *
 * Prints one line per sealed row: PATH <TAB> VERSION <TAB> HEX(VALUE).
 * It reads vc_values as the value-store account of CONFIG (default
 * $VAULTCTL_CONFIG) and opens each row with the master key, soft-deleted
 * versions included.  It only SELECTs, through no store function, so it
 * writes no audit row and changes nothing.
 *
 * With --log, the server's general query log is read as well: every
 * execution of the local store's INSERT INTO vc_values carries a sealed
 * value as its parameters, so the values of versions since pruned,
 * destroyed or purged (and of writes rolled back) are found too, except
 * those sealed under a master key that a rekey has since replaced.
 *
 * The sealing is read independently of lib/localstore.c (whose unseal is
 * private): XChaCha20-Poly1305, associated data "PATH\0VERSION".  A row
 * that does not open (a test may copy a sealed row to another version on
 * purpose) is counted on stderr, not printed.  Exit 0, or 1 when the
 * configuration, the key, the database or the log cannot be read.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "localstore.h"
#include "session.h"
#include "vc.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

static unsigned char key[VC_LOCAL_KEY_BYTES];
static unsigned long printed, unopened, table_rows, log_rows;

static void print_hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		putchar(digits[p[i] >> 4]);
		putchar(digits[p[i] & 15]);
	}
}

/* Opens one sealed row and prints it. */
static void show(const char *path, size_t plen, long version,
		 const unsigned char *nonce, size_t nlen,
		 const unsigned char *ct, size_t clen)
{
	unsigned char *ad, *m;
	unsigned long long mlen;
	size_t adlen;

	if (nlen != NONCE_BYTES || clen < TAG_BYTES) {
		unopened++;
		return;
	}
	ad = malloc(plen + 32);
	m = malloc(clen);
	if (!ad || !m) {
		fprintf(stderr, "vc-values: out of memory\n");
		exit(1);
	}
	memcpy(ad, path, plen);
	adlen = plen + 1 + (size_t)sprintf((char *)ad + plen + 1, "%ld", version);
	ad[plen] = '\0';
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, ct, clen,
			ad, adlen, nonce, key) == 0) {
		fwrite(path, 1, plen, stdout);
		printf("\t%ld\t", version);
		print_hex(m, (size_t)mlen);
		putchar('\n');
		printed++;
	} else {
		unopened++;
	}
	sodium_memzero(m, clen);
	free(m);
	free(ad);
}

static int from_table(struct vc_session *s)
{
	struct vc_err e = { 0 };
	struct vc_res *r;
	struct vc_db *db;
	int rc;

	rc = vc_session_db(s, VC_DB_VALUES, &db, &e);
	if (rc == 0)
		rc = vc_db_query(db, &r, &e, "SELECT path, version, nonce,"
				 " ciphertext FROM vc_values WHERE destroyed = 0",
				 "");
	if (rc < 0) {
		fprintf(stderr, "vc-values: %s\n", e.msg);
		return 1;
	}
	vc_res_secret(r);
	for (size_t i = 0; i < vc_res_rows(r); i++) {
		size_t plen, nlen, clen;
		const char *path = vc_res_get(r, i, 0, &plen);
		const char *nonce = vc_res_get(r, i, 2, &nlen);
		const char *ct = vc_res_get(r, i, 3, &clen);

		table_rows++;
		if (path && nonce && ct)
			show(path, plen, vc_res_int(r, i, 1),
			     (const unsigned char *)nonce, nlen,
			     (const unsigned char *)ct, clen);
	}
	vc_res_free(r);
	return 0;
}

/* ---- the general query log ---- */

/* A quoted string as the general log writes a parameter: '...' with the
 * backslash escapes of mysql_real_escape_string.  Unescaped into out (at
 * least as large as the text); returns the position after the closing
 * quote, or NULL. */
static const char *unquote(const char *p, const char *end,
			   unsigned char *out, size_t *n)
{
	*n = 0;
	if (!p || p >= end || *p++ != '\'')
		return NULL;
	while (p < end && *p != '\'') {
		char c = *p++;

		if (c == '\\' && p < end) {
			c = *p++;
			c = c == '0' ? '\0' : c == 'n' ? '\n' : c == 'r' ? '\r' :
			    c == 'Z' ? '\032' : c;
		}
		out[(*n)++] = (unsigned char)c;
	}
	return p < end ? p + 1 : NULL;
}

static const char *skip(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return p && (size_t)(end - p) >= n && !memcmp(p, lit, n) ? p + n : NULL;
}

/* One logged INSERT starting after its "VALUES (". */
static void from_insert(const char *p, const char *end, unsigned char *buf)
{
	const char *line_end = memchr(p, '\n', (size_t)(end - p));
	unsigned char *path = buf, *nonce, *ct;
	size_t plen, nlen, clen;
	char *after;
	long version;

	end = line_end ? line_end : end;
	p = unquote(p, end, path, &plen);
	p = skip(p, end, ", ");
	if (!p)
		goto bad;
	version = strtol(p, &after, 10);
	nonce = path + plen;
	p = unquote(skip(after, end, ", "), end, nonce, &nlen);
	ct = nonce + nlen;
	/* The key id first lands where the ciphertext then goes. */
	p = unquote(skip(p, end, ", "), end, ct, &clen);
	p = unquote(skip(p, end, ", "), end, ct, &clen);
	if (!skip(p, end, ", UTC_TIMESTAMP(6))"))
		goto bad;
	show((const char *)path, plen, version, nonce, nlen, ct, clen);
	return;
bad:
	unopened++;
}

/* Rows in the table and none in the log: the statement looked for is no
 * longer the one lib/localstore.c (version_insert) sends. */
static int log_check(const char *file)
{
	if (table_rows && !log_rows) {
		fprintf(stderr, "vc-values: %s holds no local store write; has "
			"the INSERT of lib/localstore.c changed?\n", file);
		return 1;
	}
	return 0;
}

static int from_log(const char *file)
{
	static const char head[] = " Execute\tINSERT INTO vc_values (path,"
		" version, nonce, key_id, ciphertext, created_at) VALUES (";
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	const char *map, *p, *end;
	unsigned char *buf;

	if (fd < 0 || fstat(fd, &sb) < 0) {
		perror(file);
		return 1;
	}
	if (sb.st_size == 0) {
		close(fd);
		return log_check(file);
	}
	map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	/* Unescaping only shrinks: one line's length bounds its fields. */
	buf = malloc((size_t)sb.st_size);
	if (map == MAP_FAILED || !buf) {
		perror(file);
		return 1;
	}
	end = map + sb.st_size;
	for (p = map; (p = memmem(p, (size_t)(end - p), head,
				  sizeof(head) - 1)) != NULL; log_rows++) {
		p += sizeof(head) - 1;
		from_insert(p, end, buf);
	}
	sodium_memzero(buf, (size_t)sb.st_size);
	free(buf);
	munmap((void *)map, (size_t)sb.st_size);
	return log_check(file);
}

int main(int argc, char **argv)
{
	const char *cnf = NULL, *log = NULL;
	struct vc_session s;
	struct vc_err e = { 0 };
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			cnf = argv[++i];
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			log = argv[++i];
		} else {
			fprintf(stderr, "usage: vc-values [-c CONFIG] "
				"[--log GENERAL_LOG]\n");
			return 2;
		}
	}
	if (sodium_init() < 0)
		return 1;
	vc_session_init(&s, "vc-values");
	if (vc_session_load_conf(&s, cnf, &e) < 0) {
		fprintf(stderr, "vc-values: %s\n", e.msg);
		return 1;
	}
	/* A configuration for the Vault store has no key: nothing is sealed
	 * here (the Vault emulator's dump holds those values). */
	if (s.conf.master_key_file) {
		if (vc_local_key_load(s.conf.master_key_file, key, &e) < 0) {
			fprintf(stderr, "vc-values: %s\n", e.msg);
			return 1;
		}
		rc = from_table(&s);
		if (rc == 0 && log)
			rc = from_log(log);
	}
	sodium_memzero(key, sizeof(key));
	vc_session_close(&s);
	if (fflush(stdout) != 0) {
		perror("vc-values: stdout");
		rc = 1;
	}
	if (unopened)
		fprintf(stderr, "vc-values: %lu sealed rows did not open\n",
			unopened);
	fprintf(stderr, "vc-values: %lu values\n", printed);
	return rc;
}
