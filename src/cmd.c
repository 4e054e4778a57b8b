/*
 * cmd.c — commands in flight.  Each has its id, its topic and bytes (so a
 * retry sends exactly the same), its deadline and its attempts; one loop
 * timer is set to the nearest deadline.  The table holds at most what the
 * caller lets pend (--max-pending), so finding the nearest deadline by a
 * scan is cheaper than keeping a heap.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "cmd.h"
#include "cmdproto.h"
#include "event.h"
#include "log.h"
#include "mqmon.h"
#include "mqttprops.h"
#include "props.h"
#include "publisher.h"
#include "strmap.h"
#include "timeutil.h"
#include "topic.h"

struct pending {
	char id[37];
	char *device, *command;
	char *topic, *response_topic;
	struct buf body;
	unsigned long tag;
	int attempts;
	int64_t first_us; /* monotonic µs of the first publish; 0 = not yet out */
	int64_t deadline; /* monotonic ms */
	bool progress; /* a progress report came: no more resending */
};

struct cmd_engine {
	const struct cmd_opts *o;
	struct cmd_handlers h;
	struct conn *conn;
	struct loop *loop;
	struct publisher pub;
	struct strmap pending; /* id -> struct pending */
	size_t npending;
	struct loop_timer due;
	char *ack_filter;
	struct topic_pattern *ack_pattern; /* {device} of an answer's topic */
	char **watches;
	size_t nwatches;
	int ack_mid;
	bool ready;
	struct buf line, topic;
	struct mqttprops_reader props;
};

const char *cmd_status_name(enum cmd_status s)
{
	static const char *const names[] = {"acked", "nacked", "timeout", "skipped"};
	return names[s];
}

/* ---- events ---- */

static void emit(struct cmd_engine *e)
{
	event_end(&e->line);
	if (e->h.on_event)
		e->h.on_event(e->h.ctx, e->line.data, e->line.len);
	buf_reset(&e->line);
}

static void event_head(struct cmd_engine *e, const char *name, const char *id, const char *device, const char *command)
{
	buf_reset(&e->line);
	event_begin(&e->line, name, time_now_ms());
	if (id)
		event_str(&e->line, "id", id);
	else
		event_null(&e->line, "id");
	event_str(&e->line, "device", device);
	event_str(&e->line, "command", command);
}

static void result_event(struct cmd_engine *e, const struct cmd_result *r)
{
	event_head(e, "result", r->id, r->device, r->command);
	event_str(&e->line, "status", cmd_status_name(r->status));
	event_int(&e->line, "attempts", r->attempts);
	if (r->latency_ms >= 0)
		event_double(&e->line, "latency_ms", r->latency_ms);
	else
		event_null(&e->line, "latency_ms");
	if (r->response) {
		const char *text = cmdproto_text(r->response);
		event_raw(&e->line, "response", text, strlen(text));
	}
	emit(e);
	if (e->h.on_result)
		e->h.on_result(e->h.ctx, r);
}

void cmd_engine_skipped(struct cmd_engine *e, const char *device, const char *command, unsigned long tag)
{
	struct cmd_result r = {NULL, device, command, CMD_SKIPPED, 0, -1, NULL, tag};
	result_event(e, &r);
}

/* ---- the table ---- */

static void free_pending(struct pending *p)
{
	free(p->device);
	free(p->command);
	free(p->topic);
	free(p->response_topic);
	buf_free(&p->body);
	free(p);
}

static struct pending *find(struct cmd_engine *e, const char *id, size_t len)
{
	void **slot = strmap_get(&e->pending, id, len);
	return slot ? *slot : NULL;
}

struct nearest {
	int64_t due;
};

static void nearest_one(void *ctx, const char *key, size_t len, void *value)
{
	struct nearest *n = ctx;
	struct pending *p = value;
	(void)key;
	(void)len;
	if (!n->due || p->deadline < n->due)
		n->due = p->deadline;
}

static void arm_timer(struct cmd_engine *e)
{
	struct nearest n = {0};
	strmap_each(&e->pending, nearest_one, &n);
	loop_timer_at(&e->due, n.due);
}

