/*
 * check_envelope.c — unit tests for src/envelope.h (SPEC §1): how the
 * encoder picks enc and writes bodies and props, that every line it writes
 * is one JSON object (checked independently with json-c) ending in one
 * '\n', that decoding gives back the same bytes and props, the decoder's
 * error messages, event lines, and the lines mosquitto_sub -F %j / %J
 * prints.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "check_main.h"
#include "envelope.h"
#include "json.h"

#define TS_EXAMPLE INT64_C(1738060215123) /* 2025-01-28T10:30:15.123Z */

/* ---- helpers ---- */

/* The line is one JSON object, to json-c as well, and ends with exactly
 * one newline. */
static void check_line(const char *p, size_t n)
{
	ck_assert_uint_ge(n, 2);
	ck_assert_msg(p[n - 1] == '\n', "line does not end with a newline");
	ck_assert_msg(memchr(p, '\n', n - 1) == NULL, "newline inside the line");
	ck_assert_msg(memchr(p, '\r', n) == NULL, "CR in the line");

	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH + 16);
	ck_assert_ptr_nonnull(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, p, (int)(n - 1));
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	ck_assert_msg(o != NULL && jerr == json_tokener_success, "json-c: %s: %.200s", json_tokener_error_desc(jerr),
	              p);
	ck_assert_uint_eq(json_tokener_get_parse_end(tok), n - 1);
	ck_assert(json_object_is_type(o, json_type_object));
	json_object_put(o);
	json_tokener_free(tok);
}

/* Encode e; returns the line (NUL-terminated, malloc'd) after checking it. */
static char *encode(const struct envelope *e, size_t *len)
{
	struct buf b = BUF_INIT;
	envelope_encode(&b, e);
	check_line(b.data, b.len);
	*len = b.len;
	buf_cstr(&b);
	return b.data;
}

/* json-c's view of the line's payload as a string (for utf8/base64). */
static char *jsonc_payload_string(const char *line, size_t n, size_t *len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)n);
	ck_assert_ptr_nonnull(o);
	struct json_object *pl;
	ck_assert(json_object_object_get_ex(o, "payload", &pl));
	ck_assert(json_object_is_type(pl, json_type_string));
	*len = (size_t)json_object_get_string_len(pl);
	char *s = malloc(*len + 1);
	memcpy(s, json_object_get_string(pl), *len + 1);
	json_object_put(o);
	json_tokener_free(tok);
	return s;
}

static struct envelope base_envelope(const char *payload, size_t len)
{
	struct envelope e = {0};
	e.topic = "a/b";
	e.topic_len = 3;
	e.payload = payload;
	e.payload_len = len;
	e.qos = 1;
	e.retain = 0;
	e.ts_ms = TS_EXAMPLE;
	e.has_ts = true;
	return e;
}

/* The line ends with "tail}\n". */
static void assert_tail(const char *line, size_t n, const char *tail)
{
	size_t tl = strlen(tail);
	ck_assert_msg(n >= tl + 2 && memcmp(line + n - tl - 2, tail, tl) == 0 && memcmp(line + n - 2, "}\n", 2) == 0,
	              "line %.300s does not end with %s}", line, tail);
}

/* Encode a body, check the tail of the line, decode it back and compare. */
static void body_case(const char *body, size_t len, const char *tail, enum envelope_enc want_enc, const char *want_back,
                      size_t want_back_len)
{
	struct envelope e = base_envelope(body, len);
	ck_assert_int_eq(envelope_pick_enc(body, len), want_enc);
	size_t n;
	char *line = encode(&e, &n);
	if (tail)
		assert_tail(line, n, tail);

	struct envelope_decoder d;
	struct envelope out;
	char err[256] = "";
	envelope_decoder_init(&d);
	/* as a line reader hands it out: without the newline */
	ck_assert_msg(envelope_decode(&d, line, n - 1, &out, err, sizeof err) == ENVELOPE_OK, "%s", err);
	ck_assert_int_eq(out.enc, want_enc);
	ck_assert_uint_eq(out.payload_len, want_back_len);
	if (want_back_len)
		ck_assert_mem_eq(out.payload, want_back, want_back_len);
	ck_assert_uint_eq(out.topic_len, 3);
	ck_assert_mem_eq(out.topic, "a/b", 3);
	ck_assert_int_eq(out.qos, 1);
	ck_assert_int_eq(out.retain, 0);
	ck_assert(out.has_ts);
	ck_assert_int_eq(out.ts_ms, TS_EXAMPLE);
	ck_assert_ptr_null(out.props);
	envelope_decoder_free(&d);
	free(line);
}
#define BODY(lit, tail, enc) body_case((lit), sizeof(lit) - 1, (tail), (enc), (lit), sizeof(lit) - 1)

/* ---- encoding ---- */

START_TEST(test_encode_spec_example)
{
	static const char body[] = "{\"temperature\":25.6}";
	struct envelope e = base_envelope(body, sizeof body - 1);
	e.topic = "autocore/ESP32_001/telemetry";
	e.topic_len = strlen(e.topic);
	size_t n;
	char *line = encode(&e, &n);
	ck_assert_str_eq(line,
	                 "{\"ts\":\"2025-01-28T10:30:15.123Z\",\"topic\":\"autocore/ESP32_001/telemetry\",\"qos\":1,"
	                 "\"retain\":false,\"enc\":\"json\",\"payload\":{\"temperature\":25.6}}\n");
	free(line);

	/* retain, QoS 2, a message id; a second line appends to the first */
	struct buf b = BUF_INIT;
	envelope_encode(&b, &e);
	size_t first = b.len;
	e.qos = 2;
	e.retain = 1;
	e.mid = 42;
	e.ts_ms = 0;
	envelope_encode(&b, &e);
	check_line(b.data, first);
	check_line(b.data + first, b.len - first);
	buf_cstr(&b);
	ck_assert_str_eq(b.data + first,
	                 "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"topic\":\"autocore/ESP32_001/"
	                 "telemetry\",\"qos\":2,\"retain\":true,\"mid\":42,\"enc\":\"json\",\"payload\":"
	                 "{\"temperature\":25.6}}\n");
	buf_free(&b);
}
END_TEST

START_TEST(test_encode_empty_and_scalars)
{
	BODY("", ",\"enc\":\"utf8\",\"payload\":\"\"", ENC_UTF8);
	BODY("42", ",\"enc\":\"json\",\"payload\":42", ENC_JSON);
	BODY("\"text\"", ",\"enc\":\"json\",\"payload\":\"text\"", ENC_JSON);
	BODY("null", ",\"enc\":\"json\",\"payload\":null", ENC_JSON);
	BODY("true", ",\"enc\":\"json\",\"payload\":true", ENC_JSON);
	BODY("-0.5e3", ",\"enc\":\"json\",\"payload\":-0.5e3", ENC_JSON);
	BODY("[]", ",\"enc\":\"json\",\"payload\":[]", ENC_JSON);
	/* not JSON, so text */
	BODY("TRUE", ",\"enc\":\"utf8\",\"payload\":\"TRUE\"", ENC_UTF8);
	BODY("hello world", ",\"enc\":\"utf8\",\"payload\":\"hello world\"", ENC_UTF8);
	BODY("01", ",\"enc\":\"utf8\",\"payload\":\"01\"", ENC_UTF8);
	BODY("[1,2", ",\"enc\":\"utf8\",\"payload\":\"[1,2\"", ENC_UTF8);
	BODY("'single'", ",\"enc\":\"utf8\",\"payload\":\"'single'\"", ENC_UTF8);
}
END_TEST

