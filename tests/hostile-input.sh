#!/usr/bin/env bash
# Hostile input to every program that reads stdin: mqmon-pub (envelope
# stream), mqmon-store (ingest), mqmon-cmd --batch and mqmon-status (live on
# stdin).  One file per input kind mixes good lines with truncated JSON, NUL
# bytes, invalid UTF-8, JSON nested 100,000 deep (closed and not, as the
# line and inside a field), a 64 MiB line, a wrong type for every field,
# 1,000,000 empty lines and blank lines of spaces, tabs and CRs.  For each
# program: exit status 65; exactly one error on stderr per bad line, naming
# its line number, and none for the others; stderr stays small (the huge
# line is not echoed); every good line processed at its destination (the
# broker, the messages table, one result each, one online event each), the
# bad ones in mqmon-store's rejects table with their line numbers and whole;
# no crash and no sanitizer report; peak RSS bounded.  The same input with
# CRLF line ends gives the same results as with LF; 1,000,000 empty lines
# cost no memory.  MQMON_SANITIZERS=1 uses a 16 MiB line and 200,000 empty
# lines; MQMON_QUICK=1 skips.
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_QUICK:-} == 1 ]] && skip "MQMON_QUICK=1: the plain build runs this one"
require_cmd jq sqlite3
BIG_MIB=64
EMPTY=1000000
SAN=0
if [[ ${MQMON_SANITIZERS:-} == 1 ]]; then
	SAN=1
	BIG_MIB=16
	EMPTY=200000
fi
BIG=$((BIG_MIB * 1024 * 1024))
HUGE_ENV='{"topic":"hostile/big","payload":"' # then BIG x, and no end
DEEP=100000

# ---------------------------------------------------------------------------
# Input files.  add_good/add_bad LINE (printf %b escapes, no newline) append
# one line and note its number; the numbers go to FILE.good / FILE.bad.

F='' N=0
start_file() {
	F=$1 N=0
	: >"$F"
	: >"$F.good"
	: >"$F.bad"
}
add_good() {
	N=$((N + 1))
	printf '%b\n' "$1" >>"$F"
	echo "$N" >>"$F.good"
}
add_bad() {
	N=$((N + 1))
	printf '%b\n' "$1" >>"$F"
	echo "$N" >>"$F.bad"
}
add_blank() { # COUNT: empty lines
	head -c "$1" /dev/zero | tr '\0' '\n' >>"$F"
	N=$((N + $1))
}
# the hostile lines every JSON reader gets; $1 wraps a value in a line
# the program would otherwise take (the value goes where %s is)
add_common() {
	local w=$1 open close
	open=$(head -c "$DEEP" /dev/zero | tr '\0' '[')
	close=$(head -c "$DEEP" /dev/zero | tr '\0' ']')
	add_bad "$open$close" # [[[...]]] 100,000 deep, closed
	add_bad "$open" # [[[... not closed
	add_bad "${w/\%s/$open$close}" # as a field's value
	N=$((N + 1)) # {"a":{"a":...}} 100,000 deep
	awk -v d="$DEEP" 'BEGIN { for (i = 0; i < d; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < d; i++) printf "}"; printf "\n" }' >>"$F"
	echo "$N" >>"$F.bad"
	add_bad '\0\0\0' # NUL bytes alone
	add_bad "${w/\%s/1}\\0" # NUL after the object
	add_bad "\\0${w/\%s/1}" # NUL before it
	add_bad "${w/\%s/1\\0}" # NUL after a value
	add_bad '[1,2,3]' # not an object
	add_bad '"a string"' # not an object
	add_bad 'not json' # not JSON
	add_bad '{' # truncated
	add_bad "${w%%\%s*}" # truncated before a value
	add_bad "${w/\%s/[1,2}" # truncated inside a value
	add_bad "${w:0:20}" # truncated anywhere
	add_bad "${w/\%s/\"unterminated}" # a string that never ends
	add_bad "\\377\\376${w/\%s/1}" # invalid UTF-8 outside strings
	add_bad "${w/\%s/\\377}"
	add_bad "\\357\\273\\277${w/\%s/1}" # a UTF-8 BOM
	add_bad "${w/\%s/1}{\"b\":2}" # two values
	add_bad "${w/\%s/1,}" # trailing comma
	add_bad "${w/\%s/NaN}" # not JSON numbers
	add_bad "${w/\%s/0x10}"
	add_bad "${w/\%s/01}"
}
# the huge line: a truncated object whose last string never ends
add_huge() { # PREFIX
	N=$((N + 1))
	{
		printf '%s' "$1"
		head -c "$BIG" /dev/zero | tr '\0' x
		printf '\n'
	} >>"$F"
	echo "$N" >>"$F.bad"
}

