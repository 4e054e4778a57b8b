#!/usr/bin/env bash
# mqmon-store decodes a file's lines a batch ahead on a second thread
# (src/readahead.c), what a busy pipe holds when it runs dry on that
# thread while its loop waits, and a trickle of lines on the spot: all
# must leave the same database, row for row, and the same --tee output.  The input crosses
# many batches with rejects, events, blank lines, long lines (decoded in
# place, between batches), escaped topics, properties, base64 bodies,
# states, ties at one millisecond and times out of order.
. "${srcdir:-.}/tests/lib.sh"
require_cmd sqlite3

N=12000 # several batches of READAHEAD_LINES (2048)
awk -v n="$N" 'BEGIN {
	srand(7)
	long = "0123456789abcdef"   # to 128 KiB: longer than a batch takes
	while (length(long) < 131072)
		long = long long
	for (i = 1; i <= n; i++) {
		ms = 60000 + i * 10                   # after 10:00:00.000
		if (i % 211 == 0) ms -= 5000          # out of order
		if (i % 13 == 0) ms = 60000 + (i - 1) * 10   # a tie with the line before
		s = int(ms / 1000)
		ts = sprintf("2025-01-28T10:%02d:%02d.%03dZ", int(s / 60), s % 60, ms % 1000)
		d = sprintf("ESP32_%03d", i % 20)
		if (i % 97 == 0) { print "{\"ts\":\"" ts "\",\"topic\":\"autocore/" d "/telemetry\",\"payload\":{" ; continue }
		if (i % 89 == 0) { print "{\"ts\":\"" ts "\",\"event\":\"offline\",\"device\":\"" d "\"}"; continue }
		if (i % 101 == 0) { print "   "; continue }
		if (i == 5000 || i == 9000) { print "{\"ts\":\"" ts "\",\"topic\":\"autocore/" d "/telemetry\",\"payload\":{\"device_id\":\"" d "\",\"blob\":\"" long "\",\"temperature\":" i "}}"; continue }
		if (i % 7 == 0) { print "{\"ts\":\"" ts "\",\"topic\":\"autocore/" d "/relay/0/status\",\"payload\":{\"device_id\":\"" d "\",\"state\":" (rand() < 0.5 ? "true" : "false") "}}"; continue }
		if (i % 17 == 0) { print "{\"ts\":\"" ts "\",\"topic\":\"misc/q\\\"" i "\\\"\",\"props\":{\"content_type\":\"text/plain\",\"user\":{\"n\":\"" i "\"}},\"payload\":\"x\\u00e9" i "\"}"; continue }
		if (i % 19 == 0) { print "{\"ts\":\"" ts "\",\"topic\":\"misc/bin\",\"enc\":\"base64\",\"payload\":\"/wAB\"}"; continue }
		if (i % 23 == 0) { print "{\"ts\":\"" ts "\",\"topic\":\"autocore/" d "/status\",\"retain\":true,\"payload\":{\"device_id\":\"" d "\",\"status\":\"" (i % 2 ? "online" : "offline") "\",\"ip_address\":\"10.0.0." i % 250 "\"}}"; continue }
		printf "{\"ts\":\"%s\",\"topic\":\"autocore/%s/telemetry\",\"qos\":1,\"payload\":{\"device_id\":\"%s\",\"temperature\":%.1f,\"sensors\":{\"n\":%d,\"v\":[%d,%d]}}}\n", ts, d, d, 15 + rand() * 20, i, i, -i
	}
}' >"$T/in.ndjson" || hard_error "making the input"
bad=$(awk 'NR % 97 == 0' "$T/in.ndjson" | wc -l)

# the file at once: batches decoded on the second thread (-d says so)
st=0
mqmon-store -d --db "$T/file.db" --tee <"$T/in.ndjson" >"$T/file.tee" 2>"$T/file.err" || st=$?
assert_eq 65 "$st" "exit status with rejected lines"
assert_contains "$T/file.err" "decoding input on a second thread"
cmp "$T/in.ndjson" "$T/file.tee" || fail "--tee output differs from the input (file)"
assert_eq "$bad" "$(grep -c ': line [0-9]*: ' "$T/file.err")" "one error line per rejected line"
assert_contains "$T/file.err" "mqmon-store: line 97: " "mqmon-store: line 2910: "

# the same lines in bursts of 300 with pauses: each burst goes to the
# thread when the pipe runs dry, never a full batch
# (each burst one write, so that the pipe holds it whole)
split -l 300 -d -a 3 "$T/in.ndjson" "$T/burst."
st=0
for f in "$T"/burst.[0-9][0-9][0-9]; do
	cat "$f"
	sleep 0.05
