/*
 * train.c - see include/eap/train.h.
 *
 * The backward pass mirrors eap_model_forward layer by layer (llm.c's
 * gpt2_backward): every weight gradient is one sgemm over all B*P rows,
 * every bias gradient a column sum in double.
 */
#include "eap/train.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eap/family.h"
#include "eap/linalg.h"
#include "eap/ops.h"

void eap_train_hparams_default(struct eap_train_hparams *hp)
{
	hp->lr = 3e-3;
	hp->warmup = 100;
	hp->steps = 1000;
	hp->min_lr_frac = 0.1;
	hp->beta1 = 0.9;
	hp->beta2 = 0.95;
	hp->eps = 1e-8;
	hp->weight_decay = 0.1;
	hp->clip = 1.0;
}

double eap_train_lr(const struct eap_train_hparams *hp, size_t s)
{
	double lo = hp->lr * hp->min_lr_frac, r;

	if (s < hp->warmup)
		return hp->lr * (double)(s + 1) / (double)hp->warmup;
	if (hp->steps <= hp->warmup)
		return hp->lr;
	r = (double)(s - hp->warmup) / (double)(hp->steps - hp->warmup);
	if (r > 1.0)
		r = 1.0;
	return lo + (hp->lr - lo) * 0.5 * (1.0 + cos(M_PI * r));
}

/*
 * Weight decay follows nanoGPT and llm.c: every parameter with two
 * dimensions decays, which includes the embeddings wte and wpe (and an
 * untied lm_head); biases and LayerNorm weights do not.
 */
int eap_train_decays(const struct eap_param *p)
{
	return p->ndim == 2;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && !strcmp(s + n - k, suf);
}

/*
 * The canonical weights' table of cfg (eap_slot_table: contiguous ranges,
 * 2-D for matrices) in a fresh allocation (*n rows).  For GPT-2 the same
 * rows, in the same order, as its checkpoint table.
 */
static struct eap_param *param_table(const struct eap_config *cfg0, size_t *n)
{
	struct eap_config cfg = *cfg0;
	struct eap_param *tab;

	eap_config_normalize(&cfg);
	*n = eap_slot_table(&cfg, NULL, 0);
	tab = calloc(*n, sizeof(*tab));
	if (tab)
		eap_slot_table(&cfg, tab, *n);
	return tab;
}

int eap_train_init_weights(struct eap_model *m, struct eap_rng *rng,
			   struct eap_err *err)
{
	size_t n;
	struct eap_param *tab = param_table(&m->cfg, &n);
	/* GPT-2 (Radford et al. 2019, §2.3): weights on the residual path are
	 * scaled by 1/sqrt(N), N residual layers = two per block. */
	double std_res = 0.02 / sqrt(2.0 * (double)m->cfg.n_layer);

	if (!tab)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct eap_param *p = &tab[i];
		float *x = m->params + p->offset;
		/* norm weights start at 1 (Gemma's 1 + w is stored as such) */
		int ln = has_suffix(p->name, "ln1.weight") ||
			 has_suffix(p->name, "ln2.weight") ||
			 has_suffix(p->name, "lnf.weight") ||
			 has_suffix(p->name, "norm.weight") ||
			 strstr(p->name, "post") != NULL;

		if (p->ndim == 2) {
			/* W_O and W_proj write into the residual stream */
			double std = has_suffix(p->name, "o.weight") ||
						     has_suffix(p->name, "proj.weight")
					     ? std_res
					     : 0.02;
			for (size_t k = 0; k < p->numel; k++)
				x[k] = (float)(std * eap_rng_normal(rng));
		} else {
			float v = ln ? 1.0f : 0.0f;
			for (size_t k = 0; k < p->numel; k++)
				x[k] = v;
		}
	}
	free(tab);
	return 0;
}

/*
 * One thread's slice of the batch: its own forward state, backward scratch
 * and gradient (worker 0 writes into eap_train.grad).
 */
