/*
 * simulate.c — driving a simulated fleet over many connections in one
 * poll loop.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "simfleet.h"
#include "log.h"
#include "mqmon.h"
#include "publisher.h"
#include "sig.h"
#include "simulate.h"
#include "timeutil.h"

struct device {
	struct conn_opts opts; /* a shallow copy: only id and will are its own */
	char *id, *will_topic, *will_payload;
	struct conn *conn;
	struct publisher pub;
	bool announced; /* "online" published on this connection */
};

struct sim {
	const struct simulate_opts *o;
	struct simfleet model;
	struct device *dev;
	struct ratelimit rate;
	struct buf topic, body;
	long sent;
	bool leaving; /* goodbyes sent: no more "online" */
};

static void on_publish(void *ctx, int mid, int reason)
{
	struct device *d = ctx;
	publisher_acked(&d->pub, mid, reason);
}

static void on_disconnect(void *ctx, bool lost, const char *reason)
{
	struct device *d = ctx;
	publisher_on_disconnect(&d->pub, lost, reason);
	d->announced = false;
}

static void setup_device(struct sim *s, unsigned i, int64_t now)
{
	struct device *d = &s->dev[i];
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
	struct device *d = &s->dev[i];
	simfleet_status(&s->model, i, online, time_now_ms(), &s->topic, &s->body);
	int qos = s->o->conn->qos;
	if (publisher_send(&d->pub, s->topic.data, s->body.data, s->body.len, qos, true, NULL) == MOSQ_ERR_SUCCESS)
		d->announced = online;
}

/* One periodic message from the next device that can take it. */
static bool send_next(struct sim *s)
{
	for (unsigned tries = 0; tries < s->model.n; tries++) {
		struct device *d = &s->dev[s->model.next];
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

static bool all_idle(const struct sim *s)
{
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_state(s->dev[i].conn) != CONN_DOWN && !publisher_idle(&s->dev[i].pub))
			return false;
	return true;
}

static bool all_down(const struct sim *s)
{
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_state(s->dev[i].conn) != CONN_DOWN)
			return false;
	return true;
}

/* Poll every connection once; returns false on a signal. */
static bool poll_all(struct sim *s, struct pollfd *fds, int sigfd, int timeout)
{
	unsigned n = s->model.n;
	for (unsigned i = 0; i < n; i++) {
		conn_pollfd(s->dev[i].conn, &fds[i]);
		int t = conn_timeout_ms(s->dev[i].conn);
		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	fds[n] = (struct pollfd){.fd = sigfd, .events = POLLIN};
	int r = poll(fds, n + 1, timeout);
	if (r < 0 && errno != EINTR)
		mqmon_die(MQMON_EXIT_RUNTIME, "poll: %s", strerror(errno));
	for (unsigned i = 0; i < n; i++) {
		conn_handle(s->dev[i].conn, r > 0 ? fds[i].revents : 0);
		if (conn_is_up(s->dev[i].conn) && !s->dev[i].announced && !s->leaving)
			announce(s, i, true);
	}
	return !(r > 0 && (fds[n].revents & POLLIN)) && !sig_pending();
}

static void say_goodbye(struct sim *s, struct pollfd *fds, int sigfd)
{
	s->leaving = true;
	for (unsigned i = 0; i < s->model.n; i++)
		if (conn_is_up(s->dev[i].conn))
			announce(s, i, false);
	double limit = s->o->conn->connect_timeout > 0 ? s->o->conn->connect_timeout : 10;
	int64_t deadline = time_mono_ms() + (int64_t)(limit * 1000);
	while (!all_idle(s) && time_mono_ms() < deadline)
		poll_all(s, fds, sigfd, 100);
	for (unsigned i = 0; i < s->model.n; i++)
		conn_disconnect(s->dev[i].conn);
	while (!all_down(s) && time_mono_ms() < deadline)
		poll_all(s, fds, sigfd, 100);
}

int simulate_run(const struct simulate_opts *o)
{
	struct sim s = {.o = o};
	int64_t now = time_now_ms();
	simfleet_init(&s.model, o->devices, o->prefix, (uint64_t)now ^ (uint64_t)getpid() << 20, now);
	ratelimit_init(&s.rate, o->rate > 0 ? o->rate : o->devices);
	s.dev = xcalloc(o->devices, sizeof *s.dev);
	struct pollfd *fds = xcalloc(o->devices + 1, sizeof *fds);
	int sigfd = sig_init();
	for (unsigned i = 0; i < o->devices; i++) {
		setup_device(&s, i, now);
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
		if (!poll_all(&s, fds, sigfd, timeout > 0 ? timeout : 1))
			break;
	}
	say_goodbye(&s, fds, sigfd);
	for (unsigned i = 0; i < o->devices; i++) {
		struct device *d = &s.dev[i];
		if (status == MQMON_EXIT_OK && conn_exit_status(d->conn))
			status = conn_exit_status(d->conn);
		conn_free(d->conn);
		free(d->id);
		free(d->will_topic);
		free(d->will_payload);
	}
	free(s.dev);
	free(fds);
	buf_free(&s.topic);
	buf_free(&s.body);
	simfleet_free(&s.model);
	return status;
}
