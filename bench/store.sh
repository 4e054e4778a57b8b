#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bench/store.sh [-r R] [-o OPTS] [-k] [-v] [N] — archive throughput:
# envelopes per second that mqmon-store ingests from a file of N envelopes,
# against the sqlite3 shell loading the same file into a messages table with
# the same columns and indexes (in one transaction: .import into a staging
# table, then INSERT … SELECT json_extract(…)).  WAL and
# synchronous=NORMAL on both, a fresh database for every measurement, R runs
# (median), interleaved.  mqmon-store runs twice: archive only (--rule
# '#=ignore') and with its default rules (topics, devices, metrics, states),
# whose database is compared with the archive-only one (target <= 1.5x).
#
#   N        envelopes (500000)
#   -r R     repetitions, the median is reported (3)
#   -o OPTS  extra options for both mqmon-store runs, split on blanks,
#            e.g. -o '--batch 10000 --flush-ms 60000'
#   -k       keep the temp dir (input, databases)
#   -v       print every measurement (stderr)
#
# Environment: MQMON_BIN=DIR with mqmon-store (default ../build/plain/bin,
# then PATH); sqlite3 from PATH.  Exit 1 if a method failed or its database
# does not hold exactly what the input says (a lost row is a failure).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { bench_usage "$0"; }

R=3
VERBOSE=0
STORE_OPTS=()
while getopts 'r:o:kvh' o; do
	case $o in
	r) R=$OPTARG ;;
	o) read -r -a STORE_OPTS <<<"$OPTARG" ;;
	k) BENCH_KEEP=1 ;;
	v) VERBOSE=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
