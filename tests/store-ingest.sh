#!/usr/bin/env bash
# mqmon-store ingest: every table of the schema filled as the rules say,
# rules from flags and the config file, rejected lines (rejects table,
# stderr, status 65), --tee, blank and event lines, a topic with quotes.
. "${srcdir:-.}/tests/lib.sh"
require_cmd sqlite3
DB=$T/fleet.db
q() { sqlite3 -batch "$DB" "$@"; }

cat >"$T/in.ndjson" <<'EOF2'
{"ts":"2025-01-28T10:30:00.000Z","topic":"autocore/ESP32_001/status","qos":1,"retain":true,"enc":"json","payload":{"device_id":"ESP32_001","status":"online","ip_address":"192.168.1.100","firmware_version":"1.2.0","uptime":3600,"timestamp":"2025-01-28T10:30:00Z"}}
{"ts":"2025-01-28T10:30:15.000Z","topic":"autocore/ESP32_001/telemetry","qos":1,"retain":false,"enc":"json","payload":{"device_id":"ESP32_001","temperature":25.6,"humidity":45.2,"voltage":3.28,"memory_free":45120,"sensors":{"outdoor":{"t":-3.5}},"samples":[1,2],"ok":true,"timestamp":"2025-01-28T10:30:15Z"}}
{"ts":"2025-01-28T10:30:30.000Z","topic":"autocore/ESP32_001/relay/0/status","payload":{"device_id":"ESP32_001","relay_index":0,"state":true,"triggered_by":"manual"}}
{"ts":"2025-01-28T10:30:31.000Z","topic":"autocore/ESP32_001/relay/0/status","payload":{"device_id":"ESP32_001","relay_index":0,"state":true,"triggered_by":"schedule"}}
{"ts":"2025-01-28T10:30:32.000Z","topic":"autocore/ESP32_001/relay/0/status","payload":{"device_id":"ESP32_001","relay_index":0,"state":false,"triggered_by":"manual"}}

{"ts":"2025-01-28T10:31:00.000Z","event":"offline","device":"ESP32_009"}
{"ts":"2025-01-28T10:31:00.000Z","topic":"battery_hawk/device/AA:BB:CC:DD:EE:FF/reading","payload":{"device_id":"AA:BB:CC:DD:EE:FF","voltage":12.6,"current":2.5,"state_of_charge":85.0}}
{"ts":"2025-01-28T10:31:01.000Z","topic":"battery_hawk/device/AA:BB:CC:DD:EE:FF/status","payload":{"device_id":"AA:BB:CC:DD:EE:FF","connected":false,"error_code":1001}}
{"ts":"2025-01-28T10:31:02.000Z","topic":"autocore/ESP32_002/status","payload":"offline"}
{"ts":"2025-01-28T10:31:03.000Z","topic":"noise/ESP32_001/telemetry","payload":{"temperature":99}}
{"ts":"2025-01-28T10:31:04.000Z","topic":"misc/bin","enc":"base64","payload":"/wAB"}
{"ts":"2025-01-28T10:31:05.000Z","topic":"misc/it's \"quoted\"","payload":"q","props":{"content_type":"text/plain","user":{"k":["a","b"]}}}
this line is not JSON
{"topic":"misc/+","payload":1}
{"payload":"no topic"}
{"tst":"2026-11-23T17:00:38.078107Z+0000","topic":"misc/mosq","qos":0,"retain":0,"payloadlen":5,"payload":"hello"}
EOF2
printf '[mqmon-store]\nrule = battery_hawk/device/{device}/status=status\n' >"$T/cfg"
st=0
mqmon-store --config "$T/cfg" --db "$DB" --tee \
	--rule 'battery_hawk/device/{device}/reading=telemetry' --rule 'noise/#=ignore' \
	<"$T/in.ndjson" >"$T/tee.out" 2>"$T/err" || st=$?
assert_eq 65 "$st" "exit status with three rejected lines"
cmp "$T/in.ndjson" "$T/tee.out" || fail "--tee output differs from the input"
assert_eq 3 "$(count_lines "$T/err")" "error lines"
assert_contains "$T/err" "mqmon-store: line 14: not JSON" \
	"mqmon-store: line 15: \"topic\" contains a wildcard" "mqmon-store: line 16: no \"topic\""

# messages: every envelope, times kept, bodies as bytes, props as JSON
assert_eq 12 "$(q 'SELECT count(*) FROM messages')" "messages stored"
assert_eq "2025-01-28T10:30:15.000Z|autocore/ESP32_001/telemetry|ESP32_001|1|0|json" \
	"$(q "SELECT ts, topic, device, qos, retain, enc FROM messages WHERE topic LIKE '%telemetry' AND device IS NOT NULL")"
assert_eq "1|blob|ff0001" "$(q "SELECT retain = 0, typeof(payload), lower(hex(payload)) FROM messages WHERE topic = 'misc/bin'")"
assert_eq '{"content_type":"text/plain","user":{"k":["a","b"]}}' \
	"$(q "SELECT props FROM messages WHERE topic = 'misc/it''s \"quoted\"'")"
assert_eq "2026-11-23T17:00:38.078Z|hello" "$(q "SELECT ts, payload FROM messages WHERE topic = 'misc/mosq'")"

# topics: discovered with kind, device and counts
assert_eq "state|ESP32_001|3|2025-01-28T10:30:30.000Z|2025-01-28T10:30:32.000Z" \
	"$(q "SELECT kind, device, count, first_seen, last_seen FROM topics WHERE topic = 'autocore/ESP32_001/relay/0/status'")"
