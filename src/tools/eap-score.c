/*
 * eap-score - edge scores by EAP, EAP-IG, clean-corrupted, exact
 * patching (SPEC §6), RelP or EAP-GP, written to scores.h5 (SPEC §11).
 *
 * Exact scoring is one patched forward per edge, so it is split across
 * jobs: --shard I/K scores the edges into every K-th backward input, and
 * --merge joins the K partial files into the file one unsharded run
 * writes.  A shard computes each of its inputs exactly as one run does
 * (see select_shard), so the merged /scores is identical, bit for bit.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eap/attrib.h"
#include "eap/batch.h"
#include "eap/cost.h"
#include "eap/h5io.h"
#include "eap/inputs.h"
#include "eap/linalg.h"
#include "eap/nodes.h"
#include "eap/stability.h"
#include "tool.h"

/* Gradients of all backward inputs above this: contracted per layer. */
#define GRAD_ALL_BYTES ((size_t)256 << 20)

static const char *const T = "eap-score";

/*
 * Per-layer contraction for a gradient method's edge scores (can): on if
 * EAP_CONTRACT (environment) is "layer", off if "full", else ("auto" or
 * unset) when the gradients of all backward inputs would take more than
 * GRAD_ALL_BYTES (README "Big models").
 */
static int contract_setup(struct eap_run *run, int can, size_t grad_bytes,
			  struct eap_err *err)
{
	const char *e = getenv("EAP_CONTRACT");
	int on = grad_bytes > GRAD_ALL_BYTES;

	if (e && *e && strcmp(e, "auto")) {
		if (strcmp(e, "full") && strcmp(e, "layer"))
			return eap_err_set(err, EAP_EINVAL,
					   "EAP_CONTRACT: \"%s\" is not full, layer or auto",
					   e);
		on = !strcmp(e, "layer");
	}
	return can && on ? eap_run_per_layer(run, err) : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-score --model DIR --pairs FILE [--acts FILE] --method METHOD\n"
		"                 [--metric METRIC] [--steps N] [--batch N] [--edges FILE]\n"
		"                 [--shard I/K] [--level edge|node|neuron] [--check-exact K]\n"
		"                 [--bootstrap B] [--sizes LIST] [--seed S] -o FILE\n"
		"       eap-score --merge -o FILE SHARD...\n"
		"Score every edge of the model's graph on the pairs and write scores.h5.\n"
		"  --model DIR      model directory (model.safetensors, config.json, tokenizer)\n"
		"  --pairs FILE     pairs CSV: clean,corrupted,answers,foils\n"
		"  --acts FILE      acts.h5 from eap-dump: read each edge's dy from it; from\n"
		"                   a bounded dump (eap-dump --keep) recompute dy and check\n"
		"                   it against the examples it holds; check the baselines\n"
		"  --method METHOD  eap | eap-ig | eap-ig-act | clean-corrupted | exact | relp\n"
		"                   | eap-gp\n"
		"  --metric METRIC  logit_diff | prob_diff | kl | kl_sum (default logit_diff)\n"
		"  --steps N        integrated-gradient steps for eap-ig (default 5); eap-ig-act\n"
		"                   takes N steps for each of the 2L+1 layer outputs; eap-gp\n"
		"                   takes N GradPath steps\n"
		"  --batch N        examples per batch; memory grows with it (default 20)\n"
		"  --edges FILE     exact: score only these edges, one 'u->v' name a line\n"
		"  --shard I/K      exact: score shard I (1..K) of K: the edges (of --edges,\n"
		"                   else all) into the backward inputs numbered I-1 mod K,\n"
		"                   counting from 0 in SPEC 5 order (default: all)\n"
		"  --merge          join the partial files SHARD... of --shard or --edges runs\n"
		"                   (same model, pairs, method, metric, examples; every edge\n"
		"                   scored exactly once) into one scores.h5\n"
		"  --level LEVEL    edge | node | neuron: also write each forward node's\n"
		"                   score (/node_scores) and, for neuron, each d_model\n"
		"                   dimension's (/neuron_scores); exact at node level scores\n"
		"                   edges only with --edges (default edge)\n"
		"  --check-exact K  also score K random edges (all, if the graph has fewer)\n"
		"                   exactly and record Pearson,\n"
		"                   Spearman, sign agreement and top-k recall against them\n"
		"                   (/check_exact, /check_exact_stats; gradient methods)\n"
		"  --check-csv FILE the check's statistics as a one-row CSV\n"
		"  --bootstrap B    resample the pairs B times: each edge's selection frequency\n"
		"                   in the pruned top-n circuits of every size and their mean\n"
		"                   pairwise Jaccard (/bootstrap_*; gradient methods)\n"
		"  --bootstrap-csv FILE  one row per size: size, mean edges, mean Jaccard\n"
		"  --sizes LIST     --bootstrap's circuit sizes, as eap-prune's (default\n"
		"                   default,mib)\n"
		"  --seed S         seed of --check-exact's sample and --bootstrap's\n"
		"                   resamples (default 1)\n"
		"  --limit N        score only the first N pairs (default: all)\n"
		"  --budget TFLOP   score only the first pairs whose work, counted as --cost\n"
		"                   counts it for the batches the run makes of them (all\n"
		"                   edges scored, not one shard's), fits in TFLOP x 10^12\n"
		"                   FLOPs; at least one\n"
		"  --cost FILE      also write what the scoring cost, one CSV row: passes and\n"
		"                   GFLOP per example (counted), wall-clock and CPU seconds\n"
		"  --threads N      BLAS threads (default: $SLURM_CPUS_PER_TASK, else\n"
		"                   OpenBLAS's own choice)\n"
		"  --progress       show progress even when stderr is not a terminal\n"
		"  -o, --output FILE  scores.h5 to write (atomically)\n"
		"  --help           show this help\n");
}

/*
 * Examples s..s+nb-1 as one batch of the run: *np its width (full_width,
 * or its longest prompt as eap_batcher_fill makes it) and *p0 its shared
 * prefix (eap_batch_prefix's).
 */
static void batch_shape(const struct eap_pairs_ids *ids, size_t s, size_t nb,
			size_t full_width, size_t *np, size_t *p0)
{
	*np = 1;
	*p0 = SIZE_MAX;
	for (size_t b = s; b < s + nb; b++) {
		size_t o = ids->tok_off[b];
		size_t p = eap_prefix_len(ids->clean + o, ids->corrupted + o,
					  ids->len[b]);

		*np = ids->len[b] > *np ? ids->len[b] : *np;
		*p0 = p < *p0 ? p : *p0;
	}
	*np = full_width ? full_width : *np;
}

