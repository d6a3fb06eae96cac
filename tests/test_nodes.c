/*
 * test_nodes.c - node and neuron scores (nodes.h) against the float64
 * reference of tests/reference/nodes_ref.py, the identities their
 * definitions imply, and node circuits.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eap/attrib.h"
#include "eap/circuit.h"
#include "eap/graph.h"
#include "eap/model.h"
#include "eap/nodes.h"
#include "eap/safetensors.h"
#include "eap/stability.h"
#include "test_util.h"

static const char *const metric_keys[] = { "logit_diff", "prob_diff", "kl",
					   "kl_sum" };

/* The pairs of <name>-graph.safetensors and the <name>-nodes reference. */
struct nfx {
	struct eap_model model;
	struct eap_graph graph;
	struct eap_safetensors pairs, ref;
	size_t N, P, A, d;
	int32_t *clean, *corr, *lengths, *ans, *foil;
};

static void *read_t(struct eap_safetensors *st, const char *name)
{
	const struct eap_st_tensor *t = eap_safetensors_find(st, name);
	struct eap_err err = { 0 };
	void *p;

	ck_assert_msg(t != NULL, "fixture lacks %s", name);
	p = malloc(t->numel * 4 + 1);
	if (t->dtype == EAP_I32)
		ck_assert_int_eq(eap_safetensors_read_i32(st, t, p, t->numel, &err), 0);
	else
		ck_assert_int_eq(eap_safetensors_read_f32(st, t, p, t->numel, &err), 0);
	return p;
}

static void nfx_open(struct nfx *f, const char *name)
{
	char path[256];
	struct eap_err err = { 0 };

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), FIXTURE("models/%s"), name);
	ck_assert_msg(eap_model_load(&f->model, path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_graph_init_layout(&f->graph, f->model.cfg.n_layer,
					       f->model.cfg.n_head,
					       f->model.cfg.arch.parallel, &err), 0);
	snprintf(path, sizeof(path), FIXTURE("ref/%s-graph.safetensors"), name);
	ck_assert_msg(eap_safetensors_open(&f->pairs, path, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), FIXTURE("ref/%s-nodes.safetensors"), name);
	ck_assert_msg(eap_safetensors_open(&f->ref, path, &err) == 0, "%s", err.msg);
	f->N = eap_safetensors_find(&f->pairs, "clean")->shape[0];
	f->P = eap_safetensors_find(&f->pairs, "clean")->shape[1];
	f->A = eap_safetensors_find(&f->pairs, "answers")->shape[1];
	f->d = f->model.cfg.d_model;
	f->clean = read_t(&f->pairs, "clean");
	f->corr = read_t(&f->pairs, "corrupted");
	f->lengths = read_t(&f->pairs, "lengths");
	f->ans = read_t(&f->pairs, "answers");
	f->foil = read_t(&f->pairs, "foils");
}

static void nfx_close(struct nfx *f)
{
	free(f->clean);
	free(f->corr);
	free(f->lengths);
	free(f->ans);
	free(f->foil);
	eap_safetensors_release(&f->pairs);
	eap_safetensors_release(&f->ref);
	eap_graph_release(&f->graph);
	eap_model_release(&f->model);
}

static struct eap_batch nfx_batch(const struct nfx *f, size_t s, size_t nb)
{
	return (struct eap_batch){ nb, f->P, f->A, f->A, f->clean + s * f->P,
				   f->corr + s * f->P, f->lengths + s,
				   f->ans + s * f->A, f->foil + s * f->A };
}

/*
 * One method, every metric, batches of `batch`: node and neuron scores
 * against the reference; for the gradient methods also node = sum of the
 * node's outgoing edge scores and node = sum of its neurons, both
 * computed by the same run.
 */
