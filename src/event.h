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
void event_bool(struct buf *b, const char *key, bool val);
void event_end(struct buf *b);

#endif
