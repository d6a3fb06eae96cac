/*
 * eap-table - joins eap-eval's curve summaries (summary-*.csv) with
 * eap-compare's score correlations into one table, as CSV and optionally
 * Markdown and a LaTeX tabular fragment (issue #9: `make tables`, and the
 * per-task IG-steps table of `make fig-ig-steps`).
 *
 *   eap-table [--key NAME] -o FILE [--md FILE] [--tex FILE]
 *             LABEL SUMMARY CORRELATION [LABEL SUMMARY CORRELATION]...
 *
 * Each triple is one row: LABEL goes into the first column (named by
 * --key, default "task"), then the summary's method, metric, auc_log,
 * cpr, cmd, min_edges_f80, min_edges_f90 and the correlation's pearson,
 * spearman, pearson_abs and spearman_abs (the last two only in the CSV).  Nothing is recomputed: the values are the inputs',
 * checked to be numbers.  A summary and its correlation must name the
 * same method.  Every output goes to <out>.tmp and is renamed when all
 * are complete; on failure none is left.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/err.h"
#include "eap/pairs.h"
#include "tool.h"

static const char *const PROG = "eap-table";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-table [--key NAME] -o FILE [--md FILE] [--tex FILE] "
		"LABEL SUMMARY CORRELATION [LABEL SUMMARY CORRELATION]...\n"
		"Join curve summaries (eap-eval --summary) and score correlations "
		"(eap-compare --scores) into one table, one row per triple.\n"
		"  LABEL              first column of the row, e.g. the task\n"
		"  SUMMARY            CSV with method,metric,auc_log,cpr,cmd,"
		"min_edges_f80[,min_edges_f90], one row\n"
		"  CORRELATION        CSV with method,pearson,spearman, one row, "
		"the same method\n"
		"  --key NAME         name of the first column (default: task)\n"
		"  -o, --output FILE  the table as CSV (required): NAME,method,metric,"
		"auc_log,cpr,cmd,min_edges_f80,min_edges_f90,pearson,spearman,pearson_abs,"
		"spearman_abs (the last two: of |score|; empty if the input lacks them)\n"
		"  --md FILE          also as a Markdown table (default: none)\n"
		"  --tex FILE         also as a LaTeX tabular fragment with booktabs "
		"rules, for \\input (default: none)\n"
		"  -h, --help         show this help and exit\n"
		"Example: eap-table -o tables.csv --md tables.md --tex tables.tex "
		"ioi ioi/summary-eap-logit_diff.csv ioi/correlation-eap-logit_diff.csv\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	return tool_usage_error(PROG, fmt, arg);
}

enum { C_AUC, C_CPR, C_CMD, C_F80, C_F90, C_PEARSON, C_SPEARMAN,
       C_PEARSON_ABS, C_SPEARMAN_ABS, N_NUM };

static const char *const NUM_NAME[N_NUM] = {
	"auc_log", "cpr", "cmd", "min_edges_f80", "min_edges_f90",
	"pearson", "spearman", "pearson_abs", "spearman_abs",
};

struct row {
	const char *label;
	char *method, *metric;
	char *text[N_NUM];  /* the cells as read ("" if absent: f90) */
	double num[N_NUM];
};

static void row_release(struct row *r)
{
	free(r->method);
	free(r->metric);
	for (int i = 0; i < N_NUM; i++)
		free(r->text[i]);
}

/* A number cell: finite or "nan" (an undefined correlation; CPR and CMD
 * where the sizes do not span MIB's grid); whole >= -1 for the edge
 * counts. */
static int parse_num(const char *path, size_t line, int col, const char *s,
		     double *v, struct eap_err *err)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || isinf(*v) ||
	    (isnan(*v) && (col == C_F80 || col == C_F90)) ||
	    ((col == C_F80 || col == C_F90) &&
	     (*v != floor(*v) || *v < -1)))
		return eap_err_set(err, EAP_EFORMAT, "%s:%zu: %s '%s' is not %s",
				   path, line, NUM_NAME[col], s,
				   col == C_F80 || col == C_F90
				   ? "an edge count (or -1)" : "a number");
	return 0;
}

/* Read one-row CSV path; the named columns into text[] (NULL names are
 * skipped; optional ones may be absent). */
static int read_one(const char *path, struct eap_csv *t, struct eap_err *err)
{
	int rc = eap_csv_read(t, path, err);

	if (rc)
		return rc;
	if (t->n_rows != 1)
		return eap_err_set(err, EAP_EFORMAT, "%s: %zu data rows, expected "
				   "one", path, t->n_rows);
	return 0;
}

static int need_col(const struct eap_csv *t, const char *path,
		    const char *name, int *col, struct eap_err *err)
{
	if ((*col = eap_csv_col(t, name)) < 0)
		return eap_err_set(err, EAP_EFORMAT, "%s:1: no column '%s'", path,
				   name);
	return 0;
}

