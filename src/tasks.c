/*
 * tasks.c - task folders (SPEC §10): parse task.txt, its lists and
 * templates; draw examples for a split; render prompts, labels and
 * training sentences.  The format is documented in data/tasks/README.md.
 */
#include "eap/tasks.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eap/sbuf.h"

/* Draws per example before giving up (an empty split, or labels that
 * always overlap). */
#define MAX_ATTEMPTS 10000

/* Variables in a holdout key, at most. */
#define MAX_KEY 16

/* ---- small helpers -------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* A growing array of pointers. */
struct vec {
	void **a;
	size_t n, cap;
};

static int vec_push(struct vec *v, void *p)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		void **a = realloc(v->a, cap * sizeof(*a));
		if (!a)
			return EAP_ENOMEM;
		v->a = a;
		v->cap = cap;
	}
	v->a[v->n++] = p;
	return 0;
}

/* Split s on white space into *words (pointers into a copy in *buf),
 * stopping at a word that starts with '#' if comments. */
static int split_words(const char *s, int comments, char **buf,
		       struct vec *words)
{
	char *p;

	words->n = 0;
	*buf = xstrdup(s);
	if (!*buf)
		return EAP_ENOMEM;
	for (p = *buf; *p;) {
		while (*p && is_space(*p))
			p++;
		if (!*p || (comments && *p == '#'))
			break;
		if (vec_push(words, p) < 0)
			return EAP_ENOMEM;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

/* dir + "/" + file, unless file is absolute. */
static char *join(const char *dir, const char *file)
{
	size_t d = strlen(dir), f = strlen(file);
	char *s;

	if (file[0] == '/')
		return xstrdup(file);
	while (d > 1 && dir[d - 1] == '/')
		d--;
	s = malloc(d + f + 2);
	if (!s)
		return NULL;
	memcpy(s, dir, d);
	s[d] = '/';
	memcpy(s + d + 1, file, f + 1);
	return s;
}

/* ---- the parsed task ------------------------------------------------------ */

struct cell {
	char *raw;     /* the field as written, e.g. "gems|stones" */
	size_t n_alt;
	char **alt;    /* its alternatives, e.g. {"gems", "stones"} */
};

struct list {
	char *name;
	char *path;           /* for messages */
	size_t n_cols;
	char **cols;          /* (n_cols) column names */
	size_t n_rows;
	struct cell *cells;   /* (n_rows, n_cols) */
};

/* One `var` line; several lines (train:/test:) may fill one slot. */
struct decl {
	size_t slot;
	int split;            /* -1 for both, else an enum eap_split */
	int list;             /* list index, or -1 for `one of` words */
	size_t n_words;
	char **words;         /* (n_words) the `one of` alternatives */
	size_t n_except;
	size_t *except;       /* (n_except) slots whose value is excluded */
	size_t line;
};

/* A reference to a value: {io}, {c.country}, {subj.$num}. */
struct ref {
	size_t slot;
	int col;              /* column of the slot's list; -1 = by colvar */
	size_t colvar;        /* slot whose value names the column */
};

struct word {
	char *text;           /* literal word, or NULL for a slot */
	struct ref clean, corr;
};

struct template {
	size_t n;
	struct word *w;
	size_t line;
};

struct tfile {
	char *path;
	size_t n;
	struct template *t;
};

enum term_kind { TERM_REF, TERM_COLUMN, TERM_RANGE };
enum term_op { OP_LT, OP_LE, OP_GT, OP_GE };

struct term {
	int kind;
	struct ref ref;       /* TERM_REF */
	int list;             /* TERM_COLUMN, TERM_RANGE */
	int col;              /* TERM_COLUMN: column, -1 = by colvar */
	size_t colvar;
	int op;               /* TERM_RANGE: rows of list op the slot's row */
	size_t slot;
};

struct labels {
	size_t n;
	struct term *t;
};

enum src_kind { SRC_CLEAN, SRC_EITHER, SRC_FOIL, SRC_FILE };

struct source {
	int kind;
	double weight;
	struct tfile file;    /* SRC_FILE */
};

struct eap_task_impl {
	char *path;           /* DIR/task.txt, for messages */
	size_t n_lists;
	struct list *lists;
	size_t n_slots;
	char **slot_names;    /* (n_slots) */
	int *slot_list;       /* (n_slots) list of every decl, -1 = words */
	int *slot_rendered;   /* (n_slots) appears in text or labels */
	int *slot_decl[2];    /* (n_slots) per split: declared? */
	size_t n_decls;
	struct decl *decls;
	struct tfile prompts;
	int has_template, has_answer, has_foil, has_holdout;
	struct labels answer, foil;
	double holdout;
	int unordered;
	size_t n_key;
	long *key;            /* (n_key) slot, or -1 for the template index */
	double noise;
	size_t n_src;
	struct source *src;
	/* After loading, every word of the lists and `one of` declarations
	 * points into this table, so equal words are equal pointers and
	 * generation compares pointers, not strings. */
	size_t n_interned;
	char **interned;
};

/* ---- release -------------------------------------------------------------- */

static void tfile_release(struct tfile *f)
{
	for (size_t i = 0; i < f->n; i++) {
		for (size_t k = 0; k < f->t[i].n; k++)
			free(f->t[i].w[k].text);
		free(f->t[i].w);
	}
	free(f->t);
	free(f->path);
	memset(f, 0, sizeof(*f));
}

static void impl_free(struct eap_task_impl *m)
{
	if (!m)
		return;
	for (size_t l = 0; l < m->n_lists; l++) {
		struct list *L = &m->lists[l];
		for (size_t c = 0; c < L->n_cols; c++)
			free(L->cols[c]);
		for (size_t i = 0; i < L->n_rows * L->n_cols; i++) {
			if (!m->interned) {
				free(L->cells[i].raw);
				for (size_t a = 0; a < L->cells[i].n_alt; a++)
					free(L->cells[i].alt[a]);
			}
			free(L->cells[i].alt);
		}
		free(L->cols);
		free(L->cells);
		free(L->name);
		free(L->path);
	}
	free(m->lists);
	for (size_t s = 0; s < m->n_slots; s++)
		free(m->slot_names[s]);
	free(m->slot_names);
	free(m->slot_list);
	free(m->slot_rendered);
	free(m->slot_decl[0]);
	free(m->slot_decl[1]);
	for (size_t d = 0; d < m->n_decls; d++) {
		for (size_t w = 0; !m->interned && w < m->decls[d].n_words; w++)
			free(m->decls[d].words[w]);
		free(m->decls[d].words);
		free(m->decls[d].except);
	}
	free(m->decls);
	tfile_release(&m->prompts);
	free(m->answer.t);
	free(m->foil.t);
	free(m->key);
	for (size_t i = 0; i < m->n_src; i++)
		tfile_release(&m->src[i].file);
	free(m->src);
	free(m->path);
	for (size_t i = 0; i < m->n_interned; i++)
		free(m->interned[i]);
	free(m->interned);
	free(m);
}

void eap_task_release(struct eap_task *task)
{
	if (!task)
		return;
	impl_free(task->impl);
	free(task->name);
	free(task->dir);
	memset(task, 0, sizeof(*task));
}

/* ---- lookups -------------------------------------------------------------- */

static int find_list(const struct eap_task_impl *m, const char *name)
{
	for (size_t l = 0; l < m->n_lists; l++)
		if (strcmp(m->lists[l].name, name) == 0)
			return (int)l;
	return -1;
}

static long find_slot(const struct eap_task_impl *m, const char *name)
{
	for (size_t s = 0; s < m->n_slots; s++)
		if (strcmp(m->slot_names[s], name) == 0)
			return (long)s;
	return -1;
}

static int find_col(const struct list *L, const char *name)
{
	for (size_t c = 0; c < L->n_cols; c++)
		if (strcmp(L->cols[c], name) == 0)
			return (int)c;
	return -1;
}

/* ---- parsing -------------------------------------------------------------- */

/* Location-prefixed errors: "FILE:LINE: message". */
static int perr(struct eap_err *err, const char *path, size_t line,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int perr(struct eap_err *err, const char *path, size_t line,
		const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		return eap_err_set(err, EAP_EFORMAT, "%s:%zu: %s", path, line,
				   msg);
	return eap_err_set(err, EAP_EFORMAT, "%s: %s", path, msg);
}

static int oom(struct eap_err *err)
{
	return eap_err_set(err, EAP_ENOMEM, "out of memory");
}

/* Read a text file into lines; blank lines and '#' comment lines are kept
 * as empty strings so that indices stay line numbers - 1. */
static int read_lines(const char *path, struct vec *lines, const char *from,
		      size_t from_line, struct eap_err *err)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		if (from)
			return eap_err_set(err, EAP_EIO, "%s:%zu: cannot open %s: %s",
					   from, from_line, path, strerror(errno));
		return eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
	}
	while ((len = getline(&buf, &cap, f)) >= 0) {
		char *s;
		if (memchr(buf, '\0', (size_t)len)) {
			free(buf);
			fclose(f);
			return perr(err, path, lines->n + 1, "NUL byte");
		}
		s = xstrdup(buf);
		if (!s || vec_push(lines, s) < 0) {
			free(s);
			free(buf);
			fclose(f);
			return oom(err);
		}
	}
	free(buf);
	if (ferror(f)) {
		fclose(f);
		return eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
	}
	fclose(f);
	return 0;
}

static void free_lines(struct vec *lines)
{
	for (size_t i = 0; i < lines->n; i++)
		free(lines->a[i]);
	free(lines->a);
	memset(lines, 0, sizeof(*lines));
}

/* Is a line blank or a comment? */
static int skip_line(const char *s)
{
	while (*s && is_space(*s))
		s++;
	return !*s || *s == '#';
}

static int parse_cell(struct cell *c, const char *raw, const char *path,
		      size_t line, struct eap_err *err)
{
	const char *p = raw;

	c->raw = xstrdup(raw);
	c->n_alt = 1;
	for (const char *q = raw; *q; q++)
		c->n_alt += *q == '|';
	c->alt = calloc(c->n_alt, sizeof(*c->alt));
	if (!c->raw || !c->alt) {
		c->n_alt = 0;
		return oom(err);
	}
	for (size_t a = 0; a < c->n_alt; a++) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == 0)
			return perr(err, path, line,
				    "empty alternative in \"%s\"", raw);
		if (!(c->alt[a] = xstrndup(p, n)))
			return oom(err);
		p = bar ? bar + 1 : p + n;
	}
	return 0;
}

