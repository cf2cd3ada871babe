/* fuzz_dotenv.c - vc_dotenv_parse (vaultctl-secret import, dotenv).
 *
 * Invariants: an error leaves the list empty and names the line; a
 * success gives valid, distinct (case-insensitively) names and
 * NUL-terminated values; and what was read, exported again as dotenv
 * (when that format accepts it), reads back identically.
 */
#include "fuzz.h"

#include <strings.h>

#include "dotenv.h"
#include "format.h"
#include "ref.h"

static void check_list(const struct vc_kvlist *l)
{
	struct vc_err e;

	for (size_t i = 0; i < l->n; i++) {
		const struct vc_kv *kv = &l->items[i];

		FUZZ_CHECK(kv->name && kv->value, "entry %zu", i);
		FUZZ_CHECK(vc_secret_name_check(kv->name, &e) == 0,
			   "name '%s' accepted by the parser: %s", kv->name,
			   e.msg);
		FUZZ_CHECK(kv->value[kv->len] == '\0', "value %zu", i);
		FUZZ_CHECK(memchr(kv->value, '\0', kv->len) == NULL,
			   "NUL inside value %zu", i);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcasecmp(kv->name, l->items[j].name) != 0,
				   "duplicate name '%s'", kv->name);
	}
}

static void roundtrip(const struct vc_kvlist *l)
{
	struct vc_buf out = VC_BUF_INIT;
	struct vc_kvlist back;
	struct vc_err e;
	int rc;

	vc_buf_init(&out, 1);
	if (vc_format_export(VC_FMT_DOTENV, l->items, l->n, &out, &e) < 0) {
		vc_buf_release(&out);
		return;
	}
	rc = vc_dotenv_parse(out.data ? out.data : "", out.len, &back, &e);
	FUZZ_CHECK(rc == 0, "own dotenv export does not parse: %s", e.msg);
	FUZZ_CHECK(back.n == l->n, "%zu entries became %zu", l->n, back.n);
	for (size_t i = 0; i < l->n; i++) {
		FUZZ_CHECK(strcmp(back.items[i].name, l->items[i].name) == 0,
			   "name %zu", i);
		FUZZ_CHECK(back.items[i].len == l->items[i].len &&
			   memcmp(back.items[i].value, l->items[i].value,
				  l->items[i].len) == 0,
			   "value of '%s' changed through export/import",
			   l->items[i].name);
	}
	vc_kvlist_free(&back);
	vc_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Not NUL-terminated on purpose: the parser takes a length. */
	char *text = malloc(size ? size : 1);
	struct vc_kvlist l;
	struct vc_err e = { 0, "" };
	int rc;

	if (!text)
		abort();
	memcpy(text, data, size);
	rc = vc_dotenv_parse(text, size, &l, &e);
	fuzz_check_err(rc, &e);
	if (rc < 0) {
		FUZZ_CHECK(l.n == 0 && l.items == NULL, "list not empty after "
			   "an error");
		FUZZ_CHECK(rc == VC_EUSAGE || rc == VC_EFAIL, "code %d", rc);
		FUZZ_CHECK(rc != VC_EUSAGE || strncmp(e.msg, "line ", 5) == 0,
			   "message does not name the line: %s", e.msg);
	} else {
		check_list(&l);
		roundtrip(&l);
	}
	vc_kvlist_free(&l);
	free(text);
	return 0;
}
