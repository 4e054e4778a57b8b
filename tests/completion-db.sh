#!/usr/bin/env bash
# The bash completions that read an mqmon-store database: mqmon-store's
# completes subcommands, and devices, metrics (of the --device given) and
# topics from the database named on the line (--db, else $MQMON_DB);
# mqmon-cmd's completes the DEVICE of a command from --db, then the
# COMMAND.
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
exit 0
