/*
 * api-connection.c: autokitteh.connections.v1.ConnectionsService: Create,
 * Get, List, Update, Delete, Test, RefreshStatus (reference section 1.8).
 *
 * A connection belongs to a project (org-scoped connections are not
 * supported) and names an integration of the registry (integration.c) by
 * its unique name, which is also its integration_id on the wire: we mint
 * no int_ ids. Its settings are vars scoped to its id (VarsService, or
 * the manifest's connections[].vars). Its status is computed from those
 * vars by the integration; RefreshStatus also stores it. Status codes are
 * AutoKitteh's common.v1.Status codes: CODE_OK, CODE_WARNING (also "init
 * required", as AutoKitteh says it), CODE_ERROR.
 *
 * Deleting a connection deletes its vars and the triggers that use it.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

#define CONNECTION_NAME_MAX	256
#define CONNECTIONS_LIST_MAX	1000

const char *const api_connection_create_fields[] = { "connection", NULL };
const char *const api_connection_id_fields[] = { "connection_id", NULL };
const char *const api_connection_list_fields[] = { "integration_id",
    "project_id", "status_code", "org_id", NULL };

static const char *const connection_msg_fields[] = { "connection_id",
    "integration_id", "project_id", "name", "status", "capabilities",
    "links", "org_id", NULL };

static const char *const status_code_names[] = {
	"CODE_UNSPECIFIED", "CODE_OK", "CODE_WARNING", "CODE_ERROR",
};

#define CONNECTION_COLUMNS "connection_id, integration, project_id, name"

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

/* The connection must exist: -1 after answering not_found (or internal). */
int
api_connection_exists(struct api_call *call, const char *connection_id)
{
	int rc = api_row_exists(call_store(call), "SELECT 1 FROM connections "
	    "WHERE connection_id = ?", connection_id);

	if (rc == 1)
		return 0;
	if (rc == 0)
		api_error(call, CONNECT_NOT_FOUND, "no connection %s: see "
		    "'akctl connection list'", connection_id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
	return -1;
}

static json_t *
status_json(enum connection_status s, const char *message)
{
	json_t *j = json_pack("{s:s}", "code", connection_status_code(s));

	api_set_nonempty(j, "message", message);
	return j;
}

/* The connection of a row of CONNECTION_COLUMNS, with its live status. */
static json_t *
connection_row_json(sqlite3_stmt *st, enum connection_status *status)
{
	const char *id = api_column_text(st, 0);
	const char *name = api_column_text(st, 1);
	const struct integration *i = integration_find(name);
	enum connection_status s;
	char *message = NULL;
	json_t *c;

	s = integration_status(i, id, &message);
	if (status != NULL)
		*status = s;
	c = json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:b, s:b, s:b}}",
	    "connection_id", id, "integration_id", name, "project_id",
	    api_column_text(st, 2), "name", api_column_text(st, 3), "status",
	    status_json(s, message), "capabilities",
	    "supports_connection_test", i != NULL && i->test != NULL,
	    "supports_connection_init", 0, "requires_connection_init", 0);
	free(message);
	return c;
}

/* ---- Create ---- */

struct connection_new {
	char		 id[64];
	const char	*project_id;
	const char	*integration;
	const char	*name;
	const char	*status;
};

static int
connection_create_write(struct store *s, void *arg, char **cause)
{
	struct connection_new *n = arg;
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO connections "
	    "(connection_id, project_id, integration, name, status, "
	    "created_at) VALUES (?, ?, ?, ?, ?, ?)");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->integration, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_us());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "saving the connection: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return 0;
}

/* The integration named by integration_id: NULL after answering. */
static const struct integration *
integration_arg(struct api_call *call, const char *what, const char *name)
{
	const struct integration *i;
	size_t k;

	if (name == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s is required: the "
		    "integration's name (github, http)", what);
		return NULL;
	}
	if ((i = integration_find(name)) != NULL)
		return i;
	if (strncmp(name, "int_", 4) == 0)
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s \"%.80s\": "
		    "integrations are named by their unique name here "
		    "(github, http), not by an int_ id", what, name);
	else {
		char list[256] = "";

		for (k = 0; k < integration_count(); k++)
			snprintf(list + strlen(list), sizeof list -
			    strlen(list), "%s%s", k > 0 ? ", " : "",
			    integration_at(k)->name);
		api_error(call, CONNECT_NOT_FOUND, "%s: no integration "
		    "\"%.80s\"; this autokittehd has: %s", what, name, list);
	}
	return NULL;
}

/*
 * Is name taken in project by a connection other than except_id? Answers
 * the call (ALREADY_EXISTS or INTERNAL) and returns -1 if so or unknown.
 */
static int
connection_name_taken(struct api_call *call, const char *project,
    const char *name, const char *except_id)
{
	sqlite3_stmt *st = store_prepare(call_store(call), "SELECT 1 FROM "
	    "connections WHERE project_id = ? AND name = ? AND "
	    "connection_id <> ?");
	int rc;

	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
		return -1;
	}
	sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, except_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW) {
		api_error(call, CONNECT_ALREADY_EXISTS, "project %s already "
		    "has a connection named %s", project, name);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
		return -1;
	}
	return 0;
}

