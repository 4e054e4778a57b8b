#!/usr/bin/env bash
# mqmon-store durability: readers see batches while ingest runs (WAL,
# --batch, --flush-ms); SIGTERM and SIGINT commit everything read; after
# kill -9 the file passes PRAGMA integrity_check and at most the open batch
# is missing; a full disk and a read-only database are a clear error with
# status 1 and the committed data intact; schema versions (the released v1
# fixture, a new file, a newer or foreign file); the v1 -> v2 upgrade (metrics
# into series and points, behind a metrics view) reads back what v1's
# mqmon-store read, and ties at one millisecond keep their order.
. "${srcdir:-.}/tests/lib.sh"
require_cmd sqlite3
count() { sqlite3 -batch "$1" 'SELECT count(*) FROM messages' 2>/dev/null || echo -1; }
count_is() { [ "$(count "$1")" = "$2" ]; }
count_ge() { [ "$(count "$1")" -ge "$2" ]; }
lines() { # FROM TO TOPIC
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"topic\":\"%s\",\"payload\":{\"n\":%d,\"temperature\":%d.5}}\n", t, i, i % 40 }'
}

# start_fifo_ingest NAME DB ARGS...: mqmon-store reading a FIFO we hold open on fd 7
start_fifo_ingest() {
	local name=$1 db=$2
	shift 2
	rm -f "$T/$name.fifo"
	mkfifo "$T/$name.fifo"
	exec 7<>"$T/$name.fifo"
	run_bg "$name" bash -c 'exec 7>&- <"$1"; shift; exec "$@"' _ "$T/$name.fifo" mqmon-store --db "$db" "$@"
}

# --- readers see committed batches while ingest runs
start_fifo_ingest live "$T/live.db" --flush-ms 100
lines 1 10 live/a >&7
wait_for 10 count_is "$T/live.db" 10
bg_alive live || fail "ingest ended early"
# mqmon-store query reads the same file meanwhile
assert_eq 10 "$(mqmon-store --db "$T/live.db" query --topic 'live/#' | wc -l)" "rows seen by query"
# --batch: 5 committed at once, the other 2 wait for the flush time
exec 7>&-
stop_bg live TERM
start_fifo_ingest batch "$T/batch.db" --batch 5 --flush-ms 600000
lines 1 7 b/a >&7
wait_for 10 count_is "$T/batch.db" 5
sleep 0.5
assert_eq 5 "$(count "$T/batch.db")" "rows visible with --batch 5 and 7 lines sent"

# --- SIGTERM / SIGINT: everything read so far is committed, status 0
stop_bg batch TERM
assert_eq 0 "$BG_STATUS" "exit status on SIGTERM"
assert_eq 7 "$(count "$T/batch.db")" "rows after SIGTERM"
start_fifo_ingest int "$T/int.db" --batch 1000000 --flush-ms 600000
lines 1 20 i/a >&7
sleep 0.5
stop_bg int INT
assert_eq 0 "$BG_STATUS" "exit status on SIGINT"
assert_eq 20 "$(count "$T/int.db")" "rows after SIGINT"
exec 7>&-
# a writer still flushing when the signal comes (mqmon-sub | mqmon-store
# on Ctrl-C): what it writes before going quiet is stored too
start_fifo_ingest late "$T/late.db" --batch 1000000 --flush-ms 600000
lines 1 10 late/a >&7
sleep 0.3
kill -TERM "$(bg_pid late)"
sleep 0.05
lines 11 15 late/a >&7
exec 7>&-
wait_bg late 10 || fail "ingest exited $BG_STATUS after SIGTERM"
assert_eq 15 "$(count "$T/late.db")" "rows written around the SIGTERM"

