/*
 * eap-train - train a model of one of the families from scratch on a
 * corpus (SPEC §2, §3: the built-in model organism is a GPT-2).
 *
 *   eap-train --corpus FILE --vocab FILE [options] -o DIR
 *
 * Packing: every non-blank corpus line becomes BOS followed by its words,
 * and the lines are concatenated in file order into one token stream.  The
 * stream is cut into rows of ctx positions: row r reads tokens
 * r*ctx .. r*ctx+ctx-1 and predicts tokens r*ctx+1 .. r*ctx+ctx, so every
 * position has a target and consecutive rows share one token.  A sentence
 * may straddle two rows.  The tail that does not fill a row is dropped.
 * Each epoch visits the rows in a fresh seeded random order; a batch is the
 * next `batch` rows of that order (an epoch boundary may fall inside a
 * batch).
 *
 * Writes DIR/model.safetensors, DIR/config.json (with bos_token_id),
 * DIR/vocab.txt (a copy) and DIR/train-log.csv (step,loss,lr,grad_norm)
 * into a temporary directory next to DIR, renamed to DIR at the end, so a
 * failed or interrupted run leaves no DIR.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eap/err.h"
#include "eap/linalg.h"
#include "eap/model.h"
#include "eap/rng.h"
#include "eap/tokenizer.h"
#include "eap/train.h"
#include "tool.h"

static const char *const PROG = "eap-train";

/* Defaults: the model organism of SPEC §3 (4 x 8 x 128, ctx 32, batch 64). */
#define DEF_LAYERS 4
#define DEF_HEADS 8
#define DEF_DIM 128
#define DEF_CTX 32
#define DEF_STEPS 1000
#define DEF_BATCH 64
#define DEF_SEED 1
#define DEF_THREADS 0 /* 0: one per online CPU */

static void usage(FILE *f)
{
	struct eap_train_hparams hp;

	eap_train_hparams_default(&hp);
	fprintf(f,
		"Usage: eap-train --corpus FILE --vocab FILE [--arch NAME] "
		"[--layers N] [--heads N] [--kv-heads N] [--dim N] [--ctx N] [--window N] [--steps N] [--batch N] "
		"[--lr X] [--warmup N] [--seed S] [--threads T] [--progress] "
		"-o DIR\n"
		"Train a model from scratch on FILE (one sentence per line) "
		"and write the model directory DIR (Hugging Face layout).\n"
		"  --arch NAME          gpt2 (default: LayerNorm, learned "
		"positions, GELU, tied), gpt_neox (parallel blocks, rotary on "
		"a quarter of each head, exact GELU, untied), llama "
		"(RMSNorm, rotary, SwiGLU of width 8N/3, untied), qwen2 "
		"(llama with q/k/v biases), qwen3 (llama with per-head "
		"QK-norm), gemma2 (Gemma's 1 + w RMSNorm, embedding times "
		"sqrt(N), GeGLU, pre and post norms, soft-capped attention "
		"scores (50) and logits (30), --window on even layers, tied), "
		"gemma3 (gemma2 without soft-caps, with per-head QK-norm, "
		"every second layer global with rotary base 1e6, the others "
		"windowed with base 1e4) or olmo2 (llama with post norms "
		"instead of pre norms and QK-norm over all of q and k)\n"
		"  --corpus FILE        training text: one sentence per line, "
		"whitespace-separated words of the vocabulary\n"
		"  --vocab FILE         vocab.txt: one token per line, with a "
		"<bos> (or <|endoftext|>) token\n"
		"  -o, --output DIR     model directory to create; must not "
		"exist or be empty\n"
		"  --layers N           transformer blocks (default %d)\n"
		"  --heads N            attention heads per block (default %d)\n"
		"  --kv-heads N         llama, qwen2, qwen3, gemma2, gemma3, "
		"olmo2: key/value heads, dividing --heads (default: --heads)\n"
		"  --dim N              model width, a multiple of --heads "
		"(default %d); MLP width 4N, gated (all but gpt2 and gpt_neox) 8N/3 rounded up to a multiple of 16\n"
		"  --ctx N              positions per training row = "
		"n_positions (default %d)\n"
		"  --window N           gemma2, gemma3: sliding window of the "
		"local layers (default: --ctx / 2)\n"
		"  --steps N            optimiser steps (default %d)\n"
		"  --batch N            rows per step (default %d)\n"
		"  --lr X               peak learning rate (default %g)\n"
		"  --warmup N           linear warm-up steps, then cosine "
		"decay (default %zu)\n"
		"  --min-lr-frac X      final / peak learning rate (default "
		"%g)\n"
		"  --weight-decay X     AdamW decay of the weight matrices and "
		"embeddings (default %g)\n"
		"  --clip X             max global gradient norm, 0 for none "
		"(default %g)\n"
		"  --seed S             seed of the initialisation and the row "
		"order (default %d)\n"
		"  --threads T          threads, 0 for $SLURM_CPUS_PER_TASK, else one per CPU (default %d); "
		"the same seed and T give identical weights\n"
		"  --progress           report progress on stderr even if it is "
		"not a terminal\n"
		"  -h, --help           show this help and exit\n"
		"Rows are the sentences, each starting with BOS, concatenated "
		"and cut every --ctx tokens.\n"
		"Example: eap-train --corpus corpus.txt --vocab vocab.txt "
		"--steps 4000 --threads 2 -o data/models/organism\n",
		DEF_LAYERS, DEF_HEADS, DEF_DIM, DEF_CTX, DEF_STEPS, DEF_BATCH,
		hp.lr, hp.warmup, hp.min_lr_frac, hp.weight_decay, hp.clip,
		DEF_SEED, DEF_THREADS);
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

/* A whole decimal number in [lo, hi]. */
static int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_real(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- files ---------------------------------------------------------------- */

/* Copy src to dst byte for byte. */
static int copy_file(const char *src, const char *dst, struct eap_err *err)
{
	FILE *in = fopen(src, "rb"), *out;
	char buf[1 << 16];
	size_t n;
	int rc = 0;

	if (!in)
		return eap_err_set(err, EAP_EIO, "%s: %s", src, strerror(errno));
	out = fopen(dst, "wb");
	if (!out) {
		rc = eap_err_set(err, EAP_EIO, "%s: %s", dst, strerror(errno));
		fclose(in);
		return rc;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(in))
		rc = eap_err_set(err, EAP_EIO, "%s: cannot read", src);
	if (ferror(out) | fclose(out))
		rc = rc ? rc : eap_err_set(err, EAP_EIO, "%s: cannot write", dst);
	fclose(in);
	return rc;
}

/* Remove the temporary directory and whatever this run wrote into it. */
static void remove_tmpdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4400];

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) < sizeof(path))
			unlink(path);
	closedir(d);
	rmdir(dir);
}

