/* prompt.c - no-echo prompts and value input. */
#include "prompt.h"

#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

/* Reads one line from the terminal with echo off. */
static int ask_noecho(struct cli *c, const char *q, struct vc_buf *out)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), rc = 0;
	char ch;
	ssize_t n;

	if (fd < 0)
		return cli_fail(c, VC_EUSAGE, "no terminal to ask for %s", q);
	if (write(fd, q, strlen(q)) < 0 || write(fd, ": ", 2) < 0 ||
	    tcgetattr(fd, &old) < 0) {
		close(fd);
		return cli_fail(c, VC_EFAIL, "cannot use the terminal");
	}
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~ECHO;
	tcsetattr(fd, TCSAFLUSH, &quiet);
	while ((n = read(fd, &ch, 1)) == 1 && ch != '\n' && ch != '\r')
		if (vc_buf_addch(out, ch) < 0) {
			rc = cli_fail(c, VC_EFAIL, "out of memory");
			break;
		}
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		rc = rc ? rc : 0;
	close(fd);
	if (n < 0 && rc == 0)
		rc = cli_fail(c, errno == EINTR ? VC_EINTR : VC_EFAIL,
			      "cannot read from the terminal");
	else if (n == 0 && rc == 0 && out->len == 0)
		rc = cli_fail(c, VC_EINTR, "no input");
	return rc;
}

int prompt_secret(struct cli *c, const char *what, int confirm,
		  struct vc_buf *out)
{
	struct vc_buf again = VC_BUF_INIT;
	char q[300];
	int rc;

	snprintf(q, sizeof(q), "%s", what);
	rc = ask_noecho(c, q, out);
	if (rc < 0 || !confirm)
		return rc;
	again.secret = 1;
	snprintf(q, sizeof(q), "%s (again)", what);
	rc = ask_noecho(c, q, &again);
	if (rc == 0 && (again.len != out->len ||
			memcmp(again.data, out->data, out->len)))
		rc = cli_fail(c, VC_EUSAGE, "the two entries differ; nothing "
			      "changed");
	vc_buf_release(&again);
	return rc;
}

int prompt_yes_no(const char *question)
{
	char line[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

int read_fd_all(struct cli *c, int fd, const char *what, size_t max,
		struct vc_buf *out)
{
	char chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		/* A directory given for a file is bad input, not a failure. */
		if (n < 0)
			return cli_fail(c, errno == EISDIR ? VC_EUSAGE : VC_EFAIL,
					"cannot read %s: %s", what,
					strerror(errno));
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			explicit_bzero(chunk, sizeof(chunk));
			return cli_fail(c, VC_EUSAGE, "%s is larger than %zu "
					"bytes (max_value_size)", what, max);
		}
		if (vc_buf_add(out, chunk, (size_t)n) < 0)
			return cli_fail(c, VC_EFAIL, "out of memory");
	}
	explicit_bzero(chunk, sizeof(chunk));
	return 0;
}

int read_file(struct cli *c, const char *opt, const char *path, size_t max,
	      struct vc_buf *out)
{
	int fd, rc;

	if (!path)
		return read_fd_all(c, STDIN_FILENO, "standard input", max, out);
	fd = vc_host_open(path, O_RDONLY, 0);
	if (fd < 0)
		return cli_fail(c, errno == ENOENT ? VC_ENOTFOUND : VC_EUSAGE,
				"%s: cannot read '%s': %s", opt, path,
				strerror(errno));
	rc = read_fd_all(c, fd, opt, max, out);
	close(fd);
	return rc;
}

int read_value(struct cli *c, const char *what, const char *from_file,
	       size_t max, struct vc_buf *out)
{
	int rc;

	if (from_file)
		return read_file(c, "--from-file", from_file, max, out);
	/* The shell's standard input holds its next commands, not a value. */
	if (!isatty(STDIN_FILENO) && c->shared)
		return cli_fail(c, VC_EUSAGE, "in the shell a value comes from "
				"--from-file or the terminal prompt");
	if (!isatty(STDIN_FILENO))
		return read_fd_all(c, STDIN_FILENO, "standard input", max, out);
	rc = prompt_secret(c, what, 1, out);
	if (rc == 0 && out->len > max)
		rc = cli_fail(c, VC_EUSAGE, "the value is larger than %zu bytes "
			      "(max_value_size)", max);
	return rc;
}

int prompt_password_for(struct cli *c, const char *who, struct vc_buf *out)
{
	const char *file = getenv("VAULTCTL_PASSWORD_FILE");
	char q[300];
	int fd, rc;

	if (file && *file) {
		rc = vc_conf_check_private(file, "password file", &c->err);
		if (rc < 0)
			return rc;
		fd = vc_host_open(file, O_RDONLY, 0);
		if (fd < 0)
			return cli_fail(c, VC_EPERM, "cannot read password file "
					"'%s': %s", file, strerror(errno));
		rc = read_fd_all(c, fd, "the password file", 4096, out);
		close(fd);
		/* A file written with echo ends with a newline. */
		while (rc == 0 && out->len && (out->data[out->len - 1] == '\n' ||
					       out->data[out->len - 1] == '\r'))
			out->data[--out->len] = '\0';
		return rc;
	}
	snprintf(q, sizeof(q), "password for %s", who);
	return prompt_secret(c, q, 0, out);
}
