/*
 * sbuf.h - a string that grows as text is appended to it (CSV rows, joined
 * lists).  Start from struct eap_sbuf b = {0}; b.s is NUL-terminated once
 * anything was added; free(b.s) when done.
 */
#ifndef EAP_SBUF_H
#define EAP_SBUF_H

#include <stddef.h>

struct eap_sbuf {
	char *s;
	size_t len, cap;
};

/* Append n bytes of s (n may be 0: b.s becomes ""); EAP_ENOMEM if out of
 * memory, leaving b as it was. */
int eap_sbuf_add(struct eap_sbuf *b, const char *s, size_t n);

/* Append the string s. */
int eap_sbuf_puts(struct eap_sbuf *b, const char *s);

#endif
