/*
 * model.c - see include/eap/model.h.
 */
#include "eap/model.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/family.h"
#include "eap/hfdir.h"
#include "eap/linalg.h"
#include "eap/ops.h"
#include "eap/safetensors.h"

/* ---- the parameter table ------------------------------------------------ */

/* A config built by hand (tests, eap-train) has no family: GPT-2's. */
void eap_config_normalize(struct eap_config *c)
{
	if (!c->arch.family[0]) {
		eap_arch_gpt2(&c->arch);
		if (c->ln_eps > 0)
			c->arch.norm_eps = c->ln_eps;
		if (c->d_head)
			c->arch.attn_scale = 1.0f / sqrtf((float)c->d_head);
	}
	if (!c->n_kv_head)
		c->n_kv_head = c->n_head;
	if (!c->d_head && c->n_head)
		c->d_head = c->d_model / c->n_head;
	if (!c->arch.attn_scale && c->d_head)
		c->arch.attn_scale = 1.0f / sqrtf((float)c->d_head);
	c->ln_eps = c->arch.norm_eps;
}

void eap_config_gpt2(struct eap_config *c, size_t n_layer, size_t n_head,
		     size_t d_model, size_t n_ctx, size_t n_vocab)
{
	memset(c, 0, sizeof(*c));
	c->n_layer = n_layer;
	c->n_head = n_head;
	c->d_model = d_model;
	c->d_mlp = 4 * d_model;
	c->n_ctx = n_ctx;
	c->n_vocab = n_vocab;
	c->bos_id = -1;
	c->tied = 1;
	eap_config_normalize(c);
}

static const struct eap_family *family_of(const struct eap_config *c)
{
	const struct eap_family *f = eap_family_find(c->arch.family);

	return f ? f : &eap_family_gpt2;
}

size_t eap_model_params(const struct eap_config *cfg, struct eap_param *out,
			size_t max, size_t *total)
{
	struct eap_config c = *cfg;
	struct eap_table t;

	eap_config_normalize(&c);
	t.cfg = &c;
	t.out = out;
	t.max = max;
	t.n = 0;
	family_of(&c)->params(&t);
	if (total)
		*total = eap_params_total(&c);
	return t.n;
}

/*
 * Point layer l's weights into buf, which holds the canonical floats from
 * offset base on (the whole params: base 0; a streamed layer's buffer:
 * the offset of its first slot).  Absent slots: NULL.
 */
static void point_layer(const struct eap_config *c, struct eap_layer *L,
			float *buf, size_t base, size_t l)
{
#define AT(slot) (eap_slot_size(c, slot) ? buf + (eap_slot_offset(c, slot, l) - base) : NULL)
	L->ln1_w = AT(EAP_SLOT_LN1_W);
	L->ln1_b = AT(EAP_SLOT_LN1_B);
	L->w_qkv = AT(EAP_SLOT_W_QKV);
	L->b_qkv = AT(EAP_SLOT_B_QKV);
	L->w_o = AT(EAP_SLOT_W_O);
	L->b_o = AT(EAP_SLOT_B_O);
	L->ln2_w = AT(EAP_SLOT_LN2_W);
	L->ln2_b = AT(EAP_SLOT_LN2_B);
	L->w_fc = AT(EAP_SLOT_W_FC);
	L->b_fc = AT(EAP_SLOT_B_FC);
	L->w_proj = AT(EAP_SLOT_W_PROJ);
	L->b_proj = AT(EAP_SLOT_B_PROJ);
	L->post1_w = AT(EAP_SLOT_POST1_W);
	L->post2_w = AT(EAP_SLOT_POST2_W);
	L->q_norm = AT(EAP_SLOT_Q_NORM);
	L->k_norm = AT(EAP_SLOT_K_NORM);
#undef AT
}

static float *glob_at(const struct eap_model *m, size_t offset);

/* Point the weight struct into m->params (absent slots: NULL). */
static void point_weights(struct eap_model *m)
{
	const struct eap_config *c = &m->cfg;

#define AT(slot) (eap_slot_size(c, slot) ? glob_at(m, eap_slot_offset(c, slot, 0)) : NULL)
	m->w.wte = AT(EAP_SLOT_WTE);
	m->w.wpe = AT(EAP_SLOT_WPE);
	if (!m->stream)
		for (size_t l = 0; l < c->n_layer; l++)
			point_layer(c, &m->w.layers[l], m->params, 0, l);
	m->w.lnf_w = AT(EAP_SLOT_LNF_W);
	m->w.lnf_b = AT(EAP_SLOT_LNF_B);
	m->w.unembed = c->tied ? m->w.wte : AT(EAP_SLOT_UNEMBED);
#undef AT
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

int eap_config_load(struct eap_config *c, const char *path,
		    struct eap_err *err)
{
	size_t len;
	char *text = read_file(path, &len, err);
	const struct eap_family *fam = &eap_family_gpt2;
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
	/* the organism's config.json says gpt2; older ones say nothing */
	j = cJSON_GetObjectItemCaseSensitive(root, "model_type");
	if (j && !cJSON_IsNull(j)) {
		if (!cJSON_IsString(j)) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: \"model_type\" must be a string",
					 path);
			goto out;
		}
		if (!(fam = eap_family_find(j->valuestring))) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: unknown model_type \"%.40s\" (supported: gpt2, gpt_neox, llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3, gemma3_text, olmo2)",
					 path, j->valuestring);
			goto out;
		}
	}
	c->tied = 1;
	if ((rc = fam->config(c, root, path, err)))
		goto out;
	snprintf(c->arch.family, sizeof(c->arch.family), "%s", fam->model_type);
	if (fam != &eap_family_gpt2 && (rc = eap_cfg_bool(root,
			"tie_word_embeddings", c->tied, &c->tied, path, err)))
		goto out;
	eap_config_normalize(c);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

int eap_config_build(struct eap_config *c, const char *family, size_t L,
		     size_t H, size_t Hkv, size_t d, size_t dm, size_t ctx,
		     size_t V, int tied, const char *extra, struct eap_err *err)
{
	const struct eap_family *fam = eap_family_find(family);
	cJSON *root, *more = NULL, *it;
	int rc;

	if (!fam || fam == &eap_family_gpt2) {
		eap_config_gpt2(c, L, H, d, ctx, V);
		c->d_mlp = dm;
		c->tied = tied;
		return fam ? 0 : eap_err_set(err, EAP_EINVAL,
					     "unknown family \"%s\"", family);
	}
	memset(c, 0, sizeof(*c));
	if (extra && !cJSON_IsObject(more = cJSON_Parse(extra))) {
		cJSON_Delete(more);
		return eap_err_set(err, EAP_EINVAL,
				   "%s: config fields \"%.60s\" are not a JSON object",
				   family, extra);
	}
	root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "num_hidden_layers", (double)L);
	cJSON_AddNumberToObject(root, "num_attention_heads", (double)H);
	cJSON_AddNumberToObject(root, "num_key_value_heads", (double)Hkv);
	cJSON_AddNumberToObject(root, "hidden_size", (double)d);
	cJSON_AddNumberToObject(root, "intermediate_size", (double)dm);
	cJSON_AddNumberToObject(root, "max_position_embeddings", (double)ctx);
	cJSON_AddNumberToObject(root, "vocab_size", (double)V);
	for (it = more ? more->child : NULL; it; it = it->next)
		if (cJSON_GetObjectItemCaseSensitive(root, it->string))
			cJSON_ReplaceItemInObjectCaseSensitive(root, it->string,
							       cJSON_Duplicate(it, 1));
		else
			cJSON_AddItemToObject(root, it->string,
					      cJSON_Duplicate(it, 1));
	cJSON_Delete(more);
	c->tied = tied;
	rc = fam->config(c, root, family, err);
	cJSON_Delete(root);
	if (rc)
		return rc;
	snprintf(c->arch.family, sizeof(c->arch.family), "%s", fam->model_type);
	c->tied = tied;
	eap_config_normalize(c);
	return 0;
}

