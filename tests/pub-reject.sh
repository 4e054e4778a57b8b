#!/usr/bin/env bash
# Bad input lines: each is reported on stderr as "mqmon-pub: line N: …",
# appended whole to --dead-letter FILE and skipped; every good line is
# delivered; the exit status is 65.
. "${srcdir:-.}/tests/lib.sh"
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

{
	printf '{"topic":"good/1","payload":1}\n'                         # 1
	printf 'this is not json\n'                                       # 2 not JSON
	printf '[1,2,3]\n'                                                # 3 not an object
	printf '{"payload":"no topic"}\n'                                 # 4 no topic, no -t
	printf '{"topic":"good/+","payload":5}\n'                         # 5 wildcard
	printf '{"topic":"good/#","payload":6}\n'                         # 6 wildcard
	printf '{"topic":"good/\377\376","payload":7}\n'                  # 7 invalid UTF-8 in the topic
	printf '{"topic":"good/8","enc":"base64","payload":"@@@"}\n'      # 8 bad base64
	printf '{"topic":"good/9","qos":3,"payload":9}\n'                 # 9 qos 3
	printf '{"topic":"good/10","payload":"%s"}\n' "$(head -c 2000 /dev/zero | tr '\0' x)" # 10 over --max-size
	printf '{"topic":"good/11","payload":{"n":11}}\n'                 # 11
	printf '{"topic":"good/12","payload":{"unterminated":\n'          # 12 truncated
	printf '{"topic":"good/13","enc":"utf8","payload":13}\n'          # 13 utf8 needs a string
	printf '{"topic":"good/14","payload":"fourteen"}'                 # 14, no final newline
} >"$T/in.ndjson"

run_bg sub mqmon-sub "${P[@]}" -i rejsub -t 'good/#' -q 1
wait_contains "$(broker_log)" "rejsub 1 good/#"
st=0
mqmon-pub "${P[@]}" -q 1 --max-size 1k --dead-letter "$T/dead.ndjson" <"$T/in.ndjson" 2>"$T/pub.err" || st=$?
assert_eq 65 "$st" "exit status with rejected lines"
wait_lines "$T/sub.out" 3
sleep 0.3
stop_bg sub
assert_eq 3 "$(count_lines "$T/sub.out")" "good lines delivered"
assert_contains "$T/sub.out" '"topic":"good/1"' '"topic":"good/11"' '"payload":"fourteen"'

# one message per bad line, each naming the line and the fault
assert_eq 11 "$(count_lines "$T/pub.err")" "error lines on stderr"
assert_contains "$T/pub.err" \
	'mqmon-pub: line 2: not JSON: unexpected character at byte 1' \
	'mqmon-pub: line 3: not an envelope: a JSON object is expected' \
	'mqmon-pub: line 4: no "topic" (and no -t default)' \
	"mqmon-pub: line 5: \"topic\" contains a wildcard ('+' or '#')" \
	"mqmon-pub: line 6: \"topic\" contains a wildcard ('+' or '#')" \
	'mqmon-pub: line 7: not JSON: invalid UTF-8 in string at byte 16 (in "topic")' \
	'mqmon-pub: line 8: "payload" is not valid base64 (at character 1)' \
	'mqmon-pub: line 9: "qos" must be 0, 1 or 2' \
	'mqmon-pub: line 10: the body is 2000 bytes, more than --max-size 1024' \
	'mqmon-pub: line 12: not JSON:' \
	'mqmon-pub: line 13: "payload" must be a string when enc is utf8'

# the dead-letter file holds exactly the bad lines, byte for byte
sed -n '2,10p;12,13p' "$T/in.ndjson" >"$T/expected.ndjson"
cmp "$T/expected.ndjson" "$T/dead.ndjson" || fail "dead-letter file differs from the rejected lines"

# a second run appends; without --dead-letter nothing is written anywhere
printf 'bad again\n' | mqmon-pub "${P[@]}" --dead-letter "$T/dead.ndjson" 2>/dev/null && fail "status 0 with a bad line"
assert_eq 12 "$(count_lines "$T/dead.ndjson")" "dead-letter lines after a second run"
tail -1 "$T/dead.ndjson" | grep -qx 'bad again' || fail "the second run's line was not appended"

# -t gives lines without a topic a home; a NUL byte inside a line is an error, not a cut
st=0
printf '{"payload":"x"}\n{"topic":"good/nul","payload":"a\0b"}\n' |
	mqmon-pub "${P[@]}" -t good/default 2>"$T/nul.err" || st=$?
assert_eq 65 "$st" "exit status with a NUL byte in a line"
assert_contains "$T/nul.err" "line 2: not JSON"

# an unwritable dead-letter file is a clear error before anything is read
st=0
mqmon-pub "${P[@]}" --dead-letter /nonexistent/dir/dead </dev/null 2>"$T/dl.err" || st=$?
assert_eq 1 "$st" "exit status with an unwritable dead-letter file"
assert_contains "$T/dl.err" "cannot open the dead-letter file /nonexistent/dir/dead"
exit 0
