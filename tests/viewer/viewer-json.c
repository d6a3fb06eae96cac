/*
 * viewer-json - prints a part of the data an eap-viewer HTML file embeds
 * (<script type="application/json" id="eap-data">), so that the shell
 * test can compare it with the HDF5 and CSV artifacts.  Test code, built
 * by `make check` into build/tests/viewer-json.
 *
 *   viewer-json FILE.html PATH
 *
 * PATH is dot-separated: an object key, an array index, or @NAME for the
 * array element whose "name" is NAME ("methods.@eap.sizes").  An array is
 * printed one element a line, anything else on one line; strings without
 * quotes, numbers as the file writes them.  "#" as the last part prints an
 * array's length.  Exit 1 when the data or the path is missing.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_item(const cJSON *x)
{
	if (cJSON_IsString(x))
		puts(x->valuestring);
	else {
		char *s = cJSON_PrintUnformatted(x);

		puts(s);
		free(s);
	}
}

int main(int argc, char **argv)
{
	static const char open_tag[] = "<script type=\"application/json\" id=\"eap-data\">";
	FILE *f;
	char *buf, *a, *b, *path, *part, *save = NULL;
	long n;
	cJSON *root, *x;

	if (argc != 3) {
		fprintf(stderr, "Usage: viewer-json FILE.html PATH\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb")) || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "viewer-json: %s: cannot read\n", argv[1]);
		return 1;
	}
	fclose(f);
	buf[n] = 0;
	if (!(a = strstr(buf, open_tag)) || !(b = strstr(a, "</script>"))) {
		fprintf(stderr, "viewer-json: %s: no embedded data\n", argv[1]);
		return 1;
	}
	a += strlen(open_tag);
	*b = 0;
	if (!(root = cJSON_Parse(a))) {
		fprintf(stderr, "viewer-json: %s: embedded data is not JSON\n", argv[1]);
		return 1;
	}
	x = root;
	path = strdup(argv[2]);
	for (part = strtok_r(path, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
		if (!strcmp(part, "#") && cJSON_IsArray(x)) {
			printf("%d\n", cJSON_GetArraySize(x));
			return 0;
		}
		if (*part == '@') {
			const cJSON *e, *hit = NULL;

			cJSON_ArrayForEach(e, x) {
				const cJSON *nm = cJSON_GetObjectItem(e, "name");

				if (cJSON_IsString(nm) && !strcmp(nm->valuestring, part + 1))
					hit = e;
			}
			x = (cJSON *)hit;
		} else if (cJSON_IsArray(x))
			x = cJSON_GetArrayItem(x, atoi(part));
		else
			x = cJSON_GetObjectItemCaseSensitive(x, part);
		if (!x) {
			fprintf(stderr, "viewer-json: %s: no '%s' in %s\n", argv[1], part, argv[2]);
			return 1;
		}
	}
	if (cJSON_IsArray(x)) {
		const cJSON *e;

		cJSON_ArrayForEach(e, x)
			print_item(e);
	} else
		print_item(x);
	cJSON_Delete(root);
	free(path);
	free(buf);
	return 0;
}
