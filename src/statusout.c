/*
 * statusout.c — the fleet as a table, groups, a Nagios-style check and a
 * Prometheus textfile.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "mqmon.h"
#include "statusout.h"
#include "strmap.h"
#include "timeutil.h"
#include "utf8.h"

bool status_offline(const struct status_row *r, const struct status_judge *j)
{
	if (r->online == 0)
		return true;
	return j->max_silence_ms > 0 && (!r->last_seen_ms || j->now_ms - r->last_seen_ms > j->max_silence_ms);
}

/* A rate to a tenth, the same in the table and in NDJSON. */
static double tenths(double v)
{
	return round(v * 10) / 10;
}

/* A mean without the binary noise of its sum: 12.22, not
 * 12.219999999999999. */
static double mean_of(double sum, long n)
{
	char text[32];
	snprintf(text, sizeof text, "%.12g", sum / (double)n);
	return strtod(text, NULL);
}

/* "12s", "5m", "3h", "2d": how long ago, for people */
static void ago(char out[16], int64_t ms)
{
	int64_t s = ms / 1000;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, 16, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, 16, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, 16, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, 16, "%lldd", (long long)(s / 86400));
}

/* ---- the table ---- */

static const char *const table_names[] = {"device", "state", "seen", "ip", "firmware", "msg/min", "trend", "group"};
static const char *const json_names[] = {"device",     "online",           "status",   "last_seen",   "ago_s",
                                         "ip_address", "firmware_version", "messages", "msg_per_min", "spark",
                                         "group"};

void status_table_init(struct status_table *t, enum rowfmt_kind kind, struct out *out, bool offline_only,
                       const struct status_judge *j, bool with_group)
{
	memset(t, 0, sizeof *t);
	t->offline_only = offline_only;
	t->judge = *j;
	t->with_group = with_group;
	if (kind == ROWFMT_TABLE)
		rowfmt_init(&t->f, kind, out, table_names, MQMON_ARRAY_LEN(table_names) - !with_group);
	else
		rowfmt_init(&t->f, kind, out, json_names, MQMON_ARRAY_LEN(json_names) - !with_group);
}

static struct rowfmt_cell opt_str(const char *s)
{
	return s ? rowfmt_cstr(s) : rowfmt_null();
}

/* The device name whole: "a\u0000b" must not reach mqmon-cmd as "a". */
static struct rowfmt_cell device_cell(const struct status_row *r)
{
	return rowfmt_str(r->device, r->device_len ? r->device_len : strlen(r->device));
}

bool status_table_row(struct status_table *t, const struct status_row *r)
{
	bool offline = status_offline(r, &t->judge);
	if (t->offline_only && !offline)
		return true;
	char seen[TIME_RFC3339_LEN + 1], when[16], rate[32];
	int64_t since = r->last_seen_ms ? t->judge.now_ms - r->last_seen_ms : -1;
	if (t->f.kind == ROWFMT_TABLE) {
		struct rowfmt_cell c[8];
		const char *state = r->online == 0 ? "offline" : offline ? "silent" : r->online == 1 ? "online" : "?";
		ago(when, since);
		snprintf(rate, sizeof rate, "%.1f", tenths(r->msg_per_min));
		c[0] = device_cell(r);
		c[1] = rowfmt_cstr(state);
		c[2] = since >= 0 ? rowfmt_cstr(when) : rowfmt_null();
		c[3] = opt_str(r->ip);
		c[4] = opt_str(r->firmware);
		c[5] = r->msg_per_min >= 0 ? rowfmt_cstr(rate) : rowfmt_null();
		c[6] = opt_str(r->spark);
		c[7] = opt_str(r->group);
		return rowfmt_row(&t->f, c);
	}
	struct rowfmt_cell c[11];
	time_format_ms(r->last_seen_ms, seen);
	c[0] = device_cell(r);
	c[1] = r->online < 0 && !offline ? rowfmt_null() : rowfmt_bool(!offline);
	c[2] = opt_str(r->status);
	c[3] = r->last_seen_ms ? rowfmt_str(seen, TIME_RFC3339_LEN) : rowfmt_null();
	c[4] = since >= 0 ? rowfmt_real((double)(since / 100) / 10.0) : rowfmt_null();
	c[5] = opt_str(r->ip);
	c[6] = opt_str(r->firmware);
	c[7] = r->messages >= 0 ? rowfmt_int(r->messages) : rowfmt_null();
	c[8] = r->msg_per_min >= 0 ? rowfmt_real(tenths(r->msg_per_min)) : rowfmt_null();
	c[9] = opt_str(r->spark);
	c[10] = opt_str(r->group);
	return rowfmt_row(&t->f, c);
}

