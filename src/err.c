#include "eap/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * Messages quote user content (CSV fields, file names), which may hold
 * newlines; the tools print one line per error (SPEC §2), so control
 * characters are escaped: \n, \r, \t, else \xHH.  Found by fuzzing.
 */
static void one_line(char *msg, size_t cap)
{
	char tmp[EAP_ERR_MSG_MAX];
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)msg; *s && o + 5 < sizeof(tmp); s++) {
		if (*s >= 0x20 && *s != 0x7f) {
			tmp[o++] = (char)*s;
			continue;
		}
		tmp[o++] = '\\';
		if (*s == '\n')
			tmp[o++] = 'n';
		else if (*s == '\r')
			tmp[o++] = 'r';
		else if (*s == '\t')
			tmp[o++] = 't';
		else
			o += (size_t)snprintf(tmp + o, 4, "x%02x", *s);
	}
	tmp[o] = 0;
	snprintf(msg, cap, "%s", tmp);
}

int eap_err_set(struct eap_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	one_line(err->msg, sizeof(err->msg));
	return code;
}

int eap_err_prefix(struct eap_err *err, const char *prefix)
{
	char tmp[EAP_ERR_MSG_MAX];

	if (!err)
		return EAP_EINVAL;
	snprintf(tmp, sizeof(tmp), "%.200s: %.800s", prefix, err->msg);
	memcpy(err->msg, tmp, sizeof(tmp));
	one_line(err->msg, sizeof(err->msg));
	return err->code;
}
