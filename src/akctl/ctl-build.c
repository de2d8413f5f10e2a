/*
 * ctl-build.c: "akctl build get|list|delete|download", the builds of
 * projects (BuildsService).
 *
 * A build is made by "akctl project build" or "akctl deploy"; here it is
 * only shown, listed, deleted or downloaded. AutoKitteh's
 * BuildsService/List has no project filter, ours does: -p sends it and
 * also filters the answer here, so that either server gives the same.
 */
#include "akctl.h"

#include <string.h>

static int ctl_build_get_exec(struct ctl_context *, int, char **);
static int ctl_build_list_exec(struct ctl_context *, int, char **);
static int ctl_build_delete_exec(struct ctl_context *, int, char **);
static int ctl_build_download_exec(struct ctl_context *, int, char **);

static const struct ctl_command ctl_build_get_command = {
	.name = "get",
	.args_usage = "ID",
	.summary = "show a build",
	.help = "Show the build with ID (bld_...): its project and when it was\n"
	    "made.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_build_get_exec,
};

static const struct ctl_flag ctl_build_list_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "only the builds of PROJECT (a name or an ID)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_build_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list the builds",
	.help = "List the builds, oldest first, as a table of ID, PROJECT and\n"
	    "CREATED.\n",
	.flags = ctl_build_list_flags,
	.exec = ctl_build_list_exec,
};

static const struct ctl_command ctl_build_delete_command = {
	.name = "delete",
	.args_usage = "ID",
	.summary = "delete a build",
	.help = "Delete the build with ID.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_build_delete_exec,
};

static const struct ctl_flag ctl_build_download_flags[] = {
	{ .name = "output", .short_name = 'o', .arg = "FILE",
	  .help = "write to FILE, or to stdout if FILE is - "
	  "(default: ./ID.build)" },
	{ .name = "force", .short_name = 'f',
	  .help = "overwrite FILE if it exists" },
	{ .name = NULL }
};

static const struct ctl_command ctl_build_download_command = {
	.name = "download",
	.args_usage = "ID",
	.summary = "save a build's artifact to a file",
	.help = "Download the artifact of the build with ID and write it to\n"
	    "FILE, which must not exist unless --force is given.\n",
	.flags = ctl_build_download_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_build_download_exec,
};

static const struct ctl_command *const ctl_build_commands[] = {
	&ctl_build_get_command,
	&ctl_build_list_command,
	&ctl_build_delete_command,
	&ctl_build_download_command,
	NULL
};

const struct ctl_command ctl_build_command = {
	.name = "build",
	.alias = "bld",
	.summary = "show, list, delete and download builds",
	.help = "Manage builds, named by their IDs (bld_...). Builds are made\n"
	    "by 'akctl project build' and 'akctl deploy'.\n",
	.subcommands = ctl_build_commands,
};

/* {build_id: ID} for the commands that take one; NULL on a bad ID. */
static json_t *
ctl_build_request(struct ctl_context *ctx, const char *id, int *ret)
{
	if ((*ret = ctl_check_id(ctx, id, CTL_PREFIX_BUILD)) != 0)
		return NULL;
	return json_pack("{s:s}", "build_id", id);
}

static int
ctl_build_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer, *build;
	int ret;

	(void)argc;
	if ((request = ctl_build_request(ctx, argv[0], &ret)) == NULL)
		return ret;
	ret = ctl_call(ctx, CTL_BUILDS_GET, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	build = json_object_get(answer, "build");
	if (ctx->json)
		ctl_print_json(answer);
	else {
		ctl_print_label("id", "%s", ctl_dash(ctl_string(build,
		    "build_id")));
		ctl_print_label("project", "%s", ctl_dash(ctl_string(build,
		    "project_id")));
		ctl_print_label("created", "%s", ctl_dash(ctl_string(build,
		    "created_at")));
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}

/* Keep only the builds of project_id, in place. */
static void
ctl_build_filter(json_t *builds, const char *project_id)
{
	size_t i = 0;

	while (i < json_array_size(builds)) {
		if (strcmp(ctl_string(json_array_get(builds, i), "project_id"),
		    project_id) != 0)
			json_array_remove(builds, i);
		else
			i++;
	}
}

static void
ctl_build_table(json_t *builds)
{
	struct ctl_table *table;
	json_t *build;
	size_t i;

	table = ctl_table_new(3, "ID", "PROJECT", "CREATED");
	json_array_foreach(builds, i, build)
		ctl_table_add(table, ctl_string(build, "build_id"),
		    ctl_string(build, "project_id"),
		    ctl_string(build, "created_at"));
	ctl_table_print(table);
}

static int
ctl_build_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *filter = json_object(), *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_project_flag(ctx, filter, "project_id")) != 0 ||
	    (ret = ctl_call(ctx, CTL_BUILDS_LIST, filter, &answer)) != 0) {
		json_decref(filter);
		return ret;
	}
	if (json_object_get(filter, "project_id") != NULL)
		ctl_build_filter(json_object_get(answer, "builds"),
		    ctl_string(filter, "project_id"));
	json_decref(filter);
	return ctl_print_list(ctx, answer, "builds", "builds", ctl_build_table);
}

static int
ctl_build_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	if ((request = ctl_build_request(ctx, argv[0], &ret)) == NULL)
		return ret;
	ret = ctl_call(ctx, CTL_BUILDS_DELETE, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_done(ctx, answer, "deleted", argv[0]);
}

static int
ctl_build_save(struct ctl_context *ctx, const char *id, json_t *answer)
{
	const char *output = ctl_flag_value(ctx, "output");
	char *path = NULL;
	void *data;
	size_t len;
	int ret = 0;

	if ((data = ctl_base64_decode(ctl_string(answer, "data"),
	    &len)) == NULL) {
		fprintf(stderr, "akctl: unexpected answer from autokittehd: "
		    "the build's data is not base64\n");
		return CTL_EXIT_ERROR;
	}
	if (output != NULL && strcmp(output, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len)
			ret = CTL_EXIT_ERROR;	/* main() says so */
	} else {
		if (output == NULL)
			xasprintf(&path, "%s.build", id);
		if (ctl_write_file(path != NULL ? path : output, data, len,
		    ctl_flag_value(ctx, "force") != NULL) != 0)
			ret = CTL_EXIT_ERROR;
		else if (!ctx->json)
			printf("wrote %zu bytes to %s\n", len,
			    path != NULL ? path : output);
	}
	free(path);
	free(data);
	return ret;
}

static int
ctl_build_download_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	if ((request = ctl_build_request(ctx, argv[0], &ret)) == NULL)
		return ret;
	ret = ctl_call(ctx, CTL_BUILDS_DOWNLOAD, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json && ctl_flag_value(ctx, "output") == NULL)
		ctl_print_json(answer);
	else
		ret = ctl_build_save(ctx, argv[0], answer);
	json_decref(answer);
	return ret;
}
