#!/usr/bin/env bash
# The meaning layer's golden files (jq's tests/jq.test, util-linux's
# tests/expected/): every tests/data/meaning/CASE.in.ndjson goes through
# tests/meaning_dump (with CASE.rules, one rule per line, when there is
# one) and must give CASE.expected.ndjson exactly, so a new case is a data
# edit.  Then the same input goes into mqmon-store, and the archive must
# agree with the golden file: `mqmon-store devices` prints its device
# lines, `mqmon-store metrics` the count and last value of every metric
# the messages carry, and `mqmon-store series` every value of every
# device's metric.
#
# MQMON_GOLDEN_WRITE=1 rewrites the expected files from what meaning_dump
# prints (then read the diff before committing it).
. "${srcdir:-.}/tests/lib.sh"
require_cmd jq
DUMP=$abs_top_builddir/tests/meaning_dump
[[ -x $DUMP ]] || hard_error "no $DUMP (make check builds it)"
DATA=$MQMON_SRCDIR/tests/data/meaning

# The metrics of the golden messages, one line per device and metric:
# [device, metric, count, last value] (the last by time, then by line).
golden_metrics() {
	jq -sc '[.[] | select(.kind == "telemetry") | . as $m | .metrics | to_entries[]
	         | {device: $m.device, metric: .key, ts: $m.ts, line: $m.line, value}]
	        | group_by([.device, .metric])[]
	        | [.[0].device, .[0].metric, length, (sort_by([.ts, .line]) | last | .value)]' "$1"
}
# [device, metric, ts, value] of every golden sample with a device
golden_samples() {
	jq -c 'select(.kind == "telemetry" and .device != null) | . as $m | .metrics | to_entries[]
	       | [$m.device, .key, $m.ts, .value]' "$1" | sort
}

cases=0
for in in "$DATA"/*.in.ndjson; do
	name=$(basename "$in" .in.ndjson)
	expected=$DATA/$name.expected.ndjson
	rules=()
	if [[ -f $DATA/$name.rules ]]; then
		while IFS= read -r r; do rules+=(--rule "$r"); done <"$DATA/$name.rules"
	fi
	"$DUMP" "${rules[@]}" <"$in" >"$T/$name.out" || fail "$name: meaning_dump exited $?"
	if [[ ${MQMON_GOLDEN_WRITE:-} == 1 ]]; then
		cp "$T/$name.out" "$expected"
		note "wrote $expected"
		continue
	fi
	[[ -f $expected ]] || fail "$name: no $expected (MQMON_GOLDEN_WRITE=1 writes it)"
	diff -u "$expected" "$T/$name.out" >&2 || fail "$name: the meaning differs from $(basename "$expected")"

	# the archive agrees with the golden file
	db=$T/$name.db
	st=0
	mqmon-store --db "$db" "${rules[@]}" <"$in" 2>"$T/$name.err" || st=$?
	want=0
	grep -q '^{"line":[0-9]*,"error"' "$expected" && want=65
	assert_eq "$want" "$st" "$name: mqmon-store's exit status"
	diff -u <(grep '^{"device"' "$expected") <(mqmon-store --db "$db" devices) >&2 ||
		fail "$name: mqmon-store devices differs from the golden device lines"
	diff -u <(golden_metrics "$expected") \
		<(mqmon-store --db "$db" metrics | jq -c '[.device, .metric, .count, .last_value]') >&2 ||
		fail "$name: mqmon-store metrics differs from the golden metrics"
	golden_samples "$expected" >"$T/$name.samples"
	: >"$T/$name.series"
	while IFS=$'\t' read -r device metric; do
		mqmon-store --db "$db" series --device "$device" --metric "$metric" |
			jq -c --arg d "$device" --arg m "$metric" '[$d, $m, .ts, .value]' >>"$T/$name.series" ||
			fail "$name: series --device $device --metric $metric"
	done < <(jq -r 'select(.kind == "telemetry" and .device != null) | .device as $d
	                | .metrics | keys_unsorted[] | [$d, .] | @tsv' "$expected" | sort -u)
	diff -u "$T/$name.samples" <(sort "$T/$name.series") >&2 ||
		fail "$name: mqmon-store series differs from the golden metrics"
	cases=$((cases + 1))
done
[[ ${MQMON_GOLDEN_WRITE:-} == 1 ]] || ((cases >= 8)) || fail "only $cases golden cases found in $DATA"
note "$cases golden cases"
exit 0
