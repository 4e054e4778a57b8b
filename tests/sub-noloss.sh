#!/usr/bin/env bash
# No loss with mqmon-sub -c -i ID -q 1 while a publisher keeps sending QoS 1
# messages numbered 1..N: (a) through a TCP proxy that is killed and
# restarted (a network cut), (b) while the broker is stopped with SIGTERM
# and restarted with persistence on.  Every number must arrive (duplicates
# are allowed at QoS 1, so distinct numbers are counted, never -C N).
# (c) With the broker killed by SIGKILL the subscriber reconnects by itself
# and goes on; mosquitto may lose what it had not saved, so the count is
# reported, and everything published after the restart must arrive.
# (d) The subscriber stopped with SIGTERM while queued messages pour in,
# then started again: every number arrives across the two runs.
. "${srcdir:-.}/tests/lib.sh"
N=${MQMON_NOLOSS_N:-3000}
RATE=1500
broker_start --persist --extra "log_type subscribe"

distinct() { distinct_numbers "$1" | wc -l; }
all_arrived() { [ "$(distinct "$1")" -ge "$2" ]; }

# round NAME SUB-PORT DISTURB RECOVER: a persistent subscriber on SUB-PORT,
# a publisher sending 1..N straight to the broker, disturbed at a quarter
# and recovered 0.7 s later; the subscriber keeps running afterwards
round() {
	local name=$1 port=$2 disturb=$3 recover=$4
	run_bg "sub$name" mqmon-sub -p "$port" -c -i "sub$name" -q 1 -t "nl/$name" -F raw --reconnect-delay 0.1:0.5
	wait_contains "$(broker_log)" "sub$name 1 nl/$name"
	run_bg "pub$name" bash -c "seq 1 $N | mqmon-pub -p $BROKER_PORT -t nl/$name -q 1 -l --rate $RATE --reconnect-delay 0.1:0.5"
	wait_until 10 all_arrived "$T/sub$name.out" $((N / 4)) || fail "($name) nothing arrives before $disturb"
	$disturb
	sleep 0.7
	$recover
	wait_bg "pub$name" 30 || fail "($name) publisher exited $BG_STATUS: $(cat "$T/pub$name.err")"
}

# --- (a) network cut between subscriber and broker
proxy_start "$BROKER_PORT"
round a "$PROXY_PORT" proxy_stop proxy_restart
wait_until 20 all_arrived "$T/suba.out" "$N" || true
stop_bg suba
assert_numbers "$T/suba.out" 1 "$N"
assert_contains "$T/suba.err" "connection lost" "connected to localhost:$PROXY_PORT"
note "(a) network cut: $(distinct "$T/suba.out") of $N distinct, $(count_lines "$T/suba.out") lines"

# --- (b) broker stopped (SIGTERM, persistence saved) and restarted
round b "$BROKER_PORT" broker_stop broker_restart
wait_until 20 all_arrived "$T/subb.out" "$N" || true
stop_bg subb
assert_numbers "$T/subb.out" 1 "$N"
assert_contains "$T/pubb.err" "connection lost"
note "(b) broker restart: $(distinct "$T/subb.out") of $N distinct, $(count_lines "$T/subb.out") lines"

# --- (c) broker killed with SIGKILL: reconnects by itself and goes on
round c "$BROKER_PORT" broker_kill9 broker_restart
# after the restart: a fresh batch, all of which must arrive
seq $((N + 1)) $((N + 200)) | mqmon-pub -p "$BROKER_PORT" -t nl/c -q 1 -l
wait_until 20 eval '[ "$(distinct_numbers "$T/subc.out" | awk -v n='"$N"' '"'"'$1 > n'"'"' | wc -l)" -ge 200 ]' ||
	fail "(c) messages published after the SIGKILL restart did not all arrive"
stop_bg subc
assert_contains "$T/subc.err" "connection lost" "connected to localhost:$BROKER_PORT"
note "(c) SIGKILL: $(distinct_numbers "$T/subc.out" | awk -v n="$N" '$1 <= n' | wc -l) of $N distinct before the kill window survived"

# --- (d) the subscriber itself stopped with SIGTERM in the middle of a
# flood of queued messages, then started again with the same session:
# what it had taken in it printed, what it had not the broker kept
Q=20000
run_bg subd1 mqmon-sub -p "$BROKER_PORT" -c -i subd -q 1 -t nl/d -F raw
wait_contains "$(broker_log)" "subd 1 nl/d"
stop_bg subd1
seq 1 "$Q" | mqmon-pub -p "$BROKER_PORT" -t nl/d -q 1 -l || fail "(d) the publisher exited $?"
# a slow reader: the pipe fills, mqmon-sub waits on it with more
# messages in its socket when SIGTERM comes
run_bg subd2 bash -c "mqmon-sub -p $BROKER_PORT -c -i subd -q 1 -t nl/d -F raw | { sleep 1.5; cat; }"
wait_until 10 eval '[ "$(grep -c "as subd " "$(broker_log)")" -ge 2 ]' || fail "(d) the subscriber did not come back"
sleep 0.5
pkill -TERM -f -- "^mqmon-sub -p [0-9]* -c -i subd " || fail "(d) no mqmon-sub to stop"
wait_bg subd2 20 || fail "(d) the slow reader's pipeline exited $BG_STATUS"
first=$(distinct "$T/subd2.out")
((first < Q)) || note "(d) the whole queue arrived before SIGTERM: the window was not tested"
run_bg subd3 mqmon-sub -p "$BROKER_PORT" -c -i subd -q 1 -t nl/d -F raw
wait_until 20 eval 'all_arrived <(cat "$T/subd2.out" "$T/subd3.out") "$Q"' || true
stop_bg subd3
cat "$T/subd2.out" "$T/subd3.out" >"$T/subd.out"
assert_numbers "$T/subd.out" 1 "$Q"
note "(d) SIGTERM of the subscriber: $first then $(distinct "$T/subd3.out") of $Q distinct"
exit 0
