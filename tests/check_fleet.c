/*
 * check_fleet.c — unit tests for src/fleet.h on a clock the test holds:
 * going offline after --offline-after of silence and coming back, the
 * most specific silence rule, a lost upstream (one stale event, no
 * offline, fresh timers after), flapping held back and released after a
 * steady minute, an alert that comes due with no new value, the moving
 * mean's anomaly, and group counts.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fleet.h"
#include "mqmon.h"

#define T0 INT64_C(1738060215000)
#define SEC INT64_C(1000)

struct fixture {
	struct rules rules;
	struct fleet_silence silence[2];
	struct alert_rule alerts[1];
	struct fleet_opts o;
	struct fleet f;
	char *events[256];
	size_t n;
};

static struct fixture fx;

static void on_event(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	ck_assert_uint_lt(fx.n, MQMON_ARRAY_LEN(fx.events));
	fx.events[fx.n++] = xstrndup(line, len);
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	rules_add_defaults(&fx.rules);
	fx.o.rules = &fx.rules;
}

static void start(void)
{
	struct fleet_handlers h = {.on_event = on_event};
	fleet_init(&fx.f, &fx.o, &h);
}

static void forget_events(void)
{
	for (size_t i = 0; i < fx.n; i++)
		free(fx.events[i]);
	fx.n = 0;
}

static void teardown(void)
{
	fleet_free(&fx.f);
	forget_events();
	for (size_t i = 0; i < MQMON_ARRAY_LEN(fx.silence); i++)
		fleet_silence_free(&fx.silence[i]);
	for (size_t i = 0; i < MQMON_ARRAY_LEN(fx.alerts); i++)
		alert_rule_free(&fx.alerts[i]);
	rules_free(&fx.rules);
}

static void msg(const char *topic, const char *body, int64_t now)
{
	struct envelope e = {.topic = topic,
	                     .topic_len = strlen(topic),
	                     .payload = body,
	                     .payload_len = strlen(body),
	                     .enc = ENC_JSON,
	                     .qos = 1};
	fleet_message(&fx.f, &e, now);
}

/* How many events so far contain every one of the fragments. */
static size_t count(const char *a, const char *b)
{
	size_t n = 0;
	for (size_t i = 0; i < fx.n; i++)
		if (strstr(fx.events[i], a) && (!b || strstr(fx.events[i], b)))
			n++;
	return n;
}

static void silence(size_t i, const char *spec)
{
	const char *why = NULL;
	ck_assert_msg(fleet_silence_parse(&fx.silence[i], spec, &why), "%s: %s", spec, why);
	fx.o.silence = fx.silence;
	fx.o.nsilence = i + 1;
}

START_TEST(test_silence_offline_and_back)
{
	silence(0, "30");
	start();
	msg("farm/pump1/telemetry", "{\"flow\":1}", T0);
	ck_assert_uint_eq(count("\"online\"", "\"reason\":\"start\""), 1);
	fleet_tick(&fx.f, T0 + 30 * SEC);
	ck_assert_uint_eq(count("\"offline\"", NULL), 0); /* 30 s is not more than 30 s */
	fleet_tick(&fx.f, T0 + 31 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", "\"reason\":\"silence\""), 1);
	fleet_tick(&fx.f, T0 + 90 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL), 1); /* said once */
	msg("farm/pump1/telemetry", "{\"flow\":2}", T0 + 91 * SEC);
	ck_assert_uint_eq(count("\"event\":\"online\"", "\"reason\":\"silence\""), 1);
	ck_assert_uint_eq(fx.n, 3);
}
END_TEST

START_TEST(test_most_specific_silence)
{
	silence(0, "10");
	silence(1, "farm/slow/#=600");
	start();
	msg("farm/slow/telemetry", "{\"x\":1}", T0);
	msg("farm/fast/telemetry", "{\"x\":1}", T0);
	fleet_tick(&fx.f, T0 + 60 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", "\"device\":\"fast\""), 1);
	ck_assert_uint_eq(count("\"event\":\"offline\"", "\"device\":\"slow\""), 0);
	fleet_tick(&fx.f, T0 + 601 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", "\"device\":\"slow\""), 1);
}
END_TEST

