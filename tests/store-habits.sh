#!/usr/bin/env bash
# mqmon-store and the habits a new user brings (issue 11), on real SQLite
# files, real programs and a real broker:
# - started on a terminal with nothing piped in, ingest says what it does
#   and how it is usually run (not with --quiet, not on a pipe), then
#   reads what is typed, and leaves the terminal blocking as it found it;
# - sqlite3's word order (`mqmon-store fleet.db query`) is a usage error
#   (2) that names --db, before anything is created;
# - every table fits 100 terminal columns on realistic data (the fleets
#   of FLEETS.md, a mqmon-pub --simulate fleet, long MAC ids, topics and
#   names, wide characters), cutting outliers, not the MAC ids;
# - no raw control character reaches a table, and CSV is RFC 4180 with no
#   byte below 0x20 but CR and LF inside quotes (parsed back strictly);
# - the --help replay example, run as printed, republishes under replay/.
. "${srcdir:-.}/tests/lib.sh"
require_cmd sqlite3 script jq od awk

# a UTF-8 locale, for measuring terminal columns with wc -L
UTF8=$(locale -a 2>/dev/null | grep -i -m1 -E '^(c|en_us)\.utf-?8$') || skip "no UTF-8 locale to measure widths in"
script --version 2>/dev/null | grep -q util-linux || skip "script(1) is not util-linux's"

# run_st VAR CMD...: run CMD (bounded), its status in VAR, stdout in
# $T/out, stderr in $T/err
run_st() {
	local __var=$1 __st=0
	shift
	run_bounded 60 "$@" >"$T/out" 2>"$T/err" || __st=$?
	printf -v "$__var" '%s' "$__st"
}

# width FILE: the widest line of FILE in terminal columns
width() { LC_ALL=$UTF8 wc -L <"$1" | tr -d ' '; }

# ---------------------------------------------------------------------------
# A terminal with nothing piped in

# on_tty INPUT CMD: run the shell command CMD on a pseudo-terminal
# (script(1)) that is typed INPUT (printf escapes: \004 is Ctrl-D), then
# stays open a moment; what the terminal showed, CR removed, in $T/tty
on_tty() {
	{
		printf "$1"
		sleep 2
	} | run_bounded 30 script -qec "$2" /dev/null | tr -d '\r' >"$T/tty" || fail "on a terminal: $2: $(cat "$T/tty")"
}

DB=$T/typed.db
ENV1='{"topic":"typed/by/hand","payload":{"t":1}}'
# after mqmon-store ends, the terminal's file status flags: O_NONBLOCK is
# 04000 (a shell that read a non-blocking terminal would see EAGAIN)
FLAGS='awk "/^flags/ { print \"flags=\" \$2 }" /proc/self/fdinfo/0'
on_tty "$ENV1\n\004" "mqmon-store --db $DB; echo status=\$?; $FLAGS"
assert_contains "$T/tty" \
	"mqmon-store: reading JSON envelopes, one per line, from the terminal into $DB; Ctrl-D ends" \
	"mqmon-store: usually fed by a pipe: mqmon-sub -t 'autocore/#' | mqmon-store --db fleet.db" \
	"mqmon-store: to read it back: mqmon-store --db fleet.db query|topics|devices|series|metrics|stats" \
	"status=0"
