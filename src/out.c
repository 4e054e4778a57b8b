/*
 * out.c — block-buffered stdout with quiet handling of a closed pipe.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "out.h"

#define OUT_BLOCK 65536

void out_init(struct out *o, int fd)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->block = OUT_BLOCK;
	buf_grow_to(&o->buf, OUT_BLOCK * 2);
	signal(SIGPIPE, SIG_IGN);
}

void out_free(struct out *o)
{
	buf_free(&o->buf);
}

bool out_flush(struct out *o)
{
	size_t done = 0;
	if (o->closed || o->error) {
		o->buf.len = 0;
		return false;
	}
	while (done < o->buf.len) {
		ssize_t n = write(o->fd, o->buf.data + done, o->buf.len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				o->closed = true;
			} else {
				o->error = errno;
				mqmon_err("cannot write output: %s", strerror(errno));
			}
			o->buf.len = 0;
			return false;
		}
		done += (size_t)n;
	}
	o->buf.len = 0;
	/* give back memory after an outsized record */
	buf_shrink(&o->buf, OUT_BLOCK * 2);
	return true;
}

bool out_commit(struct out *o)
{
	if (o->buf.len >= o->block)
		return out_flush(o);
	return !o->closed && !o->error;
}
