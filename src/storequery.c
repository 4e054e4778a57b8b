/*
 * storequery.c — mqmon-store's read side: query (the archive back as
 * envelopes, ready for mqmon-pub, several databases merged in time order),
 * topics, devices, series, prune and stats.
 *
 * Every value from the command line reaches SQL as a bound parameter; the
 * SQL text itself is assembled only from fixed pieces and '?'.  Topic
 * filters use the (topic, ts) index where they can: the literal levels
 * before the first wildcard become a range (topic >= prefix AND topic <
 * the prefix's successor), and an SQL function, mqmon_topic_match(), does
 * the exact MQTT matching (topic_matches()) on what the range lets
 * through.  Rows stream from SQLite to the output one at a time; only a
 * table holds rows back, a bounded number (rowfmt.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base64.h"
#include "envelope.h"
#include "json.h"
#include "log.h"
#include "mqmon.h"
#include "props.h"
#include "rowfmt.h"
#include "store.h"
#include "storequery.h"
#include "timeutil.h"
#include "topic.h"
#include "utf8.h"

/* ---- usage ---- */

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mqmon_err("%s", msg);
	fprintf(stderr, "Try '%s --help'.\n", log_progname());
	return MQMON_EXIT_USAGE;
}

/* Options given on the command line (or in the environment) that the
 * subcommand does not take are a usage error rather than silently
 * ignored; the config file may hold defaults for every subcommand. */
static int check_opts(const struct storequery_opts *o, const char *sub, unsigned takes)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	        {SQ_TOPIC, "--topic"},
	        {SQ_DEVICE, "--device"},
	        {SQ_TIME, "--since/--until"},
	        {SQ_LIMIT, "--limit"},
	        {SQ_SERIES, "--metric/--every/--agg"},
	        {SQ_PRUNE, "--older-than"},
	};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(names); i++)
		if ((o->given & names[i].bit) && !(takes & names[i].bit))
			return usage("%s does not apply to '%s'", names[i].name, sub);
	return 0;
}

/* ---- opening ---- */

/* sqlite: mqmon_topic_match(topic) is 1 when any --topic filter matches. */
static void sql_topic_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const struct storequery_opts *o = sqlite3_user_data(ctx);
	const char *t = (const char *)sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	int hit = 0;
	(void)argc;
	for (size_t i = 0; t && i < o->ntopics && !hit; i++)
		hit = topic_matches(o->topics[i], t, (size_t)n);
	sqlite3_result_int(ctx, hit);
}

/* Open one database; on failure the error (naming the file) is on stderr. */
static struct store *open_db(const char *path, enum store_mode mode, const struct storequery_opts *o)
{
	char err[512];
	struct store *s = store_open(path, mode, err, sizeof err);
	if (!s) {
		mqmon_err("%s", err);
		return NULL;
	}
	if (sqlite3_create_function_v2(s->db, "mqmon_topic_match", 1,
	                               SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, (void *)o,
	                               sql_topic_match, NULL, NULL, NULL) != SQLITE_OK) {
		mqmon_err("%s", store_errmsg(s));
		store_close(s);
		return NULL;
	}
	return s;
}

/* ---- building statements ---- */

struct sql_arg {
	bool is_int;
	char *s; /* owned */
	size_t n;
	int64_t i;
};

/* SQL text with '?' for each argument, in order. */
struct sql {
	struct buf text;
	struct sql_arg *args;
	size_t nargs, cap;
};

static void sql_free(struct sql *q)
{
	for (size_t i = 0; i < q->nargs; i++)
		free(q->args[i].s);
	free(q->args);
	buf_free(&q->text);
}

static struct sql_arg *sql_new_arg(struct sql *q)
{
	if (q->nargs == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 8;
		q->args = xrealloc(q->args, q->cap * sizeof *q->args);
	}
	struct sql_arg *a = &q->args[q->nargs++];
	memset(a, 0, sizeof *a);
	buf_addc(&q->text, '?');
	return a;
}

static void sql_text(struct sql *q, const char *s, size_t n)
{
	struct sql_arg *a = sql_new_arg(q);
	a->s = xstrndup(s, n);
	a->n = n;
}

static void sql_int(struct sql *q, int64_t i)
{
	struct sql_arg *a = sql_new_arg(q);
	a->is_int = true;
	a->i = i;
}

/* " LIMIT ?" when there is a limit */
static void sql_limit(struct sql *q, long limit)
{
	if (limit > 0) {
		buf_adds(&q->text, " LIMIT ");
		sql_int(q, limit);
	}
}

static void sql_ts(struct sql *q, int64_t ms)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(ms, ts);
	sql_text(q, ts, TIME_RFC3339_LEN);
}

/* Prepare q on s and bind its arguments; NULL after reporting an error. */
static sqlite3_stmt *sql_prepare(struct store *s, struct sql *q)
{
	sqlite3_stmt *st = store_prepare(s, buf_cstr(&q->text));
	if (!st)
		return NULL;
	for (size_t i = 0; i < q->nargs; i++) {
		const struct sql_arg *a = &q->args[i];
		int rc = a->is_int ? sqlite3_bind_int64(st, (int)i + 1, a->i)
		                   : sqlite3_bind_text(st, (int)i + 1, a->s, (int)a->n, SQLITE_TRANSIENT);
		if (rc != SQLITE_OK) {
			mqmon_err("%s", store_errmsg(s));
			sqlite3_finalize(st);
			return NULL;
		}
	}
	return st;
}

/* The filter without a "$share/GROUP/" prefix (matching ignores it). */
static const char *filter_body(const char *f)
{
	if (strncmp(f, "$share/", 7) != 0)
		return f;
	const char *slash = strchr(f + 7, '/');
	return slash ? slash + 1 : f;
}

