/* fuzz_ref.c - the pure parts of references and names (ref.c):
 * vc_ref_split, vc_name_check, vc_secret_name_check, vc_email_check,
 * vc_is_uuid, vc_role_parse, all on the same text.
 *
 * Invariants (vaultctl(7), ADDRESSING): a split gives 1 to 4 non-empty
 * parts of at most 255 bytes, without '/', that join back into the text
 * (but for one trailing '/' after fewer than 4 parts); a name accepted by
 * a check has only the characters the check allows, so that no '/', "..",
 * blank or control character reaches a path or a query.
 */
#include "fuzz.h"

#include <ctype.h>

#include "ref.h"

static int only(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!(isascii((unsigned char)*s) && isalnum((unsigned char)*s)) &&
		    !strchr(extra, *s))
			return 0;
	return 1;
}

static void check_split(const char *text)
{
	char parts[4][256], joined[4 * 257];
	struct vc_err e = { 0, "" };
	int n = -1, rc;
	size_t len = 0;

	rc = vc_ref_split(text, parts, &n, &e);
	fuzz_check_err(rc, &e);
	if (rc < 0) {
		FUZZ_CHECK(rc == VC_EUSAGE, "code %d", rc);
		return;
	}
	FUZZ_CHECK(n >= 1 && n <= 4, "%d parts", n);
	for (int i = 0; i < n; i++) {
		size_t k = strlen(parts[i]);

		FUZZ_CHECK(k >= 1 && k <= 255, "part %d has %zu bytes", i, k);
		FUZZ_CHECK(!strchr(parts[i], '/'), "part %d has a '/'", i);
		memcpy(joined + len, parts[i], k);
		len += k;
		if (i < n - 1)
			joined[len++] = '/';
	}
	if (n < 4 && len + 1 == strlen(text) && text[len] == '/')
		joined[len++] = '/';
	joined[len] = '\0';
	FUZZ_CHECK(strcmp(joined, text) == 0, "parts do not join back");
}

static void check_names(const char *s)
{
	static const char *const kinds[] = { "organization", "project",
					     "environment" };
	struct vc_err e = { 0, "" };
	enum vc_role role;
	size_t n = strlen(s);
	int rc;

	for (int k = 0; k < 3; k++) {
		rc = vc_name_check(kinds[k], s, &e);
		fuzz_check_err(rc, &e);
		if (rc == 0) {
			FUZZ_CHECK(n >= 1 && n <= 63 && only(s, "._-") &&
				   isalnum((unsigned char)s[0]),
				   "bad %s name accepted", kinds[k]);
			FUZZ_CHECK(strcmp(s, ".") && strcmp(s, ".."),
				   "dot name accepted");
		}
	}
	rc = vc_secret_name_check(s, &e);
	fuzz_check_err(rc, &e);
	if (rc == 0)
		FUZZ_CHECK(n >= 1 && n <= 255 && only(s, "_") &&
			   !isdigit((unsigned char)s[0]),
			   "bad secret name accepted");
	rc = vc_email_check(s, &e);
	fuzz_check_err(rc, &e);
	if (rc == 0) {
		const char *at = strchr(s, '@');

		FUZZ_CHECK(at && at > s && !strchr(at + 1, '@') && n <= 254,
			   "bad email accepted");
		for (const char *p = s; *p; p++)
			FUZZ_CHECK((unsigned char)*p > ' ' && *p != 0x7f,
				   "email with a blank or control character");
	}
	if (vc_is_uuid(s)) {
		FUZZ_CHECK(n == 36 && only(s, "-"), "bad uuid accepted");
		FUZZ_CHECK(s[8] == '-' && s[13] == '-' && s[18] == '-' &&
			   s[23] == '-', "bad uuid accepted");
	}
	rc = vc_role_parse(s, &role, &e);
	fuzz_check_err(rc, &e);
	if (rc == 0)
		FUZZ_CHECK(role >= VC_ROLE_VIEWER && role <= VC_ROLE_OWNER &&
			   !strcmp(vc_role_name(role), s), "role '%s'", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	check_split(s);
	check_names(s);
	free(s);
	return 0;
}
