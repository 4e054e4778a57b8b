/*
 * reject.h — input lines that cannot be used: each is reported on stderr
 * with its line number ("mqmon-pub: line 17: \"topic\" contains a
 * wildcard"), appended whole to the dead-letter file when one is given, and
 * counted so the program can end with status 65.
 */
#ifndef MQMON_REJECT_H
#define MQMON_REJECT_H

#include <stdbool.h>
#include <stddef.h>

struct rejects {
	int fd; /* dead-letter file, -1 if none */
	char *path;
	unsigned long count;
};

/* Open (create, append) the dead-letter file; path may be NULL.  Exits
 * with status 1 if it cannot be opened, before any input is read. */
void rejects_open(struct rejects *r, const char *path);
void rejects_close(struct rejects *r);

/* Report and keep one line.  The message names the line; the line itself
 * goes to the dead-letter file byte for byte, with a newline. */
void reject_line(struct rejects *r, unsigned long lineno, const char *line, size_t len, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

#endif
