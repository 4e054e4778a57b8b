#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/live.sh [-r R] [-q LIST] [-V VER] [-P PUB] [-L M] [-k] [-v] [N] —
# live streams: a publisher at full speed into mqmon-sub, then into
# mosquitto_sub -F %J, one at a time on one private broker, at QoS 0 and 1;
# the receiving rate, the subscriber's and the broker's CPU per message and
# the broker's context switches.  Then the latency of single messages on an
# idle stream: one message every 50 ms, publish to stdout, p50/p99/max.
#
#   N        messages per live measurement (200000)
#   -r R     repetitions, the median is reported (3)
#   -q LIST  QoS levels to run, e.g. -q 1 (0,1)
#   -V VER   MQTT version for every client (5, 311); default: each
#            client's own default (mqmon 5, mosquitto 3.1.1)
#   -P PUB   the publisher: mqmon (mqmon-pub -l, the default) or mosquitto
#            (mosquitto_pub -l; at QoS 1 it loses messages past 65,535)
#   -R RATE  cap the publisher at RATE msgs/s (mqmon-pub --rate): both
#            subscribers then get the same stream, and the broker's CPU per
#            message compares like with like (default: full speed)
#   -L M     messages per latency measurement (200; 0 skips it)
#   -B DIR   also run DIR/mqmon-sub (e.g. a build from before a change)
#            as a third client, "mqmon-sub (B)"
#   -k       keep the temp dir (outputs, broker log)
#   -v       print every measurement (stderr)
#
# Environment: MQMON_BIN=DIR with mqmon-sub and mqmon-pub (default
# ../build/plain/bin, then PATH).  Exit 1 if a client lost messages or failed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { bench_usage "$0"; }

R=3
QOS_LIST="0,1"
VERBOSE=0
PUBLISHER=mqmon
LAT_N=200
OTHER=
RATE=
while getopts 'r:V:q:P:L:B:R:kvh' o; do
	case $o in
	r) R=$OPTARG ;;
	V) BENCH_PROTO=(-V "$OPTARG") ;;
	q) QOS_LIST=$OPTARG ;;
	P) PUBLISHER=$OPTARG ;;
	L) LAT_N=$OPTARG ;;
	B) OTHER=$OPTARG/mqmon-sub ;;
	R) RATE=$OPTARG ;;
	k) BENCH_KEEP=1 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
N=${1:-200000}
(($# <= 1)) || usage
[[ $N =~ ^[1-9][0-9]*$ && $R =~ ^[1-9][0-9]*$ && $LAT_N =~ ^[0-9]+$ ]] || usage
[[ $PUBLISHER == mqmon || $PUBLISHER == mosquitto ]] || usage
[[ -z $RATE || ($RATE =~ ^[1-9][0-9]*$ && $PUBLISHER == mqmon) ]] || usage

bench_init

TOPIC=bench/t
CLIENTS=(mqmon J)
declare -A LABEL=([mqmon]="mqmon-sub" [J]="mosquitto_sub -F %J" [B]="mqmon-sub (B)")
if [[ -n $OTHER ]]; then
	[[ -x $OTHER ]] || bench_die "-B: $OTHER not found"
	CLIENTS+=(B)
fi
LIMIT=$((30 + N / 2000))

client_cmd() { # client_cmd CLIENT -> CMD array in $cmd
	case $1 in
	mqmon) cmd=("$MQMON_SUB") ;;
	J) cmd=("$MOSQ_SUB" -F %J) ;;
	B) cmd=("$OTHER") ;;
	esac
	cmd+=("${BENCH_PROTO[@]}" -p "$BENCH_PORT")
}

pub_cmd() { # pub_cmd QOS TOPIC [RATE] -> CMD array in $pcmd
	if [[ $PUBLISHER == mqmon ]]; then
		pcmd=("$MQMON_PUB" "${BENCH_PROTO[@]}" -p "$BENCH_PORT" -q "$1" -t "$2" -l ${3:+--rate "$3"})
	else
		pcmd=("$MOSQ_PUB" "${BENCH_PROTO[@]}" -p "$BENCH_PORT" -q "$1" -t "$2" -l -M 100)
	fi
}

