/*
 * eap-compare - sets a method's scores or circuits beside a reference's
 * (exact patching, the paper's ground truth), as CSV for the figures and
 * tables of issue #9:
 *
 *   eap-compare --scores FILE --ref FILE [--method NAME] -o FILE
 *       one row: Pearson's r and Spearman's rho of the two score vectors
 *       over the graph's edges (signed, and of |score|, which is what
 *       selection ranks by)
 *   eap-compare --circuits FILE --ref FILE [--method NAME] -o FILE
 *       one row per requested size: both circuits' edges and forward
 *       nodes, what they share, their IoU, and FILE's precision and
 *       recall against the reference
 *   eap-compare --circuits FILE --ref FILE --fixed-ref [--no-mlp] ...
 *       the reference is one circuit (a manual circuit, another task's)
 *       set beside every circuit of FILE, whatever its size; nodes are
 *       counted without input, and the pairs may differ (issue #16)
 *   eap-compare --curves A.h5 --ref B.h5 [--curves A2.h5 --ref B2.h5]...
 *       one row: AUC(A) - AUC(B) of two methods' curves (eap-eval --h5),
 *       one pair of files per seed, with a 95% interval over seeds and
 *       examples (eap_auc_diff)
 *
 * The two files must belong together: the same graph (n_layer x n_head),
 * the same model and pairs (model_sha256, pairs_sha256, where both
 * record one: a JSON import records neither) and, for
 * circuits, the same requested sizes in the same order.  The statistics
 * are in the library (include/eap/stats.h); main reads, checks and
 * prints.  Output goes to <out>.tmp, renamed when complete.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/err.h"
#include "eap/faith.h"
#include "eap/graph.h"
#include "eap/h5io.h"
#include "eap/pairs.h"
#include "eap/stats.h"
#include "tool.h"

static const char *const PROG = "eap-compare";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-compare (--scores FILE | --circuits FILE) --ref FILE "
		"[--method NAME] -o FILE\n"
		"       eap-compare --circuits FILE --ref FILE --fixed-ref [--no-mlp] "
		"[--method NAME] -o FILE\n"
		"       eap-compare --curves FILE --ref FILE [--curves FILE --ref FILE]... "
		"[--bootstrap N] [--seed S] [--method NAME] -o FILE\n"
		"Compare a method's edge scores (correlation) or circuits (overlap) "
		"with a reference's, usually exact patching, and write CSV.\n"
		"  --scores FILE      scores.h5 of the method; writes one row: method,"
		"ref_method,metric,ref_metric,steps,edges,pearson,spearman,"
		"pearson_abs,spearman_abs (over the edges both files scored)\n"
		"  --circuits FILE    circuits.h5 of the method (eap-prune --sizes); "
		"writes one row per requested size: method,ref_method,"
		"edges_requested,edges,ref_edges,common_edges,edge_iou,nodes,"
		"ref_nodes,common_nodes,node_iou,edge_precision,edge_recall,"
		"node_precision,node_recall (precision = common / FILE's, recall = "
		"common / the reference's; nan for an empty denominator)\n"
		"  --fixed-ref        the --ref circuits file holds one circuit (e.g. "
		"a manual circuit, eap-prune --from-json --as-is), set beside every "
		"circuit of FILE; pairs may differ; nodes are counted without input\n"
		"  --no-mlp           with --fixed-ref: leave out MLP nodes, and the "
		"edges of FILE's circuits that touch an MLP (the paper's IOI "
		"protocol; the reference's edges all count)\n"
		"  --curves FILE      curve.h5 of a method (eap-eval --h5), with the "
		"--ref curve.h5 of another on the same model, pairs and sizes; "
		"repeat the pair once per seed; writes one row: method,ref_method,"
		"metric,seeds,examples,auc,ref_auc,auc_diff,ci_low,ci_high (auc: the "
		"summary's auc_log, mean over seeds; the interval resamples seeds, "
		"and examples within each)\n"
		"  --bootstrap N      resamples for --curves' interval (default 1000)\n"
		"  --seed S           their seed (default 1)\n"
		"  --ref FILE         the reference's file of the same kind: same "
		"graph, model and pairs (and for circuits the same sizes) (required; "
		"once per --curves)\n"
		"  --method NAME      the method column (default: the file's method "
		"attribute)\n"
		"  -o, --output FILE  CSV to write (required)\n"
		"  -h, --help         show this help and exit\n"
		"Example: eap-compare --circuits circuits-eap-logit_diff.h5 "
		"--ref circuits-exact-logit_diff.h5 -o overlap-eap-logit_diff.csv\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	return tool_usage_error(PROG, fmt, arg);
}

/* Same graph and, where both record them, the same model and pairs. */
static int same_origin(const char *a_path, const struct eap_graph *a,
		       const struct eap_h5_meta *am, const char *b_path,
		       const struct eap_graph *b, const struct eap_h5_meta *bm,
		       int any_pairs, struct eap_err *err)
{
	if (a->n_layer != b->n_layer || a->n_head != b->n_head)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: graph is %zu x %zu (n_layer x n_head), but "
				   "%s's is %zu x %zu", b_path, b->n_layer,
				   b->n_head, a_path, a->n_layer, a->n_head);
	if (am->model_sha256[0] && bm->model_sha256[0] &&
	    strcmp(am->model_sha256, bm->model_sha256))
		return eap_err_set(err, EAP_EINVAL,
				   "%s: model_sha256 %.12s... differs from %s's "
				   "%.12s... (another model)", b_path,
				   bm->model_sha256, a_path, am->model_sha256);
	if (!any_pairs && am->pairs_sha256[0] && bm->pairs_sha256[0] &&
	    strcmp(am->pairs_sha256, bm->pairs_sha256))
		return eap_err_set(err, EAP_EINVAL,
				   "%s: pairs_sha256 %.12s... differs from %s's "
				   "%.12s... (another task or pairs file)", b_path,
				   bm->pairs_sha256, a_path, am->pairs_sha256);
	return 0;
}

