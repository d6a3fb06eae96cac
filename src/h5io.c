/*
 * h5io.c - see include/eap/h5io.h.
 *
 * acts.h5 compression (eap_acts_create): each example of /acts/{clean,
 * corrupted} is one chunk (N x P x n_fwd x d with chunk 1 x P x n_fwd x d),
 * so writing and reading a batch touches whole chunks only.  Measured on
 * GPT-2-small shapes (P 16, n_fwd 157, d 768; 24 examples = 185 MB of
 * Gaussian activations with per-node scales, padding after 10..16 real
 * positions zeroed), 2-core EPYC, HDF5 1.10.8:
 *   filter             size    write      read
 *   none               100%    316 MB/s   2435 MB/s
 *   deflate 1          77.8%    17 MB/s    131 MB/s
 *   shuffle+deflate 1  71.8%    16 MB/s    171 MB/s
 *   shuffle+deflate 4  71.5%    13 MB/s    124 MB/s
 *   shuffle+deflate 6  71.2%     8 MB/s    122 MB/s
 * (padding not zeroed: shuffle+deflate 1 gives 86.6%, deflate 1 93.8%).
 * The mantissa bytes are noise; the shuffle groups the exponent bytes,
 * which is where the redundancy is, so it is both smaller and faster to
 * read.  Higher levels gain under 1% for up to twice the time.  gzip -1
 * itself runs at 17 MB/s on that machine: writing is bound by zlib.
 */
#include "eap/h5io.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <openssl/evp.h>

#include "eap/hfdir.h"

_Static_assert(sizeof(hid_t) == sizeof(int64_t),
	       "eap/h5io.h stores hid_t values as int64_t");

#define ACTS_DEFLATE_LEVEL 1
/* Larger chunks are split per position (HDF5 limits a chunk to 4 GiB). */
#define MAX_CHUNK_BYTES ((hsize_t)1 << 31)
/* Refuse graphs and curves too large to be real before allocating them. */
#define MAX_GRAPH_CELLS ((size_t)1 << 31)
#define MAX_CIRCUIT_BYTES ((size_t)1 << 33)

/* ---- errors ----------------------------------------------------------------- */

/* HDF5's automatic error printing, switched off for one public call. */
struct quiet {
	H5E_auto2_t fn;
	void *data;
};

static void quiet_on(struct quiet *q)
{
	/*
	 * HDF5 1.10.8 leaks a metadata cache block when a checksum fails on
	 * a corrupted file, and its atexit handler then prints "HDF5:
	 * infinite loop closing library" after our one error line.  We close
	 * every id ourselves, so skip that handler.  This only works before
	 * the library's first use, and fails harmlessly afterwards.
	 */
	H5dont_atexit();
	H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	H5Eclear2(H5E_DEFAULT);
}

static void quiet_off(const struct quiet *q)
{
	H5Eclear2(H5E_DEFAULT);
	H5Eset_auto2(H5E_DEFAULT, q->fn, q->data);
}

static int vfail(struct eap_err *err, int code, const char *path,
		 const char *reason, const char *fmt, va_list ap)
{
	char msg[EAP_ERR_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (reason && *reason)
		return eap_err_set(err, code, "%.300s: %.500s (%.200s)", path,
				   msg, reason);
	return eap_err_set(err, code, "%.300s: %.700s", path, msg);
}

/* "path: message", returning code. */
__attribute__((format(printf, 4, 5)))
static int fail(struct eap_err *err, int code, const char *path,
		const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail(err, code, path, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* The innermost HDF5 error (where it was detected) is the informative one. */
static herr_t walk_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
	char *buf = data;
	const char *s = e->desc ? e->desc : "";
	const char *m = strstr(s, "error message = '");

	if (n != 0)
		return 0;
	if (m) { /* a system error: keep strerror's text only */
		m += strlen("error message = '");
		snprintf(buf, 200, "%.*s", (int)strcspn(m, "'"), m);
	} else {
		snprintf(buf, 200, "%s", s);
	}
	return 0;
}

/* "path: message (HDF5's reason)", returning code. */
__attribute__((format(printf, 4, 5)))
static int h5fail(struct eap_err *err, int code, const char *path,
		  const char *fmt, ...)
{
	char reason[200] = "";
	va_list ap;
	int rc;

	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, reason);
	H5Eclear2(H5E_DEFAULT);
	va_start(ap, fmt);
	rc = vfail(err, code, path, reason, fmt, ap);
	va_end(ap);
	return rc;
}

static void close_id(hid_t *id, herr_t (*fn)(hid_t))
{
	if (*id > 0)
		fn(*id);
	*id = H5I_INVALID_HID;
}

/* ---- types and shapes ------------------------------------------------------- */

enum kind { K_F32, K_I32, K_U8, K_INT, K_STR, K_F64 };

static const char *kind_name(enum kind k)
{
	static const char *names[] = { "float32", "int32", "uint8",
				       "an integer type", "strings", "float" };
	return names[k];
}

/* uint8 also admits int8 and h5py's 1-byte bool enum (values checked later). */
static int kind_ok(hid_t t, enum kind k)
{
	H5T_class_t c = H5Tget_class(t);
	size_t sz = H5Tget_size(t);

	switch (k) {
	case K_F32:
		return c == H5T_FLOAT && sz == 4;
	case K_I32:
		return c == H5T_INTEGER && sz == 4 && H5Tget_sign(t) == H5T_SGN_2;
	case K_U8:
		return (c == H5T_INTEGER || c == H5T_ENUM) && sz == 1;
	case K_INT:
		return c == H5T_INTEGER && sz <= 8;
	case K_STR:
		return c == H5T_STRING;
	case K_F64:
		return c == H5T_FLOAT;
	}
	return 0;
}

static void type_desc(hid_t t, char *buf, size_t n)
{
	size_t bits = 8 * H5Tget_size(t);

	switch (H5Tget_class(t)) {
	case H5T_INTEGER:
		snprintf(buf, n, "%sint%zu",
			 H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bits);
		break;
	case H5T_FLOAT:
		snprintf(buf, n, "float%zu", bits);
		break;
	case H5T_STRING:
		snprintf(buf, n, "string");
		break;
	case H5T_ENUM:
		snprintf(buf, n, "enum%zu", bits);
		break;
	case H5T_COMPOUND:
		snprintf(buf, n, "compound");
		break;
	default:
		snprintf(buf, n, "an unsupported type");
	}
}

/* "[4, 8, 11, 16]"; with unknown, 0 is an unknown size shown as "?" */
static void shape_str(char *buf, size_t n, int rank, const hsize_t *dims,
		      int unknown)
{
	size_t k = (size_t)snprintf(buf, n, "[");

	for (int i = 0; i < rank && k < n; i++)
		if (unknown && !dims[i])
			k += (size_t)snprintf(buf + k, n - k, "%s?",
					      i ? ", " : "");
		else
			k += (size_t)snprintf(buf + k, n - k, "%s%llu",
					      i ? ", " : "",
					      (unsigned long long)dims[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

/*
 * Whether every group on the way to name ("/a/b") and name itself exist:
 * 1, 0, or -1 if the file's metadata cannot be read.
 */
static int link_exists(hid_t f, const char *name)
{
	char buf[256];
	size_t n = strlen(name);
	htri_t ex;

	if (n >= sizeof(buf))
		return 0;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && name[i] != '/')
			continue;
		memcpy(buf, name, i);
		buf[i] = 0;
		if ((ex = H5Lexists(f, buf, H5P_DEFAULT)) <= 0)
			return ex < 0 ? -1 : 0;
	}
	return 1;
}

/* 0 if dataset name exists, else the error. */
static int need_ds(hid_t f, const char *path, const char *name,
		   struct eap_err *err)
{
	int ex = link_exists(f, name);

	if (ex < 0)
		return h5fail(err, EAP_EFORMAT, path, "cannot look up %s", name);
	if (!ex)
		return fail(err, EAP_EFORMAT, path, "missing dataset %s", name);
	return 0;
}

/* Rank of dataset name, or -1 (with err set) if it is missing or broken. */
static int ds_rank(hid_t f, const char *path, const char *name,
		   struct eap_err *err)
{
	hid_t ds, sp;
	int r;

	if ((r = need_ds(f, path, name, err)))
		return r;
	if ((ds = H5Dopen2(f, name, H5P_DEFAULT)) < 0)
		return h5fail(err, EAP_EFORMAT, path,
			      "%s is not a readable dataset", name);
	sp = H5Dget_space(ds);
	r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
	if (r < 0) /* before the closes, which clear HDF5's error stack */
		r = h5fail(err, EAP_EFORMAT, path,
			   "%s has an unreadable dataspace", name);
	if (sp > 0)
		H5Sclose(sp);
	H5Dclose(ds);
	return r;
}

/*
 * Open dataset name and check its type (kind) and shape: rank entries of
 * want, 0 meaning any.  got (rank entries) receives the shape.
 */
static int open_ds(hid_t f, const char *path, const char *name, enum kind k,
		   int rank, const hsize_t *want, hsize_t *got, hid_t *out,
		   struct eap_err *err)
{
	hsize_t dims[H5S_MAX_RANK];
	char a[160], b[160];
	hid_t ds, t = -1, sp = -1;
	int r, ok, rc = 0;

	*out = H5I_INVALID_HID;
	if ((rc = need_ds(f, path, name, err)))
		return rc;
	if ((ds = H5Dopen2(f, name, H5P_DEFAULT)) < 0)
		return h5fail(err, EAP_EFORMAT, path,
			      "%s is not a readable dataset", name);
	if ((t = H5Dget_type(ds)) < 0 || (sp = H5Dget_space(ds)) < 0) {
		rc = h5fail(err, EAP_EFORMAT, path, "cannot inspect %s", name);
		goto done;
	}
	if (!kind_ok(t, k)) {
		type_desc(t, a, sizeof(a));
		rc = fail(err, EAP_EFORMAT, path, "%s has type %s, expected %s",
			  name, a, kind_name(k));
		goto done;
	}
	r = H5Sget_simple_extent_ndims(sp);
	if (r < 0 || r > H5S_MAX_RANK ||
	    H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
		rc = h5fail(err, EAP_EFORMAT, path,
			    "%s has an unreadable dataspace", name);
		goto done;
	}
	ok = H5Sget_simple_extent_type(sp) == H5S_SIMPLE && r == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = !want[i] || dims[i] == want[i];
	if (!ok) {
		hsize_t exp[H5S_MAX_RANK];
		/* wildcards show the file's value when the ranks agree */
		for (int i = 0; i < rank; i++)
			exp[i] = want[i] ? want[i] : r == rank ? dims[i] : 0;
		shape_str(a, sizeof(a), r, dims, 0);
		shape_str(b, sizeof(b), rank, exp, 1);
		if (H5Sget_simple_extent_type(sp) != H5S_SIMPLE)
			snprintf(a, sizeof(a), "no shape (scalar or null)");
		rc = fail(err, EAP_ESHAPE, path, "%s has shape %s, expected %s",
			  name, a, b);
		goto done;
	}
	for (int i = 0; i < rank; i++)
		if (!dims[i]) {
			rc = fail(err, EAP_ESHAPE, path, "%s is empty", name);
			goto done;
		}
	if (got)
		memcpy(got, dims, (size_t)rank * sizeof(*got));
done:
	if (t > 0)
		H5Tclose(t);
	if (sp > 0)
		H5Sclose(sp);
	if (rc)
		H5Dclose(ds);
	else
		*out = ds;
	return rc;
}

/* Memory type for reading a dataset of kind k whose file type is ft. */
static hid_t mem_type(hid_t ds, enum kind k)
{
	hid_t ft, mt;

	switch (k) {
	case K_F32:
		return H5Tcopy(H5T_NATIVE_FLOAT);
	case K_I32:
		return H5Tcopy(H5T_NATIVE_INT32);
	case K_INT:
		return H5Tcopy(H5T_NATIVE_INT64);
	case K_F64:
		return H5Tcopy(H5T_NATIVE_DOUBLE);
	case K_U8:
		/* an enum is read as its own bytes: HDF5 won't convert it */
		if ((ft = H5Dget_type(ds)) < 0)
			return -1;
		mt = H5Tget_class(ft) == H5T_ENUM
			     ? H5Tget_native_type(ft, H5T_DIR_ASCEND)
			     : H5Tcopy(H5T_NATIVE_UINT8);
		H5Tclose(ft);
		return mt;
	case K_STR:
		break;
	}
	return -1;
}

/* Read all of a numeric dataset (opened by open_ds) into buf. */
static int read_all(hid_t ds, enum kind k, void *buf, const char *path,
		    const char *name, struct eap_err *err)
{
	hid_t mt = mem_type(ds, k);
	herr_t st;
	int rc;

	if (mt < 0)
		return h5fail(err, EAP_EFORMAT, path, "cannot read %s", name);
	st = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
	rc = st < 0 ? h5fail(err, EAP_EIO, path, "cannot read %s", name) : 0;
	H5Tclose(mt);
	return rc;
}

/*
 * Read n strings of a 1-D string dataset (fixed or variable length) into
 * a malloc'd array of malloc'd strings.
 */
static int read_strings(hid_t ds, size_t n, char ***out, const char *path,
			const char *name, struct eap_err *err)
{
	hid_t ft = -1, mt = -1;
	char **s = calloc(n, sizeof(*s)), **v = NULL, *fixed = NULL;
	size_t sz = 0;
	int rc = 0;

	*out = NULL;
	if (!s)
		return fail(err, EAP_ENOMEM, path, "out of memory reading %s",
			    name);
	if ((ft = H5Dget_type(ds)) < 0 || (mt = H5Tcopy(H5T_C_S1)) < 0 ||
	    H5Tset_cset(mt, H5Tget_cset(ft)) < 0) {
		rc = h5fail(err, EAP_EFORMAT, path, "cannot read %s", name);
		goto done;
	}
	if (H5Tis_variable_str(ft) > 0) {
		if (!(v = calloc(n, sizeof(*v)))) {
			rc = fail(err, EAP_ENOMEM, path, "out of memory reading %s",
				  name);
			goto done;
		}
		if (H5Tset_size(mt, H5T_VARIABLE) < 0 ||
		    H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
			rc = h5fail(err, EAP_EIO, path, "cannot read %s", name);
			goto done;
		}
		for (size_t i = 0; i < n && !rc; i++)
			if (!(s[i] = strdup(v[i] ? v[i] : "")))
				rc = fail(err, EAP_ENOMEM, path,
					  "out of memory reading %s", name);
	} else {
		sz = H5Tget_size(ft);
		if (!sz || sz > 4096 || !(fixed = malloc(n * (sz + 1)))) {
			rc = fail(err, sz > 4096 ? EAP_EFORMAT : EAP_ENOMEM, path,
				  "cannot read %s (strings of %zu bytes)", name, sz);
			goto done;
		}
		if (H5Tset_size(mt, sz + 1) < 0 ||
		    H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
		    H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed) < 0) {
			rc = h5fail(err, EAP_EIO, path, "cannot read %s", name);
			goto done;
		}
		for (size_t i = 0; i < n && !rc; i++) {
			fixed[i * (sz + 1) + sz] = 0;
			if (!(s[i] = strdup(fixed + i * (sz + 1))))
				rc = fail(err, EAP_ENOMEM, path,
					  "out of memory reading %s", name);
		}
	}
done:
	for (size_t i = 0; v && i < n; i++)
		if (v[i])
			H5free_memory(v[i]);
	free(v);
	free(fixed);
	if (ft > 0)
		H5Tclose(ft);
	if (mt > 0)
		H5Tclose(mt);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(s[i]);
		free(s);
	} else {
		*out = s;
	}
	return rc;
}

