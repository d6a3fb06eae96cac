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

struct eap_config {
	size_t n_layer;  /* L */
	size_t n_head;   /* H */
	size_t d_model;  /* d */
	size_t d_head;   /* d / H */
	size_t d_mlp;    /* MLP width, from the weights (4d unless n_inner) */
	size_t n_ctx;    /* n_positions */
	size_t n_vocab;  /* V */
	float ln_eps;    /* layer_norm_epsilon, default 1e-5 */
	int32_t bos_id;  /* bos_token_id, -1 if absent */
	int tied;        /* unembedding is wte (no lm_head.weight) */
};

struct eap_layer {
	float *ln1_w, *ln1_b;   /* (d) */
	float *w_qkv;           /* (d, 3d) Conv1D [in,out]: q | k | v */
	float *b_qkv;           /* (3d) */
	float *w_o;             /* (d, d): rows h*dh..(h+1)*dh are W_O[h] */
	float *b_o;             /* (d) */
	float *ln2_w, *ln2_b;   /* (d) */
	float *w_fc;            /* (d, d_mlp) */
	float *b_fc;            /* (d_mlp) */
	float *w_proj;          /* (d_mlp, d) */
	float *b_proj;          /* (d) */
};

struct eap_weights {
	float *wte;               /* (V, d) */
	float *wpe;               /* (n_ctx, d) */
	struct eap_layer *layers; /* (L) */
	float *lnf_w, *lnf_b;     /* (d) */
	float *unembed;           /* (V, d): wte itself when tied */
};

struct eap_model {
	struct eap_config cfg;
	struct eap_weights w;
	float *params;     /* (n_params): every parameter, table order */
	size_t n_params;
	char *dir;
};

/* One row of the parameter table. */
struct eap_param {
	char name[64];      /* Hugging Face name without prefix */
	size_t ndim;
	size_t shape[2];
	size_t offset;      /* into eap_model.params, in floats */
	size_t numel;
};

/*
 * Fill up to max rows of the parameter table of cfg into out (if not NULL)
 * and return the number of rows; *total gets the number of floats.
 */
size_t eap_model_params(const struct eap_config *cfg, struct eap_param *out,
			size_t max, size_t *total);

/* Read config.json (n_layer, n_head, n_embd, n_positions, vocab_size,
 * layer_norm_epsilon, bos_token_id, n_inner). d_mlp is 4d unless n_inner. */
int eap_config_load(struct eap_config *cfg, const char *path,
		    struct eap_err *err);

/* Load dir/config.json and dir/model.safetensors. */
int eap_model_load(struct eap_model *m, const char *dir, struct eap_err *err);

/* Allocate zeroed parameters for cfg and point the weights into them. */
int eap_model_alloc(struct eap_model *m, const struct eap_config *cfg,
		    struct eap_err *err);

/* Write dir/model.safetensors and dir/config.json (F32). */
int eap_model_save(const struct eap_model *m, const char *dir,
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
	float *ln1;      /* (B, P, d) LN1 output */
	float *ln1_stat; /* (B, P, 2) mean, 1/std */
	float *qkv;      /* (B, P, 3d) */
	float *att;      /* (B, H, P, P) attention probabilities */
	float *z;        /* (B, P, d) head outputs before W_O, head-major cols */
	float *x_mid;    /* (B, P, d) residual after attention */
	float *ln2;      /* (B, P, d) */
	float *ln2_stat; /* (B, P, 2) */
	float *fc;       /* (B, P, d_mlp) pre-activation */
	float *gelu;     /* (B, P, d_mlp) */
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
				     (B, P, V) with all_positions */
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
 * As eap_model_forward_from, but layer l0 < L starts at its MLP, from the
 * residual stream after attention the caller put into f->layers[l0].x_mid
 * (EAP-IG on activations replaces a layer's attention output).
 */
int eap_model_forward_mid(const struct eap_model *m, struct eap_fwd *f,
			  size_t l0, const int32_t *lengths, size_t nb,
			  size_t np, struct eap_err *err);

/* Logits of row b at position p (p ignored unless all_positions). */
static inline const float *eap_fwd_logits(const struct eap_fwd *f,
					  size_t n_vocab, size_t b, size_t p)
{
	return f->all_positions ? f->logits + (b * f->np + p) * n_vocab
				: f->logits + b * n_vocab;
}

#endif