# broker_cs — the broker's "voluntary involuntary" context switches so far
broker_cs() {
	awk '/^voluntary_ctxt_switches/ { v = $2 } /^nonvoluntary_ctxt_switches/ { n = $2 }
		END { printf "%d %d\n", v, n }' "/proc/$BENCH_BROKER_PID/status" 2>/dev/null || echo "0 0"
}

# start_client OUT ERR CMD... — CMD in the background under `timeout`; its
# end time, status and CPU go to $BENCH_TMP/client.res (as in measure())
start_client() {
	local out=$1 err=$2
	shift 2
	: >"$BENCH_TMP/client.res"
	: >"$BENCH_TMP/client.pid"
	(
		trap - EXIT
		trap '' INT
		timeout -k 2 "$LIMIT" "$@" </dev/null >"$out" 2>"$err" &
		p=$!
		echo "$p" >"$BENCH_TMP/client.pid"
		rc=0
		wait "$p" || rc=$?
		echo "$EPOCHREALTIME $rc"
		times
	) >"$BENCH_TMP/client.res" &
	CLIENT_SH=$!
	bench_pids+=("$CLIENT_SH")
	while [[ ! -s $BENCH_TMP/client.pid ]]; do sleep 0.005; done
	bench_pids+=("-$(<"$BENCH_TMP/client.pid")")
}

