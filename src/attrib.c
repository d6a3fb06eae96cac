/*
 * attrib.c - see include/eap/attrib.h.
 */
#include "eap/attrib.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eap/linalg.h"
#include "eap/ops.h"

static const char *const metric_names[] = { "logit_diff", "prob_diff", "kl",
					    "kl_sum" };
static const char *const method_names[] = { "eap", "eap-ig",
					    "clean-corrupted", "exact",
					    "eap-ig-act", "relp", "eap-gp" };

int eap_metric_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, metric_names[i]))
			return i;
	if (!strcmp(s, "kl-sum"))
		return EAP_METRIC_KL_SUM;
	return -1;
}

int eap_method_parse(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (!strcmp(s, method_names[i]))
			return i;
	return -1;
}

const char *eap_metric_name(enum eap_metric m) { return metric_names[m]; }
const char *eap_method_name(enum eap_method m) { return method_names[m]; }

/* ---- metrics (SPEC §7) -------------------------------------------------- */

/* log-sum-exp of x (n), in double. */
static double logsumexp(const float *x, size_t n)
{
	float mx = x[0];
	double s = 0.0;

	for (size_t i = 1; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	for (size_t i = 0; i < n; i++)
		s += exp((double)x[i] - mx);
	return mx + log(s);
}

double eap_metric_eval(enum eap_metric metric, const float *logits,
		       size_t V, const int32_t *answers, size_t n_ans,
		       const int32_t *foils, size_t n_foil,
		       const float *clean_logp, float *dlogits)
{
	size_t na = 0, nf = 0;
	double m = 0.0, lse;

	if (dlogits)
		memset(dlogits, 0, V * sizeof(float));
	for (size_t i = 0; i < n_ans; i++)
		na += answers[i] >= 0;
	for (size_t i = 0; i < n_foil; i++)
		nf += foils[i] >= 0;
	switch (metric) {
	case EAP_METRIC_LOGIT_DIFF:
		for (size_t i = 0; i < n_ans; i++)
			if (answers[i] >= 0) {
				m += (double)logits[answers[i]] / (double)na;
				if (dlogits)
					dlogits[answers[i]] += 1.0f / (float)na;
			}
		for (size_t i = 0; i < n_foil; i++)
			if (foils[i] >= 0) {
				m -= (double)logits[foils[i]] / (double)nf;
				if (dlogits)
					dlogits[foils[i]] -= 1.0f / (float)nf;
			}
		return m;
	case EAP_METRIC_PROB_DIFF:
		/* m = sum_j c_j p_j; dm/dl_j = p_j (c_j - m) */
		lse = logsumexp(logits, V);
		for (size_t i = 0; i < n_ans; i++)
			if (answers[i] >= 0)
				m += exp(logits[answers[i]] - lse);
		for (size_t i = 0; i < n_foil; i++)
			if (foils[i] >= 0)
				m -= exp(logits[foils[i]] - lse);
		if (dlogits) {
			for (size_t i = 0; i < n_ans; i++)
				if (answers[i] >= 0)
					dlogits[answers[i]] += 1.0f;
			for (size_t i = 0; i < n_foil; i++)
				if (foils[i] >= 0)
					dlogits[foils[i]] -= 1.0f;
			for (size_t j = 0; j < V; j++)
				dlogits[j] = (float)(exp(logits[j] - lse) *
						     (dlogits[j] - m));
		}
		return m;
	case EAP_METRIC_KL:
	case EAP_METRIC_KL_SUM: {
		/* m = s sum_v pc_v (log pc_v - log p_v); dm/dl_j = s (p_j - pc_j) */
		double s = metric == EAP_METRIC_KL ? 1.0 / (double)V : 1.0;

		lse = logsumexp(logits, V);
		for (size_t j = 0; j < V; j++) {
			double lpc = clean_logp[j], lp = logits[j] - lse;

			m += exp(lpc) * (lpc - lp);
			if (dlogits)
				dlogits[j] = (float)(s * (exp(lp) - exp(lpc)));
		}
		return s * m;
	}
	}
	return NAN;
}

/* ---- the run ------------------------------------------------------------ */

/* Scratch layout: named views into r->scratch. */
struct views {
	float *a, *b, *c, *x, *lnx, *lnstat, *qkv, *att, *z, *fc, *gelu, *dfc,
		*dqkv, *attscr, *lnf_last, *logits, *sbatch, *d2, *dpar, *dp,
		*qw;
};

static size_t views_size(const struct eap_run *r, struct views *v)
{
	const struct eap_config *c = &r->model->cfg;
	const struct eap_arch *a = &c->arch;
	size_t n = r->B * r->P, d = c->d_model, dm = c->d_mlp;
	size_t hd = c->n_head * c->d_head, wfc = dm * (a->gated ? 2 : 1);
	const size_t sz[] = { n * d, n * d, n * d, n * d, n * d, 2 * n,
			      3 * n * hd, r->B * c->n_head * r->P * r->P, n * hd,
			      n * wfc, n * dm, n * wfc, 3 * n * hd,
			      2 * r->P * r->P, r->B * d, r->B * c->n_vocab,
			      r->graph->n_fwd * r->graph->n_bwd,
			      /* d2: post-norm gradients; dpar: a parallel
			       * block's MLP path; dp: one head's path
			       * gradient (n, dh) and its row factors; qw:
			       * OLMo-2's qhat W_q^T and khat W_k^T */
			      a->attn_post_norm || a->mlp_post_norm ? n * d : 0,
			      a->parallel ? n * d : 0,
			      a->qk_norm ? n * (c->d_head + 1) : 0,
			      a->qk_norm == EAP_QKNORM_ALL ?
				      2 * n * d + n * (hd > d ? hd : d) : 0 };
	float **dst[] = { &v->a, &v->b, &v->c, &v->x, &v->lnx, &v->lnstat,
			  &v->qkv, &v->att, &v->z, &v->fc, &v->gelu, &v->dfc,
			  &v->dqkv, &v->attscr, &v->lnf_last, &v->logits,
			  &v->sbatch, &v->d2, &v->dpar, &v->dp, &v->qw };
	size_t off = 0;

	for (size_t i = 0; i < sizeof(sz) / sizeof(sz[0]); i++) {
		if (r->scratch)
			*dst[i] = r->scratch + off;
		off += sz[i];
	}
	return off;
}

int eap_run_init(struct eap_run *r, const struct eap_model *m,
		 const struct eap_graph *g, size_t B, size_t P,
		 struct eap_err *err)
{
	size_t n = B * P, d = m->cfg.d_model, V = m->cfg.n_vocab;
	struct views v;
	int rc;

	memset(r, 0, sizeof(*r));
	if (g->n_layer != m->cfg.n_layer || g->n_head != m->cfg.n_head)
		return eap_err_set(err, EAP_EINVAL,
				   "graph %zu x %zu does not match the model's %zu layers x %zu heads",
				   g->n_layer, g->n_head, m->cfg.n_layer,
				   m->cfg.n_head);
	r->model = m;
	r->graph = g;
	r->B = B;
	r->P = P;
	{
		const char *off = getenv("EAP_NO_PREFIX");

		r->prefix_off = off && *off && strcmp(off, "0");
	}
	if ((rc = eap_fwd_init(&r->fwd, &m->cfg, B, P, 0, err)))
		return rc;
	r->n_scratch = views_size(r, &v);
	r->y_clean = malloc(g->n_fwd * n * d * sizeof(float));
	r->y_corr = malloc(g->n_fwd * n * d * sizeof(float));
	r->y_cur = malloc(g->n_fwd * n * d * sizeof(float));
	r->grad = malloc(g->n_bwd * n * d * sizeof(float));
	r->x0 = malloc(n * d * sizeof(float));
	r->clean_logp = malloc(B * V * sizeof(float));
	r->dlogits = malloc(B * V * sizeof(float));
	r->scratch = malloc(r->n_scratch * sizeof(float));
	r->metric_clean = malloc(B * sizeof(double));
	r->metric_corr = malloc(B * sizeof(double));
	if (!r->y_clean || !r->y_corr || !r->y_cur || !r->grad || !r->x0 ||
	    !r->clean_logp || !r->dlogits || !r->scratch || !r->metric_clean ||
	    !r->metric_corr) {
		eap_run_release(r);
		return eap_err_set(err, EAP_ENOMEM,
				   "out of memory for a batch of %zu x %zu (lower --batch)",
				   B, P);
	}
	return 0;
}

/* A lane owns its forward, scratch, x0, dlogits and score sums; the rest
 * is borrowed. */
static void lanes_release(struct eap_run *r)
{
	for (size_t k = 0; k < r->n_lanes; k++) {
		eap_fwd_release(&r->lanes[k].fwd);
		free(r->lanes[k].scratch);
		free(r->lanes[k].x0);
		free(r->lanes[k].dlogits);
		free(r->lanes[k].lsum);
		free(r->lanes[k].ltile);
	}
	free(r->lanes);
	r->lanes = NULL;
	r->n_lanes = 0;
}

int eap_run_per_layer(struct eap_run *r, struct eap_err *err)
{
	const struct eap_graph *g = r->graph;
	size_t slots = 3 * g->n_head + 1;
	float *grad = malloc(slots * r->B * r->P * r->model->cfg.d_model *
			     sizeof(float));

	if (!grad)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	lanes_release(r); /* they are made again with their score sums */
	free(r->grad);
	r->grad = grad;
	r->per_layer = 1;
	return 0;
}

static void patch_release(struct eap_patch *p);

void eap_run_release(struct eap_run *r)
{
	lanes_release(r);
	patch_release(r->patch);
	eap_fwd_release(&r->fwd);
	for (size_t k = 0; k < r->n_stacks; k++)
		eap_fwd_release(&r->stacks[k]);
	free(r->stacks);
	free(r->y_clean);
	free(r->y_corr);
	free(r->y_cur);
	free(r->grad);
	free(r->x0);
	free(r->clean_logp);
	free(r->dlogits);
	free(r->scratch);
	free(r->metric_clean);
	free(r->metric_corr);
	memset(r, 0, sizeof(*r));
}

/*
 * Copy the node outputs of the first n rows of r->fwd into y (node u at
 * y + u * ns): the input, each head's z_h W_O[h] (with a post-attention
 * norm: its share w * z_h W_O[h] / rms(o) of the normed output, README
 * "Model families") and each MLP's output.
 */
static void nodes_out(struct eap_run *r, size_t n, float *y, size_t ns)
{
	const struct eap_model *m = r->model;
	const struct eap_graph *g = r->graph;
	size_t d = m->cfg.d_model, dh = m->cfg.d_head, hd = g->n_head * dh;

	memcpy(y, r->fwd.layers[0].x_in, n * d * sizeof(float));
	for (size_t l = 0; l < m->cfg.n_layer; l++) {
		const struct eap_fwd_layer *F = &r->fwd.layers[l];
		const struct eap_layer *W = eap_model_layer(m, l);

		/* y_{l,h} = z_h W_O[h]: head h's columns of z, rows of W_O */
		for (size_t h = 0; h < g->n_head; h++) {
			float *yh = y + eap_fwd_head(g, l, h) * ns;

			eap_sgemm(0, 0, n, d, dh, 1.0f, F->z + h * dh, hd,
				  W->w_o + h * dh * d, d, 0.0f, yh, d);
			if (W->post1_w)
				for (size_t i = 0; i < n; i++)
					for (size_t j = 0; j < d; j++)
						yh[i * d + j] *= F->post1_stat[i] *
								 W->post1_w[j];
		}
		memcpy(y + eap_fwd_mlp(g, l) * ns, F->mlp_out,
		       n * d * sizeof(float));
		eap_model_layer_put(m, W);
	}
}

int eap_run_nodes(struct eap_run *r, const int32_t *tokens, const float *x0,
		  const int32_t *lengths, size_t nb, size_t np, float *y,
		  struct eap_err *err)
{
	const struct eap_model *m = r->model;
	size_t n = nb * np, d = m->cfg.d_model;
	int rc;

	if (nb > r->B || np > r->P)
		return eap_err_set(err, EAP_EINVAL,
				   "batch %zu x %zu exceeds the run's %zu x %zu",
				   nb, np, r->B, r->P);
	rc = x0 ? eap_model_forward_embedded(m, &r->fwd, x0, lengths, nb, np, err)
		: eap_model_forward(m, &r->fwd, tokens, lengths, nb, np, err);
	if (rc || !y)
		return rc;
	nodes_out(r, n, y, r->node_stride ? r->node_stride : n * d);
	return eap_model_status(m, err);
}

/* Log-softmax of each row of logits (nb, V) into out. */
static void log_softmax_rows(float *out, const float *logits, size_t nb,
			     size_t V)
{
	for (size_t b = 0; b < nb; b++) {
		double lse = logsumexp(logits + b * V, V);

		for (size_t j = 0; j < V; j++)
			out[b * V + j] = (float)(logits[b * V + j] - lse);
	}
}

static double row_metric(const struct eap_run *r, const struct eap_batch *bt,
			 enum eap_metric metric, size_t b, const float *logits,
			 float *dlogits)
{
	size_t V = r->model->cfg.n_vocab;

	return eap_metric_eval(metric, logits, V, bt->answers + b * bt->n_ans,
			       bt->n_ans, bt->foils + b * bt->n_foil,
			       bt->n_foil, r->clean_logp + b * V, dlogits);
}

/*
 * The clean and corrupted runs; r->fwd ends holding the clean run, or the
 * corrupted one if corrupted_last (EAP-IG's step k = 0 is the corrupted
 * run, so its forward is not repeated).
 */
static int baselines(struct eap_run *r, const struct eap_batch *bt,
		     enum eap_metric metric, int corrupted_last,
		     struct eap_err *err)
{
	size_t V = r->model->cfg.n_vocab, nb = bt->nb;
	const int32_t *first = corrupted_last ? bt->clean : bt->corrupted;
	const int32_t *second = corrupted_last ? bt->corrupted : bt->clean;
	int rc;

	rc = eap_run_nodes(r, first, NULL, bt->lengths, nb, bt->np,
			   corrupted_last ? r->y_clean : r->y_corr, err);
	if (rc)
		return rc;
	memcpy(r->dlogits, r->fwd.logits, nb * V * sizeof(float));
	rc = eap_run_nodes(r, second, NULL, bt->lengths, nb, bt->np,
			   corrupted_last ? r->y_corr : r->y_clean, err);
	if (rc)
		return rc;
	/* dlogits holds the first run's logits, fwd.logits the second's */
	log_softmax_rows(r->clean_logp,
			 corrupted_last ? r->dlogits : r->fwd.logits, nb, V);
	for (size_t b = 0; b < nb; b++) {
		const float *lc = corrupted_last ? r->dlogits : r->fwd.logits;
		const float *lr = corrupted_last ? r->fwd.logits : r->dlogits;

		r->metric_clean[b] = row_metric(r, bt, metric, b, lc + b * V, NULL);
		r->metric_corr[b] = row_metric(r, bt, metric, b, lr + b * V, NULL);
	}
	return 0;
}

int eap_run_baselines(struct eap_run *r, const struct eap_batch *bt,
		      enum eap_metric metric, struct eap_err *err)
{
	return baselines(r, bt, metric, 0, err);
}

/* dst (n) += alpha * src (n) */
static void axpy(float *dst, float alpha, const float *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += alpha * src[i];
}

/* dst (nb rows of np - p0 positions, d) += positions p0.. of src (nb,
 * np, d) */
static void axpy_suffix(float *dst, const float *src, size_t nb, size_t np,
			size_t p0, size_t d)
{
	size_t Pq = np - p0;

	for (size_t b = 0; b < nb; b++)
		axpy(dst + b * Pq * d, 1.0f, src + (b * np + p0) * d, Pq * d);
}

/* xhat (n, d) = (x - mean) / std, the normalized input of a LayerNorm. */
static void ln_xhat(float *xhat, const float *x, const float *stat, size_t n,
		    size_t d)
{
	for (size_t i = 0; i < n; i++) {
		float m = stat[2 * i], r = stat[2 * i + 1];

		for (size_t j = 0; j < d; j++)
			xhat[i * d + j] = (x[i * d + j] - m) * r;
	}
}

/*
 * One backward input's own LayerNorm backward (the copies share x, so they
 * share xhat): g = r (u - mean(u) - xhat mean(u xhat)) with u = dln * w
 * (RMSNorm: center 0, no mean(u); its stat has ss = 1 float a row, 1/rms;
 * LayerNorm's ss = 2, mean and 1/std);
 * grad_v += alpha g and dres += g in the same pass.  With fold > 1 the
 * rows of dln, xhat, dres and stat are fold stacked copies of n rows (IG
 * steps, copy-major), whose g all add into grad_v's n rows.  The two sums run in 8
 * float lanes over blocks of 64 (8 terms a lane), added into double lanes
 * after each block: the loops vectorise, and a float sum of 8 terms loses
 * about 1e-7 relative, where a plain double chain would be latency-bound
 * (it was 9% of EAP-IG).  The order is fixed, so results reproduce.
 * lrp: RelP's LN-rule, r held constant: g = r (u - mean(u)).
 */
#if defined(__GNUC__) && defined(__x86_64__)
/* 8 lanes a vector where the CPU has AVX2 (no FMA contraction under
 * -std=c11, so both clones give the same bits) */
__attribute__((target_clones("avx2", "default")))
#endif
static void path_ln_backward(float *restrict grad_v, float alpha,
			     float *restrict dres, const float *restrict dln,
			     const float *restrict xhat,
			     const float *restrict w,
			     const float *restrict stat, size_t n, size_t d,
			     size_t fold, int center, size_t ss, int lrp)
{
	enum { LANES = 8, BLOCK = 64 };

	/* copies innermost: grad_v's row stays in cache across them */
	for (size_t i0 = 0; i0 < n; i0++)
	for (size_t c = 0; c < fold; c++) {
		size_t i = c * n + i0;
		const float *gi = dln + i * d, *xi = xhat + i * d;
		float *gv = grad_v + i0 * d, *dr = dres + i * d;
		float r = stat[ss * i + ss - 1], mu, mux;
		double su[LANES] = { 0 }, sux[LANES] = { 0 }, tu = 0, tux = 0;
		size_t j = 0;

		for (; j + BLOCK <= d; j += BLOCK) {
			float a[LANES] = { 0 }, b[LANES] = { 0 };

			for (size_t k = 0; k < BLOCK; k += LANES)
				for (size_t l = 0; l < LANES; l++) {
					float u = gi[j + k + l] * w[j + k + l];

					a[l] += u;
					b[l] += u * xi[j + k + l];
				}
			for (size_t l = 0; l < LANES; l++) {
				su[l] += a[l];
				sux[l] += b[l];
			}
		}
		for (; j < d; j++) {
			float u = gi[j] * w[j];

			tu += u;
			tux += (double)u * xi[j];
		}
		for (size_t l = 0; l < LANES; l++) {
			tu += su[l];
			tux += sux[l];
		}
		mu = center ? (float)(tu / (double)d) : 0.0f;
		/* RelP's LN-rule: the scale r is a constant, so no xhat term */
		mux = lrp ? 0.0f : (float)(tux / (double)d);
		/* in blocks of LANES: loops of unknown length with an
		 * epilogue are not vectorised at -O2 */
		for (j = 0; j + LANES <= d; j += LANES)
			for (size_t l = 0; l < LANES; l++) {
				size_t k = j + l;
				float g = r * (gi[k] * w[k] - mu - xi[k] * mux);

				gv[k] += alpha * g;
				dr[k] += g;
			}
		for (; j < d; j++) {
			float g = r * (gi[j] * w[j] - mu - xi[j] * mux);

			gv[j] += alpha * g;
			dr[j] += g;
		}
	}
}

/* xhat (n, d) of the model's norm: (x - mean) / std or x / rms. */
static void norm_xhat(const struct eap_config *c, float *xhat, const float *x,
		      const float *stat, size_t n, size_t d)
{
	if (c->arch.norm == EAP_NORM_LAYER) {
		ln_xhat(xhat, x, stat, n, d);
		return;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			xhat[i * d + j] = x[i * d + j] * stat[i];
}

/*
 * One backward input's own path back through its norm (or none): adds
 * alpha g into grad_v (fold copies summed) and g into dres.
 */
static void path_norm_backward(const struct eap_config *c, int has_norm,
			       float *grad_v, float alpha, float *dres,
			       const float *dln, const float *xhat,
			       const float *w, const float *stat, size_t n0,
			       size_t d, size_t fold, int lrp)
{
	if (!has_norm) {
		for (size_t k = 0; k < fold; k++)
			axpy(grad_v, alpha, dln + k * n0 * d, n0 * d);
		axpy(dres, 1.0f, dln, fold * n0 * d);
		return;
	}
	if (c->arch.norm == EAP_NORM_LAYER)
		path_ln_backward(grad_v, alpha, dres, dln, xhat, w, stat, n0, d,
				 fold, 1, 2, lrp);
	else
		path_ln_backward(grad_v, alpha, dres, dln, xhat, w, stat, n0, d,
				 fold, 0, 1, lrp);
}

/*
 * RelP's LN-rule on whole norms (the final norm, post-norms): the
 * backward with the scale r = 1/std or 1/rms held constant, dx += r (u -
 * mean(u)) (LayerNorm, center) or r u (RMSNorm), u = dout w; stat holds
 * ss floats a row, r last.
 */
static void norm_backward_lrp(float *dx, const float *dout, const float *w,
			      const float *stat, size_t ss, size_t n,
			      size_t d, int center)
{
	for (size_t i = 0; i < n; i++) {
		const float *g = dout + i * d;
		double r = stat[ss * i + ss - 1], mu = 0.0;

		if (center) {
			for (size_t j = 0; j < d; j++)
				mu += (double)g[j] * w[j];
			mu /= (double)d;
		}
		for (size_t j = 0; j < d; j++)
			dx[i * d + j] += (float)(r * ((double)g[j] * w[j] - mu));
	}
}

/* act(x) / x, the factor by which RelP's identity rule passes relevance
 * through an activation, and its limit act'(0) at 0: 1/2 for GELU and
 * SiLU, 1 for the identity */
static float act_ratio(const struct eap_config *c, float x, float y)
{
	if (x != 0.0f)
		return y / x;
	return c->arch.act == EAP_ACT_IDENTITY ? 1.0f : 0.5f;
}

/*
 * The MLP activation backward under RelP's rules: the identity rule
 * (dx = dout act(x) / x, relevance x dx = act(x) dout passes through
 * unchanged) and, in a gated MLP act(gate) * up, the half rule (each
 * factor gets half of the product's relevance: dgate from dout up / 2,
 * dup = dout act(gate) / 2).  Layouts as eap_model_mlp_act_backward.
 */
static void mlp_act_lrp(const struct eap_config *c, float *dfc,
			const float *fc, const float *act, const float *dhid,
			size_t n)
{
	size_t dm = c->d_mlp;

	if (!c->arch.gated) {
		for (size_t i = 0; i < n * dm; i++)
			dfc[i] = dhid[i] * act_ratio(c, fc[i], act[i]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const float *f = fc + i * 2 * dm, *y = act + i * dm;
		const float *dh = dhid + i * dm;
		float *dg = dfc + i * 2 * dm;

		for (size_t j = 0; j < dm; j++) {
			dg[j] = 0.5f * dh[j] * f[dm + j] *
				act_ratio(c, f[j], y[j]);
			dg[dm + j] = 0.5f * dh[j] * y[j];
		}
	}
}

/*
 * The MLP of layer l backward from the gradient at its output dmo (n, d)
 * to the gradient at its norm's output, into dln (n, d).
 */
static void mlp_backward(struct eap_run *r, const struct views *v, size_t l,
			 const float *dmo, float *dln, size_t n)
{
	const struct eap_config *c = &r->model->cfg;
	const struct eap_layer *W = eap_model_layer(r->model, l);
	const struct eap_fwd_layer *F = &r->fwd.layers[l];
	size_t d = c->d_model, dm = c->d_mlp, wfc = dm * (c->arch.gated ? 2 : 1);

	if (W->post2_w) {
		memset(v->d2, 0, n * d * sizeof(float));
		if (r->lrp)
			norm_backward_lrp(v->d2, dmo, W->post2_w, F->post2_stat,
					  1, n, d, 0);
		else
			eap_rmsnorm_backward(v->d2, NULL, dmo, F->mlp_raw,
					     W->post2_w, F->post2_stat, n, d);
		dmo = v->d2;
	}
	eap_sgemm(0, 1, n, dm, d, 1.0f, dmo, d, W->w_proj, d, 0.0f, v->gelu,
		  dm);
	if (r->lrp)
		mlp_act_lrp(c, v->dfc, F->fc, F->gelu, v->gelu, n);
	else
		eap_model_mlp_act_backward(c, v->dfc, F->fc, F->gelu, v->gelu,
					   n);
	eap_sgemm(0, 1, n, d, wfc, 1.0f, v->dfc, wfc, W->w_fc, wfc, 0.0f, dln,
		  d);
	eap_model_layer_put(r->model, W);
}

/*
 * QK-norm backward of one query head's q (kind 0) or k (kind 1) path:
 * dp (n, dh) becomes the gradient at the head's slice of the projection
 * from dq (its rows at stride ld).  Per head (Qwen3, Gemma-3): the
 * RMSNorm backward of the slice.  Over all of q or k (OLMo-2): the slice's
 * own part r w dq, and dp's last n floats get the factor r s, s = mean
 * over the whole width of w dq qhat (dq zero outside the slice), by which
 * the caller subtracts qhat W^T.
 */
static void qk_norm_backward(const struct eap_run *r, size_t l, int kind,
			     size_t h, const float *dq, size_t ld, float *dp,
			     size_t n)
{
	const struct eap_config *c = &r->model->cfg;
	const struct eap_layer *W = eap_model_layer(r->model, l);
	const struct eap_fwd_layer *F = &r->fwd.layers[l];
	size_t H = c->n_head, Hkv = c->n_kv_head, dh = c->d_head;
	size_t wp = (H + 2 * Hkv) * dh, grp = kind ? h / (H / Hkv) : h;
	size_t col = kind ? (H + grp) * dh : h * dh, sst = H + Hkv;
	const float *w = kind ? W->k_norm : W->q_norm;

	memset(dp, 0, n * dh * sizeof(float));
	if (c->arch.qk_norm == EAP_QKNORM_HEAD) {
		for (size_t i = 0; i < n; i++)
			eap_rmsnorm_backward(dp + i * dh, NULL, dq + i * ld,
					     F->proj + i * wp + col, w,
					     F->qk_stat + i * sst + (kind ? H + grp : h),
					     1, dh);
		eap_model_layer_put(r->model, W);
		return;
	}
	{
		size_t width = kind ? Hkv * dh : H * dh, c0 = kind ? H * dh : 0;
		size_t off = col - c0; /* the slice within q or k */

		for (size_t i = 0; i < n; i++) {
			float rr = F->qk_stat[i * sst + (size_t)kind];
			const float *x = F->proj + i * wp + col;
			double sum = 0.0;

			for (size_t j = 0; j < dh; j++) {
				float u = dq[i * ld + j] * w[off + j];

				dp[i * dh + j] = rr * u;
				sum += (double)u * x[j] * rr;
			}
			dp[n * dh + i] = (float)(rr * sum / (double)width);
		}
	}
	eap_model_layer_put(r->model, W);
}

static void dy_rows(struct eap_run *r, const struct eap_batch *bt);

/*
 * Per layer, every backward contracts with dY as it goes, so dY must be
 * there before the first one: made from y_clean and y_corr unless it was
 * given (then ldy points at it, not at y_cur).
 */
static void dy_first(struct eap_run *r, const struct eap_batch *bt)
{
	if (r->per_layer && r->ldy == r->y_cur)
		dy_rows(r, bt);
}

/* Where backward input v's gradient is in grad: per layer, its slot. */
static size_t grad_slot(const struct eap_run *r, size_t v)
{
	return r->per_layer ? v % (3 * r->graph->n_head + 1) : v;
}

/*
 * Per-layer contraction: lsum[u][v0 + j] += dY_u . grad slot j over the
 * n0 rows, for the first n_up forward nodes u (those before the inputs
 * v0..v0 + nv - 1; the rest have no edge into them).  A backward of
 * weight alpha 0 (EAP-GP's path step) adds nothing and is skipped.
 */
static void contract_layer(struct eap_run *r, float alpha, size_t n0,
			   size_t v0, size_t nv, size_t n_up)
{
	const struct eap_graph *g = r->graph;
	size_t K = n0 * r->model->cfg.d_model;
	size_t ns = r->node_stride ? r->node_stride : K;

	if (alpha == 0.0f)
		return;
	eap_sgemm(0, 1, n_up, nv, K, 1.0f, r->ldy, ns, r->grad, ns, 0.0f,
		  r->ltile, nv);
	for (size_t u = 0; u < n_up; u++)
		for (size_t j = 0; j < nv; j++)
			r->lsum[u * g->n_bwd + v0 + j] += r->ltile[u * nv + j];
}

/*
 * The backward pass, on a forward of fold stacked copies of the batch bt
 * (copy-major rows; IG steps): the gradients of all copies add into
 * grad's rows of bt.  With cut_layer >= 0 the output of that layer's
 * attention (cut_mlp 0) or MLP (cut_mlp 1) was a constant in the forward,
 * so no gradient goes through it: its backward inputs get none, and the
 * residual stream's gradient passes the block unchanged.  Every family's
 * ops (README "Model families"): each backward input's own path through
 * its norm, projection, QK-norm and rotary.
 */
static int backward(struct eap_run *r, const struct eap_batch *bt,
		    enum eap_metric metric, float alpha, size_t fold,
		    double *metric_out, long cut_layer, int cut_mlp,
		    struct eap_err *err)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_arch *a = &c->arch;
	const struct eap_graph *g = r->graph;
	const struct eap_fwd *f = &r->fwd;
	size_t nb = f->nb, np = f->np, n = nb * np, d = c->d_model;
	size_t dh = c->d_head, H = c->n_head, V = c->n_vocab;
	size_t Hkv = c->n_kv_head, hd = H * dh, wp = (H + 2 * Hkv) * dh;
	size_t n0 = bt->nb * np, ns = r->node_stride ? r->node_stride : n0 * d;
	struct views v;
	float *dres, *dln, *xhat;

	if (nb != fold * bt->nb || np != bt->np)
		return eap_err_set(err, EAP_EINVAL,
				   "backward batch %zu x %zu does not match the forward's %zu x %zu",
				   bt->nb, bt->np, nb, np);
	views_size(r, &v);
	dres = v.a;
	dln = v.b;
	xhat = v.c;
	for (size_t b = 0; b < nb; b++) {
		double mv = 0.0;

		if (r->gp_target) {
			/* EAP-GP's path: d/dlogits ||logits - target||^2 */
			const float *t = r->gp_target + (b % bt->nb) * V;

			for (size_t j = 0; j < V; j++) {
				float e = f->logits[b * V + j] - t[j];

				r->dlogits[b * V + j] = 2.0f * e;
				mv += (double)e * e;
			}
		} else {
			mv = row_metric(r, bt, metric, b % bt->nb,
					f->logits + b * V, r->dlogits + b * V);
		}
		if (metric_out && b < bt->nb)
			metric_out[b] = mv;
	}
	if (a->logit_softcap > 0)
		eap_softcap_backward(r->dlogits, f->logits, r->dlogits, nb * V,
				     a->logit_softcap);
	/* logits: dlnf_last (nb, d) = dlogits (nb, V) W_U (V, d), then the
	 * final norm's backward at each row's last real position only */
	eap_model_unembed(m, 1, nb, v.lnf_last, d, r->dlogits, V);
	memset(dres, 0, n * d * sizeof(float));
	for (size_t b = 0; b < nb; b++) {
		size_t row = b * np + (size_t)f->lengths[b] - 1;
		int ln = a->norm == EAP_NORM_LAYER;

		if (a->norm == EAP_NORM_NONE)
			axpy(dres + row * d, 1.0f, v.lnf_last + b * d, d);
		else if (r->lrp)
			norm_backward_lrp(dres + row * d, v.lnf_last + b * d,
					  m->w.lnf_w,
					  f->lnf_stat + (ln ? 2 : 1) * row,
					  ln ? 2 : 1, 1, d, ln);
		else if (ln)
			eap_layernorm_backward(dres + row * d, NULL, NULL,
					       v.lnf_last + b * d,
					       f->x_out + row * d, m->w.lnf_w,
					       f->lnf_stat + 2 * row, 1, d);
		else
			eap_rmsnorm_backward(dres + row * d, NULL,
					     v.lnf_last + b * d,
					     f->x_out + row * d, m->w.lnf_w,
					     f->lnf_stat + row, 1, d);
	}
	if (r->per_layer)
		memset(r->grad, 0, n0 * d * sizeof(float));
	for (size_t k = 0; k < fold; k++)
		axpy(r->grad + grad_slot(r, eap_bwd_logits(g)) * ns, alpha,
		     dres + k * n0 * d, n0 * d);
	if (r->per_layer) /* logits read every forward node */
		contract_layer(r, alpha, n0, eap_bwd_logits(g), 1,
			       g->n_fwd);

	for (size_t l = c->n_layer; l-- > 0;) {
		const struct eap_layer *W = eap_model_layer(m, l);
		const struct eap_fwd_layer *F = &f->layers[l];
		size_t vm = eap_bwd_index(g, l, EAP_BWD_MLP, 0), half;
		const float *cs = eap_model_rope_table(c, f, l, &half);
		const float *dO = dres;
		float *dmlp = a->parallel ? v.dpar : dres;
		struct eap_attn_opts ao;
		int cut = (long)l == cut_layer;

		if (r->per_layer)
			for (size_t k = 0; k < 3 * H + 1; k++)
				memset(r->grad + k * ns, 0, n0 * d * sizeof(float));

		/* MLP path: its own norm copy; a parallel block's MLP reads
		 * x_in, and its gradient joins after the attention's */
		if (a->parallel)
			memset(v.dpar, 0, n * d * sizeof(float));
		if (!(cut && cut_mlp)) {
			const float *xm = a->parallel ? F->x_in : F->x_mid;

			mlp_backward(r, &v, l, dres, dln, n);
			if (a->mlp_pre_norm)
				norm_xhat(c, xhat, xm, F->ln2_stat, n, d);
			path_norm_backward(c, a->mlp_pre_norm, r->grad + grad_slot(r, vm) * ns,
					   alpha, dmlp, dln, xhat, W->ln2_w,
					   F->ln2_stat, n0, d, fold, r->lrp);
		}
		if (cut && !cut_mlp) {
			if (a->parallel)
				axpy(dres, 1.0f, v.dpar, n * d);
			eap_model_layer_put(m, W);
			if (r->per_layer)
				contract_layer(r, alpha, n0, vm - 3 * H,
					       3 * H + 1, eap_fwd_mlp(g, l));
			continue;
		}

		/* attention: dz = do W_O^T (do through the post norm), then
		 * the attention core, rotary back */
		if (W->post1_w) {
			memset(v.d2, 0, n * d * sizeof(float));
			if (r->lrp)
				norm_backward_lrp(v.d2, dres, W->post1_w,
						  F->post1_stat, 1, n, d, 0);
			else
				eap_rmsnorm_backward(v.d2, NULL, dres, F->attn_o,
						     W->post1_w, F->post1_stat,
						     n, d);
			dO = v.d2;
		}
		eap_sgemm(0, 1, n, hd, d, 1.0f, dO, d, W->w_o, d, 0.0f, v.z, hd);
		memset(v.dqkv, 0, 3 * n * hd * sizeof(float));
		if (r->lrp) {
			/* RelP's attention rule: the pattern is a constant, so
			 * only v gets a gradient, dv = a^T dz; q and k none */
			for (size_t b = 0; b < nb; b++)
				for (size_t h = 0; h < H; h++)
					eap_sgemm(1, 0, np, dh, np, 1.0f,
						  F->att + (b * H + h) * np * np,
						  np, v.z + b * np * hd + h * dh,
						  hd, 1.0f,
						  v.dqkv + b * np * 3 * hd +
							  2 * hd + h * dh,
						  3 * hd);
		} else {
			eap_model_attn_opts(c, l, &ao);
			eap_attention_backward_opt(v.dqkv, v.attscr, v.z, F->att,
						   F->qkv, nb, np, H, dh, &ao);
			if (half)
				eap_rope_apply(v.dqkv, n, np, 2 * H, dh, 3 * hd,
					       half, cs, -1);
		}
		if (a->attn_pre_norm)
			norm_xhat(c, xhat, F->x_in, F->ln1_stat, n, d);
		if (a->qk_norm == EAP_QKNORM_ALL && !r->lrp) {
			/* qw = qhat W_q^T, kw = khat W_k^T: the norm's shared
			 * part of every head's q (k) path */
			for (int k = 0; k < 2; k++) {
				size_t w0 = k ? Hkv * dh : hd, c0 = k ? hd : 0;
				float *qhat = v.qw + 2 * n * d;

				for (size_t i = 0; i < n; i++) {
					float rr = F->qk_stat[i * (H + Hkv) + (size_t)k];

					for (size_t j = 0; j < w0; j++)
						qhat[i * w0 + j] = F->proj[i * wp + c0 + j] * rr;
				}
				eap_sgemm(0, 1, n, d, w0, 1.0f, qhat, w0,
					  W->w_qkv + c0, wp, 0.0f,
					  v.qw + (size_t)k * n * d, d);
			}
		}
		/* each q/k/v input of each head: its own path's gradient
		 * d_path W_path^T, then its own norm */
		for (int k = r->lrp ? 2 : 0; k < 3; k++)
			for (size_t h = 0; h < H; h++) {
				size_t grp = h / (H / Hkv);
				size_t cq = (size_t)k * hd + h * dh;
				size_t cw = k == 0 ? h * dh
					    : k == 1 ? hd + grp * dh
						     : hd + (Hkv + grp) * dh;
				size_t vi = eap_bwd_index(g, l, (enum eap_bwd_kind)k, h);

				if (a->qk_norm && k < 2) {
					qk_norm_backward(r, l, k, h, v.dqkv + cq,
							 3 * hd, v.dp, n);
					eap_sgemm(0, 1, n, d, dh, 1.0f, v.dp, dh,
						  W->w_qkv + cw, wp, 0.0f, dln, d);
					if (a->qk_norm == EAP_QKNORM_ALL)
						for (size_t i = 0; i < n; i++)
							axpy(dln + i * d,
							     -v.dp[n * dh + i],
							     v.qw + (size_t)k * n * d + i * d,
							     d);
				} else {
					eap_sgemm(0, 1, n, d, dh, 1.0f,
						  v.dqkv + cq, 3 * hd,
						  W->w_qkv + cw, wp, 0.0f, dln, d);
				}
				path_norm_backward(c, a->attn_pre_norm,
						   r->grad + grad_slot(r, vi) * ns, alpha, dres,
						   dln, xhat, W->ln1_w,
						   F->ln1_stat, n0, d, fold, r->lrp);
			}
		if (a->parallel)
			axpy(dres, 1.0f, v.dpar, n * d);
		eap_model_layer_put(m, W);
		/* the layer's inputs read the nodes before them (and its own
		 * heads, the MLP): their scores now, then grad is reused */
		if (r->per_layer)
			contract_layer(r, alpha, n0, vm - 3 * H, 3 * H + 1,
				       eap_fwd_mlp(g, l));
	}
	return eap_model_status(m, err);
}

int eap_run_backward(struct eap_run *r, const struct eap_batch *bt,
		     enum eap_metric metric, float alpha, double *metric_out,
		     struct eap_err *err)
{
	if (r->per_layer && !r->lsum)
		return eap_err_set(err, EAP_EINVAL,
				   "per-layer contraction: gradients only through eap_run_score");
	return backward(r, bt, metric, alpha, 1, metric_out, -1, 0, err);
}

/* ---- patched runs (SPEC §9) --------------------------------------------- */

/*
 * A patched run gives every backward input v its own input copy: the sum
 * over v's parents u of y_u, u's output in this run, where the circuit
 * keeps u -> v, and of a_u, u's ablated value, where it does not (plus
 * the b_O of the layers passed).  It is built from the residual of all
 * current outputs rc minus y_u - a_u of the patched parents, or from the
 * residual of all ablated values ra plus y_u - a_u of the kept ones,
 * whichever touches fewer parents.
 *
 * Many circuits run at once: a stack holds G circuits x nbp prompts along
 * its rows (circuit-major), so every weight is packed once for all of
 * them, and each BLAS thread runs stacks of its own with one BLAS thread.
 * Shared by all stacks of a batch (struct eap_patch): ra entering each
 * layer's attention, its MLP and the logits, and what a fully ablated
 * input gives (q|k|v of every head, the MLP's output): a circuit that
 * keeps no edge into v takes those rows instead of computing them, which
 * is most inputs of a small circuit.
 */

/* Bytes the stacks of patched runs may take together. */
#define PATCH_BUDGET ((size_t)768 << 20)

struct patch_stack {
	size_t R;          /* rows (G circuits x nbp prompts x P) */
	float *dy;         /* (n_fwd, R, d): y_u - a_u of each node */
	float *rc;         /* (R, d) residual of the current outputs */
	float *lnq;        /* (3H, R, d) LN1 of each q/k/v input copy; the
			      MLP's copy uses slot 0 */
	float *x;          /* (R, d) the MLP's input copy */
	float *stat;       /* (R, 2) */
	float *qkv;        /* (R, 3 H dh) q|k|v of every query head */
	float *att;        /* (R, H, P) */
	float *z;          /* (R, H dh) */
	float *fc;         /* (R, d_mlp), gated (R, 2 d_mlp): gate | up */
	float *gelu;       /* (R, d_mlp) act(fc), gated act(gate) * up */
	float *lnf;        /* (R / P, d) LN_f at each prompt's last position */
	float *logits;     /* (R / P, V) */
	float *proj;       /* (R, H dh) all of q or k before a whole-width
			      QK-norm (OLMo-2); else NULL */
	size_t *par;       /* (3H + 1, n_fwd) parents each copy adds */
	size_t *n_par;     /* (3H + 1) their counts */
	uint8_t *from_ra;  /* (3H + 1) copy built from ra (else rc) */
	float *mem;
};

struct eap_patch {
	size_t cap;        /* rows of a batch: B x P */
	float *ra;         /* (2L + 1, cap, d) all-ablated residual entering
			      layer l's attention (2l), its MLP (2l + 1) and
			      the logits (2L) */
	float *qkv_ra;     /* (L, cap, 3 H dh) q|k|v from ra */
	float *mlp_ra;     /* (L, cap, d) the MLP's output from ra */
	struct patch_stack *st;
	size_t n_st, R;    /* stacks (one per BLAS thread), their rows */
	size_t G, nbp;     /* the chunk shape they were made for */
};

static void run_parallel(void *(*fn)(void *), void *jobs, size_t size,
			 size_t T);

static void stacks_free(struct eap_patch *p)
{
	for (size_t k = 0; k < p->n_st; k++) {
		free(p->st[k].mem);
		free(p->st[k].par);
		free(p->st[k].n_par);
		free(p->st[k].from_ra);
	}
	free(p->st);
	p->st = NULL;
	p->n_st = 0;
}

static void patch_release(struct eap_patch *p)
{
	if (!p)
		return;
	stacks_free(p);
	free(p->ra);
	free(p->qkv_ra);
	free(p->mlp_ra);
	free(p);
}

/* Floats of a stack per row of P positions: the layout of patch_stack. */
static size_t stack_floats(const struct eap_run *r, size_t R)
{
	const struct eap_config *c = &r->model->cfg;
	size_t d = c->d_model, H = c->n_head, P = r->P, hd = H * c->d_head;
	size_t wfc = c->d_mlp * (c->arch.gated ? 2 : 1);
	size_t proj = c->arch.qk_norm == EAP_QKNORM_ALL ? hd : 0;

	return R * (r->graph->n_fwd * d + d + 3 * H * d + d + 2 + 3 * hd +
		    H * P + hd + wfc + c->d_mlp + proj) +
	       (R / P) * (d + c->n_vocab);
}

static int stack_alloc(struct eap_run *r, struct patch_stack *s, size_t R)
{
	const struct eap_config *c = &r->model->cfg;
	const struct eap_graph *g = r->graph;
	size_t d = c->d_model, H = c->n_head, P = r->P, nr = R / P;
	size_t hd = H * c->d_head, wfc = c->d_mlp * (c->arch.gated ? 2 : 1);
	float *q;

	memset(s, 0, sizeof(*s));
	s->R = R;
	s->mem = malloc(stack_floats(r, R) * sizeof(float));
	s->par = malloc((3 * H + 1) * g->n_fwd * sizeof(size_t));
	s->n_par = malloc((3 * H + 1) * sizeof(size_t));
	s->from_ra = malloc(3 * H + 1);
	if (!s->mem || !s->par || !s->n_par || !s->from_ra) {
		free(s->mem);
		free(s->par);
		free(s->n_par);
		free(s->from_ra);
		return -1;
	}
	q = s->mem;
	s->dy = q;     q += g->n_fwd * R * d;
	s->rc = q;     q += R * d;
	s->lnq = q;    q += 3 * H * R * d;
	s->x = q;      q += R * d;
	s->stat = q;   q += 2 * R;
	s->qkv = q;    q += 3 * R * hd;
	s->att = q;    q += R * H * P;
	s->z = q;      q += R * hd;
	s->fc = q;     q += R * wfc;
	s->gelu = q;   q += R * c->d_mlp;
	s->lnf = q;    q += nr * d;
	s->logits = q; q += nr * c->n_vocab;
	if (c->arch.qk_norm == EAP_QKNORM_ALL)
		s->proj = q;
	return 0;
}

/*
 * The chunk shape for K circuits on a batch of nb prompts over T stacks:
 * G circuits x nbp prompts, within the budget and giving every stack
 * work; max_group (if not 0) caps G.
 */
static void patch_shape(const struct eap_run *r, size_t K, size_t nb,
			size_t T, size_t max_group, size_t *G, size_t *nbp)
{
	size_t per = stack_floats(r, r->P) * sizeof(float);
	size_t cap = PATCH_BUDGET / T / (per ? per : 1), rounds;

	if (cap < 1)
		cap = 1;
	if (cap < nb) {
		*G = 1;
		*nbp = cap;
	} else {
		*nbp = nb;
		*G = cap / nb;
	}
	if (max_group && *G > max_group)
		*G = max_group;
	/* every stack a share: rounds of T chunks, G spread evenly */
	rounds = (K + T * *G - 1) / (T * *G);
	*G = (K + T * rounds - 1) / (T * rounds);
	if (*G < 1)
		*G = 1;
	if (K < T && *nbp == nb) {
		size_t split = (T + K - 1) / K;

		*nbp = (nb + split - 1) / split;
	}
}

static int patch_init(struct eap_run *r, size_t G, size_t nbp, size_t T,
		      struct eap_err *err)
{
	const struct eap_config *c = &r->model->cfg;
	struct eap_patch *p = r->patch;
	size_t cap = r->B * r->P, d = c->d_model, L = c->n_layer;
	size_t R = G * nbp * r->P;

	if (!p) {
		p = r->patch = calloc(1, sizeof(*p));
		if (!p)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		p->cap = cap;
		p->ra = malloc((2 * L + 1) * cap * d * sizeof(float));
		p->qkv_ra = malloc(L * cap * 3 * c->n_head * c->d_head *
				   sizeof(float));
		p->mlp_ra = malloc(L * cap * d * sizeof(float));
		if (!p->ra || !p->qkv_ra || !p->mlp_ra)
			goto oom;
	}
	if (p->n_st >= T && p->R >= R) {
		p->G = G;
		p->nbp = nbp;
		return 0;
	}
	stacks_free(p);
	p->st = calloc(T, sizeof(*p->st));
	if (!p->st)
		goto oom;
	for (; p->n_st < T; p->n_st++)
		if (stack_alloc(r, &p->st[p->n_st], R) < 0)
			goto oom;
	p->R = R;
	p->G = G;
	p->nbp = nbp;
	return 0;
oom:
	patch_release(r->patch);
	r->patch = NULL;
	return eap_err_set(err, EAP_ENOMEM,
			   "out of memory for patched runs of %zu circuits x %zu prompts (lower --batch)",
			   G, nbp);
}

/*
 * LayerNorm of n rows as eap_layernorm_forward, with the sums in 8
 * double lanes (a vectorisable order; in place is fine).
 */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
static void ln_rows(float *out, float *stat, const float *x, const float *w,
		    const float *b, size_t n, size_t d, float eps)
{
	enum { LANES = 8 };

	for (size_t i = 0; i < n; i++) {
		const float *xi = x + i * d;
		float *oi = out + i * d, m, rs;
		double s[LANES] = { 0 }, q[LANES] = { 0 }, mean = 0, var = 0;
		size_t j;

		for (j = 0; j + LANES <= d; j += LANES)
			for (size_t l = 0; l < LANES; l++)
				s[l] += xi[j + l];
		for (; j < d; j++)
			mean += xi[j];
		for (size_t l = 0; l < LANES; l++)
			mean += s[l];
		mean /= (double)d;
		for (j = 0; j + LANES <= d; j += LANES)
			for (size_t l = 0; l < LANES; l++) {
				double e = xi[j + l] - mean;

				q[l] += e * e;
			}
		for (; j < d; j++)
			var += (xi[j] - mean) * (xi[j] - mean);
		for (size_t l = 0; l < LANES; l++)
			var += q[l];
		var /= (double)d;
		m = (float)mean;
		rs = (float)(1.0 / sqrt(var + eps));
		/* all 8 loads before the stores: vectorised, in place too */
		for (j = 0; j + LANES <= d; j += LANES) {
			float t[LANES];

			for (size_t l = 0; l < LANES; l++)
				t[l] = (xi[j + l] - m) * rs * w[j + l] + b[j + l];
			for (size_t l = 0; l < LANES; l++)
				oi[j + l] = t[l];
		}
		for (; j < d; j++)
			oi[j] = (xi[j] - m) * rs * w[j] + b[j];
		stat[2 * i] = m;
		stat[2 * i + 1] = rs;
	}
}

/* r (n, d) += bias (d) on every row */
static void add_bias(float *x, const float *bias, size_t n, size_t d)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] += bias[j];
}

