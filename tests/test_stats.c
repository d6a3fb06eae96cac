/*
 * test_stats.c - Pearson, Spearman with ties, IoU (include/eap/stats.h).
 *
 * The reference numbers were computed independently with Debian's
 * /usr/bin/python3 and numpy (no scipy on the machine):
 *   r   = np.corrcoef(x, y)[0, 1]
 *   rank(v) = [(v < t).sum() + ((v == t).sum() + 1) / 2 for t in v]
 *   rho = np.corrcoef(rank(x), rank(y))[0, 1]
 * The rank formula (count below, plus the middle of the tied run) is not
 * the sort-based algorithm of src/stats.c.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "eap/stats.h"
#include "test_util.h"

static const double X[7] = { 1.5, -2.0, 3.25, 0.0, 4.0, -1.0, 2.5 };
static const double Y[7] = { 0.9, -1.1, 2.0, 0.3, 2.2, -0.4, 2.4 };

START_TEST(test_pearson_reference)
{
	double x_off[7];

	/* numpy: 0.9669808006089476 */
	ck_assert_double_eq_tol(eap_stats_pearson(X, Y, 7), 0.9669808006089476, 1e-14);
	/* a common offset of 1e8 costs no digits (centred sums) */
	for (int i = 0; i < 7; i++)
		x_off[i] = X[i] + 1e8;
	ck_assert_double_eq_tol(eap_stats_pearson(x_off, Y, 7), 0.9669808006089476, 1e-9);
	/* symmetric, invariant under positive scaling, odd under negation */
	ck_assert_double_eq_tol(eap_stats_pearson(Y, X, 7), 0.9669808006089476, 1e-14);
	for (int i = 0; i < 7; i++)
		x_off[i] = -3.0 * X[i];
	ck_assert_double_eq_tol(eap_stats_pearson(x_off, Y, 7), -0.9669808006089476, 1e-14);
	ck_assert_double_eq_tol(eap_stats_pearson(X, X, 7), 1.0, 1e-15);
}
END_TEST

START_TEST(test_pearson_undefined)
{
	double c[3] = { 2, 2, 2 }, v[3] = { 1, 2, 3 }, bad[3] = { 1, INFINITY, 3 };

	ck_assert(isnan(eap_stats_pearson(c, v, 3)));   /* constant */
	ck_assert(isnan(eap_stats_pearson(v, v, 1)));   /* n < 2 */
	ck_assert(isnan(eap_stats_pearson(v, v, 0)));
	ck_assert(isnan(eap_stats_pearson(bad, v, 3))); /* not finite */
}
END_TEST

START_TEST(test_spearman_no_ties)
{
	struct eap_err err = { 0 };
	double rho;

	/* no ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6*6/336 = 25/28;
	 * numpy on the ranks: 0.8928571428571429 */
	ck_assert_int_eq(eap_stats_spearman(X, Y, 7, &rho, &err), 0);
	ck_assert_double_eq_tol(rho, 25.0 / 28.0, 1e-14);
	/* monotone transforms do not change it */
	{
		double e[7];

		for (int i = 0; i < 7; i++)
			e[i] = exp(Y[i]);
		ck_assert_int_eq(eap_stats_spearman(X, e, 7, &rho, &err), 0);
		ck_assert_double_eq_tol(rho, 25.0 / 28.0, 1e-14);
	}
}
END_TEST

START_TEST(test_spearman_ties)
{
	static const double a[10] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3 };
	static const double b[10] = { 2, 7, 1, 8, 2, 8, 1, 8, 2, 8 };
	/* numpy (formula above) */
	static const double ra[10] = { 4.5, 1.5, 6, 1.5, 7.5, 10, 3, 9, 7.5, 4.5 };
	static const double rb[10] = { 4, 6, 1.5, 8.5, 4, 8.5, 1.5, 8.5, 4, 8.5 };
	struct eap_err err = { 0 };
	double r[10], rho;

	ck_assert_int_eq(eap_stats_ranks(a, 10, r, &err), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_msg(r[i] == ra[i], "rank of a[%d] %g, expected %g", i, r[i], ra[i]);
	ck_assert_int_eq(eap_stats_ranks(b, 10, r, &err), 0);
	for (int i = 0; i < 10; i++)
		ck_assert_msg(r[i] == rb[i], "rank of b[%d] %g, expected %g", i, r[i], rb[i]);
	/* numpy: 0.13471506281091267 */
	ck_assert_int_eq(eap_stats_spearman(a, b, 10, &rho, &err), 0);
	ck_assert_double_eq_tol(rho, 0.13471506281091267, 1e-14);
	/* all tied: undefined, not an error */
	{
		double c[4] = { 5, 5, 5, 5 };

		ck_assert_int_eq(eap_stats_ranks(c, 4, r, &err), 0);
		ck_assert(r[0] == 2.5 && r[3] == 2.5);
		ck_assert_int_eq(eap_stats_spearman(c, a, 4, &rho, &err), 0);
		ck_assert(isnan(rho));
	}
	/* NaN has no rank */
	{
		double n[3] = { 1, NAN, 2 };

		ck_assert_int_eq(eap_stats_spearman(n, a, 3, &rho, &err), EAP_EINVAL);
		ck_assert(isnan(rho));
	}
}
END_TEST

START_TEST(test_iou)
{
	static const uint8_t a[8] = { 1, 1, 0, 1, 0, 0, 1, 0 };
	static const uint8_t b[8] = { 0, 1, 1, 1, 0, 0, 0, 0 };
	static const uint8_t c[8] = { 0, 0, 1, 0, 1, 1, 0, 1 }; /* complement of a */
	static const uint8_t z[8] = { 0 };
	size_t in, un;

	ck_assert_double_eq(eap_stats_iou(a, a, 8, &in, &un), 1.0);
	ck_assert(in == 4 && un == 4);
	ck_assert_double_eq(eap_stats_iou(a, c, 8, &in, &un), 0.0);
	ck_assert(in == 0 && un == 8);
	/* {1,3} of {0,1,2,3,6}: 2/5, both ways */
	ck_assert_double_eq_tol(eap_stats_iou(a, b, 8, &in, &un), 0.4, 1e-15);
	ck_assert(in == 2 && un == 5);
	ck_assert_double_eq_tol(eap_stats_iou(b, a, 8, NULL, NULL), 0.4, 1e-15);
	/* nonzero means member, not just 1 */
	{
		uint8_t a2[8];

		for (int i = 0; i < 8; i++)
			a2[i] = (uint8_t)(a[i] * 7);
		ck_assert_double_eq(eap_stats_iou(a2, a, 8, NULL, NULL), 1.0);
	}
	ck_assert_double_eq(eap_stats_iou(z, z, 8, &in, &un), 1.0);
	ck_assert(in == 0 && un == 0);
	ck_assert_double_eq(eap_stats_iou(z, a, 8, NULL, NULL), 0.0);
}
END_TEST

Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pearson_reference);
	tcase_add_test(tc, test_pearson_undefined);
	tcase_add_test(tc, test_spearman_no_ties);
	tcase_add_test(tc, test_spearman_ties);
	tcase_add_test(tc, test_iou);
	suite_add_tcase(s, tc);
	return s;
}
