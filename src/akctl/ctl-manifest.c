/*
 * ctl-manifest.c: "akctl manifest validate|plan|apply", autokitteh.yaml
 * against the server.
 *
 * akctl does not parse the manifest: it sends the file's text to
 * ApplyService/Apply, which parses, validates, plans and (unless dry_run)
 * applies it, and answers with the project IDs, its log lines and the
 * planned actions. ctl_manifest_apply() is also how "akctl deploy" plans
 * the manifest first and applies it, with its new build, once built.
 */
#include "akctl.h"

#include <sys/stat.h>

#include <errno.h>
#include <string.h>

/* A manifest is a few kilobytes; anything near this is a mistake. */
#define CTL_MANIFEST_MAX	(1024 * 1024)

static int ctl_manifest_validate_exec(struct ctl_context *, int, char **);
static int ctl_manifest_plan_exec(struct ctl_context *, int, char **);
static int ctl_manifest_apply_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_manifest_flags[] = {
	{ .name = "project-name", .short_name = 'n', .arg = "NAME",
	  .help = "use NAME instead of the manifest's project.name" },
	{ .name = NULL }
};

static const struct ctl_command ctl_manifest_validate_command = {
	.name = "validate",
	.args_usage = "[FILE]",
	.summary = "check a manifest without changing anything",
	.help =
	    "Send FILE (default ./" CTL_DEFAULT_MANIFEST ") to the server to be\n"
	    "parsed, validated and planned without applying it, and print\n"
	    "\"FILE: valid\", or the server's error with exit status 1.\n",
	.flags = ctl_manifest_flags,
	.args_max = 1,
	.exec = ctl_manifest_validate_exec,
};

static const struct ctl_command ctl_manifest_plan_command = {
	.name = "plan",
	.args_usage = "[FILE]",
	.summary = "print what applying a manifest would change",
	.help =
	    "Plan FILE (default ./" CTL_DEFAULT_MANIFEST ") against the server\n"
	    "without applying it, and print one line per action (create,\n"
	    "update or delete a project, variable, connection or trigger), or\n"
	    "\"no changes\".\n",
	.flags = ctl_manifest_flags,
	.args_max = 1,
	.exec = ctl_manifest_plan_exec,
};

static const struct ctl_command ctl_manifest_apply_command = {
	.name = "apply",
	.args_usage = "[FILE]",
	.summary = "create or update the project a manifest describes",
	.help =
	    "Apply FILE (default ./" CTL_DEFAULT_MANIFEST "): create or update\n"
	    "its project, variables, connections and triggers, and delete the\n"
	    "variables, connections and triggers the manifest no longer has.\n"
	    "Print the server's log lines. This uploads no code and deploys\n"
	    "nothing: 'akctl deploy' does all of that.\n",
	.flags = ctl_manifest_flags,
	.args_max = 1,
	.exec = ctl_manifest_apply_exec,
};

static const struct ctl_command *const ctl_manifest_commands[] = {
	&ctl_manifest_validate_command,
	&ctl_manifest_plan_command,
	&ctl_manifest_apply_command,
	NULL
};

const struct ctl_command ctl_manifest_command = {
	.name = "manifest",
	.alias = "man",
	.summary = "validate, plan and apply autokitteh.yaml",
	.help =
	    "Validate, plan or apply a project's manifest, autokitteh.yaml. The\n"
	    "server parses it: see autokitteh.yaml(5) for its format.\n",
	.subcommands = ctl_manifest_commands,
};

