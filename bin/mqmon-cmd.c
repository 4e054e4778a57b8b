/*
 * mqmon-cmd — send a device a command and wait for its acknowledgement
 * (SPEC §3).
 *
 *   mqmon-cmd [options] DEVICE COMMAND [KEY=VALUE ...]   one command
 *   mqmon-cmd [options] --batch [COMMAND [KEY=VALUE ...]] < commands
 *   mqmon-cmd [options] [-I]                            the REPL
 *   mqmon-cmd [options] --respond                       the device side
 *
 * The engine is src/cmd.c, the modes src/cmdbatch.c, src/cmdrepl.c and
 * src/cmdrespond.c; this main holds the options and picks the mode.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmdbatch.h"
#include "cmdproto.h"
#include "cmdrepl.h"
#include "cmdrespond.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "opt.h"
#include "out.h"
#include "topic.h"

enum {
	OPT_CMD_TOPIC = OPT_KEY_PROGRAM,
	OPT_ACK_TOPIC,
	OPT_ID_FIELD,
	OPT_PARAMS,
	OPT_RETRIES,
	OPT_DONE_TIMEOUT,
	OPT_BATCH,
	OPT_MAX_PENDING,
	OPT_RATE,
	OPT_MAX_FAILURES,
	OPT_DB,
	OPT_RESPOND,
	OPT_FAIL_RATE,
	OPT_DELAY_MS,
	OPT_PROGRESS,
	OPT_EVENTS,
};

static const struct opt_def cmd_opts[] = {
        {"cmd-topic", OPT_CMD_TOPIC, "TEMPLATE", "where commands go (devices/{device}/command)"},
        {"ack-topic", OPT_ACK_TOPIC, "TEMPLATE", "where acks come back (devices/{device}/response)"},
        {"id-field", OPT_ID_FIELD, "NAME", "the id member of commands and acks (id)"},
        {"params", OPT_PARAMS, "JSON", "the parameters as one JSON object"},
        {"timeout", 'W', "SECS", "wait this long for an answer to each attempt (5)"},
        {"retries", OPT_RETRIES, "N", "send again this many times without an answer (2)"},
        {"done-timeout", OPT_DONE_TIMEOUT, "SECS", "after a progress report, wait this long for the final ack (60)"},
        {"batch", OPT_BATCH, NULL, "read commands from stdin, one JSON object per line"},
        {"max-pending", OPT_MAX_PENDING, "N", "--batch: at most N commands awaiting their ack (100)"},
        {"rate", OPT_RATE, "N", "--batch: start at most N commands per second"},
        {"max-failures", OPT_MAX_FAILURES, "N", "--batch: after N nacks or timeouts, start no more"},
        {"interactive", 'I', NULL, "the interactive shell, also when stdin is not a terminal"},
        {"db", OPT_DB, "FILE", "interactive: device names from this mqmon-store database"},
        {"respond", OPT_RESPOND, NULL, "play the devices: answer every command"},
        {"fail-rate", OPT_FAIL_RATE, "F", "--respond: answer this fraction (0 to 1) negatively (0)"},
        {"delay-ms", OPT_DELAY_MS, "MS", "--respond: answer after MS milliseconds (0)"},
        {"progress", OPT_PROGRESS, NULL, "--respond: report \"accepted\" before the final ack"},
        {"events", OPT_EVENTS, NULL, "add connected/disconnected event lines"},
        {NULL, 0, NULL, NULL},
};

struct cli {
	struct cmd_opts cmd;
	struct conn_opts conn;
	char *cmd_topic, *ack_topic, *id_field;
	struct json_object *params; /* --params */
	bool batch, interactive, respond, progress;
	long max_pending, max_failures, delay_ms, retries;
	double rate, fail_rate;
	char *db;
};

static bool set_template(char **slot, const char *val, struct opt_err *err)
{
	const char *why;
	struct topic_pattern *p = topic_pattern_compile(val, &why);
	if (!p)
		return opt_errf(err, "'%s': %s", val, why);
	topic_pattern_free(p);
	/* a misspelt {name} would be published as it is */
	for (const char *b = strchr(val, '{'); b; b = strchr(b + 1, '{'))
		if (strncmp(b, "{device}", 8) != 0 && strncmp(b, "{command}", 9) != 0)
			return opt_errf(err, "'%s': a template takes {device} and {command} only", val);
	struct buf probe = BUF_INIT;
	bool ok = topic_template_expand(&probe, val, "d", "c", &why) && topic_name_valid(probe.data, probe.len, &why);
	buf_free(&probe);
	if (!ok)
		return opt_errf(err, "'%s': a topic with {device} and {command} filled in %s", val, why);
	free(*slot);
	*slot = xstrdup(val);
	return true;
}

