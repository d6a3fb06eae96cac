/*
 * model.h - a GPT-2 (pre-LayerNorm) model: config, weights, forward pass.
 *
 * SPEC §3.  A model directory holds model.safetensors (Hugging Face GPT-2
 * names, with or without a "transformer." prefix; F32, F16 or BF16),
 * config.json and the tokenizer files.  All parameters sit in one float32
 * allocation; struct eap_weights points into it, laid out by the parameter
 * table (eap_model_params), which the loader, the writer and the trainer
 * share.
 *
 *   struct eap_model m = {0};
 *   if (eap_model_load(&m, "data/models/organism", &err) < 0) ...
 *   struct eap_fwd f = {0};
 *   eap_fwd_init(&f, &m.cfg, B, P, &err);
 *   eap_model_forward(&m, &f, tokens, lengths, B, P, &err);
 *   ... eap_fwd_logits(&f, b, p) ...
 *   eap_fwd_release(&f);
 *   eap_model_release(&m);
 */
#ifndef EAP_MODEL_H
#define EAP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"

/*
 * The architecture description (issue #14): every family is this struct,
 * filled from config.json by its family file (src/family_*.c); the forward,
 * backward, graph, methods and training read only these fields, never the
 * family's name.  Norms are all of one kind per model.
 */
enum eap_norm_kind {
	EAP_NORM_LAYER,   /* (x - mean) / std * w + b */
	EAP_NORM_RMS,     /* x / rms(x) * w; Gemma's 1 + w is folded into w
			     when loading */
	EAP_NORM_NONE,    /* no norm at all (the final one is the identity;
			     pre-norm flags 0): test models only, no
			     loader sets it (RelP = EAP on such a model) */
};

enum eap_act_kind {
	EAP_ACT_GELU_TANH, /* gelu_new, gelu_pytorch_tanh */
	EAP_ACT_GELU_ERF,  /* gelu (exact) */
	EAP_ACT_SILU,      /* silu / swish */
	EAP_ACT_IDENTITY,  /* act(x) = x: test models only */
};

enum eap_qknorm_kind {
	EAP_QKNORM_NONE,
	EAP_QKNORM_HEAD,  /* RMSNorm of each head's d_head vector (Qwen3,
			     Gemma-3) */
	EAP_QKNORM_ALL,   /* RMSNorm of all of q (H d_head) and of k
			     (H_kv d_head) (OLMo-2) */
};

enum eap_rope_scaling { EAP_ROPE_PLAIN, EAP_ROPE_LINEAR, EAP_ROPE_LLAMA3 };

/* Rotary position embedding of one kind of layer. */
struct eap_rope {
	size_t dim;         /* rotated dims of each head (even); 0: none */
	double theta;       /* base */
	enum eap_rope_scaling scaling;
	double factor;      /* linear, llama3 */
	double low_freq_factor, high_freq_factor; /* llama3 */
	double original_ctx;                      /* llama3 */
};

#define EAP_MAX_LAYERS 1024

struct eap_arch {
	char family[32];          /* config.json model_type */
	enum eap_norm_kind norm;
	float norm_eps;
	/* the norms of a block: before attention and MLP (pre), on their
	 * outputs before the residual add (post) */
	int attn_pre_norm, attn_post_norm, mlp_pre_norm, mlp_post_norm;
	int parallel;             /* x += attn(n1 x) + mlp(n2 x) (GPT-NeoX) */
	enum eap_qknorm_kind qk_norm;
	int gated;                /* mlp = down(act(gate x) * up x) */
	enum eap_act_kind act;
	int qkv_bias, o_bias, mlp_bias;
	int learned_pos;          /* wpe (GPT-2) */
	struct eap_rope rope;     /* every layer, or the global ones */
	struct eap_rope rope_local; /* sliding-window layers (Gemma-3); dim 0:
				       they use rope */
	float attn_scale;         /* softmax(s * q k^T) */
	float attn_softcap;       /* s = cap tanh(s / cap); 0: none */
	float logit_softcap;      /* the same on the logits */
	size_t window;            /* keys j > i - window; 0: none */
	unsigned char sliding[EAP_MAX_LAYERS]; /* layer l uses window */
	float embed_scale;        /* input = embed * scale (Gemma: sqrt(d)) */
};

