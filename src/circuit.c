/*
 * circuit.c - see include/eap/circuit.h.
 */
#include "eap/circuit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/faith.h"

/* One ranked edge: its key (|score| or score) and flat index u*n_bwd+v. */
struct ranked {
	float key;
	size_t idx;
};

/* Whether a ranks before b: larger key first, then lower index. */
static int before(const struct ranked *a, const struct ranked *b)
{
	return a->key > b->key || (a->key == b->key && a->idx < b->idx);
}

static int cmp_ranked(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;

	return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/* The rank key of every edge; off-graph entries are left untouched. */
static int edge_keys(const struct eap_graph *g, const float *scores,
		     int signed_rank, float *key, struct eap_err *err)
{
	char name[128];

	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++) {
		if (!g->edge_mask[i])
			continue;
		if (!isfinite(scores[i]))
			return eap_err_set(err, EAP_EINVAL,
					   "score of edge %s is not finite (%g)",
					   eap_graph_edge_name(g, i / g->n_bwd,
							       i % g->n_bwd, name,
							       sizeof(name)),
					   (double)scores[i]);
		key[i] = signed_rank ? scores[i] : fabsf(scores[i]);
	}
	return 0;
}

char *eap_select_describe(const struct eap_select *sel, char *buf, size_t n)
{
	const char *sg = sel->signed_rank ? (sel->unpruned ? " signed unpruned"
				: " signed") : sel->unpruned ? " unpruned" : "";

	switch (sel->kind) {
	case EAP_SELECT_TOPN:
		snprintf(buf, n, "topn %zu%s", sel->n, sg);
		break;
	case EAP_SELECT_GREEDY:
		snprintf(buf, n, "greedy %zu%s", sel->n, sg);
		break;
	default: {
		/* the shortest decimal that reads back as the same float */
		char num[32];

		for (int p = 6; p <= 9; p++) {
			snprintf(num, sizeof(num), "%.*g", p, (double)sel->threshold);
			if (strtof(num, NULL) == sel->threshold)
				break;
		}
		snprintf(buf, n, "threshold %s%s", num, sg);
		break;
	}
	}
	return buf;
}

int eap_circuit_init(struct eap_circuit *c, const struct eap_graph *g,
		     struct eap_err *err)
{
	memset(c, 0, sizeof(*c));
	c->n_fwd = g->n_fwd;
	c->n_bwd = g->n_bwd;
	c->in_graph = calloc(g->n_fwd * g->n_bwd, 1);
	c->nodes_in_graph = calloc(g->n_fwd, 1);
	if (!c->in_graph || !c->nodes_in_graph) {
		eap_circuit_release(c);
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	return 0;
}

void eap_circuit_release(struct eap_circuit *c)
{
	free(c->in_graph);
	free(c->nodes_in_graph);
	memset(c, 0, sizeof(*c));
}

size_t eap_circuit_nodes(const struct eap_graph *g, const uint8_t *in_graph,
			 uint8_t *nodes)
{
	size_t n = 0, logits = eap_bwd_logits(g);

	memset(nodes, 0, g->n_fwd);
	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < g->n_bwd; v++) {
			size_t l, h;
			enum eap_bwd_kind kind;

			if (!in_graph[u * g->n_bwd + v])
				continue;
			n++;
			nodes[u] = 1;
			if (v == logits)
				continue;
			eap_graph_bwd_info(g, v, &l, &kind, &h);
			nodes[kind == EAP_BWD_MLP ? eap_fwd_mlp(g, l)
						  : eap_fwd_head(g, l, h)] = 1;
		}
	return n;
}

/*
 * One pruning pass over in_graph; returns the number of edges dropped.
 * Every edge u -> v has owner(v) > u (SPEC §5 order), so reachability is
 * settled in increasing and liveness in decreasing forward order.  reach
 * (n_fwd), alive (n_bwd) and own (n_bwd) are scratch.
 */
static size_t prune_pass(const struct eap_graph *g, uint8_t *in_graph,
			 uint8_t *reach, uint8_t *alive, const size_t *own)
{
	size_t nb = g->n_bwd, dropped = 0;

	memset(reach, 0, g->n_fwd);
	reach[0] = 1;
	for (size_t u = 0; u < g->n_fwd; u++) {
		if (!reach[u])
			continue;
		for (size_t v = 0; v < nb; v++)
			if (in_graph[u * nb + v] && own[v] < g->n_fwd)
				reach[own[v]] = 1;
	}
	memset(alive, 0, nb);
	alive[nb - 1] = 1; /* logits */
	for (size_t u = g->n_fwd; u-- > 0;) {
		int out = 0;

		for (size_t v = 0; v < nb && !out; v++)
			out = in_graph[u * nb + v] && alive[v];
		if (!out)
			continue;
		for (size_t v = 0; v < nb - 1; v++)
			if (own[v] == u)
				alive[v] = 1;
	}
	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < nb; v++) {
			uint8_t *e = &in_graph[u * nb + v];

			if (*e && (!reach[u] || !alive[v])) {
				*e = 0;
				dropped++;
			}
		}
	return dropped;
}

