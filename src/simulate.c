/*
 * simulate.c — driving a simulated fleet over many connections in one
 * poll loop.  The devices share one broker, so what happens to their
 * connections is reported once for the fleet, not once per device: the
 * first failure, the recovery once every device is back, and the end.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simfleet.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "publisher.h"
#include "simulate.h"
#include "timeutil.h"

struct sim;

struct sim_device {
	struct sim *sim;
	struct conn_opts opts; /* a shallow copy: only id and will are its own */
	char *id, *will_topic, *will_payload;
	struct conn *conn;
	struct publisher pub;
	bool announced; /* "online" published on this connection */
};

struct sim {
	const struct simulate_opts *o;
	struct simfleet model;
	struct sim_device *dev;
	struct ratelimit rate;
	struct buf topic, body;
	long sent; /* periodic messages, for -C */
	unsigned long total, by_kind[SIMFLEET_RELAY + 1]; /* every message, for the summary (enum simfleet_kind) */
	bool leaving; /* goodbyes sent: no more "online" */
	const char *address; /* "host:port", for messages */
	bool ever_up; /* some device connected at some time */
	bool trouble; /* a failure was reported and the fleet is not all back */
	unsigned gave_up; /* devices whose connection failed for good */
	bool gave_up_lost; /* the first of those had been connected */
	char gave_up_reason[256];
};

static void on_publish(void *ctx, int mid, int reason)
{
	struct sim_device *d = ctx;
	publisher_acked(&d->pub, mid, reason);
}

static void on_disconnect(void *ctx, bool lost, const char *reason)
{
	struct sim_device *d = ctx;
	publisher_on_disconnect(&d->pub, lost, reason);
	d->announced = false;
}

/* The first failure of the fleet is reported; the rest (every device,
 * every retry) are the same news. */
static void on_failure(void *ctx, const char *reason, bool lost, bool final)
{
	struct sim_device *d = ctx;
	struct sim *s = d->sim;
	if (final) {
		if (s->gave_up++ == 0) {
			snprintf(s->gave_up_reason, sizeof s->gave_up_reason, "%s", reason);
			s->gave_up_lost = lost || s->ever_up;
		}
		return;
	}
	if (s->trouble)
		return;
	s->trouble = true;
	if (lost)
		mqmon_note("connection lost: %s; retrying", reason);
	else
		mqmon_note("cannot connect to %s: %s; retrying", s->address, reason);
}

static void count_sent(struct sim *s, enum simfleet_kind kind)
{
	s->total++;
	s->by_kind[kind]++;
}

static void setup_device(struct sim *s, unsigned i, int64_t now)
{
	struct sim_device *d = &s->dev[i];
	const struct conn_opts *base = s->o->conn;
	struct buf b = BUF_INIT;
	d->opts = *base;
	if (base->id)
		buf_printf(&b, "%s-%s", base->id, s->model.dev[i].id);
	else
		buf_printf(&b, "sim%d-%s", (int)getpid() % 100000, s->model.dev[i].id);
	d->id = xstrdup(buf_cstr(&b));
	buf_free(&b);
	d->opts.id = d->id;
	simfleet_status(&s->model, i, false, now, &s->topic, &s->body);
	d->will_topic = xstrndup(s->topic.data, s->topic.len);
	d->will_payload = xstrndup(s->body.data, s->body.len);
	d->opts.will_topic = d->will_topic;
	d->opts.will_payload = d->will_payload;
	d->opts.will_retain = true;
	d->opts.will_qos = base->qos;
	struct conn_handlers h = {
	        .ctx = d, .on_publish = on_publish, .on_disconnect = on_disconnect, .on_failure = on_failure};
	d->sim = s;
	d->conn = conn_new(&d->opts, &h);
	publisher_init(&d->pub, d->conn, s->o->max_inflight, 0);
}

static void announce(struct sim *s, unsigned i, bool online)
{
	struct sim_device *d = &s->dev[i];
	simfleet_status(&s->model, i, online, time_now_ms(), &s->topic, &s->body);
	int qos = s->o->conn->qos;
	if (publisher_send(&d->pub, s->topic.data, s->body.data, s->body.len, qos, true, NULL) == MOSQ_ERR_SUCCESS) {
		d->announced = online;
		count_sent(s, SIMFLEET_STATUS);
	}
}

/* One periodic message from the next device that can take it. */
static bool send_next(struct sim *s)
{
	for (unsigned tries = 0; tries < s->model.n; tries++) {
		struct sim_device *d = &s->dev[s->model.next];
		if (!d->announced || !publisher_ready(&d->pub)) {
			s->model.next = (s->model.next + 1) % s->model.n;
			continue;
		}
		enum simfleet_kind kind;
		bool retain;
		simfleet_next(&s->model, time_now_ms(), &s->topic, &s->body, &kind, &retain);
		if (publisher_send(&d->pub, s->topic.data, s->body.data, s->body.len, s->o->conn->qos, retain, NULL) ==
		    MOSQ_ERR_SUCCESS) {
			s->sent++;
			count_sent(s, kind);
			ratelimit_take(&s->rate);
		}
		return true;
	}
	return false;
}

