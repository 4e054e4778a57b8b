/*
 * mqmon-store — archive envelopes to SQLite and query them back (SPEC §3).
 *
 *   mqmon-store [--db FILE] [ingest]    stdin → database (the default)
 *   mqmon-store query|topics|devices|series|metrics|prune|stats [options]
 *
 * Ingest lives in src/ingest.c, the subcommands in src/storequery.c; this
 * main holds the option table and picks the subcommand.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "ingest.h"
#include "log.h"
#include "mqmon.h"
#include "opt.h"
#include "out.h"
#include "rules.h"
#include "storequery.h"
#include "timeutil.h"
#include "topic.h"

enum {
	OPT_DB = OPT_KEY_PROGRAM,
	OPT_BATCH,
	OPT_FLUSH_MS,
	OPT_TEE,
	OPT_RULE,
	OPT_RETAIN,
	OPT_STRICT,
	OPT_FORMAT,
	OPT_DEVICE,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_METRIC,
	OPT_EVERY,
	OPT_AGG,
	OPT_OLDER_THAN,
};

static const struct opt_def store_opts[] = {
        {"db", OPT_DB, "FILE", "database file ($MQMON_DB, else ./mqmon.db); query: repeatable"},
        {"batch", OPT_BATCH, "N", "ingest: commit every N lines (10000)"},
        {"flush-ms", OPT_FLUSH_MS, "MS", "ingest: commit at most MS after a line arrives (200)"},
        {"tee", OPT_TEE, NULL, "ingest: copy every input line to stdout"},
        {"rule", OPT_RULE, "PATTERN=KIND", "ingest: status, telemetry, state or ignore (repeatable)"},
        {"retain", OPT_RETAIN, "SPAN", "ingest: delete what is older than SPAN (e.g. 30d)"},
        {"strict", OPT_STRICT, NULL, "ingest: reject event lines instead of skipping them"},
        {"topic", 't', "FILTER", "query, topics, prune: topics matching FILTER (repeatable)"},
        {"device", OPT_DEVICE, "DEVICE", "query, devices, series, metrics: only this device"},
        {"since", OPT_SINCE, "TIME", "from TIME (RFC 3339, or a span ago: 15m, 2h, 7d)"},
        {"until", OPT_UNTIL, "TIME", "up to TIME (exclusive)"},
        {"limit", OPT_LIMIT, "N", "at most N rows"},
        {"metric", OPT_METRIC, "NAME", "series: the metric (e.g. temperature)"},
        {"every", OPT_EVERY, "SPAN", "series: one point per SPAN (e.g. 1m)"},
        {"agg", OPT_AGG, "AGG", "series: avg, min, max or count (avg)"},
        {"older-than", OPT_OLDER_THAN, "SPAN", "prune: delete what is older than SPAN"},
        {"format", OPT_FORMAT, "FMT", "ndjson, table or csv (ndjson)"},
        {NULL, 0, NULL, NULL},
};

struct store_cli {
	struct opt_list dbs;
	struct opt_stack rules_given;
	struct opt_list rules; /* the command line's first, then env, file; then the defaults */
	struct opt_list topics;
	struct ingest_opts ingest;
	struct storequery_opts query;
	const char *since, *until;
	bool set_every, set_agg, set_older, set_limit, set_metric, set_device;
	bool set_batch, set_flush, set_tee, set_retain, set_strict, set_time, set_format;
};

static bool parse_span(const char *val, int64_t *ms, struct opt_err *err)
{
	const char *why;
	if (!time_parse_span(val, ms, &why) || *ms <= 0)
		return opt_errf(err, "'%s' is not a time span such as 90s, 15m, 2h or 7d", val);
	return true;
}

