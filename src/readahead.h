/*
 * readahead.h — mqmon-store's input decoded a batch ahead, on a second
 * thread: while the first thread writes one batch of lines to SQLite, the
 * second decodes the next (envelope_decode, then meaning_read), which is
 * about a third of the work, on the core the first is not using.
 *
 * A full batch goes over while input is waiting faster than it can be
 * stored; so does what a busy pipe held when it runs dry
 * (READAHEAD_MIN_LINES or more), and the caller's poll loop hears on
 * readahead_fd() when that is decoded.  A few lines that come on their
 * own are decoded on the spot (readahead_flush), so a trickle costs no
 * wake-ups and never waits for a batch to fill; a line longer than
 * READAHEAD_LINE_MAX is decoded in place, never copied.
 * Without a second thread (pthread_create failing) every batch is decoded
 * on the first: the same results, one core.
 */
#ifndef MQMON_READAHEAD_H
#define MQMON_READAHEAD_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "envelope.h"
#include "linereader.h"
#include "meaning.h"
#include "rules.h"
#include "worker.h"

/* a batch: this many lines or bytes, whichever comes first.  Each batch
 * wakes the thread, which in a virtual machine costs as much as decoding
 * a few hundred lines (perf: a tenth of the run with 256-line batches). */
#define READAHEAD_LINES 2048
#define READAHEAD_BYTES (1024 * 1024)
/* fewer lines left when the input pauses are decoded on the spot */
#define READAHEAD_MIN_LINES 64
/* longer lines are decoded in place (after what is ahead of them) */
#define READAHEAD_LINE_MAX (64 * 1024)

enum read_kind {
	READ_BLANK, /* whitespace only: nothing, as between values in jq */
	READ_EVENT, /* a valid line carrying "event", not a message */
	READ_ERROR, /* err says why the line cannot be used */
	READ_MESSAGE,
};

/* One line decoded.  Its strings stay valid until the batch it came in is
 * given back (the next readahead call), or the next readahead_now. */
struct read_line {
	struct line ln; /* the line as read */
	enum read_kind kind;
	const char *err; /* READ_ERROR */
	struct envelope e; /* READ_MESSAGE; e.props is NULL: see props_json */
	const char *props_json; /* the properties as a JSON object; NULL: none */
	size_t props_json_len;
	struct meaning m; /* READ_MESSAGE */
};

struct read_batch {
	struct arena arena; /* the lines' bytes and every string copied */
	struct read_line *lines;
	size_t n, cap, bytes;
};

struct readahead {
	const struct rules *rules;
	struct envelope_decoder dec;
	struct meaning_reader meaning;
	struct buf props;
	char err[512];
	/* three batches take turns: being filled, being decoded, being
	 * stored by the caller */
	struct read_batch batches[3];
	struct read_batch *fill, *flight, *out;
	struct read_line now; /* readahead_now's */
	int thread_state; /* 0 not started, 1 running, -1 cannot start */
	struct worker thread; /* decodes flight when asked */
	int notify[2]; /* the thread writes a byte to [1] when a batch is decoded */
};

void readahead_init(struct readahead *ra, const struct rules *rules);
/* Stops the thread (after the batch it is decoding). */
void readahead_free(struct readahead *ra);

/* Copy ln into the batch being filled; true when the batch is full, for
 * readahead_send. */
bool readahead_add(struct readahead *ra, const struct line *ln);
/* Hand the full batch over to be decoded.  Returns the batch handed over
 * before it, decoded, for the caller to store now; NULL if none. */
const struct read_batch *readahead_send(struct readahead *ra);
/* What is left, oldest first: the batch being decoded (waited for), then
 * the lines added since, decoded here.  NULL when nothing is left. */
const struct read_batch *readahead_flush(struct readahead *ra);
/* Lines added and not yet handed back. */
bool readahead_pending(const struct readahead *ra);
/* A batch was handed over and not yet taken back (decoded or not). */
bool readahead_in_flight(const struct readahead *ra);
/* Readable when a batch handed over has been decoded; -1 if none ever
 * will be (no second thread). */
int readahead_fd(const struct readahead *ra);
/* The input paused: hand over what was added since the last batch if it
 * is worth a wake-up (READAHEAD_MIN_LINES) and nothing is being decoded;
 * true if it went.  The caller then waits for readahead_fd(). */
bool readahead_send_rest(struct readahead *ra);
/* The batch handed over, if it has been decoded (never waits); NULL if
 * none or not yet. */
const struct read_batch *readahead_take(struct readahead *ra);
/* Decode ln in place, after readahead_flush has returned NULL. */
const struct read_line *readahead_now(struct readahead *ra, const struct line *ln);

#endif
