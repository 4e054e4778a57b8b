/*
 * mqmon-status — fleet online/offline, alerts, anomalies, snapshots and
 * health checks (SPEC §3).
 *
 *   mqmon-status [options] < envelopes          live, events on stdout
 *   mqmon-status [options] -t FILTER ...        live, its own subscription
 *   mqmon-status --db FILE [--offline]          a snapshot of the archive
 *   mqmon-status --check (--db FILE | -t FILTER -W S)   a Nagios check
 *   mqmon-status --broker                       the broker's $SYS
 *
 * The live fleet is src/fleet.c (through the meaning layer mqmon-store
 * reads with), the loop src/statuslive.c, the archive src/statusdb.c, the
 * outputs src/statusout.c; this main holds the options and picks the mode.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "fleet.h"
#include "log.h"
#include "mqmon.h"
#include "opt.h"
#include "out.h"
#include "rules.h"
#include "statusbroker.h"
#include "statusdb.h"
#include "statuslive.h"
#include "statusout.h"
#include "timeutil.h"
#include "topic.h"

enum {
	OPT_SHARED = OPT_KEY_PROGRAM,
	OPT_STRICT,
	OPT_RULE,
	OPT_OFFLINE_AFTER,
	OPT_ALERT,
	OPT_HYSTERESIS,
	OPT_ZSCORE,
	OPT_WINDOW,
	OPT_GROUP,
	OPT_DB,
	OPT_METRIC,
	OPT_OFFLINE,
	OPT_CHECK,
	OPT_WARN_OFFLINE,
	OPT_CRIT_OFFLINE,
	OPT_MAX_SILENCE,
	OPT_PROM,
	OPT_PROM_INTERVAL,
	OPT_BROKER,
};

static const struct opt_def status_opts[] = {
        {"topic", 't', "FILTER", "subscribe to FILTER instead of reading stdin (repeatable)"},
        {"shared", OPT_SHARED, "GROUP", "subscribe as $share/GROUP/FILTER"},
        {"timeout", 'W', "SECS", "end after SECS seconds (--check: watch this long; --broker: at most, 12)"},
        {"rule", OPT_RULE, "PATTERN=KIND", "a topic rule, tried before the defaults (repeatable)"},
        {"offline-after", OPT_OFFLINE_AFTER, "[FILTER=]SECS", "offline after this long without a message (repeatable)"},
        {"alert", OPT_ALERT, "EXPR", "'FIELD OP NUMBER [for DURATION]' (repeatable)"},
        {"hysteresis", OPT_HYSTERESIS, "H", "recovered only when back past the threshold by more than H (0)"},
        {"zscore", OPT_ZSCORE, "K", "anomaly: a value more than K deviations from its moving mean"},
        {"window", OPT_WINDOW, "N", "the moving mean's span in values (60)"},
        {"group", OPT_GROUP, "FIELD", "also summarize the devices by this body field (e.g. vehicle_id)"},
        {"strict", OPT_STRICT, NULL, "event lines other than connected/disconnected are errors"},
        {"db", OPT_DB, "FILE", "a snapshot of this mqmon-store database instead of live"},
        {"metric", OPT_METRIC, "NAME", "snapshot: a sparkline of NAME over the last hour"},
        {"offline", OPT_OFFLINE, NULL, "snapshot: only the offline devices"},
        {"format", 'F', "FMT", "table, ndjson (json) or csv (a table on a terminal)"},
        {"check", OPT_CHECK, NULL, "a monitoring-plugins check (status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)"},
        {"warn-offline", OPT_WARN_OFFLINE, "N[%]", "--check: WARNING when more than N devices are offline"},
        {"crit-offline", OPT_CRIT_OFFLINE, "N[%]", "--check: CRITICAL when more than N devices are offline"},
        {"max-silence", OPT_MAX_SILENCE, "SECS", "count a device silent this long as offline"},
        {"prom", OPT_PROM, "FILE", "write the fleet in Prometheus text format to FILE"},
        {"prom-interval", OPT_PROM_INTERVAL, "SECS", "live: rewrite --prom every SECS seconds (10)"},
        {"broker", OPT_BROKER, NULL, "the broker's own health from $SYS"},
        {NULL, 0, NULL, NULL},
};

struct cli {
	struct conn_opts conn;
	struct opt_list topics, rules_raw, silence_raw, alerts_raw;
	struct opt_stack rules_given;
	struct rules rules;
	struct fleet_silence *silence;
	struct alert_rule *alerts;
	size_t nsilence, nalerts;
	struct fleet_opts fleet;
	char *shared, *db, *metric, *group, *prom;
	double timeout, hysteresis, zscore, max_silence, prom_interval;
	long window;
	bool strict, offline, check, broker;
	bool db_given; /* on the command line, not only in the file or $MQMON_DB */
	int format; /* -1: a table on a terminal, else NDJSON */
	struct status_threshold warn, crit;
};

