#!/usr/bin/env bash
# mqmon-store's read side on databases filled by the real ingest: query
# (time order, --topic with + and #, --device, --since/--until as RFC 3339
# and as spans, --limit, several --db merged in time order), the replay
# `mqmon-store query | mqmon-pub` against a real broker giving back the
# original messages, topics, devices, series (avg/min/max/count with
# --every), prune, stats, exact table and CSV output, a topic with quotes,
# a closed pipe, and the errors (missing database: 1; usage: 2).
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq sqlite3

# nlines: lines on stdin
nlines() { wc -l | tr -d ' '; }

# run_st VAR CMD...: run CMD (bounded), its status in VAR, stdout in
# $T/out, stderr in $T/err
run_st() {
	local __var=$1 __st=0
	shift
	run_bounded 60 "$@" >"$T/out" 2>"$T/err" || __st=$?
	printf -v "$__var" '%s' "$__st"
}

# ---------------------------------------------------------------------------
# The main dataset: what query must print, in time order, in the encoder's
# own form (so query's output must equal it byte for byte).  The ingest
# gets it with a bad line in the middle; a second database gets it in
# reverse order, and query must still print it in time order.
D1=$T/db1.db
cat >"$T/q1.expected" <<'EOF'
{"ts":"2025-01-28T10:00:00.000Z","topic":"autocore/ESP32_001/telemetry","qos":1,"retain":false,"enc":"json","payload":{"temperature":20.5,"humidity":40}}
{"ts":"2025-01-28T10:00:20.000Z","topic":"autocore/ESP32_001/telemetry","qos":1,"retain":false,"enc":"json","payload":{"temperature":22.5,"humidity":41}}
{"ts":"2025-01-28T10:00:30.000Z","topic":"autocore/ESP32_001/status","qos":1,"retain":true,"enc":"json","payload":{"status":"online","ip_address":"10.0.0.5","firmware_version":"1.2.3","uptime":12}}
{"ts":"2025-01-28T10:00:40.000Z","topic":"autocore/ESP32_001/telemetry","qos":1,"retain":false,"enc":"json","payload":{"temperature":27.50,"humidity":42}}
{"ts":"2025-01-28T10:00:50.000Z","topic":"autocore/ESP32_002/telemetry","qos":1,"retain":false,"enc":"json","payload":{"temperature":40}}
{"ts":"2025-01-28T10:01:00.000Z","topic":"autocore/ESP32_002/status","qos":1,"retain":false,"enc":"utf8","payload":"offline"}
{"ts":"2025-01-28T10:01:10.000Z","topic":"autocore/ESP32_001/telemetry","qos":0,"retain":false,"enc":"json","payload":{"temperature":30,"humidity":43}}
{"ts":"2025-01-28T10:01:30.000Z","topic":"misc/text","qos":0,"retain":false,"props":{"content_type":"text/plain","correlation_data":"c-1","message_expiry":3600,"payload_format":1,"user":{"k":["a","b"],"x":"y"}},"enc":"utf8","payload":"héllo, \"world\"\nline 2"}
{"ts":"2025-01-28T10:01:40.000Z","topic":"misc/bin","qos":2,"retain":false,"props":{"response_topic":"misc/reply","correlation_data":"/wA=","correlation_enc":"base64"},"enc":"base64","payload":"AAEC/w=="}
{"ts":"2025-01-28T10:01:50.000Z","topic":"misc/it's \"quoted\"","qos":0,"retain":false,"enc":"utf8","payload":"q"}
{"ts":"2025-01-28T10:01:55.000Z","topic":"misc","qos":0,"retain":false,"enc":"utf8","payload":""}
{"ts":"2025-01-28T10:02:00.000Z","topic":"misc/deep/er","qos":0,"retain":false,"enc":"json","payload":[1,"two",{"three":3.0}]}
{"ts":"2025-01-28T10:02:05.000Z","topic":"autocore/ESP32_001/telemetry","qos":0,"retain":false,"enc":"json","payload":{"temperature":18.25}}
{"ts":"2025-01-28T10:02:10.000Z","topic":"autocore/ESP32_001/relay/0/status","qos":1,"retain":false,"enc":"json","payload":{"state":true}}
{"ts":"2025-01-28T10:02:20.000Z","topic":"autocore/ESP32_001/relay/0/status","qos":1,"retain":false,"enc":"json","payload":{"state":false}}
EOF
{
	head -n 7 "$T/q1.expected"
	echo 'this line is not an envelope'
	tail -n +8 "$T/q1.expected"
} >"$T/q1.in"
run_st st mqmon-store --db "$D1" <"$T/q1.in"
assert_eq 65 "$st" "ingest status with one rejected line"
tac "$T/q1.expected" | mqmon-store --db "$T/rev.db" || fail "ingest in reverse order"

