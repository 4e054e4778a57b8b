/*
 * storequery.h — reading an mqmon database back (mqmon-store's
 * subcommands): query (envelopes in time order, several databases merged),
 * topics, devices, series, metrics, prune, stats.  Output is NDJSON by default, or
 * an aligned table or CSV (rowfmt.h).
 */
#ifndef MQMON_STOREQUERY_H
#define MQMON_STOREQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "out.h"
#include "rowfmt.h" /* enum rowfmt_kind */

enum series_agg { AGG_AVG, AGG_MIN, AGG_MAX, AGG_COUNT };

/* Options, as bits of storequery_opts.given */
enum {
	SQ_TOPIC = 1 << 0,
	SQ_DEVICE = 1 << 1,
	SQ_TIME = 1 << 2, /* --since, --until */
	SQ_LIMIT = 1 << 3,
	SQ_SERIES = 1 << 4, /* --metric, --every, --agg */
	SQ_PRUNE = 1 << 5, /* --older-than */
};

struct storequery_opts {
	unsigned given; /* SQ_* given on the command line or in the environment */
	char **dbs; /* one or more database files */
	size_t ndbs;
	char **topics; /* --topic filters (wildcards allowed), any of them */
	size_t ntopics;
	const char *device; /* --device */
	const char *metric; /* --metric (series) */
	bool has_since, has_until;
	int64_t since_ms, until_ms; /* wall-clock ms, inclusive since, exclusive until */
	long limit; /* 0 = no limit */
	int64_t every_ms; /* series bucket, 0 = one point per sample */
	enum series_agg agg;
	int64_t older_than_ms; /* prune: delete rows older than now - this */
	enum rowfmt_kind format;
	struct out *out; /* where rows go */
};

/* Each returns an exit status (0, 1 on a database error already reported
 * on stderr, 2 for a usage problem such as series without --metric). */
int storequery_query(const struct storequery_opts *o);
int storequery_topics(const struct storequery_opts *o);
int storequery_devices(const struct storequery_opts *o);
int storequery_series(const struct storequery_opts *o);
int storequery_metrics(const struct storequery_opts *o);
int storequery_prune(const struct storequery_opts *o);
int storequery_stats(const struct storequery_opts *o);

#endif
