#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/status.sh [-r R] [-k] [-v] [N] [D] — mqmon-status at fleet scale:
# N envelopes from D simulated devices (half AutoCore, half Battery Hawk)
# read from a file by mqmon-status in live mode with two --alert rules and
# --zscore 4, against `jq -c . < FILE > /dev/null` on the same file (the
# floor any JSON-reading filter pays); envelopes per second and peak RSS,
# R runs (median), interleaved.  A fleet a tenth the size (N/10 envelopes
# from D/10 devices: the same envelopes per device) shows how the memory
# grows with the device count.
#
#   N        envelopes (1000000)
#   D        devices (100000)
#   -r R     repetitions, the median is reported (3)
#   -k       keep the temp dir (inputs, outputs)
#   -v       print every measurement (stderr)
#
# Environment: MQMON_BIN=DIR with mqmon-status (default ../build/plain/bin,
# then PATH); jq from PATH.  Exit 1 if a run failed or mqmon-status's
# events are not exactly the ones the generator predicts.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { bench_usage "$0"; }

R=3
VERBOSE=0
while getopts 'r:kvh' o; do
	case $o in
	r) R=$OPTARG ;;
	k) BENCH_KEEP=1 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
N=${1:-1000000}
D=${2:-100000}
(($# <= 2)) || usage
[[ $N =~ ^[1-9][0-9]*$ && $D =~ ^[1-9][0-9]*$ && $R =~ ^[1-9][0-9]*$ ]] || usage
if ((D < 20 || N < 10)); then
	bench_note "N must be at least 10 and D at least 20 (the small fleet is N/10 envelopes from D/10 devices)"
	exit 2
fi

# the inputs are hundreds of MB: keep them only with -k
BENCH_KEEP_ON_ERROR=0
bench_setup

MQMON_STATUS=$(bench_mqmon_bin mqmon-status)
[[ -x $MQMON_STATUS ]] ||
	bench_die "mqmon-status not found (set MQMON_BIN=DIR, build into build/plain, or put it on PATH)"
JQ=$(command -v jq || true)
[[ -n $JQ ]] || bench_die "jq not found (apt-get install jq)"
command -v timeout >/dev/null || bench_die "timeout (coreutils) not found"

# the small fleet: a tenth of the devices, each with as many envelopes
NS=$((N / 10))
DS=$((D / 10))
ALERTS=('temperature > 30' 'voltage < 11.8')
ZSCORE=4
WINDOW=60 # mqmon-status's default --window
STATUS_OPTS=()
for a in "${ALERTS[@]}"; do
	STATUS_OPTS+=(--alert "$a")
done
STATUS_OPTS+=(--zscore "$ZSCORE")
STATUS_SHOWN=$(printf -- "--alert '%s' " "${ALERTS[@]}")"--zscore $ZSCORE"
METHODS=(jq big small)
declare -A LABEL=([jq]="jq -c ." [big]="mqmon-status, $D devices" [small]="mqmon-status, $DS devices")
declare -A INPUT=([jq]=$BENCH_TMP/big.ndjson [big]=$BENCH_TMP/big.ndjson [small]=$BENCH_TMP/small.ndjson)
declare -A STATS=([big]=$BENCH_TMP/big.stats [small]=$BENCH_TMP/small.stats)
# one run should take seconds (jq 1.6 reads some 50,000 envelopes/s);
# far beyond that it is a failure
LIMIT=$((60 + N / 5000))
GEN_LIMIT=$((60 + N / 10000))
# the flapping rule counts changes within a minute of mqmon-status's own
# clock: a run as long as that may see other online/offline events than
# the generator, which assumes the whole run is within one minute
FLAP_WINDOW=60

# --- the input, and the events mqmon-status must print for it ------------

# Envelopes as mqmon-sub writes them, in the FLEETS.md shapes.  Device j
# (0..d-1) is AutoCore ESP32_%06d for the first half, Battery Hawk
# AA:BB:CC:xx:xx:xx for the rest.  Each line picks a device: with
# probability 1/2 the next one of a round robin over all d (a stride prime
# to d scatters them, so every device shows up early and gets n/2d
# envelopes), else one of the d/100 "hot" devices (about 500 envelopes
# each at the defaults: the z-score needs window/2 = 30 values of a metric
# before it judges).  95 % telemetry (autocore/ID/telemetry: temperature,
# humidity, voltage, memory_free; battery_hawk/device/MAC/reading:
# voltage, current, temperature, state_of_charge, capacity, cycles,
# power), 5 % status (autocore/ID/status "status":"online|offline", ip,
# firmware; battery_hawk/device/MAC/status "connected":true|false), 20 %
# of them offline.  Every value wanders (a mean-reverting random walk
# around a base drawn per device, so some devices live near a threshold
# and cross it now and then); 0.3 % of readings carry a glitch (one value
# far off).  "ts" grows by 1-9 ms a line; retain is false (a live stream).
#
# The same pass computes what mqmon-status prints for the file, by doing
# what src/fleet.c and src/alert.c do with the numbers as printed:
# online/offline with their reasons (the first message of a device says
# "start"; a status body "status"; any message after an offline status
# "silence"), flapping (the 11th change of a device within the run: the
# run takes less than a minute), alert/recovered per rule (hysteresis 0),
# and anomaly (the exponentially weighted mean and variance of span
# window, judged once a metric has window/2 values).  STATS gets "NAME
# VALUE" lines: lines, telemetry, status, devices, autocore,
# battery_hawk, hot, and event.NAME[.REASON|.RULE] counts.
IFS= read -r -d '' GEN_AWK <<'EOF' || true
	function abs(x) { return x < 0 ? -x : x }
	function gcd(a, b,   t) { while (b) { t = a % b; a = b; b = t } return a }
	# a mean-reverting random walk around base b, step s, pulled back by r
	function walk(x, b, s, r) { return x + (rand() - 0.5) * s + r * (b - x) }
	# what mqmon-status does with the value v (the number as printed) of
	# metric mi of device j: its --alert rules (src/alert.c, hysteresis
	# 0: recovered when no longer past), then --zscore (src/fleet.c
	# anomaly(): exponentially weighted mean and variance of span window)
	function metric(j, name, mi, v,   i, key, nn, mean, var, sd, alpha, delta) {
		for (i = 1; i <= nalerts && (name in arule); i++) {
			if (afield[i] != name)
				continue
			key = j + d * i
			if (key in firing) {
				if (!past(i, v)) {
					delete firing[key]
					ev["recovered"]++
					ev["recovered." i]++
				}
			} else if (past(i, v)) {
				firing[key] = 1
				ev["alert"]++
				ev["alert." i]++
			}
		}
		if (!track)
			return
		key = j + d * mi
		nn = cnt[key] + 0
		mean = mu[key] + 0
		var = va[key] + 0
		sd = sqrt(var)
		if (nn >= need && sd > 1e-9 * abs(mean) && abs(v - mean) > zscore * sd)
			ev["anomaly"]++
		alpha = nn < window ? 1.0 / (nn + 1) : 2.0 / (window + 1)
		delta = v - mean
		mean += alpha * delta
		var = (1 - alpha) * (var + alpha * delta * delta)
		cnt[key] = nn + 1
		mu[key] = mean
		va[key] = var
	}
	function past(i, v) {
		if (aop[i] == ">") return v > athr[i]
		if (aop[i] == ">=") return v >= athr[i]
		if (aop[i] == "<") return v < athr[i]
		if (aop[i] == "<=") return v <= athr[i]
		if (aop[i] == "==") return v == athr[i]
		return v != athr[i]
	}
	# the device's online state becomes s (src/fleet.c change()): held
	# back once it flaps (more than 10 changes within a minute of the
	# program's clock: the whole run, if it takes less than a minute)
	function change(j, s, reason) {
		if (j in flapping)
			return
		if ((j in state) && state[j] == s)
			return
		# the first state known is no change
		if ((j in state) && ++flaps[j] > 10) {
			flapping[j] = 1
			ev["flapping"]++
			return
		}
		state[j] = s
		ev[s ? "online" : "offline"]++
		ev[(s ? "online." : "offline.") reason]++
	}
	BEGIN {
		srand(42)
		cday = -1
		nalerts = split(alerts, rs, ";")
		for (i = 1; i <= nalerts; i++) {
			split(rs[i], w, " ")
			afield[i] = w[1]
			aop[i] = w[2]
			athr[i] = w[3] + 0
			arule[w[1]] = 1
		}
		split("temperature humidity voltage memory_free", acname, " ")
		split("voltage current temperature state_of_charge capacity cycles power", bhname, " ")
		need = int(window / 2) > 3 ? int(window / 2) : 3
		na = int((d + 1) / 2) # devices 0..na-1 AutoCore, the rest Battery Hawk
		nhot = int(d / 100)
		if (nhot < 1)
			nhot = 1
		# the round robin visits device (k * stride) % d: all of them,
		# scattered, both kinds alike
		stride = int(d * 0.618034)
		if (stride < 1)
			stride = 1
		while (gcd(stride, d) != 1)
			stride++
		for (h = 0; h < nhot; h++)
			hot[(h * stride) % d] = 1
		# a device outside the hot set gets at most ceil(n / d) messages:
		# unless that reaches the z-score's warm-up, only the hot ones
		# can ever show an anomaly, and only they need the statistics
		all = int((n + d - 1) / d) >= need
		k = 0
		t = 1738058400000 # 2025-01-28T10:00:00.000Z
		for (l = 1; l <= n; l++) {
			t += 1 + int(rand() * 9)
			ts = stamp(t, 1)
			if (rand() < 0.5) {
				j = (k * stride) % d
				k++
			} else {
				j = (int(rand() * nhot) * stride) % d
			}
			ac = j < na
			if (!(j in seen)) {
				seen[j] = 1
				ndev++
				nac += ac
				if (ac) {
					id[j] = sprintf("ESP32_%06d", j + 1)
					tb[j] = 18 + rand() * 12
					hb[j] = 30 + rand() * 40
					T[j] = tb[j]
					H[j] = hb[j]
					V[j] = 3.1 + rand() * 0.3
					M[j] = 40000 + int(rand() * 10000)
				} else {
					m = j - na + 1
					id[j] = sprintf("AA:BB:CC:%02X:%02X:%02X", int(m / 65536) % 256, int(m / 256) % 256, m % 256)
					tb[j] = 15 + rand() * 17
					vb[j] = 11.9 + rand() * 1.0
					T[j] = tb[j]
					V[j] = vb[j]
					C[j] = -2 + rand() * 8
					S[j] = 20 + rand() * 80
					Y[j] = 50 + int(rand() * 400)
					veh[j] = sprintf("vehicle_%d", int(m / 3) + 1)
				}
			}
			known = j in state
			# the statistics of this device are needed
			track = zscore && (all || (j in hot))
			if (rand() < 0.05) {
				status++
				on = rand() < 0.8
				if (ac) {
					topic = "autocore/" id[j] "/status"
					body = sprintf("{\"device_id\":\"%s\",\"status\":\"%s\",\"ip_address\":\"10.%d.%d.%d\",\"firmware_version\":\"1.2.%d\",\"uptime\":%d,\"timestamp\":\"%s\"}",
						id[j], on ? "online" : "offline", int(j / 65536) % 256, int(j / 256) % 256, j % 256, int(rand() * 3), int(rand() * 86400), stamp(t, 0))
				} else {
					topic = "battery_hawk/device/" id[j] "/status"
					if (on)
						body = sprintf("{\"device_id\":\"%s\",\"timestamp\":\"%s\",\"connected\":true}", id[j], ts)
					else
						body = sprintf("{\"device_id\":\"%s\",\"timestamp\":\"%s\",\"connected\":false,\"error_code\":1001,\"error_message\":\"Connection timeout\"}", id[j], ts)
				}
				change(j, on, known ? "status" : "start")
			} else {
				telemetry++
				if (!known || state[j] != 1)
					change(j, 1, known ? "silence" : "start")
				if (ac) {
					topic = "autocore/" id[j] "/telemetry"
					T[j] = walk(T[j], tb[j], 0.8, 0.05)
					H[j] = walk(H[j], hb[j], 2, 0.05)
					V[j] = walk(V[j], 3.25, 0.02, 0.05)
					M[j] = int(walk(M[j], 45000, 800, 0.02))
					# now and then a glitch, one reading far off
					g = rand() < 0.003 ? int(rand() * 3) + 1 : 0
					s1 = sprintf("%.1f", T[j] + (g == 1 ? 8 + rand() * 10 : 0))
					s2 = sprintf("%.1f", H[j] + (g == 2 ? -20 : 0))
					s3 = sprintf("%.2f", V[j] - (g == 3 ? 0.4 : 0))
					s4 = sprintf("%d", M[j])
					body = sprintf("{\"device_id\":\"%s\",\"temperature\":%s,\"humidity\":%s,\"voltage\":%s,\"memory_free\":%s,\"timestamp\":\"%s\"}",
						id[j], s1, s2, s3, s4, stamp(t, 0))
					mv[1] = s1; mv[2] = s2; mv[3] = s3; mv[4] = s4
					for (q = 1; q <= 4; q++)
						if (track || (acname[q] in arule))
							metric(j, acname[q], q, mv[q] + 0)
				} else {
					topic = "battery_hawk/device/" id[j] "/reading"
					V[j] = walk(V[j], vb[j], 0.15, 0.05)
					C[j] = walk(C[j], 2.5, 1, 0.05)
					T[j] = walk(T[j], tb[j], 0.6, 0.05)
					S[j] = walk(S[j], 60, 1.5, 0.01)
					if (S[j] > 100) S[j] = 100
					if (S[j] < 0) S[j] = 0
					g = rand() < 0.003 ? int(rand() * 2) + 1 : 0
					s1 = sprintf("%.2f", V[j] - (g == 1 ? 1.2 : 0))
					s2 = sprintf("%.2f", C[j] + (g == 2 ? 25 : 0))
					s3 = sprintf("%.1f", T[j])
					s4 = sprintf("%.1f", S[j])
					s5 = sprintf("%.1f", (s1 + 0) * (s2 + 0))
					body = sprintf("{\"device_id\":\"%s\",\"timestamp\":\"%s\",\"voltage\":%s,\"current\":%s,\"temperature\":%s,\"state_of_charge\":%s,\"capacity\":100.0,\"cycles\":%d,\"power\":%s,\"vehicle_id\":\"%s\",\"device_type\":\"BM2\"}",
						id[j], ts, s1, s2, s3, s4, Y[j], s5, veh[j])
					mv[1] = s1; mv[2] = s2; mv[3] = s3; mv[4] = s4; mv[5] = "100.0"; mv[6] = Y[j]; mv[7] = s5
					for (q = 1; q <= 7; q++)
						if (track || (bhname[q] in arule))
							metric(j, bhname[q], q, mv[q] + 0)
				}
			}
			printf "{\"ts\":\"%s\",\"topic\":\"%s\",\"qos\":1,\"retain\":false,\"payload\":%s}\n", ts, topic, body
		}
		printf "lines %d\ntelemetry %d\nstatus %d\ndevices %d\nautocore %d\nbattery_hawk %d\nhot %d\n",
			n, telemetry, status, ndev, nac, ndev - nac, nhot >stats
		for (e in ev)
			printf "event.%s %d\n", e, ev[e] >stats
	}
EOF

# gen N D FILE STATS
gen() {
	local alerts
	alerts=$(IFS=';' && echo "${ALERTS[*]}")
	run "$GEN_LIMIT" /dev/null "$3" "$BENCH_TMP/gen.err" \
		awk -v n="$1" -v d="$2" -v alerts="$alerts" -v zscore="$ZSCORE" -v window="$WINDOW" -v stats="$4" "$BENCH_AWK_STAMP$GEN_AWK" ||
		bench_die "the generator failed: $(cat "$BENCH_TMP/gen.err")"
}

# count_events FILE — "event.NAME[.REASON|.RULE] COUNT" lines for the
# event lines in FILE, named as the generator names them (rule = its
# index in ALERTS)
count_events() {
	local alerts
	alerts=$(IFS=';' && echo "${ALERTS[*]}")
	awk -v alerts="$alerts" '
	BEGIN {
		n = split(alerts, a, ";")
		for (i = 1; i <= n; i++)
			rule[a[i]] = i
	}
	{
		if (!match($0, /"event":"[a-z]+"/)) {
			c["unknown"]++
			next
		}
		e = substr($0, RSTART + 9, RLENGTH - 10)
		c[e]++
		if ((e == "online" || e == "offline") && match($0, /"reason":"[a-z]+"/))
			c[e "." substr($0, RSTART + 10, RLENGTH - 11)]++
		if ((e == "alert" || e == "recovered") && match($0, /"rule":"[^"]*"/)) {
			r = substr($0, RSTART + 8, RLENGTH - 9)
			c[e "." (r in rule ? rule[r] : "?")]++
		}
	}
	END {
		for (k in c)
			printf "event.%s %d\n", k, c[k]
	}' "$1"
}

# check_events WHICH OUT WALL — OUT holds exactly the events STATS[WHICH]
# predicts; with a run as long as the flapping window, only those that do
# not depend on the clock (alerts, recoveries, anomalies, starts)
declare -A EVENTS_SEEN=()
check_events() {
	local which=$1 out=$2 wall=$3 relaxed k v bad=0
	local -A want=() got=() keys=()
	relaxed=$(awk -v w="$wall" -v f="$FLAP_WINDOW" 'BEGIN { print (w >= f) }')
	while read -r k v; do
		if [[ $k == event.* ]]; then
			want[$k]=$v
			keys[$k]=1
		fi
	done <"${STATS[$which]}"
	while read -r k v; do
		got[$k]=$v
		keys[$k]=1
	done < <(count_events "$out")
	for k in "${!keys[@]}"; do
		if ((relaxed)) && [[ $k =~ ^event\.(online|offline|flapping) && $k != *.start ]]; then
			continue
		fi
		if [[ ${want[$k]:-0} != "${got[$k]:-0}" ]]; then
			((bad++)) || true
			bench_note "${LABEL[$which]}: $k: ${got[$k]:-0} lines, the input needs ${want[$k]:-0}"
		fi
	done
	if ((bad)); then
		bench_die "mqmon-status did not print the events its input implies: stopping (-k keeps the files)"
	fi
	if ((relaxed)); then
		bench_note "${LABEL[$which]}: the run took $wall s: online/offline/flapping counts not checked"
	fi
	EVENTS_SEEN[$which]=$(wc -l <"$out")
}

# --- peak RSS ------------------------------------------------------------------

# The kernel keeps a process's peak resident set in /proc/PID/status
# (VmHWM) while it runs, not after it exits, and GNU time is not required.
# So the command is started by `sh -c 'echo $$ >PIDFILE; exec CMD'` (the
# same process, its PID known at once), and a watcher reads its VmHWM
# every millisecond for the first 50 ms, then every 10 ms, until it is
# gone; a reading counts once the process is CMD (its Name), not the sh
# before the exec.  VmHWM only grows, so the last reading is the peak up
# to 10 ms before the exit: exact enough for runs of a second (mqmon-status
# meets its last new device long before its end), not for runs of a few
# milliseconds.  The watcher sleeps in `read -t` on a FIFO, without
# forking, and takes some 3 % of a core.
NAP=$BENCH_TMP/nap.fifo
mkfifo "$NAP"
RSS_PIDFILE=$BENCH_TMP/rss.pid
RSS_OUT=$BENCH_TMP/rss.out
WATCH_PID=

# watch_start NAME — watch the next command started with RSS_PIDFILE, whose
# executable is called NAME
watch_start() {
	local name=${1##*/}
	name=${name:0:15} # the kernel's comm
	: >"$RSS_PIDFILE"
	: >"$RSS_OUT"
	(
		trap - EXIT
		exec {nap}<>"$NAP"
		end=$(($(now_us) + (LIMIT + 10) * 1000000))
		pid='' hwm='' i=0 iv=0.001
		until [[ -n $pid ]]; do
			read -r pid <"$RSS_PIDFILE" || true
			(($(now_us) < end)) || exit 0
			[[ -n $pid ]] || read -r -t 0.001 -u "$nap" _ || true
		done
		while kill -0 "$pid" 2>/dev/null && (($(now_us) < end)); do
			# mapfile reads in blocks (read(1) byte by byte: 10 times
			# the CPU); the first line is "Name:\tNAME", VmHWM comes
			# some 20 lines later
			st=()
			mapfile -t -n 40 st 2>/dev/null <"/proc/$pid/status" || true
			if [[ ${st[0]-} == "Name:"$'\t'"$name" ]]; then
				for l in "${st[@]}"; do
					if [[ $l == VmHWM:* ]]; then
						hwm=${l//[!0-9]/} # "VmHWM:\t   1234 kB"
						break
					fi
				done
			fi
			((++i < 50)) || iv=0.01
			read -r -t "$iv" -u "$nap" _ || true
		done
		echo "${hwm:-0}" >"$RSS_OUT"
	) &
	WATCH_PID=$!
	bench_pids+=("$WATCH_PID")
}

# watch_end — the peak RSS in kB (0: not seen, the run was too short)
watch_end() {
	local i
	for ((i = 0; i < 500; i++)); do # 5 s
		kill -0 "$WATCH_PID" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$WATCH_PID" 2>/dev/null; then
		kill -TERM "$WATCH_PID" 2>/dev/null || true
	fi
	wait "$WATCH_PID" 2>/dev/null || true
	_forget "$WATCH_PID"
	RSS_KB=$(cat "$RSS_OUT")
	RSS_KB=${RSS_KB:-0}
}

# --- header -------------------------------------------------------------------

bench_note "generating $N envelopes from $D devices, and $NS from $DS"
gen "$N" "$D" "${INPUT[big]}" "${STATS[big]}"
gen "$NS" "$DS" "${INPUT[small]}" "${STATS[small]}"
declare -A EXPECT=() EXPECT_S=()
while read -r k v; do
	EXPECT[$k]=$v
done <"${STATS[big]}"
while read -r k v; do
	EXPECT_S[$k]=$v
done <"${STATS[small]}"
((EXPECT[lines] == N && EXPECT_S[lines] == NS)) || bench_die "the generator wrote ${EXPECT[lines]} of $N lines"

printf 'mqmon-status vs jq -c .: %s envelopes from %s devices, live mode from a file; %s runs, median — %s, %s, %s cores\n' \
	"$N" "$D" "$R" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -m)" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
printf 'mqmon-status: %s %s (%s)\n' "$MQMON_STATUS" "$STATUS_SHOWN" "$("$MQMON_STATUS" --version 2>/dev/null | head -n 1)"
printf 'jq: %s -c . > /dev/null (%s)\n' "$JQ" "$("$JQ" --version 2>&1)"
printf 'input: %s envelopes, %s bytes/line, %s MB: %s telemetry, %s status; %s devices (%s AutoCore, %s Battery Hawk), %s of them with half the envelopes\n' \
	"$N" "$(awk -v b="$(stat -c %s "${INPUT[big]}")" -v n="$N" 'BEGIN { printf "%d", b / n }')" \
	"$(awk -v b="$(stat -c %s "${INPUT[big]}")" 'BEGIN { printf "%.0f", b / 1e6 }')" \
	"${EXPECT[telemetry]}" "${EXPECT[status]}" "${EXPECT[devices]}" "${EXPECT[autocore]}" "${EXPECT[battery_hawk]}" "${EXPECT[hot]}"
printf '1/10 fleet: %s envelopes from %s devices (the same envelopes per device)\n\n' "$NS" "${EXPECT_S[devices]}"

# --- the runs -------------------------------------------------------------------

# method_cmd METHOD -> CMD array in $cmd, its output file in $out
method_cmd() {
	case $1 in
	jq) cmd=("$JQ" -c .) out=/dev/null ;;
	big | small) cmd=("$MQMON_STATUS" "${STATUS_OPTS[@]}") out=$BENCH_TMP/out.$1 ;;
	esac
}

declare -A rates=() cpus=() walls=() rsss=()
for ((r = 0; r < R; r++)); do
	# interleaved, the order rotated each run
	for ((k = 0; k < ${#METHODS[@]}; k++)); do
		m=${METHODS[(k + r) % ${#METHODS[@]}]}
		method_cmd "$m"
		err=$BENCH_TMP/err.$m
		watch_start "${cmd[0]}"
		# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
		measure "$LIMIT" "${INPUT[$m]}" "$out" "$err" sh -c 'echo $$ >"$0" && exec "$@"' "$RSS_PIDFILE" "${cmd[@]}"
		watch_end
		if ((M_RC != 0)); then
			bench_note "${LABEL[$m]}: exit status $M_RC$( ((M_RC == 124)) && echo " (timed out after $LIMIT s)")"
			sed 's/^/  | /' "$err" | head -n 20 >&2
			bench_die "a run that failed measures nothing (-k keeps the files)"
		fi
		if [[ -s $err ]]; then
			bench_note "${LABEL[$m]} wrote on stderr:"
			head -n 5 "$err" | sed 's/^/  | /' >&2
		fi
		n=$N
		[[ $m == small ]] && n=$NS
		[[ $m == jq ]] || check_events "$m" "$out" "$M_WALL"
		rates[$m]+=" $(awk -v n="$n" -v w="$M_WALL" 'BEGIN { printf "%.1f", n / w }')"
		cpus[$m]+=" $(awk -v n="$n" -v c="$M_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
		walls[$m]+=" $M_WALL"
		rsss[$m]+=" $RSS_KB"
		if ((VERBOSE)); then
			bench_note "run $((r + 1)) ${LABEL[$m]}: wall $M_WALL s, cpu $M_CPU s, peak RSS $RSS_KB kB"
		fi
		[[ $out == /dev/null ]] || ((BENCH_KEEP)) || rm -f "$out"
	done
done

printf '%s envelopes (1/10 fleet: %s), read from a file; median of %s\n' "$N" "$NS" "$R"
printf '  %-30s %11s %17s %11s %9s %13s\n' program envelopes/s "(min-max)" "CPU us/env" "wall s" "peak RSS MiB"
declare -A med_rate=() med_cpu=() med_rss=()
for m in "${METHODS[@]}"; do
	# shellcheck disable=SC2086 # word lists
	{
		med_rate[$m]=$(median ${rates[$m]})
		med_cpu[$m]=$(median ${cpus[$m]})
		med_rss[$m]=$(median ${rsss[$m]})
		range=$(printf '%s\n' ${rates[$m]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')
		wall=$(median ${walls[$m]})
	}
	mib=$(awk -v k="${med_rss[$m]}" 'BEGIN { if (k > 0) printf "%.1f", k / 1024; else print "n/a" }')
	printf '  %-30s %11.0f %17s %11.2f %9.3f %13s\n' "${LABEL[$m]}" "${med_rate[$m]}" "($range)" "${med_cpu[$m]}" "$wall" "$mib"
done
r1=$(ratio "${med_rate[big]}" "${med_rate[jq]}")
r2=$(ratio "${med_cpu[big]}" "${med_cpu[jq]}")
rss_big=$(awk -v k="${med_rss[big]}" 'BEGIN { if (k > 0) printf "%.2f", k / 1024; else print "n/a" }')
r3=$(ratio "${med_rss[big]}" "${med_rss[small]}")
dev_ratio=$(awk -v a="${EXPECT[devices]}" -v b="${EXPECT_S[devices]}" 'BEGIN { printf "%.3g", a / b }')
per_dev=$(awk -v a="${med_rss[big]}" -v b="${med_rss[small]}" -v da="${EXPECT[devices]}" -v db="${EXPECT_S[devices]}" \
	'BEGIN { if (a > 0 && b > 0 && da > db) printf "%.0f", (a - b) * 1024 / (da - db); else print "n/a" }')
v1=$(verdict "$r1" '>=' 3.0)
# under 64 MiB
v2=$(awk -v r="$rss_big" 'BEGIN { if (r == "n/a") print "n/a"; else print (r + 0 < 64 ? "ok" : "ABOVE TARGET (worse)") }')
v3=$(verdict "$r3" '<=' "$dev_ratio")
printf '  %-50s %6s  %-16s %s\n' \
	"ratio env/s   mqmon-status / jq -c ." "$r1" "(target >= 3.0)" "$v1" \
	"peak RSS MiB  mqmon-status, ${EXPECT[devices]} devices" "$rss_big" "(target < 64)" "$v2" \
	"ratio RSS     ${EXPECT[devices]} devices / ${EXPECT_S[devices]} devices" "$r3" "(target <= $dev_ratio)" "$v3"
printf '  %-50s %6s  %s\n' \
	"ratio CPU/env mqmon-status / jq -c ." "$r2" "(for information)" \
	"RSS per device added, bytes" "$per_dev" "(for information)"

# what every mqmon-status run printed, checked line for line against the
# generator's prediction
events_summary() {
	local -n e=$1
	local i s=""
	s+="online ${e[event.online]:-0} (start ${e[event.online.start]:-0}, status ${e[event.online.status]:-0}, silence ${e[event.online.silence]:-0})"
	s+=", offline ${e[event.offline]:-0} (start ${e[event.offline.start]:-0}, status ${e[event.offline.status]:-0})"
	s+=", flapping ${e[event.flapping]:-0}"
	s+=", alert ${e[event.alert]:-0} ("
	for i in "${!ALERTS[@]}"; do
		((i)) && s+=", "
		s+="${ALERTS[i]}: ${e[event.alert.$((i + 1))]:-0}"
	done
	s+="), recovered ${e[event.recovered]:-0} ("
	for i in "${!ALERTS[@]}"; do
		((i)) && s+=", "
		s+="${ALERTS[i]}: ${e[event.recovered.$((i + 1))]:-0}"
	done
	s+="), anomaly ${e[event.anomaly]:-0}"
	echo "$s"
}
printf '  every mqmon-status run exited 0 and printed exactly the events its input implies:\n'
printf '    %s devices, %s lines: %s\n' "${EXPECT[devices]}" "${EVENTS_SEEN[big]}" "$(events_summary EXPECT)"
printf '    %s devices, %s lines: %s\n' "${EXPECT_S[devices]}" "${EVENTS_SEEN[small]}" "$(events_summary EXPECT_S)"
printf '  (%s s in all)\n' "$SECONDS"

if [[ $v1 != ok && $v1 != n/a || $v2 != ok && $v2 != n/a || $v3 != ok && $v3 != n/a ]]; then
	echo "note: some figures miss their target (see above)"
fi
if [[ $v2 == n/a || $v3 == n/a ]]; then
	echo "note: a peak RSS was not caught: the runs are too short for the sampler (see bench/README.md)"
fi
exit 0
