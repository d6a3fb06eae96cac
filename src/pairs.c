/*
 * pairs.c - the pairs CSV of SPEC §10: reading (libcsv), writing, token
 * ids, and the import of the paper's CSVs (SPEC §7 answer/foil sets).
 */
#include "eap/pairs.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "eap/sbuf.h"

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* ---- CSV tables ---------------------------------------------------------- */

struct csv_state {
	struct eap_csv *t;
	const char *path;
	struct eap_err *err;
	int failed;
	int code;
	char **row;          /* fields of the record being parsed */
	size_t n_fields, cap_fields;
	size_t line;         /* line being fed */
	size_t rec_line;     /* line where the current record started */
	int in_record;
	int have_header;
};

/* RFC 4180 keeps spaces; libcsv trims them unless told otherwise. */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void csv_fail(struct csv_state *st, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void csv_fail(struct csv_state *st, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (st->failed)
		return;
	st->failed = 1;
	st->code = code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	eap_err_set(st->err, code, "%s:%zu: %s", st->path, st->rec_line, msg);
}

static void free_fields(struct csv_state *st)
{
	for (size_t i = 0; i < st->n_fields; i++)
		free(st->row[i]);
	st->n_fields = 0;
}

static void on_field(void *s, size_t len, void *data)
{
	struct csv_state *st = data;
	char *f;

	if (st->failed)
		return;
	if (s && memchr(s, '\0', len)) {
		csv_fail(st, EAP_EFORMAT, "NUL byte in a field");
		return;
	}
	if (st->n_fields == st->cap_fields) {
		size_t cap = st->cap_fields ? 2 * st->cap_fields : 8;
		char **r = realloc(st->row, cap * sizeof(*r));
		if (!r)
			goto oom;
		st->row = r;
		st->cap_fields = cap;
	}
	f = malloc(len + 1);
	if (!f)
		goto oom;
	if (len)
		memcpy(f, s, len);
	f[len] = '\0';
	st->row[st->n_fields++] = f;
	return;
oom:
	csv_fail(st, EAP_ENOMEM, "out of memory");
}

static void on_record(int c, void *data)
{
	struct csv_state *st = data;
	struct eap_csv *t = st->t;

	(void)c;
	st->in_record = 0;
	if (st->failed)
		return;
	if (!st->have_header) {
		t->header = st->row;
		t->n_cols = st->n_fields;
		st->row = NULL;
		st->n_fields = st->cap_fields = 0;
		st->have_header = 1;
		return;
	}
	if (st->n_fields != t->n_cols) {
		csv_fail(st, EAP_EFORMAT, "%zu fields, but the header has %zu",
			 st->n_fields, t->n_cols);
		free_fields(st);
		return;
	}
	if (t->n_rows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char **cells = realloc(t->cells, cap * t->n_cols * sizeof(*cells));
		size_t *lines;
		if (!cells)
			goto oom;
		t->cells = cells;
		lines = realloc(t->lines, cap * sizeof(*lines));
		if (!lines)
			goto oom;
		t->lines = lines;
		t->cap = cap;
	}
	memcpy(t->cells + t->n_rows * t->n_cols, st->row,
	       t->n_cols * sizeof(*st->row));
	t->lines[t->n_rows++] = st->rec_line;
	st->n_fields = 0;
	return;
oom:
	free_fields(st);
	csv_fail(st, EAP_ENOMEM, "out of memory");
}

static int blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

int eap_csv_read(struct eap_csv *t, const char *path, struct eap_err *err)
{
	struct csv_state st = {0};
	struct csv_parser parser;
	int parser_ok = 0;
	FILE *f;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "rb");
	if (!f)
		return eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
	if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		fclose(f);
		return eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
	}
	parser_ok = 1;
	csv_set_space_func(&parser, no_space);
	st.t = t;
	st.path = path;
	st.err = err;
	st.rec_line = 1;
	while (!st.failed && (len = getline(&buf, &cap, f)) >= 0) {
		const char *s = buf;
		size_t n = (size_t)len;

		st.line++;
		if (st.line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			s += 3;
			n -= 3;
		}
		if (!st.in_record && !blank_line(s, n)) {
			st.rec_line = st.line;
			st.in_record = 1;
		}
		if (csv_parse(&parser, s, n, on_field, on_record, &st) != n &&
		    !st.failed) {
			st.rec_line = st.line;
			csv_fail(&st, EAP_EFORMAT,
				 "malformed quoting (a quote inside an unquoted "
				 "field, or text after a closing quote)");
		}
	}
	if (ferror(f) && !st.failed) {
		rc = eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!st.failed &&
	    csv_fini(&parser, on_field, on_record, &st) != 0 && !st.failed)
		csv_fail(&st, EAP_EFORMAT,
			 "unterminated quoted field");
	if (st.failed) {
		rc = st.code;
		goto out;
	}
	if (!st.have_header)
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s:1: empty file, expected a header line",
				 path);
out:
	free_fields(&st);
	free(st.row);
	free(buf);
	if (parser_ok)
		csv_free(&parser);
	fclose(f);
	if (rc < 0)
		eap_csv_release(t);
	return rc;
}

int eap_csv_col(const struct eap_csv *t, const char *name)
{
	for (size_t c = 0; c < t->n_cols; c++)
		if (strcmp(t->header[c], name) == 0)
			return (int)c;
	return -1;
}

const char *eap_csv_cell(const struct eap_csv *t, size_t r, size_t c)
{
	return t->cells[r * t->n_cols + c];
}

