/*
 * test_tokenizer.c - the tokenizers of SPEC §3 against gpt-3-encoder@1.1.4.
 *
 * Fixtures: tests/fixtures/tokenizer/<task>.ids and strings.jsonl, written
 * by tests/reference/gpt2_tokenize.js from the paper's CSVs copied into
 * tests/fixtures/paper-data/ (see that script for how to regenerate);
 * tests/fixtures/tokenizer/word/ is a small hand-written word-level vocab.
 * The GPT-2 files are the committed data/tokenizers/gpt2/.
 */
#include <cJSON.h>
#include <csv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eap/tokenizer.h"
#include "test_util.h"

#define GPT2_DIR "data/tokenizers/gpt2"
#define GPT2_EOT 50256

static const char *const TASKS[] = {
	"ioi", "greater-than", "gender-bias", "sva", "fact-retrieval-comma",
	"hypernymy-comma",
};
#define N_TASKS (sizeof(TASKS) / sizeof(TASKS[0]))

/* ---- helpers ------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert(buf != NULL);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void load_gpt2(struct eap_tokenizer *tok)
{
	struct eap_err err = { 0 };
	int rc = eap_tokenizer_load(tok, GPT2_DIR, &err);

	ck_assert_msg(rc == 0, "load %s: %s", GPT2_DIR, err.msg);
}

/* A CSV file as rows of fields (row 0 is the header). */
struct table {
	char ***rows; /* (n_rows, n_cols) NUL-terminated fields */
	size_t n_rows, n_cols, cap;
	char **cur;   /* row being parsed */
	size_t cur_n;
};

static void table_field(void *s, size_t n, void *data)
{
	struct table *t = data;
	char *f = malloc(n + 1);

	ck_assert(f != NULL);
	memcpy(f, s, n);
	f[n] = '\0';
	t->cur = realloc(t->cur, (t->cur_n + 1) * sizeof(*t->cur));
	t->cur[t->cur_n++] = f;
}

static void table_row(int c, void *data)
{
	struct table *t = data;

	(void)c;
	if (t->n_rows == 0)
		t->n_cols = t->cur_n;
	ck_assert_msg(t->cur_n == t->n_cols, "row %zu has %zu fields, not %zu",
		      t->n_rows + 1, t->cur_n, t->n_cols);
	if (t->n_rows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->rows = realloc(t->rows, t->cap * sizeof(*t->rows));
	}
	t->rows[t->n_rows++] = t->cur;
	t->cur = NULL;
	t->cur_n = 0;
}

static void table_read(struct table *t, const char *path)
{
	struct csv_parser p;
	size_t len;
	char *buf = slurp(path, &len);

	memset(t, 0, sizeof(*t));
	ck_assert(csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) == 0);
	ck_assert_msg(csv_parse(&p, buf, len, table_field, table_row, t) == len,
		      "%s: %s", path, csv_strerror(csv_error(&p)));
	csv_fini(&p, table_field, table_row, t);
	csv_free(&p);
	free(buf);
}

static size_t table_col(const struct table *t, const char *name)
{
	for (size_t j = 0; j < t->n_cols; j++)
		if (!strcmp(t->rows[0][j], name))
			return j;
	ck_abort_msg("no column %s", name);
	return 0;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->n_rows; i++) {
		for (size_t j = 0; j < t->n_cols; j++)
			free(t->rows[i][j]);
		free(t->rows[i]);
	}
	free(t->rows);
}

/* Parse space-separated ids from s up to end into ids; returns the count. */
static size_t parse_ids(const char *s, const char *end, int32_t *ids,
			size_t cap)
{
	size_t n = 0;

	while (s < end) {
		char *e;
		long v = strtol(s, &e, 10);
		if (e == s)
			break;
		ck_assert(n < cap);
		ids[n++] = (int32_t)v;
		s = e;
		while (s < end && *s == ' ')
			s++;
	}
	return n;
}

/* The reference ids of one CSV row: clean and corrupted. */
struct ref_row {
	int32_t clean[128], corrupted[128];
	size_t n_clean, n_corrupted;
};

/* Read tests/fixtures/tokenizer/<task>.ids; returns the row count. */
static size_t read_ref(const char *task, struct ref_row **out)
{
	char path[256];
	char *buf, *p;
	size_t n = 0, cap = 0;
	struct ref_row *rows = NULL;

	snprintf(path, sizeof(path), FIXTURE("tokenizer/%s.ids"), task);
	buf = slurp(path, NULL);
	for (p = buf; *p;) {
		char *eol = strchr(p, '\n');
		char *tab;
		ck_assert_msg(eol != NULL, "%s: last line lacks a newline", path);
		if (*p != '#') {
			tab = memchr(p, '\t', (size_t)(eol - p));
			ck_assert_msg(tab != NULL, "%s: line without a tab", path);
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				rows = realloc(rows, cap * sizeof(*rows));
			}
			rows[n].n_clean = parse_ids(p, tab, rows[n].clean, 128);
			rows[n].n_corrupted =
				parse_ids(tab + 1, eol, rows[n].corrupted, 128);
			n++;
		}
		p = eol + 1;
	}
	free(buf);
	*out = rows;
	return n;
}

static int ids_equal(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
	return na == nb && (na == 0 || !memcmp(a, b, na * sizeof(*a)));
}

static size_t encode_ok(const struct eap_tokenizer *tok, const char *text,
			int bos, int32_t **ids)
{
	struct eap_err err = { 0 };
	size_t n;
	int rc = eap_tokenizer_encode(tok, text, bos, ids, &n, &err);

	ck_assert_msg(rc == 0, "encode \"%s\": %s", text, err.msg);
	return n;
}

