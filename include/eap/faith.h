/*
 * faith.h - faithfulness of circuits and of whole curves (SPEC §9).
 *
 * F(C) = (m(C) - m(corrupted)) / (m(clean) - m(corrupted)), each m the mean
 * over examples, with a 95% bootstrap interval over examples: resample the
 * examples with replacement (a seeded RNG, so runs reproduce), recompute F
 * on each resample, take the 2.5th and 97.5th percentiles.
 *
 * Curve summaries, over circuits sorted by their requested size x (the
 * grid every method shares, so areas compare methods on the same range;
 * pruning leaves each method a different final count):
 *   auc      area under F over log10(x), divided by the log range, so a
 *            curve at F = 1 everywhere has auc 1;
 *   cpr, cmd the MIB circuit-localization areas over the edge fraction
 *            f: cpr = integral of F df, cmd = integral of |1 - F| df,
 *            trapezoids over MIB's grid f = 0.001, 0.002, 0.005, ..., 0.5,
 *            1, F taken at the size eap_mib_size(k) of each f (linear
 *            interpolation in x between evaluated sizes, exact when the
 *            curve was evaluated at those sizes); NaN when the evaluated
 *            sizes do not span the grid;
 *   min_f80  the final edge count of the smallest circuit with F >= 0.8
 *            (and 0.9), or -1 if none.
 */
#ifndef EAP_FAITH_H
#define EAP_FAITH_H

#include <stddef.h>
#include <stdint.h>

struct eap_faith {
	double m_circuit, m_clean, m_corrupted;  /* means over examples */
	double f, lo, hi;                        /* F and its 95% interval */
};

/* m_clean, m_corr, m_circ (n) per example; n_boot resamples (0: no CI). */
void eap_faith_compute(const double *m_clean, const double *m_corr,
		       const double *m_circ, size_t n, size_t n_boot,
		       uint64_t seed, struct eap_faith *out);

/* MIB's edge-fraction grid and the circuit size of its point k. */
#define EAP_MIB_K 10
extern const double eap_mib_fractions[EAP_MIB_K];
size_t eap_mib_size(size_t k, size_t n_edges);

struct eap_curve_summary {
	double auc, cpr, cmd;
	long min_f80, min_f90;
};

/* x (k) requested sizes, ascending; final (k) edge counts after pruning;
 * f (k) faithfulness. */
void eap_curve_summarize(const long *x, const long *final, const double *f,
			 size_t k, size_t n_edges, struct eap_curve_summary *out);

/*
 * Two methods' curves on the same examples of one model (a seed): the
 * requested sizes x (K, ascending, shared), the per-example metrics on
 * clean and corrupted inputs (N) and of each method's circuits (K, N).
 */
struct eap_curve_pair {
	size_t K, N;
	const long *x;
	const double *clean, *corr;
	const double *circ_a, *circ_b;
};

struct eap_auc_diff {
	double auc_a, auc_b;  /* eap_curve_summarize's auc, mean over seeds */
	double diff;          /* auc_a - auc_b, mean over seeds */
	double lo, hi;        /* its 95% interval (NaN without n_boot) */
};

/*
 * AUC(a) - AUC(b) over S seeds (s[S]), with a 95% percentile interval
 * from a two-level bootstrap: each resample draws S seeds with
 * replacement and, within each drawn seed, its N examples with
 * replacement, the same draw for both methods (the difference is
 * paired), then recomputes every F from the resampled means and the
 * AUCs.  So the interval covers the variation over both seeds and
 * examples; with S = 1 it is over examples alone.  -1 (out of memory)
 * or 0.
 */
int eap_auc_diff(const struct eap_curve_pair *s, size_t S, size_t n_boot,
		 uint64_t seed, struct eap_auc_diff *out);

#endif
