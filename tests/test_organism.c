/*
 * test_organism.c - the committed model organisms (data/models/organism,
 * and those of other families) really solve the six tasks on each task's
 * held-out test split: answers beat foils on >= 95% of clean prompts, and
 * the corruption removes most of the effect: the gap m(clean) -
 * m(corrupted) is at least half of m(clean) for the GPT-2 organism, a
 * tenth for the others (the means over the split).  A regression of a
 * model or of a task folder turns this red.
 */
#include <stdlib.h>
#include <string.h>

#include "eap/attrib.h"
#include "eap/batch.h"
#include "eap/graph.h"
#include "eap/model.h"
#include "eap/pairs.h"
#include "eap/rng.h"
#include "eap/tasks.h"
#include "eap/tokenizer.h"
#include "test_util.h"

/* the committed organisms: GPT-2's, its seed variants (make organisms),
 * and those of other families */
static const struct {
	const char *dir;
	double gap; /* smallest (m(clean) - m(corrupted)) / m(clean) */
} organisms[] = {
	{ "data/models/organism", 0.5 },
	{ "data/models/organism-s2", 0.5 },
	{ "data/models/organism-s3", 0.5 },
	{ "data/models/organism-llama", 0.1 },
	{ "data/models/organism-neox", 0.1 },
};
#define N_ORGANISMS (sizeof(organisms) / sizeof(organisms[0]))

static const struct {
	const char *task;
	enum eap_metric metric; /* as experiments/tasks.mk */
} tasks[] = {
	{ "ioi", EAP_METRIC_LOGIT_DIFF },
	{ "greater-than", EAP_METRIC_PROB_DIFF },
	{ "gender", EAP_METRIC_LOGIT_DIFF },
	{ "sva", EAP_METRIC_PROB_DIFF },
	{ "capital", EAP_METRIC_LOGIT_DIFF },
	{ "hypernymy", EAP_METRIC_PROB_DIFF },
};

#define N_TASKS (sizeof(tasks) / sizeof(tasks[0]))

START_TEST(test_organism_solves_task)
{
	const char *name = tasks[_i % N_TASKS].task;
	const char *org = organisms[_i / N_TASKS].dir;
	enum eap_metric metric = tasks[_i % N_TASKS].metric;
	struct eap_model m = { 0 };
	struct eap_tokenizer tok = { 0 };
	struct eap_graph g = { 0 };
	struct eap_task t = { 0 };
	struct eap_pairs p = { 0 };
	struct eap_pairs_ids ids = { 0 };
	struct eap_batcher bt = { 0 };
	struct eap_run run = { 0 };
	struct eap_err err = { 0 };
	struct eap_rng rng;
	char dir[128];
	size_t B = 50, correct = 0;
	double sc = 0.0, sr = 0.0;

	snprintf(dir, sizeof(dir), "data/tasks/%s", name);
	ck_assert_msg(eap_model_load(&m, org, &err) == 0, "%s", err.msg);
	ck_assert_msg(eap_tokenizer_load(&tok, org, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_graph_init_layout(&g, m.cfg.n_layer, m.cfg.n_head,
					       m.cfg.arch.parallel, &err), 0);
	ck_assert_msg(eap_task_load(&t, dir, &err) == 0, "%s", err.msg);
	eap_rng_init(&rng, 1);
	ck_assert_msg(eap_task_pairs(&t, EAP_SPLIT_TEST, 200, &rng, &p, &err) == 0, "%s", err.msg);
	ck_assert_msg(eap_pairs_tokenize(&ids, &p, &tok, 1, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(eap_batcher_init(&bt, &ids, B, &err), 0);
	ck_assert_int_eq(eap_run_init(&run, &m, &g, B, bt.P, &err), 0);
	for (size_t s = 0; s < ids.n; s += B) {
		size_t nb = ids.n - s < B ? ids.n - s : B;
		struct eap_batch b;

		eap_batcher_fill(&bt, &ids, s, nb, 0, &b);
		ck_assert_int_eq(eap_run_baselines(&run, &b, metric, &err), 0);
		for (size_t i = 0; i < nb; i++) {
			correct += run.metric_clean[i] > 0;
			sc += run.metric_clean[i];
			sr += run.metric_corr[i];
		}
	}
	sc /= (double)ids.n;
	sr /= (double)ids.n;
	printf("%s %-13s %-10s clean accuracy %5.1f%%  mean clean %+.3f  corrupted %+.3f  (n=%zu)\n",
	       strrchr(org, '/') + 1, name, eap_metric_name(metric), 100.0 * (double)correct / (double)ids.n,
	       sc, sr, ids.n);
	fflush(stdout);
	ck_assert_msg((double)correct >= 0.95 * (double)ids.n, "%s: clean accuracy %zu/%zu",
		      name, correct, ids.n);
	/* the GPT-2 organisms' corruption removes at least half of the
	 * effect; the others' must lower it (the Llama organism's
	 * greater-than keeps 0.60 of 0.90: README "Model families") */
	ck_assert_msg(sc > 0 && sc - sr >= organisms[_i / N_TASKS].gap * sc,
		      "%s %s: corrupted %.3f vs clean %.3f", org, name, sr, sc);
	eap_run_release(&run);
	eap_batcher_release(&bt);
	eap_pairs_ids_release(&ids);
	eap_pairs_release(&p);
	eap_task_release(&t);
	eap_graph_release(&g);
	eap_tokenizer_release(&tok);
	eap_model_release(&m);
}
END_TEST

Suite *organism_suite(void)
{
	Suite *s = suite_create("organism");
	TCase *tc = tcase_create("tasks");

	tcase_add_loop_test(tc, test_organism_solves_task, 0,
			    (int)(N_ORGANISMS * sizeof(tasks) / sizeof(tasks[0])));
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
