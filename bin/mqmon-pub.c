/*
 * mqmon-pub — publish one message, raw lines, or a stream of envelopes;
 * or play a simulated fleet (SPEC §3).
 *
 * Every input mode feeds the same loop: a source prepares the next message,
 * the publisher (src/publisher.c) sends it when the connection, the
 * in-flight cap and the rate allow, and the program ends only when every
 * QoS 1/2 message has been acknowledged.  A message that cannot go out yet
 * is held, and stdin is not read meanwhile, so memory stays flat and a
 * lost connection loses nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "envelope.h"
#include "linereader.h"
#include "log.h"
#include "loop.h"
#include "mqmon.h"
#include "opt.h"
#include "mqttprops.h"
#include "publisher.h"
#include "reject.h"
#include "simulate.h"
#include "timeutil.h"
#include "topic.h"
#include "utf8.h"

enum {
	OPT_REWRITE = OPT_KEY_PROGRAM,
	OPT_DEAD_LETTER,
	OPT_MAX_SIZE,
	OPT_RATE,
	OPT_MAX_INFLIGHT,
	OPT_SIMULATE,
	OPT_PREFIX,
	OPT_STRICT,
	OPT_CONTENT_TYPE,
	OPT_RESPONSE_TOPIC,
	OPT_CORRELATION_DATA,
	OPT_USER_PROPERTY,
	OPT_PAYLOAD_FORMAT, /* only as "-D publish payload-format-indicator N" */
};

static const struct opt_def pub_opts[] = {
        {"topic", 't', "TOPIC", "topic to publish to (stream: for lines without one)"},
        {"message", 'm', "MSG", "publish MSG once"},
        {"file", 'f', "FILE", "publish the contents of FILE once"},
        {"null-message", 'n', NULL, "publish an empty message (clears a retained one)"},
        {"stdin-file", 's', NULL, "publish all of stdin as one message"},
        {"stdin-line", 'l', NULL, "publish each line of stdin as a message"},
        {"retain", 'r', NULL, "retain (stream: for lines without \"retain\")"},
        {"rewrite", OPT_REWRITE, "FROM=TO", "replace the topic prefix FROM by TO (repeatable)"},
        {"dead-letter", OPT_DEAD_LETTER, "FILE", "append rejected input lines to FILE"},
        {"max-size", OPT_MAX_SIZE, "BYTES", "reject bodies larger than BYTES (k, M suffixes)"},
        {"rate", OPT_RATE, "N", "publish at most N messages per second"},
        {"max-inflight", OPT_MAX_INFLIGHT, "N", "at most N messages awaiting their ack (100)"},
        {"simulate", OPT_SIMULATE, "N", "play a fleet of N devices"},
        {"prefix", OPT_PREFIX, "PREFIX", "topic prefix of the simulated fleet (autocore)"},
        {"count", 'C', "N", "--simulate: stop after N messages"},
        {"strict", OPT_STRICT, NULL, "treat event lines in the stream as errors"},
        {"message-expiry", 'x', "SECS", "MQTT 5: the message expires after SECS"},
        {"content-type", OPT_CONTENT_TYPE, "TYPE", "MQTT 5: the content type of the message"},
        {"response-topic", OPT_RESPONSE_TOPIC, "TOPIC", "MQTT 5: the topic to answer on"},
        {"correlation-data", OPT_CORRELATION_DATA, "DATA", "MQTT 5: data the answer carries back"},
        {"user-property", OPT_USER_PROPERTY, "KEY=VALUE", "MQTT 5: a user property (repeatable)"},
        {"property", 'D', "publish NAME VALUE", "MQTT 5: a property, as mosquitto_pub -D spells it"},
        {NULL, 0, NULL, NULL},
};

/* mosquitto_pub's "-D publish NAME VALUE" names, and the option each one
 * is; a user property takes two values, KEY VALUE. */
static const struct {
	const char *name;
	int key;
	int values;
} publish_props[] = {
        {"message-expiry-interval", 'x', 1},
        {"content-type", OPT_CONTENT_TYPE, 1},
        {"response-topic", OPT_RESPONSE_TOPIC, 1},
        {"correlation-data", OPT_CORRELATION_DATA, 1},
        {"payload-format-indicator", OPT_PAYLOAD_FORMAT, 1},
        {"user-property", OPT_USER_PROPERTY, 2},
};

