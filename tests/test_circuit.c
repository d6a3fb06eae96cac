/*
 * test_circuit.c - circuit selection, pruning, curves, DOT (SPEC §8, §9,
 * §11) and the reference's JSON format.
 *
 * Selection is checked against brute force on tiny graphs (an O(E) scan
 * per pick, owners found by name, not by index arithmetic); pruning
 * against the set of edges that lie on an input -> logits path, found by
 * depth-first search.  The JSON fixture tests/fixtures/reference-graphs/
 * ioi-eap-ig.json is a real circuit written by the reference library; the
 * test parses it on its own with cJSON to check the reader, and compares
 * the writer's output with it key by key.
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eap/circuit.h"
#include "eap/graph_json.h"
#include "eap/h5io.h"
#include "test_util.h"

#define IOI_JSON FIXTURE("reference-graphs/ioi-eap-ig.json")

static const char *tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "/tmp/eap-circuit-%d-%s", (int)getpid(), name);
	return buf;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fputs(s, f);
	fclose(f);
}

/* Deterministic pseudo-random numbers. */
static uint32_t next(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static float frand(uint32_t *s)
{
	return (float)next(s) / (float)(1u << 23) - 1.0f;
}

/*
 * Random scores on g's edges: continuous, or (ties) from nine values so
 * that equal keys are common and tie-breaking is exercised.
 */
static float *random_scores(const struct eap_graph *g, uint32_t seed,
			    int ties)
{
	float *s = calloc(g->n_fwd * g->n_bwd, sizeof(float));

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
		if (g->edge_mask[i])
			s[i] = ties ? (float)((int)(next(&seed) % 9) - 4) / 4.0f
				    : frand(&seed);
	return s;
}

/* Owner of backward input v by name ("a1.h0<q>" -> "a1.h0"); -1: logits. */
static long owner_by_name(const struct eap_graph *g, size_t v)
{
	char name[64];
	char *lt;

	if (!strcmp(g->bwd_names[v], "logits"))
		return -1;
	snprintf(name, sizeof(name), "%s", g->bwd_names[v]);
	if ((lt = strchr(name, '<')))
		*lt = '\0';
	return eap_graph_find(g, name, 1);
}

/* Whether edge a ranks before edge b (key desc, index asc). */
static int brute_before(const float *s, int sg, size_t a, size_t b)
{
	float ka = sg ? s[a] : fabsf(s[a]), kb = sg ? s[b] : fabsf(s[b]);

	return ka > kb || (ka == kb && a < b);
}

/* topn by repeated scans: order (n_edges) of flat indices. */
static void brute_topn(const struct eap_graph *g, const float *s, int sg,
		       size_t *order)
{
	size_t NE = g->n_fwd * g->n_bwd;
	uint8_t *taken = calloc(NE, 1);

	for (size_t k = 0; k < g->n_edges; k++) {
		size_t best = NE;

		for (size_t i = 0; i < NE; i++)
			if (g->edge_mask[i] && !taken[i] &&
			    (best == NE || brute_before(s, sg, i, best)))
				best = i;
		taken[best] = 1;
		order[k] = best;
	}
	free(taken);
}

/*
 * greedy by repeated scans: a candidate is an untaken edge into logits or
 * into an input of a node that is the source of a taken edge.
 */
static void brute_greedy(const struct eap_graph *g, const float *s, int sg,
			 size_t *order)
{
	size_t NE = g->n_fwd * g->n_bwd;
	uint8_t *taken = calloc(NE, 1), *in = calloc(g->n_fwd, 1);

	for (size_t k = 0; k < g->n_edges; k++) {
		size_t best = NE;

		for (size_t i = 0; i < NE; i++) {
			long w = owner_by_name(g, i % g->n_bwd);

			if (!g->edge_mask[i] || taken[i] || (w >= 0 && !in[w]))
				continue;
			if (best == NE || brute_before(s, sg, i, best))
				best = i;
		}
		ck_assert_uint_ne(best, NE);
		taken[best] = 1;
		in[best / g->n_bwd] = 1;
		order[k] = best;
	}
	free(taken);
	free(in);
}

/* Check order and every circuit size of kind against brute force. */
static void check_against_brute(size_t L, size_t H, enum eap_select_kind kind)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };

	ck_assert_int_eq(eap_graph_init(&g, L, H, &err), 0);
	for (uint32_t seed = 1; seed <= 8; seed++) {
		for (int sg = 0; sg < 2; sg++) {
			float *s = random_scores(&g, seed * 7919u, seed % 2);
			size_t *want = malloc(g.n_edges * sizeof(size_t));
			size_t *got = malloc(g.n_edges * sizeof(size_t));
			struct eap_select sel = { .kind = kind, .signed_rank = sg };

			(kind == EAP_SELECT_GREEDY ? brute_greedy : brute_topn)(
				&g, s, sg, want);
			ck_assert_int_eq(eap_circuit_order(&g, s, &sel, got, &err), 0);
			for (size_t k = 0; k < g.n_edges; k++)
				ck_assert_msg(got[k] == want[k],
					      "%zux%zu seed %u signed %d: pick %zu is %zu, "
					      "brute force %zu", L, H, seed, sg, k,
					      got[k], want[k]);
			/* and each circuit, chosen on its own */
			for (size_t n = 0; n <= g.n_edges; n++) {
				struct eap_circuit c = { 0 };
				size_t same = 0;

				sel.n = n;
				ck_assert_int_eq(eap_circuit_choose(&c, &g, s, &sel,
								    &err), 0);
				for (size_t k = 0; k < n; k++)
					same += c.in_graph[want[k]];
				ck_assert_uint_eq(c.n_requested, n);
				ck_assert_uint_eq(c.n_edges, n);
				ck_assert_msg(same == n, "%zux%zu n %zu: %zu of the "
					      "brute-force edges chosen", L, H, n, same);
				eap_circuit_release(&c);
			}
			free(s);
			free(want);
			free(got);
		}
	}
	eap_graph_release(&g);
}

