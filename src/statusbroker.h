/*
 * statusbroker.h — mqmon-status --broker: the broker's own health from
 * its $SYS topics (mosquitto's names): version, uptime, clients, messages
 * and bytes per second, bridges; one JSON object, or a table.
 */
#ifndef MQMON_STATUSBROKER_H
#define MQMON_STATUSBROKER_H

#include "conn.h"
#include "rowfmt.h"

/* Subscribe to $SYS/#, gather what the broker has until every value shown
 * is there or timeout seconds have passed, print what there is.  Returns
 * the exit status. */
int statusbroker_run(const struct conn_opts *o, double timeout, enum rowfmt_kind kind);

#endif
