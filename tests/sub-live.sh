#!/usr/bin/env bash
# Stream reading (conn_set_stream): while a stream is busy, mqmon-sub lets
# poll() wait for a low-water mark of queued bytes (SO_RCVLOWAT) or a short
# capped wait.  Nothing may be held back by that:
# (a) QoS 0: a flood of N messages, ending with a 10 KB message (below the
#     mark) right behind the flood, all arrive; mqmon-sub -d says it read
#     in batches and, once the stream went idle, that it reads every
#     message at once again; then one more small message, published after
#     the flood has arrived, arrives too (-C N+2 ends the run, status 0).
# (b) the same at QoS 1 (every ack must leave: the broker lets only 20
#     messages of an MQTT 5 client be unacknowledged).
# (c) mqmon-status -t reads its stream the same way: the device of the
#     last message right behind a flood comes online.
. "${srcdir:-.}/tests/lib.sh"
N=50000
N1=20000
if [ "${MQMON_QUICK:-}" = 1 ] || [ "${MQMON_SANITIZERS:-}" = 1 ]; then
	N=20000
	N1=5000
fi
broker_start --extra "log_type subscribe"

# flood NAME QOS COUNT — COUNT numbered lines, then a 10 KB line, published
# at full speed to live/NAME
flood() {
	local big
	big=$(head -c 10000 /dev/zero | tr '\0' x)
	{
		seq 1 "$3"
		echo "$big"
	} >"$T/flood.$1"
	run_bounded 120 mqmon-pub -p "$BROKER_PORT" -q "$2" -t "live/$1" -l <"$T/flood.$1" ||
		fail "($1) the publisher failed"
}

# round NAME QOS COUNT
round() {
	local name=$1 q=$2 n=$3
	run_bg "sub$name" mqmon-sub -d -p "$BROKER_PORT" -i "sub$name" -q "$q" -t "live/$name" -F raw -C $((n + 2))
	wait_contains "$(broker_log)" "sub$name $q live/$name"
	flood "$name" "$q" "$n"
	wait_lines "$T/sub$name.out" $((n + 1)) 60 ||
		fail "($name) $(count_lines "$T/sub$name.out") of $((n + 1)) flood messages arrived"
	# the 10 KB message came last and whole
	assert_eq 10000 "$(sed -n "$((n + 1))p" "$T/sub$name.out" | tr -d '\n' | wc -c)" "($name) size of the message behind the flood"
	# the stream has gone quiet: reads are no longer batched
	wait_contains "$T/sub$name.err" "quiet stream"
	mqmon-pub -p "$BROKER_PORT" -q "$q" -t "live/$name" -m "after-idle" || fail "($name) the last publish failed"
	wait_bg "sub$name" || fail "($name) mqmon-sub -C $((n + 2)) did not end: $(count_lines "$T/sub$name.out") lines"
	assert_eq 0 "$BG_STATUS" "($name) exit status"
	assert_eq "after-idle" "$(tail -n 1 "$T/sub$name.out")" "($name) the message after the idle time"
	head -n "$n" "$T/sub$name.out" >"$T/flood$name.got"
	assert_numbers "$T/flood$name.got" 1 "$n"
	assert_contains "$T/sub$name.err" "busy stream: reading in batches"
	note "($name) QoS $q: $n + 2 messages; batched reads switched on $(grep -c 'busy stream' "$T/sub$name.err") times"
}

round a 0 "$N"
round b 1 "$N1"

# --- (c) mqmon-status -t: the device of the message behind a flood
awk -v n="$N1" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"topic\":\"autocore/D%d/telemetry\",\"payload\":{\"device_id\":\"D%d\",\"temperature\":%d}}\n", i % 50, i % 50, i % 100 }' >"$T/fleet.ndjson"
echo '{"topic":"autocore/LAST/telemetry","payload":{"device_id":"LAST","temperature":77.5}}' >>"$T/fleet.ndjson"
run_bg status mqmon-status -d -p "$BROKER_PORT" -i statuslive -t 'autocore/#' -F json
wait_contains "$(broker_log)" "statuslive 0 autocore/#"
run_bounded 60 mqmon-pub -p "$BROKER_PORT" <"$T/fleet.ndjson" || fail "(c) the publisher failed"
wait_contains "$T/status.out" '"device":"LAST"' 30
wait_contains "$T/status.err" "quiet stream"
stop_bg status
assert_eq 51 "$(grep -c '"event":"online"' "$T/status.out")" "(c) devices online"
assert_contains "$T/status.err" "busy stream: reading in batches"