N=${1:-500000}
(($# <= 1)) || usage
[[ $N =~ ^[1-9][0-9]*$ && $R =~ ^[1-9][0-9]*$ ]] || usage

# the input and the databases are hundreds of MB: keep them only with -k
BENCH_KEEP_ON_ERROR=0
bench_setup

MQMON_STORE=$(bench_mqmon_bin mqmon-store)
[[ -x $MQMON_STORE ]] ||
	bench_die "mqmon-store not found (set MQMON_BIN=DIR, build into build/plain, or put it on PATH)"
SQLITE3=$(command -v sqlite3 || true)
[[ -n $SQLITE3 ]] || bench_die "the sqlite3 shell was not found (apt-get install sqlite3)"
command -v timeout >/dev/null || bench_die "timeout (coreutils) not found"

METHODS=(shell arch rules)
declare -A LABEL=([shell]="sqlite3 shell" [arch]="mqmon-store '#=ignore'" [rules]="mqmon-store default rules")
DATA=$BENCH_TMP/envelopes.ndjson
# one load should take seconds; far beyond that it is a failure
LIMIT=$((60 + N / 5000))
# queries on a finished database, sync
QLIMIT=$((30 + N / 20000))

# q DB SQL — one query, its output on stdout; a failure is fatal
q() {
	if ! run "$QLIMIT" /dev/null "$BENCH_TMP/q.out" "$BENCH_TMP/q.err" "$SQLITE3" -batch -bail "$1" "$2"; then
		bench_die "sqlite3 $1: $(cat "$BENCH_TMP/q.err") (in: $2)"
	fi
	cat "$BENCH_TMP/q.out"
}

# --- the input, and what a correct archive of it holds ---------------------

bench_note "generating $N envelopes"
gen_fleet "$N" "$DATA" "$BENCH_TMP/expect"
declare -A EXPECT=()
while read -r k v; do
	EXPECT[$k]=$v
done <"$BENCH_TMP/expect"
((EXPECT[lines] == N)) || bench_die "the generator wrote ${EXPECT[lines]} of $N lines"

# --- the sqlite3 shell's load: the messages table as mqmon-store creates it

# The CREATE statements come from an empty database made by the mqmon-store
# under test, so they are exactly its schema (src/store.c), whatever version.
run "$QLIMIT" /dev/null /dev/null "$BENCH_TMP/schema.err" "$MQMON_STORE" --db "$BENCH_TMP/schema.db" --rule '#=ignore' ||
	bench_die "mqmon-store could not create an empty database: $(cat "$BENCH_TMP/schema.err")"
q "$BENCH_TMP/schema.db" "SELECT sql || ';' FROM sqlite_master WHERE tbl_name = 'messages' AND sql IS NOT NULL ORDER BY type = 'table' DESC, name" >"$BENCH_TMP/schema.sql"
rm -f "$BENCH_TMP/schema.db"*
grep -q '^CREATE TABLE messages' "$BENCH_TMP/schema.sql" || bench_die "no messages table in mqmon-store's schema"
N_INDEXES=$(grep -c '^CREATE INDEX' "$BENCH_TMP/schema.sql" || true)
[[ $DATA != *"'"* ]] || bench_die "the temp dir's path contains a quote: $DATA"

# One transaction.  .mode ascii reads fields without any quoting rules; the
# field separator \037 (ASCII unit separator) never occurs in the input, so
# each whole line is one field.  json_extract of an object returns its JSON
# text, which is what mqmon-store stores for "enc":"json".
{
	echo '.bail on'
	echo 'PRAGMA journal_mode=WAL;'
	echo 'PRAGMA synchronous=NORMAL;'
	cat "$BENCH_TMP/schema.sql"
	echo 'BEGIN;'
	echo 'CREATE TEMP TABLE staging(line TEXT);'
	echo '.mode ascii'
	printf '%s\n' '.separator "\037" "\n"'
	echo ".import '$DATA' staging"
	echo "INSERT INTO messages(ts, topic, device, qos, retain, enc, payload, props)" \
		"SELECT json_extract(line, '\$.ts'), json_extract(line, '\$.topic'), NULL, json_extract(line, '\$.qos')," \
		"json_extract(line, '\$.retain'), json_extract(line, '\$.enc'), json_extract(line, '\$.payload'), NULL" \
		"FROM staging;"
	echo 'COMMIT;'
} >"$BENCH_TMP/load.sql"

# --- checks -----------------------------------------------------------------

# counts_sql METHOD — a query: "name=count …" of the tables METHOD fills
counts_sql() {
	case $1 in
	shell) echo "SELECT 'messages=' || (SELECT count(*) FROM messages)" ;;
	arch) echo "SELECT 'messages=' || (SELECT count(*) FROM messages) || ' topics=' || (SELECT count(*) FROM topics)
		|| ' devices=' || (SELECT count(*) FROM devices) || ' metrics=' || (SELECT count(*) FROM metrics)
		|| ' rejects=' || (SELECT count(*) FROM rejects)" ;;
	rules) echo "SELECT 'messages=' || (SELECT count(*) FROM messages) || ' topics=' || (SELECT count(*) FROM topics)
		|| ' devices=' || (SELECT count(*) FROM devices) || ' metrics=' || (SELECT count(*) FROM metrics)
		|| ' states=' || (SELECT count(*) FROM states) || ' state_changes=' || (SELECT count(*) FROM state_changes)
		|| ' rejects=' || (SELECT count(*) FROM rejects)" ;;
	esac
}
declare -A WANT=(
	[shell]="messages=$N"
	[arch]="messages=$N topics=${EXPECT[topics]} devices=0 metrics=0 rejects=0"
	# every telemetry body has 4 numeric fields
	[rules]="messages=$N topics=${EXPECT[topics]} devices=${EXPECT[devices]} metrics=$((4 * EXPECT[telemetry])) states=${EXPECT[states]} state_changes=${EXPECT[state_changes]} rejects=0"
)
# the messages table's content, the same for every method
CONTENT_SQL="SELECT count(*), sum(length(payload)), sum(qos), sum(retain), min(ts), max(ts), count(DISTINCT topic), count(device) > 0 FROM messages"
declare -A WANT_CONTENT=(
	[shell]="$N|${EXPECT[payload_bytes]}|$N|${EXPECT[status]}|${EXPECT[first_ts]}|${EXPECT[last_ts]}|${EXPECT[topics]}|0"
	[arch]="$N|${EXPECT[payload_bytes]}|$N|${EXPECT[status]}|${EXPECT[first_ts]}|${EXPECT[last_ts]}|${EXPECT[topics]}|0"
	[rules]="$N|${EXPECT[payload_bytes]}|$N|${EXPECT[status]}|${EXPECT[first_ts]}|${EXPECT[last_ts]}|${EXPECT[topics]}|1"
)

