/* dotenv.h - `vaultctl-secret import` parsers: dotenv and JSON.
 *
 * The dotenv dialect is the one vaultctl's own dotenv export writes, plus
 * what people write by hand:
 *
 *   # comment                      blank lines are skipped too
 *   export NAME=value              optional "export " prefix
 *   NAME = unquoted value  # note  trimmed; " #" (blank then #) starts a comment
 *   NAME='literal'                 no escapes; may span lines
 *   NAME="a\nb"                    \n \r \t \\ \" are escapes, any other
 *                                  backslash is kept; may span lines
 *
 * CRLF and lone CR line ends read as LF, also inside quotes (as npm dotenv
 * and python-dotenv do).  A leading UTF-8 BOM is skipped.  Values are bytes
 * as written (no ${VAR} expansion).  Errors are VC_EUSAGE "line N: reason":
 * unterminated quote, invalid name, missing '=', text after a closing
 * quote, a backquoted value (npm and python disagree on it), a NUL byte, and
 * a name given twice (compared case-insensitively, as secret names are) --
 * refused rather than letting the last one win silently.
 */
#ifndef VC_DOTENV_H
#define VC_DOTENV_H

#include <stddef.h>

#include "format.h"
#include "vc.h"

/* Owns its names and values; values are NUL-terminated (len excludes the
 * NUL) and wiped when freed. */
struct vc_kvlist {
	struct vc_kv *items;
	size_t n, cap;
	size_t *slot, nslot;    /* the parsers' index of names (dotenv.c) */
};

#define VC_KVLIST_INIT { NULL, 0, 0, NULL, 0 }

void vc_kvlist_free(struct vc_kvlist *l);

/* Both parsers (re)initialise out; on error it is left empty.  Entries keep
 * the order of the input. */
int vc_dotenv_parse(const char *text, size_t len, struct vc_kvlist *out,
		    struct vc_err *e);

/* A JSON object {"NAME": "string", ...}.  Refused: not an object, a value
 * that is not a string (naming the key), an invalid or repeated name,
 * \u0000 in a string, invalid UTF-8. */
int vc_json_import_parse(const char *text, size_t len, struct vc_kvlist *out,
			 struct vc_err *e);

#endif
