/*
 * eap-eval - ablation evaluator (SPEC §9): run the clean prompts with every
 * edge outside a circuit carrying its ablated value and report the
 * normalized faithfulness of each circuit, with a bootstrap interval, as
 * CSV (one row per circuit), plus the curve's summary.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eap/attrib.h"
#include "eap/batch.h"
#include "eap/faith.h"
#include "eap/h5io.h"
#include "eap/inputs.h"
#include "eap/linalg.h"
#include "tool.h"

static const char *const T = "eap-eval";

enum ablation { ABL_PATCHING, ABL_ZERO, ABL_MEAN };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-eval --model DIR --pairs FILE --metric METRIC --circuit FILE -o FILE\n"
		"Evaluate circuits by patching every edge outside them; write faithfulness CSV.\n"
		"  --model DIR        model directory\n"
		"  --pairs FILE       pairs CSV to evaluate on (clean prompts are run)\n"
		"  --metric METRIC    logit_diff | prob_diff | kl | kl_sum (default logit_diff)\n"
		"  --circuit FILE     circuit.h5 or circuits.h5 (one row per circuit)\n"
		"  --ablation KIND    patching | zero | mean (default patching: corrupted outputs)\n"
		"  --mean-pairs FILE  pairs whose clean prompts give the mean (default --pairs)\n"
		"  --method NAME      method column (default: the circuit file's method)\n"
		"  --bootstrap N      bootstrap resamples for the 95%% interval (default 1000)\n"
		"  --seed S           bootstrap seed (default 1)\n"
		"  --summary FILE     also write the curve summary (auc, cpr, cmd, F>=0.8/0.9) as CSV\n"
		"  --h5 FILE          also write the per-example metrics as HDF5 (curve.h5)\n"
		"  --batch N          examples per batch (default 20)\n"
		"  --stack N          circuits run at once along the rows of one forward\n"
		"                     (default: as many as a memory budget allows; 1: one\n"
		"                     at a time; the metrics agree to about 1e-6 relative)\n"
		"  --threads N        BLAS threads (default: $SLURM_CPUS_PER_TASK, else\n"
		"                     OpenBLAS's own choice)\n"
		"  --progress         show progress even when stderr is not a terminal\n"
		"  -o, --output FILE  CSV to write (atomically)\n"
		"  --help             show this help\n");
}

struct opts {
	const char *model, *pairs, *circuit, *out, *mean_pairs, *method;
	const char *summary, *h5;
	int metric, ablation, progress;
	size_t batch, threads, n_boot, stack;
	uint64_t seed;
};

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "metric", required_argument, NULL, 'x' },
		{ "circuit", required_argument, NULL, 'c' },
		{ "ablation", required_argument, NULL, 'A' },
		{ "mean-pairs", required_argument, NULL, 'M' },
		{ "method", required_argument, NULL, 'N' },
		{ "bootstrap", required_argument, NULL, 'B' },
		{ "seed", required_argument, NULL, 'S' },
		{ "summary", required_argument, NULL, 'u' },
		{ "h5", required_argument, NULL, 'H' },
		{ "batch", required_argument, NULL, 'b' },
		{ "threads", required_argument, NULL, 't' },
		{ "stack", required_argument, NULL, 'K' },
		{ "progress", no_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	o->batch = 20;
	o->n_boot = 1000;
	o->seed = 1;
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (c) {
		case 'm': o->model = optarg; break;
		case 'p': o->pairs = optarg; break;
		case 'x':
			o->metric = tool_metric_arg(T, optarg);
			break;
		case 'c': o->circuit = optarg; break;
		case 'A':
			if (!strcmp(optarg, "patching"))
				o->ablation = ABL_PATCHING;
			else if (!strcmp(optarg, "zero"))
				o->ablation = ABL_ZERO;
			else if (!strcmp(optarg, "mean"))
				o->ablation = ABL_MEAN;
			else {
				fprintf(stderr, "%s: unknown --ablation '%s' (patching, zero, mean)\n", T, optarg);
				exit(2);
			}
			break;
		case 'M': o->mean_pairs = optarg; break;
		case 'N': o->method = optarg; break;
		case 'B':
			o->n_boot = strcmp(optarg, "0") ? tool_size_arg(T, "--bootstrap", optarg, 1000000) : 0;
			break;
		case 'S': o->seed = tool_size_arg(T, "--seed", optarg, SIZE_MAX); break;
		case 'u': o->summary = optarg; break;
		case 'H': o->h5 = optarg; break;
		case 'b': o->batch = tool_size_arg(T, "--batch", optarg, 100000); break;
		case 't': o->threads = tool_size_arg(T, "--threads", optarg, 1024); break;
		case 'K': o->stack = tool_size_arg(T, "--stack", optarg, 1000000); break;
		case 'P': o->progress = 1; break;
		case 'o': o->out = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc || !o->model || !o->pairs || !o->circuit || !o->out) {
		fprintf(stderr, "%s: %s (see --help)\n", T,
			optind < argc ? "unexpected argument"
				      : "--model, --pairs, --circuit and -o are required");
		exit(2);
	}
	if (o->mean_pairs && o->ablation != ABL_MEAN) {
		fprintf(stderr, "%s: --mean-pairs goes with --ablation mean\n", T);
		exit(2);
	}
}

/* Mean node outputs over the clean prompts of a pairs file. */
static int mean_outputs(const struct opts *o, const struct eap_inputs *in,
			double *sum, size_t *count, struct eap_err *err)
{
	struct eap_inputs mi = { 0 };
	struct eap_batcher bt = { 0 };
	struct eap_run run = { 0 };
	const struct eap_inputs *src = in;
	int rc = 0;

	if (o->mean_pairs) {
		if ((rc = eap_inputs_load(&mi, o->model, o->mean_pairs, err)))
			return rc;
		src = &mi;
	}
	if ((rc = eap_batcher_init(&bt, &src->ids, o->batch, err)) ||
	    (rc = eap_run_init(&run, &src->model, &src->graph, o->batch, bt.P, err)))
		goto out;
	for (size_t s = 0; s < src->ids.n && !rc; s += o->batch) {
		struct eap_batch b;
		size_t nb = src->ids.n - s < o->batch ? src->ids.n - s : o->batch;

		eap_batcher_fill(&bt, &src->ids, s, nb, 0, &b);
		rc = eap_run_mean_add(&run, &b, sum, count, err);
	}
out:
	eap_run_release(&run);
	eap_batcher_release(&bt);
	eap_inputs_release(&mi);
	return rc;
}

