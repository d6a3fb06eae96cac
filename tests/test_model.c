/*
 * test_model.c - matmul wrapper, layer ops, model loading and the forward
 * pass, against the PyTorch reference fixtures of tests/reference/.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eap/linalg.h"
#include "eap/h5io.h"
#include "eap/model.h"
#include "eap/ops.h"
#include "eap/safetensors.h"
#include "test_util.h"

/* A tiny deterministic generator, so the tests do not depend on rng.c. */
static float urand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((*s >> 40) / (double)(1ULL << 24)) * 2.0f - 1.0f;
}

static void fill(float *x, size_t n, float scale, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		x[i] = scale * urand(s);
}

START_TEST(test_sgemm_vs_naive)
{
	/* every transpose combination, with padded strides */
	uint64_t s = 1;
	size_t M = 5, N = 7, K = 3, pad = 2;
	float A[64], B[64], C[64], R[64];

	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			size_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad;
			size_t ldc = N + pad;

			fill(A, 64, 1.0f, &s);
			fill(B, 64, 1.0f, &s);
			fill(C, 64, 1.0f, &s);
			memcpy(R, C, sizeof(C));
			eap_sgemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 2.0f, C, ldc);
			eap_sgemm_naive(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 2.0f, R, ldc);
			ck_assert_close(C, R, 64, 1e-3, 1e-5);
		}
}
END_TEST

/* ---- finite-difference checks of the backward ops ----------------------- */

