/*
 * bench.h - what the benchmarks share (bench/eap-bench.c,
 * bench/eap-bigbench.c): the wall and CPU clocks and the sgemm rates that
 * their FLOP bounds are computed at.  Static functions: each benchmark is one
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

/* CPU seconds of the process (all threads) */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*
 * sgemm GFLOP per second of clock (now or cpu_now) on an (M,K) x (K,N)
 * product, best of reps after a warm-up (inputs a fixed pattern of small
 * values).  0 if out of memory.
 */
static double sgemm_rate_on(size_t M, size_t N, size_t K, int reps,
			    double (*clock)(void))
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
		double t = clock();

		eap_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
		t = clock() - t;
		if (t < best)
			best = t;
	}
	free(A);
	free(B);
	free(C);
	return 2.0 * (double)M * (double)N * (double)K / best / 1e9;
}

/* sgemm GFLOP/s (wall clock): the rate the FLOP bounds are computed at */
static inline double sgemm_rate(size_t M, size_t N, size_t K, int reps)
{
	return sgemm_rate_on(M, N, K, reps, now);
}

/*
 * sgemm GFLOP per CPU second on one BLAS thread: with CPU seconds on
 * both sides a ratio stays meaningful when other jobs share the cores
 * (wall-clock ratios then are not).
 */
static inline double sgemm_cpu_rate(size_t M, size_t N, size_t K, int reps)
{
	int threads = eap_blas_threads_get();
	double rate;

	eap_blas_threads(1);
	rate = sgemm_rate_on(M, N, K, reps, cpu_now);
	eap_blas_threads(threads);
	return rate;
}

#endif
