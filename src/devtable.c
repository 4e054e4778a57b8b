/*
 * devtable.c — the in-memory device table.  A status is applied as the
 * database applies it (mqmon-store's devices upsert): only if it is not
 * older than the status held, and each detail it gives replaces the one
 * held while the details it leaves out stay.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "devtable.h"
#include "mqmon.h"

void devtable_init(struct devtable *t)
{
	memset(t, 0, sizeof *t);
}

static void free_device(struct devtable *t, struct device *d)
{
	if (d->ext && t->free_ext)
		t->free_ext(d->ext);
	if (d->st) {
		struct devtable_text *texts[] = {&d->st->status, &d->st->ip, &d->st->firmware, &d->st->fields,
		                                 &d->st->topic};
		for (size_t i = 0; i < MQMON_ARRAY_LEN(texts); i++)
			free(texts[i]->s);
		free(d->st);
	}
	free(d);
}

static void drop(void *ctx, const char *key, size_t len, void *value)
{
	(void)key;
	(void)len;
	free_device(ctx, value);
}

void devtable_free(struct devtable *t)
{
	strmap_drain(&t->map, drop, t);
	strmap_free(&t->map);
}

static void set_text(struct devtable_text *t, const char *s, size_t n)
{
	if (!s)
		return; /* not said: what was said before stays */
	if (t->s && t->len == n && memcmp(t->s, s, n) == 0)
		return;
	t->s = xrealloc(t->s, n + 1);
	memcpy(t->s, s, n);
	t->s[n] = '\0';
	t->len = n;
}

static void apply_status(struct device *d, const struct meaning *m, const struct envelope *e, int64_t ts_ms)
{
	if (!d->st)
		d->st = xcalloc(1, sizeof *d->st);
	else if (ts_ms < d->st->ms)
		return; /* older than what we hold (a replay, merged sources) */
	if (m->online >= 0)
		d->online = (int8_t)m->online;
	set_text(&d->st->status, m->status, m->status_len);
	set_text(&d->st->ip, m->ip, m->ip_len);
	set_text(&d->st->firmware, m->firmware, m->firmware_len);
	set_text(&d->st->fields, m->fields, m->fields_len);
	set_text(&d->st->topic, e->topic, e->topic_len);
	d->st->ms = ts_ms;
	d->status_changed = true;
}

struct device *devtable_find(struct devtable *t, const char *id, size_t len)
{
	void **slot = strmap_get(&t->map, id, len);
	return slot ? *slot : NULL;
}

struct device *devtable_note(struct devtable *t, const struct meaning *m, const struct envelope *e, int64_t ts_ms)
{
	if (!m->device)
		return NULL;
	void **slot = strmap_put(&t->map, m->device, m->device_len);
	struct device *d = *slot;
	if (!d) {
		d = *slot = xcalloc(1, sizeof *d);
		d->id = strmap_slot_key(slot);
		d->id_len = (uint32_t)m->device_len;
		d->first_ms = d->last_ms = ts_ms;
		d->online = -1;
	}
	/* input out of time order: first and last stay the earliest and the
	 * latest */
	if (ts_ms < d->first_ms)
		d->first_ms = ts_ms;
	if (ts_ms > d->last_ms)
		d->last_ms = ts_ms;
	d->messages++;
	d->dirty = true;
	if (m->has_status)
		apply_status(d, m, e, ts_ms);
	return d;
}

struct flush {
	struct devtable *t;
	void (*fn)(void *ctx, struct device *d);
	void *ctx;
	bool forget;
};

static void flush_one(void *ctx, const char *key, size_t len, void *value)
{
	struct flush *f = ctx;
	struct device *d = value;
	(void)key;
	(void)len;
	if (d->dirty)
		f->fn(f->ctx, d);
	if (f->forget) {
		free_device(f->t, d);
		return;
	}
	d->dirty = d->status_changed = false;
}

void devtable_flush(struct devtable *t, bool forget, void (*fn)(void *ctx, struct device *d), void *ctx)
{
	struct flush f = {t, fn, ctx, forget};
	if (forget)
		strmap_drain(&t->map, flush_one, &f);
	else
		strmap_each(&t->map, flush_one, &f);
}

struct each {
	void (*fn)(void *ctx, struct device *d);
	void *ctx;
};

static void each_one(void *ctx, const char *key, size_t len, void *value)
{
	struct each *e = ctx;
	(void)key;
	(void)len;
	e->fn(e->ctx, value);
}

void devtable_each(struct devtable *t, void (*fn)(void *ctx, struct device *d), void *ctx)
{
	struct each e = {fn, ctx};
	strmap_each(&t->map, each_one, &e);
}
