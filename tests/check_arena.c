/*
 * check_arena.c — unit tests for src/arena.h: what is handed out stays put
 * and intact while more is taken (small and big requests mixed), is
 * aligned for any type, and a reset gives it all back for reuse.
 */
#include "config.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "check_main.h"

START_TEST(test_stays_put)
{
	struct arena a = ARENA_INIT;
	char *p[600];
	size_t len[600];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 600; i++) {
			/* mostly small, every 50th bigger than a block's quarter or a block */
			len[i] = i % 50 == 7 ? 20000 + (size_t)i : i % 50 == 9 ? 70000 : (size_t)i % 37;
			char fill[70000 + 1];
			memset(fill, 'a' + i % 26, len[i]);
			p[i] = arena_memdup(&a, fill, len[i]);
			ck_assert_uint_eq((uintptr_t)p[i] % alignof(max_align_t), 0);
			ck_assert_int_eq(p[i][len[i]], '\0');
		}
		for (int i = 0; i < 600; i++) {
			/* one assertion a string: check's per-assertion cost, times
			 * a million bytes, took minutes under valgrind */
			char want[70000];
			memset(want, 'a' + i % 26, len[i]);
			ck_assert_msg(memcmp(p[i], want, len[i]) == 0, "string %d (%zu bytes) changed", i, len[i]);
		}
		arena_reset(&a);
	}
	arena_free(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

START_TEST(test_reset_reuses)
{
	struct arena a = ARENA_INIT;
	char *first = arena_alloc(&a, 10);
	arena_alloc(&a, 1 << 20); /* a big one: its own block, given back */
	arena_reset(&a);
	ck_assert_ptr_eq(arena_alloc(&a, 10), first);
	ck_assert_ptr_nonnull(arena_memdup(&a, NULL, 0));
	arena_free(&a);
}
END_TEST

static Suite *arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("arena");
	tcase_add_test(tc, test_stays_put);
	tcase_add_test(tc, test_reset_reuses);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(arena_suite)
