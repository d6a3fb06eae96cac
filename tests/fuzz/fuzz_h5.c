/*
 * fuzz_h5.c - our HDF5 inputs: eap_scores_read (eap-prune), eap_acts_open
 * and eap_acts_read (eap-score --acts), eap_circuits_read (eap-eval).
 *
 * Two kinds of input.  Raw: the bytes are the file (seeds are real
 * artifacts; HDF5's checksums make most mutations fail early, which is
 * itself worth checking).  Built: an input starting with 'S' is a program
 * that writes a well-formed HDF5 file with the HDF5 API, so that the
 * readers meet wrong dataset shapes, types, missing or mistyped
 * attributes and inconsistent values, which is where our own checks are.
 * Program: after 'S', operations of bytes
 *   KIND NAME TYPE RANK DIM... [WIDTH] FLAGS LEN BYTE*LEN
 * KIND even: a dataset, NAME indexes ds_names; odd: a root attribute,
 * NAME indexes attr_names.  TYPE indexes the types below (WIDTH follows
 * for fixed strings), RANK 0..4 (0 = scalar), each DIM 0..255, FLAGS bit
 * 0 = chunked and deflated.  The element bytes repeat BYTE*LEN (zeros if
 * LEN is 0).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "eap/h5io.h"
#include "fuzz_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_LSAN 1
#endif
#endif
#ifdef FUZZ_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static const char *const ds_names[] = {
	"/scores", "/edge_mask", "/forward_nodes", "/backward_nodes",
	"/in_graph", "/nodes_in_graph", "/edges_requested", "/edges",
	"/tokens/clean", "/tokens/corrupted", "/lengths", "/acts/clean",
	"/acts/corrupted", "/metric/clean", "/metric/corrupted", "/scored",
};

static const char *const attr_names[] = {
	"tool", "version", "model_path", "model_sha256", "pairs_path",
	"pairs_sha256", "method", "metric", "steps", "n_examples", "created",
	"n_layer", "n_head", "n_edges_requested", "n_edges", "selection",
	"description",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

struct rd {
	const uint8_t *d;
	size_t n, i;
};

static unsigned next(struct rd *r)
{
	return r->i < r->n ? r->d[r->i++] : 0;
}

/* Type number t (width w for fixed strings); *vlen for variable strings. */
static hid_t make_type(unsigned t, unsigned w, int *vlen)
{
	hid_t s;

	*vlen = 0;
	switch (t % 9) {
	case 0: return H5Tcopy(H5T_STD_U8LE);
	case 1: return H5Tcopy(H5T_STD_I8LE);
	case 2: return H5Tcopy(H5T_STD_I32LE);
	case 3: return H5Tcopy(H5T_STD_U32LE);
	case 4: return H5Tcopy(H5T_STD_I64LE);
	case 5: return H5Tcopy(H5T_IEEE_F32LE);
	case 6: return H5Tcopy(H5T_IEEE_F64LE);
	case 7:
		s = H5Tcopy(H5T_C_S1);
		H5Tset_size(s, w);
		H5Tset_strpad(s, H5T_STR_NULLTERM);
		return s;
	default:
		s = H5Tcopy(H5T_C_S1);
		H5Tset_size(s, H5T_VARIABLE);
		*vlen = 1;
		return s;
	}
}

static void build(const uint8_t *data, size_t size, const char *path)
{
	struct rd r = { data, size, 1 };
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), lcpl = H5Pcreate(H5P_LINK_CREATE);
	hid_t f;

	H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
	H5Pset_create_intermediate_group(lcpl, 1);
	f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	for (int op = 0; f >= 0 && op < 48 && r.i < r.n; op++) {
		unsigned kind = next(&r), name = next(&r), t = next(&r);
		unsigned rank = next(&r) % 5, w = 1, flags, len;
		hsize_t dims[4], chunk[4];
		size_t count = 1, esz;
		const uint8_t *bytes;
		uint8_t *buf;
		char **ptrs = NULL;
		int vlen;
		hid_t ty, sp, dcpl = H5P_DEFAULT, obj;

		for (unsigned k = 0; k < rank; k++) {
			dims[k] = next(&r);
			count *= dims[k];
			chunk[k] = dims[k] ? dims[k] : 1;
		}
		if (t % 9 == 7)
			w = next(&r) % 40 + 1;
		flags = next(&r);
		len = next(&r);
		bytes = r.d + r.i;
		if (len > r.n - r.i)
			len = (unsigned)(r.n - r.i);
		r.i += len;
		if (count > (1u << 16))
			continue;
		ty = make_type(t, w, &vlen);
		esz = vlen ? 9 : H5Tget_size(ty);
		buf = calloc(count ? count : 1, esz + 1);
		for (size_t b = 0; len && b < count * esz; b++)
			buf[b] = bytes[b % len];
		if (vlen) { /* element i: the NUL-terminated 8 bytes at i * 9 */
			ptrs = calloc(count ? count : 1, sizeof(char *));
			for (size_t e = 0; e < count; e++) {
				ptrs[e] = (char *)buf + e * 9;
				buf[e * 9 + 8] = 0;
			}
		}
		sp = rank ? H5Screate_simple((int)rank, dims, NULL) : H5Screate(H5S_SCALAR);
		if (kind % 2 == 0) {
			if (rank && count && (flags & 1)) {
				dcpl = H5Pcreate(H5P_DATASET_CREATE);
				H5Pset_chunk(dcpl, (int)rank, chunk);
				H5Pset_deflate(dcpl, 1);
			}
			obj = H5Dcreate2(f, ds_names[name % N_OF(ds_names)], ty, sp,
					 lcpl, dcpl, H5P_DEFAULT);
			if (obj >= 0) {
				H5Dwrite(obj, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT,
					 vlen ? (void *)ptrs : buf);
				H5Dclose(obj);
			}
			if (dcpl != H5P_DEFAULT)
				H5Pclose(dcpl);
		} else {
			obj = H5Acreate2(f, attr_names[name % N_OF(attr_names)], ty, sp,
					 H5P_DEFAULT, H5P_DEFAULT);
			if (obj >= 0) {
				H5Awrite(obj, ty, vlen ? (void *)ptrs : buf);
				H5Aclose(obj);
			}
		}
		H5Sclose(sp);
		H5Tclose(ty);
		free(ptrs);
		free(buf);
	}
	if (f >= 0)
		H5Fclose(f);
	H5Pclose(lcpl);
	H5Pclose(fapl);
}

