#!/usr/bin/env bash
# Connections over every kind of listener (src/conn.c, src/opt.c): plain,
# TLS with certificates made at test time, and user/password, with settings
# from flags, the environment, a config file and an mqtt:// URL; the exit
# statuses of refusals and unreachable brokers; and a reconnect after the
# broker is killed with SIGKILL and restarted.
. "${srcdir:-.}/tests/lib.sh"

# roundtrip NAME CONN-ARGS... : a message from mqmon-pub reaches mqmon-sub
roundtrip() {
	local name=$1
	shift
	run_bg "$name" mqmon-sub "$@" -t "rt/$name" -C 1 -W 10 --events
	wait_contains "$T/$name.out" '"event":"connected"'
	mqmon-pub "$@" -t "rt/$name" -m "hello $name" -q 1 || fail "$name: mqmon-pub exited $?"
	wait_bg "$name" 10 || fail "$name: mqmon-sub exited $BG_STATUS: $(cat "$T/$name.err")"
	assert_contains "$T/$name.out" "\"payload\":\"hello $name\""
}

# --- plain
broker_start plain
port=$(broker_port plain)
roundtrip plain -p "$port"
roundtrip url -L "mqtt://127.0.0.1:$port"
roundtrip v311 -V 311 -p "$port"
roundtrip v31 -V 31 -p "$port"
assert_contains "$(broker_log plain)" "as mqmon-sub-" "(p1, c1" "(p2, c1" "(p5, c1"
MQMON_PORT=$port roundtrip env_port
# MQMON_* beats MQTT_BROKER_*, the command line beats both
MQTT_BROKER_PORT=1 MQMON_PORT=$port roundtrip env_precedence
MQMON_PORT=1 roundtrip flag_beats_env -p "$port"
printf '# test config\nport = 1\n[mqmon-sub]\nport = %s\n[mqmon-pub]\nport = %s\n' "$port" "$port" >"$T/cfg"
roundtrip config --config "$T/cfg"
MQMON_CONFIG=$T/cfg roundtrip config_env
MQMON_PORT=$port roundtrip env_beats_file --config <(printf 'port = 1\n')

# --- TLS: hostname verification is on, by name and by IP address
broker_start tls --tls
tport=$(broker_port tls)
roundtrip tls_name -h localhost -p "$tport" --cafile "$CA_FILE"
roundtrip tls_ip -h 127.0.0.1 -p "$tport" --cafile "$CA_FILE"
roundtrip tls_client_cert -h localhost -p "$tport" --cafile "$CA_FILE" --cert "$CLIENT_CERT" --key "$CLIENT_KEY"
roundtrip tls_url -L "mqtts://localhost:$tport" --cafile "$CA_FILE"
# a CA that did not sign the server's certificate is refused, status 1
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout "$T/other.key" \
	-out "$T/other.crt" 2>/dev/null || hard_error "openssl failed"
st=0
run_bounded 20 mqmon-pub -h localhost -p "$tport" --cafile "$T/other.crt" --connect-timeout 1 \
	-t x -m y 2>"$T/badca.err" || st=$?
assert_eq 1 "$st" "exit status with an untrusted certificate"
assert_contains "$T/badca.err" "cannot connect to localhost:$tport" "certificate verify failed"
# --capath: a hashed directory of CA certificates
mkdir -p "$T/capath"
cp "$CA_FILE" "$T/capath/"
openssl rehash "$T/capath" 2>/dev/null || c_rehash "$T/capath" >/dev/null 2>&1 || hard_error "cannot hash $T/capath"
roundtrip tls_capath -h localhost -p "$tport" --capath "$T/capath"
roundtrip tls_v12 -h localhost -p "$tport" --cafile "$CA_FILE" --tls-version tlsv1.2
# hostname verification is on by default: a certificate for another name
# is refused, and accepted only with --insecure
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$T/wrong.key" \
	-out "$T/wrong.csr" -subj /CN=wrong.example 2>/dev/null &&
	openssl x509 -req -in "$T/wrong.csr" -CA "$CA_FILE" -CAkey "${CA_FILE%.crt}.key" -set_serial 4242 \
		-days 1 -out "$T/wrong.crt" 2>/dev/null || hard_error "cannot make the wrong-name certificate"
broker_start wrongname --extra "cafile $CA_FILE" --extra "certfile $T/wrong.crt" --extra "keyfile $T/wrong.key"
wport=$(broker_port wrongname)
st=0
run_bounded 20 mqmon-pub -h localhost -p "$wport" --cafile "$CA_FILE" --connect-timeout 1 -t x -m y \
	2>"$T/wrongname.err" || st=$?
