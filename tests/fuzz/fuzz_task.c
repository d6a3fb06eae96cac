/*
 * fuzz_task.c - task folders (eap_task_load on a folder made from the
 * input, then what eap-corrupt does with a loaded task: pairs of both
 * splits, training sentences, the vocabulary).  The input is an archive
 * of the folder's files (fuzz_util.h), e.g. "=== task.txt" followed by
 * the task file, "=== names.txt" followed by a list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eap/pairs.h"
#include "eap/rng.h"
#include "eap/tasks.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_section sec[FUZZ_MAX_SECTIONS];
	struct eap_task t = { 0 };
	struct eap_err err = { 0 };
	struct eap_rng rng;
	char dir[4096];
	char **words = NULL;
	size_t n_words = 0;
	int rc;

	fuzz_unpack(data, size, sec);
	snprintf(dir, sizeof(dir), "%s", fuzz_dir());
	rc = eap_task_load(&t, dir, &err);
	fuzz_check_rc(rc, &err);
	if (rc)
		goto out;
	rc = eap_task_vocab(&t, &words, &n_words, &err);
	fuzz_check_rc(rc, &err);
	if (!rc) {
		for (size_t i = 1; i < n_words; i++)
			FUZZ_CHECK(strcmp(words[i - 1], words[i]) < 0,
				   "vocabulary not sorted and unique at %zu", i);
		eap_words_free(words, n_words);
	}
	eap_rng_init(&rng, size);
	if (t.has_prompts)
		for (int split = 0; split < 2; split++) {
			struct eap_pairs p = { 0 };

			memset(&err, 0, sizeof(err));
			rc = eap_task_pairs(&t, split ? EAP_SPLIT_TEST : EAP_SPLIT_TRAIN,
					    4, &rng, &p, &err);
			fuzz_check_rc(rc, &err);
			if (!rc) {
				FUZZ_CHECK(p.n == 4, "%zu pairs, asked for 4", p.n);
				for (size_t i = 0; i < p.n; i++)
					FUZZ_CHECK(p.answers[i][0] && p.foils[i][0],
						   "empty answers or foils");
			}
			eap_pairs_release(&p);
		}
	for (int i = 0; i < 4; i++) {
		char *s = NULL;

		memset(&err, 0, sizeof(err));
		rc = eap_task_sentence(&t, &rng, &s, &err);
		fuzz_check_rc(rc, &err);
		FUZZ_CHECK(rc || s, "no sentence and no error");
		free(s);
		if (rc)
			break;
	}
out:
	eap_task_release(&t);
	return 0;
}