/* The whole file as a string, or NULL after saying why. */
char *
ctl_manifest_read(struct ctl_context *ctx, const char *path)
{
	struct stat sb;
	FILE *f;
	char *text;
	size_t len;

	if ((f = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && strcmp(path, CTL_DEFAULT_MANIFEST) == 0)
			fprintf(stderr, "akctl: %s: no %s in the current "
			    "directory; run it in the project's directory or "
			    "name the manifest (see 'akctl %s --help')\n",
			    ctx->command_name, path, ctx->command_name);
		else
			fprintf(stderr, "akctl: cannot open %s: %s\n", path,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > CTL_MANIFEST_MAX) {
		fprintf(stderr, "akctl: %s is not a manifest: not a regular "
		    "file of at most %d bytes\n", path, CTL_MANIFEST_MAX);
		fclose(f);
		return NULL;
	}
	text = xmalloc((size_t)sb.st_size + 1);
	len = fread(text, 1, (size_t)sb.st_size, f);
	text[len] = '\0';
	if (ferror(f) || memchr(text, '\0', len) != NULL) {
		fprintf(stderr, "akctl: cannot read %s%s\n", path,
		    ferror(f) ? "" : ": it contains NUL bytes");
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/*
 * Apply (or plan, with dry_run) the manifest text read from path, with
 * --project-name if the running command has it, and build_id unless NULL
 * (the server then refuses a manifest whose calls the build lacks). Return
 * 0 with *answer, else the exit code after saying why.
 */
int
ctl_manifest_apply(struct ctl_context *ctx, const char *path,
    const char *text, int dry_run, const char *build_id, json_t **answer)
{
	const char *name = ctl_flag_value(ctx, "project-name");
	json_t *request = json_object();
	int ret;

	*answer = NULL;
	if (json_object_set_new(request, "manifest", json_string(text)) != 0) {
		fprintf(stderr, "akctl: %s is not valid UTF-8\n", path);
		ret = CTL_EXIT_ERROR;
	} else if ((ret = ctl_set_string(ctx, request, "path", path)) == 0 &&
	    (name == NULL ||
	    (ret = ctl_set_string(ctx, request, "project_name", name)) == 0)) {
		json_object_set_new(request, "dry_run", json_boolean(dry_run));
		if (build_id != NULL)
			json_object_set_new(request, "build_id",
			    json_string(build_id));
		ret = ctl_call(ctx, CTL_APPLY, request, answer);
	}
	json_decref(request);
	return ret;
}

/*
 * The strings of answer[key] (logs, actions), one a line. An action may
 * also be an object: its "description", else its compact JSON.
 */
void
ctl_manifest_print_lines(FILE *f, json_t *answer, const char *key)
{
	json_t *item;
	size_t i;
	char *text;

	json_array_foreach(json_object_get(answer, key), i, item) {
		if (json_is_string(item))
			text = xstrdup(json_string_value(item));
		else if (json_is_string(json_object_get(item, "description")))
			text = xstrdup(ctl_string(item, "description"));
		else
			text = ctl_value_text(item);
		for (char *p = text; *p != '\0'; p++) {
			if (*p != '\n' && *p != '\t' &&
			    (unsigned char)*p < 0x20)
				*p = '?';
		}
		fprintf(f, "%s\n", text);
		free(text);
	}
}

static int
ctl_manifest_run(struct ctl_context *ctx, int argc, char **argv, int dry_run,
    json_t **answer, const char **path)
{
	char *text;
	int ret;

	*answer = NULL;
	*path = argc > 0 ? argv[0] : CTL_DEFAULT_MANIFEST;
	if ((text = ctl_manifest_read(ctx, *path)) == NULL)
		return CTL_EXIT_ERROR;
	ret = ctl_manifest_apply(ctx, *path, text, dry_run, NULL, answer);
	free(text);
	if (ret != 0)
		return ret;
	if (ctx->json) {
		ctl_print_json(*answer);
		json_decref(*answer);
		*answer = NULL;
	}
	return 0;
}

static int
ctl_manifest_validate_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *path;
	json_t *answer;
	int ret;

	if ((ret = ctl_manifest_run(ctx, argc, argv, 1, &answer, &path)) != 0)
		return ret;
	if (answer != NULL)
		printf("%s: valid\n", path);
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_manifest_plan_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *path;
	json_t *answer;
	int ret;

	if ((ret = ctl_manifest_run(ctx, argc, argv, 1, &answer, &path)) != 0)
		return ret;
	if (answer != NULL &&
	    json_array_size(json_object_get(answer, "actions")) == 0)
		printf("no changes\n");
	else if (answer != NULL)
		ctl_manifest_print_lines(stdout, answer, "actions");
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_manifest_apply_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *path;
	json_t *answer;
	int ret;

	if ((ret = ctl_manifest_run(ctx, argc, argv, 0, &answer, &path)) != 0)
		return ret;
	if (answer != NULL)
		ctl_manifest_print_lines(stdout, answer, "logs");
	json_decref(answer);
	return CTL_EXIT_OK;
}