# Envelopes (pub, store, status): the good lines are status messages of
# distinct devices, hostile/HDEV_N/status, so each is one message at the
# broker, one row in messages and one online event.
G=0
good_env() {
	G=$((G + 1))
	add_good "{\"topic\":\"hostile/HDEV_$G/status\",\"qos\":1,\"payload\":{\"status\":\"online\",\"n\":$G}}"
}
gen_env() { # FILE BLANKS HUGE
	start_file "$1"
	G=0
	good_env
	add_common '{"topic":"hostile/deep","payload":%s}'
	good_env
	# NUL bytes and invalid UTF-8 in strings
	add_bad '{"topic":"hostile/n\0ul","payload":1}'
	add_bad '{"topic":"hostile/nul","payload":"a\0b"}'
	add_bad '{"topic":"hostile/nul","payload":{"a\0":1}}'
	add_bad '{"topic":"hostile/\377\376","payload":1}'
	add_bad '{"topic":"hostile/\300\257","payload":1}' # overlong
	add_bad '{"topic":"hostile/\355\240\200","payload":1}' # a surrogate
	add_bad '{"topic":"hostile/x","payload":"caf\303"}' # cut sequence
	add_bad '{"topic":"hostile/x","payload":{"k":"\200"}}'
	add_bad '{"topic":"hostile/x","payload":"\\u00"}' # bad escape
	add_bad '{"topic":"hostile/x","payload":"\001"}' # raw control character
	# a wrong type for every field
	local v
	for v in 5 true null '[]' '{}' '"a/+"' '"#"' '""'; do
		add_bad "{\"topic\":$v,\"payload\":1}"
	done
	add_bad '{"payload":1}' # no topic
	for v in 5 true null '[]' '{}' '"hex"' '"JSON"'; do
		add_bad "{\"topic\":\"hostile/x\",\"enc\":$v,\"payload\":1}"
	done
	for v in 5 true null '[]' '{}'; do
		add_bad "{\"topic\":\"hostile/x\",\"enc\":\"utf8\",\"payload\":$v}"
		add_bad "{\"topic\":\"hostile/x\",\"enc\":\"base64\",\"payload\":$v}"
	done
	add_bad '{"topic":"hostile/x","enc":"base64","payload":"@@@@"}'
	for v in '"1"' 1.5 -1 3 true null '[]' '{}' 1e0 99999999999999999999; do
		add_bad "{\"topic\":\"hostile/x\",\"qos\":$v,\"payload\":1}"
	done
	for v in '"yes"' '"true"' 2 -1 null '[]' '{}' 0.5; do
		add_bad "{\"topic\":\"hostile/x\",\"retain\":$v,\"payload\":1}"
	done
	for v in 12345 true null '[]' '{}' '"yesterday"' '"2025-13-45T99:99:99Z"' '""'; do
		add_bad "{\"topic\":\"hostile/x\",\"ts\":$v,\"payload\":1}"
		add_bad "{\"topic\":\"hostile/x\",\"tst\":$v,\"payload\":1}"
	done
	for v in '"x"' 5 true '[]' '{"message_expiry":"x"}' '{"message_expiry":-1}' \
		'{"payload_format":"x"}' '{"payload_format":7}' '{"content_type":5}' '{"response_topic":5}' \
		'{"response_topic":"a/+"}' '{"correlation_data":5}' '{"user":5}' '{"user":[]}' \
		'{"user":{"k":{}}}' '{"user":{"k":[[]]}}'; do
		add_bad "{\"topic\":\"hostile/x\",\"props\":$v,\"payload\":1}"
	done
	good_env
	if [ "$2" -gt 0 ]; then
		add_blank "$2"
	fi
	printf ' \t \n\r\n \r \n' >>"$F" # blank lines of spaces, tabs and CRs
	N=$((N + 3))
	good_env
	if [ "$3" = 1 ]; then
		add_huge "$HUGE_ENV"
	fi
	add_bad '{"topic":"hostile/x","payload":{"a":'
	G=$((G + 1))
	N=$((N + 1))
	printf '{"topic":"hostile/HDEV_%d/status","qos":1,"payload":{"status":"online","n":%d}}' "$G" "$G" >>"$F"
	echo "$N" >>"$F.good" # the last line has no newline
}

