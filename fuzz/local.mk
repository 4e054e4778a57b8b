## Fuzzing (issue 12): libFuzzer targets in fuzz/, built with clang by
## fuzz/run; their regression inputs replayed by make check.
##
## Each target fuzz/fuzz_NAME.c is also linked with fuzz/replay_main.c by
## the project's own compiler and flags (so the sanitizer build too) into
## fuzz/replay_NAME, which tests/fuzz-replay.sh runs on every input in
## fuzz/corpus/NAME (the seeds) and fuzz/regress/NAME (old crashes).

FUZZ_TARGETS = ack alert conffile envelope rules
FUZZ_REPLAY = fuzz/replay_ack fuzz/replay_alert fuzz/replay_conffile fuzz/replay_envelope fuzz/replay_rules
# (tests/local.mk adds $(FUZZ_REPLAY) to check_PROGRAMS)

FUZZ_LDADD = $(MQMON_LIBS) $(JSONC_LIBS) $(SQLITE_LIBS)
fuzz_replay_ack_SOURCES = fuzz/replay_main.c fuzz/fuzz.h fuzz/fuzz_ack.c
fuzz_replay_ack_LDADD = $(FUZZ_LDADD)
fuzz_replay_alert_SOURCES = fuzz/replay_main.c fuzz/fuzz.h fuzz/fuzz_alert.c
fuzz_replay_alert_LDADD = $(FUZZ_LDADD)
fuzz_replay_conffile_SOURCES = fuzz/replay_main.c fuzz/fuzz.h fuzz/fuzz_conffile.c
fuzz_replay_conffile_LDADD = $(FUZZ_LDADD)
fuzz_replay_envelope_SOURCES = fuzz/replay_main.c fuzz/fuzz.h fuzz/fuzz_envelope.c
fuzz_replay_envelope_LDADD = $(FUZZ_LDADD)
fuzz_replay_rules_SOURCES = fuzz/replay_main.c fuzz/fuzz.h fuzz/fuzz_rules.c
fuzz_replay_rules_LDADD = $(FUZZ_LDADD)

# the seeds and the regression inputs go whole (directories)
EXTRA_DIST += fuzz/run fuzz/README.md fuzz/corpus fuzz/regress
