/*
 * inputs.h - what eap-dump, eap-score and eap-eval all start from: a
 * model directory (weights, config, tokenizer), its graph, and a pairs
 * file tokenized and checked against the model.
 *
 *   struct eap_inputs in = {0};
 *   if (eap_inputs_load(&in, model_dir, pairs_csv, &err) < 0) ...
 *   ... in.model, in.graph, in.ids ...
 *   eap_inputs_release(&in);
 */
#ifndef EAP_INPUTS_H
#define EAP_INPUTS_H

#include "eap/err.h"
#include "eap/graph.h"
#include "eap/model.h"
#include "eap/pairs.h"
#include "eap/tokenizer.h"

#define EAP_VERSION "0.1.0"

struct eap_inputs {
	struct eap_model model;
	struct eap_tokenizer tok;
	struct eap_graph graph;
	struct eap_pairs pairs;
	struct eap_pairs_ids ids;
};

/*
 * Load everything; pairs_path may be NULL (model only).  Errors name the
 * file and row.  A tokenizer whose vocabulary is larger than the model's
 * is an error.
 */
int eap_inputs_load(struct eap_inputs *in, const char *model_dir,
		    const char *pairs_path, struct eap_err *err);
void eap_inputs_release(struct eap_inputs *in);

#endif
