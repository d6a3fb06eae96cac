/*
 * linalg.c - see include/eap/linalg.h.
 */
#include "eap/linalg.h"

#include <cblas.h>

void eap_sgemm(int transa, int transb, size_t M, size_t N, size_t K,
	       float alpha, const float *A, size_t lda, const float *B,
	       size_t ldb, float beta, float *C, size_t ldc)
{
	if (!M || !N)
		return;
	cblas_sgemm(CblasRowMajor, transa ? CblasTrans : CblasNoTrans,
		    transb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K,
		    alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

void eap_sgemm_naive(int transa, int transb, size_t M, size_t N, size_t K,
		     float alpha, const float *A, size_t lda, const float *B,
		     size_t ldb, float beta, float *C, size_t ldc)
{
	for (size_t i = 0; i < M; i++)
		for (size_t j = 0; j < N; j++) {
			double s = 0.0;

			for (size_t k = 0; k < K; k++) {
				double a = transa ? A[k * lda + i] : A[i * lda + k];
				double b = transb ? B[j * ldb + k] : B[k * ldb + j];
				s += a * b;
			}
			C[i * ldc + j] = (float)(alpha * s +
				(beta != 0.0f ? beta * C[i * ldc + j] : 0.0));
		}
}

void eap_blas_threads(int n)
{
	if (n > 0)
		openblas_set_num_threads(n);
}

int eap_blas_threads_get(void)
{
	return openblas_get_num_threads();
}
