## Fuzzing (issue 12): libFuzzer targets in fuzz/, built with clang by
## fuzz/run; their regression inputs replayed by make check.
