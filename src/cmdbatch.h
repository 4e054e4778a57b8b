/*
 * cmdbatch.h — mqmon-cmd --batch: command lines from stdin, many in
 * flight, results as they complete (SPEC §3).
 *
 * A line is a command, {"device":"ESP32_001","command":"restart",
 * "params":{…}}, or an event of mqmon-status ({"event":"offline",
 * "device":…}) that takes the command given on the command line.
 * Parameters from the command line apply to every line, a line's own
 * "params" over them.  Up to --max-pending commands await their acks;
 * --rate caps how many start per second; after --max-failures nacks or
 * timeouts no new command starts and the rest are reported as skipped.
 * A line that is not a command is reported with its number and skipped.
 */
#ifndef MQMON_CMDBATCH_H
#define MQMON_CMDBATCH_H

#include <json-c/json.h>

#include "cmd.h"
#include "conn.h"

struct cmdbatch_opts {
	const struct cmd_opts *cmd;
	const struct conn_opts *conn;
	const char *command; /* for lines without one (events); may be NULL */
	struct json_object *params; /* from the command line; may be NULL */
	long max_pending; /* 100 */
	double rate; /* commands started per second, 0 = no cap */
	long max_failures; /* 0 = no limit */
	int in_fd;
};

/* Run to the end of input; returns the exit status: 0 all acked, else
 * 65 for bad lines, 4 for a nack, 3 for a timeout (in that order), 1 when
 * the broker could not be reached. */
int cmdbatch_run(const struct cmdbatch_opts *o);

#endif
