#!/usr/bin/env bash
# mqmon-pub's input modes against a real broker: one shot (-m, -f, -n, -s,
# -r, -q 0|1|2), -l lines, and envelope streams with -t as the default
# topic, envelope qos/retain/props overriding the flags, and --rewrite.
. "${srcdir:-.}/tests/lib.sh"
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

# listen NAME FILTER COUNT [ARGS...]: a capturing mqmon-sub, subscribed on return
listen() {
	local name=$1 filter=$2 count=$3
	shift 3
	run_bg "$name" mqmon-sub "${P[@]}" -i "$name" -t "$filter" -C "$count" -W 20 "$@"
	wait_contains "$(broker_log)" "$name" 10
	wait_until 10 grep -q "^[0-9]*: $name [0-2] " "$(broker_log)" || fail "$name did not subscribe"
}
finish() { wait_bg "$1" 20 || fail "$1: mqmon-sub exited $BG_STATUS: $(cat "$T/$1.err")"; }

# --- one shot
listen once 'o/#' 6 -q 2
mqmon-pub "${P[@]}" -t o/m -m '{"v":1.50}' || fail "-m"
printf 'from\na file\n' >"$T/body.txt"
mqmon-pub "${P[@]}" -t o/f -f "$T/body.txt" -q 1 || fail "-f"
printf 'all of\nstdin' | mqmon-pub "${P[@]}" -t o/s -s -q 2 || fail "-s"
mqmon-pub "${P[@]}" -t o/q0 -m zero -q 0 || fail "-q 0"
mqmon-pub "${P[@]}" -t o/q1 -m one -q 1 || fail "-q 1"
mqmon-pub "${P[@]}" -t o/q2 -m two -q 2 || fail "-q 2"
finish once
assert_contains "$T/once.out" '"topic":"o/m","qos":0,"retain":false,"enc":"json","payload":{"v":1.50}' \
	'"topic":"o/f","qos":1,"retain":false,' '"enc":"utf8","payload":"from\na file\n"' \
	'"topic":"o/s","qos":2,"retain":false,' '"enc":"utf8","payload":"all of\nstdin"' \
	'"topic":"o/q0","qos":0' '"topic":"o/q1","qos":1' '"topic":"o/q2","qos":2'

# -r retains; -n clears the retained message
mqmon-pub "${P[@]}" -t o/ret -m kept -r -q 1
listen ret1 o/ret 1 --retained-only
finish ret1
assert_contains "$T/ret1.out" '"retain":true' '"payload":"kept"'
mqmon-pub "${P[@]}" -t o/ret -n -r -q 1
run_bg ret2 mqmon-sub "${P[@]}" -t o/ret --retained-only -W 10
wait_bg ret2 10 || fail "--retained-only after -n: $BG_STATUS"
assert_eq 0 "$(count_lines "$T/ret2.out")" "retained messages after -n -r"

# --- -l: each line a body, blank lines included (as mosquitto_pub -l)
listen lines l/x 4
printf 'one\n\n{"three":3}\r\nfour' | mqmon-pub "${P[@]}" -t l/x -l -q 1 || fail "-l"
finish lines
assert_contains "$T/lines.out" '"payload":"one"' '"payload":""' '"payload":{"three":3}' '"payload":"four"'

# --- envelope stream: -t default topic, fields beat flags, props, rewrite
listen stream 's/#' 6 -q 2
cat >"$T/stream.ndjson" <<'EOS'
{"topic":"s/a","payload":{"n":1}}
{"payload":"to the default topic"}
{"topic":"s/q2","qos":2,"retain":false,"payload":"qos from the line"}

{"topic":"s/b64","enc":"base64","payload":"aGVsbG8="}
{"ts":"2025-01-28T10:30:15.123Z","event":"online","device":"x"}
{"topic":"s/props","payload":1,"props":{"content_type":"text/plain","user":{"k":"v"},"response_topic":"s/reply"}}
{"tst":"2026-11-23T17:00:38.078107Z+0000","topic":"s/mosq","qos":0,"retain":0,"payloadlen":5,"payload":"hello"}
EOS
mqmon-pub "${P[@]}" -t s/default -q 1 <"$T/stream.ndjson" || fail "stream exited $?"
finish stream
assert_contains "$T/stream.out" '"topic":"s/a","qos":1,' '"enc":"json","payload":{"n":1}' \
	'"topic":"s/default","qos":1,' '"enc":"utf8","payload":"to the default topic"' \
	'"topic":"s/q2","qos":2' '"topic":"s/b64","qos":1,' '"enc":"utf8","payload":"hello"}' \
	'"props":{"content_type":"text/plain","response_topic":"s/reply","user":{"k":"v"}}' \
	'"topic":"s/mosq","qos":0,"retain":false,"enc":"utf8","payload":"hello"'
# the event line was skipped, the blank line ignored, and nothing else sent
assert_not_contains "$T/stream.out" '"event"'
# --strict makes the event line an error
st=0
mqmon-pub "${P[@]}" --strict <"$T/stream.ndjson" 2>"$T/strict.err" || st=$?
assert_eq 65 "$st" "--strict with an event line"
assert_contains "$T/strict.err" "line 6: an event line, not a message"

# envelope "retain" beats -r, and -r applies to lines without one
listen rr 'rr/#' 2
printf '{"topic":"rr/a","payload":1}\n{"topic":"rr/b","retain":false,"payload":2}\n' | mqmon-pub "${P[@]}" -r -q 1
finish rr
run_bg rr2 mqmon-sub "${P[@]}" -t 'rr/#' --retained-only -W 10
wait_bg rr2 10 || true
assert_eq 1 "$(count_lines "$T/rr2.out")" "retained after -r with one line saying retain false"
assert_contains "$T/rr2.out" '"topic":"rr/a"'
mqmon-pub "${P[@]}" -t rr/a -n -r

# --rewrite: first matching prefix wins, repeatable
listen rw 'new/#' 3
printf '{"topic":"old/a","payload":1}\n{"topic":"older/b","payload":2}\n{"topic":"new/c","payload":3}\n' |
	mqmon-pub "${P[@]}" --rewrite old/=new/x/ --rewrite older/=new/y/ || fail "--rewrite"
finish rw
assert_contains "$T/rw.out" '"topic":"new/x/a"' '"topic":"new/y/b"' '"topic":"new/c"'

# --- usage errors
for args in "-m x" "-l" "-m x -f y" "--rewrite nope -m x -t a" "-t a/+ -m x" "-t a -m x -C 5"; do
	st=0
	# shellcheck disable=SC2086
	mqmon-pub "${P[@]}" $args </dev/null 2>/dev/null || st=$?
	assert_eq 2 "$st" "exit status of mqmon-pub $args"
done
exit 0