/* loss = sum(out * g) for a fixed random g; returns it in double. */
static double dot(const float *a, const float *b, size_t n)
{
	double s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

START_TEST(test_layernorm_backward_fd)
{
	enum { n = 3, d = 8 };
	uint64_t s = 7;
	float x[n * d], w[d], b[d], g[n * d], out[n * d], stat[2 * n];
	float dx[n * d] = { 0 }, dw[d] = { 0 }, db[d] = { 0 };
	double h = 1e-2, worst = 0.0;

	fill(x, n * d, 2.0f, &s);
	fill(w, d, 1.0f, &s);
	fill(b, d, 1.0f, &s);
	fill(g, n * d, 1.0f, &s);
	eap_layernorm_forward(out, stat, x, w, b, n, d, 1e-5f);
	eap_layernorm_backward(dx, dw, db, g, x, w, stat, n, d);
	for (size_t i = 0; i < n * d; i++) {
		float keep = x[i];
		double lp, lm, fd;

		x[i] = keep + (float)h;
		eap_layernorm_forward(out, stat, x, w, b, n, d, 1e-5f);
		lp = dot(out, g, n * d);
		x[i] = keep - (float)h;
		eap_layernorm_forward(out, stat, x, w, b, n, d, 1e-5f);
		lm = dot(out, g, n * d);
		x[i] = keep;
		fd = (lp - lm) / (2 * h);
		worst = fmax(worst, fabs(fd - dx[i]) / fmax(fabs(fd), 1e-1));
	}
	ck_assert_msg(worst < 2e-3, "layernorm dx vs finite differences: %g", worst);
	for (size_t j = 0; j < d; j++) {
		float keep = w[j];
		double lp, lm;

		w[j] = keep + (float)h;
		eap_layernorm_forward(out, stat, x, w, b, n, d, 1e-5f);
		lp = dot(out, g, n * d);
		w[j] = keep - (float)h;
		eap_layernorm_forward(out, stat, x, w, b, n, d, 1e-5f);
		lm = dot(out, g, n * d);
		w[j] = keep;
		ck_assert_double_eq_tol((lp - lm) / (2 * h), dw[j], 2e-3);
	}
	for (size_t j = 0; j < d; j++) {
		double sb = 0.0;

		for (size_t i = 0; i < n; i++)
			sb += g[i * d + j];
		ck_assert_double_eq_tol(sb, db[j], 1e-5);
	}
}
END_TEST

START_TEST(test_gelu_backward_fd)
{
	float x[9] = { -4, -1.5f, -0.5f, -0.01f, 0, 0.3f, 1, 2.5f, 6 };
	float dx[9] = { 0 }, y[9], one[9], yp, ym;

	for (int i = 0; i < 9; i++)
		one[i] = 1.0f;
	eap_gelu_forward(y, x, 9);
	eap_gelu_backward(dx, x, y, one, 9);
	for (int i = 0; i < 9; i++) {
		float xp = x[i] + 1e-3f, xm = x[i] - 1e-3f;

		eap_gelu_forward(&yp, &xp, 1);
		eap_gelu_forward(&ym, &xm, 1);
		ck_assert_double_eq_tol((yp - ym) / 2e-3, dx[i], 2e-3);
	}
	/* GELU(1) with the tanh approximation, computed by hand */
	eap_gelu_forward(&yp, &x[6], 1);
	ck_assert_double_eq_tol(yp, 0.8411919906, 1e-6);
}
END_TEST

START_TEST(test_attention_backward_fd)
{
	enum { B = 2, P = 4, H = 2, dh = 3, d = H * dh };
	uint64_t s = 11;
	float qkv[B * P * 3 * d], z[B * P * d], att[B * H * P * P];
	float g[B * P * d], dqkv[B * P * 3 * d] = { 0 }, scratch[P * P];
	double h = 1e-2, worst = 0.0;

	fill(qkv, B * P * 3 * d, 1.5f, &s);
	fill(g, B * P * d, 1.0f, &s);
	eap_attention_forward(z, att, qkv, B, P, H, dh);
	/* causal: nothing above the diagonal, rows sum to one */
	for (size_t r = 0; r < B * H * P; r++) {
		double sum = 0.0;

		for (size_t j = 0; j < P; j++) {
			if (j > r % P)
				ck_assert_float_eq(att[r * P + j], 0.0f);
			sum += att[r * P + j];
		}
		ck_assert_double_eq_tol(sum, 1.0, 1e-6);
	}
	eap_attention_backward(dqkv, scratch, g, att, qkv, B, P, H, dh);
	for (size_t i = 0; i < B * P * 3 * d; i++) {
		float keep = qkv[i];
		double lp, lm, fd;

		qkv[i] = keep + (float)h;
		eap_attention_forward(z, att, qkv, B, P, H, dh);
		lp = dot(z, g, B * P * d);
		qkv[i] = keep - (float)h;
		eap_attention_forward(z, att, qkv, B, P, H, dh);
		lm = dot(z, g, B * P * d);
		qkv[i] = keep;
		fd = (lp - lm) / (2 * h);
		worst = fmax(worst, fabs(fd - dqkv[i]) / fmax(fabs(fd), 1e-1));
	}
	ck_assert_msg(worst < 3e-3, "attention dqkv vs finite differences: %g", worst);
}
END_TEST

/* The other families' ops (issue #14) against central differences. */
START_TEST(test_rmsnorm_backward_fd)
{
	enum { n = 3, d = 8 };
	uint64_t s = 5;
	float x[n * d], w[d], g[n * d], out[n * d], stat[n];
	float dx[n * d] = { 0 }, dw[d] = { 0 };
	double h = 1e-2, worst = 0.0, worst_w = 0.0;

	fill(x, n * d, 2.0f, &s);
	fill(w, d, 1.0f, &s);
	fill(g, n * d, 1.0f, &s);
	eap_rmsnorm_forward(out, stat, x, w, n, d, 1e-6f);
	eap_rmsnorm_backward(dx, dw, g, x, w, stat, n, d);
	for (size_t i = 0; i < n * d + d; i++) {
		float *p = i < n * d ? &x[i] : &w[i - n * d], keep = *p;
		double lp, lm, fd, an = i < n * d ? dx[i] : dw[i - n * d];

		*p = keep + (float)h;
		eap_rmsnorm_forward(out, stat, x, w, n, d, 1e-6f);
		lp = dot(out, g, n * d);
		*p = keep - (float)h;
		eap_rmsnorm_forward(out, stat, x, w, n, d, 1e-6f);
		lm = dot(out, g, n * d);
		*p = keep;
		fd = (lp - lm) / (2 * h);
		if (i < n * d)
			worst = fmax(worst, fabs(fd - an) / fmax(fabs(fd), 1e-1));
		else
			worst_w = fmax(worst_w, fabs(fd - an) / fmax(fabs(fd), 1e-1));
	}
	ck_assert_msg(worst < 2e-3 && worst_w < 2e-3,
		      "rmsnorm vs finite differences: dx %g, dw %g", worst, worst_w);
}
END_TEST

START_TEST(test_activations_backward_fd)
{
	enum { n = 40 };
	float x[n], y[n], g[n], dx[n];
	double h = 1e-3;

	for (size_t i = 0; i < n; i++) {
		x[i] = -4.0f + 8.0f * (float)i / (n - 1);
		g[i] = 1.0f;
	}
	for (int k = 0; k < 2; k++) {
		double worst = 0.0;

		(k ? eap_silu_backward : eap_gelu_erf_backward)(dx, x, g, n);
		for (size_t i = 0; i < n; i++) {
			float xp = x[i] + (float)h, xm = x[i] - (float)h, yp, ym;

			(k ? eap_silu_forward : eap_gelu_erf_forward)(&yp, &xp, 1);
			(k ? eap_silu_forward : eap_gelu_erf_forward)(&ym, &xm, 1);
			worst = fmax(worst, fabs((yp - ym) / (2 * h) - dx[i]));
		}
		ck_assert_msg(worst < 2e-3, "%s' vs finite differences: %g",
			      k ? "silu" : "gelu_erf", worst);
	}
	/* exact GELU: 0.5 x (1 + erf(x / sqrt 2)) at x = 1 is 0.8413447 */
	x[0] = 1.0f;
	eap_gelu_erf_forward(y, x, 1);
	ck_assert_double_eq_tol(y[0], 0.8413447460685429, 1e-6);
}
END_TEST

/*
 * Rotary: a rotation, so norms are kept and sign -1 undoes it; the dot
 * product of a q and a k rotated at positions i and j depends only on
 * i - j.
 */
START_TEST(test_rope)
{
	enum { np = 5, nh = 2, dh = 6, half = 2 };
	uint64_t s = 3;
	float x[np * nh * dh], y[np * nh * dh], cs[np * half * 2];

	for (size_t p = 0; p < np; p++)
		for (size_t k = 0; k < half; k++) {
			double ang = p * pow(100.0, -2.0 * k / (2 * half));

			cs[(p * half + k) * 2] = (float)cos(ang);
			cs[(p * half + k) * 2 + 1] = (float)sin(ang);
		}
	fill(x, np * nh * dh, 1.0f, &s);
	memcpy(y, x, sizeof(x));
	eap_rope_apply(y, np, np, nh, dh, nh * dh, half, cs, 1);
	for (size_t r = 0; r < np * nh; r++) {
		double a = dot(x + r * dh, x + r * dh, dh);
		double b = dot(y + r * dh, y + r * dh, dh);

		ck_assert_double_eq_tol(a, b, 1e-5);
		/* dims past 2 * half pass through */
		ck_assert_float_eq(x[r * dh + 5], y[r * dh + 5]);
	}
	eap_rope_apply(y, np, np, nh, dh, nh * dh, half, cs, -1);
	for (size_t i = 0; i < np * nh * dh; i++)
		ck_assert_float_eq_tol(x[i], y[i], 1e-5f);
	/* the same vector at every position: <rot_i q, rot_j q> depends on
	 * i - j only */
	for (size_t p = 0; p < np; p++)
		memcpy(y + p * dh, x, dh * sizeof(float));
	eap_rope_apply(y, np, np, 1, dh, dh, half, cs, 1);
	ck_assert_double_eq_tol(dot(y + 0 * dh, y + 2 * dh, dh),
				dot(y + 2 * dh, y + 4 * dh, dh), 1e-5);
	ck_assert_double_eq_tol(dot(y + 1 * dh, y + 2 * dh, dh),
				dot(y + 3 * dh, y + 4 * dh, dh), 1e-5);
}
END_TEST

/* Attention with a soft-cap, another scale and a window, against finite
 * differences; the window's masked keys get no weight. */
START_TEST(test_attention_opts_backward_fd)
{
	enum { B = 1, P = 5, H = 2, dh = 3, d = H * dh };
	uint64_t s = 13;
	struct eap_attn_opts o = { 0.9f, 2.0f, 2, 0 };
	float qkv[B * P * 3 * d], z[B * P * d], att[B * H * P * P];
	float g[B * P * d], dqkv[B * P * 3 * d] = { 0 }, scratch[2 * P * P];
	double h = 1e-2, worst = 0.0;

	fill(qkv, B * P * 3 * d, 2.0f, &s);
	fill(g, B * P * d, 1.0f, &s);
	eap_attention_forward_opt(z, att, qkv, B, P, H, dh, &o);
	for (size_t r = 0; r < B * H * P; r++)
		for (size_t j = 0; j < P; j++)
			if (j + o.window <= r % P || j > r % P)
				ck_assert_float_eq(att[r * P + j], 0.0f);
	eap_attention_backward_opt(dqkv, scratch, g, att, qkv, B, P, H, dh, &o);
	for (size_t i = 0; i < B * P * 3 * d; i++) {
		float keep = qkv[i];
		double lp, lm, fd;

		qkv[i] = keep + (float)h;
		eap_attention_forward_opt(z, att, qkv, B, P, H, dh, &o);
		lp = dot(z, g, B * P * d);
		qkv[i] = keep - (float)h;
		eap_attention_forward_opt(z, att, qkv, B, P, H, dh, &o);
		lm = dot(z, g, B * P * d);
		qkv[i] = keep;
		fd = (lp - lm) / (2 * h);
		worst = fmax(worst, fabs(fd - dqkv[i]) / fmax(fabs(fd), 1e-1));
	}
	ck_assert_msg(worst < 3e-3, "capped windowed attention vs finite differences: %g",
		      worst);
}
END_TEST

/* ---- parameter table ---------------------------------------------------- */

START_TEST(test_gpt2_small_param_count)
{
	/* GPT-2 small has 124,439,808 parameters (tied unembedding). */
	struct eap_config c = { .n_layer = 12, .n_head = 12, .d_model = 768,
				.d_head = 64, .d_mlp = 3072, .n_ctx = 1024,
				.n_vocab = 50257, .tied = 1 };
	struct eap_param p[200];
	size_t total, n = eap_model_params(&c, p, 200, &total);

	ck_assert_uint_eq(total, 124439808);
	ck_assert_uint_eq(n, 2 + 12 * 12 + 2);
	ck_assert_str_eq(p[4].name, "h.0.attn.c_attn.weight");
	ck_assert_uint_eq(p[4].shape[0], 768);
	ck_assert_uint_eq(p[4].shape[1], 2304);
	ck_assert_uint_eq(p[n - 1].offset + p[n - 1].numel, total);
	c.tied = 0;
	n = eap_model_params(&c, p, 200, &total);
	ck_assert_str_eq(p[n - 1].name, "lm_head.weight");
	ck_assert_uint_eq(total, 124439808 + 50257 * 768);
}
END_TEST

/* ---- forward against the reference -------------------------------------- */

struct ref_forward {
	size_t B, P, V;
	int32_t *tokens, *lengths;
	float *logits_last, *logits; /* logits may be NULL */
};

static void read_tensor(struct eap_safetensors *st, const char *name,
			size_t n, float *f, int32_t *i)
{
	struct eap_err err = { 0 };
	const struct eap_st_tensor *t = eap_safetensors_find(st, name);

	ck_assert_msg(t != NULL, "fixture lacks %s", name);
	ck_assert_int_eq(f ? eap_safetensors_read_f32(st, t, f, n, &err)
			   : eap_safetensors_read_i32(st, t, i, n, &err), 0);
}

static void load_ref(struct ref_forward *r, const char *path)
{
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	const struct eap_st_tensor *t;

	ck_assert_msg(eap_safetensors_open(&st, path, &err) == 0, "%s", err.msg);
	t = eap_safetensors_find(&st, "logits_last");
	ck_assert_ptr_nonnull(t);
	r->B = t->shape[0];
	r->V = t->shape[1];
	r->P = eap_safetensors_find(&st, "tokens")->shape[1];
	r->tokens = malloc(r->B * r->P * sizeof(int32_t));
	r->lengths = malloc(r->B * sizeof(int32_t));
	r->logits_last = malloc(r->B * r->V * sizeof(float));
	read_tensor(&st, "tokens", r->B * r->P, NULL, r->tokens);
	read_tensor(&st, "lengths", r->B, NULL, r->lengths);
	read_tensor(&st, "logits_last", r->B * r->V, r->logits_last, NULL);
	r->logits = NULL;
	if (eap_safetensors_find(&st, "logits")) {
		r->logits = malloc(r->B * r->P * r->V * sizeof(float));
		read_tensor(&st, "logits", r->B * r->P * r->V, r->logits, NULL);
	}
	eap_safetensors_release(&st);
}

static void free_ref(struct ref_forward *r)
{
	free(r->tokens);
	free(r->lengths);
	free(r->logits_last);
	free(r->logits);
}

/*
 * Logits at the last real position, and at every real position where the
 * fixture has them, agree with the float64 reference within 1e-4 relative;
 * logits near zero are compared relative to the tensor's mean magnitude.
 */
static void check_forward(const char *name)
{
	char dir[256], ref[256];
	struct eap_model m = { 0 };
	struct eap_fwd f = { 0 };
	struct eap_err err = { 0 };
	struct ref_forward r;

	snprintf(dir, sizeof(dir), FIXTURE("models/%s"), name);
	snprintf(ref, sizeof(ref), FIXTURE("ref/%s-forward.safetensors"), name);
	ck_assert_msg(eap_model_load(&m, dir, &err) == 0, "%s", err.msg);
	load_ref(&r, ref);
	ck_assert_uint_eq(r.V, m.cfg.n_vocab);
	ck_assert_int_eq(eap_fwd_init(&f, &m.cfg, r.B, r.P, 0, &err), 0);
	ck_assert_int_eq(eap_model_forward(&m, &f, r.tokens, r.lengths, r.B, r.P, &err), 0);
	ck_assert_close(f.logits, r.logits_last, r.B * r.V,
			mean_abs(r.logits_last, r.B * r.V), 1e-4);
	printf("forward %s: max rel logit err %.2e (B=%zu, P=%zu, V=%zu)\n", name,
	       rel_err(f.logits, r.logits_last, r.B * r.V,
		       mean_abs(r.logits_last, r.B * r.V), NULL), r.B, r.P, r.V);
	eap_fwd_release(&f);
	if (r.logits) {
		ck_assert_int_eq(eap_fwd_init(&f, &m.cfg, r.B, r.P, 1, &err), 0);
		ck_assert_int_eq(eap_model_forward(&m, &f, r.tokens, r.lengths, r.B, r.P, &err), 0);
		for (size_t b = 0; b < r.B; b++)
			ck_assert_close(f.logits + b * r.P * r.V,
					r.logits + b * r.P * r.V,
					(size_t)r.lengths[b] * r.V,
					mean_abs(r.logits_last, r.B * r.V), 1e-4);
		eap_fwd_release(&f);
	}
	free_ref(&r);
	eap_model_release(&m);
}

START_TEST(test_forward_tiny_word) { check_forward("tiny-word"); }
END_TEST
START_TEST(test_forward_tiny_untied) { check_forward("tiny-untied"); }
END_TEST
START_TEST(test_forward_tiny_bpe) { check_forward("tiny-bpe"); }
END_TEST

/* Every family against its float64 reference (tests/reference/family_ref.py):
 * F16, BF16, sharded, with buffers to ignore. */
START_TEST(test_forward_families)
{
	static const char *const fam[] = { "tiny-neox", "tiny-llama", "tiny-qwen2",
					   "tiny-qwen3", "tiny-gemma2", "tiny-gemma3",
					   "tiny-olmo2" };

	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		check_forward(fam[i]);
}
END_TEST

START_TEST(test_loader_flags)
{
	struct eap_model m = { 0 };
	struct eap_err err = { 0 };

	ck_assert_int_eq(eap_model_load(&m, FIXTURE("models/tiny-untied"), &err), 0);
	ck_assert_int_eq(m.cfg.tied, 0);
	ck_assert_ptr_ne(m.w.unembed, m.w.wte);
	ck_assert_uint_eq(m.cfg.d_mlp, 3 * m.cfg.d_model);
	ck_assert_float_eq_tol(m.cfg.ln_eps, 1e-6f, 1e-12f);
	eap_model_release(&m);
	ck_assert_int_eq(eap_model_load(&m, FIXTURE("models/tiny-word"), &err), 0);
	ck_assert_int_eq(m.cfg.tied, 1);
	ck_assert_ptr_eq(m.w.unembed, m.w.wte);
	ck_assert_int_eq(m.cfg.bos_id, 0);
	eap_model_release(&m);
}
END_TEST

/* ---- invariants on a random model --------------------------------------- */

static void random_model(struct eap_model *m, size_t L, size_t H, size_t d,
			 size_t V, size_t ctx, uint64_t seed)
{
	struct eap_config c = { .n_layer = L, .n_head = H, .d_model = d,
				.d_head = d / H, .d_mlp = 4 * d, .n_ctx = ctx,
				.n_vocab = V, .ln_eps = 1e-5f, .bos_id = 0,
				.tied = 1 };
	struct eap_err err = { 0 };

	ck_assert_int_eq(eap_model_alloc(m, &c, &err), 0);
	fill(m->params, m->n_params, 0.3f, &seed);
}

/*
 * Padding never changes a row (SPEC §4): a row's logits are the same alone,
 * padded to a longer batch, and next to other rows.
 */
START_TEST(test_padding_invariance)
{
	struct eap_model m;
	struct eap_fwd f1 = { 0 }, f2 = { 0 };
	struct eap_err err = { 0 };
	int32_t t1[5] = { 0, 3, 9, 4, 7 }, l1 = 5;
	int32_t t2[3 * 9], l2[3] = { 9, 5, 2 };
	uint64_t s = 5;
	size_t V = 23;

	random_model(&m, 2, 3, 12, V, 16, 99);
	for (size_t i = 0; i < 27; i++)
		t2[i] = (int32_t)((urand(&s) + 1.0f) * 11.0f) % 23;
	memcpy(t2 + 9, t1, sizeof(t1)); /* row 1 = t1, padded with junk */
	ck_assert_int_eq(eap_fwd_init(&f1, &m.cfg, 1, 5, 1, &err), 0);
	ck_assert_int_eq(eap_fwd_init(&f2, &m.cfg, 3, 9, 0, &err), 0);
	ck_assert_int_eq(eap_model_forward(&m, &f1, t1, &l1, 1, 5, &err), 0);
	ck_assert_int_eq(eap_model_forward(&m, &f2, t2, l2, 3, 9, &err), 0);
	ck_assert_close(f2.logits + V, f1.logits + 4 * V, V,
			mean_abs(f1.logits + 4 * V, V), 1e-5);
	eap_fwd_release(&f1);
	eap_fwd_release(&f2);
	eap_model_release(&m);
}
END_TEST

START_TEST(test_forward_rejects_bad_batches)
{
	struct eap_model m;
	struct eap_fwd f = { 0 };
	struct eap_err err = { 0 };
	int32_t t[4] = { 0, 1, 99, 2 }, l[1] = { 4 };

	random_model(&m, 1, 2, 8, 10, 4, 3);
	ck_assert_int_eq(eap_fwd_init(&f, &m.cfg, 1, 8, 0, &err), 0);
	ck_assert_int_eq(eap_model_forward(&m, &f, t, l, 1, 4, &err), EAP_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "token id 99"));
	t[2] = 3;
	l[0] = 0;
	ck_assert_int_eq(eap_model_forward(&m, &f, t, l, 1, 4, &err), EAP_EINVAL);
	l[0] = 4;
	ck_assert_int_eq(eap_model_forward(&m, &f, t, l, 1, 4, &err), 0);
	/* longer than n_positions */
	ck_assert_int_eq(eap_model_forward(&m, &f, t, l, 1, 5, &err), EAP_EINVAL);
	eap_fwd_release(&f);
	eap_model_release(&m);
}
END_TEST

