/*
 * ingest.h — mqmon-store's default subcommand: envelopes from stdin into
 * the database, with rules that turn topics into meaning (status,
 * telemetry, state, ignore), batched commits, --tee, --retain.
 */
#ifndef MQMON_INGEST_H
#define MQMON_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "opt.h"

struct ingest_opts {
	const char *db;
	long batch; /* commit after this many lines (10000) */
	long flush_ms; /* … or this long after the first uncommitted one (200) */
	bool tee; /* copy every input line to stdout */
	struct opt_list *rules; /* "PATTERN=KIND", tried before the defaults */
	int64_t retain_ms; /* delete what is older, while ingesting; 0 = keep */
	bool strict; /* event lines are rejected, not skipped */
	int in_fd; /* normally stdin */
};

/* Run until end of input or SIGINT/SIGTERM; returns the exit status:
 * 0, 65 when lines were rejected, 1 on a database or I/O failure. */
int ingest_run(const struct ingest_opts *o);

#endif
