/*
 * akctl.c: akctl's main(), the table of commands and the dispatcher.
 *
 * main() parses the global options (they stop at the first word that is
 * not an option: the command), then ctl_run() finds the command in the
 * table, parses its own options with a second getopt_long pass (-j and -h
 * are accepted by every command), checks its number of arguments and calls
 * it. A verb group (token) has its own table of subcommands, dispatched the
 * same way one level down. Help, usage errors and "did you mean" live here,
 * next to the table they describe, with the small printing helpers the
 * commands share.
 */
#include "akctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Long-only global options: values above any character. */
enum {
	CTL_OPTION_SOCKET = 256,
	CTL_OPTION_URL,
	CTL_OPTION_TOKEN,
};

/* Command-specific options without a short name get 512 + their index. */
#define CTL_FLAG_BASE 512

#define CTL_SUGGEST_MAX_DISTANCE 2
#define CTL_LABEL_WIDTH 12

static int ctl_help_exec(struct ctl_context *, int, char **);

static const struct ctl_command ctl_help_command = {
	.name = "help",
	.args_usage = "[COMMAND [SUBCOMMAND]]",
	.summary = "print the list of commands, or the help of one",
	.help =
	    "Without an argument, print the global options and the list of\n"
	    "commands. With a command, print its usage, options and what it\n"
	    "does: 'akctl help status' is 'akctl status --help', and\n"
	    "'akctl help token create' is 'akctl token create --help'.\n",
	.args_max = 2,
	.exec = ctl_help_exec,
};

/* The one table of commands, in the order 'akctl help' lists them. */
static const struct ctl_command *const ctl_commands[] = {
	&ctl_status_command,
	&ctl_version_command,
	&ctl_config_command,
	&ctl_token_command,
	&ctl_secrets_command,
	&ctl_deploy_command,
	&ctl_manifest_command,
	&ctl_project_command,
	&ctl_build_command,
	&ctl_deployment_command,
	&ctl_trigger_command,
	&ctl_connection_command,
	&ctl_var_command,
	&ctl_value_command,
	&ctl_event_command,
	&ctl_session_command,
	&ctl_help_command,
	NULL
};

static void
ctl_usage_short(FILE *f)
{
	fprintf(f, "usage: akctl [--socket PATH | --url URL] [--token TOKEN] "
	    "[-j] COMMAND [ARGS]\n"
	    "run 'akctl help' for the list of commands\n");
}

static void
ctl_list_commands(FILE *f, const struct ctl_command *const *table)
{
	int width = 0;

	for (size_t i = 0; table[i] != NULL; i++) {
		if ((int)strlen(table[i]->name) > width)
			width = (int)strlen(table[i]->name);
	}
	for (size_t i = 0; table[i] != NULL; i++)
		fprintf(f, "  %-*s  %s\n", width, table[i]->name,
		    table[i]->summary);
}

static void
ctl_usage_full(FILE *f)
{
	fprintf(f, "usage: akctl [options] COMMAND [ARGS]\n"
	    "\n"
	    "akctl controls autokittehd, the autokitteh daemon, through its "
	    "HTTP API:\n"
	    "over its Unix socket by default, or over TCP with --url and a "
	    "token.\n"
	    "\n"
	    "Options:\n"
	    "  --socket PATH  the daemon's Unix socket (default: $AKCTL_SOCKET, "
	    "else\n"
	    "                 " CTL_DEFAULT_SOCKET ")\n"
	    "  --url URL      talk to URL over TCP instead, for example\n"
	    "                 http://127.0.0.1:9980 (default: $AKCTL_URL)\n"
	    "  --token TOKEN  send Authorization: Bearer TOKEN "
	    "(default: $AKCTL_TOKEN)\n"
	    "  -j, --json     print the daemon's JSON answer (also accepted "
	    "after COMMAND)\n"
	    "  -h, --help     print this help\n"
	    "  -V, --version  print akctl's version\n"
	    "\n"
	    "Commands:\n");
	ctl_list_commands(f, ctl_commands);
	fprintf(f, "\n"
	    "Run 'akctl help COMMAND' or 'akctl COMMAND --help' for a "
	    "command's usage.\n"
	    "Exit status: 0 success, 1 the daemon answered with an error, "
	    "2 the daemon\n"
	    "cannot be reached, 64 usage error.\n");
}