static bool set_str(char **slot, const char *val)
{
	free(*slot);
	*slot = xstrdup(val);
	return true;
}

static bool status_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct cli *c = ctx;
	const char *why;
	double d;
	switch (key) {
	case 't': return opt_filter_add(&c->topics, val, w, err);
	case OPT_SHARED:
		if (!*val || strpbrk(val, "/+#"))
			return opt_errf(err, "'%s': a group name is not empty and has no '/', '+' or '#'", val);
		return set_str(&c->shared, val);
	case 'W':
		if (!opt_seconds(val, &c->timeout, err))
			return false;
		return c->timeout > 0 || opt_errf(err, "the timeout must be more than 0");
	case OPT_RULE:
		if (!rules_valid(val, &why))
			return opt_errf(err, "'%s': %s", val, why);
		opt_stack_add(&c->rules_given, val, w);
		return true;
	case OPT_OFFLINE_AFTER: {
		struct fleet_silence s;
		if (!fleet_silence_parse(&s, val, &why))
			return opt_errf(err, "'%s': %s", val, why);
		fleet_silence_free(&s);
		opt_list_add(&c->silence_raw, val, w);
		return true;
	}
	case OPT_ALERT: {
		struct alert_rule r;
		if (!alert_parse(&r, val, &why))
			return opt_errf(err, "'%s': %s", val, why);
		alert_rule_free(&r);
		opt_list_add(&c->alerts_raw, val, w);
		return true;
	}
	case OPT_HYSTERESIS:
		if (!opt_number(val, &c->hysteresis, err) || c->hysteresis < 0)
			return opt_errf(err, "'%s' is not a number of 0 or more", val);
		return true;
	case OPT_ZSCORE:
		if (!opt_number(val, &d, err) || d <= 0)
			return opt_errf(err, "'%s' is not a number of deviations more than 0", val);
		c->zscore = d;
		return true;
	case OPT_WINDOW: return opt_int(val, 2, 1000000, &c->window, err);
	case OPT_GROUP: return *val ? set_str(&c->group, val) : opt_errf(err, "the group field needs a name");
	case OPT_STRICT: c->strict = true; return true;
	case OPT_DB: c->db_given = w->layer == OPT_LAYER_ARGV; return set_str(&c->db, val);
	case OPT_METRIC: return set_str(&c->metric, val);
	case OPT_OFFLINE: c->offline = true; return true;
	case 'F':
		if (strcmp(val, "table") == 0)
			c->format = ROWFMT_TABLE;
		else if (strcmp(val, "ndjson") == 0 || strcmp(val, "json") == 0)
			c->format = ROWFMT_NDJSON;
		else if (strcmp(val, "csv") == 0)
			c->format = ROWFMT_CSV;
		else
			return opt_errf(err, "'%s' is not table, ndjson or csv", val);
		return true;
	case OPT_CHECK: c->check = true; return true;
	case OPT_WARN_OFFLINE:
	case OPT_CRIT_OFFLINE:
		if (!status_threshold_parse(key == OPT_WARN_OFFLINE ? &c->warn : &c->crit, val))
			return opt_errf(err, "'%s' is not a number of devices or a percentage (10%%)", val);
		return true;
	case OPT_MAX_SILENCE:
		if (!opt_seconds(val, &c->max_silence, err))
			return false;
		return c->max_silence > 0 || opt_errf(err, "the silence must be more than 0");
	case OPT_PROM: return set_str(&c->prom, val);
	case OPT_PROM_INTERVAL:
		if (!opt_seconds(val, &c->prom_interval, err))
			return false;
		return c->prom_interval > 0 || opt_errf(err, "the interval must be more than 0");
	case OPT_BROKER: c->broker = true; return true;
	}
	return opt_errf(err, "unhandled option");
}

/* Is stdin something to read (a pipe, a file, a socket), rather than a
 * terminal or /dev/null? */
