/*
 * test_faith.c - faithfulness, its bootstrap interval and curve summaries.
 */
#include <math.h>
#include <stdlib.h>

#include "eap/faith.h"
#include "test_util.h"

START_TEST(test_faith_endpoints)
{
	double mc[5] = { 3, 4, 5, 2, 6 }, mr[5] = { 0, -1, 1, 0, 0.5 };
	struct eap_faith f;

	/* a circuit that behaves like the clean model: F = 1 exactly */
	eap_faith_compute(mc, mr, mc, 5, 200, 7, &f);
	ck_assert_double_eq(f.f, 1.0);
	ck_assert_double_eq(f.lo, 1.0);
	ck_assert_double_eq(f.hi, 1.0);
	/* like the corrupted model: F = 0 */
	eap_faith_compute(mc, mr, mr, 5, 200, 7, &f);
	ck_assert_double_eq(f.f, 0.0);
	ck_assert_double_eq_tol(f.m_clean, 4.0, 1e-12);
	ck_assert_double_eq_tol(f.m_corrupted, 0.1, 1e-12);
}
END_TEST

START_TEST(test_faith_bootstrap)
{
	enum { n = 200 };
	double mc[n], mr[n], mC[n];
	struct eap_faith a, b;
	uint64_t s = 3;

	for (int i = 0; i < n; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		mc[i] = 5.0 + (double)(s >> 40) / (double)(1ULL << 24);
		mr[i] = 0.0;
		mC[i] = 0.6 * mc[i] + ((i % 7) - 3) * 0.3;
	}
	eap_faith_compute(mc, mr, mC, n, 1000, 11, &a);
	eap_faith_compute(mc, mr, mC, n, 1000, 11, &b);
	/* reproducible for a seed, brackets F, narrower than the noise */
	ck_assert_double_eq(a.lo, b.lo);
	ck_assert_double_eq(a.hi, b.hi);
	ck_assert(a.lo < a.f && a.f < a.hi);
	ck_assert(a.hi - a.lo < 0.05);
	ck_assert(a.hi - a.lo > 0.001);
	eap_faith_compute(mc, mr, mC, n, 0, 11, &a);
	ck_assert(isnan(a.lo) && isnan(a.hi));
}
END_TEST

START_TEST(test_curve_summary)
{
	long x[3] = { 10, 100, 1000 }, final[3] = { 8, 97, 1000 };
	double f[3] = { 0.0, 0.5, 1.0 };
	struct eap_curve_summary s;

	eap_curve_summarize(x, final, f, 3, 1000, &s);
	/* linear in log10 x from 0 to 1: half the area */
	ck_assert_double_eq_tol(s.auc, 0.5, 1e-12);
	ck_assert_int_eq(s.min_f80, 1000);
	ck_assert_int_eq(s.min_f90, 1000);
	/* sizes 10.. do not reach down to MIB's 0.1% (1 edge of 1000) */
	ck_assert(isnan(s.cpr) && isnan(s.cmd));
	f[1] = 0.85;
	eap_curve_summarize(x, final, f, 3, 1000, &s);
	/* the final count of the circuit that reaches 0.8 */
	ck_assert_int_eq(s.min_f80, 97);
	ck_assert_int_eq(s.min_f90, 1000);
}
END_TEST

/*
 * CPR and CMD on MIB's grid.  With F = f (the edge fraction) at the grid's
 * sizes the trapezoids telescope: cpr = (1 - 0.001^2) / 2 and cmd =
 * (1 - 0.001) - cpr.  Extra sizes on a curve that is linear between the
 * grid's points change nothing; a curve short of the grid gives NaN.
 */