# query: everything, in time order, exactly the originals
for db in "$D1" "$T/rev.db"; do
	run_st st mqmon-store --db "$db" query
	assert_eq 0 "$st" "query status"
	cmp "$T/q1.expected" "$T/out" || fail "query output differs from the ingested envelopes:
$(diff "$T/q1.expected" "$T/out")"
	[[ ! -s $T/err ]] || fail "query wrote to stderr: $(cat "$T/err")"
done

# qtopics ARGS...: the topics of what query prints, one line
qtopics() {
	local st=0
	mqmon-store "$@" >"$T/qt.out" 2>"$T/qt.err" || st=$?
	[[ $st == 0 ]] || fail "mqmon-store $*: status $st: $(cat "$T/qt.err")"
	jq -r .topic "$T/qt.out" | paste -sd' ' -
}
# qts ARGS...: the ts of what query prints, one line (only the time)
qts() {
	mqmon-store "$@" | jq -r '.ts[11:19]' | paste -sd' ' -
}

# --topic: '+' one level, '#' any depth including the parent, several
# filters (any matches), a filter starting with a wildcard, a plain topic
assert_eq "misc/text misc/bin misc/it's \"quoted\" misc misc/deep/er" "$(qtopics --db "$D1" query -t 'misc/#')" "misc/#"
assert_eq "misc/text misc/bin misc/it's \"quoted\"" "$(qtopics --db "$D1" query -t 'misc/+')" "misc/+"
assert_eq "misc/deep/er" "$(qtopics --db "$D1" query -t 'misc/+/er')" "misc/+/er"
assert_eq "10:00:00 10:00:20 10:00:40 10:00:50 10:01:10 10:02:05" \
	"$(qts --db "$D1" query -t '+/+/telemetry')" "+/+/telemetry"
assert_eq "autocore/ESP32_002/telemetry autocore/ESP32_002/status misc/bin" \
	"$(qtopics --db "$D1" query -t misc/bin -t 'autocore/ESP32_002/#')" "two filters"
assert_eq 15 "$(mqmon-store --db "$D1" query -t '#' | nlines)" "#"
assert_eq "autocore/ESP32_001/status autocore/ESP32_002/status" "$(qtopics --db "$D1" query -t '+/+/status')" "+/+/status"
# shellcheck disable=SC2016 # a literal $share
assert_eq "misc/bin" "$(qtopics --db "$D1" query -t '$share/g/misc/bin')" "a \$share filter"
assert_eq "" "$(qtopics --db "$D1" query -t 'misc/tex')" "a prefix is not a match"
assert_eq "" "$(qtopics --db "$D1" query -t 'nothing/#')" "no match"
# a topic with ' and " in it: stored, found again, listed
assert_eq "misc/it's \"quoted\"" "$(qtopics --db "$D1" query -t "misc/it's \"quoted\"")" "topic with quotes"
assert_eq '"q"' "$(mqmon-store --db "$D1" query -t "misc/it's \"quoted\"" | jq -c .payload)" "payload of the quoted topic"

# --device: the device the rules captured
assert_eq "autocore/ESP32_002/telemetry autocore/ESP32_002/status" \
	"$(qtopics --db "$D1" query --device ESP32_002)" "--device"
assert_eq "" "$(qtopics --db "$D1" query --device "ESP32_'\"")" "--device with quotes, no such device"

# --since inclusive, --until exclusive; RFC 3339 with an offset or a bare date
assert_eq "10:01:00 10:01:10 10:01:30 10:01:40 10:01:50 10:01:55" \
	"$(qts --db "$D1" query --since 2025-01-28T10:01:00Z --until 2025-01-28T10:02:00.000Z)" "--since/--until"
assert_eq "10:01:00 10:01:10 10:01:30 10:01:40 10:01:50 10:01:55" \
	"$(qts --db "$D1" query --since 2025-01-28T11:01:00+01:00 --until '2025-01-28 12:02:00+02:00')" "with offsets"
