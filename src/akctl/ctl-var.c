/*
 * ctl-var.c: "akctl var set|get|delete", a project's variables
 * (VarsService). Sessions see them as environment variables.
 *
 * Secret values are masked in what akctl prints, as text and as JSON,
 * unless --reveal is given: a terminal's scrollback is not a vault. The
 * daemon itself answers them as "" unless the request says reveal (as
 * AutoKitteh's VarsService does), so without --reveal they never leave it.
 */
#include "akctl.h"

#include <string.h>

#define CTL_VAR_MASK	"********"

static int ctl_var_set_exec(struct ctl_context *, int, char **);
static int ctl_var_get_exec(struct ctl_context *, int, char **);
static int ctl_var_delete_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_var_set_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = "connection", .short_name = 'c', .arg = "ID",
	  .help = "the connection (con_...), instead of a project" },
	{ .name = "secret", .short_name = 's',
	  .help = "the value is a secret: masked when shown" },
	{ .name = "description", .arg = "TEXT",
	  .help = "what the variable is for" },
	{ .name = NULL }
};

static const struct ctl_command ctl_var_set_command = {
	.name = "set",
	.args_usage = "NAME VALUE",
	.summary = "set a project variable",
	.help = "Set the variable NAME of PROJECT to VALUE, creating it or\n"
	    "replacing it. Note that the next 'akctl deploy' or 'akctl manifest\n"
	    "apply' deletes variables that the manifest does not declare.\n",
	.flags = ctl_var_set_flags,
	.args_min = 2,
	.args_max = 2,
	.exec = ctl_var_set_exec,
};

static const struct ctl_flag ctl_var_get_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = "connection", .short_name = 'c', .arg = "ID",
	  .help = "the connection (con_...), instead of a project" },
	{ .name = "reveal",
	  .help = "show secret values instead of " CTL_VAR_MASK },
	{ .name = NULL }
};

static const struct ctl_command ctl_var_get_command = {
	.name = "get",
	.args_usage = "[NAME ...]",
	.summary = "show project variables",
	.help = "Show the variables NAME of PROJECT, or all of them, as a table\n"
	    "of NAME, VALUE, SECRET and DESCRIPTION. Secret values are shown as\n"
	    CTL_VAR_MASK " unless --reveal is given. Exit 1 if a NAME is not\n"
	    "set.\n",
	.flags = ctl_var_get_flags,
	.args_max = 1000,
	.exec = ctl_var_get_exec,
};

static const struct ctl_flag ctl_var_delete_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "the project (a name or an ID; required)" },
	{ .name = "connection", .short_name = 'c', .arg = "ID",
	  .help = "the connection (con_...), instead of a project" },
	{ .name = NULL }
};

static const struct ctl_command ctl_var_delete_command = {
	.name = "delete",
	.args_usage = "NAME ...",
	.summary = "delete project variables",
	.help = "Delete the variables NAME of PROJECT.\n",
	.flags = ctl_var_delete_flags,
	.args_min = 1,
	.args_max = 1000,
	.exec = ctl_var_delete_exec,
};

static const struct ctl_command *const ctl_var_commands[] = {
	&ctl_var_set_command,
	&ctl_var_get_command,
	&ctl_var_delete_command,
	NULL
};

const struct ctl_command ctl_var_command = {
	.name = "var",
	.summary = "set, show and delete project variables and secrets",
	.help = "Manage a project's variables, which its sessions read as\n"
	    "environment variables. Every subcommand needs -p PROJECT.\n",
	.subcommands = ctl_var_commands,
};

/* {scope_id: the project of -p or the connection of -c, names: [argv...]} */
static int
ctl_var_request(struct ctl_context *ctx, int argc, char **argv,
    json_t **request)
{
	json_t *names = json_array();
	int ret;

	*request = json_object();
	json_object_set_new(*request, "names", names);
	for (int i = 0; i < argc; i++) {
		if (json_array_append_new(names, json_string(argv[i])) != 0) {
			ret = ctl_usage_error(ctx, "a name is not valid UTF-8");
			goto fail;
		}
	}
	if (ctl_flag_value(ctx, "connection") != NULL) {
		const char *con = ctl_flag_value(ctx, "connection");

		if (ctl_flag_value(ctx, "project") != NULL) {
			ret = ctl_usage_error(ctx, "--project and --connection "
			    "exclude each other");
			goto fail;
		}
		if ((ret = ctl_check_id(ctx, con, "con")) != 0)
			goto fail;
		json_object_set_new(*request, "scope_id", json_string(con));
		return 0;
	}
	if (ctl_flag_value(ctx, "project") == NULL) {
		ret = ctl_usage_error(ctx, "missing --project PROJECT (or "
		    "--connection ID)");
		goto fail;
	}
	if ((ret = ctl_project_flag(ctx, *request, "scope_id")) != 0)
		goto fail;
	return 0;
fail:
	json_decref(*request);
	*request = NULL;
	return ret;
}