struct eap_config {
	size_t n_layer;  /* L */
	size_t n_head;   /* H, query heads */
	size_t n_kv_head; /* H_kv: H / n_kv_head query heads share a K/V */
	size_t d_model;  /* d */
	size_t d_head;   /* dh: d / H unless the config says head_dim */
	size_t d_mlp;    /* MLP width (4d for GPT-2 unless n_inner) */
	size_t n_ctx;    /* n_positions / max_position_embeddings */
	size_t n_vocab;  /* V */
	float ln_eps;    /* = arch.norm_eps */
	int32_t bos_id;  /* bos_token_id, -1 if absent */
	int tied;        /* unembedding is the token embedding */
	struct eap_arch arch;
};

/*
 * Canonical weights, the same layout for every family (the family file
 * maps its Hugging Face tensors into them, transposing, splitting and
 * reordering as needed).  Matrices are [in, out], row-major.  Absent
 * parts (no bias, no post norm, ...) have no floats: their pointer is
 * NULL.  Q|K|V columns: H query heads, then H_kv key heads, then H_kv
 * value heads, d_head each.
 */
struct eap_layer {
	float *ln1_w, *ln1_b;   /* (d) pre-attention norm */
	float *w_qkv;           /* (d, (H + 2 H_kv) dh) */
	float *b_qkv;           /* ((H + 2 H_kv) dh) */
	float *w_o;             /* (H dh, d): rows h*dh..(h+1)*dh are W_O[h] */
	float *b_o;             /* (d) */
	float *ln2_w, *ln2_b;   /* (d) pre-MLP norm */
	float *w_fc;            /* (d, d_mlp), gated: (d, 2 d_mlp) gate | up */
	float *b_fc;            /* (d_mlp) */
	float *w_proj;          /* (d_mlp, d) */
	float *b_proj;          /* (d) */
	float *post1_w;         /* (d) post-attention norm */
	float *post2_w;         /* (d) post-MLP norm */
	float *q_norm, *k_norm; /* (dh), or (H dh) and (H_kv dh) */
};

struct eap_weights {
	float *wte;               /* (V, d) */
	float *wpe;               /* (n_ctx, d) learned positions, or NULL */
	struct eap_layer *layers; /* (L) */
	float *lnf_w, *lnf_b;     /* (d) */
	float *unembed;           /* (V, d): wte itself when tied */
};

struct eap_wstream;

/*
 * Eager (the default below 2 GiB of float32, and what training and
 * eap_model_save need): params holds every parameter and w points into
 * it.  Streamed (eap_model_load_as EAP_WEIGHTS_STREAM, or EAP_WEIGHTS=
 * stream, or a larger model): the checkpoint stays memory-mapped in its
 * stored dtype, params holds only the globals (positions, final norm,
 * unembedding; the embedding only when tied, else its rows are read per
 * token), w.layers[] are empty and a layer's float32 weights exist only
 * between eap_model_layer and eap_model_layer_put, in a few reused slots.
 */
struct eap_model {
	struct eap_config cfg;
	struct eap_weights w;
	float *params;     /* (n_params) every parameter, table order; when
			      streamed only the globals */
	size_t n_params;   /* of the whole model */
	char *dir;
	struct eap_wstream *stream; /* NULL: eager */
};

enum eap_weights_mode {
	EAP_WEIGHTS_AUTO,   /* EAP_WEIGHTS (eager, stream, auto) if set, else
			       stream above 2 GiB of float32 weights */
	EAP_WEIGHTS_EAGER,
	EAP_WEIGHTS_STREAM,
};

/*
 * The parameter table: one row per tensor of the Hugging Face checkpoint,
 * saying where its values go in the canonical weights (eap_model.params).
 * The loader reads each row's tensor and applies xform; the writer applies
 * the inverse.  GPT-2's rows are plain copies in table order.
 */
enum eap_xform {
	EAP_X_COPY,   /* same shape and layout */
	EAP_X_T,      /* HF Linear [out, in] -> columns col0..col0+out of an
			 [in, ld] canonical matrix */
	EAP_X_COLS,   /* a vector -> elements col0.. of a canonical vector */
	EAP_X_NEOX_QKV,      /* GPT-NeoX query_key_value [(H, 3, dh), d]
				-> the q|k|v columns of w_qkv */
	EAP_X_NEOX_QKV_BIAS, /* its bias (H, 3, dh) -> b_qkv */
	EAP_X_PLUS1,  /* a Gemma norm weight w -> 1 + w */
};

