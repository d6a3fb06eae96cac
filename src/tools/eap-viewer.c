/*
 * eap-viewer - one self-contained HTML file that shows a task's circuits:
 * the graph laid out by layer, a slider over the circuit sizes of the
 * faithfulness curve, every method's F with its interval, a method switch
 * and a compare mode (issue #17).
 *
 *   eap-viewer --dir DIR [--title TEXT] [--max-edges N] -o FILE [STEM...]
 *
 * For each STEM ("eap-ig-logit_diff"; default: every circuits-*.h5 in
 * DIR, in C sort order) it reads DIR/scores-STEM.h5, circuits-STEM.h5,
 * curve-STEM.csv and, when present, summary-STEM.csv, checks that they
 * belong together (one graph, the curve's sizes and pruned edge counts
 * equal the circuits', every circuit nested in the next and drawn from the
 * scores' ranking), and embeds per method the edges in rank order (the
 * ranking eap-prune selects by: |score|, ties to the lower flat index)
 * with their scores and the index of the first size whose pruned circuit
 * holds them.  A pruned circuit of a larger size contains the smaller
 * one's (a path from input to logits stays a path when edges are added),
 * so that one number per edge gives every circuit of the curve exactly.
 *
 * Graphs larger than --max-edges (default 50000) keep only the sizes up to
 * it, and only the edges ranked within the largest kept size: the file
 * then grows with the size range, not with the graph.
 *
 * The JavaScript, CSS and HTML skeleton (src/viewer/) are compiled in
 * (build/gen/viewer-assets.h), so the tool needs no data files.  The
 * output has no timestamps and no absolute paths: the same artifacts give
 * the same bytes.  Output goes to <out>.tmp, renamed when complete.
 */
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/circuit.h"
#include "eap/err.h"
#include "eap/graph.h"
#include "eap/h5io.h"
#include "eap/pairs.h"
#include "eap/sbuf.h"
#include "tool.h"
#include "viewer-assets.h"

static const char *const PROG = "eap-viewer";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-viewer --dir DIR [--title TEXT] [--max-edges N] -o FILE "
		"[STEM...]\n"
		"Write one self-contained HTML file (no network, opens from file://) "
		"that shows the circuits of a task folder against their faithfulness.\n"
		"  --dir DIR          task folder holding scores-STEM.h5, "
		"circuits-STEM.h5, curve-STEM.csv (and summary-STEM.csv) (required)\n"
		"  STEM...            method variants to show, e.g. eap-logit_diff "
		"exact-logit_diff (default: every circuits-*.h5 in DIR)\n"
		"  --title TEXT       page title (default: the last two parts of DIR, "
		"\"organism / ioi\")\n"
		"  --max-edges N      keep only the curve sizes up to N edges, and the "
		"edges they can hold (default 50000)\n"
		"  -o, --output FILE  HTML file to write (required)\n"
		"  -h, --help         show this help and exit\n"
		"Example: eap-viewer --dir results/organism/ioi -o "
		"results/organism/ioi/circuits.html\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	return tool_usage_error(PROG, fmt, arg);
}

/* One method's artifacts. */
struct method {
	char *stem;
	struct eap_scores sc;
	struct eap_circuits cs;
	struct eap_csv curve, summary;
	int has_summary;
};

static void method_release(struct method *m)
{
	free(m->stem);
	eap_scores_release(&m->sc);
	eap_circuits_release(&m->cs);
	eap_csv_release(&m->curve);
	eap_csv_release(&m->summary);
}

static char *path_of(const char *dir, const char *kind, const char *stem,
		     const char *ext)
{
	size_t n = strlen(dir) + strlen(kind) + strlen(stem) + strlen(ext) + 4;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s-%s%s", dir, kind, stem, ext);
	return p;
}

/* The shortest %g text that reads back as the same float (double). */
static void fmt_float(char *buf, size_t n, float x)
{
	for (int p = 6; p <= 9; p++) {
		snprintf(buf, n, "%.*g", p, (double)x);
		if (strtof(buf, NULL) == x)
			return;
	}
}

