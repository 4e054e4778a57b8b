/*
 * ingest.c — envelopes from stdin into the database.
 *
 * Every line is a message row; rules add meaning (devices, metrics,
 * states).  Writes go into one transaction per batch: topics and devices
 * seen in a batch are gathered in memory and written once per batch, so a
 * fleet's thousands of messages per second cost one upsert per topic, not
 * per message.  A crash loses at most the open batch; SQLite's WAL keeps
 * the file consistent whatever happens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "ingest.h"
#include "json.h"
#include "linereader.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "out.h"
#include "props.h"
#include "rules.h"
#include "store.h"
#include "strmap.h"
#include "timeutil.h"
#include "utf8.h"

/* deeper members of a telemetry body are not metrics */
#define METRIC_MAX_DEPTH 32

struct topic_stat {
	char first[TIME_RFC3339_LEN + 1], last[TIME_RFC3339_LEN + 1];
	long count;
	const char *kind;
	char *device;
	enum envelope_enc enc;
	struct buf payload;
};

struct device_stat {
	char first[TIME_RFC3339_LEN + 1], last[TIME_RFC3339_LEN + 1];
	long count;
};

/* Metric rows wait here and go in 64 at a time: one multi-row INSERT costs
 * far less than 64 single ones, and a telemetry body brings several. */
#define METRIC_CHUNK 64

struct metric_row {
	int64_t ts;
	size_t device_off, device_len, name_off, name_len;
	bool has_device;
	double value;
};

struct ingest {
	const struct ingest_opts *o;
	struct store *st;
	struct rules rules;
	sqlite3_stmt *ins_message, *upsert_topic, *upsert_device, *upsert_status, *ins_metric, *sel_state,
	        *upsert_state, *ins_change, *ins_reject, *prune_messages, *prune_metrics, *prune_changes;
	struct strmap topics, devices;
	bool in_tx;
	long pending; /* lines in the open transaction */
	int64_t pending_since; /* monotonic ms of its first line */
	struct loop_timer flush_due, prune_due;
	struct linereader lr;
	unsigned long rejected;
	struct buf scratch, name, fields;
	struct out tee;
	bool failed;
	int64_t ts_ms;
	sqlite3_stmt *ins_metric_chunk;
	struct metric_row metric_rows[METRIC_CHUNK];
	size_t nmetric_rows;
	struct buf metric_text;
};

static const char *const enc_names[] = {"json", "utf8", "base64"};

static bool flush_metrics(struct ingest *g);

/* ---- database failures: fatal, with the data committed so far intact ---- */

static bool db_fail(struct ingest *g, const char *what, unsigned long lineno)
{
	if (!g->failed) {
		if (lineno)
			mqmon_err("line %lu: cannot %s: %s", lineno, what, store_errmsg(g->st));
		else
			mqmon_err("cannot %s: %s", what, store_errmsg(g->st));
		if (g->in_tx && g->pending)
			mqmon_err("the last %ld line%s were not stored; everything before is", g->pending,
			          g->pending == 1 ? "" : "s");
	}
	g->failed = true;
	return false;
}

