/*
 * statuslive.c — the live loop of mqmon-status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "json.h"
#include "linereader.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "out.h"
#include "statuslive.h"
#include "timeutil.h"

struct live {
	const struct statuslive_opts *o;
	struct fleet fleet;
	struct loop *loop;
	struct conn *conn;
	struct out out;
	struct linereader lr;
	struct envelope_decoder dec;
	struct loop_timer tick, prom, deadline;
	char **filters;
	size_t nfilters;
	unsigned long rejected;
	bool done, timed_out, ever_up;
};

static void on_event(void *ctx, const char *line, size_t len)
{
	struct live *l = ctx;
	if (l->o->check)
		return; /* the check speaks at the end */
	buf_add(out_buf(&l->out), line, len);
	out_commit(&l->out);
}

/* ---- rows of the live fleet, for --prom and --check ---- */

struct rows {
	struct live *l;
	struct status_prom *prom;
	struct status_check *check;
	struct status_groups *groups;
	struct status_metric *metrics;
	size_t metrics_cap;
};

static void row_of(void *ctx, struct fleet_dev *fd)
{
	struct rows *x = ctx;
	struct device *d = fd->d;
	if (fd->nmetrics > x->metrics_cap) {
		x->metrics_cap = fd->nmetrics;
		x->metrics = xrealloc(x->metrics, x->metrics_cap * sizeof *x->metrics);
	}
	for (uint16_t i = 0; i < fd->nmetrics; i++)
		x->metrics[i] =
		        (struct status_metric){fleet_metric_name(&x->l->fleet, &fd->metrics[i]), fd->metrics[i].last};
	struct status_row r = {.device = d->id,
	                       .device_len = d->id_len,
	                       .online = fd->state,
	                       .status = d->st ? d->st->status.s : NULL,
	                       .last_seen_ms = fd->heard_ms,
	                       .ip = d->st ? d->st->ip.s : NULL,
	                       .firmware = d->st ? d->st->firmware.s : NULL,
	                       .group = fd->group,
	                       .messages = (long)d->messages,
	                       .msg_per_min = -1,
	                       .metrics = x->metrics,
	                       .nmetrics = fd->nmetrics};
	struct status_judge j = x->l->o->judge;
	j.now_ms = time_now_ms();
	if (x->prom)
		status_prom_add(x->prom, &r);
	if (x->check)
		status_check_add(x->check, &r);
	if (x->groups)
		status_groups_add(x->groups, &r, &j);
}

static void write_prom(struct live *l)
{
	struct status_prom p;
	struct status_judge j = {time_now_ms(), l->o->judge.max_silence_ms};
	status_prom_init(&p, &j);
	struct rows x = {.l = l, .prom = &p, .groups = l->o->fleet->group_field ? status_groups_new() : NULL};
	fleet_each(&l->fleet, row_of, &x);
	if (!status_prom_write(&p, l->o->prom, x.groups))
		mqmon_warn("cannot write %s: %s", l->o->prom, strerror(errno));
	status_prom_free(&p);
	status_groups_free(x.groups);
	free(x.metrics);
}

static int print_check(struct live *l)
{
	struct status_check c;
	struct status_judge j = l->o->judge;
	j.now_ms = time_now_ms();
	status_check_init(&c, &j, &l->o->warn, &l->o->crit);
	struct rows x = {.l = l, .check = &c};
	fleet_each(&l->fleet, row_of, &x);
	int status = status_check_print(&c, &l->out);
	status_check_free(&c);
	free(x.metrics);
	return status;
}

/* ---- timers ---- */

static void on_tick(void *ctx)
{
	struct live *l = ctx;
	fleet_tick(&l->fleet, time_now_ms());
	loop_timer_at(&l->tick, time_mono_ms() + 1000);
}

static void on_prom(void *ctx)
{
	struct live *l = ctx;
	write_prom(l);
	loop_timer_at(&l->prom, time_mono_ms() + (int64_t)(l->o->prom_interval * 1000));
}

static void on_deadline(void *ctx)
{
	struct live *l = ctx;
	l->done = l->timed_out = true;
}

/* ---- stdin ---- */

/* The "event" of an event line: connected and disconnected (mqmon-sub
 * --events) tell about the stream itself. */
static void event_line(struct live *l, const struct line *ln)
{
	size_t pos = 0;
	struct json_member m;
	const char *reason = NULL;
	struct buf r = BUF_INIT;
	int up = -1;
	json_object_begin(ln->data, ln->len, &pos, NULL);
	while (json_object_next(ln->data, ln->len, &pos, &m, NULL)) {
		if (json_key_is(&m, "event"))
			up = json_value_is(&m, "\"connected\"") ? 1 : json_value_is(&m, "\"disconnected\"") ? 0 : up;
		else if (json_key_is(&m, "reason") && m.val[0] == '"') {
			size_t sp = 0;
			if (json_string_decode(m.val, m.val_len, &sp, &r, NULL))
				reason = buf_cstr(&r);
		}
	}
	if (up >= 0)
		fleet_upstream(&l->fleet, up, reason ? reason : "the stream's connection was lost", time_now_ms());
	else if (l->o->strict) {
		mqmon_err("line %lu: an event line, not a message (--strict)", ln->lineno);
		l->rejected++;
	}
	buf_free(&r);
}

static void take_line(struct live *l, const struct line *ln)
{
	if (line_is_blank(ln))
		return;
	struct envelope e;
	char err[512];
	enum envelope_result r = envelope_decode(&l->dec, ln->data, ln->len, &e, err, sizeof err);
	if (r == ENVELOPE_OK && !e.topic) {
		r = ENVELOPE_ERROR;
		snprintf(err, sizeof err, "no \"topic\"");
	}
	if (r == ENVELOPE_EVENT) {
		event_line(l, ln);
	} else if (r == ENVELOPE_ERROR) {
		mqmon_err("line %lu: %s", ln->lineno, err);
		l->rejected++;
	} else {
		fleet_message(&l->fleet, &e, time_now_ms());
	}
}

