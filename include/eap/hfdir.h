/*
 * hfdir.h - a model folder as a user names it: a plain Hugging Face model
 * folder (config.json, weights, tokenizer files), or a Hugging Face cache
 * folder (models--org--name) whose refs/main names the snapshot to use.
 */
#ifndef EAP_HFDIR_H
#define EAP_HFDIR_H

#include <stddef.h>

#include "eap/err.h"

/*
 * Write the folder that holds dir's files into out (n bytes): dir itself,
 * or dir/snapshots/<refs/main> for a cache folder without config.json.
 * A refs/main that is empty or not a plain name is an error; a folder that
 * is neither resolves to itself (the caller's missing-file error names
 * what is missing).
 */
int eap_hfdir_resolve(const char *dir, char *out, size_t n,
		      struct eap_err *err);

#endif
