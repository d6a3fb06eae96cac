/*
 * test_progress.c - the progress line (include/eap/progress.h): off
 * means no output at all; on into a file, the first and the last update
 * are shown (the ones between wait for the 10 s interval), with the
 * counts, the percentage and "estimating" / "done"; the time format.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eap/progress.h"
#include "test_util.h"

/* What updates 0..total of a progress (forced on or not) write to
 * stderr, redirected into a temporary file, into buf. */
static void capture(int forced, size_t total, char *buf, size_t n)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	struct eap_progress p;
	size_t got;

	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(f), STDERR_FILENO), 0);
	eap_progress_start(&p, "eap-x", "out.h5", "examples", total, forced);
	for (size_t i = 0; i <= total; i++)
		eap_progress_update(&p, i, i == total ? "loss 1.5" : NULL);
	eap_progress_end(&p);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
}

START_TEST(test_progress_lines)
{
	char buf[1024];

	/* not a terminal under the test runner, not forced: nothing */
	if (!isatty(STDERR_FILENO)) {
		capture(0, 5, buf, sizeof(buf));
		ck_assert_str_eq(buf, "");
	}
	capture(1, 5, buf, sizeof(buf));
	if (!isatty(STDERR_FILENO))
		ck_assert_msg(!strcmp(buf, "eap-x out.h5: 0/5 examples (0%), 0s elapsed, estimating\n"
					   "eap-x out.h5: 5/5 examples (100%), 0s elapsed, done, loss 1.5\n"),
			      "got: %s", buf);
}
END_TEST

START_TEST(test_progress_hms)
{
	char b[32];

	eap_progress_hms(b, sizeof(b), 0.4);
	ck_assert_str_eq(b, "0s");
	eap_progress_hms(b, sizeof(b), 59.6);
	ck_assert_str_eq(b, "1m00s");
	eap_progress_hms(b, sizeof(b), 3599.4);
	ck_assert_str_eq(b, "59m59s");
	eap_progress_hms(b, sizeof(b), 3723);
	ck_assert_str_eq(b, "1h02m03s");
	eap_progress_hms(b, sizeof(b), -3);
	ck_assert_str_eq(b, "0s");
}
END_TEST

Suite *progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_progress_lines);
	tcase_add_test(tc, test_progress_hms);
	suite_add_tcase(s, tc);
	return s;
}
