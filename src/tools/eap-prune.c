/*
 * eap-prune - circuit pruner (SPEC §2, §8, §11): selects a circuit from
 * edge scores, prunes it to the edges on input -> logits paths, and writes
 * circuit.h5 (and optionally the reference's JSON and a Graphviz DOT
 * file), or one circuit per size for a faithfulness curve (circuits.h5).
 *
 *   eap-prune (--scores FILE | --from-json FILE [--model DIR])
 *             (--topn N | --greedy N | --threshold T) [--signed]
 *             [--unpruned] -o FILE [--json FILE] [--dot FILE] [--d-model D]
 *   eap-prune (--scores FILE | --from-json FILE [--model DIR])
 *             --sizes LIST|default [--topn | --greedy] [--signed] -o FILE
 *   eap-prune --from-json FILE [--model DIR] [--as-is] -o FILE
 *             [--json FILE] [--dot FILE] [--d-model D]
 *
 * JSON import lives here rather than in a separate tool because an
 * imported file is just another source of scores: --from-json replaces
 * --scores in every form.  Without a selection it writes the scores as
 * scores.h5 (our sign, SPEC §6); with --as-is the file's own circuit
 * (its in_graph flags, not re-pruned) as circuit.h5.
 *
 * With --sizes, --topn and --greedy are flags without a number (the sizes
 * are the numbers); argv is scanned for --sizes first to pick the option
 * table.  All outputs go through <out>.tmp and rename; if a later output
 * fails, the earlier ones of the same run are removed.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/circuit.h"
#include "eap/err.h"
#include "eap/graph.h"
#include "eap/graph_json.h"
#include "eap/h5io.h"
#include "eap/model.h"
#include "eap/nodes.h"
#include "tool.h"

#if defined(__has_include)
#if __has_include("eap/inputs.h")
#include "eap/inputs.h"
#endif
#endif
#ifndef EAP_VERSION
#define EAP_VERSION "0.1.0"
#endif

static const char *const PROG = "eap-prune";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-prune (--scores FILE | --from-json FILE [--model DIR]) "
		"(--topn N | --greedy N | --threshold T) [--signed] [--unpruned] -o FILE "
		"[--json FILE] [--dot FILE] [--d-model D]\n"
		"       eap-prune (--scores FILE | --from-json FILE) "
		"--sizes LIST|default [--topn | --greedy] [--signed] [--unpruned] -o FILE\n"
		"       eap-prune --from-json FILE [--model DIR] [--as-is] -o FILE "
		"[--json FILE] [--dot FILE]\n"
		"Select a circuit from edge scores, prune it to the edges on "
		"input-to-logits paths and write circuit.h5 (circuits.h5 with "
		"--sizes, scores.h5 for a bare --from-json import).\n"
		"  --scores FILE      scores.h5 written by eap-score\n"
		"  --from-json FILE   read scores (and a circuit) from the reference "
		"library's Graph.to_json file instead\n"
		"  --model DIR        with --from-json: check its cfg against "
		"DIR/config.json and record the model (default: none)\n"
		"  --topn N           the N edges of largest |score| (a selection "
		"or --sizes is required)\n"
		"  --greedy N         the reference's greedy growth from logits, N "
		"edges\n"
		"  --threshold T      every edge with |score| >= T\n"
		"  --signed           rank by the signed score instead of |score| "
		"(default: |score|)\n"
		"  --sizes LIST       one topn (or --greedy) circuit per size, "
		"comma-separated; the words 'default' (10..90 by 10, 100..1000 by "
		"100, then 2000, 5000, 10000, 20000, .., and all edges), 'dense' "
		"(10..90, 100..1000, then every 1000, and all edges) and 'mib' "
		"(MIB's edge fractions 0.001, 0.002, 0.005 .. 0.5, 1) may be in "
		"the list\n"
		"  --unpruned         keep the selected edges as they are, without "
		"pruning to input-to-logits paths (the paper's top-n circuits "
		"of its overlap with manual circuits) (default: off)\n"
		"  --level LEVEL      edge | node: node keeps the --topn N (or each "
		"--sizes) forward nodes of largest |node score| (eap-score --level) "
		"and every edge among them (default: edge)\n"
		"  --as-is            with --from-json: keep the file's own circuit, "
		"unpruned (default: off)\n"
		"  -o, --output FILE  circuit.h5, circuits.h5 or scores.h5 to write "
		"(required)\n"
		"  --json FILE        also write the circuit in the reference's JSON "
		"format, reference sign (default: none)\n"
		"  --dot FILE         also write the circuit as a Graphviz digraph "
		"(default: none)\n"
		"  --d-model D        d_model for --json (default: the JSON's cfg, "
		"or config.json of the model the scores name)\n"
		"  -h, --help         show this help and exit\n"
		"Example: eap-prune --scores scores.h5 --topn 800 -o circuit.h5 "
		"--dot circuit.dot && dot -Tsvg circuit.dot > circuit.svg\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	return tool_usage_error(PROG, fmt, arg);
}

/* A whole number 0..SIZE_MAX; -1 if s is not one. */
static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > SIZE_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* Whether argv asks for a curve: --sizes before any "--". */
static int wants_curve(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--sizes") || !strncmp(argv[i], "--sizes=", 8))
			return 1;
	return 0;
}

