/*
 * check_loop.c — unit tests for src/loop.h without a broker: input
 * descriptors (a pipe) and their backpressure switch, timers firing in
 * order and re-armed from their callback, the wait bounded by the nearest
 * deadline, a signal seen by the loop, and the end-of-run wait giving up
 * on its deadline.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "check_main.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "timeutil.h"

struct seen {
	int reads;
	char last;
	int fired[4];
	int order[8];
	int norder;
	struct loop_timer *again; /* re-armed once from its callback */
};

static int pipefd[2];

static void drain_input(void *ctx, short revents)
{
	struct seen *s = ctx;
	(void)revents;
	char c;
	if (read(pipefd[0], &c, 1) == 1)
		s->last = c;
	s->reads++;
}

START_TEST(test_input_and_watch)
{
	struct seen s = {0};
	ck_assert_int_eq(pipe(pipefd), 0);
	struct loop *l = loop_new();
	int h = loop_add_fd(l, pipefd[0], drain_input, &s);
	/* nothing to read: the wait runs out */
	ck_assert(!loop_turn(l, 0));
	ck_assert_int_eq(s.reads, 0);
	ck_assert_int_eq(write(pipefd[1], "a", 1), 1);
	ck_assert(loop_turn(l, 1000));
	ck_assert_int_eq(s.reads, 1);
	ck_assert_int_eq(s.last, 'a');
	/* switched off, the input is not read, though it is there */
	ck_assert_int_eq(write(pipefd[1], "b", 1), 1);
	loop_watch(l, h, false);
	ck_assert(!loop_turn(l, 20));
	ck_assert_int_eq(s.reads, 1);
	loop_watch(l, h, true);
	ck_assert(loop_turn(l, 1000));
	ck_assert_int_eq(s.last, 'b');
	loop_free(l);
	close(pipefd[0]);
	close(pipefd[1]);
}
END_TEST

struct tick {
	struct seen *s;
	int id;
	struct loop_timer t;
};

static void on_tick(void *ctx)
{
	struct tick *k = ctx;
	k->s->fired[k->id]++;
	k->s->order[k->s->norder++] = k->id;
	if (k->s->again == &k->t && k->s->fired[k->id] == 1)
		loop_timer_at(&k->t, time_mono_ms() + 10);
}

START_TEST(test_timers)
{
	struct seen s = {0};
	struct loop *l = loop_new();
	struct tick a = {&s, 0, {0, on_tick, &a}}, b = {&s, 1, {0, on_tick, &b}}, c = {&s, 2, {0, on_tick, &c}};
	loop_add_timer(l, &a.t);
	loop_add_timer(l, &b.t);
	loop_add_timer(l, &c.t);
	int64_t start = time_mono_ms();
	loop_timer_at(&a.t, start + 60);
	loop_timer_at(&b.t, start + 20);
	s.again = &b.t;
	/* c is never armed */
	while (s.norder < 3 && time_mono_ms() - start < 2000)
		loop_turn(l, -1); /* no limit of its own: the timers bound the wait */
	ck_assert_int_eq(s.norder, 3);
	/* b at 20 ms, b again at 30 ms, then a at 60 ms */
	ck_assert_int_eq(s.order[0], 1);
	ck_assert_int_eq(s.order[1], 1);
	ck_assert_int_eq(s.order[2], 0);
	ck_assert_int_eq(s.fired[2], 0);
	int64_t took = time_mono_ms() - start;
	ck_assert_msg(took >= 60 && took < 1000, "took %lld ms", (long long)took);
	/* fired timers are disarmed */
	ck_assert_int_eq(a.t.due, 0);
	ck_assert_int_eq(b.t.due, 0);
	ck_assert(!loop_turn(l, 0));
	ck_assert_int_eq(s.norder, 3);
	loop_free(l);
}
END_TEST

START_TEST(test_signal)
{
	struct loop *l = loop_new();
	ck_assert_int_eq(loop_signal(l), 0);
	raise(SIGTERM);
	/* the signal wakes the wait: a descriptor (the pipe) was ready */
	ck_assert(loop_turn(l, 5000));
	ck_assert_int_eq(loop_signal(l), SIGTERM);
	ck_assert_int_eq(loop_signal(l), SIGTERM); /* it stays said */
	loop_free(l);
}
END_TEST

static bool never(void *ctx)
{
	(void)ctx;
	return false;
}

/* The end-of-run wait gives up on its deadline while a connection keeps
 * retrying (nothing listens on 127.0.0.1:1), and disconnecting ends it. */
START_TEST(test_run_until)
{
	struct loop *l = loop_new();
	/* without connections there is nothing to wait for */
	int64_t start = time_mono_ms();
	ck_assert(!loop_run_until(l, never, NULL, start + 5000));
	ck_assert_int_lt(time_mono_ms() - start, 1000);

	struct conn_opts o;
	conn_opts_init(&o);
	free(o.host);
	o.host = xstrdup("127.0.0.1");
	o.port = 1;
	o.reconnect_min = 0.05;
	o.connect_timeout = 0; /* retry for ever */
	struct conn *c = conn_new(&o, NULL);
	loop_add_conn(l, c);
	log_set_level(LOG_QUIET);
	conn_start(c);
	start = time_mono_ms();
	ck_assert(!loop_run_until(l, never, NULL, start + 300));
	int64_t took = time_mono_ms() - start;
	ck_assert_msg(took >= 300 && took < 2000, "took %lld ms", (long long)took);
	ck_assert_int_ne(conn_state(c), CONN_DOWN);
	loop_disconnect_all(l);
	ck_assert_int_eq(conn_state(c), CONN_DOWN);
	loop_free(l);
	conn_free(c);
	conn_opts_free(&o);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");
	tcase_add_test(tc, test_input_and_watch);
	tcase_add_test(tc, test_timers);
	tcase_add_test(tc, test_signal);
	tcase_add_test(tc, test_run_until);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(loop_suite)
