/*
 * ctl-trigger.c: "akctl trigger get|list|create|delete" (TriggersService).
 *
 * Triggers are declared in the manifest and made by "akctl manifest
 * apply" or "akctl deploy", or made here one at a time (a later manifest
 * apply deletes those the manifest does not declare). A webhook trigger's URL
 * comes from the server in webhook_url (our addition to AutoKitteh's
 * Trigger), since only the server knows the address it is reached at.
 */
#include "akctl.h"

#include <stdlib.h>
#include <string.h>

#define CTL_TRIGGER_SOURCE	"SOURCE_TYPE_"

static int ctl_trigger_get_exec(struct ctl_context *, int, char **);
static int ctl_trigger_list_exec(struct ctl_context *, int, char **);
static int ctl_trigger_create_exec(struct ctl_context *, int, char **);
static int ctl_trigger_delete_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_trigger_create_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the trigger's project (a name or an ID; required)" },
	{ .name = "name", .short_name = 'n', .arg = "NAME",
	  .help = "the trigger's name, unique in the project (required)" },
	{ .name = "loc", .short_name = 'l', .arg = "FILE:FUNC",
	  .help = "the function to call (without it the trigger only feeds "
	  "subscriptions)" },
	{ .name = "webhook", .short_name = 'w',
	  .help = "a webhook trigger" },
	{ .name = "schedule", .short_name = 's', .arg = "CRON",
	  .help = "a schedule trigger: \"*/5 * * * *\", @daily, @every 10m" },
	{ .name = "connection", .short_name = 'c', .arg = "CONNECTION_ID",
	  .help = "a connection trigger on CONNECTION_ID (con_...)" },
	{ .name = "timezone", .short_name = 'z', .arg = "TZ",
	  .help = "the schedule's time zone (default UTC)" },
	{ .name = "event-type", .short_name = 'E', .arg = "TYPE",
	  .help = "only events of TYPE" },
	{ .name = "filter", .short_name = 'f', .arg = "EXPR",
	  .help = "only events for which the CEL filter EXPR is true" },
	{ .name = "durable", .help = "durable sessions" },
	{ .name = "sync", .help = "a synchronous webhook" },
	{ .name = NULL }
};

static const struct ctl_command ctl_trigger_create_command = {
	.name = "create",
	.summary = "create a trigger",
	.help = "Create a webhook (-w), schedule (-s) or connection (-c)\n"
	    "trigger in a project and print its ID (and, for a webhook, its\n"
	    "URL).\n",
	.flags = ctl_trigger_create_flags,
	.exec = ctl_trigger_create_exec,
};

static const struct ctl_command ctl_trigger_delete_command = {
	.name = "delete",
	.args_usage = "ID",
	.summary = "delete a trigger",
	.help = "Delete the trigger with ID (trg_...) and its vars. Its events\n"
	    "and sessions stay.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_trigger_delete_exec,
};

static const struct ctl_command ctl_trigger_get_command = {
	.name = "get",
	.args_usage = "ID",
	.summary = "show a trigger",
	.help = "Show the trigger with ID (trg_...): its name, type, the\n"
	    "function it calls, its event type and filter, and its schedule,\n"
	    "connection or webhook slug and URL.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_trigger_get_exec,
};

static const struct ctl_flag ctl_trigger_list_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "only the triggers of PROJECT (a name or an ID)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_trigger_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list the triggers, with the webhooks' URLs",
	.help = "List the triggers as a table of ID, NAME, TYPE (webhook,\n"
	    "schedule or connection), CALL (file:function) and, for webhooks,\n"
	    "SLUG and URL.\n",
	.flags = ctl_trigger_list_flags,
	.exec = ctl_trigger_list_exec,
};

static const struct ctl_command *const ctl_trigger_commands[] = {
	&ctl_trigger_get_command,
	&ctl_trigger_list_command,
	&ctl_trigger_create_command,
	&ctl_trigger_delete_command,
	NULL
};

