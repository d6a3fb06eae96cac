/*
 * tokenizer.h - the two tokenizers of SPEC §3.
 *
 * (a) GPT-2 byte-level BPE, from encoder.json + vocab.bpe (OpenAI names) or
 *     vocab.json + merges.txt (Hugging Face names).  Pre-tokenisation uses
 *     GPT-2's regex on PCRE2 (UTF + UCP), then the byte-to-unicode map and
 *     the merge ranks; ids equal GPT-2's exactly.  As in openai/gpt-2's
 *     encoder.py, text is never matched against special tokens: the text
 *     "<|endoftext|>" is 7 tokens, and BOS comes only from add_bos.
 * (b) Word level, from vocab.txt (one token per line, id = line number - 1;
 *     an empty line, white space in a token or a duplicate is an error
 *     naming file:line); input is split on ASCII white space; an unknown
 *     word is an error naming it.
 * Encoding rejects text that is not valid UTF-8 ("invalid UTF-8 at byte
 * N", 1-based); callers add their own file:line prefix.
 *
 * The BOS id (SPEC §3): `bos_token_id` of config.json in the same directory
 * if present; else "<|endoftext|>" if the vocabulary has it; else "<bos>";
 * else none (-1).
 *
 * Calling sequence:
 *   struct eap_tokenizer tok = {0};
 *   if (eap_tokenizer_load(&tok, "data/models/organism", &err) < 0) ...
 *   eap_tokenizer_encode(&tok, "When Mary and John", 1, &ids, &n, &err);
 *   ...
 *   free(ids);
 *   eap_tokenizer_release(&tok);
 */
#ifndef EAP_TOKENIZER_H
#define EAP_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"

enum eap_tokenizer_kind {
	EAP_TOKENIZER_NONE = 0,
	EAP_TOKENIZER_BPE,    /* byte-level BPE: GPT-2 files or tokenizer.json */
	EAP_TOKENIZER_WORD,
	EAP_TOKENIZER_BPE_SP, /* SentencePiece-style BPE from tokenizer.json */
};

/*
 * add_bos value of eap_tokenizer_encode: the special tokens the model's own
 * tokenizer adds (tokenizer.json's post-processor, or add_bos_token of
 * tokenizer_config.json), as Hugging Face's add_special_tokens=True does;
 * none for the GPT-2 and word-level files.
 */
#define EAP_TOKENIZER_SPECIAL 2

struct eap_tokenizer_impl; /* private: maps, merge ranks, compiled regex */

struct eap_tokenizer {
	enum eap_tokenizer_kind kind;
	size_t n_vocab;
	int32_t bos_id; /* -1 if none */
	struct eap_tokenizer_impl *impl;
};

/*
 * Load the tokenizer files found in dir (see above for which).  Missing or
 * malformed files are an error naming the file (and line).
 */
int eap_tokenizer_load(struct eap_tokenizer *tok, const char *dir,
		       struct eap_err *err);

/* Free everything; safe on a zeroed struct or after a failed load. */
void eap_tokenizer_release(struct eap_tokenizer *tok);

/*
 * Encode text (UTF-8, no trailing newline) into *ids (malloc'd, owned by the
 * caller) of length *n.  With add_bos 1 the BOS id comes first (an error if
 * the tokenizer has none); with EAP_TOKENIZER_SPECIAL the tokenizer's own
 * special tokens surround the text.
 */
int eap_tokenizer_encode(const struct eap_tokenizer *tok, const char *text,
			 int add_bos, int32_t **ids, size_t *n,
			 struct eap_err *err);

/*
 * The text of token id (for BPE the decoded bytes, e.g. " Mary"; for
 * SentencePiece pieces U+2581 decoded to ' ' and <0xXX> to its byte; an
 * added token's content), or NULL if id is out of range or an id
 * tokenizer.json leaves unused.  Owned by the tokenizer.
 */
const char *eap_tokenizer_piece(const struct eap_tokenizer *tok, int32_t id);

/*
 * As eap_tokenizer_piece, with the length in *len: a BPE piece may hold a
 * NUL byte (GPT-2's id 188 is the byte 0), so strlen() is not enough.
 */
const char *eap_tokenizer_piece_n(const struct eap_tokenizer *tok, int32_t id,
				  size_t *len);

/*
 * The id of text if it encodes to exactly one token (e.g. " Mary"), else
 * a negative code with a message saying how many tokens it makes.
 */
int eap_tokenizer_single(const struct eap_tokenizer *tok, const char *text,
			 int32_t *id, struct eap_err *err);

/*
 * Length of the valid UTF-8 sequence at p[0..n) (n >= 1), or 0 if it is
 * not one (overlong forms, surrogates and code points past U+10FFFF are
 * invalid).
 */
size_t eap_utf8_len(const unsigned char *p, size_t n);

#endif
