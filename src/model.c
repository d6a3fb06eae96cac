/*
 * model.c - see include/eap/model.h.
 */
#include "eap/model.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/linalg.h"
#include "eap/ops.h"
#include "eap/safetensors.h"

/* ---- the parameter table ------------------------------------------------ */

static void add_param(struct eap_param *out, size_t max, size_t *i,
		      size_t *off, const char *name, size_t d0, size_t d1)
{
	if (out && *i < max) {
		struct eap_param *p = &out[*i];

		snprintf(p->name, sizeof(p->name), "%s", name);
		p->ndim = d1 ? 2 : 1;
		p->shape[0] = d0;
		p->shape[1] = d1;
		p->numel = d1 ? d0 * d1 : d0;
		p->offset = *off;
	}
	*off += d1 ? d0 * d1 : d0;
	(*i)++;
}

size_t eap_model_params(const struct eap_config *c, struct eap_param *out,
			size_t max, size_t *total)
{
	size_t i = 0, off = 0, d = c->d_model, m = c->d_mlp;
	char name[64];

	add_param(out, max, &i, &off, "wte.weight", c->n_vocab, d);
	add_param(out, max, &i, &off, "wpe.weight", c->n_ctx, d);
	for (size_t l = 0; l < c->n_layer; l++) {
		static const struct {
			const char *suffix;
			int rows, cols; /* in units: 1 = d, 3 = 3d, 4 = d_mlp */
		} t[] = {
			{ "ln_1.weight", 1, 0 },	{ "ln_1.bias", 1, 0 },
			{ "attn.c_attn.weight", 1, 3 }, { "attn.c_attn.bias", 3, 0 },
			{ "attn.c_proj.weight", 1, 1 }, { "attn.c_proj.bias", 1, 0 },
			{ "ln_2.weight", 1, 0 },	{ "ln_2.bias", 1, 0 },
			{ "mlp.c_fc.weight", 1, 4 },	{ "mlp.c_fc.bias", 4, 0 },
			{ "mlp.c_proj.weight", 4, 1 },	{ "mlp.c_proj.bias", 1, 0 },
		};
		for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
			size_t r = t[k].rows == 4 ? m : t[k].rows * d;
			size_t cc = t[k].cols == 4 ? m : t[k].cols * d;

			snprintf(name, sizeof(name), "h.%zu.%s", l, t[k].suffix);
			add_param(out, max, &i, &off, name, r, cc);
		}
	}
	add_param(out, max, &i, &off, "ln_f.weight", d, 0);
	add_param(out, max, &i, &off, "ln_f.bias", d, 0);
	if (!c->tied)
		add_param(out, max, &i, &off, "lm_head.weight", c->n_vocab, d);
	if (total)
		*total = off;
	return i;
}

/* Point the weight struct into m->params, in table order. */
static void point_weights(struct eap_model *m)
{
	const struct eap_config *c = &m->cfg;
	size_t d = c->d_model, mm = c->d_mlp;
	float *p = m->params;

	m->w.wte = p;
	p += c->n_vocab * d;
	m->w.wpe = p;
	p += c->n_ctx * d;
	for (size_t l = 0; l < c->n_layer; l++) {
		struct eap_layer *L = &m->w.layers[l];

		L->ln1_w = p; p += d;
		L->ln1_b = p; p += d;
		L->w_qkv = p; p += d * 3 * d;
		L->b_qkv = p; p += 3 * d;
		L->w_o = p; p += d * d;
		L->b_o = p; p += d;
		L->ln2_w = p; p += d;
		L->ln2_b = p; p += d;
		L->w_fc = p; p += d * mm;
		L->b_fc = p; p += mm;
		L->w_proj = p; p += mm * d;
		L->b_proj = p; p += d;
	}
	m->w.lnf_w = p; p += d;
	m->w.lnf_b = p; p += d;
	m->w.unembed = c->tied ? m->w.wte : p;
}

/* ---- config.json -------------------------------------------------------- */

static char *read_file(const char *path, size_t *len, struct eap_err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f) {
		eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		eap_err_set(err, EAP_EIO, "%s: cannot read", path);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		eap_err_set(err, EAP_EIO, "%s: cannot read", path);
		return NULL;
	}
	buf[n] = 0;
	*len = (size_t)n;
	fclose(f);
	return buf;
}

