# shellcheck shell=bash
# shellcheck disable=SC2034 # globals set here are read by the sourcing scripts
# bench/lib.sh — shared by bench/sub.sh, bench/pub.sh and bench/store.sh.
# Source it, then call bench_init (bench_setup if no broker is needed).
# Needs only bash (>= 5, for $EPOCHREALTIME), coreutils, awk, grep and
# mosquitto (store.sh: sqlite3 instead); no GNU time, no python.
#
#   bench_setup              temp dir $BENCH_TMP, traps
#   bench_init               bench_setup, then the MQTT binaries and the broker
#   bench_mqmon_bin NAME     the path of mqmon program NAME ($MQMON_BIN,
#                            else ../build/plain/bin, else PATH), or ""
#   broker_start             a private mosquitto on a free loopback port
#                            ($BENCH_PORT, log $BENCH_LOG), stopped by PID
#                            on exit; broker_cpu: its CPU seconds so far
#   gen_telemetry N FILE     N AutoCore telemetry bodies (~100 bytes, "seq")
#   gen_envelopes IN OUT TOPIC QOS   the same bodies as mqmon envelopes
#   measure LIMIT IN OUT ERR CMD...  run CMD once; sets M_WALL (s), M_CPU (s,
#                            user+sys of CMD), M_RC, M_BROKER_CPU (s,
#                            the broker's CPU meanwhile)
#   spawn VAR LIMIT IN OUT ERR CMD...  start CMD in the background under
#                            `timeout`, its PID in VAR
#   run LIMIT IN OUT ERR CMD...  the same, waited for; returns its status
#   wait_bounded PID SECS    wait for PID, TERM then KILL it after SECS
#   wait_quiet PID FILE IDLE MAX  wait for PID; stop it once FILE has not
#                            grown for IDLE s, or after MAX s
#   wait_subscribed ID QOS FILTER [SECS]
#                            wait until the broker logs that client ID
#                            subscribed to FILTER
#   count_seq FILE           "LINES DISTINCT" — lines and distinct "seq"s
#   gen_fleet N FILE STATS   N AutoCore envelopes: telemetry, status, relays
#                            (store.sh), and what their archive must hold
#   median V1 V2 ...         the median
#   ratio A B                A/B with 2 decimals
#   bench_note TEXT          to stderr
#
# Every wait is bounded; every process started is recorded and stopped by
# PID on exit (also on Ctrl-C / SIGTERM).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TMP=
BENCH_PORT=
BENCH_BROKER_PID=
BENCH_PROTO=()          # e.g. (-V 5) given by -V, passed to every client
BENCH_KEEP=0            # -k: keep the temp dir
BENCH_KEEP_ON_ERROR=1   # keep it also when the script fails (status 1)
bench_pids=()           # PIDs to stop on exit; -PID: a process group

bench_note() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
bench_die() {
	bench_note "error: $*"
	exit 1
}

_bench_cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM HUP
	# the client that measure() was timing, if interrupted meanwhile
	if [[ -n $BENCH_TMP && -s $BENCH_TMP/measure.pid ]]; then
		bench_pids+=("-$(<"$BENCH_TMP/measure.pid")")
	fi
	for pid in "${bench_pids[@]}" $BENCH_BROKER_PID; do
		kill -TERM -- "$pid" 2>/dev/null || true
	done
	# bounded: 3 s for everyone to go, then KILL
	for ((i = 0; i < 150; i++)); do
		local alive=0
		for pid in "${bench_pids[@]}" $BENCH_BROKER_PID; do
			if kill -0 -- "$pid" 2>/dev/null; then
				alive=1
			fi
		done
		((alive)) || break
		sleep 0.02
	done
	for pid in "${bench_pids[@]}" $BENCH_BROKER_PID; do
		kill -KILL -- "$pid" 2>/dev/null || true
	done
	if [[ -n $BENCH_TMP && -d $BENCH_TMP ]]; then
		if ((BENCH_KEEP || (rc == 1 && BENCH_KEEP_ON_ERROR))); then
			bench_note "files kept in $BENCH_TMP"
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
	exit "$rc"
}

