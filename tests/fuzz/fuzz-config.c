/*
 * fuzz-config.c: libFuzzer target for the configuration parser.
 *
 * The input is a whole configuration file; config_parse() must either
 * accept it or return a message, never crash, leak or read past len.
 * Linked with replay.c instead of libFuzzer, it replays the seed corpus in
 * `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cf;
	char *cause = NULL;

	config_init(&cf);
	if (config_parse(&cf, "fuzz.conf", (const char *)data, size,
	    &cause) == 0) {
		/* Whatever was accepted can be printed back. */
		for (size_t i = 0; i < config_option_count(); i++)
			free(config_value_string(&cf, config_option_at(i)));
	}
	free(cause);
	config_free(&cf);
	return 0;
}
