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
	int rc = eap_cfg_rms_decoder(c, root, "hidden_act", "silu", path, err);

	c->arch.attn_post_norm = c->arch.mlp_post_norm = 1;
	c->arch.qk_norm = EAP_QKNORM_ALL;
	return rc;
}

static void write(const struct eap_config *c, cJSON *root)
{
	eap_cfg_write_rms_decoder(c, root, "hidden_act");
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
	.write = write,
};