static bool cmd_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct cli *c = ctx;
	const char *why;
	double d;
	(void)w;
	switch (key) {
	case OPT_CMD_TOPIC: return set_template(&c->cmd_topic, val, err);
	case OPT_ACK_TOPIC: return set_template(&c->ack_topic, val, err);
	case OPT_ID_FIELD:
		if (!*val)
			return opt_errf(err, "the id field needs a name");
		free(c->id_field);
		c->id_field = xstrdup(val);
		return true;
	case OPT_PARAMS:
		json_object_put(c->params);
		if (!(c->params = cmdproto_params(val, &why)))
			return opt_errf(err, "%s", why);
		return true;
	case 'W':
		if (!opt_seconds(val, &c->cmd.timeout, err))
			return false;
		return c->cmd.timeout > 0 || opt_errf(err, "the timeout must be more than 0");
	case OPT_RETRIES: return opt_int(val, 0, 1000, &c->retries, err);
	case OPT_DONE_TIMEOUT:
		if (!opt_seconds(val, &c->cmd.done_timeout, err))
			return false;
		return c->cmd.done_timeout > 0 || opt_errf(err, "the timeout must be more than 0");
	case OPT_BATCH: c->batch = true; return true;
	case OPT_MAX_PENDING: return opt_int(val, 1, 65000, &c->max_pending, err);
	case OPT_RATE:
		if (!opt_number(val, &d, err) || d <= 0)
			return opt_errf(err, "'%s' is not a rate in commands per second", val);
		c->rate = d;
		return true;
	case OPT_MAX_FAILURES: return opt_int(val, 1, 2147483647L, &c->max_failures, err);
	case 'I': c->interactive = true; return true;
	case OPT_DB:
		free(c->db);
		c->db = xstrdup(val);
		return true;
	case OPT_RESPOND: c->respond = true; return true;
	case OPT_FAIL_RATE:
		if (!opt_number(val, &d, err) || d < 0 || d > 1)
			return opt_errf(err, "'%s' is not a fraction from 0 to 1", val);
		c->fail_rate = d;
		return true;
	case OPT_DELAY_MS: return opt_int(val, 0, 3600000, &c->delay_ms, err);
	case OPT_PROGRESS: c->progress = true; return true;
	case OPT_EVENTS: c->cmd.events = true; return true;
	}
	return opt_errf(err, "unhandled option");
}

/* KEY=VALUE arguments over --params: the parameters of the command. */
static struct json_object *params_from(struct cli *c, int argc, char **argv, int first)
{
	struct json_object *p = json_object_new_object();
	if (c->params) {
		json_object_object_foreach(c->params, k, v) json_object_object_add(p, k, json_object_get(v));
	}
	for (int i = first; i < argc; i++) {
		const char *why;
		if (!cmdproto_param(p, argv[i], &why))
			mqmon_usage_error("'%s': %s", argv[i], why);
	}
	return p;
}

struct single {
	struct cmd_engine *engine;
	struct out out;
	const char *device, *command;
	struct json_object *params;
	bool sent, done;
	bool closed; /* stdout went away: quietly 0 */
	int status;
};

static void single_event(void *ctx, const char *line, size_t len)
{
	struct single *s = ctx;
	buf_add(out_buf(&s->out), line, len);
	out_flush(&s->out);
	if (out_closed(&s->out))
		s->closed = true;
}

static void single_result(void *ctx, const struct cmd_result *r)
{
	struct single *s = ctx;
	s->done = true;
	s->status = r->status == CMD_ACKED    ? MQMON_EXIT_OK
	            : r->status == CMD_NACKED ? MQMON_EXIT_NACK
	                                      : MQMON_EXIT_TIMEOUT;
}

static void single_ready(void *ctx)
{
	struct single *s = ctx;
	const char *why;
	if (s->sent)
		return;
	s->sent = true;
	if (!cmd_engine_send(s->engine, s->device, s->command, s->params, 0, &why))
		mqmon_die(MQMON_EXIT_USAGE, "%s", why); /* checked before connecting */
	s->params = NULL;
}

