#!/usr/bin/env bash
# Every kind of body through mqmon-sub: the enc it gets, a JSON body kept
# as its own text (27.60 stays 27.60), a multi-line body compacted, and the
# round trip mqmon-sub | mqmon-pub reproducing each body (bytes for utf8
# and base64; the same text for single-line JSON).  MQTT 5 properties under
# "props", and -V 311 against the same broker.
. "${srcdir:-.}/tests/lib.sh"
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

B=$T/bodies
mkdir -p "$B"
printf '{"device_id":"ESP32_001","temperature":27.60,"humidity":45.20,"n":[1,2.50e3]}' >"$B/object"
printf '42' >"$B/number"
printf '"hi"' >"$B/string"
printf 'null' >"$B/null"
printf 'plain text with "quotes", a \\ backslash and ünïcödé' >"$B/text"
: >"$B/empty"
printf 'a\377b\300\200c' >"$B/invalid_utf8"
head -c 4096 /dev/urandom >"$B/random"
printf '\0\1\2 nul and control\n' >"$B/nul"
printf '{\n  "a": 1,\n  "b": "x y"\n}\n' >"$B/multiline"
printf '{"t": 27.60, "s": "a  b", "l": [1, 2]}' >"$B/spaced"
# 1 MiB of JSON and 1 MiB of binary
{
	printf '{"samples":['
	for _ in $(seq 1 13000); do printf '12345.6789,'; done
	printf '0],"pad":"'
	head -c 900000 /dev/zero | tr '\0' 'x'
	printf '"}'
} | head -c 1048576 >"$B/big_json_raw"
# make it valid JSON of exactly 1 MiB: trim the pad, close the string
size=$(wc -c <"$B/big_json_raw")
head -c $((size - 2)) "$B/big_json_raw" >"$B/big_json"
printf '"}' >>"$B/big_json"
rm "$B/big_json_raw"
head -c 1048576 /dev/urandom >"$B/big_binary"

declare -A want_enc=(
	[object]=json [number]=json [string]=json [null]=json [text]=utf8 [empty]=utf8
	[invalid_utf8]=base64 [random]=base64 [nul]=utf8 [multiline]=json [spaced]=json [big_json]=json
	[big_binary]=base64
)
names=("${!want_enc[@]}")

# 1. capture every body with mqmon-sub
run_bg cap mqmon-sub "${P[@]}" -i cap -t 'body/#' -C "${#names[@]}" -W 30
wait_contains "$(broker_log)" "cap 0 body/#"
for n in "${names[@]}"; do
	mosquitto_pub "${P[@]}" -t "body/$n" -f "$B/$n" || hard_error "mosquitto_pub $n"
done
wait_bg cap 30 || fail "mqmon-sub exited $BG_STATUS: $(cat "$T/cap.err")"
assert_eq "${#names[@]}" "$(count_lines "$T/cap.out")" "envelopes captured"

for n in "${names[@]}"; do
	line=$(grep -F "\"topic\":\"body/$n\"" "$T/cap.out") || fail "no envelope for body/$n"
	case $line in
	*"\"enc\":\"${want_enc[$n]}\",\"payload\":"*) ;;
	*) fail "body/$n: expected enc ${want_enc[$n]}: ${line:0:200}" ;;
	esac
	# every line is one JSON object on one line
	[[ $line == "{"*"}" ]] || fail "body/$n: not one object: ${line:0:100}"
done
assert_contains "$T/cap.out" '"payload":{"device_id":"ESP32_001","temperature":27.60,"humidity":45.20,"n":[1,2.50e3]}'
assert_contains "$T/cap.out" '"topic":"body/number","qos":0,"retain":false,"enc":"json","payload":42}'
assert_contains "$T/cap.out" '"enc":"json","payload":"hi"}' '"enc":"json","payload":null}'
assert_contains "$T/cap.out" '"enc":"utf8","payload":""}'
assert_contains "$T/cap.out" '"enc":"base64","payload":"Yf9iwIBj"}'
assert_contains "$T/cap.out" '"enc":"utf8","payload":"\u0000\u0001\u0002 nul and control\n"}'
assert_contains "$T/cap.out" '"enc":"json","payload":{"a":1,"b":"x y"}}'
# a single-line body is not rebuilt, not even its spaces
assert_contains "$T/cap.out" '"enc":"json","payload":{"t": 27.60, "s": "a  b", "l": [1, 2]}}'
assert_contains "$T/cap.out" '"payload":"plain text with \"quotes\", a \\ backslash and ünïcödé"'