/* list NAME FILE [COLUMN ...] */
static int parse_list(struct eap_task_impl *m, const char *dir, char **w,
		      size_t nw, size_t line, struct eap_err *err)
{
	struct list *L;
	struct vec lines = {0}, words = {0};
	char *buf = NULL;
	int rc;

	if (nw < 3)
		return perr(err, m->path, line,
			    "expected: list NAME FILE [COLUMN ...]");
	if (find_list(m, w[1]) >= 0 || find_slot(m, w[1]) >= 0)
		return perr(err, m->path, line, "name \"%s\" declared twice",
			    w[1]);
	L = realloc(m->lists, (m->n_lists + 1) * sizeof(*L));
	if (!L)
		return oom(err);
	m->lists = L;
	L = &m->lists[m->n_lists++];
	memset(L, 0, sizeof(*L));
	L->name = xstrdup(w[1]);
	L->path = join(dir, w[2]);
	L->n_cols = nw > 3 ? nw - 3 : 1;
	L->cols = calloc(L->n_cols, sizeof(*L->cols));
	if (!L->name || !L->path || !L->cols)
		return oom(err);
	for (size_t c = 0; c < L->n_cols; c++) {
		if (!(L->cols[c] = xstrdup(nw > 3 ? w[3 + c] : "word")))
			return oom(err);
		for (size_t d = 0; d < c; d++)
			if (strcmp(L->cols[d], L->cols[c]) == 0)
				return perr(err, m->path, line,
					    "column \"%s\" declared twice",
					    L->cols[c]);
	}
	if ((rc = read_lines(L->path, &lines, m->path, line, err)) < 0)
		goto out;
	for (size_t i = 0; i < lines.n; i++) {
		struct cell *cells;
		if (skip_line(lines.a[i]))
			continue;
		free(buf);
		if ((rc = split_words(lines.a[i], 0, &buf, &words)) < 0) {
			rc = oom(err);
			goto out;
		}
		if (words.n != L->n_cols) {
			struct eap_sbuf cols = {0};
			for (size_t c = 0; c < L->n_cols; c++)
				if (eap_sbuf_puts(&cols, c ? " " : "") < 0 ||
				    eap_sbuf_puts(&cols, L->cols[c]) < 0)
					break;
			rc = perr(err, L->path, i + 1,
				  "%zu fields, expected %zu (%s)", words.n,
				  L->n_cols, cols.s ? cols.s : "");
			free(cols.s);
			goto out;
		}
		cells = realloc(L->cells,
				(L->n_rows + 1) * L->n_cols * sizeof(*cells));
		if (!cells) {
			rc = oom(err);
			goto out;
		}
		L->cells = cells;
		memset(cells + L->n_rows * L->n_cols, 0,
		       L->n_cols * sizeof(*cells));
		L->n_rows++;
		for (size_t c = 0; c < L->n_cols; c++)
			if ((rc = parse_cell(&cells[(L->n_rows - 1) * L->n_cols + c],
					     words.a[c], L->path, i + 1, err)) < 0)
				goto out;
	}
	if (L->n_rows == 0)
		rc = perr(err, L->path, 0, "empty list");
out:
	free(buf);
	free(words.a);
	free_lines(&lines);
	return rc;
}

/* The slot named name, created if new. */
static long add_slot(struct eap_task_impl *m, const char *name,
		     struct eap_err *err)
{
	long s = find_slot(m, name);
	size_t n = m->n_slots + 1;
	char **names;
	int *a, *b, *c, *d;

	if (s >= 0)
		return s;
	names = realloc(m->slot_names, n * sizeof(*names));
	if (names)
		m->slot_names = names;
	a = realloc(m->slot_list, n * sizeof(int));
	if (a)
		m->slot_list = a;
	b = realloc(m->slot_rendered, n * sizeof(int));
	if (b)
		m->slot_rendered = b;
	c = realloc(m->slot_decl[0], n * sizeof(int));
	if (c)
		m->slot_decl[0] = c;
	d = realloc(m->slot_decl[1], n * sizeof(int));
	if (d)
		m->slot_decl[1] = d;
	if (!names || !a || !b || !c || !d)
		return oom(err);
	if (!(m->slot_names[m->n_slots] = xstrdup(name)))
		return oom(err);
	m->slot_list[m->n_slots] = -2; /* no declaration yet */
	m->slot_rendered[m->n_slots] = 0;
	m->slot_decl[0][m->n_slots] = 0;
	m->slot_decl[1][m->n_slots] = 0;
	return (long)m->n_slots++;
}

