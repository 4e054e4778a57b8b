/*
 * worker.c — one mutex and one condition for both threads: each waits
 * only for the other (the worker for an ask, the caller for the end of a
 * run), so a signal always wakes the right one.
 */
#include "config.h"

#include <unistd.h>

#include "sig.h"
#include "worker.h"

static void *run_when_asked(void *arg)
{
	struct worker *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->asked && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		w->asked = false;
		w->running = true;
		pthread_mutex_unlock(&w->mu);
		w->run(w->ctx);
		pthread_mutex_lock(&w->mu);
		w->running = false;
		pthread_cond_signal(&w->cv);
		if (w->notify >= 0) {
			ssize_t ignored = write(w->notify, "", 1); /* a full pipe already says so */
			(void)ignored;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

bool worker_start(struct worker *w, void (*run)(void *ctx), void *ctx, int notify)
{
	*w = (struct worker){.run = run, .ctx = ctx, .notify = notify};
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (sig_thread_create(&w->thread, run_when_asked, w) == 0)
		return true;
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	return false;
}

void worker_ask(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->asked = true;
	pthread_mutex_unlock(&w->mu);
	/* after the unlock: woken, the thread need not wait for the mutex */
	pthread_cond_signal(&w->cv);
}

bool worker_idle(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	bool idle = !w->asked && !w->running;
	pthread_mutex_unlock(&w->mu);
	return idle;
}

void worker_wait_idle(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->asked || w->running)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

void worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->quit = true;
	pthread_mutex_unlock(&w->mu);
	pthread_cond_signal(&w->cv);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}
