/*
 * fuzz_ack.c — the answers mqmon-cmd reads (cmdproto_read, with
 * cmdproto_parse and cmdproto_classify underneath) on a body of any bytes,
 * with the id member named "id" and "messageId" (Petal).  An answer it
 * reads is a JSON object whose text (what the progress and ack events
 * show as "response") is one line of valid JSON that reads back the same:
 * the same id and the same kind of status.  An ack written back with its
 * id and a string status reads back with that id and status too.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "buf.h"
#include "cmdproto.h"
#include "json.h"

#include "fuzz.h"

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static enum cmdproto_class class_of(const struct cmdproto_msg *m)
{
	return m->status ? cmdproto_classify(m->status) : CMDPROTO_UNKNOWN;
}

static void check_read(const uint8_t *data, size_t size, const char *id_field)
{
	struct cmdproto_msg m;
	if (!cmdproto_read(&m, (const char *)data, size, id_field)) {
		FUZZ_CHECK(m.root == NULL && m.id == NULL && m.status == NULL);
		return;
	}
	FUZZ_CHECK(json_object_is_type(m.root, json_type_object));
	/* JSON text has no NUL byte, so no id or command is cut short */
	FUZZ_CHECK(memchr(data, '\0', size) == NULL);
	enum cmdproto_class c = class_of(&m);
	FUZZ_CHECK(c == CMDPROTO_POSITIVE || c == CMDPROTO_NEGATIVE || c == CMDPROTO_PROGRESS || c == CMDPROTO_UNKNOWN);

	/* the event's "response": one line of JSON that reads back the same */
	const char *text = cmdproto_text(m.root);
	size_t tlen = strlen(text);
	struct json_err err;
	FUZZ_CHECK(json_validate(text, tlen, &err));
	FUZZ_CHECK(memchr(text, '\n', tlen) == NULL);
	struct cmdproto_msg again;
	FUZZ_CHECK(cmdproto_read(&again, text, tlen, id_field));
	FUZZ_CHECK(same_str(again.id, m.id));
	FUZZ_CHECK(same_str(again.command, m.command));
	FUZZ_CHECK(class_of(&again) == c);
	FUZZ_CHECK(strcmp(cmdproto_text(again.root), text) == 0);
	cmdproto_msg_free(&again);

	/* an ack as mqmon-cmd --respond would write it */
	if (m.id && json_object_is_type(m.status, json_type_string)) {
		const char *status = json_object_get_string(m.status);
		struct buf ack = BUF_INIT;
		cmdproto_ack(&ack, id_field, m.id, status, m.command, m.params);
		FUZZ_CHECK(json_validate(ack.data, ack.len, &err));
		FUZZ_CHECK(cmdproto_read(&again, ack.data, ack.len, id_field));
		/* a numeric id comes back as the same text, now a string */
		FUZZ_CHECK(same_str(again.id, m.id));
		FUZZ_CHECK(json_object_is_type(again.status, json_type_string));
		FUZZ_CHECK(strcmp(json_object_get_string(again.status), status) == 0);
		FUZZ_CHECK(class_of(&again) == c);
		FUZZ_CHECK(same_str(again.command, m.command));
		cmdproto_msg_free(&again);
		buf_free(&ack);
	}
	cmdproto_msg_free(&m);
	FUZZ_CHECK(m.root == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_read(data, size, "id");
	check_read(data, size, "messageId");
	return 0;
}
