/*
 * strmap.c — open addressing with linear probing.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqmon.h"
#include "strmap.h"

/* Eight bytes a step (keys are topics and device ids, 20-60 bytes: a
 * byte at a time cost more than the probe), then a finalizer that spreads
 * every bit into the low ones the mask keeps. */
static uint64_t hash(const char *s, size_t n)
{
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = (uint64_t)n * k, w;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ULL;
	return h ^ h >> 32;
}

static struct strmap_entry *find(const struct strmap *m, const char *key, size_t len)
{
	size_t i = (size_t)hash(key, len) & (m->cap - 1);
	for (;;) {
		struct strmap_entry *e = &m->slots[i];
		if (!e->key || (e->len == len && memcmp(e->key, key, len) == 0))
			return e;
		i = (i + 1) & (m->cap - 1);
	}
}

static void grow(struct strmap *m)
{
	struct strmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 64;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].len) = old.slots[i];
	free(old.slots);
}

void **strmap_get(struct strmap *m, const char *key, size_t len)
{
	if (!m->cap)
		return NULL;
	struct strmap_entry *e = find(m, key, len);
	return e->key ? &e->value : NULL;
}

void **strmap_put(struct strmap *m, const char *key, size_t len)
{
	if ((m->n + 1) * 4 > m->cap * 3)
		grow(m);
	struct strmap_entry *e = find(m, key, len);
	if (!e->key) {
		e->key = xstrndup(key, len);
		e->len = len;
		e->value = NULL;
		m->n++;
	}
	return &e->value;
}

const char *strmap_slot_key(void **slot)
{
	return ((struct strmap_entry *)((char *)slot - offsetof(struct strmap_entry, value)))->key;
}

void *strmap_del(struct strmap *m, const char *key, size_t len)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	struct strmap_entry *e = find(m, key, len);
	if (!e->key)
		return NULL;
	void *value = e->value;
	free(e->key);
	e->key = NULL;
	m->n--;
	/* backward shift: move later entries of the probe run into the hole
	 * unless their home slot lies after it (cyclically) */
	size_t i = (size_t)(e - m->slots), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->slots[j].key)
			break;
		size_t home = (size_t)hash(m->slots[j].key, m->slots[j].len) & mask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].key = NULL;
		i = j;
	}
	return value;
}

void strmap_drain(struct strmap *m, void (*fn)(void *ctx, const char *key, size_t len, void *value), void *ctx)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct strmap_entry *e = &m->slots[i];
		if (!e->key)
			continue;
		if (fn)
			fn(ctx, e->key, e->len, e->value);
		free(e->key);
		e->key = NULL;
	}
	m->n = 0;
	if (m->cap > 4096) {
		free(m->slots);
		m->slots = NULL;
		m->cap = 0;
	}
}

void strmap_each(struct strmap *m, void (*fn)(void *ctx, const char *key, size_t len, void *value), void *ctx)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			fn(ctx, m->slots[i].key, m->slots[i].len, m->slots[i].value);
}

void strmap_free_value(void *ctx, const char *key, size_t len, void *value)
{
	(void)ctx;
	(void)key;
	(void)len;
	free(value);
}

void strmap_free(struct strmap *m)
{
	strmap_drain(m, NULL, NULL);
	free(m->slots);
	memset(m, 0, sizeof *m);
}
