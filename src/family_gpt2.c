/*
 * family_gpt2.c - GPT-2 (model_type "gpt2", and configs without one):
 * LayerNorm before attention and MLP, learned positions, GELU (tanh),
 * Conv1D weights stored [in, out] as we keep them.
 */
#include "eap/family.h"

#include <math.h>
#include <stdio.h>

static int config(struct eap_config *c, const cJSON *root, const char *path,
		  struct eap_err *err)
{
	double eps;
	int rc;

	eap_arch_gpt2(&c->arch);
	if ((rc = eap_cfg_uint(root, "n_layer", 1, 0, &c->n_layer, path, err)) ||
	    (rc = eap_cfg_uint(root, "n_head", 1, 0, &c->n_head, path, err)) ||
	    (rc = eap_cfg_uint(root, "n_embd", 1, 0, &c->d_model, path, err)) ||
	    (rc = eap_cfg_uint(root, "n_positions", 1, 0, &c->n_ctx, path,
			       err)) ||
	    (rc = eap_cfg_uint(root, "vocab_size", 1, 0, &c->n_vocab, path,
			       err)) ||
	    (rc = eap_cfg_uint(root, "n_inner", 0, 0, &c->d_mlp, path, err)) ||
	    (rc = eap_cfg_num(root, "layer_norm_epsilon", 1e-5, 0, 1 - 1e-9,
			      &eps, path, err)))
		return rc;
	if (c->n_layer > EAP_MAX_LAYERS)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: %zu layers exceed the %d supported", path,
				   c->n_layer, EAP_MAX_LAYERS);
	if (c->d_model % c->n_head)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: n_embd %zu is not a multiple of n_head %zu",
				   path, c->d_model, c->n_head);
	c->n_kv_head = c->n_head;
	c->d_head = c->d_model / c->n_head;
	if (!c->d_mlp)
		c->d_mlp = 4 * c->d_model;
	c->arch.norm_eps = (float)eps;
	c->arch.attn_scale = 1.0f / sqrtf((float)c->d_head);
	return 0;
}

static void write(const struct eap_config *c, cJSON *root)
{
	cJSON_AddStringToObject(root, "model_type", "gpt2");
	cJSON_AddNumberToObject(root, "n_layer", (double)c->n_layer);
	cJSON_AddNumberToObject(root, "n_head", (double)c->n_head);
	cJSON_AddNumberToObject(root, "n_embd", (double)c->d_model);
	cJSON_AddNumberToObject(root, "n_positions", (double)c->n_ctx);
	cJSON_AddNumberToObject(root, "vocab_size", (double)c->n_vocab);
	cJSON_AddNumberToObject(root, "n_inner", (double)c->d_mlp);
	cJSON_AddNumberToObject(root, "layer_norm_epsilon", (double)c->ln_eps);
	if (c->bos_id >= 0)
		cJSON_AddNumberToObject(root, "bos_token_id", (double)c->bos_id);
}

static void params(struct eap_table *t)
{
	const struct eap_config *c = t->cfg;
	size_t d = c->d_model, m = c->d_mlp;
	static const struct {
		const char *name;
		enum eap_slot slot;
		int rows, cols; /* in units: 1 = d, 3 = 3d, 4 = d_mlp */
	} L[] = {
		{ "h.%zu.ln_1.weight", EAP_SLOT_LN1_W, 1, 0 },
		{ "h.%zu.ln_1.bias", EAP_SLOT_LN1_B, 1, 0 },
		{ "h.%zu.attn.c_attn.weight", EAP_SLOT_W_QKV, 1, 3 },
		{ "h.%zu.attn.c_attn.bias", EAP_SLOT_B_QKV, 3, 0 },
		{ "h.%zu.attn.c_proj.weight", EAP_SLOT_W_O, 1, 1 },
		{ "h.%zu.attn.c_proj.bias", EAP_SLOT_B_O, 1, 0 },
		{ "h.%zu.ln_2.weight", EAP_SLOT_LN2_W, 1, 0 },
		{ "h.%zu.ln_2.bias", EAP_SLOT_LN2_B, 1, 0 },
		{ "h.%zu.mlp.c_fc.weight", EAP_SLOT_W_FC, 1, 4 },
		{ "h.%zu.mlp.c_fc.bias", EAP_SLOT_B_FC, 4, 0 },
		{ "h.%zu.mlp.c_proj.weight", EAP_SLOT_W_PROJ, 4, 1 },
		{ "h.%zu.mlp.c_proj.bias", EAP_SLOT_B_PROJ, 1, 0 },
	};

	eap_table_add(t, "wte.weight", 0, c->n_vocab, d, EAP_SLOT_WTE,
		      EAP_X_COPY, 0);
	eap_table_add(t, "wpe.weight", 0, c->n_ctx, d, EAP_SLOT_WPE,
		      EAP_X_COPY, 0);
	for (size_t l = 0; l < c->n_layer; l++)
		for (size_t k = 0; k < sizeof(L) / sizeof(L[0]); k++) {
			size_t r = L[k].rows == 4 ? m : L[k].rows * d;
			size_t cc = L[k].cols == 4 ? m : L[k].cols * d;

			eap_table_add(t, L[k].name, l, r, cc, L[k].slot,
				      EAP_X_COPY, 0);
		}
	eap_table_add(t, "ln_f.weight", 0, d, 0, EAP_SLOT_LNF_W, EAP_X_COPY, 0);
	eap_table_add(t, "ln_f.bias", 0, d, 0, EAP_SLOT_LNF_B, EAP_X_COPY, 0);
	if (!c->tied)
		eap_table_add(t, "lm_head.weight", 0, c->n_vocab, d,
			      EAP_SLOT_UNEMBED, EAP_X_COPY, 0);
}

static const char *const prefixes[] = { "transformer.", NULL };

const struct eap_family eap_family_gpt2 = {
	.model_type = "gpt2", .prefixes = prefixes, .config = config,
	.params = params,
	.write = write,
};
