/*
 * ctl-version.c: "akctl version", the versions of akctl and of the daemon.
 *
 * akctl's own version is printed first and always, so it is known even
 * when the daemon cannot be reached; the daemon's comes from
 * SystemService/Status.
 */
#include "akctl.h"

static int ctl_version_exec(struct ctl_context *, int, char **);

const struct ctl_command ctl_version_command = {
	.name = "version",
	.summary = "print the versions of akctl and of the daemon",
	.help =
	    "Print akctl's version, then ask the daemon for its own. When the\n"
	    "daemon cannot be reached, akctl's version is still printed, the\n"
	    "reason goes to stderr and the exit status is 2. With -j, print\n"
	    "{\"akctl\": VERSION, \"autokittehd\": VERSION}, without the\n"
	    "autokittehd key when the daemon did not answer.\n",
	.exec = ctl_version_exec,
};

static int
ctl_version_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *status = NULL, *out;
	const char *version;
	int ret;

	(void)argc;
	(void)argv;
	if (!ctx->json) {
		printf("akctl %s\n", PACKAGE_VERSION);
		fflush(stdout);
	}
	ret = ctl_call(ctx, CTL_SYSTEM_STATUS, NULL, &status);
	version = json_string_value(json_object_get(status, "version"));
	if (ctx->json) {
		out = json_pack("{s:s}", "akctl", PACKAGE_VERSION);
		if (version != NULL)
			json_object_set_new(out, "autokittehd",
			    json_string(version));
		ctl_print_json(out);
		json_decref(out);
	} else if (version != NULL)
		printf("autokittehd %s\n", version);
	else if (ret == 0)
		printf("autokittehd unknown\n");
	json_decref(status);
	return ret;
}
