/*
 * circuit.h - circuit selection and pruning (SPEC §8), curves of circuits
 * over sizes (SPEC §9) and DOT output for Graphviz (SPEC §11).
 *
 * A circuit is a subset of the edges of a struct eap_graph, held as an
 * (n_fwd, n_bwd) 0/1 matrix laid over the graph's edge mask.  Selection
 * ranks the edges of a score matrix (our sign, SPEC §6) by |score|, or by
 * the signed score with signed_rank; ties go to the lower flat edge index
 * u * n_bwd + v, so every selection is deterministic.
 *
 *   topn n       the n highest-ranked edges
 *   greedy n     the reference's growth from logits upwards: a max-heap of
 *                candidate edges into inputs of nodes already in the
 *                circuit (at first the edges into logits); take the best,
 *                and when its source is a new node, push the edges into
 *                that node's inputs (a head a{l}.h{h} owns its <q>, <k>,
 *                <v> inputs, m{l} its MLP input, input owns none)
 *   threshold t  every edge with |score| >= t (score >= t if signed)
 *
 * Pruning then keeps exactly the edges that lie on a path from input to
 * logits: it drops, until nothing changes, every edge whose source has no
 * path from input and every edge whose target has no path to logits.  A
 * forward node is reachable if it is input, or if a kept edge from a
 * reachable node enters one of its inputs; a backward input is alive if it
 * is logits, or if its owner has a kept edge into an alive input.  This
 * leaves no dangling node (the bug of the reference's issue #16).
 * nodes_in_graph marks the forward nodes that touch a kept edge (input as
 * soon as any edge is kept).
 *
 *   struct eap_circuit c = {0};
 *   struct eap_select sel = { .kind = EAP_SELECT_TOPN, .n = 100 };
 *   if (eap_circuit_select(&c, &graph, scores, &sel, &err) < 0) ...
 *   ... c.in_graph, c.nodes_in_graph, c.n_requested, c.n_edges ...
 *   eap_circuit_release(&c);
 *
 * Scores are borrowed.  Functions return 0 or a negative EAP_E*: EAP_EINVAL
 * (n beyond the graph's edge count, a non-finite score or threshold, an
 * empty size list), EAP_ENOMEM, EAP_EIO (DOT file not writable).
 */
#ifndef EAP_CIRCUIT_H
#define EAP_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"
#include "eap/graph.h"

enum eap_select_kind { EAP_SELECT_TOPN, EAP_SELECT_GREEDY,
		       EAP_SELECT_THRESHOLD };

struct eap_select {
	enum eap_select_kind kind;
	size_t n;          /* topn, greedy: edges to take, 0..n_edges */
	float threshold;   /* threshold: the least |score| (score) kept */
	int signed_rank;   /* rank by the signed score instead of |score| */
	int unpruned;      /* keep the chosen edges as they are (the paper's
			      top-n of its overlap with manual circuits);
			      eap_circuit_select and eap_curve_init skip
			      pruning */
};

/* "topn 100", "greedy 100 signed", "topn 5 unpruned", "threshold 0.0125" into buf. */
char *eap_select_describe(const struct eap_select *sel, char *buf, size_t n);

struct eap_circuit {
	size_t n_fwd, n_bwd;
	uint8_t *in_graph;        /* (n_fwd, n_bwd) 1 where u -> v is kept */
	uint8_t *nodes_in_graph;  /* (n_fwd) 1 where u touches a kept edge */
	size_t n_requested;       /* edges chosen before pruning */
	size_t n_edges;           /* edges kept */
};

/* An empty circuit on g's shape. */
int eap_circuit_init(struct eap_circuit *c, const struct eap_graph *g,
		     struct eap_err *err);
void eap_circuit_release(struct eap_circuit *c);

/*
 * Selection without pruning: c (initialised here) holds the chosen edges,
 * n_requested = n_edges = their number, nodes_in_graph the nodes they
 * touch.
 */
int eap_circuit_choose(struct eap_circuit *c, const struct eap_graph *g,
		       const float *scores, const struct eap_select *sel,
		       struct eap_err *err);

