/*
 * cmdbatch.c — the batch loop.  stdin is read only while another command
 * may start (the backpressure that keeps memory flat), except after a bad
 * rollout has stopped itself, when the rest is read to report it skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmdbatch.h"
#include "cmdproto.h"
#include "linereader.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "out.h"
#include "publisher.h"
#include "timeutil.h"
#include "topic.h"

struct batch {
	const struct cmdbatch_opts *o;
	struct cmd_engine *engine;
	struct loop *loop;
	struct linereader lr;
	struct out out;
	struct ratelimit rate;
	unsigned long bad, acked, nacked, timeouts, skipped;
	bool stopped; /* --max-failures reached */
	bool input_done; /* every line read */
};

static void on_event(void *ctx, const char *line, size_t len)
{
	struct batch *b = ctx;
	buf_add(out_buf(&b->out), line, len);
	out_commit(&b->out);
}

static void on_result(void *ctx, const struct cmd_result *r)
{
	struct batch *b = ctx;
	switch (r->status) {
	case CMD_ACKED: b->acked++; break;
	case CMD_NACKED: b->nacked++; break;
	case CMD_TIMEOUT: b->timeouts++; break;
	case CMD_SKIPPED: b->skipped++; break;
	}
	long failures = (long)(b->nacked + b->timeouts);
	if (b->o->max_failures && failures >= b->o->max_failures && !b->stopped) {
		b->stopped = true;
		mqmon_err("%ld failure%s (--max-failures %ld): no new command starts", failures,
		          failures == 1 ? "" : "s", b->o->max_failures);
	}
}

static void bad_line(struct batch *b, const struct line *ln, const char *why)
{
	mqmon_err("line %lu: %s", ln->lineno, why);
	b->bad++;
}