START_TEST(test_topn_brute_force)
{
	check_against_brute(2, 2, EAP_SELECT_TOPN);
	check_against_brute(3, 2, EAP_SELECT_TOPN);
	check_against_brute(1, 1, EAP_SELECT_TOPN);
}
END_TEST

START_TEST(test_greedy_brute_force)
{
	check_against_brute(2, 2, EAP_SELECT_GREEDY);
	check_against_brute(3, 2, EAP_SELECT_GREEDY);
	check_against_brute(1, 1, EAP_SELECT_GREEDY);
}
END_TEST

/* Greedy starts at logits: its first pick is the best edge into logits. */
START_TEST(test_greedy_starts_at_logits)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_circuit c = { 0 };
	struct eap_select sel = { .kind = EAP_SELECT_GREEDY, .n = 1 };
	float *s;
	size_t best_q;

	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	s = calloc(g.n_fwd * g.n_bwd, sizeof(float));
	/* the largest score of all is on an edge into a q input, which is
	 * not a candidate until its head is in the circuit */
	best_q = 0 * g.n_bwd + eap_bwd_index(&g, 1, EAP_BWD_Q, 0);
	s[best_q] = 10.0f;
	s[eap_fwd_mlp(&g, 0) * g.n_bwd + eap_bwd_logits(&g)] = -1.0f;
	s[eap_fwd_head(&g, 1, 0) * g.n_bwd + eap_bwd_logits(&g)] = 0.5f;
	ck_assert_int_eq(eap_circuit_choose(&c, &g, s, &sel, &err), 0);
	ck_assert(c.in_graph[eap_fwd_mlp(&g, 0) * g.n_bwd + eap_bwd_logits(&g)]);
	eap_circuit_release(&c);
	/* topn takes the q edge first */
	sel.kind = EAP_SELECT_TOPN;
	ck_assert_int_eq(eap_circuit_choose(&c, &g, s, &sel, &err), 0);
	ck_assert(c.in_graph[best_q]);
	eap_circuit_release(&c);
	/* greedy 3: m0 -> logits, a1.h0 -> logits, then input -> a1.h0<q>
	 * (10), which beats the other inputs of m0 and a1.h0 (all 0) */
	sel.kind = EAP_SELECT_GREEDY;
	sel.n = 3;
	ck_assert_int_eq(eap_circuit_choose(&c, &g, s, &sel, &err), 0);
	ck_assert(c.in_graph[best_q]);
	eap_circuit_release(&c);
	free(s);
	eap_graph_release(&g);
}
END_TEST

/*
 * The edges of in that lie on an input -> logits path of in, by DFS:
 * fwd[u] = u reachable from input, bwd[v] = v's owner (or v = logits)
 * reaches logits.
 */
static void on_path(const struct eap_graph *g, const uint8_t *in,
		    uint8_t *want)
{
	size_t nb = g->n_bwd;
	uint8_t *fwd = calloc(g->n_fwd, 1), *to_logits = calloc(g->n_fwd, 1);
	size_t *stack = malloc(g->n_fwd * sizeof(size_t)), sp = 0;
	int changed = 1;

	/* forward reachability by DFS from input */
	fwd[0] = 1;
	stack[sp++] = 0;
	while (sp) {
		size_t u = stack[--sp];

		for (size_t v = 0; v < nb; v++) {
			long w = owner_by_name(g, v);

			if (in[u * nb + v] && w >= 0 && !fwd[w]) {
				fwd[w] = 1;
				stack[sp++] = (size_t)w;
			}
		}
	}
	/* co-reachability to logits, by relaxation until stable */
	while (changed) {
		changed = 0;
		for (size_t u = 0; u < g->n_fwd; u++) {
			if (to_logits[u])
				continue;
			for (size_t v = 0; v < nb && !to_logits[u]; v++) {
				long w = owner_by_name(g, v);

				if (in[u * nb + v] && (w < 0 || to_logits[w]))
					to_logits[u] = changed = 1;
			}
		}
	}
	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < nb; v++) {
			long w = owner_by_name(g, v);

			want[u * nb + v] = in[u * nb + v] && fwd[u] &&
					   (w < 0 || to_logits[w]);
		}
	free(fwd);
	free(to_logits);
	free(stack);
}

static void check_prune(size_t L, size_t H)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	static const double density[] = { 0.02, 0.1, 0.3, 0.6, 1.0 };

	ck_assert_int_eq(eap_graph_init(&g, L, H, &err), 0);
	for (size_t di = 0; di < 5; di++)
		for (uint32_t seed = 1; seed <= 6; seed++) {
			size_t NE = g.n_fwd * g.n_bwd, n = 0, kept = 0;
			struct eap_circuit c = { 0 };
			uint8_t *orig = malloc(NE), *want = malloc(NE), *again = malloc(NE);
			uint8_t *touch = malloc(g.n_fwd);
			uint32_t st = seed * 104729u + (uint32_t)di;

			ck_assert_int_eq(eap_circuit_init(&c, &g, &err), 0);
			for (size_t i = 0; i < NE; i++)
				if (g.edge_mask[i] &&
				    (double)next(&st) / (double)(1u << 24) < density[di]) {
					c.in_graph[i] = 1;
					n++;
				}
			c.n_requested = n;
			memcpy(orig, c.in_graph, NE);
			on_path(&g, orig, want);
			ck_assert_int_eq(eap_circuit_prune(&c, &g, &err), 0);
			for (size_t i = 0; i < NE; i++) {
				ck_assert_msg(c.in_graph[i] == want[i],
					      "%zux%zu density %.2f seed %u: edge %s kept "
					      "%d, on an input->logits path %d", L, H,
					      density[di], seed,
					      eap_graph_edge_name(&g, i / g.n_bwd,
								  i % g.n_bwd,
								  (char[64]){ 0 }, 64),
					      c.in_graph[i], want[i]);
				kept += want[i];
			}
			ck_assert_uint_eq(c.n_edges, kept);
			ck_assert_uint_eq(c.n_requested, n);
			/* nodes: exactly those touching a kept edge */
			memset(touch, 0, g.n_fwd);
			for (size_t i = 0; i < NE; i++)
				if (want[i]) {
					long w = owner_by_name(&g, i % g.n_bwd);

					touch[i / g.n_bwd] = 1;
					if (w >= 0)
						touch[w] = 1;
				}
			for (size_t u = 0; u < g.n_fwd; u++)
				ck_assert_msg(c.nodes_in_graph[u] == touch[u],
					      "node %s: %d, touches a kept edge: %d",
					      g.fwd_names[u], c.nodes_in_graph[u],
					      touch[u]);
			ck_assert_int_eq(c.nodes_in_graph[0], kept > 0);
			/* a fixed point: pruning again changes nothing */
			memcpy(again, c.in_graph, NE);
			ck_assert_int_eq(eap_circuit_prune(&c, &g, &err), 0);
			ck_assert_mem_eq(again, c.in_graph, NE);
			ck_assert_uint_eq(c.n_edges, kept);
			eap_circuit_release(&c);
			free(orig);
			free(want);
			free(again);
			free(touch);
		}
	eap_graph_release(&g);
}

