/*
 * meaning_dump.c — the golden-file driver's program: envelopes on stdin,
 * what the meaning layer makes of each on stdout, one JSON line per input
 * line, then the device table as `mqmon-store devices` prints it:
 *
 *   tests/meaning_dump [--rule PATTERN=KIND]... < case.in.ndjson
 *
 * Message lines: {"line","ts","topic","rule","kind","device"} and, by
 * kind, status: "online","status","ip","firmware","fields","body_ts";
 * telemetry: "metrics" (name: value); state: "key","value".  A line that
 * is not a message: {"line","error"} or {"line","skipped":"event"}.
 * Device lines: the devices table's columns (store_device_columns).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devtable.h"
#include "envelope.h"
#include "json.h"
#include "linereader.h"
#include "meaning.h"
#include "mqmon.h"
#include "out.h"
#include "rowfmt.h"
#include "rules.h"
#include "store.h"
#include "timeutil.h"

static void key(struct buf *b, const char *k)
{
	buf_printf(b, ",\"%s\":", k);
}

static void str_or_null(struct buf *b, const char *k, const char *s, size_t n)
{
	key(b, k);
	if (s)
		json_write_text(b, s, n);
	else
		buf_adds(b, "null");
}

static void time_or_null(struct buf *b, const char *k, int64_t ms)
{
	char ts[TIME_RFC3339_LEN + 1];
	key(b, k);
	if (!ms) {
		buf_adds(b, "null");
		return;
	}
	time_format_ms(ms, ts);
	buf_printf(b, "\"%s\"", ts);
}

static void status_part(struct buf *b, const struct meaning *m)
{
	key(b, "online");
	buf_adds(b, m->online < 0 ? "null" : m->online ? "true" : "false");
	str_or_null(b, "status", m->status, m->status_len);
	str_or_null(b, "ip", m->ip, m->ip_len);
	str_or_null(b, "firmware", m->firmware, m->firmware_len);
	key(b, "fields");
	if (m->fields)
		json_compact(b, m->fields, m->fields_len);
	else
		buf_adds(b, "null");
	time_or_null(b, "body_ts", m->body_ts);
}

static void meaning_line(struct buf *b, unsigned long lineno, const struct envelope *e, int64_t ts,
                         const struct meaning *m)
{
	buf_printf(b, "{\"line\":%lu", lineno);
	time_or_null(b, "ts", ts);
	str_or_null(b, "topic", e->topic, e->topic_len);
	str_or_null(b, "rule", m->rule ? m->rule->spec : NULL, m->rule ? strlen(m->rule->spec) : 0);
	str_or_null(b, "kind", m->rule ? rule_kind_name(m->kind) : NULL, m->rule ? strlen(rule_kind_name(m->kind)) : 0);
	str_or_null(b, "device", m->device, m->device_len);
	if (m->has_status)
		status_part(b, m);
	if (m->kind == RULE_TELEMETRY && m->rule) {
		key(b, "metrics");
		buf_addc(b, '{');
		for (size_t i = 0; i < m->nmetrics; i++) {
			if (i)
				buf_addc(b, ',');
			json_write_text(b, m->metrics[i].name, m->metrics[i].name_len);
			buf_addc(b, ':');
			json_write_double(b, m->metrics[i].value);
		}
		buf_addc(b, '}');
	}
	if (m->kind == RULE_STATE && m->rule) {
		str_or_null(b, "key", m->key, m->key_len);
		key(b, "value");
		if (m->value)
			json_compact(b, m->value, m->value_len);
		else
			buf_adds(b, "null");
	}
	buf_adds(b, "}\n");
}

/* ---- the device table, as mqmon-store devices prints it ---- */

struct devices_out {
	struct device **v;
	size_t n, cap;
};

static void collect(void *ctx, struct device *d)
{
	struct devices_out *o = ctx;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->v = xrealloc(o->v, o->cap * sizeof *o->v);
	}
	o->v[o->n++] = d;
}

static int by_id(const void *a, const void *b)
{
	const struct device *x = *(struct device *const *)a, *y = *(struct device *const *)b;
	return strcmp(x->id, y->id);
}

static struct rowfmt_cell text_cell(const struct devtable_text *t)
{
	return t->s ? rowfmt_str(t->s, t->len) : rowfmt_null();
}

