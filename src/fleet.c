/*
 * fleet.c — the live fleet.  Each device of the device table carries a
 * struct fleet_dev (devtable's ext): what was told of it, its moving
 * statistics and alert states.  Metric names are interned, so a device
 * keeps a small array of numbered metrics, not strings: a fleet of
 * 100,000 devices stays within tens of megabytes.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fleet.h"
#include "log.h"
#include "mqmon.h"
#include "timeutil.h"
#include "topic.h"

/* ---- --offline-after ---- */

bool fleet_silence_parse(struct fleet_silence *s, const char *spec, const char **why)
{
	memset(s, 0, sizeof *s);
	const char *eq = strrchr(spec, '=');
	const char *span = eq ? eq + 1 : spec;
	if (!time_parse_span(span, &s->ms, why) || s->ms <= 0) {
		*why = "--offline-after takes [FILTER=]SPAN, such as 30s or 'battery_hawk/#=1d'";
		return false;
	}
	s->specificity = -1;
	if (!eq)
		return true;
	s->filter = xstrndup(spec, (size_t)(eq - spec));
	if (!topic_filter_valid(s->filter, strlen(s->filter), why)) {
		free(s->filter);
		s->filter = NULL;
		return false;
	}
	/* the more literal levels, the more specific */
	s->specificity = 0;
	for (const char *p = s->filter; *p;) {
		size_t n = strcspn(p, "/");
		if (!(n == 1 && (*p == '+' || *p == '#')))
			s->specificity++;
		p += n + (p[n] == '/');
	}
	return true;
}

void fleet_silence_free(struct fleet_silence *s)
{
	free(s->filter);
	s->filter = NULL;
}

/* The most specific rule for topic, or cur when none is more specific. */
static const struct fleet_silence *silence_rule(const struct fleet *f, const char *topic, size_t len,
                                                const struct fleet_silence *cur)
{
	const struct fleet_silence *best = cur;
	for (size_t i = 0; i < f->o->nsilence; i++) {
		const struct fleet_silence *s = &f->o->silence[i];
		if (s->filter && !topic_matches(s->filter, topic, len))
			continue;
		if (!best || s->specificity > best->specificity ||
		    (s->specificity == best->specificity && s->filter && best->filter &&
		     strlen(s->filter) > strlen(best->filter)))
			best = s;
	}
	return best;
}

/* ---- events ---- */

static void emit(struct fleet *f)
{
	event_end(&f->line);
	if (f->h.on_event)
		f->h.on_event(f->h.ctx, f->line.data, f->line.len);
	buf_reset(&f->line);
}

static void head(struct fleet *f, const char *name, int64_t now_ms, const struct fleet_dev *fd)
{
	buf_reset(&f->line);
	event_begin(&f->line, name, now_ms);
	if (fd)
		event_strn(&f->line, "device", fd->d->id, fd->d->id_len);
}

/* ---- groups ---- */

static struct fleet_group *group(struct fleet *f, const char *name)
{
	void **slot = strmap_put(&f->groups, name, strlen(name));
	if (!*slot) {
		struct fleet_group *g = xcalloc(1, sizeof *g);
		g->name = xstrdup(name);
		*slot = g;
	}
	return *slot;
}

/* A group's online count may have changed: tell it if it did. */
static void group_news(struct fleet *f, struct fleet_group *g, int64_t now_ms)
{
	if (g->online == g->told_online)
		return;
	g->told_online = g->online;
	head(f, "group", now_ms, NULL);
	event_str(&f->line, "group", g->name);
	event_int(&f->line, "devices", g->devices);
	event_int(&f->line, "online", g->online);
	emit(f);
}

static void group_count(struct fleet *f, struct fleet_dev *fd, int dev, int online, int64_t now_ms)
{
	if (!fd->group)
		return;
	struct fleet_group *g = group(f, fd->group);
	g->devices += dev;
	g->online += online;
	group_news(f, g, now_ms);
}

