/*
 * meaning.h — what one message says about a device, read from its topic
 * (the rules) and its body, the body scanned once:
 *
 *   status     online from "status":"online|offline", "connected" or
 *              "online" true|false, or a plain-text body ("offline", an
 *              LWT); the status word, ip_address/ip, firmware_version/
 *              firmware, and every other member kept as a JSON object;
 *              the body's "timestamp"
 *   telemetry  every numeric leaf, nested members with dotted names
 *              ("sensors.temperature"), array elements by index
 *              ("samples.0"), a bare number as "value"
 *   state      the "state" member, else "value", else the whole body
 *
 * The device is the rule's {device} capture, else the body's "device_id"
 * (not for ignore rules or topics no rule matches).  mqmon-store and
 * mqmon-status both read messages through this, so the archive and the
 * live view agree.  No SQL, no I/O.
 */
#ifndef MQMON_MEANING_H
#define MQMON_MEANING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "envelope.h"
#include "rules.h"
#include "strmap.h"

/* Deeper members of a telemetry body are not metrics. */
#define MEANING_METRIC_MAX_DEPTH 32

struct meaning_metric {
	const char *name; /* "sensors.temperature" */
	size_t name_len;
	double value;
};

/* Strings are bytes plus a length (NULL when absent), valid until the
 * reader's next call. */
struct meaning {
	const struct rule *rule; /* NULL: no rule matched */
	enum rule_kind kind; /* RULE_IGNORE when no rule matched */
	const char *device;
	size_t device_len;
	const char *key; /* state: the {key} capture, else the whole topic */
	size_t key_len;
	/* status */
	bool has_status; /* a status message with a body (empty: a retained status being cleared) */
	int online; /* 1, 0, or -1 when the body does not say */
	const char *status; /* the body's word, else "online"/"offline" when known */
	size_t status_len;
	const char *ip, *firmware;
	size_t ip_len, firmware_len;
	const char *fields; /* the other members as a JSON object */
	size_t fields_len;
	int64_t body_ts; /* "timestamp" (RFC 3339) as wall-clock ms; 0 if none */
	/* telemetry */
	const struct meaning_metric *metrics;
	size_t nmetrics;
	/* state: the value as JSON text */
	const char *value;
	size_t value_len;
	/* the top-level member the reader was asked for (mqmon-status
	 * --group): a string's text or a number's; NULL if none */
	const char *extra;
	size_t extra_len;
};

/* Reading keeps its text in buffers reused from message to message. */
struct meaning_reader {
	struct buf text; /* decoded strings */
	struct buf fields; /* the status fields object */
	struct buf path; /* the dotted name of the member being walked */
	struct buf names; /* metric names, one after the other */
	struct meaning_metric *metrics;
	size_t *name_offs; /* where each metric's name starts in names */
	size_t nmetrics, metrics_cap;
	struct meaning m;
	const char *extra_field; /* set by the caller, e.g. "vehicle_id"; NULL = none */
	/* each topic's classification under memo_rules (topics repeat) */
	struct strmap memo;
	const struct rules *memo_rules;
	const struct rule *memo_v;
	size_t memo_n;
};

void meaning_reader_init(struct meaning_reader *r);
void meaning_reader_free(struct meaning_reader *r);

/* What e means under rules.  Returns r->m, valid until the next call. */
const struct meaning *meaning_read(struct meaning_reader *r, const struct rules *rules, const struct envelope *e);

#endif