static void fmt_double(char *buf, size_t n, double x)
{
	for (int p = 9; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}

/* A JSON number (raw text) or null for NaN and infinities. */
static cJSON *num_double(double x)
{
	char buf[40];

	if (!isfinite(x))
		return cJSON_CreateNull();
	fmt_double(buf, sizeof(buf), x);
	return cJSON_CreateRaw(buf);
}

static cJSON *num_float(float x)
{
	char buf[40];

	fmt_float(buf, sizeof(buf), x);
	return cJSON_CreateRaw(buf);
}

static cJSON *num_int(long long x)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", x);
	return cJSON_CreateRaw(buf);
}

/* A whole CSV cell as a double ("nan" allowed); -1 if it is not one. */
static int cell_double(const struct eap_csv *t, size_t r, const char *col,
		       double *out, const char *path, struct eap_err *err)
{
	int c = eap_csv_col(t, col);
	const char *s;
	char *end;

	if (c < 0)
		return eap_err_set(err, EAP_EFORMAT, "%s: no column '%s'", path, col);
	s = eap_csv_cell(t, r, (size_t)c);
	errno = 0;
	*out = strtod(s, &end);
	if (!*s || *end || errno == ERANGE)
		return eap_err_set(err, EAP_EFORMAT, "%s:%zu: %s is '%s', not a number",
				   path, t->lines[r], col, s);
	return 0;
}

static int add(cJSON *obj, const char *key, cJSON *item)
{
	if (!item)
		return -1;
	cJSON_AddItemToObject(obj, key, item);
	return 0;
}

static int push(cJSON *arr, cJSON *item)
{
	if (!item)
		return -1;
	cJSON_AddItemToArray(arr, item);
	return 0;
}

/*
 * Read and check one method's files; *kmax (in: --max-edges) is the
 * number of sizes kept.
 */
static int method_read(struct method *m, const char *dir,
		       struct eap_err *err)
{
	char *p = NULL;
	int rc;

	if (!(p = path_of(dir, "scores", m->stem, ".h5")))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	rc = eap_scores_read(p, &m->sc, err);
	free(p);
	if (rc)
		return rc;
	if (!(p = path_of(dir, "circuits", m->stem, ".h5")))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	rc = eap_circuits_read(p, &m->cs, err);
	if (!rc && (m->cs.graph.n_layer != m->sc.graph.n_layer ||
		    m->cs.graph.n_head != m->sc.graph.n_head))
		rc = eap_err_set(err, EAP_ESHAPE,
				 "%s: graph %zu x %zu, but scores-%s.h5 is %zu x %zu",
				 p, m->cs.graph.n_layer, m->cs.graph.n_head, m->stem,
				 m->sc.graph.n_layer, m->sc.graph.n_head);
	free(p);
	if (rc)
		return rc;
	if (!(p = path_of(dir, "curve", m->stem, ".csv")))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	rc = eap_csv_read(&m->curve, p, err);
	if (!rc && m->curve.n_rows != m->cs.K)
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: %zu rows, but circuits-%s.h5 has %zu sizes",
				 p, m->curve.n_rows, m->stem, m->cs.K);
	for (size_t k = 0; !rc && k < m->cs.K; k++) {
		double req, got;

		if ((rc = cell_double(&m->curve, k, "edges_requested", &req, p, err)) ||
		    (rc = cell_double(&m->curve, k, "edges", &got, p, err)))
			break;
		if (req != (double)m->cs.edges_requested[k] ||
		    got != (double)m->cs.edges[k])
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: size %.0f with %.0f edges, but "
					 "circuits-%s.h5 has %lld with %lld",
					 p, m->curve.lines[k], req, got, m->stem,
					 (long long)m->cs.edges_requested[k],
					 (long long)m->cs.edges[k]);
	}
	free(p);
	if (rc)
		return rc;
	if (!(p = path_of(dir, "summary", m->stem, ".csv")))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	if (access(p, F_OK) == 0) {
		rc = eap_csv_read(&m->summary, p, err);
		if (!rc && m->summary.n_rows != 1)
			rc = eap_err_set(err, EAP_EFORMAT, "%s: %zu rows, expected 1",
					 p, m->summary.n_rows);
		m->has_summary = !rc;
	}
	free(p);
	return rc;
}

