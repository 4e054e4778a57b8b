/*
 * rng.h — the one pseudo-random generator mqmon uses (xorshift64*): backoff
 * jitter, generated client ids, the simulated fleet, and anything else that
 * needs numbers that differ between runs and processes.  Not for secrets.
 */
#ifndef MQMON_RNG_H
#define MQMON_RNG_H

#include <stdint.h>

struct rng {
	uint64_t state; /* never 0 */
};

/* Seed with a fixed value (tests, reproducible simulations); 0 is replaced
 * by a fixed non-zero constant. */
void rng_seed(struct rng *r, uint64_t seed);
/* Seed from the clock, the process id and the address of r, so two
 * generators started in the same millisecond still differ. */
void rng_seed_unique(struct rng *r);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1), with 53 random bits. */
double rng_uniform(struct rng *r);

#endif
