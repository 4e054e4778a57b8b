/*
 * simulate.h — mqmon-pub --simulate: a fleet of devices (fleet.h), each
 * with its own MQTT connection so each has its own last will: a retained
 * "offline" status the broker publishes if the simulator dies.  On a normal
 * end (-C reached, SIGINT, SIGTERM) every device says goodbye with a
 * retained offline status, as a real device shutting down would.
 */
#ifndef MQMON_SIMULATE_H
#define MQMON_SIMULATE_H

#include "conn.h"

struct simulate_opts {
	unsigned devices;
	const char *prefix;
	double rate; /* messages per second for the whole fleet; 0 = one per device per second */
	long count; /* stop after this many periodic messages; 0 = run until a signal */
	long max_inflight; /* per device */
	const struct conn_opts *conn;
};

/* Returns the exit status. */
int simulate_run(const struct simulate_opts *o);

#endif
