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

/* ---- the ops of the other families (issue #14) --------------------------- */

/*
 * RMSNorm: out (n,d) = x / sqrt(mean(x^2) + eps) * w; stat (n) gets
 * 1/rms.  w NULL: no weight (1).
 */
void eap_rmsnorm_forward(float *out, float *stat, const float *x,
			 const float *w, size_t n, size_t d, float eps);
/* dx (n,d) += gradient; dw (d) += weight gradient (either may be NULL). */
void eap_rmsnorm_backward(float *dx, float *dw, const float *dout,
			  const float *x, const float *w, const float *stat,
			  size_t n, size_t d);

/* GELU (exact, erf) and SiLU x sigmoid(x) elementwise; backward as GELU's:
 * dx (n) = f'(x) dout, dx may be dout. */
void eap_gelu_erf_forward(float *out, const float *x, size_t n);
void eap_gelu_erf_backward(float *dx, const float *x, const float *dout,
			   size_t n);
void eap_silu_forward(float *out, const float *x, size_t n);
void eap_silu_backward(float *dx, const float *x, const float *dout,
		       size_t n);

/*
 * Rotary position embedding, rotate-half convention, on the first
 * 2 * half dims of each of nh heads (width dh, row stride ld) of n rows of
 * np positions each (row i is at position i % np): cs (np, half, 2) holds
 * cos and sin of position p times inv_freq[k].  sign -1 rotates back
 * (the backward).  In place.
 */
void eap_rope_apply(float *x, size_t n, size_t np, size_t nh, size_t dh,
		    size_t ld, size_t half, const float *cs, int sign);

/* Options of the attention core (eap_attention_forward_opt). */
struct eap_attn_opts {
	float scale;    /* multiplies q k^T */
	float softcap;  /* s = cap tanh(s / cap) before the mask; 0: none */
	size_t window;  /* row i sees keys i - window < j <= i; 0: all */
	size_t q0;      /* forward only: the queries are positions q0..P-1
			   (z (B, P - q0, d), att (B, H, P - q0, P)), the
			   keys and values all P; 0: every position */
};

/* eap_attention_forward/backward with options; the plain ones use
 * scale 1/sqrt(dh), no cap and no window. */
void eap_attention_forward_opt(float *z, float *att, const float *qkv,
			       size_t B, size_t P, size_t H, size_t dh,
			       const struct eap_attn_opts *o);
void eap_attention_backward_opt(float *dqkv, float *scratch, const float *dz,
				const float *att, const float *qkv, size_t B,
				size_t P, size_t H, size_t dh,
				const struct eap_attn_opts *o);

/* cap tanh(x / cap) in place over n values (final logit soft-capping);
 * its backward: dx = dout (1 - (y / cap)^2) from the output y. */
void eap_softcap_forward(float *x, size_t n, float cap);
void eap_softcap_backward(float *dx, const float *y, const float *dout,
			  size_t n, float cap);

#endif
