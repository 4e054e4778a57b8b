#!/usr/bin/env bash
# Every shell example in README.md and the manual pages runs: each command
# line that starts with an mqmon program (after a "$ " prompt or not, in
# README's ```sh and ```console blocks and the man pages' .EX blocks;
# continuation lines, pipes, quotes and while-loops joined)
# is run by bash in a directory of its own, against a private broker
# (MQMON_HOST/MQMON_PORT), with a fleet.db, battery.db and fleet.ndjson
# made from the golden fleets, and a responder for the commands.  What
# runs forever (a subscription, a stream to a host that does not exist) is
# stopped after 3 seconds, its whole process group.  An example fails
# when it is a usage error (status 2, or "Try '… --help'"), an unknown
# command, or dies of a signal of its own.
#
#   tests/doc-examples.sh --list    the examples, one per line (no run)
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq setsid script
[[ ${MQMON_QUICK:-} == 1 ]] && skip "quick run (make distcheck): the plain build ran them"
[[ ${MQMON_SANITIZERS:-} == 1 ]] && skip "sanitizer build: the plain build ran them (a usage error is no memory error)"

list_only=false
[[ ${1:-} == --list ]] && list_only=true

# ---- the examples: SOURCE:LINE, a tab, the command (newlines kept), NUL

extract() {
	LC_ALL=C awk '
	function unroff(s) {
		gsub(/\\-/, "-", s); gsub(/\\\(aq/, "\047", s); gsub(/\\\(dq/, "\"", s)
		gsub(/\\\(ti/, "~", s); gsub(/\\\(lq|\\\(rq/, "\"", s); gsub(/\\&/, "", s)
		gsub(/\\f[BIRP]/, "", s); gsub(/\\~/, " ", s); gsub(/\\ /, " ", s); gsub(/\\e/, "\\", s)
		return s
	}
	function starts(s) {
		return s ~ /^(\$ )?([A-Z_]+=[^ ]+ )*mqmon-[a-z]+( |$)/ && s !~ /^mqmon-[a-z]+:/ && s !~ /^mqmon-cmd [^ ]*> /
	}
	function finish() {
		if (cmd != "") printf "%s:%d\t%s%c", src, at, cmd, 0
		cmd = ""; depth = 0; quotes = 0
	}
	FNR == 1 { finish(); src = FILENAME; sub(/.*\//, "", src); inex = 0 }
	# README: ```sh … ```;  man: .EX … .EE
	/^```(sh|console)$/ { inex = 1; roff = 0; next }
	/^```/ { finish(); inex = 0; next }
	/^\.EX/ { inex = 1; roff = 1; next }
	/^\.EE/ { finish(); inex = 0; next }
	!inex { next }
	roff && /^\./ { next }
	{
		line = roff ? unroff($0) : $0
		if (cmd == "") {
			if (!starts(line)) next
			sub(/^\$ /, "", line)
			cmd = line; at = FNR
		} else {
			cmd = cmd "\n" line
		}
		if (line ~ /(^|[ ;])do$/) depth++
		if (line ~ /^ *done( |$)/) depth--
		quotes += gsub(/\047/, "\047", line) # a quoted jq program may go on
		if (depth > 0 || quotes % 2 || line ~ /\\$/ || line ~ /\|$/) next
		finish()
	}
	END { finish() }' "$@"
}

sources=("$MQMON_SRCDIR/README.md" "$MQMON_SRCDIR"/man/mqmon-*.1 "$MQMON_SRCDIR/man/mqmon.7")
examples=()
while IFS= read -r -d '' e; do
	examples+=("$e")
done < <(extract "${sources[@]}")

if $list_only; then
	printf '%s\n' "${examples[@]}"
	exit 0
fi
((${#examples[@]} >= 60)) || fail "only ${#examples[@]} examples found: the extraction is broken"

# ---- the world they run in

broker_start
export MQMON_HOST=127.0.0.1 MQMON_PORT=$BROKER_PORT
export XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state # no user settings, no user history
unset MQMON_DB MQMON_CONFIG MQMON_USERNAME MQMON_PASSWORD MQTT_BROKER_HOST MQTT_BROKER_PORT
run_bg respond mqmon-cmd --respond

fixtures=$T/fixtures
mkdir -p "$fixtures"
data=$MQMON_SRCDIR/tests/data/meaning
cat "$data/autocore.in.ndjson" "$data/status-forms.in.ndjson" >"$fixtures/fleet.ndjson"
mqmon-store --db "$fixtures/fleet.db" <"$fixtures/fleet.ndjson" 2>/dev/null || true
mqmon-store --db "$fixtures/battery.db" <"$data/battery-hawk.in.ndjson" 2>/dev/null || true
for f in a b c archive-a archive-b; do cp "$fixtures/fleet.db" "$fixtures/$f.db"; done
[[ -s $fixtures/fleet.db && -s $fixtures/battery.db ]] || fail "no fixture databases"

# the examples as files, for the runners
for i in "${!examples[@]}"; do
	mkdir -p "$T/run/$i"
	printf '%s\n' "${examples[i]%%$'\t'*}" >"$T/run/$i/where"
	printf '%s\n' "${examples[i]#*$'\t'}" >"$T/run/$i/cmd.sh"
done

# run_example DIR: run the example in DIR; print "ok" or why not
run_example() {
	local dir=$1 st=0 pid
	cp "$fixtures"/* "$dir"/
	local run=(bash cmd.sh)
	# the interactive shell wants a terminal
	grep -Eq '^mqmon-cmd( --db [^ ]+)?( *#.*)?$' "$dir/cmd.sh" && run=(script -qec "bash cmd.sh" /dev/null)
	# a shell of its own, in a process group of its own, stopped whole
	(cd "$dir" && exec setsid "${run[@]}" </dev/null >"$dir/out" 2>"$dir/err") &
	pid=$!
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM -- "-$pid" 2>/dev/null
		sleep 0.3
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "ok $dir (still running after 3 s: stopped)"
		return
	fi
	wait "$pid" || st=$?
	# a check's 2 is CRITICAL, not a usage error (which says "Try …")
	local usage=2
	grep -q -- '--check' "$dir/cmd.sh" && usage=-1
	if ((st == usage || st == 126 || st == 127 || st > 128)) ||
		grep -q "Try '.* --help'\|command not found\|unknown option" "$dir/err"; then
		printf 'FAIL %s: %s\n  exit status %s; stderr: %s\n' "$(cat "$dir/where")" "$(cat "$dir/cmd.sh")" "$st" \
			"$(head -c 600 "$dir/err")"
		return
	fi
	echo "ok $dir (status $st)"
}
export -f run_example
export fixtures

# six at a time: most examples end at once, the others wait their 3 s
results=$T/results
printf '%s\0' "$T"/run/* | xargs -0 -P 6 -I{} bash -c 'run_example "$1"' _ {} >"$results" 2>&1 || true
ran=$(grep -c '^ok ' "$results")
if grep -q '^FAIL' "$results"; then
	fail "examples that do not run:
$(grep -A1 '^FAIL' "$results")"
fi
assert_eq "${#examples[@]}" "$ran" "examples run"
exit 0