static void free_strings(char **s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		free(s[i]);
	free(s);
}

/* Check that string dataset name equals names (n). */
static int check_names(hid_t f, const char *path, const char *name,
		       char *const *names, size_t n, struct eap_err *err)
{
	hsize_t want[1] = { n };
	hid_t ds;
	char **got = NULL;
	int rc;

	if ((rc = open_ds(f, path, name, K_STR, 1, want, NULL, &ds, err)))
		return rc;
	rc = read_strings(ds, n, &got, path, name, err);
	H5Dclose(ds);
	for (size_t i = 0; !rc && i < n; i++)
		if (strcmp(got[i], names[i]))
			rc = fail(err, EAP_EFORMAT, path,
				  "%s[%zu] is '%.100s', expected '%s'", name, i,
				  got[i], names[i]);
	free_strings(got, n);
	return rc;
}

/* ---- attributes --------------------------------------------------------------- */

/* Open attribute name of obj, which must hold a single value. */
static int attr_open(hid_t obj, const char *path, const char *name,
		     hid_t *out, struct eap_err *err)
{
	hid_t a, sp;
	hssize_t n;
	htri_t ex = H5Aexists(obj, name);

	*out = H5I_INVALID_HID;
	if (ex < 0)
		return h5fail(err, EAP_EFORMAT, path,
			      "cannot read the attributes of /");
	if (!ex)
		return fail(err, EAP_EFORMAT, path, "missing attribute '%s' on /",
			    name);
	if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
		return h5fail(err, EAP_EFORMAT, path,
			      "cannot open attribute '%s'", name);
	sp = H5Aget_space(a);
	n = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
	if (sp > 0)
		H5Sclose(sp);
	if (n != 1) {
		H5Aclose(a);
		return fail(err, EAP_EFORMAT, path,
			    "attribute '%s' is not a single value", name);
	}
	*out = a;
	return 0;
}

/* A string attribute (fixed or variable length) into a malloc'd string. */
static int attr_read_str(hid_t obj, const char *path, const char *name,
			 char **out, struct eap_err *err)
{
	hid_t a, ft = -1, mt = -1;
	char *v = NULL, *s = NULL;
	size_t sz;
	int rc;

	*out = NULL;
	if ((rc = attr_open(obj, path, name, &a, err)))
		return rc;
	if ((ft = H5Aget_type(a)) < 0 || H5Tget_class(ft) != H5T_STRING) {
		rc = fail(err, EAP_EFORMAT, path,
			  "attribute '%s' is not a string", name);
		goto done;
	}
	if ((mt = H5Tcopy(H5T_C_S1)) < 0 ||
	    H5Tset_cset(mt, H5Tget_cset(ft)) < 0) {
		rc = h5fail(err, EAP_EFORMAT, path,
			    "cannot read attribute '%s'", name);
		goto done;
	}
	if (H5Tis_variable_str(ft) > 0) {
		if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Aread(a, mt, &v) < 0) {
			rc = h5fail(err, EAP_EFORMAT, path,
				    "cannot read attribute '%s'", name);
			goto done;
		}
		s = strdup(v ? v : "");
		if (v)
			H5free_memory(v);
	} else {
		sz = H5Tget_size(ft);
		if (!sz || sz > ((size_t)1 << 20) || !(s = malloc(sz + 1))) {
			rc = fail(err, EAP_EFORMAT, path,
				  "cannot read attribute '%s' (%zu bytes)", name,
				  sz);
			goto done;
		}
		if (H5Tset_size(mt, sz + 1) < 0 ||
		    H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
		    H5Aread(a, mt, s) < 0) {
			free(s);
			s = NULL;
			rc = h5fail(err, EAP_EFORMAT, path,
				    "cannot read attribute '%s'", name);
			goto done;
		}
		s[sz] = 0;
	}
	if (!rc && !s)
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
done:
	if (ft > 0)
		H5Tclose(ft);
	if (mt > 0)
		H5Tclose(mt);
	H5Aclose(a);
	*out = s;
	return rc;
}

/* A string attribute into buf of cap bytes. */
static int attr_read_buf(hid_t obj, const char *path, const char *name,
			 char *buf, size_t cap, struct eap_err *err)
{
	char *s;
	int rc = attr_read_str(obj, path, name, &s, err);

	if (rc)
		return rc;
	if (strlen(s) >= cap)
		rc = fail(err, EAP_EFORMAT, path,
			  "attribute '%s' is longer than %zu bytes", name,
			  cap - 1);
	else
		memcpy(buf, s, strlen(s) + 1);
	free(s);
	return rc;
}

/* An integer attribute in lo..hi. */
static int attr_read_int(hid_t obj, const char *path, const char *name,
			 int64_t lo, int64_t hi, int64_t *out,
			 struct eap_err *err)
{
	hid_t a, ft;
	int64_t v = 0;
	int rc, ok;