void
api_connection_create(struct api_call *call, json_t *req)
{
	json_t *c = json_object_get(req, "connection");
	struct connection_new n;
	const struct integration *i;
	char *message = NULL;

	memset(&n, 0, sizeof n);
	if (c == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "connection is "
		    "required");
		return;
	}
	if (api_object_check(call, c, "connection", connection_msg_fields) != 0)
		return;
	if (api_object_string(c, "connection_id") != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "connection_id must "
		    "not be specified");
		return;
	}
	if (api_object_string(c, "org_id") != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "org-scoped "
		    "connections are not supported: give a project_id");
		return;
	}
	n.project_id = api_object_string(c, "project_id");
	n.integration = api_object_string(c, "integration_id");
	n.name = api_object_string(c, "name");
	if (api_id_check(call, "connection.project_id", n.project_id, "prj",
	    1) != 0 || api_project_exists(call, n.project_id) != 0)
		return;
	if ((i = integration_arg(call, "connection.integration_id",
	    n.integration)) == NULL)
		return;
	if (n.name == NULL || !api_name_valid(n.name, CONNECTION_NAME_MAX)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "connection.name is "
		    "required: letters, digits and underscores (^\\w+$)");
		return;
	}
	if (connection_name_taken(call, n.project_id, n.name, "") != 0)
		return;
	if (typeid_new("con", n.id, sizeof n.id) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot get random bytes for "
		    "a connection id");
		return;
	}
	n.status = connection_status_stored(integration_status(i, n.id,
	    &message));
	free(message);
	if (api_write(call, connection_create_write, &n, json_pack("{s:s}",
	    "connection_id", n.id)) == 0)
		log_info("connection %s (%s, %s) created in project %s", n.id,
		    n.name, n.integration, n.project_id);
}

/* ---- Get ---- */

/* The connection row, stepped: NULL after answering. */
static sqlite3_stmt *
connection_lookup(struct api_call *call, const char *id)
{
	sqlite3_stmt *st = store_prepare(call_store(call), "SELECT "
	    CONNECTION_COLUMNS " FROM connections WHERE connection_id = ?");
	int rc;

	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		return st;
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no connection %s: see "
		    "'akctl connection list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
	return NULL;
}

void
api_connection_get(struct api_call *call, json_t *req)
{
	sqlite3_stmt *st;
	const char *id;

	if (api_id_field(call, req, "connection_id", "con", 1, &id) != 0 ||
	    (st = connection_lookup(call, id)) == NULL)
		return;
	api_reply(call, json_pack("{s:o}", "connection",
	    connection_row_json(st, NULL)));
	sqlite3_finalize(st);
}

/* ---- List ---- */

void
api_connection_list(struct api_call *call, json_t *req)
{
	const char *project, *integration, *org;
	enum connection_status s;
	sqlite3_stmt *st;
	json_t *list, *c;
	int code, rc;

	if (api_id_field(call, req, "project_id", "prj", 0, &project) != 0 ||
	    api_string_field(call, req, "integration_id", &integration) != 0 ||
	    api_string_field(call, req, "org_id", &org) != 0 ||
	    api_enum_field(call, req, "status_code", status_code_names,
	    nitems(status_code_names), &code) != 0)
		return;
	if (integration != NULL && *integration == '\0')
		integration = NULL;
	/* The status is computed, not stored: filter on it here, and stop
	 * at the limit only among the matching. */
	st = store_prepare(call_store(call), "SELECT " CONNECTION_COLUMNS
	    " FROM connections WHERE (?1 IS NULL OR project_id = ?1) AND (?2 "
	    "IS NULL OR integration = ?2) ORDER BY project_id, name");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
		return;
	}
	if (project != NULL)
		sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	if (integration != NULL)
		sqlite3_bind_text(st, 2, integration, -1, SQLITE_STATIC);
	list = json_array();
	rc = SQLITE_DONE;
	while (json_array_size(list) < CONNECTIONS_LIST_MAX &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW) {
		c = connection_row_json(st, &s);
		if (code != 0 && strcmp(status_code_names[code],
		    connection_status_code(s)) != 0) {
			json_decref(c);
			continue;
		}
		json_array_append_new(list, c);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {	/* ROW: at the limit */
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the connections");
		return;
	}
	api_reply(call, json_pack("{s:o}", "connections", list));
}

/*
 * A write of one column of a connection: sql is "UPDATE connections SET
 * column = ? WHERE connection_id = ?", doing what its error says.
 */
struct connection_set {
	const char	*sql;
	const char	*doing;
	const char	*id;
	const char	*value;
};

static int
connection_set_write(struct store *s, void *arg, char **cause)
{
	struct connection_set *u = arg;
	sqlite3_stmt *st = store_prepare(s, u->sql);
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, u->value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s: %s", u->doing,
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return 0;
}

/* ---- Update: the name ---- */