/*
 * The method's JSON: meta, the curve, and the first n_embed ranked edges
 * with their first size index (kept = the sizes kept, K for never).
 */
static cJSON *method_json(const struct method *m, const char *dir,
			  size_t kept, struct eap_err *err)
{
	const struct eap_graph *g = &m->sc.graph;
	const struct eap_circuits *cs = &m->cs;
	size_t nb = g->n_bwd, nf = g->n_fwd, E = g->n_edges;
	size_t n_embed = (size_t)cs->edges_requested[kept - 1];
	struct eap_select sel = { .kind = EAP_SELECT_TOPN };
	size_t *order = NULL, *first = NULL, *pos = NULL;
	cJSON *o = cJSON_CreateObject(), *a;
	const char *label = m->stem;
	char *cpath = path_of(dir, "circuits", m->stem, ".h5");
	char *vpath = path_of(dir, "curve", m->stem, ".csv");
	float max_abs = 0;
	int c;

	if (!o || !cpath || !vpath)
		goto nomem;
	if (cs->selection && strncmp(cs->selection, "greedy", 6) == 0)
		sel.kind = EAP_SELECT_GREEDY;
	if (cs->selection && strstr(cs->selection, " signed"))
		sel.signed_rank = 1;
	order = malloc(E * sizeof(*order));
	first = malloc(E * sizeof(*first));
	pos = malloc(nf * nb * sizeof(*pos));
	if (!order || !first || !pos)
		goto nomem;
	if (eap_circuit_order(g, m->sc.scores, &sel, order, err))
		goto fail;
	for (size_t i = 0; i < nf * nb; i++)
		pos[i] = (size_t)-1;
	for (size_t r = 0; r < E; r++) {
		pos[order[r]] = r;
		first[r] = kept;
	}
	/* first size holding each edge; each circuit within its size's
	 * ranking prefix and inside the next one */
	for (size_t k = 0; k < kept; k++) {
		const uint8_t *in = cs->in_graph + k * nf * nb;
		const uint8_t *next = k + 1 < cs->K ? in + nf * nb : NULL;

		for (size_t i = 0; i < nf * nb; i++) {
			if (!in[i])
				continue;
			if (pos[i] == (size_t)-1 ||
			    pos[i] >= (size_t)cs->edges_requested[k]) {
				eap_err_set(err, EAP_EFORMAT,
					    "%s: circuit %zu (%lld edges) holds an edge "
					    "ranked %zu in scores-%s.h5",
					    cpath, k, (long long)cs->edges_requested[k],
					    pos[i] + 1, m->stem);
				goto fail;
			}
			if (next && !next[i]) {
				eap_err_set(err, EAP_EFORMAT,
					    "%s: circuit %zu is not inside circuit %zu",
					    cpath, k, k + 1);
				goto fail;
			}
			if (first[pos[i]] == kept)
				first[pos[i]] = k;
		}
	}
	for (size_t r = 0; r < n_embed; r++) {
		float s = fabsf(m->sc.scores[order[r]]);

		if (s > max_abs)
			max_abs = s;
	}
	if ((c = eap_csv_col(&m->curve, "method")) >= 0 && m->curve.n_rows &&
	    *eap_csv_cell(&m->curve, 0, (size_t)c))
		label = eap_csv_cell(&m->curve, 0, (size_t)c);
	if (add(o, "name", cJSON_CreateString(label)) ||
	    add(o, "stem", cJSON_CreateString(m->stem)) ||
	    add(o, "method", cJSON_CreateString(m->sc.meta.method)) ||
	    add(o, "metric", cJSON_CreateString(m->sc.meta.metric)) ||
	    add(o, "steps", num_int(m->sc.meta.steps)) ||
	    add(o, "n_examples", num_int((long long)m->sc.meta.n_examples)) ||
	    add(o, "selection", cJSON_CreateString(sel.kind == EAP_SELECT_GREEDY
						    ? "greedy" : "topn")) ||
	    add(o, "max_abs", num_float(max_abs)))
		goto nomem;
	if ((c = eap_csv_col(&m->curve, "ablation")) >= 0 && m->curve.n_rows &&
	    add(o, "ablation", cJSON_CreateString(eap_csv_cell(&m->curve, 0, (size_t)c))))
		goto nomem;

	/* the curve: one entry per kept size */
	{
		static const char *const col[] = { "edges_requested", "edges",
			"faithfulness", "ci_low", "ci_high" };
		static const char *const key[] = { "sizes", "edges", "f", "lo", "hi" };

		for (size_t j = 0; j < 5; j++) {
			if (!(a = cJSON_CreateArray()) || add(o, key[j], a))
				goto nomem;
			for (size_t k = 0; k < kept; k++) {
				double x;

				if (cell_double(&m->curve, k, col[j], &x, vpath, err))
					goto fail;
				if (push(a, j < 2 ? num_int((long long)x) : num_double(x)))
					goto nomem;
			}
		}
	}
	if (m->has_summary) {
		static const char *const col[] = { "auc_log", "cpr", "cmd",
			"min_edges_f80", "min_edges_f90" };
		cJSON *s = cJSON_CreateObject();
		char *spath = path_of(dir, "summary", m->stem, ".csv");
		int bad = 0;

		if (!s || !spath || add(o, "summary", s)) {
			free(spath);
			goto nomem;
		}
		for (size_t j = 0; j < 5 && !bad; j++) {
			double x;

			if (eap_csv_col(&m->summary, col[j]) < 0)
				continue;
			if (cell_double(&m->summary, 0, col[j], &x, spath, err))
				bad = 1;
			else if (add(s, col[j], num_double(x)))
				bad = 2;
		}
		free(spath);
		if (bad == 1)
			goto fail;
		if (bad)
			goto nomem;
	}

	/* the ranked edges: u, v, score, first size index */
	{
		cJSON *au = cJSON_CreateArray(), *av = cJSON_CreateArray();
		cJSON *as = cJSON_CreateArray(), *ak = cJSON_CreateArray();

		if (add(o, "u", au) || add(o, "v", av) || add(o, "s", as) ||
		    add(o, "k", ak))
			goto nomem;
		for (size_t r = 0; r < n_embed; r++) {
			size_t i = order[r];

			if (push(au, num_int((long long)(i / nb))) ||
			    push(av, num_int((long long)(i % nb))) ||
			    push(as, num_float(m->sc.scores[i])) ||
			    push(ak, num_int((long long)first[r])))
				goto nomem;
		}
	}
	free(order);
	free(first);
	free(pos);
	free(cpath);
	free(vpath);
	return o;
nomem:
	eap_err_set(err, EAP_ENOMEM, "out of memory");
fail:
	free(order);
	free(first);
	free(pos);
	free(cpath);
	free(vpath);
	cJSON_Delete(o);
	return NULL;
}