START_TEST(test_encode_keeps_number_spelling)
{
	BODY("{\"t\":27.60}", ",\"enc\":\"json\",\"payload\":{\"t\":27.60}", ENC_JSON);
	BODY("[1.0,2.50E+01,-0,1e400]", ",\"enc\":\"json\",\"payload\":[1.0,2.50E+01,-0,1e400]", ENC_JSON);
	/* a single-line body is copied as it is, spaces included */
	BODY("{\"t\": 27.60, \"u\" : [1, 2]}", ",\"enc\":\"json\",\"payload\":{\"t\": 27.60, \"u\" : [1, 2]}",
	     ENC_JSON);
}
END_TEST

START_TEST(test_encode_multiline_json_compacted)
{
	static const char body[] = "{\n  \"msg\": \"a  b\\n \\\"c\\\"  d\",\n\t\"n\": [1, 2],\r\n  \"t\": 27.60\n}\n";
	static const char want[] = "{\"msg\":\"a  b\\n \\\"c\\\"  d\",\"n\":[1,2],\"t\":27.60}";
	body_case(body, sizeof body - 1,
	          ",\"enc\":\"json\",\"payload\":{\"msg\":\"a  b\\n \\\"c\\\"  d\",\"n\":[1,2],\"t\":27.60}", ENC_JSON,
	          want, sizeof want - 1);
	/* a trailing newline alone (echo 42 | mosquitto_pub -s) */
	body_case("42\n", 3, ",\"enc\":\"json\",\"payload\":42", ENC_JSON, "42", 2);
	body_case("\"x  y\"\r\n", 8, ",\"enc\":\"json\",\"payload\":\"x  y\"", ENC_JSON, "\"x  y\"", 6);
}
END_TEST

START_TEST(test_encode_invalid_utf8_base64)
{
	BODY("\xff\xfe\x00\x01"
	     "abc",
	     ",\"enc\":\"base64\",\"payload\":\"//4AAWFiYw==\"", ENC_BASE64);
	BODY("caf\xe9", ",\"enc\":\"base64\",\"payload\":\"Y2Fm6Q==\"", ENC_BASE64); /* Latin-1 */
	BODY("\xc0\x80", ",\"enc\":\"base64\",\"payload\":\"wIA=\"", ENC_BASE64); /* overlong */
	BODY("{\"k\":\"\xff\"}", ",\"enc\":\"base64\",\"payload\":\"eyJrIjoi/yJ9\"", ENC_BASE64);
	/* json-c sees the same base64 text */
	static const char body[] = "\xff\xfe\x00\x01"
	                           "abc";
	struct envelope e = base_envelope(body, sizeof body - 1);
	size_t n, pl;
	char *line = encode(&e, &n);
	char *s = jsonc_payload_string(line, n, &pl);
	ck_assert_str_eq(s, "//4AAWFiYw==");
	free(s);
	free(line);
}
END_TEST

START_TEST(test_encode_text_escaping)
{
	static const char body[] = "say \"hi\" \\ path\n\t\x01\x00 caf\xc3\xa9 \x7f end/";
	BODY("say \"hi\" \\ path\n\t\x01\x00 caf\xc3\xa9 \x7f end/",
	     ",\"enc\":\"utf8\",\"payload\":\"say \\\"hi\\\" \\\\ path\\n\\t\\u0001\\u0000 caf\xc3\xa9 \\u007f end/\"",
	     ENC_UTF8);
	/* json-c decodes the escapes to the same bytes, NUL included */
	struct envelope e = base_envelope(body, sizeof body - 1);
	size_t n, pl;
	char *line = encode(&e, &n);
	char *s = jsonc_payload_string(line, n, &pl);
	ck_assert_uint_eq(pl, sizeof body - 1);
	ck_assert_mem_eq(s, body, pl);
	free(s);
	free(line);
	/* every control character */
	char ctl[32];
	for (int i = 0; i < 32; i++)
		ctl[i] = (char)i;
	body_case(ctl, sizeof ctl, NULL, ENC_UTF8, ctl, sizeof ctl);
}
END_TEST

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

START_TEST(test_encode_1mib_json)
{
	struct buf body = BUF_INIT;
	buf_adds(&body, "{\"data\":[");
	while (body.len < (1u << 20))
		buf_printf(&body, "%u.%02u,", (unsigned)(rng() % 100000), (unsigned)(rng() % 100));
	buf_adds(&body, "0],\"t\":27.60,\"s\":\"end  of  it\"}");
	ck_assert(json_validate(body.data, body.len, NULL));
	body_case(body.data, body.len, ",\"t\":27.60,\"s\":\"end  of  it\"}", ENC_JSON, body.data, body.len);
	buf_free(&body);
}
END_TEST

START_TEST(test_encode_1mib_binary)
{
	const size_t len = 1u << 20;
	unsigned char *body = malloc(len);
	for (size_t i = 0; i < len; i++)
		body[i] = (unsigned char)rng();
	body[0] = 0xFF;
	body_case((const char *)body, len, NULL, ENC_BASE64, (const char *)body, len);

	/* 1 MiB of valid UTF-8 text that is not JSON, with escapes */
	for (size_t i = 0; i < len; i++)
		body[i] = (unsigned char)(rng() % 0x7F);
	body_case((const char *)body, len, NULL, ENC_UTF8, (const char *)body, len);
	free(body);
}
END_TEST

START_TEST(test_encode_deep_json_is_text)
{
	const size_t depth = 10000;
	char *body = malloc(2 * depth);
	memset(body, '[', depth);
	memset(body + depth, ']', depth);
	struct json_err err = {0, NULL};
	ck_assert(!json_validate(body, 2 * depth, &err));
	ck_assert_str_eq(err.msg, "nested too deeply");
	ck_assert_uint_eq(err.pos, JSON_MAX_DEPTH);
	ck_assert_int_eq(envelope_pick_enc(body, 2 * depth), ENC_UTF8);
	body_case(body, 2 * depth, NULL, ENC_UTF8, body, 2 * depth);

	/* exactly the bound is still JSON */
	body_case(body + depth - JSON_MAX_DEPTH, 2 * JSON_MAX_DEPTH, NULL, ENC_JSON, body + depth - JSON_MAX_DEPTH,
	          2 * JSON_MAX_DEPTH);
	free(body);
}
END_TEST

