#!/bin/sh
# Archive every AutoCore message to a daily NDJSON file with a persistent
# session: while this runs nothing is lost across broker restarts or
# network cuts (QoS 1, duplicates possible; see mqmon-sub(1)).
exec mqmon-sub -c -i "archiver-$(hostname)" -q 1 -t 'autocore/#' \
	>>"autocore-$(date +%Y-%m-%d).ndjson"
