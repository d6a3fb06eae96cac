/*
 * graph_json.c - see include/eap/graph_json.h.
 */
#include "eap/graph_json.h"

#include <cJSON.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- names ----------------------------------------------------------------- */

/* A decimal number without sign or spaces at *p; advances *p. */
static int parse_uint(const char **p, size_t *out)
{
	size_t v = 0;

	if (**p < '0' || **p > '9')
		return -1;
	while (**p >= '0' && **p <= '9') {
		if (v > 100000000)
			return -1;
		v = v * 10 + (size_t)(*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

/*
 * Index of a node name, forward (is_fwd) or backward, or -1.  The name is
 * parsed, then compared with the canonical spelling, so "a01.h1" is
 * unknown just as it is to the reference.
 */
static long node_index(const struct eap_graph *g, const char *s, int is_fwd)
{
	const char *p = s;
	size_t l, h, idx;

	if (is_fwd && !strcmp(s, "input"))
		return 0;
	if (!is_fwd && !strcmp(s, "logits"))
		return (long)eap_bwd_logits(g);
	if (*p == 'm') {
		p++;
		if (parse_uint(&p, &l) || *p || l >= g->n_layer)
			return -1;
		idx = is_fwd ? eap_fwd_mlp(g, l) : eap_bwd_index(g, l, EAP_BWD_MLP, 0);
	} else if (*p == 'a') {
		p++;
		if (parse_uint(&p, &l) || *p++ != '.' || *p++ != 'h' ||
		    parse_uint(&p, &h) || l >= g->n_layer || h >= g->n_head)
			return -1;
		if (is_fwd) {
			if (*p)
				return -1;
			idx = eap_fwd_head(g, l, h);
		} else {
			int k = p[0] != '<' ? -1 : p[1] == 'q' ? EAP_BWD_Q
				: p[1] == 'k' ? EAP_BWD_K : p[1] == 'v' ? EAP_BWD_V : -1;

			if (k < 0 || p[2] != '>' || p[3])
				return -1;
			idx = eap_bwd_index(g, l, (enum eap_bwd_kind)k, h);
		}
	} else {
		return -1;
	}
	return strcmp(is_fwd ? g->fwd_names[idx] : g->bwd_names[idx], s)
		       ? -1 : (long)idx;
}

/* ---- reading --------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len, struct eap_err *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		eap_err_set(err, EAP_EIO, "%s: cannot open: %s", path,
			    strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 1 << 16);
			if (!nb) {
				eap_err_set(err, EAP_ENOMEM, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		size_t k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		eap_err_set(err, EAP_EIO, "%s: read failed: %s", path,
			    strerror(errno));
		goto fail;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

/* Parse the whole text or fail with line and column of the problem. */
static cJSON *parse(const char *text, size_t len, const char *path,
		    struct eap_err *err)
{
	const char *end = NULL, *at;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	size_t line = 1, col = 1;

	if (root) {
		while (end < text + len && strchr(" \t\r\n", *end) && *end)
			end++;
		if (end == text + len)
			return root;
		cJSON_Delete(root);
	}
	at = end && end >= text && end <= text + len ? end : text + len;
	for (const char *p = text; p < at; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	eap_err_set(err, EAP_EFORMAT, root ? "%s:%zu:%zu: trailing data after "
		    "the JSON value" : "%s:%zu:%zu: malformed JSON", path, line,
		    col);
	return NULL;
}

/* A positive whole number cfg[key]; *out stays 0 when optional and absent. */
static int cfg_uint(const cJSON *cfg, const char *key, int required,
		    size_t *out, const char *path, struct eap_err *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(cfg, key);
	double v;

	*out = 0;
	if (!j && !required)
		return 0;
	if (!j)
		return eap_err_set(err, EAP_EFORMAT, "%s: cfg has no \"%s\"", path,
				   key);
	v = cJSON_IsNumber(j) ? j->valuedouble : -1;
	if (!(v >= 1 && v <= 1e9 && v == floor(v)))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: cfg \"%s\" is not a positive whole number",
				   path, key);
	*out = (size_t)v;
	return 0;
}

static int read_cfg(struct eap_graph_json *j, const cJSON *root,
		    size_t n_layer, size_t n_head, const char *path,
		    struct eap_err *err)
{
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "cfg");
	const cJSON *par;
	size_t L, H;
	int rc;

	if (!cJSON_IsObject(cfg))
		return eap_err_set(err, EAP_EFORMAT, "%s: no \"cfg\" object", path);
	if ((rc = cfg_uint(cfg, "n_layers", 1, &L, path, err)) ||
	    (rc = cfg_uint(cfg, "n_heads", 1, &H, path, err)) ||
	    (rc = cfg_uint(cfg, "d_model", 0, &j->d_model, path, err)))
		return rc;
	par = cJSON_GetObjectItemCaseSensitive(cfg, "parallel_attn_mlp");
	if (par && !cJSON_IsBool(par))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: cfg \"parallel_attn_mlp\" is not a bool", path);
	if (cJSON_IsTrue(par))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: cfg \"parallel_attn_mlp\" is true, but only "
				   "the sequential graph of SPEC §5 is supported", path);
	if ((n_layer || n_head) && (L != n_layer || H != n_head))
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: cfg is %zu x %zu (n_layers x n_heads), "
				   "expected %zu x %zu", path, L, H, n_layer, n_head);
	if ((rc = eap_graph_init(&j->graph, L, H, err)))
		return eap_err_prefix(err, path);
	return 0;
}

