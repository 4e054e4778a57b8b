#!/usr/bin/env bash
# What a SIGKILL loses, measured against the documented bounds (GUARANTEES
# in mqmon(7), mqmon-sub(1), mqmon-store(1)).  libmosquitto acknowledges a
# QoS 1 message before the program sees it, so what a killed process held is
# gone; everything the broker still held must arrive after a restart.
#
#   feeder -> mqmon-pub -q 1 --rate R -> broker (persistence on) ->
#   mqmon-sub -c -i kwsub -q 1 | mqmon-store --db F --batch B --tee
#
# with numbered envelopes at a steady rate, the pipeline joined by a FIFO
# (a pipe: the reader sees EOF when the writer dies, the writer EPIPE when
# the reader dies).  Four runs of the pipeline, each with the same client id,
# each started a while after the previous one ended (the broker queues the
# session's messages meanwhile, and the queue must arrive whole):
#   1. mqmon-sub SIGKILLed mid-stream, its reader keeping up; mqmon-store
#      reads to EOF and commits.  Lost: what mqmon-sub had acknowledged but
#      not written (its output block, < 64 KiB).
#   2. mqmon-store stopped (SIGSTOP) before the broker's queue pours in:
#      the pipe fills, mqmon-sub blocks writing a block; then mqmon-sub
#      SIGKILLed, and mqmon-store (SIGCONT) reads the pipe to EOF.  Lost:
#      the rest of mqmon-sub's block (the worst case of 1).
#   3. mqmon-store SIGKILLed mid-stream: mqmon-sub gets EPIPE and ends.
#      Lost: the open batch (<= --batch lines, about --flush-ms worth), the
#      pipe (64 KiB) and mqmon-sub's block.
#   4. the broker SIGKILLed and restarted on its port with its last autosave:
#      mqmon-pub and mqmon-sub reconnect by themselves.  What the broker
#      lost is reported (mosquitto saves on a timer); everything published
#      after it came back must arrive.
# Each loss is counted in the SQLite database and must be within its bound
# computed from the flags and the envelope size; the measured losses are
# printed.  The loss of each phase is told apart by the rows of each run
# (messages.id): a phase's losses lie between the last number of one run and
# the first new number of the next.
# shellcheck disable=SC2016,SC2034,SC2317 # conditions eval'd by wait_until
# shellcheck source=tests/lib.sh
. "${srcdir:-.}/tests/lib.sh"
[[ ${MQMON_QUICK:-} == 1 ]] && skip "MQMON_QUICK=1: the plain build runs this one"
require_cmd sqlite3
RATE=500
BATCH=250
DOWN=2.5 # seconds the pipeline stays down after a kill
if [[ ${MQMON_SANITIZERS:-} == 1 ]]; then
	RATE=300
	DOWN=3
fi
PIPE=65536  # a pipe's capacity (Linux default)
BLOCK=65536 # mqmon-sub's output block (src/out.c)
# log_type debug: the broker logs every PUBLISH it receives, and clients
# coming and going, so the test can count what it queued meanwhile
broker_start --persist --extra "log_type subscribe" --extra "log_type debug"
BLOG=$(broker_log)

sql() { sqlite3 -batch -cmd '.timeout 10000' "$T/kw.db" "$@" 2>/dev/null; }
# NUMBERS [WHERE]: the envelope numbers of the rows, one per line
numbers() { sql "SELECT payload FROM messages ${1:-}" | sed -nE 's/^[^0-9]*([0-9]+).*/\1/p'; }
max_id() { sql 'SELECT coalesce(max(id), 0) FROM messages'; }
distinct_ge() { [ "$(numbers | sort -u | wc -l)" -ge "$1" ]; }
log_has_after() { # OFFSET STRING: the broker log has STRING after byte OFFSET
	tail -c +$(($1 + 1)) "$BLOG" | grep -qF -- "$2"
}
log_size() { echo $(($(wc -c <"$BLOG"))); }
# the PUBLISHes mqmon-pub sent while kwsub was away, from byte OFFSET on:
# from its disconnection to its next connection
queued_since() {
	tail -c +$(($1 + 1)) "$BLOG" | awk '
		/Client kwsub (closed its connection|disconnected)|Socket error on client kwsub|Client kwsub has exceeded/ { away = 1 }
		/New client connected .* as kwsub / { if (away) { print n + 0; exit } }
		away && /Received PUBLISH from kwpub / { n++ }'
}

