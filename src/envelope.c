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

static void write_user_props(struct buf *out, const struct envelope_props *p)
{
	/* a repeated key becomes an array, in order of first appearance */
	buf_adds(out, ",\"user\":{");
	bool first = true;
	for (size_t i = 0; i < p->nuser; i++) {
		const struct envelope_user_prop *u = &p->user[i];
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = p->user[j].key_len == u->key_len && memcmp(p->user[j].key, u->key, u->key_len) == 0;
		if (seen)
			continue;
		size_t count = 0;
		for (size_t j = i; j < p->nuser; j++)
			count += p->user[j].key_len == u->key_len && memcmp(p->user[j].key, u->key, u->key_len) == 0;
		if (!first)
			buf_addc(out, ',');
		first = false;
		json_write_text(out, u->key, u->key_len);
		buf_addc(out, ':');
		if (count == 1) {
			json_write_text(out, u->val, u->val_len);
			continue;
		}
		buf_addc(out, '[');
		bool first_val = true;
		for (size_t j = i; j < p->nuser; j++) {
			if (p->user[j].key_len != u->key_len || memcmp(p->user[j].key, u->key, u->key_len) != 0)
				continue;
			if (!first_val)
				buf_addc(out, ',');
			first_val = false;
			json_write_text(out, p->user[j].val, p->user[j].val_len);
		}
		buf_addc(out, ']');
	}
	buf_addc(out, '}');
}

static void write_props(struct buf *out, const struct envelope_props *p)
{
	size_t mark = out->len;
	buf_adds(out, ",\"props\":{");
	size_t open = out->len;
	if (p->content_type) {
		buf_adds(out, ",\"content_type\":");
		json_write_text(out, p->content_type, p->content_type_len);
	}
	if (p->response_topic) {
		buf_adds(out, ",\"response_topic\":");
		json_write_text(out, p->response_topic, p->response_topic_len);
	}
	if (p->correlation) {
		buf_adds(out, ",\"correlation_data\":");
		if (utf8_valid(p->correlation, p->correlation_len)) {
			json_write_string(out, p->correlation, p->correlation_len);
		} else {
			buf_addc(out, '"');
			base64_encode(out, p->correlation, p->correlation_len);
			buf_adds(out, "\",\"correlation_enc\":\"base64\"");
		}
	}
	if (p->has_expiry) {
		buf_adds(out, ",\"message_expiry\":");
		write_uint(out, p->message_expiry);
	}
	if (p->has_payload_format) {
		buf_adds(out, ",\"payload_format\":");
		write_uint(out, (unsigned long)p->payload_format);
	}
	if (p->nuser)
		write_user_props(out, p);
	if (out->len == open) {
		out->len = mark; /* nothing we show: no "props" at all */
		return;
	}
	/* drop the comma after '{' */
	memmove(out->data + open, out->data + open + 1, out->len - open - 1);
	out->len--;
	buf_addc(out, '}');
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
	if (e->props)
		write_props(out, e->props);
	write_payload(out, e->payload, e->payload_len);
	buf_add(out, "}\n", 2);
}

/* ---- decoding ---- */

void envelope_decoder_init(struct envelope_decoder *d)
{
	memset(d, 0, sizeof *d);
}

void envelope_decoder_free(struct envelope_decoder *d)
{
	buf_free(&d->scratch);
	free(d->user);
	memset(d, 0, sizeof *d);
}

