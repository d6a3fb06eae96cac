/*
 * h5io.h - the HDF5 artifacts of SPEC §11: acts.h5, scores.h5, circuit.h5
 * and circuits.h5, plus the SHA-256 of input files for their provenance.
 *
 * Every file carries the attributes of struct eap_h5_meta on its root
 * group: strings are fixed-length NUL-terminated UTF-8, integers int64,
 * so h5dump shows them as text and numbers (h5py: bytes and ints).  Every writer writes "<path>.tmp"
 * and renames it to path only when the file is complete; on any failure
 * (or eap_acts_abort) it unlinks the temporary file, so no
 * finished-looking artifact is left behind (SPEC §11).  Readers check
 * every dataset's presence, type and shape against the n_layer and n_head
 * attributes and fail with one message naming the file and the dataset,
 *   "acts.h5: /acts/clean has shape [4, 8, 11, 16], expected [4, 8, 11, 32]"
 * HDF5's own error printing is switched off inside these functions (and
 * restored on return); its innermost reason is appended to I/O errors.
 *
 *   struct eap_h5_meta meta;
 *   eap_h5_meta_init(&meta, "eap-score", version, model_dir, pairs, &err);
 *   meta.steps = 5; ...
 *   eap_scores_write("scores.h5", &graph, scores, &meta, &err);
 *
 *   struct eap_scores s = {0};
 *   if (eap_scores_read("scores.h5", &s, &err) < 0) ...
 *   ... s.graph, s.scores, s.meta ...
 *   eap_scores_release(&s);
 *
 * acts.h5 is streamed, so memory is bounded by the batch size:
 *   struct eap_acts_writer w = {0};
 *   eap_acts_create(&w, "acts.h5", N, K, P, n_fwd, d, &meta, &err);
 *   for each batch:  eap_acts_append(&w, nb, &batch, &err);
 *   eap_acts_commit(&w, &err);            (after any failure: abort)
 *
 *   struct eap_acts r = {0};
 *   eap_acts_open(&r, "acts.h5", &err);
 *   eap_acts_read(&r, start, nb, &batch, &err);   (NULL fields: skipped)
 *   eap_acts_close(&r);
 *
 * All functions return 0 or a negative EAP_E*: EAP_EIO (cannot open,
 * read, write or rename), EAP_EFORMAT (not HDF5, missing or mistyped
 * dataset or attribute, bad values), EAP_ESHAPE (shape disagrees with
 * the graph), EAP_EINVAL (bad arguments), EAP_ENOMEM.
 */
#ifndef EAP_H5IO_H
#define EAP_H5IO_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"
#include "eap/graph.h"

/*
 * Provenance, the root-group attributes of every artifact (SPEC §11).
 * Attribute names are the field names.  created is UTC ISO 8601
 * ("2024-05-01T12:34:56Z"); a writer fills it with the current time if it
 * is empty.  n_layer and n_head give the graph shape; the scores and
 * circuit writers take them from the graph (a nonzero value here must
 * agree), acts.h5 needs them here.
 */
struct eap_h5_meta {
	char tool[32], version[32];       /* "eap-score", "0.1" */
	char model_path[4096], model_sha256[65];
	char pairs_path[4096], pairs_sha256[65];
	char method[32], metric[32];      /* "" where not applicable */
	int steps;                        /* IG steps, 0 if none */
	size_t n_examples;
	char created[32];
	size_t n_layer, n_head;
	int parallel;                     /* graph of parallel blocks; the
					     attribute is written only if 1 */
};

/*
 * Lowercase hex SHA-256 of a file's bytes into hex (65 bytes with NUL).
 * A directory is a model directory (a Hugging Face cache folder stands
 * for its snapshot): its model.safetensors is hashed, or for a sharded
 * checkpoint model.safetensors.index.json followed by every *.safetensors
 * file of the folder, in byte order of their names, as one stream.
 */
int eap_sha256_file(const char *path, char hex[65], struct eap_err *err);

/*
 * Zero m, copy tool and version and the input paths, and hash the inputs
 * (model_path and pairs_path may be NULL: left empty).
 */
int eap_h5_meta_init(struct eap_h5_meta *m, const char *tool,
		     const char *version, const char *model_path,
		     const char *pairs_path, struct eap_err *err);

