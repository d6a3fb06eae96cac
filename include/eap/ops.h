/*
 * ops.h - the layers of GPT-2 as forward/backward pairs on float arrays.
 *
 * Shapes use SPEC letters; n is the number of rows (B*P).  Backward
 * functions take the forward's arguments in the same order, then the
 * upstream gradient, and ADD into the gradients they produce (the caller
 * zeroes them), as in llm.c.  Statistics are summed in double.
 */
#ifndef EAP_OPS_H
#define EAP_OPS_H

#include <stddef.h>
#include <stdint.h>

/* out (n,d) = LN(x (n,d)) * w + b; stat (n,2) gets mean and 1/std. */
void eap_layernorm_forward(float *out, float *stat, const float *x,
			   const float *w, const float *b, size_t n, size_t d,
			   float eps);

/*
 * dx (n,d) += dLN/dx^T dout; dw, db (d) += weight and bias gradients
 * (either may be NULL when not wanted).
 */
void eap_layernorm_backward(float *dx, float *dw, float *db,
			    const float *dout, const float *x, const float *w,
			    const float *stat, size_t n, size_t d);

/* GELU, tanh approximation, elementwise over n values. */
void eap_gelu_forward(float *out, const float *x, size_t n);

/*
 * The same GELU with a vectorised exp: within 2e-7 relative of
 * eap_gelu_forward, not bit-identical, so training (whose organism must
 * reproduce byte for byte) keeps eap_gelu_forward; attribution's
 * forwards use this one (eap_fwd.fast_gelu).
 */
void eap_gelu_forward_fast(float *out, const float *x, size_t n);
/*
 * dx (n) = GELU'(x) dout, with the tanh taken from the forward's output
 * y = eap_gelu_forward(x) rather than recomputed; dx may be dout.
 */
void eap_gelu_backward(float *dx, const float *x, const float *y,
		       const float *dout, size_t n);

/*
 * Causal multi-head attention core for B rows of P positions:
 * qkv (B,P,3d) with q|k|v blocks, head h at columns h*dh.. of each block;
 * att (B,H,P,P) gets the probabilities (row i over keys j <= i, zero
 * above the diagonal); z (B,P,d) gets softmax(q k^T / sqrt(dh)) v with
 * head h in columns h*dh...
 */
void eap_attention_forward(float *z, float *att, const float *qkv, size_t B,
			   size_t P, size_t H, size_t dh);

/*
 * dqkv (B,P,3d) += gradient through the attention core, given dz (B,P,d)
 * and the forward's att and qkv.  scratch needs P*P floats.
 */
void eap_attention_backward(float *dqkv, float *scratch, const float *dz,
			    const float *att, const float *qkv, size_t B,
			    size_t P, size_t H, size_t dh);

#endif
