/*
 * test_attrib.c - the edge-level graph, node outputs, gradients at every
 * backward input, metrics, patched runs and the scores of every method,
 * against the float64 PyTorch reference (tests/reference/gpt2_ref.py) and
 * against finite differences and invariants.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eap/attrib.h"
#include "eap/graph.h"
#include "eap/linalg.h"
#include "eap/model.h"
#include "eap/safetensors.h"
#include "test_util.h"

START_TEST(test_graph_gpt2_small)
{
	struct eap_graph g;
	struct eap_err err = { 0 };
	char buf[64];

	ck_assert_int_eq(eap_graph_init(&g, 12, 12, &err), 0);
	ck_assert_uint_eq(g.n_fwd, 157);
	ck_assert_uint_eq(g.n_bwd, 445);
	ck_assert_uint_eq(g.n_edges, 32491);
	ck_assert_str_eq(g.fwd_names[eap_fwd_head(&g, 0, 3)], "a0.h3");
	ck_assert_str_eq(g.fwd_names[eap_fwd_mlp(&g, 11)], "m11");
	ck_assert_str_eq(g.bwd_names[eap_bwd_index(&g, 2, EAP_BWD_K, 1)], "a2.h1<k>");
	ck_assert_str_eq(g.bwd_names[444], "logits");
	ck_assert_str_eq(eap_graph_edge_name(&g, eap_fwd_head(&g, 0, 3),
					     eap_bwd_index(&g, 2, EAP_BWD_Q, 1), buf, sizeof(buf)),
			 "a0.h3->a2.h1<q>");
	/* m0 reads the heads of layer 0, a0's inputs do not */
	ck_assert_int_eq(g.edge_mask[eap_fwd_head(&g, 0, 5) * g.n_bwd +
				     eap_bwd_index(&g, 0, EAP_BWD_MLP, 0)], 1);
	ck_assert_int_eq(g.edge_mask[eap_fwd_head(&g, 0, 5) * g.n_bwd +
				     eap_bwd_index(&g, 0, EAP_BWD_V, 2)], 0);
	ck_assert_int_eq(g.edge_mask[eap_fwd_mlp(&g, 0) * g.n_bwd +
				     eap_bwd_index(&g, 0, EAP_BWD_MLP, 0)], 0);
	ck_assert_int_eq(eap_graph_find(&g, "a11.h11<v>", 0), 442);
	ck_assert_int_eq(eap_graph_find(&g, "m11", 0), 443);
	ck_assert_int_eq(eap_graph_find(&g, "m3", 1), (long)eap_fwd_mlp(&g, 3));
	ck_assert_int_eq(eap_graph_find(&g, "nope", 1), -1);
	eap_graph_release(&g);
}
END_TEST

/*
 * Edge counts of real configs as the reference library builds their graphs
 * (issue #14): GQA keeps one q, k and v input per query head, parallel
 * blocks drop the same-layer attention -> MLP edges.
 */