/* ---- saving, loading and bad model directories -------------------------- */

static char tmpdir[64];

static const char *make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/eap-model-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	return tmpdir;
}

static void rm_dir(const char *dir)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/model.safetensors", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/config.json", dir);
	unlink(p);
	rmdir(dir);
}

START_TEST(test_save_load_round_trip)
{
	struct eap_model a, b;
	struct eap_err err = { 0 };
	const char *dir = make_tmpdir();

	random_model(&a, 2, 2, 8, 11, 6, 17);
	ck_assert_int_eq(eap_model_save(&a, dir, &err), 0);
	ck_assert_msg(eap_model_load(&b, dir, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(a.n_params, b.n_params);
	ck_assert_mem_eq(a.params, b.params, a.n_params * sizeof(float));
	ck_assert_int_eq(b.cfg.bos_id, 0);
	ck_assert_uint_eq(b.cfg.d_mlp, 32);
	eap_model_release(&a);
	eap_model_release(&b);
	rm_dir(dir);
}
END_TEST

/* Save a random model whose config.json is then replaced by cfg_text. */
static void expect_load_error(const char *cfg_text, float poison,
			      const char *want1, const char *want2)
{
	struct eap_model a, b;
	struct eap_err err = { 0 };
	const char *dir = make_tmpdir();
	char p[128];
	FILE *f;

	random_model(&a, 2, 2, 8, 11, 6, 17);
	a.params[a.n_params - 1] = poison;
	ck_assert_int_eq(eap_model_save(&a, dir, &err), 0);
	if (cfg_text) {
		snprintf(p, sizeof(p), "%s/config.json", dir);
		f = fopen(p, "w");
		fputs(cfg_text, f);
		fclose(f);
	}
	ck_assert_int_lt(eap_model_load(&b, dir, &err), 0);
	ck_assert_msg(strstr(err.msg, want1) && (!want2 || strstr(err.msg, want2)),
		      "message \"%s\" lacks \"%s\"/\"%s\"", err.msg, want1,
		      want2 ? want2 : "");
	ck_assert_ptr_null(b.params);
	eap_model_release(&a);
	rm_dir(dir);
}

START_TEST(test_bad_model_dirs)
{
	struct eap_model b;
	struct eap_err err = { 0 };

	/* d = 16 instead of 8: wte is [11, 8], the config implies [11, 16] */
	expect_load_error("{\"n_layer\":2,\"n_head\":2,\"n_embd\":16,\"n_positions\":6,"
			  "\"vocab_size\":11}", 0.0f,
			  "tensor \"wte.weight\" has shape [11, 8]", "implies [11, 16]");
	/* a layer the file does not have */
	expect_load_error("{\"n_layer\":3,\"n_head\":2,\"n_embd\":8,\"n_positions\":6,"
			  "\"vocab_size\":11}", 0.0f,
			  "missing tensor \"h.2.ln_1.weight\"", NULL);
	expect_load_error("{\"n_layer\":2,\"n_head\":3,\"n_embd\":8,\"n_positions\":6,"
			  "\"vocab_size\":11}", 0.0f, "not a multiple of n_head", NULL);
	expect_load_error("{\"n_layer\":2,\"n_head\":2,\"n_embd\":8,\"n_positions\":6}",
			  0.0f, "missing key \"vocab_size\"", NULL);
	expect_load_error("{\"n_layer\":2,", 0.0f, "not a JSON object", NULL);
	expect_load_error(NULL, NAN, "tensor \"ln_f.bias\" has a non-finite value", NULL);
	ck_assert_int_eq(eap_model_load(&b, "/nonexistent-dir", &err), EAP_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent-dir/config.json"));
}
END_TEST


/* ---- Hugging Face folders of the other families (issue #14) ------------- */

static void put_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void rm_files(const char *dir, const char *const *names)
{
	char p[256];

	for (size_t i = 0; names[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

/*
 * A random Llama checkpoint (HF names, [out, in] Linear weights) of L
 * layers, H query and Hkv K/V heads of width dh, d, MLP m, vocab V, into
 * t (tensors, data owned by the caller's buffer buf).  With dup != 0 the
 * K/V weights of head h are those of head h / (H / dup) of a dup-head
 * model seeded the same (for the GQA invariant).
 */
struct ckpt_build {
	struct eap_st_out t[64];
	char names[64][96];
	size_t n;
	float *buf;
	size_t used;
};

static float *ck_tensor(struct ckpt_build *b, const char *name, size_t d0,
			size_t d1)
{
	struct eap_st_out *o = &b->t[b->n];
	float *x = b->buf + b->used;

	snprintf(b->names[b->n], sizeof(b->names[0]), "%s", name);
	o->name = b->names[b->n];
	o->ndim = d1 ? 2 : 1;
	o->shape[0] = d0;
	o->shape[1] = d1;
	o->data = x;
	b->used += d1 ? d0 * d1 : d0;
	b->n++;
	return x;
}

static void llama_ckpt(struct ckpt_build *b, size_t L, size_t H, size_t Hkv,
		       size_t kv_src, size_t dh, size_t d, size_t m, size_t V)
{
	uint64_t seed = 7;
	char name[96];

	b->n = b->used = 0;
	b->buf = calloc(1 << 20, sizeof(float));
	fill(ck_tensor(b, "model.embed_tokens.weight", V, d), V * d, 0.5f, &seed);
	for (size_t l = 0; l < L; l++) {
		const char *proj[3] = { "q", "k", "v" };

#define T(fmt, d0, d1) (snprintf(name, sizeof(name), "model.layers.%zu." fmt, l), ck_tensor(b, name, d0, d1))
		fill(T("input_layernorm.weight", d, 0), d, 0.3f, &seed);
		for (int k = 0; k < 3; k++) {
			size_t rows = k ? Hkv * dh : H * dh;
			float *w;

			snprintf(name, sizeof(name), "model.layers.%zu.self_attn.%s_proj.weight",
				 l, proj[k]);
			w = ck_tensor(b, name, rows, d);
			if (!k) {
				fill(w, rows * d, 0.4f, &seed);
			} else {
				/* kv_src heads of random weights, then each of
				 * the Hkv heads copies head h / (Hkv / kv_src) */
				float *src = malloc(kv_src * dh * d * sizeof(float));

				fill(src, kv_src * dh * d, 0.4f, &seed);
				for (size_t h = 0; h < Hkv; h++)
					memcpy(w + h * dh * d,
					       src + (h / (Hkv / kv_src)) * dh * d,
					       dh * d * sizeof(float));
				free(src);
			}
		}
		fill(T("self_attn.o_proj.weight", d, H * dh), d * H * dh, 0.3f, &seed);
		fill(T("post_attention_layernorm.weight", d, 0), d, 0.3f, &seed);
		fill(T("mlp.gate_proj.weight", m, d), m * d, 0.4f, &seed);
		fill(T("mlp.up_proj.weight", m, d), m * d, 0.4f, &seed);
		fill(T("mlp.down_proj.weight", d, m), d * m, 0.3f, &seed);
#undef T
	}
	fill(ck_tensor(b, "model.norm.weight", d, 0), d, 0.3f, &seed);
	fill(ck_tensor(b, "lm_head.weight", V, d), V * d, 0.5f, &seed);
	/* norms near 1 */
	for (size_t i = 0; i < b->n; i++)
		if (strstr(b->t[i].name, "norm"))
			for (size_t j = 0; j < b->t[i].shape[0]; j++)
				((float *)b->t[i].data)[j] += 1.0f;
}

static void llama_config(const char *dir, size_t L, size_t H, size_t Hkv,
			 size_t d, size_t m, size_t V)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"model_type\": \"llama\", \"num_hidden_layers\": %zu, "
		 "\"num_attention_heads\": %zu, \"num_key_value_heads\": %zu, "
		 "\"hidden_size\": %zu, \"intermediate_size\": %zu, "
		 "\"vocab_size\": %zu, \"max_position_embeddings\": 64, "
		 "\"rms_norm_eps\": 1e-5, \"rope_theta\": 500000.0, "
		 "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, "
		 "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, "
		 "\"original_max_position_embeddings\": 16}, "
		 "\"tie_word_embeddings\": false, \"bos_token_id\": 1}",
		 L, H, Hkv, d, m, V);
	put_file(dir, "config.json", text);
}

/* Logits (nb, V) of a forward on fixed tokens. */
static void llama_logits(const char *dir, float *out, size_t *V)
{
	static const int32_t tok[2 * 6] = { 1, 5, 9, 2, 7, 3, 1, 4, 4, 8, 0, 0 };
	static const int32_t len[2] = { 6, 4 };
	struct eap_model m;
	struct eap_fwd f = { 0 };
	struct eap_err err = { 0 };

	ck_assert_msg(eap_model_load(&m, dir, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_fwd_init(&f, &m.cfg, 2, 6, 0, &err), 0);
	ck_assert_int_eq(eap_model_forward(&m, &f, tok, len, 2, 6, &err), 0);
	*V = m.cfg.n_vocab;
	memcpy(out, f.logits, 2 * m.cfg.n_vocab * sizeof(float));
	eap_fwd_release(&f);
	eap_model_release(&m);
}

/*
 * GQA: a model with 2 K/V heads for 4 query heads computes what the same
 * model with 4 K/V heads, each a copy of its group's, computes; sharded
 * checkpoints load as one file does, with unknown tensors ignored.
 */
START_TEST(test_llama_gqa_and_shards)
{
	struct ckpt_build b;
	struct eap_err err = { 0 };
	char dir[64], p[256];
	float got[2 * 16], want[2 * 16];
	size_t V, half;
	static const char *const files[] = {
		"config.json", "model.safetensors", "model-00001-of-00002.safetensors",
		"model-00002-of-00002.safetensors", "model.safetensors.index.json", NULL
	};

	/* 4 K/V heads, pairs equal (what GQA with 2 must give) */
	snprintf(dir, sizeof(dir), "/tmp/eap-llama-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	llama_ckpt(&b, 2, 4, 4, 2, 4, 16, 24, 16);
	snprintf(p, sizeof(p), "%s/model.safetensors", dir);
	ck_assert_int_eq(eap_safetensors_write(p, b.t, b.n, &err), 0);
	llama_config(dir, 2, 4, 4, 16, 24, 16);
	llama_logits(dir, want, &V);
	free(b.buf);
	unlink(p);

	/* the same model as GQA with 2 K/V heads, in two shards with an
	 * index and an extra buffer */
	llama_ckpt(&b, 2, 4, 2, 2, 4, 16, 24, 16);
	half = b.n / 2;
	{
		struct eap_st_out extra = { .name = "model.layers.0.self_attn.rotary_emb.inv_freq",
					    .ndim = 1, .shape = { 2 }, .data = b.buf };
		struct eap_st_out second[40];

		memcpy(second, b.t + half, (b.n - half) * sizeof(second[0]));
		second[b.n - half] = extra;
		snprintf(p, sizeof(p), "%s/model-00001-of-00002.safetensors", dir);
		ck_assert_int_eq(eap_safetensors_write(p, b.t, half, &err), 0);
		snprintf(p, sizeof(p), "%s/model-00002-of-00002.safetensors", dir);
		ck_assert_int_eq(eap_safetensors_write(p, second, b.n - half + 1,
						       &err), 0);
	}
	{
		char idx[8192];
		size_t k = (size_t)snprintf(idx, sizeof(idx),
					    "{\"metadata\": {}, \"weight_map\": {");

		for (size_t i = 0; i < b.n; i++)
			k += (size_t)snprintf(idx + k, sizeof(idx) - k,
					      "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
					      i ? ", " : "", b.t[i].name,
					      i < half ? 1 : 2);
		snprintf(idx + k, sizeof(idx) - k, "}}");
		put_file(dir, "model.safetensors.index.json", idx);
	}
	llama_config(dir, 2, 4, 2, 16, 24, 16);
	llama_logits(dir, got, &V);
	for (size_t i = 0; i < 2 * V; i++)
		ck_assert_msg(fabsf(got[i] - want[i]) <= 1e-5f * (1 + fabsf(want[i])),
			      "logit %zu: GQA %g, expanded %g", i, got[i], want[i]);
	free(b.buf);

	/* the folder's provenance hash is that of the index and the shards
	 * in name order as one stream (here: their concatenation as a file) */
	{
		static const char *const parts[] = {
			"model.safetensors.index.json", "model-00001-of-00002.safetensors",
			"model-00002-of-00002.safetensors"
		};
		char hex_dir[65], hex_cat[65], buf[4096];
		FILE *out, *in;
		size_t n;

		snprintf(p, sizeof(p), "%s/cat.bin", dir);
		ck_assert_ptr_nonnull(out = fopen(p, "wb"));
		for (size_t i = 0; i < 3; i++) {
			char q[256];

			snprintf(q, sizeof(q), "%s/%s", dir, parts[i]);
			ck_assert_ptr_nonnull(in = fopen(q, "rb"));
			while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
				ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
			fclose(in);
		}
		fclose(out);
		ck_assert_msg(eap_sha256_file(p, hex_cat, &err) == 0, "%s", err.msg);
		unlink(p);
		ck_assert_msg(eap_sha256_file(dir, hex_dir, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(hex_dir, hex_cat);
	}

	/* an index naming a shard that is not there */
	snprintf(p, sizeof(p), "%s/model-00002-of-00002.safetensors", dir);
	unlink(p);
	{
		struct eap_model m;

		ck_assert_int_lt(eap_model_load(&m, dir, &err), 0);
		ck_assert_msg(strstr(err.msg, "names shard \"model-00002-of-00002.safetensors\", which is not there"),
			      "%s", err.msg);
	}
	rm_files(dir, files);
}
END_TEST

/*
 * A Hugging Face cache folder (models--org--name: refs/main names the
 * snapshot, whose files link into blobs/) loads as its snapshot.
 */
START_TEST(test_hf_cache_folder)
{
	struct eap_model a, b;
	struct eap_err err = { 0 };
	char root[64], p[256], q[512], cwd[256];
	FILE *f;
	static const char *const files[] = { "config.json", "model.safetensors" };

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(root, sizeof(root), "/tmp/eap-hub-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/models--org--tiny", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/models--org--tiny/refs", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots/abc123", root);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots/abc123/%s",
			 root, files[i]);
		snprintf(q, sizeof(q), "%s/" FIXTURE("models/tiny-qwen2/%s"), cwd,
			 files[i]);
		ck_assert_int_eq(symlink(q, p), 0);
	}
	snprintf(p, sizeof(p), "%s/models--org--tiny/refs/main", root);
	f = fopen(p, "w");
	fputs("abc123\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/models--org--tiny", root);
	ck_assert_msg(eap_model_load(&a, p, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(a.dir, "snapshots/abc123"));
	ck_assert_int_eq(eap_model_load(&b, FIXTURE("models/tiny-qwen2"), &err), 0);
	ck_assert_uint_eq(a.n_params, b.n_params);
	ck_assert_mem_eq(a.params, b.params, a.n_params * sizeof(float));
	eap_model_release(&a);
	eap_model_release(&b);
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots/abc123/%s",
			 root, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots/abc123", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/models--org--tiny/snapshots", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/models--org--tiny/refs/main", root);
	unlink(p);
	snprintf(p, sizeof(p), "%s/models--org--tiny/refs", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/models--org--tiny", root);
	rmdir(p);
	rmdir(root);
}
END_TEST

/* One error line for each bad folder: file and problem. */
START_TEST(test_family_bad_configs)
{
	static const struct {
		const char *cfg, *want;
	} t[] = {
		{ "{\"model_type\": \"bert\"}", "unknown model_type \"bert\"" },
		{ "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"hidden_size\": 16, \"vocab_size\": 16}",
		  "missing key \"intermediate_size\"" },
		{ "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"num_key_value_heads\": 3, "
		  "\"hidden_size\": 16, \"intermediate_size\": 8, \"vocab_size\": 16}",
		  "not a multiple of num_key_value_heads" },
		{ "{\"model_type\": \"llama\", \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"hidden_size\": 16, "
		  "\"intermediate_size\": 8, \"vocab_size\": 16, "
		  "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2}}",
		  "rope_scaling type \"yarn\" is not supported" },
		{ "{\"model_type\": \"gemma3\"}", "needs a \"text_config\" object" },
		{ "{\"model_type\": \"gpt_neox\", \"num_hidden_layers\": 2, "
		  "\"num_attention_heads\": 4, \"hidden_size\": 16, "
		  "\"intermediate_size\": 8, \"vocab_size\": 16, \"hidden_act\": \"relu2\"}",
		  "\"hidden_act\" is \"relu2\"" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct eap_config c;
		struct eap_err err = { 0 };
		char dir[64];

		snprintf(dir, sizeof(dir), "/tmp/eap-cfg-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		put_file(dir, "config.json", t[i].cfg);
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/config.json");
		ck_assert_int_lt(eap_config_load(&c, dir, &err), 0);
		ck_assert_msg(strstr(err.msg, t[i].want) && strstr(err.msg, "config.json"),
			      "config %zu: \"%s\" lacks \"%s\"", i, err.msg, t[i].want);
		unlink(dir);
		dir[strlen(dir) - strlen("/config.json")] = 0;
		rmdir(dir);
	}
}
END_TEST

/* A wrong shape names the tensor and the shapes; the Qwen2 and GPT-NeoX
 * tables list their biases and fused q/k/v. */
START_TEST(test_family_tables)
{
	struct eap_config c;
	struct eap_err err = { 0 };
	struct eap_param p[64];
	char dir[64], path[96];
	size_t n, total;

	snprintf(dir, sizeof(dir), "/tmp/eap-tab-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	put_file(dir, "config.json",
		 "{\"model_type\": \"gpt_neox\", \"num_hidden_layers\": 1, "
		 "\"num_attention_heads\": 4, \"hidden_size\": 16, "
		 "\"intermediate_size\": 64, \"vocab_size\": 20, \"rotary_pct\": 0.5, "
		 "\"max_position_embeddings\": 32}");
	snprintf(path, sizeof(path), "%s/config.json", dir);
	ck_assert_msg(eap_config_load(&c, path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(c.arch.parallel, 1);
	ck_assert_uint_eq(c.arch.rope.dim, 2); /* int(4 * 0.5) */
	ck_assert_int_eq(c.arch.act, EAP_ACT_GELU_ERF);
	c.tied = 0;
	n = eap_model_params(&c, p, 64, &total);
	ck_assert_uint_eq(n, 1 + 12 + 2 + 1);
	ck_assert_str_eq(p[3].name, "gpt_neox.layers.0.attention.query_key_value.weight");
	ck_assert_int_eq(p[3].xform, EAP_X_NEOX_QKV);
	/* wte, ln1 w b, qkv w b, o w b, ln2 w b, fc w b, proj w b, lnf w b, unembed */
	ck_assert_uint_eq(total, 20 * 16 + 2 * 16 + 16 * 48 + 48 + 16 * 16 + 16 +
				 2 * 16 + 16 * 64 + 64 + 64 * 16 + 16 + 2 * 16 + 20 * 16);
	unlink(path);
	put_file(dir, "config.json",
		 "{\"model_type\": \"qwen2\", \"num_hidden_layers\": 1, "
		 "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"hidden_size\": 16, "
		 "\"intermediate_size\": 24, \"vocab_size\": 20, \"tie_word_embeddings\": true}");
	ck_assert_msg(eap_config_load(&c, path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(c.arch.qkv_bias, 1);
	ck_assert_int_eq(c.arch.o_bias, 0);
	n = eap_model_params(&c, p, 64, &total);
	/* embed, the two norms, then q weight and bias, k ... */
	ck_assert_str_eq(p[5].name, "model.layers.0.self_attn.k_proj.weight");
	ck_assert_int_eq(p[5].xform, EAP_X_T);
	ck_assert_uint_eq(p[5].col0, 16);   /* after H dh = 16 q columns */
	ck_assert_uint_eq(p[5].ld, 32);     /* (4 + 2 + 2) * 4 */
	ck_assert_str_eq(p[6].name, "model.layers.0.self_attn.k_proj.bias");
	ck_assert_int_eq(p[6].xform, EAP_X_COLS);
	unlink(path);
	rmdir(dir);
}
END_TEST

Suite *model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *ops = tcase_create("ops"), *fwd = tcase_create("forward");

	tcase_add_test(ops, test_sgemm_vs_naive);
	tcase_add_test(ops, test_layernorm_backward_fd);
	tcase_add_test(ops, test_gelu_backward_fd);
	tcase_add_test(ops, test_attention_backward_fd);
	tcase_add_test(ops, test_rmsnorm_backward_fd);
	tcase_add_test(ops, test_activations_backward_fd);
	tcase_add_test(ops, test_rope);
	tcase_add_test(ops, test_attention_opts_backward_fd);
	tcase_add_test(fwd, test_gpt2_small_param_count);
	tcase_add_test(fwd, test_forward_tiny_word);
	tcase_add_test(fwd, test_forward_tiny_untied);
	tcase_add_test(fwd, test_forward_tiny_bpe);
	tcase_add_test(fwd, test_forward_families);
	tcase_add_test(fwd, test_loader_flags);
	tcase_add_test(fwd, test_padding_invariance);
	tcase_add_test(fwd, test_forward_rejects_bad_batches);
	tcase_add_test(fwd, test_save_load_round_trip);
	tcase_add_test(fwd, test_bad_model_dirs);
	tcase_add_test(fwd, test_llama_gqa_and_shards);
	tcase_add_test(fwd, test_family_bad_configs);
	tcase_add_test(fwd, test_hf_cache_folder);
	tcase_add_test(fwd, test_family_tables);
	tcase_set_timeout(fwd, 120);
	suite_add_tcase(s, ops);
	suite_add_tcase(s, fwd);
	return s;
}
