/*
 * fuzz.h — what the fuzz targets share.  Each fuzz/fuzz_*.c defines the
 * libFuzzer entry point; fuzz/run links it with libFuzzer (clang), and
 * make check links the same file with fuzz/replay_main.c (any compiler)
 * to replay the seed corpus and every input that once crashed.
 */
#ifndef MQMON_FUZZ_H
#define MQMON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Called once per input; returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: a violation is a crash, so the
 * fuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                             \
	do {                                                                                         \
		if (!(cond)) {                                                                       \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                     \
		}                                                                                    \
	} while (0)

#endif
