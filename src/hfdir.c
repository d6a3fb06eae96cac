/*
 * hfdir.c - resolve a Hugging Face cache folder to its snapshot (hfdir.h).
 */
#include "eap/hfdir.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int eap_hfdir_resolve(const char *dir, char *out, size_t n,
		      struct eap_err *err)
{
	char path[4096], ref[128];
	FILE *f;
	size_t len;

	if ((size_t)snprintf(out, n, "%s", dir) >= n)
		return eap_err_set(err, EAP_EINVAL, "%s: path too long", dir);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (access(path, F_OK) == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/refs/main", dir);
	if (!(f = fopen(path, "r")))
		return 0;
	len = fread(ref, 1, sizeof(ref) - 1, f);
	fclose(f);
	ref[len] = 0;
	while (len && (ref[len - 1] == '\n' || ref[len - 1] == ' '))
		ref[--len] = 0;
	if (!len || strchr(ref, '/') || strstr(ref, ".."))
		return eap_err_set(err, EAP_EFORMAT,
				   "%s: not a snapshot name", path);
	if ((size_t)snprintf(out, n, "%s/snapshots/%s", dir, ref) >= n)
		return eap_err_set(err, EAP_EINVAL, "%s: path too long", dir);
	return 0;
}
