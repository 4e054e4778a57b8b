/*
 * publisher.h — publishing with flow control, shared by every program that
 * sends messages: a cap on messages awaiting their acknowledgement
 * (--max-inflight), a rate cap (--rate, a token bucket), and the
 * bookkeeping that lets a program exit only after the last ack.
 *
 * A QoS 1/2 message that libmosquitto accepted stays in its queue across a
 * lost connection and is re-sent after the reconnect, so "outstanding"
 * counts it until the broker acknowledges it.
 */
#ifndef MQMON_PUBLISHER_H
#define MQMON_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* A token bucket: at most rate events per second, bursts of at most a
 * tenth of a second's worth, so the rate stays even. */
struct ratelimit {
	double rate; /* per second, 0 = no limit */
	double tokens;
	int64_t refilled_ms;
};
void ratelimit_init(struct ratelimit *r, double rate);
bool ratelimit_ready(struct ratelimit *r);
void ratelimit_take(struct ratelimit *r);
/* ms until ratelimit_ready() turns true (0 = now). */
int ratelimit_wait_ms(struct ratelimit *r);

struct publisher {
	struct conn *conn;
	long max_inflight; /* cap on outstanding messages */
	long outstanding; /* accepted, not yet acknowledged (QoS 0: not yet written) */
	long outstanding_qos0;
	uint64_t unacked_mids[65536 / 64]; /* mids of QoS 1/2 messages awaiting their ack */
	struct ratelimit rate;
	unsigned long published; /* accepted by libmosquitto */
	unsigned long acked; /* acknowledged (QoS 0: written) */
	unsigned long refused; /* negative PUBACK/PUBREC from an MQTT 5 broker */
};

void publisher_init(struct publisher *p, struct conn *conn, long max_inflight, double rate);

/* May one more message go out now: connected, under the in-flight cap and
 * the rate? */
bool publisher_ready(struct publisher *p);
/* How long until the rate allows the next message (ms, 0 = now). */
int publisher_wait_ms(struct publisher *p);

/* Publish.  Returns MOSQ_ERR_SUCCESS when the message is on its way (for
 * QoS 1/2 also when the connection just dropped: it is queued and re-sent);
 * MOSQ_ERR_NO_CONN for a QoS 0 message that could not go out now (keep it
 * and try again once connected); else the libmosquitto error for a message
 * that cannot be sent as it is (oversize, bad UTF-8, QoS above the broker's
 * maximum …). */
int publisher_send(struct publisher *p, const char *topic, const void *payload, size_t len, int qos, bool retain,
                   const mosquitto_property *props);

/* Call from the connection's on_publish handler. */
void publisher_acked(struct publisher *p, int mid, int reason_code);
/* The two as connection handlers (conn_handlers.ctx = the publisher), for
 * a program whose connection only publishes. */
void publisher_on_publish(void *publisher, int mid, int reason_code);
void publisher_on_disconnect(void *publisher, bool lost, const char *reason);

static inline bool publisher_idle(const struct publisher *p)
{
	return p->outstanding == 0;
}

#endif
