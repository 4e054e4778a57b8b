#!/usr/bin/env bash
# mqmon-status on an mqmon-store database (also while it ingests) and on
# the broker: the snapshot (NDJSON, a table with a sparkline, --offline,
# --group), --check from the database and from a live -t -W subscription
# (the plugin line, perfdata, counts and percentages, 0/1/2/3, an
# unreachable broker, a missing database, usage errors), --prom (a valid
# textfile, labels escaped, one sample per series), --broker, and its own
# lost connection making the fleet stale, not offline.
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq
broker_start --persist --extra "log_type subscribe"
P=(-p "$BROKER_PORT")
DB=$T/fleet.db

# a fleet of five: A and B online, C offline, D silent for two hours
# (online as last told), E with a name that needs escaping; times in the
# last hour so the sparkline has them
stamp() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%S.000Z; }
{
	for d in A B; do
		echo "{\"ts\":\"$(stamp 600)\",\"topic\":\"autocore/$d/status\",\"payload\":{\"status\":\"online\",\"ip_address\":\"10.0.0.$((${#d} + 1))\",\"firmware_version\":\"1.2.0\"}}"
		for m in 50 40 30 20 10; do
			echo "{\"ts\":\"$(stamp $((m * 60)))\",\"topic\":\"autocore/$d/telemetry\",\"payload\":{\"device_id\":\"$d\",\"temperature\":$((20 + m / 10)),\"vehicle_id\":\"van\"}}"
		done
	done
	echo "{\"ts\":\"$(stamp 300)\",\"topic\":\"autocore/C/status\",\"payload\":\"offline\"}"
	echo "{\"ts\":\"$(stamp 7200)\",\"topic\":\"autocore/D/status\",\"payload\":{\"status\":\"online\"}}"
	echo "{\"ts\":\"$(stamp 60)\",\"topic\":\"autocore/E\\\"\\\\x/status\",\"payload\":{\"status\":\"online\"}}"
} >"$T/fleet.in"
mqmon-store --db "$DB" <"$T/fleet.in" || fail "ingest exited $?"

# --- the snapshot
mqmon-status --db "$DB" >"$T/snap.out" || fail "snapshot exited $?"
assert_eq 'A true 10.0.0.2 1.2.0
B true 10.0.0.2 1.2.0
C false null null
D true null null
E"\x true null null' "$(jq -r '[.device, .online, .ip_address, .firmware_version] | map(tostring) | join(" ")' "$T/snap.out")" \
	"the snapshot's devices"
jq -se 'all(.[]; .last_seen != null and .messages > 0 and (.msg_per_min | type == "number"))' "$T/snap.out" >/dev/null ||
	fail "snapshot fields: $(head -2 "$T/snap.out")"
assert_eq "C" "$(mqmon-status --db "$DB" --offline | jq -r .device)" "--offline"
assert_eq "C
D" "$(mqmon-status --db "$DB" --offline --max-silence 1h | jq -r .device)" "--offline --max-silence 1h"
mqmon-status --db "$DB" --metric temperature --format table >"$T/table.out" || fail "table exited $?"
head -1 "$T/table.out" | grep -q '^device  *state  *seen  *ip  *firmware  *msg/min  *trend' || fail "table header: $(head -1 "$T/table.out")"
grep '^A ' "$T/table.out" | grep -q '[▁▂▃▄▅▆▇█]' || fail "no sparkline: $(cat "$T/table.out")"
grep '^C ' "$T/table.out" | grep -q ' offline ' || fail "C not offline in the table"
# groups: the vehicles, with the mean of each metric
mqmon-status --db "$DB" --group vehicle_id >"$T/groups.out" || fail "--group exited $?"
assert_eq '{"group":"van","devices":2,"online":2,"metrics":{"temperature":21}}' "$(grep '"group":"van","devices"' "$T/groups.out")" \
	"the group line"

# a mean is told as the values were written: 12.4, not 12.399999999999999
printf '{"topic":"battery_hawk/device/AA:0%d/reading","payload":{"voltage":%s,"vehicle_id":"bus"}}\n' 1 12.6 2 12.2 |
	mqmon-store --db "$T/bus.db" || fail "bus ingest exited $?"
assert_eq '{"group":"bus","devices":2,"online":2,"metrics":{"voltage":12.4}}' \
	"$(mqmon-status --db "$T/bus.db" --group vehicle_id | grep '"group":"bus","devices"')" "a group's mean"
mqmon-status --db "$T/bus.db" --group vehicle_id --prom "$T/bus.prom" || fail "bus --prom exited $?"
assert_contains "$T/bus.prom" 'mqmon_group_metric_mean{group="bus",metric="voltage"} 12.4'

