#!/usr/bin/env bash
# The scripts of examples/, run as a user runs them (with sh, from a
# working directory of their own, the broker given by MQMON_HOST and
# MQMON_PORT, files by their environment variables) against a private
# broker, and what each really did checked: the monitoring pipeline
# archives and alerts, commands are acknowledged and exactly the offline
# devices restarted, the archivers switch files by day and prune and
# export the right rows, a replay publishes exactly its range, the health
# check maps its statuses, the plot's data is right (and its PNG a PNG),
# the Prometheus file is complete and replaced by rename, and mqmon.conf is
# read by every program.
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build: the plain build ran them (the programs' memory is checked by the other tests)"
require_cmd jq awk sed
broker_start --extra "log_type subscribe"

EX=$MQMON_SRCDIR/examples
# the user's own settings must not leak in
unset MQMON_DB MQMON_CONFIG MQMON_USERNAME MQMON_PASSWORD \
	MQTT_BROKER_HOST MQTT_BROKER_PORT MQTT_USERNAME MQTT_PASSWORD MQTT_KEEPALIVE \
	TOPIC OFFLINE_AFTER ALERT NOTIFY ARCHIVE_DIR CLIENT_ID KEEP EXPORT_DIR \
	FROM TO RATE WARN_OFFLINE CRIT_OFFLINE MAX_SILENCE SINCE EVERY OUT \
	PROM_FILE PROM_INTERVAL
export XDG_CONFIG_HOME=$T/xdg
export MQMON_HOST=127.0.0.1 MQMON_PORT=$BROKER_PORT
cd "$T" || hard_error "cannot cd to $T"

# stamp SECONDS_AGO: that time as the archive writes times
stamp() { date -u -d "@$(($(date +%s) - $1))" +%Y-%m-%dT%H:%M:%S.000Z; }
# envl TS TOPIC PAYLOAD [RETAIN]: one envelope line
envl() { printf '{"ts":"%s","topic":"%s","qos":1,"retain":%s,"payload":%s}\n' "$1" "$2" "${4:-false}" "$3"; }
# subscribed ID QOS FILTER: wait until the broker has logged that subscription
subscribed() {
	wait_until 10 grep -q -- "^[0-9]*: $1 $2 $3\$" "$(broker_log)" || fail "$1 did not subscribe to $3"
}
# subs QOS FILTER: how many subscriptions to FILTER the broker has logged
# (for the programs that pick their own client id)
subs() { grep -c -- "^[0-9]*: [^ ]* $1 $2\$" "$(broker_log)"; }
subs_above() { [ "$(subs "$1" "$2")" -gt "$3" ]; }
pub() { run_bounded 10 mqmon-pub -q 1 "$@" || fail "mqmon-pub $* exited $?"; }

# ---------------------------------------------------------------------------
# mqmon.conf: every program really runs with it.  A program reads the
# shared part and its own section (and skips the others' sections), so
# first make sure that a bad key in either makes such a run fail: then the
# runs below prove something.
CONF=$EX/mqmon.conf
mkdir conf
cd conf || hard_error "cd conf"
{
	echo "no-such-key = 1"
	cat "$CONF"
} >"$T/bad1.conf"
rc=0
run_bounded 10 mqmon-sub --config "$T/bad1.conf" -C 1 -W 2 >/dev/null 2>"$T/bad.err" || rc=$?
assert_eq 2 "$rc" "mqmon-sub with a bad key in the shared part of a copy of mqmon.conf"
assert_contains "$T/bad.err" "bad1.conf:1: unknown key 'no-such-key'"
{
	cat "$CONF"
	echo "no-such-key = 1"
} >"$T/bad2.conf"
rc=0
mqmon-store --config "$T/bad2.conf" </dev/null 2>"$T/bad.err" || rc=$?
assert_eq 2 "$rc" "mqmon-store with a bad key in the [mqmon-store] section of a copy of mqmon.conf"
assert_contains "$T/bad.err" "unknown key 'no-such-key'"
[ ! -e fleet.db ] || fail "mqmon-store with a bad config created fleet.db"

# the [mqmon-sub] section gives the topic and QoS 1, [mqmon-pub] QoS 1
run_bg csub mqmon-sub --config "$CONF" -i confsub -C 1
subscribed confsub 1 'autocore/#'
run_bounded 10 mqmon-pub --config "$CONF" -t autocore/CONF_1/telemetry -m '{"temperature":20.5}' ||
	fail "mqmon-pub --config mqmon.conf exited $?"
wait_bg csub || fail "mqmon-sub --config mqmon.conf exited $BG_STATUS: $(cat "$T/csub.err")"
assert_eq "autocore/CONF_1/telemetry 1" "$(jq -r '"\(.topic) \(.qos)"' "$T/csub.out")" "the message through mqmon.conf"
# [mqmon-store]: db = fleet.db (here, in conf/) and its greenhouse rule
{
	cat "$T/csub.out"
	envl "$(stamp 5)" greenhouse/gh1/climate '{"t":21}'
} | mqmon-store --config "$CONF" || fail "mqmon-store --config mqmon.conf exited $?"
[ -f fleet.db ] || fail "mqmon-store --config mqmon.conf did not write fleet.db"
assert_eq "gh1 t 21" "$(mqmon-store --config "$CONF" metrics --device gh1 | jq -r '"\(.device) \(.metric) \(.last_value)"')" \
	"the rule of mqmon.conf"
assert_eq "CONF_1 gh1" "$(mqmon-status --config "$CONF" --db fleet.db | jq -r .device | xargs echo)" \
	"mqmon-status --config mqmon.conf"
run_bg cresp mqmon-cmd --config "$CONF" --respond -i confresp
subscribed confresp 0 'devices/+/command'
run_bounded 15 mqmon-cmd --config "$CONF" CONF_1 ping >"$T/cping.out" || fail "mqmon-cmd --config mqmon.conf exited $?"
assert_contains "$T/cping.out" '"status":"acked"'
stop_bg cresp
cd "$T" || hard_error "cd $T"

# ---------------------------------------------------------------------------
# monitor.sh with a simulated fleet: online events, the database fills, a
# hot reading alerts, a device gone silent goes offline; the notifier gets
# the offline and alert events and nothing else.
n0=$(subs 1 'autocore/#')
run_bg mon env MQMON_DB="$T/mon.db" OFFLINE_AFTER=3 ALERT='temperature > 90' \
	NOTIFY="cat >>'$T/notified'" sh "$EX/monitor.sh"
wait_until 10 subs_above 1 'autocore/#' "$n0" || fail "monitor.sh did not subscribe: $(cat "$T/mon.err")"
run_bg sim mqmon-pub --simulate 3
wait_contains "$T/mon.out" '"event":"online","device":"ESP32_001"'
db_has_fleet() {
	[ "$(mqmon-store --db "$T/mon.db" devices 2>/dev/null | jq -r 'select(.online == true) | .device' | grep -c '^ESP32_00[123]$')" = 3 ] &&
		[ "$(mqmon-store --db "$T/mon.db" stats | jq .metrics)" -gt 0 ]
}
wait_until 10 db_has_fleet || fail "monitor.sh: the database did not fill: $(mqmon-store --db "$T/mon.db" stats 2>&1)"
pub -t autocore/HOT_1/telemetry -m '{"device_id":"HOT_1","temperature":99.5}'
wait_contains "$T/notified" '"event":"alert","device":"HOT_1"'
assert_eq "99.5 90" "$(jq -r 'select(.event == "alert" and .device == "HOT_1") | "\(.value) \(.threshold)"' "$T/notified")" "the alert"
# HOT_1 says nothing more: offline after OFFLINE_AFTER seconds
wait_contains "$T/notified" '"event":"offline","device":"HOT_1","reason":"silence"' 8
jq -se 'length > 0 and all(.[]; .event == "offline" or .event == "alert" or .event == "stale")' "$T/notified" >/dev/null ||
	fail "the notifier got other events: $(cat "$T/notified")"
# every event is printed, the notified ones too
assert_contains "$T/mon.out" '"event":"alert","device":"HOT_1"' '"event":"offline","device":"HOT_1"'
stop_bg sim
stop_bg mon
# stopped, mqmon-store committed: the hot reading is in the archive
assert_eq '{"ts":"x","value":99.5}' "$(mqmon-store --db "$T/mon.db" series --device HOT_1 --metric temperature | jq -c '.ts = "x"')" \
	"the hot reading in the archive"

# ---------------------------------------------------------------------------
# command-ack.sh: one command and its ack; the batch restarts exactly the
# devices the archive says are offline; a refusal maps to status 4.
run_bg resp mqmon-cmd --respond -q 1 -i resp
subscribed resp 1 'devices/+/command'
out=$(run_bounded 20 sh "$EX/command-ack.sh" ESP32_001 relay index=0 state=true 2>"$T/ca.err") ||
	fail "command-ack.sh ESP32_001 relay exited $?: $(cat "$T/ca.err")"
assert_eq 'result acked ESP32_001 relay {"index":0,"state":true}' \
	"$(jq -r '"\(.event) \(.status) \(.device) \(.command) \(.response.params | tostring)"' <<<"$out")" "the one command's result"
assert_contains "$T/ca.err" "acknowledged"
{
	envl "$(stamp 60)" autocore/A/status '{"status":"online"}'
	envl "$(stamp 50)" autocore/B/status '"offline"'
	envl "$(stamp 40)" autocore/C/status '{"status":"offline"}'
	envl "$(stamp 30)" autocore/D/status '{"status":"online"}'
	envl "$(stamp 20)" autocore/D/telemetry '{"temperature":20}'
} | mqmon-store --db "$T/cmd.db" || fail "ingest cmd.db"
out=$(MQMON_DB=$T/cmd.db run_bounded 20 sh "$EX/command-ack.sh" --restart-offline 2>"$T/ca.err") ||
	fail "command-ack.sh --restart-offline exited $?: $(cat "$T/ca.err")"
assert_eq "B acked restart
C acked restart" "$(jq -r '"\(.device) \(.status) \(.command)"' <<<"$out" | sort)" "the batch's results"
assert_contains "$T/ca.err" "all 2 offline devices acknowledged"
restarted() { jq -r 'select(.payload.command == "restart") | .topic' "$T/resp.out" | sort -u | xargs echo; }
restarted_bc() { [ "$(restarted)" = "devices/B/command devices/C/command" ]; }
wait_until 5 restarted_bc ||
	fail "the devices told to restart: [$(restarted)]"
# nobody offline: nothing sent, and that is a success
{
	envl "$(stamp 60)" autocore/A/status '{"status":"online"}'
} | mqmon-store --db "$T/cmd-none.db" || fail "ingest cmd-none.db"
MQMON_DB=$T/cmd-none.db run_bounded 20 sh "$EX/command-ack.sh" --restart-offline >"$T/none.out" 2>"$T/ca.err" ||
	fail "command-ack.sh --restart-offline with none offline exited $?"
assert_eq "" "$(cat "$T/none.out")" "results with none offline"
assert_contains "$T/ca.err" "nothing to restart"
# a missing archive is an error, not an empty batch
rc=0
MQMON_DB=$T/nosuch.db run_bounded 20 sh "$EX/command-ack.sh" --restart-offline >/dev/null 2>"$T/ca.err" || rc=$?
assert_eq 1 "$rc" "command-ack.sh --restart-offline without an archive"
# mqmon-cmd options pass through; a device that refuses is status 4
run_bg nack mqmon-cmd --respond -q 1 -i nacker --fail-rate 1 --cmd-topic 'nack/{device}/cmd' --ack-topic 'nack/{device}/ack'
subscribed nacker 1 'nack/+/cmd'
rc=0
run_bounded 20 sh "$EX/command-ack.sh" --cmd-topic 'nack/{device}/cmd' --ack-topic 'nack/{device}/ack' N1 restart \
	>"$T/refused.out" 2>"$T/ca.err" || rc=$?
assert_eq 4 "$rc" "command-ack.sh on a refusal"
assert_contains "$T/refused.out" '"status":"nacked"'
assert_contains "$T/ca.err" "refused"
stop_bg nack
stop_bg resp

# ---------------------------------------------------------------------------
# archive.sh: one file per UTC day.  date is faked to run 4 seconds before
# a midnight: the archiver must move to the next day's file at midnight
# (the old script opened the start day's file once and wrote there for
# ever).  Its persistent session keeps what comes while it is stopped.
mkdir arch fakebin
midnight=$(date -u -d 2025-01-29T00:00:00Z +%s)
offset=$((midnight - 4 - $(date +%s)))
realdate=$(command -v date)
# shellcheck disable=SC2016 # the fake date expands when it runs
printf '#!/bin/sh\n# date, running on from 4 seconds before 2025-01-29T00:00:00Z\nexec %s -d "@$(($(%s +%%s) + %s))" "$@"\n' \
	"$realdate" "$realdate" "$offset" >"$T/fakebin/date"
chmod +x "$T/fakebin/date"
assert_eq 2025-01-28T23:59:5 "$("$T/fakebin/date" -u +%Y-%m-%dT%H:%M:%S | cut -c1-18)" "the fake date"
run_bg arch env PATH="$T/fakebin:$PATH" ARCHIVE_DIR="$T/arch" CLIENT_ID=arch-live sh "$EX/archive.sh"
subscribed arch-live 1 'autocore/#'
pub -t autocore/ARCH_1/telemetry -m '{"n":1}'
# after midnight a new run subscribes again
arch_subs() { [ "$(grep -c ': arch-live 1 autocore/#$' "$(broker_log)")" -ge "$1" ]; }
wait_until 10 arch_subs 2 || fail "archive.sh did not start a new day: $(ls "$T/arch")"
pub -t autocore/ARCH_1/telemetry -m '{"n":2}'
arch_has() { grep -q "\"n\":$1}" "$T/arch/autocore-$2.ndjson" 2>/dev/null; }
wait_until 10 arch_has 2 2025-01-29 || fail "archive.sh: the message after midnight is not in the new day's file"
stop_bg arch
# stopped: its session keeps what comes meanwhile
pub -t autocore/ARCH_1/telemetry -m '{"n":3}'
run_bg arch env PATH="$T/fakebin:$PATH" ARCHIVE_DIR="$T/arch" CLIENT_ID=arch-live sh "$EX/archive.sh"
wait_until 10 arch_has 3 2025-01-29 || fail "archive.sh: the message sent while it was stopped did not come"
stop_bg arch
assert_eq "autocore-2025-01-28.ndjson autocore-2025-01-29.ndjson" "$(cd "$T/arch" && echo *)" "archive.sh's files"
assert_eq "1" "$(jq -r 'select(.topic == "autocore/ARCH_1/telemetry") | .payload.n' "$T/arch/autocore-2025-01-28.ndjson" | sort -u | xargs echo)" "the first day's file"
assert_eq "2 3" "$(jq -r 'select(.topic == "autocore/ARCH_1/telemetry") | .payload.n' "$T/arch/autocore-2025-01-29.ndjson" | sort -u | xargs echo)" "the next day's file"

# ---------------------------------------------------------------------------
# archive-cron.sh: prune deletes what is older than KEEP; export writes
# yesterday's rows (UTC), midnight to midnight, with a CSV header; the
# crontab lines work in cron's bare environment; run archives.
yday=$(date -u -d yesterday +%Y-%m-%d)
today=$(date -u +%Y-%m-%d)
dbefore=$(date -u -d '2 days ago' +%Y-%m-%d)
{
	envl "$(stamp $((5 * 86400)))" autocore/A/telemetry '{"temperature":1}'
	envl "$(stamp $((5 * 86400 - 1)))" autocore/A/status '{"status":"online"}'
	envl "${dbefore}T23:59:59.999Z" autocore/A/telemetry '{"temperature":2}'
	envl "${yday}T00:00:00.000Z" autocore/A/telemetry '{"temperature":3}'
	envl "${yday}T12:00:00.000Z" autocore/B/status '{"note":"a, \"quoted\" word"}'
	envl "${yday}T23:59:59.999Z" autocore/A/telemetry '{"temperature":4}'
	envl "${today}T00:00:00.000Z" autocore/A/telemetry '{"temperature":5}'
} | mqmon-store --db "$T/arch.db" || fail "ingest arch.db"
out=$(KEEP=3d MQMON_DB=$T/arch.db run_bounded 20 sh "$EX/archive-cron.sh" prune) || fail "archive-cron.sh prune exited $?"
assert_eq "2 1" "$(jq -r '"\(.deleted.messages) \(.deleted.metrics)"' <<<"$out")" "archive-cron.sh prune: deleted"
assert_eq "${dbefore}T23:59:59.999Z ${yday}T00:00:00.000Z ${yday}T12:00:00.000Z ${yday}T23:59:59.999Z ${today}T00:00:00.000Z" \
	"$(mqmon-store --db "$T/arch.db" query | jq -r .ts | xargs echo)" "archive-cron.sh prune: what is left"
mkdir exp
out=$(EXPORT_DIR=$T/exp MQMON_DB=$T/arch.db run_bounded 20 sh "$EX/archive-cron.sh" export) || fail "archive-cron.sh export exited $?"
assert_eq "$T/exp/arch-$yday.csv" "$out" "archive-cron.sh export: the file"
assert_eq "arch-$yday.csv" "$(ls "$T/exp")" "archive-cron.sh export: no other file"
assert_eq "ts,topic,qos,retain,enc,payload
${yday}T00:00:00.000Z,autocore/A/telemetry,1,false,json,\"{\"\"temperature\"\":3}\"
${yday}T12:00:00.000Z,autocore/B/status,1,false,json,\"{\"\"note\"\":\"\"a, \\\"\"quoted\\\"\" word\"\"}\"
${yday}T23:59:59.999Z,autocore/A/telemetry,1,false,json,\"{\"\"temperature\"\":4}\"" "$(cat "$T/exp/arch-$yday.csv")" \
	"archive-cron.sh export: yesterday's rows"
# a day given, across month and year ends and a leap day
{
	envl 2024-02-28T12:00:00.000Z cal/x '1'
	envl 2024-02-29T12:00:00.000Z cal/x '2'
	envl 2024-03-01T00:00:00.000Z cal/x '3'
	envl 2024-12-31T23:59:59.999Z cal/x '4'
	envl 2025-01-01T00:00:00.000Z cal/x '5'
} | mqmon-store --db "$T/cal.db" || fail "ingest cal.db"
for d in 2024-02-28:1 2024-02-29:2 2024-03-01:3 2024-12-31:4 2025-01-01:5 2023-02-28:; do
	out=$(EXPORT_DIR=$T/exp MQMON_DB=$T/cal.db run_bounded 20 sh "$EX/archive-cron.sh" export "${d%%:*}") ||
		fail "archive-cron.sh export ${d%%:*} exited $?"
	assert_eq "${d#*:}" "$(tail -n +2 "$out" | cut -d, -f6 | xargs echo)" "archive-cron.sh export ${d%%:*}"
done
rc=0
run_bounded 20 sh "$EX/archive-cron.sh" export 2025-1-1 2>/dev/null || rc=$?
assert_eq 2 "$rc" "archive-cron.sh export of a bad day"
# the crontab lines, run as cron runs them: bare environment, from $HOME
KEEP=3d MQMON_DB=arch.db EXPORT_DIR=exp2 sh "$EX/archive-cron.sh" --crontab >"$T/crontab" ||
	fail "archive-cron.sh --crontab exited $?"
grep -Eq '^@reboot .* run ' "$T/crontab" || fail "no @reboot line: $(cat "$T/crontab")"
grep -Eq '^[0-9]+ \* \* \* \* .*prune' "$T/crontab" || fail "no hourly prune: $(cat "$T/crontab")"
grep -Eq '^[0-9]+ [0-9]+ \* \* \* .*export' "$T/crontab" || fail "no daily export: $(cat "$T/crontab")"
mkdir exp2 home
for job in prune export; do
	line=$(grep -E "^[0-9].* $job( |\$)" "$T/crontab") || fail "no $job line"
	cmd=$(sed -E 's/^([^ ]+ +){5}//' <<<"$line")
	(cd "$T/home" && env -i PATH=/usr/bin:/bin HOME="$T/home" SHELL=/bin/sh /bin/sh -c "$cmd") || fail "the crontab's $job line failed: $cmd"
done
assert_eq "arch-$yday.csv" "$(ls "$T/exp2")" "the crontab's export line"
cmp -s "$T/exp/arch-$yday.csv" "$T/exp2/arch-$yday.csv" || fail "the crontab's export differs"
# run: the archiver into SQLite
run_bg cronrun env MQMON_DB="$T/live.db" CLIENT_ID=cron-live sh "$EX/archive-cron.sh" run
subscribed cron-live 1 'autocore/#'
pub -t autocore/RUN_1/telemetry -m '{"temperature":7}'
run_stored() { mqmon-store --db "$T/live.db" query --topic autocore/RUN_1/telemetry 2>/dev/null | grep -q '"temperature":7'; }
wait_until 10 run_stored || fail "archive-cron.sh run did not store the message"
stop_bg cronrun

# ---------------------------------------------------------------------------
# replay.sh: exactly the archived rows under autocore/ in [SINCE, UNTIL),
# in time order, under replay/, not retained; nothing elsewhere.
{
	envl 2025-01-28T10:00:01.000Z autocore/R1/telemetry '{"n":1}'
	envl 2025-01-28T10:00:05.000Z autocore/R2/telemetry '{"n":5}'
	envl 2025-01-28T10:00:05.000Z autocore/R1/telemetry '{"n":6}'
	envl 2025-01-28T10:00:02.000Z autocore/R1/telemetry '{"n":2}'
	envl 2025-01-28T10:00:03.000Z other/R1/telemetry '{"n":3}'
	envl 2025-01-28T10:00:04.000Z autocore/R1/status '{"status":"online","n":4}' true
	envl 2025-01-28T10:00:06.000Z autocore/R1/telemetry '{"n":7}'
	envl 2025-01-28T10:00:07.000Z autocore/R1/telemetry '{"n":8}'
} | mqmon-store --db "$T/replay.db" || fail "ingest replay.db"
run_bg rsub mqmon-sub -q 1 -i rsub -t 'replay/#'
run_bg watch mqmon-sub -q 1 -i watch -R -t '#'
subscribed rsub 1 'replay/#'
subscribed watch 1 '#'
MQMON_DB=$T/replay.db run_bounded 20 sh "$EX/replay.sh" 2025-01-28T10:00:02Z 2025-01-28T10:00:06Z ||
	fail "replay.sh exited $?"
wait_lines "$T/rsub.out" 4
sleep 0.3 # anything more would have come by now
stop_bg rsub
stop_bg watch
assert_eq "replay/R1/telemetry 2 false
replay/R1/status 4 false
replay/R2/telemetry 5 false
replay/R1/telemetry 6 false" "$(jq -r '"\(.topic) \(.payload.n) \(.retain)"' "$T/rsub.out")" "replay.sh: what came"
assert_eq "" "$(jq -r 'select(.topic | startswith("replay/") | not) | .topic' "$T/watch.out")" "replay.sh: published elsewhere"
assert_eq 4 "$(count_lines "$T/watch.out")" "replay.sh: messages seen on #"
# the retained status was replayed as a plain message: nothing retained
# under replay/
assert_eq "" "$(run_bounded 10 mqmon-sub -t 'replay/#' --retained-only -W 3)" "retained messages under replay/"

# ---------------------------------------------------------------------------
# healthcheck.sh: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, as Nagios wants;
# --docker: 0 healthy (OK or WARNING), 1 unhealthy.
for d in A B; do envl "$(stamp 30)" "autocore/$d/status" '{"status":"online"}'; done |
	mqmon-store --db "$T/ok.db" || fail "ingest ok.db"
for i in 1 2 3 4 5 6 7 8 9; do envl "$(stamp 30)" "autocore/W$i/status" '{"status":"online"}'; done >"$T/warn.in"
envl "$(stamp 30)" autocore/W10/status '"offline"' >>"$T/warn.in"
mqmon-store --db "$T/warn.db" <"$T/warn.in" || fail "ingest warn.db"
{
	envl "$(stamp 30)" autocore/A/status '{"status":"online"}'
	envl "$(stamp 30)" autocore/B/status '"offline"'
	envl "$(stamp 30)" autocore/C/status '{"status":"offline"}'
} | mqmon-store --db "$T/crit.db" || fail "ingest crit.db"
# online as last told, but silent for an hour: an archiver gone deaf
for d in A B; do envl "$(stamp 3600)" "autocore/$d/status" '{"status":"online"}'; done |
	mqmon-store --db "$T/deaf.db" || fail "ingest deaf.db"
# hc DB EXPECTED-STATUS EXPECTED-FIRST-LINE-START [ARGS...]
hc() {
	local db=$1 want=$2 line=$3 rc=0
	shift 3
	MQMON_DB=$db run_bounded 20 sh "$EX/healthcheck.sh" "$@" >"$T/hc.out" 2>"$T/hc.err" || rc=$?
	assert_eq "$want" "$rc" "healthcheck.sh $* on ${db##*/}"
	case $(head -n 1 "$T/hc.out") in
	"$line"*) ;;
	*) fail "healthcheck.sh $* on ${db##*/}: first line: $(head -n 1 "$T/hc.out")" ;;
	esac
}
hc "$T/ok.db" 0 "MQMON OK - 2/2 online |"
hc "$T/warn.db" 1 "MQMON WARNING - 9/10 online |"
hc "$T/crit.db" 2 "MQMON CRITICAL - 1/3 online |"
assert_contains "$T/hc.out" "B offline" "C offline"
hc "$T/deaf.db" 2 "MQMON CRITICAL - 0/2 online |"
hc "$T/nosuch.db" 3 "MQMON UNKNOWN - "
hc "$T/crit.db" 1 "MQMON WARNING - 1/3 online |" --crit-offline 5
hc "$T/ok.db" 0 "MQMON OK" --docker
hc "$T/warn.db" 0 "MQMON WARNING" --docker
hc "$T/crit.db" 1 "MQMON CRITICAL" --docker
hc "$T/nosuch.db" 1 "MQMON UNKNOWN" --docker
# mqmon-status missing altogether: still a plugin's answer
mkdir empty
rc=0
out=$(PATH=$T/empty MQMON_DB=$T/ok.db /bin/sh "$EX/healthcheck.sh" 2>/dev/null) || rc=$?
assert_eq 3 "$rc" "healthcheck.sh without mqmon-status"
assert_contains "$out" "MQMON UNKNOWN - mqmon-status did not run"

