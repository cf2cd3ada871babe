/* fuzz_json_import.c - vc_json_import_parse (vaultctl-secret import,
 * JSON).
 *
 * Invariants: an error leaves the list empty; a success gives valid,
 * distinct names and values that are UTF-8 without NUL, exactly the
 * members a reference reader (json_ref.h, lenient as cJSON is about white
 * space and raw control bytes in strings) decodes, in order; an object of
 * string members with valid, distinct names and no NUL is never refused;
 * and the JSON export of what was read succeeds and reads back
 * identically.
 */
#include "fuzz.h"

#include <strings.h>

#include "dotenv.h"
#include "format.h"
#include "json_ref.h"
#include "ref.h"

static void check_list(const struct vc_kvlist *l)
{
	struct vc_err e;

	for (size_t i = 0; i < l->n; i++) {
		const struct vc_kv *kv = &l->items[i];

		FUZZ_CHECK(vc_secret_name_check(kv->name, &e) == 0,
			   "name '%s' accepted by the parser: %s", kv->name,
			   e.msg);
		FUZZ_CHECK(kv->value[kv->len] == '\0', "value %zu", i);
		FUZZ_CHECK(memchr(kv->value, '\0', kv->len) == NULL,
			   "NUL inside value %zu", i);
		FUZZ_CHECK(vc_utf8_valid(kv->value, kv->len),
			   "value of '%s' is not UTF-8", kv->name);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcasecmp(kv->name, l->items[j].name) != 0,
				   "duplicate name '%s'", kv->name);
	}
}

static void roundtrip(const struct vc_kvlist *l)
{
	struct vc_buf out;
	struct vc_kvlist back;
	struct vc_err e;
	int rc;

	vc_buf_init(&out, 1);
	rc = vc_format_export(VC_FMT_JSON, l->items, l->n, &out, &e);
	FUZZ_CHECK(rc == 0, "JSON export refuses what JSON import read: %s",
		   e.msg);
	rc = vc_json_import_parse(out.data, out.len, &back, &e);
	FUZZ_CHECK(rc == 0, "own JSON export does not parse: %s", e.msg);
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

static int names_distinct(const struct jref *r)
{
	struct vc_err e;

	for (size_t i = 0; i < r->nm; i++) {
		if (vc_secret_name_check(r->m[i].key.data ? r->m[i].key.data : "",
					 &e) < 0 || r->m[i].key.len !=
		    strlen(r->m[i].key.data))
			return 0;
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(r->m[i].key.data, r->m[j].key.data))
				return 0;
	}
	return 1;
}

/* Compares the result of the parser with the reference reader. */
static void against_reference(const char *text, size_t size, int rc,
			      const struct vc_kvlist *l, const char *msg)
{
	static struct jref_member m[JREF_MAX_MEMBERS];
	struct jref r = { .lenient = 1, .m = m };
	int ok = jref_object(&r, text, size), plain = ok;

	for (size_t i = 0; ok && i < r.nm; i++)
		plain &= r.m[i].val_is_string &&
			 !memchr(r.m[i].val.data ? r.m[i].val.data : "", '\0',
				 r.m[i].val.len);
	if (rc == 0) {
		FUZZ_CHECK(ok, "accepted what is not JSON");
		FUZZ_CHECK(r.nm == l->n || r.nm == JREF_MAX_MEMBERS,
			   "%zu members read as %zu", r.nm, l->n);
		for (size_t i = 0; i < r.nm; i++) {
			const struct vc_kv *kv = &l->items[i];
			const struct vc_buf *v = &r.m[i].val;

			FUZZ_CHECK(!strcmp(kv->name, r.m[i].key.data),
				   "member %zu: name '%s'", i, kv->name);
			FUZZ_CHECK(kv->len == v->len && (v->len == 0 ||
				   !memcmp(kv->value, v->data, v->len)),
				   "value of '%s' differs from the reference "
				   "(%zu bytes, reference %zu)", kv->name,
				   kv->len, v->len);
		}
	} else if (ok && plain && r.nm < JREF_MAX_MEMBERS && !r.unusual) {
		FUZZ_CHECK(!names_distinct(&r), "refused a plain object: %s",
			   msg);
	}
	jref_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	struct vc_kvlist l;
	struct vc_err e = { 0, "" };
	int rc;

	if (!text)
		abort();
	memcpy(text, data, size);
	rc = vc_json_import_parse(text, size, &l, &e);
	fuzz_check_err(rc, &e);
	against_reference(text, size, rc, &l, e.msg);
	if (rc < 0) {
		FUZZ_CHECK(l.n == 0 && l.items == NULL, "list not empty after "
			   "an error");
	} else {
		check_list(&l);
		roundtrip(&l);
	}
	vc_kvlist_free(&l);
	free(text);
	return 0;
}
