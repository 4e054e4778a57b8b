#!/bin/bash
# tests/docs-sync.sh - the long options of every program's --help, its
# manual page and its bash and zsh completions must agree.
#
#   srcdir=/path/to/src abs_top_builddir=/path/to/build bash tests/docs-sync.sh
#
# For each program, the options are the long options `bin/PROG --help`
# lists.  Each must have an entry in the OPTIONS section of man/PROG.1
# (a .TP/.TQ tag or an .IP line naming it as \-\-name) and must appear in
# completions/bash/PROG and completions/zsh/_PROG.  Every \-\-name in the
# OPTIONS section and every --name in the completions (outside comments)
# must be an option the program has.  Every mismatch is printed; then the
# test fails.  Exit status as automake reads it: 0 pass, 1 fail, 77 skip.
# (Anchor: curl tests/test1139.pl.)

set -u
export LC_ALL=C

: "${srcdir:=$(dirname "$0")/..}"
: "${abs_top_builddir:=$(pwd)}"

PROGRAMS="mqmon-sub mqmon-pub mqmon-cmd mqmon-store mqmon-status"

mismatches=0
mismatch() {
	printf 'docs-sync: %s\n' "$*"
	mismatches=$((mismatches + 1))
}

# The long options a program's --help lists, one per line, sorted.
# Option lines look like "  -t, --topic FILTER  ..." or "      --events  ...".
help_options() {
	"$1" --help | sed -n -E 's/^ +(-[[:alnum:]], )?--([[:alnum:]][[:alnum:]-]*).*/\2/p' | sort -u
}

# The OPTIONS section of a man page: from ".SH OPTIONS" to the next ".SH".
man_options_section() {
	sed -n -e '/^\.SH "\{0,1\}OPTIONS"\{0,1\}[[:space:]]*$/,/^\.SH/{' -e '/^\.SH/!p' -e '}' "$1"
}

# The tag lines of the entries in that section: the line after .TP or
# .TQ, and .IP lines.
man_tag_lines() {
	local line after_tp=false
	while IFS= read -r line; do
		if $after_tp; then
			printf '%s\n' "$line"
			after_tp=false
		fi
		case $line in
		.TP* | .TQ*) after_tp=true ;;
		.IP*) printf '%s\n' "$line" ;;
		esac
	done
}

# Long options written in roff, "\-\-will\-topic", as names ("will-topic").
roff_options() {
	grep -o -E '\\-\\-[[:alnum:]]([[:alnum:]]|\\-)*' | sed 's/\\-/-/g; s/^--//' | sort -u
}

# Long options with a plain "-" inside the name ("\-\-will-topic"), which
# roff may print as a hyphen that cannot be pasted into a shell.
roff_plain_hyphens() {
	grep -o -E '\\-\\-[[:alnum:]]([[:alnum:]]|\\-)*-[[:alnum:]]([[:alnum:]]|\\?-)*' | sort -u
}

# Long options mentioned in a completion file, outside comment lines.
completion_options() {
	grep -v -E '^[[:space:]]*#' "$1" | grep -o -E -e '--[[:alnum:]][[:alnum:]-]*' | sed 's/^--//' | sort -u
}

# compare PROG WHERE HAVE_FILE FOUND_FILE MODE
# MODE "both": options missing from FOUND and extra ones in FOUND;
# "extra": only options in FOUND the program does not have.
compare() {
	local prog=$1 where=$2 have=$3 found=$4 mode=$5 opt
	if [ "$mode" = both ]; then
		for opt in $(comm -23 "$have" "$found"); do
			mismatch "$prog: --$opt is in --help but not in $where"
		done
	fi
	for opt in $(comm -13 "$have" "$found"); do
		mismatch "$prog: $where lists --$opt, which $prog does not have"
	done
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/docs-sync.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

built=0
for prog in $PROGRAMS; do
	[ -x "$abs_top_builddir/bin/$prog" ] && built=$((built + 1))
done
if [ "$built" -eq 0 ]; then
	echo "docs-sync: SKIP: no program built in $abs_top_builddir/bin"
	exit 77
fi

for prog in $PROGRAMS; do
	bin=$abs_top_builddir/bin/$prog
	manpage=$srcdir/man/$prog.1
	bashcomp=$srcdir/completions/bash/$prog
	zshcomp=$srcdir/completions/zsh/_$prog

	if [ ! -x "$bin" ]; then
		mismatch "$prog: $bin is not built"
		continue
	fi
	if ! help_options "$bin" >"$tmp/help" || [ ! -s "$tmp/help" ]; then
		mismatch "$prog: no long options found in '$prog --help'"
		continue
	fi

	if [ -f "$manpage" ]; then
		man_options_section "$manpage" >"$tmp/section"
		if [ ! -s "$tmp/section" ]; then
			mismatch "$prog: $manpage has no OPTIONS section"
		else
			man_tag_lines <"$tmp/section" | roff_options >"$tmp/tags"
			roff_options <"$tmp/section" >"$tmp/mentioned"
			compare "$prog" "the OPTIONS entries of $manpage" "$tmp/help" "$tmp/tags" both
			compare "$prog" "the OPTIONS section of $manpage" "$tmp/help" "$tmp/mentioned" extra
			for token in $(roff_plain_hyphens <"$tmp/section"); do
				mismatch "$prog: $manpage writes $token with a plain '-' (write '\\-')"
			done
		fi
	else
		mismatch "$prog: $manpage is missing"
	fi

	for comp in "$bashcomp" "$zshcomp"; do
		if [ -f "$comp" ]; then
			completion_options "$comp" >"$tmp/comp"
			compare "$prog" "$comp" "$tmp/help" "$tmp/comp" both
		else
			mismatch "$prog: $comp is missing"
		fi
	done
done

if [ "$mismatches" -gt 0 ]; then
	echo "docs-sync: FAIL: $mismatches mismatch(es) between --help, man pages and completions"
	exit 1
fi
echo "docs-sync: PASS: --help, man pages and completions agree for: $PROGRAMS"
exit 0
