/*
 * readahead.c — the batches and the thread.  The thread touches only the
 * batch in flight, the decoder and the meaning reader, and those only
 * while it runs; the first thread waits for it to be idle (worker.h)
 * before it uses any of them again.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mqmon.h"
#include "props.h"
#include "readahead.h"

void readahead_init(struct readahead *ra, const struct rules *rules)
{
	memset(ra, 0, sizeof *ra);
	ra->rules = rules;
	envelope_decoder_init(&ra->dec);
	meaning_reader_init(&ra->meaning);
	ra->fill = &ra->batches[0];
	if (pipe2(ra->notify, O_CLOEXEC | O_NONBLOCK) < 0) {
		ra->notify[0] = ra->notify[1] = -1;
		ra->thread_state = -1; /* no way to hear from it: no thread */
	}
}

/* ---- decoding one line ---- */

/* p kept: as it is when it points into the line (whose bytes the batch
 * holds already), else copied into the batch */
static const char *keep(struct read_batch *b, const struct line *ln, const char *p, size_t n)
{
	if (!p || (p >= ln->data && n <= ln->len && p - ln->data <= (ptrdiff_t)(ln->len - n)))
		return p;
	return arena_memdup(&b->arena, p, n);
}

/* Everything rl points to outside its line, copied into b: the decoder's
 * and the meaning reader's buffers are reused for the next line. */
static void keep_all(struct read_batch *b, struct read_line *rl)
{
	const struct line *ln = &rl->ln;
	struct envelope *e = &rl->e;
	struct meaning *m = &rl->m;
	if (rl->err)
		rl->err = arena_memdup(&b->arena, rl->err, strlen(rl->err));
	if (rl->kind != READ_MESSAGE)
		return;
	e->topic = keep(b, ln, e->topic, e->topic_len);
	e->payload = keep(b, ln, e->payload, e->payload_len);
	rl->props_json = keep(b, ln, rl->props_json, rl->props_json_len);
	m->device = keep(b, ln, m->device, m->device_len);
	m->key = keep(b, ln, m->key, m->key_len);
	m->status = keep(b, ln, m->status, m->status_len);
	m->ip = keep(b, ln, m->ip, m->ip_len);
	m->firmware = keep(b, ln, m->firmware, m->firmware_len);
	m->fields = keep(b, ln, m->fields, m->fields_len);
	m->value = keep(b, ln, m->value, m->value_len);
	m->extra = keep(b, ln, m->extra, m->extra_len);
	if (m->nmetrics) {
		struct meaning_metric *mm = arena_alloc(&b->arena, m->nmetrics * sizeof *mm);
		for (size_t i = 0; i < m->nmetrics; i++) {
			mm[i] = m->metrics[i];
			mm[i].name = keep(b, ln, mm[i].name, mm[i].name_len);
		}
		m->metrics = mm;
	}
}

/* rl->ln decoded into rl; its strings in the decoder and reader until
 * keep_all */
static void decode_line(struct readahead *ra, struct read_line *rl)
{
	const struct line *ln = &rl->ln;
	rl->err = NULL;
	rl->props_json = NULL;
	rl->props_json_len = 0;
	if (line_is_blank(ln)) {
		rl->kind = READ_BLANK;
		return;
	}
	switch (envelope_decode(&ra->dec, ln->data, ln->len, &rl->e, ra->err, sizeof ra->err)) {
	case ENVELOPE_EVENT: rl->kind = READ_EVENT; return;
	case ENVELOPE_ERROR:
		rl->kind = READ_ERROR;
		rl->err = ra->err;
		return;
	case ENVELOPE_OK: break;
	}
	if (!rl->e.topic) {
		rl->kind = READ_ERROR;
		rl->err = "no \"topic\"";
		return;
	}
	rl->kind = READ_MESSAGE;
	buf_reset(&ra->props);
	if (rl->e.props && props_write_json(&ra->props, rl->e.props)) {
		rl->props_json = ra->props.data;
		rl->props_json_len = ra->props.len;
	}
	rl->e.props = NULL;
	rl->m = *meaning_read(&ra->meaning, ra->rules, &rl->e);
}

static void decode_batch(struct readahead *ra, struct read_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		decode_line(ra, &b->lines[i]);
		keep_all(b, &b->lines[i]);
	}
}

/* ---- the batches ---- */

static void batch_reset(struct read_batch *b)
{
	if (!b)
		return;
	arena_reset(&b->arena);
	b->n = 0;
	b->bytes = 0;
}

static void batch_free(struct read_batch *b)
{
	arena_free(&b->arena);
	free(b->lines);
}

