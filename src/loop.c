/*
 * loop.c — the event loop: the only place mqmon calls poll().
 *
 * The pollfd array is rebuilt every turn (connections change sockets when
 * they reconnect, inputs are switched on and off for backpressure); with a
 * handful of descriptors that costs less than the system call itself.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "sig.h"
#include "timeutil.h"

struct loop_input {
	int fd;
	bool on;
	loop_fd_fn fn;
	void *ctx;
};

struct loop {
	struct conn **conns;
	size_t nconns, conns_cap;
	struct loop_input *inputs;
	size_t ninputs, inputs_cap;
	struct loop_timer **timers;
	size_t ntimers, timers_cap;
	struct pollfd *fds; /* signal pipe, connections, inputs */
	size_t fds_cap;
	int sigfd;
};

/* Grow *v (of *cap elements of size sz) to hold one more. */
static void *grow(void *v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 4;
	return xrealloc(v, *cap * sz);
}

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);
	l->sigfd = sig_init();
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	free(l->conns);
	free(l->inputs);
	free(l->timers);
	free(l->fds);
	free(l);
}

void loop_add_conn(struct loop *l, struct conn *c)
{
	l->conns = grow(l->conns, &l->conns_cap, l->nconns, sizeof *l->conns);
	l->conns[l->nconns++] = c;
}

int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx)
{
	l->inputs = grow(l->inputs, &l->inputs_cap, l->ninputs, sizeof *l->inputs);
	l->inputs[l->ninputs] = (struct loop_input){fd, true, fn, ctx};
	return (int)l->ninputs++;
}

void loop_watch(struct loop *l, int handle, bool on)
{
	l->inputs[handle].on = on;
}

void loop_add_timer(struct loop *l, struct loop_timer *t)
{
	l->timers = grow(l->timers, &l->timers_cap, l->ntimers, sizeof *l->timers);
	l->timers[l->ntimers++] = t;
}

/* The shortest of a and b, where -1 is "no limit". */
static int sooner(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int until(int64_t due, int64_t now)
{
	int64_t left = due - now;
	if (left < 0)
		return 0;
	return left > 3600000 ? 3600000 : (int)left;
}

/* Fill l->fds; returns the poll timeout. */
static int prepare(struct loop *l, int max_ms)
{
	size_t n = 1 + l->nconns + l->ninputs;
	if (n > l->fds_cap) {
		l->fds_cap = n;
		l->fds = xrealloc(l->fds, n * sizeof *l->fds);
	}
	int timeout = max_ms;
	l->fds[0] = (struct pollfd){.fd = l->sigfd, .events = POLLIN};
	for (size_t i = 0; i < l->nconns; i++) {
		conn_pollfd(l->conns[i], &l->fds[1 + i]);
		timeout = sooner(timeout, conn_timeout_ms(l->conns[i]));
	}
	struct pollfd *in = l->fds + 1 + l->nconns;
	for (size_t i = 0; i < l->ninputs; i++)
		in[i] = (struct pollfd){.fd = l->inputs[i].on ? l->inputs[i].fd : -1, .events = POLLIN};
	int64_t now = time_mono_ms();
	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i]->due)
			timeout = sooner(timeout, until(l->timers[i]->due, now));
	return timeout;
}

static void fire_timers(struct loop *l)
{
	int64_t now = time_mono_ms();
	for (size_t i = 0; i < l->ntimers; i++) {
		struct loop_timer *t = l->timers[i];
		if (t->due && t->due <= now) {
			t->due = 0; /* the callback may arm it again */
			t->fn(t->ctx);
		}
	}
}

bool loop_turn(struct loop *l, int max_ms)
{
	int timeout = prepare(l, max_ms);
	int n = poll(l->fds, 1 + l->nconns + l->ninputs, timeout);
	if (n < 0) {
		if (errno != EINTR)
			mqmon_die(MQMON_EXIT_RUNTIME, "poll: %s", strerror(errno));
		n = 0;
	}
	if (l->fds[0].revents & POLLIN)
		sig_take();
	for (size_t i = 0; i < l->nconns; i++)
		conn_handle(l->conns[i], n > 0 ? l->fds[1 + i].revents : 0);
	const struct pollfd *in = l->fds + 1 + l->nconns;
	for (size_t i = 0; i < l->ninputs && n > 0; i++)
		if (in[i].fd >= 0 && (in[i].revents & (POLLIN | POLLHUP | POLLERR)))
			l->inputs[i].fn(l->inputs[i].ctx, in[i].revents);
	fire_timers(l);
	return n > 0;
}

int loop_signal(struct loop *l)
{
	(void)l;
	return sig_pending() ? sig_take() : 0;
}

static bool all_down(const struct loop *l)
{
	for (size_t i = 0; i < l->nconns; i++)
		if (conn_state(l->conns[i]) != CONN_DOWN)
			return false;
	return true;
}

bool loop_run_until(struct loop *l, bool (*done)(void *ctx), void *ctx, int64_t deadline)
{
	while (!done(ctx) && !all_down(l)) {
		int64_t now = time_mono_ms();
		if (deadline && now >= deadline)
			break;
		loop_turn(l, deadline ? until(deadline, now) : -1);
	}
	return done(ctx);
}

static bool nothing(void *ctx)
{
	(void)ctx;
	return false;
}

void loop_disconnect_all(struct loop *l)
{
	for (size_t i = 0; i < l->nconns; i++)
		conn_disconnect(l->conns[i]);
	/* each connection gives up on its own CLOSING deadline */
	loop_run_until(l, nothing, NULL, 0);
}
