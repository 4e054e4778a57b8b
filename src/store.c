/*
 * store.c — opening the database and keeping its schema current.  Every
 * upgrade step runs in one transaction with the new user_version, so a
 * crash mid-upgrade leaves the old version intact.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mqmon.h"
#include "store.h"

/* Version 1: the first released schema. */
static const char schema_v1[] = "CREATE TABLE messages ("
                                " id INTEGER PRIMARY KEY,"
                                " ts TEXT NOT NULL,"
                                " topic TEXT NOT NULL,"
                                " device TEXT,"
                                " qos INTEGER NOT NULL DEFAULT 0,"
                                " retain INTEGER NOT NULL DEFAULT 0,"
                                " enc TEXT NOT NULL DEFAULT 'json',"
                                " payload BLOB,"
                                " props TEXT);"
                                "CREATE INDEX messages_topic_ts ON messages(topic, ts);"
                                "CREATE TABLE topics ("
                                " topic TEXT PRIMARY KEY,"
                                " kind TEXT,"
                                " device TEXT,"
                                " first_seen TEXT NOT NULL,"
                                " last_seen TEXT NOT NULL,"
                                " count INTEGER NOT NULL DEFAULT 0,"
                                " last_enc TEXT,"
                                " last_payload BLOB) WITHOUT ROWID;"
                                "CREATE TABLE devices ("
                                " device TEXT PRIMARY KEY,"
                                " first_seen TEXT NOT NULL,"
                                " last_seen TEXT NOT NULL,"
                                " messages INTEGER NOT NULL DEFAULT 0,"
                                " online INTEGER,"
                                " status TEXT,"
                                " ip_address TEXT,"
                                " firmware_version TEXT,"
                                " fields TEXT,"
                                " status_topic TEXT,"
                                " status_ts TEXT) WITHOUT ROWID;"
                                /* append-only, indexed by time alone: readings arrive in
                                 * time order, so inserts stay at the right edge of both
                                 * b-trees; a series reads its time range and filters */
                                "CREATE TABLE metrics ("
                                " ts TEXT NOT NULL,"
                                " device TEXT,"
                                " metric TEXT NOT NULL,"
                                " value REAL NOT NULL);"
                                "CREATE INDEX metrics_ts ON metrics(ts);"
                                "CREATE TABLE states ("
                                " device TEXT NOT NULL,"
                                " key TEXT NOT NULL,"
                                " value TEXT,"
                                " ts TEXT NOT NULL,"
                                " PRIMARY KEY (device, key)) WITHOUT ROWID;"
                                "CREATE TABLE state_changes ("
                                " ts TEXT NOT NULL,"
                                " device TEXT NOT NULL,"
                                " key TEXT NOT NULL,"
                                " old_value TEXT,"
                                " new_value TEXT);"
                                "CREATE INDEX state_changes_device_key_ts ON state_changes(device, key, ts);"
                                "CREATE TABLE rejects ("
                                " id INTEGER PRIMARY KEY,"
                                " ts TEXT NOT NULL,"
                                " source TEXT,"
                                " line INTEGER,"
                                " error TEXT NOT NULL,"
                                " input BLOB);";

/* metrics as the v1 table was, over the points (since version 2) */
#define METRICS_VIEW                                                                                  \
	"CREATE VIEW metrics(ts, device, metric, value) AS SELECT"                                    \
	" strftime('%Y-%m-%dT%H:%M:%fZ', p.ts_ms / 1000.0, 'unixepoch'), s.device, s.metric, p.value" \
	" FROM points AS p JOIN series AS s ON s.id = p.series;"

/* Version 2: metrics as integer keys.  A reading is a point of a series
 * (a device's metric): ts_ms (milliseconds since the epoch), the series'
 * id, seq (0, or the next number for another reading of the series at the
 * same millisecond) and the value, clustered by time, so inserts append at
 * the right edge and a time range is one range of the b-tree.  The view
 * metrics keeps the v1 table's columns and ts text for users' own SQL.
 * v1's rows are converted in the same transaction; seq keeps their order
 * on a tie. */
static const char schema_v2[] =
        "CREATE TABLE series ("
        " id INTEGER PRIMARY KEY,"
        " device TEXT,"
        " metric TEXT NOT NULL,"
        " UNIQUE (device, metric));"
        "CREATE TABLE points ("
        " ts_ms INTEGER NOT NULL,"
        " series INTEGER NOT NULL,"
        " seq INTEGER NOT NULL DEFAULT 0,"
        " value REAL NOT NULL,"
        " PRIMARY KEY (ts_ms, series, seq)) WITHOUT ROWID;"
        "INSERT INTO series(device, metric) SELECT DISTINCT device, metric FROM metrics ORDER BY device, metric;"
        "INSERT INTO points(ts_ms, series, seq, value)"
        " SELECT ms, sid, row_number() OVER (PARTITION BY ms, sid ORDER BY r) - 1, value FROM"
        " (SELECT CAST(round((julianday(m.ts) - 2440587.5) * 86400000.0) AS INTEGER) AS ms, s.id AS sid,"
        " m.rowid AS r, m.value AS value FROM metrics AS m JOIN series AS s"
        " ON s.device IS m.device AND s.metric = m.metric);"
        "DROP TABLE metrics;" METRICS_VIEW;

