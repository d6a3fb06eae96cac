/*
 * cost.h - what a scoring method costs (issue 18, `make fig-methods`):
 * forward and backward passes and floating-point operations of one
 * example, counted from the model's shape and the method's definition
 * (README "Comparing the methods"), not measured.
 *
 * Passes are full-pass equivalents: a pass that runs only part of the
 * model (EAP-IG on activations, exact patching's patched runs, which
 * reuse the unchanged prefix) counts the fraction of a full pass's FLOPs
 * it runs.  FLOPs count the matrix products and the attention core
 * (2 per multiply-add); norms and activations are left out.
 */
#ifndef EAP_COST_H
#define EAP_COST_H

#include <stddef.h>
#include <stdint.h>

#include "eap/attrib.h"
#include "eap/graph.h"
#include "eap/model.h"

struct eap_cost {
	double forwards, backwards; /* full-pass equivalents */
	double flops;
	size_t examples;
};

/*
 * Add the cost of scoring nb examples of np positions with method (steps
 * as eap_run_score's) into *c; mask (n_fwd, n_bwd) the edges exact
 * patching scores (NULL: the graph's); p0 the shared prefix exact
 * patching's copies skip (eap_batch_prefix of the batch, or
 * eap_prefix_len of one example; 0: none).
 */
void eap_cost_add(struct eap_cost *c, const struct eap_config *cfg,
		  const struct eap_graph *g, enum eap_method method,
		  int steps, const uint8_t *mask, size_t nb, size_t np,
		  size_t p0);

#endif
