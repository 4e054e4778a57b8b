#!/usr/bin/env bash
# Memory errors and leaks under valgrind: every unit test, the meaning
# layer and mqmon-store on every golden case (ingest, metrics, series of a
# metric the archive does not hold), and a mqmon-sub/mqmon-pub round trip
# against a real broker (one-shot, an envelope stream with a bad line, -l
# lines); mqmon-cmd as responder, for one command, a batch and its shell;
# mqmon-status live, on a snapshot, as a check and on the broker.  Sanitizer builds skip this
# (ASan and valgrind do not mix); they have their own run.
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build"
[[ ${MQMON_QUICK:-} == 1 ]] && skip "quick run (make distcheck): the plain build ran it"
require_cmd valgrind

vg=(valgrind -q --error-exitcode=42 --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect)

for t in "$abs_top_builddir"/tests/check_*; do
	[[ -x $t && $t != *.* ]] || continue
	st=0
	CK_FORK=no "${vg[@]}" --log-file="$T/vg-unit.log" "$t" >/dev/null 2>&1 || st=$?
	[[ $st == 0 ]] || fail "$(basename "$t") under valgrind exited $st: $(head -40 "$T/vg-unit.log")"
done

for in in "$MQMON_SRCDIR"/tests/data/meaning/*.in.ndjson; do
	name=$(basename "$in" .in.ndjson)
	"${vg[@]}" --log-file="$T/vg-dump-$name.log" "$abs_top_builddir/tests/meaning_dump" <"$in" >/dev/null ||
		fail "meaning_dump $name under valgrind: $(cat "$T/vg-dump-$name.log")"
	st=0
	"${vg[@]}" --log-file="$T/vg-store-$name.log" mqmon-store --db "$T/vg.db" <"$in" 2>/dev/null || st=$?
	[[ $st == 0 || $st == 65 ]] || fail "mqmon-store $name under valgrind: $st: $(cat "$T/vg-store-$name.log")"
done
"${vg[@]}" --log-file="$T/vg-metrics.log" mqmon-store --db "$T/vg.db" metrics >/dev/null ||
	fail "mqmon-store metrics under valgrind: $(cat "$T/vg-metrics.log")"
st=0
"${vg[@]}" --log-file="$T/vg-series.log" mqmon-store --db "$T/vg.db" series --device ESP32_001 --metric nope \
	>/dev/null 2>&1 || st=$?
assert_eq 1 "$st" "series of a missing metric under valgrind"

# mqmon-status: live on every golden case with every kind of news, then a
# snapshot, a check and the Prometheus file from the archive just written
for in in "$MQMON_SRCDIR"/tests/data/meaning/*.in.ndjson; do
	name=$(basename "$in" .in.ndjson)
	st=0
	"${vg[@]}" --log-file="$T/vg-status-$name.log" mqmon-status --offline-after 30 --alert 'temperature > 20' \
		--alert 'voltage < 13 for 1m' --zscore 2 --window 4 --group vehicle_id --prom "$T/vg.prom" <"$in" \
		>/dev/null 2>&1 || st=$?
	[[ $st == 0 || $st == 65 ]] || fail "mqmon-status $name under valgrind: $st: $(cat "$T/vg-status-$name.log")"
done
"${vg[@]}" --log-file="$T/vg-status-db.log" mqmon-status --db "$T/vg.db" --metric temperature -F table >"$T/snap.out" ||
	fail "mqmon-status --db under valgrind: $(cat "$T/vg-status-db.log")"
assert_contains "$T/snap.out" "ESP32_001"
st=0
"${vg[@]}" --log-file="$T/vg-status-check.log" mqmon-status --check --db "$T/vg.db" --crit-offline 100% \
	--prom "$T/vg2.prom" >"$T/check.out" || st=$?
[[ $st == 0 || $st == 1 ]] || fail "mqmon-status --check under valgrind: $st: $(cat "$T/check.out" "$T/vg-status-check.log")"
assert_contains "$T/vg2.prom" "mqmon_device_online{device=\"ESP32_001\"}"

broker_start --extra "log_type subscribe"
"${vg[@]}" --log-file="$T/vg-status-broker.log" mqmon-status -p "$BROKER_PORT" --broker -F ndjson -W 20 \
	>"$T/broker.out" || fail "mqmon-status --broker under valgrind: $(cat "$T/vg-status-broker.log")"
assert_contains "$T/broker.out" "version"
run_bg sub "${vg[@]}" --log-file="$T/vg-sub.log" mqmon-sub -p "$BROKER_PORT" -t 'vg/#' -C 5 -W 60 --events
wait_contains "$T/sub.out" '"event":"connected"' 30
"${vg[@]}" --log-file="$T/vg-pub1.log" mqmon-pub -p "$BROKER_PORT" -t vg/one -m '{"a":1}' -q 1 ||
	fail "mqmon-pub -m under valgrind: $(cat "$T/vg-pub1.log")"
st=0
printf '{"topic":"vg/two","payload":"x","props":{"user":{"k":["a","b"]}}}\nnot json\n{"topic":"vg/three","enc":"base64","payload":"/w=="}\n' |
	"${vg[@]}" --log-file="$T/vg-pub2.log" mqmon-pub -p "$BROKER_PORT" -q 1 2>/dev/null || st=$?
assert_eq 65 "$st" "mqmon-pub stream exit status under valgrind (one bad line)"
printf 'four\nfive\n' | "${vg[@]}" --log-file="$T/vg-pub3.log" mqmon-pub -p "$BROKER_PORT" -t vg/lines -l ||
	fail "mqmon-pub -l under valgrind: $(cat "$T/vg-pub3.log")"
wait_bg sub 60 || fail "mqmon-sub under valgrind exited $BG_STATUS: $(cat "$T/vg-sub.log")"

# mqmon-cmd: the responder, one command, a batch, and the shell on piped
# input, each under valgrind
run_bg resp "${vg[@]}" --log-file="$T/vg-resp.log" mqmon-cmd -p "$BROKER_PORT" -i vgresp --respond --progress
wait_until 60 grep -q 'vgresp 0 devices/+/command' "$(broker_log)" || fail "the responder under valgrind did not subscribe"
"${vg[@]}" --log-file="$T/vg-cmd1.log" mqmon-cmd -p "$BROKER_PORT" -W 30 ESP32_001 relay index=0 state=true >"$T/cmd1.out" ||
	fail "mqmon-cmd under valgrind: $(cat "$T/vg-cmd1.log")"
assert_contains "$T/cmd1.out" '"status":"acked"'
{
	for i in $(seq 1 50); do printf '{"device":"d%d","command":"set","params":{"n":%d}}\n' "$i" "$i"; done
	echo 'not a command'
} | "${vg[@]}" --log-file="$T/vg-cmd2.log" mqmon-cmd -p "$BROKER_PORT" -W 30 --batch --max-pending 10 >"$T/cmd2.out" 2>/dev/null ||
	st=$?
assert_eq 65 "$st" "mqmon-cmd --batch under valgrind, one bad line"
assert_eq 50 "$(grep -c '"status":"acked"' "$T/cmd2.out")" "acked commands of the batch under valgrind"
printf 'help\nuse d1\nrestart\nwatch x/#\ndevices\nbogus/x y\n' |
	"${vg[@]}" --log-file="$T/vg-cmd3.log" mqmon-cmd -p "$BROKER_PORT" -W 30 -I >"$T/cmd3.out" 2>&1 ||
	fail "mqmon-cmd -I under valgrind: $(cat "$T/vg-cmd3.log")"
assert_contains "$T/cmd3.out" '"device":"d1","command":"restart","status":"acked"'
stop_bg resp
assert_eq 6 "$(count_lines "$T/sub.out")" "lines from mqmon-sub (an event and five messages)"
for log in "$T"/vg-*.log; do
	[[ -s $log ]] && fail "valgrind reported problems: $(cat "$log")"
done
exit 0
