/*
 * meaning.c — reading a message's meaning.  One pass over the body's
 * members picks out, for the kind the topic's rule gives, the device id,
 * the status details, the numeric leaves or the state value; nothing walks
 * the same body twice.  Decoded text goes into buffers that may grow
 * during the pass, so spans are kept as offsets and turned into pointers
 * at the end.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "meaning.h"
#include "mqmon.h"
#include "timeutil.h"

struct span {
	size_t off, len;
	bool set;
};

/* One read in progress. */
struct scan {
	struct meaning_reader *r;
	struct meaning *m;
	const struct envelope *e;
	bool want_device; /* the topic did not name the device */
	bool json; /* the body's bytes are JSON, whatever its enc */
	struct span device, status, ip, firmware, extra;
	struct span value; /* the state value, when written into text */
	const char *value_in_body; /* … or when it is (part of) the body */
	size_t value_in_body_len;
	bool has_fields;
};

void meaning_reader_init(struct meaning_reader *r)
{
	memset(r, 0, sizeof *r);
}

void meaning_reader_free(struct meaning_reader *r)
{
	buf_free(&r->text);
	buf_free(&r->fields);
	buf_free(&r->path);
	buf_free(&r->names);
	free(r->metrics);
	free(r->name_offs);
	strmap_drain(&r->memo, strmap_free_value, NULL);
	strmap_free(&r->memo);
	memset(r, 0, sizeof *r);
}

/* Decode the JSON string v[0..n) into r->text; false if it is not one. */
static bool decode_string(struct scan *x, const char *v, size_t n, struct span *out)
{
	if (n == 0 || v[0] != '"')
		return false;
	size_t pos = 0, start = x->r->text.len;
	if (!json_string_decode(v, n, &pos, &x->r->text, NULL)) {
		x->r->text.len = start;
		return false;
	}
	*out = (struct span){start, x->r->text.len - start, true};
	return true;
}

static void keep_text(struct scan *x, const char *s, size_t n, struct span *out)
{
	*out = (struct span){x->r->text.len, n, true};
	buf_add(&x->r->text, s, n);
}

static bool is_word(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/* online (1), offline (0), or -1, from a word: "online", "connected",
 * "true", "1"; "offline", "disconnected", "false", "0", "lost". */
static int online_from_word(const char *s, size_t n)
{
	if (is_word(s, n, "online") || is_word(s, n, "connected") || is_word(s, n, "true") || is_word(s, n, "1"))
		return 1;
	if (is_word(s, n, "offline") || is_word(s, n, "disconnected") || is_word(s, n, "false") || is_word(s, n, "0") ||
	    is_word(s, n, "lost"))
		return 0;
	return -1;
}

/* ---- status ---- */

static void add_field(struct scan *x, const struct json_member *m)
{
	struct buf *f = &x->r->fields;
	buf_addc(f, x->has_fields ? ',' : '{');
	buf_add(f, m->key, m->key_len);
	buf_addc(f, ':');
	buf_add(f, m->val, m->val_len);
	x->has_fields = true;
}

static void status_member(struct scan *x, const struct json_member *m)
{
	struct meaning *mn = x->m;
	struct span s;
	if (json_key_is(m, "status") && decode_string(x, m->val, m->val_len, &s)) {
		x->status = s;
		int o = online_from_word(x->r->text.data + s.off, s.len);
		if (o >= 0)
			mn->online = o;
	} else if ((json_key_is(m, "connected") || json_key_is(m, "online")) &&
	           (json_value_is(m, "true") || json_value_is(m, "false"))) {
		mn->online = m->val[0] == 't';
	} else if ((json_key_is(m, "ip_address") || json_key_is(m, "ip")) && decode_string(x, m->val, m->val_len, &s)) {
		x->ip = s;
	} else if ((json_key_is(m, "firmware_version") || json_key_is(m, "firmware")) &&
	           decode_string(x, m->val, m->val_len, &s)) {
		x->firmware = s;
	} else {
		if (json_key_is(m, "timestamp") && decode_string(x, m->val, m->val_len, &s)) {
			const char *why;
			int64_t ms;
			if (time_parse_rfc3339(x->r->text.data + s.off, s.len, &ms, &why))
				mn->body_ts = ms;
		}
		add_field(x, m);
	}
}

/* A body that is not an object: "offline" (an LWT), or a JSON string or
 * boolean saying so. */
static void status_word(struct scan *x)
{
	const struct envelope *e = x->e;
	struct span s;
	if (e->enc == ENC_BASE64)
		return;
	if (x->json && decode_string(x, e->payload, e->payload_len, &s))
		x->status = s;
	else
		keep_text(x, e->payload, e->payload_len, &x->status);
	x->m->online = online_from_word(x->r->text.data + x->status.off, x->status.len);
}

/* ---- telemetry ---- */

/* strtod(s), without strtod for a plain decimal ("-12.34"): at most 15
 * digits are an exact integer, 10^k for k <= 22 an exact double, and
 * one division rounds the quotient as strtod rounds (Clinger). */
static double number_value(const char *s)
{
	static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	const char *p = s;
	bool neg = *p == '-';
	p += neg;
	uint64_t mant = 0;
	int digits = 0, frac = -1;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			mant = mant * 10 + (uint64_t)(*p - '0');
			digits++;
			frac += frac >= 0;
		} else if (*p == '.' && frac < 0 && digits) {
			frac = 0;
		} else {
			return strtod(s, NULL);
		}
	}
	if (!digits || digits > 15 || frac == 0)
		return strtod(s, NULL);
	double v = (double)mant;
	if (frac > 0)
		v /= pow10[frac];
	return neg ? -v : v;
}

