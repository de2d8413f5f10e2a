/*
 * replay.c: a main() for the fuzz targets without libFuzzer.
 *
 * Each argument is a file or a directory of files (not recursive); every
 * regular file is read whole and handed to LLVMFuzzerTestOneInput once.
 * `make check` runs the seed corpora through the targets this way, so a
 * regression input kept in the corpus fails the build without clang.
 */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Replay one file; returns 1 when it was a regular file, -1 on error. */
static int
replay_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	/* Exactly size bytes, so ASan sees any read past the end. */
	data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (data == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		close(fd);
		return -1;
	}
	while (off < (size_t)st.st_size &&
	    (n = read(fd, data + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	if (off != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput(data, off);
	free(data);
	return 1;
}

static int
path_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay every regular file in dir, in name order; adds to *count. */
static int
replay_dir(const char *dir, size_t *count)
{
	DIR *d;
	struct dirent *de;
	char **paths = NULL;
	size_t n = 0;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		paths = xreallocarray(paths, n + 1, sizeof *paths);
		xasprintf(&paths[n++], "%s/%s", dir, de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(paths, n, sizeof *paths, path_compare);
	for (size_t i = 0; i < n; i++) {
		int r = replay_file(paths[i]);

		if (r == -1)
			rc = -1;
		else
			*count += (size_t)r;
		free(paths[i]);
	}
	free(paths);
	return rc;
}

int
main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int r;

		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			rc = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) != 0)
				rc = 1;
		} else if ((r = replay_file(argv[i])) == -1)
			rc = 1;
		else
			count += (size_t)r;
	}
	printf("replayed %zu inputs\n", count);
	return rc;
}