# Commands (mqmon-cmd --batch): {"device","command","params"}
gen_cmd() { # FILE BLANKS HUGE
	start_file "$1"
	local g=0 v
	good_cmd() {
		g=$((g + 1))
		add_good "{\"device\":\"hdev$g\",\"command\":\"set\",\"params\":{\"n\":$g}}"
	}
	good_cmd
	add_common '{"device":"hdev","command":"set","params":{"deep":%s}}'
	good_cmd
	add_bad '{"device":"hd\0ev","command":"set"}'
	add_bad '{"device":"hdev","command":"s\0et"}'
	add_bad '{"device":"hdev","command":"set","params":{"a\0":1}}'
	add_bad '{"device":"hdev\377","command":"set"}'
	add_bad '{"device":"hdev\300\257","command":"set"}'
	add_bad '{"device":"hdev\355\240\200","command":"set"}'
	add_bad '{"device":"hdev","command":"set","params":{"k":"caf\303"}}'
	add_bad '{"device":"hdev","command":"set","params":{"k":"\\u00"}}'
	add_bad '{"device":"hdev","command":"set","params":{"k":"\001"}}'
	add_bad '{"device":"hdev\\u0000x","command":"set"}'
	for v in 5 true null '[]' '{}' '"a/b"' '"+"' '"#"' '""'; do
		add_bad "{\"device\":$v,\"command\":\"set\"}"
		add_bad "{\"device\":\"hdev\",\"command\":$v}"
	done
	add_bad '{"command":"set"}'
	add_bad '{"device":"hdev"}'
	add_bad '{"event":"offline","device":"hdev"}' # no command on the command line
	for v in 5 true null '[]' '"x"' '[{"a":1}]'; do
		add_bad "{\"device\":\"hdev\",\"command\":\"set\",\"params\":$v}"
	done
	good_cmd
	if [ "$2" -gt 0 ]; then
		add_blank "$2"
	fi
	printf ' \t \n\r\n \r \n' >>"$F"
	N=$((N + 3))
	good_cmd
	if [ "$3" = 1 ]; then
		add_huge '{"device":"hdev","command":"set","params":{"s":"'
	fi
	add_bad '{"device":"hdev","command":'
	g=$((g + 1))
	N=$((N + 1))
	printf '{"device":"hdev%d","command":"set","params":{"n":%d}}' "$g" "$g" >>"$F"
	echo "$N" >>"$F.good"
}

crlf() { # IN OUT: every line end CRLF
	sed 's/$/\r/' "$1" >"$2"
	cp "$1.good" "$2.good"
	cp "$1.bad" "$2.bad"
}