static void add_metric(struct scan *x, const char *num, size_t n)
{
	struct meaning_reader *r = x->r;
	char tmp[64];
	if (n >= sizeof tmp)
		return; /* not a plausible reading */
	memcpy(tmp, num, n);
	tmp[n] = '\0';
	if (r->nmetrics == r->metrics_cap) {
		r->metrics_cap = r->metrics_cap ? r->metrics_cap * 2 : 16;
		r->metrics = xrealloc(r->metrics, r->metrics_cap * sizeof *r->metrics);
		r->name_offs = xrealloc(r->name_offs, r->metrics_cap * sizeof *r->name_offs);
	}
	r->name_offs[r->nmetrics] = r->names.len;
	r->metrics[r->nmetrics++] = (struct meaning_metric){NULL, r->path.len, number_value(tmp)};
	buf_add(&r->names, r->path.data, r->path.len);
}

static void walk_metrics(struct scan *x, const char *p, size_t n, int depth);

static void walk_object(struct scan *x, const char *p, size_t n, int depth)
{
	struct buf *path = &x->r->path;
	size_t mark = path->len, pos = 0;
	struct json_member m;
	json_object_begin(p, n, &pos, NULL);
	while (json_object_next(p, n, &pos, &m, NULL)) {
		path->len = mark;
		if (mark)
			buf_addc(path, '.');
		size_t kpos = 0;
		json_string_decode(m.key, m.key_len, &kpos, path, NULL);
		walk_metrics(x, m.val, m.val_len, depth + 1);
	}
	path->len = mark;
}

static void walk_array(struct scan *x, const char *p, size_t n, int depth)
{
	struct buf *path = &x->r->path;
	size_t mark = path->len, pos = json_skip_ws(p, n, 0) + 1;
	for (unsigned idx = 0;; idx++) {
		pos = json_skip_ws(p, n, pos);
		if (pos >= n || p[pos] == ']')
			break;
		size_t start = pos;
		if (!json_skip_value(p, n, &pos, NULL))
			break;
		path->len = mark;
		buf_printf(path, mark ? ".%u" : "%u", idx);
		walk_metrics(x, p + start, pos - start, depth + 1);
		pos = json_skip_ws(p, n, pos);
		if (pos < n && p[pos] == ',')
			pos++;
	}
	path->len = mark;
}