/* " AND (...)" restricting column col to what the --topic filters can
 * match, or nothing when a filter starts with a wildcard (every topic is a
 * candidate: no index range helps).  Each filter gives "col = ?" when it
 * has no wildcard, else "(col >= ? AND col < ?)" over its literal prefix,
 * plus "col = ?" for the parent level that "a/#" also matches.  Then
 * mqmon_topic_match() decides, unless every filter was a plain topic. */
static void where_topics(struct sql *q, const struct storequery_opts *o, const char *col)
{
	if (o->ntopics == 0)
		return;
	bool wild = false, unbounded = false;
	for (size_t i = 0; i < o->ntopics; i++) {
		const char *f = filter_body(o->topics[i]);
		size_t pre = strcspn(f, "+#");
		if (f[pre])
			wild = true;
		if (pre == 0)
			unbounded = true;
	}
	if (!unbounded) {
		buf_adds(&q->text, " AND (");
		for (size_t i = 0; i < o->ntopics; i++) {
			const char *f = filter_body(o->topics[i]);
			size_t pre = strcspn(f, "+#");
			if (i > 0)
				buf_adds(&q->text, " OR ");
			if (!f[pre]) {
				buf_printf(&q->text, "%s = ", col);
				sql_text(q, f, pre);
				continue;
			}
			/* the successor of the prefix: its last byte below 0xFF
			 * plus one, what follows it dropped */
			size_t hi = pre;
			while (hi > 0 && (unsigned char)f[hi - 1] == 0xFF)
				hi--;
			buf_printf(&q->text, "(%s >= ", col);
			sql_text(q, f, pre);
			if (hi > 0) {
				char *succ = xstrndup(f, hi);
				succ[hi - 1] = (char)((unsigned char)succ[hi - 1] + 1);
				buf_printf(&q->text, " AND %s < ", col);
				sql_text(q, succ, hi);
				free(succ);
			}
			buf_addc(&q->text, ')');
			if (f[pre] == '#' && pre > 0) {
				/* "a/#" also matches "a" */
				buf_printf(&q->text, " OR %s = ", col);
				sql_text(q, f, pre - 1);
			}
		}
		buf_addc(&q->text, ')');
	}
	if (wild)
		buf_printf(&q->text, " AND mqmon_topic_match(%s)", col);
}

/* AND ts >= ? AND ts < ? for --since and --until: on the ts text of the
 * messages, or on the points' ts_ms */
static void where_time(struct sql *q, const struct storequery_opts *o, bool points)
{
	const char *col = points ? "ts_ms" : "ts";
	void (*arg)(struct sql *, int64_t) = points ? sql_int : sql_ts;
	if (o->has_since) {
		buf_printf(&q->text, " AND %s >= ", col);
		arg(q, o->since_ms);
	}
	if (o->has_until) {
		buf_printf(&q->text, " AND %s < ", col);
		arg(q, o->until_ms);
	}
}

/* ---- reading columns ---- */

static const char *col_text(sqlite3_stmt *st, int i, size_t *len)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	*len = s ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return s;
}

/* The bytes of a column, whatever its type (a BLOB as it is, TEXT as its
 * UTF-8); never NULL. */
static const char *col_bytes(sqlite3_stmt *st, int i, size_t *len)
{
	const char *p = sqlite3_column_blob(st, i);
	*len = p ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return p ? p : "";
}

static struct rowfmt_cell col_cell_text(sqlite3_stmt *st, int i)
{
	size_t n;
	const char *s = col_text(st, i, &n);
	return s ? rowfmt_str(s, n) : rowfmt_null();
}

static struct rowfmt_cell col_cell_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return rowfmt_null();
	return rowfmt_int(sqlite3_column_int64(st, i));
}

/* A stored body as a JSON value: the JSON text for enc json (compacted
 * when it spans lines, as envelopes carry it), a string for utf8, a base64
 * string for anything else.  The enc is the stored one when the bytes fit
 * it, else the one the envelope encoder would pick.  Text built here goes
 * to scratch, which must outlive the cell. */
static struct rowfmt_cell payload_cell(struct buf *scratch, const char *p, size_t n, const char *stored,
                                       enum envelope_enc *enc_out)
{
	enum envelope_enc enc = envelope_pick_enc(p, n);
	if (stored && strcmp(stored, "utf8") == 0 && utf8_valid(p, n))
		enc = ENC_UTF8;
	else if (stored && strcmp(stored, "base64") == 0)
		enc = ENC_BASE64;
	*enc_out = enc;
	buf_reset(scratch);
	switch (enc) {
	case ENC_JSON:
		if (memchr(p, '\n', n) || memchr(p, '\r', n)) {
			json_compact(scratch, p, n);
			return rowfmt_json(scratch->data, scratch->len);
		}
		return rowfmt_json(p, n);
	case ENC_UTF8: return rowfmt_str(p, n);
	case ENC_BASE64: break;
	}
	base64_encode(scratch, p, n);
	return rowfmt_str(scratch->data ? scratch->data : "", scratch->len);
}

/* A stored JSON object (devices.fields) as JSON, or as a string if it is
 * somehow not JSON, or null. */
static struct rowfmt_cell json_col_cell(struct buf *scratch, sqlite3_stmt *st, int i)
{
	size_t n;
	const char *s = col_text(st, i, &n);
	if (!s)
		return rowfmt_null();
	if (!json_validate(s, n, NULL))
		return rowfmt_str(s, n);
	buf_reset(scratch);
	json_compact(scratch, s, n);
	return rowfmt_json(scratch->data, scratch->len);
}

/* Step st; false at the end or on an error (reported, *failed set). */
static bool step(struct store *s, sqlite3_stmt *st, bool *failed)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return true;
	if (rc != SQLITE_DONE) {
		mqmon_err("%s", store_errmsg(s));
		*failed = true;
	}
	return false;
}

