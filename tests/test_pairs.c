/*
 * test_pairs.c - the pairs CSV of SPEC §10: quoting round trip, one clear
 * error per kind of bad input (with file and line), token ids through the
 * word-level fixture tokenizer, and the import of the six paper CSVs with
 * the GPT-2 tokenizer (answer/foil sets of SPEC §7).
 *
 * Fixtures: tests/fixtures/paper-data/ (verbatim copies of the paper's
 * CSVs), tests/fixtures/tokenizer/word/ (a small word vocabulary), and the
 * committed data/tokenizers/gpt2/.  Bad-input files are written to a
 * temporary directory by the tests themselves.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/pairs.h"
#include "eap/tokenizer.h"
#include "test_util.h"

#define GPT2_DIR "data/tokenizers/gpt2"
#define WORD_DIR FIXTURE("tokenizer/word")

/* ---- helpers ------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/eap-test-pairs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write text to tmpdir/name; the path goes into path. */
static void write_file(const char *name, const char *text, char *path,
		       size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Reading text as pairs must fail with a message containing want. */
static void expect_read_error(const char *text, const char *want)
{
	char path[256], full[512];
	struct eap_pairs p = {0};
	struct eap_err err = {0};
	int rc;

	write_file("pairs.csv", text, path, sizeof(path));
	rc = eap_pairs_read(&p, path, &err);
	ck_assert_msg(rc < 0, "read of %s succeeded, expected \"%s\"", path,
		      want);
	snprintf(full, sizeof(full), "%s%s", path, want);
	ck_assert_msg(strstr(err.msg, full) != NULL,
		      "error \"%s\" does not contain \"%s\"", err.msg, full);
	ck_assert_ptr_null(p.clean);
	eap_pairs_release(&p);
}

/* ---- reading and writing ------------------------------------------------- */

START_TEST(test_roundtrip_quoting)
{
	static const char *const rows[][5] = {
		{"When Mary and John went to the store, John gave a drink to",
		 "When Mary and John went to the store, Kate gave a drink to",
		 " Mary", " John|#14235", "plain"},
		{"She said \"hello, world\" to", "He said \"bye\" to",
		 " him| her", "#1|#2", "with \"quotes\", commas"},
		{"two\nlines", "two\nlines too", "x", "y", ""},
		{" leading space", "trailing space ", "\"q\"", "a,b", " e "},
	};
	const char *extra_names[] = {"note"};
	struct eap_pairs p = {0}, q = {0};
	struct eap_err err = {0};
	char path[256];
	FILE *f;

	make_tmpdir();
	ck_assert_int_eq(eap_pairs_set_extra(&p, 1, extra_names, &err), 0);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(eap_pairs_append(&p, rows[i][0], rows[i][1],
						  rows[i][2], rows[i][3],
						  &rows[i][4], &err),
				 0);
	snprintf(path, sizeof(path), "%s/pairs.csv", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(eap_pairs_write(&p, f, &err), 0);
	ck_assert_int_eq(fclose(f), 0);

	ck_assert_msg(eap_pairs_read(&q, path, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(q.n, 4);
	ck_assert_uint_eq(q.n_extra, 1);
	ck_assert_str_eq(q.extra_names[0], "note");
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(q.clean[i], rows[i][0]);
		ck_assert_str_eq(q.corrupted[i], rows[i][1]);
		ck_assert_str_eq(q.answers[i], rows[i][2]);
		ck_assert_str_eq(q.foils[i], rows[i][3]);
		ck_assert_str_eq(q.extra[i], rows[i][4]);
	}
	/* header = line 1; row 3 spans lines 4-6 (two quoted newlines) */
	ck_assert_uint_eq(q.line[0], 2);
	ck_assert_uint_eq(q.line[1], 3);
	ck_assert_uint_eq(q.line[2], 4);
	ck_assert_uint_eq(q.line[3], 7);
	eap_pairs_release(&q);
	eap_pairs_release(&p);
	remove_tmpdir();
}
END_TEST

START_TEST(test_columns_any_order)
{
	char path[256];
	struct eap_pairs p = {0};
	struct eap_err err = {0};

	make_tmpdir();
	/* a BOM, columns in another order, an extra column, CRLF, a blank line */
	write_file("pairs.csv",
		   "\xEF\xBB\xBFid,foils,answers,corrupted,clean\r\n"
		   "7,b,a,y,x\r\n\r\n"
		   "8,d,c,w,z\r\n",
		   path, sizeof(path));
	ck_assert_msg(eap_pairs_read(&p, path, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(p.clean[1], "z");
	ck_assert_str_eq(p.corrupted[1], "w");
	ck_assert_str_eq(p.answers[1], "c");
	ck_assert_str_eq(p.foils[1], "d");
	ck_assert_str_eq(p.extra_names[0], "id");
	ck_assert_str_eq(p.extra[1], "8");
	ck_assert_uint_eq(p.line[1], 4);
	eap_pairs_release(&p);
	remove_tmpdir();
}
END_TEST

START_TEST(test_bad_input)
{
	make_tmpdir();
	expect_read_error("", ":1: empty file");
	expect_read_error("\n\n", ":1: empty file");
	expect_read_error("a b,c d,e,f\ng,h,i,j\n", ":1: no header line");
	expect_read_error("clean,corrupted,foils\nx,y,z\n",
			  ":1: header has no column \"answers\"");
	expect_read_error("clean,corrupted,answers,foils,clean\nx,y,z,w,v\n",
			  ":1: duplicate column \"clean\"");
	expect_read_error("clean,corrupted,answers,foils\n", ":2: no data rows");
	expect_read_error("clean,corrupted,answers,foils\nx,y,z,w\n"
			  "\"multi\nline\",y,z,w\nx,y,z\n",
			  ":5: 3 fields, but the header has 4");
	expect_read_error("clean,corrupted,answers,foils\nx,y,z,w,v\n",
			  ":2: 5 fields, but the header has 4");
	expect_read_error("clean,corrupted,answers,foils\nx,y,z,w\n"
			  "\"open,y,z,w\n",
			  ":3: unterminated quoted field");
	expect_read_error("clean,corrupted,answers,foils\nx,y,z,w\n"
			  "a\"b,y,z,w\n",
			  ":3: malformed quoting");
	expect_read_error("clean,corrupted,answers,foils\nx,y,,w\n",
			  ":2: empty answers");
	expect_read_error("clean,corrupted,answers,foils\nx,y,z,w\n,y,z,w\n",
			  ":3: empty clean prompt");
	remove_tmpdir();
}
END_TEST

START_TEST(test_missing_file)
{
	struct eap_pairs p = {0};
	struct eap_err err = {0};

	ck_assert_int_eq(eap_pairs_read(&p, "/nonexistent/pairs.csv", &err),
			 EAP_EIO);
	ck_assert_str_eq(err.msg,
			 "/nonexistent/pairs.csv: No such file or directory");
	eap_pairs_release(&p); /* safe after a failed read */
}
END_TEST

/* ---- token ids ----------------------------------------------------------- */

/* Tokenize text as a pairs file with the word fixture; *err filled. */
static int tokenize_text(const char *text, struct eap_pairs_ids *ids,
			 struct eap_err *err, char *path, size_t size)
{
	struct eap_tokenizer tok = {0};
	struct eap_pairs p = {0};
	int rc;

	write_file("pairs.csv", text, path, size);
	ck_assert_msg(eap_tokenizer_load(&tok, WORD_DIR, err) == 0, "%s",
		      err->msg);
	ck_assert_msg(eap_pairs_read(&p, path, err) == 0, "%s", err->msg);
	rc = eap_pairs_tokenize(ids, &p, &tok, 1, err);
	eap_pairs_release(&p);
	eap_tokenizer_release(&tok);
	return rc;
}

START_TEST(test_tokenize_word)
{
	/* vocab: <bos> When Mary and John went to the store , gave a drink ... */
	struct eap_pairs_ids ids = {0};
	struct eap_err err = {0};
	char path[256];

	make_tmpdir();
	ck_assert_msg(tokenize_text("clean,corrupted,answers,foils\n"
				    "\"When Mary and John went to the store , "
				    "John gave a drink to\","
				    "\"When Mary and John went to the store , "
				    "Mary gave a drink to\",Mary,John|#11\n"
				    "Mary went,John went,store,the\n",
				    &ids, &err, path, sizeof(path)) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(ids.n, 2);
	ck_assert_uint_eq(ids.len[0], 15); /* BOS + 14 words */
	ck_assert_uint_eq(ids.len[1], 3);
	ck_assert_uint_eq(ids.max_len, 15);
	ck_assert_int_eq(ids.clean[0], 0); /* <bos> */
	ck_assert_int_eq(ids.clean[1], 1); /* When */
	ck_assert_int_eq(ids.clean[10], 4); /* John */
	ck_assert_int_eq(ids.corrupted[10], 2); /* Mary */
	ck_assert_uint_eq(ids.tok_off[1], 15);
	ck_assert_int_eq(ids.clean[ids.tok_off[1] + 1], 2);
	ck_assert_uint_eq(ids.ans_off[1], 1);
	ck_assert_int_eq(ids.answers[0], 2);
	ck_assert_uint_eq(ids.foil_off[1], 2);
	ck_assert_int_eq(ids.foils[0], 4);
	ck_assert_int_eq(ids.foils[1], 11);
	ck_assert_int_eq(ids.answers[1], 8); /* store */
	eap_pairs_ids_release(&ids);
	remove_tmpdir();
}
END_TEST

/* Tokenizing text must fail with "<path>:<want>". */
static void expect_tok_error(const char *text, const char *want)
{
	struct eap_pairs_ids ids = {0};
	struct eap_err err = {0};
	char path[256], full[512];

	ck_assert_msg(tokenize_text(text, &ids, &err, path, sizeof(path)) < 0,
		      "tokenize succeeded, expected \"%s\"", want);
	snprintf(full, sizeof(full), "%s%s", path, want);
	ck_assert_msg(strstr(err.msg, full) != NULL,
		      "error \"%s\" does not contain \"%s\"", err.msg, full);
	ck_assert_ptr_null(ids.len);
}

START_TEST(test_tokenize_errors)
{
	const char *head = "clean,corrupted,answers,foils\nMary went,John went,"
			   "Mary,John\n";
	char text[512];

	make_tmpdir();
	snprintf(text, sizeof(text), "%s%s", head,
		 "Mary went,John went,Mary John,the\n");
	expect_tok_error(text, ":3: answer \"Mary John\" is 2 tokens, not 1");
	snprintf(text, sizeof(text), "%s%s", head,
		 "Mary went,John went,Mary,the|#9999\n");
	expect_tok_error(text,
			 ":3: foil id #9999 is out of range (vocabulary of 16)");
	snprintf(text, sizeof(text), "%s%s", head,
		 "Mary went to,John went,Mary,the\n");
	expect_tok_error(text, ":3: clean and corrupted prompts tokenize to "
			       "different lengths (4 vs 3)");
	snprintf(text, sizeof(text), "%s%s", head,
		 "Mary went,John went,Mary||John,the\n");
	expect_tok_error(text, ":3: empty answer in \"Mary||John\"");
	snprintf(text, sizeof(text), "%s%s", head,
		 "Mary ran,John went,Mary,the\n");
	expect_tok_error(text, ":3: clean prompt: ");
	snprintf(text, sizeof(text), "%s%s", head,
		 "Mary went,John went,Mary,Sue\n");
	expect_tok_error(text, ":3: foil \"Sue\": ");
	remove_tmpdir();
}
END_TEST

/* ---- import of the paper's CSVs ------------------------------------------ */

static struct eap_tokenizer gpt2;

static void gpt2_setup(void)
{
	struct eap_err err = {0};

	ck_assert_msg(eap_tokenizer_load(&gpt2, GPT2_DIR, &err) == 0, "%s",
		      err.msg);
}

static void gpt2_teardown(void)
{
	eap_tokenizer_release(&gpt2);
}

static void import(const char *task, struct eap_pairs *p)
{
	char path[256];
	struct eap_err err = {0};

	snprintf(path, sizeof(path), FIXTURE("paper-data/%s/gpt2.csv"), task);
	ck_assert_msg(eap_pairs_import(p, task, path, NULL, &gpt2, &err) == 0,
		      "%s", err.msg);
}

static long extra_long(const struct eap_pairs *p, size_t i, const char *name)
{
	for (size_t e = 0; e < p->n_extra; e++)
		if (strcmp(p->extra_names[e], name) == 0)
			return strtol(p->extra[i * p->n_extra + e], NULL, 10);
	ck_abort_msg("no column %s", name);
	return -1;
}

/* Resolve answers and foils of row i. */
static void labels(const struct eap_pairs *p, size_t i, int32_t **a,
		   size_t *na, int32_t **f, size_t *nf)
{
	struct eap_err err = {0};

	ck_assert_msg(eap_pairs_labels(&gpt2, p->answers[i], "answer", a, na,
				       &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(eap_pairs_labels(&gpt2, p->foils[i], "foil", f, nf,
				       &err) == 0,
		      "%s", err.msg);
}

/* Write, read back and tokenize: every row converts, one token per label. */
static void check_resolves(const struct eap_pairs *p)
{
	struct eap_pairs q = {0};
	struct eap_pairs_ids ids = {0};
	struct eap_err err = {0};
	char path[256];
	FILE *f;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/pairs.csv", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(eap_pairs_write(p, f, &err), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_msg(eap_pairs_read(&q, path, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(q.n, p->n);
	ck_assert_msg(eap_pairs_tokenize(&ids, &q, &gpt2, 1, &err) == 0, "%s",
		      err.msg);
	for (size_t i = 0; i < ids.n; i++) {
		ck_assert_uint_gt(ids.ans_off[i + 1], ids.ans_off[i]);
		ck_assert_uint_gt(ids.foil_off[i + 1], ids.foil_off[i]);
		ck_assert_int_eq(ids.clean[ids.tok_off[i]], 50256); /* BOS */
	}
	eap_pairs_ids_release(&ids);
	eap_pairs_release(&q);
	remove_tmpdir();
}

START_TEST(test_import_ioi)
{
	struct eap_pairs p = {0};

	import("ioi", &p);
	ck_assert_uint_eq(p.n, 1000);
	for (size_t i = 0; i < p.n; i++) {
		int32_t *a, *f;
		size_t na, nf;
		labels(&p, i, &a, &na, &f, &nf);
		ck_assert_uint_eq(na, 1);
		ck_assert_uint_eq(nf, 1);
		ck_assert_int_eq(a[0], extra_long(&p, i, "correct_idx"));
		ck_assert_int_eq(f[0], extra_long(&p, i, "incorrect_idx"));
		free(a);
		free(f);
	}
	/* the unnamed index column keeps a name */
	ck_assert_str_eq(p.extra_names[0], "index");
	check_resolves(&p);
	eap_pairs_release(&p);
}
END_TEST

START_TEST(test_import_greater_than)
{
	struct eap_pairs p = {0};

	import("greater-than", &p);
	ck_assert_uint_eq(p.n, 1000);
	for (size_t i = 0; i < p.n; i++) {
		long yy = extra_long(&p, i, "correct_idx");
		int32_t *a, *f;
		size_t na, nf;
		int seen[100] = {0};

		labels(&p, i, &a, &na, &f, &nf);
		ck_assert_uint_eq(na, (size_t)(99 - yy));
		ck_assert_uint_eq(nf, (size_t)(yy + 1));
		/* the answers are the years after YY, the foils 00..YY: each of
		 * the 100 two-digit tokens exactly once */
		for (size_t k = 0; k < na + nf; k++) {
			int32_t id = k < na ? a[k] : f[k - na];
			const char *piece = eap_tokenizer_piece(&gpt2, id);
			int y;
			ck_assert(piece && strlen(piece) == 2);
			y = atoi(piece);
			ck_assert_msg(k < na ? y > yy : y <= yy,
				      "row %zu: year %d on the wrong side of %ld",
				      i, y, yy);
			ck_assert_int_eq(seen[y]++, 0);
		}
		free(a);
		free(f);
	}
	check_resolves(&p);
	eap_pairs_release(&p);
}
END_TEST

START_TEST(test_import_sva)
{
	struct eap_pairs p = {0};
	int32_t *a0 = NULL, *f0 = NULL, *a1 = NULL, *f1 = NULL;
	size_t na0 = 0, nf0 = 0, na1 = 0, nf1 = 0;
	size_t plural_row = SIZE_MAX, singular_row = SIZE_MAX;

	import("sva", &p);
	ck_assert_uint_eq(p.n, 12400);
	for (size_t i = 0; i < p.n; i++) {
		if (extra_long(&p, i, "plural") == 1 && plural_row == SIZE_MAX)
			plural_row = i;
		if (extra_long(&p, i, "plural") == 0 && singular_row == SIZE_MAX)
			singular_row = i;
	}
	labels(&p, plural_row, &a1, &na1, &f1, &nf1);
	labels(&p, singular_row, &a0, &na0, &f0, &nf0);
	/* the reference's get_singular_and_plural(strict=True) on GPT-2:
	 * 938 singular and 935 plural verb tokens (computed independently
	 * from encoder.json) */
	ck_assert_uint_eq(na0, 938);
	ck_assert_uint_eq(na1, 935);
	ck_assert_uint_eq(nf1, na0);
	ck_assert_uint_eq(nf0, na1);
	for (size_t k = 0; k < na0; k++)
		ck_assert_int_eq(a0[k], f1[k]);
	for (size_t k = 0; k < na1; k++) {
		const char *piece = eap_tokenizer_piece(&gpt2, a1[k]);
		ck_assert_int_eq(a1[k], f0[k]);
		ck_assert(piece && piece[0] == ' ');
	}
	/* " are" is plural, " is" singular */
	{
		int32_t are, is;
		struct eap_err err = {0};
		int found_are = 0, found_is = 0;
		ck_assert_int_eq(eap_tokenizer_single(&gpt2, " are", &are, &err), 0);
		ck_assert_int_eq(eap_tokenizer_single(&gpt2, " is", &is, &err), 0);
		for (size_t k = 0; k < na1; k++)
			found_are |= a1[k] == are;
		for (size_t k = 0; k < na0; k++)
			found_is |= a0[k] == is;
		ck_assert(found_are && found_is);
	}
	free(a0);
	free(f0);
	free(a1);
	free(f1);
	eap_pairs_release(&p);
}
END_TEST

START_TEST(test_import_gender_fact_hypernymy)
{
	static const struct {
		const char *task;
		size_t rows;
		const char *a, *f; /* id columns, or NULL for lists */
	} cases[] = {
		{"gender-bias", 986, "clean_answer_idx", "corrupted_answer_idx"},
		{"fact-retrieval-comma", 190, "country_idx",
		 "corrupted_country_idx"},
		{"hypernymy-comma", 198, NULL, NULL},
	};

	for (size_t c = 0; c < 3; c++) {
		struct eap_pairs p = {0};

		import(cases[c].task, &p);
		ck_assert_uint_eq(p.n, cases[c].rows);
		for (size_t i = 0; i < p.n; i++) {
			int32_t *a, *f;
			size_t na, nf;
			labels(&p, i, &a, &na, &f, &nf);
			if (cases[c].a) {
				ck_assert_uint_eq(na, 1);
				ck_assert_uint_eq(nf, 1);
				ck_assert_int_eq(a[0], extra_long(&p, i, cases[c].a));
				ck_assert_int_eq(f[0], extra_long(&p, i, cases[c].f));
			} else {
				ck_assert_uint_ge(na, 1);
				ck_assert_uint_ge(nf, 1);
				for (size_t x = 0; x < na; x++)
					for (size_t y = 0; y < nf; y++)
						ck_assert_int_ne(a[x], f[y]);
			}
			free(a);
			free(f);
		}
		check_resolves(&p);
		eap_pairs_release(&p);
	}
	/* the first hypernymy row: gemstones -> [16840, 23685] (" gem",
	 * " gems"), the paper's own "answers" column renamed */
	{
		struct eap_pairs p = {0};
		import("hypernymy-comma", &p);
		ck_assert_str_eq(p.answers[0], "#16840|#23685");
		ck_assert_str_eq(p.foils[0], "#7018|#7602");
		for (size_t e = 0; e < p.n_extra; e++)
			ck_assert_str_ne(p.extra_names[e], "answers");
		eap_pairs_release(&p);
	}
}
END_TEST

/* An import of text as task's CSV must fail with "<path>:<want>". */
static void expect_import_error(const char *task, const char *text,
				const char *want)
{
	struct eap_pairs p = {0};
	struct eap_err err = {0};
	char path[256], full[512];

	write_file("gpt2.csv", text, path, sizeof(path));
	ck_assert_msg(eap_pairs_import(&p, task, path, NULL, &gpt2, &err) < 0,
		      "import succeeded, expected \"%s\"", want);
	snprintf(full, sizeof(full), "%s%s", want[0] == ':' ? path : "", want);
	ck_assert_msg(strstr(err.msg, full) != NULL,
		      "error \"%s\" does not contain \"%s\"", err.msg, full);
	ck_assert_uint_eq(p.n, 0);
}

START_TEST(test_import_bad_input)
{
	make_tmpdir();
	expect_import_error("ioi", ",clean,corrupted,correct_idx\n0,a,b,1\n",
			    ":1: header has no column \"incorrect_idx\"");
	expect_import_error("ioi",
			    ",clean,corrupted,correct_idx,incorrect_idx\n"
			    "0,\"When Mary and John went, John gave it to\","
			    "\"When Mary and John went, Sue gave it to\",99999,1\n",
			    ":2: correct_idx 99999 is out of range "
			    "(vocabulary of 50257)");
	expect_import_error("ioi",
			    ",clean,corrupted,correct_idx,incorrect_idx\n"
			    "0,\"When Mary and John went, John gave it to\","
			    "\"When Mary and John went, Sue gave it to\",x,1\n",
			    ":2: correct_idx \"x\" is not a token id");
	/* 5335 = " Mary", 1757 = " John"; 14862 = " Alice" is not in the
	 * prompt, nor is 7554 = "John" without its space */
	expect_import_error("ioi",
			    ",clean,corrupted,correct_idx,incorrect_idx\n"
			    "0,\"When Mary and John went, John gave it to\","
			    "\"When Mary and John went, Sue gave it to\",5335,1757\n"
			    "1,\"When Mary and John went, John gave it to\","
			    "\"When Mary and John went, Sue gave it to\",14862,1757\n",
			    ":3: answer token #14862 (\" Alice\") is not a token of "
			    "the clean prompt");
	expect_import_error("ioi",
			    ",clean,corrupted,correct_idx,incorrect_idx\n"
			    "0,\"When Mary and John went, John gave it to\","
			    "\"When Mary and John went, Sue gave it to\",5335,7554\n",
			    ":2: foil token #7554");
	expect_import_error("greater-than", "clean,corrupted,correct_idx\n"
			    "a b 1799 to 17,a b 1701 to 17,99\n",
			    ":2: correct_idx \"99\" is not a start year");
	expect_import_error("hypernymy-comma",
			    "clean,corrupted,answers_idx,corrupted_answers_idx\n"
			    "\", gems and other\",\", cats and other\",\"[1, x]\","
			    "\"[2]\"\n",
			    ":2: answers_idx \"[1, x]\" is not a list");
	expect_import_error("sva", "clean,corrupted,group,plural\na,b,c,1\n",
			    "combined_verb_list.csv: No such file");
	expect_import_error("nope", "clean,corrupted\na,b\n",
			    "unknown task \"nope\"");
	remove_tmpdir();
}
END_TEST

Suite *pairs_suite(void)
{
	Suite *s = suite_create("pairs");
	TCase *csv = tcase_create("csv");
	TCase *tok = tcase_create("tokenize");
	TCase *imp = tcase_create("import");

	tcase_add_test(csv, test_roundtrip_quoting);
	tcase_add_test(csv, test_columns_any_order);
	tcase_add_test(csv, test_bad_input);
	tcase_add_test(csv, test_missing_file);
	tcase_add_test(tok, test_tokenize_word);
	tcase_add_test(tok, test_tokenize_errors);
	tcase_add_checked_fixture(imp, gpt2_setup, gpt2_teardown);
	tcase_set_timeout(imp, 120);
	tcase_add_test(imp, test_import_ioi);
	tcase_add_test(imp, test_import_greater_than);
	tcase_add_test(imp, test_import_sva);
	tcase_add_test(imp, test_import_gender_fact_hypernymy);
	tcase_add_test(imp, test_import_bad_input);
	suite_add_tcase(s, csv);
	suite_add_tcase(s, tok);
	suite_add_tcase(s, imp);
	return s;
}
