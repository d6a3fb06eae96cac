/*
 * safetensors.c - see include/eap/safetensors.h.
 */
#include "eap/safetensors.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header larger than this is not a model file but garbage. */
#define MAX_HEADER (100u << 20)

static const struct {
	const char *name;
	enum eap_dtype dtype;
	size_t size;
} dtypes[] = {
	{ "F32", EAP_F32, 4 },
	{ "F16", EAP_F16, 2 },
	{ "BF16", EAP_BF16, 2 },
	{ "I32", EAP_I32, 4 },
	{ "U8", EAP_U8, 1 },
	/* the rest of the format's dtypes: checkpoints carry such buffers
	 * (GPT-NeoX's BOOL causal mask); accepted, never converted */
	{ "BOOL", EAP_OTHER, 1 }, { "I8", EAP_OTHER, 1 },
	{ "F8_E4M3", EAP_OTHER, 1 }, { "F8_E5M2", EAP_OTHER, 1 },
	{ "I16", EAP_OTHER, 2 }, { "U16", EAP_OTHER, 2 },
	{ "U32", EAP_OTHER, 4 }, { "I64", EAP_OTHER, 8 },
	{ "U64", EAP_OTHER, 8 }, { "F64", EAP_OTHER, 8 },
};

float eap_f16_to_f32(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
	float v;

	if (exp == 0)
		v = ldexpf((float)man, -24); /* zero or subnormal */
	else if (exp == 31)
		v = man ? NAN : INFINITY;
	else
		v = ldexpf((float)(man | 0x400), exp - 25);
	return sign ? -v : v;
}

float eap_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

uint16_t eap_f32_to_bf16(float x)
{
	uint32_t u;

	memcpy(&u, &x, sizeof(u));
	u += 0x7fff + ((u >> 16) & 1); /* round to nearest even */
	return (uint16_t)(u >> 16);
}

uint16_t eap_f32_to_f16(float x)
{
	uint32_t u, sign, a;
	int e;

	memcpy(&u, &x, sizeof(u));
	sign = (u >> 16) & 0x8000;
	a = u & 0x7fffffff;
	if (a >= 0x477ff000) /* rounds to 65520 or more: infinity */
		return (uint16_t)(sign | 0x7c00);
	e = (int)(a >> 23) - 127;
	if (e < -14) { /* subnormal: a multiple of 2^-24, rounded */
		float v;
		uint32_t m;

		memcpy(&v, &a, sizeof(v));
		m = (uint32_t)lrintf(ldexpf(v, 24)); /* nearest even */
		return (uint16_t)(sign | m);
	}
	{
		uint32_t m = a & 0x7fffff, h = (uint32_t)(e + 15) << 10 | m >> 13;
		uint32_t rest = m & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++; /* a carry into the exponent is right */
		return (uint16_t)(sign | h);
	}
}

/* A JSON number that is a whole non-negative integer below 2^53. */
static int json_size(const cJSON *j, size_t *out)
{
	double d;

	if (!cJSON_IsNumber(j))
		return -1;
	d = j->valuedouble;
	if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
		return -1;
	*out = (size_t)d;
	return 0;
}

static int cmp_begin(const void *a, const void *b)
{
	const struct eap_st_tensor *x = a, *y = b;

	return (x->begin > y->begin) - (x->begin < y->begin);
}

static int parse_tensor(const char *path, const cJSON *j,
			struct eap_st_tensor *t, size_t data_size,
			struct eap_err *err)
{
	const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
	const cJSON *offs = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
	const cJSON *e;
	size_t i, es = 0, nbytes;

	if (!cJSON_IsObject(j) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) ||
	    !cJSON_IsArray(offs))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\": header entry needs dtype, shape and data_offsets",
				   path, t->name);
	for (i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
		if (!strcmp(dt->valuestring, dtypes[i].name)) {
			t->dtype = dtypes[i].dtype;
			es = dtypes[i].size;
		}
	if (!es)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\": unsupported dtype \"%s\" (not a safetensors dtype)",
				   path, t->name, dt->valuestring);
	t->ndim = 0;
	t->numel = 1;
	cJSON_ArrayForEach(e, shape) {
		size_t d;

		if (t->ndim == EAP_ST_MAX_DIMS || json_size(e, &d) < 0)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: tensor \"%s\": bad shape", path,
					   t->name);
		if (d && t->numel > SIZE_MAX / 16 / d)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: tensor \"%s\": shape too large",
					   path, t->name);
		t->shape[t->ndim++] = d;
		t->numel *= d;
	}
	if (cJSON_GetArraySize(offs) != 2 ||
	    json_size(cJSON_GetArrayItem(offs, 0), &t->begin) < 0 ||
	    json_size(cJSON_GetArrayItem(offs, 1), &t->end) < 0 ||
	    t->begin > t->end)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\": bad data_offsets", path,
				   t->name);
	if (t->end > data_size)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\": data_offsets [%zu, %zu] past end of data (%zu bytes)",
				   path, t->name, t->begin, t->end, data_size);
	nbytes = t->numel * es;
	if (t->end - t->begin != nbytes)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\": shape needs %zu bytes but data_offsets span %zu",
				   path, t->name, nbytes, t->end - t->begin);
	return 0;
}