struct eap_train_worker {
	struct eap_fwd fwd;     /* (rows, P) all positions; after the
				   backward fwd.logits holds dloss/dlogits */
	float *grad;            /* (n_params) */
	float *dres;            /* (rows, P, d) gradient of the residual */
	float *dln;             /* (rows, P, d) gradient of a norm output */
	float *dz;              /* (rows, P, H dh) gradient of z */
	float *dqkv;            /* (rows, P, 3 H dh) */
	float *dproj;           /* (rows, P, (H + 2 H_kv) dh): grouped K/V
				   heads summed; dqkv itself without groups */
	float *dhid;            /* (rows, P, d_mlp) gradient of the
				   activation's (or act * up's) output */
	float *dfc;             /* (rows, P, d_mlp or 2 d_mlp) of fc */
	float *dpar;            /* (rows, P, d) a parallel block's MLP path */
	float *dpost;           /* (rows, P, d) gradient at a post norm's
				   input (attn_o, mlp_raw); NULL: none */
	float *dqk;             /* (rows, P, (H + 2 H_kv) dh) gradient at
				   the projection before the QK-norm; NULL:
				   none */
	float *ycap;            /* (V) a row's soft-capped logits */
	float *att_scratch;     /* (P, P), (2, P, P) with soft-capped scores */
	double *colsum;         /* (max(3 H dh, 2 d_mlp, d)) */
	int32_t *lengths;       /* (rows) all P */
	float *mem;
	double *dmem;
	/* the job of one call */
	struct eap_train *owner;
	size_t k;               /* index among owner's workers */
	const struct eap_model *model;
	const int32_t *tokens, *targets; /* (nb, np) of this slice */
	size_t nb, np, n_pred;
	double loss;            /* sum over this slice, divided by n_pred */
	struct eap_model *update; /* AdamW: the model, its hyperparameters */
	const struct eap_train_hparams *hp;
	double lr, gscale;
	pthread_t tid;
	int rc;
	struct eap_err err;
};

static void worker_release(struct eap_train_worker *w)
{
	eap_fwd_release(&w->fwd);
	free(w->mem);
	free(w->dmem);
	free(w->lengths);
	memset(w, 0, sizeof(*w));
}

static int worker_init(struct eap_train_worker *w, const struct eap_config *cfg,
		       size_t rows, size_t P, size_t n_grad, struct eap_err *err)
{
	struct eap_config c = *cfg;
	size_t d, dm, n = rows * P, hd, wp, wfc, nf, nd;
	float *p;
	int rc, post;

	eap_config_normalize(&c);
	d = c.d_model;
	dm = c.d_mlp;
	hd = c.n_head * c.d_head;
	wp = (c.n_head + 2 * c.n_kv_head) * c.d_head;
	wfc = dm * (c.arch.gated ? 2 : 1);
	post = c.arch.attn_post_norm || c.arch.mlp_post_norm;
	nf = n_grad + 2 * n * d + n * hd + 3 * n * hd +
	     (wp != 3 * hd ? n * wp : 0) + n * dm + (c.arch.gated ? n * wfc : 0) +
	     (c.arch.parallel ? n * d : 0) + (post ? n * d : 0) +
	     (c.arch.qk_norm ? n * wp : 0) + c.n_vocab +
	     (c.arch.attn_softcap > 0 ? 2 : 1) * P * P;
	nd = 3 * hd > wfc ? 3 * hd : wfc;
	nd = nd > d ? nd : d;
	memset(w, 0, sizeof(*w));
	if ((rc = eap_fwd_init(&w->fwd, &c, rows, P, 1, err)))
		return rc;
	w->mem = calloc(nf, sizeof(float));
	w->dmem = calloc(nd, sizeof(double));
	w->lengths = calloc(rows, sizeof(*w->lengths));
	if (!w->mem || !w->dmem || !w->lengths) {
		worker_release(w);
		return eap_err_set(err, EAP_ENOMEM,
				   "out of memory for training on %zu x %zu "
				   "rows",
				   rows, P);
	}
	p = w->mem;
	w->grad = n_grad ? p : NULL; p += n_grad;
	w->dres = p; p += n * d;
	w->dln = p; p += n * d;
	w->dz = p; p += n * hd;
	w->dqkv = p; p += 3 * n * hd;
	if (wp != 3 * hd) {
		w->dproj = p;
		p += n * wp;
	} else {
		w->dproj = w->dqkv;
	}
	w->dhid = p; p += n * dm;
	if (c.arch.gated) {
		w->dfc = p;
		p += n * wfc;
	} else {
		w->dfc = w->dhid; /* in place, as before */
	}
	if (c.arch.parallel) {
		w->dpar = p;
		p += n * d;
	}
	if (post) {
		w->dpost = p;
		p += n * d;
	}
	if (c.arch.qk_norm) {
		w->dqk = p;
		p += n * wp;
	}
	w->ycap = p;
	p += c.n_vocab;
	w->att_scratch = p;
	w->colsum = w->dmem;
	for (size_t b = 0; b < rows; b++)
		w->lengths[b] = (int32_t)P;
	return 0;
}

