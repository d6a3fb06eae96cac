/*
 * progress.c - see include/eap/progress.h.
 */
#include "eap/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define TTY_INTERVAL 0.5   /* seconds between lines on a terminal */
#define LOG_INTERVAL 10.0  /* ... into a file or pipe (--progress) */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void eap_progress_hms(char *buf, size_t n, double seconds)
{
	long s = seconds > 0 ? (long)(seconds + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, n, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, n, "%lds", s);
}

void eap_progress_start(struct eap_progress *p, const char *tool,
			const char *what, const char *unit, size_t total,
			int forced)
{
	p->tool = tool;
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->tty = isatty(STDERR_FILENO);
	p->on = forced || p->tty;
	p->open = 0;
	p->div = 0;
	p->t0 = now();
	p->last = p->t0 - LOG_INTERVAL; /* the first update is shown */
}

void eap_progress_flop(struct eap_progress *p, double total)
{
	p->total = (size_t)(total + 0.5);
	p->unit = total >= 1e12 ? "TFLOP" : total >= 1e9 ? "GFLOP" : "MFLOP";
	p->div = total >= 1e12 ? 1e12 : total >= 1e9 ? 1e9 : 1e6;
}

void eap_progress_update(struct eap_progress *p, size_t done,
			 const char *extra)
{
	double t, el;
	char e[32], left[48], count[64];

	if (!p->on)
		return;
	t = now();
	if (done < p->total && t - p->last < (p->tty ? TTY_INTERVAL : LOG_INTERVAL))
		return;
	p->last = t;
	el = t - p->t0;
	eap_progress_hms(e, sizeof(e), el);
	if (done >= p->total)
		snprintf(left, sizeof(left), "done");
	else if (!done)
		snprintf(left, sizeof(left), "estimating");
	else {
		char l[32];

		/* the mean rate over the run so far */
		eap_progress_hms(l, sizeof(l),
				 el / (double)done * (double)(p->total - done));
		snprintf(left, sizeof(left), "%s left", l);
	}
	if (p->div > 0)
		snprintf(count, sizeof(count), "%.1f/%.1f",
			 (double)done / p->div, (double)p->total / p->div);
	else
		snprintf(count, sizeof(count), "%zu/%zu", done, p->total);
	fprintf(stderr, "%s%s%s%s: %s %s (%.0f%%), %s elapsed, %s%s%s%s",
		p->tty ? "\r" : "", p->tool, p->what ? " " : "",
		p->what ? p->what : "", count, p->unit,
		p->total ? 100.0 * (double)done / (double)p->total : 100.0, e,
		left, extra ? ", " : "", extra ? extra : "",
		p->tty ? "\033[K" : "\n");
	p->open = p->tty;
	if (p->open && done >= p->total) {
		fputc('\n', stderr);
		p->open = 0;
	}
	fflush(stderr);
}

void eap_progress_end(struct eap_progress *p)
{
	if (p->on && p->open) {
		fputc('\n', stderr);
		fflush(stderr);
	}
	p->open = 0;
}
