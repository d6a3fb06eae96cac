/*
 * faith.c - see include/eap/faith.h.
 */
#include "eap/faith.h"

#include <math.h>
#include <stdlib.h>

#include "eap/rng.h"

static double ratio(double mc, double mr, double mC)
{
	double gap = mc - mr;

	return gap != 0.0 ? (mC - mr) / gap : NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void eap_faith_compute(const double *m_clean, const double *m_corr,
		       const double *m_circ, size_t n, size_t n_boot,
		       uint64_t seed, struct eap_faith *out)
{
	double sc = 0.0, sr = 0.0, sC = 0.0;
	double *fs = n_boot ? malloc(n_boot * sizeof(double)) : NULL;
	struct eap_rng rng;
	size_t nf = 0;

	for (size_t i = 0; i < n; i++) {
		sc += m_clean[i];
		sr += m_corr[i];
		sC += m_circ[i];
	}
	out->m_clean = sc / (double)n;
	out->m_corrupted = sr / (double)n;
	out->m_circuit = sC / (double)n;
	out->f = ratio(out->m_clean, out->m_corrupted, out->m_circuit);
	out->lo = out->hi = NAN;
	if (!fs)
		return;
	eap_rng_init(&rng, seed);
	for (size_t b = 0; b < n_boot; b++) {
		double c = 0.0, r = 0.0, C = 0.0, f;

		for (size_t k = 0; k < n; k++) {
			size_t i = (size_t)eap_rng_below(&rng, n);

			c += m_clean[i];
			r += m_corr[i];
			C += m_circ[i];
		}
		f = ratio(c, r, C); /* the 1/n cancels */
		if (!isnan(f))
			fs[nf++] = f;
	}
	if (nf) {
		qsort(fs, nf, sizeof(double), cmp_double);
		out->lo = fs[(size_t)floor(0.025 * (double)(nf - 1))];
		out->hi = fs[(size_t)ceil(0.975 * (double)(nf - 1))];
	}
	free(fs);
}

const double eap_mib_fractions[EAP_MIB_K] = { 0.001, 0.002, 0.005, 0.01,
					      0.02,  0.05,  0.1,   0.2,
					      0.5,   1.0 };

size_t eap_mib_size(size_t k, size_t n_edges)
{
	size_t s = (size_t)floor(eap_mib_fractions[k] * (double)n_edges + 0.5);

	return s ? s : 1;
}

/* f at t, linear between the points (x ascending, x[0] <= t <= x[k-1]) */
static double interp_at(const long *x, const double *f, size_t k, double t)
{
	size_t i = 0;

	while (i + 1 < k && (double)x[i + 1] < t)
		i++;
	if ((double)x[i] >= t || i + 1 == k)
		return f[i];
	if ((double)x[i + 1] == t)
		return f[i + 1];
	return f[i] + (f[i + 1] - f[i]) * (t - (double)x[i]) /
		(double)(x[i + 1] - x[i]);
}

void eap_curve_summarize(const long *x, const long *final, const double *f,
			 size_t k, size_t n_edges, struct eap_curve_summary *out)
{
	double area = 0.0, span, cpr = 0.0, cmd = 0.0, prev = 0.0;

	out->min_f80 = out->min_f90 = -1;
	for (size_t i = 0; i < k; i++) {
		if (out->min_f80 < 0 && f[i] >= 0.8)
			out->min_f80 = final[i];
		if (out->min_f90 < 0 && f[i] >= 0.9)
			out->min_f90 = final[i];
	}
	/* log-spaced AUC; a size 0 has no log position */
	{
		size_t first = 0;

		while (first < k && x[first] < 1)
			first++;
		span = first < k ? log10((double)x[k - 1]) - log10((double)x[first]) : 0.0;
		for (size_t i = first + 1; i < k; i++)
			area += 0.5 * (f[i] + f[i - 1]) *
				(log10((double)x[i]) - log10((double)x[i - 1]));
		out->auc = span > 0 ? area / span : (first < k ? f[first] : NAN);
	}
	if (!k || (double)x[0] > (double)eap_mib_size(0, n_edges) ||
	    (double)x[k - 1] < (double)eap_mib_size(EAP_MIB_K - 1, n_edges)) {
		out->cpr = out->cmd = NAN;
		return;
	}
	for (size_t j = 0; j < EAP_MIB_K; j++) {
		double fj = interp_at(x, f, k, (double)eap_mib_size(j, n_edges));

		if (j) {
			double df = eap_mib_fractions[j] - eap_mib_fractions[j - 1];

			cpr += 0.5 * (fj + prev) * df;
			cmd += 0.5 * (fabs(1.0 - fj) + fabs(1.0 - prev)) * df;
		}
		prev = fj;
	}
	out->cpr = cpr;
	out->cmd = cmd;
}

/* auc of the curve f over the sizes x */
static double auc_of(const long *x, const double *f, size_t K)
{
	struct eap_curve_summary sm;

	eap_curve_summarize(x, x, f, K, (size_t)x[K - 1], &sm);
	return sm.auc;
}

/*
 * Seed s's AUCs of a and b with example i weighted w[i] times (w NULL:
 * once each); fa, fb (K) are scratch.
 */
static void pair_aucs(const struct eap_curve_pair *s, const size_t *w,
		      double *fa, double *fb, double *auc_a, double *auc_b)
{
	double c = 0.0, r = 0.0;

	for (size_t i = 0; i < s->N; i++) {
		double wi = w ? (double)w[i] : 1.0;

		c += wi * s->clean[i];
		r += wi * s->corr[i];
	}
	for (size_t k = 0; k < s->K; k++) {
		const double *ca = s->circ_a + k * s->N, *cb = s->circ_b + k * s->N;
		double A = 0.0, B = 0.0;

		for (size_t i = 0; i < s->N; i++) {
			double wi = w ? (double)w[i] : 1.0;

			A += wi * ca[i];
			B += wi * cb[i];
		}
		fa[k] = ratio(c, r, A); /* the weights' sum cancels */
		fb[k] = ratio(c, r, B);
	}
	*auc_a = auc_of(s->x, fa, s->K);
	*auc_b = auc_of(s->x, fb, s->K);
}

int eap_auc_diff(const struct eap_curve_pair *s, size_t S, size_t n_boot,
		 uint64_t seed, struct eap_auc_diff *out)
{
	size_t maxK = 0, maxN = 0, nd = 0;
	double *fa, *fb, *ds = NULL;
	size_t *w;
	struct eap_rng rng;

	for (size_t j = 0; j < S; j++) {
		maxK = s[j].K > maxK ? s[j].K : maxK;
		maxN = s[j].N > maxN ? s[j].N : maxN;
	}
	fa = malloc(2 * (maxK ? maxK : 1) * sizeof(double));
	w = malloc((maxN ? maxN : 1) * sizeof(size_t));
	if (n_boot)
		ds = malloc(n_boot * sizeof(double));
	if (!fa || !w || (n_boot && !ds)) {
		free(fa);
		free(w);
		free(ds);
		return -1;
	}
	fb = fa + maxK;
	out->auc_a = out->auc_b = out->diff = 0.0;
	for (size_t j = 0; j < S; j++) {
		double a, b;

		pair_aucs(&s[j], NULL, fa, fb, &a, &b);
		out->auc_a += a / (double)S;
		out->auc_b += b / (double)S;
		out->diff += (a - b) / (double)S;
	}
	out->lo = out->hi = NAN;
	eap_rng_init(&rng, seed);
	for (size_t t = 0; t < n_boot; t++) {
		double d = 0.0;

		for (size_t j = 0; j < S; j++) {
			const struct eap_curve_pair *p = &s[eap_rng_below(&rng, S)];
			double a, b;

			for (size_t i = 0; i < p->N; i++)
				w[i] = 0;
			for (size_t i = 0; i < p->N; i++)
				w[eap_rng_below(&rng, p->N)]++;
			pair_aucs(p, w, fa, fb, &a, &b);
			d += (a - b) / (double)S;
		}
		if (!isnan(d))
			ds[nd++] = d;
	}
	if (nd) {
		qsort(ds, nd, sizeof(double), cmp_double);
		out->lo = ds[(size_t)floor(0.025 * (double)(nd - 1))];
		out->hi = ds[(size_t)ceil(0.975 * (double)(nd - 1))];
	}
	free(fa);
	free(w);
	free(ds);
	return 0;
}
