/* vault_env.c - the Vault store's settings: the configuration, overridden
 * by the VAULT_* environment as the vault CLI does (doc/architecture.md,
 * section 6).  Nothing here talks to the network.
 */
#define _POSIX_C_SOURCE 200809L
#include "vault_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_FILE_MAX 65536

/* Vault's own default for VAULT_ADDR. */
#define DEFAULT_ADDR "https://127.0.0.1:8200"

/* The environment wins over the configuration, which wins over def. */
static const char *pick(const char *env, const char *conf, const char *def)
{
	const char *s = getenv(env);

	if (s && *s)
		return s;
	return conf && *conf ? conf : def;
}

static int set_str(char **dst, const char *src, struct vc_err *e)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	if (src && !*dst)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	return 0;
}

/* Whether host (of a URL: "[v6]" bracketed) is this machine: 127.0.0.0/8,
 * ::1 (or ::ffff:127.x) or "localhost".  A name that only resolves
 * there is not taken on trust. */
static int host_loopback(const char *host, size_t n)
{
	unsigned char a[16];
	char h[64];

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		host++, n -= 2;
	if (n >= sizeof(h))
		return 0;
	memcpy(h, host, n);
	h[n] = '\0';
	if (!strcasecmp(h, "localhost"))
		return 1;
	if (inet_pton(AF_INET, h, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, h, a) != 1)
		return 0;
	return IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a) ||
	       (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a) && a[12] == 127);
}

/* Whether "http://[user@]host[:port][/path]" goes to this machine. */
static int addr_loopback(const char *addr)
{
	const char *a = addr + 7, *end = a + strcspn(a, "/"), *p, *colon;

	for (p = a; p < end; p++)
		if (*p == '@')
			a = p + 1;
	/* A port's colon comes after a bracketed IPv6 address. */
	p = *a == '[' ? memchr(a, ']', (size_t)(end - a)) : a;
	if (!p)
		return 0;
	colon = memchr(p, ':', (size_t)(end - p));
	return host_loopback(a, (size_t)((colon ? colon : end) - a));
}

static int load_addr(struct vault_settings *s, const char *addr,
		     struct vc_err *e)
{
	const char *host;
	char *base;
	size_t n;

	if (set_str(&s->addr, addr, e) < 0)
		return VC_EFAIL;
	if (!strncasecmp(addr, "unix://", 7)) {
		if (addr[7] != '/')
			return vc_err_set(e, VC_EUSAGE, "VAULT_ADDR '%s': a unix "
					  "socket needs an absolute path "
					  "(unix:///run/vault.sock)", addr);
		if (set_str(&s->unix_socket, addr + 7, e) < 0)
			return VC_EFAIL;
		return set_str(&s->base, "http://localhost/v1/", e);
	}
	s->https = !strncasecmp(addr, "https://", 8);
	if (!s->https && strncasecmp(addr, "http://", 7))
		return vc_err_set(e, VC_EUSAGE, "VAULT_ADDR '%s' must start with "
				  "https://, http:// or unix://", addr);
	/* "/v1/" is appended to the text: without a host, or after a query
	 * or fragment, libcurl would read the result as another URL. */
	host = addr + (s->https ? 8 : 7);
	if (!*host || *host == '/' || strpbrk(host, "?#"))
		return vc_err_set(e, VC_EUSAGE, "VAULT_ADDR '%s' must be "
				  "scheme://host[:port][/path], without a query "
				  "or fragment", addr);
	s->plain_remote = !s->https && !addr_loopback(addr);
	n = strlen(addr);
	while (n > 0 && addr[n - 1] == '/')
		n--;
	base = malloc(n + sizeof("/v1/"));
	if (!base)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	memcpy(base, addr, n);
	memcpy(base + n, "/v1/", sizeof("/v1/"));
	free(s->base);
	s->base = base;
	return 0;
}

static int load_mount(struct vault_settings *s, const char *mount,
		      struct vc_err *e)
{
	size_t n;

