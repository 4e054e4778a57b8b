#!/usr/bin/env bash
# bin/demo, run as a user would but without a terminal: `bin/demo
# --seconds 12` with the programs of this build.  It must show the
# command's ack, an alert, the hot device's offline event (its will), the
# fleet table and the check line from the archive; leave a demo.db that
# holds the fleet; and leave no process of its own running.  Then --broker
# runs the same against a broker the test started, and Ctrl-C (typed into
# a real terminal, tmux) stops a run half way with status 130, nothing
# left running.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq sqlite3 tmux
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build (the demo is a user's run, not a memory check)"
[[ ${MQMON_QUICK:-} == 1 ]] && skip "quick run (make distcheck): the plain build ran it"

# procs_in DIR: the processes working in DIR (the demo's, whatever their
# command line says)
procs_in() {
	local p
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/cwd" 2>/dev/null) == "$1"* ]] && echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
	done
	return 0
}

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
	left=$(procs_in "$dir")
	[[ -z $left ]] || fail "the demo left processes running: $left"
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

# Ctrl-C half way
dir=$T/interrupted
mkdir -p "$dir/tmp"
TM=(tmux -S "$T/tmux.sock")
on_exit "${TM[*]} kill-server 2>/dev/null"
"${TM[@]}" new-session -d -s demo -x 200 -y 50 \
	"cd '$dir' && TMPDIR='$dir/tmp' MQMON_BIN='$abs_top_builddir/bin' bash '$MQMON_SRCDIR/bin/demo' --seconds 60 \
		>out.txt 2>err.txt; echo \$? >rc; sleep 60"
wait_until 30 grep -q 'the fleet: mqmon-pub --simulate' "$dir/err.txt" || fail "the demo did not get going: $(cat "$dir/err.txt")"
"${TM[@]}" send-keys -t demo C-c
wait_until 15 test -s "$dir/rc" || fail "Ctrl-C did not end the demo"
assert_eq 130 "$(cat "$dir/rc")" "the demo's status after Ctrl-C"
grep -q 'interrupted; stopping everything' "$dir/err.txt" || fail "no word of the interruption: $(tail -3 "$dir/err.txt")"
[[ -z $(ls -A "$dir/tmp") ]] || fail "the interrupted demo left files in its temp dir: $(ls -A "$dir/tmp")"
sleep 0.5 # what got SIGINT with the demo ends on its own
"${TM[@]}" kill-server 2>/dev/null # and the pane's shell with it
left=$(procs_in "$dir")
[[ -z $left ]] || fail "the interrupted demo left processes running: $left"
exit 0