int eap_circuit_prune(struct eap_circuit *c, const struct eap_graph *g,
		      struct eap_err *err)
{
	uint8_t *reach = malloc(g->n_fwd), *alive = malloc(g->n_bwd);
	size_t *own = malloc(g->n_bwd * sizeof(size_t));
	int rc = 0;

	if (!reach || !alive || !own) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t v = 0; v < g->n_bwd; v++)
		own[v] = eap_graph_bwd_owner(g, v);
	/* One pass already reaches the fixed point (every edge left lies on
	 * a kept input -> logits path); looping makes that a checked
	 * property, not an assumption. */
	while (prune_pass(g, c->in_graph, reach, alive, own))
		;
	c->n_edges = eap_circuit_nodes(g, c->in_graph, c->nodes_in_graph);
out:
	free(reach);
	free(alive);
	free(own);
	return rc;
}

/* ---- selection ------------------------------------------------------------ */

/* Binary max-heap of ranked edges (the reference's heapq.merge stream). */
struct heap {
	struct ranked *a;
	size_t n;
};

static void heap_push(struct heap *h, struct ranked r)
{
	size_t i = h->n++;

	while (i > 0 && before(&r, &h->a[(i - 1) / 2])) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = r;
}

static struct ranked heap_pop(struct heap *h)
{
	struct ranked top = h->a[0], last = h->a[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->a[c + 1], &h->a[c]))
			c++;
		if (!before(&h->a[c], &last))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if (h->n)
		h->a[i] = last;
	return top;
}

/* Push every edge into backward input v. */
static void push_into(struct heap *h, const struct eap_graph *g,
		      const float *key, size_t v)
{
	for (size_t u = 0; u < g->n_fwd; u++) {
		size_t i = u * g->n_bwd + v;

		if (g->edge_mask[i])
			heap_push(h, (struct ranked){ key[i], i });
	}
}

static void greedy_order(const struct eap_graph *g, const float *key,
			 struct heap *h, uint8_t *added, size_t *order)
{
	size_t k = 0, H = g->n_head;

	push_into(h, g, key, eap_bwd_logits(g));
	while (h->n) {
		struct ranked r = heap_pop(h);
		size_t u = r.idx / g->n_bwd;

		order[k++] = r.idx;
		if (added[u] || u == 0) /* input has no inputs of its own */
			continue;
		added[u] = 1;
		long l = eap_graph_fwd_layer(g, u);
		size_t pos = (u - 1) % (H + 1);

		if (pos == H) {
			push_into(h, g, key,
				  eap_bwd_index(g, (size_t)l, EAP_BWD_MLP, 0));
		} else {
			for (int q = EAP_BWD_Q; q <= EAP_BWD_V; q++)
				push_into(h, g, key,
					  eap_bwd_index(g, (size_t)l,
							(enum eap_bwd_kind)q, pos));
		}
	}
}

int eap_circuit_order(const struct eap_graph *g, const float *scores,
		      const struct eap_select *sel, size_t *order,
		      struct eap_err *err)
{
	size_t NE = g->n_fwd * g->n_bwd;
	float *key = malloc(NE * sizeof(float));
	struct ranked *r = malloc(g->n_edges * sizeof(*r));
	uint8_t *added = calloc(g->n_fwd, 1);
	int rc = 0;

	if (!key || !r || !added) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	if (sel->kind != EAP_SELECT_TOPN && sel->kind != EAP_SELECT_GREEDY) {
		rc = eap_err_set(err, EAP_EINVAL,
				 "only topn and greedy select edges in order");
		goto out;
	}
	if ((rc = edge_keys(g, scores, sel->signed_rank, key, err)))
		goto out;
	if (sel->kind == EAP_SELECT_GREEDY) {
		struct heap h = { r, 0 };

		greedy_order(g, key, &h, added, order);
	} else {
		size_t k = 0;

		for (size_t i = 0; i < NE; i++)
			if (g->edge_mask[i])
				r[k++] = (struct ranked){ key[i], i };
		qsort(r, k, sizeof(*r), cmp_ranked);
		for (size_t i = 0; i < k; i++)
			order[i] = r[i].idx;
	}
out:
	free(key);
	free(r);
	free(added);
	return rc;
}