/* A positive integer field; 0 if absent and optional, error otherwise. */
static int cfg_int(const cJSON *root, const char *key, int required,
		   size_t *out, const char *path, struct eap_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	double v;

	*out = 0;
	if (!j || cJSON_IsNull(j)) {
		if (required)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: missing key \"%s\"", path, key);
		return 0;
	}
	v = cJSON_IsNumber(j) ? j->valuedouble : -1;
	if (!(v >= 1 && v <= 1e9) || v != floor(v))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"%s\" must be a positive integer", path,
				   key);
	*out = (size_t)v;
	return 0;
}

int eap_config_load(struct eap_config *c, const char *path,
		    struct eap_err *err)
{
	size_t len, bos = 0;
	char *text = read_file(path, &len, err);
	cJSON *root;
	const cJSON *j;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!text)
		return err ? err->code : EAP_EIO;
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return eap_err_set(err, EAP_EFORMAT, "%s: not a JSON object",
				   path);
	}
	if ((rc = cfg_int(root, "n_layer", 1, &c->n_layer, path, err)) ||
	    (rc = cfg_int(root, "n_head", 1, &c->n_head, path, err)) ||
	    (rc = cfg_int(root, "n_embd", 1, &c->d_model, path, err)) ||
	    (rc = cfg_int(root, "n_positions", 1, &c->n_ctx, path, err)) ||
	    (rc = cfg_int(root, "vocab_size", 1, &c->n_vocab, path, err)) ||
	    (rc = cfg_int(root, "n_inner", 0, &c->d_mlp, path, err)))
		goto out;
	if (c->d_model % c->n_head) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: n_embd %zu is not a multiple of n_head %zu",
				 path, c->d_model, c->n_head);
		goto out;
	}
	c->d_head = c->d_model / c->n_head;
	if (!c->d_mlp)
		c->d_mlp = 4 * c->d_model;
	c->ln_eps = 1e-5f;
	j = cJSON_GetObjectItemCaseSensitive(root, "layer_norm_epsilon");
	if (j) {
		/* in float: 1e-50 would round to 0 and divide by zero in
		 * LayerNorm (found by fuzz_config) */
		if (!cJSON_IsNumber(j) || !((float)j->valuedouble > 0.0f &&
					    j->valuedouble < 1)) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: \"layer_norm_epsilon\" must be a number in (0, 1) that is not 0 as a float",
					 path);
			goto out;
		}
		c->ln_eps = (float)j->valuedouble;
	}
	c->bos_id = -1;
	j = cJSON_GetObjectItemCaseSensitive(root, "bos_token_id");
	if (j && !cJSON_IsNull(j)) {
		if (cJSON_IsNumber(j) && j->valuedouble == 0)
			bos = 0;
		else if ((rc = cfg_int(root, "bos_token_id", 1, &bos, path, err)))
			goto out;
		if (bos >= c->n_vocab) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: bos_token_id %zu is not below vocab_size %zu",
					 path, bos, c->n_vocab);
			goto out;
		}
		c->bos_id = (int32_t)bos;
	}
	c->tied = 1;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

/* ---- loading and saving ------------------------------------------------- */

int eap_model_alloc(struct eap_model *m, const struct eap_config *cfg,
		    struct eap_err *err)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	eap_model_params(cfg, NULL, 0, &m->n_params);
	m->params = calloc(m->n_params, sizeof(float));
	m->w.layers = calloc(cfg->n_layer, sizeof(*m->w.layers));
	if (!m->params || !m->w.layers) {
		eap_model_release(m);
		return eap_err_set(err, EAP_ENOMEM,
				   "out of memory for %zu parameters",
				   m->n_params);
	}
	point_weights(m);
	return 0;
}

static const struct eap_st_tensor *find_param(const struct eap_safetensors *st,
					      const char *name)
{
	char full[96];
	const struct eap_st_tensor *t = eap_safetensors_find(st, name);

	if (t)
		return t;
	snprintf(full, sizeof(full), "transformer.%s", name);
	return eap_safetensors_find(st, full);
}