static void on_stdin(void *ctx, short revents)
{
	struct live *l = ctx;
	struct line ln;
	(void)revents;
	if (linereader_fill(&l->lr) < 0 && l->lr.error)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot read stdin: %s", strerror(l->lr.error));
	while (linereader_next(&l->lr, &ln))
		take_line(l, &ln);
	if (l->lr.eof)
		l->done = true;
}

/* ---- its own subscription ---- */

static void on_message(void *ctx, const struct mosquitto_message *m, const mosquitto_property *props)
{
	struct live *l = ctx;
	(void)props;
	struct envelope e = {.topic = m->topic,
	                     .topic_len = strlen(m->topic),
	                     .payload = m->payload ? m->payload : "",
	                     .payload_len = (size_t)m->payloadlen,
	                     .qos = m->qos,
	                     .retain = m->retain};
	e.enc = envelope_pick_enc(e.payload, e.payload_len);
	fleet_message(&l->fleet, &e, time_now_ms());
}

static void on_connect(void *ctx, bool session_present)
{
	struct live *l = ctx;
	(void)session_present;
	l->ever_up = true;
	fleet_upstream(&l->fleet, true, NULL, time_now_ms());
	int rc = mosquitto_subscribe_multiple(conn_mosq(l->conn), NULL, (int)l->nfilters, l->filters, l->o->conn->qos,
	                                      0, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		mqmon_err("cannot subscribe: %s", conn_strerror(rc));
}

static void on_disconnect(void *ctx, bool lost, const char *reason)
{
	struct live *l = ctx;
	if (lost)
		fleet_upstream(&l->fleet, false, reason, time_now_ms());
}

static void subscribe_setup(struct live *l)
{
	const struct opt_list *t = l->o->topics;
	l->nfilters = t->n;
	l->filters = xcalloc(t->n, sizeof *l->filters);
	for (size_t i = 0; i < t->n; i++) {
		struct buf b = BUF_INIT;
		if (l->o->shared)
			buf_printf(&b, "$share/%s/", l->o->shared);
		buf_adds(&b, t->items[i]);
		l->filters[i] = (char *)buf_cstr(&b);
	}
	struct conn_handlers h = {
	        .ctx = l, .on_connect = on_connect, .on_disconnect = on_disconnect, .on_message = on_message};
	l->conn = conn_new(l->o->conn, &h);
	conn_set_stream(l->conn, true);
	loop_add_conn(l->loop, l->conn);
	conn_start(l->conn);
}

/* ---- the run ---- */

static int finish(struct live *l)
{
	int status = MQMON_EXIT_OK;
	if (l->o->prom)
		write_prom(l);
	if (l->o->check) {
		if (l->conn && !l->ever_up)
			return status_check_fail(&l->out, 2, "cannot connect to the broker");
		return print_check(l);
	}
	if (l->rejected)
		status = MQMON_EXIT_REJECTS;
	else if (l->conn && conn_state(l->conn) == CONN_DOWN)
		status = conn_exit_status(l->conn);
	else if (l->timed_out)
		status = MQMON_EXIT_TIMEOUT;
	return status;
}

int statuslive_run(const struct statuslive_opts *o)
{
	struct live l = {.o = o};
	struct fleet_handlers fh = {.ctx = &l, .on_event = on_event};
	fleet_init(&l.fleet, o->fleet, &fh);
	out_init(&l.out, STDOUT_FILENO);
	l.loop = loop_new();
	l.tick = (struct loop_timer){0, on_tick, &l};
	l.prom = (struct loop_timer){0, on_prom, &l};
	l.deadline = (struct loop_timer){0, on_deadline, &l};
	loop_add_timer(l.loop, &l.tick);
	loop_add_timer(l.loop, &l.prom);
	loop_add_timer(l.loop, &l.deadline);
	loop_timer_at(&l.tick, time_mono_ms() + 1000);
	if (o->prom)
		loop_timer_at(&l.prom, time_mono_ms() + (int64_t)(o->prom_interval * 1000));
	if (o->timeout > 0)
		loop_timer_at(&l.deadline, time_mono_ms() + (int64_t)(o->timeout * 1000));
	if (o->topics->n) {
		subscribe_setup(&l);
	} else {
		linereader_init(&l.lr, o->in_fd);
		envelope_decoder_init(&l.dec);
		fcntl(o->in_fd, F_SETFL, fcntl(o->in_fd, F_GETFL) | O_NONBLOCK);
		loop_add_fd(l.loop, o->in_fd, on_stdin, &l);
	}
	while (!l.done && !out_closed(&l.out) && !(l.conn && conn_state(l.conn) == CONN_DOWN)) {
		if (!loop_turn(l.loop, out_pending(&l.out) ? 0 : -1) && out_pending(&l.out))
			out_flush(&l.out);
		if (loop_signal(l.loop))
			break;
	}
	out_flush(&l.out);
	int status = MQMON_EXIT_OK;
	if (!out_closed(&l.out))
		status = finish(&l);
	else if (o->prom)
		write_prom(&l); /* the reader is gone; the textfile still gets the end */
	if (l.conn) {
		loop_disconnect_all(l.loop);
		conn_free(l.conn);
		for (size_t i = 0; i < l.nfilters; i++)
			free(l.filters[i]);
		free(l.filters);
	} else {
		linereader_free(&l.lr);
		envelope_decoder_free(&l.dec);
	}
	loop_free(l.loop);
	fleet_free(&l.fleet);
	out_free(&l.out);
	return status;
}
