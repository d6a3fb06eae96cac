/*
 * replay.c - main() for the fuzz harnesses built without libFuzzer: feed
 * every file named on the command line (a directory: each file in it, in
 * name order) to LLVMFuzzerTestOneInput once.  `make check` runs the
 * committed corpora this way under ASan/UBSan, so inputs that once found
 * a bug keep guarding its fix.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			if (!(buf = realloc(buf, cap))) {
				fclose(f);
				return -1;
			}
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	/* an exact-size copy, so ASan sees reads past the end */
	uint8_t *exact = malloc(n ? n : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	size_t count = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *e;
			char **names = NULL;
			size_t n = 0;

			if (!d) {
				perror(argv[i]);
				return 1;
			}
			while ((e = readdir(d)))
				if (e->d_name[0] != '.') {
					names = realloc(names, (n + 1) * sizeof(*names));
					if (!names || !(names[n++] = strdup(e->d_name)))
						return 1;
				}
			closedir(d);
			if (n)
				qsort(names, n, sizeof(*names), cmp);
			for (size_t j = 0; j < n; j++) {
				char p[PATH_MAX];

				snprintf(p, sizeof(p), "%s/%s", argv[i], names[j]);
				if (run_file(p) < 0)
					return 1;
				count++;
				free(names[j]);
			}
			free(names);
		} else {
			if (run_file(argv[i]) < 0)
				return 1;
			count++;
		}
	}
	printf("%s: %zu inputs replayed\n", argv[0], count);
	return 0;
}
