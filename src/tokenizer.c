/*
 * tokenizer.c - GPT-2 byte-level BPE and word-level tokenizers (SPEC §3).
 *
 * Every vocabulary entry, merge part and merge result is interned once in a
 * string table, as raw bytes: GPT-2's byte-to-unicode map is a bijection,
 * so it is undone at load time and BPE runs on the bytes of each
 * pre-token.  Interning makes a symbol one uint32_t (its string index) and a
 * merge one hash look-up keyed by the pair of indices.  Entries 0..255 are
 * the single bytes, so a pre-token's initial symbols are its bytes.
 *
 * The BPE loop is GPT-2's (openai/gpt-2 encoder.py, bpe()): find the
 * adjacent pair of lowest merge rank, merge every occurrence of it left to
 * right, repeat until no pair has a rank.
 */
#include "eap/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "eap/hfdir.h"

/* GPT-2's pre-tokenisation pattern (encoder.py), verbatim. */
static const char GPT2_PATTERN[] =
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+"
	"|\\s+(?!\\S)|\\s+";

#define NO_SLOT UINT32_MAX
#define QUOTE_MAX 96 /* bytes of a token or word quoted in a message */

struct str_entry {
	size_t off;       /* into strtab.buf; the bytes are NUL-terminated */
	uint32_t len;
	int32_t vocab_id; /* -1 for an intermediate merge result */
};

/* Interned byte strings with an open-addressing index (power-of-two size). */
struct strtab {
	char *buf;
	size_t buf_len, buf_cap;
	struct str_entry *ent; /* (n) */
	size_t n, cap;
	uint32_t *slots;       /* (n_slots) entry index or NO_SLOT */
	size_t n_slots;
};

struct merge_slot {
	uint64_t key;    /* left << 32 | right; UINT64_MAX if empty */
	uint32_t rank;   /* line order in the merges file */
	uint32_t merged; /* string index of left + right */
};

struct hf; /* tokenizer.json's pipeline (below) */

struct eap_tokenizer_impl {
	struct strtab strs;
	uint32_t *vocab_str;         /* (n_vocab) string index of each id, or
				      * NO_SLOT for an id tokenizer.json skips */
	struct merge_slot *merges;   /* (n_merge_slots), BPE only */
	size_t n_merge_slots, n_merges;
	pcre2_code *re;              /* GPT-2 files only */
	struct hf *hf;               /* tokenizer.json only */
};

/* ---- small helpers --------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static uint64_t hash_u64(uint64_t x)
{
	/* splitmix64's finaliser: spreads the two packed indices */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

size_t eap_utf8_len(const unsigned char *p, size_t n)
{
	size_t k;
	unsigned cp, min;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 1, cp = p[0] & 0x1fu, min = 0x80;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 2, cp = p[0] & 0x0fu, min = 0x800;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 3, cp = p[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (k >= n)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[j] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

/* Offset of the first byte that is not valid UTF-8, or -1 if all is. */
static long utf8_invalid_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, k; i < n; i += k)
		if ((k = eap_utf8_len(p + i, n - i)) == 0)
			return (long)i;
	return -1;
}

/*
 * Quote s[0..n) for a message: printable ASCII and valid UTF-8 as is, '"'
 * and '\\' escaped, other bytes as \xHH; cut with "..." past QUOTE_MAX.
 */
static const char *quote(const char *s, size_t n, char *buf, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, j = 0, k;

	while (i < n) {
		if (j + 8 >= cap || i >= QUOTE_MAX) {
			memcpy(buf + j, "...", 4);
			return buf;
		}
		if (p[i] == '"' || p[i] == '\\') {
			buf[j++] = '\\';
			buf[j++] = (char)p[i++];
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			buf[j++] = (char)p[i++];
		} else if (p[i] >= 0x80 && (k = eap_utf8_len(p + i, n - i)) > 0) {
			memcpy(buf + j, p + i, k);
			i += k;
			j += k;
		} else {
			j += (size_t)snprintf(buf + j, cap - j, "\\x%02x", p[i++]);
		}
	}
	buf[j] = '\0';
	return buf;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* "dir/name", without doubling a trailing slash. */
static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
	size_t n = strlen(dir);
	const char *sep = (n > 0 && dir[n - 1] == '/') ? "" : "/";

	return snprintf(out, cap, "%s%s%s", dir, sep, name) < (int)cap ? 0 : -1;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Read a whole file into a NUL-terminated malloc'd buffer. */
static int read_file(const char *path, char **buf, size_t *len,
		     struct eap_err *err)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return eap_err_set(err, EAP_EIO, "%s: %s", path,
				   strerror(errno));
	for (;;) {
		if (cap - n < 65536) {
			size_t ncap = cap ? 2 * cap : 1 << 20;
			char *nb = realloc(b, ncap + 1);
			if (!nb) {
				free(b);
				fclose(f);
				return eap_err_set(err, EAP_ENOMEM,
						   "%s: out of memory", path);
			}
			b = nb;
			cap = ncap;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(b);
		fclose(f);
		return eap_err_set(err, EAP_EIO, "%s: read error", path);
	}
	fclose(f);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* 1-based line number of offset off in buf. */
static size_t line_of(const char *buf, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		line += buf[i] == '\n';
	return line;
}

/* ---- string table -------------------------------------------------------- */

static void strtab_release(struct strtab *t)
{
	free(t->buf);
	free(t->ent);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static const char *strtab_str(const struct strtab *t, uint32_t i)
{
	return t->buf + t->ent[i].off;
}

static uint32_t strtab_find(const struct strtab *t, const char *s, size_t n)
{
	size_t mask = t->n_slots - 1;

	for (size_t h = hash_bytes(s, n) & mask;; h = (h + 1) & mask) {
		uint32_t i = t->slots[h];
		if (i == NO_SLOT)
			return NO_SLOT;
		if (t->ent[i].len == n && !memcmp(strtab_str(t, i), s, n))
			return i;
	}
}

static int strtab_rehash(struct strtab *t, size_t n_slots)
{
	uint32_t *slots = malloc(n_slots * sizeof(*slots));

	if (!slots)
		return EAP_ENOMEM;
	memset(slots, 0xff, n_slots * sizeof(*slots));
	for (size_t i = 0; i < t->n; i++) {
		size_t h = hash_bytes(strtab_str(t, (uint32_t)i), t->ent[i].len);
		while (slots[h & (n_slots - 1)] != NO_SLOT)
			h++;
		slots[h & (n_slots - 1)] = (uint32_t)i;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
	return 0;
}

/* Index of s[0..n), added (with vocab_id -1) if new; NO_SLOT if out of memory. */
static uint32_t strtab_intern(struct strtab *t, const char *s, size_t n)
{
	uint32_t i;

	if (!t->slots && strtab_rehash(t, 1024) < 0)
		return NO_SLOT;
	i = strtab_find(t, s, n);
	if (i != NO_SLOT)
		return i;
	if (n > UINT32_MAX || t->n >= NO_SLOT - 1)
		return NO_SLOT;
	if (2 * (t->n + 1) > t->n_slots &&
	    strtab_rehash(t, 2 * t->n_slots) < 0)
		return NO_SLOT;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 4096;
		struct str_entry *e = realloc(t->ent, cap * sizeof(*e));
		if (!e)
			return NO_SLOT;
		t->ent = e;
		t->cap = cap;
	}
	if (t->buf_cap - t->buf_len < n + 1) {
		size_t cap = t->buf_cap ? 2 * t->buf_cap : 1 << 16;
		while (cap - t->buf_len < n + 1)
			cap *= 2;
		char *b = realloc(t->buf, cap);
		if (!b)
			return NO_SLOT;
		t->buf = b;
		t->buf_cap = cap;
	}
	memcpy(t->buf + t->buf_len, s, n);
	t->buf[t->buf_len + n] = '\0';
	t->ent[t->n] = (struct str_entry){ t->buf_len, (uint32_t)n, -1 };
	t->buf_len += n + 1;
	for (size_t h = hash_bytes(s, n) & (t->n_slots - 1);;
	     h = (h + 1) & (t->n_slots - 1)) {
		if (t->slots[h] == NO_SLOT) {
			t->slots[h] = (uint32_t)t->n;
			break;
		}
	}
	return (uint32_t)t->n++;
}

/* ---- merge table --------------------------------------------------------- */

static const struct merge_slot *merge_find(const struct eap_tokenizer_impl *m,
					   uint32_t a, uint32_t b)
{
	uint64_t key = (uint64_t)a << 32 | b;
	size_t mask = m->n_merge_slots - 1;

	for (size_t h = hash_u64(key) & mask;; h = (h + 1) & mask) {
		if (m->merges[h].key == key)
			return &m->merges[h];
		if (m->merges[h].key == UINT64_MAX)
			return NULL;
	}
}

/* Add a merge; 1 if the pair was already there, 0 if added. */
static int merge_add(struct eap_tokenizer_impl *m, uint32_t a, uint32_t b,
		     uint32_t rank, uint32_t merged)
{
	uint64_t key = (uint64_t)a << 32 | b;
	size_t mask = m->n_merge_slots - 1;

	for (size_t h = hash_u64(key) & mask;; h = (h + 1) & mask) {
		if (m->merges[h].key == key)
			return 1;
		if (m->merges[h].key == UINT64_MAX) {
			m->merges[h] = (struct merge_slot){ key, rank, merged };
			m->n_merges++;
			return 0;
		}
	}
}

/* ---- GPT-2 byte-to-unicode map ------------------------------------------- */

/*
 * Inverse of GPT-2's bytes_to_unicode(): printable Latin-1 bytes (!..~,
 * ¡..¬, ®..ÿ) stand for themselves, the other 68 bytes for U+0100.. in
 * byte order.  inv[cp] is the byte, or -1; cp < 0x144.
 */
#define BYTE_CP_MAX 0x144
static void byte_decoder(int inv[BYTE_CP_MAX])
{
	int n = 0;

	for (int cp = 0; cp < BYTE_CP_MAX; cp++)
		inv[cp] = -1;
	for (int b = 0; b < 256; b++) {
		int printable = (b >= '!' && b <= '~') ||
				(b >= 0xa1 && b <= 0xac) || (b >= 0xae);
		inv[printable ? b : 256 + n++] = b;
	}
}

/*
 * Turn a byte-level unicode string s (UTF-8) into raw bytes in out (at
 * least strlen(s) + 1 long); -1 if a character is outside the alphabet.
 */
static long bytes_of(const int inv[BYTE_CP_MAX], const char *s, size_t n,
		     char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, j = 0;

	while (i < n) {
		unsigned cp;
		if (p[i] < 0x80) {
			cp = p[i++];
		} else if (p[i] >= 0xc2 && p[i] <= 0xdf && i + 1 < n &&
			   (p[i + 1] & 0xc0) == 0x80) {
			cp = (p[i] & 0x1fu) << 6 | (p[i + 1] & 0x3fu);
			i += 2;
		} else {
			return -1;
		}
		if (cp >= BYTE_CP_MAX || inv[cp] < 0)
			return -1;
		out[j++] = (char)inv[cp];
	}
	out[j] = '\0';
	return (long)j;
}

/* ---- loading ------------------------------------------------------------- */

static int set_vocab(struct eap_tokenizer_impl *m, size_t n_vocab)
{
	m->vocab_str = malloc((n_vocab ? n_vocab : 1) * sizeof(*m->vocab_str));
	if (!m->vocab_str)
		return EAP_ENOMEM;
	for (size_t i = 0; i < n_vocab; i++)
		m->vocab_str[i] = NO_SLOT;
	return 0;
}

/* encoder.json / vocab.json: {"token": id, ...} with ids 0..N-1. */
static int load_bpe_vocab(struct eap_tokenizer *tok, const char *path,
			  const int inv[BYTE_CP_MAX], struct eap_err *err)
{
	struct eap_tokenizer_impl *m = tok->impl;
	char *buf = NULL, *raw = NULL;
	size_t len, n = 0;
	const char *end = NULL;
	cJSON *root = NULL, *it;
	char q[4 * QUOTE_MAX];
	int rc;

	if ((rc = read_file(path, &buf, &len, err)) < 0)
		return rc;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root) {
		size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
		rc = eap_err_set(err, EAP_EFORMAT, "%s:%zu: invalid JSON", path,
				 line_of(buf, off));
		goto fail;
	}
	if (!cJSON_IsObject(root)) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: expected a JSON object of token ids",
				 path);
		goto fail;
	}
	for (it = root->child; it; it = it->next)
		n++;
	if (n == 0) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: no tokens", path);
		goto fail;
	}
	if ((rc = set_vocab(m, n)) < 0)
		goto nomem;
	raw = malloc(len + 1);
	if (!raw)
		goto nomem;
	for (it = root->child; it; it = it->next) {
		const char *key = it->string;
		double v = it->valuedouble;
		long nb;
		uint32_t s;
		if (!cJSON_IsNumber(it) || !(v >= 0 && v < (double)n) ||
		    v != (double)(long)v) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: token \"%s\": id is not an integer "
					 "in 0..%zu",
					 path, quote(key, strlen(key), q, sizeof(q)),
					 n - 1);
			goto fail;
		}
		nb = bytes_of(inv, key, strlen(key), raw);
		if (nb < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: token \"%s\" has a character outside "
					 "GPT-2's byte alphabet",
					 path, quote(key, strlen(key), q, sizeof(q)));
			goto fail;
		}
		s = strtab_intern(&m->strs, raw, (size_t)nb);
		if (s == NO_SLOT)
			goto nomem;
		if (m->strs.ent[s].vocab_id >= 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: duplicate token \"%s\"", path,
					 quote(key, strlen(key), q, sizeof(q)));
			goto fail;
		}
		if (m->vocab_str[(long)v] != NO_SLOT) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: id %ld used twice (\"%s\")", path,
					 (long)v,
					 quote(key, strlen(key), q, sizeof(q)));
			goto fail;
		}
		m->strs.ent[s].vocab_id = (int32_t)v;
		m->vocab_str[(long)v] = s;
	}
	/* n distinct ids in 0..n-1: every id is used */
	tok->n_vocab = n;
	rc = 0;
	goto out;
