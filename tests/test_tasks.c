/*
 * test_tasks.c - task folders (SPEC §10): the six committed task folders
 * under data/tasks/ generate pairs whose invariants a bug would break
 * (determinism, disjoint splits, equal word counts, disjoint labels, the
 * paper's corruptions), a corpus that never shows a test prompt, a
 * vocabulary covering everything, and one clear error per kind of bad
 * folder (written to a temporary directory by the tests).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eap/pairs.h"
#include "eap/rng.h"
#include "eap/tasks.h"
#include "eap/tokenizer.h"
#include "test_util.h"

#define TASKS_DIR "data/tasks"

static const char *const TASKS[] = {
	"ioi", "greater-than", "gender", "sva", "capital", "hypernymy",
};
#define N_TASKS (sizeof(TASKS) / sizeof(TASKS[0]))

/* ---- helpers ------------------------------------------------------------- */

static void load(struct eap_task *t, const char *name)
{
	char dir[256];
	struct eap_err err = {0};

	snprintf(dir, sizeof(dir), TASKS_DIR "/%s", name);
	ck_assert_msg(eap_task_load(t, dir, &err) == 0, "%s", err.msg);
}

static void gen(const struct eap_task *t, enum eap_split split, size_t n,
		uint64_t seed, struct eap_pairs *p)
{
	struct eap_rng rng;
	struct eap_err err = {0};

	eap_rng_init(&rng, seed);
	memset(p, 0, sizeof(*p));
	ck_assert_msg(eap_task_pairs(t, split, n, &rng, p, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(p->n, n);
}

/* Split s on c into at most max words (a copy in *buf). */
static size_t split(const char *s, char c, char **buf, char **w, size_t max)
{
	size_t n = 0;
	char *p;

	*buf = strdup(s);
	ck_assert_ptr_nonnull(*buf);
	for (p = *buf; n < max;) {
		char *e = strchr(p, c);
		w[n++] = p;
		if (!e)
			break;
		*e = '\0';
		p = e + 1;
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int in_sorted(char **a, size_t n, const char *s)
{
	return bsearch(&s, a, n, sizeof(*a), cmp_str) != NULL;
}

static size_t count_word(char **w, size_t n, const char *s)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += strcmp(w[i], s) == 0;
	return k;
}

/* ---- the committed folders ----------------------------------------------- */

START_TEST(test_taskset_loads)
{
	struct eap_taskset ts = {0};
	struct eap_err err = {0};
	size_t prompts = 0;
	double total = 0.0;

	ck_assert_msg(eap_taskset_load(&ts, TASKS_DIR, TASKS_DIR "/mix.txt",
				       &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(ts.n, 7);
	for (size_t i = 0; i < ts.n; i++) {
		if (i)
			ck_assert_str_lt(ts.tasks[i - 1].name, ts.tasks[i].name);
		prompts += ts.tasks[i].has_prompts;
		ck_assert(ts.weight[i] > 0.0);
		total += ts.weight[i];
	}
	ck_assert_uint_eq(prompts, 6);
	ck_assert_double_eq_tol(total, 1.0, 1e-12);
	eap_taskset_release(&ts);
}
END_TEST

START_TEST(test_determinism)
{
	for (size_t k = 0; k < N_TASKS; k++) {
		struct eap_task t = {0};
		struct eap_pairs a, b, c;
		size_t differ = 0;

		load(&t, TASKS[k]);
		gen(&t, EAP_SPLIT_TEST, 200, 7, &a);
		gen(&t, EAP_SPLIT_TEST, 200, 7, &b);
		gen(&t, EAP_SPLIT_TEST, 200, 8, &c);
		for (size_t i = 0; i < a.n; i++) {
			ck_assert_str_eq(a.clean[i], b.clean[i]);
			ck_assert_str_eq(a.corrupted[i], b.corrupted[i]);
			ck_assert_str_eq(a.answers[i], b.answers[i]);
			ck_assert_str_eq(a.foils[i], b.foils[i]);
			differ += strcmp(a.clean[i], c.clean[i]) != 0 ||
				  strcmp(a.corrupted[i], c.corrupted[i]) != 0;
		}
		ck_assert_msg(differ > 0, "%s: seeds 7 and 8 give the same pairs",
			      TASKS[k]);
		eap_pairs_release(&a);
		eap_pairs_release(&b);
		eap_pairs_release(&c);
		eap_task_release(&t);
	}
}
END_TEST

START_TEST(test_splits_disjoint)
{
	for (size_t k = 0; k < N_TASKS; k++) {
		struct eap_task t = {0};
		struct eap_pairs tr, te;

		load(&t, TASKS[k]);
		gen(&t, EAP_SPLIT_TRAIN, 2000, 1, &tr);
		gen(&t, EAP_SPLIT_TEST, 2000, 1, &te);
		qsort(tr.clean, tr.n, sizeof(char *), cmp_str);
		for (size_t i = 0; i < te.n; i++)
			ck_assert_msg(!in_sorted(tr.clean, tr.n, te.clean[i]),
				      "%s: test prompt \"%s\" is also in train",
				      TASKS[k], te.clean[i]);
		eap_pairs_release(&tr);
		eap_pairs_release(&te);
		eap_task_release(&t);
	}
}
END_TEST

static void vocab(char ***words, size_t *n)
{
	struct eap_taskset ts = {0};
	struct eap_err err = {0};

	ck_assert_msg(eap_taskset_load(&ts, TASKS_DIR, NULL, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(eap_taskset_vocab(&ts, words, n, &err) == 0, "%s",
		      err.msg);
	eap_taskset_release(&ts);
}

START_TEST(test_pair_invariants)
{
	char **voc;
	size_t nv;

	vocab(&voc, &nv);
	for (size_t k = 0; k < N_TASKS; k++) {
		struct eap_task t = {0};

		load(&t, TASKS[k]);
		for (int sp = 0; sp < 2; sp++) {
			struct eap_pairs p;
			gen(&t, (enum eap_split)sp, 500, 3, &p);
			for (size_t i = 0; i < p.n; i++) {
				char *b1, *b2, *b3, *b4, *w1[64], *w2[64], *a[128],
					*f[128];
				size_t n1 = split(p.clean[i], ' ', &b1, w1, 64);
				size_t n2 = split(p.corrupted[i], ' ', &b2, w2, 64);
				size_t na = split(p.answers[i], '|', &b3, a, 128);
				size_t nf = split(p.foils[i], '|', &b4, f, 128);
				const char *shared = NULL;
				int unknown = 0;

				ck_assert_msg(n1 == n2,
					      "%s: \"%s\" has %zu words, \"%s\" %zu",
					      TASKS[k], p.clean[i], n1,
					      p.corrupted[i], n2);
				ck_assert_str_ne(p.clean[i], p.corrupted[i]);
				ck_assert(na >= 1 && a[0][0] && nf >= 1 && f[0][0]);
				/* (one assertion per row: Check logs every one) */
				for (size_t x = 0; x < na; x++)
					for (size_t y = 0; y < nf; y++)
						if (!strcmp(a[x], f[y]))
							shared = a[x];
				ck_assert_msg(!shared,
					      "%s: \"%s\" is both answer and foil",
					      TASKS[k], shared);
				for (size_t x = 0; x < n1; x++)
					if (!in_sorted(voc, nv, w1[x]) ||
					    !in_sorted(voc, nv, w2[x]))
						unknown = 1;
				for (size_t x = 0; x < na + nf; x++)
					if (!in_sorted(voc, nv,
						       x < na ? a[x] : f[x - na]))
						unknown = 1;
				ck_assert_msg(!unknown,
					      "%s: a word of row %zu is not in the "
					      "vocabulary",
					      TASKS[k], i);
				free(b1);
				free(b2);
				free(b3);
				free(b4);
			}
			eap_pairs_release(&p);
		}
		eap_task_release(&t);
	}
	eap_words_free(voc, nv);
}
END_TEST

START_TEST(test_ioi_corruption)
{
	struct eap_task t = {0};
	struct eap_pairs p;

	load(&t, "ioi");
	gen(&t, EAP_SPLIT_TEST, 1000, 11, &p);
	for (size_t i = 0; i < p.n; i++) {
		char *b1, *b2, *w1[64], *w2[64];
		size_t n1 = split(p.clean[i], ' ', &b1, w1, 64);
		size_t n2 = split(p.corrupted[i], ' ', &b2, w2, 64);
		size_t diff = 0, at = 0;

		ck_assert_uint_eq(n1, n2);
		for (size_t x = 0; x < n1; x++)
			if (strcmp(w1[x], w2[x])) {
				diff++;
				at = x;
			}
		/* exactly the second mention of the subject changes, into a
		 * name the clean prompt does not have */
		ck_assert_uint_eq(diff, 1);
		ck_assert_str_eq(w1[at], p.foils[i]);
		ck_assert_uint_eq(count_word(w1, n1, p.foils[i]), 2);
		ck_assert_uint_eq(count_word(w1, n1, p.answers[i]), 1);
		ck_assert_uint_eq(count_word(w1, n1, w2[at]), 0);
		ck_assert_uint_eq(count_word(w2, n2, p.foils[i]), 1);
		ck_assert_uint_eq(count_word(w2, n2, w2[at]), 1);
		/* the first mention precedes the corrupted slot */
		ck_assert_uint_eq(count_word(w1, at, p.foils[i]), 1);
		free(b1);
		free(b2);
	}
	eap_pairs_release(&p);
	eap_task_release(&t);
}
END_TEST

START_TEST(test_greater_than_sets)
{
	struct eap_task t = {0};
	struct eap_pairs p;

	load(&t, "greater-than");
	gen(&t, EAP_SPLIT_TEST, 500, 5, &p);
	for (size_t i = 0; i < p.n; i++) {
		/* the N lasted from the year C YY to the year C */
		char *b1, *b2, *b3, *b4, *w1[16], *w2[16], *a[100], *f[100];
		size_t n1 = split(p.clean[i], ' ', &b1, w1, 16);
		size_t n2 = split(p.corrupted[i], ' ', &b2, w2, 16);
		size_t na = split(p.answers[i], '|', &b3, a, 100);
		size_t nf = split(p.foils[i], '|', &b4, f, 100);
		int yy;

		ck_assert_uint_eq(n1, 12);
		ck_assert_uint_eq(n2, 12);
		ck_assert_str_eq(w2[7], "01");
		ck_assert_str_eq(w1[6], w1[11]);
		yy = atoi(w1[7]);
		ck_assert(yy >= 2 && yy <= 98);
		/* answers YY+1..99 and foils 00..YY: a partition of 00..99 */
		ck_assert_uint_eq(na, (size_t)(99 - yy));
		ck_assert_uint_eq(nf, (size_t)(yy + 1));
		for (size_t k = 0; k < na + nf; k++) {
			char want[3] = {(char)('0' + k / 10), (char)('0' + k % 10), 0};
			const char *got = k < nf ? f[k] : a[k - nf];
			ck_assert_str_eq(got, want);
		}
		free(b1);
		free(b2);
		free(b3);
		free(b4);
	}
	eap_pairs_release(&p);
	eap_task_release(&t);
}
END_TEST

START_TEST(test_sva_gender_capital_hypernymy)
{
	struct eap_task t = {0};
	struct eap_pairs p;

	/* sva: only the subject changes number; the labels flip with it */
	load(&t, "sva");
	gen(&t, EAP_SPLIT_TEST, 300, 2, &p);
	for (size_t i = 0; i < p.n; i++) {
		char *b1, *b2, *w1[16], *w2[16];
		size_t n = split(p.clean[i], ' ', &b1, w1, 16);
		int sing = strstr(p.answers[i], "is|") == p.answers[i];

		split(p.corrupted[i], ' ', &b2, w2, 16);
		ck_assert_uint_eq(n, 5);
		ck_assert_str_ne(w1[1], w2[1]);
		for (size_t x = 0; x < n; x++)
			if (x != 1)
				ck_assert_str_eq(w1[x], w2[x]);
		ck_assert(sing ? strncmp(p.foils[i], "are|", 4) == 0
			       : strncmp(p.answers[i], "are|", 4) == 0);
		free(b1);
		free(b2);
	}
	eap_pairs_release(&p);
	eap_task_release(&t);

	/* gender: an occupation becomes a gendered noun of the other pronoun */
	load(&t, "gender");
	gen(&t, EAP_SPLIT_TEST, 300, 2, &p);
	for (size_t i = 0; i < p.n; i++) {
		const char *noun = p.corrupted[i] + 4; /* after "the " */
		int male = strncmp(noun, "man ", 4) == 0 ||
			   strncmp(noun, "boy ", 4) == 0;
		int female = strncmp(noun, "woman ", 6) == 0 ||
			     strncmp(noun, "girl ", 5) == 0;
		ck_assert(male || female);
		ck_assert_str_eq(p.foils[i], male ? "he" : "she");
		ck_assert_str_eq(p.answers[i], male ? "she" : "he");
	}
	eap_pairs_release(&p);
	eap_task_release(&t);

	/* capital and hypernymy: one word swapped, the labels of the swap */
	for (int k = 0; k < 2; k++) {
		load(&t, k ? "hypernymy" : "capital");
		gen(&t, EAP_SPLIT_TEST, 300, 2, &p);
		for (size_t i = 0; i < p.n; i++) {
			char *b1, *b2, *w1[16], *w2[16];
			size_t n = split(p.clean[i], ' ', &b1, w1, 16), diff = 0;
			split(p.corrupted[i], ' ', &b2, w2, 16);
			for (size_t x = 0; x < n; x++)
				diff += strcmp(w1[x], w2[x]) != 0;
			ck_assert_uint_eq(diff, 1);
			if (!k)
				ck_assert(strchr(p.answers[i], '|') == NULL &&
					  strchr(p.foils[i], '|') == NULL);
			free(b1);
			free(b2);
		}
		eap_pairs_release(&p);
		eap_task_release(&t);
	}
}
END_TEST

/* ---- corpus and vocabulary ------------------------------------------------ */

START_TEST(test_corpus)
{
	struct eap_taskset ts = {0};
	struct eap_err err = {0};
	struct eap_rng rng;
	char *buf = NULL, *buf2 = NULL, **voc, *line, *save = NULL;
	size_t len = 0, len2 = 0, nv, lines = 0;
	char *tests[N_TASKS * 1000];
	size_t nt = 0;
	FILE *f;

	ck_assert_msg(eap_taskset_load(&ts, TASKS_DIR, TASKS_DIR "/mix.txt",
				       &err) == 0,
		      "%s", err.msg);
	for (int pass = 0; pass < 2; pass++) {
		f = open_memstream(pass ? &buf2 : &buf, pass ? &len2 : &len);
		ck_assert_ptr_nonnull(f);
		eap_rng_init(&rng, 3);
		ck_assert_msg(eap_taskset_corpus(&ts, 20000, &rng, f, &err) == 0,
			      "%s", err.msg);
		ck_assert_int_eq(fclose(f), 0);
	}
	ck_assert_uint_eq(len, len2);
	ck_assert(memcmp(buf, buf2, len) == 0);
	free(buf2);

	/* the test prompts of every task, to look for in the corpus */
	for (size_t k = 0; k < N_TASKS; k++) {
		struct eap_task t = {0};
		struct eap_pairs p;
		load(&t, TASKS[k]);
		gen(&t, EAP_SPLIT_TEST, 1000, 9, &p);
		for (size_t i = 0; i < p.n; i++) {
			tests[nt] = malloc(strlen(p.clean[i]) + 2);
			strcpy(tests[nt], p.clean[i]);
			strcat(tests[nt++], " ");
		}
		eap_pairs_release(&p);
		eap_task_release(&t);
	}
	qsort(tests, nt, sizeof(*tests), cmp_str);
	vocab(&voc, &nv);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *b, *w[64];
		size_t n = split(line, ' ', &b, w, 64);
		lines++;
		for (size_t x = 0; x < n; x++)
			if (!in_sorted(voc, nv, w[x]))
				ck_abort_msg("corpus word \"%s\" not in the "
					     "vocabulary",
					     w[x]);
		/* a sequence of 32 tokens with BOS holds every sentence */
		if (n > 31)
			ck_abort_msg("corpus line \"%s\" has %zu words", line, n);
		/* no word prefix of the line (with its space) is a test prompt */
		for (size_t x = 1; x < n; x++) {
			char saved = line[w[x] - b];
			line[w[x] - b] = '\0';
			if (in_sorted(tests, nt, line))
				ck_abort_msg("corpus line starting \"%s\" holds a "
					     "test prompt",
					     line);
			line[w[x] - b] = saved;
		}
		free(b);
	}
	ck_assert_uint_eq(lines, 20000);
	for (size_t k = 0; k < nt; k++)
		free(tests[k]);
	free(buf);
	eap_words_free(voc, nv);

	/* a different seed, a different corpus */
	f = open_memstream(&buf2, &len2);
	eap_rng_init(&rng, 4);
	ck_assert_int_eq(eap_taskset_corpus(&ts, 100, &rng, f, &err), 0);
	fclose(f);
	f = open_memstream(&buf, &len);
	eap_rng_init(&rng, 3);
	ck_assert_int_eq(eap_taskset_corpus(&ts, 100, &rng, f, &err), 0);
	fclose(f);
	ck_assert(len != len2 || memcmp(buf, buf2, len) != 0);
	free(buf);
	free(buf2);
	eap_taskset_release(&ts);
}
END_TEST

START_TEST(test_vocab)
{
	char **voc;
	size_t nv;

	vocab(&voc, &nv);
	ck_assert_uint_gt(nv, 500);
	ck_assert_str_eq(voc[0], "<bos>");
	for (size_t i = 2; i < nv; i++)
		ck_assert_str_lt(voc[i - 1], voc[i]);
	for (size_t i = 0; i < nv; i++)
		ck_assert(!strchr(voc[i], '|') && !strchr(voc[i], '{') &&
			  !strchr(voc[i], ' '));
	ck_assert(in_sorted(voc + 1, nv - 1, "00"));
	ck_assert(in_sorted(voc + 1, nv - 1, "99"));
	ck_assert(in_sorted(voc + 1, nv - 1, "mary"));
	ck_assert(in_sorted(voc + 1, nv - 1, "jewels"));
	ck_assert(in_sorted(voc + 1, nv - 1, ","));
	/* sva's number selectors are never printed, so not words */
	ck_assert(!in_sorted(voc + 1, nv - 1, "plur"));
	eap_words_free(voc, nv);
}
END_TEST

START_TEST(test_word_tokenizer)
{
	/* the generated pairs tokenize with the organism's word tokenizer:
	 * labels one token each, clean and corrupted of equal length */
	char dir[] = "/tmp/eap-test-vocab-XXXXXX", path[128], cmd[128];
	struct eap_tokenizer tok = {0};
	struct eap_err err = {0};
	char **voc;
	size_t nv;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vocab.txt", dir);
	f = fopen(path, "w");
	vocab(&voc, &nv);
	for (size_t i = 0; i < nv; i++)
		fprintf(f, "%s\n", voc[i]);
	ck_assert_int_eq(fclose(f), 0);
	eap_words_free(voc, nv);
	ck_assert_msg(eap_tokenizer_load(&tok, dir, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(tok.bos_id, 0);
	for (size_t k = 0; k < N_TASKS; k++) {
		struct eap_task t = {0};
		struct eap_pairs p;
		struct eap_pairs_ids ids;
		load(&t, TASKS[k]);
		gen(&t, EAP_SPLIT_TEST, 200, 1, &p);
		ck_assert_msg(eap_pairs_tokenize(&ids, &p, &tok, 1, &err) == 0,
			      "%s: %s", TASKS[k], err.msg);
		eap_pairs_ids_release(&ids);
		eap_pairs_release(&p);
		eap_task_release(&t);
	}
	eap_tokenizer_release(&tok);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---- bad folders ----------------------------------------------------------- */

static char tmpdir[64];

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Loading tmpdir (whose task.txt is text) must fail with "<tmpdir>/<want>". */
static void expect_load_error(const char *text, const char *want)
{
	struct eap_task t = {0};
	struct eap_err err = {0};
	char full[512];

	put("task.txt", text);
	ck_assert_msg(eap_task_load(&t, tmpdir, &err) < 0,
		      "load succeeded, expected \"%s\"", want);
	snprintf(full, sizeof(full), "%s/%s", tmpdir, want);
	ck_assert_msg(strstr(err.msg, full) != NULL,
		      "error \"%s\" does not contain \"%s\"", err.msg, full);
	ck_assert_ptr_null(t.impl);
}

START_TEST(test_bad_folders)
{
	const char *ok_head = "list names names.txt\n"
			      "var a = names\n"
			      "var b = names except a\n";
	char text[1024], want[256];
	struct eap_task t = {0};
	struct eap_err err = {0};

	strcpy(tmpdir, "/tmp/eap-test-tasks-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));

	/* no task.txt at all */
	{
		ck_assert(eap_task_load(&t, tmpdir, &err) < 0);
		snprintf(want, sizeof(want),
			 "%s/task.txt: No such file or directory", tmpdir);
		ck_assert_str_eq(err.msg, want);
	}
	/* a missing list file names task.txt's line and the file */
	snprintf(want, sizeof(want),
		 "task.txt:2: cannot open %s/names.txt: No such file", tmpdir);
	expect_load_error("# a comment\nlist names names.txt\n", want);

	put("names.txt", "# names\nmary\njohn\nkate\n\nsam\n");
	put("caps.txt", "kabul afghanistan\nparis france extra\n");
	put("templates.txt", "# line 1\n{a} met {b}\n{a} went to the {place}\n");
	put("cols.txt", "{a.age} met {b}\n");
	put("split.txt", "{a}'s friend\n");

	expect_load_error("lst names names.txt\n",
			  "task.txt:1: unknown directive \"lst\"");
	expect_load_error("list caps caps.txt capital country\n",
			  "caps.txt:2: 3 fields, expected 2 (capital country)");
	snprintf(text, sizeof(text), "%stemplate templates.txt\n", ok_head);
	expect_load_error(text, "templates.txt:3: unknown slot {place}");
	snprintf(text, sizeof(text), "%stemplate cols.txt\n", ok_head);
	expect_load_error(text, "cols.txt:1: list names has no column \"age\"");
	snprintf(text, sizeof(text), "%stemplate split.txt\n", ok_head);
	expect_load_error(text, "split.txt:1: slot in \"{a}'s\" must be a "
				"separate word");
	expect_load_error("list names names.txt\nvar a = names except b\n",
			  "task.txt:2: except: \"b\" is not a variable");
	expect_load_error("list names names.txt\nvar a = people\n",
			  "task.txt:2: unknown list \"people\"");
	expect_load_error("list names names.txt\nvar a = names\nvar a = names\n",
			  "task.txt:3: variable \"a\" declared twice");
	expect_load_error("list names names.txt\ntrain: var a = names\n",
			  "task.txt: variable \"a\" has no declaration for the "
			  "test split");
	snprintf(text, sizeof(text), "%stemplate templates2.txt\n", ok_head);
	put("templates2.txt", "{a} met {b>a}\n");
	snprintf(text, sizeof(text),
		 "%stemplate templates2.txt\nanswer a\nfoil b\n", ok_head);
	expect_load_error(text, "task.txt: prompts need template, answer, foil "
				"and holdout; \"holdout\" is missing");
	snprintf(text, sizeof(text), "%sanswer a.x\n", ok_head);
	expect_load_error(text, "task.txt:4: list names has no column \"x\"");
	snprintf(text, sizeof(text), "%sholdout 1.5 a\n", ok_head);
	expect_load_error(text,
			  "task.txt:4: holdout fraction \"1.5\" is not in (0, 1)");
	expect_load_error("list names names.txt\n",
			  "task.txt: nothing to generate");

	/* a folder that loads, but whose labels always overlap */
	snprintf(text, sizeof(text),
		 "%stemplate templates2.txt\nanswer a\nfoil a\nholdout 0.5 a b\n",
		 ok_head);
	put("task.txt", text);
	ck_assert_msg(eap_task_load(&t, tmpdir, &err) == 0, "%s", err.msg);
	{
		struct eap_pairs p = {0};
		struct eap_rng rng;
		eap_rng_init(&rng, 1);
		ck_assert(eap_task_pairs(&t, EAP_SPLIT_TEST, 3, &rng, &p, &err) < 0);
		ck_assert_msg(strstr(err.msg, "answers and foils always overlap"),
			      "%s", err.msg);
		eap_pairs_release(&p);
	}
	eap_task_release(&t);

	/* one key value: one split is empty, and says so */
	snprintf(text, sizeof(text),
		 "list names names.txt\nvar a = names\nvar b = names except a\n"
		 "var one = one of x\n"
		 "template templates2.txt\nanswer a\nfoil b\nholdout 0.5 one\n");
	put("task.txt", text);
	ck_assert_msg(eap_task_load(&t, tmpdir, &err) == 0, "%s", err.msg);
	{
		struct eap_pairs p = {0};
		struct eap_rng rng;
		int fails = 0;
		eap_rng_init(&rng, 1);
		for (int sp = 0; sp < 2; sp++) {
			if (eap_task_pairs(&t, (enum eap_split)sp, 2, &rng, &p,
					   &err) < 0) {
				fails++;
				ck_assert_msg(strstr(err.msg, "the split is empty"),
					      "%s", err.msg);
			}
		}
		ck_assert_int_eq(fails, 1);
		eap_pairs_release(&p);
	}
	eap_task_release(&t);

	/* a mix naming a folder that is not there: tmpdir/set/x is the one
	 * task folder, tmpdir/mix.txt the weights */
	{
		struct eap_taskset ts = {0};
		char set[100], mix[100], cmd[600];

		snprintf(set, sizeof(set), "%s/set", tmpdir);
		snprintf(mix, sizeof(mix), "%s/mix.txt", tmpdir);
		put("task.txt", "list names names.txt\nvar a = names\n"
				"train templates.txt 1\n");
		put("templates.txt", "hello {a}\n");
		snprintf(cmd, sizeof(cmd),
			 "mkdir -p '%s/x' && cp '%s/task.txt' '%s/names.txt' "
			 "'%s/templates.txt' '%s/x/'",
			 set, tmpdir, tmpdir, tmpdir, set);
		ck_assert_int_eq(system(cmd), 0);
		put("mix.txt", "# weights\nnope 1\n");
		ck_assert(eap_taskset_load(&ts, set, mix, &err) < 0);
		snprintf(want, sizeof(want), "%s:2: no task folder \"nope\"",
			 mix);
		ck_assert_msg(strstr(err.msg, want), "%s", err.msg);
		put("mix.txt", "x 2\n");
		ck_assert_msg(eap_taskset_load(&ts, set, mix, &err) == 0, "%s",
			      err.msg);
		ck_assert_uint_eq(ts.n, 1);
		ck_assert_double_eq(ts.weight[0], 1.0);
		eap_taskset_release(&ts);
	}
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		ck_assert_int_eq(system(cmd), 0);
	}
}
END_TEST

/* ---- the RNG the generators draw from ------------------------------------- */

START_TEST(test_rng)
{
	struct eap_rng a, b;
	size_t counts[6] = {0};
	double sum = 0.0, sq = 0.0;
	int perm[10];

	size_t same = 0, out_of_range = 0;

	eap_rng_init(&a, 42);
	eap_rng_init(&b, 42);
	for (int i = 0; i < 1000; i++)
		same += eap_rng_u64(&a) == eap_rng_u64(&b);
	ck_assert_uint_eq(same, 1000);
	eap_rng_init(&b, 43);
	ck_assert_uint_ne(eap_rng_u64(&a), eap_rng_u64(&b));
	for (int i = 0; i < 60000; i++) {
		uint64_t k = eap_rng_below(&a, 6);
		double u = eap_rng_uniform(&a);
		out_of_range += k >= 6 || !(u >= 0.0 && u < 1.0);
		counts[k < 6 ? k : 0]++;
	}
	ck_assert_uint_eq(out_of_range, 0);
	for (int k = 0; k < 6; k++) /* 10000 expected, sd ~91 */
		ck_assert_msg(counts[k] > 9500 && counts[k] < 10500,
			      "value %d drawn %zu times of 60000", k, counts[k]);
	for (int i = 0; i < 20000; i++) {
		double z = eap_rng_normal(&a);
		sum += z;
		sq += z * z;
	}
	ck_assert_double_eq_tol(sum / 20000, 0.0, 0.05);
	ck_assert_double_eq_tol(sq / 20000, 1.0, 0.05);
	for (int i = 0; i < 10; i++)
		perm[i] = i;
	eap_rng_shuffle(&a, perm, 10, sizeof(perm[0]));
	{
		int seen[10] = {0}, moved = 0;
		for (int i = 0; i < 10; i++) {
			seen[perm[i]]++;
			moved += perm[i] != i;
		}
		for (int i = 0; i < 10; i++)
			ck_assert_int_eq(seen[i], 1);
		ck_assert_int_gt(moved, 0);
	}
	ck_assert_uint_eq(eap_rng_below(&a, 1), 0);
}
END_TEST

Suite *tasks_suite(void)
{
	Suite *s = suite_create("tasks");
	TCase *gen_tc = tcase_create("generate");
	TCase *bad = tcase_create("bad-input");

	tcase_set_timeout(gen_tc, 120);
	tcase_add_test(gen_tc, test_rng);
	tcase_add_test(gen_tc, test_taskset_loads);
	tcase_add_test(gen_tc, test_determinism);
	tcase_add_test(gen_tc, test_splits_disjoint);
	tcase_add_test(gen_tc, test_pair_invariants);
	tcase_add_test(gen_tc, test_ioi_corruption);
	tcase_add_test(gen_tc, test_greater_than_sets);
	tcase_add_test(gen_tc, test_sva_gender_capital_hypernymy);
	tcase_add_test(gen_tc, test_corpus);
	tcase_add_test(gen_tc, test_vocab);
	tcase_add_test(gen_tc, test_word_tokenizer);
	tcase_add_test(bad, test_bad_folders);
	suite_add_tcase(s, gen_tc);
	suite_add_tcase(s, bad);
	return s;
}