static int write_csv(const char *path, const struct opts *o,
		     const struct eap_circuits *cs, const char *method,
		     const struct eap_faith *fa, struct eap_err *err)
{
	char *tmp = tool_tmp_name(path);
	FILE *f = tmp ? fopen(tmp, "w") : NULL;

	if (!f) {
		free(tmp);
		return eap_err_set(err, EAP_EIO, "%s: cannot write", path);
	}
	fprintf(f, "method,edges_requested,edges,metric,clean_baseline,"
		   "corrupted_baseline,faithfulness,circuit_metric,ci_low,ci_high,ablation\n");
	for (size_t k = 0; k < cs->K; k++)
		fprintf(f, "%s,%lld,%lld,%s,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%s\n",
			method, (long long)cs->edges_requested[k],
			(long long)cs->edges[k], eap_metric_name(o->metric),
			fa[k].m_clean, fa[k].m_corrupted, fa[k].f, fa[k].m_circuit,
			fa[k].lo, fa[k].hi,
			o->ablation == ABL_PATCHING ? "patching"
			: o->ablation == ABL_ZERO   ? "zero" : "mean");
	if (ferror(f) | fclose(f) || rename(tmp, path) < 0) {
		unlink(tmp);
		free(tmp);
		return eap_err_set(err, EAP_EIO, "%s: cannot write", path);
	}
	free(tmp);
	return 0;
}