bool status_table_finish(struct status_table *t)
{
	return rowfmt_finish(&t->f);
}

void status_table_free(struct status_table *t)
{
	rowfmt_free(&t->f);
	buf_free(&t->scratch);
}

/* ---- groups ---- */

struct group_sum {
	long devices, online;
	struct strmap metrics; /* name -> struct mean */
	char *name;
};

struct mean {
	double sum;
	long n;
};

struct status_groups {
	struct strmap groups;
};

struct status_groups *status_groups_new(void)
{
	return xcalloc(1, sizeof(struct status_groups));
}

void status_groups_add(struct status_groups *g, const struct status_row *r, const struct status_judge *j)
{
	if (!r->group)
		return;
	void **slot = strmap_put(&g->groups, r->group, strlen(r->group));
	struct group_sum *s = *slot;
	if (!s) {
		s = *slot = xcalloc(1, sizeof *s);
		s->name = xstrdup(r->group);
	}
	s->devices++;
	s->online += !status_offline(r, j);
	for (size_t i = 0; i < r->nmetrics; i++) {
		void **ms = strmap_put(&s->metrics, r->metrics[i].name, strlen(r->metrics[i].name));
		if (!*ms)
			*ms = xcalloc(1, sizeof(struct mean));
		struct mean *m = *ms;
		m->sum += r->metrics[i].value;
		m->n++;
	}
}

struct sorted {
	const char **keys;
	void **values;
	size_t n, cap;
};

static void collect(void *ctx, const char *key, size_t len, void *value)
{
	struct sorted *s = ctx;
	(void)len;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->keys = xrealloc(s->keys, s->cap * sizeof *s->keys);
		s->values = xrealloc(s->values, s->cap * sizeof *s->values);
	}
	s->keys[s->n] = key;
	s->values[s->n++] = value;
}

/* The entries of m in the order of their keys. */
static struct sorted sorted(struct strmap *m)
{
	struct sorted s = {0};
	strmap_each(m, collect, &s);
	for (size_t i = 1; i < s.n; i++) /* few: an insertion sort */
		for (size_t k = i; k > 0 && strcmp(s.keys[k - 1], s.keys[k]) > 0; k--) {
			const char *tk = s.keys[k];
			void *tv = s.values[k];
			s.keys[k] = s.keys[k - 1];
			s.values[k] = s.values[k - 1];
			s.keys[k - 1] = tk;
			s.values[k - 1] = tv;
		}
	return s;
}

static void free_sorted(struct sorted *s)
{
	free(s->keys);
	free(s->values);
}

/* {"voltage":12.4,…}: the mean of each metric */
static void means_json(struct buf *b, struct group_sum *g)
{
	struct sorted ms = sorted(&g->metrics);
	buf_addc(b, '{');
	for (size_t i = 0; i < ms.n; i++) {
		struct mean *m = ms.values[i];
		if (i)
			buf_addc(b, ',');
		json_write_text(b, ms.keys[i], strlen(ms.keys[i]));
		buf_addc(b, ':');
		json_write_double(b, mean_of(m->sum, m->n));
	}
	buf_addc(b, '}');
	free_sorted(&ms);
}

bool status_groups_print(struct status_groups *g, enum rowfmt_kind kind, struct out *out)
{
	static const char *const names[] = {"group", "devices", "online", "metrics"};
	struct sorted gs = sorted(&g->groups);
	struct rowfmt f;
	rowfmt_init(&f, kind, out, names, 4);
	struct buf b = BUF_INIT;
	bool open = true;
	for (size_t i = 0; i < gs.n && open; i++) {
		struct group_sum *s = gs.values[i];
		buf_reset(&b);
		means_json(&b, s);
		struct rowfmt_cell c[4] = {rowfmt_cstr(s->name), rowfmt_int(s->devices), rowfmt_int(s->online),
		                           rowfmt_json(b.data, b.len)};
		open = rowfmt_row(&f, c);
	}
	if (open)
		open = rowfmt_finish(&f);
	rowfmt_free(&f);
	buf_free(&b);
	free_sorted(&gs);
	return open;
}

static void free_group(void *ctx, const char *key, size_t len, void *value)
{
	struct group_sum *s = value;
	(void)ctx;
	(void)key;
	(void)len;
	strmap_drain(&s->metrics, strmap_free_value, NULL);
	strmap_free(&s->metrics);
	free(s->name);
	free(s);
}

void status_groups_free(struct status_groups *g)
{
	if (!g)
		return;
	strmap_drain(&g->groups, free_group, NULL);
	strmap_free(&g->groups);
	free(g);
}

/* ---- --check ---- */