static int read_row(struct row *r, const char *label, const char *sum_path,
		    const char *cor_path, struct eap_err *err)
{
	struct eap_csv s = { 0 }, c = { 0 };
	int col, rc;
	const char *m;

	memset(r, 0, sizeof(*r));
	r->label = label;
	if ((rc = read_one(sum_path, &s, err)) ||
	    (rc = read_one(cor_path, &c, err)))
		goto out;
	if ((rc = need_col(&s, sum_path, "method", &col, err)))
		goto out;
	r->method = strdup(eap_csv_cell(&s, 0, (size_t)col));
	if ((rc = need_col(&s, sum_path, "metric", &col, err)))
		goto out;
	r->metric = strdup(eap_csv_cell(&s, 0, (size_t)col));
	for (int i = 0; i < N_NUM; i++) {
		const struct eap_csv *t = i < C_PEARSON ? &s : &c;
		const char *p = i < C_PEARSON ? sum_path : cor_path;

		/* optional: f90, the correlations of |score| */
		if ((i == C_F90 || i >= C_PEARSON_ABS) &&
		    eap_csv_col(t, NUM_NAME[i]) < 0) {
			r->text[i] = strdup("");
			r->num[i] = NAN;
			continue;
		}
		if ((rc = need_col(t, p, NUM_NAME[i], &col, err)))
			goto out;
		r->text[i] = strdup(eap_csv_cell(t, 0, (size_t)col));
		if (r->text[i] &&
		    (rc = parse_num(p, t->lines[0], i, r->text[i], &r->num[i], err)))
			goto out;
	}
	if ((rc = need_col(&c, cor_path, "method", &col, err)))
		goto out;
	m = eap_csv_cell(&c, 0, (size_t)col);
	if (r->method && strcmp(m, r->method)) {
		rc = eap_err_set(err, EAP_EINVAL, "%s:%zu: method '%s', but %s is "
				 "of method '%s'", cor_path, c.lines[0], m,
				 sum_path, r->method);
		goto out;
	}
	if (!r->method || !r->metric)
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (int i = 0; i < N_NUM; i++)
		if (!r->text[i])
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
out:
	eap_csv_release(&s);
	eap_csv_release(&c);
	return rc;
}

/* ---- output ---- */

static void csv_out(FILE *f, const char *key, const struct row *r, size_t n)
{
	eap_csv_write_field(f, key);
	fputs(",method,metric", f);
	for (int i = 0; i < N_NUM; i++)
		fprintf(f, ",%s", NUM_NAME[i]);
	fputc('\n', f);
	for (size_t k = 0; k < n; k++) {
		eap_csv_write_field(f, r[k].label);
		fputc(',', f);
		eap_csv_write_field(f, r[k].method);
		fputc(',', f);
		eap_csv_write_field(f, r[k].metric);
		for (int i = 0; i < N_NUM; i++) /* as read; "-nan" as "nan" */
			fprintf(f, ",%s", *r[k].text[i] && isnan(r[k].num[i])
				? "nan" : r[k].text[i]);
		fputc('\n', f);
	}
}

/* A table cell: 3 decimals, an edge count, or the missing mark. */
static void cell(FILE *f, const struct row *r, int i, const char *missing)
{
	double v = r->num[i];

	if (isnan(v) || ((i == C_F80 || i == C_F90) && v < 0))
		fputs(missing, f);
	else if (i == C_F80 || i == C_F90)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.3f", v);
}

/* Markdown: | and \ escaped, newlines cannot occur (CSV cells of ours). */
static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\' || *s == '*' || *s == '_')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static void md_out(FILE *f, const char *key, const struct row *r, size_t n)
{
	fputs("| ", f);
	md_text(f, key);
	fputs(" | method | metric | AUC (log size) | CPR | CMD | "
	      "edges for F ≥ 0.8 | Pearson r | Spearman ρ |\n"
	      "|---|---|---|--:|--:|--:|--:|--:|--:|\n", f);
	for (size_t k = 0; k < n; k++) {
		static const int cols[] = { C_AUC, C_CPR, C_CMD, C_F80,
					    C_PEARSON, C_SPEARMAN };

		fputs("| ", f);
		md_text(f, r[k].label);
		fputs(" | ", f);
		md_text(f, r[k].method);
		fputs(" | ", f);
		md_text(f, r[k].metric);
		for (size_t j = 0; j < sizeof(cols) / sizeof(cols[0]); j++) {
			fputs(" | ", f);
			cell(f, &r[k], cols[j], cols[j] == C_F80 ? "none" : "n/a");
		}
		fputs(" |\n", f);
	}
}

/* LaTeX text: the ten special characters escaped. */
static void tex_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': case '%': case '$': case '#': case '_': case '{': case '}':
			fprintf(f, "\\%c", *s);
			break;
		case '~': fputs("\\textasciitilde{}", f); break;
		case '^': fputs("\\textasciicircum{}", f); break;
		case '\\': fputs("\\textbackslash{}", f); break;
		default: fputc(*s, f);
		}
}

