#!/usr/bin/env bash
# make install DESTDIR=… and make uninstall, into a temporary root: every
# program runs from where it was installed (--version, and a real round
# trip through a broker), every manual page is there and renders, both
# completions of every program are there and bash loads them; uninstall
# leaves no file behind.
. "${srcdir:-.}/tests/lib.sh"
require_cmd make groff

dest=$T/root
make -s -C "$abs_top_builddir" install DESTDIR="$dest" >"$T/install.log" 2>&1 ||
	fail "make install failed: $(tail -20 "$T/install.log")"

programs=(mqmon-sub mqmon-pub mqmon-cmd mqmon-store mqmon-status)
bindir=$(dirname "$(find "$dest" -type f -path '*/bin/mqmon-sub')")
[[ -d $bindir ]] || fail "no bin directory with mqmon-sub under $dest: $(find "$dest" -type f | head)"
for p in "${programs[@]}"; do
	[[ -x $bindir/$p ]] || fail "$p is not installed in $bindir"
	v=$("$bindir/$p" --version) || fail "$bindir/$p --version exited $?"
	[[ $v == "$p (mqmon) "* ]] || fail "$p --version says: $v"
done

# the installed programs, alone on PATH, do their job
broker_start
installed_path="$bindir:/usr/bin:/bin"
run_bg sub env PATH="$installed_path" mqmon-sub -p "$BROKER_PORT" -t 'inst/#' -C 1 -W 20
wait_until 10 eval "env PATH='$installed_path' mqmon-pub -p '$BROKER_PORT' -t inst/x -m '{\"a\":1}' -q 1 && grep -q inst/x '$T/sub.out'" ||
	fail "no round trip with the installed programs: $(cat "$T/sub.out" "$T/sub.err")"
wait_bg sub 20 || fail "the installed mqmon-sub exited $BG_STATUS"
assert_contains "$T/sub.out" '"topic":"inst/x"' '"payload":{"a":1}'

for page in "${programs[@]/%/.1}" mqmon.7; do
	f=$(find "$dest" -type f -name "$page*" -path '*/man/*' | head -1)
	[[ -n $f ]] || fail "manual page $page is not installed"
	groff -man -Tutf8 "$f" 2>/dev/null | grep -q "${page%.*}" || fail "$f does not render"
done

for p in "${programs[@]}"; do
	b=$(find "$dest" -type f -path '*bash-completion*' -name "$p" | head -1)
	[[ -n $b ]] || fail "no bash completion for $p"
	bash -c 'source "$1" && complete -p "$2"' _ "$b" "$p" >/dev/null 2>&1 || fail "bash does not load $b"
	z=$(find "$dest" -type f -path '*zsh*' -name "_$p" | head -1)
	[[ -n $z ]] || fail "no zsh completion for $p"
done

make -s -C "$abs_top_builddir" uninstall DESTDIR="$dest" >"$T/uninstall.log" 2>&1 ||
	fail "make uninstall failed: $(tail -20 "$T/uninstall.log")"
left=$(find "$dest" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"
exit 0