bool status_threshold_parse(struct status_threshold *t, const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0 || !isfinite(v))
		return false;
	t->percent = *end == '%';
	if (*end && strcmp(end, "%") != 0)
		return false;
	t->set = true;
	t->value = v;
	return true;
}

/* The threshold as a number of devices. */
static double threshold_count(const struct status_threshold *t, long devices)
{
	return t->percent ? t->value * (double)devices / 100.0 : t->value;
}

void status_check_init(struct status_check *c, const struct status_judge *j, const struct status_threshold *warn,
                       const struct status_threshold *crit)
{
	memset(c, 0, sizeof *c);
	c->judge = *j;
	c->warn = *warn;
	c->crit = *crit;
}

void status_check_add(struct status_check *c, const struct status_row *r)
{
	c->devices++;
	int64_t silence = r->last_seen_ms ? c->judge.now_ms - r->last_seen_ms : 0;
	if (silence > c->longest_silence_ms)
		c->longest_silence_ms = silence;
	if (!status_offline(r, &c->judge))
		return;
	if (c->offline++ < STATUS_CHECK_LIST) {
		char when[16];
		ago(when, silence);
		utf8_append_lossy(&c->offline_lines, r->device, strlen(r->device));
		bool word = r->status && strcmp(r->status, "offline") != 0;
		if (r->online == 0)
			buf_printf(&c->offline_lines, " offline%s%s%s, last seen %s ago\n", word ? " (" : "",
			           word ? r->status : "", word ? ")" : "", r->last_seen_ms ? when : "?");
		else
			buf_printf(&c->offline_lines, " silent for %s\n", when);
	}
}

static void perf_threshold(struct buf *b, const struct status_threshold *t, long devices)
{
	if (t->set)
		buf_printf(b, "%g", threshold_count(t, devices));
}

int status_check_print(struct status_check *c, struct out *out)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	int status = 0;
	if (c->devices == 0)
		return status_check_fail(out, 3, "no devices");
	if (c->crit.set && (double)c->offline > threshold_count(&c->crit, c->devices))
		status = 2;
	else if (c->warn.set && (double)c->offline > threshold_count(&c->warn, c->devices))
		status = 1;
	struct buf *b = out_buf(out);
	long online = c->devices - c->offline;
	buf_printf(b, "MQMON %s - %ld/%ld online | online=%ld;;;0;%ld offline=%ld;", names[status], online, c->devices,
	           online, c->devices, c->offline);
	perf_threshold(b, &c->warn, c->devices);
	buf_addc(b, ';');
	perf_threshold(b, &c->crit, c->devices);
	buf_printf(b, ";0;%ld silence=%llds;;", c->devices, (long long)(c->longest_silence_ms / 1000));
	if (c->judge.max_silence_ms)
		buf_printf(b, "%lld", (long long)(c->judge.max_silence_ms / 1000));
	buf_adds(b, ";0\n");
	buf_add(b, c->offline_lines.data, c->offline_lines.len);
	if (c->offline > STATUS_CHECK_LIST)
		buf_printf(b, "... and %ld more offline\n", c->offline - STATUS_CHECK_LIST);
	out_flush(out);
	return status;
}

void status_check_free(struct status_check *c)
{
	buf_free(&c->offline_lines);
}

int status_check_fail(struct out *out, int status, const char *why)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	buf_printf(out_buf(out), "MQMON %s - %s\n", names[status], why);
	out_flush(out);
	return status;
}

/* ---- --prom ---- */

enum { PROM_ONLINE, PROM_SEEN, PROM_MESSAGES, PROM_METRIC };

static const struct {
	const char *name, *type, *help;
} families[] = {
        {"mqmon_device_online", "gauge", "1 if the device is online, else 0"},
        {"mqmon_device_last_seen_seconds", "gauge", "when the device was last heard from, in seconds since the epoch"},
        {"mqmon_device_messages_total", "counter", "messages from the device"},
        {"mqmon_device_metric", "gauge", "the last value of each metric of the device"},
};

void status_prom_init(struct status_prom *p, const struct status_judge *j)
{
	memset(p, 0, sizeof *p);
	p->judge = *j;
}

/* A label value, escaped as the exposition format wants: \\, \", \n. */
static void label(struct buf *b, const char *name, const char *v)
{
	struct buf clean = BUF_INIT;
	utf8_append_lossy(&clean, v, strlen(v));
	buf_printf(b, "%s=\"", name);
	for (size_t i = 0; i < clean.len; i++) {
		char c = clean.data[i];
		if (c == '\\' || c == '"')
			buf_addc(b, '\\');
		if (c == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, c);
	}
	buf_addc(b, '"');
	buf_free(&clean);
}

