/*
 * rng.h - a small seeded random number generator (xoshiro256**, seeded
 * through splitmix64).
 *
 * There is no global state: every consumer owns a struct eap_rng seeded
 * from the tool's --seed, so that a run reproduces byte for byte.  The
 * streams are the same on every platform for the integer and uniform
 * functions; eap_rng_normal uses libm's log/sqrt/cos and is reproducible
 * on one machine.
 *
 * Calling sequence:
 *   struct eap_rng rng;
 *   eap_rng_init(&rng, 1234);
 *   uint64_t k = eap_rng_below(&rng, 60);     uniform in [0, 60)
 *   double u = eap_rng_uniform(&rng);         uniform in [0, 1)
 *   eap_rng_shuffle(&rng, a, n, sizeof(a[0]));
 */
#ifndef EAP_RNG_H
#define EAP_RNG_H

#include <stddef.h>
#include <stdint.h>

struct eap_rng {
	uint64_t s[4];    /* xoshiro256** state, never all zero */
	int have_spare;   /* eap_rng_normal caches its second variate */
	double spare;
};

/* Seed the generator; every seed (including 0) gives a distinct stream. */
void eap_rng_init(struct eap_rng *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t eap_rng_u64(struct eap_rng *rng);

/*
 * A uniform integer in [0, n) without modulo bias (Lemire's multiply and
 * reject).  n must be > 0; n == 0 returns 0.
 */
uint64_t eap_rng_below(struct eap_rng *rng, uint64_t n);

/* A uniform double in [0, 1) with 53 random bits. */
double eap_rng_uniform(struct eap_rng *rng);

/* A uniform float in [0, 1) with 24 random bits. */
float eap_rng_float(struct eap_rng *rng);

/* A standard normal variate (Box-Muller; the second variate is cached). */
double eap_rng_normal(struct eap_rng *rng);

/* Shuffle n elements of size bytes each in place (Fisher-Yates). */
void eap_rng_shuffle(struct eap_rng *rng, void *base, size_t n, size_t size);

#endif
