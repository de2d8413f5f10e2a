/*
 * ctl-deployment.c: "akctl deployment create|activate|deactivate|test|get|
 * list|delete" (DeploymentsService).
 *
 * A deployment is a build of a project that triggers may start sessions
 * of. Activating one drains the project's other deployments: their
 * running sessions finish, new events go to the active one.
 */
#include "akctl.h"

#include <string.h>

#define CTL_DEPLOYMENT_STATE	"DEPLOYMENT_STATE_"

static int ctl_deployment_create_exec(struct ctl_context *, int, char **);
static int ctl_deployment_simple_exec(struct ctl_context *, int, char **);
static int ctl_deployment_get_exec(struct ctl_context *, int, char **);
static int ctl_deployment_list_exec(struct ctl_context *, int, char **);

static const char *const ctl_deployment_states[] = {
	"active", "testing", "draining", "inactive", NULL
};

static const struct ctl_flag ctl_deployment_create_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = "build", .short_name = 'b', .arg = "BUILD",
	  .help = "the build to deploy (bld_...; required)" },
	{ .name = "activate", .short_name = 'a',
	  .help = "activate it, draining the project's other deployments" },
	{ .name = NULL }
};

static const struct ctl_command ctl_deployment_create_command = {
	.name = "create",
	.summary = "create a deployment of a build",
	.help =
	    "Create a deployment of BUILD for PROJECT and print its ID. It is\n"
	    "inactive until activated, with --activate or 'akctl deployment\n"
	    "activate'.\n",
	.flags = ctl_deployment_create_flags,
	.exec = ctl_deployment_create_exec,
};

static const struct ctl_command ctl_deployment_activate_command = {
	.name = "activate",
	.args_usage = "ID",
	.summary = "activate a deployment, draining the others",
	.help =
	    "Activate the deployment with ID (dep_...): its triggers start\n"
	    "sessions from now on. The project's other deployments drain: their\n"
	    "sessions finish, then they become inactive.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_deployment_simple_exec,
};

static const struct ctl_command ctl_deployment_deactivate_command = {
	.name = "deactivate",
	.args_usage = "ID",
	.summary = "deactivate a deployment",
	.help =
	    "Deactivate the deployment with ID: it drains while it has running\n"
	    "sessions, then becomes inactive.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_deployment_simple_exec,
};

static const struct ctl_command ctl_deployment_test_command = {
	.name = "test",
	.args_usage = "ID",
	.summary = "put a deployment in the testing state",
	.help = "Put the deployment with ID in the testing state.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_deployment_simple_exec,
};

static const struct ctl_command ctl_deployment_get_command = {
	.name = "get",
	.args_usage = "ID",
	.summary = "show a deployment",
	.help = "Show the deployment with ID: its project, build, state and\n"
	    "times, and its sessions by state when the server counts them.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_deployment_get_exec,
};

static const struct ctl_flag ctl_deployment_list_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "only the deployments of PROJECT (a name or an ID)" },
	{ .name = "state", .short_name = 's', .arg = "STATE",
	  .help = "only those in STATE: active, testing, draining or "
	  "inactive" },
	{ .name = NULL }
};

static const struct ctl_command ctl_deployment_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list the deployments",
	.help = "List the deployments, oldest first, as a table of ID, PROJECT,\n"
	    "BUILD, STATE and CREATED.\n",
	.flags = ctl_deployment_list_flags,
	.exec = ctl_deployment_list_exec,
};

static const struct ctl_command ctl_deployment_delete_command = {
	.name = "delete",
	.args_usage = "ID",
	.summary = "delete a deployment",
	.help = "Delete the deployment with ID.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_deployment_simple_exec,
};

static const struct ctl_command *const ctl_deployment_commands[] = {
	&ctl_deployment_create_command,
	&ctl_deployment_activate_command,
	&ctl_deployment_deactivate_command,
	&ctl_deployment_test_command,
	&ctl_deployment_get_command,
	&ctl_deployment_list_command,
	&ctl_deployment_delete_command,
	NULL
};

const struct ctl_command ctl_deployment_command = {
	.name = "deployment",
	.alias = "dep",
	.summary = "create, activate, deactivate, list and delete deployments",
	.help = "Manage deployments, named by their IDs (dep_...). Each project\n"
	    "has at most one active deployment, whose triggers start sessions.\n",
	.subcommands = ctl_deployment_commands,
};

/* The commands that send {deployment_id} and print one word. */
static const struct {
	const struct ctl_command	*command;
	const char			*method;
	const char			*done;
} ctl_deployment_simple[] = {
	{ &ctl_deployment_activate_command, CTL_DEPLOYMENTS("Activate"),
	  "activated" },
	{ &ctl_deployment_deactivate_command, CTL_DEPLOYMENTS("Deactivate"),
	  "deactivated" },
	{ &ctl_deployment_test_command, CTL_DEPLOYMENTS("Test"), "testing" },
	{ &ctl_deployment_delete_command, CTL_DEPLOYMENTS("Delete"),
	  "deleted" },
};

/* DeploymentsService/Activate, for "akctl deploy" and create -a. */
int
ctl_deployment_activate(struct ctl_context *ctx, const char *id)
{
	json_t *request = json_pack("{s:s}", "deployment_id", id), *answer;
	int ret;

	ret = ctl_call(ctx, CTL_DEPLOYMENTS("Activate"), request, &answer);
	json_decref(request);
	json_decref(answer);
	return ret;
}

