/*
 * json.h — a small, allocation-free JSON scanner for the hot paths: checking
 * that an MQTT body is JSON without building a tree (so it is copied into the
 * envelope as its own text and numbers keep their spelling), walking the
 * members of an envelope, decoding and escaping strings.  Nesting is bounded
 * (JSON_MAX_DEPTH) and handled without recursion, so hostile input cannot
 * overflow the stack.  Trees, where a program really needs one, come from
 * json-c.
 */
#ifndef MQMON_JSON_H
#define MQMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "buf.h"

/* Deeper bodies are not treated as JSON (a subscriber sends them as text);
 * the same bound as cJSON, which mosquitto_sub uses. */
#define JSON_MAX_DEPTH 1000

struct json_err {
	size_t pos; /* byte offset of the problem */
	const char *msg; /* static text: "unterminated string", … */
};

static inline size_t json_skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	return i;
}

/* Scan one JSON value starting at p[*pos] (after optional whitespace).  On
 * success returns true and leaves *pos just after the value.  Strings must
 * be valid UTF-8. */
bool json_skip_value(const char *p, size_t n, size_t *pos, struct json_err *err);

/* True if p[0..n) is exactly one JSON value, with optional surrounding
 * whitespace. */
bool json_validate(const char *p, size_t n, struct json_err *err);

/* Append p[0..n) (valid JSON) to out without whitespace outside strings. */
void json_compact(struct buf *out, const char *p, size_t n);

/* Decode the JSON string literal starting at p[*pos] (the opening quote) into
 * UTF-8 bytes appended to out; *pos ends after the closing quote. */
bool json_string_decode(const char *p, size_t n, size_t *pos, struct buf *out, struct json_err *err);

/* Append s[0..n) as a JSON string literal, quotes included.  s must be valid
 * UTF-8 (check first); control characters are escaped. */
void json_write_string(struct buf *out, const char *s, size_t n);

/* As json_write_string, for text that may not be valid UTF-8 (topics from a
 * broker, user input): invalid bytes become U+FFFD, so the line stays
 * JSON. */
void json_write_text(struct buf *out, const char *s, size_t n);

/* Append the shortest decimal text of d that strtod() reads back as d
 * ("25.6", "1e+21"), or null when d is not finite: the one way mqmon
 * writes a double, in events, rows and meanings alike. */
void json_write_double(struct buf *out, double d);

/* Iterating an object's members: json_object_begin() positions after '{';
 * json_object_next() returns each member's raw key literal and value spans.
 * Both return false at the end or on error (err->msg set on error only). */
struct json_member {
	const char *key; /* the key literal, quotes included */
	size_t key_len;
	const char *val; /* the value's raw text */
	size_t val_len;
};
bool json_object_begin(const char *p, size_t n, size_t *pos, struct json_err *err);
bool json_object_next(const char *p, size_t n, size_t *pos, struct json_member *m, struct json_err *err);
/* True if the key literal equals the plain ASCII name (no escapes).
 * Inline: with a literal name the length is a constant. */
static inline bool json_key_is(const struct json_member *m, const char *name)
{
	size_t len = strlen(name);
	return m->key_len == len + 2 && memcmp(m->key + 1, name, len) == 0;
}
/* True if the member's value is exactly the JSON text given ("true",
 * "\"base64\""). */
bool json_value_is(const struct json_member *m, const char *text);
/* A non-negative integer written without fraction or exponent, at most
 * max (and at most 10 digits). */
bool json_uint(const char *v, size_t n, unsigned long max, unsigned long *out);

#endif