	if ((rc = attr_open(obj, path, name, &a, err)))
		return rc;
	ft = H5Aget_type(a);
	ok = ft > 0 && H5Tget_class(ft) == H5T_INTEGER;
	if (ft > 0)
		H5Tclose(ft);
	if (!ok)
		rc = fail(err, EAP_EFORMAT, path,
			  "attribute '%s' is not an integer", name);
	else if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0)
		rc = h5fail(err, EAP_EFORMAT, path,
			    "cannot read attribute '%s'", name);
	else if (v < lo || v > hi)
		rc = fail(err, EAP_EFORMAT, path,
			  "attribute '%s' is %lld, expected %lld..%lld", name,
			  (long long)v, (long long)lo, (long long)hi);
	H5Aclose(a);
	*out = v;
	return rc;
}

/*
 * Fixed-length, NUL-terminated UTF-8 strings of size bytes.  Not
 * variable-length: those live in HDF5's global heap, whose reader
 * (H5HG_read, 1.10) overruns its buffers on a corrupted file, and fixed
 * strings read as text in h5dump and as bytes in h5py all the same.
 */
static hid_t str_type(size_t size)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	if (t < 0)
		return t;
	if (H5Tset_size(t, size ? size : 1) < 0 ||
	    H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
	    H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

/* Scalar attribute of file type ft, memory type mt. */
static int attr_write(hid_t obj, const char *name, hid_t ft, hid_t mt,
		      const void *buf, const char *path, struct eap_err *err)
{
	hid_t sp = H5Screate(H5S_SCALAR), a = -1;
	int rc = 0;

	if (sp < 0 ||
	    (a = H5Acreate2(obj, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
	    H5Awrite(a, mt, buf) < 0)
		rc = h5fail(err, EAP_EIO, path, "cannot write attribute '%s'",
			    name);
	if (a >= 0)
		H5Aclose(a);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

static int attr_str(hid_t obj, const char *name, const char *s,
		    const char *path, struct eap_err *err)
{
	hid_t t = str_type(strlen(s) + 1);
	int rc;

	if (t < 0)
		return h5fail(err, EAP_EIO, path, "cannot write attribute '%s'",
			      name);
	rc = attr_write(obj, name, t, t, s, path, err);
	H5Tclose(t);
	return rc;
}

static int attr_i64(hid_t obj, const char *name, int64_t v,
		    const char *path, struct eap_err *err)
{
	return attr_write(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, path,
			  err);
}

/* ---- provenance ----------------------------------------------------------- */

#define META_STR(f) { #f, offsetof(struct eap_h5_meta, f), \
		      sizeof(((struct eap_h5_meta *)0)->f) }

static const struct {
	const char *name;
	size_t off, size;
} meta_strs[] = {
	META_STR(tool), META_STR(version), META_STR(model_path),
	META_STR(model_sha256), META_STR(pairs_path), META_STR(pairs_sha256),
	META_STR(method), META_STR(metric), META_STR(created),
};

#define N_META_STRS (sizeof(meta_strs) / sizeof(meta_strs[0]))

/* Reject strings that fill their field without a terminating NUL. */
static int meta_check(const struct eap_h5_meta *m, const char *path,
		      struct eap_err *err)
{
	for (size_t i = 0; i < N_META_STRS; i++)
		if (!memchr((const char *)m + meta_strs[i].off, 0,
			    meta_strs[i].size))
			return fail(err, EAP_EINVAL, path,
				    "meta field %s is not NUL-terminated",
				    meta_strs[i].name);
	if (m->steps < 0)
		return fail(err, EAP_EINVAL, path, "meta steps is negative (%d)",
			    m->steps);
	return 0;
}

static int meta_write(hid_t f, const struct eap_h5_meta *m, const char *path,
		      struct eap_err *err)
{
	struct eap_h5_meta c = *m;
	int rc = 0;

	if (!c.created[0]) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(c.created, sizeof(c.created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	for (size_t i = 0; i < N_META_STRS && !rc; i++)
		rc = attr_str(f, meta_strs[i].name,
			      (const char *)&c + meta_strs[i].off, path, err);
	if (!rc)
		rc = attr_i64(f, "steps", c.steps, path, err);
	if (!rc)
		rc = attr_i64(f, "n_examples", (int64_t)c.n_examples, path, err);
	if (!rc)
		rc = attr_i64(f, "n_layer", (int64_t)c.n_layer, path, err);
	if (!rc)
		rc = attr_i64(f, "n_head", (int64_t)c.n_head, path, err);
	if (!rc && c.parallel) /* absent means sequential: older files */
		rc = attr_i64(f, "parallel", 1, path, err);
	return rc;
}

/* All meta attributes; n_layer and n_head in 1..10000 (eap_graph_init). */
static int meta_read(hid_t f, const char *path, struct eap_h5_meta *m,
		     struct eap_err *err)
{
	int64_t v;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < N_META_STRS && !rc; i++)
		rc = attr_read_buf(f, path, meta_strs[i].name,
				   (char *)m + meta_strs[i].off,
				   meta_strs[i].size, err);
	if (!rc && !(rc = attr_read_int(f, path, "steps", 0, INT_MAX, &v, err)))
		m->steps = (int)v;
	if (!rc && !(rc = attr_read_int(f, path, "n_examples", 0, INT64_MAX,
					&v, err)))
		m->n_examples = (size_t)v;
	if (!rc && !(rc = attr_read_int(f, path, "n_layer", 1, 10000, &v, err)))
		m->n_layer = (size_t)v;
	if (!rc && !(rc = attr_read_int(f, path, "n_head", 1, 10000, &v, err)))
		m->n_head = (size_t)v;
	if (!rc && H5Aexists(f, "parallel") > 0 &&
	    !(rc = attr_read_int(f, path, "parallel", 0, 1, &v, err)))
		m->parallel = (int)v;
	return rc;
}

/* feed one file's bytes into ctx */
static int digest_file(EVP_MD_CTX *ctx, const char *file, unsigned char *buf,
		       struct eap_err *err)
{
	FILE *fp = fopen(file, "rb");
	size_t n;
	int rc = 0;

	if (!fp)
		return fail(err, EAP_EIO, file, "cannot open: %s",
			    strerror(errno));
	while ((n = fread(buf, 1, 1 << 20, fp)) > 0)
		if (EVP_DigestUpdate(ctx, buf, n) != 1)
			break;
	if (ferror(fp) || !feof(fp))
		rc = fail(err, EAP_EIO, file, "cannot hash: %s",
			  ferror(fp) ? strerror(errno) : "SHA-256 failed");
	fclose(fp);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The files that make up a model folder's weights: model.safetensors, or
 * model.safetensors.index.json followed by every *.safetensors file of the
 * folder in byte order of their names (the shards).
 */
static int weight_files(const char *dir, char ***out, size_t *n_out,
			struct eap_err *err)
{
	static const char *const ext = ".safetensors";
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, len, k;
	struct dirent *e;
	DIR *d;
	char single[4200], index[4200];
	int rc = 0, sharded;

	snprintf(single, sizeof(single), "%s/model.safetensors", dir);
	snprintf(index, sizeof(index), "%s/model.safetensors.index.json", dir);
	sharded = access(single, F_OK) != 0 && access(index, F_OK) == 0;
	if (!sharded) {
		if (!(v = malloc(sizeof(*v))) || !(v[0] = strdup(single))) {
			free(v);
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		}
		*out = v;
		*n_out = 1;
		return 0;
	}
	if (!(d = opendir(dir)))
		return fail(err, EAP_EIO, dir, "cannot list: %s",
			    strerror(errno));
	while ((e = readdir(d))) {
		len = strlen(e->d_name);
		if (len <= strlen(ext) ||
		    strcmp(e->d_name + len - strlen(ext), ext) != 0)
			continue;
		if (n + 2 > cap) {
			cap = cap ? 2 * cap : 16;
			if (!(nv = realloc(v, cap * sizeof(*v)))) {
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		k = strlen(dir) + len + 2;
		if (!(v[n + 1] = malloc(k))) {
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			break;
		}
		snprintf(v[n + 1], k, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	if (!rc && !n)
		rc = fail(err, EAP_EIO, index, "no *.safetensors shard beside it");
	if (!rc && !(v[0] = strdup(index)))
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
	if (rc) {
		for (k = 1; k <= n; k++)
			free(v[k]);
		free(v);
		return rc;
	}
	qsort(v + 1, n, sizeof(*v), name_cmp);
	*out = v;
	*n_out = n + 1;
	return 0;
}

int eap_sha256_file(const char *path, char hex[65], struct eap_err *err)
{
	char dir[4096], **files = NULL;
	size_t n_files = 0;
	unsigned char md[EVP_MAX_MD_SIZE], *buf = NULL;
	unsigned int len = 0;
	EVP_MD_CTX *ctx = NULL;
	struct stat st;
	int rc = 0;

	hex[0] = 0;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if ((rc = eap_hfdir_resolve(path, dir, sizeof(dir), err)) ||
		    (rc = weight_files(dir, &files, &n_files, err)))
			return rc;
	} else {
		if (!(files = malloc(sizeof(*files))) ||
		    !(files[0] = strdup(path))) {
			free(files);
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		}
		n_files = 1;
	}
	if (!(buf = malloc(1 << 20)) || !(ctx = EVP_MD_CTX_new())) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto done;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = fail(err, EAP_EIO, path, "cannot initialise SHA-256");
		goto done;
	}
	for (size_t i = 0; i < n_files && !rc; i++)
		rc = digest_file(ctx, files[i], buf, err);
	if (!rc && (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32))
		rc = fail(err, EAP_EIO, path, "cannot hash: SHA-256 failed");
	if (!rc)
		for (unsigned int i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
done:
	EVP_MD_CTX_free(ctx);
	free(buf);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	return rc;
}

static int copy_field(char *dst, size_t cap, const char *src, const char *what,
		      struct eap_err *err)
{
	if (strlen(src) >= cap)
		return eap_err_set(err, EAP_EINVAL,
				   "%s is longer than %zu bytes: '%.100s...'",
				   what, cap - 1, src);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int eap_h5_meta_init(struct eap_h5_meta *m, const char *tool,
		     const char *version, const char *model_path,
		     const char *pairs_path, struct eap_err *err)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = copy_field(m->tool, sizeof(m->tool), tool ? tool : "",
			     "tool name", err)) ||
	    (rc = copy_field(m->version, sizeof(m->version),
			     version ? version : "", "version", err)))
		return rc;
	if (model_path &&
	    ((rc = copy_field(m->model_path, sizeof(m->model_path), model_path,
			      "model path", err)) ||
	     (rc = eap_sha256_file(model_path, m->model_sha256, err))))
		return rc;
	if (pairs_path &&
	    ((rc = copy_field(m->pairs_path, sizeof(m->pairs_path), pairs_path,
			      "pairs path", err)) ||
	     (rc = eap_sha256_file(pairs_path, m->pairs_sha256, err))))
		return rc;
	return 0;
}

/* ---- files: write <path>.tmp, rename on success ---------------------------- */

struct out {
	char *tmp;
	hid_t file;
};

/*
 * File access for reading (wr 0) and writing.  Closing the file closes
 * whatever an error path left open in it.  Written files use the 1.8
 * format at least: its object headers and heaps carry checksums, so a
 * corrupted artifact fails to open instead of reaching HDF5's decoders,
 * which crash on some corruptions (found by fuzzing; 1.10.8).  Readable
 * by HDF5 >= 1.8 (h5py, h5dump).
 */
static hid_t file_access(int wr)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

	if (fapl >= 0 &&
	    (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
	     (wr && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18,
					 H5F_LIBVER_LATEST) < 0))) {
		H5Pclose(fapl);
		return -1;
	}
	return fapl;
}

static int out_create(struct out *o, const char *path, struct eap_err *err)
{
	size_t n = strlen(path) + sizeof(".tmp");
	hid_t fapl;
	int rc;

	o->file = H5I_INVALID_HID;
	if (!(o->tmp = malloc(n)))
		return fail(err, EAP_ENOMEM, path, "out of memory");
	snprintf(o->tmp, n, "%s.tmp", path);
	if ((fapl = file_access(1)) < 0)
		return h5fail(err, EAP_EIO, o->tmp, "cannot create file");
	o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	rc = o->file < 0 ? h5fail(err, EAP_EIO, o->tmp, "cannot create file")
			 : 0;
	H5Pclose(fapl);
	return rc;
}

/* Close and rename into place; on failure the caller still calls abort. */
static int out_commit(struct out *o, const char *path, struct eap_err *err)
{
	herr_t st = H5Fclose(o->file);

	o->file = H5I_INVALID_HID;
	if (st < 0)
		return h5fail(err, EAP_EIO, o->tmp, "cannot write file");
	if (rename(o->tmp, path) < 0)
		return fail(err, EAP_EIO, path, "cannot rename %s into place: %s",
			    o->tmp, strerror(errno));
	free(o->tmp);
	o->tmp = NULL;
	return 0;
}

static void out_abort(struct out *o)
{
	close_id(&o->file, H5Fclose);
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}

/* Open an artifact for reading: one clear error for a missing or foreign file. */
static int in_open(const char *path, hid_t *file, struct eap_err *err)
{
	struct stat st;
	FILE *fp;
	hid_t fapl;
	int rc;

	*file = H5I_INVALID_HID;
	if (!(fp = fopen(path, "rb")))
		return fail(err, EAP_EIO, path, "cannot open: %s", strerror(errno));
	fclose(fp);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return fail(err, EAP_EIO, path, "is a directory, not an HDF5 file");
	if ((fapl = file_access(0)) < 0)
		return h5fail(err, EAP_EIO, path, "cannot open");
	*file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	rc = *file < 0 ? h5fail(err, EAP_EFORMAT, path,
				"not a readable HDF5 file") : 0;
	H5Pclose(fapl);
	return rc;
}

/* Object-creation properties without timestamps, so files reproduce. */
static hid_t create_plist(hid_t cls)
{
	hid_t p = H5Pcreate(cls);

	if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
		H5Pclose(p);
		return -1;
	}
	return p;
}

static int make_group(hid_t f, const char *name, const char *path,
		      struct eap_err *err)
{
	hid_t gcpl = create_plist(H5P_GROUP_CREATE), g = -1;

	int rc = 0;

	if (gcpl < 0 ||
	    (g = H5Gcreate2(f, name, H5P_DEFAULT, gcpl, H5P_DEFAULT)) < 0)
		rc = h5fail(err, EAP_EIO, path, "cannot create group %s", name);
	if (gcpl >= 0)
		H5Pclose(gcpl);
	if (g >= 0)
		H5Gclose(g);
	return rc;
}

/*
 * Create dataset name (file type ft, shape dims) with an optional chunk
 * shape, deflate level (< 0: none) and description attribute.
 */
static int create_ds(hid_t f, const char *name, hid_t ft, int rank,
		     const hsize_t *dims, const hsize_t *chunk, int level,
		     const char *desc, hid_t *out, const char *path,
		     struct eap_err *err)
{
	hid_t dcpl = create_plist(H5P_DATASET_CREATE), sp = -1, ds = -1;
	int rc = 0;

	*out = H5I_INVALID_HID;
	if (dcpl < 0 || (sp = H5Screate_simple(rank, dims, NULL)) < 0 ||
	    (chunk && H5Pset_chunk(dcpl, rank, chunk) < 0) ||
	    (chunk && level >= 0 &&
	     (H5Pset_shuffle(dcpl) < 0 ||
	      H5Pset_deflate(dcpl, (unsigned)level) < 0)) ||
	    (ds = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl,
			     H5P_DEFAULT)) < 0)
		rc = h5fail(err, EAP_EIO, path, "cannot create %s", name);
	if (!rc && desc)
		rc = attr_str(ds, "description", desc, path, err);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (sp >= 0)
		H5Sclose(sp);
	if (rc && ds >= 0)
		H5Dclose(ds);
	else
		*out = ds;
	return rc;
}

/* Create dataset name and write all of buf (memory type mt) into it. */
static int write_ds(hid_t f, const char *name, hid_t ft, hid_t mt, int rank,
		    const hsize_t *dims, const hsize_t *chunk, int level,
		    const char *desc, const void *buf, const char *path,
		    struct eap_err *err)
{
	hid_t ds;
	int rc = create_ds(f, name, ft, rank, dims, chunk, level, desc, &ds,
			   path, err);

	if (rc)
		return rc;
	if (H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		rc = h5fail(err, EAP_EIO, path, "cannot write %s", name);
	H5Dclose(ds);
	return rc;
}

static int write_names(hid_t f, const char *name, char *const *names,
		       size_t n, const char *desc, const char *path,
		       struct eap_err *err)
{
	hsize_t dims[1] = { n };
	size_t w = 1;
	char *buf;
	hid_t t;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) + 1 > w)
			w = strlen(names[i]) + 1;
	if (!(buf = calloc(n, w)))
		return fail(err, EAP_ENOMEM, path, "out of memory");
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * w, names[i], strlen(names[i]));
	if ((t = str_type(w)) < 0) {
		free(buf);
		return h5fail(err, EAP_EIO, path, "cannot write %s", name);
	}
	rc = write_ds(f, name, t, t, 1, dims, NULL, -1, desc, buf, path, err);
	H5Tclose(t);
	free(buf);
	return rc;
}

