/*
 * xalloc.c — allocation that cannot fail.  Out of memory is reported as a
 * runtime failure (status 1) at the point it happens.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mqmon.h"

static _Noreturn void out_of_memory(size_t n)
{
	mqmon_die(MQMON_EXIT_RUNTIME, "out of memory (allocating %zu bytes)", n);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