# --- kill -9: the file is consistent; only the open batch is lost
start_fifo_ingest k9 "$T/k9.db" --batch 100 --flush-ms 600000
lines 1 1050 k/a >&7
wait_for 10 count_ge "$T/k9.db" 1000
sleep 0.3
stop_bg k9 KILL
exec 7>&-
assert_eq ok "$(sqlite3 "$T/k9.db" 'PRAGMA integrity_check')" "integrity after kill -9"
n=$(count "$T/k9.db")
[ "$n" -ge 1000 ] && [ "$n" -le 1050 ] || fail "after kill -9: $n rows (1000 to 1050 expected)"
note "kill -9 with 1050 lines read and --batch 100: $n rows kept"
# and the next run carries on
lines 1 5 k/b | mqmon-store --db "$T/k9.db" || fail "ingest after kill -9"
assert_eq $((n + 5)) "$(count "$T/k9.db")" "rows after the next run"

# --- a full disk: status 1, a clear message, committed data intact
lines 1 200000 full/a >"$T/big.ndjson"
mkdir -p "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	on_exit "umount '$T/small'"
	st=0
	mqmon-store --db "$T/small/full.db" --batch 1000 <"$T/big.ndjson" 2>"$T/full.err" || st=$?
	full_db=$T/small/full.db
	assert_contains "$T/full.err" "database or disk is full"
else
	# not allowed to mount: a file-size limit gives the same failure
	st=0
	(
		ulimit -f 1000
		mqmon-store --db "$T/small/full.db" --batch 1000 <"$T/big.ndjson" 2>"$T/full.err"
	) || st=$?
	full_db=$T/small/full.db
	assert_contains "$T/full.err" "cannot"
fi
assert_eq 1 "$st" "exit status on a full disk"
assert_contains "$T/full.err" "were not stored; everything before is"
assert_eq ok "$(sqlite3 "$full_db" 'PRAGMA integrity_check')" "integrity after a full disk"
kept=$(count "$full_db")
[ "$kept" -gt 0 ] && [ $((kept % 1000)) -eq 0 ] || fail "after a full disk: $kept rows (whole batches of 1000 expected)"
note "full disk: $kept rows committed before it filled"

# --- a read-only database: status 1, data intact
lines 1 10 ro/a | mqmon-store --db "$T/ro/ro.db" 2>/dev/null && fail "a database in a missing directory"
mkdir -p "$T/ro"
lines 1 10 ro/a | mqmon-store --db "$T/ro/ro.db" || fail "creating ro.db"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T" "$T/ro"
	chmod 644 "$T/ro/ro.db"
	st=0
	lines 11 20 ro/a | HOME=$T setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$abs_top_builddir/bin/mqmon-store" --db "$T/ro/ro.db" 2>"$T/ro.err" || st=$?
else
	chmod 444 "$T/ro/ro.db"
	chmod 555 "$T/ro"
	st=0
	lines 11 20 ro/a | mqmon-store --db "$T/ro/ro.db" 2>"$T/ro.err" || st=$?
	chmod 755 "$T/ro"
fi
assert_eq 1 "$st" "exit status with a read-only database"
assert_contains "$T/ro.err" "readonly database"
assert_eq 10 "$(count "$T/ro/ro.db")" "rows in the read-only database"

# --- --retain: what is older goes, at start and while ingesting
printf '{"ts":"2020-01-01T00:00:00.000Z","topic":"r/old","payload":{"t":1}}\n{"ts":"2020-01-01T00:00:01.000Z","topic":"autocore/D1/telemetry","payload":{"t":1}}\n' |
	mqmon-store --db "$T/retain.db" || fail "ingest of old rows"
assert_eq 2 "$(count "$T/retain.db")" "old rows before --retain"
printf '{"topic":"r/new","payload":{"t":2}}\n' | mqmon-store --db "$T/retain.db" --retain 30d || fail "--retain run"
assert_eq "r/new" "$(sqlite3 "$T/retain.db" 'SELECT topic FROM messages')" "rows left by --retain 30d"
assert_eq 0 "$(sqlite3 "$T/retain.db" "SELECT count(*) FROM metrics WHERE ts < '2021'")" "old metrics left"

