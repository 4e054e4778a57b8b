EXTRA_DIST += bench/lib.sh bench/sub.sh bench/pub.sh bench/store.sh bench/cmd.sh bench/status.sh bench/README.md