# the notes come before the program reads: they are out before the line typed is stored
assert_eq 1 "$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE topic = 'typed/by/hand'")" "the line typed is stored"
flags=$(sed -n 's/^flags=//p' "$T/tty")
if [ -n "$flags" ]; then
	(((8#$flags & 8#4000) == 0)) || fail "the terminal was left non-blocking (flags $flags)"
else
	note "no /proc/self/fdinfo: the terminal's flags are not checked"
fi

# --quiet: no notes, the same reading
on_tty "$ENV1\n\004" "mqmon-store --quiet --db $DB; echo status=\$?"
assert_contains "$T/tty" "status=0"
assert_not_contains "$T/tty" "mqmon-store:"
assert_eq 2 "$(sqlite3 "$DB" "SELECT count(*) FROM messages WHERE topic = 'typed/by/hand'")" "stored with --quiet"

# a pipe: no notes
run_st st mqmon-store --db "$DB" < <(echo "$ENV1")
assert_eq 0 "$st" "ingest from a pipe"
assert_eq "" "$(cat "$T/err")" "nothing said on stderr when fed by a pipe"

# ---------------------------------------------------------------------------
# sqlite3's word order: the database named where the subcommand goes
mkdir "$T/cwd"
cd "$T/cwd" || hard_error "cd"
run_st st mqmon-store fleet.db query
assert_eq 2 "$st" "mqmon-store fleet.db query: status"
assert_eq "mqmon-store: 'fleet.db' is not a subcommand; to name the database, use --db fleet.db
Try 'mqmon-store --help'." "$(cat "$T/err")" "mqmon-store fleet.db query"
[ ! -e fleet.db ] || fail "mqmon-store fleet.db query created fleet.db"
run_st st mqmon-store fleet.db </dev/null
assert_eq 2 "$st" "mqmon-store fleet.db: status"
assert_contains "$T/err" "'fleet.db' is not a subcommand; to name the database, use --db fleet.db"
[ ! -e fleet.db ] && [ ! -e mqmon.db ] || fail "mqmon-store fleet.db created a database"
# an existing file, whatever its name
cp "$DB" archive
run_st st mqmon-store archive stats
assert_eq 2 "$st" "an existing file as the subcommand: status"
assert_eq "mqmon-store: 'archive' is not a subcommand; to name the database, use --db archive" "$(head -n 1 "$T/err")" \
	"an existing file as the subcommand"
run_st st mqmon-store --db archive query fleet.sqlite
assert_eq 2 "$st" "a database after the subcommand: status"
assert_eq "mqmon-store: unexpected argument 'fleet.sqlite'; to name the database, use --db fleet.sqlite" \
	"$(head -n 1 "$T/err")" "a database after the subcommand"
run_st st mqmon-store "my fleet.db" devices
assert_eq "mqmon-store: 'my fleet.db' is not a subcommand; to name the database, use --db 'my fleet.db'" \
	"$(head -n 1 "$T/err")" "a name to quote for the shell"
# other words are not taken for databases; a file named like a subcommand
# does not hide it
run_st st mqmon-store fleet
assert_eq 2 "$st" "an unknown subcommand: status"
assert_eq "mqmon-store: unknown subcommand 'fleet' (ingest, query, topics, devices, series, metrics, prune, stats)" \
	"$(head -n 1 "$T/err")" "an unknown subcommand"
touch stats
run_st st mqmon-store --db archive stats
assert_eq 0 "$st" "stats, with a file named stats here"
cd "$T" || hard_error "cd"

# ---------------------------------------------------------------------------
# Realistic data: every fleet of FLEETS.md, a simulated fleet, and what
# makes tables wide
broker_start --extra "log_type subscribe"
W=$T/wide.db
cat "$MQMON_SRCDIR"/tests/data/meaning/*.in.ndjson >"$T/fleets.ndjson"
run_bg simsub mqmon-sub -p "$BROKER_PORT" -i simsub -t 'farm/#' -q 1
wait_contains "$(broker_log)" "simsub 1 farm/#"
mqmon-pub -p "$BROKER_PORT" --simulate 40 --prefix farm --rate 400 -C 400 -q 1 2>/dev/null ||
	fail "mqmon-pub --simulate exited $?"
wait_lines "$T/simsub.out" 440
stop_bg simsub
cat >"$T/long.ndjson" <<'EOF'
{"topic":"autocore/greenhouse-north-wing-climate-controller-0017-rev-b/status","payload":{"status":"online","ip_address":"2001:0db8:85a3:0000:0000:8a2e:0370:7334","firmware_version":"v2.3.4-rc1+build.20250128.abcdef0","uptime":12}}
{"topic":"autocore/greenhouse-north-wing-climate-controller-0017-rev-b/telemetry","payload":{"sensors":{"environment":{"air_quality":{"particulate_matter":{"pm2_5":12.5}}}},"temperature":21.5}}
{"topic":"autocore/温室センサー一号機/status","payload":{"status":"online","ip_address":"10.0.0.7","firmware_version":"1.0"}}
{"topic":"autocore/温室センサー一号機/telemetry","payload":{"温度":21.5,"湿度":40}}
{"topic":"site/building-7/floor-3/room-312/rack-2/shelf-4/sensor/temperature/raw/and/more/levels","payload":"a plain text body that is long enough to be cut in any table at all, surely"}
{"topic":"battery_hawk/device/AA:BB:CC:DD:EE:FF/status","payload":{"device_id":"AA:BB:CC:DD:EE:FF","status":"maintenance-mode-scheduled-by-the-operator","connected":true}}
EOF
st=0
cat "$T/fleets.ndjson" "$T/simsub.out" "$T/long.ndjson" | mqmon-store --db "$W" 2>/dev/null || st=$?
assert_eq 65 "$st" "ingest of the fleets (the data holds bad lines on purpose)"
assert_eq 40 "$(sqlite3 "$W" "SELECT count(*) FROM devices WHERE device GLOB 'ESP32_0[0-9][0-9]'")" \
	"the simulated devices are there"

# every subcommand's table, at most 100 columns wide; the data is wider
# than that (so the tables had something to fit)
cp "$W" "$T/prune.db"
tables=(
	"topics" "devices" "metrics" "stats" "query" "query --device AA:BB:CC:DD:EE:FF"
	"query -t site/#" "series --device ESP32_001 --metric temperature"
	"series --device ESP32_001 --metric temperature --every 1m --agg max"
	"metrics --device greenhouse-north-wing-climate-controller-0017-rev-b"
)
for sub in "${tables[@]}"; do
	# shellcheck disable=SC2086 # the words of the subcommand
	run_st st mqmon-store --db "$W" $sub --format table
	assert_eq 0 "$st" "$sub --format table: status"
	[ "$(count_lines "$T/out")" -ge 2 ] || fail "$sub --format table: no rows"
	wide=$(width "$T/out")
	[ "$wide" -le 100 ] || fail "$sub --format table is $wide columns wide:
$(LC_ALL=$UTF8 awk 'length($0) > 100' "$T/out" | head -n 3)"
	cp "$T/out" "$T/table.$(echo "$sub" | tr -c 'a-z0-9\n' _)"
done
run_st st mqmon-store --db "$T/prune.db" prune --older-than 1d --format table
assert_eq 0 "$st" "prune --format table: status"
[ "$(width "$T/out")" -le 100 ] || fail "prune --format table: $(cat "$T/out")"
for sub in topics devices metrics query; do
	mqmon-store --db "$W" $sub --format csv >"$T/csv.$sub" || fail "$sub --format csv"
	[ "$(width "$T/csv.$sub")" -gt 100 ] || fail "$sub: the data is not wide, the table test is moot"
done
# what was cut is what is long: the long name in its middle, not the MAC
# addresses of a fleet, nor an IPv4 address; the wide columns are left out
devtab=$T/table.devices
grep -Eq '^device +online +status +last_seen +messages +ip +firmware$' "$devtab" ||
	fail "devices table header: $(head -n 1 "$devtab")"
assert_contains "$devtab" "11:22:33:44:55:66  " "AA:BB:CC:DD:EE:FF  " "DE:AD:BE:EF:00:01  " " 10.4.0.33 "
grep -q '^greenhou.*…[a-z0-9-]*-rev-b  true    online  ' "$devtab" || fail "the long device name is not cut in its middle:
$(grep '^green' "$devtab")"
grep -q ' 2001:0db8:[0-9a-f:]*… ' "$devtab" || fail "the IPv6 address is not cut at its end:
$(grep '^green' "$devtab")"
assert_eq "" "$(grep -E '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]*…' "$devtab")" "IPv4 addresses are whole"
assert_eq 40 "$(grep -cE '^ESP32_0[0-4][0-9]  ' "$devtab")" "the simulated devices, whole"
assert_contains "$devtab" "温室セン"
assert_not_contains "$devtab" "uptime" "status_topic"
grep -Eq '^topic +kind +last_seen +count +last_payload$' "$T/table.topics" ||
	fail "topics table header: $(head -n 1 "$T/table.topics")"
# topics keep their distinct end
assert_contains "$T/table.query" "AA:BB:CC:DD:EE:FF/reading  " "11:22:33:44:55:66/reading  "
assert_eq "stat           value" "$(head -n 1 "$T/table.stats")" "stats table: on its side"
assert_eq "messages       $(sqlite3 "$W" 'SELECT count(*) FROM messages')" "$(grep '^messages ' "$T/table.stats")" \
	"stats table: a count"

# ---------------------------------------------------------------------------
# Control characters: in a topic, a device name (from the topic, and a
# NUL from a body), a status, a text payload
C=$T/ctl.db
cat >"$T/ctl.ndjson" <<'EOF'
{"topic":"ctl/dev\u001b[2Jx/status","payload":{"status":"on\u0001line\u007f","ip":"10.0.0.1\tx"}}
{"topic":"ctl/plain/telemetry","payload":"a\u0000b\u0001c\u001b[31md\te\rf\ng\u0085h\u009bi"}
{"topic":"ctl/body","payload":{"device_id":"nul\u0000dev","status":"online"}}
EOF
mqmon-store --db "$C" --rule 'ctl/body=status' <"$T/ctl.ndjson" || fail "ingest of control characters"
# bad_bytes FILE [CR LF allowed]: the offsets of bytes a file must not
# hold: C0 controls (but CR and LF when allowed), DEL, C1 (C2 80..9F)
bad_bytes() {
	od -An -v -tx1 "$1" | tr -s ' \n' '\n\n' | awk -v crlf="${2:-}" '
		NF == 0 { next }
		{ n++ }
		prev == "c2" && $1 ~ /^[89][0-9a-f]$/ { print n - 1 ": c2 " $1 }
		$1 == "0a" || (crlf && $1 == "0d") { prev = $1; next }
		$1 ~ /^(0[0-9a-f]|1[0-9a-f]|7f)$/ { print n ": " $1 }
		{ prev = $1 }'
}
for sub in query topics devices; do
	mqmon-store --db "$C" $sub --format table >"$T/ctl.table" || fail "$sub --format table"
	assert_eq "" "$(bad_bytes "$T/ctl.table")" "$sub --format table: raw control bytes"
	mqmon-store --db "$C" $sub --format csv >"$T/ctl.$sub.csv" || fail "$sub --format csv"
	assert_eq "" "$(bad_bytes "$T/ctl.$sub.csv" crlf)" "$sub --format csv: raw control bytes"
	# CR and LF only inside quotes; records end with LF
	od -An -v -tx1 "$T/ctl.$sub.csv" | tr -s ' \n' '\n\n' | awk '
		NF == 0 { next }
		$1 == "22" { inq = !inq; next }
		!inq && $1 == "0d" { print "CR outside quotes"; bad = 1 }
		END { if (inq) print "unterminated quote" }' >"$T/ctl.q"
	assert_eq "" "$(cat "$T/ctl.q")" "$sub --format csv: RFC 4180 quoting"
done
mqmon-store --db "$C" devices --format table >"$T/ctl.table"
assert_contains "$T/ctl.table" 'dev\x1b[2Jx' 'on\x01line\x7f' 'nul\x00dev' '10.0.0.1\tx'
mqmon-store --db "$C" query --format table >"$T/ctl.table"
assert_contains "$T/ctl.table" ' a\x00b\x01c\x1b[31md\te\rf\ng\' 'ctl/dev\x1b[2Jx/status ' '"on\u0001line\u007f"'
# the CSV parsed back: the payload's CR and LF kept, the rest escaped
want_payload='a\x00b\x01c\x1b[31md\te'$'\r''f'$'\n''g\u0085h\u009bi'
if command -v python3 >/dev/null; then
	python3 - "$T/ctl.query.csv" "$T/ctl.devices.csv" >"$T/ctl.parsed" <<'EOF' || fail "CSV does not parse: $(cat "$T/ctl.parsed")"
import csv, json, sys
for path in sys.argv[1:]:
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f, strict=True))
    print(json.dumps(rows))
EOF
	assert_eq 4 "$(head -n 1 "$T/ctl.parsed" | jq length)" "query CSV records"
	assert_eq "$want_payload" "$(head -n 1 "$T/ctl.parsed" | jq -r '.[] | select(.[1] == "ctl/plain/telemetry") | .[5]')" \
		"the payload parsed back"
	assert_eq 'ctl/dev\x1b[2Jx/status' "$(head -n 1 "$T/ctl.parsed" | jq -r '.[1][1]')" "a topic parsed back"
	assert_eq 'dev\x1b[2Jx|nul\x00dev|plain' "$(tail -n 1 "$T/ctl.parsed" | jq -r '[.[1:][] | .[0]] | join("|")')" \
		"device names parsed back"
	head -n 1 "$T/ctl.parsed" | jq -se 'all(.[0][]; length == 6)' >/dev/null || fail "query CSV: a record of the wrong size"
else
	note "no python3: the CSV is checked byte by byte only"
fi
# NDJSON keeps the exact bytes
assert_eq "$(jq -c .payload "$T/ctl.ndjson" | sed -n 2p)" \
	"$(mqmon-store --db "$C" query -t ctl/plain/telemetry | jq -c .payload)" "NDJSON keeps the bytes"

# ---------------------------------------------------------------------------
# The --help replay example, run as printed (in a directory with a
# fleet.db, the broker given by the environment)
mqmon-store --help >"$T/help" || fail "--help"
example=$(awk '/^  mqmon-store --db fleet.db query / { print; if ($0 ~ /\|$/) { getline; print } exit }' "$T/help")
assert_contains "$example" "mqmon-store --db fleet.db query --topic 'autocore/+/telemetry' --since 1h |" \
	"mqmon-pub --rewrite autocore/=replay/"
mkdir "$T/replay"
{
	echo '{"ts":"2020-01-01T00:00:00Z","topic":"autocore/ESP32_001/telemetry","payload":{"temperature":1}}'
	echo '{"topic":"autocore/ESP32_001/telemetry","payload":{"temperature":21.5}}'
	echo '{"topic":"autocore/ESP32_001/status","payload":{"status":"online"}}'
	echo '{"topic":"autocore/ESP32_002/telemetry","payload":{"temperature":22.5}}'
} | mqmon-store --db "$T/replay/fleet.db" || fail "ingest for the replay"
run_bg replay mqmon-sub -p "$BROKER_PORT" -i replaysub -t 'replay/#' -t 'autocore/#' -q 1
wait_contains "$(broker_log)" "replaysub 1 replay/#"
wait_contains "$(broker_log)" "replaysub 1 autocore/#"
(cd "$T/replay" && MQMON_HOST=127.0.0.1 MQMON_PORT=$BROKER_PORT run_bounded 30 bash -ec "$example") ||
	fail "the --help example failed: $example"
wait_lines "$T/replay.out" 2
sleep 0.3
stop_bg replay
assert_eq '{"topic":"replay/ESP32_001/telemetry","payload":{"temperature":21.5}}
{"topic":"replay/ESP32_002/telemetry","payload":{"temperature":22.5}}' \
	"$(jq -c '{topic, payload}' "$T/replay.out")" "the --help example replays the last hour under replay/"
exit 0
