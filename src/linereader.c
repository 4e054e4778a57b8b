/*
 * linereader.c — buffered line splitting with memchr over large reads.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "linereader.h"

#define READ_CHUNK 65536
#define KEEP_CAPACITY (4 * READ_CHUNK)

void linereader_init(struct linereader *lr, int fd)
{
	memset(lr, 0, sizeof *lr);
	lr->fd = fd;
}

void linereader_free(struct linereader *lr)
{
	buf_free(&lr->buf);
}

long linereader_fill(struct linereader *lr)
{
	if (lr->eof)
		return 0;
	/* drop what was consumed before reading more */
	if (lr->start > 0) {
		size_t rest = lr->buf.len - lr->start;
		memmove(lr->buf.data, lr->buf.data + lr->start, rest);
		lr->buf.len = rest;
		lr->scan -= lr->start;
		lr->start = 0;
	}
	buf_shrink(&lr->buf, KEEP_CAPACITY);
	buf_reserve(&lr->buf, READ_CHUNK + 1);
	ssize_t n;
	do
		n = read(lr->fd, lr->buf.data + lr->buf.len, lr->buf.cap - lr->buf.len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			lr->error = errno;
		return -1;
	}
	if (n == 0)
		lr->eof = true;
	lr->buf.len += (size_t)n;
	return n;
}

bool linereader_next(struct linereader *lr, struct line *out)
{
	char *base = lr->buf.data;
	size_t end = lr->buf.len;
	if (lr->start >= end)
		return false;
	char *nl = memchr(base + lr->scan, '\n', end - lr->scan);
	size_t stop;
	if (nl) {
		stop = (size_t)(nl - base);
	} else if (lr->eof) {
		stop = end; /* last line without a newline */
	} else {
		lr->scan = end;
		return false;
	}
	out->data = base + lr->start;
	out->len = stop - lr->start;
	if (out->len > 0 && out->data[out->len - 1] == '\r')
		out->len--;
	/* the newline (or the spare byte fill reserved) becomes the terminator */
	out->data[out->len] = '\0';
	out->lineno = ++lr->lineno;
	lr->start = lr->scan = nl ? stop + 1 : stop;
	return true;
}

bool linereader_getline(struct linereader *lr, struct line *out)
{
	while (!linereader_next(lr, out)) {
		if (lr->eof)
			return false;
		if (linereader_fill(lr) < 0 && lr->error)
			return false;
	}
	return true;
}

bool line_is_blank(const struct line *ln)
{
	for (size_t i = 0; i < ln->len; i++)
		if (ln->data[i] != ' ' && ln->data[i] != '\t' && ln->data[i] != '\r')
			return false;
	return true;
}