static void shape_str(char *buf, size_t n, const size_t *shape, size_t ndim)
{
	size_t k = (size_t)snprintf(buf, n, "[");

	for (size_t i = 0; i < ndim && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%zu", i ? ", " : "",
				      shape[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

int eap_model_load(struct eap_model *m, const char *dir, struct eap_err *err)
{
	struct eap_safetensors st = { 0 };
	struct eap_config cfg, tcfg;
	struct eap_param *table = NULL;
	const struct eap_st_tensor *fc;
	char path[4096], cpath[4096];
	size_t n, i;
	int rc;

	memset(m, 0, sizeof(*m));
	snprintf(cpath, sizeof(cpath), "%s/config.json", dir);
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if ((rc = eap_config_load(&cfg, cpath, err)))
		return rc;
	if ((rc = eap_safetensors_open(&st, path, err)))
		goto fail;
	/* The MLP width comes from the weights (SPEC §3). */
	fc = find_param(&st, "h.0.mlp.c_fc.weight");
	if (fc && fc->ndim == 2) {
		size_t n_inner = cfg.d_mlp;

		cfg.d_mlp = fc->shape[1];
		if (n_inner != 4 * cfg.d_model && n_inner != cfg.d_mlp) {
			rc = eap_err_set(err, EAP_ESHAPE,
					 "%s: tensor \"h.0.mlp.c_fc.weight\" has width %zu, %s says n_inner %zu",
					 path, cfg.d_mlp, cpath, n_inner);
			goto fail;
		}
	}
	cfg.tied = find_param(&st, "lm_head.weight") == NULL;
	/*
	 * Every shape is checked against the file before anything is
	 * allocated: a config that disagrees with small weights (n_layer,
	 * n_embd too large) must fail naming a tensor, not allocate gigabytes
	 * or build a table of 12 rows for each claimed layer (found by
	 * fuzz_config).  A layer has 12 tensors, so with more layers than
	 * n_tensors / 12 the first n_tensors / 12 + 1 already lack one, the
	 * same one the whole table would report first.
	 */
	tcfg = cfg;
	if (tcfg.n_layer > st.n_tensors / 12)
		tcfg.n_layer = st.n_tensors / 12 + 1;
	n = eap_model_params(&tcfg, NULL, 0, NULL);
	table = calloc(n, sizeof(*table));
	if (!table) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	eap_model_params(&tcfg, table, n, NULL);
	for (i = 0; i < n; i++) {
		const struct eap_param *p = &table[i];
		const struct eap_st_tensor *t = find_param(&st, p->name);
		char want[64], got[64];

		if (!t) {
			rc = eap_err_set(err, EAP_ESHAPE,
					 "%s: missing tensor \"%s\"", path,
					 p->name);
			goto fail;
		}
		if (t->ndim != p->ndim || t->shape[0] != p->shape[0] ||
		    (p->ndim == 2 && t->shape[1] != p->shape[1])) {
			shape_str(want, sizeof(want), p->shape, p->ndim);
			shape_str(got, sizeof(got), t->shape, t->ndim);
			rc = eap_err_set(err, EAP_ESHAPE,
					 "%s: tensor \"%s\" has shape %s, %s implies %s",
					 path, t->name, got, cpath, want);
			goto fail;
		}
	}
	if (tcfg.n_layer != cfg.n_layer) { /* not reached, see above */
		rc = eap_err_set(err, EAP_ESHAPE, "%s: %s says %zu layers",
				 path, cpath, cfg.n_layer);
		goto fail;
	}
	if ((rc = eap_model_alloc(m, &cfg, err)))
		goto fail;
	for (i = 0; i < n; i++) {
		const struct eap_param *p = &table[i];
		const struct eap_st_tensor *t = find_param(&st, p->name);
		float *dst = m->params + p->offset;

		if ((rc = eap_safetensors_read_f32(&st, t, dst, p->numel, err)))
			goto fail;
		for (size_t k = 0; k < p->numel; k++)
			if (!isfinite(dst[k])) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s: tensor \"%s\" has a non-finite value at element %zu",
						 path, t->name, k);
				goto fail;
			}
	}
	m->dir = strdup(dir);
	if (!m->dir) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	free(table);
	eap_safetensors_release(&st);
	return 0;
fail:
	free(table);
	eap_safetensors_release(&st);
	eap_model_release(m);
	return rc;
}

static int write_config(const struct eap_config *c, const char *path,
			struct eap_err *err)
{
	cJSON *root = cJSON_CreateObject();
	char *text = NULL, tmp[4200];
	FILE *f;
	int rc = 0;

	cJSON_AddStringToObject(root, "model_type", "gpt2");
	cJSON_AddNumberToObject(root, "n_layer", (double)c->n_layer);
	cJSON_AddNumberToObject(root, "n_head", (double)c->n_head);
	cJSON_AddNumberToObject(root, "n_embd", (double)c->d_model);
	cJSON_AddNumberToObject(root, "n_positions", (double)c->n_ctx);
	cJSON_AddNumberToObject(root, "vocab_size", (double)c->n_vocab);
	cJSON_AddNumberToObject(root, "n_inner", (double)c->d_mlp);
	cJSON_AddNumberToObject(root, "layer_norm_epsilon", (double)c->ln_eps);
	if (c->bos_id >= 0)
		cJSON_AddNumberToObject(root, "bos_token_id", (double)c->bos_id);
	text = cJSON_Print(root);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = text ? fopen(tmp, "w") : NULL;
	if (!f) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", tmp);
		goto out;
	}
	fprintf(f, "%s\n", text);
	if (ferror(f) | fclose(f) || rename(tmp, path) < 0) {
		unlink(tmp);
		rc = eap_err_set(err, EAP_EIO, "%s: cannot write", path);
	}
out:
	free(text);
	cJSON_Delete(root);
	return rc;
}

