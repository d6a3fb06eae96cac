/*
 * stability.c - the exactness check and bootstrap stability (see
 * stability.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eap/linalg.h"
#include "eap/rng.h"
#include "eap/stability.h"
#include "eap/stats.h"

int eap_check_sample(const struct eap_graph *g, size_t K, uint64_t seed,
		     uint8_t *mask, struct eap_err *err)
{
	size_t E = g->n_fwd * g->n_bwd, n = 0;
	size_t *idx;
	struct eap_rng rng;

	if (!K || K > g->n_edges)
		return eap_err_set(err, EAP_EINVAL,
				   "cannot sample %zu edges of a graph of %zu", K,
				   g->n_edges);
	if (!(idx = malloc(g->n_edges * sizeof(*idx))))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (size_t i = 0; i < E; i++)
		if (g->edge_mask[i])
			idx[n++] = i;
	eap_rng_init(&rng, seed);
	memset(mask, 0, E);
	for (size_t i = 0; i < K; i++) {
		size_t j = i + (size_t)eap_rng_below(&rng, n - i), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		mask[idx[i]] = 1;
	}
	free(idx);
	return 0;
}

static int sgn(double x) { return (x > 0) - (x < 0); }

struct keyed { double key; size_t i; };

static int keyed_desc(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;

	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* in (n) = 1 for the k entries of largest |x| (ties to the lower index) */
static void top_k(const double *x, size_t n, size_t k, struct keyed *buf,
		  uint8_t *in)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (struct keyed){ fabs(x[i]), i };
	qsort(buf, n, sizeof(*buf), keyed_desc);
	memset(in, 0, n);
	for (size_t i = 0; i < k; i++)
		in[buf[i].i] = 1;
}

int eap_check_stats(const struct eap_graph *g, const uint8_t *mask,
		    const float *approx, const float *exact,
		    struct eap_check_stats *st, struct eap_err *err)
{
	size_t E = g->n_fwd * g->n_bwd, n = 0, agree = 0, hit = 0;
	double *a = NULL, *x = NULL;
	struct keyed *buf = NULL;
	uint8_t *ta = NULL, *tx = NULL;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < E; i++)
		n += mask[i] != 0;
	if (!n)
		return eap_err_set(err, EAP_EINVAL, "no edges to check");
	a = malloc(n * sizeof(*a));
	x = malloc(n * sizeof(*x));
	buf = malloc(n * sizeof(*buf));
	ta = malloc(n);
	tx = malloc(n);
	if (!a || !x || !buf || !ta || !tx) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	n = 0;
	for (size_t i = 0; i < E; i++)
		if (mask[i]) {
			a[n] = approx[i];
			x[n] = exact[i];
			agree += sgn(a[n]) == sgn(x[n]);
			n++;
		}
	st->n = n;
	st->k = (n + 9) / 10;
	st->pearson = eap_stats_pearson(a, x, n);
	if ((rc = eap_stats_spearman(a, x, n, &st->spearman, err)))
		goto out;
	st->sign_agreement = (double)agree / (double)n;
	top_k(a, n, st->k, buf, ta);
	top_k(x, n, st->k, buf, tx);
	for (size_t i = 0; i < n; i++)
		hit += ta[i] && tx[i];
	st->topk_recall = (double)hit / (double)st->k;
out:
	free(a);
	free(x);
	free(buf);
	free(ta);
	free(tx);
	return rc;
}

void eap_example_scores(const struct eap_run *r, const struct eap_batch *bt,
			const float *dy, float *out)
{
	const struct eap_graph *g = r->graph;
	size_t nb = bt->nb, np = bt->np, d = r->model->cfg.d_model;
	size_t nd = nb * np * d, E = g->n_fwd * g->n_bwd;

	if (!dy)
		dy = r->y_cur;
	for (size_t b = 0; b < nb; b++) {
		float *s = out + b * E;

		eap_sgemm(0, 1, g->n_fwd, g->n_bwd, np * d, 1.0f,
			  dy + b * np * d, nd, r->grad + b * np * d, nd, 0.0f, s,
			  g->n_bwd);
		for (size_t i = 0; i < E; i++)
			if (!g->edge_mask[i])
				s[i] = 0.0f;
	}
}

void eap_bootstrap_release(struct eap_bootstrap *bs)
{
	free(bs->sizes);
	free(bs->freq);
	free(bs->jaccard);
	free(bs->edges_mean);
	memset(bs, 0, sizeof(*bs));
}

int eap_bootstrap_run(struct eap_bootstrap *bs, const struct eap_graph *g,
		      const float *ex, size_t N, size_t B, uint64_t seed,
		      const struct eap_select *sel, const size_t *sizes,
		      size_t K, struct eap_err *err)
{
	size_t E = g->n_fwd * g->n_bwd;
	uint8_t *all = NULL;  /* (B, K, E) the circuits */
	double *sum = NULL;
	float *mean = NULL;
	struct eap_rng rng;
	int rc = 0;

	memset(bs, 0, sizeof(*bs));
	if (B < 2 || !N || !K)
		return eap_err_set(err, EAP_EINVAL,
				   "bootstrap needs at least 2 resamples, 1 example "
				   "and 1 size (got %zu, %zu, %zu)", B, N, K);
	bs->B = B;
	bs->K = K;
	bs->n_fwd = g->n_fwd;
	bs->n_bwd = g->n_bwd;
	bs->sizes = malloc(K * sizeof(size_t));
	bs->freq = calloc(K * E, sizeof(float));
	bs->jaccard = calloc(K, sizeof(double));
	bs->edges_mean = calloc(K, sizeof(double));
	all = malloc(B * K * E);
	sum = malloc(E * sizeof(double));
	mean = malloc(E * sizeof(float));
	if (!bs->sizes || !bs->freq || !bs->jaccard || !bs->edges_mean ||
	    !all || !sum || !mean) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(bs->sizes, sizes, K * sizeof(size_t));
	eap_rng_init(&rng, seed);
	for (size_t b = 0; b < B && !rc; b++) {
		struct eap_curve cv;

		memset(sum, 0, E * sizeof(double));
		for (size_t i = 0; i < N; i++) {
			const float *s = ex + (size_t)eap_rng_below(&rng, N) * E;

			for (size_t e = 0; e < E; e++)
				sum[e] += s[e];
		}
		for (size_t e = 0; e < E; e++)
			mean[e] = (float)(sum[e] / (double)N);
		if ((rc = eap_curve_init(&cv, g, mean, sel, sizes, K, err)))
			break;
		memcpy(all + b * K * E, cv.in_graph, K * E);
		for (size_t k = 0; k < K; k++)
			bs->edges_mean[k] += (double)cv.edges[k] / (double)B;
		eap_curve_release(&cv);
	}
	for (size_t k = 0; k < K && !rc; k++) {
		double jsum = 0.0;

		for (size_t b = 0; b < B; b++) {
			const uint8_t *c = all + (b * K + k) * E;

			for (size_t e = 0; e < E; e++)
				bs->freq[k * E + e] += c[e] ? 1.0f : 0.0f;
			for (size_t b2 = b + 1; b2 < B; b2++)
				jsum += eap_stats_iou(c, all + (b2 * K + k) * E, E,
						      NULL, NULL);
		}
		for (size_t e = 0; e < E; e++)
			bs->freq[k * E + e] /= (float)B; /* counts are exact */
		bs->jaccard[k] = jsum / (double)(B * (B - 1) / 2);
	}
out:
	free(all);
	free(sum);
	free(mean);
	if (rc)
		eap_bootstrap_release(bs);
	return rc;
}