const struct ctl_command ctl_trigger_command = {
	.name = "trigger",
	.alias = "trg",
	.summary = "show, list, create and delete triggers",
	.help = "Show triggers, named by their IDs (trg_...), and the webhooks'\n"
	    "URLs. They are declared in the project's manifest, or created\n"
	    "here.\n",
	.subcommands = ctl_trigger_commands,
};

static void
ctl_trigger_label(json_t *trigger, const char *label, const char *key)
{
	const char *value = ctl_string(trigger, key);

	if (*value != '\0')
		ctl_print_label(label, "%s", value);
}

static void
ctl_trigger_print(json_t *trigger)
{
	char type[64], *call;

	ctl_enum_short(ctl_string(trigger, "source_type"), CTL_TRIGGER_SOURCE,
	    type, sizeof type);
	call = ctl_code_location(json_object_get(trigger, "code_location"));
	ctl_print_label("id", "%s", ctl_dash(ctl_string(trigger,
	    "trigger_id")));
	ctl_print_label("name", "%s", ctl_dash(ctl_string(trigger, "name")));
	ctl_print_label("type", "%s", type);
	ctl_print_label("project", "%s", ctl_dash(ctl_string(trigger,
	    "project_id")));
	ctl_print_label("call", "%s", call);
	ctl_trigger_label(trigger, "event type", "event_type");
	ctl_trigger_label(trigger, "filter", "filter");
	ctl_trigger_label(trigger, "schedule", "schedule");
	ctl_trigger_label(trigger, "timezone", "timezone");
	ctl_trigger_label(trigger, "connection", "connection_id");
	ctl_trigger_label(trigger, "slug", "webhook_slug");
	ctl_trigger_label(trigger, "url", "webhook_url");
	ctl_print_label("durable", "%s", json_is_true(json_object_get(trigger,
	    "is_durable")) ? "yes" : "no");
	if (strcmp(type, "webhook") == 0)
		ctl_print_label("sync", "%s", json_is_true(
		    json_object_get(trigger, "is_sync")) ? "yes" : "no");
	free(call);
}

static int
ctl_trigger_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_call_id(ctx, CTL_TRIGGERS_GET, "trigger_id",
	    CTL_PREFIX_TRIGGER, argv[0], &answer)) != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		ctl_trigger_print(json_object_get(answer, "trigger"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

static void
ctl_trigger_table(json_t *triggers)
{
	struct ctl_table *table;
	json_t *trigger;
	char type[64], *call;
	int webhook;
	size_t i;

	table = ctl_table_new(6, "ID", "NAME", "TYPE", "CALL", "SLUG", "URL");
	json_array_foreach(triggers, i, trigger) {
		ctl_enum_short(ctl_string(trigger, "source_type"),
		    CTL_TRIGGER_SOURCE, type, sizeof type);
		webhook = strcmp(type, "webhook") == 0;
		call = ctl_code_location(json_object_get(trigger,
		    "code_location"));
		ctl_table_add(table, ctl_string(trigger, "trigger_id"),
		    ctl_string(trigger, "name"), type, call,
		    webhook ? ctl_string(trigger, "webhook_slug") : NULL,
		    webhook ? ctl_string(trigger, "webhook_url") : NULL);
		free(call);
	}
	ctl_table_print(table);
}

static int
ctl_trigger_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request = json_object(), *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_project_flag(ctx, request, "project_id")) == 0)
		ret = ctl_call(ctx, CTL_TRIGGERS_LIST, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_list(ctx, answer, "triggers", "triggers", ctl_trigger_table);
}