# --- a database in $MQMON_DB or the config file (shared with mqmon-store)
# is a snapshot with nothing on stdin, and leaves a pipeline live
one='{"topic":"autocore/P/telemetry","payload":{"t":1}}'
assert_eq "A B C D E\"\\x" "$(MQMON_DB=$DB mqmon-status -F ndjson </dev/null | jq -r .device | xargs -d '\n' echo)" \
	"\$MQMON_DB with no input: a snapshot"
assert_eq "online P start" "$(echo "$one" | MQMON_DB=$DB mqmon-status | jq -r '"\(.event) \(.device) \(.reason)"')" \
	"\$MQMON_DB under a pipe: live"
printf 'db = %s\ntopic = autocore/#\n' "$DB" >"$T/shared.conf"
assert_eq "online P start" "$(echo "$one" | mqmon-status --config "$T/shared.conf" | jq -r '"\(.event) \(.device) \(.reason)"')" \
	"db and topic in the config file under a pipe: live from stdin"
assert_eq 5 "$(mqmon-status --config "$T/shared.conf" -F ndjson </dev/null | wc -l)" \
	"db in the config file with no input: a snapshot"
# rules add up: the file's and the command line's, as in mqmon-store
printf '[mqmon-status]\nrule = hb/{device}/beat=telemetry\n' >"$T/rules.conf"
printf '{"topic":"hb/h1/beat","payload":{"x":1}}\n{"topic":"cl/c1/beat","payload":{"x":1}}\n' |
	mqmon-status --config "$T/rules.conf" --rule 'cl/{device}/beat=telemetry' >"$T/rules.out"
assert_eq "c1 h1" "$(jq -r 'select(.event == "online") | .device' "$T/rules.out" | sort | xargs echo)" \
	"rules from the config file and the command line"

# --- --check from the database
# the status line; D's two hours of silence grow while the test runs
status_line() { head -1 "$T/check.out" | sed -E 's/silence=720[0-9]s/silence=7200s/'; }
check() { # EXPECTED-STATUS ARGS...
	local want=$1 st=0
	shift
	mqmon-status --check "$@" >"$T/check.out" 2>&1 || st=$?
	assert_eq "$want" "$st" "exit status of --check $*"
}
check 0 --db "$DB"
assert_eq "MQMON OK - 4/5 online | online=4;;;0;5 offline=1;;;0;5 silence=7200s;;;0" "$(status_line)" "OK line"
check 1 --db "$DB" --warn-offline 0 --crit-offline 2
assert_eq "MQMON WARNING - 4/5 online | online=4;;;0;5 offline=1;0;2;0;5 silence=7200s;;;0" "$(status_line)" "WARNING line"
assert_eq "C offline, last seen 5m ago" "$(sed -n 2p "$T/check.out")" "the offline device after the status line"
check 2 --db "$DB" --warn-offline 0 --crit-offline 20% --max-silence 1h
assert_eq "MQMON CRITICAL - 3/5 online | online=3;;;0;5 offline=2;0;1;0;5 silence=7200s;;3600;0" "$(status_line)" \
	"CRITICAL line (20 % of 5 is 1)"
assert_eq "D silent for 2h" "$(grep '^D ' "$T/check.out")" "a silent device"
check 0 --db "$DB" --warn-offline 40%
check 3 --db "$T/missing.db"
assert_contains "$T/check.out" "MQMON UNKNOWN - " "missing.db"
check 3 --db "$DB" --warn-offline lots
check 3 --db "$DB" --frobnicate
# what a monitoring system shows is stdout: the usage error is there too
st=0
mqmon-status --check --db "$DB" --warn-offline lots >"$T/usage.out" 2>/dev/null || st=$?
assert_eq "3 MQMON UNKNOWN - --warn-offline: 'lots' is not a number of devices or a percentage (10%)" \
	"$st $(cat "$T/usage.out")" "a usage error of --check on stdout"
st=0
mqmon-status --check --db "$DB" --prom "$T/no/such/dir/f.prom" >"$T/promfail.out" 2>/dev/null || st=$?
assert_eq "3 MQMON UNKNOWN - cannot write $T/no/such/dir/f.prom: No such file or directory" \
	"$st $(cat "$T/promfail.out")" "--check with a --prom it cannot write"

# --- the snapshot while mqmon-store ingests: WAL readers go on
mkfifo "$T/ingest.fifo"
run_bg ingest bash -c 'exec mqmon-store --db "$1" --flush-ms 50 <"$2"' _ "$DB" "$T/ingest.fifo"
exec 8>"$T/ingest.fifo"
for i in $(seq 1 2000); do
	echo "{\"topic\":\"autocore/N$((i % 20))/telemetry\",\"payload\":{\"temperature\":$((i % 30))}}"