/* Step a statement that returns no rows, then reset it. */
static bool run(struct ingest *g, sqlite3_stmt *st, const char *what, unsigned long lineno)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return true;
	return db_fail(g, what, lineno);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t n)
{
	if (s)
		sqlite3_bind_text(st, i, s, (int)n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	bind_text(st, i, s, s ? strlen(s) : 0);
}

/* ---- batching ---- */

static bool begin(struct ingest *g)
{
	if (g->in_tx)
		return true;
	char err[512];
	if (!store_exec(g->st, "BEGIN", err, sizeof err)) {
		mqmon_err("%s", err);
		g->failed = true;
		return false;
	}
	g->in_tx = true;
	g->pending = 0;
	g->pending_since = time_mono_ms();
	return true;
}

static void flush_topic(void *ctx, const char *key, size_t len, void *value)
{
	struct ingest *g = ctx;
	struct topic_stat *t = value;
	if (!g->failed) {
		sqlite3_stmt *st = g->upsert_topic;
		bind_text(st, 1, key, len);
		bind_str(st, 2, t->kind);
		bind_str(st, 3, t->device);
		bind_str(st, 4, t->first);
		bind_str(st, 5, t->last);
		sqlite3_bind_int64(st, 6, t->count);
		bind_str(st, 7, enc_names[t->enc]);
		if (t->enc == ENC_BASE64)
			sqlite3_bind_blob(st, 8, t->payload.data ? t->payload.data : "", (int)t->payload.len,
			                  SQLITE_STATIC);
		else
			sqlite3_bind_text(st, 8, t->payload.data ? t->payload.data : "", (int)t->payload.len,
			                  SQLITE_STATIC);
		run(g, st, "update the topics table", 0);
	}
	buf_free(&t->payload);
	free(t->device);
	free(t);
}

static void flush_device(void *ctx, const char *key, size_t len, void *value)
{
	struct ingest *g = ctx;
	struct device_stat *d = value;
	if (!g->failed) {
		sqlite3_stmt *st = g->upsert_device;
		bind_text(st, 1, key, len);
		bind_str(st, 2, d->first);
		bind_str(st, 3, d->last);
		sqlite3_bind_int64(st, 4, d->count);
		run(g, st, "update the devices table", 0);
	}
	free(d);
}

static bool commit(struct ingest *g)
{
	if (!g->in_tx)
		return !g->failed;
	if (!g->failed)
		flush_metrics(g);
	strmap_drain(&g->topics, flush_topic, g);
	strmap_drain(&g->devices, flush_device, g);
	char err[512];
	if (g->failed || !store_exec(g->st, "COMMIT", err, sizeof err)) {
		if (!g->failed)
			db_fail(g, "commit", 0);
		store_exec(g->st, "ROLLBACK", err, sizeof err);
		g->in_tx = false;
		return false;
	}
	g->in_tx = false;
	g->pending = 0;
	loop_timer_at(&g->flush_due, 0);
	return true;
}

/* ---- what a message means ---- */

static void note_topic(struct ingest *g, const struct envelope *e, const char *ts, const char *kind, const char *device)
{
	void **slot = strmap_put(&g->topics, e->topic, e->topic_len);
	struct topic_stat *t = *slot;
	if (!t) {
		t = *slot = xcalloc(1, sizeof *t);
		memcpy(t->first, ts, sizeof t->first);
	}
	/* input out of time order (a replay, merged sources): first and last
	 * stay the earliest and the latest, last_payload the latest's */
	if (strcmp(ts, t->first) < 0)
		memcpy(t->first, ts, sizeof t->first);
	t->count++;
	if (strcmp(ts, t->last) < 0)
		return;
	memcpy(t->last, ts, sizeof t->last);
	t->kind = kind;
	if (device && (!t->device || strcmp(t->device, device) != 0)) {
		free(t->device);
		t->device = xstrdup(device);
	}
	t->enc = e->enc;
	buf_reset(&t->payload);
	buf_add(&t->payload, e->payload, e->payload_len);
}

static void note_device(struct ingest *g, const char *device, const char *ts)
{
	void **slot = strmap_put(&g->devices, device, strlen(device));
	struct device_stat *d = *slot;
	if (!d) {
		d = *slot = xcalloc(1, sizeof *d);
		memcpy(d->first, ts, sizeof d->first);
	}
	if (strcmp(ts, d->first) < 0)
		memcpy(d->first, ts, sizeof d->first);
	if (strcmp(ts, d->last) > 0)
		memcpy(d->last, ts, sizeof d->last);
	d->count++;
}

/* The decoded text of a JSON string member, in g->scratch; NULL if the
 * member is not a string. */
static const char *string_member(struct ingest *g, const struct json_member *m)
{
	if (m->val[0] != '"')
		return NULL;
	size_t pos = 0;
	buf_reset(&g->scratch);
	if (!json_string_decode(m->val, m->val_len, &pos, &g->scratch, NULL))
		return NULL;
	return buf_cstr(&g->scratch);
}

/* device_id inside a JSON object body, for rules without {device} */
static char *device_from_body(struct ingest *g, const struct envelope *e)
{
	if (e->enc != ENC_JSON || e->payload_len == 0 || e->payload[0] != '{')
		return NULL;
	size_t pos = 0;
	struct json_member m;
	if (!json_object_begin(e->payload, e->payload_len, &pos, NULL))
		return NULL;
	while (json_object_next(e->payload, e->payload_len, &pos, &m, NULL))
		if (json_key_is(&m, "device_id")) {
			const char *s = string_member(g, &m);
			return s && *s ? xstrdup(s) : NULL;
		}
	return NULL;
}

static bool is_word(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/* online from a status body: "status":"online|offline", "connected" or
 * "online" true/false, or a plain-text body (an LWT) saying so */
static int online_from_text(const char *s, size_t n)
{
	if (is_word(s, n, "online") || is_word(s, n, "connected") || is_word(s, n, "true") || is_word(s, n, "1"))
		return 1;
	if (is_word(s, n, "offline") || is_word(s, n, "disconnected") || is_word(s, n, "false") || is_word(s, n, "0") ||
	    is_word(s, n, "lost"))
		return 0;
	return -1;
}

static bool store_status(struct ingest *g, const struct envelope *e, const char *device, const char *ts,
                         unsigned long lineno)
{
	int online = -1;
	char *status = NULL, *ip = NULL, *fw = NULL;
	bool has_fields = false;
	buf_reset(&g->fields);
	if (e->payload_len == 0)
		return true; /* a retained message being cleared */
	if (e->enc == ENC_JSON && e->payload[0] == '{') {
		size_t pos = 0;
		struct json_member m;
		json_object_begin(e->payload, e->payload_len, &pos, NULL);
		buf_addc(&g->fields, '{');
		while (json_object_next(e->payload, e->payload_len, &pos, &m, NULL)) {
			const char *s;
			if (json_key_is(&m, "status") && (s = string_member(g, &m))) {
				free(status);
				status = xstrdup(s);
				int o = online_from_text(s, strlen(s));
				if (o >= 0)
					online = o;
			} else if ((json_key_is(&m, "connected") || json_key_is(&m, "online")) &&
			           (m.val[0] == 't' || m.val[0] == 'f')) {
				online = m.val[0] == 't';
			} else if ((json_key_is(&m, "ip_address") || json_key_is(&m, "ip")) &&
			           (s = string_member(g, &m))) {
				free(ip);
				ip = xstrdup(s);
			} else if ((json_key_is(&m, "firmware_version") || json_key_is(&m, "firmware")) &&
			           (s = string_member(g, &m))) {
				free(fw);
				fw = xstrdup(s);
			} else {
				if (has_fields)
					buf_addc(&g->fields, ',');
				buf_add(&g->fields, m.key, m.key_len);
				buf_addc(&g->fields, ':');
				buf_add(&g->fields, m.val, m.val_len);
				has_fields = true;
			}
		}
		buf_addc(&g->fields, '}');
	} else if (e->enc != ENC_BASE64) {
		/* "online", "offline", or a JSON string/boolean saying so */
		const char *s = e->payload;
		size_t n = e->payload_len;
		if (e->enc == ENC_JSON && n >= 2 && s[0] == '"') {
			s++;
			n -= 2;
		}
		online = online_from_text(s, n);
		status = xstrndup(s, n);
	}
	if (!status && online >= 0)
		status = xstrdup(online ? "online" : "offline");
	sqlite3_stmt *st = g->upsert_status;
	bind_str(st, 1, device);
	bind_str(st, 2, ts);
	if (online >= 0)
		sqlite3_bind_int(st, 3, online);
	else
		sqlite3_bind_null(st, 3);
	bind_str(st, 4, status);
	bind_str(st, 5, ip);
	bind_str(st, 6, fw);
	if (has_fields)
		bind_text(st, 7, g->fields.data, g->fields.len);
	else
		sqlite3_bind_null(st, 7);
	bind_text(st, 8, e->topic, e->topic_len);
	bool ok = run(g, st, "update the device's status", lineno);
	free(status);
	free(ip);
	free(fw);
	return ok;
}

static bool bind_metric(struct ingest *g, sqlite3_stmt *st, int first, const struct metric_row *r)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(r->ts, ts);
	sqlite3_bind_text(st, first, ts, TIME_RFC3339_LEN, SQLITE_TRANSIENT);
	if (r->has_device)
		sqlite3_bind_text(st, first + 1, g->metric_text.data + r->device_off, (int)r->device_len,
		                  SQLITE_STATIC);
	else
		sqlite3_bind_null(st, first + 1);
	sqlite3_bind_text(st, first + 2, g->metric_text.data + r->name_off, (int)r->name_len, SQLITE_STATIC);
	sqlite3_bind_double(st, first + 3, r->value);
	return true;
}

static bool flush_metrics(struct ingest *g)
{
	bool ok = true;
	if (g->nmetric_rows == METRIC_CHUNK) {
		for (size_t i = 0; i < METRIC_CHUNK; i++)
			bind_metric(g, g->ins_metric_chunk, (int)(4 * i + 1), &g->metric_rows[i]);
		ok = run(g, g->ins_metric_chunk, "store metrics", 0);
	} else {
		for (size_t i = 0; i < g->nmetric_rows && ok; i++) {
			bind_metric(g, g->ins_metric, 1, &g->metric_rows[i]);
			ok = run(g, g->ins_metric, "store metrics", 0);
		}
	}
	g->nmetric_rows = 0;
	buf_reset(&g->metric_text);
	return ok;
}

static bool add_metric(struct ingest *g, const char *device, const char *num, size_t n)
{
	char tmp[64];
	if (n >= sizeof tmp)
		return true; /* not a plausible reading */
	memcpy(tmp, num, n);
	tmp[n] = '\0';
	struct metric_row *r = &g->metric_rows[g->nmetric_rows++];
	r->ts = g->ts_ms;
	r->value = strtod(tmp, NULL);
	r->has_device = device != NULL;
	r->device_off = g->metric_text.len;
	r->device_len = device ? strlen(device) : 0;
	if (device)
		buf_add(&g->metric_text, device, r->device_len);
	r->name_off = g->metric_text.len;
	r->name_len = g->name.len;
	buf_add(&g->metric_text, g->name.data, g->name.len);
	return g->nmetric_rows < METRIC_CHUNK || flush_metrics(g);
}

/* One metric per numeric leaf; nested members get dotted names
 * (sensors.temperature), array elements their index (samples.0). */
static bool walk_metrics(struct ingest *g, const char *p, size_t n, const char *ts, const char *device, int depth,
                         unsigned long lineno)
{
	size_t i = json_skip_ws(p, n, 0);
	if (i >= n || depth > METRIC_MAX_DEPTH)
		return true;
	char c = p[i];
	size_t mark = g->name.len;
	if (c == '{') {
		size_t pos = i;
		struct json_member m;
		json_object_begin(p, n, &pos, NULL);
		while (json_object_next(p, n, &pos, &m, NULL)) {
			g->name.len = mark;
			if (mark)
				buf_addc(&g->name, '.');
			size_t kpos = 0;
			json_string_decode(m.key, m.key_len, &kpos, &g->name, NULL);
			if (!walk_metrics(g, m.val, m.val_len, ts, device, depth + 1, lineno))
				return false;
		}
	} else if (c == '[') {
		size_t pos = i + 1;
		for (unsigned idx = 0;; idx++) {
			pos = json_skip_ws(p, n, pos);
			if (pos >= n || p[pos] == ']')
				break;
			size_t start = pos;
			if (!json_skip_value(p, n, &pos, NULL))
				break;
			g->name.len = mark;
			buf_printf(&g->name, mark ? ".%u" : "%u", idx);
			if (!walk_metrics(g, p + start, pos - start, ts, device, depth + 1, lineno))
				return false;
			pos = json_skip_ws(p, n, pos);
			if (pos < n && p[pos] == ',')
				pos++;
		}
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if (mark == 0)
			buf_adds(&g->name, "value"); /* a bare number body */
		size_t end = i;
		json_skip_value(p, n, &end, NULL);
		bool ok = add_metric(g, device, p + i, end - i);
		g->name.len = mark;
		return ok;
	}
	g->name.len = mark;
	return true;
}

/* The value a state message carries, as JSON text, in g->scratch. */
static void state_value(struct ingest *g, const struct envelope *e)
{
	buf_reset(&g->scratch);
	if (e->enc == ENC_JSON && e->payload_len && e->payload[0] == '{') {
		size_t pos = 0;
		struct json_member m, found = {0};
		json_object_begin(e->payload, e->payload_len, &pos, NULL);
		while (json_object_next(e->payload, e->payload_len, &pos, &m, NULL))
			if (json_key_is(&m, "state") || (!found.val && json_key_is(&m, "value")))
				found = m;
		if (found.val) {
			buf_add(&g->scratch, found.val, found.val_len);
			return;
		}
	}
	if (e->enc == ENC_JSON)
		buf_add(&g->scratch, e->payload, e->payload_len);
	else if (e->enc == ENC_UTF8)
		json_write_string(&g->scratch, e->payload, e->payload_len);
	else
		buf_adds(&g->scratch, "null");
}

static bool store_state(struct ingest *g, const struct envelope *e, const char *device, const char *key, const char *ts,
                        unsigned long lineno)
{
	if (e->payload_len == 0)
		return true;
	state_value(g, e);
	const char *dev = device ? device : "";
	sqlite3_stmt *sel = g->sel_state;
	bind_str(sel, 1, dev);
	bind_str(sel, 2, key);
	int rc = sqlite3_step(sel);
	bool changed = true;
	char *old = NULL;
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(sel, 0);
		int vn = sqlite3_column_bytes(sel, 0);
		const char *since = (const char *)sqlite3_column_text(sel, 1);
		if (since && strcmp(ts, since) < 0) {
			/* older than the state we hold (a replay): it changes nothing */
			sqlite3_reset(sel);
			sqlite3_clear_bindings(sel);
			return true;
		}
		if (v) {
			changed = (size_t)vn != g->scratch.len || memcmp(v, g->scratch.data, g->scratch.len) != 0;
			old = xstrndup(v, (size_t)vn);
		}
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(sel);
		return db_fail(g, "read a state", lineno);
	}
	sqlite3_reset(sel);
	sqlite3_clear_bindings(sel);
	bool ok = true;
	if (changed) {
		sqlite3_stmt *st = g->ins_change;
		bind_str(st, 1, ts);
		bind_str(st, 2, dev);
		bind_str(st, 3, key);
		bind_str(st, 4, old);
		bind_text(st, 5, g->scratch.data, g->scratch.len);
		ok = run(g, st, "record a state change", lineno);
		st = g->upsert_state;
		bind_str(st, 1, dev);
		bind_str(st, 2, key);
		bind_text(st, 3, g->scratch.data, g->scratch.len);
		bind_str(st, 4, ts);
		ok = ok && run(g, st, "update a state", lineno);
	}
	free(old);
	return ok;
}

