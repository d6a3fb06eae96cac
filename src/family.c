/*
 * family.c - see include/eap/family.h: the canonical weight layout, the
 * family table and the config.json field readers the family files share.
 */
#include "eap/family.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct eap_family *const families[] = {
	&eap_family_gpt2,  &eap_family_gpt_neox, &eap_family_llama,
	&eap_family_mistral, &eap_family_qwen2, &eap_family_qwen3,
	&eap_family_gemma, &eap_family_gemma2, &eap_family_gemma3,
	&eap_family_gemma3_text, &eap_family_olmo2,
};

const struct eap_family *eap_family_find(const char *model_type)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strcmp(families[i]->model_type, model_type))
			return families[i];
	return NULL;
}

void eap_arch_gpt2(struct eap_arch *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->family, sizeof(a->family), "gpt2");
	a->norm = EAP_NORM_LAYER;
	a->norm_eps = 1e-5f;
	a->attn_pre_norm = a->mlp_pre_norm = 1;
	a->act = EAP_ACT_GELU_TANH;
	a->qkv_bias = a->o_bias = a->mlp_bias = 1;
	a->learned_pos = 1;
	a->embed_scale = 1.0f;
}

/* ---- the canonical layout ------------------------------------------------ */

size_t eap_slot_size(const struct eap_config *c, enum eap_slot s)
{
	const struct eap_arch *a = &c->arch;
	size_t d = c->d_model, dh = c->d_head, H = c->n_head;
	size_t Hkv = c->n_kv_head ? c->n_kv_head : H;
	size_t wq = (H + 2 * Hkv) * dh, fc = c->d_mlp * (a->gated ? 2 : 1);
	int ln = a->norm == EAP_NORM_LAYER;

	switch (s) {
	case EAP_SLOT_WTE: return c->n_vocab * d;
	case EAP_SLOT_WPE: return a->learned_pos ? c->n_ctx * d : 0;
	case EAP_SLOT_LN1_W: return a->attn_pre_norm ? d : 0;
	case EAP_SLOT_LN1_B: return a->attn_pre_norm && ln ? d : 0;
	case EAP_SLOT_W_QKV: return d * wq;
	case EAP_SLOT_B_QKV: return a->qkv_bias ? wq : 0;
	case EAP_SLOT_W_O: return H * dh * d;
	case EAP_SLOT_B_O: return a->o_bias ? d : 0;
	case EAP_SLOT_LN2_W: return a->mlp_pre_norm ? d : 0;
	case EAP_SLOT_LN2_B: return a->mlp_pre_norm && ln ? d : 0;
	case EAP_SLOT_W_FC: return d * fc;
	case EAP_SLOT_B_FC: return a->mlp_bias ? fc : 0;
	case EAP_SLOT_W_PROJ: return c->d_mlp * d;
	case EAP_SLOT_B_PROJ: return a->mlp_bias ? d : 0;
	case EAP_SLOT_POST1_W: return a->attn_post_norm ? d : 0;
	case EAP_SLOT_POST2_W: return a->mlp_post_norm ? d : 0;
	case EAP_SLOT_Q_NORM:
		return a->qk_norm == EAP_QKNORM_HEAD ? dh
		       : a->qk_norm == EAP_QKNORM_ALL ? H * dh : 0;
	case EAP_SLOT_K_NORM:
		return a->qk_norm == EAP_QKNORM_HEAD ? dh
		       : a->qk_norm == EAP_QKNORM_ALL ? Hkv * dh : 0;
	case EAP_SLOT_LNF_W: return d;
	case EAP_SLOT_LNF_B: return ln ? d : 0;
	case EAP_SLOT_UNEMBED: return c->tied ? 0 : c->n_vocab * d;
	case EAP_N_SLOTS: break;
	}
	return 0;
}

static size_t layer_size(const struct eap_config *c)
{
	size_t n = 0;

	for (int s = EAP_FIRST_LAYER_SLOT; s <= EAP_LAST_LAYER_SLOT; s++)
		n += eap_slot_size(c, (enum eap_slot)s);
	return n;
}

