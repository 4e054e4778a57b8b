/*
 * topic.c — topic names, filters and capture patterns.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mqmon.h"
#include "topic.h"
#include "utf8.h"

static bool why_fail(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return false;
}

bool topic_name_valid(const char *t, size_t n, const char **why)
{
	if (n == 0)
		return why_fail(why, "is empty");
	if (n > TOPIC_MAX_LEN)
		return why_fail(why, "is longer than 65535 bytes");
	if (memchr(t, '\0', n))
		return why_fail(why, "contains a NUL character");
	if (memchr(t, '+', n) || memchr(t, '#', n))
		return why_fail(why, "contains a wildcard ('+' or '#')");
	if (!utf8_valid(t, n))
		return why_fail(why, "is not valid UTF-8");
	return true;
}

/* Check the wildcard rules of one filter without a $share prefix. */
static bool filter_levels_valid(const char *f, size_t n, const char **why)
{
	size_t level_start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && f[i] != '/')
			continue;
		size_t len = i - level_start;
		const char *lv = f + level_start;
		bool has_plus = memchr(lv, '+', len) != NULL, has_hash = memchr(lv, '#', len) != NULL;
		if (has_plus && len != 1)
			return why_fail(why, "'+' must occupy a whole level (as in a/+/b)");
		if (has_hash && len != 1)
			return why_fail(why, "'#' must occupy a whole level (as in a/#)");
		if (has_hash && i != n)
			return why_fail(why, "'#' must be the last level");
		level_start = i + 1;
	}
	return true;
}

bool topic_filter_valid(const char *f, size_t n, const char **why)
{
	if (n == 0)
		return why_fail(why, "topic filter is empty");
	if (n > TOPIC_MAX_LEN)
		return why_fail(why, "topic filter is longer than 65535 bytes");
	if (memchr(f, '\0', n))
		return why_fail(why, "topic filter contains a NUL character");
	if (!utf8_valid(f, n))
		return why_fail(why, "topic filter is not valid UTF-8");
	if (n >= 7 && memcmp(f, "$share/", 7) == 0) {
		const char *group = f + 7;
		const char *slash = memchr(group, '/', n - 7);
		if (!slash || slash == group)
			return why_fail(why, "$share needs a group and a filter: $share/GROUP/FILTER");
		size_t glen = (size_t)(slash - group);
		if (memchr(group, '+', glen) || memchr(group, '#', glen))
			return why_fail(why, "a $share group name cannot contain a wildcard");
		size_t rest = n - 7 - glen - 1;
		if (rest == 0)
			return why_fail(why, "$share needs a filter after the group");
		return filter_levels_valid(slash + 1, rest, why);
	}
	return filter_levels_valid(f, n, why);
}

bool topic_matches(const char *filter, const char *topic, size_t tn)
{
	if (strncmp(filter, "$share/", 7) == 0) {
		const char *slash = strchr(filter + 7, '/');
		if (!slash)
			return false;
		filter = slash + 1;
	}
	/* MQTT 5 §4.7.2: wildcards at the first level skip "$" topics */
	if (tn > 0 && topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
		return false;
	const char *f = filter;
	size_t t = 0;
	for (;;) {
		if (f[0] == '#')
			return true;
		/* length of this topic level */
		size_t tl = 0;
		while (t + tl < tn && topic[t + tl] != '/')
			tl++;
		if (f[0] == '+' && (f[1] == '/' || f[1] == '\0')) {
			f++;
		} else {
			size_t fl = strcspn(f, "/");
			if (fl != tl || memcmp(f, topic + t, tl) != 0)
				return false;
			f += fl;
		}
		t += tl;
		bool topic_done = t >= tn;
		if (*f == '\0')
			return topic_done;
		/* filter has another level */
		f++;
		if (topic_done) {
			/* "a/#" matches "a": the '#' also covers the parent level */
			return f[0] == '#' && f[1] == '\0';
		}
		t++; /* skip the topic's '/' */
	}
}

enum level_kind { LV_LITERAL, LV_PLUS, LV_HASH, LV_CAPTURE };

struct pattern_level {
	enum level_kind kind;
	char *text; /* literal text or capture name */
	size_t len;
};

struct topic_pattern {
	char *filter; /* captures as '+': what matching starts with */
	struct pattern_level *levels;
	size_t nlevels;
};

void topic_pattern_free(struct topic_pattern *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nlevels; i++)
		free(p->levels[i].text);
	free(p->levels);
	free(p->filter);
	free(p);
}

