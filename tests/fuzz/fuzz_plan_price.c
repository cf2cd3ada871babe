/* fuzz_plan_price.c - vc_plan_price_check and vc_plan_cycle_check
 * (vaultctl-plan create/set --price, --cycle).
 *
 * The price check is compared both ways with the grammar plan.h states,
 * written here as a second implementation: "0" or [1-9][0-9]{0,7},
 * optionally '.' and one or two digits.  What passes is bound as a string
 * into DECIMAL(10,2), so anything else must be refused, and nothing in
 * the grammar may be.
 */
#include "fuzz.h"

#include "plan.h"

static int grammar(const char *s)
{
	size_t i = 0, whole, frac = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	whole = i;
	if (whole == 0 || whole > 8 || (whole > 1 && s[0] == '0'))
		return 0;
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (frac < 1 || frac > 2)
			return 0;
	}
	return s[i] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct vc_err e = { 0, "" };
	int rc;

	rc = vc_plan_price_check(s, &e);
	fuzz_check_err(rc, &e);
	FUZZ_CHECK((rc == 0) == grammar(s), "price '%s' %s", s,
		   rc == 0 ? "accepted" : "refused");
	FUZZ_CHECK(rc == 0 || rc == VC_EUSAGE, "code %d", rc);
	rc = vc_plan_cycle_check(s, &e);
	fuzz_check_err(rc, &e);
	FUZZ_CHECK((rc == 0) == (!strcmp(s, "monthly") || !strcmp(s, "yearly")),
		   "cycle '%s'", s);
	free(s);
	return 0;
}
