/*
 * cost.c - see include/eap/cost.h.
 */
#include "eap/cost.h"

/* FLOPs of one row of np positions through the parts of one layer */
struct layer_flops {
	double head_in;   /* one query head's q, k or v projection */
	double head_core; /* one head's attention core and W_O rows */
	double attn;      /* all of the attention: projections, core, W_O */
	double mlp;
};

static struct layer_flops layer_flops(const struct eap_config *c, size_t np)
{
	double d = (double)c->d_model, dh = (double)c->d_head;
	double H = (double)c->n_head, Hkv = (double)c->n_kv_head;
	double dm = (double)c->d_mlp, P = (double)np;
	struct layer_flops f;

	f.head_in = 2 * d * dh;
	f.head_core = 4 * P * dh + 2 * dh * d;
	f.attn = 2 * d * (H + 2 * Hkv) * dh + H * f.head_core;
	f.mlp = 2 * d * dm * (c->arch.gated ? 3 : 2);
	return f;
}

/* one forward of a row of np positions, logits at the last one */
static double forward_flops(const struct eap_config *c, size_t np)
{
	struct layer_flops f = layer_flops(c, np);

	return (double)np * (double)c->n_layer * (f.attn + f.mlp) +
	       2.0 * (double)c->d_model * (double)c->n_vocab;
}

/*
 * One backward to every backward input (README "RelP and EAP-GP"): each
 * head's q, k and v path of its own (H query heads' worth even with
 * GQA), the attention core's four products (RelP's constant patterns:
 * one), W_O and the MLP; no weight gradients.
 */
static double backward_flops(const struct eap_config *c, size_t np, int lrp)
{
	struct layer_flops f = layer_flops(c, np);
	double H = (double)c->n_head, dh = (double)c->d_head;
	double d = (double)c->d_model, P = (double)np;
	double attn = (lrp ? 1 : 3) * H * f.head_in +
		      H * ((lrp ? 2 : 8) * P * dh + 2 * dh * d);

	return P * (double)c->n_layer * (attn + f.mlp) +
	       2.0 * d * (double)c->n_vocab;
}

/* exact patching of the edges of mask: per backward input v with E
 * edges, E + 1 copies of what follows v (prefix reused), as forwards;
 * a copy runs positions p0..np-1, each attending to up to np keys */
static double exact_forwards(const struct eap_config *c,
			     const struct eap_graph *g, const uint8_t *mask,
			     size_t np, size_t p0)
{
	struct layer_flops f = layer_flops(c, np);
	double P = (double)(np - p0), full = forward_flops(c, np);
	double logits = 2.0 * (double)c->d_model * (double)c->n_vocab, sum = 0;

	for (size_t v = 0; v < g->n_bwd; v++) {
		size_t E = 0, l, h;
		enum eap_bwd_kind kind;
		double per;

		for (size_t u = 0; u < g->n_fwd; u++)
			E += mask[u * g->n_bwd + v];
		if (!E)
			continue;
		eap_graph_bwd_info(g, v, &l, &kind, &h);
		if (kind == EAP_BWD_LOGITS) {
			per = logits;
		} else {
			per = P * f.mlp + logits +
			      P * (double)(c->n_layer - 1 - l) * (f.attn + f.mlp);
			if (kind != EAP_BWD_MLP)
				per += P * (f.head_in + f.head_core);
		}
		sum += (double)(E + 1) * per;
	}
	return 2.0 + sum / full;
}

void eap_cost_add(struct eap_cost *c, const struct eap_config *cfg,
		  const struct eap_graph *g, enum eap_method method,
		  int steps, const uint8_t *mask, size_t nb, size_t np,
		  size_t p0)
{
	double m = (double)steps, F = 0, B = 0, L = (double)cfg->n_layer;
	double fw = forward_flops(cfg, np), bw = backward_flops(cfg, np, 0);
	double flops;

	switch (method) {
	case EAP_METHOD_EAP:
		F = 2, B = 1;
		break;
	case EAP_METHOD_RELP:
		F = 2, B = 1;
		bw = backward_flops(cfg, np, 1);
		break;
	case EAP_METHOD_CLEAN_CORRUPTED:
		F = 3, B = 2;
		break;
	case EAP_METHOD_EAP_IG:
		F = 1 + m, B = m;
		break;
	case EAP_METHOD_EAP_GP:
		F = m + 2, B = 2 * m;
		break;
	case EAP_METHOD_EAP_IG_ACT: {
		/* the input group runs everything; layer l's heads run from
		 * its MLP on, its MLP from layer l + 1 on (about half and
		 * none of layer l), forwards and backwards alike */
		double part = 1.0;

		for (double l = 0; l < L; l++)
			part += (L - l - 0.5) / L + (L - l - 1) / L;
		F = 2 + m * part, B = m * part;
		break;
	}
	case EAP_METHOD_EXACT:
		F = exact_forwards(cfg, g, mask ? mask : g->edge_mask, np,
				   p0 < np ? p0 : 0);
		break;
	}
	flops = F * fw + B * bw;
	c->forwards += (double)nb * F;
	c->backwards += (double)nb * B;
	c->flops += (double)nb * flops;
	c->examples += nb;
}
