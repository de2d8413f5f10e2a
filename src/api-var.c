/*
 * api-var.c: autokitteh.vars.v1.VarsService: Set, Get, Delete.
 *
 * A var's scope is a project id or a connection id (a connection's
 * settings: pat, webhook_secret, base_url...); AutoKitteh also scopes
 * vars to triggers, which we do not yet. Limits are AutoKitteh's: 64 vars per
 * scope, values up to 8,092 bytes (the literal in its code).
 *
 * Secret vars and connection vars are stored sealed (store-vars.c). Get
 * answers a secret var's value as "" unless the request says reveal, as
 * AutoKitteh's VarsService does; sessions always get the values.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

#define VARS_PER_SCOPE		64
#define VAR_VALUE_MAX		8092
#define VAR_NAME_MAX		256
#define VAR_DESCRIPTION_MAX	1024
#define VARS_PER_REQUEST	256

const char *const api_var_set_fields[] = { "vars", NULL };
const char *const api_var_get_fields[] = { "scope_id", "names", "reveal",
    NULL };
const char *const api_var_delete_fields[] = { "scope_id", "names", NULL };

static const char *const var_msg_fields[] = { "scope_id", "name", "value",
    "is_secret", "is_optional", "description", NULL };

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

/* The scope must be an existing project or connection: 0, or -1 after
 * answering. */
static int
var_scope_check(struct api_call *call, const char *field, const char *scope)
{
	if (scope != NULL && strncmp(scope, "trg_", 4) == 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s: vars scoped to "
		    "triggers are not supported yet; use a project or a "
		    "connection id", field);
		return -1;
	}
	if (scope != NULL && strncmp(scope, "con_", 4) == 0) {
		if (api_id_check(call, field, scope, "con", 1) != 0)
			return -1;
		return api_connection_exists(call, scope);
	}
	if (scope != NULL && *scope == '\0')
		scope = NULL;
	if (api_id_check(call, field, scope, "prj", 1) != 0)
		return -1;
	return api_project_exists(call, scope);
}

/* names: absent or an array of at most VARS_PER_SCOPE valid names. */
static int
var_names_check(struct api_call *call, json_t *names)
{
	json_t *n;
	size_t i;

	if (names == NULL)
		return 0;
	if (!json_is_array(names) || json_array_size(names) > VARS_PER_SCOPE) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "names must be a list "
		    "of at most %d var names", VARS_PER_SCOPE);
		return -1;
	}
	json_array_foreach(names, i, n) {
		if (!json_is_string(n) || !api_name_valid(json_string_value(n),
		    VAR_NAME_MAX)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "names[%zu] is "
			    "not a var name (^\\w+$)", i);
			return -1;
		}
	}
	return 0;
}

/* ---- Set ---- */

static int
var_check(struct api_call *call, json_t *v, size_t i)
{
	const char *name = api_object_string(v, "name");
	json_t *value = api_object_get(v, "value");
	json_t *desc = api_object_get(v, "description");
	json_t *secret = api_object_get(v, "is_secret");
	char what[48];

	snprintf(what, sizeof what, "vars[%zu]", i);
	if (api_object_check(call, v, what, var_msg_fields) != 0)
		return -1;
	if (name == NULL || !api_name_valid(name, VAR_NAME_MAX)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s.name is required: "
		    "letters, digits and underscores (^\\w+$)", what);
		return -1;
	}
	if ((value != NULL && !json_is_string(value)) || (desc != NULL &&
	    !json_is_string(desc)) || (secret != NULL &&
	    !json_is_boolean(secret))) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s: value and "
		    "description are strings, is_secret a boolean", what);
		return -1;
	}
	if (json_string_length(value) > VAR_VALUE_MAX) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s (%s): a value is "
		    "at most %d bytes", what, name, VAR_VALUE_MAX);
		return -1;
	}
	if (json_string_length(desc) > VAR_DESCRIPTION_MAX) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s (%s): a "
		    "description is at most %d bytes", what, name,
		    VAR_DESCRIPTION_MAX);
		return -1;
	}
	snprintf(what, sizeof what, "vars[%zu].scope_id", i);
	return var_scope_check(call, what, api_object_string(v, "scope_id"));
}