/* "akctl token create [-j] [-n NAME]", or "akctl token COMMAND [ARGS]". */
static void
ctl_usage_line(FILE *f, const char *name, const struct ctl_command *cmd)
{
	const struct ctl_flag *flag;

	fprintf(f, "usage: akctl %s", name);
	if (cmd->subcommands != NULL) {
		fprintf(f, " COMMAND [ARGS]\n");
		return;
	}
	fprintf(f, " [-j]");
	for (flag = cmd->flags; flag != NULL && flag->name != NULL; flag++) {
		if (flag->arg != NULL)
			fprintf(f, " [--%s %s]", flag->name, flag->arg);
		else
			fprintf(f, " [--%s]", flag->name);
	}
	if (cmd->args_usage != NULL)
		fprintf(f, " %s", cmd->args_usage);
	fputc('\n', f);
}

static void
ctl_option_line(FILE *f, int width, int short_name, const char *name,
    const char *arg, const char *help)
{
	char left[128];

	if (short_name != 0)
		snprintf(left, sizeof left, "-%c, --%s%s%s", short_name, name,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	else
		snprintf(left, sizeof left, "    --%s%s%s", name,
		    arg != NULL ? " " : "", arg != NULL ? arg : "");
	fprintf(f, "  %-*s  %s\n", width, left, help);
}

static void
ctl_options_help(FILE *f, const struct ctl_command *cmd)
{
	const struct ctl_flag *flag;
	int width = (int)strlen("-j, --json");
	int len;

	for (flag = cmd->flags; flag != NULL && flag->name != NULL; flag++) {
		len = 6 + (int)strlen(flag->name);
		if (flag->arg != NULL)
			len += 1 + (int)strlen(flag->arg);
		if (len > width)
			width = len;
	}
	fprintf(f, "\nOptions:\n");
	for (flag = cmd->flags; flag != NULL && flag->name != NULL; flag++)
		ctl_option_line(f, width, flag->short_name, flag->name,
		    flag->arg, flag->help);
	if (cmd->subcommands == NULL)
		ctl_option_line(f, width, 'j', "json", NULL,
		    "print the daemon's JSON answer");
	ctl_option_line(f, width, 'h', "help", NULL, "print this help");
}

static void
ctl_command_help(FILE *f, const char *name, const struct ctl_command *cmd)
{
	ctl_usage_line(f, name, cmd);
	if (cmd->alias != NULL)
		fprintf(f, "alias: %s\n", cmd->alias);
	fprintf(f, "\n%s", cmd->help);
	ctl_options_help(f, cmd);
	if (cmd->subcommands == NULL)
		return;
	fprintf(f, "\nCommands:\n");
	ctl_list_commands(f, cmd->subcommands);
	fprintf(f, "\nRun 'akctl %s COMMAND --help' for a command's usage.\n",
	    name);
}

/* Optimal string alignment distance: Levenshtein plus transpositions. */
static size_t
ctl_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), cols = lb + 1, d, cost;
	size_t *m = xcalloc((la + 1) * cols, sizeof *m);

	for (size_t i = 0; i <= la; i++)
		m[i * cols] = i;
	for (size_t j = 0; j <= lb; j++)
		m[j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			cost = a[i - 1] == b[j - 1] ? 0 : 1;
			d = m[(i - 1) * cols + j] + 1;
			if (m[i * cols + j - 1] + 1 < d)
				d = m[i * cols + j - 1] + 1;
			if (m[(i - 1) * cols + j - 1] + cost < d)
				d = m[(i - 1) * cols + j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] &&
			    m[(i - 2) * cols + j - 2] + 1 < d)
				d = m[(i - 2) * cols + j - 2] + 1;
			m[i * cols + j] = d;
		}
	}
	d = m[la * cols + lb];
	free(m);
	return d;
}

