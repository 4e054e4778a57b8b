/*
 * fleet.h — a simulated AutoCore fleet (FLEETS.md): ESP32 controllers with
 * a retained status, periodic telemetry with drift and the odd spike, and
 * relays that change state.  Only the model lives here — which message
 * comes next and what it says; mqmon-pub --simulate connects the devices.
 */
#ifndef MQMON_FLEET_H
#define MQMON_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define FLEET_RELAYS 4

struct fleet_device {
	char id[24];
	double temperature, humidity, voltage;
	long memory_free;
	bool relay[FLEET_RELAYS];
	int64_t started_ms;
};

struct fleet {
	struct fleet_device *dev;
	unsigned n;
	char *prefix;
	uint64_t rng;
	unsigned next; /* round robin */
};

enum fleet_kind { FLEET_STATUS, FLEET_TELEMETRY, FLEET_RELAY };

void fleet_init(struct fleet *f, unsigned n, const char *prefix, uint64_t seed, int64_t now_ms);
void fleet_free(struct fleet *f);

/* Device i's status message (retained): online, or offline as its will
 * and its goodbye say.  topic and body are replaced. */
void fleet_status(struct fleet *f, unsigned i, bool online, int64_t now_ms, struct buf *topic, struct buf *body);

/* The next periodic message, round robin over the devices: mostly
 * telemetry, sometimes a relay change or a status heartbeat.  Returns the
 * device's index; sets *kind and *retain. */
unsigned fleet_next(struct fleet *f, int64_t now_ms, struct buf *topic, struct buf *body, enum fleet_kind *kind,
                    bool *retain);

#endif