/* Print rows of a single-database listing; the statement's columns map to
 * the cells through fill(). */
typedef void (*fill_fn)(sqlite3_stmt *st, struct rowfmt_cell *cells, struct buf *scratch);

static int list_rows(const struct storequery_opts *o, struct store *s, struct sql *q, const char *const *names,
                     const struct rowfmt_col *layout, size_t ncols, fill_fn fill)
{
	sqlite3_stmt *st = sql_prepare(s, q);
	if (!st)
		return MQMON_EXIT_RUNTIME;
	struct rowfmt f;
	rowfmt_init(&f, o->format, o->out, names, ncols);
	if (layout)
		rowfmt_table_layout(&f, layout);
	struct rowfmt_cell *cells = xcalloc(ncols, sizeof *cells);
	struct buf scratch = BUF_INIT; /* the one cell per row fill() may build */
	bool failed = false, open = true;
	while (open && step(s, st, &failed)) {
		fill(st, cells, &scratch);
		open = rowfmt_row(&f, cells);
	}
	if (open && !failed)
		rowfmt_finish(&f);
	rowfmt_free(&f);
	free(cells);
	buf_free(&scratch);
	sqlite3_finalize(st);
	return failed ? MQMON_EXIT_RUNTIME : MQMON_EXIT_OK;
}

/* list_rows(), then free q and close s: the end of a listing. */
static int list_and_close(const struct storequery_opts *o, struct store *s, struct sql *q, const char *const *names,
                          const struct rowfmt_col *layout, size_t ncols, fill_fn fill)
{
	int status = list_rows(o, s, q, names, layout, ncols, fill);
	sql_free(q);
	store_close(s);
	return status;
}

/* A payload in a table is cut to no fewer columns than this: bodies are
 * long and mostly cut anyway, but the start of one says what it is. */
#define PAYLOAD_MIN 24

/* ---- query ---- */

/* One database's row stream. */
struct cursor {
	struct store *s;
	sqlite3_stmt *st;
	bool has_row;
};

enum { Q_ID, Q_TS, Q_TOPIC, Q_QOS, Q_RETAIN, Q_PAYLOAD, Q_PROPS };

static void query_sql(struct sql *q, const struct storequery_opts *o)
{
	buf_adds(&q->text, "SELECT id, ts, topic, qos, retain, payload, props FROM messages WHERE 1");
	if (o->device) {
		/* no index on device (it would cost ingest 13 %): a --topic
		 * filter narrows the scan through the (topic, ts) index */
		buf_adds(&q->text, " AND device = ");
		sql_text(q, o->device, strlen(o->device));
	}
	where_time(q, o, false);
	where_topics(q, o, "topic");
	buf_adds(&q->text, " ORDER BY ts, id");
	/* the first N of each database hold the first N of the merge */
	sql_limit(q, o->limit);
}

struct query_out {
	const struct storequery_opts *o;
	struct props_parser props;
	struct buf scratch;
	struct rowfmt f;
};

/* The stored props (the envelope's "props" object as text) decoded back
 * into e->props, so the encoder writes them exactly as for the original
 * message.  Text that does not decode is left out, with a warning. */
static void query_props(struct query_out *q, struct cursor *c, struct envelope *e)
{
	size_t n;
	const char *props = col_text(c->st, Q_PROPS, &n);
	if (!props || n == 0)
		return;
	char err[256];
	if (!(e->props = props_parse_json(&q->props, props, n, err, sizeof err)))
		mqmon_warn("%s: message %lld: stored props left out: %s", c->s->path,
		           (long long)sqlite3_column_int64(c->st, Q_ID), err);
}

/* Print the current row of c: 1 when printed, 0 when skipped (a
 * malformed ts, reported), -1 when the output is closed. */
static int query_row(struct query_out *q, struct cursor *c)
{
	sqlite3_stmt *st = c->st;
	size_t tslen;
	const char *ts = col_text(st, Q_TS, &tslen), *why = "no time";
	struct envelope e = {.qos = sqlite3_column_int(st, Q_QOS), .retain = sqlite3_column_int(st, Q_RETAIN) != 0};
	if (!ts || !time_parse_rfc3339(ts, tslen, &e.ts_ms, &why)) {
		mqmon_warn("%s: message %lld: skipped: ts: %s", c->s->path, (long long)sqlite3_column_int64(st, Q_ID),
		           why);
		return 0;
	}
	e.has_ts = true;
	e.topic = col_text(st, Q_TOPIC, &e.topic_len);
	if (!e.topic)
		e.topic = "";
	e.payload = col_bytes(st, Q_PAYLOAD, &e.payload_len);
	if (q->o->format == ROWFMT_NDJSON) {
		query_props(q, c, &e);
		envelope_encode(out_buf(q->o->out), &e);
		return out_commit(q->o->out) ? 1 : -1;
	}
	char tsbuf[TIME_RFC3339_LEN + 1];
	time_format_ms(e.ts_ms, tsbuf);
	enum envelope_enc enc;
	struct rowfmt_cell cells[6];
	/* the payload as the envelope shows it: enc chosen from the bytes */
	cells[5] = payload_cell(&q->scratch, e.payload, e.payload_len, NULL, &enc);
	cells[0] = rowfmt_str(tsbuf, TIME_RFC3339_LEN);
	cells[1] = rowfmt_str(e.topic, e.topic_len);
	cells[2] = rowfmt_int(e.qos);
	cells[3] = rowfmt_bool(e.retain);
	cells[4] = rowfmt_cstr(envelope_enc_name(enc));
	return rowfmt_row(&q->f, cells) ? 1 : -1;
}

