/*
 * reject.c — reporting and keeping unusable input lines.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "mqmon.h"
#include "reject.h"

void rejects_open(struct rejects *r, const char *path)
{
	r->fd = -1;
	r->path = NULL;
	r->count = 0;
	if (!path)
		return;
	r->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (r->fd < 0)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot open the dead-letter file %s: %s", path, strerror(errno));
	r->path = xstrdup(path);
}

void rejects_close(struct rejects *r)
{
	if (r->fd >= 0 && close(r->fd) < 0)
		mqmon_err("%s: %s", r->path, strerror(errno));
	r->fd = -1;
	free(r->path);
	r->path = NULL;
}

void reject_line(struct rejects *r, unsigned long lineno, const char *line, size_t len, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mqmon_err("line %lu: %s", lineno, msg);
	r->count++;
	if (r->fd < 0)
		return;
	/* one writev per line: with O_APPEND the line and its newline land
	 * together even if several programs share the file */
	struct iovec iov[2] = {{(void *)line, len}, {"\n", 1}};
	size_t want = len + 1;
	ssize_t n = writev(r->fd, iov, 2);
	if (n < 0 || (size_t)n != want)
		mqmon_err("cannot write to the dead-letter file %s: %s", r->path,
		          n < 0 ? strerror(errno) : "short write");
}