/* 0 if path does not exist or is an empty directory. */
static int check_output(const char *path, struct eap_err *err)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	int empty = 1;

	if (stat(path, &sb) < 0)
		return errno == ENOENT ? 0
				       : eap_err_set(err, EAP_EIO, "%s: %s", path,
						     strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return eap_err_set(err, EAP_EIO, "%s: exists and is not a directory",
				   path);
	if (!(d = opendir(path)))
		return eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty ? 0 : eap_err_set(err, EAP_EIO,
				       "%s: already exists and is not empty",
				       path);
}

/* ---- the corpus ---------------------------------------------------------- */

struct stream {
	int32_t *ids; /* (n) BOS w w w BOS w w ... */
	size_t n, cap;
	size_t lines; /* sentences read */
};

static int stream_push(struct stream *s, const int32_t *ids, size_t n)
{
	if (s->n + n > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1 << 16;
		int32_t *p;

		while (cap < s->n + n)
			cap *= 2;
		if (!(p = realloc(s->ids, cap * sizeof(*p))))
			return -1;
		s->ids = p;
		s->cap = cap;
	}
	memcpy(s->ids + s->n, ids, n * sizeof(*ids));
	s->n += n;
	return 0;
}

/* Tokenize every non-blank line of path, each with BOS first. */
static int read_corpus(struct stream *s, const struct eap_tokenizer *tok,
		       const char *path, struct eap_err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, where[4200];
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0;

	if (!f)
		return eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		int32_t *ids = NULL;
		size_t n = 0;

		lineno++;
		if ((size_t)len != strlen(line)) {
			rc = eap_err_set(err, EAP_EFORMAT, "%s:%zu: NUL byte in line",
					 path, lineno);
			break;
		}
		if ((rc = eap_tokenizer_encode(tok, line, 1, &ids, &n, err))) {
			snprintf(where, sizeof(where), "%s:%zu", path, lineno);
			eap_err_prefix(err, where);
			break;
		}
		if (n > 1) { /* more than BOS: not a blank line */
			if (stream_push(s, ids, n) < 0) {
				free(ids);
				rc = eap_err_set(err, EAP_ENOMEM,
						 "%s: out of memory", path);
				break;
			}
			s->lines++;
		}
		free(ids);
	}
	if (!rc && ferror(f))
		rc = eap_err_set(err, EAP_EIO, "%s: cannot read", path);
	free(line);
	fclose(f);
	return rc;
}

