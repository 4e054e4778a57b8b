/*
 * event.h — event lines (SPEC §1): {"ts":…,"event":"<name>",…}.  Programs
 * build them field by field into their output buffer:
 *
 *   event_begin(b, "connected", time_now_ms());
 *   event_str(b, "broker", "localhost:1883");
 *   event_end(b);
 */
#ifndef MQMON_EVENT_H
#define MQMON_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

void event_begin(struct buf *b, const char *name, int64_t ts_ms);
void event_str(struct buf *b, const char *key, const char *val);
void event_strn(struct buf *b, const char *key, const char *val, size_t n);
void event_int(struct buf *b, const char *key, long long val);
/* The shortest text that reads back as val; null when not finite. */
void event_double(struct buf *b, const char *key, double val);
void event_bool(struct buf *b, const char *key, bool val);
void event_null(struct buf *b, const char *key);
/* Insert raw JSON text (already valid) as the value of key. */
void event_raw(struct buf *b, const char *key, const char *json, size_t n);
void event_end(struct buf *b);

#endif