void eap_csv_release(struct eap_csv *t)
{
	if (!t)
		return;
	for (size_t c = 0; c < t->n_cols && t->header; c++)
		free(t->header[c]);
	free(t->header);
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

void eap_csv_write_field(FILE *f, const char *s)
{
	size_t n = strlen(s);
	int quote = strpbrk(s, ",\"\r\n") != NULL ||
		    (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
			   s[n - 1] == '\t'));

	if (!quote) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

/* ---- pairs --------------------------------------------------------------- */

static const char *const required[4] = {"clean", "corrupted", "answers",
					"foils"};

static int grow(struct eap_pairs *p, struct eap_err *err)
{
	size_t cap = p->cap ? 2 * p->cap : 64;
	char ***arrs[4] = {&p->clean, &p->corrupted, &p->answers, &p->foils};

	if (p->n < p->cap)
		return 0;
	for (int k = 0; k < 4; k++) {
		char **a = realloc(*arrs[k], cap * sizeof(*a));
		if (!a)
			goto oom;
		*arrs[k] = a;
	}
	{
		size_t *l = realloc(p->line, cap * sizeof(*l));
		if (!l)
			goto oom;
		p->line = l;
	}
	if (p->n_extra) {
		char **e = realloc(p->extra, cap * p->n_extra * sizeof(*e));
		if (!e)
			goto oom;
		p->extra = e;
	}
	p->cap = cap;
	return 0;
oom:
	return eap_err_set(err, EAP_ENOMEM, "out of memory");
}

int eap_pairs_set_extra(struct eap_pairs *p, size_t n_extra,
			const char *const *names, struct eap_err *err)
{
	if (p->n || p->n_extra)
		return eap_err_set(err, EAP_EINVAL,
				   "extra columns must be set before any row");
	if (!n_extra)
		return 0;
	p->extra_names = calloc(n_extra, sizeof(*p->extra_names));
	if (!p->extra_names)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	p->n_extra = n_extra;
	for (size_t i = 0; i < n_extra; i++)
		if (!(p->extra_names[i] = xstrdup(names[i])))
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
	return 0;
}

int eap_pairs_append(struct eap_pairs *p, const char *clean,
		     const char *corrupted, const char *answers,
		     const char *foils, const char *const *extra,
		     struct eap_err *err)
{
	size_t i = p->n, e;

	if (grow(p, err) < 0)
		return EAP_ENOMEM;
	p->clean[i] = xstrdup(clean);
	p->corrupted[i] = xstrdup(corrupted);
	p->answers[i] = xstrdup(answers);
	p->foils[i] = xstrdup(foils);
	p->line[i] = 0;
	for (e = 0; e < p->n_extra; e++)
		p->extra[i * p->n_extra + e] = xstrdup(extra ? extra[e] : "");
	p->n++;
	if (!p->clean[i] || !p->corrupted[i] || !p->answers[i] || !p->foils[i])
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (e = 0; e < p->n_extra; e++)
		if (!p->extra[i * p->n_extra + e])
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
	return 0;
}

int eap_pairs_read(struct eap_pairs *p, const char *path, struct eap_err *err)
{
	struct eap_csv t;
	int col[4], rc;
	size_t found = 0;

	memset(p, 0, sizeof(*p));
	rc = eap_csv_read(&t, path, err);
	if (rc < 0)
		return rc;
	for (size_t a = 0; a < t.n_cols; a++)
		for (size_t b = a + 1; b < t.n_cols; b++)
			if (strcmp(t.header[a], t.header[b]) == 0) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s:1: duplicate column \"%s\"",
						 path, t.header[a]);
				goto fail;
			}
	for (int k = 0; k < 4; k++)
		if ((col[k] = eap_csv_col(&t, required[k])) >= 0)
			found++;
	if (found == 0) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s:1: no header line (expected the columns "
				 "clean,corrupted,answers,foils)",
				 path);
		goto fail;
	}
	for (int k = 0; k < 4; k++)
		if (col[k] < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:1: header has no column \"%s\"",
					 path, required[k]);
			goto fail;
		}
	if (t.n_rows == 0) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s:2: no data rows", path);
		goto fail;
	}

	/* move the cells into the pairs struct */
	p->path = xstrdup(path);
	p->n_extra = t.n_cols - 4;
	p->extra_names = calloc(p->n_extra + 1, sizeof(char *));
	p->cap = t.n_rows;
	p->clean = calloc(t.n_rows, sizeof(char *));
	p->corrupted = calloc(t.n_rows, sizeof(char *));
	p->answers = calloc(t.n_rows, sizeof(char *));
	p->foils = calloc(t.n_rows, sizeof(char *));
	p->line = calloc(t.n_rows, sizeof(size_t));
	p->extra = calloc(t.n_rows * p->n_extra + 1, sizeof(char *));
	if (!p->path || !p->extra_names || !p->clean || !p->corrupted ||
	    !p->answers || !p->foils || !p->line || !p->extra) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t c = 0, e = 0; c < t.n_cols; c++) {
		int req = 0;
		for (int k = 0; k < 4; k++)
			req |= (size_t)col[k] == c;
		if (!req) {
			p->extra_names[e++] = t.header[c];
			t.header[c] = NULL;
		}
	}
	for (size_t r = 0; r < t.n_rows; r++) {
		char **cells = t.cells + r * t.n_cols;
		char **dst[4] = {p->clean, p->corrupted, p->answers, p->foils};
		static const char *const what[4] = {
			"clean prompt", "corrupted prompt", "answers", "foils"};

		for (size_t c = 0, e = 0; c < t.n_cols; c++) {
			int k;
			for (k = 0; k < 4; k++)
				if ((size_t)col[k] == c)
					break;
			if (k < 4)
				dst[k][r] = cells[c];
			else
				p->extra[r * p->n_extra + e++] = cells[c];
			cells[c] = NULL;
		}
		p->line[r] = t.lines[r];
		p->n = r + 1;
		for (int k = 0; k < 4; k++)
			if (dst[k][r][0] == '\0') {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s:%zu: empty %s", path,
						 t.lines[r], what[k]);
				goto fail;
			}
	}
	p->n = t.n_rows;
	eap_csv_release(&t);
	return 0;
fail:
	eap_csv_release(&t);
	eap_pairs_release(p);
	return rc;
}

void eap_pairs_free_row(struct eap_pairs *p, size_t i)
{
	free(p->clean[i]);
	free(p->corrupted[i]);
	free(p->answers[i]);
	free(p->foils[i]);
	for (size_t e = 0; e < p->n_extra; e++)
		free(p->extra[i * p->n_extra + e]);
}

void eap_pairs_truncate(struct eap_pairs *p, size_t n)
{
	for (size_t i = n; i < p->n; i++)
		eap_pairs_free_row(p, i);
	if (n < p->n)
		p->n = n;
}

