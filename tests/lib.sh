# shellcheck shell=bash
#
# tests/lib.sh - harness for the mqmon integration tests.
#
# Sourced (never run) by tests/*.sh:    . "$srcdir/tests/lib.sh"
#
# On load it creates a private temp dir $T and an EXIT/INT/TERM/HUP trap that
# stops every process started through this file (brokers, proxies, run_bg
# commands) and removes $T (kept, and its path printed, if MQMON_KEEP_TMP=1).
# When a test fails, the tails of the broker/proxy/background logs are printed
# to stderr before $T goes away, so the automake .log file shows them.
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.
#
# Environment:
#   srcdir             top source dir (automake); default: parent of this dir
#   abs_top_builddir   top build dir; default: $(pwd). Programs are expected in
#                      $abs_top_builddir/bin, which is prepended to PATH.
#   MQMON_WAIT         default bound, in seconds, of every wait (default 10)
#   MQMON_KEEP_TMP=1   keep $T after the test and print where it is
#   MQMON_NO_SKIP=1    turn skips (missing tools) into hard errors (for CI)
#   MOSQUITTO          the broker binary (configure sets it); default: PATH,
#                      then /usr/sbin/mosquitto, /usr/local/sbin/mosquitto
#
# Shellcheck test scripts with: shellcheck -x -s bash -e SC2119 tests/NAME.sh
# (SC2119 flags calls like "broker_stop" that leave out the optional NAME;
# BROKER_PORT_<NAME> and friends are set via printf -v, so prefer broker_port
# NAME etc. over the variables to avoid SC2154).
#
# Nothing is written into the source or build tree; only 127.0.0.1 is used;
# ports are never fixed (tests/freeport picks them).
#
# Public API (see each function for details):
#   fail MSG | skip WHY | hard_error MSG | note MSG | require_cmd CMD...
#   assert_eq EXPECTED ACTUAL [WHAT] | assert_contains HAYSTACK NEEDLE...
#   assert_not_contains HAYSTACK NEEDLE... | assert_numbers FILE FIRST LAST
#   wait_for TIMEOUT CMD... | wait_until TIMEOUT CMD... | run_bounded SECS CMD...
#   wait_lines FILE N [TIMEOUT] | wait_contains FILE STRING [TIMEOUT]
#   count_lines FILE | distinct_numbers FILE | freeport | on_exit CMD
#   broker_start [NAME] [--tls] [--auth] [--persist] [--extra LINE]...
#   broker_stop|broker_kill9|broker_restart [NAME]
#   broker_port|broker_pid|broker_log|broker_dir [NAME]
#   proxy_start [NAME] TARGET_PORT | proxy_stop|proxy_restart [NAME]
#   proxy_pause|proxy_resume|proxy_port [NAME]
#   run_bg [--stdin FILE] NAME CMD... | stop_bg NAME [SIG] | wait_bg NAME [TIMEOUT]
#   bg_pid NAME | bg_alive NAME
# Variables: T, MQMON_SRCDIR (absolute source dir), BROKER_PORT (broker b),
#   BROKER_PORT_<NAME>, BROKER_PID_<NAME>, PROXY_PORT (proxy p),
#   PROXY_PORT_<NAME>, PID_<NAME> (run_bg), BG_STATUS (stop_bg/wait_bg),
#   CA_FILE CLIENT_CERT CLIENT_KEY (--tls), AUTH_USER AUTH_PASS (--auth).
#
# Pitfalls: fail/skip inside $(...) or a pipeline still end the test (the
# main shell is signalled). A test script must not set its own EXIT trap
# (use on_exit). Foreground commands that could hang: use run_bounded.

# ---------------------------------------------------------------------------
# Locations and settings

_MQMON_LIB_DIR=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P) || {
	echo "ERROR: tests/lib.sh: cannot find its own directory" >&2
	exit 99
}
MQMON_SRCDIR=${_MQMON_LIB_DIR%/*}
: "${srcdir:=$MQMON_SRCDIR}"
: "${abs_top_builddir:=$(pwd -P)}"
case $abs_top_builddir in
/*) ;;
*) abs_top_builddir=$PWD/$abs_top_builddir ;;
esac
PATH="$abs_top_builddir/bin:$PATH"
export srcdir abs_top_builddir PATH

: "${MQMON_WAIT:=10}"
case $MQMON_WAIT in
'' | *[!0-9.]* | *.*.* | .*)
	echo "ERROR: MQMON_WAIT must be a number of seconds, not '$MQMON_WAIT'" >&2
	exit 99
	;;
esac

_MQMON_PID=$$
_MQMON_BROKERS=''
_MQMON_PROXIES=''
_MQMON_BGS=''
_MQMON_ON_EXIT=()
_MQMON_FREEPORT=''
_NOW_US=0
BG_STATUS=''

# ---------------------------------------------------------------------------
# Verdicts and messages

# _mqmon_exit CODE: exit the test with CODE, also from a subshell such as
# $(...): the main shell is signalled and exits with the same code.
_mqmon_exit() {
	if [ "${BASH_SUBSHELL:-0}" -gt 0 ] || [ "$BASHPID" != "$_MQMON_PID" ]; then
		echo "$1" >"$T/.mqmon-exit" 2>/dev/null || :
		kill -USR1 "$_MQMON_PID" 2>/dev/null || :
	fi
	exit "$1"
}

# fail MSG...: print "FAIL: MSG" to stderr and end the test with status 1.
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	_mqmon_exit 1
}

# skip WHY...: end the test as skipped (77); hard error if MQMON_NO_SKIP=1.
skip() {
	if [ "${MQMON_NO_SKIP:-0}" = 1 ]; then
		printf 'ERROR: would skip, but MQMON_NO_SKIP=1: %s\n' "$*" >&2
		_mqmon_exit 99
	fi
	printf 'SKIP: %s\n' "$*" >&2
	_mqmon_exit 77
}

# hard_error MSG...: the test could not run properly (99), e.g. harness misuse.
hard_error() {
	printf 'ERROR: %s\n' "$*" >&2
	_mqmon_exit 99
}

# note MSG...: progress message ("# MSG") on stderr.
note() {
	printf '# %s\n' "$*" >&2
}

# require_cmd CMD...: skip the test unless every CMD is in PATH.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "required command '$c' not found"
	done
}

# ---------------------------------------------------------------------------
# Temp dir and cleanup

_mqmon_tname=${0##*/}
_mqmon_tname=${_mqmon_tname%.sh}
_mqmon_tname=${_mqmon_tname//[!A-Za-z0-9_-]/_}
T=$(mktemp -d "${TMPDIR:-/tmp}/mqmon-${_mqmon_tname:-test}.XXXXXX") || {
	echo "ERROR: mktemp -d failed" >&2
	exit 99
}
case $T in
*[[:space:]]*)
	rm -rf "$T"
	echo "ERROR: temp dir '$T' contains white space (check TMPDIR)" >&2
	exit 99
	;;