static int32_t single_ok(const struct eap_tokenizer *tok, const char *text)
{
	struct eap_err err = { 0 };
	int32_t id = -1;
	int rc = eap_tokenizer_single(tok, text, &id, &err);

	ck_assert_msg(rc == 0, "single \"%s\": %s", text, err.msg);
	return id;
}

/* A scratch directory for the bad-input tests, removed by tmp_clean. */
struct tmpdir {
	char path[64];
	char files[8][64];
	int n;
};

static void tmp_make(struct tmpdir *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->path, "/tmp/eap-tok-XXXXXX");
	ck_assert(mkdtemp(d->path) != NULL);
}

static void tmp_write(struct tmpdir *d, const char *name, const char *data,
		      size_t len)
{
	char path[160];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	f = fopen(path, "wb");
	ck_assert(f != NULL);
	ck_assert_int_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	for (i = 0; i < d->n; i++)
		if (!strcmp(d->files[i], name))
			return;
	ck_assert(d->n < 8);
	snprintf(d->files[d->n++], sizeof(d->files[0]), "%s", name);
}

static void tmp_puts(struct tmpdir *d, const char *name, const char *text)
{
	tmp_write(d, name, text, strlen(text));
}

static void tmp_clean(struct tmpdir *d)
{
	char path[160];

	for (int i = 0; i < d->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", d->path, d->files[i]);
		unlink(path);
	}
	rmdir(d->path);
}

/* Load must fail with code and a message containing each of the needles. */
static void expect_load_error(const char *dir, int code, const char *n1,
			      const char *n2)
{
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	int rc = eap_tokenizer_load(&tok, dir, &err);

	ck_assert_msg(rc == code, "load %s: rc %d, want %d (%s)", dir, rc, code,
		      err.msg);
	ck_assert_msg(strstr(err.msg, n1) != NULL, "\"%s\" lacks \"%s\"",
		      err.msg, n1);
	ck_assert_msg(!n2 || strstr(err.msg, n2) != NULL, "\"%s\" lacks \"%s\"",
		      err.msg, n2);
	ck_assert_msg(strchr(err.msg, '\n') == NULL, "multi-line: %s", err.msg);
	ck_assert(tok.impl == NULL);
	eap_tokenizer_release(&tok); /* safe after a failed load */
}

/* ---- GPT-2 BPE ----------------------------------------------------------- */

START_TEST(test_gpt2_load)
{
	struct eap_tokenizer tok = { 0 };
	clock_t t0 = clock();
	double secs;
	size_t len;
	const char *p;

	load_gpt2(&tok);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	printf("tokenizer: GPT-2 vocabulary loaded in %.3f s\n", secs);
	ck_assert_msg(secs < 1.0, "loading took %.3f s", secs);
	ck_assert_int_eq(tok.kind, EAP_TOKENIZER_BPE);
	ck_assert_uint_eq(tok.n_vocab, 50257);
	/* no config.json beside it: the vocabulary's <|endoftext|> */
	ck_assert_int_eq(tok.bos_id, GPT2_EOT);
	ck_assert_str_eq(eap_tokenizer_piece(&tok, GPT2_EOT), "<|endoftext|>");
	ck_assert_str_eq(eap_tokenizer_piece(&tok, 5335), " Mary");
	ck_assert_str_eq(eap_tokenizer_piece(&tok, 0), "!");
	ck_assert_ptr_null(eap_tokenizer_piece(&tok, -1));
	ck_assert_ptr_null(eap_tokenizer_piece(&tok, 50257));
	/* the byte-to-unicode map: id 188 is "Ā", the byte 0 */
	p = eap_tokenizer_piece_n(&tok, 188, &len);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(p[0], 0);
	/* every piece of a byte token is one byte */
	for (int32_t id = 0; id < 256; id++) {
		eap_tokenizer_piece_n(&tok, id, &len);
		ck_assert_msg(len == 1, "piece %d has %zu bytes", id, len);
	}
	eap_tokenizer_release(&tok);
	eap_tokenizer_release(&tok); /* twice is safe */
}
END_TEST

/* Every clean and corrupted prompt of the six paper CSVs. */
START_TEST(test_gpt2_paper_prompts)
{
	const char *task = TASKS[_i];
	struct eap_tokenizer tok = { 0 };
	struct table t;
	struct ref_row *ref;
	char path[256];
	size_t n_ref, ok_clean = 0, ok_corr = 0, first_bad = 0;
	size_t ci, ki;

	load_gpt2(&tok);
	snprintf(path, sizeof(path), FIXTURE("paper-data/%s/gpt2.csv"), task);
	table_read(&t, path);
	n_ref = read_ref(task, &ref);
	ck_assert_msg(n_ref == t.n_rows - 1, "%s: %zu fixture rows, %zu CSV rows",
		      task, n_ref, t.n_rows - 1);
	ci = table_col(&t, "clean");
	ki = table_col(&t, "corrupted");
	for (size_t r = 0; r < n_ref; r++) {
		int32_t *a, *b;
		size_t na = encode_ok(&tok, t.rows[r + 1][ci], 0, &a);
		size_t nb = encode_ok(&tok, t.rows[r + 1][ki], 0, &b);
		int okc = ids_equal(a, na, ref[r].clean, ref[r].n_clean);
		int okk = ids_equal(b, nb, ref[r].corrupted, ref[r].n_corrupted);
		ok_clean += okc;
		ok_corr += okk;
		if ((!okc || !okk) && !first_bad)
			first_bad = r + 2;
		free(a);
		free(b);
	}
	printf("tokenizer: %s: clean %zu/%zu, corrupted %zu/%zu rows equal "
	       "gpt-3-encoder\n",
	       task, ok_clean, n_ref, ok_corr, n_ref);
	ck_assert_msg(ok_clean == n_ref && ok_corr == n_ref,
		      "%s: clean %zu/%zu, corrupted %zu/%zu match; first "
		      "mismatch on CSV line %zu",
		      task, ok_clean, n_ref, ok_corr, n_ref, first_bad);
	free(ref);
	table_free(&t);
	eap_tokenizer_release(&tok);
}
END_TEST