/* [train:|test:] var NAME = LIST|one of WORD ... [except VAR ...] */
static int parse_var(struct eap_task_impl *m, char **w, size_t nw, int split,
		     size_t line, struct eap_err *err)
{
	struct decl *D;
	size_t i, end = nw;
	long s;
	int list = -1;

	if (nw < 4 || strcmp(w[2], "="))
		return perr(err, m->path, line,
			    "expected: var NAME = LIST [except VAR ...] or "
			    "var NAME = one of WORD ... [except VAR ...]");
	if (find_list(m, w[1]) >= 0)
		return perr(err, m->path, line,
			    "\"%s\" is already the name of a list", w[1]);
	if (strchr(w[1], '.') || strchr(w[1], '$') || strchr(w[1], '{') ||
	    strchr(w[1], '}') || strchr(w[1], '>'))
		return perr(err, m->path, line,
			    "bad variable name \"%s\" (no . $ { } >)", w[1]);
	for (i = 3; i < nw; i++)
		if (strcmp(w[i], "except") == 0) {
			end = i;
			break;
		}
	if (strcmp(w[3], "one") == 0) {
		if (end < 6 || strcmp(w[4], "of"))
			return perr(err, m->path, line,
				    "expected: var NAME = one of WORD ...");
	} else {
		if (end != 4)
			return perr(err, m->path, line,
				    "expected one list after \"=\" (or \"one "
				    "of WORD ...\")");
		if ((list = find_list(m, w[3])) < 0)
			return perr(err, m->path, line, "unknown list \"%s\"",
				    w[3]);
	}
	if ((s = add_slot(m, w[1], err)) < 0)
		return (int)s;
	for (int sp = 0; sp < 2; sp++)
		if ((split < 0 || split == sp) && m->slot_decl[sp][s])
			return perr(err, m->path, line,
				    "variable \"%s\" declared twice%s", w[1],
				    split < 0 ? "" :
				    split ? " for the test split" :
					    " for the train split");
	if (m->slot_list[s] != -2 && m->slot_list[s] != list)
		return perr(err, m->path, line,
			    "variable \"%s\" must draw from the same list in "
			    "both splits",
			    w[1]);
	D = realloc(m->decls, (m->n_decls + 1) * sizeof(*D));
	if (!D)
		return oom(err);
	m->decls = D;
	D = &m->decls[m->n_decls++];
	memset(D, 0, sizeof(*D));
	D->slot = (size_t)s;
	D->split = split;
	D->list = list;
	D->line = line;
	m->slot_list[s] = list;
	for (int sp = 0; sp < 2; sp++)
		if (split < 0 || split == sp)
			m->slot_decl[sp][s] = 1;
	if (list < 0) {
		D->n_words = end - 5;
		D->words = calloc(D->n_words, sizeof(*D->words));
		if (!D->words)
			return oom(err);
		for (i = 0; i < D->n_words; i++)
			if (!(D->words[i] = xstrdup(w[5 + i])))
				return oom(err);
	}
	if (end < nw) {
		D->n_except = nw - end - 1;
		if (D->n_except == 0)
			return perr(err, m->path, line,
				    "\"except\" needs variable names");
		D->except = calloc(D->n_except, sizeof(*D->except));
		if (!D->except)
			return oom(err);
		for (i = 0; i < D->n_except; i++) {
			long e = find_slot(m, w[end + 1 + i]);
			/* a slot is usable once declared for this split */
			if (e < 0 || e == s ||
			    !m->slot_decl[split < 0 ? 0 : split][e] ||
			    (split < 0 && !m->slot_decl[1][e]))
				return perr(err, m->path, line,
					    "except: \"%s\" is not a variable "
					    "declared above",
					    w[end + 1 + i]);
			D->except[i] = (size_t)e;
		}
	}
	return 0;
}

/*
 * Parse "var", "var.col" or "var.$other" into r.  Returns 0, or a negative
 * code with the problem (without location) in msg.
 */
static int parse_ref(const struct eap_task_impl *m, const char *text,
		     struct ref *r, char *msg, size_t size)
{
	const char *dot = strchr(text, '.');
	size_t n = dot ? (size_t)(dot - text) : strlen(text);
	char name[256];
	long s;
	int list;

	if (n == 0 || n >= sizeof(name)) {
		snprintf(msg, size, "bad slot {%s}", text);
		return EAP_EFORMAT;
	}
	memcpy(name, text, n);
	name[n] = '\0';
	s = find_slot(m, name);
	if (s < 0) {
		snprintf(msg, size, "unknown slot {%s}", text);
		return EAP_EFORMAT;
	}
	r->slot = (size_t)s;
	r->col = 0;
	r->colvar = 0;
	list = m->slot_list[s];
	if (!dot)
		return 0;
	if (list < 0) {
		snprintf(msg, size,
			 "{%s}: \"%s\" is a word, not a list row with columns",
			 text, name);
		return EAP_EFORMAT;
	}
	if (dot[1] == '$') {
		long cv = find_slot(m, dot + 2);
		const struct list *L = &m->lists[list];
		if (cv < 0) {
			snprintf(msg, size, "unknown variable \"%s\" in {%s}",
				 dot + 2, text);
			return EAP_EFORMAT;
		}
		/* a `one of` selector must only name existing columns */
		for (size_t d = 0; d < m->n_decls; d++) {
			const struct decl *D = &m->decls[d];
			if (D->slot != (size_t)cv || D->list >= 0)
				continue;
			for (size_t k = 0; k < D->n_words; k++)
				if (find_col(L, D->words[k]) < 0) {
					snprintf(msg, size,
						 "{%s}: list %s has no column "
						 "\"%s\"",
						 text, L->name, D->words[k]);
					return EAP_EFORMAT;
				}
		}
		r->col = -1;
		r->colvar = (size_t)cv;
		return 0;
	}
	r->col = find_col(&m->lists[list], dot + 1);
	if (r->col < 0) {
		snprintf(msg, size, "list %s has no column \"%s\" in {%s}",
			 m->lists[list].name, dot + 1, text);
		return EAP_EFORMAT;
	}
	return 0;
}

/* Parse a template file: words and {slot} / {clean>corrupted} slots. */
static int parse_tfile(struct eap_task_impl *m, const char *dir,
		       const char *file, size_t from_line, struct tfile *tf,
		       struct eap_err *err)
{
	struct vec lines = {0}, words = {0};
	char *buf = NULL, msg[512];
	int rc;

	tf->path = join(dir, file);
	if (!tf->path)
		return oom(err);
	if ((rc = read_lines(tf->path, &lines, m->path, from_line, err)) < 0)
		goto out;
	for (size_t i = 0; i < lines.n; i++) {
		struct template *T;
		if (skip_line(lines.a[i]))
			continue;
		free(buf);
		if (split_words(lines.a[i], 0, &buf, &words) < 0) {
			rc = oom(err);
			goto out;
		}
		T = realloc(tf->t, (tf->n + 1) * sizeof(*T));
		if (!T) {
			rc = oom(err);
			goto out;
		}
		tf->t = T;
		T = &tf->t[tf->n++];
		T->n = 0;
		T->line = i + 1;
		T->w = calloc(words.n, sizeof(*T->w));
		if (!T->w) {
			rc = oom(err);
			goto out;
		}
		for (size_t k = 0; k < words.n; k++) {
			char *s = words.a[k];
			size_t n = strlen(s);
			struct word *W = &T->w[T->n++];
			char *gt;

			if (s[0] != '{') {
				if (strchr(s, '{') || strchr(s, '}')) {
					rc = perr(err, tf->path, i + 1,
						  "slot in \"%s\" must be a "
						  "separate word",
						  s);
					goto out;
				}
				if (!(W->text = xstrdup(s))) {
					rc = oom(err);
					goto out;
				}
				continue;
			}
			if (strchr(s, '}') && strchr(s, '}') != s + n - 1) {
				rc = perr(err, tf->path, i + 1,
					  "slot in \"%s\" must be a separate "
					  "word",
					  s);
				goto out;
			}
			if (n < 3 || s[n - 1] != '}' || strchr(s + 1, '{')) {
				rc = perr(err, tf->path, i + 1,
					  "bad slot \"%s\" (expected {var}, "
					  "{var.column} or {clean>corrupted})",
					  s);
				goto out;
			}
			s[n - 1] = '\0';
			s++;
			gt = strchr(s, '>');
			if (gt)
				*gt = '\0';
			if (parse_ref(m, s, &W->clean, msg, sizeof(msg)) < 0 ||
			    (gt && parse_ref(m, gt + 1, &W->corr, msg,
					     sizeof(msg)) < 0)) {
				rc = perr(err, tf->path, i + 1, "%s", msg);
				goto out;
			}
			if (!gt)
				W->corr = W->clean;
			m->slot_rendered[W->clean.slot] = 1;
			m->slot_rendered[W->corr.slot] = 1;
		}
	}
	if (tf->n == 0)
		rc = perr(err, tf->path, 0, "no templates");
out:
	free(buf);
	free(words.a);
	free_lines(&lines);
	return rc;
}

