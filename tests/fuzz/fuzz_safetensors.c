/*
 * fuzz_safetensors.c - the safetensors reader (eap_safetensors_open and
 * the conversion of every tensor).  The input is the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eap/safetensors.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	char path[4096];
	int rc;

	fuzz_write("model.safetensors", data, size, path, sizeof(path));
	rc = eap_safetensors_open(&st, path, &err);
	fuzz_check_rc(rc, &err);
	for (size_t i = 0; !rc && i < st.n_tensors; i++) {
		const struct eap_st_tensor *t = &st.tensors[i];
		size_t w = t->dtype == EAP_U8 ? 1 : t->dtype == EAP_F16 || t->dtype == EAP_BF16 ? 2 : 4;
		void *buf;

		FUZZ_CHECK(t->begin <= t->end && t->end - t->begin == t->numel * w,
			   "tensor %s: %zu..%zu for %zu elements", t->name,
			   t->begin, t->end, t->numel);
		FUZZ_CHECK(eap_safetensors_find(&st, t->name) == t,
			   "find(%s) is another tensor", t->name);
		if (!(buf = malloc(t->numel * 4 + 1)))
			continue;
		memset(&err, 0, sizeof(err));
		if (t->dtype == EAP_I32)
			rc = eap_safetensors_read_i32(&st, t, buf, t->numel, &err);
		else if (t->dtype == EAP_U8)
			rc = eap_safetensors_read_u8(&st, t, buf, t->numel, &err);
		else
			rc = eap_safetensors_read_f32(&st, t, buf, t->numel, &err);
		fuzz_check_rc(rc, &err);
		/* the wrong reader must refuse, not convert */
		memset(&err, 0, sizeof(err));
		int r2 = t->dtype == EAP_I32
				 ? eap_safetensors_read_u8(&st, t, buf, t->numel, &err)
				 : eap_safetensors_read_i32(&st, t, buf, t->numel, &err);
		FUZZ_CHECK(r2 < 0, "tensor %s read with the wrong dtype", t->name);
		fuzz_check_rc(r2, &err);
		free(buf);
		rc = 0;
	}
	eap_safetensors_release(&st);
	return 0;
}
