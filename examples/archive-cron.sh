#!/bin/sh
# archive-cron.sh - a fleet archive in SQLite that looks after itself: a
# continuous archiver, an hourly prune of what is older than $KEEP, and a
# daily CSV export of the day before (UTC), for spreadsheets and for
# keeping longer than the database does.
#
# Run:   ./archive-cron.sh run            the archiver; keep it running
#        ./archive-cron.sh prune          delete what is older than $KEEP
#        ./archive-cron.sh export [DAY]   DAY's messages (YYYY-MM-DD, UTC;
#                                         default yesterday) to a CSV file
#        ./archive-cron.sh --crontab      print the crontab lines; install
#                                         them with (crontab -l; ./archive-cron.sh --crontab) | crontab -
#
# The lines --crontab prints, each with the settings in effect (PATH,
# MQMON_DB, KEEP, EXPORT_DIR; the broker too for "run"):
#   @reboot    PATH=... MQMON_DB='/var/lib/mqmon/fleet.db' ... sh '/path/archive-cron.sh' run >>"$HOME/mqmon-archive.log" 2>&1
#   17 * * * * PATH=... MQMON_DB='/var/lib/mqmon/fleet.db' ... sh '/path/archive-cron.sh' prune >/dev/null
#   5 0 * * *  PATH=... MQMON_DB='/var/lib/mqmon/fleet.db' ... sh '/path/archive-cron.sh' export >/dev/null
# (a systemd service, or any supervisor, does the @reboot part better).
#
# Settings (environment):
#   MQMON_HOST, MQMON_PORT  the broker of "run" (read by mqmon-sub itself)
#   MQMON_DB       the archive (default fleet.db)
#   TOPIC          what "run" archives (default autocore/#)
#   CLIENT_ID      the session's client id (default archiver-HOSTNAME)
#   KEEP           how long the database keeps messages (default 30d);
#                  more than two days, or "export" finds yesterday gone
#   EXPORT_DIR     where the CSV files go (default .), named after the
#                  database: fleet-2025-01-28.csv
# Needs: mqmon-sub, mqmon-store; awk, date, sed, mv.

db=${MQMON_DB:-fleet.db}
keep=${KEEP:-30d}
export_dir=${EXPORT_DIR:-.}

# next_day YYYY-MM-DD: the day after, without GNU date.
next_day() {
	echo "$1" | awk -F- '{
		y = $1 + 0; m = $2 + 0; d = $3 + 1
		if (m == 2)
			n = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
		else
			n = m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31
		if (d > n) { d = 1; m++ }
		if (m > 12) { m = 1; y++ }
		printf "%04d-%02d-%02d\n", y, m, d
	}'
}

# quote WORD: WORD as one shell word, for the crontab lines.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

case ${1:-} in
run)
	# A persistent session (-c -i, -q 1): the broker keeps the messages
	# while the archiver restarts.  Days are the database's business
	# here: "export" cuts them out of it, so no file is tied to the day
	# the archiver started.
	mqmon-sub -c -i "${CLIENT_ID:-archiver-$(uname -n)}" -q 1 -t "${TOPIC:-autocore/#}" |
		mqmon-store --db "$db"
	;;
prune)
	# Hourly, so that each run deletes an hour's worth and holds the
	# write lock briefly (ingest waits for it).  Prints what it deleted.
	exec mqmon-store --db "$db" prune --older-than "$keep"
	;;
export)
	# Yesterday in UTC, the day the archive's times are in: a time zone
	# 24 hours behind UTC is a POSIX way to ask date(1) for it.
	day=${2:-$(TZ=UTC+24 date +%Y-%m-%d)}
	case $day in
	[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;;
	*)
		echo "archive-cron.sh: not a day (YYYY-MM-DD): $day" >&2
		exit 2
		;;
	esac
	name=${db##*/}
	out=$export_dir/${name%.db}-$day.csv
	# --since includes its time and --until excludes its own, so
	# midnight to midnight is the whole day and nothing of the next.
	# Write to a temporary file first: a failed export leaves no
	# half-written CSV that looks complete.
	if mqmon-store --db "$db" query --since "$day" --until "$(next_day "$day")" \
		--format csv >"$out.tmp" && mv "$out.tmp" "$out"; then
		echo "$out"
	else
		rm -f "$out.tmp"
		echo "archive-cron.sh: the export of $day failed" >&2
		exit 1
	fi
	;;
--crontab)
	# Absolute paths and the settings in effect now, because cron runs
	# jobs in $HOME with a bare environment.  (A value with a % must be
	# written \% in a crontab.)
	self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
	dbabs=$db
	case $dbabs in /*) ;; *) dbabs=$PWD/$db ;; esac
	dirabs=$export_dir
	case $dirabs in /*) ;; .) dirabs=$PWD ;; *) dirabs=$PWD/$export_dir ;; esac
	env="MQMON_DB=$(quote "$dbabs") KEEP=$(quote "$keep") EXPORT_DIR=$(quote "$dirabs")"
	# cron's PATH is short (/usr/bin:/bin): add the mqmon programs' own
	bin=$(command -v mqmon-store) && env="PATH=$(quote "${bin%/*}"):/usr/bin:/bin $env"
	broker=
	[ -z "${MQMON_HOST:-}" ] || broker="$broker MQMON_HOST=$(quote "$MQMON_HOST")"
	[ -z "${MQMON_PORT:-}" ] || broker="$broker MQMON_PORT=$(quote "$MQMON_PORT")"
	echo "# mqmon archive, from $self"
	# sh: the jobs run even if the copy of this script lost its x bit
	echo "@reboot    $env$broker sh $(quote "$self") run >>\"\$HOME/mqmon-archive.log\" 2>&1"
	echo "17 * * * * $env sh $(quote "$self") prune >/dev/null"
	echo "5 0 * * *  $env sh $(quote "$self") export >/dev/null"
	;;
*)
	echo "usage: archive-cron.sh run | prune | export [YYYY-MM-DD] | --crontab" >&2
	exit 2
	;;
esac