# check METHOD DB ERR FULL — the load exited 0 and DB holds what it must;
# FULL: also compare the messages table's content (a full scan)
check() {
	local m=$1 db=$2 err=$3 full=$4 got
	if ((M_RC != 0)); then
		bench_note "${LABEL[$m]}: exit status $M_RC$( ((M_RC == 124)) && echo " (timed out after $LIMIT s)")"
		sed 's/^/  | /' "$err" >&2
		bench_die "a load that failed measures nothing (-k keeps the files)"
	fi
	if [[ -s $err ]]; then
		bench_note "${LABEL[$m]} wrote on stderr:"
		head -5 "$err" | sed 's/^/  | /' >&2
	fi
	got=$(q "$db" "$(counts_sql "$m")")
	if [[ $got != "${WANT[$m]}" ]]; then
		bench_note "${LABEL[$m]}: the database holds  $got"
		bench_note "${LABEL[$m]}: the input needs      ${WANT[$m]}"
		bench_die "a benchmark that lost rows is wrong: stopping (-k keeps the files)"
	fi
	if ((full)); then
		got=$(q "$db" "$CONTENT_SQL")
		if [[ $got != "${WANT_CONTENT[$m]}" ]]; then
			bench_note "${LABEL[$m]}: messages holds (count|payload bytes|qos|retained|first ts|last ts|topics|device set)"
			bench_note "  $got, but the input needs"
			bench_note "  ${WANT_CONTENT[$m]}"
			bench_die "the methods did not store the same messages: stopping (-k keeps the files)"
		fi
	fi
}

# db_bytes DB — the database's size on disk, WAL included (both methods
# close cleanly, which checkpoints and removes the WAL)
db_bytes() {
	local f total=0
	for f in "$1" "$1-wal"; do
		[[ -e $f ]] && total=$((total + $(stat -c %s "$f")))
	done
	echo "$total"
}

# --- header -----------------------------------------------------------------

sqlite_lib() { # the libsqlite3 a program loads, resolved; "" when linked in
	local out
	if ! command -v ldd >/dev/null || ! out=$(ldd "$1" 2>/dev/null); then
		echo "?"
		return
	fi
	awk '/libsqlite3/ { print $3 }' <<<"$out" | xargs -r readlink -f
}
store_lib=$(sqlite_lib "$MQMON_STORE")
shell_lib=$(sqlite_lib "$SQLITE3")
if [[ $store_lib == "?" ]]; then
	store_lib_note="unknown (no ldd, or not a dynamic executable)"
elif [[ -z $store_lib ]]; then
	store_lib_note="SQLite linked in (not the shell's library)"
elif [[ $store_lib == "$shell_lib" ]]; then
	store_lib_note="the shell's library, $store_lib"
else
	store_lib_note="$store_lib (the shell uses ${shell_lib:-its own, linked in})"
fi
printf 'mqmon-store vs the sqlite3 shell: %s envelopes from a file into a fresh database, WAL, synchronous=NORMAL; %s runs, median — %s, %s, %s cores\n' \
	"$N" "$R" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -m)" "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')"
printf 'mqmon-store: %s%s; SQLite: %s\n' "$MQMON_STORE" "${STORE_OPTS[*]:+ ${STORE_OPTS[*]}}" "$store_lib_note"
printf 'sqlite3 shell: %s %s\n' "$SQLITE3" "$("$SQLITE3" -version | awk '{ print $1 }')"
printf 'input: %s bytes/line; %s telemetry, %s status, %s relay; %s devices, %s topics\n' \
	"$(awk -v b="$(stat -c %s "$DATA")" -v n="$N" 'BEGIN { printf "%d", b / n }')" \
	"${EXPECT[telemetry]}" "${EXPECT[status]}" "${EXPECT[relay]}" "${EXPECT[devices]}" "${EXPECT[topics]}"
printf 'sqlite3 shell: one transaction: .import into a TEMP staging table, INSERT … SELECT json_extract(…) into messages (%s indexes)\n\n' "$N_INDEXES"

# --- the runs ---------------------------------------------------------------

# method_cmd METHOD DB -> CMD array in $cmd, its stdin in $input
method_cmd() {
	case $1 in
	shell) cmd=("$SQLITE3" "$2") input=$BENCH_TMP/load.sql ;;
	arch) cmd=("$MQMON_STORE" --db "$2" --rule '#=ignore' "${STORE_OPTS[@]}") input=$DATA ;;
	rules) cmd=("$MQMON_STORE" --db "$2" "${STORE_OPTS[@]}") input=$DATA ;;
	esac
}