/* ---- one line ---- */

static bool store_reject(struct ingest *g, const struct line *ln, const char *why)
{
	mqmon_err("line %lu: %s", ln->lineno, why);
	g->rejected++;
	if (!begin(g))
		return false;
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(time_now_ms(), ts);
	sqlite3_stmt *st = g->ins_reject;
	bind_str(st, 1, ts);
	bind_str(st, 2, "stdin");
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ln->lineno);
	bind_str(st, 4, why);
	sqlite3_bind_blob(st, 5, ln->data, (int)ln->len, SQLITE_STATIC);
	if (!run(g, st, "store a rejected line", ln->lineno))
		return false;
	g->pending++;
	return true;
}

static bool store_message(struct ingest *g, const struct envelope *e, const struct line *ln)
{
	char ts[TIME_RFC3339_LEN + 1];
	g->ts_ms = e->has_ts ? e->ts_ms : time_now_ms();
	time_format_ms(g->ts_ms, ts);
	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	int ncaps;
	const struct rule *rule = rules_match(&g->rules, e->topic, e->topic_len, caps, &ncaps);
	enum rule_kind kind = rule ? rule->kind : RULE_IGNORE;
	char *device = NULL, *key = NULL;
	const struct topic_capture *c = topic_capture_find(caps, ncaps, "device");
	if (c)
		device = xstrndup(c->value, c->len);
	else if (rule && kind != RULE_IGNORE)
		device = device_from_body(g, e);
	if ((c = topic_capture_find(caps, ncaps, "key")))
		key = xstrndup(c->value, c->len);

	if (!begin(g))
		return false;
	sqlite3_stmt *st = g->ins_message;
	bind_str(st, 1, ts);
	bind_text(st, 2, e->topic, e->topic_len);
	bind_str(st, 3, device);
	sqlite3_bind_int(st, 4, e->qos > 0 ? e->qos : 0);
	sqlite3_bind_int(st, 5, e->retain > 0);
	bind_str(st, 6, enc_names[e->enc]);
	if (e->enc == ENC_BASE64)
		sqlite3_bind_blob(st, 7, e->payload, (int)e->payload_len, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, 7, e->payload, (int)e->payload_len, SQLITE_STATIC);
	buf_reset(&g->scratch);
	if (e->props && props_write_json(&g->scratch, e->props))
		sqlite3_bind_text(st, 8, g->scratch.data, (int)g->scratch.len, SQLITE_STATIC);
	bool ok = run(g, st, "store the message", ln->lineno);
	if (ok) {
		note_topic(g, e, ts, rule ? rule_kind_name(kind) : NULL, device);
		if (device)
			note_device(g, device, ts);
		if (kind == RULE_STATUS && device)
			ok = store_status(g, e, device, ts, ln->lineno);
		else if (kind == RULE_TELEMETRY && e->enc == ENC_JSON) {
			buf_reset(&g->name);
			ok = walk_metrics(g, e->payload, e->payload_len, ts, device, 0, ln->lineno);
		} else if (kind == RULE_STATE) {
			char *topic_key = key ? NULL : xstrndup(e->topic, e->topic_len);
			ok = store_state(g, e, device, key ? key : topic_key, ts, ln->lineno);
			free(topic_key);
		}
	}
	free(device);
	free(key);
	g->pending++;
	return ok;
}