/*
 * Prune c in place to its fixed point (see above); sets n_edges and
 * nodes_in_graph, leaves n_requested.
 */
int eap_circuit_prune(struct eap_circuit *c, const struct eap_graph *g,
		      struct eap_err *err);

/* eap_circuit_choose, then eap_circuit_prune. */
int eap_circuit_select(struct eap_circuit *c, const struct eap_graph *g,
		       const float *scores, const struct eap_select *sel,
		       struct eap_err *err);

/*
 * Nodes touching a kept edge of in_graph (n_fwd, n_bwd) into nodes (n_fwd);
 * returns the number of kept edges.
 */
size_t eap_circuit_nodes(const struct eap_graph *g, const uint8_t *in_graph,
			 uint8_t *nodes);

/*
 * The order in which topn or greedy (sel->kind, sel->signed_rank; n is
 * ignored) takes the edges: order (g->n_edges) gets flat indices
 * u * n_bwd + v, so that the circuit of size n is its first n entries.
 * Greedy reaches every edge, since every node feeds logits.
 */
int eap_circuit_order(const struct eap_graph *g, const float *scores,
		      const struct eap_select *sel, size_t *order,
		      struct eap_err *err);

/*
 * A curve: the pruned topn or greedy circuits of K sizes, in the layout of
 * circuits.h5 (SPEC §11).  Every size must be at most g->n_edges.
 */
struct eap_curve {
	size_t K, n_fwd, n_bwd;
	uint8_t *in_graph;         /* (K, n_fwd, n_bwd) */
	uint8_t *nodes_in_graph;   /* (K, n_fwd) */
	int64_t *edges_requested;  /* (K) the sizes */
	int64_t *edges;            /* (K) edges kept after pruning */
};

int eap_curve_init(struct eap_curve *cv, const struct eap_graph *g,
		   const float *scores, const struct eap_select *sel,
		   const size_t *sizes, size_t K, struct eap_err *err);
void eap_curve_release(struct eap_curve *cv);

/*
 * The default sizes for a graph of n_edges edges: SPEC §9's 10..90 by 10
 * and 100..1000 by 100, then the 1-2-5 series 2000, 5000, 10000, 20000,
 * ..., all below n_edges, then n_edges itself: log-spaced above 1000, so
 * 24 sizes on GPT-2 small (32,491 edges) and 29 on Pythia-2.8B's graph
 * (1,591,857 edges), where SPEC §9's "then by 1000" gave 51 and 1,610.
 * *sizes is malloc'd (the caller frees it), *K its length.
 */
int eap_curve_default_sizes(size_t n_edges, size_t **sizes, size_t *K,
			    struct eap_err *err);

/*
 * The sizes of a comma-separated list of whole numbers and the words
 * 'default' (the list above), 'dense' (SPEC §9's original list: 10..90,
 * 100..1000, then every 1000 below n_edges, and n_edges) and 'mib'
 * (MIB's edge fractions 0.001 .. 1 as sizes, eap_mib_size), ascending,
 * each once.  EAP_EINVAL names a
 * malformed list; sizes beyond n_edges are left to eap_curve_init.
 */
int eap_curve_sizes(const char *list, size_t n_edges, size_t **sizes,
		    size_t *K, struct eap_err *err);

/*
 * Write the circuit as a Graphviz digraph to path (via path.tmp, renamed
 * when complete): only kept edges and the nodes they touch (plus logits),
 * heads of a layer on one rank and each MLP on its own, input at the top
 * and logits at the bottom.  Edges are coloured by target kind (q magenta,
 * k green, v blue, MLP black, logits grey) and their pen width grows
 * linearly with |score| from 0.6 to 5 at the circuit's largest |score|;
 * the tooltip holds the edge name and score (our sign).
 */
int eap_circuit_dot_write(const char *path, const struct eap_graph *g,
			  const float *scores, const uint8_t *in_graph,
			  struct eap_err *err);

#endif
