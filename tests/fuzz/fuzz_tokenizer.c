/*
 * fuzz_tokenizer.c - every tokenizer format (eap_tokenizer_load on a
 * folder made from the input: tokenizer.json + tokenizer_config.json,
 * vocab.txt for the word level, encoder.json + vocab.bpe or vocab.json +
 * merges.txt for GPT-2 BPE, and config.json for the BOS id), then
 * encoding each line of the section "text.in" (with the BOS and with the
 * model's special tokens) and the pieces of the ids it gives.  The input is an archive (fuzz_util.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eap/tokenizer.h"
#include "fuzz_util.h"

static void encode_line(const struct eap_tokenizer *tok, const char *line)
{
	struct eap_err err = { 0 };
	int32_t *ids = NULL, id;
	size_t n = 0;
	int rc;

	for (int mode = 0; mode < 2; mode++) {
		rc = eap_tokenizer_encode(tok, line,
					  mode ? EAP_TOKENIZER_SPECIAL : tok->bos_id >= 0,
					  &ids, &n, &err);
		fuzz_check_rc(rc, &err);
		for (size_t i = 0; !rc && i < n; i++) {
			size_t len;

			FUZZ_CHECK(ids[i] >= 0 && (size_t)ids[i] < tok->n_vocab,
				   "id %d of a vocabulary of %zu", ids[i],
				   tok->n_vocab);
			FUZZ_CHECK(eap_tokenizer_piece_n(tok, ids[i], &len) != NULL,
				   "no piece for id %d", ids[i]);
		}
		free(ids);
		ids = NULL;
		memset(&err, 0, sizeof(err));
	}
	memset(&err, 0, sizeof(err));
	rc = eap_tokenizer_single(tok, line, &id, &err);
	fuzz_check_rc(rc, &err);
	FUZZ_CHECK(rc || (id >= 0 && (size_t)id < tok->n_vocab), "single id %d", id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_section sec[FUZZ_MAX_SECTIONS];
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	const struct fuzz_section *text;
	char dir[4096];
	size_t n;
	int rc;

	n = fuzz_unpack(data, size, sec);
	snprintf(dir, sizeof(dir), "%s", fuzz_dir());
	rc = eap_tokenizer_load(&tok, dir, &err);
	fuzz_check_rc(rc, &err);
	if (rc)
		goto out;
	FUZZ_CHECK(tok.kind != EAP_TOKENIZER_NONE && tok.n_vocab > 0,
		   "loaded an empty tokenizer");
	FUZZ_CHECK(tok.bos_id < 0 || (size_t)tok.bos_id < tok.n_vocab,
		   "BOS id %d of a vocabulary of %zu", tok.bos_id, tok.n_vocab);
	FUZZ_CHECK(eap_tokenizer_piece(&tok, -1) == NULL &&
			   eap_tokenizer_piece(&tok, (int32_t)tok.n_vocab) == NULL,
		   "piece of an out-of-range id");
	for (size_t i = 0; i < tok.n_vocab && i < 64; i++) /* NULL: a hole */
		(void)eap_tokenizer_piece(&tok, (int32_t)i);
	if ((text = fuzz_find(sec, n, "text.in"))) {
		char *all = fuzz_strndup(text->data, text->size), *line = all, *nl;
		int lines = 0;

		for (;;) {
			if ((nl = strchr(line, '\n')))
				*nl = 0;
			encode_line(&tok, line);
			if (!nl || ++lines == 32)
				break;
			line = nl + 1;
		}
		free(all);
	}
out:
	eap_tokenizer_release(&tok);
	return 0;
}
