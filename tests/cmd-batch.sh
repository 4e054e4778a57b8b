#!/usr/bin/env bash
# mqmon-cmd --batch against a real broker: 1,000 commands to 100 devices
# with --max-pending 50 (each gets exactly one result, all acked, exit 0);
# --max-pending holds commands back; --rate spaces them; --max-failures
# stops a bad rollout (the rest skipped); mqmon-status offline events with
# the command from the command line; bad lines reported by number; the
# exit status 65, 4, 3 in that order.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

subscribed() {
	wait_until 10 grep -q "^[0-9]*: $1 [0-2] $2\$" "$(broker_log)" || fail "$1 did not subscribe to $2"
}
# the receive times (ms of the day) of the envelopes in FILE, sorted
times_ms() {
	jq -r '.ts[11:23] | split(":") | ((.[0] | tonumber) * 3600000 + (.[1] | tonumber) * 60000
	       + (.[2] | tonumber) * 1000) | floor' "$1" | sort -n
}
# the most of them within any SPAN ms
most_within() {
	times_ms "$1" | jq -s --argjson span "$2" '. as $t | [range(0; length) as $i
		| [$t[] | select(. >= $t[$i] and . < $t[$i] + $span)] | length] | max'
}

run_bg resp mqmon-cmd "${P[@]}" -i resp -q 1 --respond
subscribed resp 'devices/+/command'

# --- 1,000 commands, 100 devices, 50 at a time
for i in $(seq 1 1000); do
	printf '{"device":"dev%03d","command":"set","params":{"n":%d}}\n' $((i % 100)) "$i"
done >"$T/batch.in"
st=0
run_bounded 60 mqmon-cmd "${P[@]}" -q 1 --batch --max-pending 50 <"$T/batch.in" >"$T/batch.res" || st=$?
assert_eq 0 "$st" "exit status when every command is acked"
assert_eq 1000 "$(count_lines "$T/batch.res")" "result lines"
assert_eq 1000 "$(jq -r 'select(.event == "result" and .status == "acked") | .response.params.n' "$T/batch.res" |
	sort -un | wc -l)" "distinct commands acked"
assert_eq 1000 "$(jq -r .id "$T/batch.res" | sort -u | wc -l)" "distinct ids"
assert_eq 0 "$(jq -r 'select(.response.id != .id or .device != ("dev" + ((.response.params.n % 100) | tostring
	| if length < 3 then ("00" + .)[-3:] else . end))) | .id' "$T/batch.res" | wc -l)" \
	"results whose answer is another command's"
wait_lines "$T/resp.out" 1000
assert_eq 1000 "$(jq -r .payload.id "$T/resp.out" | sort -u | wc -l)" "commands the devices got"

# --- offline events from mqmon-status take the command line's command;
# parameters from the command line, a line's own over them
cat >"$T/events.in" <<'EOS'
{"ts":"2025-01-28T10:31:00.000Z","event":"offline","device":"ESP32_009","reason":"silence"}
{"ts":"2025-01-28T10:31:01.000Z","event":"offline","device":"ESP32_010","reason":"will"}
{"device":"ESP32_011","params":{"delay":5}}
EOS
mqmon-cmd "${P[@]}" --batch restart delay=1 mode=soft <"$T/events.in" >"$T/events.res" || fail "events exited $?"
assert_eq "ESP32_009 restart 1 soft
ESP32_010 restart 1 soft
ESP32_011 restart 5 soft" "$(jq -r '[.device, .command, .response.params.delay, .response.params.mode] | join(" ")' \
	"$T/events.res" | sort)" "commands from events"
jq -se 'all(.[]; .status == "acked")' "$T/events.res" >/dev/null || fail "events not acked: $(cat "$T/events.res")"
stop_bg resp

# --- --max-pending: a slow device (200 ms per answer), 120 commands, 40
# at a time: no 150 ms holds more than 40 of them at the device
run_bg slow mqmon-cmd "${P[@]}" -i slow -q 1 --respond --delay-ms 200 --cmd-topic 'slow/{device}' \
	--ack-topic 'slow/{device}/ack'
subscribed slow 'slow/+'
head -n 120 "$T/batch.in" | run_bounded 30 mqmon-cmd "${P[@]}" -q 1 --batch --max-pending 40 \
	--cmd-topic 'slow/{device}' --ack-topic 'slow/{device}/ack' >"$T/slow.res" || fail "--max-pending run"
assert_eq 120 "$(jq -r 'select(.status == "acked") | .id' "$T/slow.res" | wc -l)" "acked behind a slow device"
wait_lines "$T/slow.out" 120
assert_eq 40 "$(most_within "$T/slow.out" 150)" "commands at the device within 150 ms, --max-pending 40"
stop_bg slow

# --- --rate 20: 30 commands reach the devices over at least 1.2 s
run_bg rate mqmon-cmd "${P[@]}" -i rate -q 1 --respond --cmd-topic 'rate/{device}' --ack-topic 'rate/{device}/ack'
subscribed rate 'rate/+'
head -n 30 "$T/batch.in" | run_bounded 30 mqmon-cmd "${P[@]}" -q 1 --batch --rate 20 \
	--cmd-topic 'rate/{device}' --ack-topic 'rate/{device}/ack' >"$T/rate.res" || fail "--rate run"