/* One command: connect, send once subscribed, wait for its result. */
static int run_single(struct cli *c, const char *device, const char *command, struct json_object *params)
{
	struct single s = {.device = device, .command = command, .params = params};
	out_init(&s.out, STDOUT_FILENO);
	struct loop *l = loop_new();
	struct cmd_handlers h = {
	        .ctx = &s, .on_event = single_event, .on_result = single_result, .on_ready = single_ready};
	s.engine = cmd_engine_new(&c->cmd, &c->conn, l, &h);
	struct conn *conn = cmd_engine_conn(s.engine);
	conn_start(conn);
	while (!s.done && conn_state(conn) != CONN_DOWN) {
		loop_turn(l, -1);
		if (loop_signal(l)) {
			cmd_engine_give_up(s.engine, true); /* no answer came: a timeout result */
			break;
		}
	}
	int status = s.status;
	if (!s.done) {
		status = conn_state(conn) == CONN_DOWN ? MQMON_EXIT_RUNTIME : MQMON_EXIT_TIMEOUT;
		cmd_engine_give_up(s.engine, s.sent);
	}
	if (s.closed)
		status = MQMON_EXIT_OK;
	loop_disconnect_all(l);
	cmd_engine_free(s.engine);
	loop_free(l);
	json_object_put(s.params);
	out_free(&s.out);
	return status;
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	struct cli c = {.cmd = {.timeout = 5, .done_timeout = 60}, .retries = 2, .max_pending = 100};
	struct opt_program prog = {
	        .name = "mqmon-cmd",
	        .synopsis = "[options] DEVICE COMMAND [KEY=VALUE ...]\n"
	                    "       mqmon-cmd [options] --batch [COMMAND [KEY=VALUE ...]] < commands.ndjson\n"
	                    "       mqmon-cmd [options] [-I]\n"
	                    "       mqmon-cmd [options] --respond",
	        .summary = "Send a device a command and wait for its acknowledgement.",
	        .opts = cmd_opts,
	        .sets = OPT_SET_CONN,
	        .apply = cmd_apply,
	        .ctx = &c,
	        .epilog = "Examples:\n"
	                  "  mqmon-cmd ESP32_001 relay index=0 state=true\n"
	                  "  mqmon-cmd --cmd-topic 'org/acme/device/{device}/command' \\\n"
	                  "            --ack-topic 'org/acme/device/{device}/response' --id-field messageId drone-7 "
	                  "get_status\n"
	                  "  mqmon-status --db fleet.db --offline --format json | mqmon-cmd --batch restart",
	};
	int first = opt_parse(&prog, argc, argv, &c.conn);
	const char *why;
	if (!conn_opts_finish(&c.conn, &why))
		mqmon_usage_error("%s", why);
	c.cmd.cmd_topic = c.cmd_topic ? c.cmd_topic : "devices/{device}/command";
	c.cmd.ack_topic = c.ack_topic ? c.ack_topic : "devices/{device}/response";
	c.cmd.id_field = c.id_field ? c.id_field : "id";
	c.cmd.retries = (int)c.retries;
	c.cmd.qos = c.conn.qos;
	c.cmd.v5 = c.conn.protocol == 5;
	int modes = c.batch + c.respond + c.interactive;
	if (modes > 1)
		mqmon_usage_error("--batch, --respond and -I are different modes: give one");
	int status;
	if (c.respond) {
		if (first < argc)
			mqmon_usage_error("--respond takes no DEVICE or COMMAND (it answers every command)");
		struct cmdrespond_opts ro = {&c.cmd, &c.conn, c.fail_rate, c.delay_ms, c.progress};
		status = cmdrespond_run(&ro);
	} else if (c.batch) {
		struct json_object *params = params_from(&c, argc, argv, first < argc ? first + 1 : argc);
		if (first < argc && !topic_level_valid(argv[first], strlen(argv[first]), &why))
			mqmon_usage_error("the command '%s' %s", argv[first], why);
		struct cmdbatch_opts bo = {&c.cmd,         &c.conn,       first < argc ? argv[first] : NULL,
		                           params,         c.max_pending, c.rate,
		                           c.max_failures, STDIN_FILENO};
		status = cmdbatch_run(&bo);
		json_object_put(params);
	} else if (first < argc) {
		if (first + 1 >= argc)
			mqmon_usage_error("a command needs DEVICE and COMMAND (mqmon-cmd ESP32_001 restart)");
		if (!topic_level_valid(argv[first], strlen(argv[first]), &why))
			mqmon_usage_error("the device '%s' %s", argv[first], why);
		if (!topic_level_valid(argv[first + 1], strlen(argv[first + 1]), &why))
			mqmon_usage_error("the command '%s' %s", argv[first + 1], why);
		struct json_object *params = params_from(&c, argc, argv, first + 2);
		status = run_single(&c, argv[first], argv[first + 1], params);
	} else if (c.interactive || isatty(STDIN_FILENO)) {
		struct cmdrepl_opts ro = {&c.cmd, &c.conn, c.db};
		status = cmdrepl_run(&ro);
	} else {
		mqmon_usage_error("nothing to do: give DEVICE COMMAND, or --batch, -I or --respond");
	}
	json_object_put(c.params);
	free(c.cmd_topic);
	free(c.ack_topic);
	free(c.id_field);
	free(c.db);
	conn_opts_free(&c.conn);
	return status;
}
