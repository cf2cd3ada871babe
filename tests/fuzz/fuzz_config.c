/* fuzz_config.c - vc_conf_load, the [vaultctl] group of the option file.
 *
 * The input is written to a private (0600) file, as the loader refuses
 * any other.  Invariants: a success has a database and a backend that is
 * local or vault, and a positive max_value_size; an error is a usage
 * error or an out-of-memory failure with a message.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "vault.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/vc-fuzz-config.XXXXXX";

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/vaultctl.cnf", dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vc_conf c;
	struct vc_vault_conf v;
	struct vc_err e = { 0, "" };
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
	rc = vc_conf_load(&c, path, &e);
	fuzz_check_err(rc, &e);
	if (rc == 0) {
		FUZZ_CHECK(c.database && c.backend, "defaults missing");
		FUZZ_CHECK(!strcmp(c.backend, "local") ||
			   !strcmp(c.backend, "vault"), "backend '%s'",
			   c.backend);
		FUZZ_CHECK(c.max_value_size > 0, "max_value_size 0");
		vc_conf_vault(&c, &v);
		FUZZ_CHECK(v.addr == c.vault[0] &&
			   v.tls_server_name == c.vault[12], "vault settings");
	} else {
		FUZZ_CHECK(rc == VC_EUSAGE || rc == VC_EFAIL, "code %d: %s", rc,
			   e.msg);
	}
	vc_conf_release(&c);
	return 0;
}
