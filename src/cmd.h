/*
 * cmd.h — mqmon-cmd's engine: send a device a command and wait for its
 * acknowledgement (SPEC §3), for one command, a batch, the REPL alike.
 *
 * A command is published to the cmd topic (a template: {device},
 * {command}) as a JSON object with a fresh id.  Its ack comes on the ack
 * topic, which the engine subscribes to with {device} as '+' before the
 * first command goes.  With MQTT 5 the command carries the ack topic as
 * its response topic and the id as its correlation data, and an answer
 * with that correlation data is ours; otherwise, and also, the answer's id
 * member (--id-field) says which command it answers.  Each attempt waits
 * --timeout for any answer, then the same command (same id) is sent again,
 * up to --retries times; a progress report (accepted, queued …) stops the
 * resending and waits up to --done-timeout for the final ack.  Answers for
 * other ids, late ones and duplicates are ignored.
 *
 * The engine writes progress and result events through the caller's sink
 * and tells the caller each result.
 */
#ifndef MQMON_CMD_H
#define MQMON_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <mosquitto.h>

#include "buf.h"
#include "conn.h"
#include "loop.h"

struct cmd_opts {
	const char *cmd_topic; /* "devices/{device}/command" */
	const char *ack_topic; /* "devices/{device}/response" */
	const char *id_field; /* "id" */
	double timeout; /* seconds per attempt without any answer (5) */
	double done_timeout; /* seconds to wait for the final ack after a progress report (60) */
	int retries; /* sends after the first (2) */
	int qos;
	bool v5; /* response topic and correlation data on the command */
	bool events; /* connected/disconnected events too */
};

enum cmd_status { CMD_ACKED, CMD_NACKED, CMD_TIMEOUT, CMD_SKIPPED };

struct cmd_result {
	const char *id; /* NULL for a command never sent (skipped) */
	const char *device, *command;
	enum cmd_status status;
	int attempts;
	double latency_ms; /* first publish to the ack; < 0 when there was none */
	struct json_object *response; /* the ack's body, or NULL */
	unsigned long tag; /* the caller's (a batch line number) */
};

struct cmd_handlers {
	void *ctx;
	/* An event line (progress, result, connected …) to print. */
	void (*on_event)(void *ctx, const char *line, size_t len);
	/* A command has ended (after its result event). */
	void (*on_result)(void *ctx, const struct cmd_result *r);
	/* The ack topic is subscribed: commands can go (after each connect). */
	void (*on_ready)(void *ctx);
	/* A message that is not an answer of ours (the REPL's watch). */
	void (*on_message)(void *ctx, const struct mosquitto_message *m);
};

struct cmd_engine;

/* The engine drives conn (its handlers are the engine's) in loop l.  The
 * connection gets TCP_QUICKACK: it waits for answers. */
struct cmd_engine *cmd_engine_new(const struct cmd_opts *o, const struct conn_opts *co, struct loop *l,
                                  const struct cmd_handlers *h);
void cmd_engine_free(struct cmd_engine *e);
struct conn *cmd_engine_conn(struct cmd_engine *e);
/* Subscribed and connected: a command sent now is answered. */
bool cmd_engine_ready(const struct cmd_engine *e);

/* Send COMMAND to DEVICE.  params (may be NULL) is taken over.  Returns
 * the id (valid until the result), or NULL with *why when the device or
 * command cannot be a topic level ("the device 'a/b' contains '/'"). */
const char *cmd_engine_send(struct cmd_engine *e, const char *device, const char *command, struct json_object *params,
                            unsigned long tag, const char **why);
/* Commands sent and not yet ended. */
size_t cmd_engine_pending(const struct cmd_engine *e);
/* Stop waiting for every command: with report, each ends with a timeout
 * result (SIGINT, SIGTERM); without, silently (the REPL's Ctrl-C).
 * Answers that come later are ignored.  Returns how many. */
size_t cmd_engine_give_up(struct cmd_engine *e, bool report);
/* Subscribe to another filter, or leave it (the REPL's watch). */
void cmd_engine_watch(struct cmd_engine *e, const char *filter, bool on);

/* The result event of a command never sent. */
void cmd_engine_skipped(struct cmd_engine *e, const char *device, const char *command, unsigned long tag);

const char *cmd_status_name(enum cmd_status s);

#endif