/*
 * Each task swaps equal-length parts (a name, a year, a noun), so clean and
 * corrupted prompts have the same token count in every row (SPEC §4 needs
 * it for batching); measured: it holds for all six tasks.
 */
START_TEST(test_gpt2_equal_lengths)
{
	const char *task = TASKS[_i];
	struct eap_tokenizer tok = { 0 };
	struct table t;
	size_t ci, ki, equal = 0, first_bad = 0;

	load_gpt2(&tok);
	char path[256];
	snprintf(path, sizeof(path), FIXTURE("paper-data/%s/gpt2.csv"), task);
	table_read(&t, path);
	ci = table_col(&t, "clean");
	ki = table_col(&t, "corrupted");
	for (size_t r = 1; r < t.n_rows; r++) {
		int32_t *a, *b;
		size_t na = encode_ok(&tok, t.rows[r][ci], 1, &a);
		size_t nb = encode_ok(&tok, t.rows[r][ki], 1, &b);
		ck_assert_int_eq(a[0], GPT2_EOT);
		equal += na == nb;
		if (na != nb && !first_bad)
			first_bad = r + 1;
		free(a);
		free(b);
	}
	printf("tokenizer: %s: %zu/%zu rows have equal clean/corrupted "
	       "lengths\n",
	       task, equal, t.n_rows - 1);
	ck_assert_msg(equal == t.n_rows - 1,
		      "%s: %zu/%zu rows equal; first unequal on CSV line %zu",
		      task, equal, t.n_rows - 1, first_bad);
	table_free(&t);
	eap_tokenizer_release(&tok);
}
END_TEST

/* Occurrences of word as a whole word (letters do not continue it). */
static int count_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	int c = 0;

	for (const char *p = strstr(s, word); p; p = strstr(p + 1, word)) {
		char after = p[n];
		if (!((after >= 'a' && after <= 'z') ||
		      (after >= 'A' && after <= 'Z')))
			c++;
	}
	return c;
}

/*
 * IOI: correct_idx is " " + the indirect object (named once in the clean
 * prompt), incorrect_idx " " + the subject (named twice; the corrupted
 * prompt replaces the second mention).
 */
START_TEST(test_gpt2_ioi_answers)
{
	struct eap_tokenizer tok = { 0 };
	struct table t;
	size_t ci, ki, io_col, s_col, ok = 0;

	load_gpt2(&tok);
	table_read(&t, FIXTURE("paper-data/ioi/gpt2.csv"));
	ci = table_col(&t, "clean");
	ki = table_col(&t, "corrupted");
	io_col = table_col(&t, "correct_idx");
	s_col = table_col(&t, "incorrect_idx");
	ck_assert_uint_eq(t.n_rows - 1, 1000);
	for (size_t r = 1; r < t.n_rows; r++) {
		int32_t io = (int32_t)atol(t.rows[r][io_col]);
		int32_t s = (int32_t)atol(t.rows[r][s_col]);
		const char *io_name = eap_tokenizer_piece(&tok, io);
		const char *s_name = eap_tokenizer_piece(&tok, s);
		ck_assert_ptr_nonnull(io_name);
		ck_assert_ptr_nonnull(s_name);
		ck_assert_msg(io_name[0] == ' ' && io_name[1] >= 'A' &&
				      io_name[1] <= 'Z',
			      "row %zu: piece \"%s\" is not \" Name\"", r,
			      io_name);
		ck_assert_int_eq(single_ok(&tok, io_name), io);
		ck_assert_int_eq(single_ok(&tok, s_name), s);
		/* the first mention follows "When" or "Then," without a space */
		ck_assert_msg(count_word(t.rows[r][ci], io_name + 1) == 1,
			      "row %zu: IO%s not once in \"%s\"", r, io_name,
			      t.rows[r][ci]);
		ck_assert_msg(count_word(t.rows[r][ci], s_name + 1) == 2,
			      "row %zu: S%s not twice in \"%s\"", r, s_name,
			      t.rows[r][ci]);
		ck_assert_msg(count_word(t.rows[r][ki], s_name + 1) == 1,
			      "row %zu: S%s not once in \"%s\"", r, s_name,
			      t.rows[r][ki]);
		ok++;
	}
	printf("tokenizer: ioi: %zu/1000 answer and foil ids are \" \" + the "
	       "prompt's names\n", ok);
	table_free(&t);
	eap_tokenizer_release(&tok);
}
END_TEST

