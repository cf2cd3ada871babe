/* fallback_file.c - the sealed file of run/export --fallback
 * (fallback_int.h).
 *
 * The file is the caller's (written and read with their own rights), but
 * its contents are not theirs to read or forge: in host mode the key comes
 * from the audit key file, which only the tools' group may read.  The
 * snapshot's keys are derived from it with their own context (crypto_kdf,
 * one BLAKE2b each: no password hashing on the way), so that knowing one
 * gives nothing on the audit chain.
 *
 * Layout: "VCFB2\n", the header's length (4 bytes, big-endian), the
 * header (JSON: identity, environments, time; no value), the sealed
 * part's length (4 bytes), a nonce, and the XChaCha20-Poly1305
 * ciphertext of every environment's secrets, with everything before the
 * nonce as associated data: changing the header breaks the seal as
 * changing the values does.  Then the reads served offline, appended one
 * record each: its time, a bit per secret, and a BLAKE2b MAC over the
 * nonce, the record's number and the record, so that a record is neither
 * forged nor moved to another snapshot or place.  An offline read costs
 * an append of a few bytes, not a rewrite of the values; records
 * appended at once are kept apart by a lock, and a record cut short by a
 * crash is dropped by the next append.
 */
#include "fallback_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define MAC_LEN 16

size_t snap_rec_len(const struct vc_fallback_snap *sn)
{
	return 8 + (sn->total + 7) / 8;
}

void snap_free(struct vc_fallback_snap *sn)
{
	for (size_t j = 0; sn->env && j < sn->nenv; j++)
		vc_secret_set_free(&sn->env[j].set);
	free(sn->env);
	free(sn->only);
	free(sn->pend);
	free(sn->served);
	sodium_memzero(sn, sizeof(*sn));
}

/* ---- the keys ---- */

static int snap_keys(struct vc_session *s, struct vc_fallback_snap *sn,
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
	crypto_kdf_derive_from_key(sn->key, 32, 1, "vcfallbk", master);
	crypto_kdf_derive_from_key(sn->mac_key, 32, 2, "vcfallbk", master);
	sodium_memzero(master, sizeof(master));
	return 0;
}

/* ---- bytes ---- */

static int put_u32(struct vc_buf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };

	return vc_buf_add(b, p, 4);
}

static int put_str(struct vc_buf *b, const void *p, size_t n)
{
	return put_u32(b, (uint32_t)n) < 0 ? VC_EFAIL : vc_buf_add(b, p, n);
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

/* A string into out (n bytes with its NUL), or a value into val. */
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

/* ---- the sealed part: every environment's secrets ---- */

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
	for (size_t j = 0; j < sn->nenv; j++) {
		if (get_set(r, &sn->env[j].set) < 0)
			return -1;
		sn->total += sn->env[j].set.n;
	}
	return r->left ? -1 : 0;
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

static int header_parse(const unsigned char *p, size_t n,
			struct vc_fallback_snap *sn)
{
	cJSON *o = cJSON_ParseWithLength((const char *)p, n), *only;
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

/* ---- the records of reads served offline ---- */

static void rec_mac(const struct vc_fallback_snap *sn, size_t i,
		    const unsigned char *rec, unsigned char mac[MAC_LEN])
{
	crypto_generichash_state st;
	unsigned char num[4] = { i >> 24, i >> 16, i >> 8, i };

	crypto_generichash_init(&st, sn->mac_key, sizeof(sn->mac_key), MAC_LEN);
	crypto_generichash_update(&st, sn->nonce, sizeof(sn->nonce));
	crypto_generichash_update(&st, num, sizeof(num));
	crypto_generichash_update(&st, rec, snap_rec_len(sn));
	crypto_generichash_final(&st, mac, MAC_LEN);
}

/* The records after the sealed part, each MAC checked; a last one cut
 * short is no record. */
static int get_records(const unsigned char *p, size_t len,
		       struct vc_fallback_snap *sn)
{
	size_t rl = snap_rec_len(sn), n = len / (rl + MAC_LEN);
	unsigned char mac[MAC_LEN];

	if (!(sn->pend = malloc(n * rl + 1)))
		return -1;
	for (; sn->npend < n; sn->npend++, p += rl + MAC_LEN) {
		rec_mac(sn, sn->npend, p, mac);
		if (sodium_memcmp(mac, p + rl, MAC_LEN))
			return -1;
		memcpy(sn->pend + sn->npend * rl, p, rl);
	}
	return 0;
}

/* ---- reading ---- */

static int read_all(const char *path, struct vc_buf *out, struct stat *st,
		    struct vc_err *e)
{
	int fd = vc_host_open(path, O_RDONLY | O_CLOEXEC, 0);
	ssize_t n = 1;

	if (fd < 0)
		return vc_err_set(e, VC_EUNAVAIL, "no snapshot at '%s': %s",
				  path, strerror(errno));
	if (fstat(fd, st) < 0 || st->st_size > FILE_MAX ||
	    vc_buf_grow(out, (size_t)st->st_size + 1) < 0) {
		close(fd);
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' is unreadable",
				  path);
	}
	while (n > 0 && out->len < (size_t)st->st_size + 1) {
		n = read(fd, out->data + out->len,
			 (size_t)st->st_size + 1 - out->len);
		if (n > 0)
			out->len += (size_t)n;
	}
	close(fd);
	return n < 0 ? vc_err_set(e, VC_EUNAVAIL, "cannot read '%s': %s", path,
				  strerror(errno)) : 0;
}

static int tampered(const char *path, struct vc_err *e)
{
	return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' does not open under "
			  "the tools' key (damaged, altered, or not one of "
			  "theirs): not used", path);
}

