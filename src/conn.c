/*
 * conn.c — one MQTT connection driven by the caller's poll loop.
 *
 * libmosquitto's own loop functions sleep in select() and reconnect with a
 * fixed schedule; mqmon needs stdin, timers and signals in the same loop and
 * jittered backoff, so this file drives mosquitto_loop_read/_write/_misc
 * itself.  The TCP connect is blocking (libmosquitto 2.0 keeps the CONNECT
 * properties only for its blocking connect); the TLS handshake, CONNECT and
 * everything after are not.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "conn.h"
#include "log.h"
#include "mqmon.h"
#include "rng.h"
#include "timeutil.h"
#include "topic.h"

/* How many packets one readable event may process before the loop looks at
 * its other inputs again. */
#define READ_BURST 4096

/* Stream reading (conn_set_stream): while messages arrive faster than about
 * STREAM_BUSY_BYTES per STREAM_WAIT_MS, SO_RCVLOWAT holds poll() back until
 * that much is queued (at most STREAM_LOWAT_MAX) or STREAM_WAIT_MS have
 * passed, so the broker's writes stop paying for a wake-up each. */
#define STREAM_LOWAT_MAX 16384
#define STREAM_BUSY_BYTES 2048
#define STREAM_WAIT_MS 2
#define STREAM_HOLDOFF_MIN_US 50000
#define STREAM_HOLDOFF_MAX_US 2000000

struct conn {
	struct mosquitto *mosq;
	const struct conn_opts *o;
	struct conn_handlers h;
	enum conn_state state;
	char address[300];
	mosquitto_property *connect_props;
	bool attempted; /* mosquitto_connect done once: later tries reconnect */
	bool ever_up;
	bool refused_for_good; /* bad credentials and the like: retrying is useless */
	bool aborting; /* we dropped an attempt that took too long */
	bool stop_reading; /* the program wants no more messages */
	bool quickack; /* re-arm TCP_QUICKACK after reads */
	bool stream; /* batch reads while the stream is busy (conn_set_stream) */
	int lowat; /* the socket's SO_RCVLOWAT: 1, or more while busy */
	int64_t lowat_due; /* monotonic us: read then even below the mark */
	int64_t window_start; /* monotonic us: the rate while lowat is 1 */
	size_t window_bytes;
	size_t read_bytes; /* message bytes handled by the current read */
	bool lowat_paid; /* the mark gathered a batch since it was raised */
	int64_t holdoff; /* us: how long not to raise it after it did not */
	int64_t busy_after; /* monotonic us: no batching before */
	int exit_status;
	unsigned failures; /* consecutive, for the backoff */
	int64_t down_since; /* monotonic ms when the current outage began */
	int64_t retry_at; /* CONN_WAITING: when to try again */
	int64_t deadline; /* CONN_CONNECTING/CLOSING: when to give up */
	char reason[256]; /* why the last attempt or connection failed */
	char lib_error[200]; /* libmosquitto's first error message of an attempt */
	struct rng rng; /* jitter only needs to differ between clients */
};

static int lib_users;

void conn_opts_init(struct conn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->host = xstrdup("localhost");
	o->clean = true;
	o->keepalive = 60;
	o->protocol = 5;
	o->reconnect_min = 1;
	o->reconnect_max = 60;
	o->reconnect = true;
	o->retry_start = true;
	o->connect_timeout = 10;
}

