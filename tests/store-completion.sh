#!/usr/bin/env bash
# mqmon-store's bash completion completes subcommands, and devices, metrics
# (of the --device given) and topics from the database named on the line
# (--db, else $MQMON_DB).
. "${srcdir:-.}/tests/lib.sh"
# shellcheck source=../completions/bash/mqmon-store
. "$MQMON_SRCDIR/completions/bash/mqmon-store"

DB=$T/fleet.db
mqmon-store --db "$DB" <"$MQMON_SRCDIR/tests/data/meaning/battery-hawk.in.ndjson" || fail "ingest"

# complete WORDS...: COMPREPLY for the command line WORDS (the last one is
# being typed), one per line, sorted
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_mqmon_store
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
exit 0