/* 1 if the var exists, 0 if not, -1 on a store error. */
static int
var_exists(struct store *s, const char *scope, const char *name)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT 1 FROM vars WHERE "
	    "scope_id = ? AND name = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Would the request take a scope past VARS_PER_SCOPE? counts maps scope
 * to the number of new names; seen holds "scope/name" of those counted.
 */
static int
var_count_check(struct api_call *call, json_t *vars)
{
	json_t *seen = json_object(), *counts = json_object(), *v;
	const char *scope, *name;
	char key[512];
	int64_t have;
	size_t i;
	int rc = 0;

	json_array_foreach(vars, i, v) {
		scope = api_object_string(v, "scope_id");
		name = api_object_string(v, "name");
		snprintf(key, sizeof key, "%s/%s", scope, name);
		if (json_object_get(seen, key) != NULL)
			continue;
		json_object_set_new(seen, key, json_true());
		if (var_exists(call_store(call), scope, name) == 0)
			json_object_set_new(counts, scope, json_integer(1 +
			    json_integer_value(json_object_get(counts, scope))));
	}
	json_object_foreach(counts, scope, v) {
		have = api_row_count(call_store(call), "SELECT count(*) FROM "
		    "vars WHERE scope_id = ?", scope);
		if (have < 0 || have + json_integer_value(v) > VARS_PER_SCOPE) {
			if (have < 0)
				api_error(call, CONNECT_INTERNAL, "cannot read "
				    "the vars");
			else
				api_error(call, CONNECT_INVALID_ARGUMENT,
				    "%s would have %lld vars; a scope has at "
				    "most %d", scope, (long long)(have +
				    json_integer_value(v)), VARS_PER_SCOPE);
			rc = -1;
			break;
		}
	}
	json_decref(seen);
	json_decref(counts);
	return rc;
}

static int
var_set_write(struct store *s, void *arg, char **cause)
{
	json_t *vars = arg, *v;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;
	size_t i;

	st = store_prepare(s, "INSERT INTO vars (scope_id, name, value, "
	    "is_secret, description, sealed) VALUES (?, ?, ?, ?, ?, ?) ON "
	    "CONFLICT (scope_id, name) DO UPDATE SET value = excluded.value, "
	    "is_secret = excluded.is_secret, description = "
	    "excluded.description, sealed = excluded.sealed");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	json_array_foreach(vars, i, v) {
		const char *value = json_string_value(api_object_get(v,
		    "value"));
		const char *desc = json_string_value(api_object_get(v,
		    "description"));
		const char *scope = api_object_string(v, "scope_id");
		const char *name = api_object_string(v, "name");
		int secret = json_is_true(api_object_get(v, "is_secret"));

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		if (vars_bind_value(st, 3, 6, scope, name, value, secret,
		    cause) != 0) {
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_bind_int(st, 4, secret);
		sqlite3_bind_text(st, 5, desc != NULL ? desc : "", -1,
		    SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			break;
	}
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the vars: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
api_var_set(struct api_call *call, json_t *req)
{
	json_t *vars = json_object_get(req, "vars"), *v;
	size_t i;

	if (vars == NULL || !json_is_array(vars) || json_array_size(vars) == 0 ||
	    json_array_size(vars) > VARS_PER_REQUEST) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "vars must be a list "
		    "of 1 to %d vars", VARS_PER_REQUEST);
		return;
	}
	json_array_foreach(vars, i, v) {
		if (var_check(call, v, i) != 0)
			return;
	}
	if (var_count_check(call, vars) != 0)
		return;
	if (api_write(call, var_set_write, vars, json_object()) == 0)
		log_info("%zu var(s) set", json_array_size(vars));
}

/* ---- Get ---- */

/*
 * The rows of st into list, secret values as "" unless reveal: 0, or -1
 * with *cause.
 */
static int
var_get_rows(sqlite3_stmt *st, json_t *list, int reveal, char **cause)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *scope = api_column_text(st, 0);
		const char *name = api_column_text(st, 1);
		int secret = sqlite3_column_int(st, 3) != 0;
		char *value = NULL;
		json_t *v;

		if ((!secret || reveal) && (value = vars_column_value(st, 2, 5,
		    scope, name, cause)) == NULL)
			return -1;
		v = json_pack("{s:s, s:s, s:s, s:b}", "scope_id", scope, "name",
		    name, "value", value != NULL ? value : "", "is_secret",
		    secret);
		vars_value_free(value);
		if (v == NULL) {
			xasprintf(cause, "var %s of %s is not valid UTF-8",
			    name, scope);
			return -1;
		}
		api_set_nonempty(v, "description", api_column_text(st, 4));
		json_array_append_new(list, v);
	}
	if (rc != SQLITE_DONE)
		xasprintf(cause, "cannot read the vars");
	return rc == SQLITE_DONE ? 0 : -1;
}

