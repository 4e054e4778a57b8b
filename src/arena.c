/*
 * arena.c — blocks of ARENA_BLOCK bytes; a request larger than that gets a
 * block of its own, which arena_reset gives back, so one huge string does
 * not pin its memory.
 */
#include "config.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "mqmon.h"

#define ARENA_BLOCK (64 * 1024)

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	alignas(max_align_t) char data[];
};

static struct arena_block *new_block(struct arena_block *next, size_t cap)
{
	if (cap > SIZE_MAX - sizeof(struct arena_block))
		cap = SIZE_MAX - sizeof(struct arena_block); /* xmalloc fails, reporting it */
	struct arena_block *b = xmalloc(sizeof *b + cap);
	b->next = next;
	b->used = 0;
	b->cap = cap;
	return b;
}

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	size_t need = n > SIZE_MAX - align ? n : (n + align - 1) & ~(align - 1);
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < need) {
		if (need > ARENA_BLOCK / 4 && b) {
			/* a big one goes behind the block being filled, which
			 * keeps its room for the small ones to come */
			b->next = new_block(b->next, need);
			b->next->used = need;
			return b->next->data;
		}
		b = a->head = new_block(b, need > ARENA_BLOCK ? need : ARENA_BLOCK);
	}
	void *p = b->data + b->used;
	b->used += need;
	return p;
}

char *arena_memdup(struct arena *a, const void *p, size_t n)
{
	char *q = arena_alloc(a, n + 1);
	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

void arena_reset(struct arena *a)
{
	struct arena_block *keep = NULL, *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		if (!keep && b->cap == ARENA_BLOCK) {
			keep = b;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(b);
		}
		b = next;
	}
	a->head = keep;
}

void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}