assert_eq "ignore||1" "$(q "SELECT kind, device, count FROM topics WHERE topic = 'noise/ESP32_001/telemetry'")"
assert_eq 1 "$(q "SELECT count(*) FROM topics WHERE topic = 'misc/it''s \"quoted\"' AND kind IS NULL")"

# devices: online, last seen, ip and firmware; other fields kept as JSON
assert_eq "1|online|192.168.1.100|1.2.0|5" \
	"$(q "SELECT online, status, ip_address, firmware_version, messages FROM devices WHERE device = 'ESP32_001'")"
assert_eq '{"device_id":"ESP32_001","uptime":3600,"timestamp":"2025-01-28T10:30:00Z"}' \
	"$(q "SELECT fields FROM devices WHERE device = 'ESP32_001'")"
assert_eq "2025-01-28T10:30:00.000Z|2025-01-28T10:30:32.000Z" \
	"$(q "SELECT first_seen, last_seen FROM devices WHERE device = 'ESP32_001'")"
assert_eq "0|offline|{\"device_id\":\"AA:BB:CC:DD:EE:FF\",\"error_code\":1001}" \
	"$(q "SELECT online, status, fields FROM devices WHERE device = 'AA:BB:CC:DD:EE:FF'")"
assert_eq "0|offline" "$(q "SELECT online, status FROM devices WHERE device = 'ESP32_002'")"

# metrics: one row per numeric leaf, dotted names, nothing from ignored topics
assert_eq "humidity=45.2 memory_free=45120.0 samples.0=1.0 samples.1=2.0 sensors.outdoor.t=-3.5 temperature=25.6 voltage=3.28" \
	"$(q "SELECT group_concat(metric || '=' || value, ' ') FROM (SELECT metric, value FROM metrics WHERE device = 'ESP32_001' ORDER BY metric)")"
assert_eq "current=2.5 state_of_charge=85.0 voltage=12.6" \
	"$(q "SELECT group_concat(metric || '=' || value, ' ') FROM (SELECT metric, value FROM metrics WHERE device = 'AA:BB:CC:DD:EE:FF' ORDER BY metric)")"
assert_eq 0 "$(q "SELECT count(*) FROM metrics WHERE value = 99")" "metrics from an ignored topic"

# states and changes: only when the value changed
assert_eq "ESP32_001|0|false|2025-01-28T10:30:32.000Z" "$(q 'SELECT device, key, value, ts FROM states')"
assert_eq "2025-01-28T10:30:30.000Z||true
2025-01-28T10:30:32.000Z|true|false" "$(q 'SELECT ts, old_value, new_value FROM state_changes ORDER BY ts')"

# rejects: line number, error and the line itself
assert_eq "14|this line is not JSON
15|{\"topic\":\"misc/+\",\"payload\":1}
16|{\"payload\":\"no topic\"}" "$(q 'SELECT line, CAST(input AS TEXT) FROM rejects ORDER BY line')"
assert_contains "$(q 'SELECT error FROM rejects WHERE line = 15')" "wildcard"
assert_eq 3 "$(q 'PRAGMA user_version')" "schema version"
assert_eq wal "$(q 'PRAGMA journal_mode')" "journal mode"

# --strict: the event line is a rejected line too
st=0
mqmon-store --db "$T/strict.db" --strict <"$T/in.ndjson" 2>"$T/strict.err" || st=$?
assert_eq 65 "$st" "--strict"
assert_contains "$T/strict.err" "line 7: an event line, not a message (--strict)"

# the config file may hold ingest and query settings side by side
printf '[mqmon-store]\nrule = misc/{device}/bin=telemetry\nbatch = 500\ntopic = autocore/#\nlimit = 2\n' >"$T/both.cfg"
printf '{"topic":"x/1","payload":1}\n' | mqmon-store --config "$T/both.cfg" --db "$T/both.db" ||
	fail "ingest with query settings in the config file"
mqmon-store --config "$T/both.cfg" --db "$DB" query >"$T/both.out" || fail "query with ingest settings in the config file"
assert_eq 2 "$(count_lines "$T/both.out")" "rows from query with limit = 2 and topic = autocore/# from the config"
assert_contains "$T/both.out" '"topic":"autocore/'
st=0
mqmon-store --config "$T/both.cfg" --db "$DB" query --rule 'a=ignore' 2>/dev/null || st=$?
assert_eq 2 "$st" "--rule on the command line of query"

# a malformed rule is a usage error naming it
st=0
mqmon-store --db "$T/x.db" --rule 'a/{device}/b=nonsense' </dev/null 2>"$T/rule.err" || st=$?
assert_eq 2 "$st" "bad rule kind"
assert_contains "$T/rule.err" "status, telemetry, state or ignore"
st=0
mqmon-store --db "$T/x.db" --rule 'a/x{device}/b=status' </dev/null 2>/dev/null || st=$?
assert_eq 2 "$st" "bad rule pattern"
# MQMON_DB is the default database; a query option makes no sense for ingest
printf '{"topic":"e/1","payload":1}\n' | MQMON_DB=$T/env.db mqmon-store || fail "MQMON_DB ingest"
assert_eq 1 "$(sqlite3 "$T/env.db" 'SELECT count(*) FROM messages')" "rows in \$MQMON_DB"
st=0
mqmon-store --db "$T/x.db" --limit 5 </dev/null 2>/dev/null || st=$?
assert_eq 2 "$st" "--limit with ingest"
exit 0