static int check_n(const struct eap_graph *g, size_t n, struct eap_err *err)
{
	if (n > g->n_edges)
		return eap_err_set(err, EAP_EINVAL,
				   "%zu edges requested, but the graph (%zu x %zu) "
				   "has only %zu", n, g->n_layer, g->n_head,
				   g->n_edges);
	return 0;
}

int eap_circuit_choose(struct eap_circuit *c, const struct eap_graph *g,
		       const float *scores, const struct eap_select *sel,
		       struct eap_err *err)
{
	size_t *order = NULL;
	float *key = NULL;
	int rc;

	if ((rc = eap_circuit_init(c, g, err)))
		return rc;
	if (sel->kind == EAP_SELECT_THRESHOLD) {
		if (!isfinite(sel->threshold)) {
			rc = eap_err_set(err, EAP_EINVAL, "threshold %g is not finite",
					 (double)sel->threshold);
			goto fail;
		}
		if (!(key = malloc(g->n_fwd * g->n_bwd * sizeof(float)))) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = edge_keys(g, scores, sel->signed_rank, key, err)))
			goto fail;
		for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
			c->in_graph[i] = g->edge_mask[i] && key[i] >= sel->threshold;
	} else {
		if ((rc = check_n(g, sel->n, err)))
			goto fail;
		if (!(order = malloc(g->n_edges * sizeof(size_t)))) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = eap_circuit_order(g, scores, sel, order, err)))
			goto fail;
		for (size_t k = 0; k < sel->n; k++)
			c->in_graph[order[k]] = 1;
	}
	c->n_edges = eap_circuit_nodes(g, c->in_graph, c->nodes_in_graph);
	c->n_requested = c->n_edges;
	free(order);
	free(key);
	return 0;
fail:
	free(order);
	free(key);
	eap_circuit_release(c);
	return rc;
}

int eap_circuit_select(struct eap_circuit *c, const struct eap_graph *g,
		       const float *scores, const struct eap_select *sel,
		       struct eap_err *err)
{
	int rc = eap_circuit_choose(c, g, scores, sel, err);

	if (!rc && !sel->unpruned && (rc = eap_circuit_prune(c, g, err)))
		eap_circuit_release(c);
	return rc;
}

/* ---- curves --------------------------------------------------------------- */

int eap_curve_init(struct eap_curve *cv, const struct eap_graph *g,
		   const float *scores, const struct eap_select *sel,
		   const size_t *sizes, size_t K, struct eap_err *err)
{
	size_t NE = g->n_fwd * g->n_bwd, *order = NULL;
	struct eap_circuit c = { 0 };
	int rc;

	memset(cv, 0, sizeof(*cv));
	if (!K)
		return eap_err_set(err, EAP_EINVAL, "no circuit sizes given");
	if (sel->kind == EAP_SELECT_THRESHOLD)
		return eap_err_set(err, EAP_EINVAL,
				   "curves take topn or greedy circuits");
	for (size_t k = 0; k < K; k++)
		if ((rc = check_n(g, sizes[k], err)))
			return rc;
	cv->K = K;
	cv->n_fwd = g->n_fwd;
	cv->n_bwd = g->n_bwd;
	cv->in_graph = calloc(K, NE);
	cv->nodes_in_graph = calloc(K, g->n_fwd);
	cv->edges_requested = calloc(K, sizeof(int64_t));
	cv->edges = calloc(K, sizeof(int64_t));
	order = malloc(g->n_edges * sizeof(size_t));
	if (!cv->in_graph || !cv->nodes_in_graph || !cv->edges_requested ||
	    !cv->edges || !order) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = eap_circuit_order(g, scores, sel, order, err)) ||
	    (rc = eap_circuit_init(&c, g, err)))
		goto fail;
	/* the circuit of size n is the first n of the order, as selecting
	 * it on its own would give, then pruned */
	for (size_t k = 0; k < K; k++) {
		memset(c.in_graph, 0, NE);
		for (size_t i = 0; i < sizes[k]; i++)
			c.in_graph[order[i]] = 1;
		if (sel->unpruned)
			c.n_edges = eap_circuit_nodes(g, c.in_graph,
						      c.nodes_in_graph);
		else if ((rc = eap_circuit_prune(&c, g, err)))
			goto fail;
		memcpy(cv->in_graph + k * NE, c.in_graph, NE);
		memcpy(cv->nodes_in_graph + k * g->n_fwd, c.nodes_in_graph,
		       g->n_fwd);
		cv->edges_requested[k] = (int64_t)sizes[k];
		cv->edges[k] = (int64_t)c.n_edges;
	}
	eap_circuit_release(&c);
	free(order);
	return 0;
