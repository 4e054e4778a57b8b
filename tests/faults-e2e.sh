#!/usr/bin/env bash
# Faults end to end through the five programs, in one run:
#
#   mqmon-pub --rate R  ->  broker (persistence on)  ->  TCP proxy  ->
#   mqmon-sub -c -i ID -q 1 --events | mqmon-store --db F --tee | mqmon-status
#
# with QoS 1 envelopes numbered 1..N from 10 devices, and meanwhile
# mqmon-cmd --batch commanding mqmon-cmd --respond devices.  The run goes
# through, in this order:
#   - the broker stopped (SIGTERM) and restarted, before the commands;
#   - the broker restarted again in the middle of the command batch;
#   - the network cut for 10 s: the proxy between mqmon-sub and the broker
#     is killed (its connections dropped) and its port refuses connections
#     until it comes back; the broker is restarted a third time in the
#     middle of the cut (the session's queue must survive it);
#   - as the cut ends, mqmon-store is stopped (SIGSTOP) for 5 s while the
#     broker floods mqmon-sub with the queue of the cut: its stdin is not
#     read, the pipe fills and mqmon-sub blocks on it; mqmon-sub's memory
#     must stay bounded (the queue, some 2 MB, stays with the broker) and
#     nothing may be lost after SIGCONT.
# Expected: every number 1..N in the SQLite messages table (duplicates are
# allowed at QoS 1: counted and reported), PRAGMA integrity_check ok;
# mqmon-status prints one stale event per connection mqmon-sub lost and no
# offline event (--offline-after 7 is shorter than the cut: without the
# stale handling every device would go offline); every command gets exactly
# one result, and every acked one was received by the responder.
# shellcheck disable=SC2016,SC2034,SC2317 # conditions eval'd by wait_until
# shellcheck source=tests/lib.sh
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_QUICK:-} == 1 ]] && skip "MQMON_QUICK=1: the plain build runs this one"
require_cmd sqlite3 jq
N=${MQMON_FAULTS_N:-6000}
RATE=300
NCMD=200
if [[ ${MQMON_SANITIZERS:-} == 1 ]]; then
	N=4000
	RATE=200
	NCMD=100
fi
DEVICES=10
broker_start --persist --extra "log_type subscribe"
proxy_start "$BROKER_PORT"

# --- inputs: numbered telemetry of 10 devices, and the commands
# (padded to about 700 bytes, so that the queue of the cut, some 2 MB, would
# show in mqmon-sub's memory if it held what its reader does not take)
awk -v n="$N" -v d="$DEVICES" 'BEGIN { while (length(pad) < 600) pad = pad "x"
	for (i = 1; i <= n; i++)
	printf "{\"topic\":\"fe/D%02d/telemetry\",\"qos\":1,\"payload\":{\"n\":%d,\"temperature\":%d.5,\"note\":\"%s\"}}\n", i % d, i, 20 + i % 10, pad }' \
	>"$T/in.ndjson"
awk -v n="$NCMD" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"device\":\"dev%02d\",\"command\":\"set\",\"params\":{\"n\":%d}}\n", i % 20, i }' >"$T/cmd.in"

# --- the pipeline, each stage its own process (own pid, own stderr), joined
# by FIFOs that each stage opens itself once started
mkfifo "$T/sub-store" "$T/store-status"
stage() { # NAME IN OUT CMD...
	local name=$1 in=$2 out=$3
	shift 3
	run_bg "$name" bash -c 'in=$1 out=$2; shift 2; exec "$@" <"$in" >"$out"' _ "$in" "$out" "$@"
}
stage status "$T/store-status" "$T/status.out" mqmon-status --offline-after 7
stage store "$T/sub-store" "$T/store-status" mqmon-store --db "$T/fe.db" --tee
stage sub /dev/null "$T/sub-store" mqmon-sub -p "$PROXY_PORT" -c -i fesub -q 1 --events -t 'fe/#' \
	--reconnect-delay 0.1:0.5
