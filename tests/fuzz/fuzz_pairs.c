/*
 * fuzz_pairs.c - the pairs CSV (eap_pairs_read, then eap_pairs_tokenize
 * with a word-level and the GPT-2 tokenizer, as eap-dump/score/eval do)
 * and the paper's CSVs (eap_pairs_import for each task, as eap-corrupt
 * --import does).  The input is the CSV file itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eap/pairs.h"
#include "eap/tokenizer.h"
#include "fuzz_util.h"

/* tests/fixtures/models/tiny-word/vocab.txt */
static const char word_vocab[] =
	"<bos>\nthe\na\ncat\ndog\nsat\non\nmat\nand\nran\nto\nstore\nmary\n"
	"john\ngave\ndrink\nwhen\nwent\nhe\nshe\nis\nwas\nbig\nsmall\nred\n"
	"blue\nhouse\ntree\npark\nsaw\nbird\nwith\nof\nin\ncity\nking\n"
	"queen\napple\nbook\ntable\n";

#define GPT2_DIR "data/tokenizers/gpt2"
#define VERBS "tests/fixtures/paper-data/sva/combined_verb_list.csv"

/* Loaded once per process; the BPE one only if run from the repo root. */
static struct eap_tokenizer word_tok, bpe_tok;
static int loaded;

static void load_tokenizers(void)
{
	struct eap_err err = { 0 };
	char p[4096];
	char dir[4096];

	loaded = 1;
	fuzz_write("vocab.txt", word_vocab, strlen(word_vocab), p, sizeof(p));
	snprintf(dir, sizeof(dir), "%s", fuzz_dir());
	if (eap_tokenizer_load(&word_tok, dir, &err) < 0) {
		fprintf(stderr, "fuzz_pairs: %s\n", err.msg);
		abort();
	}
	fuzz_clear();
	if (eap_tokenizer_load(&bpe_tok, GPT2_DIR, &err) < 0) {
		fprintf(stderr, "fuzz_pairs: no GPT-2 tokenizer (%s); word level only\n",
			err.msg);
		eap_tokenizer_release(&bpe_tok);
		memset(&bpe_tok, 0, sizeof(bpe_tok));
	}
}

static void tokenize(const struct eap_pairs *p, const struct eap_tokenizer *tok)
{
	struct eap_pairs_ids ids = { 0 };
	struct eap_err err = { 0 };
	int rc;

	if (tok->kind == EAP_TOKENIZER_NONE)
		return;
	rc = eap_pairs_tokenize(&ids, p, tok, 1, &err);
	fuzz_check_rc(rc, &err);
	if (!rc) {
		FUZZ_CHECK(ids.n == p->n, "%zu rows, %zu tokenized", p->n, ids.n);
		for (size_t i = 0; i < ids.n; i++) {
			FUZZ_CHECK(ids.len[i] >= 1 && ids.len[i] <= ids.max_len,
				   "row %zu: length %zu", i, ids.len[i]);
			FUZZ_CHECK(ids.ans_off[i + 1] > ids.ans_off[i] &&
					   ids.foil_off[i + 1] > ids.foil_off[i],
				   "row %zu: no answers or foils", i);
			for (size_t k = 0; k < ids.len[i]; k++)
				FUZZ_CHECK(ids.clean[ids.tok_off[i] + k] >= 0 &&
						   (size_t)ids.clean[ids.tok_off[i] + k] < tok->n_vocab &&
						   ids.corrupted[ids.tok_off[i] + k] >= 0 &&
						   (size_t)ids.corrupted[ids.tok_off[i] + k] < tok->n_vocab,
					   "row %zu: token out of range", i);
		}
		for (size_t k = 0; k < ids.ans_off[ids.n]; k++)
			FUZZ_CHECK(ids.answers[k] >= 0 && (size_t)ids.answers[k] < tok->n_vocab,
				   "answer id %d", ids.answers[k]);
		for (size_t k = 0; k < ids.foil_off[ids.n]; k++)
			FUZZ_CHECK(ids.foils[k] >= 0 && (size_t)ids.foils[k] < tok->n_vocab,
				   "foil id %d", ids.foils[k]);
	}
	eap_pairs_ids_release(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tasks[] = { "ioi", "greater-than", "sva",
		"gender-bias", "fact-retrieval-comma", "hypernymy-comma" };
	struct eap_pairs p = { 0 };
	struct eap_err err = { 0 };
	char path[4096];
	int rc;

	if (!loaded)
		load_tokenizers();
	fuzz_write("pairs.csv", data, size, path, sizeof(path));
	rc = eap_pairs_read(&p, path, &err);
	fuzz_check_rc(rc, &err);
	if (!rc) {
		FUZZ_CHECK(p.n > 0, "no rows accepted");
		tokenize(&p, &word_tok);
		tokenize(&p, &bpe_tok);
	}
	eap_pairs_release(&p);

	if (bpe_tok.kind == EAP_TOKENIZER_NONE)
		return 0;
	for (size_t t = 0; t < sizeof(tasks) / sizeof(tasks[0]); t++) {
		struct eap_pairs q = { 0 };

		memset(&err, 0, sizeof(err));
		rc = eap_pairs_import(&q, tasks[t], path, VERBS, &bpe_tok, &err);
		fuzz_check_rc(rc, &err);
		eap_pairs_release(&q);
	}
	return 0;
}
