/*
 * ctl-trigger.c: "akctl trigger get|list" (TriggersService).
 *
 * Triggers are declared in the manifest and made by "akctl manifest
 * apply" or "akctl deploy"; here they are shown. A webhook trigger's URL
 * comes from the server in webhook_url (our addition to AutoKitteh's
 * Trigger), since only the server knows the address it is reached at.
 */
#include "akctl.h"

#include <string.h>

#define CTL_TRIGGER_SOURCE	"SOURCE_TYPE_"

static int ctl_trigger_get_exec(struct ctl_context *, int, char **);
static int ctl_trigger_list_exec(struct ctl_context *, int, char **);

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
	NULL
};

const struct ctl_command ctl_trigger_command = {
	.name = "trigger",
	.alias = "trg",
	.summary = "show and list triggers and webhook URLs",
	.help = "Show triggers, named by their IDs (trg_...). They are declared\n"
	    "in the project's manifest.\n",
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
	json_t *request, *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_check_id(ctx, argv[0], CTL_PREFIX_TRIGGER)) != 0)
		return ret;
	request = json_pack("{s:s}", "trigger_id", argv[0]);
	ret = ctl_call(ctx, CTL_TRIGGERS_GET, request, &answer);
	json_decref(request);
	if (ret != 0)
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
	json_t *request = json_object(), *answer, *triggers;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_project_flag(ctx, request, "project_id")) == 0)
		ret = ctl_call(ctx, CTL_TRIGGERS_LIST, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	triggers = json_object_get(answer, "triggers");
	if (ctx->json)
		ctl_print_json(answer);
	else if (json_array_size(triggers) == 0)
		printf("no triggers\n");
	else
		ctl_trigger_table(triggers);
	json_decref(answer);
	return CTL_EXIT_OK;
}