static bool store_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct store_cli *s = ctx;
	const char *why;
	/* which options were asked for here and now: the config file may
	 * hold settings for ingest and for queries alike without either
	 * objecting to the other's */
	bool here = w->layer > OPT_LAYER_FILE;
	switch (key) {
	case OPT_DB: opt_list_add(&s->dbs, val, w); return true;
	case OPT_BATCH: s->set_batch = s->set_batch || here; return opt_int(val, 1, 1000000, &s->ingest.batch, err);
	case OPT_FLUSH_MS:
		s->set_flush = s->set_flush || here;
		return opt_int(val, 1, 3600000, &s->ingest.flush_ms, err);
	case OPT_TEE:
		s->set_tee = s->set_tee || here;
		s->ingest.tee = true;
		return true;
	case OPT_RULE:
		if (!rules_valid(val, &why))
			return opt_errf(err, "'%s': %s", val, why);
		opt_stack_add(&s->rules_given, val, w);
		return true;
	case OPT_RETAIN: s->set_retain = s->set_retain || here; return parse_span(val, &s->ingest.retain_ms, err);
	case OPT_STRICT:
		s->set_strict = s->set_strict || here;
		s->ingest.strict = true;
		return true;
	case 't': return opt_filter_add(&s->topics, val, w, err);
	case OPT_DEVICE:
		s->set_device = s->set_device || here;
		s->query.device = val; /* argv and config strings live to the end */
		return true;
	case OPT_SINCE:
		s->since = val;
		s->set_time = s->set_time || here;
		return true;
	case OPT_UNTIL:
		s->until = val;
		s->set_time = s->set_time || here;
		return true;
	case OPT_LIMIT: s->set_limit = s->set_limit || here; return opt_int(val, 1, 2147483647L, &s->query.limit, err);
	case OPT_METRIC:
		s->set_metric = s->set_metric || here;
		s->query.metric = val;
		return true;
	case OPT_EVERY: s->set_every = s->set_every || here; return parse_span(val, &s->query.every_ms, err);
	case OPT_AGG:
		s->set_agg = s->set_agg || here;
		if (strcmp(val, "avg") == 0)
			s->query.agg = AGG_AVG;
		else if (strcmp(val, "min") == 0)
			s->query.agg = AGG_MIN;
		else if (strcmp(val, "max") == 0)
			s->query.agg = AGG_MAX;
		else if (strcmp(val, "count") == 0)
			s->query.agg = AGG_COUNT;
		else
			return opt_errf(err, "'%s' is not avg, min, max or count", val);
		return true;
	case OPT_OLDER_THAN: s->set_older = s->set_older || here; return parse_span(val, &s->query.older_than_ms, err);
	case OPT_FORMAT:
		s->set_format = s->set_format || here;
		if (strcmp(val, "ndjson") == 0 || strcmp(val, "json") == 0)
			s->query.format = ROWFMT_NDJSON;
		else if (strcmp(val, "table") == 0)
			s->query.format = ROWFMT_TABLE;
		else if (strcmp(val, "csv") == 0)
			s->query.format = ROWFMT_CSV;
		else
			return opt_errf(err, "'%s' is not ndjson, table or csv", val);
		return true;
	}
	return opt_errf(err, "unhandled option");
}

static void parse_when(const char *val, const char *opt, int64_t *ms, bool *has)
{
	const char *why;
	if (!val)
		return;
	if (!time_parse_when(val, time_now_ms(), ms, &why))
		mqmon_usage_error("--%s: '%s': %s", opt, val, why);
	*has = true;
}

/* Options that only one subcommand takes are a usage error elsewhere. */
static void refuse(bool given, const char *option, const char *sub)
{
	if (given)
		mqmon_usage_error("%s does not apply to '%s'", option, sub);
}

static const struct {
	const char *name;
	int (*run)(const struct storequery_opts *);
} subs[] = {
        {"ingest", NULL},
        {"query", storequery_query},
        {"topics", storequery_topics},
        {"devices", storequery_devices},
        {"series", storequery_series},
        {"metrics", storequery_metrics},
        {"prune", storequery_prune},
        {"stats", storequery_stats},
};

/* The index of subcommand name in subs[], or -1. */
static int find_sub(const char *name)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(subs); i++)
		if (strcmp(name, subs[i].name) == 0)
			return (int)i;
	return -1;
}

/* A word that names a database the way sqlite3 takes one ("sqlite3
 * fleet.db"): a name ending in .db, .sqlite or .sqlite3, or a file that
 * exists. */
