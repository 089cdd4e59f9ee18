/* Human-facing formats shared by every command: sizes, ages, timestamps. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

/* docker's units.HumanSizeWithPrecision(size, 3), as `docker images` prints
 * sizes: 3 significant digits, powers of 1000. */
void format_size(uint64_t bytes, char *out, size_t outlen)
{
	format_size_precision(bytes, 3, out, outlen);
}

/* docker's units.HumanSize is precision 4. */
void format_size_precision(uint64_t bytes, int precision, char *out, size_t outlen)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000.0;
		u++;
	}
	snprintf(out, outlen, "%.*g%s", precision, v, units[u]);
}

/* docker's units.HumanDuration followed by " ago". */
void format_age(int64_t then, int64_t now, char *out, size_t outlen)
{
	int64_t s = now - then, minutes = s / 60, hours = (s + 1800) / 3600;
	char d[32];

	if (s < 1)
		snprintf(d, sizeof(d), "Less than a second");
	else if (s == 1)
		snprintf(d, sizeof(d), "1 second");
	else if (s < 60)
		snprintf(d, sizeof(d), "%lld seconds", (long long)s);
	else if (minutes == 1)
		snprintf(d, sizeof(d), "About a minute");
	else if (minutes < 60)
		snprintf(d, sizeof(d), "%lld minutes", (long long)minutes);
	else if (hours == 1)
		snprintf(d, sizeof(d), "About an hour");
	else if (hours < 48)
		snprintf(d, sizeof(d), "%lld hours", (long long)hours);
	else if (hours < 24 * 7 * 2)
		snprintf(d, sizeof(d), "%lld days", (long long)(hours / 24));
	else if (hours < 24 * 30 * 2)
		snprintf(d, sizeof(d), "%lld weeks", (long long)(hours / 24 / 7));
	else if (hours < 24 * 365 * 2)
		snprintf(d, sizeof(d), "%lld months", (long long)(hours / 24 / 30));
	else
		snprintf(d, sizeof(d), "%lld years", (long long)(s / 3600 / 24 / 365));
	snprintf(out, outlen, "%s ago", d);
}

void format_rfc3339(int64_t sec, long nsec, char *out, size_t outlen)
{
	struct tm tm;
	time_t t = (time_t)sec;
	char base[40];

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (nsec > 0) {
		char frac[24];
		snprintf(frac, sizeof(frac), "%09ld", nsec);
		for (int i = 8; i > 0 && frac[i] == '0'; i--)
			frac[i] = '\0';
		snprintf(out, outlen, "%s.%.9sZ", base, frac);
	} else {
		snprintf(out, outlen, "%sZ", base);
	}
}

/* Go's time.Time.String() in UTC: "2006-01-02 15:04:05 +0000 UTC". */
void format_go_time(int64_t sec, char *out, size_t outlen)
{
	struct tm tm;
	time_t t = (time_t)sec;
	gmtime_r(&t, &tm);
	strftime(out, outlen, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
}

int parse_rfc3339(const char *s, int64_t *sec, long *nsec)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	long ns = 0;
	int64_t off = 0;

	if (!p)
		return -1;
	if (*p == '.') {
		int digits = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 9) {
				ns = ns * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		if (!digits)
			return -1;
		while (digits++ < 9)
			ns *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	*sec = (int64_t)timegm(&tm) - off;
	if (nsec)
		*nsec = ns;
	return 0;
}