/* the batch that is none of the three in use */
static struct read_batch *spare(struct readahead *ra)
{
	for (size_t i = 0; i < MQMON_ARRAY_LEN(ra->batches); i++) {
		struct read_batch *b = &ra->batches[i];
		if (b != ra->fill && b != ra->flight && b != ra->out)
			return b;
	}
	return NULL; /* not reached: three batches, at most two taken */
}

bool readahead_add(struct readahead *ra, const struct line *ln)
{
	struct read_batch *b = ra->fill;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : READAHEAD_LINES;
		b->lines = xrealloc(b->lines, b->cap * sizeof *b->lines);
	}
	struct read_line *rl = &b->lines[b->n++];
	memset(rl, 0, sizeof *rl);
	rl->ln.data = arena_memdup(&b->arena, ln->data, ln->len);
	rl->ln.len = ln->len;
	rl->ln.lineno = ln->lineno;
	b->bytes += ln->len;
	return b->n >= READAHEAD_LINES || b->bytes >= READAHEAD_BYTES;
}

/* ---- the thread ---- */

static void decode_flight(void *ctx)
{
	struct readahead *ra = ctx;
	decode_batch(ra, ra->flight);
}

/* Started at the first batch handed over: a trickle never needs it. */
static bool start_thread(struct readahead *ra)
{
	if (ra->thread_state)
		return ra->thread_state > 0;
	bool ok = worker_start(&ra->thread, decode_flight, ra, ra->notify[1]);
	ra->thread_state = ok ? 1 : -1;
	if (ok)
		mqmon_debug("decoding input on a second thread, %d lines a batch", READAHEAD_LINES);
	else
		mqmon_debug("no second thread: decoding on this one");
	return ok;
}

/* The batch in flight, decoded (waited for); NULL if none. */
static struct read_batch *take_flight(struct readahead *ra)
{
	struct read_batch *b = ra->flight;
	if (!b)
		return NULL;
	if (ra->thread_state > 0)
		worker_wait_idle(&ra->thread);
	ra->flight = NULL;
	return b;
}

/* b becomes what the caller stores; the one it had is given back */
static const struct read_batch *hand_out(struct readahead *ra, struct read_batch *b)
{
	batch_reset(ra->out);
	ra->out = b;
	return b;
}

const struct read_batch *readahead_send(struct readahead *ra)
{
	struct read_batch *done = take_flight(ra);
	ra->flight = ra->fill;
	if (start_thread(ra))
		worker_ask(&ra->thread);
	else
		decode_batch(ra, ra->flight);
	hand_out(ra, done);
	ra->fill = spare(ra);
	return done;
}

const struct read_batch *readahead_flush(struct readahead *ra)
{
	struct read_batch *done = take_flight(ra);
	if (done || !ra->fill->n)
		return hand_out(ra, done);
	done = ra->fill;
	decode_batch(ra, done);
	hand_out(ra, done);
	ra->fill = spare(ra);
	return done;
}

bool readahead_pending(const struct readahead *ra)
{
	return ra->fill->n || ra->flight;
}

bool readahead_in_flight(const struct readahead *ra)
{
	return ra->flight;
}

int readahead_fd(const struct readahead *ra)
{
	return ra->thread_state < 0 ? -1 : ra->notify[0];
}

bool readahead_send_rest(struct readahead *ra)
{
	if (ra->flight || ra->fill->n < READAHEAD_MIN_LINES || !start_thread(ra))
		return false;
	readahead_send(ra); /* nothing in flight: nothing comes back */
	return true;
}

const struct read_batch *readahead_take(struct readahead *ra)
{
	char drain[64];
	while (read(ra->notify[0], drain, sizeof drain) > 0)
		continue;
	if (!ra->flight || (ra->thread_state > 0 && !worker_idle(&ra->thread)))
		return NULL;
	struct read_batch *b = ra->flight;
	ra->flight = NULL;
	return hand_out(ra, b);
}

const struct read_line *readahead_now(struct readahead *ra, const struct line *ln)
{
	struct read_line *rl = &ra->now;
	rl->ln = *ln;
	decode_line(ra, rl);
	return rl;
}

void readahead_free(struct readahead *ra)
{
	if (ra->thread_state > 0)
		worker_stop(&ra->thread);
	for (size_t i = 0; i < MQMON_ARRAY_LEN(ra->batches); i++)
		batch_free(&ra->batches[i]);
	envelope_decoder_free(&ra->dec);
	meaning_reader_free(&ra->meaning);
	buf_free(&ra->props);
	if (ra->notify[0] >= 0) {
		close(ra->notify[0]);
		close(ra->notify[1]);
	}
}