/* A string member and its length ("a\u0000b" is 3 bytes), or NULL. */
static const char *string_member(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* The command-line parameters, then the line's over them. */
static struct json_object *merged_params(struct batch *b, struct json_object *line_params)
{
	struct json_object *p = json_object_new_object();
	struct json_object *layers[] = {b->o->params, line_params};
	for (size_t i = 0; i < 2; i++) {
		if (!layers[i])
			continue;
		json_object_object_foreach(layers[i], k, v)
		{
			json_object_object_add(p, k, json_object_get(v));
		}
	}
	return p;
}

/* One input line: a command started (or skipped), or a bad line. */
static void handle_line(struct batch *b, const struct line *ln)
{
	if (line_is_blank(ln))
		return;
	struct json_object *root = cmdproto_parse(ln->data, ln->len);
	if (!root || !json_object_is_type(root, json_type_object)) {
		bad_line(b, ln,
		         "not a command: a JSON object such as {\"device\":\"ESP32_001\",\"command\":\"restart\"} is "
		         "expected");
		json_object_put(root);
		return;
	}
	struct json_object *v;
	bool is_event = json_object_object_get_ex(root, "event", NULL);
	size_t device_len = 0, command_len = 0;
	const char *device = string_member(root, "device", &device_len);
	const char *command = is_event ? NULL : string_member(root, "command", &command_len);
	struct json_object *params = NULL;
	if (!command && b->o->command) {
		command = b->o->command;
		command_len = strlen(command);
	}
	if (json_object_object_get_ex(root, "params", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			bad_line(b, ln, "\"params\" must be an object");
			goto done;
		}
		params = v;
	}
	if (!device) {
		bad_line(b, ln,
		         json_object_object_get_ex(root, "device", NULL) ? "\"device\" must be a string"
		                                                         : "no \"device\"");
		goto done;
	}
	if (!command) {
		bad_line(b, ln,
		         is_event ? "an event line needs the command on the command line (mqmon-cmd --batch COMMAND)"
		                  : "no \"command\" (and none on the command line)");
		goto done;
	}
	const char *why;
	const char *what = NULL, *value = NULL;
	if (!topic_level_valid(device, device_len, &why))
		what = "device", value = device;
	else if (!topic_level_valid(command, command_len, &why))
		what = "command", value = command;
	if (what) {
		char msg[300];
		snprintf(msg, sizeof msg, "the %s '%s' %s", what, value, why);
		bad_line(b, ln, msg);
		goto done;
	}
	if (b->stopped) {
		cmd_engine_skipped(b->engine, device, command, ln->lineno);
		goto done;
	}
	if (!cmd_engine_send(b->engine, device, command, merged_params(b, params), ln->lineno, &why))
		bad_line(b, ln, why);
	else
		ratelimit_take(&b->rate);
done:
	json_object_put(root);
}

/* May a command start now? */
static bool can_start(struct batch *b)
{
	return cmd_engine_ready(b->engine) && (long)cmd_engine_pending(b->engine) < b->o->max_pending &&
	       ratelimit_ready(&b->rate);
}

static void on_stdin(void *ctx, short revents)
{
	struct batch *b = ctx;
	(void)revents;
	if (linereader_fill(&b->lr) < 0 && b->lr.error)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot read stdin: %s", strerror(b->lr.error));
}

/* Start what may start, reading lines as long as they may.  Returns true
 * when it stopped for the socket's sake with lines perhaps still buffered:
 * the loop must then not wait for stdin, which may have nothing more. */
static bool pump(struct batch *b)
{
	struct line ln;
	int budget = 1000; /* then look at the socket again */
	while (b->stopped || can_start(b)) {
		if (budget-- == 0)
			return true;
		if (!linereader_next(&b->lr, &ln)) {
			b->input_done = b->lr.eof || b->lr.error;
			return false;
		}
		handle_line(b, &ln);
	}
	return false;
}

static bool finished(void *ctx)
{
	return cmd_engine_pending(((struct batch *)ctx)->engine) == 0;
}

static int exit_status(struct batch *b)
{
	if (b->bad)
		return MQMON_EXIT_REJECTS;
	if (b->nacked)
		return MQMON_EXIT_NACK;
	if (b->timeouts || b->skipped)
		return MQMON_EXIT_TIMEOUT;
	return MQMON_EXIT_OK;
}

static void run(struct batch *b, int in)
{
	struct conn *c = cmd_engine_conn(b->engine);
	conn_start(c);
	while (conn_state(c) != CONN_DOWN) {
		bool more = pump(b);
		if (b->input_done && cmd_engine_pending(b->engine) == 0)
			break;
		bool want_input = !b->lr.eof && (b->stopped || can_start(b));
		loop_watch(b->loop, in, want_input);
		int wait = more ? 0 : -1;
		if (!more && !b->stopped && cmd_engine_ready(b->engine) && !ratelimit_ready(&b->rate))
			wait = ratelimit_wait_ms(&b->rate);
		if (!loop_turn(b->loop, out_pending(&b->out) ? 0 : wait) && out_pending(&b->out))
			out_flush(&b->out);
		if (out_closed(&b->out))
			return;
		if (loop_signal(b->loop)) {
			/* start nothing more; what is out gets its answer within
			 * --connect-timeout, the rest ends as timed out */
			double limit = b->o->conn->connect_timeout > 0 ? b->o->conn->connect_timeout : 10;
			loop_run_until(b->loop, finished, b, time_mono_ms() + (int64_t)(limit * 1000));
			cmd_engine_give_up(b->engine, true);
			return;
		}
	}
}

int cmdbatch_run(const struct cmdbatch_opts *o)
{
	struct batch b = {.o = o};
	b.loop = loop_new();
	struct cmd_handlers h = {.ctx = &b, .on_event = on_event, .on_result = on_result};
	b.engine = cmd_engine_new(o->cmd, o->conn, b.loop, &h);
	out_init(&b.out, STDOUT_FILENO);
	linereader_init(&b.lr, o->in_fd);
	ratelimit_init(&b.rate, o->rate);
	fcntl(o->in_fd, F_SETFL, fcntl(o->in_fd, F_GETFL) | O_NONBLOCK);
	int in = loop_add_fd(b.loop, o->in_fd, on_stdin, &b);
	run(&b, in);
	struct conn *c = cmd_engine_conn(b.engine);
	int status = out_closed(&b.out) ? MQMON_EXIT_OK : exit_status(&b);
	if (conn_state(c) == CONN_DOWN) {
		if (b.lr.lineno && (cmd_engine_pending(b.engine) || !b.input_done))
			mqmon_err("stopped before the end of the input, at line %lu", b.lr.lineno);
		cmd_engine_give_up(b.engine, true);
		status = MQMON_EXIT_RUNTIME;
	}
	out_flush(&b.out);
	loop_disconnect_all(b.loop);
	if (b.lr.error)
		status = MQMON_EXIT_RUNTIME;
	cmd_engine_free(b.engine);
	loop_free(b.loop);
	linereader_free(&b.lr);
	out_free(&b.out);
	return status;
}