/* The label ids of the other tasks, from their text columns. */
START_TEST(test_gpt2_other_answers)
{
	struct eap_tokenizer tok = { 0 };
	struct table t;
	int32_t he, she;

	load_gpt2(&tok);

	/*
	 * greater-than: correct_idx is the number YY of the start year (not a
	 * token id); the answers "00".."99" must each be one token.
	 */
	for (int yy = 0; yy < 100; yy++) {
		char text[3] = { (char)('0' + yy / 10), (char)('0' + yy % 10), 0 };
		ck_assert_str_eq(eap_tokenizer_piece(&tok, single_ok(&tok, text)),
				 text);
	}
	table_read(&t, FIXTURE("paper-data/greater-than/gpt2.csv"));
	for (size_t r = 1; r < t.n_rows; r++) {
		const char *clean = t.rows[r][table_col(&t, "clean")];
		const char *yy = strstr(clean, "year ") + 7;
		ck_assert_int_eq(atoi(t.rows[r][table_col(&t, "correct_idx")]),
				 (yy[0] - '0') * 10 + (yy[1] - '0'));
	}
	table_free(&t);

	/* gender: label 1 means the clean answer is " he", 0 " she" */
	he = single_ok(&tok, " he");
	she = single_ok(&tok, " she");
	table_read(&t, FIXTURE("paper-data/gender-bias/gpt2.csv"));
	for (size_t r = 1; r < t.n_rows; r++) {
		int label = atoi(t.rows[r][table_col(&t, "label")]);
		int32_t c = (int32_t)atol(t.rows[r][table_col(&t, "clean_answer_idx")]);
		int32_t k = (int32_t)atol(t.rows[r][table_col(&t, "corrupted_answer_idx")]);
		ck_assert_int_eq(c, label ? he : she);
		ck_assert_int_eq(k, label ? she : he);
	}
	table_free(&t);

	/* fact retrieval: country_idx is the first token of " " + country */
	table_read(&t, FIXTURE("paper-data/fact-retrieval-comma/gpt2.csv"));
	for (size_t r = 1; r < t.n_rows; r++) {
		static const char *const cols[2][2] = {
			{ "country", "country_idx" },
			{ "corrupted_country", "corrupted_country_idx" },
		};
		for (int j = 0; j < 2; j++) {
			char text[256];
			int32_t *ids;
			snprintf(text, sizeof(text), " %s",
				 t.rows[r][table_col(&t, cols[j][0])]);
			encode_ok(&tok, text, 0, &ids);
			ck_assert_int_eq(ids[0], atol(t.rows[r][table_col(&t, cols[j][1])]));
			free(ids);
		}
	}
	table_free(&t);

	/*
	 * hypernymy: answers_idx[i] is the first token of " " + answers[i];
	 * both columns are Python lists ("['gem', 'gems']", "[16840, 23685]").
	 */
	table_read(&t, FIXTURE("paper-data/hypernymy-comma/gpt2.csv"));
	for (size_t r = 1; r < t.n_rows; r++) {
		static const char *const cols[2][2] = {
			{ "answers", "answers_idx" },
			{ "corrupted_answers", "corrupted_answers_idx" },
		};
		for (int j = 0; j < 2; j++) {
			const char *a = t.rows[r][table_col(&t, cols[j][0])];
			const char *x = t.rows[r][table_col(&t, cols[j][1])] + 1;
			int n = 0;
			for (const char *q = strchr(a, '\''); q;
			     q = strchr(strchr(q + 1, '\'') + 1, '\'')) {
				const char *e = strchr(q + 1, '\'');
				char text[128], *end;
				int32_t *ids;
				long want = strtol(x, &end, 10);
				ck_assert(end != x);
				x = end + 1;
				snprintf(text, sizeof(text), " %.*s",
					 (int)(e - q - 1), q + 1);
				encode_ok(&tok, text, 0, &ids);
				ck_assert_int_eq(ids[0], want);
				free(ids);
				n++;
			}
			ck_assert_msg(n > 0, "row %zu: no answers in %s", r, a);
		}
	}
	table_free(&t);
	eap_tokenizer_release(&tok);
}
END_TEST

/*
 * SVA's answers are " verb" forms of combined_verb_list.csv; only pairs
 * whose singular and plural are both one token can serve (measured: 935
 * of 1950), so an importer must filter the list.
 */
START_TEST(test_gpt2_sva_verbs)
{
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	struct table t;
	size_t sing, plur, both = 0;

	load_gpt2(&tok);
	table_read(&t, FIXTURE("paper-data/sva/combined_verb_list.csv"));
	sing = table_col(&t, "sing");
	plur = table_col(&t, "plur");
	for (size_t r = 1; r < t.n_rows; r++) {
		char a[128], b[128];
		int32_t ia, ib;
		snprintf(a, sizeof(a), " %s", t.rows[r][sing]);
		snprintf(b, sizeof(b), " %s", t.rows[r][plur]);
		both += eap_tokenizer_single(&tok, a, &ia, &err) == 0 &&
			eap_tokenizer_single(&tok, b, &ib, &err) == 0;
	}
	printf("tokenizer: sva: %zu/%zu verb pairs are single tokens\n", both,
	       t.n_rows - 1);
	ck_assert_uint_eq(t.n_rows - 1, 1950);
	ck_assert_uint_eq(both, 935);
	table_free(&t);
	eap_tokenizer_release(&tok);
}
END_TEST

