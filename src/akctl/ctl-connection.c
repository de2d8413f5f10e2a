/*
 * ctl-connection.c: "akctl connection create|get|list|test|status|delete"
 * (ConnectionsService).
 *
 * A connection ties a project to an integration (github, http); its
 * settings are variables scoped to it (the manifest's connections[].vars,
 * or VarsService with the connection id as scope). Status codes are shown
 * without AutoKitteh's CODE_ prefix: ok, warning, error.
 */
#include "akctl.h"

#include <stdlib.h>
#include <string.h>

#define CTL_CONNECTIONS(method)	CTL_AK("connections", "ConnectionsService", \
				    method)
#define CTL_PREFIX_CONNECTION	"con"
#define CTL_STATUS_CODE		"CODE_"

static int ctl_connection_create_exec(struct ctl_context *, int, char **);
static int ctl_connection_get_exec(struct ctl_context *, int, char **);
static int ctl_connection_list_exec(struct ctl_context *, int, char **);
static int ctl_connection_test_exec(struct ctl_context *, int, char **);
static int ctl_connection_status_exec(struct ctl_context *, int, char **);
static int ctl_connection_delete_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_connection_create_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = "integration", .short_name = 'i', .arg = "INTEGRATION",
	  .help = "the integration: github or http (required)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_connection_create_command = {
	.name = "create",
	.args_usage = "NAME",
	.summary = "create a connection",
	.help = "Create the connection NAME (letters, digits, underscores) of\n"
	    "PROJECT to INTEGRATION and print its ID. Set its variables (pat,\n"
	    "webhook_secret; base_url, auth_header) with VarsService or in the\n"
	    "manifest. Note that 'akctl deploy' deletes the project's\n"
	    "connections that its manifest does not declare.\n",
	.flags = ctl_connection_create_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_connection_create_exec,
};

static const struct ctl_command ctl_connection_get_command = {
	.name = "get",
	.args_usage = "ID",
	.summary = "show a connection",
	.help = "Show the connection ID (con_...): its name, integration,\n"
	    "project and status.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_connection_get_exec,
};

static const struct ctl_flag ctl_connection_list_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "only the connections of PROJECT (a name or an ID)" },
	{ .name = "integration", .short_name = 'i', .arg = "INTEGRATION",
	  .help = "only the connections to INTEGRATION" },
	{ .name = NULL }
};

static const struct ctl_command ctl_connection_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list the connections",
	.help = "List the connections as a table of ID, NAME, INTEGRATION,\n"
	    "PROJECT and STATUS.\n",
	.flags = ctl_connection_list_flags,
	.exec = ctl_connection_list_exec,
};

static const struct ctl_command ctl_connection_test_command = {
	.name = "test",
	.args_usage = "ID",
	.summary = "test a connection",
	.help = "Run the integration's test of the connection ID and print its\n"
	    "status and message. Exit 1 if the test fails. autokittehd makes\n"
	    "no outgoing calls: a github test checks that the pat variable is\n"
	    "set and looks like a GitHub token, not that GitHub accepts it.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_connection_test_exec,
};

static const struct ctl_command ctl_connection_status_command = {
	.name = "status",
	.args_usage = "ID",
	.summary = "refresh and show a connection's status",
	.help = "Ask the integration for the status of the connection ID, from\n"
	    "its variables (RefreshStatus), and print it: ok, or warning with\n"
	    "\"init required\" when the variables it needs are not set.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_connection_status_exec,
};

static const struct ctl_command ctl_connection_delete_command = {
	.name = "delete",
	.alias = "rm",
	.args_usage = "ID",
	.summary = "delete a connection",
	.help = "Delete the connection ID with its variables and the triggers\n"
	    "that use it.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_connection_delete_exec,
};

static const struct ctl_command *const ctl_connection_commands[] = {
	&ctl_connection_create_command,
	&ctl_connection_get_command,
	&ctl_connection_list_command,
	&ctl_connection_test_command,
	&ctl_connection_status_command,
	&ctl_connection_delete_command,
	NULL
};

const struct ctl_command ctl_connection_command = {
	.name = "connection",
	.alias = "con",
	.summary = "create, list, test and delete connections",
	.help = "Manage connections, named by their IDs (con_...): a project's\n"
	    "link to an integration (github, http), configured by variables\n"
	    "scoped to the connection.\n",
	.subcommands = ctl_connection_commands,
};

static void
ctl_connection_status_text(json_t *status, char *buf, size_t size)
{
	ctl_enum_short(ctl_string(status, "code"), CTL_STATUS_CODE, buf, size);
	if (*buf == '\0')
		snprintf(buf, size, "unspecified");
}