/*
 * --budget: keep the first n examples whose work, counted by eap_cost_add
 * over the edges exact scores (mask before any --shard, so that every
 * shard keeps the same examples) as the run does it: in batches of
 * min(batch, n), each as wide and from the shared prefix eap_batcher_fill
 * and eap_batch_prefix give it, fits in tflop; at least one.  Depends on
 * the pairs, --batch and the model's shape only, never on the machine, so
 * reruns score the same examples.
 */
static void apply_budget(struct eap_inputs *in, enum eap_method method,
			 size_t steps, const uint8_t *mask, double tflop,
			 int progress, size_t batch, size_t full_width)
{
	size_t n = 1, was = in->ids.n;
	double kept = 0;

	for (; n <= was; n++) {
		size_t bs = batch < n ? batch : n;
		struct eap_cost c = { 0 };

		for (size_t s = 0; s < n; s += bs) {
			size_t nb = n - s < bs ? n - s : bs, np, p0;

			batch_shape(&in->ids, s, nb, full_width, &np, &p0);
			eap_cost_add(&c, &in->model.cfg, &in->graph, method,
				     (int)steps, mask, nb, np, p0);
		}
		if (n > 1 && c.flops > tflop * 1e12)
			break;
		kept = c.flops;
	}
	in->ids.n = n - 1;
	if (n - 1 < was && (progress || isatty(STDERR_FILENO)))
		fprintf(stderr, "%s: --budget %g TFLOP: the first %zu of %zu examples (%.1f TFLOP)\n",
			T, tflop, n - 1, was, kept / 1e12);
}

/* Read an edge list into mask (n_fwd, n_bwd); errors name file:line. */
static int read_edges(const char *path, const struct eap_graph *g,
		      uint8_t *mask, struct eap_err *err)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t ln = 0, n = 0;

	if (!f)
		return eap_err_set(err, EAP_EIO, "%s: cannot open", path);
	memset(mask, 0, g->n_fwd * g->n_bwd);
	while (fgets(line, sizeof(line), f)) {
		char *arrow, *end = line + strcspn(line, "\r\n");
		long u, v;

		ln++;
		*end = 0;
		if (!line[0] || line[0] == '#')
			continue;
		arrow = strstr(line, "->");
		if (!arrow) {
			fclose(f);
			return eap_err_set(err, EAP_EFORMAT,
					   "%s:%zu: expected an edge name 'u->v', got \"%s\"",
					   path, ln, line);
		}
		*arrow = 0;
		u = eap_graph_find(g, line, 1);
		v = eap_graph_find(g, arrow + 2, 0);
		if (u < 0 || v < 0 || !g->edge_mask[(size_t)u * g->n_bwd + (size_t)v]) {
			fclose(f);
			return eap_err_set(err, EAP_EFORMAT,
					   "%s:%zu: \"%s->%s\" is not an edge of the %zu x %zu graph",
					   path, ln, line, arrow + 2, g->n_layer,
					   g->n_head);
		}
		mask[(size_t)u * g->n_bwd + (size_t)v] = 1;
		n++;
	}
	fclose(f);
	if (!n)
		return eap_err_set(err, EAP_EFORMAT, "%s: no edges", path);
	return 0;
}

/* "I/K" with 1 <= I <= K; exit 2 with one line otherwise. */
static void parse_shard(const char *s, size_t *i, size_t *k)
{
	char a[32];
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= sizeof(a) || !slash[1]) {
		fprintf(stderr, "%s: --shard wants I/K (shard I of K, 1 <= I <= K), got '%s'\n",
			T, s);
		exit(2);
	}
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = 0;
	*k = tool_size_arg(T, "--shard's K", slash + 1, 1000000);
	*i = tool_size_arg(T, "--shard's I", a, *k);
}

/*
 * Keep in mask (n_fwd, n_bwd) shard i of k: the edges into the backward
 * inputs numbered i-1 mod k, numbering (in SPEC §5 order) the inputs that
 * receive an edge of mask.  Whole inputs, because exact scoring stacks
 * the patched copies of all edges into one input along the rows of one
 * run (attrib.c), and a row's rounding depends on how many rows the
 * matmuls have: a shard must stack exactly what one run stacks for the
 * merged /scores to be identical.  Dealing inputs out in turn interleaves
 * the layers, so the shards cost about the same.
 */
static void select_shard(uint8_t *mask, size_t n_fwd, size_t n_bwd,
			 size_t i, size_t k)
{
	size_t j = 0;

	for (size_t v = 0; v < n_bwd; v++) {
		int any = 0;

		for (size_t u = 0; u < n_fwd; u++)
			any |= mask[u * n_bwd + v];
		if (any && j++ % k != i - 1)
			for (size_t u = 0; u < n_fwd; u++)
				mask[u * n_bwd + v] = 0;
	}
}

/* Whether b can be merged with a: same inputs, method and graph. */
static int same_run(const struct eap_scores *a, const char *pa,
		    const struct eap_scores *b, const char *pb,
		    struct eap_err *err)
{
	const struct eap_h5_meta *x = &a->meta, *y = &b->meta;
	const char *what = NULL;

	if (x->n_layer != y->n_layer || x->n_head != y->n_head)
		what = "another graph (n_layer, n_head)";
	else if (strcmp(x->model_sha256, y->model_sha256))
		what = "another model (model_sha256)";
	else if (strcmp(x->pairs_sha256, y->pairs_sha256))
		what = "other pairs (pairs_sha256)";
	else if (strcmp(x->method, y->method) || x->steps != y->steps)
		what = "another method (method, steps)";
	else if (strcmp(x->metric, y->metric))
		what = "another metric (metric)";
	else if (x->n_examples != y->n_examples)
		what = "another number of examples (n_examples)";
	if (what)
		return eap_err_set(err, EAP_EINVAL, "%s: scored with %s than %s",
				   pb, what, pa);
	return 0;
}

/*
 * --merge: read the partial files, check they belong to one run and
 * score every edge exactly once, and write their union to out.
 */
static int merge(const char *out, char *const *paths, size_t n,
		 struct eap_err *err)
{
	struct eap_scores first = { 0 }, s = { 0 };
	struct eap_h5_meta meta;
	const struct eap_graph *g;
	float *scores = NULL;
	size_t *owner = NULL, E, missing = 0, miss_at = 0;
	char e1[128];
	int rc;