enum pub_mode { MODE_STREAM, MODE_LINES, MODE_ONCE, MODE_SIMULATE };

#define MQTT_MAX_BODY 268435455L

struct rewrite {
	char *from, *to;
	size_t from_len;
};

struct pub {
	/* settings */
	char *topic;
	bool retain;
	enum pub_mode mode;
	bool mode_set;
	enum opt_layer mode_layer;
	const char *once_what; /* which of -m/-f/-n/-s */
	char *message; /* -m */
	char *file; /* -f */
	bool null_message, stdin_file;
	struct opt_list rewrites_raw;
	struct rewrite *rewrites;
	size_t nrewrites;
	char *dead_letter;
	long max_size;
	double rate;
	long max_inflight;
	long simulate;
	char *prefix;
	long count;
	bool strict;
	bool stream_opts_given; /* -t, -r, --strict or --dead-letter outside the config file */
	/* MQTT 5 properties of one-shot and -l messages */
	char *content_type, *response_topic, *correlation;
	bool has_expiry, has_payload_format;
	uint32_t expiry;
	int payload_format;
	struct opt_list user_keys, user_vals; /* in step */
	const char *props_what; /* the option that set the last one, for messages */
	enum opt_layer props_layer; /* the strongest layer that set one */
	struct conn_opts conn_opts;

	/* running */
	struct conn *conn;
	struct publisher pub;
	struct linereader lr;
	struct envelope_decoder dec;
	struct rejects rej;
	struct buf topic_buf;
	struct buf body; /* -f / -s / -m body */
	mosquitto_property *props; /* built from the property options */
	bool once_sent;
	bool v3_props_noted;
	int status;
};

/* ---- options ---- */

static bool parse_size(const char *val, long *out, struct opt_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(val, &end);
	double mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1024 * 1024, end++;
	if (end == val || *end || errno || v < 0 || v * mult > MQTT_MAX_BODY)
		return opt_errf(err, "'%s' is not a size in bytes up to 256M (k and M suffixes allowed)", val);
	*out = (long)(v * mult);
	return true;
}

/* One input mode per run.  A mode from a stronger layer replaces one from
 * the config file; two on the same layer are a contradiction. */
static bool set_mode(struct pub *p, enum pub_mode mode, const char *what, const struct opt_where *w,
                     struct opt_err *err)
{
	if (p->mode_set && w->layer == p->mode_layer && strcmp(p->once_what, what) != 0)
		return opt_errf(err, "cannot be combined with %s", p->once_what);
	if (p->mode_set && w->layer > p->mode_layer) {
		/* forget the weaker layer's message source */
		free(p->message);
		free(p->file);
		p->message = p->file = NULL;
		p->null_message = p->stdin_file = false;
	}
	p->mode = mode;
	p->mode_set = true;
	p->mode_layer = w->layer;
	p->once_what = what;
	return true;
}

/* A property was set: remember by which option and how strongly. */
static bool prop_set(struct pub *p, const char *what, const struct opt_where *w)
{
	p->props_what = what;
	if (w->layer > p->props_layer)
		p->props_layer = w->layer;
	return true;
}

/* An MQTT string: UTF-8, at most 65535 bytes. */
static bool mqtt_string(const char *what, const char *val, struct opt_err *err)
{
	size_t n = strlen(val);
	if (n > 65535)
		return opt_errf(err, "the %s is longer than 65535 bytes", what);
	if (!utf8_valid(val, n))
		return opt_errf(err, "the %s is not valid UTF-8", what);
	return true;
}

static bool add_user_property(struct pub *p, const char *key, const char *val, const char *what,
                              const struct opt_where *w, struct opt_err *err)
{
	if (!mqtt_string("key", key, err) || !mqtt_string("value", val, err))
		return false;
	opt_list_add(&p->user_keys, key, w);
	opt_list_add(&p->user_vals, val, w);
	return prop_set(p, what, w);
}

static bool pub_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err);

