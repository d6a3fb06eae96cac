/*
 * ops.c - see include/eap/ops.h.
 */
#include "eap/ops.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "eap/linalg.h"

void eap_layernorm_forward(float *out, float *stat, const float *x,
			   const float *w, const float *b, size_t n, size_t d,
			   float eps)
{
	for (size_t i = 0; i < n; i++) {
		const float *xi = x + i * d;
		float *oi = out + i * d;
		double mean = 0.0, var = 0.0;
		float m, r;

		for (size_t j = 0; j < d; j++)
			mean += xi[j];
		mean /= (double)d;
		for (size_t j = 0; j < d; j++) {
			double c = xi[j] - mean;
			var += c * c;
		}
		var /= (double)d;
		m = (float)mean;
		r = (float)(1.0 / sqrt(var + eps));
		for (size_t j = 0; j < d; j++)
			oi[j] = (xi[j] - m) * r * w[j] + b[j];
		stat[2 * i] = m;
		stat[2 * i + 1] = r;
	}
}

void eap_layernorm_backward(float *dx, float *dw, float *db,
			    const float *dout, const float *x, const float *w,
			    const float *stat, size_t n, size_t d)
{
	for (size_t i = 0; i < n; i++) {
		const float *xi = x + i * d, *gi = dout + i * d;
		float m = stat[2 * i], r = stat[2 * i + 1];
		double sg = 0.0, sgx = 0.0; /* mean of g and of g * xhat */

		for (size_t j = 0; j < d; j++) {
			double xh = (xi[j] - m) * r;
			double g = (double)gi[j] * w[j];
			sg += g;
			sgx += g * xh;
			if (dw)
				dw[j] += (float)(gi[j] * xh);
			if (db)
				db[j] += gi[j];
		}
		sg /= (double)d;
		sgx /= (double)d;
		if (!dx)
			continue;
		for (size_t j = 0; j < d; j++) {
			double xh = (xi[j] - m) * r;
			double g = (double)gi[j] * w[j];
			dx[i * d + j] += (float)(r * (g - sg - xh * sgx));
		}
	}
}

#define GELU_C 0.7978845608028654 /* sqrt(2/pi) */

/*
 * tanh from one expf: (e - 1) / (e + 1) with e = exp(2u).  glibc's tanhf
 * goes through expm1f and was most of the time of small models' forward
 * passes.  Near u = 0 the quotient loses relative precision, but GELU
 * only uses 1 + t and 1 - t^2, where that error is below float rounding.
 */
static inline float tanh_exp(float u)
{
	float e;

	if (u > 9.0f)
		return 1.0f;
	if (u < -9.0f)
		return -1.0f;
	e = expf(2.0f * u);
	return (e - 1.0f) / (e + 1.0f);
}

void eap_gelu_forward(float *out, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float v = x[i];
		out[i] = 0.5f * v *
			 (1.0f + tanh_exp((float)GELU_C * (v + 0.044715f * v * v * v)));
	}
}

/*
 * exp(y) for |y| <= 18 in plain arithmetic, so that a loop of it
 * vectorises at -O2 (expf is a call): y = k ln2 + r with |r| <= ln2/2
 * (ln2 in two parts, Cody-Waite), exp(r) by its Taylor polynomial to r^7
 * (relative error below 1e-8), times 2^k built in the exponent bits.
 */
static inline float exp_poly(float y)
{
	const float round = 12582912.0f; /* 1.5 * 2^23: adding it rounds */
	float kf = (y * 1.44269504f + round) - round;
	float r = (y - kf * 0.693145752f) - kf * 1.42860677e-6f;
	float p = 1.0f / 5040;
	union { float f; int32_t i; } s;

	p = p * r + 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	s.i = ((int32_t)kf + 127) << 23;
	return p * s.f;
}

#if defined(__GNUC__) && defined(__x86_64__)
/* 8 lanes a vector where the CPU has AVX2 (no FMA contraction under
 * -std=c11, so both clones give the same bits).  The clones are of a
 * static function: clang 14 emits no plain symbol for an exported
 * target_clones function, so eap_gelu_forward_fast below would not link. */
__attribute__((target_clones("avx2", "default")))
#endif
static void gelu_fast(float *restrict out, const float *restrict x, size_t n)
{
	enum { LANES = 8 };
	size_t i = 0;

	/* blocks of LANES: loops of unknown length with an epilogue are not
	 * vectorised at -O2; the clamps need -fno-trapping-math (Makefile) */
	for (; i + LANES <= n; i += LANES)
		for (size_t l = 0; l < LANES; l++) {
			float v = x[i + l];
			float u = (float)GELU_C * (v + 0.044715f * v * v * v);
			float u1 = u > 9.0f ? 9.0f : u;
			float u2 = u1 < -9.0f ? -9.0f : u1;
			float e = exp_poly(2.0f * u2);

			out[i + l] = 0.5f * v * (1.0f + (e - 1.0f) / (e + 1.0f));
		}
	for (; i < n; i++) {
		float v = x[i];

		out[i] = 0.5f * v *
			 (1.0f + tanh_exp((float)GELU_C * (v + 0.044715f * v * v * v)));
	}
}