/* Envelopes in time order (ts, then id), exactly as mqmon-sub printed them
 * (minus "mid", which is not stored): topic, qos, retain, ts, props, and
 * the payload with the enc the encoder picks from the stored bytes — the
 * original one, so `mqmon-store query | mqmon-pub` republishes every
 * message with its body byte for byte (JSON bodies as their own text).
 * Filters: --topic (any of them, MQTT wildcards), --device (the rule's
 * device), --since (inclusive) and --until (exclusive), --limit (the first
 * N).  Several --db: each is opened read-only and their streams are merged
 * by ts, ties going to the database given first, then to the lower id;
 * --limit counts the merged rows.  --format table|csv: columns ts, topic,
 * qos, retain, enc, payload (the JSON text, the text, or base64). */
int storequery_query(const struct storequery_opts *o)
{
	int status = check_opts(o, "query", SQ_TOPIC | SQ_DEVICE | SQ_TIME | SQ_LIMIT);
	if (status)
		return status;
	struct cursor *cur = xcalloc(o->ndbs, sizeof *cur);
	struct sql q = {BUF_INIT, NULL, 0, 0};
	query_sql(&q, o);
	bool failed = false;
	for (size_t i = 0; i < o->ndbs && !failed; i++) {
		if (!(cur[i].s = open_db(o->dbs[i], STORE_READ, o)) || !(cur[i].st = sql_prepare(cur[i].s, &q)))
			failed = true;
	}
	sql_free(&q);

	static const char *const names[] = {"ts", "topic", "qos", "retain", "enc", "payload"};
	static const struct rowfmt_col layout[] = {
	        {NULL, ROWFMT_KEEP, 0}, {NULL, ROWFMT_CUT_START, 0}, {NULL, ROWFMT_KEEP, 0},
	        {NULL, ROWFMT_KEEP, 0}, {NULL, ROWFMT_KEEP, 0},      {NULL, ROWFMT_CUT_END, PAYLOAD_MIN},
	};
	struct query_out out = {.o = o};
	props_parser_init(&out.props);
	rowfmt_init(&out.f, o->format, o->out, names, MQMON_ARRAY_LEN(names));
	rowfmt_table_layout(&out.f, layout);
	for (size_t i = 0; i < o->ndbs && !failed; i++)
		cur[i].has_row = step(cur[i].s, cur[i].st, &failed);
	bool open = true;
	long printed = 0;
	while (!failed && open && (o->limit <= 0 || printed < o->limit)) {
		/* k-way merge: the smallest ts; the first database on a tie (each
		 * stream is already in (ts, id) order) */
		struct cursor *best = NULL;
		const char *best_ts = NULL;
		for (size_t i = 0; i < o->ndbs; i++) {
			if (!cur[i].has_row)
				continue;
			const char *ts = (const char *)sqlite3_column_text(cur[i].st, Q_TS);
			if (!ts)
				ts = "";
			if (!best || strcmp(ts, best_ts) < 0) {
				best = &cur[i];
				best_ts = ts;
			}
		}
		if (!best)
			break;
		int r = query_row(&out, best);
		open = r >= 0;
		printed += r > 0;
		best->has_row = step(best->s, best->st, &failed);
	}
	if (!failed && open)
		rowfmt_finish(&out.f);
	rowfmt_free(&out.f);
	props_parser_free(&out.props);
	buf_free(&out.scratch);
	for (size_t i = 0; i < o->ndbs; i++) {
		sqlite3_finalize(cur[i].st);
		store_close(cur[i].s);
	}
	free(cur);
	return failed ? MQMON_EXIT_RUNTIME : MQMON_EXIT_OK;
}

/* ---- topics ---- */

static void fill_topic(sqlite3_stmt *st, struct rowfmt_cell *c, struct buf *scratch)
{
	size_t n;
	const char *stored = (const char *)sqlite3_column_text(st, 6);
	const char *p = col_bytes(st, 7, &n);
	enum envelope_enc enc;
	for (int i = 0; i < 5; i++)
		c[i] = col_cell_text(st, i);
	c[5] = col_cell_int(st, 5);
	if (sqlite3_column_type(st, 7) == SQLITE_NULL) {
		c[6] = rowfmt_cstr(stored);
		c[7] = rowfmt_null();
		return;
	}
	c[7] = payload_cell(scratch, p, n, stored, &enc);
	c[6] = rowfmt_cstr(envelope_enc_name(enc));
}

/* One row per discovered topic, ordered by topic: topic, kind (the rule
 * that matched it, or null), device, first_seen, last_seen, count,
 * last_enc, last_payload (the last body as the JSON value an envelope
 * carries: JSON embedded, text as a string, binary as base64).  --topic
 * filters apply; --limit caps the rows. */
int storequery_topics(const struct storequery_opts *o)
{
	int status = check_opts(o, "topics", SQ_TOPIC | SQ_LIMIT);
	if (status)
		return status;
	struct store *s = open_db(o->dbs[0], STORE_READ, o);
	if (!s)
		return MQMON_EXIT_RUNTIME;
	static const char *const names[] = {"topic",     "kind",  "device",   "first_seen",
	                                    "last_seen", "count", "last_enc", "last_payload"};
	/* the table: topic, kind, last_seen, count, last_payload (the device
	 * is mostly in the topic; the enc shows in the payload) */
	static const struct rowfmt_col layout[] = {
	        {NULL, ROWFMT_CUT_START, 0}, {NULL, ROWFMT_KEEP, 0},
	        {NULL, ROWFMT_HIDE, 0},      {NULL, ROWFMT_HIDE, 0},
	        {NULL, ROWFMT_KEEP, 0},      {NULL, ROWFMT_KEEP, 0},
	        {NULL, ROWFMT_HIDE, 0},      {NULL, ROWFMT_CUT_END, PAYLOAD_MIN},
	};
	struct sql q = {BUF_INIT, NULL, 0, 0};
	buf_adds(&q.text, "SELECT topic, kind, device, first_seen, last_seen, count, last_enc, last_payload"
	                  " FROM topics WHERE 1");
	where_topics(&q, o, "topic");
	buf_adds(&q.text, " ORDER BY topic");
	sql_limit(&q, o->limit);
	return list_and_close(o, s, &q, names, layout, MQMON_ARRAY_LEN(names), fill_topic);
}

