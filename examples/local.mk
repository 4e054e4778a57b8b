## The examples: scripts a user copies, each run by tests/examples.sh
## against a real broker.
EXTRA_DIST += examples/README.md examples/mqmon.conf examples/archive.sh
