/*
 * ctl-event.c: "akctl event get|list|save|dispatch|redispatch|
 * verify-filter" (EventsService, DispatcherService and our
 * SystemService/VerifyFilter), what triggers received.
 *
 * save and dispatch send the data with json_values: true, each value a
 * String Value of native JSON: -d KEY=VALUE takes VALUE as JSON when it
 * parses as JSON, else as a string; -f FILE.json gives a JSON object.
 *
 * Events are asked for with json_values=true, so each Value of an event's
 * data is a string of native JSON: "get" parses them back into one JSON
 * object and prints it indented. List answers carry no data.
 */
#include "akctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int ctl_event_get_exec(struct ctl_context *, int, char **);
static int ctl_event_list_exec(struct ctl_context *, int, char **);
static int ctl_event_save_exec(struct ctl_context *, int, char **);
static int ctl_event_redispatch_exec(struct ctl_context *, int, char **);
static int ctl_event_verify_filter_exec(struct ctl_context *, int, char **);

#define CTL_EVENT_SEND_FLAGS \
	{ .name = "trigger", .short_name = 't', .arg = "TRIGGER_ID", \
	  .help = "the event's destination: the trigger TRIGGER_ID" }, \
	{ .name = "connection", .short_name = 'c', .arg = "CONNECTION_ID", \
	  .help = "the event's destination: the connection CONNECTION_ID" }, \
	{ .name = "event-type", .short_name = 'e', .arg = "TYPE", \
	  .help = "the event's type (required)" }, \
	{ .name = "data", .short_name = 'd', .arg = "KEY=VALUE", \
	  .help = "a data field; VALUE is JSON, or else a string; more " \
	  "KEY=VALUE may follow as arguments" }, \
	{ .name = "file", .short_name = 'f', .arg = "FILE.json", \
	  .help = "the data as a JSON object read from FILE.json" }

static const struct ctl_flag ctl_event_save_flags[] = {
	CTL_EVENT_SEND_FLAGS,
	{ .name = NULL }
};

