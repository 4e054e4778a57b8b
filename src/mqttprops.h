/*
 * mqttprops.h — MQTT 5 properties between libmosquitto's property lists and the
 * envelope's "props" object (SPEC §1).
 */
#ifndef MQMON_MQTTPROPS_H
#define MQMON_MQTTPROPS_H

#include <stdbool.h>

#include <mosquitto.h>

#include "props.h"

/* Holds the copies libmosquitto hands out while reading properties. */
struct mqttprops_reader {
	struct props props;
	struct props_user *user;
	size_t user_cap;
	char **owned;
	size_t nowned, owned_cap;
};

void mqttprops_reader_init(struct mqttprops_reader *r);
void mqttprops_reader_free(struct mqttprops_reader *r);
/* Read the PUBLISH properties envelopes show.  Returns NULL when there are
 * none, else r->props (valid until the next call). */
const struct props *mqttprops_read(struct mqttprops_reader *r, const mosquitto_property *list);

/* Build a PUBLISH property list; *out must be freed with
 * mosquitto_property_free_all().  Returns false with *why on a value
 * libmosquitto refuses. */
bool mqttprops_build(const struct props *p, mosquitto_property **out, const char **why);

#endif
