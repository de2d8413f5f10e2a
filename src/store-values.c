/*
 * store-values.c: the per-project value store (reference section 1.11).
 *
 * Each project has up to VALUES_PER_PROJECT keys, each holding one JSON
 * value of at most VALUE_MAX bytes once encoded (compact JSON); both limits
 * are AutoKitteh's defaults. Values live in store_values as JSON text.
 *
 * values_mutate() is the one entry point that changes them. It runs inside
 * a store_write (the caller's batch) and applies one operation:
 *
 *	get				the value, or null when absent
 *	set		[value]		null
 *	del				null (deleting nothing is not an error)
 *	add		[number]	the new value; absent counts as 0
 *	check_and_set	[expected, new]	true if the value was expected (absent
 *					is null) and is now new, else false
 *	mutate		[op, args...]	op (one of the above) with args: the
 *					form of the Python SDK's mutate_value
 *	list				the project's keys, sorted
 *
 * Note the order of check_and_set's arguments: expected first, as in the
 * Python SDK's check_and_set_value(key, expected_value, new_value).
 * AutoKitteh's StoreService.Mutate takes the operands the other way round
 * (next, check); api-store.c swaps them.
 *
 * values_mutate returns 0 with *result (a new reference), or with *cause a
 * sentence for the user and one of: -1 the operation or a value is invalid
 * (including a value over 64 KiB), -2 the project already has 64 values,
 * -3 the store failed.
 *
 * syscall_store, the "store" syscall of sessions, takes {op, key, args} and
 * acts on the session's own project.
 */
#include "autokittehd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX		(64 * 1024)
#define VALUES_PER_PROJECT	64
#define VALUE_KEY_MAX		256	/* characters */

#define VALUES_EINVAL	-1
#define VALUES_ELIMIT	-2
#define VALUES_ESTORE	-3

/* ---- keys and values ---- */

/*
 * 1 to VALUE_KEY_MAX printable characters: no C0 or C1 control characters
 * and no DEL. The text is UTF-8 (jansson checked it); count code points.
 */
static int
values_key_valid(const char *key)
{
	const unsigned char *p = (const unsigned char *)key;
	size_t chars = 0;

	if (key == NULL)
		return 0;
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return 0;		/* U+0080 to U+009F */
		if ((*p & 0xc0) != 0x80)
			chars++;
		p++;
	}
	return chars >= 1 && chars <= VALUE_KEY_MAX;
}

static char *
values_encode(json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER);
}

/* Equal as Python would compare them: 1 == 1.0, objects by keys. */
static int
values_equal(json_t *a, json_t *b)
{
	const char *k;
	json_t *va;
	size_t i;

	if (a == NULL)
		a = json_null();
	if (b == NULL)
		b = json_null();
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return json_number_value(a) == json_number_value(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, va) {
			if (!values_equal(va, json_array_get(b, i)))
				return 0;
		}
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, k, va) {
			json_t *vb = json_object_get(b, k);

			if (vb == NULL || !values_equal(va, vb))
				return 0;
		}
		return 1;
	default:
		return json_equal(a, b);
	}
}

/* ---- reads ---- */

/* The value of key, a new reference; NULL if absent (or unreadable). */
json_t *
values_get(struct store *s, const char *project_id, const char *key)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT value FROM store_values "
	    "WHERE project_id = ? AND key = ?");
	json_t *v = NULL;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = json_loads((const char *)sqlite3_column_text(st, 0),
		    JSON_DECODE_ANY, NULL);
	sqlite3_finalize(st);
	return v;
}

/* The project's keys, sorted, as a new array; NULL on a store error. */
json_t *
values_list_keys(struct store *s, const char *project_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT key FROM store_values "
	    "WHERE project_id = ? ORDER BY key");
	json_t *keys;
	int rc;

	if (st == NULL)
		return NULL;
	keys = json_array();
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(keys, json_string((const char *)
		    sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(keys);
		return NULL;
	}
	return keys;
}

/* 1 if key is set, 0 if not, -1 on a store error. */
static int
values_exists(struct store *s, const char *project_id, const char *key)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT 1 FROM store_values "
	    "WHERE project_id = ? AND key = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int64_t
values_count(struct store *s, const char *project_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT count(*) FROM "
	    "store_values WHERE project_id = ?");
	int64_t n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The project's name for messages (its id if it has none). */
static char *
values_project_name(struct store *s, const char *project_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT name FROM projects WHERE "
	    "project_id = ?");
	char *name = NULL;

	if (st != NULL) {
		sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0) != NULL)
			name = xstrdup((const char *)sqlite3_column_text(st,
			    0));
		sqlite3_finalize(st);
	}
	return name != NULL ? name : xstrdup(project_id);
}

/* ---- writes ---- */

