/*
 * graph.h - the edge-level computational graph of SPEC §5, identical to
 * the reference library's (hannamw/EAP-IG).
 *
 * Forward (upstream) nodes, index order: input = 0; per layer l the heads
 * a{l}.h{h} at 1 + l(H+1) + h and the MLP m{l} at 1 + l(H+1) + H.
 * Backward (downstream) inputs: per layer l, base l(3H+1): q of head h at
 * base + h, k at base + H + h, v at base + 2H + h, the MLP input at
 * base + 3H; logits last at L(3H+1).
 * Edges: into the q/k/v of layer l from input and every node of layers
 * < l; into m{l} also from the heads of layer l (not in parallel blocks,
 * GPT-NeoX's, where the MLP reads the layer's input); into logits from
 * all.  H counts query heads: with grouped K/V (GQA) every query head
 * keeps its own q, k and v inputs, as in the reference library.
 * GPT-2 small (12x12): 157 forward nodes, 445 backward inputs, 32,491
 * edges; Pythia-2.8B (32x32, parallel): 1,591,857.
 *
 *   struct eap_graph g = {0};
 *   eap_graph_init(&g, L, H, &err);
 *   if (g.edge_mask[u * g.n_bwd + v]) ...
 *   eap_graph_release(&g);
 */
#ifndef EAP_GRAPH_H
#define EAP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"

enum eap_bwd_kind { EAP_BWD_Q, EAP_BWD_K, EAP_BWD_V, EAP_BWD_MLP,
		    EAP_BWD_LOGITS };

struct eap_graph {
	size_t n_layer, n_head;  /* L, H (query heads) */
	int parallel;            /* no m{l} <- a{l}.h* edges */
	size_t n_fwd, n_bwd;     /* 1 + L(H+1), L(3H+1) + 1 */
	size_t n_edges;
	uint8_t *edge_mask;      /* (n_fwd, n_bwd): 1 where u -> v exists */
	char **fwd_names;        /* (n_fwd): "input", "a0.h3", "m0" */
	char **bwd_names;        /* (n_bwd): "a2.h1<q>", "m0", "logits" */
};

int eap_graph_init(struct eap_graph *g, size_t n_layer, size_t n_head,
		   struct eap_err *err);
/* The same for a block layout: parallel != 0 drops m{l} <- a{l}.h*. */
int eap_graph_init_layout(struct eap_graph *g, size_t n_layer, size_t n_head,
			  int parallel, struct eap_err *err);
void eap_graph_release(struct eap_graph *g);

/* Index helpers (SPEC §5 order). */
static inline size_t eap_fwd_head(const struct eap_graph *g, size_t l,
				  size_t h)
{
	return 1 + l * (g->n_head + 1) + h;
}

static inline size_t eap_fwd_mlp(const struct eap_graph *g, size_t l)
{
	return 1 + l * (g->n_head + 1) + g->n_head;
}

/* kind is EAP_BWD_Q/K/V (with head h) or EAP_BWD_MLP (h ignored). */
static inline size_t eap_bwd_index(const struct eap_graph *g, size_t l,
				   enum eap_bwd_kind kind, size_t h)
{
	size_t base = l * (3 * g->n_head + 1);

	return kind == EAP_BWD_MLP ? base + 3 * g->n_head
				   : base + (size_t)kind * g->n_head + h;
}

static inline size_t eap_bwd_logits(const struct eap_graph *g)
{
	return g->n_layer * (3 * g->n_head + 1);
}

/*
 * Layer of forward node u: -1 for input.  The layer and kind of backward
 * input v (layer = L for logits) and, for q/k/v, its head.
 */
long eap_graph_fwd_layer(const struct eap_graph *g, size_t u);
void eap_graph_bwd_info(const struct eap_graph *g, size_t v, size_t *layer,
			enum eap_bwd_kind *kind, size_t *head);

/* The forward node whose input backward input v is; n_fwd for logits. */
size_t eap_graph_bwd_owner(const struct eap_graph *g, size_t v);

/* Index of a node name (forward if *is_fwd, else backward); -1 if none. */
long eap_graph_find(const struct eap_graph *g, const char *name, int is_fwd);

/* "u->v" into buf (n bytes).  Returns buf. */
char *eap_graph_edge_name(const struct eap_graph *g, size_t u, size_t v,
			  char *buf, size_t n);

#endif
