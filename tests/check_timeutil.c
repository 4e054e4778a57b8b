/*
 * check_timeutil.c — unit tests for src/timeutil.h: RFC 3339 parsing (zones,
 * fractions, bare dates, mosquitto's "…Z+0000", leap years, errors),
 * formatting of known instants and its per-second cache, spans and the
 * command line's "when".
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "timeutil.h"

#define T_2025_01_28_103015 INT64_C(1738060215000) /* 2025-01-28T10:30:15Z */

static int64_t parse_ok(const char *s)
{
	int64_t ms = -42;
	const char *why = NULL;
	ck_assert_msg(time_parse_rfc3339(s, strlen(s), &ms, &why), "rejected %s: %s", s, why);
	return ms;
}

static void parse_bad(const char *s, const char *reason)
{
	int64_t ms = -42;
	const char *why = NULL;
	ck_assert_msg(!time_parse_rfc3339(s, strlen(s), &ms, &why), "accepted '%s'", s);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, reason) != NULL, "'%s': reason '%s', expected '%s'", s, why, reason);
	ck_assert_int_eq(ms, -42); /* untouched */
}

START_TEST(test_rfc3339)
{
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15Z"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15.123Z"), T_2025_01_28_103015 + 123);
	ck_assert_int_eq(parse_ok("2025-01-28t10:30:15z"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28 10:30:15Z"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28T12:30:15+02:00"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28 12:30:15+02:00"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28T12:30:15+0200"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28T05:00:15-05:30"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15+00:00"), T_2025_01_28_103015);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15-00:00"), T_2025_01_28_103015);
	/* fractions: fewer digits are scaled, more are truncated */
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15.1Z"), T_2025_01_28_103015 + 100);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15.12Z"), T_2025_01_28_103015 + 120);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15.1239Z"), T_2025_01_28_103015 + 123);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15.123999999Z"), T_2025_01_28_103015 + 123);
	ck_assert_int_eq(parse_ok("2025-01-28T10:30:15,5Z"), T_2025_01_28_103015 + 500);
	ck_assert_int_eq(parse_ok("2025-01-28T12:30:15.250+02:00"), T_2025_01_28_103015 + 250);
	/* seconds may be left out */
	ck_assert_int_eq(parse_ok("2025-01-28T10:30Z"), T_2025_01_28_103015 - 15000);
	/* a bare date is midnight UTC */
	ck_assert_int_eq(parse_ok("2025-01-28"), INT64_C(1738022400000));
	ck_assert_int_eq(parse_ok("1970-01-01"), 0);
	ck_assert_int_eq(parse_ok("1969-12-31T23:59:59.999Z"), -1);
	ck_assert_int_eq(parse_ok("1900-01-01T00:00:00Z"), INT64_C(-2208988800000));
	ck_assert_int_eq(parse_ok("9999-12-31T23:59:59.999Z"), INT64_C(253402300799999));
	/* what mosquitto_sub -F %j prints */
	ck_assert_int_eq(parse_ok("2026-11-23T17:00:38.078107Z+0000"), INT64_C(1795453238078));
	/* a leap second stays within its minute */
	ck_assert_int_eq(parse_ok("2016-12-31T23:59:60Z"), parse_ok("2016-12-31T23:59:59Z"));

	/* n bounds the text */
	int64_t ms;
	ck_assert(time_parse_rfc3339("2025-01-28T10:30:15Zjunk", 20, &ms, NULL));
	ck_assert_int_eq(ms, T_2025_01_28_103015);
	ck_assert(time_parse_rfc3339("2025-01-28T10:30:15Z", 10, &ms, NULL));
	ck_assert_int_eq(ms, INT64_C(1738022400000));
}
END_TEST

