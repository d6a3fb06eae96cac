/*
 * sbuf.c - see include/eap/sbuf.h.
 */
#include "eap/sbuf.h"

#include <stdlib.h>
#include <string.h>

#include "eap/err.h"

int eap_sbuf_add(struct eap_sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 64;
		char *t;

		while (c < b->len + n + 1)
			c *= 2;
		t = realloc(b->s, c);
		if (!t)
			return EAP_ENOMEM;
		b->s = t;
		b->cap = c;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int eap_sbuf_puts(struct eap_sbuf *b, const char *s)
{
	return eap_sbuf_add(b, s, strlen(s));
}