nomem:
	rc = eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
fail:
out:
	cJSON_Delete(root);
	free(raw);
	free(buf);
	return rc;
}

/*
 * vocab.bpe / merges.txt: an optional "#version" first line, then one merge
 * "left right" per line, rank = order; a final newline is optional.
 */
static int load_bpe_merges(struct eap_tokenizer *tok, const char *path,
			   const int inv[BYTE_CP_MAX], struct eap_err *err)
{
	struct eap_tokenizer_impl *m = tok->impl;
	char *buf = NULL, *raw = NULL;
	size_t len, n_lines = 0, line = 0;
	uint32_t rank = 0;
	char q[4 * QUOTE_MAX];
	int rc;

	if ((rc = read_file(path, &buf, &len, err)) < 0)
		return rc;
	for (size_t i = 0; i < len; i++)
		n_lines += buf[i] == '\n';
	m->n_merge_slots = 1024;
	while (m->n_merge_slots < 2 * (n_lines + 1))
		m->n_merge_slots *= 2;
	m->merges = malloc(m->n_merge_slots * sizeof(*m->merges));
	raw = malloc(len + 2);
	if (!m->merges || !raw)
		goto nomem;
	memset(m->merges, 0xff, m->n_merge_slots * sizeof(*m->merges));

	for (char *p = buf; p < buf + len;) {
		char *eol = memchr(p, '\n', (size_t)(buf + len - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(buf + len - p);
		char *sp;
		long na, nb = -1;
		uint32_t a, b, ab;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		p[n] = '\0';
		if (line == 1 && n >= 8 && !memcmp(p, "#version", 8))
			goto next;
		sp = strchr(p, ' ');
		if (n == 0 || !sp || sp == p || sp == p + n - 1 ||
		    strchr(sp + 1, ' ')) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: malformed merge \"%s\" "
					 "(expected two tokens separated by one "
					 "space)",
					 path, line, quote(p, n, q, sizeof(q)));
			goto fail;
		}
		na = bytes_of(inv, p, (size_t)(sp - p), raw);
		if (na >= 0) {
			nb = bytes_of(inv, sp + 1, n - (size_t)(sp + 1 - p),
				      raw + na);
		}
		if (na < 0 || nb < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: merge \"%s\" has a character "
					 "outside GPT-2's byte alphabet",
					 path, line, quote(p, n, q, sizeof(q)));
			goto fail;
		}
		/* intern left, right and left+right (raw holds both) */
		a = strtab_intern(&m->strs, raw, (size_t)na);
		b = strtab_intern(&m->strs, raw + na, (size_t)nb);
		ab = strtab_intern(&m->strs, raw, (size_t)(na + nb));
		if (a == NO_SLOT || b == NO_SLOT || ab == NO_SLOT)
			goto nomem;
		if (merge_add(m, a, b, rank++, ab)) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: duplicate merge \"%s\"", path,
					 line, quote(p, n, q, sizeof(q)));
			goto fail;
		}
	next:
		if (!eol)
			break;
		p = eol + 1;
	}
	rc = 0;
	goto out;
nomem:
	rc = eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
fail:
out:
	free(raw);
	free(buf);
	return rc;
}

/* vocab.txt: one token per line, id = line number - 1. */
static int load_word_vocab(struct eap_tokenizer *tok, const char *path,
			   struct eap_err *err)
{
	struct eap_tokenizer_impl *m = tok->impl;
	char *buf = NULL;
	size_t len, n = 0, line = 0;
	char q[4 * QUOTE_MAX];
	int rc;

	if ((rc = read_file(path, &buf, &len, err)) < 0)
		return rc;
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	n += len > 0 && buf[len - 1] != '\n';
	if (n == 0) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: no tokens", path);
		goto fail;
	}
	if ((rc = set_vocab(m, n)) < 0)
		goto nomem;
	for (char *p = buf; p < buf + len;) {
		char *eol = memchr(p, '\n', (size_t)(buf + len - p));
		size_t k = eol ? (size_t)(eol - p) : (size_t)(buf + len - p);
		long bad;
		uint32_t s;

		line++;
		if (k > 0 && p[k - 1] == '\r')
			k--;
		p[k] = '\0';
		if (k == 0) {
			rc = eap_err_set(err, EAP_EFORMAT, "%s:%zu: empty line",
					 path, line);
			goto fail;
		}
		if ((bad = utf8_invalid_at(p, k)) >= 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: invalid UTF-8 at byte %ld",
					 path, line, bad + 1);
			goto fail;
		}
		for (size_t i = 0; i < k; i++) {
			if (is_space((unsigned char)p[i])) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s:%zu: token \"%s\" contains "
						 "white space",
						 path, line,
						 quote(p, k, q, sizeof(q)));
				goto fail;
			}
		}
		s = strtab_intern(&m->strs, p, k);
		if (s == NO_SLOT)
			goto nomem;
		if (m->strs.ent[s].vocab_id >= 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: duplicate token \"%s\" (first "
					 "on line %d)",
					 path, line, quote(p, k, q, sizeof(q)),
					 m->strs.ent[s].vocab_id + 1);
			goto fail;
		}
		m->strs.ent[s].vocab_id = (int32_t)(line - 1);
		m->vocab_str[line - 1] = s;
		if (!eol)
			break;
		p = eol + 1;
	}
	tok->n_vocab = n;
	rc = 0;
	goto out;
nomem:
	rc = eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
fail:
out:
	free(buf);
	return rc;
}

static int32_t vocab_lookup(const struct eap_tokenizer *tok, const char *s)
{
	const struct strtab *t = &tok->impl->strs;
	uint32_t i = strtab_find(t, s, strlen(s));

	return i == NO_SLOT ? -1 : t->ent[i].vocab_id;
}

