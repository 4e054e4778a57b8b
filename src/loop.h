/*
 * loop.h — the one event loop every mqmon program runs on.  One poll()
 * watches the program's MQTT connections, its input descriptors (stdin, or
 * readline's for a REPL) and the SIGINT/SIGTERM pipe, and sleeps until the
 * nearest deadline: a connection's own (keepalive, retry, connect
 * timeout), one of the program's timers, or the wait the caller allows.
 *
 *   struct loop *l = loop_new();
 *   loop_add_conn(l, conn);
 *   int in = loop_add_fd(l, STDIN_FILENO, on_stdin, ctx);
 *   while (!done && !loop_signal(l))
 *           if (!loop_turn(l, out_pending(&out) ? 0 : -1))
 *                   out_flush(&out);      // nothing more to read: hand it over
 *   loop_disconnect_all(l);                // a normal DISCONNECT: no will
 *   loop_free(l);
 *
 * Callbacks run inside loop_turn(): connections first (their handlers),
 * then input descriptors, then due timers.
 */
#ifndef MQMON_LOOP_H
#define MQMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

struct loop;

/* A new loop; SIGINT and SIGTERM are caught from now on (sig.h). */
struct loop *loop_new(void);
/* Frees the loop, not the connections or timers added to it. */
void loop_free(struct loop *l);

/* Service c in every turn: its socket, its keepalive and its retries. */
void loop_add_conn(struct loop *l, struct conn *c);

/* Watch fd for input: fn(ctx, revents) runs when it is readable, hung up
 * or in error.  Returns a handle for loop_watch(). */
typedef void (*loop_fd_fn)(void *ctx, short revents);
int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx);
/* Stop or resume watching (backpressure: input is not read while what
 * came before it cannot go out). */
void loop_watch(struct loop *l, int handle, bool on);

/* A timer belongs to the caller and is registered once; arming it sets
 * when it fires (once).  Timers are scanned each turn: a program keeps a
 * few, not one per device. */
struct loop_timer {
	int64_t due; /* monotonic ms; 0 = disarmed */
	void (*fn)(void *ctx);
	void *ctx;
};
void loop_add_timer(struct loop *l, struct loop_timer *t);
/* Fire at the monotonic time due (ms), or never with 0. */
static inline void loop_timer_at(struct loop_timer *t, int64_t due)
{
	t->due = due;
}

/* One turn: wait until a descriptor is ready, a connection or timer is
 * due, or max_ms has passed (-1: no limit of its own, 0: do not wait), then
 * run the callbacks.  Returns true when a descriptor was ready, false when
 * the wait ran out: nothing more to read right now, the moment to hand
 * buffered output over. */
bool loop_turn(struct loop *l, int max_ms);

/* The signal (SIGINT, SIGTERM) received since the loop was made, or 0. */
int loop_signal(struct loop *l);

/* The end-of-run wait: turn until done(ctx), every connection is down, or
 * the monotonic deadline (ms; 0 = none) passes.  Returns done(ctx). */
bool loop_run_until(struct loop *l, bool (*done)(void *ctx), void *ctx, int64_t deadline);

/* Send every connection a normal DISCONNECT (so the broker does not
 * publish a will) and turn until all are down, each within its
 * --connect-timeout. */
void loop_disconnect_all(struct loop *l);

#endif
