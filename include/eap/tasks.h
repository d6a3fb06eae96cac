/*
 * tasks.h - tasks as data (SPEC §10): a task folder holds templates, word
 * lists and the answer/foil rule; this module loads it and generates
 * clean/corrupted pairs for a split, training sentences for the model
 * organism, and the organism's word vocabulary.
 *
 * The folder format is documented in data/tasks/README.md.  In short,
 * DIR/task.txt declares
 *   list NAME FILE [COLUMN ...]        a word table (one row per line)
 *   [train:|test:] var NAME = LIST [except VAR ...]
 *   [train:|test:] var NAME = one of WORD ... [except VAR ...]
 *   template FILE                      prompts: {var}, {var.col},
 *                                      {clean>corrupted} slots
 *   answer TERM ...  /  foil TERM ...  the label sets
 *   holdout FRACTION [unordered] KEY ...   the test split
 *   train SOURCE WEIGHT                clean | corrupted-either |
 *                                      corrupted-foil | FILE
 *   noise P                            a foil ends a clean sentence
 * and a folder without template/answer/foil/holdout only yields training
 * sentences (e.g. filler).
 *
 * Generation is deterministic given the struct eap_rng.  The split of an
 * example is a hash of its holdout key (not a random draw), so train and
 * test share no key, whatever the seed.
 *
 * Calling sequence:
 *   struct eap_task t = {0};
 *   struct eap_pairs p = {0};
 *   struct eap_rng rng;
 *   if (eap_task_load(&t, "data/tasks/ioi", &err) < 0) ...
 *   eap_rng_init(&rng, seed);
 *   if (eap_task_pairs(&t, EAP_SPLIT_TEST, 200, &rng, &p, &err) < 0) ...
 *   eap_pairs_release(&p);
 *   eap_task_release(&t);
 * and for the whole folder of folders, struct eap_taskset (corpus, vocab).
 */
#ifndef EAP_TASKS_H
#define EAP_TASKS_H

#include <stddef.h>
#include <stdio.h>

#include "eap/err.h"
#include "eap/pairs.h"
#include "eap/rng.h"

enum eap_split {
	EAP_SPLIT_TRAIN = 0,
	EAP_SPLIT_TEST = 1,
};

struct eap_task_impl; /* private: lists, variables, templates, rules */

struct eap_task {
	char *name;       /* the folder's base name, e.g. "ioi" */
	char *dir;        /* the folder as given */
	int has_prompts;  /* declares template, answer, foil and holdout */
	struct eap_task_impl *impl;
};

/*
 * Load DIR/task.txt and the files it names.  Errors name the file and line:
 * an unknown directive, a missing list file, a row with the wrong number of
 * fields, a template naming an unknown slot
 * ("data/tasks/x/templates.txt:3: unknown slot {place}"), an undeclared
 * variable or column, a prompt rule declared only in part.
 */
int eap_task_load(struct eap_task *task, const char *dir, struct eap_err *err);

/* Free everything; safe on a zeroed struct or after a failed load. */
void eap_task_release(struct eap_task *task);

/*
 * Append n examples of split to out (zeroed, or holding rows without extra
 * columns): clean and corrupted prompts with the same number of words,
 * answers and foils as "|"-separated words, disjoint and non-empty.  An
 * error if the task has no prompts or no example of the split can be drawn.
 */
int eap_task_pairs(const struct eap_task *task, enum eap_split split,
		   size_t n, struct eap_rng *rng, struct eap_pairs *out,
		   struct eap_err *err);

/*
 * One training sentence from the train split (malloc'd into *sentence):
 * a source picked by the `train` weights, e.g. a clean prompt followed by
 * one of its answers.
 */
int eap_task_sentence(const struct eap_task *task, struct eap_rng *rng,
		      char **sentence, struct eap_err *err);

/*
 * Every word the task can produce (template words, list entries, rendered
 * literal words), sorted by strcmp and unique, into *words (malloc'd array
 * of malloc'd strings; free with eap_words_free).
 */
int eap_task_vocab(const struct eap_task *task, char ***words, size_t *n,
		   struct eap_err *err);

void eap_words_free(char **words, size_t n);

/* ---- a folder of task folders --------------------------------------------- */

struct eap_taskset {
	size_t n;
	struct eap_task *tasks;  /* (n) the subfolders holding task.txt, by name */
	double *weight;          /* (n) normalised mix weights; 0 = not mixed */
	int has_mix;
};

/*
 * Load every subfolder of dir that holds a task.txt, and the mix weights
 * from mix_path (lines "TASK WEIGHT"; NULL = no mix, enough for the
 * vocabulary).  A mix line naming no folder is an error.
 */
int eap_taskset_load(struct eap_taskset *ts, const char *dir,
		     const char *mix_path, struct eap_err *err);

void eap_taskset_release(struct eap_taskset *ts);

/*
 * Write n training sentences to out, one per line: each from a task drawn
 * by the mix weights, from its train split only.
 */
int eap_taskset_corpus(const struct eap_taskset *ts, size_t n,
		       struct eap_rng *rng, FILE *out, struct eap_err *err);

/*
 * The word vocabulary of a word-level model for these tasks: "<bos>" first,
 * then every word of every task, sorted by strcmp, unique.
 */
int eap_taskset_vocab(const struct eap_taskset *ts, char ***words, size_t *n,
		      struct eap_err *err);

#endif
