/*
 * integration-http.c: the "http" integration: outgoing HTTP calls from
 * sessions, with a base URL and an Authorization header that live in the
 * connection's vars (base_url, auth_header) rather than in the code.
 *
 * The calls are made by the worker's Python, not by autokittehd:
 * autokitteh.http.http_client("<conn>") reads <conn>__base_url and
 * <conn>__auth_header from the environment and uses urllib.request (see
 * autokitteh-python(7)). This entry exists so a manifest can declare
 * `integration: http` connections; it has no route (no incoming events).
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

static enum connection_status
http_status(const char *connection_id, char **message)
{
	char *base = integration_var(connection_id, "base_url");
	enum connection_status s = CONNECTION_OK;

	if (base == NULL || *base == '\0') {
		*message = xstrdup("init required: set the connection's "
		    "base_url var (and auth_header if the service needs one)");
		s = CONNECTION_INIT_REQUIRED;
	} else if (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0) {
		*message = xstrdup("base_url must start with http:// or "
		    "https://");
		s = CONNECTION_ERROR;
	} else
		*message = xstrdup("");
	vars_value_free(base);
	return s;
}

static int
http_test(const char *connection_id, char **cause)
{
	char *message = NULL;
	enum connection_status s = http_status(connection_id, &message);

	if (s != CONNECTION_OK) {
		*cause = message;
		return -1;
	}
	free(message);
	xasprintf(cause, "base_url is set and well-formed; it was not "
	    "requested: autokittehd makes no outgoing calls");
	return 0;
}

const struct integration integration_http = {
	.name = "http",
	.route = NULL,
	.handle = NULL,
	.test = http_test,
	.status = http_status,
	.description = "HTTP: outgoing requests from sessions with a base URL "
	    "and Authorization header from the connection's vars",
};
