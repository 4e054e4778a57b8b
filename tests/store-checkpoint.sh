#!/usr/bin/env bash
# mqmon-store's WAL checkpoints on their own thread (src/checkpointer.c):
# a load of 150,000 envelopes (about 70 MB through the WAL) is copied
# into the database by the checkpointer while ingest goes on, the WAL
# stays within its 10,000-page threshold plus a commit, a reader sees the
# rows committed meanwhile, and at exit the WAL is folded in and gone.
. "${srcdir:-.}/tests/lib.sh"
require_cmd sqlite3

N=150000
awk -v n="$N" 'BEGIN {
	for (i = 1; i <= n; i++) {
		d = i % 100
		printf "{\"ts\":\"2025-01-28T10:%02d:%02d.%03dZ\",\"topic\":\"autocore/ESP32_%03d/telemetry\",\"payload\":{\"device_id\":\"ESP32_%03d\",\"temperature\":%d.5,\"humidity\":%d,\"voltage\":3.%02d,\"memory_free\":%d}}\n",
			int(i / 60000), int(i / 1000) % 60, i % 1000, d, d, i % 40, i % 90, i % 100, 40000 + i
	}
}' >"$T/in.ndjson" || hard_error "making the input"
DB=$T/ck.db

run_bg --stdin "$T/in.ndjson" ingest mqmon-store -d --db "$DB"
max=0 polls=0 seen=0
while bg_alive ingest; do
	size=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	((size > max)) && max=$size
	# a reader meanwhile: the rows committed so far, never an error
	if ((++polls % 20 == 0)) && [ -e "$DB" ]; then
		n=$(sqlite3 "$DB" 'SELECT count(*) FROM messages' 2>>"$T/reader.err") || fail "a reader during ingest: $(cat "$T/reader.err")"
		((n >= seen)) || fail "a reader saw $n messages after $seen"
		seen=$n
	fi
	sleep 0.02
done
wait_bg ingest 60 || fail "ingest: $(tail -n 5 "$T/ingest.err")"

assert_contains "$T/ingest.err" "ck.db: checkpoint: "
# every checkpoint copied all it found: the writer never held it back
awk '/checkpoint: [0-9]+ of [0-9]+ WAL pages copied/ { c++; if ($(NF-5) != $(NF-3)) bad++ }
	END { exit !(c >= 3 && !bad) }' "$T/ingest.err" ||
	fail "the checkpointer's runs: $(grep -c 'checkpoint:' "$T/ingest.err") of them, $(grep 'checkpoint:' "$T/ingest.err" | head -n 3)"
# the threshold, 10,000 pages of 4 KiB (each with a 24-byte frame header),
# and one commit's frames beyond it
((max <= (10000 * 4120) + 12 * 1048576)) || fail "the WAL reached $max bytes"
note "WAL at most $max bytes; a reader saw $seen of $N messages during the load"
[ ! -s "$DB-wal" ] || fail "a WAL of $(stat -c %s "$DB-wal") bytes left after exit"
assert_eq "ok|$N|$((N * 4))" "$(sqlite3 "$DB" 'PRAGMA integrity_check; SELECT count(*) FROM messages; SELECT count(*) FROM points' | paste -sd'|')" \
	"integrity and rows"
exit 0