assert_eq 1 "$st" "exit status with a certificate for another host name"
assert_contains "$T/wrongname.err" "cannot connect to localhost:$wport: host name verification failed"
roundtrip tls_insecure -h localhost -p "$wport" --cafile "$CA_FILE" --insecure
# TLS to a plain listener fails too, not hangs
st=0
run_bounded 20 mqmon-pub -p "$port" --cafile "$CA_FILE" --connect-timeout 1 -t x -m y 2>"$T/tlsplain.err" || st=$?
assert_eq 1 "$st" "exit status of TLS against a plain listener"

# --- user and password
broker_start auth --auth
aport=$(broker_port auth)
roundtrip auth_flags -p "$aport" -u "$AUTH_USER" -P "$AUTH_PASS"
MQMON_USERNAME=$AUTH_USER MQMON_PASSWORD=$AUTH_PASS roundtrip auth_env -p "$aport"
MQTT_USERNAME=$AUTH_USER MQTT_PASSWORD=$AUTH_PASS roundtrip auth_legacy_env -p "$aport"
roundtrip auth_url -L "mqtt://$AUTH_USER:$AUTH_PASS@127.0.0.1:$aport"
# a wrong password is refused at once (no retries) with status 1
st=0
run_bounded 20 mqmon-pub -p "$aport" -u "$AUTH_USER" -P wrong -t x -m y 2>"$T/badpw.err" || st=$?
assert_eq 1 "$st" "exit status with a wrong password"
assert_contains "$T/badpw.err" "connection to localhost:$aport refused" "Not authorized"
assert_not_contains "$T/badpw.err" "retrying" "wrong"
st=0
run_bounded 20 mqmon-sub -p "$aport" -t x 2>"$T/anon.err" || st=$?
assert_eq 1 "$st" "exit status without credentials"
# the password never appears in what the programs print
assert_not_contains "$T/badpw.err" "wrong"

# --- usage errors are status 2
st=0
mqmon-sub --no-such-option 2>"$T/usage.err" || st=$?
assert_eq 2 "$st" "exit status of an unknown option"
assert_contains "$T/usage.err" "Try 'mqmon-sub --help'"
st=0
mqmon-sub -t x -p 99999 2>/dev/null || st=$?
assert_eq 2 "$st" "exit status of a bad port"
st=0
MQMON_PORT=nope mqmon-sub -t x 2>"$T/envbad.err" || st=$?
assert_eq 2 "$st" "exit status of a bad MQMON_PORT"
assert_contains "$T/envbad.err" "MQMON_PORT"
printf 'host = localhost\nbogus-key = 1\n' >"$T/bad.cfg"
st=0
mqmon-sub --config "$T/bad.cfg" -t x 2>"$T/cfgbad.err" || st=$?
assert_eq 2 "$st" "exit status of an unknown config key"
assert_contains "$T/cfgbad.err" "$T/bad.cfg:2:" "bogus-key"

# --- nobody listening: status 1 once --connect-timeout has passed
dead=$(freeport)
st=0
run_bounded 20 mqmon-sub -p "$dead" -t x --connect-timeout 1 --reconnect-delay 0.2 2>"$T/dead.err" || st=$?
assert_eq 1 "$st" "exit status with no broker"
assert_contains "$T/dead.err" "cannot connect to localhost:$dead" "retrying in"
st=0
run_bounded 20 mqmon-sub -p "$dead" -t x --no-reconnect 2>"$T/norec.err" || st=$?
assert_eq 1 "$st" "exit status with no broker and --no-reconnect"
assert_not_contains "$T/norec.err" "retrying"

# --- SIGKILL and restart: the client reconnects by itself
broker_start crash --persist
cport=$(broker_port crash)
run_bg crashsub mqmon-sub -p "$cport" -c -i crashsub -q 1 -t 'crash/#' --reconnect-delay 0.1:0.5 --events
wait_contains "$T/crashsub.out" '"event":"connected"'
mqmon-pub -p "$cport" -t crash/1 -m one -q 1
wait_contains "$T/crashsub.out" '"payload":"one"'
broker_kill9 crash
wait_contains "$T/crashsub.err" "connection lost"
wait_contains "$T/crashsub.out" '"event":"disconnected"'
broker_restart crash
wait_contains "$T/crashsub.err" "connected to localhost:$cport"
mqmon-pub -p "$cport" -t crash/2 -m two -q 1
wait_contains "$T/crashsub.out" '"payload":"two"'
stop_bg crashsub TERM
assert_eq 0 "$BG_STATUS" "mqmon-sub exit status on SIGTERM"