# ---------------------------------------------------------------------------
# plot.sh: the CSV it plots holds the 5-minute averages of that device's
# metric in the last 24 hours and nothing else; a PNG with gnuplot, a
# clear status 69 without.
base=$((($(date +%s) - 3600) / 300 * 300))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
{
	envl "$(iso $((base + 10)))" autocore/P1/telemetry '{"temperature":20,"humidity":50}'
	envl "$(iso $((base + 70)))" autocore/P1/telemetry '{"temperature":22}'
	envl "$(iso $((base + 305)))" autocore/P1/telemetry '{"temperature":30}'
	envl "$(iso $((base + 901)))" autocore/P1/telemetry '{"temperature":10}'
	envl "$(iso $((base + 902)))" autocore/P1/telemetry '{"temperature":11}'
	envl "$(iso $((base + 903)))" autocore/P1/telemetry '{"temperature":12}'
	envl "$(iso $((base + 20)))" autocore/P2/telemetry '{"temperature":99}'
	envl "$(stamp $((2 * 86400)))" autocore/P1/telemetry '{"temperature":99}'
	envl "$(iso $((base + 30)))" battery_hawk/device/AA:BB:CC:DD:EE:FF/reading '{"voltage":12.5}'
} | mqmon-store --db "$T/plot.db" || fail "ingest plot.db"
mkdir plot
cd plot || hard_error "cd plot"
rc=0
MQMON_DB=$T/plot.db run_bounded 30 sh "$EX/plot.sh" P1 temperature >"$T/plot.out" 2>"$T/plot.err" || rc=$?
assert_eq "ts,value,count
$(iso "$base"),21,2
$(iso $((base + 300))),30,1
$(iso $((base + 900))),11,3" "$(cat P1-temperature.csv)" "plot.sh: the data"
if command -v gnuplot >/dev/null 2>&1; then
	assert_eq 0 "$rc" "plot.sh with gnuplot: $(cat "$T/plot.err")"
	assert_eq "P1-temperature.csv
