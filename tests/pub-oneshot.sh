#!/usr/bin/env bash
# mqmon-pub as a mosquitto_pub user expects it (issue 11): a one-shot or -l
# publish to a broker it cannot reach fails at once (one attempt, status 1,
# one line), while a stream retries and -l, once connected, rides out a
# lost connection; one-shot and -l messages carry MQTT 5 properties, given
# as options or as mosquitto_pub's "-D publish NAME VALUE", and they arrive
# at a real subscriber; with -V 311 they are a usage error; --simulate says
# what it plays, reports an unreachable broker once for all its devices,
# and ends with a summary whose counts are what a subscriber received.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")
DEAD=$(freeport) # nothing listens there
D=(-h 127.0.0.1 -p "$DEAD")

# --- unreachable broker: one attempt, one line, status 1
once_fails() { # WHAT ARGS...: mqmon-pub with stdin from $T/stdin
	local what=$1 st=0
	shift
	run_bounded 30 mqmon-pub "${D[@]}" "$@" <"$T/stdin" >"$T/once.out" 2>"$T/once.err" || st=$?
	assert_eq 1 "$st" "$what: exit status with nothing listening"
	assert_eq "mqmon-pub: cannot connect to 127.0.0.1:$DEAD: Connection refused" "$(cat "$T/once.err")" \
		"$what: stderr (one attempt, no retry)"
}
printf 'a line\n' >"$T/stdin"
printf 'body' >"$T/body"
once_fails -m -t x -m hello
once_fails "-m -q 1" -t x -m hello -q 1
once_fails -f -t x -f "$T/body"
once_fails -n -t x -n -r
once_fails -s -t x -s
once_fails -l -t x -l
once_fails "-m with properties" -t x -m hello --content-type text/plain -D publish user-property k v

# a stream retries before it gives up (here within a short --connect-timeout)
printf '{"topic":"x","payload":1}\n' >"$T/stream"
st=0
run_bounded 30 mqmon-pub "${D[@]}" --connect-timeout 1.5 --reconnect-delay 0.2:0.4 <"$T/stream" 2>"$T/stream.err" || st=$?
assert_eq 1 "$st" "stream: exit status with nothing listening"
assert_contains "$T/stream.err" "mqmon-pub: cannot connect to 127.0.0.1:$DEAD: Connection refused; retrying in"

# -l, once connected, rides out a lost connection: nothing is lost
run_bg lsub mqmon-sub "${P[@]}" -i lsub -q 1 -t 'l/#' -C 2 -F raw -W 30
wait_contains "$(broker_log)" "lsub 1 l/#"
proxy_start "$BROKER_PORT"
# (the second line comes once $T/go exists)
run_bg lpub sh -c '{ echo one; while [ ! -e "$1" ]; do sleep 0.1; done; echo two; } |
	exec mqmon-pub -p "$2" -t l/x -l -q 1 --reconnect-delay 0.1:0.3' sh "$T/go" "$PROXY_PORT"
wait_lines "$T/lsub.out" 1
proxy_stop
wait_contains "$T/lpub.err" "connection lost"
touch "$T/go"
sleep 0.5
proxy_restart
wait_bg lpub 20 || fail "-l across a lost connection exited $BG_STATUS: $(cat "$T/lpub.err")"
wait_bg lsub 20 || fail "the -l subscriber exited $BG_STATUS"
assert_eq 'one
two' "$(cat "$T/lsub.out")" "-l lines across a lost connection"
assert_contains "$T/lpub.err" "connected to localhost:$PROXY_PORT"

# --- properties arrive at a subscriber
run_bg props mqmon-sub "${P[@]}" -i props -q 1 -t 'pr/#' -C 4 -W 30
wait_contains "$(broker_log)" "props 1 pr/#"
if command -v mosquitto_sub >/dev/null 2>&1; then
	run_bg mprops mosquitto_sub "${P[@]}" -V 5 -i mprops -q 1 -t pr/dash -C 1 -W 30 -F '%t|%P|%C|%R|%D|%E|%F|%p'
	wait_contains "$(broker_log)" "mprops 1 pr/dash"
fi
mqmon-pub "${P[@]}" -q 1 -t pr/long -m hello -x 3600 --content-type text/plain --response-topic pr/reply \
	--correlation-data req-42 --user-property k=v --user-property k=w --user-property 'eq=a=b' ||
	fail "one shot with the property options"