/* "topn 10,20,30"; node circuits "node topn 1,2,3" */
static char *curve_selection(const struct eap_select *sel, const size_t *sizes,
			     size_t K, int level)
{
	size_t cap = 32 + 21 * K, n;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	n = (size_t)snprintf(s, cap, "%s%s%s%s ", level == EAP_LEVEL_NODE ? "node " : "",
			     sel->kind == EAP_SELECT_GREEDY
			     ? "greedy" : "topn", sel->signed_rank ? " signed" : "",
			     sel->unpruned ? " unpruned" : "");
	for (size_t k = 0; k < K; k++)
		n += (size_t)snprintf(s + n, cap - n, "%s%zu", k ? "," : "",
				      sizes[k]);
	return s;
}

/*
 * Node circuits (--level node): the top n nodes of each size and the
 * edges among them (eap_node_circuit), pruned unless sel->unpruned, into
 * the K circuits of cv (allocated here, as eap_curve_init would).  Sizes
 * are node counts, at most n_fwd.
 */
static int node_curve(struct eap_curve *cv, const struct eap_graph *g,
		      const float *node, const struct eap_select *sel,
		      const size_t *sizes, size_t K, const char *src,
		      struct eap_err *err)
{
	size_t E = g->n_fwd * g->n_bwd;
	struct eap_circuit c = { 0 };
	int rc;

	for (size_t k = 0; k < K; k++)
		if (sizes[k] > g->n_fwd)
			return eap_err_set(err, EAP_EINVAL,
					   "%s: --level node: size %zu exceeds the "
					   "graph's %zu forward nodes", src, sizes[k],
					   g->n_fwd);
	memset(cv, 0, sizeof(*cv));
	cv->K = K;
	cv->n_fwd = g->n_fwd;
	cv->n_bwd = g->n_bwd;
	cv->in_graph = malloc(K * E);
	cv->nodes_in_graph = malloc(K * g->n_fwd);
	cv->edges_requested = malloc(K * sizeof(int64_t));
	cv->edges = malloc(K * sizeof(int64_t));
	if (!cv->in_graph || !cv->nodes_in_graph || !cv->edges_requested ||
	    !cv->edges)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	if ((rc = eap_circuit_init(&c, g, err)))
		return rc;
	for (size_t k = 0; k < K && !rc; k++) {
		if ((rc = eap_node_circuit(g, node, sizes[k], sel->signed_rank,
					   c.in_graph, err)))
			break;
		c.n_requested = eap_circuit_nodes(g, c.in_graph, c.nodes_in_graph);
		c.n_edges = c.n_requested;
		if (!sel->unpruned && (rc = eap_circuit_prune(&c, g, err)))
			break;
		memcpy(cv->in_graph + k * E, c.in_graph, E);
		memcpy(cv->nodes_in_graph + k * g->n_fwd, c.nodes_in_graph, g->n_fwd);
		cv->edges_requested[k] = (int64_t)c.n_requested;
		cv->edges[k] = (int64_t)c.n_edges;
	}
	eap_circuit_release(&c);
	return rc;
}

/*
 * d_model for --json: the option, else the JSON's cfg, else the
 * config.json of the model the scores were computed on.
 */