void eap_gelu_forward_fast(float *out, const float *x, size_t n)
{
	gelu_fast(out, x, n);
}

/*
 * y = 0.5 x (1 + t), so a = 1 + t = 2y/x and 1 - t^2 = a (2 - a) without
 * cancellation; GELU'(x) = 0.5 a + 0.5 x (1 - t^2) c (1 + 3 * 0.044715
 * x^2).  Recomputing the tanh (expf) cost 4% of EAP-IG.
 */
void eap_gelu_backward(float *dx, const float *x, const float *y,
		       const float *dout, size_t n)
{
	const float c = (float)GELU_C;

	for (size_t i = 0; i < n; i++) {
		float v = x[i];
		/* below 1e-6, y has lost its precision to underflow */
		float a = fabsf(v) > 1e-6f ? 2.0f * y[i] / v : 1.0f + c * v;
		float du = c * (1.0f + 3.0f * 0.044715f * v * v);

		dx[i] = (0.5f * a + 0.5f * v * a * (2.0f - a) * du) * dout[i];
	}
}

void eap_attention_forward(float *z, float *att, const float *qkv, size_t B,
			   size_t P, size_t H, size_t dh)
{
	struct eap_attn_opts o = { 1.0f / sqrtf((float)dh), 0.0f, 0, 0 };

	eap_attention_forward_opt(z, att, qkv, B, P, H, dh, &o);
}

void eap_attention_backward(float *dqkv, float *scratch, const float *dz,
			    const float *att, const float *qkv, size_t B,
			    size_t P, size_t H, size_t dh)
{
	struct eap_attn_opts o = { 1.0f / sqrtf((float)dh), 0.0f, 0, 0 };

	eap_attention_backward_opt(dqkv, scratch, dz, att, qkv, B, P, H, dh, &o);
}

/* First key row i sees: i - window + 1, or 0. */
static size_t first_key(size_t i, size_t window)
{
	return window && i + 1 > window ? i + 1 - window : 0;
}

void eap_attention_forward_opt(float *z, float *att, const float *qkv,
			       size_t B, size_t P, size_t H, size_t dh,
			       const struct eap_attn_opts *o)
{
	size_t d = H * dh, d3 = 3 * d, q0 = o->q0, Pq = P - q0;
	float scale = o->scale, cap = o->softcap;

	for (size_t b = 0; b < B; b++)
		for (size_t h = 0; h < H; h++) {
			const float *k = qkv + b * P * d3 + d + h * dh;
			const float *q = qkv + (b * P + q0) * d3 + h * dh;
			const float *v = k + d;
			float *a = att + (b * H + h) * Pq * P;

			/* a (Pq,P) = q k^T * scale; query row r is position
			 * i = q0 + r, and only keys j <= i are used */
			eap_sgemm(0, 1, Pq, P, dh, scale, q, d3, k, d3, 0.0f, a, P);
			for (size_t r = 0; r < Pq; r++) {
				size_t i = q0 + r;
				float *ai = a + r * P, mx;
				size_t j0 = first_key(i, o->window);
				double s = 0.0;

				if (cap > 0)
					for (size_t j = j0; j <= i; j++)
						ai[j] = cap * tanhf(ai[j] / cap);
				mx = ai[j0];
				for (size_t j = j0 + 1; j <= i; j++)
					if (ai[j] > mx)
						mx = ai[j];
				for (size_t j = j0; j <= i; j++) {
					ai[j] = expf(ai[j] - mx);
					s += ai[j];
				}
				for (size_t j = j0; j <= i; j++)
					ai[j] = (float)(ai[j] / s);
				for (size_t j = 0; j < j0; j++)
					ai[j] = 0.0f;
				for (size_t j = i + 1; j < P; j++)
					ai[j] = 0.0f;
			}
			eap_sgemm(0, 0, Pq, dh, P, 1.0f, a, P, v, d3, 0.0f,
				  z + b * Pq * d + h * dh, d);
		}
}