size_t eap_slot_offset(const struct eap_config *c, enum eap_slot s, size_t l)
{
	size_t off = eap_slot_size(c, EAP_SLOT_WTE) +
		     eap_slot_size(c, EAP_SLOT_WPE);

	if (s == EAP_SLOT_WTE)
		return 0;
	if (s == EAP_SLOT_WPE)
		return eap_slot_size(c, EAP_SLOT_WTE);
	if (s >= EAP_FIRST_LAYER_SLOT && s <= EAP_LAST_LAYER_SLOT) {
		off += l * layer_size(c);
		for (int k = EAP_FIRST_LAYER_SLOT; k < (int)s; k++)
			off += eap_slot_size(c, (enum eap_slot)k);
		return off;
	}
	off += c->n_layer * layer_size(c);
	for (int k = EAP_SLOT_LNF_W; k < (int)s; k++)
		off += eap_slot_size(c, (enum eap_slot)k);
	return off;
}

static void slot_row(const struct eap_config *c, enum eap_slot s, size_t l,
		     int layer, struct eap_param *out, size_t max, size_t *n)
{
	static const char *const names[EAP_N_SLOTS] = {
		"wte", "wpe", "ln1.weight", "ln1.bias", "qkv.weight",
		"qkv.bias", "o.weight", "o.bias", "ln2.weight", "ln2.bias",
		"fc.weight", "fc.bias", "proj.weight", "proj.bias",
		"post1.weight", "post2.weight", "q_norm.weight", "k_norm.weight",
		"lnf.weight", "lnf.bias", "unembed",
	};
	size_t sz = eap_slot_size(c, s), d = c->d_model;
	int mat = s == EAP_SLOT_WTE || s == EAP_SLOT_WPE || s == EAP_SLOT_W_QKV ||
		  s == EAP_SLOT_W_O || s == EAP_SLOT_W_FC ||
		  s == EAP_SLOT_W_PROJ || s == EAP_SLOT_UNEMBED;

	if (!sz)
		return;
	if (out && *n < max) {
		struct eap_param *p = &out[*n];

		memset(p, 0, sizeof(*p));
		if (layer)
			snprintf(p->name, sizeof(p->name), "layers.%zu.%s", l,
				 names[s]);
		else
			snprintf(p->name, sizeof(p->name), "%s", names[s]);
		p->ndim = mat ? 2 : 1;
		p->shape[0] = mat ? sz / d : sz;
		p->shape[1] = mat ? d : 0;
		p->numel = sz;
		p->offset = eap_slot_offset(c, s, l);
	}
	(*n)++;
}

size_t eap_slot_table(const struct eap_config *c, struct eap_param *out,
		      size_t max)
{
	size_t n = 0;

	slot_row(c, EAP_SLOT_WTE, 0, 0, out, max, &n);
	slot_row(c, EAP_SLOT_WPE, 0, 0, out, max, &n);
	for (size_t l = 0; l < c->n_layer; l++)
		for (int s = EAP_FIRST_LAYER_SLOT; s <= EAP_LAST_LAYER_SLOT; s++)
			slot_row(c, (enum eap_slot)s, l, 1, out, max, &n);
	slot_row(c, EAP_SLOT_LNF_W, 0, 0, out, max, &n);
	slot_row(c, EAP_SLOT_LNF_B, 0, 0, out, max, &n);
	slot_row(c, EAP_SLOT_UNEMBED, 0, 0, out, max, &n);
	return n;
}

size_t eap_params_total(const struct eap_config *c)
{
	return eap_slot_offset(c, EAP_SLOT_UNEMBED, 0) +
	       eap_slot_size(c, EAP_SLOT_UNEMBED);
}

void eap_table_add(struct eap_table *t, const char *fmt, size_t layer,
		   size_t d0, size_t d1, enum eap_slot slot,
		   enum eap_xform xform, size_t col0)
{
	if (t->out && t->n < t->max) {
		struct eap_param *p = &t->out[t->n];
		size_t ld = 0;

		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), fmt, layer);
		p->ndim = d1 ? 2 : 1;
		p->shape[0] = d0;
		p->shape[1] = d1;
		p->numel = d1 ? d0 * d1 : d0;
		p->offset = eap_slot_offset(t->cfg, slot, layer);
		p->xform = xform;
		p->col0 = col0;
		/* columns of the destination matrix: its size over its rows */
		if (xform == EAP_X_T)
			ld = eap_slot_size(t->cfg, slot) / d1;
		p->ld = ld;
	}
	t->n++;
}

