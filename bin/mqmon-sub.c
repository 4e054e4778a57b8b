/*
 * mqmon-sub — subscribe and print one JSON envelope per message (SPEC §3).
 *
 * The hot path is on_message(): filter, encode straight into the output
 * block, count.  The output block is written when full or when the socket
 * has nothing more to read, so bursts cost few writes and a lone message
 * reaches the reader at once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "conn.h"
#include "envelope.h"
#include "event.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "opt.h"
#include "out.h"
#include "mqttprops.h"
#include "timeutil.h"
#include "topic.h"

enum sub_format { FORMAT_JSON, FORMAT_TEXT, FORMAT_RAW };

enum {
	OPT_RETAINED_ONLY = OPT_KEY_PROGRAM,
	OPT_SHARED,
	OPT_EVENTS,
};

static const struct opt_def sub_opts[] = {
        {"topic", 't', "FILTER", "subscribe to FILTER (repeatable)"},
        {"filter-out", 'T', "FILTER", "drop messages whose topic matches FILTER (repeatable)"},
        {"count", 'C', "N", "exit after N messages"},
        {"timeout", 'W', "SECS", "exit with status 3 after SECS seconds"},
        {"no-retained", 'R', NULL, "skip retained messages sent at subscribe time"},
        {"retained-only", OPT_RETAINED_ONLY, NULL, "print the retained messages, then exit"},
        {"shared", OPT_SHARED, "GROUP", "subscribe as $share/GROUP/FILTER"},
        {"format", 'F', "FMT", "json (envelopes), text (topic payload) or raw (payload)"},
        {"verbose", 'v', NULL, "the same as -F text (mosquitto_sub -v)"},
        {"events", OPT_EVENTS, NULL, "add connected/disconnected event lines"},
        {NULL, 0, NULL, NULL},
};

/* --retained-only ends when a live message arrives or, on a quiet broker,
 * when nothing has come for this long after the subscription. */
#define RETAINED_QUIET_MS 500

struct sub {
	struct opt_list topics;
	struct opt_list excludes;
	long count; /* -C, 0 = unlimited */
	double timeout; /* -W, 0 = none */
	bool no_retained;
	bool retained_only;
	char *shared;
	enum sub_format format;
	bool events;

	struct conn_opts conn_opts;
	struct conn *conn;
	struct out out;
	struct mqttprops_reader props;
	char **filters; /* as subscribed ($share prefix applied) */
	size_t nfilters;
	long received;
	bool subscribed_once;
	bool done; /* -C reached or --retained-only finished */
	int64_t last_retained_ms; /* --retained-only: when the snapshot last moved */
	struct loop_timer retained_quiet; /* … and when to look whether it still does */
	int suback_pending;
	int subscribe_mid;
	int status;
};

static bool sub_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct sub *s = ctx;
	switch (key) {
	case 't': return opt_filter_add(&s->topics, val, w, err);
	case 'T': return opt_filter_add(&s->excludes, val, w, err);
	case 'C': return opt_int(val, 1, 2147483647L, &s->count, err);
	case 'W':
		if (!opt_seconds(val, &s->timeout, err))
			return false;
		if (s->timeout <= 0)
			return opt_errf(err, "the timeout must be more than 0");
		return true;
	case 'R': s->no_retained = true; return true;
	case OPT_RETAINED_ONLY: s->retained_only = true; return true;
	case OPT_SHARED:
		if (!*val || strpbrk(val, "/+#"))
			return opt_errf(err, "'%s': a group name is not empty and has no '/', '+' or '#'", val);
		free(s->shared);
		s->shared = xstrdup(val);
		return true;
	case 'F':
		if (strcmp(val, "json") == 0)
			s->format = FORMAT_JSON;
		else if (strcmp(val, "text") == 0)
			s->format = FORMAT_TEXT;
		else if (strcmp(val, "raw") == 0)
			s->format = FORMAT_RAW;
		else
			return opt_errf(err, "'%s' is not json, text or raw", val);
		return true;
	case 'v': s->format = FORMAT_TEXT; return true;
	case OPT_EVENTS: s->events = true; return true;
	}
	return opt_errf(err, "unhandled option");
}

static void emit_connection_event(struct sub *s, const char *name, const char *reason, int session_present)
{
	if (!s->events)
		return;
	struct buf *b = out_buf(&s->out);
	event_begin(b, name, time_now_ms());
	event_str(b, "broker", conn_address(s->conn));
	if (session_present >= 0)
		event_bool(b, "session_present", session_present);
	if (reason)
		event_str(b, "reason", reason);
	event_end(b);
	out_commit(&s->out);
}