bench_setup() {
	if [[ -z ${EPOCHREALTIME:-} ]]; then
		bench_die "bash 5 or later is needed (\$EPOCHREALTIME)"
	fi
	export LC_ALL=C
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/mqmon-bench.XXXXXX")
	trap _bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

bench_init() {
	bench_setup
	bench_find_bins
	broker_start
}

# --- binaries -------------------------------------------------------------

MQMON_SUB=
MQMON_PUB=
MOSQ_SUB=
MOSQ_PUB=
MOSQUITTO=

# bench_mqmon_bin NAME — $MQMON_BIN/NAME if MQMON_BIN is set, else NAME in
# ../build/plain/bin next to this directory, else on PATH; "" if none
bench_mqmon_bin() {
	if [[ -n ${MQMON_BIN:-} ]]; then
		echo "$MQMON_BIN/$1"
	elif [[ -x $BENCH_DIR/../build/plain/bin/$1 ]]; then
		echo "$(cd "$BENCH_DIR/../build/plain/bin" && pwd)/$1"
	else
		command -v "$1" || true
	fi
}

bench_find_bins() {
	local d
	MQMON_SUB=$(bench_mqmon_bin mqmon-sub)
	MQMON_PUB=$(bench_mqmon_bin mqmon-pub)
	[[ -x $MQMON_SUB && -x $MQMON_PUB ]] ||
		bench_die "mqmon-sub/mqmon-pub not found (set MQMON_BIN=DIR, build into build/plain, or put them on PATH)"
	MOSQ_SUB=$(command -v mosquitto_sub || true)
	MOSQ_PUB=$(command -v mosquitto_pub || true)
	[[ -n $MOSQ_SUB && -n $MOSQ_PUB ]] || bench_die "mosquitto_sub/mosquitto_pub not found (apt-get install mosquitto-clients)"
	MOSQUITTO=$(command -v mosquitto || true)
	for d in /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
		[[ -z $MOSQUITTO && -x $d ]] && MOSQUITTO=$d
	done
	[[ -n $MOSQUITTO ]] || bench_die "mosquitto not found (apt-get install mosquitto)"
	command -v timeout >/dev/null || bench_die "timeout (coreutils) not found"
}

# --- processes --------------------------------------------------------------

# spawn VAR LIMIT IN OUT ERR CMD... — CMD in the background, killed after
# LIMIT seconds (timeout(1) runs it in its own process group, so a terminal
# Ctrl-C reaches it only through our trap, which TERMs that group).
spawn() {
	local -n _pidvar=$1
	local limit=$2 in=$3 out=$4 err=$5
	shift 5
	timeout -k 2 "$limit" "$@" <"$in" >"$out" 2>"$err" &
	_pidvar=$!
	bench_pids+=("-$_pidvar")
}

# _forget PID — PID (or its group) has been reaped: never signal it again
_forget() {
	local p keep=()
	for p in "${bench_pids[@]}"; do
		[[ $p == "$1" || $p == "-$1" ]] || keep+=("$p")
	done
	bench_pids=("${keep[@]}")
}

# _stop_group PID — TERM the process group of spawn()ed PID (timeout and the
# command), KILL it after 3 s
_stop_group() {
	local i
	kill -TERM -- "-$1" 2>/dev/null || true
	for ((i = 0; i < 150; i++)); do
		kill -0 -- "-$1" 2>/dev/null || return 0
		sleep 0.02
	done
	kill -KILL -- "-$1" 2>/dev/null || true
}

# wait_bounded PID SECS — 0 and the exit status in WAIT_RC if PID ended in
# time, else TERM (then KILL) it and return 1.
WAIT_RC=0
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }

wait_bounded() {
	local pid=$1 secs=$2 t_end
	t_end=$(($(now_us) + secs * 1000000))
	while kill -0 "$pid" 2>/dev/null; do
		if (($(now_us) > t_end)); then
			_stop_group "$pid"
			wait "$pid" 2>/dev/null || true
			_forget "$pid"
			WAIT_RC=124
			return 1
		fi
		sleep 0.01
	done
	WAIT_RC=0
	wait "$pid" || WAIT_RC=$?
	_forget "$pid"
	return 0
}