/* ---- config.json fields -------------------------------------------------- */

static const cJSON *field(const cJSON *root, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);

	return j && !cJSON_IsNull(j) ? j : NULL;
}

int eap_cfg_uint(const cJSON *root, const char *key, int required,
		 size_t def, size_t *out, const char *path,
		 struct eap_err *err)
{
	const cJSON *j = field(root, key);
	double v;

	*out = def;
	if (!j) {
		if (required)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: missing key \"%s\"", path, key);
		return 0;
	}
	v = cJSON_IsNumber(j) ? j->valuedouble : -1;
	if (!(v >= 1 && v <= 1e9) || v != floor(v))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"%s\" must be a positive integer", path,
				   key);
	*out = (size_t)v;
	return 0;
}

int eap_cfg_num(const cJSON *root, const char *key, double def, double lo,
		double hi, double *out, const char *path, struct eap_err *err)
{
	const cJSON *j = field(root, key);

	*out = def;
	if (!j)
		return 0;
	/* in float: 1e-50 would round to 0 and divide by zero in a norm
	 * (found by fuzz_config) */
	if (!cJSON_IsNumber(j) || !(j->valuedouble > lo) ||
	    !(j->valuedouble <= hi) || (float)j->valuedouble == 0.0f)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"%s\" must be a number in (%g, %g] that is not 0 as a float",
				   path, key, lo, hi);
	*out = j->valuedouble;
	return 0;
}

int eap_cfg_bool(const cJSON *root, const char *key, int def, int *out,
		 const char *path, struct eap_err *err)
{
	const cJSON *j = field(root, key);

	*out = def;
	if (!j)
		return 0;
	if (!cJSON_IsBool(j))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"%s\" must be true or false", path, key);
	*out = cJSON_IsTrue(j);
	return 0;
}

int eap_cfg_act(const cJSON *root, const char *key, const char *def,
		enum eap_act_kind *out, const char *path, struct eap_err *err)
{
	static const struct {
		const char *name;
		enum eap_act_kind kind;
	} acts[] = {
		{ "gelu_new", EAP_ACT_GELU_TANH },
		{ "gelu_pytorch_tanh", EAP_ACT_GELU_TANH },
		{ "gelu_fast", EAP_ACT_GELU_TANH },
		{ "gelu", EAP_ACT_GELU_ERF },
		{ "silu", EAP_ACT_SILU },
		{ "swish", EAP_ACT_SILU },
	};
	const cJSON *j = field(root, key);
	const char *name = def;

	if (j) {
		if (!cJSON_IsString(j))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: \"%s\" must be a string", path,
					   key);
		name = j->valuestring;
	}
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (!strcmp(acts[i].name, name)) {
			*out = acts[i].kind;
			return 0;
		}
	return eap_err_set(err, EAP_EFORMAT,
			   "%s: \"%s\" is \"%s\", not one of gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, silu, swish",
			   path, key, name);
}

