/*
 * rng.c — xorshift64* (Vigna, "An experimental exploration of Marsaglia's
 * xorshift generators"): small, fast, and plenty for jitter and
 * simulations.
 */
#include "config.h"

#include <unistd.h>

#include "rng.h"
#include "timeutil.h"

void rng_seed(struct rng *r, uint64_t seed)
{
	r->state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}

void rng_seed_unique(struct rng *r)
{
	uint64_t seed = (uint64_t)time_now_ms() * 6364136223846793005ULL ^ (uint64_t)getpid() << 32 ^
	                (uint64_t)(uintptr_t)r ^ (uint64_t)time_mono_ms();
	rng_seed(r, seed);
}

uint64_t rng_next(struct rng *r)
{
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return r->state * 2685821657736338717ULL;
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}
