/*
 * eap-bigbench - EAP-IG (or another gradient method, --method) on a big
 * model folder (bench/README.md, "Big shapes"): seconds per prompt
 * against EAP-IG's FLOP bound at the sgemm rate measured in the same run
 * on the model's MLP product, and peak RSS.
 * The model loads as every tool loads it (streamed above 2 GiB of
 * float32), and attribution contracts per layer as eap-score does when
 * all gradients would exceed 256 MiB.
 *
 *   eap-bigbench --model DIR [--prompts 20] [--batch 4] [--tokens 17]
 *                [--steps 5] [--threads T] [--contract auto|full|layer]
 *                [--method eap-ig]
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "eap/attrib.h"
#include "eap/graph.h"
#include "eap/linalg.h"
#include "eap/model.h"

#include "bench.h"

/*
 * FLOPs EAP-IG needs on nb rows of np tokens with m steps: one clean and
 * m interpolated forwards (k = 0 the corrupted run), m backwards to the
 * inputs (each q, k, v input of every query head its own d_head x d
 * product, the rest as the forward), and one dot product of n rows x d
 * per edge.
 */
static double ig_flops(const struct eap_config *c, const struct eap_graph *g,
		       size_t nb, size_t np, int m)
{
	double d = (double)c->d_model, dm = (double)c->d_mlp, dh = (double)c->d_head;
	double H = (double)c->n_head, Hkv = (double)c->n_kv_head, L = (double)c->n_layer;
	double rows = (double)(nb * np), P = (double)np;
	double mlp = 2.0 * d * dm * (c->arch.gated ? 3 : 2);
	double att = 4.0 * P * H * dh; /* q k^T and a v, per token */
	double fwd = rows * L * (2.0 * d * (H + 2 * Hkv) * dh + 2.0 * H * dh * d +
				 mlp + att) + (double)nb * 2.0 * d * (double)c->n_vocab;
	double bwd = rows * L * (2.0 * 3 * H * dh * d + 2.0 * H * dh * d + mlp +
				 2 * att) + (double)nb * 2.0 * d * (double)c->n_vocab;
	size_t edges = 0;

	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
		edges += g->edge_mask[i];
	return (1 + m) * fwd + m * bwd + 2.0 * (double)edges * rows * d;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompts", required_argument, NULL, 'N' },
		{ "batch", required_argument, NULL, 'b' },
		{ "tokens", required_argument, NULL, 'p' },
		{ "steps", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "contract", required_argument, NULL, 'c' },
		{ "method", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	size_t N = 20, B = 4, P = 17, steps = 5, threads = 0, V;
	struct eap_model m;
	struct eap_graph g;
	struct eap_run run;
	struct eap_score_acc acc;
	struct eap_err err = { 0 };
	struct rusage ru;
	int32_t *tok, *corr, *len, *ans, *foil;
	double rate, t0, t, fl;
	int o, contract = -1; /* -1 auto (eap-score's rule), 0 full, 1 layer */
	int method = EAP_METHOD_EAP_IG;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'm': dir = optarg; break;
		case 'N': N = strtoul(optarg, NULL, 10); break;
		case 'b': B = strtoul(optarg, NULL, 10); break;
		case 'p': P = strtoul(optarg, NULL, 10); break;
		case 's': steps = strtoul(optarg, NULL, 10); break;
		case 't': threads = strtoul(optarg, NULL, 10); break;
		case 'c': contract = !strcmp(optarg, "layer") ? 1 : !strcmp(optarg, "full") ? 0 : -1; break;
		case 'M': method = eap_method_parse(optarg); break;
		case 'h':
			printf("Usage: eap-bigbench --model DIR [--prompts N] [--batch B] [--tokens P] [--steps M] [--threads T] [--contract auto|full|layer] [--method METHOD]\n"
			       "EAP-IG (default) or another gradient method: seconds per prompt vs EAP-IG's FLOP bound, and peak RSS.\n");
			return 0;
		default: return 2;
		}
	}
	if (!dir || !N || !B || !P || !steps || N % B || method < 0 ||
	    method == EAP_METHOD_EXACT) {
		fprintf(stderr, "eap-bigbench: --model needed; --prompts a multiple of --batch; --method a gradient method\n");
		return 2;
	}
	if (threads)
		eap_blas_threads((int)threads);
	t0 = now();
	if (eap_model_load(&m, dir, &err) < 0 ||
	    eap_graph_init_layout(&g, m.cfg.n_layer, m.cfg.n_head,
				  m.cfg.arch.parallel, &err) < 0 ||
	    eap_run_init(&run, &m, &g, B, P, &err) < 0 ||
	    eap_score_acc_init(&acc, &g, &err) < 0 ||
	    ((contract < 0 ? g.n_bwd * B * P * m.cfg.d_model * sizeof(float) >
				     ((size_t)256 << 20) : contract) &&
	     eap_run_per_layer(&run, &err) < 0)) {
		fprintf(stderr, "eap-bigbench: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "loaded %s in %.1f s (%s, %s)\n", dir, now() - t0,
		eap_model_streamed(&m) ? "streamed" : "eager",
		run.per_layer ? "per-layer contraction" : "full contraction");
	/* the rate of the model's widest product at this batch's rows */
	rate = sgemm_rate(B * P, m.cfg.d_mlp, m.cfg.d_model, 3);
	V = m.cfg.n_vocab < 50257 ? m.cfg.n_vocab : 50257;
	tok = malloc(B * P * sizeof(*tok));
	corr = malloc(B * P * sizeof(*corr));
	len = malloc(B * sizeof(*len));
	ans = malloc(B * sizeof(*ans));
	foil = malloc(B * sizeof(*foil));
	t = now();
	for (size_t s0 = 0; s0 < N; s0 += B) {
		struct eap_batch bt = { B, P, 1, 1, tok, corr, len, ans, foil };

		for (size_t i = 0; i < B * P; i++) {
			tok[i] = (int32_t)(((s0 * P + i) * 2654435761u) % V);
			corr[i] = i % P == 3 ? (tok[i] + 1) % (int32_t)V : tok[i];
		}
		for (size_t b = 0; b < B; b++) {
			len[b] = (int32_t)P;
			ans[b] = (int32_t)((s0 + b) * 31 + 7) % (int32_t)V;
			foil[b] = (int32_t)((s0 + b) * 17 + 3) % (int32_t)V;
		}
		if (eap_run_score(&run, &bt, method, EAP_METRIC_LOGIT_DIFF,
				  (int)steps, NULL, NULL, &acc, &err) < 0) {
			fprintf(stderr, "eap-bigbench: %s\n", err.msg);
			return 1;
		}
		fprintf(stderr, "  %zu/%zu prompts, %.1f s\n", s0 + B, N, now() - t);
	}
	t = now() - t;
	fl = ig_flops(&m.cfg, &g, N, P, (int)steps);
	getrusage(RUSAGE_SELF, &ru);
	printf("%s m=%zu %zux%zu L%zu H%zu/%zu d%zu: %.2f s/prompt, bound %.2f s/prompt (%.0f GFLOP/prompt at %.1f GFLOP/s sgemm %zux%zux%zu), ratio %.2f; peak RSS %.2f GB; %s, %s\n",
	       eap_method_name(method), steps, N, P, m.cfg.n_layer, m.cfg.n_head, m.cfg.n_kv_head,
	       m.cfg.d_model, t / (double)N, fl / (rate * 1e9) / (double)N,
	       fl / 1e9 / (double)N, rate, B * P, m.cfg.d_mlp, m.cfg.d_model,
	       t / (fl / (rate * 1e9)), (double)ru.ru_maxrss / 1048576.0,
	       eap_model_streamed(&m) ? "streamed" : "eager",
	       run.per_layer ? "per-layer contraction" : "full contraction");
	free(tok);
	free(corr);
	free(len);
	free(ans);
	free(foil);
	eap_score_acc_release(&acc);
	eap_run_release(&run);
	eap_graph_release(&g);
	eap_model_release(&m);
	return 0;
}