# --- schema versions
sqlite3 "$T/v1.db" <"$srcdir/tests/data/store-v1.sql" || hard_error "loading the v1 fixture"
lines 1 3 v1/a | mqmon-store --db "$T/v1.db" || fail "ingest into the released v1 schema"
assert_eq 3 "$(sqlite3 "$T/v1.db" 'PRAGMA user_version')" "schema version after ingest"
assert_eq 6 "$(count "$T/v1.db")" "the fixture's rows and the new ones"
assert_eq "1|online|192.168.1.100" "$(sqlite3 "$T/v1.db" "SELECT online, status, ip_address FROM devices WHERE device = 'ESP32_001'")"
# an empty file (version 0) gets the current schema
: >"$T/empty.db"
lines 1 1 e/a | mqmon-store --db "$T/empty.db" || fail "ingest into an empty file"
assert_eq 3 "$(sqlite3 "$T/empty.db" 'PRAGMA user_version')" "schema version of a new file"
# a newer schema, or someone else's database, is refused untouched
sqlite3 "$T/future.db" 'CREATE TABLE messages(x); PRAGMA user_version = 99;'
st=0
lines 1 1 f/a | mqmon-store --db "$T/future.db" 2>"$T/future.err" || st=$?
assert_eq 1 "$st" "a newer schema"
assert_contains "$T/future.err" "schema version 99 is newer"
sqlite3 "$T/foreign.db" 'CREATE TABLE customers(name);'
st=0
lines 1 1 f/a | mqmon-store --db "$T/foreign.db" 2>"$T/foreign.err" || st=$?
assert_eq 1 "$st" "someone else's database"
assert_contains "$T/foreign.err" "not an mqmon database"
assert_eq "customers" "$(sqlite3 "$T/foreign.db" '.tables')" "the foreign database untouched"
assert_eq "2025-01-28T10:30:15.000Z|ESP32_001|temperature|25.6" "$(sqlite3 "$T/v1.db" 'SELECT * FROM metrics')" \
	"the v1 fixture's metric, through the metrics view"

# --- v1 -> v2: what the released mqmon-store printed from the v1 fixture
# with metrics (ties, out of order, before 1970, no device), printed again
# after the upgrade
sqlite3 "$T/m1.db" <"$srcdir/tests/data/store-v1-metrics.sql" || hard_error "loading the v1 metrics fixture"
st=0
mqmon-store --db "$T/m1.db" series --device ESP32_001 --metric temperature 2>"$T/m1.err" || st=$?
assert_eq 1 "$st" "a read of a v1 file before the upgrade"
assert_contains "$T/m1.err" "schema version 1 is older than 3: run mqmon-store once to upgrade it"
mqmon-store --db "$T/m1.db" </dev/null 2>"$T/m1.err" || fail "the upgrade run"
assert_contains "$T/m1.err" "upgraded the database from schema 1 to 2" "upgraded the database from schema 2 to 3"
assert_eq "3 ok" "$(sqlite3 "$T/m1.db" 'PRAGMA user_version; PRAGMA integrity_check' | paste -sd' ')" \
	"version and integrity after the upgrade"
assert_eq "view metrics|table points|table series" \
	"$(sqlite3 "$T/m1.db" "SELECT type || ' ' || name FROM sqlite_master WHERE name IN ('metrics', 'series', 'points') ORDER BY name" | paste -sd'|')" \
	"the metrics table became a view over series and points"
