/*
 * eap-dump - run the clean and corrupted prompts and store the tokens,
 * the baseline metrics and the forward nodes' outputs in acts.h5 (SPEC
 * §11), batch by batch, so memory is bounded by the batch size.
 *
 * Node outputs take P x n_fwd x d x 8 bytes an example (14.7 MB on GPT-2
 * small, 350 MB at Pythia-2.8B's shape), so by default only the first
 * examples that fit in KEEP_BUDGET bytes are stored (at least one; all of
 * them when they fit): an audit sample whose size does not grow with N.
 * eap-score recomputes Δy and checks it against the sample (and the
 * baselines of every example) then; --keep all stores every example, the
 * full dump eap-score reads each Δy from.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eap/attrib.h"
#include "eap/batch.h"
#include "eap/h5io.h"
#include "eap/inputs.h"
#include "eap/linalg.h"
#include "tool.h"

static const char *const T = "eap-dump";

/* default size of the node outputs stored, in float32 bytes */
#define KEEP_BUDGET ((size_t)256 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-dump --model DIR --pairs FILE [--metric METRIC] [--batch N]\n"
		"                [--keep K|all] -o FILE\n"
		"Store the forward-node outputs of clean and corrupted prompts in acts.h5.\n"
		"  --model DIR      model directory (model.safetensors, config.json, tokenizer)\n"
		"  --pairs FILE     pairs CSV: clean,corrupted,answers,foils\n"
		"  --metric METRIC  baseline metric: logit_diff | prob_diff | kl | kl_sum\n"
		"                   (default logit_diff)\n"
		"  --batch N        examples per batch (default 20)\n"
		"  --keep K|all     store the node outputs of the first K examples only\n"
		"                   (default: as many as fit in 256 MiB, at least one, all\n"
		"                   when they fit); all: every example (the full dump)\n"
		"  --threads N      BLAS threads (default: $SLURM_CPUS_PER_TASK, else\n"
		"                   OpenBLAS's own choice)\n"
		"  --progress       show progress even when stderr is not a terminal\n"
		"  -o, --output FILE  acts.h5 to write (atomically)\n"
		"  --help           show this help\n");
}