struct eap_param {
	char name[96];      /* Hugging Face name without a prefix */
	size_t ndim;
	size_t shape[2];    /* as stored in the checkpoint */
	size_t offset;      /* canonical destination, in floats */
	size_t numel;
	enum eap_xform xform;
	size_t col0, ld;    /* EAP_X_T, EAP_X_COLS */
};

/*
 * Fill up to max rows of the parameter table of cfg into out (if not NULL)
 * and return the number of rows; *total gets the number of floats of the
 * canonical weights.
 */
size_t eap_model_params(const struct eap_config *cfg, struct eap_param *out,
			size_t max, size_t *total);

/*
 * Read config.json: model_type picks the family (gpt2 when absent, as in
 * the organism's files); the family reads its fields.  Errors name the
 * file and the field ("config.json: unknown model_type \"bert\"").
 */
int eap_config_load(struct eap_config *cfg, const char *path,
		    struct eap_err *err);

/* Fill what a hand-built config leaves out: no family means GPT-2's
 * architecture; n_kv_head, d_head and the attention scale from the rest. */
void eap_config_normalize(struct eap_config *cfg);

/*
 * The config of a new model of a family (eap-train): the family's own
 * defaults for everything but the shape and the config.json fields in
 * extra (a JSON object's text, e.g. "{\"sliding_window\": 16}"; NULL:
 * none), read as the family reads config.json.
 */
int eap_config_build(struct eap_config *c, const char *family, size_t L,
		     size_t H, size_t Hkv, size_t d, size_t dm, size_t ctx,
		     size_t V, int tied, const char *extra,
		     struct eap_err *err);

/* Config of a GPT-2 model of the given shape (eap-train, tests). */
void eap_config_gpt2(struct eap_config *cfg, size_t n_layer, size_t n_head,
		     size_t d_model, size_t n_ctx, size_t n_vocab);

/*
 * Load a Hugging Face model folder as downloaded: config.json and
 * model.safetensors, or the shards that model.safetensors.index.json
 * names (F32, F16, BF16; tensors the family does not use are ignored).
 * dir may also be a Hugging Face cache folder (models--org--name, whose
 * refs/main names the snapshot) or one of its snapshots.
 */
int eap_model_load(struct eap_model *m, const char *dir, struct eap_err *err);

/* The same, eager or streamed as mode says (see struct eap_model). */
int eap_model_load_as(struct eap_model *m, const char *dir,
		      enum eap_weights_mode mode, struct eap_err *err);

/*
 * Layer l's weights, for use until eap_model_layer_put(m, W): in an eager
 * model &m->w.layers[l]; in a streamed one a slot converted from the
 * mapped file (or kept from an earlier use).  Safe from parallel threads;
 * a thread holds at most one layer at a time (the same layer may be taken
 * again inside).  Never fails: if the file changed or holds a non-finite
 * value the slot is zeros, and eap_model_status says so (every forward
 * and backward pass returns it).
 */
const struct eap_layer *eap_model_layer(const struct eap_model *m, size_t l);
void eap_model_layer_put(const struct eap_model *m, const struct eap_layer *W);

/*
 * The unembedding's product: Y (rows, V; row stride ldy) = X (rows, d;
 * ldx) W_U^T, or with back set dX = dY W_U into x (overwritten).  A
 * streamed model with its own unembedding keeps W_U in the file's dtype
 * and converts it a tile of vocabulary rows (16 M floats) at a time; a
 * model whose W_U fits in one tile computes exactly as eager.  Never
 * fails: a tile that cannot be read is zeros and eap_model_status says so.
 */
void eap_model_unembed(const struct eap_model *m, int back, size_t rows,
		       float *x, size_t ldx, float *y, size_t ldy);

/* 0, or the first error of a streamed layer's conversion (sticky). */
int eap_model_status(const struct eap_model *m, struct eap_err *err);

/* 1 if the model's weights stream from its checkpoint. */
int eap_model_streamed(const struct eap_model *m);

/* Allocate zeroed parameters for cfg and point the weights into them. */
int eap_model_alloc(struct eap_model *m, const struct eap_config *cfg,
		    struct eap_err *err);

/*
 * Write dir/model.safetensors and dir/config.json (F32), a Hugging Face
 * folder of the model's family that eap_model_load reads back to the same
 * weights (Gemma's norm weights w are written as w - 1, exact for
 * w >= 0.5).
 */
int eap_model_save(const struct eap_model *m, const char *dir,
		   struct eap_err *err);

/* Write cfg as config.json at path (the families eap_model_save writes). */
int eap_config_save(const struct eap_config *c, const char *path,
		    struct eap_err *err);