	while (*mount == '/')
		mount++;
	n = strlen(mount);
	while (n > 0 && mount[n - 1] == '/')
		n--;
	if (!n)
		return vc_err_set(e, VC_EUSAGE, "vault_mount is empty");
	s->mount = strndup(mount, n);
	return s->mount ? 0 : vc_err_set(e, VC_EFAIL, "out of memory");
}

/* Go's strconv.ParseBool plus yes/no, which users write too. */
static int parse_bool(const char *name, int *out, struct vc_err *e)
{
	static const char *const yes[] = { "1", "t", "true", "y", "yes", "on" };
	static const char *const no[] = { "0", "f", "false", "n", "no", "off" };
	const char *s = getenv(name);

	*out = 0;
	if (!s || !*s)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return vc_err_set(e, VC_EUSAGE, "%s='%s' is not a boolean (use true "
			  "or false)", name, s);
}

/* "60" (seconds) or Go-style units: "30s", "2m", "1m30s", "500ms". */
static int parse_duration_ms(const char *s, int64_t *ms)
{
	int64_t total = 0, mult;
	long long n;
	char *end;

	if (!*s)
		return -1;
	if (strspn(s, "0123456789") == strlen(s) && strlen(s) < 10) {
		*ms = atoll(s) * 1000;
		return 0;
	}
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno || n > 100000000)
			return -1;
		s = end;
		if (!strncmp(s, "ms", 2))
			mult = 1, s += 2;
		else if (*s == 's' || *s == 'm' || *s == 'h')
			mult = *s == 's' ? 1000 : *s == 'm' ? 60000 : 3600000, s++;
		else
			return -1;
		total += n * mult;
	}
	*ms = total;
	return 0;
}

static int load_numbers(struct vault_settings *s, struct vc_err *e)
{
	const char *r = getenv("VAULT_MAX_RETRIES");
	const char *t = getenv("VAULT_CLIENT_TIMEOUT");
	char *end;
	long n;

	s->max_retries = 2;
	if (r && *r) {
		errno = 0;
		n = strtol(r, &end, 10);
		if (errno || *end || n < 0 || n > 100)
			return vc_err_set(e, VC_EUSAGE, "VAULT_MAX_RETRIES='%s' "
					  "must be a number from 0 to 100", r);
		s->max_retries = (int)n;
	}
	s->timeout_ms = 60000;
	if (t && *t && (parse_duration_ms(t, &s->timeout_ms) < 0 ||
			s->timeout_ms <= 0))
		return vc_err_set(e, VC_EUSAGE, "VAULT_CLIENT_TIMEOUT='%s' must "
				  "be a positive number of seconds or a "
				  "duration such as 30s or 2m", t);
	return 0;
}

/* rate[:burst] as the Go client reads it: burst defaults to the rate. */
static int load_rate(struct vault_settings *s, struct vc_err *e)
{
	const char *r = getenv("VAULT_RATE_LIMIT");
	char *end;

	if (!r || !*r)
		return 0;
	errno = 0;
	s->rate = strtod(r, &end);
	s->burst = s->rate;
	if (!errno && *end == ':')
		s->burst = strtod(end + 1, &end);
	/* Below one request in 1000 s, the wait for a token overflows. */
	if (errno || *end || !(s->rate >= 0.001) || !isfinite(s->rate) ||
	    !(s->burst >= 0) || !isfinite(s->burst))
		return vc_err_set(e, VC_EUSAGE, "VAULT_RATE_LIMIT='%s' must be "
				  "rate[:burst] in requests per second", r);
	if (s->burst < 1)
		s->burst = 1;
	return 0;
}

static int check_readable(const char *path, const char *what, int mode,
			  struct vc_err *e)
{
	if (path && access(path, mode) < 0)
		return vc_err_set(e, VC_EUSAGE, "cannot read %s '%s': %s", what,
				  path, strerror(errno));
	return 0;
}

/* libcurl has no option for the SNI name alone.  The honest mapping is to
 * put the name into the URL (so it is sent as SNI and checked against the
 * certificate) and to connect to the real host with CURLOPT_CONNECT_TO.
 * The Host header then carries the name too, which Vault ignores. */
