/*
 * stats.c - Pearson, Spearman (average ranks for ties) and IoU; see
 * include/eap/stats.h.
 */
#include "eap/stats.h"

#include <math.h>
#include <stdlib.h>

double eap_stats_pearson(const double *x, const double *y, size_t n)
{
	double mx = 0.0, my = 0.0, sxy = 0.0, sxx = 0.0, syy = 0.0;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i]) || !isfinite(y[i]))
			return NAN;
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (size_t i = 0; i < n; i++) {
		double dx = x[i] - mx, dy = y[i] - my;

		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	if (sxx == 0.0 || syy == 0.0)
		return NAN;
	/* rounding may leave |r| a hair above 1 */
	return fmax(-1.0, fmin(1.0, sxy / sqrt(sxx * syy)));
}

struct keyed {
	double v;
	size_t i;
};

/* by value, then by index, so the order is total and reproducible */
static int cmp_keyed(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;

	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

int eap_stats_ranks(const double *x, size_t n, double *ranks,
		    struct eap_err *err)
{
	struct keyed *k;

	for (size_t i = 0; i < n; i++)
		if (isnan(x[i]))
			return eap_err_set(err, EAP_EINVAL,
					   "value %zu is NaN, which has no rank", i);
	if (n == 0)
		return 0;
	k = malloc(n * sizeof(*k));
	if (!k)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		k[i].v = x[i];
		k[i].i = i;
	}
	qsort(k, n, sizeof(*k), cmp_keyed);
	/* a run of equal values at sorted positions a..b-1 (ranks a+1..b)
	 * shares their mean, (a + 1 + b) / 2 */
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && k[b].v == k[a].v; b++)
			;
		for (size_t j = a; j < b; j++)
			ranks[k[j].i] = 0.5 * (double)(a + 1 + b);
	}
	free(k);
	return 0;
}

int eap_stats_spearman(const double *x, const double *y, size_t n,
		       double *rho, struct eap_err *err)
{
	double *r;
	int rc;

	*rho = NAN;
	if (n < 2)
		return 0;
	r = malloc(2 * n * sizeof(double));
	if (!r)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	if ((rc = eap_stats_ranks(x, n, r, err)) == 0 &&
	    (rc = eap_stats_ranks(y, n, r + n, err)) == 0)
		*rho = eap_stats_pearson(r, r + n, n);
	free(r);
	return rc;
}

double eap_stats_iou(const uint8_t *a, const uint8_t *b, size_t n,
		     size_t *inter, size_t *uni)
{
	size_t i_n = 0, u_n = 0;

	for (size_t i = 0; i < n; i++) {
		i_n += a[i] && b[i];
		u_n += a[i] || b[i];
	}
	if (inter)
		*inter = i_n;
	if (uni)
		*uni = u_n;
	return u_n ? (double)i_n / (double)u_n : 1.0;
}
