/*
 * envelope.h — one MQTT message as one JSON line (SPEC §1):
 *
 *   {"ts":"2025-01-28T10:30:15.123Z","topic":"a/b","qos":1,"retain":false,
 *    "enc":"json","payload":{"temperature":25.6}}
 *
 * Encoding picks enc per message: a body that is JSON goes in as its own
 * text (validated, not rebuilt, so 27.60 stays 27.60; compacted only when
 * it spans several lines), else valid UTF-8 goes in as a string, else
 * base64.  Decoding also accepts what mosquitto_sub -F %j and -F %J print
 * (tst, properties/user-properties, retain 0/1, "payload":null with
 * "payloadlen":0 for the empty body, payloadlen telling a text body from
 * the JSON text of a string), and reports a precise error naming the
 * field at fault.
 */
#ifndef MQMON_ENVELOPE_H
#define MQMON_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "props.h"

enum envelope_enc { ENC_JSON, ENC_UTF8, ENC_BASE64 };

struct envelope {
	const char *topic; /* NULL when absent on input */
	size_t topic_len;
	const char *payload; /* the body's bytes */
	size_t payload_len;
	enum envelope_enc enc; /* output: chosen by the encoder; input: as given */
	int qos; /* -1 when absent on input */
	int retain; /* 0, 1, or -1 when absent on input */
	int64_t ts_ms; /* wall clock ms */
	bool has_ts;
	int mid; /* 0 = none */
	const struct props *props; /* NULL = none */
};

/* Append e as one JSON line (with '\n') to out.  e->enc is ignored: the
 * encoding is chosen from the payload bytes. */
void envelope_encode(struct buf *out, const struct envelope *e);

/* Which enc a body gets, and whether its JSON text must be compacted. */
enum envelope_enc envelope_pick_enc(const char *body, size_t len);

/* Decoding keeps its strings in the decoder, valid until the next call. */
struct envelope_decoder {
	struct buf scratch;
	struct props_parser props;
};

enum envelope_result {
	ENVELOPE_OK,
	ENVELOPE_EVENT, /* a valid line carrying "event": not a message */
	ENVELOPE_ERROR, /* err says why */
};

void envelope_decoder_init(struct envelope_decoder *d);
void envelope_decoder_free(struct envelope_decoder *d);

/* Decode one line.  err (errlen bytes) receives a message such as
 * "\"topic\" contains a wildcard ('+' or '#')" on ENVELOPE_ERROR. */
enum envelope_result envelope_decode(struct envelope_decoder *d, const char *line, size_t n, struct envelope *e,
                                     char *err, size_t errlen);

const char *envelope_enc_name(enum envelope_enc enc);

#endif
