/*
 * timeutil.c — time parsing and formatting without locale or TZ lookups:
 * every mqmon timestamp is UTC.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static void put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10 % 10);
	o[1] = (char)('0' + v % 10);
}

void time_format_ms(int64_t ms, char out[TIME_RFC3339_LEN + 1])
{
	/* The date and time of day change once a second while a subscriber may
	 * format hundreds of thousands of stamps a second: cache the prefix. */
	static _Thread_local int64_t cached_sec = INT64_MIN;
	static _Thread_local char cached[20];
	int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	unsigned milli = (unsigned)(ms - sec * 1000);
	if (sec != cached_sec) {
		int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
		unsigned rem = (unsigned)(sec - days * 86400);
		int64_t y;
		unsigned m, d;
		civil_from_days(days, &y, &m, &d);
		if (y < 0 || y > 9999)
			y = y < 0 ? 0 : 9999;
		char *o = cached;
		put2(o, (unsigned)(y / 100));
		put2(o + 2, (unsigned)(y % 100));
		o[4] = '-';
		put2(o + 5, m);
		o[7] = '-';
		put2(o + 8, d);
		o[10] = 'T';
		put2(o + 11, rem / 3600);
		o[13] = ':';
		put2(o + 14, rem / 60 % 60);
		o[16] = ':';
		put2(o + 17, rem % 60);
		cached_sec = sec;
	}
	memcpy(out, cached, 19);
	out[19] = '.';
	out[20] = (char)('0' + milli / 100);
	put2(out + 21, milli % 100);
	out[23] = 'Z';
	out[24] = '\0';
}

static bool digits(const char *s, size_t n, size_t at, size_t count, unsigned *v)
{
	if (at + count > n)
		return false;
	unsigned r = 0;
	for (size_t i = at; i < at + count; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		r = r * 10 + (unsigned)(s[i] - '0');
	}
	*v = r;
	return true;
}

static bool bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return false;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : dm[m - 1];
}

bool time_parse_rfc3339(const char *s, size_t n, int64_t *ms, const char **why)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0, frac = 0;
	if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) || s[7] != '-' ||
	    !digits(s, n, 8, 2, &d))
		return bad(why, "expected an RFC 3339 time such as 2025-01-28T10:30:15Z");
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return bad(why, "no such date");
	size_t i = 10;
	int offset_min = 0;
	if (i < n) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return bad(why, "expected 'T' after the date");
		if (!digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' || !digits(s, n, i + 4, 2, &mi))
			return bad(why, "expected HH:MM after the date");
		i += 6;
		if (i < n && s[i] == ':') {
			if (!digits(s, n, i + 1, 2, &se))
				return bad(why, "expected seconds after HH:MM:");
			i += 3;
		}
		if (h > 23 || mi > 59 || se > 60)
			return bad(why, "no such time of day");
		if (se == 60)
			se = 59; /* a leap second is kept within its minute */
		if (i < n && (s[i] == '.' || s[i] == ',')) {
			size_t j = i + 1, k = 0;
			while (j < n && s[j] >= '0' && s[j] <= '9') {
				if (k < 3) {
					frac = frac * 10 + (unsigned)(s[j] - '0');
					k++;
				}
				j++;
			}
			if (j == i + 1)
				return bad(why, "expected digits after the decimal point");
			while (k++ < 3)
				frac *= 10;
			i = j;
		}
		if (i >= n)
			return bad(why, "missing time zone (Z or +HH:MM)");
		if (s[i] == 'Z' || s[i] == 'z') {
			i++;
			/* mosquitto_sub -F %j prints "…Z+0000" */
			if (i + 5 == n && (s[i] == '+' || s[i] == '-') && memcmp(s + i + 1, "0000", 4) == 0)
				i += 5;
		} else if (s[i] == '+' || s[i] == '-') {
			unsigned oh, om;
			int sign = s[i] == '-' ? -1 : 1;
			if (!digits(s, n, i + 1, 2, &oh))
				return bad(why, "bad time zone offset");
			i += 3;
			if (i < n && s[i] == ':')
				i++;
			if (!digits(s, n, i, 2, &om))
				return bad(why, "bad time zone offset");
			i += 2;
			if (oh > 23 || om > 59)
				return bad(why, "bad time zone offset");
			offset_min = sign * (int)(oh * 60 + om);
		} else {
			return bad(why, "bad time zone (expected Z or +HH:MM)");
		}
		if (i != n)
			return bad(why, "trailing characters after the time");
	}
	int64_t days = time_days_from_civil(y, mo, d);
	int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - (int64_t)offset_min * 60;
	*ms = secs * 1000 + frac;
	return true;
}

static int64_t unit_ms(const char *u, size_t len)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1},        {"s", 1000},         {"sec", 1000},       {"m", 60000},      {"min", 60000},
	             {"h", 3600000},   {"hr", 3600000},     {"d", 86400000},     {"day", 86400000}, {"days", 86400000},
	             {"w", 604800000}, {"week", 604800000}, {"weeks", 604800000}};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == len && memcmp(units[i].name, u, len) == 0)
			return units[i].ms;
	return -1;
}

bool time_parse_span(const char *s, int64_t *ms, const char **why)
{
	size_t i = 0, n = strlen(s);
	double total = 0;
	if (n == 0)
		return bad(why, "empty time span");
	while (i < n) {
		size_t start = i;
		double v = 0, scale = 0;
		bool any_digit = false;
		while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
			if (s[i] == '.') {
				if (scale)
					return bad(why, "bad number in time span");
				scale = 1;
			} else if (scale) {
				scale /= 10;
				v += (s[i] - '0') * scale;
				any_digit = true;
			} else {
				v = v * 10 + (s[i] - '0');
				any_digit = true;
			}
			i++;
		}
		if (i == start)
			return bad(why, "expected a number such as 90s, 15m, 2h or 7d");
		if (!any_digit) /* "." or ".s" is not zero, it is a typo */
			return bad(why, "bad number in time span");
		size_t u = i;
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			i++;
		int64_t per;
		if (u == i) {
			if (i != n || start != 0)
				return bad(why, "missing unit (ms, s, m, h, d, w)");
			per = 1000; /* a bare number is seconds */
		} else if ((per = unit_ms(s + u, i - u)) < 0) {
			return bad(why, "unknown unit (use ms, s, m, h, d or w)");
		}
		total += v * (double)per;
	}
	if (total > 9.2e15)
		return bad(why, "time span too long");
	*ms = (int64_t)(total + 0.5);
	return true;
}

bool time_parse_when(const char *s, int64_t now_ms, int64_t *ms, const char **why)
{
	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return true;
	}
	/* a date starts with four digits and a dash; anything else is a span */
	if (strlen(s) >= 5 && s[4] == '-')
		return time_parse_rfc3339(s, strlen(s), ms, why);
	int64_t span;
	if (!time_parse_span(s, &span, why))
		return bad(why, "expected an RFC 3339 time or a span such as 15m, 2h, 7d");
	*ms = now_ms - span;
	return true;
}