fail:
	eap_circuit_release(&c);
	free(order);
	eap_curve_release(cv);
	return rc;
}

void eap_curve_release(struct eap_curve *cv)
{
	free(cv->in_graph);
	free(cv->nodes_in_graph);
	free(cv->edges_requested);
	free(cv->edges);
	memset(cv, 0, sizeof(*cv));
}

/*
 * SPEC §9's small sizes, 10..90 by 10 and 100..1000 by 100, then (dense)
 * every 1000 or (not dense) the 1-2-5 series 2000, 5000, 10000, 20000,
 * ..., all below n_edges, then n_edges itself.
 */
static int size_grid(size_t n_edges, int dense, size_t **sizes, size_t *K,
		     struct eap_err *err)
{
	/* 19 sizes up to 1000; then one per thousand, or 3 per decade */
	size_t cap = dense ? 21 + n_edges / 1000 : 19 + 3 * 20 + 1, k = 0, s;
	size_t *out = malloc(cap * sizeof(size_t));

	*sizes = NULL;
	*K = 0;
	if (!out)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (s = 10; s < n_edges && s <= 1000; s += s < 100 ? 10 : 100)
		out[k++] = s;
	if (dense)
		for (s = 2000; s < n_edges; s += 1000)
			out[k++] = s;
	else
		for (size_t dec = 1000; dec <= n_edges / 2; dec *= 10)
			for (int i = 0; i < 3; i++) {
				static const size_t m125[3] = { 2, 5, 10 };

				if (m125[i] * dec < n_edges)
					out[k++] = m125[i] * dec;
			}
	out[k++] = n_edges;
	*sizes = out;
	*K = k;
	return 0;
}

int eap_curve_default_sizes(size_t n_edges, size_t **sizes, size_t *K,
			    struct eap_err *err)
{
	return size_grid(n_edges, 0, sizes, K, err);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* A whole number; -1 if tok is not one. */
static int parse_count(const char *tok, size_t *out)
{
	char *end;
	unsigned long long v;

	if (*tok < '0' || *tok > '9')
		return -1;
	errno = 0;
	v = strtoull(tok, &end, 10);
	if (errno || *end || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

int eap_curve_sizes(const char *list, size_t n_edges, size_t **sizes,
		    size_t *K, struct eap_err *err)
{
	size_t *def = NULL, n_def = 0, *dense = NULL, n_dense = 0, cap = 1, k = 0;
	size_t *out = NULL;
	char *copy = NULL, *tok, *save = NULL;
	int rc = 0;

	*sizes = NULL;
	*K = 0;
	if (!*list || *list == ',' || list[strlen(list) - 1] == ',' ||
	    strstr(list, ",,"))
		return eap_err_set(err, EAP_EINVAL,
				   "sizes '%s': want whole numbers, 'default', 'dense' or 'mib', separated by commas",
				   list);
	if ((rc = size_grid(n_edges, 0, &def, &n_def, err)) ||
	    (strstr(list, "dense") &&
	     (rc = size_grid(n_edges, 1, &dense, &n_dense, err))))
		goto out;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	/* each token at most one 'mib'; the grids once each */
	cap = cap * EAP_MIB_K + n_def + n_dense;
	copy = strdup(list);
	out = malloc(cap * sizeof(size_t));
	if (!copy || !out) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "default")) {
			memcpy(out + k, def, n_def * sizeof(size_t));
			k += n_def;
			n_def = 0; /* once */
		} else if (!strcmp(tok, "dense")) {
			memcpy(out + k, dense, n_dense * sizeof(size_t));
			k += n_dense;
			n_dense = 0;
		} else if (!strcmp(tok, "mib")) {
			for (size_t j = 0; j < EAP_MIB_K; j++)
				out[k++] = eap_mib_size(j, n_edges);
		} else if (parse_count(tok, &out[k++])) {
			rc = eap_err_set(err, EAP_EINVAL,
					 "sizes '%s': '%s' is not a whole number, 'default', 'dense' or 'mib'",
					 list, tok);
			goto out;
		}
	}
	qsort(out, k, sizeof(size_t), cmp_size);
	*K = 0;
	for (size_t i = 0; i < k; i++)
		if (!*K || out[i] != out[*K - 1])
			out[(*K)++] = out[i];
	*sizes = out;
	out = NULL;
out:
	free(def);
	free(dense);
	free(copy);
	free(out);
	return rc;
}

/* ---- DOT ------------------------------------------------------------------ */