/* ---- main ---------------------------------------------------------------- */

struct opts {
	const char *corpus, *vocab, *out;
	size_t layers, heads, kv_heads, dim, ctx, window, steps, batch, threads;
	const char *arch;
	uint64_t seed;
	int progress;
	struct eap_train_hparams hp;
};

enum {
	OPT_CORPUS = 256, OPT_VOCAB, OPT_LAYERS, OPT_HEADS, OPT_DIM, OPT_CTX,
	OPT_STEPS, OPT_BATCH, OPT_LR, OPT_WARMUP, OPT_MINLR, OPT_WD, OPT_CLIP,
	OPT_SEED, OPT_THREADS, OPT_PROGRESS, OPT_ARCH, OPT_KV_HEADS,
	OPT_WINDOW,
};

/* --arch NAME: its family (model_type) and the config.json fields that
 * are not the family's own defaults; NULL past the end. */
static const struct arch {
	const char *name, *family, *extra;
	int tied, window;
} ARCHS[] = {
	{ "gpt2", "gpt2", NULL, 1, 0 },
	{ "gpt_neox", "gpt_neox", NULL, 0, 0 },
	{ "llama", "llama", NULL, 0, 0 },
	{ "qwen2", "qwen2", NULL, 0, 0 },
	{ "qwen3", "qwen3", NULL, 0, 0 },
	{ "gemma2", "gemma2", NULL, 1, 1 },
	/* Hugging Face's Gemma3TextConfig bases; a global layer every
	 * second one, so a small model has both kinds */
	{ "gemma3", "gemma3_text",
	  "\"sliding_window_pattern\": 2, \"rope_theta\": 1000000, "
	  "\"rope_local_base_freq\": 10000", 1, 1 },
	{ "olmo2", "olmo2", NULL, 0, 0 },
};

static const struct arch *find_arch(const char *name)
{
	for (size_t i = 0; i < sizeof(ARCHS) / sizeof(ARCHS[0]); i++)
		if (!strcmp(ARCHS[i].name, name))
			return &ARCHS[i];
	return NULL;
}