static void set_group(struct fleet *f, struct fleet_dev *fd, const char *name, size_t len, int64_t now_ms)
{
	if (fd->group && strlen(fd->group) == len && memcmp(fd->group, name, len) == 0)
		return;
	group_count(f, fd, -1, -(fd->state == 1), now_ms);
	free(fd->group);
	fd->group = xstrndup(name, len);
	group_count(f, fd, 1, fd->state == 1, now_ms);
}

/* ---- online and offline ---- */

static void tell_state(struct fleet *f, struct fleet_dev *fd, int state, const char *reason, int64_t now_ms)
{
	int was = fd->state;
	fd->state = (int8_t)state;
	head(f, state ? "online" : "offline", now_ms, fd);
	event_str(&f->line, "reason", reason);
	if (fd->retained)
		event_bool(&f->line, "retained", true);
	emit(f);
	if (fd->group && (was == 1) != (state == 1))
		group_count(f, fd, 0, state == 1 ? 1 : -1, now_ms);
}

/* The device is now online (1) or offline (0), for reason. */
static void change(struct fleet *f, struct fleet_dev *fd, int state, const char *reason, int64_t now_ms)
{
	if (fd->flapping) {
		/* held back; each change restarts the wait for steadiness */
		if (state != fd->held)
			fd->last_change_ms = now_ms;
		fd->held = (int8_t)state;
		return;
	}
	if (state == fd->state)
		return;
	if (fd->state < 0) {
		/* the first the program knows is no change */
		tell_state(f, fd, state, reason, now_ms);
		return;
	}
	/* a change in a new window starts counting again */
	if (now_ms - fd->flap_window_ms > FLEET_FLAP_WINDOW_MS) {
		fd->flap_window_ms = now_ms;
		fd->flaps = 0;
	}
	fd->last_change_ms = now_ms;
	if (++fd->flaps > FLEET_FLAP_CHANGES) {
		fd->flapping = true;
		fd->held = (int8_t)state;
		head(f, "flapping", now_ms, fd);
		event_int(&f->line, "changes", fd->flaps);
		event_int(&f->line, "window_s", FLEET_FLAP_WINDOW_MS / 1000);
		emit(f);
		return;
	}
	tell_state(f, fd, state, reason, now_ms);
}

/* ---- metrics ---- */

static uint32_t name_index(struct fleet *f, const char *name, size_t len)
{
	void **slot = strmap_put(&f->names, name, len);
	if (!*slot) {
		f->name_list = xrealloc(f->name_list, (f->nnames + 1) * sizeof *f->name_list);
		f->name_list[f->nnames] = xstrndup(name, len);
		*slot = (void *)(uintptr_t)++f->nnames;
	}
	return (uint32_t)(uintptr_t)*slot - 1;
}

const char *fleet_metric_name(const struct fleet *f, const struct fleet_metric *m)
{
	return f->name_list[m->name];
}

static struct fleet_metric *metric(struct fleet *f, struct fleet_dev *fd, const char *name, size_t len)
{
	uint32_t idx = name_index(f, name, len);
	for (uint16_t i = 0; i < fd->nmetrics; i++)
		if (fd->metrics[i].name == idx)
			return &fd->metrics[i];
	if (fd->nmetrics == UINT16_MAX)
		return NULL;
	if (fd->nmetrics == fd->metrics_room) {
		fd->metrics_room = fd->nmetrics + 1;
		fd->metrics = xrealloc(fd->metrics, fd->metrics_room * sizeof *fd->metrics);
	}
	struct fleet_metric *m = &fd->metrics[fd->nmetrics++];
	memset(m, 0, sizeof *m);
	m->name = idx;
	return m;
}

/* --zscore: judge the value against the moving mean, then take it in.
 * The mean and variance are exponentially weighted with a span of
 * --window values (after a plain average while the first ones come), so
 * a device's memory does not grow with the window. */
