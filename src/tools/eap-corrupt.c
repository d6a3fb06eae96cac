/*
 * eap-corrupt - clean/corrupted pairs for a task (SPEC §2, §10).
 *
 *   eap-corrupt --task DIR --split train|test -n N --seed S -o pairs.csv
 *   eap-corrupt --import TASK --model DIR [--ids-from DIR] [--verbs FILE]
 *               [-n N] [--split train|test [--seed S]] PAPER.csv -o pairs.csv
 *   eap-corrupt --corpus [--tasks DIR] [--mix FILE] -n N --seed S
 *               -o corpus.txt
 *   eap-corrupt --vocab [--tasks DIR] -o vocab.txt
 *
 * --task generates pairs from a task folder (data/tasks/README.md);
 * --import converts the paper's CSV into the generic pairs form with the
 * answer/foil sets of SPEC §7 (with --split, one of two disjoint seeded
 * samples of its rows, for the pipeline on real GPT-2), re-tokenized with
 * the model's tokenizer: rows whose prompts differ in length or whose
 * labels are not single tokens are dropped, one stderr line per reason
 * with its count; --corpus writes
 * training sentences for the model organism from the train splits of every
 * task folder mixed by the mix weights; --vocab writes the organism's word
 * vocabulary.  Output goes to FILE.tmp, renamed to FILE when complete
 * ("-o -" writes to stdout).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eap/err.h"
#include "eap/pairs.h"
#include "eap/rng.h"
#include "eap/tasks.h"
#include "eap/tokenizer.h"

static const char *const PROG = "eap-corrupt";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-corrupt --task DIR --split train|test -n N --seed S "
		"-o FILE\n"
		"       eap-corrupt --import TASK --model DIR [--ids-from DIR] "
		"[--verbs FILE] [-n N] [--split train|test [--seed S]] PAPER.csv "
		"-o FILE\n"
		"       eap-corrupt --corpus [--tasks DIR] [--mix FILE] -n N "
		"--seed S -o FILE\n"
		"       eap-corrupt --vocab [--tasks DIR] -o FILE\n"
		"Write clean/corrupted pairs (CSV: clean,corrupted,answers,"
		"foils) generated from a task folder or imported from the "
		"paper's CSV, or the model organism's training corpus or "
		"vocabulary.\n"
		"  --task DIR       generate pairs from the task folder DIR "
		"(data/tasks/README.md)\n"
		"  --split S        train or test: which split of the task "
		"(default: train); with --import:\n"
		"                   the rows of distinct clean prompts in a "
		"--seed order, train the first N, test the\n"
		"                   next N (no prompt in both; half each if "
		"fewer than 2N); without it, all rows in file order\n"
		"  --import TASK    convert the paper's PAPER.csv; TASK is one "
		"of\n"
		"                   " EAP_IMPORT_TASKS "\n"
		"  --model DIR      model or tokenizer directory whose tokenizer "
		"the import re-tokenizes with (required by --import); rows whose "
		"clean and corrupted prompts differ in length or whose answer or "
		"foil is not one token are dropped, one stderr line per reason\n"
		"  --ids-from DIR   tokenizer the CSV's label ids belong to, when "
		"not the model's (the paper's gpt2.csv: data/tokenizers/gpt2); "
		"the labels' text is re-tokenized (default: the model's)\n"
		"  --tokenizer DIR  alias of --model\n"
		"  --verbs FILE     sva's combined_verb_list.csv (default: next "
		"to PAPER.csv)\n"
		"  --corpus         write training sentences, one per line, from "
		"the train splits\n"
		"  --vocab          write the word vocabulary: <bos>, then every "
		"word of every task folder, sorted\n"
		"  --tasks DIR      folder of task folders for --corpus and "
		"--vocab (default: data/tasks)\n"
		"  --mix FILE       corpus weights, lines \"TASK WEIGHT\" "
		"(default: DIR/mix.txt of --tasks)\n"
		"  -n N             pairs or sentences to write (default: 200 "
		"pairs; required by --corpus; --import: the first N rows "
		"(default all), or N per --split)\n"
		"  --seed S         random seed; the same seed writes the same "
		"bytes (default: 1)\n"
		"  -o FILE          output file, written as FILE.tmp and renamed "
		"(required; - for stdout)\n"
		"  --progress       report what was written on stderr (default: "
		"only when stderr is a terminal)\n"
		"  -h, --help       show this help and exit\n"
		"Example: eap-corrupt --task data/tasks/ioi --split test -n 200 "
		"--seed 1 -o pairs-test.csv\n");
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

/* A whole decimal number in [0, max], or -1. */
static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*v = x;
	return 0;
}