/* ---- loading and saving ------------------------------------------------- */

int eap_model_alloc(struct eap_model *m, const struct eap_config *cfg,
		    struct eap_err *err)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	eap_config_normalize(&m->cfg);
	eap_model_params(&m->cfg, NULL, 0, &m->n_params);
	m->params = calloc(m->n_params, sizeof(float));
	m->w.layers = calloc(m->cfg.n_layer, sizeof(*m->w.layers));
	if (!m->params || !m->w.layers) {
		eap_model_release(m);
		return eap_err_set(err, EAP_ENOMEM,
				   "out of memory for %zu parameters",
				   m->n_params);
	}
	point_weights(m);
	return 0;
}

/* The checkpoint: one safetensors file, or the shards of an index. */
struct ckpt {
	struct eap_safetensors *st;
	size_t n;
	size_t n_tensors;
	const char *const *prefixes;
};

static void ckpt_release(struct ckpt *k)
{
	for (size_t i = 0; i < k->n; i++)
		eap_safetensors_release(&k->st[i]);
	free(k->st);
	memset(k, 0, sizeof(*k));
}

static int ckpt_add(struct ckpt *k, const char *path, struct eap_err *err)
{
	struct eap_safetensors *st = realloc(k->st, (k->n + 1) * sizeof(*st));
	int rc;

	if (!st)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	k->st = st;
	memset(&st[k->n], 0, sizeof(*st));
	if ((rc = eap_safetensors_open(&st[k->n], path, err))) {
		eap_safetensors_release(&st[k->n]); /* its path, on early errors */
		return rc;
	}
	k->n_tensors += st[k->n].n_tensors;
	k->n++;
	return 0;
}

/*
 * model.safetensors, or model.safetensors.index.json's shards: every file
 * its weight_map names must be there (each opened once).
 */
static int ckpt_open(struct ckpt *k, const char *dir, struct eap_err *err)
{
	char path[8300], ipath[8300];
	size_t len;
	char *text;
	cJSON *root = NULL;
	const cJSON *map, *it;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	snprintf(ipath, sizeof(ipath), "%s/model.safetensors.index.json", dir);
	if (access(path, F_OK) == 0 || access(ipath, F_OK) != 0)
		return ckpt_add(k, path, err);
	if (!(text = read_file(ipath, &len, err)))
		return err ? err->code : EAP_EIO;
	root = cJSON_ParseWithLength(text, len);
	free(text);
	map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
	if (!cJSON_IsObject(map) || !map->child) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: no \"weight_map\" object naming the shards",
				 ipath);
		goto out;
	}
	cJSON_ArrayForEach(it, map) {
		const cJSON *seen;
		int dup = 0;

		if (!cJSON_IsString(it) || !it->valuestring[0] ||
		    strchr(it->valuestring, '/')) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: weight_map[\"%.60s\"] is not a file name in the folder",
					 ipath, it->string);
			goto out;
		}
		for (seen = map->child; seen != it && !dup; seen = seen->next)
			dup = !strcmp(seen->valuestring, it->valuestring);
		if (dup)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, it->valuestring);
		if (access(path, F_OK) != 0) {
			rc = eap_err_set(err, EAP_EIO,
					 "%s: names shard \"%s\", which is not there",
					 ipath, it->valuestring);
			goto out;
		}
		if ((rc = ckpt_add(k, path, err)))
			goto out;
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* A tensor by name, as given or with one of the family's prefixes. */
static const struct eap_st_tensor *ckpt_find(const struct ckpt *k,
					     const char *name, size_t *shard)
{
	char full[160];

	for (size_t i = 0; i < k->n; i++) {
		const struct eap_st_tensor *t = eap_safetensors_find(&k->st[i], name);

		for (size_t p = 0; !t && k->prefixes && k->prefixes[p]; p++) {
			snprintf(full, sizeof(full), "%s%s", k->prefixes[p], name);
			t = eap_safetensors_find(&k->st[i], full);
		}
		if (t) {
			*shard = i;
			return t;
		}
	}
	return NULL;
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

/*
 * Move rows r0..r1-1 of one checkpoint tensor between the file's layout
 * (buf, those rows; a vector's rows are its elements) and the canonical
 * weights at canon (where p->offset is): load 1 puts them in (applying
 * p->xform), load 0 takes them out (its inverse, for the writer).
 */
static void transfer_rows(const struct eap_model *m, const struct eap_param *p,
			  float *canon, float *buf, size_t r0, size_t r1,
			  int load)
{
	size_t c = p->ndim == 2 ? p->shape[1] : 1;
	size_t H = m->cfg.n_head, dh = m->cfg.d_head;
	int neox = p->xform == EAP_X_NEOX_QKV || p->xform == EAP_X_NEOX_QKV_BIAS;
	/* element k of buf at canonical index idx */
#define MOVE(k, idx)                                                         \
	do {                                                                 \
		if (load)                                                    \
			canon[idx] = buf[k];                                 \
		else                                                         \
			buf[k] = canon[idx];                                 \
	} while (0)

	if (p->xform == EAP_X_COPY || p->xform == EAP_X_COLS) {
		size_t c0 = (p->xform == EAP_X_COLS ? p->col0 : 0) + r0 * c;

		for (size_t k = 0; k < (r1 - r0) * c; k++)
			MOVE(k, c0 + k);
	} else if (p->xform == EAP_X_PLUS1) {
		for (size_t k = 0; k < (r1 - r0) * c; k++) {
			if (load)
				canon[r0 * c + k] = 1.0f + buf[k];
			else
				buf[k] = canon[r0 * c + k] - 1.0f;
		}
	} else if (p->xform == EAP_X_T) { /* [out r, in c] <-> [in c, ld] */
		/* a block of rows at a time: contiguous runs in canon */
		for (size_t i = 0; i < c; i++)
			for (size_t o = r0; o < r1; o++)
				MOVE((o - r0) * c + i, i * p->ld + p->col0 + o);
	} else if (neox) { /* row (h, j, e) <-> column j H dh + h dh + e */
		size_t cols = p->xform == EAP_X_NEOX_QKV ? c : 1;

		for (size_t row = r0; row < r1; row++) {
			size_t h = row / (3 * dh), j = row / dh % 3, e = row % dh;
			size_t col = j * H * dh + h * dh + e;

			for (size_t i = 0; i < cols; i++)
				MOVE((row - r0) * cols + i, i * 3 * H * dh + col);
		}
	}
#undef MOVE
}

/* Rows moved at once: a transposed block's reads stay in the cache. */
#define TRANSFER_ROWS 64

/* The whole tensor (buf, p->numel) into or out of canon. */
static void transfer(const struct eap_model *m, const struct eap_param *p,
		     float *canon, float *buf, int load)
{
	size_t r = p->shape[0], c = p->ndim == 2 ? p->shape[1] : 1;

	for (size_t r0 = 0; r0 < r; r0 += TRANSFER_ROWS)
		transfer_rows(m, p, canon, buf + r0 * c, r0,
			      r - r0 < TRANSFER_ROWS ? r : r0 + TRANSFER_ROWS,
			      load);
}

/* ---- streamed weights -------------------------------------------------- */

/*
 * A streamed model keeps its checkpoint mapped and converts a layer to
 * float32 when a forward or backward pass asks for it (eap_model_layer),
 * into one of a few slots: the least recently used unpinned slot takes
 * the next layer.  Pins count the users of a slot, so lanes running in
 * parallel may share it; a thread holds one layer at a time, so waiting
 * for a free slot cannot deadlock.  The converted file pages are dropped
 * from the resident set (eap_safetensors_drop).
 */
#define STREAM_SLOTS 3
/* Floats converted at a time before the transform (at least a row). */
#define STREAM_CHUNK ((size_t)1 << 18)
/* Floats of the unembedding converted at a time (a streamed model's). */
#define UNEMBED_TILE ((size_t)1 << 24)

struct stream_slot {
	long layer;       /* the layer it holds, or -1 */
	int pins;         /* users (eap_model_layer without its put) */
	int converting;
	unsigned long used; /* tick of its last use */
	float *buf;       /* (per_layer) canonical floats of the layer */
	float *tmp;       /* (chunk) file values before the transform */
	struct eap_layer w;
};

struct eap_wstream {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int inited;
	struct ckpt k;
	struct eap_param *table;          /* (n) the parameter table */
	size_t n;
	size_t *shard;                    /* (n) each row's file */
	const struct eap_st_tensor **t;   /* (n) each row's tensor */
	size_t base, per_layer, tail0;    /* offsets of layer 0 and of the
					     globals after the layers; floats
					     of a layer */
	int full;                         /* the rows fill each layer */
	long wte_row;                     /* embedding rows converted on
					     demand (untied), or -1 */
	long unembed_row;                 /* the unembedding, converted a
					     tile at a time, or -1 */
	size_t unembed_tile;              /* floats of a tile (at least a
					     row; EAP_UNEMBED_TILE) */
	size_t wte_size;
	size_t chunk;
	size_t n_slots;
	struct stream_slot slot[STREAM_SLOTS];
	unsigned long tick;
	int failed;                       /* the first conversion error */
	struct eap_err err;
};

/* Where canonical offset `offset` of a global slot (not a layer's) lives. */
static float *glob_at(const struct eap_model *m, size_t offset)
{
	const struct eap_wstream *s = m->stream;

	if (!s)
		return m->params + offset;
	if (s->unembed_row >= 0 &&
	    offset >= s->table[s->unembed_row].offset)
		return NULL;
	if (offset >= s->tail0)
		return m->params + (s->base - (s->wte_row >= 0 ? s->wte_size : 0)) +
		       (offset - s->tail0);
	if (s->wte_row < 0)
		return m->params + offset;
	return offset < s->wte_size ? NULL : m->params + offset - s->wte_size;
}

/* The layer of table row i, or -1 for a global one. */
static long row_layer(const struct eap_wstream *s, size_t i)
{
	size_t off = s->table[i].offset;

	if (off < s->base || off >= s->tail0)
		return -1;
	return (long)((off - s->base) / s->per_layer);
}

/* Values first..first+n-1 of tensor t, read into v: all finite, or the
 * error naming the file, the tensor and the first bad element. */
static int check_finite(const struct eap_safetensors *st,
			const struct eap_st_tensor *t, size_t first,
			const float *v, size_t n, struct eap_err *err)
{
	for (size_t e = 0; e < n; e++)
		if (!isfinite(v[e]))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: tensor \"%s\" has a non-finite value at element %zu",
					   st->path, t->name, first + e);
	return 0;
}

