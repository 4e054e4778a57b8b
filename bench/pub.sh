#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/pub.sh [-r R] [-V VER] [-s SUB] [-o] [-k] [-v] [N0] [N1] — publisher
# throughput: mqmon-pub (envelope stream), mqmon-pub -l and mosquitto_pub -l
# from the same generated file, on one private broker, every message counted
# by one live subscriber; R runs (median), interleaved.
#
#   N0       messages at QoS 0 (200000)
#   N1       messages at QoS 1 (65000; mosquitto_pub -l loses messages past
#            65,535 lines at QoS 1, its message ids wrap)
#   -r R     repetitions, the median is reported (3)
#   -V VER   MQTT version for every client (5, 311); default: each
#            client's own default (mqmon 5, mosquitto 3.1.1)
#   -q LIST  QoS levels to run, e.g. -q 1 (0,1)
#   -s SUB   the counting subscriber: mqmon (mqmon-sub -F raw, default: the
#            cheapest, so it takes the least CPU from the publisher) or
#            mosquitto (mosquitto_sub)
#   -o       count offline instead: the subscriber's persistent session
#            queues the messages while the publisher runs, and is drained
#            after it (isolates the publisher from the subscriber's CPU)
#   -k       keep the temp dir (outputs, broker log)
#   -v       print every measurement (stderr)
#
# Environment: MQMON_BIN=DIR with mqmon-sub and mqmon-pub (default
# ../build/plain/bin, then PATH).  Exit 1 if a publisher failed; lost
# messages are reported in the table.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { bench_usage "$0"; }

R=3
QOS_LIST="0,1"
COUNTER=mqmon
VERBOSE=0
OFFLINE=0
while getopts 'r:V:q:s:okvh' o; do
	case $o in
	r) R=$OPTARG ;;
	V) BENCH_PROTO=(-V "$OPTARG") ;;
	q) QOS_LIST=$OPTARG ;;
	s) COUNTER=$OPTARG ;;
	o) OFFLINE=1 ;;
	k) BENCH_KEEP=1 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
N0=${1:-200000}
N1=${2:-65000}
(($# <= 2)) || usage
[[ $N0 =~ ^[1-9][0-9]*$ && $N1 =~ ^[1-9][0-9]*$ && $R =~ ^[1-9][0-9]*$ ]] || usage
[[ $COUNTER == mosquitto || $COUNTER == mqmon ]] || usage

bench_init

TOPIC=bench/t
FILTER='bench/#'
PUBS=(env line mosq)
declare -A LABEL=([env]="mqmon-pub (envelopes)" [line]="mqmon-pub -l" [mosq]="mosquitto_pub -l")

if ((N1 > 65535)); then
	bench_note "N1 = $N1: mosquitto_pub -l loses messages past 65,535 at QoS 1 (message-id wrap)"
fi

# pub_cmd PUB QOS -> $cmd and its stdin in $input
pub_cmd() {
	case $1 in
	env) cmd=("$MQMON_PUB" -q "$2") input=$BENCH_TMP/env.q$2 ;;
	line) cmd=("$MQMON_PUB" -l -t "$TOPIC" -q "$2") input=$BENCH_TMP/data.q$2 ;;
	mosq) cmd=("$MOSQ_PUB" -l -t "$TOPIC" -q "$2") input=$BENCH_TMP/data.q$2 ;;
	esac
	cmd+=("${BENCH_PROTO[@]}" -p "$BENCH_PORT")
}

# counter_cmd ID QOS N -> $ccmd: prints one line per message body
counter_cmd() {
	if [[ $COUNTER == mqmon ]]; then
		ccmd=("$MQMON_SUB" -F raw)
	else
		ccmd=("$MOSQ_SUB")
	fi
	ccmd+=("${BENCH_PROTO[@]}" -p "$BENCH_PORT" -i "$1" -q "$2" -t "$FILTER")
	((OFFLINE)) && ccmd+=(-c)
	[[ -z ${3:-} ]] || ccmd+=(-C "$3")
}

# counter_session ID QOS — -o: the counter's persistent session, subscribed,
# then disconnected
counter_session() {
	local pid
	counter_cmd "$1" "$2"
	if [[ $COUNTER == mqmon ]]; then
		spawn pid 20 /dev/null /dev/null "$BENCH_TMP/count.err" "${ccmd[@]}"
		wait_subscribed "$1" "$2" "$FILTER" 10 || bench_die "$1 did not subscribe: $(cat "$BENCH_TMP/count.err")"
		kill -TERM "$pid" 2>/dev/null || true
		wait_bounded "$pid" 10 || bench_die "$1 did not stop on SIGTERM"
	else
		run 20 /dev/null /dev/null "$BENCH_TMP/count.err" "${ccmd[@]}" -E ||
			bench_die "$1: could not create the session: $(cat "$BENCH_TMP/count.err")"
	fi
}

if ((OFFLINE)); then
	bench_header "mqmon-pub vs mosquitto_pub: publish into a persistent session (counted afterwards), $R runs, median"
else
	bench_header "mqmon-pub vs mosquitto_pub: publish to one live subscriber, $R runs, median"
fi
nmax=$((N0 > N1 ? N0 : N1))
gen_telemetry "$nmax" "$BENCH_TMP/data"
printf 'bodies: %s bytes on average (AutoCore telemetry), topic %s, counted by %s\n\n' \
	"$(awk '{ n += length($0) } END { printf "%d", n / NR }' "$BENCH_TMP/data")" "$TOPIC" \
	"$([[ $COUNTER == mqmon ]] && echo "mqmon-sub -F raw" || echo mosquitto_sub)"

