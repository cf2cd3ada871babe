/* vc.h - errors and byte buffers shared by every module of libvaultctl.
 *
 * lib/ never prints, exits or prompts: functions return 0 or a negative
 * VC_E* code and fill a caller-owned struct vc_err.  cmd/ maps the code to
 * the exit status of vaultctl(7), EXIT STATUS, with vc_err_exit().
 */
#ifndef VC_H
#define VC_H

#include <stdarg.h>
#include <stddef.h>

#define VC_VERSION "0.1.0"

/* The number of elements of an array (not of a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum vc_code {
	VC_OK = 0,
	VC_EFAIL = -1,          /* exit 1 */
	VC_EUSAGE = -2,         /* exit 2: usage error or invalid input */
	VC_ENOTFOUND = -3,      /* exit 3 */
	VC_EPERM = -4,          /* exit 4: permission denied, auth failed */
	VC_EQUOTA = -5,         /* exit 5 */
	VC_ECONFLICT = -6,      /* exit 6: exists, concurrent change, lock */
	VC_EUNAVAIL = -7,       /* exit 7: database or Vault unavailable */
	VC_EINCONSIST = -8,     /* exit 8: verify / reconcile found drift */
	VC_EINTR = -130,        /* exit 130 */
};

/* 512, not 256: a failed write of a batch says the batch,
 * the secret, what the store holds, the cause and what to do, and a cut
 * message loses the last of these, the part the user needs. */
struct vc_err {
	int code;
	char msg[512];
};

/* Sets e (if not NULL) and returns code, so callers can `return vc_err_set(...)`. */
int vc_err_set(struct vc_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vc_err_clear(struct vc_err *e);
/* Prefixes the message already in e with "prefix: ", keeping the code. */
int vc_err_prefix(struct vc_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vc_err_exit(int code);               /* VC_E* -> process exit status */
const char *vc_err_name(int code);       /* VC_E* -> "not_found", ... */

/* A growable byte buffer, always NUL-terminated (data may hold NULs too).
 * Mark it secret when it will hold a value: release then wipes it. */
struct vc_buf {
	char *data;
	size_t len;
	size_t cap;
	int secret;
};

#define VC_BUF_INIT { NULL, 0, 0, 0 }

void vc_buf_init(struct vc_buf *b, int secret);
int vc_buf_grow(struct vc_buf *b, size_t extra);  /* 0 or VC_EFAIL (ENOMEM) */
int vc_buf_add(struct vc_buf *b, const void *p, size_t n);
int vc_buf_addstr(struct vc_buf *b, const char *s);
int vc_buf_addch(struct vc_buf *b, char c);
int vc_buf_printf(struct vc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vc_buf_vprintf(struct vc_buf *b, const char *fmt, va_list ap);
void vc_buf_reset(struct vc_buf *b);     /* len = 0, wipes when secret */
void vc_buf_release(struct vc_buf *b);   /* frees, wipes when secret */
/* Takes ownership of the bytes: returns data (never NULL) and re-inits b. */
char *vc_buf_detach(struct vc_buf *b, size_t *len);

/* Wipes and frees a secret heap string (NULL is fine). */
void vc_free_secret(void *p, size_t n);

#endif
