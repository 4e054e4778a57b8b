/*
 * statuslive.h — mqmon-status's live mode: envelopes from stdin (or its
 * own subscription, -t) into the fleet (fleet.h), events on stdout, a
 * Prometheus textfile every --prom-interval, and for --check, the check
 * when -W runs out.  Its own lost connection, like a "disconnected"
 * event on stdin, makes the fleet stale rather than offline.
 */
#ifndef MQMON_STATUSLIVE_H
#define MQMON_STATUSLIVE_H

#include <stdbool.h>

#include "conn.h"
#include "fleet.h"
#include "opt.h"
#include "statusout.h"

struct statuslive_opts {
	const struct fleet_opts *fleet;
	const struct conn_opts *conn; /* with topics: subscribe; else stdin */
	const struct opt_list *topics;
	const char *shared; /* --shared GROUP */
	double timeout; /* -W seconds, 0 = none */
	bool check; /* print the check at the end instead of events */
	struct status_judge judge; /* max_silence for --check and --prom */
	struct status_threshold warn, crit;
	const char *prom; /* --prom FILE, or NULL */
	double prom_interval; /* seconds (10) */
	bool strict; /* event lines other than connected/disconnected are bad lines */
	int in_fd;
};

/* Run to the end of input, -W, SIGINT or SIGTERM; returns the exit
 * status (with --check, the Nagios status). */
int statuslive_run(const struct statuslive_opts *o);

#endif
