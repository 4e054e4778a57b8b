#!/usr/bin/env bash
# The completions that read an mqmon-store database: mqmon-store's
# completes subcommands, each subcommand's own options, and devices,
# metrics (of the --device given) and topics from the database named on
# the line (--db, before or after the subcommand, else $MQMON_DB), also
# names that CSV quotes; mqmon-cmd's completes the DEVICE of a command
# from --db, then the COMMAND.  Bash's are called directly; zsh's (when
# zsh is installed) run in an interactive zsh on a pseudo-terminal.
. "${srcdir:-.}/tests/lib.sh"
# shellcheck source=../completions/bash/mqmon-store
. "$MQMON_SRCDIR/completions/bash/mqmon-store"
# shellcheck source=../completions/bash/mqmon-cmd
. "$MQMON_SRCDIR/completions/bash/mqmon-cmd"

DB=$T/fleet.db
mqmon-store --db "$DB" <"$MQMON_SRCDIR/tests/data/meaning/battery-hawk.in.ndjson" || fail "ingest"

# complete WORDS...: COMPREPLY for the command line WORDS (the last one is
# being typed), one per line, sorted
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	case $1 in
	mqmon-store) _mqmon_store ;;
	mqmon-cmd) _mqmon_cmd ;;
	esac
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

assert_eq "metrics" "$(complete_line mqmon-store --db "$DB" met)" "the metrics subcommand"
assert_eq "11:22:33:44:55:66
AA:BB:CC:DD:EE:FF
DE:AD:BE:EF:00:01" "$(complete_line mqmon-store --db "$DB" series --device '')" "devices from --db"
assert_eq "AA:BB:CC:DD:EE:FF" "$(complete_line mqmon-store --db "$DB" series --device AA)" "a device by its start"
# bash splits the word at ':'; what readline replaces is what follows the last one
assert_eq "DD:EE:FF" "$(complete_line mqmon-store --db "$DB" series --device AA : BB : CC :)" \
	"a MAC address split at its colons"
assert_eq "state_of_charge" \
	"$(complete_line mqmon-store --db "$DB" series --device AA : BB : CC : DD : EE : FF --metric sta)" \
	"the metrics of a MAC address split at its colons"
assert_eq "voltage" "$(complete_line mqmon-store --db "$DB" series --device DE:AD:BE:EF:00:01 --metric '')" \
	"the metrics of the device given"
assert_eq "state_of_charge" "$(complete_line mqmon-store --db "$DB" series --metric st)" "metrics of every device"
assert_eq "truck7/device/DE:AD:BE:EF:00:01/reading" "$(MQMON_DB=$DB complete_line mqmon-store query --topic tr)" \
	"topics from \$MQMON_DB"
assert_eq "" "$(complete_line mqmon-store --db "$T/none.db" series --device '')" "no database, no devices"
assert_eq "AA:BB:CC:DD:EE:FF" "$(complete_line mqmon-store series --db "$DB" --device AA)" "--db after the subcommand"

# each subcommand's own options, and the general ones; before the
# subcommand, all of them
opts() { complete_line "$@" | paste -sd' ' -; }
assert_eq "--config --db --debug --device --format --help --limit --quiet --since --topic --until --version" \
	"$(opts mqmon-store --db "$DB" query --)" "query's options"
assert_eq "--config --db --debug --format --help --limit --quiet --topic --version" "$(opts mqmon-store topics --)" \
	"topics' options"
assert_eq "--config --db --debug --device --format --help --limit --quiet --version" "$(opts mqmon-store devices --)" \
	"devices' options"
assert_eq "--agg --config --db --debug --device --every --format --help --limit --metric --quiet --since --until --version" \
	"$(opts mqmon-store series --device x --)" "series' options"
assert_eq "--config --db --debug --device --format --help --limit --quiet --since --until --version" \
	"$(opts mqmon-store metrics --)" "metrics' options"
assert_eq "--config --db --debug --format --help --older-than --quiet --topic --version" "$(opts mqmon-store prune --)" \
	"prune's options"
assert_eq "--config --db --debug --format --help --quiet --version" "$(opts mqmon-store --db "$DB" stats --)" \
	"stats' options"
assert_eq "--batch --config --db --debug --flush-ms --help --quiet --retain --rule --strict --tee --version" \
	"$(opts mqmon-store ingest --)" "ingest's options"
assert_eq "--older-than" "$(opts mqmon-store --older)" "every option before the subcommand"
assert_eq "" "$(opts mqmon-store query --older)" "no other subcommand's option after it"
assert_eq "" "$(opts mqmon-store query '')" "no second subcommand"

