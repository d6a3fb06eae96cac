/*
 * inputs.c - see include/eap/inputs.h.
 */
#include "eap/inputs.h"

#include <string.h>

#include "eap/batch.h"

int eap_inputs_load(struct eap_inputs *in, const char *model_dir,
		    const char *pairs_path, struct eap_err *err)
{
	int rc;

	memset(in, 0, sizeof(*in));
	if ((rc = eap_model_load(&in->model, model_dir, err)) ||
	    (rc = eap_graph_init_layout(&in->graph, in->model.cfg.n_layer,
					in->model.cfg.n_head,
					in->model.cfg.arch.parallel, err)))
		goto fail;
	if (!pairs_path)
		return 0;
	/* the folder the model came from (a cache folder's snapshot) */
	if ((rc = eap_tokenizer_load(&in->tok, in->model.dir, err)))
		goto fail;
	if (in->tok.n_vocab > in->model.cfg.n_vocab) {
		rc = eap_err_set(err, EAP_EINVAL,
				 "%s: tokenizer has %zu tokens but the model's vocab_size is %zu",
				 model_dir, in->tok.n_vocab, in->model.cfg.n_vocab);
		goto fail;
	}
	if ((rc = eap_pairs_read(&in->pairs, pairs_path, err)) ||
	    (rc = eap_pairs_tokenize(&in->ids, &in->pairs, &in->tok, 1, err)) ||
	    (rc = eap_pairs_check_model(&in->ids, &in->pairs, &in->model.cfg,
					err)))
		goto fail;
	return 0;
fail:
	eap_inputs_release(in);
	return rc;
}

void eap_inputs_release(struct eap_inputs *in)
{
	eap_pairs_ids_release(&in->ids);
	eap_pairs_release(&in->pairs);
	eap_graph_release(&in->graph);
	eap_tokenizer_release(&in->tok);
	eap_model_release(&in->model);
	memset(in, 0, sizeof(*in));
}