START_TEST(test_rfc3339_leap_years)
{
	ck_assert_int_eq(parse_ok("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
	ck_assert_int_eq(parse_ok("2000-02-29T12:00:00Z"), INT64_C(951825600000));
	ck_assert_int_eq(parse_ok("2024-02-29"), INT64_C(1709164800000));
	parse_bad("2023-02-29T00:00:00Z", "no such date");
	parse_bad("2023-02-29", "no such date");
	parse_bad("1900-02-29", "no such date"); /* divisible by 100, not by 400 */
	parse_bad("2024-02-30", "no such date");
	ck_assert_int_eq(parse_ok("2023-02-28T23:59:59.999Z") + 1, parse_ok("2023-03-01"));
	ck_assert_int_eq(parse_ok("2024-02-29T23:59:59.999Z") + 1, parse_ok("2024-03-01"));
}
END_TEST

START_TEST(test_rfc3339_bad)
{
	parse_bad("", "expected an RFC 3339 time");
	parse_bad("2025", "expected an RFC 3339 time");
	parse_bad("2025-1-28", "expected an RFC 3339 time");
	parse_bad("2025/01/28", "expected an RFC 3339 time");
	parse_bad("abcd-01-28", "expected an RFC 3339 time");
	parse_bad("1738060215", "expected an RFC 3339 time");
	parse_bad("2025-00-10", "no such date");
	parse_bad("2025-13-01", "no such date");
	parse_bad("2025-01-00", "no such date");
	parse_bad("2025-01-32", "no such date");
	parse_bad("2025-04-31", "no such date");
	parse_bad("2025-01-28X10:30:15Z", "expected 'T'");
	parse_bad("2025-01-28T", "expected HH:MM");
	parse_bad("2025-01-28T10", "expected HH:MM");
	parse_bad("2025-01-28T1:30:15Z", "expected HH:MM");
	parse_bad("2025-01-28T10:30:1Z", "expected seconds");
	parse_bad("2025-01-28T24:00:00Z", "no such time of day");
	parse_bad("2025-01-28T10:60:00Z", "no such time of day");
	parse_bad("2025-01-28T10:30:61Z", "no such time of day");
	parse_bad("2025-01-28T10:30:15", "missing time zone");
	parse_bad("2025-01-28T10:30:15.123", "missing time zone");
	parse_bad("2025-01-28T10:30:15.Z", "digits after the decimal point");
	parse_bad("2025-01-28T10:30:15 Z", "bad time zone");
	parse_bad("2025-01-28T10:30:15UTC", "bad time zone");
	parse_bad("2025-01-28T10:30:15+2:00", "bad time zone offset");
	parse_bad("2025-01-28T10:30:15+02", "bad time zone offset");
	parse_bad("2025-01-28T10:30:15+24:00", "bad time zone offset");
	parse_bad("2025-01-28T10:30:15+02:60", "bad time zone offset");
	parse_bad("2025-01-28T10:30:15Zjunk", "trailing characters");
	parse_bad("2025-01-28T10:30:15Z+0100", "trailing characters"); /* only mosquitto's +0000 */
	parse_bad("2025-01-28T10:30:15+02:00Z", "trailing characters");
	parse_bad("2025-01-28 ", "expected HH:MM");
}
END_TEST

static void expect_format(int64_t ms, const char *want)
{
	char out[TIME_RFC3339_LEN + 1];
	memset(out, '#', sizeof out);
	time_format_ms(ms, out);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(strlen(out), TIME_RFC3339_LEN);
}

START_TEST(test_format)
{
	expect_format(0, "1970-01-01T00:00:00.000Z");
	expect_format(T_2025_01_28_103015 + 123, "2025-01-28T10:30:15.123Z");
	expect_format(-1, "1969-12-31T23:59:59.999Z");
	expect_format(-999, "1969-12-31T23:59:59.001Z");
	expect_format(-1000, "1969-12-31T23:59:59.000Z");
	expect_format(-1001, "1969-12-31T23:59:58.999Z");
	expect_format(-86400000, "1969-12-31T00:00:00.000Z");
	expect_format(-86400001, "1969-12-30T23:59:59.999Z");
	expect_format(INT64_C(-2208988800000), "1900-01-01T00:00:00.000Z");
	expect_format(INT64_C(951825600000), "2000-02-29T12:00:00.000Z");
	expect_format(INT64_C(1709251199999), "2024-02-29T23:59:59.999Z");
	expect_format(INT64_C(253402300799999), "9999-12-31T23:59:59.999Z");
	expect_format(INT64_C(1795453238078), "2026-11-23T17:00:38.078Z");
	expect_format(7, "1970-01-01T00:00:00.007Z");
	expect_format(10, "1970-01-01T00:00:00.010Z");
}
END_TEST

/* The date part is cached per second: it must follow every change of
 * second, back and forth, and not go stale within one. */
START_TEST(test_format_cache)
{
	int64_t t = T_2025_01_28_103015;
	expect_format(t, "2025-01-28T10:30:15.000Z");
	expect_format(t + 999, "2025-01-28T10:30:15.999Z");
	expect_format(t + 1000, "2025-01-28T10:30:16.000Z");
	expect_format(t + 1, "2025-01-28T10:30:15.001Z");
	expect_format(t + 86400000, "2025-01-29T10:30:15.000Z");
	expect_format(t + 86400000 + 5, "2025-01-29T10:30:15.005Z");
	expect_format(t, "2025-01-28T10:30:15.000Z");
	expect_format(-1, "1969-12-31T23:59:59.999Z");
	expect_format(0, "1970-01-01T00:00:00.000Z");
	expect_format(-1, "1969-12-31T23:59:59.999Z");
	expect_format(t - 1000, "2025-01-28T10:30:14.000Z");
	static const char *hours[] = {"2025-01-28T10:30:15.000Z", "2025-01-28T11:30:15.000Z",
	                              "2025-01-28T12:30:15.000Z", "2025-01-28T13:30:15.000Z"};
	for (int i = 0; i < 4; i++) {
		expect_format(t + i * 3600000, hours[i]);
		expect_format(t, hours[0]);
	}
}
END_TEST

/* format and parse agree over a wide range of instants */
START_TEST(test_format_parse_roundtrip)
{
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* about 1653 to 2286 */
		int64_t ms = (int64_t)(x % UINT64_C(20000000000000)) - INT64_C(10000000000000);
		if (i % 2)
			ms = (ms / 1000) * 1000 + (i % 1000); /* nearby seconds, to exercise the cache */
		char out[TIME_RFC3339_LEN + 1];
		time_format_ms(ms, out);
		int64_t back;
		const char *why;
		ck_assert_msg(time_parse_rfc3339(out, strlen(out), &back, &why), "%s: %s", out, why);
		ck_assert_msg(back == ms, "%s parsed as %lld, expected %lld", out, (long long)back, (long long)ms);
	}
}
END_TEST

START_TEST(test_days_from_civil)
{
	ck_assert_int_eq(time_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(time_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(time_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(time_days_from_civil(2025, 1, 28), 20116);
	ck_assert_int_eq(time_days_from_civil(1600, 1, 1), -135140);
}
END_TEST

START_TEST(test_clocks)
{
	int64_t now = time_now_ms();
	ck_assert_int_gt(now, INT64_C(1704067200000)); /* after 2024 */
	int64_t a = time_mono_ms(), b = time_mono_ms();
	ck_assert_int_ge(b, a);
}
END_TEST

static int64_t span_ok(const char *s)
{
	int64_t ms = -42;
	const char *why = NULL;
	ck_assert_msg(time_parse_span(s, &ms, &why), "rejected '%s': %s", s, why);
	return ms;
}

static void span_bad(const char *s, const char *reason)
{
	int64_t ms = -42;
	const char *why = NULL;
	ck_assert_msg(!time_parse_span(s, &ms, &why), "accepted '%s' as %lld ms", s, (long long)ms);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, reason) != NULL, "'%s': reason '%s', expected '%s'", s, why, reason);
	ck_assert_int_eq(ms, -42);
}

START_TEST(test_spans)
{
	ck_assert_int_eq(span_ok("90s"), 90000);
	ck_assert_int_eq(span_ok("15m"), 900000);
	ck_assert_int_eq(span_ok("2h"), 7200000);
	ck_assert_int_eq(span_ok("7d"), 604800000);
	ck_assert_int_eq(span_ok("1w"), 604800000);
	ck_assert_int_eq(span_ok("2weeks"), 1209600000);
	ck_assert_int_eq(span_ok("500ms"), 500);
	ck_assert_int_eq(span_ok("1h30m"), 5400000);
	ck_assert_int_eq(span_ok("1m30s"), 90000);
	ck_assert_int_eq(span_ok("1d12h"), 129600000);
	ck_assert_int_eq(span_ok("1.5h"), 5400000);
	ck_assert_int_eq(span_ok("0.25s"), 250);
	ck_assert_int_eq(span_ok(".5s"), 500);
	ck_assert_int_eq(span_ok("2min"), 120000);
	ck_assert_int_eq(span_ok("3sec"), 3000);
	ck_assert_int_eq(span_ok("1hr"), 3600000);
	ck_assert_int_eq(span_ok("1day"), 86400000);
	/* a bare number is seconds, fractions allowed */
	ck_assert_int_eq(span_ok("90"), 90000);
	ck_assert_int_eq(span_ok("2.5"), 2500);
	ck_assert_int_eq(span_ok("0"), 0);
	ck_assert_int_eq(span_ok("0.001"), 1);
}
END_TEST

START_TEST(test_spans_bad)
{
	span_bad("15x", "unknown unit");
	span_bad("15M", "unknown unit"); /* units are lower case */
	span_bad("1e3s", "unknown unit");
	span_bad("-5m", "expected a number");
	span_bad("", "empty");
	span_bad("m", "expected a number");
	span_bad("ms", "expected a number");
	span_bad("1h30", "missing unit");
	span_bad("1.2.3s", "bad number");
	span_bad(".", "bad number");
	span_bad(".s", "bad number");
	span_bad("15 m", "missing unit");
	span_bad(" 15m", "expected a number");
	span_bad("15m ", "expected a number");
	span_bad("+5m", "expected a number");
	span_bad("99999999999w", "too long");
}
END_TEST

START_TEST(test_when)
{
	const int64_t now = T_2025_01_28_103015 + 123;
	int64_t ms;
	const char *why;
	ck_assert(time_parse_when("15m", now, &ms, &why));
	ck_assert_int_eq(ms, now - 15 * 60000);
	ck_assert(time_parse_when("7d", now, &ms, &why));
	ck_assert_int_eq(ms, now - 7 * 86400000);
	ck_assert(time_parse_when("90", now, &ms, &why));
	ck_assert_int_eq(ms, now - 90000);
	ck_assert(time_parse_when("now", now, &ms, &why));
	ck_assert_int_eq(ms, now);
	ck_assert(time_parse_when("2025-01-28T10:30:15Z", now, &ms, &why));
	ck_assert_int_eq(ms, T_2025_01_28_103015);
	ck_assert(time_parse_when("2025-01-28T12:30:15.5+02:00", now, &ms, &why));
	ck_assert_int_eq(ms, T_2025_01_28_103015 + 500);
	ck_assert(time_parse_when("2025-01-28", now, &ms, &why));
	ck_assert_int_eq(ms, INT64_C(1738022400000));

	why = NULL;
	ck_assert(!time_parse_when("yesterday", now, &ms, &why));
	ck_assert_ptr_nonnull(why);
	ck_assert_ptr_nonnull(strstr(why, "RFC 3339"));
	why = NULL;
	ck_assert(!time_parse_when("", now, &ms, &why));
	ck_assert_ptr_nonnull(why);
	why = NULL;
	ck_assert(!time_parse_when("2025-02-30", now, &ms, &why));
	ck_assert_str_eq(why, "no such date");
	ck_assert(!time_parse_when("-15m", now, &ms, &why));
	ck_assert(!time_parse_when("NOW", now, &ms, &why));
}
END_TEST

static Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("rfc3339");
	tcase_add_test(tc, test_rfc3339);
	tcase_add_test(tc, test_rfc3339_leap_years);
	tcase_add_test(tc, test_rfc3339_bad);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_cache);
	tcase_add_test(tc, test_format_parse_roundtrip);
	tcase_add_test(tc, test_days_from_civil);
	tcase_add_test(tc, test_clocks);
	suite_add_tcase(s, tc);
	tc = tcase_create("spans");
	tcase_add_test(tc, test_spans);
	tcase_add_test(tc, test_spans_bad);
	tcase_add_test(tc, test_when);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(timeutil_suite)
