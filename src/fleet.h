/*
 * fleet.h — mqmon-status's live view of a fleet: every device the
 * messages name, whether it is online, and what is news (SPEC §3).
 *
 * Messages are read through the meaning layer (meaning.h) and kept in the
 * device table (devtable.h), as mqmon-store reads and keeps them.  News
 * goes out as event lines:
 *
 *   online/offline  {"device","reason"} from a status body (status), a
 *                   plain-text last will (will), silence longer than
 *                   --offline-after (silence), or the first the program
 *                   knows of the device (start); "retained":true for a
 *                   retained status (last-known state, not news)
 *   stale           the upstream connection went away: silence is not
 *                   counted until it is back (one event, not one offline
 *                   per device)
 *   alert/recovered a --alert rule crossed, or came back
 *   anomaly         a value more than --zscore deviations from the
 *                   device's moving mean of that metric
 *   state           a state (a relay) changed: value and previous
 *   group           a --group's online count changed
 *   flapping        more than 10 changes in a minute: the changes are
 *                   held back until the device is steady for a minute
 *
 * No I/O: the caller feeds messages and time, and prints the lines.
 */
#ifndef MQMON_FLEET_H
#define MQMON_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "devtable.h"
#include "envelope.h"
#include "rules.h"
#include "strmap.h"

#define FLEET_FLAP_CHANGES 10 /* more than this many … */
#define FLEET_FLAP_WINDOW_MS 60000 /* … in this long is flapping, and steady is this long */

/* --offline-after [FILTER=]S */
struct fleet_silence {
	char *filter; /* NULL: every device */
	int64_t ms;
	int specificity; /* literal levels; -1 for no filter */
};

struct fleet_opts {
	const struct rules *rules;
	const struct fleet_silence *silence;
	size_t nsilence;
	const struct alert_rule *alerts;
	size_t nalerts;
	double hysteresis;
	double zscore; /* 0 = off */
	long window; /* values in the moving mean (60) */
	const char *group_field; /* NULL = no groups */
};

/* A metric of a device: its last value and moving statistics. */
struct fleet_metric {
	uint32_t name; /* index into the fleet's names */
	uint32_t n; /* values seen */
	double last, mean, var;
};

struct fleet_dev {
	struct device *d; /* the device table's entry: id, counts, status details */
	int64_t heard_ms; /* when the last message came (wall clock of this program) */
	int64_t online_body_ms; /* the body time of the last online status */
	int64_t flap_window_ms, last_change_ms;
	const struct fleet_silence *silence; /* the most specific rule its topics match */
	struct fleet_metric *metrics;
	char **state_keys, **state_values;
	char *group;
	uint16_t nmetrics, metrics_room, nstates;
	uint8_t flaps;
	int8_t state; /* as told: -1 unknown, 0 offline, 1 online */
	int8_t held; /* while flapping: the latest state, not told yet */
	bool flapping;
	bool retained; /* the state came from a retained status */
	struct alert_state alerts[]; /* one per --alert, in the same allocation */
};

struct fleet_group {
	char *name;
	long devices, online;
	long told_online; /* in the last group event */
};

struct fleet_handlers {
	void *ctx;
	void (*on_event)(void *ctx, const char *line, size_t len);
};

struct fleet {
	const struct fleet_opts *o;
	struct fleet_handlers h;
	struct devtable devices;
	struct meaning_reader meaning;
	struct strmap names; /* metric name -> index + 1 */
	char **name_list;
	size_t nnames;
	struct strmap groups; /* name -> struct fleet_group */
	struct buf line;
	bool stale; /* upstream gone: silence not counted */
	long ndevices;
};

void fleet_init(struct fleet *f, const struct fleet_opts *o, const struct fleet_handlers *h);
void fleet_free(struct fleet *f);

/* One message, received at now_ms (wall clock). */
void fleet_message(struct fleet *f, const struct envelope *e, int64_t now_ms);
/* The upstream connection went away (up false, with a reason) or came
 * back. */
void fleet_upstream(struct fleet *f, bool up, const char *reason, int64_t now_ms);
/* Time has passed: silence and the end of flapping. */
void fleet_tick(struct fleet *f, int64_t now_ms);

/* Every device, in no particular order. */
void fleet_each(struct fleet *f, void (*fn)(void *ctx, struct fleet_dev *d), void *ctx);
const char *fleet_metric_name(const struct fleet *f, const struct fleet_metric *m);

/* Parse "[FILTER=]S"; false with *why. */
bool fleet_silence_parse(struct fleet_silence *s, const char *spec, const char **why);
void fleet_silence_free(struct fleet_silence *s);

#endif
