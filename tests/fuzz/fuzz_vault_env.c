/* fuzz_vault_env.c - the Vault settings read from the VAULT_* environment
 * and the configuration (vault_env.c): addresses, mounts, booleans,
 * durations (VAULT_CLIENT_TIMEOUT), retry counts, rate[:burst], the TLS
 * server name.
 *
 * Input: newline-separated fields, in order VAULT_ADDR,
 * VAULT_CLIENT_TIMEOUT, VAULT_MAX_RETRIES, VAULT_RATE_LIMIT,
 * VAULT_SKIP_VERIFY, VAULT_TLS_SERVER_NAME, VAULT_NAMESPACE, vault_mount;
 * a missing or empty field leaves the variable unset.
 *
 * Invariants: on success the base URL ends in "/v1/", the mount has no
 * leading or trailing '/', the timeout is positive, retries are 0..100,
 * the rate limit is off or finite and at least 0.001 per second (so that
 * the wait for a token fits an int64_t) with a finite burst of at least 1.
 */
#include "fuzz.h"

#include <math.h>

#include "vault.h"
#include "vault_int.h"

static const char *const vars[] = { "VAULT_ADDR", "VAULT_CLIENT_TIMEOUT",
	"VAULT_MAX_RETRIES", "VAULT_RATE_LIMIT", "VAULT_SKIP_VERIFY",
	"VAULT_TLS_SERVER_NAME", "VAULT_NAMESPACE" };
#define NVARS (ARRAY_SIZE(vars))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("VAULT_CACERT");
	unsetenv("VAULT_CAPATH");
	unsetenv("VAULT_CLIENT_CERT");
	unsetenv("VAULT_CLIENT_KEY");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size), *field[NVARS + 1] = { 0 };
	struct vc_vault_conf conf = { .addr = "http://127.0.0.1:8200" };
	struct vault_settings s;
	struct vc_err e = { 0, "" };
	char *p = text;
	size_t n = 0;
	int rc;

	while (n < NVARS + 1) {
		char *nl = strchr(p, '\n');

		field[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	/* putenv of buffers of our own: glibc's setenv keeps every value it
	 * was ever given, which millions of inputs turn into gigabytes. */
	for (size_t i = 0; i < NVARS; i++) {
		static char env[NVARS][16384];

		unsetenv(vars[i]);
		if (field[i] && *field[i]) {
			snprintf(env[i], sizeof(env[i]), "%s=%s", vars[i],
				 field[i]);
			putenv(env[i]);
		}
	}
	conf.mount = field[NVARS];
	rc = vault_settings_load(&s, &conf, &e);
	fuzz_check_err(rc, &e);
	if (rc == 0) {
		size_t bl = strlen(s.base), ml = strlen(s.mount);

		FUZZ_CHECK(bl >= 4 && !strcmp(s.base + bl - 4, "/v1/"),
			   "base '%s'", s.base);
		FUZZ_CHECK(ml > 0 && s.mount[0] != '/' && s.mount[ml - 1] != '/',
			   "mount '%s'", s.mount);
		FUZZ_CHECK(s.timeout_ms > 0, "timeout %lld",
			   (long long)s.timeout_ms);
		FUZZ_CHECK(s.max_retries >= 0 && s.max_retries <= 100,
			   "retries %d", s.max_retries);
		/* rate_wait() divides by the rate and casts to int64_t. */
		FUZZ_CHECK(s.rate == 0 || (s.rate >= 0.001 && isfinite(s.rate) &&
					   s.burst >= 1 && isfinite(s.burst)),
			   "rate %g burst %g", s.rate, s.burst);
	} else {
		FUZZ_CHECK(rc == VC_EUSAGE || rc == VC_EFAIL, "code %d", rc);
	}
	vault_settings_release(&s);
	free(text);
	return 0;
}