/* answer TERM ... / foil TERM ... */
static int parse_labels(struct eap_task_impl *m, char **w, size_t nw,
			struct labels *lab, size_t line, struct eap_err *err)
{
	char msg[512];

	if (nw < 2)
		return perr(err, m->path, line, "%s: expected TERM ...", w[0]);
	lab->t = calloc(nw, sizeof(*lab->t));
	if (!lab->t)
		return oom(err);
	for (size_t i = 1; i < nw; i++) {
		struct term *T = &lab->t[lab->n++];
		const char *dot = strchr(w[i], '.');
		size_t n = dot ? (size_t)(dot - w[i]) : strlen(w[i]);
		char name[256];
		int list;

		if (n == 0 || n >= sizeof(name))
			return perr(err, m->path, line, "bad term \"%s\"", w[i]);
		memcpy(name, w[i], n);
		name[n] = '\0';
		if (find_slot(m, name) >= 0) {
			T->kind = TERM_REF;
			if (parse_ref(m, w[i], &T->ref, msg, sizeof(msg)) < 0)
				return perr(err, m->path, line, "%s", msg);
			m->slot_rendered[T->ref.slot] = 1;
			continue;
		}
		if ((list = find_list(m, name)) < 0)
			return perr(err, m->path, line,
				    "%s: \"%s\" is neither a variable nor a list",
				    w[0], name);
		T->list = list;
		if (i + 2 < nw && (strcmp(w[i + 1], "<") == 0 ||
				       strcmp(w[i + 1], "<=") == 0 ||
				       strcmp(w[i + 1], ">") == 0 ||
				       strcmp(w[i + 1], ">=") == 0)) {
			long s = find_slot(m, w[i + 2]);
			if (dot)
				return perr(err, m->path, line,
					    "%s: compare the list %s, not a "
					    "column of it",
					    w[0], name);
			if (s < 0)
				return perr(err, m->path, line,
					    "%s: \"%s\" is not a variable",
					    w[0], w[i + 2]);
			T->kind = TERM_RANGE;
			T->op = w[i + 1][0] == '<' ? (w[i + 1][1] ? OP_LE : OP_LT)
						   : (w[i + 1][1] ? OP_GE : OP_GT);
			T->slot = (size_t)s;
			i += 2;
			continue;
		}
		T->kind = TERM_COLUMN;
		T->col = 0;
		if (dot && dot[1] == '$') {
			long cv = find_slot(m, dot + 2);
			if (cv < 0)
				return perr(err, m->path, line,
					    "%s: unknown variable \"%s\"", w[0],
					    dot + 2);
			T->col = -1;
			T->colvar = (size_t)cv;
		} else if (dot) {
			T->col = find_col(&m->lists[list], dot + 1);
			if (T->col < 0)
				return perr(err, m->path, line,
					    "list %s has no column \"%s\"", name,
					    dot + 1);
		}
	}
	return 0;
}

/* holdout FRACTION [unordered] KEY ... */
static int parse_holdout(struct eap_task_impl *m, char **w, size_t nw,
			 size_t line, struct eap_err *err)
{
	char *end;
	size_t i = 2;

	if (m->has_holdout)
		return perr(err, m->path, line, "holdout declared twice");
	if (nw < 3)
		return perr(err, m->path, line,
			    "expected: holdout FRACTION [unordered] KEY ...");
	m->holdout = strtod(w[1], &end);
	if (*end || !(m->holdout > 0.0 && m->holdout < 1.0))
		return perr(err, m->path, line,
			    "holdout fraction \"%s\" is not in (0, 1)", w[1]);
	if (strcmp(w[2], "unordered") == 0) {
		m->unordered = 1;
		i = 3;
	}
	if (i >= nw)
		return perr(err, m->path, line, "holdout needs key variables");
	if (nw - i > MAX_KEY)
		return perr(err, m->path, line,
			    "holdout: at most %d key variables", MAX_KEY);
	m->key = calloc(nw - i, sizeof(*m->key));
	if (!m->key)
		return oom(err);
	for (; i < nw; i++) {
		long s = strcmp(w[i], "template") == 0 ? -1 : find_slot(m, w[i]);
		if (s < 0 && strcmp(w[i], "template"))
			return perr(err, m->path, line,
				    "holdout: \"%s\" is not a variable (or "
				    "\"template\")",
				    w[i]);
		m->key[m->n_key++] = s;
	}
	m->has_holdout = 1;
	return 0;
}

/* train SOURCE WEIGHT */
static int parse_train(struct eap_task_impl *m, const char *dir, char **w,
		       size_t nw, size_t line, struct eap_err *err)
{
	struct source *S;
	char *end;
	double wt;

	if (nw != 3)
		return perr(err, m->path, line,
			    "expected: train clean|corrupted-either|"
			    "corrupted-foil|FILE WEIGHT");
	wt = strtod(w[2], &end);
	if (*end || !(wt >= 0.0) || !isfinite(wt))
		return perr(err, m->path, line, "bad weight \"%s\"", w[2]);
	S = realloc(m->src, (m->n_src + 1) * sizeof(*S));
	if (!S)
		return oom(err);
	m->src = S;
	S = &m->src[m->n_src++];
	memset(S, 0, sizeof(*S));
	S->weight = wt;
	S->file.n = 0;
	if (strcmp(w[1], "clean") == 0)
		S->kind = SRC_CLEAN;
	else if (strcmp(w[1], "corrupted-either") == 0)
		S->kind = SRC_EITHER;
	else if (strcmp(w[1], "corrupted-foil") == 0)
		S->kind = SRC_FOIL;
	else {
		S->kind = SRC_FILE;
		return parse_tfile(m, dir, w[1], line, &S->file, err);
	}
	return 0;
}

static int parse_task(struct eap_task_impl *m, const char *dir,
		      struct eap_err *err)
{
	struct vec lines = {0}, words = {0};
	char *buf = NULL;
	int rc;

