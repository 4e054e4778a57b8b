#!/usr/bin/env bash
# mqmon-cmd, one command at a time, against a real broker: with the
# responder (MQTT 5: response topic and correlation data) and with a
# scripted MQTT 3.1.1 device (mosquitto_sub | jq | mosquitto_pub) that
# answers by the payload's id, also Petal's messageId on Petal's topics;
# templates; KEY=VALUE typing and --params; ack 0, nack 4, no answer 3
# after timeout x (retries + 1) with the same id on every attempt;
# answers for other ids, not JSON, duplicates and late ones ignored;
# progress reports; a device that cannot be a topic level.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq mosquitto_sub mosquitto_pub
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

# subscribed ID FILTER: wait until client ID has subscribed to FILTER
subscribed() {
	wait_until 10 grep -q "^[0-9]*: $1 [0-2] $2\$" "$(broker_log)" || fail "$1 did not subscribe to $2"
}

# --- the responder, MQTT 5
run_bg resp mqmon-cmd "${P[@]}" -i resp --respond
subscribed resp 'devices/+/command'
st=0
mqmon-cmd "${P[@]}" ESP32_001 relay index=0 state=true amount=2.5 name=abc 'list=[1,"a"]' >"$T/one.out" || st=$?
assert_eq 0 "$st" "exit status of an acked command"
assert_eq 1 "$(count_lines "$T/one.out")" "result lines"
jq -se 'length == 1 and (.[0] | .event == "result" and .status == "acked" and .device == "ESP32_001"
	and .command == "relay" and .attempts == 1 and (.latency_ms | type == "number" and . > 0)
	and .response.status == "ok" and .response.id == .id
	and .response.params == {"index":0,"state":true,"amount":2.5,"name":"abc","list":[1,"a"]})' \
	"$T/one.out" >/dev/null || fail "the result of one command: $(cat "$T/one.out")"
# what the device got: the command object, with the response topic and
# the id as correlation data
wait_lines "$T/resp.out" 1
jq -se '.[0] | .topic == "devices/ESP32_001/command" and .props.response_topic == "devices/ESP32_001/response"
	and .props.correlation_data == .payload.id and .payload.command == "relay"
	and (.payload.ts | test("^20[0-9-]+T[0-9:.]+Z$"))' "$T/resp.out" >/dev/null ||
	fail "the command on the wire: $(cat "$T/resp.out")"
id=$(jq -r .id "$T/one.out")
assert_eq "$id" "$(jq -r .payload.id "$T/resp.out")" "the id sent and the id in the result"
# --params, with KEY=VALUE over it
mqmon-cmd "${P[@]}" --params '{"amount":1,"mode":"slow"}' pond-03 feed amount=2.5 >"$T/params.out" ||
	fail "--params"
assert_eq '{"amount":2.5,"mode":"slow"}' "$(jq -c .response.params "$T/params.out")" "--params and KEY=VALUE"
stop_bg resp

# --- templates with {command}; a nack; no answer at all
run_bg fail mqmon-cmd "${P[@]}" -i failer --respond --fail-rate 1 --cmd-topic 'farm/{device}/{command}/do' \
	--ack-topic 'farm/{device}/{command}/done'
subscribed failer 'farm/+/+/do'
st=0
mqmon-cmd "${P[@]}" --cmd-topic 'farm/{device}/{command}/do' --ack-topic 'farm/{device}/{command}/done' \
	pump-1 water action=drain >"$T/nack.out" || st=$?
assert_eq 4 "$st" "exit status of a nacked command"
jq -se '.[0] | .status == "nacked" and .response.status == "error" and .response.command == "water"' \
	"$T/nack.out" >/dev/null || fail "nacked: $(cat "$T/nack.out")"
assert_contains "$T/fail.out" '"topic":"farm/pump-1/water/do"'
stop_bg fail
# nobody answers: three attempts, the same id each time, then status 3
run_bg watch mosquitto_sub "${P[@]}" -i watcher -t 'quiet/#' -F %p
subscribed watcher 'quiet/#'
st=0
mqmon-cmd "${P[@]}" --cmd-topic 'quiet/{device}' --ack-topic 'quiet-ack/{device}' -W 0.3 --retries 2 \
	dev9 restart >"$T/to.out" || st=$?
assert_eq 3 "$st" "exit status without an answer"
jq -se '.[0] | .status == "timeout" and .attempts == 3 and .latency_ms == null and (has("response") | not)' \
	"$T/to.out" >/dev/null || fail "timeout result: $(cat "$T/to.out")"
