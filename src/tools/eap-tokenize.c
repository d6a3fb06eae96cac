/*
 * eap-tokenize - print the token ids (and pieces) of each input line
 * (SPEC §2, §3).
 *
 *   eap-tokenize --model DIR|--tokenizer DIR [--no-bos | --special]
 *                [--pieces] [--single] [FILE...]
 *
 * Reads FILEs, or standard input without any, one prompt per line (the
 * trailing "\n" is not part of it), and writes one line per input line:
 * the ids separated by spaces, or with --pieces `id:"piece"` fields whose
 * pieces are C-escaped (\", \\, \n, \t, \r, \xHH for control bytes and
 * bytes that are not valid UTF-8), so a field never holds a bare space.
 * --special adds the special tokens the model's own tokenizer adds
 * (Hugging Face's add_special_tokens=True) instead of the BOS.
 * --single checks answer strings: each line must be exactly one token (no
 * BOS); else it is an error naming the line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eap/err.h"
#include "eap/tokenizer.h"

static const char *const PROG = "eap-tokenize";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: eap-tokenize (--model DIR | --tokenizer DIR) [--no-bos | "
		"--special] [--pieces] [--single] [FILE...]\n"
		"Print the token ids of each line of FILE (default: standard "
		"input), one output line per input line.\n"
		"  --model DIR      model directory holding the tokenizer files "
		"(and config.json)\n"
		"  --tokenizer DIR  tokenizer directory (same files; the name is "
		"an alias)\n"
		"  --no-bos         do not prepend the BOS id (default: prepend "
		"it)\n"
		"  --special        add the special tokens the model's tokenizer "
		"adds (tokenizer.json's post-processor, tokenizer_config.json's "
		"add_bos_token) instead of the BOS (default: BOS only)\n"
		"  --pieces         print id:\"piece\" fields instead of bare ids "
		"(default: ids only)\n"
		"  --single         require each line to be exactly one token, "
		"as answers must be; implies --no-bos (default: off)\n"
		"  -h, --help       show this help and exit\n"
		"Example: echo 'When Mary and John went' | eap-tokenize "
		"--tokenizer data/tokenizers/gpt2 --pieces\n");
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "%s: %s (see --help)\n", PROG, msg);
	return 2;
}

static void print_piece(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	for (size_t i = 0; i < n;) {
		size_t k;
		if (p[i] == '"' || p[i] == '\\') {
			fprintf(out, "\\%c", p[i++]);
		} else if (p[i] == '\n') {
			fputs("\\n", out), i++;
		} else if (p[i] == '\t') {
			fputs("\\t", out), i++;
		} else if (p[i] == '\r') {
			fputs("\\r", out), i++;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			fputc(p[i++], out);
		} else if (p[i] >= 0x80 && (k = eap_utf8_len(p + i, n - i)) > 0) {
			fwrite(p + i, 1, k, out);
			i += k;
		} else {
			fprintf(out, "\\x%02x", p[i++]);
		}
	}
	fputc('"', out);
}

/* Tokenize every line of f; 0, or 1 after printing the error. */
static int run(const struct eap_tokenizer *tok, FILE *f, const char *name,
	       int add_bos, int pieces, int single)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	struct eap_err err = { 0 };
	int status = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		int32_t *ids = NULL;
		size_t n = 0;
		int rc;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			fprintf(stderr, "%s: %s:%zu: NUL byte in line\n", PROG,
				name, lineno);
			status = 1;
			break;
		}
		if (single) {
			int32_t id;
			rc = eap_tokenizer_single(tok, line, &id, &err);
			if (rc == 0 && (ids = malloc(sizeof(*ids)))) {
				ids[0] = id;
				n = 1;
			} else if (rc == 0) {
				rc = eap_err_set(&err, EAP_ENOMEM, "out of memory");
			}
		} else {
			rc = eap_tokenizer_encode(tok, line, add_bos, &ids, &n,
						  &err);
		}
		if (rc < 0) {
			fprintf(stderr, "%s: %s:%zu: %s\n", PROG, name, lineno,
				err.msg);
			status = 1;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(' ', stdout);
			printf("%d", (int)ids[i]);
			if (pieces) {
				size_t plen;
				const char *p = eap_tokenizer_piece_n(tok, ids[i],
								      &plen);
				fputc(':', stdout);
				print_piece(stdout, p, plen);
			}
		}
		fputc('\n', stdout);
		free(ids);
	}
	if (!status && ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", PROG, name);
		status = 1;
	}
	free(line);
	return status;
}

int main(int argc, char **argv)
{
	/* defaults */
	const char *dir = NULL; /* --model / --tokenizer: required */
	int add_bos = 1;        /* prepend BOS, as TransformerLens does */
	int pieces = 0;         /* ids only */
	int single = 0;         /* any number of tokens per line */

	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "tokenizer", required_argument, NULL, 't' },
		{ "no-bos", no_argument, NULL, 'B' },
		{ "special", no_argument, NULL, 'S' },
		{ "pieces", no_argument, NULL, 'p' },
		{ "single", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eap_tokenizer tok = { 0 };
	struct eap_err err = { 0 };
	int c, status = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
		case 't':
			if (dir)
				return usage_error("give one of --model and "
						   "--tokenizer, once");
			dir = optarg;
			break;
		case 'B':
			if (add_bos == EAP_TOKENIZER_SPECIAL)
				return usage_error("give one of --no-bos and "
						   "--special");
			add_bos = 0;
			break;
		case 'S':
			if (add_bos == 0)
				return usage_error("give one of --no-bos and "
						   "--special");
			add_bos = EAP_TOKENIZER_SPECIAL;
			break;
		case 'p':
			pieces = 1;
			break;
		case 's':
			single = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default: {
			/* '?': optopt is the option's val, 0 for an unknown long one */
			char msg[256];
			const char *arg = argv[optind - 1];
			if (optopt == 'm' || optopt == 't')
				snprintf(msg, sizeof(msg),
					 "option '%s' requires DIR", arg);
			else if (optopt && strchr("BSps", optopt))
				snprintf(msg, sizeof(msg),
					 "option '%s' takes no argument", arg);
			else if (optopt)
				snprintf(msg, sizeof(msg), "unknown option '-%c'",
					 optopt);
			else
				snprintf(msg, sizeof(msg), "unknown option '%s'",
					 arg);
			return usage_error(msg);
		}
		}
	}
	if (!dir)
		return usage_error("--model DIR or --tokenizer DIR is required");
	if (single)
		add_bos = 0;

	if (eap_tokenizer_load(&tok, dir, &err) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err.msg);
		return 1;
	}
	if (optind == argc) {
		status = run(&tok, stdin, "<stdin>", add_bos, pieces, single);
	} else {
		for (int i = optind; i < argc && !status; i++) {
			FILE *f = fopen(argv[i], "r");
			if (!f) {
				fprintf(stderr, "%s: %s: %s\n", PROG, argv[i],
					strerror(errno));
				status = 1;
				break;
			}
			status = run(&tok, f, argv[i], add_bos, pieces, single);
			fclose(f);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (!status)
			fprintf(stderr, "%s: standard output: write error\n",
				PROG);
		status = 1;
	}
	eap_tokenizer_release(&tok);
	return status;
}