static int write_summary(const char *path, const struct opts *o,
			 const struct eap_circuits *cs, const char *method,
			 const struct eap_faith *fa, struct eap_err *err)
{
	long *x = malloc(cs->K * sizeof(long)), *fin = malloc(cs->K * sizeof(long));
	double *f = malloc(cs->K * sizeof(double));
	size_t *idx = malloc(cs->K * sizeof(size_t));
	struct eap_curve_summary s;
	char *tmp = tool_tmp_name(path);
	FILE *out = NULL;
	int rc = 0;

	if (!x || !fin || !f || !idx || !tmp) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	/* sort circuits by requested size (insertion sort: K is small) */
	for (size_t k = 0; k < cs->K; k++) {
		size_t j = k;

		while (j > 0 && cs->edges_requested[idx[j - 1]] > cs->edges_requested[k]) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = k;
	}
	for (size_t k = 0; k < cs->K; k++) {
		x[k] = (long)cs->edges_requested[idx[k]];
		fin[k] = (long)cs->edges[idx[k]];
		f[k] = fa[idx[k]].f;
	}
	eap_curve_summarize(x, fin, f, cs->K, cs->graph.n_edges, &s);
	out = fopen(tmp, "w");
	if (!out) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", path);
		goto out;
	}
	fprintf(out, "method,metric,circuits,auc_log,cpr,cmd,min_edges_f80,min_edges_f90\n");
	fprintf(out, "%s,%s,%zu,%.6f,%.6f,%.6f,%ld,%ld\n", method,
		eap_metric_name(o->metric), cs->K, s.auc, s.cpr, s.cmd,
		s.min_f80, s.min_f90);
	if (ferror(out) | fclose(out) || rename(tmp, path) < 0) {
		unlink(tmp);
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", path);
	}
out:
	free(x);
	free(fin);
	free(f);
	free(idx);
	free(tmp);
	return rc;
}

/* The HDF5 twin: per-example metrics, with the provenance of the inputs. */
static int write_h5(const struct opts *o, const struct eap_inputs *in,
		    const struct eap_circuits *cs, const char *method,
		    const double *mc, const double *mr, const double *mC,
		    const struct eap_faith *fa, struct eap_err *err)
{
	struct eap_h5_meta meta;
	double *f = malloc(cs->K * sizeof(double)), *ci = malloc(2 * cs->K * sizeof(double));
	int rc;

	if (!f || !ci) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < cs->K; k++) {
		f[k] = fa[k].f;
		ci[2 * k] = fa[k].lo;
		ci[2 * k + 1] = fa[k].hi;
	}
	if ((rc = eap_h5_meta_init(&meta, T, EAP_VERSION, o->model, o->pairs, err)))
		goto out;
	snprintf(meta.method, sizeof(meta.method), "%s", method);
	snprintf(meta.metric, sizeof(meta.metric), "%s", eap_metric_name(o->metric));
	meta.n_examples = in->ids.n;
	meta.n_layer = in->graph.n_layer;
	meta.n_head = in->graph.n_head;
	meta.parallel = in->graph.parallel;
	rc = eap_curve_write(o->h5, cs->K, in->ids.n, cs->edges_requested, cs->edges,
			     mc, mr, mC, f, ci,
			     o->ablation == ABL_PATCHING ? "patching"
			     : o->ablation == ABL_ZERO   ? "zero" : "mean",
			     &meta, err);
