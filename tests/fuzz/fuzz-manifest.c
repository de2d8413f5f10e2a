/*
 * fuzz-manifest.c: libFuzzer target for the autokitteh.yaml parser.
 *
 * The input is a whole manifest; manifest_parse() must either accept it or
 * return a "file:line:column: path: message" sentence, never crash, leak,
 * loop on aliases or read past len. Linked with replay.c instead of
 * libFuzzer, it replays the seed corpus in `make check`.
 */
#include "common.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m;
	char *cause = NULL;

	m = manifest_parse((const char *)data, size, "fuzz.yaml", &cause);
	if (m == NULL) {
		/* Every refusal says where. */
		if (cause == NULL || strncmp(cause, "fuzz.yaml:", 10) != 0)
			abort();
		free(cause);
		return 0;
	}
	if (cause != NULL || m->version < 1 || m->version > 2 ||
	    !manifest_name_valid(m->project_name))
		abort();
	for (size_t i = 0; i < m->ntriggers; i++) {
		if (!manifest_name_valid(m->triggers[i].name) ||
		    m->triggers[i].code_path[0] == '/')
			abort();
	}
	manifest_free(m);
	return 0;
}