assert_eq 0 "$(mqmon-store --db "$D1" query --since 2025-01-29 | nlines)" "--since a later date"
assert_eq 15 "$(mqmon-store --db "$D1" query --since 2025-01-28 | nlines)" "--since a bare date"
# --limit: the first N in time order, also with filters
assert_eq "10:00:00 10:00:20 10:00:30" "$(qts --db "$D1" query --limit 3)" "--limit 3"
assert_eq "10:00:00 10:00:20" "$(qts --db "$D1" query -t '+/+/telemetry' --device ESP32_001 --limit 2)" \
	"--limit with --topic and --device"
assert_eq "10:01:30 10:01:40" "$(qts --db "$D1" query -t 'misc/+' --since 2025-01-28T10:01:30Z --limit 2)" \
	"--limit with --topic and --since"

# ---------------------------------------------------------------------------
# Spans: times relative to now
now=$(date +%s)
ago() { date -u -d "@$((now - $1))" +%Y-%m-%dT%H:%M:%S.000Z; }
DR=$T/rel.db
{
	printf '{"ts":"%s","topic":"r/DEV/telemetry","payload":{"v":1}}\n' "$(ago 10800)"
	printf '{"ts":"%s","topic":"other/x","payload":"old text"}\n' "$(ago 7300)"
	printf '{"ts":"%s","topic":"r/DEV/relay/0/status","payload":{"state":true}}\n' "$(ago 5400)"
	printf '{"ts":"%s","topic":"r/DEV/telemetry","payload":{"v":2}}\n' "$(ago 1800)"
	printf '{"ts":"%s","topic":"other/x","payload":"new text"}\n' "$(ago 60)"
} >"$T/rel.in"
mqmon-store --db "$DR" <"$T/rel.in" || fail "ingest of the relative dataset"
assert_eq 2 "$(mqmon-store --db "$DR" query --since 1h | nlines)" "--since 1h"
assert_eq 3 "$(mqmon-store --db "$DR" query --until 1h | nlines)" "--until 1h"
assert_eq "r/DEV/relay/0/status r/DEV/telemetry" "$(qtopics --db "$DR" query --since 2h --until 10m)" "--since 2h --until 10m"
assert_eq "r/DEV/telemetry" "$(qtopics --db "$DR" query --since 1h20m --until 1m30s -t 'r/#')" "spans and a filter"

# prune --topic: only matching messages; metrics and state changes stay
cp "$DR" "$T/rel2.db"
run_st st mqmon-store --db "$T/rel2.db" prune --older-than 1h -t 'other/#'
assert_eq 0 "$st" "prune --topic status: $(cat "$T/err")"
assert_eq '{"messages":1,"metrics":0,"state_changes":0}' "$(jq -c .deleted "$T/out")" "prune --topic counts"
assert_eq "r/DEV/telemetry r/DEV/relay/0/status r/DEV/telemetry other/x" "$(qtopics --db "$T/rel2.db" query)" \
	"what prune --topic left"
