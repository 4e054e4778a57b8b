/*
 * props.h — MQTT 5 message properties as the envelope's "props" object
 * (SPEC §1):
 *
 *   {"content_type":"text/plain","response_topic":"a/reply",
 *    "correlation_data":"c-1","message_expiry":3600,"payload_format":1,
 *    "user":{"k":["a","b"],"x":"y"}}
 *
 * correlation_data is a string, or base64 with "correlation_enc":"base64"
 * when it is not UTF-8; a repeated user key becomes an array.  The reader
 * also takes mosquitto_sub's spelling (content-type, response-topic,
 * correlation-data, message-expiry-interval, payload-format-indicator,
 * user-properties).  Nothing here knows about libmosquitto (mqttprops.h
 * converts to and from its property lists) or about whole envelopes, so
 * mqmon-store can keep props as text and read them back on their own.
 */
#ifndef MQMON_PROPS_H
#define MQMON_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct props_user {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

/* A NULL pointer or has_* false means absent.  Strings are bytes plus a
 * length, owned by whoever filled the struct. */
struct props {
	const char *content_type;
	size_t content_type_len;
	const char *response_topic;
	size_t response_topic_len;
	const char *correlation; /* bytes, any content */
	size_t correlation_len;
	bool has_expiry;
	uint32_t message_expiry;
	bool has_payload_format;
	int payload_format;
	const struct props_user *user;
	size_t nuser;
};

/* Append p as a JSON object.  Returns false, appending nothing, when p
 * holds nothing an envelope shows. */
bool props_write_json(struct buf *out, const struct props *p);

/* Reading keeps the decoded strings in the parser, valid until its next
 * call. */
struct props_parser {
	struct buf scratch;
	struct props_user *user;
	size_t user_cap;
	struct props props;
};

void props_parser_init(struct props_parser *pp);
void props_parser_free(struct props_parser *pp);

/* Parse the JSON object p[0..n) (already known to be valid JSON).  Returns
 * the props, or NULL with a message naming the field at fault in err
 * ("\"props.message_expiry\" must be a whole number of seconds"). */
const struct props *props_parse_json(struct props_parser *pp, const char *p, size_t n, char *err, size_t errlen);

#endif
