/*
 * statusbroker.c — $SYS/# into one object.  mosquitto keeps most of its
 * $SYS values retained, so they arrive right after the subscription, but
 * some (the client counts) only come with its next report (every
 * sys_interval, 10 s by default): the gathering ends once every value
 * printed is there, or at the timeout.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "out.h"
#include "statusbroker.h"
#include "strmap.h"
#include "timeutil.h"

struct sys {
	struct conn *conn;
	struct strmap values; /* topic -> text */
	int mid;
	bool subscribed, done;
};

static void on_deadline(void *ctx)
{
	((struct sys *)ctx)->done = true;
}

/* the values print() shows */
static const char *const wanted[] = {
        "$SYS/broker/version",
        "$SYS/broker/uptime",
        "$SYS/broker/clients/connected",
        "$SYS/broker/load/messages/received/1min",
        "$SYS/broker/load/messages/sent/1min",
        "$SYS/broker/load/bytes/received/1min",
        "$SYS/broker/load/bytes/sent/1min",
};

static bool complete(struct sys *s)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(wanted); i++)
		if (!strmap_get(&s->values, wanted[i], strlen(wanted[i])))
			return false;
	return true;
}

static void on_message(void *ctx, const struct mosquitto_message *m, const mosquitto_property *props)
{
	struct sys *s = ctx;
	(void)props;
	void **slot = strmap_put(&s->values, m->topic, strlen(m->topic));
	free(*slot);
	*slot = xstrndup(m->payload ? m->payload : "", (size_t)m->payloadlen);
	if (complete(s))
		s->done = true;
}

static void on_connect(void *ctx, bool session_present)
{
	struct sys *s = ctx;
	(void)session_present;
	int rc = mosquitto_subscribe(conn_mosq(s->conn), &s->mid, "$SYS/#", 0);
	if (rc != MOSQ_ERR_SUCCESS)
		mqmon_err("cannot subscribe to $SYS/#: %s", conn_strerror(rc));
}

static void on_subscribe(void *ctx, int mid, int count, const int *granted)
{
	struct sys *s = ctx;
	if (mid != s->mid)
		return;
	if (count < 1 || granted[0] >= 0x80) {
		mqmon_err("the broker refused the subscription to $SYS/#");
		s->done = true;
		return;
	}
	s->subscribed = true;
}

static const char *value(struct sys *s, const char *topic)
{
	void **slot = strmap_get(&s->values, topic, strlen(topic));
	return slot ? *slot : NULL;
}

/* A number from a $SYS value ("1234 seconds" is 1234); NAN when absent. */
static double number(struct sys *s, const char *topic)
{
	const char *v = value(s, topic);
	char *end;
	double d = v ? strtod(v, &end) : 0;
	return v && end != v ? d : (double)NAN;
}

struct bridges {
	struct buf *json;
	bool any;
};

static void bridge(void *ctx, const char *key, size_t len, void *val)
{
	struct bridges *b = ctx;
	static const char prefix[] = "$SYS/broker/connection/";
	const char *suffix = "/state";
	size_t pl = sizeof prefix - 1, sl = strlen(suffix);
	if (len <= pl + sl || strncmp(key, prefix, pl) != 0 || memcmp(key + len - sl, suffix, sl) != 0)
		return;
	buf_addc(b->json, b->any ? ',' : '{');
	json_write_text(b->json, key + pl, len - pl - sl);
	buf_adds(b->json, strcmp(val, "1") == 0 ? ":\"connected\"" : ":\"disconnected\"");
	b->any = true;
}

static int print(struct sys *s, enum rowfmt_kind kind)
{
	static const char *const names[] = {"broker",
	                                    "version",
	                                    "uptime_s",
	                                    "clients_connected",
	                                    "messages_received_per_s",
	                                    "messages_sent_per_s",
	                                    "bytes_received_per_s",
	                                    "bytes_sent_per_s",
	                                    "bridges"};
	struct out out;
	out_init(&out, STDOUT_FILENO);
	struct buf bj = BUF_INIT;
	struct bridges b = {&bj, false};
	strmap_each(&s->values, bridge, &b);
	buf_adds(&bj, b.any ? "}" : "{}");
	/* the 1-minute loads are per minute */
	double load[4] = {
	        number(s, "$SYS/broker/load/messages/received/1min"), number(s, "$SYS/broker/load/messages/sent/1min"),
	        number(s, "$SYS/broker/load/bytes/received/1min"), number(s, "$SYS/broker/load/bytes/sent/1min")};
	double uptime = number(s, "$SYS/broker/uptime"), clients = number(s, "$SYS/broker/clients/connected");
	struct rowfmt_cell c[9] = {rowfmt_cstr(conn_address(s->conn)), rowfmt_cstr(value(s, "$SYS/broker/version")),
	                           !isnan(uptime) ? rowfmt_int((int64_t)uptime) : rowfmt_null(),
	                           !isnan(clients) ? rowfmt_int((int64_t)clients) : rowfmt_null()};
	for (int i = 0; i < 4; i++)
		c[4 + i] = !isnan(load[i]) ? rowfmt_real((double)(int64_t)(load[i] / 60 * 100) / 100) : rowfmt_null();
	c[8] = rowfmt_json(bj.data, bj.len);
	struct rowfmt f;
	rowfmt_init(&f, kind, &out, names, MQMON_ARRAY_LEN(names));
	if (rowfmt_row(&f, c))
		rowfmt_finish(&f);
	rowfmt_free(&f);
	out_flush(&out);
	int status = out.error ? MQMON_EXIT_RUNTIME : MQMON_EXIT_OK;
	out_free(&out);
	buf_free(&bj);
	return status;
}

int statusbroker_run(const struct conn_opts *o, double timeout, enum rowfmt_kind kind)
{
	struct sys s = {0};
	struct loop *l = loop_new();
	struct conn_handlers h = {
	        .ctx = &s, .on_connect = on_connect, .on_message = on_message, .on_subscribe = on_subscribe};
	s.conn = conn_new(o, &h);
	struct loop_timer deadline = {time_mono_ms() + (int64_t)(timeout * 1000), on_deadline, &s};
	loop_add_conn(l, s.conn);
	loop_add_timer(l, &deadline);
	conn_start(s.conn);
	while (!s.done && conn_state(s.conn) != CONN_DOWN && !loop_signal(l))
		loop_turn(l, -1);
	int status;
	if (conn_state(s.conn) == CONN_DOWN)
		status = conn_exit_status(s.conn) ? conn_exit_status(s.conn) : MQMON_EXIT_RUNTIME;
	else if (!s.subscribed)
		status = MQMON_EXIT_TIMEOUT, mqmon_err("no answer from %s within %g s", conn_address(s.conn), timeout);
	else if (!value(&s, "$SYS/broker/version") && !value(&s, "$SYS/broker/uptime"))
		status = MQMON_EXIT_RUNTIME, mqmon_err("%s publishes no $SYS topics", conn_address(s.conn));
	else
		status = print(&s, kind);
	loop_disconnect_all(l);
	conn_free(s.conn);
	loop_free(l);
	strmap_drain(&s.values, strmap_free_value, NULL);
	strmap_free(&s.values);
	return status;
}