int eap_pairs_write(const struct eap_pairs *p, FILE *f, struct eap_err *err)
{
	fputs("clean,corrupted,answers,foils", f);
	for (size_t e = 0; e < p->n_extra; e++) {
		putc(',', f);
		eap_csv_write_field(f, p->extra_names[e]);
	}
	putc('\n', f);
	for (size_t i = 0; i < p->n; i++) {
		eap_csv_write_field(f, p->clean[i]);
		putc(',', f);
		eap_csv_write_field(f, p->corrupted[i]);
		putc(',', f);
		eap_csv_write_field(f, p->answers[i]);
		putc(',', f);
		eap_csv_write_field(f, p->foils[i]);
		for (size_t e = 0; e < p->n_extra; e++) {
			putc(',', f);
			eap_csv_write_field(f, p->extra[i * p->n_extra + e]);
		}
		putc('\n', f);
	}
	if (ferror(f))
		return eap_err_set(err, EAP_EIO, "write error: %s",
				   strerror(errno));
	return 0;
}

void eap_pairs_release(struct eap_pairs *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		if (p->clean)
			free(p->clean[i]);
		if (p->corrupted)
			free(p->corrupted[i]);
		if (p->answers)
			free(p->answers[i]);
		if (p->foils)
			free(p->foils[i]);
		for (size_t e = 0; p->extra && e < p->n_extra; e++)
			free(p->extra[i * p->n_extra + e]);
	}
	for (size_t e = 0; p->extra_names && e < p->n_extra; e++)
		free(p->extra_names[e]);
	free(p->clean);
	free(p->corrupted);
	free(p->answers);
	free(p->foils);
	free(p->line);
	free(p->extra_names);
	free(p->extra);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

const char *eap_pairs_where(const struct eap_pairs *p, size_t i, char *buf,
			    size_t size)
{
	if (p->path && p->line && p->line[i])
		snprintf(buf, size, "%s:%zu", p->path, p->line[i]);
	else
		snprintf(buf, size, "row %zu", i + 1);
	return buf;
}

/* ---- token ids ----------------------------------------------------------- */

/* "#123" with only digits after the hash: a token id. */
static int parse_id(const char *s, size_t n, long long *id)
{
	long long v = 0;

	if (n < 2 || s[0] != '#')
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (v > (INT32_MAX - (s[i] - '0')) / 10)
			v = (long long)INT32_MAX + 1; /* saturate: out of range */
		else
			v = 10 * v + (s[i] - '0');
	}
	*id = v;
	return 1;
}

int eap_pairs_labels(const struct eap_tokenizer *tok, const char *field,
		     const char *what, int32_t **ids, size_t *n,
		     struct eap_err *err)
{
	size_t cap = 1, count = 0;
	const char *s = field;
	int32_t *out;
	int rc = 0;

	for (const char *q = field; *q; q++)
		cap += *q == '|';
	out = malloc(cap * sizeof(*out));
	if (!out)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (;;) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		long long id;
		char *item;

		if (len == 0) {
			rc = eap_err_set(err, EAP_EFORMAT, "empty %s in \"%s\"",
					 what, field);
			goto fail;
		}
		if (parse_id(s, len, &id)) {
			if (id >= (long long)tok->n_vocab) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s id %.*s is out of range "
						 "(vocabulary of %zu)",
						 what, (int)len, s, tok->n_vocab);
				goto fail;
			}
			out[count++] = (int32_t)id;
		} else {
			int32_t *t = NULL;
			size_t nt = 0;
			struct eap_err sub = {0};

			item = malloc(len + 1);
			if (!item) {
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
				goto fail;
			}
			memcpy(item, s, len);
			item[len] = '\0';
			rc = eap_tokenizer_encode(tok, item, 0, &t, &nt, &sub);
			if (rc < 0)
				rc = eap_err_set(err, rc, "%s \"%s\": %s", what,
						 item, sub.msg);
			else if (nt != 1)
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s \"%s\" is %zu tokens, not 1",
						 what, item, nt);
			else
				out[count++] = t[0];
			free(t);
			free(item);
			if (rc < 0)
				goto fail;
		}
		if (!bar)
			break;
		s = bar + 1;
	}
	*ids = out;
	*n = count;
	return 0;
fail:
	free(out);
	return rc;
}

void eap_pairs_ids_release(struct eap_pairs_ids *ids)
{
	if (!ids)
		return;
	free(ids->len);
	free(ids->tok_off);
	free(ids->clean);
	free(ids->corrupted);
	free(ids->ans_off);
	free(ids->answers);
	free(ids->foil_off);
	free(ids->foils);
	memset(ids, 0, sizeof(*ids));
}

/* Append n ids to a growing array. */
static int push_ids(int32_t **a, size_t *len, size_t *cap, const int32_t *src,
		    size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 256;
		int32_t *b;
		while (c < *len + n)
			c *= 2;
		b = realloc(*a, c * sizeof(*b));
		if (!b)
			return EAP_ENOMEM;
		*a = b;
		*cap = c;
	}
	memcpy(*a + *len, src, n * sizeof(*src));
	*len += n;
	return 0;
}

int eap_pairs_tokenize(struct eap_pairs_ids *ids, const struct eap_pairs *p,
		       const struct eap_tokenizer *tok, int add_bos,
		       struct eap_err *err)
{
	size_t ntok = 0, cap_tok = 0, cap_tok2 = 0, ntok2 = 0;
	size_t nans = 0, cap_ans = 0, nfoil = 0, cap_foil = 0;
	char where[1100];
	int rc = 0;

