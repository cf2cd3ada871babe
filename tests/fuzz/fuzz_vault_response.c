/* fuzz_vault_response.c - every parser of Vault's answers in vault.c and
 * vault_http.c, through the store's own operations.
 *
 * Linked with -Wl,--wrap=vault_exec,--wrap=vault_exec1: the transfer
 * functions are replaced by ones that hand back the fuzzer's status and
 * body, so what runs is exactly the code that reads a real answer (data,
 * metadata, list, write, 404 with and without a body, error bodies,
 * AppRole login, token lookup) without a network.
 *
 * Input: op (byte 0), status (bytes 1-2, little-endian: below 16 an index
 * into common statuses, else 100 + n % 500), flags (byte 3: bits 0-2
 * attempts, bit 3 a transport failure, bits 4-7 a version or count), then
 * the body.
 *
 * Invariants: error codes come with a message free of control characters
 * (Vault's text is untrusted); a read only succeeds on a 2xx with a body
 * (never an empty value from a 204); a 404 on a read or a list is "not
 * found" or an empty list; versions come sorted; a write's new version is
 * positive.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include "vault.h"
#include "vault_int.h"

int __wrap_vault_exec(struct vault *v, struct vault_req *reqs, size_t n,
		      int conc, struct vc_err *e);
int __wrap_vault_exec1(struct vault *v, struct vault_req *r,
		       struct vc_err *e);

static struct {
	long status;
	int attempts, fail;
	const uint8_t *body;
	size_t len;
} answer;

static struct vc_store *store;
static char secret_file[64];

#define PATH "organizations/o/projects/p/environments/e/secrets/S"

int __wrap_vault_exec(struct vault *v, struct vault_req *reqs, size_t n,
		      int conc, struct vc_err *e)
{
	(void)v;
	(void)conc;
	(void)e;
	for (size_t i = 0; i < n; i++) {
		struct vault_req *r = &reqs[i];

		vc_buf_reset(&r->resp);
		r->attempts = answer.attempts;
		r->rc = 0;
		if (answer.fail) {
			r->status = 0;
			r->rc = vc_err_set(&r->err, VC_EUNAVAIL, "cannot reach "
					   "vault (fuzz)");
			continue;
		}
		r->status = answer.status;
		if (vc_buf_add(&r->resp, answer.body, answer.len) < 0)
			abort();
	}
	return 0;
}

int __wrap_vault_exec1(struct vault *v, struct vault_req *r,
		       struct vc_err *e)
{
	__wrap_vault_exec(v, r, 1, 1, e);
	if (r->rc < 0 && e)
		*e = r->err;
	return r->rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const unset[] = { "VAULT_ADDR", "VAULT_NAMESPACE",
		"VAULT_CACERT", "VAULT_CAPATH", "VAULT_CLIENT_CERT",
		"VAULT_CLIENT_KEY", "VAULT_SKIP_VERIFY", "VAULT_TLS_SERVER_NAME",
		"VAULT_MAX_RETRIES", "VAULT_CLIENT_TIMEOUT", "VAULT_RATE_LIMIT" };
	struct vc_vault_conf conf = { .addr = "http://127.0.0.1:9" };
	char dir[] = "/tmp/vc-fuzz-vault.XXXXXX";
	struct vc_err e;
	int fd;

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(unset); i++)
		unsetenv(unset[i]);
	if (!mkdtemp(dir))
		abort();
	setenv("HOME", dir, 1);         /* no ~/.vault-token */
	snprintf(secret_file, sizeof(secret_file), "%s/secret-id", dir);
	fd = open(secret_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "secret-id\n", 10) != 10)
		abort();
	close(fd);
	setenv("VAULT_TOKEN", "fuzz-token", 1);
	if (vc_vault_open(&store, &conf, &e) < 0) {
		fprintf(stderr, "vc_vault_open: %s\n", e.msg);
		abort();
	}
	return 0;
}

static void check_msg(int rc, const struct vc_err *e)
{
	fuzz_check_err(rc, e);
	if (rc < 0)
		for (const char *p = e->msg; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= ' ', "control character "
				   "0x%02x in the message: %s",
				   (unsigned char)*p, e->msg);
}

static void op_get(int version)
{
	struct vc_buf out;
	struct vc_store_got got = { 0, 0, 0 };
	struct vc_err e = { 0, "" };
	int rc;

	vc_buf_init(&out, 1);
	rc = store->ops->get(store, PATH, version, &out, &got, &e);
	check_msg(rc, &e);
	if (rc == 0)
		FUZZ_CHECK(answer.status >= 200 && answer.status <= 299 &&
			   !answer.fail && answer.len > 0,
			   "a read succeeded on status %ld", answer.status);
	else
		FUZZ_CHECK(out.len == 0, "a failed read left %zu bytes",
			   out.len);
	if (answer.status == 404 && !answer.fail)
		FUZZ_CHECK(rc == VC_ENOTFOUND, "404 read gave %d", rc);
	if (got.deleted || got.destroyed)
		FUZZ_CHECK(rc == VC_ENOTFOUND && !(got.deleted && got.destroyed),
			   "deleted %d destroyed %d rc %d", got.deleted,
			   got.destroyed, rc);
	vc_buf_release(&out);
}