/*
 * scores.h5: /scores (float32 n_fwd x n_bwd, 0 where no edge), /edge_mask
 * (uint8 n_fwd x n_bwd), /forward_nodes (n_fwd strings), /backward_nodes
 * (n_bwd strings).  The writer rejects NaN or infinite scores and nonzero
 * scores off the graph; the reader does the same and rebuilds the graph
 * from n_layer and n_head, comparing the edge mask and the names.
 *
 * A partial file (exact scores of a subset of the edges: eap-score
 * --edges or --shard) also holds /scored (uint8 n_fwd x n_bwd): 1 where
 * the edge was scored, and /scores is 0 wherever /scored is 0.
 * eap_scores_write_part writes it when scored is not NULL; the reader
 * fills s->scored when the file has it (else NULL: every edge scored),
 * and both check the rule above.
 */
struct eap_scores {
	struct eap_graph graph;
	float *scores;           /* (n_fwd, n_bwd) */
	uint8_t *scored;         /* (n_fwd, n_bwd) 0/1, or NULL: all edges */
	float *node_scores;      /* (n_fwd) /node_scores, or NULL */
	float *neuron_scores;    /* (n_fwd, d) /neuron_scores, or NULL */
	size_t d;                /* the neurons' width, 0 without them */
	struct eap_h5_meta meta;
};

/*
 * More float32 datasets of a scores.h5 (eap-score --level, --check-exact):
 * name ("/node_scores"), rank 1 or 2, dims, data and the description
 * written beside it.  Finite values only, unless nan_ok (NaN allowed: a
 * correlation of a constant vector).  The reader takes /node_scores
 * (n_fwd) and /neuron_scores (n_fwd, d) when present (finite, shapes
 * checked) and ignores the others.
 */
struct eap_h5_extra {
	const char *name;
	int rank;
	size_t dims[2];
	const float *data;
	const char *desc;
	int nan_ok;
};

int eap_scores_write_ext(const char *path, const struct eap_graph *g,
			 const float *scores, const uint8_t *scored,
			 const struct eap_h5_extra *x, size_t nx,
			 const struct eap_h5_meta *meta, struct eap_err *err);

int eap_scores_write(const char *path, const struct eap_graph *g,
		     const float *scores, const struct eap_h5_meta *meta,
		     struct eap_err *err);
int eap_scores_write_part(const char *path, const struct eap_graph *g,
			  const float *scores, const uint8_t *scored,
			  const struct eap_h5_meta *meta, struct eap_err *err);
int eap_scores_read(const char *path, struct eap_scores *s,
		    struct eap_err *err);
void eap_scores_release(struct eap_scores *s);

/*
 * One batch of nb consecutive examples of acts.h5, row-major.  To append,
 * every field is required; to read, NULL fields are skipped.
 */
struct eap_acts_batch {
	int32_t *tokens_clean;     /* (nb, P) /tokens/clean */
	int32_t *tokens_corrupted; /* (nb, P) /tokens/corrupted */
	int32_t *lengths;          /* (nb) /lengths: real positions, 1..P */
	float *acts_clean;         /* (nb, P, n_fwd, d) /acts/clean */
	float *acts_corrupted;     /* (nb, P, n_fwd, d) /acts/corrupted
				      (examples below K only) */
	float *metric_clean;       /* (nb) /metric/clean */
	float *metric_corrupted;   /* (nb) /metric/corrupted */
};

enum { EAP_ACTS_N_DS = 7 };

/*
 * acts.h5 writer.  /acts/{clean,corrupted} are float32 K x P x n_fwd x d,
 * the node outputs of the first K (1..N) examples: all of them (K = N,
 * the full dump), or an audit sample whose size does not grow with N
 * (eap-dump --keep); /tokens, /lengths and /metric always hold all N.
 * One chunk per example, byte-shuffled and deflated at level 1 (see
 * h5io.c for the measurements); the rest is contiguous.  An append past
 * the first K examples may leave the acts fields NULL (they are not
 * read); one that covers some of them writes only those rows.  n_fwd must be
 * 1 + L(H+1) for meta's n_layer and n_head; meta's n_examples must be 0
 * (set to N) or N.  Append batches until N examples are written, then
 * commit, which closes the file and renames it into place; commit fails
 * (and removes the file) if fewer than N were appended.  After any
 * failure call eap_acts_abort, which is safe on a zeroed, committed or
 * aborted writer.  Ids are HDF5 hid_t values.  Positions past an
 * example's length are stored as given; zeroing them (nothing reads them:
 * their gradients are 0) shrinks the file by a quarter on short prompts.
 */
struct eap_acts_writer {
	char *path, *tmp;
	int64_t file, ds[EAP_ACTS_N_DS];
	size_t N, K, P, n_fwd, d;
	size_t done;               /* examples appended so far */
};

int eap_acts_create(struct eap_acts_writer *w, const char *path, size_t N,
		    size_t K, size_t P, size_t n_fwd, size_t d,
		    const struct eap_h5_meta *meta, struct eap_err *err);