/* ---- devices ---- */

static void fill_device(sqlite3_stmt *st, struct rowfmt_cell *c, struct buf *scratch)
{
	for (int i = 0; i < DEVCOL_COUNT; i++)
		c[i] = col_cell_text(st, i);
	c[DEVCOL_ONLINE] = sqlite3_column_type(st, DEVCOL_ONLINE) == SQLITE_NULL
	                           ? rowfmt_null()
	                           : rowfmt_bool(sqlite3_column_int(st, DEVCOL_ONLINE));
	c[DEVCOL_MESSAGES] = col_cell_int(st, DEVCOL_MESSAGES);
	c[DEVCOL_FIELDS] = json_col_cell(scratch, st, DEVCOL_FIELDS);
}

/* "SELECT a, b, … FROM table WHERE 1" over the given columns */
static void select_columns(struct sql *q, const char *const *cols, size_t n, const char *table)
{
	buf_adds(&q->text, "SELECT ");
	for (size_t i = 0; i < n; i++)
		buf_printf(&q->text, "%s%s", i ? ", " : "", cols[i]);
	buf_printf(&q->text, " FROM %s WHERE 1", table);
}

/* One row per device, ordered by device: device, online (true, false or
 * null when unknown), status, last_seen, first_seen, messages, ip_address,
 * firmware_version, fields (the last status body's other members, a JSON
 * object, or null), status_topic, status_ts.  --device picks one. */
int storequery_devices(const struct storequery_opts *o)
{
	int status = check_opts(o, "devices", SQ_DEVICE | SQ_LIMIT);
	if (status)
		return status;
	struct store *s = open_db(o->dbs[0], STORE_READ, o);
	if (!s)
		return MQMON_EXIT_RUNTIME;
	/* the table: device, online, status, last_seen, messages, ip,
	 * firmware; the fields (wide JSON) and where the status came from
	 * stay in ndjson and csv */
	static const struct rowfmt_col layout[DEVCOL_COUNT] = {
	        [DEVCOL_DEVICE] = {NULL, ROWFMT_CUT_MIDDLE, 0}, [DEVCOL_ONLINE] = {NULL, ROWFMT_KEEP, 0},
	        [DEVCOL_STATUS] = {NULL, ROWFMT_CUT_END, 0},    [DEVCOL_LAST_SEEN] = {NULL, ROWFMT_KEEP, 0},
	        [DEVCOL_FIRST_SEEN] = {NULL, ROWFMT_HIDE, 0},   [DEVCOL_MESSAGES] = {NULL, ROWFMT_KEEP, 0},
	        [DEVCOL_IP] = {"ip", ROWFMT_CUT_END, 0},        [DEVCOL_FIRMWARE] = {"firmware", ROWFMT_CUT_END, 0},
	        [DEVCOL_FIELDS] = {NULL, ROWFMT_HIDE, 0},       [DEVCOL_STATUS_TOPIC] = {NULL, ROWFMT_HIDE, 0},
	        [DEVCOL_STATUS_TS] = {NULL, ROWFMT_HIDE, 0},
	};
	struct sql q = {BUF_INIT, NULL, 0, 0};
	select_columns(&q, store_device_columns, DEVCOL_COUNT, "devices");
	if (o->device) {
		buf_adds(&q.text, " AND device = ");
		sql_text(&q, o->device, strlen(o->device));
	}
	buf_adds(&q.text, " ORDER BY device");
	sql_limit(&q, o->limit);
	return list_and_close(o, s, &q, store_device_columns, layout, DEVCOL_COUNT, fill_device);
}

/* ---- series ---- */

struct bucket {
	bool open;
	int64_t start;
	long count;
	double sum, min, max;
};

static bool bucket_row(struct rowfmt *f, const struct bucket *b, enum series_agg agg)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(b->start, ts);
	struct rowfmt_cell c[3] = {rowfmt_str(ts, TIME_RFC3339_LEN), rowfmt_null(), rowfmt_int(b->count)};
	switch (agg) {
	case AGG_AVG: c[1] = rowfmt_real(b->sum / (double)b->count); break;
	case AGG_MIN: c[1] = rowfmt_real(b->min); break;
	case AGG_MAX: c[1] = rowfmt_real(b->max); break;
	case AGG_COUNT: c[1] = rowfmt_int(b->count); break;
	}
	return rowfmt_row(f, c);
}

static void series_sql(struct sql *q, const struct storequery_opts *o)
{
	/* the series' points in time order (the primary key's, on a tie the
	 * order they were stored in) */
	buf_adds(&q->text, "SELECT ts_ms, value FROM points WHERE series = (SELECT id FROM series WHERE device = ");
	sql_text(q, o->device, strlen(o->device));
	buf_adds(&q->text, " AND metric = ");
	sql_text(q, o->metric, strlen(o->metric));
	buf_adds(&q->text, ")");
	where_time(q, o, true);
	buf_adds(&q->text, " ORDER BY ts_ms, seq");
	if (!o->every_ms)
		sql_limit(q, o->limit);
}

/* The bucket (of --every) a sample at ts falls into: aligned to the
 * epoch, floor also before 1970. */
static int64_t bucket_start(int64_t ms, int64_t every)
{
	int64_t start = ms / every;
	if (ms % every < 0)
		start--;
	return start * every;
}

/* Print the samples of st (ts, value): one row each, or one per bucket.
 * Returns the rows printed, -1 once the output is closed. */