void conn_opts_free(struct conn_opts *o)
{
	char **strs[] = {&o->host, &o->username, &o->password,    &o->id,         &o->cafile,      &o->capath,
	                 &o->cert, &o->key,      &o->tls_version, &o->will_topic, &o->will_payload};
	for (size_t i = 0; i < MQMON_ARRAY_LEN(strs); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
}

bool conn_opts_finish(struct conn_opts *o, const char **why)
{
	if (o->cafile || o->capath || o->cert)
		o->tls = true;
	if (o->port == 0)
		o->port = o->tls ? 8883 : 1883;
	if (!o->clean && !o->id) {
		*why = "a persistent session (-c/--no-clean) needs a client id (-i ID)";
		return false;
	}
	if ((o->cert && !o->key) || (o->key && !o->cert)) {
		*why = "--cert and --key go together";
		return false;
	}
	if (o->password && !o->username) {
		*why = "a password needs a user name (-u)";
		return false;
	}
	if (o->protocol == 31 && o->id && strlen(o->id) > 23) {
		*why = "MQTT 3.1 allows client ids of at most 23 characters";
		return false;
	}
	if (o->will_payload && !o->will_topic) {
		*why = "--will-payload needs --will-topic";
		return false;
	}
	const char *twhy;
	if (o->will_topic && !topic_name_valid(o->will_topic, strlen(o->will_topic), &twhy)) {
		static char msg[128];
		snprintf(msg, sizeof msg, "--will-topic %s", twhy);
		*why = msg;
		return false;
	}
	return true;
}

/* ---- text for errors ---- */

/* libmosquitto's messages are sentences ending in a full stop; ours go on
 * after them ("…; retrying in 4 s"), so the stop is dropped. */
static void drop_full_stop(char *s)
{
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

static const char *clause(const char *sentence)
{
	static _Thread_local char text[200];
	snprintf(text, sizeof text, "%s", sentence);
	drop_full_stop(text);
	return text;
}

const char *conn_strerror(int rc)
{
	if (rc == MOSQ_ERR_ERRNO)
		return strerror(errno);
	if (rc == MOSQ_ERR_CONN_LOST)
		return "the connection was closed";
	if (rc == MOSQ_ERR_KEEPALIVE)
		return "no answer from the broker within the keepalive";
	return clause(mosquitto_strerror(rc));
}

static const char *conn_connack_string(const struct conn *c, int reason)
{
	if (c->o->protocol == 5)
		return mosquitto_reason_string(reason);
	return clause(mosquitto_connack_string(reason));
}

/* Refusals that another attempt cannot fix. */
static bool refusal_is_final(const struct conn *c, int reason)
{
	if (c->o->protocol != 5)
		return reason == CONNACK_REFUSED_PROTOCOL_VERSION || reason == CONNACK_REFUSED_IDENTIFIER_REJECTED ||
		       reason == CONNACK_REFUSED_BAD_USERNAME_PASSWORD || reason == CONNACK_REFUSED_NOT_AUTHORIZED;
	switch (reason) {
	case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
	case MQTT_RC_CLIENTID_NOT_VALID:
	case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
	case MQTT_RC_NOT_AUTHORIZED:
	case MQTT_RC_BANNED:
	case MQTT_RC_BAD_AUTHENTICATION_METHOD:
	case MQTT_RC_MALFORMED_PACKET:
	case MQTT_RC_PROTOCOL_ERROR: return true;
	}
	return false;
}

/* ---- backoff ---- */

/* Exponential backoff with "equal jitter": half the step is fixed, half
 * random, so a fleet of clients does not reconnect in lockstep after a
 * broker restart, and no client retries faster than MIN. */
double conn_backoff_delay(double min, double max, unsigned failures, double u)
{
	double step = min * pow(2.0, failures > 30 ? 30 : failures);
	if (step > max)
		step = max;
	double d = step / 2 + u * step / 2;
	return d < min ? min : d;
}

static double backoff_seconds(struct conn *c)
{
	return conn_backoff_delay(c->o->reconnect_min, c->o->reconnect_max, c->failures, rng_uniform(&c->rng));
}

/* ---- state changes ---- */

static void go_down(struct conn *c, int status)
{
	c->state = CONN_DOWN;
	c->exit_status = status;
}

/* No retry: the failure (already logged, or left to on_failure) is final. */
static void give_up(struct conn *c, bool was_up)
{
	go_down(c, MQMON_EXIT_RUNTIME);
	if (c->h.on_failure)
		c->h.on_failure(c->h.ctx, c->reason, was_up, true);
}

/* An attempt failed or an established connection was lost. */
static void connection_failed(struct conn *c, const char *reason)
{
	if (c->state == CONN_CLOSING) {
		/* we were leaving anyway: nothing to retry for */
		mqmon_debug("connection to %s lost while closing: %s", c->address, reason);
		go_down(c, MQMON_EXIT_OK);
		return;
	}
	bool was_up = c->state == CONN_UP;
	int64_t now = time_mono_ms();
	snprintf(c->reason, sizeof c->reason, "%s", reason);
	if (was_up || !c->down_since)
		c->down_since = now;
	if (was_up && c->h.on_disconnect)
		c->h.on_disconnect(c->h.ctx, true, c->reason);
	bool own_report = c->h.on_failure != NULL;
	if (c->refused_for_good) {
		if (!own_report)
			mqmon_err("connection to %s refused: %s", c->address, reason);
		give_up(c, was_up);
		return;
	}
	if (!c->o->reconnect || (!c->ever_up && !c->o->retry_start)) {
		if (!own_report)
			mqmon_err("%s %s: %s", was_up ? "connection lost to" : "cannot connect to", c->address, reason);
		give_up(c, was_up);
		return;
	}
	double delay = backoff_seconds(c);
	c->failures++;
	/* Before the first success the connect timeout bounds the whole
	 * effort, so a typo in the host name ends with an error, not a hang;
	 * the last attempt is made when the time is up. */
	if (!c->ever_up && c->o->connect_timeout > 0) {
		double left = c->o->connect_timeout - (double)(now - c->down_since) / 1000.0;
		if (left <= 0) {
			if (!own_report)
				mqmon_err("cannot connect to %s: %s", c->address, reason);
			give_up(c, was_up);
			return;
		}
		if (delay > left)
			delay = left;
	}
	c->state = CONN_WAITING;
	c->retry_at = now + (int64_t)(delay * 1000);
	/* "4 s", "0.25 s", "12 s", "120 s": two significant digits, no exponent */
	char when[32];
	snprintf(when, sizeof when, delay < 10 ? "%.2g" : "%.0f", delay);
	if (own_report)
		c->h.on_failure(c->h.ctx, c->reason, was_up, false);
	else if (was_up)
		mqmon_note("connection lost: %s; retrying in %s s", reason, when);
	else
		mqmon_note("cannot connect to %s: %s; retrying in %s s", c->address, reason, when);
}

static void attempt(struct conn *c)
{
	const struct conn_opts *o = c->o;
	int rc;
	c->state = CONN_CONNECTING;
	c->aborting = false;
	c->lib_error[0] = '\0';
	c->lowat = 1; /* a new socket starts at the default */
	c->window_bytes = 0;
	double limit = o->connect_timeout > 0 ? o->connect_timeout : 30;
	c->deadline = time_mono_ms() + (int64_t)(limit * 1000);
	errno = 0;
	if (!c->attempted) {
		c->attempted = true;
		rc = mosquitto_connect_bind_v5(c->mosq, o->host, o->port, o->keepalive, NULL, c->connect_props);
	} else {
		rc = mosquitto_reconnect(c->mosq);
	}
	if (rc == MOSQ_ERR_EAI) {
		char why[300];
		snprintf(why, sizeof why, "cannot resolve host name '%s'", o->host);
		connection_failed(c, why);
	} else if (rc != MOSQ_ERR_SUCCESS) {
		connection_failed(c, rc == MOSQ_ERR_TLS && c->lib_error[0] ? c->lib_error : conn_strerror(rc));
	}
}

/* ---- libmosquitto callbacks ---- */

static void on_connect_cb(struct mosquitto *m, void *ud, int rc, int flags, const mosquitto_property *props)
{
	struct conn *c = ud;
	(void)m;
	(void)props;
	if (rc != 0) {
		c->refused_for_good = refusal_is_final(c, rc);
		snprintf(c->reason, sizeof c->reason, "%s", conn_connack_string(c, rc));
		return; /* libmosquitto closes the socket: on_disconnect follows */
	}
	bool reconnected = c->ever_up;
	c->state = CONN_UP;
	c->ever_up = true;
	c->failures = 0;
	c->down_since = 0;
	c->reason[0] = '\0';
	if (reconnected && !c->h.on_failure)
		mqmon_note("connected to %s", c->address);
	else
		mqmon_debug("connected to %s", c->address);
	if (c->h.on_connect)
		c->h.on_connect(c->h.ctx, flags & 1);
}

static void on_disconnect_cb(struct mosquitto *m, void *ud, int rc, const mosquitto_property *props)
{
	struct conn *c = ud;
	(void)m;
	(void)props;
	if (c->state == CONN_CLOSING || (rc == 0 && !c->aborting)) {
		if (c->state == CONN_UP && c->h.on_disconnect)
			c->h.on_disconnect(c->h.ctx, false, NULL);
		mqmon_debug("disconnected from %s", c->address);
		go_down(c, MQMON_EXIT_OK);
		return;
	}
	const char *reason;
	char buf[256];
	if (c->aborting) {
		reason = "timed out waiting for the broker";
	} else if (c->reason[0] && c->state == CONN_CONNECTING) {
		snprintf(buf, sizeof buf, "%s", c->reason); /* CONNACK refusal */
		reason = buf;
	} else if (rc == MOSQ_ERR_ERRNO && errno == 0) {
		reason = "the connection was closed";
	} else if (rc > 0 && rc < 0x80 && rc != MOSQ_ERR_ERRNO) {
		reason = conn_strerror(rc);
	} else if (rc >= 0x80) {
		reason = mosquitto_reason_string(rc); /* DISCONNECT from a v5 broker */
	} else {
		reason = conn_strerror(rc);
	}
	connection_failed(c, reason);
}

static void on_message_cb(struct mosquitto *m, void *ud, const struct mosquitto_message *msg,
                          const mosquitto_property *props)
{
	struct conn *c = ud;
	(void)m;
	/* about the packet's size: header, topic, payload */
	c->read_bytes += (size_t)msg->payloadlen + strlen(msg->topic) + 4;
	if (c->h.on_message)
		c->h.on_message(c->h.ctx, msg, props);
}

static void on_publish_cb(struct mosquitto *m, void *ud, int mid, int reason, const mosquitto_property *props)
{
	struct conn *c = ud;
	(void)m;
	(void)props;
	if (c->h.on_publish)
		c->h.on_publish(c->h.ctx, mid, reason);
}

static void on_subscribe_cb(struct mosquitto *m, void *ud, int mid, int count, const int *granted,
                            const mosquitto_property *props)
{
	struct conn *c = ud;
	(void)m;
	(void)props;
	if (c->h.on_subscribe)
		c->h.on_subscribe(c->h.ctx, mid, count, granted);
}

static void on_log_cb(struct mosquitto *m, void *ud, int level, const char *str)
{
	struct conn *c = ud;
	(void)m;
	/* keep the first error of an attempt: it says why a TLS handshake
	 * failed ("host name verification failed") where return codes do not */
	if (level == MOSQ_LOG_ERR && !c->lib_error[0]) {
		const char *text = strncmp(str, "Error: ", 7) == 0 ? str + 7 : str;
		snprintf(c->lib_error, sizeof c->lib_error, "%s", text);
		drop_full_stop(c->lib_error);
	}
	mqmon_debug("libmosquitto: %s", str);
}

/* ---- setup ---- */

static _Noreturn void setup_failed(const char *what, int rc)
{
	mqmon_die(MQMON_EXIT_USAGE, "%s: %s", what, rc == MOSQ_ERR_INVAL ? "invalid or unreadable" : conn_strerror(rc));
}

static void setup_tls(struct conn *c)
{
	const struct conn_opts *o = c->o;
	int rc;
	const char *capath = o->capath;
	if (!o->cafile && !o->capath) {
		/* mqtts:// without --cafile trusts the system's certificates */
		mosquitto_int_option(c->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		capath = "/etc/ssl/certs";
	}
	rc = mosquitto_tls_set(c->mosq, o->cafile, capath, o->cert, o->key, NULL);
	if (rc)
		setup_failed(o->cert ? "--cafile/--capath/--cert/--key" : "--cafile/--capath", rc);
	rc = mosquitto_tls_opts_set(c->mosq, 1, o->tls_version, NULL);
	if (rc)
		setup_failed("--tls-version", rc);
	if (o->insecure)
		mosquitto_tls_insecure_set(c->mosq, true);
}

static char *generated_id(struct conn *c)
{
	char *id = xmalloc(32);
	/* "mqmon-status-1a2b3c4d5e": within MQTT 3.1's 23 characters */
	const char *name = log_progname();
	if (strncmp(name, "mqmon-", 6) == 0)
		name += 6;
	snprintf(id, 32, "mqmon-%.6s-%010llx", name, (unsigned long long)(rng_next(&c->rng) & 0xFFFFFFFFFFULL));
	return id;
}

struct conn *conn_new(const struct conn_opts *o, const struct conn_handlers *h)
{
	struct conn *c = xcalloc(1, sizeof *c);
	c->o = o;
	if (h)
		c->h = *h;
	rng_seed_unique(&c->rng);
	if (lib_users++ == 0)
		mosquitto_lib_init();
	if (strchr(o->host, ':'))
		snprintf(c->address, sizeof c->address, "[%s]:%d", o->host, o->port);
	else
		snprintf(c->address, sizeof c->address, "%s:%d", o->host, o->port);

	char *id = o->id ? NULL : generated_id(c);
	c->mosq = mosquitto_new(o->id ? o->id : id, o->clean, c);
	free(id);
	if (!c->mosq)
		mqmon_die(MQMON_EXIT_RUNTIME, "cannot create an MQTT client: %s", strerror(errno));
	int version = o->protocol == 5 ? MQTT_PROTOCOL_V5 : o->protocol == 311 ? MQTT_PROTOCOL_V311 : MQTT_PROTOCOL_V31;
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, version);
	/* Request/response latency matters more than packing segments. */
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect_cb);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect_cb);
	mosquitto_message_v5_callback_set(c->mosq, on_message_cb);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish_cb);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe_cb);
	mosquitto_log_callback_set(c->mosq, on_log_cb);
	if (o->username) {
		int rc = mosquitto_username_pw_set(c->mosq, o->username, o->password);
		if (rc)
			setup_failed("--username/--password", rc);
	}
	if (o->tls)
		setup_tls(c);
	if (o->will_topic) {
		const char *payload = o->will_payload ? o->will_payload : "";
		int rc = mosquitto_will_set_v5(c->mosq, o->will_topic, (int)strlen(payload), payload, o->will_qos,
		                               o->will_retain, NULL);
		if (rc)
			setup_failed("--will-topic", rc);
	}
	if (o->protocol == 5 && !o->clean) {
		/* An MQTT 5 session ends with the connection unless it is given an
		 * expiry: -c asks for the session to outlive restarts and cuts. */
		mosquitto_property_add_int32(&c->connect_props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, UINT32_MAX);
	}
	c->state = CONN_DOWN;
	return c;
}