int eap_acts_append(struct eap_acts_writer *w, size_t nb,
		    const struct eap_acts_batch *b, struct eap_err *err);
int eap_acts_commit(struct eap_acts_writer *w, struct eap_err *err);
void eap_acts_abort(struct eap_acts_writer *w);

/*
 * acts.h5 reader.  Open checks every dataset and the lengths (1..P); d is
 * taken from the file (compare it with the model's n_embd), K (the
 * examples with node outputs, 1..N) from /acts/clean.  Read copies
 * examples start..start+nb-1; asking for node outputs past K is
 * EAP_EINVAL.  Close is safe on a zeroed or failed struct.
 */
struct eap_acts {
	char *path;
	int64_t file, ds[EAP_ACTS_N_DS];
	size_t N, K, P, n_fwd, d;
	int32_t *lengths;          /* (N) */
	struct eap_h5_meta meta;
};

int eap_acts_open(struct eap_acts *r, const char *path, struct eap_err *err);
int eap_acts_read(const struct eap_acts *r, size_t start, size_t nb,
		  const struct eap_acts_batch *b, struct eap_err *err);
void eap_acts_close(struct eap_acts *r);

/*
 * dst (b, a, d) = src (a, b, d) transposed in its leading axes.  With
 * a = nb * P and b = n_fwd this turns acts.h5's example-major batch into
 * the node-major (n_fwd, nb, P, d) layout of attrib.h, and back with a
 * and b swapped.
 */
void eap_acts_transpose(float *dst, const float *src, size_t a, size_t b,
			size_t d);

/*
 * circuit.h5 (single != 0, K must be 1): /in_graph (uint8 n_fwd x n_bwd),
 * /nodes_in_graph (uint8 n_fwd) and the attributes n_edges_requested,
 * n_edges and selection.  circuits.h5 (a curve, single == 0):
 * /in_graph (K x n_fwd x n_bwd), /nodes_in_graph (K x n_fwd),
 * /edges_requested and /edges (int64 K) and the selection attribute.
 * edges[k] must be the number of edges of circuit k, every one of them an
 * edge of the graph; the reader checks the same.  The reader accepts
 * both forms (a single circuit is K = 1, single = 1).
 */
struct eap_circuits {
	struct eap_graph graph;
	size_t K;
	int single;                /* read from the circuit.h5 form */
	uint8_t *in_graph;         /* (K, n_fwd, n_bwd) 0/1 */
	uint8_t *nodes_in_graph;   /* (K, n_fwd) 0/1 */
	int64_t *edges_requested;  /* (K) */
	int64_t *edges;            /* (K) edges after pruning */
	char *selection;           /* "topn 100", "greedy 10,20,..." */
	struct eap_h5_meta meta;
};

int eap_circuits_write(const char *path, const struct eap_graph *g,
		       size_t K, int single, const uint8_t *in_graph,
		       const uint8_t *nodes_in_graph,
		       const int64_t *edges_requested, const int64_t *edges,
		       const char *selection, const struct eap_h5_meta *meta,
		       struct eap_err *err);
int eap_circuits_read(const char *path, struct eap_circuits *c,
		      struct eap_err *err);
void eap_circuits_release(struct eap_circuits *c);

/*
 * curve.h5, the HDF5 twin of eap-eval's CSV: per-example metrics of K
 * circuits evaluated on N examples.  /metric/clean, /metric/corrupted
 * (float64 N), /metric/circuit (K x N), /edges_requested, /edges (int64
 * K), /faithfulness (K) and /ci (K x 2, the 95% bootstrap interval); the
 * ablation kind as an attribute beside the provenance.
 */
int eap_curve_write(const char *path, size_t K, size_t N,
		    const int64_t *edges_requested, const int64_t *edges,
		    const double *m_clean, const double *m_corr,
		    const double *m_circ, const double *faith,
		    const double *ci, const char *ablation,
		    const struct eap_h5_meta *meta, struct eap_err *err);

/*
 * curve.h5 read back (eap-compare --curves): the per-example metrics and
 * the sizes.  Sizes must ascend; EAP_EFORMAT otherwise.
 */
struct eap_curve_data {
	size_t K, N;
	int64_t *edges_requested;  /* (K) */
	int64_t *edges;            /* (K) after pruning */
	double *m_clean, *m_corr;  /* (N) */
	double *m_circ;            /* (K, N) */
	struct eap_h5_meta meta;
};

int eap_curve_read(const char *path, struct eap_curve_data *c,
		   struct eap_err *err);
void eap_curve_data_release(struct eap_curve_data *c);

#endif
