/*
 * batch.c - see include/eap/batch.h.
 */
#include "eap/batch.h"

#include <stdlib.h>
#include <string.h>

int eap_batcher_init(struct eap_batcher *bt, const struct eap_pairs_ids *ids,
		     size_t B, struct eap_err *err)
{
	memset(bt, 0, sizeof(*bt));
	if (!B || !ids->n)
		return eap_err_set(err, EAP_EINVAL, "empty batch or no pairs");
	bt->B = B;
	bt->P = ids->max_len;
	bt->A = bt->F = 1;
	for (size_t i = 0; i < ids->n; i++) {
		size_t a = ids->ans_off[i + 1] - ids->ans_off[i];
		size_t f = ids->foil_off[i + 1] - ids->foil_off[i];

		if (a > bt->A)
			bt->A = a;
		if (f > bt->F)
			bt->F = f;
	}
	bt->clean = calloc(B * bt->P, sizeof(int32_t));
	bt->corrupted = calloc(B * bt->P, sizeof(int32_t));
	bt->lengths = calloc(B, sizeof(int32_t));
	bt->answers = calloc(B * bt->A, sizeof(int32_t));
	bt->foils = calloc(B * bt->F, sizeof(int32_t));
	if (!bt->clean || !bt->corrupted || !bt->lengths || !bt->answers ||
	    !bt->foils) {
		eap_batcher_release(bt);
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	return 0;
}

void eap_batcher_fill(struct eap_batcher *bt, const struct eap_pairs_ids *ids,
		      size_t start, size_t nb, int full_width,
		      struct eap_batch *out)
{
	size_t np = 1;

	for (size_t b = 0; b < nb; b++)
		if (ids->len[start + b] > np)
			np = ids->len[start + b];
	if (full_width)
		np = bt->P;
	for (size_t b = 0; b < nb; b++) {
		size_t i = start + b, len = ids->len[i];
		size_t na = ids->ans_off[i + 1] - ids->ans_off[i];
		size_t nf = ids->foil_off[i + 1] - ids->foil_off[i];

		memset(bt->clean + b * np, 0, np * sizeof(int32_t));
		memset(bt->corrupted + b * np, 0, np * sizeof(int32_t));
		memcpy(bt->clean + b * np, ids->clean + ids->tok_off[i],
		       len * sizeof(int32_t));
		memcpy(bt->corrupted + b * np, ids->corrupted + ids->tok_off[i],
		       len * sizeof(int32_t));
		bt->lengths[b] = (int32_t)len;
		for (size_t k = 0; k < bt->A; k++)
			bt->answers[b * bt->A + k] =
				k < na ? ids->answers[ids->ans_off[i] + k] : -1;
		for (size_t k = 0; k < bt->F; k++)
			bt->foils[b * bt->F + k] =
				k < nf ? ids->foils[ids->foil_off[i] + k] : -1;
	}
	*out = (struct eap_batch){ nb, np, bt->A, bt->F, bt->clean,
				   bt->corrupted, bt->lengths, bt->answers,
				   bt->foils };
}

void eap_batcher_release(struct eap_batcher *bt)
{
	free(bt->clean);
	free(bt->corrupted);
	free(bt->lengths);
	free(bt->answers);
	free(bt->foils);
	memset(bt, 0, sizeof(*bt));
}

/* Whether every id of ids[0..n) is inside 0..V-1; *bad gets the first bad. */
static int ids_in_vocab(const int32_t *ids, size_t n, size_t V, int32_t *bad)
{
	for (size_t k = 0; k < n; k++)
		if (ids[k] < 0 || (size_t)ids[k] >= V) {
			*bad = ids[k];
			return 0;
		}
	return 1;
}

int eap_pairs_check_model(const struct eap_pairs_ids *ids,
			  const struct eap_pairs *p,
			  const struct eap_config *cfg, struct eap_err *err)
{
	char where[4200];
	int32_t bad;

	for (size_t i = 0; i < ids->n; i++) {
		size_t len = ids->len[i];

		eap_pairs_where(p, i, where, sizeof(where));
		if (len > cfg->n_ctx)
			return eap_err_set(err, EAP_EINVAL,
					   "%s: prompt has %zu tokens, more than n_positions %zu",
					   where, len, cfg->n_ctx);
		if (!ids_in_vocab(ids->clean + ids->tok_off[i], len, cfg->n_vocab, &bad) ||
		    !ids_in_vocab(ids->corrupted + ids->tok_off[i], len, cfg->n_vocab, &bad) ||
		    !ids_in_vocab(ids->answers + ids->ans_off[i],
				  ids->ans_off[i + 1] - ids->ans_off[i], cfg->n_vocab, &bad) ||
		    !ids_in_vocab(ids->foils + ids->foil_off[i],
				  ids->foil_off[i + 1] - ids->foil_off[i], cfg->n_vocab, &bad))
			return eap_err_set(err, EAP_EINVAL,
					   "%s: token id %d is outside the model's vocabulary (%zu)",
					   where, bad, cfg->n_vocab);
		if (ids->ans_off[i + 1] == ids->ans_off[i] ||
		    ids->foil_off[i + 1] == ids->foil_off[i])
			return eap_err_set(err, EAP_EINVAL,
					   "%s: needs at least one answer and one foil",
					   where);
	}
	return 0;
}
