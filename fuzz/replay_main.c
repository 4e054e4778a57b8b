/*
 * replay_main.c — a main for a fuzz target without libFuzzer: each
 * argument is a file (one input) or a directory (each regular file in it
 * one input), fed to LLVMFuzzerTestOneInput() in turn.  make check builds
 * one replayer per target with the project's compiler and flags, so the
 * sanitizer build and valgrind see every seed and every old crash again.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Replay one file; false if it cannot be read. */
static bool replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return false;
	}
	size_t cap = 4096, len = 0;
	uint8_t *data = malloc(cap);
	size_t got;
	while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *more = realloc(data, cap *= 2);
			if (!more)
				free(data);
			data = more;
		}
	}
	bool ok = data && !ferror(f);
	fclose(f);
	if (!ok) {
		fprintf(stderr, "replay: %s: cannot read\n", path);
		free(data);
		return false;
	}
	/* an exact-size copy, as libFuzzer passes it, so a read past the end
	 * is caught */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(data);
		return false;
	}
	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return true;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	unsigned long count = 0;
	bool ok = true;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			ok = false;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			ok = replay_file(argv[i]) && ok;
			count++;
			continue;
		}
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, by_name);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			ok = false;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				ok = replay_file(path) && ok;
				count++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("replayed %lu inputs\n", count);
	return ok ? 0 : 1;
}
