/*
 * fuzz_rules.c — topic rules and patterns (rules_add, rules_valid,
 * rules_classify over topic_pattern_compile/match, topic_matches and the
 * name and filter checks).  Each line of the input is tried as a rule
 * "PATTERN=KIND"; the rules it gives, then the defaults, classify each
 * line (and each rule's pattern) as a topic.  The result must be what a
 * plain level-by-level reading of MQTT matching says: the first rule whose
 * pattern matches wins, and its {device} and {key} are the topic's levels
 * in those places.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "mqmon.h"
#include "rules.h"
#include "topic.h"

#include "fuzz.h"

#define MAX_LINES 64

/* s[0..n) split at '/': level i is s[off[i]..off[i]+len[i]). */
struct levels {
	size_t n;
	size_t *off, *len;
};

static void split(const char *s, size_t n, struct levels *lv)
{
	size_t count = 1;
	for (size_t i = 0; i < n; i++)
		count += s[i] == '/';
	lv->off = xmalloc(count * sizeof *lv->off);
	lv->len = xmalloc(count * sizeof *lv->len);
	lv->n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		lv->off[lv->n] = start;
		lv->len[lv->n] = i - start;
		lv->n++;
		start = i + 1;
	}
}

static void levels_free(struct levels *lv)
{
	free(lv->off);
	free(lv->len);
}

static bool level_is(const char *s, const struct levels *lv, size_t i, const char *text)
{
	return lv->len[i] == strlen(text) && memcmp(s + lv->off[i], text, lv->len[i]) == 0;
}

static bool is_capture(const char *s, const struct levels *lv, size_t i)
{
	return lv->len[i] >= 2 && s[lv->off[i]] == '{' && s[lv->off[i] + lv->len[i] - 1] == '}';
}

/* The reference: does pattern p (valid) match topic t[0..tn)?  On a match
 * *dev and *key are the first {device} and {key} levels (NULL if none). */
static bool ref_match(const char *p, const char *t, size_t tn, const char **dev, size_t *devlen, const char **key,
                      size_t *keylen)
{
	struct levels pl, tl;
	split(p, strlen(p), &pl);
	split(t, tn, &tl);
	*dev = *key = NULL;
	*devlen = *keylen = 0;
	size_t first = 0;
	/* "$share/GROUP/" is no part of what a topic is matched against */
	if (pl.n >= 3 && level_is(p, &pl, 0, "$share"))
		first = 2;
	bool match = true;
	/* MQTT 5 §4.7.2: a wildcard first level does not match a "$" topic */
	if (tn > 0 && t[0] == '$' &&
	    (level_is(p, &pl, first, "+") || level_is(p, &pl, first, "#") || is_capture(p, &pl, first)))
		match = false;
	size_t k = first, i = 0;
	for (; match && k < pl.n; k++, i++) {
		if (level_is(p, &pl, k, "#"))
			break; /* this level and all below, the parent too */
		if (i >= tl.n) {
			match = false;
			break;
		}
		if (is_capture(p, &pl, k)) {
			const char *name = p + pl.off[k] + 1;
			size_t nl = pl.len[k] - 2;
			if (nl == 6 && memcmp(name, "device", 6) == 0 && !*dev) {
				*dev = t + tl.off[i];
				*devlen = tl.len[i];
			}
			if (nl == 3 && memcmp(name, "key", 3) == 0 && !*key) {
				*key = t + tl.off[i];
				*keylen = tl.len[i];
			}
		} else if (!level_is(p, &pl, k, "+")) {
			match = pl.len[k] == tl.len[i] && memcmp(p + pl.off[k], t + tl.off[i], tl.len[i]) == 0;
		}
	}
	if (match && k == pl.n && i != tl.n)
		match = false; /* the topic goes on below the pattern */
	levels_free(&pl);
	levels_free(&tl);
	return match;
}

static char *pattern_of(const char *spec)
{
	return xstrndup(spec, (size_t)(strrchr(spec, '=') - spec));
}

static void classify(const struct rules *r, char *const *patterns, const char *t, size_t tn)
{
	struct rule_match m;
	bool matched = rules_classify(r, t, tn, &m);
	FUZZ_CHECK(matched == (m.rule != NULL));
	size_t want = r->n;
	const char *dev = NULL, *key = NULL;
	size_t devlen = 0, keylen = 0;
	for (size_t i = 0; i < r->n && want == r->n; i++)
		if (ref_match(patterns[i], t, tn, &dev, &devlen, &key, &keylen))
			want = i;
	if (want == r->n) {
		FUZZ_CHECK(!matched && m.kind == RULE_IGNORE && !m.device && !m.key);
		return;
	}
	FUZZ_CHECK(matched && m.rule == &r->v[want] && m.kind == r->v[want].kind);
	FUZZ_CHECK(m.device == dev && m.device_len == devlen);
	FUZZ_CHECK(m.key == key && m.key_len == keylen);
	FUZZ_CHECK(rule_kind_name(m.kind) != NULL);

	/* the pattern without captures is a filter that matches too */
	if (topic_name_valid(t, tn, NULL)) {
		struct buf f = BUF_INIT;
		topic_template_filter(&f, patterns[want]);
		if (!memchr(f.data, '{', f.len))
			FUZZ_CHECK(topic_matches(buf_cstr(&f), t, tn));
		buf_free(&f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char *lines[MAX_LINES];
	size_t lens[MAX_LINES], nlines = 0;
	for (size_t start = 0; start <= size && nlines < MAX_LINES;) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - text) : size;
		lines[nlines] = xstrndup(text + start, end - start);
		lens[nlines++] = end - start;
		start = end + 1;
	}

	struct rules r = {0};
	for (size_t i = 0; i < nlines; i++) {
		if (strlen(lines[i]) != lens[i])
			continue; /* rules come from argv and config files: no NUL */
		const char *why1 = NULL, *why2 = NULL;
		size_t before = r.n;
		bool valid = rules_valid(lines[i], &why1);
		bool added = rules_add(&r, lines[i], &why2);
		FUZZ_CHECK(valid == added);
		FUZZ_CHECK(added ? r.n == before + 1 : r.n == before && why1 && why2 && strcmp(why1, why2) == 0);
		if (added)
			FUZZ_CHECK(strcmp(r.v[r.n - 1].spec, lines[i]) == 0);
	}
	rules_add_defaults(&r);

	char **patterns = xmalloc((r.n ? r.n : 1) * sizeof *patterns);
	for (size_t i = 0; i < r.n; i++)
		patterns[i] = pattern_of(r.v[i].spec);
	for (size_t i = 0; i < nlines; i++)
		classify(&r, patterns, lines[i], lens[i]);
	for (size_t i = 0; i < r.n; i++)
		classify(&r, patterns, patterns[i], strlen(patterns[i]));

	for (size_t i = 0; i < r.n; i++)
		free(patterns[i]);
	free(patterns);
	rules_free(&r);
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	return 0;
}