# read_back DB: the queries, and the SQL a user would write, whose answers
# the released mqmon-store (schema 1) gave, with DB named m1.db
m1() { mqmon-store --db "$T/$RB" "$@" 2>&1 | sed "s|$T/$RB|m1.db|g"; }
read_back() {
	RB=$1
	echo "== series ESP32_001 temperature"
	m1 series --device ESP32_001 --metric temperature
	echo "== series ESP32_001 humidity --every 1m"
	m1 series --device ESP32_001 --metric humidity --every 1m --agg max
	echo "== series ESP32_003 temperature"
	m1 series --device ESP32_003 --metric temperature
	echo "== metrics"
	m1 metrics
	echo "== metrics ESP32_002 since"
	m1 metrics --device ESP32_002 --since 2025-01-28T10:00:30Z
	echo "== series ESP32_002 nope"
	m1 series --device ESP32_002 --metric nope
	echo "== series nodev"
	m1 series --device NODEV --metric x
	echo "== sql"
	sqlite3 "$T/$RB" "SELECT ts, device, metric, value FROM metrics ORDER BY ts, device, metric, value"
}
read_back m1.db >"$T/m1.out"
# printed by mqmon-store 0.1.0 (schema 1) from the same fixture
cat >"$T/m1.want" <<'EOF'
== series ESP32_001 temperature
{"ts":"2025-01-28T09:59:00.250Z","value":20}
{"ts":"2025-01-28T10:00:00.000Z","value":21.5}
{"ts":"2025-01-28T10:00:30.500Z","value":22}
{"ts":"2025-01-28T10:00:30.500Z","value":22.75}
== series ESP32_001 humidity --every 1m
{"ts":"2025-01-28T09:59:00.000Z","value":39,"count":1}
{"ts":"2025-01-28T10:00:00.000Z","value":41.5,"count":3}
== series ESP32_003 temperature
{"ts":"1969-12-31T23:59:59.999Z","value":0.001}
== metrics
{"device":null,"metric":"speed","count":2,"first":"2025-01-28T10:02:00.000Z","last":"2025-01-28T10:02:00.000Z","last_value":3.5}
{"device":"ESP32_001","metric":"humidity","count":4,"first":"2025-01-28T09:59:00.250Z","last":"2025-01-28T10:00:30.500Z","last_value":41}
{"device":"ESP32_001","metric":"temperature","count":4,"first":"2025-01-28T09:59:00.250Z","last":"2025-01-28T10:00:30.500Z","last_value":22.75}
{"device":"ESP32_002","metric":"sensors.co2","count":2,"first":"2025-01-28T10:00:00.000Z","last":"2025-01-28T10:01:00.000Z","last_value":415}
{"device":"ESP32_002","metric":"temperature","count":2,"first":"2025-01-28T10:00:00.000Z","last":"2025-01-28T10:01:00.000Z","last_value":-3.5}
{"device":"ESP32_003","metric":"temperature","count":1,"first":"1969-12-31T23:59:59.999Z","last":"1969-12-31T23:59:59.999Z","last_value":0.001}
== metrics ESP32_002 since
{"device":"ESP32_002","metric":"sensors.co2","count":1,"first":"2025-01-28T10:01:00.000Z","last":"2025-01-28T10:01:00.000Z","last_value":415}
{"device":"ESP32_002","metric":"temperature","count":1,"first":"2025-01-28T10:01:00.000Z","last":"2025-01-28T10:01:00.000Z","last_value":-3.5}
== series ESP32_002 nope
mqmon-store: device 'ESP32_002' has no metric 'nope' in m1.db; its metrics: sensors.co2, temperature
== series nodev
mqmon-store: m1.db holds no metrics of device 'NODEV'; devices with metrics: ESP32_001, ESP32_002, ESP32_003
== sql
1969-12-31T23:59:59.999Z|ESP32_003|temperature|0.001
2025-01-28T09:59:00.250Z|ESP32_001|humidity|39.0
2025-01-28T09:59:00.250Z|ESP32_001|temperature|20.0
2025-01-28T10:00:00.000Z|ESP32_001|humidity|40.0
2025-01-28T10:00:00.000Z|ESP32_001|temperature|21.5
2025-01-28T10:00:00.000Z|ESP32_002|sensors.co2|410.0
2025-01-28T10:00:00.000Z|ESP32_002|temperature|19.25
2025-01-28T10:00:30.500Z|ESP32_001|humidity|41.0
2025-01-28T10:00:30.500Z|ESP32_001|humidity|41.5
2025-01-28T10:00:30.500Z|ESP32_001|temperature|22.0
2025-01-28T10:00:30.500Z|ESP32_001|temperature|22.75
2025-01-28T10:01:00.000Z|ESP32_002|sensors.co2|415.0
2025-01-28T10:01:00.000Z|ESP32_002|temperature|-3.5
2025-01-28T10:02:00.000Z||speed|3.25
2025-01-28T10:02:00.000Z||speed|3.5
EOF
diff -u "$T/m1.want" "$T/m1.out" >&2 || fail "the upgraded v1 file reads back differently"
assert_eq "10 10 3" "$(sqlite3 "$T/m1.db" 'SELECT count(*), max(id) FROM messages; SELECT count(*) FROM devices' | tr '|\n' '  ' | sed 's/ $//')" \
	"messages and devices after the upgrade"