/* The nearest name or alias, if it is near enough to be a typo. */
static const char *
ctl_suggest(const struct ctl_command *const *table, const char *word)
{
	const char *best = NULL, *names[2];
	size_t best_distance = CTL_SUGGEST_MAX_DISTANCE + 1, d;

	if (strlen(word) > 64)
		return NULL;
	for (size_t i = 0; table[i] != NULL; i++) {
		names[0] = table[i]->name;
		names[1] = table[i]->alias;
		for (size_t k = 0; k < nitems(names); k++) {
			if (names[k] == NULL)
				continue;
			d = ctl_distance(word, names[k]);
			if (d < best_distance && d < strlen(names[k])) {
				best = names[k];
				best_distance = d;
			}
		}
	}
	return best;
}

static int
ctl_unknown(const struct ctl_command *const *table, const char *group,
    const char *word)
{
	const char *suggestion = ctl_suggest(table, word);

	fprintf(stderr, "akctl: unknown %s%scommand \"%s\"; ", group ? group : "",
	    group ? " " : "", word);
	if (suggestion != NULL)
		fprintf(stderr, "did you mean \"%s\"?\n", suggestion);
	else if (group != NULL)
		fprintf(stderr, "run 'akctl %s --help' for the list\n", group);
	else
		fprintf(stderr, "run 'akctl help' for the list\n");
	return CTL_EXIT_USAGE;
}

static const struct ctl_command *
ctl_lookup(const struct ctl_command *const *table, const char *word)
{
	for (size_t i = 0; table[i] != NULL; i++) {
		if (strcmp(word, table[i]->name) == 0)
			return table[i];
		if (table[i]->alias != NULL &&
		    strcmp(word, table[i]->alias) == 0)
			return table[i];
	}
	return NULL;
}

/* "akctl: token revoke: WHAT; run 'akctl token revoke --help'", 64. */
int
ctl_usage_error(struct ctl_context *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "akctl: %s: ", ctx->command_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; run 'akctl %s --help'\n", ctx->command_name);
	return CTL_EXIT_USAGE;
}

/* What was wrong with the option getopt refused, as the user typed it. */
static void
ctl_option_problem(int ch, char **argv, char *buf, size_t size)
{
	const char *arg = argv[optind - 1];
	int len = (int)strcspn(arg, "=");

	if (ch == ':')
		snprintf(buf, size, "option %.*s needs a value", len, arg);
	else if (strncmp(arg, "--", 2) == 0 && arg[len] == '=' && optopt != 0)
		snprintf(buf, size, "option %.*s takes no value", len, arg);
	else if (strncmp(arg, "--", 2) == 0 || optopt == 0)
		snprintf(buf, size, "unknown option \"%.*s\"", len, arg);
	else
		snprintf(buf, size, "unknown option \"-%c\"", optopt);
}

static int
ctl_bad_option(struct ctl_context *ctx, int ch, char **argv)
{
	char problem[256];

	ctl_option_problem(ch, argv, problem, sizeof problem);
	return ctl_usage_error(ctx, "%s", problem);
}

