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

struct eap_tokenizer_impl {
	struct strtab strs;
	uint32_t *vocab_str;         /* (n_vocab) string index of each id */
	struct merge_slot *merges;   /* (n_merge_slots), BPE only */
	size_t n_merge_slots, n_merges;
	pcre2_code *re;              /* BPE only */
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
		if (line == 1 && !strncmp(p, "#version", 8))
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
		    struct eap_err *err)
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
	tok->bos_id = vocab_lookup(tok, "<|endoftext|>");
	if (tok->bos_id < 0)
		tok->bos_id = vocab_lookup(tok, "<bos>");
	rc = 0;
out:
	cJSON_Delete(root);
	free(buf);
	return rc;
}

int eap_tokenizer_load(struct eap_tokenizer *tok, const char *dir,
		       struct eap_err *err)
{
	static const char *const pairs[2][2] = {
		{ "encoder.json", "vocab.bpe" },
		{ "vocab.json", "merges.txt" },
	};
	char vocab[PATH_MAX], merges[PATH_MAX];
	int inv[BYTE_CP_MAX];
	int rc, found = -1;

	memset(tok, 0, sizeof(*tok));
	tok->bos_id = -1;
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
					 "encoder.json + vocab.bpe, vocab.json + "
					 "merges.txt, vocab.txt)",
					 dir);
			goto fail;
		}
		tok->kind = EAP_TOKENIZER_WORD;
		if ((rc = load_word_vocab(tok, vocab, err)) < 0)
			goto fail;
	}
	if ((rc = load_bos(tok, dir, err)) < 0)
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
	if (add_bos) {
		if (tok->bos_id < 0)
			return eap_err_set(err, EAP_EINVAL,
					   "tokenizer has no BOS token (no "
					   "bos_token_id in config.json, no "
					   "<|endoftext|> or <bos> in the "
					   "vocabulary)");
		if (ids_push(&out, tok->bos_id) < 0)
			return eap_err_set(err, EAP_ENOMEM, "out of memory");
	}
	rc = tok->kind == EAP_TOKENIZER_BPE
		     ? encode_bpe(tok, text, len, &out, err)
		     : encode_word(tok, text, len, &out, err);
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