/* "organism / ioi" from ".../organism/ioi/" */
static char *default_title(const char *dir)
{
	char *d = strdup(dir), *last, *prev = NULL, *t;
	size_t n;

	if (!d)
		return NULL;
	n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		d[--n] = 0;
	last = strrchr(d, '/');
	if (last) {
		*last++ = 0;
		prev = strrchr(d, '/');
		prev = prev ? prev + 1 : d;
	} else
		last = d;
	n = strlen(last) + (prev ? strlen(prev) : 0) + 4;
	if ((t = malloc(n)))
		snprintf(t, n, "%s%s%s", prev && *prev ? prev : "",
			 prev && *prev ? " / " : "", last);
	free(d);
	return t;
}

/* Append s with &, <, >, " escaped for HTML text and attributes. */
static int add_escaped(struct eap_sbuf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;"
			      : *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : NULL;
		if (e ? eap_sbuf_puts(b, e) : eap_sbuf_add(b, s, 1))
			return -1;
	}
	return 0;
}

/* JSON inside <script>: '<' as \u003c, so that no "</script" can occur
 * (it appears only inside strings: the node names "a0.h1<q>"). */
static int add_json(struct eap_sbuf *b, const char *json)
{
	for (const char *s = json; *s; s++)
		if (*s == '<' ? eap_sbuf_puts(b, "\\u003c") : eap_sbuf_add(b, s, 1))
			return -1;
	return 0;
}

