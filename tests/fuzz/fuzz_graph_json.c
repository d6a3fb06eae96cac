/*
 * fuzz_graph_json.c - the reference library's JSON graphs
 * (eap_graph_json_read with any cfg, as eap-prune --from-json reads them);
 * an accepted graph is written back and re-read, and must come back the
 * same.  The input is the JSON file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eap/graph_json.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eap_graph_json j = { 0 }, k = { 0 };
	struct eap_err err = { 0 };
	char path[4096], out[4096];
	int rc;

	fuzz_write("graph.json", data, size, path, sizeof(path));
	rc = eap_graph_json_read(&j, path, 0, 0, &err);
	fuzz_check_rc(rc, &err);
	if (rc || !j.d_model)
		goto done;
	{
		const struct eap_graph *g = &j.graph;
		size_t cells = g->n_fwd * g->n_bwd, n = 0;

		for (size_t c = 0; c < cells; c++) {
			FUZZ_CHECK(g->edge_mask[c] || (!j.scores[c] && !j.in_graph[c]),
				   "score or flag off the graph at %zu", c);
			n += j.in_graph[c] != 0;
		}
		FUZZ_CHECK(n == j.n_in_graph, "n_in_graph %zu, counted %zu",
			   j.n_in_graph, n);
		fuzz_path(out, sizeof(out), "back.json");
		rc = eap_graph_json_write(out, g, j.d_model, j.scores, j.in_graph,
					  j.nodes_in_graph, &err);
		fuzz_check_rc(rc, &err);
		FUZZ_CHECK(!rc, "cannot write back an accepted graph: %s", err.msg);
		rc = eap_graph_json_read(&k, out, g->n_layer, g->n_head, &err);
		FUZZ_CHECK(!rc, "cannot re-read a written graph: %s", err.msg);
		for (size_t c = 0; c < cells; c++)
			FUZZ_CHECK(j.scores[c] == k.scores[c], "score %zu: %.9g became %.9g",
				   c, j.scores[c], k.scores[c]);
		FUZZ_CHECK(!memcmp(j.in_graph, k.in_graph, cells) &&
				   !memcmp(j.nodes_in_graph, k.nodes_in_graph, g->n_fwd),
			   "graph changed on a round trip");
	}
done:
	eap_graph_json_release(&j);
	eap_graph_json_release(&k);
	return 0;
}