/* Edge cases of the regex and every answer string, vs gpt-3-encoder. */
START_TEST(test_gpt2_strings)
{
	struct eap_tokenizer tok = { 0 };
	char *buf = slurp(FIXTURE("tokenizer/strings.jsonl"), NULL);
	size_t n = 0, ok = 0;

	load_gpt2(&tok);
	for (char *p = buf, *eol; *p; p = eol + 1) {
		cJSON *a, *want;
		int32_t *ids;
		size_t k;
		eol = strchr(p, '\n');
		ck_assert(eol != NULL);
		*eol = '\0';
		a = cJSON_Parse(p);
		ck_assert_msg(a && cJSON_GetArraySize(a) == 2, "bad line %s", p);
		want = cJSON_GetArrayItem(a, 1);
		k = encode_ok(&tok, cJSON_GetArrayItem(a, 0)->valuestring, 0, &ids);
		int same = k == (size_t)cJSON_GetArraySize(want);
		for (size_t i = 0; same && i < k; i++)
			same = ids[i] == cJSON_GetArrayItem(want, (int)i)->valueint;
		ck_assert_msg(same, "ids of %s differ (we make %zu tokens)",
			      p, k);
		ok += same;
		n++;
		free(ids);
		cJSON_Delete(a);
	}
	printf("tokenizer: strings.jsonl: %zu/%zu edge cases and answer "
	       "strings equal gpt-3-encoder\n", ok, n);
	ck_assert_uint_gt(n, 4000);
	free(buf);
	eap_tokenizer_release(&tok);
}
END_TEST

/* Hugging Face names (vocab.json + merges.txt) give the same ids. */
START_TEST(test_gpt2_hf_layout)
{
	struct eap_tokenizer a = { 0 }, b = { 0 };
	struct eap_err err = { 0 };
	struct tmpdir d;
	size_t len;
	char *enc = slurp(GPT2_DIR "/encoder.json", NULL);
	char *bpe = slurp(GPT2_DIR "/vocab.bpe", &len);
	cJSON *j = cJSON_Parse(enc), *rev = cJSON_CreateObject();
	char *json;
	const char *texts[] = {
		"When Mary and John went to the store, John gave a drink to",
		"The war lasted from the year 1732 to the year 17",
		"I'm here  \n\tnow: caf\xc3\xa9 \xf0\x9f\x98\x80 12345",
	};

	/* re-serialise compactly in reverse key order, as a converter might */
	ck_assert_ptr_nonnull(j);
	for (cJSON *it = j->child->prev; it; it = it == j->child ? NULL : it->prev)
		cJSON_AddNumberToObject(rev, it->string, it->valuedouble);
	json = cJSON_PrintUnformatted(rev);
	tmp_make(&d);
	tmp_puts(&d, "vocab.json", json);
	tmp_write(&d, "merges.txt", bpe, len);
	load_gpt2(&a);
	ck_assert_msg(eap_tokenizer_load(&b, d.path, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(b.n_vocab, a.n_vocab);
	ck_assert_int_eq(b.bos_id, a.bos_id);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int32_t *x, *y;
		size_t nx = encode_ok(&a, texts[i], 1, &x);
		size_t ny = encode_ok(&b, texts[i], 1, &y);
		ck_assert_msg(ids_equal(x, nx, y, ny), "text %zu differs", i);
		free(x);
		free(y);
	}
	for (int32_t id = 0; id < (int32_t)a.n_vocab; id += 97)
		ck_assert_str_eq(eap_tokenizer_piece(&a, id),
				 eap_tokenizer_piece(&b, id));
	eap_tokenizer_release(&a);
	eap_tokenizer_release(&b);
	tmp_clean(&d);
	free(json);
	cJSON_Delete(j);
	cJSON_Delete(rev);
	free(enc);
	free(bpe);
}
END_TEST

/* config.json's bos_token_id wins over <|endoftext|>. */
START_TEST(test_gpt2_bos_config)
{
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	struct tmpdir d;
	size_t le, lb;
	char *enc = slurp(GPT2_DIR "/encoder.json", &le);
	char *bpe = slurp(GPT2_DIR "/vocab.bpe", &lb);
	int32_t *ids;

	tmp_make(&d);
	tmp_write(&d, "encoder.json", enc, le);
	tmp_write(&d, "vocab.bpe", bpe, lb);
	tmp_puts(&d, "config.json", "{\"n_layer\": 12, \"bos_token_id\": 42}");
	ck_assert_msg(eap_tokenizer_load(&tok, d.path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(tok.bos_id, 42);
	ck_assert_uint_eq(encode_ok(&tok, "Hi", 1, &ids), 2);
	ck_assert_int_eq(ids[0], 42);
	free(ids);
	eap_tokenizer_release(&tok);

	tmp_puts(&d, "config.json", "{\"bos_token_id\": 50257}");
	expect_load_error(d.path, EAP_EFORMAT, "config.json", "bos_token_id");
	tmp_puts(&d, "config.json", "{\"bos_token_id\": \"x\"}");
	expect_load_error(d.path, EAP_EFORMAT, "config.json", "bos_token_id");
	tmp_puts(&d, "config.json", "{\"bos_token_id\": 1,\n\n oops}");
	expect_load_error(d.path, EAP_EFORMAT, "config.json:3:", "invalid JSON");
	tmp_clean(&d);
	free(enc);
	free(bpe);
}
END_TEST

START_TEST(test_gpt2_single)
{
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	int32_t id = -7;

	load_gpt2(&tok);
	ck_assert_int_eq(single_ok(&tok, " Mary"), 5335);
	/* as in gpt-3-encoder, the text "<|endoftext|>" is not the special token */
	ck_assert_int_lt(eap_tokenizer_single(&tok, "<|endoftext|>", &id, &err), 0);
	ck_assert_str_eq(err.msg, "\"<|endoftext|>\" is 7 tokens, not one");
	ck_assert_int_lt(eap_tokenizer_single(&tok, " Mary Ann", &id, &err), 0);
	ck_assert_str_eq(err.msg, "\" Mary Ann\" is 2 tokens, not one");
	ck_assert_int_eq(id, -7);
	ck_assert_int_lt(eap_tokenizer_single(&tok, "", &id, &err), 0);
	ck_assert_str_eq(err.msg, "\"\" is 0 tokens, not one");
	eap_tokenizer_release(&tok);
}
END_TEST

START_TEST(test_gpt2_invalid_utf8)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "ab\x80", "invalid UTF-8 at byte 3" },          /* lone continuation */
		{ "caf\xc3", "invalid UTF-8 at byte 4" },         /* truncated */
		{ "x\xc0\xaf", "invalid UTF-8 at byte 2" },       /* overlong '/' */
		{ "\xed\xa0\x80", "invalid UTF-8 at byte 1" },    /* surrogate */
		{ "\xf4\x90\x80\x80", "invalid UTF-8 at byte 1" },/* > U+10FFFF */
		{ "ok \xff", "invalid UTF-8 at byte 4" },
	};
	struct eap_tokenizer tok = { 0 };

	load_gpt2(&tok);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eap_err err = { 0 };
		int32_t *ids = (int32_t *)&err;
		size_t n = 99;
		int rc = eap_tokenizer_encode(&tok, cases[i].text, 1, &ids, &n,
					      &err);
		ck_assert_int_eq(rc, EAP_EINVAL);
		ck_assert_str_eq(err.msg, cases[i].msg);
		ck_assert_ptr_null(ids);
		ck_assert_uint_eq(n, 0);
	}
	eap_tokenizer_release(&tok);
}
END_TEST