	memset(ids, 0, sizeof(*ids));
	ids->n = p->n;
	ids->len = calloc(p->n + 1, sizeof(size_t));
	ids->tok_off = calloc(p->n + 1, sizeof(size_t));
	ids->ans_off = calloc(p->n + 1, sizeof(size_t));
	ids->foil_off = calloc(p->n + 1, sizeof(size_t));
	if (!ids->len || !ids->tok_off || !ids->ans_off || !ids->foil_off) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < p->n; i++) {
		int32_t *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		struct eap_err sub = {0};

		eap_pairs_where(p, i, where, sizeof(where));
		if ((rc = eap_tokenizer_encode(tok, p->clean[i], add_bos, &a,
					       &na, &sub)) < 0) {
			rc = eap_err_set(err, rc, "%s: clean prompt: %s", where,
					 sub.msg);
			goto row_fail;
		}
		if ((rc = eap_tokenizer_encode(tok, p->corrupted[i], add_bos,
					       &b, &nb, &sub)) < 0) {
			rc = eap_err_set(err, rc, "%s: corrupted prompt: %s",
					 where, sub.msg);
			goto row_fail;
		}
		if (na != nb) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: clean and corrupted prompts "
					 "tokenize to different lengths "
					 "(%zu vs %zu)",
					 where, na, nb);
			goto row_fail;
		}
		if (push_ids(&ids->clean, &ntok, &cap_tok, a, na) < 0 ||
		    push_ids(&ids->corrupted, &ntok2, &cap_tok2, b, nb) < 0) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto row_fail;
		}
		ids->len[i] = na;
		ids->tok_off[i + 1] = ntok;
		if (na > ids->max_len)
			ids->max_len = na;
		free(a);
		free(b);
		a = b = NULL;

		if ((rc = eap_pairs_labels(tok, p->answers[i], "answer", &a,
					   &na, &sub)) < 0 ||
		    (rc = eap_pairs_labels(tok, p->foils[i], "foil", &b, &nb,
					   &sub)) < 0) {
			rc = eap_err_set(err, rc, "%s: %s", where, sub.msg);
			goto row_fail;
		}
		if (push_ids(&ids->answers, &nans, &cap_ans, a, na) < 0 ||
		    push_ids(&ids->foils, &nfoil, &cap_foil, b, nb) < 0) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto row_fail;
		}
		ids->ans_off[i + 1] = nans;
		ids->foil_off[i + 1] = nfoil;
		free(a);
		free(b);
		continue;
row_fail:
		free(a);
		free(b);
		goto fail;
	}
	return 0;
fail:
	eap_pairs_ids_release(ids);
	return rc;
}

/* ---- the paper's CSVs ---------------------------------------------------- */

/* A column the import needs, or an error naming the file's header. */
static int need_col(const struct eap_csv *t, const char *path,
		    const char *name, int *col, struct eap_err *err)
{
	*col = eap_csv_col(t, name);
	if (*col < 0)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:1: header has no column \"%s\"", path,
				   name);
	return 0;
}

/* A non-negative decimal integer cell. */
static int cell_int(const char *s, long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtol(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

/* An id cell, checked against the vocabulary. */
static int cell_id(const struct eap_csv *t, size_t r, int col,
		   const struct eap_tokenizer *tok, const char *path,
		   int32_t *id, struct eap_err *err)
{
	const char *s = eap_csv_cell(t, r, (size_t)col);
	long v;

	if (cell_int(s, &v) < 0)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:%zu: %s \"%s\" is not a token id", path,
				   t->lines[r], t->header[col], s);
	if ((size_t)v >= tok->n_vocab)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:%zu: %s %ld is out of range (vocabulary "
				   "of %zu)",
				   path, t->lines[r], t->header[col], v,
				   tok->n_vocab);
	*id = (int32_t)v;
	return 0;
}

/* "#id|#id|..." of ids into b (reset first). */
static int sb_ids(struct eap_sbuf *b, const int32_t *ids, size_t n)
{
	char tmp[24];

	b->len = 0;
	if (eap_sbuf_add(b, "", 0) < 0)
		return EAP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int k = snprintf(tmp, sizeof(tmp), "%s#%" PRId32, i ? "|" : "",
				 ids[i]);
		if (eap_sbuf_add(b, tmp, (size_t)k) < 0)
			return EAP_ENOMEM;
	}
	return 0;
}

/* The single token of text, or an error naming where it was needed. */
static int single(const struct eap_tokenizer *tok, const char *text,
		  const char *where, int32_t *id, struct eap_err *err)
{
	int32_t *ids = NULL;
	size_t n = 0;
	struct eap_err sub = {0};
	int rc = eap_tokenizer_encode(tok, text, 0, &ids, &n, &sub);

	if (rc < 0)
		rc = eap_err_set(err, rc, "%s: \"%s\": %s", where, text, sub.msg);
	else if (n != 1)
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: \"%s\" is %zu tokens, not 1", where, text,
				 n);
	else
		*id = ids[0];
	free(ids);
	return rc;
}

/*
 * The tokens text adds after context under tok: *n of them, the first in
 * *out.  A label is what the model reads next, so it is tokenized as the
 * continuation of its prompt: SentencePiece tokenizers prepend U+2581 to
 * a text of its own, and " Mary" alone is two tokens there.  If the
 * context's own tokens change (a merge across the boundary), or encoding
 * fails, *n is 0: not a label of tok.
 */
static int continuation(const struct eap_tokenizer *tok, const char *context,
			const char *text, int32_t *out, size_t *n,
			struct eap_err *err)
{
	size_t lc = strlen(context), lt = strlen(text), na = 0, nb = 0;
	char *both = malloc(lc + lt + 1);
	int32_t *a = NULL, *b = NULL;
	struct eap_err sub = {0};
	int rc = 0;

	*n = 0;
	if (!both)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	memcpy(both, context, lc);
	memcpy(both + lc, text, lt + 1);
	if (eap_tokenizer_encode(tok, context, 0, &a, &na, &sub) == EAP_ENOMEM ||
	    eap_tokenizer_encode(tok, both, 0, &b, &nb, &sub) == EAP_ENOMEM) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
	} else if (a && b && nb > na && !memcmp(a, b, na * sizeof(*a))) {
		*n = nb - na;
		*out = b[na];
	}
	free(a);
	free(b);
	free(both);
	return rc;
}

/* The text of id under ids_tok as a continuation of context under tok. */
static int retok(const struct eap_tokenizer *ids_tok,
		 const struct eap_tokenizer *tok, const char *context,
		 int32_t id, int32_t *out, size_t *n, struct eap_err *err)
{
	const char *piece = eap_tokenizer_piece(ids_tok, id);

	*n = 0;
	return piece ? continuation(tok, context, piece, out, n, err) : 0;
}

/* Does the piece of id spell " " + word (or its start, when prefix)? */
static int spells(const struct eap_tokenizer *tok, int32_t id,
		  const char *word, int prefix)
{
	const char *piece = eap_tokenizer_piece(tok, id);
	size_t n;

	if (!piece || piece[0] != ' ')
		return 0;
	piece++;
	n = strlen(piece);
	if (prefix)
		return n > 0 && strncmp(word, piece, n) == 0;
	return strcmp(word, piece) == 0;
}

