/* fallback.c - the offline snapshot of run and export (fallback.h).
 *
 * The file is the caller's (written and read with their own rights), but
 * its contents are not theirs to read or forge: in host mode the key comes
 * from the audit key file, which only the tools' group may read.  The
 * snapshot key is derived from it with its own context (crypto_kdf, one
 * BLAKE2b: no password hashing on the way), so that knowing a snapshot
 * key gives nothing on the audit chain.
 *
 * One file for the whole set of environments a command names, not one per
 * environment: the command gives one FILE, the environments are replaced
 * together (a reader never gets one environment from today and another
 * from last week, a mix that no online read gave), and serving them takes
 * one open and one seal.  Each environment's secrets are kept apart, the
 * ones a later environment overrides too, so that the merge is redone by
 * the same function as online, in the order the environments are asked.
 *
 * Layout: "VCFB2\n", the header's length (4 bytes, big-endian), the
 * header (JSON: identity, environments, time; no value), a nonce, and the
 * XChaCha20-Poly1305 ciphertext of the values and of the reads served
 * offline, with everything before the nonce as associated data: changing
 * the header breaks the seal as changing the values does.  A read served
 * offline is recorded as its time and a bitmap of the secrets it gave,
 * so that the file grows by a few bytes per read, not by the values.
 */
#include "fallback.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "host.h"

#define MAGIC "VCFB2\n"
#define MAGIC_OLD "VCFB1\n"
#define MAGIC_LEN 6
#define HDR_MAX (1 << 20)
#define FILE_MAX (256L << 20)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

struct snap_env {
	char name[480];         /* canonical "org/project/env" */
	char org_id[37], project_id[37], env_id[37];
	char org[64], project[64], env[64];
	struct vc_secret_set set;
};

struct vc_fallback_snap {
	long long uid, created;
	char login[65], asked[256], user_id[37], email[256];
	char *only;             /* comma-separated, or NULL: all */
	struct snap_env *env;
	size_t nenv, total;     /* total: secrets of every environment */
	unsigned char *pend;    /* npend reads served offline (rec_len) */
	size_t npend;
	unsigned char *served;  /* bitmap: what this run served */
	unsigned char key[32];  /* what it was opened with, if keyed */
	int keyed;
};

/* A read served offline: its time (8 bytes), a bit per secret. */
static size_t rec_len(const struct vc_fallback_snap *sn)
{
	return 8 + (sn->total + 7) / 8;
}

static void snap_free(struct vc_fallback_snap *sn)
{
	for (size_t j = 0; sn->env && j < sn->nenv; j++)
		vc_secret_set_free(&sn->env[j].set);
	free(sn->env);
	free(sn->only);
	free(sn->pend);
	free(sn->served);
	sodium_memzero(sn, sizeof(*sn));
}

/* ---- the key and the identity ---- */

static int snap_key(struct vc_session *s, unsigned char key[32],
		    struct vc_err *e)
{
	unsigned char master[32];
	int have = 0, rc = vc_audit_key(s, master, &have, e);

	/* Picks the fast implementations for this CPU (about 3x on a large
	 * snapshot); idempotent. */
	if (sodium_init() < 0)
		rc = vc_err_set(e, VC_EFAIL, "libsodium cannot start");

	if (rc < 0)
		return rc;
	if (!have)
		return vc_err_set(e, VC_EUSAGE, "--fallback needs the audit key "
				  "file (audit_key_file in %s), which seals "
				  "the snapshot", s->conf.path);
	crypto_kdf_derive_from_key(key, 32, 1, "vcfallbk", master);
	sodium_memzero(master, sizeof(master));
	return 0;
}

/* Who asks, as far as can be told without the database: the real uid,
 * its login, and the name given (--as, $VAULTCTL_USER, default_user;
 * "" for the user bound to the login). */
static void who_asks(struct vc_session *s, const char *as, long long *uid,
		     char login[65], char asked[256])
{
	const char *env = getenv("VAULTCTL_USER");
	const char *who = as ? as : env && *env ? env :
			  vc_host_mode() ? NULL : s->conf.default_user;
	struct vc_err ignored;

	*uid = (long long)getuid();
	if (vc_host_login(login, 65, &ignored) < 0)
		snprintf(login, 65, "#%lld", *uid);
	snprintf(asked, 256, "%s", who ? who : "");
}

/* ---- the file ---- */

static int read_all(const char *path, struct vc_buf *out, struct vc_err *e)
{
	int fd = vc_host_open(path, O_RDONLY | O_CLOEXEC, 0);
	struct stat st;
	ssize_t n = 1;

	if (fd < 0)
		return vc_err_set(e, VC_EUNAVAIL, "no snapshot at '%s': %s",
				  path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size > FILE_MAX ||
	    vc_buf_grow(out, (size_t)st.st_size + 1) < 0) {
		close(fd);
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' is unreadable",
				  path);
	}
	while (n > 0 && out->len < (size_t)st.st_size + 1) {
		n = read(fd, out->data + out->len, (size_t)st.st_size + 1 - out->len);
		if (n > 0)
			out->len += (size_t)n;
	}
	close(fd);
	return n < 0 ? vc_err_set(e, VC_EUNAVAIL, "cannot read '%s': %s", path,
				  strerror(errno)) : 0;
}