# --- v2 -> v3: the same envelopes stored by the schema 2 mqmon-store
# (seq counting per series), read back the same after the upgrade (seq a
# reading's place in its millisecond)
sqlite3 "$T/m2.db" <"$srcdir/tests/data/store-v2-metrics.sql" || hard_error "loading the v2 metrics fixture"
assert_eq "2|15" "$(sqlite3 "$T/m2.db" 'PRAGMA user_version; SELECT count(*) FROM points' | paste -sd'|')" "the v2 fixture"
st=0
mqmon-store --db "$T/m2.db" metrics 2>"$T/m2.err" || st=$?
assert_eq 1 "$st" "a read of a v2 file before the upgrade"
assert_contains "$T/m2.err" "schema version 2 is older than 3"
mqmon-store --db "$T/m2.db" </dev/null 2>"$T/m2.err" || fail "the v2 upgrade run"
assert_contains "$T/m2.err" "upgraded the database from schema 2 to 3"
assert_not_contains "$T/m2.err" "schema 1 to 2"
assert_eq "3 ok" "$(sqlite3 "$T/m2.db" 'PRAGMA user_version; PRAGMA integrity_check' | paste -sd' ')" \
	"version and integrity after the v2 upgrade"
read_back m2.db >"$T/m2.out"
diff -u "$T/m1.want" "$T/m2.out" >&2 || fail "the upgraded v2 file reads back differently"
# at 10:00:30.500 ESP32_001's two temperatures and two humidities: places
# 0-3, each series in the order v2's seq gave it
assert_eq "0:1:22.0 1:1:22.75 2:2:41.5 3:2:41.0" \
	"$(sqlite3 "$T/m2.db" "SELECT seq || ':' || series || ':' || value FROM points WHERE ts_ms = 1738058430500 ORDER BY seq" | paste -sd' ')" \
	"the places of a tie after the v2 upgrade"

# ties at one millisecond: 100 readings of one series at one time (64 go
# in per statement: a tie sends them in one by one), then 100 more (as a
# replay would): every reading kept, in the order stored
ties() { # FROM TO
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"ts\":\"2025-02-01T00:00:00.000Z\",\"topic\":\"autocore/TIE/telemetry\",\"payload\":{\"n\":%d,\"m\":%d}}\n", i, -i }'
}
ties 1 100 | mqmon-store --db "$T/m1.db" || fail "ingest of ties"
ties 101 200 | mqmon-store --db "$T/m1.db" || fail "ingest of ties, again"
assert_eq "$(seq 1 200 | paste -sd,)" \
	"$(mqmon-store --db "$T/m1.db" series --device TIE --metric n --format csv | tail -n +2 | cut -d, -f2 | paste -sd,)" \
	"200 readings at one millisecond, in the order stored"
assert_eq "200|-200" "$(mqmon-store --db "$T/m1.db" metrics --device TIE --format csv | awk -F, '$2 == "m" { print $3 "|" $6 }')" \
	"the last value of a tie is the one stored last"
assert_eq "400|0|399" "$(sqlite3 "$T/m1.db" "SELECT count(*), min(seq), max(seq) FROM points WHERE ts_ms = 1738368000000")" \
	"the points of the ties: 400 places in their millisecond"
printf 'not a database at all, just text' >"$T/text.db"
st=0
lines 1 1 f/a | mqmon-store --db "$T/text.db" 2>"$T/text.err" || st=$?
assert_eq 1 "$st" "a file that is not a database"
assert_contains "$T/text.err" "file is not a database"
exit 0