# --- mqmon-pub, fed through a FIFO: a feeder writes numbered envelopes until
# told to stop, and a holder keeps the FIFO open for the last batch
mkfifo "$T/pub.in"
stage() { # NAME IN OUT CMD...
	local name=$1 in=$2 out=$3
	shift 3
	run_bg "$name" bash -c 'in=$1 out=$2; shift 2; exec "$@" <"$in" >"$out"' _ "$in" "$out" "$@"
}
# envelopes: the awk program that writes the envelopes numbered first..last,
# or from first on until the file stop exists, then the last number to fed
envelopes() {
	printf '%s' 'function pad(s) { while (length(s) < 300) s = s "x"; return s }
	BEGIN { p = pad(""); for (i = first; last == "" || i <= last; i++) {
		printf "{\"topic\":\"kw/d%d/data\",\"qos\":1,\"payload\":{\"n\":%d,\"pad\":\"%s\"}}\n", i % 7, i, p
		if (last == "" && i % 50 == 0 && (getline x <stop) >= 0) { print i >fed; exit }
	} }'
}

# --- the pipeline, run K: mqmon-sub -> FIFO -> mqmon-store
pipeline() { # K [stopped]: with "stopped", mqmon-store stops itself (SIGSTOP)
	# as soon as its FIFO is open, and runs on SIGCONT
	local stop=''
	[[ ${2-} == stopped ]] && stop='kill -STOP $$;'
	mkfifo "$T/pipe$1"
	run_bg "store$1" bash -c 'exec <"$1" >"$2"; '"$stop"' shift 2; exec "$@"' _ "$T/pipe$1" "$T/store$1.tee" \
		mqmon-store --db "$T/kw.db" --batch "$BATCH" --tee
	stage "sub$1" /dev/null "$T/pipe$1" mqmon-sub -p "$BROKER_PORT" -c -i kwsub -q 1 -t 'kw/#' \
		--reconnect-delay 0.1:0.5
}
# subscribed_after OFFSET K: wait until the broker logs the subscription of
# run K after byte OFFSET of its log
subscribed_after() { wait_until 10 log_has_after "$1" "kwsub 1 kw/#" || fail "run $2: mqmon-sub did not subscribe"; }

off=$(log_size)
pipeline 1
subscribed_after "$off" 1
stage pub "$T/pub.in" "$T/pub.out" mqmon-pub -p "$BROKER_PORT" -i kwpub -q 1 --rate "$RATE" \
	--reconnect-delay 0.1:0.5
stage hold /dev/null "$T/pub.in" sleep 600
stage feed /dev/null "$T/pub.in" awk -v first=1 -v last= -v stop="$T/stop" -v fed="$T/fed" "$(envelopes)"
wait_until 20 distinct_ge $((RATE * 2)) || fail "run 1: nothing reaches the database"

# restart_pipeline K OFFSET [stopped]: start run K of the pipeline once run
# K-1 has ended (from byte OFFSET of the broker's log on), take the number of
# messages the broker queued meanwhile (Q[K-1]) and wait until that queue is
# stored; or, with "stopped", stop its mqmon-store (SIGSTOP) before the
# queue comes.  R[K-1]: the last row of run K-1
declare -a R Q
restart_pipeline() {
	local k=$1 before
	R[k - 1]=$(max_id)
	before=$(numbers | sort -u | wc -l)
	sleep "$DOWN"
	pipeline "$k" "${3-}"
	subscribed_after "$2" "$k"
	Q[k - 1]=$(queued_since "$2")
	[[ -n ${Q[k - 1]} ]] || fail "run $k: no reconnection of kwsub in the broker's log"
	[[ ${3-} == stopped ]] && return 0
	wait_until 20 distinct_ge $((before + Q[k - 1] + RATE / 2)) || fail "run $k: the broker's queue does not arrive"
}
store_ended() { # K: mqmon-store of run K ended by itself, status 0 or 65 (a
	# line cut short by the writer's death is rejected)
	wait_bg "store$1" 20 || [[ $BG_STATUS == 65 ]] ||
		fail "mqmon-store exited $BG_STATUS after its writer died: $(tail -n 3 "$T/store$1.err")"
}

