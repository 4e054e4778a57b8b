/*
 * arena.h — memory handed out in blocks and given back all at once: the
 * strings of a batch of decoded lines (readahead.h), which stay where they
 * are while more are added, unlike a buf's.
 */
#ifndef MQMON_ARENA_H
#define MQMON_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head; /* the block being filled; older ones follow */
};

#define ARENA_INIT   \
	{            \
		NULL \
	}

/* n bytes aligned for any type; never NULL (out of memory exits). */
void *arena_alloc(struct arena *a, size_t n);
/* A copy of n bytes of p with a NUL after them. */
char *arena_memdup(struct arena *a, const void *p, size_t n);
/* Give back everything; one block of ordinary size stays for reuse. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