START_TEST(test_graph_real_configs)
{
	static const struct {
		const char *name;
		size_t L, H;
		int parallel;
		size_t edges;
	} t[] = {
		{ "Pythia-2.8B", 32, 32, 1, 1591857 },
		{ "GPT-2 XL", 48, 25, 0, 2235025 },
		{ "Qwen2.5-0.5B", 24, 14, 0, 179749 },
		{ "Gemma-2-2B", 26, 8, 0, 74218 },
		{ "Llama-3.1-8B", 32, 32, 0, 1592881 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct eap_graph g;
		struct eap_err err = { 0 };
		size_t l = t[i].L / 2;

		ck_assert_int_eq(eap_graph_init_layout(&g, t[i].L, t[i].H,
						       t[i].parallel, &err), 0);
		ck_assert_msg(g.n_edges == t[i].edges, "%s: %zu edges, want %zu",
			      t[i].name, g.n_edges, t[i].edges);
		ck_assert_int_eq(g.edge_mask[eap_fwd_head(&g, l, 1) * g.n_bwd +
					     eap_bwd_index(&g, l, EAP_BWD_MLP, 0)],
				 !t[i].parallel);
		ck_assert_int_eq(g.edge_mask[eap_fwd_mlp(&g, l - 1) * g.n_bwd +
					     eap_bwd_index(&g, l, EAP_BWD_MLP, 0)], 1);
		eap_graph_release(&g);
	}
}
END_TEST

/* ---- the reference fixture ---------------------------------------------- */

struct fixture {
	struct eap_model model;
	struct eap_graph graph;
	struct eap_safetensors st;
	size_t N, P, A, d;
	int32_t *clean, *corr, *lengths, *ans, *foil;
	struct eap_batch bt;
};

static void *st_read(struct eap_safetensors *st, const char *name,
		     size_t *numel)
{
	const struct eap_st_tensor *t = eap_safetensors_find(st, name);
	struct eap_err err = { 0 };
	void *p;

	ck_assert_msg(t != NULL, "fixture lacks %s", name);
	p = malloc(t->numel * 4 + 1);
	if (t->dtype == EAP_I32)
		ck_assert_int_eq(eap_safetensors_read_i32(st, t, p, t->numel, &err), 0);
	else if (t->dtype == EAP_U8)
		ck_assert_int_eq(eap_safetensors_read_u8(st, t, p, t->numel, &err), 0);
	else
		ck_assert_int_eq(eap_safetensors_read_f32(st, t, p, t->numel, &err), 0);
	if (numel)
		*numel = t->numel;
	return p;
}

static void *fx_read(struct fixture *fx, const char *name, size_t *numel)
{
	return st_read(&fx->st, name, numel);
}

static void fx_open(struct fixture *fx, const char *name)
{
	char path[256];
	struct eap_err err = { 0 };
	const struct eap_st_tensor *t;

	memset(fx, 0, sizeof(*fx));
	snprintf(path, sizeof(path), FIXTURE("models/%s"), name);
	ck_assert_msg(eap_model_load(&fx->model, path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_graph_init_layout(&fx->graph, fx->model.cfg.n_layer,
					       fx->model.cfg.n_head,
					       fx->model.cfg.arch.parallel, &err), 0);
	snprintf(path, sizeof(path), FIXTURE("ref/%s-graph.safetensors"), name);
	ck_assert_msg(eap_safetensors_open(&fx->st, path, &err) == 0, "%s", err.msg);
	t = eap_safetensors_find(&fx->st, "clean");
	fx->N = t->shape[0];
	fx->P = t->shape[1];
	fx->A = eap_safetensors_find(&fx->st, "answers")->shape[1];
	fx->d = fx->model.cfg.d_model;
	fx->clean = fx_read(fx, "clean", NULL);
	fx->corr = fx_read(fx, "corrupted", NULL);
	fx->lengths = fx_read(fx, "lengths", NULL);
	fx->ans = fx_read(fx, "answers", NULL);
	fx->foil = fx_read(fx, "foils", NULL);
	fx->bt = (struct eap_batch){ fx->N, fx->P, fx->A, fx->A, fx->clean,
				     fx->corr, fx->lengths, fx->ans, fx->foil };
}

static void fx_close(struct fixture *fx)
{
	free(fx->clean);
	free(fx->corr);
	free(fx->lengths);
	free(fx->ans);
	free(fx->foil);
	eap_safetensors_release(&fx->st);
	eap_graph_release(&fx->graph);
	eap_model_release(&fx->model);
}

/* Node-major (k, N, P, d) -> the fixture's (N, P, k, d). */
static float *to_fixture_layout(const float *x, size_t k, size_t N, size_t P,
				size_t d)
{
	float *y = malloc(k * N * P * d * sizeof(float));

	for (size_t u = 0; u < k; u++)
		for (size_t i = 0; i < N * P; i++)
			memcpy(y + (i * k + u) * d, x + (u * N * P + i) * d,
			       d * sizeof(float));
	return y;
}

static const char *const metrics[] = { "logit_diff", "prob_diff", "kl", "kl_sum" };

/*
 * Node outputs, metrics, gradients and circuit evaluations of one model
 * against the reference.
 */
static void check_graph_run_opt(const char *name, int patched,
				double grad_tol)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	const struct eap_graph *g;
	uint8_t *mask;
	size_t n;
	float *ref, *ours;
	double worst_grad = 0.0;

	fx_open(&fx, name);
	g = &fx.graph;
	n = fx.N * fx.P;
	mask = fx_read(&fx, "edge_mask", NULL);
	ck_assert_mem_eq(mask, g->edge_mask, g->n_fwd * g->n_bwd);
	free(mask);
	ck_assert_int_eq(eap_run_init(&r, &fx.model, g, fx.N, fx.P, &err), 0);

	for (int mi = 0; mi < 4; mi++) {
		char key[64];
		float *mref;
		double ascale;

		ck_assert_int_eq(eap_run_baselines(&r, &fx.bt, mi, &err), 0);
		if (mi == 0) {
			/* node outputs at real positions (padding is junk) */
			const char *which[2] = { "fwd_clean", "fwd_corrupted" };
			float *ys[2] = { r.y_clean, r.y_corr };

			for (int k = 0; k < 2; k++) {
				ref = fx_read(&fx, which[k], NULL);
				ours = to_fixture_layout(ys[k], g->n_fwd, fx.N, fx.P, fx.d);
				for (size_t b = 0; b < fx.N; b++) {
					size_t off = b * fx.P * g->n_fwd * fx.d;

					ck_assert_close(ours + off, ref + off,
							(size_t)fx.lengths[b] * g->n_fwd * fx.d,
							mean_abs(ref, n * g->n_fwd * fx.d), 1e-4);
				}
				free(ref);
				free(ours);
			}
		}
		snprintf(key, sizeof(key), "metric_clean_%s", metrics[mi]);
		mref = fx_read(&fx, key, NULL);
		for (size_t b = 0; b < fx.N; b++)
			ck_assert_double_eq_tol(r.metric_clean[b], mref[b],
						1e-4 * fmax(fabs(mref[b]), 1e-2));
		free(mref);
		snprintf(key, sizeof(key), "metric_corrupted_%s", metrics[mi]);
		mref = fx_read(&fx, key, NULL);
		ascale = mean_abs(mref, fx.N);
		for (size_t b = 0; b < fx.N; b++)
			ck_assert_double_eq_tol(r.metric_corr[b], mref[b],
						1e-4 * fmax(fabs(mref[b]), ascale));
		free(mref);

		/* gradients at every backward input, clean run */
		memset(r.grad, 0, g->n_bwd * n * fx.d * sizeof(float));
		ck_assert_int_eq(eap_run_backward(&r, &fx.bt, mi, 1.0f, NULL, &err), 0);
		snprintf(key, sizeof(key), "grad_clean_%s", metrics[mi]);
		ref = fx_read(&fx, key, NULL);
		ours = to_fixture_layout(r.grad, g->n_bwd, fx.N, fx.P, fx.d);
		if (mi < 2) {
			double e = rel_err(ours, ref, n * g->n_bwd * fx.d,
					   mean_abs(ref, n * g->n_bwd * fx.d), NULL);

			ck_assert_close(ours, ref, n * g->n_bwd * fx.d,
					mean_abs(ref, n * g->n_bwd * fx.d), grad_tol);
			worst_grad = fmax(worst_grad, e);
		} else {
			/* KL is stationary at the clean input: g = 0 */
			for (size_t i = 0; i < n * g->n_bwd * fx.d; i++)
				ck_assert_msg(fabsf(ours[i]) < 1e-6f, "kl grad %g", ours[i]);
		}
		free(ref);
		free(ours);

		/* circuits: every edge outside carries the corrupted output;
		 * each alone, and all three stacked in one run */
		if (patched) {
			size_t E = g->n_fwd * g->n_bwd;
			uint8_t *all = malloc(3 * E);
			double many[3 * 8];

			ck_assert_ptr_nonnull(all);
			ck_assert_uint_le(fx.N, 8);
			for (int k = 0; k < 3; k++) {
				uint8_t *kk;

				snprintf(key, sizeof(key), "circuit_%d", k);
				kk = fx_read(&fx, key, NULL);
				memcpy(all + k * E, kk, E);
				free(kk);
			}
			ck_assert_int_eq(eap_run_patched_many(&r, &fx.bt, mi, all, 3, NULL,
							      many, &err), 0);
			for (int k = 0; k < 3; k++) {
				double mv[8];

				snprintf(key, sizeof(key), "circuit_metric_%d_%s", k, metrics[mi]);
				mref = fx_read(&fx, key, NULL);
				ck_assert_int_eq(eap_run_patched(&r, &fx.bt, mi, all + k * E,
								 NULL, 0, mv, &err), 0);
				ascale = mean_abs(mref, fx.N);
				for (size_t b = 0; b < fx.N; b++) {
					double tol = 1e-4 * fmax(fabs(mref[b]), fmax(ascale, 1e-6));

					ck_assert_msg(fabs(mv[b] - mref[b]) <= tol,
						      "%s circuit %d %s row %zu: %.8g vs %.8g",
						      name, k, metrics[mi], b, mv[b], mref[b]);
					ck_assert_msg(fabs(many[k * fx.N + b] - mref[b]) <= tol,
						      "%s stacked circuit %d %s row %zu: %.8g vs %.8g",
						      name, k, metrics[mi], b, many[k * fx.N + b],
						      mref[b]);
				}
				free(mref);
			}
			free(all);
		}
	}
	printf("graph %s: gradients max rel err %.2e\n", name, worst_grad);
	eap_run_release(&r);
	fx_close(&fx);
}

static void check_graph_run(const char *name)
{
	check_graph_run_opt(name, 1, 1e-4);
}

START_TEST(test_graph_run_tiny_word) { check_graph_run("tiny-word"); }
END_TEST
START_TEST(test_graph_run_tiny_untied) { check_graph_run("tiny-untied"); }
END_TEST
START_TEST(test_graph_run_tiny_bpe) { check_graph_run("tiny-bpe"); }
END_TEST

/*
 * Scores of one method (all metrics) against the reference: the graph
 * fixture's scores_<key>_<metric>, or those of <name>-<file>.safetensors
 * (file not NULL: methods_ref.py's).
 */
static void check_scores_in(const char *name, const char *file,
			    enum eap_method method, int steps,
			    const char *key_method, size_t batch)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	struct eap_safetensors ext;
	const struct eap_graph *g;
	size_t E;

	fx_open(&fx, name);
	if (file) {
		char path[256];

		snprintf(path, sizeof(path), FIXTURE("ref/%s-%s.safetensors"),
			 name, file);
		ck_assert_msg(eap_safetensors_open(&ext, path, &err) == 0, "%s",
			      err.msg);
	}
	g = &fx.graph;
	E = g->n_fwd * g->n_bwd;
	ck_assert_int_eq(eap_run_init(&r, &fx.model, g, batch, fx.P, &err), 0);
	for (int mi = 0; mi < 4; mi++) {
		struct eap_score_acc acc;
		float *ours = malloc(E * sizeof(float)), *ref;
		char key[64];
		double scale;

		ck_assert_int_eq(eap_score_acc_init(&acc, g, &err), 0);
		for (size_t s = 0; s < fx.N; s += batch) {
			size_t nb = fx.N - s < batch ? fx.N - s : batch;
			struct eap_batch bt = { nb, fx.P, fx.A, fx.A,
						fx.clean + s * fx.P, fx.corr + s * fx.P,
						fx.lengths + s, fx.ans + s * fx.A,
						fx.foil + s * fx.A };

			ck_assert_msg(eap_run_score(&r, &bt, method, mi, steps, NULL,
						    NULL, &acc, &err) == 0, "%s", err.msg);
		}
		ck_assert_uint_eq(acc.n_examples, fx.N);
		eap_score_acc_finish(&acc, g, ours);
		snprintf(key, sizeof(key), "scores_%s_%s", key_method, metrics[mi]);
		ref = file ? st_read(&ext, key, NULL) : fx_read(&fx, key, NULL);
		scale = mean_abs(ref, E);
		if (scale < 1e-12) {
			/* EAP on KL: the gradient vanishes at the clean input */
			for (size_t i = 0; i < E; i++)
				ck_assert_msg(fabsf(ours[i]) < 1e-6f, "%s: %g", key, ours[i]);
		} else {
			/* float32 vs float64: 1e-4 relative, near-zero scores
			 * relative to the mean magnitude.  An exact score is the
			 * difference of two float32 metrics, each rounded at the
			 * scale of the logits, so small exact scores are compared
			 * against 5% of the mean clean-corrupted gap, the unit of
			 * faithfulness (an error of 5e-6 in F at most). */
			if (method == EAP_METHOD_EXACT) {
				float *mc, *mr;
				double gap = 0.0;

				snprintf(key, sizeof(key), "metric_clean_%s", metrics[mi]);
				mc = fx_read(&fx, key, NULL);
				snprintf(key, sizeof(key), "metric_corrupted_%s", metrics[mi]);
				mr = fx_read(&fx, key, NULL);
				for (size_t b = 0; b < fx.N; b++)
					gap += fabs((double)mc[b] - mr[b]) / (double)fx.N;
				scale = fmax(scale, 5e-2 * gap);
				free(mc);
				free(mr);
				snprintf(key, sizeof(key), "scores_%s_%s", key_method,
					 metrics[mi]);
			}
			/* EAP-GP's path takes unit steps along float32
			 * gradients: tiny-neox's prob_diff (F16 weights, its
			 * smallest scores) moves 4.8e-4, the others < 2e-5 */
			ck_assert_close(ours, ref, E, scale,
					method == EAP_METHOD_EAP_GP ? 1e-3 : 1e-4);
			printf("scores %s %s batch %zu: max rel err %.2e\n", name, key,
			       batch, rel_err(ours, ref, E, scale, NULL));
		}
		free(ref);
		free(ours);
		eap_score_acc_release(&acc);
	}
	if (file)
		eap_safetensors_release(&ext);
	eap_run_release(&r);
	fx_close(&fx);
}

static void check_scores(const char *name, enum eap_method method, int steps,
			 const char *key_method, size_t batch)
{
	check_scores_in(name, NULL, method, steps, key_method, batch);
}

START_TEST(test_scores_eap) { check_scores("tiny-word", EAP_METHOD_EAP, 1, "eap", 4); }
END_TEST
START_TEST(test_scores_eap_ig) { check_scores("tiny-word", EAP_METHOD_EAP_IG, 5, "eap_ig", 4); }
END_TEST
START_TEST(test_scores_eap_ig1) { check_scores("tiny-word", EAP_METHOD_EAP_IG, 1, "eap_ig1", 4); }
END_TEST
START_TEST(test_scores_clean_corrupted)
{
	check_scores("tiny-word", EAP_METHOD_CLEAN_CORRUPTED, 1, "clean_corrupted", 4);
}
END_TEST
START_TEST(test_scores_exact) { check_scores("tiny-word", EAP_METHOD_EXACT, 1, "exact", 4); }
END_TEST
/* batch 1 gives the same as the whole padded batch */
START_TEST(test_scores_batch1)
{
	check_scores("tiny-word", EAP_METHOD_EAP_IG, 5, "eap_ig", 1);
	check_scores("tiny-untied", EAP_METHOD_EXACT, 1, "exact", 1);
}
END_TEST
START_TEST(test_scores_bpe)
{
	check_scores("tiny-bpe", EAP_METHOD_EAP_IG, 5, "eap_ig", 3);
	check_scores("tiny-bpe", EAP_METHOD_EXACT, 1, "exact", 2);
	check_scores("tiny-untied", EAP_METHOD_EAP, 1, "eap", 3);
}
END_TEST