/* A row index under its clean prompt, for finding repeated prompts. */
struct keyed_row {
	const char *clean;
	size_t row;
};

static int by_clean_then_row(const void *a, const void *b)
{
	const struct keyed_row *x = a, *y = b;
	int c = strcmp(x->clean, y->clean);

	if (c)
		return c;
	return (x->row > y->row) - (x->row < y->row);
}

static int by_index(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/*
 * Keep one split of imported rows, in file order.  The candidates are the
 * rows whose clean prompt has not appeared in an earlier row (the paper's
 * greater-than file repeats 25 rows), shuffled by rng; train takes the
 * first k of them and test the next k, k = min(n, candidates / 2), so the
 * two splits share no clean prompt whatever n is.
 */
static int import_split(struct eap_pairs *p, const char *path, int split,
			size_t n, struct eap_rng *rng, struct eap_err *err)
{
	struct keyed_row *keys = NULL;
	size_t *cand = NULL, n_cand = 0, k, w = 0;
	unsigned char *keep = NULL;
	int rc = 0;

	keys = malloc((p->n ? p->n : 1) * sizeof(*keys));
	cand = malloc((p->n ? p->n : 1) * sizeof(*cand));
	keep = calloc(p->n ? p->n : 1, 1);
	if (!keys || !cand || !keep) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n; i++)
		keys[i] = (struct keyed_row){ p->clean[i], i };
	qsort(keys, p->n, sizeof(*keys), by_clean_then_row);
	for (size_t i = 0; i < p->n; i++)
		if (i == 0 || strcmp(keys[i].clean, keys[i - 1].clean) != 0)
			cand[n_cand++] = keys[i].row;
	/* shuffle from file order, so the sample depends only on the seed */
	qsort(cand, n_cand, sizeof(*cand), by_index);
	eap_rng_shuffle(rng, cand, n_cand, sizeof(*cand));
	k = n < n_cand / 2 ? n : n_cand / 2;
	if (k == 0) {
		rc = eap_err_set(err, EAP_EINVAL,
				 "%s: %zu distinct clean prompts, too few for "
				 "a train and a test split",
				 path, n_cand);
		goto out;
	}
	for (size_t i = 0; i < k; i++)
		keep[cand[split == EAP_SPLIT_TEST ? k + i : i]] = 1;
	/* compact the kept rows to the front, freeing the others */
	for (size_t i = 0; i < p->n; i++) {
		if (!keep[i]) {
			eap_pairs_free_row(p, i);
			continue;
		}
		p->clean[w] = p->clean[i];
		p->corrupted[w] = p->corrupted[i];
		p->answers[w] = p->answers[i];
		p->foils[w] = p->foils[i];
		if (p->line)
			p->line[w] = p->line[i];
		for (size_t e = 0; e < p->n_extra; e++)
			p->extra[w * p->n_extra + e] =
				p->extra[i * p->n_extra + e];
		w++;
	}
	p->n = w;
out:
	free(keys);
	free(cand);
	free(keep);
	return rc;
}

enum mode { MODE_NONE, MODE_TASK, MODE_IMPORT, MODE_CORPUS, MODE_VOCAB };