# prune: messages, metrics and state changes older than the cutoff
run_st st mqmon-store --db "$DR" prune --older-than 1h
assert_eq 0 "$st" "prune status: $(cat "$T/err")"
assert_eq '{"messages":3,"metrics":1,"state_changes":1}' "$(jq -c .deleted "$T/out")" "prune counts"
before=$(jq -r .before "$T/out")
[[ $before =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] || fail "prune before: '$before'"
[[ $before > $(ago 3700) && $before < $(ago 3500) ]] || fail "prune before '$before' is not an hour ago"
assert_eq "r/DEV/telemetry other/x" "$(qtopics --db "$DR" query)" "what prune left"
assert_eq '[{"ts":"'"$(ago 1800)"'","value":2}]' \
	"$(mqmon-store --db "$DR" series --device DEV --metric v | jq -sc .)" "metrics after prune"
assert_eq "1 1 3" "$(sqlite3 "$DR" 'SELECT (SELECT count(*) FROM states), (SELECT count(*) FROM devices), (SELECT count(*) FROM topics)' | tr '|' ' ')" \
	"states, devices and topics stay"
run_st st mqmon-store --db "$DR" prune --older-than 1h --format csv
assert_eq 0 "$st" "prune again"
assert_eq "messages,metrics,state_changes,before" "$(head -n 1 "$T/out")" "prune CSV header"
assert_contains "$(tail -n 1 "$T/out")" "0,0,0,"

# ---------------------------------------------------------------------------
# Several databases: merged by ts; a tie goes to the database given first
D2=$T/db2.db
cat <<'EOF' | mqmon-store --db "$D2" || fail "ingest of the second database"
{"ts":"2025-01-28T10:05:00.000Z","topic":"site2/z","payload":3}
{"ts":"2025-01-28T10:00:10.000Z","topic":"site2/x","payload":1}
{"ts":"2025-01-28T10:00:20.000Z","topic":"site2/y","payload":2}
EOF
assert_eq "10:00:00 10:00:10 10:00:20 10:00:20 10:00:30" "$(qts --db "$D1" --db "$D2" query --limit 5)" "merged --limit 5"
assert_eq "autocore/ESP32_001/telemetry site2/x autocore/ESP32_001/telemetry site2/y" \
	"$(qtopics --db "$D1" --db "$D2" query --limit 4)" "tie: the first database first"
assert_eq "autocore/ESP32_001/telemetry site2/x site2/y autocore/ESP32_001/telemetry" \
	"$(qtopics --db "$D2" --db "$D1" query --limit 4)" "tie: the first database first (swapped)"
mqmon-store --db "$D1" --db "$D2" query >"$T/merged"
assert_eq 18 "$(count_lines "$T/merged")" "merged rows"
sort -s -t'"' -k4,4 "$T/merged" | cmp -s - "$T/merged" || fail "merged output is not in time order"
cat "$T/q1.expected" <(mqmon-store --db "$D2" query) | sort -s -t'"' -k4,4 >"$T/merged.want"
cmp -s "$T/merged" "$T/merged.want" || fail "merged rows differ from the two databases' rows"
assert_eq "site2/x" "$(qtopics --db "$D1" --db "$D2" query -t '+/x')" "merged with a filter"
assert_eq "site2/z" "$(qtopics --db "$D1" --db "$D2" query --since 2025-01-28T10:02:30Z)" "merged with --since"
run_st st mqmon-store --db "$D1" --db "$T/missing.db" query
assert_eq 1 "$st" "a missing second database"
assert_contains "$T/err" "$T/missing.db"

# ---------------------------------------------------------------------------
# topics, devices, series
run_st st mqmon-store --db "$D1" topics
assert_eq 0 "$st" "topics status"
assert_eq 10 "$(count_lines "$T/out")" "topics rows"
assert_eq "$(jq -r .topic "$T/out" | LC_ALL=C sort)" "$(jq -r .topic "$T/out")" "topics ordered by topic"
assert_contains "$T/out" \
	'{"topic":"autocore/ESP32_001/telemetry","kind":"telemetry","device":"ESP32_001","first_seen":"2025-01-28T10:00:00.000Z","last_seen":"2025-01-28T10:02:05.000Z","count":5,"last_enc":"json","last_payload":{"temperature":18.25}}' \
	'{"topic":"misc/bin","kind":null,"device":null,"first_seen":"2025-01-28T10:01:40.000Z","last_seen":"2025-01-28T10:01:40.000Z","count":1,"last_enc":"base64","last_payload":"AAEC/w=="}' \
	'{"topic":"misc/text","kind":null,"device":null,"first_seen":"2025-01-28T10:01:30.000Z","last_seen":"2025-01-28T10:01:30.000Z","count":1,"last_enc":"utf8","last_payload":"héllo, \"world\"\nline 2"}' \
	'{"topic":"misc/deep/er","kind":null,"device":null,"first_seen":"2025-01-28T10:02:00.000Z","last_seen":"2025-01-28T10:02:00.000Z","count":1,"last_enc":"json","last_payload":[1,"two",{"three":3.0}]}' \
	'"topic":"misc","kind":null,"device":null,"first_seen":"2025-01-28T10:01:55.000Z","last_seen":"2025-01-28T10:01:55.000Z","count":1,"last_enc":"utf8","last_payload":""}'
assert_eq "misc/bin misc/it's \"quoted\" misc/text" "$(qtopics --db "$D1" topics -t 'misc/+')" "topics --topic"
assert_eq "autocore/ESP32_001/relay/0/status autocore/ESP32_001/status" \
	"$(qtopics --db "$D1" topics -t 'autocore/ESP32_001/+' -t 'autocore/+/relay/#' --limit 2)" "topics, two filters, --limit"

run_st st mqmon-store --db "$D1" devices
assert_eq 0 "$st" "devices status"
assert_eq '{"device":"ESP32_001","online":true,"status":"online","last_seen":"2025-01-28T10:02:20.000Z","first_seen":"2025-01-28T10:00:00.000Z","messages":8,"ip_address":"10.0.0.5","firmware_version":"1.2.3","fields":{"uptime":12},"status_topic":"autocore/ESP32_001/status","status_ts":"2025-01-28T10:00:30.000Z"}
{"device":"ESP32_002","online":false,"status":"offline","last_seen":"2025-01-28T10:01:00.000Z","first_seen":"2025-01-28T10:00:50.000Z","messages":2,"ip_address":null,"firmware_version":null,"fields":null,"status_topic":"autocore/ESP32_002/status","status_ts":"2025-01-28T10:01:00.000Z"}' \
	"$(cat "$T/out")" "devices"
assert_eq ESP32_002 "$(mqmon-store --db "$D1" devices --device ESP32_002 | jq -r .device)" "devices --device"

# temperature of ESP32_001: 20.5 22.5 27.50 | 30 | 18.25 at 10:00:00,
# :20, :40 | 10:01:10 | 10:02:05
series() { mqmon-store --db "$D1" series --device ESP32_001 --metric temperature "$@" | jq -c . | paste -sd' ' -; }
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":20.5} {"ts":"2025-01-28T10:00:20.000Z","value":22.5} {"ts":"2025-01-28T10:00:40.000Z","value":27.5} {"ts":"2025-01-28T10:01:10.000Z","value":30} {"ts":"2025-01-28T10:02:05.000Z","value":18.25}' \
	"$(series)" "series, every sample"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":23.5,"count":3} {"ts":"2025-01-28T10:01:00.000Z","value":30,"count":1} {"ts":"2025-01-28T10:02:00.000Z","value":18.25,"count":1}' \
	"$(series --every 1m)" "series --every 1m (avg)"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":20.5,"count":3} {"ts":"2025-01-28T10:01:00.000Z","value":30,"count":1} {"ts":"2025-01-28T10:02:00.000Z","value":18.25,"count":1}' \
	"$(series --every 1m --agg min)" "series --agg min"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":30,"count":4} {"ts":"2025-01-28T10:02:00.000Z","value":18.25,"count":1}' \
	"$(series --every 2m --agg max)" "series --every 2m --agg max"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":25.125,"count":4} {"ts":"2025-01-28T10:02:00.000Z","value":18.25,"count":1}' \
	"$(series --every 2m --agg avg)" "series --every 2m --agg avg"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":5,"count":5}' "$(series --every 1h --agg count)" "series --agg count"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":2,"count":2} {"ts":"2025-01-28T10:01:00.000Z","value":1,"count":1}' \
	"$(series --every 1m --agg count --since 2025-01-28T10:00:20Z --until 2025-01-28T10:02:05Z)" "series --since/--until"
