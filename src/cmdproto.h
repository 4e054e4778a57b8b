/*
 * cmdproto.h — the command/ack protocol of mqmon-cmd (SPEC §3), built and
 * read with json-c, the project's tree library:
 *
 *   command  {"id":"<uuid>","command":"relay","params":{"index":0},"ts":"…"}
 *   ack      {"id":"<uuid>","status":"ok",…}
 *
 * The id member is named by --id-field ("id"; Petal-style devices use
 * "messageId") in both.  An ack's status says how it went:
 * ok/success/acked/done/true are positive, error/failed/nack/rejected/false
 * negative, accepted/queued/in_progress/progress a progress report (a long
 * job goes on); anything else, or none, is unknown.
 */
#ifndef MQMON_CMDPROTO_H
#define MQMON_CMDPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"

enum cmdproto_class { CMDPROTO_POSITIVE, CMDPROTO_NEGATIVE, CMDPROTO_PROGRESS, CMDPROTO_UNKNOWN };

/* p[0..n) as one JSON value (bytes, not NUL-terminated), or NULL. */
struct json_object *cmdproto_parse(const char *p, size_t n);

/* Add "KEY=VALUE" to the params object: a VALUE that parses as JSON keeps
 * its type (amount=2.5 a number, on=true a boolean), anything else is a
 * string (name=abc).  false with *why for a missing '=' or an empty KEY. */
bool cmdproto_param(struct json_object *params, const char *kv, const char **why);
/* --params JSON: a new object, or NULL with *why when it is not one. */
struct json_object *cmdproto_params(const char *json, const char **why);

/* Append the command object's JSON text (params may be NULL: {}). */
void cmdproto_command(struct buf *out, const char *id_field, const char *id, const char *command,
                      struct json_object *params, int64_t ts_ms);

/* What a status member says. */
enum cmdproto_class cmdproto_classify(struct json_object *status);

/* A message read as a command or an ack: the object (owned), its id (a
 * string member, or a number as its text; NULL if none) and its status. */
struct cmdproto_msg {
	struct json_object *root;
	const char *id;
	char id_text[32]; /* a numeric id, as text */
	struct json_object *status; /* borrowed from root; NULL if none */
	const char *command; /* commands: the command member, or NULL */
	size_t command_len; /* more than strlen(command) when it holds a NUL */
	struct json_object *params; /* commands: borrowed; NULL if none */
};

/* Read p[0..n) as a JSON object.  false when it is not one. */
bool cmdproto_read(struct cmdproto_msg *msg, const char *p, size_t n, const char *id_field);
void cmdproto_msg_free(struct cmdproto_msg *msg);

/* Append an ack: {"<id_field>":id,"status":status,"command":…,"params":…}
 * (command and params left out when NULL). */
void cmdproto_ack(struct buf *out, const char *id_field, const char *id, const char *status, const char *command,
                  struct json_object *params);

/* A new random (version 4) UUID as 36 characters plus a NUL. */
void cmdproto_new_id(char out[37]);

/* json-c's compact text of o. */
const char *cmdproto_text(struct json_object *o);

#endif