/* meta's n_layer/n_head must be unset or agree with the graph. */
static int meta_for_graph(const struct eap_h5_meta *meta,
			  const struct eap_graph *g, struct eap_h5_meta *out,
			  const char *path, struct eap_err *err)
{
	int rc;

	if ((rc = meta_check(meta, path, err)))
		return rc;
	if ((meta->n_layer && meta->n_layer != g->n_layer) ||
	    (meta->n_head && meta->n_head != g->n_head))
		return fail(err, EAP_EINVAL, path,
			    "meta says %zu layers x %zu heads, the graph %zu x %zu",
			    meta->n_layer, meta->n_head, g->n_layer, g->n_head);
	*out = *meta;
	out->n_layer = g->n_layer;
	out->n_head = g->n_head;
	out->parallel = g->parallel;
	return 0;
}

/* n_fwd and n_bwd of an L x H graph, refusing absurd sizes. */
static int graph_dims(const struct eap_h5_meta *m, size_t *n_fwd,
		      size_t *n_bwd, const char *path, struct eap_err *err)
{
	*n_fwd = 1 + m->n_layer * (m->n_head + 1);
	*n_bwd = m->n_layer * (3 * m->n_head + 1) + 1;
	if (*n_fwd > MAX_GRAPH_CELLS / *n_bwd)
		return fail(err, EAP_EFORMAT, path,
			    "graph of %zu layers x %zu heads is too large",
			    m->n_layer, m->n_head);
	return 0;
}

static int graph_for(struct eap_graph *g, const struct eap_h5_meta *m,
		     const char *path, struct eap_err *err)
{
	int rc = eap_graph_init_layout(g, m->n_layer, m->n_head, m->parallel,
				       err);

	return rc ? eap_err_prefix(err, path) : 0;
}

/* ---- scores.h5 ------------------------------------------------------------- */

/* Every score finite and 0 off the graph. */
static int check_scores(const struct eap_graph *g, const float *s,
			const char *path, int code, struct eap_err *err)
{
	char e[128];

	for (size_t u = 0; u < g->n_fwd; u++)
		for (size_t v = 0; v < g->n_bwd; v++) {
			float x = s[u * g->n_bwd + v];
			if (!isfinite(x))
				return fail(err, code, path,
					    "/scores is %g at edge %s", (double)x,
					    eap_graph_edge_name(g, u, v, e,
								sizeof(e)));
			if (x != 0.0f && !g->edge_mask[u * g->n_bwd + v])
				return fail(err, code, path,
					    "/scores is %g at %s, which is not an edge",
					    (double)x,
					    eap_graph_edge_name(g, u, v, e,
								sizeof(e)));
		}
	return 0;
}

/*
 * A partial file's /scored (SPEC §6 exact on a subset: --edges, --shard):
 * 0 or 1, 1 only on edges, and the score 0 wherever it is 0.
 */
static int check_scored(const struct eap_graph *g, const float *s,
			const uint8_t *scored, const char *path, int code,
			struct eap_err *err)
{
	char e[128];

	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++) {
		const char *why = NULL;

		if (scored[i] > 1)
			why = "is neither 0 nor 1";
		else if (scored[i] && !g->edge_mask[i])
			why = "marks a pair that is not an edge";
		else if (!scored[i] && s[i] != 0.0f)
			why = "is 0 but /scores is not";
		if (why)
			return fail(err, code, path, "/scored %s at %s", why,
				    eap_graph_edge_name(g, i / g->n_bwd,
							i % g->n_bwd, e,
							sizeof(e)));
	}
	return 0;
}

