#!/bin/sh
# plot.sh - a PNG chart of one metric of one device from the archive:
# averages over $EVERY, for the last $SINCE.
#
# Run:   ./plot.sh ESP32_001 temperature
#        SINCE=7d EVERY=1h ./plot.sh AA:BB:CC:DD:EE:FF voltage
# It writes DEVICE-METRIC.csv (the data: ts,value,count, one row per
# bucket that has samples) and, with gnuplot, DEVICE-METRIC.png, and
# prints the names of the files written.  Without gnuplot it writes the
# CSV only, says so, and exits with status 69 (EX_UNAVAILABLE of
# sysexits.h: a program it needs is missing).  A device or metric the
# archive does not hold, or no sample in the time asked, is status 1.
#
# Settings (environment):
#   MQMON_DB       the archive (default fleet.db)
#   SINCE          how far back (default 24h; or an RFC 3339 time)
#   EVERY          the width of a point (default 5m)
#   OUT            the PNG file (default DEVICE-METRIC.png, with : made -)
# Needs: mqmon-store, tr, wc, tail; gnuplot (with its png terminal) for
# the chart.

if [ $# -ne 2 ]; then
	echo "usage: plot.sh DEVICE METRIC" >&2
	exit 2
fi
device=$1
metric=$2
every=${EVERY:-5m}
# a MAC address as a device id makes file names that some tools mistake
# for host:path
png=${OUT:-$(printf '%s-%s' "$device" "$metric" | tr ':/' '--').png}
csv=${png%.png}.csv

mqmon-store --db "${MQMON_DB:-fleet.db}" series --device "$device" --metric "$metric" \
	--every "$every" --since "${SINCE:-24h}" --format csv >"$csv" || {
	status=$?
	rm -f "$csv"
	exit "$status"
}
echo "$csv"
# gnuplot fails on an empty plot, and with a message that hides why
if [ "$(wc -l <"$csv")" -lt 2 ]; then
	echo "plot.sh: no $metric of $device since ${SINCE:-24h}: nothing to plot" >&2
	exit 1
fi

if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plot.sh: gnuplot is not installed: no chart, the data is in $csv" >&2
	exit 69
fi

# The data goes inline ('-'), without the CSV's header line, so no file
# name has to survive gnuplot's quoting.  Times are UTC, as stored.
{
	cat <<EOF
set terminal png noenhanced size 900,400
set output '$png'
set datafile separator ','
set xdata time
set timefmt '%Y-%m-%dT%H:%M:%SZ'
set format x '%H:%M'
set xlabel 'UTC'
set title '$device $metric, average per $every'
set grid
unset key
plot '-' using 1:2 with linespoints
EOF
	tail -n +2 "$csv"
	echo e
} | gnuplot || exit 1
echo "$png"