int main(int argc, char **argv)
{
	const char *model = NULL, *pairs = NULL, *out = NULL;
	int metric = EAP_METRIC_LOGIT_DIFF, progress = 0, c;
	size_t batch = 20, threads = 0, keep = 0, K; /* keep 0: default */
	int keep_all = 0;
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "metric", required_argument, NULL, 'x' },
		{ "batch", required_argument, NULL, 'b' },
		{ "keep", required_argument, NULL, 'k' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", no_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 } };
	struct eap_inputs in = { 0 };
	struct eap_batcher bt = { 0 };
	struct eap_run run = { 0 };
	struct eap_acts_writer w = { 0 };
	struct eap_h5_meta meta;
	struct eap_err err = { 0 };
	struct eap_progress prog = { 0 };
	float *ac = NULL, *ar = NULL, *mc = NULL, *mr = NULL;
	int rc = 0;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'p': pairs = optarg; break;
		case 'x':
			metric = tool_metric_arg(T, optarg);
			break;
		case 'b': batch = tool_size_arg(T, "--batch", optarg, 100000); break;
		case 'k':
			if (!strcmp(optarg, "all"))
				keep_all = 1;
			else
				keep = tool_size_arg(T, "--keep (or 'all')", optarg,
						     SIZE_MAX);
			break;
		case 't': threads = tool_size_arg(T, "--threads", optarg, 1024); break;
		case 'P': progress = 1; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !model || !pairs || !out) {
		fprintf(stderr, "%s: %s (see --help)\n", T,
			optind < argc ? "unexpected argument"
				      : "--model, --pairs and -o are required");
		return 2;
	}
	tool_check_output(T, out);
	eap_blas_threads((int)tool_threads(threads));
	if ((rc = eap_inputs_load(&in, model, pairs, &err)) ||
	    (rc = eap_h5_meta_init(&meta, T, EAP_VERSION, model, pairs, &err)))
		goto fail;
	if (batch > in.ids.n)
		batch = in.ids.n;
	if ((rc = eap_batcher_init(&bt, &in.ids, batch, &err)) ||
	    (rc = eap_run_init(&run, &in.model, &in.graph, batch, bt.P, &err)))
		goto fail;
	snprintf(meta.metric, sizeof(meta.metric), "%s", eap_metric_name(metric));
	meta.n_examples = in.ids.n;
	meta.n_layer = in.graph.n_layer;
	meta.n_head = in.graph.n_head;
	meta.parallel = in.graph.parallel;
	{
		size_t ex = 2 * bt.P * in.graph.n_fwd * in.model.cfg.d_model *
			    sizeof(float);

		K = keep_all ? in.ids.n : keep ? keep : KEEP_BUDGET / ex;
		K = K < 1 ? 1 : K > in.ids.n ? in.ids.n : K;
	}
	{
		/* the file's layout for the batch's first rows below K only */
		size_t rows = batch < K ? batch : K;
		size_t sz = in.graph.n_fwd * rows * bt.P * in.model.cfg.d_model;

		ac = malloc(sz * sizeof(float));
		ar = malloc(sz * sizeof(float));
		mc = malloc(batch * sizeof(float));
		mr = malloc(batch * sizeof(float));
		if (!ac || !ar || !mc || !mr) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if ((rc = eap_acts_create(&w, out, in.ids.n, K, bt.P, in.graph.n_fwd,
				  in.model.cfg.d_model, &meta, &err)))
		goto fail;
	eap_progress_start(&prog, T, out, "examples", in.ids.n, progress);
	eap_progress_update(&prog, 0, NULL);
	for (size_t s = 0; s < in.ids.n; s += batch) {
		size_t nb = in.ids.n - s < batch ? in.ids.n - s : batch;
		size_t d = in.model.cfg.d_model, nf = in.graph.n_fwd;
		struct eap_batch b;

		eap_batcher_fill(&bt, &in.ids, s, nb, 1, &b);
		if ((rc = eap_run_baselines(&run, &b, metric, &err)))
			goto fail;
		/* node-major (n_fwd, nb, P, d) -> the file's (nb, P, n_fwd, d),
		 * for the examples below K only; positions past each length are
		 * zeroed: nothing reads them */
		for (size_t i = 0; s < K && i < (K - s < nb ? K - s : nb) * b.np; i++)
			for (size_t u = 0; u < nf; u++) {
				size_t from = (u * nb * b.np + i) * d, to = (i * nf + u) * d;

				memcpy(ac + to, run.y_clean + from, d * sizeof(float));
				memcpy(ar + to, run.y_corr + from, d * sizeof(float));
			}
		for (size_t r = 0; r < nb; r++) {
			size_t len = (size_t)b.lengths[r], row = r * b.np * nf * d;

			if (s + r < K) {
				memset(ac + row + len * nf * d, 0, (b.np - len) * nf * d * sizeof(float));
				memset(ar + row + len * nf * d, 0, (b.np - len) * nf * d * sizeof(float));
			}
			mc[r] = (float)run.metric_clean[r];
			mr[r] = (float)run.metric_corr[r];
		}
		rc = eap_acts_append(&w, nb,
				     &(struct eap_acts_batch){
					     .tokens_clean = (int32_t *)b.clean,
					     .tokens_corrupted = (int32_t *)b.corrupted,
					     .lengths = (int32_t *)b.lengths,
					     .acts_clean = s < K ? ac : NULL,
					     .acts_corrupted = s < K ? ar : NULL,
					     .metric_clean = mc, .metric_corrupted = mr },
				     &err);
		if (rc)
			goto fail;
		eap_progress_update(&prog, s + nb, NULL);
	}
	rc = eap_acts_commit(&w, &err);
fail:
	eap_progress_end(&prog);
	if (rc) {
		eap_acts_abort(&w);
		fprintf(stderr, "%s: %s\n", T, err.msg);
	}
	free(ac);
	free(ar);
	free(mc);
	free(mr);
	eap_run_release(&run);
	eap_batcher_release(&bt);
	eap_inputs_release(&in);
	return rc ? 1 : 0;
}