/*
 * The model's norm of n rows (in place is fine): LayerNorm in ln_rows'
 * order, RMSNorm (stat: n floats), or a copy when the block has none.
 */
static void norm_rows(const struct eap_config *c, int has, float *out,
		      float *stat, const float *x, const float *w,
		      const float *b, size_t n, size_t d)
{
	if (!has || c->arch.norm == EAP_NORM_NONE) {
		if (out != x)
			memcpy(out, x, n * d * sizeof(float));
	} else if (c->arch.norm == EAP_NORM_LAYER) {
		ln_rows(out, stat, x, w, b, n, d, c->ln_eps);
	} else {
		eap_rmsnorm_forward(out, stat, x, w, n, d, c->ln_eps);
	}
}

/*
 * y (n, d) = the MLP of layer l on its normed input ln (n, d): with its
 * output bias, gated or not, after its post norm if any.  fc (n, wfc)
 * and act (n, d_mlp) are work space, stat (n) the post norm's.
 */
static void mlp_rows(const struct eap_model *m, size_t l, const float *ln,
		     float *fc, float *act, float *y, float *stat, size_t n)
{
	const struct eap_config *c = &m->cfg;
	const struct eap_layer *W = eap_model_layer(m, l);
	size_t d = c->d_model, dm = c->d_mlp, wfc = dm * (c->arch.gated ? 2 : 1);

	if (W->b_fc)
		for (size_t i = 0; i < n; i++)
			memcpy(fc + i * wfc, W->b_fc, wfc * sizeof(float));
	eap_sgemm(0, 0, n, wfc, d, 1.0f, ln, d, W->w_fc, wfc,
		  W->b_fc ? 1.0f : 0.0f, fc, wfc);
	if (c->arch.gated) {
		for (size_t i = 0; i < n; i++) {
			float *ai = act + i * dm;
			const float *up = fc + i * wfc + dm;

			eap_model_act_forward(c, 1, ai, fc + i * wfc, dm);
			for (size_t j = 0; j < dm; j++)
				ai[j] *= up[j];
		}
	} else {
		eap_model_act_forward(c, 1, act, fc, n * dm);
	}
	if (W->b_proj)
		for (size_t i = 0; i < n; i++)
			memcpy(y + i * d, W->b_proj, d * sizeof(float));
	eap_sgemm(0, 0, n, d, dm, 1.0f, act, dm, W->w_proj, d,
		  W->b_proj ? 1.0f : 0.0f, y, d);
	if (W->post2_w)
		eap_rmsnorm_forward(y, stat, y, W->post2_w, n, d, c->ln_eps);
	eap_model_layer_put(m, W);
}