	if ((rc = read_lines(m->path, &lines, NULL, 0, err)) < 0)
		goto out;
	for (size_t i = 0; i < lines.n && rc == 0; i++) {
		size_t line = i + 1, nw;
		char **w;
		int split = -1;

		free(buf);
		if (split_words(lines.a[i], 1, &buf, &words) < 0) {
			rc = oom(err);
			goto out;
		}
		w = (char **)words.a;
		nw = words.n;
		if (nw == 0)
			continue;
		if (strcmp(w[0], "train:") == 0 || strcmp(w[0], "test:") == 0) {
			split = w[0][1] == 'r' ? EAP_SPLIT_TRAIN : EAP_SPLIT_TEST;
			w++;
			nw--;
			if (nw == 0 || strcmp(w[0], "var")) {
				rc = perr(err, m->path, line,
					  "only \"var\" lines take a split "
					  "prefix");
				goto out;
			}
		}
		if (strcmp(w[0], "list") == 0) {
			rc = parse_list(m, dir, w, nw, line, err);
		} else if (strcmp(w[0], "var") == 0) {
			rc = parse_var(m, w, nw, split, line, err);
		} else if (strcmp(w[0], "template") == 0) {
			if (nw != 2)
				rc = perr(err, m->path, line,
					  "expected: template FILE");
			else if (m->has_template)
				rc = perr(err, m->path, line,
					  "template declared twice");
			else {
				m->has_template = 1;
				rc = parse_tfile(m, dir, w[1], line, &m->prompts,
						 err);
			}
		} else if (strcmp(w[0], "answer") == 0 ||
			   strcmp(w[0], "foil") == 0) {
			int a = w[0][0] == 'a';
			if (a ? m->has_answer : m->has_foil)
				rc = perr(err, m->path, line,
					  "%s declared twice", w[0]);
			else
				rc = parse_labels(m, w, nw,
						  a ? &m->answer : &m->foil,
						  line, err);
			if (a)
				m->has_answer = 1;
			else
				m->has_foil = 1;
		} else if (strcmp(w[0], "holdout") == 0) {
			rc = parse_holdout(m, w, nw, line, err);
		} else if (strcmp(w[0], "train") == 0) {
			rc = parse_train(m, dir, w, nw, line, err);
		} else if (strcmp(w[0], "noise") == 0) {
			char *end = NULL;
			if (nw == 2)
				m->noise = strtod(w[1], &end);
			if (nw != 2 || *end || !(m->noise >= 0.0 && m->noise <= 1.0))
				rc = perr(err, m->path, line,
					  "expected: noise P (0 <= P <= 1)");
		} else {
			rc = perr(err, m->path, line, "unknown directive \"%s\"",
				  w[0]);
		}
	}
out:
	free(buf);
	free(words.a);
	free_lines(&lines);
	return rc;
}

/* Whole-task checks once every line is read. */
static int validate(struct eap_task *task, struct eap_err *err)
{
	struct eap_task_impl *m = task->impl;
	int any = m->has_template || m->has_answer || m->has_foil ||
		  m->has_holdout;
	double total = 0.0;

	for (size_t s = 0; s < m->n_slots; s++)
		for (int sp = 0; sp < 2; sp++)
			if (!m->slot_decl[sp][s])
				return perr(err, m->path, 0,
					    "variable \"%s\" has no declaration "
					    "for the %s split",
					    m->slot_names[s],
					    sp ? "test" : "train");
	if (any) {
		const char *miss = !m->has_template ? "template" :
				   !m->has_answer   ? "answer" :
				   !m->has_foil     ? "foil" :
				   !m->has_holdout  ? "holdout" : NULL;
		if (miss)
			return perr(err, m->path, 0,
				    "prompts need template, answer, foil and "
				    "holdout; \"%s\" is missing",
				    miss);
		task->has_prompts = 1;
	}
	if (m->n_src == 0) {
		if (!task->has_prompts)
			return perr(err, m->path, 0,
				    "nothing to generate: no template and no "
				    "\"train FILE WEIGHT\" line");
		m->src = calloc(1, sizeof(*m->src));
		if (!m->src)
			return oom(err);
		m->src[0].kind = SRC_CLEAN;
		m->src[0].weight = 1.0;
		m->n_src = 1;
	}
	for (size_t i = 0; i < m->n_src; i++) {
		if (m->src[i].kind != SRC_FILE && !task->has_prompts)
			return perr(err, m->path, 0,
				    "train sources clean/corrupted-* need a "
				    "template, answer and foil");
		total += m->src[i].weight;
	}
	if (!(total > 0.0))
		return perr(err, m->path, 0, "all train weights are zero");
	return 0;
}

static int cmp_slot(const void *a, const void *b)
{
	return strcmp(**(char **const *)a, **(char **const *)b);
}

/* Make equal words the same pointer (see struct eap_task_impl). */
static int intern(struct eap_task_impl *m, struct eap_err *err)
{
	struct vec slots = {0};
	size_t k = 0;
	int rc = 0;

	for (size_t l = 0; l < m->n_lists && rc == 0; l++) {
		struct list *L = &m->lists[l];
		for (size_t i = 0; i < L->n_rows * L->n_cols && rc == 0; i++) {
			rc = vec_push(&slots, &L->cells[i].raw);
			for (size_t a = 0; a < L->cells[i].n_alt && rc == 0; a++)
				rc = vec_push(&slots, &L->cells[i].alt[a]);
		}
	}
	for (size_t d = 0; d < m->n_decls && rc == 0; d++)
		for (size_t w = 0; w < m->decls[d].n_words && rc == 0; w++)
			rc = vec_push(&slots, &m->decls[d].words[w]);
	if (rc == 0 && slots.n) {
		m->interned = calloc(slots.n, sizeof(*m->interned));
		if (!m->interned)
			rc = EAP_ENOMEM;
	}
	if (rc < 0) {
		free(slots.a);
		return oom(err);
	}
	/* from here on the table owns every word (impl_free's rule) */
	if (slots.n) /* qsort(NULL, 0, ...) is undefined (found by fuzzing) */
		qsort(slots.a, slots.n, sizeof(*slots.a), cmp_slot);
	for (size_t i = 0; i < slots.n; i++) {
		char **slot = slots.a[i];
		if (k && strcmp(*slot, m->interned[k - 1]) == 0) {
			free(*slot);
			*slot = m->interned[k - 1];
		} else {
			m->interned[k++] = *slot;
		}
	}
	m->n_interned = k;
	free(slots.a);
	return 0;
}

int eap_task_load(struct eap_task *task, const char *dir, struct eap_err *err)
{
	struct eap_task_impl *m;
	size_t d = strlen(dir);
	const char *base;
	int rc;

	memset(task, 0, sizeof(*task));
	while (d > 1 && dir[d - 1] == '/')
		d--;
	task->dir = xstrndup(dir, d);
	if (!task->dir)
		return oom(err);
	base = strrchr(task->dir, '/');
	task->name = xstrdup(base ? base + 1 : task->dir);
	m = task->impl = calloc(1, sizeof(*m));
	if (!task->name || !m) {
		eap_task_release(task);
		return oom(err);
	}
	m->path = join(task->dir, "task.txt");
	if (!m->path) {
		eap_task_release(task);
		return oom(err);
	}
	if ((rc = parse_task(m, task->dir, err)) < 0 ||
	    (rc = validate(task, err)) < 0 || (rc = intern(m, err)) < 0) {
		eap_task_release(task);
		return rc;
	}
	return 0;
}

/* ---- generation ----------------------------------------------------------- */

/* The value of a slot in one example: a list row or a word. */
struct value {
	size_t row;           /* list row, or index into the decl's words */
	const char *word;     /* the word, for `one of` slots */
};

struct example {
	struct value *v;      /* (n_slots) */
	size_t tpl;           /* prompt template */
	struct vec ans, foil; /* const char * words, borrowed from the task */
};

/* The primary string of a slot: first column's raw field, or the word. */
static const char *primary(const struct eap_task_impl *m,
			   const struct example *ex, size_t slot)
{
	int l = m->slot_list[slot];

	if (l < 0)
		return ex->v[slot].word;
	return m->lists[l].cells[ex->v[slot].row * m->lists[l].n_cols].raw;
}