START_TEST(test_prune_brute_force)
{
	check_prune(2, 2);
	check_prune(3, 3);
	check_prune(4, 8);
}
END_TEST

static size_t edge(const struct eap_graph *g, const char *u, const char *v)
{
	long a = eap_graph_find(g, u, 1), b = eap_graph_find(g, v, 0);

	ck_assert_msg(a >= 0 && b >= 0 && g->edge_mask[a * (long)g->n_bwd + b],
		      "%s->%s is not an edge", u, v);
	return (size_t)a * g->n_bwd + (size_t)b;
}

/*
 * Dangling nodes of the kinds the reference's issue #16 left behind: a
 * parentless head feeding logits, a childless MLP, and chains that only
 * die after a neighbour is removed.
 */
START_TEST(test_prune_dangling)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_circuit c = { 0 };
	size_t keep1, keep2;

	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	ck_assert_int_eq(eap_circuit_init(&c, &g, &err), 0);
	keep1 = edge(&g, "input", "a0.h0<q>");
	keep2 = edge(&g, "a0.h0", "logits");
	c.in_graph[keep1] = c.in_graph[keep2] = 1;
	c.in_graph[edge(&g, "a1.h1", "logits")] = 1;   /* no parent */
	c.in_graph[edge(&g, "input", "m0")] = 1;       /* m0: no child */
	c.in_graph[edge(&g, "a0.h1", "a1.h0<v>")] = 1; /* a0.h1: no parent, */
	c.in_graph[edge(&g, "a1.h0", "logits")] = 1;   /* so a1.h0 neither */
	c.in_graph[edge(&g, "input", "m1")] = 1;       /* m1: no child, */
	c.in_graph[edge(&g, "a0.h0", "m1")] = 1;       /* though a0.h0 lives */
	c.n_requested = 8;
	ck_assert_int_eq(eap_circuit_prune(&c, &g, &err), 0);
	ck_assert_uint_eq(c.n_edges, 2);
	ck_assert(c.in_graph[keep1] && c.in_graph[keep2]);
	ck_assert_uint_eq(c.n_requested, 8);
	for (size_t u = 0; u < g.n_fwd; u++)
		ck_assert_int_eq(c.nodes_in_graph[u],
				 !strcmp(g.fwd_names[u], "input") ||
				 !strcmp(g.fwd_names[u], "a0.h0"));
	/* nothing at all survives when logits is not reached */
	memset(c.in_graph, 0, g.n_fwd * g.n_bwd);
	c.in_graph[keep1] = 1;
	ck_assert_int_eq(eap_circuit_prune(&c, &g, &err), 0);
	ck_assert_uint_eq(c.n_edges, 0);
	ck_assert_int_eq(c.nodes_in_graph[0], 0);
	eap_circuit_release(&c);
	eap_graph_release(&g);
}
END_TEST

START_TEST(test_threshold_and_signed)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	float *s;

	ck_assert_int_eq(eap_graph_init(&g, 3, 2, &err), 0);
	s = random_scores(&g, 99, 1); /* ties: thresholds hit scores exactly */
	for (int sg = 0; sg < 2; sg++)
		for (int q = -5; q <= 5; q++) {
			struct eap_select sel = { .kind = EAP_SELECT_THRESHOLD,
						  .threshold = (float)q / 4.0f,
						  .signed_rank = sg };
			struct eap_circuit c = { 0 }, p = { 0 };
			size_t want = 0;

			ck_assert_int_eq(eap_circuit_choose(&c, &g, s, &sel, &err), 0);
			for (size_t i = 0; i < g.n_fwd * g.n_bwd; i++) {
				int in = g.edge_mask[i] &&
					 (sg ? s[i] : fabsf(s[i])) >= sel.threshold;
				ck_assert_int_eq(c.in_graph[i], in);
				want += (size_t)in;
			}
			ck_assert_uint_eq(c.n_requested, want);
			/* select = choose + prune */
			ck_assert_int_eq(eap_circuit_select(&p, &g, s, &sel, &err), 0);
			ck_assert_uint_eq(p.n_requested, want);
			ck_assert_int_eq(eap_circuit_prune(&c, &g, &err), 0);
			ck_assert_mem_eq(c.in_graph, p.in_graph, g.n_fwd * g.n_bwd);
			ck_assert_uint_eq(p.n_edges, c.n_edges);
			eap_circuit_release(&c);
			eap_circuit_release(&p);
		}
	/* signed topn takes the most positive scores, |score| the largest */
	{
		struct eap_select sel = { .kind = EAP_SELECT_TOPN, .n = 5,
					  .signed_rank = 1 };
		struct eap_circuit c = { 0 };

		ck_assert_int_eq(eap_circuit_choose(&c, &g, s, &sel, &err), 0);
		for (size_t i = 0; i < g.n_fwd * g.n_bwd; i++)
			if (c.in_graph[i])
				ck_assert_float_eq(s[i], 1.0f);
		eap_circuit_release(&c);
	}
	free(s);
	eap_graph_release(&g);
}
END_TEST