static bool all_down(const struct sim *s)
{
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_state(s->dev[i].conn) != CONN_DOWN)
			return false;
	return true;
}

/* One turn of the loop, then "online" from every device whose connection
 * came (back) up.  Returns false on a signal. */
static bool turn(struct sim *s, struct loop *l, int timeout)
{
	loop_turn(l, timeout);
	bool all_back = true, any_up = false; /* of the devices still trying */
	for (unsigned i = 0; i < s->model.n; i++) {
		struct conn *c = s->dev[i].conn;
		if (conn_is_up(c) && !s->dev[i].announced && !s->leaving)
			announce(s, i, true);
		if (conn_is_up(c))
			any_up = s->ever_up = true;
		else if (conn_state(c) != CONN_DOWN)
			all_back = false;
	}
	if (s->trouble && all_back && any_up) {
		mqmon_note("connected to %s", s->address);
		s->trouble = false;
	}
	return !loop_signal(l);
}

/* What is played, and where. */
static void say_start(const struct sim *s)
{
	const struct simulate_opts *o = s->o;
	char count[64] = "";
	if (o->count)
		snprintf(count, sizeof count, ", stopping after %ld messages", o->count);
	mqmon_note("simulating %u device%s on %s, %g msg/s%s, topics %s/#", o->devices, o->devices == 1 ? "" : "s",
	           s->address, o->rate > 0 ? o->rate : (double)o->devices, count, o->prefix);
}

/* What was sent, statuses (online, heartbeats, goodbyes) included. */
static void say_summary(const struct sim *s, int64_t started)
{
	mqmon_note("sent %lu message%s (%lu telemetry, %lu status, %lu relay) in %.1f s", s->total,
	           s->total == 1 ? "" : "s", s->by_kind[SIMFLEET_TELEMETRY], s->by_kind[SIMFLEET_STATUS],
	           s->by_kind[SIMFLEET_RELAY], (double)(time_mono_ms() - started) / 1000.0);
}

static bool all_idle(void *ctx)
{
	const struct sim *s = ctx;
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_state(s->dev[i].conn) != CONN_DOWN && !publisher_idle(&s->dev[i].pub))
			return false;
	return true;
}

static void say_goodbye(struct sim *s, struct loop *l)
{
	s->leaving = true;
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_is_up(s->dev[i].conn))
			announce(s, i, false);
	double limit = s->o->conn->connect_timeout > 0 ? s->o->conn->connect_timeout : 10;
	loop_run_until(l, all_idle, s, time_mono_ms() + (int64_t)(limit * 1000));
	loop_disconnect_all(l);
}

int simulate_run(const struct simulate_opts *o)
{
	struct sim s = {.o = o};
	int64_t now = time_now_ms();
	simfleet_init(&s.model, o->devices, o->prefix, (uint64_t)now ^ (uint64_t)getpid() << 20, now);
	ratelimit_init(&s.rate, o->rate > 0 ? o->rate : o->devices);
	s.dev = xcalloc(o->devices, sizeof *s.dev);
	struct loop *l = loop_new();
	int64_t started = time_mono_ms();
	for (unsigned i = 0; i < o->devices; i++)
		setup_device(&s, i, now);
	s.address = conn_address(s.dev[0].conn);
	say_start(&s);
	for (unsigned i = 0; i < o->devices; i++) {
		loop_add_conn(l, s.dev[i].conn);
		conn_start(s.dev[i].conn);
	}
	int status = MQMON_EXIT_OK;
	for (;;) {
		if (all_down(&s)) {
			if (s.gave_up_lost)
				mqmon_err("connection lost to %s: %s", s.address, s.gave_up_reason);
			else
				mqmon_err("cannot connect to %s: %s", s.address, s.gave_up_reason);
			status = MQMON_EXIT_RUNTIME;
			break;
		}
		if (o->count && s.sent >= o->count)
			break;
		while (ratelimit_ready(&s.rate) && (!o->count || s.sent < o->count))
			if (!send_next(&s))
				break;
		int timeout = ratelimit_wait_ms(&s.rate);
		if (!turn(&s, l, timeout > 0 ? timeout : 1))
			break;
	}
	say_goodbye(&s, l);
	loop_free(l);
	if (status == MQMON_EXIT_OK && s.gave_up)
		mqmon_err("%u of %u simulated devices gave up connecting to %s: %s", s.gave_up, o->devices, s.address,
		          s.gave_up_reason);
	say_summary(&s, started);
	for (unsigned i = 0; i < o->devices; i++) {
		struct sim_device *d = &s.dev[i];
		if (status == MQMON_EXIT_OK && conn_exit_status(d->conn))
			status = conn_exit_status(d->conn);
		conn_free(d->conn);
		free(d->id);
		free(d->will_topic);
		free(d->will_payload);
	}
	free(s.dev);
	buf_free(&s.topic);
	buf_free(&s.body);
	simfleet_free(&s.model);
	return status;
}