# finish_client — wait (bounded) for the client; sets C_END, C_RC, C_CPU
finish_client() {
	local gid
	gid=$(<"$BENCH_TMP/client.pid")
	if ! wait_quiet "$CLIENT_SH" "$1" 10 "$LIMIT"; then
		_stop_group "$gid"
	fi
	_forget "$gid"
	read -r C_END C_RC C_CPU < <(awk '
		function sec(s,   m) { sub(/s$/, "", s); m = s; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", s); return m * 60 + s }
		NR == 1 { t = $1; rc = $2 }
		NR == 3 { cpu = sec($1) + sec($2) }
		END { if (NR < 3) { rc = 255; t = 0 } printf "%s %d %.6f\n", t, rc, cpu }' "$BENCH_TMP/client.res")
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

SPEED=${RATE:+at $RATE msgs/s}
SPEED=${SPEED:-at full speed}
bench_header "live streams: mqmon-sub vs mosquitto_sub -F %J, $N messages from a publisher $SPEED, $R runs, median"
[[ -z $OTHER ]] || printf 'mqmon-sub (B): %s\n' "$OTHER"
printf 'publisher: %s; load average at start: %s\n' \
	"$([[ $PUBLISHER == mqmon ]] && echo "mqmon-pub -l" || echo "mosquitto_pub -l")" "$(load)"
gen_telemetry "$N" "$BENCH_TMP/data"
printf 'bodies: %s bytes on average (AutoCore telemetry), topic %s\n\n' \
	"$(awk '{ n += length($0) } END { printf "%d", n / NR }' "$BENCH_TMP/data")" "$TOPIC"

failed=0
IFS=, read -r -a qos_levels <<<"$QOS_LIST"
for q in "${qos_levels[@]}"; do
	[[ $q == [01] ]] || bench_die "QoS $q: only 0 and 1 are benchmarked"
	declare -A rates=() cpus=() bcpus=() vcs=() ics=()
	for ((r = 0; r < R; r++)); do
		for ((k = 0; k < ${#CLIENTS[@]}; k++)); do
			c=${CLIENTS[(k + r) % ${#CLIENTS[@]}]}
			id=live-q$q-r$r-$c
			out=$BENCH_TMP/out.q$q.$c
			client_cmd "$c"
			start_client "$out" "$BENCH_TMP/err.q$q.$c" "${cmd[@]}" -i "$id" -q "$q" -t "$TOPIC" -C "$N"
			wait_subscribed "$id" "$q" "$TOPIC" 10 || bench_die "$id did not subscribe: $(cat "$BENCH_TMP/err.q$q.$c")"
			b0=$(broker_cpu)
			read -r v0 i0 < <(broker_cs)
			t0=$EPOCHREALTIME
			pub_cmd "$q" "$TOPIC" "$RATE"
			run "$LIMIT" "$BENCH_TMP/data" /dev/null "$BENCH_TMP/pub.err" "${pcmd[@]}" ||
				bench_die "the publisher failed: $(cat "$BENCH_TMP/pub.err")"
			finish_client "$out"
			b1=$(broker_cpu)
			read -r v1 i1 < <(broker_cs)
			read -r lines distinct < <(count_seq "$out")
			if ((C_RC != 0 || lines != N || distinct != N)); then
				bench_note "${LABEL[$c]}, QoS $q, run $((r + 1)): exit status $C_RC, $lines lines, $distinct distinct of $N messages"
				sed 's/^/  | /' "$BENCH_TMP/err.q$q.$c" >&2
				bench_die "a benchmark that lost messages is wrong: stopping (files kept)"
			fi
			wall=$(awk -v a="$t0" -v b="$C_END" 'BEGIN { printf "%.6f", b - a }')
			rates[$c]+=" $(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%.1f", n / w }')"
			cpus[$c]+=" $(awk -v n="$N" -v c="$C_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
			bcpus[$c]+=" $(awk -v n="$N" -v a="$b0" -v b="$b1" 'BEGIN { printf "%.4f", (b - a) * 1e6 / n }')"
			vcs[$c]+=" $((v1 - v0))"
			ics[$c]+=" $((i1 - i0))"
			if ((VERBOSE)); then
				bench_note "QoS $q run $((r + 1)) ${LABEL[$c]}: wall $wall s, cpu $C_CPU s, broker $(awk -v a="$b0" -v b="$b1" 'BEGIN { print b - a }') s, broker switches $((v1 - v0))+$((i1 - i0))"
			fi
			rm -f "$out"
		done
	done

	printf 'QoS %s — %s messages published %s while the subscriber receives; median of %s\n' "$q" "$N" "$SPEED" "$R"
	printf '  %-22s %10s %17s %11s %14s %16s\n' client msgs/s "(min-max)" "CPU us/msg" "broker us/msg" "broker cs v/inv"
	declare -A med_rate=() med_cpu=() med_bcpu=()
	for c in "${CLIENTS[@]}"; do
		# shellcheck disable=SC2086 # word lists
		{
			med_rate[$c]=$(median ${rates[$c]})
			med_cpu[$c]=$(median ${cpus[$c]})
			med_bcpu[$c]=$(median ${bcpus[$c]})
			range=$(printf '%s\n' ${rates[$c]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')
			cs=$(printf '%.0f/%.0f' "$(median ${vcs[$c]})" "$(median ${ics[$c]})")
		}
		printf '  %-22s %10.0f %17s %11.2f %14.2f %16s\n' "${LABEL[$c]}" "${med_rate[$c]}" "($range)" "${med_cpu[$c]}" "${med_bcpu[$c]}" "$cs"
	done
	r1=$(ratio "${med_rate[mqmon]}" "${med_rate[J]}")
	r2=$(ratio "${med_bcpu[mqmon]}" "${med_bcpu[J]}")
	r3=$(ratio "${med_cpu[mqmon]}" "${med_cpu[J]}")
	v1=$(verdict "$r1" '>=' 1.1)
	[[ -z $RATE ]] || v1=ok # both get the capped stream: nothing to compare
	v2=$(verdict "$r2" '<=' 1.05)
	printf '  ratio msgs/s        mqmon-sub / mosquitto_sub -F %%J  %5s  (target >= 1.1)   %s\n' "$r1" "$v1"
	printf '  ratio broker CPU/msg mqmon-sub / mosquitto_sub -F %%J %5s  (target <= 1.05)  %s\n' "$r2" "$v2"
	printf '  ratio CPU/msg       mqmon-sub / mosquitto_sub -F %%J  %5s  (for information)\n' "$r3"
	if [[ -n $OTHER ]]; then
		printf '  ratio msgs/s        mqmon-sub (B) / mosquitto_sub -F %%J      %5s\n' "$(ratio "${med_rate[B]}" "${med_rate[J]}")"
		printf '  ratio broker CPU/msg mqmon-sub (B) / mosquitto_sub -F %%J     %5s\n' "$(ratio "${med_bcpu[B]}" "${med_bcpu[J]}")"
	fi
	echo
	for v in "$v1" "$v2"; do
		[[ $v == ok ]] || failed=1
	done
	unset rates cpus bcpus vcs ics med_rate med_cpu med_bcpu
done

# --- latency on an idle stream ------------------------------------------------
# One message every 50 ms carries its publish time ($EPOCHREALTIME taken just
# before the line goes to the publisher's stdin); each line the subscriber
# writes is stamped on arrival by a bash reader on its stdout.  The latency
# is arrival - publish time: publisher, broker, subscriber and the pipe.

# stamp_lines OUT — "ARRIVAL LINE" for each line of stdin
stamp_lines() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done >"$1"
}

# latencies FILE — the latencies (ms) of the stamped lines in FILE
latencies() {
	awk '{ if (match($0, /"t":[0-9.]+/)) printf "%.3f\n", ($1 - substr($0, RSTART + 4, RLENGTH - 4)) * 1000 }' "$1"
}

# pct P — the P-th percentile (nearest rank) of the sorted numbers on stdin
pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'; }

if ((LAT_N > 0)); then
	LAT_TOPIC=bench/lat
	declare -A p50s=() p99s=() maxs=()
	for ((r = 0; r < R; r++)); do
		for ((k = 0; k < ${#CLIENTS[@]}; k++)); do
			c=${CLIENTS[(k + r) % ${#CLIENTS[@]}]}
			id=lat-r$r-$c
			out=$BENCH_TMP/lat.$c
			client_cmd "$c"
			(
				trap - EXIT
				timeout -k 2 "$LIMIT" "${cmd[@]}" -i "$id" -t "$LAT_TOPIC" -C "$((LAT_N + 1))" </dev/null 2>"$BENCH_TMP/lat.err" |
					stamp_lines "$out"
			) &
			lat_pid=$!
			bench_pids+=("$lat_pid")
			wait_subscribed "$id" 0 "$LAT_TOPIC" 10 || bench_die "$id did not subscribe: $(cat "$BENCH_TMP/lat.err")"
			pub_cmd 0 "$LAT_TOPIC"
			# a first message without a time, while the publisher connects
			{
				printf '{"seq":0}\n'
				sleep 0.3
				for ((i = 1; i <= LAT_N; i++)); do
					printf '{"seq":%d,"t":%s}\n' "$i" "$EPOCHREALTIME"
					sleep 0.05
				done
			} | timeout -k 2 "$LIMIT" "${pcmd[@]}" >/dev/null 2>"$BENCH_TMP/pub.err" ||
				bench_die "the latency publisher failed: $(cat "$BENCH_TMP/pub.err")"
			wait_quiet "$lat_pid" "$out" 10 "$LIMIT" || true
			n=$(latencies "$out" | wc -l)
			((n == LAT_N)) || bench_die "${LABEL[$c]}: $n of $LAT_N latency messages arrived"
			p50s[$c]+=" $(latencies "$out" | pct 50)"
			p99s[$c]+=" $(latencies "$out" | pct 99)"
			maxs[$c]+=" $(latencies "$out" | pct 100)"
			if ((VERBOSE)); then
				bench_note "latency run $((r + 1)) ${LABEL[$c]}: p50 $(latencies "$out" | pct 50) ms, p99 $(latencies "$out" | pct 99) ms"
			fi
		done
	done
	printf 'Idle stream — %s single messages 50 ms apart, publish to stdout (ms); median of %s\n' "$LAT_N" "$R"
	printf '  %-22s %8s %8s %8s\n' client p50 p99 max
	for c in "${CLIENTS[@]}"; do
		# shellcheck disable=SC2086 # word lists
		printf '  %-22s %8.2f %8.2f %8.2f\n' "${LABEL[$c]}" "$(median ${p50s[$c]})" "$(median ${p99s[$c]})" "$(median ${maxs[$c]})"
	done
	# shellcheck disable=SC2086 # word lists
	p99=$(median ${p99s[mqmon]})
	v=$(awk -v p="$p99" 'BEGIN { print (p <= 5 ? "ok" : "ABOVE TARGET (worse)") }')
	printf '  mqmon-sub p99 %.2f ms  (target <= 5 ms)  %s\n\n' "$p99" "$v"
	[[ $v == ok ]] || failed=1
fi

printf 'load average at the end: %s\n' "$(load)"
if ((failed)); then
	echo "note: some figures miss their target (see above)"
fi
exit 0