assert_eq '{"ts":"2025-01-28T10:00:00.000Z","value":23.5,"count":3}' "$(series --every 1m --limit 1)" "series --limit"
assert_eq "" "$(series --every 1m --since 2025-02-01)" "series: nothing in range"
assert_eq '{"ts":"2025-01-28T10:00:50.000Z","value":40}' \
	"$(mqmon-store --db "$D1" series --device ESP32_002 --metric temperature)" "another device"
# a device or metric the archive does not hold: said, with what it holds
run_st st mqmon-store --db "$D1" series --device ESP32_009 --metric temperature
assert_eq 1 "$st" "series of a device without metrics"
assert_eq "" "$(cat "$T/out")" "series output for a missing device"
assert_eq "mqmon-store: $D1 holds no metrics of device 'ESP32_009'; devices with metrics: ESP32_001, ESP32_002" \
	"$(cat "$T/err")" "series: the missing device and the ones held"
run_st st mqmon-store --db "$D1" series --device ESP32_001 --metric temp --every 1m
assert_eq 1 "$st" "series of a missing metric"
assert_eq "mqmon-store: device 'ESP32_001' has no metric 'temp' in $D1; its metrics: humidity, temperature" \
	"$(cat "$T/err")" "series: the missing metric and the ones held"
# an empty time range is no error: the device and metric exist
run_st st mqmon-store --db "$D1" series --device ESP32_001 --metric temperature --since 2030-01-01
assert_eq "0|" "$st|$(cat "$T/err")" "series of an empty range"