# measure LIMIT IN OUT ERR CMD... — run CMD with stdin IN, stdout OUT, stderr
# ERR, at most LIMIT seconds.  Sets M_WALL and M_CPU (seconds, CPU = user +
# sys of CMD as reported by the kernel for the waited-for child, via bash's
# `times` in a subshell that has no other children) and M_RC.
M_WALL=0
M_CPU=0
M_RC=0
M_BROKER_CPU=0
M_RSS_KB=0
measure() {
	local limit=$1 in=$2 out=$3 err=$4
	shift 4
	local pidfile=$BENCH_TMP/measure.pid resfile=$BENCH_TMP/measure.res sub b0 b1
	local rssfile=$BENCH_TMP/measure.rss rec=${BENCH_RECORD:-}
	[[ -n $rec && -x ${BENCH_GNU_TIME:=/usr/bin/time} ]] || rec=
	: >"$rssfile"
	b0=$(broker_cpu)
	: >"$pidfile"
	: >"$resfile"
	# in the background, so that our traps run at once on a signal
	(
		trap - EXIT
		trap '' INT # our trap stops the command by PID
		t0=$EPOCHREALTIME
		if [[ -n $rec ]]; then # GNU time for the peak RSS (its own CPU: ~1 ms)
			timeout -k 2 "$limit" "$BENCH_GNU_TIME" -q -f %M -o "$rssfile" "$@" <"$in" >"$out" 2>"$err" &
		else
			timeout -k 2 "$limit" "$@" <"$in" >"$out" 2>"$err" &
		fi
		_m_pid=$!
		echo "$_m_pid" >"$pidfile"
		_m_rc=0
		wait "$_m_pid" || _m_rc=$?
		t1=$EPOCHREALTIME
		echo "$t0 $t1 $_m_rc"
		times
	) >"$resfile" &
	sub=$!
	bench_pids+=("$sub")
	wait "$sub" || true
	_forget "$sub"
	b1=$(broker_cpu)
	M_BROKER_CPU=$(awk -v a="$b0" -v b="$b1" 'BEGIN { printf "%.6f", b - a }')
	: >"$pidfile"
	# measure.res: "t0 t1 rc" / "0m0.001s 0m0.000s" (the subshell itself) /
	# "0mU.UUUs 0mS.SSSs" (its waited-for children: timeout and CMD)
	read -r M_WALL M_CPU M_RC < <(awk '
		function sec(s,   m) { sub(/s$/, "", s); m = s; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", s); return m * 60 + s }
		NR == 1 { wall = $2 - $1; rc = $3 }
		NR == 3 { cpu = sec($1) + sec($2) }
		END { if (NR < 3) rc = 255; printf "%.6f %.6f %d\n", wall, cpu, rc }' "$resfile")
	# BENCH_RECORD=FILE (bench/run): one TSV line per measurement: script,
	# wall s, CPU s, broker CPU s, status, peak RSS kB, stdin, command
	M_RSS_KB=$(tail -n 1 "$rssfile" 2>/dev/null)
	[[ $M_RSS_KB =~ ^[0-9]+$ ]] || M_RSS_KB=0
	if [[ -n ${BENCH_RECORD:-} ]]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${0##*/}" "$M_WALL" "$M_CPU" "$M_BROKER_CPU" "$M_RC" \
			"$M_RSS_KB" "${in##*/}" "$*" >>"$BENCH_RECORD"
	fi
}

# run LIMIT IN OUT ERR CMD... — run CMD (not measured) and wait for it;
# its exit status is returned.
run() {
	local pid rc=0
	spawn pid "$@"
	wait "$pid" || rc=$?
	_forget "$pid"
	return "$rc"
}

# wait_quiet PID FILE IDLE MAX — wait for PID to end; give up (TERM it) when
# FILE has not grown for IDLE seconds or after MAX seconds in all.  0 if PID
# ended by itself (status in WAIT_RC), 1 if it was stopped.
wait_quiet() {
	local pid=$1 file=$2 idle=$3 max=$4 t_end size last_size=-1 last_change
	t_end=$(($(now_us) + max * 1000000))
	last_change=$(now_us)
	while kill -0 "$pid" 2>/dev/null; do
		size=$(stat -c %s "$file" 2>/dev/null || echo 0)
		if ((size != last_size)); then
			last_size=$size
			last_change=$(now_us)
		fi
		if (($(now_us) > t_end || $(now_us) - last_change > idle * 1000000)); then
			_stop_group "$pid"
			wait "$pid" 2>/dev/null || true
			_forget "$pid"
			WAIT_RC=124
			return 1
		fi
		sleep 0.02
	done
	WAIT_RC=0
	wait "$pid" || WAIT_RC=$?
	_forget "$pid"
	return 0
}

# --- broker -----------------------------------------------------------------

# A port nothing listens on: random in 20000..60999, bind-tested by starting
# the broker on it (mosquitto exits when the bind fails; then the next one).
_bench_random_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 41000)); }