static int parse_header(struct eap_safetensors *st, const char *hdr,
			size_t hdr_len, size_t data_size, struct eap_err *err)
{
	cJSON *root = cJSON_ParseWithLength(hdr, hdr_len);
	const cJSON *j;
	size_t n = 0, i, k;
	int rc = 0;

	if (!cJSON_IsObject(root)) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: header is not a JSON object", st->path);
		goto out;
	}
	cJSON_ArrayForEach(j, root)
		n++;
	st->tensors = calloc(n ? n : 1, sizeof(*st->tensors));
	if (!st->tensors) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(j, root) {
		struct eap_st_tensor *t = &st->tensors[st->n_tensors];

		if (!strcmp(j->string, "__metadata__"))
			continue;
		t->name = strdup(j->string);
		if (!t->name) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto out;
		}
		st->n_tensors++;
		rc = parse_tensor(st->path, j, t, data_size, err);
		if (rc)
			goto out;
		for (k = 0; k + 1 < st->n_tensors; k++)
			if (!strcmp(st->tensors[k].name, t->name)) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s: tensor \"%s\" appears twice",
						 st->path, t->name);
				goto out;
			}
	}
	qsort(st->tensors, st->n_tensors, sizeof(*st->tensors), cmp_begin);
	for (i = 1; i < st->n_tensors; i++)
		if (st->tensors[i].begin < st->tensors[i - 1].end &&
		    st->tensors[i].begin < st->tensors[i].end) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: tensors \"%s\" and \"%s\" overlap",
					 st->path, st->tensors[i - 1].name,
					 st->tensors[i].name);
			goto out;
		}
out:
	cJSON_Delete(root);
	return rc;
}

static int open_file(struct eap_safetensors *st, const char *path,
		     struct eap_err *err)
{
	struct stat sb;
	uint64_t hlen = 0;
	int fd, rc;

	memset(st, 0, sizeof(*st));
	st->path = strdup(path);
	if (!st->path)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return eap_err_set(err, EAP_EIO, "%s: not a regular file", path);
	}
	if (sb.st_size < 8) {
		close(fd);
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: truncated: %lld bytes, no header length",
				   path, (long long)sb.st_size);
	}
	st->map_size = (size_t)sb.st_size;
	st->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL +
		       sb.st_mtim.tv_nsec;
	st->map = mmap(NULL, st->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
	/* the descriptor stays open: eap_safetensors_check asks it whether
	 * the file changed under the mapping */
	st->fd = fd;
	st->fd_open = 1;
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		return eap_err_set(err, EAP_EIO, "%s: cannot map: %s", path,
				   strerror(errno));
	}
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | ((const unsigned char *)st->map)[i];
	if (hlen > st->map_size - 8 || hlen > MAX_HEADER)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: header length %llu past end of file (%zu bytes)",
				   path, (unsigned long long)hlen, st->map_size);
	st->data = (const unsigned char *)st->map + 8 + hlen;
	rc = parse_header(st, (const char *)st->map + 8, (size_t)hlen,
			  st->map_size - 8 - (size_t)hlen, err);
	return rc;
}

/* A failed open releases what it holds: nothing is left to the caller. */
int eap_safetensors_open(struct eap_safetensors *st, const char *path,
			 struct eap_err *err)
{
	int rc = open_file(st, path, err);

	if (rc)
		eap_safetensors_release(st);
	return rc;
}

void eap_safetensors_release(struct eap_safetensors *st)
{
	if (st->map)
		munmap(st->map, st->map_size);
	if (st->fd_open)
		close(st->fd);
	for (size_t i = 0; i < st->n_tensors; i++)
		free(st->tensors[i].name);
	free(st->tensors);
	free(st->path);
	memset(st, 0, sizeof(*st));
}

