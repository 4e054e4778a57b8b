/*
 * store.h — the mqmon SQLite database: opening it (WAL, busy timeout), its
 * schema, versioned with PRAGMA user_version and upgraded in place.  Used by
 * mqmon-store (ingest and queries) and, read-only, by mqmon-status and
 * mqmon-cmd.
 *
 * Schema version 3, table by table (times are RFC 3339 UTC text with
 * milliseconds, "2025-01-28T10:30:15.123Z", so they sort as text and read
 * well in the sqlite3 shell):
 *
 *   messages(id, ts, topic, device, qos, retain, enc, payload, props)
 *       every envelope; payload holds the body's bytes (TEXT for json and
 *       utf8, BLOB for base64), props the MQTT 5 properties as JSON text;
 *       device is the rule's {device} capture or NULL.
 *       Index: (topic, ts).
 *   topics(topic, kind, device, first_seen, last_seen, count, last_enc,
 *          last_payload)                       auto-discovery
 *   devices(device, first_seen, last_seen, messages, online, status,
 *           ip_address, firmware_version, fields, status_topic, status_ts)
 *       online is 1, 0 or NULL (unknown); fields is the last status body's
 *       other members as a JSON object
 *   metrics(ts, device, metric, value)         one row per numeric leaf of
 *       a telemetry body; nested members as dotted names
 *       ("sensors.temperature").  Since version 2 a VIEW over
 *   series(id, device, metric)                 one row per device and
 *       metric, UNIQUE (device, metric), and
 *   points(ts_ms, seq, series, value)          the readings: ts_ms in
 *       milliseconds since the epoch, seq the reading's place among those
 *       of its millisecond (0, 1, ... in the order stored), series =
 *       series.id; WITHOUT ROWID, PRIMARY KEY (ts_ms, seq).  (Version 2
 *       had PRIMARY KEY (ts_ms, series, seq), seq counting per series.)
 *   states(device, key, value, ts)             the last value of each state
 *   state_changes(ts, device, key, old_value, new_value)
 *       appended only when the value changed. Index: (device, key, ts).
 *   rejects(id, ts, source, line, error, input)  input lines that could not
 *       be stored, with their number and the error
 */
#ifndef MQMON_STORE_H
#define MQMON_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#define STORE_SCHEMA_VERSION 3

/* A writer's WAL is checkpointed into the file once it holds this many
 * pages (40 MB) */
#define STORE_WAL_CHECKPOINT_PAGES 10000

/* The devices table's columns, in the order they are listed: the one
 * spelling that ingest writes, `mqmon-store devices` prints (as NDJSON
 * keys, table and CSV headers) and the golden files of the meaning layer
 * use. */
enum store_device_col {
	DEVCOL_DEVICE,
	DEVCOL_ONLINE,
	DEVCOL_STATUS,
	DEVCOL_LAST_SEEN,
	DEVCOL_FIRST_SEEN,
	DEVCOL_MESSAGES,
	DEVCOL_IP,
	DEVCOL_FIRMWARE,
	DEVCOL_FIELDS,
	DEVCOL_STATUS_TOPIC,
	DEVCOL_STATUS_TS,
	DEVCOL_COUNT
};
extern const char *const store_device_columns[DEVCOL_COUNT];

enum store_mode {
	STORE_READ, /* the file must exist; never written */
	STORE_WRITE, /* created if missing, upgraded if older */
};

struct store {
	sqlite3 *db;
	char *path;
	int version; /* user_version found when opened (0 = new file) */
};

/* Open path.  On failure returns NULL and writes a message naming the file
 * into err: missing file (read mode), not an mqmon database, a schema newer
 * than this program, I/O errors. */
struct store *store_open(const char *path, enum store_mode mode, char *err, size_t errlen);
void store_close(struct store *s);

/* Run SQL without results; on failure writes "what: sqlite message" to
 * err and returns false. */
bool store_exec(struct store *s, const char *sql, char *err, size_t errlen);

/* Prepare a statement; a failure is a programming error reported on stderr
 * (returns NULL). */
sqlite3_stmt *store_prepare(struct store *s, const char *sql);

/* "database or disk is full (/path/fleet.db)" for the last error. */
const char *store_errmsg(struct store *s);

#endif
