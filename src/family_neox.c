/*
 * family_neox.c - GPT-NeoX / Pythia (model_type "gpt_neox"): LayerNorm,
 * attention and MLP in parallel by default (use_parallel_residual),
 * rotary on the first rotary_pct of each head's dims, exact GELU, one
 * fused query_key_value whose rows are per head (H, 3, dh), untied
 * embed_out.
 */
#include "eap/family.h"

#include <math.h>

static int config(struct eap_config *c, const cJSON *root, const char *path,
		  struct eap_err *err)
{
	struct eap_arch *a = &c->arch;
	double eps, pct, theta;
	int rc, bias;

	if ((rc = eap_cfg_common_hf(c, root, path, err)))
		return rc;
	a->norm = EAP_NORM_LAYER;
	a->attn_pre_norm = a->mlp_pre_norm = 1;
	if ((rc = eap_cfg_num(root, "layer_norm_eps", 1e-5, 0, 1 - 1e-9, &eps,
			      path, err)) ||
	    (rc = eap_cfg_bool(root, "use_parallel_residual", 1, &a->parallel,
			       path, err)) ||
	    (rc = eap_cfg_act(root, "hidden_act", "gelu", &a->act, path, err)) ||
	    (rc = eap_cfg_bool(root, "attention_bias", 1, &bias, path, err)) ||
	    (rc = eap_cfg_num(root, "rotary_pct", 0.25, 0, 1, &pct, path, err)) ||
	    (rc = eap_cfg_num(root, "partial_rotary_factor", pct, 0, 1, &pct,
			      path, err)) ||
	    (rc = eap_cfg_num(root, "rotary_emb_base", 10000, 0, 1e12, &theta,
			      path, err)) ||
	    (rc = eap_cfg_num(root, "rope_theta", theta, 0, 1e12, &theta, path,
			      err)) ||
	    (rc = eap_cfg_rope_scaling(root, &a->rope, path, err)))
		return rc;
	if (c->n_kv_head != c->n_head)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: gpt_neox has no grouped K/V heads", path);
	a->norm_eps = (float)eps;
	a->qkv_bias = a->o_bias = bias;
	a->mlp_bias = 1;
	/* as NeoX: int(head_size * rotary_pct) */
	a->rope.dim = (size_t)((double)c->d_head * pct) & ~(size_t)1;
	a->rope.theta = theta;
	return 0;
}

static void write(const struct eap_config *c, cJSON *root)
{
	const struct eap_arch *a = &c->arch;

	eap_cfg_write_common_hf(c, root);
	cJSON_DeleteItemFromObject(root, "num_key_value_heads");
	cJSON_DeleteItemFromObject(root, "head_dim");
	cJSON_AddNumberToObject(root, "layer_norm_eps", (double)a->norm_eps);
	cJSON_AddNumberToObject(root, "rope_theta", a->rope.theta);
	cJSON_AddNumberToObject(root, "rotary_pct",
				(double)a->rope.dim / (double)c->d_head);
	cJSON_AddBoolToObject(root, "use_parallel_residual", a->parallel);
	cJSON_AddBoolToObject(root, "attention_bias", a->qkv_bias);
	cJSON_AddStringToObject(root, "hidden_act", eap_act_name(a->act, 0));
}

static void params(struct eap_table *t)
{
	const struct eap_config *c = t->cfg;
	size_t d = c->d_model, m = c->d_mlp, hd = c->n_head * c->d_head;

	eap_table_add(t, "gpt_neox.embed_in.weight", 0, c->n_vocab, d,
		      EAP_SLOT_WTE, EAP_X_COPY, 0);
	for (size_t l = 0; l < c->n_layer; l++) {
		eap_table_add(t, "gpt_neox.layers.%zu.input_layernorm.weight", l,
			      d, 0, EAP_SLOT_LN1_W, EAP_X_COPY, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.input_layernorm.bias", l,
			      d, 0, EAP_SLOT_LN1_B, EAP_X_COPY, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.attention.query_key_value.weight",
			      l, 3 * hd, d, EAP_SLOT_W_QKV, EAP_X_NEOX_QKV, 0);
		if (c->arch.qkv_bias)
			eap_table_add(t, "gpt_neox.layers.%zu.attention.query_key_value.bias",
				      l, 3 * hd, 0, EAP_SLOT_B_QKV,
				      EAP_X_NEOX_QKV_BIAS, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.attention.dense.weight", l,
			      d, hd, EAP_SLOT_W_O, EAP_X_T, 0);
		if (c->arch.o_bias)
			eap_table_add(t, "gpt_neox.layers.%zu.attention.dense.bias",
				      l, d, 0, EAP_SLOT_B_O, EAP_X_COPY, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.post_attention_layernorm.weight",
			      l, d, 0, EAP_SLOT_LN2_W, EAP_X_COPY, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.post_attention_layernorm.bias",
			      l, d, 0, EAP_SLOT_LN2_B, EAP_X_COPY, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.mlp.dense_h_to_4h.weight", l,
			      m, d, EAP_SLOT_W_FC, EAP_X_T, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.mlp.dense_h_to_4h.bias", l,
			      m, 0, EAP_SLOT_B_FC, EAP_X_COPY, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.mlp.dense_4h_to_h.weight", l,
			      d, m, EAP_SLOT_W_PROJ, EAP_X_T, 0);
		eap_table_add(t, "gpt_neox.layers.%zu.mlp.dense_4h_to_h.bias", l,
			      d, 0, EAP_SLOT_B_PROJ, EAP_X_COPY, 0);
	}
	eap_table_add(t, "gpt_neox.final_layer_norm.weight", 0, d, 0,
		      EAP_SLOT_LNF_W, EAP_X_COPY, 0);
	eap_table_add(t, "gpt_neox.final_layer_norm.bias", 0, d, 0,
		      EAP_SLOT_LNF_B, EAP_X_COPY, 0);
	if (!c->tied)
		eap_table_add(t, "embed_out.weight", 0, c->n_vocab, d,
			      EAP_SLOT_UNEMBED, EAP_X_COPY, 0);
}

const struct eap_family eap_family_gpt_neox = {
	.model_type = "gpt_neox", .config = config, .params = params,
	.write = write,
};