const struct eap_st_tensor *
eap_safetensors_find(const struct eap_safetensors *st, const char *name)
{
	for (size_t i = 0; i < st->n_tensors; i++)
		if (!strcmp(st->tensors[i].name, name))
			return &st->tensors[i];
	return NULL;
}

int eap_safetensors_read_f32(const struct eap_safetensors *st,
			     const struct eap_st_tensor *t, float *dst,
			     size_t n, struct eap_err *err)
{
	if (n != t->numel)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: tensor \"%s\" has %zu elements, expected %zu",
				   st->path, t->name, t->numel, n);
	return eap_safetensors_read_f32_range(st, t, 0, dst, n, err);
}

/* Bytes of one element of a float tensor (0 for others). */
static size_t float_size(const struct eap_st_tensor *t)
{
	return t->dtype == EAP_F32 ? 4 :
	       t->dtype == EAP_F16 || t->dtype == EAP_BF16 ? 2 : 0;
}

int eap_safetensors_read_f32_range(const struct eap_safetensors *st,
				   const struct eap_st_tensor *t, size_t first,
				   float *dst, size_t n, struct eap_err *err)
{
	const unsigned char *p;

	if (first > t->numel || n > t->numel - first)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: tensor \"%s\" has %zu elements, not %zu..%zu",
				   st->path, t->name, t->numel, first,
				   first + n);
	p = st->data + t->begin + first * float_size(t);
	switch (t->dtype) {
	case EAP_F32:
		memcpy(dst, p, n * sizeof(float));
		break;
	case EAP_F16:
	case EAP_BF16:
		for (size_t i = 0; i < n; i++) {
			uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
			dst[i] = t->dtype == EAP_F16 ? eap_f16_to_f32(h)
						     : eap_bf16_to_f32(h);
		}
		break;
	default:
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\" is not a float tensor",
				   st->path, t->name);
	}
	return 0;
}

int eap_safetensors_check(const struct eap_safetensors *st,
			  struct eap_err *err)
{
	struct stat sb;
	long long mt;

	if (!st->fd_open)
		return 0;
	if (fstat(st->fd, &sb) < 0)
		return eap_err_set(err, EAP_EIO, "%s: %s", st->path,
				   strerror(errno));
	mt = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	if ((size_t)sb.st_size != st->map_size)
		return eap_err_set(err, EAP_EIO,
				   "%s: changed while in use: %lld bytes, %zu when loaded",
				   st->path, (long long)sb.st_size,
				   st->map_size);
	if (mt != st->mtime_ns)
		return eap_err_set(err, EAP_EIO,
				   "%s: changed while in use (modified after it was loaded)",
				   st->path);
	return 0;
}

void eap_safetensors_drop(const struct eap_safetensors *st,
			  const struct eap_st_tensor *t)
{
	eap_safetensors_drop_range(st, t, 0, t->numel);
}

void eap_safetensors_drop_range(const struct eap_safetensors *st,
				const struct eap_st_tensor *t, size_t first,
				size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), es = float_size(t);
	size_t at = (size_t)(st->data - (const unsigned char *)st->map) + t->begin;
	size_t b = es ? at + first * es : at;
	size_t e = es ? at + (first + n) * es : at + (t->end - t->begin);

	/* whole pages around the tensor: a neighbour's dropped page is read
	 * again from the page cache when needed */
	b -= b % pg;
	if (e > b)
		madvise((char *)st->map + b, e - b, MADV_DONTNEED);
}

int eap_safetensors_read_i32(const struct eap_safetensors *st,
			     const struct eap_st_tensor *t, int32_t *dst,
			     size_t n, struct eap_err *err)
{
	if (t->dtype != EAP_I32)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\" is not I32", st->path,
				   t->name);
	if (n != t->numel)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: tensor \"%s\" has %zu elements, expected %zu",
				   st->path, t->name, t->numel, n);
	memcpy(dst, st->data + t->begin, n * sizeof(int32_t));
	return 0;
}

int eap_safetensors_read_u8(const struct eap_safetensors *st,
			    const struct eap_st_tensor *t, uint8_t *dst,
			    size_t n, struct eap_err *err)
{
	if (t->dtype != EAP_U8)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: tensor \"%s\" is not U8", st->path,
				   t->name);
	if (n != t->numel)
		return eap_err_set(err, EAP_ESHAPE,
				   "%s: tensor \"%s\" has %zu elements, expected %zu",
				   st->path, t->name, t->numel, n);
	memcpy(dst, st->data + t->begin, n);
	return 0;
}