static int load_server_name(struct vault_settings *s, const char *name,
			    struct vc_err *e)
{
	char *host = NULL, *port = NULL, *url = NULL;
	CURLU *u = curl_url();
	int rc = 0;

	if (!u)
		return vc_err_set(e, VC_EFAIL, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, s->base, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    curl_url_set(u, CURLUPART_HOST, name, 0) ||
	    curl_url_get(u, CURLUPART_URL, &url, 0)) {
		rc = vc_err_set(e, VC_EUSAGE, "VAULT_TLS_SERVER_NAME '%s' or "
				"VAULT_ADDR '%s' is not a valid host name",
				name, s->addr);
	} else {
		s->connect_to = malloc(strlen(name) + strlen(host) +
				       2 * strlen(port) + 4);
		if (!s->connect_to || set_str(&s->base, url, e) < 0)
			rc = vc_err_set(e, VC_EFAIL, "out of memory");
		else
			sprintf(s->connect_to, "%s:%s:%s:%s", name, port, host,
				port);
	}
	curl_free(host);
	curl_free(port);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

static int load_tls(struct vault_settings *s, const struct vc_vault_conf *c,
		    struct vc_err *e)
{
	const char *name = pick("VAULT_TLS_SERVER_NAME", c->tls_server_name,
				NULL);

	if (set_str(&s->cacert, pick("VAULT_CACERT", c->cacert, NULL), e) ||
	    set_str(&s->capath, pick("VAULT_CAPATH", c->capath, NULL), e) ||
	    set_str(&s->client_cert, pick("VAULT_CLIENT_CERT", c->client_cert,
					  NULL), e) ||
	    set_str(&s->client_key, pick("VAULT_CLIENT_KEY", c->client_key,
					 NULL), e) ||
	    parse_bool("VAULT_SKIP_VERIFY", &s->skip_verify, e))
		return e->code;
	if (!s->client_cert != !s->client_key)
		return vc_err_set(e, VC_EUSAGE, "VAULT_CLIENT_CERT and "
				  "VAULT_CLIENT_KEY go together: set both or "
				  "neither");
	/* Over plain http these settings mean nothing, as for the vault CLI. */
	if (!s->https)
		return 0;
	if (check_readable(s->cacert, "CA certificate file", R_OK, e) ||
	    check_readable(s->capath, "CA directory", R_OK | X_OK, e) ||
	    check_readable(s->client_cert, "client certificate", R_OK, e) ||
	    check_readable(s->client_key, "client key", R_OK, e))
		return e->code;
	return name ? load_server_name(s, name, e) : 0;
}

int vault_settings_load(struct vault_settings *s,
			const struct vc_vault_conf *conf, struct vc_err *e)
{
	memset(s, 0, sizeof(*s));
	if (load_addr(s, pick("VAULT_ADDR", conf->addr, DEFAULT_ADDR), e) ||
	    load_mount(s, conf->mount ? conf->mount : "secret", e) ||
	    set_str(&s->namespace_, pick("VAULT_NAMESPACE", conf->namespace_,
					 NULL), e) ||
	    load_tls(s, conf, e) || load_numbers(s, e) || load_rate(s, e))
		return e->code;
	return 0;
}

int vc_vault_needs_curl(const struct vc_vault_conf *conf)
{
	return !strncasecmp(pick("VAULT_ADDR", conf->addr, DEFAULT_ADDR),
			    "https://", 8);
}

void vault_settings_release(struct vault_settings *s)
{
	free(s->addr);
	free(s->base);
	free(s->unix_socket);
	free(s->mount);
	free(s->namespace_);
	free(s->cacert);
	free(s->capath);
	free(s->client_cert);
	free(s->client_key);
	free(s->connect_to);
	memset(s, 0, sizeof(*s));
}

static int read_fd(struct vc_buf *out, int fd)
{
	char chunk[4096];
	ssize_t n;
	int rc = 0;

	while (!rc && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len + (size_t)n > TOKEN_FILE_MAX)
			rc = -1;
		else
			rc = vc_buf_add(out, chunk, (size_t)n);
	}
	sodium_memzero(chunk, sizeof(chunk));
	return rc;
}

