## The examples: scripts a user copies, each run by tests/examples.sh
## against a real broker.  (make dist keeps their mode bits, and the test
## runs them with sh anyway.)
EXTRA_DIST += examples/README.md examples/mqmon.conf \
	examples/monitor.sh examples/command-ack.sh examples/archive.sh \
	examples/archive-cron.sh examples/replay.sh examples/healthcheck.sh \
	examples/plot.sh examples/prometheus.sh