# mosquitto_pub's spelling, -D before -t and between the others
mqmon-pub "${P[@]}" -D publish user-property origin ops -q 1 -t pr/dash -m body \
	-D publish message-expiry-interval 600 -D publish content-type application/json \
	-D publish response-topic pr/answer -D publish correlation-data c-7 \
	-D publish payload-format-indicator 1 -D publish user-property sign -1 ||
	fail "one shot with -D publish"
printf 'first\nsecond\n' | mqmon-pub "${P[@]}" -q 1 -t pr/lines -l --user-property line=yes -x 60 ||
	fail "-l with properties"
wait_bg props 20 || fail "the properties subscriber exited $BG_STATUS: $(cat "$T/props.err")"
has() { # WHAT JQ-CONDITION
	jq -se "any(.[]; $2)" "$T/props.out" >/dev/null || fail "no message $1 in:
$(cat "$T/props.out")"
}
# (the broker passes on the expiry that is left: a second may have gone)
has "with the option properties" '.topic == "pr/long" and .payload == "hello"
	and .props.content_type == "text/plain" and .props.response_topic == "pr/reply"
	and .props.correlation_data == "req-42" and .props.message_expiry >= 3598
	and .props.message_expiry <= 3600 and .props.user == {"k": ["v", "w"], "eq": "a=b"}
	and (.props | has("payload_format") | not)'
has "with the -D properties" '.topic == "pr/dash" and .payload == "body"
	and .props.content_type == "application/json" and .props.response_topic == "pr/answer"
	and .props.correlation_data == "c-7" and .props.message_expiry >= 598
	and .props.message_expiry <= 600 and .props.payload_format == 1
	and .props.user == {"origin": "ops", "sign": "-1"}'
assert_eq 2 "$(jq -s 'map(select(.topic == "pr/lines" and .props.user == {"line": "yes"}
	and .props.message_expiry >= 58)) | length' "$T/props.out")" "-l lines with their properties"
if command -v mosquitto_sub >/dev/null 2>&1; then
	wait_bg mprops 20 || fail "mosquitto_sub exited $BG_STATUS: $(cat "$T/mprops.err")"
	line=$(cat "$T/mprops.out")
	case $line in
	"pr/dash|origin:ops sign:-1|application/json|pr/answer|c-7|"59[89]"|1|body" | "pr/dash|origin:ops sign:-1|application/json|pr/answer|c-7|600|1|body") ;;
	*) fail "mosquitto_sub -V 5 saw other properties: $line" ;;
	esac
fi

# --- usage errors: status 2, the message, nothing published
usage() { # EXPECTED ARGS...
	local want=$1 st=0
	shift
	run_bounded 20 mqmon-pub "${P[@]}" --connect-timeout 1 "$@" </dev/null 2>"$T/usage.err" || st=$?
	assert_eq 2 "$st" "exit status of mqmon-pub $*"
	assert_eq "$want" "$(head -1 "$T/usage.err")" "message of mqmon-pub $*"
}
run_bg v3 mqmon-sub "${P[@]}" -i v3 -t 'v3/#' -W 3
wait_contains "$(broker_log)" "v3 0 v3/#"
usage "mqmon-pub: --content-type needs MQTT 5: MQTT 3.1.1 messages carry no properties" \
	-V 311 -t v3/a -m x --content-type text/plain
usage "mqmon-pub: --message-expiry needs MQTT 5: MQTT 3.1 messages carry no properties" \
	-V 31 -t v3/a -m x -x 60
usage "mqmon-pub: -D publish user-property needs MQTT 5: MQTT 3.1.1 messages carry no properties" \
	-V mqttv311 -t v3/a -l -D publish user-property k v
usage "mqmon-pub: --user-property: 'k' is not KEY=VALUE" -t v3/a -m x --user-property k
usage "mqmon-pub: -D: publish user-property needs a key and a value" -t v3/a -m x -D publish user-property k
usage "mqmon-pub: -D: 'connect': mqmon-pub sets only the properties of its messages: -D publish NAME VALUE" \
	-t v3/a -m x -D connect session-expiry-interval 60
usage "mqmon-pub: -D: 'topic-alias' is not a property mqmon-pub sets (message-expiry-interval, content-type, response-topic, correlation-data, payload-format-indicator, user-property)" \
	-t v3/a -m x -D publish topic-alias 1
usage "mqmon-pub: -D: payload-format-indicator is 0 (bytes) or 1 (UTF-8 text), not '2'" \
	-t v3/a -m x -D publish payload-format-indicator 2
