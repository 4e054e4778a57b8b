/*
 * cmdproto.c — command objects and acks, with json-c.  Values keep the
 * spelling they came with (json-c prints a parsed 27.60 as 27.60).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdproto.h"
#include "json.h"
#include "mqmon.h"
#include "rng.h"
#include "timeutil.h"

#define TEXT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

const char *cmdproto_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, TEXT_FLAGS);
}

/* json-c takes NaN and Infinity even in strict mode; JSON has neither. */
static bool all_finite(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double: return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!all_finite(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			if (!all_finite(v))
				return false;
		}
		return true;
	}
	default: return true;
	}
}

struct json_object *cmdproto_parse(const char *p, size_t n)
{
	/* the grammar the envelope readers use first: json-c lets raw control
	 * characters and some invalid UTF-8 (overlong, surrogates) through */
	if (!json_validate(p, n, NULL))
		return NULL;
	/* the tokener wants the end marked: a NUL-terminated copy, its length
	 * with the NUL, so a bare 2.5 is complete */
	char *z = xmalloc(n + 1);
	memcpy(z, p, n);
	z[n] = '\0';
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = tok ? json_tokener_parse_ex(tok, z, (int)n + 1) : NULL;
	bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
	             json_skip_ws(z, n, json_tokener_get_parse_end(tok)) == n;
	if (!whole || memchr(z, '\0', n) || !all_finite(o)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	free(z);
	return o;
}

bool cmdproto_param(struct json_object *params, const char *kv, const char **why)
{
	const char *eq = strchr(kv, '=');
	if (!eq) {
		*why = "a parameter is KEY=VALUE, such as amount=2.5";
		return false;
	}
	if (eq == kv) {
		*why = "a parameter needs a KEY before '='";
		return false;
	}
	size_t vlen = strlen(eq + 1);
	struct json_object *v = vlen ? cmdproto_parse(eq + 1, vlen) : NULL;
	if (!v && !(vlen == 4 && strcmp(eq + 1, "null") == 0))
		v = json_object_new_string(eq + 1); /* not JSON: a string */
	char *key = xstrndup(kv, (size_t)(eq - kv));
	json_object_object_add(params, key, v);
	free(key);
	return true;
}

struct json_object *cmdproto_params(const char *json, const char **why)
{
	struct json_object *o = cmdproto_parse(json, strlen(json));
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*why = "--params takes a JSON object, such as '{\"amount\":2.5}'";
		return NULL;
	}
	return o;
}

static void add_string(struct buf *out, const char *key, const char *val)
{
	buf_printf(out, ",\"%s\":", key);
	json_write_text(out, val, strlen(val));
}

void cmdproto_command(struct buf *out, const char *id_field, const char *id, const char *command,
                      struct json_object *params, int64_t ts_ms)
{
	char ts[TIME_RFC3339_LEN + 1];
	time_format_ms(ts_ms, ts);
	buf_addc(out, '{');
	json_write_text(out, id_field, strlen(id_field));
	buf_addc(out, ':');
	json_write_text(out, id, strlen(id));
	add_string(out, "command", command);
	buf_adds(out, ",\"params\":");
	buf_adds(out, params ? cmdproto_text(params) : "{}");
	add_string(out, "ts", ts);
	buf_addc(out, '}');
}

enum cmdproto_class cmdproto_classify(struct json_object *status)
{
	static const char *const positive[] = {"ok", "success", "acked", "done", "true"};
	static const char *const negative[] = {"error", "failed", "nack", "rejected", "false"};
	static const char *const progress[] = {"accepted", "queued", "in_progress", "progress"};
	if (json_object_is_type(status, json_type_boolean))
		return json_object_get_boolean(status) ? CMDPROTO_POSITIVE : CMDPROTO_NEGATIVE;
	if (!json_object_is_type(status, json_type_string))
		return CMDPROTO_UNKNOWN;
	const char *s = json_object_get_string(status);
	for (size_t i = 0; i < MQMON_ARRAY_LEN(positive); i++)
		if (strcasecmp(s, positive[i]) == 0)
			return CMDPROTO_POSITIVE;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(negative); i++)
		if (strcasecmp(s, negative[i]) == 0)
			return CMDPROTO_NEGATIVE;
	for (size_t i = 0; i < MQMON_ARRAY_LEN(progress); i++)
		if (strcasecmp(s, progress[i]) == 0)
			return CMDPROTO_PROGRESS;
	return CMDPROTO_UNKNOWN;
}

bool cmdproto_read(struct cmdproto_msg *msg, const char *p, size_t n, const char *id_field)
{
	memset(msg, 0, sizeof *msg);
	msg->root = cmdproto_parse(p, n);
	if (!msg->root || !json_object_is_type(msg->root, json_type_object)) {
		cmdproto_msg_free(msg);
		return false;
	}
	struct json_object *v;
	if (json_object_object_get_ex(msg->root, id_field, &v)) {
		if (json_object_is_type(v, json_type_string))
			msg->id = json_object_get_string(v);
		else if (json_object_is_type(v, json_type_int)) {
			snprintf(msg->id_text, sizeof msg->id_text, "%s", cmdproto_text(v));
			msg->id = msg->id_text;
		}
	}
	json_object_object_get_ex(msg->root, "status", &msg->status);
	if (json_object_object_get_ex(msg->root, "command", &v) && json_object_is_type(v, json_type_string)) {
		msg->command = json_object_get_string(v);
		msg->command_len = (size_t)json_object_get_string_len(v);
	}
	if (json_object_object_get_ex(msg->root, "params", &v))
		msg->params = v;
	return true;
}

void cmdproto_msg_free(struct cmdproto_msg *msg)
{
	json_object_put(msg->root);
	memset(msg, 0, sizeof *msg);
}

void cmdproto_ack(struct buf *out, const char *id_field, const char *id, const char *status, const char *command,
                  struct json_object *params)
{
	buf_addc(out, '{');
	json_write_text(out, id_field, strlen(id_field));
	buf_addc(out, ':');
	json_write_text(out, id, strlen(id));
	add_string(out, "status", status);
	if (command)
		add_string(out, "command", command);
	if (params) {
		buf_adds(out, ",\"params\":");
		buf_adds(out, cmdproto_text(params));
	}
	buf_addc(out, '}');
}

void cmdproto_new_id(char out[37])
{
	static struct rng rng;
	if (!rng.state)
		rng_seed_unique(&rng);
	uint64_t hi = rng_next(&rng), lo = rng_next(&rng);
	/* version 4, variant 10 */
	hi = (hi & ~0xF000ULL) | 0x4000ULL;
	lo = (lo & ~(3ULL << 62)) | (2ULL << 62);
	snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32), (unsigned)(hi >> 16) & 0xFFFF,
	         (unsigned)hi & 0xFFFF, (unsigned)(lo >> 48), (unsigned long long)(lo & 0xFFFFFFFFFFFFULL));
}
