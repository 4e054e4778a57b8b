/*
 * check_alert.c — unit tests for src/alert.h: the expression grammar and
 * its errors, each operator, and the state machine: "for DURATION", a
 * value dipping back before it is due, hysteresis on the way back, and an
 * alert that comes due with no new value.
 */
#include "config.h"

#include <string.h>

#include "alert.h"
#include "check_main.h"

static struct alert_rule parse_ok(const char *expr)
{
	struct alert_rule r;
	const char *why = NULL;
	ck_assert_msg(alert_parse(&r, expr, &why), "rejected '%s': %s", expr, why);
	return r;
}

static void parse_bad(const char *expr, const char *reason)
{
	struct alert_rule r;
	const char *why = NULL;
	ck_assert_msg(!alert_parse(&r, expr, &why), "accepted '%s'", expr);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, reason) != NULL, "'%s': reason '%s', expected '%s'", expr, why, reason);
	ck_assert_ptr_null(r.field);
}

START_TEST(test_parse)
{
	struct alert_rule r = parse_ok("sensors.temperature >= 40 for 5m");
	ck_assert_str_eq(r.field, "sensors.temperature");
	ck_assert_int_eq(r.op, ALERT_GE);
	ck_assert_double_eq(r.threshold, 40);
	ck_assert_int_eq(r.for_ms, 5 * 60 * 1000);
	ck_assert_str_eq(r.text, "sensors.temperature >= 40 for 5m");
	alert_rule_free(&r);

	r = parse_ok("  voltage<11.8  ");
	ck_assert_str_eq(r.field, "voltage");
	ck_assert_int_eq(r.op, ALERT_LT);
	ck_assert_double_eq(r.threshold, 11.8);
	ck_assert_int_eq(r.for_ms, 0);
	ck_assert_str_eq(r.text, "voltage<11.8"); /* as written, trimmed */
	alert_rule_free(&r);

	static const struct {
		const char *expr;
		enum alert_op op;
	} ops[] = {{"a > 1", ALERT_GT},  {"a >= 1", ALERT_GE}, {"a < 1", ALERT_LT},
	           {"a <= 1", ALERT_LE}, {"a == 1", ALERT_EQ}, {"a != 1", ALERT_NE}};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		r = parse_ok(ops[i].expr);
		ck_assert_msg(r.op == ops[i].op, "%s", ops[i].expr);
		alert_rule_free(&r);
	}
	r = parse_ok("t > 1 for 5"); /* a bare span is seconds, as everywhere */
	ck_assert_int_eq(r.for_ms, 5000);
	alert_rule_free(&r);
	r = parse_ok("rssi > -70.5 for 90s");
	ck_assert_double_eq(r.threshold, -70.5);
	ck_assert_int_eq(r.for_ms, 90000);
	alert_rule_free(&r);
}
END_TEST

START_TEST(test_parse_bad)
{
	parse_bad("", "FIELD OP NUMBER");
	parse_bad("> 3", "FIELD OP NUMBER");
	parse_bad("temperature", "operator");
	parse_bad("temperature => 3", "operator");
	parse_bad("temperature ~ 3", "operator");
	parse_bad("temperature >", "number");
	parse_bad("temperature > hot", "number");
	parse_bad("temperature > inf", "number");
	parse_bad("temperature > 3 during 5m", "for DURATION");
	parse_bad("temperature > 3 for", "for DURATION");
	parse_bad("temperature > 3 for ever", "duration");
}
END_TEST