START_TEST(test_stale_upstream)
{
	silence(0, "30");
	start();
	msg("farm/a/telemetry", "{\"x\":1}", T0);
	msg("farm/b/telemetry", "{\"x\":1}", T0);
	fleet_upstream(&fx.f, false, "connection lost", T0 + 5 * SEC);
	fleet_upstream(&fx.f, false, "connection lost", T0 + 6 * SEC);
	ck_assert_uint_eq(count("\"event\":\"stale\"", "\"devices\":2"), 1);
	fleet_tick(&fx.f, T0 + 120 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL), 0); /* deaf, not silent */
	fleet_upstream(&fx.f, true, NULL, T0 + 120 * SEC);
	fleet_tick(&fx.f, T0 + 140 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL), 0); /* fresh timers */
	fleet_tick(&fx.f, T0 + 151 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL), 2);
}
END_TEST

START_TEST(test_flapping_held_and_released)
{
	start();
	int64_t t = T0;
	/* the first status is the start; then eleven changes in 22 s */
	msg("farm/relay9/status", "{\"status\":\"online\"}", t);
	for (int i = 1; i <= FLEET_FLAP_CHANGES + 1; i++) {
		t += 2 * SEC;
		msg("farm/relay9/status", i % 2 ? "{\"status\":\"offline\"}" : "{\"status\":\"online\"}", t);
	}
	ck_assert_uint_eq(count("\"event\":\"flapping\"", "\"changes\":11"), 1);
	size_t told = count("\"event\":\"offline\"", NULL) + count("\"event\":\"online\"", NULL);
	ck_assert_uint_eq(told, 1 + FLEET_FLAP_CHANGES);
	/* held: more changes say nothing */
	msg("farm/relay9/status", "{\"status\":\"online\"}", t + 1 * SEC);
	msg("farm/relay9/status", "{\"status\":\"offline\"}", t + 2 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL) + count("\"event\":\"online\"", NULL), told);
	/* not yet steady for a minute after the last change */
	fleet_tick(&fx.f, t + 61 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL) + count("\"event\":\"online\"", NULL), told);
	/* steady: where it ended up (offline), once; the last told was online */
	fleet_tick(&fx.f, t + 62 * SEC);
	ck_assert_str_eq(strstr(fx.events[fx.n - 1], "\"event\""),
	                 "\"event\":\"offline\",\"device\":\"relay9\",\"reason\":\"status\"}\n");
	fleet_tick(&fx.f, t + 200 * SEC);
	ck_assert_uint_eq(count("\"event\":\"offline\"", NULL) + count("\"event\":\"online\"", NULL), told + 1);
	/* and changes are told again */
	msg("farm/relay9/status", "{\"status\":\"online\"}", t + 201 * SEC);
	ck_assert_uint_eq(count("\"event\":\"online\"", "\"reason\":\"status\""), 1 + FLEET_FLAP_CHANGES / 2);
}
END_TEST

static void alert(const char *expr)
{
	const char *why = NULL;
	ck_assert_msg(alert_parse(&fx.alerts[0], expr, &why), "%s: %s", expr, why);
	fx.o.alerts = fx.alerts;
	fx.o.nalerts = 1;
}

START_TEST(test_alert_due_on_tick)
{
	alert("temperature > 40 for 5m");
	start();
	msg("farm/tank1/telemetry", "{\"temperature\":45}", T0);
	fleet_tick(&fx.f, T0 + 299 * SEC);
	ck_assert_uint_eq(count("\"event\":\"alert\"", NULL), 0);
	fleet_tick(&fx.f, T0 + 300 * SEC);
	ck_assert_uint_eq(count("\"event\":\"alert\"", "\"value\":45,\"threshold\":40"), 1);
	fleet_tick(&fx.f, T0 + 400 * SEC);
	ck_assert_uint_eq(count("\"event\":\"alert\"", NULL), 1);
	msg("farm/tank1/telemetry", "{\"temperature\":39}", T0 + 401 * SEC);
	ck_assert_uint_eq(count("\"event\":\"recovered\"", "\"value\":39"), 1);
}
END_TEST

START_TEST(test_alert_not_due_while_deaf)
{
	alert("temperature > 40 for 5m");
	start();
	msg("farm/tank1/telemetry", "{\"temperature\":45}", T0);
	fleet_upstream(&fx.f, false, "connection lost", T0 + SEC);
	fleet_tick(&fx.f, T0 + 600 * SEC);
	ck_assert_uint_eq(count("\"event\":\"alert\"", NULL), 0);
}
END_TEST

