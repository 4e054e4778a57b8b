/*
 * rules.c — topic rules.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mqmon.h"
#include "rules.h"

static const char *const kind_names[] = {"status", "telemetry", "state", "ignore"};

const char *rule_kind_name(enum rule_kind kind)
{
	return kind_names[kind];
}

bool rules_add(struct rules *r, const char *spec, const char **why)
{
	/* the kind follows the last '=': topics may hold '=' themselves */
	const char *eq = strrchr(spec, '=');
	if (!eq || eq == spec) {
		*why = "a rule is PATTERN=KIND, such as 'autocore/{device}/telemetry=telemetry'";
		return false;
	}
	int kind = -1;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(kind_names); i++)
		if (strcmp(eq + 1, kind_names[i]) == 0)
			kind = (int)i;
	if (kind < 0) {
		*why = "the kind is status, telemetry, state or ignore";
		return false;
	}
	char *pattern = xstrndup(spec, (size_t)(eq - spec));
	struct topic_pattern *p = topic_pattern_compile(pattern, why);
	free(pattern);
	if (!p)
		return false;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	r->v[r->n++] = (struct rule){p, (enum rule_kind)kind};
	return true;
}

void rules_add_defaults(struct rules *r)
{
	static const char *const defaults[] = {
	        "+/{device}/status=status",
	        "+/{device}/telemetry=telemetry",
	        "+/{device}/relay/{key}/status=state",
	};
	const char *why;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(defaults); i++)
		rules_add(r, defaults[i], &why);
}

void rules_free(struct rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		topic_pattern_free(r->v[i].pattern);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

const struct rule *rules_match(const struct rules *r, const char *topic, size_t len,
                               struct topic_capture caps[TOPIC_MAX_CAPTURES], int *ncaps)
{
	for (size_t i = 0; i < r->n; i++) {
		int n = topic_pattern_match(r->v[i].pattern, topic, len, caps);
		if (n >= 0) {
			*ncaps = n;
			return &r->v[i];
		}
	}
	*ncaps = 0;
	return NULL;
}