START_TEST(test_encode_topic_invalid_utf8)
{
	/* a broker should never send one; the line must stay JSON regardless */
	struct envelope e = base_envelope("1", 1);
	e.topic = "a/\xff/b";
	e.topic_len = 5;
	size_t n;
	char *line = encode(&e, &n);
	ck_assert_ptr_nonnull(strstr(line, "\"topic\":\"a/\xef\xbf\xbd/b\""));
	free(line);
}
END_TEST

/* ---- props ---- */

static const struct props_user three_user[] = {
        {"k", 1, "v", 1},
        {"a", 1, "b", 1},
        {"k", 1, "v2", 2},
};

static void assert_props_equal(const struct props *a, const struct props *b)
{
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(a->content_type != NULL, b->content_type != NULL);
	if (a->content_type) {
		ck_assert_uint_eq(a->content_type_len, b->content_type_len);
		ck_assert_mem_eq(a->content_type, b->content_type, a->content_type_len);
	}
	ck_assert_int_eq(a->response_topic != NULL, b->response_topic != NULL);
	if (a->response_topic) {
		ck_assert_uint_eq(a->response_topic_len, b->response_topic_len);
		ck_assert_mem_eq(a->response_topic, b->response_topic, a->response_topic_len);
	}
	ck_assert_int_eq(a->correlation != NULL, b->correlation != NULL);
	if (a->correlation) {
		ck_assert_uint_eq(a->correlation_len, b->correlation_len);
		ck_assert_mem_eq(a->correlation, b->correlation, a->correlation_len);
	}
	ck_assert_int_eq(a->has_expiry, b->has_expiry);
	if (a->has_expiry)
		ck_assert_uint_eq(a->message_expiry, b->message_expiry);
	ck_assert_int_eq(a->has_payload_format, b->has_payload_format);
	if (a->has_payload_format)
		ck_assert_int_eq(a->payload_format, b->payload_format);
	/* user properties: the same values per key, in order (the encoder
	 * groups a repeated key into one array) */
	ck_assert_uint_eq(a->nuser, b->nuser);
	for (size_t i = 0; i < a->nuser; i++) {
		const struct props_user *u = &a->user[i];
		size_t nth = 0;
		for (size_t j = 0; j < i; j++)
			nth += a->user[j].key_len == u->key_len && memcmp(a->user[j].key, u->key, u->key_len) == 0;
		const struct props_user *found = NULL;
		for (size_t j = 0; j < b->nuser && !found; j++) {
			if (b->user[j].key_len == u->key_len && memcmp(b->user[j].key, u->key, u->key_len) == 0) {
				if (nth == 0)
					found = &b->user[j];
				else
					nth--;
			}
		}
		ck_assert_msg(found != NULL, "user property %.*s lost", (int)u->key_len, u->key);
		ck_assert_uint_eq(found->val_len, u->val_len);
		ck_assert_mem_eq(found->val, u->val, u->val_len);
	}
}

/* Encode with props, expect the props object text, decode and compare. */
static void props_case(const struct props *p, const char *want_props)
{
	struct envelope e = base_envelope("1", 1);
	e.props = p;
	size_t n;
	char *line = encode(&e, &n);
	if (want_props) {
		ck_assert_msg(strstr(line, want_props) != NULL, "%s lacks %s", line, want_props);
		/* between the header and the payload */
		ck_assert_ptr_eq(strstr(line, want_props),
		                 line + strlen("{\"ts\":\"2025-01-28T10:30:15.123Z\",\"topic\":"
		                               "\"a/b\",\"qos\":1,\"retain\":false"));
		ck_assert_ptr_eq(strstr(line, want_props) + strlen(want_props), strstr(line, ",\"enc\":\"json\""));
	} else {
		ck_assert_ptr_null(strstr(line, "props"));
	}
	struct envelope_decoder d;
	struct envelope out;
	char err[256] = "";
	envelope_decoder_init(&d);
	ck_assert_msg(envelope_decode(&d, line, n, &out, err, sizeof err) == ENVELOPE_OK, "%s", err);
	ck_assert_uint_eq(out.payload_len, 1);
	ck_assert_mem_eq(out.payload, "1", 1);
	if (want_props)
		assert_props_equal(p, out.props);
	else
		ck_assert_ptr_null(out.props);
	envelope_decoder_free(&d);
	free(line);
}

START_TEST(test_props_all)
{
	struct props p = {0};
	p.content_type = "app/json";
	p.content_type_len = 8;
	p.response_topic = "r/t";
	p.response_topic_len = 3;
	p.correlation = "abc";
	p.correlation_len = 3;
	p.has_expiry = true;
	p.message_expiry = 30;
	p.has_payload_format = true;
	p.payload_format = 1;
	p.user = three_user;
	p.nuser = 3;
	props_case(&p,
	           ",\"props\":{\"content_type\":\"app/json\",\"response_topic\":\"r/t\",\"correlation_data\":\"abc\","
	           "\"message_expiry\":30,\"payload_format\":1,\"user\":{\"k\":[\"v\",\"v2\"],\"a\":\"b\"}}");
}
END_TEST

START_TEST(test_props_correlation)
{
	struct props p = {0};
	p.correlation = "\x00\xff\x10";
	p.correlation_len = 3;
	props_case(&p, ",\"props\":{\"correlation_data\":\"AP8Q\",\"correlation_enc\":\"base64\"}");

	/* UTF-8 correlation data is a string, escaped as needed, NUL included */
	p.correlation = "id \"7\"\x00\xc3\xa9";
	p.correlation_len = 9;
	props_case(&p, ",\"props\":{\"correlation_data\":\"id \\\"7\\\"\\u0000\xc3\xa9\"}");

	/* empty correlation data is still there */
	p.correlation = "";
	p.correlation_len = 0;
	props_case(&p, ",\"props\":{\"correlation_data\":\"\"}");
}
END_TEST

START_TEST(test_props_single_fields)
{
	struct props p = {0};
	props_case(&p, NULL); /* nothing to show: no "props" at all */

	p.has_payload_format = true;
	p.payload_format = 0;
	props_case(&p, ",\"props\":{\"payload_format\":0}");

	memset(&p, 0, sizeof p);
	p.has_expiry = true;
	p.message_expiry = 4294967295U;
	props_case(&p, ",\"props\":{\"message_expiry\":4294967295}");
	p.message_expiry = 0;
	props_case(&p, ",\"props\":{\"message_expiry\":0}");

	memset(&p, 0, sizeof p);
	p.content_type = "text/plain; charset=\"utf-8\"";
	p.content_type_len = strlen(p.content_type);
	props_case(&p, ",\"props\":{\"content_type\":\"text/plain; charset=\\\"utf-8\\\"\"}");

	memset(&p, 0, sizeof p);
	static const struct props_user one[] = {{"k\"ey", 4, "va\nl", 4}};
	p.user = one;
	p.nuser = 1;
	props_case(&p, ",\"props\":{\"user\":{\"k\\\"ey\":\"va\\nl\"}}");

	static const struct props_user rep[] = {{"k", 1, "1", 1}, {"k", 1, "2", 1}, {"k", 1, "3", 1}};
	p.user = rep;
	p.nuser = 3;
	props_case(&p, ",\"props\":{\"user\":{\"k\":[\"1\",\"2\",\"3\"]}}");
}
END_TEST

