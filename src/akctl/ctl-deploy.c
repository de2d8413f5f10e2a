/*
 * ctl-deploy.c: "akctl deploy", a project directory to an active
 * deployment in one command, as AutoKitteh's "ak deploy".
 *
 * The steps: plan the manifest (ApplyService/Apply with dry_run, which
 * validates it and says whether the project exists); create the project
 * alone if it does not (ProjectsService/Create), so that files can be
 * uploaded to it; upload the files of the directory
 * (ProjectsService/SetResources, path -> base64); build them
 * (ProjectsService/Build); apply the manifest with the new build's ID
 * (ApplyService/Apply with build_id), which the server refuses, changing
 * nothing, when a trigger calls a function the build lacks; create and
 * activate a deployment (DeploymentsService/Create, Activate, which
 * drains the previous one); then list the project's triggers to print the
 * webhooks' URLs. Each step stops the command when it fails and says why.
 * Until the manifest is applied, the running project (its triggers, its
 * variables, its active deployment) is as it was: a bad manifest, a failed
 * build or a call the build lacks leave it alone.
 */
#include "akctl.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_DEPLOY_FILES_MAX	1000
#define CTL_DEPLOY_BYTES_MAX	(8 * 1024 * 1024)
#define CTL_DEPLOY_DEPTH_MAX	32

static int ctl_deploy_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_deploy_flags[] = {
	{ .name = "manifest", .short_name = 'm', .arg = "FILE",
	  .help = "the manifest (default: ./" CTL_DEFAULT_MANIFEST ")" },
	{ .name = "dir", .short_name = 'd', .arg = "DIR",
	  .help = "upload the files under DIR (default: the manifest's "
	  "directory)" },
	{ .name = "project-name", .short_name = 'n', .arg = "NAME",
	  .help = "use NAME instead of the manifest's project.name" },
	{ .name = NULL }
};

const struct ctl_command ctl_deploy_command = {
	.name = "deploy",
	.summary = "apply a manifest, upload, build, deploy and activate",
	.help =
	    "Deploy a project from its directory, in the steps of 'ak deploy':\n"
	    "check the manifest against the server without applying it; create\n"
	    "the project (its name only) if it does not exist; upload the files\n"
	    "under DIR; build them; apply the manifest (print its log lines),\n"
	    "which fails, changing nothing, if a trigger calls a function the\n"
	    "build lacks; create a deployment of the build and activate it,\n"
	    "which drains the project's previous deployment; and print the\n"
	    "URLs of its webhook triggers. Until the manifest is applied the\n"
	    "project's triggers, variables and active deployment are left as\n"
	    "they were.\n"
	    "\n"
	    "Files and directories whose names start with '.' or '_' (.git,\n"
	    "__pycache__) are skipped at any depth, and so is the manifest.\n"
	    "Symbolic links are followed only when they stay under DIR. At\n"
	    "most 1000 files and 8 MiB are uploaded.\n"
	    "\n"
	    "Output: lines \"project ID\", \"build ID\", \"deployment ID\n"
	    "(active)\" and \"webhook NAME URL\"; with -j one object\n"
	    "{project_id, build_id, deployment_id, webhooks: [{name, url}]},\n"
	    "the manifest's log lines going to stderr. A failed build prints\n"
	    "\"akctl: build failed:\" and the reasons on stderr and exits 1.\n",
	.flags = ctl_deploy_flags,
	.exec = ctl_deploy_exec,
};

/* The files being collected, as SetResources' map path -> base64. */
struct ctl_deploy_files {
	const char	*dir;		/* as given */
	char		*root;		/* its real path */
	struct stat	 manifest;	/* to skip it */
	json_t		*resources;
	size_t		 count;
	size_t		 bytes;
};

static int ctl_deploy_walk(struct ctl_deploy_files *, const char *relative,
    int depth);

/* "dir/a.py", the manifest's own directory by default. */
static char *
ctl_deploy_default_dir(const char *manifest)
{
	const char *slash = strrchr(manifest, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == manifest)
		return xstrdup("/");
	return xstrndup(manifest, (size_t)(slash - manifest));
}