/* BOS per SPEC §3: config.json's bos_token_id, <|endoftext|>, <bos>, none. */
static int load_bos(struct eap_tokenizer *tok, const char *dir,
		    int32_t hf_bos, struct eap_err *err)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len;
	const char *end = NULL;
	cJSON *root = NULL, *bos;
	int rc;

	if (join_path(path, sizeof(path), dir, "config.json") < 0)
		return eap_err_set(err, EAP_EINVAL, "%s: path too long", dir);
	if (file_exists(path)) {
		if ((rc = read_file(path, &buf, &len, err)) < 0)
			return rc;
		root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
		if (!root) {
			size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s:%zu: invalid JSON", path,
					 line_of(buf, off));
			goto out;
		}
		bos = cJSON_GetObjectItemCaseSensitive(root, "bos_token_id");
		if (bos && !cJSON_IsNull(bos)) {
			double v = bos->valuedouble;
			if (!cJSON_IsNumber(bos) ||
			    !(v >= 0 && v < (double)tok->n_vocab) ||
			    v != (double)(long)v) {
				rc = eap_err_set(err, EAP_EFORMAT,
						 "%s: bos_token_id is not a token "
						 "id in 0..%zu",
						 path, tok->n_vocab - 1);
				goto out;
			}
			tok->bos_id = (int32_t)v;
			rc = 0;
			goto out;
		}
	}
	tok->bos_id = hf_bos >= 0 ? hf_bos : vocab_lookup(tok, "<|endoftext|>");
	if (tok->bos_id < 0)
		tok->bos_id = vocab_lookup(tok, "<bos>");
	rc = 0;
out:
	cJSON_Delete(root);
	free(buf);
	return rc;
}

struct hf;
static void hf_free(struct hf *h);
static int hf_load(struct eap_tokenizer *tok, const char *dir,
		   const char *path, int32_t *bos, struct eap_err *err);

static int tokenizer_load(struct eap_tokenizer *tok, const char *dir,
			  struct eap_err *err);

/* a Hugging Face cache folder reads its snapshot's files (hfdir.h) */
int eap_tokenizer_load(struct eap_tokenizer *tok, const char *dir_in,
		       struct eap_err *err)
{
	char dir[PATH_MAX];
	int rc;

	memset(tok, 0, sizeof(*tok));
	tok->bos_id = -1;
	if ((rc = eap_hfdir_resolve(dir_in, dir, sizeof(dir), err)))
		return rc;
	return tokenizer_load(tok, dir, err);
}

static int tokenizer_load(struct eap_tokenizer *tok, const char *dir,
			  struct eap_err *err)
{
	static const char *const pairs[2][2] = {
		{ "encoder.json", "vocab.bpe" },
		{ "vocab.json", "merges.txt" },
	};
	char vocab[PATH_MAX], merges[PATH_MAX];
	int inv[BYTE_CP_MAX];
	int rc, found = -1;
	int32_t hf_bos = -1;

	memset(tok, 0, sizeof(*tok));
	tok->bos_id = -1;
	/* tokenizer.json first: a model folder as Hugging Face ships it */
	if (join_path(vocab, sizeof(vocab), dir, "tokenizer.json") < 0)
		return eap_err_set(err, EAP_EINVAL, "%s: path too long", dir);
	if (file_exists(vocab)) {
		tok->impl = calloc(1, sizeof(*tok->impl));
		if (!tok->impl)
			return eap_err_set(err, EAP_ENOMEM, "%s: out of memory",
					   dir);
		for (int b = 0; b < 256; b++) { /* string index = byte */
			char c = (char)b;
			if (strtab_intern(&tok->impl->strs, &c, 1) != (uint32_t)b) {
				rc = eap_err_set(err, EAP_ENOMEM,
						 "%s: out of memory", dir);
				goto fail;
			}
		}
		if ((rc = hf_load(tok, dir, vocab, &hf_bos, err)) < 0)
			goto fail;
		goto bos;
	}
	for (int i = 0; i < 2 && found < 0; i++) {
		if (join_path(vocab, sizeof(vocab), dir, pairs[i][0]) < 0 ||
		    join_path(merges, sizeof(merges), dir, pairs[i][1]) < 0)
			return eap_err_set(err, EAP_EINVAL, "%s: path too long",
					   dir);
		int hv = file_exists(vocab), hm = file_exists(merges);
		if (hv != hm)
			return eap_err_set(err, EAP_EIO,
					   "%s: missing (%s needs it)",
					   hv ? merges : vocab,
					   hv ? pairs[i][0] : pairs[i][1]);
		if (hv)
			found = i;
	}
	tok->impl = calloc(1, sizeof(*tok->impl));
	if (!tok->impl)
		return eap_err_set(err, EAP_ENOMEM, "%s: out of memory", dir);

	if (found >= 0) {
		int errcode;
		PCRE2_SIZE erroff;

		tok->kind = EAP_TOKENIZER_BPE;
		byte_decoder(inv);
		for (int b = 0; b < 256; b++) { /* string index = byte */
			char c = (char)b;
			if (strtab_intern(&tok->impl->strs, &c, 1) != (uint32_t)b) {
				rc = eap_err_set(err, EAP_ENOMEM,
						 "%s: out of memory", dir);
				goto fail;
			}
		}
		if ((rc = load_bpe_vocab(tok, vocab, inv, err)) < 0 ||
		    (rc = load_bpe_merges(tok, merges, inv, err)) < 0)
			goto fail;
		tok->impl->re = pcre2_compile((PCRE2_SPTR)GPT2_PATTERN,
					      PCRE2_ZERO_TERMINATED,
					      PCRE2_UTF | PCRE2_UCP, &errcode,
					      &erroff, NULL);
		if (!tok->impl->re) {
			rc = eap_err_set(err, EAP_EINVAL,
					 "pre-tokenisation regex: PCRE2 error %d "
					 "at %zu",
					 errcode, (size_t)erroff);
			goto fail;
		}
	} else {
		if (join_path(vocab, sizeof(vocab), dir, "vocab.txt") < 0)
			return eap_err_set(err, EAP_EINVAL, "%s: path too long",
					   dir);
		if (!file_exists(vocab)) {
			rc = eap_err_set(err, EAP_EIO,
					 "%s: no tokenizer files (looked for "
					 "tokenizer.json, encoder.json + vocab.bpe, "
					 "vocab.json + merges.txt, vocab.txt)",
					 dir);
			goto fail;
		}
		tok->kind = EAP_TOKENIZER_WORD;
		if ((rc = load_word_vocab(tok, vocab, err)) < 0)
			goto fail;
	}
bos:
	if ((rc = load_bos(tok, dir, hf_bos, err)) < 0)
		goto fail;
	return 0;
fail:
	eap_tokenizer_release(tok);
	return rc;
}

void eap_tokenizer_release(struct eap_tokenizer *tok)
{
	if (tok->impl) {
		strtab_release(&tok->impl->strs);
		free(tok->impl->vocab_str);
		free(tok->impl->merges);
		pcre2_code_free(tok->impl->re);
		hf_free(tok->impl->hf);
		free(tok->impl);
	}
	memset(tok, 0, sizeof(*tok));
	tok->bos_id = -1;
}

/* ---- encoding ------------------------------------------------------------ */

/* Growable id buffer. */
struct ids {
	int32_t *v;
	size_t n, cap;
};

static int ids_push(struct ids *o, int32_t id)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		int32_t *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return EAP_ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = id;
	return 0;
}

/* BPE of one pre-token p[0..n); sym is scratch of n entries. */
static int bpe_word(const struct eap_tokenizer_impl *m, const char *p,
		    size_t n, uint32_t *sym, struct ids *out,
		    struct eap_err *err)
{
	size_t k = n;

