#!/usr/bin/env bash
# Security against a real broker: TLS refuses a certificate for another
# host name (unless --insecure) and an unknown CA, and works with the right
# CA (mqmon-sub, mqmon-pub, mqmon-cmd); no program ever prints the password
# (--help, usage errors, -d, URL errors, "--passwd=SECRET", a refused
# login); a config file holding a password that others can read gets a
# warning; topics built from input never carry '+', '#' or NUL (mqmon-cmd
# devices, commands and templates, batch lines, --respond, mqmon-pub
# envelopes and URLs), and a '#' subscriber sees nothing published to an
# unintended topic; names like "x'); DROP TABLE messages;--" are data to
# mqmon-store and mqmon-status, and every SQL text in the sources is
# fixed; under umask 000 no file a program creates is world-writable (the
# database and its -wal/-shm, --prom, --dead-letter, the shell's history).
. "${srcdir:-.}/tests/lib.sh"
require_cmd openssl sqlite3 jq

# run_st VAR CMD...: run CMD (bounded), its status in VAR, stdout and
# stderr in $T/out and $T/err
run_st() {
	local __var=$1 __st=0
	shift
	run_bounded 30 "$@" >"$T/out" 2>"$T/err" || __st=$?
	printf -v "$__var" '%s' "$__st"
}
subscribed() {
	wait_until 10 grep -q "^[0-9]*: $1 [0-2] $2\$" "$(broker_log "${3:-b}")" || fail "$1 did not subscribe to $2"
}

# ---------------------------------------------------------------------------
# TLS
broker_start tls --tls --extra "log_type subscribe"
tport=$(broker_port tls)
# a certificate from the right CA, but for another host name
if ! openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$T/wrong.key" \
	-out "$T/wrong.csr" -subj /CN=wrong.example 2>/dev/null ||
	! openssl x509 -req -in "$T/wrong.csr" -CA "$CA_FILE" -CAkey "${CA_FILE%.crt}.key" -set_serial 4243 \
		-days 1 -out "$T/wrong.crt" 2>/dev/null; then
	hard_error "cannot make the wrong-name certificate"
fi
broker_start wrongname --extra "cafile $CA_FILE" --extra "certfile $T/wrong.crt" \
	--extra "keyfile $T/wrong.key" --extra "log_type subscribe"
wport=$(broker_port wrongname)
# a CA that signed neither
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=other \
	-keyout "$T/other.key" -out "$T/other.crt" 2>/dev/null || hard_error "cannot make the other CA"

# refused PROG ARGS...: PROG fails with status 1 and a TLS reason
refused() {
	local what=$1 st
	shift
	run_st st "$@"
	assert_eq 1 "$st" "$what: exit status"
	grep -q "certificate verify failed\|host name verification failed" "$T/err" ||
		fail "$what: no TLS reason in: $(cat "$T/err")"
}
TO=(--connect-timeout 2 --no-reconnect)
for p in sub pub; do
	a=(-h localhost "${TO[@]}" -t tls/x)
	[ $p = sub ] && a+=(-C 1 -W 10) || a+=(-m y)
	refused "$p, wrong name" mqmon-$p "${a[@]}" --cafile "$CA_FILE" -p "$wport"
	assert_contains "$T/err" "host name verification failed"
	refused "$p, unknown CA" mqmon-$p "${a[@]}" --cafile "$T/other.crt" -p "$tport"
	assert_contains "$T/err" "certificate verify failed"
