/*
 * family_olmo2.c - OLMo 2 ("olmo2"): no norm before attention or MLP, an
 * RMSNorm on each of their outputs before the residual add, and an
 * RMSNorm over the whole of q (H d_head) and of k (H_kv d_head);
 * otherwise as Llama.
 */
#include "eap/family.h"

static int config(struct eap_config *c, const cJSON *root, const char *path,
		  struct eap_err *err)
{
	struct eap_arch *a = &c->arch;
	double eps, theta;
	int rc;

	if ((rc = eap_cfg_common_hf(c, root, path, err)))
		return rc;
	a->norm = EAP_NORM_RMS;
	a->attn_post_norm = a->mlp_post_norm = 1;
	a->qk_norm = EAP_QKNORM_ALL;
	a->gated = 1;
	if ((rc = eap_cfg_num(root, "rms_norm_eps", 1e-6, 0, 1 - 1e-9, &eps,
			      path, err)) ||
	    (rc = eap_cfg_act(root, "hidden_act", "silu", &a->act, path, err)) ||
	    (rc = eap_cfg_bool(root, "attention_bias", 0, &a->qkv_bias, path,
			       err)) ||
	    (rc = eap_cfg_num(root, "rope_theta", 10000, 0, 1e12, &theta, path,
			      err)) ||
	    (rc = eap_cfg_rope_scaling(root, &a->rope, path, err)))
		return rc;
	a->norm_eps = (float)eps;
	a->o_bias = a->qkv_bias;
	a->rope.dim = c->d_head;
	a->rope.theta = theta;
	return 0;
}

static void params(struct eap_table *t)
{
	static const struct eap_decoder_names n = {
		.model = "model.", .attn_post = "post_attention_layernorm",
		.mlp_post = "post_feedforward_layernorm", .norm = EAP_X_COPY,
	};

	eap_table_decoder(t, &n);
}

const struct eap_family eap_family_olmo2 = {
	.model_type = "olmo2", .config = config, .params = params,
};
