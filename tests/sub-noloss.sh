#!/usr/bin/env bash
# No loss with mqmon-sub -c -i ID -q 1 while a publisher keeps sending QoS 1
# messages numbered 1..N: (a) through a TCP proxy that is killed and
# restarted (a network cut), (b) while the broker is stopped with SIGTERM
# and restarted with persistence on.  Every number must arrive (duplicates
# are allowed at QoS 1, so distinct numbers are counted, never -C N).
# (c) With the broker killed by SIGKILL the subscriber reconnects by itself
# and goes on; mosquitto may lose what it had not saved, so the count is
# reported, and everything published after the restart must arrive.
. "${srcdir:-.}/tests/lib.sh"
N=${MQMON_NOLOSS_N:-3000}
RATE=1500
broker_start --persist --extra "log_type subscribe"

distinct() { distinct_numbers "$1" | wc -l; }
all_arrived() { [ "$(distinct "$1")" -ge "$2" ]; }

# --- (a) network cut between subscriber and broker
proxy_start "$BROKER_PORT"
run_bg subA mqmon-sub -p "$PROXY_PORT" -c -i subA -q 1 -t 'nl/a' -F raw --reconnect-delay 0.1:0.5
wait_contains "$(broker_log)" "subA 1 nl/a"
run_bg pubA bash -c "seq 1 $N | mqmon-pub -p $BROKER_PORT -t nl/a -q 1 -l --rate $RATE"
wait_until 10 all_arrived "$T/subA.out" $((N / 4)) || fail "(a) nothing arrives before the cut"
proxy_stop
sleep 0.7
proxy_restart
wait_bg pubA 30 || fail "(a) publisher exited $BG_STATUS: $(cat "$T/pubA.err")"
wait_until 20 all_arrived "$T/subA.out" "$N" || true
stop_bg subA
assert_numbers "$T/subA.out" 1 "$N"
assert_contains "$T/subA.err" "connection lost" "connected to localhost:$PROXY_PORT"
note "(a) network cut: $(distinct "$T/subA.out") of $N distinct, $(count_lines "$T/subA.out") lines"

# --- (b) broker stopped (SIGTERM, persistence saved) and restarted
run_bg subB mqmon-sub -p "$BROKER_PORT" -c -i subB -q 1 -t 'nl/b' -F raw --reconnect-delay 0.1:0.5
wait_contains "$(broker_log)" "subB 1 nl/b"
run_bg pubB bash -c "seq 1 $N | mqmon-pub -p $BROKER_PORT -t nl/b -q 1 -l --rate $RATE --reconnect-delay 0.1:0.5"
wait_until 10 all_arrived "$T/subB.out" $((N / 4)) || fail "(b) nothing arrives before the restart"
broker_stop
sleep 0.7
broker_restart
wait_bg pubB 30 || fail "(b) publisher exited $BG_STATUS: $(cat "$T/pubB.err")"
wait_until 20 all_arrived "$T/subB.out" "$N" || true
stop_bg subB
assert_numbers "$T/subB.out" 1 "$N"
assert_contains "$T/pubB.err" "connection lost"
note "(b) broker restart: $(distinct "$T/subB.out") of $N distinct, $(count_lines "$T/subB.out") lines"

# --- (c) broker killed with SIGKILL: reconnects by itself and goes on
run_bg subC mqmon-sub -p "$BROKER_PORT" -c -i subC -q 1 -t 'nl/c' -F raw --reconnect-delay 0.1:0.5
wait_contains "$(broker_log)" "subC 1 nl/c"
run_bg pubC bash -c "seq 1 $N | mqmon-pub -p $BROKER_PORT -t nl/c -q 1 -l --rate $RATE --reconnect-delay 0.1:0.5"
wait_until 10 all_arrived "$T/subC.out" $((N / 4)) || fail "(c) nothing arrives before the kill"
broker_kill9
sleep 0.7
broker_restart
wait_bg pubC 30 || fail "(c) publisher exited $BG_STATUS: $(cat "$T/pubC.err")"
# after the restart: a fresh batch, all of which must arrive
seq $((N + 1)) $((N + 200)) | mqmon-pub -p "$BROKER_PORT" -t nl/c -q 1 -l
wait_until 20 eval '[ "$(distinct_numbers "$T/subC.out" | awk -v n='"$N"' '"'"'$1 > n'"'"' | wc -l)" -ge 200 ]' ||
	fail "(c) messages published after the SIGKILL restart did not all arrive"
stop_bg subC
assert_contains "$T/subC.err" "connection lost" "connected to localhost:$BROKER_PORT"
note "(c) SIGKILL: $(distinct_numbers "$T/subC.out" | awk -v n="$N" '$1 <= n' | wc -l) of $N distinct before the kill window survived"
exit 0
