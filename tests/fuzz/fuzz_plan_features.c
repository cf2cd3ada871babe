/* fuzz_plan_features.c - vc_plan_features_parse (vaultctl-plan --features,
 * stored in the plans.features JSON column).
 *
 * A strict RFC 8259 reader (json_ref.h) is the reference.  Invariants:
 * what is accepted comes out as strictly valid JSON, an object, without
 * white space or control bytes, equal to the input as cJSON reads both,
 * and parsing it again gives it back unchanged; an input the reference
 * finds valid (an object, within the size limit, not nested as deep as
 * cJSON's limit) is accepted.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "json_ref.h"
#include "plan.h"

/* 1 if text is one strict JSON object with only white space around it. */
static int strict_object(const char *text, size_t n, int *unusual)
{
	struct jref r = { .lenient = 0 };
	int ok = jref_object(&r, text, n);

	*unusual = r.unusual;
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), *out = NULL, *again = NULL;
	struct vc_err e = { 0, "" };
	int rc, unusual, valid;
	size_t skip;

	if (!text)
		abort();
	memcpy(text, data, size);
	rc = vc_plan_features_parse(text, size, &out, &e);
	fuzz_check_err(rc, &e);
	skip = size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
	valid = strict_object(text + skip, size - skip, &unusual);
	if (rc < 0) {
		FUZZ_CHECK(out == NULL, "output left after an error");
		FUZZ_CHECK(!valid || unusual || size - skip >
			   VC_PLAN_FEATURES_MAX || memchr(text, '\0', size),
			   "valid JSON object refused: %s", e.msg);
	} else {
		size_t n = strlen(out);
		cJSON *a, *b;
		char *pa = NULL, *pb = NULL;
		int u2;

		FUZZ_CHECK(out != NULL, "no output");
		FUZZ_CHECK(strict_object(out, n, &u2), "output is not strict "
			   "JSON: %s", out);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK((unsigned char)out[i] >= 0x20, "byte 0x%02x "
				   "in the output", (unsigned char)out[i]);
		a = cJSON_ParseWithLength(text + skip, size - skip);
		b = cJSON_Parse(out);
		/* Printed rather than cJSON_Compare'd, which looks keys up
		 * by name and so fails on repeated keys. */
		FUZZ_CHECK(a && b && (pa = cJSON_PrintUnformatted(a)) &&
			   (pb = cJSON_PrintUnformatted(b)) && !strcmp(pa, pb),
			   "output differs from the input");
		cJSON_free(pa);
		cJSON_free(pb);
		cJSON_Delete(a);
		cJSON_Delete(b);
		rc = vc_plan_features_parse(out, n, &again, &e);
		FUZZ_CHECK(rc == 0 && !strcmp(out, again), "not idempotent: %s",
			   rc ? e.msg : again);
	}
	free(again);
	free(out);
	free(text);
	return 0;
}