/* Rows of worker k when nb rows are split over n workers. */
static size_t slice_begin(size_t k, size_t nb, size_t n)
{
	return k * nb / n;
}

int eap_train_init(struct eap_train *t, const struct eap_config *cfg,
		   size_t B, size_t P, size_t n_threads, struct eap_err *err)
{
	size_t nw = n_threads < B ? n_threads : B, rows = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->B = B;
	t->P = P;
	if (!B || !P || P > cfg->n_ctx || !n_threads) {
		rc = eap_err_set(err, EAP_EINVAL,
				 "batch %zu x %zu on %zu threads: need at least "
				 "one row, 1..%zu positions and one thread",
				 B, P, n_threads, cfg->n_ctx);
		goto fail;
	}
	t->table = param_table(cfg, &t->n_table);
	eap_model_params(cfg, NULL, 0, &t->n_params);
	t->grad = calloc(3 * t->n_params, sizeof(float));
	t->workers = calloc(nw, sizeof(*t->workers));
	if (!t->table || !t->grad || !t->workers) {
		rc = eap_err_set(err, EAP_ENOMEM,
				 "out of memory for training %zu parameters",
				 t->n_params);
		goto fail;
	}
	t->m = t->grad + t->n_params;
	t->v = t->m + t->n_params;
	for (size_t k = 0; k < nw; k++) {
		size_t r = slice_begin(k + 1, B, nw) - slice_begin(k, B, nw);

		rows = r > rows ? r : rows;
	}
	for (size_t k = 0; k < nw; k++) {
		if ((rc = worker_init(&t->workers[k], cfg, rows, P,
				      k ? t->n_params : 0, err)))
			goto fail;
		t->n_workers++;
		t->workers[k].owner = t;
		t->workers[k].k = k;
		if (!k)
			t->workers[0].grad = t->grad;
	}
	return 0;
fail:
	eap_train_release(t);
	return rc;
}

void eap_train_release(struct eap_train *t)
{
	for (size_t k = 0; k < t->n_workers; k++)
		worker_release(&t->workers[k]);
	free(t->workers);
	free(t->table);
	free(t->grad);
	memset(t, 0, sizeof(*t));
}

/*
 * db (w) += column sums of x (n, w), summed in double; rows are first
 * added in float four at a time, which costs a few ulps and saves most of
 * the conversions.
 */
static void bias_grad(float *db, double *acc, const float *x, size_t n,
		      size_t w)
{
	size_t i = 0;

	memset(acc, 0, w * sizeof(double));
	for (; i + 4 <= n; i += 4) {
		const float *a = x + i * w, *b = a + w, *c = b + w, *d = c + w;

		for (size_t j = 0; j < w; j++)
			acc[j] += (double)((a[j] + b[j]) + (c[j] + d[j]));
	}
	for (; i < n; i++)
		for (size_t j = 0; j < w; j++)
			acc[j] += x[i * w + j];
	for (size_t j = 0; j < w; j++)
		db[j] += (float)acc[j];
}