static void check_nodes(const char *name, enum eap_method method, int steps,
			const char *key, size_t batch)
{
	struct nfx f;
	struct eap_run r;
	struct eap_err err = { 0 };
	const struct eap_graph *g;
	int exact = method == EAP_METHOD_EXACT;

	nfx_open(&f, name);
	g = &f.graph;
	ck_assert_int_eq(eap_run_init(&r, &f.model, g, batch, f.P, &err), 0);
	for (int mi = 0; mi < 4; mi++) {
		struct eap_node_acc na;
		struct eap_score_acc acc;
		float node[64], *neuron = malloc(g->n_fwd * f.d * sizeof(float));
		float *edges = malloc(g->n_fwd * g->n_bwd * sizeof(float));
		float *rnode, *rneuron;
		char k[96];
		double scale;

		ck_assert_uint_le(g->n_fwd, 64);
		ck_assert_int_eq(eap_node_acc_init(&na, g, f.d, batch, f.P, &err), 0);
		ck_assert_int_eq(eap_score_acc_init(&acc, g, &err), 0);
		for (size_t s = 0; s < f.N; s += batch) {
			size_t nb = f.N - s < batch ? f.N - s : batch;
			struct eap_batch bt = nfx_batch(&f, s, nb);

			if (exact) {
				ck_assert_msg(eap_node_acc_add_exact(&na, &r, &bt, mi, 1,
								     &err) == 0, "%s", err.msg);
				continue;
			}
			ck_assert_msg(eap_run_score(&r, &bt, method, mi, steps, NULL,
						    NULL, &acc, &err) == 0, "%s", err.msg);
			eap_node_acc_add_grad(&na, &r, &bt, NULL);
		}
		ck_assert_uint_eq(na.n_examples, f.N);
		eap_node_acc_finish(&na, node, neuron);
		snprintf(k, sizeof(k), "node_%s_%s", key, metric_keys[mi]);
		rnode = read_t(&f.ref, k);
		snprintf(k, sizeof(k), "neuron_%s_%s", key, metric_keys[mi]);
		rneuron = read_t(&f.ref, k);
		scale = mean_abs(rnode, g->n_fwd);
		if (scale < 1e-12) {
			/* KL at the clean run: the gradient vanishes */
			for (size_t u = 0; u < g->n_fwd; u++)
				ck_assert_msg(fabsf(node[u]) < 1e-6f, "%s: %g", k, node[u]);
		} else {
			/* float32 vs float64; an exact score is a difference of
			 * two float32 metrics, so its floor is a bit higher */
			double tol = exact ? 3e-4 : 1e-4;

			ck_assert_close(node, rnode, g->n_fwd, scale, tol);
			ck_assert_close(neuron, rneuron, g->n_fwd * f.d,
					fmax(mean_abs(rneuron, g->n_fwd * f.d),
					     exact ? 2e-2 * scale : 0.0), tol);
			printf("nodes %s %s %s: node max rel err %.2e, neuron %.2e\n",
			       name, key, metric_keys[mi],
			       rel_err(node, rnode, g->n_fwd, scale, NULL),
			       rel_err(neuron, rneuron, g->n_fwd * f.d,
				       mean_abs(rneuron, g->n_fwd * f.d), NULL));
		}
		if (!exact) {
			eap_score_acc_finish(&acc, g, edges);
			for (size_t u = 0; u < g->n_fwd; u++) {
				double se = 0.0, sn = 0.0;

				for (size_t v = 0; v < g->n_bwd; v++)
					se += edges[u * g->n_bwd + v];
				for (size_t j = 0; j < f.d; j++)
					sn += neuron[u * f.d + j];
				ck_assert_msg(fabs(se - node[u]) <= 1e-5 * (fabs(se) + scale) + 1e-9,
					      "%s %s node %zu: %.8g vs edges' sum %.8g",
					      key, metric_keys[mi], u, node[u], se);
				ck_assert_msg(fabs(sn - node[u]) <= 1e-5 * (fabs(sn) + scale) + 1e-9,
					      "%s %s node %zu: %.8g vs neurons' sum %.8g",
					      key, metric_keys[mi], u, node[u], sn);
			}
		}
		free(rnode);
		free(rneuron);
		free(neuron);
		free(edges);
		eap_score_acc_release(&acc);
		eap_node_acc_release(&na);
	}
	eap_run_release(&r);
	nfx_close(&f);
}

START_TEST(test_nodes_eap) { check_nodes("tiny-word", EAP_METHOD_EAP, 1, "eap", 4); }
END_TEST
START_TEST(test_nodes_eap_ig) { check_nodes("tiny-word", EAP_METHOD_EAP_IG, 5, "eap_ig", 3); }
END_TEST
START_TEST(test_nodes_clean_corrupted)
{
	check_nodes("tiny-untied", EAP_METHOD_CLEAN_CORRUPTED, 1, "clean_corrupted", 4);
}
END_TEST
START_TEST(test_nodes_eap_ig_act)
{
	check_nodes("tiny-untied", EAP_METHOD_EAP_IG_ACT, 5, "eap_ig_act", 2);
}
END_TEST
START_TEST(test_nodes_untied_eap) { check_nodes("tiny-untied", EAP_METHOD_EAP, 1, "eap", 3); }
END_TEST
START_TEST(test_nodes_exact) { check_nodes("tiny-word", EAP_METHOD_EXACT, 1, "exact", 4); }
END_TEST
START_TEST(test_nodes_exact_untied) { check_nodes("tiny-untied", EAP_METHOD_EXACT, 1, "exact", 3); }
END_TEST

