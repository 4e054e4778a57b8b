/*
 * ingest.c — envelopes from stdin into the database.
 *
 * Every line is a message row; what the message means (its device, status,
 * metrics, state) comes from the meaning layer (meaning.h), the same one
 * mqmon-status reads with.  Writes go into one transaction per batch:
 * topics and devices seen in a batch are gathered in memory (the device
 * table, devtable.h) and written once per batch, so a fleet's thousands of
 * messages per second cost one upsert per topic and device, not per
 * message.  A crash loses at most the open batch; SQLite's WAL keeps the
 * file consistent whatever happens.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpointer.h"
#include "devtable.h"
#include "envelope.h"
#include "ingest.h"
#include "linereader.h"
#include "log.h"
#include "loop.h"
#include "meaning.h"
#include "mqmon.h"
#include "out.h"
#include "props.h"
#include "readahead.h"
#include "rules.h"
#include "store.h"
#include "strmap.h"
#include "timeutil.h"

struct topic_stat {
	char first[TIME_RFC3339_LEN + 1], last[TIME_RFC3339_LEN + 1];
	long count;
	const char *kind;
	char *device; /* device_len bytes (a device_id may hold a NUL) */
	size_t device_len;
	enum envelope_enc enc;
	struct buf payload;
};

/* Metric rows wait here and go in 64 at a time: one multi-row INSERT costs
 * far less than 64 single ones, and a telemetry body brings several. */
#define METRIC_CHUNK 64

/* Message rows too, 32 a statement: a statement's own cost (its start,
 * its end) was a sixth of a message's insert.  They wait at most until the
 * batch of lines they point into is done (store_batch). */
#define MESSAGE_CHUNK 32

struct message_row {
	char ts[TIME_RFC3339_LEN + 1];
	const struct read_line *rl;
};

/* The series ids known (device and metric -> id): at most this many, then
 * the cache starts afresh */
#define SERIES_CACHE_MAX 100000

struct metric_row {
	int64_t ts;
	int64_t seq; /* a guess (store_metrics), which the primary key checks */
	sqlite3_int64 series;
	double value;
};

/* A cached series id (a struct: a strmap value is a pointer) */
struct cached_series {
	sqlite3_int64 id;
};

struct ingest {
	const struct ingest_opts *o;
	struct store *st;
	struct checkpointer *ckpt; /* NULL: SQLite checkpoints in the commit */
	struct rules rules;
	struct readahead ra; /* lines decoded ahead, on a second thread */
	sqlite3_stmt *ins_message, *ins_messages, *upsert_topic, *upsert_device, *update_status, *ins_metric,
	        *ins_metric_chunk, *ins_metric_seq, *sel_point_next, *sel_series, *ins_series, *sel_state,
	        *upsert_state, *ins_change, *ins_reject, *prune_messages, *prune_metrics, *prune_changes;
	struct strmap topics; /* struct topic_stat, this batch's */
	struct devtable devices; /* this batch's */
	bool in_tx;
	long pending; /* lines in the open transaction */
	int64_t pending_since; /* monotonic ms of its first line */
	struct loop_timer flush_due, prune_due;
	struct linereader lr;
	int in_flags; /* the input's file status flags before ours, or -1 */
	unsigned long rejected;
	struct out tee;
	bool failed;
	struct metric_row metric_rows[METRIC_CHUNK];
	size_t nmetric_rows;
	struct message_row message_rows[MESSAGE_CHUNK];
	size_t nmessage_rows;
	struct strmap series; /* device and metric -> struct cached_series */
	/* the millisecond of the last point queued, and the seq the next
	 * point in it should take: one more than the last this process
	 * stored there, else 0.  Only a guess: a point whose seq is taken
	 * goes in on its own with the next free one, so a live stream,
	 * hundreds of readings in one millisecond, need not redo a whole
	 * chunk of points one by one. */
	int64_t point_ms, point_next;
	struct buf series_key;
};

static bool flush_metrics(struct ingest *g);
static bool flush_messages(struct ingest *g);

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

/* Every statement is stepped and reset before the text it was given
 * goes away, so SQLite need not copy it. */