int eap_model_save(const struct eap_model *m, const char *dir,
		   struct eap_err *err)
{
	size_t n = eap_model_params(&m->cfg, NULL, 0, NULL);
	struct eap_param *table = calloc(n, sizeof(*table));
	struct eap_st_out *out = calloc(n, sizeof(*out));
	char path[4096];
	int rc;

	if (!table || !out) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	eap_model_params(&m->cfg, table, n, NULL);
	for (size_t i = 0; i < n; i++) {
		out[i].name = table[i].name;
		out[i].ndim = table[i].ndim;
		out[i].shape[0] = table[i].shape[0];
		out[i].shape[1] = table[i].shape[1];
		out[i].data = m->params + table[i].offset;
	}
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if ((rc = eap_safetensors_write(path, out, n, err)))
		goto out;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	rc = write_config(&m->cfg, path, err);
out:
	free(out);
	free(table);
	return rc;
}

void eap_model_release(struct eap_model *m)
{
	free(m->params);
	free(m->w.layers);
	free(m->dir);
	memset(m, 0, sizeof(*m));
}

/* ---- forward ------------------------------------------------------------ */

int eap_fwd_init(struct eap_fwd *f, const struct eap_config *c, size_t B,
		 size_t P, int all_positions, struct eap_err *err)
{
	size_t n = B * P, d = c->d_model, L = c->n_layer;
	size_t per_layer = n * d * 7 + n * 4 + n * 3 * d +
			   B * c->n_head * P * P + 2 * n * c->d_mlp;
	size_t total = L * per_layer + 2 * n * d + 2 * n + B * d +
		       (all_positions ? n : B) * c->n_vocab;
	float *p;

	memset(f, 0, sizeof(*f));
	f->B = B;
	f->P = P;
	f->all_positions = all_positions;
	f->mem = calloc(total, sizeof(float));
	f->layers = calloc(L, sizeof(*f->layers));
	f->lengths = calloc(B, sizeof(*f->lengths));
	if (!f->mem || !f->layers || !f->lengths) {
		eap_fwd_release(f);
		return eap_err_set(err, EAP_ENOMEM,
				   "out of memory for a batch of %zu x %zu", B,
				   P);
	}
	f->n_mem = total;
	p = f->mem;
	for (size_t l = 0; l < L; l++) {
		struct eap_fwd_layer *fl = &f->layers[l];

		fl->x_in = p; p += n * d;
		fl->ln1 = p; p += n * d;
		fl->ln1_stat = p; p += 2 * n;
		fl->qkv = p; p += 3 * n * d;
		fl->att = p; p += B * c->n_head * P * P;
		fl->z = p; p += n * d;
		fl->x_mid = p; p += n * d;
		fl->ln2 = p; p += n * d;
		fl->ln2_stat = p; p += 2 * n;
		fl->fc = p; p += n * c->d_mlp;
		fl->gelu = p; p += n * c->d_mlp;
		fl->mlp_out = p; p += n * d;
	}
	f->x_out = p; p += n * d;
	f->lnf = p; p += n * d;
	f->lnf_stat = p; p += 2 * n;
	f->lnf_last = p; p += B * d;
	f->logits = p;
	return 0;
}