/* in_graph of a node entry: {"in_graph": bool, ...} or a bare bool. */
static int node_flag(const cJSON *item, int *flag)
{
	const cJSON *b = cJSON_IsObject(item)
		? cJSON_GetObjectItemCaseSensitive(item, "in_graph") : item;

	if (!cJSON_IsBool(b))
		return -1;
	*flag = cJSON_IsTrue(b);
	return 0;
}

static int read_nodes(struct eap_graph_json *j, const cJSON *root,
		      const char *path, struct eap_err *err)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(root, "nodes");
	const cJSON *it;
	uint8_t *seen = calloc(j->graph.n_fwd + 1, 1); /* + logits */
	int rc = 0;

	if (!seen)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	if (!cJSON_IsObject(nodes)) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: no \"nodes\" object", path);
		goto out;
	}
	cJSON_ArrayForEach(it, nodes) {
		long u = strcmp(it->string, "logits")
			? node_index(&j->graph, it->string, 1)
			: (long)j->graph.n_fwd;
		int flag;

		if (u < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: unknown node \"%s\" in a %zu x %zu graph",
					 path, it->string, j->graph.n_layer,
					 j->graph.n_head);
			goto out;
		}
		if (seen[u]++) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: node \"%s\" appears twice", path,
					 it->string);
			goto out;
		}
		if (node_flag(it, &flag)) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: node \"%s\" has no bool \"in_graph\"",
					 path, it->string);
			goto out;
		}
		if ((size_t)u < j->graph.n_fwd)
			j->nodes_in_graph[u] = (uint8_t)flag;
	}
out:
	free(seen);
	return rc;
}

/* Split "u->v" and look both up; the flat edge index or an error. */
static int edge_index(const struct eap_graph *g, const char *name,
		      size_t *idx, const char *path, struct eap_err *err)
{
	const char *arrow = strstr(name, "->");
	char src[128];
	long u, v;

	if (!arrow)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: edge name \"%s\" has no \"->\"", path, name);
	if ((size_t)(arrow - name) >= sizeof(src) ||
	    (memcpy(src, name, (size_t)(arrow - name)),
	     src[arrow - name] = '\0', (u = node_index(g, src, 1)) < 0))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: unknown node \"%.*s\" in edge \"%s\"", path,
				   (int)(arrow - name), name, name);
	if ((v = node_index(g, arrow + 2, 0)) < 0)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: unknown node \"%s\" in edge \"%s\"", path,
				   arrow + 2, name);
	*idx = (size_t)u * g->n_bwd + (size_t)v;
	if (!g->edge_mask[*idx])
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: \"%s\" is not an edge of the %zu x %zu "
				   "graph (SPEC §5)", path, name, g->n_layer,
				   g->n_head);
	return 0;
}