START_TEST(test_curve_mib)
{
	long grid[10] = { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
	long more[12] = { 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 700, 1000 };
	double f[12], cpr = 0.5 * (1.0 - 1e-6), cmd = 0.999 - cpr;
	struct eap_curve_summary s;

	for (size_t k = 0; k < EAP_MIB_K; k++) {
		ck_assert_uint_eq(eap_mib_size(k, 1000), (size_t)grid[k]);
		f[k] = (double)grid[k] / 1000.0;
	}
	eap_curve_summarize(grid, grid, f, 10, 1000, &s);
	ck_assert_double_eq_tol(s.cpr, cpr, 1e-12);
	ck_assert_double_eq_tol(s.cmd, cmd, 1e-12);
	for (size_t k = 0; k < 12; k++)
		f[k] = (double)more[k] / 1000.0;
	eap_curve_summarize(more, more, f, 12, 1000, &s);
	ck_assert_double_eq_tol(s.cpr, cpr, 1e-12);
	ck_assert_double_eq_tol(s.cmd, cmd, 1e-12);
	/* F off the grid's points is interpolated, not read as the next one */
	f[2] = 5.0; /* size 3 */
	eap_curve_summarize(more, more, f, 12, 1000, &s);
	ck_assert_double_eq_tol(s.cpr, cpr, 1e-12);
	eap_curve_summarize(more, more, f, 11, 1000, &s); /* stops at 700 */
	ck_assert(isnan(s.cpr) && isnan(s.cmd));
	/* rounding: 0.001 * 1519 = 1.519 -> 2, 0.5 * 1519 = 759.5 -> 760;
	 * never 0 edges */
	ck_assert_uint_eq(eap_mib_size(0, 1519), 2);
	ck_assert_uint_eq(eap_mib_size(8, 1519), 760);
	ck_assert_uint_eq(eap_mib_size(0, 100), 1);
}
END_TEST

/*
 * AUC(a) - AUC(b) over seeds: per-example metrics constant within a
 * seed, so only the seed draw moves the bootstrap: its interval is
 * exactly [min, max] of the seeds' differences (1000 draws of 2 seeds
 * hit both {1,1} and {2,2}); the point estimate is the mean of the
 * closed-form log-trapezoid areas; one seed with varying examples gives
 * the auc of eap-eval's F (eap_faith_compute + eap_curve_summarize).
 */
START_TEST(test_auc_diff_seeds)
{
	static const long x[3] = { 1, 10, 100 };
	double clean[4] = { 2, 2, 2, 2 }, corr[4] = { 0, 0, 0, 0 };
	double a1[12], b1[12], a2[12], b2[12];
	const double fa1[3] = { 0.2, 0.6, 1.0 }, fb1[3] = { 0.0, 0.4, 1.0 };
	const double fa2[3] = { 0.5, 0.9, 1.0 }, fb2[3] = { 0.1, 0.3, 1.0 };
	struct eap_curve_pair p[2];
	struct eap_auc_diff d;
	double d1, d2;

	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 4; i++) {
			a1[k * 4 + i] = 2 * fa1[k];
			b1[k * 4 + i] = 2 * fb1[k];
			a2[k * 4 + i] = 2 * fa2[k];
			b2[k * 4 + i] = 2 * fb2[k];
		}
	/* area over log10 x in [0, 2], divided by 2 */
#define AUC(f) ((0.5 * ((f)[0] + (f)[1]) + 0.5 * ((f)[1] + (f)[2])) / 2.0)
	d1 = AUC(fa1) - AUC(fb1);
	d2 = AUC(fa2) - AUC(fb2);
	p[0] = (struct eap_curve_pair){ 3, 4, x, clean, corr, a1, b1 };
	p[1] = (struct eap_curve_pair){ 3, 4, x, clean, corr, a2, b2 };
	ck_assert_int_eq(eap_auc_diff(p, 2, 1000, 7, &d), 0);
	ck_assert_double_eq_tol(d.diff, 0.5 * (d1 + d2), 1e-12);
	ck_assert_double_eq_tol(d.auc_a, 0.5 * (AUC(fa1) + AUC(fa2)), 1e-12);
	ck_assert_double_eq_tol(d.auc_b, 0.5 * (AUC(fb1) + AUC(fb2)), 1e-12);
	ck_assert_double_eq_tol(d.lo, d1 < d2 ? d1 : d2, 1e-12);
	ck_assert_double_eq_tol(d.hi, d1 < d2 ? d2 : d1, 1e-12);
#undef AUC
	/* no resamples: no interval */
	ck_assert_int_eq(eap_auc_diff(p, 2, 0, 7, &d), 0);
	ck_assert(isnan(d.lo) && isnan(d.hi));
	/* one seed, examples that differ: the point is eval's auc, inside
	 * its interval */
	{
		double c[4] = { 1.0, 3.0, 2.5, 1.5 }, r[4] = { 0.2, -0.1, 0.0, 0.4 };
		double A[12], B[12], fa[3], fb[3];
		struct eap_faith fo;
		struct eap_curve_summary sa, sb;

		for (int k = 0; k < 3; k++)
			for (int i = 0; i < 4; i++) {
				A[k * 4 + i] = r[i] + (c[i] - r[i]) * (0.3 * k + 0.1 * i);
				B[k * 4 + i] = r[i] + (c[i] - r[i]) * (0.2 * k + 0.05 * i * i);
			}
		for (int k = 0; k < 3; k++) {
			eap_faith_compute(c, r, A + k * 4, 4, 0, 1, &fo);
			fa[k] = fo.f;
			eap_faith_compute(c, r, B + k * 4, 4, 0, 1, &fo);
			fb[k] = fo.f;
		}
		eap_curve_summarize(x, x, fa, 3, 100, &sa);
		eap_curve_summarize(x, x, fb, 3, 100, &sb);
		p[0] = (struct eap_curve_pair){ 3, 4, x, c, r, A, B };
		ck_assert_int_eq(eap_auc_diff(p, 1, 2000, 3, &d), 0);
		ck_assert_double_eq_tol(d.diff, sa.auc - sb.auc, 1e-12);
		ck_assert(d.lo <= d.diff && d.diff <= d.hi && d.lo < d.hi);
	}
}
END_TEST

Suite *faith_suite(void)
{
	Suite *s = suite_create("faith");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_faith_endpoints);
	tcase_add_test(tc, test_faith_bootstrap);
	tcase_add_test(tc, test_curve_summary);
	tcase_add_test(tc, test_curve_mib);
	tcase_add_test(tc, test_auc_diff_seeds);
	suite_add_tcase(s, tc);
	return s;
}