void eap_fwd_release(struct eap_fwd *f)
{
	free(f->mem);
	free(f->layers);
	free(f->lengths);
	memset(f, 0, sizeof(*f));
}

/* out (n, w) = bias broadcast over rows, so a following sgemm adds into it. */
static void fill_bias(float *out, const float *bias, size_t n, size_t w)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * w, bias, w * sizeof(float));
}

/* Check the batch shape and the lengths; remember them in f. */
static int check_batch(const struct eap_model *m, struct eap_fwd *f,
		       const int32_t *lengths, size_t nb, size_t np,
		       struct eap_err *err)
{
	if (nb > f->B || np > f->P || np > m->cfg.n_ctx || !nb || !np)
		return eap_err_set(err, EAP_EINVAL,
				   "batch %zu x %zu does not fit (capacity %zu x %zu, n_positions %zu)",
				   nb, np, f->B, f->P, m->cfg.n_ctx);
	for (size_t b = 0; b < nb; b++) {
		if (lengths[b] < 1 || (size_t)lengths[b] > np)
			return eap_err_set(err, EAP_EINVAL,
					   "row %zu: length %d outside 1..%zu", b,
					   lengths[b], np);
		f->lengths[b] = lengths[b];
	}
	f->nb = nb;
	f->np = np;
	return 0;
}

int eap_model_embed(const struct eap_model *m, float *x0,
		    const int32_t *tokens, size_t nb, size_t np,
		    struct eap_err *err)
{
	size_t d = m->cfg.d_model;

	if (np > m->cfg.n_ctx)
		return eap_err_set(err, EAP_EINVAL,
				   "%zu positions exceed n_positions %zu", np,
				   m->cfg.n_ctx);
	for (size_t i = 0; i < nb * np; i++) {
		int32_t t = tokens[i];
		const float *te, *pe = m->w.wpe + (i % np) * d;

		if (t < 0 || (size_t)t >= m->cfg.n_vocab)
			return eap_err_set(err, EAP_EINVAL,
					   "row %zu: token id %d outside the vocabulary (%zu)",
					   i / np, t, m->cfg.n_vocab);
		te = m->w.wte + (size_t)t * d;
		for (size_t j = 0; j < d; j++)
			x0[i * d + j] = te[j] + pe[j];
	}
	return 0;
}

int eap_model_forward(const struct eap_model *m, struct eap_fwd *f,
		      const int32_t *tokens, const int32_t *lengths, size_t nb,
		      size_t np, struct eap_err *err)
{
	int rc = check_batch(m, f, lengths, nb, np, err);

	if (rc)
		return rc;
	/* x0 = W_te[tok] + W_pe[pos] */
	if ((rc = eap_model_embed(m, f->layers[0].x_in, tokens, nb, np, err)))
		return rc;
	return eap_model_forward_embedded(m, f, NULL, lengths, nb, np, err);
}

int eap_model_forward_embedded(const struct eap_model *m, struct eap_fwd *f,
			       const float *x0, const int32_t *lengths,
			       size_t nb, size_t np, struct eap_err *err)
{
	int rc = check_batch(m, f, lengths, nb, np, err);

	if (rc)
		return rc;
	if (x0)
		memcpy(f->layers[0].x_in, x0, nb * np * m->cfg.d_model * sizeof(float));
	return eap_model_forward_from(m, f, 0, lengths, nb, np, err);
}

