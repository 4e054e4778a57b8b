/*
 * alert.h — threshold alerts of mqmon-status (SPEC §3):
 *
 *   --alert 'FIELD OP NUMBER [for DURATION]'
 *   --alert 'sensors.temperature >= 40 for 5m'      --alert 'voltage<11.8'
 *
 * FIELD names a metric as the meaning layer names it (dotted paths into a
 * telemetry body); OP is > >= < <= == !=.  A device's alert fires once its
 * value has been past the threshold for DURATION (at once without "for"),
 * and recovers once the value is back past the threshold by more than the
 * hysteresis; nothing is said while it stays either way.  No I/O.
 */
#ifndef MQMON_ALERT_H
#define MQMON_ALERT_H

#include <stdbool.h>
#include <stdint.h>

enum alert_op { ALERT_GT, ALERT_GE, ALERT_LT, ALERT_LE, ALERT_EQ, ALERT_NE };

struct alert_rule {
	char *field;
	enum alert_op op;
	double threshold;
	int64_t for_ms; /* 0: at once */
	char *text; /* as written, for events */
};

/* Parse an expression; false with a message in why (static text). */
bool alert_parse(struct alert_rule *r, const char *expr, const char **why);
void alert_rule_free(struct alert_rule *r);

/* Is value past the threshold? */
bool alert_crossed(const struct alert_rule *r, double value);
/* Has value come back past the threshold by more than hysteresis? */
bool alert_recovered(const struct alert_rule *r, double value, double hysteresis);

/* One device's progress through one rule. */
struct alert_state {
	int64_t past_since; /* when the value went past; 0 = it is not */
	double value; /* the last value, for an alert that comes due later */
	bool firing;
};

enum alert_news { ALERT_NONE, ALERT_FIRED, ALERT_RECOVERED };

/* A new value at now_ms (wall clock): what, if anything, to say. */
enum alert_news alert_update(const struct alert_rule *r, struct alert_state *s, double value, int64_t now_ms,
                             double hysteresis);
/* No new value, but time has passed: a value past the threshold since
 * long enough fires now (a device that went quiet while hot is still
 * hot); s->value is the one to tell. */
bool alert_due(const struct alert_rule *r, struct alert_state *s, int64_t now_ms);

#endif