static const struct ctl_flag ctl_event_dispatch_flags[] = {
	CTL_EVENT_SEND_FLAGS,
	{ .name = "deployment", .arg = "DEPLOYMENT",
	  .help = "only to DEPLOYMENT (dep_..., ACTIVE or TESTING)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_event_save_command = {
	.name = "save",
	.args_usage = "[KEY=VALUE ...]",
	.summary = "save an event without dispatching it",
	.help = "Save an event for a trigger (-t) or a connection (-c), of type\n"
	    "-e, with the data given by -f and -d (and KEY=VALUE arguments),\n"
	    "and print its ID. A saved event starts no session.\n",
	.flags = ctl_event_save_flags,
	.args_max = 64,
	.exec = ctl_event_save_exec,
};

static const struct ctl_command ctl_event_dispatch_command = {
	.name = "dispatch",
	.args_usage = "[KEY=VALUE ...]",
	.summary = "save an event and dispatch it to its triggers",
	.help = "Save an event as 'akctl event save' does and dispatch it: each\n"
	    "matching trigger starts a session on its project's ACTIVE\n"
	    "deployment, or, with --deployment, on that deployment only (the\n"
	    "way to reach a TESTING deployment). Print the event's ID.\n",
	.flags = ctl_event_dispatch_flags,
	.args_max = 64,
	.exec = ctl_event_save_exec,
};

static const struct ctl_flag ctl_event_redispatch_flags[] = {
	{ .name = "deployment", .arg = "DEPLOYMENT",
	  .help = "only to DEPLOYMENT (dep_..., ACTIVE or TESTING)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_event_redispatch_command = {
	.name = "redispatch",
	.args_usage = "ID",
	.summary = "dispatch an event again, as a new event",
	.help = "Send the event ID (evt_...) again: a new event with the same\n"
	    "destination, type and data is saved and dispatched. Print the new\n"
	    "event's ID.\n",
	.flags = ctl_event_redispatch_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_event_redispatch_exec,
};

static const struct ctl_command ctl_event_verify_filter_command = {
	.name = "verify-filter",
	.alias = "vf",
	.args_usage = "EXPR",
	.summary = "check that a trigger filter compiles",
	.help = "Check the CEL filter EXPR with the daemon's compiler. Print\n"
	    "\"ok\" and exit 0 if it compiles; else print why and exit 1.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_event_verify_filter_exec,
};

static const struct ctl_command ctl_event_get_command = {
	.name = "get",
	.args_usage = "ID",
	.summary = "show an event and its data",
	.help = "Show the event with ID (evt_...): its type, destination (the\n"
	    "trigger or connection it came to), creation time, sequence number,\n"
	    "memo and its data as indented JSON.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_event_get_exec,
};

static const struct ctl_flag ctl_event_list_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "only the events of PROJECT (a name or an ID)" },
	{ .name = "trigger", .short_name = 't', .arg = "TRIGGER_ID",
	  .help = "only the events that came to the trigger TRIGGER_ID" },
	{ .name = "event-type", .short_name = 'e', .arg = "TYPE",
	  .help = "only the events of TYPE (post, get, ...)" },
	{ .name = "max-results", .short_name = 'n', .arg = "MAX",
	  .help = "at most MAX events" },
	{ .name = "order", .short_name = 'o', .arg = "ORDER",
	  .help = "asc (oldest first) or desc (newest first)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_event_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list events",
	.help = "List the events as a table of ID, TYPE, DESTINATION and\n"
	    "CREATED. Use 'akctl event get' for an event's data.\n",
	.flags = ctl_event_list_flags,
	.exec = ctl_event_list_exec,
};

static const struct ctl_command *const ctl_event_commands[] = {
	&ctl_event_get_command,
	&ctl_event_list_command,
	&ctl_event_save_command,
	&ctl_event_dispatch_command,
	&ctl_event_redispatch_command,
	&ctl_event_verify_filter_command,
	NULL
};

const struct ctl_command ctl_event_command = {
	.name = "event",
	.alias = "evt",
	.summary = "show, list, save and dispatch events",
	.help = "Show events, named by their IDs (evt_...): what webhooks,\n"
	    "schedules and connections delivered to triggers; save, dispatch\n"
	    "and redispatch events by hand; check filters.\n",
	.subcommands = ctl_event_commands,
};

/* The event's data, {key: Value}, as one JSON object, indented. */
static void
ctl_event_print_data(json_t *data)
{
	json_t *native = json_object(), *value;
	const char *key;
	char *text;

	json_object_foreach(data, key, value)
		json_object_set_new(native, key, ctl_value_json(value));
	text = json_dumps(native, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("data\n");
	ctl_print_indented(text != NULL ? text : "?", 2);
	free(text);
	json_decref(native);
}

static void
ctl_event_print(json_t *event)
{
	json_t *memo = json_object_get(event, "memo"), *value;
	const char *key;
	char seq[32], label[80];

	ctl_format_value(json_object_get(event, "seq"), seq, sizeof seq);
	ctl_print_label("id", "%s", ctl_dash(ctl_string(event, "event_id")));
	ctl_print_label("type", "%s", ctl_dash(ctl_string(event,
	    "event_type")));
	ctl_print_label("destination", "%s", ctl_dash(ctl_string(event,
	    "destination_id")));
	ctl_print_label("created", "%s", ctl_dash(ctl_string(event,
	    "created_at")));
	ctl_print_label("seq", "%s", json_object_get(event, "seq") != NULL ?
	    seq : "0");
	json_object_foreach(memo, key, value) {
		snprintf(label, sizeof label, "memo %s", key);
		ctl_print_label(label, "%s", ctl_string(memo, key));
	}
	ctl_event_print_data(json_object_get(event, "data"));
}

static int
ctl_event_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_check_id(ctx, argv[0], CTL_PREFIX_EVENT)) != 0)
		return ret;
	request = json_pack("{s:s, s:b}", "event_id", argv[0], "json_values",
	    1);
	ret = ctl_call(ctx, CTL_EVENTS_GET, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		ctl_event_print(json_object_get(answer, "event"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

/* The options that need no call: -t, -e, -n and -o. */
static int
ctl_event_list_options(struct ctl_context *ctx, json_t *request)
{
	const char *trigger = ctl_flag_value(ctx, "trigger");
	const char *type = ctl_flag_value(ctx, "event-type");
	const char *max = ctl_flag_value(ctx, "max-results");
	const char *order = ctl_flag_value(ctx, "order");
	json_int_t n;
	int ret;

	if (trigger != NULL) {
		if ((ret = ctl_check_id(ctx, trigger, CTL_PREFIX_TRIGGER)) != 0)
			return ret;
		json_object_set_new(request, "destination_id",
		    json_string(trigger));
	}
	if (type != NULL && (ret = ctl_set_string(ctx, request, "event_type",
	    type)) != 0)
		return ret;
	if (max != NULL) {
		if ((ret = ctl_parse_count(ctx, "--max-results", max, &n)) != 0)
			return ret;
		json_object_set_new(request, "max_results", json_integer(n));
	}
	if (order != NULL) {
		if (strcasecmp(order, "asc") != 0 &&
		    strcasecmp(order, "desc") != 0)
			return ctl_usage_error(ctx, "--order is asc or desc, "
			    "not \"%s\"", order);
		json_object_set_new(request, "order", json_string(
		    strcasecmp(order, "asc") == 0 ? "ASC" : "DESC"));
	}
	return 0;
}

static void
ctl_event_table(json_t *events)
{
	struct ctl_table *table;
	json_t *event;
	size_t i;

	table = ctl_table_new(4, "ID", "TYPE", "DESTINATION", "CREATED");
	json_array_foreach(events, i, event)
		ctl_table_add(table, ctl_string(event, "event_id"),
		    ctl_string(event, "event_type"),
		    ctl_string(event, "destination_id"),
		    ctl_string(event, "created_at"));
	ctl_table_print(table);
}

static int
ctl_event_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request = json_object(), *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_event_list_options(ctx, request)) == 0 &&
	    (ret = ctl_project_flag(ctx, request, "project_id")) == 0)
		ret = ctl_call(ctx, CTL_EVENTS_LIST, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_list(ctx, answer, "events", "events", ctl_event_table);
}

/* KEY=VALUE into data: VALUE as JSON if it parses, else a string. */
static int
ctl_event_data_pair(struct ctl_context *ctx, json_t *data, const char *pair)
{
	const char *eq = strchr(pair, '=');
	json_t *value;
	char *key;

	if (eq == NULL || eq == pair)
		return ctl_usage_error(ctx, "data is KEY=VALUE, not \"%s\"",
		    pair);
	key = xstrndup(pair, (size_t)(eq - pair));
	value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	if (value == NULL)
		value = json_string(eq + 1);
	if (value == NULL) {
		free(key);
		return ctl_usage_error(ctx, "the value of %s is not valid "
		    "UTF-8", pair);
	}
	json_object_set_new(data, key, value);
	free(key);
	return 0;
}

/* {key: native} -> {key: {"string": {"v": JSON text}}} (json_values). */
static json_t *
ctl_event_values(json_t *data)
{
	json_t *out = json_object(), *value;
	const char *key;
	char *text;

	json_object_foreach(data, key, value) {
		text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
		json_object_set_new(out, key, json_pack("{s:{s:s}}", "string",
		    "v", text != NULL ? text : "null"));
		free(text);
	}
	return out;
}

static int
ctl_event_send_request(struct ctl_context *ctx, int argc, char **argv,
    json_t *event)
{
	const char *trigger = ctl_flag_value(ctx, "trigger");
	const char *conn = ctl_flag_value(ctx, "connection");
	const char *type = ctl_flag_value(ctx, "event-type");
	const char *pair = ctl_flag_value(ctx, "data");
	const char *file = ctl_flag_value(ctx, "file");
	json_t *data = NULL;
	json_error_t error;
	int ret;

	if ((trigger == NULL) == (conn == NULL))
		return ctl_usage_error(ctx, "give the destination: -t "
		    "TRIGGER_ID or -c CONNECTION_ID");
	if (trigger != NULL && (ret = ctl_check_id(ctx, trigger,
	    CTL_PREFIX_TRIGGER)) != 0)
		return ret;
	if (conn != NULL && (ret = ctl_check_id(ctx, conn,
	    CTL_PREFIX_CONNECTION)) != 0)
		return ret;
	if (type == NULL || *type == '\0')
		return ctl_usage_error(ctx, "give the event type: -e TYPE");
	if (file != NULL) {
		data = json_load_file(file, 0, &error);
		if (data == NULL) {
			fprintf(stderr, "akctl: %s:%d: %s\n", file, error.line,
			    error.text);
			return CTL_EXIT_ERROR;
		}
		if (!json_is_object(data)) {
			json_decref(data);
			fprintf(stderr, "akctl: %s: the data must be a JSON "
			    "object\n", file);
			return CTL_EXIT_ERROR;
		}
	} else
		data = json_object();
	ret = pair != NULL ? ctl_event_data_pair(ctx, data, pair) : 0;
	for (int i = 0; ret == 0 && i < argc; i++)
		ret = ctl_event_data_pair(ctx, data, argv[i]);
	if (ret == 0)
		ret = ctl_set_string(ctx, event, "event_type", type);
	if (ret == 0) {
		json_object_set_new(event, "destination_id", json_string(
		    trigger != NULL ? trigger : conn));
		json_object_set_new(event, "data", ctl_event_values(data));
	}
	json_decref(data);
	return ret;
}

static int
ctl_event_print_id(struct ctl_context *ctx, json_t *answer)
{
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s\n", ctl_string(answer, "event_id"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_event_deployment(struct ctl_context *ctx, json_t *request)
{
	const char *deployment = ctl_flag_value(ctx, "deployment");
	int ret;

	if (deployment == NULL)
		return 0;
	if ((ret = ctl_check_id(ctx, deployment, CTL_PREFIX_DEPLOYMENT)) != 0)
		return ret;
	json_object_set_new(request, "deployment_id", json_string(deployment));
	return 0;
}

/* save and dispatch. */
static int
ctl_event_save_exec(struct ctl_context *ctx, int argc, char **argv)
{
	int dispatch = strcmp(ctx->command->name, "dispatch") == 0, ret;
	json_t *event = json_object(), *request, *answer;

	request = json_pack("{s:o, s:b}", "event", event, "json_values", 1);
	if ((ret = ctl_event_send_request(ctx, argc, argv, event)) == 0 &&
	    (!dispatch || (ret = ctl_event_deployment(ctx, request)) == 0))
		ret = ctl_call(ctx, dispatch ? CTL_DISPATCHER("Dispatch") :
		    CTL_EVENTS_SAVE, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_event_print_id(ctx, answer);
}

static int
ctl_event_redispatch_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_check_id(ctx, argv[0], CTL_PREFIX_EVENT)) != 0)
		return ret;
	request = json_pack("{s:s}", "event_id", argv[0]);
	if ((ret = ctl_event_deployment(ctx, request)) == 0)
		ret = ctl_call(ctx, CTL_DISPATCHER("Redispatch"), request,
		    &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_event_print_id(ctx, answer);
}

static int
ctl_event_verify_filter_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request = json_object(), *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_set_string(ctx, request, "filter", argv[0])) == 0)
		ret = ctl_call(ctx, CTL_SYSTEM_VERIFY_FILTER, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("ok\n");
	json_decref(answer);
	return CTL_EXIT_OK;
}
