#!/bin/bash
# tests/harness-selftest.sh - proves that tests/lib.sh works, using only
# mosquitto, mosquitto_sub/mosquitto_pub, socat and openssl (no mqmon program).
#
#   srcdir=/path/to/src abs_top_builddir=/path/to/build bash tests/harness-selftest.sh
#
# Runs under set -eu on purpose: lib.sh must work there too.
#
# shellcheck disable=SC2016 # '$SYS/...' topics and code for eval/nested tests
# shellcheck disable=SC2317 # functions called indirectly (wait_for, ...)
# shellcheck disable=SC2119 # lib.sh functions with an optional NAME argument
set -eu

# shellcheck source=tests/lib.sh
. "${srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# (the broker itself is found by broker_start, also outside PATH)
require_cmd mosquitto_sub mosquitto_pub mosquitto_passwd socat openssl

start_us=${EPOCHREALTIME//[!0-9]/}

# sub ARGS...: one bounded mosquitto_sub run in the foreground.
sub() {
	run_bounded 5 mosquitto_sub "$@"
}

# pub_until_lines FILE N ARGS...: publish (mosquitto_pub ARGS) until FILE has
# N lines; for a live subscriber whose SUBSCRIBE may not be processed yet.
_pub_check() {
	local f=$1 n=$2
	shift 2
	run_bounded 2 mosquitto_pub "$@" >/dev/null 2>&1 || :
	wait_until 0.2 _lines_at_least "$f" "$n"
}
_lines_at_least() {
	[ "$(count_lines "$1")" -ge "$2" ]
}
pub_until_lines() {
	wait_for 5 _pub_check "$@"
}

# --- helpers of lib.sh itself ------------------------------------------------
note "T=$T"
[ -d "$T" ] || fail "no temp dir"
case $T in "$MQMON_SRCDIR"/*) fail "temp dir $T inside the source tree" ;; esac
p=$(freeport)
case $p in '' | *[!0-9]*) fail "freeport printed '$p'" ;; esac
assert_eq 1 "$(printf 'a\nb' >"$T/c" && count_lines "$T/c")" "count_lines (unterminated last line)"
printf 'n 3\nn 1\nn 2\nn 3\nx\n' >"$T/n"
assert_eq "1 2 3" "$(distinct_numbers "$T/n" | tr '\n' ' ' | sed 's/ $//')" "distinct_numbers"
assert_numbers "$T/n" 1 3
assert_contains "hello world" hello world
assert_contains "$T/n" "n 2" x
assert_not_contains "$T/n" "n 4"
rc=0
run_bounded 0.3 sleep 5 2>/dev/null || rc=$?
assert_eq 124 "$rc" "run_bounded timeout status"

# --- run_bg / stop_bg / wait_bg ----------------------------------------------
run_bg quick sh -c 'echo out; echo err >&2; exit 3'
rc=0
wait_bg quick || rc=$?
assert_eq 3 "$rc" "wait_bg status"
assert_eq 3 "$BG_STATUS" "BG_STATUS"
assert_contains "$T/quick.out" out
assert_contains "$T/quick.err" err
# a process group: the shell and its sleep child both go
run_bg sleeper sh -c 'sleep 30 & echo $! >"$T/child"; wait'
wait_for 5 test -s "$T/child"
child=$(cat "$T/child")
stop_bg sleeper
assert_eq 143 "$BG_STATUS" "status after SIGTERM"
wait_for 2 _mqmon_dead "$child"
run_bg sleeper sleep 30
stop_bg sleeper KILL
assert_eq 137 "$BG_STATUS" "status after SIGKILL"

# --- verdicts, traps, cleanup (in nested test scripts) ------------------------
nested() { # EXPECTED_RC BODY: run BODY as a test script sourcing lib.sh
	local want=$1 got=0
	printf '%s\n' 'set -u' ". '$MQMON_SRCDIR/tests/lib.sh'" "$2" >"$T/nested.sh"
	(cd / && run_bounded 10 bash "$T/nested.sh") >"$T/nested.out" 2>"$T/nested.err" || got=$?
	[ "$got" = "$want" ] || fail "nested test: expected exit $want, got $got; body: $2
stdout: $(cat "$T/nested.out")
stderr: $(cat "$T/nested.err")"
}
nested 0 'echo "$T"'
[ ! -e "$(cat "$T/nested.out")" ] || fail "nested temp dir not removed"
nested 1 'x=$(fail "from a subshell"); echo "not reached $x"'
assert_contains "$T/nested.err" "FAIL: from a subshell"
assert_not_contains "$T/nested.out" "not reached"
nested 77 'skip "nothing to do"'
MQMON_NO_SKIP=1 nested 99 'skip "nothing to do"'
nested 1 'wait_for 0.2 false'
assert_contains "$T/nested.err" "FAIL: timed out after 0.2s waiting for: false"
nested 1 'assert_eq a b "letters"'
assert_contains "$T/nested.err" "FAIL: letters: values differ"
# a failing test still stops its broker, proxy and background commands
nested 1 'broker_start; proxy_start "$BROKER_PORT"
	run_bg s sleep 60
	echo "$T $BROKER_PID_b $PROXY_PGID_p $PID_s"; fail "on purpose"'
read -r nt npid npg ns <"$T/nested.out"
[ ! -e "$nt" ] || fail "nested temp dir $nt not removed after a failure"
wait_for 2 _mqmon_dead "$npid"
wait_for 2 _mqmon_dead "$ns"
wait_for 2 eval "! kill -0 -- -$npg 2>/dev/null"
assert_contains "$T/nested.err" "mosquitto.log (last"
MQMON_KEEP_TMP=1 nested 0 'echo "$T"'
kept=$(cat "$T/nested.out")
[ -d "$kept" ] || fail "MQMON_KEEP_TMP=1 did not keep $kept"
assert_contains "$T/nested.err" "temp dir kept: $kept"
rm -rf "$kept"

# --- plain broker ------------------------------------------------------------
broker_start
assert_eq "$BROKER_PORT" "$(broker_port b)" "broker_port"
# shellcheck disable=SC2154 # set by lib.sh through printf -v
assert_eq "$BROKER_PORT_b" "$(broker_port)" "BROKER_PORT_b"
# shellcheck disable=SC2154
assert_eq "$BROKER_PID_b" "$(broker_pid)" "broker_pid"
assert_contains "$(broker_dir)/mosquitto.conf" "user $(id -un)" "allow_anonymous true" \
	"max_queued_messages 0" "max_inflight_messages 0" "listener $BROKER_PORT 127.0.0.1"
# retained message, then a live one
mosquitto_pub -p "$BROKER_PORT" -t selftest/retained -r -m kept
assert_eq kept "$(sub -p "$BROKER_PORT" -t selftest/retained -C 1 -W 5)" "retained message"
run_bg live mosquitto_sub -p "$BROKER_PORT" -i live-sub -t selftest/live -q 1
pub_until_lines "$T/live.out" 1 -p "$BROKER_PORT" -t selftest/live -q 1 -m hello
assert_eq hello "$(head -n 1 "$T/live.out")" "live message"
stop_bg live
assert_contains "$(broker_log)" "as live-sub"

# --- TLS brokers -------------------------------------------------------------
broker_start tls --tls
tp=$(broker_port tls)
# shellcheck disable=SC2154
assert_eq "$tp" "$BROKER_PORT_tls" "BROKER_PORT_tls"
for f in "$CA_FILE" "$CLIENT_CERT" "$CLIENT_KEY"; do
	[ -s "$f" ] || fail "TLS file $f missing"
done
out=$(sub --cafile "$CA_FILE" -h localhost -p "$tp" -t '$SYS/broker/version' -C 1 -W 5)
assert_contains "$out" "mosquitto version"
out=$(sub --cafile "$CA_FILE" -h 127.0.0.1 -p "$tp" -t '$SYS/broker/version' -C 1 -W 5)
assert_contains "$out" "mosquitto version"
# plain MQTT to the TLS listener: mosquitto_pub gives up at once (mosquitto_sub
# would keep reconnecting until -W)
rc=0
run_bounded 5 mosquitto_pub -h 127.0.0.1 -p "$tp" -t selftest/x -m x >/dev/null 2>&1 || rc=$?
case $rc in 0 | 124) fail "plain MQTT to the TLS listener: status $rc" ;; esac
wait_contains "$(broker_log tls)" "wrong version number" 2
# the client certificate is accepted where one is required
broker_start mtls --tls --extra 'require_certificate true'
out=$(sub --cafile "$CA_FILE" --cert "$CLIENT_CERT" --key "$CLIENT_KEY" -h localhost \
	-p "$(broker_port mtls)" -t '$SYS/broker/version' -C 1 -W 5)
assert_contains "$out" "mosquitto version"
rc=0
sub --cafile "$CA_FILE" -h localhost -p "$(broker_port mtls)" -t '$SYS/broker/version' \
	-C 1 -W 2 >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "no client certificate, yet require_certificate let us in"

# --- auth broker -------------------------------------------------------------
broker_start auth --auth
ap=$(broker_port auth)
assert_eq "mqmon s3cret" "$AUTH_USER $AUTH_PASS" "credentials"
out=$(sub -p "$ap" -u "$AUTH_USER" -P "$AUTH_PASS" -t '$SYS/broker/version' -C 1 -W 5)
assert_contains "$out" "mosquitto version"
rc=0
out=$(sub -p "$ap" -u "$AUTH_USER" -P wrong -t '$SYS/broker/version' -C 1 -W 3 2>&1) || rc=$?
[ "$rc" = 5 ] || fail "wrong password: status $rc (want 5), output [$out]"
assert_contains "$out" "not authorised"
rc=0
sub -p "$ap" -t '$SYS/broker/version' -C 1 -W 3 >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "anonymous client accepted by --auth broker"

# --- persistence across stop/restart -----------------------------------------
broker_start pb --persist
pp=$(broker_port pb)
ppid=$(broker_pid pb)
# create the persistent session (-c, QoS 1), exit once subscribed (-E)
sub -p "$pp" -c -i persist-sub -q 1 -t selftest/persist -E
mosquitto_pub -p "$pp" -q 1 -t selftest/persist -m m1
broker_stop pb
assert_eq "" "$(broker_pid pb)" "broker_pid after stop"
_mqmon_dead "$ppid" || fail "broker pb still alive after broker_stop"
[ -s "$(broker_dir pb)/mosquitto.db" ] || fail "no mosquitto.db after broker_stop"
broker_restart pb
assert_eq "$pp" "$(broker_port pb)" "port after broker_restart"
mosquitto_pub -p "$pp" -q 1 -t selftest/persist -m m2
out=$(sub -p "$pp" -c -i persist-sub -q 1 -t selftest/persist -C 2 -W 5)
assert_eq "m1
m2" "$out" "queued messages across restart"

# --- kill -9 and restart -----------------------------------------------------
bpid=$BROKER_PID_b
broker_kill9
_mqmon_dead "$bpid" || fail "broker b alive after broker_kill9"
broker_restart
out=$(sub -p "$BROKER_PORT" -t '$SYS/broker/version' -C 1 -W 5)
assert_contains "$out" "mosquitto version"

# --- proxy: stop, pause/resume, restart ----------------------------------------
proxy_start "$BROKER_PORT"
assert_eq "$PROXY_PORT" "$(proxy_port)" "proxy_port"
run_bg viaproxy mosquitto_sub -p "$PROXY_PORT" -i viaproxy -t selftest/proxy -q 1
pub_until_lines "$T/viaproxy.out" 1 -p "$BROKER_PORT" -t selftest/proxy -q 1 -m p1
assert_contains "$(broker_log)" "as viaproxy"
proxy_stop
wait_contains "$(broker_log)" "Client viaproxy closed its connection" 5
if (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null; then
	fail "proxy port still accepts connections after proxy_stop"
fi
bg_alive viaproxy || fail "mosquitto_sub should survive (and reconnect)"
old=$PROXY_PORT
proxy_restart
assert_eq "$old" "$PROXY_PORT" "proxy port after proxy_restart"
# mosquitto_sub reconnects by itself (about once a second)
wait_for 5 eval '[ "$(grep -c "as viaproxy" "$(broker_log)")" -ge 2 ]'
pub_until_lines "$T/viaproxy.out" 2 -p "$BROKER_PORT" -t selftest/proxy -q 1 -m p2
# a paused proxy holds the data back, a resumed one delivers it
proxy_pause
mosquitto_pub -p "$BROKER_PORT" -t selftest/proxy -q 1 -m p3
sleep 0.3
assert_eq 2 "$(count_lines "$T/viaproxy.out")" "lines while the proxy is paused"
proxy_resume
wait_lines "$T/viaproxy.out" 3 5
assert_eq "p3" "$(tail -n 1 "$T/viaproxy.out")" "message after proxy_resume"
stop_bg viaproxy

# several brokers coexist
for n in b tls mtls auth pb; do
	_mqmon_alive "$(broker_pid "$n")" || fail "broker $n not running"
done
assert_eq 5 "$(for n in b tls mtls auth pb; do broker_port "$n"; done | sort -u | wc -l | tr -d ' ')" \
	"distinct broker ports"

end_us=${EPOCHREALTIME//[!0-9]/}
note "harness self-test passed in $(((end_us - start_us) / 1000)) ms (before cleanup)"
exit 0
