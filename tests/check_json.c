/*
 * check_json.c — unit tests for src/json.h: the RFC 8259 grammar as the
 * validator sees it (numbers, strings and their escapes, UTF-8, containers,
 * the JSON_MAX_DEPTH bound without recursion), string decoding and writing,
 * compaction, the shortest exact double, and walking an object's members.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "json.h"
#include "utf8.h"

static bool valid(const char *s)
{
	return json_validate(s, strlen(s), NULL);
}

static bool valid_n(const char *s, size_t n)
{
	return json_validate(s, n, NULL);
}

/* Validate s, expecting failure with message msg (a substring) at pos. */
static void expect_invalid(const char *s, size_t n, const char *msg, size_t pos)
{
	struct json_err err = {0, NULL};
	ck_assert_msg(!json_validate(s, n, &err), "accepted: %.*s", (int)n, s);
	ck_assert_ptr_nonnull(err.msg);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "%.*s: message '%s', expected '%s'", (int)n, s, err.msg, msg);
	if (pos != (size_t)-1)
		ck_assert_msg(err.pos == pos, "%.*s: error at %zu, expected %zu", (int)n, s, err.pos, pos);
}
#define INVALID(lit, msg, pos) expect_invalid((lit), sizeof(lit) - 1, (msg), (pos))
#define ANYPOS ((size_t)-1)

START_TEST(test_scalars)
{
	ck_assert(valid("true"));
	ck_assert(valid("false"));
	ck_assert(valid("null"));
	ck_assert(valid("\"\""));
	ck_assert(valid("\"abc\""));
	ck_assert(valid(" \t\r\n42 \t\r\n"));
	INVALID("tru", "unexpected character", 0);
	INVALID("truex", "trailing characters", 4);
	INVALID("nul", "unexpected character", 0);
	INVALID("True", "unexpected character", 0);
	INVALID("'a'", "unexpected character", 0);
	INVALID("", "empty input", 0);
	INVALID("   ", "empty input", 3);
	INVALID("\v1", "unexpected character", 0); /* only the four JSON spaces */
}
END_TEST

