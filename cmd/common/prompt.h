/* prompt.h - terminal questions and reading values (never from argv). */
#ifndef VC_PROMPT_H
#define VC_PROMPT_H

#include "vc.h"

struct cli;

/* Asks on the terminal without echo; twice when confirm is set. */
int prompt_secret(struct cli *c, const char *what, int confirm,
		  struct vc_buf *out);
int prompt_yes_no(const char *question);
/* The acting user's password: $VAULTCTL_PASSWORD_FILE (mode 0600) or
 * the terminal. */
int prompt_password_for(struct cli *c, const char *who, struct vc_buf *out);
/* A value from --from-file, standard input when it is not a terminal,
 * or a no-echo prompt asked twice.  At most max bytes. */
int read_value(struct cli *c, const char *what, const char *from_file,
	       size_t max, struct vc_buf *out);
/* Reads a whole stream (fd) into out, refusing more than max bytes. */
/* PATH's bytes (standard input for NULL), opened with the
 * caller's own rights (lib/host.h); errors name OPT. */
int read_file(struct cli *c, const char *opt, const char *path, size_t max,
	      struct vc_buf *out);
int read_fd_all(struct cli *c, int fd, const char *what, size_t max,
		struct vc_buf *out);

#endif
