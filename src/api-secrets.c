/*
 * api-secrets.c: autokitteh.system.v1.SecretsService, our own service for
 * `akctl secrets`: Status (the key file, the data key, how many values are
 * sealed) and Rotate (a new master key, and with data_key a new data key;
 * secrets-rotate.c). Like every method, they are for the callers the API
 * admits: the admin socket's peers and holders of an API token.
 */
#include "autokittehd.h"

#include <stdlib.h>

const char *const api_secrets_status_fields[] = { NULL };
const char *const api_secrets_rotate_fields[] = { "data_key", NULL };

void
api_secrets_status(struct api_call *call, json_t *req)
{
	char *cause = NULL;
	json_t *out;

	(void)req;
	if ((out = secrets_status_json(server_store(api_server(call)),
	    &cause)) == NULL) {
		api_error(call, CONNECT_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	api_reply(call, out);
}

static void
rotate_done(int ok, const char *cause, json_t *result, void *arg)
{
	struct api_call *call = arg;

	if (!ok) {
		api_error(call, CONNECT_INTERNAL, "%s", cause);
		return;
	}
	api_reply(call, json_incref(result));
}

void
api_secrets_rotate(struct api_call *call, json_t *req)
{
	char *cause = NULL;
	int data_key;

	if (api_bool_field(call, req, "data_key", &data_key) != 0)
		return;
	if (secrets_rotate(server_store(api_server(call)), data_key,
	    rotate_done, call, &cause) != 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "cannot rotate "
		    "the secrets keys: %s", cause);
		free(cause);
	}
}