START_TEST(test_props_invalid_utf8_text)
{
	/* libmosquitto checks these; the line must stay JSON regardless */
	struct props p = {0};
	static const struct props_user bad[] = {{"k\xff", 2, "v\xfe", 2}};
	p.user = bad;
	p.nuser = 1;
	p.content_type = "a\xff";
	p.content_type_len = 2;
	struct envelope e = base_envelope("1", 1);
	e.props = &p;
	size_t n;
	char *line = encode(&e, &n);
	ck_assert_ptr_nonnull(strstr(line, "\"content_type\":\"a\xef\xbf\xbd\""));
	ck_assert_ptr_nonnull(strstr(line, "\"user\":{\"k\xef\xbf\xbd\":\"v\xef\xbf\xbd\"}"));
	free(line);
}
END_TEST

/* ---- decoding ---- */

struct decoded {
	struct envelope_decoder d;
	struct envelope e;
	char err[256];
	enum envelope_result r;
};

static void decode_n(struct decoded *x, const char *line, size_t n)
{
	envelope_decoder_init(&x->d);
	x->err[0] = '\0';
	x->r = envelope_decode(&x->d, line, n, &x->e, x->err, sizeof x->err);
}
static void decode(struct decoded *x, const char *line)
{
	decode_n(x, line, strlen(line));
}

static void decode_ok(struct decoded *x, const char *line)
{
	decode(x, line);
	ck_assert_msg(x->r == ENVELOPE_OK, "%s: %s", line, x->err);
}

/* Decoding fails with a message containing each of the words. */
static void decode_err_n(const char *line, size_t n, const char *w1, const char *w2)
{
	struct decoded x;
	decode_n(&x, line, n);
	ck_assert_msg(x.r == ENVELOPE_ERROR, "accepted %.*s", (int)n, line);
	ck_assert_msg(strstr(x.err, w1) != NULL, "%.*s: '%s' lacks '%s'", (int)n, line, x.err, w1);
	if (w2)
		ck_assert_msg(strstr(x.err, w2) != NULL, "%.*s: '%s' lacks '%s'", (int)n, line, x.err, w2);
	envelope_decoder_free(&x.d);
}
static void decode_err(const char *line, const char *w1, const char *w2)
{
	decode_err_n(line, strlen(line), w1, w2);
}

static void decode_err_exact(const char *line, size_t n, const char *want)
{
	struct decoded x;
	decode_n(&x, line, n);
	ck_assert_int_eq(x.r, ENVELOPE_ERROR);
	ck_assert_str_eq(x.err, want);
	envelope_decoder_free(&x.d);
}
#define DECODE_ERR_EXACT(lit, want) decode_err_exact((lit), sizeof(lit) - 1, (want))

static void assert_payload(const struct envelope *e, enum envelope_enc enc, const char *want, size_t len)
{
	ck_assert_int_eq(e->enc, enc);
	ck_assert_uint_eq(e->payload_len, len);
	if (len)
		ck_assert_mem_eq(e->payload, want, len);
}
#define PAYLOAD(e, enc, lit) assert_payload((e), (enc), (lit), sizeof(lit) - 1)

START_TEST(test_decode_enc_absent)
{
	struct decoded x;
	decode_ok(&x, "{\"topic\":\"a/b\",\"payload\":\"hi \\\"there\\\" caf\\u00e9\"}");
	PAYLOAD(&x.e, ENC_UTF8, "hi \"there\" caf\xc3\xa9");
	ck_assert_uint_eq(x.e.topic_len, 3);
	ck_assert_mem_eq(x.e.topic, "a/b", 3);
	ck_assert_int_eq(x.e.qos, -1);
	ck_assert_int_eq(x.e.retain, -1);
	ck_assert(!x.e.has_ts);
	ck_assert_int_eq(x.e.mid, 0);
	ck_assert_ptr_null(x.e.props);
	envelope_decoder_free(&x.d);

	decode_ok(&x, "{\"topic\":\"a/b\",\"payload\":{\"t\": 27.60}}");
	PAYLOAD(&x.e, ENC_JSON, "{\"t\": 27.60}");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"payload\":42,\"topic\":\"a/b\"}");
	PAYLOAD(&x.e, ENC_JSON, "42");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a/b\",\"payload\":null}");
	PAYLOAD(&x.e, ENC_JSON, "null");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a/b\",\"payload\":[1, \"x\"]}");
	PAYLOAD(&x.e, ENC_JSON, "[1, \"x\"]");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a/b\",\"payload\":false}");
	PAYLOAD(&x.e, ENC_JSON, "false");
	envelope_decoder_free(&x.d);

	/* no payload: an empty body; no topic: left to the caller */
	decode_ok(&x, "{\"topic\":\"a/b\"}");
	ck_assert_uint_eq(x.e.payload_len, 0);
	ck_assert_ptr_nonnull(x.e.payload);
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"payload\":1}");
	ck_assert_ptr_null(x.e.topic);
	envelope_decoder_free(&x.d);
}
END_TEST

START_TEST(test_decode_enc_given)
{
	struct decoded x;
	decode_ok(&x, "{\"topic\":\"a\",\"enc\":\"utf8\",\"payload\":\"caf\\u00e9 \\ud83d\\ude00\"}");
	PAYLOAD(&x.e, ENC_UTF8, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"payload\":\"AP8Q\",\"enc\":\"base64\"}");
	PAYLOAD(&x.e, ENC_BASE64, "\x00\xff\x10");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"enc\":\"base64\",\"payload\":\"\"}");
	PAYLOAD(&x.e, ENC_BASE64, "");
	envelope_decoder_free(&x.d);
	/* a JSON string body keeps its quotes */
	decode_ok(&x, "{\"topic\":\"a\",\"enc\":\"json\",\"payload\":\"text\"}");
	PAYLOAD(&x.e, ENC_JSON, "\"text\"");
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"enc\":\"json\",\"payload\":{\"x\":[1,2]}}");
	PAYLOAD(&x.e, ENC_JSON, "{\"x\":[1,2]}");
	envelope_decoder_free(&x.d);

	decode_err("{\"topic\":\"a\",\"enc\":\"base64\",\"payload\":\"ab!d\"}", "\"payload\"", "base64");
	DECODE_ERR_EXACT("{\"topic\":\"a\",\"enc\":\"base64\",\"payload\":\"ab!d\"}",
	                 "\"payload\" is not valid base64 (at character 3)");
	decode_err("{\"topic\":\"a\",\"enc\":\"base64\",\"payload\":\"Zg=\"}", "\"payload\"", "base64");
	decode_err("{\"topic\":\"a\",\"enc\":\"base64\",\"payload\":42}", "\"payload\"", "must be a string");
	decode_err("{\"topic\":\"a\",\"enc\":\"utf8\",\"payload\":{}}", "\"payload\"", "must be a string");
	decode_err("{\"topic\":\"a\",\"enc\":\"hex\",\"payload\":\"00\"}", "\"enc\"", "json");
	decode_err("{\"topic\":\"a\",\"enc\":1,\"payload\":\"00\"}", "\"enc\"", NULL);
}
END_TEST

