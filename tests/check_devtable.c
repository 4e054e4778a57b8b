/*
 * check_devtable.c — unit tests for src/devtable.h: counting and first/last
 * seen (also out of time order), a status merged as the database merges
 * it (newer details replace, missing ones stay, an older status changes
 * nothing), and the two ways of flushing: forgetting (mqmon-store, one
 * batch at a time) and keeping (mqmon-status, the whole run).
 */
#include "config.h"

#include <string.h>

#include "check_main.h"
#include "devtable.h"
#include "meaning.h"
#include "rules.h"

struct fixture {
	struct rules rules;
	struct meaning_reader mr;
	struct devtable t;
};

static struct fixture fx;

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	rules_add_defaults(&fx.rules);
	meaning_reader_init(&fx.mr);
	devtable_init(&fx.t);
}

static void teardown(void)
{
	devtable_free(&fx.t);
	meaning_reader_free(&fx.mr);
	rules_free(&fx.rules);
}

/* One message on topic with a JSON body, at ms. */
static struct device *note(const char *topic, const char *body, int64_t ms)
{
	struct envelope e = {.topic = topic,
	                     .topic_len = strlen(topic),
	                     .payload = body,
	                     .payload_len = strlen(body),
	                     .enc = ENC_JSON,
	                     .qos = 1,
	                     .retain = 0};
	return devtable_note(&fx.t, meaning_read(&fx.mr, &fx.rules, &e), &e, ms);
}

START_TEST(test_seen_and_counted)
{
	struct device *d = note("a/dev1/telemetry", "{\"t\":1}", 2000);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->id, "dev1");
	note("a/dev1/telemetry", "{\"t\":2}", 1000); /* older: a replay */
	note("a/dev1/telemetry", "{\"t\":3}", 3000);
	ck_assert_ptr_eq(devtable_find(&fx.t, "dev1", 4), d);
	ck_assert_int_eq(d->first_ms, 1000);
	ck_assert_int_eq(d->last_ms, 3000);
	ck_assert_uint_eq(d->messages, 3);
	ck_assert_int_eq(d->online, -1);
	ck_assert(!d->status_changed);
	/* no device: nothing noted */
	ck_assert_ptr_null(note("no/rule/here/at/all", "{}", 1));
	ck_assert_ptr_null(devtable_find(&fx.t, "x", 1));
}
END_TEST

START_TEST(test_status_merge)
{
	struct device *d =
	        note("a/dev1/status", "{\"status\":\"online\",\"ip\":\"10.0.0.1\",\"firmware\":\"1.0\"}", 1000);
	ck_assert_int_eq(d->online, 1);
	ck_assert_str_eq(d->st->ip.s, "10.0.0.1");
	/* newer: what it says replaces, what it leaves out stays */
	note("a/dev1/status", "{\"connected\":false,\"firmware\":\"1.1\"}", 2000);
	ck_assert_int_eq(d->online, 0);
	ck_assert_str_eq(d->st->status.s, "offline");
	ck_assert_str_eq(d->st->ip.s, "10.0.0.1");
	ck_assert_str_eq(d->st->firmware.s, "1.1");
	ck_assert_int_eq(d->st->ms, 2000);
	/* older: changes nothing but the count */
	note("a/dev1/status", "{\"status\":\"online\",\"ip\":\"10.9.9.9\"}", 1500);
	ck_assert_int_eq(d->online, 0);
	ck_assert_str_eq(d->st->ip.s, "10.0.0.1");
	ck_assert_int_eq(d->st->ms, 2000);
	ck_assert_uint_eq(d->messages, 3);
	/* an empty body clears a retained status: no status news */
	note("a/dev1/status", "", 3000);
	ck_assert_int_eq(d->st->ms, 2000);
	ck_assert_uint_eq(d->messages, 4);
}
END_TEST

struct flushed {
	int calls;
	unsigned long messages;
	bool status_changed;
};

static void count_flush(void *ctx, struct device *d)
{
	struct flushed *f = ctx;
	f->calls++;
	f->messages += d->messages;
	f->status_changed |= d->status_changed;
}

START_TEST(test_flush_keep_and_forget)
{
	note("a/dev1/status", "{\"status\":\"online\"}", 1000);
	note("a/dev2/telemetry", "{\"t\":1}", 1000);
	struct flushed f = {0};
	devtable_flush(&fx.t, false, count_flush, &f); /* mqmon-status: kept */
	ck_assert_int_eq(f.calls, 2);
	ck_assert(f.status_changed);
	struct device *d1 = devtable_find(&fx.t, "dev1", 4);
	ck_assert_ptr_nonnull(d1);
	ck_assert(!d1->dirty && !d1->status_changed);
	ck_assert_int_eq(d1->online, 1); /* the state stays */
	/* only what changed is flushed again */
	note("a/dev2/telemetry", "{\"t\":2}", 2000);
	f = (struct flushed){0};
	devtable_flush(&fx.t, false, count_flush, &f);
	ck_assert_int_eq(f.calls, 1);
	ck_assert_uint_eq(f.messages, 2); /* counts since the entry was made */
	ck_assert(!f.status_changed);
	/* mqmon-store: flushed and forgotten, the next batch starts afresh */
	f = (struct flushed){0};
	note("a/dev1/telemetry", "{\"t\":3}", 3000);
	devtable_flush(&fx.t, true, count_flush, &f);
	ck_assert_int_eq(f.calls, 1);
	ck_assert_ptr_null(devtable_find(&fx.t, "dev1", 4));
	ck_assert_ptr_null(devtable_find(&fx.t, "dev2", 4));
	struct device *again = note("a/dev1/telemetry", "{\"t\":4}", 4000);
	ck_assert_uint_eq(again->messages, 1);
}
END_TEST

static Suite *devtable_suite(void)
{
	Suite *s = suite_create("devtable");
	TCase *tc = tcase_create("devtable");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_seen_and_counted);
	tcase_add_test(tc, test_status_merge);
	tcase_add_test(tc, test_flush_keep_and_forget);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(devtable_suite)
