## Tests: check unit tests (tests/check_*.c) and real-broker integration
## tests (tests/*.sh sourcing tests/lib.sh).  Heavy tests skip themselves
## under sanitizers (MQMON_SANITIZERS=1) where they would only be slow.

UNIT_TESTS = \
	tests/check_utf8 tests/check_base64 tests/check_json tests/check_timeutil \
	tests/check_topic tests/check_linereader tests/check_out tests/check_opt \
	tests/check_envelope tests/check_conn tests/check_rowfmt tests/check_loop tests/check_devtable tests/check_log tests/check_strmap tests/check_arena tests/check_cmdproto \
	tests/check_alert tests/check_fleet

check_PROGRAMS = $(UNIT_TESTS) tests/freeport tests/meaning_dump $(FUZZ_REPLAY)

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = $(MQMON_LIBS) $(SQLITE_LIBS) $(JSONC_LIBS) $(CHECK_LIBS)

tests_check_utf8_SOURCES = tests/check_utf8.c tests/check_main.h
tests_check_utf8_CFLAGS = $(UNIT_CFLAGS)
tests_check_utf8_LDADD = $(UNIT_LDADD)
tests_check_base64_SOURCES = tests/check_base64.c tests/check_main.h
tests_check_base64_CFLAGS = $(UNIT_CFLAGS)
tests_check_base64_LDADD = $(UNIT_LDADD)
tests_check_json_SOURCES = tests/check_json.c tests/check_main.h
tests_check_json_CFLAGS = $(UNIT_CFLAGS)
tests_check_json_LDADD = $(UNIT_LDADD)
tests_check_timeutil_SOURCES = tests/check_timeutil.c tests/check_main.h
tests_check_timeutil_CFLAGS = $(UNIT_CFLAGS)
tests_check_timeutil_LDADD = $(UNIT_LDADD)
tests_check_topic_SOURCES = tests/check_topic.c tests/check_main.h
tests_check_topic_CFLAGS = $(UNIT_CFLAGS)
tests_check_topic_LDADD = $(UNIT_LDADD)
tests_check_linereader_SOURCES = tests/check_linereader.c tests/check_main.h
tests_check_linereader_CFLAGS = $(UNIT_CFLAGS)
tests_check_linereader_LDADD = $(UNIT_LDADD)
tests_check_out_SOURCES = tests/check_out.c tests/check_main.h
tests_check_out_CFLAGS = $(UNIT_CFLAGS)
tests_check_out_LDADD = $(UNIT_LDADD)
tests_check_opt_SOURCES = tests/check_opt.c tests/check_main.h
tests_check_opt_CFLAGS = $(UNIT_CFLAGS)
tests_check_opt_LDADD = $(UNIT_LDADD)
tests_check_envelope_SOURCES = tests/check_envelope.c tests/check_main.h
tests_check_envelope_CFLAGS = $(UNIT_CFLAGS)
tests_check_envelope_LDADD = $(UNIT_LDADD) $(JSONC_LIBS)

tests_check_conn_SOURCES = tests/check_conn.c tests/check_main.h
tests_check_conn_CFLAGS = $(UNIT_CFLAGS)
tests_check_conn_LDADD = $(UNIT_LDADD)

tests_check_loop_SOURCES = tests/check_loop.c tests/check_main.h
tests_check_loop_CFLAGS = $(UNIT_CFLAGS)
tests_check_loop_LDADD = $(UNIT_LDADD)

tests_check_devtable_SOURCES = tests/check_devtable.c tests/check_main.h
tests_check_devtable_CFLAGS = $(UNIT_CFLAGS)
tests_check_devtable_LDADD = $(UNIT_LDADD)

tests_check_log_SOURCES = tests/check_log.c tests/check_main.h
tests_check_log_CFLAGS = $(UNIT_CFLAGS)
tests_check_log_LDADD = $(UNIT_LDADD)

tests_check_arena_SOURCES = tests/check_arena.c tests/check_main.h
tests_check_arena_CFLAGS = $(UNIT_CFLAGS)
tests_check_arena_LDADD = $(UNIT_LDADD)
tests_check_strmap_SOURCES = tests/check_strmap.c tests/check_main.h
tests_check_strmap_CFLAGS = $(UNIT_CFLAGS)
tests_check_strmap_LDADD = $(UNIT_LDADD)

tests_check_cmdproto_SOURCES = tests/check_cmdproto.c tests/check_main.h
tests_check_cmdproto_CFLAGS = $(UNIT_CFLAGS)
tests_check_cmdproto_LDADD = $(UNIT_LDADD)

tests_check_alert_SOURCES = tests/check_alert.c tests/check_main.h
tests_check_alert_CFLAGS = $(UNIT_CFLAGS)
tests_check_alert_LDADD = $(UNIT_LDADD)