usage "mqmon-pub: --response-topic: 'v3/#' contains a wildcard ('+' or '#')" -t v3/a -m x --response-topic 'v3/#'
usage "mqmon-pub: -x: '1.5' is not a whole number of seconds from 0 to 4294967295" -t v3/a -m x -x 1.5
usage "mqmon-pub: --content-type applies to -m, -f, -n, -s and -l; in a stream each envelope has its own \"props\"" \
	-t v3/a --content-type text/plain
usage "mqmon-pub: --user-property applies to -m, -f, -n, -s and -l; --simulate sends no properties" \
	--simulate 1 --user-property k=v
wait_bg v3 10 || true
assert_eq "" "$(cat "$T/v3.out")" "messages published despite a usage error"

# --- --simulate: what, where, the broker's trouble once, what was sent
run_bg simsub mqmon-sub "${P[@]}" -i simsub -q 1 -t 'hs/#'
wait_contains "$(broker_log)" "simsub 1 hs/#"
mqmon-pub -h 127.0.0.1 "${P[@]}" --simulate 3 --prefix hs --rate 200 -C 60 -q 1 2>"$T/sim.err" ||
	fail "--simulate exited $?: $(cat "$T/sim.err")"
assert_eq 2 "$(count_lines "$T/sim.err")" "stderr lines of a simulation that went well"
assert_eq "mqmon-pub: simulating 3 devices on 127.0.0.1:$BROKER_PORT, 200 msg/s, stopping after 60 messages, topics hs/#" \
	"$(head -1 "$T/sim.err")" "the simulation's first line"
summary=$(tail -1 "$T/sim.err")
re='^mqmon-pub: sent ([0-9]+) messages \(([0-9]+) telemetry, ([0-9]+) status, ([0-9]+) relay\) in [0-9]+\.[0-9] s$'
[[ $summary =~ $re ]] || fail "not a summary: $summary"
total=${BASH_REMATCH[1]} telemetry=${BASH_REMATCH[2]} status=${BASH_REMATCH[3]} relay=${BASH_REMATCH[4]}
# -C counts the periodic messages; each device adds its online and offline status
assert_eq 66 "$total" "messages sent by 3 devices with -C 60"
assert_eq "$total" $((telemetry + status + relay)) "the summary's parts"
wait_lines "$T/simsub.out" "$total"
sleep 0.3
stop_bg simsub
assert_eq "$total" "$(count_lines "$T/simsub.out")" "messages received"
assert_eq "$telemetry" "$(grep -c '"topic":"hs/ESP32_[0-9]*/telemetry"' "$T/simsub.out")" "telemetry received"
assert_eq "$status" "$(grep -c '"topic":"hs/ESP32_[0-9]*/status"' "$T/simsub.out")" "statuses received"
assert_eq "$relay" "$(grep -c '"topic":"hs/ESP32_[0-9]*/relay/[0-3]/status"' "$T/simsub.out")" "relay changes received"

# --quiet: nothing on stderr when all goes well
mqmon-pub "${P[@]}" --simulate 2 --prefix hq --rate 200 -C 10 --quiet 2>"$T/simq.err" || fail "--simulate --quiet exited $?"
assert_eq "" "$(cat "$T/simq.err")" "stderr of --simulate --quiet"

# an unreachable broker: reported once for the fleet, then one error
st=0
run_bounded 30 mqmon-pub "${D[@]}" --simulate 5 --connect-timeout 1 --reconnect-delay 0.1:0.2 2>"$T/simdead.err" || st=$?
assert_eq 1 "$st" "--simulate with nothing listening"
assert_eq "mqmon-pub: simulating 5 devices on 127.0.0.1:$DEAD, 5 msg/s, topics autocore/#
mqmon-pub: cannot connect to 127.0.0.1:$DEAD: Connection refused; retrying
mqmon-pub: cannot connect to 127.0.0.1:$DEAD: Connection refused" "$(head -3 "$T/simdead.err")" \
	"--simulate against nothing: the start, the trouble once, the end"
assert_eq 4 "$(count_lines "$T/simdead.err")" "stderr lines of --simulate against nothing"
assert_contains "$(tail -1 "$T/simdead.err")" "mqmon-pub: sent 0 messages (0 telemetry, 0 status, 0 relay) in "
st=0
run_bounded 30 mqmon-pub "${D[@]}" --simulate 5 --connect-timeout 0.5 --quiet 2>"$T/simdeadq.err" || st=$?
assert_eq 1 "$st" "--simulate --quiet with nothing listening"
assert_eq "mqmon-pub: cannot connect to 127.0.0.1:$DEAD: Connection refused" "$(cat "$T/simdeadq.err")" \
	"--simulate --quiet against nothing"
exit 0