static bool ingest_line(struct ingest *g, struct envelope_decoder *dec, const struct line *ln)
{
	if (g->o->tee) {
		struct buf *b = out_buf(&g->tee);
		buf_add(b, ln->data, ln->len);
		buf_addc(b, '\n');
		out_commit(&g->tee);
	}
	if (line_is_blank(ln))
		return true; /* whitespace between values is nothing, as in jq */
	struct envelope e;
	char err[512];
	enum envelope_result r = envelope_decode(dec, ln->data, ln->len, &e, err, sizeof err);
	if (r == ENVELOPE_EVENT)
		return g->o->strict ? store_reject(g, ln, "an event line, not a message (--strict)") : true;
	if (r == ENVELOPE_ERROR)
		return store_reject(g, ln, err);
	if (!e.topic)
		return store_reject(g, ln, "no \"topic\"");
	return store_message(g, &e, ln);
}

/* ---- setup ---- */

static const char sql_ins_message[] =
        "INSERT INTO messages(ts, topic, device, qos, retain, enc, payload, props) VALUES (?,?,?,?,?,?,?,?)";
static const char sql_upsert_topic[] =
        "INSERT INTO topics(topic, kind, device, first_seen, last_seen, count, last_enc, last_payload)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(topic) DO UPDATE SET"
        " kind = excluded.kind, device = coalesce(excluded.device, device),"
        " first_seen = min(first_seen, excluded.first_seen),"
        " count = count + excluded.count,"
        " last_enc = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_enc ELSE last_enc END,"
        " last_payload = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_payload ELSE last_payload END,"
        " last_seen = max(last_seen, excluded.last_seen)";