/* The cell a reference points at, or NULL with an error. */
static const struct cell *ref_cell(const struct eap_task_impl *m,
				   const struct example *ex,
				   const struct ref *r, struct cell *tmp,
				   struct eap_err *err)
{
	int l = m->slot_list[r->slot], col = r->col;
	const struct list *L;

	if (l < 0) {
		/* a `one of` word: a one-alternative cell on the stack */
		tmp->raw = (char *)ex->v[r->slot].word;
		tmp->n_alt = 1;
		tmp->alt = &tmp->raw;
		return tmp;
	}
	L = &m->lists[l];
	if (col < 0) {
		const char *name = primary(m, ex, r->colvar);
		col = find_col(L, name);
		if (col < 0) {
			perr(err, m->path, 0,
			     "list %s has no column \"%s\" (the value of %s)",
			     L->name, name, m->slot_names[r->colvar]);
			return NULL;
		}
	}
	return &L->cells[ex->v[r->slot].row * L->n_cols + (size_t)col];
}

/* The primary string of value k of a declaration. */
static const char *decl_value(const struct eap_task_impl *m,
			      const struct decl *D, size_t k)
{
	const struct list *L;

	if (D->list < 0)
		return D->words[k];
	L = &m->lists[D->list];
	return L->cells[k * L->n_cols].raw;
}

/* Draw the declarations of split, in order. */
static int draw_vars(const struct eap_task_impl *m, int split,
		     struct eap_rng *rng, struct example *ex,
		     struct eap_err *err)
{
	for (size_t d = 0; d < m->n_decls; d++) {
		const struct decl *D = &m->decls[d];
		size_t n = D->list >= 0 ? m->lists[D->list].n_rows : D->n_words;
		size_t ok = 0, pick = 0, k;

		if (D->split >= 0 && D->split != split)
			continue;
		/* uniform over the values differing from every except slot */
		for (int pass = 0; pass < 2; pass++) {
			size_t seen = 0;
			if (pass == 1) {
				if (ok == 0)
					return perr(err, m->path, D->line,
						    "no value of \"%s\" differs "
						    "from its except variables",
						    m->slot_names[D->slot]);
				pick = (size_t)eap_rng_below(rng, ok);
			}
			for (k = 0; k < n; k++) {
				const char *val = decl_value(m, D, k);
				size_t e;
				for (e = 0; e < D->n_except; e++)
					if (val == primary(m, ex, D->except[e]))
						break;
				if (e < D->n_except)
					continue;
				if (pass == 1 && seen == pick) {
					ex->v[D->slot].row = k;
					ex->v[D->slot].word =
						D->list >= 0 ? NULL : D->words[k];
					break;
				}
				seen++;
			}
			ok = seen;
		}
	}
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Which split the example's holdout key falls in: FNV-1a over the key's
 * values (separated by 0x1f) and splitmix64's finaliser, compared with the
 * holdout fraction.  A hash, not a draw, so no seed can leak a key. */
static int key_split(const struct eap_task_impl *m, const struct example *ex)
{
	const char *vals[MAX_KEY];
	char tbuf[32];
	uint64_t h = 0xcbf29ce484222325ULL;

	snprintf(tbuf, sizeof(tbuf), "%zu", ex->tpl);
	for (size_t k = 0; k < m->n_key; k++)
		vals[k] = m->key[k] < 0 ? tbuf : primary(m, ex, (size_t)m->key[k]);
	if (m->unordered)
		qsort(vals, m->n_key, sizeof(*vals), cmp_cstr);
	for (size_t k = 0; k < m->n_key; k++) {
		if (k) {
			h ^= 0x1f;
			h *= 0x100000001b3ULL;
		}
		for (const char *c = vals[k]; *c; c++) {
			h ^= (unsigned char)*c;
			h *= 0x100000001b3ULL;
		}
	}
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (double)(h >> 11) * 0x1.0p-53 < m->holdout ? EAP_SPLIT_TEST
							  : EAP_SPLIT_TRAIN;
}

/* Append an interned word unless present. */
static int push_unique(struct vec *v, const char *w)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->a[i] == w)
			return 0;
	return vec_push(v, (void *)w);
}

/* Evaluate a label rule into out (unique words, in rule order). */
static int eval_labels(const struct eap_task_impl *m, const struct labels *lab,
		       const struct example *ex, struct vec *out,
		       struct eap_err *err)
{
	out->n = 0;
	for (size_t i = 0; i < lab->n; i++) {
		const struct term *T = &lab->t[i];
		const struct list *L = T->kind == TERM_REF ? NULL : &m->lists[T->list];
		struct cell tmp;

		if (T->kind == TERM_REF) {
			const struct cell *c = ref_cell(m, ex, &T->ref, &tmp, err);
			if (!c)
				return EAP_EFORMAT;
			for (size_t a = 0; a < c->n_alt; a++)
				if (push_unique(out, c->alt[a]) < 0)
					return oom(err);
		} else if (T->kind == TERM_COLUMN) {
			int col = T->col;
			if (col < 0 &&
			    (col = find_col(L, primary(m, ex, T->colvar))) < 0)
				return perr(err, m->path, 0,
					    "list %s has no column \"%s\"",
					    L->name, primary(m, ex, T->colvar));
			for (size_t r = 0; r < L->n_rows; r++) {
				const struct cell *c = &L->cells[r * L->n_cols + (size_t)col];
				for (size_t a = 0; a < c->n_alt; a++)
					if (push_unique(out, c->alt[a]) < 0)
						return oom(err);
			}
		} else {
			const char *val = primary(m, ex, T->slot);
			size_t pos;
			for (pos = 0; pos < L->n_rows; pos++)
				if (L->cells[pos * L->n_cols].raw == val)
					break;
			if (pos == L->n_rows)
				return perr(err, m->path, 0,
					    "value \"%s\" of %s is not in list %s",
					    val, m->slot_names[T->slot], L->name);
			for (size_t r = 0; r < L->n_rows; r++) {
				int in = T->op == OP_LT ? r < pos :
					 T->op == OP_LE ? r <= pos :
					 T->op == OP_GT ? r > pos : r >= pos;
				const struct cell *c = &L->cells[r * L->n_cols];
				for (size_t a = 0; in && a < c->n_alt; a++)
					if (push_unique(out, c->alt[a]) < 0)
						return oom(err);
			}
		}
	}
	return 0;
}

/*
 * Draw one example of split: variables, a prompt template, and (for tasks
 * with prompts) a holdout key in split and disjoint non-empty labels.
 */
static int draw_example(const struct eap_task *task, int split,
			struct eap_rng *rng, struct example *ex,
			struct eap_err *err)
{
	const struct eap_task_impl *m = task->impl;
	int rc;

	for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		int ks, overlap = 0;

		if ((rc = draw_vars(m, split, rng, ex, err)) < 0)
			return rc;
		if (!task->has_prompts)
			return 0;
		ex->tpl = (size_t)eap_rng_below(rng, m->prompts.n);
		ks = key_split(m, ex);
		if (ks != split)
			continue;
		if ((rc = eval_labels(m, &m->answer, ex, &ex->ans, err)) < 0 ||
		    (rc = eval_labels(m, &m->foil, ex, &ex->foil, err)) < 0)
			return rc;
		for (size_t i = 0; i < ex->ans.n && !overlap; i++)
			for (size_t j = 0; j < ex->foil.n && !overlap; j++)
				overlap = ex->ans.a[i] == ex->foil.a[j];
		if (ex->ans.n && ex->foil.n && !overlap)
			return 0;
	}
	return perr(err, m->path, 0,
		    "no %s example in %d draws: the split is empty, or the "
		    "answers and foils always overlap",
		    split ? "test" : "train", MAX_ATTEMPTS);
}