int eap_scores_write(const char *path, const struct eap_graph *g,
		     const float *scores, const struct eap_h5_meta *meta,
		     struct eap_err *err)
{
	return eap_scores_write_part(path, g, scores, NULL, meta, err);
}

int eap_scores_write_part(const char *path, const struct eap_graph *g,
			  const float *scores, const uint8_t *scored,
			  const struct eap_h5_meta *meta, struct eap_err *err)
{
	return eap_scores_write_ext(path, g, scores, scored, NULL, 0, meta, err);
}

/* The extra datasets must be finite and of rank 1 or 2. */
static int check_extra(const struct eap_h5_extra *x, size_t nx,
		       const char *path, struct eap_err *err)
{
	for (size_t k = 0; k < nx; k++) {
		size_t n = x[k].dims[0] * (x[k].rank == 2 ? x[k].dims[1] : 1);

		if (x[k].rank < 1 || x[k].rank > 2)
			return fail(err, EAP_EINVAL, path, "%s: rank %d",
				    x[k].name, x[k].rank);
		for (size_t i = 0; i < n; i++)
			if (!isfinite(x[k].data[i]) &&
			    !(x[k].nan_ok && isnan(x[k].data[i])))
				return fail(err, EAP_EINVAL, path,
					    "%s[%zu] is not finite", x[k].name, i);
	}
	return 0;
}

int eap_scores_write_ext(const char *path, const struct eap_graph *g,
			 const float *scores, const uint8_t *scored,
			 const struct eap_h5_extra *x, size_t nx,
			 const struct eap_h5_meta *meta, struct eap_err *err)
{
	hsize_t dims[2] = { g->n_fwd, g->n_bwd };
	struct eap_h5_meta m;
	struct out o = { 0 };
	struct quiet q;
	int rc;

	if ((rc = meta_for_graph(meta, g, &m, path, err)))
		return rc;
	if ((rc = check_scores(g, scores, path, EAP_EINVAL, err)) ||
	    (scored && (rc = check_scored(g, scores, scored, path, EAP_EINVAL,
					  err))) ||
	    (rc = check_extra(x, nx, path, err)))
		return rc;
	quiet_on(&q);
	rc = out_create(&o, path, err);
	if (!rc)
		rc = meta_write(o.file, &m, path, err);
	if (!rc)
		rc = write_ds(o.file, "/scores", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
			      2, dims, NULL, -1,
			      "score of edge forward_nodes[u] -> backward_nodes[v]: "
			      "estimated change of the metric when the edge is "
			      "corrupted (SPEC 6); 0 where edge_mask is 0",
			      scores, path, err);
	if (!rc)
		rc = write_ds(o.file, "/edge_mask", H5T_STD_U8LE,
			      H5T_NATIVE_UINT8, 2, dims, NULL, -1,
			      "1 where forward node u feeds backward input v "
			      "(SPEC 5)", g->edge_mask, path, err);
	if (!rc && scored)
		rc = write_ds(o.file, "/scored", H5T_STD_U8LE,
			      H5T_NATIVE_UINT8, 2, dims, NULL, -1,
			      "1 where the edge was scored; a partial file "
			      "(eap-score --edges, --shard) has 0 scores "
			      "elsewhere, and eap-score --merge joins them",
			      scored, path, err);
	if (!rc)
		rc = write_names(o.file, "/forward_nodes", g->fwd_names,
				 g->n_fwd, "upstream nodes, the rows", path, err);
	if (!rc)
		rc = write_names(o.file, "/backward_nodes", g->bwd_names,
				 g->n_bwd, "downstream inputs, the columns", path,
				 err);
	for (size_t k = 0; k < nx && !rc; k++) {
		hsize_t xd[2] = { x[k].dims[0], x[k].dims[1] };

		rc = write_ds(o.file, x[k].name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
			      x[k].rank, xd, NULL, -1, x[k].desc, x[k].data,
			      path, err);
	}
	if (!rc)
		rc = out_commit(&o, path, err);
	out_abort(&o);
	quiet_off(&q);
	return rc;
}

/* The edge mask of the file must be the graph's. */
static int check_mask(hid_t f, const struct eap_graph *g, const char *path,
		      struct eap_err *err)
{
	hsize_t want[2] = { g->n_fwd, g->n_bwd };
	uint8_t *mask = NULL;
	char e[128];
	hid_t ds;
	int rc;

	if ((rc = open_ds(f, path, "/edge_mask", K_U8, 2, want, NULL, &ds, err)))
		return rc;
	if (!(mask = malloc(g->n_fwd * g->n_bwd)))
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
	else
		rc = read_all(ds, K_U8, mask, path, "/edge_mask", err);
	H5Dclose(ds);
	for (size_t i = 0; !rc && i < g->n_fwd * g->n_bwd; i++)
		if (mask[i] != g->edge_mask[i])
			rc = fail(err, EAP_EFORMAT, path,
				  "/edge_mask is %d at %s, the graph of %zu layers "
				  "x %zu heads says %d", mask[i],
				  eap_graph_edge_name(g, i / g->n_bwd,
						      i % g->n_bwd, e, sizeof(e)),
				  g->n_layer, g->n_head, g->edge_mask[i]);
	free(mask);
	return rc;
}

/* An optional float32 dataset of want's shape into *out (NULL if absent). */
static int read_opt_f32(hid_t f, const char *path, const char *name, int rank,
			const hsize_t *want, hsize_t *got, float **out,
			struct eap_err *err)
{
	hsize_t dims[2] = { 0, 0 };
	size_t n;
	hid_t ds;
	int rc = link_exists(f, name);

	*out = NULL;
	if (rc < 0)
		return h5fail(err, EAP_EFORMAT, path, "cannot look up %s", name);
	if (rc == 0)
		return 0;
	if ((rc = open_ds(f, path, name, K_F32, rank, want, dims, &ds, err)))
		return rc;
	n = (size_t)dims[0] * (rank == 2 ? (size_t)dims[1] : 1);
	if (!(*out = malloc((n ? n : 1) * sizeof(float))))
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
	else
		rc = read_all(ds, K_F32, *out, path, name, err);
	H5Dclose(ds);
	for (size_t i = 0; !rc && i < n; i++)
		if (!isfinite((*out)[i]))
			rc = fail(err, EAP_EFORMAT, path, "%s[%zu] is not finite",
				  name, i);
	if (got)
		memcpy(got, dims, (size_t)rank * sizeof(hsize_t));
	return rc;
}

/* /node_scores (n_fwd) and /neuron_scores (n_fwd, d), when present. */
static int read_node_scores(hid_t f, const char *path, struct eap_scores *s,
			    size_t n_fwd, struct eap_err *err)
{
	hsize_t w1[1] = { n_fwd }, w2[2] = { n_fwd, 0 }, got[2] = { 0, 0 };
	int rc = read_opt_f32(f, path, "/node_scores", 1, w1, NULL,
			      &s->node_scores, err);

	if (!rc)
		rc = read_opt_f32(f, path, "/neuron_scores", 2, w2, got,
				  &s->neuron_scores, err);
	if (!rc && s->neuron_scores) {
		if (!got[1])
			return fail(err, EAP_EFORMAT, path, "/neuron_scores has no columns");
		s->d = (size_t)got[1];
	}
	return rc;
}

int eap_scores_read(const char *path, struct eap_scores *s,
		    struct eap_err *err)
{
	size_t n_fwd, n_bwd;
	hsize_t want[2];
	hid_t f = H5I_INVALID_HID, ds = H5I_INVALID_HID;
	struct quiet q;
	int rc;

	memset(s, 0, sizeof(*s));
	quiet_on(&q);
	if ((rc = in_open(path, &f, err)) ||
	    (rc = meta_read(f, path, &s->meta, err)) ||
	    (rc = graph_dims(&s->meta, &n_fwd, &n_bwd, path, err)))
		goto done;
	want[0] = n_fwd;
	want[1] = n_bwd;
	if ((rc = open_ds(f, path, "/scores", K_F32, 2, want, NULL, &ds, err)) ||
	    (rc = graph_for(&s->graph, &s->meta, path, err)))
		goto done;
	if (!(s->scores = malloc(n_fwd * n_bwd * sizeof(float)))) {
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
		goto done;
	}
	if ((rc = read_all(ds, K_F32, s->scores, path, "/scores", err)) ||
	    (rc = check_mask(f, &s->graph, path, err)) ||
	    (rc = check_names(f, path, "/forward_nodes", s->graph.fwd_names,
			      n_fwd, err)) ||
	    (rc = check_names(f, path, "/backward_nodes", s->graph.bwd_names,
			      n_bwd, err)) ||
	    (rc = check_scores(&s->graph, s->scores, path, EAP_EFORMAT, err)))
		goto done;
	close_id(&ds, H5Dclose);
	if ((rc = link_exists(f, "/scored")) < 0) {
		rc = h5fail(err, EAP_EFORMAT, path, "cannot look up /scored");
		goto done;
	}
	if (rc == 1) {
		if (!(s->scored = malloc(n_fwd * n_bwd))) {
			rc = fail(err, EAP_ENOMEM, path, "out of memory");
			goto done;
		}
		if ((rc = open_ds(f, path, "/scored", K_U8, 2, want, NULL, &ds,
				  err)) ||
		    (rc = read_all(ds, K_U8, s->scored, path, "/scored", err)) ||
		    (rc = check_scored(&s->graph, s->scores, s->scored, path,
				       EAP_EFORMAT, err)))
			goto done;
		close_id(&ds, H5Dclose);
	}
	rc = read_node_scores(f, path, s, n_fwd, err);
done:
	close_id(&ds, H5Dclose);
	close_id(&f, H5Fclose);
	quiet_off(&q);
	if (rc)
		eap_scores_release(s);
	return rc;
}

void eap_scores_release(struct eap_scores *s)
{
	eap_graph_release(&s->graph);
	free(s->scores);
	free(s->scored);
	free(s->node_scores);
	free(s->neuron_scores);
	memset(s, 0, sizeof(*s));
}

