/*
 * buf.c — growable byte buffer.  Capacity doubles so appends are amortised
 * O(1); buf_shrink() gives memory back after an outsized message.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "mqmon.h"

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_grow_to(struct buf *b, size_t cap)
{
	if (cap <= b->cap)
		return;
	size_t n = b->cap ? b->cap : 256;
	while (n < cap)
		n *= 2;
	b->data = xrealloc(b->data, n);
	b->cap = n;
}

char *buf_reserve(struct buf *b, size_t n)
{
	buf_grow_to(b, b->len + n);
	return b->data + b->len;
}

void buf_shrink(struct buf *b, size_t keep)
{
	if (b->cap <= keep || b->len > keep)
		return;
	b->data = xrealloc(b->data, keep);
	b->cap = keep;
}

const char *buf_cstr(struct buf *b)
{
	buf_reserve(b, 1);
	b->data[b->len] = '\0';
	return b->data;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->data ? b->data + b->len : NULL, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}
