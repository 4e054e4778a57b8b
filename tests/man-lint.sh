#!/usr/bin/env bash
# The manual pages: every section a reader looks for is there (NAME,
# SYNOPSIS, DESCRIPTION, OPTIONS, ENVIRONMENT, FILES, EXIT STATUS,
# EXAMPLES, SEE ALSO in each program's page; the overview, the envelope
# and EXAMPLES in mqmon(7)), and both groff -ww and mandoc -Tlint read
# them without a word.
. "${srcdir:-.}/tests/lib.sh"
require_cmd groff mandoc

man=$MQMON_SRCDIR/man
pages=("$man"/mqmon-sub.1 "$man"/mqmon-pub.1 "$man"/mqmon-cmd.1 "$man"/mqmon-store.1 "$man"/mqmon-status.1 "$man"/mqmon.7)

sections() { sed -n 's/^\.SH "\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' "$1"; }

problems=0
problem() {
	printf 'man-lint: %s\n' "$*" >&2
	problems=$((problems + 1))
}

for page in "${pages[@]}"; do
	name=$(basename "$page")
	case $name in
	*.1) want=(NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO") ;;
	*.7) want=(NAME SYNOPSIS DESCRIPTION ENVELOPE EXAMPLES "SEE ALSO") ;;
	esac
	have=$(sections "$page")
	for s in "${want[@]}"; do
		grep -qx "$s" <<<"$have" || problem "$name: no $s section"
	done
	out=$(LC_ALL=C.UTF-8 groff -ww -man -Tutf8 "$page" 2>&1 >/dev/null)
	[[ -z $out ]] || problem "$name: groff -ww: $out"
	out=$(mandoc -Tlint "$page" 2>&1)
	[[ -z $out ]] || problem "$name: mandoc -Tlint: $out"
done
# every page is in the distribution and installed
for page in "${pages[@]}"; do
	grep -q "man/$(basename "$page")" "$MQMON_SRCDIR/man/local.mk" || problem "$(basename "$page") is not in man/local.mk"
done
((problems == 0)) || fail "$problems problem(s) in the manual pages"
exit 0