/* ---- acts.h5 --------------------------------------------------------------- */

enum { DS_TOK_CLEAN, DS_TOK_CORR, DS_LENGTHS, DS_ACTS_CLEAN, DS_ACTS_CORR,
       DS_MET_CLEAN, DS_MET_CORR };

static const struct {
	const char *name;
	int rank;         /* N, P, n_fwd, d: the first rank of these */
	enum kind kind;
	const char *desc;
} acts_ds[EAP_ACTS_N_DS] = {
	{ "/tokens/clean", 2, K_I32, "clean token ids, right-padded" },
	{ "/tokens/corrupted", 2, K_I32, "corrupted token ids, right-padded" },
	{ "/lengths", 1, K_I32, "real positions of each example (SPEC 4)" },
	{ "/acts/clean", 4, K_F32,
	  "forward-node outputs y_u on the clean prompt, [example, position, "
	  "node (forward_nodes order of scores.h5), d_model], of the first "
	  "examples (all, or an audit sample: eap-dump --keep)" },
	{ "/acts/corrupted", 4, K_F32,
	  "forward-node outputs y_u on the corrupted prompt, same examples" },
	{ "/metric/clean", 1, K_F32, "metric of the clean run" },
	{ "/metric/corrupted", 1, K_F32, "metric of the corrupted run" },
};

/* Every acts.h5 dataset's shape is a prefix of this one. */
static void acts_dims(size_t N, size_t P, size_t n_fwd, size_t d,
		      hsize_t *dims)
{
	dims[0] = N;
	dims[1] = P;
	dims[2] = n_fwd;
	dims[3] = d;
}

static void *batch_field(const struct eap_acts_batch *b, int i)
{
	void *p[EAP_ACTS_N_DS] = { b->tokens_clean, b->tokens_corrupted,
				   b->lengths, b->acts_clean, b->acts_corrupted,
				   b->metric_clean, b->metric_corrupted };
	return p[i];
}

static hid_t native(enum kind k)
{
	return k == K_F32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT32;
}

/*
 * Rows start..start+nb-1 of dataset i between the file and buf (write if
 * wr); errors name path and the dataset.
 */
static int rows_io(hid_t ds, int i, const hsize_t *dims, size_t start,
		   size_t nb, void *buf, int wr, const char *path,
		   struct eap_err *err)
{
	int rank = acts_ds[i].rank;
	hsize_t off[4] = { start, 0, 0, 0 }, cnt[4];
	hid_t fs, ms = -1;
	int rc = 0;

	memcpy(cnt, dims, (size_t)rank * sizeof(*cnt));
	cnt[0] = nb;
	if ((fs = H5Dget_space(ds)) < 0 ||
	    (ms = H5Screate_simple(rank, cnt, NULL)) < 0 ||
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
	    (wr ? H5Dwrite(ds, native(acts_ds[i].kind), ms, fs, H5P_DEFAULT, buf)
		: H5Dread(ds, native(acts_ds[i].kind), ms, fs, H5P_DEFAULT,
			  buf)) < 0)
		rc = h5fail(err, EAP_EIO, path, "cannot %s examples %zu..%zu of %s",
			    wr ? "write" : "read", start, start + nb - 1,
			    acts_ds[i].name);
	if (ms >= 0)
		H5Sclose(ms);
	if (fs >= 0)
		H5Sclose(fs);
	return rc;
}

void eap_acts_abort(struct eap_acts_writer *w)
{
	for (int i = 0; i < EAP_ACTS_N_DS; i++)
		close_id(&w->ds[i], H5Dclose);
	close_id(&w->file, H5Fclose);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	memset(w, 0, sizeof(*w));
}

int eap_acts_create(struct eap_acts_writer *w, const char *path, size_t N,
		    size_t K, size_t P, size_t n_fwd, size_t d,
		    const struct eap_h5_meta *meta, struct eap_err *err)
{
	struct eap_h5_meta m;
	struct out o = { 0 };
	hsize_t dims[4], chunk[4];
	struct quiet q;
	size_t L = meta->n_layer, H = meta->n_head;
	int rc;

	memset(w, 0, sizeof(*w));
	if ((rc = meta_check(meta, path, err)))
		return rc;
	if (!N || !K || K > N || !P || !d || !L || !H || L > 10000 ||
	    H > 10000 || n_fwd != 1 + L * (H + 1))
		return fail(err, EAP_EINVAL, path,
			    "bad acts shape N=%zu K=%zu P=%zu n_fwd=%zu d=%zu "
			    "for %zu layers x %zu heads", N, K, P, n_fwd, d, L, H);
	if (meta->n_examples && meta->n_examples != N)
		return fail(err, EAP_EINVAL, path,
			    "meta n_examples %zu disagrees with N %zu",
			    meta->n_examples, N);
	if ((hsize_t)P * n_fwd * d > (hsize_t)1 << 40)
		return fail(err, EAP_EINVAL, path,
			    "an example of %zu x %zu x %zu floats is too large",
			    P, n_fwd, d);
	m = *meta;
	m.n_examples = N;
	if (!(w->path = strdup(path)))
		return fail(err, EAP_ENOMEM, path, "out of memory");
	w->N = N;
	w->K = K;
	w->P = P;
	w->n_fwd = n_fwd;
	w->d = d;
	quiet_on(&q);
	if ((rc = out_create(&o, path, err)))
		goto done;
	w->file = o.file;
	w->tmp = o.tmp;
	o.tmp = NULL;
	o.file = H5I_INVALID_HID;
	if ((rc = meta_write(w->file, &m, path, err)) ||
	    (rc = make_group(w->file, "/tokens", path, err)) ||
	    (rc = make_group(w->file, "/acts", path, err)) ||
	    (rc = make_group(w->file, "/metric", path, err)))
		goto done;
	for (int i = 0; i < EAP_ACTS_N_DS && !rc; i++) {
		int r = acts_ds[i].rank;
		acts_dims(r == 4 ? K : N, P, n_fwd, d, dims);
		if (r == 4) {
			/* one example per chunk; one position if that is too big */
			chunk[0] = 1;
			chunk[1] = (hsize_t)P * n_fwd * d * 4 > MAX_CHUNK_BYTES
					   ? 1 : P;
			chunk[2] = n_fwd;
			chunk[3] = d;
		}
		rc = create_ds(w->file, acts_ds[i].name,
			       acts_ds[i].kind == K_F32 ? H5T_IEEE_F32LE
							: H5T_STD_I32LE,
			       r, dims, r == 4 ? chunk : NULL,
			       r == 4 ? ACTS_DEFLATE_LEVEL : -1,
			       acts_ds[i].desc, &w->ds[i], path, err);
	}
done:
	out_abort(&o);
	quiet_off(&q);
	if (rc)
		eap_acts_abort(w);
	return rc;
}

int eap_acts_append(struct eap_acts_writer *w, size_t nb,
		    const struct eap_acts_batch *b, struct eap_err *err)
{
	hsize_t dims[4];
	size_t n_acts;
	struct quiet q;
	int rc = 0;

	if (!w->file || w->file < 0)
		return eap_err_set(err, EAP_EINVAL,
				   "acts writer is not open (create failed or "
				   "already committed)");
	if (!nb || nb > w->N - w->done)
		return fail(err, EAP_EINVAL, w->path,
			    "cannot append %zu examples to %zu of %zu", nb,
			    w->done, w->N);
	/* node outputs only while the first K examples are written */
	n_acts = w->done < w->K ? w->K - w->done : 0;
	if (n_acts > nb)
		n_acts = nb;
	for (int i = 0; i < EAP_ACTS_N_DS; i++)
		if (!batch_field(b, i) && (n_acts || acts_ds[i].rank != 4))
			return fail(err, EAP_EINVAL, w->path,
				    "append without data for %s", acts_ds[i].name);
	for (size_t i = 0; i < nb; i++)
		if (b->lengths[i] < 1 || (size_t)b->lengths[i] > w->P)
			return fail(err, EAP_EINVAL, w->path,
				    "length of example %zu is %d, expected 1..%zu",
				    w->done + i, b->lengths[i], w->P);
	quiet_on(&q);
	for (int i = 0; i < EAP_ACTS_N_DS && !rc; i++) {
		int acts = acts_ds[i].rank == 4;

		if (acts && !n_acts)
			continue;
		acts_dims(acts ? w->K : w->N, w->P, w->n_fwd, w->d, dims);
		rc = rows_io(w->ds[i], i, dims, w->done, acts ? n_acts : nb,
			     batch_field(b, i), 1, w->path, err);
	}
	quiet_off(&q);
	if (!rc)
		w->done += nb;
	return rc;
}

int eap_acts_commit(struct eap_acts_writer *w, struct eap_err *err)
{
	struct out o;
	struct quiet q;
	int rc = 0;

	if (!w->file || w->file < 0)
		return eap_err_set(err, EAP_EINVAL, "acts writer is not open");
	if (w->done != w->N) {
		rc = fail(err, EAP_EINVAL, w->path,
			  "only %zu of %zu examples were written", w->done, w->N);
		eap_acts_abort(w);
		return rc;
	}
	quiet_on(&q);
	for (int i = 0; i < EAP_ACTS_N_DS && !rc; i++)
		if (H5Dclose(w->ds[i]) < 0)
			rc = h5fail(err, EAP_EIO, w->path, "cannot write %s",
				    acts_ds[i].name);
	memset(w->ds, 0, sizeof(w->ds));
	o.file = w->file;
	o.tmp = w->tmp;
	w->file = 0;
	w->tmp = NULL;
	if (!rc)
		rc = out_commit(&o, w->path, err);
	out_abort(&o);
	quiet_off(&q);
	eap_acts_abort(w); /* frees path; nothing left to unlink */
	return rc;
}

void eap_acts_close(struct eap_acts *r)
{
	for (int i = 0; i < EAP_ACTS_N_DS; i++)
		close_id(&r->ds[i], H5Dclose);
	close_id(&r->file, H5Fclose);
	free(r->path);
	free(r->lengths);
	memset(r, 0, sizeof(*r));
}

