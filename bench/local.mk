EXTRA_DIST += bench/run bench/lib.sh bench/sub.sh bench/pub.sh bench/store.sh bench/cmd.sh bench/status.sh bench/live.sh bench/README.md bench/RESULTS.md
