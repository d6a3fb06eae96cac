/*
 * tool.h - small helpers shared by the tools' main()s: option parsing,
 * the tmp-then-rename output contract (progress lines: eap/progress.h).
 * Header-only and static, since each tool is one translation unit.
 */
#ifndef EAP_TOOL_H
#define EAP_TOOL_H

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eap/attrib.h"
#include "eap/progress.h"

/* A usage error: "TOOL: <fmt, with arg> (see --help)" on stderr; 2. */
static inline int tool_usage_error(const char *tool, const char *fmt,
				   const char *arg)
{
	fprintf(stderr, "%s: ", tool);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

/* --metric NAME (SPEC §7); exit 2 with one line naming the choices. */
static inline int tool_metric_arg(const char *tool, const char *s)
{
	int m = eap_metric_parse(s);

	if (m < 0) {
		fprintf(stderr, "%s: unknown --metric '%s' (logit_diff, prob_diff, kl, kl_sum)\n",
			tool, s);
		exit(2);
	}
	return m;
}

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

/*
 * Threads for a tool's BLAS (or workers): --threads when given (opt > 0),
 * else the CPUs Slurm gave the job step (SLURM_CPUS_PER_TASK, set by
 * `srun -c N`), else 0: the library's own choice.  Under srun without
 * cgroups OpenBLAS would start one thread per core of the node, so the
 * job's share matters there.
 */
static inline size_t tool_threads(size_t opt)
{
	const char *s = getenv("SLURM_CPUS_PER_TASK");
	char *end;
	unsigned long v;

	if (opt || !s)
		return opt;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || end == s || *end || s[0] == '-' || v > 1024 ? 0 : (size_t)v;
}

/*
 * Temporary outputs are removed on SIGINT, SIGTERM and SIGHUP, so that an
 * interrupted run leaves nothing behind (SPEC §11; SIGKILL may still
 * leave <out>.tmp, which no Make target names).  tool_remove_on_signal
 * records path + suffix (copied) before the file can exist; the handler
 * unlinks (or rmdir()s) the recorded paths, newest first, restores the
 * default action and re-raises, so that make and the shell still see a
 * death by that signal.  A signal ignored at start (nohup, a background
 * job of a script) stays ignored.  The handler only calls
 * async-signal-safe functions on paths written before they were counted.
 */
#define TOOL_MAX_CLEANUP 8
#define TOOL_CLEANUP_PATH 4200

static inline char (*tool_cleanup_paths(void))[TOOL_CLEANUP_PATH]
{
	static char paths[TOOL_MAX_CLEANUP][TOOL_CLEANUP_PATH];

	return paths;
}

static inline volatile sig_atomic_t *tool_cleanup_count(void)
{
	static volatile sig_atomic_t n;

	return &n;
}

static inline void tool_on_signal(int sig)
{
	char (*p)[TOOL_CLEANUP_PATH] = tool_cleanup_paths();

	for (int i = (int)*tool_cleanup_count(); i-- > 0;) {
		unlink(p[i]);
		rmdir(p[i]); /* a directory; fails harmlessly on a file */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void tool_remove_on_signal(const char *path, const char *suffix)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	volatile sig_atomic_t *n = tool_cleanup_count();

	if (*n >= TOOL_MAX_CLEANUP)
		return;
	snprintf(tool_cleanup_paths()[*n], TOOL_CLEANUP_PATH, "%s%s", path, suffix);
	if (*n == 0)
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
			struct sigaction old, sa;

			if (sigaction(sigs[i], NULL, &old) == 0 &&
			    old.sa_handler == SIG_IGN)
				continue;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = tool_on_signal;
			sigemptyset(&sa.sa_mask);
			sigaction(sigs[i], &sa, NULL);
		}
	(*n)++;
}

/*
 * Outputs are written to <out>.tmp and renamed over out, which must
 * therefore be a regular file or not exist: renaming over /dev/null as
 * root would replace the device.  Checked before any work is done; exits
 * 2 (a usage error) naming the path.  <out>.tmp is then removed if the
 * tool is interrupted (tool_remove_on_signal).
 */
static inline void tool_check_output(const char *tool, const char *out)
{
	struct stat sb;

	if (stat(out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: %s: output must be a regular file\n", tool, out);
		exit(2);
	}
	tool_remove_on_signal(out, ".tmp");
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
