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
	struct devtable_text *texts[] = {&d->status, &d->ip, &d->firmware, &d->fields, &d->status_topic};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(texts); i++)
		buf_free(&texts[i]->b);
	free((char *)d->id);
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
	buf_reset(&t->b);
	buf_add(&t->b, s, n);
	buf_cstr(&t->b);
	t->set = true;
}

static void apply_status(struct device *d, const struct meaning *m, const struct envelope *e, int64_t ts_ms)
{
	if (d->status_ms && ts_ms < d->status_ms)
		return; /* older than what we hold (a replay, merged sources) */
	if (m->online >= 0)
		d->online = m->online;
	set_text(&d->status, m->status, m->status_len);
	set_text(&d->ip, m->ip, m->ip_len);
	set_text(&d->firmware, m->firmware, m->firmware_len);
	set_text(&d->fields, m->fields, m->fields_len);
	set_text(&d->status_topic, e->topic, e->topic_len);
	d->status_ms = ts_ms;
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
		d->id = xstrndup(m->device, m->device_len); /* NUL-terminated for callers */
		d->id_len = m->device_len;
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