# metrics: per device and metric, count, first, last and the last value
run_st st mqmon-store --db "$D1" metrics
assert_eq 0 "$st" "metrics status"
assert_eq '{"device":"ESP32_001","metric":"humidity","count":4,"first":"2025-01-28T10:00:00.000Z","last":"2025-01-28T10:01:10.000Z","last_value":43}
{"device":"ESP32_001","metric":"temperature","count":5,"first":"2025-01-28T10:00:00.000Z","last":"2025-01-28T10:02:05.000Z","last_value":18.25}
{"device":"ESP32_002","metric":"temperature","count":1,"first":"2025-01-28T10:00:50.000Z","last":"2025-01-28T10:00:50.000Z","last_value":40}' \
	"$(cat "$T/out")" "metrics"
assert_eq '{"device":"ESP32_001","metric":"humidity","count":1,"first":"2025-01-28T10:01:10.000Z","last":"2025-01-28T10:01:10.000Z","last_value":43}
{"device":"ESP32_001","metric":"temperature","count":2,"first":"2025-01-28T10:01:10.000Z","last":"2025-01-28T10:02:05.000Z","last_value":18.25}' \
	"$(mqmon-store --db "$D1" metrics --device ESP32_001 --since 2025-01-28T10:01:00Z)" "metrics --device --since"
assert_eq 'device,metric,count,first,last,last_value
ESP32_002,temperature,1,2025-01-28T10:00:50.000Z,2025-01-28T10:00:50.000Z,40' \
	"$(mqmon-store --db "$D1" metrics --device ESP32_002 --format csv)" "metrics --format csv"
run_st st mqmon-store --db "$D1" metrics --metric temperature
assert_eq 2 "$st" "--metric with metrics"

# ---------------------------------------------------------------------------
# stats
run_st st mqmon-store --db "$D1" stats
assert_eq 0 "$st" "stats status"
assert_eq '{"db":"'"$D1"'","schema":3,"messages":15,"topics":10,"devices":2,"metrics":10,"states":1,"state_changes":2,"rejects":1,"first":"2025-01-28T10:00:00.000Z","last":"2025-01-28T10:02:20.000Z"}' \
	"$(jq -c 'del(.size_bytes)' "$T/out")" "stats"
jq -e '.size_bytes > 0 and (.size_bytes | floor) == .size_bytes' "$T/out" >/dev/null || fail "stats size_bytes: $(cat "$T/out")"
mqmon-store --db "$T/new.db" </dev/null || fail "ingest of nothing"
assert_eq '{"messages":0,"first":null,"last":null}' \
	"$(mqmon-store --db "$T/new.db" stats | jq -c '{messages,first,last}')" "stats of an empty database"

