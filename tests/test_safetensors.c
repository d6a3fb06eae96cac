/*
 * test_safetensors.c - the safetensors reader and writer, including every
 * malformed-header case the reader must reject with a clear message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/safetensors.h"
#include "test_util.h"

/* Write a file: 8-byte length, header text, then nbytes of data. */
static void write_raw(const char *path, const char *hdr, uint64_t hlen,
		      size_t nbytes)
{
	FILE *f = fopen(path, "wb");
	unsigned char lb[8];

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 8; i++)
		lb[i] = (unsigned char)(hlen >> (8 * i));
	fwrite(lb, 1, 8, f);
	fwrite(hdr, 1, strlen(hdr), f);
	for (size_t i = 0; i < nbytes; i++)
		fputc(0x3c, f);
	fclose(f);
}

static char tmpl[64];

static const char *tmpfile_path(void)
{
	snprintf(tmpl, sizeof(tmpl), "/tmp/eap-st-%d.safetensors", (int)getpid());
	return tmpl;
}

/* Open must fail with EAP_EFORMAT and a message containing want. */
static void expect_bad(const char *hdr, size_t nbytes, const char *want)
{
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	const char *p = tmpfile_path();
	int rc;

	write_raw(p, hdr, strlen(hdr), nbytes);
	rc = eap_safetensors_open(&st, p, &err);
	ck_assert_int_eq(rc, EAP_EFORMAT);
	ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, p),
		      "message \"%s\" lacks \"%s\" or the path", err.msg, want);
	eap_safetensors_release(&st);
	unlink(p);
}

START_TEST(test_f16_bf16)
{
	/* Bit patterns with exactly known values. */
	ck_assert_float_eq(eap_f16_to_f32(0x3c00), 1.0f);
	ck_assert_float_eq(eap_f16_to_f32(0xc000), -2.0f);
	ck_assert_float_eq(eap_f16_to_f32(0x3555), 0.333251953125f);
	ck_assert_float_eq(eap_f16_to_f32(0x0001), 5.9604644775390625e-8f);
	ck_assert_float_eq(eap_f16_to_f32(0x7bff), 65504.0f);
	ck_assert(isinf(eap_f16_to_f32(0x7c00)));
	ck_assert(isnan(eap_f16_to_f32(0x7e00)));
	ck_assert_float_eq(eap_bf16_to_f32(0x3f80), 1.0f);
	ck_assert_float_eq(eap_bf16_to_f32(0xc0a0), -5.0f);
	ck_assert_float_eq(eap_bf16_to_f32(0x3eaa), 0.33203125f);
}
END_TEST

START_TEST(test_round_trip)
{
	float a[6] = { 1, -2, 3.5f, 0, 1e-8f, -7 }, b[3] = { 9, 8, 7 };
	float ra[6], rb[3];
	struct eap_st_out out[2] = {
		{ "layer.a", 2, { 2, 3 }, a, EAP_F32, NULL, NULL },
		{ "b \"quoted\"", 1, { 3 }, b, EAP_F32, NULL, NULL },
	};
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	const struct eap_st_tensor *t;
	const char *p = tmpfile_path();

	ck_assert_int_eq(eap_safetensors_write(p, out, 2, &err), 0);
	{
		char tmp[80];

		snprintf(tmp, sizeof(tmp), "%s.tmp", p);
		ck_assert_int_eq(access(tmp, F_OK), -1);
	}
	ck_assert_int_eq(eap_safetensors_open(&st, p, &err), 0);
	ck_assert_uint_eq(st.n_tensors, 2);
	t = eap_safetensors_find(&st, "layer.a");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(t->ndim, 2);
	ck_assert_uint_eq(t->shape[0], 2);
	ck_assert_uint_eq(t->shape[1], 3);
	ck_assert_int_eq(eap_safetensors_read_f32(&st, t, ra, 6, &err), 0);
	ck_assert_mem_eq(ra, a, sizeof(a));
	/* wrong element count is refused, naming the tensor */
	ck_assert_int_eq(eap_safetensors_read_f32(&st, t, ra, 5, &err), EAP_ESHAPE);
	ck_assert_ptr_nonnull(strstr(err.msg, "layer.a"));
	t = eap_safetensors_find(&st, "b \"quoted\"");
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(eap_safetensors_read_f32(&st, t, rb, 3, &err), 0);
	ck_assert_mem_eq(rb, b, sizeof(b));
	ck_assert_ptr_null(eap_safetensors_find(&st, "missing"));
	/* data section starts 8-byte aligned */
	ck_assert_uint_eq(((size_t)(st.data - (const unsigned char *)st.map)) % 8, 0);
	eap_safetensors_release(&st);
	unlink(p);
}
END_TEST

