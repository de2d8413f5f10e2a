/*
 * ctl-event.c: "akctl event get|list" (EventsService), what triggers
 * received.
 *
 * Events are asked for with json_values=true, so each Value of an event's
 * data is a string of native JSON: "get" parses them back into one JSON
 * object and prints it indented. List answers carry no data.
 */
#include "akctl.h"

#include <string.h>

static int ctl_event_get_exec(struct ctl_context *, int, char **);
static int ctl_event_list_exec(struct ctl_context *, int, char **);

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
	NULL
};

const struct ctl_command ctl_event_command = {
	.name = "event",
	.alias = "evt",
	.summary = "show and list the events triggers received",
	.help = "Show events, named by their IDs (evt_...): what webhooks,\n"
	    "schedules and connections delivered to triggers.\n",
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
	json_t *request = json_object(), *answer, *events;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_event_list_options(ctx, request)) == 0 &&
	    (ret = ctl_project_flag(ctx, request, "project_id")) == 0)
		ret = ctl_call(ctx, CTL_EVENTS_LIST, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	events = json_object_get(answer, "events");
	if (ctx->json)
		ctl_print_json(answer);
	else if (json_array_size(events) == 0)
		printf("no events\n");
	else
		ctl_event_table(events);
	json_decref(answer);
	return CTL_EXIT_OK;
}
