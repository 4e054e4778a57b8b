/*
 * rules.h — what a topic means: "PATTERN=KIND" with named captures, e.g.
 * "autocore/{device}/relay/{key}/status=state".  Kinds: status (the
 * device's online state and details), telemetry (numeric readings),
 * state (a value whose changes are kept, such as a relay), ignore (archive
 * only).  The first matching rule wins; user rules come before the
 * defaults, which make every fleet of FLEETS.md work out of the box, most
 * specific first (SPEC §3):
 *
 *   +/device/{device}/status=status          Battery Hawk, any prefix,
 *   +/device/{device}/reading=telemetry      MAC addresses as ids
 *   +/system/+=ignore                        … not devices
 *   +/vehicle/#=ignore
 *   +/discovery/#=ignore
 *   org/+/device/{device}/telemetry=telemetry   Petal
 *   +/{device}/status=status                 AutoCore
 *   +/{device}/telemetry=telemetry
 *   +/{device}/relay/{key}/status=state
 *
 * mqmon-store and mqmon-status read topics through this one table, so the
 * archive and the live view agree.  No SQL, no I/O.
 */
#ifndef MQMON_RULES_H
#define MQMON_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "topic.h"

enum rule_kind { RULE_STATUS, RULE_TELEMETRY, RULE_STATE, RULE_IGNORE };

struct rule {
	struct topic_pattern *pattern;
	enum rule_kind kind;
	char *spec; /* as written: "+/{device}/status=status" */
};

struct rules {
	struct rule *v;
	size_t n;
};

/* Is "PATTERN=KIND" a rule?  false with *why for a malformed one. */
bool rules_valid(const char *spec, const char **why);
/* Add "PATTERN=KIND"; false with *why for a malformed rule. */
bool rules_add(struct rules *r, const char *spec, const char **why);
void rules_add_defaults(struct rules *r);
void rules_free(struct rules *r);

/* A topic classified: the first matching rule, its kind and captures. */
struct rule_match {
	const struct rule *rule; /* NULL: no rule matched (archived, no meaning) */
	enum rule_kind kind; /* RULE_IGNORE when no rule matched */
	const char *device; /* the {device} capture, in the topic; NULL if none */
	size_t device_len;
	const char *key; /* the {key} capture, in the topic; NULL if none */
	size_t key_len;
};

/* Classify topic[0..len).  Returns true when a rule matched. */
bool rules_classify(const struct rules *r, const char *topic, size_t len, struct rule_match *m);

const char *rule_kind_name(enum rule_kind kind);

#endif