/* "-D publish NAME VALUE [VALUE]": the words, each ended by '\0'. */
static bool apply_property(struct pub *p, const char *words, const struct opt_where *w, struct opt_err *err)
{
	const char *name = words + strlen(words) + 1;
	const char *v1 = name + strlen(name) + 1;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(publish_props); i++) {
		if (strcmp(publish_props[i].name, name) != 0)
			continue;
		if (publish_props[i].key == OPT_USER_PROPERTY)
			return add_user_property(p, v1, v1 + strlen(v1) + 1, "-D publish user-property", w, err);
		if (!pub_apply(p, publish_props[i].key, v1, w, err))
			return false;
		return prop_set(p, "-D publish", w);
	}
	return opt_errf(err, "internal error: property '%s'", name);
}

/* The words of -D (opt_words_fn). */
static int pub_words(void *ctx, int key, const char *val, char *const *next, int n, struct opt_err *err)
{
	(void)ctx;
	if (key != 'D')
		return 0;
	if (strcmp(val, "publish") != 0) {
		opt_errf(err, "'%s': mqmon-pub sets only the properties of its messages: -D publish NAME VALUE", val);
		return -1;
	}
	if (n < 1) {
		opt_errf(err, "publish needs a property name and a value");
		return -1;
	}
	for (size_t i = 0; i < MQMON_ARRAY_LEN(publish_props); i++) {
		if (strcmp(publish_props[i].name, next[0]) != 0)
			continue;
		if (n < 1 + publish_props[i].values) {
			opt_errf(err, "publish %s needs %s", next[0],
			         publish_props[i].values == 2 ? "a key and a value" : "a value");
			return -1;
		}
		return 1 + publish_props[i].values;
	}
	opt_errf(err,
	         "'%s' is not a property mqmon-pub sets (message-expiry-interval, content-type, response-topic, "
	         "correlation-data, payload-format-indicator, user-property)",
	         next[0]);
	return -1;
}