/* Version 3: a point's seq is its place among all the points of its
 * millisecond, not only its series', and the key is (ts_ms, seq): every
 * insert appends at the right edge of the b-tree.  With (ts_ms, series,
 * seq) the readings of one millisecond from many devices (a live stream
 * stamps a burst with one time) went in the middle of the last page, by
 * series, each found by comparing two columns: from a live capture of
 * mqmon-sub, storing the points cost 351 M instructions per 20,000
 * envelopes, against 223 M for envelopes a millisecond or more apart.
 * v2's points keep their order. */
static const char schema_v3[] =
        "CREATE TABLE points_v3 ("
        " ts_ms INTEGER NOT NULL,"
        " seq INTEGER NOT NULL,"
        " series INTEGER NOT NULL,"
        " value REAL NOT NULL,"
        " PRIMARY KEY (ts_ms, seq)) WITHOUT ROWID;"
        "INSERT INTO points_v3(ts_ms, seq, series, value)"
        " SELECT ts_ms, row_number() OVER (PARTITION BY ts_ms ORDER BY series, seq) - 1, series, value"
        " FROM points ORDER BY ts_ms, series, seq;"
        "DROP VIEW metrics;"
        "DROP TABLE points;"
        "ALTER TABLE points_v3 RENAME TO points;" METRICS_VIEW;

const char *const store_device_columns[DEVCOL_COUNT] = {
        "device",     "online",           "status", "last_seen",    "first_seen", "messages",
        "ip_address", "firmware_version", "fields", "status_topic", "status_ts",
};

/* upgrades[v] takes a database at version v to v + 1 */
static const char *const upgrades[] = {
        schema_v1, /* 0 → 1: a new, empty file */
        schema_v2, /* 1 → 2: metrics as series and points */
        schema_v3, /* 2 → 3: points keyed by time and place */
};
_Static_assert(MQMON_ARRAY_LEN(upgrades) == STORE_SCHEMA_VERSION, "an upgrade step for every version");

bool store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return true;
	snprintf(err, errlen, "%s: %s", s->path, msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return false;
}

sqlite3_stmt *store_prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		mqmon_err("%s: %s (in: %s)", s->path, sqlite3_errmsg(s->db), sql);
		return NULL;
	}
	return st;
}

const char *store_errmsg(struct store *s)
{
	static char msg[512];
	snprintf(msg, sizeof msg, "%s (%s)", sqlite3_errmsg(s->db), s->path);
	return msg;
}

static int read_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A file at version 0 with tables of its own is not ours. */
static bool has_foreign_tables(struct store *s)
{
	sqlite3_stmt *st;
	bool any = false;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return true;
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return any;
}

static bool upgrade(struct store *s, char *err, size_t errlen)
{
	int v = s->version;
	while (v < STORE_SCHEMA_VERSION) {
		char sql[64];
		if (!store_exec(s, "BEGIN IMMEDIATE", err, errlen))
			return false;
		/* someone else may have upgraded while we waited for the lock */
		int now = read_version(s);
		if (now != v) {
			store_exec(s, "ROLLBACK", err, errlen);
			v = now;
			continue;
		}
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (!store_exec(s, upgrades[v], err, errlen) || !store_exec(s, sql, err, errlen) ||
		    !store_exec(s, "COMMIT", err, errlen)) {
			char ignored[256];
			store_exec(s, "ROLLBACK", ignored, sizeof ignored);
			return false;
		}
		if (s->version > 0)
			mqmon_note("%s: upgraded the database from schema %d to %d", s->path, v, v + 1);
		v++;
	}
	return true;
}

struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	/* one thread per connection: no mutexes, and no memory statistics
	 * (Debian's SQLite takes a global lock for them on every malloc) */
	static bool configured;
	if (!configured) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	int flags = (mode == STORE_READ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
	            SQLITE_OPEN_NOMUTEX;
	if (mode == STORE_READ && access(path, F_OK) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* readers and the writer share the file: wait for each other */
	sqlite3_busy_timeout(s->db, 60000);
	s->version = read_version(s);
	if (s->version < 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->db)); /* e.g. "file is not a database" */
		goto fail;
	}
	if (s->version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d is newer than this mqmon-store knows (%d): upgrade mqmon",
		         path, s->version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (s->version == 0 && has_foreign_tables(s)) {
		snprintf(err, errlen, "%s: %s", path, "not an mqmon database (it has other tables)");
		goto fail;
	}
	if (mode == STORE_READ) {
		if (s->version < STORE_SCHEMA_VERSION) {
			snprintf(err, errlen,
			         "%s: schema version %d is older than %d: run mqmon-store once to upgrade it", path,
			         s->version, STORE_SCHEMA_VERSION);
			goto fail;
		}
		return s;
	}
	/* WAL: readers go on while ingest writes; NORMAL is durable at every
	 * checkpoint and never corrupt, losing at most the last commits on a
	 * power cut */
	sqlite3_wal_autocheckpoint(s->db, STORE_WAL_CHECKPOINT_PAGES);
	if (!store_exec(s, "PRAGMA journal_mode=WAL", err, errlen) ||
	    !store_exec(s, "PRAGMA synchronous=NORMAL", err, errlen) ||
	    !store_exec(s, "PRAGMA cache_size=-16384", err, errlen) || !upgrade(s, err, errlen))
		goto fail;
	return s;
fail:
	store_close(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}
