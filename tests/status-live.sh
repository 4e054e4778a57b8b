#!/usr/bin/env bash
# mqmon-status live on stdin: online and offline with their reasons (a
# status body, connected true/false, a plain-text will, silence detected
# while stdin is idle, the most specific --offline-after), a retained
# status as last-known state, a stale will ignored, an upstream
# disconnected event making one stale event and no offline storm, alerts
# with a duration and hysteresis, anomalies, state changes, groups,
# flapping held to one event, an empty body no sign of life, bad lines
# counted (status 65), the textfile written when the reader goes away.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq

# start NAME ARGS...: mqmon-status reading the FIFO $T/NAME.in (fed with
# feed NAME LINE...)
start() {
	local name=$1
	shift
	mkfifo "$T/$name.in"
	run_bg "$name" bash -c 'exec mqmon-status "$@" <"$0"' "$T/$name.in" "$@"
	exec {fd}>"$T/$name.in"
	printf -v "FD_$name" '%s' "$fd"
}
feed() {
	local name=$1 fdvar=FD_$1
	shift
	printf '%s\n' "$@" >&"${!fdvar}"
}
# close NAME: end its input, wait for it; its status in BG_STATUS
close_input() {
	local fdvar=FD_$1
	eval "exec ${!fdvar}>&-"
	wait_bg "$1" 10 || true
}
events() { jq -c "select(.event == \"$2\") | del(.ts)" "$T/$1.out"; }
wait_event() { # NAME JQ-CONDITION
	wait_until 10 eval "jq -se 'any(.[]; $2)' '$T/$1.out' >/dev/null 2>&1" || fail "$1: no event with $2: $(cat "$T/$1.out")"
}

# --- reasons, silence, retained, stale wills
start a --offline-after 1 --offline-after 'battery_hawk/#=1h'
feed a '{"topic":"autocore/ESP32_001/status","retain":true,"payload":{"status":"online","timestamp":"2025-01-28T10:00:00Z"}}'
feed a '{"topic":"autocore/ESP32_002/status","payload":{"status":"online"}}'
feed a '{"topic":"battery_hawk/device/AA:BB:CC:DD:EE:FF/status","payload":{"device_id":"AA:BB:CC:DD:EE:FF","connected":true}}'
feed a '{"topic":"autocore/ESP32_003/telemetry","payload":{"temperature":20}}'
wait_event a '.event == "online" and .device == "ESP32_003"'
assert_eq '{"event":"online","device":"ESP32_001","reason":"start","retained":true}
{"event":"online","device":"ESP32_002","reason":"start"}
{"event":"online","device":"AA:BB:CC:DD:EE:FF","reason":"start"}
{"event":"online","device":"ESP32_003","reason":"start"}' "$(events a online)" "first states"
feed a '{"topic":"autocore/ESP32_002/status","payload":"offline"}'
feed a '{"topic":"battery_hawk/device/AA:BB:CC:DD:EE:FF/status","payload":{"device_id":"AA:BB:CC:DD:EE:FF","connected":false,"error_code":1001}}'
feed a '{"topic":"autocore/ESP32_002/status","payload":{"status":"online","timestamp":"2025-01-28T10:05:00Z"}}'
# a will from before that online: stale, ignored
feed a '{"topic":"autocore/ESP32_002/status","payload":{"status":"offline","timestamp":"2025-01-28T10:04:00Z"}}'
wait_event a '.event == "online" and .device == "ESP32_002" and .reason == "status"'
assert_eq '{"event":"offline","device":"ESP32_002","reason":"will"}
{"event":"offline","device":"AA:BB:CC:DD:EE:FF","reason":"status"}' "$(events a offline)" "offline by will and status"
# silence: ESP32_001/2/3 go offline after 1 s while stdin stays idle;
# the battery monitor, under battery_hawk/#=1h, does not
wait_until 5 eval '[ "$(events a offline | grep -c silence)" -ge 3 ]' || fail "no offline by silence: $(cat "$T/a.out")"
sleep 1.2
assert_eq '{"event":"offline","device":"ESP32_001","reason":"silence"}
{"event":"offline","device":"ESP32_002","reason":"silence"}
{"event":"offline","device":"ESP32_003","reason":"silence"}' "$(events a offline | grep silence | sort)" "offline by silence"
# back: a message breaks the silence
feed a '{"topic":"autocore/ESP32_003/telemetry","payload":{"temperature":21}}'
wait_event a '.event == "online" and .device == "ESP32_003" and .reason == "silence"'

