/*
 * err.h - error reporting for libeap.
 *
 * Every library function that can fail returns 0 on success or a negative
 * EAP_E* code, and fills one human-readable message into the caller's
 * struct eap_err.  The message follows git's style: lowercase, no full
 * stop, file (and row or tensor) first, e.g.
 *   "pairs.csv:17: clean and corrupted prompts tokenize to different
 *    lengths (14 vs 15)"
 * The library never prints and never exits; the tool's main() prints
 * "<tool>: <msg>" and exits 1.
 */
#ifndef EAP_ERR_H
#define EAP_ERR_H

#include <stddef.h>

enum eap_status {
	EAP_OK = 0,
	EAP_EIO = -1,     /* file missing, unreadable, unwritable */
	EAP_EFORMAT = -2, /* malformed file content */
	EAP_ENOMEM = -3,  /* allocation failed */
	EAP_EINVAL = -4,  /* bad argument or inconsistent inputs */
	EAP_ESHAPE = -5,  /* tensor shape disagrees with the config */
};

#define EAP_ERR_MSG_MAX 1024

struct eap_err {
	int code;
	char msg[EAP_ERR_MSG_MAX];
};

/*
 * Format a message into err (which may be NULL) and return code, so that
 * callers can write `return eap_err_set(err, EAP_EIO, "%s: ...", path);`.
 */
int eap_err_set(struct eap_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message with "prefix: " (e.g. a file name). */
int eap_err_prefix(struct eap_err *err, const char *prefix);

#endif
