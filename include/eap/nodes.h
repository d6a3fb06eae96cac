/*
 * nodes.h - node- and neuron-level attribution (issue #18): the score of
 * a forward node u, and of each of the d_model dimensions j of its
 * output (its "neurons"), as the reference library's attribute_node
 * defines them (hannamw/EAP-IG, eap/attribute_node.py), in our sign
 * (SPEC §6: the estimated change of the metric).
 *
 * Gradient methods (eap, eap-ig, eap-ig-act, clean-corrupted):
 *   neuron(u, j) = (1/N) sum_examples sum_positions dy_u[j] * go_u[j]
 *   node(u)      = sum_j neuron(u, j)
 * where dy_u = y_u(corrupted) - y_u(clean) and go_u = dm/dy_u is the
 * gradient at u's output, taken at the same runs (and averaged over the
 * same IG steps) as the method's edge scores.  y_u enters the input copy
 * x_v of every backward input v it feeds, and nothing else (SPEC §5), so
 *   go_u = sum_{v : u->v} g_v   and   node(u) = sum_v s(u->v),
 * exactly: a node's score is the sum of its outgoing edge scores, for
 * every gradient method (tested).  The reference takes the MLP's gradient
 * at the MLP's input hook instead of its output; we take it at the
 * output, as for the other nodes (README "Node and neuron scores").
 *
 * Exact: node(u) = m(every edge out of u patched) - m(clean), and
 * neuron(u, j) the same with only dimension j of u's output patched (the
 * other dimensions keep their clean values), each the mean over examples.
 * Patching is not linear, so node(u) is not the sum of u's exact edge
 * scores, nor of its neurons; where u has a single outgoing edge (the
 * last MLP, into logits) node(u) is that edge's exact score (tested).
 * Cost per batch: n_fwd patched runs for nodes, d_model * n_fwd more for
 * neurons (stacked as exact edge scoring is).
 *
 * Calling sequence (what eap-score --level does):
 *   eap_node_acc_init(&na, &graph, d_model, B, P, &err);
 *   for each batch:
 *     gradient methods: eap_run_score(&run, &b, ...);       edges as usual
 *                       eap_node_acc_add_grad(&na, &run, &b, dy);
 *     exact:            eap_node_acc_add_exact(&na, &run, &b, metric,
 *                                              neurons, &err);
 *   eap_node_acc_finish(&na, node, neuron);  means over examples
 *   eap_node_acc_release(&na);
 */
#ifndef EAP_NODES_H
#define EAP_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "eap/attrib.h"
#include "eap/err.h"
#include "eap/graph.h"

enum eap_level {
	EAP_LEVEL_EDGE,   /* edge scores only (the default) */
	EAP_LEVEL_NODE,   /* also a score per forward node */
	EAP_LEVEL_NEURON, /* also a score per node and d_model dimension */
};

/* "edge", "node", "neuron" -> enum; -1 if unknown. */
int eap_level_parse(const char *s);
const char *eap_level_name(enum eap_level l);

/* Running sums of node and neuron scores over examples, in double. */
struct eap_node_acc {
	size_t n_fwd, n_bwd, d, B, P;
	double *node;       /* (n_fwd) */
	double *neuron;     /* (n_fwd, d) */
	size_t n_examples;
	float *mask;        /* (n_fwd, n_bwd) the edge mask as 0/1 floats */
	float *gout;        /* (n_fwd, P, d) go_u of one example */
	uint8_t *keep;      /* exact: (n_fwd, n_fwd, n_bwd), circuit k without
			       the edges out of node k */
	double *mout;       /* exact: (n_fwd, B) patched metrics */
	float *yabl;        /* exact neurons: (n_fwd, B, P, d) */
};

int eap_node_acc_init(struct eap_node_acc *a, const struct eap_graph *g,
		      size_t d, size_t B, size_t P, struct eap_err *err);
void eap_node_acc_release(struct eap_node_acc *a);

/*
 * After eap_run_score of a gradient method on bt: add the batch's neuron
 * and node scores, from r->grad (n_bwd, nb, np, d) and dy (n_fwd, nb, np,
 * d), or r->y_cur when dy is NULL (as eap_run_score takes them).
 */
void eap_node_acc_add_grad(struct eap_node_acc *a, const struct eap_run *r,
			   const struct eap_batch *bt, const float *dy);

/*
 * Exact node scores of a batch (and neuron scores if neurons): runs the
 * baselines, then the patched runs.  Errors are eap_run_patched_many's.
 */
int eap_node_acc_add_exact(struct eap_node_acc *a, struct eap_run *r,
			   const struct eap_batch *bt, enum eap_metric metric,
			   int neurons, struct eap_err *err);

/* node (n_fwd) and neuron (n_fwd, d; may be NULL) = sums / n_examples. */
void eap_node_acc_finish(const struct eap_node_acc *a, float *node,
			 float *neuron);

/*
 * Node circuit (eap-prune --level node): keep the n forward nodes of
 * largest |node score| (signed if signed_rank; ties to the lower index),
 * and every edge u->v of the graph whose u is kept and whose v belongs
 * to a kept node (logits always counts as kept), into in_graph (n_fwd,
 * n_bwd).  Pruning is the caller's (eap_circuit_prune), as for edges.
 * Errors: EAP_ENOMEM.
 */
int eap_node_circuit(const struct eap_graph *g, const float *node, size_t n,
		     int signed_rank, uint8_t *in_graph, struct eap_err *err);

#endif