/* getopt_long's tables for a command: its flags, then -j and -h. */
static void
ctl_option_tables(const struct ctl_command *cmd, struct option *longopts,
    char *optstring)
{
	const struct ctl_flag *flag = cmd->flags;
	size_t n = 0, o = 0;

	optstring[o++] = cmd->subcommands != NULL ? '+' : ':';
	if (cmd->subcommands != NULL)
		optstring[o++] = ':';
	for (; flag != NULL && flag->name != NULL && n < CTL_FLAGS_MAX; flag++) {
		longopts[n].name = flag->name;
		longopts[n].has_arg = flag->arg != NULL ? required_argument :
		    no_argument;
		longopts[n].flag = NULL;
		longopts[n].val = flag->short_name != 0 ? flag->short_name :
		    CTL_FLAG_BASE + (int)n;
		if (flag->short_name != 0) {
			optstring[o++] = (char)flag->short_name;
			if (flag->arg != NULL)
				optstring[o++] = ':';
		}
		n++;
	}
	longopts[n++] = (struct option){ "json", no_argument, NULL, 'j' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	memcpy(optstring + o, "jh", 3);
}

static void
ctl_store_flag(struct ctl_context *ctx, const struct ctl_command *cmd,
    int ch)
{
	for (int i = 0; i < CTL_FLAGS_MAX && cmd->flags != NULL &&
	    cmd->flags[i].name != NULL; i++) {
		if (ch == cmd->flags[i].short_name || ch == CTL_FLAG_BASE + i) {
			ctx->flag_values[i] = optarg != NULL ? optarg : "";
			return;
		}
	}
}

/*
 * The second getopt_long pass, over the command's own words (argv[0] is
 * the command). Return -1 to go on with argc and argv left at the
 * arguments, else the exit code.
 */
static int
ctl_parse_options(struct ctl_context *ctx, const struct ctl_command *cmd,
    int *argc, char ***argv)
{
	struct option longopts[CTL_FLAGS_MAX + 3];
	char optstring[4 + 2 * CTL_FLAGS_MAX + 3];
	int ch;

	ctl_option_tables(cmd, longopts, optstring);
	optind = 0;	/* glibc: start again, re-reading optstring's '+' */
	opterr = 0;
	while ((ch = getopt_long(*argc, *argv, optstring, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'j':
			ctx->json = 1;
			break;
		case 'h':
			ctl_command_help(stdout, ctx->command_name, cmd);
			return CTL_EXIT_OK;
		case ':':
		case '?':
			return ctl_bad_option(ctx, ch, *argv);
		default:
			ctl_store_flag(ctx, cmd, ch);
			break;
		}
	}
	*argc -= optind;
	*argv += optind;
	return -1;
}

static int
ctl_check_args(struct ctl_context *ctx, const struct ctl_command *cmd,
    int argc, char **argv)
{
	if (cmd->subcommands != NULL && argc == 0)
		return ctl_usage_error(ctx, "missing command");
	if (cmd->subcommands != NULL)
		return -1;
	if (argc < cmd->args_min)
		return ctl_usage_error(ctx, "missing %s", cmd->args_usage);
	if (argc > cmd->args_max)
		return ctl_usage_error(ctx, "unexpected argument \"%s\"",
		    argv[cmd->args_max]);
	return -1;
}

/* Run the command named by argv[0], looked up in table. */
static int
ctl_run(struct ctl_context *ctx, const struct ctl_command *const *table,
    const char *group, int argc, char **argv)
{
	const struct ctl_command *cmd;
	int ret;

	if ((cmd = ctl_lookup(table, argv[0])) == NULL)
		return ctl_unknown(table, group, argv[0]);
	free(ctx->command_name);
	if (group != NULL)
		xasprintf(&ctx->command_name, "%s %s", group, cmd->name);
	else
		ctx->command_name = xstrdup(cmd->name);
	ctx->command = cmd;
	memset(ctx->flag_values, 0, sizeof ctx->flag_values);

	if ((ret = ctl_parse_options(ctx, cmd, &argc, &argv)) != -1)
		return ret;
	if ((ret = ctl_check_args(ctx, cmd, argc, argv)) != -1)
		return ret;
	if (cmd->subcommands != NULL)
		return ctl_run(ctx, cmd->subcommands, cmd->name, argc, argv);
	return cmd->exec(ctx, argc, argv);
}

/* akctl help [COMMAND [SUBCOMMAND]] */
static int
ctl_help_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const struct ctl_command *const *table = ctl_commands;
	const struct ctl_command *cmd = NULL;
	char *name = NULL, *longer;
	int i;

	(void)ctx;
	if (argc == 0) {
		ctl_usage_full(stdout);
		return CTL_EXIT_OK;
	}
	for (i = 0; i < argc; i++) {
		if (table == NULL) {
			fprintf(stderr, "akctl: help: \"%s\" has no "
			    "subcommands\n", name);
			free(name);
			return CTL_EXIT_USAGE;
		}
		if ((cmd = ctl_lookup(table, argv[i])) == NULL) {
			ctl_unknown(table, name, argv[i]);
			free(name);
			return CTL_EXIT_USAGE;
		}
		if (name == NULL)
			name = xstrdup(cmd->name);
		else {
			xasprintf(&longer, "%s %s", name, cmd->name);
			free(name);
			name = longer;
		}
		table = cmd->subcommands;
	}
	ctl_command_help(stdout, name, cmd);
	free(name);
	return CTL_EXIT_OK;
}

static int
ctl_check_globals(struct ctl_context *ctx)
{
	if (ctx->url != NULL && strncasecmp(ctx->url, "http://", 7) != 0 &&
	    strncasecmp(ctx->url, "https://", 8) != 0) {
		fprintf(stderr, "akctl: --url must start with http:// or "
		    "https://, not \"%s\"\n", ctx->url);
		return CTL_EXIT_USAGE;
	}
	for (const char *p = ctx->token; p != NULL && *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p) || *p == ' ') {
			fprintf(stderr, "akctl: the token contains spaces or "
			    "control characters\n");
			return CTL_EXIT_USAGE;
		}
	}
	return -1;
}

