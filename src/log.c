/*
 * log.c — the diagnostic helper family.  One line per message, written with
 * a single write(2) so lines from concurrent programs sharing a terminal do
 * not interleave mid-line.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mqmon.h"

static const char *progname = "mqmon";
static enum log_level level = LOG_NORMAL;
static int usage_status = MQMON_EXIT_USAGE;
static const char *usage_stdout;

void log_set_usage_status(int status, const char *stdout_prefix)
{
	usage_status = status;
	usage_stdout = stdout_prefix;
}

void log_init(const char *name)
{
	const char *slash = strrchr(name, '/');
	progname = slash ? slash + 1 : name;
	/* libtool-style wrappers are not used, but "lt-" prefixes would confuse users */
	if (strncmp(progname, "lt-", 3) == 0)
		progname += 3;
}

const char *log_progname(void)
{
	return progname;
}
void log_set_level(enum log_level l)
{
	level = l;
}
enum log_level log_get_level(void)
{
	return level;
}

static void emit_labelled(const char *label, const char *fmt, va_list ap)
{
	char line[2048];
	int saved = errno;
	int n = snprintf(line, sizeof line, "%s: %s", progname, label);
	int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof line - 2)
		len = sizeof line - 2;
	line[len++] = '\n';
	/* stderr is unbuffered; a failed diagnostic write has nowhere to go */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
	errno = saved;
}

static void emit(const char *fmt, va_list ap)
{
	emit_labelled("", fmt, ap);
}

void mqmon_warn(const char *fmt, ...)
{
	if (level < LOG_NORMAL)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit_labelled("warning: ", fmt, ap);
	va_end(ap);
}

void mqmon_log(enum log_level min, const char *fmt, ...)
{
	if (level < min)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(fmt, ap);
	va_end(ap);
}

void mqmon_usage_error(const char *fmt, ...)
{
	va_list ap;
	if (usage_stdout) {
		/* a monitoring system shows stdout, not stderr */
		fputs(usage_stdout, stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
		fflush(stdout);
	}
	va_start(ap, fmt);
	emit(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", progname);
	exit(usage_status);
}

void mqmon_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(fmt, ap);
	va_end(ap);
	exit(status);
}