/*
 * Loss and dloss/dlogits, in place over logits (n, V): the softmax minus
 * the one-hot target, divided by the number of predicted positions of the
 * whole batch, then through the final soft-cap (cap > 0; the logits are
 * its output, a row at a time kept in ycap (V)).  Returns the summed loss
 * / n_pred; log-sum-exp in double.
 */
static double loss_backward(float *logits, const int32_t *targets, size_t n,
			    size_t V, size_t n_pred, float cap, float *ycap)
{
	double total = 0.0, inv = 1.0 / (double)n_pred;

	for (size_t i = 0; i < n; i++) {
		float *l = logits + i * V, mx = l[0], lt;
		double s = 0.0;
		float scale;

		if (targets[i] < 0) {
			memset(l, 0, V * sizeof(float));
			continue;
		}
		lt = l[targets[i]];
		if (cap > 0)
			memcpy(ycap, l, V * sizeof(float));
		for (size_t j = 1; j < V; j++)
			if (l[j] > mx)
				mx = l[j];
		for (size_t j = 0; j < V; j++) {
			l[j] = expf(l[j] - mx);
			s += l[j];
		}
		total += mx + log(s) - lt;
		scale = (float)(inv / s);
		for (size_t j = 0; j < V; j++)
			l[j] *= scale;
		l[targets[i]] -= (float)inv;
		if (cap > 0)
			eap_softcap_backward(l, ycap, l, V, cap);
	}
	return total * inv;
}

/*
 * Run fn on every worker, worker 0 on this thread, the others on threads
 * of their own (or here, in order, if a thread cannot be started: the
 * result does not depend on which thread runs a worker).
 */
static void run_workers(struct eap_train *t, void *(*fn)(void *))
{
	size_t started = 0, nw = t->n_workers;

	for (size_t k = 1; k < nw; k++) {
		if (pthread_create(&t->workers[k].tid, NULL, fn, &t->workers[k]))
			break;
		started++;
	}
	for (size_t k = started + 1; k < nw; k++)
		fn(&t->workers[k]);
	fn(&t->workers[0]);
	for (size_t k = 1; k <= started; k++)
		pthread_join(t->workers[k].tid, NULL);
}

/* Elements [*lo, *hi) of n that worker k of nw handles in elementwise
 * phases, cut at multiples of 16 floats so no two share a cache line. */
static void chunk(size_t k, size_t nw, size_t n, size_t *lo, size_t *hi)
{
	*lo = k ? (k * n / nw) & ~(size_t)15 : 0;
	*hi = k + 1 < nw ? ((k + 1) * n / nw) & ~(size_t)15 : n;
}

/* t->grad (this worker's chunk) += the other workers' gradients, in
 * worker order. */
static void *worker_reduce(void *arg)
{
	struct eap_train_worker *w = arg;
	struct eap_train *t = w->owner;
	size_t lo, hi;

	chunk(w->k, t->n_workers, t->n_params, &lo, &hi);
	for (size_t j = 1; j < t->n_workers; j++) {
		const float *src = t->workers[j].grad;

		for (size_t i = lo; i < hi; i++)
			t->grad[i] += src[i];
	}
	return NULL;
}

/* dx (n, d) += the model's norm backward (LayerNorm or RMSNorm), with
 * the weight (and bias) gradients; no norm: dx += dout. */
static void norm_backward(const struct eap_config *c, int has, float *dx,
			  float *dw, float *db, const float *dout,
			  const float *x, const float *w, const float *stat,
			  size_t n, size_t d)
{
	if (!has) {
		for (size_t i = 0; i < n * d; i++)
			dx[i] += dout[i];
	} else if (c->arch.norm == EAP_NORM_LAYER) {
		eap_layernorm_backward(dx, dw, db, dout, x, w, stat, n, d);
	} else {
		eap_rmsnorm_backward(dx, dw, dout, x, w, stat, n, d);
	}
}

/*
 * Through a post norm (Gemma-2/3, OLMo-2: an RMSNorm of the attention's or
 * MLP's output before the residual add): the gradient at its input raw
 * (n, d), into w->dpost, with its weight's gradient; no post norm (w
 * NULL): dout itself.
 */
