/* localkey.c - the master key files of the local store, and their rekey.
 *
 * The file protocol (FILE is master_key_file):
 *   1. FILE.new is written: a new random key, with FILE's mode, owner and
 *      group, through FILE.new.tmp, fsync and rename, so that it is whole
 *      or absent.  New values are sealed under it from then on.
 *   2. Every value not under FILE.new's key is re-sealed under it.
 *   3. FILE is linked to FILE.old, then FILE.new is renamed over FILE.
 *   4. Values written meanwhile under the previous key are re-sealed.
 *   5. FILE.old is removed.
 * The tools read every file present and open each value with the key its
 * row names, so a rekey stopped anywhere loses nothing; run again, it
 * goes on from the files it finds.  The directory is fsynced after each
 * rename or removal, so that a crash cannot undo a step whose rows are
 * already re-sealed.
 */
#define _POSIX_C_SOURCE 200809L

#include "localstore.h"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_PATH_MAX 4096

static const char *const suffix[VC_LOCAL_SLOTS] = { "", ".new", ".old" };

static int key_path(char out[KEY_PATH_MAX], const char *file, const char *sfx,
		    struct vc_err *e)
{
	if ((size_t)snprintf(out, KEY_PATH_MAX, "%s%s", file, sfx) >=
	    KEY_PATH_MAX)
		return vc_err_set(e, VC_EUSAGE, "key file name '%.200s' is too"
				  " long", file);
	return 0;
}

/* ---- reading one key ---- */

static int key_check(int fd, const char *path, struct stat *sb,
		     struct vc_err *e)
{
	if (fstat(fd, sb) < 0)
		return vc_err_set(e, VC_EFAIL, "cannot stat key file '%s': %s",
				  path, strerror(errno));
	if (!S_ISREG(sb->st_mode))
		return vc_err_set(e, VC_EUSAGE, "key file '%s' is not a"
				  " regular file", path);
	if (!vc_conf_private_mode(sb, 1))
		return vc_err_set(e, VC_EPERM, "key file '%s' has mode %04o;"
				  " it must be 0600", path,
				  (unsigned)(sb->st_mode & 07777));
	if (sb->st_size != VC_LOCAL_KEY_BYTES)
		return vc_err_set(e, VC_EUSAGE, "key file '%s' has %lld bytes;"
				  " it must hold %d", path,
				  (long long)sb->st_size, VC_LOCAL_KEY_BYTES);
	return 0;
}

static int key_read(int fd, const char *path, unsigned char *key,
		    struct vc_err *e)
{
	size_t got = 0;

	while (got < VC_LOCAL_KEY_BYTES) {
		ssize_t r = read(fd, key + got, VC_LOCAL_KEY_BYTES - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			sodium_memzero(key, VC_LOCAL_KEY_BYTES);
			return vc_err_set(e, VC_EFAIL, "cannot read key file"
					  " '%s': %s", path, r < 0 ?
					  strerror(errno) : "file shrank");
		}
		got += (size_t)r;
	}
	return 0;
}

static int key_load(const char *path, unsigned char key[VC_LOCAL_KEY_BYTES],
		    struct stat *sb, struct vc_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0)
		return vc_err_set(e, errno == ENOENT ? VC_ENOTFOUND :
				  errno == EACCES ? VC_EPERM : VC_EFAIL,
				  "cannot open key file '%s': %s", path,
				  strerror(errno));
	rc = key_check(fd, path, sb, e);
	if (rc == 0)
		rc = key_read(fd, path, key, e);
	close(fd);
	return rc;
}

int vc_local_key_load(const char *path, unsigned char key[VC_LOCAL_KEY_BYTES],
		      struct vc_err *e)
{
	struct stat sb;

	return key_load(path, key, &sb, e);
}

/* ---- key ids and key sets ---- */

void vc_local_key_id(const unsigned char key[VC_LOCAL_KEY_BYTES],
		     unsigned char id[VC_LOCAL_KEY_ID_BYTES])
{
	static const char what[] = "vaultctl local store key id";
	unsigned char h[crypto_generichash_BYTES_MIN];

	crypto_generichash(h, sizeof(h), (const unsigned char *)what,
			   sizeof(what) - 1, key, VC_LOCAL_KEY_BYTES);
	memcpy(id, h, VC_LOCAL_KEY_ID_BYTES);
}

void vc_local_key_id_hex(const unsigned char id[VC_LOCAL_KEY_ID_BYTES],
			 char out[2 * VC_LOCAL_KEY_ID_BYTES + 1])
{
	sodium_bin2hex(out, 2 * VC_LOCAL_KEY_ID_BYTES + 1, id,
		       VC_LOCAL_KEY_ID_BYTES);
}

int vc_local_keys_load(const char *file, struct vc_local_keys *k,
		       struct vc_err *e)
{
	char path[KEY_PATH_MAX];
	struct stat sb;
	int rc = 0;

	memset(k, 0, sizeof(*k));
	for (int i = 0; i < VC_LOCAL_SLOTS && rc == 0; i++) {
		rc = key_path(path, file, suffix[i], e);
		if (rc == 0)
			rc = key_load(path, k->key[i], &sb, e);
		if (rc == VC_ENOTFOUND && i != VC_LOCAL_CUR) {
			rc = 0;         /* no rekey under way */
			continue;
		}
		if (rc < 0)
			break;
		k->have[i] = 1;
		k->dev[i] = (unsigned long long)sb.st_dev;
		k->ino[i] = (unsigned long long)sb.st_ino;
		vc_local_key_id(k->key[i], k->id[i]);
	}
	if (rc < 0)
		vc_local_keys_wipe(k);
	return rc;
}

