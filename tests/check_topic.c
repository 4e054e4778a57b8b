/*
 * check_topic.c — unit tests for src/topic.h: topic name and filter rules
 * (MQTT 5 §4.7), matching with '+', '#', empty levels, "$" topics and
 * "$share/GROUP/…", and capture patterns such as
 * "autocore/{device}/relay/{key}/status".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "topic.h"

static bool name_ok(const char *t)
{
	return topic_name_valid(t, strlen(t), NULL);
}
static bool filter_ok(const char *f)
{
	return topic_filter_valid(f, strlen(f), NULL);
}
static bool matches(const char *f, const char *t)
{
	return topic_matches(f, t, strlen(t));
}

static void name_bad(const char *t, size_t n, const char *reason)
{
	const char *why = NULL;
	ck_assert_msg(!topic_name_valid(t, n, &why), "name '%.*s' accepted", (int)n, t);
	ck_assert_msg(why && strstr(why, reason), "name '%.*s': '%s', expected '%s'", (int)n, t, why, reason);
}

static void filter_bad(const char *f, size_t n, const char *reason)
{
	const char *why = NULL;
	ck_assert_msg(!topic_filter_valid(f, n, &why), "filter '%.*s' accepted", (int)n, f);
	ck_assert_msg(why && strstr(why, reason), "filter '%.*s': '%s', expected '%s'", (int)n, f, why, reason);
}
#define NAME_BAD(lit, reason) name_bad((lit), sizeof(lit) - 1, (reason))
#define FILTER_BAD(lit, reason) filter_bad((lit), sizeof(lit) - 1, (reason))

START_TEST(test_names)
{
	ck_assert(name_ok("a"));
	ck_assert(name_ok("autocore/ESP32_001/telemetry"));
	ck_assert(name_ok("/"));
	ck_assert(name_ok("a//b"));
	ck_assert(name_ok("/a"));
	ck_assert(name_ok("a/"));
	ck_assert(name_ok("$SYS/broker/uptime"));
	ck_assert(name_ok("caf\xc3\xa9/\xf0\x9f\x98\x80"));
	ck_assert(name_ok("sp ace/$x/{device}"));
	NAME_BAD("", "empty");
	NAME_BAD("a/+/b", "wildcard");
	NAME_BAD("a/#", "wildcard");
	NAME_BAD("+", "wildcard");
	NAME_BAD("a+b", "wildcard");
	NAME_BAD("a\0b", "NUL");
	NAME_BAD("a/\xff", "UTF-8");
	NAME_BAD("a/\xc0\x80", "UTF-8");
	NAME_BAD("a/\xed\xa0\x80", "UTF-8");

	char *big = malloc(TOPIC_MAX_LEN + 1);
	memset(big, 'x', TOPIC_MAX_LEN + 1);
	ck_assert(topic_name_valid(big, TOPIC_MAX_LEN, NULL));
	name_bad(big, TOPIC_MAX_LEN + 1, "longer than 65535");
	ck_assert(topic_filter_valid(big, TOPIC_MAX_LEN, NULL));
	filter_bad(big, TOPIC_MAX_LEN + 1, "longer than 65535");
	free(big);
}
END_TEST

START_TEST(test_filters)
{
	static const char *good[] = {"#",
	                             "+",
	                             "a",
	                             "a/b",
	                             "a/+",
	                             "a/#",
	                             "+/+",
	                             "+/#",
	                             "/",
	                             "a//b",
	                             "/a",
	                             "a/",
	                             "/+",
	                             "+/",
	                             "//",
	                             "$SYS/#",
	                             "$SYS/+/x",
	                             "a/+/b/#",
	                             "$share/g/a/+",
	                             "$share/g/#",
	                             "$share/g/+/x/#",
	                             "$share",
	                             "$shared/a",
	                             "caf\xc3\xa9/+"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(filter_ok(good[i]), "rejected '%s'", good[i]);
	FILTER_BAD("", "empty");
	FILTER_BAD("a/b+/c", "'+' must occupy a whole level");
	FILTER_BAD("a/+b/c", "'+' must occupy a whole level");
	FILTER_BAD("++", "'+' must occupy a whole level");
	FILTER_BAD("a/#/b", "'#' must be the last level");
	FILTER_BAD("#/", "'#' must be the last level");
	FILTER_BAD("a#", "'#' must occupy a whole level");
	FILTER_BAD("a/b#", "'#' must occupy a whole level");
	FILTER_BAD("##", "'#' must occupy a whole level");
	FILTER_BAD("a\0b", "NUL");
	FILTER_BAD("a/\xff", "UTF-8");
	FILTER_BAD("$share//a", "$share needs a group");
	FILTER_BAD("$share/g", "$share needs a group");
	FILTER_BAD("$share/", "$share needs a group");
	FILTER_BAD("$share/g/", "$share needs a filter");
	FILTER_BAD("$share/g+/a", "group name cannot contain a wildcard");
	FILTER_BAD("$share/#/a", "group name cannot contain a wildcard");
	FILTER_BAD("$share/g/a/b+", "'+' must occupy a whole level");
	FILTER_BAD("$share/g/#/a", "'#' must be the last level");
}
END_TEST

START_TEST(test_matching)
{
	ck_assert(matches("a/b", "a/b"));
	ck_assert(!matches("a/b", "a/c"));
	ck_assert(!matches("a/b", "a/bc"));
	ck_assert(!matches("a/bc", "a/b"));
	ck_assert(!matches("a/b", "a/b/c"));
	ck_assert(!matches("a/b/c", "a/b"));
	ck_assert(!matches("a/b", "A/b")); /* case matters */

	ck_assert(matches("a/+", "a/b"));
	ck_assert(!matches("a/+", "a/b/c"));
	ck_assert(!matches("a/+", "a"));
	ck_assert(matches("a/+/c", "a/b/c"));
	ck_assert(!matches("a/+/c", "a/b/d"));
	ck_assert(matches("+/+", "a/b"));
	ck_assert(!matches("+/+", "a/b/c"));
	ck_assert(matches("+", "a"));
	ck_assert(!matches("+", "a/b"));

	ck_assert(matches("#", "a"));
	ck_assert(matches("#", "a/b/c"));
	ck_assert(matches("#", "/"));
	ck_assert(matches("a/#", "a/b"));
	ck_assert(matches("a/#", "a/b/c"));
	ck_assert(matches("a/#", "a")); /* '#' covers the parent level too */
	ck_assert(matches("a/#", "a/"));
	ck_assert(!matches("a/#", "ab"));
	ck_assert(!matches("a/#", "b/a"));
	ck_assert(matches("a/+/#", "a/b"));
	ck_assert(matches("a/+/#", "a/b/c/d"));
	ck_assert(!matches("a/+/#", "a"));
	ck_assert(matches("+/#", "a"));
}
END_TEST