static bool pub_apply(void *ctx, int key, const char *val, const struct opt_where *w, struct opt_err *err)
{
	struct pub *p = ctx;
	const char *why;
	double d;
	if ((key == 't' || key == 'r' || key == OPT_STRICT || key == OPT_DEAD_LETTER) && w->layer > OPT_LAYER_FILE)
		p->stream_opts_given = true;
	switch (key) {
	case 't':
		if (!topic_name_valid(val, strlen(val), &why))
			return opt_errf(err, "'%s' %s", val, why);
		free(p->topic);
		p->topic = xstrdup(val);
		return true;
	case 'm':
		if (!set_mode(p, MODE_ONCE, "-m", w, err))
			return false;
		free(p->message);
		p->message = xstrdup(val);
		return true;
	case 'f':
		if (!set_mode(p, MODE_ONCE, "-f", w, err))
			return false;
		free(p->file);
		p->file = xstrdup(val);
		return true;
	case 'n':
		if (!set_mode(p, MODE_ONCE, "-n", w, err))
			return false;
		p->null_message = true;
		return true;
	case 's':
		if (!set_mode(p, MODE_ONCE, "-s", w, err))
			return false;
		p->stdin_file = true;
		return true;
	case 'l': return set_mode(p, MODE_LINES, "-l", w, err);
	case 'r': p->retain = true; return true;
	case OPT_REWRITE: {
		const char *eq = strchr(val, '=');
		if (!eq || eq == val)
			return opt_errf(err, "'%s' is not FROM=TO", val);
		if (strpbrk(eq + 1, "+#"))
			return opt_errf(err, "'%s': the replacement contains a wildcard", val);
		opt_list_add(&p->rewrites_raw, val, w);
		return true;
	}
	case OPT_DEAD_LETTER:
		free(p->dead_letter);
		p->dead_letter = xstrdup(val);
		return true;
	case OPT_MAX_SIZE: return parse_size(val, &p->max_size, err);
	case OPT_RATE:
		if (!opt_number(val, &d, err) || d <= 0)
			return opt_errf(err, "'%s' is not a rate in messages per second", val);
		p->rate = d;
		return true;
	case OPT_MAX_INFLIGHT: return opt_int(val, 1, 65000, &p->max_inflight, err);
	case OPT_SIMULATE:
		if (!opt_int(val, 1, 100000, &p->simulate, err))
			return false;
		return set_mode(p, MODE_SIMULATE, "--simulate", w, err);
	case OPT_PREFIX:
		if (!topic_name_valid(val, strlen(val), &why))
			return opt_errf(err, "'%s' %s", val, why);
		free(p->prefix);
		p->prefix = xstrdup(val);
		return true;
	case 'C': return opt_int(val, 1, 2147483647L, &p->count, err);
	case OPT_STRICT: p->strict = true; return true;
	case 'x':
		/* MQTT counts the expiry in whole seconds: "3600", "1h" */
		if (!opt_seconds(val, &d, err) || d < 0 || d > 4294967295.0 || d != floor(d))
			return opt_errf(err, "'%s' is not a whole number of seconds from 0 to 4294967295", val);
		p->has_expiry = true;
		p->expiry = (uint32_t)d;
		return prop_set(p, "--message-expiry", w);
	case OPT_CONTENT_TYPE:
		if (!mqtt_string("content type", val, err))
			return false;
		free(p->content_type);
		p->content_type = xstrdup(val);
		return prop_set(p, "--content-type", w);
	case OPT_RESPONSE_TOPIC:
		if (!topic_name_valid(val, strlen(val), &why))
			return opt_errf(err, "'%s' %s", val, why);
		free(p->response_topic);
		p->response_topic = xstrdup(val);
		return prop_set(p, "--response-topic", w);
	case OPT_CORRELATION_DATA:
		if (strlen(val) > 65535)
			return opt_errf(err, "the correlation data is longer than 65535 bytes");
		free(p->correlation);
		p->correlation = xstrdup(val);
		return prop_set(p, "--correlation-data", w);
	case OPT_USER_PROPERTY: {
		const char *eq = strchr(val, '=');
		if (!eq)
			return opt_errf(err, "'%s' is not KEY=VALUE", val);
		char *k = xstrndup(val, (size_t)(eq - val));
		bool ok = add_user_property(p, k, eq + 1, "--user-property", w, err);
		free(k);
		return ok;
	}
	case OPT_PAYLOAD_FORMAT: {
		long v;
		if (!opt_int(val, 0, 1, &v, err))
			return opt_errf(err, "payload-format-indicator is 0 (bytes) or 1 (UTF-8 text), not '%s'", val);
		p->has_payload_format = true;
		p->payload_format = (int)v;
		return prop_set(p, "-D publish", w);
	}
	case 'D': return apply_property(p, val, w, err);
	}
	return opt_errf(err, "unhandled option");
}

static void compile_rewrites(struct pub *p)
{
	p->nrewrites = p->rewrites_raw.n;
	p->rewrites = xcalloc(p->nrewrites, sizeof *p->rewrites);
	for (size_t i = 0; i < p->nrewrites; i++) {
		const char *v = p->rewrites_raw.items[i];
		const char *eq = strchr(v, '=');
		p->rewrites[i].from = xstrndup(v, (size_t)(eq - v));
		p->rewrites[i].from_len = (size_t)(eq - v);
		p->rewrites[i].to = xstrdup(eq + 1);
	}
}

/* ---- sources ---- */

enum step { STEP_SENT, STEP_SKIPPED, STEP_HOLD, STEP_NEED_INPUT, STEP_END };

/* Publish or explain why not.  A message that cannot go out right now
 * (no connection, QoS 0) is held: STEP_HOLD. */