P1-temperature.png" "$(cat "$T/plot.out")" "plot.sh's files"
	assert_eq "89 50 4e 47 0d 0a 1a 0a" "$(head -c 8 P1-temperature.png | od -An -tx1 | xargs echo)" "the PNG's magic bytes"
else
	note "gnuplot is not installed: the PNG is not tested"
	assert_eq 69 "$rc" "plot.sh without gnuplot"
	assert_eq "P1-temperature.csv" "$(cat "$T/plot.out")" "plot.sh's files without gnuplot"
	assert_contains "$T/plot.err" "gnuplot is not installed"
	[ ! -e P1-temperature.png ] || fail "plot.sh wrote a PNG without gnuplot"
fi
# a MAC address as the device: a file name without ':'
rc=0
MQMON_DB=$T/plot.db run_bounded 30 sh "$EX/plot.sh" AA:BB:CC:DD:EE:FF voltage >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 69 ] || fail "plot.sh AA:BB:CC:DD:EE:FF voltage exited $rc"
assert_eq "ts,value,count
$(iso "$base"),12.5,1" "$(cat AA-BB-CC-DD-EE-FF-voltage.csv)" "plot.sh: a MAC address's data"
# a metric the archive does not have: status 1, saying what it has, no file
rc=0
MQMON_DB=$T/plot.db run_bounded 30 sh "$EX/plot.sh" P1 temp >/dev/null 2>"$T/plot.err" || rc=$?
assert_eq 1 "$rc" "plot.sh for a metric not archived"
assert_contains "$T/plot.err" "humidity, temperature"
[ ! -e P1-temp.csv ] || fail "plot.sh left P1-temp.csv"
# no sample in the time asked: status 1, whether gnuplot is there or not
rc=0
SINCE=10m MQMON_DB=$T/plot.db run_bounded 30 sh "$EX/plot.sh" P2 temperature >/dev/null 2>"$T/plot.err" || rc=$?
assert_eq 1 "$rc" "plot.sh with no samples"
assert_contains "$T/plot.err" "nothing to plot"
[ ! -e P2-temperature.png ] || fail "plot.sh made a PNG of nothing"
cd "$T" || hard_error "cd $T"

