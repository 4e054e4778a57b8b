/*
 * alert.c — alert expressions and their state machine.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "mqmon.h"
#include "timeutil.h"

static const struct {
	const char *text;
	enum alert_op op;
} ops[] = {
        /* two-character operators first */
        {">=", ALERT_GE}, {"<=", ALERT_LE}, {"==", ALERT_EQ}, {"!=", ALERT_NE}, {">", ALERT_GT}, {"<", ALERT_LT},
};

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool alert_parse(struct alert_rule *r, const char *expr, const char **why)
{
	memset(r, 0, sizeof *r);
	const char *p = skip_blanks(expr), *start = p;
	while (*p && !strchr("<>=! \t", *p))
		p++;
	if (p == start) {
		*why = "an alert is FIELD OP NUMBER [for DURATION], such as 'temperature > 30 for 5m'";
		return false;
	}
	size_t flen = (size_t)(p - start);
	p = skip_blanks(p);
	size_t i;
	for (i = 0; i < MQMON_ARRAY_LEN(ops); i++)
		if (strncmp(p, ops[i].text, strlen(ops[i].text)) == 0)
			break;
	if (i == MQMON_ARRAY_LEN(ops)) {
		*why = "the operator is one of > >= < <= == !=";
		return false;
	}
	p = skip_blanks(p + strlen(ops[i].text));
	char *end;
	double v = strtod(p, &end);
	if (end == p || !isfinite(v)) {
		*why = "the threshold is a number";
		return false;
	}
	p = skip_blanks(end);
	int64_t for_ms = 0;
	if (*p) {
		const char *span;
		if (strncmp(p, "for", 3) != 0 || (p[3] != ' ' && p[3] != '\t')) {
			*why = "after the threshold comes nothing or 'for DURATION' (such as 'for 5m')";
			return false;
		}
		span = skip_blanks(p + 3);
		char *copy = xstrdup(span);
		for (char *e = copy + strlen(copy); e > copy && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		bool ok = time_parse_span(copy, &for_ms, why);
		free(copy);
		if (!ok) {
			*why = "the duration is a span such as 90s, 5m or 1h";
			return false;
		}
	}
	r->field = xstrndup(start, flen);
	r->op = ops[i].op;
	r->threshold = v;
	r->for_ms = for_ms;
	r->text = xstrdup(skip_blanks(expr));
	for (char *e = r->text + strlen(r->text); e > r->text && isspace((unsigned char)e[-1]); e--)
		e[-1] = '\0';
	return true;
}

void alert_rule_free(struct alert_rule *r)
{
	free(r->field);
	free(r->text);
	memset(r, 0, sizeof *r);
}

bool alert_crossed(const struct alert_rule *r, double v)
{
	switch (r->op) {
	case ALERT_GT: return v > r->threshold;
	case ALERT_GE: return v >= r->threshold;
	case ALERT_LT: return v < r->threshold;
	case ALERT_LE: return v <= r->threshold;
	case ALERT_EQ: return v == r->threshold;
	case ALERT_NE: return v != r->threshold;
	}
	return false;
}

bool alert_recovered(const struct alert_rule *r, double v, double h)
{
	switch (r->op) {
	case ALERT_GT:
	case ALERT_GE: return v < r->threshold - h || (h == 0 && !alert_crossed(r, v));
	case ALERT_LT:
	case ALERT_LE: return v > r->threshold + h || (h == 0 && !alert_crossed(r, v));
	case ALERT_EQ: return fabs(v - r->threshold) > h;
	case ALERT_NE: return fabs(v - r->threshold) <= h && (h > 0 || v == r->threshold);
	}
	return false;
}

enum alert_news alert_update(const struct alert_rule *r, struct alert_state *s, double value, int64_t now_ms,
                             double hysteresis)
{
	if (s->firing) {
		if (!alert_recovered(r, value, hysteresis))
			return ALERT_NONE;
		s->firing = false;
		s->past_since = 0;
		return ALERT_RECOVERED;
	}
	/* past, and not so near that it would recover at once ("!=" with a
	 * hysteresis: within H of the threshold is back) */
	if (!alert_crossed(r, value) || alert_recovered(r, value, hysteresis)) {
		s->past_since = 0;
		return ALERT_NONE;
	}
	if (!s->past_since)
		s->past_since = now_ms ? now_ms : 1;
	s->value = value;
	if (now_ms - s->past_since < r->for_ms)
		return ALERT_NONE;
	s->firing = true;
	return ALERT_FIRED;
}

bool alert_due(const struct alert_rule *r, struct alert_state *s, int64_t now_ms)
{
	if (s->firing || !s->past_since || now_ms - s->past_since < r->for_ms)
		return false;
	s->firing = true;
	return true;
}