	for (size_t i = 0; i < n; i++)
		sym[i] = (unsigned char)p[i];
	while (k > 1) {
		const struct merge_slot *best = NULL;
		for (size_t i = 0; i + 1 < k; i++) {
			const struct merge_slot *s = merge_find(m, sym[i], sym[i + 1]);
			if (s && (!best || s->rank < best->rank))
				best = s;
		}
		if (!best)
			break;
		uint32_t a = (uint32_t)(best->key >> 32);
		uint32_t b = (uint32_t)best->key;
		size_t j = 0;
		for (size_t i = 0; i < k;) {
			if (i + 1 < k && sym[i] == a && sym[i + 1] == b) {
				sym[j++] = best->merged;
				i += 2;
			} else {
				sym[j++] = sym[i++];
			}
		}
		k = j;
	}
	for (size_t i = 0; i < k; i++) {
		int32_t id = m->strs.ent[sym[i]].vocab_id;
		if (id < 0) {
			char q[4 * QUOTE_MAX];
			const struct str_entry *e = &m->strs.ent[sym[i]];
			return eap_err_set(err, EAP_EFORMAT,
					   "BPE symbol \"%s\" is not in the "
					   "vocabulary",
					   quote(m->strs.buf + e->off, e->len, q,
						 sizeof(q)));
		}
		if (ids_push(out, id) < 0)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	return 0;
}

static int encode_bpe(const struct eap_tokenizer *tok, const char *text,
		      size_t len, struct ids *out, struct eap_err *err)
{
	const struct eap_tokenizer_impl *m = tok->impl;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(m->re, NULL);
	uint32_t *sym = malloc((len ? len : 1) * sizeof(*sym));
	size_t off = 0;
	int rc = 0;

	if (!md || !sym) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	while (off < len) {
		/* the text was validated, so PCRE2 need not re-check it */
		int r = pcre2_match(m->re, (PCRE2_SPTR)text, len, off,
				    PCRE2_NO_UTF_CHECK, md, NULL);
		PCRE2_SIZE *ov;
		if (r == PCRE2_ERROR_NOMATCH)
			break;
		if (r < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(r, msg, sizeof(msg));
			rc = eap_err_set(err, EAP_EINVAL,
					 "pre-tokenisation failed at byte %zu: %s",
					 off + 1, (const char *)msg);
			goto out;
		}
		ov = pcre2_get_ovector_pointer(md);
		if (ov[1] <= ov[0]) { /* cannot happen: no branch is empty */
			off = ov[0] + 1;
			continue;
		}
		rc = bpe_word(m, text + ov[0], ov[1] - ov[0], sym, out, err);
		if (rc < 0)
			goto out;
		off = ov[1];
	}
out:
	free(sym);
	pcre2_match_data_free(md);
	return rc;
}

static int encode_word(const struct eap_tokenizer *tok, const char *text,
		       size_t len, struct ids *out, struct eap_err *err)
{
	size_t i = 0;

	while (i < len) {
		size_t j;
		uint32_t s;
		while (i < len && is_space((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		for (j = i; j < len && !is_space((unsigned char)text[j]); j++)
			;
		s = strtab_find(&tok->impl->strs, text + i, j - i);
		if (s == NO_SLOT) {
			char q[4 * QUOTE_MAX];
			return eap_err_set(err, EAP_EINVAL,
					   "unknown word \"%s\"",
					   quote(text + i, j - i, q, sizeof(q)));
		}
		if (ids_push(out, tok->impl->strs.ent[s].vocab_id) < 0)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		i = j;
	}
	return 0;
}

/* ---- tokenizer.json (Hugging Face tokenizers) ------------------------------
 *
 * The pipeline of tokenizers' Tokenizer: split the text on the added tokens
 * (leftmost-longest, as transformers.js's DictionarySplitter and the Rust
 * crate's Aho-Corasick matcher do), then for every other section
 * normalizer -> pre-tokenizer -> BPE model, and the post-processor's special
 * tokens around the whole.  Byte-level files (a ByteLevel pre-tokenizer) run
 * BPE on bytes as the GPT-2 files do; the others (SentencePiece-style:
 * Llama-2, Mistral, Gemma) on UTF-8 characters, with byte fallback.
 */

enum hf_norm_kind { NORM_NFC, NORM_REPLACE, NORM_PREPEND };

struct hf_norm {
	enum hf_norm_kind kind;
	char *from; /* REPLACE: the literal replaced */
	char *to;   /* REPLACE: its replacement; PREPEND: the prefix */
};

enum hf_pre_kind { PRE_SPLIT, PRE_BYTELEVEL, PRE_METASPACE };
enum hf_behavior { SPLIT_ISOLATED, SPLIT_REMOVED, SPLIT_MERGED_PREV,
		   SPLIT_MERGED_NEXT };

struct hf_pre {
	enum hf_pre_kind kind;
	pcre2_code *re;            /* SPLIT; BYTELEVEL with use_regex */
	enum hf_behavior behavior; /* SPLIT */
	int add_prefix_space;      /* BYTELEVEL; METASPACE: prepend */
	int prepend_first;         /* METASPACE: only at the text's start */
	int split;                 /* METASPACE: split before each repl */
	char *repl;                /* METASPACE: the replacement of ' ' */
};

struct hf_added {
	char *s;  /* content, raw UTF-8 */
	size_t len;
	int32_t id;
	int lstrip, rstrip;
};

struct hf {
	int byte_level;
	struct hf_norm *norm;   /* (n_norm) applied in order */
	size_t n_norm;
	struct hf_pre *pre;     /* (n_pre) applied in order */
	size_t n_pre;
	struct hf_added *added; /* (n_added) sorted by first byte */
	size_t n_added;
	size_t first[257];      /* added[first[c]..first[c+1]) start with c */
	int ignore_merges, byte_fallback, fuse_unk;
	int32_t unk_id;         /* -1 if none */
	int32_t byte_id[256];   /* id of "<0xXX>", -1 if absent */
	int32_t *special;       /* (n_prefix + n_suffix) post-processor ids */
	size_t n_prefix, n_suffix;
	char *dec;              /* decoded pieces (not byte-level): */
	size_t *dec_off;        /* (n_vocab + 1) offsets into dec */
};

static void hf_free(struct hf *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_norm; i++) {
		free(h->norm[i].from);
		free(h->norm[i].to);
	}
	for (size_t i = 0; i < h->n_pre; i++) {
		pcre2_code_free(h->pre[i].re);
		free(h->pre[i].repl);
	}
	for (size_t i = 0; i < h->n_added; i++)
		free(h->added[i].s);
	free(h->norm);
	free(h->pre);
	free(h->added);
	free(h->special);
	free(h->dec);
	free(h->dec_off);
	free(h);
}

static char *xstrdup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int json_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* A Split/Replace "pattern": {"String": s} (literal) or {"Regex": r}. */
static pcre2_code *compile_pattern(const cJSON *pat, const char *path,
				   const char *where, struct eap_err *err)
{
	const char *s = json_str(pat, "String"), *r = json_str(pat, "Regex");
	pcre2_code *re;
	int errcode;
	PCRE2_SIZE erroff;

	if (!s && !r) {
		eap_err_set(err, EAP_EFORMAT,
			    "%s: %s: pattern is neither {\"String\": ...} nor "
			    "{\"Regex\": ...}",
			    path, where);
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)(s ? s : r), PCRE2_ZERO_TERMINATED,
			   s ? PCRE2_UTF | PCRE2_LITERAL : PCRE2_UTF | PCRE2_UCP,
			   &errcode, &erroff, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		eap_err_set(err, EAP_EFORMAT,
			    "%s: %s: regex error at offset %zu: %s", path, where,
			    (size_t)erroff, (const char *)msg);
	}
	return re;
}

static int add_norm(struct hf *h, const cJSON *n, const char *path,
		    struct eap_err *err)
{
	const char *type = json_str(n, "type");
	struct hf_norm *v;

	if (!type)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: normalizer without a \"type\"", path);
	if (!strcmp(type, "Sequence")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(n, "normalizers"), *it;
		int rc;
		if (!cJSON_IsArray(l))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Sequence normalizer without a "
					   "\"normalizers\" list", path);
		cJSON_ArrayForEach(it, l)
			if ((rc = add_norm(h, it, path, err)) < 0)
				return rc;
		return 0;
	}
	v = realloc(h->norm, (h->n_norm + 1) * sizeof(*v));
	if (!v)
		return eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
	h->norm = v;
	v = &h->norm[h->n_norm];
	memset(v, 0, sizeof(*v));
	if (!strcmp(type, "NFC")) {
		v->kind = NORM_NFC;
	} else if (!strcmp(type, "Replace")) {
		const cJSON *pat = cJSON_GetObjectItemCaseSensitive(n, "pattern");
		const char *from = json_str(pat, "String");
		const char *to = json_str(n, "content");
		if (!from || !*from || !to)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Replace normalizer: only a "
					   "non-empty {\"String\": ...} pattern "
					   "and a \"content\" are supported",
					   path);
		v->kind = NORM_REPLACE;
		v->from = strdup(from);
		v->to = strdup(to);
		if (!v->from || !v->to) {
			h->n_norm++;
			return eap_err_set(err, EAP_ENOMEM, "%s: out of memory",
					   path);
		}
	} else if (!strcmp(type, "Prepend")) {
		const char *to = json_str(n, "prepend");
		if (!to)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Prepend normalizer without "
					   "\"prepend\"", path);
		v->kind = NORM_PREPEND;
		if (!(v->to = strdup(to)))
			return eap_err_set(err, EAP_ENOMEM, "%s: out of memory",
					   path);
	} else {
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: unsupported normalizer \"%s\" (supported: "
				   "NFC, Replace, Prepend, Sequence)",
				   path, type);
	}
	h->n_norm++;
	return 0;
}

static int add_pre(struct hf *h, const cJSON *p, const char *path,
		   struct eap_err *err)
{
	const char *type = json_str(p, "type");
	struct hf_pre *v;

	if (!type)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: pre_tokenizer without a \"type\"", path);
	if (!strcmp(type, "Sequence")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "pretokenizers"), *it;
		int rc;
		if (!cJSON_IsArray(l))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Sequence pre_tokenizer without a "
					   "\"pretokenizers\" list", path);
		cJSON_ArrayForEach(it, l)
			if ((rc = add_pre(h, it, path, err)) < 0)
				return rc;
		return 0;
	}
	if (h->byte_level)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: pre_tokenizer \"%s\" after ByteLevel is "
				   "not supported", path, type);
	v = realloc(h->pre, (h->n_pre + 1) * sizeof(*v));
	if (!v)
		return eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
	h->pre = v;
	v = &h->pre[h->n_pre];
	memset(v, 0, sizeof(*v));
	if (!strcmp(type, "Split")) {
		const char *b = json_str(p, "behavior");
		v->kind = PRE_SPLIT;
		if (json_true(p, "invert"))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Split pre_tokenizer with "
					   "\"invert\": true is not supported",
					   path);
		if (!b || !strcmp(b, "Isolated"))
			v->behavior = SPLIT_ISOLATED;
		else if (!strcmp(b, "Removed"))
			v->behavior = SPLIT_REMOVED;
		else if (!strcmp(b, "MergedWithPrevious"))
			v->behavior = SPLIT_MERGED_PREV;
		else if (!strcmp(b, "MergedWithNext"))
			v->behavior = SPLIT_MERGED_NEXT;
		else
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Split behavior \"%s\" is not "
					   "supported", path, b);
		v->re = compile_pattern(cJSON_GetObjectItemCaseSensitive(p, "pattern"),
					path, "Split pre_tokenizer", err);
		if (!v->re)
			return err->code ? err->code : EAP_EFORMAT;
	} else if (!strcmp(type, "ByteLevel")) {
		const cJSON *ur = cJSON_GetObjectItemCaseSensitive(p, "use_regex");
		v->kind = PRE_BYTELEVEL;
		v->add_prefix_space = json_true(p, "add_prefix_space");
		if (!ur || cJSON_IsTrue(ur)) { /* GPT-2's regex, the default */
			int errcode;
			PCRE2_SIZE erroff;
			v->re = pcre2_compile((PCRE2_SPTR)GPT2_PATTERN,
					      PCRE2_ZERO_TERMINATED,
					      PCRE2_UTF | PCRE2_UCP, &errcode,
					      &erroff, NULL);
			if (!v->re)
				return eap_err_set(err, EAP_EINVAL,
						   "GPT-2 regex: PCRE2 error %d",
						   errcode);
		}
		h->byte_level = 1;
	} else if (!strcmp(type, "Metaspace")) {
		const char *r = json_str(p, "replacement");
		const char *scheme = json_str(p, "prepend_scheme");
		const cJSON *aps = cJSON_GetObjectItemCaseSensitive(p, "add_prefix_space");
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(p, "split");
		v->kind = PRE_METASPACE;
		if (!(v->repl = strdup(r && *r ? r : "\xe2\x96\x81")))
			return eap_err_set(err, EAP_ENOMEM, "%s: out of memory",
					   path);
		h->n_pre++; /* owns repl from here */
		if (scheme) {
			v->add_prefix_space = strcmp(scheme, "never") != 0;
			v->prepend_first = !strcmp(scheme, "first");
		} else {
			v->add_prefix_space = !aps || cJSON_IsTrue(aps);
		}
		v->split = !sp || cJSON_IsTrue(sp);
		return 0;
	} else {
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: unsupported pre_tokenizer \"%s\" "
				   "(supported: Split, ByteLevel, Metaspace, "
				   "Sequence)",
				   path, type);
	}
	h->n_pre++;
	return 0;
}

