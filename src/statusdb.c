/*
 * statusdb.c — reading the fleet from the database.  The devices table
 * gives each row; the message rate comes from counting each topic's last
 * 10 minutes through the (topic, ts) index, the sparkline and the last
 * values from the points of the last hour (their primary key begins with
 * the time), so a large archive is read only where it is recent.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mqmon.h"
#include "statusdb.h"
#include "store.h"
#include "strmap.h"
#include "timeutil.h"

struct extra {
	long recent; /* messages in the last STATUSDB_RATE_MS */
	double spark_sum[STATUSDB_SPARK_SLOTS];
	long spark_n[STATUSDB_SPARK_SLOTS];
	struct status_metric *metrics;
	size_t nmetrics;
	char *group;
};

struct reader {
	const struct statusdb_opts *o;
	struct store *s;
	struct strmap extras; /* device -> struct extra */
	char *err;
	size_t errlen;
};

static struct extra *extra(struct reader *r, const char *device, size_t len)
{
	void **slot = strmap_put(&r->extras, device, len);
	if (!*slot)
		*slot = xcalloc(1, sizeof(struct extra));
	return *slot;
}

static bool fail(struct reader *r)
{
	snprintf(r->err, r->errlen, "%s", store_errmsg(r->s));
	return false;
}

/* Run sql with ?1 = the time so long ago, and hand each row to fn. */
static bool rows(struct reader *r, const char *sql, int64_t ago_ms, const char *arg,
                 void (*fn)(struct reader *r, sqlite3_stmt *st))
{
	sqlite3_stmt *st = store_prepare(r->s, sql);
	if (!st)
		return fail(r);
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(r->o->now_ms - ago_ms, ts);
	/* :ms in milliseconds (the points' ts_ms), else ?1 as ts text */
	int ms = sqlite3_bind_parameter_index(st, ":ms");
	if (ms > 0)
		sqlite3_bind_int64(st, ms, r->o->now_ms - ago_ms);
	else
		sqlite3_bind_text(st, 1, ts, TIME_RFC3339_LEN, SQLITE_TRANSIENT);
	if (arg)
		sqlite3_bind_text(st, 2, arg, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			fn(r, st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || fail(r);
}

static const char *col(sqlite3_stmt *st, int i, size_t *len)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	*len = s ? (size_t)sqlite3_column_bytes(st, i) : 0;
	return s;
}

static void take_rate(struct reader *r, sqlite3_stmt *st)
{
	size_t n;
	const char *dev = col(st, 0, &n);
	extra(r, dev, n)->recent += sqlite3_column_int64(st, 1);
}

static void take_spark(struct reader *r, sqlite3_stmt *st)
{
	size_t n;
	const char *dev = col(st, 0, &n);
	int64_t ms = sqlite3_column_int64(st, 1);
	int64_t slot_ms = STATUSDB_SPARK_MS / STATUSDB_SPARK_SLOTS;
	int64_t k = (ms - (r->o->now_ms - STATUSDB_SPARK_MS)) / slot_ms;
	if (k < 0 || k >= STATUSDB_SPARK_SLOTS)
		return;
	struct extra *x = extra(r, dev, n);
	x->spark_sum[k] += sqlite3_column_double(st, 2);
	x->spark_n[k]++;
}

/* rows in time order: the last value of each metric wins */
static void take_metric(struct reader *r, sqlite3_stmt *st)
{
	size_t n, mn;
	const char *dev = col(st, 0, &n), *name = col(st, 1, &mn);
	struct extra *x = extra(r, dev, n);
	for (size_t i = 0; i < x->nmetrics; i++)
		if (strlen(x->metrics[i].name) == mn && memcmp(x->metrics[i].name, name, mn) == 0) {
			x->metrics[i].value = sqlite3_column_double(st, 2);
			return;
		}
	x->metrics = xrealloc(x->metrics, (x->nmetrics + 1) * sizeof *x->metrics);
	x->metrics[x->nmetrics++] = (struct status_metric){xstrndup(name, mn), sqlite3_column_double(st, 2)};
}

/* --group: the member of the device's last bodies */
static void take_group(struct reader *r, sqlite3_stmt *st)
{
	size_t n, pn;
	const char *dev = col(st, 0, &n), *p = (const char *)sqlite3_column_blob(st, 1);
	pn = p ? (size_t)sqlite3_column_bytes(st, 1) : 0;
	struct extra *x = extra(r, dev, n);
	size_t pos = 0;
	struct json_member m;
	if (x->group || !p || !json_validate(p, pn, NULL) || !json_object_begin(p, pn, &pos, NULL))
		return;
	while (json_object_next(p, pn, &pos, &m, NULL)) {
		if (!json_key_is(&m, r->o->group_field))
			continue;
		struct buf b = BUF_INIT;
		size_t sp = 0;
		if (m.val[0] == '"' ? json_string_decode(m.val, m.val_len, &sp, &b, NULL)
		                    : (m.val[0] == '-' || (m.val[0] >= '0' && m.val[0] <= '9')))
			x->group = b.len ? xstrndup(b.data, b.len) : xstrndup(m.val, m.val_len);
		buf_free(&b);
		return;
	}
}

static void free_extra(void *ctx, const char *key, size_t len, void *value)
{
	struct extra *x = value;
	(void)ctx;
	(void)key;
	(void)len;
	for (size_t i = 0; i < x->nmetrics; i++)
		free((char *)x->metrics[i].name);
	free(x->metrics);
	free(x->group);
	free(x);
}

static bool gather(struct reader *r)
{
	const struct statusdb_opts *o = r->o;
	if (!rows(r,
	          "SELECT device, (SELECT count(*) FROM messages AS m WHERE m.topic = t.topic AND m.ts >= ?1)"
	          " FROM topics AS t WHERE device IS NOT NULL AND last_seen >= ?1",
	          STATUSDB_RATE_MS, NULL, take_rate))
		return false;
	if (o->metric && !rows(r,
	                       "SELECT s.device, p.ts_ms, p.value FROM points AS p JOIN series AS s ON s.id = p.series"
	                       " WHERE p.ts_ms >= :ms AND s.metric = ?2",
	                       STATUSDB_SPARK_MS, o->metric, take_spark))
		return false;
	if (o->want_metrics && !rows(r,
	                             "SELECT s.device, s.metric, p.value FROM points AS p JOIN series AS s"
	                             " ON s.id = p.series WHERE p.ts_ms >= :ms"
	                             " ORDER BY p.ts_ms, p.seq",
	                             STATUSDB_METRICS_MS, NULL, take_metric))
		return false;
	if (o->group_field &&
	    !rows(r,
	          "SELECT device, last_payload FROM topics WHERE device IS NOT NULL AND ?1 IS NOT NULL"
	          " ORDER BY last_seen DESC",
	          0, NULL, take_group))
		return false;
	return true;
}

static void row_from(struct reader *r, sqlite3_stmt *st, void (*fn)(void *ctx, const struct status_row *row), void *ctx)
{
	size_t n;
	const char *dev = col(st, 0, &n), *seen = (const char *)sqlite3_column_text(st, 3), *why;
	void **slot = strmap_get(&r->extras, dev, n);
	struct extra *x = slot ? *slot : NULL;
	struct status_row row = {.device = dev,
	                         .device_len = n,
	                         .online = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 1),
	                         .status = (const char *)sqlite3_column_text(st, 2),
	                         .ip = (const char *)sqlite3_column_text(st, 4),
	                         .firmware = (const char *)sqlite3_column_text(st, 5),
	                         .messages = sqlite3_column_int64(st, 6),
	                         .msg_per_min = (double)(x ? x->recent : 0) / (STATUSDB_RATE_MS / 60000.0),
	                         .group = x ? x->group : NULL,
	                         .metrics = x ? x->metrics : NULL,
	                         .nmetrics = x ? x->nmetrics : 0};
	if (seen)
		time_parse_rfc3339(seen, strlen(seen), &row.last_seen_ms, &why);
	struct buf spark = BUF_INIT;
	if (r->o->metric && x) {
		double v[STATUSDB_SPARK_SLOTS];
		for (size_t k = 0; k < STATUSDB_SPARK_SLOTS; k++)
			v[k] = x->spark_n[k] ? x->spark_sum[k] / (double)x->spark_n[k] : NAN;
		status_sparkline(&spark, v, STATUSDB_SPARK_SLOTS);
		row.spark = buf_cstr(&spark);
	}
	fn(ctx, &row);
	buf_free(&spark);
}

bool statusdb_read(const struct statusdb_opts *o, void (*fn)(void *ctx, const struct status_row *r), void *ctx,
                   char *err, size_t errlen)
{
	struct reader r = {.o = o, .err = err, .errlen = errlen};
	r.s = store_open(o->db, STORE_READ, err, errlen);
	if (!r.s)
		return false;
	bool ok = gather(&r);
	sqlite3_stmt *st = ok ? store_prepare(r.s, "SELECT device, online, status, last_seen, ip_address,"
	                                           " firmware_version, messages FROM devices ORDER BY device")
	                      : NULL;
	int rc = SQLITE_DONE;
	if (st)
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			row_from(&r, st, fn, ctx);
	if (ok && (!st || rc != SQLITE_DONE))
		ok = fail(&r);
	sqlite3_finalize(st);
	strmap_drain(&r.extras, free_extra, NULL);
	strmap_free(&r.extras);
	store_close(r.s);
	return ok;
}