wait_lines "$T/watch.out" 3
assert_eq 1 "$(jq -r .id "$T/watch.out" | sort -u | wc -l)" "distinct ids over three attempts"
assert_eq 3 "$(count_lines "$T/watch.out")" "attempts on the wire"
assert_eq "$(jq -r .id "$T/to.out")" "$(jq -r .id "$T/watch.out" | head -1)" "the id of every attempt"
stop_bg watch

# --- a scripted MQTT 3.1.1 device: answers by id, with noise around it:
# an answer for another id, one that is not JSON, a progress report, the
# final ack, then a duplicate that says the opposite
cat >"$T/device.sh" <<'EOS'
#!/usr/bin/env bash
# device.sh PORT: answer one command on devices/D1/command
port=$1
id=$(mosquitto_sub -p "$port" -V mqttv311 -i device1 -q 1 -t devices/D1/command -C 1 -F %p | jq -r .id)
pub() { mosquitto_pub -p "$port" -V mqttv311 -q 1 -t devices/D1/response -m "$1"; }
pub "{\"id\":\"$id\",\"status\":\"accepted\",\"eta\":2}"
pub '{"id":"someone-else","status":"ok"}'
pub 'this is not JSON'
sleep 2
pub "{\"id\":\"$id\",\"status\":\"done\",\"version\":\"2.0.1\"}"
pub "{\"id\":\"$id\",\"status\":\"failed\"}"
EOS
run_bg device bash "$T/device.sh" "$BROKER_PORT"
subscribed device1 'devices/D1/command'
st=0
mqmon-cmd "${P[@]}" -V 311 -q 1 -W 1.2 D1 firmware url=http://fw.example/2.0.1.bin version=2.0.1 \
	>"$T/dev.out" 2>"$T/dev.err" || st=$?
assert_eq 0 "$st" "exit status after progress and a late positive ack"
jq -se 'length == 2 and .[0].event == "progress" and .[0].status == "accepted" and .[0].response.eta == 2
	and .[1].event == "result" and .[1].status == "acked" and .[1].attempts == 1
	and .[1].response.version == "2.0.1" and .[1].latency_ms >= 1200' "$T/dev.out" >/dev/null ||
	fail "progress then the final ack (no resend after the progress report, -W 1.2): $(cat "$T/dev.out")"
assert_contains "$T/dev.err" "devices/D1/response: an answer that is not a JSON object: ignored"
wait_bg device 10 || fail "the scripted device exited $BG_STATUS"

# an MQTT 5 device that answers on the response topic with the correlation
# data and no id in its body: matched by the correlation data alone
cat >"$T/v5.sh" <<'EOS'
#!/usr/bin/env bash
port=$1
read -r rt corr < <(mosquitto_sub -p "$port" -V mqttv5 -i device3 -q 1 -t devices/D3/command -C 1 -F '%R %D')
mosquitto_pub -p "$port" -V mqttv5 -q 1 -t "$rt" -D publish correlation-data "$corr" -m '{"status":"done","by":"v5"}'
EOS
run_bg device3 bash "$T/v5.sh" "$BROKER_PORT"
subscribed device3 'devices/D3/command'
mqmon-cmd "${P[@]}" -q 1 -W 2 D3 ping >"$T/v5.out" || fail "an answer matched by correlation data: $?"
jq -se '.[0] | .status == "acked" and .response.by == "v5" and (.response | has("id") | not)' "$T/v5.out" \
	>/dev/null || fail "correlation data: $(cat "$T/v5.out")"
wait_bg device3 10 || fail "the MQTT 5 device exited $BG_STATUS: $(cat "$T/device3.err")"

# an answer with the right id but no status: reported, counted as negative
cat >"$T/nostatus.sh" <<'EOS'
#!/usr/bin/env bash
port=$1
id=$(mosquitto_sub -p "$port" -V mqttv311 -i device2 -q 1 -t devices/D2/command -C 1 -F %p | jq -r .id)
mosquitto_pub -p "$port" -V mqttv311 -q 1 -t devices/D2/response -m "{\"id\":\"$id\",\"result\":42}"
EOS
run_bg device2 bash "$T/nostatus.sh" "$BROKER_PORT"
subscribed device2 'devices/D2/command'
st=0
mqmon-cmd "${P[@]}" -V 311 -q 1 D2 ping >"$T/ns.out" 2>"$T/ns.err" || st=$?
assert_eq 4 "$st" "exit status of an answer without a status"
jq -se '.[0] | .status == "nacked" and .response.result == 42' "$T/ns.out" >/dev/null ||
	fail "an answer without a status: $(cat "$T/ns.out")"
