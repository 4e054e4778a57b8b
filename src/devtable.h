/*
 * devtable.h — the devices a stream has shown, in memory: when each was
 * first and last seen, how many messages it sent, and what its status
 * messages said (online, status word, ip, firmware, the other fields).
 * mqmon-store gathers a batch's devices here and writes them once per
 * commit; mqmon-status keeps the table for its whole run.  Filled from
 * meanings (meaning.h), so both read a device the same way.  No SQL, no
 * I/O.
 */
#ifndef MQMON_DEVTABLE_H
#define MQMON_DEVTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "meaning.h"
#include "strmap.h"

/* A text a status said, allocated to its size (a fleet of 100,000 keeps
 * five of them per device); s is NULL until one is said. */
struct devtable_text {
	char *s;
	size_t len;
};

/* What a device's status messages said, merged as the database merges
 * it: a newer status replaces what it says and keeps what it does not
 * say.  Apart from the device, and only once a status came: most devices
 * of a large fleet send telemetry far more often than a status. */
struct device_status {
	int64_t ms; /* time of the last status applied */
	struct devtable_text status, ip, firmware, fields, topic;
};

struct device {
	const char *id; /* the table's key: NUL-terminated, owned by the table */
	uint32_t id_len;
	int8_t online; /* 1, 0, -1 unknown */
	bool status_changed; /* a status applied since the last devtable_flush() */
	bool dirty; /* anything since the last devtable_flush() */
	int64_t first_ms, last_ms; /* message times, wall clock */
	unsigned long messages; /* since the entry was made */
	struct device_status *st; /* NULL until a status came */
	void *ext; /* what a program keeps beside (mqmon-status); freed by the table's free_ext */
};

struct devtable {
	struct strmap map;
	void (*free_ext)(void *ext); /* set by the owner of ext */
};

void devtable_init(struct devtable *t);
void devtable_free(struct devtable *t);

/* A message of the device m names, at ts_ms (wall clock): counted, and its
 * status applied unless older than the one held.  Returns the device, or
 * NULL when the message names none. */
struct device *devtable_note(struct devtable *t, const struct meaning *m, const struct envelope *e, int64_t ts_ms);

/* The device called id, or NULL. */
struct device *devtable_find(struct devtable *t, const char *id, size_t len);

/* Call fn for every device changed since the last flush; with forget, the
 * table is emptied afterwards (memory stays that of one batch), else the
 * devices are kept and marked clean. */
void devtable_flush(struct devtable *t, bool forget, void (*fn)(void *ctx, struct device *d), void *ctx);

/* Call fn for every device, in no particular order. */
void devtable_each(struct devtable *t, void (*fn)(void *ctx, struct device *d), void *ctx);

#endif
