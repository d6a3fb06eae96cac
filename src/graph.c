/*
 * graph.c - see include/eap/graph.h.
 */
#include "eap/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long eap_graph_fwd_layer(const struct eap_graph *g, size_t u)
{
	return u == 0 ? -1 : (long)((u - 1) / (g->n_head + 1));
}

void eap_graph_bwd_info(const struct eap_graph *g, size_t v, size_t *layer,
			enum eap_bwd_kind *kind, size_t *head)
{
	size_t per = 3 * g->n_head + 1, r = v % per;

	*layer = v / per;
	*head = 0;
	if (v == eap_bwd_logits(g)) {
		*kind = EAP_BWD_LOGITS;
	} else if (r == 3 * g->n_head) {
		*kind = EAP_BWD_MLP;
	} else {
		*kind = (enum eap_bwd_kind)(r / g->n_head);
		*head = r % g->n_head;
	}
}

size_t eap_graph_bwd_owner(const struct eap_graph *g, size_t v)
{
	size_t l, h;
	enum eap_bwd_kind kind;

	eap_graph_bwd_info(g, v, &l, &kind, &h);
	if (kind == EAP_BWD_LOGITS)
		return g->n_fwd;
	return kind == EAP_BWD_MLP ? eap_fwd_mlp(g, l) : eap_fwd_head(g, l, h);
}

/* Whether u feeds v (SPEC §5). */
static int has_edge(const struct eap_graph *g, size_t u, size_t v)
{
	size_t lv, h;
	enum eap_bwd_kind kind;
	long lu = eap_graph_fwd_layer(g, u);

	eap_graph_bwd_info(g, v, &lv, &kind, &h);
	if (kind == EAP_BWD_LOGITS)
		return 1;
	if (lu < (long)lv)
		return 1;
	/* m{l} also reads the heads of its own layer, unless the block is
	 * parallel (its MLP reads the layer's input, as attention does) */
	return kind == EAP_BWD_MLP && !g->parallel && lu == (long)lv &&
	       u != eap_fwd_mlp(g, lv);
}

int eap_graph_init(struct eap_graph *g, size_t L, size_t H,
		   struct eap_err *err)
{
	return eap_graph_init_layout(g, L, H, 0, err);
}

int eap_graph_init_layout(struct eap_graph *g, size_t L, size_t H,
			  int parallel, struct eap_err *err)
{
	static const char qkv[3] = { 'q', 'k', 'v' };
	char buf[64];

	memset(g, 0, sizeof(*g));
	if (!L || !H || L > 10000 || H > 10000)
		return eap_err_set(err, EAP_EINVAL,
				   "graph needs 1..10000 layers and heads, got %zu x %zu",
				   L, H);
	g->n_layer = L;
	g->n_head = H;
	g->parallel = !!parallel;
	g->n_fwd = 1 + L * (H + 1);
	g->n_bwd = L * (3 * H + 1) + 1;
	g->edge_mask = calloc(g->n_fwd * g->n_bwd, 1);
	g->fwd_names = calloc(g->n_fwd, sizeof(char *));
	g->bwd_names = calloc(g->n_bwd, sizeof(char *));
	if (!g->edge_mask || !g->fwd_names || !g->bwd_names)
		goto oom;
	if (!(g->fwd_names[0] = strdup("input")))
		goto oom;
	for (size_t l = 0; l < L; l++) {
		for (size_t h = 0; h < H; h++) {
			snprintf(buf, sizeof(buf), "a%zu.h%zu", l, h);
			if (!(g->fwd_names[eap_fwd_head(g, l, h)] = strdup(buf)))
				goto oom;
			for (int k = 0; k < 3; k++) {
				snprintf(buf, sizeof(buf), "a%zu.h%zu<%c>", l, h, qkv[k]);
				if (!(g->bwd_names[eap_bwd_index(g, l, (enum eap_bwd_kind)k, h)] =
					      strdup(buf)))
					goto oom;
			}
		}
		snprintf(buf, sizeof(buf), "m%zu", l);
		if (!(g->fwd_names[eap_fwd_mlp(g, l)] = strdup(buf)) ||
		    !(g->bwd_names[eap_bwd_index(g, l, EAP_BWD_MLP, 0)] = strdup(buf)))
			goto oom;
	}
	if (!(g->bwd_names[eap_bwd_logits(g)] = strdup("logits")))
		goto oom;
	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < g->n_bwd; v++)
			if (has_edge(g, u, v)) {
				g->edge_mask[u * g->n_bwd + v] = 1;
				g->n_edges++;
			}
	return 0;
oom:
	eap_graph_release(g);
	return eap_err_set(err, EAP_ENOMEM, "out of memory");
}

void eap_graph_release(struct eap_graph *g)
{
	for (size_t i = 0; g->fwd_names && i < g->n_fwd; i++)
		free(g->fwd_names[i]);
	for (size_t i = 0; g->bwd_names && i < g->n_bwd; i++)
		free(g->bwd_names[i]);
	free(g->fwd_names);
	free(g->bwd_names);
	free(g->edge_mask);
	memset(g, 0, sizeof(*g));
}

long eap_graph_find(const struct eap_graph *g, const char *name, int is_fwd)
{
	char **names = is_fwd ? g->fwd_names : g->bwd_names;
	size_t n = is_fwd ? g->n_fwd : g->n_bwd;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (long)i;
	return -1;
}

char *eap_graph_edge_name(const struct eap_graph *g, size_t u, size_t v,
			  char *buf, size_t n)
{
	snprintf(buf, n, "%s->%s", g->fwd_names[u], g->bwd_names[v]);
	return buf;
}