/* One metric per numeric leaf of p[0..n), named by the path to it. */
static void walk_metrics(struct scan *x, const char *p, size_t n, int depth)
{
	size_t i = json_skip_ws(p, n, 0);
	if (i >= n || depth > MEANING_METRIC_MAX_DEPTH)
		return;
	char c = p[i];
	if (c == '{') {
		walk_object(x, p + i, n - i, depth);
	} else if (c == '[') {
		walk_array(x, p + i, n - i, depth);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		struct buf *path = &x->r->path;
		bool bare = path->len == 0;
		if (bare)
			buf_adds(path, "value"); /* a bare number body */
		size_t end = i;
		json_skip_value(p, n, &end, NULL);
		add_metric(x, p + i, end - i);
		if (bare)
			path->len = 0;
	}
}

/* ---- the one pass ---- */

static void read_member(struct scan *x, const struct json_member *m)
{
	if (x->r->extra_field && !x->extra.set && json_key_is(m, x->r->extra_field)) {
		if (!decode_string(x, m->val, m->val_len, &x->extra) &&
		    (m->val[0] == '-' || (m->val[0] >= '0' && m->val[0] <= '9')))
			keep_text(x, m->val, m->val_len, &x->extra);
	}
	if (x->want_device && !x->device.set && json_key_is(m, "device_id")) {
		struct span s;
		if (decode_string(x, m->val, m->val_len, &s) && s.len > 0)
			x->device = s;
	}
	switch (x->m->kind) {
	case RULE_STATUS: status_member(x, m); break;
	case RULE_TELEMETRY: {
		struct buf *path = &x->r->path;
		size_t kpos = 0;
		path->len = 0;
		json_string_decode(m->key, m->key_len, &kpos, path, NULL);
		walk_metrics(x, m->val, m->val_len, 1);
		path->len = 0;
		break;
	}
	case RULE_STATE:
		if (json_key_is(m, "state") || (!x->value_in_body && json_key_is(m, "value"))) {
			x->value_in_body = m->val;
			x->value_in_body_len = m->val_len;
		}
		break;
	case RULE_IGNORE: break;
	}
}

static void read_object(struct scan *x)
{
	const struct envelope *e = x->e;
	size_t pos = 0;
	struct json_member m;
	json_object_begin(e->payload, e->payload_len, &pos, NULL);
	while (json_object_next(e->payload, e->payload_len, &pos, &m, NULL))
		read_member(x, &m);
	if (x->m->kind == RULE_STATE && !x->value_in_body) {
		x->value_in_body = e->payload;
		x->value_in_body_len = e->payload_len;
	}
}

/* A body that is not a JSON object. */
static void read_other(struct scan *x)
{
	const struct envelope *e = x->e;
	switch (x->m->kind) {
	case RULE_STATUS: status_word(x); break;
	case RULE_TELEMETRY:
		if (x->json)
			walk_metrics(x, e->payload, e->payload_len, 0);
		break;
	case RULE_STATE:
		if (x->json) {
			x->value_in_body = e->payload;
			x->value_in_body_len = e->payload_len;
		} else {
			/* text as a JSON string; bytes have no value to compare */
			struct buf *t = &x->r->text;
			x->value.off = t->len;
			if (e->enc == ENC_UTF8)
				json_write_string(t, e->payload, e->payload_len);
			else
				buf_adds(t, "null");
			x->value.len = t->len - x->value.off;
			x->value.set = true;
		}
		break;
	case RULE_IGNORE: break;
	}
}

static const char *text_at(const struct meaning_reader *r, const struct span *s, size_t *len)
{
	*len = s->set ? s->len : 0;
	return s->set ? r->text.data + s->off : NULL;
}