/* EAP-IG on activations, on all three models, padded batches included */
START_TEST(test_scores_eap_ig_act)
{
	check_scores("tiny-word", EAP_METHOD_EAP_IG_ACT, 5, "eap_ig_act", 4);
	check_scores("tiny-untied", EAP_METHOD_EAP_IG_ACT, 5, "eap_ig_act", 3);
	check_scores("tiny-bpe", EAP_METHOD_EAP_IG_ACT, 5, "eap_ig_act", 2);
}
END_TEST

/*
 * RelP and EAP-GP (issue 18) against methods_ref.py's float64 reference:
 * GPT-2 (LayerNorm, GELU), GPT-NeoX (parallel blocks, exact GELU),
 * Llama (RMSNorm, SwiGLU's half rule, GQA) and Gemma-2 (GeGLU, post
 * norms, soft-caps); RelP's gradients at every backward input too.
 */
static const char *const methods_models[] = { "tiny-word", "tiny-neox",
					      "tiny-llama", "tiny-gemma2" };

START_TEST(test_relp_reference)
{
	for (size_t i = 0; i < 4; i++) {
		const char *name = methods_models[i];
		struct fixture fx;
		struct eap_safetensors ext;
		struct eap_run r;
		struct eap_err err = { 0 };
		char path[256];
		size_t n, k;
		float *ref, *ours;

		check_scores_in(name, "methods", EAP_METHOD_RELP, 1, "relp", 3);
		fx_open(&fx, name);
		snprintf(path, sizeof(path), FIXTURE("ref/%s-methods.safetensors"),
			 name);
		ck_assert_msg(eap_safetensors_open(&ext, path, &err) == 0, "%s",
			      err.msg);
		n = fx.N * fx.P;
		k = fx.graph.n_bwd * n * fx.d;
		ck_assert_int_eq(eap_run_init(&r, &fx.model, &fx.graph, fx.N,
					      fx.P, &err), 0);
		ck_assert_int_eq(eap_run_baselines(&r, &fx.bt, EAP_METRIC_LOGIT_DIFF,
						   &err), 0);
		memset(r.grad, 0, k * sizeof(float));
		r.lrp = 1;
		ck_assert_int_eq(eap_run_backward(&r, &fx.bt, EAP_METRIC_LOGIT_DIFF,
						  1.0f, NULL, &err), 0);
		ref = st_read(&ext, "grad_relp_logit_diff", NULL);
		ours = to_fixture_layout(r.grad, fx.graph.n_bwd, fx.N, fx.P, fx.d);
		ck_assert_close(ours, ref, k, mean_abs(ref, k), 1e-4);
		printf("relp %s: gradients max rel err %.2e\n", name,
		       rel_err(ours, ref, k, mean_abs(ref, k), NULL));
		free(ref);
		free(ours);
		eap_run_release(&r);
		eap_safetensors_release(&ext);
		fx_close(&fx);
	}
}
END_TEST

START_TEST(test_eap_gp_reference)
{
	for (size_t i = 0; i < 4; i++)
		check_scores_in(methods_models[i], "methods", EAP_METHOD_EAP_GP, 5,
				"eap_gp", i % 2 ? 4 : 3);
}
END_TEST

/*
 * RelP's rules differ from the gradient only at norms, attention
 * patterns, activations and gated products, so on tiny-word made free of
 * them (no norm, W_Q = W_K = 0 and no q/k bias: constant attention
 * scores, so a pattern that does not depend on the input; identity
 * activations) RelP's scores equal EAP's bit for bit.  Putting back any
 * one of the three makes them differ, so the test can fail.
 */
static double relp_minus_eap(int keep_norm, int keep_qk, int keep_act)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	struct eap_config *c;
	size_t E;
	float *s[2];
	double worst = 0.0, top = 0.0;

	fx_open(&fx, "tiny-word");
	c = &fx.model.cfg;
	if (!keep_norm) {
		c->arch.norm = EAP_NORM_NONE;
		c->arch.attn_pre_norm = c->arch.mlp_pre_norm = 0;
	}
	if (!keep_act)
		c->arch.act = EAP_ACT_IDENTITY;
	if (!keep_qk)
		for (size_t l = 0; l < c->n_layer; l++) {
			struct eap_layer *W = &fx.model.w.layers[l];
			size_t wp = (c->n_head + 2 * c->n_kv_head) * c->d_head;
			size_t qk = (c->n_head + c->n_kv_head) * c->d_head;

			for (size_t i = 0; i < c->d_model; i++)
				memset(W->w_qkv + i * wp, 0, qk * sizeof(float));
			memset(W->b_qkv, 0, qk * sizeof(float));
		}
	E = fx.graph.n_fwd * fx.graph.n_bwd;
	ck_assert_int_eq(eap_run_init(&r, &fx.model, &fx.graph, fx.N, fx.P,
				      &err), 0);
	for (int k = 0; k < 2; k++) {
		struct eap_score_acc acc;

		ck_assert_int_eq(eap_score_acc_init(&acc, &fx.graph, &err), 0);
		ck_assert_msg(eap_run_score(&r, &fx.bt,
					    k ? EAP_METHOD_RELP : EAP_METHOD_EAP,
					    EAP_METRIC_LOGIT_DIFF, 1, NULL, NULL,
					    &acc, &err) == 0, "%s", err.msg);
		s[k] = malloc(E * sizeof(float));
		eap_score_acc_finish(&acc, &fx.graph, s[k]);
		eap_score_acc_release(&acc);
	}
	for (size_t i = 0; i < E; i++) {
		worst = fmax(worst, fabs((double)s[1][i] - s[0][i]));
		top = fmax(top, fabs((double)s[0][i]));
	}
	ck_assert(top > 0.0);
	free(s[0]);
	free(s[1]);
	eap_run_release(&r);
	fx_close(&fx);
	return worst / top;
}

START_TEST(test_relp_equals_eap_without_norm_softmax_act)
{
	double d;

	ck_assert_msg((d = relp_minus_eap(0, 0, 0)) == 0.0,
		      "RelP differs from EAP by %g", d);
	ck_assert_msg((d = relp_minus_eap(1, 0, 0)) > 1e-3, "norm: %g", d);
	ck_assert_msg((d = relp_minus_eap(0, 1, 0)) > 1e-3, "softmax: %g", d);
	ck_assert_msg((d = relp_minus_eap(0, 0, 1)) > 1e-3, "activation: %g", d);
}
END_TEST

/*
 * Finite differences on one backward input's own copy: patching the edge
 * input->v with y_ablate = y + eps*e shifts only x_v by eps*e.
 */
START_TEST(test_gradient_finite_differences)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	const struct eap_graph *g;
	size_t n, nd, d, worst_v = 0;
	double worst = 0.0;
	uint8_t *keep;
	float *abl;

	fx_open(&fx, "tiny-word");
	g = &fx.graph;
	n = fx.N * fx.P;
	d = fx.d;
	nd = n * d;
	keep = malloc(g->n_fwd * g->n_bwd);
	abl = malloc(g->n_fwd * nd * sizeof(float));
	ck_assert_int_eq(eap_run_init(&r, &fx.model, g, fx.N, fx.P, &err), 0);
	for (int mi = 0; mi < 2; mi++) {
		ck_assert_int_eq(eap_run_baselines(&r, &fx.bt, mi, &err), 0);
		memset(r.grad, 0, g->n_bwd * nd * sizeof(float));
		ck_assert_int_eq(eap_run_backward(&r, &fx.bt, mi, 1.0f, NULL, &err), 0);
		for (size_t v = 0; v < g->n_bwd; v++) {
			size_t lv, h;
			enum eap_bwd_kind kind;
			eap_graph_bwd_info(g, v, &lv, &kind, &h);
			/* row 1 at its last real position, or at position 1
			 * for k and v, which later queries read */
			for (size_t j = 0; j < d; j += 7) {
				size_t b = 1, p = kind == EAP_BWD_Q || kind == EAP_BWD_MLP ||
							  kind == EAP_BWD_LOGITS
						  ? (size_t)fx.lengths[b] - 1
						  : 1;
				size_t idx = (b * fx.P + p) * d + j;
				double mp[8], mm[8], eps = 1e-2, fd, an;

				memset(keep, 1, g->n_fwd * g->n_bwd);
				keep[0 * g->n_bwd + v] = 0;
				memcpy(abl, r.y_clean, g->n_fwd * nd * sizeof(float));
				abl[idx] += (float)eps;
				ck_assert_int_eq(eap_run_patched(&r, &fx.bt, mi, keep, abl, lv, mp, &err), 0);
				abl[idx] -= (float)(2 * eps);
				ck_assert_int_eq(eap_run_patched(&r, &fx.bt, mi, keep, abl, lv, mm, &err), 0);
				fd = (mp[b] - mm[b]) / (2 * eps);
				an = r.grad[v * nd + idx];
				if (fabs(fd - an) / fmax(fabs(an), 1e-2) > worst) {
					worst = fabs(fd - an) / fmax(fabs(an), 1e-2);
					worst_v = v;
				}
			}
		}
	}
	printf("finite differences: max rel err %.2e (at %s)\n", worst,
	       g->bwd_names[worst_v]);
	ck_assert_msg(worst < 1e-2, "finite differences disagree: %g at %s", worst,
		      g->bwd_names[worst_v]);
	free(keep);
	free(abl);
	eap_run_release(&r);
	fx_close(&fx);
}
END_TEST

/*
 * Completeness: the EAP-IG scores of all input->v edges sum to
 * dE . mean_k grad(e_k), a Riemann sum of m(corrupted) - m(clean); the
 * error falls roughly as 1/steps.
 */
