/*
 * statusout.h — what mqmon-status prints about a whole fleet, from the
 * live view or from an mqmon-store database alike: the fleet table (or
 * NDJSON), the monitoring-plugins check, and the Prometheus textfile.
 * Each device is one struct status_row; metrics come with it.
 */
#ifndef MQMON_STATUSOUT_H
#define MQMON_STATUSOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "out.h"
#include "rowfmt.h"

struct status_metric {
	const char *name;
	double value;
};

struct status_row {
	const char *device;
	size_t device_len; /* 0: strlen(device); more when the name holds a NUL */
	int online; /* 1, 0, -1 unknown */
	const char *status; /* the status word, or NULL */
	int64_t last_seen_ms; /* wall clock; 0 unknown */
	const char *ip, *firmware, *group;
	long messages; /* -1 unknown */
	double msg_per_min; /* < 0 unknown */
	const char *spark; /* a sparkline of --metric, or NULL */
	const struct status_metric *metrics; /* last values */
	size_t nmetrics;
};

/* How the rows are judged: offline as told, or silent too long. */
struct status_judge {
	int64_t now_ms;
	int64_t max_silence_ms; /* 0: silence does not make a device offline */
};

/* Is the row offline under j? */
bool status_offline(const struct status_row *r, const struct status_judge *j);

/* ---- the fleet table ---- */

struct status_table {
	struct rowfmt f;
	struct buf scratch;
	bool offline_only;
	struct status_judge judge;
	bool with_group;
};
void status_table_init(struct status_table *t, enum rowfmt_kind kind, struct out *out, bool offline_only,
                       const struct status_judge *j, bool with_group);
/* false once the output is closed */
bool status_table_row(struct status_table *t, const struct status_row *r);
bool status_table_finish(struct status_table *t);
void status_table_free(struct status_table *t);

/* ---- groups (--group) ---- */

struct status_groups;
struct status_groups *status_groups_new(void);
void status_groups_add(struct status_groups *g, const struct status_row *r, const struct status_judge *j);
/* One NDJSON line (or table row) per group: group, devices, online and
 * the mean of each metric. */
bool status_groups_print(struct status_groups *g, enum rowfmt_kind kind, struct out *out);
void status_groups_free(struct status_groups *g);

/* ---- --check ---- */

/* --warn-offline / --crit-offline: a count, or a percentage of the
 * devices ("10%"); they fire when more are offline. */
struct status_threshold {
	bool set, percent;
	double value;
};
bool status_threshold_parse(struct status_threshold *t, const char *s);

struct status_check {
	struct status_judge judge;
	struct status_threshold warn, crit;
	long devices, offline;
	int64_t longest_silence_ms;
	struct buf offline_lines; /* "DEVICE …\n", the first CHECK_LIST */
};
#define STATUS_CHECK_LIST 20
void status_check_init(struct status_check *c, const struct status_judge *j, const struct status_threshold *warn,
                       const struct status_threshold *crit);
void status_check_add(struct status_check *c, const struct status_row *r);
/* Print the plugin output; returns the Nagios status (0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN). */
int status_check_print(struct status_check *c, struct out *out);
void status_check_free(struct status_check *c);
/* Print "MQMON UNKNOWN - why" (or CRITICAL) and return its status. */
int status_check_fail(struct out *out, int status, const char *why);

/* ---- --prom ---- */

struct status_prom {
	struct buf text[4]; /* one per metric family, joined at the end */
	struct buf groups;
	struct status_judge judge; /* online as --check counts it */
};
void status_prom_init(struct status_prom *p, const struct status_judge *j);
void status_prom_add(struct status_prom *p, const struct status_row *r);
/* Write everything to path atomically (a temporary file, renamed);
 * false with errno on failure. */
bool status_prom_write(struct status_prom *p, const char *path, struct status_groups *g);
void status_prom_free(struct status_prom *p);

/* A unicode sparkline of values (oldest first) into out. */
void status_sparkline(struct buf *out, const double *v, size_t n);

#endif