/* Spans become pointers, now that the buffers have stopped growing. */
static void resolve(struct scan *x)
{
	struct meaning_reader *r = x->r;
	struct meaning *m = x->m;
	if (x->device.set)
		m->device = text_at(r, &x->device, &m->device_len);
	m->status = text_at(r, &x->status, &m->status_len);
	if (!m->status && m->online >= 0) {
		m->status = m->online ? "online" : "offline";
		m->status_len = strlen(m->status);
	}
	m->ip = text_at(r, &x->ip, &m->ip_len);
	m->extra = text_at(r, &x->extra, &m->extra_len);
	m->firmware = text_at(r, &x->firmware, &m->firmware_len);
	if (x->has_fields) {
		buf_addc(&r->fields, '}');
		m->fields = r->fields.data;
		m->fields_len = r->fields.len;
	}
	if (x->value_in_body) {
		m->value = x->value_in_body;
		m->value_len = x->value_in_body_len;
	} else {
		m->value = text_at(r, &x->value, &m->value_len);
	}
	for (size_t i = 0; i < r->nmetrics; i++)
		r->metrics[i].name = r->names.data + r->name_offs[i];
	m->metrics = r->metrics;
	m->nmetrics = r->nmetrics;
}

/* rules_classify's answer for a topic, as offsets into the topic */
struct class_memo {
	const struct rule *rule;
	enum rule_kind kind;
	bool device, key;
	size_t device_off, device_len, key_off, key_len;
};

/* Topics kept at most; then the memo starts afresh */
#define CLASS_MEMO_MAX 4096

/* rules_classify, remembered per topic: matching every rule costs far
 * more than a look-up, and a fleet's topics repeat. */
static void classify(struct meaning_reader *r, const struct rules *rules, const char *topic, size_t len,
                     struct rule_match *rm)
{
	if (r->memo_rules != rules || r->memo_v != rules->v || r->memo_n != rules->n || r->memo.n >= CLASS_MEMO_MAX) {
		strmap_drain(&r->memo, strmap_free_value, NULL);
		r->memo_rules = rules;
		r->memo_v = rules->v;
		r->memo_n = rules->n;
	}
	void **slot = strmap_get(&r->memo, topic, len);
	const struct class_memo *c = slot ? *slot : NULL;
	if (c) {
		*rm = (struct rule_match){c->rule,
		                          c->kind,
		                          c->device ? topic + c->device_off : NULL,
		                          c->device_len,
		                          c->key ? topic + c->key_off : NULL,
		                          c->key_len};
		return;
	}
	rules_classify(rules, topic, len, rm);
	struct class_memo *n = xmalloc(sizeof *n);
	*n = (struct class_memo){rm->rule,
	                         rm->kind,
	                         rm->device != NULL,
	                         rm->key != NULL,
	                         rm->device ? (size_t)(rm->device - topic) : 0,
	                         rm->device_len,
	                         rm->key ? (size_t)(rm->key - topic) : 0,
	                         rm->key_len};
	*strmap_put(&r->memo, topic, len) = n;
}

const struct meaning *meaning_read(struct meaning_reader *r, const struct rules *rules, const struct envelope *e)
{
	struct meaning *m = &r->m;
	memset(m, 0, sizeof *m);
	m->online = -1;
	buf_reset(&r->text);
	buf_reset(&r->fields);
	buf_reset(&r->path);
	buf_reset(&r->names);
	r->nmetrics = 0;
	struct rule_match rm;
	classify(r, rules, e->topic, e->topic_len, &rm);
	m->rule = rm.rule;
	m->kind = rm.kind;
	if (rm.device && rm.device_len) {
		m->device = rm.device;
		m->device_len = rm.device_len;
	}
	m->key = rm.key ? rm.key : e->topic;
	m->key_len = rm.key ? rm.key_len : e->topic_len;
	if (!rm.rule || rm.kind == RULE_IGNORE || e->payload_len == 0)
		return m; /* no meaning taken; an empty body clears a retained message */
	/* a JSON body that came as text (mosquitto_sub -F %j prints every
	 * body as a string) means what it says as JSON */
	bool json = e->enc == ENC_JSON || (e->enc == ENC_UTF8 && json_validate(e->payload, e->payload_len, NULL));
	struct scan x = {.r = r, .m = m, .e = e, .want_device = !m->device, .json = json};
	m->has_status = m->kind == RULE_STATUS;
	size_t first = json_skip_ws(e->payload, e->payload_len, 0);
	if (json && first < e->payload_len && e->payload[first] == '{')
		read_object(&x);
	else
		read_other(&x);
	resolve(&x);
	return m;
}
