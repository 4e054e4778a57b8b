/*
 * simfleet.h — a simulated AutoCore fleet (FLEETS.md): ESP32 controllers with
 * a retained status, periodic telemetry with drift and the odd spike, and
 * relays that change state.  Only the model lives here — which message
 * comes next and what it says; mqmon-pub --simulate connects the devices.
 */
#ifndef MQMON_SIMFLEET_H
#define MQMON_SIMFLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "rng.h"

#define SIMFLEET_RELAYS 4

struct simfleet_device {
	char id[24];
	double temperature, humidity, voltage;
	long memory_free;
	bool relay[SIMFLEET_RELAYS];
	int64_t started_ms;
};

struct simfleet {
	struct simfleet_device *dev;
	unsigned n;
	char *prefix;
	struct rng rng;
	unsigned next; /* round robin */
};

enum simfleet_kind { SIMFLEET_STATUS, SIMFLEET_TELEMETRY, SIMFLEET_RELAY };

void simfleet_init(struct simfleet *f, unsigned n, const char *prefix, uint64_t seed, int64_t now_ms);
void simfleet_free(struct simfleet *f);

/* Device i's status message (retained): online, or offline as its will
 * and its goodbye say.  topic and body are replaced. */
void simfleet_status(struct simfleet *f, unsigned i, bool online, int64_t now_ms, struct buf *topic, struct buf *body);

/* The next periodic message, round robin over the devices: mostly
 * telemetry, sometimes a relay change or a status heartbeat.  Returns the
 * device's index; sets *kind and *retain. */
unsigned simfleet_next(struct simfleet *f, int64_t now_ms, struct buf *topic, struct buf *body,
                       enum simfleet_kind *kind, bool *retain);

#endif