# ---------------------------------------------------------------------------
# prometheus.sh: a snapshot of the archive, and a live file that is
# complete whenever it is read and replaced by rename (a new inode each
# time), with no temporary file left.
# prom_ok FILE: every line a comment or a sample, and the last one ended
prom_ok() {
	[ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] &&
		awk '/^# (HELP|TYPE) mqmon_/ { next }
			/^mqmon_[a-z_]+(\{[^}]*\})? -?[0-9.]+(e[-+]?[0-9]+)?$/ { next }
			{ bad = 1 } END { exit bad }' "$1"
}
{
	envl "$(stamp 60)" autocore/A/status '{"status":"online"}'
	envl "$(stamp 30)" autocore/A/telemetry '{"temperature":21.5}'
	envl "$(stamp 60)" autocore/B/status '"offline"'
	envl "$(stamp 3600)" autocore/C/status '{"status":"online"}'
} | mqmon-store --db "$T/prom.db" || fail "ingest prom.db"
mkdir textfile
PROM_FILE=$T/textfile/mqmon.prom MQMON_DB=$T/prom.db run_bounded 20 sh "$EX/prometheus.sh" snapshot ||
	fail "prometheus.sh snapshot exited $?"
assert_eq "mqmon.prom" "$(ls "$T/textfile")" "prometheus.sh snapshot: the files"
prom_ok "$T/textfile/mqmon.prom" || fail "prometheus.sh snapshot: not a textfile: $(cat "$T/textfile/mqmon.prom")"
assert_contains "$T/textfile/mqmon.prom" \
	'mqmon_device_online{device="A"} 1' 'mqmon_device_online{device="B"} 0' \
	'mqmon_device_online{device="C"} 0' 'mqmon_device_messages_total{device="A"} 2' \
	'mqmon_device_metric{device="A",metric="temperature"} 21.5' \
	'# TYPE mqmon_device_messages_total counter'