/* The layers from l0 on; mid: layer l0 starts at its MLP, from x_mid. */
static int forward_from(const struct eap_model *m, struct eap_fwd *f,
			size_t l0, int mid, const int32_t *lengths, size_t nb,
			size_t np, struct eap_err *err)
{
	const struct eap_config *c = &m->cfg;
	size_t d = c->d_model, V = c->n_vocab, dm = c->d_mlp, n = nb * np;
	int rc = check_batch(m, f, lengths, nb, np, err);

	if (rc)
		return rc;
	if (l0 > c->n_layer || (mid && l0 == c->n_layer))
		return eap_err_set(err, EAP_EINVAL, "start layer %zu past the %zu layers",
				   l0, c->n_layer);
	for (size_t l = l0; l < c->n_layer; l++) {
		const struct eap_layer *W = &m->w.layers[l];
		struct eap_fwd_layer *F = &f->layers[l];
		float *x_next = l + 1 < c->n_layer ? f->layers[l + 1].x_in
						    : f->x_out;

		if (mid && l == l0)
			goto mlp;
		eap_layernorm_forward(F->ln1, F->ln1_stat, F->x_in, W->ln1_w,
				      W->ln1_b, n, d, c->ln_eps);
		fill_bias(F->qkv, W->b_qkv, n, 3 * d);
		eap_sgemm(0, 0, n, 3 * d, d, 1.0f, F->ln1, d, W->w_qkv, 3 * d,
			  1.0f, F->qkv, 3 * d);
		eap_attention_forward(F->z, F->att, F->qkv, nb, np, c->n_head,
				      c->d_head);
		/* x_mid = x_in + b_O + z W_O */
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++)
				F->x_mid[i * d + j] = F->x_in[i * d + j] + W->b_o[j];
		eap_sgemm(0, 0, n, d, d, 1.0f, F->z, d, W->w_o, d, 1.0f,
			  F->x_mid, d);
mlp:
		eap_layernorm_forward(F->ln2, F->ln2_stat, F->x_mid, W->ln2_w,
				      W->ln2_b, n, d, c->ln_eps);
		fill_bias(F->fc, W->b_fc, n, dm);
		eap_sgemm(0, 0, n, dm, d, 1.0f, F->ln2, d, W->w_fc, dm, 1.0f,
			  F->fc, dm);
		(f->fast_gelu ? eap_gelu_forward_fast
			      : eap_gelu_forward)(F->gelu, F->fc, n * dm);
		fill_bias(F->mlp_out, W->b_proj, n, d);
		eap_sgemm(0, 0, n, d, dm, 1.0f, F->gelu, dm, W->w_proj, d,
			  1.0f, F->mlp_out, d);
		for (size_t i = 0; i < n * d; i++)
			x_next[i] = F->x_mid[i] + F->mlp_out[i];
	}
	eap_layernorm_forward(f->lnf, f->lnf_stat, f->x_out, m->w.lnf_w,
			      m->w.lnf_b, n, d, c->ln_eps);
	if (f->all_positions) {
		eap_sgemm(0, 1, n, V, d, 1.0f, f->lnf, d, m->w.unembed, d, 0.0f,
			  f->logits, V);
	} else {
		/* Only the last real position of each row is read (SPEC §4):
		 * gather those rows, then one matmul. */
		for (size_t b = 0; b < nb; b++)
			memcpy(f->lnf_last + b * d,
			       f->lnf + (b * np + (size_t)lengths[b] - 1) * d,
			       d * sizeof(float));
		eap_sgemm(0, 1, nb, V, d, 1.0f, f->lnf_last, d, m->w.unembed, d,
			  0.0f, f->logits, V);
	}
	return 0;
}

int eap_model_forward_from(const struct eap_model *m, struct eap_fwd *f,
			   size_t l0, const int32_t *lengths, size_t nb,
			   size_t np, struct eap_err *err)
{
	return forward_from(m, f, l0, 0, lengths, nb, np, err);
}

int eap_model_forward_mid(const struct eap_model *m, struct eap_fwd *f,
			  size_t l0, const int32_t *lengths, size_t nb,
			  size_t np, struct eap_err *err)
{
	return forward_from(m, f, l0, 1, lengths, nb, np, err);
}