struct decode {
	struct envelope_decoder *d;
	const char *line;
	size_t n;
	char *err;
	size_t errlen;
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

static bool is_literal(const struct json_member *m, const char *word)
{
	size_t n = strlen(word);
	return m->val_len == n && memcmp(m->val, word, n) == 0;
}

/* A non-negative integer member (no fraction, no exponent). */
static bool member_uint(const struct json_member *m, unsigned long max, unsigned long *out)
{
	if (m->val_len == 0 || m->val_len > 10)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < m->val_len; i++) {
		if (m->val[i] < '0' || m->val[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(m->val[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static bool add_user_prop(struct decode *x, const char *k, size_t kl, const char *v, size_t vl)
{
	struct envelope_decoder *d = x->d;
	if (d->props.nuser == d->user_cap) {
		d->user_cap = d->user_cap ? d->user_cap * 2 : 8;
		d->user = xrealloc(d->user, d->user_cap * sizeof *d->user);
		d->props.user = d->user;
	}
	d->user[d->props.nuser++] = (struct envelope_user_prop){k, kl, v, vl};
	return true;
}

/* A user property value: a string, or a scalar kept as its JSON text. */
static bool user_value(struct decode *x, const char *val, size_t len, const char **out, size_t *outlen,
                       enum envelope_result *res)
{
	if (val[0] == '"') {
		struct json_member tmp = {"\"user\"", 6, val, len};
		return member_string(x, &tmp, out, outlen, "props.user", res);
	}
	if (val[0] == '{' || val[0] == '[') {
		*res = bad(x, "\"%s\" values must be strings", "props.user");
		return false;
	}
	*out = val;
	*outlen = len;
	return true;
}

static bool decode_user_props(struct decode *x, const struct json_member *um, enum envelope_result *res)
{
	size_t pos = (size_t)(um->val - x->line);
	struct json_err je;
	struct json_member m;
	if (!json_object_begin(x->line, x->n, &pos, &je)) {
		*res = bad(x, "\"%s\" must be an object", "props.user");
		return false;
	}
	while (json_object_next(x->line, x->n, &pos, &m, &je)) {
		const char *k;
		size_t kl;
		struct json_member key = {m.key, m.key_len, m.key, m.key_len};
		if (!member_string(x, &key, &k, &kl, "props.user", res))
			return false;
		if (m.val[0] == '[') {
			/* a repeated key: one property per element */
			size_t ap = (size_t)(m.val - x->line) + 1;
			for (;;) {
				ap = json_skip_ws(x->line, x->n, ap);
				if (x->line[ap] == ']')
					break;
				size_t vs = ap;
				json_skip_value(x->line, x->n, &ap, &je);
				const char *v;
				size_t vl;
				if (!user_value(x, x->line + vs, ap - vs, &v, &vl, res))
					return false;
				add_user_prop(x, k, kl, v, vl);
				ap = json_skip_ws(x->line, x->n, ap);
				if (x->line[ap] == ',')
					ap++;
			}
			continue;
		}
		const char *v;
		size_t vl;
		if (!user_value(x, m.val, m.val_len, &v, &vl, res))
			return false;
		add_user_prop(x, k, kl, v, vl);
	}
	return true;
}

static bool decode_props(struct decode *x, const struct json_member *pm, enum envelope_result *res)
{
	struct envelope_props *p = &x->d->props;
	size_t pos = (size_t)(pm->val - x->line);
	struct json_err je;
	struct json_member m;
	bool corr_base64 = false;
	const struct json_member *corr = NULL;
	struct json_member corr_copy;
	if (!json_object_begin(x->line, x->n, &pos, &je)) {
		*res = bad(x, "\"%s\" must be an object", "props");
		return false;
	}
	while (json_object_next(x->line, x->n, &pos, &m, &je)) {
		unsigned long v;
		if (json_key_is(&m, "content_type") || json_key_is(&m, "content-type")) {
			if (!member_string(x, &m, &p->content_type, &p->content_type_len, "props.content_type", res))
				return false;
		} else if (json_key_is(&m, "response_topic") || json_key_is(&m, "response-topic")) {
			if (!member_string(x, &m, &p->response_topic, &p->response_topic_len, "props.response_topic",
			                   res))
				return false;
			const char *why;
			if (!topic_name_valid(p->response_topic, p->response_topic_len, &why)) {
				*res = bad(x, "\"%s\" %s", "props.response_topic", why);
				return false;
			}
		} else if (json_key_is(&m, "correlation_data") || json_key_is(&m, "correlation-data")) {
			corr_copy = m;
			corr = &corr_copy;
		} else if (json_key_is(&m, "correlation_enc")) {
			if (is_literal(&m, "\"base64\""))
				corr_base64 = true;
			else if (!is_literal(&m, "\"utf8\"")) {
				*res = bad(x, "\"%s\" must be \"utf8\" or \"base64\"", "props.correlation_enc");
				return false;
			}
		} else if (json_key_is(&m, "message_expiry") || json_key_is(&m, "message-expiry-interval")) {
			if (!member_uint(&m, 4294967295UL, &v)) {
				*res = bad(x, "\"%s\" must be a whole number of seconds", "props.message_expiry");
				return false;
			}
			p->has_expiry = true;
			p->message_expiry = (uint32_t)v;
		} else if (json_key_is(&m, "payload_format") || json_key_is(&m, "payload-format-indicator")) {
			if (!member_uint(&m, 1, &v)) {
				*res = bad(x, "\"%s\" must be 0 or 1", "props.payload_format");
				return false;
			}
			p->has_payload_format = true;
			p->payload_format = (int)v;
		} else if (json_key_is(&m, "user") || json_key_is(&m, "user-properties")) {
			if (!decode_user_props(x, &m, res))
				return false;
		}
	}
	if (je.msg) {
		*res = bad(x, "\"%s\": %s", "props", je.msg);
		return false;
	}
	if (corr) {
		const char *s;
		size_t sl;
		if (!member_string(x, corr, &s, &sl, "props.correlation_data", res))
			return false;
		if (corr_base64) {
			size_t badpos, start = x->d->scratch.len;
			if (!base64_decode(&x->d->scratch, s, sl, &badpos)) {
				char where[64];
				snprintf(where, sizeof where, " (at character %zu)", badpos + 1);
				*res = bad(x, "\"%s\" is not valid base64%s", "props.correlation_data", where);
				return false;
			}
			s = x->d->scratch.data + start;
			sl = x->d->scratch.len - start;
		}
		p->correlation = s;
		p->correlation_len = sl;
	}
	return true;
}

enum envelope_result envelope_decode(struct envelope_decoder *d, const char *line, size_t n, struct envelope *e,
                                     char *err, size_t errlen)
{
	struct decode x = {d, line, n, err, errlen};
	enum envelope_result res = ENVELOPE_ERROR;
	memset(e, 0, sizeof *e);
	e->qos = -1;
	e->retain = -1;
	memset(&d->props, 0, sizeof d->props);
	d->props.user = d->user;
	/* decoded text is never longer than its source, so nothing below
	 * reallocates and pointers into scratch stay valid */
	buf_reset(&d->scratch);
	buf_grow_to(&d->scratch, 2 * n + 64);

	size_t pos = json_skip_ws(line, n, 0);
	struct json_err je;
	if (pos >= n || line[pos] != '{') {
		size_t vp = pos;
		if (pos < n && json_skip_value(line, n, &vp, &je))
			return bad(&x, "not an envelope: a JSON object is expected");
		snprintf(err, errlen, "not JSON: %s at byte %zu", pos >= n ? "empty line" : je.msg,
		         (pos >= n ? pos : je.pos) + 1);
		return ENVELOPE_ERROR;
	}
	/* validate the whole line first, so errors report the JSON fault.
	 * Member by member, so each value gets the whole nesting budget: a
	 * body the encoder took as JSON (up to JSON_MAX_DEPTH deep) sits one
	 * level down in the line. */
	pos++;
	struct json_member m, payload = {0}, enc = {0};
	size_t vpos = pos;
	while (m.key = NULL, m.val = NULL, json_object_next(line, n, &vpos, &m, &je))
		;
	if (je.msg) {
		/* name the member whose value is at fault: "(in "topic")" */
		if (m.key && !m.val && m.key_len < 80)
			snprintf(err, errlen, "not JSON: %s at byte %zu (in %.*s)", je.msg, je.pos + 1, (int)m.key_len,
			         m.key);
		else
			snprintf(err, errlen, "not JSON: %s at byte %zu", je.msg, je.pos + 1);
		return ENVELOPE_ERROR;
	}
	vpos = json_skip_ws(line, n, vpos);
	if (vpos != n) {
		snprintf(err, errlen, "not JSON: trailing characters after the value at byte %zu", vpos + 1);
		return ENVELOPE_ERROR;
	}
	bool has_payload = false, has_enc = false, is_event = false;
	while (json_object_next(line, n, &pos, &m, &je)) {
		unsigned long v;
		if (json_key_is(&m, "topic")) {
			if (!member_string(&x, &m, &e->topic, &e->topic_len, "topic", &res))
				return res;
		} else if (json_key_is(&m, "payload")) {
			payload = m;
			has_payload = true;
		} else if (json_key_is(&m, "enc")) {
			enc = m;
			has_enc = true;
		} else if (json_key_is(&m, "qos")) {
			if (!member_uint(&m, 2, &v))
				return bad(&x, "\"%s\" must be 0, 1 or 2", "qos");
			e->qos = (int)v;
		} else if (json_key_is(&m, "retain")) {
			if (is_literal(&m, "true") || is_literal(&m, "1"))
				e->retain = 1;
			else if (is_literal(&m, "false") || is_literal(&m, "0"))
				e->retain = 0;
			else
				return bad(&x, "\"%s\" must be true or false", "retain");
		} else if (json_key_is(&m, "ts") || json_key_is(&m, "tst")) {
			const char *s, *why;
			size_t sl;
			const char *field = json_key_is(&m, "ts") ? "ts" : "tst";
			if (!member_string(&x, &m, &s, &sl, field, &res))
				return res;
			if (!time_parse_rfc3339(s, sl, &e->ts_ms, &why))
				return bad(&x, "\"%s\": %s", field, why);
			e->has_ts = true;
		} else if (json_key_is(&m, "mid")) {
			if (member_uint(&m, 65535, &v))
				e->mid = (int)v;
		} else if (json_key_is(&m, "props") || json_key_is(&m, "properties")) {
			if (!decode_props(&x, &m, &res))
				return res;
			e->props = &d->props;
		} else if (json_key_is(&m, "event")) {
			is_event = true;
		}
	}
	if (is_event)
		return ENVELOPE_EVENT;

	if (e->topic) {
		const char *why;
		if (!topic_name_valid(e->topic, e->topic_len, &why))
			return bad(&x, "\"%s\" %s", "topic", why);
	}
	enum envelope_enc kind = ENC_JSON;
	if (has_enc) {
		if (is_literal(&enc, "\"json\""))
			kind = ENC_JSON;
		else if (is_literal(&enc, "\"utf8\""))
			kind = ENC_UTF8;
		else if (is_literal(&enc, "\"base64\""))
			kind = ENC_BASE64;
		else
			return bad(&x, "\"%s\" must be \"json\", \"utf8\" or \"base64\"", "enc");
	} else if (has_payload && payload.val[0] == '"') {
		kind = ENC_UTF8; /* a string without enc is text (and mosquitto's %j) */
	}
	e->enc = kind;
	if (!has_payload) {
		e->payload = "";
		e->payload_len = 0;
		return ENVELOPE_OK;
	}
	if (kind == ENC_JSON) {
		e->payload = payload.val;
		e->payload_len = payload.val_len;
		return ENVELOPE_OK;
	}
	const char *s;
	size_t sl;
	const char *field = "payload";
	if (payload.val[0] != '"')
		return bad(&x, "\"%s\" must be a string when enc is %s", field, envelope_enc_name(kind));
	if (!member_string(&x, &payload, &s, &sl, field, &res))
		return res;
	if (kind == ENC_BASE64) {
		size_t badpos, start = d->scratch.len;
		if (!base64_decode(&d->scratch, s, sl, &badpos)) {
			char where[64];
			snprintf(where, sizeof where, " (at character %zu)", badpos + 1);
			return bad(&x, "\"%s\" is not valid base64%s", field, where);
		}
		s = d->scratch.data + start;
		sl = d->scratch.len - start;
	}
	e->payload = s;
	e->payload_len = sl;
	return ENVELOPE_OK;
}
