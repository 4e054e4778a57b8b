/*
 * sig.c — self-pipe signal delivery.  A second SIGINT or SIGTERM while the
 * program is finishing up exits at once, as users expect from Ctrl-C twice.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mqmon.h"
#include "sig.h"

static int pipefd[2] = {-1, -1};
static volatile sig_atomic_t received;

static void handler(int signo)
{
	int saved = errno;
	if (received) {
		/* second signal: the user means it */
		_exit(128 + signo);
	}
	received = signo;
	char b = (char)signo;
	ssize_t w = write(pipefd[1], &b, 1);
	(void)w;
	errno = saved;
}

int sig_init(void)
{
	if (pipefd[0] >= 0)
		return pipefd[0];
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot create a pipe: %s", strerror(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocking connect() or write() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return pipefd[0];
}

int sig_take(void)
{
	char b[16];
	while (pipefd[0] >= 0 && read(pipefd[0], b, sizeof b) > 0)
		;
	return received;
}

void sig_clear(void)
{
	sig_take();
	received = 0;
}

bool sig_pending(void)
{
	return received != 0;
}

int sig_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
