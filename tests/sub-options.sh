#!/usr/bin/env bash
# mqmon-sub's options against a real broker: several -t, -T exclusions,
# -C, -W (status 3), -R, --retained-only, -F json|text|raw, --events,
# --shared, a closed pipe, usage errors.
. "${srcdir:-.}/tests/lib.sh"
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

# wait_subscribed "CLIENT QOS FILTER": the broker has logged the subscription
wait_subscribed() {
	wait_contains "$(broker_log)" "$1" 10
}

# --- several -t, -T, -C: exactly the matching messages, then exit 0
run_bg multi mqmon-sub "${P[@]}" -i multi -t 'a/#' -t 'b/+' -T 'a/skip/#' -C 3 -W 10
wait_subscribed "multi 0 b/+"
mqmon-pub "${P[@]}" -t a/1 -m one
mqmon-pub "${P[@]}" -t a/skip/x -m excluded
mqmon-pub "${P[@]}" -t c/1 -m unrelated
mqmon-pub "${P[@]}" -t b/2/deep -m too-deep
mqmon-pub "${P[@]}" -t b/2 -m two
mqmon-pub "${P[@]}" -t a -m three
mqmon-pub "${P[@]}" -t a/4 -m after-count
wait_bg multi 10 || fail "mqmon-sub -C 3 exited $BG_STATUS"
assert_eq 3 "$(count_lines "$T/multi.out")" "lines with -C 3"
assert_contains "$T/multi.out" '"topic":"a/1"' '"topic":"b/2"' '"topic":"a","qos"'
assert_not_contains "$T/multi.out" excluded unrelated too-deep after-count

# --- -W: status 3 when the time is up, what arrived is printed
run_bg wait mqmon-sub "${P[@]}" -i waiter -t w/x -W 1.5
wait_subscribed "waiter 0 w/x"
mqmon-pub "${P[@]}" -t w/x -m early
wait_bg wait 10 || true
assert_eq 3 "$BG_STATUS" "exit status of -W"
assert_contains "$T/wait.out" '"payload":"early"'
# -C reached before -W: status 0
run_bg cw mqmon-sub "${P[@]}" -i cw -t cw/x -C 1 -W 10
wait_subscribed "cw 0 cw/x"
mqmon-pub "${P[@]}" -t cw/x -m done
wait_bg cw 10 || fail "-C before -W: status $BG_STATUS"

# --- retained messages: -R skips them, --retained-only prints only them
mqmon-pub "${P[@]}" -t r/one -m kept-1 -r -q 1
mqmon-pub "${P[@]}" -t r/two -m kept-2 -r -q 1
run_bg ret mqmon-sub "${P[@]}" -i ret -t 'r/#' --retained-only -W 10
wait_bg ret 10 || fail "--retained-only exited $BG_STATUS"
assert_eq 2 "$(count_lines "$T/ret.out")" "retained messages printed by --retained-only"
assert_contains "$T/ret.out" '"payload":"kept-1"' '"payload":"kept-2"' '"retain":true'
# it ends at the first live message
run_bg ret2 mqmon-sub "${P[@]}" -i ret2 -t 'r/#' -t 'live/#' --retained-only -W 10
wait_bg ret2 10 || fail "--retained-only exited $BG_STATUS"
for v in 5 311; do
	run_bg "noret$v" mqmon-sub "${P[@]}" -V "$v" -i "noret$v" -t 'r/#' -R -C 1 -W 10
	wait_subscribed "noret$v 0 r/#"
	mqmon-pub "${P[@]}" -t r/three -m live
	wait_bg "noret$v" 10 || fail "-R -V $v exited $BG_STATUS"
	assert_not_contains "$T/noret$v.out" kept-1 kept-2
	assert_contains "$T/noret$v.out" '"payload":"live"'
done
for t in r/one r/two; do mqmon-pub "${P[@]}" -t "$t" -n -r -q 1; done

