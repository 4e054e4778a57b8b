/*
 * simfleet.c — the simulated fleet's behaviour.  Values wander in small random
 * steps within plausible ranges, and about one telemetry message in fifty
 * carries a temperature spike, so alert and anomaly rules have something to
 * find.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simfleet.h"
#include "mqmon.h"
#include "rng.h"
#include "timeutil.h"

/* Move v by up to ±step, kept within [lo, hi]. */
static double wander(struct simfleet *f, double v, double step, double lo, double hi)
{
	v += (rng_uniform(&f->rng) * 2 - 1) * step;
	return v < lo ? lo : v > hi ? hi : v;
}

void simfleet_init(struct simfleet *f, unsigned n, const char *prefix, uint64_t seed, int64_t now_ms)
{
	memset(f, 0, sizeof *f);
	f->n = n;
	f->prefix = xstrdup(prefix);
	rng_seed(&f->rng, seed);
	f->dev = xcalloc(n, sizeof *f->dev);
	for (unsigned i = 0; i < n; i++) {
		struct simfleet_device *d = &f->dev[i];
		snprintf(d->id, sizeof d->id, "ESP32_%03u", i + 1);
		d->temperature = 22 + rng_uniform(&f->rng) * 6;
		d->humidity = 40 + rng_uniform(&f->rng) * 10;
		d->voltage = 3.25 + rng_uniform(&f->rng) * 0.08;
		d->memory_free = 42000 + (long)(rng_uniform(&f->rng) * 6000);
		d->started_ms = now_ms;
	}
}

void simfleet_free(struct simfleet *f)
{
	free(f->dev);
	free(f->prefix);
	memset(f, 0, sizeof *f);
}

static void stamp(struct buf *body, int64_t now_ms)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(now_ms, ts);
	buf_printf(body, ",\"timestamp\":\"%s\"}", ts);
}

void simfleet_status(struct simfleet *f, unsigned i, bool online, int64_t now_ms, struct buf *topic, struct buf *body)
{
	struct simfleet_device *d = &f->dev[i];
	buf_reset(topic);
	buf_reset(body);
	buf_printf(topic, "%s/%s/status", f->prefix, d->id);
	buf_printf(body,
	           "{\"device_id\":\"%s\",\"status\":\"%s\",\"ip_address\":\"192.168.%u.%u\","
	           "\"firmware_version\":\"1.2.0\",\"uptime\":%lld",
	           d->id, online ? "online" : "offline", 1 + i / 200, 100 + i % 200,
	           (long long)((now_ms - d->started_ms) / 1000));
	stamp(body, now_ms);
	buf_cstr(topic);
}

static void telemetry(struct simfleet *f, struct simfleet_device *d, int64_t now_ms, struct buf *body)
{
	d->temperature = wander(f, d->temperature, 0.15, 15, 35);
	d->humidity = wander(f, d->humidity, 0.4, 20, 80);
	d->voltage = wander(f, d->voltage, 0.005, 3.1, 3.4);
	d->memory_free = (long)wander(f, (double)d->memory_free, 300, 30000, 52000);
	double temperature = d->temperature;
	if (rng_uniform(&f->rng) < 0.02)
		temperature += 10 + rng_uniform(&f->rng) * 10; /* a spike */
	buf_printf(body,
	           "{\"device_id\":\"%s\",\"temperature\":%.1f,\"humidity\":%.1f,\"voltage\":%.2f,"
	           "\"memory_free\":%ld",
	           d->id, temperature, d->humidity, d->voltage, d->memory_free);
	stamp(body, now_ms);
}

static unsigned relay_change(struct simfleet *f, struct simfleet_device *d, int64_t now_ms, struct buf *body)
{
	static const char *const causes[] = {"manual", "schedule", "automation"};
	unsigned r = (unsigned)(rng_uniform(&f->rng) * SIMFLEET_RELAYS) % SIMFLEET_RELAYS;
	d->relay[r] = !d->relay[r];
	buf_printf(body, "{\"device_id\":\"%s\",\"relay_index\":%u,\"state\":%s,\"triggered_by\":\"%s\"", d->id, r,
	           d->relay[r] ? "true" : "false", causes[(unsigned)(rng_uniform(&f->rng) * 3) % 3]);
	stamp(body, now_ms);
	return r;
}

unsigned simfleet_next(struct simfleet *f, int64_t now_ms, struct buf *topic, struct buf *body,
                       enum simfleet_kind *kind, bool *retain)
{
	unsigned i = f->next;
	f->next = (f->next + 1) % f->n;
	struct simfleet_device *d = &f->dev[i];
	double pick = rng_uniform(&f->rng);
	if (pick < 0.05) {
		simfleet_status(f, i, true, now_ms, topic, body);
		*kind = SIMFLEET_STATUS;
		*retain = true;
		return i;
	}
	buf_reset(topic);
	buf_reset(body);
	*retain = false;
	if (pick < 0.15) {
		unsigned r = relay_change(f, d, now_ms, body);
		buf_printf(topic, "%s/%s/relay/%u/status", f->prefix, d->id, r);
		*kind = SIMFLEET_RELAY;
	} else {
		telemetry(f, d, now_ms, body);
		buf_printf(topic, "%s/%s/telemetry", f->prefix, d->id);
		*kind = SIMFLEET_TELEMETRY;
	}
	buf_cstr(topic);
	return i;
}