static long series_rows(const struct storequery_opts *o, struct store *s, sqlite3_stmt *st, struct rowfmt *f,
                        bool *failed)
{
	struct bucket b = {0};
	long rows = 0;
	while (step(s, st, failed)) {
		int64_t ms = sqlite3_column_int64(st, 0);
		double v = sqlite3_column_double(st, 1);
		if (!o->every_ms) {
			char ts[TIME_RFC3339_LEN + 1];
			time_format_ms(ms, ts);
			struct rowfmt_cell c[2] = {rowfmt_str(ts, TIME_RFC3339_LEN), rowfmt_real(v)};
			if (!rowfmt_row(f, c))
				return -1;
			rows++;
			continue;
		}
		int64_t start = bucket_start(ms, o->every_ms);
		if (b.open && start != b.start) {
			if (!bucket_row(f, &b, o->agg))
				return -1;
			b.open = false;
			if (o->limit > 0 && ++rows >= o->limit)
				return rows;
		}
		if (!b.open)
			b = (struct bucket){.open = true, .start = start, .min = v, .max = v};
		b.count++;
		b.sum += v;
		b.min = v < b.min ? v : b.min;
		b.max = v > b.max ? v : b.max;
	}
	if (!*failed && b.open) {
		if (!bucket_row(f, &b, o->agg))
			return -1;
		rows++;
	}
	return rows;
}

/* Up to 20 values of the first column of sql (with ? = arg, or none) as
 * "a, b, c (and 7 more)"; false on a database error. */
static bool name_list(struct store *s, const char *sql, const char *arg, struct buf *out)
{
	enum { SHOWN = 20 };
	sqlite3_stmt *st = store_prepare(s, sql);
	if (!st)
		return false;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	long n = 0;
	bool failed = false;
	while (step(s, st, &failed)) {
		size_t len;
		const char *v = col_text(st, 0, &len);
		if (n++ < SHOWN) {
			buf_adds(out, n > 1 ? ", " : "");
			utf8_append_lossy(out, v ? v : "(none)", v ? len : 6);
		}
	}
	if (n > SHOWN)
		buf_printf(out, " (and %ld more)", n - SHOWN);
	if (n == 0)
		buf_adds(out, "none");
	sqlite3_finalize(st);
	return !failed;
}

/* The series came out empty: if the archive holds no such device or no
 * such metric of it (not merely none in the time asked), say so, with the
 * names it does hold.  Returns the exit status. */
static int series_missing(const struct storequery_opts *o, struct store *s)
{
	struct buf names = BUF_INIT;
	int status = MQMON_EXIT_OK;
	sqlite3_stmt *st = store_prepare(
	        s, "SELECT (SELECT 1 FROM points WHERE series IN (SELECT id FROM series WHERE device = ?1) LIMIT 1),"
	           " (SELECT 1 FROM points WHERE series IN (SELECT id FROM series WHERE device = ?1 AND metric = ?2)"
	           " LIMIT 1)");
	if (!st)
		return MQMON_EXIT_RUNTIME;
	sqlite3_bind_text(st, 1, o->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->metric, -1, SQLITE_STATIC);
	bool failed = false;
	bool has_device = step(s, st, &failed) && sqlite3_column_type(st, 0) != SQLITE_NULL;
	bool has_metric = !failed && sqlite3_column_type(st, 1) != SQLITE_NULL;
	sqlite3_finalize(st);
	if (failed)
		return MQMON_EXIT_RUNTIME;
	if (!has_device) {
		if (!name_list(s,
		               "SELECT DISTINCT device FROM series WHERE device IS NOT NULL"
		               " AND EXISTS (SELECT 1 FROM points WHERE series = series.id) ORDER BY device",
		               NULL, &names))
			status = MQMON_EXIT_RUNTIME;
		else
			mqmon_err("%s holds no metrics of device '%s'; devices with metrics: %s", s->path, o->device,
			          buf_cstr(&names));
	} else if (!has_metric) {
		if (!name_list(s,
		               "SELECT DISTINCT metric FROM series WHERE device = ?"
		               " AND EXISTS (SELECT 1 FROM points WHERE series = series.id) ORDER BY metric",
		               o->device, &names))
			status = MQMON_EXIT_RUNTIME;
		else
			mqmon_err("device '%s' has no metric '%s' in %s; its metrics: %s", o->device, o->metric,
			          s->path, buf_cstr(&names));
	}
	buf_free(&names);
	return status ? status : has_device && has_metric ? MQMON_EXIT_OK : MQMON_EXIT_RUNTIME;
}

/* A metric of one device over time, from the metrics table, in time
 * order.  Without --every, one row per sample: {"ts","value"}.  With
 * --every SPAN, one row per SPAN-long bucket that has samples (buckets are
 * aligned to the epoch: start = floor(ts / SPAN) * SPAN, and empty ones
 * are not printed): {"ts": the bucket's start, "value": --agg of its
 * samples (avg by default, min, max, count), "count": how many}.  --since
 * and --until bound the samples; --limit caps the rows.  A device or
 * metric the archive does not hold is an error (status 1) naming the ones
 * it holds. */
int storequery_series(const struct storequery_opts *o)
{
	int status = check_opts(o, "series", SQ_DEVICE | SQ_TIME | SQ_LIMIT | SQ_SERIES);
	if (status)
		return status;
	if (!o->device && !o->metric)
		return usage("series needs --device DEVICE and --metric NAME");
	if (!o->device)
		return usage("series needs --device DEVICE");
	if (!o->metric)
		return usage("series needs --metric NAME");
	struct store *s = open_db(o->dbs[0], STORE_READ, o);
	if (!s)
		return MQMON_EXIT_RUNTIME;
	struct sql q = {BUF_INIT, NULL, 0, 0};
	series_sql(&q, o);
	sqlite3_stmt *st = sql_prepare(s, &q);
	sql_free(&q);
	if (!st) {
		store_close(s);
		return MQMON_EXIT_RUNTIME;
	}
	static const char *const names[] = {"ts", "value", "count"};
	struct rowfmt f;
	rowfmt_init(&f, o->format, o->out, names, o->every_ms ? 3 : 2);
	bool failed = false;
	long rows = series_rows(o, s, st, &f, &failed);
	sqlite3_finalize(st);
	if (rows >= 0 && !failed)
		rowfmt_finish(&f);
	rowfmt_free(&f);
	if (rows == 0 && !failed)
		status = series_missing(o, s);
	store_close(s);
	return failed ? MQMON_EXIT_RUNTIME : status;
}