# ---------------------------------------------------------------------------
# Exact table and CSV output
run_st st mqmon-store --db "$D1" query -t 'misc/#' --format table
assert_eq 0 "$st" "table status"
cat >"$T/want" <<'EOF'
ts                        topic               qos  retain  enc     payload
2025-01-28T10:01:30.000Z  misc/text             0  false   utf8    héllo, "world"\nline 2
2025-01-28T10:01:40.000Z  misc/bin              2  false   base64  AAEC/w==
2025-01-28T10:01:50.000Z  misc/it's "quoted"    0  false   utf8    q
2025-01-28T10:01:55.000Z  misc                  0  false   utf8
2025-01-28T10:02:00.000Z  misc/deep/er          0  false   json    [1,"two",{"three":3.0}]
EOF
diff "$T/want" "$T/out" >"$T/diff" || fail "query --format table:
$(cat "$T/diff")"
run_st st mqmon-store --db "$D1" query -t 'misc/#' --format csv
assert_eq 0 "$st" "csv status"
cat >"$T/want" <<'EOF'
ts,topic,qos,retain,enc,payload
2025-01-28T10:01:30.000Z,misc/text,0,false,utf8,"héllo, ""world""
line 2"
2025-01-28T10:01:40.000Z,misc/bin,2,false,base64,AAEC/w==
2025-01-28T10:01:50.000Z,"misc/it's ""quoted""",0,false,utf8,q
2025-01-28T10:01:55.000Z,misc,0,false,utf8,
2025-01-28T10:02:00.000Z,misc/deep/er,0,false,json,"[1,""two"",{""three"":3.0}]"
EOF
diff "$T/want" "$T/out" >"$T/diff" || fail "query --format csv:
$(cat "$T/diff")"
run_st st mqmon-store --db "$D1" series --device ESP32_001 --metric temperature --every 1m --format table
cat >"$T/want" <<'EOF'
ts                        value  count
2025-01-28T10:00:00.000Z   23.5      3
2025-01-28T10:01:00.000Z     30      1
2025-01-28T10:02:00.000Z  18.25      1
EOF
diff "$T/want" "$T/out" >"$T/diff" || fail "series --format table:
$(cat "$T/diff")"
run_st st mqmon-store --db "$D1" devices --format csv
cat >"$T/want" <<'EOF'
device,online,status,last_seen,first_seen,messages,ip_address,firmware_version,fields,status_topic,status_ts
ESP32_001,true,online,2025-01-28T10:02:20.000Z,2025-01-28T10:00:00.000Z,8,10.0.0.5,1.2.3,"{""uptime"":12}",autocore/ESP32_001/status,2025-01-28T10:00:30.000Z
ESP32_002,false,offline,2025-01-28T10:01:00.000Z,2025-01-28T10:00:50.000Z,2,,,,autocore/ESP32_002/status,2025-01-28T10:01:00.000Z
EOF
diff "$T/want" "$T/out" >"$T/diff" || fail "devices --format csv:
$(cat "$T/diff")"
run_st st mqmon-store --db "$D1" topics -t 'misc/+' --format table
cat >"$T/want" <<'EOF'
topic               kind  last_seen                 count  last_payload
misc/bin                  2025-01-28T10:01:40.000Z      1  AAEC/w==
misc/it's "quoted"        2025-01-28T10:01:50.000Z      1  q
misc/text                 2025-01-28T10:01:30.000Z      1  héllo, "world"\nline 2
EOF
diff "$T/want" "$T/out" >"$T/diff" || fail "topics --format table:
$(cat "$T/diff")"
# no rows: the header alone
assert_eq "ts,topic,qos,retain,enc,payload" "$(mqmon-store --db "$D1" query -t nothing --format csv)" "CSV without rows"

# ---------------------------------------------------------------------------
# Many rows: a table holds back the first 10,000 for its widths, then
# streams; a reader that goes away ends the query quietly with status 0
DB_BIG=$T/big.db
awk 'BEGIN { for (i = 0; i < 12000; i++)
	printf "{\"ts\":\"2025-02-01T%02d:%02d:%02d.%03dZ\",\"topic\":\"big/%d\",\"payload\":{\"n\":%d}}\n",
		int(i / 3600), int(i / 60) % 60, i % 60, i % 1000, i % 7, i }' | mqmon-store --db "$DB_BIG" ||
	fail "ingest of the big dataset"
mqmon-store --db "$DB_BIG" query --format table >"$T/big.table" || fail "big table"
assert_eq 12001 "$(count_lines "$T/big.table")" "table rows"
assert_eq "ts                        topic  qos  retain  enc   payload" "$(head -n 1 "$T/big.table")" "big table header"
assert_eq '2025-02-01T03:19:59.999Z  big/1    0  false   json  {"n":11999}' "$(tail -n 1 "$T/big.table")" "big table last row"
st=0
mqmon-store --db "$DB_BIG" query 2>"$T/pipe.err" | head -n 1 >/dev/null || :
st=${PIPESTATUS[0]}
assert_eq 0 "$st" "query into a closed pipe"
[[ ! -s $T/pipe.err ]] || fail "closed pipe: stderr: $(cat "$T/pipe.err")"
mqmon-store --db "$DB_BIG" query --format table 2>"$T/pipe.err" | head -n 1 >/dev/null || :
assert_eq 0 "${PIPESTATUS[0]}" "table into a closed pipe"
assert_eq 1000 "$(mqmon-store --db "$DB_BIG" query --limit 1000 -t 'big/+' | nlines)" "--limit on many rows"

# ---------------------------------------------------------------------------
# Errors
run_st st mqmon-store --db "$T/nope.db" query
assert_eq 1 "$st" "missing database: status"
assert_contains "$T/err" "mqmon-store: $T/nope.db: No such file or directory"
[[ ! -e $T/nope.db ]] || fail "query created the missing database"
for sub in topics devices stats; do
	run_st st mqmon-store --db "$T/nope.db" "$sub"
	assert_eq 1 "$st" "$sub on a missing database"
	assert_contains "$T/err" "$T/nope.db"