int eap_acts_open(struct eap_acts *r, const char *path, struct eap_err *err)
{
	hsize_t want[4], got[4];
	size_t n_fwd, n_bwd;
	struct quiet q;
	hid_t f;
	int rc;

	memset(r, 0, sizeof(*r));
	quiet_on(&q);
	if ((rc = in_open(path, &f, err)))
		goto done;
	r->file = f;
	if ((rc = meta_read(f, path, &r->meta, err)) ||
	    (rc = graph_dims(&r->meta, &n_fwd, &n_bwd, path, err)))
		goto done;
	/* N and P from /tokens/clean, d from /acts/clean, n_fwd from L, H */
	want[0] = want[1] = 0;
	if ((rc = open_ds(f, path, acts_ds[0].name, K_I32, 2, want, got,
			  &r->ds[0], err)))
		goto done;
	r->N = got[0];
	r->P = got[1];
	r->n_fwd = n_fwd;
	/* K (the examples with node outputs) and d from /acts/clean */
	acts_dims(0, r->P, n_fwd, 0, want);
	if ((rc = open_ds(f, path, acts_ds[DS_ACTS_CLEAN].name, K_F32, 4, want,
			  got, &r->ds[DS_ACTS_CLEAN], err)))
		goto done;
	r->K = got[0];
	r->d = got[3];
	if (r->K > r->N) {
		rc = fail(err, EAP_ESHAPE, path,
			  "/acts/clean has %zu examples, /tokens/clean only %zu",
			  r->K, r->N);
		goto done;
	}
	for (int i = 1; i < EAP_ACTS_N_DS; i++) {
		if (i == DS_ACTS_CLEAN)
			continue;
		acts_dims(acts_ds[i].rank == 4 ? r->K : r->N, r->P, n_fwd,
			  r->d, want);
		if ((rc = open_ds(f, path, acts_ds[i].name, acts_ds[i].kind,
				  acts_ds[i].rank, want, NULL, &r->ds[i], err)))
			goto done;
	}
	if (r->meta.n_examples != r->N) {
		rc = fail(err, EAP_EFORMAT, path,
			  "attribute n_examples is %zu but /tokens/clean has %zu rows",
			  r->meta.n_examples, r->N);
		goto done;
	}
	if (!(r->lengths = malloc(r->N * sizeof(int32_t))) ||
	    !(r->path = strdup(path))) {
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
		goto done;
	}
	if ((rc = read_all(r->ds[DS_LENGTHS], K_I32, r->lengths, path,
			   "/lengths", err)))
		goto done;
	for (size_t i = 0; i < r->N; i++)
		if (r->lengths[i] < 1 || (size_t)r->lengths[i] > r->P) {
			rc = fail(err, EAP_EFORMAT, path,
				  "/lengths[%zu] is %d, expected 1..%zu", i,
				  r->lengths[i], r->P);
			goto done;
		}
done:
	quiet_off(&q);
	if (rc)
		eap_acts_close(r);
	return rc;
}

int eap_acts_read(const struct eap_acts *r, size_t start, size_t nb,
		  const struct eap_acts_batch *b, struct eap_err *err)
{
	hsize_t dims[4];
	struct quiet q;
	int rc = 0;

	if (!r->file || !r->path)
		return eap_err_set(err, EAP_EINVAL, "acts file is not open");
	if (!nb || start > r->N || nb > r->N - start)
		return fail(err, EAP_EINVAL, r->path,
			    "cannot read examples %zu..%zu of %zu", start,
			    start + nb - 1, r->N);
	if ((b->acts_clean || b->acts_corrupted) && start + nb > r->K)
		return fail(err, EAP_EINVAL, r->path,
			    "holds the node outputs of examples 0..%zu only "
			    "(an audit sample: eap-dump --keep), not of %zu..%zu",
			    r->K - 1, start, start + nb - 1);
	quiet_on(&q);
	for (int i = 0; i < EAP_ACTS_N_DS && !rc; i++) {
		void *buf = batch_field(b, i);
		if (!buf)
			continue;
		if (i == DS_LENGTHS) {
			memcpy(buf, r->lengths + start, nb * sizeof(int32_t));
			continue;
		}
		acts_dims(acts_ds[i].rank == 4 ? r->K : r->N, r->P, r->n_fwd,
			  r->d, dims);
		rc = rows_io(r->ds[i], i, dims, start, nb, buf, 0, r->path, err);
	}
	quiet_off(&q);
	return rc;
}

void eap_acts_transpose(float *dst, const float *src, size_t a, size_t b,
			size_t d)
{
	for (size_t i = 0; i < a; i++)
		for (size_t j = 0; j < b; j++)
			memcpy(dst + (j * a + i) * d, src + (i * b + j) * d,
			       d * sizeof(float));
}

/* ---- circuit.h5 / circuits.h5 ------------------------------------------ */

/*
 * Circuit k: 0/1 values, only edges of the graph, edges[k] of them, nodes
 * 0/1.  Messages name circuit k as "/in_graph[k]" in a curve.
 */
static int check_circuit(const struct eap_graph *g, size_t k,
			 const uint8_t *in_graph, const uint8_t *nodes,
			 int64_t requested, int64_t edges, int single,
			 const char *path, int code, struct eap_err *err)
{
	const uint8_t *c = in_graph + k * g->n_fwd * g->n_bwd;
	const uint8_t *nd = nodes + k * g->n_fwd;
	char ig[64], ng[64], e[128];
	int64_t count = 0;

	snprintf(ig, sizeof(ig), single ? "/in_graph" : "/in_graph[%zu]", k);
	snprintf(ng, sizeof(ng), single ? "/nodes_in_graph"
				       : "/nodes_in_graph[%zu]", k);
	for (size_t i = 0; i < g->n_fwd * g->n_bwd; i++) {
		if (c[i] > 1 || (c[i] && !g->edge_mask[i]))
			return fail(err, code, path, c[i] > 1
				    ? "%s is %d at %s, expected 0 or 1"
				    : "%s is %d at %s, which is not an edge",
				    ig, c[i], eap_graph_edge_name(g, i / g->n_bwd,
						i % g->n_bwd, e, sizeof(e)));
		count += c[i];
	}
	for (size_t u = 0; u < g->n_fwd; u++)
		if (nd[u] > 1)
			return fail(err, code, path, "%s is %d at %s, expected 0 or 1",
				    ng, nd[u], g->fwd_names[u]);
	if (requested < 0)
		return fail(err, code, path, "%s is negative (%lld)",
			    single ? "attribute n_edges_requested"
				   : "an entry of /edges_requested",
			    (long long)requested);
	if (edges != count) {
		if (single)
			return fail(err, code, path, "%s has %lld edges, but "
				    "attribute n_edges is %lld", ig,
				    (long long)count, (long long)edges);
		return fail(err, code, path, "%s has %lld edges, but /edges[%zu] "
			    "is %lld", ig, (long long)count, k, (long long)edges);
	}
	return 0;
}

int eap_circuits_write(const char *path, const struct eap_graph *g,
		       size_t K, int single, const uint8_t *in_graph,
		       const uint8_t *nodes_in_graph,
		       const int64_t *edges_requested, const int64_t *edges,
		       const char *selection, const struct eap_h5_meta *meta,
		       struct eap_err *err)
{
	hsize_t dims[3] = { K, g->n_fwd, g->n_bwd }, chunk[3];
	int s = single != 0; /* dims + s: the shape without K for circuit.h5 */
	struct eap_h5_meta m;
	struct out o = { 0 };
	struct quiet q;
	int rc;

	if (!K || (single && K != 1) || !in_graph || !nodes_in_graph ||
	    !edges_requested || !edges || !selection)
		return fail(err, EAP_EINVAL, path,
			    "bad circuit arguments (K=%zu, single=%d)", K, single);
	if (K > MAX_CIRCUIT_BYTES / (g->n_fwd * g->n_bwd))
		return fail(err, EAP_EINVAL, path, "%zu circuits are too many", K);
	if ((rc = meta_for_graph(meta, g, &m, path, err)))
		return rc;
	for (size_t k = 0; k < K; k++)
		if ((rc = check_circuit(g, k, in_graph, nodes_in_graph,
					edges_requested[k], edges[k], single,
					path, EAP_EINVAL, err)))
			return rc;
	chunk[0] = 1;
	chunk[1] = g->n_fwd;
	chunk[2] = g->n_bwd;
	quiet_on(&q);
	if ((rc = out_create(&o, path, err)) ||
	    (rc = meta_write(o.file, &m, path, err)) ||
	    (rc = attr_str(o.file, "selection", selection, path, err)) ||
	    (rc = write_ds(o.file, "/in_graph", H5T_STD_U8LE, H5T_NATIVE_UINT8,
			   3 - s, dims + s, chunk + s, 1,
			   single ? "1 where edge forward_nodes[u] -> "
				    "backward_nodes[v] is in the circuit"
				  : "[circuit, u, v]: 1 where edge u -> v is in "
				    "circuit k",
			   in_graph, path, err)) ||
	    (rc = write_ds(o.file, "/nodes_in_graph", H5T_STD_U8LE,
			   H5T_NATIVE_UINT8, 2 - s, dims + s, NULL,
			   -1, "1 where the forward node is in the circuit",
			   nodes_in_graph, path, err)) ||
	    (rc = write_names(o.file, "/forward_nodes", g->fwd_names, g->n_fwd,
			      "upstream nodes, the rows", path, err)) ||
	    (rc = write_names(o.file, "/backward_nodes", g->bwd_names, g->n_bwd,
			      "downstream inputs, the columns", path, err)))
		goto done;
	if (single)
		rc = attr_i64(o.file, "n_edges_requested", edges_requested[0],
			      path, err);
	if (single && !rc)
		rc = attr_i64(o.file, "n_edges", edges[0], path, err);
	if (!single && !rc)
		rc = write_ds(o.file, "/edges_requested", H5T_STD_I64LE,
			      H5T_NATIVE_INT64, 1, dims, NULL, -1,
			      "edges asked of the selection", edges_requested,
			      path, err);
	if (!single && !rc)
		rc = write_ds(o.file, "/edges", H5T_STD_I64LE, H5T_NATIVE_INT64,
			      1, dims, NULL, -1, "edges after pruning", edges,
			      path, err);
	if (!rc)
		rc = out_commit(&o, path, err);
done:
	out_abort(&o);
	quiet_off(&q);
	return rc;
}