/* Store v under key: the size and count limits, then the upsert. */
static int
values_put(struct store *s, const char *project_id, const char *key,
    json_t *v, char **cause)
{
	char *text = values_encode(v), *name;
	sqlite3_stmt *st;
	size_t len;
	int rc;

	if (text == NULL) {
		xasprintf(cause, "the value of \"%s\" cannot be encoded as "
		    "JSON", key);
		return VALUES_EINVAL;
	}
	if ((len = strlen(text)) > VALUE_MAX) {
		xasprintf(cause, "the value of \"%s\" is %zu bytes; a value "
		    "holds at most 64 KiB", key, len);
		free(text);
		return VALUES_EINVAL;
	}
	if ((rc = values_exists(s, project_id, key)) == 0 &&
	    values_count(s, project_id) >= VALUES_PER_PROJECT) {
		name = values_project_name(s, project_id);
		xasprintf(cause, "project %s has %d values; delete one first",
		    name, VALUES_PER_PROJECT);
		free(name);
		free(text);
		return VALUES_ELIMIT;
	}
	st = rc < 0 ? NULL : store_prepare(s, "INSERT INTO store_values "
	    "(project_id, key, value, updated_at) VALUES (?, ?, ?, ?) ON "
	    "CONFLICT (project_id, key) DO UPDATE SET value = excluded.value, "
	    "updated_at = excluded.updated_at");
	if (st == NULL) {
		xasprintf(cause, "the value store is unavailable");
		free(text);
		return VALUES_ESTORE;
	}
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_us());
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the value of \"%s\": %s", key,
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	free(text);
	return rc == SQLITE_DONE ? 0 : VALUES_ESTORE;
}

static int
values_delete(struct store *s, const char *project_id, const char *key,
    char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "DELETE FROM store_values WHERE "
	    "project_id = ? AND key = ?");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the value store is unavailable");
		return VALUES_ESTORE;
	}
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "deleting the value of \"%s\": %s", key,
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : VALUES_ESTORE;
}

/* ---- operations ---- */

static int
values_nargs(const char *op, json_t *args, size_t want, const char *what,
    char **cause)
{
	if (json_array_size(args) == want)
		return 0;
	if (want == 0)
		xasprintf(cause, "%s takes no arguments, not %zu", op,
		    json_array_size(args));
	else
		xasprintf(cause, "%s takes %s, not %zu argument%s", op, what,
		    json_array_size(args), json_array_size(args) == 1 ? "" :
		    "s");
	return VALUES_EINVAL;
}

/* cur + n, for add: integers stay integers unless they overflow. */
static int
values_add(const char *key, json_t *cur, json_t *n, json_t **sum,
    char **cause)
{
	json_int_t a, b, r;
	double d;

	if (!json_is_number(n)) {
		xasprintf(cause, "add takes a number to add");
		return VALUES_EINVAL;
	}
	if (cur != NULL && !json_is_number(cur)) {
		xasprintf(cause, "the value of \"%s\" is not a number; add "
		    "works on numbers", key);
		return VALUES_EINVAL;
	}
	if (cur == NULL) {
		*sum = json_incref(n);
		return 0;
	}
	if (json_is_integer(cur) && json_is_integer(n)) {
		a = json_integer_value(cur);
		b = json_integer_value(n);
		if (__builtin_add_overflow(a, b, &r)) {
			xasprintf(cause, "adding %lld to the value of \"%s\" "
			    "overflows a 64-bit integer", (long long)b, key);
			return VALUES_EINVAL;
		}
		*sum = json_integer(r);
		return 0;
	}
	d = json_number_value(cur) + json_number_value(n);
	if (!isfinite(d)) {
		xasprintf(cause, "adding to the value of \"%s\" overflows a "
		    "float", key);
		return VALUES_EINVAL;
	}
	*sum = json_real(d);
	return 0;
}

