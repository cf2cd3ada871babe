/* audit_key.c - the audit keys: the current one (audit_key_file), the ones
 * it replaced, key ids and the MAC of a chain's head.
 *
 * rekey keeps each replaced key beside the current one as FILE.<key id>,
 * so that verify still recomputes the rows of the epochs it keyed: a row
 * is only as checkable as its key is at hand.  An old key cannot rewrite
 * its epoch unseen either: the next epoch's first row, keyed with the
 * newer key, holds the hash of the old epoch's last row.
 */
#include "audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static int read_key(const char *path, unsigned char key[32], struct vc_err *e)
{
	unsigned char extra;
	ssize_t n;
	int fd, rc;

	rc = vc_conf_check_private(path, "audit key file", e);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vc_err_set(e, VC_EFAIL, "cannot read audit key file '%s': "
				  "%s", path, strerror(errno));
	n = read(fd, key, 32);
	if (n == 32 && read(fd, &extra, 1) != 0)
		n = -1;
	close(fd);
	if (n != 32) {
		sodium_memzero(key, 32);
		return vc_err_set(e, VC_EUSAGE, "audit key file '%s' must hold "
				  "32 bytes", path);
	}
	return 0;
}

int vc_audit_key(struct vc_session *s, unsigned char key[32], int *have,
		 struct vc_err *e)
{
	const char *path = s->conf.audit_key_file;
	int rc;

	*have = 0;
	if (!path || !*path)
		return 0;
	rc = read_key(path, key, e);
	*have = rc == 0;
	return rc;
}

void vc_audit_key_id(unsigned char id[8], const unsigned char key[32])
{
	static const char what[] = "vaultctl audit key id";

	crypto_generichash(id, 8, (const unsigned char *)what,
			   sizeof(what) - 1, key, 32);
}

void vc_audit_key_hex(char out[17], const unsigned char id[8])
{
	sodium_bin2hex(out, 17, id, 8);
}

static void put_le64(crypto_generichash_state *st, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	crypto_generichash_update(st, b, sizeof(b));
}

void vc_audit_head_mac(unsigned char mac[32], const unsigned char key[32],
		       const char *chain, long long seq,
		       const unsigned char hash[32], long long epoch,
		       const unsigned char id[8])
{
	static const char what[] = "vaultctl audit head v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, 32, 32);
	crypto_generichash_update(&st, (const unsigned char *)what,
				  sizeof(what) - 1);
	put_le64(&st, strlen(chain));
	crypto_generichash_update(&st, (const unsigned char *)chain,
				  strlen(chain));
	put_le64(&st, (uint64_t)seq);
	crypto_generichash_update(&st, hash, 32);
	put_le64(&st, (uint64_t)epoch);
	crypto_generichash_update(&st, id, 8);
	crypto_generichash_final(&st, mac, 32);
	sodium_memzero(&st, sizeof(st));
}

void vc_audit_genesis(unsigned char out[32], const unsigned char key[32],
		      const char *chain)
{
	static const char what[] = "vaultctl audit chain start v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, 32, 32);
	crypto_generichash_update(&st, (const unsigned char *)what,
				  sizeof(what) - 1);
	put_le64(&st, strlen(chain));
	crypto_generichash_update(&st, (const unsigned char *)chain,
				  strlen(chain));
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

/* ---- the keys verify may need ---- */

static void ring_add(struct vc_audit_keyring *kr, const unsigned char key[32])
{
	unsigned char id[8];

	vc_audit_key_id(id, key);
	if (kr->n == ARRAY_SIZE(kr->k) || vc_audit_keyring_find(kr, id))
		return;
	memcpy(kr->k[kr->n].key, key, 32);
	memcpy(kr->k[kr->n].id, id, 8);
	kr->n++;
}

/* "FILE." followed by 16 hex digits: a key rekey replaced. */
static int is_old_key(const char *name, const char *base, size_t blen)
{
	if (strncmp(name, base, blen) || name[blen] != '.')
		return 0;
	name += blen + 1;
	return strlen(name) == 16 && strspn(name, "0123456789abcdef") == 16;
}

/* The directory part of path: "." without one, "/" for the root's. */
static void dir_of(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, n, ".");
	else if (slash == path)
		snprintf(out, n, "/");
	else
		snprintf(out, n, "%.*s", (int)(slash - path), path);
}

