#!/usr/bin/env bash
# mqmon-store's WAL checkpoints on their own thread (src/checkpointer.c):
# a load of 150,000 envelopes (about 70 MB through the WAL) is copied
# into the database by the checkpointer while ingest goes on, the WAL
# stays within its 10,000-page threshold plus a commit, and at exit the
# WAL is folded in and gone; then, in a second load, a reader sees the
# rows committed meanwhile; and before closing, ingest copies the WAL in.
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

# (a) the load alone: the checkpointer keeps up and the WAL stays bounded
run_bg --stdin "$T/in.ndjson" ingest mqmon-store -d --db "$DB"
max=0
while bg_alive ingest; do
	size=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
	((size > max)) && max=$size
	sleep 0.02
done
wait_bg ingest 60 || fail "ingest: $(tail -n 5 "$T/ingest.err")"

assert_contains "$T/ingest.err" "ck.db: checkpoint: "
# A transaction the writer begins while a checkpoint runs may register
# at an older place in the WAL (SQLite's read marks), and the run after
# copies the rest: most runs copy all they find.  A writer that held
# every checkpoint back (a transaction kept open) would fail this.
read -r whole runs < <(awk '/checkpoint: [0-9]+ of [0-9]+ WAL pages copied/ { c++; if ($(NF-5) == $(NF-3)) w++ }
	END { print w + 0, c + 0 }' "$T/ingest.err")
((runs >= 3 && whole * 2 > runs)) ||
	fail "the checkpointer's runs: $whole of $runs copied all they found: $(grep 'checkpoint:' "$T/ingest.err" | head -n 3)"
# the threshold, 10,000 pages of 4 KiB (each with a 24-byte frame header),
# and one commit's frames beyond it
((max <= (10000 * 4120) + 12 * 1048576)) || fail "the WAL reached $max bytes"
note "(a) WAL at most $max bytes; checkpoints that copied all they found: $whole of $runs"
[ ! -s "$DB-wal" ] || fail "a WAL of $(stat -c %s "$DB-wal") bytes left after exit"
assert_eq "ok|$N|$((N * 4))" "$(sqlite3 "$DB" 'PRAGMA integrity_check; SELECT count(*) FROM messages; SELECT count(*) FROM points' | paste -sd'|')" \
	"integrity and rows"

# (b) a reader during the load sees the rows committed so far and never
# an error.  A reader's snapshot may hold a checkpoint back (it copies
# only what no reader still needs), so this part asserts no run's figures.
N2=50000
sed -n "1,${N2}p" "$T/in.ndjson" | sed 's/T10:/T11:/' >"$T/in2.ndjson"
run_bg --stdin "$T/in2.ndjson" ingest2 mqmon-store --db "$DB"
seen=0 reads=0
while bg_alive ingest2; do
	n=$(sqlite3 -cmd '.timeout 10000' "$DB" 'SELECT count(*) FROM messages' 2>>"$T/reader.err") || fail "a reader during ingest: $(cat "$T/reader.err")"
	((n >= seen)) || fail "a reader saw $n messages after $seen"
	seen=$n reads=$((reads + 1))
	sleep 0.02
done
wait_bg ingest2 60 || fail "ingest (b): $(tail -n 5 "$T/ingest2.err")"
note "(b) a reader read $reads times during the load, the last saw $seen messages"
((reads >= 2 && seen > N)) || fail "(b) the reader did not overlap the load: $reads reads, $seen messages"
# (no check of the WAL left behind here: a reader closing as ingest closes
# may leave each of them not the last, and the next to open recovers it)
assert_eq "ok|$((N + N2))" "$(sqlite3 "$DB" 'PRAGMA integrity_check; SELECT count(*) FROM messages' | paste -sd'|')" \
	"(b) integrity and rows"

# (c) below the threshold the thread never runs; before closing, ingest
# still copies the WAL in while readers go on, so the exclusive fold of
# the last close finds nothing left (the moment a reader cannot open)
sed -n '1,1000p' "$T/in.ndjson" | sed 's/T10:/T12:/' >"$T/in3.ndjson"
mqmon-store -d --db "$DB" <"$T/in3.ndjson" 2>"$T/ingest3.err" || fail "ingest (c): $(tail -n 5 "$T/ingest3.err")"
grep 'checkpoint:' "$T/ingest3.err" >"$T/ck3" || :
awk '{ if ($(NF-5) == $(NF-3) && $(NF-5) > 0) ok++ } END { exit !(NR == 1 && ok == 1) }' "$T/ck3" ||
	fail "(c) the checkpoints before closing: $(cat "$T/ck3")"
exit 0
