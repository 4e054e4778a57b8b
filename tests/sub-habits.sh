#!/usr/bin/env bash
# mosquitto_sub habits (issue 11): -v is the short form of -F text and
# prints what mosquitto_sub -v prints; and the habits that mean something
# else here, or do not exist (-h alone, -help, -F '%t %p', -N, --pretty,
# -x, -D, ...), are usage errors (status 2) with a hint saying what to do
# instead.  The hints live in the shared option parser, so mqmon-pub's and
# another program's are checked here too.
. "${srcdir:-.}/tests/lib.sh"
broker_start
P=(-p "$BROKER_PORT")

# --- -v: "topic payload" lines, the same as -F text and mosquitto_sub -v
mqmon-pub "${P[@]}" -q 1 -r -t hv/a -m hello || fail "publishing hv/a"
mqmon-pub "${P[@]}" -q 1 -r -t hv/b/c -m '{"n":1}' || fail "publishing hv/b/c"
mqmon-pub "${P[@]}" -q 1 -r -t hv/d -m 'two words' || fail "publishing hv/d"
snapshot() { # NAME ARGS...: the retained messages of hv/#, as the options print them
	local name=$1
	shift
	run_bounded 10 mqmon-sub "${P[@]}" -t 'hv/#' --retained-only "$@" >"$T/$name.txt" ||
		fail "mqmon-sub $* exited $?"
}
snapshot v -v
snapshot verbose --verbose
snapshot text -F text
# the broker sends retained messages in no promised order
sort -o "$T/v.txt" "$T/v.txt"
sort -o "$T/verbose.txt" "$T/verbose.txt"
sort -o "$T/text.txt" "$T/text.txt"
assert_eq 'hv/a hello
hv/b/c {"n":1}
hv/d two words' "$(cat "$T/v.txt")" "mqmon-sub -v"
assert_eq "$(cat "$T/text.txt")" "$(cat "$T/v.txt")" "-v against -F text"
assert_eq "$(cat "$T/text.txt")" "$(cat "$T/verbose.txt")" "--verbose against -F text"
if command -v mosquitto_sub >/dev/null 2>&1; then
	run_bounded 10 mosquitto_sub "${P[@]}" -t 'hv/#' -v -C 3 | sort >"$T/mosq.txt" ||
		fail "mosquitto_sub -v exited $?"
	assert_eq "$(cat "$T/mosq.txt")" "$(cat "$T/v.txt")" "mqmon-sub -v against mosquitto_sub -v"
else
	note "no mosquitto_sub: -v not compared with it"
fi
# the last of -v and -F wins, as for any option given twice
snapshot v_json -v -F json
grep -q '^{"ts":"' "$T/v_json.txt" || fail "-v -F json did not print envelopes: $(head -1 "$T/v_json.txt")"
snapshot json_v -F json -v
assert_eq "$(cat "$T/text.txt")" "$(sort "$T/json_v.txt")" "-F json -v"

# --- the hints: exactly this message, "Try ...", status 2, nothing on stdout
# (-p and a short --connect-timeout: should a hint not fire, the program
# must not wait long for a broker)
hint() { # EXPECTED PROG ARGS...
	local want=$1 prog=$2 st=0
	shift 2
	run_bounded 20 "$prog" "$@" </dev/null >"$T/hint.out" 2>"$T/hint.err" || st=$?
	assert_eq 2 "$st" "exit status of $prog $*"
	assert_eq "$want
Try '$prog --help'." "$(cat "$T/hint.err")" "stderr of $prog $*"
	assert_eq "" "$(cat "$T/hint.out")" "stdout of $prog $*"
}
CT=(--connect-timeout 1)

# -h is the host, as in mosquitto_sub; help is --help
hint "mqmon-sub: -h needs a value (the broker host, as in mosquitto_sub); for help, use --help" \
	mqmon-sub -t x -h
hint "mqmon-sub: -h needs a value (the broker host, as in mosquitto_sub); for help, use --help" \
	mqmon-sub -h
hint "mqmon-pub: -h needs a value (the broker host, as in mosquitto_pub); for help, use --help" \
	mqmon-pub -t x -m y -h
hint "mqmon-sub: -help means -h elp (the broker host, as in mosquitto_sub); for help, use --help" \
	mqmon-sub "${CT[@]}" -t x -help
