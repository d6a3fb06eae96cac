/*
 * pairs.h - the generic pairs CSV of SPEC §10, a small CSV table reader
 * under it, and the import of the paper's own CSVs.
 *
 * A pairs file has a header line naming at least the columns
 *   clean,corrupted,answers,foils
 * in any order; further columns are kept and written back after the four.
 * answers and foils hold a `|`-separated set of labels, each either a token
 * string (" Mary" for GPT-2, "mary" for a word-level model) that must
 * encode to exactly one token, or a token id written `#14235`.  Prompts
 * carry no BOS; eap_pairs_tokenize prepends it (SPEC §3).
 *
 * Reading uses libcsv (RFC 4180 quoting: fields may hold commas, doubled
 * quotes and newlines; spaces are never trimmed, so " Mary" keeps its
 * space).  Every row remembers its file line (header = line 1), so errors
 * read "pairs.csv:17: answer " Mary Ann" is 2 tokens, not 1".
 *
 * Calling sequence:
 *   struct eap_pairs p = {0};
 *   struct eap_pairs_ids ids = {0};
 *   if (eap_pairs_read(&p, "pairs.csv", &err) < 0) ...
 *   if (eap_pairs_tokenize(&ids, &p, &tok, 1, &err) < 0) ...
 *   ... ids.clean + ids.tok_off[i], ids.len[i] tokens ...
 *   eap_pairs_ids_release(&ids);
 *   eap_pairs_release(&p);
 *
 * Writing: fill a zeroed struct with eap_pairs_set_extra (optional) and
 * eap_pairs_append, then eap_pairs_write to a FILE the caller opened (the
 * tools write <out>.tmp and rename it).
 */
#ifndef EAP_PAIRS_H
#define EAP_PAIRS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eap/err.h"
#include "eap/tokenizer.h"

/* ---- CSV tables ---------------------------------------------------------- */

/*
 * A CSV file with a header line: every data row has as many fields as the
 * header.  A UTF-8 byte-order mark at the start is skipped; blank lines
 * between rows are skipped.
 */
struct eap_csv {
	size_t n_cols;
	char **header;  /* (n_cols) column names */
	size_t n_rows;
	char **cells;   /* (n_rows, n_cols) row-major, NUL-terminated */
	size_t *lines;  /* (n_rows) file line where each data row starts */
	size_t cap;     /* rows allocated */
};

/*
 * Read path.  Errors (EAP_EIO, EAP_EFORMAT) name the file and line: empty
 * file, malformed quoting, a row whose field count differs from the
 * header's, a NUL byte.
 */
int eap_csv_read(struct eap_csv *t, const char *path, struct eap_err *err);

/* The index of the column called name, or -1. */
int eap_csv_col(const struct eap_csv *t, const char *name);

/* The cell of row r, column c (borrowed). */
const char *eap_csv_cell(const struct eap_csv *t, size_t r, size_t c);

void eap_csv_release(struct eap_csv *t);

/* Write one field with RFC 4180 quoting when needed (comma, quote, CR, LF,
 * or a leading or trailing space or tab). */
void eap_csv_write_field(FILE *f, const char *s);

/* ---- pairs --------------------------------------------------------------- */

struct eap_pairs {
	size_t n;             /* rows */
	char **clean;         /* (N) clean prompts, no BOS */
	char **corrupted;     /* (N) corrupted prompts */
	char **answers;       /* (N) "|"-separated labels */
	char **foils;         /* (N) "|"-separated labels */
	size_t *line;         /* (N) file line of each row; 0 if not read */
	size_t n_extra;
	char **extra_names;   /* (n_extra) further columns, in file order */
	char **extra;         /* (N, n_extra) their cells */
	char *path;           /* the file read, for messages; NULL if built */
	size_t cap;           /* rows allocated */
};

/*
 * Read a pairs file.  Errors name the file and line: empty file, no header
 * or a header without one of the four columns, a duplicate column, a
 * wrong field count, an empty prompt, answers or foils, no data rows.
 */
int eap_pairs_read(struct eap_pairs *p, const char *path, struct eap_err *err);

/* Declare the extra columns of a pairs set that has no rows yet (copies). */
int eap_pairs_set_extra(struct eap_pairs *p, size_t n_extra,
			const char *const *names, struct eap_err *err);

/* Append a row (strings are copied; extra has n_extra cells or is NULL). */
int eap_pairs_append(struct eap_pairs *p, const char *clean,
		     const char *corrupted, const char *answers,
		     const char *foils, const char *const *extra,
		     struct eap_err *err);

/* Keep the first n rows (no-op if there are fewer). */
void eap_pairs_truncate(struct eap_pairs *p, size_t n);

/* Free the strings of row i (the caller then drops or overwrites it). */
void eap_pairs_free_row(struct eap_pairs *p, size_t i);

/* Write header and rows (clean,corrupted,answers,foils, then extras).
 * EAP_EIO if the stream reports an error. */
int eap_pairs_write(const struct eap_pairs *p, FILE *f, struct eap_err *err);

/* Free everything; safe on a zeroed struct or after a failed read. */
void eap_pairs_release(struct eap_pairs *p);

/*
 * "pairs.csv:17" for row i of a read file, "row 17" for a built one
 * (1-based), into buf.  For error messages of the pairs' consumers.
 */