done
refused "cmd, wrong name" mqmon-cmd -h localhost -p "$wport" --cafile "$CA_FILE" "${TO[@]}" -W 1 --retries 0 d1 ping
refused "cmd, unknown CA" mqmon-cmd -h localhost -p "$tport" --cafile "$T/other.crt" "${TO[@]}" -W 1 --retries 0 d1 ping
# the right CA: sub and pub, and cmd against a responder over TLS; and
# --insecure accepts the wrong name (the chain is still checked)
tls_roundtrip() { # NAME BROKER ARGS...
	local name=$1 broker=$2 port
	port=$(broker_port "$2")
	shift 2
	run_bg "$name" mqmon-sub -h localhost -p "$port" "$@" -i "$name" -t "tls/$name" -C 1 -W 15
	subscribed "$name" "tls/$name" "$broker"
	mqmon-pub -h localhost -p "$port" "$@" -q 1 -t "tls/$name" -m "hello $name" || fail "$name: mqmon-pub exited $?"
	wait_bg "$name" 15 || fail "$name: mqmon-sub exited $BG_STATUS: $(cat "$T/$name.err")"
	assert_contains "$T/$name.out" "\"payload\":\"hello $name\""
}
tls_roundtrip rightca tls --cafile "$CA_FILE"
tls_roundtrip insecure wrongname --cafile "$CA_FILE" --insecure
refused "pub --insecure, unknown CA" mqmon-pub -h localhost -p "$wport" --cafile "$T/other.crt" --insecure "${TO[@]}" \
	-t tls/x -m y
run_bg tlsresp mqmon-cmd -h localhost -p "$tport" --cafile "$CA_FILE" -i tlsresp --respond
subscribed tlsresp 'devices/+/command' tls
run_st st mqmon-cmd -h localhost -p "$tport" --cafile "$CA_FILE" -W 10 d1 ping
assert_eq 0 "$st" "cmd over TLS: exit status ($(cat "$T/err"))"
assert_contains "$T/out" '"status":"acked"'
stop_bg tlsresp
broker_stop wrongname
broker_stop tls

# ---------------------------------------------------------------------------
# The password is never printed
broker_start auth --auth
aport=$(broker_port auth)
broker_start --extra "log_type subscribe"
port=$BROKER_PORT
S=Zq9pw7Hk # a password nobody would print by chance
mkdir -p "$T/pw"
n=0
# say CMD...: run CMD, its stdout and stderr kept in $T/pw for the grep
say() {
	n=$((n + 1))
	run_bounded 30 "$@" </dev/null >"$T/pw/$n.out" 2>"$T/pw/$n.err" || :
	printf '%s\n' "$*" >"$T/pw/$n.cmd"
}
printf 'username = mqmon\npassword = %s\nport = %s\n' "$S" "$aport" >"$T/pw.cfg"
chmod 600 "$T/pw.cfg"
for p in sub pub cmd store status; do
	P=mqmon-$p
	MQMON_PASSWORD=$S say $P --help
	MQMON_PASSWORD=$S say $P --no-such-option
	say $P -u u -P "$S" --no-such-option
	say $P --passwd="$S"
	say $P --password="$S" --quiet="$S"
	say $P --debug="$S"
	say $P -P "$S" -p 0
	say $P -u u -P "$S" -h "u:$S@localhost"
	say $P -L "mqtt://u:$S@localhost:99999/a"
	say $P -L "mqtt://u:$S@localhost/a%00b"
	say $P -L "http://u:$S@localhost/"
	say $P -L "mqtt://u:$S@[::1/"
	say $P -L "mqtt://u:Zq9/pw7Hk@localhost/"
	MQMON_USERNAME=u MQMON_PASSWORD=$S MQMON_PORT=0 say $P -d
	say $P --config "$T/pw.cfg" -d --bogus
done
# connecting with -d: libmosquitto's log of the CONNECT and what mqmon
# says, with the right and a wrong password, from every source
W=wrong$S
for src in flags url env config; do
	for pw in "$AUTH_PASS" "$W"; do
		case $src in
		flags) c=(-p "$aport" -u "$AUTH_USER" -P "$pw") ;;
		url) c=(-L "mqtt://$AUTH_USER:$pw@127.0.0.1:$aport") ;;
		env) c=(-p "$aport") ;;
		config)
			printf 'username = %s\npassword = %s\nport = %s\n' "$AUTH_USER" "$pw" "$aport" >"$T/auth.cfg"
			chmod 600 "$T/auth.cfg"
			c=(--config "$T/auth.cfg")
			;;
		esac
		e=()
		[ $src = env ] && e=(MQMON_USERNAME="$AUTH_USER" MQMON_PASSWORD="$pw")
		say env ${e[@]+"${e[@]}"} mqmon-pub -d "${c[@]}" --connect-timeout 3 -q 1 -t pw/x -m hello
		# the others with one source (each waits a second)
		[ $src = flags ] || continue
		say mqmon-sub -d "${c[@]}" --connect-timeout 3 -t pw/x -W 1
		say mqmon-cmd -d "${c[@]}" --connect-timeout 3 -W 1 --retries 0 d1 ping
		say mqmon-status -d "${c[@]}" --connect-timeout 3 -t 'pw/#' -W 1
	done