static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t n)
{
	if (s)
		sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	bind_text(st, i, s, s ? strlen(s) : 0);
}

static void bind_ts(sqlite3_stmt *st, int i, int64_t ms)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(ms, ts);
	sqlite3_bind_text(st, i, ts, TIME_RFC3339_LEN, SQLITE_TRANSIENT);
}

static void bind_body(sqlite3_stmt *st, int i, enum envelope_enc enc, const char *p, size_t n)
{
	/* binary bodies as BLOBs, so the sqlite3 shell shows them as such */
	if (enc == ENC_BASE64)
		sqlite3_bind_blob(st, i, p ? p : "", (int)n, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, i, p ? p : "", (int)n, SQLITE_STATIC);
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
		bind_text(st, 3, t->device, t->device_len);
		bind_str(st, 4, t->first);
		bind_str(st, 5, t->last);
		sqlite3_bind_int64(st, 6, t->count);
		bind_str(st, 7, envelope_enc_name(t->enc));
		bind_body(st, 8, t->enc, t->payload.data, t->payload.len);
		run(g, st, "update the topics table", 0);
	}
	buf_free(&t->payload);
	free(t->device);
	free(t);
}

static void bind_device_text(sqlite3_stmt *st, int i, const struct devtable_text *t)
{
	bind_text(st, i, t->s, t->len);
}

/* A device of the batch: its counts, then its status unless the one on
 * disk is newer. */
static void flush_device(void *ctx, struct device *d)
{
	struct ingest *g = ctx;
	if (g->failed)
		return;
	sqlite3_stmt *st = g->upsert_device;
	bind_text(st, 1, d->id, d->id_len);
	bind_ts(st, 2, d->first_ms);
	bind_ts(st, 3, d->last_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)d->messages);
	if (!run(g, st, "update the devices table", 0) || !d->status_changed)
		return;
	st = g->update_status;
	bind_text(st, 1, d->id, d->id_len);
	if (d->online >= 0)
		sqlite3_bind_int(st, 2, d->online);
	bind_device_text(st, 3, &d->st->status);
	bind_device_text(st, 4, &d->st->ip);
	bind_device_text(st, 5, &d->st->firmware);
	bind_device_text(st, 6, &d->st->fields);
	bind_device_text(st, 7, &d->st->topic);
	bind_ts(st, 8, d->st->ms);
	run(g, st, "update the device's status", 0);
}

static bool commit(struct ingest *g)
{
	if (!g->in_tx)
		return !g->failed;
	if (!g->failed && flush_messages(g))
		flush_metrics(g);
	strmap_drain(&g->topics, flush_topic, g);
	devtable_flush(&g->devices, true, flush_device, g);
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

/* ---- what a message leaves behind ---- */

static void note_topic(struct ingest *g, const struct envelope *e, const char *ts, const struct meaning *m)
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
	t->kind = m->rule ? rule_kind_name(m->kind) : NULL;
	if (m->device &&
	    (!t->device || t->device_len != m->device_len || memcmp(t->device, m->device, m->device_len) != 0)) {
		free(t->device);
		t->device = xstrndup(m->device, m->device_len);
		t->device_len = m->device_len;
	}
	t->enc = e->enc;
	buf_reset(&t->payload);
	buf_add(&t->payload, e->payload, e->payload_len);
}

static void bind_metric(sqlite3_stmt *st, int first, const struct metric_row *r)
{
	sqlite3_bind_int64(st, first, r->ts);
	sqlite3_bind_int64(st, first + 1, r->series);
	sqlite3_bind_double(st, first + 2, r->value);
}

/* A row with its guessed seq. */
static void bind_guessed(sqlite3_stmt *st, int first, const struct metric_row *r)
{
	sqlite3_bind_int64(st, first, r->ts);
	sqlite3_bind_int64(st, first + 1, r->seq);
	sqlite3_bind_int64(st, first + 2, r->series);
	sqlite3_bind_double(st, first + 3, r->value);
}

/* After points went in with the next free seq: the guesses go on after
 * the last one of the current millisecond. */
