/*
 * statusdb.h — the fleet as an mqmon-store database holds it, for
 * mqmon-status's snapshot, --check and --prom.  The database is opened
 * read-only, so it is safe while mqmon-store ingests into it.
 */
#ifndef MQMON_STATUSDB_H
#define MQMON_STATUSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "statusout.h"

struct statusdb_opts {
	const char *db;
	const char *metric; /* the sparkline's metric, or NULL */
	const char *group_field; /* --group, or NULL */
	bool want_metrics; /* last values of every metric (for --prom, --group) */
	int64_t now_ms;
};

#define STATUSDB_RATE_MS 600000 /* msg/min over the last 10 minutes */
#define STATUSDB_SPARK_MS 3600000 /* the sparkline's hour … */
#define STATUSDB_SPARK_SLOTS 12 /* … in slices of 5 minutes */
#define STATUSDB_METRICS_MS 3600000 /* the last values: of the last hour */

/* Call fn for every device, in the order of their names.  Returns false
 * after writing why into err (the database cannot be opened or read). */
bool statusdb_read(const struct statusdb_opts *o, void (*fn)(void *ctx, const struct status_row *r), void *ctx,
                   char *err, size_t errlen);

#endif