struct tmpfile {
	char path[4096];
	int fd;
};

static int make_tmp(void *arg)
{
	struct tmpfile *t = arg;

	return t->fd = mkstemp(t->path);
}

struct move {
	const char *from, *to;
};

static int move_tmp(void *arg)
{
	struct move *m = arg;

	return rename(m->from, m->to);
}

/* Temporary file beside path, 0600, rename: a reader finds the old
 * snapshot or the new one, never half of one.  durable: fsync first, so
 * that a crash cannot leave the new name on lost data either; the offline
 * path does without (its run waits on it; what it risks is the record of
 * the reads of the run before a crash of the machine). */
static int write_atomic(const char *path, const struct vc_buf *b,
			int durable, struct vc_err *e)
{
	struct tmpfile t = { "", -1 };
	size_t off = 0;
	ssize_t n = 0;
	int err = 0;

	if (snprintf(t.path, sizeof(t.path), "%s.XXXXXX", path) >=
	    (int)sizeof(t.path))
		return vc_err_set(e, VC_EUSAGE, "--fallback: path too long");
	if (vc_host_as_user(make_tmp, &t) < 0)
		return vc_err_set(e, VC_EFAIL, "--fallback: cannot create a file "
				  "beside '%s': %s", path, strerror(errno));
	if (fchmod(t.fd, 0600) < 0)
		err = errno;
	while (!err && off < b->len && (n = write(t.fd, b->data + off,
						   b->len - off)) > 0)
		off += (size_t)n;
	if (!err && off < b->len)
		err = n < 0 ? errno : EIO;
	if (!err && durable && fsync(t.fd) < 0)
		err = errno;
	if (close(t.fd) < 0 && !err)
		err = errno;
	if (!err && vc_host_as_user(move_tmp, &(struct move){ t.path, path }) < 0)
		err = errno;
	if (!err)
		return 0;
	unlink(t.path);
	return vc_err_set(e, VC_EFAIL, "--fallback: cannot write '%s': %s",
			  path, strerror(err));
}

/* ---- the sealed part: values and pending reads ---- */

static int put_u32(struct vc_buf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };

	return vc_buf_add(b, p, 4);
}

static int put_str(struct vc_buf *b, const void *p, size_t n)
{
	return put_u32(b, (uint32_t)n) < 0 ? VC_EFAIL : vc_buf_add(b, p, n);
}

static int put_set(struct vc_buf *b, const struct vc_secret_set *set)
{
	int rc = put_u32(b, (uint32_t)set->n);

	for (size_t i = 0; rc == 0 && i < set->n; i++) {
		const struct vc_secret_val *v = &set->v[i];
		rc = put_str(b, v->name, strlen(v->name));
		if (rc == 0)
			rc = put_str(b, v->id, strlen(v->id));
		if (rc == 0)
			rc = put_u32(b, (uint32_t)v->version);
		if (rc == 0)
			rc = put_str(b, v->value.data ? v->value.data : "",
				     v->value.len);
	}
	return rc;
}

static int put_body(struct vc_buf *b, const struct vc_fallback_snap *sn)
{
	int rc = 0;

	for (size_t j = 0; rc == 0 && j < sn->nenv; j++)
		rc = put_set(b, &sn->env[j].set);
	if (rc == 0)
		rc = put_u32(b, (uint32_t)sn->npend);
	if (rc == 0 && sn->npend)
		rc = vc_buf_add(b, sn->pend, sn->npend * rec_len(sn));
	return rc;
}

struct rd {
	const unsigned char *p;
	size_t left;
};

static int get_u32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	     (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

/* A string of the body into out (n bytes with its NUL), or a value. */
static int get_str(struct rd *r, char *out, size_t n, struct vc_buf *val)
{
	uint32_t len;

	if (get_u32(r, &len) < 0 || len > r->left || (out && len >= n))
		return -1;
	if (out) {
		memcpy(out, r->p, len);
		out[len] = '\0';
	} else if (vc_buf_add(val, r->p, len) < 0) {
		return -1;
	}
	r->p += len;
	r->left -= len;
	return 0;
}

static int get_secret(struct rd *r, struct vc_secret_val *v)
{
	uint32_t ver;

	v->value.secret = 1;
	if (get_str(r, v->name, sizeof(v->name), NULL) < 0 ||
	    get_str(r, v->id, sizeof(v->id), NULL) < 0 ||
	    get_u32(r, &ver) < 0 || ver > INT_MAX)
		return -1;
	v->version = (int)ver;
	return get_str(r, NULL, 0, &v->value);
}

static int get_set(struct rd *r, struct vc_secret_set *set)
{
	uint32_t n;

	/* A secret takes 16 bytes at least: no count the file cannot hold. */
	if (get_u32(r, &n) < 0 || n > r->left / 16 ||
	    !(set->v = calloc(n + 1, sizeof(*set->v))))
		return -1;
	for (; set->n < n; set->n++)
		if (get_secret(r, &set->v[set->n]) < 0)
			return -1;
	return 0;
}

static int get_body(struct rd *r, struct vc_fallback_snap *sn)
{
	uint32_t n;

	for (size_t j = 0; j < sn->nenv; j++) {
		if (get_set(r, &sn->env[j].set) < 0)
			return -1;
		sn->total += sn->env[j].set.n;
	}
	if (get_u32(r, &n) < 0 || n > r->left / rec_len(sn) ||
	    r->left != n * rec_len(sn) || !(sn->pend = malloc(r->left + 1)))
		return -1;
	memcpy(sn->pend, r->p, r->left);
	sn->npend = n;
	return 0;
}

/* ---- the header ---- */

static void env_json(cJSON *a, const struct snap_env *se)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", se->name);
	cJSON_AddStringToObject(o, "org_id", se->org_id);
	cJSON_AddStringToObject(o, "project_id", se->project_id);
	cJSON_AddStringToObject(o, "env_id", se->env_id);
	cJSON_AddStringToObject(o, "org", se->org);
	cJSON_AddStringToObject(o, "project", se->project);
	cJSON_AddStringToObject(o, "env", se->env);
	cJSON_AddItemToArray(a, o);
}