run_bg resp mqmon-cmd -p "$BROKER_PORT" -c -i feresp -q 1 --respond --reconnect-delay 0.1:0.5
wait_contains "$(broker_log)" "fesub 1 fe/#"
wait_contains "$(broker_log)" "feresp 1 devices/+/command"

sql() { sqlite3 -batch -cmd '.timeout 10000' "$T/fe.db" "$@" 2>/dev/null; }
# the numbers stored so far (committed)
stored_distinct() { sql 'SELECT payload FROM messages' | sed -nE 's/^[^0-9]*([0-9]+).*/\1/p' | sort -u | wc -l; }
stored_ge() { [ "$(stored_distinct)" -ge "$1" ]; }
rss() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
lost_count() { grep -c "connection lost" "$T/sub.err" || :; }
conn_count() { grep -c "connected to localhost:$PROXY_PORT" "$T/sub.err" || :; }
sub_pid=$(bg_pid sub)
store_pid=$(bg_pid store)

run_bg --stdin "$T/in.ndjson" pub mqmon-pub -p "$BROKER_PORT" --rate "$RATE" --reconnect-delay 0.1:0.5
wait_until 20 stored_ge $((RATE / 2)) || fail "nothing reaches the database"
rss_start=$(rss "$sub_pid" VmRSS)

# --- broker restart 1
broker_restart
wait_until 10 stored_ge $((RATE * 2)) || fail "nothing flows after the first broker restart"

# --- commands, with broker restart 2 in the middle of the batch
run_bg --stdin "$T/cmd.in" cmd mqmon-cmd -p "$BROKER_PORT" -q 1 --batch --rate 50 --max-pending 20 \
	--timeout 1 --retries 10 --reconnect-delay 0.1:0.5
wait_until 10 eval '[ "$(count_lines "$T/cmd.out")" -ge $((NCMD / 3)) ]' || fail "no command results before the restart"
results_before=$(count_lines "$T/cmd.out")
broker_restart
((results_before < NCMD)) || fail "the command batch ended before the broker restart"
note "broker restarted with $results_before of $NCMD command results in"
before_cut=$(stored_distinct)
wait_until 10 stored_ge $((before_cut + RATE)) || fail "nothing flows after the second broker restart"

# --- the network cut: 10 s, the broker restarted in the middle of it
lost_before=$(lost_count)
conn_before=$(conn_count)
at_cut=$(stored_distinct)
proxy_stop
now_s() { echo "${EPOCHREALTIME/[^0-9]/.}"; }
cut_start=$(now_s)
wait_until 5 eval '[ "$(lost_count)" -gt "$lost_before" ]' || fail "mqmon-sub did not notice the cut"
sleep 4
broker_restart
sleep "$(awk -v s="$cut_start" -v now="$(now_s)" 'BEGIN { d = s + 10 - now; printf "%.3f", (d > 0 ? d : 0) }')"
refused=$(grep -c "Connection refused" "$T/sub.err" || :)
# --- the blocked consumer: mqmon-store stops reading for 5 s from the end of
# the cut, while the queue of the cut pours into mqmon-sub
kill -STOP "$store_pid"
stop_start=$(now_s)
paused_at=$(stored_distinct)
proxy_restart
cut_end=$(now_s)
note "network cut: $(awk -v a="$cut_start" -v b="$cut_end" 'BEGIN { printf "%.1f", b - a }') s from $at_cut numbers stored, $refused connection attempts refused meanwhile"
((refused > 0)) || fail "no connection attempt was refused during the cut: $(tail -n 5 "$T/sub.err")"

wait_until 10 eval '[ "$(conn_count)" -gt "$conn_before" ]' || fail "mqmon-sub did not reconnect after the cut"
rss_max=0
while awk -v s="$stop_start" -v now="$(now_s)" 'BEGIN { exit !(now - s < 5) }'; do
	sleep 0.2
	r=$(rss "$sub_pid" VmRSS)
	((r > rss_max)) && rss_max=$r
done
wchan=$(cat "/proc/$sub_pid/wchan" 2>/dev/null || echo '?')
kill -CONT "$store_pid"
note "mqmon-store stopped for 5 s ($paused_at numbers stored then): mqmon-sub waits in '$wchan', VmRSS $rss_start KiB before the run's faults, at most $rss_max KiB during the stop"