/* A ConnectionsService method called with {connection_id: id}. */
static int
ctl_connection_id(struct ctl_context *ctx, const char *method, const char *id,
    json_t **answer)
{
	return ctl_call_id(ctx, method, "connection_id", CTL_PREFIX_CONNECTION,
	    id, answer);
}

static int
ctl_connection_create_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *integration = ctl_flag_value(ctx, "integration");
	json_t *request, *connection, *answer;
	int ret;

	(void)argc;
	if (ctl_flag_value(ctx, "project") == NULL)
		return ctl_usage_error(ctx, "-p PROJECT is required");
	if (integration == NULL)
		return ctl_usage_error(ctx, "-i INTEGRATION is required");
	connection = json_object();
	if ((ret = ctl_set_string(ctx, connection, "name", argv[0])) != 0 ||
	    (ret = ctl_set_string(ctx, connection, "integration_id",
	    integration)) != 0 ||
	    (ret = ctl_project_flag(ctx, connection, "project_id")) != 0) {
		json_decref(connection);
		return ret;
	}
	request = json_pack("{s:o}", "connection", connection);
	ret = ctl_call(ctx, CTL_CONNECTIONS("Create"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s\n", ctl_string(answer, "connection_id"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_connection_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer, *c, *status;
	char code[32];
	int ret;

	(void)argc;
	if ((ret = ctl_connection_id(ctx, CTL_CONNECTIONS("Get"), argv[0],
	    &answer)) != 0)
		return ret;
	c = json_object_get(answer, "connection");
	status = json_object_get(c, "status");
	if (ctx->json)
		ctl_print_json(answer);
	else {
		ctl_connection_status_text(status, code, sizeof code);
		ctl_print_label("id", "%s", ctl_dash(ctl_string(c,
		    "connection_id")));
		ctl_print_label("name", "%s", ctl_dash(ctl_string(c, "name")));
		ctl_print_label("integration", "%s", ctl_dash(ctl_string(c,
		    "integration_id")));
		ctl_print_label("project", "%s", ctl_dash(ctl_string(c,
		    "project_id")));
		ctl_print_label("status", "%s", code);
		if (*ctl_string(status, "message") != '\0')
			ctl_print_label("message", "%s", ctl_string(status,
			    "message"));
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}

static void
ctl_connection_table(json_t *connections)
{
	struct ctl_table *table;
	json_t *c;
	char code[32];
	size_t i;

	table = ctl_table_new(5, "ID", "NAME", "INTEGRATION", "PROJECT",
	    "STATUS");
	json_array_foreach(connections, i, c) {
		ctl_connection_status_text(json_object_get(c, "status"), code,
		    sizeof code);
		ctl_table_add(table, ctl_string(c, "connection_id"),
		    ctl_string(c, "name"), ctl_string(c, "integration_id"),
		    ctl_string(c, "project_id"), code);
	}
	ctl_table_print(table);
}

static int
ctl_connection_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *integration = ctl_flag_value(ctx, "integration");
	json_t *request = json_object(), *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_project_flag(ctx, request, "project_id")) == 0 &&
	    (integration == NULL || (ret = ctl_set_string(ctx, request,
	    "integration_id", integration)) == 0))
		ret = ctl_call(ctx, CTL_CONNECTIONS("List"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_list(ctx, answer, "connections", "connections",
	    ctl_connection_table);
}

/* Print {status}; 1 when its code is not CODE_OK. */
static int
ctl_connection_print_status(struct ctl_context *ctx, json_t *answer)
{
	json_t *status = json_object_get(answer, "status");
	const char *message = ctl_string(status, "message");
	char code[32];

	ctl_connection_status_text(status, code, sizeof code);
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s%s%s\n", code, *message != '\0' ? ": " : "",
		    message);
	return strcmp(ctl_string(status, "code"), "CODE_OK") == 0 ?
	    CTL_EXIT_OK : CTL_EXIT_ERROR;
}

static int
ctl_connection_test_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_connection_id(ctx, CTL_CONNECTIONS("Test"), argv[0],
	    &answer)) != 0)
		return ret;
	ret = ctl_connection_print_status(ctx, answer);
	json_decref(answer);
	return ret;
}

static int
ctl_connection_status_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_connection_id(ctx, CTL_CONNECTIONS("RefreshStatus"),
	    argv[0], &answer)) != 0)
		return ret;
	ctl_connection_print_status(ctx, answer);
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_connection_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_connection_id(ctx, CTL_CONNECTIONS("Delete"), argv[0],
	    &answer)) != 0)
		return ret;
	return ctl_print_done(ctx, answer, "deleted", argv[0]);
}