static char *header_json(const struct vc_fallback_snap *sn)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char *s;

	cJSON_AddNumberToObject(o, "v", 2);
	cJSON_AddNumberToObject(o, "uid", (double)sn->uid);
	cJSON_AddStringToObject(o, "login", sn->login);
	cJSON_AddStringToObject(o, "asked", sn->asked);
	cJSON_AddStringToObject(o, "user_id", sn->user_id);
	cJSON_AddStringToObject(o, "email", sn->email);
	a = cJSON_AddArrayToObject(o, "envs");
	for (size_t j = 0; j < sn->nenv; j++)
		env_json(a, &sn->env[j]);
	if (sn->only)
		cJSON_AddStringToObject(o, "only", sn->only);
	cJSON_AddNumberToObject(o, "created", (double)sn->created);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int hdr_str(const cJSON *o, const char *k, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
		return -1;
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int hdr_num(const cJSON *o, const char *k, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsNumber(v))
		return -1;
	*out = (long long)v->valuedouble;
	return 0;
}

#define HDR_STR(o, k, out) hdr_str(o, k, out, sizeof(out))

static int env_parse(const cJSON *o, struct snap_env *se)
{
	return HDR_STR(o, "name", se->name) < 0 ||
	       HDR_STR(o, "org_id", se->org_id) < 0 ||
	       HDR_STR(o, "project_id", se->project_id) < 0 ||
	       HDR_STR(o, "env_id", se->env_id) < 0 ||
	       HDR_STR(o, "org", se->org) < 0 ||
	       HDR_STR(o, "project", se->project) < 0 ||
	       HDR_STR(o, "env", se->env) < 0 ? -1 : 0;
}

static int envs_parse(const cJSON *a, struct vc_fallback_snap *sn)
{
	const cJSON *o;
	int n = cJSON_GetArraySize(a);

	if (!cJSON_IsArray(a) || n < 1 ||
	    !(sn->env = calloc((size_t)n, sizeof(*sn->env))))
		return -1;
	cJSON_ArrayForEach(o, a)
		if (env_parse(o, &sn->env[sn->nenv++]) < 0)
			return -1;
	return 0;
}

static int header_parse(const char *p, size_t n, struct vc_fallback_snap *sn)
{
	cJSON *o = cJSON_ParseWithLength(p, n), *only;
	long long v = 0;
	int bad;

	only = cJSON_GetObjectItemCaseSensitive(o, "only");
	bad = !o || hdr_num(o, "v", &v) < 0 || v != 2 ||
	      hdr_num(o, "uid", &sn->uid) < 0 ||
	      hdr_num(o, "created", &sn->created) < 0 ||
	      HDR_STR(o, "login", sn->login) < 0 ||
	      HDR_STR(o, "asked", sn->asked) < 0 ||
	      HDR_STR(o, "user_id", sn->user_id) < 0 ||
	      HDR_STR(o, "email", sn->email) < 0 ||
	      envs_parse(cJSON_GetObjectItemCaseSensitive(o, "envs"), sn) < 0 ||
	      (only && !(cJSON_IsString(only) &&
			 (sn->only = strdup(only->valuestring))));
	cJSON_Delete(o);
	return bad ? -1 : 0;
}

/* ---- sealing ---- */

static int seal(struct vc_session *s, const struct vc_fallback_snap *sn,
		struct vc_buf *out, struct vc_err *e)
{
	struct vc_buf body = VC_BUF_INIT;
	unsigned char key[32], *ad;
	char *hdr = header_json(sn);
	size_t hl = hdr ? strlen(hdr) : 0, adlen = MAGIC_LEN + 4 + hl;
	int rc = !hdr ? vc_err_set(e, VC_EFAIL, "out of memory") :
		 sn->keyed ? 0 : snap_key(s, key, e);