struct topic_pattern *topic_pattern_compile(const char *pattern, const char **why)
{
	size_t n = strlen(pattern);
	if (n == 0) {
		why_fail(why, "pattern is empty");
		return NULL;
	}
	struct topic_pattern *p = xcalloc(1, sizeof *p);
	size_t count = 1;
	for (size_t i = 0; i < n; i++)
		count += pattern[i] == '/';
	p->levels = xcalloc(count, sizeof *p->levels);
	p->filter = xmalloc(n + 1);
	size_t flen = 0, ncap = 0;
	const char *lv = pattern;
	for (size_t k = 0; k < count; k++) {
		size_t len = strcspn(lv, "/");
		struct pattern_level *L = &p->levels[p->nlevels++];
		if (len >= 2 && lv[0] == '{' && lv[len - 1] == '}') {
			L->kind = LV_CAPTURE;
			L->text = xstrndup(lv + 1, len - 2);
			L->len = len - 2;
			if (L->len == 0 || strpbrk(L->text, "{}+#")) {
				why_fail(why, "a capture is written {name}");
				goto bad;
			}
			if (++ncap > TOPIC_MAX_CAPTURES) {
				why_fail(why, "too many captures in one pattern");
				goto bad;
			}
			p->filter[flen++] = '+';
		} else {
			if (memchr(lv, '{', len) || memchr(lv, '}', len)) {
				why_fail(why, "a capture must be a whole level, as in a/{device}/b");
				goto bad;
			}
			L->kind = len == 1 && lv[0] == '+' ? LV_PLUS : len == 1 && lv[0] == '#' ? LV_HASH : LV_LITERAL;
			L->text = xstrndup(lv, len);
			L->len = len;
			memcpy(p->filter + flen, lv, len);
			flen += len;
		}
		if (k + 1 < count)
			p->filter[flen++] = '/';
		lv += len + 1;
	}
	p->filter[flen] = '\0';
	if (!topic_filter_valid(p->filter, flen, why))
		goto bad;
	return p;
bad:
	topic_pattern_free(p);
	return NULL;
}

int topic_pattern_match(const struct topic_pattern *p, const char *topic, size_t tn,
                        struct topic_capture caps[TOPIC_MAX_CAPTURES])
{
	if (!topic_matches(p->filter, topic, tn))
		return -1;
	/* the filter matched, so every level lines up: collect the captures */
	int ncaps = 0;
	size_t t = 0;
	/* "$share/GROUP/" is no part of what the topic is matched against */
	size_t first = strncmp(p->filter, "$share/", 7) == 0 ? 2 : 0;
	for (size_t k = first; k < p->nlevels && t <= tn; k++) {
		if (p->levels[k].kind == LV_HASH)
			break;
		size_t tl = 0;
		while (t + tl < tn && topic[t + tl] != '/')
			tl++;
		if (p->levels[k].kind == LV_CAPTURE) {
			caps[ncaps].name = p->levels[k].text;
			caps[ncaps].value = topic + t;
			caps[ncaps].len = tl;
			ncaps++;
		}
		t += tl + 1;
	}
	return ncaps;
}

const struct topic_capture *topic_capture_find(const struct topic_capture *caps, int ncaps, const char *name)
{
	for (int i = 0; i < ncaps; i++)
		if (strcmp(caps[i].name, name) == 0)
			return &caps[i];
	return NULL;
}

/* ---- templates ---- */

bool topic_level_valid(const char *v, size_t n, const char **why)
{
	if (n == 0)
		return why_fail(why, "is empty");
	if (memchr(v, '/', n))
		return why_fail(why, "contains '/'");
	if (memchr(v, '+', n) || memchr(v, '#', n))
		return why_fail(why, "contains a wildcard ('+' or '#')");
	if (memchr(v, '\0', n))
		return why_fail(why, "contains a NUL character");
	if (!utf8_valid(v, n))
		return why_fail(why, "is not valid UTF-8");
	return true;
}

bool topic_template_expand(struct buf *out, const char *tmpl, const char *device, const char *command, const char **why)
{
	static const char *const names[] = {"{device}", "{command}"};
	const char *values[] = {device, command};
	for (size_t i = 0; i < 2; i++) {
		if (!strstr(tmpl, names[i]))
			continue;
		if (!values[i])
			return why_fail(why, i ? "needs a command" : "needs a device");
		if (!topic_level_valid(values[i], strlen(values[i]), why))
			return false;
	}
	for (const char *p = tmpl; *p;) {
		size_t k;
		for (k = 0; k < 2; k++)
			if (strncmp(p, names[k], strlen(names[k])) == 0)
				break;
		if (k < 2) {
			buf_adds(out, values[k]);
			p += strlen(names[k]);
		} else {
			buf_addc(out, *p++);
		}
	}
	return true;
}

void topic_template_filter(struct buf *out, const char *tmpl)
{
	for (const char *p = tmpl; *p;) {
		const char *close = *p == '{' ? strchr(p, '}') : NULL;
		if (close && (p == tmpl || p[-1] == '/') && (close[1] == '/' || close[1] == '\0')) {
			buf_addc(out, '+');
			p = close + 1;
		} else {
			buf_addc(out, *p++);
		}
	}
}