/* Empty levels are levels: matched exactly, and by '+' */
START_TEST(test_matching_empty_levels)
{
	ck_assert(matches("a//b", "a//b"));
	ck_assert(!matches("a//b", "a/b"));
	ck_assert(!matches("a/b", "a//b"));
	ck_assert(matches("/a", "/a"));
	ck_assert(!matches("/a", "a"));
	ck_assert(!matches("a", "/a"));
	ck_assert(matches("a/", "a/"));
	ck_assert(!matches("a/", "a"));
	ck_assert(!matches("a", "a/"));
	ck_assert(matches("/", "/"));
	ck_assert(!matches("/", "//"));
	ck_assert(matches("a/+/b", "a//b"));
	ck_assert(matches("+/a", "/a"));
	ck_assert(matches("a/+", "a/"));
	ck_assert(matches("+/+", "/"));
	ck_assert(matches("#", "//"));
	ck_assert(matches("/#", "/a/b"));
	ck_assert(!matches("/#", "a/b"));
}
END_TEST

START_TEST(test_matching_dollar)
{
	/* MQTT 5 §4.7.2: wildcards at the first level do not match "$" topics */
	ck_assert(!matches("#", "$SYS/x"));
	ck_assert(!matches("+/x", "$SYS/x"));
	ck_assert(!matches("+", "$SYS"));
	ck_assert(!matches("+/#", "$SYS/broker/uptime"));
	ck_assert(matches("$SYS/#", "$SYS/x"));
	ck_assert(matches("$SYS/#", "$SYS"));
	ck_assert(matches("$SYS/+", "$SYS/x"));
	ck_assert(matches("$SYS/broker/+", "$SYS/broker/uptime"));
	ck_assert(matches("$SYS/x", "$SYS/x"));
	/* only the first level is special */
	ck_assert(matches("a/+", "a/$x"));
	ck_assert(matches("a/#", "a/$x/y"));
}
END_TEST