static void anomaly(struct fleet *f, struct fleet_dev *fd, struct fleet_metric *m, double v, int64_t now_ms)
{
	long window = f->o->window > 0 ? f->o->window : 60;
	long need = window / 2 > 3 ? window / 2 : 3;
	double sd = sqrt(m->var);
	/* rounding leaves a constant series a variance of about 1e-16 of
	 * its square: that is no deviation to judge by */
	if (m->n >= (uint32_t)need && sd > 1e-9 * fabs(m->mean) && fabs(v - m->mean) > f->o->zscore * sd) {
		head(f, "anomaly", now_ms, fd);
		event_str(&f->line, "metric", fleet_metric_name(f, m));
		event_double(&f->line, "value", v);
		event_double(&f->line, "mean", m->mean);
		event_double(&f->line, "deviation", sd);
		event_double(&f->line, "z", (v - m->mean) / sd);
		emit(f);
	}
	double alpha = m->n < (uint32_t)window ? 1.0 / (m->n + 1) : 2.0 / (window + 1);
	double delta = v - m->mean;
	m->mean += alpha * delta;
	m->var = (1 - alpha) * (m->var + alpha * delta * delta);
	m->n++;
}

static void tell_alert(struct fleet *f, struct fleet_dev *fd, const struct alert_rule *r, const char *what, double v,
                       int64_t now_ms)
{
	head(f, what, now_ms, fd);
	event_str(&f->line, "rule", r->text);
	event_str(&f->line, "metric", r->field);
	event_double(&f->line, "value", v);
	event_double(&f->line, "threshold", r->threshold);
	emit(f);
}

static void alerts(struct fleet *f, struct fleet_dev *fd, const char *name, size_t len, double v, int64_t now_ms)
{
	for (size_t i = 0; i < f->o->nalerts; i++) {
		const struct alert_rule *r = &f->o->alerts[i];
		if (strlen(r->field) != len || memcmp(r->field, name, len) != 0)
			continue;
		enum alert_news news = alert_update(r, &fd->alerts[i], v, now_ms, f->o->hysteresis);
		if (news != ALERT_NONE)
			tell_alert(f, fd, r, news == ALERT_FIRED ? "alert" : "recovered", v, now_ms);
	}
}

/* "for DURATION" has passed with no new value since the one that went
 * past. */
static void alerts_due(struct fleet *f, struct fleet_dev *fd, int64_t now_ms)
{
	for (size_t i = 0; i < f->o->nalerts; i++)
		if (alert_due(&f->o->alerts[i], &fd->alerts[i], now_ms))
			tell_alert(f, fd, &f->o->alerts[i], "alert", fd->alerts[i].value, now_ms);
}

static void take_metrics(struct fleet *f, struct fleet_dev *fd, const struct meaning *m, int64_t now_ms)
{
	if (!fd->metrics && m->nmetrics) {
		/* room for the first message's metrics at once: a device sends
		 * the same ones again, and one block is smaller than one grown */
		fd->metrics_room = m->nmetrics < UINT16_MAX ? (uint16_t)m->nmetrics : UINT16_MAX;
		fd->metrics = xmalloc(fd->metrics_room * sizeof *fd->metrics);
	}
	for (size_t i = 0; i < m->nmetrics; i++) {
		const struct meaning_metric *mm = &m->metrics[i];
		if (!isfinite(mm->value))
			continue;
		struct fleet_metric *st = metric(f, fd, mm->name, mm->name_len);
		if (!st)
			continue;
		st->last = mm->value;
		if (f->o->nalerts)
			alerts(f, fd, mm->name, mm->name_len, mm->value, now_ms);
		if (f->o->zscore > 0)
			anomaly(f, fd, st, mm->value, now_ms);
	}
}

/* ---- states ---- */