	if (rc == 0 && sn->keyed)
		memcpy(key, sn->key, sizeof(key));
	body.secret = 1;
	if (rc == 0 && (vc_buf_add(out, MAGIC, MAGIC_LEN) < 0 ||
			put_str(out, hdr, hl) < 0 || put_body(&body, sn) < 0 ||
			vc_buf_grow(out, NONCE_LEN + body.len + TAG_LEN) < 0))
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0) {
		ad = (unsigned char *)out->data;
		randombytes_buf(out->data + adlen, NONCE_LEN);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			(unsigned char *)out->data + adlen + NONCE_LEN, NULL,
			(unsigned char *)body.data, body.len, ad, adlen, NULL,
			(unsigned char *)out->data + adlen, key);
		out->len = adlen + NONCE_LEN + body.len + TAG_LEN;
	}
	sodium_memzero(key, sizeof(key));
	vc_buf_release(&body);
	free(hdr);
	return rc;
}

static int tampered(const char *path, struct vc_err *e)
{
	return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' does not open under "
			  "the tools' key (damaged, altered, or not one of "
			  "theirs): not used", path);
}

/* The header of the file f into sn, *adlen: the bytes it covers. */
static int open_header(const char *path, const struct vc_buf *f,
		       struct vc_fallback_snap *sn, size_t *adlen,
		       struct vc_err *e)
{
	struct rd r = { (unsigned char *)f->data + MAGIC_LEN,
			f->len > MAGIC_LEN ? f->len - MAGIC_LEN : 0 };
	uint32_t hl = 0;

	if (f->len >= MAGIC_LEN && !memcmp(f->data, MAGIC_OLD, MAGIC_LEN))
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' was written by "
				  "an older vaultctl: not used (the next read "
				  "that reaches the database rewrites it)", path);
	if (f->len < MAGIC_LEN || memcmp(f->data, MAGIC, MAGIC_LEN) ||
	    get_u32(&r, &hl) < 0 || hl > HDR_MAX ||
	    r.left < (size_t)hl + NONCE_LEN + TAG_LEN ||
	    header_parse((char *)r.p, hl, sn) < 0)
		return tampered(path, e);
	*adlen = MAGIC_LEN + 4 + hl;
	return 0;
}

/* Opens the snapshot at path into sn: VC_EUNAVAIL when it is missing or
 * does not open. */
static int snap_load(struct vc_session *s, const char *path,
		     struct vc_fallback_snap *sn, struct vc_err *e)
{
	struct vc_buf f = VC_BUF_INIT, body = VC_BUF_INIT;
	unsigned char key[32];
	unsigned long long blen = 0;
	size_t adlen = 0;
	struct rd r;
	int rc;

	memset(sn, 0, sizeof(*sn));
	body.secret = 1;
	rc = read_all(path, &f, e);
	if (rc == 0)
		rc = open_header(path, &f, sn, &adlen, e);
	if (rc == 0)
		rc = snap_key(s, key, e);
	/* Kept for the record of this run's reads, sealed under it again. */
	if (rc == 0) {
		memcpy(sn->key, key, sizeof(key));
		sn->keyed = 1;
	}
	if (rc == 0 && vc_buf_grow(&body, f.len - adlen) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0 && crypto_aead_xchacha20poly1305_ietf_decrypt(
		    (unsigned char *)body.data, &blen, NULL,
		    (unsigned char *)f.data + adlen + NONCE_LEN,
		    f.len - adlen - NONCE_LEN, (unsigned char *)f.data, adlen,
		    (unsigned char *)f.data + adlen, key) != 0)
		rc = tampered(path, e);
	body.len = (size_t)blen;
	r = (struct rd){ (unsigned char *)body.data, body.len };
	if (rc == 0 && get_body(&r, sn) < 0)
		rc = tampered(path, e);
	sodium_memzero(key, sizeof(key));
	vc_buf_release(&body);
	vc_buf_release(&f);
	if (rc < 0)
		snap_free(sn);
	return rc;
}

static int snap_save(struct vc_session *s, const char *path,
		     const struct vc_fallback_snap *sn, int durable,
		     struct vc_err *e)
{
	struct vc_buf out = VC_BUF_INIT;
	int rc = seal(s, sn, &out, e);

	if (rc == 0)
		rc = write_atomic(path, &out, durable, e);
	vc_buf_release(&out);
	return rc;
}

/* ---- the options ---- */

int vc_fallback_age_parse(const char *s, long long *out, struct vc_err *e)
{
	static const char units[] = "smhdw";
	static const long long mult[] = { 1, 60, 3600, 86400, 604800 };
	char *end = NULL;
	long long n;
	const char *u;

	errno = 0;
	n = s && *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : -1;
	u = end && *end ? strchr(units, *end) : units;
	if (n < 1 || errno || !u || (end && *end && end[1]) ||
	    n > 315360000LL / mult[u - units])
		return vc_err_set(e, VC_EUSAGE, "--fallback-max-age: '%.40s' is "
				  "not a duration from 1s to 10 years (90s, "
				  "30m, 24h, 7d, 2w)", s ? s : "");
	*out = n * mult[u - units];
	return 0;
}

static int dir_writable(void *arg)
{
	return access(arg, W_OK | X_OK);
}

int vc_fallback_check_path(const char *path, struct vc_err *e)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!*path || (slash && !slash[1]))
		return vc_err_set(e, VC_EUSAGE, "--fallback needs a file name");
	if (snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) +
		     (slash == path) : 1, slash ? path : ".") >= (int)sizeof(dir))
		return vc_err_set(e, VC_EUSAGE, "--fallback: path too long");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vc_err_set(e, VC_EUSAGE, "--fallback: no directory '%s' "
				  "for the snapshot", dir);
	if (vc_host_as_user(dir_writable, dir) < 0)
		return vc_err_set(e, VC_EPERM, "--fallback: cannot write in '%s': "
				  "%s", dir, strerror(errno));
	return 0;
}