void conn_free(struct conn *c)
{
	if (!c)
		return;
	mosquitto_destroy(c->mosq);
	mosquitto_property_free_all(&c->connect_props);
	if (--lib_users == 0)
		mosquitto_lib_cleanup();
	free(c);
}

struct mosquitto *conn_mosq(struct conn *c)
{
	return c->mosq;
}
enum conn_state conn_state(const struct conn *c)
{
	return c->state;
}
int conn_exit_status(const struct conn *c)
{
	return c->exit_status;
}
const char *conn_address(const struct conn *c)
{
	return c->address;
}

void conn_start(struct conn *c)
{
	c->down_since = time_mono_ms();
	attempt(c);
}

/* ---- the loop ---- */

void conn_pollfd(struct conn *c, struct pollfd *pfd)
{
	int fd = mosquitto_socket(c->mosq);
	pfd->fd = -1;
	pfd->events = 0;
	pfd->revents = 0;
	if (fd < 0 || c->state == CONN_DOWN || c->state == CONN_WAITING)
		return;
	pfd->fd = fd;
	pfd->events = c->stop_reading ? 0 : POLLIN;
	if (mosquitto_want_write(c->mosq))
		pfd->events |= POLLOUT;
}

int conn_timeout_ms(struct conn *c)
{
	int64_t now = time_mono_ms(), until;
	switch (c->state) {
	case CONN_WAITING: until = c->retry_at - now; break;
	case CONN_CONNECTING:
	case CONN_CLOSING: until = c->deadline - now; break;
	case CONN_UP:
		until = 1000; /* keepalive is kept in whole seconds */
		if (c->lowat > 1 && !c->stop_reading) /* the read on the capped wait */
			until = (c->lowat_due - time_mono_us() + 999) / 1000;
		break;
	default: return -1;
	}
	if (until < 0)
		return 0;
	return until > 1000 ? 1000 : (int)until;
}