/*
 * The batch's shared part: ra and the outputs of fully ablated inputs
 * from layer start on; abl (n_fwd, n, d) are the ablated values.  The
 * MLP's ra (2l + 1) is the stream after the layer's attention, or in a
 * parallel block the layer's input; the output bias joins it unless a
 * post-attention norm takes it in.
 */
static void patch_shared(struct eap_run *r, const float *abl, size_t nb,
			 size_t np, size_t p0, size_t start)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_arch *a = &c->arch;
	const struct eap_graph *g = r->graph;
	struct eap_patch *p = r->patch;
	/* rows of the positions p0..np-1 (the node outputs are (n_fwd, nb
	 * np, d)) */
	size_t Pq = np - p0, n = nb * Pq, d = c->d_model, H = c->n_head;
	size_t nd = n * d, ns = nb * np * d;
	size_t cd = p->cap * d, hd = H * c->d_head, w3 = 3 * hd;
	size_t wp = (H + 2 * c->n_kv_head) * c->d_head;
	struct views v;

	views_size(r, &v);
	memset(p->ra, 0, nd * sizeof(float));
	axpy_suffix(p->ra, abl, nb, np, p0, d);
	for (size_t l = 0; l < c->n_layer; l++) {
		const struct eap_layer *W = eap_model_layer(m, l);
		float *ra_att = p->ra + 2 * l * cd, *ra_mlp = ra_att + cd;
		float *ra_next = ra_mlp + cd;
		const float *b_o = W->post1_w ? NULL : W->b_o;

		if (l >= start) {
			float *q = p->qkv_ra + l * p->cap * w3;
			/* the projection straight into q|k|v when nothing
			 * regroups or normalises it (GPT-2) */
			float *proj = wp == w3 && !a->qk_norm ? q : v.dqkv;

			norm_rows(c, a->attn_pre_norm, v.lnx, v.lnstat, ra_att,
				  W->ln1_w, W->ln1_b, n, d);
			eap_sgemm(0, 0, n, wp, d, 1.0f, v.lnx, d, W->w_qkv, wp,
				  0.0f, proj, wp);
			if (W->b_qkv)
				add_bias(proj, W->b_qkv, n, wp);
			eap_model_qkv_finish(m, &r->fwd, l, q, proj,
					     a->qk_norm ? v.dfc : NULL, n, Pq, p0);
		}
		if (a->parallel) {
			memcpy(ra_mlp, ra_att, nd * sizeof(float));
			memcpy(ra_next, ra_att, nd * sizeof(float));
		} else {
			memcpy(ra_mlp, ra_att, nd * sizeof(float));
		}
		{
			float *rh = a->parallel ? ra_next : ra_mlp;

			for (size_t h = 0; h < H; h++)
				axpy_suffix(rh, abl + eap_fwd_head(g, l, h) * ns,
					    nb, np, p0, d);
			if (b_o)
				add_bias(rh, b_o, n, d);
		}
		if (l >= start) {
			norm_rows(c, a->mlp_pre_norm, v.lnx, v.lnstat, ra_mlp,
				  W->ln2_w, W->ln2_b, n, d);
			mlp_rows(m, l, v.lnx, v.fc, v.gelu, p->mlp_ra + l * cd,
				 v.lnstat, n);
		}
		if (!a->parallel)
			memcpy(ra_next, ra_mlp, nd * sizeof(float));
		axpy_suffix(ra_next, abl + eap_fwd_mlp(g, l) * ns, nb, np, p0, d);
		eap_model_layer_put(m, W);
	}
}