void
api_connection_update(struct api_call *call, json_t *req)
{
	json_t *c = json_object_get(req, "connection");
	struct connection_set r = { "UPDATE connections SET name = ? WHERE "
	    "connection_id = ?", "renaming the connection", NULL, NULL };
	const char *integration;
	char project[64];
	sqlite3_stmt *st;
	int differs;

	if (c == NULL || api_object_check(call, c, "connection",
	    connection_msg_fields) != 0) {
		if (c == NULL)
			api_error(call, CONNECT_INVALID_ARGUMENT, "connection "
			    "is required");
		return;
	}
	r.id = api_object_string(c, "connection_id");
	r.value = api_object_string(c, "name");
	if (api_object_string(c, "org_id") != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "org-scoped "
		    "connections are not supported: only a connection's name "
		    "can change");
		return;
	}
	if (api_id_check(call, "connection.connection_id", r.id, "con", 1) != 0)
		return;
	if (r.value == NULL || !api_name_valid(r.value, CONNECTION_NAME_MAX)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "connection.name is "
		    "required: letters, digits and underscores (^\\w+$)");
		return;
	}
	if ((st = connection_lookup(call, r.id)) == NULL)
		return;
	integration = api_object_string(c, "integration_id");
	differs = integration != NULL && strcmp(integration,
	    api_column_text(st, 1)) != 0;
	differs |= api_object_string(c, "project_id") != NULL && strcmp(
	    api_object_string(c, "project_id"), api_column_text(st, 2)) != 0;
	snprintf(project, sizeof project, "%s", api_column_text(st, 2));
	sqlite3_finalize(st);
	if (differs) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "only a connection's "
		    "name can change; delete and re-create it to change its "
		    "integration or project");
		return;
	}
	if (connection_name_taken(call, project, r.value, r.id) != 0)
		return;
	if (api_write(call, connection_set_write, &r, json_object()) == 0)
		log_info("connection %s renamed %s", r.id, r.value);
}

/* ---- Delete ---- */

/* Inside a store_write: the triggers using it, their vars, then it. */
int
connection_delete(struct store *s, const char *id, char **cause)
{
	static const char *const sql[] = {
		"DELETE FROM vars WHERE scope_id IN (SELECT trigger_id FROM "
		    "triggers WHERE connection_id = ?1)",
		"DELETE FROM triggers WHERE connection_id = ?1",
		"DELETE FROM vars WHERE scope_id = ?1",
		"DELETE FROM connections WHERE connection_id = ?1",
	};
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < nitems(sql); i++) {
		if ((st = store_prepare(s, sql[i])) == NULL) {
			xasprintf(cause, "the store is unavailable");
			return -1;
		}
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			xasprintf(cause, "deleting connection %s: %s", id,
			    sqlite3_errmsg(store_db(s)));
			return -1;
		}
	}
	return 0;
}

static int
connection_delete_write(struct store *s, void *arg, char **cause)
{
	return connection_delete(s, arg, cause);
}

void
api_connection_delete(struct api_call *call, json_t *req)
{
	const char *id;

	if (api_id_field(call, req, "connection_id", "con", 1, &id) != 0 ||
	    api_connection_exists(call, id) != 0)
		return;
	if (api_write(call, connection_delete_write, (void *)id,
	    json_object()) == 0)
		log_info("connection %s deleted", id);
}

/* ---- Test, RefreshStatus ---- */

void
api_connection_test(struct api_call *call, json_t *req)
{
	const struct integration *i;
	char *cause = NULL;
	sqlite3_stmt *st;
	const char *id;
	json_t *status;

	if (api_id_field(call, req, "connection_id", "con", 1, &id) != 0 ||
	    (st = connection_lookup(call, id)) == NULL)
		return;
	i = integration_find(api_column_text(st, 1));
	if (i == NULL || i->test == NULL) {
		api_error(call, CONNECT_UNIMPLEMENTED, "integration %s cannot "
		    "test its connections", api_column_text(st, 1));
		sqlite3_finalize(st);
		return;
	}
	sqlite3_finalize(st);
	if (i->test(id, &cause) == 0)
		status = status_json(CONNECTION_OK, cause);
	else
		status = status_json(CONNECTION_ERROR, cause != NULL ? cause :
		    "the test failed");
	free(cause);
	api_reply(call, json_pack("{s:o}", "status", status));
}

void
api_connection_refresh_status(struct api_call *call, json_t *req)
{
	struct connection_set u = { "UPDATE connections SET status = ? WHERE "
	    "connection_id = ?", "saving the status", NULL, NULL };
	enum connection_status s;
	char *message = NULL;
	sqlite3_stmt *st;
	json_t *status;

	if (api_id_field(call, req, "connection_id", "con", 1, &u.id) != 0 ||
	    (st = connection_lookup(call, u.id)) == NULL)
		return;
	s = integration_status(integration_find(api_column_text(st, 1)), u.id,
	    &message);
	sqlite3_finalize(st);
	u.value = connection_status_stored(s);
	status = status_json(s, message);
	free(message);
	api_write(call, connection_set_write, &u, json_pack("{s:o}",
	    "status", status));
}
