/*
 * ctl-secrets.c: "akctl secrets status|rotate", the keys that encrypt
 * secret vars and connection vars at rest (SecretsService; see the
 * "Secrets at rest" section of docs/SECURITY.md).
 *
 * rotate replaces the master key in the daemon's key file, re-wrapping the
 * data key; with --data-key it also replaces the data key and re-encrypts
 * every sealed value in the same transaction. The daemon does the work:
 * akctl never sees a key.
 */
#include "akctl.h"

#include <string.h>

#define CTL_SECRETS_STATUS	"/autokitteh.system.v1.SecretsService/Status"
#define CTL_SECRETS_ROTATE	"/autokitteh.system.v1.SecretsService/Rotate"

static int ctl_secrets_status_exec(struct ctl_context *, int, char **);
static int ctl_secrets_rotate_exec(struct ctl_context *, int, char **);

static const struct ctl_command ctl_secrets_status_command = {
	.name = "status",
	.summary = "show the key file, the data key and what is encrypted",
	.help =
	    "Show the master key's file, the cipher, the data key's\n"
	    "number, when it was made and when it was last wrapped by a\n"
	    "master key (first start or last rotation), and how many var\n"
	    "values are stored encrypted. 'cleartext' counts secret values\n"
	    "still stored in the clear, which should be 0.\n",
	.exec = ctl_secrets_status_exec,
};

static const struct ctl_flag ctl_secrets_rotate_flags[] = {
	{ .name = "data-key",
	  .help = "also replace the data key and re-encrypt every secret" },
	{ .name = NULL }
};

static const struct ctl_command ctl_secrets_rotate_command = {
	.name = "rotate",
	.summary = "replace the master key (and with --data-key the data key)",
	.help =
	    "Make a new master key, re-wrap the store's data key with it\n"
	    "and replace the key file: the old key file no longer opens the\n"
	    "store. With --data-key, also make a new data key and re-encrypt\n"
	    "every secret with it, in one transaction. A crash at any point\n"
	    "leaves a key file that opens the store; the daemon finishes or\n"
	    "undoes an interrupted rotation when it starts. Back up the new\n"
	    "key file.\n",
	.flags = ctl_secrets_rotate_flags,
	.exec = ctl_secrets_rotate_exec,
};

static const struct ctl_command *const ctl_secrets_commands[] = {
	&ctl_secrets_status_command,
	&ctl_secrets_rotate_command,
	NULL
};

const struct ctl_command ctl_secrets_command = {
	.name = "secrets",
	.summary = "show and rotate the keys that encrypt secrets at rest",
	.help =
	    "Secret vars and the vars of connections are stored encrypted\n"
	    "with AES-256-GCM under a data key, itself encrypted by the\n"
	    "master key in the daemon's [secrets] key_file. These commands\n"
	    "show and rotate those keys.\n",
	.subcommands = ctl_secrets_commands,
};

static int
ctl_secrets_status_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *status;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_call(ctx, CTL_SECRETS_STATUS, NULL, &status)) != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(status);
	else {
		ctl_print_label("key file", "%s", ctl_string(status,
		    "key_file"));
		ctl_print_label("cipher", "%s", ctl_string(status, "cipher"));
		ctl_print_label("data key", "%" JSON_INTEGER_FORMAT
		    ", made %s, wrapped %s",
		    ctl_integer(status, "data_key_id"),
		    ctl_string(status, "data_key_created_at"),
		    ctl_string(status, "data_key_wrapped_at"));
		ctl_print_label("encrypted", "%" JSON_INTEGER_FORMAT " values",
		    ctl_integer(status, "sealed_values"));
		ctl_print_label("cleartext", "%" JSON_INTEGER_FORMAT,
		    ctl_integer(status, "cleartext_values"));
	}
	json_decref(status);
	return CTL_EXIT_OK;
}

static int
ctl_secrets_rotate_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	(void)argv;
	request = json_pack("{s:b}", "data_key",
	    ctl_flag_value(ctx, "data-key") != NULL);
	ret = ctl_call(ctx, CTL_SECRETS_ROTATE, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else {
		printf("rotated the master key: %s holds the new key\n",
		    ctl_string(answer, "key_file"));
		if (json_is_true(json_object_get(answer, "data_key_rotated")))
			printf("rotated the data key: now key %"
			    JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
			    " values re-encrypted\n",
			    ctl_integer(answer, "data_key_id"),
			    ctl_integer(answer, "resealed"));
		printf("Back up the new key file: the old one no longer opens "
		    "the store.\n");
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}