# --- upstream lost: one stale event, no offline storm; back: fresh timers
online_before=$(events a online | wc -l)
feed a '{"topic":"autocore/ESP32_001/status","payload":{"status":"online"}}'
feed a '{"topic":"autocore/ESP32_002/status","payload":{"status":"online"}}'
wait_until 5 eval '[ "$(events a online | wc -l)" -ge $((online_before + 2)) ]' || fail "not online again: $(cat "$T/a.out")"
feed a '{"ts":"2025-01-28T10:31:00.000Z","event":"disconnected","broker":"localhost:1883","reason":"the connection was closed"}'
wait_event a '.event == "stale"'
before=$(events a offline | wc -l)
sleep 2.5
assert_eq "$before" "$(events a offline | wc -l)" "offline events while the upstream is gone"
assert_eq 1 "$(events a stale | wc -l)" "stale events"
jq -se '[.[] | select(.event == "stale")][0] | .reason == "the connection was closed" and .devices == 4' "$T/a.out" \
	>/dev/null || fail "the stale event: $(events a stale)"
feed a '{"ts":"2025-01-28T10:31:20.000Z","event":"connected","broker":"localhost:1883","session_present":true}'
sleep 0.5
assert_eq "$before" "$(events a offline | wc -l)" "offline events just after the upstream came back"
wait_until 5 eval '[ "$(events a offline | wc -l)" -gt "$before" ]' || fail "silence not counted again after connected"
close_input a
assert_eq 0 "$BG_STATUS" "exit status at the end of input"

# --- alerts (a duration, hysteresis), anomalies, states, bad lines
start b --alert 'temperature > 30 for 0.5s' --alert 'sensors.pressure<900' --hysteresis 2 --zscore 4 --window 10
t() { feed b "{\"topic\":\"autocore/$1/telemetry\",\"payload\":{\"temperature\":$2}}"; }
t D1 31
sleep 0.7
t D1 32.5 # past 30 for 0.7 s: one alert
t D1 33
t D1 29 # within the hysteresis: still firing
t D1 27.5 # back by more than 2: recovered
t D1 31 # past again, but not for 0.5 s yet
t D1 25
feed b '{"topic":"org/acme/device/drone-7/telemetry","payload":{"sensors":{"pressure":1013}}}'
feed b '{"topic":"org/acme/device/drone-7/telemetry","payload":{"sensors":{"pressure":850}}}'
for v in 20 20.5 19.5 20 20.5 19.5 20 20.5 19.5 20 20.5 19.5; do t D2 "$v"; done
t D2 35 # an outlier
t D2 20
feed b '{"topic":"autocore/D3/relay/0/status","payload":{"state":false}}'
feed b '{"topic":"autocore/D3/relay/0/status","payload":{"state":false}}'
feed b '{"topic":"autocore/D3/relay/0/status","payload":{"state":true}}'
feed b 'not an envelope'
feed b '{"payload":{"temperature":1}}'
close_input b
assert_eq 65 "$BG_STATUS" "exit status with bad lines"
assert_contains "$T/b.err" "line 27: not JSON" 'line 28: no "topic"'
assert_eq '{"event":"alert","device":"D1","rule":"temperature > 30 for 0.5s","metric":"temperature","value":32.5,"threshold":30}
{"event":"recovered","device":"D1","rule":"temperature > 30 for 0.5s","metric":"temperature","value":27.5,"threshold":30}
{"event":"alert","device":"drone-7","rule":"sensors.pressure<900","metric":"sensors.pressure","value":850,"threshold":900}' \
	"$(jq -c 'select(.event == "alert" or .event == "recovered") | del(.ts)' "$T/b.out")" "alerts"