START_TEST(test_ig_completeness)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	const struct eap_graph *g;
	const int steps[4] = { 1, 5, 50, 500 };
	double errs[4], target = 0.0;

	fx_open(&fx, "tiny-word");
	g = &fx.graph;
	ck_assert_int_eq(eap_run_init(&r, &fx.model, g, fx.N, fx.P, &err), 0);
	for (int k = 0; k < 4; k++) {
		struct eap_score_acc acc;
		double sum = 0.0;

		ck_assert_int_eq(eap_score_acc_init(&acc, g, &err), 0);
		ck_assert_int_eq(eap_run_score(&r, &fx.bt, EAP_METHOD_EAP_IG,
					       EAP_METRIC_LOGIT_DIFF, steps[k], NULL,
					       NULL, &acc, &err), 0);
		for (size_t v = 0; v < g->n_bwd; v++)
			sum += acc.sum[v] / (double)acc.n_examples; /* u = input */
		target = 0.0;
		for (size_t b = 0; b < fx.N; b++)
			target += (r.metric_corr[b] - r.metric_clean[b]) / (double)fx.N;
		errs[k] = fabs(sum - target);
		eap_score_acc_release(&acc);
	}
	printf("completeness |sum - (m_corr - m_clean)| = %.4g (m=1), %.4g (m=5), "
	       "%.4g (m=50), %.4g (m=500); target %.4g\n", errs[0], errs[1],
	       errs[2], errs[3], target);
	fflush(stdout);
	/* a left Riemann sum: the error falls roughly as 1/m (at small m it
	 * may dip below the trend, so compare 50 against 500 for the rate) */
	ck_assert(errs[1] < errs[0] / 10 && errs[2] < errs[0] / 10);
	ck_assert_msg(errs[3] < errs[2] / 5, "%g vs %g", errs[3], errs[2]);
	ck_assert(errs[3] < 1e-3 * fabs(target));
	eap_run_release(&r);
	fx_close(&fx);
}
END_TEST

/*
 * Stacked patched runs (eap-eval's) equal one circuit at a time: random
 * circuits from empty to full (so every input is built from the current
 * residual, from the ablated one, or taken fully ablated), with the
 * corrupted values and with an ablation of the caller's, on one and two
 * BLAS threads and stacks of every size.  They differ only in BLAS's
 * rounding of taller matmuls.
 */
/* K circuits (K, E) of a seeded LCG: circuit k keeps about k / (K - 1)
 * of the edges */
static uint8_t *random_circuits(size_t K, size_t E, uint64_t s)
{
	uint8_t *keep = malloc(K * E);

	ck_assert_ptr_nonnull(keep);
	for (size_t k = 0; k < K; k++)
		for (size_t e = 0; e < E; e++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			keep[k * E + e] = (double)(s >> 11) / 9007199254740992.0 <
					  (double)k / (double)(K - 1);
		}
	return keep;
}

/* Ablated values (n_fwd, N, P, d) unlike any run's outputs. */
static float *fixed_ablation(const struct fixture *fx)
{
	size_t n = fx->graph.n_fwd * fx->N * fx->P * fx->d;
	float *abl = malloc(n * sizeof(float));

	ck_assert_ptr_nonnull(abl);
	for (size_t i = 0; i < n; i++)
		abl[i] = 0.01f * (float)(i % 97) - 0.4f;
	return abl;
}

START_TEST(test_patched_many_equals_single)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	const struct eap_graph *g;
	size_t E, K = 7, N;
	uint8_t *keep;
	float *abl;
	double *one, *many, worst = 0.0;
	int old = eap_blas_threads_get();

	fx_open(&fx, "tiny-untied");
	g = &fx.graph;
	N = fx.N;
	E = g->n_fwd * g->n_bwd;
	keep = random_circuits(K, E, 12345);
	one = malloc(K * N * sizeof(double));
	many = malloc(K * N * sizeof(double));
	abl = fixed_ablation(&fx);
	ck_assert_int_eq(eap_run_init(&r, &fx.model, g, N, fx.P, &err), 0);
	for (int t = 1; t <= 2; t++)
		for (int mi = 0; mi < 4; mi++)
			for (int a = 0; a < 2; a++) {
				eap_blas_threads(t);
				ck_assert_int_eq(eap_run_baselines(&r, &fx.bt, mi, &err), 0);
				for (size_t k = 0; k < K; k++)
					ck_assert_int_eq(eap_run_patched(&r, &fx.bt, mi, keep + k * E,
									 a ? abl : NULL, 0,
									 one + k * N, &err), 0);
				for (size_t grp = 0; grp <= 3; grp++) {
					r.patch_group = grp;
					ck_assert_int_eq(eap_run_patched_many(&r, &fx.bt, mi, keep, K,
									      a ? abl : NULL, many,
									      &err), 0);
					for (size_t i = 0; i < K * N; i++)
						worst = fmax(worst, fabs(many[i] - one[i]) /
								    fmax(1.0, fabs(one[i])));
				}
				r.patch_group = 0;
			}
	eap_blas_threads(old);
	printf("stacked vs single patched runs: max rel diff %.2e\n", worst);
	ck_assert_msg(worst < 1e-5, "%g", worst);
	free(keep);
	free(one);
	free(many);
	free(abl);
	eap_run_release(&r);
	fx_close(&fx);
}
END_TEST

/* Patching no edge gives the clean metric, every edge the corrupted one. */
START_TEST(test_patch_all_or_none)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	size_t E;
	uint8_t *keep;
	double mv[8];

	fx_open(&fx, "tiny-untied");
	E = fx.graph.n_fwd * fx.graph.n_bwd;
	keep = malloc(E);
	ck_assert_int_eq(eap_run_init(&r, &fx.model, &fx.graph, fx.N, fx.P, &err), 0);
	for (int mi = 0; mi < 4; mi++) {
		ck_assert_int_eq(eap_run_baselines(&r, &fx.bt, mi, &err), 0);
		memset(keep, 1, E);
		ck_assert_int_eq(eap_run_patched(&r, &fx.bt, mi, keep, NULL, 0, mv, &err), 0);
		for (size_t b = 0; b < fx.N; b++)
			ck_assert_double_eq_tol(mv[b], r.metric_clean[b],
						1e-5 * fmax(1.0, fabs(r.metric_clean[b])));
		memset(keep, 0, E);
		ck_assert_int_eq(eap_run_patched(&r, &fx.bt, mi, keep, NULL, 0, mv, &err), 0);
		for (size_t b = 0; b < fx.N; b++)
			ck_assert_double_eq_tol(mv[b], r.metric_corr[b],
						1e-5 * fmax(1.0, fabs(r.metric_corr[b])));
	}
	free(keep);
	eap_run_release(&r);
	fx_close(&fx);
}
END_TEST

/*
 * Exact scores reuse the unchanged prefix; a full patched run of "every
 * edge but e" from layer 0 must give the same m(C) - m(full).
 */
START_TEST(test_exact_equals_full_patched_runs)
{
	struct fixture fx;
	struct eap_run r;
	struct eap_err err = { 0 };
	struct eap_score_acc acc;
	const struct eap_graph *g;
	size_t E;
	uint8_t *keep, *sub;
	float *scores;
	double worst = 0.0, mv[8], base[8];

	fx_open(&fx, "tiny-untied");
	g = &fx.graph;
	E = g->n_fwd * g->n_bwd;
	keep = malloc(E);
	scores = malloc(2 * E * sizeof(float));
	ck_assert_int_eq(eap_run_init(&r, &fx.model, g, fx.N, fx.P, &err), 0);
	/* every edge on one thread; then on two threads the edges into
	 * the last layer's a.h0<q> and the logits only, whose runs are
	 * split into units */
	sub = calloc(E, 1);
	ck_assert_ptr_nonnull(sub);
	for (size_t u = 0; u < g->n_fwd; u++) {
		sub[u * g->n_bwd + eap_bwd_index(g, g->n_layer - 1, EAP_BWD_Q, 0)] = 1;
		sub[u * g->n_bwd + eap_bwd_logits(g)] = 1;
	}
	for (int t = 1; t <= 2; t++) {
		int old = eap_blas_threads_get();

		eap_blas_threads(t);
		r.exact_unit_min = 2;
		ck_assert_int_eq(eap_score_acc_init(&acc, g, &err), 0);
		ck_assert_int_eq(eap_run_score(&r, &fx.bt, EAP_METHOD_EXACT,
					       EAP_METRIC_LOGIT_DIFF, 1, NULL,
					       t == 1 ? NULL : sub, &acc, &err), 0);
		eap_blas_threads(old);
		eap_score_acc_finish(&acc, g, scores + (t - 1) * E);
		eap_score_acc_release(&acc);
	}
	memset(keep, 1, E);
	ck_assert_int_eq(eap_run_patched(&r, &fx.bt, EAP_METRIC_LOGIT_DIFF, keep, NULL, 0,
					 base, &err), 0);
	for (size_t e = 0; e < E; e++) {
		double s = 0.0;

		if (!g->edge_mask[e])
			continue;
		keep[e] = 0;
		ck_assert_int_eq(eap_run_patched(&r, &fx.bt, EAP_METRIC_LOGIT_DIFF, keep,
						 NULL, 0, mv, &err), 0);
		keep[e] = 1;
		for (size_t b = 0; b < fx.N; b++)
			s += (mv[b] - base[b]) / (double)fx.N;
		worst = fmax(worst, fabs(s - scores[e]));
		if (sub[e])
			worst = fmax(worst, fabs(s - scores[E + e]));
	}
	printf("exact with prefix reuse vs full patched runs: max abs diff %.2e\n", worst);
	ck_assert_msg(worst < 1e-5, "%g", worst);
	free(keep);
	free(sub);
	free(scores);
	eap_run_release(&r);
	fx_close(&fx);
}
END_TEST


/* ---- every family's gradients against the residual stream's ------------ */

/*
 * A random checkpoint of a family, written from its config alone: the
 * parameter table names every tensor and its shape.  Norm weights near
 * 1 (Gemma's stored w near 0), the rest uniform in [-scale, scale].
 */
