/*
 * train.h - training a model of any family (SPEC §3, README "Model
 * families") from scratch: next-token loss, the full backward pass with
 * the weight gradients of every op the forward has (LayerNorm, RMSNorm,
 * pre and post norms, parallel blocks, rotary, grouped K/V heads, QK-norm
 * per head or over all of q and k, soft-capped scores and logits, sliding
 * windows, gated MLPs, the embedding scale), AdamW with warm-up and cosine
 * decay, global-norm clipping, GPT-2 initialisation (norm weights 1:
 * Gemma's 1 + w is trained as its folded value, so w starts at 0).
 *
 * The gradient, and each AdamW moment, is one float32 allocation laid out
 * by the parameter table exactly like eap_model.params (eap_model_params),
 * so the gradient of a parameter at params + k is at grad + k.  With tied
 * embeddings wte receives both the embedding and the unembedding gradient.
 *
 *   struct eap_rng rng;
 *   struct eap_model m;
 *   struct eap_train t = {0};
 *   struct eap_train_hparams hp;
 *   struct eap_train_stat st;
 *
 *   eap_rng_init(&rng, seed);
 *   eap_model_alloc(&m, &cfg, &err);
 *   eap_train_init_weights(&m, &rng, &err);
 *   eap_train_hparams_default(&hp);
 *   hp.steps = 4000;
 *   eap_blas_threads(1);
 *   eap_train_init(&t, &m.cfg, B, P, n_threads, &err);
 *   for (s = 0; s < hp.steps; s++)
 *       eap_train_step(&t, &m, &hp, tokens, targets, B, P, &st, &err);
 *   eap_train_release(&t);
 *
 * Determinism: the rows of a batch are split into one fixed slice per
 * thread, and every sum runs in a fixed order, so the same inputs and
 * thread count give byte-identical weights.
 */
#ifndef EAP_TRAIN_H
#define EAP_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"
#include "eap/model.h"
#include "eap/rng.h"

/* Optimiser and schedule; the defaults are those that trained the model
 * organism (GPT-2 / nanoGPT practice). */
struct eap_train_hparams {
	double lr;           /* peak learning rate, 3e-3 */
	size_t warmup;       /* linear warm-up steps, 100 */
	size_t steps;        /* total steps: the cosine reaches min at steps */
	double min_lr_frac;  /* final lr / peak lr, 0.1 */
	double beta1, beta2; /* 0.9, 0.95 */
	double eps;          /* 1e-8 */
	double weight_decay; /* 0.1, decoupled, on 2-D tensors only: the
				weight matrices and, as in nanoGPT and llm.c,
				wte, wpe (and lm_head); not on biases or
				LayerNorm weights */
	double clip;         /* max global gradient norm, 1.0; <= 0: none */
};

void eap_train_hparams_default(struct eap_train_hparams *hp);

/*
 * Learning rate of step s (0-based): linear warm-up lr*(s+1)/warmup for
 * s < warmup, then cosine from lr down to min_lr_frac*lr at s = steps.
 */
double eap_train_lr(const struct eap_train_hparams *hp, size_t s);

/*
 * GPT-2 initialisation of m's parameters, drawn in table order from rng:
 * every matrix and embedding ~ N(0, 0.02), the residual projections
 * (attn.c_proj.weight, mlp.c_proj.weight) ~ N(0, 0.02/sqrt(2L)),
 * biases 0, LayerNorm weights 1.  Fails only when out of memory.
 */
int eap_train_init_weights(struct eap_model *m, struct eap_rng *rng,
			   struct eap_err *err);

/* Whether AdamW decays the parameter table row p (2-D tensors only). */
int eap_train_decays(const struct eap_param *p);

struct eap_train_worker; /* private: one slice of the batch */

struct eap_train {
	struct eap_config cfg;
	size_t B, P;            /* batch capacity */
	size_t n_params;
	float *grad;            /* (n_params) dloss/dparams, table layout */
	float *m, *v;           /* (n_params) AdamW moments */
	struct eap_param *table; /* (n_table) the parameter table */
	size_t n_table;
	size_t t;               /* AdamW steps taken */
	size_t n_workers;
	struct eap_train_worker *workers; /* (n_workers) */
};

/*
 * Allocate a trainer for batches of up to B rows of P positions, computed
 * by n_threads threads (>= 1), each on its own slice of the rows with its
 * own activations and gradient, summed in a fixed order.  The threads call
 * eap_sgemm concurrently, so with n_threads > 1 the BLAS library must run
 * single-threaded: call eap_blas_threads(1) first.  The result depends on
 * n_threads only through float rounding.
 */
int eap_train_init(struct eap_train *t, const struct eap_config *cfg,
		   size_t B, size_t P, size_t n_threads, struct eap_err *err);

/* Free everything; safe on a zeroed struct or after a failed init. */
void eap_train_release(struct eap_train *t);

/*
 * Set t->grad to the gradient of the mean next-token cross-entropy
 *   loss = mean over (b, p) with targets[b, p] >= 0 of
 *          -log softmax(logits[b, p])[targets[b, p]]
 * for tokens (nb, np), row-major; targets (nb, np) are the ids to predict
 * at each position, -1 where nothing is predicted (at least one must be
 * >= 0).  Every token id must be valid (pad with any id).  *loss gets the
 * loss.  The gradient is overwritten, not accumulated.  Uses the
 * trainer's threads.
 */
int eap_train_grad(struct eap_train *t, const struct eap_model *m,
		   const int32_t *tokens, const int32_t *targets, size_t nb,
		   size_t np, double *loss, struct eap_err *err);

/* Global L2 norm of t->grad (summed in double). */
double eap_train_grad_norm(const struct eap_train *t);

/*
 * One AdamW step (as torch.optim.AdamW) on m with gradient gscale * t->grad
 * (gscale is the clipping factor) and learning rate lr:
 *   p -= lr * wd * p                    (decayed rows only)
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr / (1-b1^t) * m / (sqrt(v / (1-b2^t)) + eps)
 */
void eap_train_adamw(struct eap_train *t, struct eap_model *m,
		     const struct eap_train_hparams *hp, double lr,
		     double gscale);

struct eap_train_stat {
	double loss;       /* before the step */
	double grad_norm;  /* before clipping */
	double lr;         /* used by the step */
};

/*
 * One training step: gradient, clipping to hp->clip (torch's
 * clip_grad_norm_: scale by clip / (norm + 1e-6) when that is < 1), the
 * scheduled learning rate of step t->t, AdamW.  A non-finite loss or
 * gradient is an error and leaves m unchanged.
 */
int eap_train_step(struct eap_train *t, struct eap_model *m,
		   const struct eap_train_hparams *hp, const int32_t *tokens,
		   const int32_t *targets, size_t nb, size_t np,
		   struct eap_train_stat *st, struct eap_err *err);

#endif
