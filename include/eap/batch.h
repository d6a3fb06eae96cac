/*
 * batch.h - cut tokenized pairs into right-padded batches (SPEC §4).
 *
 *   struct eap_batcher bt = {0};
 *   eap_batcher_init(&bt, &ids, B, &err);
 *   for (size_t s = 0; s < ids.n; s += B) {
 *       struct eap_batch b;
 *       eap_batcher_fill(&bt, &ids, s, min(B, ids.n - s), 0, &b);
 *       ... eap_run_score(&run, &b, ...) ...
 *   }
 *   eap_batcher_release(&bt);
 *
 * The batcher owns the padded arrays the batches point into; a batch is
 * valid until the next fill.
 */
#ifndef EAP_BATCH_H
#define EAP_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "eap/attrib.h"
#include "eap/err.h"
#include "eap/model.h"
#include "eap/pairs.h"

struct eap_batcher {
	size_t B, P;          /* rows per batch, longest prompt overall */
	size_t A, F;          /* widest answer and foil sets */
	int32_t *clean;       /* (B, P) */
	int32_t *corrupted;   /* (B, P) */
	int32_t *lengths;     /* (B) */
	int32_t *answers;     /* (B, A), -1 padded */
	int32_t *foils;       /* (B, F), -1 padded */
};

int eap_batcher_init(struct eap_batcher *bt, const struct eap_pairs_ids *ids,
		     size_t B, struct eap_err *err);

/*
 * Rows start..start+nb-1 into *out, padded with token 0 to the longest of
 * these rows, or to bt->P if full_width (so batches line up with acts.h5).
 */
void eap_batcher_fill(struct eap_batcher *bt, const struct eap_pairs_ids *ids,
		      size_t start, size_t nb, int full_width,
		      struct eap_batch *out);

void eap_batcher_release(struct eap_batcher *bt);

/*
 * Check the pairs against the model: every prompt fits n_positions and
 * every token and label id is inside the model's vocabulary.  Errors name
 * the row ("pairs.csv:17: prompt has 1100 tokens, more than n_positions
 * 1024").
 */
int eap_pairs_check_model(const struct eap_pairs_ids *ids,
			  const struct eap_pairs *p,
			  const struct eap_config *cfg, struct eap_err *err);

#endif