static const float *post_backward(const struct eap_config *c,
				  struct eap_train_worker *wk, const float *w,
				  float *dw, const float *dout, const float *raw,
				  const float *stat, size_t n)
{
	size_t d = c->d_model;

	if (!w)
		return dout;
	memset(wk->dpost, 0, n * d * sizeof(float));
	eap_rmsnorm_backward(wk->dpost, dw, dout, raw, w, stat, n, d);
	return wk->dpost;
}

/*
 * The QK-norm's backward, from w->dproj (n, (H + 2 H_kv) dh), the gradient
 * at the normed projection, to the gradient at the projection itself, in
 * w->dqk (returned), with the q_norm and k_norm weight gradients: the
 * RMSNorm of each head's d_head slice (Qwen3, Gemma-3; statistics at
 * qk_stat[i (H + H_kv) + head], K heads after the H query heads) or of
 * all of q and all of k (OLMo-2; statistics at [0] and [1]).  V passes.
 */
static const float *qk_norm_backward(const struct eap_config *c,
				     struct eap_train_worker *wk,
				     const struct eap_layer *W, float *dqn,
				     float *dkn, const struct eap_fwd_layer *F,
				     size_t n)
{
	size_t H = c->n_head, Hkv = c->n_kv_head, dh = c->d_head;
	size_t wp = (H + 2 * Hkv) * dh, sst = H + Hkv;
	int head = c->arch.qk_norm == EAP_QKNORM_HEAD;

	memset(wk->dqk, 0, n * wp * sizeof(float));
	for (size_t i = 0; i < n; i++) {
		size_t r = i * wp, k0 = r + H * dh;
		const float *st = F->qk_stat + i * sst;

		if (head) {
			eap_rmsnorm_backward(wk->dqk + r, dqn, wk->dproj + r,
					     F->proj + r, W->q_norm, st, H, dh);
			eap_rmsnorm_backward(wk->dqk + k0, dkn, wk->dproj + k0,
					     F->proj + k0, W->k_norm, st + H, Hkv,
					     dh);
		} else {
			eap_rmsnorm_backward(wk->dqk + r, dqn, wk->dproj + r,
					     F->proj + r, W->q_norm, st, 1,
					     H * dh);
			eap_rmsnorm_backward(wk->dqk + k0, dkn, wk->dproj + k0,
					     F->proj + k0, W->k_norm, st + 1, 1,
					     Hkv * dh);
		}
		memcpy(wk->dqk + k0 + Hkv * dh, wk->dproj + k0 + Hkv * dh,
		       Hkv * dh * sizeof(float));
	}
	return wk->dqk;
}