/* The skeleton with {{TITLE}} {{CSS}} {{DATA}} {{JS}} filled in. */
static int assemble(struct eap_sbuf *b, const char *title, const char *json)
{
	const char *s = viewer_html;

	while (*s) {
		const char *m = strstr(s, "{{");
		int rc = 0;

		if (!m)
			return eap_sbuf_puts(b, s);
		if (eap_sbuf_add(b, s, (size_t)(m - s)))
			return -1;
		if (strncmp(m, "{{TITLE}}", 9) == 0)
			rc = add_escaped(b, title), s = m + 9;
		else if (strncmp(m, "{{CSS}}", 7) == 0)
			rc = eap_sbuf_puts(b, viewer_css), s = m + 7;
		else if (strncmp(m, "{{DATA}}", 8) == 0)
			rc = add_json(b, json), s = m + 8;
		else if (strncmp(m, "{{JS}}", 6) == 0)
			rc = eap_sbuf_puts(b, viewer_js), s = m + 6;
		else
			rc = eap_sbuf_add(b, m, 2), s = m + 2;
		if (rc)
			return -1;
	}
	return 0;
}

/* The stems of every DIR/circuits-*.h5, sorted. */
static int find_stems(const char *dir, char ***stems, size_t *n,
		      struct eap_err *err)
{
	char *pat = path_of(dir, "circuits", "*", ".h5");
	glob_t gl;
	int rc;