static int read_edges(struct eap_graph_json *j, const cJSON *root,
		      const char *path, struct eap_err *err)
{
	const struct eap_graph *g = &j->graph;
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(root, "edges");
	const cJSON *it;
	uint8_t *seen = calloc(g->n_fwd * g->n_bwd, 1);
	size_t count = 0;
	char name[128];
	int rc = 0;

	if (!seen)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	if (!cJSON_IsObject(edges)) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: no \"edges\" object", path);
		goto out;
	}
	cJSON_ArrayForEach(it, edges) {
		const cJSON *s, *b;
		size_t i = 0;

		if ((rc = edge_index(g, it->string, &i, path, err)))
			goto out;
		if (seen[i]++) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: edge \"%s\" appears twice", path,
					 it->string);
			goto out;
		}
		s = cJSON_GetObjectItemCaseSensitive(it, "score");
		b = cJSON_GetObjectItemCaseSensitive(it, "in_graph");
		if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble) ||
		    fabs(s->valuedouble) > FLT_MAX) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: edge \"%s\" has no finite float32 "
					 "\"score\"", path, it->string);
			goto out;
		}
		if (!cJSON_IsBool(b)) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: edge \"%s\" has no bool \"in_graph\"",
					 path, it->string);
			goto out;
		}
		/* the reference's sign is the negation of ours (SPEC §6);
		 * 0 stays +0, not -0 */
		j->scores[i] = s->valuedouble == 0 ? 0.0f
						   : -(float)s->valuedouble;
		j->in_graph[i] = (uint8_t)cJSON_IsTrue(b);
		j->n_in_graph += j->in_graph[i];
		count++;
	}
	if (count != g->n_edges)
		for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
			if (g->edge_mask[i] && !seen[i]) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s: %zu of the %zu edges are missing, "
						 "the first is \"%s\"", path,
						 g->n_edges - count, g->n_edges,
						 eap_graph_edge_name(g, i / g->n_bwd,
								     i % g->n_bwd,
								     name, sizeof(name)));
				break;
			}
out:
	free(seen);
	return rc;
}

int eap_graph_json_read(struct eap_graph_json *j, const char *path,
			size_t n_layer, size_t n_head, struct eap_err *err)
{
	size_t len = 0;
	char *text;
	cJSON *root = NULL;
	int rc;

	memset(j, 0, sizeof(*j));
	if (!(text = slurp(path, &len, err)))
		return err ? err->code : EAP_EIO;
	root = parse(text, len, path, err);
	free(text);
	if (!root)
		return EAP_EFORMAT;
	if (!cJSON_IsObject(root)) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: not a JSON object", path);
		goto fail;
	}
	if ((rc = read_cfg(j, root, n_layer, n_head, path, err)))
		goto fail;
	j->scores = calloc(j->graph.n_fwd * j->graph.n_bwd, sizeof(float));
	j->in_graph = calloc(j->graph.n_fwd * j->graph.n_bwd, 1);
	j->nodes_in_graph = calloc(j->graph.n_fwd, 1);
	if (!j->scores || !j->in_graph || !j->nodes_in_graph) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = read_nodes(j, root, path, err)) ||
	    (rc = read_edges(j, root, path, err)))
		goto fail;
	cJSON_Delete(root);
	return 0;
fail:
	cJSON_Delete(root);
	eap_graph_json_release(j);
	return rc;
}

void eap_graph_json_release(struct eap_graph_json *j)
{
	eap_graph_release(&j->graph);
	free(j->scores);
	free(j->in_graph);
	free(j->nodes_in_graph);
	memset(j, 0, sizeof(*j));
}

/* ---- writing --------------------------------------------------------------- */

static void put_edge(FILE *f, const struct eap_graph *g, const float *scores,
		     const uint8_t *in_graph, size_t u, size_t v, int *first)
{
	size_t i = u * g->n_bwd + v;
	float ref = -scores[i];

	if (ref == 0.0f)
		ref = 0.0f; /* no "-0" */
	fprintf(f, "%s\"%s->%s\": {\"score\": %.9g, \"in_graph\": %s}",
		*first ? "" : ", ", g->fwd_names[u], g->bwd_names[v],
		(double)ref, in_graph[i] ? "true" : "false");
	*first = 0;
}

/* A score in the reference's sign, never "-0". */
static double ref_sign(float s)
{
	float r = -s;

	return r == 0.0f ? 0.0 : (double)r;
}