/* ---- metrics ---- */

static void fill_metric(sqlite3_stmt *st, struct rowfmt_cell *c, struct buf *scratch)
{
	(void)scratch;
	c[0] = col_cell_text(st, 0);
	c[1] = col_cell_text(st, 1);
	c[2] = col_cell_int(st, 2);
	c[3] = col_cell_text(st, 3);
	c[4] = col_cell_text(st, 4);
	c[5] = sqlite3_column_type(st, 5) == SQLITE_NULL ? rowfmt_null() : rowfmt_real(sqlite3_column_double(st, 5));
}

/* What the metrics table holds: one row per device and metric, ordered so,
 * with count, first and last (times of the first and last sample) and
 * last_value.  --device picks one device; --since and --until count only
 * the samples in that time; --limit caps the rows. */
int storequery_metrics(const struct storequery_opts *o)
{
	int status = check_opts(o, "metrics", SQ_DEVICE | SQ_TIME | SQ_LIMIT);
	if (status)
		return status;
	struct store *s = open_db(o->dbs[0], STORE_READ, o);
	if (!s)
		return MQMON_EXIT_RUNTIME;
	static const char *const names[] = {"device", "metric", "count", "first", "last", "last_value"};
	static const struct rowfmt_col layout[] = {
	        {NULL, ROWFMT_CUT_MIDDLE, 0}, {NULL, ROWFMT_CUT_MIDDLE, 0}, {NULL, ROWFMT_KEEP, 0},
	        {NULL, ROWFMT_HIDE, 0},       {NULL, ROWFMT_KEEP, 0},       {NULL, ROWFMT_KEEP, 0},
	};
	struct sql q = {BUF_INIT, NULL, 0, 0};
	buf_adds(&q.text, "WITH g AS (SELECT series, count(*) AS n, min(ts_ms) AS first, max(ts_ms) AS last"
	                  " FROM points WHERE 1");
	if (o->device) {
		buf_adds(&q.text, " AND series IN (SELECT id FROM series WHERE device = ");
		sql_text(&q, o->device, strlen(o->device));
		buf_addc(&q.text, ')');
	}
	where_time(&q, o, true);
	/* the last value: the sample at the last time (through the primary
	 * key), the one stored last on a tie */
	buf_adds(
	        &q.text,
	        " GROUP BY series) SELECT s.device, s.metric, n,"
	        " strftime('%Y-%m-%dT%H:%M:%fZ', first / 1000.0, 'unixepoch'),"
	        " strftime('%Y-%m-%dT%H:%M:%fZ', last / 1000.0, 'unixepoch'),"
	        " (SELECT value FROM points AS l WHERE l.ts_ms = g.last AND l.series = g.series"
	        " ORDER BY l.seq DESC LIMIT 1) FROM g JOIN series AS s ON s.id = g.series ORDER BY s.device, s.metric");
	sql_limit(&q, o->limit);
	return list_and_close(o, s, &q, names, layout, MQMON_ARRAY_LEN(names), fill_metric);
}

/* ---- prune ---- */

static bool delete_old(struct store *s, struct sql *q, long long *count)
{
	sqlite3_stmt *st = sql_prepare(s, q);
	if (!st)
		return false;
	bool failed = false;
	step(s, st, &failed);
	*count = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	return !failed;
}

/* Delete what is older than now - --older-than, in one transaction: the
 * messages (only those on topics matching a --topic filter when given)
 * and, without --topic, the metrics and state changes.  The current
 * states, devices and topics stay: they describe the present.  Prints
 * {"deleted":{"messages":N,"metrics":N,"state_changes":N},"before":"<cutoff>"}
 * (a table or CSV: one row with messages, metrics, state_changes,
 * before).  The database must exist; it is opened read-write. */