START_TEST(test_decode_fields)
{
	struct decoded x;
	decode_ok(&x, " {\"ts\":\"2025-01-28T12:30:15.123+02:00\",\"topic\":\"a\",\"qos\":2,\"retain\":true,\"mid\":7,"
	              "\"unknown\":{\"deep\":[1,{\"x\":null}]},\"payload\":1} \n");
	ck_assert(x.e.has_ts);
	ck_assert_int_eq(x.e.ts_ms, TS_EXAMPLE);
	ck_assert_int_eq(x.e.qos, 2);
	ck_assert_int_eq(x.e.retain, 1);
	ck_assert_int_eq(x.e.mid, 7);
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"qos\":0,\"retain\":false}");
	ck_assert_int_eq(x.e.qos, 0);
	ck_assert_int_eq(x.e.retain, 0);
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"retain\":1}");
	ck_assert_int_eq(x.e.retain, 1);
	envelope_decoder_free(&x.d);

	decode_err("{\"topic\":\"a\",\"qos\":3}", "\"qos\"", NULL);
	decode_err("{\"topic\":\"a\",\"qos\":-1}", "\"qos\"", NULL);
	decode_err("{\"topic\":\"a\",\"qos\":1.0}", "\"qos\"", NULL);
	decode_err("{\"topic\":\"a\",\"qos\":\"1\"}", "\"qos\"", NULL);
	decode_err("{\"topic\":\"a\",\"retain\":\"yes\"}", "\"retain\"", NULL);
	decode_err("{\"topic\":\"a\",\"retain\":2}", "\"retain\"", NULL);
	decode_err("{\"topic\":\"a\",\"ts\":\"yesterday\"}", "\"ts\"", "RFC 3339");
	decode_err("{\"topic\":\"a\",\"ts\":1738060215123}", "\"ts\"", "string");
	decode_err("{\"topic\":\"a\",\"tst\":\"2025-02-30T00:00:00Z\"}", "\"tst\"", "no such date");
}
END_TEST

START_TEST(test_decode_topic_errors)
{
	decode_err("{\"topic\":\"a/+/b\",\"payload\":1}", "\"topic\"", "wildcard");
	decode_err("{\"topic\":\"a/#\",\"payload\":1}", "\"topic\"", "wildcard");
	decode_err("{\"topic\":\"\",\"payload\":1}", "\"topic\"", "empty");
	decode_err("{\"topic\":\"a\\u0000b\",\"payload\":1}", "\"topic\"", "NUL");
	decode_err("{\"topic\":42,\"payload\":1}", "\"topic\"", "string");
	/* JSON escapes cannot make invalid UTF-8; raw invalid bytes make the
	 * line not JSON */
	DECODE_ERR_EXACT("{\"topic\":\"a\xff"
	                 "b\",\"payload\":1}",
	                 "not JSON: invalid UTF-8 in string at byte 12 (in \"topic\")");
	/* a lone surrogate escape becomes U+FFFD, a valid topic */
	struct decoded x;
	decode_ok(&x, "{\"topic\":\"a\\ud800\"}");
	ck_assert_uint_eq(x.e.topic_len, 4);
	ck_assert_mem_eq(x.e.topic, "a\xef\xbf\xbd", 4);
	envelope_decoder_free(&x.d);
}
END_TEST

START_TEST(test_decode_not_json)
{
	DECODE_ERR_EXACT("{\"topic\":\"a\",}", "not JSON: expected a string key at byte 14");
	DECODE_ERR_EXACT("{\"topic\":\"a\"", "not JSON: unterminated object at byte 13");
	DECODE_ERR_EXACT("hello", "not JSON: unexpected character, expected a value at byte 1");
	DECODE_ERR_EXACT("", "not JSON: empty line at byte 1");
	DECODE_ERR_EXACT("   ", "not JSON: empty line at byte 4");
	DECODE_ERR_EXACT("[1,2", "not JSON: unexpected end inside a container at byte 5");
	DECODE_ERR_EXACT("{\"topic\":\"a\"} x", "not JSON: trailing characters after the value at byte 15");
	DECODE_ERR_EXACT("{\"topic\":\"a\"}\x00", "not JSON: trailing characters after the value at byte 14");
	decode_err("{'topic':'a'}", "not JSON", "at byte 2");

	/* JSON, but not an object */
	decode_err("[1,2]", "not an envelope", NULL);
	decode_err("42", "not an envelope", NULL);
	decode_err("\"a/b\"", "not an envelope", NULL);
	decode_err(" null ", "not an envelope", NULL);

	/* a body nested too deeply makes the line not JSON, without recursion */
	const size_t depth = 10000;
	struct buf line = BUF_INIT;
	buf_adds(&line, "{\"topic\":\"a\",\"payload\":");
	char *p = buf_reserve(&line, 2 * depth);
	memset(p, '[', depth);
	memset(p + depth, ']', depth);
	line.len += 2 * depth;
	buf_addc(&line, '}');
	decode_err_n(line.data, line.len, "not JSON: nested too deeply at byte 1024", NULL);
	buf_free(&line);
}
END_TEST

START_TEST(test_decode_event)
{
	struct decoded x;
	decode(&x, "{\"ts\":\"2025-01-28T10:30:15.123Z\",\"event\":\"online\",\"device\":\"ESP32_001\"}");
	ck_assert_int_eq(x.r, ENVELOPE_EVENT);
	envelope_decoder_free(&x.d);
	decode(&x, "{\"event\":\"result\",\"id\":\"x\",\"status\":\"acked\",\"response\":{\"status\":\"ok\"}}");
	ck_assert_int_eq(x.r, ENVELOPE_EVENT);
	envelope_decoder_free(&x.d);
	/* an event about a subscription may name a filter */
	decode(&x, "{\"event\":\"alert\",\"topic\":\"autocore/+/telemetry\",\"payload\":{\"t\":31}}");
	ck_assert_int_eq(x.r, ENVELOPE_EVENT);
	envelope_decoder_free(&x.d);
	/* still JSON first */
	decode_err("{\"event\":\"online\",}", "not JSON", NULL);
}
END_TEST