/* ---- whether the snapshot may stand for this read ---- */

/* Whether the text asked names the environment se: each part its name
 * (case ignored, as names compare) or its id. */
static int env_is(const char *text, const struct snap_env *se)
{
	const char *name[3] = { se->org, se->project, se->env };
	const char *id[3] = { se->org_id, se->project_id, se->env_id };
	char parts[4][256];
	struct vc_err ignored;
	int n = 0;

	if (vc_ref_split(text, parts, &n, &ignored) < 0 || n != 3)
		return 0;
	for (int i = 0; i < 3; i++)
		if (strcasecmp(parts[i], name[i]) &&
		    !(vc_is_uuid(parts[i]) && !strcasecmp(parts[i], id[i])))
			return 0;
	return 1;
}

static void env_list(struct vc_buf *b, const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vc_buf_printf(b, "%s'%.200s'", i ? ", " : "", texts[i]);
}

/* order[i]: the snapshot's environment that stands for texts[i]; the
 * same set, in any order, or a refusal naming both. */
static int match_envs(const struct vc_fallback_snap *sn, const char *path,
		      const char *const *texts, size_t n, size_t *order,
		      struct vc_err *e)
{
	struct vc_buf held = VC_BUF_INIT, asked = VC_BUF_INIT;
	unsigned char *taken = calloc(sn->nenv + 1, 1);
	size_t i, j = 0;
	const char **names;

	for (i = 0; taken && n == sn->nenv && i < n; i++) {
		for (j = 0; j < sn->nenv; j++)
			if (!taken[j] && env_is(texts[i], &sn->env[j]))
				break;
		if (j == sn->nenv)
			break;
		taken[j] = 1;
		order[i] = j;
	}
	free(taken);
	/* n of them, each a different one of the n held: all of them. */
	if (n == sn->nenv && i == n)
		return 0;
	names = calloc(sn->nenv + 1, sizeof(*names));
	for (j = 0; names && j < sn->nenv; j++)
		names[j] = sn->env[j].name;
	if (names)
		env_list(&held, names, sn->nenv);
	env_list(&asked, texts, n);
	vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' holds %s, not %s: not used",
		   path, held.data ? held.data : "?",
		   asked.data ? asked.data : "?");
	free(names);
	vc_buf_release(&held);
	vc_buf_release(&asked);
	return VC_EUNAVAIL;
}

/* Why the snapshot may not stand for this read; 0 when it may. */
static int snap_refuses(struct vc_session *s, const struct vc_fallback *fb,
			const struct vc_fallback_snap *sn,
			const char *const *texts, size_t n, size_t *order,
			struct vc_err *e)
{
	char login[65], asked[256];
	long long uid, age = (long long)time(NULL) - sn->created;

	who_asks(s, fb->as, &uid, login, asked);
	/* With the database up (Vault away) the acting user is known, and
	 * proved; without it, a password cannot be checked at all. */
	if (!s->have_user && s->conf.authenticate &&
	    !strcmp(s->conf.authenticate, "password"))
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' not used: "
				  "without the database no password can be "
				  "checked", fb->path);
	if (uid != sn->uid || strcmp(login, sn->login) ||
	    (s->have_user ? strcmp(s->user.id, sn->user_id) :
	     strcasecmp(asked, sn->asked)))
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' was taken for "
				  "another user: not used", fb->path);
	if (match_envs(sn, fb->path, texts, n, order, e) < 0)
		return VC_EUNAVAIL;
	if (fb->max_age >= 0 && age > fb->max_age)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' is %llds old, "
				  "older than --fallback-max-age (%llds): not "
				  "used", fb->path, age, fb->max_age);
	return 0;
}

static int in_only(const char *name, const char *const *only)
{
	if (!only)
		return 1;
	for (; *only; only++)
		if (!strcasecmp(name, *only))
			return 1;
	return 0;
}

static int snap_names(const struct vc_fallback_snap *sn, const char *name)
{
	for (size_t j = 0; j < sn->nenv; j++)
		for (size_t i = 0; i < sn->env[j].set.n; i++)
			if (!strcasecmp(sn->env[j].set.v[i].name, name))
				return 1;
	return 0;
}

/* Every name of only in one environment of the snapshot at least, as
 * online; a snapshot of some names serves only reads of some names. */
static int snap_has(const struct vc_fallback_snap *sn, const char *path,
		    const char *const *only, struct vc_err *e)
{
	if (!only && sn->only)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' holds only %s, "
				  "not whole environments: not used", path,
				  sn->only);
	for (; only && *only; only++)
		if (!snap_names(sn, *only))
			return vc_err_set(e, VC_EUNAVAIL, "secret '%.80s' is not "
					  "in snapshot '%s': not used", *only,
					  path);
	return 0;
}

/* ---- serving ---- */

/* ref as the snapshot names it, left unresolved (depth 0, no role): the
 * database resolves it once it answers (run --watch). */