/* "[16840, 23685]" -> ids; every id checked against the vocabulary. */
static int parse_id_list(const char *s, const struct eap_tokenizer *tok,
			 int32_t **ids, size_t *n)
{
	size_t cap = 1, k = 0;
	int32_t *out;

	for (const char *q = s; *q; q++)
		cap += *q == ',';
	out = malloc(cap * sizeof(*out));
	if (!out)
		return EAP_ENOMEM;
	while (*s == ' ')
		s++;
	if (*s++ != '[')
		goto bad;
	for (;;) {
		char *end;
		long v;

		while (*s == ' ')
			s++;
		if (*s == ']' && k == 0)
			break;
		if (*s < '0' || *s > '9')
			goto bad;
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || (size_t)v >= tok->n_vocab)
			goto bad;
		out[k++] = (int32_t)v;
		s = end;
		while (*s == ' ')
			s++;
		if (*s == ']')
			break;
		if (*s++ != ',')
			goto bad;
	}
	s++;
	while (*s == ' ')
		s++;
	if (*s || k == 0)
		goto bad;
	*ids = out;
	*n = k;
	return 0;
bad:
	free(out);
	return EAP_EFORMAT;
}

/* "['gem', 'gems']" -> the k-th string (into buf), or -1. */
static int list_word(const char *s, size_t k, char *buf, size_t size)
{
	size_t i = 0;

	for (; *s; s++) {
		char q = *s;
		const char *e;
		if (q != '\'' && q != '"')
			continue;
		e = strchr(s + 1, q);
		if (!e)
			return -1;
		if (i++ == k) {
			size_t n = (size_t)(e - s - 1);
			if (n + 1 > size)
				return -1;
			memcpy(buf, s + 1, n);
			buf[n] = '\0';
			return 0;
		}
		s = e;
	}
	return -1;
}

/* Sorted string array with binary search (the verb sets). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int in_sorted(char **a, size_t n, const char *s)
{
	return bsearch(&s, a, n, sizeof(*a), cmp_str) != NULL;
}

/*
 * The reference's get_singular_and_plural(strict=True): every vocabulary
 * token " w" with w a verb form of the list; singular if w is in the sing
 * column, else plural, kept only if the singular form of w's first row
 * (python's plural.index) is itself one token with a leading space.
 */
static int sva_sets(const struct eap_tokenizer *tok, const char *verbs_path,
		    int32_t **sing, size_t *n_sing, int32_t **plur,
		    size_t *n_plur, struct eap_err *err)
{
	struct eap_csv v;
	char **ss = NULL, **ps = NULL;
	int cs, cp, rc;
	size_t nv;

	*sing = *plur = NULL;
	*n_sing = *n_plur = 0;
	if ((rc = eap_csv_read(&v, verbs_path, err)) < 0)
		return rc;
	if ((rc = need_col(&v, verbs_path, "sing", &cs, err)) < 0 ||
	    (rc = need_col(&v, verbs_path, "plur", &cp, err)) < 0)
		goto out;
	nv = v.n_rows;
	ss = malloc((nv + 1) * sizeof(*ss));
	ps = malloc((nv + 1) * sizeof(*ps));
	*sing = malloc((tok->n_vocab + 1) * sizeof(**sing));
	*plur = malloc((tok->n_vocab + 1) * sizeof(**plur));
	if (!ss || !ps || !*sing || !*plur) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t r = 0; r < nv; r++) {
		ss[r] = (char *)eap_csv_cell(&v, r, (size_t)cs);
		ps[r] = (char *)eap_csv_cell(&v, r, (size_t)cp);
	}
	qsort(ss, nv, sizeof(*ss), cmp_str);
	qsort(ps, nv, sizeof(*ps), cmp_str);
	for (size_t r = 0; r < nv; r++)
		if (in_sorted(ps, nv, ss[r])) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: \"%s\" is both a singular and a "
					 "plural form",
					 verbs_path, ss[r]);
			goto out;
		}
	for (size_t id = 0; id < tok->n_vocab; id++) {
		const char *piece = eap_tokenizer_piece(tok, (int32_t)id);
		const char *w;

		if (!piece || piece[0] != ' ')
			continue;
		w = piece + 1;
		if (in_sorted(ss, nv, w)) {
			(*sing)[(*n_sing)++] = (int32_t)id;
		} else if (in_sorted(ps, nv, w)) {
			char *sp;
			size_t r, nt = 0;
			int32_t *t = NULL, one;
			struct eap_err sub = {0};

			for (r = 0; r < nv; r++)
				if (strcmp(eap_csv_cell(&v, r, (size_t)cp), w) == 0)
					break;
			sp = malloc(strlen(eap_csv_cell(&v, r, (size_t)cs)) + 2);
			if (!sp) {
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
				goto out;
			}
			sp[0] = ' ';
			strcpy(sp + 1, eap_csv_cell(&v, r, (size_t)cs));
			rc = eap_tokenizer_encode(tok, sp, 0, &t, &nt, &sub);
			free(t);
			if (rc < 0) {
				free(sp);
				rc = eap_err_set(err, rc, "%s: %s", verbs_path,
						 sub.msg);
				goto out;
			}
			/* SentencePiece prepends U+2581 to a text of its own:
			 * then " w" counts as it follows a subject */
			if (nt != 1 && tok->kind == EAP_TOKENIZER_BPE_SP &&
			    (rc = continuation(tok, "The", sp, &one, &nt, err)) < 0) {
				free(sp);
				goto out;
			}
			free(sp);
			if (nt == 1)
				(*plur)[(*n_plur)++] = (int32_t)id;
		}
	}
	if (!*n_sing || !*n_plur)
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: no %s verb form is a single token of the "
				 "model's vocabulary",
				 verbs_path, *n_sing ? "plural" : "singular");
out:
	free(ss);
	free(ps);
	eap_csv_release(&v);
	if (rc < 0) {
		free(*sing);
		free(*plur);
		*sing = *plur = NULL;
	}
	return rc;
}