	*stems = NULL;
	*n = 0;
	if (!pat)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	rc = glob(pat, 0, NULL, &gl);
	free(pat);
	if (rc == GLOB_NOMATCH)
		return eap_err_set(err, EAP_EIO, "%s: no circuits-*.h5", dir);
	if (rc)
		return eap_err_set(err, EAP_EIO, "%s: cannot list", dir);
	*stems = calloc(gl.gl_pathc, sizeof(char *));
	for (size_t i = 0; *stems && i < gl.gl_pathc; i++) {
		const char *b = strrchr(gl.gl_pathv[i], '/');
		size_t len;

		b = b ? b + 1 : gl.gl_pathv[i];
		b += strlen("circuits-");
		len = strlen(b) - 3;
		if (!((*stems)[i] = strndup(b, len)))
			break;
		(*n)++;
	}
	rc = *n == gl.gl_pathc ? 0 : eap_err_set(err, EAP_ENOMEM, "out of memory");
	globfree(&gl);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;      /* --dir: required */
	const char *out = NULL;      /* -o: required */
	const char *title = NULL;    /* --title: from DIR */
	size_t max_edges = 50000;    /* --max-edges: sizes kept */
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "title", required_argument, NULL, 't' },
		{ "max-edges", required_argument, NULL, 'm' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eap_err err = { 0 };
	struct method *ms = NULL;
	char **stems = NULL, *tmp = NULL, *own_title = NULL, *json = NULL;
	size_t n = 0, kept = 0;
	struct eap_sbuf html = { 0 };
	cJSON *root = NULL, *arr;
	FILE *f = NULL;
	int opt, status = 1;

	while ((opt = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 't': title = optarg; break;
		case 'm':
			max_edges = tool_size_arg(PROG, "--max-edges", optarg,
						  (size_t)1 << 40);
			break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: return usage_error("%s", "bad option");
		}
	}
	if (!dir)
		return usage_error("%s", "--dir DIR is required");
	if (!out)
		return usage_error("%s", "-o FILE is required");
	tool_check_output(PROG, out);

	if (optind < argc) {
		n = (size_t)(argc - optind);
		if (!(stems = calloc(n, sizeof(char *))))
			goto nomem;
		for (size_t i = 0; i < n; i++)
			if (!(stems[i] = strdup(argv[optind + (int)i])))
				goto nomem;
	} else if (find_stems(dir, &stems, &n, &err))
		goto fail;
	if (!(ms = calloc(n, sizeof(*ms))))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		ms[i].stem = stems[i];
		stems[i] = NULL;
		if (method_read(&ms[i], dir, &err))
			goto fail;
		if (ms[i].sc.graph.n_layer != ms[0].sc.graph.n_layer ||
		    ms[i].sc.graph.n_head != ms[0].sc.graph.n_head) {
			eap_err_set(&err, EAP_ESHAPE,
				    "%s/scores-%s.h5: graph %zu x %zu, but scores-%s.h5 is %zu x %zu",
				    dir, ms[i].stem, ms[i].sc.graph.n_layer,
				    ms[i].sc.graph.n_head, ms[0].stem,
				    ms[0].sc.graph.n_layer, ms[0].sc.graph.n_head);
			goto fail;
		}
	}

	/* the JSON: the graph, then each method with the sizes up to
	 * --max-edges (sizes are ascending) */
	{
		const struct eap_graph *g = &ms[0].sc.graph;
		cJSON *names;

		if (!(root = cJSON_CreateObject()))
			goto nomem;
		if (!title && !(title = own_title = default_title(dir)))
			goto nomem;
		if (add(root, "format", num_int(1)) ||
		    add(root, "title", cJSON_CreateString(title)) ||
		    add(root, "n_layer", num_int((long long)g->n_layer)) ||
		    add(root, "n_head", num_int((long long)g->n_head)) ||
		    add(root, "n_edges", num_int((long long)g->n_edges)) ||
		    add(root, "max_edges", num_int((long long)max_edges)))
			goto nomem;
		if (!(names = cJSON_CreateArray()) || add(root, "fwd", names))
			goto nomem;
		for (size_t u = 0; u < g->n_fwd; u++)
			if (push(names, cJSON_CreateString(g->fwd_names[u])))
				goto nomem;
		if (!(names = cJSON_CreateArray()) || add(root, "bwd", names))
			goto nomem;
		for (size_t v = 0; v < g->n_bwd; v++)
			if (push(names, cJSON_CreateString(g->bwd_names[v])))
				goto nomem;
		if (!(arr = cJSON_CreateArray()) || add(root, "methods", arr))
			goto nomem;
	}
	for (size_t i = 0; i < n; i++) {
		const struct eap_circuits *cs = &ms[i].cs;
		cJSON *mj;

		for (kept = 0; kept < cs->K; kept++) {
			if (kept && cs->edges_requested[kept] <= cs->edges_requested[kept - 1]) {
				eap_err_set(&err, EAP_EFORMAT,
					    "%s/circuits-%s.h5: sizes not ascending at %zu",
					    dir, ms[i].stem, kept);
				goto fail;
			}
			if ((size_t)cs->edges_requested[kept] > max_edges)
				break;
		}
		if (!kept) {
			fprintf(stderr, "%s: %s/circuits-%s.h5: no size up to --max-edges %zu\n",
				PROG, dir, ms[i].stem, max_edges);
			goto out;
		}
		if (!(mj = method_json(&ms[i], dir, kept, &err)))
			goto fail;
		cJSON_AddItemToArray(arr, mj);
	}
	if (!(json = cJSON_PrintUnformatted(root)))
		goto nomem;
	if (assemble(&html, title, json))
		goto nomem;

	if (!(tmp = tool_tmp_name(out)))
		goto nomem;
	if (!(f = fopen(tmp, "w"))) {
		eap_err_set(&err, EAP_EIO, "%s: cannot write", out);
		goto fail;
	}
	fwrite(html.s, 1, html.len, f);
	if (ferror(f) | fclose(f) || rename(tmp, out) < 0) {
		f = NULL;
		unlink(tmp);
		eap_err_set(&err, EAP_EIO, "%s: cannot write", out);
		goto fail;
	}
	f = NULL;
	status = 0;
	goto out;
nomem:
	eap_err_set(&err, EAP_ENOMEM, "out of memory");
fail:
	fprintf(stderr, "%s: %s\n", PROG, err.msg);
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	free(tmp);
	free(html.s);
	free(json);
	cJSON_Delete(root);
	free(own_title);
	for (size_t i = 0; stems && i < n; i++)
		free(stems[i]);
	free(stems);
	for (size_t i = 0; ms && i < n; i++)
		method_release(&ms[i]);
	free(ms);
	return status;
}