void eap_model_release(struct eap_model *m);

/*
 * Forward state for a batch of at most B rows of P positions: every
 * activation the backward passes need, one allocation.  Row b has
 * lengths[b] real positions; the rest is padding that never influences
 * real positions (causal attention, SPEC §4).
 */
struct eap_fwd_layer {
	float *x_in;     /* (B, P, d) residual stream entering the layer */
	float *ln1;      /* (B, P, d) pre-attention norm output (x_in if none) */
	float *ln1_stat; /* (B, P, 2) LayerNorm mean, 1/std; RMSNorm (B, P) 1/rms */
	float *proj;     /* (B, P, (H + 2 H_kv) dh) q|k|v as projected, before
			    QK-norm and regrouping; NULL (qkv is it) when
			    there is neither */
	float *qk_stat;  /* (B, P, H + H_kv) or (B, P, 2): the QK-norm's 1/rms */
	float *qkv;      /* (B, P, 3 H dh) q|k|v of every query head (K/V
			    copied to the heads of their group), after the
			    QK-norm and rotary: the attention core's input */
	float *att;      /* (B, H, P, P) attention probabilities */
	float *z;        /* (B, P, H dh) head outputs before W_O, head-major cols */
	float *attn_o;   /* (B, P, d) z W_O before the post-attention norm, if any */
	float *post1_stat; /* (B, P) its 1/rms */
	float *x_mid;    /* (B, P, d) residual after attention */
	float *ln2;      /* (B, P, d) pre-MLP norm output */
	float *ln2_stat; /* (B, P, 2) */
	float *fc;       /* (B, P, d_mlp), gated (B, P, 2 d_mlp): gate | up */
	float *gelu;     /* (B, P, d_mlp) activation of fc (of the gate) */
	float *glu;      /* (B, P, d_mlp) act(gate) * up, gated only */
	float *mlp_raw;  /* (B, P, d) MLP output before its post norm, if any */
	float *post2_stat; /* (B, P) */
	float *mlp_out;  /* (B, P, d) MLP output with its bias: node m{l} */
};

struct eap_fwd {
	size_t B, P;              /* capacity */
	size_t nb, np;            /* rows and positions of the last call */
	int32_t *lengths;         /* (B) */
	struct eap_fwd_layer *layers; /* (L) */
	float *x_out;             /* (B, P, d) final residual stream */
	float *lnf;               /* (B, P, d) */
	float *lnf_stat;          /* (B, P, 2) */
	float *lnf_last;          /* (B, d) LN_f at each row's last position */
	float *logits;            /* (B, V) at the last real position, or
				     (B, P, V) with all_positions; soft-capped
				     if the model caps them */
	float *rope_cs;           /* (P, rope.dim / 2, 2) cos, sin; or NULL */
	float *rope_local_cs;     /* the same for rope_local */
	int all_positions;
	int fast_gelu;            /* eap_gelu_forward_fast (attribution), not
				     eap_gelu_forward (training, the default) */
	float *mem;
	size_t n_mem;
};

int eap_fwd_init(struct eap_fwd *f, const struct eap_config *cfg, size_t B,
		 size_t P, int all_positions, struct eap_err *err);
void eap_fwd_release(struct eap_fwd *f);

/*
 * Run tokens (nb, np), row-major, right-padded, through the model.  Token
 * ids must be < V and lengths in 1..np, np <= n_ctx and <= f->P.
 */
int eap_model_forward(const struct eap_model *m, struct eap_fwd *f,
		      const int32_t *tokens, const int32_t *lengths, size_t nb,
		      size_t np, struct eap_err *err);

/* x0 (nb, np, d) = W_te[tokens] + W_pe[pos] (the input node's output). */
int eap_model_embed(const struct eap_model *m, float *x0,
		    const int32_t *tokens, size_t nb, size_t np,
		    struct eap_err *err);

/*
 * The forward pass from a given embedding output x0 (nb, np, d), e.g. an
 * interpolation for EAP-IG; x0 NULL means f->layers[0].x_in is already set.
 */
int eap_model_forward_embedded(const struct eap_model *m, struct eap_fwd *f,
			       const float *x0, const int32_t *lengths,
			       size_t nb, size_t np, struct eap_err *err);

/*
 * The layers l0..L-1, LN_f and the logits, from the residual stream the
 * caller put into f->layers[l0].x_in (f->x_out when l0 == L): the
 * unchanged prefix of a patched run is not recomputed.
 */