/*
 * How a circuit (keep) builds backward input v's copy, v's parents being
 * the forward nodes 0..n_par-1: from rc minus the patched parents, or
 * from ra plus the kept ones, whichever are fewer.  par gets them;
 * returns their count, *from_ra which base.  from ra with no parent is
 * the fully ablated input.
 */
static size_t copy_plan(const struct eap_graph *g, const uint8_t *keep,
			size_t v, size_t n_par, size_t *par, uint8_t *from_ra)
{
	size_t patched = 0, k = 0;

	for (size_t u = 0; u < n_par; u++)
		patched += g->edge_mask[u * g->n_bwd + v] && !keep[u * g->n_bwd + v];
	*from_ra = 2 * patched > n_par;
	for (size_t u = 0; u < n_par; u++)
		if (g->edge_mask[u * g->n_bwd + v] &&
		    !keep[u * g->n_bwd + v] == !*from_ra)
			par[k++] = u;
	return k;
}

/*
 * x (len) = base - sum of dy[par] (from rc) or base + sum of dy[par]
 * (from ra), each dy[u] at off in a node stride of ns floats.  Up to four
 * parents a pass over x, in blocks of 8 lanes (vectorised at -O2); every
 * element still gets its parents one after another, in order, so the
 * sums are those of a plain loop.
 */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
static void copy_rows(float *restrict x, const float *restrict base,
		      int from_ra, const float *restrict dy, size_t ns,
		      size_t off, const size_t *par, size_t k, size_t len)
{
	enum { LANES = 8 };
	float sg = from_ra ? 1.0f : -1.0f;
	size_t e = 0, i0 = len / LANES * LANES;

	if (k < 4)
		memcpy(x, base, len * sizeof(float));
	for (; e + 4 <= k; e += 4) {
		const float *s = e ? x : base; /* in place after the first pass */
		const float *restrict d0 = dy + par[e] * ns + off;
		const float *restrict d1 = dy + par[e + 1] * ns + off;
		const float *restrict d2 = dy + par[e + 2] * ns + off;
		const float *restrict d3 = dy + par[e + 3] * ns + off;

		for (size_t i = 0; i < i0; i += LANES) {
			float t[LANES];

			for (size_t l = 0; l < LANES; l++)
				t[l] = (((s[i + l] + sg * d0[i + l]) + sg * d1[i + l]) +
					sg * d2[i + l]) + sg * d3[i + l];
			for (size_t l = 0; l < LANES; l++)
				x[i + l] = t[l];
		}
		for (size_t i = i0; i < len; i++)
			x[i] = (((s[i] + sg * d0[i]) + sg * d1[i]) + sg * d2[i]) +
			       sg * d3[i];
	}
	for (; e < k; e++) {
		const float *restrict d0 = dy + par[e] * ns + off;

		for (size_t i = 0; i < i0; i += LANES) {
			float t[LANES];

			for (size_t l = 0; l < LANES; l++)
				t[l] = x[i + l] + sg * d0[i + l];
			for (size_t l = 0; l < LANES; l++)
				x[i + l] = t[l];
		}
		for (size_t i = i0; i < len; i++)
			x[i] = x[i] + sg * d0[i];
	}
}

/* One chunk: circuits cs[0..G) on prompts b0..b0+nbp of the batch. */
struct patch_chunk {
	const struct eap_batch *bt;
	enum eap_metric metric;
	const uint8_t *keep;    /* (K, n_fwd, n_bwd) */
	const float *abl;       /* (n_fwd, n, d) */
	size_t start;
	size_t p0;              /* rows hold positions p0..np-1 (shared
				   prefix: README "Exact patching on large
				   graphs") */
	size_t c0, G, b0, nbp;  /* circuits c0.., prompts b0.. */
	double *out;            /* (K, nb) */
};

/* rc (n) += y, then y = y - a: one pass in blocks of 8 lanes. */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
static void out_rows(float *restrict rc, float *restrict y,
		     const float *restrict a, size_t n)
{
	enum { LANES = 8 };
	size_t i0 = n / LANES * LANES;

	for (size_t i = 0; i < i0; i += LANES)
		for (size_t l = 0; l < LANES; l++) {
			float t = y[i + l];

			rc[i + l] += t;
			y[i + l] = t - a[i + l];
		}
	for (size_t i = i0; i < n; i++) {
		float t = y[i];

		rc[i] += t;
		y[i] = t - a[i];
	}
}

/*
 * Node u's output y (R, d) of this stack, in place in dy[u]: rc += y,
 * then dy[u] = y - a_u.
 */
static void set_output(const struct patch_chunk *ch, struct patch_stack *s,
		       size_t u, size_t n, size_t n1, size_t d)
{
	size_t np = ch->bt->np, Pq = np - ch->p0;
	float *y = s->dy + u * s->R * d;
	const float *a = ch->abl + u * n * d + (ch->b0 * np + ch->p0) * d;

	for (size_t g = 0; g < ch->G; g++)
		for (size_t b = 0; b < ch->nbp; b++) {
			size_t o = (g * n1 + b * Pq) * d;

			out_rows(s->rc + o, y + o, a + b * np * d, Pq * d);
		}
}

/*
 * One query head's q (kind 0), k (1) or v (2) for N stacked rows of np
 * positions from their normed input copies ln (N, d), into its columns
 * dst (row stride 3 H dh) of q|k|v: projection and bias, QK-norm
 * (OLMo-2's over all of q or k: projected whole into s->proj, normalised,
 * then sliced), rotary.
 */
static void head_rows(const struct eap_run *r, struct patch_stack *s,
		      size_t l, int kind, size_t h, const float *ln,
		      float *dst, size_t N, size_t np, size_t p0)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_layer *W = eap_model_layer(m, l);
	size_t d = c->d_model, H = c->n_head, Hkv = c->n_kv_head;
	size_t dh = c->d_head, hd = H * dh, w3 = 3 * hd, half;
	size_t wp = (H + 2 * Hkv) * dh, grp = h / (H / Hkv);
	/* the head's (its group's) columns of the projection */
	size_t c0 = kind == 0 ? h * dh
		    : kind == 1 ? hd + grp * dh : hd + (Hkv + grp) * dh;
	const float *cs = eap_model_rope_table(c, &r->fwd, l, &half);
	const float *wn = kind ? W->k_norm : W->q_norm;

	if (c->arch.qk_norm == EAP_QKNORM_ALL && kind < 2) {
		size_t w = kind ? Hkv * dh : hd, a0 = kind ? hd : 0;
		size_t off = (kind ? grp : h) * dh;

		eap_sgemm(0, 0, N, w, d, 1.0f, ln, d, W->w_qkv + a0, wp, 0.0f,
			  s->proj, w);
		if (W->b_qkv)
			add_bias(s->proj, W->b_qkv + a0, N, w);
		for (size_t i = 0; i < N; i++) {
			float st, *t = s->proj + i * w;

			eap_rmsnorm_forward(t, &st, t, wn, 1, w, c->ln_eps);
			memcpy(dst + i * w3, t + off, dh * sizeof(float));
		}
	} else {
		eap_sgemm(0, 0, N, dh, d, 1.0f, ln, d, W->w_qkv + c0, wp, 0.0f,
			  dst, w3);
		if (W->b_qkv)
			for (size_t j = 0; j < N; j++)
				for (size_t e = 0; e < dh; e++)
					dst[j * w3 + e] += W->b_qkv[c0 + e];
		if (c->arch.qk_norm == EAP_QKNORM_HEAD && kind < 2)
			for (size_t i = 0; i < N; i++) {
				float st;

				eap_rmsnorm_forward(dst + i * w3, &st,
						    dst + i * w3, wn, 1, dh,
						    c->ln_eps);
			}
	}
	if (half && kind < 2) /* rows of np positions from p0 */
		eap_rope_apply(dst, N, np, 1, dh, w3, half, cs + p0 * half * 2,
			       1);
	eap_model_layer_put(m, W);
}