mkdir textfile2
P2=$T/textfile2/mqmon.prom
pub -r -t autocore/LIVE_1/status -m '{"status":"online"}'
n0=$(subs 1 'autocore/#')
run_bg prom env PROM_FILE="$P2" PROM_INTERVAL=0.2 sh "$EX/prometheus.sh" live
wait_until 10 subs_above 1 'autocore/#' "$n0" || fail "prometheus.sh live did not subscribe: $(cat "$T/prom.err")"
wait_contains "$P2" 'mqmon_device_online{device="LIVE_1"} 1'
pub -t autocore/LIVE_1/telemetry -m '{"temperature":42}'
wait_contains "$P2" 'mqmon_device_metric{device="LIVE_1",metric="temperature"} 42'
inodes=()
for i in $(seq 20); do
	cp "$P2" "$T/read.prom" || fail "the textfile went missing"
	prom_ok "$T/read.prom" || fail "prometheus.sh live: a partial or bad file was visible: $(cat "$T/read.prom")"
	grep -q 'mqmon_device_online{device="LIVE_1"} 1' "$T/read.prom" || fail "a read of the textfile lacks LIVE_1"
	inodes+=("$(stat -c %i "$P2")")
	sleep 0.05
done
[ "$(printf '%s\n' "${inodes[@]}" | sort -u | wc -l)" -ge 2 ] || fail "the textfile was not replaced by a new file (inode ${inodes[0]})"
stop_bg prom
assert_eq "mqmon.prom" "$(ls -A "$T/textfile2")" "prometheus.sh live: the files left"
prom_ok "$P2" || fail "prometheus.sh live: the last file: $(cat "$P2")"