/* ---- bad tokenizer files ------------------------------------------------- */

START_TEST(test_bad_files)
{
	struct tmpdir d;
	char want[128];
	static const char enc_ok[] =
		"{\"a\": 0, \"b\": 1, \"ab\": 2, \"\\u0120\": 3}";

	/* nothing there: name the directory and what was looked for */
	expect_load_error("tests/fixtures/no-such-dir", EAP_EIO,
			  "tests/fixtures/no-such-dir: no tokenizer files",
			  "encoder.json + vocab.bpe, vocab.json + merges.txt, "
			  "vocab.txt");
	tmp_make(&d);
	expect_load_error(d.path, EAP_EIO, d.path, "no tokenizer files");

	/* half a pair */
	tmp_puts(&d, "encoder.json", enc_ok);
	snprintf(want, sizeof(want), "%s/vocab.bpe: missing", d.path);
	expect_load_error(d.path, EAP_EIO, want, "encoder.json needs it");

	/* malformed encoder.json */
	tmp_puts(&d, "vocab.bpe", "#version: 0.2\na b\n");
	tmp_puts(&d, "encoder.json", "{\"a\": 0,\n\"b\": 1,\n\"ab\" 2}");
	expect_load_error(d.path, EAP_EFORMAT, "encoder.json:3: invalid JSON",
			  NULL);
	tmp_puts(&d, "encoder.json", "[1, 2]");
	expect_load_error(d.path, EAP_EFORMAT, "encoder.json: expected a JSON "
			  "object", NULL);
	tmp_puts(&d, "encoder.json", "{}");
	expect_load_error(d.path, EAP_EFORMAT, "encoder.json: no tokens", NULL);
	tmp_puts(&d, "encoder.json", "{\"a\": 0, \"b\": \"1\"}");
	expect_load_error(d.path, EAP_EFORMAT, "token \"b\": id is not an "
			  "integer in 0..1", NULL);
	tmp_puts(&d, "encoder.json", "{\"a\": 0, \"b\": 1.5}");
	expect_load_error(d.path, EAP_EFORMAT, "token \"b\": id is not", NULL);
	tmp_puts(&d, "encoder.json", "{\"a\": 0, \"b\": 7}");
	expect_load_error(d.path, EAP_EFORMAT, "token \"b\": id is not", NULL);
	tmp_puts(&d, "encoder.json", "{\"a\": 0, \"b\": 0}");
	expect_load_error(d.path, EAP_EFORMAT, "encoder.json: id 0 used twice",
			  NULL);
	tmp_puts(&d, "encoder.json", "{\"a\": 0, \"a\": 1}");
	expect_load_error(d.path, EAP_EFORMAT, "duplicate token \"a\"", NULL);
	tmp_puts(&d, "encoder.json", "{\"a b\": 0}"); /* ' ' is not in the map */
	expect_load_error(d.path, EAP_EFORMAT, "token \"a b\" has a character "
			  "outside GPT-2's byte alphabet", NULL);

	tmp_puts(&d, "encoder.json", "{\"\xc4" "A\": 0}"); /* not UTF-8 */
	expect_load_error(d.path, EAP_EFORMAT, "token \"\\xc4" "A\" has a "
			  "character outside", NULL);

	/* malformed merges */
	tmp_puts(&d, "encoder.json", enc_ok);
	tmp_puts(&d, "vocab.bpe", "#version: 0.2\na b\nab\n");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.bpe:3: malformed merge "
			  "\"ab\"", NULL);
	tmp_puts(&d, "vocab.bpe", "a b c\n");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.bpe:1: malformed merge",
			  NULL);
	tmp_puts(&d, "vocab.bpe", "a b\n\na b\n");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.bpe:2: malformed merge "
			  "\"\"", NULL);
	tmp_puts(&d, "vocab.bpe", "a  b\n");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.bpe:1: malformed", NULL);
	tmp_puts(&d, "vocab.bpe", "a b\na b\n");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.bpe:2: duplicate merge "
			  "\"a b\"", NULL);
	tmp_write(&d, "vocab.bpe", "a \xc3\n", 4);
	expect_load_error(d.path, EAP_EFORMAT, "vocab.bpe:1: merge \"a "
			  "\\xc3\" has a character outside", NULL);

	/* a well-formed toy: "ab" merges; "b" alone is not a token pair */
	tmp_puts(&d, "vocab.bpe", "#version: 0.2\na b\n");
	{
		struct eap_tokenizer tok = { 0 };
		struct eap_err err = { 0 };
		int32_t *ids;
		size_t n;
		ck_assert_msg(eap_tokenizer_load(&tok, d.path, &err) == 0, "%s",
			      err.msg);
		ck_assert_int_eq(tok.bos_id, -1);
		n = encode_ok(&tok, "abab ab", 0, &ids);
		ck_assert_uint_eq(n, 4); /* "ab" "ab" " " "ab" */
		ck_assert_int_eq(ids[0], 2);
		ck_assert_int_eq(ids[2], 3);
		free(ids);
		/* a byte with no token: an error, not a crash */
		ck_assert_int_lt(eap_tokenizer_encode(&tok, "abc", 0, &ids, &n,
						      &err), 0);
		ck_assert_str_eq(err.msg, "BPE symbol \"c\" is not in the "
			       "vocabulary");
		/* BOS wanted but there is none */
		ck_assert_int_eq(eap_tokenizer_encode(&tok, "ab", 1, &ids, &n,
						      &err), EAP_EINVAL);
		ck_assert_msg(strstr(err.msg, "no BOS token") != NULL, "%s",
			      err.msg);
		eap_tokenizer_release(&tok);
	}
	tmp_clean(&d);
}
END_TEST

