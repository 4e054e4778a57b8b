#!/usr/bin/env bash
# The C sources follow the committed .clang-format (STYLE.md): a change
# that is not formatted fails here, with the command that fixes it.
. "${srcdir:-.}/tests/lib.sh"
require_cmd clang-format
cd "$MQMON_SRCDIR" || hard_error "no source dir"
bad=()
for f in src/*.c src/*.h bin/*.c tests/*.c tests/*.h fuzz/*.c fuzz/*.h; do
	clang-format --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
((${#bad[@]} == 0)) || fail "not formatted: ${bad[*]} (run: clang-format -i ${bad[*]})"