static bool looks_like_db(const char *arg)
{
	static const char *const ends[] = {".db", ".sqlite", ".sqlite3"};
	size_t n = strlen(arg);
	for (size_t i = 0; i < MQMON_ARRAY_LEN(ends); i++) {
		size_t e = strlen(ends[i]);
		if (n > e && strcmp(arg + n - e, ends[i]) == 0)
			return true;
	}
	struct stat st;
	return stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

/* A usage error for a database named where the subcommand goes (or, not
 * first, after it), with the --db that names it, quoted for the shell if
 * need be. */
static _Noreturn void db_word_error(bool first, const char *arg)
{
	struct buf q = BUF_INIT;
	if (arg[0] &&
	    arg[strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-")] == 0) {
		buf_adds(&q, arg);
	} else {
		buf_addc(&q, '\'');
		for (const char *p = arg; *p; p++) {
			if (*p == '\'')
				buf_adds(&q, "'\\''"); /* end the quote, a quoted quote, quote again */
			else
				buf_addc(&q, *p);
		}
		buf_addc(&q, '\'');
	}
	if (first)
		mqmon_usage_error("'%s' is not a subcommand; to name the database, use --db %s", arg, buf_cstr(&q));
	mqmon_usage_error("unexpected argument '%s'; to name the database, use --db %s", arg, buf_cstr(&q));
}

/* On a terminal, ingest would wait silently for input typed by hand: say
 * what it does and how it is usually run (sqlite3 greets a terminal too),
 * then read on, as cat and jq do. */
static void tty_hint(const char *db)
{
	mqmon_note("reading JSON envelopes, one per line, from the terminal into %s; Ctrl-D ends", db);
	mqmon_note("usually fed by a pipe: mqmon-sub -t 'autocore/#' | mqmon-store --db fleet.db");
	mqmon_note("to read it back: mqmon-store --db fleet.db query|topics|devices|series|metrics|stats");
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	struct store_cli s = {.ingest = {.batch = 10000, .flush_ms = 200, .in_fd = STDIN_FILENO}};
	struct opt_program prog = {
	        .name = "mqmon-store",
	        .synopsis = "[options] [ingest]\n"
	                    "       mqmon-store [options] query|topics|devices|series|metrics|prune|stats",
	        .summary = "Archive MQTT envelopes to SQLite, discover topics and devices, query and replay.",
	        .opts = store_opts,
	        .sets = 0,
	        .apply = store_apply,
	        .ctx = &s,
	        .epilog = "Examples:\n"
	                  "  mqmon-sub -c -i archiver -q 1 -t 'autocore/#' | mqmon-store --db fleet.db\n"
	                  "  mqmon-store --db fleet.db query --topic 'autocore/+/telemetry' --since 1h |\n"
	                  "    mqmon-pub --rewrite autocore/=replay/\n"
	                  "  mqmon-store --db fleet.db series --device ESP32_001 --metric temperature --every 5m",
	};
	int first = opt_parse(&prog, argc, argv, NULL);
	const char *sub = first < argc ? argv[first] : "ingest";
	int which = find_sub(sub);
	if (which < 0 && looks_like_db(sub))
		db_word_error(true, sub);
	if (which < 0)
		mqmon_usage_error(
		        "unknown subcommand '%s' (ingest, query, topics, devices, series, metrics, prune, stats)", sub);
	if (first + 1 < argc && looks_like_db(argv[first + 1]))
		db_word_error(false, argv[first + 1]);
	if (first + 1 < argc)
		mqmon_usage_error("unexpected argument '%s'", argv[first + 1]);
	bool rules_here = opt_stack_count_above(&s.rules_given, OPT_LAYER_FILE) > 0;
	opt_stack_take(&s.rules_given, &s.rules);
	if (s.dbs.n == 0)
		opt_list_add(&s.dbs, "mqmon.db", &(struct opt_where){OPT_LAYER_DEFAULT, NULL, 0});

	struct out out;
	out_init(&out, STDOUT_FILENO);
	int status;
	if (!subs[which].run) {
		if (s.dbs.n > 1)
			mqmon_usage_error("ingest writes one database: give one --db");
		refuse(s.topics.n > 0 && s.topics.layer > OPT_LAYER_FILE, "--topic", sub);
		refuse(s.set_device || s.set_time || s.set_limit || s.set_metric || s.set_every || s.set_agg ||
		               s.set_older || s.set_format,
		       "a query option", sub);
		s.ingest.db = s.dbs.items[0];
		s.ingest.rules = &s.rules;
		if (isatty(s.ingest.in_fd))
			tty_hint(s.ingest.db);
		status = ingest_run(&s.ingest);
	} else {
		refuse(s.set_batch || s.set_flush || s.set_tee || s.set_retain || s.set_strict || rules_here,
		       "an ingest option", sub);
		if (s.dbs.n > 1 && strcmp(sub, "query") != 0)
			mqmon_usage_error("only query reads several databases");
		if (s.set_agg && !s.set_every)
			mqmon_usage_error("--agg needs --every (one value per bucket)");
		parse_when(s.since, "since", &s.query.since_ms, &s.query.has_since);
		parse_when(s.until, "until", &s.query.until_ms, &s.query.has_until);
		s.query.given =
		        (s.topics.n && s.topics.layer > OPT_LAYER_FILE ? SQ_TOPIC : 0) |
		        (s.set_device ? SQ_DEVICE : 0) | (s.set_time ? SQ_TIME : 0) | (s.set_limit ? SQ_LIMIT : 0) |
		        (s.set_metric || s.set_every || s.set_agg ? SQ_SERIES : 0) | (s.set_older ? SQ_PRUNE : 0);
		s.query.dbs = s.dbs.items;
		s.query.ndbs = s.dbs.n;
		s.query.topics = s.topics.items;
		s.query.ntopics = s.topics.n;
		s.query.out = &out;
		status = subs[which].run(&s.query);
	}
	out_flush(&out);
	if (out.error && !status)
		status = MQMON_EXIT_RUNTIME;
	out_free(&out);
	opt_list_free(&s.dbs);
	opt_list_free(&s.rules);
	opt_list_free(&s.topics);
	return status;
}
