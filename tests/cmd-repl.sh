#!/usr/bin/env bash
# mqmon-cmd's interactive shell under a real pseudo-terminal (tmux): the
# prompt; an answer printed above the prompt while a line is half typed,
# which stays in the line; use, devices, watch/unwatch, timeout, history,
# help; tab completion of a shell command, a device seen live and a
# parameter key; history kept across runs in $XDG_STATE_HOME/mqmon/history
# (mode 0600); Ctrl-C cancels the line or the wait; Ctrl-D leaves with 0.
. "${srcdir:-.}/tests/lib.sh"
require_cmd tmux mosquitto_pub
broker_start --extra "log_type subscribe"
P=(-p "$BROKER_PORT")

subscribed() {
	wait_until 10 grep -q "^[0-9]*: $1 [0-2] $2\$" "$(broker_log)" || fail "$1 did not subscribe to $2"
}

TM=(tmux -S "$T/tmux.sock")
on_exit "${TM[*]} kill-server 2>/dev/null"
export XDG_STATE_HOME=$T/state
screen() { "${TM[@]}" capture-pane -p -t repl | sed -e 's/[[:space:]]*$//' | grep -v '^$' || true; }
# shows TEXT: wait until the screen holds TEXT (fixed)
screen_has() { screen | grep -qF -- "$1"; }
shows() { wait_until 10 screen_has "$1" || fail "the screen never showed '$1':
$(screen)"; }
keys() { "${TM[@]}" send-keys -t repl "$@"; }
start_repl() { # NAME CLIENT-ID ARGS...
	local id=$2
	shift 2
	"${TM[@]}" new-session -d -s repl -x 200 -y 60 \
		"env PATH='$PATH' XDG_STATE_HOME='$XDG_STATE_HOME' mqmon-cmd -p $BROKER_PORT -i $id $*; echo EXIT=\$? >'$T/exit'; sleep 60"
	subscribed "$id" 'devices/+/response'
}

# the devices: one answers at once, the other (slow/…) after 800 ms
run_bg resp mqmon-cmd "${P[@]}" -i resp --respond
run_bg slow mqmon-cmd "${P[@]}" -i slow --respond --delay-ms 800 --cmd-topic 'slow/{device}' \
	--ack-topic 'devices/{device}/response'
subscribed resp 'devices/+/command'
subscribed slow 'slow/+'

start_repl repl replclient
shows 'mqmon-cmd>'

# a command and its answer
keys 'ESP32_001 relay index=0 state=true' Enter
shows '"event":"result"'
screen | grep -F '"event":"result"' | grep -qF '"status":"acked"' || fail "no acked result: $(screen)"
shows 'ESP32_001 relay: sent (id '

# tab: a shell command, a parameter key, a device seen live
keys 'hel' Tab
shows 'mqmon-cmd> help'
keys C-u
mosquitto_pub "${P[@]}" -t autocore/ESP32_777/status -m '{"status":"online"}'
keys 'devices' Enter
shows 'ESP32_777'
keys 'ESP32_7' Tab
shows 'mqmon-cmd> ESP32_777'
keys 'rel' Tab
shows 'mqmon-cmd> ESP32_777 relay'
keys 'ind' Tab
shows 'mqmon-cmd> ESP32_777 relay index='
keys C-u

# an answer arriving while a line is half typed: printed above it, and
# the half-typed line goes on to be sent as typed
"${TM[@]}" kill-session -t repl
start_repl repl2 replclient2 --cmd-topic "'slow/{device}'"
shows 'mqmon-cmd>'
keys 'use ESP32_002' Enter
shows 'mqmon-cmd ESP32_002>'
keys 'restart' Enter
shows 'ESP32_002 restart: sent'
keys 'feed amount=2'
shows '"command":"restart","status":"acked"'
last=$(screen | tail -n 1)
assert_eq 'mqmon-cmd ESP32_002> feed amount=2' "$last" "the prompt and the half-typed line, under the answer"
answer_row=$(screen | grep -n '"event":"result"' | tail -1 | cut -d: -f1)
prompt_row=$(screen | grep -n 'feed amount=2' | tail -1 | cut -d: -f1)
((answer_row < prompt_row)) || fail "the answer is not above the prompt: $(screen)"
keys '.5' Enter
shows '"amount":2.5'

# Ctrl-C: the half-typed line goes; then the wait goes
keys 'restart now=1'
shows 'restart now=1'
keys C-c
shows 'restart now=1^C'
keys 'restart' Enter
shows 'restart: sent'
keys C-c
shows 'stopped waiting for 1 command'
sleep 1.2 # the late answer is ignored: no result for it
assert_eq 2 "$(screen | grep -c '"event":"result"')" "results after the cancelled wait"

# timeout, watch and unwatch, help, history
keys 'timeout 0.25' Enter
shows 'timeout 0.25 s (then 2 retries)'
keys 'watch sensors/#' Enter
mosquitto_pub "${P[@]}" -t sensors/t1 -m '{"t":21.5}'
shows '"topic":"sensors/t1","qos":0,"retain":false,"enc":"json","payload":{"t":21.5}'
keys 'unwatch' Enter
sleep 0.3
mosquitto_pub "${P[@]}" -t sensors/t2 -m '{"t":22.5}'
keys 'help' Enter
shows 'watch FILTER'
assert_eq 0 "$(screen | grep -c 'sensors/t2')" "messages after unwatch"
keys 'help use' Enter
shows 'send the commands that follow to DEVICE'
keys 'history' Enter
shows 'use ESP32_002'

# Ctrl-D leaves with 0, the history stays
keys C-d
wait_until 10 test -s "$T/exit" || fail "Ctrl-D did not end the shell: $(screen)"
assert_eq EXIT=0 "$(cat "$T/exit")" "exit status after Ctrl-D"
hist=$XDG_STATE_HOME/mqmon/history
assert_eq 600 "$(stat -c %a "$hist")" "the history file's mode"
assert_contains "$hist" 'ESP32_001 relay index=0 state=true' 'feed amount=2.5' 'timeout 0.25'
"${TM[@]}" kill-session -t repl
rm -f "$T/exit"

# the next run has the history: the arrow finds the last line, and the
# devices typed before complete
start_repl repl3 replclient3
shows 'mqmon-cmd>'
keys Up
shows 'mqmon-cmd> history'
keys C-u 'quit' Enter
wait_until 10 test -s "$T/exit" || fail "quit did not end the shell"
assert_eq EXIT=0 "$(cat "$T/exit")" "exit status after quit"
stop_bg resp
stop_bg slow
exit 0