# 2. the round trip: each envelope republished by mqmon-pub to rt/NAME,
#    each received by mosquitto_sub as raw bytes and compared
for n in "${names[@]}"; do
	run_bg "rt_$n" mosquitto_sub "${P[@]}" -i "rt_$n" -t "rt/$n" -C 1 -N -W 30
done
for n in "${names[@]}"; do
	wait_contains "$(broker_log)" "rt_$n 0 rt/$n"
done
mqmon-pub "${P[@]}" --rewrite body/=rt/ -q 1 <"$T/cap.out" || fail "mqmon-pub of the captured stream exited $?"
for n in "${names[@]}"; do
	wait_bg "rt_$n" 30 || fail "no round trip for $n (mosquitto_sub status $BG_STATUS)"
	if [[ $n == multiline ]]; then
		assert_eq '{"a":1,"b":"x y"}' "$(cat "$T/rt_$n.out")" "multi-line JSON comes back compacted"
	else
		cmp -s "$B/$n" "$T/rt_$n.out" || fail "round trip changed body $n ($(wc -c <"$B/$n") -> $(wc -c <"$T/rt_$n.out") bytes)"
	fi
done

# 3. MQTT 5 properties under "props"
run_bg props mqmon-sub "${P[@]}" -i props -t 'p/#' -C 1 -W 10
wait_contains "$(broker_log)" "props 0 p/#"
printf '\xff\x01' >"$T/corr.bin"
mosquitto_pub "${P[@]}" -V 5 -t p/x -m '{"t":1}' -q 1 \
	-D publish user-property site north -D publish user-property tag a -D publish user-property tag b \
	-D publish content-type application/json -D publish correlation-data abc-123 \
	-D publish response-topic reply/here -D publish message-expiry-interval 300 \
	-D publish payload-format-indicator 1
wait_bg props 10 || fail "props: mqmon-sub exited $BG_STATUS"
assert_contains "$T/props.out" '"props":{"content_type":"application/json","response_topic":"reply/here","correlation_data":"abc-123","message_expiry":' \
	'"payload_format":1,"user":{"site":"north","tag":["a","b"]}}'
# props survive mqmon-pub: republish and capture again
run_bg props2 mqmon-sub "${P[@]}" -i props2 -t 'p2/#' -C 1 -W 10
wait_contains "$(broker_log)" "props2 0 p2/#"
mqmon-pub "${P[@]}" --rewrite p/=p2/ <"$T/props.out"
wait_bg props2 10 || fail "props2: mqmon-sub exited $BG_STATUS"
assert_contains "$T/props2.out" '"content_type":"application/json","response_topic":"reply/here","correlation_data":"abc-123"' \
	'"user":{"site":"north","tag":["a","b"]}'
# binary correlation data is base64 with correlation_enc
run_bg corr mqmon-sub "${P[@]}" -i corr -t 'c/#' -C 1 -W 10
wait_contains "$(broker_log)" "corr 0 c/#"
printf '{"topic":"c/x","payload":1,"props":{"correlation_data":"/wE=","correlation_enc":"base64"}}\n' | mqmon-pub "${P[@]}"
wait_bg corr 10 || fail "corr: mqmon-sub exited $BG_STATUS"
assert_contains "$T/corr.out" '"correlation_data":"/wE=","correlation_enc":"base64"'

# 4. MQTT 3.1.1 against the same broker
run_bg v311 mqmon-sub "${P[@]}" -V 311 -i v311 -t 'v/#' -C 1 -W 10
wait_contains "$(broker_log)" "v311 0 v/#"
mqmon-pub "${P[@]}" -V 311 -t v/x -m '{"ok":true}' -q 1
wait_bg v311 10 || fail "-V 311 exited $BG_STATUS"
assert_contains "$T/v311.out" '"topic":"v/x"' '"payload":{"ok":true}'
assert_contains "$(broker_log)" "as v311 (p2,"
exit 0