enum import_task {
	IMP_IOI,
	IMP_GT,
	IMP_SVA,
	IMP_GENDER,
	IMP_FACT,
	IMP_HYPER,
};

static const char *const import_names[] = {
	"ioi",         "greater-than",         "sva",
	"gender-bias", "fact-retrieval-comma", "hypernymy-comma",
};

/* Both label sets of one row, or ENOMEM. */
static int put_sets(struct eap_sbuf *ans, const int32_t *a, size_t na,
		    struct eap_sbuf *foil, const int32_t *f, size_t nf,
		    struct eap_err *err)
{
	if (sb_ids(ans, a, na) < 0 || sb_ids(foil, f, nf) < 0)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	return 0;
}

/* ioi, gender-bias, fact-retrieval-comma: one answer id, one foil id. */
static int import_one(const struct eap_csv *t, size_t r, int kind, int c_a,
		      int c_f, int c_w, const struct eap_tokenizer *tok,
		      const struct eap_tokenizer *mtok, const char *path,
		      struct eap_sbuf *ans, struct eap_sbuf *foil, int *drop,
		      struct eap_err *err)
{
	size_t line = t->lines[r];
	int32_t a, f;
	int rc;

	if ((rc = cell_id(t, r, c_a, tok, path, &a, err)) < 0 ||
	    (rc = cell_id(t, r, c_f, tok, path, &f, err)) < 0)
		return rc;
	if (kind == IMP_IOI) {
		/* both names are tokens of the clean prompt: a check that the
		 * ids belong to this tokenizer */
		const char *clean = eap_csv_cell(t, r, (size_t)eap_csv_col(t, "clean"));
		int32_t pair[2] = {a, f}, *ids = NULL;
		size_t n = 0;
		struct eap_err sub = {0};

		if ((rc = eap_tokenizer_encode(tok, clean, 0, &ids, &n, &sub)) < 0)
			return eap_err_set(err, rc, "%s:%zu: clean prompt: %s",
					   path, line, sub.msg);
		for (int k = 0; k < 2; k++) {
			size_t i = 0;
			while (i < n && ids[i] != pair[k])
				i++;
			if (i == n) {
				const char *piece = eap_tokenizer_piece(tok, pair[k]);
				free(ids);
				return eap_err_set(
					err, EAP_EFORMAT,
					"%s:%zu: %s token #%" PRId32 " (\"%s\") is "
					"not a token of the clean prompt",
					path, line, k ? "foil" : "answer", pair[k],
					piece ? piece : "");
			}
		}
		free(ids);
	}
	if (kind == IMP_FACT && !spells(tok, a, eap_csv_cell(t, r, (size_t)c_w), 1))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:%zu: country_idx %" PRId32 " is not the "
				   "first token of \" %s\"",
				   path, line, a, eap_csv_cell(t, r, (size_t)c_w));
	if (mtok != tok) { /* the labels' text, re-tokenized for the model */
		int32_t ma = -1, mf = -1;
		size_t na, nf;
		const char *clean = eap_csv_cell(t, r, (size_t)eap_csv_col(t, "clean"));
		if (kind == IMP_FACT) { /* the first token of " " + country,
					 * as the paper's country_idx */
			const char *cols[2] = {"country", "corrupted_country"};
			size_t *cnt[2] = {&na, &nf};
			int32_t *dst[2] = {&ma, &mf};
			for (int k = 0; k < 2; k++) {
				int c = eap_csv_col(t, cols[k]);
				const char *w;
				char *sp;
				if (c < 0) { /* no text to re-tokenize */
					*cnt[k] = 0;
					continue;
				}
				w = eap_csv_cell(t, r, (size_t)c);
				sp = malloc(strlen(w) + 2);
				if (!sp)
					return eap_err_set(err, EAP_ENOMEM,
							   "out of memory");
				sp[0] = ' ';
				strcpy(sp + 1, w);
				rc = continuation(mtok, clean, sp, dst[k], cnt[k], err);
				free(sp);
				if (rc < 0)
					return rc;
				*cnt[k] = *cnt[k] > 0;
			}
		} else if ((rc = retok(tok, mtok, clean, a, &ma, &na, err)) < 0 ||
			   (rc = retok(tok, mtok, clean, f, &mf, &nf, err)) < 0) {
			return rc;
		}
		if (na != 1 || nf != 1) {
			*drop = na != 1 ? EAP_DROP_ANSWER : EAP_DROP_FOIL;
			return 0;
		}
		if (ma == mf) {
			*drop = EAP_DROP_SAME;
			return 0;
		}
		a = ma;
		f = mf;
	}
	if (a == f)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:%zu: answer and foil are the same token "
				   "#%" PRId32,
				   path, line, a);
	return put_sets(ans, &a, 1, foil, &f, 1, err);
}

/* greater-than: answers "YY+1".."99", foils "00".."YY" (SPEC §7). */
static int import_gt(const struct eap_csv *t, size_t r, int c_a,
		     const int32_t years[100], const char *path,
		     struct eap_sbuf *ans, struct eap_sbuf *foil, struct eap_err *err)
{
	const char *s = eap_csv_cell(t, r, (size_t)c_a);
	long v;

	if (cell_int(s, &v) < 0 || v > 98)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:%zu: correct_idx \"%s\" is not a start "
				   "year YY in 00..98",
				   path, t->lines[r], s);
	return put_sets(ans, years + v + 1, (size_t)(99 - v), foil, years,
			(size_t)v + 1, err);
}

/* sva: the verb forms agreeing with the clean subject (plural = 1 or 0);
 * the two sets are joined once, in sets[0] (singular) and sets[1]. */
static int import_sva(const struct eap_csv *t, size_t r, int c_a,
		      struct eap_sbuf sets[2], const char *path, const char **ans,
		      const char **foil, struct eap_err *err)
{
	const char *pl = eap_csv_cell(t, r, (size_t)c_a);

	if (strcmp(pl, "0") && strcmp(pl, "1"))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s:%zu: plural \"%s\" is not 0 or 1", path,
				   t->lines[r], pl);
	*ans = sets[pl[0] == '1'].s;
	*foil = sets[pl[0] != '1'].s;
	return 0;
}

