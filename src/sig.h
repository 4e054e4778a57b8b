/*
 * sig.h — SIGINT and SIGTERM as an event the poll loop can wait on (the
 * self-pipe trick), so a program finishes what it holds — flushes, commits,
 * waits for acks — and disconnects normally instead of dying mid-write.
 */
#ifndef MQMON_SIG_H
#define MQMON_SIG_H

#include <pthread.h>
#include <stdbool.h>

/* Install the handlers; returns the descriptor to poll for POLLIN. */
int sig_init(void);
/* Drain the pipe; returns the signal received since the last call, or 0. */
int sig_take(void);
/* Has SIGINT or SIGTERM arrived (without draining)? */
bool sig_pending(void);
/* Forget the signal: the next one is news again, not "the user means it"
 * (a REPL, where Ctrl-C cancels a line rather than the program). */
void sig_clear(void);
/* pthread_create, the new thread blocking every signal: they stay with
 * the thread that polls the pipe (and SIGINT never lands mid-SQLite). */
int sig_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