# --- the end: everything arrives, the programs end cleanly
wait_bg pub 60 || fail "mqmon-pub exited $BG_STATUS: $(tail -n 5 "$T/pub.err")"
wait_bg cmd 60
cmd_status=$BG_STATUS
wait_until 30 stored_ge "$N" || :
hwm=$(rss "$sub_pid" VmHWM)
stop_bg sub
assert_eq 0 "$BG_STATUS" "mqmon-sub's exit status"
wait_bg store 20 || fail "mqmon-store exited $BG_STATUS: $(tail -n 5 "$T/store.err")"
wait_bg status 20 || fail "mqmon-status exited $BG_STATUS: $(tail -n 5 "$T/status.err")"
stop_bg resp

# every number, duplicates counted
sql 'SELECT payload FROM messages' >"$T/stored.txt"
assert_numbers "$T/stored.txt" 1 "$N"
rows=$(count_lines "$T/stored.txt")
assert_eq ok "$(sql 'PRAGMA integrity_check')" "PRAGMA integrity_check"
note "stored: $N of $N distinct, $rows rows ($((rows - N)) duplicates) after 3 broker restarts, a 10 s cut and a 5 s stop"

# memory: mqmon-sub did not buffer what its reader would not take
if [[ ${MQMON_SANITIZERS:-} == 1 ]]; then
	note "sanitizer build: mqmon-sub's VmHWM $hwm KiB (not judged)"
else
	note "mqmon-sub: VmHWM $hwm KiB over the whole run"
	((rss_max - rss_start <= 1024)) || fail "mqmon-sub's RSS grew by $((rss_max - rss_start)) KiB while its reader was stopped"
	((hwm - rss_start <= 2048)) || fail "mqmon-sub's peak RSS $hwm KiB is $((hwm - rss_start)) KiB over its $rss_start KiB at the start"
fi

# mqmon-status: a stale event per lost connection, no offline storm
lost=$(lost_count)
stale=$(jq -r 'select(.event == "stale") | .event' "$T/status.out" | wc -l)
offline=$(jq -r 'select(.event == "offline") | .device' "$T/status.out" | wc -l)
online=$(jq -r 'select(.event == "online") | .device' "$T/status.out" | wc -l)
note "mqmon-sub lost its connection $lost times; mqmon-status: $stale stale, $offline offline, $online online events"
((lost >= 3)) || fail "mqmon-sub lost its connection $lost times (3 expected: 2 broker restarts, 1 cut)"
assert_eq "$lost" "$stale" "stale events (one per connection lost by mqmon-sub)"
assert_eq 0 "$offline" "offline events"
assert_eq "$DEVICES" "$online" "online events (one per device, at its start)"

# commands: exactly one result each; what was acked, the devices got
jq -r '[.status, .response.params.n // "-"] | join(" ")' "$T/cmd.out" >"$T/cmd.status"
assert_eq "$NCMD" "$(count_lines "$T/cmd.out")" "result lines"
assert_eq "$NCMD" "$(jq -r 'select(.event == "result") | .id' "$T/cmd.out" | sort -u | grep -c .)" "distinct command ids in results"
jq -r 'select(.status == "acked") | .id' "$T/cmd.out" | sort -u >"$T/acked.ids"
jq -r '.payload.id' "$T/resp.out" | sort -u >"$T/executed.ids"
unexecuted=$(comm -23 "$T/acked.ids" "$T/executed.ids" | wc -l)
assert_eq 0 "$unexecuted" "acked commands the responder never received"
acked=$(count_lines "$T/acked.ids")
got=$(jq -r '.payload.id' "$T/resp.out" | wc -l)
note "commands: $NCMD results ($(jq -r .status "$T/cmd.out" | sort | uniq -c | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')), exit $cmd_status; the responder received $got ($(count_lines "$T/executed.ids") distinct)"
assert_eq "$NCMD" "$acked" "acked commands (retries over a restart reach the device)"
assert_eq 0 "$cmd_status" "mqmon-cmd --batch exit status"
exit 0