/* The command has ended: its result, then it is gone. */
static void finish(struct cmd_engine *e, struct pending *p, enum cmd_status status, struct json_object *response)
{
	double latency = status == CMD_TIMEOUT || !p->first_us ? -1 : (double)(time_mono_us() - p->first_us) / 1000.0;
	struct cmd_result r = {p->id, p->device, p->command, status, p->attempts, latency, response, p->tag};
	/* out of the table first: a result handler may send the next one */
	strmap_del(&e->pending, p->id, strlen(p->id));
	e->npending--;
	result_event(e, &r);
	free_pending(p);
	arm_timer(e);
}

/* ---- sending ---- */

static void publish(struct cmd_engine *e, struct pending *p)
{
	mosquitto_property *props = NULL;
	if (e->o->v5) {
		struct props want = {.response_topic = p->response_topic,
		                     .response_topic_len = strlen(p->response_topic),
		                     .correlation = p->id,
		                     .correlation_len = strlen(p->id)};
		const char *why;
		mqttprops_build(&want, &props, &why);
	}
	p->attempts++;
	p->deadline = time_mono_ms() + (int64_t)(e->o->timeout * 1000);
	int rc = publisher_send(&e->pub, p->topic, p->body.data, p->body.len, e->o->qos, false, props);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_SUCCESS && !p->first_us)
		p->first_us = time_mono_us();
	else if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		mqmon_warn("cannot send %s to %s: %s", p->command, p->device, conn_strerror(rc));
	/* not connected at QoS 0: this attempt is lost, the next one retries */
}

const char *cmd_engine_send(struct cmd_engine *e, const char *device, const char *command, struct json_object *params,
                            unsigned long tag, const char **why)
{
	static char msg[256];
	const char *w;
	buf_reset(&e->topic);
	if (!topic_level_valid(device, strlen(device), &w)) {
		snprintf(msg, sizeof msg, "the device '%s' %s", device, w);
		json_object_put(params);
		*why = msg;
		return NULL;
	}
	if (!topic_level_valid(command, strlen(command), &w)) {
		snprintf(msg, sizeof msg, "the command '%s' %s", command, w);
		json_object_put(params);
		*why = msg;
		return NULL;
	}
	struct pending *p = xcalloc(1, sizeof *p);
	cmdproto_new_id(p->id);
	p->device = xstrdup(device);
	p->command = xstrdup(command);
	p->tag = tag;
	topic_template_expand(&e->topic, e->o->cmd_topic, device, command, &w);
	p->topic = xstrndup(e->topic.data, e->topic.len);
	buf_reset(&e->topic);
	topic_template_expand(&e->topic, e->o->ack_topic, device, command, &w);
	p->response_topic = xstrndup(e->topic.data, e->topic.len);
	cmdproto_command(&p->body, e->o->id_field, p->id, command, params, time_now_ms());
	json_object_put(params);
	*strmap_put(&e->pending, p->id, strlen(p->id)) = p;
	e->npending++;
	publish(e, p);
	arm_timer(e);
	return p->id;
}

size_t cmd_engine_pending(const struct cmd_engine *e)
{
	return e->npending;
}

struct every {
	struct pending **v;
	size_t n, cap;
	int64_t before; /* only deadlines up to this; 0 = all */
};

static void collect(void *ctx, const char *key, size_t len, void *value)
{
	struct every *x = ctx;
	struct pending *p = value;
	(void)key;
	(void)len;
	if (x->before && p->deadline > x->before)
		return;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		x->v = xrealloc(x->v, x->cap * sizeof *x->v);
	}
	x->v[x->n++] = p;
}

size_t cmd_engine_give_up(struct cmd_engine *e, bool report)
{
	struct every x = {0};
	strmap_each(&e->pending, collect, &x);
	for (size_t i = 0; i < x.n; i++) {
		if (report) {
			finish(e, x.v[i], CMD_TIMEOUT, NULL);
		} else {
			strmap_del(&e->pending, x.v[i]->id, strlen(x.v[i]->id));
			e->npending--;
			free_pending(x.v[i]);
		}
	}
	free(x.v);
	arm_timer(e);
	return x.n;
}

/* ---- deadlines ---- */

