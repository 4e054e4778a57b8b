/*
 * rules.h — what a topic means: "PATTERN=KIND" with named captures, e.g.
 * "autocore/{device}/relay/{key}/status=state".  Kinds: status (the
 * device's online state and details), telemetry (numeric readings),
 * state (a value whose changes are kept, such as a relay), ignore (archive
 * only).  The first matching rule wins; user rules come before the
 * defaults, which cover SPEC's +/{device}/status, +/{device}/telemetry and
 * +/{device}/relay/{key}/status.
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
};

struct rules {
	struct rule *v;
	size_t n;
};

/* Add "PATTERN=KIND"; false with *why for a malformed rule. */
bool rules_add(struct rules *r, const char *spec, const char **why);
void rules_add_defaults(struct rules *r);
void rules_free(struct rules *r);

/* The first rule matching topic, with its captures; NULL if none. */
const struct rule *rules_match(const struct rules *r, const char *topic, size_t len,
                               struct topic_capture caps[TOPIC_MAX_CAPTURES], int *ncaps);

const char *rule_kind_name(enum rule_kind kind);

#endif