out:
	free(f);
	free(ci);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct eap_inputs in = { 0 };
	struct eap_circuits cs = { 0 };
	struct eap_batcher bt = { 0 };
	struct eap_run run = { 0 };
	struct eap_err err = { 0 };
	struct eap_progress prog = { 0 };
	struct eap_faith *fa = NULL;
	double *mc = NULL, *mr = NULL, *mC = NULL, *mv = NULL, *msum = NULL;
	float *abl = NULL;
	size_t N, K, mcount = 0;
	const char *method;
	int rc;

	parse(argc, argv, &o);
	tool_check_output(T, o.out);
	if (o.summary)
		tool_check_output(T, o.summary);
	if (o.h5)
		tool_check_output(T, o.h5);
	eap_blas_threads((int)tool_threads(o.threads));
	if ((rc = eap_inputs_load(&in, o.model, o.pairs, &err)) ||
	    (rc = eap_circuits_read(o.circuit, &cs, &err)))
		goto fail;
	if (cs.graph.n_layer != in.graph.n_layer || cs.graph.n_head != in.graph.n_head) {
		rc = eap_err_set(&err, EAP_ESHAPE,
				 "%s: circuit of a %zu x %zu graph, the model has %zu layers x %zu heads",
				 o.circuit, cs.graph.n_layer, cs.graph.n_head,
				 in.graph.n_layer, in.graph.n_head);
		goto fail;
	}
	N = in.ids.n;
	K = cs.K;
	if (o.batch > N)
		o.batch = N;
	method = o.method ? o.method : cs.meta.method[0] ? cs.meta.method : "circuit";
	mc = calloc(N, sizeof(double));
	mr = calloc(N, sizeof(double));
	mC = calloc(K * N, sizeof(double));
	mv = calloc(K * o.batch, sizeof(double));
	fa = calloc(K, sizeof(*fa));
	if (!mc || !mr || !mC || !mv || !fa) {
		rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = eap_batcher_init(&bt, &in.ids, o.batch, &err)) ||
	    (rc = eap_run_init(&run, &in.model, &in.graph, o.batch, bt.P, &err)))
		goto fail;
	run.patch_group = o.stack;
	if (o.ablation != ABL_PATCHING) {
		abl = calloc(in.graph.n_fwd * o.batch * bt.P * in.model.cfg.d_model,
			     sizeof(float));
		msum = calloc(in.graph.n_fwd * in.model.cfg.d_model, sizeof(double));
		if (!abl || !msum) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		if (o.ablation == ABL_MEAN &&
		    (rc = mean_outputs(&o, &in, msum, &mcount, &err)))
			goto fail;
	}
	eap_progress_start(&prog, T, o.out, "examples", N, o.progress);
	eap_progress_update(&prog, 0, NULL);
	for (size_t s = 0; s < N; s += o.batch) {
		size_t nb = N - s < o.batch ? N - s : o.batch;
		struct eap_batch b;

		eap_batcher_fill(&bt, &in.ids, s, nb, 0, &b);
		if ((rc = eap_run_baselines(&run, &b, o.metric, &err)))
			goto fail;
		if (o.ablation == ABL_MEAN)
			eap_run_mean_fill(&run, msum, mcount, nb, b.np, abl);
		for (size_t i = 0; i < nb; i++) {
			mc[s + i] = run.metric_clean[i];
			mr[s + i] = run.metric_corr[i];
		}
		/* the clean and corrupted runs are shared by every circuit;
		 * the circuits run stacked */
		if ((rc = eap_run_patched_many(&run, &b, o.metric, cs.in_graph, K,
					       abl, mv, &err)))
			goto fail;
		for (size_t k = 0; k < K; k++)
			for (size_t i = 0; i < nb; i++)
				mC[k * N + s + i] = mv[k * nb + i];
		eap_progress_update(&prog, s + nb, NULL);
	}
	for (size_t k = 0; k < K; k++)
		eap_faith_compute(mc, mr, mC + k * N, N, o.n_boot, o.seed, &fa[k]);
	if ((rc = write_csv(o.out, &o, &cs, method, fa, &err)))
		goto fail;
	if (o.summary && (rc = write_summary(o.summary, &o, &cs, method, fa, &err)))
		unlink(o.out);
	if (o.h5 && !rc && (rc = write_h5(&o, &in, &cs, method, mc, mr, mC, fa, &err))) {
		unlink(o.out);
		if (o.summary)
			unlink(o.summary);
	}
fail:
	eap_progress_end(&prog);
	if (rc)
		fprintf(stderr, "%s: %s\n", T, err.msg);
	free(mc);
	free(mr);
	free(mC);
	free(mv);
	free(fa);
	free(abl);
	free(msum);
	eap_run_release(&run);
	eap_batcher_release(&bt);
	eap_circuits_release(&cs);
	eap_inputs_release(&in);
	return rc ? 1 : 0;
}