/* Id of a token named in the post-processor or tokenizer_config.json. */
static int32_t hf_token_id(const struct eap_tokenizer *tok, const char *s)
{
	const struct hf *h = tok->impl->hf;
	const struct strtab *t = &tok->impl->strs;
	size_t n = strlen(s);
	uint32_t i;

	for (size_t k = 0; k < h->n_added; k++)
		if (h->added[k].len == n && !memcmp(h->added[k].s, s, n))
			return h->added[k].id;
	if (h->byte_level) {
		int inv[BYTE_CP_MAX];
		char *raw = malloc(n + 1);
		long nb;
		int32_t id = -1;
		if (!raw)
			return -1;
		byte_decoder(inv);
		nb = bytes_of(inv, s, n, raw);
		if (nb >= 0 && (i = strtab_find(t, raw, (size_t)nb)) != NO_SLOT)
			id = t->ent[i].vocab_id;
		free(raw);
		return id;
	}
	i = strtab_find(t, s, n);
	return i == NO_SLOT ? -1 : t->ent[i].vocab_id;
}

static int push_special(struct hf *h, int32_t id, int prefix)
{
	int32_t *v = realloc(h->special,
			     (h->n_prefix + h->n_suffix + 1) * sizeof(*v));

	if (!v)
		return EAP_ENOMEM;
	h->special = v;
	if (prefix) {
		memmove(v + h->n_prefix + 1, v + h->n_prefix,
			h->n_suffix * sizeof(*v));
		v[h->n_prefix++] = id;
	} else {
		v[h->n_prefix + h->n_suffix++] = id;
	}
	return 0;
}

/* TemplateProcessing's "single", Roberta/BertProcessing, or a Sequence. */
static int parse_post(struct eap_tokenizer *tok, const cJSON *pp,
		      const char *path, struct eap_err *err)
{
	struct hf *h = tok->impl->hf;
	const char *type = json_str(pp, "type");

	if (!pp || cJSON_IsNull(pp))
		return 0;
	if (!type)
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: post_processor without a \"type\"", path);
	if (!strcmp(type, "ByteLevel"))
		return 0; /* offsets only */
	if (!strcmp(type, "Sequence")) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(pp, "processors"), *it;
		int rc;
		if (!cJSON_IsArray(l))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: Sequence post_processor without a "
					   "\"processors\" list", path);
		cJSON_ArrayForEach(it, l)
			if ((rc = parse_post(tok, it, path, err)) < 0)
				return rc;
		return 0;
	}
	if (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing")) {
		const cJSON *cls = cJSON_GetObjectItemCaseSensitive(pp, "cls");
		const cJSON *sep = cJSON_GetObjectItemCaseSensitive(pp, "sep");
		const cJSON *c1 = cJSON_GetArrayItem(cls, 1), *s1 = cJSON_GetArrayItem(sep, 1);
		if (!cJSON_IsNumber(c1) || !cJSON_IsNumber(s1) ||
		    c1->valuedouble < 0 || c1->valuedouble >= (double)tok->n_vocab ||
		    s1->valuedouble < 0 || s1->valuedouble >= (double)tok->n_vocab)
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: %s: \"cls\" and \"sep\" must be "
					   "[token, id] with an id in 0..%zu",
					   path, type, tok->n_vocab - 1);
		if (push_special(h, (int32_t)c1->valuedouble, 1) < 0 ||
		    push_special(h, (int32_t)s1->valuedouble, 0) < 0)
			return eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
		return 0;
	}
	if (!strcmp(type, "TemplateProcessing")) {
		const cJSON *single = cJSON_GetObjectItemCaseSensitive(pp, "single"), *it;
		const cJSON *sts = cJSON_GetObjectItemCaseSensitive(pp, "special_tokens");
		int seen_a = 0;
		if (!cJSON_IsArray(single))
			return eap_err_set(err, EAP_EFORMAT,
					   "%s: TemplateProcessing without a "
					   "\"single\" list", path);
		cJSON_ArrayForEach(it, single) {
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
			const cJSON *ids, *x;
			const char *name = json_str(st, "id");
			if (cJSON_GetObjectItemCaseSensitive(it, "Sequence")) {
				seen_a = 1;
				continue;
			}
			if (!name)
				return eap_err_set(err, EAP_EFORMAT,
						   "%s: TemplateProcessing item is "
						   "neither a Sequence nor a "
						   "SpecialToken", path);
			ids = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(sts, name), "ids");
			if (!cJSON_IsArray(ids))
				return eap_err_set(err, EAP_EFORMAT,
						   "%s: TemplateProcessing: special "
						   "token \"%s\" has no \"ids\" in "
						   "\"special_tokens\"", path, name);
			cJSON_ArrayForEach(x, ids) {
				double v = x->valuedouble;
				if (!cJSON_IsNumber(x) || !(v >= 0 && v < (double)tok->n_vocab))
					return eap_err_set(err, EAP_EFORMAT,
							   "%s: TemplateProcessing: "
							   "\"%s\" has an id outside "
							   "0..%zu", path, name,
							   tok->n_vocab - 1);
				if (push_special(h, (int32_t)v, !seen_a) < 0)
					return eap_err_set(err, EAP_ENOMEM,
							   "%s: out of memory", path);
			}
		}
		return 0;
	}
	return eap_err_set(err, EAP_EFORMAT,
			   "%s: unsupported post_processor \"%s\" (supported: "
			   "TemplateProcessing, ByteLevel, RobertaProcessing, "
			   "BertProcessing, Sequence)",
			   path, type);
}

static int cmp_added(const void *a, const void *b)
{
	const struct hf_added *x = a, *y = b;
	unsigned cx = (unsigned char)x->s[0], cy = (unsigned char)y->s[0];

	if (cx != cy)
		return cx < cy ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A vocabulary or merge token as raw bytes in buf; -1 if not byte-level. */
static long token_bytes(const struct hf *h, const int inv[BYTE_CP_MAX],
			const char *s, size_t n, char *buf)
{
	if (h->byte_level)
		return bytes_of(inv, s, n, buf);
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (long)n;
}

/* Replace "<0xXX>" pieces by their byte and U+2581 by ' ' (decoding). */
static int build_decoded(struct eap_tokenizer *tok)
{
	struct eap_tokenizer_impl *m = tok->impl;
	struct hf *h = m->hf;
	size_t total = 0, j = 0;

	for (size_t id = 0; id < tok->n_vocab; id++)
		if (m->vocab_str[id] != NO_SLOT)
			total += m->strs.ent[m->vocab_str[id]].len + 1;
	h->dec = malloc(total + 1);
	h->dec_off = malloc((tok->n_vocab + 1) * sizeof(*h->dec_off));
	if (!h->dec || !h->dec_off)
		return EAP_ENOMEM;
	for (size_t id = 0; id < tok->n_vocab; id++) {
		uint32_t s = m->vocab_str[id];
		h->dec_off[id] = j;
		if (s == NO_SLOT)
			continue;
		const char *p = strtab_str(&m->strs, s);
		size_t n = m->strs.ent[s].len;
		unsigned x;
		if (n == 6 && !strncmp(p, "<0x", 3) && p[5] == '>' &&
		    sscanf(p + 3, "%2x", &x) == 1) {
			h->dec[j++] = (char)x;
		} else {
			for (size_t i = 0; i < n;) {
				if (n - i >= 3 && !memcmp(p + i, "\xe2\x96\x81", 3)) {
					h->dec[j++] = ' ';
					i += 3;
				} else {
					h->dec[j++] = p[i++];
				}
			}
		}
		h->dec[j++] = '\0';
	}
	h->dec_off[tok->n_vocab] = j;
	return 0;
}

/*
 * tokenizer_config.json: add_bos_token and bos_token (a string or an
 * AddedToken object).  *add_bos: -1 absent, else 0/1; *bos: -1 or its id.
 */
static int load_tok_config(struct eap_tokenizer *tok, const char *dir,
			   int *add_bos, int32_t *bos, struct eap_err *err)
{
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len;
	const char *end = NULL, *name;
	cJSON *root = NULL, *b;
	int rc = 0;

	*add_bos = -1;
	*bos = -1;
	if (join_path(path, sizeof(path), dir, "tokenizer_config.json") < 0)
		return eap_err_set(err, EAP_EINVAL, "%s: path too long", dir);
	if (!file_exists(path))
		return 0;
	if ((rc = read_file(path, &buf, &len, err)) < 0)
		return rc;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root || !cJSON_IsObject(root)) {
		size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
		rc = eap_err_set(err, EAP_EFORMAT, "%s:%zu: invalid JSON", path,
				 line_of(buf, off));
		goto out;
	}
	b = cJSON_GetObjectItemCaseSensitive(root, "add_bos_token");
	if (cJSON_IsBool(b))
		*add_bos = cJSON_IsTrue(b);
	b = cJSON_GetObjectItemCaseSensitive(root, "bos_token");
	name = cJSON_IsString(b) ? b->valuestring : json_str(b, "content");
	if (name) {
		*bos = hf_token_id(tok, name);
		if (*bos < 0) {
			char q[4 * QUOTE_MAX];
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: bos_token \"%s\" is not a token of "
					 "tokenizer.json", path,
					 quote(name, strlen(name), q, sizeof(q)));
		}
	}