static bool resync_point_next(struct ingest *g)
{
	sqlite3_stmt *st = g->sel_point_next;
	sqlite3_bind_int64(st, 1, g->point_ms);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		g->point_next = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || db_fail(g, "read the points", 0);
}

/* The rows as points: 64 in one statement with their guessed seq; when
 * one of them is taken (a replay, another writer, a restart in the same
 * millisecond), the statement stores nothing and every row goes in on its
 * own, with the next free seq when its guess is taken.  A guess is one
 * more than a seq stored, so one that is free is the next free one: the
 * points are the same either way. */
static bool flush_metrics(struct ingest *g)
{
	bool ok = true, one_by_one = g->nmetric_rows < METRIC_CHUNK, moved = false;
	if (!one_by_one) {
		sqlite3_stmt *st = g->ins_metric_chunk;
		for (size_t i = 0; i < METRIC_CHUNK; i++)
			bind_guessed(st, (int)(4 * i + 1), &g->metric_rows[i]);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			one_by_one = true;
		else if (rc != SQLITE_DONE)
			ok = db_fail(g, "store metrics", 0);
	}
	bool guess = true; /* until one is taken: then the guesses are off */
	for (size_t i = 0; i < g->nmetric_rows && ok && one_by_one; i++) {
		int rc = SQLITE_CONSTRAINT_PRIMARYKEY;
		if (guess) {
			bind_guessed(g->ins_metric_seq, 1, &g->metric_rows[i]);
			rc = sqlite3_step(g->ins_metric_seq);
			sqlite3_reset(g->ins_metric_seq);
			guess = rc != SQLITE_CONSTRAINT_PRIMARYKEY;
		}
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			bind_metric(g->ins_metric, 1, &g->metric_rows[i]);
			ok = run(g, g->ins_metric, "store metrics", 0);
			moved = true;
		} else if (rc != SQLITE_DONE) {
			ok = db_fail(g, "store metrics", 0);
		}
	}
	g->nmetric_rows = 0;
	return ok && (!moved || resync_point_next(g));
}

/* The id of the series (device, or none, and metric), added if new; 0
 * after a database error. */
static sqlite3_int64 series_id(struct ingest *g, const char *dev, size_t dlen, const char *name, size_t nlen)
{
	struct buf *k = &g->series_key;
	if (!dev)
		dlen = 0;
	buf_reset(k);
	buf_addc(k, dev ? 'd' : '-');
	buf_add(k, &dlen, sizeof dlen);
	buf_add(k, dev, dlen);
	buf_add(k, name, nlen);
	void **slot = strmap_get(&g->series, k->data, k->len);
	if (slot && *slot)
		return ((struct cached_series *)*slot)->id;
	sqlite3_stmt *st = g->sel_series;
	bind_text(st, 1, dev, dlen);
	bind_text(st, 2, name, nlen);
	int rc = sqlite3_step(st);
	sqlite3_int64 id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(g, "read a series", 0);
		return 0;
	}
	if (!id) {
		st = g->ins_series;
		bind_text(st, 1, dev, dlen);
		bind_text(st, 2, name, nlen);
		if (!run(g, st, "store a series", 0))
			return 0;
		id = sqlite3_last_insert_rowid(g->st->db);
	}
	if (g->series.n >= SERIES_CACHE_MAX)
		strmap_drain(&g->series, strmap_free_value, NULL);
	struct cached_series *c = xmalloc(sizeof *c);
	c->id = id;
	*strmap_put(&g->series, k->data, k->len) = c;
	return id;
}

static bool store_metrics(struct ingest *g, const struct meaning *m, int64_t ts_ms)
{
	for (size_t i = 0; i < m->nmetrics; i++) {
		sqlite3_int64 series =
		        series_id(g, m->device, m->device_len, m->metrics[i].name, m->metrics[i].name_len);
		if (!series)
			return false;
		if (ts_ms != g->point_ms) {
			g->point_ms = ts_ms;
			g->point_next = 0;
		}
		g->metric_rows[g->nmetric_rows++] =
		        (struct metric_row){ts_ms, g->point_next++, series, m->metrics[i].value};
		if (g->nmetric_rows == METRIC_CHUNK && !flush_metrics(g))
			return false;
	}
	return true;
}