static enum step send_or_reject(struct pub *p, const struct line *ln, const char *topic, const char *body, size_t len,
                                int qos, bool retain, const mosquitto_property *props)
{
	if ((long)len > p->max_size) {
		if (ln)
			reject_line(&p->rej, ln->lineno, ln->data, ln->len,
			            "the body is %zu bytes, more than --max-size %ld", len, p->max_size);
		else
			mqmon_err("the message is %zu bytes, more than --max-size %ld", len, p->max_size);
		return STEP_SKIPPED;
	}
	int rc = publisher_send(&p->pub, topic, body, len, qos, retain, props);
	if (rc == MOSQ_ERR_SUCCESS)
		return STEP_SENT;
	if (rc == MOSQ_ERR_NO_CONN)
		return STEP_HOLD;
	const char *why = rc == MOSQ_ERR_OVERSIZE_PACKET     ? "the message is larger than the broker accepts"
	                  : rc == MOSQ_ERR_QOS_NOT_SUPPORTED ? "the broker does not support this QoS"
	                  : rc == MOSQ_ERR_MALFORMED_UTF8    ? "the topic is not valid UTF-8"
	                                                     : conn_strerror(rc);
	if (ln)
		reject_line(&p->rej, ln->lineno, ln->data, ln->len, "cannot publish: %s", why);
	else
		mqmon_err("cannot publish: %s", why);
	return STEP_SKIPPED;
}

static const char *apply_rewrites(struct pub *p, const char *topic, size_t len)
{
	buf_reset(&p->topic_buf);
	for (size_t i = 0; i < p->nrewrites; i++) {
		const struct rewrite *r = &p->rewrites[i];
		if (len >= r->from_len && memcmp(topic, r->from, r->from_len) == 0) {
			buf_adds(&p->topic_buf, r->to);
			buf_add(&p->topic_buf, topic + r->from_len, len - r->from_len);
			return buf_cstr(&p->topic_buf);
		}
	}
	buf_add(&p->topic_buf, topic, len);
	return buf_cstr(&p->topic_buf);
}

static enum step envelope_line(struct pub *p, const struct line *ln)
{
	if (line_is_blank(ln))
		return STEP_SKIPPED; /* as jq does, whitespace between values is nothing */
	struct envelope e;
	char err[512];
	enum envelope_result r = envelope_decode(&p->dec, ln->data, ln->len, &e, err, sizeof err);
	if (r == ENVELOPE_EVENT) {
		if (p->strict)
			reject_line(&p->rej, ln->lineno, ln->data, ln->len, "an event line, not a message (--strict)");
		return STEP_SKIPPED;
	}
	if (r == ENVELOPE_ERROR) {
		reject_line(&p->rej, ln->lineno, ln->data, ln->len, "%s", err);
		return STEP_SKIPPED;
	}
	const char *topic = e.topic;
	size_t tlen = e.topic_len;
	if (!topic) {
		if (!p->topic) {
			reject_line(&p->rej, ln->lineno, ln->data, ln->len, "no \"topic\" (and no -t default)");
			return STEP_SKIPPED;
		}
		topic = p->topic;
		tlen = strlen(topic);
	}
	const char *final = apply_rewrites(p, topic, tlen);
	const char *why;
	if (p->nrewrites && !topic_name_valid(final, strlen(final), &why)) {
		reject_line(&p->rej, ln->lineno, ln->data, ln->len, "the rewritten topic '%s' %s", final, why);
		return STEP_SKIPPED;
	}
	int qos = e.qos >= 0 ? e.qos : p->conn_opts.qos;
	bool retain = e.retain >= 0 ? e.retain : p->retain;
	mosquitto_property *props = NULL;
	if (e.props && p->conn_opts.protocol == 5) {
		if (!mqttprops_build(e.props, &props, &why)) {
			reject_line(&p->rej, ln->lineno, ln->data, ln->len, "%s", why);
			return STEP_SKIPPED;
		}
	} else if (e.props && !p->v3_props_noted) {
		mqmon_note("line %lu: MQTT %s has no properties: \"props\" are not sent", ln->lineno,
		           p->conn_opts.protocol == 311 ? "3.1.1" : "3.1");
		p->v3_props_noted = true;
	}
	enum step s = send_or_reject(p, ln, final, e.payload, e.payload_len, qos, retain, props);
	mosquitto_property_free_all(&props);
	return s;
}

static enum step raw_line(struct pub *p, const struct line *ln)
{
	return send_or_reject(p, ln, p->topic, ln->data, ln->len, p->conn_opts.qos, p->retain, p->props);
}

/* The held line, when the last step was STEP_HOLD. */
static struct line held;
static bool holding;

static enum step next_line(struct pub *p)
{
	if (!holding && !linereader_next(&p->lr, &held))
		return p->lr.eof ? STEP_END : STEP_NEED_INPUT;
	enum step s = p->mode == MODE_LINES ? raw_line(p, &held) : envelope_line(p, &held);
	holding = s == STEP_HOLD;
	return s;
}