START_TEST(test_matching_shared)
{
	ck_assert(matches("$share/g/a/+", "a/b"));
	ck_assert(!matches("$share/g/a/+", "a/b/c"));
	ck_assert(!matches("$share/g/a/+", "g/a/b"));
	ck_assert(!matches("$share/g/a/+", "$share/g/a/b"));
	ck_assert(matches("$share/group/#", "x/y"));
	ck_assert(matches("$share/g/a", "a"));
	/* the "$" rule applies to the filter after the group */
	ck_assert(!matches("$share/g/#", "$SYS/x"));
	ck_assert(matches("$share/g/$SYS/#", "$SYS/x"));
}
END_TEST

START_TEST(test_pattern_captures)
{
	const char *why = NULL;
	struct topic_pattern *p = topic_pattern_compile("autocore/{device}/relay/{key}/status", &why);
	ck_assert_msg(p != NULL, "%s", why);

	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	const char *t = "autocore/ESP32_001/relay/3/status";
	ck_assert_int_eq(topic_pattern_match(p, t, strlen(t), caps), 2);
	ck_assert_str_eq(caps[0].name, "device");
	ck_assert_uint_eq(caps[0].len, 9);
	ck_assert_mem_eq(caps[0].value, "ESP32_001", 9);
	ck_assert_ptr_eq(caps[0].value, t + 9); /* points into the topic */
	ck_assert_str_eq(caps[1].name, "key");
	ck_assert_uint_eq(caps[1].len, 1);
	ck_assert_mem_eq(caps[1].value, "3", 1);
	const struct topic_capture *c = topic_capture_find(caps, 2, "key");
	ck_assert_ptr_eq(c, &caps[1]);
	ck_assert_ptr_eq(topic_capture_find(caps, 2, "device"), &caps[0]);
	ck_assert_ptr_null(topic_capture_find(caps, 2, "nope"));
	ck_assert_ptr_null(topic_capture_find(caps, 0, "device"));

	/* MAC addresses as device ids: ':' is an ordinary character */
	t = "autocore/AA:BB:CC:DD:EE:FF/relay/relay_1/status";
	ck_assert_int_eq(topic_pattern_match(p, t, strlen(t), caps), 2);
	c = topic_capture_find(caps, 2, "device");
	ck_assert_uint_eq(c->len, 17);
	ck_assert_mem_eq(c->value, "AA:BB:CC:DD:EE:FF", 17);
	c = topic_capture_find(caps, 2, "key");
	ck_assert_uint_eq(c->len, 7);
	ck_assert_mem_eq(c->value, "relay_1", 7);

	/* an empty level is captured as empty */
	t = "autocore//relay/0/status";
	ck_assert_int_eq(topic_pattern_match(p, t, strlen(t), caps), 2);
	ck_assert_uint_eq(caps[0].len, 0);

	static const char *misses[] = {"autocore/x/relay/0", "autocore/x/relay/0/status/extra",
	                               "other/x/relay/0/status", "autocore/x/y/relay/0/status",
	                               "autocore/x/relay/0/statu"};
	for (size_t i = 0; i < sizeof misses / sizeof misses[0]; i++)
		ck_assert_msg(topic_pattern_match(p, misses[i], strlen(misses[i]), caps) == -1, "matched %s",
		              misses[i]);
	/* len bounds the topic */
	t = "autocore/x/relay/0/status/extra";
	ck_assert_int_eq(topic_pattern_match(p, t, strlen("autocore/x/relay/0/status"), caps), 2);
	topic_pattern_free(p);
}
END_TEST