static const char *
ctl_env(const char *name)
{
	const char *value = getenv(name);

	return value != NULL && *value != '\0' ? value : NULL;
}

/*
 * The first getopt_long pass: the global options, stopping at the
 * command. Return -1 with *first at the command, else the exit code.
 */
static int
ctl_parse_globals(struct ctl_context *ctx, int argc, char **argv, int *first)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, CTL_OPTION_SOCKET },
		{ "url", required_argument, NULL, CTL_OPTION_URL },
		{ "token", required_argument, NULL, CTL_OPTION_TOKEN },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char problem[256];
	int ch;

	ctx->socket_path = ctl_env("AKCTL_SOCKET");
	if (ctx->socket_path == NULL)
		ctx->socket_path = CTL_DEFAULT_SOCKET;
	ctx->url = ctl_env("AKCTL_URL");
	ctx->token = ctl_env("AKCTL_TOKEN");

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:jhV", longopts, NULL)) != -1) {
		switch (ch) {
		case CTL_OPTION_SOCKET:
			ctx->socket_path = optarg;
			ctx->url = NULL;	/* the last one given wins */
			break;
		case CTL_OPTION_URL:
			ctx->url = optarg;
			break;
		case CTL_OPTION_TOKEN:
			ctx->token = optarg;
			break;
		case 'j':
			ctx->json = 1;
			break;
		case 'h':
			ctl_usage_full(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("akctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			ctl_option_problem(ch, argv, problem, sizeof problem);
			fprintf(stderr, "akctl: %s; run 'akctl help'\n",
			    problem);
			return CTL_EXIT_USAGE;
		}
	}
	*first = optind;
	return ctl_check_globals(ctx);
}

/* The value of the running command's option --name, or NULL. */
const char *
ctl_flag_value(struct ctl_context *ctx, const char *name)
{
	const struct ctl_flag *flags = ctx->command->flags;

	for (int i = 0; i < CTL_FLAGS_MAX && flags != NULL &&
	    flags[i].name != NULL; i++) {
		if (strcmp(flags[i].name, name) == 0)
			return ctx->flag_values[i];
	}
	return NULL;
}

/* -j: the daemon's answer, indented, in the daemon's order. */
void
ctl_print_json(json_t *json)
{
	char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text == NULL)
		fatalx("cannot print JSON");
	printf("%s\n", text);
	free(text);
}