/* The state's last value, as (value, ts) of the states table; *found
 * false when there is none. */
static bool read_state(struct ingest *g, const char *dev, size_t dlen, const struct meaning *m, char **value,
                       char **since, unsigned long lineno)
{
	sqlite3_stmt *sel = g->sel_state;
	bind_text(sel, 1, dev, dlen);
	bind_text(sel, 2, m->key, m->key_len);
	int rc = sqlite3_step(sel);
	*value = *since = NULL;
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(sel, 0);
		const char *ts = (const char *)sqlite3_column_text(sel, 1);
		*value = v ? xstrndup(v, (size_t)sqlite3_column_bytes(sel, 0)) : NULL;
		*since = ts ? xstrdup(ts) : NULL;
	}
	sqlite3_reset(sel);
	sqlite3_clear_bindings(sel);
	return rc == SQLITE_ROW || rc == SQLITE_DONE || db_fail(g, "read a state", lineno);
}

/* A state message: a change (and the new value) only when the value
 * differs from the last one. */
static bool store_state(struct ingest *g, const struct meaning *m, const char *ts, unsigned long lineno)
{
	if (!m->value)
		return true;
	const char *dev = m->device ? m->device : "";
	size_t dlen = m->device ? m->device_len : 0;
	char *old, *since;
	if (!read_state(g, dev, dlen, m, &old, &since, lineno))
		return false;
	bool newer = !since || strcmp(ts, since) >= 0; /* an older one (a replay) changes nothing */
	bool changed = !old || strlen(old) != m->value_len || memcmp(old, m->value, m->value_len) != 0;
	bool ok = true;
	if (newer && changed) {
		sqlite3_stmt *st = g->ins_change;
		bind_str(st, 1, ts);
		bind_text(st, 2, dev, dlen);
		bind_text(st, 3, m->key, m->key_len);
		bind_str(st, 4, old);
		bind_text(st, 5, m->value, m->value_len);
		ok = run(g, st, "record a state change", lineno);
		st = g->upsert_state;
		bind_text(st, 1, dev, dlen);
		bind_text(st, 2, m->key, m->key_len);
		bind_text(st, 3, m->value, m->value_len);
		bind_str(st, 4, ts);
		ok = ok && run(g, st, "update a state", lineno);
	}
	free(old);
	free(since);
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

static void bind_message(sqlite3_stmt *st, int first, const struct message_row *r)
{
	const struct envelope *e = &r->rl->e;
	const struct meaning *m = &r->rl->m;
	bind_str(st, first, r->ts);
	bind_text(st, first + 1, e->topic, e->topic_len);
	bind_text(st, first + 2, m->device, m->device_len);
	sqlite3_bind_int(st, first + 3, e->qos > 0 ? e->qos : 0);
	sqlite3_bind_int(st, first + 4, e->retain > 0);
	bind_str(st, first + 5, envelope_enc_name(e->enc));
	bind_body(st, first + 6, e->enc, e->payload, e->payload_len);
	if (r->rl->props_json)
		sqlite3_bind_text(st, first + 7, r->rl->props_json, (int)r->rl->props_json_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, first + 7);
}

/* The message rows waiting, in order: a full chunk in one statement, a
 * part one by one. */
static bool flush_messages(struct ingest *g)
{
	size_t n = g->nmessage_rows;
	g->nmessage_rows = 0;
	if (n == MESSAGE_CHUNK) {
		for (size_t i = 0; i < n; i++)
			bind_message(g->ins_messages, (int)(8 * i + 1), &g->message_rows[i]);
		if (!run(g, g->ins_messages, "store the messages", g->message_rows[0].rl->ln.lineno))
			return false;
		if (sqlite3_changes(g->st->db) != MESSAGE_CHUNK) {
			mqmon_err("line %lu: %d of %d messages stored", g->message_rows[0].rl->ln.lineno,
			          sqlite3_changes(g->st->db), MESSAGE_CHUNK);
			g->failed = true;
			return false;
		}
		return true;
	}
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		bind_message(g->ins_message, 1, &g->message_rows[i]);
		ok = run(g, g->ins_message, "store the message", g->message_rows[i].rl->ln.lineno);
	}
	return ok;
}

