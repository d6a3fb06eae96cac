/*
 * fuzz_config.c - config.json (eap_config_load, then eap_model_load on a
 * folder with the fuzzed config beside the tiny-word fixture's weights,
 * so that configs that disagree with the tensors are exercised too).
 * The input is the config file.  Run from the repository root.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/model.h"
#include "fuzz_util.h"

#define WEIGHTS "tests/fixtures/models/tiny-word/model.safetensors"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int linked;
	struct eap_config cfg;
	struct eap_model m = { 0 };
	struct eap_err err = { 0 };
	char path[4096], dir[4096];
	int rc;

	if (!linked) {
		char abs[PATH_MAX];

		if (!realpath(WEIGHTS, abs) ||
		    symlink(abs, fuzz_path(path, sizeof(path), "model.safetensors"))) {
			perror(WEIGHTS);
			abort();
		}
		linked = 1;
	}
	snprintf(dir, sizeof(dir), "%s", fuzz_dir());
	fuzz_write("config.json", data, size, path, sizeof(path));
	memset(&cfg, 0xa5, sizeof(cfg));
	rc = eap_config_load(&cfg, path, &err);
	fuzz_check_rc(rc, &err);
	if (!rc) {
		FUZZ_CHECK(cfg.n_layer > 0 && cfg.n_head > 0 && cfg.d_model > 0 &&
				   cfg.d_model % cfg.n_head == 0 &&
				   cfg.d_head * cfg.n_head == cfg.d_model &&
				   cfg.n_ctx > 0 && cfg.n_vocab > 0 && cfg.d_mlp > 0,
			   "accepted config %zu layers %zu heads d %zu ctx %zu V %zu mlp %zu",
			   cfg.n_layer, cfg.n_head, cfg.d_model, cfg.n_ctx,
			   cfg.n_vocab, cfg.d_mlp);
		FUZZ_CHECK(cfg.ln_eps > 0 && cfg.ln_eps < 1e30f, "eps %g", cfg.ln_eps);
		memset(&err, 0, sizeof(err));
		rc = eap_model_load(&m, dir, &err);
		fuzz_check_rc(rc, &err);
		eap_model_release(&m);
	}
	return 0;
}
