/*
 * check_main.c - runs every libeap Check suite.  A module's tests live in
 * tests/test_<mod>.c and export `Suite *<mod>_suite(void)`.
 */
#include <check.h>
#include <stdlib.h>

Suite *safetensors_suite(void);
Suite *model_suite(void);
Suite *tokenizer_suite(void);
Suite *attrib_suite(void);
Suite *faith_suite(void);
Suite *tasks_suite(void);
Suite *pairs_suite(void);
Suite *h5io_suite(void);
Suite *train_suite(void);
Suite *circuit_suite(void);
Suite *organism_suite(void);
Suite *stats_suite(void);
Suite *progress_suite(void);
Suite *nodes_suite(void);

int main(void)
{
	SRunner *sr = srunner_create(safetensors_suite());
	int failed;

	srunner_add_suite(sr, model_suite());
	srunner_add_suite(sr, tokenizer_suite());
	srunner_add_suite(sr, attrib_suite());
	srunner_add_suite(sr, faith_suite());
	srunner_add_suite(sr, tasks_suite());
	srunner_add_suite(sr, pairs_suite());
	srunner_add_suite(sr, h5io_suite());
	srunner_add_suite(sr, train_suite());
	srunner_add_suite(sr, circuit_suite());
	srunner_add_suite(sr, organism_suite());
	srunner_add_suite(sr, stats_suite());
	srunner_add_suite(sr, progress_suite());
	srunner_add_suite(sr, nodes_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
