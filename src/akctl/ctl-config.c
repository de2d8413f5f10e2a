/*
 * ctl-config.c: "akctl config", the running daemon's effective configuration.
 *
 * It calls SystemService/Config and prints the options in the format of
 * autokitteh.conf(5): a comment naming the file that was read, then
 * "[section]" headers and "key = value" lines in the daemon's table order,
 * each value still at its default marked "# default". Secrets arrive
 * already masked.
 */
#include "akctl.h"

#include <string.h>

static int ctl_config_exec(struct ctl_context *, int, char **);

const struct ctl_command ctl_config_command = {
	.name = "config",
	.summary = "print the daemon's effective configuration",
	.help =
	    "Print the configuration the running daemon uses: every key with\n"
	    "the value in use, as [section] headers and key = value lines in\n"
	    "the format of autokitteh.conf(5). The first line names the file\n"
	    "the daemon read, or says it runs on built-in defaults. Values\n"
	    "still at their default are marked \"# default\". Secrets are\n"
	    "masked as ********.\n",
	.exec = ctl_config_exec,
};

static void
ctl_config_option(json_t *option, const char **section)
{
	const char *this_section, *key;
	char value[1024];
	json_t *v = json_object_get(option, "value");

	this_section = json_string_value(json_object_get(option, "section"));
	key = json_string_value(json_object_get(option, "key"));
	if (this_section == NULL || key == NULL)
		return;
	if (*section == NULL || strcmp(*section, this_section) != 0) {
		printf("\n[%s]\n", this_section);
		*section = this_section;
	}
	if (v == NULL || json_is_null(v))
		value[0] = '\0';
	else
		ctl_format_value(v, value, sizeof value);
	/* Defaults are commented out, so the output is itself a valid file. */
	printf("%s%s =%s%s\n", json_is_true(json_object_get(option,
	    "is_default")) ? "# (default) " : "", key,
	    *value != '\0' ? " " : "", value);
}

static int
ctl_config_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *config, *option;
	const char *file, *section = NULL;
	size_t i;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_call(ctx, CTL_SYSTEM_CONFIG, NULL, &config)) != 0)
		return ret;
	if (ctx->json) {
		ctl_print_json(config);
		json_decref(config);
		return CTL_EXIT_OK;
	}
	file = json_string_value(json_object_get(config, "file"));
	if (file != NULL)
		printf("# file: %s\n", file);
	else
		printf("# no file: built-in defaults\n");
	json_array_foreach(json_object_get(config, "options"), i, option)
		ctl_config_option(option, &section);
	json_decref(config);
	return CTL_EXIT_OK;
}
