/*
 * nodes.c - node- and neuron-level attribution (see nodes.h).
 */
#include <stdlib.h>
#include <string.h>

#include "eap/linalg.h"
#include "eap/nodes.h"

static const char *const level_names[] = { "edge", "node", "neuron" };

int eap_level_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

const char *eap_level_name(enum eap_level l) { return level_names[l]; }

int eap_node_acc_init(struct eap_node_acc *a, const struct eap_graph *g,
		      size_t d, size_t B, size_t P, struct eap_err *err)
{
	memset(a, 0, sizeof(*a));
	a->n_fwd = g->n_fwd;
	a->n_bwd = g->n_bwd;
	a->d = d;
	a->B = B;
	a->P = P;
	a->node = calloc(g->n_fwd, sizeof(double));
	a->neuron = calloc(g->n_fwd * d, sizeof(double));
	a->mask = malloc(g->n_fwd * g->n_bwd * sizeof(float));
	a->gout = malloc(g->n_fwd * P * d * sizeof(float));
	if (!a->node || !a->neuron || !a->mask || !a->gout) {
		eap_node_acc_release(a);
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
		a->mask[i] = g->edge_mask[i] ? 1.0f : 0.0f;
	return 0;
}

void eap_node_acc_release(struct eap_node_acc *a)
{
	free(a->node);
	free(a->neuron);
	free(a->mask);
	free(a->gout);
	free(a->keep);
	free(a->mout);
	free(a->yabl);
	memset(a, 0, sizeof(*a));
}

/*
 * Per example b: go (n_fwd, np*d) = mask (n_fwd, n_bwd) G_b (n_bwd, np*d),
 * the gradient at every node's output as one matmul over the node-major
 * gradients (row stride nb*np*d), then neuron(u, j) += sum over b's real
 * positions of dy * go, summed in double.
 */
void eap_node_acc_add_grad(struct eap_node_acc *a, const struct eap_run *r,
			   const struct eap_batch *bt, const float *dy)
{
	size_t nb = bt->nb, np = bt->np, d = a->d, nd = nb * np * d;

	if (!dy)
		dy = r->y_cur;
	for (size_t b = 0; b < nb; b++) {
		size_t len = (size_t)bt->lengths[b];

		eap_sgemm(0, 0, a->n_fwd, np * d, a->n_bwd, 1.0f, a->mask,
			  a->n_bwd, r->grad + b * np * d, nd, 0.0f, a->gout,
			  np * d);
		for (size_t u = 0; u < a->n_fwd; u++) {
			const float *y = dy + u * nd + b * np * d;
			const float *go = a->gout + u * np * d;
			double *nu = a->neuron + u * d, tot = 0.0;

			for (size_t j = 0; j < d; j++) {
				double s = 0.0;

				for (size_t p = 0; p < len; p++)
					s += (double)y[p * d + j] * go[p * d + j];
				nu[j] += s;
				tot += s;
			}
			a->node[u] += tot;
		}
	}
	a->n_examples += nb;
}

/* Buffers of the exact scores, on first use. */
static int exact_alloc(struct eap_node_acc *a, const struct eap_graph *g,
		       int neurons, struct eap_err *err)
{
	size_t E = g->n_fwd * g->n_bwd;

	if (!a->keep) {
		a->keep = malloc(g->n_fwd * E);
		a->mout = malloc(g->n_fwd * a->B * sizeof(double));
		if (!a->keep || !a->mout)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		/* circuit k: the whole graph but the edges out of node k */
		for (size_t k = 0; k < g->n_fwd; k++) {
			memcpy(a->keep + k * E, g->edge_mask, E);
			memset(a->keep + k * E + k * g->n_bwd, 0, g->n_bwd);
		}
	}
	if (neurons && !a->yabl &&
	    !(a->yabl = malloc(g->n_fwd * a->B * a->P * a->d * sizeof(float))))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	return 0;
}

/* node (n_fwd) += sum over the batch of patched - clean, at stride st */
static void add_patched(const struct eap_node_acc *a, const struct eap_run *r,
			size_t nb, double *node, size_t st)
{
	for (size_t k = 0; k < a->n_fwd; k++) {
		double s = 0.0;

		for (size_t b = 0; b < nb; b++)
			s += a->mout[k * nb + b] - r->metric_clean[b];
		node[k * st] += s;
	}
}

/*
 * Circuit k removes only node k's outgoing edges, so only the ablated
 * value of node k matters in it: one stacked call with y_ablate = the
 * clean outputs of every node with dimension j corrupted gives neuron
 * (k, j) of every k at once (node k's own output in circuit k is its
 * clean output, as nothing upstream of it is patched).
 */
int eap_node_acc_add_exact(struct eap_node_acc *a, struct eap_run *r,
			   const struct eap_batch *bt, enum eap_metric metric,
			   int neurons, struct eap_err *err)
{
	const struct eap_graph *g = r->graph;
	size_t nb = bt->nb, n = a->n_fwd * nb * bt->np, d = a->d;
	int rc;

	if ((rc = exact_alloc(a, g, neurons, err)) ||
	    (rc = eap_run_baselines(r, bt, metric, err)) ||
	    (rc = eap_run_patched_many(r, bt, metric, a->keep, a->n_fwd, NULL,
				       a->mout, err)))
		return rc;
	add_patched(a, r, nb, a->node, 1);
	for (size_t j = 0; neurons && j < d; j++) {
		memcpy(a->yabl, r->y_clean, n * d * sizeof(float));
		for (size_t i = 0; i < n; i++)
			a->yabl[i * d + j] = r->y_corr[i * d + j];
		if ((rc = eap_run_patched_many(r, bt, metric, a->keep, a->n_fwd,
					       a->yabl, a->mout, err)))
			return rc;
		add_patched(a, r, nb, a->neuron + j, d);
	}
	a->n_examples += nb;
	return 0;
}

void eap_node_acc_finish(const struct eap_node_acc *a, float *node,
			 float *neuron)
{
	double ne = a->n_examples ? (double)a->n_examples : 1.0;

	for (size_t u = 0; u < a->n_fwd; u++)
		node[u] = (float)(a->node[u] / ne);
	for (size_t i = 0; neuron && i < a->n_fwd * a->d; i++)
		neuron[i] = (float)(a->neuron[i] / ne);
}

struct rank { float key; size_t u; };

static int rank_cmp(const void *x, const void *y)
{
	const struct rank *a = x, *b = y;

	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return a->u < b->u ? -1 : a->u > b->u;
}

int eap_node_circuit(const struct eap_graph *g, const float *node, size_t n,
		     int signed_rank, uint8_t *in_graph, struct eap_err *err)
{
	size_t nf = g->n_fwd, nbw = g->n_bwd;
	struct rank *rk = malloc(nf * sizeof(*rk));
	uint8_t *kept = calloc(nf + 1, 1);

	int rc = 0;

	memset(in_graph, 0, nf * nbw);
	if (!rk || !kept) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t u = 0; u < nf; u++)
		rk[u] = (struct rank){ signed_rank ? node[u]
						   : (node[u] < 0 ? -node[u] : node[u]),
				       u };
	qsort(rk, nf, sizeof(*rk), rank_cmp);
	for (size_t i = 0; i < n && i < nf; i++)
		kept[rk[i].u] = 1;
	kept[nf] = 1; /* logits */
	for (size_t u = 0; u < nf; u++)
		for (size_t v = 0; kept[u] && v < nbw; v++)
			in_graph[u * nbw + v] = g->edge_mask[u * nbw + v] &&
						kept[eap_graph_bwd_owner(g, v)];
out:
	free(rk);
	free(kept);
	return rc;
}