void
api_var_get(struct api_call *call, json_t *req)
{
	json_t *names = json_object_get(req, "names"), *list, *n;
	const char *scope;
	sqlite3_stmt *st;
	char *cause = NULL;
	size_t i;
	int rc = 0, reveal;

	if (api_string_field(call, req, "scope_id", &scope) != 0 ||
	    api_bool_field(call, req, "reveal", &reveal) != 0 ||
	    var_scope_check(call, "scope_id", scope) != 0 ||
	    var_names_check(call, names) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT scope_id, name, value, "
	    "is_secret, description, sealed FROM vars WHERE scope_id = ?1 AND "
	    "(?2 IS NULL OR name = ?2) ORDER BY name LIMIT ?3");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the vars");
		return;
	}
	list = json_array();
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, VARS_PER_SCOPE);
	if (json_array_size(names) == 0)
		rc = var_get_rows(st, list, reveal, &cause);
	json_array_foreach(names, i, n) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 2, json_string_value(n), -1,
		    SQLITE_STATIC);
		if ((rc = var_get_rows(st, list, reveal, &cause)) != 0)
			break;
	}
	sqlite3_finalize(st);
	if (rc != 0) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "%s", cause);
		free(cause);
		return;
	}
	api_reply(call, json_pack("{s:o}", "vars", list));
}

/* ---- Delete ---- */

struct var_delete {
	const char	*scope;
	json_t		*names;		/* empty: all of the scope */
};

static int
var_delete_write(struct store *s, void *arg, char **cause)
{
	struct var_delete *d = arg;
	sqlite3_stmt *st;
	json_t *n;
	size_t i;
	int rc = SQLITE_DONE;

	st = store_prepare(s, "DELETE FROM vars WHERE scope_id = ?1 AND (?2 IS "
	    "NULL OR name = ?2)");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, d->scope, -1, SQLITE_STATIC);
	if (json_array_size(d->names) == 0)
		rc = sqlite3_step(st);
	json_array_foreach(d->names, i, n) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 2, json_string_value(n), -1,
		    SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			break;
	}
	if (rc != SQLITE_DONE)
		xasprintf(cause, "deleting the vars: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
api_var_delete(struct api_call *call, json_t *req)
{
	struct var_delete d;

	d.names = json_object_get(req, "names");
	if (api_string_field(call, req, "scope_id", &d.scope) != 0 ||
	    var_scope_check(call, "scope_id", d.scope) != 0 ||
	    var_names_check(call, d.names) != 0)
		return;
	if (api_write(call, var_delete_write, &d, json_object()) == 0)
		log_info("vars of %s deleted (%zu named)", d.scope,
		    json_array_size(d.names));
}
