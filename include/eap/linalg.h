/*
 * linalg.h - the one matmul wrapper (every matmul goes through
 * cblas_sgemm, row-major) and its naive reference for tests.
 *
 * C (M,N) = alpha * op(A) op(B) + beta * C, with op(A) (M,K) and op(B)
 * (K,N); transa/transb say whether A is stored (K,M) and B (N,K).
 * lda, ldb, ldc are row strides in elements.
 */
#ifndef EAP_LINALG_H
#define EAP_LINALG_H

#include <stddef.h>

void eap_sgemm(int transa, int transb, size_t M, size_t N, size_t K,
	       float alpha, const float *A, size_t lda, const float *B,
	       size_t ldb, float beta, float *C, size_t ldc);

/* The same contract, three loops, summing in double.  For tests. */
void eap_sgemm_naive(int transa, int transb, size_t M, size_t N, size_t K,
		     float alpha, const float *A, size_t lda, const float *B,
		     size_t ldb, float beta, float *C, size_t ldc);

/* Number of BLAS threads: set n > 0, or 0 to keep the library default. */
void eap_blas_threads(int n);

/* The number of BLAS threads in use. */
int eap_blas_threads_get(void);

#endif