static int
ctl_deployment_create_request(struct ctl_context *ctx, json_t **request)
{
	const char *project = ctl_flag_value(ctx, "project");
	const char *build = ctl_flag_value(ctx, "build");
	char *project_id;
	int ret;

	*request = NULL;
	if (project == NULL)
		return ctl_usage_error(ctx, "missing --project PROJECT");
	if (build == NULL)
		return ctl_usage_error(ctx, "missing --build BUILD");
	if ((ret = ctl_check_id(ctx, build, CTL_PREFIX_BUILD)) != 0 ||
	    (ret = ctl_project_resolve(ctx, project, &project_id)) != 0)
		return ret;
	*request = json_pack("{s:{s:s, s:s}}", "deployment", "project_id",
	    project_id, "build_id", build);
	free(project_id);
	return 0;
}

static int
ctl_deployment_create_exec(struct ctl_context *ctx, int argc, char **argv)
{
	int activate = ctl_flag_value(ctx, "activate") != NULL, ret;
	json_t *request, *answer;
	const char *id;

	(void)argc;
	(void)argv;
	if ((ret = ctl_deployment_create_request(ctx, &request)) != 0)
		return ret;
	ret = ctl_call(ctx, CTL_DEPLOYMENTS("Create"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	id = ctl_string(answer, "deployment_id");
	if (activate && (ret = ctl_deployment_activate(ctx, id)) != 0)
		fprintf(stderr, "akctl: created %s, but did not activate it\n",
		    id);
	else if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s%s\n", id, activate ? " (active)" : "");
	json_decref(answer);
	return ret;
}

static int
ctl_deployment_simple_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	size_t i;
	int ret;

	(void)argc;
	for (i = 0; i < nitems(ctl_deployment_simple); i++) {
		if (ctl_deployment_simple[i].command == ctx->command)
			break;
	}
	if (i == nitems(ctl_deployment_simple))
		fatalx("%s: no method for %s", __func__, ctx->command_name);
	if ((ret = ctl_call_id(ctx, ctl_deployment_simple[i].method,
	    "deployment_id", CTL_PREFIX_DEPLOYMENT, argv[0], &answer)) != 0)
		return ret;
	return ctl_print_done(ctx, answer, ctl_deployment_simple[i].done,
	    argv[0]);
}

static void
ctl_deployment_print(json_t *deployment)
{
	json_t *stats, *stat;
	char state[64];
	size_t i;

	ctl_enum_short(ctl_string(deployment, "state"), CTL_DEPLOYMENT_STATE,
	    state, sizeof state);
	ctl_print_label("id", "%s", ctl_dash(ctl_string(deployment,
	    "deployment_id")));
	ctl_print_label("project", "%s", ctl_dash(ctl_string(deployment,
	    "project_id")));
	ctl_print_label("build", "%s", ctl_dash(ctl_string(deployment,
	    "build_id")));
	ctl_print_label("state", "%s", state);
	ctl_print_label("created", "%s", ctl_dash(ctl_string(deployment,
	    "created_at")));
	ctl_print_label("updated", "%s", ctl_dash(ctl_string(deployment,
	    "updated_at")));
	stats = json_object_get(deployment, "sessions_stats");
	json_array_foreach(stats, i, stat) {
		char label[80], count[32];

		ctl_enum_short(ctl_string(stat, "state"), "SESSION_STATE_TYPE_",
		    state, sizeof state);
		snprintf(label, sizeof label, "sessions %s", state);
		ctl_format_value(json_object_get(stat, "count"), count,
		    sizeof count);
		ctl_print_label(label, "%s", count);
	}
}

static int
ctl_deployment_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_call_id(ctx, CTL_DEPLOYMENTS("Get"), "deployment_id",
	    CTL_PREFIX_DEPLOYMENT, argv[0], &answer)) != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		ctl_deployment_print(json_object_get(answer, "deployment"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_deployment_list_request(struct ctl_context *ctx, json_t *request)
{
	const char *state = ctl_flag_value(ctx, "state");
	char *full;

	if (state != NULL) {
		if ((full = ctl_enum_parse(state, CTL_DEPLOYMENT_STATE,
		    ctl_deployment_states)) == NULL)
			return ctl_usage_error(ctx, "unknown state \"%s\": "
			    "expected active, testing, draining or inactive",
			    state);
		json_object_set_new(request, "state", json_string(full));
		free(full);
	}
	return ctl_project_flag(ctx, request, "project_id");
}

static void
ctl_deployment_table(json_t *deployments)
{
	struct ctl_table *table;
	json_t *deployment;
	char state[64];
	size_t i;

	table = ctl_table_new(5, "ID", "PROJECT", "BUILD", "STATE", "CREATED");
	json_array_foreach(deployments, i, deployment) {
		ctl_enum_short(ctl_string(deployment, "state"),
		    CTL_DEPLOYMENT_STATE, state, sizeof state);
		ctl_table_add(table, ctl_string(deployment, "deployment_id"),
		    ctl_string(deployment, "project_id"),
		    ctl_string(deployment, "build_id"), state,
		    ctl_string(deployment, "created_at"));
	}
	ctl_table_print(table);
}

static int
ctl_deployment_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request = json_object(), *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_deployment_list_request(ctx, request)) == 0)
		ret = ctl_call(ctx, CTL_DEPLOYMENTS("List"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_list(ctx, answer, "deployments", "deployments", ctl_deployment_table);
}