START_TEST(test_select_errors)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_circuit c = { 0 };
	struct eap_select sel = { .kind = EAP_SELECT_TOPN };
	float *s;

	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	s = random_scores(&g, 5, 0);
	sel.n = g.n_edges + 1;
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), EAP_EINVAL);
	ck_assert_msg(strstr(err.msg, "has only") != NULL, "%s", err.msg);
	ck_assert_ptr_null(c.in_graph);
	sel.kind = EAP_SELECT_GREEDY;
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), EAP_EINVAL);
	sel.n = g.n_edges; /* all edges is fine, and prunes to all */
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), 0);
	ck_assert_uint_eq(c.n_edges, g.n_edges);
	eap_circuit_release(&c);
	s[edge(&g, "a0.h1", "m1")] = NAN;
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), EAP_EINVAL);
	ck_assert_msg(strstr(err.msg, "a0.h1->m1") != NULL, "%s", err.msg);
	sel.kind = EAP_SELECT_THRESHOLD;
	sel.threshold = 0.5f;
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), EAP_EINVAL);
	s[edge(&g, "a0.h1", "m1")] = 0.0f;
	sel.threshold = NAN;
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), EAP_EINVAL);
	free(s);
	eap_graph_release(&g);
}
END_TEST

START_TEST(test_curve)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	float *s;
	size_t sizes[] = { 0, 3, 10, 7, 40, 0 };
	struct eap_curve cv = { 0 };

	ck_assert_int_eq(eap_graph_init(&g, 3, 2, &err), 0);
	s = random_scores(&g, 11, 0);
	sizes[5] = g.n_edges;
	for (int kind = EAP_SELECT_TOPN; kind <= EAP_SELECT_GREEDY; kind++) {
		struct eap_select sel = { .kind = (enum eap_select_kind)kind };

		ck_assert_int_eq(eap_curve_init(&cv, &g, s, &sel, sizes, 6, &err), 0);
		ck_assert_uint_eq(cv.K, 6);
		for (size_t k = 0; k < 6; k++) {
			struct eap_circuit c = { 0 };

			sel.n = sizes[k];
			ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), 0);
			ck_assert_mem_eq(cv.in_graph + k * g.n_fwd * g.n_bwd, c.in_graph,
					 g.n_fwd * g.n_bwd);
			ck_assert_mem_eq(cv.nodes_in_graph + k * g.n_fwd,
					 c.nodes_in_graph, g.n_fwd);
			ck_assert_int_eq(cv.edges_requested[k], (int64_t)sizes[k]);
			ck_assert_int_eq(cv.edges[k], (int64_t)c.n_edges);
			eap_circuit_release(&c);
		}
		ck_assert_int_eq(cv.edges[5], (int64_t)g.n_edges);
		eap_curve_release(&cv);
		sel.n = 0;
		sizes[4] = g.n_edges + 1;
		ck_assert_int_eq(eap_curve_init(&cv, &g, s, &sel, sizes, 6, &err),
				 EAP_EINVAL);
		ck_assert_msg(strstr(err.msg, "has only") != NULL, "%s", err.msg);
		ck_assert_ptr_null(cv.in_graph);
		sizes[4] = 40;
		ck_assert_int_eq(eap_curve_init(&cv, &g, s, &sel, sizes, 0, &err),
				 EAP_EINVAL);
	}
	free(s);
	eap_graph_release(&g);
}
END_TEST

/* A curve written as circuits.h5 reads back through h5io's checks. */
/*
 * unpruned: circuit k is exactly the first n_k edges of the order, its
 * nodes those the edges touch, n_edges = n_k; eap_circuit_select agrees
 */
START_TEST(test_curve_unpruned)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_curve cv = { 0 };
	struct eap_select sel = { .kind = EAP_SELECT_TOPN, .unpruned = 1 };
	size_t sizes[] = { 1, 2, 5, 30 }, *order, NE;
	uint8_t *want, *nodes;
	float *s;

	ck_assert_int_eq(eap_graph_init(&g, 3, 2, &err), 0);
	NE = g.n_fwd * g.n_bwd;
	s = random_scores(&g, 23, 0);
	order = malloc(g.n_edges * sizeof(size_t));
	want = calloc(NE, 1);
	nodes = malloc(g.n_fwd);
	ck_assert_int_eq(eap_circuit_order(&g, s, &sel, order, &err), 0);
	ck_assert_int_eq(eap_curve_init(&cv, &g, s, &sel, sizes, 4, &err), 0);
	for (size_t k = 0; k < 4; k++) {
		struct eap_circuit c = { 0 };

		memset(want, 0, NE);
		for (size_t i = 0; i < sizes[k]; i++)
			want[order[i]] = 1;
		ck_assert_mem_eq(cv.in_graph + k * NE, want, NE);
		ck_assert_int_eq(cv.edges[k], (int64_t)sizes[k]);
		eap_circuit_nodes(&g, want, nodes);
		ck_assert_mem_eq(cv.nodes_in_graph + k * g.n_fwd, nodes, g.n_fwd);
		sel.n = sizes[k];
		ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), 0);
		ck_assert_mem_eq(c.in_graph, want, NE);
		ck_assert_uint_eq(c.n_edges, sizes[k]);
		eap_circuit_release(&c);
	}
	/* a single top edge that does not reach from input: pruning would
	 * drop it; unpruned keeps it */
	ck_assert_int_eq(cv.edges[0], 1);
	eap_curve_release(&cv);
	free(order);
	free(want);
	free(nodes);
	free(s);
	eap_graph_release(&g);
}
END_TEST

