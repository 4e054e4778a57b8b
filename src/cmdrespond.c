/*
 * cmdrespond.c — answering commands.  Every delayed answer waits the same
 * --delay-ms, so the answers due form a queue in arrival order and one
 * loop timer, set to the head's time, is enough.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdproto.h"
#include "cmdrespond.h"
#include "envelope.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "mqttprops.h"
#include "out.h"
#include "props.h"
#include "publisher.h"
#include "rng.h"
#include "timeutil.h"
#include "topic.h"

struct answer {
	struct answer *next;
	int64_t due; /* monotonic ms */
	char *topic;
	struct buf body;
	struct props props; /* correlation data, pointing into corr */
	char *corr;
};

struct respond {
	const struct cmdrespond_opts *o;
	struct conn *conn;
	struct loop *loop;
	struct publisher pub;
	struct topic_pattern *pattern; /* the cmd template: {device}, {command} */
	char *filter;
	struct out out;
	struct rng rng;
	struct loop_timer due;
	struct answer *head, *tail;
	struct mqttprops_reader props;
	unsigned long answered;
};

static void send_answer(struct respond *r, struct answer *a)
{
	mosquitto_property *list = NULL;
	const char *why;
	if (a->props.correlation && !mqttprops_build(&a->props, &list, &why))
		mqmon_warn("cannot echo the correlation data: %s", why);
	int rc = publisher_send(&r->pub, a->topic, a->body.data, a->body.len, r->o->cmd->qos, false, list);
	mosquitto_property_free_all(&list);
	if (rc != MOSQ_ERR_SUCCESS)
		mqmon_warn("cannot answer on %s: %s", a->topic, conn_strerror(rc));
	else
		r->answered++;
}

static void free_answer(struct answer *a)
{
	free(a->topic);
	free(a->corr);
	buf_free(&a->body);
	free(a);
}

static void on_due(void *ctx)
{
	struct respond *r = ctx;
	int64_t now = time_mono_ms();
	while (r->head && r->head->due <= now) {
		struct answer *a = r->head;
		r->head = a->next;
		if (!r->head)
			r->tail = NULL;
		send_answer(r, a);
		free_answer(a);
	}
	loop_timer_at(&r->due, r->head ? r->head->due : 0);
}

/* Answer now, or queue the answer for later. */
static void answer(struct respond *r, const char *topic, const struct props *in, const char *id, const char *status,
                   const char *command, struct json_object *params, long delay_ms)
{
	struct answer *a = xcalloc(1, sizeof *a);
	a->topic = xstrdup(topic);
	cmdproto_ack(&a->body, r->o->cmd->id_field, id ? id : "", status, command, params);
	if (in && in->correlation) {
		a->corr = xmalloc(in->correlation_len + 1);
		memcpy(a->corr, in->correlation, in->correlation_len);
		a->props.correlation = a->corr;
		a->props.correlation_len = in->correlation_len;
	}
	if (delay_ms <= 0) {
		send_answer(r, a);
		free_answer(a);
		return;
	}
	a->due = time_mono_ms() + delay_ms;
	if (r->tail)
		r->tail->next = a;
	else
		r->head = a;
	r->tail = a;
	if (!r->due.due)
		loop_timer_at(&r->due, r->head->due);
}

/* Print what came, as an envelope: what the device was told to do. */
static void print_command(struct respond *r, const struct mosquitto_message *m, const struct props *p)
{
	struct envelope e = {.topic = m->topic,
	                     .topic_len = strlen(m->topic),
	                     .payload = m->payload ? m->payload : "",
	                     .payload_len = (size_t)m->payloadlen,
	                     .qos = m->qos,
	                     .retain = m->retain,
	                     .ts_ms = time_now_ms(),
	                     .props = p};
	envelope_encode(out_buf(&r->out), &e);
	out_commit(&r->out);
}