/* The header of the file f into sn; *ad: the bytes it and the sealed
 * part's length take, *clen: that length. */
static int open_header(const char *path, const struct vc_buf *f,
		       struct vc_fallback_snap *sn, size_t *ad, uint32_t *clen,
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
	    get_u32(&r, &hl) < 0 || hl > HDR_MAX || r.left < hl ||
	    header_parse(r.p, hl, sn) < 0)
		return tampered(path, e);
	r.p += hl;
	r.left -= hl;
	if (get_u32(&r, clen) < 0 || *clen < TAG_LEN ||
	    r.left < SNAP_NONCE_LEN + (size_t)*clen)
		return tampered(path, e);
	*ad = MAGIC_LEN + 4 + hl + 4;
	memcpy(sn->nonce, r.p, SNAP_NONCE_LEN);
	sn->sealed = *ad + SNAP_NONCE_LEN + *clen;
	return 0;
}

/* Decrypts the sealed part of f into sn. */
static int open_body(const char *path, const struct vc_buf *f, size_t ad,
		     uint32_t clen, struct vc_fallback_snap *sn,
		     struct vc_err *e)
{
	const unsigned char *c = (unsigned char *)f->data + ad + SNAP_NONCE_LEN;
	struct vc_buf body = VC_BUF_INIT;
	unsigned long long blen = 0;
	struct rd r;
	int rc = 0;

	body.secret = 1;
	if (vc_buf_grow(&body, clen) < 0)
		rc = vc_err_set(e, VC_EFAIL, "out of memory");
	else if (crypto_aead_xchacha20poly1305_ietf_decrypt(
			 (unsigned char *)body.data, &blen, NULL, c, clen,
			 (unsigned char *)f->data, ad, sn->nonce, sn->key))
		rc = tampered(path, e);
	body.len = (size_t)blen;
	r = (struct rd){ (unsigned char *)body.data, body.len };
	if (rc == 0 && get_body(&r, sn) < 0)
		rc = tampered(path, e);
	vc_buf_release(&body);
	return rc;
}

int snap_load(struct vc_session *s, const char *path,
	      struct vc_fallback_snap *sn, struct vc_err *e)
{
	struct vc_buf f = VC_BUF_INIT;
	struct stat st;
	uint32_t clen = 0;
	size_t ad = 0;
	int rc;

	memset(sn, 0, sizeof(*sn));
	rc = read_all(path, &f, &st, e);
	if (rc == 0)
		rc = open_header(path, &f, sn, &ad, &clen, e);
	if (rc == 0)
		rc = snap_keys(s, sn, e);
	if (rc == 0)
		rc = open_body(path, &f, ad, clen, sn, e);
	if (rc == 0 && get_records((unsigned char *)f.data + sn->sealed,
				   f.len - sn->sealed, sn) < 0)
		rc = tampered(path, e);
	sn->dev = st.st_dev;
	sn->ino = st.st_ino;
	vc_buf_release(&f);
	if (rc < 0)
		snap_free(sn);
	return rc;
}

/* ---- writing ---- */

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

/* Temporary file beside path, 0600, fsync, rename: a reader finds the
 * old snapshot or the new one, never half of one, even after a crash. */