/* One "label        value" line of an aligned listing. */
void
ctl_print_label(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-*s ", CTL_LABEL_WIDTH, label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* A scalar JSON value as text: 42, true, ready; anything else compact. */
void
ctl_format_value(json_t *value, char *buf, size_t size)
{
	char *text;

	if (json_is_string(value))
		snprintf(buf, size, "%s", json_string_value(value));
	else if (json_is_integer(value))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(value));
	else if (json_is_real(value))
		snprintf(buf, size, "%g", json_real_value(value));
	else if (value == NULL)
		snprintf(buf, size, "?");
	else {
		text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, size, "%s", text != NULL ? text : "?");
		free(text);
	}
}

/* Whether word has the shape of an ID of that kind: "prj_" and more. */
int
ctl_looks_like_id(const char *word, const char *prefix)
{
	size_t len = strlen(prefix);

	return strncmp(word, prefix, len) == 0 && word[len] == '_';
}

/* 0 when id is a TypeID with prefix (ses, prj...), else a usage error. */
int
ctl_check_id(struct ctl_context *ctx, const char *id, const char *prefix)
{
	if (typeid_check(id, prefix) == 0)
		return 0;
	return ctl_usage_error(ctx, "\"%s\" is not a valid ID: expected "
	    "%s_ followed by %d characters", id, prefix, TYPEID_SUFFIX_LEN);
}

/* request[key] = value, or a usage error if value is not UTF-8. */
int
ctl_set_string(struct ctl_context *ctx, json_t *request, const char *key,
    const char *value)
{
	if (json_object_set_new(request, key, json_string(value)) == 0)
		return 0;
	return ctl_usage_error(ctx, "the %s is not valid UTF-8", key);
}

/* object[key] if it is a string, else "": answers omit empty fields. */
const char *
ctl_string(json_t *object, const char *key)
{
	const char *value = json_string_value(json_object_get(object, key));

	return value != NULL ? value : "";
}

/* object[key] if it is an integer, else 0. */
json_int_t
ctl_integer(json_t *object, const char *key)
{
	return json_integer_value(json_object_get(object, key));
}

/* "-" for what is empty, in tables and labels. */
const char *
ctl_dash(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

/* "SESSION_STATE_TYPE_COMPLETED" less "SESSION_STATE_TYPE_": "completed". */
void
ctl_enum_short(const char *full, const char *prefix, char *buf, size_t size)
{
	size_t len = strlen(prefix), i;

	if (full == NULL || *full == '\0')
		full = "unspecified";
	else if (strncmp(full, prefix, len) == 0 && full[len] != '\0')
		full += len;
	for (i = 0; full[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)full[i]);
	if (size > 0)
		buf[i] = '\0';
}

/* "active" or "DEPLOYMENT_STATE_ACTIVE" -> the full name, else NULL. */
char *
ctl_enum_parse(const char *word, const char *prefix,
    const char *const *short_names)
{
	size_t len = strlen(prefix);
	char *full, *p;

	if (strncasecmp(word, prefix, len) == 0)
		word += len;
	for (size_t i = 0; short_names[i] != NULL; i++) {
		if (strcasecmp(word, short_names[i]) != 0)
			continue;
		xasprintf(&full, "%s%s", prefix, short_names[i]);
		for (p = full + len; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		return full;
	}
	return NULL;
}

/* A CodeLocation as users write it: "program.py:on_event". */
char *
ctl_code_location(json_t *location)
{
	const char *path = ctl_string(location, "path");
	const char *name = ctl_string(location, "name");
	char *text;

	if (*name != '\0')
		xasprintf(&text, "%s:%s", ctl_dash(path), name);
	else
		text = xstrdup(ctl_dash(path));
	return text;
}

/*
 * A Value as text. With json_values=true every Value is
 * {"string":{"v":"<native JSON>"}}, so that text is the answer; any other
 * Value is shown as its compact proto JSON.
 */
char *
ctl_value_text(json_t *value)
{
	json_t *string = json_object_get(value, "string");
	char *text;

	if (json_is_object(string) && json_object_size(value) == 1)
		return xstrdup(ctl_string(string, "v"));
	if (value == NULL)
		return xstrdup("");
	text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER);
	return text != NULL ? text : xstrdup("?");
}

/* The same as JSON: the native JSON parsed, else the text as a string. */
json_t *
ctl_value_json(json_t *value)
{
	char *text = ctl_value_text(value);
	json_t *json = json_loads(text, JSON_DECODE_ANY, NULL);

	if (json == NULL)
		json = json_string(text);
	free(text);
	return json != NULL ? json : json_null();
}

/* Each line of text after indent spaces. */
void
ctl_print_indented(const char *text, int indent)
{
	size_t len;

	while (*text != '\0') {
		len = strcspn(text, "\n");
		printf("%*s%.*s\n", indent, "", (int)len, text);
		text += len;
		if (*text == '\n')
			text++;
	}
}

/* proto3 JSON bytes: standard base64 with padding (OpenSSL's EVP). */
char *
ctl_base64_encode(const void *data, size_t len)
{
	char *text;

	if (len > (size_t)INT32_MAX / 2)
		fatalx("%s: %zu bytes is too much", __func__, len);
	text = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)text, data, (int)len);
	return text;
}