static bool stdin_is_input(void)
{
	struct stat st;
	if (fstat(STDIN_FILENO, &st) != 0)
		return false;
	return S_ISFIFO(st.st_mode) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode);
}

/* The checked strings of the repeatable options, as the fleet takes them. */
static void compile(struct cli *c)
{
	const char *why;
	opt_stack_take(&c->rules_given, &c->rules_raw);
	for (size_t i = 0; i < c->rules_raw.n; i++)
		rules_add(&c->rules, c->rules_raw.items[i], &why);
	rules_add_defaults(&c->rules);
	c->nsilence = c->silence_raw.n;
	c->silence = xcalloc(c->nsilence ? c->nsilence : 1, sizeof *c->silence);
	for (size_t i = 0; i < c->nsilence; i++)
		fleet_silence_parse(&c->silence[i], c->silence_raw.items[i], &why);
	c->nalerts = c->alerts_raw.n;
	c->alerts = xcalloc(c->nalerts ? c->nalerts : 1, sizeof *c->alerts);
	for (size_t i = 0; i < c->nalerts; i++)
		alert_parse(&c->alerts[i], c->alerts_raw.items[i], &why);
	c->fleet = (struct fleet_opts){.rules = &c->rules,
	                               .silence = c->silence,
	                               .nsilence = c->nsilence,
	                               .alerts = c->alerts,
	                               .nalerts = c->nalerts,
	                               .hysteresis = c->hysteresis,
	                               .zscore = c->zscore,
	                               .window = c->window,
	                               .group_field = c->group};
}

/* ---- the snapshot ---- */

struct snapshot {
	struct cli *c;
	struct status_table table;
	struct status_check check;
	struct status_prom prom;
	struct status_groups *groups;
	struct status_judge judge;
	bool open;
};

static void snapshot_row(void *ctx, const struct status_row *r)
{
	struct snapshot *s = ctx;
	if (s->c->check)
		status_check_add(&s->check, r);
	else if (s->open && !s->c->prom)
		s->open = status_table_row(&s->table, r);
	if (s->c->prom)
		status_prom_add(&s->prom, r);
	if (s->groups)
		status_groups_add(s->groups, r, &s->judge);
}

static int run_snapshot(struct cli *c, enum rowfmt_kind kind)
{
	struct out out;
	out_init(&out, STDOUT_FILENO);
	struct snapshot s = {.c = c, .open = true};
	s.judge = (struct status_judge){time_now_ms(), (int64_t)(c->max_silence * 1000)};
	struct statusdb_opts o = {.db = c->db,
	                          .metric = c->metric,
	                          .group_field = c->group,
	                          .want_metrics = c->prom || c->group,
	                          .now_ms = s.judge.now_ms};
	status_table_init(&s.table, kind, &out, c->offline, &s.judge, c->group != NULL);
	status_check_init(&s.check, &s.judge, &c->warn, &c->crit);
	status_prom_init(&s.prom, &s.judge);
	s.groups = c->group ? status_groups_new() : NULL;
	char err[1024];
	int status = MQMON_EXIT_OK;
	bool read = statusdb_read(&o, snapshot_row, &s, err, sizeof err);
	if (read && c->prom && !status_prom_write(&s.prom, c->prom, s.groups)) {
		snprintf(err, sizeof err, "cannot write %s: %s", c->prom, strerror(errno));
		read = false;
	}
	if (!read) {
		if (c->check)
			status = status_check_fail(&out, 3, err);
		else {
			mqmon_err("%s", err);
			status = MQMON_EXIT_RUNTIME;
		}
	} else if (c->check) {
		status = status_check_print(&s.check, &out);
	} else if (!c->prom) {
		if (s.open)
			s.open = status_table_finish(&s.table);
		if (s.open && s.groups) {
			if (kind == ROWFMT_TABLE)
				buf_addc(out_buf(&out), '\n');
			status_groups_print(s.groups, kind, &out);
		}
	}
	out_flush(&out);
	if (!c->check && out.error && !out_closed(&out))
		status = MQMON_EXIT_RUNTIME;
	status_table_free(&s.table);
	status_check_free(&s.check);
	status_prom_free(&s.prom);
	status_groups_free(s.groups);
	out_free(&out);
	return status;
}

/* ---- main ---- */