START_TEST(test_decode_props)
{
	struct decoded x;
	decode_ok(&x, "{\"topic\":\"a\",\"props\":{\"content_type\":\"app/json\",\"response_topic\":\"r/t\","
	              "\"correlation_data\":\"abc\",\"message_expiry\":30,\"payload_format\":1,"
	              "\"user\":{\"k\":[\"v\",\"v2\"],\"a\":\"b\",\"n\":5}},\"payload\":1}");
	const struct props *p = x.e.props;
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->content_type_len, 8);
	ck_assert_mem_eq(p->content_type, "app/json", 8);
	ck_assert_uint_eq(p->response_topic_len, 3);
	ck_assert_mem_eq(p->response_topic, "r/t", 3);
	ck_assert_uint_eq(p->correlation_len, 3);
	ck_assert_mem_eq(p->correlation, "abc", 3);
	ck_assert(p->has_expiry);
	ck_assert_uint_eq(p->message_expiry, 30);
	ck_assert(p->has_payload_format);
	ck_assert_int_eq(p->payload_format, 1);
	ck_assert_uint_eq(p->nuser, 4);
	const char *keys[] = {"k", "k", "a", "n"}, *vals[] = {"v", "v2", "b", "5"};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(p->user[i].key_len, strlen(keys[i]));
		ck_assert_mem_eq(p->user[i].key, keys[i], p->user[i].key_len);
		ck_assert_uint_eq(p->user[i].val_len, strlen(vals[i]));
		ck_assert_mem_eq(p->user[i].val, vals[i], p->user[i].val_len);
	}
	envelope_decoder_free(&x.d);

	/* correlation_enc may come before or after the data */
	decode_ok(&x, "{\"topic\":\"a\",\"props\":{\"correlation_enc\":\"base64\",\"correlation_data\":\"AP8Q\"}}");
	ck_assert_uint_eq(x.e.props->correlation_len, 3);
	ck_assert_mem_eq(x.e.props->correlation, "\x00\xff\x10", 3);
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"props\":{\"correlation_data\":\"AP8Q\",\"correlation_enc\":\"base64\"}}");
	ck_assert_uint_eq(x.e.props->correlation_len, 3);
	ck_assert_mem_eq(x.e.props->correlation, "\x00\xff\x10", 3);
	envelope_decoder_free(&x.d);
	decode_ok(&x, "{\"topic\":\"a\",\"props\":{\"correlation_data\":\"AP8Q\",\"correlation_enc\":\"utf8\"}}");
	ck_assert_uint_eq(x.e.props->correlation_len, 4);
	ck_assert_mem_eq(x.e.props->correlation, "AP8Q", 4);
	envelope_decoder_free(&x.d);

	/* an empty props object */
	decode_ok(&x, "{\"topic\":\"a\",\"props\":{}}");
	ck_assert_ptr_nonnull(x.e.props);
	ck_assert_ptr_null(x.e.props->content_type);
	ck_assert_uint_eq(x.e.props->nuser, 0);
	envelope_decoder_free(&x.d);

	decode_err("{\"topic\":\"a\",\"props\":[]}", "\"props\"", "object");
	decode_err("{\"topic\":\"a\",\"props\":{\"message_expiry\":-1}}", "props.message_expiry", NULL);
	decode_err("{\"topic\":\"a\",\"props\":{\"message_expiry\":4294967296}}", "props.message_expiry", NULL);
	decode_err("{\"topic\":\"a\",\"props\":{\"payload_format\":2}}", "props.payload_format", NULL);
	decode_err("{\"topic\":\"a\",\"props\":{\"content_type\":5}}", "props.content_type", "string");
	decode_err("{\"topic\":\"a\",\"props\":{\"response_topic\":\"r/+\"}}", "props.response_topic", "wildcard");
	decode_err("{\"topic\":\"a\",\"props\":{\"correlation_data\":\"@@\",\"correlation_enc\":\"base64\"}}",
	           "props.correlation_data", "base64");
	decode_err("{\"topic\":\"a\",\"props\":{\"correlation_data\":\"x\",\"correlation_enc\":\"hex\"}}",
	           "props.correlation_enc", NULL);
	decode_err("{\"topic\":\"a\",\"props\":{\"user\":{\"k\":{\"x\":1}}}}", "props.user", NULL);
	decode_err("{\"topic\":\"a\",\"props\":{\"user\":{\"k\":[[1]]}}}", "props.user", NULL);
	decode_err("{\"topic\":\"a\",\"props\":{\"user\":[]}}", "props.user", "object");
}
END_TEST

/* More user properties than the decoder's first allocation holds, and a
 * decoder reused for lines with and without props. */
START_TEST(test_decode_many_user_props_and_reuse)
{
	struct buf line = BUF_INIT;
	buf_adds(&line, "{\"topic\":\"a\",\"props\":{\"user\":{");
	for (int i = 0; i < 40; i++)
		buf_printf(&line, "%s\"key%d\":\"value%d\"", i ? "," : "", i, i);
	buf_adds(&line, ",\"rep\":[");
	for (int i = 0; i < 20; i++)
		buf_printf(&line, "%s\"r%d\"", i ? "," : "", i);
	buf_adds(&line, "]}},\"payload\":1}");

	struct envelope_decoder d;
	struct envelope e;
	char err[256] = "";
	envelope_decoder_init(&d);
	for (int round = 0; round < 2; round++) {
		ck_assert_msg(envelope_decode(&d, line.data, line.len, &e, err, sizeof err) == ENVELOPE_OK, "%s", err);
		ck_assert_ptr_nonnull(e.props);
		ck_assert_uint_eq(e.props->nuser, 60);
		for (int i = 0; i < 60; i++) {
			char k[16], v[16];
			if (i < 40) {
				snprintf(k, sizeof k, "key%d", i);
				snprintf(v, sizeof v, "value%d", i);
			} else {
				snprintf(k, sizeof k, "rep");
				snprintf(v, sizeof v, "r%d", i - 40);
			}
			ck_assert_uint_eq(e.props->user[i].key_len, strlen(k));
			ck_assert_mem_eq(e.props->user[i].key, k, strlen(k));
			ck_assert_uint_eq(e.props->user[i].val_len, strlen(v));
			ck_assert_mem_eq(e.props->user[i].val, v, strlen(v));
		}
		/* the same decoder, a line without props: nothing carried over */
		static const char plain[] = "{\"topic\":\"b\",\"payload\":\"x\"}";
		ck_assert_int_eq(envelope_decode(&d, plain, sizeof plain - 1, &e, err, sizeof err), ENVELOPE_OK);
		ck_assert_ptr_null(e.props);
		ck_assert_mem_eq(e.topic, "b", 1);
		static const char empty_props[] = "{\"topic\":\"b\",\"props\":{}}";
		ck_assert_int_eq(envelope_decode(&d, empty_props, sizeof empty_props - 1, &e, err, sizeof err),
		                 ENVELOPE_OK);
		ck_assert_uint_eq(e.props->nuser, 0);
		ck_assert(!e.props->has_expiry);
	}
	envelope_decoder_free(&d);
	buf_free(&line);
}
END_TEST

/* What mosquitto_sub -F %j prints (payload as a string), copied from a real
 * run with MQTT 5 properties. */