static void write_random_family(const char *dir, const char *cfg_text,
				float scale)
{
	char path[256];
	struct eap_config c;
	struct eap_err err = { 0 };
	struct eap_param *tab;
	struct eap_st_out *out;
	float *buf;
	size_t n, total, used = 0;
	uint64_t seed = 99;
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(cfg_text, f);
	fclose(f);
	ck_assert_msg(eap_config_load(&c, path, &err) == 0, "%s", err.msg);
	c.tied = 0;
	n = eap_model_params(&c, NULL, 0, &total);
	tab = calloc(n, sizeof(*tab));
	out = calloc(n, sizeof(*out));
	eap_model_params(&c, tab, n, NULL);
	for (size_t i = 0; i < n; i++)
		used += tab[i].numel;
	buf = malloc(used * sizeof(float));
	used = 0;
	for (size_t i = 0; i < n; i++) {
		int norm = strstr(tab[i].name, "norm") != NULL;

		out[i].name = tab[i].name;
		out[i].ndim = tab[i].ndim;
		out[i].shape[0] = tab[i].shape[0];
		out[i].shape[1] = tab[i].shape[1];
		out[i].data = buf + used;
		for (size_t k = 0; k < tab[i].numel; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			float u = (float)((seed >> 40) / (double)(1ULL << 24)) * 2 - 1;

			buf[used + k] = norm ? (tab[i].xform == EAP_X_PLUS1 ? 0 : 1) +
						       0.3f * u
					     : scale * u;
		}
		used += tab[i].numel;
	}
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	ck_assert_int_eq(eap_safetensors_write(path, out, n, &err), 0);
	free(buf);
	free(out);
	free(tab);
}

/* The logit difference of row b after a forward from layer l0 (mid: its
 * MLP) of a state whose residual at that point the caller perturbed. */
static double metric_from(const struct eap_model *m, struct eap_fwd *f,
			  size_t l0, int mid, const struct eap_batch *bt,
			  size_t b)
{
	struct eap_err err = { 0 };
	size_t V = m->cfg.n_vocab;

	if (mid)
		ck_assert_int_eq(eap_model_forward_mid(m, f, l0, bt->lengths,
						       bt->nb, bt->np, &err), 0);
	else
		ck_assert_int_eq(eap_model_forward_from(m, f, l0, bt->lengths,
							bt->nb, bt->np, &err), 0);
	return eap_metric_eval(EAP_METRIC_LOGIT_DIFF, f->logits + b * V, V,
			       bt->answers + b * bt->n_ans, bt->n_ans,
			       bt->foils + b * bt->n_foil, bt->n_foil, NULL,
			       NULL);
}

/*
 * Perturbing the residual stream entering layer l moves every backward
 * input from layer l on by the same amount, so d m / d x_in(l) =
 * sum of g_v over those inputs: the difference between layer l and l+1
 * is layer l's q/k/v inputs plus its MLP; perturbing the stream after
 * layer l's attention isolates the MLP's (sequential blocks).  Checked by
 * central differences of the forward alone, for one model of each kind of
 * block, norm, position, attention and MLP.
 */
