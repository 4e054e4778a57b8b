EXTRA_DIST += bench/lib.sh bench/sub.sh bench/pub.sh bench/README.md