static void tex_out(FILE *f, const char *key, const struct row *r, size_t n)
{
	fputs("% written by eap-table; needs \\usepackage{booktabs}.  AUC: area "
	      "under the faithfulness\n% curve over log circuit size; CPR, CMD: "
	      "the MIB areas over the edge fraction;\n% n_{F>=0.8}: edges of the "
	      "smallest circuit with F >= 0.8; r, rho: correlation\n% of the "
	      "method's edge scores with exact patching's.\n"
	      "\\begin{tabular}{lllrrrrrr}\n\\toprule\n", f);
	if (*key) {
		char first[64];

		snprintf(first, sizeof(first), "%s", key);
		if (first[0] >= 'a' && first[0] <= 'z')
			first[0] = (char)(first[0] - 'a' + 'A');
		tex_text(f, first);
	}
	fputs(" & Method & Metric & AUC & CPR & CMD & $n_{F\\ge0.8}$ & "
	      "Pearson $r$ & Spearman $\\rho$ \\\\\n\\midrule\n", f);
	for (size_t k = 0; k < n; k++) {
		static const int cols[] = { C_AUC, C_CPR, C_CMD, C_F80,
					    C_PEARSON, C_SPEARMAN };
		int first = k == 0 || strcmp(r[k].label, r[k - 1].label);

		if (first && k)
			fputs("\\midrule\n", f);
		if (first)
			tex_text(f, r[k].label);
		fputs(" & ", f);
		tex_text(f, r[k].method);
		fputs(" & ", f);
		tex_text(f, r[k].metric);
		for (size_t j = 0; j < sizeof(cols) / sizeof(cols[0]); j++) {
			fputs(" & ", f);
			cell(f, &r[k], cols[j], "--");
		}
		fputs(" \\\\\n", f);
	}
	fputs("\\bottomrule\n\\end{tabular}\n", f);
}

enum { O_CSV, O_MD, O_TEX, N_OUT };

int main(int argc, char **argv)
{
	/* defaults */
	const char *key = "task";         /* --key */
	const char *out[N_OUT] = { NULL }; /* -o required, --md, --tex optional */

	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "md", required_argument, NULL, 'm' },
		{ "tex", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	void (*const writer[N_OUT])(FILE *, const char *, const struct row *,
				    size_t) = { csv_out, md_out, tex_out };
	struct eap_err err = { 0 };
	struct row *rows = NULL;
	char *tmp[N_OUT] = { NULL };
	size_t n = 0;
	int c, rc = 0, renamed = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'o': out[O_CSV] = optarg; break;
		case 'm': out[O_MD] = optarg; break;
		case 't': out[O_TEX] = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		default: {
			const char *arg = argv[optind - 1];

			if (optopt && strchr("komt", optopt))
				return usage_error("option '%s' requires an argument", arg);
			if (optopt)
				return usage_error("option '%s' takes no argument", arg);
			return usage_error("unknown option '%s'", arg);
		}
		}
	}
	if (!out[O_CSV])
		return usage_error("%s", "-o FILE is required");
	if (!*key || strpbrk(key, ",\"\n\r"))
		return usage_error("--key wants a plain name, got '%s'", key);
	if (optind == argc || (argc - optind) % 3)
		return usage_error("%s", "give LABEL SUMMARY CORRELATION triples");
	for (int i = optind; i < argc; i += 3)
		if (!*argv[i] || strpbrk(argv[i], "\n\r"))
			return usage_error("LABEL '%s' must be a nonempty line", argv[i]);
	for (int o = 0; o < N_OUT; o++)
		if (out[o]) {
			tool_check_output(PROG, out[o]);
			if (!(tmp[o] = tool_tmp_name(out[o]))) {
				fprintf(stderr, "%s: out of memory\n", PROG);
				return 1;
			}
		}

	n = (size_t)(argc - optind) / 3;
	if (!(rows = calloc(n, sizeof(*rows)))) {
		rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < n; k++) {
		char **a = argv + optind + 3 * k;

		if ((rc = read_row(&rows[k], a[0], a[1], a[2], &err)))
			goto fail;
	}
	for (int o = 0; o < N_OUT; o++) {
		FILE *f;

		if (!out[o])
			continue;
		if (!(f = fopen(tmp[o], "w"))) {
			rc = eap_err_set(&err, EAP_EIO, "%s: cannot write", out[o]);
			goto fail;
		}
		writer[o](f, key, rows, n);
		if (ferror(f) | fclose(f)) {
			rc = eap_err_set(&err, EAP_EIO, "%s: cannot write", out[o]);
			goto fail;
		}
	}
	/* all written: put them in place */
	for (int o = 0; o < N_OUT; o++, renamed = o)
		if (out[o] && rename(tmp[o], out[o]) < 0) {
			rc = eap_err_set(&err, EAP_EIO, "%s: cannot write", out[o]);
			goto fail;
		}
	goto done;
fail:
	fprintf(stderr, "%s: %s\n", PROG, err.msg);
	for (int o = 0; o < N_OUT; o++)
		if (out[o]) {
			unlink(tmp[o]);
			if (o < renamed)
				unlink(out[o]);
		}
done:
	for (size_t k = 0; k < n && rows; k++)
		row_release(&rows[k]);
	free(rows);
	for (int o = 0; o < N_OUT; o++)
		free(tmp[o]);
	return rc ? 1 : 0;
}