static int find_d_model(size_t opt, size_t from_json, const char *model_dir,
			const struct eap_graph *g, const char *src,
			size_t *d_model, struct eap_err *err)
{
	struct eap_config cfg;
	char path[4200];

	*d_model = opt ? opt : from_json;
	if (*d_model)
		return 0;
	snprintf(path, sizeof(path), "%s/config.json", model_dir);
	if (!*model_dir || access(path, R_OK))
		return eap_err_set(err, EAP_EINVAL,
				   "%s: d_model for --json is unknown (no readable "
				   "model config recorded); pass --d-model", src);
	if (eap_config_load(&cfg, path, err))
		return err->code;
	if (cfg.n_layer != g->n_layer || cfg.n_head != g->n_head)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: model %s is %zu x %zu, but the scores are "
				   "%zu x %zu", src, model_dir, cfg.n_layer,
				   cfg.n_head, g->n_layer, g->n_head);
	*d_model = cfg.d_model;
	return 0;
}

int main(int argc, char **argv)
{
	/* defaults */
	const char *scores_path = NULL; /* --scores: one of it and --from-json */
	const char *json_in = NULL;     /* --from-json */
	const char *model_dir = NULL;   /* --model: no model check */
	const char *out = NULL;         /* -o: required */
	const char *json_out = NULL;    /* --json: none */
	const char *dot_out = NULL;     /* --dot: none */
	const char *sizes_arg = NULL;   /* --sizes: no curve */
	struct eap_select sel = { .kind = EAP_SELECT_TOPN }; /* by |score| */
	int n_sel = 0;                  /* selections given */
	int as_is = 0;                  /* keep the JSON's circuit */
	size_t d_model_opt = 0;         /* --d-model: found from the inputs */
	int level = EAP_LEVEL_EDGE;     /* --level: edge circuits */

	const int curve = wants_curve(argc, argv);
	const int sel_arg = curve ? no_argument : required_argument;
	const struct option opts[] = {
		{ "scores", required_argument, NULL, 'S' },
		{ "from-json", required_argument, NULL, 'J' },
		{ "model", required_argument, NULL, 'M' },
		{ "topn", sel_arg, NULL, 'n' },
		{ "greedy", sel_arg, NULL, 'g' },
		{ "threshold", required_argument, NULL, 't' },
		{ "signed", no_argument, NULL, 's' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "as-is", no_argument, NULL, 'a' },
		{ "unpruned", no_argument, NULL, 'u' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ "dot", required_argument, NULL, 'd' },
		{ "d-model", required_argument, NULL, 'D' },
		{ "level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eap_err err = { 0 };
	struct eap_scores sc = { 0 };
	struct eap_graph_json js = { 0 };
	struct eap_circuit circ = { 0 };
	struct eap_curve cv = { 0 };
	struct eap_h5_meta meta;
	const struct eap_graph *g;
	const float *scores;
	const char *src;
	size_t *sizes = NULL, K = 0, d_model = 0;
	char selection[128], *curve_sel = NULL;
	int c, rc = 0, status = 1, wrote_out = 0, wrote_json = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'S':
			scores_path = optarg;
			break;
		case 'J':
			json_in = optarg;
			break;
		case 'M':
			model_dir = optarg;
			break;
		case 'n':
		case 'g':
			sel.kind = c == 'n' ? EAP_SELECT_TOPN : EAP_SELECT_GREEDY;
			n_sel++;
			if (!curve && parse_size(optarg, &sel.n))
				return usage_error("%s wants a whole number of edges",
						   c == 'n' ? "--topn" : "--greedy");
			break;
		case 't':
			sel.kind = EAP_SELECT_THRESHOLD;
			n_sel++;
			errno = 0;
			sel.threshold = strtof(optarg, &end);
			if (errno || end == optarg || *end ||
			    !isfinite(sel.threshold))
				return usage_error("--threshold wants a finite "
						   "number, got '%s'", optarg);
			break;
		case 's':
			sel.signed_rank = 1;
			break;
		case 'z':
			sizes_arg = optarg;
			break;
		case 'a':
			as_is = 1;
			break;
		case 'u':
			sel.unpruned = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'j':
			json_out = optarg;
			break;
		case 'd':
			dot_out = optarg;
			break;
		case 'D':
			if (parse_size(optarg, &d_model_opt) || !d_model_opt)
				return usage_error("--d-model wants a positive whole "
						   "number, got '%s'", optarg);
			break;
		case 'L':
			level = eap_level_parse(optarg);
			if (level != EAP_LEVEL_EDGE && level != EAP_LEVEL_NODE)
				return usage_error("--level wants edge or node "
						   "(neuron circuits are not made), got '%s'",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default: {
			const char *arg = argv[optind - 1];

			if (optopt && strchr("SJMntzojdDL", optopt))
				return usage_error("option '%s' requires an argument",
						   arg);
			if (optopt)
				return usage_error("option '%s' takes no argument",
						   arg);
			return usage_error("unknown option '%s'", arg);
		}
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!scores_path == !json_in)
		return usage_error("%s", "give one of --scores FILE and --from-json FILE");
	if (model_dir && !json_in)
		return usage_error("%s", "--model goes with --from-json (scores.h5 "
				   "records its model)");
	if (!out)
		return usage_error("%s", "-o FILE is required");
	if (n_sel > 1)
		return usage_error("%s", "give one of --topn, --greedy and --threshold");
	if (curve && sel.kind == EAP_SELECT_THRESHOLD)
		return usage_error("%s", "--sizes makes topn or greedy circuits, not "
				   "--threshold");
	if (as_is && (!json_in || n_sel || curve))
		return usage_error("%s", "--as-is goes with --from-json alone");
	if (!curve && !n_sel && !as_is && scores_path)
		return usage_error("%s", "give --topn N, --greedy N, --threshold T "
				   "or --sizes LIST");
	if (sel.unpruned && !n_sel && !curve)
		return usage_error("%s", "--unpruned needs a selection");
	if (sel.signed_rank && !n_sel && !curve)
		return usage_error("%s", "--signed needs a selection");
	if ((json_out || dot_out) && (curve || (!n_sel && !as_is)))
		return usage_error("%s", "--json and --dot write a single circuit");
	if (d_model_opt && !json_out)
		return usage_error("%s", "--d-model only applies to --json");
	if (level == EAP_LEVEL_NODE &&
	    (!scores_path || (!curve && !n_sel) || sel.kind != EAP_SELECT_TOPN))
		return usage_error("%s", "--level node takes --scores FILE and "
				   "--topn N or --sizes LIST");
	if (curve) { /* the list's syntax; its sizes need the graph */
		if (eap_curve_sizes(sizes_arg, 1, &sizes, &K, &err))
			return usage_error("--sizes: %s", err.msg);
		free(sizes);
		sizes = NULL;
	}

	tool_check_output(PROG, out);
	if (json_out)
		tool_check_output(PROG, json_out);
	if (dot_out)
		tool_check_output(PROG, dot_out);

	/* ---- read ---- */
	if (scores_path) {
		src = scores_path;
		if ((rc = eap_scores_read(scores_path, &sc, &err)))
			goto fail;
		g = &sc.graph;
		scores = sc.scores;
		meta = sc.meta;
		snprintf(meta.tool, sizeof(meta.tool), "%s", PROG);
		snprintf(meta.version, sizeof(meta.version), "%s", EAP_VERSION);
		meta.created[0] = '\0';
	} else {
		struct eap_config cfg = { 0 };

		src = json_in;
		if (model_dir) {
			char path[4200];

			snprintf(path, sizeof(path), "%s/config.json", model_dir);
			if ((rc = eap_config_load(&cfg, path, &err)))
				goto fail;
		}
		if ((rc = eap_graph_json_read(&js, json_in, cfg.n_layer, cfg.n_head,
					      &err)))
			goto fail;
		if (model_dir && js.d_model && js.d_model != cfg.d_model) {
			eap_err_set(&err, EAP_ESHAPE, "%s: cfg d_model is %zu, but "
				    "model %s has %zu", json_in, js.d_model,
				    model_dir, cfg.d_model);
			goto fail;
		}
		if (model_dir)
			js.d_model = cfg.d_model;
		if ((rc = eap_h5_meta_init(&meta, PROG, EAP_VERSION, model_dir,
					   NULL, &err)))
			goto fail;
		g = &js.graph;
		scores = js.scores;
	}
	if (json_out &&
	    (rc = find_d_model(d_model_opt, js.d_model, meta.model_path, g, src,
			       &d_model, &err)))
		goto fail;

	if (level == EAP_LEVEL_NODE && !sc.node_scores) {
		eap_err_set(&err, EAP_EFORMAT, "%s: no /node_scores (score with "
			    "eap-score --level node)", src);
		goto fail;
	}

	/* ---- select and write ---- */
	if (curve) {
		if ((rc = eap_curve_sizes(sizes_arg, level == EAP_LEVEL_NODE
					  ? g->n_fwd : g->n_edges, &sizes, &K,
					  &err)))
			goto fail;
		if (level == EAP_LEVEL_NODE)
			rc = node_curve(&cv, g, sc.node_scores, &sel, sizes, K, src,
					&err);
		else if ((rc = eap_curve_init(&cv, g, scores, &sel, sizes, K,
					      &err)))
			eap_err_prefix(&err, src);
		if (rc)
			goto fail;
		if (!(curve_sel = curve_selection(&sel, sizes, K, level))) {
			eap_err_set(&err, EAP_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = eap_circuits_write(out, g, K, 0, cv.in_graph,
					     cv.nodes_in_graph, cv.edges_requested,
					     cv.edges, curve_sel, &meta, &err)))
			goto fail;
		status = 0;
		goto done;
	}
	if (!n_sel && !as_is) {
		if ((rc = eap_scores_write(out, g, scores, &meta, &err)))
			goto fail;
		status = 0;
		goto done;
	}
	if (as_is) {
		if ((rc = eap_circuit_init(&circ, g, &err)))
			goto fail;
		memcpy(circ.in_graph, js.in_graph, g->n_fwd * g->n_bwd);
		memcpy(circ.nodes_in_graph, js.nodes_in_graph, g->n_fwd);
		circ.n_requested = circ.n_edges = js.n_in_graph;
		snprintf(selection, sizeof(selection), "as-is from JSON");
	} else if (level == EAP_LEVEL_NODE) {
		size_t n = sel.n;

		if ((rc = node_curve(&cv, g, sc.node_scores, &sel, &n, 1, src,
				     &err)) ||
		    (rc = eap_circuit_init(&circ, g, &err)))
			goto fail;
		memcpy(circ.in_graph, cv.in_graph, g->n_fwd * g->n_bwd);
		memcpy(circ.nodes_in_graph, cv.nodes_in_graph, g->n_fwd);
		circ.n_requested = (size_t)cv.edges_requested[0];
		circ.n_edges = (size_t)cv.edges[0];
		snprintf(selection, sizeof(selection), "node topn %zu%s%s", n,
			 sel.signed_rank ? " signed" : "",
			 sel.unpruned ? " unpruned" : "");
	} else {
		if ((rc = eap_circuit_select(&circ, g, scores, &sel, &err))) {
			eap_err_prefix(&err, src);
			goto fail;
		}
		eap_select_describe(&sel, selection, sizeof(selection));
	}
	{
		int64_t req = (int64_t)circ.n_requested, n = (int64_t)circ.n_edges;

		if ((rc = eap_circuits_write(out, g, 1, 1, circ.in_graph,
					     circ.nodes_in_graph, &req, &n,
					     selection, &meta, &err)))
			goto fail;
		wrote_out = 1;
	}
	if (json_out) {
		if ((rc = eap_graph_json_write_nodes(json_out, g, d_model, scores,
						     circ.in_graph,
						     circ.nodes_in_graph,
						     sc.node_scores,
						     sc.d == d_model
						     ? sc.neuron_scores : NULL,
						     &err)))
			goto fail;
		wrote_json = 1;
	}
	if (dot_out &&
	    (rc = eap_circuit_dot_write(dot_out, g, scores, circ.in_graph, &err)))
		goto fail;
	status = 0;
	goto done;
fail:
	fprintf(stderr, "%s: %s\n", PROG, err.msg);
	/* nothing half-written: drop this run's earlier outputs */
	if (wrote_out)
		unlink(out);
	if (wrote_json)
		unlink(json_out);
done:
	free(sizes);
	free(curve_sel);
	eap_curve_release(&cv);
	eap_circuit_release(&circ);
	eap_graph_json_release(&js);
	eap_scores_release(&sc);
	return status;
}