static const char mosquitto_j[] =
        "{\"tst\":\"2026-11-23T17:00:38.078107Z+0000\",\"topic\":\"x/a\",\"qos\":0,\"retain\":0,\"payloadlen\":23,"
        "\"properties\":{\"user-properties\":{\"k\":\"v\",\"k\":\"v2\"},\"content-type\":\"app/json\","
        "\"correlation-data\":\"abc\",\"response-topic\":\"r/t\",\"payload-format-indicator\":1,"
        "\"message-expiry-interval\":30},\"payload\":\"{\\\"t\\\":27.60, \\\"n\\\": [1,2]}\"}";
/* and -F %J (payload as JSON when it is JSON) */
static const char mosquitto_J[] =
        "{\"tst\":\"2026-11-23T17:00:38.078107Z+0000\",\"topic\":\"x/a\",\"qos\":0,\"retain\":1,\"payloadlen\":23,"
        "\"properties\":{\"user-properties\":{\"k\":\"v\",\"k\":\"v2\"},\"content-type\":\"app/json\","
        "\"correlation-data\":\"abc\",\"response-topic\":\"r/t\",\"payload-format-indicator\":1,"
        "\"message-expiry-interval\":30},\"payload\":{\"t\":27.60, \"n\": [1,2]}}";

static void check_mosquitto_props(const struct envelope *e)
{
	const struct props *p = e->props;
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->nuser, 2); /* the duplicate key is kept */
	ck_assert_mem_eq(p->user[0].key, "k", 1);
	ck_assert_uint_eq(p->user[0].val_len, 1);
	ck_assert_mem_eq(p->user[0].val, "v", 1);
	ck_assert_uint_eq(p->user[1].key_len, 1);
	ck_assert_mem_eq(p->user[1].key, "k", 1);
	ck_assert_uint_eq(p->user[1].val_len, 2);
	ck_assert_mem_eq(p->user[1].val, "v2", 2);
	ck_assert_uint_eq(p->content_type_len, 8);
	ck_assert_mem_eq(p->content_type, "app/json", 8);
	ck_assert_uint_eq(p->correlation_len, 3);
	ck_assert_mem_eq(p->correlation, "abc", 3);
	ck_assert_uint_eq(p->response_topic_len, 3);
	ck_assert_mem_eq(p->response_topic, "r/t", 3);
	ck_assert(p->has_payload_format);
	ck_assert_int_eq(p->payload_format, 1);
	ck_assert(p->has_expiry);
	ck_assert_uint_eq(p->message_expiry, 30);
}

START_TEST(test_decode_mosquitto_j)
{
	struct decoded x;
	decode_ok(&x, mosquitto_j);
	ck_assert(x.e.has_ts);
	ck_assert_int_eq(x.e.ts_ms, INT64_C(1795453238078)); /* 2026-11-23T17:00:38.078Z */
	ck_assert_uint_eq(x.e.topic_len, 3);
	ck_assert_mem_eq(x.e.topic, "x/a", 3);
	ck_assert_int_eq(x.e.qos, 0);
	ck_assert_int_eq(x.e.retain, 0);
	/* a string payload is the body's UTF-8 bytes */
	PAYLOAD(&x.e, ENC_UTF8, "{\"t\":27.60, \"n\": [1,2]}");
	ck_assert_uint_eq(x.e.payload_len, 23); /* payloadlen */
	check_mosquitto_props(&x.e);

	/* re-encoded, the body is JSON and keeps its spelling */
	size_t n;
	char *line = encode(&x.e, &n);
	ck_assert_str_eq(line,
	                 "{\"ts\":\"2026-11-23T17:00:38.078Z\",\"topic\":\"x/a\",\"qos\":0,\"retain\":false,"
	                 "\"props\":{\"content_type\":\"app/json\",\"response_topic\":\"r/t\",\"correlation_data\":"
	                 "\"abc\",\"message_expiry\":30,\"payload_format\":1,\"user\":{\"k\":[\"v\",\"v2\"]}},"
	                 "\"enc\":\"json\",\"payload\":{\"t\":27.60, \"n\": [1,2]}}\n");
	free(line);
	envelope_decoder_free(&x.d);
}
END_TEST

START_TEST(test_decode_mosquitto_J)
{
	struct decoded x;
	decode_ok(&x, mosquitto_J);
	ck_assert_int_eq(x.e.ts_ms, INT64_C(1795453238078));
	ck_assert_int_eq(x.e.retain, 1);
	ck_assert_int_eq(x.e.qos, 0);
	PAYLOAD(&x.e, ENC_JSON, "{\"t\":27.60, \"n\": [1,2]}");
	check_mosquitto_props(&x.e);
	envelope_decoder_free(&x.d);
}
END_TEST

/* mosquitto_sub's "payloadlen" (lines from a real run of -F %J and -F
 * %j): null with 0 is the empty body; with a string payload it tells the
 * body's text (%j) from the JSON text of a string (%J embeds the JSON
 * string "hello", 7 bytes, as "hello"). */