int eap_cfg_rope_scaling(const cJSON *root, struct eap_rope *r,
			 const char *path, struct eap_err *err)
{
	const cJSON *s = field(root, "rope_scaling"), *t;
	const char *type;
	double v;
	int rc;

	r->scaling = EAP_ROPE_PLAIN;
	if (!s)
		return 0;
	if (!cJSON_IsObject(s))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"rope_scaling\" must be an object or null",
				   path);
	t = field(s, "rope_type");
	if (!t)
		t = field(s, "type");
	if (!t || !cJSON_IsString(t))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"rope_scaling\" lacks a \"rope_type\" string",
				   path);
	type = t->valuestring;
	if (!strcmp(type, "default"))
		return 0;
	if ((rc = eap_cfg_num(s, "factor", 0, 0, 1e6, &v, path, err)))
		return rc;
	if (v == 0)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"rope_scaling\" lacks \"factor\"", path);
	r->factor = v;
	if (!strcmp(type, "linear")) {
		r->scaling = EAP_ROPE_LINEAR;
		return 0;
	}
	if (strcmp(type, "llama3"))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: rope_scaling type \"%s\" is not supported (default, linear, llama3)",
				   path, type);
	r->scaling = EAP_ROPE_LLAMA3;
	if ((rc = eap_cfg_num(s, "low_freq_factor", 1, 0, 1e6,
			      &r->low_freq_factor, path, err)) ||
	    (rc = eap_cfg_num(s, "high_freq_factor", 4, 0, 1e6,
			      &r->high_freq_factor, path, err)) ||
	    (rc = eap_cfg_num(s, "original_max_position_embeddings", 8192, 0,
			      1e9, &r->original_ctx, path, err)))
		return rc;
	if (r->high_freq_factor <= r->low_freq_factor)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: rope_scaling high_freq_factor must exceed low_freq_factor",
				   path);
	return 0;
}

int eap_cfg_rms_decoder(struct eap_config *c, const cJSON *root,
			const char *act_key, const char *act_default,
			const char *path, struct eap_err *err)
{
	struct eap_arch *a = &c->arch;
	double eps, theta;
	int rc;

	if ((rc = eap_cfg_common_hf(c, root, path, err)))
		return rc;
	a->norm = EAP_NORM_RMS;
	a->gated = 1;
	if ((rc = eap_cfg_num(root, "rms_norm_eps", 1e-6, 0, 1 - 1e-9, &eps,
			      path, err)) ||
	    (rc = eap_cfg_act(root, act_key, act_default, &a->act, path, err)) ||
	    (rc = eap_cfg_bool(root, "attention_bias", 0, &a->qkv_bias, path,
			       err)) ||
	    (rc = eap_cfg_num(root, "rope_theta", 10000, 0, 1e12, &theta, path,
			      err)) ||
	    (rc = eap_cfg_rope_scaling(root, &a->rope, path, err)))
		return rc;
	a->norm_eps = (float)eps;
	a->o_bias = a->qkv_bias; /* attention_bias covers o_proj too */
	a->rope.dim = c->d_head;
	a->rope.theta = theta;
	return 0;
}

int eap_cfg_common_hf(struct eap_config *c, const cJSON *root,
		      const char *path, struct eap_err *err)
{
	size_t bos = 0;
	const cJSON *j;
	int rc;

	if ((rc = eap_cfg_uint(root, "num_hidden_layers", 1, 0, &c->n_layer,
			       path, err)) ||
	    (rc = eap_cfg_uint(root, "num_attention_heads", 1, 0, &c->n_head,
			       path, err)) ||
	    (rc = eap_cfg_uint(root, "hidden_size", 1, 0, &c->d_model, path,
			       err)) ||
	    (rc = eap_cfg_uint(root, "vocab_size", 1, 0, &c->n_vocab, path,
			       err)) ||
	    (rc = eap_cfg_uint(root, "intermediate_size", 1, 0, &c->d_mlp,
			       path, err)) ||
	    (rc = eap_cfg_uint(root, "max_position_embeddings", 0, 2048,
			       &c->n_ctx, path, err)) ||
	    (rc = eap_cfg_uint(root, "num_key_value_heads", 0, c->n_head,
			       &c->n_kv_head, path, err)))
		return rc;
	if (c->n_layer > EAP_MAX_LAYERS)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: %zu layers exceed the %d supported", path,
				   c->n_layer, EAP_MAX_LAYERS);
	if (c->n_head % c->n_kv_head)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: num_attention_heads %zu is not a multiple of num_key_value_heads %zu",
				   path, c->n_head, c->n_kv_head);
	if (!field(root, "head_dim") && c->d_model % c->n_head)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: hidden_size %zu is not a multiple of num_attention_heads %zu",
				   path, c->d_model, c->n_head);
	if ((rc = eap_cfg_uint(root, "head_dim", 0, c->d_model / c->n_head,
			       &c->d_head, path, err)))
		return rc;
	c->bos_id = -1;
	j = field(root, "bos_token_id");
	if (j) {
		if (!(cJSON_IsNumber(j) && j->valuedouble == 0) &&
		    (rc = eap_cfg_uint(root, "bos_token_id", 1, 0, &bos, path,
				       err)))
			return rc;
		if (bos >= c->n_vocab)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: bos_token_id %zu is not below vocab_size %zu",
					   path, bos, c->n_vocab);
		c->bos_id = (int32_t)bos;
	}
	c->arch.attn_scale = (float)(1.0 / sqrt((double)c->d_head));
	c->arch.embed_scale = 1.0f;
	return 0;
}

