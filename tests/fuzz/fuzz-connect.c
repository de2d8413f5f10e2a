/*
 * fuzz-connect.c: libFuzzer target for Connect request bodies.
 *
 * The input is an HTTP request body. It goes where the server sends it:
 * connect_parse_request() against a method's field list, then either the
 * handler's string getters or, on error, connect_error_body() with the
 * cause, since that message goes back to the client. Linked with replay.c
 * instead of libFuzzer, it replays the seed corpus in `make check`.
 */
#include "autokittehd.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {
	"name", "token_id", "project_id", NULL
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *req;
	char *cause = NULL, *body;

	req = connect_parse_request((const char *)data, size, fields, &cause);
	if (req == NULL) {
		body = connect_error_body(CONNECT_INVALID_ARGUMENT, cause);
		free(body);
		free(cause);
		return 0;
	}
	for (size_t i = 0; fields[i] != NULL; i++)
		(void)connect_get_string(req, fields[i]);
	json_decref(req);
	return 0;
}
