/*
 * checkpointer.c — the WAL hook, which SQLite calls after each commit with
 * the WAL's size, and the thread it wakes.  A PASSIVE checkpoint copies
 * what no reader still needs and never waits on the writer; the writer
 * starts the WAL afresh at its next transaction once everything was
 * copied.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>

#include "checkpointer.h"
#include "log.h"
#include "mqmon.h"
#include "worker.h"

struct checkpointer {
	struct store *s;
	struct store *own; /* the checkpointer's own connection */
	int pages;
	struct worker thread; /* checkpoints when asked */
};

static int on_commit(void *arg, sqlite3 *db, const char *name, int wal_pages)
{
	struct checkpointer *c = arg;
	if (wal_pages >= c->pages) {
		/* in this commit, as SQLite would: whatever the checkpointer
		 * has not copied yet, and the next transaction starts the
		 * WAL afresh */
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (wal_pages >= c->pages / 4) {
		worker_ask(&c->thread); /* asked while it runs: once more after */
	}
	return SQLITE_OK;
}

static void checkpoint(void *arg)
{
	struct checkpointer *c = arg;
	int log = 0, copied = 0;
	if (sqlite3_wal_checkpoint_v2(c->own->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) != SQLITE_OK)
		mqmon_debug("%s: checkpoint: %s", c->s->path, sqlite3_errmsg(c->own->db));
	else
		mqmon_debug("%s: checkpoint: %d of %d WAL pages copied", c->s->path, copied, log);
}

struct checkpointer *checkpointer_start(struct store *s, int pages)
{
	struct checkpointer *c = xcalloc(1, sizeof *c);
	c->s = s;
	c->pages = pages;
	/* opened like s, which reads the schema's version: without a read
	 * the connection has not taken up the WAL, and a checkpoint finds
	 * none to copy */
	char err[512];
	c->own = store_open(s->path, STORE_WRITE, err, sizeof err);
	if (!c->own) {
		mqmon_debug("no second connection for checkpoints: %s", err);
		free(c);
		return NULL;
	}
	if (!worker_start(&c->thread, checkpoint, c, -1)) {
		mqmon_debug("%s: no thread for checkpoints", s->path);
		store_close(c->own);
		free(c);
		return NULL;
	}
	sqlite3_wal_hook(s->db, on_commit, c); /* in place of SQLite's own */
	return c;
}

void checkpointer_stop(struct checkpointer *c)
{
	if (!c)
		return;
	sqlite3_wal_autocheckpoint(c->s->db, c->pages); /* SQLite's own hook back */
	worker_stop(&c->thread);
	/* The last connection to close folds the WAL in under an exclusive
	 * lock, and a reader opening meanwhile (the sqlite3 shell has no busy
	 * timeout) gets "database is locked".  Copied first, while readers go
	 * on, that fold finds nothing left and the lock lasts a moment. */
	checkpoint(c);
	store_close(c->own);
	free(c);
}