/* Convert table row i from the file into canon (where its offset is). */
static int stream_row(const struct eap_model *m, size_t i, float *canon,
		      float *tmp, struct eap_err *err)
{
	const struct eap_wstream *s = m->stream;
	const struct eap_param *p = &s->table[i];
	const struct eap_safetensors *st = &s->k.st[s->shard[i]];
	const struct eap_st_tensor *t = s->t[i];
	size_t r = p->shape[0], c = p->ndim == 2 ? p->shape[1] : 1;
	size_t step = s->chunk / c;
	int rc;

	if ((rc = eap_safetensors_check(st, err)))
		return rc;
	for (size_t r0 = 0; r0 < r; r0 += step) {
		size_t r1 = r - r0 < step ? r : r0 + step;

		if ((rc = eap_safetensors_read_f32_range(st, t, r0 * c, tmp,
							 (r1 - r0) * c, err)) ||
		    (rc = check_finite(st, t, r0 * c, tmp, (r1 - r0) * c, err)))
			return rc;
		transfer_rows(m, p, canon, tmp, r0, r1, 1);
	}
	eap_safetensors_drop(st, t);
	return 0;
}

static int stream_layer(const struct eap_model *m, size_t l,
			struct stream_slot *v, struct eap_err *err)
{
	const struct eap_wstream *s = m->stream;
	size_t b0 = s->base + l * s->per_layer;
	int rc;

	if (!s->full)
		memset(v->buf, 0, s->per_layer * sizeof(float));
	for (size_t i = 0; i < s->n; i++)
		if (row_layer(s, i) == (long)l &&
		    (rc = stream_row(m, i, v->buf + (s->table[i].offset - b0),
				     v->tmp, err)))
			return rc;
	return 0;
}