static void set_lowat(struct conn *c, int fd, int lowat)
{
	if (lowat == c->lowat)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof lowat) != 0) {
		c->stream = false; /* not on this system: wake for every byte */
		return;
	}
	if (c->lowat <= 1) {
		c->lowat_paid = false;
		mqmon_debug("busy stream: reading in batches (up to %d ms or %d bytes)", STREAM_WAIT_MS, lowat);
	} else if (lowat == 1)
		mqmon_debug("quiet stream: reading every message at once");
	c->lowat = lowat;
}

/* After a read of a stream connection: move the low-water mark.  While it
 * is 1, the bytes read within STREAM_WAIT_MS say whether the stream is
 * busy; then the mark starts below that amount.  A wake at the mark
 * doubles it (up to STREAM_LOWAT_MAX); a read on the capped wait sets it
 * to 3/4 of what came in meanwhile (the next wake then comes a little
 * before the wait ends, also when the broker's flow control, e.g. a
 * receive maximum at QoS 1, lets less through), and drops it back to 1
 * when that was less than STREAM_BUSY_BYTES: an idle or slow stream wakes
 * us for every message again.  When the first wait gathered too little, the
 * peer was waiting for us (a request/response loop, as mqmon-cmd --batch
 * with the responder): batching is then held off for 50 ms, doubled each
 * time up to 2 s, so such a loop pays a 2 ms wait rarely. */
