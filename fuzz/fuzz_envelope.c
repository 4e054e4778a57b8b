/*
 * fuzz_envelope.c — the envelope decoder (envelope_decode, with props_parse
 * underneath) on one line of any bytes.  A line it accepts must survive a
 * round trip: encoded again (as mqmon-sub would write it) it is one line
 * the decoder accepts, with the same topic, qos, retain, mid, time,
 * properties and body (byte for byte; equal JSON for a JSON body).
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"
#include "json.h"
#include "props.h"

#include "fuzz.h"

/* 0000-01-01 and 10000-01-01: the years an RFC 3339 stamp can show */
#define TS_MIN (-62167219200000LL)
#define TS_END 253402300800000LL

static void props_text(struct buf *out, const struct props *p)
{
	buf_reset(out);
	if (p)
		props_write_json(out, p);
}

static bool same_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void round_trip(const struct envelope *e1)
{
	struct envelope in = *e1;
	if (!in.topic) {
		/* mqmon-pub's -t gives a line without one its topic */
		in.topic = "fuzz/default";
		in.topic_len = strlen(in.topic);
	}
	struct buf line = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	envelope_encode(&line, &in);
	/* NDJSON: exactly one line */
	FUZZ_CHECK(line.len > 0 && line.data[line.len - 1] == '\n');
	FUZZ_CHECK(memchr(line.data, '\n', line.len - 1) == NULL);

	struct envelope_decoder d;
	envelope_decoder_init(&d);
	struct envelope e2;
	char err[256] = "";
	enum envelope_result r = envelope_decode(&d, line.data, line.len - 1, &e2, err, sizeof err);
	if (r != ENVELOPE_OK)
		fprintf(stderr, "re-decoding %.*s failed: %s\n", (int)line.len, line.data, err);
	FUZZ_CHECK(r == ENVELOPE_OK);
	FUZZ_CHECK(same_bytes(e2.topic, e2.topic_len, in.topic, in.topic_len));
	FUZZ_CHECK(e2.qos == (in.qos > 0 ? in.qos : 0));
	FUZZ_CHECK(e2.retain == (in.retain > 0));
	FUZZ_CHECK(e2.mid == (in.mid > 0 ? in.mid : 0));
	FUZZ_CHECK(e2.has_ts);
	if (in.has_ts && in.ts_ms >= TS_MIN && in.ts_ms < TS_END)
		FUZZ_CHECK(e2.ts_ms == in.ts_ms);

	props_text(&a, in.props);
	props_text(&b, e2.props);
	FUZZ_CHECK(same_bytes(a.data, a.len, b.data, b.len));

	/* the body: non-JSON byte for byte, JSON as equal JSON */
	FUZZ_CHECK(e2.enc == envelope_pick_enc(in.payload, in.payload_len));
	if (e2.enc == ENC_JSON) {
		buf_reset(&a);
		buf_reset(&b);
		json_compact(&a, in.payload, in.payload_len);
		json_compact(&b, e2.payload, e2.payload_len);
		FUZZ_CHECK(same_bytes(a.data, a.len, b.data, b.len));
	} else {
		FUZZ_CHECK(same_bytes(e2.payload, e2.payload_len, in.payload, in.payload_len));
	}

	/* what is encoded again is the same line */
	buf_reset(&a);
	envelope_encode(&a, &e2);
	if (in.has_ts && e2.enc != ENC_JSON)
		FUZZ_CHECK(same_bytes(a.data, a.len, line.data, line.len));

	envelope_decoder_free(&d);
	buf_free(&line);
	buf_free(&a);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope_decoder d;
	envelope_decoder_init(&d);
	struct envelope e;
	char err[256];
	const char *line = (const char *)data;
	enum envelope_result r = envelope_decode(&d, line, size, &e, err, sizeof err);
	if (r == ENVELOPE_ERROR)
		FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
	if (r == ENVELOPE_OK) {
		FUZZ_CHECK(e.qos >= -1 && e.qos <= 2);
		FUZZ_CHECK(e.retain >= -1 && e.retain <= 1);
		FUZZ_CHECK(e.payload != NULL);
		round_trip(&e);
	}
	/* a decoder is reused line after line: the same line again gives the
	 * same answer (e's strings are gone now, its lengths are not) */
	struct envelope again;
	FUZZ_CHECK(envelope_decode(&d, line, size, &again, err, sizeof err) == r);
	if (r == ENVELOPE_OK)
		FUZZ_CHECK(again.payload_len == e.payload_len && again.topic_len == e.topic_len);
	envelope_decoder_free(&d);
	return 0;
}
