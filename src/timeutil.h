/*
 * timeutil.h — clocks, RFC 3339 timestamps with millisecond precision, and
 * spans such as "90s", "15m", "2h", "7d" (SPEC §3 "Times").  All times are
 * int64 milliseconds: since the Unix epoch (wall clock) or since an
 * arbitrary point (monotonic clock).
 */
#ifndef MQMON_TIMEUTIL_H
#define MQMON_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIME_RFC3339_LEN 24 /* "2025-01-28T10:30:15.123Z" */

int64_t time_now_ms(void); /* wall clock */
int64_t time_mono_ms(void); /* monotonic, for timeouts and rates */
int64_t time_mono_us(void); /* monotonic, for latencies */

/* Write ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" plus a NUL into out. */
void time_format_ms(int64_t ms, char out[TIME_RFC3339_LEN + 1]);

/* Parse an RFC 3339 date-time ("2025-01-28T10:30:15.123Z",
 * "2025-01-28 12:30:15+02:00", a bare date "2025-01-28" meaning midnight
 * UTC; also the "…Z+0000" that mosquitto_sub -F %j prints).  Fractions
 * beyond milliseconds are truncated.  On error *why is set. */
bool time_parse_rfc3339(const char *s, size_t n, int64_t *ms, const char **why);

/* Parse a span: a number with a unit (ms, s, m, h, d, w), several of them
 * adding up ("1h30m"), fractions allowed ("1.5h"); a bare number is
 * seconds.  Negative spans are rejected. */
bool time_parse_span(const char *s, int64_t *ms, const char **why);

/* A point in time as users write it on the command line: RFC 3339, "now",
 * or a span meaning that long before now ("15m" = 15 minutes ago). */
bool time_parse_when(const char *s, int64_t now_ms, int64_t *ms, const char **why);

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
