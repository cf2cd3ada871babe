/* fuzz_dates.c - dates and ages given on the command line:
 * vc_plan_date_parse (vaultctl-plan subscribe --start/--end) and
 * vc_auditlog_time (vaultctl-audit --since/--until/--before).
 *
 * Invariants: an accepted text becomes "YYYY-MM-DD HH:MM:SS" of a real
 * calendar time (it survives timegm/gmtime unchanged) within what a
 * DATETIME holds; a zone-less ISO time keeps its fields; an age goes back
 * from now; and where both parsers accept a text they agree.
 */
#include "fuzz.h"

#include <ctype.h>
#include <time.h>

#include "auditlog.h"
#include "plan.h"

#define NOW ((time_t)1700000000)        /* 2023-11-14 22:13:20 UTC */

static void check_datetime(const char *in, const char out[20])
{
	static const char pat[] = "dddd-dd-dd dd:dd:dd";
	struct tm tm, back;
	time_t t;
	char again[20];

	for (int i = 0; i < 19; i++)
		FUZZ_CHECK(pat[i] == 'd' ? isdigit((unsigned char)out[i]) :
			   out[i] == pat[i], "'%s' gave '%.19s'", in, out);
	FUZZ_CHECK(out[19] == '\0', "'%s': output not terminated", in);
	memset(&tm, 0, sizeof(tm));
	FUZZ_CHECK(strptime(out, "%Y-%m-%d %H:%M:%S", &tm) != NULL,
		   "'%s' gave '%s'", in, out);
	t = timegm(&tm);
	FUZZ_CHECK(gmtime_r(&t, &back) != NULL, "'%s' gave '%s'", in, out);
	strftime(again, sizeof(again), "%Y-%m-%d %H:%M:%S", &back);
	FUZZ_CHECK(!strcmp(again, out), "'%s' gave '%s', no such time", in,
		   out);
	FUZZ_CHECK(strcmp(out, "1000-01-01 00:00:00") >= 0, "'%s' gave '%s'",
		   in, out);
}

/* An ISO date or time without a zone: the fields are kept. */
static int zoneless_iso(const char *s)
{
	size_t n = strlen(s);

	return (n == 10 || n == 16 || n == 19) && isdigit((unsigned char)s[0]) &&
	       s[4] == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), a[20], p[20];
	struct vc_err e = { 0, "" };
	int ra, rp;

	ra = vc_auditlog_time(s, NOW, a, &e);
	fuzz_check_err(ra, &e);
	if (ra == 0) {
		check_datetime(s, a);
		if (isdigit((unsigned char)s[0]) && strchr("smhdw", s[strlen(s) - 1]))
			FUZZ_CHECK(strcmp(a, "2023-11-14 22:13:20") <= 0,
				   "age '%s' is in the future: '%s'", s, a);
		if (zoneless_iso(s)) {
			FUZZ_CHECK(!memcmp(a, s, 10), "'%s' became '%s'", s, a);
			if (strlen(s) > 10)
				FUZZ_CHECK(!memcmp(a + 11, s + 11, strlen(s) - 11),
					   "'%s' became '%s'", s, a);
		}
	}
	rp = vc_plan_date_parse(s, p, &e);
	fuzz_check_err(rp, &e);
	if (rp == 0) {
		check_datetime(s, p);
		FUZZ_CHECK(strcmp(p, "1970-01-01 00:00:00") >= 0,
			   "'%s' gave '%s' before 1970", s, p);
		FUZZ_CHECK(ra == 0 && !strcmp(a, p), "'%s': plan '%s', audit "
			   "'%s'", s, p, ra == 0 ? a : e.msg);
	}
	free(s);
	return 0;
}
