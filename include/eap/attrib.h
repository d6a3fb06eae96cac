/*
 * attrib.h - the edge-level graph run: node outputs, gradients at every
 * backward input, patched forwards, metrics and edge scores (SPEC §5-§9).
 *
 * A struct eap_run owns the buffers for one batch of at most B pairs of P
 * positions.  Node outputs and gradients are stored node-major,
 *   Y (n_fwd, B, P, d)   forward-node outputs y_u
 *   G (n_bwd, B, P, d)   gradients g_v = dm/dx_v of backward inputs
 * so that the edge scores of a batch are one matrix product
 *   S (n_fwd, n_bwd) += dY (n_fwd, B*P*d) G^T (B*P*d, n_bwd).
 *
 * Calling sequence for scores (what eap-score does):
 *   eap_run_init(&run, &model, &graph, B, P, &err);
 *   eap_scores_init(&acc, &graph);
 *   for each batch:  eap_run_score(&run, &batch, method, metric, steps,
 *                                  NULL, &acc, &err);
 *   eap_scores_finish(&acc, scores);   // mean over examples, 0 off-graph
 *   eap_run_release(&run);
 */
#ifndef EAP_ATTRIB_H
#define EAP_ATTRIB_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"
#include "eap/graph.h"
#include "eap/model.h"

enum eap_metric {
	EAP_METRIC_LOGIT_DIFF, /* mean answer logit - mean foil logit */
	EAP_METRIC_PROB_DIFF,  /* sum answer probs - sum foil probs */
	EAP_METRIC_KL,         /* KL(p_clean || p) / V, the reference's mean */
	EAP_METRIC_KL_SUM,     /* KL(p_clean || p), the true KL */
};

enum eap_method {
	EAP_METHOD_EAP,             /* gradient at the clean input */
	EAP_METHOD_EAP_IG,          /* integrated gradients on the input */
	EAP_METHOD_CLEAN_CORRUPTED, /* mean of clean and corrupted gradients */
	EAP_METHOD_EXACT,           /* activation patching, edge by edge */
	EAP_METHOD_EAP_IG_ACT,      /* integrated gradients on each layer's
				       outputs in turn */
	EAP_METHOD_RELP,            /* EAP with the LRP rules of RelP in the
				       backward (README "RelP and EAP-GP") */
	EAP_METHOD_EAP_GP,          /* integrated gradients along GradPath,
				       from the clean input towards the
				       corrupted output (EAP-GP) */
};

/* Parse "logit_diff" etc. / "eap" etc.; -1 if unknown. */
int eap_metric_parse(const char *s);
int eap_method_parse(const char *s);
const char *eap_metric_name(enum eap_metric m);
const char *eap_method_name(enum eap_method m);

/*
 * One batch of clean/corrupted pairs, right-padded to np positions.
 * Answers and foils are id sets padded with -1.
 */
struct eap_batch {
	size_t nb, np;
	size_t n_ans, n_foil;  /* widths of answers / foils */
	const int32_t *clean;      /* (nb, np) */
	const int32_t *corrupted;  /* (nb, np) */
	const int32_t *lengths;    /* (nb) */
	const int32_t *answers;    /* (nb, n_ans) */
	const int32_t *foils;      /* (nb, n_foil) */
};

/*
 * The metric of one example from its logits (V); clean_logp (V) is the
 * clean log-softmax, needed by the KL metrics (else NULL).  If dlogits is
 * not NULL it gets dm/dlogits (V).
 */
double eap_metric_eval(enum eap_metric metric, const float *logits,
		       size_t V, const int32_t *answers, size_t n_ans,
		       const int32_t *foils, size_t n_foil,
		       const float *clean_logp, float *dlogits);

