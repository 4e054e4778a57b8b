/*
 * conn.h — the MQTT connection every connecting program shares: libmosquitto
 * driven by the shared event loop (loop.h: so stdin, timers and signals live
 * in the same loop as the socket), MQTT 5 by default, TLS, credentials,
 * will, a connect timeout, and reconnection with exponential backoff and
 * jitter.  Connection changes are logged as SPEC §2 says:
 *   "connected to HOST:PORT", "connection lost: REASON; retrying in 4 s".
 */
#ifndef MQMON_CONN_H
#define MQMON_CONN_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <mosquitto.h>

struct conn_opts {
	char *host; /* "localhost" */
	int port; /* 0 until resolved: 1883, or 8883 with TLS */
	char *username;
	char *password;
	char *id; /* client id; NULL lets the broker/libmosquitto pick */
	bool clean; /* false with -c/--no-clean */
	int keepalive; /* seconds, 60 */
	int protocol; /* 5, 311 or 31 */
	int qos; /* 0 */
	bool tls; /* mqtts:// or any TLS option given */
	char *cafile, *capath, *cert, *key, *tls_version;
	bool insecure;
	char *will_topic, *will_payload;
	int will_qos;
	bool will_retain;
	double reconnect_min, reconnect_max; /* seconds, 1 and 60 */
	bool reconnect; /* false with --no-reconnect */
	/* Retry until the first connection succeeds (true, the default); false
	 * makes the start one attempt, as mosquitto_pub's: a failure is final
	 * (status 1), while a connection lost later is still retried unless
	 * reconnect is false.  For one-shot publishes. */
	bool retry_start;
	double connect_timeout; /* seconds, 10; 0 = wait forever */
};

void conn_opts_init(struct conn_opts *o);
void conn_opts_free(struct conn_opts *o);
/* Fill in what depends on other settings (the TLS port); returns false
 * with a message in why for contradictory settings. */
bool conn_opts_finish(struct conn_opts *o, const char **why);

/* What a program hears from its connection.  All optional. */
struct conn_handlers {
	void *ctx;
	/* CONNACK accepted: subscribe here (this runs after every reconnect). */
	void (*on_connect)(void *ctx, bool session_present);
	/* The connection went away: lost (true, with the reason also logged)
	 * or closed as we asked (false, reason NULL). */
	void (*on_disconnect)(void *ctx, bool lost, const char *reason);
	void (*on_message)(void *ctx, const struct mosquitto_message *m, const mosquitto_property *props);
	void (*on_publish)(void *ctx, int mid, int reason_code);
	void (*on_subscribe)(void *ctx, int mid, int qos_count, const int *granted);
	/* An attempt failed or an established connection was lost (lost);
	 * final when no retry follows (CONN_DOWN).  When set, the connection
	 * does not log its failures, retries and reconnections itself: the
	 * program reports them, as mqmon-pub --simulate does once for all its
	 * devices. */
	void (*on_failure)(void *ctx, const char *reason, bool lost, bool final);
};

enum conn_state {
	CONN_CONNECTING, /* TCP/TLS/CONNECT under way */
	CONN_UP, /* CONNACK accepted */
	CONN_WAITING, /* lost; a retry is scheduled */
	CONN_CLOSING, /* DISCONNECT sent, flushing */
	CONN_DOWN, /* closed for good: see conn_exit_status() */
};

struct conn;

/* Create the client (libmosquitto is initialised on first use).  Exits
 * with status 2 for settings libmosquitto rejects (e.g. a TLS file that
 * cannot be read), naming the setting. */
struct conn *conn_new(const struct conn_opts *o, const struct conn_handlers *h);
void conn_free(struct conn *c);
struct mosquitto *conn_mosq(struct conn *c);

/* Start connecting.  Failures are handled by the loop (retry or give up). */
void conn_start(struct conn *c);

/* The event-loop side: conn_pollfd() fills the socket's pollfd (fd -1 while
 * there is no socket) and conn_timeout_ms() says how long poll may sleep;
 * after poll, conn_handle() services the socket, keepalive and retries. */
void conn_pollfd(struct conn *c, struct pollfd *pfd);
int conn_timeout_ms(struct conn *c);
void conn_handle(struct conn *c, short revents);

enum conn_state conn_state(const struct conn *c);
static inline bool conn_is_up(const struct conn *c)
{
	return conn_state(c) == CONN_UP;
}
/* Once CONN_DOWN: 0 after a requested disconnect, 1 after a failure. */
int conn_exit_status(const struct conn *c);
/* A printable "host:port". */
const char *conn_address(const struct conn *c);

/* Re-arm TCP_QUICKACK after every read: for connections that wait for
 * answers (mqmon-cmd, its responder), so that Nagle on the broker and a
 * delayed ACK here do not stall each round trip by ~40 ms.  Not for bulk
 * streams, where it costs CPU on both sides. */
void conn_set_quickack(struct conn *c, bool on);

/* A connection that reads a stream of messages (mqmon-sub, mqmon-status
 * -t, the responder): while messages arrive fast, SO_RCVLOWAT lets poll()
 * wake only once several kilobytes are queued, or after at most 2 ms, so
 * the broker does not pay to wake us for every message; an idle or slow
 * stream still wakes at once.  Not for connections that wait for acks. */
void conn_set_stream(struct conn *c, bool on);

/* Stop reading from the broker (for good): what it sends from now on is
 * neither read nor acknowledged, so a persistent session keeps it for the
 * next run.  For -C: the messages after the last one wanted are not lost. */
void conn_stop_reading(struct conn *c);

/* Send DISCONNECT (normal, so the broker does not publish the will) and go
 * to CONN_CLOSING; the loop reaches CONN_DOWN once it is written. */
void conn_disconnect(struct conn *c);

/* The wait before retry number failures+1 (seconds): the step doubles from
 * min up to max, and the wait is drawn from [step/2, step] by u in [0, 1),
 * never below min. */
double conn_backoff_delay(double min, double max, unsigned failures, double u);

/* Human text for a libmosquitto error or a CONNACK reason code. */
const char *conn_strerror(int rc);

#endif
