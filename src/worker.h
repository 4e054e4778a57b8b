/*
 * worker.h — a thread that runs one function each time it is asked:
 * mqmon-store's decoding ahead (readahead.c) and its WAL checkpoints
 * (checkpointer.c).  Asking never waits; asked again while it runs, it
 * runs once more after.  The thread blocks every signal: they stay with
 * the loop's self-pipe (sig.h).
 */
#ifndef MQMON_WORKER_H
#define MQMON_WORKER_H

#include <pthread.h>
#include <stdbool.h>

struct worker {
	void (*run)(void *ctx);
	void *ctx;
	int notify; /* a byte is written here after each run; -1: none */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool asked, running, quit; /* under mu */
};

/* Start the thread; false (nothing to stop) if it cannot be had. */
bool worker_start(struct worker *w, void (*run)(void *ctx), void *ctx, int notify);
void worker_ask(struct worker *w);
/* Neither asked nor running: what the last run wrote is the caller's. */
bool worker_idle(struct worker *w);
void worker_wait_idle(struct worker *w);
/* After the run under way (one asked and not begun is dropped). */
void worker_stop(struct worker *w);

#endif