static const char *label(const char *opt, const struct eap_h5_meta *m)
{
	return opt ? opt : m->method;
}

/* "%.6f", or "nan" for an undefined correlation */
static void put_num(FILE *f, double v)
{
	if (isnan(v))
		fputs("nan", f);
	else
		fprintf(f, "%.6f", v);
}

static int compare_scores(const char *path, const char *ref_path,
			  const char *method, const char *tmp, struct eap_err *err)
{
	struct eap_scores a = { 0 }, b = { 0 };
	double *x = NULL, *y = NULL, r, rho, r_abs, rho_abs;
	size_t n = 0, nn;
	FILE *f = NULL;
	int rc;

	if ((rc = eap_scores_read(path, &a, err)) ||
	    (rc = eap_scores_read(ref_path, &b, err)) ||
	    (rc = same_origin(path, &a.graph, &a.meta, ref_path, &b.graph,
			      &b.meta, 0, err)))
		goto out;
	nn = a.graph.n_fwd * a.graph.n_bwd;
	x = malloc(2 * a.graph.n_edges * sizeof(double));
	if (!x) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	y = x + a.graph.n_edges;
	/* the edges both files scored (a partial file has /scored) */
	for (size_t i = 0; i < nn; i++)
		if (a.graph.edge_mask[i] && (!a.scored || a.scored[i]) &&
		    (!b.scored || b.scored[i])) {
			x[n] = a.scores[i];
			y[n++] = b.scores[i];
		}
	if (n == 0) {
		rc = eap_err_set(err, EAP_EINVAL, "%s: no edge is scored in both "
				 "this file and %s", ref_path, path);
		goto out;
	}
	r = eap_stats_pearson(x, y, n);
	if ((rc = eap_stats_spearman(x, y, n, &rho, err)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		x[i] = fabs(x[i]);
		y[i] = fabs(y[i]);
	}
	r_abs = eap_stats_pearson(x, y, n);
	if ((rc = eap_stats_spearman(x, y, n, &rho_abs, err)))
		goto out;
	if (!(f = fopen(tmp, "w"))) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
		goto out;
	}
	fputs("method,ref_method,metric,ref_metric,steps,edges,pearson,spearman,"
	      "pearson_abs,spearman_abs\n", f);
	eap_csv_write_field(f, label(method, &a.meta));
	fputc(',', f);
	eap_csv_write_field(f, b.meta.method);
	fputc(',', f);
	eap_csv_write_field(f, a.meta.metric);
	fputc(',', f);
	eap_csv_write_field(f, b.meta.metric);
	fprintf(f, ",%d,%zu,", a.meta.steps, n);
	put_num(f, r);
	fputc(',', f);
	put_num(f, rho);
	fputc(',', f);
	put_num(f, r_abs);
	fputc(',', f);
	put_num(f, rho_abs);
	fputc('\n', f);
	if (ferror(f) | fclose(f))
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
	f = NULL;
out:
	if (f)
		fclose(f);
	free(x);
	eap_scores_release(&a);
	eap_scores_release(&b);
	return rc;
}

