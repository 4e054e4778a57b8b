/*
 * envelope.c — the envelope codec.  The encoder writes JSON directly into
 * the output block (no tree, no allocation per message); the decoder walks
 * the line with the scanner in json.c and keeps decoded strings in one
 * scratch buffer sized up front, so pointers into it stay valid.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "envelope.h"
#include "json.h"
#include "mqmon.h"
#include "timeutil.h"
#include "topic.h"
#include "utf8.h"

const char *envelope_enc_name(enum envelope_enc enc)
{
	return enc == ENC_JSON ? "json" : enc == ENC_UTF8 ? "utf8" : "base64";
}

enum envelope_enc envelope_pick_enc(const char *body, size_t len)
{
	if (len == 0)
		return ENC_UTF8; /* SPEC §1: an empty body is "enc":"utf8","payload":"" */
	if (json_validate(body, len, NULL))
		return ENC_JSON;
	return utf8_valid(body, len) ? ENC_UTF8 : ENC_BASE64;
}

static void write_uint(struct buf *out, unsigned long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%lu", v);
	buf_add(out, tmp, (size_t)n);
}

static void write_payload(struct buf *out, const char *body, size_t len)
{
	enum envelope_enc enc = envelope_pick_enc(body, len);
	switch (enc) {
	case ENC_JSON:
		buf_adds(out, ",\"enc\":\"json\",\"payload\":");
		if (memchr(body, '\n', len) || memchr(body, '\r', len))
			json_compact(out, body, len);
		else
			buf_add(out, body, len);
		break;
	case ENC_UTF8:
		buf_adds(out, ",\"enc\":\"utf8\",\"payload\":");
		json_write_string(out, body, len);
		break;
	case ENC_BASE64:
		buf_adds(out, ",\"enc\":\"base64\",\"payload\":\"");
		base64_encode(out, body, len);
		buf_addc(out, '"');
		break;
	}
}

void envelope_encode(struct buf *out, const struct envelope *e)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(e->ts_ms, ts);
	buf_add(out, "{\"ts\":\"", 7);
	buf_add(out, ts, TIME_RFC3339_LEN);
	buf_add(out, "\",\"topic\":", 10);
	json_write_text(out, e->topic, e->topic_len);
	buf_add(out, ",\"qos\":", 7);
	buf_addc(out, (char)('0' + (e->qos > 0 ? e->qos : 0)));
	if (e->retain > 0)
		buf_add(out, ",\"retain\":true", 14);
	else
		buf_add(out, ",\"retain\":false", 15);
	if (e->mid > 0) {
		buf_add(out, ",\"mid\":", 7);
		write_uint(out, (unsigned long)e->mid);
	}
	if (e->props) {
		size_t mark = out->len;
		buf_adds(out, ",\"props\":");
		if (!props_write_json(out, e->props))
			out->len = mark; /* nothing an envelope shows */
	}
	write_payload(out, e->payload, e->payload_len);
	buf_add(out, "}\n", 2);
}

/* ---- decoding ---- */

void envelope_decoder_init(struct envelope_decoder *d)
{
	memset(d, 0, sizeof *d);
	props_parser_init(&d->props);
}

void envelope_decoder_free(struct envelope_decoder *d)
{
	buf_free(&d->scratch);
	props_parser_free(&d->props);
	memset(d, 0, sizeof *d);
}

struct decode {
	struct envelope_decoder *d;
	const char *line;
	size_t n;
	char *err;
	size_t errlen;
	/* what the members said about the body, for decode_body() */
	struct json_member payload, enc, payloadlen;
	const char *bad_topic; /* why the topic cannot be published to */
	bool is_event;
	/* the members as phase 1 found them, so phase 2 need not scan the
	 * line again (an envelope has a handful; more are read again) */
	struct json_member members[16];
	size_t nmembers;
	bool more_members;
};

