/*
 * ctl-project.c: "akctl project create|get|list|delete|download|build",
 * and how every command names a project.
 *
 * Wherever akctl takes a project, it takes a name or a prj_ ID: names are
 * resolved with ProjectsService/Get {name}, which answers an empty object
 * when there is no such project. The build step is here too, as
 * ProjectsService/Build answers a failed build in its "error" field, not
 * as an RPC error, and "akctl deploy" shares it.
 */
#include "akctl.h"

#include <sys/stat.h>

#include <errno.h>
#include <string.h>

static int ctl_project_create_exec(struct ctl_context *, int, char **);
static int ctl_project_get_exec(struct ctl_context *, int, char **);
static int ctl_project_list_exec(struct ctl_context *, int, char **);
static int ctl_project_delete_exec(struct ctl_context *, int, char **);
static int ctl_project_download_exec(struct ctl_context *, int, char **);
static int ctl_project_build_exec(struct ctl_context *, int, char **);

static const struct ctl_command ctl_project_create_command = {
	.name = "create",
	.args_usage = "NAME",
	.summary = "create an empty project",
	.help =
	    "Create a project named NAME (letters, digits and underscores) and\n"
	    "print its ID. Most projects are created by 'akctl deploy' or\n"
	    "'akctl manifest apply' instead.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_project_create_exec,
};

static const struct ctl_command ctl_project_get_command = {
	.name = "get",
	.args_usage = "NAME_OR_ID",
	.summary = "show a project",
	.help = "Show the project with that name or ID (prj_...).\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_project_get_exec,
};

static const struct ctl_command ctl_project_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list the projects",
	.help = "List the projects, as a table of ID and NAME.\n",
	.exec = ctl_project_list_exec,
};

static const struct ctl_command ctl_project_delete_command = {
	.name = "delete",
	.args_usage = "NAME_OR_ID",
	.summary = "delete a project",
	.help =
	    "Delete the project with that name or ID, with its variables and\n"
	    "triggers.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_project_delete_exec,
};

static const struct ctl_flag ctl_project_download_flags[] = {
	{ .name = "output", .short_name = 'o', .arg = "DIR",
	  .help = "write the files under DIR (default: ./NAME)" },
	{ .name = "force", .short_name = 'f',
	  .help = "overwrite files that exist" },
	{ .name = NULL }
};

static const struct ctl_command ctl_project_download_command = {
	.name = "download",
	.args_usage = "NAME_OR_ID",
	.summary = "write a project's uploaded files into a directory",
	.help =
	    "Download the files last uploaded to the project (by 'akctl\n"
	    "deploy') and write them under DIR, by default a directory named\n"
	    "after the project in the current directory. Nothing is written if\n"
	    "any of the files exists, unless --force is given.\n",
	.flags = ctl_project_download_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_project_download_exec,
};

static const struct ctl_command ctl_project_build_command = {
	.name = "build",
	.args_usage = "NAME_OR_ID",
	.summary = "build a project's uploaded files",
	.help =
	    "Build the files last uploaded to the project and print the new\n"
	    "build's ID. When the build fails (a syntax error, a missing\n"
	    "entry point), print why on stderr and exit 1.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_project_build_exec,
};

static const struct ctl_command *const ctl_project_commands[] = {
	&ctl_project_create_command,
	&ctl_project_get_command,
	&ctl_project_list_command,
	&ctl_project_delete_command,
	&ctl_project_download_command,
	&ctl_project_build_command,
	NULL
};

const struct ctl_command ctl_project_command = {
	.name = "project",
	.alias = "prj",
	.summary = "create, show, list, delete, download and build projects",
	.help =
	    "Manage projects. A project is named by its name or its ID\n"
	    "(prj_...).\n",
	.subcommands = ctl_project_commands,
};

