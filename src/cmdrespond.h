/*
 * cmdrespond.h — mqmon-cmd --respond: the device side, for tests, demos
 * and benchmarks.  It subscribes to the cmd topic (its template with
 * {device} and {command} as '+'), and answers every command with an ack
 * carrying the same id (and, with MQTT 5, the same correlation data, on
 * the command's response topic) and echoing the command and its params:
 *
 *   {"id":"…","status":"ok","command":"relay","params":{"index":0}}
 *
 * --fail-rate F answers that fraction with "error"; --delay-ms MS answers
 * that much later; --progress first reports "accepted".  Every command
 * received is printed on stdout as an envelope, so a test can check what
 * was really executed.
 */
#ifndef MQMON_CMDRESPOND_H
#define MQMON_CMDRESPOND_H

#include "cmd.h"
#include "conn.h"

struct cmdrespond_opts {
	const struct cmd_opts *cmd; /* topics, id field, qos */
	const struct conn_opts *conn;
	double fail_rate; /* 0..1 */
	long delay_ms;
	bool progress;
};

/* Run until SIGINT or SIGTERM; returns the exit status. */
int cmdrespond_run(const struct cmdrespond_opts *o);

#endif