static void take_state(struct fleet *f, struct fleet_dev *fd, const struct meaning *m, int64_t now_ms)
{
	uint16_t i;
	for (i = 0; i < fd->nstates; i++)
		if (strlen(fd->state_keys[i]) == m->key_len && memcmp(fd->state_keys[i], m->key, m->key_len) == 0)
			break;
	if (i == fd->nstates) {
		/* the first value known is not a change */
		fd->state_keys = xrealloc(fd->state_keys, (size_t)(fd->nstates + 1) * sizeof *fd->state_keys);
		fd->state_values = xrealloc(fd->state_values, (size_t)(fd->nstates + 1) * sizeof *fd->state_values);
		fd->state_keys[i] = xstrndup(m->key, m->key_len);
		fd->state_values[i] = xstrndup(m->value, m->value_len);
		fd->nstates++;
		return;
	}
	char *old = fd->state_values[i];
	if (strlen(old) == m->value_len && memcmp(old, m->value, m->value_len) == 0)
		return;
	head(f, "state", now_ms, fd);
	event_strn(&f->line, "key", m->key, m->key_len);
	event_raw(&f->line, "value", m->value, m->value_len);
	event_raw(&f->line, "previous", old, strlen(old));
	emit(f);
	free(old);
	fd->state_values[i] = xstrndup(m->value, m->value_len);
}

/* ---- messages ---- */

static void free_dev(void *ext)
{
	struct fleet_dev *fd = ext;
	for (uint16_t i = 0; i < fd->nstates; i++) {
		free(fd->state_keys[i]);
		free(fd->state_values[i]);
	}
	free(fd->state_keys);
	free(fd->state_values);
	free(fd->metrics);
	free(fd->group);
	free(fd);
}

static struct fleet_dev *dev_of(struct fleet *f, struct device *d)
{
	if (d->ext)
		return d->ext;
	struct fleet_dev *fd = xcalloc(1, sizeof *fd + f->o->nalerts * sizeof fd->alerts[0]);
	fd->d = d;
	fd->state = -1;
	d->ext = fd;
	f->ndevices++;
	return fd;
}

/* An offline status older than the last online one: a will the broker
 * kept from an earlier connection. */
static bool stale_will(const struct fleet *f, const struct meaning *m)
{
	if (!m->has_status || m->online != 0 || !m->body_ts)
		return false;
	struct device *d = devtable_find((struct devtable *)&f->devices, m->device, m->device_len);
	const struct fleet_dev *fd = d ? d->ext : NULL;
	return fd && fd->online_body_ms && m->body_ts < fd->online_body_ms;
}

static bool plain_text(const struct envelope *e)
{
	size_t i = 0;
	while (i < e->payload_len && (e->payload[i] == ' ' || e->payload[i] == '\t' || e->payload[i] == '\n'))
		i++;
	return i == e->payload_len || e->payload[i] != '{';
}

void fleet_message(struct fleet *f, const struct envelope *e, int64_t now_ms)
{
	struct meaning m = *meaning_read(&f->meaning, f->o->rules, e);
	if (!m.device)
		return;
	bool stale = stale_will(f, &m);
	if (stale) {
		mqmon_debug("%.*s: an offline status older than the last online one (a stale will): ignored",
		            (int)e->topic_len, e->topic);
		m.has_status = false;
	}
	int64_t ts = e->has_ts ? e->ts_ms : now_ms;
	struct fleet_dev *fd = dev_of(f, devtable_note(&f->devices, &m, e, ts));
	if (e->payload_len > 0 || !fd->heard_ms)
		fd->heard_ms = now_ms;
	fd->silence = silence_rule(f, e->topic, e->topic_len, fd->silence);
	if (m.extra && f->o->group_field)
		set_group(f, fd, m.extra, m.extra_len, now_ms);
	bool was_known = fd->state >= 0;
	if (m.has_status && m.online >= 0) {
		if (m.online)
			fd->online_body_ms = m.body_ts ? m.body_ts : ts;
		fd->retained = e->retain > 0;
		const char *reason = fd->retained || !was_known   ? "start"
		                     : !m.online && plain_text(e) ? "will"
		                                                  : "status";
		change(f, fd, m.online, reason, now_ms);
	} else if (!stale && fd->state != 1 && (e->payload_len > 0 || !was_known)) {
		/* any message says it is there, the first one or after a
		 * silence; but an empty body is someone clearing a retained
		 * message, not the device speaking */
		fd->retained = false;
		change(f, fd, 1, was_known ? "silence" : "start", now_ms);
	}
	if (m.kind == RULE_TELEMETRY)
		take_metrics(f, fd, &m, now_ms);
	else if (m.kind == RULE_STATE && m.value)
		take_state(f, fd, &m, now_ms);
}