const struct eap_layer *eap_model_layer(const struct eap_model *m, size_t l)
{
	struct eap_wstream *s = m->stream;
	struct stream_slot *v;

	if (!s)
		return &m->w.layers[l];
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct stream_slot *lru = NULL;

		v = NULL;
		for (size_t k = 0; k < s->n_slots; k++) {
			struct stream_slot *q = &s->slot[k];

			if (q->layer == (long)l)
				v = q;
			if (!q->pins && (!lru || q->used < lru->used))
				lru = q;
		}
		if (v && !v->converting) {
			v->pins++;
			v->used = ++s->tick;
			break;
		}
		if (!v && lru) {
			struct eap_err e = { 0 };
			int rc;

			v = lru;
			v->layer = (long)l;
			v->pins = 1;
			v->converting = 1;
			v->used = ++s->tick;
			point_layer(&m->cfg, &v->w, v->buf,
				    s->base + l * s->per_layer, l);
			pthread_mutex_unlock(&s->lock);
			rc = stream_layer(m, l, v, &e);
			pthread_mutex_lock(&s->lock);
			v->converting = 0;
			if (rc) {
				/* zeros to compute on; the pass's caller
				 * reports the error (eap_model_status) */
				memset(v->buf, 0, s->per_layer * sizeof(float));
				v->layer = -1;
				if (!s->failed) {
					s->failed = rc;
					s->err = e;
				}
			}
			pthread_cond_broadcast(&s->changed);
			break;
		}
		pthread_cond_wait(&s->changed, &s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return &v->w;
}

void eap_model_layer_put(const struct eap_model *m, const struct eap_layer *W)
{
	struct eap_wstream *s = m->stream;

	if (!s || !W)
		return;
	pthread_mutex_lock(&s->lock);
	for (size_t k = 0; k < s->n_slots; k++)
		if (&s->slot[k].w == W && s->slot[k].pins > 0) {
			s->slot[k].pins--;
			break;
		}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
}

int eap_model_status(const struct eap_model *m, struct eap_err *err)
{
	struct eap_wstream *s = m->stream;
	int rc;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	rc = s->failed;
	if (rc && err)
		*err = s->err;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int eap_model_streamed(const struct eap_model *m)
{
	return m->stream != NULL;
}

/* Embedding row t of a streamed model whose rows are read on demand. */
static int stream_wte_row(const struct eap_model *m, size_t t, float *dst,
			  struct eap_err *err)
{
	const struct eap_wstream *s = m->stream;
	size_t i = (size_t)s->wte_row, d = m->cfg.d_model;
	const struct eap_safetensors *st = &s->k.st[s->shard[i]];
	int rc;

	if ((rc = eap_safetensors_check(st, err)) ||
	    (rc = eap_safetensors_read_f32_range(st, s->t[i], t * d, dst, d,
						 err)))
		return rc;
	return check_finite(st, s->t[i], t * d, dst, d, err);
}

/* One product of eap_model_unembed over vocabulary rows v0..v1-1 of W_U
 * (at u, row stride d); back: added into x unless first. */
static void unembed_part(int back, int first, size_t rows, size_t d,
			 size_t v0, size_t v1, const float *u, float *x,
			 size_t ldx, float *y, size_t ldy)
{
	if (back)
		eap_sgemm(0, 0, rows, d, v1 - v0, 1.0f, y + v0, ldy, u, d,
			  first ? 0.0f : 1.0f, x, ldx);
	else
		eap_sgemm(0, 1, rows, v1 - v0, d, 1.0f, x, ldx, u, d, 0.0f,
			  y + v0, ldy);
}

void eap_model_unembed(const struct eap_model *m, int back, size_t rows,
		       float *x, size_t ldx, float *y, size_t ldy)
{
	struct eap_wstream *s = m->stream;
	size_t V = m->cfg.n_vocab, d = m->cfg.d_model, T;
	const struct eap_safetensors *st;
	const struct eap_st_tensor *t;
	float *buf;

	if (!s || s->unembed_row < 0) {
		unembed_part(back, 1, rows, d, 0, V, m->w.unembed, x, ldx, y,
			     ldy);
		return;
	}
	T = s->unembed_tile / d < V ? s->unembed_tile / d : V;
	T = T ? T : 1;
	st = &s->k.st[s->shard[s->unembed_row]];
	t = s->t[s->unembed_row];
	buf = malloc(T * d * sizeof(float));
	for (size_t v0 = 0; v0 < V; v0 += T) {
		size_t v1 = V - v0 < T ? V : v0 + T;
		struct eap_err e = { 0 };
		int rc = buf ? 0 : eap_err_set(&e, EAP_ENOMEM,
					      "out of memory for the unembedding");

		if (!rc && !(rc = eap_safetensors_check(st, &e)) &&
		    !(rc = eap_safetensors_read_f32_range(st, t, v0 * d, buf,
							  (v1 - v0) * d, &e)))
			rc = check_finite(st, t, v0 * d, buf, (v1 - v0) * d, &e);
		if (rc) {
			/* zeros out; the pass's caller reports the error */
			pthread_mutex_lock(&s->lock);
			if (!s->failed) {
				s->failed = rc;
				s->err = e;
			}
			pthread_mutex_unlock(&s->lock);
			if (back)
				for (size_t r = 0; r < rows; r++)
					memset(x + r * ldx, 0, d * sizeof(float));
			else
				for (size_t r = 0; r < rows; r++)
					memset(y + r * ldy, 0, V * sizeof(float));
			break;
		}
		/* the tile's file pages leave the resident set as it is used */
		eap_safetensors_drop_range(st, t, v0 * d, (v1 - v0) * d);
		unembed_part(back, v0 == 0, rows, d, v0, v1, buf, x, ldx, y,
			     ldy);
	}
	free(buf);
}

static void stream_release(struct eap_wstream *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->n_slots; k++) {
		free(s->slot[k].buf);
		free(s->slot[k].tmp);
	}
	ckpt_release(&s->k);
	free(s->table);
	free(s->shard);
	free(s->t);
	if (s->inited) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->changed);
	}
	free(s);
}

/*
 * A streamed model of the checked checkpoint k and its table (n rows):
 * takes both over (on failure too: the model's release frees them), keeps
 * only the globals in float32 (positions, final norm, unembedding, and
 * the embedding when it is tied) and converts them now.
 */
static int stream_init(struct eap_model *m, const struct eap_config *cfg,
		       struct ckpt *k, struct eap_param *table, size_t n,
		       struct eap_err *err)
{
	struct eap_wstream *s;
	const struct eap_config *c;
	size_t head, tail, L, cover = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	eap_config_normalize(&m->cfg);
	c = &m->cfg;
	L = c->n_layer;
	eap_model_params(c, NULL, 0, &m->n_params);
	s = m->stream = calloc(1, sizeof(*s));
	if (!s) {
		ckpt_release(k);
		free(table);
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	s->k = *k;
	memset(k, 0, sizeof(*k));
	s->table = table;
	s->n = n;
	if (pthread_mutex_init(&s->lock, NULL) ||
	    pthread_cond_init(&s->changed, NULL))
		return eap_err_set(err, EAP_ENOMEM, "cannot create a lock");
	s->inited = 1;
	s->shard = calloc(n ? n : 1, sizeof(*s->shard));
	s->t = calloc(n ? n : 1, sizeof(*s->t));
	m->w.layers = calloc(L ? L : 1, sizeof(*m->w.layers));
	if (!s->shard || !s->t || !m->w.layers)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	s->base = eap_slot_offset(c, EAP_FIRST_LAYER_SLOT, 0);
	s->per_layer = eap_slot_offset(c, EAP_FIRST_LAYER_SLOT, 1) - s->base;
	s->tail0 = s->base + L * s->per_layer;
	s->wte_size = eap_slot_size(c, EAP_SLOT_WTE);
	s->wte_row = -1;
	s->unembed_row = -1;
	s->unembed_tile = UNEMBED_TILE;
	if (getenv("EAP_UNEMBED_TILE")) /* tests: many tiles of a small model */
		s->unembed_tile = strtoul(getenv("EAP_UNEMBED_TILE"), NULL, 10);
	s->chunk = STREAM_CHUNK;
	for (size_t i = 0; i < n; i++) {
		const struct eap_param *p = &table[i];
		size_t cols = p->ndim == 2 ? p->shape[1] : 1;

		s->t[i] = ckpt_find(&s->k, p->name, &s->shard[i]);
		if (cols > s->chunk)
			s->chunk = cols;
		if (row_layer(s, i) == 0)
			cover += p->numel;
		if (!c->tied && p->offset == 0 && p->xform == EAP_X_COPY &&
		    p->numel == s->wte_size)
			s->wte_row = (long)i;
		/* the last slot: leaving it out shortens the tail */
		if (!c->tied && p->xform == EAP_X_COPY && p->ndim == 2 &&
		    p->offset == eap_slot_offset(c, EAP_SLOT_UNEMBED, 0) &&
		    p->numel == eap_slot_size(c, EAP_SLOT_UNEMBED) &&
		    p->offset + p->numel == m->n_params)
			s->unembed_row = (long)i;
	}
	s->full = cover == s->per_layer;
	head = s->base - (s->wte_row >= 0 ? s->wte_size : 0);
	tail = m->n_params - s->tail0 -
	       (s->unembed_row >= 0 ? table[s->unembed_row].numel : 0);
	m->params = malloc((head + tail ? head + tail : 1) * sizeof(float));
	if (!m->params)
		return eap_err_set(err, EAP_ENOMEM,
				   "out of memory for %zu parameters",
				   head + tail);
	memset(m->params, 0, (head + tail) * sizeof(float));
	point_weights(m);
	s->n_slots = L < STREAM_SLOTS ? L : STREAM_SLOTS;
	for (size_t q = 0; q < s->n_slots; q++) {
		s->slot[q].layer = -1;
		s->slot[q].buf = malloc(s->per_layer * sizeof(float));
		s->slot[q].tmp = malloc(s->chunk * sizeof(float));
		if (!s->slot[q].buf || !s->slot[q].tmp)
			return eap_err_set(err, EAP_ENOMEM,
					   "out of memory for a layer of %zu parameters",
					   s->per_layer);
	}
	for (size_t i = 0; i < n; i++)
		if (row_layer(s, i) < 0 && (long)i != s->wte_row &&
		    (long)i != s->unembed_row &&
		    (rc = stream_row(m, i, glob_at(m, table[i].offset),
				     s->slot[0].tmp, err)))
			return rc;
	return 0;
}

/* Bytes of float32 weights above which a model streams by default. */
#define STREAM_AUTO_BYTES ((size_t)2 << 30)

/* Whether a model of n_params floats streams (mode, or EAP_WEIGHTS). */
static int stream_mode(enum eap_weights_mode mode, size_t n_params, int *stream,
		       struct eap_err *err)
{
	const char *e = getenv("EAP_WEIGHTS");