static bool queue_message(struct ingest *g, const struct read_line *rl, const char *ts)
{
	struct message_row *r = &g->message_rows[g->nmessage_rows++];
	memcpy(r->ts, ts, sizeof r->ts);
	r->rl = rl;
	return g->nmessage_rows < MESSAGE_CHUNK || flush_messages(g);
}

static bool store_message(struct ingest *g, const struct read_line *rl)
{
	const struct envelope *e = &rl->e;
	const struct meaning *m = &rl->m;
	const struct line *ln = &rl->ln;
	int64_t ts_ms = e->has_ts ? e->ts_ms : time_now_ms();
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(ts_ms, ts);
	if (!begin(g))
		return false;
	bool ok = queue_message(g, rl, ts);
	if (ok) {
		note_topic(g, e, ts, m);
		devtable_note(&g->devices, m, e, ts_ms);
		if (m->kind == RULE_TELEMETRY)
			ok = store_metrics(g, m, ts_ms);
		else if (m->kind == RULE_STATE)
			ok = store_state(g, m, ts, ln->lineno);
	}
	g->pending++;
	return ok;
}

static bool store_line(struct ingest *g, const struct read_line *rl)
{
	const struct line *ln = &rl->ln;
	if (g->o->tee) {
		struct buf *b = out_buf(&g->tee);
		buf_add(b, ln->data, ln->len);
		buf_addc(b, '\n');
		out_commit(&g->tee);
	}
	switch (rl->kind) {
	case READ_BLANK: return true;
	case READ_EVENT: return g->o->strict ? store_reject(g, ln, "an event line, not a message (--strict)") : true;
	case READ_ERROR: return store_reject(g, ln, rl->err);
	case READ_MESSAGE: break;
	}
	return store_message(g, rl);
}

static void store_one(struct ingest *g, const struct read_line *rl)
{
	store_line(g, rl);
	if (g->pending >= g->o->batch)
		commit(g);
}

/* The lines of b, whose messages are all stored when it is given back. */
static void store_batch(struct ingest *g, const struct read_batch *b)
{
	for (size_t i = 0; i < b->n && !g->failed; i++)
		store_one(g, &b->lines[i]);
	if (!g->failed)
		flush_messages(g);
}

/* Every line read so far, stored: what is still being decoded (waited
 * for), then what came since. */
static void store_what_is_read(struct ingest *g)
{
	const struct read_batch *b;
	while ((b = readahead_flush(&g->ra)))
		store_batch(g, b);
}

/* The input has paused: what it left goes to be decoded while the loop
 * waits (a pipe's worth: the thread says when it is done, on_decoded), or
 * a few lines are stored now; with a batch still being decoded, they wait
 * for it. */
static void store_rest(struct ingest *g)
{
	if (readahead_in_flight(&g->ra) || readahead_send_rest(&g->ra))
		return;
	store_what_is_read(g);
}

/* The thread has decoded a batch handed over when the input paused. */
static void on_decoded(void *ctx, short revents)
{
	struct ingest *g = ctx;
	(void)revents;
	const struct read_batch *b = readahead_take(&g->ra);
	if (g->failed || !b)
		return;
	store_batch(g, b);
	if (!g->failed)
		store_rest(g);
}

/* Back to the loop (its timers, a signal) at least this often while the
 * input keeps coming. */
#define STORE_LINES_MAX_MS 100

/* The lines waiting in the input.  A full batch goes to be decoded while
 * the one before it is stored, and reading goes on while the input has
 * more at once; when it pauses, store_rest. */
