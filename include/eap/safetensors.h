/*
 * safetensors.h - read and write the safetensors format.
 *
 * Layout: an 8-byte little-endian header length n, n bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...,
 *  "__metadata__": {...}}, then the data; offsets are relative to the start
 * of the data.  The reader maps the file, validates the header (dtypes,
 * shapes vs byte sizes, offsets inside the file, no two tensors
 * overlapping) and converts F32, F16 and BF16 to float32 on request.
 * I32 and U8 are accepted for integer and mask fixtures; the format's
 * other dtypes (buffers such as BOOL masks) are validated but not read.
 *
 *   struct eap_safetensors st = {0};
 *   if (eap_safetensors_open(&st, "model.safetensors", &err) < 0) ...
 *   const struct eap_st_tensor *t = eap_safetensors_find(&st, "wte.weight");
 *   eap_safetensors_read_f32(&st, t, dst, t->numel, &err);
 *   eap_safetensors_release(&st);
 * A failed open leaves st zeroed: nothing to release.
 */
#ifndef EAP_SAFETENSORS_H
#define EAP_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "eap/err.h"

#define EAP_ST_MAX_DIMS 8

enum eap_dtype { EAP_F32, EAP_F16, EAP_BF16, EAP_I32, EAP_U8,
		 EAP_OTHER /* BOOL, I8, I16, I64, F64, ...: size checked, not read */ };

struct eap_st_tensor {
	char *name;
	enum eap_dtype dtype;
	size_t ndim;
	size_t shape[EAP_ST_MAX_DIMS];
	size_t numel;
	size_t begin, end; /* byte offsets into the data section */
};

struct eap_safetensors {
	char *path;
	const unsigned char *data; /* start of the data section, inside map */
	void *map;
	size_t map_size;
	int fd;                /* kept open (fd_open) for eap_safetensors_check */
	int fd_open;
	long long mtime_ns;    /* the file's mtime when it was opened */
	size_t n_tensors;
	struct eap_st_tensor *tensors; /* (n_tensors), sorted by begin */
};

int eap_safetensors_open(struct eap_safetensors *st, const char *path,
			 struct eap_err *err);
void eap_safetensors_release(struct eap_safetensors *st);

/* The tensor called name, or NULL. */
const struct eap_st_tensor *
eap_safetensors_find(const struct eap_safetensors *st, const char *name);

/* Convert a float tensor to float32 into dst (n must equal t->numel). */
int eap_safetensors_read_f32(const struct eap_safetensors *st,
			     const struct eap_st_tensor *t, float *dst,
			     size_t n, struct eap_err *err);

/*
 * Convert elements first..first+n-1 of a float tensor to float32 into dst
 * (a row of an embedding).
 */
int eap_safetensors_read_f32_range(const struct eap_safetensors *st,
				   const struct eap_st_tensor *t, size_t first,
				   float *dst, size_t n, struct eap_err *err);

/*
 * 0 if the file is as it was when opened (same size and mtime), else an
 * error naming it.  Reading a mapped page past a truncated file's end
 * raises SIGBUS: a caller that reads weights long after opening (a model
 * converted layer by layer) checks first.
 */
int eap_safetensors_check(const struct eap_safetensors *st,
			  struct eap_err *err);

/*
 * Drop tensor t's mapped pages from this process's resident set (they
 * stay in the page cache): after converting them to float32.
 */
void eap_safetensors_drop(const struct eap_safetensors *st,
			  const struct eap_st_tensor *t);

/* The same for elements first..first+n-1 of a float tensor (the pages
 * they touch, whole). */
void eap_safetensors_drop_range(const struct eap_safetensors *st,
				const struct eap_st_tensor *t, size_t first,
				size_t n);

/* Copy an I32 tensor into dst (n must equal t->numel). */
int eap_safetensors_read_i32(const struct eap_safetensors *st,
			     const struct eap_st_tensor *t, int32_t *dst,
			     size_t n, struct eap_err *err);

/* Copy a U8 tensor into dst (n must equal t->numel). */
int eap_safetensors_read_u8(const struct eap_safetensors *st,
			    const struct eap_st_tensor *t, uint8_t *dst,
			    size_t n, struct eap_err *err);

/*
 * One tensor to write, from float32 values: data, or when data is NULL
 * fill(ctx, dst, first, n) called for elements first..first+n-1 in turn
 * (a model too large to hold).  Stored as dtype: F32 (the zero value),
 * BF16 or F16 (rounded to nearest even).
 */
struct eap_st_out {
	const char *name;
	size_t ndim;
	size_t shape[EAP_ST_MAX_DIMS];
	const float *data;
	enum eap_dtype dtype;
	void (*fill)(void *ctx, float *dst, size_t first, size_t n);
	void *ctx;
};

/*
 * Write n tensors to path (through path.tmp and rename, so a failed
 * write leaves nothing).  Tensors are stored in the order given.
 */
int eap_safetensors_write(const char *path, const struct eap_st_out *t,
			  size_t n, struct eap_err *err);

/* float16 / bfloat16 bit patterns to float (exact). */
float eap_f16_to_f32(uint16_t h);
float eap_bf16_to_f32(uint16_t h);

/* float to bfloat16 / float16, rounded to nearest even (finite x). */
uint16_t eap_f32_to_bf16(float x);
uint16_t eap_f32_to_f16(float x);

#endif
