/*
 * check_main.h — the main() every unit test shares: run one suite with
 * normal output and exit non-zero if any test failed.
 *
 *   static Suite *json_suite(void) { ... }
 *   CHECK_MAIN(json_suite)
 */
#ifndef MQMON_CHECK_MAIN_H
#define MQMON_CHECK_MAIN_H

#include <stdlib.h>

#include <check.h>

#define CHECK_MAIN(suite_fn)                                      \
	int main(void)                                            \
	{                                                         \
		SRunner *sr = srunner_create(suite_fn());         \
		srunner_run_all(sr, CK_NORMAL);                   \
		int failed = srunner_ntests_failed(sr);           \
		srunner_free(sr);                                 \
		return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE; \
	}

#endif
