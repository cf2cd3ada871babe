/* audit_anchor.c - the file of `verify --anchor FILE`: the newest row of
 * each chain as the last verify saw it, kept outside the database so that
 * cutting the newest rows, or winding a chain back to an older state that
 * is consistent in itself, still shows.
 *
 * One line per chain: the chain ("-" for the global one), the seq of its
 * newest row and that row's hash in hex.  Written with the caller's own
 * rights (the name is the caller's), mode 0600, to a temporary file
 * renamed over the old one, so that a crash leaves one or the other.
 */
#include "auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

#define ANCHOR_HEADER "# vaultctl-audit verify --anchor: chain seq row_hash"

static int parse_line(char *line, struct vc_auditlog_anchor *a)
{
	char chain[64], hex[80];
	size_t n;

	if (sscanf(line, "%63s %lld %79s", chain, &a->seq, hex) != 3 ||
	    a->seq < 0 || strlen(hex) != 64 ||
	    sodium_hex2bin(a->hash, 32, hex, 64, NULL, &n, NULL) != 0 || n != 32)
		return -1;
	if (strcmp(chain, "-") && (strlen(chain) > 36 || strspn(chain,
	    "0123456789abcdefABCDEF-") != strlen(chain)))
		return -1;
	snprintf(a->chain, sizeof(a->chain), "%s", strcmp(chain, "-") ? chain : "");
	return 0;
}

static int add(struct vc_auditlog_anchor **v, size_t *n, size_t *cap,
	       const struct vc_auditlog_anchor *a)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct vc_auditlog_anchor *p = realloc(*v, c * sizeof(*p));
		if (!p)
			return -1;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = *a;
	return 0;
}

int vc_auditlog_anchor_read(const char *path, struct vc_auditlog_anchor **out,
			    size_t *n, struct vc_err *e)
{
	FILE *f = vc_host_fopen(path, "re");
	struct vc_auditlog_anchor a;
	char line[512];
	size_t cap = 0, lineno = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!f && errno == ENOENT)
		return 0;       /* the first run: created below */
	if (!f)
		return vc_err_set(e, VC_EFAIL, "cannot read anchor file '%s': %s",
				  path, strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (parse_line(line, &a) < 0)
			rc = vc_err_set(e, VC_EFAIL, "anchor file '%s', line %zu: "
					"not 'chain seq hash'", path, lineno);
		else if (add(out, n, &cap, &a) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
	}
	if (rc == 0 && ferror(f))
		rc = vc_err_set(e, VC_EFAIL, "cannot read anchor file '%s'", path);
	fclose(f);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

struct anchor_write {
	const char *path;
	const struct vc_auditlog_anchor *a;
	size_t n;
	int err;
};

static int write_lines(FILE *f, const struct vc_auditlog_anchor *a, size_t n)
{
	char hex[65];

	fprintf(f, "%s\n", ANCHOR_HEADER);
	for (size_t i = 0; i < n; i++) {
		sodium_bin2hex(hex, sizeof(hex), a[i].hash, 32);
		fprintf(f, "%s %lld %s\n", a[i].chain[0] ? a[i].chain : "-",
			a[i].seq, hex);
	}
	return fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0 ? 0 : -1;
}

/* Runs with the caller's own rights: mkstemp makes the file 0600. */
static int write_file(void *arg)
{
	struct anchor_write *w = arg;
	char tmp[4200];
	FILE *f;
	int fd, ok;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", w->path) >= (int)sizeof(tmp)) {
		w->err = ENAMETOOLONG;
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		w->err = errno;
		return -1;
	}
	f = fdopen(fd, "w");
	ok = f && write_lines(f, w->a, w->n) == 0;
	w->err = errno;
	if (f ? fclose(f) != 0 : close(fd) != 0)
		ok = 0;
	if (ok && rename(tmp, w->path) < 0) {
		w->err = errno;
		ok = 0;
	}
	if (!ok)
		unlink(tmp);
	return ok ? 0 : -1;
}

int vc_auditlog_anchor_write(const char *path,
			     const struct vc_auditlog_anchor *a, size_t n,
			     struct vc_err *e)
{
	struct anchor_write w = { path, a, n, 0 };

	if (vc_host_as_user(write_file, &w) < 0)
		return vc_err_set(e, VC_EFAIL, "cannot write anchor file '%s': %s",
				  path, strerror(w.err ? w.err : errno));
	return 0;
}