static const char sql_upsert_device[] =
        "INSERT INTO devices(device, first_seen, last_seen, messages) VALUES (?1, ?2, ?3, ?4)"
        " ON CONFLICT(device) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen),"
        " last_seen = max(last_seen, excluded.last_seen), messages = messages + excluded.messages";
/* an older status (a replay) does not overwrite a newer one */
static const char sql_upsert_status[] =
        "INSERT INTO devices(device, first_seen, last_seen, messages, online, status, ip_address,"
        " firmware_version, fields, status_topic, status_ts)"
        " VALUES (?1, ?2, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?2) ON CONFLICT(device) DO UPDATE SET"
        " online = coalesce(excluded.online, online), status = coalesce(excluded.status, status),"
        " ip_address = coalesce(excluded.ip_address, ip_address),"
        " firmware_version = coalesce(excluded.firmware_version, firmware_version),"
        " fields = coalesce(excluded.fields, fields), status_topic = excluded.status_topic,"
        " status_ts = excluded.status_ts"
        " WHERE status_ts IS NULL OR excluded.status_ts >= status_ts";
static const char sql_ins_metric[] = "INSERT INTO metrics(ts, device, metric, value) VALUES (?,?,?,?)";
static const char sql_sel_state[] = "SELECT value, ts FROM states WHERE device = ? AND key = ?";
static const char sql_upsert_state[] =
        "INSERT INTO states(device, key, value, ts) VALUES (?,?,?,?)"
        " ON CONFLICT(device, key) DO UPDATE SET value = excluded.value, ts = excluded.ts";
