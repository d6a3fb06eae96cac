/*
 * eap-genmodel - write a model folder of a given shape with random weights
 * (config.json, model-0000k-of-0000n.safetensors shards and their
 * model.safetensors.index.json), for memory and speed runs at shapes too
 * large to hold: every tensor is generated and converted in chunks, so
 * writing a 16 GB BF16 model takes a few MB.  Weights are uniform in
 * +-scale, norm weights 1, biases 0 (the values only need to be finite).
 *
 *   eap-genmodel --family llama --layers 32 --heads 32 --kv-heads 8 \
 *       --d 4096 --mlp 14336 --vocab 128256 --dtype bf16 --shards 4 -o DIR
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eap/model.h"
#include "eap/safetensors.h"

struct gen {
	uint64_t seed;  /* of this tensor */
	float scale;    /* uniform in +-scale; 0: the constant value */
	float value;
};

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Element k's value depends only on the seed and k. */
static void gen_fill(void *ctx, float *dst, size_t first, size_t n)
{
	const struct gen *g = ctx;

	for (size_t j = 0; j < n; j++) {
		uint64_t r = mix(g->seed ^ (first + j));

		dst[j] = g->scale ? g->scale * (2.0f * (float)(r >> 40) /
						       (float)(1 << 24) - 1.0f)
				  : g->value;
	}
}

