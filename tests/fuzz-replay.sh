#!/usr/bin/env bash
# The fuzz targets' inputs, replayed by the project's own build (issue 12):
# fuzz/replay_NAME (fuzz/fuzz_NAME.c with fuzz/replay_main.c, built by
# make check) runs every seed in fuzz/corpus/NAME and every input that once
# crashed in fuzz/regress/NAME through the target's checks.  A target's
# invariant that fails aborts it, and in the sanitizer build ASan/UBSan
# see each input, so a bug fixed once stays fixed.  The replayer must also
# say how many inputs it ran (each file, once) and fail on a missing one,
# so the test cannot pass on nothing.  (The fuzzing itself is fuzz/run,
# with clang and libFuzzer.)
. "${srcdir:-.}/tests/lib.sh"

# fuzz_conffile writes its input to a file under $TMPDIR
export TMPDIR=$T

targets=0
for t in ack alert conffile envelope rules; do
	replay=$abs_top_builddir/fuzz/replay_$t
	[[ -x $replay ]] || hard_error "no $replay (make check builds it)"
	dirs=("$MQMON_SRCDIR/fuzz/corpus/$t")
	[[ -d $MQMON_SRCDIR/fuzz/regress/$t ]] && dirs+=("$MQMON_SRCDIR/fuzz/regress/$t")
	want=$(find "${dirs[@]}" -maxdepth 1 -type f | wc -l)
	[[ $want -gt 0 ]] || fail "$t: no seed corpus in fuzz/corpus/$t"
	if ! out=$(run_bounded 120 "$replay" "${dirs[@]}" 2>"$T/$t.err"); then
		cat "$T/$t.err" >&2
		fail "$t: replaying ${dirs[*]} failed"
	fi
	assert_eq "replayed $want inputs" "$out" "$t: inputs replayed"
	targets=$((targets + 1))
done
assert_eq 5 "$targets" "targets replayed"

# a replayer that cannot read an input says so
if "$abs_top_builddir/fuzz/replay_ack" "$T/no-such-input" >"$T/missing.out" 2>&1; then
	fail "replay_ack passed on a missing input"
fi
assert_contains "$T/missing.out" "no-such-input"