static void ref_from(const struct snap_env *se, struct vc_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	snprintf(ref->org_id, sizeof(ref->org_id), "%s", se->org_id);
	snprintf(ref->project_id, sizeof(ref->project_id), "%s", se->project_id);
	snprintf(ref->env_id, sizeof(ref->env_id), "%s", se->env_id);
	snprintf(ref->org, sizeof(ref->org), "%s", se->org);
	snprintf(ref->project, sizeof(ref->project), "%s", se->project);
	snprintf(ref->env, sizeof(ref->env), "%s", se->env);
	snprintf(ref->text, sizeof(ref->text), "%s", se->name);
}

/* Copies into out the secrets of se that only asks for, marking them in
 * sn->served from bit first on. */
static int take_set(struct vc_fallback_snap *sn, const struct snap_env *se,
		    size_t first, const char *const *only,
		    struct vc_secret_set *out)
{
	out->v = calloc(se->set.n + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (size_t i = 0; i < se->set.n; i++) {
		struct vc_secret_val *v = &out->v[out->n];
		if (!in_only(se->set.v[i].name, only))
			continue;
		*v = se->set.v[i];
		vc_buf_init(&v->value, 1);
		out->n++;
		if (vc_buf_add(&v->value, se->set.v[i].value.data ?
			       se->set.v[i].value.data : "",
			       se->set.v[i].value.len) < 0)
			return -1;
		sn->served[(first + i) / 8] |= (unsigned char)(1u << (first + i) % 8);
	}
	return 0;
}

/* m from the snapshot: texts[i]'s environment is order[i]'s. */
static int take_envs(struct vc_fallback_snap *sn, const size_t *order,
		     size_t n, const char *const *only, struct vc_ref *refs,
		     struct vc_secret_envs *m, struct vc_err *e)
{
	size_t *first = calloc(sn->nenv + 1, sizeof(*first));
	int rc = 0;

	m->refs = refs;
	m->sets = calloc(n + 1, sizeof(*m->sets));
	sn->served = calloc(rec_len(sn), 1);
	if (!first || !m->sets || !sn->served)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	else
		m->n = n;
	for (size_t j = 1; rc == 0 && j <= sn->nenv; j++)
		first[j] = first[j - 1] + sn->env[j - 1].set.n;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		ref_from(&sn->env[order[i]], &refs[i]);
		if (take_set(sn, &sn->env[order[i]], first[order[i]], only,
			     &m->sets[i]) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
	}
	free(first);
	return rc == 0 ? vc_secret_envs_merge(m, e) : rc;
}

static int serve(struct vc_session *s, struct vc_fallback *fb,
		 const char *const *texts, struct vc_ref *refs, size_t n,
		 const char *const *only, struct vc_secret_envs *m,
		 struct vc_err *e)
{
	struct vc_err why, was = *e;    /* the outage, said first */
	struct vc_fallback_snap *sn = calloc(1, sizeof(*sn));
	size_t *order = calloc(n + 1, sizeof(*order));
	int rc;

	vc_err_clear(&why);
	rc = sn && order ? 0 : vc_err_set(&why, VC_EFAIL, "out of memory");
	if (rc == 0)
		rc = snap_load(s, fb->path, sn, &why);
	if (rc == 0)
		rc = snap_refuses(s, fb, sn, texts, n, order, &why);
	if (rc == 0)
		rc = snap_has(sn, fb->path, only, &why);
	if (rc == 0)
		rc = take_envs(sn, order, n, only, refs, m, &why);
	free(order);
	if (rc < 0) {
		vc_secret_envs_free(m);
		if (sn)
			snap_free(sn);
		free(sn);
		return vc_err_set(e, rc == VC_EFAIL ? rc : VC_EUNAVAIL,
				  "%s; and %s", was.msg, why.msg);
	}
	fb->snap = sn;
	fb->offline = 1;
	fb->age = (long long)time(NULL) - sn->created;
	if (s->notify) {
		char note[sizeof(was.msg) + 4200];
		snprintf(note, sizeof(note), "warning: %s; using snapshot '%s' "
			 "taken %llds ago", was.msg, fb->path, fb->age);
		s->notify(s->notify_ctx, note);
	}
	return 0;
}

int vc_fallback_resolve(struct vc_session *s, const struct vc_fallback *fb,
			const char *const *texts, struct vc_ref *refs, size_t n,
			struct vc_err *e)
{
	struct vc_db *db;
	int rc = vc_session_db(s, VC_DB_METADATA, &db, e);

