/*
 * stability.h - checks every approximate score file can carry about
 * itself (issue #18 items 4 and 5):
 *
 * The exactness check (eap-score --check-exact K): a seeded random sample
 * of K distinct edges is scored exactly too (the same pairs, the same
 * exact scoring as eap-score --method exact --edges), and the method's
 * scores of those edges are compared with the exact ones:
 *   pearson, spearman   Pearson's r and Spearman's rho (average ranks)
 *   sign_agreement      fraction of the K edges whose scores have the
 *                       same sign (-1, 0, +1)
 *   topk_recall         of the k = ceil(K/10) sampled edges of largest
 *                       |exact score|, the fraction that are also among
 *                       the k of largest |approximate score| (ties to
 *                       the lower edge index)
 *
 * Stability (eap-score --bootstrap B): the attribution prompts are
 * resampled with replacement B times (seeded); each resample's mean edge
 * scores give the pruned top-n circuits of every size (eap_curve_init, as
 * eap-prune --sizes makes them).  Reported per size: each edge's selection
 * frequency (the fraction of the B circuits holding it) and the mean
 * Jaccard index |A ∩ B| / |A ∪ B| of the edge sets over the B(B-1)/2
 * pairs of circuits.  Per-example scores come from the gradient methods'
 * dy and g (eap_example_scores); exact scoring is not resampled.
 */
#ifndef EAP_STABILITY_H
#define EAP_STABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "eap/attrib.h"
#include "eap/circuit.h"
#include "eap/err.h"
#include "eap/graph.h"

/*
 * mask (n_fwd, n_bwd) = K distinct edges of g drawn uniformly with seed
 * (a partial Fisher-Yates shuffle of the edges in SPEC §5 order), so the
 * same seed and graph give the same sample.  EAP_EINVAL if K is 0 or
 * exceeds the graph's edges; EAP_ENOMEM.
 */
int eap_check_sample(const struct eap_graph *g, size_t K, uint64_t seed,
		     uint8_t *mask, struct eap_err *err);

struct eap_check_stats {
	size_t n;              /* edges compared (K) */
	size_t k;              /* top-k of topk_recall: ceil(n / 10) */
	double pearson, spearman, sign_agreement, topk_recall;
};

/*
 * The statistics above over the edges of mask (n_fwd, n_bwd), approx and
 * exact (n_fwd, n_bwd) scores.  Pearson and Spearman are NaN when a side
 * is constant.  EAP_EINVAL if mask is empty, EAP_ENOMEM.
 */
int eap_check_stats(const struct eap_graph *g, const uint8_t *mask,
		    const float *approx, const float *exact,
		    struct eap_check_stats *st, struct eap_err *err);

/*
 * Per-example edge scores of one batch after eap_run_score of a gradient
 * method: out (nb, n_fwd, n_bwd) gets, for each example, sum over
 * positions of dy . g, 0 off the graph (their mean over examples is what
 * eap_run_score accumulates).  dy as for eap_node_acc_add_grad (NULL:
 * r->y_cur).  out is accumulated in float from one matmul per example.
 */
void eap_example_scores(const struct eap_run *r, const struct eap_batch *bt,
			const float *dy, float *out);

struct eap_bootstrap {
	size_t B, K, n_fwd, n_bwd;
	size_t *sizes;        /* (K) requested sizes, ascending */
	float *freq;          /* (K, n_fwd, n_bwd) selection frequency */
	double *jaccard;      /* (K) mean pairwise Jaccard of the edge sets */
	double *edges_mean;   /* (K) mean edges after pruning */
};

/*
 * B resamples of the N examples' scores ex (N, n_fwd, n_bwd), drawn with
 * seed; circuits by sel (topn or greedy, pruned unless sel->unpruned) at
 * the K sizes (each at most g->n_edges).  B >= 2.  Errors: EAP_EINVAL,
 * EAP_ENOMEM, eap_curve_init's.
 */
int eap_bootstrap_run(struct eap_bootstrap *bs, const struct eap_graph *g,
		      const float *ex, size_t N, size_t B, uint64_t seed,
		      const struct eap_select *sel, const size_t *sizes,
		      size_t K, struct eap_err *err);
void eap_bootstrap_release(struct eap_bootstrap *bs);

#endif