static void free_cli(struct cli *c)
{
	for (size_t i = 0; i < c->nsilence; i++)
		fleet_silence_free(&c->silence[i]);
	for (size_t i = 0; i < c->nalerts; i++)
		alert_rule_free(&c->alerts[i]);
	free(c->silence);
	free(c->alerts);
	rules_free(&c->rules);
	opt_list_free(&c->topics);
	opt_list_free(&c->rules_raw);
	opt_list_free(&c->silence_raw);
	opt_list_free(&c->alerts_raw);
	free(c->shared);
	free(c->db);
	free(c->metric);
	free(c->group);
	free(c->prom);
	conn_opts_free(&c->conn);
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	/* a Nagios check says UNKNOWN (3) for its own usage errors */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--check") == 0)
			log_set_usage_status(3, "MQMON UNKNOWN - ");
	struct cli c = {.format = -1, .window = 60, .prom_interval = 10};
	struct opt_program prog = {
	        .name = "mqmon-status",
	        .synopsis = "[options] < envelopes.ndjson\n"
	                    "       mqmon-status [options] -t FILTER [-t FILTER ...]\n"
	                    "       mqmon-status [options] --db FILE [--offline]\n"
	                    "       mqmon-status [options] --check (--db FILE | -t FILTER -W SECS)\n"
	                    "       mqmon-status [options] --broker",
	        .summary = "Fleet online/offline, alerts, anomalies, snapshots and health checks.",
	        .opts = status_opts,
	        .sets = OPT_SET_CONN,
	        .apply = status_apply,
	        .ctx = &c,
	        .epilog = "Examples:\n"
	                  "  mqmon-sub -t 'autocore/#' --events | mqmon-status --offline-after 30 --alert 'temperature "
	                  "> 30'\n"
	                  "  mqmon-status --db fleet.db --metric temperature\n"
	                  "  mqmon-status --check --db fleet.db --warn-offline 2 --crit-offline 10%",
	};
	int first = opt_parse(&prog, argc, argv, &c.conn);
	if (first < argc)
		mqmon_usage_error("unexpected argument '%s'", argv[first]);
	const char *why;
	if (!conn_opts_finish(&c.conn, &why))
		mqmon_usage_error("%s", why);
	/* a database or topics from the config file or the environment
	 * (shared with mqmon-store and mqmon-sub) choose the mode only when
	 * there is no input on stdin: `mqmon-sub | mqmon-status` stays live */
	bool piped = stdin_is_input() && !c.check;
	bool topics_given = c.topics.layer == OPT_LAYER_ARGV;
	bool live_topics = c.topics.n > 0 && (topics_given || (!piped && !c.db));
	bool snapshot = c.db && !live_topics && (c.db_given || !piped);
	if (!live_topics)
		opt_list_free(&c.topics);
	if (c.broker && (topics_given || c.check || c.db_given))
		mqmon_usage_error("--broker is a mode of its own: without -t, --check or --db");
	if (c.check && !snapshot && !(live_topics && c.timeout > 0))
		mqmon_usage_error("--check needs --db FILE, or -t FILTER with -W SECS");
	if ((c.offline || c.metric) && !snapshot)
		mqmon_usage_error("--offline and --metric are for a snapshot (--db FILE)");
	if (c.db_given && topics_given)
		mqmon_usage_error("--db (a snapshot) and -t (live) are different modes: give one");
	enum rowfmt_kind kind = c.format >= 0           ? (enum rowfmt_kind)c.format
	                        : isatty(STDOUT_FILENO) ? ROWFMT_TABLE
	                                                : ROWFMT_NDJSON;
	compile(&c);
	int status;
	if (c.broker) {
		status = statusbroker_run(&c.conn, c.timeout > 0 ? c.timeout : 12, kind);
	} else if (snapshot) {
		status = run_snapshot(&c, kind);
	} else {
		struct statuslive_opts lo = {.fleet = &c.fleet,
		                             .conn = &c.conn,
		                             .topics = &c.topics,
		                             .shared = c.shared,
		                             .timeout = c.timeout,
		                             .check = c.check,
		                             .judge = {0, (int64_t)(c.max_silence * 1000)},
		                             .warn = c.warn,
		                             .crit = c.crit,
		                             .prom = c.prom,
		                             .prom_interval = c.prom_interval,
		                             .strict = c.strict,
		                             .in_fd = STDIN_FILENO};
		status = statuslive_run(&lo);
	}
	free_cli(&c);
	return status;
}
