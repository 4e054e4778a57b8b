/*
 * check_log.c — unit tests for src/log.h: every line starts with the
 * program's name, a warning says so, and --quiet hides warnings and notes
 * but never errors.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "log.h"

/* What fn printed on stderr. */
static const char *captured(void (*fn)(void))
{
	static char text[4096];
	int fds[2], saved = dup(STDERR_FILENO);
	ck_assert_int_eq(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], text, sizeof text - 1);
	close(fds[0]);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

static void say_all(void)
{
	mqmon_err("line %d: cannot %s", 17, "parse");
	mqmon_warn("the broker refused a message: %s", "quota exceeded");
	mqmon_note("connected to %s", "localhost:1883");
	mqmon_debug("hidden unless --debug");
}

START_TEST(test_labels_and_levels)
{
	log_init("/usr/bin/mqmon-x");
	log_set_level(LOG_NORMAL);
	ck_assert_str_eq(captured(say_all), "mqmon-x: line 17: cannot parse\n"
	                                    "mqmon-x: warning: the broker refused a message: quota exceeded\n"
	                                    "mqmon-x: connected to localhost:1883\n");
	log_set_level(LOG_QUIET);
	ck_assert_str_eq(captured(say_all), "mqmon-x: line 17: cannot parse\n");
	log_set_level(LOG_DEBUG);
	ck_assert_ptr_nonnull(strstr(captured(say_all), "mqmon-x: hidden unless --debug\n"));
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_test(tc, test_labels_and_levels);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(log_suite)