/* The output file: FILE.tmp while writing, or stdout. */
struct output {
	const char *path;
	char *tmp;
	FILE *f;
};

static int output_open(struct output *o, const char *path)
{
	struct stat st;

	o->path = path;
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or pipe (/dev/null, a FIFO): write in place, since
		 * renaming over it would replace the node with a file */
		o->f = fopen(path, "w");
		if (!o->f) {
			fprintf(stderr, "%s: %s: %s\n", PROG, path,
				strerror(errno));
			return -1;
		}
		return 0;
	}
	o->tmp = malloc(strlen(path) + 5);
	if (!o->tmp) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return -1;
	}
	strcpy(o->tmp, path);
	strcat(o->tmp, ".tmp");
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		fprintf(stderr, "%s: %s: %s\n", PROG, o->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* Close and rename on success; remove the temporary file on failure. */
static int output_close(struct output *o, int ok)
{
	int rc = 0;

	if (!o->f)
		goto out;
	if (!o->tmp) { /* stdout, or a non-regular file written in place */
		if ((fflush(o->f) != 0 || ferror(o->f)) && ok) {
			fprintf(stderr, "%s: %s: write error\n", PROG,
				o->f == stdout ? "standard output" : o->path);
			rc = -1;
		}
		if (o->f != stdout && fclose(o->f) != 0 && ok && rc == 0) {
			fprintf(stderr, "%s: %s: %s\n", PROG, o->path,
				strerror(errno));
			rc = -1;
		}
		goto out;
	}
	if (ferror(o->f) && ok) {
		fprintf(stderr, "%s: %s: write error\n", PROG, o->tmp);
		ok = 0;
		rc = -1;
	}
	if (fclose(o->f) != 0 && ok) {
		fprintf(stderr, "%s: %s: %s\n", PROG, o->tmp, strerror(errno));
		ok = 0;
		rc = -1;
	}
	if (ok && rename(o->tmp, o->path) != 0) {
		fprintf(stderr, "%s: %s: %s\n", PROG, o->path, strerror(errno));
		ok = 0;
		rc = -1;
	}
	if (!ok)
		unlink(o->tmp);
out:
	free(o->tmp);
	o->tmp = NULL;
	o->f = NULL;
	return rc;
}

int main(int argc, char **argv)
{
	/* defaults */
	enum mode mode = MODE_NONE;
	const char *task_dir = NULL;        /* --task */
	const char *import_task = NULL;     /* --import */
	const char *model_dir = NULL;       /* --model: required by --import */
	const char *verbs = NULL;           /* --verbs: next to PAPER.csv */
	const char *ids_dir = NULL;         /* --ids-from: the model's */
	const char *tasks_dir = "data/tasks"; /* --tasks */
	const char *mix = NULL;             /* --mix: TASKS/mix.txt */
	const char *out_path = NULL;        /* -o: required */
	int split = EAP_SPLIT_TRAIN;        /* --split */
	uint64_t n = 200;                   /* -n: pairs */
	int have_n = 0;
	uint64_t seed = 1;                  /* --seed */
	int progress = isatty(STDERR_FILENO);
	int have_split = 0;

	static const struct option opts[] = {
		{"task", required_argument, NULL, 'T'},
		{"split", required_argument, NULL, 'S'},
		{"import", required_argument, NULL, 'I'},
		{"model", required_argument, NULL, 'm'},
		{"tokenizer", required_argument, NULL, 'm'},
		{"verbs", required_argument, NULL, 'V'},
		{"ids-from", required_argument, NULL, 'F'},
		{"corpus", no_argument, NULL, 'C'},
		{"vocab", no_argument, NULL, 'W'},
		{"tasks", required_argument, NULL, 'D'},
		{"mix", required_argument, NULL, 'M'},
		{"seed", required_argument, NULL, 's'},
		{"progress", no_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct eap_err err = {0};
	struct eap_tokenizer tok = {0}, ids_tok = {0};
	struct eap_import_report report = {0};
	struct eap_task task = {0};
	struct eap_taskset ts = {0};
	struct eap_pairs pairs = {0};
	struct eap_rng rng;
	struct output out = {0};
	char *mix_buf = NULL;
	const char *paper = NULL;
	size_t written = 0;
	int c, rc = 0, tasks_given = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:o:h", opts, NULL)) != -1) {
		enum mode m = MODE_NONE;
		switch (c) {
		case 'T':
			m = MODE_TASK;
			task_dir = optarg;
			break;
		case 'I':
			m = MODE_IMPORT;
			import_task = optarg;
			break;
		case 'C':
			m = MODE_CORPUS;
			break;
		case 'W':
			m = MODE_VOCAB;
			break;
		case 'S':
			if (strcmp(optarg, "train") == 0)
				split = EAP_SPLIT_TRAIN;
			else if (strcmp(optarg, "test") == 0)
				split = EAP_SPLIT_TEST;
			else
				return usage_error("--split must be train or "
						   "test, not '%s'",
						   optarg);
			have_split = 1;
			break;
		case 'm':
			model_dir = optarg;
			break;
		case 'V':
			verbs = optarg;
			break;
		case 'F':
			ids_dir = optarg;
			break;
		case 'D':
			tasks_dir = optarg;
			tasks_given = 1;
			break;
		case 'M':
			mix = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, SIZE_MAX / 2, &n) < 0 || n == 0)
				return usage_error("-n must be a positive "
						   "integer, not '%s'",
						   optarg);
			have_n = 1;
			break;
		case 's':
			if (parse_u64(optarg, UINT64_MAX, &seed) < 0)
				return usage_error("--seed must be a "
						   "non-negative integer, not "
						   "'%s'",
						   optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'P':
			progress = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return usage_error("option '%s' requires a value",
					   argv[optind - 1]);
		default: {
			const char *arg = argv[optind - 1];
			if (strncmp(arg, "--", 2) == 0 && optopt)
				return usage_error("option '%s' takes no "
						   "argument",
						   arg);
			if (optopt && strncmp(arg, "--", 2) != 0)
				return usage_error("unknown option '-%c'",
						   optopt);
			return usage_error("unknown option '%s'", arg);
		}
		}
		if (m != MODE_NONE) {
			if (mode != MODE_NONE)
				return usage_error("give one of --task, --import, "
						   "--corpus and --vocab");
			mode = m;
		}
	}

	/* validate the combination */
	if (mode == MODE_NONE)
		return usage_error("one of --task, --import, --corpus and "
				   "--vocab is required");
	if (!out_path)
		return usage_error("-o FILE is required");
	if (have_split && mode != MODE_TASK && mode != MODE_IMPORT)
		return usage_error("--split goes with --task and --import");
	if ((model_dir || verbs || ids_dir) && mode != MODE_IMPORT)
		return usage_error("--model, --ids-from and --verbs go with "
				   "--import");
	if (mix && mode != MODE_CORPUS)
		return usage_error("--mix goes with --corpus");
	if (tasks_given && mode != MODE_CORPUS && mode != MODE_VOCAB)
		return usage_error("--tasks goes with --corpus and --vocab");
	if (have_n && mode == MODE_VOCAB)
		return usage_error("-n does not go with --vocab");
	if (mode == MODE_CORPUS && !have_n)
		return usage_error("--corpus needs -n SENTENCES");
	if (mode == MODE_IMPORT) {
		if (!model_dir)
			return usage_error("--import needs --model DIR");
		if (optind != argc - 1)
			return usage_error("--import needs exactly one "
					   "PAPER.csv");
		paper = argv[optind];
	} else if (optind < argc) {
		return usage_error("unexpected argument '%s'", argv[optind]);
	}

	/* load */
	switch (mode) {
	case MODE_TASK:
		rc = eap_task_load(&task, task_dir, &err);
		break;
	case MODE_IMPORT:
		rc = eap_tokenizer_load(&tok, model_dir, &err);
		if (rc == 0 && ids_dir)
			rc = eap_tokenizer_load(&ids_tok, ids_dir, &err);
		if (rc == 0)
			rc = eap_pairs_import_model(&pairs, import_task, paper,
						    verbs, &tok,
						    ids_dir ? &ids_tok : NULL,
						    &report, &err);
		for (int k = 0; rc == 0 && k < EAP_DROP_N; k++)
			if (report.dropped[k])
				fprintf(stderr, "%s: %s: dropped %zu of %zu rows: "
					"%s\n", PROG, paper, report.dropped[k],
					report.rows,
					eap_import_drop_reason((enum eap_import_drop)k));
		if (rc == 0 && have_split) {
			eap_rng_init(&rng, seed);
			rc = import_split(&pairs, paper, split, (size_t)n,
					  &rng, &err);
		} else if (rc == 0 && have_n) {
			eap_pairs_truncate(&pairs, (size_t)n); /* the first n rows */
		}
		break;
	case MODE_CORPUS:
		if (!mix) {
			mix_buf = malloc(strlen(tasks_dir) + sizeof("/mix.txt"));
			if (!mix_buf) {
				rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
				break;
			}
			strcpy(mix_buf, tasks_dir);
			strcat(mix_buf, "/mix.txt");
			mix = mix_buf;
		}
		rc = eap_taskset_load(&ts, tasks_dir, mix, &err);
		break;
	case MODE_VOCAB:
		rc = eap_taskset_load(&ts, tasks_dir, NULL, &err);
		break;
	default:
		break;
	}
	if (rc < 0)
		goto fail;

	/* generate into FILE.tmp */
	if (output_open(&out, out_path) < 0) {
		rc = -1;
		goto done;
	}
	eap_rng_init(&rng, seed);
	switch (mode) {
	case MODE_TASK:
		rc = eap_task_pairs(&task, split, (size_t)n, &rng, &pairs, &err);
		if (rc == 0)
			rc = eap_pairs_write(&pairs, out.f, &err);
		written = pairs.n;
		break;
	case MODE_IMPORT:
		rc = eap_pairs_write(&pairs, out.f, &err);
		written = pairs.n;
		break;
	case MODE_CORPUS:
		rc = eap_taskset_corpus(&ts, (size_t)n, &rng, out.f, &err);
		written = (size_t)n;
		break;
	case MODE_VOCAB: {
		char **words = NULL;
		rc = eap_taskset_vocab(&ts, &words, &written, &err);
		for (size_t i = 0; rc == 0 && i < written; i++)
			fprintf(out.f, "%s\n", words[i]);
		eap_words_free(words, written);
		break;
	}
	default:
		break;
	}
	if (rc < 0) {
		if (rc == EAP_EIO && out.f != stdout)
			fprintf(stderr, "%s: %s: %s\n", PROG,
				out.tmp ? out.tmp : out.path, err.msg);
		else
			fprintf(stderr, "%s: %s\n", PROG, err.msg);
		output_close(&out, 0);
		goto done;
	}
	if (output_close(&out, 1) < 0) {
		rc = -1;
		goto done;
	}
	if (progress)
		fprintf(stderr, "%s: %zu %s -> %s\n", PROG, written,
			mode == MODE_VOCAB    ? "words" :
			mode == MODE_CORPUS   ? "sentences" : "pairs",
			out_path);
	goto done;
fail:
	fprintf(stderr, "%s: %s\n", PROG, err.msg);
done:
	eap_pairs_release(&pairs);
	eap_task_release(&task);
	eap_taskset_release(&ts);
	eap_tokenizer_release(&tok);
	eap_tokenizer_release(&ids_tok);
	free(mix_buf);
	return rc < 0 ? 1 : 0;
}