START_TEST(test_anomaly)
{
	fx.o.zscore = 3;
	fx.o.window = 20;
	start();
	int64_t t = T0;
	for (int i = 0; i < 40; i++)
		msg("farm/tank2/telemetry", i % 2 ? "{\"ph\":7.1}" : "{\"ph\":6.9}", t += SEC);
	ck_assert_uint_eq(count("\"event\":\"anomaly\"", NULL), 0);
	msg("farm/tank2/telemetry", "{\"ph\":7.25}", t += SEC); /* 2.5 deviations */
	ck_assert_uint_eq(count("\"event\":\"anomaly\"", NULL), 0);
	msg("farm/tank2/telemetry", "{\"ph\":9.5}", t += SEC);
	ck_assert_uint_eq(count("\"event\":\"anomaly\"", "\"metric\":\"ph\",\"value\":9.5"), 1);
}
END_TEST

START_TEST(test_anomaly_needs_history)
{
	fx.o.zscore = 3;
	fx.o.window = 20;
	start();
	/* fewer than half a window of values judges nothing */
	msg("farm/tank3/telemetry", "{\"ph\":7}", T0);
	msg("farm/tank3/telemetry", "{\"ph\":7.1}", T0 + SEC);
	msg("farm/tank3/telemetry", "{\"ph\":6.9}", T0 + 2 * SEC);
	msg("farm/tank3/telemetry", "{\"ph\":50}", T0 + 3 * SEC);
	ck_assert_uint_eq(count("\"event\":\"anomaly\"", NULL), 0);
}
END_TEST

START_TEST(test_groups)
{
	fx.o.group_field = "site";
	silence(0, "30");
	start();
	msg("farm/a/telemetry", "{\"site\":\"north\",\"x\":1}", T0);
	msg("farm/b/telemetry", "{\"site\":\"north\",\"x\":1}", T0);
	msg("farm/c/telemetry", "{\"site\":\"south\",\"x\":1}", T0);
	ck_assert_uint_eq(count("\"group\":\"north\",\"devices\":2,\"online\":2", NULL), 1);
	ck_assert_uint_eq(count("\"group\":\"south\",\"devices\":1,\"online\":1", NULL), 1);
	msg("farm/a/telemetry", "{\"site\":\"north\",\"x\":2}", T0 + 20 * SEC);
	fleet_tick(&fx.f, T0 + 40 * SEC); /* b and c silent */
	ck_assert_uint_eq(count("\"group\":\"north\",\"devices\":2,\"online\":1", NULL), 1);
	ck_assert_uint_eq(count("\"group\":\"south\",\"devices\":1,\"online\":0", NULL), 1);
	/* a device that moves takes its count along */
	msg("farm/a/telemetry", "{\"site\":\"south\",\"x\":3}", T0 + 41 * SEC);
	ck_assert_uint_eq(count("\"group\":\"north\",\"devices\":1,\"online\":0", NULL), 1);
	ck_assert_uint_eq(count("\"group\":\"south\",\"devices\":2,\"online\":1", NULL), 1);
}
END_TEST

START_TEST(test_silence_parse)
{
	struct fleet_silence s;
	const char *why = NULL;
	ck_assert(fleet_silence_parse(&s, "farm/+/telemetry=90", &why));
	ck_assert_str_eq(s.filter, "farm/+/telemetry");
	ck_assert_int_eq(s.ms, 90000);
	fleet_silence_free(&s);
	ck_assert(fleet_silence_parse(&s, "45", &why));
	ck_assert_ptr_null(s.filter);
	ck_assert_int_eq(s.ms, 45000);
	fleet_silence_free(&s);
	why = NULL;
	ck_assert(!fleet_silence_parse(&s, "farm/#=soon", &why));
	ck_assert_ptr_nonnull(why);
	why = NULL;
	ck_assert(!fleet_silence_parse(&s, "farm/#/x=30", &why));
	ck_assert_ptr_nonnull(why);
}
END_TEST

static Suite *fleet_suite(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("online");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_silence_offline_and_back);
	tcase_add_test(tc, test_most_specific_silence);
	tcase_add_test(tc, test_stale_upstream);
	tcase_add_test(tc, test_flapping_held_and_released);
	tcase_add_test(tc, test_silence_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_alert_due_on_tick);
	tcase_add_test(tc, test_alert_not_due_while_deaf);
	tcase_add_test(tc, test_anomaly);
	tcase_add_test(tc, test_anomaly_needs_history);
	tcase_add_test(tc, test_groups);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(fleet_suite)