static int
ctl_deploy_read_file(struct ctl_deploy_files *files, const char *path,
    const char *relative, off_t size)
{
	char *data, *text;
	ssize_t n;
	int fd;

	if (files->count + 1 > CTL_DEPLOY_FILES_MAX ||
	    (uint64_t)size > CTL_DEPLOY_BYTES_MAX - files->bytes) {
		fprintf(stderr, "akctl: deploy: more than %s to upload under "
		    "%s; give a smaller --dir, or start the names of what to "
		    "skip with '.' or '_'\n",
		    files->count + 1 > CTL_DEPLOY_FILES_MAX ? "1000 files" :
		    "8 MiB of files", files->dir);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "akctl: cannot open %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	data = xmalloc((size_t)size + 1);
	n = read(fd, data, (size_t)size + 1);
	close(fd);
	if (n != (ssize_t)size) {
		fprintf(stderr, "akctl: cannot read %s: %s\n", path,
		    n < 0 ? strerror(errno) : "it changed while being read");
		free(data);
		return -1;
	}
	text = ctl_base64_encode(data, (size_t)size);
	free(data);
	if (json_object_set_new(files->resources, relative,
	    json_string(text)) != 0) {
		fprintf(stderr, "akctl: deploy: the file name %s is not valid "
		    "UTF-8\n", path);
		free(text);
		return -1;
	}
	free(text);
	files->count++;
	files->bytes += (size_t)size;
	return 0;
}

/* A symbolic link may point anywhere under DIR, but not out of it. */
static int
ctl_deploy_check_link(struct ctl_deploy_files *files, const char *path)
{
	char *target = realpath(path, NULL);
	size_t len = strlen(files->root);
	int inside;

	if (target == NULL) {
		fprintf(stderr, "akctl: deploy: %s is a broken symbolic link: "
		    "%s\n", path, strerror(errno));
		return -1;
	}
	inside = strncmp(target, files->root, len) == 0 &&
	    (target[len] == '/' || strcmp(files->root, "/") == 0);
	if (strcmp(target, files->root) == 0)
		fprintf(stderr, "akctl: deploy: refusing %s: it is a symbolic "
		    "link to %s itself, a loop\n", path, files->dir);
	else if (!inside)
		fprintf(stderr, "akctl: deploy: refusing %s: it is a symbolic "
		    "link to %s, outside %s\n", path, target, files->dir);
	free(target);
	return inside ? 0 : -1;
}

/* One entry of a directory: recurse, read, or skip. */
static int
ctl_deploy_entry(struct ctl_deploy_files *files, const char *relative,
    int depth)
{
	struct stat sb;
	char *path;
	int ret = 0;

	xasprintf(&path, "%s/%s", files->dir, relative);
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode) &&
	    ctl_deploy_check_link(files, path) != 0)
		ret = -1;
	else if (stat(path, &sb) != 0) {
		fprintf(stderr, "akctl: cannot read %s: %s\n", path,
		    strerror(errno));
		ret = -1;
	} else if (S_ISDIR(sb.st_mode))
		ret = ctl_deploy_walk(files, relative, depth + 1);
	else if (S_ISREG(sb.st_mode) && (sb.st_dev != files->manifest.st_dev ||
	    sb.st_ino != files->manifest.st_ino))
		ret = ctl_deploy_read_file(files, path, relative, sb.st_size);
	free(path);
	return ret;
}

static int
ctl_deploy_compare(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, without those starting '.' or '_'. */
static char **
ctl_deploy_names(const char *path, size_t *count)
{
	struct dirent *entry;
	char **names = NULL;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "akctl: cannot open the directory %s: %s\n",
		    path, strerror(errno));
		return NULL;
	}
	while ((entry = readdir(d)) != NULL) {
		if (entry->d_name[0] == '.' || entry->d_name[0] == '_')
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(entry->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, ctl_deploy_compare);
	*count = n;
	return names != NULL ? names : xcalloc(1, sizeof *names);
}