	if ((rc = eap_scores_read(paths[0], &first, err)))
		return rc;
	g = &first.graph;
	E = g->n_fwd * g->n_bwd;
	scores = calloc(E, sizeof(float));
	owner = calloc(E, sizeof(size_t)); /* 1 + index of the file, 0: none */
	if (!scores || !owner) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t f = 0; f < n && !rc; f++) {
		const struct eap_scores *c = &first;

		if (f) {
			if ((rc = eap_scores_read(paths[f], &s, err)) ||
			    (rc = same_run(&first, paths[0], &s, paths[f], err)))
				break;
			c = &s;
		}
		for (size_t e = 0; e < E && !rc; e++) {
			if (!g->edge_mask[e] || (c->scored && !c->scored[e]))
				continue;
			if (owner[e])
				rc = eap_err_set(err, EAP_EINVAL,
						 "%s: edge %s is scored by %s as well",
						 paths[f],
						 eap_graph_edge_name(g, e / g->n_bwd,
								     e % g->n_bwd,
								     e1, sizeof(e1)),
						 paths[owner[e] - 1]);
			owner[e] = f + 1;
			scores[e] = c->scores[e];
		}
		eap_scores_release(&s);
	}
	for (size_t e = 0; e < E && !rc; e++)
		if (g->edge_mask[e] && !owner[e] && !missing++)
			miss_at = e;
	if (missing && !rc)
		rc = eap_err_set(err, EAP_EINVAL,
				 "%zu of the %zu edges are in none of the %zu files, the first %s (a shard missing?)",
				 missing, g->n_edges, n,
				 eap_graph_edge_name(g, miss_at / g->n_bwd,
						     miss_at % g->n_bwd, e1,
						     sizeof(e1)));
	if (rc)
		goto out;
	/* the shards' provenance, written now by this tool */
	meta = first.meta;
	snprintf(meta.tool, sizeof(meta.tool), "%s", T);
	snprintf(meta.version, sizeof(meta.version), "%s", EAP_VERSION);
	meta.created[0] = 0;
	rc = eap_scores_write(out, g, scores, &meta, err);
out:
	eap_scores_release(&s);
	eap_scores_release(&first);
	free(scores);
	free(owner);
	return rc;
}

/*
 * Check that acts.h5 belongs to these inputs: same model, same graph
 * shape, same examples (token by token; with --limit, its first ones).
 */
static int check_acts(const struct eap_acts *a, const struct eap_inputs *in,
		      const struct eap_h5_meta *meta, struct eap_err *err)
{
	const char *model_sha = meta->model_sha256;
	const struct eap_pairs_ids *ids = &in->ids;
	int32_t *tc = NULL, *tr = NULL;
	int rc = 0;

	if (strcmp(a->meta.model_sha256, model_sha))
		return eap_err_set(err, EAP_EINVAL,
				   "%s: dumped from another model (%s, SHA-256 differs)",
				   a->path, a->meta.model_path);
	if (strcmp(a->meta.pairs_sha256, meta->pairs_sha256))
		return eap_err_set(err, EAP_EINVAL,
				   "%s: dumped from other pairs (%s, SHA-256 differs from %s)",
				   a->path, a->meta.pairs_path, meta->pairs_path);
	if (a->N < ids->n || a->P != ids->max_len ||
	    a->n_fwd != in->graph.n_fwd || a->d != in->model.cfg.d_model)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: holds %zu examples x %zu positions x %zu nodes x %zu, the pairs and model need %zu x %zu x %zu x %zu",
				   a->path, a->N, a->P, a->n_fwd, a->d, ids->n,
				   ids->max_len, in->graph.n_fwd,
				   in->model.cfg.d_model);
	tc = malloc(a->N * a->P * sizeof(int32_t));
	tr = malloc(a->N * a->P * sizeof(int32_t));
	if (!tc || !tr) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	rc = eap_acts_read(a, 0, a->N,
			   &(struct eap_acts_batch){ .tokens_clean = tc,
						     .tokens_corrupted = tr },
			   err);
	for (size_t i = 0; i < ids->n && !rc; i++)
		if ((size_t)a->lengths[i] != ids->len[i] ||
		    memcmp(tc + i * a->P, ids->clean + ids->tok_off[i],
			   ids->len[i] * sizeof(int32_t)) ||
		    memcmp(tr + i * a->P, ids->corrupted + ids->tok_off[i],
			   ids->len[i] * sizeof(int32_t))) {
			char where[4200];

			rc = eap_err_set(err, EAP_EINVAL,
					 "%s: example %zu's tokens differ from %s (dumped from other pairs?)",
					 a->path, i,
					 eap_pairs_where(&in->pairs, i, where, sizeof(where)));
		}
out:
	free(tc);
	free(tr);
	return rc;
}

/*
 * A bounded acts.h5 (eap-dump --keep: node outputs of its first K
 * examples only) is an audit: every example's baselines, and the Δy this
 * run computed for the examples it holds, must agree with the file.  The
 * tolerances allow for the other batch composition and BLAS blocking of
 * this run (measured: under 1e-6 relative on the organism and GPT-2
 * small's shape), not for another model or other inputs.
 */
#ifndef AUDIT_TOL
#define AUDIT_TOL 1e-4
#endif

/* Baselines of examples s..s+nb-1 against the file's /metric. */
static int audit_metrics(const struct eap_acts *a, const struct eap_run *run,
			 size_t s, size_t nb, struct eap_err *err)
{
	float mc[nb], mr[nb];
	int rc = eap_acts_read(a, s, nb,
			       &(struct eap_acts_batch){ .metric_clean = mc,
							 .metric_corrupted = mr },
			       err);

	for (size_t i = 0; i < nb && !rc; i++) {
		double c = run->metric_clean[i], r = run->metric_corr[i];
		double tol = AUDIT_TOL * (1.0 + fabs(c) + fabs(r));

		if (fabs(c - mc[i]) > tol || fabs(r - mr[i]) > tol)
			rc = eap_err_set(err, EAP_EINVAL,
					 "%s: example %zu: this run's baselines (%.6g clean, %.6g corrupted) differ from the dump's (%.6g, %.6g)",
					 a->path, s + i, c, r, (double)mc[i],
					 (double)mr[i]);
	}
	return rc;
}

/*
 * The dy this run computed (node-major in run->y_cur, zero past each
 * length) for the examples of the batch at s that the file holds, against
 * y(corrupted) - y(clean) of the file, one example at a time (yc, yr:
 * P x n_fwd x d each): max |difference| <= AUDIT_TOL x max(1, max |y|).
 */