esac
export T

# on_exit CMD...: run CMD (eval'd in a subshell) at exit, before processes are
# stopped; the last one registered runs first.
on_exit() {
	_MQMON_ON_EXIT+=("$*")
}

_mqmon_tail() { # FILE LINES
	[ -s "$1" ] || return 0
	printf -- '--- %s (last %s lines)\n' "$1" "$2" >&2
	tail -n "$2" "$1" >&2
}

_mqmon_dump_logs() {
	local n
	for n in $_MQMON_BROKERS; do
		_mqmon_tail "$T/$n/stderr.log" 10
		_mqmon_tail "$T/$n/mosquitto.log" 30
	done
	for n in $_MQMON_PROXIES; do
		_mqmon_tail "$T/proxy-$n.log" 10
	done
	for n in $_MQMON_BGS; do
		_mqmon_tail "$T/$n.err" 15
		_mqmon_tail "$T/$n.out" 10
	done
}

_mqmon_cleanup() {
	local rc=$? i n pid pids='' groups=''
	# finish the cleanup whatever happens (it is bounded)
	trap - EXIT
	trap '' INT TERM HUP USR1
	set +e
	if [ -f "$T/.mqmon-exit" ]; then
		read -r rc <"$T/.mqmon-exit"
	fi
	for ((i = ${#_MQMON_ON_EXIT[@]} - 1; i >= 0; i--)); do
		(eval "${_MQMON_ON_EXIT[i]}")
	done
	case $rc in
	0 | 77) ;;
	*) _mqmon_dump_logs ;;
	esac
	# how long each test takes is what keeps "make check" short
	echo "# took ${SECONDS} s" >&2
	# Signal everything at once, then wait (bounded) for all of it.
	for n in $_MQMON_BGS; do
		_mqmon_var pid PID_"$n"
		if [ -z "$pid" ] || ! _mqmon_alive "$pid"; then
			continue
		fi
		if [ "$(_mqmon_get _MQMON_BGGROUP_"$n")" = 1 ]; then
			kill -TERM -- "-$pid" 2>/dev/null || :
			kill -CONT -- "-$pid" 2>/dev/null || :
			groups="$groups $pid"
		else
			kill -TERM "$pid" 2>/dev/null || :
			pids="$pids $pid"
		fi
	done
	for n in $_MQMON_PROXIES; do
		_mqmon_var pid PROXY_PGID_"$n"
		[ -n "$pid" ] || continue
		kill -TERM -- "-$pid" 2>/dev/null || :
		kill -CONT -- "-$pid" 2>/dev/null || :
		groups="$groups $pid"
	done
	for n in $_MQMON_BROKERS; do
		_mqmon_var pid BROKER_PID_"$n"
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || :
		pids="$pids $pid"
	done
	if [ -n "$pids$groups" ]; then
		wait_until 3 _mqmon_all_gone "$pids" "$groups" ||
			{
				echo "# cleanup: SIGKILL to leftovers:$pids$groups" >&2
				for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
				for pid in $groups; do kill -KILL -- "-$pid" 2>/dev/null; done
				wait_until 2 _mqmon_all_gone "$pids" "$groups"
			}
	fi
	if [ "${MQMON_KEEP_TMP:-0}" = 1 ]; then
		echo "# MQMON_KEEP_TMP=1: temp dir kept: $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}

_mqmon_all_gone() { # "PIDS" "PGIDS"
	local p
	for p in $1; do
		_mqmon_alive "$p" && return 1
	done
	for p in $2; do
		_mqmon_group_alive "$p" && return 1
	done
	return 0
}

_mqmon_signal_exit() {
	echo "ERROR: interrupted by SIG$1" >&2
	exit 99
}

_mqmon_child_exit() { # a subshell called fail/skip/hard_error
	local rc=1
	[ -f "$T/.mqmon-exit" ] && read -r rc <"$T/.mqmon-exit"
	exit "$rc"
}

trap _mqmon_cleanup EXIT
trap '_mqmon_signal_exit INT' INT
trap '_mqmon_signal_exit TERM' TERM
trap '_mqmon_signal_exit HUP' HUP
trap _mqmon_child_exit USR1

# ---------------------------------------------------------------------------
# Small utilities

# _mqmon_var OUTVAR NAME: OUTVAR=${NAME-} (indirect, set -u safe).
_mqmon_var() {
	printf -v "$1" '%s' "${!2-}"
}
_mqmon_get() {
	printf '%s\n' "${!1-}"
}
# _mqmon_set NAME VALUE [export]
_mqmon_set() {
	printf -v "$1" '%s' "$2"
	if [ "${3-}" = export ]; then
		export "${1?}"
	fi
}

_mqmon_check_name() { # WHAT NAME
	case $2 in
	'' | [0-9]* | *[!A-Za-z0-9_]*)
		hard_error "$1: invalid name '$2' (letters, digits and _ only)"
		;;
	esac
}

_mqmon_list_has() { # "LIST" WORD
	case " $1 " in *" $2 "*) return 0 ;; esac
	return 1
}