/*
 * q, k, v of every head of layer l for the stack: each circuit's copy of
 * each input, built a few rows at a time so that the parents' dy rows
 * stay in cache across the 3H copies, then LN1; one matmul per input
 * over the consecutive circuits that compute it, the rest taking the
 * fully ablated rows.
 */
static void patch_qkv(struct eap_run *r, struct patch_stack *s,
		      const struct patch_chunk *ch, size_t l, size_t n,
		      size_t n1)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_graph *g = r->graph;
	const struct eap_layer *W = eap_model_layer(m, l);
	const struct eap_patch *p = r->patch;
	size_t d = c->d_model, H = c->n_head, dh = c->d_head, Rd = s->R * d;
	size_t Pq = ch->bt->np - ch->p0;
	size_t n_par = 1 + l * (H + 1), nq = 3 * H, off0 = ch->b0 * Pq;
	size_t tile = (size_t)65536 / (n_par * d), G = ch->G, w3 = 3 * H * dh;
	const float *ra = p->ra + 2 * l * p->cap * d + off0 * d;
	const float *qra = p->qkv_ra + l * p->cap * w3 + off0 * w3;
	uint8_t own[G * nq];

	if (tile < 1)
		tile = 1;
	for (size_t gi = 0; gi < G; gi++) {
		const uint8_t *keep = ch->keep + (ch->c0 + gi) * g->n_fwd * g->n_bwd;
		size_t row0 = gi * n1;

		for (size_t i = 0; i < nq; i++) {
			size_t v = eap_bwd_index(g, l, (enum eap_bwd_kind)(i / H), i % H);

			s->n_par[i] = copy_plan(g, keep, v, n_par, s->par + i * g->n_fwd,
						&s->from_ra[i]);
			own[gi * nq + i] = !(s->from_ra[i] && !s->n_par[i]);
		}
		for (size_t t0 = 0; t0 < n1; t0 += tile) {
			size_t nt = n1 - t0 < tile ? n1 - t0 : tile;
			size_t off = (row0 + t0) * d;

			for (size_t i = 0; i < nq; i++) {
				float *x = s->lnq + i * Rd + off;

				if (!own[gi * nq + i])
					continue;
				copy_rows(x, s->from_ra[i] ? ra + t0 * d : s->rc + off,
					  s->from_ra[i], s->dy, Rd, off,
					  s->par + i * g->n_fwd, s->n_par[i], nt * d);
				norm_rows(c, c->arch.attn_pre_norm, x,
					  s->stat + 2 * (row0 + t0), x, W->ln1_w,
					  W->ln1_b, nt, d);
			}
		}
	}
	for (size_t i = 0; i < nq; i++) {
		size_t col = i * dh; /* the input's columns in q|k|v */

		for (size_t g0 = 0; g0 < G;) {
			size_t g1 = g0 + 1;

			while (g1 < G && own[g1 * nq + i] == own[g0 * nq + i])
				g1++;
			if (own[g0 * nq + i]) {
				head_rows(r, s, l, (int)(i / H), i % H,
					  s->lnq + i * Rd + g0 * n1 * d,
					  s->qkv + g0 * n1 * w3 + col,
					  (g1 - g0) * n1, Pq, ch->p0);
			} else {
				for (size_t gi = g0; gi < g1; gi++)
					for (size_t j = 0; j < n1; j++)
						memcpy(s->qkv + (gi * n1 + j) * w3 + col,
						       qra + j * w3 + col,
						       dh * sizeof(float));
			}
			g0 = g1;
		}
	}
	(void)n;
	eap_model_layer_put(m, W);
}

/*
 * Layer l's heads: attention, then each head's output z_h W_O[h]; with a
 * post-attention norm, its share w * z_h W_O[h] / rms(o) with this run's
 * o = z W_O + b_O.
 */
static void patch_heads(struct eap_run *r, struct patch_stack *s,
			const struct patch_chunk *ch, size_t l, size_t n,
			size_t n1)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_layer *W = eap_model_layer(m, l);
	size_t d = c->d_model, dh = c->d_head, H = c->n_head, N = ch->G * n1;
	size_t hd = H * dh, np = ch->bt->np;
	struct eap_attn_opts ao;

	eap_model_attn_opts(c, l, &ao);
	if (ch->p0) {
		/* keys and values below p0: the clean run's */
		eap_model_qkv_spread(s->qkv, r->fwd.layers[l].qkv +
					     ch->b0 * np * 3 * hd,
				     ch->nbp, ch->G * ch->nbp, np, ch->p0,
				     3 * hd);
		ao.q0 = ch->p0;
	}
	eap_attention_forward_opt(s->z, s->att, s->qkv, ch->G * ch->nbp, np,
				  H, dh, &ao);
	if (W->post1_w) {
		/* s->x: o, then its statistic into s->stat (N) */
		if (W->b_o)
			for (size_t i = 0; i < N; i++)
				memcpy(s->x + i * d, W->b_o, d * sizeof(float));
		eap_sgemm(0, 0, N, d, hd, 1.0f, s->z, hd, W->w_o, d,
			  W->b_o ? 1.0f : 0.0f, s->x, d);
		eap_rmsnorm_forward(s->x, s->stat, s->x, NULL, N, d, c->ln_eps);
	}
	for (size_t h = 0; h < H; h++) {
		size_t u = eap_fwd_head(r->graph, l, h);
		float *y = s->dy + u * s->R * d;

		eap_sgemm(0, 0, N, d, dh, 1.0f, s->z + h * dh, hd,
			  W->w_o + h * dh * d, d, 0.0f, y, d);
		if (W->post1_w)
			for (size_t i = 0; i < N; i++)
				for (size_t j = 0; j < d; j++)
					y[i * d + j] *= s->stat[i] * W->post1_w[j];
		set_output(ch, s, u, n, n1, d);
	}
	if (W->b_o && !W->post1_w)
		add_bias(s->rc, W->b_o, N, d);
	eap_model_layer_put(m, W);
}

/*
 * Layer l's MLP from each circuit's own copy of its input, into dy[m{l}]
 * (set_output adds it to rc afterwards).  Its parents are the nodes
 * before layer l and, in sequential blocks, the layer's heads; a parallel
 * block runs it before the heads, so rc is still the layer's input.
 */
static void patch_mlp(struct eap_run *r, struct patch_stack *s,
		      const struct patch_chunk *ch, size_t l, size_t n,
		      size_t n1)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_graph *g = r->graph;
	const struct eap_layer *W = eap_model_layer(m, l);
	const struct eap_patch *p = r->patch;
	size_t d = c->d_model, H = c->n_head, G = ch->G, Rd = s->R * d;
	size_t n_par = 1 + l * (H + 1) + (c->arch.parallel ? 0 : H);
	size_t v = eap_bwd_index(g, l, EAP_BWD_MLP, 0);
	size_t u = eap_fwd_mlp(g, l), off0 = ch->b0 * (ch->bt->np - ch->p0);
	const float *ra = p->ra + (2 * l + 1) * p->cap * d + off0 * d;
	const float *yra = p->mlp_ra + l * p->cap * d + off0 * d;
	float *y = s->dy + u * Rd;
	uint8_t own[G];

	for (size_t gi = 0; gi < G; gi++) {
		const uint8_t *keep = ch->keep + (ch->c0 + gi) * g->n_fwd * g->n_bwd;
		size_t k = copy_plan(g, keep, v, n_par, s->par, &s->from_ra[0]);
		size_t off = gi * n1 * d;

		own[gi] = !(s->from_ra[0] && !k);
		if (!own[gi])
			continue;
		copy_rows(s->x + off, s->from_ra[0] ? ra : s->rc + off,
			  s->from_ra[0], s->dy, Rd, off, s->par, k, n1 * d);
		norm_rows(c, c->arch.mlp_pre_norm, s->lnq + off,
			  s->stat + 2 * gi * n1, s->x + off, W->ln2_w, W->ln2_b,
			  n1, d);
	}
	for (size_t g0 = 0; g0 < G;) {
		size_t g1 = g0 + 1;

		while (g1 < G && own[g1] == own[g0])
			g1++;
		if (own[g0])
			mlp_rows(m, l, s->lnq + g0 * n1 * d, s->fc, s->gelu,
				 y + g0 * n1 * d, s->stat, (g1 - g0) * n1);
		else
			for (size_t gi = g0; gi < g1; gi++)
				memcpy(y + gi * n1 * d, yra, n1 * d * sizeof(float));
		g0 = g1;
	}
	(void)n;
	eap_model_layer_put(m, W);
}

/*
 * The logits from their own copy, the final norm at the last real
 * positions, soft-capped if the model caps them.
 */
static void patch_logits(struct eap_run *r, struct patch_stack *s,
			 const struct patch_chunk *ch, size_t n, size_t n1)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_graph *g = r->graph;
	const struct eap_batch *bt = ch->bt;
	const struct eap_patch *p = r->patch;
	size_t d = c->d_model, V = c->n_vocab, np = bt->np, Rd = s->R * d;
	size_t L = c->n_layer, v = eap_bwd_logits(g), Pq = np - ch->p0;
	const float *ra = p->ra + 2 * L * p->cap * d + ch->b0 * Pq * d;

	for (size_t gi = 0; gi < ch->G; gi++) {
		const uint8_t *keep = ch->keep + (ch->c0 + gi) * g->n_fwd * g->n_bwd;
		size_t k = copy_plan(g, keep, v, g->n_fwd, s->par, &s->from_ra[0]);

		for (size_t b = 0; b < ch->nbp; b++) {
			size_t row = b * Pq + (size_t)bt->lengths[ch->b0 + b] -
				     1 - ch->p0;
			size_t off = (gi * n1 + row) * d;
			float stat[2];

			copy_rows(s->x, s->from_ra[0] ? ra + row * d : s->rc + off,
				  s->from_ra[0], s->dy, Rd, off, s->par, k, d);
			norm_rows(c, 1, s->lnf + (gi * ch->nbp + b) * d, stat,
				  s->x, m->w.lnf_w, m->w.lnf_b, 1, d);
		}
	}
	eap_model_unembed(m, 0, ch->G * ch->nbp, s->lnf, d, s->logits, V);
	if (c->arch.logit_softcap > 0)
		eap_softcap_forward(s->logits, ch->G * ch->nbp * V,
				    c->arch.logit_softcap);
	for (size_t gi = 0; gi < ch->G; gi++)
		for (size_t b = 0; b < ch->nbp; b++)
			ch->out[(ch->c0 + gi) * bt->nb + ch->b0 + b] =
				row_metric(r, bt, ch->metric, ch->b0 + b,
					   s->logits + (gi * ch->nbp + b) * V,
					   NULL);
	(void)n;
}

/* One chunk on one stack: the layers from the input to the metric. */
static void patch_run(struct eap_run *r, struct patch_stack *s,
		      const struct patch_chunk *ch)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	size_t np = ch->bt->np, n = ch->bt->nb * np, Pq = np - ch->p0;
	size_t n1 = ch->nbp * Pq, d = c->d_model, H = c->n_head, Rd = s->R * d;

	/* nodes before start_layer (and the input) output their clean run */
	memset(s->rc, 0, ch->G * n1 * d * sizeof(float));
	for (size_t u = 0; u < 1 + ch->start * (H + 1); u++) {
		const float *yc = r->y_clean + u * n * d +
				  (ch->b0 * np + ch->p0) * d;
		const struct eap_layer *W = NULL;

		for (size_t gi = 0; gi < ch->G; gi++)
			for (size_t b = 0; b < ch->nbp; b++)
				memcpy(s->dy + u * Rd + (gi * n1 + b * Pq) * d,
				       yc + b * np * d, Pq * d * sizeof(float));
		set_output(ch, s, u, n, n1, d);
		if (u && (u - 1) % (H + 1) == H - 1)
			W = eap_model_layer(m, (u - 1) / (H + 1));
		if (W && W->b_o && !W->post1_w)
			add_bias(s->rc, W->b_o, ch->G * n1, d);
		eap_model_layer_put(m, W);
	}
	for (size_t l = ch->start; l < c->n_layer; l++) {
		size_t u = eap_fwd_mlp(r->graph, l);

		patch_qkv(r, s, ch, l, n, n1);
		if (c->arch.parallel)
			patch_mlp(r, s, ch, l, n, n1);
		patch_heads(r, s, ch, l, n, n1);
		if (!c->arch.parallel)
			patch_mlp(r, s, ch, l, n, n1);
		set_output(ch, s, u, n, n1, d);
	}
	patch_logits(r, s, ch, n, n1);
}

/* Threads of patched runs: each takes the next chunk onto its stack. */
struct patch_job {
	struct eap_run *r;
	struct patch_stack *s;
	const struct patch_chunk *proto;
	size_t K, nb;
	pthread_mutex_t *lock;
	size_t *next;
};

static void *patch_main(void *arg)
{
	struct patch_job *j = arg;
	const struct eap_patch *p = j->r->patch;
	size_t nbc = (j->nb + p->nbp - 1) / p->nbp;
	size_t n_chunks = (j->K + p->G - 1) / p->G * nbc;

	for (;;) {
		struct patch_chunk ch = *j->proto;
		size_t k;

		pthread_mutex_lock(j->lock);
		k = (*j->next)++;
		pthread_mutex_unlock(j->lock);
		if (k >= n_chunks)
			break;
		ch.c0 = k / nbc * p->G;
		ch.G = j->K - ch.c0 < p->G ? j->K - ch.c0 : p->G;
		ch.b0 = k % nbc * p->nbp;
		ch.nbp = j->nb - ch.b0 < p->nbp ? j->nb - ch.b0 : p->nbp;
		patch_run(j->r, j->s, &ch);
	}
	return NULL;
}

/*
 * The positions every patched run of the batch shares with the clean
 * run: below the batch's shared prefix (eap_batch_prefix) and where every
 * node's ablated value equals its clean output (with mean ablation: none),
 * if r->fwd holds the clean run (eap_run_baselines), whose keys and
 * values stand in for them.  0 with r->prefix_off.
 */
static size_t patch_prefix(const struct eap_run *r, const struct eap_batch *bt,
			   const float *abl)
{
	size_t nb = bt->nb, np = bt->np, d = r->model->cfg.d_model;
	size_t ns = nb * np * d, p0 = r->prefix_off ? 0 : eap_batch_prefix(bt);

	if (p0 && (r->fwd.nb != nb || r->fwd.np != np ||
		   memcmp(r->fwd.layers[0].x_in, r->y_clean, ns * sizeof(float))))
		return 0;
	for (size_t u = 0; u < r->graph->n_fwd && p0; u++)
		for (size_t b = 0; b < nb; b++)
			for (size_t p = 0; p < p0; p++) {
				size_t o = u * ns + (b * np + p) * d;

				if (memcmp(abl + o, r->y_clean + o, d * sizeof(float))) {
					p0 = p;
					break;
				}
			}
	return p0;
}

static int patched_many(struct eap_run *r, const struct eap_batch *bt,
			enum eap_metric metric, const uint8_t *keep, size_t K,
			const float *y_ablate, size_t start_layer,
			double *metric_out, struct eap_err *err)
{
	size_t nb = bt->nb, T = (size_t)eap_blas_threads_get(), G, nbp, next = 0;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct patch_chunk proto = { bt, metric, keep,
				     y_ablate ? y_ablate : r->y_corr,
				     start_layer, 0, 0, 0, 0, 0, metric_out };
	int rc;

	if (start_layer > r->model->cfg.n_layer || nb > r->B || bt->np > r->P)
		return eap_err_set(err, EAP_EINVAL,
				   "patched run: bad start layer %zu or batch shape",
				   start_layer);
	if (!K || !nb)
		return 0;
	if (T < 1)
		T = 1;
	patch_shape(r, K, nb, T, r->patch_group, &G, &nbp);
	{
		size_t chunks = (K + G - 1) / G * ((nb + nbp - 1) / nbp);

		if (T > chunks)
			T = chunks;
	}
	if ((rc = patch_init(r, G, nbp, T, err)))
		return rc;
	r->p0 = proto.p0 = patch_prefix(r, bt, proto.abl);
	patch_shared(r, proto.abl, nb, bt->np, proto.p0, start_layer);
	{
		struct patch_job job[T];

		for (size_t k = 0; k < T; k++)
			job[k] = (struct patch_job){ r, &r->patch->st[k], &proto,
						     K, nb, &lock, &next };
		run_parallel(patch_main, job, sizeof(job[0]), T);
	}
	return 0;
}