/*
 * Exact: the last MLP has one outgoing edge (into logits), so its node
 * score is that edge's exact score, computed by edge scoring.
 */
START_TEST(test_nodes_exact_single_edge)
{
	struct nfx f;
	struct eap_run r;
	struct eap_err err = { 0 };
	struct eap_node_acc na;
	struct eap_score_acc acc;
	struct eap_batch bt;
	const struct eap_graph *g;
	float node[64], *edges;
	size_t u, v, n_out = 0;

	nfx_open(&f, "tiny-word");
	g = &f.graph;
	u = eap_fwd_mlp(g, g->n_layer - 1);
	v = eap_bwd_logits(g);
	for (size_t w = 0; w < g->n_bwd; w++)
		n_out += g->edge_mask[u * g->n_bwd + w];
	ck_assert_uint_eq(n_out, 1);
	bt = nfx_batch(&f, 0, f.N);
	edges = malloc(g->n_fwd * g->n_bwd * sizeof(float));
	ck_assert_int_eq(eap_run_init(&r, &f.model, g, f.N, f.P, &err), 0);
	ck_assert_int_eq(eap_node_acc_init(&na, g, f.d, f.N, f.P, &err), 0);
	ck_assert_int_eq(eap_score_acc_init(&acc, g, &err), 0);
	ck_assert_int_eq(eap_node_acc_add_exact(&na, &r, &bt, EAP_METRIC_LOGIT_DIFF,
						0, &err), 0);
	ck_assert_int_eq(eap_run_score(&r, &bt, EAP_METHOD_EXACT, EAP_METRIC_LOGIT_DIFF,
				       1, NULL, NULL, &acc, &err), 0);
	eap_node_acc_finish(&na, node, NULL);
	eap_score_acc_finish(&acc, g, edges);
	ck_assert_msg(fabsf(node[u] - edges[u * g->n_bwd + v]) <=
			      1e-5f * (1.0f + fabsf(node[u])),
		      "m%zu: node %.8g, edge %.8g", g->n_layer - 1, node[u],
		      edges[u * g->n_bwd + v]);
	/* and a node with many edges is not their sum (patching is not
	 * linear): input's exact score differs from its edges' sum */
	{
		double se = 0.0;

		for (size_t w = 0; w < g->n_bwd; w++)
			se += edges[w];
		ck_assert_msg(fabs(se - node[0]) > 1e-3 * fabs(node[0]),
			      "input: node %.8g equals its edges' sum %.8g", node[0], se);
	}
	free(edges);
	eap_score_acc_release(&acc);
	eap_node_acc_release(&na);
	eap_run_release(&r);
	nfx_close(&f);
}
END_TEST

/* Node circuits: the top-n nodes and exactly the edges among them. */
START_TEST(test_node_circuit)
{
	struct eap_graph g;
	struct eap_err err = { 0 };
	float score[11];
	uint8_t *in;
	size_t nf, nb;

	ck_assert_int_eq(eap_graph_init(&g, 2, 4, &err), 0);
	nf = g.n_fwd;
	nb = g.n_bwd;
	ck_assert_uint_eq(nf, 11);
	for (size_t u = 0; u < nf; u++)
		score[u] = (float)u * (u % 2 ? -1.0f : 1.0f); /* |score| = u */
	in = malloc(nf * nb);
	/* top 3 by |score|: m1 (10), a1.h3 (9), a1.h2 (8) */
	ck_assert_int_eq(eap_node_circuit(&g, score, 3, 0, in, &err), 0);
	for (size_t u = 0; u < nf; u++)
		for (size_t v = 0; v < nb; v++) {
			int want = g.edge_mask[u * nb + v] && u >= 8 &&
				   (v == eap_bwd_logits(&g) ||
				    v == eap_bwd_index(&g, 1, EAP_BWD_MLP, 0));
			ck_assert_msg(in[u * nb + v] == want, "%s -> %s: %d",
				      g.fwd_names[u], g.bwd_names[v], in[u * nb + v]);
		}
	/* signed: the largest scores are 10, 8, 6 (m1, a1.h2, a1.h0) */
	ck_assert_int_eq(eap_node_circuit(&g, score, 3, 1, in, &err), 0);
	ck_assert_int_eq(in[eap_fwd_head(&g, 1, 0) * nb + eap_bwd_index(&g, 1, EAP_BWD_MLP, 0)], 1);
	ck_assert_int_eq(in[eap_fwd_head(&g, 1, 3) * nb + eap_bwd_logits(&g)], 0);
	/* all nodes: every edge */
	ck_assert_int_eq(eap_node_circuit(&g, score, nf, 0, in, &err), 0);
	ck_assert_mem_eq(in, g.edge_mask, nf * nb);
	free(in);
	eap_graph_release(&g);
}
END_TEST