/* hypernymy-comma: the answers_idx and corrupted_answers_idx lists. */
static int import_hyper(const struct eap_csv *t, size_t r, int c_a, int c_f,
			const struct eap_tokenizer *tok,
			const struct eap_tokenizer *mtok, const char *path,
			struct eap_sbuf *ans, struct eap_sbuf *foil, int *drop,
			struct eap_err *err)
{
	const int cols[2] = {c_a, c_f};
	const char *word_cols[2] = {"answers", "corrupted_answers"};
	int32_t *ids[2] = {NULL, NULL};
	size_t n[2] = {0, 0}, line = t->lines[r];
	int rc = 0;

	for (int s = 0; s < 2; s++) {
		const char *cell = eap_csv_cell(t, r, (size_t)cols[s]);
		int cw = eap_csv_col(t, word_cols[s]);
		char w[256];

		if (parse_id_list(cell, tok, &ids[s], &n[s]) < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: %s \"%s\" is not a list of "
					 "token ids of the model",
					 path, line, t->header[cols[s]], cell);
			goto out;
		}
		/* the words beside the ids must be what the ids spell (or
		 * begin: the Pythia file gives " weaponry" as " weapon") */
		for (size_t k = 0; cw >= 0 && k < n[s]; k++)
			if (list_word(eap_csv_cell(t, r, (size_t)cw), k, w,
				      sizeof(w)) < 0 ||
			    !spells(tok, ids[s][k], w, 1)) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s:%zu: %s[%zu] = %" PRId32
						 " is not the first token of %s[%zu]",
						 path, line, t->header[cols[s]], k,
						 ids[s][k], word_cols[s], k);
				goto out;
			}
	}
	if (mtok != tok) { /* keep the words that are one token of the model */
		for (int s = 0; s < 2; s++) {
			size_t w = 0;
			for (size_t k = 0; k < n[s]; k++) {
				int32_t m = -1;
				size_t nm, d;
				if ((rc = retok(tok, mtok,
						eap_csv_cell(t, r, (size_t)eap_csv_col(t, "clean")),
						ids[s][k], &m, &nm, err)) < 0)
					goto out;
				for (d = 0; d < w && ids[s][d] != m; d++)
					;
				if (nm == 1 && d == w)
					ids[s][w++] = m;
			}
			n[s] = w;
		}
		if (n[0] == 0 || n[1] == 0) {
			*drop = n[0] == 0 ? EAP_DROP_ANSWER : EAP_DROP_FOIL;
			goto out;
		}
		for (size_t i = 0; i < n[0]; i++)
			for (size_t j = 0; j < n[1]; j++)
				if (ids[0][i] == ids[1][j]) {
					*drop = EAP_DROP_SAME;
					goto out;
				}
	}
	for (size_t i = 0; i < n[0]; i++)
		for (size_t j = 0; j < n[1]; j++)
			if (ids[0][i] == ids[1][j]) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s:%zu: token #%" PRId32
						 " is both an answer and a foil",
						 path, line, ids[0][i]);
				goto out;
			}
	rc = put_sets(ans, ids[0], n[0], foil, ids[1], n[1], err);
out:
	free(ids[0]);
	free(ids[1]);
	return rc;
}

static const char *const drop_reasons[EAP_DROP_N] = {
	"clean and corrupted prompts tokenize to different lengths",
	"the answer is not one token",
	"the foil is not one token",
	"answer and foil are the same token",
};

const char *eap_import_drop_reason(enum eap_import_drop why)
{
	return (unsigned)why < EAP_DROP_N ? drop_reasons[why] : "?";
}

int eap_pairs_import(struct eap_pairs *out, const char *task,
		     const char *csv_path, const char *verbs_path,
		     const struct eap_tokenizer *tok, struct eap_err *err)
{
	struct eap_import_report rep;

	return eap_pairs_import_model(out, task, csv_path, verbs_path, tok,
				      NULL, &rep, err);
}

/* Do clean and corrupted have the same number of tokens under tok? */
static int same_length(const struct eap_tokenizer *tok, const char *clean,
		       const char *corr, const char *path, size_t line,
		       int *same, struct eap_err *err)
{
	int32_t *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct eap_err sub = {0};
	int rc;

	if ((rc = eap_tokenizer_encode(tok, clean, 0, &a, &na, &sub)) < 0)
		return eap_err_set(err, rc, "%s:%zu: clean prompt: %s", path,
				   line, sub.msg);
	if ((rc = eap_tokenizer_encode(tok, corr, 0, &b, &nb, &sub)) < 0) {
		free(a);
		return eap_err_set(err, rc, "%s:%zu: corrupted prompt: %s",
				   path, line, sub.msg);
	}
	*same = na == nb;
	free(a);
	free(b);
	return 0;
}

int eap_pairs_import_model(struct eap_pairs *out, const char *task,
			   const char *csv_path, const char *verbs_path,
			   const struct eap_tokenizer *mtok,
			   const struct eap_tokenizer *ids_tok,
			   struct eap_import_report *report, struct eap_err *err)
{
	const struct eap_tokenizer *tok = ids_tok ? ids_tok : mtok;
	struct eap_csv t = {0};
	struct eap_sbuf ans = {0}, foil = {0}, sva[2] = {{0}, {0}};
	int kind = -1, c_clean, c_corr, c_a = -1, c_f = -1, c_w = -1;
	int32_t years[100], *sing = NULL, *plur = NULL;
	size_t n_sing = 0, n_plur = 0, n_extra = 0;
	const char **names = NULL;
	const char **extra = NULL;
	char *verbs_buf = NULL;
	int rc;

