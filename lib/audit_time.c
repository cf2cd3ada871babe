/* audit_time.c - the times the audit commands take: an ISO 8601 date or
 * time, or an age back from now, as a UTC DATETIME. */
#include "auditlog.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int parse_relative(const char *s, time_t now, time_t *t)
{
	static const char units[] = "smhdw";
	static const long long secs[] = { 1, 60, 3600, 86400, 604800 };
	const char *u;
	char *end;
	long long n;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || !*end || end[1] || !(u = strchr(units, *end)))
		return -1;
	/* About 1000 years at most: the result stays a DATETIME. */
	if (n > 32000000000LL / secs[u - units])
		return -1;
	*t = now - (time_t)(n * secs[u - units]);
	return 0;
}

/* "Z", "+02:00", "-0530" or nothing (UTC); *p is past it on success. */
static int parse_zone(const char **p, long *off)
{
	const char *s = *p;
	int h, m, sign;

	*off = 0;
	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return 0;
	sign = *s == '-' ? -1 : 1;
	if (digits(s + 1, 2, &h) < 0)
		return -1;
	s += 3;
	if (*s == ':')
		s++;
	if (digits(s, 2, &m) < 0 || h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600L + m * 60L);
	*p = s + 2;
	return 0;
}

/* The time of day after a date: "THH:MM[:SS[.fff]]" and a zone. */
static int parse_clock(const char *p, struct tm *tm, long *off)
{
	if (!*p)
		return 0;
	if ((*p != 'T' && *p != 't' && *p != ' ') ||
	    digits(p + 1, 2, &tm->tm_hour) < 0 || p[3] != ':' ||
	    digits(p + 4, 2, &tm->tm_min) < 0)
		return -1;
	p += 6;
	if (*p == ':') {
		if (digits(p + 1, 2, &tm->tm_sec) < 0)
			return -1;
		p += 3;
		if (*p == '.' && isdigit((unsigned char)p[1]))
			for (p++; isdigit((unsigned char)*p); p++)
				;       /* fractions: DATETIME has none */
	}
	if (parse_zone(&p, off) < 0 || *p)
		return -1;
	return tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 59 ? -1 : 0;
}

static int parse_iso(const char *s, time_t *t)
{
	struct tm tm, back;
	long off = 0;
	int y, mo, d;

	memset(&tm, 0, sizeof(tm));
	if (digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 ||
	    s[7] != '-' || digits(s + 8, 2, &d) < 0 ||
	    parse_clock(s + 10, &tm, &off) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	*t = timegm(&tm);
	/* timegm normalises 2024-02-30 to March: refuse instead. */
	if (!gmtime_r(t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*t -= off;
	return 0;
}

int vc_auditlog_time(const char *s, time_t now, char out[20],
		     struct vc_err *e)
{
	struct tm tm;
	time_t t;

	if (parse_relative(s, now, &t) < 0 && parse_iso(s, &t) < 0)
		return vc_err_set(e, VC_EUSAGE, "invalid time '%.80s' (use an ISO "
				  "8601 date or time such as 2024-05-01 or "
				  "2024-05-01T12:00:00Z, or an age such as 30m, "
				  "24h, 7d)", s);
	if (!gmtime_r(&t, &tm) || tm.tm_year < 1000 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return vc_err_set(e, VC_EUSAGE, "time '%.80s' is out of range", s);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
	return 0;
}