START_TEST(test_numbers)
{
	static const char *good[] = {
	        "0",    "-0",  "1",      "-1",   "123",     "1e5",   "1E5",   "1e+5",
	        "1e-5", "1.5", "1.5E-3", "-0.0", "0.25e10", "27.60", "1E400", "-9223372036854775809",
	        "0e0",  "100"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(valid(good[i]), "rejected %s", good[i]);
	INVALID("01", "trailing characters", 1);
	INVALID("-01", "trailing characters", 2);
	INVALID("1.", "no digits after '.'", 1);
	INVALID("1.e5", "no digits after '.'", 1);
	INVALID(".5", "unexpected character", 0);
	INVALID("+1", "unexpected character", 0);
	INVALID("-", "bad number", 0);
	INVALID("-a", "bad number", 0);
	INVALID("1e", "no digits in exponent", 2);
	INVALID("1e+", "no digits in exponent", 3);
	INVALID("NaN", "unexpected character", 0);
	INVALID("Infinity", "unexpected character", 0);
	INVALID("-Infinity", "bad number", 0);
	INVALID("0x10", "trailing characters", 1);
	INVALID("1 2", "trailing characters", 2);
}
END_TEST

START_TEST(test_strings)
{
	ck_assert(valid("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""));
	ck_assert(valid("\"\\u0000 \\u00e9 \\u00E9 \\uFFFF\""));
	ck_assert(valid("\"\\ud83d\\ude00\"")); /* a surrogate pair */
	ck_assert(valid("\"\\ud800\"")); /* lone surrogates are grammatical */
	ck_assert(valid("\"caf\xc3\xa9 \xf0\x9f\x98\x80\""));
	ck_assert(valid("\"\x7f\"")); /* DEL is not a control character in JSON */
	INVALID("\"abc", "unterminated string", 0);
	INVALID("\"abc\\", "unterminated string", 0);
	INVALID("\"\\x\"", "bad escape", 1);
	INVALID("\"\\'\"", "bad escape", 1);
	INVALID("\"\\u12\"", "bad \\u escape", 1);
	INVALID("\"\\u12G4\"", "bad \\u escape", 1);
	INVALID("\"\\U00e9\"", "bad escape", 1);
	INVALID("\"a\tb\"", "control character", 2);
	INVALID("\"a\nb\"", "control character", 2);
	INVALID("\"\x01\"", "control character", 1);
	INVALID("\"\x1f\"", "control character", 1);
	INVALID("\"a\0b\"", "control character", 2);
	INVALID("\"\xff\"", "invalid UTF-8", 1);
	INVALID("\"ab\xc3\"", "invalid UTF-8", 3);
	INVALID("\"\xc0\x80\"", "invalid UTF-8", 1); /* overlong */
	INVALID("\"\xed\xa0\x80\"", "invalid UTF-8", 1); /* a surrogate in UTF-8 */
	INVALID("\"\xf4\x90\x80\x80\"", "invalid UTF-8", 1);
	INVALID("[\"ok\", \"\xe9t\xe9\"]", "invalid UTF-8", 8); /* Latin-1 */
	INVALID("{\"k\xff\":1}", "invalid UTF-8", 3); /* in a key too */
}
END_TEST

START_TEST(test_containers)
{
	ck_assert(valid("[]"));
	ck_assert(valid("{}"));
	ck_assert(valid("[ ]"));
	ck_assert(valid("{ }"));
	ck_assert(valid("[1,\"a\",true,false,null,[],{},{\"a\":[{}]}]"));
	ck_assert(valid("{\"a\":1,\"b\":{\"c\":[1,2,{\"d\":null}]},\"\":\"\"}"));
	ck_assert(valid(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } "));
	ck_assert(valid("{\"a\":1,\"a\":2}")); /* duplicate keys are allowed by the grammar */
	INVALID("[", "unexpected end inside a container", 1);
	INVALID("]", "unexpected character", 0);
	INVALID("[1", "unexpected end inside a container", 2);
	INVALID("[1,", "unexpected end inside a container", 3);
	INVALID("[1,]", "unexpected character", 3);
	INVALID("[,1]", "unexpected character", 1);
	INVALID("[1 2]", "expected ',' or ']'", 3);
	INVALID("[1}", "expected ',' or ']'", 2);
	INVALID("{\"a\":1]", "expected ',' or '}'", 6);
	INVALID("{\"a\"}", "expected ':'", 4);
	INVALID("{\"a\":}", "unexpected character", 5);
	INVALID("{\"a\":1,}", "expected a string key", 7);
	INVALID("{,}", "expected a string key", 1);
	INVALID("{1:2}", "expected a string key", 1);
	INVALID("{a:1}", "expected a string key", 1);
	INVALID("{\"a\" 1}", "expected ':'", 5);
	INVALID("{\"a\":1", "unexpected end inside a container", 6);
	INVALID("[1] [2]", "trailing characters", 4);
	INVALID("[1]x", "trailing characters", 3);
	INVALID("{}}", "trailing characters", 2);
}
END_TEST

/* n brackets of kind open, then n closing */
static char *nested(size_t n, char open, char close)
{
	char *s = malloc(2 * n + 1);
	memset(s, open, n);
	memset(s + n, close, n);
	s[2 * n] = '\0';
	return s;
}

START_TEST(test_depth)
{
	char *s = nested(JSON_MAX_DEPTH, '[', ']');
	ck_assert(valid(s));
	free(s);
	s = nested(JSON_MAX_DEPTH + 1, '[', ']');
	expect_invalid(s, strlen(s), "nested too deeply", JSON_MAX_DEPTH);
	free(s);

	/* 10,000 deep: rejected at the bound, without recursion */
	s = nested(10000, '[', ']');
	expect_invalid(s, strlen(s), "nested too deeply", JSON_MAX_DEPTH);
	free(s);

	/* objects and arrays alternating, so the container stack's bits (64 per
	 * word) must be right at every level to close in the right order */
	struct buf b = BUF_INIT;
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		buf_adds(&b, i % 3 == 0 ? "{\"k\":" : "[");
	buf_adds(&b, "0");
	for (int i = JSON_MAX_DEPTH - 1; i >= 0; i--)
		buf_adds(&b, i % 3 == 0 ? "}" : "]");
	ck_assert(valid_n(b.data, b.len));
	/* the same with one closer swapped deep inside */
	size_t flip = b.len - 1 - 700;
	char was = b.data[flip];
	b.data[flip] = was == '}' ? ']' : '}';
	struct json_err err;
	ck_assert(!json_validate(b.data, b.len, &err));
	ck_assert_uint_eq(err.pos, flip);
	b.data[flip] = was;
	ck_assert(valid_n(b.data, b.len));
	buf_free(&b);
}
END_TEST

START_TEST(test_skip_value)
{
	const char *s = "  [1, {\"a\":2}] , 3";
	size_t pos = 0;
	struct json_err err;
	ck_assert(json_skip_value(s, strlen(s), &pos, &err));
	ck_assert_uint_eq(pos, 14);
	pos = 16;
	ck_assert(json_skip_value(s, strlen(s), &pos, &err));
	ck_assert_uint_eq(pos, strlen(s));

	/* only the first value is scanned; what follows is the caller's business */
	const char *t = "\"a\"xyz";
	pos = 0;
	ck_assert(json_skip_value(t, strlen(t), &pos, NULL));
	ck_assert_uint_eq(pos, 3);

	/* n bounds the scan even if the text goes on */
	pos = 0;
	ck_assert(!json_skip_value("[1,2]", 4, &pos, &err));
	ck_assert_str_eq(err.msg, "unexpected end inside a container");
	pos = 0;
	ck_assert(!json_skip_value("true", 3, &pos, &err));
}
END_TEST

static void expect_decode(const char *lit, const char *want, size_t want_len)
{
	struct buf b = BUF_INIT;
	struct json_err err = {0, NULL};
	size_t pos = 0, n = strlen(lit);
	ck_assert_msg(json_string_decode(lit, n, &pos, &b, &err), "%s: %s", lit, err.msg);
	ck_assert_uint_eq(pos, n);
	ck_assert_uint_eq(b.len, want_len);
	if (want_len)
		ck_assert_mem_eq(b.data, want, want_len);
	buf_free(&b);
}
#define DECODES(lit, want) expect_decode((lit), (want), sizeof(want) - 1)

START_TEST(test_string_decode)
{
	DECODES("\"\"", "");
	DECODES("\"plain\"", "plain");
	DECODES("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
	DECODES("\"caf\\u00e9\"", "caf\xc3\xa9");
	DECODES("\"caf\\u00E9\"", "caf\xc3\xa9");
	DECODES("\"caf\xc3\xa9\"", "caf\xc3\xa9");
	DECODES("\"\\u20ac\"", "\xe2\x82\xac");
	DECODES("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	DECODES("\"\\uD83D\\uDE00!\"", "\xf0\x9f\x98\x80!");
	DECODES("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
	DECODES("\"a\\u0000b\"", "a\0b");
	/* lone surrogates cannot be UTF-8: U+FFFD */
	DECODES("\"\\ud800x\"", "\xef\xbf\xbdx");
	DECODES("\"\\udc00\"", "\xef\xbf\xbd");
	DECODES("\"\\ud800\"", "\xef\xbf\xbd");
	DECODES("\"\\ud800\\u0041\"", "\xef\xbf\xbd"
	                              "A");
	DECODES("\"\\ud800\\ud800\\udc00\"", "\xef\xbf\xbd\xf0\x90\x80\x80");
	DECODES("\"\\ud800\\n\"", "\xef\xbf\xbd\n");
}
END_TEST

START_TEST(test_string_decode_position_and_errors)
{
	struct buf b = BUF_INIT;
	struct json_err err;
	const char *s = "{\"key\":\"v\\u00e9\",\"x\":1}";
	size_t pos = 7;
	buf_adds(&b, ">");
	ck_assert(json_string_decode(s, strlen(s), &pos, &b, &err));
	ck_assert_uint_eq(pos, 16);
	ck_assert_uint_eq(b.len, 4); /* appended */
	ck_assert_mem_eq(b.data, ">v\xc3\xa9", 4);

	pos = 0;
	ck_assert(!json_string_decode("abc", 3, &pos, &b, &err));
	ck_assert_str_eq(err.msg, "expected a string");
	pos = 0;
	ck_assert(!json_string_decode("\"abc", 4, &pos, &b, &err));
	ck_assert_str_eq(err.msg, "unterminated string");
	pos = 0;
	ck_assert(!json_string_decode("\"\\q\"", 4, &pos, &b, &err));
	ck_assert_str_eq(err.msg, "bad escape in string");
	pos = 0;
	ck_assert(!json_string_decode("\"\xff\"", 3, &pos, &b, &err));
	ck_assert_str_eq(err.msg, "invalid UTF-8 in string");
	pos = 5;
	ck_assert(!json_string_decode("\"ab\"", 4, &pos, &b, &err));
	ck_assert_str_eq(err.msg, "expected a string");
	buf_free(&b);
}
END_TEST

static void expect_written(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT;
	json_write_string(&b, in, n);
	ck_assert_uint_eq(b.len, strlen(want));
	ck_assert_mem_eq(b.data, want, b.len);
	/* the result is a JSON string that decodes back to the input */
	ck_assert(json_validate(b.data, b.len, NULL));
	struct buf d = BUF_INIT;
	size_t pos = 0;
	ck_assert(json_string_decode(b.data, b.len, &pos, &d, NULL));
	ck_assert_uint_eq(d.len, n);
	if (n)
		ck_assert_mem_eq(d.data, in, n);
	buf_free(&b);
	buf_free(&d);
}
#define WRITES(lit, want) expect_written((lit), sizeof(lit) - 1, (want))

START_TEST(test_write_string)
{
	WRITES("", "\"\"");
	WRITES("plain", "\"plain\"");
	WRITES("say \"hi\"", "\"say \\\"hi\\\"\"");
	WRITES("C:\\path", "\"C:\\\\path\"");
	WRITES("a/b", "\"a/b\""); /* '/' needs no escape */
	WRITES("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	WRITES("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	WRITES("a\0b", "\"a\\u0000b\"");
	WRITES("caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");

	/* every control character, escaped, in a buffer that already holds text */
	char all[32];
	for (int i = 0; i < 32; i++)
		all[i] = (char)i;
	struct buf b = BUF_INIT;
	buf_adds(&b, "x=");
	json_write_string(&b, all, sizeof all);
	ck_assert(json_validate(b.data + 2, b.len - 2, NULL));
	ck_assert_mem_eq(b.data, "x=\"\\u0000", 9);
	for (size_t i = 2; i < b.len; i++)
		ck_assert_int_ge((unsigned char)b.data[i], 0x20);
	buf_free(&b);
}
END_TEST

static void expect_compact(const char *in, const char *want)
{
	struct buf b = BUF_INIT;
	ck_assert(valid(in));
	buf_adds(&b, "<");
	json_compact(&b, in, strlen(in));
	ck_assert_uint_eq(b.len, strlen(want) + 1);
	ck_assert_mem_eq(b.data + 1, want, b.len - 1);
	buf_free(&b);
}

START_TEST(test_compact)
{
	expect_compact("42", "42");
	expect_compact(" 42 \n", "42");
	expect_compact("{\n  \"a\" : [ 1 , 2 ] ,\r\n\t\"b\" : { }\n}\n", "{\"a\":[1,2],\"b\":{}}");
	/* whitespace inside strings stays, also after escaped quotes and
	 * backslashes */
	expect_compact("{ \"msg\" : \"a  b \\\"  c\" ,\n \"p\": \"x\\\\\" , \"q\" : \" \" }",
	               "{\"msg\":\"a  b \\\"  c\",\"p\":\"x\\\\\",\"q\":\" \"}");
	expect_compact("[ \"\\\\\\\" \" , 27.60 ]", "[\"\\\\\\\" \",27.60]");
	expect_compact("[\n1.5E-3,\n-0\n]", "[1.5E-3,-0]");
	expect_compact("\" lone string \"", "\" lone string \"");

	struct buf b = BUF_INIT;
	json_compact(&b, "", 0);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_object_iteration)
{
	const char *s = " { \"a\" : 1 , \"b\":[1, 2] ,\"c\":{\"d\":null}, \"\":\"x y\" } ";
	size_t n = strlen(s), pos = 0;
	struct json_err err;
	struct json_member m;
	ck_assert(json_object_begin(s, n, &pos, &err));
	ck_assert_uint_eq(pos, 2);

	ck_assert(json_object_next(s, n, &pos, &m, &err));
	ck_assert(json_key_is(&m, "a"));
	ck_assert_uint_eq(m.key_len, 3);
	ck_assert_mem_eq(m.key, "\"a\"", 3);
	ck_assert_uint_eq(m.val_len, 1);
	ck_assert_mem_eq(m.val, "1", 1);

	ck_assert(json_object_next(s, n, &pos, &m, &err));
	ck_assert(json_key_is(&m, "b"));
	ck_assert_uint_eq(m.val_len, 6);
	ck_assert_mem_eq(m.val, "[1, 2]", 6);

	ck_assert(json_object_next(s, n, &pos, &m, &err));
	ck_assert(json_key_is(&m, "c"));
	ck_assert_uint_eq(m.val_len, 10);
	ck_assert_mem_eq(m.val, "{\"d\":null}", 10);

	ck_assert(json_object_next(s, n, &pos, &m, &err));
	ck_assert(json_key_is(&m, ""));
	ck_assert(!json_key_is(&m, "a"));
	ck_assert_uint_eq(m.val_len, 5);
	ck_assert_mem_eq(m.val, "\"x y\"", 5);

	ck_assert(!json_object_next(s, n, &pos, &m, &err));
	ck_assert_ptr_null(err.msg); /* the end, not an error */
	ck_assert_uint_eq(json_skip_ws(s, n, pos), n);

	/* the empty object */
	pos = 0;
	ck_assert(json_object_begin("{}", 2, &pos, &err));
	ck_assert(!json_object_next("{}", 2, &pos, &m, &err));
	ck_assert_ptr_null(err.msg);
	ck_assert_uint_eq(pos, 2);

	/* json_key_is compares the literal, without decoding escapes */
	const char *e = "{\"t\\u006fpic\":1,\"topic\":2}";
	pos = 0;
	ck_assert(json_object_begin(e, strlen(e), &pos, &err));
	ck_assert(json_object_next(e, strlen(e), &pos, &m, &err));
	ck_assert(!json_key_is(&m, "topic"));
	ck_assert(json_object_next(e, strlen(e), &pos, &m, &err));
	ck_assert(json_key_is(&m, "topic"));
	ck_assert(!json_key_is(&m, "topi"));
	ck_assert(!json_key_is(&m, "topics"));
}
END_TEST

/* Walk s, expecting members_ok good members and then an error containing msg. */
static void expect_object_error(const char *s, int members_ok, const char *msg)
{
	size_t n = strlen(s), pos = 0;
	struct json_err err = {0, NULL};
	struct json_member m;
	if (!json_object_begin(s, n, &pos, &err)) {
		ck_assert_int_eq(members_ok, -1);
		ck_assert_msg(strstr(err.msg, msg) != NULL, "%s: '%s'", s, err.msg);
		return;
	}
	int got = 0;
	while (json_object_next(s, n, &pos, &m, &err))
		got++;
	ck_assert_msg(got == members_ok, "%s: %d members before the error, expected %d", s, got, members_ok);
	ck_assert_msg(err.msg != NULL, "%s: ended without an error", s);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "%s: '%s', expected '%s'", s, err.msg, msg);
}

START_TEST(test_object_iteration_errors)
{
	expect_object_error("[1]", -1, "not a JSON object");
	expect_object_error("", -1, "not a JSON object");
	expect_object_error("{,}", 0, "expected a string key");
	expect_object_error("{ , }", 0, "expected a string key");
	expect_object_error("{,\"a\":1}", 0, "expected a string key");
	expect_object_error("{\"a\":1,}", 1, "expected a string key");
	expect_object_error("{\"a\":1,,\"b\":2}", 1, "expected a string key");
	expect_object_error("{\"a\":1 \"b\":2}", 0, "expected ',' or '}'");
	expect_object_error("{\"a\" 1}", 0, "expected ':' after key");
	expect_object_error("{\"a\":}", 0, "unexpected character");
	expect_object_error("{\"a\":1", 0, "unterminated object");
	expect_object_error("{\"a\":1,", 1, "unterminated object");
	expect_object_error("{", 0, "unterminated object");
	expect_object_error("{1:2}", 0, "expected a string key");
	expect_object_error("{\"a\":[1,}", 0, "unexpected character");
	expect_object_error("{\"a\xff\":1}", 0, "invalid UTF-8");
}
END_TEST

START_TEST(test_write_double)
{
	static const struct {
		double d;
		const char *text;
	} cases[] = {
	        {25.6, "25.6"}, {0.1, "0.1"},       {26, "26"},
	        {-0.5, "-0.5"}, {1e21, "1e+21"},    {1.0 / 3, "0.3333333333333333"},
	        {NAN, "null"},  {INFINITY, "null"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		json_write_double(&b, cases[i].d);
		ck_assert_str_eq(buf_cstr(&b), cases[i].text);
		if (isfinite(cases[i].d))
			ck_assert(strtod(buf_cstr(&b), NULL) == cases[i].d);
		buf_free(&b);
	}
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("validate");
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_containers);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_skip_value);
	suite_add_tcase(s, tc);
	tc = tcase_create("strings");
	tcase_add_test(tc, test_string_decode);
	tcase_add_test(tc, test_string_decode_position_and_errors);
	tcase_add_test(tc, test_write_string);
	tcase_add_test(tc, test_compact);
	tcase_add_test(tc, test_write_double);
	suite_add_tcase(s, tc);
	tc = tcase_create("objects");
	tcase_add_test(tc, test_object_iteration);
	tcase_add_test(tc, test_object_iteration_errors);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(json_suite)