# --- 1. mqmon-sub killed mid-stream, its reader keeping up
off=$(log_size)
stop_bg sub1 KILL
store_ended 1
restart_pipeline 2 "$off" stopped

# --- 2. mqmon-sub killed in a burst, blocked on a full pipe: its reader
# stopped (SIGSTOP) before the broker's queue came, the pipe full, its block
# full; the reader then reads on to EOF
wchan_pipe() { case $(cat "/proc/$(bg_pid sub2)/wchan" 2>/dev/null) in *pipe_write*) return 0 ;; esac; return 1; }
wait_until 10 wchan_pipe || note "mqmon-sub is not seen blocked in pipe_write ($(cat "/proc/$(bg_pid sub2)/wchan" 2>/dev/null))"
sleep 0.5
off=$(log_size)
stop_bg sub2 KILL
kill -CONT "$(bg_pid store2)"
store_ended 2
restart_pipeline 3 "$off"

# --- 3. mqmon-store killed mid-stream: mqmon-sub gets EPIPE and ends
off=$(log_size)
stop_bg store3 KILL
wait_bg sub3 20 || fail "mqmon-sub exited $BG_STATUS after its reader died: $(tail -n 3 "$T/sub3.err")"
restart_pipeline 4 "$off"

# --- 4. the broker killed mid-stream, restarted on its port
pub_lost=$(grep -c "connection lost" "$T/pub.err" || :)
sub_lost=$(grep -c "connection lost" "$T/sub4.err" || :)
broker_kill9
broker_restart
conn_count() { grep -c "connected to localhost:$BROKER_PORT" "$T/$1.err" || :; }
wait_until 10 eval '[ "$(conn_count pub)" -gt 0 ] && [ "$(conn_count sub4)" -gt 0 ]' ||
	fail "mqmon-pub or mqmon-sub did not reconnect after the broker's SIGKILL"
assert_eq $((pub_lost + 1)) "$(grep -c "connection lost" "$T/pub.err" || :)" "mqmon-pub's lost connections"
assert_eq $((sub_lost + 1)) "$(grep -c "connection lost" "$T/sub4.err" || :)" "mqmon-sub's lost connections"
# from now on, what is fed is published to the new broker
touch "$T/stop"
wait_until 10 test -s "$T/fed" || fail "the feeder did not stop"
wait_bg feed 5
B=$(($(cat "$T/fed") + 1))
LAST=$((B + RATE * 2 - 1))
stage feed2 /dev/null "$T/pub.in" awk -v first="$B" -v last="$LAST" "$(envelopes)"
wait_bg feed2 20
stop_bg hold
wait_bg pub 30 || fail "mqmon-pub exited $BG_STATUS: $(tail -n 3 "$T/pub.err")"
all_after() { [ "$(numbers | awk -v b="$B" '$1 >= b' | sort -u | wc -l)" -ge $((LAST - B + 1)) ]; }
wait_until 20 all_after || :
stop_bg sub4
assert_eq 0 "$BG_STATUS" "mqmon-sub's exit status"
wait_bg store4 10 || fail "mqmon-store exited $BG_STATUS: $(tail -n 3 "$T/store4.err")"
assert_eq ok "$(sql 'PRAGMA integrity_check')" "PRAGMA integrity_check"

# --- the count
R[4]=$(max_id)
R[0]=0
for k in 1 2 3 4; do
	numbers "WHERE id > ${R[k - 1]} AND id <= ${R[k]}" | sort -n -u >"$T/run$k"