# _mqmon_now: set _NOW_US to the current time in microseconds.
_mqmon_now() {
	if [ -n "${EPOCHREALTIME-}" ]; then
		_NOW_US=${EPOCHREALTIME//[!0-9]/}
	else
		_NOW_US=$(date +%s%6N)
	fi
	_NOW_US=$((10#$_NOW_US))
}

# _mqmon_us OUTVAR SECONDS: seconds (maybe fractional, '' or '-' = MQMON_WAIT)
# to microseconds.
_mqmon_us() {
	local s=${2:--} int frac
	[ "$s" = - ] && s=$MQMON_WAIT
	case $s in
	'' | *[!0-9.]* | *.*.* | .*) hard_error "not a number of seconds: '$s'" ;;
	esac
	int=${s%%.*}
	frac=
	case $s in *.*) frac=${s#*.} ;; esac
	frac=${frac}000000
	frac=${frac:0:6}
	printf -v "$1" '%s' "$((10#$int * 1000000 + 10#$frac))"
}

# _mqmon_alive PID: is PID a live (not zombie) process?
_mqmon_alive() {
	local st
	if [ -d /proc/self ]; then
		{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
		st=${st##*) }
		case ${st%% *} in Z | X | x) return 1 ;; esac
		return 0
	fi
	kill -0 "$1" 2>/dev/null
}

# _mqmon_group_alive PGID: does process group PGID have a live (not zombie)
# member? (kill -0 alone also counts zombies, and orphans are not always
# reaped at once: in some sandboxes init takes seconds.)
_mqmon_group_alive() {
	kill -0 -- "-$1" 2>/dev/null || return 1
	command -v ps >/dev/null 2>&1 || return 0
	ps -e -o pgid= -o stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}

# wait_until TIMEOUT CMD...: run CMD every 0.05 s until it succeeds (return 0)
# or TIMEOUT seconds (fractions allowed; '' or '-' = MQMON_WAIT) have passed
# (return 1). Does not fail the test by itself.
wait_until() {
	local us deadline
	_mqmon_us us "${1-}"
	shift
	[ $# -gt 0 ] || hard_error "wait_until: no command"
	_mqmon_now
	deadline=$((_NOW_US + us))
	while :; do
		if "$@"; then
			return 0
		fi
		_mqmon_now
		if [ "$_NOW_US" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.05
	done
}

# wait_for TIMEOUT CMD...: like wait_until, but a timeout fails the test.
wait_for() {
	local t=${1:--}
	[ "$t" = - ] && t=$MQMON_WAIT
	shift
	wait_until "$t" "$@" || fail "timed out after ${t}s waiting for: $*"
}

# run_bounded SECS CMD...: run an external CMD in the foreground, killed after
# SECS seconds ('' or '-' = MQMON_WAIT); returns its status (124: timed out,
# with a message on stderr). Use for every foreground command that could hang.
run_bounded() {
	local t=${1:--} rc=0
	[ "$t" = - ] && t=$MQMON_WAIT
	shift
	timeout -k 2 "$t" "$@" || rc=$?
	if [ "$rc" = 124 ]; then
		echo "# TIMEOUT: killed after ${t}s: $*" >&2
	fi
	return "$rc"
}

# count_lines FILE: number of complete (newline-terminated) lines; 0 if none.
count_lines() {
	if [ -f "$1" ]; then
		echo $(($(wc -l <"$1")))
	else
		echo 0
	fi
}

_mqmon_lines_ge() { # FILE N
	[ "$(count_lines "$1")" -ge "$2" ]
}

# wait_lines FILE N [TIMEOUT]: wait until FILE has at least N complete lines.
wait_lines() {
	local t=${3:--}
	[ "$t" = - ] && t=$MQMON_WAIT
	wait_until "$t" _mqmon_lines_ge "$1" "$2" ||
		fail "timed out after ${t}s waiting for $2 lines in $1 (has $(count_lines "$1"))"
}

_mqmon_file_has() { # FILE STRING
	[ -f "$1" ] && grep -qF -- "$2" "$1"
}

# wait_contains FILE STRING [TIMEOUT]: wait until FILE contains STRING (fixed).
wait_contains() {
	local t=${3:--}
	[ "$t" = - ] && t=$MQMON_WAIT
	wait_until "$t" _mqmon_file_has "$1" "$2" ||
		fail "timed out after ${t}s waiting for '$2' in $1"
}

# distinct_numbers FILE: the first integer of each line of FILE, sorted
# numerically, without duplicates, one per line.
distinct_numbers() {
	[ -f "$1" ] || return 0
	sed -nE 's/^[^0-9]*([0-9]+).*/\1/p' "$1" | sort -n -u
}

# assert_numbers FILE FIRST LAST: the numbers in FILE (see distinct_numbers)
# are exactly FIRST..LAST, in any order, duplicates allowed.
assert_numbers() {
	local got want missing extra
	got=$(distinct_numbers "$1")
	want=$(seq "$2" "$3")
	[ "$got" = "$want" ] && return 0
	missing=$(comm -13 <(printf '%s\n' "$got" | sort) <(printf '%s\n' "$want" | sort) | sort -n | head -n 10 | tr '\n' ' ')
	extra=$(comm -23 <(printf '%s\n' "$got" | sort) <(printf '%s\n' "$want" | sort) | sort -n | head -n 10 | tr '\n' ' ')
	fail "$1: expected numbers $2..$3; $(printf '%s\n' "$got" | grep -c .) distinct; missing (first 10): ${missing:-none}; unexpected (first 10): ${extra:-none}"
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	[ "$1" = "$2" ] && return 0
	fail "${3:-assert_eq}: values differ
  expected: [$1]
  actual:   [$2]"
}

# assert_contains HAYSTACK NEEDLE...: HAYSTACK is a file if one by that name
# exists, else a string; every NEEDLE must occur in it (fixed strings).
assert_contains() {
	local h=$1 n
	shift
	for n in "$@"; do
		if [ -f "$h" ]; then
			grep -qF -- "$n" "$h" && continue
			fail "file $h does not contain [$n]; it has $(count_lines "$h") lines, last ones:
$(tail -n 10 "$h")"
		else
			case $h in *"$n"*) continue ;; esac
			fail "string does not contain [$n]:
  [$h]"
		fi
	done
}

# assert_not_contains HAYSTACK NEEDLE...: the opposite of assert_contains.
assert_not_contains() {
	local h=$1 n
	shift
	for n in "$@"; do
		if [ -f "$h" ]; then
			grep -qF -- "$n" "$h" || continue
			fail "file $h contains [$n]:
$(grep -nF -- "$n" "$h" | head -n 5)"
		else
			case $h in *"$n"*) ;; *) continue ;; esac
			fail "string contains [$n]:
  [$h]"
		fi
	done
}

# ---------------------------------------------------------------------------
# Ports and sockets

# _mqmon_freeport_init: find (or build into $T) the freeport helper; called
# in the main shell so that the result is remembered.
_mqmon_freeport_init() {
	if [ -z "$_MQMON_FREEPORT" ]; then
		if [ -x "$abs_top_builddir/tests/freeport" ]; then
			_MQMON_FREEPORT=$abs_top_builddir/tests/freeport
		else
			local cc
			read -ra cc <<<"${CC:-cc}"
			if [ -f "$_MQMON_LIB_DIR/freeport.c" ] && command -v "${cc[0]}" >/dev/null 2>&1 &&
				"${cc[@]}" -o "$T/freeport" "$_MQMON_LIB_DIR/freeport.c" 2>"$T/freeport.cc.log"; then
				_MQMON_FREEPORT=$T/freeport
			else
				_MQMON_FREEPORT=-
			fi
		fi
	fi
}

# freeport: print a TCP port that is free on 127.0.0.1 right now.
freeport() {
	_mqmon_freeport_init
	if [ "$_MQMON_FREEPORT" != - ]; then
		"$_MQMON_FREEPORT" || hard_error "$_MQMON_FREEPORT failed"
		return 0
	fi
	# Last resort (no freeport, no compiler): a random port below the usual
	# ephemeral range that nothing listens on; callers retry anyway.
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 12000))
		if [ -z "$(_mqmon_listen_inodes "$p")" ]; then
			echo "$p"
			return 0
		fi
	done
	hard_error "freeport: found no free port"
}