done
# the run really connected with the right password and was refused with
# the wrong one
[ "$(grep -l "refused: Not authorized" "$T"/pw/*.err | wc -l)" -ge 7 ] || fail "fewer refused logins than runs"
[ "$(grep -l "sending CONNECT" "$T"/pw/*.err | wc -l)" -ge 14 ] || fail "fewer -d logs of a CONNECT than runs"
[ "$(grep -l "^mqmon-[a-z]*: connected to" "$T"/pw/*.err | wc -l)" -ge 7 ] || fail "fewer logins than runs"
leaks=$(grep -l -e "$S" -e "$AUTH_PASS" -e "Zq9/pw7Hk" "$T"/pw/*.out "$T"/pw/*.err || :)
for f in $leaks; do
	note "the password in the output of: $(cat "${f%.*}.cmd")"
	note "$(grep -e "$S" -e "$AUTH_PASS" -e "Zq9/pw7Hk" "$f" | head -n 3)"
done
[ -z "$leaks" ] || fail "a password was printed (see above)"
# and the errors were the right ones, naming what is wrong
assert_contains "$(cat "$T"/pw/*.err)" "unknown option --passwd" "option --quiet takes no value" \
	"option --debug takes no value" "'mqtt://u:***@localhost:99999/a'" "(a NUL character) is not allowed" \
	"is not a host name: give the user and password with -u and -P"

# ---------------------------------------------------------------------------
# A config file with a password that others can read: a warning
cfgwarn() { # MODE CONTENT WANT(yes|no)
	printf '%s\n' "$2" >"$T/mode.cfg"
	chmod "$1" "$T/mode.cfg"
	run_st st mqmon-pub --config "$T/mode.cfg" -t cfg/x -m y
	assert_eq 0 "$st" "a publish with a config file of mode $1 ($(cat "$T/err"))"
	if [ "$3" = yes ]; then
		assert_contains "$T/err" "$T/mode.cfg holds a password and is readable by others; chmod 600 $T/mode.cfg"
	else
		assert_not_contains "$T/err" "readable by others"
	fi
	assert_not_contains "$T/err" "$AUTH_PASS"
}
creds="username = $AUTH_USER
password = $AUTH_PASS
port = $aport"
cfgwarn 644 "$creds" yes
cfgwarn 640 "$creds" yes
cfgwarn 600 "$creds" no
cfgwarn 400 "$creds" no
cfgwarn 644 "url = mqtt://$AUTH_USER:$AUTH_PASS@127.0.0.1:$aport" yes
cfgwarn 644 "[mqmon-pub]
$creds" yes
cfgwarn 644 "port = $port" no
# --quiet silences it, like every warning
chmod 644 "$T/mode.cfg"
printf '%s\n' "$creds" >"$T/mode.cfg"
run_st st mqmon-pub --config "$T/mode.cfg" --quiet -t cfg/x -m y
assert_eq 0 "$st" "exit status with --quiet"
assert_eq "" "$(cat "$T/err")" "stderr with --quiet"

# ---------------------------------------------------------------------------
# Topics built from input never hold '+', '#' or NUL
run_bg spy mqmon-sub -p "$port" -i spy -t '#'
subscribed spy '#'
run_bg resp mqmon-cmd -p "$port" -i resp --respond
subscribed resp 'devices/+/command'
# resp2 answers on a topic built from the command's name
run_bg resp2 mqmon-cmd -p "$port" -i resp2 --respond --cmd-topic 'rq/{device}' --ack-topic 'ak/{device}/{command}'
subscribed resp2 'rq/+'

usage() { # WHAT WANT-IN-STDERR CMD...
	local what=$1 want=$2
	shift 2
	run_st st "$@"
	assert_eq 2 "$st" "$what: exit status ($(cat "$T/err"))"
	assert_contains "$T/err" "$want"
}
usage "cmd device a+b" "contains a wildcard" mqmon-cmd -p "$port" -W 1 'a+b' ping
usage "cmd device #" "contains a wildcard" mqmon-cmd -p "$port" -W 1 '#' ping
usage "cmd device a/b" "contains '/'" mqmon-cmd -p "$port" -W 1 'a/b' ping
usage "cmd command re+" "contains a wildcard" mqmon-cmd -p "$port" -W 1 d1 're+'
usage "cmd device in a template" "contains a wildcard" mqmon-cmd -p "$port" -W 1 --cmd-topic 'x/{device}/c' 'd#' ping
usage "cmd command in a template" "contains a wildcard" mqmon-cmd -p "$port" -W 1 \
	--cmd-topic 'x/{device}/{command}' d1 'p#'
usage "pub -t with +" "wildcard" mqmon-pub -p "$port" -t 'a/+' -m x
usage "pub URL topic %00" "(a NUL character) is not allowed" mqmon-pub -L "mqtt://127.0.0.1:$port/a%00b" -m x
usage "pub URL topic %23" "wildcard" mqmon-pub -L "mqtt://127.0.0.1:$port/a%23" -m x
usage "sub URL filter %00" "(a NUL character) is not allowed" mqmon-sub -L "mqtt://127.0.0.1:$port/a%00b" -W 1

# batch: a device or command with a NUL, '+' or '#' is a bad line
cat >"$T/batch.in" <<'EOF'
{"device":"a\u0000b","command":"ping"}
{"device":"ev+il","command":"ping"}
{"device":"d2","command":"pi#ng"}
{"device":"d3","command":"p\u0000q"}
{"device":"okdev","command":"ping"}
EOF
run_st st mqmon-cmd -p "$port" -W 10 --batch <"$T/batch.in"
assert_eq 65 "$st" "batch with bad lines: exit status ($(cat "$T/err"))"
assert_contains "$T/err" "line 1: the device" "line 2: the device 'ev+il' contains a wildcard" \
	"line 3: the command 'pi#ng' contains a wildcard" "line 4: the command"
assert_eq 2 "$(grep -c "contains a NUL character" "$T/err")" "lines refused for a NUL"
assert_eq 1 "$(jq -s '[.[] | select(.event == "result" and .status == "acked")] | length' "$T/out")" "acked results"
# the batch with the command from the command line and event lines
printf '{"event":"offline","device":"x\\u0000y"}\n{"event":"offline","device":"okdev2"}\n' >"$T/ev.in"
run_st st mqmon-cmd -p "$port" -W 10 --batch ping <"$T/ev.in"
assert_eq 65 "$st" "batch of events with a NUL: exit status ($(cat "$T/err"))"
assert_contains "$T/err" "line 1: the device 'x' contains a NUL character"

# --respond: a command name with a NUL is not answered (its ack would go
# to ak/d1/p); a good one is
mqmon-pub -p "$port" -q 1 -t rq/d1 -m '{"id":"n1","command":"p\u0000q"}' || fail "mqmon-pub exited $?"
mqmon-pub -p "$port" -q 1 -t rq/d1 -m '{"id":"n2","command":"ok"}' || fail "mqmon-pub exited $?"
wait_contains "$T/spy.out" '"topic":"ak/d1/ok"'
assert_contains "$T/resp2.err" "rq/d1: a command name with a NUL character: not answered"

# mqmon-pub envelopes: wildcards and NUL in a topic are bad lines
cat >"$T/env.in" <<'EOF'
{"topic":"e/+/x","payload":"1"}
{"topic":"e/#","payload":"2"}
{"topic":"e/a\u0000b","payload":"3"}
{"topic":"e/+","payload":"4"}
{"topic":"e/good","payload":"5"}
EOF
run_st st mqmon-pub -p "$port" -q 1 --dead-letter "$T/dead.ndjson" <"$T/env.in"
assert_eq 65 "$st" "envelopes with bad topics: exit status ($(cat "$T/err"))"
assert_contains "$T/err" "line 1:" "line 2:" "line 3:" "line 4:" "NUL"
assert_eq 4 "$(count_lines "$T/dead.ndjson")" "dead-letter lines"
wait_contains "$T/spy.out" '"topic":"e/good"'

# what the spy saw: every command went to an intended topic, nothing else
stop_bg spy
jq -r .topic "$T/spy.out" | sort -u >"$T/topics"
grep -v -x -e 'devices/okdev/command' -e 'devices/okdev/response' -e 'devices/okdev2/command' \
	-e 'devices/okdev2/response' -e 'rq/d1' -e 'ak/d1/ok' -e 'e/good' -e 'cfg/x' "$T/topics" >"$T/unexpected" || :
[ ! -s "$T/unexpected" ] || fail "published to unintended topics: $(cat "$T/unexpected")"
assert_contains "$T/topics" "devices/okdev/command" "devices/okdev2/response" "ak/d1/ok"
stop_bg resp
stop_bg resp2

# ---------------------------------------------------------------------------
# SQL: names are data, never SQL text
EVIL="x'); DROP TABLE messages;--"
EVILM="m'); DROP TABLE metrics;--"
DB=$T/sql.db
jq -nc --arg d "$EVIL" --arg m "$EVILM" '
	{ts: "2025-01-28T10:00:00.000Z", topic: "autocore/\($d)/status", qos: 1, retain: false, enc: "json",
	 payload: {status: "online", ip_address: "10.0.0.9"}},
	{ts: "2025-01-28T10:00:10.000Z", topic: "autocore/\($d)/telemetry", qos: 1, retain: false, enc: "json",
	 payload: {temperature: 21.5, ($m): 7}},
	{ts: "2025-01-28T10:00:20.000Z", topic: "autocore/\($d)/telemetry", qos: 1, retain: false, enc: "json",
	 payload: {temperature: 22.5, ($m): 8}},
	{ts: "2025-01-28T10:00:30.000Z", topic: "autocore/ok1/telemetry", qos: 1, retain: false, enc: "json",
	 payload: {temperature: 30}}' >"$T/sql.in"
run_st st mqmon-store --db "$DB" <"$T/sql.in"
assert_eq 0 "$st" "ingest of the hostile names ($(cat "$T/err"))"
run_st st mqmon-store --db "$DB" query --device "$EVIL"
assert_eq 0 "$st" "query --device"
assert_eq 3 "$(jq -s --arg d "$EVIL" '[.[] | select(.topic | startswith("autocore/\($d)/"))] | length' "$T/out")" \
	"messages of the hostile device"
run_st st mqmon-store --db "$DB" query -t "autocore/$EVIL/#"
assert_eq 3 "$(count_lines "$T/out")" "query -t with the hostile name"
run_st st mqmon-store --db "$DB" devices --device "$EVIL"
assert_eq "$EVIL" "$(jq -r .device "$T/out")" "devices --device"
run_st st mqmon-store --db "$DB" metrics --device "$EVIL"
assert_eq "$EVILM
temperature" "$(jq -r .metric "$T/out" | LC_ALL=C sort)" "metrics --device"
run_st st mqmon-store --db "$DB" series --device "$EVIL" --metric "$EVILM"
assert_eq "7 8" "$(jq -r .value "$T/out" | xargs)" "series of the hostile metric"
run_st st mqmon-store --db "$DB" topics -t "autocore/$EVIL/+"
assert_eq 2 "$(count_lines "$T/out")" "topics of the hostile device"
run_st st mqmon-status --db "$DB" -F ndjson
assert_eq 0 "$st" "mqmon-status --db ($(cat "$T/err"))"
assert_eq "ok1
$EVIL" "$(jq -r .device "$T/out" | LC_ALL=C sort)" "mqmon-status --db devices"
run_st st mqmon-status --db "$DB" -F ndjson --metric "$EVILM"
assert_eq 0 "$st" "mqmon-status --db --metric ($(cat "$T/err"))"
# the tables survived, whole
for t in messages topics devices metrics states state_changes rejects; do
	sqlite3 "$DB" "SELECT count(*) FROM $t" >/dev/null 2>&1 || fail "table $t is gone"
done
assert_eq 4 "$(sqlite3 "$DB" 'SELECT count(*) FROM messages')" "messages kept"
assert_eq 2 "$(sqlite3 "$DB" "SELECT count(*) FROM metrics WHERE metric = 'm''); DROP TABLE metrics;--'")" \
	"the hostile metric's rows"
# and the sources: SQL is never assembled from data.  sqlite3_exec runs
# only in store_exec, which gets fixed text; no sqlite3_mprintf; no
# quoted %s inside an SQL string
src=$MQMON_SRCDIR
[ "$(grep -l 'sqlite3_exec *(' "$src"/src/*.c "$src"/bin/*.c)" = "$src/src/store.c" ] ||
	fail "sqlite3_exec called outside store.c"
grep -n 'sqlite3_[a-z]*printf\|sqlite3_get_table' "$src"/src/*.c "$src"/bin/*.c && fail "SQL assembled with printf"
bad=$(grep -n 'store_exec *([^,]*, *[^", ]' "$src"/src/*.c "$src"/bin/*.c |
	grep -v ':bool store_exec(struct store \*s, const char \*sql\|store_exec(s, upgrades\[v\],\|store_exec(s, sql, err, errlen)' || :)
[ -z "$bad" ] || fail "store_exec with a text that is not a literal: $bad"
bad=$(grep -n -E '"[^"]*(SELECT|INSERT|UPDATE|DELETE|WHERE|VALUES)[^"]*'\''%' "$src"/src/*.c || :)
[ -z "$bad" ] || fail "a quoted %s in SQL: $bad"

# ---------------------------------------------------------------------------
# File modes under umask 000: never world-writable
M=$T/modes
mkdir "$M"
mkfifo "$M/fifo"
printf 'not an envelope\n' >"$M/bad.in"
printf 'help\nquit\n' >"$M/repl.in"
mode() { stat -c %a "$1"; }
umask 000
# the database, with its -wal and -shm while it is open
exec 3<>"$M/fifo"
run_bg --stdin "$M/fifo" modestore mqmon-store --db "$M/m.db" --flush-ms 10 3>&-
head -n 1 "$T/sql.in" >&3
wait_until 10 test -e "$M/m.db-shm" || fail "no -shm file"
# shellcheck disable=SC2016 # $1 is sh's
wait_until 10 sh -c 'test "$(sqlite3 "$1" "SELECT count(*) FROM messages" 2>/dev/null)" = 1' - "$M/m.db" ||
	fail "the line was not committed"
assert_eq 644 "$(mode "$M/m.db")" "mode of the database"
assert_eq 644 "$(mode "$M/m.db-wal")" "mode of the -wal file"
assert_eq 644 "$(mode "$M/m.db-shm")" "mode of the -shm file"
exec 3>&-
wait_bg modestore 15 || fail "mqmon-store exited $BG_STATUS"
# --prom
run_st st mqmon-status --db "$M/m.db" --prom "$M/fleet.prom" -F ndjson
assert_eq 0 "$st" "mqmon-status --prom ($(cat "$T/err"))"
assert_eq 644 "$(mode "$M/fleet.prom")" "mode of the --prom file"
# --dead-letter
run_st st mqmon-pub -p "$port" --dead-letter "$M/dead.ndjson" <"$M/bad.in"
assert_eq 65 "$st" "mqmon-pub with a bad line"
assert_eq 644 "$(mode "$M/dead.ndjson")" "mode of the dead-letter file"
# the shell's history, and its directories
run_st st env XDG_STATE_HOME="$M/state" mqmon-cmd -p "$port" -I <"$M/repl.in"
assert_eq 0 "$st" "the shell on a pipe ($(cat "$T/err"))"
assert_eq 600 "$(mode "$M/state/mqmon/history")" "mode of the history"
assert_eq "700 700" "$(mode "$M/state") $(mode "$M/state/mqmon")" "modes of the history's directories"
umask 022
# nothing at all that others may write
ww=$(find "$M" -perm -0002 ! -type p)
[ -z "$ww" ] || fail "world-writable: $ww"
