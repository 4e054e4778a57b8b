/*
 * props.h — MQTT 5 properties between libmosquitto's property lists and the
 * envelope's "props" object (SPEC §1).
 */
#ifndef MQMON_PROPS_H
#define MQMON_PROPS_H

#include <stdbool.h>

#include <mosquitto.h>

#include "envelope.h"

/* Holds the copies libmosquitto hands out while reading properties. */
struct props_reader {
	struct envelope_props props;
	struct envelope_user_prop *user;
	size_t user_cap;
	char **owned;
	size_t nowned, owned_cap;
};

void props_reader_init(struct props_reader *r);
void props_reader_free(struct props_reader *r);
/* Read the PUBLISH properties envelopes show.  Returns NULL when there are
 * none, else r->props (valid until the next call). */
const struct envelope_props *props_read(struct props_reader *r, const mosquitto_property *list);

/* Build a PUBLISH property list; *out must be freed with
 * mosquitto_property_free_all().  Returns false with *why on a value
 * libmosquitto refuses. */
bool props_build(const struct envelope_props *p, mosquitto_property **out, const char **why);

#endif
