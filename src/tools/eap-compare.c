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
 *       nodes, what they share, and their IoU
 *
 * The two files must belong together: the same graph (n_layer x n_head),
 * the same model and pairs (model_sha256, pairs_sha256, where both
 * record one: a JSON import records neither) and, for
 * circuits, the same requested sizes in the same order.  The statistics
 * are in the library (include/eap/stats.h); main reads, checks and
 * prints.  Output goes to <out>.tmp, renamed when complete.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/err.h"
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
		"Compare a method's edge scores (correlation) or circuits (overlap) "
		"with a reference's, usually exact patching, and write CSV.\n"
		"  --scores FILE      scores.h5 of the method; writes one row: method,"
		"ref_method,metric,ref_metric,steps,edges,pearson,spearman,"
		"pearson_abs,spearman_abs (over the edges both files scored)\n"
		"  --circuits FILE    circuits.h5 of the method (eap-prune --sizes); "
		"writes one row per requested size: method,ref_method,"
		"edges_requested,edges,ref_edges,common_edges,edge_iou,nodes,"
		"ref_nodes,common_nodes,node_iou\n"
		"  --ref FILE         the reference's file of the same kind: same "
		"graph, model and pairs (and for circuits the same sizes) (required)\n"
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
		       struct eap_err *err)
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
	if (am->pairs_sha256[0] && bm->pairs_sha256[0] &&
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
			      &b.meta, err)))
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

static int compare_circuits(const char *path, const char *ref_path,
			    const char *method, const char *tmp,
			    struct eap_err *err)
{
	struct eap_circuits a = { 0 }, b = { 0 };
	FILE *f = NULL;
	size_t E, F;
	int rc;

	if ((rc = eap_circuits_read(path, &a, err)) ||
	    (rc = eap_circuits_read(ref_path, &b, err)) ||
	    (rc = same_origin(path, &a.graph, &a.meta, ref_path, &b.graph,
			      &b.meta, err)))
		goto out;
	if (a.K != b.K) {
		rc = eap_err_set(err, EAP_EINVAL, "%s: %zu circuits, but %s has "
				 "%zu (compare curves of the same sizes)",
				 ref_path, b.K, path, a.K);
		goto out;
	}
	for (size_t k = 0; k < a.K; k++)
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
	      "edge_iou,nodes,ref_nodes,common_nodes,node_iou\n", f);
	for (size_t k = 0; k < a.K; k++) {
		size_t ce, ue, cn, un, na = 0, nb = 0;
		double ie = eap_stats_iou(a.in_graph + k * E, b.in_graph + k * E,
					  E, &ce, &ue);
		double in = eap_stats_iou(a.nodes_in_graph + k * F,
					  b.nodes_in_graph + k * F, F, &cn, &un);

		for (size_t u = 0; u < F; u++) {
			na += a.nodes_in_graph[k * F + u] != 0;
			nb += b.nodes_in_graph[k * F + u] != 0;
		}
		eap_csv_write_field(f, label(method, &a.meta));
		fputc(',', f);
		eap_csv_write_field(f, b.meta.method);
		fprintf(f, ",%lld,%lld,%lld,%zu,%.6f,%zu,%zu,%zu,%.6f\n",
			(long long)a.edges_requested[k], (long long)a.edges[k],
			(long long)b.edges[k], ce, ie, na, nb, cn, in);
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

int main(int argc, char **argv)
{
	/* defaults */
	const char *scores = NULL;   /* --scores: one of it and --circuits */
	const char *circuits = NULL; /* --circuits */
	const char *ref = NULL;      /* --ref: required */
	const char *method = NULL;   /* --method: the file's attribute */
	const char *out = NULL;      /* -o: required */

	static const struct option opts[] = {
		{ "scores", required_argument, NULL, 's' },
		{ "circuits", required_argument, NULL, 'c' },
		{ "ref", required_argument, NULL, 'r' },
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
		case 'r': ref = optarg; break;
		case 'm': method = optarg; break;
		case 'o': out = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		default: {
			const char *arg = argv[optind - 1];

			if (optopt && strchr("scrmo", optopt))
				return usage_error("option '%s' requires an argument", arg);
			if (optopt)
				return usage_error("option '%s' takes no argument", arg);
			return usage_error("unknown option '%s'", arg);
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!scores == !circuits)
		return usage_error("%s", "give one of --scores FILE and --circuits FILE");
	if (!ref)
		return usage_error("%s", "--ref FILE is required");
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
		    : compare_circuits(circuits, ref, method, tmp, &err);
	if (!rc && rename(tmp, out) < 0)
		rc = eap_err_set(&err, EAP_EIO, "%s: cannot write", out);
	if (rc) {
		unlink(tmp);
		fprintf(stderr, "%s: %s\n", PROG, err.msg);
	}
	free(tmp);
	return rc ? 1 : 0;
}