	for (size_t k = 0; k < sizeof(import_names) / sizeof(*import_names);
	     k++)
		if (strcmp(task, import_names[k]) == 0)
			kind = (int)k;
	if (kind < 0)
		return eap_err_set(err, EAP_EINVAL,
				   "unknown task \"%s\" (expected %s)", task,
				   EAP_IMPORT_TASKS);
	if ((rc = eap_csv_read(&t, csv_path, err)) < 0)
		return rc;
	if ((rc = need_col(&t, csv_path, "clean", &c_clean, err)) < 0 ||
	    (rc = need_col(&t, csv_path, "corrupted", &c_corr, err)) < 0)
		goto out;
	switch (kind) {
	case IMP_IOI:
		if ((rc = need_col(&t, csv_path, "correct_idx", &c_a, err)) < 0 ||
		    (rc = need_col(&t, csv_path, "incorrect_idx", &c_f, err)) < 0)
			goto out;
		break;
	case IMP_GT:
		if ((rc = need_col(&t, csv_path, "correct_idx", &c_a, err)) < 0)
			goto out;
		/* the reference's get_year_indices: the first token of "%02d" */
		for (int y = 0; y < 100; y++) {
			char s[4] = {(char)('0' + y / 10), (char)('0' + y % 10), 0};
			if ((rc = single(mtok, s, "year token", &years[y], err)) < 0)
				goto out;
		}
		break;
	case IMP_SVA:
		if ((rc = need_col(&t, csv_path, "plural", &c_a, err)) < 0)
			goto out;
		if (!verbs_path) {
			const char *slash = strrchr(csv_path, '/');
			size_t d = slash ? (size_t)(slash - csv_path + 1) : 0;
			const char *base = "combined_verb_list.csv";
			verbs_buf = malloc(d + strlen(base) + 1);
			if (!verbs_buf) {
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
				goto out;
			}
			memcpy(verbs_buf, csv_path, d);
			strcpy(verbs_buf + d, base);
			verbs_path = verbs_buf;
		}
		if ((rc = sva_sets(mtok, verbs_path, &sing, &n_sing, &plur,
				   &n_plur, err)) < 0)
			goto out;
		if ((rc = put_sets(&sva[0], sing, n_sing, &sva[1], plur, n_plur,
				   err)) < 0)
			goto out;
		break;
	case IMP_GENDER:
		if ((rc = need_col(&t, csv_path, "clean_answer_idx", &c_a, err)) < 0 ||
		    (rc = need_col(&t, csv_path, "corrupted_answer_idx", &c_f,
				   err)) < 0)
			goto out;
		break;
	case IMP_FACT:
		if ((rc = need_col(&t, csv_path, "country_idx", &c_a, err)) < 0 ||
		    (rc = need_col(&t, csv_path, "corrupted_country_idx", &c_f,
				   err)) < 0 ||
		    (rc = need_col(&t, csv_path, "country", &c_w, err)) < 0)
			goto out;
		break;
	case IMP_HYPER:
		if ((rc = need_col(&t, csv_path, "answers_idx", &c_a, err)) < 0 ||
		    (rc = need_col(&t, csv_path, "corrupted_answers_idx", &c_f,
				   err)) < 0)
			goto out;
		break;
	}

	/* every column but the two prompts rides along as an extra */
	names = calloc(t.n_cols, sizeof(*names));
	extra = calloc(t.n_cols, sizeof(*extra));
	if (!names || !extra) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t c = 0; c < t.n_cols; c++) {
		const char *h = t.header[c];
		if ((int)c == c_clean || (int)c == c_corr)
			continue;
		/* the paper's own "answers" (words) must not shadow ours */
		for (int k = 0; k < 4; k++)
			if (strcmp(h, required[k]) == 0)
				h = k == 2 ? "paper_answers" : "paper_foils";
		names[n_extra++] = h[0] ? h : "index";
	}
	if ((rc = eap_pairs_set_extra(out, n_extra, names,
				      err)) < 0)
		goto out;

	memset(report, 0, sizeof(*report));
	report->rows = t.n_rows;
	for (size_t r = 0; r < t.n_rows; r++) {
		const char *clean = eap_csv_cell(&t, r, (size_t)c_clean);
		const char *corr = eap_csv_cell(&t, r, (size_t)c_corr);
		size_t line = t.lines[r];
		const char *a_str = NULL, *f_str = NULL;
		int drop = -1, same = 1;

		if (!clean[0] || !corr[0]) {
			rc = eap_err_set(err, EAP_EFORMAT, "%s:%zu: empty %s prompt",
					 csv_path, line,
					 clean[0] ? "corrupted" : "clean");
			goto out;
		}
		switch (kind) {
		case IMP_IOI:
		case IMP_GENDER:
		case IMP_FACT:
			rc = import_one(&t, r, kind, c_a, c_f, c_w, tok, mtok,
					csv_path, &ans, &foil, &drop, err);
			break;
		case IMP_GT:
			rc = import_gt(&t, r, c_a, years, csv_path, &ans, &foil,
				       err);
			break;
		case IMP_SVA:
			rc = import_sva(&t, r, c_a, sva, csv_path, &a_str,
					&f_str, err);
			break;
		case IMP_HYPER:
			rc = import_hyper(&t, r, c_a, c_f, tok, mtok, csv_path,
					  &ans, &foil, &drop, err);
			break;
		}
		if (rc < 0)
			goto out;
		if (drop < 0 && (rc = same_length(mtok, clean, corr, csv_path,
						  line, &same, err)) < 0)
			goto out;
		if (drop < 0 && !same)
			drop = EAP_DROP_LENGTH;
		if (drop >= 0) {
			report->dropped[drop]++;
			continue;
		}
		for (size_t c = 0, e = 0; c < t.n_cols; c++)
			if ((int)c != c_clean && (int)c != c_corr)
				extra[e++] = eap_csv_cell(&t, r, c);
		if ((rc = eap_pairs_append(out, clean, corr,
					   a_str ? a_str : ans.s,
					   f_str ? f_str : foil.s, extra, err)) < 0)
			goto out;
		out->line[out->n - 1] = line;
	}
	if (t.n_rows == 0)
		rc = eap_err_set(err, EAP_EFORMAT, "%s:2: no data rows", csv_path);
	else if (out->n == 0) {
		int most = 0;
		for (int k = 1; k < EAP_DROP_N; k++)
			if (report->dropped[k] > report->dropped[most])
				most = k;
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: none of the %zu rows is left for this "
				 "tokenizer (%zu: %s)",
				 csv_path, t.n_rows, report->dropped[most],
				 drop_reasons[most]);
	}
out:
	free(ans.s);
	free(foil.s);
	free(sva[0].s);
	free(sva[1].s);
	free(sing);
	free(plur);
	free(names);
	free(extra);
	free(verbs_buf);
	eap_csv_release(&t);
	if (rc < 0)
		eap_pairs_release(out);
	return rc;
}