static void stream_adapt(struct conn *c, int fd, size_t bytes, bool at_mark)
{
	int64_t now = time_mono_us();
	size_t want = 1;
	if (c->lowat > 1) {
		if (at_mark)
			want = (size_t)c->lowat * 2;
		else if (bytes >= STREAM_BUSY_BYTES)
			want = bytes / 4 * 3;
		if (want > 1) {
			c->lowat_paid = true;
			c->holdoff = 0;
		} else if (!c->lowat_paid) {
			/* the first wait gathered too little: a peer that waits for
			 * our answer (a request/response loop), not a stream.
			 * Not again for a while, longer each time. */
			c->holdoff = c->holdoff ? c->holdoff * 2 : STREAM_HOLDOFF_MIN_US;
			if (c->holdoff > STREAM_HOLDOFF_MAX_US)
				c->holdoff = STREAM_HOLDOFF_MAX_US;
			c->busy_after = now + c->holdoff;
		}
	} else if (now >= c->busy_after) {
		if (now - c->window_start > STREAM_WAIT_MS * 1000) {
			c->window_start = now;
			c->window_bytes = 0;
		}
		c->window_bytes += bytes;
		if (c->window_bytes >= STREAM_BUSY_BYTES)
			want = c->window_bytes / 4 * 3;
	}
	if (want > STREAM_LOWAT_MAX)
		want = STREAM_LOWAT_MAX;
	if (want == 1) {
		c->window_start = now;
		c->window_bytes = 0;
	}
	set_lowat(c, fd, (int)want);
	c->lowat_due = now + STREAM_WAIT_MS * 1000;
}

