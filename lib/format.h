/* format.h - `vaultctl-secret export` encoders (vaultctl-secret(1)).
 *
 * Every format either carries a value EXACTLY through its real consumers
 * (vaultctl-secret(1), EXPORT FORMATS) or refuses it by name; nothing is mangled.
 */
#ifndef VC_FORMAT_H
#define VC_FORMAT_H

#include <stddef.h>

#include "vc.h"

enum vc_format {
	VC_FMT_SH,      /* export NAME='...'   for . file / eval in any POSIX sh */
	VC_FMT_DOTENV,  /* NAME='...' | "..."  read alike by npm dotenv and python-dotenv */
	VC_FMT_JSON,    /* {"NAME":"value",...} */
	VC_FMT_YAML,    /* "NAME": "value" per line */
	VC_FMT_DOCKER,  /* NAME=value          docker run --env-file */
	VC_FMT_ENV0,    /* NAME=value\0        env -0 style records */
};

/* One secret: value is arbitrary bytes (len of them, not NUL-terminated). */
struct vc_kv {
	const char *name;
	const char *value;
	size_t len;
};

/* "sh", "dotenv", "json", "yaml", "docker", "env0"; anything else is
 * VC_EUSAGE with a message listing the valid names. */
int vc_format_parse(const char *name, enum vc_format *out, struct vc_err *e);
const char *vc_format_name(enum vc_format f);

/* Appends the export of n pairs (in the caller's order) to out.  A value the
 * format cannot carry exactly is refused with VC_EUSAGE, the message naming
 * the secret, the reason and a format that would carry it; out is then left
 * as it was (what was appended is wiped).  out should be a secret buffer. */
int vc_format_export(enum vc_format f, const struct vc_kv *kv, size_t n,
		     struct vc_buf *out, struct vc_err *e);

/* 1 if the n bytes are well-formed UTF-8 (no overlong forms, no UTF-16
 * surrogates, nothing above U+10FFFF), else 0.  NUL bytes are well-formed. */
int vc_utf8_valid(const void *p, size_t n);

/* inject's filters: how a value is written inside a template. */
enum vc_filter { VC_FILTER_RAW, VC_FILTER_JSON, VC_FILTER_YAML, VC_FILTER_SH };

/* The filter named by len bytes of name; VC_EUSAGE for none. */
int vc_filter_parse(const char *name, size_t len, enum vc_filter *out);
/* Appends the value (len bytes) as filter f writes it: raw the bytes, json
 * the inside of a JSON string, yaml of a double-quoted YAML scalar, sh of
 * a single-quoted shell word.  A value f cannot carry is VC_EUSAGE naming
 * ref (json, yaml: invalid UTF-8; sh: a NUL byte), out then unchanged. */
int vc_filter_apply(enum vc_filter f, const char *ref, const char *v,
		    size_t len, struct vc_buf *out, struct vc_err *e);

#endif