int eap_run_patched_many(struct eap_run *r, const struct eap_batch *bt,
			 enum eap_metric metric, const uint8_t *keep, size_t K,
			 const float *y_ablate, double *metric_out,
			 struct eap_err *err)
{
	int rc = patched_many(r, bt, metric, keep, K, y_ablate, 0, metric_out,
			      err);

	/* a streamed layer that could not be read */
	return rc ? rc : eap_model_status(r->model, err);
}

int eap_run_patched(struct eap_run *r, const struct eap_batch *bt,
		    enum eap_metric metric, const uint8_t *keep,
		    const float *y_ablate, size_t start_layer,
		    double *metric_out, struct eap_err *err)
{
	int rc = patched_many(r, bt, metric, keep, 1, y_ablate, start_layer,
			      metric_out, err);

	return rc ? rc : eap_model_status(r->model, err);
}

/* ---- mean ablation ------------------------------------------------------ */

int eap_run_mean_add(struct eap_run *r, const struct eap_batch *bt,
		     double *sum, size_t *count, struct eap_err *err)
{
	size_t nb = bt->nb, np = bt->np, d = r->model->cfg.d_model;
	size_t nd = nb * np * d;
	int rc = eap_run_nodes(r, bt->clean, NULL, bt->lengths, nb, np,
			       r->y_cur, err);

	if (rc)
		return rc;
	for (size_t u = 0; u < r->graph->n_fwd; u++)
		for (size_t b = 0; b < nb; b++)
			for (size_t p = 0; p < (size_t)bt->lengths[b]; p++) {
				const float *y = r->y_cur + u * nd + (b * np + p) * d;

				for (size_t j = 0; j < d; j++)
					sum[u * d + j] += y[j];
			}
	for (size_t b = 0; b < nb; b++)
		*count += (size_t)bt->lengths[b];
	return 0;
}

void eap_run_mean_fill(const struct eap_run *r, const double *sum,
		       size_t count, size_t nb, size_t np, float *y)
{
	size_t d = r->model->cfg.d_model, n = nb * np;

	for (size_t u = 0; u < r->graph->n_fwd; u++)
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < d; j++)
				y[(u * n + i) * d + j] =
					(float)(sum[u * d + j] / (double)(count ? count : 1));
}

/* ---- scores ------------------------------------------------------------- */

int eap_score_acc_init(struct eap_score_acc *a, const struct eap_graph *g,
		       struct eap_err *err)
{
	a->n_fwd = g->n_fwd;
	a->n_bwd = g->n_bwd;
	a->n_examples = 0;
	a->sum = calloc(g->n_fwd * g->n_bwd, sizeof(double));
	if (!a->sum)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	return 0;
}

void eap_score_acc_release(struct eap_score_acc *a)
{
	free(a->sum);
	memset(a, 0, sizeof(*a));
}

void eap_score_acc_finish(const struct eap_score_acc *a,
			  const struct eap_graph *g, float *scores)
{
	size_t ne = a->n_examples ? a->n_examples : 1;

	for (size_t i = 0; i < a->n_fwd * a->n_bwd; i++)
		scores[i] = g->edge_mask[i] ? (float)(a->sum[i] / (double)ne)
					    : 0.0f;
}

/*
 * acc += sum over the batch of dY . G: one matmul over (batch, position,
 * d) for all edges at once.
 */
static void contract(struct eap_run *r, const float *dy, size_t n,
		     float scale, struct eap_score_acc *acc)
{
	const struct eap_graph *g = r->graph;
	size_t K = n * r->model->cfg.d_model;
	struct views v;

	views_size(r, &v);
	eap_sgemm(0, 1, g->n_fwd, g->n_bwd, K, scale, dy, K, r->grad, K, 0.0f,
		  v.sbatch, g->n_bwd);
	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
		acc->sum[i] += v.sbatch[i];
}

/* Bytes all stacks together may take: it sets how many copies fit. */
#define STACK_BUDGET ((size_t)512 << 20)

/*
 * One stack for each of the T BLAS threads, each for as many copies of a
 * B x P batch as its share of the budget allows (at least 2: the
 * unpatched copy and one patched edge; at most 128).  A stack's layers
 * all share one layer's buffers: a copy's run from v's layer on needs
 * no layer's activations once the next layer has read its input, so a
 * stack takes 1/L of a full forward state and holds L times the copies.
 */
static int stack_init(struct eap_run *r, struct eap_err *err)
{
	const struct eap_config *c = &r->model->cfg;
	const struct eap_arch *a = &c->arch;
	size_t P = r->P, d = c->d_model, L = c->n_layer, per_row, groups;
	size_t hd = c->n_head * c->d_head, dm = c->d_mlp;
	size_t wp = (c->n_head + 2 * c->n_kv_head) * c->d_head;
	size_t T = (size_t)eap_blas_threads_get();
	struct eap_config one = *c;
	int rc;

	if (T < 1)
		T = 1;
	if (r->n_stacks == T)
		return 0;
	/* about eap_fwd_init's buffers of one layer, then the logits' */
	per_row = P * d * 6 + P * 4 + P * 3 * hd + P * hd + c->n_head * P * P +
		  P * dm * (a->gated ? 3 : 1) + P * dm +
		  (a->qk_norm || c->n_kv_head != c->n_head ? P * wp : 0) +
		  (a->attn_post_norm ? P * (d + 1) : 0) +
		  (a->mlp_post_norm ? P * (d + 1) : 0) +
		  2 * P * d + 2 * P + d + c->n_vocab;
	groups = STACK_BUDGET / T / sizeof(float) / per_row / r->B;
	if (groups < 2)
		groups = 2;
	if (groups > 128)
		groups = 128;
	for (size_t k = 0; k < r->n_stacks; k++)
		eap_fwd_release(&r->stacks[k]);
	free(r->stacks);
	r->n_stacks = 0;
	r->stacks = calloc(T, sizeof(*r->stacks));
	if (!r->stacks)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	one.n_layer = 1;
	for (; r->n_stacks < T; r->n_stacks++) {
		struct eap_fwd *sf = &r->stacks[r->n_stacks];
		struct eap_fwd_layer *layers = malloc(L * sizeof(*layers));

		if (!layers)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		if ((rc = eap_fwd_init(sf, &one, groups * r->B, P, 0, err))) {
			free(layers);
			return rc;
		}
		for (size_t l = 0; l < L; l++)
			layers[l] = sf->layers[0];
		free(sf->layers);
		sf->layers = layers;
		/* scores are differences to the stack's own copy 0, so the
		 * stacks may use the vectorised GELU */
		sf->fast_gelu = 1;
	}
	r->stack_groups = groups;
	return 0;
}

size_t eap_prefix_len(const int32_t *clean, const int32_t *corrupted,
		      size_t len)
{
	size_t p = 0;

	while (p + 1 < len && clean[p] == corrupted[p])
		p++;
	return p;
}

size_t eap_batch_prefix(const struct eap_batch *bt)
{
	size_t p0 = bt->np;

	for (size_t b = 0; b < bt->nb; b++) {
		size_t p = eap_prefix_len(bt->clean + b * bt->np,
					  bt->corrupted + b * bt->np,
					  (size_t)bt->lengths[b]);

		if (p < p0)
			p0 = p;
	}
	return bt->nb ? p0 : 0;
}

/*
 * Row i of stacked copies of nb rows of the positions p0..np-1 (compact,
 * np - p0 a row): its row in a clean run's (nb, np) layout.  p0 = 0: i
 * modulo nb np.
 */
static size_t clean_row(size_t i, size_t nb, size_t np, size_t p0)
{
	size_t Pq = np - p0;

	i %= nb * Pq;
	return i / Pq * np + p0 + i % Pq;
}

/* dst (G copies of nb rows of np - p0 positions, d) = positions p0.. of
 * src (nb, np, d), G times */
static void suffix_rows(float *dst, const float *src, size_t nb, size_t np,
			size_t p0, size_t d, size_t G)
{
	size_t Pq = np - p0;

	for (size_t b = 0; b < nb; b++)
		memcpy(dst + b * Pq * d, src + (b * np + p0) * d,
		       Pq * d * sizeof(float));
	for (size_t g = 1; g < G; g++)
		memcpy(dst + g * nb * Pq * d, dst, nb * Pq * d * sizeof(float));
}

/* The model's norm of n rows (LayerNorm as the forward computes it). */
static void stack_norm(const struct eap_config *c, int has, float *out,
		       float *stat, const float *x, const float *w,
		       const float *b, size_t n, size_t d)
{
	if (!has)
		memcpy(out, x, n * d * sizeof(float));
	else if (c->arch.norm == EAP_NORM_LAYER)
		eap_layernorm_forward(out, stat, x, w, b, n, d, c->ln_eps);
	else
		eap_rmsnorm_forward(out, stat, x, w, n, d, c->ln_eps);
}

/*
 * The MLP of layer l on stacked rows: x_mid (N, d) is the residual stream
 * after attention, mlp_in (N, d) the MLP's own input copy (may be x_mid);
 * writes the next layer's input (or x_out) into the stack.
 */
static void stack_mlp(struct eap_run *r, struct eap_fwd *sf, size_t l,
		      const float *mlp_in, size_t N)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_layer *W = eap_model_layer(m, l);
	struct eap_fwd_layer *S = &sf->layers[l];
	size_t d = c->d_model;
	float *x_next = l + 1 < c->n_layer ? sf->layers[l + 1].x_in
					   : sf->x_out;

	stack_norm(c, c->arch.mlp_pre_norm, S->ln2, S->ln2_stat, mlp_in,
		   W->ln2_w, W->ln2_b, N, d);
	mlp_rows(m, l, S->ln2, S->fc, S->gelu, S->mlp_out, S->ln2_stat, N);
	for (size_t i = 0; i < N * d; i++)
		x_next[i] = S->x_mid[i] + S->mlp_out[i];
	eap_model_layer_put(m, W);
}

/*
 * Head h's q (kind 0), k (1) or v (2) in v's layer lv, from the stacked
 * copies X (N, d) of its input, and what follows in that layer: the
 * head's attention over its own q, k, v (the other two the clean run's),
 * x_mid with the head's new output (a post-attention norm with this
 * copy's rms(o)), then the MLP (a parallel block's is the clean run's).
 */
static void stack_head(struct eap_run *r, struct eap_fwd *sf, size_t lv,
		       int kind, size_t h, const float *X, size_t nb,
		       size_t np, size_t G)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_graph *g = r->graph;
	const struct eap_layer *W = eap_model_layer(m, lv);
	const struct eap_fwd_layer *F = &r->fwd.layers[lv];
	struct eap_fwd_layer *S = &sf->layers[lv];
	/* rows of positions p0..np-1 (README "Exact patching on large
	 * graphs"); qkv holds all np, those < p0 the clean run's */
	size_t p0 = r->p0, Pq = np - p0, n = nb * Pq, N = G * n, d = c->d_model;
	size_t nf = nb * np;
	size_t H = c->n_head, Hkv = c->n_kv_head, dh = c->d_head, hd = H * dh;
	size_t wp = (H + 2 * Hkv) * dh, grp = h / (H / Hkv), half;
	size_t c0 = kind == 0 ? h * dh
		    : kind == 1 ? hd + grp * dh : hd + (Hkv + grp) * dh;
	size_t u_h = eap_fwd_head(g, lv, h);
	float *qkv = S->qkv; /* (G nb, np, 3 dh) */
	float *dst = qkv + (size_t)kind * dh;
	/* the new path's rows, compact (z is free until the attention) */
	float *out = p0 ? S->z : dst;
	size_t ldo = p0 ? dh : 3 * dh;
	const float *cs = eap_model_rope_table(c, sf, lv, &half);
	const float *wn = kind ? W->k_norm : W->q_norm;
	struct eap_attn_opts ao;

	stack_norm(c, c->arch.attn_pre_norm, S->ln1, S->ln1_stat, X, W->ln1_w,
		   W->ln1_b, N, d);
	for (size_t i = 0; i < G * nf; i++)
		for (int p = 0; p < 3; p++)
			memcpy(qkv + i * 3 * dh + p * dh,
			       F->qkv + (i % nf) * 3 * hd + p * hd + h * dh,
			       dh * sizeof(float));
	if (c->arch.qk_norm == EAP_QKNORM_ALL && kind < 2) {
		/* all of q or k, normalised, then the head's slice */
		size_t w = kind ? Hkv * dh : hd, a0 = kind ? hd : 0;
		size_t off = (kind ? grp : h) * dh;

		eap_sgemm(0, 0, N, w, d, 1.0f, S->ln1, d, W->w_qkv + a0, wp,
			  0.0f, S->proj, w);
		if (W->b_qkv)
			add_bias(S->proj, W->b_qkv + a0, N, w);
		for (size_t i = 0; i < N; i++) {
			float st, *t = S->proj + i * w;

			eap_rmsnorm_forward(t, &st, t, wn, 1, w, c->ln_eps);
			memcpy(out + i * ldo, t + off, dh * sizeof(float));
		}
	} else {
		if (W->b_qkv)
			for (size_t i = 0; i < N; i++)
				memcpy(out + i * ldo, W->b_qkv + c0,
				       dh * sizeof(float));
		eap_sgemm(0, 0, N, dh, d, 1.0f, S->ln1, d, W->w_qkv + c0, wp,
			  W->b_qkv ? 1.0f : 0.0f, out, ldo);
		if (c->arch.qk_norm == EAP_QKNORM_HEAD && kind < 2)
			for (size_t i = 0; i < N; i++) {
				float st;

				eap_rmsnorm_forward(out + i * ldo, &st,
						    out + i * ldo, wn, 1, dh,
						    c->ln_eps);
			}
	}
	/* rotary at the absolute positions p0.. */
	if (half && kind < 2)
		eap_rope_apply(out, N, Pq, 1, dh, ldo, half, cs + p0 * half * 2,
			       1);
	if (p0)
		for (size_t i = 0; i < N; i++)
			memcpy(dst + (i / Pq * np + p0 + i % Pq) * 3 * dh,
			       out + i * dh, dh * sizeof(float));
	eap_model_attn_opts(c, lv, &ao);
	ao.q0 = p0;
	eap_attention_forward_opt(S->z, S->att, qkv, G * nb, np, 1, dh, &ao);
	if (W->post1_w) {
		/* o = o(clean) + (z_h - z_h(clean)) W_O[h], then x_mid = x_in
		 * + norm(o) */
		for (size_t i = 0; i < N; i++) {
			size_t ci = clean_row(i, nb, np, p0);

			for (size_t e = 0; e < dh; e++)
				S->z[i * dh + e] -= F->z[ci * hd + h * dh + e];
		}
		suffix_rows(S->attn_o, F->attn_o, nb, np, p0, d, G);
		eap_sgemm(0, 0, N, d, dh, 1.0f, S->z, dh, W->w_o + h * dh * d,
			  d, 1.0f, S->attn_o, d);
		eap_rmsnorm_forward(S->x_mid, S->post1_stat, S->attn_o,
				    W->post1_w, N, d, c->ln_eps);
		for (size_t i = 0; i < N; i++) {
			const float *xi = F->x_in + clean_row(i, nb, np, p0) * d;

			for (size_t j = 0; j < d; j++)
				S->x_mid[i * d + j] += xi[j];
		}
	} else {
		/* x_mid += z_h W_O[h] - y_h(clean) */
		const float *yh = r->y_clean + u_h * nf * d;

		suffix_rows(S->x_mid, F->x_mid, nb, np, p0, d, G);
		eap_sgemm(0, 0, N, d, dh, 1.0f, S->z, dh, W->w_o + h * dh * d,
			  d, 1.0f, S->x_mid, d);
		for (size_t i = 0; i < N; i++) {
			const float *yi = yh + clean_row(i, nb, np, p0) * d;

			for (size_t j = 0; j < d; j++)
				S->x_mid[i * d + j] -= yi[j];
		}
	}
	if (c->arch.parallel) {
		float *x_next = lv + 1 < c->n_layer ? sf->layers[lv + 1].x_in
						     : sf->x_out;

		for (size_t i = 0; i < N; i++) {
			const float *mi = F->mlp_out + clean_row(i, nb, np, p0) * d;

			for (size_t j = 0; j < d; j++)
				x_next[i * d + j] = S->x_mid[i * d + j] + mi[j];
		}
	} else {
		stack_mlp(r, sf, lv, S->x_mid, N);
	}
	eap_model_layer_put(m, W);
}