	if (rc == 0 && !s->have_user) {
		rc = vc_session_actor(s, fb ? fb->as : NULL, 0, e);
		/* A password is asked for at the start, on the terminal the
		 * command may have had; not later (no snapshot serves
		 * without it either). */
		if (rc == 0 && vc_session_wants_password(s)) {
			s->have_user = 0;
			rc = vc_err_set(e, VC_EPERM, "no password was checked at "
					"the start (the database was "
					"unavailable)");
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (refs[i].depth == 0)
			rc = vc_ref_resolve(s, db, texts[i], 3, &refs[i], e);
	return rc;
}

int vc_fallback_read(struct vc_session *s, struct vc_fallback *fb,
		     const char *const *texts, struct vc_ref *refs, size_t n,
		     const char *const *only, int concurrency, int cause,
		     struct vc_secret_envs *m, struct vc_err *e)
{
	int rc = cause;

	memset(m, 0, sizeof(*m));
	if (fb)
		fb->offline = 0;
	if (rc == 0)
		rc = vc_fallback_resolve(s, fb, texts, refs, n, e);
	/* export and run use nothing else of the database until they audit
	 * or drop the sets: the rows may be written while the values are
	 * read. */
	if (rc == 0)
		rc = vc_secret_read_envs(s, refs, n, only, concurrency, m, e);
	if (rc != VC_EUNAVAIL || !fb || !fb->path)
		return rc;
	for (size_t i = 0; i < n; i++)
		refs[i].depth = 0;
	return serve(s, fb, texts, refs, n, only, m, e);
}

/* ---- recording and auditing ---- */

/* Offline: this run's reads join the snapshot's pending ones. */
static int record_offline(struct vc_session *s, struct vc_fallback *fb,
			  struct vc_err *e)
{
	struct vc_fallback_snap *sn = fb->snap;
	size_t len = rec_len(sn);
	unsigned char *p = realloc(sn->pend, (sn->npend + 1) * len);
	unsigned long long now = (unsigned long long)time(NULL);

	if (!p)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	sn->pend = p;
	p += sn->npend++ * len;
	for (int k = 0; k < 8; k++)
		p[k] = (unsigned char)(now >> (56 - 8 * k));
	memcpy(p + 8, sn->served, len - 8);
	return snap_save(s, fb->path, sn, 0, e);
}

static long long rec_time(const unsigned char *p)
{
	unsigned long long t = 0;

	for (int k = 0; k < 8; k++)
		t = t << 8 | p[k];
	return (long long)t;
}

/* Whether the read served offline at p gave secret k of the snapshot. */
static int rec_has(const unsigned char *p, size_t k)
{
	return p[8 + k / 8] >> k % 8 & 1;
}

struct pend_job {
	struct vc_session *s;
	const struct vc_fallback_snap *sn;
	struct vc_audit_ev *ev;
	size_t *start;          /* environment j's events: start[j].. */
};

/* A write per environment, each naming its own organization's chain, a
 * thousand rows at most: a week offline is many reads. */
static int audit_pending_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct pend_job *j = arg;
	int rc = 0;

	for (size_t k = 0; k < j->sn->nenv; k++)
		for (size_t i = j->start[k]; rc == 0 && i < j->start[k + 1];
		     i += 1000)
			rc = vc_audit_write(j->s, db, j->ev + i, j->start[k + 1]
					    - i < 1000 ? j->start[k + 1] - i :
					    1000, e);
	return rc;
}

static size_t pending_count(const struct vc_fallback_snap *sn)
{
	size_t n = 0;

	for (size_t r = 0; r < sn->npend; r++)
		for (size_t k = 0; k < sn->total; k++)
			n += (size_t)rec_has(sn->pend + r * rec_len(sn), k);
	return n;
}

/* The events of the pending reads, environment by environment; det
 * holds their details. */
static void pending_events(const struct vc_fallback_snap *sn,
			   struct vc_audit_ev *ev, char (*det)[96],
			   size_t *start)
{
	size_t n = 0, first = 0;

	for (size_t j = 0; j < sn->nenv; first += sn->env[j++].set.n) {
		start[j] = n;
		for (size_t r = 0; r < sn->npend; r++) {
			const unsigned char *p = sn->pend + r * rec_len(sn);
			time_t t = (time_t)rec_time(p);
			struct tm tm;
			char at[20];
			gmtime_r(&t, &tm);
			strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
			for (size_t i = 0; i < sn->env[j].set.n; i++) {
				const struct vc_secret_val *v = &sn->env[j].set.v[i];
				if (!rec_has(p, first + i))
					continue;
				snprintf(det[n], sizeof(det[n]), "{\"version\":%d,"
					 "\"offline\":true,\"at\":\"%s\"}",
					 v->version, at);
				ev[n] = (struct vc_audit_ev){ sn->env[j].org_id,
					"secret.read", "secret", v->id, det[n] };
				n++;
			}
		}
	}
	start[sn->nenv] = n;
}

/* Writes the events of the pending reads of sn, as the user they were
 * served to. */
static int audit_snap(struct vc_session *s, const struct vc_fallback_snap *sn,
		      struct vc_err *e)
{
	size_t n = pending_count(sn);
	struct vc_audit_ev *ev = calloc(n + 1, sizeof(*ev));
	char (*det)[96] = calloc(n + 1, sizeof(*det));
	size_t *start = calloc(sn->nenv + 1, sizeof(*start));
	struct vc_user me = s->user;
	int rc, had = s->have_user;
	struct vc_db *db;

