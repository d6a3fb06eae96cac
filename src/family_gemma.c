/*
 * family_gemma.c - Gemma ("gemma"), Gemma 2 ("gemma2") and Gemma 3
 * ("gemma3_text", and "gemma3" whose text_config it reads):
 * RMSNorm scaled by 1 + w (folded into w on loading), the embedding
 * times sqrt(d), GeGLU (tanh GELU), attention scale
 * query_pre_attn_scalar^-1/2, tied unembedding.  Gemma 2 adds norms on
 * the attention and MLP outputs ("sandwich"), soft-capping of attention
 * scores and logits, and a sliding window on even layers; Gemma 3
 * per-head QK-norm, a sliding window on all layers but every
 * sliding_window_pattern-th, and its own rotary base for those.
 */
#include "eap/family.h"

#include <math.h>
#include <string.h>

static int gemma_like(struct eap_config *c, const cJSON *root,
		      const char *path, struct eap_err *err)
{
	struct eap_arch *a = &c->arch;
	double scalar;
	int rc;

	/* Gemma's checkpoints say hidden_act "gelu" but every Gemma runs
	 * hidden_activation, gelu_pytorch_tanh by default */
	if ((rc = eap_cfg_rms_decoder(c, root, "hidden_activation",
				      "gelu_pytorch_tanh", path, err)) ||
	    (rc = eap_cfg_num(root, "query_pre_attn_scalar", (double)c->d_head,
			      0, 1e9, &scalar, path, err)))
		return rc;
	a->attn_pre_norm = a->mlp_pre_norm = 1;
	a->attn_scale = (float)(1.0 / sqrt(scalar));
	/* HF: a tensor of hidden_size**0.5 in the model's dtype */
	a->embed_scale = (float)sqrt((double)c->d_model);
	return 0;
}

static int softcaps(struct eap_config *c, const cJSON *root, double attn,
		    double logit, const char *path, struct eap_err *err)
{
	double a, l;
	int rc;

	if ((rc = eap_cfg_num(root, "attn_logit_softcapping", attn, 0, 1e9,
			      &a, path, err)) ||
	    (rc = eap_cfg_num(root, "final_logit_softcapping", logit, 0, 1e9,
			      &l, path, err)))
		return rc;
	/* an explicit null means none */
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root,
							  "attn_logit_softcapping")))
		a = 0;
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root,
							  "final_logit_softcapping")))
		l = 0;
	c->arch.attn_softcap = (float)a;
	c->arch.logit_softcap = (float)l;
	return 0;
}

static int gemma_config(struct eap_config *c, const cJSON *root,
			const char *path, struct eap_err *err)
{
	int rc = gemma_like(c, root, path, err);

	c->tied = 1;
	return rc;
}

static int gemma2_config(struct eap_config *c, const cJSON *root,
			 const char *path, struct eap_err *err)
{
	int rc;

	if ((rc = gemma_like(c, root, path, err)) ||
	    (rc = softcaps(c, root, 50.0, 30.0, path, err)) ||
	    (rc = eap_cfg_uint(root, "sliding_window", 0, 4096, &c->arch.window,
			       path, err)))
		return rc;
	c->arch.attn_post_norm = c->arch.mlp_post_norm = 1;
	if ((rc = eap_cfg_layer_types(root, c, path, err)) < 0)
		return rc;
	if (!rc)
		for (size_t l = 0; l < c->n_layer; l += 2)
			c->arch.sliding[l] = 1;
	return 0;
}

static int gemma3_text_config(struct eap_config *c, const cJSON *root,
			      const char *path, struct eap_err *err)
{
	struct eap_arch *a = &c->arch;
	size_t pattern;
	double local;
	int rc;

	if ((rc = gemma_like(c, root, path, err)) ||
	    (rc = softcaps(c, root, 0, 0, path, err)) ||
	    (rc = eap_cfg_uint(root, "sliding_window", 0, 4096, &a->window,
			       path, err)) ||
	    (rc = eap_cfg_uint(root, "sliding_window_pattern", 0, 6, &pattern,
			       path, err)) ||
	    (rc = eap_cfg_num(root, "rope_local_base_freq", 10000, 0, 1e12,
			      &local, path, err)))
		return rc;
	a->attn_post_norm = a->mlp_post_norm = 1;
	a->qk_norm = EAP_QKNORM_HEAD;
	a->rope_local.dim = c->d_head;
	a->rope_local.theta = local;
	if ((rc = eap_cfg_layer_types(root, c, path, err)) < 0)
		return rc;
	if (!rc)
		for (size_t l = 0; l < c->n_layer; l++)
			a->sliding[l] = (l + 1) % pattern != 0;
	return 0;
}