static int
values_op(struct store *s, const char *project_id, const char *op,
    const char *key, json_t *args, int nested, json_t **result, char **cause)
{
	json_t *cur = NULL, *next = NULL, *rest;
	int rc;

	if (strcmp(op, "list") == 0 && !nested) {
		if ((rc = values_nargs(op, args, 0, NULL, cause)) != 0)
			return rc;
		if ((*result = values_list_keys(s, project_id)) == NULL) {
			xasprintf(cause, "cannot read the value store");
			return VALUES_ESTORE;
		}
		return 0;
	}
	if (strcmp(op, "mutate") == 0 && !nested) {
		if (json_array_size(args) == 0 ||
		    !json_is_string(json_array_get(args, 0))) {
			xasprintf(cause, "mutate takes the name of an "
			    "operation, then its arguments");
			return VALUES_EINVAL;
		}
		rest = json_array();
		for (size_t i = 1; i < json_array_size(args); i++)
			json_array_append(rest, json_array_get(args, i));
		rc = values_op(s, project_id, json_string_value(
		    json_array_get(args, 0)), key, rest, 1, result, cause);
		json_decref(rest);
		return rc;
	}
	if (strcmp(op, "get") != 0 && strcmp(op, "set") != 0 &&
	    strcmp(op, "del") != 0 && strcmp(op, "add") != 0 &&
	    strcmp(op, "check_and_set") != 0) {
		xasprintf(cause, "unknown value operation \"%.40s\": one of "
		    "get, set, del, add, check_and_set%s", op, nested ? "" :
		    ", mutate, list");
		return VALUES_EINVAL;
	}
	if (!values_key_valid(key)) {
		xasprintf(cause, "a value's key is 1 to %d printable "
		    "characters", VALUE_KEY_MAX);
		return VALUES_EINVAL;
	}

	if (strcmp(op, "get") == 0) {
		if ((rc = values_nargs(op, args, 0, NULL, cause)) != 0)
			return rc;
		cur = values_get(s, project_id, key);
		*result = cur != NULL ? cur : json_null();
		return 0;
	}
	if (strcmp(op, "set") == 0) {
		if ((rc = values_nargs(op, args, 1, "one value", cause)) != 0 ||
		    (rc = values_put(s, project_id, key, json_array_get(args,
		    0), cause)) != 0)
			return rc;
		*result = json_null();
		return 0;
	}
	if (strcmp(op, "del") == 0) {
		if ((rc = values_nargs(op, args, 0, NULL, cause)) != 0 ||
		    (rc = values_delete(s, project_id, key, cause)) != 0)
			return rc;
		*result = json_null();
		return 0;
	}
	if (strcmp(op, "add") == 0) {
		if ((rc = values_nargs(op, args, 1, "one number", cause)) != 0)
			return rc;
		cur = values_get(s, project_id, key);
		rc = values_add(key, cur, json_array_get(args, 0), &next,
		    cause);
		json_decref(cur);
		if (rc == 0 && (rc = values_put(s, project_id, key, next,
		    cause)) == 0) {
			*result = next;
			return 0;
		}
		json_decref(next);
		return rc;
	}
	/* check_and_set [expected, new] */
	if ((rc = values_nargs(op, args, 2, "two values, expected and new",
	    cause)) != 0)
		return rc;
	cur = values_get(s, project_id, key);
	if (!values_equal(cur, json_array_get(args, 0))) {
		json_decref(cur);
		*result = json_false();
		return 0;
	}
	json_decref(cur);
	if ((rc = values_put(s, project_id, key, json_array_get(args, 1),
	    cause)) != 0)
		return rc;
	*result = json_true();
	return 0;
}

/* Inside a store_write. args: an array (NULL: none). See the top. */
int
values_mutate(struct store *s, const char *project_id, const char *op,
    const char *key, json_t *args, json_t **result, char **cause)
{
	json_t *none = NULL;
	int rc;

	*result = NULL;
	if (op == NULL) {
		xasprintf(cause, "a value operation needs a name");
		return VALUES_EINVAL;
	}
	if (args == NULL)
		args = none = json_array();
	if (!json_is_array(args)) {
		xasprintf(cause, "the arguments of %.40s are a list", op);
		return VALUES_EINVAL;
	}
	rc = values_op(s, project_id, op, key, args, 0, result, cause);
	json_decref(none);
	return rc;
}

/* ---- the "store" syscall ---- */

/* The session's project into project (size bytes): 0, or -1. */
static int
values_session_project(struct store *s, const char *session_id,
    char *project, size_t size)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT project_id FROM sessions "
	    "WHERE session_id = ?");
	int rc = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) {
		snprintf(project, size, "%s", (const char *)
		    sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* {op, key, args: [...]} -> {"value": X} or {"error": "sentence"} */
static enum syscall_rc
syscall_store_fn(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	json_t *op = json_object_get(x->args, "op");
	json_t *key = json_object_get(x->args, "key");
	json_t *args = json_object_get(x->args, "args"), *value;
	char project[64];

	(void)wake_at;
	if (!json_is_string(op) || (key != NULL && !json_is_null(key) &&
	    !json_is_string(key)) || (args != NULL && !json_is_null(args) &&
	    !json_is_array(args))) {
		xasprintf(cause, "the store call takes op (a string), key (a "
		    "string) and args (a list)");
		return SYSCALL_FAIL;
	}
	if (values_session_project(s, x->session_id, project,
	    sizeof project) != 0) {
		xasprintf(cause, "the project of session %s is unknown",
		    x->session_id);
		return SYSCALL_FAIL;
	}
	if (values_mutate(s, project, json_string_value(op),
	    json_string_value(key), json_is_array(args) ? args : NULL, &value,
	    cause) != 0)
		return SYSCALL_FAIL;
	*result = json_pack("{s:o}", "value", value);
	return SYSCALL_DONE;
}

const struct syscall_def syscall_store = { "store", syscall_store_fn };
