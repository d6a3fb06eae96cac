/*
 * fuzz_util.h - shared helpers of the fuzz harnesses (tests/fuzz/fuzz_*.c).
 *
 * Each harness defines LLVMFuzzerTestOneInput(data, size): it turns the
 * bytes into the user file(s) a parser reads, runs the parser (and what a
 * tool runs next on its result) and checks the library's error contract:
 * 0 or a negative EAP_E* with a non-empty message.  Built with libFuzzer
 * by `make fuzz`, and without it (tests/fuzz/replay.c supplies main) to
 * replay the committed corpora under ASan/UBSan in `make check`.
 *
 * Files go to one scratch directory per process, removed at exit.
 * Harnesses that need several files (a task folder, a tokenizer folder)
 * read a small archive: sections that start with a line "=== NAME" (at the
 * start of the input or after a newline), each holding the bytes up to the
 * next such line.  NAME is one path component of [A-Za-z0-9._-].
 */
#ifndef EAP_FUZZ_UTIL_H
#define EAP_FUZZ_UTIL_H

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a finding) when the error contract is broken. */
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz check failed: %s: ", #cond);     \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* rc is 0, or negative with a message (printed if FUZZ_VERBOSE is set). */
static inline void fuzz_check_rc(int rc, const struct eap_err *err)
{
	if (rc && getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "rejected: %s\n", err->msg);
	FUZZ_CHECK(rc <= 0, "positive status %d", rc);
	FUZZ_CHECK(rc == 0 || (err->msg[0] && memchr(err->msg, 0, sizeof(err->msg))),
		   "status %d without a message", rc);
	FUZZ_CHECK(rc == 0 || !strchr(err->msg, '\n'),
		   "message is not one line: %s", err->msg);
}

static char fuzz_dir_buf[64];

static void fuzz_clear(void)
{
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX];

	if (!fuzz_dir_buf[0] || !(d = opendir(fuzz_dir_buf)))
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", fuzz_dir_buf, e->d_name);
			unlink(p);
		}
	closedir(d);
}

static void fuzz_cleanup(void)
{
	fuzz_clear();
	if (fuzz_dir_buf[0])
		rmdir(fuzz_dir_buf);
}

/* The scratch directory (created on first use). */
static const char *fuzz_dir(void)
{
	if (!fuzz_dir_buf[0]) {
		snprintf(fuzz_dir_buf, sizeof(fuzz_dir_buf), "/tmp/eap-fuzz-XXXXXX");
		if (!mkdtemp(fuzz_dir_buf)) {
			perror("mkdtemp");
			abort();
		}
		atexit(fuzz_cleanup);
	}
	return fuzz_dir_buf;
}

/* dir/name into buf. */
static inline const char *fuzz_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", fuzz_dir(), name);
	return buf;
}

/* Write bytes to dir/name; the path goes to buf. */
static inline const char *fuzz_write(const char *name, const void *data,
				     size_t size, char *buf, size_t n)
{
	FILE *f = fopen(fuzz_path(buf, n, name), "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
		perror(buf);
		abort();
	}
	return buf;
}

#define FUZZ_MAX_SECTIONS 16

struct fuzz_section {
	char name[65];
	const uint8_t *data;
	size_t size;
};

/* Start of the next "=== " header at or after i (a line start), or size. */
static inline size_t fuzz_next_header(const uint8_t *d, size_t size, size_t i)
{
	for (; i + 4 <= size; i++)
		if ((i == 0 || d[i - 1] == '\n') && !memcmp(d + i, "=== ", 4))
			return i;
	return size;
}

/*
 * Split an archive into sections and write each into the scratch
 * directory (cleared first).  Bytes before the first header and sections
 * with a bad name are dropped.  The content excludes the newline that
 * ends the header line and the one before the next header.  Returns the
 * number of sections kept (at most FUZZ_MAX_SECTIONS).
 */
static inline size_t fuzz_unpack(const uint8_t *d, size_t size,
				 struct fuzz_section *sec)
{
	size_t n = 0, i = fuzz_next_header(d, size, 0);

	fuzz_clear();
	while (i < size && n < FUZZ_MAX_SECTIONS) {
		size_t s = i + 4, e, nl, j, next;
		int ok = 1;
		char buf[PATH_MAX];

		for (nl = s; nl < size && d[nl] != '\n'; nl++)
			;
		next = fuzz_next_header(d, size, nl < size ? nl + 1 : size);
		e = next;
		if (e < size && e > nl + 1)
			e--; /* the newline before the next header */
		if (nl - s == 0 || nl - s > 64)
			ok = 0;
		for (j = s; j < nl && ok; j++)
			ok = (d[j] >= 'a' && d[j] <= 'z') || (d[j] >= 'A' && d[j] <= 'Z') ||
			     (d[j] >= '0' && d[j] <= '9') || d[j] == '.' || d[j] == '_' ||
			     d[j] == '-';
		if (ok && (nl - s == 1 && d[s] == '.'))
			ok = 0;
		if (ok && nl - s == 2 && d[s] == '.' && d[s + 1] == '.')
			ok = 0;
		if (ok) {
			memcpy(sec[n].name, d + s, nl - s);
			sec[n].name[nl - s] = 0;
			sec[n].data = nl < size ? d + nl + 1 : d + size;
			sec[n].size = nl < size && e > nl + 1 ? e - (nl + 1) : 0;
			fuzz_write(sec[n].name, sec[n].data, sec[n].size, buf,
				   sizeof(buf));
			n++;
		}
		i = next;
	}
	return n;
}

/* The section called name, or NULL. */
static inline const struct fuzz_section *
fuzz_find(const struct fuzz_section *sec, size_t n, const char *name)
{
	const struct fuzz_section *r = NULL;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(sec[i].name, name))
			r = &sec[i]; /* the last one wins, as on disk */
	return r;
}

/* A NUL-terminated copy of bytes (malloc'd). */
static inline char *fuzz_strndup(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, d, n);
	s[n] = 0;
	return s;
}

#endif
