/*
 * checkpointer.h — mqmon-store's WAL checkpoints on a second connection
 * and thread.  SQLite otherwise runs one inside the commit that takes the
 * WAL past its threshold, on the thread that writes: thousands of pages
 * copied into the database file and synced, about a twentieth of a bulk
 * load (perf).  Here, from a quarter of the threshold on, a commit only
 * wakes the checkpointer, which copies the WAL while the writer goes on.
 * The WAL can start afresh only after a checkpoint that the writer did
 * not outrun, which a writer that never pauses never allows: at the
 * threshold the commit checkpoints as before, copying only what the
 * checkpointer had not, and the WAL stays within the threshold.
 */
#ifndef MQMON_CHECKPOINTER_H
#define MQMON_CHECKPOINTER_H

#include "store.h"

struct checkpointer;

/* Take over most of the checkpoints of s (opened to write), keeping its
 * WAL within pages pages; NULL, s checkpointing itself as before, when
 * the second connection or thread cannot be had. */
struct checkpointer *checkpointer_start(struct store *s, int pages);
/* Stop (after a checkpoint under way) and give s its checkpoints back;
 * before s is closed, so that its close folds the WAL in. */
void checkpointer_stop(struct checkpointer *c);

#endif