START_TEST(test_f16_tensor)
{
	/* 1.0, -2.0 as F16 and 1.0 as BF16, hand-encoded. */
	const char *hdr = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
			  "\"g\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}";
	unsigned char data[6] = { 0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f };
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	const char *p = tmpfile_path();
	unsigned char lb[8] = { 0 };
	float v[2];
	FILE *f = fopen(p, "wb");

	lb[0] = (unsigned char)strlen(hdr);
	fwrite(lb, 1, 8, f);
	fwrite(hdr, 1, strlen(hdr), f);
	fwrite(data, 1, 6, f);
	fclose(f);
	ck_assert_int_eq(eap_safetensors_open(&st, p, &err), 0);
	ck_assert_int_eq(eap_safetensors_read_f32(&st, eap_safetensors_find(&st, "h"), v, 2, &err), 0);
	ck_assert_float_eq(v[0], 1.0f);
	ck_assert_float_eq(v[1], -2.0f);
	ck_assert_int_eq(eap_safetensors_read_f32(&st, eap_safetensors_find(&st, "g"), v, 1, &err), 0);
	ck_assert_float_eq(v[0], 1.0f);
	eap_safetensors_release(&st);
	unlink(p);
}
END_TEST

START_TEST(test_bad_files)
{
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	const char *p = tmpfile_path();
	FILE *f;
	int rc;

	/* missing file */
	rc = eap_safetensors_open(&st, "/nonexistent/model.safetensors", &err);
	ck_assert_int_eq(rc, EAP_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/model.safetensors"));
	eap_safetensors_release(&st);

	/* truncated: fewer than 8 bytes */
	f = fopen(p, "wb");
	fwrite("abc", 1, 3, f);
	fclose(f);
	rc = eap_safetensors_open(&st, p, &err);
	ck_assert_int_eq(rc, EAP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
	eap_safetensors_release(&st);

	/* header length past the end of the file */
	write_raw(p, "{}", 1000, 0);
	rc = eap_safetensors_open(&st, p, &err);
	ck_assert_int_eq(rc, EAP_EFORMAT);
	ck_assert_ptr_nonnull(strstr(err.msg, "header length 1000 past end of file"));
	eap_safetensors_release(&st);
	/* a huge length must not overflow 8 + n */
	write_raw(p, "{}", UINT64_MAX - 2, 0);
	rc = eap_safetensors_open(&st, p, &err);
	ck_assert_int_eq(rc, EAP_EFORMAT);
	eap_safetensors_release(&st);
	unlink(p);
}
END_TEST

START_TEST(test_bad_headers)
{
	expect_bad("[1,2]", 0, "header is not a JSON object");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]", 8, "header is not a JSON object");
	expect_bad("{\"a\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
		   "unsupported dtype \"F99\"");
	/* F64 is a safetensors dtype: its size is checked like any other */
	expect_bad("{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
		   "shape needs 16 bytes but data_offsets span 8");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
		   "past end of data");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
		   "shape needs 12 bytes but data_offsets span 8");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
		   "overlap");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
		   "bad data_offsets");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
		   "bad shape");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8,
		   "bad shape");
	expect_bad("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
		   "needs dtype, shape and data_offsets");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		   "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16,
		   "appears twice");
	expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
		   "\"data_offsets\":[0,8]}}", 8, "shape too large");
}
END_TEST

/*
 * BF16 and F16 written from float32: round to nearest, ties to even, read
 * back exactly (values whose halves are known by hand).
 */
START_TEST(test_write_half)
{
	/* 1 + 2^-8 is halfway between BF16's 1 and 1 + 2^-7: ties to 1;
	 * 1 + 3 2^-8 ties up to 1 + 2^-6 (even); 1 + 2^-11 is F16's tie */
	const float x[6] = { 1.0f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -2.5f,
			     1.0f + 0x1p-11f, 0x1p-20f };
	const float bf[6] = { 1.0f, 1.0f, 1.0f + 0x1p-6f, -2.5f, 1.0f, 0x1p-20f };
	const float hf[6] = { 1.0f, 1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, -2.5f,
			      1.0f, 0x1p-20f };
	struct eap_st_out out[2] = {
		{ "bf", 1, { 6 }, x, EAP_BF16, NULL, NULL },
		{ "hf", 1, { 6 }, x, EAP_F16, NULL, NULL },
	};
	struct eap_safetensors st = { 0 };
	struct eap_err err = { 0 };
	char path[] = "/tmp/eap-st-half-XXXXXX";
	float got[6];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(eap_safetensors_write(path, out, 2, &err), 0);
	ck_assert_int_eq(eap_safetensors_open(&st, path, &err), 0);
	for (int k = 0; k < 2; k++) {
		const struct eap_st_tensor *t = eap_safetensors_find(&st, k ? "hf" : "bf");

		ck_assert_int_eq(t->dtype, k ? EAP_F16 : EAP_BF16);
		ck_assert_int_eq(eap_safetensors_read_f32(&st, t, got, 6, &err), 0);
		for (int i = 0; i < 6; i++)
			ck_assert_msg(got[i] == (k ? hf : bf)[i], "%s[%d]: %a, want %a",
				      t->name, i, got[i], (k ? hf : bf)[i]);
		ck_assert_int_eq(eap_safetensors_read_f32_range(&st, t, 2, got, 3, &err), 0);
		ck_assert(got[0] == (k ? hf : bf)[2] && got[2] == (k ? hf : bf)[4]);
	}
	eap_safetensors_release(&st);
	unlink(path);
}
END_TEST

Suite *safetensors_suite(void)
{
	Suite *s = suite_create("safetensors");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_f16_bf16);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_f16_tensor);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_write_half);
	suite_add_tcase(s, tc);
	return s;
}
