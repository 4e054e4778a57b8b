#!/bin/sh
# prometheus.sh - the fleet as Prometheus metrics, through the node
# exporter's textfile collector: mqmon_device_online,
# mqmon_device_last_seen_seconds, mqmon_device_messages_total and the last
# value of each metric (mqmon_device_metric), per device.
#
# Run:   ./prometheus.sh live        subscribe, and rewrite the file every
#                                    $PROM_INTERVAL seconds until stopped
#        ./prometheus.sh snapshot    write it once from the archive
# The node exporter reads every *.prom file of its directory:
#   node_exporter --collector.textfile.directory=/var/lib/node_exporter/textfile
# Either keep "live" running, or write a snapshot each minute from cron:
#   * * * * *  MQMON_DB=/var/lib/mqmon/fleet.db /usr/local/bin/prometheus.sh snapshot
# then alert on, say, mqmon_device_online == 0 or
# time() - mqmon_device_last_seen_seconds > 300.
#
# Settings (environment):
#   PROM_FILE      the file (default
#                  /var/lib/node_exporter/textfile/mqmon.prom)
#   MQMON_HOST, MQMON_PORT  the broker of "live" (read by mqmon-status)
#   TOPIC          what "live" watches (default autocore/#)
#   OFFLINE_AFTER  "live": seconds of silence that make a device offline
#                  (default 30)
#   PROM_INTERVAL  "live": seconds between rewrites (default 10)
#   MQMON_DB       the archive of "snapshot" (default fleet.db)
#   MAX_SILENCE    "snapshot": a device silent this long is offline
#                  (default 10m; the archive alone does not know silence)
# Needs: mqmon-status (and the archive of mqmon-store for "snapshot").

# mqmon-status writes FILE.tmp.PID and renames it over FILE: the collector
# never reads half a file, and ignores the temporary one (not *.prom).
# So never point --prom at a file that another program also writes.
file=${PROM_FILE:-/var/lib/node_exporter/textfile/mqmon.prom}

case ${1:-} in
live)
	# The events themselves are not wanted here, only the file.
	exec mqmon-status -q 1 -t "${TOPIC:-autocore/#}" \
		--offline-after "${OFFLINE_AFTER:-30}" \
		--prom "$file" --prom-interval "${PROM_INTERVAL:-10}" >/dev/null
	;;
snapshot)
	exec mqmon-status --db "${MQMON_DB:-fleet.db}" \
		--max-silence "${MAX_SILENCE:-10m}" --prom "$file"
	;;
*)
	echo "usage: prometheus.sh live | snapshot" >&2
	exit 2
	;;
esac
