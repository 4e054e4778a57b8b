/*
 * props.c — the "props" object of an envelope, written and read.  The
 * writer puts JSON straight into the caller's buffer; the reader walks the
 * object with the scanner in json.c and decodes strings into one scratch
 * buffer sized up front, so the pointers it hands out stay valid.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "json.h"
#include "mqmon.h"
#include "props.h"
#include "topic.h"
#include "utf8.h"

/* ---- writing ---- */

static bool same_key(const struct props_user *a, const struct props_user *b)
{
	return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* The values of user key p->user[i], from its first appearance on: one
 * string, or an array when the key repeats. */
static void write_user_values(struct buf *out, const struct props *p, size_t i)
{
	size_t count = 0;
	for (size_t j = i; j < p->nuser; j++)
		count += same_key(&p->user[j], &p->user[i]);
	if (count == 1) {
		json_write_text(out, p->user[i].val, p->user[i].val_len);
		return;
	}
	buf_addc(out, '[');
	bool first = true;
	for (size_t j = i; j < p->nuser; j++) {
		if (!same_key(&p->user[j], &p->user[i]))
			continue;
		if (!first)
			buf_addc(out, ',');
		first = false;
		json_write_text(out, p->user[j].val, p->user[j].val_len);
	}
	buf_addc(out, ']');
}

/* A repeated key becomes an array, keys in order of first appearance. */
static void write_user(struct buf *out, const struct props *p)
{
	buf_adds(out, ",\"user\":{");
	bool first = true;
	for (size_t i = 0; i < p->nuser; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same_key(&p->user[j], &p->user[i]);
		if (seen)
			continue;
		if (!first)
			buf_addc(out, ',');
		first = false;
		json_write_text(out, p->user[i].key, p->user[i].key_len);
		buf_addc(out, ':');
		write_user_values(out, p, i);
	}
	buf_addc(out, '}');
}

static void write_correlation(struct buf *out, const struct props *p)
{
	buf_adds(out, ",\"correlation_data\":");
	if (utf8_valid(p->correlation, p->correlation_len)) {
		json_write_string(out, p->correlation, p->correlation_len);
		return;
	}
	buf_addc(out, '"');
	base64_encode(out, p->correlation, p->correlation_len);
	buf_adds(out, "\",\"correlation_enc\":\"base64\"");
}

bool props_write_json(struct buf *out, const struct props *p)
{
	size_t open = out->len;
	/* every member is written with a leading comma; the first one's
	 * becomes the opening brace */
	if (p->content_type) {
		buf_adds(out, ",\"content_type\":");
		json_write_text(out, p->content_type, p->content_type_len);
	}
	if (p->response_topic) {
		buf_adds(out, ",\"response_topic\":");
		json_write_text(out, p->response_topic, p->response_topic_len);
	}
	if (p->correlation)
		write_correlation(out, p);
	if (p->has_expiry)
		buf_printf(out, ",\"message_expiry\":%lu", (unsigned long)p->message_expiry);
	if (p->has_payload_format)
		buf_printf(out, ",\"payload_format\":%d", p->payload_format);
	if (p->nuser)
		write_user(out, p);
	if (out->len == open)
		return false;
	out->data[open] = '{';
	buf_addc(out, '}');
	return true;
}

/* ---- reading ---- */

void props_parser_init(struct props_parser *pp)
{
	memset(pp, 0, sizeof *pp);
}

void props_parser_free(struct props_parser *pp)
{
	buf_free(&pp->scratch);
	free(pp->user);
	memset(pp, 0, sizeof *pp);
}

struct parse {
	struct props_parser *pp;
	char *err;
	size_t errlen;
};

static bool bad(struct parse *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(struct parse *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* The text of a JSON string value v[0..n), decoded into the scratch. */
static bool string_value(struct parse *x, const char *v, size_t n, const char *field, const char **out, size_t *len)
{
	if (n == 0 || v[0] != '"')
		return bad(x, "\"%s\" must be a string", field);
	size_t pos = 0, start = x->pp->scratch.len;
	struct json_err je;
	if (!json_string_decode(v, n, &pos, &x->pp->scratch, &je))
		return bad(x, "\"%s\": %s", field, je.msg);
	*out = x->pp->scratch.data + start;
	*len = x->pp->scratch.len - start;
	return true;
}

static void add_user(struct props_parser *pp, const char *k, size_t kl, const char *v, size_t vl)
{
	if (pp->props.nuser == pp->user_cap) {
		pp->user_cap = pp->user_cap ? pp->user_cap * 2 : 8;
		pp->user = xrealloc(pp->user, pp->user_cap * sizeof *pp->user);
	}
	pp->user[pp->props.nuser++] = (struct props_user){k, kl, v, vl};
	pp->props.user = pp->user;
}

/* A user property value: a string, or a scalar kept as its JSON text. */
static bool user_value(struct parse *x, const char *k, size_t kl, const char *v, size_t n)
{
	const char *s = v;
	size_t sl = n;
	if (v[0] == '{' || v[0] == '[')
		return bad(x, "\"%s\" values must be strings", "props.user");
	if (v[0] == '"' && !string_value(x, v, n, "props.user", &s, &sl))
		return false;
	add_user(x->pp, k, kl, s, sl);
	return true;
}

/* "user":{"k":"v","r":["a","b"]}: an array is a key given several times. */
static bool parse_user(struct parse *x, const struct json_member *um)
{
	size_t pos = 0;
	struct json_member m;
	if (!json_object_begin(um->val, um->val_len, &pos, NULL))
		return bad(x, "\"%s\" must be an object", "props.user");
	while (json_object_next(um->val, um->val_len, &pos, &m, NULL)) {
		const char *k;
		size_t kl;
		if (!string_value(x, m.key, m.key_len, "props.user", &k, &kl))
			return false;
		if (m.val[0] != '[') {
			if (!user_value(x, k, kl, m.val, m.val_len))
				return false;
			continue;
		}
		for (size_t ap = 1;;) {
			ap = json_skip_ws(m.val, m.val_len, ap);
			if (m.val[ap] == ']')
				break;
			size_t vs = ap;
			json_skip_value(m.val, m.val_len, &ap, NULL);
			if (!user_value(x, k, kl, m.val + vs, ap - vs))
				return false;
			ap = json_skip_ws(m.val, m.val_len, ap);
			if (m.val[ap] == ',')
				ap++;
		}
	}
	return true;
}

/* correlation_data once the whole object is read: correlation_enc may
 * come after it. */
static bool parse_correlation(struct parse *x, const struct json_member *m, bool is_base64)
{
	struct props *p = &x->pp->props;
	const char *s;
	size_t sl;
	if (!string_value(x, m->val, m->val_len, "props.correlation_data", &s, &sl))
		return false;
	if (is_base64) {
		size_t badpos, start = x->pp->scratch.len;
		if (!base64_decode(&x->pp->scratch, s, sl, &badpos))
			return bad(x, "\"%s\" is not valid base64 (at character %zu)", "props.correlation_data",
			           badpos + 1);
		s = x->pp->scratch.data + start;
		sl = x->pp->scratch.len - start;
	}
	p->correlation = s;
	p->correlation_len = sl;
	return true;
}

static bool key_is(const struct json_member *m, const char *ours, const char *mosquittos)
{
	return json_key_is(m, ours) || json_key_is(m, mosquittos);
}

/* One member; correlation data is only noted (in *corr) for later. */
static bool parse_member(struct parse *x, const struct json_member *m, struct json_member *corr, bool *corr_base64)
{
	struct props *p = &x->pp->props;
	unsigned long v;
	const char *why;
	if (key_is(m, "content_type", "content-type"))
		return string_value(x, m->val, m->val_len, "props.content_type", &p->content_type,
		                    &p->content_type_len);
	if (key_is(m, "response_topic", "response-topic")) {
		if (!string_value(x, m->val, m->val_len, "props.response_topic", &p->response_topic,
		                  &p->response_topic_len))
			return false;
		if (!topic_name_valid(p->response_topic, p->response_topic_len, &why))
			return bad(x, "\"%s\" %s", "props.response_topic", why);
		return true;
	}
	if (key_is(m, "correlation_data", "correlation-data")) {
		*corr = *m;
		return true;
	}
	if (json_key_is(m, "correlation_enc")) {
		if (json_value_is(m, "\"base64\""))
			*corr_base64 = true;
		else if (!json_value_is(m, "\"utf8\""))
			return bad(x, "\"%s\" must be \"utf8\" or \"base64\"", "props.correlation_enc");
		return true;
	}
	if (key_is(m, "message_expiry", "message-expiry-interval")) {
		if (!json_uint(m->val, m->val_len, 4294967295UL, &v))
			return bad(x, "\"%s\" must be a whole number of seconds", "props.message_expiry");
		p->has_expiry = true;
		p->message_expiry = (uint32_t)v;
		return true;
	}
	if (key_is(m, "payload_format", "payload-format-indicator")) {
		if (!json_uint(m->val, m->val_len, 1, &v))
			return bad(x, "\"%s\" must be 0 or 1", "props.payload_format");
		p->has_payload_format = true;
		p->payload_format = (int)v;
		return true;
	}
	if (key_is(m, "user", "user-properties"))
		return parse_user(x, m);
	return true; /* readers ignore what they do not know */
}

const struct props *props_parse_json(struct props_parser *pp, const char *p, size_t n, char *err, size_t errlen)
{
	struct parse x = {pp, err, errlen};
	memset(&pp->props, 0, sizeof pp->props);
	pp->props.user = pp->user;
	/* decoded text is never longer than its source (base64 decodes into
	 * less than its text): nothing below reallocates, so pointers into
	 * the scratch stay valid */
	buf_reset(&pp->scratch);
	buf_grow_to(&pp->scratch, 2 * n + 64);
	size_t pos = 0;
	struct json_err je;
	struct json_member m, corr = {0};
	bool corr_base64 = false;
	if (!json_validate(p, n, &je)) {
		bad(&x, "\"%s\": not JSON: %s", "props", je.msg);
		return NULL;
	}
	if (!json_object_begin(p, n, &pos, &je)) {
		bad(&x, "\"%s\" must be an object", "props");
		return NULL;
	}
	while (json_object_next(p, n, &pos, &m, &je))
		if (!parse_member(&x, &m, &corr, &corr_base64))
			return NULL;
	if (je.msg) {
		bad(&x, "\"%s\": %s", "props", je.msg);
		return NULL;
	}
	if (corr.val && !parse_correlation(&x, &corr, corr_base64))
		return NULL;
	return &pp->props;
}