static const char sql_ins_change[] =
        "INSERT INTO state_changes(ts, device, key, old_value, new_value) VALUES (?,?,?,?,?)";
static const char sql_ins_reject[] = "INSERT INTO rejects(ts, source, line, error, input) VALUES (?,?,?,?,?)";

static bool prepare_all(struct ingest *g)
{
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} list[] = {
	        {&g->ins_message, sql_ins_message},
	        {&g->upsert_topic, sql_upsert_topic},
	        {&g->upsert_device, sql_upsert_device},
	        {&g->upsert_status, sql_upsert_status},
	        {&g->ins_metric, sql_ins_metric},
	        {&g->sel_state, sql_sel_state},
	        {&g->upsert_state, sql_upsert_state},
	        {&g->ins_change, sql_ins_change},
	        {&g->ins_reject, sql_ins_reject},
	        {&g->prune_messages, "DELETE FROM messages WHERE ts < ?"},
	        {&g->prune_metrics, "DELETE FROM metrics WHERE ts < ?"},
	        {&g->prune_changes, "DELETE FROM state_changes WHERE ts < ?"},
	};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(list); i++)
		if (!(*list[i].st = store_prepare(g->st, list[i].sql)))
			return false;
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "INSERT INTO metrics(ts, device, metric, value) VALUES (?,?,?,?)");
	for (int i = 1; i < METRIC_CHUNK; i++)
		buf_adds(&sql, ",(?,?,?,?)");
	g->ins_metric_chunk = store_prepare(g->st, buf_cstr(&sql));
	buf_free(&sql);
	return g->ins_metric_chunk != NULL;
}

