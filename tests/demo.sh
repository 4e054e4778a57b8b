#!/usr/bin/env bash
# bin/demo, run as a user would but without a terminal: `bin/demo
# --seconds 12` with the programs of this build.  It must show the
# command's ack, an alert, the hot device's offline event (its will), the
# fleet table and the check line from the archive; leave a demo.db that
# holds the fleet; and leave no process of its own running.  Then --broker
# runs the same against a broker the test started.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq sqlite3
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build (the demo is a user's run, not a memory check)"
[[ ${MQMON_QUICK:-} == 1 ]] && skip "quick run (make distcheck): the plain build ran it"

demo() { # DIR ARGS...: run the demo in DIR, its temp files under DIR too
	local dir=$1 st=0
	shift
	mkdir -p "$dir/tmp"
	(cd "$dir" && TMPDIR=$dir/tmp MQMON_BIN=$abs_top_builddir/bin \
		run_bounded 90 bash "$MQMON_SRCDIR/bin/demo" --seconds 12 "$@" >out.txt 2>err.txt) || st=$?
	[[ $st == 0 ]] || fail "bin/demo $* exited $st: $(tail -20 "$dir/err.txt")"
}

check_run() { # DIR
	local dir=$1 out=$1/out.txt
	# the ack of the command, as mqmon-cmd prints it
	jq -Rse '[split("\n")[] | fromjson? | select(.event == "result")] |
		any(.[]; .device == "ESP32_001" and .command == "relay" and .status == "acked" and .response.params.state == true)' \
		"$out" >/dev/null || fail "no ack in the demo's output: $(head -5 "$out")"
	# the hot device: an alert, then offline by its will
	jq -Rse '[split("\n")[] | fromjson? | select(.device == "ESP32_051") | .event + "/" + (.reason // .rule)] |
		. == ["online/start", "alert/temperature>30", "offline/will"]' "$out" >/dev/null ||
		fail "ESP32_051's events: $(grep ESP32_051 "$out")"
	# the simulated fleet came online, from the live pipeline
	n=$(jq -Rr 'fromjson? | select(.event == "online") | .device' "$out" | sort -u | wc -l)
	((n == 51)) || fail "$n devices came online, not 51"
	# the archive: every device, with telemetry; the table and the check read it
	assert_eq 51 "$(sqlite3 "$dir/demo.db" 'SELECT count(*) FROM devices')" "devices in demo.db"
	(($(sqlite3 "$dir/demo.db" 'SELECT count(*) FROM metrics') > 100)) || fail "demo.db has hardly any metrics"
	assert_eq 0 "$(sqlite3 "$dir/demo.db" 'PRAGMA integrity_check' | grep -vc '^ok$')" "demo.db integrity"
	grep -q '^device  *state  *seen  *ip  *firmware  *msg/min  *trend' "$out" || fail "no fleet table: $(cat "$out")"
	grep -q '^ESP32_051  *offline ' "$out" || fail "ESP32_051 is not offline in the table"
	grep -q '^MQMON WARNING - 50/51 online | ' "$out" || fail "no check line: $(grep MQMON "$out")"
	# it said what it did and what to try next, and cleaned up after itself
	grep -q 'mqmon-store --db demo.db' "$dir/err.txt" || fail "no hints of what to try next"
	[[ -z $(ls -A "$dir/tmp") ]] || fail "the demo left files in its temp dir: $(ls -A "$dir/tmp")"
	if pgrep -f "$dir/" >/dev/null; then
		fail "the demo left processes running: $(pgrep -af "$dir/")"
	fi
}

demo "$T/private"
check_run "$T/private"
grep -q 'a private broker on 127.0.0.1:' "$T/private/err.txt" || fail "no private broker"

broker_start
demo "$T/existing" --broker "127.0.0.1:$BROKER_PORT"
check_run "$T/existing"
grep -q "the broker at 127.0.0.1:$BROKER_PORT" "$T/existing/err.txt" || fail "--broker not used"
grep -q "New client connected from 127.0.0.1.* as demo[0-9]*-sub" "$(broker_log)" ||
	fail "the demo's subscriber never connected to the test's broker"
exit 0