done
numbers | sort -n >"$T/all"
sort -n -u "$T/all" >"$T/distinct"
seq 1 "$LAST" | awk 'NR == FNR { got[$1]; next } !($1 in got)' "$T/distinct" - >"$T/missing"
extra=$(awk -v last="$LAST" '$1 < 1 || $1 > last' "$T/distinct" | wc -l)
assert_eq 0 "$extra" "numbers outside 1..$LAST"
# M[K]: the first number of run K that run K-1 did not reach
declare -a M
for k in 2 3 4; do
	M[k]=$(awk -v m="$(tail -n 1 "$T/run$((k - 1))")" '$1 > m { print; exit }' "$T/run$k")
	[[ -n ${M[k]} ]] || fail "run $k stored nothing new"
done
between() { awk -v a="$1" -v b="$2" '$1 >= a && $1 < b' "$T/missing" | wc -l; }
lost_sub=$(between 1 "${M[2]}")
lost_subblocked=$(between "${M[2]}" "${M[3]}")
lost_store=$(between "${M[3]}" "${M[4]}")
lost_broker=$(between "${M[4]}" "$B")
lost_after=$(between "$B" $((LAST + 1)))
sort -n "$T/all" | uniq -d >"$T/dups"
dups() { awk -v a="$1" -v b="$2" '$1 >= a && $1 < b' "$T/dups" | wc -l; }

# the bounds, in envelopes of the smallest size mqmon-sub wrote (whole ones:
# not a line cut short by a kill)
env=$(cat "$T"/store*.tee | awk '/}$/ && (!m || length($0) < m) { m = length($0) } END { print m + 1 }')
# mqmon-sub: its block (64 KiB and the envelope that filled it), and a line
# cut short in the pipe; mqmon-store: --batch, the pipe, mqmon-sub's block
bound_sub=$(((BLOCK + env - 1) / env + 2))
bound_store=$((BATCH + (PIPE + BLOCK + env - 1) / env + 2))
note "envelopes of $env bytes and more at $RATE/s; mqmon-store --batch $BATCH --flush-ms 200"
note "1. mqmon-sub SIGKILLed, its reader keeping up: lost $lost_sub (bound $bound_sub); the broker queued ${Q[1]} meanwhile"
note "2. mqmon-sub SIGKILLed in a burst, blocked on a full pipe: lost $lost_subblocked (bound $bound_sub); the broker queued ${Q[2]} meanwhile"
note "3. mqmon-store SIGKILLed: lost $lost_store (bound $bound_store); the broker queued ${Q[3]} meanwhile"
note "4. the broker SIGKILLed: it lost $lost_broker (its last autosave is at most 1 s old) and sent $(dups "${M[4]}" "$B") again; $((LAST - B + 1)) published after its restart"
note "stored $(count_lines "$T/all") rows, $(count_lines "$T/distinct") of $LAST numbers, $(($(count_lines "$T/all") - $(count_lines "$T/distinct"))) duplicates; missing: $(head -n 20 "$T/missing" | tr '\n' ' ')"

# the broker's queues arrived whole: no number missing from the first new
# one of a run on, for as many as the broker queued (but the queue of run 2
# is where its mqmon-sub was killed: that window is counted below)
for k in 3 4; do
	assert_eq 0 "$(between "${M[k]}" $((M[k] + Q[k - 1])))" "numbers of the queue missing after restart $((k - 1)) (from ${M[k]})"
done
# (and each queue was larger than the window of the kill before it, so
# that a lost queue could not pass for that window)
for k in 2 3 4; do
	bound=$bound_sub
	((k == 4)) && bound=$bound_store
	((Q[k - 1] > bound)) ||
		fail "the broker queued only ${Q[k - 1]} before run $k: too few to tell a lost queue from a kill's window ($bound)"
done
((lost_sub <= bound_sub)) || fail "mqmon-sub's SIGKILL lost $lost_sub, more than its bound $bound_sub"
((lost_subblocked <= bound_sub)) || fail "mqmon-sub's SIGKILL on a full pipe lost $lost_subblocked, more than its bound $bound_sub"
((lost_store <= bound_store)) || fail "mqmon-store's SIGKILL lost $lost_store, more than its bound $bound_store"
assert_eq 0 "$lost_after" "numbers published after the broker's restart missing"
exit 0