/* ---- time ---- */

struct tick {
	struct fleet *f;
	int64_t now;
};

static void tick_one(void *ctx, struct device *d)
{
	struct tick *t = ctx;
	struct fleet_dev *fd = d->ext;
	if (!fd)
		return;
	/* deaf or offline, the last value may no longer be true */
	if (t->f->o->nalerts && !t->f->stale && fd->state != 0)
		alerts_due(t->f, fd, t->now);
	if (fd->flapping && t->now - fd->last_change_ms >= FLEET_FLAP_WINDOW_MS) {
		/* steady for a while: say where it ended up */
		fd->flapping = false;
		fd->flaps = 0;
		fd->flap_window_ms = t->now;
		if (fd->held != fd->state && fd->held >= 0)
			tell_state(t->f, fd, fd->held, "status", t->now);
	}
	if (!t->f->stale && fd->silence && fd->state != 0 && t->now - fd->heard_ms > fd->silence->ms) {
		fd->retained = false;
		change(t->f, fd, 0, "silence", t->now);
	}
}

void fleet_tick(struct fleet *f, int64_t now_ms)
{
	struct tick t = {f, now_ms};
	devtable_each(&f->devices, tick_one, &t);
}

static void refresh(void *ctx, struct device *d)
{
	struct fleet_dev *fd = d->ext;
	if (fd)
		fd->heard_ms = *(int64_t *)ctx;
}

void fleet_upstream(struct fleet *f, bool up, const char *reason, int64_t now_ms)
{
	if (!up) {
		if (f->stale)
			return;
		f->stale = true;
		head(f, "stale", now_ms, NULL);
		if (reason)
			event_str(&f->line, "reason", reason);
		event_int(&f->line, "devices", f->ndevices);
		emit(f);
		return;
	}
	if (!f->stale)
		return;
	/* fresh timers: the devices were not silent, we were deaf */
	f->stale = false;
	devtable_each(&f->devices, refresh, &now_ms);
}

/* ---- setup ---- */

struct each {
	void (*fn)(void *ctx, struct fleet_dev *d);
	void *ctx;
};

static void each_one(void *ctx, struct device *d)
{
	struct each *e = ctx;
	if (d->ext)
		e->fn(e->ctx, d->ext);
}

void fleet_each(struct fleet *f, void (*fn)(void *ctx, struct fleet_dev *d), void *ctx)
{
	struct each e = {fn, ctx};
	devtable_each(&f->devices, each_one, &e);
}

void fleet_init(struct fleet *f, const struct fleet_opts *o, const struct fleet_handlers *h)
{
	memset(f, 0, sizeof *f);
	f->o = o;
	if (h)
		f->h = *h;
	devtable_init(&f->devices);
	f->devices.free_ext = free_dev;
	meaning_reader_init(&f->meaning);
	f->meaning.extra_field = o->group_field;
}

static void free_group(void *ctx, const char *key, size_t len, void *value)
{
	struct fleet_group *g = value;
	(void)ctx;
	(void)key;
	(void)len;
	free(g->name);
	free(g);
}

void fleet_free(struct fleet *f)
{
	devtable_free(&f->devices);
	meaning_reader_free(&f->meaning);
	strmap_free(&f->names);
	for (size_t i = 0; i < f->nnames; i++)
		free(f->name_list[i]);
	free(f->name_list);
	strmap_drain(&f->groups, free_group, NULL);
	strmap_free(&f->groups);
	buf_free(&f->line);
}