static int
ctl_deploy_walk(struct ctl_deploy_files *files, const char *relative,
    int depth)
{
	char *path, *child, **names;
	size_t count = 0, i;
	int ret = 0;

	if (depth > CTL_DEPLOY_DEPTH_MAX) {
		fprintf(stderr, "akctl: deploy: %s/%s is nested more than %d "
		    "directories deep (a symbolic link loop?)\n", files->dir,
		    relative, CTL_DEPLOY_DEPTH_MAX);
		return -1;
	}
	if (*relative == '\0')
		path = xstrdup(files->dir);
	else
		xasprintf(&path, "%s/%s", files->dir, relative);
	names = ctl_deploy_names(path, &count);
	free(path);
	if (names == NULL)
		return -1;
	for (i = 0; i < count; i++) {
		if (ret == 0) {
			if (*relative == '\0')
				child = xstrdup(names[i]);
			else
				xasprintf(&child, "%s/%s", relative, names[i]);
			ret = ctl_deploy_entry(files, child, depth);
			free(child);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

/* The files under dir as a resources map, or NULL after saying why. */
static json_t *
ctl_deploy_collect(const char *dir, const char *manifest)
{
	struct ctl_deploy_files files;

	memset(&files, 0, sizeof files);
	files.dir = dir;
	if ((files.root = realpath(dir, NULL)) == NULL) {
		fprintf(stderr, "akctl: cannot open the directory %s: %s\n",
		    dir, strerror(errno));
		return NULL;
	}
	if (stat(manifest, &files.manifest) != 0)
		memset(&files.manifest, 0, sizeof files.manifest);
	files.resources = json_object();
	if (ctl_deploy_walk(&files, "", 0) != 0) {
		json_decref(files.resources);
		files.resources = NULL;
	}
	free(files.root);
	return files.resources;
}

/*
 * Step 1: plan the manifest. *project_id gets the project's ID when it
 * exists; else *create gets the plan's create_project action.
 */
static int
ctl_deploy_plan(struct ctl_context *ctx, const char *manifest,
    const char *text, char **project_id, json_t **create)
{
	json_t *answer, *action;
	const char *id;
	size_t i;
	int ret;

	*project_id = NULL;
	*create = NULL;
	if ((ret = ctl_manifest_apply(ctx, manifest, text, 1, NULL,
	    &answer)) != 0)
		return ret;
	id = json_string_value(json_array_get(json_object_get(answer,
	    "project_ids"), 0));
	if (id != NULL && *id != '\0')
		*project_id = xstrdup(id);
	json_array_foreach(json_object_get(answer, "actions"), i, action) {
		if (*project_id == NULL && *create == NULL &&
		    strcmp(ctl_string(action, "action"), "create_project") == 0 &&
		    strncmp(ctl_string(action, "key"), "project ", 8) == 0)
			*create = json_incref(action);
	}
	json_decref(answer);
	if (*project_id == NULL && *create == NULL) {
		fprintf(stderr, "akctl: deploy: %s defines no project; add a "
		    "project: section\n", manifest);
		return CTL_EXIT_ERROR;
	}
	return 0;
}

/*
 * Step 2: the project the plan creates, its name only, for the files to go
 * to; its log line ("create project NAME") printed as the apply's are.
 */
static int
ctl_deploy_create_project(struct ctl_context *ctx, json_t *create,
    char **project_id)
{
	json_t *answer, *log;
	int ret;

	ret = ctl_project_create(ctx, ctl_string(create, "key") + 8, &answer);
	if (ret != 0)
		return ret;
	if (*ctl_string(answer, "project_id") == '\0') {
		fprintf(stderr, "akctl: unexpected answer from autokittehd: "
		    "no project_id\n");
		ret = CTL_EXIT_ERROR;
	} else {
		*project_id = xstrdup(ctl_string(answer, "project_id"));
		log = json_pack("{s:[O]}", "actions", create);
		ctl_manifest_print_lines(ctx->json ? stderr : stdout, log,
		    "actions");
		json_decref(log);
	}
	json_decref(answer);
	return ret;
}

/* Step 3: upload the files. */
static int
ctl_deploy_upload(struct ctl_context *ctx, const char *project_id,
    json_t *resources)
{
	json_t *request, *answer;
	int ret;

	request = json_pack("{s:s, s:O}", "project_id", project_id,
	    "resources", resources);
	ret = ctl_call(ctx, CTL_PROJECTS_SET_RESOURCES, request, &answer);
	json_decref(request);
	json_decref(answer);
	return ret;
}

/* Step 4: build; out gets build_id. */
static int
ctl_deploy_build(struct ctl_context *ctx, json_t *out)
{
	json_t *answer;
	int ret;

	ret = ctl_project_build(ctx, ctl_string(out, "project_id"), &answer);
	if (ret == 0)
		json_object_set(out, "build_id", json_object_get(answer,
		    "build_id"));
	json_decref(answer);
	return ret;
}

/* Step 5: apply the manifest for the build; its log lines printed. */
static int
ctl_deploy_apply(struct ctl_context *ctx, const char *manifest,
    const char *text, json_t *out)
{
	json_t *answer;
	const char *id;
	int ret;

	if ((ret = ctl_manifest_apply(ctx, manifest, text, 0,
	    ctl_string(out, "build_id"), &answer)) != 0)
		return ret;
	ctl_manifest_print_lines(ctx->json ? stderr : stdout, answer, "logs");
	id = json_string_value(json_array_get(json_object_get(answer,
	    "project_ids"), 0));
	if (id == NULL || strcmp(id, ctl_string(out, "project_id")) != 0) {
		fprintf(stderr, "akctl: unexpected answer from autokittehd: "
		    "the manifest was applied to project %s, not %s\n",
		    id != NULL ? id : "(none)", ctl_string(out, "project_id"));
		ret = CTL_EXIT_ERROR;
	}
	json_decref(answer);
	return ret;
}

/* Step 6: create the deployment of the build and activate it. */
static int
ctl_deploy_activate(struct ctl_context *ctx, json_t *out)
{
	json_t *answer, *request;
	int ret;

	request = json_pack("{s:{s:s, s:s}}", "deployment", "project_id",
	    ctl_string(out, "project_id"), "build_id",
	    ctl_string(out, "build_id"));
	ret = ctl_call(ctx, CTL_DEPLOYMENTS("Create"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	json_object_set(out, "deployment_id",
	    json_object_get(answer, "deployment_id"));
	json_decref(answer);
	if (*ctl_string(out, "deployment_id") == '\0') {
		fprintf(stderr, "akctl: unexpected answer from autokittehd: "
		    "no deployment_id\n");
		return CTL_EXIT_ERROR;
	}
	return ctl_deployment_activate(ctx, ctl_string(out, "deployment_id"));
}

/* Step 7: [{name, url}] of the project's webhook triggers. */
static int
ctl_deploy_webhooks(struct ctl_context *ctx, json_t *out)
{
	json_t *request, *answer, *trigger, *webhooks = json_array();
	size_t i;
	int ret;

	request = json_pack("{s:s}", "project_id",
	    ctl_string(out, "project_id"));
	ret = ctl_call(ctx, CTL_TRIGGERS_LIST, request, &answer);
	json_decref(request);
	json_array_foreach(json_object_get(answer, "triggers"), i, trigger) {
		if (strcmp(ctl_string(trigger, "source_type"),
		    "SOURCE_TYPE_WEBHOOK") != 0)
			continue;
		json_array_append_new(webhooks, json_pack("{s:s, s:s}",
		    "name", ctl_string(trigger, "name"),
		    "url", ctl_string(trigger, "webhook_url")));
	}
	json_object_set_new(out, "webhooks", webhooks);
	json_decref(answer);
	return ret;
}

static void
ctl_deploy_print(json_t *out)
{
	json_t *webhooks = json_object_get(out, "webhooks"), *webhook;
	int width = 0, len;
	size_t i;

	printf("project  %s\n", ctl_string(out, "project_id"));
	printf("build    %s\n", ctl_string(out, "build_id"));
	printf("deployment %s (active)\n", ctl_string(out, "deployment_id"));
	json_array_foreach(webhooks, i, webhook) {
		len = (int)strlen(ctl_string(webhook, "name"));
		if (len > width)
			width = len;
	}
	json_array_foreach(webhooks, i, webhook)
		printf("webhook  %-*s  %s\n", width, ctl_string(webhook, "name"),
		    ctl_dash(ctl_string(webhook, "url")));
}

/*
 * Steps 1 to 7, the files read before anything is changed on the server,
 * so that a directory akctl will not upload fails the command early.
 */
static int
ctl_deploy_run(struct ctl_context *ctx, const char *manifest,
    const char *dir, json_t **out)
{
	json_t *resources, *create = NULL;
	char *text, *project_id = NULL;
	int ret;

	*out = NULL;
	if ((text = ctl_manifest_read(ctx, manifest)) == NULL)
		return CTL_EXIT_ERROR;
	if ((resources = ctl_deploy_collect(dir, manifest)) == NULL) {
		free(text);
		return CTL_EXIT_ERROR;
	}
	if ((ret = ctl_deploy_plan(ctx, manifest, text, &project_id,
	    &create)) == 0 && (project_id != NULL ||
	    (ret = ctl_deploy_create_project(ctx, create, &project_id)) == 0)) {
		*out = json_pack("{s:s}", "project_id", project_id);
		if ((ret = ctl_deploy_upload(ctx, project_id,
		    resources)) == 0 &&
		    (ret = ctl_deploy_build(ctx, *out)) == 0 &&
		    (ret = ctl_deploy_apply(ctx, manifest, text, *out)) == 0 &&
		    (ret = ctl_deploy_activate(ctx, *out)) == 0)
			ret = ctl_deploy_webhooks(ctx, *out);
	}
	json_decref(resources);
	json_decref(create);
	free(project_id);
	free(text);
	return ret;
}

static int
ctl_deploy_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *manifest = ctl_flag_value(ctx, "manifest");
	const char *dir_flag = ctl_flag_value(ctx, "dir");
	json_t *out;
	char *dir;
	int ret;

	(void)argc;
	(void)argv;
	if (manifest == NULL)
		manifest = CTL_DEFAULT_MANIFEST;
	dir = dir_flag != NULL ? xstrdup(dir_flag) :
	    ctl_deploy_default_dir(manifest);
	ret = ctl_deploy_run(ctx, manifest, dir, &out);
	if (ret == 0 && ctx->json)
		ctl_print_json(out);
	else if (ret == 0)
		ctl_deploy_print(out);
	json_decref(out);
	free(dir);
	return ret;
}