	rc = ev && det && start ? vc_session_db(s, VC_DB_METADATA, &db, e) :
	     vc_err_set(e, VC_EFAIL, "out of memory");
	if (rc == 0 && n > 0) {
		pending_events(sn, ev, det, start);
		/* The rows name whom the values went to, not who runs now. */
		snprintf(s->user.id, sizeof(s->user.id), "%s", sn->user_id);
		snprintf(s->user.email, sizeof(s->user.email), "%s", sn->email);
		s->have_user = 1;
		rc = vc_db_txn(db, audit_pending_txn, &(struct pend_job){ s, sn,
			       ev, start }, e);
		s->user = me;
		s->have_user = had;
	}
	free(ev);
	free(det);
	free(start);
	return rc;
}

/* The reads an earlier run served from the snapshot at path.  A snapshot
 * that does not open has nothing to audit. */
static int audit_pending(struct vc_session *s, const char *path,
			 struct vc_err *e)
{
	struct vc_fallback_snap sn;
	struct vc_err ignored;
	int rc;

	if (snap_load(s, path, &sn, &ignored) < 0)
		return 0;
	rc = sn.npend ? audit_snap(s, &sn, e) : 0;
	snap_free(&sn);
	return rc;
}

static char *only_list(const char *const *only)
{
	struct vc_buf b = VC_BUF_INIT;

	for (; only && *only; only++)
		if (vc_buf_printf(&b, "%s%s", b.len ? "," : "", *only) < 0) {
			vc_buf_release(&b);
			return NULL;
		}
	return vc_buf_detach(&b, NULL);
}

static int by_id(const void *a, const void *b)
{
	const struct vc_secret_val *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

/* set's secrets, borrowed into out: the values merged took from it (the
 * winners, by id) from merged, the others from set itself. */
static int borrow_set(const struct vc_secret_set *set,
		      const struct vc_secret_val *const *won, size_t nwon,
		      struct vc_secret_set *out)
{
	out->v = calloc(set->n + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (out->n = 0; out->n < set->n; out->n++) {
		const struct vc_secret_val *v = &set->v[out->n], *const *w;
		w = bsearch(&v, won, nwon, sizeof(*won), by_id);
		out->v[out->n] = w ? **w : *v;
	}
	return 0;
}

static void env_from(const struct vc_ref *ref, struct snap_env *se)
{
	snprintf(se->name, sizeof(se->name), "%s", ref->text);
	snprintf(se->org_id, sizeof(se->org_id), "%s", ref->org_id);
	snprintf(se->project_id, sizeof(se->project_id), "%s", ref->project_id);
	snprintf(se->env_id, sizeof(se->env_id), "%s", ref->env_id);
	snprintf(se->org, sizeof(se->org), "%s", ref->org);
	snprintf(se->project, sizeof(se->project), "%s", ref->project);
	snprintf(se->env, sizeof(se->env), "%s", ref->env);
}

/* sn holding m's environments, every secret each one gave (the values
 * borrowed: free the arrays only), nothing pending. */
static int snap_of(const struct vc_secret_envs *m, struct vc_fallback_snap *sn)
{
	const struct vc_secret_val **won = calloc(m->merged.n + 1, sizeof(*won));
	int rc = won && (sn->env = calloc(m->n + 1, sizeof(*sn->env))) ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < m->merged.n; i++)
		won[i] = &m->merged.v[i];
	if (rc == 0)
		qsort(won, m->merged.n, sizeof(*won), by_id);
	for (sn->nenv = 0; rc == 0 && sn->nenv < m->n; sn->nenv++) {
		env_from(&m->refs[sn->nenv], &sn->env[sn->nenv]);
		rc = borrow_set(&m->sets[sn->nenv], won, m->merged.n,
				&sn->env[sn->nenv].set);
	}
	free(won);
	return rc;
}

/* Online: the snapshot of what m holds, nothing pending. */
static int save_online(struct vc_session *s, const struct vc_fallback *fb,
		       const struct vc_secret_envs *m, const char *const *only,
		       struct vc_err *e)
{
	struct vc_fallback_snap sn;
	int rc;

	memset(&sn, 0, sizeof(sn));
	who_asks(s, fb->as, &sn.uid, sn.login, sn.asked);
	snprintf(sn.user_id, sizeof(sn.user_id), "%s", s->user.id);
	snprintf(sn.email, sizeof(sn.email), "%s", s->user.email);
	sn.created = (long long)time(NULL);
	rc = snap_of(m, &sn) < 0 || (only && !(sn.only = only_list(only))) ?
	     vc_err_set(e, VC_EFAIL, "out of memory") : 0;
	if (rc == 0)
		rc = snap_save(s, fb->path, &sn, 1, e);
	for (size_t j = 0; sn.env && j < sn.nenv; j++)
		free(sn.env[j].set.v);
	free(sn.env);
	free(sn.only);
	return rc;
}

int vc_fallback_commit(struct vc_session *s, struct vc_fallback *fb,
		       struct vc_secret_envs *m, const char *const *only,
		       struct vc_err *e)
{
	int rc;

	if (!fb || !fb->path)
		return vc_secret_audit_envs(s, m, e);
	if (fb->offline) {
		rc = record_offline(s, fb, e);
		vc_fallback_release(fb);
		return rc;
	}
	rc = vc_secret_audit_envs(s, m, e);
	if (rc == 0)
		rc = audit_pending(s, fb->path, e);
	if (rc == 0)
		rc = save_online(s, fb, m, only, e);
	return rc;
}

void vc_fallback_release(struct vc_fallback *fb)
{
	if (fb && fb->snap) {
		snap_free(fb->snap);
		free(fb->snap);
		fb->snap = NULL;
	}
}
