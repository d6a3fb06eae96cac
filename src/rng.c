/*
 * rng.c - xoshiro256** (Blackman and Vigna, 2018), seeded by splitmix64 as
 * its authors recommend.
 */
#include "eap/rng.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void eap_rng_init(struct eap_rng *rng, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
	/* splitmix64 is a bijection of a counter, so four outputs are never
	 * all zero; the guard documents the invariant xoshiro needs. */
	if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
		rng->s[0] = 1;
	rng->have_spare = 0;
	rng->spare = 0.0;
}

uint64_t eap_rng_u64(struct eap_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t eap_rng_below(struct eap_rng *rng, uint64_t n)
{
	/* 2^64 mod n: the lowest t values of the 64-bit range would make the
	 * first (2^64 mod n) residues more likely, so they are rejected. */
	uint64_t t, r;

	if (n == 0)
		return 0;
	t = -n % n;
	do
		r = eap_rng_u64(rng);
	while (r < t);
	return r % n;
}

double eap_rng_uniform(struct eap_rng *rng)
{
	return (double)(eap_rng_u64(rng) >> 11) * 0x1.0p-53;
}

float eap_rng_float(struct eap_rng *rng)
{
	return (float)(eap_rng_u64(rng) >> 40) * 0x1.0p-24f;
}

double eap_rng_normal(struct eap_rng *rng)
{
	double u1, u2, r;

	if (rng->have_spare) {
		rng->have_spare = 0;
		return rng->spare;
	}
	/* 1 - u lies in (0, 1], so the log is finite. */
	u1 = 1.0 - eap_rng_uniform(rng);
	u2 = eap_rng_uniform(rng);
	r = sqrt(-2.0 * log(u1));
	rng->spare = r * sin(2.0 * M_PI * u2);
	rng->have_spare = 1;
	return r * cos(2.0 * M_PI * u2);
}

void eap_rng_shuffle(struct eap_rng *rng, void *base, size_t n, size_t size)
{
	unsigned char *a = base;
	unsigned char tmp[64];

	if (n < 2)
		return;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)eap_rng_below(rng, (uint64_t)i + 1);
		unsigned char *x = a + i * size, *y = a + j * size;
		/* swap in chunks, so any element size works without malloc */
		for (size_t off = 0; off < size; off += sizeof(tmp)) {
			size_t k = size - off < sizeof(tmp) ? size - off : sizeof(tmp);
			memcpy(tmp, x + off, k);
			memcpy(x + off, y + off, k);
			memcpy(y + off, tmp, k);
		}
	}
}
