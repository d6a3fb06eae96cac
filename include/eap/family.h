/*
 * family.h - the model families: each maps its config.json fields into
 * struct eap_arch and its Hugging Face tensor names into the canonical
 * weights (issue #14).  Used by model.c only; adding a family is one file
 * src/family_<name>.c and one line in src/family.c's table.
 *
 * A family's params() lists the checkpoint's tensors in a fixed order,
 * each with its canonical destination (eap_slot_offset) and transform.
 */
#ifndef EAP_FAMILY_H
#define EAP_FAMILY_H

#include <cJSON.h>
#include <stddef.h>

#include "eap/err.h"
#include "eap/model.h"

/* Canonical weight slots, in memory order (a layer's slots repeat). */
enum eap_slot {
	EAP_SLOT_WTE, EAP_SLOT_WPE,
	EAP_SLOT_LN1_W, EAP_SLOT_LN1_B, EAP_SLOT_W_QKV, EAP_SLOT_B_QKV,
	EAP_SLOT_W_O, EAP_SLOT_B_O, EAP_SLOT_LN2_W, EAP_SLOT_LN2_B,
	EAP_SLOT_W_FC, EAP_SLOT_B_FC, EAP_SLOT_W_PROJ, EAP_SLOT_B_PROJ,
	EAP_SLOT_POST1_W, EAP_SLOT_POST2_W, EAP_SLOT_Q_NORM, EAP_SLOT_K_NORM,
	EAP_SLOT_LNF_W, EAP_SLOT_LNF_B, EAP_SLOT_UNEMBED,
	EAP_N_SLOTS
};
#define EAP_FIRST_LAYER_SLOT EAP_SLOT_LN1_W
#define EAP_LAST_LAYER_SLOT EAP_SLOT_K_NORM

/* Floats of a slot (0 when the architecture has no such tensor). */
size_t eap_slot_size(const struct eap_config *c, enum eap_slot s);

/* Offset of slot s (of layer l for per-layer slots) in the params. */
size_t eap_slot_offset(const struct eap_config *c, enum eap_slot s, size_t l);

/*
 * The canonical weights as a table, one row per present slot in memory
 * order (name "layers.<l>.<slot>", ndim 2 for matrices, offset and numel
 * of a contiguous range): what training initialises and decays.  For
 * GPT-2 the same rows as its checkpoint table.
 */
size_t eap_slot_table(const struct eap_config *c, struct eap_param *out,
		      size_t max);

/* Floats of all canonical weights. */
size_t eap_params_total(const struct eap_config *c);

/* Builds a parameter table (what a family's params() fills). */
struct eap_table {
	const struct eap_config *cfg;
	struct eap_param *out;
	size_t max, n;
};

/* Add a row: name printf-style with the layer, shape d0 x d1 (d1 0: 1-D). */
void eap_table_add(struct eap_table *t, const char *fmt, size_t layer,
		   size_t d0, size_t d1, enum eap_slot slot,
		   enum eap_xform xform, size_t col0);

struct eap_family {
	const char *model_type;
	/* names are tried as given, then with each prefix (NULL-ended) */
	const char *const *prefixes;
	/* fill everything but cfg->tied (the loader sets it) */
	int (*config)(struct eap_config *cfg, const cJSON *root,
		      const char *path, struct eap_err *err);
	void (*params)(struct eap_table *t);
	/* the config.json fields that config() reads back into cfg (the
	 * writer, eap_model_save) */
	void (*write)(const struct eap_config *cfg, cJSON *root);
};

/* The family of model_type, or NULL. */
const struct eap_family *eap_family_find(const char *model_type);

/* GPT-2's architecture (also the default of a config with no model_type). */
void eap_arch_gpt2(struct eap_arch *a);

/* ---- config.json fields, for the family files ---------------------------- */

/* A positive integer; absent: *out = def, or an error if required. */
int eap_cfg_uint(const cJSON *root, const char *key, int required,
		 size_t def, size_t *out, const char *path,
		 struct eap_err *err);
/* A number in (lo, hi]; absent or null: *out = def. */
int eap_cfg_num(const cJSON *root, const char *key, double def, double lo,
		double hi, double *out, const char *path, struct eap_err *err);
/* A boolean; absent or null: *out = def. */
int eap_cfg_bool(const cJSON *root, const char *key, int def, int *out,
		 const char *path, struct eap_err *err);
/* The activation named by key ("gelu", "gelu_new", "silu", ...). */
int eap_cfg_act(const cJSON *root, const char *key, const char *def,
		enum eap_act_kind *out, const char *path, struct eap_err *err);
/* rope_scaling (null, linear, llama3) into r. */
int eap_cfg_rope_scaling(const cJSON *root, struct eap_rope *r,
			 const char *path, struct eap_err *err);
/* The fields every decoder config has: layers, heads, hidden, vocab,
 * positions, intermediate_size, num_key_value_heads, head_dim, bos. */
int eap_cfg_common_hf(struct eap_config *c, const cJSON *root,
		      const char *path, struct eap_err *err);

/*
 * The tensors of a Hugging Face decoder in the Llama naming ("model." +
 * "layers.N.self_attn.q_proj" ...), shared by Llama, Mistral, Qwen2/3,
 * Gemma 1/2/3 and OLMo-2, which differ in which norms exist and what
 * their names mean; a NULL name: the block has no such norm.
 */
struct eap_decoder_names {
	const char *model;     /* "model." or "language_model.model." */
	const char *attn_pre, *attn_post, *mlp_pre, *mlp_post;
	enum eap_xform norm;   /* EAP_X_COPY, or EAP_X_PLUS1 (Gemma) */
};
void eap_table_decoder(struct eap_table *t, const struct eap_decoder_names *n);

/*
 * What the RMSNorm decoders (Llama, Qwen, Gemma, OLMo-2) share: the
 * common fields, RMSNorm with rms_norm_eps, a gated MLP with the
 * activation act_key names (default act_default), attention_bias,
 * rotary on every dim with rope_theta and rope_scaling.
 */
int eap_cfg_rms_decoder(struct eap_config *c, const cJSON *root,
			const char *act_key, const char *act_default,
			const char *path, struct eap_err *err);

/* layer_types ("sliding_attention" / "full_attention") into a->sliding;
 * 0 if absent, 1 if read. */
int eap_cfg_layer_types(const cJSON *root, struct eap_config *c,
			const char *path, struct eap_err *err);

/* ---- writing config.json (each family's write()) ------------------------ */

/* The name config.json gives an activation ("gelu_new", "gelu", "silu"). */
const char *eap_act_name(enum eap_act_kind act, int gemma);
/* model_type (cfg's family) and what eap_cfg_common_hf reads, with
 * tie_word_embeddings and bos_token_id. */
void eap_cfg_write_common_hf(const struct eap_config *c, cJSON *root);
/* The common fields and what eap_cfg_rms_decoder reads (act_key names the
 * activation). */
void eap_cfg_write_rms_decoder(const struct eap_config *c, cJSON *root,
			       const char *act_key);
/* sliding_window and layer_types, when the model has a window. */
void eap_cfg_write_layer_types(const struct eap_config *c, cJSON *root);

extern const struct eap_family eap_family_gpt2, eap_family_gpt_neox,
	eap_family_llama, eap_family_mistral, eap_family_qwen2,
	eap_family_qwen3, eap_family_gemma, eap_family_gemma2,
	eap_family_gemma3, eap_family_gemma3_text, eap_family_olmo2;

#endif