static int ring_add_old(struct vc_audit_keyring *kr, const char *path,
			struct vc_err *e)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char dir[4096], file[4352];
	unsigned char key[32];
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	dir_of(path, dir, sizeof(dir));
	dp = opendir(dir);
	if (!dp)
		return 0;       /* no old keys found: the rows say what is missing */
	while (rc == 0 && (d = readdir(dp)) != NULL) {
		if (!is_old_key(d->d_name, base, strlen(base)))
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, d->d_name);
		rc = read_key(file, key, e);
		if (rc == 0)
			ring_add(kr, key);
	}
	closedir(dp);
	sodium_memzero(key, sizeof(key));
	return rc;
}

int vc_audit_keyring_load(struct vc_session *s, struct vc_audit_keyring *kr,
			  struct vc_err *e)
{
	unsigned char key[32];
	int have, rc;

	memset(kr, 0, sizeof(*kr));
	rc = vc_audit_key(s, key, &have, e);
	if (rc == 0 && have)
		ring_add(kr, key);
	sodium_memzero(key, sizeof(key));
	if (rc == 0 && have)
		rc = ring_add_old(kr, s->conf.audit_key_file, e);
	if (rc < 0)
		vc_audit_keyring_wipe(kr);
	return rc;
}

const unsigned char *vc_audit_keyring_find(const struct vc_audit_keyring *kr,
					   const unsigned char id[8])
{
	for (size_t i = 0; i < kr->n; i++)
		if (!memcmp(kr->k[i].id, id, 8))
			return kr->k[i].key;
	return NULL;
}

void vc_audit_keyring_wipe(struct vc_audit_keyring *kr)
{
	sodium_memzero(kr, sizeof(*kr));
}

/* ---- rekey: the key file replaced ---- */

static void fsync_dir(const char *path)
{
	char dir[4096];
	int fd;

	dir_of(path, dir, sizeof(dir));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* The new key in FILE.new, with the mode and owner FILE has (0600 and
 * the caller's for a first key). */
static int write_new(const char *tmp, const struct stat *old,
		     const unsigned char key[32], struct vc_err *e)
{
	int fd, ok;

	unlink(tmp);            /* left by a rekey that died */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return vc_err_set(e, VC_EFAIL, "cannot write audit key file "
				  "'%s': %s", tmp, strerror(errno));
	ok = write(fd, key, 32) == 32;
	if (ok && old && (old->st_uid != geteuid() || old->st_gid != getegid()))
		ok = fchown(fd, old->st_uid, old->st_gid) == 0;
	if (ok && old)
		ok = fchmod(fd, old->st_mode & 0640) == 0;
	ok = ok && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok) {
		int err = errno;
		unlink(tmp);
		return vc_err_set(e, VC_EFAIL, "cannot write audit key file "
				  "'%s': %s", tmp, strerror(err));
	}
	return 0;
}

/* The old key stays readable all along: first linked to its keeping
 * name, then the new file renamed over FILE.  Whatever step a crash
 * stops at, each key is in one of the two names, and a chain still
 * under the old key moves to the new one at its next write. */
static int swap_files(const char *path, const char *tmp, int had_old,
		      const unsigned char old_id[8], struct vc_err *e)
{
	char keep[4352], hex[17];

	if (had_old) {
		vc_audit_key_hex(hex, old_id);
		snprintf(keep, sizeof(keep), "%s.%s", path, hex);
		if (link(path, keep) < 0 && errno != EEXIST) {
			int err = errno;
			unlink(tmp);
			return vc_err_set(e, VC_EFAIL, "cannot keep the old audit "
					  "key as '%s': %s", keep, strerror(err));
		}
	}
	if (rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		return vc_err_set(e, VC_EFAIL, "cannot replace audit key file "
				  "'%s': %s", path, strerror(err));
	}
	fsync_dir(path);
	return 0;
}

int vc_audit_key_rotate(struct vc_session *s, unsigned char new_id[8],
			struct vc_err *e)
{
	const char *path = s->conf.audit_key_file;
	unsigned char old[32], key[32], old_id[8];
	char tmp[4352];
	struct stat st;
	int have = 0, rc;

	if (!path || !*path)
		return vc_err_set(e, VC_EUSAGE, "no audit_key_file in the "
				  "configuration: name the file the new key is to "
				  "be written to");
	rc = vc_audit_key(s, old, &have, e);
	if (rc == VC_ENOTFOUND)         /* a key enabled: its first one */
		rc = 0;
	if (rc < 0)
		return rc;
	if (have) {
		vc_audit_key_id(old_id, old);
		sodium_memzero(old, sizeof(old));
	}
	randombytes_buf(key, sizeof(key));
	vc_audit_key_id(new_id, key);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	rc = write_new(tmp, have && stat(path, &st) == 0 ? &st : NULL, key, e);
	sodium_memzero(key, sizeof(key));
	if (rc == 0)
		rc = swap_files(path, tmp, have, old_id, e);
	return rc;
}
