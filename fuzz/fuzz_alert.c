/*
 * fuzz_alert.c — alert expressions (alert_parse) and the alert state
 * machine (alert_update, alert_due).  The input is an expression, then
 * after a NUL byte a script of values and clock steps.  An expression
 * that parses must parse the same again from the text it keeps; the
 * state machine must say each thing once: "fired" only while quiet and
 * for a value past the threshold that is no recovery, "recovered" only
 * while firing, and nothing more while a value stays.
 */
#include "config.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "alert.h"
#include "mqmon.h"

#include "fuzz.h"

static void run_script(const struct alert_rule *r, const uint8_t *p, size_t n)
{
	struct alert_state s = {0};
	/* a clock from a realistic start; each step at most about 18 hours */
	int64_t now = 1738060215123LL;
	double hysteresis = n ? (p[0] % 5) * 0.5 : 0;
	double last = 0;
	bool have_last = false;
	for (size_t i = 1; i + 3 <= n; i += 3) {
		now += (int64_t)(p[i] | p[i + 1] << 8) * 1000;
		/* values about the threshold, on both sides and on it */
		double v = p[i + 2] == 255 ? last : r->threshold + ((int)p[i + 2] - 128) * 0.25;
		bool was_firing = s.firing;
		if (p[i] & 1 && p[i + 2] == 0) {
			bool due = alert_due(r, &s, now);
			FUZZ_CHECK(!due || (!was_firing && s.firing && now - s.past_since >= r->for_ms));
			continue;
		}
		enum alert_news news = alert_update(r, &s, v, now, hysteresis);
		switch (news) {
		case ALERT_FIRED:
			FUZZ_CHECK(!was_firing && s.firing && alert_crossed(r, v));
			/* a value that would recover at once never fires (no flapping) */
			FUZZ_CHECK(!alert_recovered(r, v, hysteresis));
			FUZZ_CHECK(now - s.past_since >= r->for_ms);
			break;
		case ALERT_RECOVERED: FUZZ_CHECK(was_firing && !s.firing && alert_recovered(r, v, hysteresis)); break;
		case ALERT_NONE: FUZZ_CHECK(was_firing == s.firing); break;
		}
		/* the same value once more says nothing new */
		if (have_last && v == last && news != ALERT_NONE && r->for_ms == 0) {
			bool firing = s.firing;
			struct alert_state copy = s;
			FUZZ_CHECK(alert_update(r, &copy, v, now, hysteresis) == ALERT_NONE);
			FUZZ_CHECK(copy.firing == firing);
		}
		last = v;
		have_last = true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the expression is a C string, from argv or a config file */
	const uint8_t *nul = memchr(data, '\0', size);
	size_t elen = nul ? (size_t)(nul - data) : size;
	char *expr = xstrndup((const char *)data, elen);
	struct alert_rule r;
	const char *why = NULL;
	if (!alert_parse(&r, expr, &why)) {
		FUZZ_CHECK(why && *why);
		free(expr);
		return 0;
	}
	FUZZ_CHECK(r.field && *r.field && !strpbrk(r.field, "<>=! \t"));
	FUZZ_CHECK(isfinite(r.threshold) && r.for_ms >= 0);
	FUZZ_CHECK(r.text && strlen(r.text) <= elen);

	/* the text kept for events is the same rule */
	struct alert_rule again;
	FUZZ_CHECK(alert_parse(&again, r.text, &why));
	FUZZ_CHECK(strcmp(again.field, r.field) == 0 && again.op == r.op);
	FUZZ_CHECK(again.threshold == r.threshold && again.for_ms == r.for_ms);
	FUZZ_CHECK(strcmp(again.text, r.text) == 0);
	alert_rule_free(&again);

	if (nul)
		run_script(&r, nul + 1, size - elen - 1);
	alert_rule_free(&r);
	FUZZ_CHECK(r.field == NULL && r.text == NULL);
	free(expr);
	return 0;
}
