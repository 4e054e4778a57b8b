/*
 * event.c — writing event lines.
 */
#include "config.h"

#include <string.h>

#include "event.h"
#include "json.h"
#include "timeutil.h"
#include "utf8.h"

void event_begin(struct buf *b, const char *name, int64_t ts_ms)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(ts_ms, ts);
	buf_adds(b, "{\"ts\":\"");
	buf_add(b, ts, TIME_RFC3339_LEN);
	buf_adds(b, "\",\"event\":");
	json_write_string(b, name, strlen(name));
}

static void key(struct buf *b, const char *k)
{
	buf_addc(b, ',');
	json_write_string(b, k, strlen(k));
	buf_addc(b, ':');
}

void event_strn(struct buf *b, const char *k, const char *val, size_t n)
{
	key(b, k);
	json_write_text(b, val, n);
}

void event_str(struct buf *b, const char *k, const char *val)
{
	event_strn(b, k, val, strlen(val));
}

void event_int(struct buf *b, const char *k, long long val)
{
	key(b, k);
	buf_printf(b, "%lld", val);
}

void event_double(struct buf *b, const char *k, double val)
{
	key(b, k);
	json_write_double(b, val);
}

void event_null(struct buf *b, const char *k)
{
	key(b, k);
	buf_adds(b, "null");
}

void event_raw(struct buf *b, const char *k, const char *json, size_t n)
{
	key(b, k);
	buf_add(b, json, n);
}

void event_bool(struct buf *b, const char *k, bool val)
{
	key(b, k);
	buf_adds(b, val ? "true" : "false");
}

void event_end(struct buf *b)
{
	buf_adds(b, "}\n");
}
