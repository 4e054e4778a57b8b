/*
 * check_conn.c — the pure parts of src/conn.c: the reconnect backoff
 * (exponential, capped, jittered, never below MIN) and the checks that
 * settings make sense together.  Connecting itself is tested against a real
 * broker in tests/conn-listeners.sh.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "conn.h"
#include "mqmon.h"

START_TEST(test_backoff_grows_and_caps)
{
	/* u = 1 gives the full step: 1, 2, 4, 8, … capped at 60 */
	const double want[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
	for (unsigned f = 0; f < sizeof want / sizeof want[0]; f++)
		ck_assert_double_eq_tol(conn_backoff_delay(1, 60, f, 0.999999), want[f], 0.001);
	/* a huge failure count does not overflow */
	ck_assert_double_eq_tol(conn_backoff_delay(1, 60, 4000000000u, 0.5), 45, 0.001);
}
END_TEST

START_TEST(test_backoff_jitter_bounds)
{
	/* the wait lies in [step/2, step] and is never below MIN */
	for (unsigned f = 0; f < 10; f++) {
		double step = 0.1 * (1 << f);
		if (step > 5)
			step = 5;
		for (double u = 0; u < 1; u += 0.05) {
			double d = conn_backoff_delay(0.1, 5, f, u);
			ck_assert(d >= step / 2 - 1e-9);
			ck_assert(d <= step + 1e-9);
			ck_assert(d >= 0.1 - 1e-9);
		}
	}
	/* jitter makes the waits of two clients differ */
	ck_assert(conn_backoff_delay(1, 60, 5, 0.1) != conn_backoff_delay(1, 60, 5, 0.9));
	/* at the first failure the floor is MIN itself */
	ck_assert_double_eq_tol(conn_backoff_delay(2, 60, 0, 0), 2, 1e-9);
}
END_TEST

static const char *finish_why(void (*setup)(struct conn_opts *))
{
	static char msg[256];
	struct conn_opts o;
	conn_opts_init(&o);
	setup(&o);
	const char *why = NULL;
	bool ok = conn_opts_finish(&o, &why);
	snprintf(msg, sizeof msg, "%s", ok ? "" : why);
	conn_opts_free(&o);
	return msg;
}

static void persistent_without_id(struct conn_opts *o)
{
	o->clean = false;
}
static void cert_without_key(struct conn_opts *o)
{
	o->cert = xstrdup("c.pem");
}
static void password_without_user(struct conn_opts *o)
{
	o->password = xstrdup("x");
}
static void long_id_v31(struct conn_opts *o)
{
	o->protocol = 31;
	o->id = xstrdup("an-id-longer-than-23-characters");
}
static void wildcard_will(struct conn_opts *o)
{
	o->will_topic = xstrdup("a/+");
}
static void fine(struct conn_opts *o)
{
	o->id = xstrdup("x");
}

START_TEST(test_finish_checks)
{
	ck_assert_ptr_nonnull(strstr(finish_why(persistent_without_id), "needs a client id"));
	ck_assert_ptr_nonnull(strstr(finish_why(cert_without_key), "--cert and --key"));
	ck_assert_ptr_nonnull(strstr(finish_why(password_without_user), "user name"));
	ck_assert_ptr_nonnull(strstr(finish_why(long_id_v31), "23 characters"));
	ck_assert_ptr_nonnull(strstr(finish_why(wildcard_will), "--will-topic contains a wildcard"));
	ck_assert_str_eq(finish_why(fine), "");
}
END_TEST

START_TEST(test_finish_default_ports)
{
	struct conn_opts o;
	const char *why;
	conn_opts_init(&o);
	ck_assert(conn_opts_finish(&o, &why));
	ck_assert_int_eq(o.port, 1883);
	conn_opts_free(&o);
	conn_opts_init(&o);
	o.cafile = xstrdup("ca.pem"); /* any TLS option means TLS, on 8883 */
	ck_assert(conn_opts_finish(&o, &why));
	ck_assert(o.tls);
	ck_assert_int_eq(o.port, 8883);
	conn_opts_free(&o);
}
END_TEST

static Suite *conn_suite(void)
{
	Suite *s = suite_create("conn");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_backoff_grows_and_caps);
	tcase_add_test(tc, test_backoff_jitter_bounds);
	tcase_add_test(tc, test_finish_checks);
	tcase_add_test(tc, test_finish_default_ports);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(conn_suite)