/* A credential's file: a file others may read, or anyone but its owner
 * (and root) may write, hands the credential to them or lets them swap
 * it.  Group-readable stays allowed: in host mode the configuration's
 * files are 0640 root:vaultctl. */
static int check_file(int fd, const char *path, const char *what,
		      struct vc_err *e)
{
	struct stat st;
	unsigned mode;

	if (fstat(fd, &st) < 0)
		return vc_err_set(e, VC_EFAIL, "cannot read %s '%s': %s", what,
				  path, strerror(errno));
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISREG(st.st_mode))
		return vc_err_set(e, VC_EUSAGE, "%s '%s' is not a regular file",
				  what, path);
	if (mode & (S_IROTH | S_IWGRP | S_IWOTH))
		return vc_err_set(e, VC_EPERM, "%s '%s' has mode %04o: it must "
				  "not be readable by others nor writable by "
				  "group or others (chmod 600 '%s')", what, path,
				  mode, path);
	return 0;
}

/* A token goes into an HTTP header as it is: a CR or LF there would
 * start a header of the file's choosing, and no other control character
 * belongs in a token either. */
static int has_control(const struct vc_buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] < ' ' || b->data[i] == 0x7f)
			return 1;
	return 0;
}

/* One final newline, as `vault login` and `echo` write it, is dropped;
 * a control character anywhere else is refused; spaces around go. */
static int token_clean(struct vc_buf *out, const char *path, const char *what,
		       struct vc_err *e)
{
	size_t start = 0;

	if (out->len > 0 && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	if (has_control(out))
		return vc_err_set(e, VC_EUSAGE, "%s '%s' holds a line break or "
				  "another control character: it must hold "
				  "the credential alone, on one line", what, path);
	while (out->len > 0 && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	while (start < out->len && out->data[start] == ' ')
		start++;
	memmove(out->data, out->data + start, out->len - start + 1);
	out->len -= start;
	return 0;
}

int vault_read_trimmed(struct vc_buf *out, const char *path, const char *what,
		       struct vc_err *e)
{
	int fd, rc, err;

	out->secret = 1;
	vc_buf_reset(out);
	/* O_NONBLOCK: a FIFO put there must not hang the tool. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		err = errno;
		return vc_err_set(e, err == ENOENT ? VC_EUSAGE :
				  err == EACCES ? VC_EPERM : VC_EFAIL,
				  "cannot read %s '%s': %s", what, path,
				  strerror(err));
	}
	rc = check_file(fd, path, what, e);
	if (rc == 0 && read_fd(out, fd) < 0)
		rc = vc_err_set(e, VC_EFAIL, "cannot read %s '%s': read error "
				"or larger than %d bytes", what, path,
				TOKEN_FILE_MAX);
	close(fd);
	if (rc == 0)
		rc = token_clean(out, path, what, e);
	if (rc < 0)
		vc_buf_reset(out);
	return rc;
}

int vault_token_find(struct vc_buf *tok, const struct vc_vault_conf *conf,
		     struct vc_err *e)
{
	const char *env = getenv("VAULT_TOKEN"), *home = getenv("HOME");
	struct vc_buf path = VC_BUF_INIT;
	int rc = 0;

	tok->secret = 1;
	vc_buf_reset(tok);
	if (env && *env) {
		if (vc_buf_addstr(tok, env) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		if (has_control(tok))
			return vc_err_set(e, VC_EUSAGE, "VAULT_TOKEN holds a line "
					  "break or another control character");
		return 0;
	}
	if (home && *home) {
		if (vc_buf_printf(&path, "%s/.vault-token", home) < 0)
			return vc_err_set(e, VC_EFAIL, "out of memory");
		if (access(path.data, F_OK) == 0)
			rc = vault_read_trimmed(tok, path.data, "token file", e);
		vc_buf_release(&path);
		if (rc < 0 || tok->len)
			return rc;
	}
	if (conf->token_file && *conf->token_file)
		return vault_read_trimmed(tok, conf->token_file,
					  "vault_token_file", e);
	return 0;
}
