/*
 * bench.h - what the benchmarks share (bench/eap-bench.c,
 * bench/eap-bigbench.c): the wall clock and the sgemm rate that their
 * FLOP bounds are computed at.  Static functions: each benchmark is one
 * translation unit.
 */
#ifndef EAP_BENCH_H
#define EAP_BENCH_H

#include <stdlib.h>
#include <time.h>

#include "eap/linalg.h"

/* monotonic wall-clock seconds */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*
 * sgemm GFLOP/s on an (M,K) x (K,N) product, best of reps after a warm-up
 * (inputs a fixed pattern of small values).  0 if out of memory.
 */
static double sgemm_rate(size_t M, size_t N, size_t K, int reps)
{
	float *A = malloc(M * K * sizeof(float)), *B = malloc(K * N * sizeof(float));
	float *C = malloc(M * N * sizeof(float));
	double best = 1e30;

	if (!A || !B || !C) {
		free(A);
		free(B);
		free(C);
		return 0;
	}
	for (size_t i = 0; i < M * K; i++)
		A[i] = (float)(i % 13) * 0.01f - 0.06f;
	for (size_t i = 0; i < K * N; i++)
		B[i] = (float)(i % 7) * 0.01f - 0.03f;
	eap_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
	for (int r = 0; r < reps; r++) {
		double t = now();

		eap_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
		t = now() - t;
		if (t < best)
			best = t;
	}
	free(A);
	free(B);
	free(C);
	return 2.0 * (double)M * (double)N * (double)K / best / 1e9;
}

#endif
