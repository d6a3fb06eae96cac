/*
 * test_h5io.c - the HDF5 artifacts (SPEC §11): round trips of scores.h5,
 * acts.h5 (streamed in uneven batches), circuit.h5 and circuits.h5, the
 * provenance attributes, SHA-256, the tmp-then-rename contract, and
 * malformed or foreign files, each rejected with a message that names the
 * file and the dataset or attribute.  Bad files are made by editing good
 * ones with the HDF5 API, so no binary fixtures are needed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "eap/h5io.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define EAP_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EAP_LSAN 1
#endif
#endif
#ifdef EAP_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* A per-process temporary path: /tmp/eap-h5-<pid>-<name>. */
static const char *tmp_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "/tmp/eap-h5-%d-%s", (int)getpid(), name);
	return buf;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int tmp_exists(const char *path)
{
	char t[512];

	snprintf(t, sizeof(t), "%s.tmp", path);
	return exists(t);
}

static void write_text(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fputs(s, f);
	fclose(f);
}

/* Deterministic pseudo-random floats in [-1, 1). */
static float frand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)(*s >> 8) / (float)(1u << 23) - 1.0f;
}

static void fill_meta(struct eap_h5_meta *m, size_t L, size_t H)
{
	memset(m, 0, sizeof(*m));
	strcpy(m->tool, "eap-test");
	strcpy(m->version, "0.1");
	strcpy(m->model_path, "data/models/organism");
	strcpy(m->model_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	strcpy(m->pairs_path, "results/organism/ioi/pairs-train.csv");
	strcpy(m->pairs_sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	strcpy(m->method, "eap-ig");
	strcpy(m->metric, "logit_diff");
	m->steps = 5;
	m->n_examples = 200;
	strcpy(m->created, "2024-05-01T12:34:56Z");
	m->n_layer = L;
	m->n_head = H;
}

static void assert_meta_eq(const struct eap_h5_meta *a,
			   const struct eap_h5_meta *b)
{
	ck_assert_str_eq(a->tool, b->tool);
	ck_assert_str_eq(a->version, b->version);
	ck_assert_str_eq(a->model_path, b->model_path);
	ck_assert_str_eq(a->model_sha256, b->model_sha256);
	ck_assert_str_eq(a->pairs_path, b->pairs_path);
	ck_assert_str_eq(a->pairs_sha256, b->pairs_sha256);
	ck_assert_str_eq(a->method, b->method);
	ck_assert_str_eq(a->metric, b->metric);
	ck_assert_int_eq(a->steps, b->steps);
	ck_assert_uint_eq(a->n_examples, b->n_examples);
	ck_assert_str_eq(a->created, b->created);
	ck_assert_uint_eq(a->n_layer, b->n_layer);
	ck_assert_uint_eq(a->n_head, b->n_head);
}

/* The message must name the file and contain want. */
#define ck_assert_err(err, path, want)                                        \
	ck_assert_msg(strstr((err).msg, (path)) && strstr((err).msg, (want)), \
		      "message \"%s\" lacks \"%s\" or the path \"%s\"",         \
		      (err).msg, (want), (path))

/* Scores on every edge of g, 0 elsewhere. */
static float *make_scores(const struct eap_graph *g, uint32_t seed)
{
	float *s = calloc(g->n_fwd * g->n_bwd, sizeof(float));

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++)
		if (g->edge_mask[i])
			s[i] = frand(&seed) * 1e-3f;
	return s;
}

static void write_scores_file(const char *path, size_t L, size_t H)
{
	struct eap_graph g = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	float *s;

	ck_assert_int_eq(eap_graph_init(&g, L, H, &err), 0);
	s = make_scores(&g, 7);
	fill_meta(&m, L, H);
	ck_assert_msg(eap_scores_write(path, &g, s, &m, &err) == 0, "%s",
		      err.msg);
	free(s);
	eap_graph_release(&g);
}

/* ---- editing files into bad ones ------------------------------------------ */

static hid_t edit_open(const char *path)
{
	hid_t f;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
	ck_assert_int_ge(f, 0);
	return f;
}

/* Replace dataset name by a zero-filled one of type t and shape dims. */
static void replace_ds(const char *path, const char *name, hid_t t, int rank,
		       const hsize_t *dims)
{
	hid_t f = edit_open(path), sp, ds;
	hsize_t n = 1;
	void *buf;

	for (int i = 0; i < rank; i++)
		n *= dims[i];
	buf = calloc(n ? n : 1, H5Tget_size(t));
	ck_assert_int_ge(H5Ldelete(f, name, H5P_DEFAULT), 0);
	sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	ds = H5Dcreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	ck_assert_int_ge(ds, 0);
	ck_assert_int_ge(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
	H5Dclose(ds);
	H5Sclose(sp);
	H5Fclose(f);
	free(buf);
}

/* Overwrite all of a dataset with buf (memory type t). */
static void overwrite_ds(const char *path, const char *name, hid_t t,
			 const void *buf)
{
	hid_t f = edit_open(path), ds = H5Dopen2(f, name, H5P_DEFAULT);

	ck_assert_int_ge(ds, 0);
	ck_assert_int_ge(H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
	H5Dclose(ds);
	H5Fclose(f);
}

static void delete_link(const char *path, const char *name)
{
	hid_t f = edit_open(path);

	ck_assert_int_ge(H5Ldelete(f, name, H5P_DEFAULT), 0);
	H5Fclose(f);
}

static void delete_attr(const char *path, const char *name)
{
	hid_t f = edit_open(path);

	ck_assert_int_ge(H5Adelete(f, name), 0);
	H5Fclose(f);
}

/* Replace root attribute name by a string. */
static void string_attr(const char *path, const char *name, const char *v)
{
	hid_t f = edit_open(path), t = H5Tcopy(H5T_C_S1), sp, a;

	H5Tset_size(t, strlen(v) + 1);
	if (H5Aexists(f, name) > 0)
		H5Adelete(f, name);
	sp = H5Screate(H5S_SCALAR);
	a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	ck_assert_int_ge(a, 0);
	H5Awrite(a, t, v);
	H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	H5Fclose(f);
}

static void int_attr(const char *path, const char *name, int64_t v)
{
	hid_t f = edit_open(path), a, sp = H5Screate(H5S_SCALAR);

	H5Adelete(f, name);
	a = H5Acreate2(f, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
	ck_assert_int_ge(a, 0);
	H5Awrite(a, H5T_NATIVE_INT64, &v);
	H5Aclose(a);
	H5Sclose(sp);
	H5Fclose(f);
}

static void expect_scores_error(const char *path, int code, const char *want)
{
	struct eap_scores s = { 0 };
	struct eap_err err = { 0 };

	ck_assert_int_eq(eap_scores_read(path, &s, &err), code);
	ck_assert_err(err, path, want);
	ck_assert_ptr_null(s.scores);
	eap_scores_release(&s);
}

/* ---- SHA-256 and meta -------------------------------------------------------- */

START_TEST(test_sha256)
{
	char p[256], d[256], q[300], hex[65];
	struct eap_err err = { 0 };

	write_text(tmp_path(p, sizeof(p), "abc.txt"), "abc");
	ck_assert_int_eq(eap_sha256_file(p, hex, &err), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	write_text(p, "");
	ck_assert_int_eq(eap_sha256_file(p, hex, &err), 0);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	unlink(p);

	/* a model directory hashes its model.safetensors */
	tmp_path(d, sizeof(d), "model");
	ck_assert_int_eq(mkdir(d, 0700), 0);
	snprintf(q, sizeof(q), "%s/model.safetensors", d);
	write_text(q, "abc");
	ck_assert_int_eq(eap_sha256_file(d, hex, &err), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	unlink(q);
	ck_assert_int_eq(eap_sha256_file(d, hex, &err), EAP_EIO);
	ck_assert_err(err, "model.safetensors", "cannot open");
	rmdir(d);
}
END_TEST

START_TEST(test_meta_init)
{
	char p[256], big[64];
	struct eap_h5_meta m;
	struct eap_err err = { 0 };

	write_text(tmp_path(p, sizeof(p), "pairs.csv"), "abc");
	ck_assert_int_eq(eap_h5_meta_init(&m, "eap-dump", "0.1", NULL, p, &err), 0);
	ck_assert_str_eq(m.tool, "eap-dump");
	ck_assert_str_eq(m.pairs_path, p);
	ck_assert_str_eq(m.pairs_sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_str_eq(m.model_path, "");
	ck_assert_str_eq(m.model_sha256, "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ck_assert_int_eq(eap_h5_meta_init(&m, big, "0.1", NULL, NULL, &err),
			 EAP_EINVAL);
	ck_assert_int_eq(eap_h5_meta_init(&m, "t", "0.1", "/nonexistent/x", NULL,
					  &err), EAP_EIO);
	ck_assert_err(err, "/nonexistent/x", "cannot open");
	unlink(p);
}
END_TEST

/* ---- scores.h5 --------------------------------------------------------------- */

START_TEST(test_scores_round_trip)
{
	struct eap_graph g = { 0 };
	struct eap_scores s = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	char p[256];
	float *sc;

	tmp_path(p, sizeof(p), "scores.h5");
	ck_assert_int_eq(eap_graph_init(&g, 2, 3, &err), 0);
	sc = make_scores(&g, 1);
	fill_meta(&m, 0, 0); /* taken from the graph */
	ck_assert_msg(eap_scores_write(p, &g, sc, &m, &err) == 0, "%s", err.msg);
	ck_assert(exists(p) && !tmp_exists(p));
	ck_assert_msg(eap_scores_read(p, &s, &err) == 0, "%s", err.msg);
	m.n_layer = 2;
	m.n_head = 3;
	assert_meta_eq(&s.meta, &m);
	ck_assert_uint_eq(s.graph.n_fwd, g.n_fwd);
	ck_assert_uint_eq(s.graph.n_bwd, g.n_bwd);
	ck_assert_uint_eq(s.graph.n_edges, g.n_edges);
	ck_assert_mem_eq(s.scores, sc, g.n_fwd * g.n_bwd * sizeof(float));
	ck_assert_mem_eq(s.graph.edge_mask, g.edge_mask, g.n_fwd * g.n_bwd);
	ck_assert_str_eq(s.graph.bwd_names[3], "a0.h0<k>");
	eap_scores_release(&s);
	eap_scores_release(&s); /* safe twice */
	free(sc);
	eap_graph_release(&g);
	unlink(p);
}
END_TEST

/* An empty created is filled with the current UTC time; equal inputs give
 * byte-identical files (no HDF5 timestamps). */
START_TEST(test_scores_created_and_reproducible)
{
	char p[256], p2[256], a[1 << 16], b[1 << 16];
	struct eap_scores s = { 0 };
	struct eap_err err = { 0 };
	FILE *fa, *fb;
	size_t na, nb;
	int y, mo, d, h, mi, se;
	char z;

	tmp_path(p, sizeof(p), "s1.h5");
	tmp_path(p2, sizeof(p2), "s2.h5");
	write_scores_file(p, 1, 2);
	write_scores_file(p2, 1, 2);
	fa = fopen(p, "rb");
	fb = fopen(p2, "rb");
	ck_assert(fa && fb);
	na = fread(a, 1, sizeof(a), fa);
	nb = fread(b, 1, sizeof(b), fb);
	fclose(fa);
	fclose(fb);
	ck_assert_uint_lt(na, sizeof(a));
	ck_assert_uint_eq(na, nb);
	ck_assert_msg(!memcmp(a, b, na), "two writes of the same scores differ");
	unlink(p2);

	{
		struct eap_graph g = { 0 };
		struct eap_h5_meta m;
		float *sc;
		ck_assert_int_eq(eap_graph_init(&g, 1, 2, &err), 0);
		sc = make_scores(&g, 3);
		fill_meta(&m, 1, 2);
		m.created[0] = 0;
		ck_assert_int_eq(eap_scores_write(p, &g, sc, &m, &err), 0);
		free(sc);
		eap_graph_release(&g);
	}
	ck_assert_int_eq(eap_scores_read(p, &s, &err), 0);
	ck_assert_uint_eq(strlen(s.meta.created), 20);
	ck_assert_int_eq(sscanf(s.meta.created, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y,
				&mo, &d, &h, &mi, &se, &z), 7);
	ck_assert(y >= 2024 && z == 'Z');
	eap_scores_release(&s);
	unlink(p);
}
END_TEST

START_TEST(test_scores_write_rejects)
{
	struct eap_graph g = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	char p[256];
	float *sc;
	size_t off = 0;

	tmp_path(p, sizeof(p), "bad-scores.h5");
	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	sc = make_scores(&g, 2);
	fill_meta(&m, 2, 2);
	sc[5] = NAN;
	ck_assert_int_eq(eap_scores_write(p, &g, sc, &m, &err), EAP_EINVAL);
	ck_assert_err(err, p, "/scores is nan at edge ");
	sc[5] = 0;
	while (g.edge_mask[off])
		off++;
	sc[off] = 1.0f; /* off the graph */
	ck_assert_int_eq(eap_scores_write(p, &g, sc, &m, &err), EAP_EINVAL);
	ck_assert_err(err, p, "which is not an edge");
	sc[off] = 0;
	m.n_layer = 3;
	ck_assert_int_eq(eap_scores_write(p, &g, sc, &m, &err), EAP_EINVAL);
	ck_assert_err(err, p, "meta says 3 layers");
	ck_assert(!exists(p) && !tmp_exists(p));
	m.n_layer = 2;
	ck_assert_int_eq(eap_scores_write("/nonexistent-dir/s.h5", &g, sc, &m,
					  &err), EAP_EIO);
	ck_assert_err(err, "/nonexistent-dir/s.h5.tmp",
		      "cannot create file (No such file or directory)");
	/* a failure after the tmp file exists (rename onto a directory)
	 * removes it */
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(eap_scores_write(p, &g, sc, &m, &err), EAP_EIO);
	ck_assert_err(err, p, "cannot rename");
	ck_assert(!tmp_exists(p));
	rmdir(p);
	free(sc);
	eap_graph_release(&g);
}
END_TEST

/*
 * A partial file (exact scores of some edges, eap-score --shard/--edges):
 * /scored round-trips, a full file reads as scored == NULL, and both the
 * writer and the reader hold /scores to 0 where /scored is 0.
 */
START_TEST(test_scores_partial)
{
	struct eap_graph g = { 0 };
	struct eap_scores s = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	char p[256];
	float *sc;
	uint8_t *scored;
	size_t E, e0 = 0, off = 0;

	tmp_path(p, sizeof(p), "part.h5");
	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	E = g.n_fwd * g.n_bwd;
	sc = make_scores(&g, 4);
	scored = calloc(E, 1);
	ck_assert_ptr_nonnull(scored);
	for (size_t i = 0, j = 0; i < E; i++)
		if (g.edge_mask[i] && j++ % 3 == 0)
			scored[i] = 1;
		else
			sc[i] = 0;
	fill_meta(&m, 2, 2);
	ck_assert_msg(eap_scores_write_part(p, &g, sc, scored, &m, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(eap_scores_read(p, &s, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(s.scored);
	ck_assert_mem_eq(s.scored, scored, E);
	ck_assert_mem_eq(s.scores, sc, E * sizeof(float));
	eap_scores_release(&s);

	/* a score where /scored is 0: refused by the writer and the reader */
	while (!g.edge_mask[e0] || scored[e0])
		e0++;
	sc[e0] = 0.5f;
	ck_assert_int_eq(eap_scores_write_part(p, &g, sc, scored, &m, &err),
			 EAP_EINVAL);
	ck_assert_err(err, p, "/scored is 0 but /scores is not at ");
	overwrite_ds(p, "/scores", H5T_NATIVE_FLOAT, sc);
	expect_scores_error(p, EAP_EFORMAT, "/scored is 0 but /scores is not at ");
	sc[e0] = 0;
	/* /scored on a pair that is no edge, or not 0/1 */
	while (g.edge_mask[off])
		off++;
	scored[off] = 1;
	ck_assert_int_eq(eap_scores_write_part(p, &g, sc, scored, &m, &err),
			 EAP_EINVAL);
	ck_assert_err(err, p, "/scored marks a pair that is not an edge");
	scored[off] = 0;
	ck_assert_int_eq(eap_scores_write_part(p, &g, sc, scored, &m, &err), 0);
	scored[e0] = 2;
	overwrite_ds(p, "/scored", H5T_NATIVE_UINT8, scored);
	expect_scores_error(p, EAP_EFORMAT, "/scored is neither 0 nor 1 at ");
	replace_ds(p, "/scored", H5T_NATIVE_FLOAT, 2,
		   (hsize_t[]){ g.n_fwd, g.n_bwd });
	expect_scores_error(p, EAP_EFORMAT, "/scored has type float32");

	/* a full file has no /scored */
	ck_assert_int_eq(eap_scores_write(p, &g, sc, &m, &err), 0);
	ck_assert_int_eq(eap_scores_read(p, &s, &err), 0);
	ck_assert_ptr_null(s.scored);
	eap_scores_release(&s);
	unlink(p);
	free(scored);
	free(sc);
	eap_graph_release(&g);
}
END_TEST

START_TEST(test_read_not_hdf5)
{
	char p[256];
	struct eap_scores s = { 0 };
	struct eap_acts a = { 0 };
	struct eap_circuits c = { 0 };
	struct eap_err err = { 0 };

	write_text(tmp_path(p, sizeof(p), "text.h5"), "clean,corrupted\nA,B\n");
	expect_scores_error(p, EAP_EFORMAT, "not a readable HDF5 file");
	ck_assert_int_eq(eap_acts_open(&a, p, &err), EAP_EFORMAT);
	ck_assert_err(err, p, "not a readable HDF5 file");
	ck_assert_int_eq(eap_circuits_read(p, &c, &err), EAP_EFORMAT);
	ck_assert_err(err, p, "file signature not found");
	write_text(p, ""); /* empty */
	expect_scores_error(p, EAP_EFORMAT, "not a readable HDF5 file");
	unlink(p);
	expect_scores_error(p, EAP_EIO, "cannot open: No such file");
	ck_assert_int_eq(eap_scores_read("/tmp", &s, &err), EAP_EIO);
	ck_assert_err(err, "/tmp", "is a directory");
	eap_acts_close(&a);
	eap_circuits_release(&c);
}
END_TEST

/* An HDF5 file that is not one of ours: the first missing attribute. */
START_TEST(test_read_foreign_hdf5)
{
	char p[256];
	hid_t f;

	tmp_path(p, sizeof(p), "foreign.h5");
	f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	ck_assert_int_ge(f, 0);
	H5Gclose(H5Gcreate2(f, "/stuff", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
	H5Fclose(f);
	expect_scores_error(p, EAP_EFORMAT, "missing attribute 'tool' on /");
	unlink(p);
}
END_TEST

START_TEST(test_scores_bad_files)
{
	char p[256];
	hsize_t dims[2] = { 11, 29 }, wrong[2] = { 11, 28 };
	hid_t t;

	tmp_path(p, sizeof(p), "edit-scores.h5");
	/* 2 layers x 4 heads: 11 forward nodes, 27 backward inputs */
	write_scores_file(p, 2, 4);
	delete_link(p, "/edge_mask");
	expect_scores_error(p, EAP_EFORMAT, "missing dataset /edge_mask");

	write_scores_file(p, 2, 4);
	dims[1] = 27;
	replace_ds(p, "/scores", H5T_IEEE_F64LE, 2, dims);
	expect_scores_error(p, EAP_EFORMAT,
			    "/scores has type float64, expected float32");

	write_scores_file(p, 2, 4);
	wrong[1] = 26;
	replace_ds(p, "/scores", H5T_IEEE_F32LE, 2, wrong);
	expect_scores_error(p, EAP_ESHAPE,
			    "/scores has shape [11, 26], expected [11, 27]");

	write_scores_file(p, 2, 4);
	replace_ds(p, "/scores", H5T_IEEE_F32LE, 0, NULL);
	expect_scores_error(p, EAP_ESHAPE, "/scores has shape no shape");

	write_scores_file(p, 2, 4);
	int_attr(p, "n_layer", 3); /* the datasets no longer fit */
	expect_scores_error(p, EAP_ESHAPE,
			    "/scores has shape [11, 27], expected [16, 40]");

	write_scores_file(p, 2, 4);
	int_attr(p, "n_head", 0);
	expect_scores_error(p, EAP_EFORMAT,
			    "attribute 'n_head' is 0, expected 1..10000");

	write_scores_file(p, 2, 4);
	delete_attr(p, "model_sha256");
	expect_scores_error(p, EAP_EFORMAT,
			    "missing attribute 'model_sha256' on /");

	write_scores_file(p, 2, 4);
	string_attr(p, "n_layer", "2");
	expect_scores_error(p, EAP_EFORMAT, "attribute 'n_layer' is not an integer");

	write_scores_file(p, 2, 4);
	int_attr(p, "tool", 1);
	expect_scores_error(p, EAP_EFORMAT, "attribute 'tool' is not a string");

	/* variable-length names (h5py's default) are accepted, wrong ones not */
	write_scores_file(p, 2, 4);
	{
		const char *names[11] = { "input", "a0.h0", "a0.h1", "a0.h2",
					  "a0.h3", "m0", "a1.h0", "a1.h1",
					  "a1.h3", "a1.h2", "m1" };
		hsize_t n = 11;
		t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, H5T_VARIABLE);
		replace_ds(p, "/forward_nodes", t, 1, &n);
		overwrite_ds(p, "/forward_nodes", t, names);
		expect_scores_error(p, EAP_EFORMAT,
				    "/forward_nodes[8] is 'a1.h3', expected 'a1.h2'");
		names[8] = "a1.h2";
		names[9] = "a1.h3";
		overwrite_ds(p, "/forward_nodes", t, names);
		H5Tclose(t);
	}
	string_attr(p, "tool", ""); /* an empty string reads back empty */
	{
		struct eap_scores s = { 0 };
		struct eap_err err = { 0 };
		ck_assert_msg(eap_scores_read(p, &s, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(s.meta.tool, "");
		eap_scores_release(&s);
	}

	/* edge mask and score values */
	write_scores_file(p, 2, 4);
	{
		uint8_t mask[11 * 27];
		memset(mask, 1, sizeof(mask));
		overwrite_ds(p, "/edge_mask", H5T_NATIVE_UINT8, mask);
		expect_scores_error(p, EAP_EFORMAT,
				    "/edge_mask is 1 at a0.h0->a0.h0<q>, the graph");
	}
	write_scores_file(p, 2, 4);
	{
		float sc[11 * 27] = { 0 };
		sc[0] = INFINITY;
		overwrite_ds(p, "/scores", H5T_NATIVE_FLOAT, sc);
		expect_scores_error(p, EAP_EFORMAT,
				    "/scores is inf at edge input->a0.h0<q>");
	}
	unlink(p);
}
END_TEST

/* ---- acts.h5 ----------------------------------------------------------------- */

/* A whole acts data set, example-major, filled from a seed. */
struct acts_data {
	size_t N, P, n_fwd, d;
	int32_t *tok_clean, *tok_corr, *lengths;
	float *acts_clean, *acts_corr, *met_clean, *met_corr;
};

static void acts_data_init(struct acts_data *a, size_t N, size_t P,
			   size_t n_fwd, size_t d, uint32_t seed)
{
	size_t na = N * P * n_fwd * d;

	a->N = N;
	a->P = P;
	a->n_fwd = n_fwd;
	a->d = d;
	a->tok_clean = malloc(N * P * sizeof(int32_t));
	a->tok_corr = malloc(N * P * sizeof(int32_t));
	a->lengths = malloc(N * sizeof(int32_t));
	a->acts_clean = malloc(na * sizeof(float));
	a->acts_corr = malloc(na * sizeof(float));
	a->met_clean = malloc(N * sizeof(float));
	a->met_corr = malloc(N * sizeof(float));
	for (size_t i = 0; i < N * P; i++) {
		a->tok_clean[i] = (int32_t)(i * 7 % 50257);
		a->tok_corr[i] = (int32_t)(i * 13 % 50257);
	}
	for (size_t i = 0; i < N; i++) {
		a->lengths[i] = (int32_t)(1 + i % P);
		a->met_clean[i] = frand(&seed) * 4;
		a->met_corr[i] = frand(&seed) * 4;
	}
	for (size_t i = 0; i < na; i++) {
		a->acts_clean[i] = frand(&seed);
		a->acts_corr[i] = frand(&seed) * 10;
	}
}

static void acts_data_release(struct acts_data *a)
{
	free(a->tok_clean);
	free(a->tok_corr);
	free(a->lengths);
	free(a->acts_clean);
	free(a->acts_corr);
	free(a->met_clean);
	free(a->met_corr);
}

/* Examples start.. of a as a batch. */
static struct eap_acts_batch acts_rows(const struct acts_data *a, size_t start)
{
	size_t ex = a->P * a->n_fwd * a->d;
	struct eap_acts_batch b = {
		a->tok_clean + start * a->P, a->tok_corr + start * a->P,
		a->lengths + start, a->acts_clean + start * ex,
		a->acts_corr + start * ex, a->met_clean + start,
		a->met_corr + start,
	};
	return b;
}

/* Write a as acts.h5 in the given batch sizes (summing to N), the node
 * outputs of the first K examples (0: all); batches past K pass no node
 * outputs. */
static int write_acts_k(const char *path, const struct acts_data *a,
			size_t K, size_t L, size_t H, const size_t *batches,
			size_t n_batches, struct eap_err *err)
{
	struct eap_acts_writer w = { 0 };
	struct eap_h5_meta m;
	size_t done = 0;
	int rc;

	fill_meta(&m, L, H);
	m.n_examples = 0;
	strcpy(m.method, "");
	if ((rc = eap_acts_create(&w, path, a->N, K ? K : a->N, a->P, a->n_fwd,
				  a->d, &m, err)))
		return rc;
	for (size_t i = 0; i < n_batches; i++) {
		struct eap_acts_batch b = acts_rows(a, done);
		if (K && done >= K)
			b.acts_clean = b.acts_corrupted = NULL;
		if ((rc = eap_acts_append(&w, batches[i], &b, err))) {
			eap_acts_abort(&w);
			return rc;
		}
		done += batches[i];
	}
	return eap_acts_commit(&w, err);
}

static int write_acts(const char *path, const struct acts_data *a, size_t L,
		      size_t H, const size_t *batches, size_t n_batches,
		      struct eap_err *err)
{
	return write_acts_k(path, a, 0, L, H, batches, n_batches, err);
}

/* An audit sample: node outputs of the first K = 3 of 7 examples, written
 * in batches 2, 2 (crossing K), 3 (none); everything else of all 7. */
START_TEST(test_acts_sample)
{
	static const size_t batches[] = { 2, 2, 3 };
	size_t ex = 5 * 7 * 6;
	struct acts_data a, r;
	struct eap_acts f = { 0 };
	struct eap_err err = { 0 };
	struct eap_acts_batch b;
	char p[256];

	tmp_path(p, sizeof(p), "sample.h5");
	acts_data_init(&a, 7, 5, 7, 6, 42);
	acts_data_init(&r, 7, 5, 7, 6, 99);
	ck_assert_msg(write_acts_k(p, &a, 3, 2, 2, batches, 3, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(eap_acts_open(&f, p, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(f.N, 7);
	ck_assert_uint_eq(f.K, 3);
	b = acts_rows(&r, 0);
	ck_assert_int_eq(eap_acts_read(&f, 0, 4, &b, &err), EAP_EINVAL);
	ck_assert_err(err, p, "node outputs of examples 0..2 only");
	ck_assert_msg(eap_acts_read(&f, 0, 3, &b, &err) == 0, "%s", err.msg);
	b = acts_rows(&r, 3);
	b.acts_clean = b.acts_corrupted = NULL;
	ck_assert_msg(eap_acts_read(&f, 3, 4, &b, &err) == 0, "%s", err.msg);
	ck_assert_mem_eq(r.acts_clean, a.acts_clean, 3 * ex * sizeof(float));
	ck_assert_mem_eq(r.acts_corr, a.acts_corr, 3 * ex * sizeof(float));
	ck_assert_mem_eq(r.tok_clean, a.tok_clean, 7 * 5 * sizeof(int32_t));
	ck_assert_mem_eq(r.met_corr, a.met_corr, 7 * sizeof(float));
	eap_acts_close(&f);
	/* K outside 1..N is refused, and so is a batch inside K without
	 * node outputs */
	{
		struct eap_acts_writer w = { 0 };
		struct eap_h5_meta m;

		fill_meta(&m, 2, 2);
		m.n_examples = 0;
		ck_assert_int_eq(eap_acts_create(&w, p, 7, 8, 5, 7, 6, &m, &err),
				 EAP_EINVAL);
		ck_assert_int_eq(eap_acts_create(&w, p, 7, 0, 5, 7, 6, &m, &err),
				 EAP_EINVAL);
		ck_assert_int_eq(eap_acts_create(&w, p, 7, 3, 5, 7, 6, &m, &err), 0);
		b = acts_rows(&a, 0);
		b.acts_corrupted = NULL;
		ck_assert_int_eq(eap_acts_append(&w, 4, &b, &err), EAP_EINVAL);
		ck_assert_err(err, p, "append without data for /acts/corrupted");
		eap_acts_abort(&w);
	}
	acts_data_release(&a);
	acts_data_release(&r);
	unlink(p);
}
END_TEST

START_TEST(test_acts_stream)
{
	/* 2 layers x 2 heads: n_fwd 7; written in batches 3, 1, 3 */
	static const size_t batches[] = { 3, 1, 3 };
	struct acts_data a, r;
	struct eap_acts f = { 0 };
	struct eap_err err = { 0 };
	char p[256];
	size_t start = 0;

	tmp_path(p, sizeof(p), "acts.h5");
	acts_data_init(&a, 7, 5, 7, 6, 42);
	acts_data_init(&r, 7, 5, 7, 6, 99); /* overwritten by the reads */
	ck_assert_msg(write_acts(p, &a, 2, 2, batches, 3, &err) == 0, "%s",
		      err.msg);
	ck_assert(exists(p) && !tmp_exists(p));
	ck_assert_msg(eap_acts_open(&f, p, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(f.N, 7);
	ck_assert_uint_eq(f.P, 5);
	ck_assert_uint_eq(f.n_fwd, 7);
	ck_assert_uint_eq(f.d, 6);
	ck_assert_uint_eq(f.meta.n_examples, 7);
	ck_assert_str_eq(f.meta.method, "");
	ck_assert_str_eq(f.meta.model_path, "data/models/organism");
	/* read back in other batch sizes: 2, 5 */
	for (size_t nb = 2; start < 7; start += nb, nb = 5) {
		struct eap_acts_batch b = acts_rows(&r, start);
		ck_assert_msg(eap_acts_read(&f, start, nb, &b, &err) == 0, "%s",
			      err.msg);
	}
	ck_assert_mem_eq(r.tok_clean, a.tok_clean, 7 * 5 * sizeof(int32_t));
	ck_assert_mem_eq(r.tok_corr, a.tok_corr, 7 * 5 * sizeof(int32_t));
	ck_assert_mem_eq(r.lengths, a.lengths, 7 * sizeof(int32_t));
	ck_assert_mem_eq(r.acts_clean, a.acts_clean, 7 * 5 * 7 * 6 * sizeof(float));
	ck_assert_mem_eq(r.acts_corr, a.acts_corr, 7 * 5 * 7 * 6 * sizeof(float));
	ck_assert_mem_eq(r.met_clean, a.met_clean, 7 * sizeof(float));
	ck_assert_mem_eq(r.met_corr, a.met_corr, 7 * sizeof(float));

	/* NULL fields are skipped; out-of-range rows are refused */
	{
		float one[5 * 7 * 6];
		struct eap_acts_batch b = { 0 };
		b.acts_corrupted = one;
		ck_assert_int_eq(eap_acts_read(&f, 6, 1, &b, &err), 0);
		ck_assert_mem_eq(one, a.acts_corr + 6 * 5 * 7 * 6, sizeof(one));
		ck_assert_int_eq(eap_acts_read(&f, 6, 2, &b, &err), EAP_EINVAL);
		ck_assert_err(err, p, "cannot read examples 6..7 of 7");
		ck_assert_int_eq(eap_acts_read(&f, 0, 0, &b, &err), EAP_EINVAL);
	}
	eap_acts_close(&f);
	eap_acts_close(&f);
	acts_data_release(&a);
	acts_data_release(&r);
	unlink(p);
}
END_TEST

START_TEST(test_acts_transpose)
{
	/* (a=3, b=2, d=2) -> (2, 3, 2) and back */
	float x[12], y[12], z[12];

	for (int i = 0; i < 12; i++)
		x[i] = (float)i;
	eap_acts_transpose(y, x, 3, 2, 2);
	ck_assert_float_eq(y[0], 0);   /* (0,0) */
	ck_assert_float_eq(y[2], 4);   /* b=0, a=1: x[(1*2+0)*2] */
	ck_assert_float_eq(y[7], 3);   /* b=1, a=0, e=1: x[(0*2+1)*2+1] */
	eap_acts_transpose(z, y, 2, 3, 2);
	ck_assert_mem_eq(z, x, sizeof(x));
}
END_TEST

/* abort and a short commit leave neither the file nor its tmp; an older
 * file at the path survives an aborted rewrite. */
START_TEST(test_acts_abort)
{
	struct eap_acts_writer w = { 0 };
	struct acts_data a;
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	struct eap_acts_batch b;
	char p[256], buf[16] = { 0 };
	FILE *f;

	tmp_path(p, sizeof(p), "abort.h5");
	acts_data_init(&a, 4, 3, 7, 2, 5);
	b = acts_rows(&a, 0);
	fill_meta(&m, 2, 2);
	m.n_examples = 4;
	ck_assert_int_eq(eap_acts_create(&w, p, 4, 4, 3, 7, 2, &m, &err), 0);
	ck_assert(tmp_exists(p) && !exists(p));
	ck_assert_int_eq(eap_acts_append(&w, 2, &b, &err), 0);
	eap_acts_abort(&w);
	ck_assert(!tmp_exists(p) && !exists(p));
	eap_acts_abort(&w); /* safe again */

	ck_assert_int_eq(eap_acts_create(&w, p, 4, 4, 3, 7, 2, &m, &err), 0);
	ck_assert_int_eq(eap_acts_append(&w, 3, &b, &err), 0);
	ck_assert_int_eq(eap_acts_commit(&w, &err), EAP_EINVAL);
	ck_assert_err(err, p, "only 3 of 4 examples were written");
	ck_assert(!tmp_exists(p) && !exists(p));
	eap_acts_abort(&w);

	write_text(p, "old");
	ck_assert_int_eq(eap_acts_create(&w, p, 4, 4, 3, 7, 2, &m, &err), 0);
	eap_acts_abort(&w);
	ck_assert(!tmp_exists(p));
	f = fopen(p, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(buf, 1, sizeof(buf) - 1, f), 3);
	fclose(f);
	ck_assert_str_eq(buf, "old");
	unlink(p);
	acts_data_release(&a);
}
END_TEST

START_TEST(test_acts_bad_args)
{
	struct eap_acts_writer w = { 0 };
	struct acts_data a;
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	struct eap_acts_batch b = { 0 };
	char p[256];

	tmp_path(p, sizeof(p), "args.h5");
	acts_data_init(&a, 4, 3, 7, 2, 5);
	fill_meta(&m, 2, 2);
	ck_assert_int_eq(eap_acts_create(&w, p, 4, 4, 3, 7, 2, &m, &err),
			 EAP_EINVAL); /* meta n_examples 200 != 4 */
	ck_assert_err(err, p, "n_examples 200 disagrees with N 4");
	m.n_examples = 0;
	ck_assert_int_eq(eap_acts_create(&w, p, 4, 4, 3, 8, 2, &m, &err),
			 EAP_EINVAL); /* n_fwd 8 for 2 x 2 */
	ck_assert(!tmp_exists(p));
	ck_assert_int_eq(eap_acts_append(&w, 1, &b, &err), EAP_EINVAL);
	ck_assert_int_eq(eap_acts_create(&w, p, 4, 4, 3, 7, 2, &m, &err), 0);
	b = acts_rows(&a, 0);
	ck_assert_int_eq(eap_acts_append(&w, 5, &b, &err), EAP_EINVAL);
	ck_assert_err(err, p, "cannot append 5 examples to 0 of 4");
	a.lengths[1] = 4; /* > P */
	ck_assert_int_eq(eap_acts_append(&w, 2, &b, &err), EAP_EINVAL);
	ck_assert_err(err, p, "length of example 1 is 4, expected 1..3");
	a.lengths[1] = 2;
	b.metric_clean = NULL;
	ck_assert_int_eq(eap_acts_append(&w, 2, &b, &err), EAP_EINVAL);
	ck_assert_err(err, p, "append without data for /metric/clean");
	eap_acts_abort(&w);
	ck_assert(!tmp_exists(p) && !exists(p));
	acts_data_release(&a);
}
END_TEST

static void expect_acts_error(const char *path, int code, const char *want)
{
	struct eap_acts f = { 0 };
	struct eap_err err = { 0 };

	ck_assert_int_eq(eap_acts_open(&f, path, &err), code);
	ck_assert_err(err, path, want);
	ck_assert_ptr_null(f.path);
	eap_acts_close(&f);
}

START_TEST(test_acts_bad_files)
{
	/* N 4, P 8, 2 layers x 4 heads (n_fwd 11), d 32 */
	static const size_t all[] = { 4 };
	struct acts_data a;
	struct eap_err err = { 0 };
	hsize_t d16[4] = { 4, 8, 11, 16 }, n4 = 4, tok[2] = { 4, 8 };
	char p[256];

	tmp_path(p, sizeof(p), "edit-acts.h5");
	acts_data_init(&a, 4, 8, 11, 32, 3);
#define FRESH() ck_assert_msg(write_acts(p, &a, 2, 4, all, 1, &err) == 0, \
			      "%s", err.msg)
	FRESH();
	replace_ds(p, "/acts/corrupted", H5T_IEEE_F32LE, 4, d16);
	expect_acts_error(p, EAP_ESHAPE,
			  "/acts/corrupted has shape [4, 8, 11, 16], expected "
			  "[4, 8, 11, 32]");
	FRESH();
	delete_link(p, "/metric");
	expect_acts_error(p, EAP_EFORMAT, "missing dataset /metric/clean");
	FRESH();
	replace_ds(p, "/tokens/corrupted", H5T_STD_I64LE, 2, tok);
	expect_acts_error(p, EAP_EFORMAT,
			  "/tokens/corrupted has type int64, expected int32");
	FRESH();
	replace_ds(p, "/lengths", H5T_STD_I32LE, 1, &n4); /* zeros */
	expect_acts_error(p, EAP_EFORMAT, "/lengths[0] is 0, expected 1..8");
	FRESH();
	int_attr(p, "n_head", 3); /* n_fwd 9 */
	expect_acts_error(p, EAP_ESHAPE,
			  "/acts/clean has shape [4, 8, 11, 32], expected "
			  "[4, 8, 9, 32]");
	FRESH();
	int_attr(p, "n_examples", 5);
	expect_acts_error(p, EAP_EFORMAT,
			  "attribute n_examples is 5 but /tokens/clean has 4 rows");
	FRESH();
	delete_attr(p, "created");
	expect_acts_error(p, EAP_EFORMAT, "missing attribute 'created' on /");
#undef FRESH
	unlink(p);
	acts_data_release(&a);
}
END_TEST

/* ---- circuit.h5 / circuits.h5 ------------------------------------------------ */

/* K circuits of g: circuit k holds every (k+2)-th edge. */
static void make_circuits(const struct eap_graph *g, size_t K, uint8_t *in,
			  uint8_t *nodes, int64_t *req, int64_t *edges)
{
	size_t E = g->n_fwd * g->n_bwd;

	memset(nodes, 0, K * g->n_fwd);
	for (size_t k = 0; k < K; k++) {
		size_t seen = 0;
		edges[k] = 0;
		for (size_t i = 0; i < E; i++) {
			int on = g->edge_mask[i] && seen++ % (k + 2) == 0;
			in[k * E + i] = (uint8_t)on;
			edges[k] += on;
			if (on)
				nodes[k * g->n_fwd + i / g->n_bwd] = 1;
		}
		req[k] = edges[k] + (int64_t)k;
	}
}

START_TEST(test_circuits_round_trip)
{
	struct eap_graph g = { 0 };
	struct eap_circuits c = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	size_t E, K = 3;
	uint8_t *in, *nodes;
	int64_t req[3], edges[3];
	char p[256], p1[256];

	tmp_path(p, sizeof(p), "circuits.h5");
	tmp_path(p1, sizeof(p1), "circuit.h5");
	ck_assert_int_eq(eap_graph_init(&g, 2, 3, &err), 0);
	E = g.n_fwd * g.n_bwd;
	in = malloc(K * E);
	nodes = malloc(K * g.n_fwd);
	make_circuits(&g, K, in, nodes, req, edges);
	fill_meta(&m, 2, 3);

	ck_assert_msg(eap_circuits_write(p, &g, K, 0, in, nodes, req, edges,
					 "topn 10,20,30", &m, &err) == 0,
		      "%s", err.msg);
	ck_assert(!tmp_exists(p));
	ck_assert_msg(eap_circuits_read(p, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c.K, 3);
	ck_assert_int_eq(c.single, 0);
	ck_assert_mem_eq(c.in_graph, in, K * E);
	ck_assert_mem_eq(c.nodes_in_graph, nodes, K * g.n_fwd);
	ck_assert_mem_eq(c.edges_requested, req, sizeof(req));
	ck_assert_mem_eq(c.edges, edges, sizeof(edges));
	ck_assert_str_eq(c.selection, "topn 10,20,30");
	assert_meta_eq(&c.meta, &m);
	eap_circuits_release(&c);

	/* circuit.h5: the second circuit alone */
	ck_assert_msg(eap_circuits_write(p1, &g, 1, 1, in + E, nodes + g.n_fwd,
					 req + 1, edges + 1, "greedy 40", &m,
					 &err) == 0, "%s", err.msg);
	ck_assert_msg(eap_circuits_read(p1, &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c.K, 1);
	ck_assert_int_eq(c.single, 1);
	ck_assert_mem_eq(c.in_graph, in + E, E);
	ck_assert_mem_eq(c.nodes_in_graph, nodes + g.n_fwd, g.n_fwd);
	ck_assert_int_eq(c.edges_requested[0], req[1]);
	ck_assert_int_eq(c.edges[0], edges[1]);
	ck_assert_str_eq(c.selection, "greedy 40");
	eap_circuits_release(&c);
	eap_circuits_release(&c);

	/* the writer checks its inputs */
	edges[0]++;
	ck_assert_int_eq(eap_circuits_write(p, &g, K, 0, in, nodes, req, edges,
					    "x", &m, &err), EAP_EINVAL);
	ck_assert_err(err, p, "/in_graph[0] has ");
	edges[0]--;
	for (size_t i = 0; i < E; i++)
		if (!g.edge_mask[i]) {
			in[i] = 1;
			break;
		}
	ck_assert_int_eq(eap_circuits_write(p, &g, K, 0, in, nodes, req, edges,
					    "x", &m, &err), EAP_EINVAL);
	ck_assert_err(err, p, "which is not an edge");
	ck_assert_int_eq(eap_circuits_write(p1, &g, 2, 1, in, nodes, req, edges,
					    "x", &m, &err), EAP_EINVAL);
	unlink(p);
	unlink(p1);
	ck_assert(!tmp_exists(p) && !tmp_exists(p1));
	free(in);
	free(nodes);
	eap_graph_release(&g);
}
END_TEST

static void expect_circuits_error(const char *path, int code,
				  const char *want)
{
	struct eap_circuits c = { 0 };
	struct eap_err err = { 0 };

	ck_assert_int_eq(eap_circuits_read(path, &c, &err), code);
	ck_assert_err(err, path, want);
	ck_assert_ptr_null(c.in_graph);
	eap_circuits_release(&c);
}

START_TEST(test_circuits_bad_files)
{
	struct eap_graph g = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	uint8_t in[2 * 8 * 22], nodes[2 * 8];
	int64_t req[2], edges[2];
	hsize_t d3[3] = { 2, 8, 21 }, k3 = 3;
	char p[256];
	hid_t t;

	/* 2 layers x 2 heads: n_fwd 7, n_bwd 15 */
	ck_assert_int_eq(eap_graph_init(&g, 2, 2, &err), 0);
	make_circuits(&g, 2, in, nodes, req, edges);
	fill_meta(&m, 2, 2);
	tmp_path(p, sizeof(p), "edit-circuits.h5");
#define CURVE() ck_assert_int_eq(eap_circuits_write(p, &g, 2, 0, in, nodes, \
					req, edges, "topn 1,2", &m, &err), 0)
#define SINGLE() ck_assert_int_eq(eap_circuits_write(p, &g, 1, 1, in, nodes, \
					 req, edges, "topn 1", &m, &err), 0)
	CURVE();
	replace_ds(p, "/in_graph", H5T_STD_U8LE, 3, d3);
	expect_circuits_error(p, EAP_ESHAPE,
			      "/in_graph has shape [2, 8, 21], expected [2, 7, 15]");
	CURVE();
	replace_ds(p, "/in_graph", H5T_STD_U8LE, 1, &k3);
	expect_circuits_error(p, EAP_ESHAPE,
			      "/in_graph has shape [3], expected [7, 15]");
	CURVE();
	replace_ds(p, "/edges", H5T_STD_I64LE, 1, &k3);
	expect_circuits_error(p, EAP_ESHAPE, "/edges has shape [3], expected [2]");
	CURVE();
	delete_link(p, "/edges_requested");
	expect_circuits_error(p, EAP_EFORMAT, "missing dataset /edges_requested");
	CURVE();
	{
		int64_t e[2] = { edges[0], edges[1] + 1 };
		overwrite_ds(p, "/edges", H5T_NATIVE_INT64, e);
		expect_circuits_error(p, EAP_EFORMAT, "but /edges[1] is");
	}
	CURVE();
	{
		hsize_t dn[2] = { 2, 7 };
		replace_ds(p, "/nodes_in_graph", H5T_IEEE_F32LE, 2, dn);
		expect_circuits_error(p, EAP_EFORMAT,
				      "/nodes_in_graph has type float32, expected uint8");
	}
	CURVE();
	{
		uint8_t bad[2 * 7 * 15];
		memcpy(bad, in, sizeof(bad));
		bad[7 * 15 + 3] = 2;
		overwrite_ds(p, "/in_graph", H5T_NATIVE_UINT8, bad);
		expect_circuits_error(p, EAP_EFORMAT, "/in_graph[1] is 2 at ");
	}
	CURVE();
	delete_attr(p, "selection");
	expect_circuits_error(p, EAP_EFORMAT, "missing attribute 'selection' on /");

	SINGLE();
	delete_attr(p, "n_edges");
	expect_circuits_error(p, EAP_EFORMAT, "missing attribute 'n_edges' on /");
	SINGLE();
	int_attr(p, "n_edges", edges[0] + 1);
	expect_circuits_error(p, EAP_EFORMAT, "but attribute n_edges is");

	/* h5py writes numpy bool as a 1-byte enum: accepted */
	SINGLE();
	{
		hsize_t dn = 7;
		int8_t v = 0;
		t = H5Tenum_create(H5T_NATIVE_INT8);
		H5Tenum_insert(t, "FALSE", &v);
		v = 1;
		H5Tenum_insert(t, "TRUE", &v);
		replace_ds(p, "/nodes_in_graph", t, 1, &dn);
		overwrite_ds(p, "/nodes_in_graph", t, nodes);
		H5Tclose(t);
	}
	{
		struct eap_circuits c = { 0 };
		ck_assert_msg(eap_circuits_read(p, &c, &err) == 0, "%s", err.msg);
		ck_assert_mem_eq(c.nodes_in_graph, nodes, 7);
		eap_circuits_release(&c);
	}
#undef CURVE
#undef SINGLE
	unlink(p);
	eap_graph_release(&g);
}
END_TEST

/* ---- fuzzing ---------------------------------------------------------------- */

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(*n);
	ck_assert_uint_eq(fread(b, 1, *n, f), *n);
	fclose(f);
	return b;
}

/*
 * Flip 1..4 bits of a good file (or truncate it, one time in ten), iters
 * times, and read it as kind (0 scores, 1 acts with a full read, 2
 * circuits): each read either succeeds or fails with a message naming the
 * file, leaves no HDF5 id open, and nothing crashes.  Returns the
 * number of rejections.  HDF5 1.10 leaks a little on some corrupt-file
 * error paths, so LeakSanitizer is paused (the other tests check ours),
 * after emptying HDF5's free lists so that what it leaks here was
 * allocated here.
 */
static int fuzz_reader(const char *good, int kind, uint32_t seed, int iters)
{
	char p[256];
	size_t n;
	unsigned char *orig = slurp(good, &n), *m = malloc(n);
	int rejected = 0;

	tmp_path(p, sizeof(p), "fuzz.h5");
	H5garbage_collect();
	for (int it = 0; it < iters; it++) {
		struct eap_err err = { 0 };
		FILE *f;
		int rc, k;

		size_t len = n;

		memcpy(m, orig, n);
		seed = seed * 1664525u + 1013904223u;
		k = 1 + (int)(seed >> 30);
		while (k--) {
			seed = seed * 1664525u + 1013904223u;
			m[(seed >> 8) % n] ^= (unsigned char)(1u << (seed & 7));
		}
		if (it % 10 == 9) { /* every tenth: truncated, not flipped */
			memcpy(m, orig, n);
			len = (seed >> 8) % n;
		}
		f = fopen(p, "wb");
		fwrite(m, 1, len, f);
		fclose(f);
#ifdef EAP_LSAN
		__lsan_disable();
#endif
		if (kind == 0) {
			struct eap_scores s = { 0 };
			rc = eap_scores_read(p, &s, &err);
			ck_assert(rc || s.scores);
			eap_scores_release(&s);
		} else if (kind == 1) {
			struct eap_acts a = { 0 };
			rc = eap_acts_open(&a, p, &err);
			if (!rc) {
				size_t ex = a.P * a.n_fwd * a.d;
				float *x = malloc(a.N * ex * sizeof(float));
				struct eap_acts_batch b = { 0 };
				b.acts_clean = b.acts_corrupted = x;
				rc = eap_acts_read(&a, 0, a.N, &b, &err);
				free(x);
			}
			eap_acts_close(&a);
		} else {
			struct eap_circuits c = { 0 };
			rc = eap_circuits_read(p, &c, &err);
			ck_assert(rc || c.in_graph);
			eap_circuits_release(&c);
		}
#ifdef EAP_LSAN
		__lsan_enable();
#endif
		ck_assert_msg(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0,
			      "ids left open after reading mutation %d (%s)", it,
			      rc ? err.msg : "accepted");
		if (rc) {
			ck_assert_int_lt(rc, 0);
			ck_assert_err(err, p, "");
			rejected++;
		}
	}
	unlink(p);
	free(orig);
	free(m);
	return rejected;
}

START_TEST(test_fuzz_readers)
{
	static const size_t all[] = { 3 };
	struct eap_graph g = { 0 };
	struct eap_h5_meta m;
	struct eap_err err = { 0 };
	struct acts_data a;
	uint8_t in[2 * 4 * 8], nodes[2 * 4];
	int64_t req[2], edges[2];
	char p[256];
	int r;

	tmp_path(p, sizeof(p), "fuzz-src.h5");
	write_scores_file(p, 1, 2);
	r = fuzz_reader(p, 0, 1, 150);
	ck_assert_msg(r > 75, "only %d of 150 corrupt scores files rejected", r);

	acts_data_init(&a, 3, 4, 4, 8, 11);
	ck_assert_int_eq(write_acts(p, &a, 1, 2, all, 1, &err), 0);
	r = fuzz_reader(p, 1, 2, 150);
	ck_assert_msg(r > 50, "only %d of 150 corrupt acts files rejected", r);
	acts_data_release(&a);

	ck_assert_int_eq(eap_graph_init(&g, 1, 2, &err), 0);
	make_circuits(&g, 2, in, nodes, req, edges);
	fill_meta(&m, 1, 2);
	ck_assert_int_eq(eap_circuits_write(p, &g, 2, 0, in, nodes, req, edges,
					    "topn 1,2", &m, &err), 0);
	r = fuzz_reader(p, 2, 3, 150);
	ck_assert_msg(r > 50, "only %d of 150 corrupt circuit files rejected", r);
	eap_graph_release(&g);
	unlink(p);
}
END_TEST

Suite *h5io_suite(void)
{
	Suite *s = suite_create("h5io");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_meta_init);
	tcase_add_test(tc, test_scores_round_trip);
	tcase_add_test(tc, test_scores_created_and_reproducible);
	tcase_add_test(tc, test_scores_write_rejects);
	tcase_add_test(tc, test_scores_partial);
	tcase_add_test(tc, test_read_not_hdf5);
	tcase_add_test(tc, test_read_foreign_hdf5);
	tcase_add_test(tc, test_scores_bad_files);
	tcase_add_test(tc, test_acts_stream);
	tcase_add_test(tc, test_acts_sample);
	tcase_add_test(tc, test_acts_transpose);
	tcase_add_test(tc, test_acts_abort);
	tcase_add_test(tc, test_acts_bad_args);
	tcase_add_test(tc, test_acts_bad_files);
	tcase_add_test(tc, test_circuits_round_trip);
	tcase_add_test(tc, test_circuits_bad_files);
	tcase_add_test(tc, test_fuzz_readers);
	suite_add_tcase(s, tc);
	return s;
}
