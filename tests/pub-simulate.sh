#!/usr/bin/env bash
# mqmon-pub --simulate: N devices in the shapes of FLEETS.md (retained
# status with an LWT that marks them offline, telemetry, relay changes),
# --prefix, --rate, -C; a normal end says goodbye with a retained offline
# status, a SIGKILL leaves the broker to publish each device's will.
. "${srcdir:-.}/tests/lib.sh"
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

run_bg sub mqmon-sub "${P[@]}" -i simsub -t 'farm/#' -q 1
wait_contains "$(broker_log)" "simsub 1 farm/#"
mqmon-pub "${P[@]}" --simulate 3 --prefix farm --rate 100 -C 120 -q 1 || fail "--simulate exited $?"
# 3 online + 120 periodic + 3 goodbyes
wait_lines "$T/sub.out" 126
sleep 0.3
stop_bg sub
assert_eq 126 "$(count_lines "$T/sub.out")" "messages from 3 devices with -C 120"

for d in ESP32_001 ESP32_002 ESP32_003; do
	grep -q "\"topic\":\"farm/$d/status\".*\"status\":\"online\",\"ip_address\":\"192\.168\.[0-9.]*\",\"firmware_version\":\"[0-9.]*\",\"uptime\":[0-9]*" "$T/sub.out" ||
		fail "no online status for $d"
	grep -q "\"topic\":\"farm/$d/telemetry\".*\"payload\":{\"device_id\":\"$d\",\"temperature\":[0-9.]*,\"humidity\":[0-9.]*,\"voltage\":[0-9.]*,\"memory_free\":[0-9]*,\"timestamp\":\"20" "$T/sub.out" ||
		fail "no telemetry of the FLEETS.md shape for $d"
	tail -3 "$T/sub.out" | grep -q "\"topic\":\"farm/$d/status\".*\"status\":\"offline\"" ||
		fail "no goodbye (offline status) from $d at the end"
done
grep -q '"topic":"farm/ESP32_00[1-3]/relay/[0-3]/status".*"payload":{"device_id":"ESP32_00[1-3]","relay_index":[0-3],"state":\(true\|false\),"triggered_by":"' "$T/sub.out" ||
	fail "no relay change of the FLEETS.md shape in 120 messages"
telemetry=$(grep -c '/telemetry"' "$T/sub.out")
[ "$telemetry" -ge 60 ] || fail "only $telemetry telemetry messages of 120 (mostly telemetry expected)"
# temperatures drift within a plausible range
grep -o '"temperature":[0-9.]*' "$T/sub.out" | cut -d: -f2 |
	awk '$1 < 10 || $1 > 60 { bad = 1 } END { exit bad }' || fail "implausible temperatures"

# the retained status after a normal end: offline for every device
run_bg ret mqmon-sub "${P[@]}" -t 'farm/+/status' --retained-only -W 10
wait_bg ret 10 || true
assert_eq 3 "$(grep -c '"status":"offline"' "$T/ret.out")" "retained offline statuses after a normal end"

# a SIGKILL: the broker publishes each device's will (retained offline)
run_bg sim mqmon-pub "${P[@]}" --simulate 2 --prefix crash --rate 20 -q 1
run_bg online mqmon-sub "${P[@]}" -t 'crash/+/status' -C 2 -W 10
wait_bg online 10 || fail "the simulated devices never came online"
assert_eq 2 "$(grep -c '"status":"online"' "$T/online.out")" "online statuses"
# (the devices' own heartbeats, "online", may come in before the wills)
run_bg wills mqmon-sub "${P[@]}" -i wills -t 'crash/+/status' -R -W 10
wait_contains "$(broker_log)" "wills 0 crash/+/status"
stop_bg sim KILL
offline() { grep -c '"status":"offline"' "$T/wills.out"; }
wait_until 10 eval '[ "$(offline)" -ge 2 ]' || fail "no will published after SIGKILL"
stop_bg wills
assert_eq 2 "$(offline)" "wills marking the devices offline"

# usage: --simulate makes its own topics
st=0
mqmon-pub "${P[@]}" --simulate 2 -t x 2>/dev/null || st=$?
assert_eq 2 "$st" "--simulate with -t"
exit 0