START_TEST(test_crossed_and_recovered)
{
	struct alert_rule r = parse_ok("t > 30");
	ck_assert(alert_crossed(&r, 30.5));
	ck_assert(!alert_crossed(&r, 30));
	ck_assert(alert_recovered(&r, 30, 0));
	ck_assert(!alert_recovered(&r, 29.5, 1)); /* within the hysteresis */
	ck_assert(alert_recovered(&r, 28.9, 1));
	alert_rule_free(&r);

	r = parse_ok("v <= 11.8");
	ck_assert(alert_crossed(&r, 11.8));
	ck_assert(!alert_crossed(&r, 11.9));
	ck_assert(!alert_recovered(&r, 12.0, 0.5));
	ck_assert(alert_recovered(&r, 12.4, 0.5));
	alert_rule_free(&r);

	r = parse_ok("mode == 2");
	ck_assert(alert_crossed(&r, 2));
	ck_assert(!alert_crossed(&r, 2.5));
	ck_assert(alert_recovered(&r, 3, 0));
	ck_assert(!alert_recovered(&r, 2.5, 1));
	alert_rule_free(&r);

	r = parse_ok("mode != 2");
	ck_assert(alert_crossed(&r, 3));
	ck_assert(!alert_crossed(&r, 2));
	ck_assert(alert_recovered(&r, 2, 0));
	ck_assert(!alert_recovered(&r, 2.5, 0));
	ck_assert(alert_recovered(&r, 2.5, 1));
	alert_rule_free(&r);
}
END_TEST

START_TEST(test_for_duration)
{
	struct alert_rule r = parse_ok("temperature >= 40 for 5m");
	struct alert_state s = {0};
	const int64_t t0 = 1000000, min = 60000;
	ck_assert_int_eq(alert_update(&r, &s, 41, t0, 0), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 42, t0 + 4 * min, 0), ALERT_NONE);
	/* dipping below before it is due starts the wait again */
	ck_assert_int_eq(alert_update(&r, &s, 39, t0 + 4 * min + 1, 0), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 41, t0 + 5 * min, 0), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 41, t0 + 9 * min, 0), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 43, t0 + 10 * min, 0), ALERT_FIRED);
	/* said once */
	ck_assert_int_eq(alert_update(&r, &s, 44, t0 + 11 * min, 0), ALERT_NONE);
	ck_assert(!alert_due(&r, &s, t0 + 20 * min));
	ck_assert_int_eq(alert_update(&r, &s, 39, t0 + 12 * min, 0), ALERT_RECOVERED);
	ck_assert_int_eq(alert_update(&r, &s, 38, t0 + 13 * min, 0), ALERT_NONE);
	alert_rule_free(&r);
}
END_TEST

START_TEST(test_due_without_new_value)
{
	struct alert_rule r = parse_ok("temperature > 40 for 5m");
	struct alert_state s = {0};
	const int64_t t0 = 1000000, min = 60000;
	ck_assert(!alert_due(&r, &s, t0)); /* nothing past */
	ck_assert_int_eq(alert_update(&r, &s, 45, t0, 0), ALERT_NONE);
	ck_assert(!alert_due(&r, &s, t0 + 5 * min - 1));
	ck_assert(alert_due(&r, &s, t0 + 5 * min));
	ck_assert_double_eq(s.value, 45);
	ck_assert(s.firing);
	ck_assert(!alert_due(&r, &s, t0 + 6 * min)); /* once */
	ck_assert_int_eq(alert_update(&r, &s, 46, t0 + 7 * min, 0), ALERT_NONE);
	alert_rule_free(&r);
}
END_TEST

START_TEST(test_hysteresis)
{
	struct alert_rule r = parse_ok("temperature > 30");
	struct alert_state s = {0};
	ck_assert_int_eq(alert_update(&r, &s, 31, 1, 2), ALERT_FIRED);
	/* hovering about the threshold says nothing more */
	ck_assert_int_eq(alert_update(&r, &s, 29.5, 2, 2), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 30.5, 3, 2), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 28.5, 4, 2), ALERT_NONE);
	ck_assert_int_eq(alert_update(&r, &s, 27.9, 5, 2), ALERT_RECOVERED);
	ck_assert_int_eq(alert_update(&r, &s, 30.1, 6, 2), ALERT_FIRED);
	alert_rule_free(&r);
}
END_TEST

static Suite *alert_suite(void)
{
	Suite *s = suite_create("alert");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("state");
	tcase_add_test(tc, test_crossed_and_recovered);
	tcase_add_test(tc, test_for_duration);
	tcase_add_test(tc, test_due_without_new_value);
	tcase_add_test(tc, test_hysteresis);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(alert_suite)