static void finalize_all(struct ingest *g)
{
	sqlite3_stmt *all[] = {g->ins_message, g->upsert_topic,   g->upsert_device, g->upsert_status,
	                       g->ins_metric,  g->sel_state,      g->upsert_state,  g->ins_change,
	                       g->ins_reject,  g->prune_messages, g->prune_metrics, g->prune_changes};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(all); i++)
		sqlite3_finalize(all[i]);
	sqlite3_finalize(g->ins_metric_chunk);
}

bool ingest_rule_valid(const char *spec, const char **why)
{
	struct rules r = {0};
	bool ok = rules_add(&r, spec, why);
	rules_free(&r);
	return ok;
}

/* After a signal: input quiet this long, or this long in all, ends the run. */
#define DRAIN_IDLE_MS 200
#define DRAIN_MAX_MS 3000

/* --retain: delete what is older, at start and every minute */
#define PRUNE_EVERY_MS 60000

static bool prune_old(struct ingest *g)
{
	char cutoff[TIME_RFC3339_LEN + 1];
	time_format_ms(time_now_ms() - g->o->retain_ms, cutoff);
	sqlite3_stmt *list[] = {g->prune_messages, g->prune_metrics, g->prune_changes};
	if (!begin(g))
		return false;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(list); i++) {
		bind_str(list[i], 1, cutoff);
		if (!run(g, list[i], "delete old rows (--retain)", 0))
			return false;
	}
	loop_timer_at(&g->prune_due, time_mono_ms() + PRUNE_EVERY_MS);
	return commit(g);
}

