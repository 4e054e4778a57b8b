/*
 * strmap.h — a hash map from byte strings to pointers: per-batch caches
 * (topics seen since the last commit), the device table.  Keys are copied;
 * values belong to the caller.
 */
#ifndef MQMON_STRMAP_H
#define MQMON_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_entry {
	char *key;
	size_t len;
	void *value;
};

struct strmap {
	struct strmap_entry *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* The slot for key: found (->key set) or where to insert it. */
void **strmap_get(struct strmap *m, const char *key, size_t len);
/* Insert or find; returns the value slot (NULL value when new). */
void **strmap_put(struct strmap *m, const char *key, size_t len);
/* The map's own copy of the key of a slot strmap_get or strmap_put gave
 * (NUL-terminated): it stays put while the map grows, until the key is
 * removed, so a value can point at it instead of holding a second copy. */
const char *strmap_slot_key(void **slot);
/* Call fn for every entry, then empty the map (keeping its memory small:
 * a map that grew large is freed). */
void strmap_drain(struct strmap *m, void (*fn)(void *ctx, const char *key, size_t len, void *value), void *ctx);
/* Remove key; returns its value (NULL if it was not there).  The key's
 * copy is freed, the value is the caller's. */
void *strmap_del(struct strmap *m, const char *key, size_t len);
/* Call fn for every entry, keeping them.  fn must not add or remove. */
void strmap_each(struct strmap *m, void (*fn)(void *ctx, const char *key, size_t len, void *value), void *ctx);
void strmap_free(struct strmap *m);
/* For strmap_drain: values that are one allocation each. */
void strmap_free_value(void *ctx, const char *key, size_t len, void *value);

#endif