static int audit_dy(const struct eap_acts *a, const struct eap_run *run,
		    const struct eap_batch *b, size_t s, float *yc, float *yr,
		    struct eap_err *err)
{
	size_t nf = a->n_fwd, d = a->d, np = b->np, nd = b->nb * np * d;
	int rc = 0;

	for (size_t r = 0; r < b->nb && s + r < a->K && !rc; r++) {
		double diff = 0.0, top = 1.0;
		size_t at = 0;

		if ((rc = eap_acts_read(a, s + r, 1,
					&(struct eap_acts_batch){ .acts_clean = yc,
								  .acts_corrupted = yr },
					err)))
			break;
		for (size_t p = 0; p < (size_t)b->lengths[r]; p++)
			for (size_t u = 0; u < nf; u++) {
				const float *dy = run->y_cur + u * nd + (r * np + p) * d;
				const float *c = yc + (p * nf + u) * d, *x = yr + (p * nf + u) * d;

				for (size_t j = 0; j < d; j++) {
					double e = fabs((double)dy[j] - ((double)x[j] - (double)c[j]));

					if (fabs(c[j]) > top)
						top = fabs(c[j]);
					if (fabs(x[j]) > top)
						top = fabs(x[j]);
					if (e > diff) {
						diff = e;
						at = u;
					}
				}
			}
		if (diff > AUDIT_TOL * top)
			rc = eap_err_set(err, EAP_EINVAL,
					 "%s: example %zu: this run's node outputs differ from the dump's by %.3g at node %zu (largest |y| %.3g)",
					 a->path, s + r, diff, at, top);
	}
	return rc;
}

/*
 * Exact scoring runs one patched forward per edge, so a batch takes long
 * on a large graph: it is scored in parts of EXACT_PART backward inputs
 * each (eap_run_score per part, the progress line after each).  A part
 * scores whole inputs, as --shard does, so the scores are those of one
 * call, bit for bit; each part repeats the batch's two baseline forwards
 * (0.2% more forwards on GPT-2 small).
 */
#define EXACT_PART 16

/* The backward inputs with an edge in mask (n_fwd, n_bwd), into vs. */
static size_t scored_inputs(const uint8_t *mask, size_t n_fwd, size_t n_bwd,
			    size_t *vs)
{
	size_t n = 0;

	for (size_t v = 0; v < n_bwd; v++)
		for (size_t u = 0; u < n_fwd; u++)
			if (mask[u * n_bwd + v]) {
				vs[n++] = v;
				break;
			}
	return n;
}

/* part = the edges of mask into the inputs vs[0..nv-1] only. */
static void part_mask(uint8_t *part, const uint8_t *mask, size_t n_fwd,
		      size_t n_bwd, const size_t *vs, size_t nv)
{
	memset(part, 0, n_fwd * n_bwd);
	for (size_t u = 0; u < n_fwd; u++)
		for (size_t i = 0; i < nv; i++)
			part[u * n_bwd + vs[i]] = mask[u * n_bwd + vs[i]];
}

/*
 * FLOPs of exact scoring's patched passes over all batches, counted as
 * main's loop counts what it has done: per part of the backward inputs
 * vs[0..nv), each batch as wide as eap_batcher_fill makes it.
 */
static double exact_work(const struct eap_inputs *in, const uint8_t *mask,
			 const size_t *vs, size_t nv, uint8_t *part,
			 size_t batch, size_t full_width)
{
	const struct eap_graph *g = &in->graph;
	const struct eap_pairs_ids *ids = &in->ids;
	struct eap_cost c = { 0 };

	for (size_t s = 0; s < ids->n; s += batch) {
		size_t nb = ids->n - s < batch ? ids->n - s : batch, np, p0;

		batch_shape(ids, s, nb, full_width, &np, &p0);
		for (size_t i = 0; i < nv; i += EXACT_PART) {
			part_mask(part, mask, g->n_fwd, g->n_bwd, vs + i,
				  nv - i < EXACT_PART ? nv - i : EXACT_PART);
			eap_cost_add(&c, &in->model.cfg, g, EAP_METHOD_EXACT, 0,
				     part, nb, np, p0);
		}
	}
	return c.flops;
}

/*
 * --check-exact and --bootstrap (stability.h): the sampled edges' exact
 * scores accumulate beside the method's, batch by batch; the bootstrap
 * keeps every example's edge scores (N x n_fwd x n_bwd floats).
 */
struct aux {
	size_t check_k, boot_b, n_sizes, E;
	uint64_t seed;
	uint8_t *sample;            /* (n_fwd, n_bwd) the checked edges */
	struct eap_score_acc exact; /* their exact scores */
	float *ex;                  /* (N, n_fwd, n_bwd) per-example scores */
	size_t *sizes;
	struct eap_check_stats st;
	struct eap_bootstrap bs;
	float *check_rows, stats[6], *boot_rows;
};

static int aux_init(struct aux *x, const struct eap_graph *g, size_t N,
		    const char *sizes_arg, struct eap_err *err)
{
	int rc;

	x->E = g->n_fwd * g->n_bwd;
	if (x->check_k > g->n_edges) /* a small graph: check every edge */
		x->check_k = g->n_edges;
	if (x->check_k) {
		if (!(x->sample = malloc(x->E)))
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		if ((rc = eap_check_sample(g, x->check_k, x->seed, x->sample, err)) ||
		    (rc = eap_score_acc_init(&x->exact, g, err)))
			return rc;
	}
	if (x->boot_b) {
		if (!(x->ex = malloc(N * x->E * sizeof(float))))
			return eap_err_set(err, EAP_ENOMEM,
					   "out of memory for --bootstrap's %zu x %zu scores",
					   N, x->E);
		if ((rc = eap_curve_sizes(sizes_arg, g->n_edges, &x->sizes,
					  &x->n_sizes, err)))
			return rc;
		/* sizes beyond the graph: the whole graph, as eap-prune */
		for (size_t k = 0; k < x->n_sizes; k++)
			if (x->sizes[k] > g->n_edges)
				return eap_err_set(err, EAP_EINVAL,
						   "--sizes: %zu exceeds the graph's %zu edges",
						   x->sizes[k], g->n_edges);
	}
	return 0;
}

/* After the method scored the batch of examples s..s+nb-1. */
static int aux_batch(struct aux *x, struct eap_run *run,
		     const struct eap_batch *b, size_t s, int metric,
		     const float *dy, struct eap_err *err)
{
	if (x->boot_b)
		eap_example_scores(run, b, dy, x->ex + s * x->E);
	if (x->check_k)
		return eap_run_score(run, b, EAP_METHOD_EXACT, metric, 1, NULL,
				     x->sample, &x->exact, err);
	return 0;
}