static void write_json(FILE *f, const struct eap_graph *g, size_t d_model,
		       const float *scores, const uint8_t *in_graph,
		       const uint8_t *nodes, const float *node,
		       const float *neuron)
{
	size_t H = g->n_head;
	int first = 1;

	fprintf(f, "{\"cfg\": {\"n_layers\": %zu, \"n_heads\": %zu, "
		"\"parallel_attn_mlp\": false, \"d_model\": %zu}, \"nodes\": {",
		g->n_layer, H, d_model);
	for (size_t u = 0; u < g->n_fwd; u++) {
		fprintf(f, "\"%s\": {\"in_graph\": %s", g->fwd_names[u],
			nodes[u] ? "true" : "false");
		if (node)
			fprintf(f, ", \"score\": %.9g", ref_sign(node[u]));
		if (neuron) {
			fputs(", \"neurons\": [", f);
			for (size_t j = 0; j < d_model; j++)
				fprintf(f, "%s%s", j ? ", " : "",
					nodes[u] ? "true" : "false");
			fputs("], \"neurons_scores\": [", f);
			for (size_t j = 0; j < d_model; j++)
				fprintf(f, "%s%.9g", j ? ", " : "",
					ref_sign(neuron[u * d_model + j]));
			fputc(']', f);
		}
		fputs("}, ", f);
	}
	/* the reference's logits node is always in the graph */
	fputs("\"logits\": {\"in_graph\": true}}, \"edges\": {", f);
	/* Graph.from_model order: the residual stream before layer l is
	 * forward nodes 0 .. 1 + l(H+1) - 1 */
	for (size_t l = 0; l < g->n_layer; l++) {
		size_t before = 1 + l * (H + 1);

		for (size_t u = 0; u < before; u++)
			for (size_t h = 0; h < H; h++)
				for (int k = EAP_BWD_Q; k <= EAP_BWD_V; k++)
					put_edge(f, g, scores, in_graph, u,
						 eap_bwd_index(g, l, (enum eap_bwd_kind)k, h),
						 &first);
		for (size_t u = 0; u < before + H; u++)
			put_edge(f, g, scores, in_graph, u,
				 eap_bwd_index(g, l, EAP_BWD_MLP, 0), &first);
	}
	for (size_t u = 0; u < g->n_fwd; u++)
		put_edge(f, g, scores, in_graph, u, eap_bwd_logits(g), &first);
	fputs("}}", f);
}

int eap_graph_json_write(const char *path, const struct eap_graph *g,
			 size_t d_model, const float *scores,
			 const uint8_t *in_graph, const uint8_t *nodes_in_graph,
			 struct eap_err *err)
{
	return eap_graph_json_write_nodes(path, g, d_model, scores, in_graph,
					  nodes_in_graph, NULL, NULL, err);
}

int eap_graph_json_write_nodes(const char *path, const struct eap_graph *g,
			       size_t d_model, const float *scores,
			       const uint8_t *in_graph,
			       const uint8_t *nodes_in_graph, const float *node,
			       const float *neuron, struct eap_err *err)
{
	size_t len = strlen(path);
	char *tmp, name[128];
	FILE *f;
	int rc = 0;

	if (!d_model)
		return eap_err_set(err, EAP_EINVAL,
				   "%s: d_model is unknown, and the reference's "
				   "from_json needs it", path);
	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++) {
		if (g->edge_mask[i] && !isfinite(scores[i]))
			return eap_err_set(err, EAP_EINVAL,
					   "%s: score of edge %s is not finite", path,
					   eap_graph_edge_name(g, i / g->n_bwd,
							       i % g->n_bwd, name,
							       sizeof(name)));
		if (in_graph[i] > 1 || (in_graph[i] && !g->edge_mask[i]))
			return eap_err_set(err, EAP_EINVAL,
					   "%s: in_graph is %d at %s, expected 0 or 1 "
					   "on edges only", path, in_graph[i],
					   eap_graph_edge_name(g, i / g->n_bwd,
							       i % g->n_bwd, name,
							       sizeof(name)));
	}
	for (size_t i = 0; i < g->n_fwd * (neuron ? d_model : 0); i++)
		if (!isfinite(neuron[i]))
			return eap_err_set(err, EAP_EINVAL,
					   "%s: neuron score %zu of node %s is not finite",
					   path, i % d_model, g->fwd_names[i / d_model]);
	for (size_t u = 0; node && u < g->n_fwd; u++)
		if (!isfinite(node[u]))
			return eap_err_set(err, EAP_EINVAL,
					   "%s: score of node %s is not finite", path,
					   g->fwd_names[u]);
	if (!(tmp = malloc(len + 5)))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	memcpy(tmp, path, len);
	memcpy(tmp + len, ".tmp", 5);
	if (!(f = fopen(tmp, "w"))) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot create: %s", tmp,
				 strerror(errno));
		goto out;
	}
	write_json(f, g, d_model, scores, in_graph, nodes_in_graph, node, neuron);
	fputc('\n', f);
	if (ferror(f) | fclose(f)) {
		rc = eap_err_set(err, EAP_EIO, "%s: write failed: %s", tmp,
				 strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path)) {
		rc = eap_err_set(err, EAP_EIO, "%s: cannot rename to %s: %s", tmp,
				 path, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	return rc;
}
