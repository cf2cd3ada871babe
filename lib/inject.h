/* inject.h - templates with references to secrets (vaultctl-secret
 * inject): {{ vaultctl://ORG/PROJECT/ENV/NAME [| raw|json|yaml|sh] }}
 * replaced by the values, the text around them copied byte for byte. */
#ifndef VC_INJECT_H
#define VC_INJECT_H

#include <stddef.h>

#include "session.h"
#include "vc.h"

/* Appends to out (a secret buffer) the len bytes of tmpl with every
 * reference replaced by its value, escaped by its filter.  Each
 * environment named is read at once (up to concurrency store requests in
 * flight) and every value used is audited once before this returns 0.  A
 * malformed reference or a value its filter cannot carry is VC_EUSAGE, a
 * missing one VC_ENOTFOUND; on any error out is left as it was and
 * nothing is audited. */
int vc_inject(struct vc_session *s, const char *tmpl, size_t len,
	      int concurrency, struct vc_buf *out, struct vc_err *e);

#endif