# --- formats: text is "topic payload", raw the body alone
run_bg text mqmon-sub "${P[@]}" -i text -t f/x -F text -C 1 -W 10
run_bg raw mqmon-sub "${P[@]}" -i raw -t f/x -F raw -C 1 -W 10
wait_subscribed "text 0 f/x"
wait_subscribed "raw 0 f/x"
mqmon-pub "${P[@]}" -t f/x -m 'hello world'
wait_bg text 10 && wait_bg raw 10 || fail "-F text/raw exited $BG_STATUS"
assert_eq "f/x hello world" "$(cat "$T/text.out")" "-F text output"
assert_eq "hello world" "$(cat "$T/raw.out")" "-F raw output"
st=0
mqmon-sub "${P[@]}" -t x -F yaml 2>/dev/null || st=$?
assert_eq 2 "$st" "exit status of -F yaml"

# --- --events: connected first, with the broker's address
run_bg ev mqmon-sub "${P[@]}" -i ev -t e/x -C 1 -W 10 --events
wait_contains "$T/ev.out" '"event":"connected"'
mqmon-pub "${P[@]}" -t e/x -m m
wait_bg ev 10 || fail "--events exited $BG_STATUS"
assert_eq 2 "$(count_lines "$T/ev.out")" "event and message lines"
head -1 "$T/ev.out" | grep -q "\"event\":\"connected\",\"broker\":\"localhost:$BROKER_PORT\"" ||
	fail "first line is not the connected event: $(head -1 "$T/ev.out")"

# --- --shared: two instances split one stream, each message exactly once
run_bg sh1 mqmon-sub "${P[@]}" -i sh1 --shared grp -t 's/#' -F raw
run_bg sh2 mqmon-sub "${P[@]}" -i sh2 --shared grp -t 's/#' -F raw
wait_subscribed 'sh1 0 $share/grp/s/#'
wait_subscribed 'sh2 0 $share/grp/s/#'
seq 1 400 | mqmon-pub "${P[@]}" -t s/n -l -q 1
wait_until 10 eval '[ $(($(count_lines "$T/sh1.out") + $(count_lines "$T/sh2.out"))) -ge 400 ]' ||
	fail "shared subscribers got $(count_lines "$T/sh1.out") + $(count_lines "$T/sh2.out") of 400"
sleep 0.3
stop_bg sh1
stop_bg sh2
[ "$(count_lines "$T/sh1.out")" -gt 0 ] && [ "$(count_lines "$T/sh2.out")" -gt 0 ] ||
	fail "one shared subscriber got nothing: $(count_lines "$T/sh1.out") / $(count_lines "$T/sh2.out")"
cat "$T/sh1.out" "$T/sh2.out" >"$T/shared.all"
assert_numbers "$T/shared.all" 1 400
assert_eq 400 "$(count_lines "$T/shared.all")" "messages across both (none twice)"

# --- | head -1: status 0, nothing on stderr
run_bg flood bash -c "while :; do seq 1 200 | mqmon-pub -p $BROKER_PORT -t h/x -l; done"
st=$(
	set -o pipefail
	timeout 20 mqmon-sub "${P[@]}" -t 'h/#' 2>"$T/head.err" | head -1 >"$T/head.out"
	echo "$?"
)
stop_bg flood
assert_eq 0 "$st" "exit status of mqmon-sub | head -1"
assert_eq 1 "$(count_lines "$T/head.out")" "head output"
[ -s "$T/head.err" ] && fail "stderr not empty after | head -1: $(cat "$T/head.err")"

# --- usage errors
st=0
mqmon-sub "${P[@]}" 2>/dev/null || st=$?
assert_eq 2 "$st" "no -t"
st=0
mqmon-sub "${P[@]}" -t 'a/#/b' 2>"$T/bad.err" || st=$?
assert_eq 2 "$st" "a/#/b"
assert_contains "$T/bad.err" "'#' must be the last level"
st=0
mqmon-sub "${P[@]}" -t a --retained-only -R 2>/dev/null || st=$?
assert_eq 2 "$st" "--retained-only with -R"
st=0
mqmon-sub "${P[@]}" -t a -c 2>"$T/noid.err" || st=$?
assert_eq 2 "$st" "-c without -i"
assert_contains "$T/noid.err" "needs a client id"
exit 0