static bool cork(int fd, int on)
{
#ifdef TCP_CORK
	return fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0;
#else
	(void)fd;
	(void)on;
	return false;
#endif
}

/* Reading drains the socket: libmosquitto handles one packet per call
 * when nothing is queued, so a burst would otherwise cost a poll() per
 * message.  errno tells an empty socket from a completed packet.
 * libmosquitto 2.0 reads each packet straight from the socket (no read
 * buffer of its own), so after EAGAIN nothing waits but in the socket,
 * where poll() sees it (or, below the low-water mark, the capped wait). */
static int read_packets(struct conn *c, bool at_mark)
{
	c->read_bytes = 0;
	int rc = MOSQ_ERR_SUCCESS;
	int fd = mosquitto_socket(c->mosq);
	/* A busy stream's acks (PUBACK at QoS 1) leave in one segment per
	 * read, not one each: what the broker reads, it reads at once. */
	bool corked = c->stream && c->lowat > 1 && cork(fd, 1);
	for (int i = 0; i < READ_BURST; i++) {
		errno = 0;
		rc = mosquitto_loop_read(c->mosq, 1);
		if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(c->mosq) < 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (c->state == CONN_DOWN || c->stop_reading)
			break;
	}
	if (corked && mosquitto_socket(c->mosq) == fd)
		cork(fd, 0);
	if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(c->mosq) < 0 || c->state == CONN_DOWN || c->stop_reading)
		return rc;
	fd = mosquitto_socket(c->mosq);
	if (c->stream && c->state == CONN_UP && fd >= 0)
		stream_adapt(c, fd, c->read_bytes, at_mark);
	/* Linux leaves quick-ack mode after use: re-armed per read, for the
	 * connections that asked (conn_set_quickack) */
	if (c->quickack && fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
	}
	return MOSQ_ERR_SUCCESS;
}

