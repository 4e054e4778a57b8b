#!/usr/bin/env bash
# mqmon-sub's memory stays flat: its resident set after 1,000,000 messages
# is within 1 MiB of what it was after 10,000.  (Skipped in the sanitizer
# build, whose allocator makes RSS meaningless and the run slow.)
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build"
FIRST=10000
TOTAL=${MQMON_MEMORY_N:-1000000}
[[ ${MQMON_QUICK:-} == 1 ]] && TOTAL=200000
broker_start --extra "log_type subscribe"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# ~100-byte JSON telemetry bodies, numbered; props on some so that path runs too
gen() { # FROM TO
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++)
		printf "{\"device_id\":\"ESP32_%03d\",\"temperature\":%.2f,\"humidity\":45.20,\"voltage\":3.28,\"n\":%d}\n", i % 100, 20 + (i % 1000) / 100, i }'
}
gen 1 "$FIRST" >"$T/first.txt"
gen $((FIRST + 1)) "$TOTAL" >"$T/rest.txt"

run_bg sub mqmon-sub -p "$BROKER_PORT" -i memsub -t "mem/#"
wait_contains "$(broker_log)" "memsub 0 mem/#"
pid=$(bg_pid sub)

mqmon-pub -p "$BROKER_PORT" -t mem/t -l <"$T/first.txt" || fail "publishing the first batch"
wait_lines "$T/sub.out" "$FIRST" 30
sleep 0.5
rss_first=$(rss_kib "$pid")

mqmon-pub -p "$BROKER_PORT" -t mem/t -l <"$T/rest.txt" || fail "publishing the rest"
wait_lines "$T/sub.out" "$TOTAL" 120
sleep 0.5
rss_last=$(rss_kib "$pid")
stop_bg sub
note "RSS after $FIRST messages: $rss_first KiB; after $TOTAL: $rss_last KiB"
[ "$((rss_last - rss_first))" -le 1024 ] ||
	fail "memory grew by $((rss_last - rss_first)) KiB between $FIRST and $TOTAL messages"
exit 0