/* GetResponse {project} for a name or an ID; 1 if there is none. */
static int
ctl_project_get(struct ctl_context *ctx, const char *name_or_id,
    json_t **answer)
{
	int by_id = ctl_looks_like_id(name_or_id, CTL_PREFIX_PROJECT);
	json_t *request = json_object();
	int ret;

	*answer = NULL;
	if (by_id && (ret = ctl_check_id(ctx, name_or_id,
	    CTL_PREFIX_PROJECT)) != 0) {
		json_decref(request);
		return ret;
	}
	if ((ret = ctl_set_string(ctx, request, by_id ? "project_id" : "name",
	    name_or_id)) == 0)
		ret = ctl_call(ctx, CTL_PROJECTS_GET, request, answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (*ctl_string(json_object_get(*answer, "project"), "project_id") ==
	    '\0') {
		fprintf(stderr, "akctl: no project %s \"%s\"\n",
		    by_id ? "with ID" : "named", name_or_id);
		json_decref(*answer);
		*answer = NULL;
		return CTL_EXIT_ERROR;
	}
	return 0;
}

/* The ID of a project named by its name or ID: an ID needs no call. */
int
ctl_project_resolve(struct ctl_context *ctx, const char *name_or_id,
    char **project_id)
{
	json_t *answer;
	int ret;

	*project_id = NULL;
	if (ctl_looks_like_id(name_or_id, CTL_PREFIX_PROJECT)) {
		if ((ret = ctl_check_id(ctx, name_or_id,
		    CTL_PREFIX_PROJECT)) != 0)
			return ret;
		*project_id = xstrdup(name_or_id);
		return 0;
	}
	if ((ret = ctl_project_get(ctx, name_or_id, &answer)) != 0)
		return ret;
	*project_id = xstrdup(ctl_string(json_object_get(answer, "project"),
	    "project_id"));
	json_decref(answer);
	return 0;
}

/* request[key] = the ID of -p/--project, if the command was given it. */
int
ctl_project_flag(struct ctl_context *ctx, json_t *request, const char *key)
{
	const char *project = ctl_flag_value(ctx, "project");
	char *project_id;
	int ret;

	if (project == NULL)
		return 0;
	if ((ret = ctl_project_resolve(ctx, project, &project_id)) != 0)
		return ret;
	json_object_set_new(request, key, json_string(project_id));
	free(project_id);
	return 0;
}

static void
ctl_project_build_failed(json_t *error)
{
	char *message = ctl_value_text(json_object_get(error, "value"));
	const char *text = message;
	size_t len;

	fprintf(stderr, "akctl: build failed:\n");
	if (*text == '\0')
		text = "(the server gave no reason)";
	while (*text != '\0') {
		len = strcspn(text, "\n");
		fprintf(stderr, "  %.*s\n", (int)len, text);
		text += len;
		if (*text == '\n')
			text++;
	}
	free(message);
}

/*
 * ProjectsService/Build. Return 0 with *answer holding build_id; or 1
 * with *answer holding the error, after printing it; or the exit code of
 * a failed call, with *answer NULL.
 */
int
ctl_project_build(struct ctl_context *ctx, const char *project_id,
    json_t **answer)
{
	json_t *request = json_pack("{s:s}", "project_id", project_id);
	json_t *error;
	int ret;

	ret = ctl_call(ctx, CTL_PROJECTS_BUILD, request, answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	error = json_object_get(*answer, "error");
	if (json_object_size(error) != 0) {
		ctl_project_build_failed(error);
		return CTL_EXIT_ERROR;
	}
	if (*ctl_string(*answer, "build_id") == '\0') {
		fprintf(stderr, "akctl: unexpected answer from autokittehd: "
		    "no build_id\n");
		return CTL_EXIT_ERROR;
	}
	return 0;
}

/*
 * ProjectsService/Create {project: {name}}: 0 with *answer holding
 * project_id, else the exit code after saying why.
 */
int
ctl_project_create(struct ctl_context *ctx, const char *name,
    json_t **answer)
{
	json_t *request = json_object(), *project = json_object();
	int ret;

	*answer = NULL;
	json_object_set_new(request, "project", project);
	if ((ret = ctl_set_string(ctx, project, "name", name)) == 0)
		ret = ctl_call(ctx, CTL_PROJECTS_CREATE, request, answer);
	json_decref(request);
	return ret;
}

static int
ctl_project_create_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_project_create(ctx, argv[0], &answer)) != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s\n", ctl_string(answer, "project_id"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_project_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer, *project;
	int ret;

	(void)argc;
	if ((ret = ctl_project_get(ctx, argv[0], &answer)) != 0)
		return ret;
	project = json_object_get(answer, "project");
	if (ctx->json)
		ctl_print_json(answer);
	else {
		ctl_print_label("id", "%s", ctl_string(project, "project_id"));
		ctl_print_label("name", "%s",
		    ctl_dash(ctl_string(project, "name")));
		if (*ctl_string(project, "display_name") != '\0')
			ctl_print_label("display name", "%s",
			    ctl_string(project, "display_name"));
		if (*ctl_string(project, "org_id") != '\0')
			ctl_print_label("org", "%s",
			    ctl_string(project, "org_id"));
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}

static void
ctl_project_table(json_t *projects)
{
	struct ctl_table *table;
	json_t *project;
	size_t i;

	table = ctl_table_new(2, "ID", "NAME");
	json_array_foreach(projects, i, project)
		ctl_table_add(table, ctl_string(project, "project_id"),
		    ctl_string(project, "name"));
	ctl_table_print(table);
}

static int
ctl_project_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_call(ctx, CTL_PROJECTS_LIST, NULL, &answer)) != 0)
		return ret;
	return ctl_print_list(ctx, answer, "projects", "projects",
	    ctl_project_table);
}

static int
ctl_project_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	char *project_id;
	int ret;

	(void)argc;
	if ((ret = ctl_project_resolve(ctx, argv[0], &project_id)) != 0)
		return ret;
	request = json_pack("{s:s}", "project_id", project_id);
	ret = ctl_call(ctx, CTL_PROJECTS_DELETE, request, &answer);
	json_decref(request);
	if (ret == 0 && ctx->json)
		ctl_print_json(answer);
	else if (ret == 0)
		printf("deleted %s\n", project_id);
	json_decref(answer);
	free(project_id);
	return ret;
}