/* Forward and backward of one worker's slice into w->grad. */
static void *worker_run(void *arg)
{
	struct eap_train_worker *w = arg;
	const struct eap_model *m = w->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_arch *a = &c->arch;
	const struct eap_weights *W = &m->w;
	struct eap_fwd *f = &w->fwd;
	size_t d = c->d_model, dm = c->d_mlp, V = c->n_vocab;
	size_t H = c->n_head, Hkv = c->n_kv_head, dh = c->d_head, hd = H * dh;
	size_t wp = (H + 2 * Hkv) * dh, wfc = dm * (a->gated ? 2 : 1);
	size_t nb = w->nb, np = w->np, n = nb * np;
	float *g = w->grad, *dres = w->dres;
/* the gradient of the parameter at pointer x: same offset in g */
#define G(x) ((x) ? g + ((x) - m->params) : NULL)

	memset(g, 0, m->n_params * sizeof(float));
	w->loss = 0.0;
	if (!nb)
		return NULL;
	w->rc = eap_model_forward(m, f, w->tokens, w->lengths, nb, np, &w->err);
	if (w->rc)
		return NULL;
	w->loss = loss_backward(f->logits, w->targets, n, V, w->n_pred,
				a->logit_softcap, w->ycap);

	/* logits (n, V) = lnf (n, d) U^T, U (V, d) */
	eap_sgemm(1, 0, V, d, n, 1.0f, f->logits, V, f->lnf, d, 1.0f,
		  G(W->unembed), d);
	eap_sgemm(0, 0, n, d, V, 1.0f, f->logits, V, W->unembed, d, 0.0f,
		  w->dln, d);
	memset(dres, 0, n * d * sizeof(float));
	norm_backward(c, 1, dres, G(W->lnf_w), G(W->lnf_b), w->dln, f->x_out,
		      W->lnf_w, f->lnf_stat, n, d);

	for (size_t l = c->n_layer; l-- > 0;) {
		const struct eap_layer *Lw = &W->layers[l];
		const struct eap_fwd_layer *F = &f->layers[l];
		const float *hid = a->gated ? F->glu : F->gelu;
		float *dmlp = a->parallel ? w->dpar : dres;
		const float *dmo, *dp;
		size_t half;
		const float *cs = eap_model_rope_table(c, f, l, &half);
		struct eap_attn_opts ao;

		/* x_next = x_mid + post2(b_proj + hid (n, dm) W_proj (dm, d)) */
		dmo = post_backward(c, w, Lw->post2_w, G(Lw->post2_w), dres,
				    F->mlp_raw, F->post2_stat, n);
		if (Lw->b_proj)
			bias_grad(G(Lw->b_proj), w->colsum, dmo, n, d);
		eap_sgemm(1, 0, dm, d, n, 1.0f, hid, dm, dmo, d, 1.0f,
			  G(Lw->w_proj), d);
		eap_sgemm(0, 1, n, dm, d, 1.0f, dmo, d, Lw->w_proj, d, 0.0f,
			  w->dhid, dm);
		eap_model_mlp_act_backward(c, w->dfc, F->fc, F->gelu, w->dhid, n);
		/* fc = b_fc + ln2 (n, d) W_fc (d, wfc) */
		if (Lw->b_fc)
			bias_grad(G(Lw->b_fc), w->colsum, w->dfc, n, wfc);
		eap_sgemm(1, 0, d, wfc, n, 1.0f, F->ln2, d, w->dfc, wfc, 1.0f,
			  G(Lw->w_fc), wfc);
		eap_sgemm(0, 1, n, d, wfc, 1.0f, w->dfc, wfc, Lw->w_fc, wfc,
			  0.0f, w->dln, d);
		/* sequential: dres becomes dloss/dx_mid; parallel: the MLP's
		 * share of dloss/dx_in waits in dpar */
		if (a->parallel)
			memset(w->dpar, 0, n * d * sizeof(float));
		norm_backward(c, a->mlp_pre_norm, dmlp, G(Lw->ln2_w),
			      G(Lw->ln2_b), w->dln,
			      a->parallel ? F->x_in : F->x_mid, Lw->ln2_w,
			      F->ln2_stat, n, d);

		/* x_mid = x_in + post1(b_o + z (n, H dh) W_o (H dh, d)) */
		dmo = post_backward(c, w, Lw->post1_w, G(Lw->post1_w), dres,
				    F->attn_o, F->post1_stat, n);
		if (Lw->b_o)
			bias_grad(G(Lw->b_o), w->colsum, dmo, n, d);
		eap_sgemm(1, 0, hd, d, n, 1.0f, F->z, hd, dmo, d, 1.0f,
			  G(Lw->w_o), d);
		eap_sgemm(0, 1, n, hd, d, 1.0f, dmo, d, Lw->w_o, d, 0.0f, w->dz,
			  hd);
		memset(w->dqkv, 0, n * 3 * hd * sizeof(float));
		eap_model_attn_opts(c, l, &ao);
		eap_attention_backward_opt(w->dqkv, w->att_scratch, w->dz,
					   F->att, F->qkv, nb, np, H, dh, &ao);
		if (half)
			eap_rope_apply(w->dqkv, n, np, 2 * H, dh, 3 * hd, half,
				       cs, -1);
		if (w->dproj != w->dqkv) {
			/* each K/V head's gradient: the sum over its query
			 * heads' copies */
			size_t grp = H / Hkv;

			memset(w->dproj, 0, n * wp * sizeof(float));
			for (size_t i = 0; i < n; i++) {
				const float *s = w->dqkv + i * 3 * hd;
				float *t = w->dproj + i * wp;

				memcpy(t, s, hd * sizeof(float));
				for (size_t h = 0; h < H; h++)
					for (size_t e = 0; e < dh; e++) {
						t[(H + h / grp) * dh + e] +=
							s[(H + h) * dh + e];
						t[(H + Hkv + h / grp) * dh + e] +=
							s[(2 * H + h) * dh + e];
					}
			}
		}
		/* proj = b_qkv + ln1 (n, d) W_qkv (d, wp), QK-normed */
		dp = a->qk_norm ? qk_norm_backward(c, w, Lw, G(Lw->q_norm),
						   G(Lw->k_norm), F, n)
				: w->dproj;
		if (Lw->b_qkv)
			bias_grad(G(Lw->b_qkv), w->colsum, dp, n, wp);
		eap_sgemm(1, 0, d, wp, n, 1.0f, F->ln1, d, dp, wp, 1.0f,
			  G(Lw->w_qkv), wp);
		eap_sgemm(0, 1, n, d, wp, 1.0f, dp, wp, Lw->w_qkv, wp,
			  0.0f, w->dln, d);
		/* dres becomes dloss/dx_in */
		norm_backward(c, a->attn_pre_norm, dres, G(Lw->ln1_w),
			      G(Lw->ln1_b), w->dln, F->x_in, Lw->ln1_w,
			      F->ln1_stat, n, d);
		if (a->parallel)
			for (size_t i = 0; i < n * d; i++)
				dres[i] += w->dpar[i];
	}

	/* x0 = W_te[tok] * scale (+ W_pe[pos]) */
	for (size_t i = 0; i < n; i++) {
		float *te = G(W->wte) + (size_t)w->tokens[i] * d;
		float *pe = W->wpe ? G(W->wpe) + (i % np) * d : NULL;
		const float *gi = dres + i * d;

		for (size_t j = 0; j < d; j++) {
			if (pe) {
				te[j] += gi[j];
				pe[j] += gi[j];
			} else {
				te[j] += a->embed_scale * gi[j];
			}
		}
	}
#undef G
	return NULL;
}