static void op_get_many(unsigned count)
{
	struct vc_store_item items[5];
	struct vc_err e = { 0, "" };
	size_t n = 1 + count % 5;
	int rc;

	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < n; i++) {
		items[i].path = i == 3 ? NULL : PATH;
		items[i].version = (int)i;
		vc_buf_init(&items[i].value, 1);
	}
	rc = store->ops->get_many(store, items, n, (int)count - 2, &e);
	check_msg(rc, &e);
	for (size_t i = 0; i < n; i++) {
		check_msg(items[i].rc, &items[i].err);
		if (items[i].rc == 0)
			FUZZ_CHECK(answer.status >= 200 &&
				   answer.status <= 299 && answer.len > 0 &&
				   items[i].path,
				   "item %zu succeeded on status %ld", i,
				   answer.status);
		vc_buf_release(&items[i].value);
	}
}

static void op_meta(void)
{
	struct vc_store_meta m;
	struct vc_err e = { 0, "" };
	int rc = store->ops->meta(store, PATH, &m, &e);

	check_msg(rc, &e);
	if (rc == 0)
		for (size_t i = 0; i < m.nversions; i++)
			FUZZ_CHECK(m.versions[i].version > 0 &&
				   (i == 0 || m.versions[i - 1].version <=
				    m.versions[i].version),
				   "versions not sorted or not positive");
	vc_store_meta_release(&m);
}

static void op_list(void)
{
	struct vc_err e = { 0, "" };
	char **keys;
	size_t n;
	int rc = store->ops->list(store, "organizations/o/", &keys, &n, &e);

	check_msg(rc, &e);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(keys && keys[i], "key %zu missing", i);
	else
		FUZZ_CHECK(keys == NULL && n == 0, "a failed list kept keys");
	if (answer.status == 404 && !answer.fail)
		FUZZ_CHECK(rc == 0 && n == 0, "404 list: rc %d, %zu keys", rc, n);
	vc_store_list_free(keys, n);
}

static void op_put(unsigned flags)
{
	struct vc_err e = { 0, "" };
	int ver = -1, rc;

	rc = store->ops->put(store, PATH, "v\0\xff", flags & 1 ? 3 : 1,
			     (int)flags - 8, flags & 2 ? &ver : NULL, &e);
	check_msg(rc, &e);
	if (rc == 0 && (flags & 2))
		FUZZ_CHECK(ver > 0, "write gave version %d", ver);
}

static void op_versions(unsigned flags)
{
	static const int vs[] = { 1, 2, 3 };
	struct vc_err e = { 0, "" };
	size_t n = flags % 4;
	int rc;

	switch ((flags >> 2) & 3) {
	case 0: rc = store->ops->del(store, PATH, vs, n, &e); break;
	case 1: rc = store->ops->undelete(store, PATH, vs, n, &e); break;
	case 2: rc = store->ops->destroy(store, PATH, vs, n, &e); break;
	default: rc = store->ops->delete_all(store, PATH, &e); break;
	}
	check_msg(rc, &e);
	if (rc == 0)
		FUZZ_CHECK(answer.status >= 200 && answer.status < 300,
			   "status %ld taken as success", answer.status);
}

static void notified(void *ctx, const char *line)
{
	(void)ctx;
	FUZZ_CHECK(line != NULL, "notify");
}

/* A store opened per input: AppRole login, or the -v token lookup. */
static void op_open(int approle)
{
	struct vc_vault_conf conf = {
		.addr = "http://127.0.0.1:9",
		.role_id = "role-id",
		.secret_id_file = secret_file,
		.verbose = !approle,
		.notify = notified,
	};
	struct vc_store *s = NULL;
	struct vc_err e = { 0, "" };
	int rc;

	if (approle)
		unsetenv("VAULT_TOKEN");
	rc = vc_vault_open(&s, &conf, &e);
	setenv("VAULT_TOKEN", "fuzz-token", 1);
	check_msg(rc, &e);
	FUZZ_CHECK((rc == 0) == (s != NULL), "store %p with rc %d", (void *)s,
		   rc);
	if (rc == 0 && approle)
		FUZZ_CHECK(answer.status >= 200 && answer.status < 300,
			   "login succeeded on status %ld", answer.status);
	vc_store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long common[16] = { 200, 204, 404, 400, 403, 405, 412,
					 413, 429, 500, 501, 502, 503, 301,
					 307, 472 };
	unsigned op, st, flags;

	if (size < 4)
		return 0;
	op = data[0] % 8;
	st = data[1] | (unsigned)data[2] << 8;
	flags = data[3];
	answer.status = st < 16 ? common[st] : 100 + st % 500;
	answer.attempts = 1 + (flags & 7);
	answer.fail = (flags & 8) != 0;
	answer.body = data + 4;
	answer.len = size - 4;
	switch (op) {
	case 0: op_get(flags >> 4); break;
	case 1: op_meta(); break;
	case 2: op_list(); break;
	case 3: op_put(flags >> 4); break;
	case 4: op_get_many(flags >> 4); break;
	case 5: op_versions(flags >> 4); break;
	case 6: op_open(1); break;
	case 7: op_open(0); break;
	}
	return 0;
}
