#!/usr/bin/env bash
# mqmon-store's memory stays flat over 5,000,000 ingested envelopes (the
# default rules at work: topics, devices, metrics, states): its resident
# set after all of them is within 2 MiB of what it was after the first
# 500,000, by which point SQLite's page cache (16 MiB) is full.  Skipped in
# the sanitizer build; MQMON_QUICK=1 (make distcheck) runs 1,000,000.
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build"
require_cmd sqlite3
FIRST=500000
TOTAL=5000000
[[ ${MQMON_QUICK:-} == 1 ]] && TOTAL=1000000
DB=$T/mem.db

# envelopes in the FLEETS.md shapes: telemetry, some status and relay changes
gen() { # FROM TO
	awk -v a="$1" -v b="$2" 'BEGIN {
		for (i = a; i <= b; i++) {
			d = sprintf("ESP32_%03d", i % 200); s = i % 20
			if (s == 0)
				printf "{\"topic\":\"autocore/%s/status\",\"retain\":true,\"payload\":{\"device_id\":\"%s\",\"status\":\"%s\",\"ip_address\":\"192.168.1.%d\"}}\n", d, d, (i % 40 ? "online" : "offline"), i % 250
			else if (s == 1)
				printf "{\"topic\":\"autocore/%s/relay/%d/status\",\"payload\":{\"relay_index\":%d,\"state\":%s}}\n", d, i % 4, i % 4, (i % 3 ? "true" : "false")
			else
				printf "{\"topic\":\"autocore/%s/telemetry\",\"payload\":{\"device_id\":\"%s\",\"temperature\":%.1f,\"humidity\":45.2,\"voltage\":3.28,\"memory_free\":%d,\"n\":%d}}\n", d, d, 20 + (i % 100) / 10, 40000 + i % 5000, i
		}
	}'
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
count_ge() { [ "$(sqlite3 -batch "$DB" 'SELECT max(id) FROM messages' 2>/dev/null || echo 0)" -ge "$1" ] 2>/dev/null; }

mkfifo "$T/in"
exec 7<>"$T/in"
run_bg store bash -c 'exec 7>&- <"$1"; shift; exec "$@"' _ "$T/in" mqmon-store --db "$DB"
pid=$(bg_pid store)

gen 1 "$FIRST" >&7
wait_for 120 count_ge "$FIRST"
sleep 0.5
rss_first=$(rss_kib "$pid")

gen $((FIRST + 1)) "$TOTAL" >&7
wait_for 600 count_ge "$TOTAL"
sleep 0.5
rss_last=$(rss_kib "$pid")
exec 7>&-
wait_bg store 60 || fail "mqmon-store exited $BG_STATUS: $(cat "$T/store.err")"
note "RSS after $FIRST envelopes: $rss_first KiB; after $TOTAL: $rss_last KiB"
assert_eq "$TOTAL" "$(sqlite3 -batch "$DB" 'SELECT count(*) FROM messages')" "messages stored"
[ "$((rss_last - rss_first))" -le 2048 ] ||
	fail "memory grew by $((rss_last - rss_first)) KiB between $FIRST and $TOTAL envelopes"
exit 0