/* Each attempt that got no answer in time: send again, or give up. */
static void on_due(void *ctx)
{
	struct cmd_engine *e = ctx;
	struct every x = {.before = time_mono_ms()};
	strmap_each(&e->pending, collect, &x);
	for (size_t i = 0; i < x.n; i++) {
		struct pending *p = x.v[i];
		if (!p->progress && p->attempts <= e->o->retries) {
			mqmon_debug("no answer from %s to %s (%s): sending again", p->device, p->command, p->id);
			publish(e, p);
		} else {
			finish(e, p, CMD_TIMEOUT, NULL);
		}
	}
	free(x.v);
	arm_timer(e);
}

/* ---- answers ---- */

static void progress_event(struct cmd_engine *e, struct pending *p, struct cmdproto_msg *m)
{
	event_head(e, "progress", p->id, p->device, p->command);
	event_raw(&e->line, "status", cmdproto_text(m->status), strlen(cmdproto_text(m->status)));
	const char *text = cmdproto_text(m->root);
	event_raw(&e->line, "response", text, strlen(text));
	emit(e);
}

/* An answer to p (m->root NULL: not JSON). */
static void answer(struct cmd_engine *e, struct pending *p, struct cmdproto_msg *m, const char *topic)
{
	enum cmdproto_class c = m->status ? cmdproto_classify(m->status) : CMDPROTO_UNKNOWN;
	if (c == CMDPROTO_PROGRESS) {
		p->progress = true;
		p->deadline = time_mono_ms() + (int64_t)(e->o->done_timeout * 1000);
		progress_event(e, p, m);
		arm_timer(e);
		return;
	}
	if (c == CMDPROTO_UNKNOWN)
		mqmon_warn("%s: the answer from %s to %s %s: counted as negative", topic, p->device, p->command,
		           !m->root     ? "is not a JSON object"
		           : !m->status ? "has no \"status\""
		                        : "has a status of no known meaning");
	finish(e, p, c == CMDPROTO_POSITIVE ? CMD_ACKED : CMD_NACKED, m->root);
}

static bool is_ack_topic(struct cmd_engine *e, const char *topic)
{
	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	return topic_pattern_match(e->ack_pattern, topic, strlen(topic), caps) >= 0;
}

static void on_message(void *ctx, const struct mosquitto_message *msg, const mosquitto_property *list)
{
	struct cmd_engine *e = ctx;
	const struct props *pr = list ? mqttprops_read(&e->props, list) : NULL;
	struct pending *p = NULL;
	if (pr && pr->correlation)
		p = find(e, pr->correlation, pr->correlation_len);
	bool ack_topic = is_ack_topic(e, msg->topic);
	if (!p && !ack_topic) {
		if (e->h.on_message)
			e->h.on_message(e->h.ctx, msg);
		return;
	}
	struct cmdproto_msg m;
	bool json = cmdproto_read(&m, msg->payload ? msg->payload : "", (size_t)msg->payloadlen, e->o->id_field);
	if (!p && json && m.id)
		p = find(e, m.id, strlen(m.id));
	if (p)
		answer(e, p, &m, msg->topic);
	else if (!json)
		mqmon_warn("%s: an answer that is not a JSON object: ignored", msg->topic);
	else
		mqmon_debug("%s: an answer for no command of ours (%s): ignored", msg->topic, m.id ? m.id : "no id");
	cmdproto_msg_free(&m);
	if (ack_topic && e->h.on_message)
		e->h.on_message(e->h.ctx, msg); /* the REPL learns devices from answers */
}

/* ---- the connection ---- */

static void connection_event(struct cmd_engine *e, const char *name, const char *reason, int session_present)
{
	if (!e->o->events)
		return;
	buf_reset(&e->line);
	event_begin(&e->line, name, time_now_ms());
	event_str(&e->line, "broker", conn_address(e->conn));
	if (session_present >= 0)
		event_bool(&e->line, "session_present", session_present);
	if (reason)
		event_str(&e->line, "reason", reason);
	emit(e);
}

static void on_connect(void *ctx, bool session_present)
{
	struct cmd_engine *e = ctx;
	connection_event(e, "connected", NULL, session_present);
	struct mosquitto *mosq = conn_mosq(e->conn);
	int rc = mosquitto_subscribe(mosq, &e->ack_mid, e->ack_filter, e->o->qos);
	if (rc != MOSQ_ERR_SUCCESS)
		mqmon_err("cannot subscribe to %s: %s", e->ack_filter, conn_strerror(rc));
	for (size_t i = 0; i < e->nwatches; i++)
		mosquitto_subscribe(mosq, NULL, e->watches[i], e->o->qos);
}