gen_env "$T/env.in" "$EMPTY" 1
gen_env "$T/env-small.in" 0 0
crlf "$T/env-small.in" "$T/env-crlf.in"
gen_cmd "$T/cmd.in" "$EMPTY" 1
gen_cmd "$T/cmd-small.in" 0 0
crlf "$T/cmd-small.in" "$T/cmd-crlf.in"
for k in env cmd; do
	# the baseline: one good line; then the same after EMPTY empty lines
	sed -n 1p "$T/$k-small.in" >"$T/$k-one.in"
	{
		head -c "$EMPTY" /dev/zero | tr '\0' '\n'
		cat "$T/$k-one.in"
	} >"$T/$k-empty.in"
done
note "envelopes: $(count_lines "$T/env.in") lines, $(count_lines "$T/env.in.bad") bad," \
	"$(count_lines "$T/env.in.good") good; commands: $(count_lines "$T/cmd.in") lines," \
	"$(count_lines "$T/cmd.in.bad") bad, $(count_lines "$T/cmd.in.good") good"

# ---------------------------------------------------------------------------
# Running a program: run NAME PROG ARGS... <IN: stdout $T/NAME.out, stderr
# $T/NAME.err, exit status in RC_NAME, peak RSS (KiB) in RSS_NAME (empty
# without GNU time).

TIME=''
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o "$T/time.t" true 2>/dev/null && [ -s "$T/time.t" ]; then
	TIME=/usr/bin/time
else
	note "no GNU time: peak RSS is not checked"
fi
run() {
	local name=$1 rc=0 rss=''
	shift
	if [ -n "$TIME" ]; then
		run_bounded 60 "$TIME" -f %M -o "$T/$name.rss" "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
		rss=$(tail -n 1 "$T/$name.rss")
	else
		run_bounded 60 "$@" >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	fi
	printf -v "RC_$name" '%s' "$rc"
	printf -v "RSS_$name" '%s' "$rss"
}
rc_of() { _v=RC_$1 && echo "${!_v}"; }
rss_of() { _v=RSS_$1 && echo "${!_v}"; }

# check_run NAME PROG IN: status 65, no crash, no sanitizer report, one
# "PROG: line N:" per bad line of IN and none else, stderr small
check_run() {
	local name=$1 prog=$2 in=$3 rc
	rc=$(rc_of "$name")
	if grep -qE 'Sanitizer|runtime error:' "$T/$name.err"; then
		fail "$name: sanitizer report: $(grep -E -m 5 'Sanitizer|runtime error:|#[0-9]' "$T/$name.err")"
	fi
	[ "$rc" -lt 128 ] || fail "$name: $prog crashed (status $rc): $(tail -n 5 "$T/$name.err" | cut -c 1-300)"
	assert_eq 65 "$rc" "$name: exit status of $prog"
	sed -nE "s/^$prog: line ([0-9]+): .*/\\1/p" "$T/$name.err" >"$T/$name.lines"
	if ! cmp -s "$in.bad" "$T/$name.lines"; then
		fail "$name: the lines $prog reported differ from the bad lines (< expected, > reported):
$(diff "$in.bad" "$T/$name.lines" | head -n 20)
stderr:
$(cut -c 1-200 "$T/$name.err" | head -n 30)"
	fi
	[ "$(wc -c <"$T/$name.err")" -le 262144 ] || fail "$name: $(wc -c <"$T/$name.err") bytes on stderr"
}

# RSS bounds: memory follows the longest line, a few times its size at
# most, and empty lines cost nothing
check_rss() { # NAME BASE
	[ -n "$TIME" ] || return 0
	local rss base limit
	rss=$(rss_of "$1")
	base=$(rss_of "$2")
	if [[ $1 == *_full ]]; then
		limit=$((base + 3 * BIG / 1024 + 16384))
		[ "$SAN" = 1 ] && limit=$((base + 8 * BIG / 1024 + 131072))
	else
		limit=$((base + 2048))
		[ "$SAN" = 1 ] && limit=$((base + 16384))
	fi
	note "$1: peak RSS $rss KiB (one line: $base KiB, limit $limit KiB)"
	[ "$rss" -le "$limit" ] || fail "$1: peak RSS $rss KiB, more than $limit KiB"
}

