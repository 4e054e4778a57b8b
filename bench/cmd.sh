#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/cmd.sh [-r R] [-d D] [-k] [-v] [N] [M] — commands and their acks:
# mqmon-cmd against mosquitto_rr at QoS 1 on one private broker at its
# default settings, plus a second private broker with set_tcp_nodelay
# true; on each broker one `mqmon-cmd --respond` plays the devices and
# answers every command (see bench/README.md).
#
#   1. one command per process: the wall time of `mqmon-cmd -q 1 dev1 ping`
#      and of `mosquitto_rr -q 1 -t devices/dev1/command -e
#      devices/dev1/response`, R runs each on each broker, interleaved
#      (median)
#   2. the round trip inside one process: p50 and p99 of latency_ms over N
#      commands one after another (--batch --max-pending 1), on each broker
#   3. batch throughput: M commands to D devices with --max-pending 100 on
#      the default broker, acked commands per second (median of 3)
#
#   N        commands for the round trip (1000)
#   M        commands for the batch throughput (10000)
#   -r R     one-command runs per client and broker (50)
#   -d D     devices the batch commands go to (100)
#   -k       keep the temp dir (outputs, broker logs)
#   -v       print every measurement (stderr)
#
# Every client uses MQTT 5 (mosquitto_rr needs it).  Environment:
# MQMON_BIN=DIR with mqmon-cmd (default ../build/plain/bin, then PATH).
# Exit 1 if a command failed or was not acked exactly once.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { bench_usage "$0"; }

R=50
D=100
VERBOSE=0
while getopts 'r:d:kvh' o; do
	case $o in
	r) R=$OPTARG ;;
	d) D=$OPTARG ;;
	k) BENCH_KEEP=1 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
