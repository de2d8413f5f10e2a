/*
 * integration.c: the registry of integrations (reference sections 1.9, 6).
 *
 * An integration is compiled in: one integration-*.c file each, listed in
 * the table below. It may own an unauthenticated HTTP route for incoming
 * events (/github/webhook), which verifies requests itself; it may test a
 * connection; and it says what a connection's status is from the vars
 * scoped to it. Integrations are named by their unique name ("github");
 * we mint no int_ ids: the name is the integration_id on the wire.
 */
#include "autokittehd.h"

#include <string.h>

static const struct integration *const integrations[] = {
	&integration_github,
	&integration_http,
};

const struct integration *
integration_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < nitems(integrations); i++) {
		if (strcmp(integrations[i]->name, name) == 0)
			return integrations[i];
	}
	return NULL;
}

/* The integration whose route is path or a prefix of it ending in '/'. */
const struct integration *
integration_for_path(const char *path)
{
	const char *route;
	size_t len;

	if (path == NULL)
		return NULL;
	for (size_t i = 0; i < nitems(integrations); i++) {
		if ((route = integrations[i]->route) == NULL ||
		    integrations[i]->handle == NULL)
			continue;
		len = strlen(route);
		if (strncmp(path, route, len) == 0 && (path[len] == '\0' ||
		    path[len] == '/' || route[len - 1] == '/'))
			return integrations[i];
	}
	return NULL;
}

size_t
integration_count(void)
{
	return nitems(integrations);
}

const struct integration *
integration_at(size_t i)
{
	return i < nitems(integrations) ? integrations[i] : NULL;
}

/*
 * The value of the var name scoped to connection_id, decrypted: a new
 * string to free with vars_value_free(), or NULL when it is not set (or
 * cannot be read; the log says why).
 */
char *
integration_var(const char *connection_id, const char *name)
{
	if (controller == NULL || controller->store == NULL)
		return NULL;
	return vars_get(controller->store, connection_id, name, NULL);
}

/* Is the var set to a non-empty value? */
int
integration_var_set(const char *connection_id, const char *name)
{
	char *v = integration_var(connection_id, name);
	int set = v != NULL && *v != '\0';

	vars_value_free(v);
	return set;
}

static const char *const status_codes[] = {
	[CONNECTION_OK] = "CODE_OK",
	[CONNECTION_WARNING] = "CODE_WARNING",
	[CONNECTION_ERROR] = "CODE_ERROR",
	[CONNECTION_INIT_REQUIRED] = "CODE_WARNING",
};
static const char *const status_stored[] = {
	[CONNECTION_OK] = "ok",
	[CONNECTION_WARNING] = "warning",
	[CONNECTION_ERROR] = "error",
	[CONNECTION_INIT_REQUIRED] = "init_required",
};

/*
 * AutoKitteh's common.v1.Status has CODE_OK, CODE_WARNING, CODE_ERROR:
 * "init required" is CODE_WARNING with that message, as its integrations
 * say it. We keep INIT_REQUIRED apart in the store ("init_required").
 */
const char *
connection_status_code(enum connection_status s)
{
	return status_codes[s];
}

const char *
connection_status_stored(enum connection_status s)
{
	return status_stored[s];
}

/* The status of a connection of integration i, from its vars. */
enum connection_status
integration_status(const struct integration *i, const char *connection_id,
    char **message)
{
	if (i == NULL) {
		xasprintf(message, "the connection's integration is not in "
		    "this autokittehd's registry");
		return CONNECTION_ERROR;
	}
	if (i->status == NULL) {
		*message = xstrdup("");
		return CONNECTION_OK;
	}
	return i->status(connection_id, message);
}