/* Render a template's clean (which = 0) and corrupted (1) text. */
static int render(const struct eap_task_impl *m, const struct template *T,
		  const struct example *ex, struct eap_rng *rng,
		  struct eap_sbuf *clean, struct eap_sbuf *corr, struct eap_err *err)
{
	clean->len = 0;
	if (corr)
		corr->len = 0;
	if (eap_sbuf_puts(clean, "") < 0 || (corr && eap_sbuf_puts(corr, "") < 0))
		return oom(err);
	for (size_t k = 0; k < T->n; k++) {
		const struct word *W = &T->w[k];
		const char *a, *b;
		struct cell t1, t2;

		if (W->text) {
			a = b = W->text;
		} else {
			const struct cell *c1 = ref_cell(m, ex, &W->clean, &t1, err);
			const struct cell *c2 = ref_cell(m, ex, &W->corr, &t2, err);
			if (!c1 || !c2)
				return EAP_EFORMAT;
			a = c1->alt[c1->n_alt > 1 ? eap_rng_below(rng, c1->n_alt) : 0];
			if (c2 == c1 || (c2->raw == c1->raw))
				b = a; /* same value: the same alternative */
			else
				b = c2->alt[c2->n_alt > 1 ? eap_rng_below(rng, c2->n_alt) : 0];
		}
		if (eap_sbuf_puts(clean, k ? " " : "") < 0 || eap_sbuf_puts(clean, a) < 0)
			return oom(err);
		if (corr && (eap_sbuf_puts(corr, k ? " " : "") < 0 || eap_sbuf_puts(corr, b) < 0))
			return oom(err);
	}
	return 0;
}

static void example_free(struct example *ex)
{
	free(ex->v);
	free(ex->ans.a);
	free(ex->foil.a);
}

static int example_init(const struct eap_task_impl *m, struct example *ex,
			struct eap_err *err)
{
	memset(ex, 0, sizeof(*ex));
	ex->v = calloc(m->n_slots + 1, sizeof(*ex->v));
	return ex->v ? 0 : oom(err);
}

/* Join words with "|" into b. */
static int join_bar(struct eap_sbuf *b, const struct vec *v)
{
	b->len = 0;
	if (eap_sbuf_puts(b, "") < 0)
		return EAP_ENOMEM;
	for (size_t i = 0; i < v->n; i++)
		if (eap_sbuf_puts(b, i ? "|" : "") < 0 || eap_sbuf_puts(b, v->a[i]) < 0)
			return EAP_ENOMEM;
	return 0;
}

int eap_task_pairs(const struct eap_task *task, enum eap_split split,
		   size_t n, struct eap_rng *rng, struct eap_pairs *out,
		   struct eap_err *err)
{
	const struct eap_task_impl *m = task->impl;
	struct example ex;
	struct eap_sbuf clean = {0}, corr = {0}, ans = {0}, foil = {0};
	int rc = 0;

	if (!task->has_prompts)
		return perr(err, m->path, 0,
			    "no template, answer and foil: a corpus-only task");
	if ((rc = example_init(m, &ex, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = draw_example(task, (int)split, rng, &ex, err)) < 0 ||
		    (rc = render(m, &m->prompts.t[ex.tpl], &ex, rng, &clean,
				 &corr, err)) < 0)
			break;
		if (join_bar(&ans, &ex.ans) < 0 || join_bar(&foil, &ex.foil) < 0) {
			rc = oom(err);
			break;
		}
		if ((rc = eap_pairs_append(out, clean.s, corr.s, ans.s, foil.s,
					   NULL, err)) < 0)
			break;
	}
	example_free(&ex);
	free(clean.s);
	free(corr.s);
	free(ans.s);
	free(foil.s);
	return rc;
}

int eap_task_sentence(const struct eap_task *task, struct eap_rng *rng,
		      char **sentence, struct eap_err *err)
{
	const struct eap_task_impl *m = task->impl;
	const struct source *S = NULL;
	struct example ex;
	struct eap_sbuf clean = {0}, corr = {0}, *text;
	double total = 0.0, u, acc = 0.0;
	const char *last = NULL;
	int rc;

	*sentence = NULL;
	for (size_t i = 0; i < m->n_src; i++)
		total += m->src[i].weight;
	u = eap_rng_uniform(rng) * total;
	for (size_t i = 0; i < m->n_src; i++) {
		if (m->src[i].weight <= 0.0)
			continue;
		S = &m->src[i];
		acc += m->src[i].weight;
		if (u < acc)
			break;
	}
	if ((rc = example_init(m, &ex, err)) < 0)
		return rc;
	if ((rc = draw_example(task, EAP_SPLIT_TRAIN, rng, &ex, err)) < 0)
		goto out;
	if (S->kind == SRC_FILE) {
		size_t t = (size_t)eap_rng_below(rng, S->file.n);
		rc = render(m, &S->file.t[t], &ex, rng, &clean, NULL, err);
	} else {
		rc = render(m, &m->prompts.t[ex.tpl], &ex, rng, &clean, &corr,
			    err);
	}
	if (rc < 0)
		goto out;
	switch (S->kind) {
	case SRC_CLEAN:
		if (m->noise > 0.0 && eap_rng_uniform(rng) < m->noise)
			last = ex.foil.a[eap_rng_below(rng, ex.foil.n)];
		else
			last = ex.ans.a[eap_rng_below(rng, ex.ans.n)];
		text = &clean;
		break;
	case SRC_EITHER: {
		/* predicts neither: an answer or a foil, uniformly */
		size_t k = (size_t)eap_rng_below(rng, ex.ans.n + ex.foil.n);
		last = k < ex.ans.n ? ex.ans.a[k] : ex.foil.a[k - ex.ans.n];
		text = &corr;
		break;
	}
	case SRC_FOIL:
		/* the corrupted prompt's own answer, e.g. "the man ... he" */
		last = ex.foil.a[eap_rng_below(rng, ex.foil.n)];
		text = &corr;
		break;
	default:
		text = &clean;
		break;
	}
	if (last && (eap_sbuf_puts(text, " ") < 0 || eap_sbuf_puts(text, last) < 0)) {
		rc = oom(err);
		goto out;
	}
	*sentence = text->s;
	text->s = NULL;
out:
	example_free(&ex);
	free(clean.s);
	free(corr.s);
	return rc;
}

/* ---- vocabulary ----------------------------------------------------------- */

static int add_tfile_words(const struct tfile *f, struct vec *v)
{
	for (size_t i = 0; i < f->n; i++)
		for (size_t k = 0; k < f->t[i].n; k++)
			if (f->t[i].w[k].text &&
			    vec_push(v, f->t[i].w[k].text) < 0)
				return EAP_ENOMEM;
	return 0;
}

/* Sort borrowed words, drop duplicates, and copy them out. */
static int sorted_copy(struct vec *v, char ***words, size_t *n,
		       struct eap_err *err)
{
	size_t k = 0;
	char **out;

	if (v->n)
		qsort(v->a, v->n, sizeof(*v->a), cmp_cstr);
	out = calloc(v->n + 1, sizeof(*out));
	if (!out)
		return oom(err);
	for (size_t i = 0; i < v->n; i++) {
		if (k && strcmp(out[k - 1], v->a[i]) == 0)
			continue;
		if (!(out[k++] = xstrdup(v->a[i]))) {
			eap_words_free(out, k);
			return oom(err);
		}
	}
	*words = out;
	*n = k;
	return 0;
}