const char *eap_pairs_where(const struct eap_pairs *p, size_t i, char *buf,
			    size_t size);

/* ---- token ids ----------------------------------------------------------- */

/*
 * The pairs as token ids.  Row i's prompts are clean[tok_off[i] ..
 * tok_off[i] + len[i]) and the same range of corrupted (both prompts of a
 * row have the same length, SPEC §4); its labels answers[ans_off[i] ..
 * ans_off[i+1]) and foils[foil_off[i] .. foil_off[i+1]).
 */
struct eap_pairs_ids {
	size_t n;
	size_t max_len;      /* longest prompt, BOS included */
	size_t *len;         /* (N) tokens of row i, BOS included */
	size_t *tok_off;     /* (N+1) */
	int32_t *clean;      /* (sum len) */
	int32_t *corrupted;  /* (sum len) */
	size_t *ans_off;     /* (N+1) */
	int32_t *answers;    /* (ans_off[N]) */
	size_t *foil_off;    /* (N+1) */
	int32_t *foils;      /* (foil_off[N]) */
};

/*
 * Tokenize every row (with BOS first if add_bos).  Errors name the row:
 *   pairs.csv:17: clean and corrupted prompts tokenize to different
 *     lengths (14 vs 15)
 *   pairs.csv:17: answer " Mary Ann" is 2 tokens, not 1
 *   pairs.csv:17: foil id #99999 is out of range (vocabulary of 50257)
 */
int eap_pairs_tokenize(struct eap_pairs_ids *ids, const struct eap_pairs *p,
		       const struct eap_tokenizer *tok, int add_bos,
		       struct eap_err *err);

void eap_pairs_ids_release(struct eap_pairs_ids *ids);

/*
 * Resolve one "|"-separated label set (what names the field in messages:
 * "answer" or "foil") to token ids in *ids (malloc'd, caller frees).  The
 * message carries no location; callers prefix it.
 */
int eap_pairs_labels(const struct eap_tokenizer *tok, const char *field,
		     const char *what, int32_t **ids, size_t *n,
		     struct eap_err *err);

/* ---- the paper's CSVs ---------------------------------------------------- */

/* The task names eap_pairs_import accepts, for usage messages. */
#define EAP_IMPORT_TASKS \
	"ioi|greater-than|sva|gender-bias|fact-retrieval-comma|hypernymy-comma"

/*
 * Convert the paper's CSV for task (one of EAP_IMPORT_TASKS) into pairs
 * with the answer and foil sets of SPEC §7, written as token ids `#id` of
 * tok (GPT-2 for the paper's files):
 *   ioi, gender-bias, fact-retrieval-comma: one answer, one foil (the
 *     label columns' ids);
 *   greater-than: the tokens "YY+1".."99" against "00".."YY";
 *   sva: the single-token " verb" forms of verbs_path (combined_verb_list
 *     .csv; NULL = next to csv_path) agreeing with the clean subject
 *     against the others, chosen as the reference's
 *     get_singular_and_plural(strict=True) does;
 *   hypernymy-comma: the answers_idx and corrupted_answers_idx lists.
 * Every id is checked against tok (in range; where the CSV names the word,
 * the token must spell it).  Columns other than clean and corrupted are
 * kept as extras (an unnamed first column is called "index").  Errors name
 * the CSV file and line.  out must be zeroed.
 */
int eap_pairs_import(struct eap_pairs *out, const char *task,
		     const char *csv_path, const char *verbs_path,
		     const struct eap_tokenizer *tok, struct eap_err *err);

/* Why eap_pairs_import_model dropped a row. */
enum eap_import_drop {
	EAP_DROP_LENGTH, /* clean and corrupted prompts of unequal length */
	EAP_DROP_ANSWER, /* the answer is not one token (hypernymy: none is) */
	EAP_DROP_FOIL,   /* the foil is not one token (hypernymy: none is) */
	EAP_DROP_SAME,   /* answer and foil became the same token */
	EAP_DROP_N,
};

/* One line's text for each reason, e.g. "the answer is not one token". */
const char *eap_import_drop_reason(enum eap_import_drop why);

/* What an import kept and dropped. */
struct eap_import_report {
	size_t rows;                  /* data rows read */
	size_t dropped[EAP_DROP_N];   /* by reason; a row counts once */
};

/*
 * eap_pairs_import for a model whose tokenizer is tok, when the CSV's label
 * ids belong to ids_tok (the paper's gpt2.csv: GPT-2's; NULL or tok: the
 * model's own, e.g. pythia.csv for a GPT-NeoX model).  The ids are checked
 * against ids_tok as eap_pairs_import checks them; with another tokenizer
 * each label is decoded to its text (" Mary") and re-tokenized with tok
 * (fact-retrieval-comma: the first token of " " + country, as the paper's
 * country_idx is; hypernymy-comma: the single-token words of each list).
 * Rows are kept only if, with tok, clean and corrupted prompts have the same
 * length and answer and foil are single tokens (and differ); the others are
 * dropped and counted in *rep by reason.  Keeping no row is an error.
 */
int eap_pairs_import_model(struct eap_pairs *out, const char *task,
			   const char *csv_path, const char *verbs_path,
			   const struct eap_tokenizer *tok,
			   const struct eap_tokenizer *ids_tok,
			   struct eap_import_report *rep, struct eap_err *err);

#endif