/* "%.6f" of a / b, "nan" for b = 0 */
static void put_ratio(FILE *f, size_t a, size_t b)
{
	put_num(f, b ? (double)a / (double)b : NAN);
}

/* Edge u -> v touches an MLP: u is one, or v is an MLP's input. */
static int touches_mlp(const struct eap_graph *g, size_t u, size_t v)
{
	size_t l, h;
	enum eap_bwd_kind kind;

	if (u && eap_fwd_mlp(g, (size_t)eap_graph_fwd_layer(g, u)) == u)
		return 1;
	if (v == eap_bwd_logits(g))
		return 0;
	eap_graph_bwd_info(g, v, &l, &kind, &h);
	return kind == EAP_BWD_MLP;
}

/* Node u counts: not input under fixed_ref, not an MLP under no_mlp. */
static int node_counts(const struct eap_graph *g, size_t u, int fixed_ref,
		       int no_mlp)
{
	if (fixed_ref && u == 0)
		return 0;
	return !(no_mlp && u && eap_fwd_mlp(g, (size_t)eap_graph_fwd_layer(g, u)) == u);
}

static int compare_circuits(const char *path, const char *ref_path,
			    const char *method, int fixed_ref, int no_mlp,
			    const char *tmp, struct eap_err *err)
{
	struct eap_circuits a = { 0 }, b = { 0 };
	FILE *f = NULL;
	size_t E, F;
	int rc;

	if ((rc = eap_circuits_read(path, &a, err)) ||
	    (rc = eap_circuits_read(ref_path, &b, err)) ||
	    (rc = same_origin(path, &a.graph, &a.meta, ref_path, &b.graph,
			      &b.meta, fixed_ref, err)))
		goto out;
	if (fixed_ref && b.K != 1) {
		rc = eap_err_set(err, EAP_EINVAL, "%s: %zu circuits, but "
				 "--fixed-ref wants one", ref_path, b.K);
		goto out;
	}
	if (!fixed_ref && a.K != b.K) {
		rc = eap_err_set(err, EAP_EINVAL, "%s: %zu circuits, but %s has "
				 "%zu (compare curves of the same sizes)",
				 ref_path, b.K, path, a.K);
		goto out;
	}
	for (size_t k = 0; k < a.K && !fixed_ref; k++)
		if (a.edges_requested[k] != b.edges_requested[k]) {
			rc = eap_err_set(err, EAP_EINVAL, "%s: circuit %zu was "
					 "requested with %lld edges, but %s's "
					 "with %lld (compare curves of the same "
					 "sizes)", ref_path, k + 1,
					 (long long)b.edges_requested[k], path,
					 (long long)a.edges_requested[k]);
			goto out;
		}
	if (!(f = fopen(tmp, "w"))) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
		goto out;
	}
	E = a.graph.n_fwd * a.graph.n_bwd;
	F = a.graph.n_fwd;
	fputs("method,ref_method,edges_requested,edges,ref_edges,common_edges,"
	      "edge_iou,nodes,ref_nodes,common_nodes,node_iou,edge_precision,"
	      "edge_recall,node_precision,node_recall\n", f);
	for (size_t k = 0; k < a.K; k++) {
		const uint8_t *ea = a.in_graph + k * E;
		const uint8_t *eb = b.in_graph + (fixed_ref ? 0 : k) * E;
		const uint8_t *na_ = a.nodes_in_graph + k * F;
		const uint8_t *nb_ = b.nodes_in_graph + (fixed_ref ? 0 : k) * F;
		size_t ne = 0, nre = 0, ce = 0, na = 0, nb = 0, cn = 0;

		for (size_t i = 0; i < E; i++) {
			int x = ea[i] != 0, y = eb[i] != 0;

			if (x && no_mlp && touches_mlp(&a.graph, i / a.graph.n_bwd,
						       i % a.graph.n_bwd))
				x = 0;
			ne += x;
			nre += y;
			ce += x && y;
		}
		for (size_t u = 0; u < F; u++) {
			int x = na_[u] != 0, y = nb_[u] != 0;

			if (!node_counts(&a.graph, u, fixed_ref, no_mlp))
				continue;
			na += x;
			nb += y;
			cn += x && y;
		}
		eap_csv_write_field(f, label(method, &a.meta));
		fputc(',', f);
		eap_csv_write_field(f, b.meta.method);
		/* IoU: two empty sets are the same set */
		fprintf(f, ",%lld,%zu,%zu,%zu,%.6f,%zu,%zu,%zu,%.6f,",
			(long long)a.edges_requested[k], ne, nre, ce,
			ne + nre - ce ? (double)ce / (double)(ne + nre - ce) : 1.0,
			na, nb, cn,
			na + nb - cn ? (double)cn / (double)(na + nb - cn) : 1.0);
		put_ratio(f, ce, ne);
		fputc(',', f);
		put_ratio(f, ce, nre);
		fputc(',', f);
		put_ratio(f, cn, na);
		fputc(',', f);
		put_ratio(f, cn, nb);
		fputc('\n', f);
	}
	if (ferror(f) | fclose(f))
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
	f = NULL;