int eap_train_grad(struct eap_train *t, const struct eap_model *m,
		   const int32_t *tokens, const int32_t *targets, size_t nb,
		   size_t np, double *loss, struct eap_err *err)
{
	const struct eap_config *c = &m->cfg;
	size_t V = c->n_vocab, n = nb * np, n_pred = 0, nw = t->n_workers;

	if (c->n_layer != t->cfg.n_layer || c->d_model != t->cfg.d_model ||
	    c->d_mlp != t->cfg.d_mlp || c->n_vocab != t->cfg.n_vocab ||
	    c->n_head != t->cfg.n_head || c->tied != t->cfg.tied ||
	    m->n_params != t->n_params)
		return eap_err_set(err, EAP_EINVAL,
				   "model does not match the trainer's config");
	if (nb > t->B || np > t->P || !nb || !np || np > c->n_ctx)
		return eap_err_set(err, EAP_EINVAL,
				   "batch %zu x %zu does not fit the trainer "
				   "(%zu x %zu)",
				   nb, np, t->B, t->P);
	for (size_t i = 0; i < n; i++) {
		if (tokens[i] < 0 || tokens[i] >= (int32_t)V)
			return eap_err_set(err, EAP_EINVAL,
					   "row %zu: token id %d outside the "
					   "vocabulary (%zu)",
					   i / np, tokens[i], V);
		if (targets[i] >= (int32_t)V)
			return eap_err_set(err, EAP_EINVAL,
					   "row %zu: target id %d outside the "
					   "vocabulary (%zu)",
					   i / np, targets[i], V);
		n_pred += targets[i] >= 0;
	}
	if (!n_pred)
		return eap_err_set(err, EAP_EINVAL, "no position has a target");

	for (size_t k = 0; k < nw; k++) {
		struct eap_train_worker *w = &t->workers[k];
		size_t b0 = slice_begin(k, nb, nw);

		w->model = m;
		w->tokens = tokens + b0 * np;
		w->targets = targets + b0 * np;
		w->nb = slice_begin(k + 1, nb, nw) - b0;
		w->np = np;
		w->n_pred = n_pred;
		w->rc = 0;
	}
	run_workers(t, worker_run);
	*loss = 0.0;
	for (size_t k = 0; k < nw; k++) {
		struct eap_train_worker *w = &t->workers[k];

		if (w->rc) {
			if (err)
				*err = w->err;
			return w->rc;
		}
		*loss += w->loss;
	}
	if (nw > 1)
		run_workers(t, worker_reduce);
	return 0;
}