out:
	cJSON_Delete(root);
	free(buf);
	return rc;
}

/*
 * Load tokenizer.json at path (and tokenizer_config.json beside it); on
 * success *bos is the BOS the files name (-1 if none).
 */
static int hf_load(struct eap_tokenizer *tok, const char *dir,
		   const char *path, int32_t *bos, struct eap_err *err)
{
	struct eap_tokenizer_impl *m = tok->impl;
	struct hf *h;
	char *buf = NULL, *raw = NULL;
	size_t len, n_merges = 0, max_tok = 0, k;
	long max_id = -1;
	const char *end = NULL, *type;
	cJSON *root = NULL, *model, *vocab, *merges, *added, *it, *x;
	int inv[BYTE_CP_MAX];
	char q[4 * QUOTE_MAX];
	int rc, add_bos;
	int32_t cfg_bos;

	*bos = -1;
	byte_decoder(inv);
	if (!(h = m->hf = calloc(1, sizeof(*h))))
		return eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
	h->unk_id = -1;
	if ((rc = read_file(path, &buf, &len, err)) < 0)
		return rc;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (!root || !cJSON_IsObject(root)) {
		size_t off = end && end >= buf ? (size_t)(end - buf) : 0;
		rc = eap_err_set(err, EAP_EFORMAT, "%s:%zu: invalid JSON", path,
				 line_of(buf, off));
		goto out;
	}
	model = cJSON_GetObjectItemCaseSensitive(root, "model");
	if (!cJSON_IsObject(model)) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: no \"model\" object",
				 path);
		goto out;
	}
	type = json_str(model, "type");
	if (type && strcmp(type, "BPE") != 0) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: unsupported model type \"%s\" (only BPE)",
				 path, type);
		goto out;
	}
	vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
	merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
	if (!cJSON_IsObject(vocab) || !cJSON_IsArray(merges)) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: model needs a \"vocab\" object and a "
				 "\"merges\" list", path);
		goto out;
	}
	x = cJSON_GetObjectItemCaseSensitive(model, "dropout");
	if (cJSON_IsNumber(x) && x->valuedouble != 0) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: BPE dropout is not supported", path);
		goto out;
	}
	for (const char *const *f = (const char *const[]){
		     "continuing_subword_prefix", "end_of_word_suffix", NULL };
	     *f; f++) {
		const char *v = json_str(model, *f);
		if (v && *v) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: a non-empty %s is not supported",
					 path, *f);
			goto out;
		}
	}
	h->ignore_merges = json_true(model, "ignore_merges");
	h->byte_fallback = json_true(model, "byte_fallback");
	h->fuse_unk = json_true(model, "fuse_unk");

	x = cJSON_GetObjectItemCaseSensitive(root, "normalizer");
	if (x && !cJSON_IsNull(x) && (rc = add_norm(h, x, path, err)) < 0)
		goto out;
	x = cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer");
	if (x && !cJSON_IsNull(x) && (rc = add_pre(h, x, path, err)) < 0)
		goto out;
	tok->kind = h->byte_level ? EAP_TOKENIZER_BPE : EAP_TOKENIZER_BPE_SP;

	/* ids: the vocab's and the added tokens' */
	added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
	if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added)) {
		rc = eap_err_set(err, EAP_EFORMAT,
				 "%s: \"added_tokens\" is not a list", path);
		goto out;
	}
	cJSON_ArrayForEach(it, vocab) {
		double v = it->valuedouble;
		size_t n = strlen(it->string);
		if (!cJSON_IsNumber(it) || !(v >= 0 && v < 1e9) ||
		    v != (double)(long)v) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: vocab token \"%s\": id is not an "
					 "integer in 0..999999999", path,
					 quote(it->string, n, q, sizeof(q)));
			goto out;
		}
		if ((long)v > max_id)
			max_id = (long)v;
		if (n > max_tok)
			max_tok = n;
	}
	k = 0;
	cJSON_ArrayForEach(it, added) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		const char *c = json_str(it, "content");
		if (!cJSON_IsNumber(id) || !(id->valuedouble >= 0 &&
					     id->valuedouble < 1e9) || !c || !*c) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: added_tokens[%zu] needs an \"id\" "
					 "in 0..999999999 and a non-empty "
					 "\"content\"", path, k);
			goto out;
		}
		if ((long)id->valuedouble > max_id)
			max_id = (long)id->valuedouble;
		k++;
	}
	if (max_id < 0) {
		rc = eap_err_set(err, EAP_EFORMAT, "%s: no tokens", path);
		goto out;
	}
	tok->n_vocab = (size_t)max_id + 1;
	if ((rc = set_vocab(m, tok->n_vocab)) < 0)
		goto nomem;
	raw = malloc(2 * (max_tok + 8) + len + 1);
	if (!raw)
		goto nomem;
	cJSON_ArrayForEach(it, vocab) {
		size_t n = strlen(it->string);
		long id = (long)it->valuedouble, nb;
		uint32_t s;
		if (n == 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: vocab has an empty token", path);
			goto out;
		}
		nb = token_bytes(h, inv, it->string, n, raw);
		if (nb < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: vocab token \"%s\" has a character "
					 "outside the byte-level alphabet", path,
					 quote(it->string, n, q, sizeof(q)));
			goto out;
		}
		if ((s = strtab_intern(&m->strs, raw, (size_t)nb)) == NO_SLOT)
			goto nomem;
		if (m->strs.ent[s].vocab_id >= 0 || m->vocab_str[id] != NO_SLOT) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: vocab token \"%s\" or its id %ld "
					 "appears twice", path,
					 quote(it->string, n, q, sizeof(q)), id);
			goto out;
		}
		m->strs.ent[s].vocab_id = (int32_t)id;
		m->vocab_str[id] = s;
	}
	if (k && !(h->added = calloc(k, sizeof(*h->added))))
		goto nomem;
	cJSON_ArrayForEach(it, added) {
		struct hf_added *a = &h->added[h->n_added];
		const char *c = json_str(it, "content");
		uint32_t s;
		a->len = strlen(c);
		a->id = (int32_t)cJSON_GetObjectItemCaseSensitive(it, "id")->valuedouble;
		a->lstrip = json_true(it, "lstrip");
		a->rstrip = json_true(it, "rstrip");
		if (!(a->s = xstrdup_n(c, a->len)))
			goto nomem;
		h->n_added++;
		/* its piece is its content, as in transformers.js */
		if ((s = strtab_intern(&m->strs, c, a->len)) == NO_SLOT)
			goto nomem;
		m->vocab_str[a->id] = s;
	}
	if (h->n_added)
		qsort(h->added, h->n_added, sizeof(*h->added), cmp_added);
	for (size_t c = 0, i = 0; c <= 256; c++) {
		while (i < h->n_added && (unsigned char)h->added[i].s[0] < c)
			i++;
		h->first[c] = i;
	}

	/* merges: "a b" or ["a", "b"]; rank = position, a later duplicate
	 * wins as in the Rust crate and transformers.js */
	n_merges = (size_t)cJSON_GetArraySize(merges);
	m->n_merge_slots = 1024;
	while (m->n_merge_slots < 2 * (n_merges + 1))
		m->n_merge_slots *= 2;
	if (!(m->merges = malloc(m->n_merge_slots * sizeof(*m->merges))))
		goto nomem;
	memset(m->merges, 0xff, m->n_merge_slots * sizeof(*m->merges));
	k = 0;
	cJSON_ArrayForEach(it, merges) {
		const char *pa = NULL, *pb = NULL;
		size_t na = 0, nb = 0;
		long ra, rb;
		uint32_t a, b, ab;
		if (cJSON_IsString(it)) {
			const char *sp = strchr(it->valuestring, ' ');
			if (sp && !strchr(sp + 1, ' ')) {
				pa = it->valuestring;
				na = (size_t)(sp - pa);
				pb = sp + 1;
				nb = strlen(pb);
			}
		} else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 &&
			   cJSON_IsString(it->child) &&
			   cJSON_IsString(it->child->next)) {
			pa = it->child->valuestring;
			na = strlen(pa);
			pb = it->child->next->valuestring;
			nb = strlen(pb);
		}
		if (!pa || na == 0 || nb == 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: merges[%zu] is not \"a b\" or "
					 "[\"a\", \"b\"]", path, k);
			goto out;
		}
		ra = token_bytes(h, inv, pa, na, raw);
		rb = ra < 0 ? -1 : token_bytes(h, inv, pb, nb, raw + ra);
		a = ra < 0 ? NO_SLOT : strtab_find(&m->strs, raw, (size_t)ra);
		b = rb < 0 ? NO_SLOT : strtab_find(&m->strs, raw + ra, (size_t)rb);
		if (a == NO_SLOT || m->strs.ent[a].vocab_id < 0 ||
		    b == NO_SLOT || m->strs.ent[b].vocab_id < 0) {
			int bad_a = a == NO_SLOT || m->strs.ent[a].vocab_id < 0;
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: merges[%zu] names \"%s\", which is "
					 "not in the vocab", path, k,
					 bad_a ? quote(pa, na, q, sizeof(q))
					       : quote(pb, nb, q, sizeof(q)));
			goto out;
		}
		ab = strtab_find(&m->strs, raw, (size_t)(ra + rb));
		if (ab == NO_SLOT || m->strs.ent[ab].vocab_id < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: merges[%zu]: the merged token of "
					 "\"%s\" and \"%s\" is not in the vocab",
					 path, k, quote(pa, na, q, sizeof(q)),
					 pb);
			goto out;
		}
		if (merge_add(m, a, b, (uint32_t)k, ab)) {
			struct merge_slot *s = (struct merge_slot *)merge_find(m, a, b);
			s->rank = (uint32_t)k;
		}
		k++;
	}

	/* the unknown token and byte fallback */
	if ((type = json_str(model, "unk_token"))) {
		uint32_t s = strtab_find(&m->strs, type, strlen(type));
		h->unk_id = s == NO_SLOT ? -1 : m->strs.ent[s].vocab_id;
		if (h->unk_id < 0)
			h->unk_id = hf_token_id(tok, type);
		if (h->unk_id < 0) {
			rc = eap_err_set(err, EAP_EFORMAT,
					 "%s: unk_token \"%s\" is not in the vocab",
					 path, quote(type, strlen(type), q, sizeof(q)));
			goto out;
		}
	}
	for (int c = 0; c < 256; c++) {
		char name[8];
		uint32_t s;
		snprintf(name, sizeof(name), "<0x%02X>", c);
		s = h->byte_level ? NO_SLOT : strtab_find(&m->strs, name, 6);
		h->byte_id[c] = s == NO_SLOT ? -1 : m->strs.ent[s].vocab_id;
	}

	if ((rc = parse_post(tok, cJSON_GetObjectItemCaseSensitive(root, "post_processor"),
			     path, err)) < 0)
		goto out;
	if ((rc = load_tok_config(tok, dir, &add_bos, &cfg_bos, err)) < 0)
		goto out;
	/* add_bos_token without a template: the BOS is prepended, as
	 * transformers' Llama/Gemma tokenizers do */
	if (add_bos == 1 && h->n_prefix == 0 && cfg_bos >= 0 &&
	    push_special(h, cfg_bos, 1) < 0)
		goto nomem;
	*bos = h->n_prefix ? h->special[0] : cfg_bos;
	if (!h->byte_level && (rc = build_decoded(tok)) < 0)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = eap_err_set(err, EAP_ENOMEM, "%s: out of memory", path);