# names that CSV quotes (a comma, quotes) come back whole, quoted for the shell
DBQ=$T/quoted.db
printf '%s\n' '{"topic":"misc/it'"'"'s \"quoted\", ok","payload":1}' '{"topic":"misc/plain","payload":2}' |
	mqmon-store --db "$DBQ" || fail "ingest of quoted topics"
assert_eq "misc/it\\'s\\ \\\"quoted\\\"\\,\\ ok
misc/plain" "$(complete_line mqmon-store --db "$DBQ" topics -t misc/)" "a topic with quotes and a comma"

# mqmon-cmd: the device from --db, then the command
assert_eq "11:22:33:44:55:66
AA:BB:CC:DD:EE:FF
DE:AD:BE:EF:00:01" "$(complete_line mqmon-cmd --db "$DB" -q 1 '')" "mqmon-cmd: devices from --db"
assert_eq "DD:EE:FF" "$(complete_line mqmon-cmd --db "$DB" AA : BB : CC :)" "mqmon-cmd: a MAC address split at its colons"
assert_eq "relay
restart" "$(complete_line mqmon-cmd --db "$DB" AA : BB : CC : DD : EE : FF re)" "mqmon-cmd: the command"
assert_eq "--max-failures
--max-pending" "$(complete_line mqmon-cmd --max)" "mqmon-cmd: options"
assert_eq "restart" "$(complete_line mqmon-cmd --batch --max-pending 5 rest)" "mqmon-cmd --batch: the command"

# zsh: the same from _mqmon-store, completed with TAB in an interactive
# zsh; what each completion shows follows a line "### N"
if ! command -v zsh >/dev/null; then
	note "zsh is not installed: its completion is not tested"
	exit 0
fi
# the keys after each TAB are typed ahead of the completion's answer, which
# zsh may then skip; the sanitizer build only makes mqmon-store slower at
# answering, so its zsh run is left to the plain build
if [[ ${MQMON_SANITIZERS:-} == 1 ]]; then
	note "sanitizer build: zsh completion is tested in the plain build"
	exit 0
fi
cat >"$T/zcomp.zsh" <<'EOF'
zmodload zsh/zpty || exit 1
zpty -b z 'env PS1="> " TERM=dumb HOME=/nonexistent zsh -f -i'
zpty -w z "stty cols 250; fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D; zstyle ':completion:*' list-prompt ''; LISTMAX=10000; setopt nobeep; print RE''ADY"
zpty -r z out '*READY*'
shift
local n=0 line
for line; do
	n=$((n + 1))
	zpty -w -n z "$line"$'\t'
	# leave the line unrun and print a mark: what comes before it is the
	# completion's work
	zpty -w -n z $'\C-e\C-u'"print MA''RK$n"$'\n'
	zpty -r z out "*MARK$n*"
	print -r -- "### $n"
	print -r -- "${out//$'\r'/}"
done
zpty -d z
EOF
(cd "$T" && run_bounded 60 zsh -f "$T/zcomp.zsh" "$MQMON_SRCDIR/completions/zsh" \
	'mqmon-store --db fleet.db query --' \
	'mqmon-store stats --' \
	'mqmon-store --db fleet.db series --device ' \
	'mqmon-store series --db fleet.db --device DE:AD:BE:EF:00:01 --metric ' \
	'mqmon-store --db fleet.db query --topic tr' \
	'mqmon-store --db quoted.db topics -t misc/it' \
	'mqmon-store --') >"$T/zsh.out" 2>&1 || fail "zsh completion: $(cat "$T/zsh.out")"
# zshows N: what completion N showed
zshows() { awk -v n="$1" '/^### / { on = $2 == n; next } on' "$T/zsh.out"; }
for opt in --config --db --debug --device --format --help --limit --quiet --since --topic --until --version; do
	assert_contains "$(zshows 1)" "$opt "
done
assert_not_contains "$(zshows 1)" "--batch" "--metric" "--older-than" "--tee"
assert_contains "$(zshows 2)" "--format " "--db "
assert_not_contains "$(zshows 2)" "--device" "--topic" "--limit"
assert_contains "$(zshows 3)" "11:22:33:44:55:66" "AA:BB:CC:DD:EE:FF" "DE:AD:BE:EF:00:01"
assert_contains "$(zshows 4)" "--metric voltage"
assert_contains "$(zshows 5)" "--topic truck7/device/DE:AD:BE:EF:00:01/reading"
assert_contains "$(zshows 6)" "misc/it\\'s\\ \\\"quoted\\\",\\ ok"
assert_contains "$(zshows 7)" "--batch " "--older-than " "--metric "
exit 0
