#!/bin/sh
# monitor.sh - watch a fleet live: archive every message in SQLite, print
# every event (online, offline, alert, recovered, state ...), and hand the
# ones a person must see (a device gone offline, a value past its
# threshold, the broker lost) to a notifier.
#
# Run:   MQMON_HOST=broker.lan ./monitor.sh >>events.ndjson
#        NOTIFY='mail -s "fleet alert" ops@example.com' ./monitor.sh
# Stop it with Ctrl-C, or SIGTERM to its whole process group (as systemd
# does): mqmon-store commits what it holds.
#
# Settings (environment):
#   MQMON_HOST, MQMON_PORT  the broker (read by mqmon-sub itself; default
#                  localhost:1883), as are MQMON_USERNAME, MQMON_PASSWORD
#   MQMON_DB       the archive (default fleet.db)
#   TOPIC          the topics to watch (default autocore/#)
#   OFFLINE_AFTER  seconds of silence that make a device offline (default 30)
#   ALERT          the alert rule (default 'temperature > 30 for 5m')
#   NOTIFY         a shell command run once per offline, alert or stale
#                  event, with the event line on its stdin; unset, the
#                  events are only printed
# Needs: mqmon-sub, mqmon-store, mqmon-status; a POSIX sh.

db=${MQMON_DB:-fleet.db}
topic=${TOPIC:-autocore/#}
offline_after=${OFFLINE_AFTER:-30}
alert=${ALERT:-temperature > 30 for 5m}
notify=${NOTIFY:-}

# -q 1: a message the broker has taken is not dropped on the way to us.
# --events: a lost broker connection becomes one "stale" event, not one
# "offline" per device (and silence is not counted while it lasts).
# --tee: the archive and the live view see the same lines, so what the
# database says and what was announced never disagree.
mqmon-sub -q 1 -t "$topic" --events |
	mqmon-store --db "$db" --tee |
	mqmon-status --offline-after "$offline_after" --alert "$alert" |
	while IFS= read -r event; do
		printf '%s\n' "$event"
		# online and recovered are good news: add them here to be told
		# when a problem is over.
		case $event in
		*'"event":"offline"'* | *'"event":"alert"'* | *'"event":"stale"'*)
			if [ -n "$notify" ]; then
				# a notifier that fails (mail server down) must not
				# stop the monitoring: say so and go on
				printf '%s\n' "$event" | sh -c "$notify" ||
					echo "monitor.sh: the notifier failed: $notify" >&2
			fi
			;;
		esac
	done