void eap_attention_backward_opt(float *dqkv, float *scratch, const float *dz,
				const float *att, const float *qkv, size_t B,
				size_t P, size_t H, size_t dh,
				const struct eap_attn_opts *o)
{
	size_t d = H * dh, d3 = 3 * d;
	float scale = o->scale, cap = o->softcap;
	float *da = scratch, *sc = cap > 0 ? scratch + P * P : NULL;

	for (size_t b = 0; b < B; b++)
		for (size_t h = 0; h < H; h++) {
			const float *q = qkv + b * P * d3 + h * dh;
			const float *k = q + d, *v = q + 2 * d;
			const float *a = att + (b * H + h) * P * P;
			const float *g = dz + b * P * d + h * dh;
			float *dq = dqkv + b * P * d3 + h * dh;
			float *dk = dq + d, *dv = dq + 2 * d;

			/* dv += a^T g ; da = g v^T */
			eap_sgemm(1, 0, P, dh, P, 1.0f, a, P, g, d, 1.0f, dv, d3);
			eap_sgemm(0, 1, P, P, dh, 1.0f, g, d, v, d3, 0.0f, da, P);
			/* the capped scores' tanh, recomputed: 1 - tanh^2 */
			if (sc)
				eap_sgemm(0, 1, P, P, dh, scale, q, d3, k, d3, 0.0f,
					  sc, P);
			/* softmax backward: ds = a * (da - sum_j a da), masked */
			for (size_t i = 0; i < P; i++) {
				const float *ai = a + i * P;
				float *di = da + i * P;
				size_t j0 = first_key(i, o->window);
				double s = 0.0;

				for (size_t j = j0; j <= i; j++)
					s += (double)ai[j] * di[j];
				for (size_t j = j0; j <= i; j++) {
					double ds = (double)ai[j] * ((double)di[j] - s);

					if (sc) {
						double t = tanh((double)sc[i * P + j] / cap);

						ds *= 1.0 - t * t;
					}
					di[j] = (float)(ds * scale);
				}
				for (size_t j = 0; j < j0; j++)
					di[j] = 0.0f;
				for (size_t j = i + 1; j < P; j++)
					di[j] = 0.0f;
			}
			/* dq += ds k ; dk += ds^T q */
			eap_sgemm(0, 0, P, dh, P, 1.0f, da, P, k, d3, 1.0f, dq, d3);
			eap_sgemm(1, 0, P, dh, P, 1.0f, da, P, q, d3, 1.0f, dk, d3);
		}
}

void eap_rmsnorm_forward(float *out, float *stat, const float *x,
			 const float *w, size_t n, size_t d, float eps)
{
	for (size_t i = 0; i < n; i++) {
		const float *xi = x + i * d;
		double ss = 0.0;
		float r;

		for (size_t j = 0; j < d; j++)
			ss += (double)xi[j] * xi[j];
		r = (float)(1.0 / sqrt(ss / (double)d + eps));
		for (size_t j = 0; j < d; j++)
			out[i * d + j] = w ? xi[j] * r * w[j] : xi[j] * r;
		stat[i] = r;
	}
}

void eap_rmsnorm_backward(float *dx, float *dw, const float *dout,
			  const float *x, const float *w, const float *stat,
			  size_t n, size_t d)
{
	for (size_t i = 0; i < n; i++) {
		const float *xi = x + i * d, *gi = dout + i * d;
		double r = stat[i], s = 0.0; /* mean of g w xhat */

		for (size_t j = 0; j < d; j++) {
			double g = w ? (double)gi[j] * w[j] : gi[j];

			s += g * xi[j] * r;
			if (dw)
				dw[j] += (float)(gi[j] * xi[j] * r);
		}
		s /= (double)d;
		if (!dx)
			continue;
		for (size_t j = 0; j < d; j++) {
			double g = w ? (double)gi[j] * w[j] : gi[j];

			dx[i * d + j] += (float)(r * (g - xi[j] * r * s));
		}
	}
}

void eap_gelu_erf_forward(float *out, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] * M_SQRT1_2)));
}

void eap_gelu_erf_backward(float *dx, const float *x, const float *dout,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		double v = x[i];
		double g = 0.5 * (1.0 + erf(v * M_SQRT1_2)) +
			   v * exp(-0.5 * v * v) * 0.3989422804014327;

		dx[i] = (float)(g * dout[i]);
	}
}

void eap_silu_forward(float *out, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = x[i] / (1.0f + expf(-x[i]));
}

void eap_silu_backward(float *dx, const float *x, const float *dout, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		float s = 1.0f / (1.0f + expf(-x[i]));

		dx[i] = s * (1.0f + x[i] * (1.0f - s)) * dout[i];
	}
}

void eap_rope_apply(float *x, size_t n, size_t np, size_t nh, size_t dh,
		    size_t ld, size_t half, const float *cs, int sign)
{
	for (size_t i = 0; i < n; i++) {
		const float *c = cs + (i % np) * half * 2;

		for (size_t h = 0; h < nh; h++) {
			float *v = x + i * ld + h * dh;

			for (size_t k = 0; k < half; k++) {
				float co = c[2 * k], si = sign * c[2 * k + 1];
				float a = v[k], b = v[k + half];

				v[k] = a * co - b * si;
				v[k + half] = b * co + a * si;
			}
		}
	}
}

void eap_softcap_forward(float *x, size_t n, float cap)
{
	for (size_t i = 0; i < n; i++)
		x[i] = cap * tanhf(x[i] / cap);
}

void eap_softcap_backward(float *dx, const float *y, const float *dout,
			  size_t n, float cap)
{
	for (size_t i = 0; i < n; i++) {
		float t = y[i] / cap;

		dx[i] = dout[i] * (1.0f - t * t);
	}
}
