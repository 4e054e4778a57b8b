/*
 * linereader.h — reading newline-delimited input of any line length from a
 * file descriptor, blocking or not.  A line is handed out as bytes plus a
 * length: NUL bytes and invalid UTF-8 pass through untouched (the caller
 * decides what is an error), "\r\n" loses its "\r", and the last line needs
 * no newline.  Memory is bounded by the longest line seen recently: after an
 * outsized line the buffer shrinks back.
 */
#ifndef MQMON_LINEREADER_H
#define MQMON_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct linereader {
	int fd;
	struct buf buf;
	size_t start; /* first unconsumed byte */
	size_t scan; /* where to resume looking for '\n' */
	bool eof;
	int error; /* errno of a failed read, 0 if none */
	unsigned long lineno; /* number of the line last returned, from 1 */
};

struct line {
	char *data; /* valid until the next linereader call; data[len] == '\0' */
	size_t len;
	unsigned long lineno;
};

void linereader_init(struct linereader *lr, int fd);
void linereader_free(struct linereader *lr);

/* Read once from the descriptor.  Returns the byte count, 0 at end of
 * input, or -1 (errno EAGAIN for a non-blocking descriptor with nothing to
 * read, anything else is a read error, also kept in lr->error). */
long linereader_fill(struct linereader *lr);

/* The next complete line already buffered (or the unterminated last line
 * once at end of input).  Returns false when more input is needed. */
bool linereader_next(struct linereader *lr, struct line *out);

/* Only spaces, tabs and CRs: nothing, between JSON values (as jq has it). */
bool line_is_blank(const struct line *ln);

/* Blocking convenience: fill as needed until a line or end of input.
 * Returns false at end of input or on a read error (see lr->error). */
bool linereader_getline(struct linereader *lr, struct line *out);

#endif