failed=0
IFS=, read -r -a qos_levels <<<"$QOS_LIST"
for q in "${qos_levels[@]}"; do
	[[ $q == [01] ]] || bench_die "QoS $q: only 0 and 1 are benchmarked"
	((q == 0)) && N=$N0 || N=$N1
	head -n "$N" "$BENCH_TMP/data" >"$BENCH_TMP/data.q$q"
	gen_envelopes "$BENCH_TMP/data.q$q" "$BENCH_TMP/env.q$q" "$TOPIC" "$q"
	PUB_LIMIT=$((30 + N / 2000))
	declare -A rates=() cpus=() walls=() bcpus=() lost=()
	for p in "${PUBS[@]}"; do lost[$p]=0; done
	for ((r = 0; r < R; r++)); do
		for ((k = 0; k < ${#PUBS[@]}; k++)); do
			p=${PUBS[(k + r) % ${#PUBS[@]}]}
			id=count-q$q-r$r-$p
			out=$BENCH_TMP/count.q$q.$p
			cpid=
			if ((OFFLINE)); then
				counter_session "$id" "$q"
			else
				counter_cmd "$id" "$q" "$N"
				spawn cpid $((PUB_LIMIT + 60)) /dev/null "$out" "$BENCH_TMP/count.err" "${ccmd[@]}"
				wait_subscribed "$id" "$q" "$FILTER" 10 || bench_die "the counting subscriber did not subscribe: $(cat "$BENCH_TMP/count.err")"
			fi
			pub_cmd "$p" "$q"
			measure "$PUB_LIMIT" "$input" /dev/null "$BENCH_TMP/err.q$q.$p" "${cmd[@]}"
			if ((OFFLINE)); then
				counter_cmd "$id" "$q" "$N"
				spawn cpid $((PUB_LIMIT + 60)) /dev/null "$out" "$BENCH_TMP/count.err" "${ccmd[@]}"
			fi
			if ((M_RC != 0)); then
				bench_note "${LABEL[$p]}, QoS $q, run $((r + 1)): exit status $M_RC"
				sed 's/^/  | /' "$BENCH_TMP/err.q$q.$p" >&2
				failed=1
			fi
			# the subscriber ends at N messages; if some were lost, it is
			# stopped once nothing has come for 3 s
			wait_quiet "$cpid" "$out" 3 60 || true
			read -r lines distinct < <(count_seq "$out")
			if ((distinct != N || lines != N)); then
				bench_note "${LABEL[$p]}, QoS $q, run $((r + 1)): the subscriber received $lines messages ($distinct distinct) of $N"
				lost[$p]=$((lost[$p] + N - distinct))
			fi
			rates[$p]+=" $(awk -v n="$N" -v w="$M_WALL" 'BEGIN { printf "%.1f", n / w }')"
			cpus[$p]+=" $(awk -v n="$N" -v c="$M_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
			walls[$p]+=" $M_WALL"
			bcpus[$p]+=" $(awk -v n="$N" -v c="$M_BROKER_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
			if ((VERBOSE)); then
				bench_note "QoS $q run $((r + 1)) ${LABEL[$p]}: wall $M_WALL s, cpu $M_CPU s, received $lines"
			fi
			rm -f "$out"
		done
	done

	printf 'QoS %s — %s messages published from a file, start to exit%s; median of %s\n' "$q" "$N" \
		"$( ((q > 0)) && echo " (all acknowledged)")" "$R"
	printf '  %-22s %10s %17s %11s %9s %14s %6s\n' publisher msgs/s "(min-max)" "CPU us/msg" "wall s" "broker us/msg" lost
	declare -A med_rate=() med_cpu=()
	for p in "${PUBS[@]}"; do
		# shellcheck disable=SC2086 # word lists
		{
			med_rate[$p]=$(median ${rates[$p]})
			med_cpu[$p]=$(median ${cpus[$p]})
			range=$(printf '%s\n' ${rates[$p]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')
			wall=$(median ${walls[$p]})
			bcpu=$(median ${bcpus[$p]})
		}
		printf '  %-22s %10.0f %17s %11.2f %9.3f %14.2f %6d\n' "${LABEL[$p]}" "${med_rate[$p]}" "($range)" "${med_cpu[$p]}" "$wall" "$bcpu" "${lost[$p]}"
	done
	r1=$(ratio "${med_rate[line]}" "${med_rate[mosq]}")
	r2=$(ratio "${med_rate[env]}" "${med_rate[mosq]}")
	r3=$(ratio "${med_cpu[line]}" "${med_cpu[mosq]}")
	v1=$(verdict "$r1" '>=' 1.0)
	v2=$(verdict "$r2" '>=' 0.8)
	# a publisher that lost messages did less work: its rate proves nothing
	if ((lost[line] + lost[mosq] > 0)); then
		v1="INVALID (messages lost)"
	fi
	if ((lost[env] + lost[mosq] > 0)); then
		v2="INVALID (messages lost)"
	fi
	printf '  ratio msgs/s  mqmon-pub -l / mosquitto_pub -l         %5s  (target >= 1.0)  %s\n' "$r1" "$v1"
	printf '  ratio msgs/s  mqmon-pub envelopes / mosquitto_pub -l  %5s  (target >= 0.8)  %s\n' "$r2" "$v2"
	printf '  ratio CPU/msg mqmon-pub -l / mosquitto_pub -l         %5s  (for information)\n' "$r3"
	for p in "${PUBS[@]}"; do
		if ((lost[$p] > 0)); then
			printf '  LOST: %s lost %d messages in %d runs\n' "${LABEL[$p]}" "${lost[$p]}" "$R"
		fi
	done
	echo
	for v in "$v1" "$v2"; do
		[[ $v == ok ]] || below=1
	done
	unset rates cpus walls bcpus lost med_rate med_cpu
done

if ((${below:-0})); then
	echo "note: some ratios are below target (see above)"
fi
exit "$failed"
