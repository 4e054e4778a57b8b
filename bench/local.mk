EXTRA_DIST += bench/lib.sh bench/README.md