/* The statistics, and the extra datasets into xs (from nx on). */
static int aux_finish(struct aux *x, const struct eap_graph *g,
		      const float *scores, size_t N, struct eap_h5_extra *xs,
		      size_t *nx, struct eap_err *err)
{
	int rc;

	if (x->check_k) {
		float *ex = malloc(x->E * sizeof(float));
		size_t n = 0;

		if (!ex || !(x->check_rows = malloc(x->check_k * 4 * sizeof(float)))) {
			free(ex);
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		}
		eap_score_acc_finish(&x->exact, g, ex);
		rc = eap_check_stats(g, x->sample, scores, ex, &x->st, err);
		for (size_t i = 0; i < x->E && !rc; i++)
			if (x->sample[i]) {
				float *r = x->check_rows + 4 * n++;

				r[0] = (float)(i / g->n_bwd);
				r[1] = (float)(i % g->n_bwd);
				r[2] = scores[i];
				r[3] = ex[i];
			}
		free(ex);
		if (rc)
			return rc;
		x->stats[0] = (float)x->st.n;
		x->stats[1] = (float)x->st.k;
		x->stats[2] = (float)x->st.pearson;
		x->stats[3] = (float)x->st.spearman;
		x->stats[4] = (float)x->st.sign_agreement;
		x->stats[5] = (float)x->st.topk_recall;
		xs[(*nx)++] = (struct eap_h5_extra){
			"/check_exact", 2, { x->check_k, 4 }, x->check_rows,
			"--check-exact: one row per sampled edge: forward node u, "
			"backward input v, this method's score, its exact score", 0 };
		xs[(*nx)++] = (struct eap_h5_extra){
			"/check_exact_stats", 1, { 6, 0 }, x->stats,
			"--check-exact against the sampled edges' exact scores: "
			"edges, k, Pearson r, Spearman rho, sign agreement, top-k "
			"recall (k = ceil(edges/10); README)", 1 };
	}
	if (x->boot_b) {
		struct eap_select sel = { .kind = EAP_SELECT_TOPN };
		size_t K = x->n_sizes;

		if ((rc = eap_bootstrap_run(&x->bs, g, x->ex, N, x->boot_b, x->seed,
					    &sel, x->sizes, K, err)))
			return rc;
		if (!(x->boot_rows = malloc(K * 3 * sizeof(float))))
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		for (size_t k = 0; k < K; k++) {
			x->boot_rows[3 * k] = (float)x->sizes[k];
			x->boot_rows[3 * k + 1] = (float)x->bs.edges_mean[k];
			x->boot_rows[3 * k + 2] = (float)x->bs.jaccard[k];
		}
		xs[(*nx)++] = (struct eap_h5_extra){
			"/bootstrap", 2, { K, 3 }, x->boot_rows,
			"--bootstrap: one row per size: requested edges, mean edges "
			"after pruning, mean pairwise Jaccard of the resamples' "
			"pruned top-n circuits", 0 };
		xs[(*nx)++] = (struct eap_h5_extra){
			"/bootstrap_frequency", 2, { K, x->E }, x->bs.freq,
			"--bootstrap: row k, read as n_fwd x n_bwd: the fraction of "
			"the resamples whose circuit of size k holds the edge", 0 };
	}
	return 0;
}

static void aux_release(struct aux *x)
{
	free(x->sample);
	eap_score_acc_release(&x->exact);
	free(x->ex);
	free(x->sizes);
	free(x->check_rows);
	free(x->boot_rows);
	eap_bootstrap_release(&x->bs);
}

/* The CSVs of --check-csv and --bootstrap-csv into <path>.tmp. */
static int aux_csv(const struct aux *x, const char *check_csv,
		   const char *boot_csv, const struct eap_h5_meta *meta,
		   struct eap_err *err)
{
	for (int w = 0; w < 2; w++) {
		const char *path = w ? boot_csv : check_csv;
		char *tmp;
		FILE *f;
		int bad;

		if (!path)
			continue;
		if (!(tmp = tool_tmp_name(path)))
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		if (!(f = fopen(tmp, "w"))) {
			eap_err_set(err, EAP_EIO, "%s: cannot create", tmp);
			free(tmp);
			return err->code;
		}
		if (!w) {
			fprintf(f, "method,metric,steps,n_examples,seed,edges_checked,k,"
				"pearson,spearman,sign_agreement,topk_recall\n");
			fprintf(f, "%s,%s,%d,%zu,%llu,%zu,%zu,%.6f,%.6f,%.6f,%.6f\n",
				meta->method, meta->metric, meta->steps,
				meta->n_examples, (unsigned long long)x->seed,
				x->st.n, x->st.k, x->st.pearson, x->st.spearman,
				x->st.sign_agreement, x->st.topk_recall);
		} else {
			fprintf(f, "method,metric,steps,n_examples,seed,resamples,"
				"edges_requested,edges_mean,jaccard_mean\n");
			for (size_t k = 0; k < x->n_sizes; k++)
				fprintf(f, "%s,%s,%d,%zu,%llu,%zu,%zu,%.2f,%.6f\n",
					meta->method, meta->metric, meta->steps,
					meta->n_examples,
					(unsigned long long)x->seed, x->boot_b,
					x->sizes[k], x->bs.edges_mean[k],
					x->bs.jaccard[k]);
		}
		bad = ferror(f);
		if (fclose(f) || bad) {
			eap_err_set(err, EAP_EIO, "%s: write failed", tmp);
			unlink(tmp);
			free(tmp);
			return err->code;
		}
		free(tmp);
	}
	return 0;
}

/* Rename <path>.tmp to path for each CSV (or remove them if !ok). */
static int aux_commit(const char *check_csv, const char *boot_csv, int ok,
		      struct eap_err *err)
{
	int rc = 0;

	for (int w = 0; w < 2; w++) {
		const char *path = w ? boot_csv : check_csv;
		char *tmp;

		if (!path || !(tmp = tool_tmp_name(path)))
			continue;
		if (!ok || rc)
			unlink(tmp);
		else if (rename(tmp, path))
			rc = eap_err_set(err, EAP_EIO, "%s: cannot rename to %s",
					 tmp, path);
		free(tmp);
	}
	return rc;
}

