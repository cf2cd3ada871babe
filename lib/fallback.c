/* fallback.c - the offline snapshot of run and export (fallback.h).
 *
 * The file is the caller's (written and read with their own rights), but
 * its contents are not theirs to read or forge: in host mode the key comes
 * from the audit key file, which only the tools' group may read.  The
 * snapshot key is derived from it with its own context, so that knowing a
 * snapshot key gives nothing on the audit chain.
 *
 * Layout: "VCFB1\n", the header's length (4 bytes, big-endian), the
 * header (JSON: identity, environment, time; no value), a nonce, and the
 * XChaCha20-Poly1305 ciphertext of the values and of the reads served
 * offline, with everything before the nonce as associated data: changing
 * the header breaks the seal as changing the values does.
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

#define MAGIC "VCFB1\n"
#define MAGIC_LEN 6
#define HDR_MAX 65536
#define FILE_MAX (256L << 20)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

/* A read served offline, audited later. */
struct pending {
	long long at;
	uint32_t idx;           /* into the snapshot's secrets */
};

struct snap {
	long long uid, created;
	char login[65], asked[256], user_id[37], email[256];
	char env[480], org_id[37], env_id[37];
	char org[64], project[64], envname[64];
	char *only;             /* comma-separated, or NULL: all */
	struct vc_secret_set set;
	struct pending *pend;
	size_t npend;
};