static void device_rows(struct devtable *t, struct out *out)
{
	struct devices_out o = {0};
	devtable_each(t, collect, &o);
	qsort(o.v, o.n, sizeof *o.v, by_id);
	struct rowfmt f;
	rowfmt_init(&f, ROWFMT_NDJSON, out, store_device_columns, DEVCOL_COUNT);
	for (size_t i = 0; i < o.n; i++) {
		const struct device *d = o.v[i];
		char first[TIME_RFC3339_LEN + 1], last[TIME_RFC3339_LEN + 1], since[TIME_RFC3339_LEN + 1];
		struct buf fields = BUF_INIT;
		time_format_ms(d->first_ms, first);
		time_format_ms(d->last_ms, last);
		static const struct device_status none;
		const struct device_status *st = d->st ? d->st : &none;
		time_format_ms(st->ms, since);
		if (st->fields.s)
			json_compact(&fields, st->fields.s, st->fields.len);
		struct rowfmt_cell c[DEVCOL_COUNT];
		c[DEVCOL_DEVICE] = rowfmt_str(d->id, d->id_len);
		c[DEVCOL_ONLINE] = d->online < 0 ? rowfmt_null() : rowfmt_bool(d->online);
		c[DEVCOL_STATUS] = text_cell(&st->status);
		c[DEVCOL_LAST_SEEN] = rowfmt_str(last, TIME_RFC3339_LEN);
		c[DEVCOL_FIRST_SEEN] = rowfmt_str(first, TIME_RFC3339_LEN);
		c[DEVCOL_MESSAGES] = rowfmt_int((int64_t)d->messages);
		c[DEVCOL_IP] = text_cell(&st->ip);
		c[DEVCOL_FIRMWARE] = text_cell(&st->firmware);
		c[DEVCOL_FIELDS] = st->fields.s ? rowfmt_json(fields.data, fields.len) : rowfmt_null();
		c[DEVCOL_STATUS_TOPIC] = text_cell(&st->topic);
		c[DEVCOL_STATUS_TS] = d->st ? rowfmt_str(since, TIME_RFC3339_LEN) : rowfmt_null();
		rowfmt_row(&f, c);
		buf_free(&fields);
	}
	rowfmt_finish(&f);
	rowfmt_free(&f);
	free(o.v);
}

int main(int argc, char **argv)
{
	struct rules rules = {0};
	for (int i = 1; i < argc; i++) {
		const char *why;
		if (strcmp(argv[i], "--rule") != 0 || i + 1 >= argc || !rules_add(&rules, argv[++i], &why)) {
			fprintf(stderr, "usage: meaning_dump [--rule PATTERN=KIND]... < envelopes\n");
			return 2;
		}
	}
	rules_add_defaults(&rules);
	struct linereader lr;
	struct envelope_decoder dec;
	struct meaning_reader mr;
	struct devtable devices;
	struct out out;
	linereader_init(&lr, STDIN_FILENO);
	envelope_decoder_init(&dec);
	meaning_reader_init(&mr);
	devtable_init(&devices);
	out_init(&out, STDOUT_FILENO);
	struct line ln;
	while (linereader_getline(&lr, &ln)) {
		struct envelope e;
		char err[512];
		struct buf *b = out_buf(&out);
		if (line_is_blank(&ln))
			continue;
		enum envelope_result r = envelope_decode(&dec, ln.data, ln.len, &e, err, sizeof err);
		if (r == ENVELOPE_OK && !e.topic) {
			r = ENVELOPE_ERROR;
			snprintf(err, sizeof err, "no \"topic\"");
		}
		if (r == ENVELOPE_EVENT) {
			buf_printf(b, "{\"line\":%lu,\"skipped\":\"event\"}\n", ln.lineno);
		} else if (r == ENVELOPE_ERROR) {
			buf_printf(b, "{\"line\":%lu,\"error\":", ln.lineno);
			json_write_text(b, err, strlen(err));
			buf_adds(b, "}\n");
		} else {
			/* without "ts" a message is stamped now, as mqmon-store does */
			int64_t ts = e.has_ts ? e.ts_ms : time_now_ms();
			const struct meaning *m = meaning_read(&mr, &rules, &e);
			devtable_note(&devices, m, &e, ts);
			meaning_line(b, ln.lineno, &e, ts, m);
		}
		out_commit(&out);
	}
	device_rows(&devices, &out);
	out_flush(&out);
	int status = out.error ? 1 : 0;
	out_free(&out);
	devtable_free(&devices);
	meaning_reader_free(&mr);
	envelope_decoder_free(&dec);
	linereader_free(&lr);
	rules_free(&rules);
	return status;
}