static int collect_words(const struct eap_task *task, struct vec *v)
{
	const struct eap_task_impl *m = task->impl;

	if (add_tfile_words(&m->prompts, v) < 0)
		return EAP_ENOMEM;
	for (size_t i = 0; i < m->n_src; i++)
		if (add_tfile_words(&m->src[i].file, v) < 0)
			return EAP_ENOMEM;
	for (size_t l = 0; l < m->n_lists; l++) {
		const struct list *L = &m->lists[l];
		for (size_t c = 0; c < L->n_rows * L->n_cols; c++)
			for (size_t a = 0; a < L->cells[c].n_alt; a++)
				if (vec_push(v, L->cells[c].alt[a]) < 0)
					return EAP_ENOMEM;
	}
	/* `one of` words only where they are printed, not column selectors */
	for (size_t d = 0; d < m->n_decls; d++)
		if (m->slot_rendered[m->decls[d].slot])
			for (size_t k = 0; k < m->decls[d].n_words; k++)
				if (vec_push(v, m->decls[d].words[k]) < 0)
					return EAP_ENOMEM;
	return 0;
}

int eap_task_vocab(const struct eap_task *task, char ***words, size_t *n,
		   struct eap_err *err)
{
	struct vec v = {0};
	int rc;

	if (collect_words(task, &v) < 0)
		rc = oom(err);
	else
		rc = sorted_copy(&v, words, n, err);
	free(v.a);
	return rc;
}

void eap_words_free(char **words, size_t n)
{
	if (!words)
		return;
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
}

/* ---- task sets ------------------------------------------------------------ */

void eap_taskset_release(struct eap_taskset *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++)
		eap_task_release(&ts->tasks[i]);
	free(ts->tasks);
	free(ts->weight);
	memset(ts, 0, sizeof(*ts));
}

static int load_mix(struct eap_taskset *ts, const char *dir, const char *path,
		    struct eap_err *err)
{
	struct vec lines = {0}, words = {0};
	char *buf = NULL;
	double total = 0.0;
	int rc, *seen = calloc(ts->n + 1, sizeof(int));

	if (!seen)
		return oom(err);
	if ((rc = read_lines(path, &lines, NULL, 0, err)) < 0)
		goto out;
	for (size_t i = 0; i < lines.n; i++) {
		char **w, *end;
		size_t t;
		double wt;

		free(buf);
		if (split_words(lines.a[i], 1, &buf, &words) < 0) {
			rc = oom(err);
			goto out;
		}
		if (words.n == 0)
			continue;
		w = (char **)words.a;
		if (words.n != 2) {
			rc = perr(err, path, i + 1, "expected: TASK WEIGHT");
			goto out;
		}
		for (t = 0; t < ts->n; t++)
			if (strcmp(ts->tasks[t].name, w[0]) == 0)
				break;
		if (t == ts->n) {
			rc = perr(err, path, i + 1,
				  "no task folder \"%s\" (with a task.txt) in %s",
				  w[0], dir);
			goto out;
		}
		if (seen[t]++) {
			rc = perr(err, path, i + 1, "task \"%s\" listed twice",
				  w[0]);
			goto out;
		}
		wt = strtod(w[1], &end);
		if (*end || !(wt >= 0.0) || !isfinite(wt)) {
			rc = perr(err, path, i + 1, "bad weight \"%s\"", w[1]);
			goto out;
		}
		ts->weight[t] = wt;
		total += wt;
	}
	if (!(total > 0.0)) {
		rc = perr(err, path, 0, "no task has a positive weight");
		goto out;
	}
	for (size_t t = 0; t < ts->n; t++)
		ts->weight[t] /= total;
	ts->has_mix = 1;
out:
	free(seen);
	free(buf);
	free(words.a);
	free_lines(&lines);
	return rc;
}

int eap_taskset_load(struct eap_taskset *ts, const char *dir,
		     const char *mix_path, struct eap_err *err)
{
	DIR *d;
	struct dirent *e;
	struct vec names = {0};
	int rc = 0;

	memset(ts, 0, sizeof(*ts));
	d = opendir(dir);
	if (!d)
		return eap_err_set(err, EAP_EIO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		struct stat st;
		char *sub, *file;
		if (e->d_name[0] == '.')
			continue;
		sub = join(dir, e->d_name);
		file = sub ? join(sub, "task.txt") : NULL;
		if (!file) {
			free(sub);
			rc = oom(err);
			break;
		}
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			if (vec_push(&names, sub) < 0) {
				free(sub);
				free(file);
				rc = oom(err);
				break;
			}
		} else {
			free(sub);
		}
		free(file);
	}
	closedir(d);
	if (rc == 0 && names.n == 0)
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: no task folders (subfolders with a "
				 "task.txt)",
				 dir);
	if (rc < 0)
		goto out;
	/* readdir order is arbitrary; sort for reproducible output */
	qsort(names.a, names.n, sizeof(*names.a), cmp_cstr);
	ts->tasks = calloc(names.n, sizeof(*ts->tasks));
	ts->weight = calloc(names.n, sizeof(*ts->weight));
	if (!ts->tasks || !ts->weight) {
		rc = oom(err);
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		if ((rc = eap_task_load(&ts->tasks[i], names.a[i], err)) < 0)
			goto out;
		ts->n++;
	}
	if (mix_path)
		rc = load_mix(ts, dir, mix_path, err);
out:
	for (size_t i = 0; i < names.n; i++)
		free(names.a[i]);
	free(names.a);
	if (rc < 0)
		eap_taskset_release(ts);
	return rc;
}

int eap_taskset_corpus(const struct eap_taskset *ts, size_t n,
		       struct eap_rng *rng, FILE *out, struct eap_err *err)
{
	if (!ts->has_mix)
		return eap_err_set(err, EAP_EINVAL,
				   "a corpus needs mix weights");
	for (size_t i = 0; i < n; i++) {
		double u = eap_rng_uniform(rng), acc = 0.0;
		size_t t = 0, last = 0;
		char *s;
		int rc;

		for (t = 0; t < ts->n; t++) {
			if (ts->weight[t] <= 0.0)
				continue;
			last = t;
			acc += ts->weight[t];
			if (u < acc)
				break;
		}
		if (t == ts->n)
			t = last; /* rounding: the sum of weights fell short of u */
		if ((rc = eap_task_sentence(&ts->tasks[t], rng, &s, err)) < 0)
			return rc;
		fputs(s, out);
		putc('\n', out);
		free(s);
		if (ferror(out))
			return eap_err_set(err, EAP_EIO, "write error: %s",
					   strerror(errno));
	}
	return 0;
}

int eap_taskset_vocab(const struct eap_taskset *ts, char ***words, size_t *n,
		      struct eap_err *err)
{
	struct vec v = {0};
	char **sorted = NULL, **out;
	size_t ns = 0;
	int rc = 0;

	for (size_t t = 0; t < ts->n && rc == 0; t++)
		if (collect_words(&ts->tasks[t], &v) < 0)
			rc = oom(err);
	if (rc == 0)
		rc = sorted_copy(&v, &sorted, &ns, err);
	free(v.a);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ns; i++)
		if (strcmp(sorted[i], "<bos>") == 0) {
			eap_words_free(sorted, ns);
			return eap_err_set(err, EAP_EFORMAT,
					   "the word \"<bos>\" is reserved for "
					   "the BOS token");
		}
	out = realloc(sorted, (ns + 1) * sizeof(*out));
	if (!out) {
		eap_words_free(sorted, ns);
		return oom(err);
	}
	memmove(out + 1, out, ns * sizeof(*out));
	out[0] = xstrdup("<bos>");
	if (!out[0]) {
		eap_words_free(out, ns + 1);
		return oom(err);
	}
	*words = out;
	*n = ns + 1;
	return 0;
}
