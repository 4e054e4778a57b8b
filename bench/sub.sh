#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/sub.sh [-r R] [-V VER] [-k] [N] — subscriber throughput: mqmon-sub
# against mosquitto_sub -F %J and -F %j, at QoS 0 and 1, on one private
# broker.  Each client drains N messages queued for it in a persistent
# session (see bench/README.md for why), R times (median), interleaved.
#
#   N        messages per measurement (200000)
#   -r R     repetitions, the median is reported (3)
#   -V VER   MQTT version for every client (5, 311); default: each
#            client's own default (mqmon 5, mosquitto 3.1.1)
#   -q LIST  QoS levels to run, e.g. -q 1 (0,1)
#   -k       keep the temp dir (outputs, broker log)
#   -v       print every measurement (stderr)
#
# Environment: MQMON_BIN=DIR with mqmon-sub (default ../build/plain/bin,
# then PATH).  Exit 1 if a client lost messages or failed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { bench_usage "$0"; }

R=3
QOS_LIST="0,1"
VERBOSE=0
while getopts 'r:V:q:kvh' o; do
	case $o in
	r) R=$OPTARG ;;
	V) BENCH_PROTO=(-V "$OPTARG") ;;
	q) QOS_LIST=$OPTARG ;;
	k) BENCH_KEEP=1 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
N=${1:-200000}
(($# <= 1)) || usage
[[ $N =~ ^[1-9][0-9]*$ && $R =~ ^[1-9][0-9]*$ ]] || usage

bench_init

TOPIC=bench/t
CLIENTS=(mqmon J j)
declare -A LABEL=([mqmon]="mqmon-sub" [J]="mosquitto_sub -F %J" [j]="mosquitto_sub -F %j")
# the whole drain should take seconds: allow generously more, then it is a
# failure (a lost message keeps -C N waiting forever)
DRAIN_LIMIT=$((30 + N / 5000))

client_cmd() { # client_cmd CLIENT -> CMD array in $cmd
	case $1 in
	mqmon) cmd=("$MQMON_SUB") ;;
	J) cmd=("$MOSQ_SUB" -F %J) ;;
	j) cmd=("$MOSQ_SUB" -F %j) ;;
	esac
	cmd+=("${BENCH_PROTO[@]}" -p "$BENCH_PORT")
}

# make_session CLIENT ID QOS — a persistent session with the subscription,
# created by the client itself, then disconnected
make_session() {
	local c=$1 id=$2 q=$3 pid cmd
	client_cmd "$c"
	if [[ $c == mqmon ]]; then
		spawn pid 20 /dev/null /dev/null "$BENCH_TMP/session.err" "${cmd[@]}" -c -i "$id" -q "$q" -t "$TOPIC"
		wait_subscribed "$id" "$q" "$TOPIC" 10 || bench_die "$id did not subscribe"
		kill -TERM "$pid" 2>/dev/null || true
		wait_bounded "$pid" 10 || bench_die "$id did not stop on SIGTERM"
		((WAIT_RC == 0)) || bench_die "$id: exit status $WAIT_RC on SIGTERM: $(cat "$BENCH_TMP/session.err")"
	else
		run 20 /dev/null /dev/null "$BENCH_TMP/session.err" "${cmd[@]}" -c -i "$id" -q "$q" -t "$TOPIC" -E ||
			bench_die "$id: could not create the session: $(cat "$BENCH_TMP/session.err")"
	fi
}

# preload QOS — publish the N bodies while the sessions are offline: they
# queue in the broker.  mosquitto_pub -l, in chunks below its 65,535
# message-id wrap at QoS 1.
preload() {
	local q=$1 f
	for f in "$BENCH_TMP"/chunk.*; do
		run "$DRAIN_LIMIT" "$f" /dev/null "$BENCH_TMP/preload.err" \
			"$MOSQ_PUB" "${BENCH_PROTO[@]}" -p "$BENCH_PORT" -q "$q" -M 100 -t "$TOPIC" -l ||
			bench_die "preloading failed: $(cat "$BENCH_TMP/preload.err")"
	done
}

bench_header "mqmon-sub vs mosquitto_sub: drain $N queued messages, $R runs, median"
gen_telemetry "$N" "$BENCH_TMP/data"
split -l 60000 -a 3 "$BENCH_TMP/data" "$BENCH_TMP/chunk."
printf 'bodies: %s bytes on average (AutoCore telemetry), topic %s\n\n' \
	"$(awk '{ n += length($0) } END { printf "%d", n / NR }' "$BENCH_TMP/data")" "$TOPIC"