out:
	cJSON_Delete(root);
	free(raw);
	free(buf);
	return rc;
}

/* ---- tokenizer.json: encoding ---------------------------------------------- */

/* Pieces of pre-tokenisation: spans of one buffer. */
struct pieces {
	char *buf;
	size_t len, cap;
	size_t *off, *n; /* (count) */
	size_t count, cap_p;
};

static void pieces_free(struct pieces *p)
{
	free(p->buf);
	free(p->off);
	free(p->n);
	memset(p, 0, sizeof(*p));
}

static int pieces_bytes(struct pieces *p, const char *s, size_t n)
{
	if (p->cap - p->len < n + 1) {
		size_t cap = p->cap ? p->cap : 256;
		while (cap - p->len < n + 1)
			cap *= 2;
		char *b = realloc(p->buf, cap);
		if (!b)
			return EAP_ENOMEM;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
	return 0;
}

/* Start a new (empty) piece at the end of the buffer. */
static int pieces_new(struct pieces *p)
{
	if (p->count == p->cap_p) {
		size_t cap = p->cap_p ? 2 * p->cap_p : 64;
		size_t *o = realloc(p->off, cap * sizeof(*o));
		if (!o)
			return EAP_ENOMEM;
		p->off = o;
		if (!(o = realloc(p->n, cap * sizeof(*o))))
			return EAP_ENOMEM;
		p->n = o;
		p->cap_p = cap;
	}
	p->off[p->count] = p->len;
	p->n[p->count++] = 0;
	return 0;
}

/* Append s[0..n) to the last piece (which must end the buffer). */
static int pieces_add(struct pieces *p, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	if (pieces_bytes(p, s, n) < 0)
		return EAP_ENOMEM;
	p->n[p->count - 1] += n;
	return 0;
}

/* Drop a trailing empty piece. */
static void pieces_close(struct pieces *p)
{
	if (p->count && p->n[p->count - 1] == 0)
		p->count--;
}

/* s[0..n) as pieces of out split by re with behavior b. */
static int split_piece(const pcre2_code *re, enum hf_behavior b,
		       pcre2_match_data *md, const char *s, size_t n,
		       struct pieces *out, struct eap_err *err)
{
	size_t pos = 0, prev = 0;

	if (pieces_new(out) < 0)
		goto nomem;
	while (pos <= n) {
		int r = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK,
				    md, NULL);
		PCRE2_SIZE *ov;
		size_t ms, me;
		if (r == PCRE2_ERROR_NOMATCH)
			break;
		if (r < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(r, msg, sizeof(msg));
			return eap_err_set(err, EAP_EINVAL,
					   "pre-tokenisation failed: %s",
					   (const char *)msg);
		}
		ov = pcre2_get_ovector_pointer(md);
		ms = ov[0];
		me = ov[1];
		if (me == ms) { /* empty match: no split, step one character */
			if (ms >= n)
				break;
			size_t k = eap_utf8_len((const unsigned char *)s + ms, n - ms);
			pos = ms + (k ? k : 1);
			continue;
		}
		switch (b) {
		case SPLIT_ISOLATED:
		case SPLIT_REMOVED:
			if (pieces_add(out, s + prev, ms - prev) < 0)
				goto nomem;
			pieces_close(out);
			if (pieces_new(out) < 0)
				goto nomem;
			if (b == SPLIT_ISOLATED) {
				if (pieces_add(out, s + ms, me - ms) < 0 ||
				    pieces_new(out) < 0)
					goto nomem;
			}
			break;
		case SPLIT_MERGED_PREV:
			if (pieces_add(out, s + prev, me - prev) < 0 ||
			    pieces_new(out) < 0)
				goto nomem;
			break;
		case SPLIT_MERGED_NEXT:
			if (pieces_add(out, s + prev, ms - prev) < 0)
				goto nomem;
			pieces_close(out);
			if (pieces_new(out) < 0 ||
			    pieces_add(out, s + ms, me - ms) < 0)
				goto nomem;
			break;
		}
		prev = pos = me;
	}
	if (pieces_add(out, s + prev, n - prev) < 0)
		goto nomem;
	pieces_close(out);
	return 0;
nomem:
	return eap_err_set(err, EAP_ENOMEM, "out of memory");
}

/* One pre-tokenizer stage: in -> out (out zeroed). */
static int pre_stage(const struct hf_pre *st, int first_section,
		     const struct pieces *in, struct pieces *out,
		     struct eap_err *err)
{
	pcre2_match_data *md = NULL;
	struct pieces tmp = { 0 };
	int rc = 0;

	if (st->re && !(md = pcre2_match_data_create_from_pattern(st->re, NULL)))
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (size_t i = 0; i < in->count && rc == 0; i++) {
		const char *s = in->buf + in->off[i];
		size_t n = in->n[i];
		switch (st->kind) {
		case PRE_SPLIT:
			rc = split_piece(st->re, st->behavior, md, s, n, out, err);
			break;
		case PRE_BYTELEVEL:
			tmp.len = tmp.count = 0;
			if (pieces_new(&tmp) < 0 ||
			    (st->add_prefix_space && (n == 0 || s[0] != ' ') &&
			     pieces_add(&tmp, " ", 1) < 0) ||
			    pieces_add(&tmp, s, n) < 0) {
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
				break;
			}
			if (st->re)
				rc = split_piece(st->re, SPLIT_ISOLATED, md, tmp.buf,
						 tmp.n[0], out, err);
			else if (pieces_new(out) < 0 ||
				 pieces_add(out, tmp.buf, tmp.n[0]) < 0)
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			break;
		case PRE_METASPACE: {
			size_t rl = strlen(st->repl);
			int pre = st->add_prefix_space &&
				  (!st->prepend_first || (first_section && in->off[i] == 0));
			tmp.len = tmp.count = 0;
			if (pieces_new(&tmp) < 0)
				goto nomem;
			if (pre && !(n >= rl && !memcmp(s, st->repl, rl)) &&
			    !(n > 0 && s[0] == ' ') && pieces_add(&tmp, st->repl, rl) < 0)
				goto nomem;
			for (size_t j = 0; j < n; j++)
				if (pieces_add(&tmp, s[j] == ' ' ? st->repl : s + j,
					       s[j] == ' ' ? rl : 1) < 0)
					goto nomem;
			if (!st->split) {
				if (pieces_new(out) < 0 ||
				    pieces_add(out, tmp.buf, tmp.n[0]) < 0)
					goto nomem;
				break;
			}
			/* split before each replacement (MergedWithNext) */
			if (pieces_new(out) < 0)
				goto nomem;
			for (size_t j = 0; j < tmp.n[0];) {
				if (j > 0 && tmp.n[0] - j >= rl &&
				    !memcmp(tmp.buf + j, st->repl, rl)) {
					pieces_close(out);
					if (pieces_new(out) < 0)
						goto nomem;
				}
				if (pieces_add(out, tmp.buf + j, 1) < 0)
					goto nomem;
				j++;
			}
			pieces_close(out);
			break;
		nomem:
			rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			break;
		}
		}
	}
	pieces_free(&tmp);
	pcre2_match_data_free(md);
	return rc;
}

/* BPE of one pre-token p[0..n) into out (tokenizers' BPE::tokenize). */
static int hf_bpe(const struct eap_tokenizer_impl *m, const char *p, size_t n,
		  struct ids *out, struct eap_err *err)
{
	const struct hf *h = m->hf;
	uint32_t *sym = malloc((n + 1) * sizeof(*sym));
	size_t *st = malloc((n + 1) * sizeof(*st));
	size_t k = 0;
	int rc = 0, last_unk = 0;