static bool excluded(const struct sub *s, const char *topic, size_t len)
{
	for (size_t i = 0; i < s->excludes.n; i++)
		if (topic_matches(s->excludes.items[i], topic, len))
			return true;
	return false;
}

static void write_message(struct sub *s, const struct mosquitto_message *m, const mosquitto_property *props)
{
	struct buf *b = out_buf(&s->out);
	size_t tlen = strlen(m->topic);
	switch (s->format) {
	case FORMAT_JSON: {
		struct envelope e = {
		        .topic = m->topic,
		        .topic_len = tlen,
		        .payload = m->payload ? m->payload : "",
		        .payload_len = (size_t)m->payloadlen,
		        .qos = m->qos,
		        .retain = m->retain,
		        .ts_ms = time_now_ms(),
		        .mid = m->qos > 0 ? m->mid : 0,
		        .props = props ? mqttprops_read(&s->props, props) : NULL,
		};
		envelope_encode(b, &e);
		break;
	}
	case FORMAT_TEXT:
		buf_add(b, m->topic, tlen);
		buf_addc(b, ' ');
		/* fall through */
	case FORMAT_RAW:
		buf_add(b, m->payload, (size_t)m->payloadlen);
		buf_addc(b, '\n');
		break;
	}
}

/* --retained-only: the snapshot moved; it ends once quiet for a while */
static void note_retained(struct sub *s)
{
	s->last_retained_ms = time_mono_ms();
	if (!s->retained_quiet.due)
		loop_timer_at(&s->retained_quiet, s->last_retained_ms + RETAINED_QUIET_MS);
}

static void on_message(void *ctx, const struct mosquitto_message *m, const mosquitto_property *props)
{
	struct sub *s = ctx;
	if (s->done)
		return;
	if (s->retained_only && !m->retain) {
		/* the broker sends retained messages first: the snapshot is over
		 * (this live message is acknowledged but not shown) */
		s->done = true;
		conn_stop_reading(s->conn);
		return;
	}
	if (s->no_retained && m->retain)
		return;
	if (s->excludes.n && excluded(s, m->topic, strlen(m->topic)))
		return;
	write_message(s, m, props);
	out_commit(&s->out);
	if (s->retained_only)
		note_retained(s);
	if (s->count && ++s->received >= s->count) {
		s->done = true;
		/* leave the rest unread and unacknowledged: with -c the broker
		 * keeps it for the next run */
		conn_stop_reading(s->conn);
	}
}

static void subscribe_all(struct sub *s)
{
	struct mosquitto *mosq = conn_mosq(s->conn);
	int options = 0;
	if (s->conn_opts.protocol == 5) {
		if (s->no_retained)
			options |= MQTT_SUB_OPT_SEND_RETAIN_NEVER;
		else if (s->subscribed_once)
			/* a reconnect that resumes the session (-c) should not
			 * replay the retained messages; a new session gets them */
			options |= MQTT_SUB_OPT_SEND_RETAIN_NEW;
	}
	int rc = mosquitto_subscribe_multiple(mosq, &s->subscribe_mid, (int)s->nfilters, s->filters, s->conn_opts.qos,
	                                      options, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		mqmon_err("cannot subscribe: %s", conn_strerror(rc));
		return;
	}
	s->suback_pending = 1;
}

static void on_connect(void *ctx, bool session_present)
{
	struct sub *s = ctx;
	emit_connection_event(s, "connected", NULL, session_present);
	subscribe_all(s);
}

static void on_disconnect(void *ctx, bool lost, const char *reason)
{
	struct sub *s = ctx;
	if (lost)
		emit_connection_event(s, "disconnected", reason, -1);
}

static void on_subscribe(void *ctx, int mid, int count, const int *granted)
{
	struct sub *s = ctx;
	if (mid != s->subscribe_mid)
		return;
	s->suback_pending = 0;
	int refused = 0;
	for (int i = 0; i < count && (size_t)i < s->nfilters; i++) {
		if (granted[i] >= 0x80) {
			mqmon_err("subscription to '%s' refused by the broker: %s", s->filters[i],
			          mosquitto_reason_string(granted[i]));
			refused++;
		}
	}
	if (refused == count) {
		s->status = MQMON_EXIT_RUNTIME;
		s->done = true;
		return;
	}
	if (!s->subscribed_once && s->retained_only)
		note_retained(s);
	s->subscribed_once = true;
}