static int
ctl_trigger_create_request(struct ctl_context *ctx, json_t *t)
{
	const char *name = ctl_flag_value(ctx, "name");
	const char *loc = ctl_flag_value(ctx, "loc");
	const char *schedule = ctl_flag_value(ctx, "schedule");
	const char *conn = ctl_flag_value(ctx, "connection");
	const char *tz = ctl_flag_value(ctx, "timezone");
	const char *type = ctl_flag_value(ctx, "event-type");
	const char *filter = ctl_flag_value(ctx, "filter");
	int webhook = ctl_flag_value(ctx, "webhook") != NULL, ret;
	const char *colon;
	char *path;

	if (ctl_flag_value(ctx, "project") == NULL)
		return ctl_usage_error(ctx, "give the project: -p PROJECT");
	if (name == NULL)
		return ctl_usage_error(ctx, "give the trigger's name: -n NAME");
	if (webhook + (schedule != NULL) + (conn != NULL) != 1)
		return ctl_usage_error(ctx, "give one of -w (webhook), -s CRON "
		    "(schedule) and -c CONNECTION_ID (connection)");
	if (tz != NULL && schedule == NULL)
		return ctl_usage_error(ctx, "--timezone goes with --schedule");
	if (ctl_flag_value(ctx, "sync") != NULL && !webhook)
		return ctl_usage_error(ctx, "--sync goes with --webhook");
	if ((ret = ctl_project_flag(ctx, t, "project_id")) != 0 ||
	    (ret = ctl_set_string(ctx, t, "name", name)) != 0)
		return ret;
	json_object_set_new(t, "source_type", json_string(webhook ?
	    "SOURCE_TYPE_WEBHOOK" : schedule != NULL ? "SOURCE_TYPE_SCHEDULE" :
	    "SOURCE_TYPE_CONNECTION"));
	if (loc != NULL) {
		colon = strrchr(loc, ':');
		if (colon == NULL || colon == loc || colon[1] == '\0')
			return ctl_usage_error(ctx, "--loc is FILE:FUNC, such "
			    "as program.py:on_event, not \"%s\"", loc);
		path = xstrndup(loc, (size_t)(colon - loc));
		json_object_set_new(t, "code_location", json_pack("{s:s, s:s}",
		    "path", path, "name", colon + 1));
		free(path);
	}
	if ((schedule != NULL && (ret = ctl_set_string(ctx, t, "schedule",
	    schedule)) != 0) || (tz != NULL && (ret = ctl_set_string(ctx, t,
	    "timezone", tz)) != 0) || (type != NULL && (ret =
	    ctl_set_string(ctx, t, "event_type", type)) != 0) ||
	    (filter != NULL && (ret = ctl_set_string(ctx, t, "filter",
	    filter)) != 0))
		return ret;
	if (conn != NULL) {
		if ((ret = ctl_check_id(ctx, conn, CTL_PREFIX_CONNECTION)) != 0)
			return ret;
		json_object_set_new(t, "connection_id", json_string(conn));
	}
	json_object_set_new(t, "is_durable", json_boolean(ctl_flag_value(ctx,
	    "durable") != NULL));
	json_object_set_new(t, "is_sync", json_boolean(ctl_flag_value(ctx,
	    "sync") != NULL));
	return 0;
}

static int
ctl_trigger_create_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *t = json_object(), *request, *answer, *got = NULL;
	const char *id;
	int ret;

	(void)argc;
	(void)argv;
	request = json_pack("{s:o}", "trigger", t);
	if ((ret = ctl_trigger_create_request(ctx, t)) == 0)
		ret = ctl_call(ctx, CTL_TRIGGERS_CREATE, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	id = ctl_string(answer, "trigger_id");
	if (ctx->json)
		ctl_print_json(answer);
	else {
		printf("%s\n", id);
		/* A webhook's URL, which only the server knows. */
		request = json_pack("{s:s}", "trigger_id", id);
		if (ctl_call_quiet(ctx, CTL_TRIGGERS_GET, request, &got) == 0) {
			const char *url = ctl_string(json_object_get(got,
			    "trigger"), "webhook_url");

			if (*url != '\0')
				printf("%s\n", url);
			json_decref(got);
		}
		json_decref(request);
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_trigger_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_call_id(ctx, CTL_TRIGGERS_DELETE, "trigger_id",
	    CTL_PREFIX_TRIGGER, argv[0], &answer)) != 0)
		return ret;
	return ctl_print_done(ctx, answer, "deleted", argv[0]);
}
