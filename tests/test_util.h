/*
 * test_util.h - helpers shared by the Check suites.
 *
 * Tests run from the repository root, so fixtures are at tests/fixtures/.
 */
#ifndef EAP_TEST_UTIL_H
#define EAP_TEST_UTIL_H

#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>

#define FIXTURE(name) "tests/fixtures/" name

/*
 * Largest relative error max_i |a_i - b_i| / max(|b_i|, floor), with b the
 * reference; *worst gets the index of the worst element.  The floor keeps
 * near-zero reference values from blowing up the ratio.
 */
static inline double rel_err(const float *a, const float *b, size_t n,
			     double floor, size_t *worst)
{
	double m = 0.0;
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)b[i]);
		double s = fabs((double)b[i]);
		double r = d / (s > floor ? s : floor);
		if (!(r <= m)) { /* also catches NaN */
			m = r;
			w = i;
		}
	}
	if (worst)
		*worst = w;
	return m;
}

/* Mean absolute value: the typical scale of a reference tensor. */
static inline double mean_abs(const float *x, size_t n)
{
	double s = 0.0;

	for (size_t i = 0; i < n; i++)
		s += fabs((double)x[i]);
	return n ? s / (double)n : 0.0;
}

/* Fail with the worst element if the relative error exceeds tol. */
#define ck_assert_close(a, b, n, floor, tol)                                   \
	do {                                                                   \
		size_t w_;                                                     \
		double e_ = rel_err((a), (b), (n), (floor), &w_);              \
		ck_assert_msg(e_ <= (tol),                                     \
			      "max rel err %.3g > %.3g at [%zu]: %.8g vs %.8g", \
			      e_, (double)(tol), w_, (double)(a)[w_],          \
			      (double)(b)[w_]);                                \
	} while (0)

#endif