static void snap_free(struct snap *sn)
{
	free(sn->only);
	vc_secret_set_free(&sn->set);
	free(sn->pend);
	memset(sn, 0, sizeof(*sn));
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

/* "org/project/env" from the text as given, for the binding offline. */
static int env_name(const char *text, char out[480], struct vc_err *e)
{
	char parts[4][256];
	int n = 0, rc = vc_ref_split(text, parts, &n, e);

	if (rc < 0)
		return rc;
	if (n != 3)
		return vc_err_set(e, VC_EUSAGE, "'%s' is not ORG/PROJECT/ENV",
				  text);
	snprintf(out, 480, "%.63s/%.63s/%.63s", parts[0], parts[1], parts[2]);
	return 0;
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

static int put_body(struct vc_buf *b, const struct snap *sn)
{
	int rc = put_u32(b, (uint32_t)sn->set.n);

	for (size_t i = 0; rc == 0 && i < sn->set.n; i++) {
		const struct vc_secret_val *v = &sn->set.v[i];
		rc = put_str(b, v->name, strlen(v->name));
		if (rc == 0)
			rc = put_str(b, v->id, strlen(v->id));
		if (rc == 0)
			rc = put_u32(b, (uint32_t)v->version);
		if (rc == 0)
			rc = put_str(b, v->value.data ? v->value.data : "",
				     v->value.len);
	}
	if (rc == 0)
		rc = put_u32(b, (uint32_t)sn->npend);
	for (size_t i = 0; rc == 0 && i < sn->npend; i++) {
		rc = put_u32(b, (uint32_t)((unsigned long long)sn->pend[i].at >> 32));
		if (rc == 0)
			rc = put_u32(b, (uint32_t)sn->pend[i].at);
		if (rc == 0)
			rc = put_u32(b, sn->pend[i].idx);
	}
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

static int get_body(struct rd *r, struct snap *sn)
{
	uint32_t n, hi, lo;

	if (get_u32(r, &n) < 0 || n > r->left / 16 + 1 ||
	    !(sn->set.v = calloc(n + 1, sizeof(*sn->set.v))))
		return -1;
	for (; sn->set.n < n; sn->set.n++)
		if (get_secret(r, &sn->set.v[sn->set.n]) < 0)
			return -1;
	if (get_u32(r, &n) < 0 || n > r->left / 12 ||
	    !(sn->pend = calloc(n + 1, sizeof(*sn->pend))))
		return -1;
	for (; sn->npend < n; sn->npend++) {
		struct pending *p = &sn->pend[sn->npend];
		if (get_u32(r, &hi) < 0 || get_u32(r, &lo) < 0 ||
		    get_u32(r, &p->idx) < 0 || p->idx >= sn->set.n)
			return -1;
		p->at = (long long)((unsigned long long)hi << 32 | lo);
	}
	return r->left ? -1 : 0;
}

/* ---- the header ---- */

static char *header_json(const struct snap *sn)
{
	cJSON *o = cJSON_CreateObject(), *env;
	char *s;

	cJSON_AddNumberToObject(o, "v", 1);
	cJSON_AddNumberToObject(o, "uid", (double)sn->uid);
	cJSON_AddStringToObject(o, "login", sn->login);
	cJSON_AddStringToObject(o, "asked", sn->asked);
	cJSON_AddStringToObject(o, "user_id", sn->user_id);
	cJSON_AddStringToObject(o, "email", sn->email);
	env = cJSON_AddObjectToObject(o, "env");
	cJSON_AddStringToObject(env, "name", sn->env);
	cJSON_AddStringToObject(env, "org_id", sn->org_id);
	cJSON_AddStringToObject(env, "env_id", sn->env_id);
	cJSON_AddStringToObject(env, "org", sn->org);
	cJSON_AddStringToObject(env, "project", sn->project);
	cJSON_AddStringToObject(env, "env", sn->envname);
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

static int header_parse(const char *p, size_t n, struct snap *sn)
{
	cJSON *o = cJSON_ParseWithLength(p, n), *env, *only;
	long long v = 0;
	int bad;

	env = cJSON_GetObjectItemCaseSensitive(o, "env");
	only = cJSON_GetObjectItemCaseSensitive(o, "only");
	bad = !o || hdr_num(o, "v", &v) < 0 || v != 1 ||
	      hdr_num(o, "uid", &sn->uid) < 0 ||
	      hdr_num(o, "created", &sn->created) < 0 ||
	      hdr_str(o, "login", sn->login, sizeof(sn->login)) < 0 ||
	      hdr_str(o, "asked", sn->asked, sizeof(sn->asked)) < 0 ||
	      hdr_str(o, "user_id", sn->user_id, sizeof(sn->user_id)) < 0 ||
	      hdr_str(o, "email", sn->email, sizeof(sn->email)) < 0 ||
	      hdr_str(env, "name", sn->env, sizeof(sn->env)) < 0 ||
	      hdr_str(env, "org_id", sn->org_id, sizeof(sn->org_id)) < 0 ||
	      hdr_str(env, "env_id", sn->env_id, sizeof(sn->env_id)) < 0 ||
	      hdr_str(env, "org", sn->org, sizeof(sn->org)) < 0 ||
	      hdr_str(env, "project", sn->project, sizeof(sn->project)) < 0 ||
	      hdr_str(env, "env", sn->envname, sizeof(sn->envname)) < 0 ||
	      (only && !(cJSON_IsString(only) &&
			 (sn->only = strdup(only->valuestring))));
	cJSON_Delete(o);
	return bad ? -1 : 0;
}

/* ---- sealing ---- */

static int seal(struct vc_session *s, const struct snap *sn,
		struct vc_buf *out, struct vc_err *e)
{
	struct vc_buf body = VC_BUF_INIT;
	unsigned char key[32], *ad;
	char *hdr = header_json(sn);
	size_t hl = hdr ? strlen(hdr) : 0, adlen = MAGIC_LEN + 4 + hl;
	int rc = hdr ? snap_key(s, key, e) : vc_err_set(e, VC_EFAIL,
							 "out of memory");

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

/* Opens the snapshot at path into sn: VC_EUNAVAIL when it is missing or
 * does not open. */
static int snap_load(struct vc_session *s, const char *path,
		     struct snap *sn, struct vc_err *e)
{
	struct vc_buf f = VC_BUF_INIT, body = VC_BUF_INIT;
	unsigned char key[32];
	unsigned long long blen = 0;
	struct rd r;
	uint32_t hl = 0;
	size_t adlen;
	int rc = read_all(path, &f, e);

	body.secret = 1;
	memset(sn, 0, sizeof(*sn));
	r = (struct rd){ (unsigned char *)f.data + MAGIC_LEN,
			 f.len > MAGIC_LEN ? f.len - MAGIC_LEN : 0 };
	if (rc == 0 && (f.len < MAGIC_LEN || memcmp(f.data, MAGIC, MAGIC_LEN) ||
			get_u32(&r, &hl) < 0 || hl > HDR_MAX ||
			r.left < (size_t)hl + NONCE_LEN + TAG_LEN ||
			header_parse((char *)r.p, hl, sn) < 0))
		rc = tampered(path, e);
	adlen = MAGIC_LEN + 4 + hl;
	if (rc == 0)
		rc = snap_key(s, key, e);
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
		     const struct snap *sn, int durable, struct vc_err *e)
{
	struct vc_buf out = VC_BUF_INIT;
	int rc = seal(s, sn, &out, e);

	if (rc == 0)
		rc = write_atomic(path, &out, durable, e);
	vc_buf_release(&out);
	return rc;
}

/* ---- serving offline ---- */

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

/* Why the snapshot may not stand for this read; 0 when it may. */
static int snap_refuses(struct vc_session *s, const struct vc_fallback *fb,
			const char *env, const struct snap *sn,
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
	if (strcasecmp(env, sn->env))
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' holds '%s', not "
				  "'%s': not used", fb->path, sn->env, env);
	if (fb->max_age >= 0 && age > fb->max_age)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' is %llds old, "
				  "older than --fallback-max-age (%llds): not "
				  "used", fb->path, age, fb->max_age);
	return 0;
}

static int in_only(const char *name, const char *const *only)
{
	for (; only && *only; only++)
		if (!strcasecmp(name, *only))
			return 1;
	return 0;
}

/* Moves the values only asks for (all: a snapshot of all) into set. */
static int take_values(struct snap *sn, const char *path,
		       const char *const *only, struct vc_secret_set *set,
		       struct vc_err *e)
{
	size_t n = 0;

	if (!only && sn->only)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' holds only %s, "
				  "not the whole environment: not used", path,
				  sn->only);
	for (const char *const *o = only; o && *o; o++) {
		size_t i = 0;
		while (i < sn->set.n && strcasecmp(sn->set.v[i].name, *o))
			i++;
		if (i == sn->set.n)
			return vc_err_set(e, VC_EUNAVAIL, "secret '%.80s' is not "
					  "in snapshot '%s': not used", *o, path);
	}
	if (!(set->v = calloc(sn->set.n + 1, sizeof(*set->v))))
		return vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t i = 0; i < sn->set.n; i++)
		if (!only || in_only(sn->set.v[i].name, only)) {
			set->v[n] = sn->set.v[i];
			/* the value moves: the snapshot keeps its copy */
			vc_buf_init(&set->v[n].value, 1);
			if (vc_buf_add(&set->v[n++].value, sn->set.v[i].value.data
				       ? sn->set.v[i].value.data : "",
				       sn->set.v[i].value.len) < 0) {
				set->n = n;
				return vc_err_set(e, VC_EFAIL, "out of memory");
			}
		}
	set->n = n;
	return 0;
}

static void ref_from(const struct snap *sn, struct vc_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	ref->depth = 3;
	snprintf(ref->org_id, sizeof(ref->org_id), "%s", sn->org_id);
	snprintf(ref->env_id, sizeof(ref->env_id), "%s", sn->env_id);
	snprintf(ref->org, sizeof(ref->org), "%s", sn->org);
	snprintf(ref->project, sizeof(ref->project), "%s", sn->project);
	snprintf(ref->env, sizeof(ref->env), "%s", sn->envname);
	snprintf(ref->text, sizeof(ref->text), "%s", sn->env);
}

int vc_fallback_serve(struct vc_session *s, struct vc_fallback *fb,
		      const char *text, const char *const *only, int cause,
		      struct vc_ref *ref, struct vc_secret_set *set,
		      struct vc_err *e)
{
	struct vc_err why, was = *e;    /* the outage, said first */
	struct snap sn;
	char env[480];
	int rc;

	if (cause != VC_EUNAVAIL || !fb->path)
		return cause;
	vc_err_clear(&why);
	memset(set, 0, sizeof(*set));
	rc = env_name(text, env, &why);
	if (rc == 0)
		rc = snap_load(s, fb->path, &sn, &why);
	if (rc < 0)
		return vc_err_set(e, VC_EUNAVAIL, "%s; and %s", was.msg, why.msg);
	rc = snap_refuses(s, fb, env, &sn, &why);
	if (rc == 0)
		rc = take_values(&sn, fb->path, only, set, &why);
	if (rc == 0) {
		ref_from(&sn, ref);
		fb->offline = 1;
		fb->age = (long long)time(NULL) - sn.created;
	} else {
		vc_secret_set_free(set);
		rc = vc_err_set(e, rc, "%s; and %s", was.msg, why.msg);
	}
	snap_free(&sn);
	return rc;
}

/* ---- recording and auditing ---- */

/* Offline: the reads of set join the snapshot's pending ones. */
static int record_offline(struct vc_session *s, const struct vc_fallback *fb,
			  const struct vc_secret_set *set, struct vc_err *e)
{
	struct snap sn;
	struct pending *p;
	long long now = (long long)time(NULL);
	int rc = snap_load(s, fb->path, &sn, e);

	if (rc < 0)
		return rc;
	p = realloc(sn.pend, (sn.npend + set->n + 1) * sizeof(*p));
	if (!p) {
		snap_free(&sn);
		return vc_err_set(e, VC_EFAIL, "out of memory");
	}
	sn.pend = p;
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < sn.set.n; j++)
			if (!strcmp(sn.set.v[j].id, set->v[i].id))
				sn.pend[sn.npend++] = (struct pending){ now,
					(uint32_t)j };
	rc = snap_save(s, fb->path, &sn, 0, e);
	snap_free(&sn);
	return rc;
}