# check_empty NAME PROG: the empty lines and the good line after them
check_empty() {
	grep -qE 'Sanitizer|runtime error:' "$T/$1.err" && fail "$1: sanitizer report: $(head -n 20 "$T/$1.err")"
	assert_eq 0 "$(rc_of "$1")" "$1: exit status of $2 with $EMPTY empty lines and one good line ($(head -c 300 "$T/$1.err"))"
	if grep -q "line [0-9]" "$T/$1.err"; then
		fail "$1: an empty line reported: $(head -n 3 "$T/$1.err")"
	fi
}

broker_start
P=(-p "$BROKER_PORT")

# ---------------------------------------------------------------------------
# mqmon-store: good lines in messages, bad ones in rejects, whole

store_rows() { # DB: what a run leaves, whatever the time
	sqlite3 -batch "$1" "SELECT topic, qos, retain, enc, payload FROM messages ORDER BY id;
		SELECT line, error, hex(input) FROM rejects ORDER BY line"
}
for r in full:env small:env-small crlf:env-crlf empty:env-empty one:env-one; do
	run "store_${r%%:*}" mqmon-store --db "$T/${r%%:*}.db" <"$T/${r#*:}.in"
done
for r in full:env small:env-small crlf:env-crlf; do
	n=store_${r%%:*}
	check_run "$n" mqmon-store "$T/${r#*:}.in"
	db=$T/${r%%:*}.db
	assert_eq "$(seq 1 5 | sed 's|.*|hostile/HDEV_&/status|')" \
		"$(sqlite3 -batch "$db" 'SELECT topic FROM messages ORDER BY id')" "$n: messages stored"
	assert_eq "$(cat "$T/${r#*:}.in.bad")" "$(sqlite3 -batch "$db" 'SELECT line FROM rejects ORDER BY line')" \
		"$n: line numbers in rejects"
done
assert_eq "$((BIG + ${#HUGE_ENV}))" "$(sqlite3 -batch "$T/full.db" 'SELECT max(length(input)) FROM rejects')" \
	"the huge line, stored whole in rejects"
assert_eq "$(store_rows "$T/small.db")" "$(store_rows "$T/crlf.db")" "mqmon-store: CRLF input stored as LF input"
cmp "$T/store_small.err" "$T/store_crlf.err" || fail "mqmon-store: other errors with CRLF input"
check_empty store_empty mqmon-store
assert_eq 1 "$(sqlite3 -batch "$T/empty.db" 'SELECT count(*) FROM messages')" "messages after the empty lines"
check_rss store_full store_one
check_rss store_empty store_one

# ---------------------------------------------------------------------------
# mqmon-status: one online event per good line (each is another device)

for r in full:env small:env-small crlf:env-crlf empty:env-empty one:env-one; do
	run "status_${r%%:*}" mqmon-status <"$T/${r#*:}.in"
done
for r in full:env small:env-small crlf:env-crlf; do
	n=status_${r%%:*}
	check_run "$n" mqmon-status "$T/${r#*:}.in"
	assert_eq "$(seq 1 5 | sed 's|.*|online HDEV_&|')" "$(jq -r '[.event, .device] | join(" ")' "$T/$n.out")" \
		"$n: events"
done
assert_eq "$(jq -c 'del(.ts)' "$T/status_small.out")" "$(jq -c 'del(.ts)' "$T/status_crlf.out")" \
	"mqmon-status: CRLF input read as LF input"
cmp "$T/status_small.err" "$T/status_crlf.err" || fail "mqmon-status: other errors with CRLF input"
check_empty status_empty mqmon-status
assert_eq "online HDEV_1" "$(jq -r '[.event, .device] | join(" ")' "$T/status_empty.out")" \
	"mqmon-status: events after the empty lines"
check_rss status_full status_one
check_rss status_empty status_one

# ---------------------------------------------------------------------------
# mqmon-pub: every good line reaches a subscriber, each run under its own
# prefix (--rewrite)

run_bg sub mqmon-sub "${P[@]}" -i hsub -q 1 -t '#'
wait_until 10 eval "mqmon-pub ${P[*]} -q 1 -t hostile/probe -m probe && grep -q hostile/probe '$T/sub.out'" ||
	fail "the subscriber does not receive"
for r in full:env small:env-small crlf:env-crlf empty:env-empty one:env-one; do
	run "pub_${r%%:*}" mqmon-pub "${P[@]}" --rewrite "hostile/=${r%%:*}/" <"$T/${r#*:}.in"
done
# shellcheck disable=SC2317 # called by wait_until
got_all() { [ "$(grep -vc hostile/probe "$T/sub.out")" -ge 17 ]; }
wait_until 20 got_all || fail "the subscriber got $(grep -vc hostile/probe "$T/sub.out") of 17 messages"
sleep 0.5
stop_bg sub
for r in full:env small:env-small crlf:env-crlf; do
	n=pub_${r%%:*}
	check_run "$n" mqmon-pub "$T/${r#*:}.in"
	assert_eq "$(seq 1 5 | sed "s|.*|${r%%:*}/HDEV_&/status {\"status\":\"online\",\"n\":&}|")" \
		"$(jq -r --arg p "${r%%:*}/" 'select(.topic | startswith($p)) | "\(.topic) \(.payload | tojson)"' "$T/sub.out")" \
		"$n: messages the subscriber got"
done
assert_eq "$(jq -c 'select(.topic | startswith("small/")) | del(.ts, .mid) | .topic |= .[6:]' "$T/sub.out")" \
	"$(jq -c 'select(.topic | startswith("crlf/")) | del(.ts, .mid) | .topic |= .[5:]' "$T/sub.out")" \
	"mqmon-pub: CRLF input published as LF input"
cmp "$T/pub_small.err" "$T/pub_crlf.err" || fail "mqmon-pub: other errors with CRLF input"
check_empty pub_empty mqmon-pub
assert_eq 1 "$(jq -r 'select(.topic | startswith("empty/")) | .topic' "$T/sub.out" | wc -l)" \
	"mqmon-pub: messages after the empty lines"
check_rss pub_full pub_one
check_rss pub_empty pub_one

# ---------------------------------------------------------------------------
# mqmon-cmd --batch: one acked result per good line

run_bg resp mqmon-cmd "${P[@]}" -i hresp -q 1 --respond
wait_until 10 eval "mqmon-cmd ${P[*]} -q 1 --timeout 1 --retries 0 probe ping >/dev/null 2>&1" ||
	fail "the responder does not answer"
for r in full:cmd small:cmd-small crlf:cmd-crlf empty:cmd-empty one:cmd-one; do
	run "cmd_${r%%:*}" mqmon-cmd "${P[@]}" -q 1 --batch <"$T/${r#*:}.in"
done
stop_bg resp
for r in full:cmd small:cmd-small crlf:cmd-crlf; do
	n=cmd_${r%%:*}
	check_run "$n" mqmon-cmd "$T/${r#*:}.in"
	assert_eq "$(seq 1 5 | sed 's|.*|hdev& acked &|')" \
		"$(jq -r 'select(.event == "result") | "\(.device) \(.status) \(.response.params.n)"' "$T/$n.out" | sort -V)" \
		"$n: results"
done
cmp "$T/cmd_small.err" "$T/cmd_crlf.err" || fail "mqmon-cmd: other errors with CRLF input"
check_empty cmd_empty mqmon-cmd
assert_eq "hdev1 acked" "$(jq -r '"\(.device) \(.status)"' "$T/cmd_empty.out")" \
	"mqmon-cmd: results after the empty lines"
check_rss cmd_full cmd_one
check_rss cmd_empty cmd_one
exit 0
