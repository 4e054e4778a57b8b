/*
 * mqttprops.c — MQTT 5 PUBLISH properties <-> envelope props.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "mqmon.h"
#include "mqttprops.h"

void mqttprops_reader_init(struct mqttprops_reader *r)
{
	memset(r, 0, sizeof *r);
}

static void release(struct mqttprops_reader *r)
{
	for (size_t i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	r->nowned = 0;
}

void mqttprops_reader_free(struct mqttprops_reader *r)
{
	release(r);
	free(r->owned);
	free(r->user);
	memset(r, 0, sizeof *r);
}

static void own(struct mqttprops_reader *r, void *p)
{
	if (r->nowned == r->owned_cap) {
		r->owned_cap = r->owned_cap ? r->owned_cap * 2 : 16;
		r->owned = xrealloc(r->owned, r->owned_cap * sizeof *r->owned);
	}
	r->owned[r->nowned++] = p;
}

const struct props *mqttprops_read(struct mqttprops_reader *r, const mosquitto_property *list)
{
	if (!list)
		return NULL;
	release(r);
	struct props *p = &r->props;
	memset(p, 0, sizeof *p);
	bool any = false;
	for (const mosquitto_property *q = list; q; q = mosquitto_property_next(q)) {
		int id = mosquitto_property_identifier(q);
		char *s = NULL, *k = NULL;
		void *bin = NULL;
		uint16_t blen;
		uint32_t u32;
		uint8_t u8;
		switch (id) {
		case MQTT_PROP_CONTENT_TYPE:
			if (mosquitto_property_read_string(q, id, &s, false)) {
				own(r, s);
				p->content_type = s;
				p->content_type_len = strlen(s);
				any = true;
			}
			break;
		case MQTT_PROP_RESPONSE_TOPIC:
			if (mosquitto_property_read_string(q, id, &s, false)) {
				own(r, s);
				p->response_topic = s;
				p->response_topic_len = strlen(s);
				any = true;
			}
			break;
		case MQTT_PROP_CORRELATION_DATA:
			if (mosquitto_property_read_binary(q, id, &bin, &blen, false)) {
				own(r, bin);
				p->correlation = bin ? bin : "";
				p->correlation_len = blen;
				any = true;
			}
			break;
		case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
			if (mosquitto_property_read_int32(q, id, &u32, false)) {
				p->has_expiry = true;
				p->message_expiry = u32;
				any = true;
			}
			break;
		case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
			if (mosquitto_property_read_byte(q, id, &u8, false)) {
				p->has_payload_format = true;
				p->payload_format = u8;
				any = true;
			}
			break;
		case MQTT_PROP_USER_PROPERTY:
			if (mosquitto_property_read_string_pair(q, id, &k, &s, false)) {
				own(r, k);
				own(r, s);
				if (p->nuser == r->user_cap) {
					r->user_cap = r->user_cap ? r->user_cap * 2 : 8;
					r->user = xrealloc(r->user, r->user_cap * sizeof *r->user);
				}
				r->user[p->nuser++] = (struct props_user){k, strlen(k), s, strlen(s)};
				any = true;
			}
			break;
		default: break; /* topic alias, subscription id: transport details */
		}
	}
	p->user = r->user;
	return any ? p : NULL;
}

static bool add_string(mosquitto_property **out, int id, const char *s, size_t n, const char **why, const char *what)
{
	char *z = xstrndup(s, n);
	int rc = strlen(z) != n ? MOSQ_ERR_MALFORMED_UTF8 : mosquitto_property_add_string(out, id, z);
	free(z);
	if (rc) {
		*why = what;
		return false;
	}
	return true;
}

bool mqttprops_build(const struct props *p, mosquitto_property **out, const char **why)
{
	*out = NULL;
	if (!p)
		return true;
	if (p->content_type && !add_string(out, MQTT_PROP_CONTENT_TYPE, p->content_type, p->content_type_len, why,
	                                   "\"props.content_type\" is not a valid MQTT string"))
		goto fail;
	if (p->response_topic && !add_string(out, MQTT_PROP_RESPONSE_TOPIC, p->response_topic, p->response_topic_len,
	                                     why, "\"props.response_topic\" is not a valid topic"))
		goto fail;
	if (p->correlation) {
		if (p->correlation_len > 65535 ||
		    mosquitto_property_add_binary(out, MQTT_PROP_CORRELATION_DATA, p->correlation,
		                                  (uint16_t)p->correlation_len)) {
			*why = "\"props.correlation_data\" is longer than 65535 bytes";
			goto fail;
		}
	}
	if (p->has_expiry && mosquitto_property_add_int32(out, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p->message_expiry)) {
		*why = "\"props.message_expiry\" is not acceptable";
		goto fail;
	}
	if (p->has_payload_format &&
	    mosquitto_property_add_byte(out, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, (uint8_t)p->payload_format)) {
		*why = "\"props.payload_format\" is not acceptable";
		goto fail;
	}
	for (size_t i = 0; i < p->nuser; i++) {
		char *k = xstrndup(p->user[i].key, p->user[i].key_len);
		char *v = xstrndup(p->user[i].val, p->user[i].val_len);
		int rc = strlen(k) != p->user[i].key_len || strlen(v) != p->user[i].val_len
		                 ? MOSQ_ERR_MALFORMED_UTF8
		                 : mosquitto_property_add_string_pair(out, MQTT_PROP_USER_PROPERTY, k, v);
		free(k);
		free(v);
		if (rc) {
			*why = "\"props.user\" holds a string MQTT cannot carry";
			goto fail;
		}
	}
	return true;
fail:
	mosquitto_property_free_all(out);
	return false;
}