/*
 * Exact scores of the edges us[0..E) into backward input v, in one stacked
 * run: copy 0 of the batch is unpatched, copy 1 + e has edge us[e] -> v
 * carrying u's corrupted output.  Only layers from v's on are computed
 * (the prefix is the clean run's), and in v's own layer only what v
 * feeds.  Scores are differences to copy 0, whose rounding is the same.
 */
static int exact_stack(struct eap_run *r, struct eap_fwd *sf,
		       const struct eap_batch *bt, enum eap_metric metric,
		       size_t v, const size_t *us, size_t E,
		       struct eap_score_acc *acc, struct eap_err *err)
{
	const struct eap_model *m = r->model;
	const struct eap_config *c = &m->cfg;
	const struct eap_graph *g = r->graph;
	const struct eap_fwd *f = &r->fwd;
	size_t nb = bt->nb, np = bt->np, n = nb * np, d = c->d_model;
	size_t V = c->n_vocab, nd = n * d, p0 = r->p0;
	/* the stacked copies' rows: positions p0..np-1 */
	size_t ns = nb * (np - p0), nsd = ns * d;
	size_t G = E + 1, rows = G * nb, N = G * ns, lv, h;
	enum eap_bwd_kind kind;
	int32_t *len = malloc(rows * sizeof(int32_t));
	float *xrow = malloc(d * sizeof(float));
	int rc = 0;

	if (!len || !xrow) {
		free(len);
		free(xrow);
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows; i++)
		len[i] = bt->lengths[i % nb];
	eap_graph_bwd_info(g, v, &lv, &kind, &h);

	if (kind == EAP_BWD_LOGITS) {
		/* only the final norm at each row's last position changes */
		for (size_t k = 0; k < G; k++)
			for (size_t b = 0; b < nb; b++) {
				size_t row = b * np + (size_t)bt->lengths[b] - 1;
				float *x = xrow, stat[2];

				memcpy(x, f->x_out + row * d, d * sizeof(float));
				if (k)
					for (size_t j = 0; j < d; j++)
						x[j] -= r->y_clean[us[k - 1] * nd + row * d + j] -
							r->y_corr[us[k - 1] * nd + row * d + j];
				stack_norm(c, 1, sf->lnf_last + (k * nb + b) * d,
					   stat, x, m->w.lnf_w, m->w.lnf_b, 1, d);
			}
		eap_model_unembed(m, 0, rows, sf->lnf_last, d, sf->logits, V);
		if (c->arch.logit_softcap > 0)
			eap_softcap_forward(sf->logits, rows * V,
					    c->arch.logit_softcap);
	} else {
		const struct eap_fwd_layer *F = &f->layers[lv];
		struct eap_fwd_layer *S = &sf->layers[lv];

		/* the input copy of v, per stacked copy: a sequential
		 * block's MLP reads the stream after attention */
		const float *base = kind == EAP_BWD_MLP && !c->arch.parallel
					    ? F->x_mid : F->x_in;
		float *X = S->x_in;

		suffix_rows(X, base, nb, np, p0, d, G);
		for (size_t k = 1; k < G; k++) {
			const float *yc = r->y_clean + us[k - 1] * nd;
			const float *ya = r->y_corr + us[k - 1] * nd;

			for (size_t i = 0; i < ns; i++) {
				size_t ci = clean_row(i, nb, np, p0) * d;

				for (size_t j = 0; j < d; j++)
					X[k * nsd + i * d + j] -= yc[ci + j] - ya[ci + j];
			}
		}
		if (kind == EAP_BWD_MLP) {
			suffix_rows(S->x_mid, F->x_mid, nb, np, p0, d, G);
			stack_mlp(r, sf, lv, X, N);
		} else {
			/* head h's q, k or v from its own copy; the other two
			 * paths and every other head are the clean run's */
			stack_head(r, sf, lv, (int)kind, h, X, nb, np, G);
		}
		rc = p0 ? eap_model_forward_suffix(m, sf, lv + 1, f, p0, len,
						   rows, np, err)
			: eap_model_forward_from(m, sf, lv + 1, len, rows, np,
						 err);
	}
	for (size_t k = 1; k < G && !rc; k++) {
		size_t e = us[k - 1] * g->n_bwd + v;

		for (size_t b = 0; b < nb; b++)
			acc->sum[e] += row_metric(r, bt, metric, b,
						  sf->logits + (k * nb + b) * V, NULL) -
				       row_metric(r, bt, metric, b,
						  sf->logits + b * V, NULL);
	}
	free(len);
	free(xrow);
	return rc;
}

/*
 * A share of exact scoring's work: the edges e0..e1-1 (counted in order
 * of their source u) of those to score into backward input v.
 */
struct exact_unit {
	size_t v, e0, e1;
	double cost;
};

/* The exact scores of the edges of a unit, in one stacked run. */
static int exact_unit_run(struct eap_run *r, struct eap_fwd *sf,
			  const struct eap_batch *bt, enum eap_metric metric,
			  const uint8_t *edges, const struct exact_unit *un,
			  size_t *us, struct eap_score_acc *acc,
			  struct eap_err *err)
{
	const struct eap_graph *g = r->graph;
	size_t k = 0, E = 0;

	for (size_t u = 0; u < g->n_fwd && k < un->e1; u++) {
		size_t e = u * g->n_bwd + un->v;

		if (!g->edge_mask[e] || (edges && !edges[e]))
			continue;
		if (k++ >= un->e0)
			us[E++] = u;
	}
	return E ? exact_stack(r, sf, bt, metric, un->v, us, E, acc, err) : 0;
}

static int unit_cmp(const void *pa, const void *pb)
{
	const struct exact_unit *a = pa, *b = pb;

	if (a->cost != b->cost)
		return a->cost < b->cost ? 1 : -1;
	return a->v < b->v ? -1 : a->v > b->v;
}

/* Edges a unit keeps at least when an input's edges are split for threads. */
#define UNIT_MIN 16

/*
 * Split the work into units, each backward input's edges into parts of
 * at most groups - 1 (a stack's copies but the unpatched one); with T
 * threads, into up to T parts of at least UNIT_MIN edges
 * (r->exact_unit_min), so the threads end together when few inputs are
 * scored, at one more unpatched copy a part.  A unit depends only
 * on its input's edges, groups and T (so shards of a run equal it bit
 * for bit).  Most costly first: a copy costs about the layers from v's
 * on and the logits.  Returns the number of units (*out, freed by the
 * caller), or -1 out of memory.
 */
static long exact_units(const struct eap_run *r, const uint8_t *edges,
			size_t groups, size_t T, struct exact_unit **out)
{
	const struct eap_config *c = &r->model->cfg;
	const struct eap_graph *g = r->graph;
	size_t *cnt = calloc(g->n_bwd, sizeof(size_t)), n = 0;
	double d = (double)c->d_model, P = (double)r->P;
	double layer = P * (2 * d * 4 * d + 4 * d * (double)c->d_mlp);
	double logits = 2 * d * (double)c->n_vocab;
	struct exact_unit *un;

	if (!cnt)
		return -1;
	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < g->n_bwd; v++) {
			size_t e = u * g->n_bwd + v;

			cnt[v] += g->edge_mask[e] && (!edges || edges[e]);
		}
	un = malloc((g->n_fwd * g->n_bwd + 1) * sizeof(*un));
	if (!un) {
		free(cnt);
		return -1;
	}
	for (size_t v = 0; v < g->n_bwd; v++) {
		size_t l, h, parts = (cnt[v] + groups - 2) / (groups - 1);
		size_t want = cnt[v] / (r->exact_unit_min ? r->exact_unit_min
							     : UNIT_MIN);
		enum eap_bwd_kind kind;
		double copy;

		if (!cnt[v])
			continue;
		eap_graph_bwd_info(g, v, &l, &kind, &h);
		copy = kind == EAP_BWD_LOGITS ? logits
		       : (double)(c->n_layer - l) * layer + logits;
		if (T > 1 && want > parts)
			parts = want < T ? want : T;
		for (size_t p = 0; p < parts; p++) {
			size_t e0 = cnt[v] * p / parts, e1 = cnt[v] * (p + 1) / parts;

			un[n++] = (struct exact_unit){ v, e0, e1,
						       (double)(e1 - e0 + 1) * copy };
		}
	}
	free(cnt);
	qsort(un, n, sizeof(*un), unit_cmp);
	*out = un;
	return (long)n;
}

/*
 * fn on each of the T jobs (size bytes apart): job 0 on this thread, the
 * others on threads of their own (a job whose thread cannot start runs
 * here afterwards), with one BLAS thread each while T > 1.
 */
static void run_parallel(void *(*fn)(void *), void *jobs, size_t size,
			 size_t T)
{
	char *job = jobs;
	pthread_t tid[T];
	int threads = eap_blas_threads_get();

	if (T > 1)
		eap_blas_threads(1);
	for (size_t k = 1; k < T; k++)
		if (pthread_create(&tid[k], NULL, fn, job + k * size))
			tid[k] = pthread_self();
	fn(job);
	for (size_t k = 1; k < T; k++) {
		if (pthread_equal(tid[k], pthread_self()))
			fn(job + k * size);
		else
			pthread_join(tid[k], NULL);
	}
	if (T > 1)
		eap_blas_threads(threads);
}

/*
 * Threads of exact scoring: each takes the next unit and scores its
 * edges on its own stack.  An edge's score depends only on its unit's
 * run, not on the thread, and each writes only its own edges' sums.
 */
struct exact_job {
	struct eap_run *r;
	struct eap_fwd *sf;
	const struct eap_batch *bt;
	enum eap_metric metric;
	const uint8_t *edges;
	struct eap_score_acc *acc;
	const struct exact_unit *units;
	size_t n_units;
	pthread_mutex_t *lock;
	size_t *next;        /* the next unit, under lock */
	int *failed;         /* under lock */
	int rc;
	struct eap_err err;
};

static void *exact_main(void *arg)
{
	struct exact_job *j = arg;
	size_t *us = malloc(j->r->graph->n_fwd * sizeof(size_t));

	if (!us) {
		j->rc = eap_err_set(&j->err, EAP_ENOMEM, "out of memory");
		return NULL;
	}
	for (;;) {
		size_t k;

		pthread_mutex_lock(j->lock);
		k = *j->next;
		if (j->rc)
			*j->failed = 1;
		if (!*j->failed && k < j->n_units)
			(*j->next)++;
		else
			k = SIZE_MAX;
		pthread_mutex_unlock(j->lock);
		if (k == SIZE_MAX)
			break;
		j->rc = exact_unit_run(j->r, j->sf, j->bt, j->metric, j->edges,
				       &j->units[k], us, j->acc, &j->err);
	}
	free(us);
	return NULL;
}

static int score_exact(struct eap_run *r, const struct eap_batch *bt,
		       enum eap_metric metric, const uint8_t *edges,
		       struct eap_score_acc *acc, struct eap_err *err)
{
	size_t T, next = 0;
	int rc, failed = 0;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct exact_unit *units = NULL;
	long n_units;

	if ((rc = stack_init(r, err)))
		return rc;
	r->p0 = r->prefix_off ? 0 : eap_batch_prefix(bt);
	T = r->n_stacks;
	n_units = exact_units(r, edges, r->stack_groups, T, &units);
	if (n_units < 0)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	{
		struct exact_job job[T];

		for (size_t k = 0; k < T; k++)
			job[k] = (struct exact_job){ r, &r->stacks[k], bt, metric,
						     edges, acc, units,
						     (size_t)n_units, &lock, &next,
						     &failed, 0, { 0 } };
		run_parallel(exact_main, job, sizeof(job[0]), T);
		for (size_t k = 0; k < T && !rc; k++)
			if ((rc = job[k].rc) && err)
				*err = job[k].err;
	}
	free(units);
	return rc;
}

/* dst (n) = a + t (b - a) */
static void lerp(float *dst, const float *a, const float *b, float t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = a[i] + t * (b[i] - a[i]);
}

/*
 * EAP-IG on activations, the reference's convention: for each of the
 * 2L + 1 node groups G (the input; layer l's attention heads; layer l's
 * MLP) and k = 1..m, the clean prompts run with G's outputs set to
 * y_corr + (k/m)(y_clean - y_corr), a constant (no gradient goes through
 * G), and g_v is averaged over all (2L + 1) m runs.  The groups go from
 * the last one back to the input, so that the forward state before G is
 * still the clean run's (r->fwd holds the clean run on entry) and each
 * run recomputes only what follows G.
 */
static int score_ig_act(struct eap_run *r, const struct eap_batch *bt,
			enum eap_metric metric, int steps, struct eap_err *err)
{
	const struct eap_model *m = r->model;
	const struct eap_graph *g = r->graph;
	size_t L = m->cfg.n_layer, d = m->cfg.d_model;
	size_t nb = bt->nb, np = bt->np, nd = nb * np * d;
	size_t ns = r->node_stride ? r->node_stride : nd;
	float alpha = 1.0f / (float)((2 * L + 1) * (size_t)steps);
	int rc = 0;

	for (size_t grp = 2 * L + 1; grp-- > 0 && !rc;) {
		size_t l = grp ? (grp - 1) / 2 : 0;
		int is_mlp = grp && grp % 2 == 0;
		struct eap_fwd_layer *F = &r->fwd.layers[l];

		for (int k = 1; k <= steps && !rc; k++) {
			float t = (float)k / (float)steps;

			if (grp == 0) {
				lerp(r->x0, r->y_corr, r->y_clean, t, nd);
				rc = eap_run_nodes(r, NULL, r->x0, bt->lengths, nb,
						   np, NULL, err);
			} else if (is_mlp) {
				size_t u = eap_fwd_mlp(g, l);
				float *x = l + 1 < L ? r->fwd.layers[l + 1].x_in
						     : r->fwd.x_out;

				lerp(x, r->y_corr + u * ns, r->y_clean + u * ns,
				     t, nd);
				axpy(x, 1.0f, F->x_mid, nd);
				rc = eap_model_forward_from(m, &r->fwd, l + 1,
							    bt->lengths, nb, np,
							    err);
			} else {
				const struct eap_layer *W = eap_model_layer(m, l);
				const float *b_o = W->b_o;

				/* a post-norm layer's heads carry all of its
				 * output (README "Model families") */
				if (W->post1_w)
					b_o = NULL;
				for (size_t i = 0; i < nd; i++)
					F->x_mid[i] = F->x_in[i] +
						      (b_o ? b_o[i % d] : 0.0f);
				eap_model_layer_put(m, W);
				for (size_t h = 0; h < g->n_head; h++) {
					size_t u = eap_fwd_head(g, l, h);

					lerp(r->x0, r->y_corr + u * ns,
					     r->y_clean + u * ns, t, nd);
					axpy(F->x_mid, 1.0f, r->x0, nd);
				}
				rc = eap_model_forward_mid(m, &r->fwd, l,
							   bt->lengths, nb, np,
							   err);
			}
			if (!rc)
				rc = backward(r, bt, metric, alpha, 1, NULL,
					      grp ? (long)l : -1, is_mlp, err);
		}
	}
	return rc;
}

/*
 * EAP-IG on one lane: the clean run, then the m interpolated runs in
 * chunks of up to r->B / nb steps stacked along the rows (copy-major),
 * each chunk one forward and one backward.  Stacking makes every matmul
 * S times taller, so packing the weights costs S times less per row, and
 * the S copies' gradients add into grad in one pass.  Step 0 is the
 * corrupted run: its rows give y_corr and the corrupted metric.
 */