	if (!sym || !st) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	if (h->ignore_merges) {
		uint32_t s = strtab_find(&m->strs, p, n);
		if (s != NO_SLOT && m->strs.ent[s].vocab_id >= 0) {
			if (ids_push(out, m->strs.ent[s].vocab_id) < 0)
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* initial symbols: bytes (byte-level) or characters */
	for (size_t i = 0; i < n;) {
		size_t c = h->byte_level ? 1 : eap_utf8_len((const unsigned char *)p + i, n - i);
		if (c == 0)
			c = 1;
		st[k] = i;
		sym[k++] = c == 1 ? (unsigned char)p[i] : strtab_find(&m->strs, p + i, c);
		i += c;
	}
	st[k] = n;
	while (k > 1) {
		const struct merge_slot *best = NULL;
		for (size_t i = 0; i + 1 < k; i++) {
			if (sym[i] == NO_SLOT || sym[i + 1] == NO_SLOT)
				continue;
			const struct merge_slot *s = merge_find(m, sym[i], sym[i + 1]);
			if (s && (!best || s->rank < best->rank))
				best = s;
		}
		if (!best)
			break;
		uint32_t a = (uint32_t)(best->key >> 32), b = (uint32_t)best->key;
		size_t j = 0;
		for (size_t i = 0; i < k;) {
			st[j] = st[i];
			if (i + 1 < k && sym[i] == a && sym[i + 1] == b) {
				sym[j++] = best->merged;
				i += 2;
			} else {
				sym[j++] = sym[i++];
			}
		}
		k = j;
		st[k] = n;
	}
	for (size_t i = 0; i < k; i++) {
		int32_t id = sym[i] == NO_SLOT ? -1 : m->strs.ent[sym[i]].vocab_id;
		size_t a = st[i], b = st[i + 1], j;
		if (id >= 0) {
			if (ids_push(out, id) < 0)
				goto nomem;
			last_unk = 0;
			continue;
		}
		for (j = a; h->byte_fallback && j < b; j++)
			if (h->byte_id[(unsigned char)p[j]] < 0)
				break;
		if (h->byte_fallback && j == b) {
			for (j = a; j < b; j++)
				if (ids_push(out, h->byte_id[(unsigned char)p[j]]) < 0)
					goto nomem;
			last_unk = 0;
			continue;
		}
		if (h->unk_id < 0) {
			char q[4 * QUOTE_MAX];
			rc = eap_err_set(err, EAP_EINVAL,
					 "\"%s\" is not in the vocabulary and the "
					 "tokenizer has no unknown token",
					 quote(p + a, b - a, q, sizeof(q)));
			goto out;
		}
		if (!(h->fuse_unk && last_unk) && ids_push(out, h->unk_id) < 0)
			goto nomem;
		last_unk = 1;
	}
	goto out;
nomem:
	rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
out:
	free(sym);
	free(st);
	return rc;
}

/* Normalize s[0..n) into a malloc'd string *o of length *on. */
static int hf_normalize(const struct hf *h, const char *s, size_t n, char **o,
			size_t *on, struct eap_err *err)
{
	char *cur = xstrdup_n(s, n);
	size_t len = n;

	if (!cur)
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	for (size_t i = 0; i < h->n_norm; i++) {
		const struct hf_norm *v = &h->norm[i];
		char *next = NULL;
		if (v->kind == NORM_NFC) {
			next = (char *)utf8proc_NFC((const utf8proc_uint8_t *)cur);
			if (!next) {
				free(cur);
				return eap_err_set(err, EAP_EINVAL,
						   "NFC normalisation failed");
			}
			len = strlen(next);
		} else if (v->kind == NORM_PREPEND) {
			size_t pl = strlen(v->to);
			if (len == 0)
				continue; /* as the Rust crate: empty stays empty */
			if ((next = malloc(pl + len + 1))) {
				memcpy(next, v->to, pl);
				memcpy(next + pl, cur, len + 1);
				len += pl;
			}
		} else { /* NORM_REPLACE */
			size_t fl = strlen(v->from), tl = strlen(v->to), cnt = 0, j = 0;
			for (const char *q = cur; (q = strstr(q, v->from)); q += fl)
				cnt++;
			if ((next = malloc(len + cnt * tl + 1))) {
				for (size_t i2 = 0; i2 < len;) {
					if (!strncmp(cur + i2, v->from, fl)) {
						memcpy(next + j, v->to, tl);
						j += tl;
						i2 += fl;
					} else {
						next[j++] = cur[i2++];
					}
				}
				next[j] = '\0';
				len = j;
			}
		}
		free(cur);
		if (!next)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		cur = next;
	}
	*o = cur;
	*on = len;
	return 0;
}

/* One section of text between added tokens. */
static int hf_section(const struct eap_tokenizer_impl *m, const char *s,
		      size_t n, int first, struct ids *out, struct eap_err *err)
{
	const struct hf *h = m->hf;
	struct pieces a = { 0 }, b = { 0 };
	char *norm = NULL;
	size_t nn = 0;
	int rc;

	if (n == 0)
		return 0;
	if ((rc = hf_normalize(h, s, n, &norm, &nn, err)) < 0)
		return rc;
	if (nn == 0)
		goto out;
	if (pieces_new(&a) < 0 || pieces_add(&a, norm, nn) < 0) {
		rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < h->n_pre; i++) {
		if ((rc = pre_stage(&h->pre[i], first, &a, &b, err)) < 0)
			goto out;
		pieces_free(&a);
		a = b;
		memset(&b, 0, sizeof(b));
	}
	for (size_t i = 0; i < a.count; i++)
		if (a.n[i] && (rc = hf_bpe(m, a.buf + a.off[i], a.n[i], out, err)) < 0)
			goto out;
out:
	pieces_free(&a);
	pieces_free(&b);
	free(norm);
	return rc;
}

/* Split on added tokens (leftmost-longest), encode each section. */
static int encode_hf(const struct eap_tokenizer *tok, const char *text,
		     size_t len, struct ids *out, struct eap_err *err)
{
	const struct eap_tokenizer_impl *m = tok->impl;
	const struct hf *h = m->hf;
	size_t start = 0, i = 0, section = 0;
	int rc, rstrip = 0;

	while (i <= len) {
		const struct hf_added *best = NULL;
		if (i < len) {
			unsigned c = (unsigned char)text[i];
			for (size_t k = h->first[c]; k < h->first[c + 1]; k++) {
				const struct hf_added *a = &h->added[k];
				if (a->len <= len - i && (!best || a->len > best->len) &&
				    !memcmp(text + i, a->s, a->len))
					best = a;
			}
			if (!best) {
				i++;
				continue;
			}
		}
		/* the text section [start, i), trimmed by the neighbours' flags */
		size_t s0 = start, s1 = i;
		if (rstrip)
			while (s0 < s1 && is_space((unsigned char)text[s0]))
				s0++;
		if (best && best->lstrip)
			while (s1 > s0 && is_space((unsigned char)text[s1 - 1]))
				s1--;
		if (i > start) {
			if ((rc = hf_section(m, text + s0, s1 - s0, section == 0,
					     out, err)) < 0)
				return rc;
			section++;
		}
		if (!best)
			break;
		if (ids_push(out, best->id) < 0)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
		section++;
		rstrip = best->rstrip;
		i += best->len;
		start = i;
	}
	return 0;
}

int eap_tokenizer_encode(const struct eap_tokenizer *tok, const char *text,
			 int add_bos, int32_t **ids, size_t *n,
			 struct eap_err *err)
{
	struct ids out = { 0 };
	size_t len = strlen(text);
	long bad;
	int rc;

	*ids = NULL;
	*n = 0;
	if (tok->kind == EAP_TOKENIZER_NONE || !tok->impl)
		return eap_err_set(err, EAP_EINVAL, "tokenizer not loaded");
	if ((bad = utf8_invalid_at(text, len)) >= 0)
		return eap_err_set(err, EAP_EINVAL,
				   "invalid UTF-8 at byte %ld", bad + 1);
	if (add_bos == EAP_TOKENIZER_SPECIAL) {
		const struct hf *h = tok->impl->hf;
		for (size_t i = 0; h && i < h->n_prefix; i++)
			if (ids_push(&out, h->special[i]) < 0)
				return eap_err_set(err, EAP_ENOMEM, "out of memory");
	} else if (add_bos) {
		if (tok->bos_id < 0)
			return eap_err_set(err, EAP_EINVAL,
					   "tokenizer has no BOS token (no "
					   "bos_token_id in config.json, no "
					   "<|endoftext|> or <bos> in the "
					   "vocabulary)");
		if (ids_push(&out, tok->bos_id) < 0)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	rc = tok->impl->hf		  ? encode_hf(tok, text, len, &out, err)
	     : tok->kind == EAP_TOKENIZER_BPE ? encode_bpe(tok, text, len, &out, err)
					      : encode_word(tok, text, len, &out, err);
	if (rc == 0 && add_bos == EAP_TOKENIZER_SPECIAL && tok->impl->hf) {
		const struct hf *h = tok->impl->hf;
		for (size_t i = 0; i < h->n_suffix; i++)
			if (ids_push(&out, h->special[h->n_prefix + i]) < 0)
				rc = eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	if (rc < 0) {
		free(out.v);
		return rc;
	}
	if (!out.v && !(out.v = malloc(sizeof(*out.v)))) /* never NULL */
		return eap_err_set(err, EAP_ENOMEM, "out of memory");
	*ids = out.v;
	*n = out.n;
	return 0;
}

const char *eap_tokenizer_piece_n(const struct eap_tokenizer *tok, int32_t id,
				  size_t *len)
{
	const struct strtab *t;
	uint32_t s;

	if (!tok->impl || id < 0 || (size_t)id >= tok->n_vocab)
		return NULL;
	t = &tok->impl->strs;
	s = tok->impl->vocab_str[id];
	if (s == NO_SLOT)
		return NULL;
	if (tok->impl->hf && tok->impl->hf->dec) { /* decoded SentencePiece */
		const struct hf *h = tok->impl->hf;
		if (len)
			*len = h->dec_off[id + 1] - h->dec_off[id] - 1;
		return h->dec + h->dec_off[id];
	}
	if (len)
		*len = t->ent[s].len;
	return strtab_str(t, s);
}

const char *eap_tokenizer_piece(const struct eap_tokenizer *tok, int32_t id)
{
	return eap_tokenizer_piece_n(tok, id, NULL);
}

int eap_tokenizer_single(const struct eap_tokenizer *tok, const char *text,
			 int32_t *id, struct eap_err *err)
{
	int32_t *ids;
	size_t n;
	int rc = eap_tokenizer_encode(tok, text, 0, &ids, &n, err);

	if (rc < 0)
		return rc;
	if (n != 1) {
		char q[4 * QUOTE_MAX];
		free(ids);
		return eap_err_set(err, EAP_EINVAL,
				   "\"%s\" is %zu tokens, not one",
				   quote(text, strlen(text), q, sizeof(q)), n);
	}
	*id = ids[0];
	free(ids);
	return 0;
}