# _mqmon_listen_inodes PORT: socket inodes listening on 127.0.0.1/0.0.0.0:PORT
# (awk: bash's read on /proc files goes byte by byte and is very slow)
_mqmon_listen_inodes() {
	[ -r /proc/net/tcp ] || return 0
	awk -v p="$(printf '%04X' "$1")" '$4 == "0A" && ($2 == "0100007F:" p ||
		$2 == "7F000001:" p || $2 == "00000000:" p) { print $10 }' /proc/net/tcp
}

# _mqmon_established PORT: succeed if an ESTABLISHED socket has local PORT.
_mqmon_established() {
	[ -r /proc/net/tcp ] || return 1
	awk -v p="$(printf ':%04X' "$1")" '$4 == "01" && substr($2, length($2) - 4) == p { f = 1 }
		END { exit !f }' /proc/net/tcp
}

_mqmon_port_connectable() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _mqmon_pid_listens PID PORT: PID is alive and listens on 127.0.0.1:PORT.
_mqmon_pid_listens() {
	local inode fd
	_mqmon_alive "$1" || return 1
	if [ ! -r /proc/net/tcp ]; then
		_mqmon_port_connectable "$2"
		return
	fi
	for inode in $(_mqmon_listen_inodes "$2"); do
		for fd in /proc/"$1"/fd/*; do
			[ "$(readlink "$fd" 2>/dev/null)" = "socket:[$inode]" ] && return 0
		done
	done
	return 1
}

_mqmon_port_free() { # PORT: nothing listens on it
	if [ -r /proc/net/tcp ]; then
		[ -z "$(_mqmon_listen_inodes "$1")" ]
	else
		! _mqmon_port_connectable "$1"
	fi
}

# ---------------------------------------------------------------------------
# TLS material

_mqmon_openssl() {
	openssl "$@" >>"$T/certs/openssl.log" 2>&1 ||
		hard_error "openssl $1 failed:
$(tail -n 20 "$T/certs/openssl.log")"
}

# _mqmon_make_certs: a CA, a server cert (SAN localhost, 127.0.0.1) and a
# client cert, all EC P-256, made once per test in $T/certs.
_mqmon_make_certs() {
	local d=$T/certs k
	if [ ! -f "$d/server.crt" ]; then
		require_cmd openssl
		mkdir -p "$d"
		cat >"$d/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = mqmon test
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF
		_mqmon_openssl req -config "$d/openssl.cnf" -x509 -new -nodes \
			-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-keyout "$d/ca.key" -out "$d/ca.crt" -days 30 \
			-subj "/CN=mqmon test CA" -extensions ca
		for k in server client; do
			_mqmon_openssl req -config "$d/openssl.cnf" -new -nodes \
				-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
				-keyout "$d/$k.key" -out "$d/$k.csr" \
				-subj "/CN=$([ "$k" = server ] && echo localhost || echo mqmon-client)"
			_mqmon_openssl x509 -req -in "$d/$k.csr" -CA "$d/ca.crt" \
				-CAkey "$d/ca.key" -set_serial "$((RANDOM * 32768 + RANDOM + 1))" \
				-days 30 -out "$d/$k.crt" -extfile "$d/openssl.cnf" -extensions "$k"
		done
	fi
	CA_FILE=$d/ca.crt
	CLIENT_CERT=$d/client.crt
	CLIENT_KEY=$d/client.key
	SERVER_CERT=$d/server.crt
	SERVER_KEY=$d/server.key
	export CA_FILE CLIENT_CERT CLIENT_KEY SERVER_CERT SERVER_KEY
}

# ---------------------------------------------------------------------------
# Brokers

# _mqmon_find_mosquitto: set and export MOSQUITTO (the broker lives in sbin,
# which is often not in a normal user's PATH), or skip the test.
_mqmon_find_mosquitto() {
	local m
	if [ -n "${MOSQUITTO-}" ] && [ -x "$MOSQUITTO" ]; then
		return 0
	fi
	for m in "$(command -v mosquitto 2>/dev/null)" /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
		if [ -n "$m" ] && [ -x "$m" ]; then
			MOSQUITTO=$m
			export MOSQUITTO
			return 0
		fi
	done
	skip "mosquitto (the broker) not found; set MOSQUITTO=/path/to/mosquitto"
}

# broker_start [NAME] [--tls] [--auth] [--persist] [--extra 'LINE']...
#   Start mosquitto with config $T/NAME/mosquitto.conf and one listener on
#   127.0.0.1:<free port>; wait until it listens. NAME defaults to b.
#   Sets BROKER_PORT_NAME, BROKER_PID_NAME (and BROKER_PORT for NAME b).
#   --tls: TLS listener; exports CA_FILE CLIENT_CERT CLIENT_KEY
#   --auth: no anonymous access; exports AUTH_USER=mqmon AUTH_PASS=s3cret
#   --persist: persistence in $T/NAME/, autosave every second
#   --extra LINE: append LINE to the config (after the listener line)
broker_start() {
	local name=b tls=0 auth=0 persist=0 dir conf port attempt rc line
	local -a extras=()
	if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
		name=$1
		shift
	fi
	_mqmon_check_name broker_start "$name"
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls=1 ;;
		--auth) auth=1 ;;
		--persist) persist=1 ;;
		--extra)
			[ $# -ge 2 ] || hard_error "broker_start: --extra needs an argument"
			extras+=("$2")
			shift
			;;
		--extra=*) extras+=("${1#--extra=}") ;;
		*) hard_error "broker_start: unknown option '$1'" ;;
		esac
		shift
	done
	_mqmon_find_mosquitto
	if [ -n "$(_mqmon_get BROKER_PID_"$name")" ]; then
		hard_error "broker_start: broker '$name' is already running"
	fi
	dir=$T/$name
	conf=$dir/mosquitto.conf
	mkdir -p "$dir" || hard_error "cannot create $dir"
	[ "$tls" = 1 ] && _mqmon_make_certs
	if [ "$auth" = 1 ]; then
		require_cmd mosquitto_passwd
		AUTH_USER=mqmon
		AUTH_PASS=s3cret
		export AUTH_USER AUTH_PASS
		rm -f "$dir/passwd"
		mosquitto_passwd -b -c "$dir/passwd" "$AUTH_USER" "$AUTH_PASS" >"$dir/passwd.log" 2>&1 ||
			hard_error "mosquitto_passwd failed: $(cat "$dir/passwd.log")"
		chmod 600 "$dir/passwd"
	fi
	_mqmon_list_has "$_MQMON_BROKERS" "$name" || _MQMON_BROKERS="$_MQMON_BROKERS $name"

	_mqmon_freeport_init
	for attempt in 1 2 3 4 5; do
		port=$(freeport)
		{
			echo "# generated by tests/lib.sh for broker '$name'"
			if id -un >/dev/null 2>&1; then
				echo "user $(id -un)"
			fi
			if [ "$auth" = 1 ]; then
				echo "allow_anonymous false"
				echo "password_file $dir/passwd"
			else
				echo "allow_anonymous true"
			fi
			echo "max_queued_messages 0"
			echo "max_inflight_messages 0"
			echo "log_dest file $dir/mosquitto.log"
			# One type per line: mosquitto ignores further words on the line.
			echo "log_type error"
			echo "log_type warning"
			echo "log_type notice"
			echo "log_type information"
			if [ "$persist" = 1 ]; then
				echo "persistence true"
				echo "persistence_location $dir/"
				echo "autosave_interval 1"
			else
				echo "persistence false"
			fi
			echo "listener $port 127.0.0.1"
			if [ "$tls" = 1 ]; then
				echo "cafile $CA_FILE"
				echo "certfile $SERVER_CERT"
				echo "keyfile $SERVER_KEY"
			fi
			for line in ${extras[@]+"${extras[@]}"}; do
				echo "$line"
			done
		} >"$conf"
		rc=0
		_mqmon_broker_launch "$name" "$port" || rc=$?
		case $rc in
		0)
			note "broker $name: port $port, pid $(_mqmon_get BROKER_PID_"$name")"
			return 0
			;;
		2) note "broker $name: port $port was taken, retrying ($attempt/5)" ;;
		*) hard_error "broker $name failed to start" ;;
		esac
	done
	hard_error "broker $name: no free port after 5 attempts"
}

# _mqmon_broker_launch NAME PORT: start mosquitto with $T/NAME/mosquitto.conf
# and wait until it runs and listens. Returns 0 ok, 2 address in use, 1 other
# failure (with the log on stderr); a timeout fails the test.
_mqmon_broker_launch() {
	local name=$1 port=$2 dir=$T/$1 pid off eoff new
	off=0
	[ -f "$dir/mosquitto.log" ] && off=$(($(wc -c <"$dir/mosquitto.log")))
	eoff=0
	[ -f "$dir/stderr.log" ] && eoff=$(($(wc -c <"$dir/stderr.log")))
	"$MOSQUITTO" -c "$dir/mosquitto.conf" </dev/null >>"$dir/stderr.log" 2>&1 &
	pid=$!
	_mqmon_set BROKER_PID_"$name" "$pid" export
	_mqmon_set BROKER_PORT_"$name" "$port" export
	if [ "$name" = b ]; then
		BROKER_PORT=$port
		export BROKER_PORT
	fi
	if ! wait_until - _mqmon_broker_ready "$pid" "$port" "$dir/mosquitto.log" "$off"; then
		kill -KILL "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
		_mqmon_set BROKER_PID_"$name" '' export
		fail "broker $name (port $port) not listening after ${MQMON_WAIT}s; log:
$(tail -c +$((off + 1)) "$dir/mosquitto.log" 2>/dev/null | tail -n 20)"
	fi
	_mqmon_alive "$pid" && return 0
	wait "$pid" 2>/dev/null || :
	_mqmon_set BROKER_PID_"$name" '' export
	new="$(tail -c +$((off + 1)) "$dir/mosquitto.log" 2>/dev/null)
$(tail -c +$((eoff + 1)) "$dir/stderr.log" 2>/dev/null)"
	case $new in *"Address already in use"*) return 2 ;; esac
	printf 'broker %s exited during startup:\n%s\n--- config %s:\n%s\n' \
		"$name" "$new" "$dir/mosquitto.conf" "$(cat "$dir/mosquitto.conf")" >&2
	return 1
}

# ready: "running" logged by this instance (i.e. after byte OFF of the log)
# and PID owns a listening socket on PORT; stops waiting if PID died.
_mqmon_broker_ready() { # PID PORT LOG OFF
	_mqmon_alive "$1" || return 0
	tail -c +$(($4 + 1)) "$3" 2>/dev/null | grep -q ' running$' || return 1
	_mqmon_pid_listens "$1" "$2"
}

_mqmon_broker_name() { # [NAME] -> sets _mqmon_bn, checks it is known
	_mqmon_bn=${1:-b}
	_mqmon_check_name broker "$_mqmon_bn"
	_mqmon_list_has "$_MQMON_BROKERS" "$_mqmon_bn" ||
		hard_error "no broker named '$_mqmon_bn' was started"
}

# broker_port [NAME]: print the broker's port.
broker_port() {
	_mqmon_broker_name "$@"
	_mqmon_get BROKER_PORT_"$_mqmon_bn"
}

# broker_pid [NAME]: print the broker's PID (empty if stopped).
broker_pid() {
	_mqmon_broker_name "$@"
	_mqmon_get BROKER_PID_"$_mqmon_bn"
}

# broker_log [NAME]: print the path of the broker's log file.
broker_log() {
	_mqmon_broker_name "$@"
	echo "$T/$_mqmon_bn/mosquitto.log"
}

# broker_dir [NAME]: print the broker's directory (config, log, persistence).
broker_dir() {
	_mqmon_broker_name "$@"
	echo "$T/$_mqmon_bn"
}

_mqmon_broker_signal() { # NAME SIG
	local name=$1 sig=$2 pid
	_mqmon_var pid BROKER_PID_"$name"
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null || :
	if ! wait_until - _mqmon_dead "$pid"; then
		kill -KILL "$pid" 2>/dev/null || :
		fail "broker $name (pid $pid) still running ${MQMON_WAIT}s after SIG$sig"
	fi
	wait "$pid" 2>/dev/null || :
	_mqmon_set BROKER_PID_"$name" '' export
}

_mqmon_dead() {
	! _mqmon_alive "$1"
}

# broker_stop [NAME]: SIGTERM (mosquitto saves persistence), wait for exit.
# No-op if the broker is not running.
broker_stop() {
	_mqmon_broker_name "$@"
	_mqmon_broker_signal "$_mqmon_bn" TERM
}

# broker_kill9 [NAME]: SIGKILL (no persistence save), wait for exit.
broker_kill9() {
	_mqmon_broker_name "$@"
	_mqmon_broker_signal "$_mqmon_bn" KILL
}

# broker_restart [NAME]: stop the broker if it runs, then start it again with
# the same config, port and persistence dir (retrying while the port is busy).
broker_restart() {
	local name port rc
	_mqmon_broker_name "$@"
	name=$_mqmon_bn
	_mqmon_broker_signal "$name" TERM
	_mqmon_var port BROKER_PORT_"$name"
	_mqmon_now
	local deadline us
	_mqmon_us us -
	deadline=$((_NOW_US + us))
	while :; do
		rc=0
		_mqmon_broker_launch "$name" "$port" || rc=$?
		[ "$rc" = 0 ] && {
			note "broker $name restarted: port $port, pid $(_mqmon_get BROKER_PID_"$name")"
			return 0
		}
		[ "$rc" = 2 ] || hard_error "broker $name failed to restart"
		_mqmon_now
		[ "$_NOW_US" -lt "$deadline" ] || fail "broker $name: port $port still in use after ${MQMON_WAIT}s, cannot restart"
		sleep 0.2
	done
}

# ---------------------------------------------------------------------------
# TCP proxies (socat), for network-cut tests

# _mqmon_launch_setsid IN OUT ERR APPEND CMD...: start external CMD in the
# background in a new session/process group whose id is its PID (set in
# _mqmon_lpid). Job control is switched off meanwhile, so that the background
# job is not a process group leader and setsid(1) execs instead of forking.
# APPEND=1 appends to OUT and ERR instead of truncating them.
_mqmon_launch_setsid() {
	local in=$1 out=$2 err=$3 app=$4 m=0
	shift 4
	case $- in *m*) m=1 && set +m ;; esac
	if [ "$app" = 1 ]; then
		setsid "$@" <"$in" >>"$out" 2>>"$err" &
	else
		setsid "$@" <"$in" >"$out" 2>"$err" &
	fi
	_mqmon_lpid=$!
	[ "$m" = 1 ] && set -m
	# Until setsid(1) has run, the child is still in our process group: wait
	# for that, so that signals to the new group cannot miss it.
	wait_until 2 _mqmon_leader_or_dead "$_mqmon_lpid" ||
		hard_error "setsid $1: no new process group after 2s"
}

# _mqmon_pgid PID: print the process group of PID (empty if gone).
_mqmon_pgid() {
	local st _state _ppid pgrp _rest
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 0
	# after "pid (comm) ": state ppid pgrp ...
	read -r _state _ppid pgrp _rest <<<"${st##*) }"
	echo "$pgrp"
}

_mqmon_leader_or_dead() { # PID
	[ -d /proc/self ] || return 0
	_mqmon_alive "$1" || return 0
	[ "$(_mqmon_pgid "$1")" = "$1" ]
}

# proxy_start [NAME] TARGET_PORT: forward 127.0.0.1:<free port> to
# 127.0.0.1:TARGET_PORT with socat in its own process group; wait until it
# listens. NAME defaults to p. Sets PROXY_PORT_NAME (and PROXY_PORT for p).
proxy_start() {
	local name=p target port attempt rc
	case $# in
	1) target=$1 ;;
	2) name=$1 target=$2 ;;
	*) hard_error "usage: proxy_start [NAME] TARGET_PORT" ;;
	esac
	_mqmon_check_name proxy_start "$name"
	case $target in '' | *[!0-9]*) hard_error "proxy_start: bad target port '$target'" ;; esac
	require_cmd socat setsid
	[ -z "$(_mqmon_get PROXY_PGID_"$name")" ] || hard_error "proxy '$name' is already running"
	_mqmon_set PROXY_TARGET_"$name" "$target"
	_mqmon_list_has "$_MQMON_PROXIES" "$name" || _MQMON_PROXIES="$_MQMON_PROXIES $name"
	_mqmon_freeport_init
	for attempt in 1 2 3 4 5; do
		port=$(freeport)
		rc=0
		_mqmon_proxy_launch "$name" "$port" || rc=$?
		case $rc in
		0)
			note "proxy $name: port $port -> $target"
			return 0
			;;
		2) note "proxy $name: port $port was taken, retrying ($attempt/5)" ;;
		*) hard_error "proxy $name failed to start" ;;
		esac
	done
	hard_error "proxy $name: no free port after 5 attempts"
}

# _mqmon_proxy_launch NAME PORT: 0 ok, 2 address in use, 1 other failure.
_mqmon_proxy_launch() {
	local name=$1 port=$2 target log=$T/proxy-$1.log off pid pgid st
	_mqmon_var target PROXY_TARGET_"$name"
	off=0
	[ -f "$log" ] && off=$(($(wc -c <"$log")))
	_mqmon_launch_setsid /dev/null /dev/null "$log" 1 \
		socat -lp "proxy-$name" \
		"TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$target"
	pid=$_mqmon_lpid
	_mqmon_set PROXY_PORT_"$name" "$port" export
	if [ "$name" = p ]; then
		PROXY_PORT=$port
		export PROXY_PORT
	fi
	if ! wait_until - _mqmon_pid_listens_or_dead "$pid" "$port"; then
		kill -KILL -- "-$pid" 2>/dev/null || :
		kill -KILL "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
		fail "proxy $name (port $port) not listening after ${MQMON_WAIT}s:
$(tail -c +$((off + 1)) "$log")"
	fi
	if _mqmon_alive "$pid"; then
		pgid=$(_mqmon_pgid "$pid")
		if [ -n "$pgid" ] && [ "$pgid" != "$pid" ]; then
			kill -KILL "$pid" 2>/dev/null || :
			hard_error "proxy $name: socat is not a process group leader (pgid $pgid, pid $pid)"
		fi
		_mqmon_set PROXY_PGID_"$name" "$pid" export
		return 0
	fi
	wait "$pid" 2>/dev/null || :
	case $(tail -c +$((off + 1)) "$log") in
	*"Address already in use"*) return 2 ;;
	esac
	printf 'proxy %s: socat exited during startup:\n%s\n' "$name" "$(tail -c +$((off + 1)) "$log")" >&2
	return 1
}

_mqmon_pid_listens_or_dead() {
	_mqmon_alive "$1" || return 0
	_mqmon_pid_listens "$1" "$2"
}

_mqmon_proxy_name() {
	_mqmon_pn=${1:-p}
	_mqmon_check_name proxy "$_mqmon_pn"
	_mqmon_list_has "$_MQMON_PROXIES" "$_mqmon_pn" ||
		hard_error "no proxy named '$_mqmon_pn' was started"
}

_mqmon_proxy_gone() { # PGID PORT
	_mqmon_group_alive "$1" && return 1
	_mqmon_port_free "$2" || return 1
	! _mqmon_established "$2"
}

# proxy_port [NAME]: print the proxy's listening port.
proxy_port() {
	_mqmon_proxy_name "$@"
	_mqmon_get PROXY_PORT_"$_mqmon_pn"
}

# proxy_stop [NAME]: kill the proxy's whole process group (the listener and
# every forwarded connection) and wait until nothing listens on its port and
# no connection to it is left. No-op if it is not running.
proxy_stop() {
	local name pgid port
	_mqmon_proxy_name "$@"
	name=$_mqmon_pn
	_mqmon_var pgid PROXY_PGID_"$name"
	_mqmon_var port PROXY_PORT_"$name"
	[ -n "$pgid" ] || return 0
	kill -TERM -- "-$pgid" 2>/dev/null || :
	kill -CONT -- "-$pgid" 2>/dev/null || :
	if ! wait_until - _mqmon_proxy_gone "$pgid" "$port"; then
		kill -KILL -- "-$pgid" 2>/dev/null || :
		fail "proxy $name (port $port) not gone ${MQMON_WAIT}s after SIGTERM"
	fi
	wait "$pgid" 2>/dev/null || :
	_mqmon_set PROXY_PGID_"$name" '' export
	return 0
}

# proxy_restart [NAME]: stop the proxy if it runs, start it again on the same
# port and target (retrying while the port is busy).
proxy_restart() {
	local name port rc us deadline
	_mqmon_proxy_name "$@"
	name=$_mqmon_pn
	proxy_stop "$name"
	_mqmon_var port PROXY_PORT_"$name"
	_mqmon_us us -
	_mqmon_now
	deadline=$((_NOW_US + us))
	while :; do
		rc=0
		_mqmon_proxy_launch "$name" "$port" || rc=$?
		[ "$rc" = 0 ] && return 0
		[ "$rc" = 2 ] || hard_error "proxy $name failed to restart"
		_mqmon_now
		[ "$_NOW_US" -lt "$deadline" ] || fail "proxy $name: port $port still in use after ${MQMON_WAIT}s, cannot restart"
		sleep 0.2
	done
}

# proxy_pause [NAME]: SIGSTOP the proxy: connections stay open but no data
# flows and new connections are never served (a stalled network).
proxy_pause() {
	local pgid
	_mqmon_proxy_name "$@"
	_mqmon_var pgid PROXY_PGID_"$_mqmon_pn"
	[ -n "$pgid" ] || hard_error "proxy $_mqmon_pn is not running"
	kill -STOP -- "-$pgid"
}

# proxy_resume [NAME]: SIGCONT a paused proxy.
proxy_resume() {
	local pgid
	_mqmon_proxy_name "$@"
	_mqmon_var pgid PROXY_PGID_"$_mqmon_pn"
	[ -n "$pgid" ] || hard_error "proxy $_mqmon_pn is not running"
	kill -CONT -- "-$pgid"
}

# ---------------------------------------------------------------------------
# Background commands

# run_bg [--stdin FILE] NAME CMD...: start CMD in the background, stdin from
# FILE (default /dev/null), stdout to $T/NAME.out, stderr to $T/NAME.err; its
# PID goes in PID_NAME (bg_pid NAME prints it). An external CMD runs in its
# own process group (setsid), so stop_bg also reaches its children; a shell
# function runs in a plain background subshell.
run_bg() {
	local stdin=/dev/null name pid
	if [ "${1-}" = --stdin ]; then
		[ $# -ge 2 ] || hard_error "run_bg: --stdin needs a file"
		stdin=$2
		shift 2
	fi
	[ $# -ge 2 ] || hard_error "usage: run_bg [--stdin FILE] NAME CMD..."
	name=$1
	shift
	_mqmon_check_name run_bg "$name"
	_mqmon_var pid PID_"$name"
	if [ -n "$pid" ] && _mqmon_alive "$pid"; then
		hard_error "run_bg: '$name' is already running (pid $pid)"
	fi
	if [ "$(type -t "$1")" = file ] && command -v setsid >/dev/null 2>&1; then
		_mqmon_launch_setsid "$stdin" "$T/$name.out" "$T/$name.err" 0 "$@"
		pid=$_mqmon_lpid
		_mqmon_set _MQMON_BGGROUP_"$name" 1
	else
		"$@" <"$stdin" >"$T/$name.out" 2>"$T/$name.err" &
		pid=$!
		_mqmon_set _MQMON_BGGROUP_"$name" 0
	fi
	_mqmon_set PID_"$name" "$pid"
	_mqmon_set _MQMON_BGSTATUS_"$name" ''
	_mqmon_list_has "$_MQMON_BGS" "$name" || _MQMON_BGS="$_MQMON_BGS $name"
	return 0
}

_mqmon_bg_name() {
	_mqmon_check_name bg "${1-}"
	_mqmon_list_has "$_MQMON_BGS" "$1" || hard_error "no background command named '$1'"
}

# bg_pid NAME: print the PID of background command NAME.
bg_pid() {
	_mqmon_bg_name "${1-}"
	_mqmon_get PID_"$1"
}

# bg_alive NAME: succeed if background command NAME is still running.
bg_alive() {
	_mqmon_bg_name "${1-}"
	_mqmon_alive "$(_mqmon_get PID_"$1")"
}

_mqmon_bg_reap() { # NAME PID: set BG_STATUS (once per run); PID has exited
	local st
	_mqmon_var st _MQMON_BGSTATUS_"$1"
	if [ -z "$st" ]; then
		# never block: only reached once PID is dead
		_mqmon_alive "$2" && hard_error "internal: reaping live pid $2"
		st=0
		wait "$2" 2>/dev/null || st=$?
		_mqmon_set _MQMON_BGSTATUS_"$1" "$st"
	fi
	BG_STATUS=$st
}

# _mqmon_group_stopped PGID: some process of the group is stopped by a
# signal (state T; a traced one is t)
_mqmon_group_stopped() {
	ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 ~ /^T/ { found = 1 } END { exit !found }'
}

# stop_bg NAME [SIG]: send SIG (default TERM) to NAME (its process group if it
# has one) and wait, bounded, until it exits; its exit status goes in
# BG_STATUS. Returns 0; no-op (beyond setting BG_STATUS) if it already ended.
stop_bg() {
	local name=${1-} sig=${2:-TERM} pid
	_mqmon_bg_name "$name"
	_mqmon_var pid PID_"$name"
	if [ "$(_mqmon_get _MQMON_BGGROUP_"$name")" = 1 ]; then
		if _mqmon_alive "$pid" || _mqmon_group_alive "$pid"; then
			kill -"$sig" -- "-$pid" 2>/dev/null || :
			# only a stopped group needs waking: a SIGCONT that lands while
			# LeakSanitizer's exit check has the process traced can hang it
			if _mqmon_group_stopped "$pid"; then
				kill -CONT -- "-$pid" 2>/dev/null || :
			fi
			if ! wait_until - _mqmon_all_gone "$pid" "$pid"; then
				kill -KILL -- "-$pid" 2>/dev/null || :
				fail "$name (process group $pid) still running ${MQMON_WAIT}s after SIG$sig"
			fi
		fi
	elif _mqmon_alive "$pid"; then
		kill -"$sig" "$pid" 2>/dev/null || :
		if ! wait_until - _mqmon_dead "$pid"; then
			kill -KILL "$pid" 2>/dev/null || :
			fail "$name (pid $pid) still running ${MQMON_WAIT}s after SIG$sig"
		fi
	fi
	_mqmon_bg_reap "$name" "$pid"
	return 0
}

# wait_bg NAME [TIMEOUT]: wait, bounded, until NAME exits; returns (and puts
# in BG_STATUS) its exit status. A timeout fails the test.
wait_bg() {
	local name=${1-} t=${2:--} pid
	_mqmon_bg_name "$name"
	[ "$t" = - ] && t=$MQMON_WAIT
	_mqmon_var pid PID_"$name"
	wait_until "$t" _mqmon_dead "$pid" ||
		fail "$name (pid $pid) still running after ${t}s: $(tail -n 3 "$T/$name.err" 2>/dev/null)"
	_mqmon_bg_reap "$name" "$pid"
	return "$BG_STATUS"
}
