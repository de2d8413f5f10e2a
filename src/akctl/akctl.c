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
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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

static int ctl_usage_error(struct ctl_context *, const char *fmt, ...)
    AK_PRINTFLIKE(2, 3);

static int
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
