/*
 * check_cmdproto.c — unit tests for src/cmdproto.h: KEY=VALUE typing,
 * --params, the command object, reading commands and acks (string and
 * numeric ids, Petal's messageId, not JSON), what a status means, and
 * the random ids.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cmdproto.h"

static const char *params_text(const char *const *kv, size_t n)
{
	static char text[512];
	struct json_object *p = json_object_new_object();
	for (size_t i = 0; i < n; i++) {
		const char *why;
		ck_assert_msg(cmdproto_param(p, kv[i], &why), "%s: %s", kv[i], why);
	}
	snprintf(text, sizeof text, "%s", cmdproto_text(p));
	json_object_put(p);
	return text;
}

START_TEST(test_param_typing)
{
	static const char *const kv[] = {
	        "amount=2.5",         "on=true",   "name=abc",       "n=-3",          "big=12345678901234567890",
	        "spelled=27.60",      "none=null", "list=[1,\"a\"]", "obj={\"x\":1}", "quoted=\"7\"",
	        "url=http://x/y?a=b", "empty=",    "sp=a b",         "trailing=1 2",  "nan=NaN",
	        "inf=-Infinity"};
	ck_assert_str_eq(params_text(kv, sizeof kv / sizeof kv[0]),
	                 "{\"amount\":2.5,\"on\":true,\"name\":\"abc\",\"n\":-3,\"big\":12345678901234567890,"
	                 "\"spelled\":27.60,\"none\":null,\"list\":[1,\"a\"],\"obj\":{\"x\":1},\"quoted\":\"7\","
	                 "\"url\":\"http://x/y?a=b\",\"empty\":\"\",\"sp\":\"a b\",\"trailing\":\"1 2\","
	                 "\"nan\":\"NaN\",\"inf\":\"-Infinity\"}");
	/* a later value of the same key wins */
	static const char *const twice[] = {"a=1", "a=2"};
	ck_assert_str_eq(params_text(twice, 2), "{\"a\":2}");
	const char *why;
	struct json_object *p = json_object_new_object();
	ck_assert(!cmdproto_param(p, "novalue", &why));
	ck_assert_ptr_nonnull(strstr(why, "KEY=VALUE"));
	ck_assert(!cmdproto_param(p, "=x", &why));
	json_object_put(p);

	ck_assert_ptr_null(cmdproto_params("[1]", &why));
	ck_assert_ptr_null(cmdproto_params("{\"a\":", &why));
	p = cmdproto_params("{\"amount\": 1.50}", &why);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(cmdproto_text(p), "{\"amount\":1.50}");
	json_object_put(p);
}
END_TEST

START_TEST(test_command_object)
{
	struct json_object *p = json_object_new_object();
	const char *why;
	cmdproto_param(p, "index=0", &why);
	struct buf b = BUF_INIT;
	cmdproto_command(&b, "messageId", "6f1c", "relay", p, INT64_C(1738060215123));
	ck_assert_str_eq(buf_cstr(&b), "{\"messageId\":\"6f1c\",\"command\":\"relay\",\"params\":{\"index\":0},"
	                               "\"ts\":\"2025-01-28T10:30:15.123Z\"}");
	buf_reset(&b);
	cmdproto_command(&b, "id", "x", "re\"boot", NULL, 0);
	ck_assert_str_eq(buf_cstr(&b), "{\"id\":\"x\",\"command\":\"re\\\"boot\",\"params\":{},"
	                               "\"ts\":\"1970-01-01T00:00:00.000Z\"}");
	json_object_put(p);
	buf_free(&b);
}
END_TEST