/* The bytes of base64 text (NUL-terminated for convenience), or NULL. */
void *
ctl_base64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	unsigned char *data;
	int out;

	if (n % 4 != 0 || n > (size_t)INT32_MAX / 2)
		return NULL;
	while (pad < 2 && n > pad && text[n - 1 - pad] == '=')
		pad++;
	data = xmalloc(n / 4 * 3 + 1);
	if ((out = EVP_DecodeBlock(data, (const unsigned char *)text,
	    (int)n)) < 0 || (size_t)out < pad) {
		free(data);
		return NULL;
	}
	*len = (size_t)out - pad;
	data[*len] = '\0';
	return data;
}

/* A positive count given to option (-n 50), or a usage error. */
int
ctl_parse_count(struct ctl_context *ctx, const char *option,
    const char *text, json_int_t *count)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < 1 ||
	    n > INT32_MAX)
		return ctl_usage_error(ctx, "%s wants a number from 1 to %d, "
		    "not \"%s\"", option, INT32_MAX, text);
	*count = n;
	return 0;
}

/*
 * Write a downloaded file: a new one, or over an old one with force;
 * never through a symbolic link. Return 0, or -1 after saying why.
 */
int
ctl_write_file(const char *path, const void *data, size_t len, int force)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	size_t off = 0;
	ssize_t n;
	int fd;

	flags |= force ? O_TRUNC : O_EXCL;
	if ((fd = open(path, flags, 0644)) == -1) {
		if (errno == EEXIST)
			fprintf(stderr, "akctl: %s exists; use --force to "
			    "overwrite it\n", path);
		else
			fprintf(stderr, "akctl: cannot create %s: %s\n", path,
			    strerror(errno));
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, (const char *)data + off, len - off)) < 0 &&
		    errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off < len || close(fd) != 0) {
		fprintf(stderr, "akctl: cannot write %s: %s\n", path,
		    strerror(errno));
		if (off < len)
			close(fd);
		return -1;
	}
	return 0;
}

/* An aligned table: a header row, then rows, printed and freed at once. */
struct ctl_table {
	size_t	  columns;
	size_t	  rows;		/* the header included */
	size_t	  allocated;
	char	**cells;
};

