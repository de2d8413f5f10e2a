/*
 * ctl-value.c: "akctl value get|set|list|delete", a project's value store
 * (StoreService; AutoKitteh's "ak store" has no CLI of its own).
 *
 * Values are JSON. set parses VALUE as JSON when it is JSON and takes it
 * as a string otherwise; --string always takes it as a string. get prints
 * the value as compact JSON on one line, so that a string prints quoted
 * and "5" and 5 stay apart.
 */
#include "akctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CTL_STORE(method)	CTL_AK("store", "StoreService", method)

static int ctl_value_get_exec(struct ctl_context *, int, char **);
static int ctl_value_set_exec(struct ctl_context *, int, char **);
static int ctl_value_list_exec(struct ctl_context *, int, char **);
static int ctl_value_delete_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_value_project_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = NULL }
};

static const struct ctl_flag ctl_value_set_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = "string", .short_name = 's',
	  .help = "store VALUE as a string even if it is JSON" },
	{ .name = NULL }
};

static const struct ctl_command ctl_value_get_command = {
	.name = "get",
	.args_usage = "KEY",
	.summary = "show a stored value",
	.help = "Print the value of KEY in PROJECT's value store as compact\n"
	    "JSON. Exit 1 if KEY is not set.\n",
	.flags = ctl_value_project_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_value_get_exec,
};

static const struct ctl_command ctl_value_set_command = {
	.name = "set",
	.args_usage = "KEY VALUE",
	.summary = "store a value",
	.help = "Set KEY in PROJECT's value store to VALUE: its JSON if VALUE\n"
	    "is JSON (5, true, null, [1,2], {\"a\":1}, \"quoted\"), else the\n"
	    "text as a string. With --string VALUE is always a string. A value\n"
	    "is at most 64 KiB as JSON; a project has at most 64 values.\n",
	.flags = ctl_value_set_flags,
	.args_min = 2,
	.args_max = 2,
	.exec = ctl_value_set_exec,
};

static const struct ctl_command ctl_value_list_command = {
	.name = "list",
	.summary = "list the keys of the stored values",
	.help = "Print the keys of PROJECT's value store, one a line, sorted.\n",
	.flags = ctl_value_project_flags,
	.exec = ctl_value_list_exec,
};

static const struct ctl_command ctl_value_delete_command = {
	.name = "delete",
	.args_usage = "KEY",
	.summary = "delete a stored value",
	.help = "Delete KEY from PROJECT's value store. Deleting a key that is\n"
	    "not set is not an error.\n",
	.flags = ctl_value_project_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_value_delete_exec,
};

static const struct ctl_command *const ctl_value_commands[] = {
	&ctl_value_get_command,
	&ctl_value_set_command,
	&ctl_value_list_command,
	&ctl_value_delete_command,
	NULL
};

const struct ctl_command ctl_value_command = {
	.name = "value",
	.summary = "get, set, list and delete a project's stored values",
	.help = "Manage a project's value store: the persistent JSON values its\n"
	    "sessions read and write with get_value, set_value and the like.\n"
	    "Every subcommand needs -p PROJECT.\n",
	.subcommands = ctl_value_commands,
};

/* ---- native JSON <-> autokitteh.values.v1.Value ---- */

static json_t *
ctl_value_kind(const char *kind, json_t *payload)
{
	return json_pack("{s:o}", kind, payload);
}

static json_t *
ctl_value_from_json(json_t *native)
{
	json_t *list, *items, *elem;
	const char *key;
	char buf[32];
	size_t i;

	switch (json_typeof(native)) {
	case JSON_STRING:
		return ctl_value_kind("string", json_pack("{s:O}", "v",
		    native));
	case JSON_INTEGER:
		snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(native));
		return ctl_value_kind("integer", json_pack("{s:s}", "v", buf));
	case JSON_REAL:
		return ctl_value_kind("float", json_pack("{s:O}", "v", native));
	case JSON_TRUE:
	case JSON_FALSE:
		return ctl_value_kind("boolean", json_pack("{s:b}", "v",
		    json_is_true(native)));
	case JSON_ARRAY:
		list = json_array();
		json_array_foreach(native, i, elem)
			json_array_append_new(list, ctl_value_from_json(elem));
		return ctl_value_kind("list", json_pack("{s:o}", "vs", list));
	case JSON_OBJECT:
		items = json_array();
		json_object_foreach(native, key, elem)
			json_array_append_new(items, json_pack("{s:{s:{s:s}}, "
			    "s:o}", "k", "string", "v", key, "v",
			    ctl_value_from_json(elem)));
		return ctl_value_kind("dict", json_pack("{s:o}", "items",
		    items));
	case JSON_NULL:
	default:
		return ctl_value_kind("nothing", json_object());
	}
}