START_TEST(test_pattern_wildcards)
{
	const char *why;
	struct topic_pattern *p = topic_pattern_compile("+/{device}/#", &why);
	ck_assert_ptr_nonnull(p);
	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	const char *t = "autocore/dev1/relay/0/status";
	ck_assert_int_eq(topic_pattern_match(p, t, strlen(t), caps), 1);
	ck_assert_str_eq(caps[0].name, "device");
	ck_assert_uint_eq(caps[0].len, 4);
	ck_assert_mem_eq(caps[0].value, "dev1", 4);
	t = "autocore/dev2";
	ck_assert_int_eq(topic_pattern_match(p, t, strlen(t), caps), 1);
	ck_assert_mem_eq(caps[0].value, "dev2", 4);
	ck_assert_int_eq(topic_pattern_match(p, "autocore", 8, caps), -1);
	ck_assert_int_eq(topic_pattern_match(p, "$SYS/broker/x", 13, caps), -1);
	topic_pattern_free(p);

	/* a pattern without captures */
	p = topic_pattern_compile("a/+/c", &why);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(topic_pattern_match(p, "a/b/c", 5, caps), 0);
	ck_assert_int_eq(topic_pattern_match(p, "a/b/d", 5, caps), -1);
	topic_pattern_free(p);

	/* the most captures a pattern may hold */
	p = topic_pattern_compile("{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", &why);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(topic_pattern_match(p, "1/2/3/4/5/6/7/8", 15, caps), 8);
	ck_assert_str_eq(caps[7].name, "h");
	ck_assert_mem_eq(caps[7].value, "8", 1);
	topic_pattern_free(p);

	/* captures also work inside $share filters' patterns */
	p = topic_pattern_compile("$SYS/{what}", &why);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(topic_pattern_match(p, "$SYS/uptime", 11, caps), 1);
	ck_assert_mem_eq(caps[0].value, "uptime", 6);
	topic_pattern_free(p);
}
END_TEST

static void pattern_bad(const char *pattern, const char *reason)
{
	const char *why = NULL;
	struct topic_pattern *p = topic_pattern_compile(pattern, &why);
	ck_assert_msg(p == NULL, "pattern '%s' accepted", pattern);
	ck_assert_msg(why && strstr(why, reason), "'%s': '%s', expected '%s'", pattern, why, reason);
}

START_TEST(test_pattern_malformed)
{
	pattern_bad("", "empty");
	pattern_bad("a/x{device}/b", "whole level");
	pattern_bad("a/{device}x/b", "whole level");
	pattern_bad("a/{device/b", "whole level");
	pattern_bad("a/device}/b", "whole level");
	pattern_bad("{}", "{name}");
	pattern_bad("a/{}/b", "{name}");
	pattern_bad("{a}{b}", "{name}");
	pattern_bad("{a+}", "{name}");
	pattern_bad("{#}", "{name}");
	pattern_bad("{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "too many captures");
	pattern_bad("a/#/b", "'#' must be the last level");
	pattern_bad("a/b+", "'+' must occupy a whole level");
	pattern_bad("a/\xff", "UTF-8");
}
END_TEST

static Suite *topic_suite(void)
{
	Suite *s = suite_create("topic");
	TCase *tc = tcase_create("validity");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_filters);
	suite_add_tcase(s, tc);
	tc = tcase_create("matching");
	tcase_add_test(tc, test_matching);
	tcase_add_test(tc, test_matching_empty_levels);
	tcase_add_test(tc, test_matching_dollar);
	tcase_add_test(tc, test_matching_shared);
	suite_add_tcase(s, tc);
	tc = tcase_create("patterns");
	tcase_add_test(tc, test_pattern_captures);
	tcase_add_test(tc, test_pattern_wildcards);
	tcase_add_test(tc, test_pattern_malformed);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(topic_suite)
