/*
 * family_llama.c - Llama 2/3 ("llama"), Mistral ("mistral"), Qwen2/2.5
 * ("qwen2") and Qwen3 ("qwen3"): RMSNorm before attention and MLP,
 * rotary on every dim, SwiGLU, grouped K/V heads; Qwen2 adds q/k/v
 * biases, Qwen3 a per-head RMSNorm of q and k.  Also the tensor table
 * that every decoder in this naming shares (eap_table_decoder).
 */
#include "eap/family.h"

#include <stdio.h>
#include <string.h>

void eap_table_decoder(struct eap_table *t, const struct eap_decoder_names *n)
{
	const struct eap_config *c = t->cfg;
	const struct eap_arch *a = &c->arch;
	size_t d = c->d_model, m = c->d_mlp, dh = c->d_head;
	size_t hq = c->n_head * dh, hk = c->n_kv_head * dh;
	static const char *const qkv[3] = { "q", "k", "v" };
	char name[96];

	snprintf(name, sizeof(name), "%sembed_tokens.weight", n->model);
	eap_table_add(t, name, 0, c->n_vocab, d, EAP_SLOT_WTE, EAP_X_COPY, 0);
	for (size_t l = 0; l < c->n_layer; l++) {
		size_t rows[3] = { hq, hk, hk }, col = 0;
		const struct {
			const char *name;
			enum eap_slot slot;
		} norms[] = {
			{ n->attn_pre, EAP_SLOT_LN1_W },
			{ n->attn_post, EAP_SLOT_POST1_W },
			{ n->mlp_pre, EAP_SLOT_LN2_W },
			{ n->mlp_post, EAP_SLOT_POST2_W },
		};

#define ADD(fmt, d0, d1, slot, x, c0)                                        \
	do {                                                                 \
		snprintf(name, sizeof(name), "%slayers.%%zu." fmt, n->model); \
		eap_table_add(t, name, l, d0, d1, slot, x, c0);               \
	} while (0)
		for (size_t k = 0; k < 4; k++)
			if (norms[k].name) {
				snprintf(name, sizeof(name), "%slayers.%%zu.%s.weight",
					 n->model, norms[k].name);
				eap_table_add(t, name, l, d, 0, norms[k].slot,
					      n->norm, 0);
			}
		for (int k = 0; k < 3; k++) {
			char fmt[64];

			snprintf(fmt, sizeof(fmt), "self_attn.%s_proj.weight", qkv[k]);
			snprintf(name, sizeof(name), "%slayers.%%zu.%s", n->model, fmt);
			eap_table_add(t, name, l, rows[k], d, EAP_SLOT_W_QKV,
				      EAP_X_T, col);
			if (a->qkv_bias) {
				snprintf(name, sizeof(name),
					 "%slayers.%%zu.self_attn.%s_proj.bias",
					 n->model, qkv[k]);
				eap_table_add(t, name, l, rows[k], 0,
					      EAP_SLOT_B_QKV, EAP_X_COLS, col);
			}
			col += rows[k];
		}
		if (a->qk_norm) {
			int all = a->qk_norm == EAP_QKNORM_ALL;

			ADD("self_attn.q_norm.weight", all ? hq : dh, 0,
			    EAP_SLOT_Q_NORM, n->norm, 0);
			ADD("self_attn.k_norm.weight", all ? hk : dh, 0,
			    EAP_SLOT_K_NORM, n->norm, 0);
		}
		ADD("self_attn.o_proj.weight", d, hq, EAP_SLOT_W_O, EAP_X_T, 0);
		if (a->o_bias)
			ADD("self_attn.o_proj.bias", d, 0, EAP_SLOT_B_O,
			    EAP_X_COPY, 0);
		ADD("mlp.gate_proj.weight", m, d, EAP_SLOT_W_FC, EAP_X_T, 0);
		ADD("mlp.up_proj.weight", m, d, EAP_SLOT_W_FC, EAP_X_T, m);
		ADD("mlp.down_proj.weight", d, m, EAP_SLOT_W_PROJ, EAP_X_T, 0);
		if (a->mlp_bias) {
			ADD("mlp.gate_proj.bias", m, 0, EAP_SLOT_B_FC, EAP_X_COLS, 0);
			ADD("mlp.up_proj.bias", m, 0, EAP_SLOT_B_FC, EAP_X_COLS, m);
			ADD("mlp.down_proj.bias", d, 0, EAP_SLOT_B_PROJ,
			    EAP_X_COPY, 0);
		}
#undef ADD
	}
	snprintf(name, sizeof(name), "%snorm.weight", n->model);
	eap_table_add(t, name, 0, d, 0, EAP_SLOT_LNF_W, n->norm, 0);
	if (!c->tied)
		eap_table_add(t, "lm_head.weight", 0, c->n_vocab, d,
			      EAP_SLOT_UNEMBED, EAP_X_COPY, 0);
}