static void build_filters(struct sub *s)
{
	s->nfilters = s->topics.n;
	s->filters = xcalloc(s->nfilters, sizeof *s->filters);
	for (size_t i = 0; i < s->topics.n; i++) {
		if (s->shared) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "$share/%s/%s", s->shared, s->topics.items[i]);
			s->filters[i] = (char *)buf_cstr(&b);
		} else {
			s->filters[i] = xstrdup(s->topics.items[i]);
		}
	}
}

static void on_deadline(void *ctx)
{
	struct sub *s = ctx;
	s->status = MQMON_EXIT_TIMEOUT;
	s->done = true;
}

static void on_retained_quiet(void *ctx)
{
	struct sub *s = ctx;
	int64_t now = time_mono_ms();
	if (s->suback_pending) /* resubscribing after a reconnect */
		loop_timer_at(&s->retained_quiet, now + RETAINED_QUIET_MS);
	else if (now - s->last_retained_ms < RETAINED_QUIET_MS)
		loop_timer_at(&s->retained_quiet, s->last_retained_ms + RETAINED_QUIET_MS);
	else
		s->done = true;
}

static int run(struct sub *s)
{
	struct loop *l = loop_new();
	loop_add_conn(l, s->conn);
	struct loop_timer deadline = {0, on_deadline, s};
	s->retained_quiet = (struct loop_timer){0, on_retained_quiet, s};
	loop_add_timer(l, &deadline);
	loop_add_timer(l, &s->retained_quiet);
	if (s->timeout > 0)
		loop_timer_at(&deadline, time_mono_ms() + (int64_t)(s->timeout * 1000));
	conn_start(s->conn);
	while (conn_state(s->conn) != CONN_DOWN && !s->done) {
		/* a wait that runs out means nothing more to read right now:
		 * hand over what we have */
		if (!loop_turn(l, out_pending(&s->out) ? 0 : -1) && out_pending(&s->out))
			out_flush(&s->out);
		if (out_closed(&s->out) || s->out.error) {
			if (s->out.error)
				s->status = MQMON_EXIT_RUNTIME;
			break;
		}
		if (loop_signal(l))
			break;
	}
	out_flush(&s->out);
	if (conn_state(s->conn) == CONN_DOWN) {
		if (!s->status)
			s->status = conn_exit_status(s->conn);
	} else {
		/* a normal DISCONNECT: the broker must not publish our will.
		 * Nothing more is read meanwhile: what we do not take, a
		 * persistent session's broker keeps for the next run, and a
		 * flood does not hold up the exit */
		conn_stop_reading(s->conn);
		loop_disconnect_all(l);
	}
	loop_free(l);
	return s->status;
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	struct sub s = {0};
	struct opt_program prog = {
	        .name = "mqmon-sub",
	        .synopsis = "[options] -t FILTER [-t FILTER ...]",
	        .summary = "Subscribe to MQTT topics and print one JSON envelope per message.",
	        .opts = sub_opts,
	        .sets = OPT_SET_CONN,
	        .apply = sub_apply,
	        .ctx = &s,
	        .epilog = "Examples:\n"
	                  "  mqmon-sub -t 'autocore/#'\n"
	                  "  mqmon-sub -c -i archiver -q 1 -t 'autocore/+/telemetry' | mqmon-store --db fleet.db",
	};
	int first = opt_parse(&prog, argc, argv, &s.conn_opts);
	if (first < argc)
		mqmon_usage_error("unexpected argument '%s' (topics are given with -t)", argv[first]);
	if (s.topics.n == 0)
		mqmon_usage_error("no topic: give at least one -t FILTER");
	if (s.no_retained && s.retained_only)
		mqmon_usage_error("--no-retained and --retained-only contradict each other");
	if (s.events && s.format != FORMAT_JSON)
		mqmon_usage_error("--events needs -F json");
	const char *why;
	if (!conn_opts_finish(&s.conn_opts, &why))
		mqmon_usage_error("%s", why);

	out_init(&s.out, STDOUT_FILENO);
	mqttprops_reader_init(&s.props);
	build_filters(&s);
	struct conn_handlers h = {
	        .ctx = &s,
	        .on_connect = on_connect,
	        .on_disconnect = on_disconnect,
	        .on_message = on_message,
	        .on_subscribe = on_subscribe,
	};
	s.conn = conn_new(&s.conn_opts, &h);
	conn_set_stream(s.conn, true);
	int status = run(&s);

	conn_free(s.conn);
	for (size_t i = 0; i < s.nfilters; i++)
		free(s.filters[i]);
	free(s.filters);
	mqttprops_reader_free(&s.props);
	out_free(&s.out);
	opt_list_free(&s.topics);
	opt_list_free(&s.excludes);
	free(s.shared);
	conn_opts_free(&s.conn_opts);
	return status;
}