START_TEST(test_decode_mosquitto_payloadlen)
{
	static const struct {
		const char *line;
		enum envelope_enc enc;
		const char *body;
	} cases[] = {
	        {"{\"tst\":\"2026-12-01T14:38:17.065813Z+0000\",\"topic\":\"x/a\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":0,\"payload\":null}",
	         ENC_UTF8, ""},
	        {"{\"tst\":\"2026-12-01T14:38:17.076094Z+0000\",\"topic\":\"x/b\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":7,\"payload\":\"hello\"}",
	         ENC_JSON, "\"hello\""},
	        {"{\"tst\":\"2026-12-01T14:38:17.076313Z+0000\",\"topic\":\"x/b\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":7,\"payload\":\"\\\"hello\\\"\"}",
	         ENC_UTF8, "\"hello\""},
	        {"{\"tst\":\"2026-12-01T14:38:17.106186Z+0000\",\"topic\":\"x/c\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":5,\"payload\":\"hello\"}",
	         ENC_UTF8, "hello"},
	        {"{\"tst\":\"2026-12-01T14:38:17.113705Z+0000\",\"topic\":\"x/d\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":11,\"payload\":{\"a\":1.5}}",
	         ENC_JSON, "{\"a\":1.5}"},
	        {"{\"tst\":\"2026-12-01T14:38:17.118797Z+0000\",\"topic\":\"x/e\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":9,\"payload\":\"h\xc3\xa9\"}",
	         ENC_JSON, "\"h\xc3\xa9\""},
	        {"{\"tst\":\"2026-12-01T14:38:17.131308Z+0000\",\"topic\":\"x/f\",\"qos\":0,\"retain\":0,"
	         "\"payloadlen\":4,\"payload\":null}",
	         ENC_JSON, "null"},
	        /* without payloadlen: null is the JSON null, a string is text */
	        {"{\"topic\":\"x/g\",\"payload\":null}", ENC_JSON, "null"},
	        {"{\"topic\":\"x/h\",\"payload\":\"hello\"}", ENC_UTF8, "hello"},
	        /* "enc" wins over payloadlen */
	        {"{\"topic\":\"x/i\",\"enc\":\"utf8\",\"payloadlen\":7,\"payload\":\"hello\"}", ENC_UTF8, "hello"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct decoded x;
		decode_ok(&x, cases[i].line);
		ck_assert_msg(x.e.enc == cases[i].enc, "%s: enc %d", cases[i].line, (int)x.e.enc);
		ck_assert_msg(x.e.payload_len == strlen(cases[i].body) &&
		                      memcmp(x.e.payload, cases[i].body, x.e.payload_len) == 0,
		              "%s: body %.*s", cases[i].line, (int)x.e.payload_len, x.e.payload);
		envelope_decoder_free(&x.d);
	}
}
END_TEST

/* The props object on its own, as mqmon-store keeps it: written and read
 * back without an envelope around it. */
START_TEST(test_props_json_alone)
{
	static const struct props_user user[] = {{"k", 1, "a", 1}, {"x", 1, "y", 1}, {"k", 1, "b", 1}};
	struct props p = {.content_type = "text/plain",
	                  .content_type_len = 10,
	                  .correlation = "\xff\x00",
	                  .correlation_len = 2,
	                  .has_expiry = true,
	                  .message_expiry = 3600,
	                  .user = user,
	                  .nuser = 3};
	struct buf b = BUF_INIT;
	ck_assert(props_write_json(&b, &p));
	ck_assert_str_eq(buf_cstr(&b), "{\"content_type\":\"text/plain\",\"correlation_data\":\"/wA=\","
	                               "\"correlation_enc\":\"base64\",\"message_expiry\":3600,"
	                               "\"user\":{\"k\":[\"a\",\"b\"],\"x\":\"y\"}}");
	struct props_parser pp;
	props_parser_init(&pp);
	char err[256];
	const struct props *q = props_parse_json(&pp, b.data, b.len, err, sizeof err);
	ck_assert_msg(q != NULL, "%s", err);
	ck_assert_uint_eq(q->correlation_len, 2);
	ck_assert_mem_eq(q->correlation, "\xff\x00", 2);
	ck_assert_uint_eq(q->nuser, 3);
	ck_assert_mem_eq(q->user[1].val, "b", 1); /* a repeated key comes back in a row */
	ck_assert_uint_eq(q->message_expiry, 3600);
	/* written again, the same text */
	struct buf again = BUF_INIT;
	ck_assert(props_write_json(&again, q));
	ck_assert_str_eq(buf_cstr(&again), buf_cstr(&b));

	/* nothing to show: nothing written */
	struct props none = {0};
	buf_reset(&again);
	ck_assert(!props_write_json(&again, &none));
	ck_assert_uint_eq(again.len, 0);
	/* errors name the field */
	ck_assert_ptr_null(props_parse_json(&pp, "{\"message_expiry\":-1}", 21, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "props.message_expiry"));
	ck_assert_ptr_null(props_parse_json(&pp, "[1]", 3, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "\"props\" must be an object"));
	ck_assert_ptr_null(props_parse_json(&pp, "{\"user\":", 8, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "not JSON"));
	props_parser_free(&pp);
	buf_free(&b);
	buf_free(&again);
}
END_TEST

/* Members past the ones the first scan keeps are read as well. */
START_TEST(test_decode_many_members)
{
	struct buf line = BUF_INIT;
	buf_adds(&line, "{");
	for (int i = 0; i < 40; i++)
		buf_printf(&line, "\"x%d\":[%d,{\"y\":\"z\"}],", i, i);
	buf_adds(&line, "\"qos\":2,\"topic\":\"late/topic\",\"payload\":{\"n\":1}}");
	struct decoded x;
	decode_ok(&x, buf_cstr(&line));
	ck_assert_uint_eq(x.e.topic_len, 10);
	ck_assert_mem_eq(x.e.topic, "late/topic", 10);
	ck_assert_int_eq(x.e.qos, 2);
	PAYLOAD(&x.e, ENC_JSON, "{\"n\":1}");
	envelope_decoder_free(&x.d);
	/* and a bad one among them is still found */
	line.len -= strlen("\"payload\":{\"n\":1}}");
	buf_adds(&line, "\"retain\":\"yes\"}");
	decode(&x, buf_cstr(&line));
	ck_assert_int_eq(x.r, ENVELOPE_ERROR);
	ck_assert_ptr_nonnull(strstr(x.err, "\"retain\" must be true or false"));
	envelope_decoder_free(&x.d);
	buf_free(&line);
}
END_TEST

START_TEST(test_enc_names)
{
	ck_assert_str_eq(envelope_enc_name(ENC_JSON), "json");
	ck_assert_str_eq(envelope_enc_name(ENC_UTF8), "utf8");
	ck_assert_str_eq(envelope_enc_name(ENC_BASE64), "base64");
	ck_assert_int_eq(envelope_pick_enc("", 0), ENC_UTF8);
	ck_assert_int_eq(envelope_pick_enc(" {} ", 4), ENC_JSON);
	ck_assert_int_eq(envelope_pick_enc("\n", 1), ENC_UTF8);
	ck_assert_int_eq(envelope_pick_enc("\x00", 1), ENC_UTF8);
	ck_assert_int_eq(envelope_pick_enc("\x80", 1), ENC_BASE64);
}
END_TEST

static Suite *envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc = tcase_create("encode");
	tcase_add_test(tc, test_encode_spec_example);
	tcase_add_test(tc, test_encode_empty_and_scalars);
	tcase_add_test(tc, test_encode_keeps_number_spelling);
	tcase_add_test(tc, test_encode_multiline_json_compacted);
	tcase_add_test(tc, test_encode_invalid_utf8_base64);
	tcase_add_test(tc, test_encode_text_escaping);
	tcase_add_test(tc, test_encode_1mib_json);
	tcase_add_test(tc, test_encode_1mib_binary);
	tcase_add_test(tc, test_encode_deep_json_is_text);
	tcase_add_test(tc, test_encode_topic_invalid_utf8);
	tcase_add_test(tc, test_enc_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("props");
	tcase_add_test(tc, test_props_all);
	tcase_add_test(tc, test_props_correlation);
	tcase_add_test(tc, test_props_single_fields);
	tcase_add_test(tc, test_props_invalid_utf8_text);
	tcase_add_test(tc, test_props_json_alone);
	suite_add_tcase(s, tc);
	tc = tcase_create("decode");
	tcase_add_test(tc, test_decode_enc_absent);
	tcase_add_test(tc, test_decode_enc_given);
	tcase_add_test(tc, test_decode_fields);
	tcase_add_test(tc, test_decode_topic_errors);
	tcase_add_test(tc, test_decode_not_json);
	tcase_add_test(tc, test_decode_event);
	tcase_add_test(tc, test_decode_props);
	tcase_add_test(tc, test_decode_many_user_props_and_reuse);
	tcase_add_test(tc, test_decode_mosquitto_j);
	tcase_add_test(tc, test_decode_mosquitto_J);
	tcase_add_test(tc, test_decode_mosquitto_payloadlen);
	tcase_add_test(tc, test_decode_many_members);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(envelope_suite)
