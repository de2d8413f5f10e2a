/*
 * api-store.c: autokitteh.store.v1.StoreService: Get, List, Mutate; and
 * Publish, Unpublish, which are not supported yet.
 *
 * The value store itself is store-values.c. The API speaks AutoKitteh's
 * Values (autokitteh.values.v1.Value, proto3 JSON); the store keeps native
 * JSON, so Mutate's operands are turned into JSON here and answers go back
 * through value_from_json(). Only the kinds JSON can hold are accepted:
 * string, integer, float, boolean, nothing, list and dict with string keys.
 *
 * Mutate's operations are AutoKitteh's: get, set, del, add, check_and_set.
 * As in AutoKitteh, check_and_set's operands are (next, check): the value
 * to set, then the value expected now. Mutate answers after its write has
 * committed.
 */
#include "autokittehd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STORE_KEYS_PER_REQUEST	64
#define STORE_OPERANDS_MAX	2

const char *const api_store_get_fields[] = { "project_id", "keys", NULL };
const char *const api_store_list_fields[] = { "project_id", NULL };
const char *const api_store_mutate_fields[] = { "project_id", "key",
    "operation", "operands", NULL };
const char *const api_store_publish_fields[] = { "project_id", "key", NULL };

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

static int
store_project(struct api_call *call, json_t *req, const char **project_id)
{
	if (api_id_field(call, req, "project_id", "prj", 1, project_id) != 0)
		return -1;
	return api_project_exists(call, *project_id);
}

/* A Value's native JSON (value.c), as the store holds it. */
static json_t *
store_value_native(json_t *value, char **why)
{
	return value_to_native(value, 0, why);
}

/* ---- Get ---- */

void
api_store_get(struct api_call *call, json_t *req)
{
	json_t *keys = json_object_get(req, "keys"), *values, *k, *v;
	const char *project_id;
	size_t i;

	if (store_project(call, req, &project_id) != 0)
		return;
	if (keys != NULL && (!json_is_array(keys) ||
	    json_array_size(keys) > STORE_KEYS_PER_REQUEST)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "keys must be a list "
		    "of at most %d keys", STORE_KEYS_PER_REQUEST);
		return;
	}
	json_array_foreach(keys, i, k) {
		if (!json_is_string(k) || json_string_length(k) == 0) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "keys[%zu] is "
			    "not a key (a non-empty string)", i);
			return;
		}
	}
	/* No keys: all of them. */
	if (json_array_size(keys) != 0)
		json_incref(keys);
	else if ((keys = values_list_keys(call_store(call), project_id)) ==
	    NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the value "
		    "store");
		return;
	}
	values = json_object();
	json_array_foreach(keys, i, k) {
		v = values_get(call_store(call), project_id,
		    json_string_value(k));
		if (v != NULL)
			json_object_set_new(values, json_string_value(k),
			    value_from_json(v));
		json_decref(v);
	}
	json_decref(keys);
	api_reply(call, json_pack("{s:o}", "values", values));
}

/* ---- List ---- */

void
api_store_list(struct api_call *call, json_t *req)
{
	const char *project_id;
	json_t *keys;

	if (store_project(call, req, &project_id) != 0)
		return;
	if ((keys = values_list_keys(call_store(call), project_id)) == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the value "
		    "store");
		return;
	}
	api_reply(call, json_pack("{s:o}", "keys", keys));
}

/* ---- Mutate ---- */

struct store_mutate {
	const char	*project_id;
	const char	*operation;
	const char	*key;
	json_t		*args;		/* native JSON, store-values.c's order */
	json_t		*result;
	int		 rc;		/* values_mutate's */
};

static int
store_mutate_write(struct store *s, void *arg, char **cause)
{
	struct store_mutate *m = arg;

	m->rc = values_mutate(s, m->project_id, m->operation, m->key, m->args,
	    &m->result, cause);
	return m->rc == 0 ? 0 : -1;
}

/* The value is in the batch already: only wait for its commit. */
static int
store_nothing_write(struct store *s, void *arg, char **cause)
{
	(void)s;
	(void)arg;
	(void)cause;
	return 0;
}

static const char *const store_operations[] = { "get", "set", "del", "add",
    "check_and_set", NULL };

void
api_store_mutate(struct api_call *call, json_t *req)
{
	json_t *operands = json_object_get(req, "operands"), *o, *n, *t;
	struct store_mutate m;
	char *why = NULL, *cause = NULL;
	enum connect_code code;
	size_t i;
	int known = 0;

	memset(&m, 0, sizeof m);
	if (store_project(call, req, &m.project_id) != 0 ||
	    api_string_field(call, req, "key", &m.key) != 0 ||
	    api_string_field(call, req, "operation", &m.operation) != 0)
		return;
	if (m.key == NULL || *m.key == '\0') {
		api_error(call, CONNECT_INVALID_ARGUMENT, "key is required");
		return;
	}
	for (i = 0; m.operation != NULL && store_operations[i] != NULL; i++)
		known |= strcmp(m.operation, store_operations[i]) == 0;
	if (!known) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "operation must be "
		    "one of get, set, del, add and check_and_set");
		return;
	}
	if (operands != NULL && (!json_is_array(operands) ||
	    json_array_size(operands) > STORE_OPERANDS_MAX)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "operands must be a "
		    "list of at most %d Values", STORE_OPERANDS_MAX);
		return;
	}
	m.args = json_array();
	json_array_foreach(operands, i, o) {
		if ((n = store_value_native(o, &why)) == NULL) {
			api_error(call, CONNECT_INVALID_ARGUMENT,
			    "operands[%zu] %s", i, why);
			free(why);
			json_decref(m.args);
			return;
		}
		json_array_append_new(m.args, n);
	}
	/* AutoKitteh's (next, check) -> store-values.c's (expected, new) */
	if (strcmp(m.operation, "check_and_set") == 0 &&
	    json_array_size(m.args) == 2) {
		t = json_incref(json_array_get(m.args, 0));
		json_array_remove(m.args, 0);
		json_array_append_new(m.args, t);
	}

	if (store_write(call_store(call), store_mutate_write, &m, NULL, NULL,
	    &cause) != 0) {
		code = m.rc == -1 ? CONNECT_INVALID_ARGUMENT : m.rc == -2 ?
		    CONNECT_FAILED_PRECONDITION : CONNECT_INTERNAL;
		api_error(call, code, "%s", cause != NULL ? cause :
		    "the value store failed");
		free(cause);
		json_decref(m.args);
		return;
	}
	json_decref(m.args);
	if (api_write(call, store_nothing_write, NULL, json_pack("{s:o}",
	    "value", value_from_json(m.result))) == 0 &&
	    strcmp(m.operation, "get") != 0)
		log_debug("value %s of %s: %s", m.key, m.project_id,
		    m.operation);
	json_decref(m.result);
}

/* ---- Publish, Unpublish ---- */

void
api_store_publish(struct api_call *call, json_t *req)
{
	(void)req;
	api_error(call, CONNECT_UNIMPLEMENTED, "publishing values over "
	    "public HTTP is not supported yet; read values with "
	    "StoreService.Get or 'akctl value get'");
}