assert_contains "$T/ns.err" 'devices/D2/response: the answer from D2 to ping has no "status": counted as negative'
wait_bg device2 10 || true

# --- the responder's progress report, then its ack after --delay-ms
run_bg prog mqmon-cmd "${P[@]}" -i prog --respond --progress --delay-ms 1500 --cmd-topic 'fw/{device}' \
	--ack-topic 'fw/{device}/ack'
subscribed prog 'fw/+'
mqmon-cmd "${P[@]}" -W 0.6 --cmd-topic 'fw/{device}' --ack-topic 'fw/{device}/ack' pond-03 firmware \
	url=http://fw.example/3.bin >"$T/prog.res" || fail "a command with a progress report: $?"
jq -se 'length == 2 and .[0].event == "progress" and .[0].status == "accepted" and .[1].status == "acked"
	and .[1].attempts == 1 and .[1].latency_ms >= 1500 and .[1].response.params.url == "http://fw.example/3.bin"' \
	"$T/prog.res" >/dev/null || fail "progress, then the ack: $(cat "$T/prog.res")"
# a progress report and no final ack within --done-timeout: a timeout
# after one attempt (no resend once the device said it is at work)
st=0
mqmon-cmd "${P[@]}" -W 0.6 --done-timeout 0.7 --cmd-topic 'fw/{device}' --ack-topic 'fw/{device}/ack' pond-04 \
	firmware >"$T/done.res" || st=$?
assert_eq 3 "$st" "exit status when the final ack is later than --done-timeout"
jq -se 'length == 2 and .[0].event == "progress" and .[1].status == "timeout" and .[1].attempts == 1' \
	"$T/done.res" >/dev/null || fail "--done-timeout: $(cat "$T/done.res")"
stop_bg prog

# --- Petal: messageId, MQTT 3.1.1, org/ORG/device/DEVICE/command|response
PETAL=(-V 311 --id-field messageId --cmd-topic 'org/acme/device/{device}/command'
	--ack-topic 'org/acme/device/{device}/response')
run_bg petal mqmon-cmd "${P[@]}" -i petal "${PETAL[@]}" --respond
subscribed petal 'org/acme/device/+/command'
mqmon-cmd "${P[@]}" "${PETAL[@]}" drone-7 get_status >"$T/petal-result.out" || fail "petal get_status: $?"
jq -se '.[0] | .status == "acked" and .response.messageId == .id and .response.status == "ok"' \
	"$T/petal-result.out" >/dev/null || fail "Petal's messageId: $(cat "$T/petal-result.out")"
wait_lines "$T/petal.out" 1
id=$(jq -r .id "$T/petal-result.out")
jq -se --arg id "$id" '.[0] | .topic == "org/acme/device/drone-7/command" and .payload.messageId == $id
	and (.payload | has("id") | not) and .payload.command == "get_status" and (has("props") | not)' \
	"$T/petal.out" >/dev/null || fail "the Petal command on the wire: $(cat "$T/petal.out")"
stop_bg petal

# --- bad input: never a publish to an unintended topic
run_bg all mosquitto_sub "${P[@]}" -i all -t '#' -F '%t'
subscribed all '#'
for bad in 'a/b' 'a+' 'x#' ''; do
	st=0
	mqmon-cmd "${P[@]}" "$bad" restart 2>"$T/bad.err" || st=$?
	assert_eq 2 "$st" "exit status for the device '$bad'"
done
assert_contains "$T/bad.err" "Try 'mqmon-cmd --help'."
st=0
mqmon-cmd "${P[@]}" dev 're/boot' 2>/dev/null || st=$?
assert_eq 2 "$st" "a command with '/'"
st=0
mqmon-cmd "${P[@]}" dev restart =x 2>/dev/null || st=$?
assert_eq 2 "$st" "a parameter without a key"
st=0
mqmon-cmd "${P[@]}" --cmd-topic 'a/#/{device}' dev restart 2>/dev/null || st=$?
assert_eq 2 "$st" "a template with a wildcard"
sleep 0.3
assert_eq 0 "$(count_lines "$T/all.out")" "messages published by the refused commands"
stop_bg all
exit 0