int eap_circuits_read(const char *path, struct eap_circuits *c,
		      struct eap_err *err)
{
	size_t n_fwd, n_bwd, K = 1;
	hsize_t want[3], got[3];
	hid_t f = H5I_INVALID_HID, ds = H5I_INVALID_HID;
	struct quiet q;
	int64_t v;
	int rc, rank;

	memset(c, 0, sizeof(*c));
	quiet_on(&q);
	if ((rc = in_open(path, &f, err)) ||
	    (rc = meta_read(f, path, &c->meta, err)) ||
	    (rc = graph_dims(&c->meta, &n_fwd, &n_bwd, path, err)) ||
	    (rc = attr_read_str(f, path, "selection", &c->selection, err)))
		goto done;
	if ((rank = ds_rank(f, path, "/in_graph", err)) < 0) {
		rc = rank;
		goto done;
	}
	c->single = rank != 3; /* other ranks fail as circuit.h5 */
	want[0] = 0;
	want[1] = n_fwd;
	want[2] = n_bwd;
	if ((rc = open_ds(f, path, "/in_graph", K_U8, 3 - c->single,
			  want + c->single, got, &ds, err)))
		goto done;
	if (!c->single)
		K = got[0];
	if (K > MAX_CIRCUIT_BYTES / (n_fwd * n_bwd)) {
		rc = fail(err, EAP_EFORMAT, path, "/in_graph holds too many "
			  "circuits (%zu)", K);
		goto done;
	}
	c->K = K;
	if ((rc = graph_for(&c->graph, &c->meta, path, err)))
		goto done;
	c->in_graph = malloc(K * n_fwd * n_bwd);
	c->nodes_in_graph = malloc(K * n_fwd);
	c->edges_requested = malloc(K * sizeof(int64_t));
	c->edges = malloc(K * sizeof(int64_t));
	if (!c->in_graph || !c->nodes_in_graph || !c->edges_requested ||
	    !c->edges) {
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
		goto done;
	}
	if ((rc = read_all(ds, K_U8, c->in_graph, path, "/in_graph", err)))
		goto done;
	close_id(&ds, H5Dclose);
	want[0] = K;
	if ((rc = open_ds(f, path, "/nodes_in_graph", K_U8, 2 - c->single,
			  want + c->single, NULL, &ds, err)) ||
	    (rc = read_all(ds, K_U8, c->nodes_in_graph, path, "/nodes_in_graph",
			   err)))
		goto done;
	close_id(&ds, H5Dclose);
	if (c->single) {
		if ((rc = attr_read_int(f, path, "n_edges_requested", 0,
					INT64_MAX, &v, err)))
			goto done;
		c->edges_requested[0] = v;
		if ((rc = attr_read_int(f, path, "n_edges", 0, INT64_MAX, &v,
					err)))
			goto done;
		c->edges[0] = v;
	} else {
		if ((rc = open_ds(f, path, "/edges_requested", K_INT, 1, want,
				  NULL, &ds, err)) ||
		    (rc = read_all(ds, K_INT, c->edges_requested, path,
				   "/edges_requested", err)))
			goto done;
		close_id(&ds, H5Dclose);
		if ((rc = open_ds(f, path, "/edges", K_INT, 1, want, NULL, &ds,
				  err)) ||
		    (rc = read_all(ds, K_INT, c->edges, path, "/edges", err)))
			goto done;
		close_id(&ds, H5Dclose);
	}
	/* node names are optional (ours writes them), checked if present */
	if ((H5Lexists(f, "/forward_nodes", H5P_DEFAULT) != 0 &&
	     (rc = check_names(f, path, "/forward_nodes", c->graph.fwd_names,
			       n_fwd, err))) ||
	    (H5Lexists(f, "/backward_nodes", H5P_DEFAULT) != 0 &&
	     (rc = check_names(f, path, "/backward_nodes", c->graph.bwd_names,
			       n_bwd, err))))
		goto done;
	for (size_t k = 0; k < K && !rc; k++)
		rc = check_circuit(&c->graph, k, c->in_graph, c->nodes_in_graph,
				   c->edges_requested[k], c->edges[k], c->single,
				   path, EAP_EFORMAT, err);
done:
	close_id(&ds, H5Dclose);
	close_id(&f, H5Fclose);
	quiet_off(&q);
	if (rc)
		eap_circuits_release(c);
	return rc;
}

void eap_circuits_release(struct eap_circuits *c)
{
	eap_graph_release(&c->graph);
	free(c->in_graph);
	free(c->nodes_in_graph);
	free(c->edges_requested);
	free(c->edges);
	free(c->selection);
	memset(c, 0, sizeof(*c));
}

int eap_curve_write(const char *path, size_t K, size_t N,
		    const int64_t *edges_requested, const int64_t *edges,
		    const double *m_clean, const double *m_corr,
		    const double *m_circ, const double *faith,
		    const double *ci, const char *ablation,
		    const struct eap_h5_meta *meta, struct eap_err *err)
{
	hsize_t kn[2] = { K, N }, k2[2] = { K, 2 }, n1[1] = { N };
	struct out o = { 0 };
	struct quiet q;
	int rc;

	if (!K || !N)
		return fail(err, EAP_EINVAL, path, "empty curve (%zu x %zu)", K, N);
	quiet_on(&q);
	if ((rc = out_create(&o, path, err)) ||
	    (rc = meta_write(o.file, meta, path, err)) ||
	    (rc = attr_str(o.file, "ablation", ablation, path, err)) ||
	    (rc = make_group(o.file, "/metric", path, err)) ||
	    (rc = write_ds(o.file, "/metric/clean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
			   1, n1, NULL, -1, "metric of each clean example", m_clean,
			   path, err)) ||
	    (rc = write_ds(o.file, "/metric/corrupted", H5T_IEEE_F64LE,
			   H5T_NATIVE_DOUBLE, 1, n1, NULL, -1,
			   "metric of each corrupted example", m_corr, path, err)) ||
	    (rc = write_ds(o.file, "/metric/circuit", H5T_IEEE_F64LE,
			   H5T_NATIVE_DOUBLE, 2, kn, NULL, -1,
			   "[circuit, example]: metric with every edge outside the circuit ablated",
			   m_circ, path, err)) ||
	    (rc = write_ds(o.file, "/edges_requested", H5T_STD_I64LE,
			   H5T_NATIVE_INT64, 1, kn, NULL, -1,
			   "edges asked of the selection", edges_requested, path, err)) ||
	    (rc = write_ds(o.file, "/edges", H5T_STD_I64LE, H5T_NATIVE_INT64, 1,
			   kn, NULL, -1, "edges after pruning", edges, path, err)) ||
	    (rc = write_ds(o.file, "/faithfulness", H5T_IEEE_F64LE,
			   H5T_NATIVE_DOUBLE, 1, kn, NULL, -1,
			   "(m(C) - m(corrupted)) / (m(clean) - m(corrupted)), means over examples",
			   faith, path, err)) ||
	    (rc = write_ds(o.file, "/ci", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2,
			   k2, NULL, -1, "95% bootstrap interval of faithfulness",
			   ci, path, err)))
		goto done;
	rc = out_commit(&o, path, err);
done:
	out_abort(&o);
	quiet_off(&q);
	return rc;
}

/* one 1-D or 2-D dataset of curve.h5 into a fresh buffer of want's shape */
static int curve_ds(hid_t f, const char *path, const char *name, enum kind k,
		    int rank, const hsize_t *want, hsize_t *got, size_t elem,
		    void **buf, struct eap_err *err)
{
	hid_t ds = H5I_INVALID_HID;
	size_t n = 1;
	hsize_t dims[2];
	int rc;

	if ((rc = open_ds(f, path, name, k, rank, want, dims, &ds, err)))
		return rc;
	for (int i = 0; i < rank; i++) {
		n *= (size_t)dims[i];
		if (got)
			got[i] = dims[i];
	}
	if (!(*buf = malloc(n ? n * elem : 1)))
		rc = fail(err, EAP_ENOMEM, path, "out of memory");
	else
		rc = read_all(ds, k, *buf, path, name, err);
	close_id(&ds, H5Dclose);
	return rc;
}

int eap_curve_read(const char *path, struct eap_curve_data *c,
		   struct eap_err *err)
{
	hsize_t want[2] = { 0, 0 }, got[2];
	hid_t f = H5I_INVALID_HID;
	struct quiet q;
	int rc;

	memset(c, 0, sizeof(*c));
	quiet_on(&q);
	if ((rc = in_open(path, &f, err)) ||
	    (rc = meta_read(f, path, &c->meta, err)) ||
	    (rc = curve_ds(f, path, "/metric/clean", K_F64, 1, want, got,
			   sizeof(double), (void **)&c->m_clean, err)))
		goto done;
	c->N = (size_t)got[0];
	want[0] = c->N;
	if ((rc = curve_ds(f, path, "/metric/corrupted", K_F64, 1, want, NULL,
			   sizeof(double), (void **)&c->m_corr, err)))
		goto done;
	want[0] = 0;
	want[1] = c->N;
	if ((rc = curve_ds(f, path, "/metric/circuit", K_F64, 2, want, got,
			   sizeof(double), (void **)&c->m_circ, err)))
		goto done;
	c->K = (size_t)got[0];
	want[0] = c->K;
	if ((rc = curve_ds(f, path, "/edges_requested", K_INT, 1, want, NULL,
			   sizeof(int64_t), (void **)&c->edges_requested, err)) ||
	    (rc = curve_ds(f, path, "/edges", K_INT, 1, want, NULL,
			   sizeof(int64_t), (void **)&c->edges, err)))
		goto done;
	if (!c->K || !c->N)
		rc = fail(err, EAP_EFORMAT, path, "empty curve (%zu x %zu)",
			  c->K, c->N);
	for (size_t k = 1; k < c->K && !rc; k++)
		if (c->edges_requested[k] <= c->edges_requested[k - 1])
			rc = fail(err, EAP_EFORMAT, path, "/edges_requested is "
				  "not ascending at circuit %zu", k + 1);
done:
	close_id(&f, H5Fclose);
	quiet_off(&q);
	if (rc)
		eap_curve_data_release(c);
	return rc;
}

void eap_curve_data_release(struct eap_curve_data *c)
{
	free(c->m_clean);
	free(c->m_corr);
	free(c->m_circ);
	free(c->edges_requested);
	free(c->edges);
	memset(c, 0, sizeof(*c));
}
