/*
 * log.h — diagnostics on stderr, always prefixed with the program name:
 * "mqmon-pub: line 17: \"topic\" contains a wildcard".  Format strings carry
 * no trailing newline.  stdout is for data only and is never used here.
 */
#ifndef MQMON_LOG_H
#define MQMON_LOG_H

#include <stdbool.h>

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_DEBUG = 2 };

/* Set once from main(): the name printed before every message. */
void log_init(const char *progname);
const char *log_progname(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Print one message if the level in force is at least min. */
void mqmon_log(enum log_level min, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An error: always printed. */
#define mqmon_err(...) mqmon_log(LOG_QUIET, __VA_ARGS__)
/* Something the user should look at, though the program goes on:
 * "mqmon-store: warning: …".  Hidden by --quiet. */
void mqmon_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A notable event, such as a connection change: hidden by --quiet. */
#define mqmon_note(...) mqmon_log(LOG_NORMAL, __VA_ARGS__)
/* Only with -d/--debug. */
#define mqmon_debug(...) mqmon_log(LOG_DEBUG, __VA_ARGS__)

/* A usage error: prints the message and "Try 'PROG --help'." and exits 2
 * (or the status set with log_set_usage_status: a Nagios check's 3, with
 * the message also on stdout after stdout_prefix, "MQMON UNKNOWN - "). */
void log_set_usage_status(int status, const char *stdout_prefix);
_Noreturn void mqmon_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A fatal runtime error: prints the message and exits with status. */
_Noreturn void mqmon_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
