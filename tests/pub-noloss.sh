#!/usr/bin/env bash
# Nothing lost by mqmon-pub: 100,000 QoS 1 envelopes piped in while (a) a
# TCP proxy between mqmon-pub and the broker is killed and restarted, and
# (b) the broker is stopped (SIGTERM) and restarted with persistence on; a
# persistent QoS 1 subscriber receives every number.  mqmon-pub exits 0 and
# only after the last ack.  (c) With the broker killed by SIGKILL it
# reconnects by itself and re-sends what was not acknowledged; the count is
# reported (mosquitto may lose what it acknowledged but had not saved).
. "${srcdir:-.}/tests/lib.sh"
N=${MQMON_PUB_NOLOSS_N:-100000}
[[ ${MQMON_SANITIZERS:-} == 1 || ${MQMON_QUICK:-} == 1 ]] && N=20000
broker_start --persist --extra "log_type subscribe"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"topic\":\"pn/t\",\"qos\":1,\"payload\":%d}\n", i }' >"$T/in.ndjson"

# the subscriber: persistent session, QoS 1, raw bodies (the numbers)
run_bg sub mqmon-sub -p "$BROKER_PORT" -c -i pnsub -q 1 -t 'pn/#' -F raw --reconnect-delay 0.1:0.5
wait_contains "$(broker_log)" "pnsub 1 pn/#"
distinct_ge() { [ "$(distinct_numbers "$T/sub.out" | wc -l)" -ge "$1" ]; }
lines_ge() { [ "$(count_lines "$T/sub.out")" -ge "$1" ]; }

# one round: publish N envelopes, disturb at about a fifth, check everything
# arrived; the subscriber's output is reset between rounds
round() { # NAME DISTURB RECOVER PORT
	local name=$1 disturb=$2 recover=$3 port=$4 before
	before=$(count_lines "$T/sub.out")
	run_bg --stdin "$T/in.ndjson" "pub_$name" mqmon-pub -p "$port" --reconnect-delay 0.1:0.5
	wait_until 30 lines_ge $((before + N / 5)) || fail "$name: nothing flows before the disturbance"
	bg_alive "pub_$name" || note "$name: the publisher finished before the disturbance"
	$disturb
	sleep 0.5
	$recover
	wait_bg "pub_$name" 60 || fail "$name: mqmon-pub exited $BG_STATUS: $(cat "$T/pub_$name.err")"
}

# --- (a) network cut between publisher and broker
proxy_start "$BROKER_PORT"
round cut proxy_stop proxy_restart "$PROXY_PORT"
assert_contains "$T/pub_cut.err" "connection lost" "connected to localhost:$PROXY_PORT"
wait_until 30 distinct_ge "$N" || true
assert_numbers "$T/sub.out" 1 "$N"
note "(a) network cut: $N of $N, $(count_lines "$T/sub.out") lines with duplicates"
: >"$T/sub.out"

# --- (b) broker stopped and restarted
round restart broker_stop broker_restart "$BROKER_PORT"
assert_contains "$T/pub_restart.err" "connection lost"
wait_until 30 distinct_ge "$N" || true
assert_numbers "$T/sub.out" 1 "$N"
note "(b) broker restart: $N of $N, $(count_lines "$T/sub.out") lines with duplicates"
: >"$T/sub.out"

# --- (c) broker killed: reconnect, re-send, report the count
round kill broker_kill9 broker_restart "$BROKER_PORT"
assert_contains "$T/pub_kill.err" "connection lost" "connected to localhost:$BROKER_PORT"
sleep 1
note "(c) SIGKILL: $(distinct_numbers "$T/sub.out" | wc -l) of $N arrived (mosquitto may drop what it had not saved)"
# and the pipeline works again afterwards
printf '{"topic":"pn/t","qos":1,"payload":%d}\n' $((N + 1)) | mqmon-pub -p "$BROKER_PORT" || fail "publish after the restart"
wait_contains "$T/sub.out" "$((N + 1))" 20
stop_bg sub
exit 0