int eap_cfg_layer_types(const cJSON *root, struct eap_config *c,
			const char *path, struct eap_err *err)
{
	const cJSON *lt = cJSON_GetObjectItemCaseSensitive(root, "layer_types");
	size_t l = 0;
	const cJSON *it;

	if (!lt || cJSON_IsNull(lt))
		return 0;
	if (!cJSON_IsArray(lt) || (size_t)cJSON_GetArraySize(lt) != c->n_layer)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"layer_types\" must be an array of %zu strings",
				   path, c->n_layer);
	cJSON_ArrayForEach(it, lt) {
		if (!cJSON_IsString(it) ||
		    (strcmp(it->valuestring, "sliding_attention") &&
		     strcmp(it->valuestring, "full_attention")))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: layer_types[%zu] is not \"sliding_attention\" or \"full_attention\"",
					   path, l);
		c->arch.sliding[l++] = !strcmp(it->valuestring,
					       "sliding_attention");
	}
	return 1;
}

/* RMSNorm before attention and MLP, SwiGLU: what these four share. */
static int llama_like(struct eap_config *c, const cJSON *root,
		      const char *path, struct eap_err *err)
{
	int rc = eap_cfg_rms_decoder(c, root, "hidden_act", "silu", path, err);

	if (rc)
		return rc;
	c->arch.attn_pre_norm = c->arch.mlp_pre_norm = 1;
	return eap_cfg_bool(root, "mlp_bias", 0, &c->arch.mlp_bias, path, err);
}

/* A sliding window on the layers that layer_types (or all) name. */
static int window(struct eap_config *c, const cJSON *root, int all,
		  const char *path, struct eap_err *err)
{
	int rc;

	if ((rc = eap_cfg_uint(root, "sliding_window", 0, 0, &c->arch.window,
			       path, err)))
		return rc;
	if (!c->arch.window)
		return 0;
	if ((rc = eap_cfg_layer_types(root, c, path, err)) < 0)
		return rc;
	if (!rc && all)
		memset(c->arch.sliding, 1, c->n_layer);
	return 0;
}

static int llama_config(struct eap_config *c, const cJSON *root,
			const char *path, struct eap_err *err)
{
	return llama_like(c, root, path, err);
}

static int mistral_config(struct eap_config *c, const cJSON *root,
			  const char *path, struct eap_err *err)
{
	int rc = llama_like(c, root, path, err);

	return rc ? rc : window(c, root, 1, path, err);
}

static int qwen_config(struct eap_config *c, const cJSON *root,
		       const char *path, struct eap_err *err, int qwen3)
{
	int rc = llama_like(c, root, path, err), use = 0;
	size_t from = 0;

	if (rc)
		return rc;
	if (!qwen3) /* Qwen2 has q/k/v biases and no o bias, whatever it says */
		c->arch.qkv_bias = 1, c->arch.o_bias = 0;
	else
		c->arch.qk_norm = EAP_QKNORM_HEAD;
	if ((rc = eap_cfg_bool(root, "use_sliding_window", 0, &use, path, err)))
		return rc;
	if (!use)
		return 0;
	if ((rc = window(c, root, 0, path, err)) ||
	    (rc = eap_cfg_uint(root, "max_window_layers", 0, 0, &from, path,
			       err)))
		return rc;
	/* without layer_types: the layers from max_window_layers on */
	if (!cJSON_GetObjectItemCaseSensitive(root, "layer_types"))
		for (size_t l = from; l < c->n_layer; l++)
			c->arch.sliding[l] = 1;
	return 0;
}

static int qwen2_config(struct eap_config *c, const cJSON *root,
			const char *path, struct eap_err *err)
{
	return qwen_config(c, root, path, err, 0);
}

static int qwen3_config(struct eap_config *c, const cJSON *root,
			const char *path, struct eap_err *err)
{
	return qwen_config(c, root, path, err, 1);
}

static void llama_write(const struct eap_config *c, cJSON *root)
{
	eap_cfg_write_rms_decoder(c, root, "hidden_act");
	cJSON_AddBoolToObject(root, "mlp_bias", c->arch.mlp_bias);
	eap_cfg_write_layer_types(c, root);
}

static void qwen_write(const struct eap_config *c, cJSON *root)
{
	llama_write(c, root);
	cJSON_AddBoolToObject(root, "use_sliding_window", c->arch.window > 0);
}

static void llama_params(struct eap_table *t)
{
	static const struct eap_decoder_names n = {
		.model = "model.", .attn_pre = "input_layernorm",
		.mlp_pre = "post_attention_layernorm", .norm = EAP_X_COPY,
	};

	eap_table_decoder(t, &n);
}

const struct eap_family eap_family_llama = {
	.model_type = "llama", .config = llama_config, .params = llama_params,
	.write = llama_write,
};
const struct eap_family eap_family_mistral = {
	.model_type = "mistral", .config = mistral_config,
	.params = llama_params, .write = llama_write,
};
const struct eap_family eap_family_qwen2 = {
	.model_type = "qwen2", .config = qwen2_config, .params = llama_params,
	.write = qwen_write,
};
const struct eap_family eap_family_qwen3 = {
	.model_type = "qwen3", .config = qwen3_config, .params = llama_params,
	.write = qwen_write,
};