/*
 * The exactness check's sample and statistics on hand-made scores:
 * exact = 1..20 on 20 sampled edges, approx the same but the largest
 * turned into -0.5: one sign differs (19/20 agree), and of the top
 * k = 2 by |exact| (20, 19) only 19 is in approx's top 2 (19, 18).
 */
START_TEST(test_check_stats)
{
	struct eap_graph g;
	struct eap_err err = { 0 };
	struct eap_check_stats st;
	uint8_t *m1, *m2;
	float *ap, *ex;
	size_t E, n = 0;

	ck_assert_int_eq(eap_graph_init(&g, 2, 4, &err), 0);
	E = g.n_fwd * g.n_bwd;
	m1 = malloc(E);
	m2 = malloc(E);
	ap = calloc(E, sizeof(float));
	ex = calloc(E, sizeof(float));
	ck_assert_int_eq(eap_check_sample(&g, 20, 5, m1, &err), 0);
	ck_assert_int_eq(eap_check_sample(&g, 20, 5, m2, &err), 0);
	ck_assert_mem_eq(m1, m2, E);
	ck_assert_int_eq(eap_check_sample(&g, 20, 6, m2, &err), 0);
	ck_assert_msg(memcmp(m1, m2, E), "seeds 5 and 6 drew the same edges");
	for (size_t i = 0; i < E; i++) {
		ck_assert(!m1[i] || g.edge_mask[i]);
		if (m1[i]) {
			n++;
			ex[i] = ap[i] = (float)n;
		}
	}
	ck_assert_uint_eq(n, 20);
	for (size_t i = E; i-- > 0;)
		if (m1[i]) {
			ap[i] = -0.5f;
			break;
		}
	ck_assert_int_eq(eap_check_stats(&g, m1, ap, ex, &st, &err), 0);
	ck_assert_uint_eq(st.n, 20);
	ck_assert_uint_eq(st.k, 2);
	ck_assert_double_eq_tol(st.sign_agreement, 0.95, 1e-12);
	ck_assert_double_eq_tol(st.topk_recall, 0.5, 1e-12);
	/* ranks: approx moves 20 to the bottom, the rest keep their order */
	{
		double d2 = 19.0 * 19.0 + 19.0; /* rank 20 -> 1, ranks 1..19 -> 2..20 */

		ck_assert_double_eq_tol(st.spearman, 1.0 - 6.0 * d2 / (20.0 * 399.0), 1e-9);
	}
	ck_assert_int_eq(eap_check_stats(&g, m1, ex, ex, &st, &err), 0);
	ck_assert_double_eq_tol(st.pearson, 1.0, 1e-12);
	ck_assert_double_eq_tol(st.topk_recall, 1.0, 1e-12);
	ck_assert_int_eq(eap_check_sample(&g, g.n_edges + 1, 5, m2, &err), EAP_EINVAL);
	free(m1);
	free(m2);
	free(ap);
	free(ex);
	eap_graph_release(&g);
}
END_TEST

Suite *nodes_suite(void)
{
	Suite *s = suite_create("nodes");
	TCase *tc = tcase_create("nodes");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_nodes_eap);
	tcase_add_test(tc, test_nodes_eap_ig);
	tcase_add_test(tc, test_nodes_clean_corrupted);
	tcase_add_test(tc, test_nodes_eap_ig_act);
	tcase_add_test(tc, test_nodes_untied_eap);
	tcase_add_test(tc, test_nodes_exact);
	tcase_add_test(tc, test_nodes_exact_untied);
	tcase_add_test(tc, test_nodes_exact_single_edge);
	tcase_add_test(tc, test_node_circuit);
	tcase_add_test(tc, test_check_stats);
	suite_add_tcase(s, tc);
	return s;
}