done | mqmon-store -d --db "$T/burst.db" --tee >"$T/burst.tee" 2>"$T/burst.err" || st=$?
assert_eq 65 "$st" "exit status with rejected lines (bursts)"
cmp "$T/in.ndjson" "$T/burst.tee" || fail "--tee output differs from the input (bursts)"
assert_contains "$T/burst.err" "decoding input on a second thread"
diff <(grep ': line ' "$T/file.err") <(grep ': line ' "$T/burst.err") >&2 || fail "the errors differ (bursts)"

# the first 1,500 lines 30 at a time, each 30 only once the ones before
# came back through --tee (so never 64 waiting, however slow the machine):
# decoded on the spot, no thread; against the same 1,500 lines from a file
head -n 1500 "$T/in.ndjson" >"$T/in1500.ndjson"
mqmon-store --db "$T/file1500.db" <"$T/in1500.ndjson" 2>/dev/null
mkfifo "$T/trickle.fifo"
run_bg trickle bash -c 'exec <"$1"; shift; exec "$@"' _ "$T/trickle.fifo" \
	mqmon-store -d --db "$T/trickle.db" --tee
exec 7>"$T/trickle.fifo"
for ((k = 30; k <= 1500; k += 30)); do
	sed -n "$((k - 29)),${k}p" "$T/in1500.ndjson" >&7
	wait_lines "$T/trickle.out" "$k" 20
done
exec 7>&-
wait_bg trickle 30 || [[ $BG_STATUS == 65 ]] || fail "(trickle) mqmon-store exited $BG_STATUS: $(tail -n 3 "$T/trickle.err")"
assert_eq 65 "$BG_STATUS" "exit status with rejected lines (trickle)"
mv "$T/trickle.out" "$T/trickle.tee"
cmp "$T/in1500.ndjson" "$T/trickle.tee" || fail "--tee output differs from the input (trickle)"
! grep -q "second thread" "$T/trickle.err" || fail "a trickle of lines started the second thread"

dump() { # DB — every table's rows in their stored order, ingest times left out
	sqlite3 -batch "$1" "
	SELECT 'm', id, ts, topic, device, qos, retain, enc, hex(payload), props FROM messages ORDER BY id;
	SELECT 'r', line, error, hex(input) FROM rejects ORDER BY id;
	SELECT 't', topic, kind, device, first_seen, last_seen, count, last_enc, hex(last_payload) FROM topics ORDER BY topic;
	SELECT 'd', device, online, status, last_seen, first_seen, messages, ip_address, fields, status_topic, status_ts FROM devices ORDER BY device;
	SELECT 's', device, key, value, ts FROM states ORDER BY device, key;
	SELECT 'c', ts, device, key, old_value, new_value FROM state_changes ORDER BY rowid;
	SELECT 'p', ts, device, metric, value FROM metrics;
	PRAGMA integrity_check;"
}
dump "$T/file.db" >"$T/file.dump"
dump "$T/burst.db" >"$T/burst.dump"
diff -u "$T/burst.dump" "$T/file.dump" >&2 || fail "the databases differ (bursts)"
dump "$T/file1500.db" >"$T/file1500.dump"
dump "$T/trickle.db" >"$T/trickle.dump"
diff -u "$T/trickle.dump" "$T/file1500.dump" >&2 || fail "the databases differ (trickle)"
assert_eq 1500 "$(($(grep -c '^m|' "$T/file1500.dump") + $(grep -c '^r|' "$T/file1500.dump") + $(grep -c '"event"' "$T/in1500.ndjson") + $(grep -c '^ *$' "$T/in1500.ndjson")))" \
	"the trickle's lines all accounted for"

# and the dump holds what the input says, so equal is not equally empty
good=$(grep -c '"topic"' "$T/in.ndjson")
assert_eq $((good - bad)) "$(grep -c '^m|' "$T/file.dump")" "messages stored"
assert_eq "$bad" "$(grep -c '^r|' "$T/file.dump")" "rejects stored"
assert_eq "$(awk -F'|' '$1 == "m" { print $2 }' "$T/file.dump" | paste -sd,)" "$(seq 1 $((good - bad)) | paste -sd,)" \
	"message ids in input order"
assert_eq "12000.0|-12000.0" "$(sqlite3 "$T/file.db" "SELECT max(value), min(value) FROM metrics WHERE metric LIKE 'sensors.v.%'")" \
	"the last telemetry line's readings"
assert_eq 2 "$(sqlite3 "$T/file.db" "SELECT count(*) FROM messages WHERE length(payload) > 100000")" "the two long lines"
assert_eq ok "$(tail -n 1 "$T/file.dump")" "integrity"
exit 0