	if (mode == EAP_WEIGHTS_AUTO && e && *e) {
		if (!strcmp(e, "eager"))
			mode = EAP_WEIGHTS_EAGER;
		else if (!strcmp(e, "stream"))
			mode = EAP_WEIGHTS_STREAM;
		else if (strcmp(e, "auto"))
			return eap_err_set(err, EAP_EINVAL,
					   "EAP_WEIGHTS: \"%s\" is not eager, stream or auto",
					   e);
	}
	*stream = mode == EAP_WEIGHTS_STREAM ||
		  (mode == EAP_WEIGHTS_AUTO &&
		   n_params > STREAM_AUTO_BYTES / sizeof(float));
	return 0;
}

int eap_model_load(struct eap_model *m, const char *dir, struct eap_err *err)
{
	return eap_model_load_as(m, dir, EAP_WEIGHTS_AUTO, err);
}

int eap_model_load_as(struct eap_model *m, const char *dir_in,
		      enum eap_weights_mode mode, struct eap_err *err)
{
	struct ckpt k = { 0 };
	struct eap_config cfg, tcfg;
	struct eap_param *table = NULL;
	const struct eap_family *fam;
	const struct eap_st_tensor *fc;
	char dir[4096], cpath[4200];
	float *tmp = NULL;
	size_t n, i, shard, max_numel = 0, total;
	int rc, stream = 0;

	memset(m, 0, sizeof(*m));
	if ((rc = eap_hfdir_resolve(dir_in, dir, sizeof(dir), err)))
		return rc;
	snprintf(cpath, sizeof(cpath), "%s/config.json", dir);
	if ((rc = eap_config_load(&cfg, cpath, err)))
		return rc;
	fam = family_of(&cfg);
	k.prefixes = fam->prefixes;
	if ((rc = ckpt_open(&k, dir, err)))
		goto fail;
	if (fam == &eap_family_gpt2) {
		/* GPT-2's MLP width comes from the weights (SPEC §3). */
		fc = ckpt_find(&k, "h.0.mlp.c_fc.weight", &shard);
		if (fc && fc->ndim == 2) {
			size_t n_inner = cfg.d_mlp;

			cfg.d_mlp = fc->shape[1];
			if (n_inner != 4 * cfg.d_model && n_inner != cfg.d_mlp) {
				rc = eap_err_set(err, EAP_ESHAPE,
						 "%s: tensor \"h.0.mlp.c_fc.weight\" has width %zu, %s says n_inner %zu",
						 k.st[shard].path, cfg.d_mlp,
						 cpath, n_inner);
				goto fail;
			}
		}
	}
	/* untied when the checkpoint has its own unembedding */
	cfg.tied = !ckpt_find(&k, "lm_head.weight", &shard) &&
		   !ckpt_find(&k, "embed_out.weight", &shard);
	/*
	 * Every shape is checked against the file before anything is
	 * allocated: a config that disagrees with small weights (n_layer,
	 * n_embd too large) must fail naming a tensor, not allocate gigabytes
	 * or build a table for each claimed layer (found by fuzz_config).
	 * Every layer has a tensor, so with more layers than tensors the
	 * first n_tensors + 1 already lack one, the same one the whole table
	 * would report first.
	 */
	tcfg = cfg;
	if (tcfg.n_layer > k.n_tensors)
		tcfg.n_layer = k.n_tensors + 1;
	n = eap_model_params(&tcfg, NULL, 0, NULL);
	table = calloc(n, sizeof(*table));
	if (!table) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	eap_model_params(&tcfg, table, n, NULL);
	for (i = 0; i < n; i++) {
		const struct eap_param *p = &table[i];
		const struct eap_st_tensor *t = ckpt_find(&k, p->name, &shard);
		char want[64], got[64];

		if (!t) {
			rc = eap_err_set(err, EAP_ESHAPE,
					 "%s: missing tensor \"%s\"",
					 k.n == 1 ? k.st[0].path : dir, p->name);
			goto fail;
		}
		if (t->ndim != p->ndim || t->shape[0] != p->shape[0] ||
		    (p->ndim == 2 && t->shape[1] != p->shape[1])) {
			shape_str(want, sizeof(want), p->shape, p->ndim);
			shape_str(got, sizeof(got), t->shape, t->ndim);
			rc = eap_err_set(err, EAP_ESHAPE,
					 "%s: tensor \"%s\" has shape %s, %s implies %s",
					 k.st[shard].path, t->name, got, cpath,
					 want);
			goto fail;
		}
		if (t->dtype != EAP_F32 && t->dtype != EAP_F16 &&
		    t->dtype != EAP_BF16) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: tensor \"%s\" is not F32, F16 or BF16",
					 k.st[shard].path, t->name);
			goto fail;
		}
		if (p->numel > max_numel)
			max_numel = p->numel;
	}
	if (tcfg.n_layer != cfg.n_layer) { /* not reached, see above */
		rc = eap_err_set(err, EAP_ESHAPE, "%s: %s says %zu layers",
				 dir, cpath, cfg.n_layer);
		goto fail;
	}
	eap_model_params(&cfg, NULL, 0, &total);
	if ((rc = stream_mode(mode, total, &stream, err)))
		goto fail;
	if (stream) {
		rc = stream_init(m, &cfg, &k, table, n, err);
		table = NULL; /* the model's now */
		if (!rc && !(m->dir = strdup(dir)))
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		if (rc)
			goto fail;
		return 0;
	}
	if ((rc = eap_model_alloc(m, &cfg, err)))
		goto fail;
	if (!(tmp = malloc(max_numel * sizeof(float)))) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < n; i++) {
		const struct eap_param *p = &table[i];
		const struct eap_st_tensor *t = ckpt_find(&k, p->name, &shard);

		if ((rc = eap_safetensors_read_f32(&k.st[shard], t, tmp,
						   p->numel, err)) ||
		    (rc = check_finite(&k.st[shard], t, 0, tmp, p->numel, err)))
			goto fail;
		transfer(m, p, m->params + p->offset, tmp, 1);
	}
	m->dir = strdup(dir);
	if (!m->dir) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	free(tmp);
	free(table);
	ckpt_release(&k);
	return 0;
fail:
	free(tmp);
	free(table);
	ckpt_release(&k);
	eap_model_release(m);
	return rc;
}

/* config.json as the family's config() reads it back. */
static int write_config(const struct eap_config *c, const char *path,
			struct eap_err *err)
{
	cJSON *root = cJSON_CreateObject();
	char *text = NULL, tmp[4200];
	FILE *f;
	int rc = 0;

	family_of(c)->write(c, root);
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

int eap_config_save(const struct eap_config *c, const char *path,
		    struct eap_err *err)
{
	return write_config(c, path, err);
}

int eap_model_save(const struct eap_model *m, const char *dir,
		   struct eap_err *err)
{
	size_t n = eap_model_params(&m->cfg, NULL, 0, NULL);
	struct eap_param *table = calloc(n, sizeof(*table));
	struct eap_st_out *out = calloc(n, sizeof(*out));
	float *buf = NULL, *b;
	char path[4096];
	int rc;