static void
ctl_table_add_row(struct ctl_table *table, va_list ap)
{
	const char *cell;
	char *copy;

	if (table->rows == table->allocated) {
		table->allocated = table->allocated * 2 + 8;
		table->cells = xreallocarray(table->cells,
		    table->allocated * table->columns, sizeof *table->cells);
	}
	for (size_t c = 0; c < table->columns; c++) {
		cell = va_arg(ap, const char *);
		copy = xstrdup(ctl_dash(cell));
		for (char *p = copy; *p != '\0'; p++) {
			if (iscntrl((unsigned char)*p))
				*p = ' ';	/* the daemon's words */
		}
		table->cells[table->rows * table->columns + c] = copy;
	}
	table->rows++;
}

/* ctl_table_new(3, "ID", "NAME", "CREATED") */
struct ctl_table *
ctl_table_new(size_t columns, ...)
{
	struct ctl_table *table = xcalloc(1, sizeof *table);
	va_list ap;

	table->columns = columns;
	va_start(ap, columns);
	ctl_table_add_row(table, ap);
	va_end(ap);
	return table;
}

/* One row of as many strings as columns; NULL or "" shows as "-". */
void
ctl_table_add(struct ctl_table *table, ...)
{
	va_list ap;

	va_start(ap, table);
	ctl_table_add_row(table, ap);
	va_end(ap);
}

void
ctl_table_print(struct ctl_table *table)
{
	size_t *width = xcalloc(table->columns, sizeof *width), len, c, r;
	char **cell;

	for (r = 0; r < table->rows; r++) {
		for (c = 0; c < table->columns; c++) {
			len = strlen(table->cells[r * table->columns + c]);
			if (len > width[c])
				width[c] = len;
		}
	}
	for (r = 0; r < table->rows; r++) {
		cell = table->cells + r * table->columns;
		for (c = 0; c + 1 < table->columns; c++)
			printf("%-*s  ", (int)width[c], cell[c]);
		printf("%s\n", cell[c]);
	}
	for (r = 0; r < table->rows * table->columns; r++)
		free(table->cells[r]);
	free(table->cells);
	free(table);
	free(width);
}

int
main(int argc, char **argv)
{
	struct ctl_context ctx;
	int first = 0, ret;

	memset(&ctx, 0, sizeof ctx);
	log_open("akctl", 1, LOG_LEVEL_WARNING);
	if ((ret = ctl_parse_globals(&ctx, argc, argv, &first)) != -1)
		return ret;
	if (first >= argc) {
		ctl_usage_short(stderr);
		return CTL_EXIT_USAGE;
	}
	ret = ctl_run(&ctx, ctl_commands, NULL, argc - first, argv + first);
	ctl_client_free(&ctx);
	free(ctx.command_name);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "akctl: cannot write the output\n");
		if (ret == CTL_EXIT_OK)
			ret = CTL_EXIT_ERROR;
	}
	return ret;
}

/* Call method with {field: id}, once id has been checked against prefix. */
int
ctl_call_id(struct ctl_context *ctx, const char *method, const char *field,
    const char *prefix, const char *id, json_t **answer)
{
	json_t *request;
	int ret;

	if ((ret = ctl_check_id(ctx, id, prefix)) != 0)
		return ret;
	request = json_pack("{s:s}", field, id);
	ret = ctl_call(ctx, method, request, answer);
	json_decref(request);
	return ret;
}

/* After a change: the answer with -j, else "verb id". Frees answer. */
int
ctl_print_done(struct ctl_context *ctx, json_t *answer, const char *verb,
    const char *id)
{
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s %s\n", verb, id);
	json_decref(answer);
	return CTL_EXIT_OK;
}

/*
 * Print a List answer and free it: the answer as JSON with -j, else "no
 * WHAT" when its array key is empty, else print(that array).
 */
int
ctl_print_list(struct ctl_context *ctx, json_t *answer, const char *key,
    const char *what, void (*print)(json_t *list))
{
	json_t *list = json_object_get(answer, key);

	if (ctx->json)
		ctl_print_json(answer);
	else if (json_array_size(list) == 0)
		printf("no %s\n", what);
	else
		print(list);
	json_decref(answer);
	return CTL_EXIT_OK;
}