/* A resource's path must stay under the directory: relative, no "..". */
static int
ctl_project_path_ok(const char *path)
{
	const char *p = path;
	size_t len;

	if (*path == '\0' || *path == '/')
		return 0;
	while (*p != '\0') {
		len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += len;
		if (*p == '/' && *++p == '\0')
			return 0;
	}
	return 1;
}

/* mkdir -p of file's parents, refusing symlinks on the way. */
static int
ctl_project_make_parents(const char *file)
{
	char *path = xstrdup(file), *slash = path;
	struct stat sb;
	int ret = 0;

	while (ret == 0 && (slash = strchr(slash + 1, '/')) != NULL) {
		*slash = '\0';
		if (lstat(path, &sb) != 0 && errno == ENOENT) {
			if (mkdir(path, 0755) != 0 && errno != EEXIST) {
				fprintf(stderr, "akctl: cannot create %s: %s\n",
				    path, strerror(errno));
				ret = -1;
			}
		} else if (!S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "akctl: %s is not a directory\n", path);
			ret = -1;
		}
		*slash = '/';
	}
	free(path);
	return ret;
}

/* Check every resource before writing any: paths, base64, overwrites. */
static int
ctl_project_check_resources(json_t *resources, const char *dir, int force)
{
	const char *name;
	json_t *content;
	struct stat sb;
	char *path;
	int exists;

	json_object_foreach(resources, name, content) {
		if (!ctl_project_path_ok(name) || !json_is_string(content)) {
			fprintf(stderr, "akctl: the server sent a file with a "
			    "path akctl will not write: \"%s\"\n", name);
			return -1;
		}
		xasprintf(&path, "%s/%s", dir, name);
		exists = lstat(path, &sb) == 0;
		if (exists && !force)
			fprintf(stderr, "akctl: %s exists; use --force to "
			    "overwrite it\n", path);
		free(path);
		if (exists && !force)
			return -1;
	}
	return 0;
}

static int
ctl_project_write_resources(json_t *resources, const char *dir, int force)
{
	const char *name;
	json_t *content;
	size_t len;
	char *path;
	void *data;
	int ret = 0;

	json_object_foreach(resources, name, content) {
		if ((data = ctl_base64_decode(json_string_value(content),
		    &len)) == NULL) {
			fprintf(stderr, "akctl: the server sent %s in bad "
			    "base64\n", name);
			return -1;
		}
		xasprintf(&path, "%s/%s", dir, name);
		ret = ctl_project_make_parents(path);
		if (ret == 0)
			ret = ctl_write_file(path, data, len, force);
		free(path);
		free(data);
		if (ret != 0)
			return -1;
	}
	return 0;
}

static int
ctl_project_save(json_t *resources, const char *dir, int force)
{
	if (ctl_project_check_resources(resources, dir, force) != 0)
		return -1;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "akctl: cannot create %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	return ctl_project_write_resources(resources, dir, force);
}

static void
ctl_project_print_download(struct ctl_context *ctx, json_t *resources,
    const char *dir)
{
	json_t *files = json_array(), *out, *content;
	const char *name;

	if (!ctx->json) {
		printf("wrote %zu files to %s\n", json_object_size(resources),
		    dir);
		json_decref(files);
		return;
	}
	json_object_foreach(resources, name, content)
		json_array_append_new(files, json_string(name));
	out = json_pack("{s:s, s:o}", "directory", dir, "files", files);
	ctl_print_json(out);
	json_decref(out);
}

static int
ctl_project_download_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *dir = ctl_flag_value(ctx, "output");
	int force = ctl_flag_value(ctx, "force") != NULL, ret;
	json_t *project, *request, *answer;
	const char *project_id;
	json_t *resources;

	(void)argc;
	if ((ret = ctl_project_get(ctx, argv[0], &project)) != 0)
		return ret;
	project_id = ctl_string(json_object_get(project, "project"),
	    "project_id");
	if (dir == NULL)
		dir = ctl_dash(ctl_string(json_object_get(project, "project"),
		    "name"));
	request = json_pack("{s:s}", "project_id", project_id);
	ret = ctl_call(ctx, CTL_PROJECTS_DOWNLOAD_RESOURCES, request, &answer);
	json_decref(request);
	if (ret == 0) {
		resources = json_object_get(answer, "resources");
		if (ctl_project_save(resources, dir, force) != 0)
			ret = CTL_EXIT_ERROR;
		else
			ctl_project_print_download(ctx, resources, dir);
	}
	json_decref(answer);
	json_decref(project);
	return ret;
}

static int
ctl_project_build_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	char *project_id;
	int ret;

	(void)argc;
	if ((ret = ctl_project_resolve(ctx, argv[0], &project_id)) != 0)
		return ret;
	ret = ctl_project_build(ctx, project_id, &answer);
	if (answer != NULL && ctx->json)
		ctl_print_json(answer);
	else if (ret == 0)
		printf("%s\n", ctl_string(answer, "build_id"));
	json_decref(answer);
	free(project_id);
	return ret;
}