static void store_lines(struct ingest *g)
{
	int64_t until = time_mono_ms() + (g->o->flush_ms < STORE_LINES_MAX_MS ? g->o->flush_ms : STORE_LINES_MAX_MS);
	for (;;) {
		struct line ln;
		while (!g->failed && linereader_next(&g->lr, &ln)) {
			if (ln.len > READAHEAD_LINE_MAX) {
				store_what_is_read(g);
				if (!g->failed)
					store_one(g, readahead_now(&g->ra, &ln));
				if (!g->failed)
					flush_messages(g); /* the line goes with the next call */
			} else if (readahead_add(&g->ra, &ln)) {
				const struct read_batch *b = readahead_send(&g->ra);
				if (b)
					store_batch(g, b);
			}
		}
		if (g->failed || !readahead_pending(&g->ra))
			return;
		/* the input is non-blocking (setup): a read that would wait
		 * fails at once */
		if (g->lr.eof || g->in_flags < 0 || time_mono_ms() >= until || linereader_fill(&g->lr) < 0)
			break;
	}
	store_rest(g);
}

/* ---- setup ---- */

static const char sql_ins_message[] =
        "INSERT INTO messages(ts, topic, device, qos, retain, enc, payload, props) VALUES (?,?,?,?,?,?,?,?)";
/* OR IGNORE: a statement of many rows that could fail halfway (a NOT NULL
 * constraint) must first copy every page it changes into a statement
 * journal, to undo its first rows; one that cannot fail need not.  Every
 * row has its NOT NULL values (bind_message), so none is ignored, and
 * flush_messages checks that all went in. */
static const char sql_ins_messages[] =
        "INSERT OR IGNORE INTO messages(ts, topic, device, qos, retain, enc, payload, props) VALUES (?,?,?,?,?,?,?,?)";
static const char sql_upsert_topic[] =
        "INSERT INTO topics(topic, kind, device, first_seen, last_seen, count, last_enc, last_payload)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(topic) DO UPDATE SET"
        " kind = excluded.kind, device = coalesce(excluded.device, device),"
        " first_seen = min(first_seen, excluded.first_seen),"
        " count = count + excluded.count,"
        " last_enc = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_enc ELSE last_enc END,"
        " last_payload = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_payload ELSE last_payload END,"
        " last_seen = max(last_seen, excluded.last_seen)";
static const char sql_ins_point[] = "INSERT INTO points(ts_ms, seq, series, value) VALUES (?,?,?,?)";
/* the next free seq of the millisecond ?1 */
#define SQL_POINT_NEXT "SELECT coalesce(max(seq) + 1, 0) FROM points WHERE ts_ms = ?1"
static const char sql_ins_metric[] =
        "INSERT INTO points(ts_ms, seq, series, value) VALUES (?1, (" SQL_POINT_NEXT "), ?2, ?3)";
static const char sql_sel_point_next[] = SQL_POINT_NEXT;
static const char sql_sel_state[] = "SELECT value, ts FROM states WHERE device = ? AND key = ?";
static const char sql_upsert_state[] =
        "INSERT INTO states(device, key, value, ts) VALUES (?,?,?,?)"
        " ON CONFLICT(device, key) DO UPDATE SET value = excluded.value, ts = excluded.ts";
static const char sql_ins_change[] =
        "INSERT INTO state_changes(ts, device, key, old_value, new_value) VALUES (?,?,?,?,?)";
static const char sql_ins_reject[] = "INSERT INTO rejects(ts, source, line, error, input) VALUES (?,?,?,?,?)";

/* The two statements that write the devices table, with its column names
 * from store_device_columns[]. */
