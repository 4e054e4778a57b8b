/*
 * mqmon.h — what every mqmon program and module shares: the exit statuses
 * of SPEC §2 and a few small helpers.  Each concern has its own header
 * (opt.h, conn.h, envelope.h, …); this one stays tiny on purpose.
 */
#ifndef MQMON_H
#define MQMON_H

#include <stddef.h>
#include <stdint.h>

/* Exit statuses, the same in every program (SPEC §2, every man page). */
enum mqmon_exit {
	MQMON_EXIT_OK = 0,
	MQMON_EXIT_RUNTIME = 1, /* could not connect, broker refused, I/O error */
	MQMON_EXIT_USAGE = 2, /* usage or configuration error */
	MQMON_EXIT_TIMEOUT = 3, /* -W elapsed, a command got no ack */
	MQMON_EXIT_NACK = 4, /* a command was answered negatively */
	MQMON_EXIT_REJECTS = 65, /* finished, but some input lines were rejected */
};

#define MQMON_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The value of a hexadecimal digit, or -1. */
static inline int mqmon_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Allocation that cannot fail: mqmon prints a message and exits with status
 * 1 on out-of-memory rather than threading NULL checks through every path. */
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