wait_lines "$T/rate.out" 30
span=$(times_ms "$T/rate.out" | jq -s 'max - min')
((span >= 1200)) || fail "30 commands at --rate 20 went out within $span ms"
stop_bg rate

# --- a bad rollout stops itself: every answer negative, --max-failures 3
run_bg bad mqmon-cmd "${P[@]}" -i bad --respond --fail-rate 1 --cmd-topic 'bad/{device}' --ack-topic 'bad/{device}/ack'
subscribed bad 'bad/+'
st=0
head -n 20 "$T/batch.in" | mqmon-cmd "${P[@]}" --batch --max-pending 1 --max-failures 3 --cmd-topic 'bad/{device}' \
	--ack-topic 'bad/{device}/ack' >"$T/bad.res" 2>"$T/bad.err" || st=$?
assert_eq 4 "$st" "exit status of a stopped rollout"
assert_eq "nacked 3
skipped 17" "$(jq -r .status "$T/bad.res" | sort | uniq -c | awk '{print $2, $1}')" "results of a stopped rollout"
jq -se '[.[] | select(.status == "skipped")] | all(.id == null and .attempts == 0)' "$T/bad.res" >/dev/null ||
	fail "skipped results: $(grep skipped "$T/bad.res" | head -2)"
assert_contains "$T/bad.err" "3 failures (--max-failures 3): no new command starts"
assert_eq 3 "$(count_lines "$T/bad.out")" "commands the devices got"

# --- --fail-rate 0.5: about half of 200 answers are negative
run_bg half mqmon-cmd "${P[@]}" -i half -q 1 --respond --fail-rate 0.5 --cmd-topic 'half/{device}' \
	--ack-topic 'half/{device}/ack'
subscribed half 'half/+'
st=0
head -n 200 "$T/batch.in" | mqmon-cmd "${P[@]}" -q 1 --batch --cmd-topic 'half/{device}' \
	--ack-topic 'half/{device}/ack' >"$T/half.res" || st=$?
assert_eq 4 "$st" "exit status with some nacks"
nacks=$(jq -r 'select(.status == "nacked") | .id' "$T/half.res" | wc -l)
((nacks >= 60 && nacks <= 140)) || fail "$nacks of 200 answers negative at --fail-rate 0.5"
assert_eq 200 "$(jq -r 'select(.status == "nacked" or .status == "acked") | .id' "$T/half.res" | wc -l)" \
	"answered commands at --fail-rate 0.5"
stop_bg half

# --- bad lines: reported by number, the rest goes on; 65 beats 4 beats 3
cat >"$T/mixed.in" <<'EOS'
{"device":"ok-1","command":"ping"}
not JSON
{"device":"a/b","command":"ping"}

{"command":"ping"}
{"device":"ok-2","command":"ping","params":[1]}
{"event":"offline","device":"ok-3"}
{"device":"ok-4","command":"ping"}
EOS
st=0
mqmon-cmd "${P[@]}" --batch --cmd-topic 'bad/{device}' --ack-topic 'bad/{device}/ack' <"$T/mixed.in" \
	>"$T/mixed.res" 2>"$T/mixed.err" || st=$?
assert_eq 65 "$st" "exit status with bad lines (and nacks)"
assert_eq "mqmon-cmd: line 2: not a command: a JSON object such as {\"device\":\"ESP32_001\",\"command\":\"restart\"} is expected
mqmon-cmd: line 3: the device 'a/b' contains '/'
mqmon-cmd: line 5: no \"device\"
mqmon-cmd: line 6: \"params\" must be an object
mqmon-cmd: line 7: an event line needs the command on the command line (mqmon-cmd --batch COMMAND)" \
	"$(cat "$T/mixed.err")" "bad lines on stderr"
assert_eq "ok-1 nacked ok-4 nacked" "$(jq -r '.device + " " + .status' "$T/mixed.res" | sort | paste -sd' ' -)" \
	"the good lines were sent"
# a timeout alone: 3; a nack and a timeout: 4 (the responder of this
# template answers x1 only, and negatively)
st=0
printf '{"device":"x2","command":"ping"}\n' | mqmon-cmd "${P[@]}" --batch -W 0.2 --retries 0 \
	--cmd-topic 'mix/{device}' --ack-topic 'mix/{device}/ack' >/dev/null || st=$?
assert_eq 3 "$st" "exit status of a batch that timed out"
run_bg x1 mqmon-cmd "${P[@]}" -i x1 --respond --fail-rate 1 --cmd-topic 'mix/x1' --ack-topic 'mix/x1/ack'
subscribed x1 'mix/x1'
st=0
printf '{"device":"x2","command":"ping"}\n{"device":"x1","command":"ping"}\n' |
	mqmon-cmd "${P[@]}" --batch -W 0.3 --retries 0 --cmd-topic 'mix/{device}' --ack-topic 'mix/{device}/ack' \
		>"$T/nt.res" || st=$?
assert_eq 4 "$st" "exit status of a batch with a nack and a timeout"
assert_eq "x1 nacked x2 timeout" "$(jq -r '.device + " " + .status' "$T/nt.res" | sort | paste -sd' ' -)" \
	"a nack and a timeout"
stop_bg x1
stop_bg bad
exit 0