/* ---- the loop ---- */

/* The batch has waited --flush-ms: commit it, so readers see it. */
static void on_flush_due(void *ctx)
{
	commit(ctx);
}

static void on_prune_due(void *ctx)
{
	prune_old(ctx);
}

static void on_stdin(void *ctx, short revents)
{
	struct ingest *g = ctx;
	(void)revents;
	linereader_fill(&g->lr);
}

/* Read, store, commit on time, until the input ends; after SIGINT or
 * SIGTERM until it goes quiet.  A writer stopped by the same Ctrl-C
 * (mqmon-sub in a pipeline) flushes as it ends, so reading on catches
 * what it had. */
static void read_all(struct ingest *g, struct loop *l)
{
	struct envelope_decoder dec;
	envelope_decoder_init(&dec);
	int64_t draining = 0; /* after a signal: read on until then */
	while (!g->failed) {
		struct line ln;
		while (!g->failed && linereader_next(&g->lr, &ln)) {
			ingest_line(g, &dec, &ln);
			if (g->pending >= g->o->batch)
				commit(g);
		}
		if (g->failed || g->lr.eof || g->lr.error || out_closed(&g->tee))
			break; /* --tee into a closed pipe: finish quietly */
		if (g->in_tx && !g->flush_due.due)
			loop_timer_at(&g->flush_due, g->pending_since + g->o->flush_ms);
		int wait = out_pending(&g->tee) ? 0 : draining ? DRAIN_IDLE_MS : -1;
		if (!loop_turn(l, wait)) {
			if (out_pending(&g->tee))
				out_flush(&g->tee);
			else if (draining)
				break; /* the writer has gone quiet */
		}
		if (draining && time_mono_ms() >= draining)
			break;
		if (!draining && loop_signal(l))
			draining = time_mono_ms() + DRAIN_MAX_MS;
	}
	envelope_decoder_free(&dec);
}

int ingest_run(const struct ingest_opts *o)
{
	struct ingest g = {.o = o};
	char err[1024];
	/* a full file-size limit must show up as an error, not kill us */
	signal(SIGXFSZ, SIG_IGN);
	g.st = store_open(o->db, STORE_WRITE, err, sizeof err);
	if (!g.st) {
		mqmon_err("%s", err);
		return MQMON_EXIT_RUNTIME;
	}
	for (size_t i = 0; i < o->rules->n; i++) {
		const char *why;
		rules_add(&g.rules, o->rules->items[i], &why); /* checked while parsing */
	}
	rules_add_defaults(&g.rules);
	out_init(&g.tee, STDOUT_FILENO);
	linereader_init(&g.lr, o->in_fd);
	struct loop *l = loop_new();
	g.flush_due = (struct loop_timer){0, on_flush_due, &g};
	g.prune_due = (struct loop_timer){0, on_prune_due, &g};
	loop_add_timer(l, &g.flush_due);
	loop_add_timer(l, &g.prune_due);
	fcntl(o->in_fd, F_SETFL, fcntl(o->in_fd, F_GETFL) | O_NONBLOCK);
	loop_add_fd(l, o->in_fd, on_stdin, &g);
	int status = MQMON_EXIT_OK;
	if (!prepare_all(&g) || (o->retain_ms && !prune_old(&g)))
		status = MQMON_EXIT_RUNTIME;
	else
		read_all(&g, l);
	if (g.lr.error) {
		mqmon_err("cannot read stdin: %s", strerror(g.lr.error));
		status = MQMON_EXIT_RUNTIME;
	}
	if (!commit(&g) || g.failed)
		status = MQMON_EXIT_RUNTIME;
	else if (!status && g.rejected)
		status = MQMON_EXIT_REJECTS;
	out_flush(&g.tee);
	loop_free(l);
	linereader_free(&g.lr);
	finalize_all(&g);
	strmap_free(&g.topics);
	strmap_free(&g.devices);
	rules_free(&g.rules);
	buf_free(&g.scratch);
	buf_free(&g.name);
	buf_free(&g.fields);
	buf_free(&g.metric_text);
	out_free(&g.tee);
	store_close(g.st);
	return status;
}
