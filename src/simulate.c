/*
 * simulate.c — driving a simulated fleet over many connections in one
 * poll loop.
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

struct sim_device {
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
	long sent;
	bool leaving; /* goodbyes sent: no more "online" */
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
	struct conn_handlers h = {.ctx = d, .on_publish = on_publish, .on_disconnect = on_disconnect};
	d->conn = conn_new(&d->opts, &h);
	publisher_init(&d->pub, d->conn, s->o->max_inflight, 0);
}

static void announce(struct sim *s, unsigned i, bool online)
{
	struct sim_device *d = &s->dev[i];
	simfleet_status(&s->model, i, online, time_now_ms(), &s->topic, &s->body);
	int qos = s->o->conn->qos;
	if (publisher_send(&d->pub, s->topic.data, s->body.data, s->body.len, qos, true, NULL) == MOSQ_ERR_SUCCESS)
		d->announced = online;
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
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_is_up(s->dev[i].conn) && !s->dev[i].announced && !s->leaving)
			announce(s, i, true);
	return !loop_signal(l);
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
	for (unsigned i = 0; i < o->devices; i++) {
		setup_device(&s, i, now);
		loop_add_conn(l, s.dev[i].conn);
		conn_start(s.dev[i].conn);
	}
	int status = MQMON_EXIT_OK;
	for (;;) {
		if (all_down(&s)) {
			mqmon_err("every simulated device lost its connection for good");
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