struct eap_run {
	const struct eap_model *model;
	const struct eap_graph *graph;
	size_t B, P;
	struct eap_fwd fwd;     /* the last plain forward */
	float *y_clean;         /* (n_fwd, B, P, d) */
	float *y_corr;          /* (n_fwd, B, P, d) */
	float *y_cur;           /* (n_fwd, B, P, d) patched-run outputs */
	float *grad;            /* (n_bwd, B, P, d) */
	float *x0;              /* (B, P, d) interpolated embedding */
	float *clean_logp;      /* (B, V) clean log-softmax at the last pos */
	float *dlogits;         /* (B, V) */
	float *scratch;         /* work space, see attrib.c */
	double *metric_clean;   /* (B) */
	double *metric_corr;    /* (B) */
	size_t n_scratch;
	struct eap_fwd *stacks; /* exact scoring: one stack for each BLAS
				   thread, each holding many patched copies
				   of a batch along its rows and scoring
				   whole backward inputs with one BLAS
				   thread; allocated on first use */
	size_t n_stacks;
	size_t stack_groups;    /* copies each stack holds */
	/*
	 * Gradient methods split a batch's rows over lanes, one thread and
	 * one BLAS thread each (allocated on first use, as many as BLAS
	 * threads).  A lane is a run of its own forward and scratch whose
	 * y_clean, y_corr, y_cur, grad, x0, clean_logp, dlogits and metric
	 * pointers borrow its rows of this run's buffers; node_stride is
	 * then the distance between nodes in those (0: nb * np * d).
	 */
	struct eap_run *lanes;
	size_t n_lanes;
	size_t node_stride;
	/*
	 * Patched runs stack many circuits (and prompts) along the rows of
	 * one forward, one stack for each BLAS thread (allocated on first
	 * use, within a memory budget).  patch_group, if not 0, caps the
	 * circuits a stack holds (1: one circuit at a time).
	 */
	struct eap_patch *patch;
	size_t patch_group;
	/*
	 * Backward rules: lrp != 0 replaces the local gradients by RelP's
	 * LRP rules (norm scales and attention patterns constant,
	 * activations pass relevance through, gated products split half
	 * and half).  gp_target (nb, V), if not NULL, makes the backward
	 * differentiate ||logits - gp_target||^2 at each row's last
	 * position instead of the metric (EAP-GP's path).  Both are set
	 * and cleared by eap_run_score around its own backward passes.
	 */
	int lrp;
	const float *gp_target;
	/*
	 * Per-layer contraction (eap_run_per_layer): every backward pass of
	 * a gradient method contracts each layer's backward-input gradients
	 * (times the pass's weight) with dY as it reaches the layer, into
	 * lsum, so grad holds one layer's inputs ((3H + 1), B, P, d) instead
	 * of all n_bwd.  ldy: this run's (lane's) dY rows, node_stride
	 * apart; ltile (n_fwd, 3H + 1) a layer's part.
	 */
	int per_layer;
	const float *ldy;
	double *lsum;           /* (n_fwd, n_bwd) */
	float *ltile;
	/*
	 * Exact scoring with T > 1 threads splits a backward input's edges
	 * into up to T units of at least this many edges (0: 16).
	 */
	size_t exact_unit_min;
	/*
	 * Shared prefix (README "Exact patching on large graphs"): exact
	 * scoring's patched copies and patched runs (eap_run_patched*) run
	 * positions p0..np-1 only, reading the clean run's keys and values
	 * below p0; p0 is the batch's eap_batch_prefix (patched runs: and
	 * below it every ablated value equals the clean output, so 0 with
	 * mean ablation), set by each call.  prefix_off (eap_run_init sets
	 * it if the environment variable EAP_NO_PREFIX is set and not "0")
	 * keeps p0 = 0: every position recomputed, as before.
	 */
	int prefix_off;
	size_t p0;
};

/*
 * Positions a pair's patched runs need not recompute: clean and corrupted
 * tokens (len) agree before the first that differs, and the metric reads
 * the last (len - 1), so min(first differing position, len - 1).
 */
size_t eap_prefix_len(const int32_t *clean, const int32_t *corrupted,
		      size_t len);

/* The batch's shared prefix: the least eap_prefix_len of its rows. */
size_t eap_batch_prefix(const struct eap_batch *bt);

int eap_run_init(struct eap_run *r, const struct eap_model *m,
		 const struct eap_graph *g, size_t B, size_t P,
		 struct eap_err *err);
void eap_run_release(struct eap_run *r);

/*
 * Switch r to per-layer contraction (see struct eap_run): memory for
 * gradients drops from n_bwd to 3H + 1 backward inputs, and r->grad no
 * longer holds every gradient after eap_run_score (node-level scores
 * need it).  Every gradient method's edge scores then contract as they
 * go (exact scoring holds no gradients): a method of several backward
 * passes (clean-corrupted's 2, EAP-IG's step chunks, EAP-GP's m,
 * EAP-IG-act's (2L + 1) m) contracts once for each, which costs a
 * contraction per pass instead of one per batch.  Scores equal the full
 * contraction's up to float summation order.
 */