static void devices_sql(struct buf *upsert, struct buf *update)
{
	const char *const *c = store_device_columns;
	buf_printf(upsert,
	           "INSERT INTO devices(%s, %s, %s, %s) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(%s) DO UPDATE SET"
	           " %s = min(%s, excluded.%s), %s = max(%s, excluded.%s), %s = %s + excluded.%s",
	           c[DEVCOL_DEVICE], c[DEVCOL_FIRST_SEEN], c[DEVCOL_LAST_SEEN], c[DEVCOL_MESSAGES], c[DEVCOL_DEVICE],
	           c[DEVCOL_FIRST_SEEN], c[DEVCOL_FIRST_SEEN], c[DEVCOL_FIRST_SEEN], c[DEVCOL_LAST_SEEN],
	           c[DEVCOL_LAST_SEEN], c[DEVCOL_LAST_SEEN], c[DEVCOL_MESSAGES], c[DEVCOL_MESSAGES],
	           c[DEVCOL_MESSAGES]);
	/* what the status says replaces what it does not leave out, unless
	 * the status on disk is newer (a replay) */
	buf_printf(update, "UPDATE devices SET");
	static const enum store_device_col said[] = {DEVCOL_ONLINE, DEVCOL_STATUS, DEVCOL_IP, DEVCOL_FIRMWARE,
	                                             DEVCOL_FIELDS};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(said); i++)
		buf_printf(update, " %s = coalesce(?%zu, %s),", c[said[i]], i + 2, c[said[i]]);
	buf_printf(update, " %s = ?7, %s = ?8 WHERE %s = ?1 AND (%s IS NULL OR ?8 >= %s)", c[DEVCOL_STATUS_TOPIC],
	           c[DEVCOL_STATUS_TS], c[DEVCOL_DEVICE], c[DEVCOL_STATUS_TS], c[DEVCOL_STATUS_TS]);
}

static bool prepare_all(struct ingest *g)
{
	struct buf upsert_device = BUF_INIT, update_status = BUF_INIT, chunk = BUF_INIT, messages = BUF_INIT;
	devices_sql(&upsert_device, &update_status);
	buf_adds(&messages, sql_ins_messages);
	for (int i = 1; i < MESSAGE_CHUNK; i++)
		buf_adds(&messages, ",(?,?,?,?,?,?,?,?)");
	buf_adds(&chunk, sql_ins_point);
	for (int i = 1; i < METRIC_CHUNK; i++)
		buf_adds(&chunk, ",(?,?,?,?)");
	struct {
		sqlite3_stmt **st;
		const char *sql;
	} list[] = {
	        {&g->ins_message, sql_ins_message},
	        {&g->ins_messages, buf_cstr(&messages)},
	        {&g->upsert_topic, sql_upsert_topic},
	        {&g->upsert_device, buf_cstr(&upsert_device)},
	        {&g->update_status, buf_cstr(&update_status)},
	        {&g->ins_metric, sql_ins_metric},
	        {&g->ins_metric_chunk, buf_cstr(&chunk)},
	        {&g->ins_metric_seq, sql_ins_point},
	        {&g->sel_point_next, sql_sel_point_next},
	        {&g->sel_series, "SELECT id FROM series WHERE device IS ?1 AND metric = ?2"},
	        {&g->ins_series, "INSERT INTO series(device, metric) VALUES (?1, ?2)"},
	        {&g->sel_state, sql_sel_state},
	        {&g->upsert_state, sql_upsert_state},
	        {&g->ins_change, sql_ins_change},
	        {&g->ins_reject, sql_ins_reject},
	        {&g->prune_messages, "DELETE FROM messages WHERE ts < ?"},
	        {&g->prune_metrics, "DELETE FROM points WHERE ts_ms < ?"},
	        {&g->prune_changes, "DELETE FROM state_changes WHERE ts < ?"},
	};
	bool ok = true;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(list) && ok; i++)
		ok = (*list[i].st = store_prepare(g->st, list[i].sql)) != NULL;
	buf_free(&upsert_device);
	buf_free(&update_status);
	buf_free(&chunk);
	buf_free(&messages);
	return ok;
}

static void finalize_all(struct ingest *g)
{
	sqlite3_stmt *all[] = {g->ins_message,    g->ins_messages,     g->upsert_topic,   g->upsert_device,
	                       g->update_status,  g->ins_metric,       g->sel_state,      g->upsert_state,
	                       g->ins_change,     g->ins_reject,       g->prune_messages, g->prune_metrics,
	                       g->prune_changes,  g->ins_metric_chunk, g->sel_series,     g->ins_series,
	                       g->ins_metric_seq, g->sel_point_next};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(all); i++)
		sqlite3_finalize(all[i]);
}

/* After a signal: input quiet this long, or this long in all, ends the run. */
#define DRAIN_IDLE_MS 200
#define DRAIN_MAX_MS 3000

