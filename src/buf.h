/*
 * buf.h — a growable byte buffer, the building block of the envelope
 * encoder, the output writer and the line reader.  Appends never fail
 * (out of memory exits, see xalloc.c); the data is not NUL-terminated
 * unless buf_cstr() is called.
 */
#ifndef MQMON_BUF_H
#define MQMON_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT           \
	{                  \
		NULL, 0, 0 \
	}

void buf_free(struct buf *b);
/* Make room for at least n more bytes; returns where they go. */
char *buf_reserve(struct buf *b, size_t n);
void buf_grow_to(struct buf *b, size_t cap);
/* Release memory beyond keep bytes of capacity when the buffer is empty or
 * small, so one huge line does not pin its memory for the program's life. */
void buf_shrink(struct buf *b, size_t keep);
const char *buf_cstr(struct buf *b);

static inline void buf_reset(struct buf *b)
{
	b->len = 0;
}

static inline void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->cap - b->len < n)
		buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void buf_addc(struct buf *b, char c)
{
	if (b->cap == b->len)
		buf_reserve(b, 1);
	b->data[b->len++] = c;
}

static inline void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