failed=0
IFS=, read -r -a qos_levels <<<"$QOS_LIST"
for q in "${qos_levels[@]}"; do
	[[ $q == [01] ]] || bench_die "QoS $q: only 0 and 1 are benchmarked"
	declare -A rates=() cpus=() walls=() bcpus=()
	for ((r = 0; r < R; r++)); do
		for c in "${CLIENTS[@]}"; do
			make_session "$c" "bench-q$q-r$r-$c" "$q"
		done
		preload "$q"
		# interleaved, and the order rotated each run, so that neither
		# drift nor the position in a run favours a client
		for ((k = 0; k < ${#CLIENTS[@]}; k++)); do
			c=${CLIENTS[(k + r) % ${#CLIENTS[@]}]}
			id=bench-q$q-r$r-$c
			out=$BENCH_TMP/out.q$q.$c
			client_cmd "$c"
			measure "$DRAIN_LIMIT" /dev/null "$out" "$BENCH_TMP/err.q$q.$c" \
				"${cmd[@]}" -c -i "$id" -q "$q" -t "$TOPIC" -C "$N"
			read -r lines distinct < <(count_seq "$out")
			if ((M_RC != 0 || lines != N || distinct != N)); then
				bench_note "${LABEL[$c]}, QoS $q, run $((r + 1)): exit status $M_RC, $lines lines, $distinct distinct of $N messages"
				sed 's/^/  | /' "$BENCH_TMP/err.q$q.$c" >&2
				bench_die "a benchmark that lost messages is wrong: stopping (BENCH_KEEP: files kept)"
			fi
			rates[$c]+=" $(awk -v n="$N" -v w="$M_WALL" 'BEGIN { printf "%.1f", n / w }')"
			cpus[$c]+=" $(awk -v n="$N" -v c="$M_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
			walls[$c]+=" $M_WALL"
			bcpus[$c]+=" $(awk -v n="$N" -v c="$M_BROKER_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
			if ((VERBOSE)); then
				bench_note "QoS $q run $((r + 1)) ${LABEL[$c]}: wall $M_WALL s, cpu $M_CPU s"
			fi
			rm -f "$out"
		done
	done

	printf 'QoS %s — %s messages drained from a persistent session, written to a file; median of %s\n' "$q" "$N" "$R"
	printf '  %-22s %10s %17s %11s %9s %14s\n' client msgs/s "(min-max)" "CPU us/msg" "wall s" "broker us/msg"
	declare -A med_rate=() med_cpu=()
	for c in "${CLIENTS[@]}"; do
		# shellcheck disable=SC2086 # word lists
		{
			med_rate[$c]=$(median ${rates[$c]})
			med_cpu[$c]=$(median ${cpus[$c]})
			range=$(printf '%s\n' ${rates[$c]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')
			wall=$(median ${walls[$c]})
			bcpu=$(median ${bcpus[$c]})
		}
		printf '  %-22s %10.0f %17s %11.2f %9.3f %14.2f\n' "${LABEL[$c]}" "${med_rate[$c]}" "($range)" "${med_cpu[$c]}" "$wall" "$bcpu"
	done
	r1=$(ratio "${med_rate[mqmon]}" "${med_rate[J]}")
	r2=$(ratio "${med_rate[mqmon]}" "${med_rate[j]}")
	r3=$(ratio "${med_cpu[mqmon]}" "${med_cpu[J]}")
	v1=$(verdict "$r1" '>=' 1.0)
	v2=$(verdict "$r2" '>=' 0.9)
	v3=$(verdict "$r3" '<=' 1.0)
	printf '  ratio msgs/s  mqmon-sub / mosquitto_sub -F %%J  %5s  (target >= 1.0)  %s\n' "$r1" "$v1"
	printf '  ratio msgs/s  mqmon-sub / mosquitto_sub -F %%j  %5s  (target >= 0.9)  %s\n' "$r2" "$v2"
	printf '  ratio CPU/msg mqmon-sub / mosquitto_sub -F %%J  %5s  (target <= 1.0)  %s\n\n' "$r3" "$v3"
	for v in "$v1" "$v2" "$v3"; do
		[[ $v == ok ]] || failed=1
	done
	unset rates cpus walls bcpus med_rate med_cpu
done

if ((failed)); then
	echo "note: some ratios are below target (see above)"
fi
exit 0