/* --retain: delete what is older, at start and every minute */
#define PRUNE_EVERY_MS 60000

static bool prune_old(struct ingest *g)
{
	char cutoff[TIME_RFC3339_LEN + 1];
	int64_t cutoff_ms = time_now_ms() - g->o->retain_ms;
	time_format_ms(cutoff_ms, cutoff);
	sqlite3_stmt *list[] = {g->prune_messages, g->prune_metrics, g->prune_changes};
	if (!begin(g))
		return false;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(list); i++) {
		if (list[i] == g->prune_metrics)
			sqlite3_bind_int64(list[i], 1, cutoff_ms);
		else
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
	int64_t draining = 0; /* after a signal: read on until then */
	while (!g->failed) {
		store_lines(g);
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
	if (!g->failed)
		store_what_is_read(g);
}

/* Open the database and get ready; false after reporting why not. */
static bool setup(struct ingest *g, struct loop *l)
{
	const struct ingest_opts *o = g->o;
	char err[1024];
	g->st = store_open(o->db, STORE_WRITE, err, sizeof err);
	if (!g->st) {
		mqmon_err("%s", err);
		return false;
	}
	g->ckpt = checkpointer_start(g->st, STORE_WAL_CHECKPOINT_PAGES);
	for (size_t i = 0; i < o->rules->n; i++) {
		const char *why;
		rules_add(&g->rules, o->rules->items[i], &why); /* checked while parsing */
	}
	rules_add_defaults(&g->rules);
	g->flush_due = (struct loop_timer){0, on_flush_due, g};
	g->prune_due = (struct loop_timer){0, on_prune_due, g};
	loop_add_timer(l, &g->flush_due);
	loop_add_timer(l, &g->prune_due);
	g->in_flags = fcntl(o->in_fd, F_GETFL);
	if (g->in_flags >= 0)
		fcntl(o->in_fd, F_SETFL, g->in_flags | O_NONBLOCK);
	loop_add_fd(l, o->in_fd, on_stdin, g);
	if (readahead_fd(&g->ra) >= 0)
		loop_add_fd(l, readahead_fd(&g->ra), on_decoded, g);
	return prepare_all(g) && (!o->retain_ms || prune_old(g));
}

static void teardown(struct ingest *g)
{
	/* the flags belong to the open file, which others share: a terminal
	 * left non-blocking would break the shell that reads it next */
	if (g->in_flags >= 0 && !(g->in_flags & O_NONBLOCK))
		fcntl(g->o->in_fd, F_SETFL, g->in_flags);
	finalize_all(g);
	strmap_free(&g->topics);
	devtable_free(&g->devices);
	readahead_free(&g->ra);
	rules_free(&g->rules);
	strmap_drain(&g->series, strmap_free_value, NULL);
	strmap_free(&g->series);
	buf_free(&g->series_key);
	linereader_free(&g->lr);
	out_free(&g->tee);
	checkpointer_stop(g->ckpt);
	store_close(g->st);
}

int ingest_run(const struct ingest_opts *o)
{
	struct ingest g = {.o = o, .in_flags = -1};
	/* a full file-size limit must show up as an error, not kill us */
	signal(SIGXFSZ, SIG_IGN);
	out_init(&g.tee, STDOUT_FILENO);
	linereader_init(&g.lr, o->in_fd);
	readahead_init(&g.ra, &g.rules);
	devtable_init(&g.devices);
	struct loop *l = loop_new();
	int status = MQMON_EXIT_OK;
	if (!setup(&g, l))
		status = MQMON_EXIT_RUNTIME;
	else
		read_all(&g, l);
	if (g.lr.error) {
		mqmon_err("cannot read stdin: %s", strerror(g.lr.error));
		status = MQMON_EXIT_RUNTIME;
	}
	if (g.st && (!commit(&g) || g.failed))
		status = MQMON_EXIT_RUNTIME;
	else if (!status && g.rejected)
		status = MQMON_EXIT_REJECTS;
	out_flush(&g.tee);
	loop_free(l);
	teardown(&g);
	return status;
}