static void on_subscribe(void *ctx, int mid, int count, const int *granted)
{
	struct cmd_engine *e = ctx;
	if (mid != e->ack_mid)
		return;
	if (count < 1 || granted[0] >= 0x80) {
		mqmon_err("subscription to '%s' refused by the broker: %s", e->ack_filter,
		          count < 1 ? "no answer" : mosquitto_reason_string(granted[0]));
		conn_disconnect(e->conn);
		return;
	}
	e->ready = true;
	if (e->h.on_ready)
		e->h.on_ready(e->h.ctx);
}

static void on_disconnect(void *ctx, bool lost, const char *reason)
{
	struct cmd_engine *e = ctx;
	e->ready = false;
	publisher_on_disconnect(&e->pub, lost, reason);
	if (lost)
		connection_event(e, "disconnected", reason, -1);
}

static void on_publish(void *ctx, int mid, int reason)
{
	struct cmd_engine *e = ctx;
	publisher_acked(&e->pub, mid, reason);
}

struct cmd_engine *cmd_engine_new(const struct cmd_opts *o, const struct conn_opts *co, struct loop *l,
                                  const struct cmd_handlers *h)
{
	struct cmd_engine *e = xcalloc(1, sizeof *e);
	e->o = o;
	e->h = *h;
	e->loop = l;
	struct buf f = BUF_INIT;
	topic_template_filter(&f, o->ack_topic);
	e->ack_filter = xstrdup(buf_cstr(&f));
	buf_free(&f);
	const char *why;
	e->ack_pattern = topic_pattern_compile(o->ack_topic, &why);
	if (!e->ack_pattern) /* checked by the caller; a plain filter then */
		e->ack_pattern = topic_pattern_compile(e->ack_filter, &why);
	mqttprops_reader_init(&e->props);
	struct conn_handlers ch = {.ctx = e,
	                           .on_connect = on_connect,
	                           .on_disconnect = on_disconnect,
	                           .on_message = on_message,
	                           .on_publish = on_publish,
	                           .on_subscribe = on_subscribe};
	e->conn = conn_new(co, &ch);
	conn_set_quickack(e->conn, true);
	publisher_init(&e->pub, e->conn, 65000, 0);
	e->due = (struct loop_timer){0, on_due, e};
	loop_add_conn(l, e->conn);
	loop_add_timer(l, &e->due);
	return e;
}

void cmd_engine_free(struct cmd_engine *e)
{
	if (!e)
		return;
	cmd_engine_give_up(e, false);
	strmap_free(&e->pending);
	conn_free(e->conn);
	topic_pattern_free(e->ack_pattern);
	free(e->ack_filter);
	for (size_t i = 0; i < e->nwatches; i++)
		free(e->watches[i]);
	free(e->watches);
	mqttprops_reader_free(&e->props);
	buf_free(&e->line);
	buf_free(&e->topic);
	free(e);
}

struct conn *cmd_engine_conn(struct cmd_engine *e)
{
	return e->conn;
}

bool cmd_engine_ready(const struct cmd_engine *e)
{
	return e->ready && conn_is_up(e->conn);
}

void cmd_engine_watch(struct cmd_engine *e, const char *filter, bool on)
{
	struct mosquitto *mosq = conn_mosq(e->conn);
	for (size_t i = 0; i < e->nwatches; i++) {
		if (strcmp(e->watches[i], filter) != 0)
			continue;
		if (on)
			return;
		free(e->watches[i]);
		e->watches[i] = e->watches[--e->nwatches];
		if (conn_is_up(e->conn))
			mosquitto_unsubscribe(mosq, NULL, filter);
		return;
	}
	if (!on)
		return;
	e->watches = xrealloc(e->watches, (e->nwatches + 1) * sizeof *e->watches);
	e->watches[e->nwatches++] = xstrdup(filter);
	if (conn_is_up(e->conn))
		mosquitto_subscribe(mosq, NULL, filter, e->o->qos);
}