static enum step next_once(struct pub *p)
{
	if (p->once_sent)
		return STEP_END;
	enum step s = send_or_reject(p, NULL, p->topic, p->body.data ? p->body.data : "", p->body.len, p->conn_opts.qos,
	                             p->retain, p->props);
	if (s == STEP_SKIPPED)
		p->status = MQMON_EXIT_RUNTIME;
	if (s != STEP_HOLD)
		p->once_sent = true;
	return s;
}

static void read_whole(struct pub *p, int fd, const char *name)
{
	for (;;) {
		char *at = buf_reserve(&p->body, 65536);
		ssize_t n = read(fd, at, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			mqmon_die(MQMON_EXIT_RUNTIME, "cannot read %s: %s", name, strerror(errno));
		if (n == 0)
			break;
		p->body.len += (size_t)n;
		if ((long)p->body.len > p->max_size)
			mqmon_die(MQMON_EXIT_RUNTIME, "%s is larger than --max-size %ld", name, p->max_size);
	}
}

static void load_once_body(struct pub *p)
{
	if (p->message) {
		buf_adds(&p->body, p->message);
	} else if (p->file) {
		int fd = open(p->file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			mqmon_die(MQMON_EXIT_RUNTIME, "cannot open %s: %s", p->file, strerror(errno));
		read_whole(p, fd, p->file);
		close(fd);
	} else if (p->stdin_file) {
		read_whole(p, STDIN_FILENO, "stdin");
	}
}

/* ---- properties ---- */

static bool has_props(const struct pub *p)
{
	return p->content_type || p->response_topic || p->correlation || p->has_expiry || p->has_payload_format ||
	       p->user_keys.n;
}

/* The property list of one-shot and -l messages, through the same
 * struct props as an envelope's "props" (props.h, mqttprops.h). */
static void build_props(struct pub *p)
{
	struct props pr = {0};
	struct props_user *user = xcalloc(p->user_keys.n + 1, sizeof *user);
	if (p->content_type) {
		pr.content_type = p->content_type;
		pr.content_type_len = strlen(p->content_type);
	}
	if (p->response_topic) {
		pr.response_topic = p->response_topic;
		pr.response_topic_len = strlen(p->response_topic);
	}
	if (p->correlation) {
		pr.correlation = p->correlation;
		pr.correlation_len = strlen(p->correlation);
	}
	pr.has_expiry = p->has_expiry;
	pr.message_expiry = p->expiry;
	pr.has_payload_format = p->has_payload_format;
	pr.payload_format = p->payload_format;
	for (size_t i = 0; i < p->user_keys.n; i++)
		user[i] = (struct props_user){p->user_keys.items[i], strlen(p->user_keys.items[i]),
		                              p->user_vals.items[i], strlen(p->user_vals.items[i])};
	pr.user = user;
	pr.nuser = p->user_keys.n;
	const char *why;
	bool ok = mqttprops_build(&pr, &p->props, &why);
	free(user);
	if (!ok)
		mqmon_usage_error("%s: %s", p->props_what, why);
}

/* ---- the loop ---- */

/* Feed messages while the publisher can take them. */
static enum step pump(struct pub *p)
{
	enum step s = STEP_NEED_INPUT;
	int budget = 4096; /* then look at the socket again */
	while (budget-- > 0 && publisher_ready(&p->pub)) {
		s = p->mode == MODE_ONCE ? next_once(p) : next_line(p);
		if (s == STEP_HOLD || s == STEP_NEED_INPUT || s == STEP_END)
			return s;
	}
	return holding ? STEP_HOLD : STEP_SENT;
}

static bool all_acked(void *ctx)
{
	return publisher_idle(ctx);
}

/* Wait for the last acks (until the monotonic deadline, 0 = none), then a
 * normal DISCONNECT, so the broker does not publish a will. */
static void drain_and_disconnect(struct pub *p, struct loop *l, int64_t deadline)
{
	if (!loop_run_until(l, all_acked, &p->pub, deadline)) {
		mqmon_err("%ld message%s not acknowledged by the broker", p->pub.outstanding,
		          p->pub.outstanding == 1 ? "" : "s");
		p->status = MQMON_EXIT_RUNTIME;
	}
	loop_disconnect_all(l);
}

/* Failures beat rejected lines: 1, else 65, else 0. */
static int final_status(struct pub *p)
{
	if (p->pub.refused) {
		mqmon_err("%lu message%s refused by the broker", p->pub.refused, p->pub.refused == 1 ? "" : "s");
		p->status = MQMON_EXIT_RUNTIME;
	}
	if (!p->status && p->rej.count)
		p->status = MQMON_EXIT_REJECTS;
	return p->status;
}

static void on_stdin(void *ctx, short revents)
{
	struct pub *p = ctx;
	(void)revents;
	if (linereader_fill(&p->lr) < 0 && p->lr.error)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot read stdin: %s", strerror(p->lr.error));
}

static int run(struct pub *p, struct loop *l)
{
	bool reads_stdin = p->mode == MODE_STREAM || p->mode == MODE_LINES;
	int in = -1;
	if (reads_stdin) {
		fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);
		in = loop_add_fd(l, STDIN_FILENO, on_stdin, p);
	}
	conn_start(p->conn);
	bool input_done = false;
	while (conn_state(p->conn) != CONN_DOWN) {
		enum step s = pump(p);
		if (s == STEP_END)
			input_done = true;
		if (input_done && publisher_idle(&p->pub))
			break;
		/* read stdin only when a line can go out: that is the backpressure */
		if (in >= 0)
			loop_watch(l, in, s == STEP_NEED_INPUT && !p->lr.eof && publisher_ready(&p->pub));
		int wait = -1;
		if (conn_is_up(p->conn) && p->pub.outstanding < p->pub.max_inflight && s != STEP_NEED_INPUT &&
		    !input_done)
			wait = publisher_wait_ms(&p->pub);
		loop_turn(l, wait);
		if (loop_signal(l)) {
			/* stop reading; what was accepted still gets its ack */
			double limit = p->conn_opts.connect_timeout > 0 ? p->conn_opts.connect_timeout : 10;
			drain_and_disconnect(p, l, time_mono_ms() + (int64_t)(limit * 1000));
			return final_status(p);
		}
	}
	if (conn_state(p->conn) == CONN_DOWN) {
		/* the connection failed for good (already reported) */
		if (p->pub.outstanding > 0)
			mqmon_err("%ld message%s not acknowledged", p->pub.outstanding,
			          p->pub.outstanding == 1 ? "" : "s");
		if (!input_done && p->mode != MODE_ONCE && p->lr.lineno > 0)
			mqmon_err("stopped before the end of the input, at line %lu", p->lr.lineno);
		return MQMON_EXIT_RUNTIME;
	}
	drain_and_disconnect(p, l, 0);
	return final_status(p);
}

int main(int argc, char **argv)
{
	log_init(argv[0]);
	struct pub p = {.max_size = MQTT_MAX_BODY, .max_inflight = 100};
	struct opt_program prog = {
	        .name = "mqmon-pub",
	        .synopsis = "[options] -t TOPIC {-m MSG | -f FILE | -n | -s | -l}\n"
	                    "       mqmon-pub [options] [-t TOPIC] < envelopes.ndjson\n"
	                    "       mqmon-pub [options] --simulate N",
	        .summary = "Publish MQTT messages: one, raw lines, a stream of envelopes, or a simulated fleet.",
	        .opts = pub_opts,
	        .sets = OPT_SET_CONN,
	        .apply = pub_apply,
	        .ctx = &p,
	        .more_words = pub_words,
	        .epilog = "Examples:\n"
	                  "  mqmon-pub -t devices/ESP32_001/command -m '{\"command\":\"restart\"}' -q 1\n"
	                  "  mqmon-sub -t 'site/#' | mqmon-pub -h backup --rewrite site/=mirror/\n"
	                  "  mqmon-pub --simulate 20 --rate 50",
	};
	int first = opt_parse(&prog, argc, argv, &p.conn_opts);
	if (first < argc)
		mqmon_usage_error("unexpected argument '%s'", argv[first]);
	if (!p.mode_set) {
		if (isatty(STDIN_FILENO))
			mqmon_usage_error("nothing to publish: give -m, -f, -n, -s or -l, or pipe envelopes on stdin");
		p.mode = MODE_STREAM;
	}
	if ((p.mode == MODE_ONCE || p.mode == MODE_LINES) && !p.topic)
		mqmon_usage_error("%s needs a topic (-t TOPIC)", p.once_what);
	if (p.mode != MODE_STREAM && p.nrewrites + p.rewrites_raw.n > 0)
		mqmon_usage_error("--rewrite applies to envelope streams only");
	if (p.count && p.mode != MODE_SIMULATE)
		mqmon_usage_error("-C applies to --simulate only");
	if (p.mode == MODE_SIMULATE && p.stream_opts_given)
		mqmon_usage_error("--simulate makes its own topics: -t, -r, --strict and --dead-letter do not apply");
	if (!p.prefix)
		p.prefix = xstrdup("autocore");
	if (has_props(&p) && p.mode != MODE_ONCE && p.mode != MODE_LINES) {
		/* a config file's properties are defaults for the modes that use them */
		if (p.props_layer > OPT_LAYER_FILE)
			mqmon_usage_error("%s applies to -m, -f, -n, -s and -l; %s", p.props_what,
			                  p.mode == MODE_SIMULATE ? "--simulate sends no properties"
			                                          : "in a stream each envelope has its own \"props\"");
	} else if (has_props(&p) && p.conn_opts.protocol != 5) {
		mqmon_usage_error("%s needs MQTT 5: MQTT %s messages carry no properties", p.props_what,
		                  p.conn_opts.protocol == 311 ? "3.1.1" : "3.1");
	} else if (has_props(&p)) {
		build_props(&p);
	}
	const char *why;
	if (!conn_opts_finish(&p.conn_opts, &why))
		mqmon_usage_error("%s", why);
	/* Like mosquitto_pub, a one-shot or -l publish that cannot reach the
	 * broker fails at once; a stream retries (and once connected, all do). */
	if (p.mode == MODE_ONCE || p.mode == MODE_LINES)
		p.conn_opts.retry_start = false;
	compile_rewrites(&p);
	rejects_open(&p.rej, p.dead_letter);

	int status;
	if (p.mode == MODE_SIMULATE) {
		struct simulate_opts so = {
		        .devices = (unsigned)p.simulate,
		        .prefix = p.prefix,
		        .rate = p.rate,
		        .count = p.count,
		        .max_inflight = p.max_inflight,
		        .conn = &p.conn_opts,
		};
		status = simulate_run(&so);
	} else {
		if (p.mode == MODE_ONCE)
			load_once_body(&p);
		linereader_init(&p.lr, STDIN_FILENO);
		envelope_decoder_init(&p.dec);
		struct conn_handlers h = {
		        .ctx = &p.pub,
		        .on_publish = publisher_on_publish,
		        .on_disconnect = publisher_on_disconnect,
		};
		p.conn = conn_new(&p.conn_opts, &h);
		publisher_init(&p.pub, p.conn, p.max_inflight, p.rate);
		struct loop *l = loop_new();
		loop_add_conn(l, p.conn);
		status = run(&p, l);
		loop_free(l);
		conn_free(p.conn);
		linereader_free(&p.lr);
		envelope_decoder_free(&p.dec);
	}

	rejects_close(&p.rej);
	buf_free(&p.topic_buf);
	buf_free(&p.body);
	for (size_t i = 0; i < p.nrewrites; i++) {
		free(p.rewrites[i].from);
		free(p.rewrites[i].to);
	}
	free(p.rewrites);
	opt_list_free(&p.rewrites_raw);
	free(p.topic);
	free(p.message);
	free(p.file);
	free(p.dead_letter);
	free(p.prefix);
	free(p.content_type);
	free(p.response_topic);
	free(p.correlation);
	opt_list_free(&p.user_keys);
	opt_list_free(&p.user_vals);
	mosquitto_property_free_all(&p.props);
	conn_opts_free(&p.conn_opts);
	return status;
}