jq -se '[.[] | select(.event == "anomaly")] | length == 1 and (.[0] | .device == "D2" and .metric == "temperature"
	and .value == 35 and (.mean > 19.5 and .mean < 20.5) and .deviation > 0 and .z > 4)' "$T/b.out" >/dev/null ||
	fail "anomalies: $(events b anomaly)"
assert_eq '{"event":"state","device":"D3","key":"0","value":true,"previous":false}' "$(events b state)" "state changes"

# --- groups: the vehicles of Battery Hawk, an event when a group's online count changes
start c --group vehicle_id
r() { feed c "{\"topic\":\"battery_hawk/device/$1/reading\",\"payload\":{\"device_id\":\"$1\",\"voltage\":$2,\"vehicle_id\":\"$3\"}}"; }
s() { feed c "{\"topic\":\"battery_hawk/device/$1/status\",\"payload\":{\"device_id\":\"$1\",\"connected\":$2}}"; }
r AA:01 12.6 van
r AA:02 12.2 van
r AA:03 13.0 truck
s AA:02 false
close_input c
assert_eq '{"event":"group","group":"van","devices":1,"online":1}
{"event":"group","group":"van","devices":2,"online":2}
{"event":"group","group":"truck","devices":1,"online":1}
{"event":"group","group":"van","devices":2,"online":1}' "$(events c group)" "group events"

# --- flapping: 2,000 changes in a burst make one flapping event, not a flood
start d
for i in $(seq 1 1000); do
	printf '{"topic":"x/F1/status","payload":"online"}\n{"topic":"x/F1/status","payload":"offline"}\n'
done >"$T/flap.in"
feed d "$(cat "$T/flap.in")"
close_input d
assert_eq 1 "$(events d flapping | wc -l)" "flapping events"
# the start, then ten changes; the eleventh is the flapping event
assert_eq 11 "$(jq -c 'select(.event == "online" or .event == "offline")' "$T/d.out" | wc -l)" \
	"online/offline events of a flapping device"

# --- an empty body (a retained status being cleared) is no sign of life
start e --offline-after 1
feed e '{"topic":"autocore/E1/telemetry","payload":{"t":1}}'
wait_event e '.event == "offline" and .device == "E1"'
feed e '{"topic":"autocore/E1/status","retain":false,"payload":null,"payloadlen":0}'
feed e '{"topic":"autocore/E2/telemetry","payload":{"t":1}}'
wait_event e '.event == "online" and .device == "E2"'
close_input e
assert_eq '{"event":"online","device":"E1","reason":"start"}
{"event":"offline","device":"E1","reason":"silence"}' "$(jq -c 'select(.device == "E1") | del(.ts)' "$T/e.out")" \
	"an empty body does not bring a device back"

# --- when its reader goes away, the textfile still gets what was seen
mkfifo "$T/gone.in"
run_bg gone bash -c 'mqmon-status --prom "$1" <"$2" | head -1' _ "$T/gone.prom" "$T/gone.in"
exec {gone}>"$T/gone.in"
echo '{"topic":"autocore/G1/telemetry","payload":{"t":1}}' >&"$gone"
wait_until 10 grep -q G1 "$T/gone.out" || fail "no first event"
echo '{"topic":"autocore/G2/telemetry","payload":{"t":2}}' >&"$gone"
wait_bg gone 10 || fail "mqmon-status did not end when its reader went away"
exec {gone}>&-
assert_contains "$T/gone.prom" 'mqmon_device_online{device="G2"} 1' 'mqmon_device_metric{device="G2",metric="t"} 2'
exit 0
