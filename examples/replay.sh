#!/bin/sh
# replay.sh - publish a time range of the archive again, under another
# topic prefix: to feed a new dashboard or consumer yesterday's traffic,
# or to reproduce an incident, without touching the live topics.
#
# Run:   ./replay.sh SINCE [UNTIL]
#        ./replay.sh 2025-01-28T10:00:00Z 2025-01-28T11:00:00Z
#        ./replay.sh 2h                  the last two hours, until now
# SINCE is included and UNTIL excluded; times are RFC 3339 (UTC unless an
# offset is given), a bare date (its midnight, UTC), or a span ago (15m,
# 2h, 7d).  Messages go out in their archived order, as fast as $RATE
# allows (not at their original pace).
#
# Settings (environment):
#   MQMON_HOST, MQMON_PORT  the broker (read by mqmon-pub itself)
#   MQMON_DB       the archive (default fleet.db)
#   FROM, TO       the prefix replaced, and its replacement (default
#                  autocore/ and replay/): autocore/X/telemetry is
#                  published as replay/X/telemetry
#   RATE           messages per second at most (default 200)
# Needs: mqmon-store, mqmon-pub, sed.

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: replay.sh SINCE [UNTIL]" >&2
	exit 2
fi
db=${MQMON_DB:-fleet.db}
from=${FROM:-autocore/}
to=${TO:-replay/}

# Only the topics under FROM: the others would be published unchanged,
# onto the live topics.
# The retained flag is dropped: a replayed retained status would stay on
# the broker under the new prefix, and greet every later subscriber as if
# it were current.  (The envelope's own "retain" comes before its payload,
# so sed's first match on each line is that one.)
mqmon-store --db "$db" query --topic "$from#" --since "$1" --until "${2:-now}" |
	sed 's/"retain":true/"retain":false/' |
	mqmon-pub -q 1 --rate "${RATE:-200}" --rewrite "$from=$to"