done >&8
wait_until 10 eval '[ "$(sqlite3 "$DB" "SELECT count(*) FROM devices" 2>/dev/null)" -ge 25 ]' || fail "ingest did not get on"
for i in 1 2 3; do
	mqmon-status --db "$DB" >"$T/during.out" || fail "snapshot during ingest exited $?"
done
exec 8>&-
wait_bg ingest 10 || fail "ingest exited $BG_STATUS"
assert_eq 25 "$(mqmon-status --db "$DB" | wc -l)" "devices after the ingest"

# --- --prom: the textfile
mqmon-status --db "$DB" --prom "$T/fleet.prom" --group vehicle_id --max-silence 1h || fail "--prom exited $?"
compgen -G "$T/fleet.prom.*" >/dev/null && fail "a temporary file was left: $(compgen -G "$T/fleet.prom.*")"
awk '
	/^# TYPE / { type[$3] = $4; next }
	/^# HELP / { next }
	/^#/ { print "a stray comment: " $0; bad = 1; next }
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-z_]+="([^"\\]|\\["\\n])*",?)*\})? [-+0-9.eEInfNa]+$/)) {
			print "not a sample: " $0; bad = 1
		}
		name = $0; sub(/[{ ].*/, "", name)
		if (!(name in type)) { print "no TYPE for " name; bad = 1 }
		series = $0; sub(/ [^ ]*$/, "", series)
		if (seen[series]++) { print "twice: " series; bad = 1 }
	}
	END { exit bad }' "$T/fleet.prom" >&2 || fail "not a valid textfile"
# online as --check counts it: D is silent longer than --max-silence
assert_contains "$T/fleet.prom" 'mqmon_device_online{device="E\"\\x"} 1' 'mqmon_device_online{device="C"} 0' \
	'mqmon_device_online{device="D"} 0' 'mqmon_device_online{device="N3"} 1' \
	'# TYPE mqmon_device_messages_total counter' 'mqmon_device_metric{device="A",metric="temperature"} 21' \
	'mqmon_group_devices{group="van"} 2'

# --- --broker: $SYS
mqmon-status "${P[@]}" --broker >"$T/broker.out" || fail "--broker exited $?"
jq -se 'any(.[]; (.version | test("mosquitto")) and (.uptime_s | type == "number") and .broker == "localhost:'"$BROKER_PORT"'")' \
	"$T/broker.out" >/dev/null || fail "--broker: $(cat "$T/broker.out")"

# --- live: its own subscription; --check after -W; its lost connection
run_bg sim mqmon-pub "${P[@]}" --simulate 3 --prefix live --rate 30 -q 1 --reconnect-delay 0.2:0.5
wait_until 10 grep -q 'as sim[0-9]*-ESP32_003' "$(broker_log)" || fail "the simulator did not connect"
check 0 "${P[@]}" -t 'live/#' -W 1.5
assert_eq "MQMON OK - 3/3 online" "$(head -1 "$T/check.out" | cut -d'|' -f1 | sed 's/ *$//')" "live check"
port=$(freeport)
check 2 -p "$port" -t 'live/#' -W 1 --connect-timeout 1
assert_contains "$T/check.out" "MQMON CRITICAL - cannot connect to the broker"
# the broker goes away with the devices online: one stale event, no
# offline by silence (-offline-after 1) while it is gone, nor after
run_bg watch mqmon-status "${P[@]}" -t 'live/#' -i watcher --offline-after 1 --reconnect-delay 0.2:0.5
wait_until 10 eval '[ "$(grep -c "\"event\":\"online\"" "$T/watch.out")" -ge 3 ]' || fail "live: no devices online"
broker_stop
wait_until 5 grep -q '"event":"stale"' "$T/watch.out" || fail "no stale event after losing the broker"
sleep 2.5
# (a broker shutting down publishes its clients' wills first: those are
# the devices' own word, told as offline by status, and may come or not)
grep -q '"event":"offline".*"reason":"silence"' "$T/watch.out" &&
	fail "offline by silence while the broker was gone: $(cat "$T/watch.out")"
broker_restart
wait_until 10 grep -q "connected to localhost:$BROKER_PORT" "$T/watch.err" || fail "no reconnect: $(cat "$T/watch.err")"
sleep 1.5 # the devices come back and keep talking: no silence
assert_eq 0 "$(grep -c '"reason":"silence"' "$T/watch.out")" "offline by silence after the broker came back"
stop_bg watch
stop_bg sim
assert_eq 1 "$(grep -c '"event":"stale"' "$T/watch.out")" "stale events"
exit 0