/* seconds of a clock */
static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/*
 * --cost FILE: one CSV row of what the scoring cost (README "Comparing
 * the methods"): per example the passes and GFLOP counted by eap_cost_add,
 * and the measured wall-clock and CPU seconds of the scoring loop.
 */
static int write_cost(const char *path, const struct eap_cost *c,
		      const char *method, const char *metric, int steps,
		      size_t threads, double secs, double cpu,
		      struct eap_err *err)
{
	char *tmp = tool_tmp_name(path);
	double n = c->examples ? (double)c->examples : 1.0;
	FILE *f;
	int bad;

	if (!tmp)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	tool_remove_on_signal(path, ".tmp");
	if (!(f = fopen(tmp, "w"))) {
		free(tmp);
		return eap_err_set(err, EAP_EIO, "%s: cannot write", path);
	}
	fprintf(f, "method,metric,steps,examples,threads,forwards,backwards,"
		   "gflop,seconds,cpu_seconds,seconds_per_example\n"
		   "%s,%s,%d,%zu,%zu,%.4g,%.4g,%.6g,%.3f,%.3f,%.6g\n",
		method, metric, steps, c->examples, threads, c->forwards / n,
		c->backwards / n, c->flops / n * 1e-9, secs, cpu, secs / n);
	bad = ferror(f) | fclose(f);
	if (bad || rename(tmp, path) < 0) {
		remove(tmp);
		free(tmp);
		return eap_err_set(err, EAP_EIO, "%s: cannot write", path);
	}
	free(tmp);
	return 0;
}