static const char *const KIND_COLOR[] = {
	[EAP_BWD_Q] = "#FF00FF", [EAP_BWD_K] = "#00A000",
	[EAP_BWD_V] = "#0000FF", [EAP_BWD_MLP] = "#000000",
	[EAP_BWD_LOGITS] = "#808080",
};

static void dot_node(FILE *f, const char *name, const char *fill)
{
	fprintf(f, "  \"%s\" [fillcolor=\"%s\"];\n", name, fill);
}

static void write_dot(FILE *f, const struct eap_graph *g, const float *scores,
		      const uint8_t *in_graph, const uint8_t *nodes)
{
	size_t nb = g->n_bwd, H = g->n_head, logits = eap_bwd_logits(g);
	double top = 0.0;
	int any = 0;
	char name[128];

	for (size_t i = 0; i < g->n_fwd * nb; i++)
		if (in_graph[i]) {
			any = 1;
			if (fabs((double)scores[i]) > top)
				top = fabs((double)scores[i]);
		}
	fprintf(f, "// circuit: %zu x %zu graph, edges coloured by target "
		"(q magenta, k green, v blue, mlp black, logits grey), width "
		"by |score|\n", g->n_layer, H);
	fputs("digraph circuit {\n"
	      "  graph [bgcolor=white, splines=true, overlap=false, "
	      "ranksep=0.6];\n"
	      "  node [shape=box, style=\"filled,rounded\", color=black, "
	      "fontname=\"Helvetica\"];\n", f);
	if (nodes[0]) {
		dot_node(f, "input", "#D9D9D9");
		fputs("  { rank=source; \"input\"; }\n", f);
	}
	for (size_t l = 0; l < g->n_layer; l++) {
		int heads = 0;

		for (size_t h = 0; h < H; h++)
			if (nodes[eap_fwd_head(g, l, h)]) {
				dot_node(f, g->fwd_names[eap_fwd_head(g, l, h)],
					 "#B3CDE3");
				heads = 1;
			}
		if (heads) {
			fprintf(f, "  subgraph layer%zu_attn { rank=same;", l);
			for (size_t h = 0; h < H; h++)
				if (nodes[eap_fwd_head(g, l, h)])
					fprintf(f, " \"%s\";",
						g->fwd_names[eap_fwd_head(g, l, h)]);
			fputs(" }\n", f);
		}
		if (nodes[eap_fwd_mlp(g, l)]) {
			dot_node(f, g->fwd_names[eap_fwd_mlp(g, l)], "#CCEBC5");
			fprintf(f, "  subgraph layer%zu_mlp { rank=same; \"%s\"; }\n",
				l, g->fwd_names[eap_fwd_mlp(g, l)]);
		}
	}
	if (any) {
		dot_node(f, "logits", "#FBB4AE");
		fputs("  { rank=sink; \"logits\"; }\n", f);
	}
	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < nb; v++) {
			size_t l, h, w;
			enum eap_bwd_kind kind;
			double s = scores[u * nb + v];
			double pw = top > 0 ? 0.6 + 4.4 * fabs(s) / top : 0.6;

			if (!in_graph[u * nb + v])
				continue;
			eap_graph_bwd_info(g, v, &l, &kind, &h);
			w = v == logits ? 0 : kind == EAP_BWD_MLP
					? eap_fwd_mlp(g, l) : eap_fwd_head(g, l, h);
			fprintf(f, "  \"%s\" -> \"%s\" [color=\"%s\", penwidth=%.3f, "
				"tooltip=\"%s %.6g\"];\n", g->fwd_names[u],
				v == logits ? "logits" : g->fwd_names[w],
				KIND_COLOR[kind], pw,
				eap_graph_edge_name(g, u, v, name, sizeof(name)), s);
		}
	fputs("}\n", f);
}

int eap_circuit_dot_write(const char *path, const struct eap_graph *g,
			  const float *scores, const uint8_t *in_graph,
			  struct eap_err *err)
{
	size_t len = strlen(path);
	char *tmp = malloc(len + 5);
	uint8_t *nodes = malloc(g->n_fwd);
	FILE *f = NULL;
	int rc = 0;

	if (!tmp || !nodes) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", 5);
	eap_circuit_nodes(g, in_graph, nodes);
	if (!(f = fopen(tmp, "w"))) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot create: %s", tmp,
				 strerror(errno));
		goto out;
	}
	write_dot(f, g, scores, in_graph, nodes);
	if (ferror(f) | fclose(f)) {
		f = NULL;
		rc = eap_err_set(err, EAP_EIO, "%s: write failed: %s", tmp,
				 strerror(errno));
		unlink(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot rename to %s: %s", tmp,
				 path, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	free(nodes);
	return rc;
}