int eap_run_per_layer(struct eap_run *r, struct eap_err *err);

/*
 * Plain forward of tokens (or of the embedding x0 if not NULL) and copy
 * every node output into y (n_fwd, nb, np, d).  Fills r->fwd.
 */
int eap_run_nodes(struct eap_run *r, const int32_t *tokens, const float *x0,
		  const int32_t *lengths, size_t nb, size_t np, float *y,
		  struct eap_err *err);

/*
 * The clean and corrupted runs of a batch: y_clean, y_corr, clean_logp,
 * metric_clean and metric_corr.
 */
int eap_run_baselines(struct eap_run *r, const struct eap_batch *bt,
		      enum eap_metric metric, struct eap_err *err);

/*
 * After a plain forward (eap_run_nodes), the metric per row into
 * metric_out (may be NULL) and alpha * dm/dx_v added into r->grad for
 * every backward input v (through v's own LayerNorm and path only).
 */
int eap_run_backward(struct eap_run *r, const struct eap_batch *bt,
		     enum eap_metric metric, float alpha, double *metric_out,
		     struct eap_err *err);

/*
 * A patched run on the clean prompts (SPEC §9): every edge u->v with
 * keep[u*n_bwd+v] == 0 carries y_ablate[u] (default: the corrupted output
 * y_corr) instead of u's output in this run.  Layers before start_layer
 * are taken from the clean run unchanged (prefix reuse: correct only if no
 * edge into those layers is patched).  Needs eap_run_baselines first.
 * metric_out (nb) gets the metric per row.
 */
int eap_run_patched(struct eap_run *r, const struct eap_batch *bt,
		    enum eap_metric metric, const uint8_t *keep,
		    const float *y_ablate, size_t start_layer,
		    double *metric_out, struct eap_err *err);

/*
 * K patched runs at once: circuit k keeps keep + k * n_fwd * n_bwd (as
 * eap_run_patched's keep) and metric_out (K, nb) gets its metric per row
 * at metric_out + k * nb.  The circuits and the batch's prompts are
 * stacked along the rows of shared forwards, split over the BLAS threads
 * (each running its stacks with one BLAS thread).  A row's metric
 * depends on how many rows share its matmuls only through BLAS's
 * rounding (about 1e-6 relative).
 */
int eap_run_patched_many(struct eap_run *r, const struct eap_batch *bt,
			 enum eap_metric metric, const uint8_t *keep, size_t K,
			 const float *y_ablate, double *metric_out,
			 struct eap_err *err);

/*
 * Mean ablation (SPEC §9): add the node outputs of the batch's clean
 * prompts at every real position into sum (n_fwd, d) and the number of
 * positions into *count.  eap_run_mean_fill then broadcasts sum / count
 * into y (n_fwd, nb, np, d) for eap_run_patched's y_ablate.
 */
int eap_run_mean_add(struct eap_run *r, const struct eap_batch *bt,
		     double *sum, size_t *count, struct eap_err *err);
void eap_run_mean_fill(const struct eap_run *r, const double *sum,
		       size_t count, size_t nb, size_t np, float *y);

/* Running sums of scores over examples, in double. */
struct eap_score_acc {
	size_t n_fwd, n_bwd;
	double *sum;        /* (n_fwd, n_bwd) */
	size_t n_examples;
};

int eap_score_acc_init(struct eap_score_acc *a, const struct eap_graph *g,
		       struct eap_err *err);
void eap_score_acc_release(struct eap_score_acc *a);

/* scores (n_fwd, n_bwd) = sum / n_examples, 0 where g has no edge. */
void eap_score_acc_finish(const struct eap_score_acc *a,
			  const struct eap_graph *g, float *scores);

/*
 * Score one batch with method and metric into acc.  steps is the number of
 * IG steps (EAP-IG; EAP-IG-act runs (2L + 1) steps forwards and backwards;
 * EAP-GP the number of GradPath steps).  dy (n_fwd, nb, np, d), if not NULL, is the
 * corrupted-minus-clean node output difference read from acts.h5;
 * otherwise it is computed.  edges (n_fwd, n_bwd), if not NULL, limits
 * exact scoring to a subset.
 */
int eap_run_score(struct eap_run *r, const struct eap_batch *bt,
		  enum eap_method method, enum eap_metric metric, int steps,
		  const float *dy, const uint8_t *edges,
		  struct eap_score_acc *acc, struct eap_err *err);

#endif
