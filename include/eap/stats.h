/*
 * stats.h - statistics for comparing methods with each other (issue #9):
 * Pearson and Spearman correlation of two score vectors and the overlap
 * (intersection over union) of two 0/1 sets.  eap-compare uses them to
 * set EAP and EAP-IG beside exact patching, the paper's ground truth.
 *
 *   double r = eap_stats_pearson(x, y, n);
 *   double rho;
 *   if (eap_stats_spearman(x, y, n, &rho, &err) < 0) ...   (EAP_ENOMEM)
 *   double iou = eap_stats_iou(a, b, n);
 *
 * Sums run in double.  A correlation is undefined (NaN) when n < 2 or
 * when either vector is constant; callers print it as "nan".  Inputs are
 * borrowed; nothing here keeps a pointer.
 */
#ifndef EAP_STATS_H
#define EAP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"

/*
 * Pearson's r = cov(x, y) / (sd(x) sd(y)) of x, y (n), computed from the
 * centred values (two passes, so a large common offset costs no digits).
 * NaN if n < 2, a vector is constant, or a value is not finite.
 */
double eap_stats_pearson(const double *x, const double *y, size_t n);

/*
 * Ranks 1..n of x (n) into ranks (n); tied values share the average of
 * the ranks they span (the "fractional" ranking of scipy.stats.rankdata's
 * default).  NaN values are not allowed (EAP_EINVAL); EAP_ENOMEM.
 */
int eap_stats_ranks(const double *x, size_t n, double *ranks,
		    struct eap_err *err);

/*
 * Spearman's rho: Pearson's r of the average ranks (so ties are handled
 * as scipy.stats.spearmanr does).  *rho is NaN if n < 2 or a vector is
 * constant.  EAP_EINVAL on NaN input, EAP_ENOMEM.
 */
int eap_stats_spearman(const double *x, const double *y, size_t n,
		       double *rho, struct eap_err *err);

/*
 * |A ∩ B| / |A ∪ B| of the sets whose members are the nonzero entries of
 * a and b (n).  Two empty sets are the same set: IoU 1.  The counts go to
 * *inter and *uni when those are not NULL.
 */
double eap_stats_iou(const uint8_t *a, const uint8_t *b, size_t n,
		     size_t *inter, size_t *uni);

#endif
