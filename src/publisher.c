/*
 * publisher.c — flow-controlled publishing.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include "log.h"
#include "publisher.h"
#include "timeutil.h"

void ratelimit_init(struct ratelimit *r, double rate)
{
	r->rate = rate;
	r->tokens = rate > 0 ? 1 : 0;
	r->refilled_ms = time_mono_ms();
}

static void refill(struct ratelimit *r)
{
	int64_t now = time_mono_ms();
	r->tokens += (double)(now - r->refilled_ms) * r->rate / 1000.0;
	r->refilled_ms = now;
	double cap = r->rate / 10 > 1 ? r->rate / 10 : 1;
	if (r->tokens > cap)
		r->tokens = cap;
}

bool ratelimit_ready(struct ratelimit *r)
{
	if (r->rate <= 0)
		return true;
	refill(r);
	return r->tokens >= 1;
}

void ratelimit_take(struct ratelimit *r)
{
	if (r->rate > 0)
		r->tokens -= 1;
}

int ratelimit_wait_ms(struct ratelimit *r)
{
	if (r->rate <= 0)
		return 0;
	refill(r);
	if (r->tokens >= 1)
		return 0;
	double ms = (1 - r->tokens) * 1000.0 / r->rate;
	return ms < 1 ? 1 : ms > INT_MAX ? INT_MAX : (int)ms;
}

void publisher_init(struct publisher *p, struct conn *conn, long max_inflight, double rate)
{
	memset(p, 0, sizeof *p);
	p->conn = conn;
	p->max_inflight = max_inflight;
	ratelimit_init(&p->rate, rate);
	/* MQTT 3.1.1 has no Receive Maximum: libmosquitto's own window (20)
	 * would be the bottleneck, so open it to our cap. */
	mosquitto_int_option(conn_mosq(conn), MOSQ_OPT_SEND_MAXIMUM, max_inflight > 65535 ? 65535 : (int)max_inflight);
}

bool publisher_ready(struct publisher *p)
{
	return conn_is_up(p->conn) && p->outstanding < p->max_inflight && ratelimit_ready(&p->rate);
}

int publisher_wait_ms(struct publisher *p)
{
	return ratelimit_wait_ms(&p->rate);
}

/* The connection failed, not the message. */
static bool transport_error(int rc)
{
	return rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_TLS ||
	       rc == MOSQ_ERR_KEEPALIVE;
}

int publisher_send(struct publisher *p, const char *topic, const void *payload, size_t len, int qos, bool retain,
                   const mosquitto_property *props)
{
	if (len > INT_MAX)
		return MOSQ_ERR_PAYLOAD_SIZE;
	int mid = 0;
	/* counted first: with no network wait, on_publish for QoS 0 fires
	 * inside mosquitto_publish_v5 (QoS 1/2 acks need a later read) */
	p->outstanding++;
	if (qos == 0)
		p->outstanding_qos0++;
	int rc = mosquitto_publish_v5(conn_mosq(p->conn), &mid, topic, (int)len, payload, qos, retain, props);
	if (transport_error(rc))
		/* QoS 1/2: queued and re-sent after the reconnect; QoS 0: the
		 * caller keeps the message and tries again once connected */
		rc = qos > 0 ? MOSQ_ERR_SUCCESS : MOSQ_ERR_NO_CONN;
	if (rc != MOSQ_ERR_SUCCESS) {
		p->outstanding--;
		if (qos == 0)
			p->outstanding_qos0--;
		return rc;
	}
	p->published++;
	if (qos > 0)
		p->unacked_mids[(unsigned)mid / 64] |= 1ULL << ((unsigned)mid % 64);
	ratelimit_take(&p->rate);
	return rc;
}

void publisher_acked(struct publisher *p, int mid, int reason_code)
{
	uint64_t bit = 1ULL << ((unsigned)mid % 64);
	uint64_t *word = &p->unacked_mids[(unsigned)mid / 64 % (65536 / 64)];
	if (*word & bit)
		*word &= ~bit;
	else if (p->outstanding_qos0 > 0)
		p->outstanding_qos0--;
	if (p->outstanding > 0)
		p->outstanding--;
	p->acked++;
	if (reason_code >= 0x80) {
		p->refused++;
		mqmon_warn("the broker refused a message: %s", mosquitto_reason_string(reason_code));
	}
}

/* The connection is lost: unwritten QoS 0 messages are gone (at most
 * once), QoS 1/2 ones will be re-sent. */
static void connection_lost(struct publisher *p)
{
	p->outstanding -= p->outstanding_qos0;
	p->outstanding_qos0 = 0;
}

void publisher_on_publish(void *publisher, int mid, int reason_code)
{
	publisher_acked(publisher, mid, reason_code);
}

void publisher_on_disconnect(void *publisher, bool lost, const char *reason)
{
	(void)reason;
	if (lost)
		connection_lost(publisher);
}