	if (m->stream) {
		free(out);
		free(table);
		return eap_err_set(err, EAP_EINVAL,
				   "%s: cannot write a model whose weights stream from its checkpoint (load it with EAP_WEIGHTS=eager)",
				   dir);
	}
	if (!table || !out ||
	    !(buf = malloc((m->n_params ? m->n_params : 1) * sizeof(float)))) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	eap_model_params(&m->cfg, table, n, NULL);
	b = buf;
	for (size_t i = 0; i < n; i++) {
		out[i].name = table[i].name;
		out[i].ndim = table[i].ndim;
		out[i].shape[0] = table[i].shape[0];
		out[i].shape[1] = table[i].shape[1];
		if (table[i].xform == EAP_X_COPY) {
			out[i].data = m->params + table[i].offset;
		} else { /* in the checkpoint's own layout */
			transfer(m, &table[i], m->params + table[i].offset, b,
				 0);
			out[i].data = b;
			b += table[i].numel;
		}
	}
	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if ((rc = eap_safetensors_write(path, out, n, err)))
		goto out;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	rc = write_config(&m->cfg, path, err);
out:
	free(buf);
	free(out);
	free(table);
	return rc;
}

void eap_model_release(struct eap_model *m)
{
	stream_release(m->stream);
	free(m->params);
	free(m->w.layers);
	free(m->dir);
	memset(m, 0, sizeof(*m));
}

/* ---- forward ------------------------------------------------------------ */

/*
 * inv_freq of rotary dim pair k (k < dim / 2): theta^(-2k / dim), rescaled
 * as rope_scaling says (HF's "linear" and "llama3" rules).
 */
static double rope_inv_freq(const struct eap_rope *r, size_t k)
{
	double inv = pow(r->theta, -2.0 * (double)k / (double)r->dim);

	if (r->scaling == EAP_ROPE_LINEAR)
		return inv / r->factor;
	if (r->scaling == EAP_ROPE_LLAMA3) {
		double wavelen = 2 * M_PI / inv;
		double lo = r->original_ctx / r->low_freq_factor;
		double hi = r->original_ctx / r->high_freq_factor;

		if (wavelen < hi)
			return inv;
		if (wavelen > lo)
			return inv / r->factor;
		double smooth = (r->original_ctx / wavelen - r->low_freq_factor) /
				(r->high_freq_factor - r->low_freq_factor);
		return (1 - smooth) * inv / r->factor + smooth * inv;
	}
	return inv;
}

static void rope_table(float *cs, const struct eap_rope *r, size_t P)
{
	size_t half = r->dim / 2;

	for (size_t p = 0; p < P; p++)
		for (size_t k = 0; k < half; k++) {
			/* HF: float32 inv_freq times the position, in float32 */
			float ang = (float)p * (float)rope_inv_freq(r, k);

			cs[(p * half + k) * 2] = cosf(ang);
			cs[(p * half + k) * 2 + 1] = sinf(ang);
		}
}

/* The sizes of one layer's forward buffers, in eap_fwd_layer order. */
static void layer_sizes(const struct eap_config *c, size_t B, size_t P,
			size_t sz[19])
{
	const struct eap_arch *a = &c->arch;
	size_t n = B * P, d = c->d_model, H = c->n_head, dh = c->d_head;
	size_t Hkv = c->n_kv_head, dm = c->d_mlp;
	size_t i = 0;

	sz[i++] = n * d;                                   /* x_in */
	sz[i++] = n * d;                                   /* ln1 */
	sz[i++] = 2 * n;                                   /* ln1_stat */
	sz[i++] = a->qk_norm || Hkv != H ? n * (H + 2 * Hkv) * dh : 0; /* proj */
	sz[i++] = a->qk_norm ? n * (H + Hkv) : 0;          /* qk_stat */
	sz[i++] = 3 * n * H * dh;                          /* qkv */
	sz[i++] = B * H * P * P;                           /* att */
	sz[i++] = n * H * dh;                              /* z */
	sz[i++] = a->attn_post_norm ? n * d : 0;           /* attn_o */
	sz[i++] = a->attn_post_norm ? n : 0;               /* post1_stat */
	sz[i++] = n * d;                                   /* x_mid */
	sz[i++] = n * d;                                   /* ln2 */
	sz[i++] = 2 * n;                                   /* ln2_stat */
	sz[i++] = n * dm * (a->gated ? 2 : 1);             /* fc */
	sz[i++] = n * dm;                                  /* gelu */
	sz[i++] = a->gated ? n * dm : 0;                   /* glu */
	sz[i++] = a->mlp_post_norm ? n * d : 0;            /* mlp_raw */
	sz[i++] = a->mlp_post_norm ? n : 0;                /* post2_stat */
	sz[i++] = n * d;                                   /* mlp_out */
}

int eap_fwd_init(struct eap_fwd *f, const struct eap_config *cfg, size_t B,
		 size_t P, int all_positions, struct eap_err *err)
{
	struct eap_config c = *cfg;
	size_t n = B * P, d, L, sz[19], per_layer = 0, total;
	size_t hg, hl;
	float *p;

	eap_config_normalize(&c);
	d = c.d_model;
	L = c.n_layer;
	hg = c.arch.rope.dim / 2;
	hl = c.arch.rope_local.dim / 2;
	layer_sizes(&c, B, P, sz);
	for (size_t i = 0; i < 19; i++)
		per_layer += sz[i];
	total = L * per_layer + 2 * n * d + 2 * n + B * d +
		(all_positions ? n : B) * c.n_vocab + 2 * P * (hg + hl);
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
		float **dst[19] = {
			&fl->x_in, &fl->ln1, &fl->ln1_stat, &fl->proj,
			&fl->qk_stat, &fl->qkv, &fl->att, &fl->z, &fl->attn_o,
			&fl->post1_stat, &fl->x_mid, &fl->ln2, &fl->ln2_stat,
			&fl->fc, &fl->gelu, &fl->glu, &fl->mlp_raw,
			&fl->post2_stat, &fl->mlp_out,
		};

		for (size_t i = 0; i < 19; i++) {
			*dst[i] = sz[i] ? p : NULL;
			p += sz[i];
		}
	}
	f->x_out = p; p += n * d;
	f->lnf = p; p += n * d;
	f->lnf_stat = p; p += 2 * n;
	f->lnf_last = p; p += B * d;
	f->logits = p; p += (all_positions ? n : B) * c.n_vocab;
	if (hg) {
		f->rope_cs = p;
		rope_table(p, &c.arch.rope, P);
		p += 2 * P * hg;
	}
	if (hl) {
		f->rope_local_cs = p;
		rope_table(p, &c.arch.rope_local, P);
	}
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
	float scale = m->cfg.arch.embed_scale;