struct pend_job {
	struct vc_session *s;
	const struct vc_audit_ev *ev;
	size_t n;
};

static int audit_pending_txn(struct vc_db *db, void *arg, struct vc_err *e)
{
	struct pend_job *j = arg;

	return vc_audit_write(j->s, db, j->ev, j->n, e);
}

/* The reads an earlier run served from the snapshot at path, audited in
 * the organization's chain as the user they were served to.  A snapshot
 * that does not open has nothing to audit. */
static int audit_pending(struct vc_session *s, const char *path,
			 struct vc_err *e)
{
	struct vc_user me = s->user;
	struct vc_audit_ev *ev;
	char (*det)[96];
	struct vc_err ignored;
	struct snap sn;
	struct vc_db *db;
	int rc, had = s->have_user;

	if (snap_load(s, path, &sn, &ignored) < 0)
		return 0;
	if (sn.npend == 0) {
		snap_free(&sn);
		return 0;
	}
	ev = calloc(sn.npend, sizeof(*ev));
	det = calloc(sn.npend, sizeof(*det));
	rc = ev && det ? vc_session_db(s, VC_DB_METADATA, &db, e) :
	     vc_err_set(e, VC_EFAIL, "out of memory");
	for (size_t i = 0; rc == 0 && i < sn.npend; i++) {
		const struct vc_secret_val *v = &sn.set.v[sn.pend[i].idx];
		time_t t = (time_t)sn.pend[i].at;
		struct tm tm;
		char at[20];
		gmtime_r(&t, &tm);
		strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(det[i], sizeof(det[i]), "{\"version\":%d,\"offline\":"
			 "true,\"at\":\"%s\"}", v->version, at);
		ev[i] = (struct vc_audit_ev){ sn.org_id, "secret.read", "secret",
					      v->id, det[i] };
	}
	/* The rows name whom the values went to, not who runs now. */
	snprintf(s->user.id, sizeof(s->user.id), "%s", sn.user_id);
	snprintf(s->user.email, sizeof(s->user.email), "%s", sn.email);
	s->have_user = 1;
	if (rc == 0)
		rc = vc_db_txn(db, audit_pending_txn, &(struct pend_job){ s, ev,
			       sn.npend }, e);
	s->user = me;
	s->have_user = had;
	free(ev);
	free(det);
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

/* Online: the snapshot of what set holds, nothing pending. */
static int save_online(struct vc_session *s, const struct vc_fallback *fb,
		       const struct vc_ref *ref, const char *const *only,
		       const struct vc_secret_set *set, struct vc_err *e)
{
	struct snap sn;
	int rc;

	memset(&sn, 0, sizeof(sn));
	who_asks(s, fb->as, &sn.uid, sn.login, sn.asked);
	snprintf(sn.user_id, sizeof(sn.user_id), "%s", s->user.id);
	snprintf(sn.email, sizeof(sn.email), "%s", s->user.email);
	snprintf(sn.env, sizeof(sn.env), "%s", ref->text);
	snprintf(sn.org_id, sizeof(sn.org_id), "%s", ref->org_id);
	snprintf(sn.env_id, sizeof(sn.env_id), "%s", ref->env_id);
	snprintf(sn.org, sizeof(sn.org), "%s", ref->org);
	snprintf(sn.project, sizeof(sn.project), "%s", ref->project);
	snprintf(sn.envname, sizeof(sn.envname), "%s", ref->env);
	sn.created = (long long)time(NULL);
	if (only && !(sn.only = only_list(only)))
		return vc_err_set(e, VC_EFAIL, "out of memory");
	sn.set = *set;  /* borrowed: not freed here */
	rc = snap_save(s, fb->path, &sn, 1, e);
	free(sn.only);
	return rc;
}

int vc_fallback_commit(struct vc_session *s, struct vc_fallback *fb,
		       const struct vc_ref *ref, const char *const *only,
		       struct vc_secret_set *set, struct vc_err *e)
{
	int rc;

	if (!fb->path)
		return vc_secret_audit_reads(s, ref, set, e);
	if (fb->offline)
		return record_offline(s, fb, set, e);
	rc = vc_secret_audit_reads(s, ref, set, e);
	if (rc == 0)
		rc = audit_pending(s, fb->path, e);
	if (rc == 0)
		rc = save_online(s, fb, ref, only, set, e);
	return rc;
}