static int usage(FILE *f, int rc)
{
	fprintf(f,
		"Usage: eap-genmodel --layers L --heads H --d D -o DIR [options]\n"
		"Write a random model of the given shape (sharded safetensors).\n"
		"  --family F     gpt2 (default), llama, gpt_neox\n"
		"  --layers L     layers\n"
		"  --heads H      query heads\n"
		"  --kv-heads K   key/value heads (default H)\n"
		"  --d D          model width\n"
		"  --mlp M        MLP width (default 4 D)\n"
		"  --vocab V      vocabulary (default 50257)\n"
		"  --ctx C        positions (default 1024)\n"
		"  --tied         tie the unembedding to the embedding (gpt2 always)\n"
		"  --dtype T      f32 (default), bf16, f16\n"
		"  --shards N     files (default 1)\n"
		"  --scale S      weights uniform in +-S (default 0.05)\n"
		"  --seed N       (default 1)\n"
		"  -o DIR         output folder (created)\n");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "family", required_argument, NULL, 'f' },
		{ "layers", required_argument, NULL, 'L' },
		{ "heads", required_argument, NULL, 'H' },
		{ "kv-heads", required_argument, NULL, 'K' },
		{ "d", required_argument, NULL, 'd' },
		{ "mlp", required_argument, NULL, 'm' },
		{ "vocab", required_argument, NULL, 'V' },
		{ "ctx", required_argument, NULL, 'c' },
		{ "tied", no_argument, NULL, 't' },
		{ "dtype", required_argument, NULL, 'T' },
		{ "shards", required_argument, NULL, 'S' },
		{ "scale", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *family = "gpt2", *out = NULL, *dtype = "f32";
	size_t L = 0, H = 0, K = 0, d = 0, dm = 0, V = 50257, ctx = 1024;
	size_t shards = 1, n, total, per, i0;
	unsigned long long seed = 1;
	float scale = 0.05f;
	int tied = 0, o, rc = 0;
	enum eap_dtype dt;
	struct eap_config c;
	struct eap_err err = { 0 };
	struct eap_param *table;
	struct eap_st_out *t;
	struct gen *g;
	char path[4300];
	FILE *idx;

	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'f': family = optarg; break;
		case 'L': L = strtoul(optarg, NULL, 10); break;
		case 'H': H = strtoul(optarg, NULL, 10); break;
		case 'K': K = strtoul(optarg, NULL, 10); break;
		case 'd': d = strtoul(optarg, NULL, 10); break;
		case 'm': dm = strtoul(optarg, NULL, 10); break;
		case 'V': V = strtoul(optarg, NULL, 10); break;
		case 'c': ctx = strtoul(optarg, NULL, 10); break;
		case 't': tied = 1; break;
		case 'T': dtype = optarg; break;
		case 'S': shards = strtoul(optarg, NULL, 10); break;
		case 'x': scale = strtof(optarg, NULL); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'h': return usage(stdout, 0);
		default: return usage(stderr, 2);
		}
	}
	if (!L || !H || !d || !out || !shards || !V || !ctx || d % H)
		return usage(stderr, 2);
	dt = !strcmp(dtype, "bf16") ? EAP_BF16 : !strcmp(dtype, "f16") ? EAP_F16
									 : EAP_F32;
	if (dt == EAP_F32 && strcmp(dtype, "f32"))
		return usage(stderr, 2);
	if (eap_config_build(&c, family, L, H, K ? K : H, d, dm ? dm : 4 * d,
			     ctx, V, tied || !strcmp(family, "gpt2"), NULL, &err)) {
		fprintf(stderr, "eap-genmodel: %s\n", err.msg);
		return 1;
	}
	n = eap_model_params(&c, NULL, 0, &total);
	table = calloc(n, sizeof(*table));
	t = calloc(n, sizeof(*t));
	g = calloc(n, sizeof(*g));
	if (!table || !t || !g || (mkdir(out, 0777) < 0 && errno != EEXIST)) {
		fprintf(stderr, "eap-genmodel: %s: cannot create\n", out);
		return 1;
	}
	eap_model_params(&c, table, n, NULL);
	for (size_t i = 0; i < n; i++) {
		const char *nm = table[i].name;
		int norm = strstr(nm, "norm") || strstr(nm, "ln_") ||
			   strstr(nm, "ln_f") || !strncmp(nm, "ln", 2) ||
			   strstr(nm, ".ln_");

		t[i].name = nm;
		t[i].ndim = table[i].ndim;
		t[i].shape[0] = table[i].shape[0];
		t[i].shape[1] = table[i].shape[1];
		t[i].dtype = dt;
		t[i].fill = gen_fill;
		t[i].ctx = &g[i];
		g[i].seed = mix(seed * 1000003ULL + i);
		if (table[i].ndim == 1) { /* norm weights 1, biases 0 */
			g[i].scale = 0.0f;
			g[i].value = norm && strstr(nm, "weight") ? 1.0f : 0.0f;
		} else {
			g[i].scale = scale;
		}
	}
	/* shards of about equal size, tensors in table order */
	snprintf(path, sizeof(path), "%s/model.safetensors.index.json", out);
	idx = fopen(path, "w");
	if (!idx) {
		fprintf(stderr, "eap-genmodel: %s: cannot write\n", path);
		return 1;
	}
	fprintf(idx, "{\"metadata\": {\"total_size\": %zu}, \"weight_map\": {",
		total * (dt == EAP_F32 ? 4 : 2));
	per = (total + shards - 1) / shards;
	i0 = 0;
	for (size_t k = 0; k < shards && i0 < n && !rc; k++) {
		size_t i1 = i0, sum = 0;
		char name[64];

		while (i1 < n && (sum < per || i1 == i0) &&
		       (k + 1 < shards || i1 < n))
			sum += table[i1++].numel;
		if (k + 1 == shards)
			i1 = n;
		snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors",
			 k + 1, shards);
		for (size_t i = i0; i < i1; i++)
			fprintf(idx, "%s\"%s\": \"%s\"", i ? ", " : "",
				table[i].name, name);
		snprintf(path, sizeof(path), "%s/%s", out, name);
		rc = eap_safetensors_write(path, t + i0, i1 - i0, &err);
		i0 = i1;
	}
	fprintf(idx, "}}\n");
	if (fclose(idx) || rc) {
		fprintf(stderr, "eap-genmodel: %s\n", rc ? err.msg : "index: write failed");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/config.json", out);
	if (eap_config_save(&c, path, &err)) {
		fprintf(stderr, "eap-genmodel: %s\n", err.msg);
		return 1;
	}
	printf("%s: %s, %zu x %zu (%zu kv), d %zu, mlp %zu, V %zu: %zu parameters, %s\n",
	       out, family, L, H, c.n_kv_head, d, c.d_mlp, V, total, dtype);
	free(table);
	free(t);
	free(g);
	return 0;
}