/* Parse argv into o; 0, or the exit code (2 usage, or 0 after --help). */
static int parse_args(int argc, char **argv, struct opts *o, int *done)
{
	static const struct option longopts[] = {
		{ "corpus", required_argument, NULL, OPT_CORPUS },
		{ "vocab", required_argument, NULL, OPT_VOCAB },
		{ "output", required_argument, NULL, 'o' },
		{ "layers", required_argument, NULL, OPT_LAYERS },
		{ "heads", required_argument, NULL, OPT_HEADS },
		{ "kv-heads", required_argument, NULL, OPT_KV_HEADS },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "dim", required_argument, NULL, OPT_DIM },
		{ "ctx", required_argument, NULL, OPT_CTX },
		{ "steps", required_argument, NULL, OPT_STEPS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "lr", required_argument, NULL, OPT_LR },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "min-lr-frac", required_argument, NULL, OPT_MINLR },
		{ "weight-decay", required_argument, NULL, OPT_WD },
		{ "clip", required_argument, NULL, OPT_CLIP },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	size_t seed;

	*done = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		const char *name = "";
		int bad = 0;

		/* the option's own name for messages, without "=value" */
		for (size_t i = 0; c >= OPT_CORPUS && longopts[i].name; i++)
			if (longopts[i].val == c)
				name = longopts[i].name;
		switch (c) {
		case OPT_CORPUS: o->corpus = optarg; break;
		case OPT_VOCAB: o->vocab = optarg; break;
		case 'o': o->out = optarg; break;
		case OPT_LAYERS: bad = parse_size(optarg, 1, 1000, &o->layers); break;
		case OPT_HEADS: bad = parse_size(optarg, 1, 1024, &o->heads); break;
		case OPT_KV_HEADS: bad = parse_size(optarg, 1, 1024, &o->kv_heads); break;
		case OPT_ARCH:
			o->arch = optarg;
			bad = !find_arch(optarg);
			break;
		case OPT_WINDOW: bad = parse_size(optarg, 1, 1 << 20, &o->window); break;
		case OPT_DIM: bad = parse_size(optarg, 1, 65536, &o->dim); break;
		case OPT_CTX: bad = parse_size(optarg, 1, 1 << 20, &o->ctx); break;
		case OPT_STEPS: bad = parse_size(optarg, 1, (size_t)1 << 40, &o->steps); break;
		case OPT_BATCH: bad = parse_size(optarg, 1, 1 << 24, &o->batch); break;
		case OPT_WARMUP: bad = parse_size(optarg, 0, (size_t)1 << 40, &o->hp.warmup); break;
		case OPT_THREADS: bad = parse_size(optarg, 0, 4096, &o->threads); break;
		case OPT_SEED:
			bad = parse_size(optarg, 0, SIZE_MAX, &seed);
			o->seed = seed;
			break;
		case OPT_LR: bad = parse_real(optarg, 1e-30, 1e3, &o->hp.lr); break;
		case OPT_MINLR: bad = parse_real(optarg, 0, 1, &o->hp.min_lr_frac); break;
		case OPT_WD: bad = parse_real(optarg, 0, 1e3, &o->hp.weight_decay); break;
		case OPT_CLIP: bad = parse_real(optarg, 0, 1e30, &o->hp.clip); break;
		case OPT_PROGRESS: o->progress = 1; break;
		case 'h':
			usage(stdout);
			*done = 1;
			return 0;
		case ':':
			return usage_error("option %s needs a value",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option \"%s\"",
					   argv[optind - 1]);
		}
		if (bad)
			return usage_error("--%s: invalid value \"%s\"", name,
					   optarg);
	}
	if (optind < argc)
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	if (!o->corpus)
		return usage_error("--corpus is required");
	if (!o->vocab)
		return usage_error("--vocab is required");
	if (!o->out || !*o->out)
		return usage_error("-o DIR is required");
	if (o->dim % o->heads)
		return usage_error("--dim %zu is not a multiple of --heads %zu",
				   o->dim, o->heads);
	if (!o->kv_heads)
		o->kv_heads = o->heads;
	if (o->kv_heads != o->heads && (!strcmp(o->arch, "gpt2") ||
					 !strcmp(o->arch, "gpt_neox")))
		return usage_error("--kv-heads needs --arch llama, qwen2, qwen3, gemma2, gemma3 or olmo2");
	if (o->window && !find_arch(o->arch)->window)
		return usage_error("--window needs --arch gemma2 or gemma3");
	if (o->heads % o->kv_heads)
		return usage_error("--heads %zu is not a multiple of --kv-heads %zu",
				   o->heads, o->kv_heads);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct eap_err err = { 0 };
	struct eap_tokenizer tok = { 0 };
	struct stream s = { 0 };
	struct eap_config cfg = { 0 };
	struct eap_model m = { 0 };
	struct eap_train t = { 0 };
	struct eap_rng init_rng, data_rng;
	char out[4096], tmpdir[4200], path[4400];
	size_t *order = NULL, n_rows, next = 0, n_tok;
	int32_t *tokens = NULL, *targets = NULL;
	FILE *log = NULL;
	int rc, done, show;
	double t0, final_loss = 0;
	struct eap_progress prog = { 0 };

	o.layers = DEF_LAYERS;
	o.heads = DEF_HEADS;
	o.arch = "gpt2";
	o.dim = DEF_DIM;
	o.ctx = DEF_CTX;
	o.steps = DEF_STEPS;
	o.batch = DEF_BATCH;
	o.seed = DEF_SEED;
	o.threads = DEF_THREADS;
	eap_train_hparams_default(&o.hp);
	if ((rc = parse_args(argc, argv, &o, &done)) || done)
		return rc;
	o.hp.steps = o.steps;
	show = o.progress || isatty(2);
	/* the trainer's threads each run single-threaded BLAS */
	if (!o.threads)
		o.threads = tool_threads(0);
	if (!o.threads) {
		long k = sysconf(_SC_NPROCESSORS_ONLN);
		o.threads = k > 0 ? (size_t)k : 1;
	}
	eap_blas_threads(1);

	/* the output goes to DIR.tmp-XXXXXX beside DIR, renamed at the end */
	if (strlen(o.out) >= sizeof(out) - 100) {
		fprintf(stderr, "%s: %s: path too long\n", PROG, o.out);
		return 1;
	}
	snprintf(out, sizeof(out), "%s", o.out);
	for (size_t k = strlen(out); k > 1 && out[k - 1] == '/'; k--)
		out[k - 1] = '\0';
	tmpdir[0] = '\0';
	if ((rc = check_output(out, &err)))
		goto fail;
	snprintf(tmpdir, sizeof(tmpdir), "%s.tmp-XXXXXX", out);
	if (!mkdtemp(tmpdir)) {
		rc = eap_err_set(&err, EAP_EIO, "%s: cannot create: %s", tmpdir,
				 strerror(errno));
		tmpdir[0] = '\0';
		goto fail;
	}
	{
		/* mkdtemp makes it 0700; DIR gets mkdir's usual mode */
		mode_t um = umask(0);

		umask(um);
		chmod(tmpdir, 0777 & ~um);
	}
	/* an interrupted run removes what it wrote (tool.h), newest first */
	tool_remove_on_signal(tmpdir, "");
	tool_remove_on_signal(tmpdir, "/vocab.txt");
	tool_remove_on_signal(tmpdir, "/train-log.csv");
	tool_remove_on_signal(tmpdir, "/model.safetensors.tmp");
	tool_remove_on_signal(tmpdir, "/model.safetensors");
	tool_remove_on_signal(tmpdir, "/config.json.tmp");
	tool_remove_on_signal(tmpdir, "/config.json");

	/* the vocabulary, read back through the one word-level tokenizer */
	snprintf(path, sizeof(path), "%s/vocab.txt", tmpdir);
	if ((rc = copy_file(o.vocab, path, &err)))
		goto fail;
	if ((rc = eap_tokenizer_load(&tok, tmpdir, &err))) {
		/* name the user's file, not the copy */
		char *at = strstr(err.msg, path);
		if (at) {
			char rest[EAP_ERR_MSG_MAX];
			snprintf(rest, sizeof(rest), "%s", at + strlen(path));
			snprintf(err.msg, sizeof(err.msg), "%s%s", o.vocab, rest);
		}
		goto fail;
	}
	if (tok.bos_id < 0) {
		rc = eap_err_set(&err, EAP_EFORMAT,
				 "%s: no <bos> or <|endoftext|> token", o.vocab);
		goto fail;
	}
	if ((rc = read_corpus(&s, &tok, o.corpus, &err)))
		goto fail;
	if (s.n < o.ctx + 1) {
		rc = eap_err_set(&err, EAP_EFORMAT,
				 "%s: %zu tokens are too few for one row of "
				 "--ctx %zu (plus the next token)",
				 o.corpus, s.n, o.ctx);
		goto fail;
	}
	n_rows = (s.n - 1) / o.ctx;

	if (!strcmp(o.arch, "gpt2")) { /* the organism's, as always */
		cfg.n_layer = o.layers;
		cfg.n_head = o.heads;
		cfg.d_model = o.dim;
		cfg.d_head = o.dim / o.heads;
		cfg.d_mlp = 4 * o.dim;
		cfg.n_ctx = o.ctx;
		cfg.n_vocab = tok.n_vocab;
		cfg.ln_eps = 1e-5f;
		cfg.tied = 1;
	} else {
		const struct arch *ar = find_arch(o.arch);
		/* a gated MLP's two input matrices: 8d/3 (to a multiple of
		 * 16) keeps its size near GELU's 4d */
		size_t dm = strcmp(o.arch, "gpt_neox") ? (8 * o.dim / 3 + 15) / 16 * 16
						       : 4 * o.dim;
		char extra[256];

		snprintf(extra, sizeof(extra), "{\"sliding_window\": %zu%s%s}",
			 o.window ? o.window : (o.ctx + 1) / 2,
			 ar->extra ? ", " : "", ar->extra ? ar->extra : "");
		if ((rc = eap_config_build(&cfg, ar->family, o.layers, o.heads,
					   o.kv_heads, o.dim, dm, o.ctx,
					   tok.n_vocab, ar->tied,
					   ar->window ? extra : NULL, &err)))
			goto fail;
	}
	cfg.bos_id = tok.bos_id;
	/* two streams, so the row order does not depend on the model size */
	eap_rng_init(&init_rng, o.seed);
	eap_rng_init(&data_rng, o.seed ^ 0x6461746173747265ULL);
	if ((rc = eap_model_alloc(&m, &cfg, &err)) ||
	    (rc = eap_train_init_weights(&m, &init_rng, &err)) ||
	    (rc = eap_train_init(&t, &cfg, o.batch, o.ctx, o.threads, &err)))
		goto fail;
	order = malloc(n_rows * sizeof(*order));
	tokens = malloc(o.batch * o.ctx * sizeof(*tokens));
	targets = malloc(o.batch * o.ctx * sizeof(*targets));
	if (!order || !tokens || !targets) {
		rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t r = 0; r < n_rows; r++)
		order[r] = r;
	eap_rng_shuffle(&data_rng, order, n_rows, sizeof(*order));

	snprintf(path, sizeof(path), "%s/train-log.csv", tmpdir);
	if (!(log = fopen(path, "w"))) {
		rc = eap_err_set(&err, EAP_EIO, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fprintf(log, "step,loss,lr,grad_norm\n");
	if (show)
		fprintf(stderr,
			"%s: %zu sentences, %zu tokens, %zu rows of %zu; %zu "
			"parameters; %zu steps of %zu tokens\n",
			PROG, s.lines, s.n, n_rows, o.ctx, m.n_params, o.steps,
			o.batch * o.ctx);
	n_tok = o.batch * o.ctx;
	t0 = now();
	eap_progress_start(&prog, PROG, o.out, "steps", o.steps, o.progress);
	for (size_t step = 0; step < o.steps; step++) {
		struct eap_train_stat st;

		for (size_t b = 0; b < o.batch; b++) {
			const int32_t *row;

			if (next == n_rows) {
				eap_rng_shuffle(&data_rng, order, n_rows,
						sizeof(*order));
				next = 0;
			}
			row = s.ids + order[next++] * o.ctx;
			memcpy(tokens + b * o.ctx, row, o.ctx * sizeof(*row));
			memcpy(targets + b * o.ctx, row + 1, o.ctx * sizeof(*row));
		}
		if ((rc = eap_train_step(&t, &m, &o.hp, tokens, targets,
					 o.batch, o.ctx, &st, &err)))
			goto fail;
		fprintf(log, "%zu,%.6f,%.6e,%.6f\n", step + 1, st.loss, st.lr,
			st.grad_norm);
		final_loss = st.loss;
		{
			char extra[96];
			double el = now() - t0;

			snprintf(extra, sizeof(extra),
				 "loss %.4f, lr %.2e, %.0f tokens/s", st.loss,
				 st.lr, el > 0 ? (double)((step + 1) * n_tok) / el : 0.0);
			eap_progress_update(&prog, step + 1, extra);
		}
	}
	eap_progress_end(&prog);
	if (ferror(log) | fclose(log)) {
		log = NULL;
		rc = eap_err_set(&err, EAP_EIO, "%s/train-log.csv: cannot write",
				 tmpdir);
		goto fail;
	}
	log = NULL;
	if ((rc = eap_model_save(&m, tmpdir, &err)))
		goto fail;
	if (rename(tmpdir, out) < 0) {
		rc = eap_err_set(&err, EAP_EIO, "%s: cannot rename %s to it: %s",
				 out, tmpdir, strerror(errno));
		goto fail;
	}
	if (show) {
		double el = now() - t0;
		char tot[32];

		eap_progress_hms(tot, sizeof(tot), el);
		fprintf(stderr,
			"%s: wrote %s: %zu steps, %zu tokens in %s (%.0f "
			"tokens/s), final loss %.4f\n",
			PROG, out, o.steps, o.steps * n_tok, tot,
			(double)(o.steps * n_tok) / el, final_loss);
	}
	rc = 0;
	goto out;
fail:
	eap_progress_end(&prog);
	fprintf(stderr, "%s: %s\n", PROG, err.msg);
	if (log)
		fclose(log);
	if (tmpdir[0])
		remove_tmpdir(tmpdir);
	rc = 1;
out:
	free(order);
	free(tokens);
	free(targets);
	free(s.ids);
	eap_train_release(&t);
	eap_model_release(&m);
	eap_tokenizer_release(&tok);
	return rc;
}