/* Elements converted and written at a time. */
#define WRITE_CHUNK ((size_t)1 << 16)

/* Tensor t's values, in its dtype. */
static int write_data(FILE *f, const struct eap_st_out *t,
		      struct eap_err *err)
{
	size_t numel = 1;
	float *buf = NULL;
	uint16_t *h = NULL;

	for (size_t d = 0; d < t->ndim; d++)
		numel *= t->shape[d];
	if (t->dtype == EAP_F32 && t->data) {
		fwrite(t->data, sizeof(float), numel, f);
		return 0;
	}
	buf = malloc(WRITE_CHUNK * sizeof(float));
	h = malloc(WRITE_CHUNK * sizeof(uint16_t));
	if (!buf || !h) {
		free(buf);
		free(h);
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	for (size_t k0 = 0; k0 < numel; k0 += WRITE_CHUNK) {
		size_t k = numel - k0 < WRITE_CHUNK ? numel - k0 : WRITE_CHUNK;
		const float *src = t->data ? t->data + k0 : buf;

		if (!t->data)
			t->fill(t->ctx, buf, k0, k);
		if (t->dtype == EAP_F32) {
			fwrite(src, sizeof(float), k, f);
			continue;
		}
		for (size_t j = 0; j < k; j++) {
			uint16_t v = t->dtype == EAP_BF16 ? eap_f32_to_bf16(src[j])
							  : eap_f32_to_f16(src[j]);
			unsigned char b[2] = { (unsigned char)(v & 0xff),
					       (unsigned char)(v >> 8) };

			memcpy(h + j, b, 2); /* little-endian bytes */
		}
		fwrite(h, sizeof(uint16_t), k, f);
	}
	free(buf);
	free(h);
	return 0;
}

int eap_safetensors_write(const char *path, const struct eap_st_out *t,
			  size_t n, struct eap_err *err)
{
	cJSON *root = cJSON_CreateObject(), *meta;
	char *hdr = NULL, *tmp = NULL;
	size_t off = 0, hlen, padded;
	unsigned char lenb[8];
	FILE *f = NULL;
	int rc = 0;

	if (!root || !(meta = cJSON_AddObjectToObject(root, "__metadata__")) ||
	    !cJSON_AddStringToObject(meta, "format", "pt")) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *e = cJSON_AddObjectToObject(root, t[i].name), *sh, *of;
		size_t numel = 1;

		for (size_t d = 0; d < t[i].ndim; d++)
			numel *= t[i].shape[d];
		if (!e || !cJSON_AddStringToObject(e, "dtype",
						   t[i].dtype == EAP_BF16 ? "BF16" :
						   t[i].dtype == EAP_F16 ? "F16" : "F32") ||
		    !(sh = cJSON_AddArrayToObject(e, "shape")) ||
		    !(of = cJSON_AddArrayToObject(e, "data_offsets"))) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto out;
		}
		for (size_t d = 0; d < t[i].ndim; d++)
			cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i].shape[d]));
		cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
		off += numel * (t[i].dtype == EAP_F32 ? 4 : 2);
		cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
	}
	hdr = cJSON_PrintUnformatted(root);
	tmp = malloc(strlen(path) + 5);
	if (!hdr || !tmp) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	sprintf(tmp, "%s.tmp", path);
	hlen = strlen(hdr);
	padded = (hlen + 7) / 8 * 8; /* keeps the data 8-byte aligned */
	for (int i = 0; i < 8; i++)
		lenb[i] = (unsigned char)((uint64_t)padded >> (8 * i));
	f = fopen(tmp, "wb");
	if (!f) {
		rc = eap_err_set(err, EAP_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fwrite(lenb, 1, 8, f);
	fwrite(hdr, 1, hlen, f);
	for (size_t i = hlen; i < padded; i++)
		fputc(' ', f);
	for (size_t i = 0; i < n && !rc; i++)
		rc = write_data(f, &t[i], err);
	if (rc)
		goto out;
	if (ferror(f) | fclose(f)) {
		f = NULL;
		rc = eap_err_set(err, EAP_EIO, "%s: write failed", tmp);
		unlink(tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) < 0) {
		rc = eap_err_set(err, EAP_EIO, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	free(tmp);
	free(hdr);
	cJSON_Delete(root);
	return rc;
}
