/*
 * check_strmap.c — unit tests for src/strmap.h: insert, find, remove
 * (every entry of a long probe run stays findable after a removal in its
 * middle), each and drain.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "strmap.h"

static void put(struct strmap *m, const char *k, long v)
{
	*strmap_put(m, k, strlen(k)) = (void *)v;
}

static long get(struct strmap *m, const char *k)
{
	void **slot = strmap_get(m, k, strlen(k));
	return slot ? (long)*slot : -1;
}

static void count(void *ctx, const char *key, size_t len, void *value)
{
	(void)key;
	(void)len;
	*(long *)ctx += (long)value;
}

START_TEST(test_put_get_del)
{
	struct strmap m = {0};
	char key[32];
	/* enough keys to grow the table several times and make probe runs */
	for (long i = 1; i <= 5000; i++) {
		snprintf(key, sizeof key, "id-%ld", i);
		put(&m, key, i);
	}
	ck_assert_uint_eq(m.n, 5000);
	/* remove every third, then every other key must still be found */
	for (long i = 3; i <= 5000; i += 3) {
		snprintf(key, sizeof key, "id-%ld", i);
		ck_assert_int_eq((long)strmap_del(&m, key, strlen(key)), i);
		ck_assert_ptr_null(strmap_del(&m, key, strlen(key)));
	}
	for (long i = 1; i <= 5000; i++) {
		snprintf(key, sizeof key, "id-%ld", i);
		ck_assert_int_eq(get(&m, key), i % 3 ? i : -1);
	}
	ck_assert_uint_eq(m.n, 5000 - 5000 / 3);
	long sum = 0, want = 0;
	strmap_each(&m, count, &sum);
	for (long i = 1; i <= 5000; i++)
		want += i % 3 ? i : 0;
	ck_assert_int_eq(sum, want);
	/* removed keys can come back */
	put(&m, "id-3", 33);
	ck_assert_int_eq(get(&m, "id-3"), 33);
	sum = 0;
	strmap_drain(&m, count, &sum);
	ck_assert_int_eq(sum, want + 33);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_int_eq(get(&m, "id-1"), -1);
	ck_assert_ptr_null(strmap_del(&m, "id-1", 4));
	strmap_free(&m);
}
END_TEST

static Suite *strmap_suite(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");
	tcase_add_test(tc, test_put_get_del);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(strmap_suite)