static enum envelope_result bad(struct decode *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum envelope_result bad(struct decode *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return ENVELOPE_ERROR;
}

/* Decode a string member into the scratch buffer. */
static bool member_string(struct decode *x, const struct json_member *m, const char **out, size_t *len,
                          const char *field, enum envelope_result *res)
{
	if (m->val[0] != '"') {
		*res = bad(x, "\"%s\" must be a string", field);
		return false;
	}
	size_t pos = (size_t)(m->val - x->line);
	size_t start = x->d->scratch.len;
	struct json_err je;
	if (!json_string_decode(x->line, x->n, &pos, &x->d->scratch, &je)) {
		*res = bad(x, "\"%s\": %s", field, je.msg);
		return false;
	}
	*out = x->d->scratch.data + start;
	*len = x->d->scratch.len - start;
	return true;
}

/* Phase 1: the line is one JSON object, or the error says where it is
 * not.  Member by member, so each value gets the whole nesting budget: a
 * body the encoder took as JSON (up to JSON_MAX_DEPTH deep) sits one level
 * down in the line. */
static enum envelope_result check_json(struct decode *x)
{
	const char *line = x->line;
	size_t n = x->n, pos = json_skip_ws(line, n, 0);
	struct json_err je;
	if (pos >= n || line[pos] != '{') {
		size_t vp = pos;
		if (pos < n && json_skip_value(line, n, &vp, &je))
			return bad(x, "not an envelope: a JSON object is expected");
		return bad(x, "not JSON: %s at byte %zu", pos >= n ? "empty line" : je.msg,
		           (pos >= n ? pos : je.pos) + 1);
	}
	struct json_member m;
	pos++;
	while (m.key = NULL, m.val = NULL, json_object_next(line, n, &pos, &m, &je)) {
		if (x->nmembers < MQMON_ARRAY_LEN(x->members))
			x->members[x->nmembers++] = m;
		else
			x->more_members = true;
	}
	if (je.msg) {
		/* name the member whose value is at fault: "(in "topic")" */
		if (m.key && !m.val && m.key_len < 80)
			return bad(x, "not JSON: %s at byte %zu (in %.*s)", je.msg, je.pos + 1, (int)m.key_len, m.key);
		return bad(x, "not JSON: %s at byte %zu", je.msg, je.pos + 1);
	}
	pos = json_skip_ws(line, n, pos);
	if (pos != n)
		return bad(x, "not JSON: trailing characters after the value at byte %zu", pos + 1);
	return ENVELOPE_OK;
}

static enum envelope_result read_ts(struct decode *x, const struct json_member *m, struct envelope *e)
{
	const char *s, *why;
	size_t sl;
	enum envelope_result res;
	const char *field = json_key_is(m, "ts") ? "ts" : "tst";
	if (!member_string(x, m, &s, &sl, field, &res))
		return res;
	if (!time_parse_rfc3339(s, sl, &e->ts_ms, &why))
		return bad(x, "\"%s\": %s", field, why);
	e->has_ts = true;
	return ENVELOPE_OK;
}

static enum envelope_result read_props(struct decode *x, const struct json_member *m, struct envelope *e)
{
	e->props = props_parse_json(&x->d->props, m->val, m->val_len, x->err, x->errlen);
	return e->props ? ENVELOPE_OK : ENVELOPE_ERROR;
}

/* Phase 2, one member: the envelope's fields, the body's parts noted for
 * phase 3, anything else ignored (readers ignore what they do not know). */
static enum envelope_result read_member(struct decode *x, const struct json_member *m, struct envelope *e)
{
	unsigned long v;
	enum envelope_result res = ENVELOPE_OK;
	if (json_key_is(m, "topic")) {
		if (!member_string(x, m, &e->topic, &e->topic_len, "topic", &res))
			return res;
		/* reported only if the line is not an event */
		const char *why;
		x->bad_topic = topic_name_valid(e->topic, e->topic_len, &why) ? NULL : why;
	} else if (json_key_is(m, "payload")) {
		x->payload = *m;
	} else if (json_key_is(m, "enc")) {
		x->enc = *m;
	} else if (json_key_is(m, "payloadlen")) {
		x->payloadlen = *m;
	} else if (json_key_is(m, "qos")) {
		if (!json_uint(m->val, m->val_len, 2, &v))
			return bad(x, "\"%s\" must be 0, 1 or 2", "qos");
		e->qos = (int)v;
	} else if (json_key_is(m, "retain")) {
		if (json_value_is(m, "true") || json_value_is(m, "1"))
			e->retain = 1;
		else if (json_value_is(m, "false") || json_value_is(m, "0"))
			e->retain = 0;
		else
			return bad(x, "\"%s\" must be true or false", "retain");
	} else if (json_key_is(m, "ts") || json_key_is(m, "tst")) {
		return read_ts(x, m, e);
	} else if (json_key_is(m, "mid")) {
		if (json_uint(m->val, m->val_len, 65535, &v))
			e->mid = (int)v;
	} else if (json_key_is(m, "props") || json_key_is(m, "properties")) {
		return read_props(x, m, e);
	} else if (json_key_is(m, "event")) {
		x->is_event = true;
	}
	return res;
}

static enum envelope_result read_members(struct decode *x, struct envelope *e)
{
	enum envelope_result r = ENVELOPE_OK;
	for (size_t i = 0; i < x->nmembers && r == ENVELOPE_OK; i++)
		r = read_member(x, &x->members[i], e);
	if (r != ENVELOPE_OK || !x->more_members)
		return r;
	/* an envelope with many members: the rest from a second scan */
	size_t pos = json_skip_ws(x->line, x->n, 0) + 1, seen = 0;
	struct json_member m;
	while (r == ENVELOPE_OK && json_object_next(x->line, x->n, &pos, &m, NULL))
		if (seen++ >= x->nmembers)
			r = read_member(x, &m, e);
	return r;
}

/* The enc a body without "enc" has: a string is text, and mosquitto's
 * "payloadlen" tells text from the JSON text of a string (-F %J embeds a
 * body that is a JSON string as that string) and marks null as the empty
 * body; anything else is JSON. */
static enum envelope_enc implied_enc(struct decode *x, bool *empty)
{
	unsigned long len;
	bool has_len = x->payloadlen.val && json_uint(x->payloadlen.val, x->payloadlen.val_len, 268435455UL, &len);
	*empty = false;
	if (has_len && len == 0 && json_value_is(&x->payload, "null")) {
		*empty = true;
		return ENC_UTF8;
	}
	if (x->payload.val[0] != '"')
		return ENC_JSON;
	if (!has_len)
		return ENC_UTF8;
	struct buf text = BUF_INIT;
	size_t pos = 0;
	json_string_decode(x->payload.val, x->payload.val_len, &pos, &text, NULL);
	bool is_text = text.len == len;
	buf_free(&text);
	return is_text ? ENC_UTF8 : ENC_JSON;
}

/* Phase 3: the body's bytes, as "enc" (or its absence) says. */
static enum envelope_result decode_body(struct decode *x, struct envelope *e)
{
	enum envelope_enc enc = ENC_JSON;
	bool empty = !x->payload.val;
	if (x->enc.val) {
		if (json_value_is(&x->enc, "\"json\""))
			enc = ENC_JSON;
		else if (json_value_is(&x->enc, "\"utf8\""))
			enc = ENC_UTF8;
		else if (json_value_is(&x->enc, "\"base64\""))
			enc = ENC_BASE64;
		else
			return bad(x, "\"%s\" must be \"json\", \"utf8\" or \"base64\"", "enc");
	} else if (!empty) {
		enc = implied_enc(x, &empty);
	}
	e->enc = enc;
	if (empty) {
		e->payload = "";
		e->payload_len = 0;
		return ENVELOPE_OK;
	}
	if (enc == ENC_JSON) {
		e->payload = x->payload.val;
		e->payload_len = x->payload.val_len;
		return ENVELOPE_OK;
	}
	const char *s;
	size_t sl;
	enum envelope_result res;
	if (x->payload.val[0] != '"')
		return bad(x, "\"%s\" must be a string when enc is %s", "payload", envelope_enc_name(enc));
	if (!member_string(x, &x->payload, &s, &sl, "payload", &res))
		return res;
	if (enc == ENC_BASE64) {
		size_t badpos, start = x->d->scratch.len;
		if (!base64_decode(&x->d->scratch, s, sl, &badpos))
			return bad(x, "\"%s\" is not valid base64 (at character %zu)", "payload", badpos + 1);
		s = x->d->scratch.data + start;
		sl = x->d->scratch.len - start;
	}
	e->payload = s;
	e->payload_len = sl;
	return ENVELOPE_OK;
}

enum envelope_result envelope_decode(struct envelope_decoder *d, const char *line, size_t n, struct envelope *e,
                                     char *err, size_t errlen)
{
	struct decode x = {.d = d, .line = line, .n = n, .err = err, .errlen = errlen};
	memset(e, 0, sizeof *e);
	e->qos = -1;
	e->retain = -1;
	/* decoded text is never longer than its source, so nothing below
	 * reallocates and pointers into scratch stay valid */
	buf_reset(&d->scratch);
	buf_grow_to(&d->scratch, 2 * n + 64);
	enum envelope_result r = check_json(&x);
	if (r == ENVELOPE_OK)
		r = read_members(&x, e);
	if (r != ENVELOPE_OK)
		return r;
	if (x.is_event)
		return ENVELOPE_EVENT;
	if (x.bad_topic)
		return bad(&x, "\"%s\" %s", "topic", x.bad_topic);
	return decode_body(&x, e);
}