/* The multimodal checkpoint: its text model's config and tensors. */
static int gemma3_config(struct eap_config *c, const cJSON *root,
			 const char *path, struct eap_err *err)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "text_config");

	if (!cJSON_IsObject(t))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: model_type \"gemma3\" needs a \"text_config\" object",
				   path);
	return gemma3_text_config(c, t, path, err);
}

/*
 * What gemma_like reads: query_pre_attn_scalar from the attention scale
 * s^-1/2 (the integer it was, when that gives the same float scale).
 */
static void gemma_write(const struct eap_config *c, cJSON *root)
{
	double s = 1.0 / ((double)c->arch.attn_scale * c->arch.attn_scale);

	eap_cfg_write_rms_decoder(c, root, "hidden_activation");
	if ((float)(1.0 / sqrt(round(s))) == c->arch.attn_scale)
		s = round(s);
	cJSON_AddNumberToObject(root, "query_pre_attn_scalar", s);
}

static void softcaps_write(const struct eap_config *c, cJSON *root)
{
	const char *key[2] = { "attn_logit_softcapping",
			       "final_logit_softcapping" };
	float cap[2] = { c->arch.attn_softcap, c->arch.logit_softcap };

	for (int k = 0; k < 2; k++)
		if (cap[k] > 0)
			cJSON_AddNumberToObject(root, key[k], (double)cap[k]);
		else
			cJSON_AddNullToObject(root, key[k]);
}

static void gemma2_write(const struct eap_config *c, cJSON *root)
{
	gemma_write(c, root);
	softcaps_write(c, root);
	eap_cfg_write_layer_types(c, root);
}

static void gemma3_text_write(const struct eap_config *c, cJSON *root)
{
	gemma2_write(c, root);
	cJSON_AddNumberToObject(root, "rope_local_base_freq",
				c->arch.rope_local.theta);
}

/* The multimodal checkpoint's config: the text model's in text_config. */
static void gemma3_write(const struct eap_config *c, cJSON *root)
{
	cJSON *t = cJSON_AddObjectToObject(root, "text_config");

	gemma3_text_write(c, t);
	cJSON_ReplaceItemInObject(t, "model_type",
				  cJSON_CreateString("gemma3_text"));
	cJSON_AddStringToObject(root, "model_type", "gemma3");
	cJSON_AddBoolToObject(root, "tie_word_embeddings", c->tied);
}

static void gemma_params(struct eap_table *t)
{
	static const struct eap_decoder_names n = {
		.model = "model.", .attn_pre = "input_layernorm",
		.mlp_pre = "post_attention_layernorm", .norm = EAP_X_PLUS1,
	};

	eap_table_decoder(t, &n);
}

static void gemma2_params(struct eap_table *t)
{
	static const struct eap_decoder_names n = {
		.model = "model.", .attn_pre = "input_layernorm",
		.attn_post = "post_attention_layernorm",
		.mlp_pre = "pre_feedforward_layernorm",
		.mlp_post = "post_feedforward_layernorm", .norm = EAP_X_PLUS1,
	};

	eap_table_decoder(t, &n);
}

static void gemma3_params(struct eap_table *t)
{
	static const struct eap_decoder_names n = {
		.model = "language_model.model.", .attn_pre = "input_layernorm",
		.attn_post = "post_attention_layernorm",
		.mlp_pre = "pre_feedforward_layernorm",
		.mlp_post = "post_feedforward_layernorm", .norm = EAP_X_PLUS1,
	};

	eap_table_decoder(t, &n);
}

const struct eap_family eap_family_gemma = {
	.model_type = "gemma", .config = gemma_config, .params = gemma_params,
	.write = gemma_write,
};
const struct eap_family eap_family_gemma2 = {
	.model_type = "gemma2", .config = gemma2_config,
	.params = gemma2_params, .write = gemma2_write,
};
const struct eap_family eap_family_gemma3_text = {
	.model_type = "gemma3_text", .config = gemma3_text_config,
	.params = gemma2_params, .write = gemma3_text_write,
};
const struct eap_family eap_family_gemma3 = {
	.model_type = "gemma3", .config = gemma3_config,
	.params = gemma3_params, .write = gemma3_write,
};