static int ig_rows(struct eap_run *r, const struct eap_batch *bt,
		   enum eap_metric metric, int steps, struct eap_err *err)
{
	const struct eap_model *m = r->model;
	size_t nb = bt->nb, np = bt->np, n = nb * np, d = m->cfg.d_model;
	size_t V = m->cfg.n_vocab, nd = n * d, S = r->B / nb;
	size_t ns = r->node_stride ? r->node_stride : nd;
	const float *ec = r->y_clean, *er = r->y_corr; /* node 0: embeddings */
	int32_t *len;
	int rc;

	if ((rc = eap_run_nodes(r, bt->clean, NULL, bt->lengths, nb, np,
				r->y_clean, err)))
		return rc;
	log_softmax_rows(r->clean_logp, r->fwd.logits, nb, V);
	for (size_t b = 0; b < nb; b++)
		r->metric_clean[b] = row_metric(r, bt, metric, b,
						r->fwd.logits + b * V, NULL);
	if ((rc = eap_model_embed(m, r->y_corr, bt->corrupted, nb, np, err)))
		return rc;
	if (S > (size_t)steps)
		S = (size_t)steps;
	len = malloc(S * nb * sizeof(*len));
	if (!len)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (size_t i = 0; i < S * nb; i++)
		len[i] = bt->lengths[i % nb];
	for (size_t k0 = 0; k0 < (size_t)steps && !rc; k0 += S) {
		size_t s = (size_t)steps - k0 < S ? (size_t)steps - k0 : S;

		/* e_k = e_corr + (k/m)(e_clean - e_corr), k = 0..m-1 */
		for (size_t j = 0; j < s; j++)
			lerp(r->x0 + j * nd, er, ec,
			     (float)(k0 + j) / (float)steps, nd);
		rc = eap_model_forward_embedded(m, &r->fwd, r->x0, len, s * nb,
						np, err);
		if (rc)
			break;
		if (k0 == 0) {
			nodes_out(r, n, r->y_corr, ns);
			for (size_t b = 0; b < nb; b++)
				r->metric_corr[b] = row_metric(r, bt, metric, b,
							       r->fwd.logits + b * V,
							       NULL);
			dy_first(r, bt);
		}
		rc = backward(r, bt, metric, 1.0f / (float)steps, s, NULL, -1, 0,
			      err);
	}
	free(len);
	return rc;
}

/*
 * EAP-GP on one lane (Zhang et al. 2025; README "RelP and EAP-GP"): the
 * path starts at the clean embeddings e_0 and takes m steps
 *   e_{k+1} = e_k - G_k / ||G_k||,  G_k = d/de ||logits(e_k) - logits_corr||^2
 * at each row's last real position, normalized per example over all its
 * positions (a zero G_k leaves the point where it is); g_v is averaged
 * over e_1..e_m (the clean start excluded, as EAP-IG excludes its clean
 * end).  At each point one forward serves both backward passes: the
 * distance's (for the next step) and the metric's.  Cost: m + 2
 * forwards and 2m backwards a batch.
 */
static int gp_rows(struct eap_run *r, const struct eap_batch *bt,
		   enum eap_metric metric, int steps, struct eap_err *err)
{
	const struct eap_model *m = r->model;
	size_t nb = bt->nb, np = bt->np, d = m->cfg.d_model;
	size_t V = m->cfg.n_vocab, nd = nb * np * d;
	float *target, *e = r->x0;
	struct views v;
	int rc;

	if ((rc = eap_run_nodes(r, bt->corrupted, NULL, bt->lengths, nb, np,
				r->y_corr, err)))
		return rc;
	target = malloc(nb * V * sizeof(float));
	if (!target)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	memcpy(target, r->fwd.logits, nb * V * sizeof(float));
	rc = eap_run_nodes(r, bt->clean, NULL, bt->lengths, nb, np, r->y_clean,
			   err);
	if (!rc) {
		log_softmax_rows(r->clean_logp, r->fwd.logits, nb, V);
		for (size_t b = 0; b < nb; b++) {
			r->metric_clean[b] = row_metric(r, bt, metric, b,
							r->fwd.logits + b * V,
							NULL);
			r->metric_corr[b] = row_metric(r, bt, metric, b,
						       target + b * V, NULL);
		}
		memcpy(e, r->fwd.layers[0].x_in, nd * sizeof(float));
		dy_first(r, bt);
	}
	views_size(r, &v);
	for (int k = 0; k < steps && !rc; k++) {
		/* r->fwd holds the run at e_k: the distance's gradient */
		r->gp_target = target;
		rc = backward(r, bt, metric, 0.0f, 1, NULL, -1, 0, err);
		r->gp_target = NULL;
		if (rc)
			break;
		/* v.a = d/de after the backward: one unit step per example */
		for (size_t b = 0; b < nb; b++) {
			const float *gb = v.a + b * np * d;
			double ss = 0.0;

			for (size_t i = 0; i < np * d; i++)
				ss += (double)gb[i] * gb[i];
			if (ss > 0.0)
				axpy(e + b * np * d, (float)(-1.0 / sqrt(ss)), gb,
				     np * d);
		}
		rc = eap_model_forward_embedded(m, &r->fwd, e, bt->lengths, nb,
						np, err);
		if (!rc)
			rc = backward(r, bt, metric, 1.0f / (float)steps, 1, NULL,
				      -1, 0, err);
	}
	free(target);
	return rc;
}

/* dY = y(corrupted) - y(clean) into y_cur, zero at padded positions. */
static void dy_rows(struct eap_run *r, const struct eap_batch *bt)
{
	size_t nb = bt->nb, np = bt->np, d = r->model->cfg.d_model;
	size_t nd = nb * np * d, ns = r->node_stride ? r->node_stride : nd;

	for (size_t u = 0; u < r->graph->n_fwd; u++) {
		float *dy = r->y_cur + u * ns;
		const float *yc = r->y_clean + u * ns, *yr = r->y_corr + u * ns;

		for (size_t i = 0; i < nd; i++)
			dy[i] = yr[i] - yc[i];
		for (size_t b = 0; b < nb; b++)
			memset(dy + (b * np + (size_t)bt->lengths[b]) * d, 0,
			       (np - (size_t)bt->lengths[b]) * d * sizeof(float));
	}
}

/*
 * The gradient part of a gradient method on one lane: baselines,
 * alpha-weighted gradients summed into grad, and dY into y_cur if
 * want_dy.  Touches only this lane's rows of the borrowed buffers.
 */
static int grad_rows(struct eap_run *r, const struct eap_batch *bt,
		     enum eap_method method, enum eap_metric metric,
		     int steps, int want_dy, struct eap_err *err)
{
	const struct eap_graph *g = r->graph;
	size_t nb = bt->nb, np = bt->np, n = nb * np;
	size_t d = r->model->cfg.d_model, nd = n * d;
	size_t ns = r->node_stride ? r->node_stride : nd;
	int rc = 0;

	for (size_t v = 0; v < (r->per_layer ? 3 * g->n_head + 1 : g->n_bwd); v++)
		memset(r->grad + v * ns, 0, nd * sizeof(float));
	/* EAP-IG and EAP-GP run their own clean and corrupted forwards */
	if (method != EAP_METHOD_EAP_IG && method != EAP_METHOD_EAP_GP) {
		if ((rc = baselines(r, bt, metric, 0, err)))
			return rc;
		dy_first(r, bt);
	}
	switch (method) {
	case EAP_METHOD_EAP:
		rc = eap_run_backward(r, bt, metric, 1.0f, NULL, err);
		break;
	case EAP_METHOD_CLEAN_CORRUPTED:
		rc = eap_run_backward(r, bt, metric, 0.5f, NULL, err);
		if (!rc)
			rc = eap_run_nodes(r, bt->corrupted, NULL, bt->lengths,
					   nb, np, NULL, err);
		if (!rc)
			rc = eap_run_backward(r, bt, metric, 0.5f, NULL, err);
		break;
	case EAP_METHOD_EAP_IG:
		rc = ig_rows(r, bt, metric, steps, err);
		break;
	case EAP_METHOD_EAP_IG_ACT:
		rc = score_ig_act(r, bt, metric, steps, err);
		break;
	case EAP_METHOD_RELP:
		r->lrp = 1;
		rc = eap_run_backward(r, bt, metric, 1.0f, NULL, err);
		r->lrp = 0;
		break;
	case EAP_METHOD_EAP_GP:
		rc = gp_rows(r, bt, metric, steps, err);
		break;
	default:
		return eap_err_set(err, EAP_EINVAL, "unknown method %d", method);
	}
	if (rc || !want_dy || r->per_layer) /* per layer: made before */
		return rc;
	dy_rows(r, bt);
	return 0;
}

/* Bytes the lanes' stacked IG steps may take: it sets how many stack. */
#define STEP_BUDGET ((size_t)1536 << 20)

/*
 * Lanes: as many as BLAS threads (at most B), each for up to
 * Bk = ceil(B / lanes) rows, with room for S stacked IG steps.
 */
static int lanes_init(struct eap_run *r, int steps, struct eap_err *err)
{
	const struct eap_config *c = &r->model->cfg;
	size_t T = (size_t)eap_blas_threads_get(), Bk, S, per_row, P = r->P;
	int rc;

	if (T > r->B)
		T = r->B;
	if (T < 1)
		T = 1;
	Bk = (r->B + T - 1) / T;
	/* floats of a forward and the scratch per row, as eap_fwd_init */
	per_row = c->n_layer * (P * c->d_model * 10 + P * 4 + c->n_head * P * P +
				2 * P * c->d_mlp) + 8 * P * c->d_model +
		  3 * P * c->d_mlp + 2 * c->n_vocab;
	S = STEP_BUDGET / sizeof(float) / per_row / (T * Bk);
	if (S > (size_t)steps)
		S = (size_t)steps;
	if (S < 1)
		S = 1;
	if (T == r->n_lanes && r->lanes[0].B >= S * Bk)
		return 0;
	lanes_release(r);
	r->lanes = calloc(T, sizeof(*r->lanes));
	if (!r->lanes)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	r->n_lanes = T;
	for (size_t k = 0; k < T; k++) {
		struct eap_run *q = &r->lanes[k];
		struct views v;

		q->model = r->model;
		q->graph = r->graph;
		q->B = S * Bk;
		q->P = P;
		if ((rc = eap_fwd_init(&q->fwd, c, q->B, P, 0, err)))
			goto fail;
		q->fwd.fast_gelu = 1;
		q->n_scratch = views_size(q, &v);
		q->scratch = malloc(q->n_scratch * sizeof(float));
		q->x0 = malloc(q->B * P * c->d_model * sizeof(float));
		q->dlogits = malloc(q->B * c->n_vocab * sizeof(float));
		if (r->per_layer) {
			q->per_layer = 1;
			q->lsum = malloc(r->graph->n_fwd * r->graph->n_bwd *
					 sizeof(double));
			q->ltile = malloc(r->graph->n_fwd *
					  (3 * c->n_head + 1) * sizeof(float));
		}
		if (!q->scratch || !q->x0 || !q->dlogits ||
		    (r->per_layer && (!q->lsum || !q->ltile))) {
			rc = eap_err_set(err, EAP_ENOMEM,
					 "out of memory for a batch of %zu x %zu (lower --batch)",
					 r->B, P);
			goto fail;
		}
	}
	return 0;
fail:
	lanes_release(r);
	return rc;
}

struct lane_job {
	struct eap_run *r;
	struct eap_batch bt;
	enum eap_method method;
	enum eap_metric metric;
	int steps, want_dy, rc;
	struct eap_err err;
};

static void *lane_main(void *arg)
{
	struct lane_job *j = arg;

	j->rc = grad_rows(j->r, &j->bt, j->method, j->metric, j->steps,
			  j->want_dy, &j->err);
	return NULL;
}

/*
 * grad_rows over the lanes, in parallel: lane k takes a contiguous block
 * of the batch's rows and its BLAS calls run on one thread, so the parts
 * outside BLAS (LayerNorm paths, GELU, softmax) run on every core too.
 * Each row's arithmetic does not depend on the split, and every lane
 * writes only its own rows, so the result depends on the thread count
 * only through BLAS's own blocking.
 */
static int grad_lanes(struct eap_run *r, const struct eap_batch *bt,
		      enum eap_method method, enum eap_metric metric,
		      int steps, const float *dy, struct eap_err *err)
{
	int want_dy = !dy;
	size_t T = r->n_lanes < bt->nb ? r->n_lanes : bt->nb;
	size_t np = bt->np, d = r->model->cfg.d_model, V = r->model->cfg.n_vocab;
	size_t ns = bt->nb * np * d, b0 = 0;
	struct lane_job job[T];
	int rc = 0;

	for (size_t k = 0; k < T; k++) {
		struct eap_run *q = &r->lanes[k];
		size_t nk = bt->nb / T + (k < bt->nb % T);
		struct eap_batch *s = &job[k].bt;

		q->node_stride = ns;
		q->y_clean = r->y_clean + b0 * np * d;
		q->y_corr = r->y_corr + b0 * np * d;
		q->y_cur = r->y_cur + b0 * np * d;
		q->grad = r->grad + b0 * np * d;
		q->ldy = (dy ? dy : r->y_cur) + b0 * np * d;
		if (q->lsum)
			memset(q->lsum, 0, r->graph->n_fwd * r->graph->n_bwd *
					   sizeof(double));
		q->clean_logp = r->clean_logp + b0 * V;
		q->metric_clean = r->metric_clean + b0;
		q->metric_corr = r->metric_corr + b0;
		*s = *bt;
		s->nb = nk;
		s->clean = bt->clean + b0 * np;
		s->corrupted = bt->corrupted + b0 * np;
		s->lengths = bt->lengths + b0;
		s->answers = bt->answers + b0 * bt->n_ans;
		s->foils = bt->foils + b0 * bt->n_foil;
		job[k] = (struct lane_job){ q, *s, method, metric, steps,
					    want_dy, 0, { 0 } };
		b0 += nk;
	}
	run_parallel(lane_main, job, sizeof(job[0]), T);
	for (size_t k = 0; k < T && !rc; k++)
		if ((rc = job[k].rc) && err)
			*err = job[k].err;
	return rc;
}

int eap_run_score(struct eap_run *r, const struct eap_batch *bt,
		  enum eap_method method, enum eap_metric metric, int steps,
		  const float *dy, const uint8_t *edges,
		  struct eap_score_acc *acc, struct eap_err *err)
{
	size_t nb = bt->nb, np = bt->np, n = nb * np;
	int rc;

	if (method == EAP_METHOD_EXACT) {
		rc = baselines(r, bt, metric, 0, err);
		if (!rc)
			rc = score_exact(r, bt, metric, edges, acc, err);
		if (!rc)
			rc = eap_model_status(r->model, err);
		if (!rc)
			acc->n_examples += nb;
		return rc;
	}
	if (method != EAP_METHOD_EAP && method != EAP_METHOD_EAP_IG &&
	    method != EAP_METHOD_CLEAN_CORRUPTED &&
	    method != EAP_METHOD_EAP_IG_ACT && method != EAP_METHOD_RELP &&
	    method != EAP_METHOD_EAP_GP)
		return eap_err_set(err, EAP_EINVAL, "unknown method %d", method);
	if (steps < 1)
		return eap_err_set(err, EAP_EINVAL, "steps must be >= 1, got %d",
				   steps);
	if (nb > r->B || np > r->P)
		return eap_err_set(err, EAP_EINVAL,
				   "batch %zu x %zu exceeds the run's %zu x %zu",
				   nb, np, r->B, r->P);
	if ((rc = lanes_init(r, method == EAP_METHOD_EAP_IG ? steps : 1, err)))
		return rc;
	/* y_cur is free in gradient methods: it takes dY */
	rc = grad_lanes(r, bt, method, metric, steps, dy, err);
	if (rc)
		return rc;
	if (r->per_layer) /* the lanes contracted as they went: those that
			     ran (a short batch leaves the last ones idle) */
		for (size_t k = 0; k < r->n_lanes && k < nb; k++)
			for (size_t i = 0; i < r->graph->n_fwd * r->graph->n_bwd; i++)
				acc->sum[i] += r->lanes[k].lsum[i];
	else
		contract(r, dy ? dy : r->y_cur, n, 1.0f, acc);
	acc->n_examples += nb;
	return 0;
}