START_TEST(test_curve_h5)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_curve cv = { 0 };
	struct eap_circuits r = { 0 };
	struct eap_select sel = { .kind = EAP_SELECT_GREEDY };
	struct eap_h5_meta meta;
	size_t sizes[] = { 5, 50, 0 };
	char path[256];
	float *s;

	ck_assert_int_eq(eap_graph_init(&g, 2, 4, &err), 0);
	s = random_scores(&g, 17, 0);
	sizes[2] = g.n_edges;
	ck_assert_int_eq(eap_curve_init(&cv, &g, s, &sel, sizes, 3, &err), 0);
	ck_assert_int_eq(eap_h5_meta_init(&meta, "eap-prune", "test", NULL, NULL,
					  &err), 0);
	tmp_path(path, sizeof(path), "curve.h5");
	ck_assert_msg(eap_circuits_write(path, &g, 3, 0, cv.in_graph,
					 cv.nodes_in_graph, cv.edges_requested,
					 cv.edges, "greedy 5,50,all", &meta, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(eap_circuits_read(path, &r, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(r.K, 3);
	ck_assert_mem_eq(r.in_graph, cv.in_graph, 3 * g.n_fwd * g.n_bwd);
	ck_assert_mem_eq(r.nodes_in_graph, cv.nodes_in_graph, 3 * g.n_fwd);
	ck_assert_mem_eq(r.edges, cv.edges, 3 * sizeof(int64_t));
	eap_circuits_release(&r);
	eap_curve_release(&cv);
	unlink(path);
	free(s);
	eap_graph_release(&g);
}
END_TEST

START_TEST(test_default_sizes)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	size_t *s, K;

	/* GPT-2 small: 10..90, 100..1000, 2000, 5000, 10000, 20000, 32491 */
	ck_assert_int_eq(eap_curve_default_sizes(32491, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 9 + 10 + 4 + 1);
	for (size_t k = 0; k < 9; k++)
		ck_assert_uint_eq(s[k], 10 * (k + 1));
	for (size_t k = 0; k < 10; k++)
		ck_assert_uint_eq(s[9 + k], 100 * (k + 1));
	ck_assert_uint_eq(s[19], 2000);
	ck_assert_uint_eq(s[20], 5000);
	ck_assert_uint_eq(s[21], 10000);
	ck_assert_uint_eq(s[22], 20000);
	ck_assert_uint_eq(s[23], 32491);
	free(s);
	/* 1.6M edges: the 1-2-5 series up to 1,000,000, then all */
	ck_assert_int_eq(eap_curve_default_sizes(1600000, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 19 + 9 + 1);
	ck_assert_uint_eq(s[19], 2000);
	ck_assert_uint_eq(s[26], 500000);
	ck_assert_uint_eq(s[27], 1000000);
	ck_assert_uint_eq(s[28], 1600000);
	for (size_t k = 1; k < K; k++)
		ck_assert_uint_lt(s[k - 1], s[k]);
	free(s);
	/* a series point equal to the edge count appears once */
	ck_assert_int_eq(eap_curve_default_sizes(5000, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 21);
	ck_assert_uint_eq(s[19], 2000);
	ck_assert_uint_eq(s[20], 5000);
	free(s);
	/* 4 x 8: 3H(1 + l(H+1)) into the heads, 1 + l(H+1) + H into m{l}
	 * and n_fwd = 37 into logits: 1392 + 90 + 37 = 1519 edges */
	ck_assert_int_eq(eap_graph_init(&g, 4, 8, &err), 0);
	ck_assert_uint_eq(g.n_edges, 1519);
	ck_assert_int_eq(eap_curve_default_sizes(g.n_edges, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 9 + 10 + 1);
	ck_assert_uint_eq(s[18], 1000);
	ck_assert_uint_eq(s[19], 1519);
	free(s);
	eap_graph_release(&g);
	/* capped: a size equal to the edge count appears once */
	ck_assert_int_eq(eap_curve_default_sizes(1000, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 19);
	ck_assert_uint_eq(s[17], 900);
	ck_assert_uint_eq(s[18], 1000);
	free(s);
	ck_assert_int_eq(eap_curve_default_sizes(8, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 1);
	ck_assert_uint_eq(s[0], 8);
	free(s);
}
END_TEST

START_TEST(test_curve_sizes)
{
	struct eap_err err = { 0 };
	size_t *s, K;

	/* the words expand, numbers stay, ascending and each once */
	ck_assert_int_eq(eap_curve_sizes("mib,15,2,default", 1519, &s, &K, &err), 0);
	/* default: 10..90, 100..1000, 1519; mib: 2 3 8 15 30 76 152 304 760
	 * 1519; 15 and 2 are in mib, 30 and 1519 in both */
	ck_assert_uint_eq(K, 20 + 10 - 2);
	for (size_t k = 1; k < K; k++)
		ck_assert_uint_lt(s[k - 1], s[k]);
	ck_assert_uint_eq(s[0], 2);
	ck_assert_uint_eq(s[1], 3);
	ck_assert_uint_eq(s[2], 8);
	ck_assert_uint_eq(s[K - 1], 1519);
	free(s);
	ck_assert_int_eq(eap_curve_sizes("40,5,40", 100, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 2);
	ck_assert_uint_eq(s[0], 5);
	ck_assert_uint_eq(s[1], 40);
	free(s);
	ck_assert_int_eq(eap_curve_sizes("mib,mib", 100, &s, &K, &err), 0);
	/* of 100 edges, 0.001 .. 0.01 all give 1: 1 2 5 10 20 50 100 */
	ck_assert_uint_eq(K, 7);
	free(s);
	/* dense: SPEC 9's original list, every 1000 above 1000; with
	 * default it adds 3000, 4000, 6000, ..., 19000 */
	ck_assert_int_eq(eap_curve_sizes("dense", 20500, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 19 + 19 + 1);
	ck_assert_uint_eq(s[19], 2000);
	ck_assert_uint_eq(s[37], 20000);
	ck_assert_uint_eq(s[38], 20500);
	free(s);
	ck_assert_int_eq(eap_curve_sizes("default,dense", 20500, &s, &K, &err), 0);
	ck_assert_uint_eq(K, 39);
	free(s);
	ck_assert_int_eq(eap_curve_sizes("5,,6", 100, &s, &K, &err), EAP_EINVAL);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(eap_curve_sizes("", 100, &s, &K, &err), EAP_EINVAL);
	ck_assert_int_eq(eap_curve_sizes("5,-6", 100, &s, &K, &err), EAP_EINVAL);
	ck_assert_int_eq(eap_curve_sizes("5,", 100, &s, &K, &err), EAP_EINVAL);
	ck_assert_int_eq(eap_curve_sizes("Default", 100, &s, &K, &err), EAP_EINVAL);
}
END_TEST

START_TEST(test_dot)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_circuit c = { 0 };
	struct eap_select sel = { .kind = EAP_SELECT_TOPN, .n = 12 };
	char path[256], tmp[300], line[512];
	size_t n_arrows = 0;
	float *s;
	FILE *f;

	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	s = random_scores(&g, 3, 0);
	ck_assert_int_eq(eap_circuit_select(&c, &g, s, &sel, &err), 0);
	ck_assert_uint_gt(c.n_edges, 0);
	tmp_path(path, sizeof(path), "c.dot");
	ck_assert_int_eq(eap_circuit_dot_write(path, &g, s, c.in_graph, &err), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert(!exists(tmp));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		char u[64], v[64];
		const char *want;
		size_t i;

		if (sscanf(line, "  \"%63[^\"]\" -> \"%63[^\"]\"", u, v) != 2)
			continue;
		n_arrows++;
		/* the tooltip names the edge; it must be kept */
		char *tip = strstr(line, "tooltip=\"");
		ck_assert_ptr_nonnull(tip);
		char name[128];
		ck_assert_int_eq(sscanf(tip + 9, "%127s", name), 1);
		long a = eap_graph_find(&g, u, 1);
		char *arrow = strstr(name, "->");
		ck_assert_ptr_nonnull(arrow);
		long b = eap_graph_find(&g, arrow + 2, 0);
		ck_assert(a >= 0 && b >= 0);
		i = (size_t)a * g.n_bwd + (size_t)b;
		ck_assert_msg(c.in_graph[i], "%s is not in the circuit", name);
		want = strstr(name, "<q>") ? "#FF00FF" : strstr(name, "<k>")
			? "#00A000" : strstr(name, "<v>") ? "#0000FF"
			: !strcmp(v, "logits") ? "#808080" : "#000000";
		ck_assert_msg(strstr(line, want) != NULL, "%s: colour %s", line,
			      want);
	}
	fclose(f);
	ck_assert_uint_eq(n_arrows, c.n_edges);
	unlink(path);
	/* unwritable path: an error naming it, nothing left */
	ck_assert_int_eq(eap_circuit_dot_write("/nonexistent-dir/c.dot", &g, s,
					       c.in_graph, &err), EAP_EIO);
	ck_assert_msg(strstr(err.msg, "/nonexistent-dir/c.dot") != NULL, "%s",
		      err.msg);
	eap_circuit_release(&c);
	free(s);
	eap_graph_release(&g);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------ */

/* Index of "u->v" by name lookup alone (independent of the reader). */
static size_t edge_by_name(const struct eap_graph *g, const char *name)
{
	char src[64];
	const char *arrow = strstr(name, "->");
	long a, b;

	ck_assert_ptr_nonnull(arrow);
	snprintf(src, sizeof(src), "%.*s", (int)(arrow - name), name);
	a = eap_graph_find(g, src, 1);
	b = eap_graph_find(g, arrow + 2, 0);
	ck_assert_msg(a >= 0 && b >= 0, "%s: unknown name", name);
	return (size_t)a * g->n_bwd + (size_t)b;
}

START_TEST(test_json_import_fixture)
{
	struct eap_err err = { 0 };
	struct eap_graph_json j = { 0 };
	char *text = read_text(IOI_JSON);
	cJSON *root = cJSON_Parse(text), *it;
	size_t NE, n = 0, n_in = 0, n_nodes = 0;
	uint8_t *seen;

	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(eap_graph_json_read(&j, IOI_JSON, 12, 12, &err), 0);
	ck_assert_uint_eq(j.graph.n_edges, 32491);
	ck_assert_uint_eq(j.n_in_graph, 756);
	ck_assert_uint_eq(j.d_model, 768);
	NE = j.graph.n_fwd * j.graph.n_bwd;
	seen = calloc(NE, 1);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(root, "edges")) {
		size_t i = edge_by_name(&j.graph, it->string);
		float ref = (float)cJSON_GetObjectItem(it, "score")->valuedouble;
		int in = cJSON_IsTrue(cJSON_GetObjectItem(it, "in_graph"));

		ck_assert(j.graph.edge_mask[i] && !seen[i]);
		seen[i] = 1;
		/* our sign is the reference's negated (SPEC §6) */
		ck_assert_msg(j.scores[i] == -ref, "%s: %.9g vs -(%.9g)",
			      it->string, (double)j.scores[i], (double)ref);
		ck_assert_int_eq(j.in_graph[i], in);
		n++;
		n_in += (size_t)in;
	}
	ck_assert_uint_eq(n, 32491);
	ck_assert_uint_eq(n_in, 756);
	for (size_t i = 0; i < NE; i++)
		if (!j.graph.edge_mask[i])
			ck_assert(j.scores[i] == 0.0f && !j.in_graph[i]);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(root, "nodes")) {
		long u = eap_graph_find(&j.graph, it->string, 1);
		int in = cJSON_IsTrue(cJSON_GetObjectItem(it, "in_graph"));

		if (!strcmp(it->string, "logits"))
			continue;
		ck_assert_msg(u >= 0, "node %s", it->string);
		ck_assert_int_eq(j.nodes_in_graph[u], in);
		n_nodes++;
	}
	ck_assert_uint_eq(n_nodes, 157);
	free(seen);
	cJSON_Delete(root);
	free(text);
	eap_graph_json_release(&j);
}
END_TEST

/*
 * The reference's circuit is topn 800 by |score|, pruned: ours gives the
 * same 756 edges and nodes, and pruning the file's circuit changes nothing.
 */
START_TEST(test_json_fixture_is_our_selection)
{
	struct eap_err err = { 0 };
	struct eap_graph_json j = { 0 };
	struct eap_circuit c = { 0 };
	struct eap_select sel = { .kind = EAP_SELECT_TOPN, .n = 800 };
	size_t NE;

	ck_assert_int_eq(eap_graph_json_read(&j, IOI_JSON, 0, 0, &err), 0);
	NE = j.graph.n_fwd * j.graph.n_bwd;
	ck_assert_int_eq(eap_circuit_select(&c, &j.graph, j.scores, &sel, &err), 0);
	ck_assert_uint_eq(c.n_requested, 800);
	ck_assert_uint_eq(c.n_edges, 756);
	ck_assert_mem_eq(c.in_graph, j.in_graph, NE);
	ck_assert_mem_eq(c.nodes_in_graph, j.nodes_in_graph, j.graph.n_fwd);
	memcpy(c.in_graph, j.in_graph, NE);
	ck_assert_int_eq(eap_circuit_prune(&c, &j.graph, &err), 0);
	ck_assert_uint_eq(c.n_edges, 756);
	ck_assert_mem_eq(c.in_graph, j.in_graph, NE);
	eap_circuit_release(&c);
	eap_graph_json_release(&j);
}
END_TEST

/* Export of the import: the same keys in the same order, scores, flags. */
START_TEST(test_json_round_trip)
{
	struct eap_err err = { 0 };
	struct eap_graph_json j = { 0 };
	char path[256], tmp[300];
	char *ta = read_text(IOI_JSON), *tb;
	cJSON *a, *b, *ea, *eb, *x, *y;
	double worst = 0.0;
	size_t n = 0;

	ck_assert_int_eq(eap_graph_json_read(&j, IOI_JSON, 12, 12, &err), 0);
	tmp_path(path, sizeof(path), "rt.json");
	ck_assert_int_eq(eap_graph_json_write(path, &j.graph, j.d_model, j.scores,
					      j.in_graph, j.nodes_in_graph, &err),
			 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ck_assert(!exists(tmp));
	tb = read_text(path);
	a = cJSON_Parse(ta);
	b = cJSON_Parse(tb);
	ck_assert(a && b);
	/* cfg: the same four keys and values */
	x = cJSON_GetObjectItem(a, "cfg");
	y = cJSON_GetObjectItem(b, "cfg");
	ck_assert_int_eq(cJSON_GetArraySize(x), cJSON_GetArraySize(y));
	cJSON_ArrayForEach(ea, x)
		ck_assert_msg(cJSON_Compare(ea, cJSON_GetObjectItem(y, ea->string), 1),
			      "cfg %s differs", ea->string);
	/* nodes: same names, order and flags */
	x = cJSON_GetObjectItem(a, "nodes");
	y = cJSON_GetObjectItem(b, "nodes");
	ck_assert_int_eq(cJSON_GetArraySize(x), 158);
	ck_assert_int_eq(cJSON_GetArraySize(y), 158);
	for (ea = x->child, eb = y->child; ea && eb; ea = ea->next, eb = eb->next) {
		ck_assert_str_eq(ea->string, eb->string);
		ck_assert(cJSON_Compare(ea, eb, 1));
	}
	/* edges: same names in the reference's order, float32-equal scores */
	x = cJSON_GetObjectItem(a, "edges");
	y = cJSON_GetObjectItem(b, "edges");
	for (ea = x->child, eb = y->child; ea && eb; ea = ea->next, eb = eb->next) {
		float sa = (float)cJSON_GetObjectItem(ea, "score")->valuedouble;
		float sb = (float)cJSON_GetObjectItem(eb, "score")->valuedouble;

		ck_assert_str_eq(ea->string, eb->string);
		if (fabs((double)sa - (double)sb) > worst)
			worst = fabs((double)sa - (double)sb);
		ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(ea, "in_graph")),
				 cJSON_IsTrue(cJSON_GetObjectItem(eb, "in_graph")));
		n++;
	}
	ck_assert(!ea && !eb);
	ck_assert_uint_eq(n, 32491);
	ck_assert_msg(worst == 0.0, "max score difference %g", worst);
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(ta);
	free(tb);
	unlink(path);
	/* d_model 0 would make a file the reference cannot read */
	ck_assert_int_eq(eap_graph_json_write(path, &j.graph, 0, j.scores,
					      j.in_graph, j.nodes_in_graph, &err),
			 EAP_EINVAL);
	ck_assert(!exists(path) && !exists(tmp));
	eap_graph_json_release(&j);
}
END_TEST

/* s with the first occurrence of from replaced by to (malloc'd). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	ck_assert_msg(p != NULL, "'%s' not in the text", from);
	r = malloc(strlen(s) + strlen(to) + 1);
	memcpy(r, s, (size_t)(p - s));
	strcpy(r + (p - s), to);
	strcat(r, p + strlen(from));
	return r;
}

/* Reading a JSON text fails with code, one line naming path and want. */
static void expect_json_error(const char *text, size_t L, size_t H, int code,
			      const char *want)
{
	struct eap_err err = { 0 };
	struct eap_graph_json j = { 0 };
	char path[256];

	tmp_path(path, sizeof(path), "bad.json");
	write_text(path, text);
	ck_assert_int_eq(eap_graph_json_read(&j, path, L, H, &err), code);
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, want) &&
		      !strchr(err.msg, '\n'), "message '%s' lacks '%s'", err.msg,
		      want);
	ck_assert_ptr_null(j.scores);
	unlink(path);
}

START_TEST(test_json_errors)
{
	struct eap_err err = { 0 };
	struct eap_graph g = { 0 };
	struct eap_graph_json j = { 0 };
	char path[256], *good, *bad;
	float *s;
	uint8_t *in, *nodes;

	/* a good 1 x 2 file, all scores 0 so the text is predictable */
	ck_assert_int_eq(eap_graph_init(&g, 1, 2, &err), 0);
	s = calloc(g.n_fwd * g.n_bwd, sizeof(float));
	in = calloc(g.n_fwd * g.n_bwd, 1);
	nodes = calloc(g.n_fwd, 1);
	tmp_path(path, sizeof(path), "good.json");
	ck_assert_int_eq(eap_graph_json_write(path, &g, 8, s, in, nodes, &err), 0);
	good = read_text(path);
	ck_assert_int_eq(eap_graph_json_read(&j, path, 1, 2, &err), 0);
	ck_assert_uint_eq(j.graph.n_edges, g.n_edges);
	for (size_t i = 0; i < g.n_fwd * g.n_bwd; i++) /* "0" reads as +0 */
		ck_assert(j.scores[i] == 0.0f && !signbit(j.scores[i]));
	eap_graph_json_release(&j);
	unlink(path);

	/* malformed: truncated, trailing data, not an object */
	bad = strdup(good);
	bad[strlen(bad) / 2] = '\0';
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "malformed JSON");
	free(bad);
	bad = malloc(strlen(good) + 4);
	sprintf(bad, "%s{}", good);
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "trailing data");
	free(bad);
	expect_json_error("[1, 2]", 0, 0, EAP_EFORMAT, "not a JSON object");
	expect_json_error("", 0, 0, EAP_EFORMAT, "malformed JSON");
	/* unknown names */
	bad = replace(good, "\"a0.h1->logits\"", "\"a0.h7->logits\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "unknown node \"a0.h7\"");
	free(bad);
	bad = replace(good, "\"input->m0\"", "\"input->m0<q>\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "unknown node \"m0<q>\"");
	free(bad);
	bad = replace(good, "\"input->m0\"", "\"input=>m0\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "has no \"->\"");
	free(bad);
	bad = replace(good, "\"a0.h1\": {", "\"a00.h1\": {");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "unknown node \"a00.h1\"");
	free(bad);
	/* a real name pair that is not an edge of SPEC §5 */
	bad = replace(good, "\"input->m0\"", "\"m0->a0.h0<q>\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "\"m0->a0.h0<q>\" is not an edge");
	free(bad);
	/* duplicate and missing edges */
	bad = replace(good, "\"input->m0\"", "\"input->logits\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "\"input->logits\" appears twice");
	free(bad);
	bad = replace(good, "\"input->m0\": {\"score\": 0, \"in_graph\": false}, ", "");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "the first is \"input->m0\"");
	free(bad);
	/* bad values */
	bad = replace(good, "\"input->m0\": {\"score\": 0", "\"input->m0\": {\"score\": null");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "\"input->m0\" has no finite");
	free(bad);
	bad = replace(good, "\"input->m0\": {\"score\": 0", "\"input->m0\": {\"score\": 1e300");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "\"input->m0\" has no finite");
	free(bad);
	bad = replace(good, "\"input->m0\": {\"score\": 0, \"in_graph\": false",
		      "\"input->m0\": {\"score\": 0, \"in_graph\": 1");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "no bool \"in_graph\"");
	free(bad);
	/* cfg: disagreeing shape, parallel attention/MLP, missing keys */
	expect_json_error(good, 2, 2, EAP_ESHAPE, "cfg is 1 x 2 (n_layers x "
			  "n_heads), expected 2 x 2");
	bad = replace(good, "\"parallel_attn_mlp\": false", "\"parallel_attn_mlp\": true");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "parallel_attn_mlp");
	free(bad);
	bad = replace(good, "\"n_heads\": 2", "\"n_heads\": 2.5");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "\"n_heads\" is not a positive");
	free(bad);
	bad = replace(good, "\"cfg\"", "\"config\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "no \"cfg\" object");
	free(bad);
	bad = replace(good, "\"edges\"", "\"edgez\"");
	expect_json_error(bad, 0, 0, EAP_EFORMAT, "no \"edges\" object");
	free(bad);
	/* a node entry as a bare bool (older format) is fine */
	bad = replace(good, "\"a0.h1\": {\"in_graph\": false}", "\"a0.h1\": true");
	tmp_path(path, sizeof(path), "old.json");
	write_text(path, bad);
	ck_assert_int_eq(eap_graph_json_read(&j, path, 1, 2, &err), 0);
	ck_assert_int_eq(j.nodes_in_graph[eap_fwd_head(&j.graph, 0, 1)], 1);
	eap_graph_json_release(&j);
	unlink(path);
	free(bad);
	/* missing file */
	ck_assert_int_eq(eap_graph_json_read(&j, "/nonexistent.json", 0, 0, &err),
			 EAP_EIO);
	ck_assert_msg(strstr(err.msg, "/nonexistent.json") != NULL, "%s", err.msg);

	free(good);
	free(s);
	free(in);
	free(nodes);
	eap_graph_release(&g);
}
END_TEST

Suite *circuit_suite(void)
{
	Suite *s = suite_create("circuit");
	TCase *tc = tcase_create("select");
	TCase *tj = tcase_create("json");

	tcase_add_test(tc, test_topn_brute_force);
	tcase_add_test(tc, test_greedy_brute_force);
	tcase_add_test(tc, test_greedy_starts_at_logits);
	tcase_add_test(tc, test_prune_brute_force);
	tcase_add_test(tc, test_prune_dangling);
	tcase_add_test(tc, test_threshold_and_signed);
	tcase_add_test(tc, test_select_errors);
	tcase_add_test(tc, test_curve);
	tcase_add_test(tc, test_curve_h5);
	tcase_add_test(tc, test_default_sizes);
	tcase_add_test(tc, test_curve_sizes);
	tcase_add_test(tc, test_dot);
	tcase_add_test(tc, test_curve_unpruned);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(tj, test_json_import_fixture);
	tcase_add_test(tj, test_json_fixture_is_our_selection);
	tcase_add_test(tj, test_json_round_trip);
	tcase_add_test(tj, test_json_errors);
	tcase_set_timeout(tj, 120);
	suite_add_tcase(s, tj);
	return s;
}
