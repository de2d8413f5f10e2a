/*
 * ctl-token.c: "akctl token create|list|revoke", the API tokens of TCP
 * clients.
 *
 * token is a verb group: its subcommands have their own small table here,
 * dispatched by akctl.c like the top-level one. They call TokensService.
 * The secret of a new token is printed once, with how to use it: the
 * daemon keeps only its hash.
 */
#include "akctl.h"

#include <string.h>

static int ctl_token_create_exec(struct ctl_context *, int, char **);
static int ctl_token_list_exec(struct ctl_context *, int, char **);
static int ctl_token_revoke_exec(struct ctl_context *, int, char **);

static const struct ctl_flag ctl_token_create_flags[] = {
	{ .name = "name", .short_name = 'n', .arg = "NAME",
	  .help = "a label for the token (1-64 printable "
	  "characters)" },
	{ .name = NULL }
};

static const struct ctl_command ctl_token_create_command = {
	.name = "create",
	.summary = "create an API token and print its secret, once",
	.help =
	    "Create an API token for clients over TCP and print its ID, name\n"
	    "and secret. The secret is shown only this once: the daemon keeps\n"
	    "only its hash, so store it now. Clients send it as the header\n"
	    "Authorization: Bearer SECRET; akctl sends it from --token or\n"
	    "AKCTL_TOKEN.\n",
	.flags = ctl_token_create_flags,
	.exec = ctl_token_create_exec,
};

static const struct ctl_command ctl_token_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list the tokens that are not revoked",
	.help =
	    "List the tokens that are not revoked, as a table of ID, NAME and\n"
	    "CREATED (UTC). Their secrets cannot be shown.\n",
	.exec = ctl_token_list_exec,
};

static const struct ctl_command ctl_token_revoke_command = {
	.name = "revoke",
	.args_usage = "ID",
	.summary = "revoke a token: requests that use it are refused",
	.help =
	    "Revoke the token with ID (tok_..., as shown by 'akctl token\n"
	    "list'). Requests that use it are refused from then on.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_token_revoke_exec,
};

static const struct ctl_command *const ctl_token_commands[] = {
	&ctl_token_create_command,
	&ctl_token_list_command,
	&ctl_token_revoke_command,
	NULL
};

const struct ctl_command ctl_token_command = {
	.name = "token",
	.summary = "create, list and revoke API tokens for TCP clients",
	.help =
	    "Manage the API tokens that clients over TCP must send as\n"
	    "Authorization: Bearer SECRET. Over the Unix socket akctl needs no\n"
	    "token: the daemon admits root, its own user and members of the\n"
	    "group autokitteh.\n",
	.subcommands = ctl_token_commands,
};

/* The URL to show in the example: --url, else the daemon's TCP listener. */
static char *
ctl_token_example_url(struct ctl_context *ctx)
{
	json_t *status, *listener;
	const char *address = NULL;
	char *url;
	size_t i;

	if (ctx->url != NULL)
		return xstrdup(ctx->url);
	if (ctl_call_quiet(ctx, CTL_SYSTEM_STATUS, NULL, &status) != 0)
		return xstrdup("http://HOST:PORT");
	json_array_foreach(json_object_get(status, "listeners"), i, listener) {
		if (strcmp(json_string_value(json_object_get(listener,
		    "kind")) ?: "", "tcp") == 0) {
			address = json_string_value(json_object_get(listener,
			    "address"));
			break;
		}
	}
	xasprintf(&url, "http://%s", address != NULL ? address : "HOST:PORT");
	json_decref(status);
	return url;
}

static void
ctl_token_print_created(struct ctl_context *ctx, json_t *created)
{
	json_t *token = json_object_get(created, "token");
	const char *secret, *name;
	char *url;

	secret = json_string_value(json_object_get(created, "secret")) ?: "?";
	name = json_string_value(json_object_get(token, "name"));
	printf("token  %s\n",
	    json_string_value(json_object_get(token, "token_id")) ?: "?");
	if (name != NULL && *name != '\0')
		printf("name   %s\n", name);
	printf("secret %s\n", secret);

	url = ctl_token_example_url(ctx);
	printf("\nStore the secret now: it cannot be shown again. Use it as\n"
	    "  AKCTL_TOKEN=%s akctl --url %s status\n"
	    "or as the header  Authorization: Bearer %s\n", secret, url,
	    secret);
	free(url);
}

static int
ctl_token_create_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *name = ctl_flag_value(ctx, "name");
	json_t *request = json_object(), *created;
	int ret;

	(void)argc;
	(void)argv;
	if (name != NULL &&
	    json_object_set_new(request, "name", json_string(name)) != 0) {
		json_decref(request);
		fprintf(stderr, "akctl: token create: the name is not valid "
		    "UTF-8\n");
		return CTL_EXIT_USAGE;
	}
	ret = ctl_call(ctx, CTL_TOKENS_CREATE, request, &created);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(created);
	else
		ctl_token_print_created(ctx, created);
	json_decref(created);
	return CTL_EXIT_OK;
}

static void
ctl_token_table(json_t *tokens)
{
	struct ctl_table *table;
	json_t *token;
	size_t i;

	table = ctl_table_new(3, "ID", "NAME", "CREATED");
	json_array_foreach(tokens, i, token)
		ctl_table_add(table, ctl_string(token, "token_id"),
		    ctl_string(token, "name"), ctl_string(token, "created_at"));
	ctl_table_print(table);
}

static int
ctl_token_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *list;
	int ret;

	(void)argc;
	(void)argv;
	if ((ret = ctl_call(ctx, CTL_TOKENS_LIST, NULL, &list)) != 0)
		return ret;
	return ctl_print_list(ctx, list, "tokens", "tokens", ctl_token_table);
}

static int
ctl_token_revoke_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer;
	int ret;

	(void)argc;
	if ((request = json_pack("{s:s}", "token_id", argv[0])) == NULL) {
		fprintf(stderr, "akctl: token revoke: the ID is not valid "
		    "UTF-8\n");
		return CTL_EXIT_USAGE;
	}
	ret = ctl_call(ctx, CTL_TOKENS_REVOKE, request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	return ctl_print_done(ctx, answer, "revoked", argv[0]);
}
