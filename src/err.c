#include "eap/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int eap_err_set(struct eap_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int eap_err_prefix(struct eap_err *err, const char *prefix)
{
	char tmp[EAP_ERR_MSG_MAX];

	if (!err)
		return EAP_EINVAL;
	snprintf(tmp, sizeof(tmp), "%.200s: %.800s", prefix, err->msg);
	memcpy(err->msg, tmp, sizeof(tmp));
	return err->code;
}
