/*
 * progress.h - the progress line of a long step (SPEC §2): on stderr, only
 * when stderr is a terminal or the tool was given --progress, nothing at
 * all otherwise (tests and logs see no output unless they ask for it).
 *
 *   struct eap_progress p;
 *   eap_progress_start(&p, "eap-score", out, "examples", N, forced);
 *   for each unit of work: ... eap_progress_update(&p, done, NULL);
 *   eap_progress_end(&p);    (also before printing an error line)
 *
 * The line names the tool and what it makes, the units done of the total,
 * the time elapsed and the time left, estimated from the rate measured
 * over the whole run so far (elapsed / done x remaining): no estimate
 * before the first unit is done, and none that a fast first unit makes up
 * ("estimating" until then).  On a terminal the line is rewritten in place
 * (\r) at most every 0.5 s; with --progress into a file or pipe, one line
 * at most every 10 s.  The last update (done == total) is always shown.
 */
#ifndef EAP_PROGRESS_H
#define EAP_PROGRESS_H

#include <stddef.h>

struct eap_progress {
	const char *tool;   /* "eap-score" */
	const char *what;   /* the output file, or NULL */
	const char *unit;   /* "examples" */
	size_t total;
	double div;         /* > 0: done and total shown divided by it, as
			     * "%.1f" (eap_progress_flop) */
	int on, tty;        /* shown; stderr is a terminal */
	int open;           /* a \r line is on the terminal */
	double t0, last;    /* start, last line shown (seconds) */
};

/* Start the clock; on when stderr is a terminal or forced != 0. */
void eap_progress_start(struct eap_progress *p, const char *tool,
			const char *what, const char *unit, size_t total,
			int forced);

/*
 * Count floating-point operations instead (work of uneven units, as exact
 * scoring's backward inputs): total FLOPs, shown in the largest of TFLOP,
 * GFLOP, MFLOP that total reaches.  Call after eap_progress_start.
 */
void eap_progress_flop(struct eap_progress *p, double total);

/* done units of total; extra (may be NULL) is appended to the line, e.g.
 * "loss 2.31". */
void eap_progress_update(struct eap_progress *p, size_t done,
			 const char *extra);

/* End a line left open on the terminal (safe to call more than once). */
void eap_progress_end(struct eap_progress *p);

/* "1h02m03s", "4m05s", "7s" (seconds rounded) into buf. */
void eap_progress_hms(char *buf, size_t n, double seconds);

#endif
