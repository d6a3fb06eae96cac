/*
 * graph_json.h - interop with the reference library's Graph.to_json /
 * Graph.from_json format (hannamw/EAP-IG; SPEC §11):
 *
 *   {"cfg": {"n_layers": 12, "n_heads": 12, "parallel_attn_mlp": false,
 *            "d_model": 768},
 *    "nodes": {"input": {"in_graph": true}, "a0.h0": {...}, ...,
 *              "logits": {"in_graph": true}},
 *    "edges": {"input->a0.h0<q>": {"score": -0.000295, "in_graph": false},
 *              ...}}
 *
 * Names are those of SPEC §5 (struct eap_graph's fwd_names, bwd_names).
 * The reference attributes a loss, so its scores are the negation of ours
 * (SPEC §6): the reader negates them into our sign and the writer back.
 *
 *   struct eap_graph_json j = {0};
 *   if (eap_graph_json_read(&j, "circuit.json", 12, 12, &err) < 0) ...
 *   ... j.graph, j.scores, j.in_graph, j.nodes_in_graph ...
 *   eap_graph_json_write("out.json", &j.graph, j.d_model, j.scores,
 *                        j.in_graph, j.nodes_in_graph, &err);
 *   eap_graph_json_release(&j);
 *
 * Reader: the file must hold every edge of the graph of its cfg exactly
 * once and may list nodes (those it lists must exist; "logits" is
 * accepted and ignored, the reference's logits node is always in the
 * graph).  A node entry is {"in_graph": bool} (extra keys such as
 * "score" or "neurons" are ignored) or, as older versions wrote, a bare
 * bool.  Errors (one message naming the file, and the name where there
 * is one): EAP_EIO (unreadable), EAP_EFORMAT (malformed JSON, a missing
 * or mistyped key, an unknown node or edge name, a name that is not an
 * edge of the SPEC §5 graph, a duplicate or missing edge, a null or
 * non-finite score, parallel_attn_mlp true: that graph is not the one of
 * SPEC §5), EAP_ESHAPE (cfg disagrees with the expected n_layer x n_head;
 * pass 0, 0 to accept any), EAP_ENOMEM.
 *
 * Writer: the key order of the reference's Graph.from_model (nodes in
 * forward order, then logits; edges per layer: into the q, k, v of each
 * head from input and all earlier nodes, then into the MLP, and finally
 * into logits), Python's json.dump separators, and scores as %.9g, which
 * round-trips float32 exactly.  d_model must be positive: the
 * reference's from_json needs it.  Writes path.tmp and renames it when
 * complete.  Errors: EAP_EINVAL (d_model 0, a non-finite score, a flag
 * off the graph), EAP_EIO, EAP_ENOMEM.
 */
#ifndef EAP_GRAPH_JSON_H
#define EAP_GRAPH_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"
#include "eap/graph.h"

struct eap_graph_json {
	struct eap_graph graph;    /* of cfg n_layers x n_heads */
	size_t d_model;            /* cfg d_model, 0 if absent */
	float *scores;             /* (n_fwd, n_bwd) our sign, 0 off-graph */
	uint8_t *in_graph;         /* (n_fwd, n_bwd) edges' in_graph */
	uint8_t *nodes_in_graph;   /* (n_fwd) nodes' in_graph */
	size_t n_in_graph;         /* edges with in_graph true */
};

int eap_graph_json_read(struct eap_graph_json *j, const char *path,
			size_t n_layer, size_t n_head, struct eap_err *err);
void eap_graph_json_release(struct eap_graph_json *j);

int eap_graph_json_write(const char *path, const struct eap_graph *g,
			 size_t d_model, const float *scores,
			 const uint8_t *in_graph, const uint8_t *nodes_in_graph,
			 struct eap_err *err);

/*
 * The same with node scores in the nodes' entries, as the reference's
 * to_json writes them for a graph with node and neuron scores:
 * "a0.h1": {"in_graph": true, "score": s, "neurons": [true, ...],
 * "neurons_scores": [s0, s1, ...]} (reference sign; "neurons" and
 * "neurons_scores" only with neuron scores; every neuron of a node counts
 * as in the graph when the node is).  logits has no score.  node (n_fwd)
 * or neuron (n_fwd, d_model) may be NULL.  Errors as above, and EAP_EINVAL
 * for a non-finite node or neuron score.
 */
int eap_graph_json_write_nodes(const char *path, const struct eap_graph *g,
			       size_t d_model, const float *scores,
			       const uint8_t *in_graph,
			       const uint8_t *nodes_in_graph, const float *node,
			       const float *neuron, struct eap_err *err);

#endif
