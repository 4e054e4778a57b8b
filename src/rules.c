/*
 * rules.c — topic rules: parsing, the defaults, classifying a topic.
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
	r->v[r->n++] = (struct rule){p, (enum rule_kind)kind, xstrdup(spec)};
	return true;
}

bool rules_valid(const char *spec, const char **why)
{
	struct rules r = {0};
	bool ok = rules_add(&r, spec, why);
	rules_free(&r);
	return ok;
}

void rules_add_defaults(struct rules *r)
{
	/* most specific first: the first match wins (see rules.h) */
	static const char *const defaults[] = {
	        "+/device/{device}/status=status",
	        "+/device/{device}/reading=telemetry",
	        "+/system/+=ignore",
	        "+/vehicle/#=ignore",
	        "+/discovery/#=ignore",
	        "org/+/device/{device}/telemetry=telemetry",
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
	for (size_t i = 0; i < r->n; i++) {
		topic_pattern_free(r->v[i].pattern);
		free(r->v[i].spec);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

bool rules_classify(const struct rules *r, const char *topic, size_t len, struct rule_match *m)
{
	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	memset(m, 0, sizeof *m);
	m->kind = RULE_IGNORE;
	for (size_t i = 0; i < r->n; i++) {
		int n = topic_pattern_match(r->v[i].pattern, topic, len, caps);
		if (n < 0)
			continue;
		m->rule = &r->v[i];
		m->kind = r->v[i].kind;
		const struct topic_capture *c = topic_capture_find(caps, n, "device");
		if (c) {
			m->device = c->value;
			m->device_len = c->len;
		}
		if ((c = topic_capture_find(caps, n, "key"))) {
			m->key = c->value;
			m->key_len = c->len;
		}
		return true;
	}
	return false;
}