done
run_st st mqmon-store --db "$T/nope.db" prune --older-than 1d
assert_eq 1 "$st" "prune on a missing database"
assert_contains "$T/err" "$T/nope.db"
[[ ! -e $T/nope.db ]] || fail "prune created the missing database"
echo "just text" >"$T/text.db"
run_st st mqmon-store --db "$T/text.db" query
assert_eq 1 "$st" "not a database"
assert_contains "$T/err" "$T/text.db"
sqlite3 "$T/other.db" 'CREATE TABLE t(x)'
run_st st mqmon-store --db "$T/other.db" stats
assert_eq 1 "$st" "someone else's database"
assert_contains "$T/err" "$T/other.db" "not an mqmon database"
run_st st mqmon-store --db "$D1" series --device ESP32_001
assert_eq 2 "$st" "series without --metric"
assert_contains "$T/err" "--metric" "Try 'mqmon-store --help'."
run_st st mqmon-store --db "$D1" series --metric temperature
assert_eq 2 "$st" "series without --device"
assert_contains "$T/err" "--device"
run_st st mqmon-store --db "$D1" prune
assert_eq 2 "$st" "prune without --older-than"
assert_contains "$T/err" "--older-than"
run_st st mqmon-store --db "$D1" query --metric temperature
assert_eq 2 "$st" "--metric with query"
run_st st mqmon-store --db "$D1" stats -t x
assert_eq 2 "$st" "--topic with stats"
run_st st mqmon-store --db "$D1" --db "$D2" topics
assert_eq 2 "$st" "several --db with topics"
assert_eq 15 "$(mqmon-store --db "$D1" query | nlines)" "nothing changed by the failed commands"

# ---------------------------------------------------------------------------
# The replay: mqmon-store query | mqmon-pub republishes the originals
broker_start --extra "log_type subscribe"
run_bg sub mqmon-sub -p "$BROKER_PORT" -i replay -q 2 -t 'misc/#' -t 'autocore/#' -C 15 -W 30
wait_contains "$(broker_log)" "replay 2 autocore/#" 10
mqmon-store --db "$D1" query >"$T/replay.in"
run_bounded 30 mqmon-pub -p "$BROKER_PORT" <"$T/replay.in" || fail "mqmon-pub of the replay exited $?"
wait_bg sub 30 || fail "mqmon-sub of the replay exited $BG_STATUS"
assert_eq 15 "$(count_lines "$T/sub.out")" "messages replayed"
# message_expiry counts down in the broker: it comes back at most 3600
jq -se '[.[] | select(.topic == "misc/text") | .props.message_expiry] | length == 1 and .[0] <= 3600 and .[0] >= 3570' \
	"$T/sub.out" >/dev/null ||
	fail "message_expiry of the replayed message: $(grep misc/text "$T/sub.out")"
# everything but ts, mid and retain (a live delivery is never retained)
# must be the same text: topic, qos, props, enc, payload
norm() {
	sed -E 's/^\{"ts":"[^"]*",/{/; s/,"retain":(true|false)//; s/,"mid":[0-9]+//; s/"message_expiry":[0-9]+/"message_expiry":E/' "$1" | LC_ALL=C sort
}
norm "$T/replay.in" >"$T/replay.want"
norm "$T/sub.out" >"$T/replay.got"
diff "$T/replay.want" "$T/replay.got" >"$T/diff" || fail "replayed messages differ from the originals:
$(cat "$T/diff")"
# and field by field against the input envelopes
for field in topic qos enc payload props; do
	assert_eq "$(jq -c ".$field" "$T/q1.expected" | LC_ALL=C sort | sed 's/"message_expiry":[0-9]*/E/')" \
		"$(jq -c ".$field" "$T/sub.out" | LC_ALL=C sort | sed 's/"message_expiry":[0-9]*/E/')" "replayed $field"
done
# the JSON bodies are the same text (27.50 stays 27.50), binary bytes the same
assert_contains "$T/sub.out" '"payload":{"temperature":27.50,"humidity":42}' '"enc":"base64","payload":"AAEC/w=="' \
	'"correlation_data":"/wA=","correlation_enc":"base64"' '"payload":[1,"two",{"three":3.0}]'
exit 0