static int write_atomic(const char *path, const struct vc_buf *b,
			struct vc_err *e)
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
	if (!err && fsync(t.fd) < 0)
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

static int seal(const struct vc_fallback_snap *sn, struct vc_buf *out,
		struct vc_err *e)
{
	struct vc_buf body = VC_BUF_INIT;
	unsigned char nonce[SNAP_NONCE_LEN];
	char *hdr = header_json(sn);
	size_t hl = hdr ? strlen(hdr) : 0, ad;
	int rc = hdr ? 0 : VC_EFAIL;

	body.secret = 1;
	for (size_t j = 0; rc == 0 && j < sn->nenv; j++)
		rc = put_set(&body, &sn->env[j].set);
	if (rc == 0 && (vc_buf_add(out, MAGIC, MAGIC_LEN) < 0 ||
			put_str(out, hdr, hl) < 0 ||
			put_u32(out, (uint32_t)(body.len + TAG_LEN)) < 0 ||
			vc_buf_grow(out, SNAP_NONCE_LEN + body.len + TAG_LEN) < 0))
		rc = VC_EFAIL;
	if (rc == 0) {
		ad = out->len;
		randombytes_buf(nonce, sizeof(nonce));
		memcpy(out->data + ad, nonce, sizeof(nonce));
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			(unsigned char *)out->data + ad + SNAP_NONCE_LEN, NULL,
			(unsigned char *)body.data, body.len,
			(unsigned char *)out->data, ad, NULL, nonce, sn->key);
		out->len = ad + SNAP_NONCE_LEN + body.len + TAG_LEN;
	}
	vc_buf_release(&body);
	free(hdr);
	return rc < 0 ? vc_err_set(e, VC_EFAIL, "out of memory") : 0;
}

int snap_save(struct vc_session *s, const char *path,
	      const struct vc_fallback_snap *sn, struct vc_err *e)
{
	struct vc_fallback_snap keyed = *sn;
	struct vc_buf out = VC_BUF_INIT;
	int rc = snap_keys(s, &keyed, e);

	if (rc == 0)
		rc = seal(&keyed, &out, e);
	if (rc == 0)
		rc = write_atomic(path, &out, e);
	sodium_memzero(keyed.key, sizeof(keyed.key));
	sodium_memzero(keyed.mac_key, sizeof(keyed.mac_key));
	vc_buf_release(&out);
	return rc;
}

/* Under the lock: the record numbered after those whole in the file (one
 * cut short dropped), written with its MAC. */
static int append_locked(int fd, const struct vc_fallback_snap *sn,
			 const unsigned char *rec)
{
	size_t rl = snap_rec_len(sn), n;
	unsigned char *buf;
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_dev != sn->dev || st.st_ino != sn->ino ||
	    (size_t)st.st_size < sn->sealed) {
		errno = ESTALE;
		return -1;
	}
	n = ((size_t)st.st_size - sn->sealed) / (rl + MAC_LEN);
	if (sn->sealed + n * (rl + MAC_LEN) != (size_t)st.st_size &&
	    ftruncate(fd, (off_t)(sn->sealed + n * (rl + MAC_LEN))) < 0)
		return -1;
	if (!(buf = malloc(rl + MAC_LEN)))
		return -1;
	memcpy(buf, rec, rl);
	rec_mac(sn, n, rec, buf + rl);
	rc = write(fd, buf, rl + MAC_LEN) == (ssize_t)(rl + MAC_LEN) ? 0 : -1;
	free(buf);
	return rc;
}

int snap_append(const char *path, struct vc_fallback_snap *sn,
		struct vc_err *e)
{
	unsigned long long now = (unsigned long long)time(NULL);
	int fd = vc_host_open(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0);
	int rc = fd < 0 || flock(fd, LOCK_EX) < 0 ? -1 : 0, err;

	for (int k = 0; k < 8; k++)
		sn->served[k] = (unsigned char)(now >> (56 - 8 * k));
	if (rc == 0)
		rc = append_locked(fd, sn, sn->served);
	err = errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		return 0;
	if (err == ESTALE)
		return vc_err_set(e, VC_EUNAVAIL, "snapshot '%s' was replaced "
				  "while it was read: the reads could not be "
				  "recorded in it; try again", path);
	return vc_err_set(e, VC_EFAIL, "--fallback: cannot record the reads "
			  "in '%s': %s", path, strerror(err));
}