	if (np > m->cfg.n_ctx)
		return eap_err_set(err, EAP_EINVAL,
				   "%zu positions exceed n_positions %zu", np,
				   m->cfg.n_ctx);
	for (size_t i = 0; i < nb * np; i++) {
		int32_t t = tokens[i];
		const float *te, *pe = m->w.wpe ? m->w.wpe + (i % np) * d : NULL;

		if (t < 0 || (size_t)t >= m->cfg.n_vocab)
			return eap_err_set(err, EAP_EINVAL,
					   "row %zu: token id %d outside the vocabulary (%zu)",
					   i / np, t, m->cfg.n_vocab);
		if (m->w.wte) {
			te = m->w.wte + (size_t)t * d;
		} else { /* streamed: the row from the file, in place */
			int rc = stream_wte_row(m, (size_t)t, x0 + i * d, err);

			if (rc)
				return rc;
			te = x0 + i * d;
		}
		if (pe)
			for (size_t j = 0; j < d; j++)
				x0[i * d + j] = te[j] + pe[j];
		else
			for (size_t j = 0; j < d; j++)
				x0[i * d + j] = te[j] * scale;
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

/* The norm of the model's kind: LayerNorm (w, b) or RMSNorm (w). */
static void norm_forward(const struct eap_config *c, float *out, float *stat,
			 const float *x, const float *w, const float *b,
			 size_t n, size_t d)
{
	if (c->arch.norm == EAP_NORM_LAYER)
		eap_layernorm_forward(out, stat, x, w, b, n, d, c->ln_eps);
	else if (c->arch.norm == EAP_NORM_RMS)
		eap_rmsnorm_forward(out, stat, x, w, n, d, c->ln_eps);
	else
		memcpy(out, x, n * d * sizeof(float));
}

void eap_model_attn_opts(const struct eap_config *c, size_t l,
			 struct eap_attn_opts *o)
{
	o->scale = c->arch.attn_scale;
	o->softcap = c->arch.attn_softcap;
	o->window = c->arch.sliding[l] ? c->arch.window : 0;
	o->q0 = 0;
}

void eap_model_act_forward(const struct eap_config *c, int fast, float *out,
			   const float *x, size_t n)
{
	switch (c->arch.act) {
	case EAP_ACT_GELU_TANH:
		(fast ? eap_gelu_forward_fast : eap_gelu_forward)(out, x, n);
		break;
	case EAP_ACT_GELU_ERF:
		eap_gelu_erf_forward(out, x, n);
		break;
	case EAP_ACT_SILU:
		eap_silu_forward(out, x, n);
		break;
	case EAP_ACT_IDENTITY:
		memmove(out, x, n * sizeof(float));
		break;
	}
}

void eap_model_act_backward(const struct eap_config *c, float *dx,
			    const float *x, const float *y, const float *dout,
			    size_t n)
{
	switch (c->arch.act) {
	case EAP_ACT_GELU_TANH:
		eap_gelu_backward(dx, x, y, dout, n);
		break;
	case EAP_ACT_GELU_ERF:
		eap_gelu_erf_backward(dx, x, dout, n);
		break;
	case EAP_ACT_SILU:
		eap_silu_backward(dx, x, dout, n);
		break;
	case EAP_ACT_IDENTITY:
		memmove(dx, dout, n * sizeof(float));
		break;
	}
}

void eap_model_mlp_act_backward(const struct eap_config *c, float *dfc,
				const float *fc, const float *act,
				const float *dhid, size_t n)
{
	size_t dm = c->d_mlp, wfc = 2 * dm;

	if (!c->arch.gated) {
		eap_model_act_backward(c, dfc, fc, act, dhid, n * dm);
		return;
	}
	/* h = act(gate) * up: dgate = dh up act'(gate), dup = dh act */
	for (size_t i = 0; i < n; i++) {
		const float *f = fc + i * wfc, *y = act + i * dm;
		const float *dh = dhid + i * dm;
		float *dg = dfc + i * wfc;

		for (size_t j = 0; j < dm; j++) {
			dg[j] = dh[j] * f[dm + j];
			dg[dm + j] = dh[j] * y[j];
		}
		eap_model_act_backward(c, dg, f, y, dg, dm);
	}
}

const float *eap_model_rope_table(const struct eap_config *c,
				  const struct eap_fwd *f, size_t l,
				  size_t *half)
{
	int local = c->arch.sliding[l] && c->arch.rope_local.dim;

	*half = (local ? c->arch.rope_local.dim : c->arch.rope.dim) / 2;
	return local ? f->rope_local_cs : f->rope_cs;
}

/*
 * qkv (n, 3 H dh) of every query head from the projection proj (n,
 * (H + 2 H_kv) dh), after the QK-norm (stats into qk_stat) and rotary:
 * each group's K and V copied to its H / H_kv query heads.  proj may be
 * qkv itself when H_kv == H and there is no QK-norm (GPT-2: nothing to
 * do but rotary).
 */
void eap_model_qkv_finish(const struct eap_model *m, const struct eap_fwd *f,
			  size_t l, float *qkv, float *proj, float *qk_stat,
			  size_t n, size_t np, size_t p0)
{
	const struct eap_config *c = &m->cfg;
	const struct eap_layer *W = eap_model_layer(m, l);
	size_t H = c->n_head, Hkv = c->n_kv_head, dh = c->d_head;
	size_t wp = (H + 2 * Hkv) * dh, w3 = 3 * H * dh, g = H / Hkv, half;
	const float *cs = eap_model_rope_table(c, f, l, &half);

	/* proj keeps the projection (the QK-norm's backward reads it) */
	if (proj != qkv)
		for (size_t i = 0; i < n; i++) {
			const float *s = proj + i * wp;
			float *t = qkv + i * w3;
			float *st = qk_stat ? qk_stat + i * (H + Hkv) : NULL;
			float rk = 1.0f;

			switch (c->arch.qk_norm) {
			case EAP_QKNORM_HEAD:
				eap_rmsnorm_forward(t, st, s, W->q_norm, H, dh,
						    c->ln_eps);
				/* each K head's 1/rms, kept at st[H + kv] */
				for (size_t kv = 0; kv < Hkv; kv++) {
					const float *x = s + (H + kv) * dh;
					double ss = 0.0;

					for (size_t e = 0; e < dh; e++)
						ss += (double)x[e] * x[e];
					st[H + kv] = (float)(1.0 / sqrt(ss / (double)dh +
									c->ln_eps));
				}
				break;
			case EAP_QKNORM_ALL: {
				const float *x = s + H * dh;
				double ss = 0.0;

				eap_rmsnorm_forward(t, st, s, W->q_norm, 1, H * dh,
						    c->ln_eps);
				for (size_t e = 0; e < Hkv * dh; e++)
					ss += (double)x[e] * x[e];
				rk = st[1] = (float)(1.0 / sqrt(ss / (double)(Hkv * dh) +
								c->ln_eps));
				break;
			}
			case EAP_QKNORM_NONE:
				memcpy(t, s, H * dh * sizeof(float));
				break;
			}
			for (size_t h = 0; h < H; h++) {
				size_t kv = h / g;
				const float *k = s + (H + kv) * dh;
				float *tk = t + (H + h) * dh;

				if (c->arch.qk_norm == EAP_QKNORM_HEAD) {
					for (size_t e = 0; e < dh; e++)
						tk[e] = k[e] * st[H + kv] * W->k_norm[e];
				} else if (c->arch.qk_norm == EAP_QKNORM_ALL) {
					for (size_t e = 0; e < dh; e++)
						tk[e] = k[e] * rk *
							W->k_norm[kv * dh + e];
				} else {
					memcpy(tk, k, dh * sizeof(float));
				}
				memcpy(t + (2 * H + h) * dh, s + (H + Hkv + kv) * dh,
				       dh * sizeof(float));
			}
		}
	if (half) /* q and k blocks: 2H heads of width dh, at positions
		     p0.. of the table */
		eap_rope_apply(qkv, n, np, 2 * H, dh, w3, half,
			       cs + p0 * half * 2, 1);
	eap_model_layer_put(m, W);
}

void eap_model_qkv_spread(float *qkv, const float *pre, size_t nb_pre,
			  size_t nb, size_t np, size_t p0, size_t w3)
{
	size_t Pq = np - p0;

	/* last row first: no row is overwritten before it moved */
	for (size_t b = nb; b-- > 0;) {
		memmove(qkv + (b * np + p0) * w3, qkv + b * Pq * w3,
			Pq * w3 * sizeof(float));
		memcpy(qkv + b * np * w3, pre + (b % nb_pre) * np * w3,
		       p0 * w3 * sizeof(float));
	}
}

/*
 * The layers from l0 on; mid: layer l0 starts at its MLP, from x_mid.
 * p0 > 0: only positions p0..np-1 (see eap_model_forward_suffix).
 */
static int forward_from(const struct eap_model *m, struct eap_fwd *f,
			size_t l0, int mid, const struct eap_fwd *pre,
			size_t p0, const int32_t *lengths, size_t nb,
			size_t np, struct eap_err *err)
{
	const struct eap_config *c = &m->cfg;
	const struct eap_arch *a = &c->arch;
	size_t d = c->d_model, V = c->n_vocab, dm = c->d_mlp;
	size_t Pq = np - p0, n = nb * Pq;
	size_t H = c->n_head, dh = c->d_head, hd = H * dh;
	size_t wp = (H + 2 * c->n_kv_head) * dh, wfc = dm * (a->gated ? 2 : 1);
	int rc = check_batch(m, f, lengths, nb, np, err);

	if (rc)
		return rc;
	if (l0 > c->n_layer || (mid && l0 == c->n_layer))
		return eap_err_set(err, EAP_EINVAL, "start layer %zu past the %zu layers",
				   l0, c->n_layer);
	if (p0 && (!pre || pre->np != np || !pre->nb || f->all_positions))
		return eap_err_set(err, EAP_EINVAL,
				   "positions from %zu need the clean run of %zu positions",
				   p0, np);
	for (size_t b = 0; b < nb && p0; b++)
		if ((size_t)lengths[b] <= p0)
			return eap_err_set(err, EAP_EINVAL,
					   "row %zu: length %d not past the shared prefix %zu",
					   b, lengths[b], p0);
	for (size_t l = l0; l < c->n_layer; l++) {
		const struct eap_layer *W = eap_model_layer(m, l);
		struct eap_fwd_layer *F = &f->layers[l];
		float *x_next = l + 1 < c->n_layer ? f->layers[l + 1].x_in
						    : f->x_out;
		float *proj = F->proj ? F->proj : F->qkv;
		float *o = F->attn_o ? F->attn_o : F->x_mid;
		const float *min;
		struct eap_attn_opts ao;

		if (mid && l == l0)
			goto mlp;
		if (a->attn_pre_norm)
			norm_forward(c, F->ln1, F->ln1_stat, F->x_in, W->ln1_w,
				     W->ln1_b, n, d);
		else
			memcpy(F->ln1, F->x_in, n * d * sizeof(float));
		/* the projection, straight into qkv when no regrouping or
		 * QK-norm comes between (GPT-2: bit for bit as before) */
		if (W->b_qkv)
			fill_bias(proj, W->b_qkv, n, wp);
		eap_sgemm(0, 0, n, wp, d, 1.0f, F->ln1, d, W->w_qkv, wp,
			  W->b_qkv ? 1.0f : 0.0f, proj, wp);
		eap_model_qkv_finish(m, f, l, F->qkv, proj, F->qk_stat, n, Pq,
				     p0);
		eap_model_attn_opts(c, l, &ao);
		if (p0) {
			eap_model_qkv_spread(F->qkv, pre->layers[l].qkv,
					     pre->nb, nb, np, p0, 3 * hd);
			ao.q0 = p0;
		}
		eap_attention_forward_opt(F->z, F->att, F->qkv, nb, np, H, dh,
					  &ao);
		if (F->attn_o) {
			/* x_mid = x_in + norm(z W_O + b_O) */
			if (W->b_o)
				fill_bias(o, W->b_o, n, d);
			eap_sgemm(0, 0, n, d, hd, 1.0f, F->z, hd, W->w_o, d,
				  W->b_o ? 1.0f : 0.0f, o, d);
			eap_rmsnorm_forward(F->x_mid, F->post1_stat, o,
					    W->post1_w, n, d, c->ln_eps);
			for (size_t i = 0; i < n * d; i++)
				F->x_mid[i] += F->x_in[i];
		} else {
			/* x_mid = x_in + b_O + z W_O */
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < d; j++)
					F->x_mid[i * d + j] = F->x_in[i * d + j] +
							      (W->b_o ? W->b_o[j] : 0.0f);
			eap_sgemm(0, 0, n, d, hd, 1.0f, F->z, hd, W->w_o, d,
				  1.0f, F->x_mid, d);
		}
mlp:
		/* parallel blocks: the MLP reads the layer's input */
		min = a->parallel ? F->x_in : F->x_mid;
		if (a->mlp_pre_norm)
			norm_forward(c, F->ln2, F->ln2_stat, min, W->ln2_w,
				     W->ln2_b, n, d);
		else
			memcpy(F->ln2, min, n * d * sizeof(float));
		if (W->b_fc)
			fill_bias(F->fc, W->b_fc, n, wfc);
		eap_sgemm(0, 0, n, wfc, d, 1.0f, F->ln2, d, W->w_fc, wfc,
			  W->b_fc ? 1.0f : 0.0f, F->fc, wfc);
		if (a->gated) {
			for (size_t i = 0; i < n; i++)
				eap_model_act_forward(c, f->fast_gelu,
						      F->gelu + i * dm,
						      F->fc + i * wfc, dm);
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < dm; j++)
					F->glu[i * dm + j] = F->gelu[i * dm + j] *
							     F->fc[i * wfc + dm + j];
		} else {
			eap_model_act_forward(c, f->fast_gelu, F->gelu, F->fc,
					      n * dm);
		}
		{
			float *raw = F->mlp_raw ? F->mlp_raw : F->mlp_out;

			if (W->b_proj)
				fill_bias(raw, W->b_proj, n, d);
			eap_sgemm(0, 0, n, d, dm, 1.0f,
				  a->gated ? F->glu : F->gelu, dm, W->w_proj, d,
				  W->b_proj ? 1.0f : 0.0f, raw, d);
			if (F->mlp_raw)
				eap_rmsnorm_forward(F->mlp_out, F->post2_stat, raw,
						    W->post2_w, n, d, c->ln_eps);
		}
		for (size_t i = 0; i < n * d; i++)
			x_next[i] = F->x_mid[i] + F->mlp_out[i];
		eap_model_layer_put(m, W);
	}
	norm_forward(c, f->lnf, f->lnf_stat, f->x_out, m->w.lnf_w, m->w.lnf_b,
		     n, d);
	if (f->all_positions) {
		eap_model_unembed(m, 0, n, f->lnf, d, f->logits, V);
		if (a->logit_softcap > 0)
			eap_softcap_forward(f->logits, n * V, a->logit_softcap);
	} else {
		/* Only the last real position of each row is read (SPEC §4):
		 * gather those rows, then one matmul. */
		for (size_t b = 0; b < nb; b++)
			memcpy(f->lnf_last + b * d,
			       f->lnf + (b * Pq + (size_t)lengths[b] - 1 - p0) * d,
			       d * sizeof(float));
		eap_model_unembed(m, 0, nb, f->lnf_last, d, f->logits, V);
		if (a->logit_softcap > 0)
			eap_softcap_forward(f->logits, nb * V, a->logit_softcap);
	}
	/* a layer that could not be read (the file changed) */
	return eap_model_status(m, err);
}

int eap_model_forward_from(const struct eap_model *m, struct eap_fwd *f,
			   size_t l0, const int32_t *lengths, size_t nb,
			   size_t np, struct eap_err *err)
{
	return forward_from(m, f, l0, 0, NULL, 0, lengths, nb, np, err);
}

int eap_model_forward_suffix(const struct eap_model *m, struct eap_fwd *f,
			     size_t l0, const struct eap_fwd *pre, size_t p0,
			     const int32_t *lengths, size_t nb, size_t np,
			     struct eap_err *err)
{
	return forward_from(m, f, l0, 0, pre, p0, lengths, nb, np, err);
}

int eap_model_forward_mid(const struct eap_model *m, struct eap_fwd *f,
			  size_t l0, const int32_t *lengths, size_t nb,
			  size_t np, struct eap_err *err)
{
	return forward_from(m, f, l0, 1, NULL, 0, lengths, nb, np, err);
}
