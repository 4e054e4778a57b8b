/*
 * out.h — the stdout writer.  Data is gathered in a large block and written
 * when the block fills or when the program's input side goes idle
 * (out_flush() from the event loop), so bursts cost few system calls and a
 * lone message still reaches the reader at once.  A closed pipe (`| head`)
 * is not an error: out_closed() turns true and the program ends quietly
 * with status 0.
 */
#ifndef MQMON_OUT_H
#define MQMON_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct out {
	int fd;
	struct buf buf;
	size_t block; /* write when this much is buffered */
	bool closed; /* the reader went away (EPIPE) */
	int error; /* errno of a failed write other than EPIPE */
};

/* SIGPIPE is ignored so a closed pipe shows up as EPIPE. */
void out_init(struct out *o, int fd);
void out_free(struct out *o);

/* The buffer to append one record to; call out_commit() after appending. */
static inline struct buf *out_buf(struct out *o)
{
	return &o->buf;
}
/* Write if a block's worth is buffered.  Returns false once the output is
 * closed or failed. */
bool out_commit(struct out *o);
/* Write everything buffered.  Returns false once closed or failed. */
bool out_flush(struct out *o);
static inline bool out_pending(const struct out *o)
{
	return o->buf.len > 0;
}
static inline bool out_closed(const struct out *o)
{
	return o->closed;
}

#endif
