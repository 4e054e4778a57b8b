/*
 * topic.h — MQTT topic names and filters (MQTT 5 §4.7): validation,
 * matching with '+', '#', "$share/GROUP/…" and the rule that wildcards at
 * the first level do not match "$" topics; and patterns with named captures
 * such as "autocore/{device}/relay/{key}/status" for rules.
 */
#ifndef MQMON_TOPIC_H
#define MQMON_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define TOPIC_MAX_LEN 65535

/* A topic to publish to: non-empty, at most 65535 bytes, valid UTF-8, no
 * NUL, no wildcards.  On failure *why says which rule broke, as the end of
 * a sentence about the topic: "contains a wildcard ('+' or '#')". */
bool topic_name_valid(const char *t, size_t n, const char **why);

/* A subscription filter: '+' and '#' only as whole levels, '#' last;
 * "$share/GROUP/FILTER" with a non-empty GROUP free of wildcards. */
bool topic_filter_valid(const char *f, size_t n, const char **why);

/* Does filter (valid, NUL-terminated) match topic (a valid name)?
 * A "$share/GROUP/" prefix on the filter is ignored for matching. */
bool topic_matches(const char *filter, const char *topic, size_t topic_len);

/* Templates such as "devices/{device}/command": {device} and {command}
 * replaced by values, each of which must fit in one level (no '/', '+',
 * '#' or NUL, not empty).  topic_template_expand() appends the topic to
 * out; false with *why ("the device 'a/b' contains '/'") otherwise. */
bool topic_level_valid(const char *v, size_t n, const char **why);
bool topic_template_expand(struct buf *out, const char *tmpl, const char *device, const char *command,
                           const char **why);
/* The template as a subscription filter: {name} becomes '+'. */
void topic_template_filter(struct buf *out, const char *tmpl);

/* Patterns: levels are literals, '+', '#' (last) or "{name}" capturing
 * one whole level. */
struct topic_pattern;
struct topic_capture {
	const char *name; /* owned by the pattern */
	const char *value; /* points into the matched topic */
	size_t len;
};
#define TOPIC_MAX_CAPTURES 8

/* Returns NULL and sets *why on a malformed pattern. */
struct topic_pattern *topic_pattern_compile(const char *pattern, const char **why);
void topic_pattern_free(struct topic_pattern *p);
/* On a match returns the number of captures stored in caps (at most
 * TOPIC_MAX_CAPTURES); returns -1 if the topic does not match. */
int topic_pattern_match(const struct topic_pattern *p, const char *topic, size_t len,
                        struct topic_capture caps[TOPIC_MAX_CAPTURES]);
/* The value of capture name from a match, or NULL. */
const struct topic_capture *topic_capture_find(const struct topic_capture *caps, int ncaps, const char *name);

#endif