double eap_train_grad_norm(const struct eap_train *t)
{
	double s = 0.0;

	for (size_t i = 0; i < t->n_params; i++)
		s += (double)t->grad[i] * t->grad[i];
	return sqrt(s);
}

/* AdamW on this worker's chunk of the parameters (see train.h). */
static void *worker_adamw(void *arg)
{
	struct eap_train_worker *w = arg;
	struct eap_train *t = w->owner;
	const struct eap_train_hparams *hp = w->hp;
	double b1 = hp->beta1, b2 = hp->beta2, lr = w->lr, gscale = w->gscale;
	double bc1 = 1.0 - pow(b1, (double)t->t);
	double bc2 = 1.0 - pow(b2, (double)t->t), step = lr / bc1;
	size_t lo, hi;

	chunk(w->k, t->n_workers, t->n_params, &lo, &hi);
	for (size_t r = 0; r < t->n_table; r++) {
		const struct eap_param *p = &t->table[r];
		size_t a = p->offset > lo ? p->offset : lo;
		size_t e = p->offset + p->numel < hi ? p->offset + p->numel : hi;
		double keep = eap_train_decays(p) ? 1.0 - lr * hp->weight_decay
						  : 1.0;
		float *x = w->update->params, *g = t->grad;
		float *mm = t->m, *vv = t->v;

		for (size_t k = a; k < e; k++) {
			double gk = gscale * g[k];
			double mk = b1 * mm[k] + (1.0 - b1) * gk;
			double vk = b2 * vv[k] + (1.0 - b2) * gk * gk;

			mm[k] = (float)mk;
			vv[k] = (float)vk;
			x[k] = (float)(x[k] * keep -
				       step * mk / (sqrt(vk / bc2) + hp->eps));
		}
	}
	return NULL;
}

void eap_train_adamw(struct eap_train *t, struct eap_model *m,
		     const struct eap_train_hparams *hp, double lr,
		     double gscale)
{
	t->t++;
	for (size_t k = 0; k < t->n_workers; k++) {
		t->workers[k].update = m;
		t->workers[k].hp = hp;
		t->workers[k].lr = lr;
		t->workers[k].gscale = gscale;
	}
	run_workers(t, worker_adamw);
}

int eap_train_step(struct eap_train *t, struct eap_model *m,
		   const struct eap_train_hparams *hp, const int32_t *tokens,
		   const int32_t *targets, size_t nb, size_t np,
		   struct eap_train_stat *st, struct eap_err *err)
{
	double loss, norm, scale = 1.0, lr;
	int rc;

	if ((rc = eap_train_grad(t, m, tokens, targets, nb, np, &loss, err)))
		return rc;
	norm = eap_train_grad_norm(t);
	if (!isfinite(loss) || !isfinite(norm))
		return eap_err_set(err, EAP_EINVAL,
				   "step %zu: loss %g, gradient norm %g: "
				   "training diverged",
				   t->t + 1, loss, norm);
	if (hp->clip > 0 && hp->clip / (norm + 1e-6) < 1.0)
		scale = hp->clip / (norm + 1e-6);
	lr = eap_train_lr(hp, t->t);
	eap_train_adamw(t, m, hp, lr, scale);
	if (st) {
		st->loss = loss;
		st->grad_norm = norm;
		st->lr = lr;
	}
	return 0;
}