tests_check_fleet_SOURCES = tests/check_fleet.c tests/check_main.h
tests_check_fleet_CFLAGS = $(UNIT_CFLAGS)
tests_check_fleet_LDADD = $(UNIT_LDADD)

tests_check_rowfmt_SOURCES = tests/check_rowfmt.c tests/check_main.h
tests_check_rowfmt_CFLAGS = $(UNIT_CFLAGS)
tests_check_rowfmt_LDADD = $(UNIT_LDADD)

tests_freeport_SOURCES = tests/freeport.c
tests_meaning_dump_SOURCES = tests/meaning_dump.c
tests_meaning_dump_LDADD = $(MQMON_LIBS) $(SQLITE_LIBS)

INTEG_TESTS = \
	tests/harness-selftest.sh \
	tests/docs-sync.sh \
	tests/clang-format.sh \
	tests/valgrind.sh \
	tests/conn-listeners.sh \
	tests/sub-options.sh \
	tests/sub-bodies.sh \
	tests/sub-noloss.sh \
	tests/sub-memory.sh \
	tests/pub-modes.sh \
	tests/mosquitto-json.sh \
	tests/pub-reject.sh \
	tests/pub-noloss.sh \
	tests/pub-flow.sh \
	tests/pub-simulate.sh \
	tests/cmd-one.sh \
	tests/cmd-batch.sh \
	tests/cmd-repl.sh \
	tests/status-live.sh \
	tests/status-check.sh \
	tests/meaning-golden.sh \
	tests/store-ingest.sh \
	tests/store-readahead.sh \
	tests/store-checkpoint.sh \
	tests/store-durability.sh \
	tests/store-query.sh \
	tests/completion-db.sh \
	tests/store-memory.sh \
	tests/pub-oneshot.sh \
	tests/sub-habits.sh \
	tests/sub-live.sh \
	tests/store-habits.sh \
	tests/examples.sh \
	tests/demo.sh \
	tests/install.sh \
	tests/man-lint.sh \
	tests/doc-examples.sh \
	tests/hostile-input.sh \
	tests/faults-e2e.sh \
	tests/kill-window.sh \
	tests/security.sh \
	tests/fuzz-replay.sh

TESTS = $(UNIT_TESTS) $(INTEG_TESTS)

# What make distcheck runs (bin/test passes TESTS='$(DIST_TESTS)'): the
# unit tests, what depends on the distribution being complete (manual
# pages, completions, examples, golden files, install), and one real-broker
# test per program.  The plain and sanitizer builds have run everything.
DIST_TESTS = $(UNIT_TESTS) \
	tests/harness-selftest.sh tests/docs-sync.sh tests/man-lint.sh tests/install.sh \
	tests/examples.sh tests/meaning-golden.sh tests/completion-db.sh \
	tests/sub-options.sh tests/pub-modes.sh tests/cmd-one.sh tests/store-ingest.sh tests/status-check.sh \
	tests/fuzz-replay.sh
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(BASH)
AM_TESTS_ENVIRONMENT = \
	srcdir='$(srcdir)'; abs_top_srcdir='$(abs_top_srcdir)'; abs_top_builddir='$(abs_top_builddir)'; \
	MOSQUITTO='$(MOSQUITTO)'; CK_DEFAULT_TIMEOUT=60; MQMON_QUICK='$(MQMON_QUICK)'; \
	export srcdir abs_top_srcdir abs_top_builddir MOSQUITTO CK_DEFAULT_TIMEOUT MQMON_QUICK;
if SANITIZERS
AM_TESTS_ENVIRONMENT += MQMON_SANITIZERS=1; export MQMON_SANITIZERS; \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0; export ASAN_OPTIONS; \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; export UBSAN_OPTIONS;
endif

EXTRA_DIST += tests/lib.sh $(INTEG_TESTS) tests/data/store-v1.sql tests/data/store-v1-metrics.sql tests/data/store-v2-metrics.sql $(GOLDEN_CASES)

# the golden cases of the meaning layer: CASE.in.ndjson, CASE.expected.ndjson, CASE.rules
GOLDEN_CASES = \
	tests/data/meaning/autocore.in.ndjson tests/data/meaning/autocore.expected.ndjson \
	tests/data/meaning/battery-hawk.in.ndjson tests/data/meaning/battery-hawk.expected.ndjson \
	tests/data/meaning/fish-farm.in.ndjson tests/data/meaning/fish-farm.expected.ndjson \
	tests/data/meaning/petal.in.ndjson tests/data/meaning/petal.expected.ndjson \
	tests/data/meaning/status-forms.in.ndjson tests/data/meaning/status-forms.expected.ndjson \
	tests/data/meaning/telemetry-forms.in.ndjson tests/data/meaning/telemetry-forms.expected.ndjson \
	tests/data/meaning/rules.in.ndjson tests/data/meaning/rules.expected.ndjson tests/data/meaning/rules.rules \
	tests/data/meaning/lines.in.ndjson tests/data/meaning/lines.expected.ndjson
