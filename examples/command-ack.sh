#!/bin/sh
# command-ack.sh - send a device a command and act on its acknowledgement;
# or restart every device that the archive says is offline.
#
# Run:   ./command-ack.sh ESP32_001 relay index=0 state=true
#        ./command-ack.sh --restart-offline
# Any mqmon-cmd option may come before the device, e.g.
#        ./command-ack.sh --id-field messageId drone-7 get_status
# The result lines (JSON, one per command) go to stdout, a summary to
# stderr; the exit status is mqmon-cmd's: 0 acknowledged, 3 no answer
# (or skipped), 4 refused, 65 bad input lines, 1 broker trouble.
#
# Settings (environment):
#   MQMON_HOST, MQMON_PORT  the broker (read by mqmon-cmd itself)
#   MQMON_DB       the archive of --restart-offline (default fleet.db)
#   MAX_FAILURES   --restart-offline stops starting restarts after this
#                  many failures (default 5)
# Needs: mqmon-cmd; mqmon-status and an mqmon-store archive for
# --restart-offline.  Devices answer on devices/DEVICE/response (see
# --cmd-topic and --ack-topic in mqmon-cmd(1) for other layouts).

say() { echo "command-ack.sh: $*" >&2; }

if [ "${1:-}" = --restart-offline ]; then
	db=${MQMON_DB:-fleet.db}
	# Read the list first, so that an archive that cannot be read is an
	# error and not an empty (and so successful) batch.
	offline=$(mqmon-status --db "$db" --offline --format json) || {
		say "cannot read the archive $db"
		exit 1
	}
	if [ -z "$offline" ]; then
		say "no device is offline in $db: nothing to restart"
		exit 0
	fi
	count=$(printf '%s\n' "$offline" | grep -c .)
	# The snapshot's rows name their device: with the command given here,
	# each row is a command for --batch.  --max-failures stops a restart
	# storm when the devices do not answer (the broker, not them, may be
	# the problem).
	printf '%s\n' "$offline" |
		mqmon-cmd -q 1 --batch --max-failures "${MAX_FAILURES:-5}" restart
	status=$?
	case $status in
	0) say "all $count offline devices acknowledged the restart" ;;
	*) say "not every one of the $count offline devices acknowledged the restart (status $status): see the results" ;;
	esac
	exit "$status"
fi

if [ $# -lt 2 ]; then
	say "usage: command-ack.sh [mqmon-cmd options] DEVICE COMMAND [KEY=VALUE...] | --restart-offline"
	exit 2
fi

# -q 1: the broker acknowledges the command too; mqmon-cmd sends it again
# (same id, so the device can drop the duplicate) when no answer comes.
mqmon-cmd -q 1 "$@"
status=$?
case $status in
0) say "acknowledged" ;;
3) say "no answer: the device is offline or does not listen on its command topic" ;;
4) say "refused by the device: see the response in the result line" ;;
*) say "failed (status $status)" ;;
esac
exit "$status"