static void value(struct buf *b, double v)
{
	buf_addc(b, ' ');
	if (isnan(v))
		buf_adds(b, "NaN");
	else if (isinf(v))
		buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	else
		json_write_double(b, v);
	buf_addc(b, '\n');
}

void status_prom_add(struct status_prom *p, const struct status_row *r)
{
	const char *n;
	n = families[PROM_ONLINE].name;
	buf_printf(&p->text[PROM_ONLINE], "%s{", n);
	label(&p->text[PROM_ONLINE], "device", r->device);
	buf_addc(&p->text[PROM_ONLINE], '}');
	value(&p->text[PROM_ONLINE], status_offline(r, &p->judge) ? 0 : 1);
	if (r->last_seen_ms) {
		buf_printf(&p->text[PROM_SEEN], "%s{", families[PROM_SEEN].name);
		label(&p->text[PROM_SEEN], "device", r->device);
		buf_addc(&p->text[PROM_SEEN], '}');
		value(&p->text[PROM_SEEN], (double)r->last_seen_ms / 1000.0);
	}
	if (r->messages >= 0) {
		buf_printf(&p->text[PROM_MESSAGES], "%s{", families[PROM_MESSAGES].name);
		label(&p->text[PROM_MESSAGES], "device", r->device);
		buf_addc(&p->text[PROM_MESSAGES], '}');
		value(&p->text[PROM_MESSAGES], (double)r->messages);
	}
	for (size_t i = 0; i < r->nmetrics; i++) {
		struct buf *b = &p->text[PROM_METRIC];
		buf_printf(b, "%s{", families[PROM_METRIC].name);
		label(b, "device", r->device);
		buf_addc(b, ',');
		label(b, "metric", r->metrics[i].name);
		buf_addc(b, '}');
		value(b, r->metrics[i].value);
	}
}

/* One gauge family of the groups' device counts, or online counts. */
static void group_counts(struct buf *b, const struct sorted *gs, const char *name, const char *help, bool online)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (size_t i = 0; i < gs->n; i++) {
		const struct group_sum *s = gs->values[i];
		buf_printf(b, "%s{", name);
		label(b, "group", s->name);
		buf_addc(b, '}');
		value(b, (double)(online ? s->online : s->devices));
	}
}

static void prom_groups(struct buf *b, struct status_groups *g)
{
	struct sorted gs = sorted(&g->groups);
	if (!gs.n)
		return;
	group_counts(b, &gs, "mqmon_group_devices", "devices of the group", false);
	group_counts(b, &gs, "mqmon_group_online", "online devices of the group", true);
	buf_adds(b, "# HELP mqmon_group_metric_mean the mean of the devices' last values\n"
	            "# TYPE mqmon_group_metric_mean gauge\n");
	for (size_t i = 0; i < gs.n; i++) {
		struct group_sum *s = gs.values[i];
		struct sorted ms = sorted(&s->metrics);
		for (size_t k = 0; k < ms.n; k++) {
			struct mean *m = ms.values[k];
			buf_adds(b, "mqmon_group_metric_mean{");
			label(b, "group", s->name);
			buf_addc(b, ',');
			label(b, "metric", ms.keys[k]);
			buf_addc(b, '}');
			value(b, mean_of(m->sum, m->n));
		}
		free_sorted(&ms);
	}
	free_sorted(&gs);
}

bool status_prom_write(struct status_prom *p, const char *path, struct status_groups *g)
{
	struct buf all = BUF_INIT, tmp = BUF_INIT;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(families); i++) {
		buf_printf(&all, "# HELP %s %s\n# TYPE %s %s\n", families[i].name, families[i].help, families[i].name,
		           families[i].type);
		buf_add(&all, p->text[i].data, p->text[i].len);
	}
	if (g)
		prom_groups(&all, g);
	/* the collector must never read a half-written file */
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	bool ok = fd >= 0;
	for (size_t off = 0; ok && off < all.len;) {
		ssize_t w = write(fd, all.data + off, all.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		off += ok ? (size_t)w : 0;
	}
	int saved = errno;
	if (fd >= 0 && close(fd) != 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp.data, path) != 0) {
		ok = false;
		saved = errno;
	}
	if (!ok && fd >= 0)
		unlink(tmp.data);
	buf_free(&all);
	buf_free(&tmp);
	errno = saved;
	return ok;
}

void status_prom_free(struct status_prom *p)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(p->text); i++)
		buf_free(&p->text[i]);
	buf_free(&p->groups);
}

void status_sparkline(struct buf *out, const double *v, size_t n)
{
	static const char *const bars[] = {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
	                                   "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i])) {
			buf_addc(out, ' '); /* no sample in that slice */
			continue;
		}
		int level = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
		buf_adds(out, bars[level < 0 ? 0 : level > 7 ? 7 : level]);
	}
}