void conn_handle(struct conn *c, short revents)
{
	int64_t now = time_mono_ms();
	if (c->state == CONN_WAITING) {
		if (now >= c->retry_at)
			attempt(c);
		return;
	}
	if (c->state == CONN_DOWN)
		return;
	if (c->state == CONN_CLOSING &&
	    ((c->stop_reading && (revents & (POLLERR | POLLHUP))) || mosquitto_socket(c->mosq) < 0)) {
		go_down(c, MQMON_EXIT_OK); /* the broker closed first: nothing left to say */
		return;
	}
	int rc = MOSQ_ERR_SUCCESS;
	if ((revents & POLLIN) || ((revents & (POLLERR | POLLHUP)) && !c->stop_reading))
		rc = read_packets(c, true);
	else if (c->lowat > 1 && c->state == CONN_UP && !c->stop_reading && time_mono_us() >= c->lowat_due)
		rc = read_packets(c, false); /* the capped wait: what is below the mark */
	if (c->state == CONN_DOWN || c->state == CONN_WAITING)
		return;
	if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT) && mosquitto_socket(c->mosq) >= 0)
		rc = mosquitto_loop_write(c->mosq, 1);
	if (c->state == CONN_DOWN || c->state == CONN_WAITING)
		return;
	if (rc != MOSQ_ERR_SUCCESS && mosquitto_socket(c->mosq) < 0) {
		/* closed without the disconnect callback: libmosquitto 2.0 does
		 * that when a TLS handshake fails */
		connection_failed(c, c->lib_error[0] ? c->lib_error : conn_strerror(rc));
		return;
	}
	if (mosquitto_socket(c->mosq) >= 0)
		mosquitto_loop_misc(c->mosq);
	if (c->state == CONN_CONNECTING && now >= c->deadline) {
		c->aborting = true;
		mosquitto_disconnect(c->mosq);
		if (c->state == CONN_CONNECTING) /* nothing was sent: no callback */
			connection_failed(c, "timed out waiting for the broker");
	} else if (c->state == CONN_CLOSING && now >= c->deadline) {
		mqmon_warn("the broker did not take the disconnect in time");
		go_down(c, MQMON_EXIT_OK);
	}
}

void conn_set_quickack(struct conn *c, bool on)
{
	c->quickack = on;
}

void conn_set_stream(struct conn *c, bool on)
{
	c->stream = on;
}

void conn_stop_reading(struct conn *c)
{
	c->stop_reading = true;
}

void conn_disconnect(struct conn *c)
{
	if (c->state != CONN_UP) {
		go_down(c, c->state == CONN_DOWN ? c->exit_status : MQMON_EXIT_OK);
		return;
	}
	c->state = CONN_CLOSING;
	double limit = c->o->connect_timeout > 0 ? c->o->connect_timeout : 10;
	c->deadline = time_mono_ms() + (int64_t)(limit * 1000);
	int rc = mosquitto_disconnect_v5(c->mosq, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS && c->state == CONN_CLOSING)
		go_down(c, MQMON_EXIT_OK);
}
