#!/usr/bin/env bash
# What the real mosquitto_sub prints feeds mqmon byte for byte (SPEC §1):
# its -F %j lines, republished by mqmon-pub and archived by mqmon-store,
# give back every body exactly, the empty one ("payload":null,
# "payloadlen":0) as the empty body and not the four bytes "null"; its
# -F %J lines (a JSON string body embedded as that string) give back
# equal JSON, and the JSON string "hello" as the seven bytes "hello" with
# its quotes.
. "${srcdir:-.}/tests/lib.sh"
require_cmd mosquitto_sub mosquitto_pub sqlite3 jq
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

# sub NAME FORMAT FILTER COUNT: a mosquitto_sub printing FORMAT, subscribed
# on return
sub() {
	run_bg "$1" mosquitto_sub "${P[@]}" -i "$1" -q 1 -F "$2" -t "$3" -C "$4" -W 20
	wait_until 10 grep -q "^[0-9]*: $1 1 " "$(broker_log)" || fail "$1 did not subscribe"
}
finish() { wait_bg "$1" 20 || fail "$1: exit status $BG_STATUS: $(cat "$T/$1.err")"; }

# the bodies: empty, a JSON string, text, JSON with spaces and a trailing
# zero, the JSON null, an escaped JSON string, several lines of text
pub_all() { # PREFIX
	mosquitto_pub "${P[@]}" -q 1 -t "$1/0" -n
	mosquitto_pub "${P[@]}" -q 1 -t "$1/1" -m '"hello"'
	mosquitto_pub "${P[@]}" -q 1 -t "$1/2" -m 'hello'
	mosquitto_pub "${P[@]}" -q 1 -t "$1/3" -m '{"a": 1.50}'
	mosquitto_pub "${P[@]}" -q 1 -t "$1/4" -m 'null'
	mosquitto_pub "${P[@]}" -q 1 -t "$1/5" -m '"h\u00e9"'
	mosquitto_pub "${P[@]}" -q 1 -t "$1/6" -m "$(printf 'line 1\nline 2')"
}

# --- -F %j: every body byte for byte
sub j '%j' 'x/#' 7
sub hex_x '%t %x' 'x/#' 7
pub_all x
finish j
finish hex_x
grep -q '"topic":"x/0",.*"payloadlen":0,.*"payload":null}' "$T/j.out" || fail "no empty body in -F %j output"

sub hex_y '%t %x' 'y/#' 7
mqmon-pub "${P[@]}" --rewrite x/=y/ <"$T/j.out" || fail "mqmon-pub on mosquitto_sub -F %j output: $?"
finish hex_y
diff <(sed 's#^x/#y/#' "$T/hex_x.out" | sort) <(sort "$T/hex_y.out") >&2 ||
	fail "bodies republished from -F %j differ from the originals"
assert_contains "$T/hex_y.out" "y/0 " # the empty body arrived, empty

mqmon-store --db "$T/j.db" <"$T/j.out" || fail "mqmon-store on mosquitto_sub -F %j output: $?"
diff <(sort "$T/hex_x.out") <(sqlite3 "$T/j.db" "SELECT topic || ' ' || lower(hex(payload)) FROM messages" | sort) >&2 ||
	fail "bodies archived from -F %j differ from the originals"

# --- -F %J: JSON bodies as equal JSON, the JSON string with its quotes.
# (mosquitto_sub -F %J refuses a body that is not JSON: it prints "Error:"
# and a blank line, which mqmon skips.)
sub J '%J' 'j/#' 7
sub hex_j '%t %x' 'j/#' 7
pub_all j
finish J
finish hex_j
grep -q '"topic":"j/0",.*"payloadlen":0,.*"payload":null}' "$T/J.out" || fail "no empty body in -F %J output"
grep -q '"topic":"j/1",.*"payloadlen":7,.*"payload":"hello"}' "$T/J.out" || fail "no JSON string in -F %J output"

sub hex_k '%t %x' 'k/#' 5
mqmon-pub "${P[@]}" --rewrite j/=k/ <"$T/J.out" || fail "mqmon-pub on mosquitto_sub -F %J output: $?"
finish hex_k
# body TOPIC FILE: the body of TOPIC, from "topic hex" lines, as bytes
body() {
	local hex
	hex=$(awk -v t="$1" '$1 == t { print $2 }' "$2")
	printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")"
}
for n in 0 1 4; do
	assert_eq "$(body "j/$n" "$T/hex_j.out" | od -An -c)" "$(body "k/$n" "$T/hex_k.out" | od -An -c)" "body of j/$n"
done
for n in 3 5; do
	assert_eq "$(body "j/$n" "$T/hex_j.out" | jq -c .)" "$(body "k/$n" "$T/hex_k.out" | jq -c .)" "JSON of j/$n"
done
mqmon-store --db "$T/J.db" <"$T/J.out" || fail "mqmon-store on mosquitto_sub -F %J output: $?"
assert_eq "j/0|0|utf8
j/1|7|json
j/3|9|json
j/4|4|json
j/5|5|json" "$(sqlite3 "$T/J.db" 'SELECT topic, length(CAST(payload AS BLOB)), enc FROM messages ORDER BY topic')" \
	"bodies archived from -F %J"
exit 0
