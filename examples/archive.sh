#!/bin/sh
# archive.sh - archive every AutoCore message as NDJSON, one file per UTC
# day (autocore-2025-01-28.ndjson, ...), with a persistent session: while
# it runs nothing is lost across broker restarts or network cuts (QoS 1,
# so duplicates are possible; see mqmon-sub(1)).  For an archive you can
# query, see archive-cron.sh.
#
# Run:   ./archive.sh       until Ctrl-C, or SIGTERM to its process group
# Old days are plain files: compress or delete them as you like.
#
# Settings (environment):
#   MQMON_HOST, MQMON_PORT  the broker (read by mqmon-sub itself)
#   ARCHIVE_DIR    where the files go (default .)
#   TOPIC          what to archive (default autocore/#)
#   CLIENT_ID      the session's client id (default archiver-HOSTNAME);
#                  keep it stable, the broker queues for it meanwhile
# Needs: mqmon-sub, date.

dir=${ARCHIVE_DIR:-.}
topic=${TOPIC:-autocore/#}
client_id=${CLIENT_ID:-archiver-$(uname -n)}

# One mqmon-sub per day, told (-W) to end at the next UTC midnight; then a
# new one appends to the new day's file.  (Opening the file once, when the
# archiver starts, would write every day into the first day's file.)  The
# session is persistent (-c -i, -q 1): what comes while one run ends and
# the next connects is queued by the broker and lands in the new file.
# Only QoS 0 messages published in that instant can be missed, as over any
# reconnection: the broker does not queue those.
while :; do
	# one call to date, so that the day and the seconds left agree; UTC
	# days are 86400 seconds of Unix time
	now=$(date -u '+%Y-%m-%d %s')
	day=${now% *}
	left=$((86400 - ${now#* } % 86400))
	mqmon-sub -c -i "$client_id" -q 1 -t "$topic" -W "$left" \
		>>"$dir/${topic%%/*}-$day.ndjson"
	case $? in
	3) ;;         # midnight: on to the next file
	0) exit 0 ;;  # stopped by SIGINT or SIGTERM (or its output closed)
	2) exit 2 ;;  # a usage error does not go away by retrying
	*) sleep 5 ;; # it gave up on the broker: try again
	esac
done