/* ---- word level ---------------------------------------------------------- */

#define WORD_DIR FIXTURE("tokenizer/word")

START_TEST(test_word_encode)
{
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	int32_t *ids;
	size_t n;
	int32_t mary, john;

	ck_assert_msg(eap_tokenizer_load(&tok, WORD_DIR, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(tok.kind, EAP_TOKENIZER_WORD);
	ck_assert_uint_eq(tok.n_vocab, 16);
	ck_assert_int_eq(tok.bos_id, 0); /* "<bos>" on line 1 */
	ck_assert_str_eq(eap_tokenizer_piece(&tok, 0), "<bos>");
	ck_assert_ptr_null(eap_tokenizer_piece(&tok, 16));
	mary = single_ok(&tok, "Mary");
	john = single_ok(&tok, "  John\t");
	ck_assert_str_eq(eap_tokenizer_piece(&tok, mary), "Mary");
	ck_assert_str_eq(eap_tokenizer_piece(&tok, john), "John");

	n = encode_ok(&tok, " When Mary  and\tJohn went to the store , John "
			    "gave a drink to\n", 1, &ids);
	ck_assert_uint_eq(n, 15);
	ck_assert_int_eq(ids[0], 0);
	ck_assert_int_eq(ids[2], mary);
	ck_assert_int_eq(ids[4], john);
	ck_assert_int_eq(ids[10], john);
	{
		static const int32_t want[15] = { 0, 1, 2, 3, 4, 5,  6, 7,
						   8, 9, 4, 10, 11, 12, 6 };
		ck_assert(ids_equal(ids, n, want, 15));
	}
	free(ids);
	ck_assert_uint_eq(encode_ok(&tok, "", 1, &ids), 1);
	free(ids);
	ck_assert_uint_eq(encode_ok(&tok, " \t ", 0, &ids), 0);
	free(ids);

	/* unknown words are named, quoted, and case matters */
	ck_assert_int_eq(eap_tokenizer_encode(&tok, "When mary and", 1, &ids,
					      &n, &err), EAP_EINVAL);
	ck_assert_str_eq(err.msg, "unknown word \"mary\"");
	ck_assert_int_lt(eap_tokenizer_encode(&tok, "Mary \"q\"", 1, &ids, &n,
					      &err), 0);
	ck_assert_str_eq(err.msg, "unknown word \"\\\"q\\\"\"");
	ck_assert_int_lt(eap_tokenizer_encode(&tok, "Mary \xc3(", 1, &ids, &n,
					      &err), 0);
	ck_assert_str_eq(err.msg, "invalid UTF-8 at byte 6");
	ck_assert_int_lt(eap_tokenizer_single(&tok, "Mary John", &mary, &err), 0);
	ck_assert_str_eq(err.msg, "\"Mary John\" is 2 tokens, not one");
	eap_tokenizer_release(&tok);
}
END_TEST

static struct eap_tokenizer load_word(struct tmpdir *d, const char *vocab,
				      const char *config)
{
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	char path[160];

	tmp_puts(d, "vocab.txt", vocab);
	snprintf(path, sizeof(path), "%s/config.json", d->path);
	unlink(path);
	if (config)
		tmp_puts(d, "config.json", config);
	ck_assert_msg(eap_tokenizer_load(&tok, d->path, &err) == 0, "%s",
		      err.msg);
	return tok;
}

/* SPEC §3: bos_token_id of config.json, else <|endoftext|>, else <bos>. */
START_TEST(test_word_bos)
{
	struct tmpdir d;
	struct eap_tokenizer tok;
	struct eap_err err = { 0 };
	int32_t *ids;
	size_t n;

	tmp_make(&d);
	tok = load_word(&d, "a\n<bos>\nb\n<|endoftext|>\n", "{\"bos_token_id\": 2}");
	ck_assert_int_eq(tok.bos_id, 2);
	eap_tokenizer_release(&tok);
	tok = load_word(&d, "a\n<bos>\nb\n<|endoftext|>\n", "{\"bos_token_id\": null}");
	ck_assert_int_eq(tok.bos_id, 3);
	eap_tokenizer_release(&tok);
	tok = load_word(&d, "a\n<bos>\nb\n<|endoftext|>\n", "{\"n_layer\": 2}");
	ck_assert_int_eq(tok.bos_id, 3);
	eap_tokenizer_release(&tok);
	tok = load_word(&d, "a\n<bos>\nb\n<|endoftext|>", NULL); /* no final \n */
	ck_assert_uint_eq(tok.n_vocab, 4);
	ck_assert_int_eq(tok.bos_id, 3);
	eap_tokenizer_release(&tok);
	tok = load_word(&d, "a\nb\n<bos>\n", NULL);
	ck_assert_int_eq(tok.bos_id, 2);
	ck_assert_uint_eq(encode_ok(&tok, "b a", 1, &ids), 3);
	ck_assert_int_eq(ids[0], 2);
	ck_assert_int_eq(ids[1], 1);
	ck_assert_int_eq(ids[2], 0);
	free(ids);
	eap_tokenizer_release(&tok);
	tok = load_word(&d, "a\r\nb\r\n", NULL); /* CRLF is tolerated */
	ck_assert_int_eq(tok.bos_id, -1);
	ck_assert_int_eq(single_ok(&tok, "b"), 1);
	ck_assert_int_eq(eap_tokenizer_encode(&tok, "a", 1, &ids, &n, &err),
			 EAP_EINVAL);
	ck_assert_msg(strstr(err.msg, "no BOS token") != NULL, "%s", err.msg);
	ck_assert_uint_eq(encode_ok(&tok, "a", 0, &ids), 1);
	free(ids);
	eap_tokenizer_release(&tok);
	tmp_clean(&d);
}
END_TEST

START_TEST(test_word_bad_vocab)
{
	struct tmpdir d;
	char want[160];

	tmp_make(&d);
	tmp_puts(&d, "vocab.txt", "a\nb\n\nc\n");
	snprintf(want, sizeof(want), "%s/vocab.txt:3: empty line", d.path);
	expect_load_error(d.path, EAP_EFORMAT, want, NULL);
	tmp_puts(&d, "vocab.txt", "a\nb\nc\n\n");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.txt:4: empty line", NULL);
	tmp_puts(&d, "vocab.txt", "a\nfoo\nb\nfoo\n");
	snprintf(want, sizeof(want),
		 "%s/vocab.txt:4: duplicate token \"foo\" (first on line 2)",
		 d.path);
	expect_load_error(d.path, EAP_EFORMAT, want, NULL);
	tmp_puts(&d, "vocab.txt", "a\nb c\n");
	expect_load_error(d.path, EAP_EFORMAT,
			  "vocab.txt:2: token \"b c\" contains white space", NULL);
	tmp_puts(&d, "vocab.txt", "a\n\xff\n");
	expect_load_error(d.path, EAP_EFORMAT,
			  "vocab.txt:2: invalid UTF-8 at byte 1", NULL);
	tmp_puts(&d, "vocab.txt", "");
	expect_load_error(d.path, EAP_EFORMAT, "vocab.txt: no tokens", NULL);
	tmp_puts(&d, "vocab.txt", "a\nb\n");
	tmp_puts(&d, "config.json", "{\"bos_token_id\": 2}");
	expect_load_error(d.path, EAP_EFORMAT,
			  "config.json: bos_token_id is not a token id in 0..1",
			  NULL);
	tmp_puts(&d, "config.json", "not json");
	expect_load_error(d.path, EAP_EFORMAT, "config.json:1: invalid JSON",
			  NULL);
	tmp_clean(&d);
}
END_TEST

void tokenizer_hf_tcases(Suite *s); /* test_tokenizer_hf.c */

Suite *tokenizer_suite(void)
{
	Suite *s = suite_create("tokenizer");
	TCase *gpt2 = tcase_create("gpt2");
	TCase *bad = tcase_create("bad-input");
	TCase *word = tcase_create("word");

	/* the paper CSVs under ASan take a few seconds each */
	tcase_set_timeout(gpt2, 120);
	tcase_add_test(gpt2, test_gpt2_load);
	tcase_add_loop_test(gpt2, test_gpt2_paper_prompts, 0, (int)N_TASKS);
	tcase_add_loop_test(gpt2, test_gpt2_equal_lengths, 0, (int)N_TASKS);
	tcase_add_test(gpt2, test_gpt2_ioi_answers);
	tcase_add_test(gpt2, test_gpt2_other_answers);
	tcase_add_test(gpt2, test_gpt2_sva_verbs);
	tcase_add_test(gpt2, test_gpt2_strings);
	tcase_add_test(gpt2, test_gpt2_hf_layout);
	tcase_add_test(gpt2, test_gpt2_bos_config);
	tcase_add_test(gpt2, test_gpt2_single);
	tcase_add_test(gpt2, test_gpt2_invalid_utf8);
	suite_add_tcase(s, gpt2);

	tcase_add_test(bad, test_bad_files);
	suite_add_tcase(s, bad);

	tcase_add_test(word, test_word_encode);
	tcase_add_test(word, test_word_bos);
	tcase_add_test(word, test_word_bad_vocab);
	suite_add_tcase(s, word);
	tokenizer_hf_tcases(s);
	return s;
}
