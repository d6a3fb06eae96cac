/*
 * tool.h - small helpers shared by the tools' main()s: option parsing,
 * progress lines, the tmp-then-rename output contract.  Header-only and
 * static, since each tool is one translation unit.
 */
#ifndef EAP_TOOL_H
#define EAP_TOOL_H

#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Parse a whole positive number for option opt; exit 2 with one line. */
static inline size_t tool_size_arg(const char *tool, const char *opt,
				   const char *s, size_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "%s: %s wants a whole number from 1 to %zu, got '%s'\n",
			tool, opt, max, s);
		exit(2);
	}
	return (size_t)v;
}

struct tool_progress {
	const char *tool;
	int on;
	double t0;
};

static inline double tool_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Progress is shown when stderr is a terminal or --progress is given. */
static inline void tool_progress_start(struct tool_progress *p,
				       const char *tool, int forced)
{
	p->tool = tool;
	p->on = forced || isatty(STDERR_FILENO);
	p->t0 = tool_now();
}

static inline void tool_progress(const struct tool_progress *p, size_t done,
				 size_t total, const char *what)
{
	double el;

	if (!p->on)
		return;
	el = tool_now() - p->t0;
	fprintf(stderr, "\r%s: %zu/%zu %s, %.1f s, ETA %.0f s", p->tool, done,
		total, what, el, done ? el * (double)(total - done) / (double)done : 0.0);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

/*
 * Outputs are written to <out>.tmp and renamed over out, which must
 * therefore be a regular file or not exist: renaming over /dev/null as
 * root would replace the device.  Checked before any work is done; exits
 * 2 (a usage error) naming the path.
 */
static inline void tool_check_output(const char *tool, const char *out)
{
	struct stat sb;

	if (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: %s: output must be a regular file\n", tool, out);
		exit(2);
	}
}

/* "<out>.tmp" in a malloc'd string (NULL on failure). */
static inline char *tool_tmp_name(const char *out)
{
	char *t = malloc(strlen(out) + 5);

	if (t)
		sprintf(t, "%s.tmp", out);
	return t;
}

#endif