int eap_model_forward_from(const struct eap_model *m, struct eap_fwd *f,
			   size_t l0, const int32_t *lengths, size_t nb,
			   size_t np, struct eap_err *err);

/*
 * eap_model_forward_from over the positions p0..np-1 of each row only
 * (0 < p0 < every length), for patched runs whose inputs equal the clean
 * run's at every position < p0 (a shared prefix of clean and corrupted
 * prompts): with causal attention every output there is the clean run's.
 * f's buffers hold rows of np - p0 positions (x_in, x_mid, z, ... and
 * x_out: row b's position p at b (np - p0) + p - p0), except each
 * layer's qkv, which holds all np positions: those < p0 copied from pre
 * (the clean run, pre->nb rows of np positions; row b reads pre's row
 * b % pre->nb).  Rotary, windows and the causal mask use the absolute
 * position; the logits are each row's at lengths[b] - 1.  Not with
 * all_positions.
 */
int eap_model_forward_suffix(const struct eap_model *m, struct eap_fwd *f,
			     size_t l0, const struct eap_fwd *pre, size_t p0,
			     const int32_t *lengths, size_t nb, size_t np,
			     struct eap_err *err);

/*
 * As eap_model_forward_from, but layer l0 < L starts at its MLP, from the
 * residual stream after attention the caller put into f->layers[l0].x_mid
 * (EAP-IG on activations replaces a layer's attention output).
 */
int eap_model_forward_mid(const struct eap_model *m, struct eap_fwd *f,
			  size_t l0, const int32_t *lengths, size_t nb,
			  size_t np, struct eap_err *err);

/* ---- pieces of the forward that the attribution code shares ------------- */

struct eap_attn_opts;
/* The attention options of layer l (scale, soft-cap, window). */
void eap_model_attn_opts(const struct eap_config *c, size_t l,
			 struct eap_attn_opts *o);
/* The MLP's activation (GELU tanh, fast or not; exact GELU; SiLU). */
void eap_model_act_forward(const struct eap_config *c, int fast, float *out,
			   const float *x, size_t n);
/* Its backward: dx (n) = act'(x) dout, y = act(x) from the forward; dx
 * may be dout. */
void eap_model_act_backward(const struct eap_config *c, float *dx,
			    const float *x, const float *y, const float *dout,
			    size_t n);
/*
 * The MLP's activation backward over n rows: dfc (n, d_mlp; gated: n,
 * 2 d_mlp for gate | up) from dhid (n, d_mlp), the gradient at
 * act(fc) (gated: at act(gate) * up), with fc and act = act(fc or gate)
 * from the forward.  dfc may be dhid when not gated.
 */
void eap_model_mlp_act_backward(const struct eap_config *c, float *dfc,
				const float *fc, const float *act,
				const float *dhid, size_t n);
/* The rotary cos/sin table of layer l and its half width (0: none). */
const float *eap_model_rope_table(const struct eap_config *c,
				  const struct eap_fwd *f, size_t l,
				  size_t *half);
/*
 * From the projection proj (n, (H + 2 H_kv) dh) of layer l to the
 * attention core's qkv (n, 3 H dh): QK-norm (stats into qk_stat, (n, H +
 * H_kv)), K/V copied to each query head of their group, rotary on q and
 * k.  proj may be qkv when there is neither QK-norm nor grouping.  The
 * rows are batch rows of np positions each, the first at position p0
 * (0 but for eap_model_forward_suffix's).
 */
void eap_model_qkv_finish(const struct eap_model *m, const struct eap_fwd *f,
			  size_t l, float *qkv, float *proj, float *qk_stat,
			  size_t n, size_t np, size_t p0);

/*
 * qkv (nb rows of np positions, w3 floats each) from its compact suffix
 * (nb rows of np - p0 positions, at the start of qkv) and the keys and
 * values of positions < p0 of pre's row b % nb_pre (nb_pre rows of np
 * positions): the layout eap_attention_forward_opt's q0 reads.
 */
void eap_model_qkv_spread(float *qkv, const float *pre, size_t nb_pre,
			  size_t nb, size_t np, size_t p0, size_t w3);

/* Logits of row b at position p (p ignored unless all_positions). */
static inline const float *eap_fwd_logits(const struct eap_fwd *f,
					  size_t n_vocab, size_t b, size_t p)
{
	return f->all_positions ? f->logits + (b * f->np + p) * n_vocab
				: f->logits + b * n_vocab;
}

#endif