/* A Value as the daemon sends it -> native JSON (a new reference). */
static json_t *
ctl_value_to_json(json_t *value)
{
	json_t *kind = NULL, *v, *out, *elem, *k;
	const char *name = "", *s;
	char *end;
	long long n;
	size_t i;

	json_object_foreach(value, name, kind)
		break;
	if (kind == NULL)
		return json_null();
	v = json_object_get(kind, "v");
	if (strcmp(name, "string") == 0)
		return json_string(ctl_string(kind, "v"));
	if (strcmp(name, "integer") == 0) {
		if (json_is_integer(v))
			return json_incref(v);
		s = json_string_value(v) != NULL ? json_string_value(v) : "0";
		errno = 0;
		n = strtoll(s, &end, 10);
		return *end == '\0' && errno == 0 ? json_integer(n) :
		    json_string(s);
	}
	if (strcmp(name, "float") == 0)
		return json_real(json_number_value(v));
	if (strcmp(name, "boolean") == 0)
		return json_boolean(json_is_true(v));
	if (strcmp(name, "list") == 0) {
		out = json_array();
		json_array_foreach(json_object_get(kind, "vs"), i, elem)
			json_array_append_new(out, ctl_value_to_json(elem));
		return out;
	}
	if (strcmp(name, "dict") == 0) {
		out = json_object();
		json_array_foreach(json_object_get(kind, "items"), i, elem) {
			k = ctl_value_to_json(json_object_get(elem, "k"));
			if (json_is_string(k))
				json_object_set_new(out, json_string_value(k),
				    ctl_value_to_json(json_object_get(elem,
				    "v")));
			json_decref(k);
		}
		return out;
	}
	if (strcmp(name, "nothing") != 0)
		return json_incref(value);	/* a kind JSON cannot hold */
	return json_null();
}

/* ---- requests ---- */

/* {project_id: the project of -p} */
static int
ctl_value_request(struct ctl_context *ctx, json_t **request)
{
	int ret;

	*request = json_object();
	if (ctl_flag_value(ctx, "project") == NULL)
		ret = ctl_usage_error(ctx, "missing --project PROJECT");
	else
		ret = ctl_project_flag(ctx, *request, "project_id");
	if (ret != 0) {
		json_decref(*request);
		*request = NULL;
	}
	return ret;
}

/* Mutate KEY with operation and operands (native JSON, taken). */
static int
ctl_value_mutate(struct ctl_context *ctx, const char *key,
    const char *operation, json_t *operands, json_t **answer)
{
	json_t *request, *values = json_array(), *o;
	size_t i;
	int ret;

	json_array_foreach(operands, i, o)
		json_array_append_new(values, ctl_value_from_json(o));
	json_decref(operands);
	if ((ret = ctl_value_request(ctx, &request)) != 0) {
		json_decref(values);
		return ret;
	}
	json_object_set_new(request, "operation", json_string(operation));
	json_object_set_new(request, "operands", values);
	if ((ret = ctl_set_string(ctx, request, "key", key)) == 0)
		ret = ctl_call(ctx, CTL_STORE("Mutate"), request, answer);
	json_decref(request);
	return ret;
}

static void
ctl_value_print(json_t *native)
{
	char *text = json_dumps(native, JSON_COMPACT | JSON_ENCODE_ANY);

	printf("%s\n", text != NULL ? text : "null");
	free(text);
}

/* ---- the commands ---- */

static int
ctl_value_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer, *value, *native;
	int ret;

	(void)argc;
	if ((ret = ctl_value_request(ctx, &request)) != 0)
		return ret;
	json_object_set_new(request, "keys", json_array());
	if (json_array_append_new(json_object_get(request, "keys"),
	    json_string(argv[0])) != 0) {
		json_decref(request);
		return ctl_usage_error(ctx, "the key is not valid UTF-8");
	}
	ret = ctl_call(ctx, CTL_STORE("Get"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	value = json_object_get(json_object_get(answer, "values"), argv[0]);
	if (ctx->json)
		ctl_print_json(answer);
	else if (value != NULL) {
		native = ctl_value_to_json(value);
		ctl_value_print(native);
		json_decref(native);
	}
	if (value == NULL) {
		fprintf(stderr, "akctl: no value named \"%s\"\n", argv[0]);
		ret = CTL_EXIT_ERROR;
	}
	json_decref(answer);
	return ret;
}

static int
ctl_value_set_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *native = NULL, *answer;
	int ret;

	(void)argc;
	if (ctl_flag_value(ctx, "string") == NULL)
		native = json_loads(argv[1], JSON_DECODE_ANY, NULL);
	if (native == NULL && (native = json_string(argv[1])) == NULL)
		return ctl_usage_error(ctx, "the value is not valid UTF-8");
	ret = ctl_value_mutate(ctx, argv[0], "set", json_pack("[o]", native),
	    &answer);
	if (ret != 0)
		return ret;
	return ctl_print_done(ctx, answer, "set", argv[0]);
}

/* The keys, one a line. */
static void
ctl_value_keys(json_t *keys)
{
	json_t *k;
	size_t i;

	json_array_foreach(keys, i, k)
		printf("%s\n", json_string_value(k));
}

static int
ctl_value_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_value_request(ctx, &request)) != 0)
		return ret;
	ret = ctl_call(ctx, CTL_STORE("List"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_list(ctx, answer, "keys", "values", ctl_value_keys);
}

static int
ctl_value_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	ret = ctl_value_mutate(ctx, argv[0], "del", json_array(), &answer);
	if (ret != 0)
		return ret;
	return ctl_print_done(ctx, answer, "deleted", argv[0]);
}