int main(int argc, char **argv)
{
	const char *model = NULL, *pairs = NULL, *acts = NULL, *out = NULL;
	const char *cost_path = NULL;
	struct eap_cost cost = { 0 }, done = { 0 };
	double t_wall = 0, t_cpu = 0;
	const char *edges_path = NULL;
	int method = -1, metric = EAP_METRIC_LOGIT_DIFF, progress = 0, c;
	int merging = 0, other = 0;
	size_t steps = 5, batch = 20, threads = 0, limit = 0;
	size_t shard_i = 0, shard_k = 0;
	double budget = 0;
	int level = EAP_LEVEL_EDGE;
	struct aux aux = { .seed = 1 };
	const char *check_csv = NULL, *boot_csv = NULL, *sizes_arg = "default,mib";
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "pairs", required_argument, NULL, 'p' },
		{ "acts", required_argument, NULL, 'a' },
		{ "method", required_argument, NULL, 'M' },
		{ "metric", required_argument, NULL, 'x' },
		{ "steps", required_argument, NULL, 's' },
		{ "batch", required_argument, NULL, 'b' },
		{ "edges", required_argument, NULL, 'e' },
		{ "shard", required_argument, NULL, 'S' },
		{ "merge", no_argument, NULL, 'g' },
		{ "limit", required_argument, NULL, 'l' },
		{ "budget", required_argument, NULL, 'U' },
		{ "level", required_argument, NULL, 'L' },
		{ "check-exact", required_argument, NULL, 'C' },
		{ "check-csv", required_argument, NULL, 'c' },
		{ "bootstrap", required_argument, NULL, 'B' },
		{ "bootstrap-csv", required_argument, NULL, 'r' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "seed", required_argument, NULL, 'R' },
		{ "cost", required_argument, NULL, 'Q' },
		{ "threads", required_argument, NULL, 't' },
		{ "progress", no_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 } };
	struct eap_inputs in = { 0 };
	struct eap_acts ar = { 0 };
	struct eap_batcher bt = { 0 };
	struct eap_run run = { 0 };
	struct eap_score_acc acc = { 0 };
	struct eap_node_acc na = { 0 };
	float *node = NULL, *neuron = NULL;
	struct eap_h5_meta meta;
	struct eap_err err = { 0 };
	struct eap_progress prog = { 0 };
	uint8_t *part = NULL;
	size_t *vs = NULL, nv = 0;
	uint8_t *edges = NULL;
	float *scores = NULL, *dy = NULL, *ac = NULL, *ar_buf = NULL;
	int rc = 0, audit = 0, same_metric = 0;

	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		other += c != 'o' && c != 'P' && c != 'g';
		switch (c) {
		case 'm': model = optarg; break;
		case 'p': pairs = optarg; break;
		case 'a': acts = optarg; break;
		case 'M':
			if ((method = eap_method_parse(optarg)) < 0) {
				fprintf(stderr, "%s: unknown --method '%s' (eap, eap-ig, eap-ig-act, clean-corrupted, exact, relp, eap-gp)\n", T, optarg);
				return 2;
			}
			break;
		case 'Q': cost_path = optarg; break;
		case 'x':
			metric = tool_metric_arg(T, optarg);
			break;
		case 's': steps = tool_size_arg(T, "--steps", optarg, 100000); break;
		case 'b': batch = tool_size_arg(T, "--batch", optarg, 100000); break;
		case 'e': edges_path = optarg; break;
		case 'S': parse_shard(optarg, &shard_i, &shard_k); break;
		case 'g': merging = 1; break;
		case 'l': limit = tool_size_arg(T, "--limit", optarg, SIZE_MAX); break;
		case 'U': {
			char *end;

			budget = strtod(optarg, &end);
			if (end == optarg || *end || !(budget > 0) || budget > 1e9)
				return tool_usage_error(T, "--budget '%s': expected TFLOP, a number above 0", optarg);
			break;
		}
		case 'C': aux.check_k = tool_size_arg(T, "--check-exact", optarg, SIZE_MAX); break;
		case 'c': check_csv = optarg; break;
		case 'B': aux.boot_b = tool_size_arg(T, "--bootstrap", optarg, 100000); break;
		case 'r': boot_csv = optarg; break;
		case 'z': sizes_arg = optarg; break;
		case 'R': aux.seed = tool_size_arg(T, "--seed", optarg, SIZE_MAX); break;
		case 'L':
			if ((level = eap_level_parse(optarg)) < 0) {
				fprintf(stderr, "%s: unknown --level '%s' (edge, node, neuron)\n", T, optarg);
				return 2;
			}
			break;
		case 't': threads = tool_size_arg(T, "--threads", optarg, 1024); break;
		case 'P': progress = 1; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (merging) {
		if (other || !out || optind == argc) {
			fprintf(stderr, "%s: %s (see --help)\n", T,
				other ? "--merge takes only -o and the files to merge"
				      : "--merge needs -o FILE and the files to merge");
			return 2;
		}
		tool_check_output(T, out);
		if ((rc = merge(out, argv + optind, (size_t)(argc - optind), &err)))
			fprintf(stderr, "%s: %s\n", T, err.msg);
		return rc ? 1 : 0;
	}
	if (optind < argc || !model || !pairs || !out || method < 0) {
		fprintf(stderr, "%s: %s (see --help)\n", T,
			optind < argc ? "unexpected argument"
				      : "--model, --pairs, --method and -o are required");
		return 2;
	}
	if ((edges_path || shard_k) && method != EAP_METHOD_EXACT) {
		fprintf(stderr, "%s: %s applies to --method exact only\n", T,
			edges_path ? "--edges" : "--shard");
		return 2;
	}
	if ((aux.check_k || aux.boot_b) && method == EAP_METHOD_EXACT) {
		fprintf(stderr, "%s: --%s checks an approximate method, not exact\n",
			T, aux.check_k ? "check-exact" : "bootstrap");
		return 2;
	}
	if ((check_csv && !aux.check_k) || (boot_csv && !aux.boot_b) ||
	    aux.boot_b == 1) {
		fprintf(stderr, "%s: %s\n", T, aux.boot_b == 1
			? "--bootstrap wants at least 2 resamples"
			: "--check-csv goes with --check-exact, --bootstrap-csv with --bootstrap");
		return 2;
	}
	if (level != EAP_LEVEL_EDGE && shard_k) {
		fprintf(stderr, "%s: --level %s cannot be sharded (--shard)\n", T,
			eap_level_name(level));
		return 2;
	}
	tool_check_output(T, out);
	if (cost_path)
		tool_check_output(T, cost_path);
	if (check_csv)
		tool_check_output(T, check_csv);
	if (boot_csv)
		tool_check_output(T, boot_csv);
	eap_blas_threads((int)tool_threads(threads));

	if ((rc = eap_inputs_load(&in, model, pairs, &err)) ||
	    (rc = eap_h5_meta_init(&meta, T, EAP_VERSION, model, pairs, &err)))
		goto fail;
	/* --limit: the first N pairs only (acts.h5 rows line up from 0) */
	if (limit && limit < in.ids.n)
		in.ids.n = limit;
	if (acts) {
		if ((rc = eap_acts_open(&ar, acts, &err)) ||
		    (rc = check_acts(&ar, &in, &meta, &err)))
			goto fail;
	}
	if (edges_path) {
		edges = malloc(in.graph.n_fwd * in.graph.n_bwd);
		if (!edges) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = read_edges(edges_path, &in.graph, edges, &err)))
			goto fail;
	}
	if (method == EAP_METHOD_EXACT && level != EAP_LEVEL_EDGE && !edges_path &&
	    !(edges = calloc(in.graph.n_fwd * in.graph.n_bwd, 1))) {
		/* node level: no edge is scored exactly (a partial file) */
		rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	if (budget > 0)
		apply_budget(&in, method, steps, edges, budget, progress, batch,
			     acts ? in.ids.max_len : 0);
	if (shard_k) {
		size_t E = in.graph.n_fwd * in.graph.n_bwd;

		if (!edges && !(edges = malloc(E))) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		if (!edges_path)
			memcpy(edges, in.graph.edge_mask, E);
		select_shard(edges, in.graph.n_fwd, in.graph.n_bwd, shard_i,
			     shard_k);
	}
	if (batch > in.ids.n)
		batch = in.ids.n;
	if ((rc = eap_batcher_init(&bt, &in.ids, batch, &err)) ||
	    (rc = eap_run_init(&run, &in.model, &in.graph, batch, bt.P, &err)) ||
	    (rc = eap_score_acc_init(&acc, &in.graph, &err)) ||
	    (level != EAP_LEVEL_EDGE &&
	     (rc = eap_node_acc_init(&na, &in.graph, in.model.cfg.d_model, batch,
				     bt.P, &err))) ||
	    (rc = aux_init(&aux, &in.graph, in.ids.n, sizes_arg, &err)))
		goto fail;
	/* edge scores of the gradient methods: per-layer contraction for
	 * big models (README "Big models"); node scores and --bootstrap's
	 * per-example scores read every gradient */
	if ((rc = contract_setup(&run,
				 level == EAP_LEVEL_EDGE &&
					 method != EAP_METHOD_EXACT && !aux.boot_b,
				 in.graph.n_bwd * batch * bt.P *
					 in.model.cfg.d_model * sizeof(float),
				 &err)))
		goto fail;
	/* a dump holding fewer examples' node outputs than are scored is an
	 * audit sample: dy is recomputed and checked against it */
	audit = acts && ar.K < in.ids.n;
	same_metric = acts && !strcmp(ar.meta.metric, eap_metric_name(metric));
	if (audit && method != EAP_METHOD_EXACT) {
		size_t sz = bt.P * in.graph.n_fwd * in.model.cfg.d_model;

		ac = malloc(sz * sizeof(float));
		ar_buf = malloc(sz * sizeof(float));
		if (!ac || !ar_buf) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
	} else if (acts && method != EAP_METHOD_EXACT) {
		size_t sz = in.graph.n_fwd * batch * bt.P * in.model.cfg.d_model;

		dy = malloc(sz * sizeof(float));
		ac = malloc(sz * sizeof(float));
		ar_buf = malloc(sz * sizeof(float));
		if (!dy || !ac || !ar_buf) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (method == EAP_METHOD_EXACT) {
		size_t E = in.graph.n_fwd * in.graph.n_bwd;

		part = malloc(E);
		vs = malloc(in.graph.n_bwd * sizeof(size_t));
		if (!part || !vs) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		nv = scored_inputs(edges ? edges : in.graph.edge_mask,
				   in.graph.n_fwd, in.graph.n_bwd, vs);
		/* units: the patched passes' FLOPs (a backward input's cost
		 * 1 to 100 times another's), per batch at its own width */
		eap_progress_start(&prog, T, out, NULL, 0, progress);
		eap_progress_flop(&prog, exact_work(&in, edges ? edges : in.graph.edge_mask,
						    vs, nv, part, batch,
						    acts ? bt.P : 0));
	} else {
		eap_progress_start(&prog, T, out, "examples", in.ids.n, progress);
	}
	eap_progress_update(&prog, 0, NULL);
	t_wall = clock_s(CLOCK_MONOTONIC);
	t_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (size_t s = 0; s < in.ids.n; s += batch) {
		size_t nb = in.ids.n - s < batch ? in.ids.n - s : batch, p0;
		struct eap_batch b;

		eap_batcher_fill(&bt, &in.ids, s, nb, acts != NULL, &b);
		p0 = eap_batch_prefix(&b); /* exact's copies skip it */
		eap_cost_add(&cost, &in.model.cfg, &in.graph, method, (int)steps,
			     edges, nb, b.np, p0);
		if (dy) {
			/* dy = y(corrupted) - y(clean) from the audited file,
			 * node-major, zero past each example's length */
			size_t d = in.model.cfg.d_model, nf = in.graph.n_fwd;
			size_t nd = nb * b.np * d;

			rc = eap_acts_read(&ar, s, nb,
					   &(struct eap_acts_batch){ .acts_clean = ac,
								     .acts_corrupted = ar_buf },
					   &err);
			if (rc)
				goto fail;
			eap_acts_transpose(dy, ar_buf, nb * b.np, nf, d);
			eap_acts_transpose(ar_buf, ac, nb * b.np, nf, d);
			for (size_t i = 0; i < nf * nd; i++)
				dy[i] -= ar_buf[i];
			for (size_t u = 0; u < nf; u++)
				for (size_t r = 0; r < nb; r++)
					memset(dy + u * nd + (r * b.np + (size_t)b.lengths[r]) * d, 0,
					       (b.np - (size_t)b.lengths[r]) * d * sizeof(float));
		}
		if (method == EAP_METHOD_EXACT) {
			const uint8_t *mask = edges ? edges : in.graph.edge_mask;

			size_t i = 0;

			do { /* once even without inputs (an empty shard) */
				size_t np = nv - i < EXACT_PART ? nv - i : EXACT_PART;

				part_mask(part, mask, in.graph.n_fwd, in.graph.n_bwd,
					  vs + i, np);
				eap_cost_add(&done, &in.model.cfg, &in.graph, method,
					     (int)steps, part, nb, b.np, p0);
				rc = eap_run_score(&run, &b, method, metric, (int)steps,
						   NULL, part, &acc, &err);
				/* each call counts the batch's examples */
				if (!rc && i)
					acc.n_examples -= nb;
				i += np;
				eap_progress_update(&prog, (size_t)done.flops, NULL);
			} while (i < nv && !rc);
			if (!rc && level != EAP_LEVEL_EDGE)
				rc = eap_node_acc_add_exact(&na, &run, &b, metric,
							    level == EAP_LEVEL_NEURON,
							    &err);
		} else {
			rc = eap_run_score(&run, &b, method, metric, (int)steps, dy,
					   edges, &acc, &err);
			if (!rc && level != EAP_LEVEL_EDGE)
				eap_node_acc_add_grad(&na, &run, &b, dy);
			if (!rc)
				rc = aux_batch(&aux, &run, &b, s, metric, dy, &err);
		}
		/* the baselines (when scored on the dump's metric) and, from a
		 * bounded dump, the recomputed dy must be the file's */
		if (!rc && same_metric)
			rc = audit_metrics(&ar, &run, s, nb, &err);
		if (!rc && audit && ac)
			rc = audit_dy(&ar, &run, &b, s, ac, ar_buf, &err);
		if (rc) {
			char where[4200];

			eap_err_prefix(&err, eap_pairs_where(&in.pairs, s, where,
							     sizeof(where)));
			goto fail;
		}
		if (method != EAP_METHOD_EXACT)
			eap_progress_update(&prog, s + nb, NULL);
	}
	t_wall = clock_s(CLOCK_MONOTONIC) - t_wall;
	t_cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t_cpu;
	scores = malloc(in.graph.n_fwd * in.graph.n_bwd * sizeof(float));
	if (!scores) {
		rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	eap_score_acc_finish(&acc, &in.graph, scores);
	snprintf(meta.method, sizeof(meta.method), "%s", eap_method_name(method));
	snprintf(meta.metric, sizeof(meta.metric), "%s", eap_metric_name(metric));
	meta.steps = method == EAP_METHOD_EAP_IG ||
		     method == EAP_METHOD_EAP_IG_ACT ||
		     method == EAP_METHOD_EAP_GP ? (int)steps : 0;
	meta.n_examples = in.ids.n;
	if (level != EAP_LEVEL_EDGE) {
		size_t nf = in.graph.n_fwd, d = in.model.cfg.d_model;

		node = malloc(nf * sizeof(float));
		neuron = malloc(nf * d * sizeof(float));
		if (!node || !neuron) {
			rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		eap_node_acc_finish(&na, node, neuron);
	}
	{
		size_t nf = in.graph.n_fwd, d = in.model.cfg.d_model;
		struct eap_h5_extra x[6] = {
			{ "/node_scores", 1, { nf, 0 }, node,
			  "score of forward node u (forward_nodes): its output's "
			  "dy contracted with the gradient at its output, or "
			  "exact: the metric's change when all its outgoing "
			  "edges are patched (README, Node and neuron scores)", 0 },
			{ "/neuron_scores", 2, { nf, d }, neuron,
			  "score of dimension j of forward node u's output, as "
			  "/node_scores for that dimension alone", 0 } };
		size_t nx = level == EAP_LEVEL_NEURON ? 2 : level == EAP_LEVEL_NODE;

		if (nx == 1)
			x[1] = (struct eap_h5_extra){ 0 };
		if ((rc = aux_finish(&aux, &in.graph, scores, in.ids.n, x, &nx, &err)) ||
		    (rc = aux_csv(&aux, check_csv, boot_csv, &meta, &err)))
			goto fail;
		/* a subset is marked as such (/scored), for --merge */
		rc = eap_scores_write_ext(out, &in.graph, scores, edges, x, nx,
					  &meta, &err);
		if (!rc && (rc = aux_commit(check_csv, boot_csv, 1, &err)))
			unlink(out);
	}
	if (!rc && cost_path)
		rc = write_cost(cost_path, &cost, meta.method, meta.metric,
				meta.steps, tool_threads(threads), t_wall, t_cpu,
				&err);
fail:
	eap_progress_end(&prog);
	if (rc)
		fprintf(stderr, "%s: %s\n", T, err.msg);
	free(part);
	free(vs);
	free(scores);
	free(node);
	free(neuron);
	eap_node_acc_release(&na);
	if (rc)
		aux_commit(check_csv, boot_csv, 0, &err);
	aux_release(&aux);
	free(dy);
	free(ac);
	free(ar_buf);
	free(edges);
	eap_score_acc_release(&acc);
	eap_run_release(&run);
	eap_batcher_release(&bt);
	eap_acts_close(&ar);
	eap_inputs_release(&in);
	return rc ? 1 : 0;
}