static void on_message(void *ctx, const struct mosquitto_message *m, const mosquitto_property *list)
{
	struct respond *r = ctx;
	const struct props *p = list ? mqttprops_read(&r->props, list) : NULL;
	struct topic_capture caps[TOPIC_MAX_CAPTURES];
	int n = topic_pattern_match(r->pattern, m->topic, strlen(m->topic), caps);
	if (n < 0 || m->retain)
		return; /* not a command topic, or an old retained one */
	print_command(r, m, p);
	struct cmdproto_msg cmd;
	if (!cmdproto_read(&cmd, m->payload ? m->payload : "", (size_t)m->payloadlen, r->o->cmd->id_field)) {
		mqmon_warn("%s: a command that is not a JSON object: not answered", m->topic);
		return;
	}
	/* what would cut or widen the topic answered on: not answered */
	const char *why;
	if (cmd.command && cmd.command_len != strlen(cmd.command)) {
		mqmon_warn("%s: a command name with a NUL character: not answered", m->topic);
		cmdproto_msg_free(&cmd);
		return;
	}
	if (p && p->response_topic && !topic_name_valid(p->response_topic, p->response_topic_len, &why)) {
		mqmon_warn("%s: the response topic %s: not answered", m->topic, why);
		cmdproto_msg_free(&cmd);
		return;
	}
	const struct topic_capture *dev = topic_capture_find(caps, n, "device");
	const struct topic_capture *cc = topic_capture_find(caps, n, "command");
	char *device = dev ? xstrndup(dev->value, dev->len) : NULL;
	char *command = cmd.command ? xstrdup(cmd.command) : cc ? xstrndup(cc->value, cc->len) : NULL;
	/* the command's response topic, else the ack template for the device */
	struct buf topic = BUF_INIT;
	if (p && p->response_topic)
		buf_add(&topic, p->response_topic, p->response_topic_len);
	else if (!topic_template_expand(&topic, r->o->cmd->ack_topic, device, command, &why))
		mqmon_warn("%s: no topic to answer on: the ack topic %s", m->topic, why);
	if (topic.len) {
		const char *status = rng_uniform(&r->rng) < r->o->fail_rate ? "error" : "ok";
		if (r->o->progress)
			answer(r, buf_cstr(&topic), p, cmd.id, "accepted", command, NULL, 0);
		answer(r, buf_cstr(&topic), p, cmd.id, status, command, cmd.params, r->o->delay_ms);
	}
	buf_free(&topic);
	free(device);
	free(command);
	cmdproto_msg_free(&cmd);
}

static void on_connect(void *ctx, bool session_present)
{
	struct respond *r = ctx;
	(void)session_present;
	int rc = mosquitto_subscribe(conn_mosq(r->conn), NULL, r->filter, r->o->cmd->qos);
	if (rc != MOSQ_ERR_SUCCESS)
		mqmon_err("cannot subscribe to %s: %s", r->filter, conn_strerror(rc));
}

static void on_publish(void *ctx, int mid, int reason)
{
	struct respond *r = ctx;
	publisher_acked(&r->pub, mid, reason);
}

static void on_disconnect(void *ctx, bool lost, const char *reason)
{
	struct respond *r = ctx;
	publisher_on_disconnect(&r->pub, lost, reason);
}

static bool all_sent(void *ctx)
{
	struct respond *r = ctx;
	return !r->head && publisher_idle(&r->pub);
}

int cmdrespond_run(const struct cmdrespond_opts *o)
{
	struct respond r = {.o = o};
	const char *why;
	r.pattern = topic_pattern_compile(o->cmd->cmd_topic, &why);
	struct buf f = BUF_INIT;
	topic_template_filter(&f, o->cmd->cmd_topic);
	r.filter = xstrdup(buf_cstr(&f));
	buf_free(&f);
	rng_seed_unique(&r.rng);
	out_init(&r.out, STDOUT_FILENO);
	mqttprops_reader_init(&r.props);
	r.loop = loop_new();
	struct conn_handlers h = {.ctx = &r,
	                          .on_connect = on_connect,
	                          .on_message = on_message,
	                          .on_publish = on_publish,
	                          .on_disconnect = on_disconnect};
	r.conn = conn_new(o->conn, &h);
	conn_set_quickack(r.conn, true); /* its answers wait on ours */
	conn_set_stream(r.conn, true); /* and many requesters may send */
	publisher_init(&r.pub, r.conn, 65000, 0);
	r.due = (struct loop_timer){0, on_due, &r};
	loop_add_conn(r.loop, r.conn);
	loop_add_timer(r.loop, &r.due);
	conn_start(r.conn);
	while (conn_state(r.conn) != CONN_DOWN && !loop_signal(r.loop)) {
		if (!loop_turn(r.loop, out_pending(&r.out) ? 0 : -1) && out_pending(&r.out))
			out_flush(&r.out);
		if (out_closed(&r.out))
			break;
	}
	int status = conn_state(r.conn) == CONN_DOWN ? conn_exit_status(r.conn) : MQMON_EXIT_OK;
	/* the answers still queued go out when due, and the acks of what went
	 * out come back, within --connect-timeout */
	double limit = o->conn->connect_timeout > 0 ? o->conn->connect_timeout : 10;
	loop_run_until(r.loop, all_sent, &r, time_mono_ms() + (int64_t)(limit * 1000));
	out_flush(&r.out);
	loop_disconnect_all(r.loop);
	mqmon_debug("answered %lu commands", r.answered);
	while (r.head) {
		struct answer *a = r.head;
		r.head = a->next;
		free_answer(a);
	}
	conn_free(r.conn);
	loop_free(r.loop);
	topic_pattern_free(r.pattern);
	free(r.filter);
	mqttprops_reader_free(&r.props);
	out_free(&r.out);
	return status;
}