int storequery_prune(const struct storequery_opts *o)
{
	int status = check_opts(o, "prune", SQ_TOPIC | SQ_PRUNE);
	if (status)
		return status;
	if (o->older_than_ms <= 0)
		return usage("prune needs --older-than SPAN (e.g. 30d)");
	/* STORE_WRITE would create a missing file: pruning nothing is a mistake */
	if (access(o->dbs[0], F_OK) != 0) {
		mqmon_err("%s: %s", o->dbs[0], strerror(errno));
		return MQMON_EXIT_RUNTIME;
	}
	struct store *s = open_db(o->dbs[0], STORE_WRITE, o);
	if (!s)
		return MQMON_EXIT_RUNTIME;
	char before[TIME_RFC3339_LEN + 1], err[512];
	int64_t before_ms = time_now_ms() - o->older_than_ms;
	time_format_ms(before_ms, before);
	long long n[3] = {0, 0, 0};
	bool ok = store_exec(s, "BEGIN IMMEDIATE", err, sizeof err);
	if (ok) {
		struct sql q = {BUF_INIT, NULL, 0, 0};
		buf_adds(&q.text, "DELETE FROM messages WHERE ts < ");
		sql_text(&q, before, TIME_RFC3339_LEN);
		where_topics(&q, o, "topic");
		ok = delete_old(s, &q, &n[0]);
		sql_free(&q);
		static const char *const others[] = {"DELETE FROM points WHERE ts_ms < ",
		                                     "DELETE FROM state_changes WHERE ts < "};
		for (size_t i = 0; i < 2 && ok && o->ntopics == 0; i++) {
			struct sql d = {BUF_INIT, NULL, 0, 0};
			buf_adds(&d.text, others[i]);
			if (i == 0)
				sql_int(&d, before_ms);
			else
				sql_text(&d, before, TIME_RFC3339_LEN);
			ok = delete_old(s, &d, &n[i + 1]);
			sql_free(&d);
		}
		if (ok)
			ok = store_exec(s, "COMMIT", err, sizeof err);
		else
			err[0] = '\0'; /* already reported */
		if (!ok) {
			char ignored[256];
			store_exec(s, "ROLLBACK", ignored, sizeof ignored);
		}
	}
	if (!ok) {
		if (err[0])
			mqmon_err("%s", err);
		store_close(s);
		return MQMON_EXIT_RUNTIME;
	}
	store_close(s);
	if (o->format == ROWFMT_NDJSON) {
		buf_printf(
		        out_buf(o->out),
		        "{\"deleted\":{\"messages\":%lld,\"metrics\":%lld,\"state_changes\":%lld},\"before\":\"%s\"}\n",
		        n[0], n[1], n[2], before);
		out_commit(o->out);
		return MQMON_EXIT_OK;
	}
	static const char *const names[] = {"messages", "metrics", "state_changes", "before"};
	struct rowfmt_cell c[] = {rowfmt_int(n[0]), rowfmt_int(n[1]), rowfmt_int(n[2]),
	                          rowfmt_str(before, TIME_RFC3339_LEN)};
	struct rowfmt f;
	rowfmt_init(&f, o->format, o->out, names, MQMON_ARRAY_LEN(names));
	if (rowfmt_row(&f, c))
		rowfmt_finish(&f);
	rowfmt_free(&f);
	return MQMON_EXIT_OK;
}

/* ---- stats ---- */

enum { STATS_COLS = 12 };

static void fill_stats(sqlite3_stmt *st, struct rowfmt_cell *c, struct buf *scratch)
{
	(void)scratch;
	c[0] = col_cell_text(st, 0);
	for (int i = 1; i < 10; i++)
		c[i] = col_cell_int(st, i);
	c[10] = col_cell_text(st, 10);
	c[11] = col_cell_text(st, 11);
}

/* The one row of stats as a table turned on its side, one line per
 * column, "stat  value": twelve columns side by side do not fit a
 * terminal. */
static int stats_table(const struct storequery_opts *o, struct store *s, struct sql *q, const char *const *names)
{
	sqlite3_stmt *st = sql_prepare(s, q);
	if (!st)
		return MQMON_EXIT_RUNTIME;
	bool failed = false;
	if (step(s, st, &failed)) {
		static const char *const side[] = {"stat", "value"};
		static const struct rowfmt_col layout[] = {{NULL, ROWFMT_KEEP, 0}, {NULL, ROWFMT_CUT_MIDDLE, 0}};
		struct rowfmt_cell c[STATS_COLS];
		struct rowfmt f;
		fill_stats(st, c, NULL);
		rowfmt_init(&f, ROWFMT_TABLE, o->out, side, 2);
		rowfmt_table_layout(&f, layout);
		bool open = true;
		for (size_t i = 0; i < STATS_COLS && open; i++) {
			char num[32];
			struct rowfmt_cell line[2] = {rowfmt_cstr(names[i]), c[i]};
			if (c[i].type == ROWFMT_INT) /* every value to the left, as text */
				line[1] = rowfmt_str(num, (size_t)snprintf(num, sizeof num, "%lld", (long long)c[i].i));
			open = rowfmt_row(&f, line);
		}
		if (open)
			rowfmt_finish(&f);
		rowfmt_free(&f);
	}
	sqlite3_finalize(st);
	return failed ? MQMON_EXIT_RUNTIME : MQMON_EXIT_OK;
}

/* One row about the database: db (the path given), schema (its version),
 * size_bytes (pages × page size: the size it has once the WAL is
 * checkpointed), the row count of every table, and first and last (the
 * oldest and newest message's ts, null when there are none). */
int storequery_stats(const struct storequery_opts *o)
{
	int status = check_opts(o, "stats", 0);
	if (status)
		return status;
	struct store *s = open_db(o->dbs[0], STORE_READ, o);
	if (!s)
		return MQMON_EXIT_RUNTIME;
	static const char *const names[STATS_COLS] = {"db",      "schema",  "size_bytes", "messages",      "topics",
	                                              "devices", "metrics", "states",     "state_changes", "rejects",
	                                              "first",   "last"};
	struct sql q = {BUF_INIT, NULL, 0, 0};
	buf_adds(&q.text, "SELECT ");
	sql_text(&q, o->dbs[0], strlen(o->dbs[0]));
	buf_adds(&q.text, ", ");
	sql_int(&q, s->version);
	buf_adds(&q.text,
	         ", (SELECT p.page_count * s.page_size FROM pragma_page_count() AS p, pragma_page_size() AS s),"
	         " (SELECT count(*) FROM messages), (SELECT count(*) FROM topics),"
	         " (SELECT count(*) FROM devices), (SELECT count(*) FROM points),"
	         " (SELECT count(*) FROM states), (SELECT count(*) FROM state_changes),"
	         " (SELECT count(*) FROM rejects), (SELECT min(ts) FROM messages),"
	         " (SELECT max(ts) FROM messages)");
	if (o->format != ROWFMT_TABLE)
		return list_and_close(o, s, &q, names, NULL, MQMON_ARRAY_LEN(names), fill_stats);
	status = stats_table(o, s, &q, names);
	sql_free(&q);
	store_close(s);
	return status;
}