static void check_family_gradients(const char *name, const char *cfg_text)
{
	static const int32_t clean[2 * 6] = { 1, 5, 9, 2, 7, 3, 1, 4, 6, 8, 0, 0 };
	static const int32_t corr[2 * 6] = { 1, 6, 9, 2, 7, 3, 1, 5, 6, 8, 0, 0 };
	static const int32_t len[2] = { 6, 4 }, ans[2] = { 3, 10 }, foil[2] = { 11, 2 };
	struct eap_batch bt = { 2, 6, 1, 1, clean, corr, len, ans, foil };
	struct eap_model m;
	struct eap_graph g;
	struct eap_run r;
	struct eap_fwd f = { 0 }, f0 = { 0 };
	struct eap_err err = { 0 };
	char dir[64];
	size_t L, d, nd, n = 12;
	double worst = 0.0;
	const char *worst_at = "";

	snprintf(dir, sizeof(dir), "/tmp/eap-fam-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_random_family(dir, cfg_text, 0.4f);
	ck_assert_msg(eap_model_load(&m, dir, &err) == 0, "%s: %s", name, err.msg);
	L = m.cfg.n_layer;
	d = m.cfg.d_model;
	nd = n * d;
	ck_assert_int_eq(eap_graph_init_layout(&g, L, m.cfg.n_head,
					       m.cfg.arch.parallel, &err), 0);
	ck_assert_msg(eap_run_init(&r, &m, &g, 2, 6, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_run_nodes(&r, clean, NULL, len, 2, 6, r.y_clean, &err), 0);
	memset(r.grad, 0, g.n_bwd * nd * sizeof(float));
	ck_assert_msg(eap_run_backward(&r, &bt, EAP_METRIC_LOGIT_DIFF, 1.0f, NULL,
				       &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_fwd_init(&f, &m.cfg, 2, 6, 0, &err), 0);
	ck_assert_int_eq(eap_fwd_init(&f0, &m.cfg, 2, 6, 0, &err), 0);
	ck_assert_int_eq(eap_model_forward(&m, &f0, clean, len, 2, 6, &err), 0);
	/* node outputs add up to the residual stream (README conventions) */
	for (size_t i = 0; i < nd; i += 5) {
		double sum = 0.0, want = f0.x_out[i];

		for (size_t u = 0; u < g.n_fwd; u++)
			sum += r.y_clean[u * nd + i];
		for (size_t l = 0; l < L; l++)
			if (m.w.layers[l].b_o)
				sum += m.w.layers[l].b_o[i % d];
		ck_assert_msg(fabs(sum - want) <= 1e-4 * (1 + fabs(want)),
			      "%s: nodes sum to %g, residual %g", name, sum, want);
	}
	for (size_t b = 0; b < 2; b++)
		for (size_t p = 0; p < 2; p++) {
			size_t pos = p ? (size_t)len[b] - 1 : 1;

			for (size_t j = 0; j < d; j += 5) {
				size_t idx = (b * 6 + pos) * d + j;
				double fd[2][64] = { { 0 } }, eps = 1e-2;

				/* fd[0][l]: at x_in(l) (l = L: x_out); fd[1][l]:
				 * at x_mid(l) */
				for (size_t l = 0; l <= L; l++)
					for (int mid = 0; mid < 2 && !(mid && l == L); mid++) {
						double mp, mm;
						float *x;

						memcpy(f.mem, f0.mem, f0.n_mem * sizeof(float));
						memcpy(f.lengths, f0.lengths, 2 * sizeof(int32_t));
						x = l == L ? f.x_out : mid ? f.layers[l].x_mid
									   : f.layers[l].x_in;
						x[idx] += (float)eps;
						mp = metric_from(&m, &f, l, mid, &bt, b);
						x[idx] -= (float)(2 * eps);
						mm = metric_from(&m, &f, l, mid, &bt, b);
						fd[mid][l] = (mp - mm) / (2 * eps);
					}
				for (size_t l = 0; l <= L; l++) {
					double an = 0.0, want;
					size_t v0 = l == L ? eap_bwd_logits(&g)
							   : eap_bwd_index(&g, l, EAP_BWD_Q, 0);
					size_t v1 = l == L ? v0 + 1 : eap_bwd_index(&g, l, EAP_BWD_MLP, 0) + 1;
					const char *what = l == L ? "logits" : "layer";

					for (size_t v = v0; v < v1; v++)
						an += r.grad[v * nd + idx];
					want = fd[0][l] - (l < L ? fd[0][l + 1] : 0.0);
					if (fabs(want - an) / fmax(fabs(an), 3e-2) > worst) {
						worst = fabs(want - an) / fmax(fabs(an), 3e-2);
						worst_at = what;
					}
					if (l < L && !m.cfg.arch.parallel) {
						size_t vm = eap_bwd_index(&g, l, EAP_BWD_MLP, 0);

						an = r.grad[vm * nd + idx];
						want = fd[1][l] - fd[0][l + 1];
						if (fabs(want - an) / fmax(fabs(an), 3e-2) > worst) {
							worst = fabs(want - an) / fmax(fabs(an), 3e-2);
							worst_at = "mlp";
						}
					}
				}
			}
		}
	printf("family %-8s gradients vs finite differences of the residual: max rel err %.2e (%s)\n",
	       name, worst, worst_at);
	ck_assert_msg(worst < 3e-2, "%s: gradients vs finite differences %g (%s)",
		      name, worst, worst_at);
	eap_fwd_release(&f);
	eap_fwd_release(&f0);
	eap_run_release(&r);
	eap_graph_release(&g);
	eap_model_release(&m);
	{
		char p2[128];

		snprintf(p2, sizeof(p2), "%s/config.json", dir);
		unlink(p2);
		snprintf(p2, sizeof(p2), "%s/model.safetensors", dir);
		unlink(p2);
		rmdir(dir);
	}
}

/* The shared-prefix families of test_exact_prefix_equals_full. */
static const char *const prefix_fam[] = { "tiny-word", "tiny-untied", "tiny-llama",
					  "tiny-neox", "tiny-gemma2", "tiny-gemma3",
					  "tiny-qwen2", "tiny-qwen3", "tiny-olmo2" };

/*
 * Corrupted prompts (set into fx->bt, returned for the caller to free)
 * that agree with the clean ones on their first 3 or 4 tokens (fewer
 * where a prompt is shorter) and differ at every position after.
 */
static int32_t *prefix_corrupted(struct fixture *fx)
{
	size_t V = fx->model.cfg.n_vocab;
	int32_t *corr = malloc(fx->N * fx->P * sizeof(int32_t));

	ck_assert_ptr_nonnull(corr);
	for (size_t b = 0; b < fx->N; b++)
		for (size_t p = 0; p < fx->P; p++) {
			int32_t t = fx->clean[b * fx->P + p];

			corr[b * fx->P + p] = p < 3 + b % 2
						      ? t
						      : (int32_t)(((size_t)t + 1 + p) % V);
		}
	fx->bt.corrupted = corr;
	return corr;
}

/*
 * Exact scoring's patched copies run only the positions after the
 * batch's shared prefix (eap_batch_prefix), reading the clean run's keys
 * and values below it.  On pairs whose clean and corrupted prompts agree
 * on their first 3-4 tokens, in a padded batch of different lengths, the
 * scores equal those of the runs over every position (prefix_off, as
 * EAP_NO_PREFIX sets) on every family: GPT-2, Llama (RoPE, llama3
 * scaling, GQA), NeoX (partial rotary, parallel blocks), Gemma-2/3
 * (sliding windows of 3, soft-caps, local rope base), Qwen3 and OLMo-2
 * (QK-norms); and at batch 1, where each pair has its own prefix (up to
 * 5 tokens), they match the float64 reference.
 */
START_TEST(test_exact_prefix_equals_full)
{
	const char *const *fam = prefix_fam;

	for (size_t fi = 0; fi < sizeof(prefix_fam) / sizeof(prefix_fam[0]); fi++) {
		struct fixture fx;
		struct eap_run r;
		struct eap_err err = { 0 };
		const struct eap_graph *g;
		size_t E, p0;
		int32_t *corr;
		float *sc[2];
		double worst = 0.0, top = 0.0;

		fx_open(&fx, fam[fi]);
		g = &fx.graph;
		E = g->n_fwd * g->n_bwd;
		corr = prefix_corrupted(&fx);
		p0 = eap_batch_prefix(&fx.bt);
		ck_assert_uint_ge(p0, 2);
		ck_assert_int_eq(eap_run_init(&r, &fx.model, g, fx.N, fx.P, &err), 0);
		for (int off = 0; off < 2; off++) {
			struct eap_score_acc acc;

			sc[off] = malloc(E * sizeof(float));
			r.prefix_off = off;
			ck_assert_int_eq(eap_score_acc_init(&acc, g, &err), 0);
			ck_assert_msg(eap_run_score(&r, &fx.bt, EAP_METHOD_EXACT,
						    EAP_METRIC_LOGIT_DIFF, 1, NULL, NULL,
						    &acc, &err) == 0, "%s", err.msg);
			ck_assert_uint_eq(r.p0, off ? 0 : p0);
			eap_score_acc_finish(&acc, g, sc[off]);
			eap_score_acc_release(&acc);
		}
		for (size_t e = 0; e < E; e++) {
			top = fmax(top, fabs(sc[1][e]));
			worst = fmax(worst, fabs((double)sc[0][e] - sc[1][e]));
		}
		printf("exact %s from position %zu vs every position: max diff %.2e of the largest score\n",
		       fam[fi], p0, worst / top);
		ck_assert_msg(top > 0 && worst <= 1e-5 * top, "%s: %g of %g", fam[fi],
			      worst, top);
		free(sc[0]);
		free(sc[1]);
		free(corr);
		eap_run_release(&r);
		fx_close(&fx);
		check_scores(fam[fi], EAP_METHOD_EXACT, 1, "exact", 1);
	}
}
END_TEST

/*
 * Patched runs (eap-eval) after the shared prefix equal those over every
 * position, on the same pairs and families, for 5 circuits (none to all
 * edges kept) on 1 and 2 threads, one circuit a stack or many; ablated
 * values that differ from the clean outputs in the prefix (mean
 * ablation) take every position.
 */
START_TEST(test_patched_prefix_equals_full)
{
	for (size_t fi = 0; fi < sizeof(prefix_fam) / sizeof(prefix_fam[0]); fi++) {
		struct fixture fx;
		struct eap_run r;
		struct eap_err err = { 0 };
		const struct eap_graph *g;
		size_t E, K = 5, N, p0;
		uint8_t *keep;
		int32_t *corr;
		float *abl;
		double *mv[2], worst = 0.0;
		int old = eap_blas_threads_get();

		fx_open(&fx, prefix_fam[fi]);
		g = &fx.graph;
		N = fx.N;
		E = g->n_fwd * g->n_bwd;
		corr = prefix_corrupted(&fx);
		p0 = eap_batch_prefix(&fx.bt);
		keep = random_circuits(K, E, 777);
		mv[0] = malloc(K * N * sizeof(double));
		mv[1] = malloc(K * N * sizeof(double));
		abl = fixed_ablation(&fx);
		ck_assert_int_eq(eap_run_init(&r, &fx.model, g, N, fx.P, &err), 0);
		for (int t = 1; t <= 2; t++)
			for (size_t grp = 0; grp <= 1; grp++) {
				eap_blas_threads(t);
				r.patch_group = grp;
				ck_assert_int_eq(eap_run_baselines(&r, &fx.bt,
								   EAP_METRIC_LOGIT_DIFF, &err), 0);
				for (int off = 0; off < 2; off++) {
					r.prefix_off = off;
					ck_assert_msg(eap_run_patched_many(&r, &fx.bt,
									   EAP_METRIC_LOGIT_DIFF,
									   keep, K, NULL, mv[off],
									   &err) == 0, "%s", err.msg);
					ck_assert_uint_eq(r.p0, off ? 0 : p0);
				}
				for (size_t i = 0; i < K * N; i++)
					worst = fmax(worst, fabs(mv[0][i] - mv[1][i]) /
							    fmax(1.0, fabs(mv[1][i])));
				r.prefix_off = 0;
				ck_assert_int_eq(eap_run_patched_many(&r, &fx.bt,
								      EAP_METRIC_LOGIT_DIFF,
								      keep, K, abl, mv[0],
								      &err), 0);
				ck_assert_uint_eq(r.p0, 0);
			}
		eap_blas_threads(old);
		printf("patched %s from position %zu vs every position: max rel diff %.2e\n",
		       prefix_fam[fi], p0, worst);
		ck_assert_uint_ge(p0, 2);
		ck_assert_msg(worst < 1e-5, "%s: %g", prefix_fam[fi], worst);
		free(keep);
		free(mv[0]);
		free(mv[1]);
		free(abl);
		free(corr);
		eap_run_release(&r);
		fx_close(&fx);
	}
}
END_TEST

#define FAM_COMMON "\"num_hidden_layers\": 2, \"hidden_size\": 16, " \
	"\"intermediate_size\": 24, \"vocab_size\": 12, \"max_position_embeddings\": 32, "

/*
 * Every family against its float64 reference (tests/reference/
 * family_ref.py): node outputs, baselines, gradients at every backward
 * input, circuits' metrics, and the scores of all five methods.
 */
START_TEST(test_families_reference)
{
	static const char *const fam[] = { "tiny-neox", "tiny-llama", "tiny-qwen2",
					   "tiny-qwen3", "tiny-gemma2", "tiny-gemma3",
					   "tiny-olmo2" };

	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		check_graph_run_opt(fam[i], 1, 1e-4);
		check_scores(fam[i], EAP_METHOD_EAP, 1, "eap", 4);
		check_scores(fam[i], EAP_METHOD_EAP_IG, 5, "eap_ig", 3);
		check_scores(fam[i], EAP_METHOD_CLEAN_CORRUPTED, 1, "clean_corrupted", 2);
		check_scores(fam[i], EAP_METHOD_EXACT, 1, "exact", 4);
		check_scores(fam[i], EAP_METHOD_EAP_IG_ACT, 5, "eap_ig_act", 2);
	}
}
END_TEST

START_TEST(test_family_gradients)
{
	check_family_gradients("llama", "{\"model_type\": \"llama\", " FAM_COMMON
		"\"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
		"\"rope_theta\": 100.0, \"rope_scaling\": {\"rope_type\": \"llama3\", "
		"\"factor\": 4.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 2.0, "
		"\"original_max_position_embeddings\": 8}}");
	check_family_gradients("neox", "{\"model_type\": \"gpt_neox\", " FAM_COMMON
		"\"num_attention_heads\": 2, \"rotary_pct\": 0.5, "
		"\"rotary_emb_base\": 100}");
	check_family_gradients("qwen2", "{\"model_type\": \"qwen2\", " FAM_COMMON
		"\"num_attention_heads\": 4, \"num_key_value_heads\": 1, "
		"\"rope_theta\": 100.0}");
	check_family_gradients("qwen3", "{\"model_type\": \"qwen3\", " FAM_COMMON
		"\"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
		"\"head_dim\": 6, \"rope_theta\": 100.0}");
	check_family_gradients("gemma2", "{\"model_type\": \"gemma2\", " FAM_COMMON
		"\"num_attention_heads\": 2, \"num_key_value_heads\": 1, "
		"\"head_dim\": 8, \"query_pre_attn_scalar\": 6, "
		"\"attn_logit_softcapping\": 2.0, \"final_logit_softcapping\": 3.0, "
		"\"sliding_window\": 3, \"rope_theta\": 100.0}");
	check_family_gradients("gemma3", "{\"model_type\": \"gemma3_text\", " FAM_COMMON
		"\"num_attention_heads\": 2, \"num_key_value_heads\": 1, "
		"\"head_dim\": 8, \"sliding_window\": 3, \"sliding_window_pattern\": 2, "
		"\"rope_theta\": 1000.0, \"rope_local_base_freq\": 10.0, "
		"\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2.0}}");
	check_family_gradients("olmo2", "{\"model_type\": \"olmo2\", " FAM_COMMON
		"\"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
		"\"rope_theta\": 100.0}");
}
END_TEST

/* ---- streamed weights (issue 15) ---------------------------------------- */

#define STREAM_L5 "\"num_hidden_layers\": 5, \"hidden_size\": 16, " \
	"\"intermediate_size\": 24, \"vocab_size\": 12, \"max_position_embeddings\": 32, "
static const char *const stream_cfgs[][2] = {
	{ "gpt2", "{\"model_type\": \"gpt2\", \"n_layer\": 5, \"n_head\": 2, "
		  "\"n_embd\": 16, \"n_positions\": 32, \"vocab_size\": 12}" },
	{ "llama", "{\"model_type\": \"llama\", " STREAM_L5
		   "\"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
		   "\"rope_theta\": 100.0}" },
	{ "neox", "{\"model_type\": \"gpt_neox\", " STREAM_L5
		  "\"num_attention_heads\": 2, \"rotary_pct\": 0.5, "
		  "\"rotary_emb_base\": 100}" },
};

static const int32_t st_clean[3 * 6] = { 1, 5, 9, 2, 7, 3, 1, 4, 6, 8, 0, 0,
					 2, 2, 7, 11, 3, 0 };
static const int32_t st_corr[3 * 6] = { 1, 6, 9, 2, 7, 3, 1, 5, 6, 8, 0, 0,
					2, 3, 7, 11, 3, 0 };
static const int32_t st_len[3] = { 6, 4, 5 }, st_ans[3] = { 3, 10, 4 },
		     st_foil[3] = { 11, 2, 5 };

/*
 * Everything a tool computes from a model, loaded as mode: the scores of
 * EAP, EAP-IG (3 steps) and exact, and the metrics of three patched
 * circuits (stacked), at 2 BLAS threads (two IG lanes share the layer
 * slots).  out gets 3 E scores, then 3 x 3 metrics.
 */
static void stream_outputs(const char *dir, enum eap_weights_mode mode,
			   double *out, size_t *n_out)
{
	struct eap_batch bt = { 3, 6, 1, 1, st_clean, st_corr, st_len, st_ans,
				st_foil };
	static const enum eap_method meth[] = { EAP_METHOD_EAP, EAP_METHOD_EAP_IG,
						EAP_METHOD_EXACT };
	struct eap_model m;
	struct eap_graph g;
	struct eap_run r;
	struct eap_err err = { 0 };
	size_t E, k = 0;
	uint8_t *keep;
	float *sc;
	double met[9];

	ck_assert_msg(eap_model_load_as(&m, dir, mode, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_model_streamed(&m), mode == EAP_WEIGHTS_STREAM);
	ck_assert_int_eq(eap_graph_init_layout(&g, m.cfg.n_layer, m.cfg.n_head,
					       m.cfg.arch.parallel, &err), 0);
	ck_assert_int_eq(eap_run_init(&r, &m, &g, 3, 6, &err), 0);
	E = g.n_fwd * g.n_bwd;
	sc = malloc(E * sizeof(float));
	keep = malloc(3 * E);
	for (size_t i = 0; i < 3; i++) {
		struct eap_score_acc acc;

		ck_assert_int_eq(eap_score_acc_init(&acc, &g, &err), 0);
		ck_assert_msg(eap_run_score(&r, &bt, meth[i], EAP_METRIC_LOGIT_DIFF, 3,
					    NULL, NULL, &acc, &err) == 0, "%s", err.msg);
		eap_score_acc_finish(&acc, &g, sc);
		for (size_t e = 0; e < E; e++)
			out[k++] = sc[e];
		eap_score_acc_release(&acc);
	}
	for (size_t e = 0; e < 3 * E; e++)
		keep[e] = (e * 7919 % 13) < 4 * (e / E + 1);
	ck_assert_int_eq(eap_run_baselines(&r, &bt, EAP_METRIC_LOGIT_DIFF, &err), 0);
	ck_assert_msg(eap_run_patched_many(&r, &bt, EAP_METRIC_LOGIT_DIFF, keep, 3,
					   NULL, met, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < 9; i++)
		out[k++] = met[i];
	*n_out = k;
	free(sc);
	free(keep);
	eap_run_release(&r);
	eap_graph_release(&g);
	eap_model_release(&m);
}

static void rm_model(const char *dir)
{
	static const char *const f[] = { "config.json", "model.safetensors" };
	char p[256];

	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, f[i]);
		unlink(p);
	}
	rmdir(dir);
}

/*
 * A streamed untied unembedding in several tiles (2 vocabulary rows each,
 * EAP_UNEMBED_TILE; no float32 copy): the eager outputs a (na of them)
 * within float summation order, as the backward's product over the
 * vocabulary adds tile by tile.
 */
static void check_unembed_tiles(const char *dir, const char *name,
				const double *a, double *b, size_t na)
{
	struct eap_model m;
	struct eap_err err = { 0 };
	size_t nb, diff = 0;
	double worst = 0, scale = 0;

	setenv("EAP_UNEMBED_TILE", "40", 1);
	ck_assert_int_eq(eap_model_load_as(&m, dir, EAP_WEIGHTS_STREAM, &err), 0);
	ck_assert_ptr_null(m.w.unembed);
	eap_model_release(&m);
	stream_outputs(dir, EAP_WEIGHTS_STREAM, b, &nb);
	unsetenv("EAP_UNEMBED_TILE");
	ck_assert_uint_eq(na, nb);
	for (size_t i = 0; i < na; i++) {
		diff += a[i] != b[i];
		scale = fmax(scale, fabs(a[i]));
		worst = fmax(worst, fabs(a[i] - b[i]));
	}
	printf("unembed in tiles vs eager %s: %zu of %zu outputs differ, at most "
	       "%.2g of the largest\n", name, diff, na, worst / scale);
	ck_assert_msg(worst <= 1e-6 * scale, "%s: %g", name, worst / scale);
}

/*
 * The streamed path (layers converted on demand into 3 slots, 5 layers,
 * so every pass evicts and converts again; lanes in parallel) gives
 * byte-identical scores and patched metrics to the eager one: the same
 * floats reach the same products (the untied models' unembedding in one
 * tile; in several, check_unembed_tiles).
 */
START_TEST(test_stream_equals_eager)
{
	int old = eap_blas_threads_get();
	double *a = malloc(20000 * sizeof(double)), *b = malloc(20000 * sizeof(double));

	eap_blas_threads(2);
	for (size_t f = 0; f < sizeof(stream_cfgs) / sizeof(stream_cfgs[0]); f++) {
		char dir[64];
		size_t na, nb, diff = 0;

		snprintf(dir, sizeof(dir), "/tmp/eap-stream-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		write_random_family(dir, stream_cfgs[f][1], 0.4f);
		stream_outputs(dir, EAP_WEIGHTS_EAGER, a, &na);
		stream_outputs(dir, EAP_WEIGHTS_STREAM, b, &nb);
		ck_assert_uint_eq(na, nb);
		ck_assert_uint_le(na, 20000);
		for (size_t i = 0; i < na; i++)
			diff += memcmp(&a[i], &b[i], sizeof(double)) != 0;
		printf("stream vs eager %s: %zu of %zu outputs differ\n",
		       stream_cfgs[f][0], diff, na);
		ck_assert_msg(diff == 0, "%s: %zu outputs differ", stream_cfgs[f][0],
			      diff);
		if (f > 0) /* untied: the unembedding in tiles of 2 rows */
			check_unembed_tiles(dir, stream_cfgs[f][0], a, b, na);
		rm_model(dir);
	}
	eap_blas_threads(old);
	free(a);
	free(b);
}
END_TEST

/* dir/model.safetensors rewritten from src's as dtype (rounded). */
static void copy_as(const char *src, const char *dir, enum eap_dtype dtype)
{
	struct eap_safetensors st;
	struct eap_st_out *out;
	struct eap_err err = { 0 };
	char p[256], q[256], cmd[600];

	snprintf(p, sizeof(p), "%s/model.safetensors", src);
	ck_assert_int_eq(eap_safetensors_open(&st, p, &err), 0);
	out = calloc(st.n_tensors, sizeof(*out));
	for (size_t i = 0; i < st.n_tensors; i++) {
		const struct eap_st_tensor *t = &st.tensors[i];

		out[i].name = t->name;
		out[i].ndim = t->ndim;
		memcpy(out[i].shape, t->shape, sizeof(t->shape));
		out[i].data = (const float *)(st.data + t->begin);
		out[i].dtype = dtype;
	}
	snprintf(q, sizeof(q), "%s/model.safetensors", dir);
	ck_assert_int_eq(eap_safetensors_write(q, out, st.n_tensors, &err), 0);
	snprintf(cmd, sizeof(cmd), "cp %s/config.json %s/", src, dir);
	ck_assert_int_eq(system(cmd), 0);
	free(out);
	eap_safetensors_release(&st);
}

/*
 * A BF16 checkpoint, streamed, scores exactly as its F32 copy with the
 * same weights rounded to BF16 (loaded eagerly from a file written by
 * eap_model_save: an independent path), and close to the unrounded F32
 * model: within what BF16's 8-bit mantissa moves the weights.
 */
START_TEST(test_bf16_equals_rounded_f32)
{
	char da[64], db[64], dc[64];
	double *a = malloc(20000 * sizeof(double)), *b = malloc(20000 * sizeof(double));
	double *c = malloc(20000 * sizeof(double)), worst = 0.0, big = 0.0, wrel = 0.0;
	size_t na, nb, nc, diff = 0;
	struct eap_model m;
	struct eap_err err = { 0 };

	snprintf(da, sizeof(da), "/tmp/eap-f32-XXXXXX");
	snprintf(db, sizeof(db), "/tmp/eap-bf16-XXXXXX");
	snprintf(dc, sizeof(dc), "/tmp/eap-rnd-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(da));
	ck_assert_ptr_nonnull(mkdtemp(db));
	ck_assert_ptr_nonnull(mkdtemp(dc));
	write_random_family(da, stream_cfgs[1][1], 0.4f);
	copy_as(da, db, EAP_BF16);
	ck_assert_int_eq(eap_model_load_as(&m, db, EAP_WEIGHTS_EAGER, &err), 0);
	ck_assert_msg(eap_model_save(&m, dc, &err) == 0, "%s", err.msg);
	eap_model_release(&m);
	stream_outputs(da, EAP_WEIGHTS_EAGER, a, &na);
	stream_outputs(db, EAP_WEIGHTS_STREAM, b, &nb);
	stream_outputs(dc, EAP_WEIGHTS_EAGER, c, &nc);
	ck_assert_uint_eq(na, nb);
	ck_assert_uint_eq(nb, nc);
	for (size_t i = 0; i < nb; i++) {
		diff += memcmp(&b[i], &c[i], sizeof(double)) != 0;
		worst = fmax(worst, fabs(b[i] - a[i]));
		big = fmax(big, fabs(a[i]));
	}
	wrel = worst / big;
	printf("bf16 (streamed) vs rounded f32: %zu of %zu differ; vs f32: max abs diff %.3g (%.3g of the largest)\n",
	       diff, nb, worst, wrel);
	ck_assert_msg(diff == 0, "%zu outputs differ from the rounded F32 copy", diff);
	/* the weights moved by up to 2^-9 relative: the outputs by a few
	 * times that, through 5 layers */
	ck_assert_msg(wrel > 0 && wrel < 64.0 / 512.0, "%g", wrel);
	rm_model(da);
	rm_model(db);
	rm_model(dc);
	free(a);
	free(b);
	free(c);
}
END_TEST

/*
 * A checkpoint changed under a streamed model (truncated, or rewritten in
 * place) fails the next pass that converts a layer with an error naming
 * the file, instead of reading past the end of the mapping (SIGBUS).
 */
START_TEST(test_stream_changed_file)
{
	for (int how = 0; how < 2; how++) {
		struct eap_model m;
		struct eap_fwd f = { 0 };
		struct eap_err err = { 0 };
		struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
		char dir[64], path[128];

		snprintf(dir, sizeof(dir), "/tmp/eap-chg-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		write_random_family(dir, stream_cfgs[1][1], 0.4f);
		ck_assert_int_eq(eap_model_load_as(&m, dir, EAP_WEIGHTS_STREAM, &err), 0);
		ck_assert_int_eq(eap_fwd_init(&f, &m.cfg, 3, 6, 0, &err), 0);
		ck_assert_int_eq(eap_model_forward(&m, &f, st_clean, st_len, 3, 6, &err), 0);
		snprintf(path, sizeof(path), "%s/model.safetensors", dir);
		if (how == 0)
			ck_assert_int_eq(truncate(path, 2000), 0);
		else
			ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
		/* 5 layers in 3 slots: the next pass converts again */
		ck_assert_int_lt(eap_model_forward(&m, &f, st_clean, st_len, 3, 6, &err), 0);
		printf("changed file: %s\n", err.msg);
		ck_assert_ptr_nonnull(strstr(err.msg, "model.safetensors: changed while in use"));
		ck_assert_ptr_null(strchr(err.msg, '\n'));
		eap_fwd_release(&f);
		eap_model_release(&m);
		rm_model(dir);
	}
}
END_TEST

/*
 * Score the batches bt[0..nbt-1] with meth on the full run and on the
 * per-layer one pl (dY computed, or given: the full run's, copied to dy):
 * the largest score difference over the largest score.
 */
static double per_layer_diff(struct eap_run *full, struct eap_run *pl,
			     const struct eap_batch *bt, size_t nbt,
			     enum eap_method meth, int given, float *dy)
{
	const struct eap_graph *g = full->graph;
	size_t E = g->n_fwd * g->n_bwd, d = full->model->cfg.d_model;
	struct eap_score_acc a, b;
	struct eap_err err = { 0 };
	double w = 0.0, mx = 0.0;

	ck_assert_int_eq(eap_score_acc_init(&a, g, &err), 0);
	ck_assert_int_eq(eap_score_acc_init(&b, g, &err), 0);
	for (size_t i = 0; i < nbt; i++) {
		size_t nd = g->n_fwd * bt[i].nb * bt[i].np * d;

		ck_assert_int_eq(eap_run_score(full, &bt[i], meth,
					       EAP_METRIC_LOGIT_DIFF, 2, NULL,
					       NULL, &a, &err), 0);
		/* pl makes its own dY (or reads dy) before its backwards */
		memcpy(dy, full->y_cur, nd * sizeof(float));
		for (size_t j = 0; j < nd; j++)
			pl->y_cur[j] = 1.0f;
		ck_assert_msg(eap_run_score(pl, &bt[i], meth, EAP_METRIC_LOGIT_DIFF,
					    2, given ? dy : NULL, NULL, &b,
					    &err) == 0, "%s", err.msg);
	}
	ck_assert_uint_eq(a.n_examples, b.n_examples);
	for (size_t e = 0; e < E; e++)
		if (g->edge_mask[e]) {
			w = fmax(w, fabs(a.sum[e] - b.sum[e]));
			mx = fmax(mx, fabs(a.sum[e]));
		}
	ck_assert(mx > 0);
	eap_score_acc_release(&a);
	eap_score_acc_release(&b);
	return w / mx;
}

/*
 * Per-layer contraction (eap_run_per_layer: each layer's gradients
 * contracted with dY as the backward reaches it, grad holding one
 * layer's inputs) gives the scores of the full contraction up to float
 * summation order: every gradient method (one backward, two, IG's step
 * chunks, EAP-GP's path, EAP-IG-act's cut backwards), dY computed or
 * given, on a padded batch split over 2 and 3 lanes, then a batch of one
 * row that leaves lanes idle.
 */
START_TEST(test_per_layer_contraction)
{
	static const enum eap_method meths[] = {
		EAP_METHOD_EAP, EAP_METHOD_EAP_IG, EAP_METHOD_CLEAN_CORRUPTED,
		EAP_METHOD_RELP, EAP_METHOD_EAP_GP, EAP_METHOD_EAP_IG_ACT,
	};
	enum { NM = sizeof(meths) / sizeof(meths[0]) };
	const struct eap_batch bt[2] = {
		{ 3, 6, 1, 1, st_clean, st_corr, st_len, st_ans, st_foil },
		{ 1, 6, 1, 1, st_clean + 6, st_corr + 6, st_len + 1, st_ans + 1,
		  st_foil + 1 },
	};
	int old = eap_blas_threads_get();
	double worst[NM] = { 0 };

	for (size_t f = 0; f < sizeof(stream_cfgs) / sizeof(stream_cfgs[0]); f++) {
		struct eap_model m;
		struct eap_graph g;
		struct eap_err err = { 0 };
		char dir[64];
		float *dy;

		snprintf(dir, sizeof(dir), "/tmp/eap-pl-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		write_random_family(dir, stream_cfgs[f][1], 0.4f);
		ck_assert_int_eq(eap_model_load(&m, dir, &err), 0);
		ck_assert_int_eq(eap_graph_init_layout(&g, m.cfg.n_layer, m.cfg.n_head,
						       m.cfg.arch.parallel, &err), 0);
		dy = malloc(g.n_fwd * 3 * 6 * m.cfg.d_model * sizeof(float));
		for (int T = 2; T <= 3; T++) {
			struct eap_run full, pl;

			eap_blas_threads(T); /* lanes of 2 + 1 and 1 + 1 + 1 rows */
			ck_assert_int_eq(eap_run_init(&full, &m, &g, 3, 6, &err), 0);
			ck_assert_int_eq(eap_run_init(&pl, &m, &g, 3, 6, &err), 0);
			ck_assert_int_eq(eap_run_per_layer(&pl, &err), 0);
			for (size_t k = 0; k < NM; k++)
				for (int given = 0; given < 2; given++) {
					double q = per_layer_diff(&full, &pl, bt, 2,
								  meths[k], given, dy);

					ck_assert_msg(q <= 1e-6,
						      "%s %s, %d lanes: %g of the largest score",
						      stream_cfgs[f][0],
						      eap_method_name(meths[k]), T, q);
					worst[k] = fmax(worst[k], q);
				}
			eap_run_release(&full);
			eap_run_release(&pl);
		}
		free(dy);
		eap_graph_release(&g);
		eap_model_release(&m);
		rm_model(dir);
	}
	for (size_t k = 0; k < NM; k++)
		printf("per-layer vs full contraction %s: max diff %.3g of the largest score\n",
		       eap_method_name(meths[k]), worst[k]);
	eap_blas_threads(old);
}
END_TEST

Suite *attrib_suite(void)
{
	Suite *s = suite_create("attrib");
	TCase *tg = tcase_create("graph"), *ts = tcase_create("scores");
	TCase *tm = tcase_create("stream");

	tcase_add_test(tg, test_graph_gpt2_small);
	tcase_add_test(tg, test_graph_real_configs);
	tcase_add_test(tg, test_family_gradients);
	tcase_add_test(tg, test_families_reference);
	tcase_add_test(tg, test_graph_run_tiny_word);
	tcase_add_test(tg, test_graph_run_tiny_untied);
	tcase_add_test(tg, test_graph_run_tiny_bpe);
	tcase_add_test(tg, test_gradient_finite_differences);
	tcase_add_test(ts, test_scores_eap);
	tcase_add_test(ts, test_scores_eap_ig);
	tcase_add_test(ts, test_scores_eap_ig1);
	tcase_add_test(ts, test_scores_clean_corrupted);
	tcase_add_test(ts, test_scores_exact);
	tcase_add_test(ts, test_scores_batch1);
	tcase_add_test(ts, test_scores_bpe);
	tcase_add_test(ts, test_scores_eap_ig_act);
	tcase_add_test(ts, test_relp_reference);
	tcase_add_test(ts, test_eap_gp_reference);
	tcase_add_test(ts, test_relp_equals_eap_without_norm_softmax_act);
	tcase_add_test(ts, test_ig_completeness);
	tcase_add_test(ts, test_exact_equals_full_patched_runs);
	tcase_add_test(ts, test_exact_prefix_equals_full);
	tcase_add_test(ts, test_patched_prefix_equals_full);
	tcase_add_test(tg, test_patch_all_or_none);
	tcase_add_test(tg, test_patched_many_equals_single);
	tcase_add_test(tm, test_stream_equals_eager);
	tcase_add_test(tm, test_bf16_equals_rounded_f32);
	tcase_add_test(tm, test_stream_changed_file);
	tcase_add_test(tm, test_per_layer_contraction);
	tcase_set_timeout(tg, 300);
	tcase_set_timeout(ts, 300);
	tcase_set_timeout(tm, 300);
	suite_add_tcase(s, tg);
	suite_add_tcase(s, ts);
	suite_add_tcase(s, tm);
	return s;
}