static void read_all(const char *path)
{
	struct eap_err err = { 0 };
	struct eap_scores s = { 0 };
	struct eap_acts a = { 0 };
	struct eap_circuits c = { 0 };
	int rc;

	rc = eap_scores_read(path, &s, &err);
	fuzz_check_rc(rc, &err);
	FUZZ_CHECK(rc || (s.scores && s.graph.n_fwd), "accepted scores without data");
	eap_scores_release(&s);

	memset(&err, 0, sizeof(err));
	rc = eap_acts_open(&a, path, &err);
	fuzz_check_rc(rc, &err);
	if (!rc) {
		size_t ex = a.P * a.n_fwd * a.d;

		FUZZ_CHECK(a.N && a.P, "accepted acts of %zu x %zu", a.N, a.P);
		FUZZ_CHECK(a.K >= 1 && a.K <= a.N, "node outputs of %zu of %zu examples", a.K, a.N);
		for (size_t i = 0; i < a.N; i++)
			FUZZ_CHECK(a.lengths[i] >= 1 && (size_t)a.lengths[i] <= a.P,
				   "length %d of %zu positions", a.lengths[i], a.P);
		if (ex && ex <= ((size_t)1 << 22)) {
			float *x = malloc(ex * sizeof(float)), *y = malloc(ex * sizeof(float));
			int32_t *t = malloc(a.P * sizeof(int32_t)), *u = malloc(a.P * sizeof(int32_t));
			int32_t l;
			float mc, mr;
			struct eap_acts_batch b = { t, u, &l, x, y, &mc, &mr };

			for (size_t i = 0; i < a.N && i < 64; i++) {
				rc = eap_acts_read(&a, i, 1, &b, &err);
				fuzz_check_rc(rc, &err);
				if (rc)
					break;
			}
			free(x);
			free(y);
			free(t);
			free(u);
		}
		rc = eap_acts_read(&a, a.N, 1, &(struct eap_acts_batch){ 0 }, &err);
		FUZZ_CHECK(rc < 0, "read past the last example");
	}
	eap_acts_close(&a);

	memset(&err, 0, sizeof(err));
	rc = eap_circuits_read(path, &c, &err);
	fuzz_check_rc(rc, &err);
	if (!rc) {
		size_t cells = c.graph.n_fwd * c.graph.n_bwd;

		FUZZ_CHECK(c.K >= 1, "accepted %zu circuits", c.K);
		for (size_t k = 0; k < c.K; k++) {
			int64_t n = 0;

			for (size_t e = 0; e < cells; e++) {
				FUZZ_CHECK(c.in_graph[k * cells + e] <= 1 &&
						   (!c.in_graph[k * cells + e] ||
						    c.graph.edge_mask[e]),
					   "circuit %zu: bad cell %zu", k, e);
				n += c.in_graph[k * cells + e];
			}
			FUZZ_CHECK(n == c.edges[k], "circuit %zu: %lld edges, says %lld",
				   k, (long long)n, (long long)c.edges[k]);
		}
	}
	eap_circuits_release(&c);
	FUZZ_CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0,
		   "HDF5 ids left open");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	char path[4096];

	if (!quiet) {
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
		quiet = 1;
	}
	/*
	 * HDF5 1.10 leaks on some error paths, of corrupt files and of odd
	 * well-formed ones alike (test_h5io.c); our own leaks are checked by
	 * test_h5io.c and valgrind.sh.
	 */
#ifdef FUZZ_LSAN
	__lsan_disable();
#endif
	if (size && data[0] == 'S') {
		fuzz_path(path, sizeof(path), "built.h5");
		build(data, size, path);
	} else {
		fuzz_write("raw.h5", data, size, path, sizeof(path));
	}
	read_all(path);
#ifdef FUZZ_LSAN
	__lsan_enable();
#endif
	return 0;
}