/* ---- writing config.json ------------------------------------------------- */

const char *eap_act_name(enum eap_act_kind act, int gemma)
{
	switch (act) {
	case EAP_ACT_GELU_TANH: return gemma ? "gelu_pytorch_tanh" : "gelu_new";
	case EAP_ACT_GELU_ERF: return "gelu";
	case EAP_ACT_SILU: return "silu";
	case EAP_ACT_IDENTITY: break; /* test models only: no HF name */
	}
	return "identity";
}

void eap_cfg_write_common_hf(const struct eap_config *c, cJSON *root)
{
	cJSON_AddStringToObject(root, "model_type", c->arch.family);
	cJSON_AddNumberToObject(root, "num_hidden_layers", (double)c->n_layer);
	cJSON_AddNumberToObject(root, "num_attention_heads", (double)c->n_head);
	cJSON_AddNumberToObject(root, "num_key_value_heads",
				(double)c->n_kv_head);
	cJSON_AddNumberToObject(root, "head_dim", (double)c->d_head);
	cJSON_AddNumberToObject(root, "hidden_size", (double)c->d_model);
	cJSON_AddNumberToObject(root, "intermediate_size", (double)c->d_mlp);
	cJSON_AddNumberToObject(root, "vocab_size", (double)c->n_vocab);
	cJSON_AddNumberToObject(root, "max_position_embeddings",
				(double)c->n_ctx);
	cJSON_AddBoolToObject(root, "tie_word_embeddings", c->tied);
	if (c->bos_id >= 0)
		cJSON_AddNumberToObject(root, "bos_token_id", (double)c->bos_id);
}

void eap_cfg_write_rms_decoder(const struct eap_config *c, cJSON *root,
			       const char *act_key)
{
	const struct eap_arch *a = &c->arch;
	const struct eap_rope *r = &a->rope;

	eap_cfg_write_common_hf(c, root);
	/* float to double is exact, and back gives the same float */
	cJSON_AddNumberToObject(root, "rms_norm_eps", (double)a->norm_eps);
	cJSON_AddStringToObject(root, act_key,
				eap_act_name(a->act, !strcmp(act_key,
							     "hidden_activation")));
	cJSON_AddBoolToObject(root, "attention_bias", a->qkv_bias);
	cJSON_AddNumberToObject(root, "rope_theta", r->theta);
	if (r->scaling != EAP_ROPE_PLAIN) {
		cJSON *s = cJSON_AddObjectToObject(root, "rope_scaling");
		int l3 = r->scaling == EAP_ROPE_LLAMA3;

		cJSON_AddStringToObject(s, "rope_type", l3 ? "llama3" : "linear");
		cJSON_AddNumberToObject(s, "factor", r->factor);
		if (l3) {
			cJSON_AddNumberToObject(s, "low_freq_factor",
						r->low_freq_factor);
			cJSON_AddNumberToObject(s, "high_freq_factor",
						r->high_freq_factor);
			cJSON_AddNumberToObject(s, "original_max_position_embeddings",
						r->original_ctx);
		}
	}
}

void eap_cfg_write_layer_types(const struct eap_config *c, cJSON *root)
{
	cJSON *lt;

	if (!c->arch.window)
		return;
	cJSON_AddNumberToObject(root, "sliding_window", (double)c->arch.window);
	lt = cJSON_AddArrayToObject(root, "layer_types");
	for (size_t l = 0; l < c->n_layer; l++)
		cJSON_AddItemToArray(lt, cJSON_CreateString(c->arch.sliding[l]
							    ? "sliding_attention"
							    : "full_attention"));
}