static int
ctl_var_set_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *description = ctl_flag_value(ctx, "description");
	json_t *request, *var, *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_var_request(ctx, 0, NULL, &request)) != 0)
		return ret;
	var = json_pack("{s:O, s:b}", "scope_id",
	    json_object_get(request, "scope_id"), "is_secret",
	    ctl_flag_value(ctx, "secret") != NULL);
	if ((ret = ctl_set_string(ctx, var, "name", argv[0])) == 0 &&
	    (ret = ctl_set_string(ctx, var, "value", argv[1])) == 0 &&
	    (description == NULL || (ret = ctl_set_string(ctx, var,
	    "description", description)) == 0)) {
		json_decref(request);
		request = json_pack("{s:[o]}", "vars", var);
		var = NULL;
		ret = ctl_call(ctx, CTL_VARS_SET, request, &answer);
	}
	json_decref(var);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_done(ctx, answer, "set", argv[0]);
}

/* Mask the secret values, unless --reveal; as text and as JSON. */
static void
ctl_var_mask(struct ctl_context *ctx, json_t *vars)
{
	json_t *var;
	size_t i;

	if (ctl_flag_value(ctx, "reveal") != NULL)
		return;
	json_array_foreach(vars, i, var) {
		if (json_is_true(json_object_get(var, "is_secret")))
			json_object_set_new(var, "value",
			    json_string(CTL_VAR_MASK));
	}
}

/* 0 if every name asked for is in vars, else 1 after saying which not. */
static int
ctl_var_missing(json_t *vars, int argc, char **argv)
{
	json_t *var;
	size_t i;
	int ret = 0, found;

	for (int a = 0; a < argc; a++) {
		found = 0;
		json_array_foreach(vars, i, var) {
			if (strcmp(ctl_string(var, "name"), argv[a]) == 0)
				found = 1;
		}
		if (!found) {
			fprintf(stderr, "akctl: no variable named \"%s\"\n",
			    argv[a]);
			ret = CTL_EXIT_ERROR;
		}
	}
	return ret;
}

static void
ctl_var_table(json_t *vars)
{
	struct ctl_table *table;
	json_t *var;
	size_t i;

	table = ctl_table_new(4, "NAME", "VALUE", "SECRET", "DESCRIPTION");
	json_array_foreach(vars, i, var)
		ctl_table_add(table, ctl_string(var, "name"),
		    ctl_string(var, "value"),
		    json_is_true(json_object_get(var, "is_secret")) ? "yes" :
		    "no", ctl_string(var, "description"));
	ctl_table_print(table);
}

static int
ctl_var_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer, *vars;
	int ret;

	if ((ret = ctl_var_request(ctx, argc, argv, &request)) != 0)
		return ret;
	if (ctl_flag_value(ctx, "reveal") != NULL)
		json_object_set_new(request, "reveal", json_true());
	ret = ctl_call(ctx, CTL_VARS_GET, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	vars = json_object_get(answer, "vars");
	ctl_var_mask(ctx, vars);
	if (ctx->json)
		ctl_print_json(answer);
	else if (json_array_size(vars) == 0 && argc == 0)
		printf("no variables\n");
	else if (json_array_size(vars) != 0)
		ctl_var_table(vars);
	ret = ctl_var_missing(vars, argc, argv);
	json_decref(answer);
	return ret;
}

static int
ctl_var_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	if ((ret = ctl_var_request(ctx, argc, argv, &request)) != 0)
		return ret;
	ret = ctl_call(ctx, CTL_VARS_DELETE, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else {
		for (int i = 0; i < argc; i++)
			printf("deleted %s\n", argv[i]);
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}