_bench_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# bench_broker DIRNAME [CONFIG-LINE...] — a private mosquitto in
# $BENCH_TMP/DIRNAME on a free loopback port, with the settings every
# benchmark needs plus the lines given; sets STARTED_PORT, STARTED_PID and
# STARTED_LOG (the log file).  The caller records the PID for cleanup.
STARTED_PORT='' STARTED_PID='' STARTED_LOG=''
bench_broker() {
	local dir=$BENCH_TMP/$1 attempt port i
	shift
	mkdir -p "$dir"
	STARTED_LOG=$dir/mosquitto.log
	for ((attempt = 0; attempt < 20; attempt++)); do
		port=$(_bench_random_port)
		_bench_port_open "$port" && continue # in use
		{
			cat <<-EOF
				listener $port 127.0.0.1
				allow_anonymous true
				user $(id -un)
				persistence false
				max_queued_messages 0
				max_queued_bytes 0
				max_inflight_messages 0
				queue_qos0_messages true
				log_dest file $STARTED_LOG
				log_type error
				log_type warning
				log_type notice
				log_type information
				log_type subscribe
			EOF
			(($#)) && printf '%s\n' "$@"
		} >"$dir/mosquitto.conf"
		: >"$STARTED_LOG"
		"$MOSQUITTO" -c "$dir/mosquitto.conf" >"$dir/stdout" 2>&1 </dev/null &
		STARTED_PID=$!
		for ((i = 0; i < 250; i++)); do # 5 s
			kill -0 "$STARTED_PID" 2>/dev/null || break
			if _bench_port_open "$port"; then
				STARTED_PORT=$port
				return 0
			fi
			sleep 0.02
		done
		kill -TERM "$STARTED_PID" 2>/dev/null || true
		wait "$STARTED_PID" 2>/dev/null || true
		STARTED_PID=
	done
	cat "$dir/stdout" "$STARTED_LOG" >&2 2>/dev/null || true
	bench_die "could not start mosquitto on a free port"
}

BENCH_LOG=
broker_start() {
	bench_broker broker
	BENCH_PORT=$STARTED_PORT
	BENCH_BROKER_PID=$STARTED_PID
	BENCH_LOG=$STARTED_LOG
}

# broker_cpu — the broker's user+sys so far, seconds (Linux /proc)
BENCH_CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
broker_cpu() {
	local stat
	if [[ -z $BENCH_BROKER_PID ]]; then
		echo 0
		return
	fi
	stat=$(cat "/proc/$BENCH_BROKER_PID/stat" 2>/dev/null) || {
		echo 0
		return
	}
	# fields after "(comm)": state is $1, utime $12, stime $13
	awk -v hz="$BENCH_CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.6f\n", ($12 + $13) / hz }' <<<"$stat"
}

broker_alive() { [[ -n $BENCH_BROKER_PID ]] && kill -0 "$BENCH_BROKER_PID" 2>/dev/null; }

# wait_subscribed ID QOS FILTER [SECS] — the broker logs "ID QOS FILTER" when
# it has added the subscription.
wait_subscribed() {
	local id=$1 qos=$2 filter=$3 secs=${4:-10} i
	for ((i = 0; i < secs * 100; i++)); do
		grep -qF -- " $id $qos $filter" "$BENCH_LOG" && return 0
		broker_alive || bench_die "the broker died (log: $BENCH_LOG)"
		sleep 0.01
	done
	return 1
}

# --- data -------------------------------------------------------------------

# gen_telemetry N FILE — AutoCore telemetry bodies (FLEETS.md), ~100 bytes,
# 50 devices, a "seq" 1..N so counts and duplicates can be checked.
gen_telemetry() {
	awk -v n="$1" 'BEGIN {
		srand(42)
		for (i = 1; i <= n; i++)
			printf "{\"device_id\":\"ESP32_%03d\",\"seq\":%d,\"temperature\":%.1f,\"humidity\":%.1f,\"voltage\":%.2f,\"memory_free\":%d}\n",
				(i - 1) % 50 + 1, i, 18 + rand() * 15, 30 + rand() * 40, 3.1 + rand() * 0.3, 40000 + int(rand() * 10000)
	}' >"$2"
}