int vc_local_keys_stale(const char *file, const struct vc_local_keys *k)
{
	char path[KEY_PATH_MAX];
	struct stat sb;

	for (int i = 0; i < VC_LOCAL_SLOTS; i++) {
		int have = key_path(path, file, suffix[i], NULL) == 0 &&
			   stat(path, &sb) == 0;

		if (have != k->have[i] ||
		    (have && ((unsigned long long)sb.st_dev != k->dev[i] ||
			      (unsigned long long)sb.st_ino != k->ino[i])))
			return 1;
	}
	return 0;
}

int vc_local_keys_sealer(const struct vc_local_keys *k)
{
	return k->have[VC_LOCAL_NEW] ? VC_LOCAL_NEW : VC_LOCAL_CUR;
}

int vc_local_keys_find(const struct vc_local_keys *k, const unsigned char *id)
{
	if (!id)
		return k->have[VC_LOCAL_OLD] ? VC_LOCAL_OLD : VC_LOCAL_CUR;
	for (int i = 0; i < VC_LOCAL_SLOTS; i++)
		if (k->have[i] && !memcmp(k->id[i], id, VC_LOCAL_KEY_ID_BYTES))
			return i;
	return -1;
}

void vc_local_keys_wipe(struct vc_local_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

/* ---- the steps of a rekey ---- */

static int file_fail(struct vc_err *e, const char *what, const char *path)
{
	return vc_err_set(e, errno == EACCES || errno == EPERM ? VC_EPERM :
			  VC_EFAIL, "cannot %s '%s': %s", what, path,
			  strerror(errno));
}

/* The directory of file ("." when it names none), opened for fsync and
 * flock. */
static int dir_open(const char *file, struct vc_err *e)
{
	char dir[KEY_PATH_MAX];
	const char *slash = strrchr(file, '/');
	int fd;

	if (key_path(dir, file, "", e) < 0)
		return -1;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		dir[slash == file ? 1 : slash - file] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		file_fail(e, "open the directory", dir);
	return fd;
}

/* A rename or removal is durable only once its directory is. */
static int dir_sync(const char *file, struct vc_err *e)
{
	int fd = dir_open(file, e), rc = 0;

	if (fd < 0)
		return e ? e->code : VC_EFAIL;
	if (fsync(fd) < 0)
		rc = file_fail(e, "sync the directory of", file);
	close(fd);
	return rc;
}

int vc_local_key_lock(const char *file, int *fd, struct vc_err *e)
{
	int rc;

	*fd = dir_open(file, e);
	if (*fd < 0)
		return e ? e->code : VC_EFAIL;
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	rc = errno == EWOULDBLOCK ? vc_err_set(e, VC_ECONFLICT, "another"
		" rekey of '%s' is running", file) :
		file_fail(e, "lock the directory of", file);
	close(*fd);
	*fd = -1;
	return rc;
}

void vc_local_key_unlock(int fd)
{
	if (fd >= 0)
		close(fd);      /* releases the flock */
}

/* Owner and group first, mode second: chown may clear set-id bits. */
static int key_write(int fd, const char *path, const struct stat *like,
		     struct vc_err *e)
{
	unsigned char key[VC_LOCAL_KEY_BYTES];
	ssize_t w;
	int rc = 0;

	if (fchown(fd, like->st_uid, like->st_gid) < 0 ||
	    fchmod(fd, like->st_mode & 07777) < 0)
		return file_fail(e, "give the owner, group and mode of the key"
				 " file to", path);
	randombytes_buf(key, sizeof(key));
	w = write(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (w != (ssize_t)sizeof(key) || fsync(fd) < 0)
		rc = file_fail(e, "write", path);
	return rc;
}

int vc_local_key_begin(const char *file, struct vc_err *e)
{
	char tmp[KEY_PATH_MAX], next[KEY_PATH_MAX];
	struct stat sb;
	int fd, rc;

	rc = key_path(tmp, file, ".new.tmp", e);
	if (rc == 0)
		rc = key_path(next, file, ".new", e);
	if (rc < 0)
		return rc;
	if (stat(file, &sb) < 0)
		return file_fail(e, "stat", file);
	/* A .tmp left by a killed rekey is never read: it is overwritten. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return file_fail(e, "create", tmp);
	rc = key_write(fd, tmp, &sb, e);
	if (close(fd) < 0 && rc == 0)
		rc = file_fail(e, "write", tmp);
	if (rc == 0 && rename(tmp, next) < 0)
		rc = file_fail(e, "rename to .new", tmp);
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return dir_sync(file, e);
}

int vc_local_key_switch(const char *file, struct vc_err *e)
{
	char next[KEY_PATH_MAX], old[KEY_PATH_MAX];
	int rc = key_path(next, file, ".new", e);

	if (rc == 0)
		rc = key_path(old, file, ".old", e);
	if (rc < 0)
		return rc;
	if (access(next, F_OK) < 0)
		return errno == ENOENT ? 0 : file_fail(e, "look for", next);
	/* With FILE.new still there, FILE is still the previous key: a
	 * FILE.old left by a switch that stopped half-way is the same key. */
	if (unlink(old) < 0 && errno != ENOENT)
		return file_fail(e, "remove", old);
	if (link(file, old) < 0)
		return file_fail(e, "keep the previous key as", old);
	if (rename(next, file) < 0)
		return file_fail(e, "make the new key current:", next);
	return dir_sync(file, e);
}

int vc_local_key_finish(const char *file, struct vc_err *e)
{
	char old[KEY_PATH_MAX];
	int rc = key_path(old, file, ".old", e);

	if (rc < 0)
		return rc;
	if (unlink(old) < 0 && errno != ENOENT)
		return file_fail(e, "remove the previous key", old);
	return dir_sync(file, e);
}