hint "mqmon-sub: -h: '-t' is not a host name; -h is the broker host, as in mosquitto_sub; for help, use --help" \
	mqmon-sub "${CT[@]}" -h -t x
hint "mqmon-sub: -h: 'localhost:$BROKER_PORT' is a host and a port: give the port with -p $BROKER_PORT" \
	mqmon-sub "${CT[@]}" -h "localhost:$BROKER_PORT" -t x
hint "mqmon-sub: -h: 'mqtt://localhost' is a URL: give it with -L" \
	mqmon-sub "${CT[@]}" -h mqtt://localhost -t x
hint "mqmon-sub: unknown option -?; for help, use --help" mqmon-sub -t x '-?'
# a host a user may mean is still a host: an IPv6 address has colons
st=0
run_bounded 20 mqmon-sub -h ::1 -p "$(freeport)" -t x --no-reconnect 2>"$T/v6.err" || st=$?
assert_eq 1 "$st" "-h ::1 with nothing listening"
assert_contains "$T/v6.err" "cannot connect to [::1]:"

# mosquitto_sub's format strings
hint "mqmon-sub: -F: '%t %p' is not json, text or raw; for mosquitto_sub's '%t %p', use -F text (or -v)" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -F '%t %p'
hint "mqmon-sub: -F: '%p' is not json, text or raw; for mosquitto_sub's '%p', use -F raw" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -F %p
hint "mqmon-sub: --format: '%J' is not json, text or raw; for mosquitto_sub's %j and %J, use -F json (mqmon-pub reads all three)" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x --format %J
hint "mqmon-sub: -F: '%I %t %x' is not json, text or raw; mosquitto_sub's format strings are not supported: use -F text ('%t %p'), -F raw ('%p') or -F json (every field, for jq)" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -F '%I %t %x'
# a plain bad value gets no hint
hint "mqmon-sub: -F: 'yaml' is not json, text or raw" mqmon-sub "${P[@]}" "${CT[@]}" -t x -F yaml

# mosquitto_sub options mqmon-sub does not have
hint "mqmon-sub: unknown option -N; mosquitto_sub's -N has no equivalent: every message ends with a newline (-F raw prints the bodies alone)" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -N
hint "mqmon-sub: unknown option --pretty; envelopes are one per line; to indent them, pipe them to jq ." \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x --pretty
hint "mqmon-sub: unknown option -x; mosquitto's -x (session expiry) has no equivalent: -c -i ID asks for a session that never expires" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -x 60
hint "mqmon-sub: unknown option -D; mqmon-sub sets no MQTT 5 properties; those a message carries are in its envelope's \"props\"" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -D subscribe subscription-identifier 1
hint "mqmon-sub: unknown option --remove-retained; to clear a retained message, use mqmon-pub -r -n -t TOPIC" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x --remove-retained
hint "mqmon-sub: unknown option --nodelay; mqmon always turns Nagle's algorithm off: leave --nodelay out" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x --nodelay
hint "mqmon-sub: unknown option -I; instead of mosquitto's client id prefix, give the whole id with -i ID" \
	mqmon-sub "${P[@]}" "${CT[@]}" -t x -I pre
# an unknown option nobody has gets no hint
hint "mqmon-sub: unknown option -Z" mqmon-sub "${P[@]}" "${CT[@]}" -t x -Z

# the same parser in mqmon-pub and mqmon-store
hint "mqmon-pub: unknown option -M; for mosquitto_pub's -M, use --max-inflight N" \
	mqmon-pub "${P[@]}" "${CT[@]}" -t x -m y -M 10
hint "mqmon-pub: unknown option --repeat; to publish a message several times, run mqmon-pub in a loop or pipe it envelopes" \
	mqmon-pub "${P[@]}" "${CT[@]}" -t x -m y --repeat 3
hint "mqmon-store: unknown option -h; for help, use --help" mqmon-store -h
hint "mqmon-store: -d fleet.db: -d is --debug, which takes no value; a database is given with --db FILE" \
	mqmon-store -d fleet.db

# --help itself still wins
mqmon-sub --help | grep -q '^  -v, --verbose ' || fail "--help does not list -v, --verbose"
exit 0