# gen_envelopes IN OUT TOPIC QOS
gen_envelopes() {
	awk -v t="$3" -v q="$4" '{ printf "{\"topic\":\"%s\",\"qos\":%d,\"payload\":%s}\n", t, q, $0 }' "$1" >"$2"
}

# count_seq FILE — "LINES DISTINCT": lines, and distinct "seq" numbers
# (also inside an escaped JSON string, as mosquitto_sub -F %j writes it).
count_seq() {
	awk '{
		if (match($0, /seq\\?":[0-9]+/)) {
			s = substr($0, RSTART, RLENGTH); sub(/.*:/, "", s)
			if (!(s in seen)) { seen[s] = 1; d++ }
		}
	} END { printf "%d %d\n", NR, d }' "$1"
}

# awk functions for the generators: ymd(DAYS), days since 1970-01-01 as
# "YYYY-MM-DD" (H. Hinnant, civil_from_days), and stamp(MS, WITH_MS), ms
# since the epoch as RFC 3339 UTC (globals cday, cdate cache the day)
IFS= read -r -d '' BENCH_AWK_STAMP <<'EOF' || true
	# days since 1970-01-01 -> "YYYY-MM-DD" (H. Hinnant, civil_from_days)
	function ymd(z,   era, doe, yoe, doy, mp, d, m) {
		z += 719468
		era = int(z / 146097)
		doe = z - era * 146097
		yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
		doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
		mp = int((5 * doy + 2) / 153)
		d = doy - int((153 * mp + 2) / 5) + 1
		m = mp < 10 ? mp + 3 : mp - 9
		return sprintf("%04d-%02d-%02d", yoe + era * 400 + (m <= 2), m, d)
	}
	# ms since the epoch -> RFC 3339 UTC, with or without milliseconds
	function stamp(ms, with_ms,   s, day) {
		s = int(ms / 1000)
		day = int(s / 86400)
		s -= day * 86400
		if (day != cday) {
			cday = day
			cdate = ymd(day)
		}
		if (with_ms)
			return sprintf("%sT%02d:%02d:%02d.%03dZ", cdate, int(s / 3600), int(s / 60) % 60, s % 60, ms % 1000)
		return sprintf("%sT%02d:%02d:%02dZ", cdate, int(s / 3600), int(s / 60) % 60, s % 60)
	}
EOF