START_TEST(test_read_acks)
{
	struct cmdproto_msg m;
	const char *ack = "{\"messageId\":\"6f1c\",\"status\":\"success\",\"result\":{\"uptime\":1234}}";
	ck_assert(cmdproto_read(&m, ack, strlen(ack), "messageId"));
	ck_assert_str_eq(m.id, "6f1c");
	ck_assert_int_eq(cmdproto_classify(m.status), CMDPROTO_POSITIVE);
	cmdproto_msg_free(&m);
	/* the id member is the one named */
	ck_assert(cmdproto_read(&m, ack, strlen(ack), "id"));
	ck_assert_ptr_null(m.id);
	cmdproto_msg_free(&m);
	/* a numeric id, as its text */
	const char *num = "{\"id\":42,\"status\":false}";
	ck_assert(cmdproto_read(&m, num, strlen(num), "id"));
	ck_assert_str_eq(m.id, "42");
	ck_assert_int_eq(cmdproto_classify(m.status), CMDPROTO_NEGATIVE);
	cmdproto_msg_free(&m);
	/* a command, as the responder reads it */
	const char *cmd = "{\"id\":\"a\",\"command\":\"feed\",\"params\":{\"amount\":2.5}}";
	ck_assert(cmdproto_read(&m, cmd, strlen(cmd), "id"));
	ck_assert_str_eq(m.command, "feed");
	ck_assert_str_eq(cmdproto_text(m.params), "{\"amount\":2.5}");
	ck_assert_ptr_null(m.status);
	cmdproto_msg_free(&m);
	/* not an object, not JSON, NUL bytes, invalid UTF-8, nested 100,000 deep */
	static const char *const bad[] = {"[1]", "ok", "{\"id\":", "", "{\"id\":\"\xff\"}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!cmdproto_read(&m, bad[i], strlen(bad[i]), "id"), "read %s", bad[i]);
	ck_assert(!cmdproto_read(&m, "{\"id\":\"a\0b\"}", 12, "id"));
	char *deep = malloc(200001);
	memset(deep, '[', 100000);
	memset(deep + 100000, ']', 100000);
	ck_assert(!cmdproto_read(&m, deep, 200000, "id"));
	free(deep);
}
END_TEST

START_TEST(test_classify)
{
	static const struct {
		const char *json;
		enum cmdproto_class c;
	} cases[] = {
	        {"\"ok\"", CMDPROTO_POSITIVE},
	        {"\"SUCCESS\"", CMDPROTO_POSITIVE},
	        {"\"acked\"", CMDPROTO_POSITIVE},
	        {"\"done\"", CMDPROTO_POSITIVE},
	        {"\"true\"", CMDPROTO_POSITIVE},
	        {"true", CMDPROTO_POSITIVE},
	        {"\"error\"", CMDPROTO_NEGATIVE},
	        {"\"failed\"", CMDPROTO_NEGATIVE},
	        {"\"nack\"", CMDPROTO_NEGATIVE},
	        {"\"rejected\"", CMDPROTO_NEGATIVE},
	        {"\"false\"", CMDPROTO_NEGATIVE},
	        {"false", CMDPROTO_NEGATIVE},
	        {"\"accepted\"", CMDPROTO_PROGRESS},
	        {"\"queued\"", CMDPROTO_PROGRESS},
	        {"\"in_progress\"", CMDPROTO_PROGRESS},
	        {"\"progress\"", CMDPROTO_PROGRESS},
	        {"\"running\"", CMDPROTO_UNKNOWN},
	        {"1", CMDPROTO_UNKNOWN},
	        {"{}", CMDPROTO_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct json_object *s = cmdproto_parse(cases[i].json, strlen(cases[i].json));
		ck_assert_msg(cmdproto_classify(s) == cases[i].c, "%s", cases[i].json);
		json_object_put(s);
	}
}
END_TEST

START_TEST(test_ack_and_ids)
{
	struct buf b = BUF_INIT;
	struct json_object *p = cmdproto_params("{\"index\":0}", &(const char *){NULL});
	cmdproto_ack(&b, "id", "abc", "ok", "relay", p);
	ck_assert_str_eq(buf_cstr(&b),
	                 "{\"id\":\"abc\",\"status\":\"ok\",\"command\":\"relay\",\"params\":{\"index\":0}}");
	buf_reset(&b);
	cmdproto_ack(&b, "messageId", "x", "accepted", NULL, NULL);
	ck_assert_str_eq(buf_cstr(&b), "{\"messageId\":\"x\",\"status\":\"accepted\"}");
	json_object_put(p);
	buf_free(&b);
	char a[37], c[37];
	cmdproto_new_id(a);
	cmdproto_new_id(c);
	ck_assert_uint_eq(strlen(a), 36);
	ck_assert_str_ne(a, c);
	ck_assert_int_eq(a[14], '4'); /* version 4 */
	ck_assert(strchr("89ab", a[19]) != NULL); /* variant 10 */
	ck_assert(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
}
END_TEST

static Suite *cmdproto_suite(void)
{
	Suite *s = suite_create("cmdproto");
	TCase *tc = tcase_create("cmdproto");
	tcase_add_test(tc, test_param_typing);
	tcase_add_test(tc, test_command_object);
	tcase_add_test(tc, test_read_acks);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_ack_and_ids);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(cmdproto_suite)