declare -A rates=() cpus=() walls=() sizes=()
for ((r = 0; r < R; r++)); do
	# interleaved, the order rotated each run
	for ((k = 0; k < ${#METHODS[@]}; k++)); do
		m=${METHODS[(k + r) % ${#METHODS[@]}]}
		db=$BENCH_TMP/$m.db
		rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
		method_cmd "$m" "$db"
		# the previous load's writeback is not this one's cost
		run "$QLIMIT" /dev/null /dev/null /dev/null sync || true
		measure "$LIMIT" "$input" "$BENCH_TMP/out.$m" "$BENCH_TMP/err.$m" "${cmd[@]}"
		check "$m" "$db" "$BENCH_TMP/err.$m" $((r == 0))
		size=$(db_bytes "$db")
		rates[$m]+=" $(awk -v n="$N" -v w="$M_WALL" 'BEGIN { printf "%.1f", n / w }')"
		cpus[$m]+=" $(awk -v n="$N" -v c="$M_CPU" 'BEGIN { printf "%.4f", c * 1e6 / n }')"
		walls[$m]+=" $M_WALL"
		sizes[$m]+=" $size"
		if ((VERBOSE)); then
			bench_note "run $((r + 1)) ${LABEL[$m]}: wall $M_WALL s, cpu $M_CPU s, $size bytes"
		fi
		rm -f "$db" "$db-wal" "$db-shm"
	done
done

printf '%s envelopes loaded from a file into a fresh database; median of %s\n' "$N" "$R"
printf '  %-27s %10s %17s %11s %9s %9s\n' method envelopes/s "(min-max)" "CPU us/env" "wall s" "db MB"
declare -A med_rate=() med_cpu=() med_size=()
for m in "${METHODS[@]}"; do
	# shellcheck disable=SC2086 # word lists
	{
		med_rate[$m]=$(median ${rates[$m]})
		med_cpu[$m]=$(median ${cpus[$m]})
		range=$(printf '%s\n' ${rates[$m]} | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }')
		wall=$(median ${walls[$m]})
		med_size[$m]=$(median ${sizes[$m]})
		mb=$(awk -v b="${med_size[$m]}" 'BEGIN { printf "%.1f", b / 1e6 }')
	}
	printf '  %-27s %10.0f %17s %11.2f %9.3f %9s\n' "${LABEL[$m]}" "${med_rate[$m]}" "($range)" "${med_cpu[$m]}" "$wall" "$mb"
done
r1=$(ratio "${med_rate[arch]}" "${med_rate[shell]}")
r2=$(ratio "${med_rate[rules]}" "${med_rate[shell]}")
r3=$(ratio "${med_cpu[arch]}" "${med_cpu[shell]}")
r4=$(ratio "${med_cpu[rules]}" "${med_cpu[shell]}")
v1=$(verdict "$r1" '>=' 1.0)
r5=$(ratio "${med_size[rules]}" "${med_size[arch]}")
v2=$(verdict "$r2" '>=' 0.6)
v5=$(verdict "$r5" '<=' 1.5)
printf '  ratio env/s   mqmon-store archive only / sqlite3 shell   %5s  (target >= 1.0)  %s\n' "$r1" "$v1"
printf '  ratio env/s   mqmon-store default rules / sqlite3 shell  %5s  (target >= 0.6)  %s\n' "$r2" "$v2"
printf '  ratio db size mqmon-store default rules / archive only    %5s  (target <= 1.5)  %s\n' "$r5" "$v5"
printf '  ratio CPU/env mqmon-store archive only / sqlite3 shell   %5s  (for information)\n' "$r3"
printf '  ratio CPU/env mqmon-store default rules / sqlite3 shell  %5s  (for information)\n' "$r4"
printf '  every load checked: %s; default rules: %s\n' "${WANT[shell]}" "${WANT[rules]}"
printf "  (%s s in all)\n" "$SECONDS"

if [[ $v1 != ok || $v2 != ok || $v5 != ok ]]; then
	echo "note: some ratios are below target (see above)"
fi
exit 0