# gen_fleet N FILE STATS — N AutoCore envelopes (FLEETS.md shapes, as
# mqmon-sub writes them) from 100 devices ESP32_001..ESP32_100, chosen at
# random (fixed seed): 90 % telemetry (autocore/D/telemetry, 4 numeric
# fields), 5 % status (autocore/D/status, retained, online/offline, ip,
# firmware), 5 % relay changes (autocore/D/relay/I/status, I in 0..3,
# state true/false); "ts" increases by 1-9 ms from 2025-01-28T10:00:00Z.
# STATS gets "NAME VALUE" lines: what a correct archive of FILE holds
# (lines, telemetry, status, relay, devices, topics, states, state_changes,
# payload_bytes, first_ts, last_ts).
gen_fleet() {
	awk -v n="$1" -v stats="$3" "$BENCH_AWK_STAMP"'
	BEGIN {
		srand(42)
		cday = -1
		t = 1738058400000 # 2025-01-28T10:00:00.000Z
		for (i = 1; i <= n; i++) {
			t += 1 + int(rand() * 9)
			ts = stamp(t, 1)
			d = 1 + int(rand() * 100)
			dev = sprintf("ESP32_%03d", d)
			k = rand()
			if (k < 0.90) {
				kind = "telemetry"
				topic = "autocore/" dev "/telemetry"
				retain = "false"
				body = sprintf("{\"device_id\":\"%s\",\"temperature\":%.1f,\"humidity\":%.1f,\"voltage\":%.2f,\"memory_free\":%d,\"timestamp\":\"%s\"}",
					dev, 18 + rand() * 15, 30 + rand() * 40, 3.1 + rand() * 0.3, 40000 + int(rand() * 10000), stamp(t, 0))
			} else if (k < 0.95) {
				kind = "status"
				topic = "autocore/" dev "/status"
				retain = "true"
				body = sprintf("{\"device_id\":\"%s\",\"status\":\"%s\",\"ip_address\":\"192.168.1.%d\",\"firmware_version\":\"1.2.%d\",\"uptime\":%d,\"timestamp\":\"%s\"}",
					dev, rand() < 0.8 ? "online" : "offline", 100 + d, int(rand() * 3), int(rand() * 86400), stamp(t, 0))
			} else {
				kind = "relay"
				r = int(rand() * 4)
				st = rand() < 0.5 ? "true" : "false"
				topic = "autocore/" dev "/relay/" r "/status"
				retain = "false"
				body = sprintf("{\"device_id\":\"%s\",\"relay_index\":%d,\"state\":%s,\"triggered_by\":\"%s\",\"timestamp\":\"%s\"}",
					dev, r, st, rand() < 0.7 ? "manual" : "schedule", stamp(t, 0))
				# a state change is recorded when the value differs
				# from the last one (the first one always)
				if (!((dev, r) in state)) {
					state[dev, r] = ""
					states++
				}
				if (state[dev, r] != st) {
					state[dev, r] = st
					changes++
				}
			}
			printf "{\"ts\":\"%s\",\"topic\":\"%s\",\"qos\":1,\"retain\":%s,\"enc\":\"json\",\"payload\":%s}\n",
				ts, topic, retain, body
			count[kind]++
			if (!(dev in devs)) {
				devs[dev] = 1
				ndev++
			}
			if (!(topic in topics)) {
				topics[topic] = 1
				ntopics++
			}
			bytes += length(body)
			if (i == 1)
				first = ts
		}
		printf "lines %d\ntelemetry %d\nstatus %d\nrelay %d\ndevices %d\ntopics %d\nstates %d\nstate_changes %d\npayload_bytes %d\nfirst_ts %s\nlast_ts %s\n",
			n, count["telemetry"], count["status"], count["relay"], ndev, ntopics, states, changes, bytes, first, ts >stats
	}' >"$2"
}

# --- numbers ----------------------------------------------------------------

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
		else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f\n", a / b; else print "n/a" }'; }

# verdict RATIO OP TARGET — "ok" or "BELOW TARGET"/"ABOVE TARGET"
verdict() {
	awk -v r="$1" -v op="$2" -v t="$3" 'BEGIN {
		if (r == "n/a") { print "n/a"; exit }
		if (op == ">=") print (r + 0 >= t ? "ok" : "BELOW TARGET")
		else print (r + 0 <= t ? "ok" : "ABOVE TARGET (worse)")
	}'
}

bench_header() {
	local what=$1
	printf '%s — %s, %s, %s cores, mosquitto %s, port %s\n' "$what" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		"$(uname -m)" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')" \
		"$("$MOSQUITTO" -h 2>/dev/null | awk 'NR == 1 { print $3 }')" "$BENCH_PORT"
	printf 'mqmon: %s\n' "${MQMON_SUB%/*}"
}

# bench_usage SCRIPT: print the comment block at the top of SCRIPT, exit 2.
bench_usage() {
	awk 'NR > 1 && /^#/ && !/shellcheck/ { sub(/^# ?/, ""); print } /^set /{ exit }' "$1" >&2
	exit 2
}
