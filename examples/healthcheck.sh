#!/bin/sh
# healthcheck.sh - the fleet's health from the archive, for Nagios (or
# Icinga) and for a Docker HEALTHCHECK, with mqmon-status --check.
#
# Run:   ./healthcheck.sh [MQMON-STATUS OPTIONS]
#        ./healthcheck.sh --docker [MQMON-STATUS OPTIONS]
# It prints the check's lines (MQMON OK - 48/50 online | perfdata, then the
# offline devices) and exits with the Nagios status: 0 OK, 1 WARNING,
# 2 CRITICAL, 3 UNKNOWN (no database, no devices, a bad option).  With
# --docker: 0 healthy, 1 unhealthy.  Options given after it (such as
# --crit-offline 5) replace the defaults below.
#
# Nagios or Icinga, with the plugin installed as check_mqmon_fleet:
#   define command {
#       command_name  check_mqmon_fleet
#       command_line  $USER1$/check_mqmon_fleet --db /var/lib/mqmon/fleet.db --warn-offline $ARG1$ --crit-offline $ARG2$
#   }
#   define service {
#       use                  generic-service
#       host_name            mqtt-gateway
#       service_description  MQTT fleet
#       check_command        check_mqmon_fleet!2!10%
#   }
# (the nagios user must be able to read the database and its -wal and
# -shm files).
#
# Docker, in the image that runs the archiver (MQMON_DB=/data/fleet.db):
#   COPY examples/healthcheck.sh /usr/local/bin/healthcheck.sh
#   HEALTHCHECK --interval=1m --timeout=10s CMD ["/usr/local/bin/healthcheck.sh", "--docker"]
# docker inspect shows the check's lines.
#
# Settings (environment):
#   MQMON_DB       the archive (default fleet.db)
#   WARN_OFFLINE   WARNING when more devices than this are offline
#                  (a count, or a percentage such as 5%; default 0)
#   CRIT_OFFLINE   CRITICAL when more than this (default 10%)
#   MAX_SILENCE    a device silent this long counts as offline (default
#                  10m): an archiver that stopped hearing the broker makes
#                  every device silent, so the check turns CRITICAL
# Needs: mqmon-status and the archive of mqmon-store.

docker=no
if [ "${1:-}" = --docker ]; then
	docker=yes
	shift
fi

mqmon-status --check --db "${MQMON_DB:-fleet.db}" \
	--warn-offline "${WARN_OFFLINE:-0}" --crit-offline "${CRIT_OFFLINE:-10%}" \
	--max-silence "${MAX_SILENCE:-10m}" "$@"
status=$?

case $status in
0 | 1 | 2 | 3) ;;
*)
	# 127 (no mqmon-status), a signal ...: not a verdict on the fleet,
	# and a plugin must still say something a monitoring system reads.
	echo "MQMON UNKNOWN - mqmon-status did not run (status $status)"
	status=3
	;;
esac

if [ "$docker" = yes ]; then
	# Docker knows healthy (0) and unhealthy (1).  A WARNING (a few
	# devices offline) is the fleet's business, not a reason to call the
	# container broken and have it restarted; CRITICAL (most devices
	# silent, or the broker lost) and UNKNOWN (no archive) are.
	case $status in
	0 | 1) exit 0 ;;
	*) exit 1 ;;
	esac
fi
exit "$status"
