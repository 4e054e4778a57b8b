#!/usr/bin/env bash
# mqmon-pub's flow control: --max-inflight N caps the messages awaiting an
# ack, it does not exit before the last ack, --rate N holds the rate within
# 10 % over 5 s, and a 1,000,000-line QoS 1 stream is delivered whole
# (mosquitto_pub -l loses lines past 65,535 there: message-id wrap).
. "${srcdir:-.}/tests/lib.sh"
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

# --- --max-inflight, and no exit before the last ack: acks are held back
# by a paused proxy; exactly N messages go out, then mqmon-pub waits
proxy_start "$BROKER_PORT"
run_bg sub mqmon-sub "${P[@]}" -i flowsub -q 1 -t 'fl/#' -F raw
wait_contains "$(broker_log)" "flowsub 1 fl/#"
# the lines come through a FIFO, written only once the proxy is paused
# (held open read-write first, so mqmon-pub's open does not block)
mkfifo "$T/fifo"
exec 7<>"$T/fifo"
run_bg pub bash -c 'exec 7>&- <"$1"; shift; exec "$@"' _ "$T/fifo" \
	mqmon-pub -p "$PROXY_PORT" -t fl/x -q 1 -l --max-inflight 5 -d
wait_contains "$T/pub.err" "received CONNACK"
proxy_pause
seq 1 50 >&7
exec 7>&-
wait_until 5 eval '[ "$(grep -c "sending PUBLISH" "$T/pub.err")" -ge 5 ]' || true
sleep 1
assert_eq 5 "$(grep -c "sending PUBLISH" "$T/pub.err")" "PUBLISH packets sent while no ack can come back"
bg_alive pub || fail "mqmon-pub exited with messages unacknowledged"
proxy_resume
wait_bg pub 20 || fail "mqmon-pub exited $BG_STATUS"
wait_lines "$T/sub.out" 50
assert_numbers "$T/sub.out" 1 50
stop_bg sub
proxy_stop

# --- --rate 100 over 5 s: 500 messages spread over 4.5 to 5.5 s
run_bg rsub mqmon-sub "${P[@]}" -i ratesub -t 'rate/#' -C 500 -W 30
wait_contains "$(broker_log)" "ratesub 0 rate/#"
seq 1 500 | mqmon-pub "${P[@]}" -t rate/x -l --rate 100 || fail "--rate run exited $?"
wait_bg rsub 30 || fail "rate subscriber exited $BG_STATUS"
span=$(sed -n 's/^{"ts":"[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z".*/\1 \2 \3/p' "$T/rsub.out" |
	awk 'NR == 1 { first = $1 * 3600 + $2 * 60 + $3 } { last = $1 * 3600 + $2 * 60 + $3 }
	     END { d = last - first; if (d < 0) d += 86400; printf "%.3f", d }')
note "500 messages at --rate 100 took ${span} s (5 s expected, 10 % allowed)"
awk -v s="$span" 'BEGIN { exit !(s >= 4.5 && s <= 5.5) }' || fail "--rate 100: 500 messages took $span s"

# --- 1,000,000 QoS 1 lines: every one delivered, counted by a subscriber
if [[ ${MQMON_SANITIZERS:-} == 1 ]]; then
	note "1,000,000-line run skipped in the sanitizer build"
	exit 0
fi
M=${MQMON_MILLION:-1000000}
[[ ${MQMON_QUICK:-} == 1 ]] && M=100000
run_bg msub mqmon-sub "${P[@]}" -i millionsub -q 1 -t 'million/#' -F raw
wait_contains "$(broker_log)" "millionsub 1 million/#"
seq 1 "$M" >"$T/million"
mqmon-pub "${P[@]}" -t million/x -q 1 -l <"$T/million" || fail "the 1,000,000-line run exited $?"
wait_lines "$T/msub.out" "$M" 60
stop_bg msub
assert_numbers "$T/msub.out" 1 "$M"
note "$M of $M QoS 1 lines delivered"
exit 0