out:
	if (f)
		fclose(f);
	eap_circuits_release(&a);
	eap_circuits_release(&b);
	return rc;
}

/*
 * One row: AUC(a) - AUC(b) over the n pairs of curve files (one per
 * seed), each pair on the same model, pairs and sizes.
 */
static int compare_curves(char **as, char **bs, size_t n, const char *method,
			  size_t n_boot, uint64_t seed, const char *tmp,
			  struct eap_err *err)
{
	struct eap_curve_data *a = calloc(2 * n, sizeof(*a)), *b;
	struct eap_curve_pair *p = calloc(n, sizeof(*p));
	long *x = NULL;
	struct eap_auc_diff d;
	size_t N = 0;
	FILE *f = NULL;
	int rc = 0;

	if (!a || !p) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	b = a + n;
	for (size_t j = 0; j < n; j++) {
		if ((rc = eap_curve_read(as[j], &a[j], err)) ||
		    (rc = eap_curve_read(bs[j], &b[j], err)))
			goto out;
		if (a[j].meta.model_sha256[0] && b[j].meta.model_sha256[0] &&
		    strcmp(a[j].meta.model_sha256, b[j].meta.model_sha256)) {
			rc = eap_err_set(err, EAP_EINVAL, "%s: model_sha256 differs "
					 "from %s's (another model)", bs[j], as[j]);
			goto out;
		}
		if (a[j].meta.pairs_sha256[0] && b[j].meta.pairs_sha256[0] &&
		    strcmp(a[j].meta.pairs_sha256, b[j].meta.pairs_sha256)) {
			rc = eap_err_set(err, EAP_EINVAL, "%s: pairs_sha256 differs "
					 "from %s's (another task or pairs file)",
					 bs[j], as[j]);
			goto out;
		}
		if (a[j].N != b[j].N || a[j].K != b[j].K ||
		    memcmp(a[j].edges_requested, b[j].edges_requested,
			   a[j].K * sizeof(int64_t))) {
			rc = eap_err_set(err, EAP_EINVAL, "%s: %zu sizes x %zu "
					 "examples, not those of %s (%zu x %zu, "
					 "compare curves of the same sizes)",
					 bs[j], b[j].K, b[j].N, as[j], a[j].K,
					 a[j].N);
			goto out;
		}
		if (strcmp(a[j].meta.metric, a[0].meta.metric) ||
		    strcmp(b[j].meta.metric, a[0].meta.metric)) {
			rc = eap_err_set(err, EAP_EINVAL, "%s: metric %s, but %s's "
					 "is %s", strcmp(a[j].meta.metric,
					 a[0].meta.metric) ? as[j] : bs[j],
					 strcmp(a[j].meta.metric, a[0].meta.metric)
					 ? a[j].meta.metric : b[j].meta.metric,
					 as[0], a[0].meta.metric);
			goto out;
		}
		N += a[j].N;
	}
	/* the sizes as long, one array per pair, in one block */
	{
		size_t tot = 0;

		for (size_t j = 0; j < n; j++)
			tot += a[j].K;
		if (!(x = malloc(tot * sizeof(long)))) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto out;
		}
		tot = 0;
		for (size_t j = 0; j < n; j++) {
			for (size_t k = 0; k < a[j].K; k++)
				x[tot + k] = (long)a[j].edges_requested[k];
			/* the clean and corrupted runs do not depend on the
			 * circuit: both files must hold the same numbers */
			if (memcmp(a[j].m_clean, b[j].m_clean, a[j].N * sizeof(double)) ||
			    memcmp(a[j].m_corr, b[j].m_corr, a[j].N * sizeof(double))) {
				rc = eap_err_set(err, EAP_EINVAL, "%s: clean or "
						 "corrupted metrics differ from %s's "
						 "(another model or pairs)", bs[j], as[j]);
				goto out;
			}
			p[j] = (struct eap_curve_pair){
				.K = a[j].K, .N = a[j].N, .x = x + tot,
				.clean = a[j].m_clean, .corr = a[j].m_corr,
				.circ_a = a[j].m_circ, .circ_b = b[j].m_circ,
			};
			tot += a[j].K;
		}
	}
	if (eap_auc_diff(p, n, n_boot, seed, &d)) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	if (!(f = fopen(tmp, "w"))) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
		goto out;
	}
	fputs("method,ref_method,metric,seeds,examples,auc,ref_auc,auc_diff,"
	      "ci_low,ci_high\n", f);
	eap_csv_write_field(f, label(method, &a[0].meta));
	fputc(',', f);
	eap_csv_write_field(f, b[0].meta.method);
	fputc(',', f);
	eap_csv_write_field(f, a[0].meta.metric);
	fprintf(f, ",%zu,%zu,", n, N);
	put_num(f, d.auc_a);
	fputc(',', f);
	put_num(f, d.auc_b);
	fputc(',', f);
	put_num(f, d.diff);
	fputc(',', f);
	put_num(f, d.lo);
	fputc(',', f);
	put_num(f, d.hi);
	fputc('\n', f);
	if (ferror(f) | fclose(f))
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
	f = NULL;