N=${1:-1000}
M=${2:-10000}
(($# <= 2)) || usage
[[ $N =~ ^[1-9][0-9]*$ && $M =~ ^[1-9][0-9]*$ && $R =~ ^[1-9][0-9]*$ && $D =~ ^[1-9][0-9]*$ ]] || usage

bench_init

MQMON_CMD=$(bench_mqmon_bin mqmon-cmd)
[[ -x $MQMON_CMD ]] ||
	bench_die "mqmon-cmd not found (set MQMON_BIN=DIR, build into build/plain, or put it on PATH)"
MOSQ_RR=$(command -v mosquitto_rr || true)
[[ -n $MOSQ_RR ]] || bench_die "mosquitto_rr not found (apt-get install mosquitto-clients)"

QOS=1
BATCH_WINDOW=100
BATCH_RUNS=3
RESP_FILTER='devices/+/command'
declare -A BLABEL=([def]="default broker" [nd]="set_tcp_nodelay")
declare -A CLABEL=([cmd]="mqmon-cmd" [rr]="mosquitto_rr")
# bounds: far beyond what each should take, then it is a failure
ONE_LIMIT=30                    # one command: mqmon-cmd gives up after 3 x 5 s, mosquitto_rr after -W 10
SEQ_LIMIT=$((30 + N / 20))      # 50 ms per round trip would already be the Nagle case
BATCH_LIMIT=$((30 + M / 500))   # 500 acks/s
RESP_LIMIT=$((120 + 4 * R + 2 * SEQ_LIMIT + BATCH_RUNS * BATCH_LIMIT))

# nodelay_broker_start — a second private broker, as broker_start's plus
# set_tcp_nodelay true: $ND_PORT, log $ND_LOG, PID $ND_PID (stopped on exit
# with the rest)
ND_PORT= ND_PID= ND_LOG=
nodelay_broker_start() {
	bench_broker broker-nodelay "set_tcp_nodelay true"
	ND_PORT=$STARTED_PORT ND_PID=$STARTED_PID ND_LOG=$STARTED_LOG
	bench_pids+=("$ND_PID")
}

declare -A PORT=() LOG=() RESP_PID=()

# start_responder B — mqmon-cmd --respond on broker B, subscribed
start_responder() {
	local b=$1 id=bench-respond-$1 pid
	spawn pid "$RESP_LIMIT" /dev/null /dev/null "$BENCH_TMP/respond.$b.err" \
		"$MQMON_CMD" -p "${PORT[$b]}" -q "$QOS" -i "$id" --respond
	RESP_PID[$b]=$pid
	BENCH_LOG=${LOG[$b]} wait_subscribed "$id" "$QOS" "$RESP_FILTER" 10 ||
		bench_die "the responder on the ${BLABEL[$b]} did not subscribe: $(cat "$BENCH_TMP/respond.$b.err")"
}

responder_alive() {
	kill -0 "${RESP_PID[$1]}" 2>/dev/null ||
		bench_die "the responder on the ${BLABEL[$1]} died: $(cat "$BENCH_TMP/respond.$1.err")"
}

# fail WHAT OUT ERR — a command that was not answered: the benchmark is wrong
fail() {
	bench_note "$1"
	# the results that are not acks, else the last lines
	if grep -qv '"status":"acked"' "$2"; then
		grep -v '"status":"acked"' "$2" | head -n 5
	else
		tail -n 5 "$2"
	fi | sed 's/^/  out | /' >&2
	sed 's/^/  err | /' "$3" | head -n 20 >&2
	bench_die "a command was not acked: stopping (files kept)"
}

# gen_commands COUNT DEVICES FILE — batch input, one command a line, to
# DEVICES devices in turn, each with a "seq" parameter 1..COUNT (the
# responder echoes the parameters in its ack, so each result can be tied
# to its line)
gen_commands() {
	awk -v n="$1" -v d="$2" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "{\"device\":\"dev%d\",\"command\":\"ping\",\"params\":{\"seq\":%d}}\n", (i - 1) % d + 1, i
	}' >"$3"
}

# check_results FILE COUNT — "RESULTS ACKED SEQS IDS RETRIED": result lines,
# acked ones, distinct seq among the acked, distinct ids, results after
# more than one attempt; exit status 1 unless every command 1..COUNT got
# exactly one result and it was acked
check_results() {
	awk -v n="$2" '
	/"event":"result"/ {
		results++
		if (match($0, /"id":"[^"]*"/)) {
			id = substr($0, RSTART, RLENGTH)
			if (!(id in ids)) { ids[id] = 1; nid++ }
		}
		if (match($0, /"attempts":[0-9]+/) && substr($0, RSTART + 11, RLENGTH - 11) + 0 > 1)
			retried++
		# the first "status" is the result status, the one in the ack comes later
		if (!match($0, /"status":"[a-z]+"/) || substr($0, RSTART, RLENGTH) != "\"status\":\"acked\"")
			next
		acked++
		if (match($0, /"seq":[0-9]+/)) {
			s = substr($0, RSTART + 6, RLENGTH - 6) + 0
			if (s >= 1 && s <= n && !(s in seen)) { seen[s] = 1; nseq++ }
		}
	}
	END {
		printf "%d %d %d %d %d\n", results, acked, nseq, nid, retried
		exit !(results == n && acked == n && nseq == n && nid == n)
	}' "$1"
}

# latencies FILE — "P50 P99 MAX" of latency_ms (nearest rank) in FILE
latencies() {
	grep -o '"latency_ms":[0-9.]*' "$1" | cut -d: -f2 | sort -g | awk '
	function rank(q,   i) { i = q * NR; if (i > int(i)) i = int(i) + 1; return i < 1 ? 1 : i }
	{ v[NR] = $1 }
	END { if (NR) printf "%.3f %.3f %.3f\n", v[rank(0.50)], v[rank(0.99)], v[NR]; else print "n/a n/a n/a" }'
}

bench_header "mqmon-cmd vs mosquitto_rr: commands acked by mqmon-cmd --respond, QoS $QOS"
BENCH_LOG_DEF=$BENCH_LOG
nodelay_broker_start
PORT=([def]=$BENCH_PORT [nd]=$ND_PORT)
LOG=([def]=$BENCH_LOG_DEF [nd]=$ND_LOG)
printf 'brokers: port %s at the default settings (Nagle on), port %s with set_tcp_nodelay true\n\n' \
	"${PORT[def]}" "${PORT[nd]}"
start_responder def
start_responder nd

# --- 1. one command per process ------------------------------------------------

COMBOS=(cmd.def rr.def cmd.nd rr.nd)
declare -A walls=() cpus=()
for ((r = 0; r < R; r++)); do
	# interleaved, the order rotated each run
	for ((k = 0; k < ${#COMBOS[@]}; k++)); do
		combo=${COMBOS[(k + r) % ${#COMBOS[@]}]}
		c=${combo%.*} b=${combo#*.}
		out=$BENCH_TMP/one.$combo.out
		err=$BENCH_TMP/one.$combo.err
		if [[ $c == cmd ]]; then
			measure "$ONE_LIMIT" /dev/null "$out" "$err" \
				"$MQMON_CMD" -p "${PORT[$b]}" -q "$QOS" dev1 ping
			ok=0
			((M_RC == 0)) && grep -q '"status":"acked"' "$out" && ok=1
		else
			measure "$ONE_LIMIT" /dev/null "$out" "$err" \
				"$MOSQ_RR" -p "${PORT[$b]}" -q "$QOS" -W 10 -t devices/dev1/command -e devices/dev1/response \
				-m "{\"id\":\"rr-$r\",\"command\":\"ping\",\"params\":{}}"
			ok=0
			((M_RC == 0)) && grep -q "\"id\":\"rr-$r\"" "$out" && ok=1
		fi
		((ok)) || fail "${CLABEL[$c]}, ${BLABEL[$b]}, run $((r + 1)): exit status $M_RC" "$out" "$err"
		walls[$combo]+=" $(awk -v w="$M_WALL" 'BEGIN { printf "%.3f", w * 1000 }')"
		cpus[$combo]+=" $(awk -v c="$M_CPU" 'BEGIN { printf "%.3f", c * 1000 }')"
		if ((VERBOSE)); then
			bench_note "one command, run $((r + 1)), ${CLABEL[$c]}, ${BLABEL[$b]}: wall $M_WALL s, cpu $M_CPU s"
		fi
	done
done

printf '1. One command per process, QoS %s: wall time from start to exit (connect, command, ack); median of %s\n' "$QOS" "$R"
printf '  %-14s %-16s %9s %17s %8s\n' client broker "wall ms" "(min-max)" "CPU ms"
declare -A med_wall=()
for combo in "${COMBOS[@]}"; do
	# shellcheck disable=SC2086 # word lists
	{
		med_wall[$combo]=$(median ${walls[$combo]})
		range=$(printf '%s\n' ${walls[$combo]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.1f-%.1f", lo, hi }')
		cpu=$(median ${cpus[$combo]})
	}
	printf '  %-14s %-16s %9.2f %17s %8.1f\n' "${CLABEL[${combo%.*}]}" "${BLABEL[${combo#*.}]}" \
		"${med_wall[$combo]}" "($range)" "$cpu"
done
r1=$(ratio "${med_wall[cmd.def]}" "${med_wall[rr.def]}")
r1n=$(ratio "${med_wall[cmd.nd]}" "${med_wall[rr.nd]}")
v1=$(verdict "$r1" '<=' 0.3)
printf '  ratio wall  mqmon-cmd / mosquitto_rr, default broker    %5s  (target <= 0.3)  %s\n' "$r1" "$v1"
printf '  ratio wall  mqmon-cmd / mosquitto_rr, set_tcp_nodelay   %5s  (for information)\n\n' "$r1n"

# --- 2. round trip inside one process --------------------------------------------

gen_commands "$N" 1 "$BENCH_TMP/seq.in"
declare -A p50=() p99=() pmax=() perwall=() retried=()
for b in def nd; do
	responder_alive "$b"
	out=$BENCH_TMP/seq.$b.out
	err=$BENCH_TMP/seq.$b.err
	measure "$SEQ_LIMIT" "$BENCH_TMP/seq.in" "$out" "$err" \
		"$MQMON_CMD" -p "${PORT[$b]}" -q "$QOS" --batch --max-pending 1
	counts=$(check_results "$out" "$N") ||
		fail "--batch --max-pending 1, ${BLABEL[$b]}: exit status $M_RC; results, acked, distinct seq, distinct ids, retried: $counts of $N" "$out" "$err"
	((M_RC == 0)) || fail "--batch --max-pending 1, ${BLABEL[$b]}: exit status $M_RC" "$out" "$err"
	read -r p50[$b] p99[$b] pmax[$b] < <(latencies "$out")
	read -r _ _ _ _ retried[$b] <<<"$counts"
	perwall[$b]=$(awk -v w="$M_WALL" -v n="$N" 'BEGIN { printf "%.3f", w * 1000 / n }')
	if ((VERBOSE)); then
		bench_note "round trip, ${BLABEL[$b]}: wall $M_WALL s, cpu $M_CPU s, latency p50 ${p50[$b]} p99 ${p99[$b]} max ${pmax[$b]} ms"
	fi
done

printf '2. Round trip inside one process: %s commands one after another (--batch --max-pending 1), latency_ms from first publish to ack\n' "$N"
printf '  %-22s %9s %9s %9s %12s %8s\n' broker "p50 ms" "p99 ms" "max ms" "wall ms/cmd" retried
for b in def nd; do
	printf '  %-22s %9.3f %9.3f %9.3f %12.3f %8d\n' "${BLABEL[$b]}" "${p50[$b]}" "${p99[$b]}" "${pmax[$b]}" "${perwall[$b]}" "${retried[$b]}"
done
v2=$(verdict "${p50[def]}" '<=' 5)
r2=$(ratio "${p50[nd]}" "${med_wall[rr.nd]}")
v3=$(verdict "$r2" '<=' 1.2)
printf '  p50, default broker (ms)                                        %6.3f  (target <= 5)    %s\n' "${p50[def]}" "$v2"
printf '  ratio p50 set_tcp_nodelay / mosquitto_rr wall per round trip   %6s  (target <= 1.2)  %s\n' "$r2" "$v3"
printf '    (mosquitto_rr: median wall of one process on that broker, from 1.: %.2f ms)\n\n' "${med_wall[rr.nd]}"

# --- 3. batch throughput --------------------------------------------------------------

gen_commands "$M" "$D" "$BENCH_TMP/batch.in"
rates=() bcpus=() bwalls=() brokcpus=() bretried=0
for ((r = 0; r < BATCH_RUNS; r++)); do
	responder_alive def
	out=$BENCH_TMP/batch.out
	err=$BENCH_TMP/batch.err
	measure "$BATCH_LIMIT" "$BENCH_TMP/batch.in" "$out" "$err" \
		"$MQMON_CMD" -p "${PORT[def]}" -q "$QOS" --batch --max-pending "$BATCH_WINDOW"
	counts=$(check_results "$out" "$M") ||
		fail "--batch --max-pending $BATCH_WINDOW, run $((r + 1)): exit status $M_RC; results, acked, distinct seq, distinct ids, retried: $counts of $M" "$out" "$err"
	((M_RC == 0)) || fail "--batch --max-pending $BATCH_WINDOW, run $((r + 1)): exit status $M_RC" "$out" "$err"
	read -r _ _ _ _ n <<<"$counts"
	bretried=$((bretried + n))
	rates+=("$(awk -v n="$M" -v w="$M_WALL" 'BEGIN { printf "%.1f", n / w }')")
	bcpus+=("$(awk -v n="$M" -v c="$M_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')")
	brokcpus+=("$(awk -v n="$M" -v c="$M_BROKER_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')")
	bwalls+=("$M_WALL")
	if ((VERBOSE)); then
		bench_note "batch, run $((r + 1)): wall $M_WALL s, cpu $M_CPU s, broker cpu $M_BROKER_CPU s"
	fi
	rm -f "$out"
done

printf '3. Batch throughput: %s commands to %s devices, --max-pending %s, default broker, every one acked once; median of %s\n' \
	"$M" "$D" "$BATCH_WINDOW" "$BATCH_RUNS"
printf '  %-22s %10s %17s %11s %9s %14s %8s\n' client acked/s "(min-max)" "CPU us/cmd" "wall s" "broker us/cmd" retried
rate=$(median "${rates[@]}")
range=$(printf '%s\n' "${rates[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')
printf '  %-22s %10.0f %17s %11.2f %9.3f %14.2f %8d\n' "mqmon-cmd --batch" "$rate" "($range)" \
	"$(median "${bcpus[@]}")" "$(median "${bwalls[@]}")" "$(median "${brokcpus[@]}")" "$bretried"
v4=$(verdict "$rate" '>=' 5000)
printf '  acked/s                                    %7.0f  (target >= 5000)  %s\n\n' "$rate" "$v4"

for b in def nd; do
	responder_alive "$b"
done
for v in "$v1" "$v2" "$v3" "$v4"; do
	[[ $v == ok ]] || below=1
done
if ((${below:-0})); then
	echo "note: some figures miss their target (see above)"
fi
exit 0