out:
	if (f)
		fclose(f);
	for (size_t j = 0; a && j < 2 * n; j++)
		eap_curve_data_release(&a[j]);
	free(a);
	free(p);
	free(x);
	return rc;
}

/* main, with room for argc --curves and --ref values in curves, refs */
static int compare_main(int argc, char **argv, char **curves, char **refs)
{
	/* defaults */
	const char *scores = NULL;   /* --scores: one of it and --circuits */
	const char *circuits = NULL; /* --circuits */
	const char *ref = NULL;      /* --ref: required */
	size_t n_curves = 0, n_refs = 0;
	int fixed_ref = 0;           /* --fixed-ref: off */
	int no_mlp = 0;              /* --no-mlp: off */
	size_t n_boot = 1000;        /* --bootstrap */
	uint64_t seed = 1;           /* --seed */
	char *end;
	const char *method = NULL;   /* --method: the file's attribute */
	const char *out = NULL;      /* -o: required */

	static const struct option opts[] = {
		{ "scores", required_argument, NULL, 's' },
		{ "circuits", required_argument, NULL, 'c' },
		{ "ref", required_argument, NULL, 'r' },
		{ "curves", required_argument, NULL, 'C' },
		{ "fixed-ref", no_argument, NULL, 'f' },
		{ "no-mlp", no_argument, NULL, 'n' },
		{ "bootstrap", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 'S' },
		{ "method", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eap_err err = { 0 };
	char *tmp = NULL;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 's': scores = optarg; break;
		case 'c': circuits = optarg; break;
		case 'r':
			ref = optarg;
			refs[n_refs++] = optarg;    /* --curves and --ref pairs */
			break;
		case 'C':
			curves[n_curves++] = optarg;
			break;
		case 'f': fixed_ref = 1; break;
		case 'n': no_mlp = 1; break;
		case 'b':
			errno = 0;
			n_boot = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-')
				return usage_error("--bootstrap wants a whole number, got '%s'", optarg);
			break;
		case 'S':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-')
				return usage_error("--seed wants a whole number, got '%s'", optarg);
			break;
		case 'm': method = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		default: {
			const char *arg = argv[optind - 1];

			if (optopt && strchr("scrmoCbS", optopt))
				return usage_error("option '%s' requires an argument", arg);
			if (optopt)
				return usage_error("option '%s' takes no argument", arg);
			return usage_error("unknown option '%s'", arg);
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!!scores + !!circuits + !!n_curves != 1)
		return usage_error("%s", "give one of --scores FILE, --circuits FILE and --curves FILE");
	if (!ref)
		return usage_error("%s", "--ref FILE is required");
	if (n_curves && n_refs != n_curves)
		return usage_error("%s", "give one --ref FILE for each --curves FILE");
	if (!n_curves && n_refs > 1)
		return usage_error("%s", "--ref FILE more than once goes with --curves");
	if ((fixed_ref || no_mlp) && !circuits)
		return usage_error("%s", "--fixed-ref and --no-mlp go with --circuits");
	if (no_mlp && !fixed_ref)
		return usage_error("%s", "--no-mlp goes with --fixed-ref");
	if (!out)
		return usage_error("%s", "-o FILE is required");
	if (method && (!*method || strpbrk(method, ",\"\n\r")))
		return usage_error("--method wants a plain name, got '%s'", method);

	tool_check_output(PROG, out);
	if (!(tmp = tool_tmp_name(out))) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	rc = scores ? compare_scores(scores, ref, method, tmp, &err)
	   : circuits ? compare_circuits(circuits, ref, method, fixed_ref, no_mlp,
					 tmp, &err)
	   : compare_curves(curves, refs, n_curves, method, n_boot, seed, tmp, &err);
	if (!rc && rename(tmp, out) < 0)
		rc = eap_err_set(&err, EAP_EIO, "%s: cannot write", out);
	if (rc) {
		unlink(tmp);
		fprintf(stderr, "%s: %s\n", PROG, err.msg);
	}
	free(tmp);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	/* each --curves or --ref takes at least one argument of argv */
	char **lists = malloc(2 * (size_t)argc * sizeof(*lists));
	int rc;

	if (!lists) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	rc = compare_main(argc, argv, lists, lists + argc);
	free(lists);
	return rc;
}
