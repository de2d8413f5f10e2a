/*
 * akctl.h: akctl's private header, the types and prototypes shared by the
 * files of the command-line client.
 *
 * akctl is a plain client of autokittehd's HTTP API. akctl.c parses the
 * global options and dispatches to one command per ctl-*.c file, each of
 * which exports a struct ctl_command built from designated initialisers;
 * ctl-client.c is the only file that talks to the daemon.
 */
#ifndef AKCTL_H
#define AKCTL_H

/* First: it pulls config.h, which defines _GNU_SOURCE. */
#include "common.h"

#include <jansson.h>

/* Exit codes, as documented in akctl(1). */
#define CTL_EXIT_OK		0	/* success */
#define CTL_EXIT_ERROR		1	/* the daemon answered with an error */
#define CTL_EXIT_UNREACHABLE	2	/* the daemon cannot be reached */
#define CTL_EXIT_USAGE		64	/* EX_USAGE: bad command line */

#define CTL_DEFAULT_SOCKET	"/run/autokitteh/api.sock"

/* The API methods akctl calls (docs/API.md). */
#define CTL_SYSTEM_STATUS	"/autokitteh.system.v1.SystemService/Status"
#define CTL_SYSTEM_CONFIG	"/autokitteh.system.v1.SystemService/Config"
#define CTL_TOKENS_CREATE	"/autokitteh.system.v1.TokensService/Create"
#define CTL_TOKENS_LIST		"/autokitteh.system.v1.TokensService/List"
#define CTL_TOKENS_REVOKE	"/autokitteh.system.v1.TokensService/Revoke"

/* Most options a command may declare besides -j and -h. */
#define CTL_FLAGS_MAX		8

struct ctl_client;
struct ctl_context;

/* An option of one command, besides -j/--json and -h/--help. */
struct ctl_flag {
	const char	*name;		/* long name: "name" for --name */
	int		 short_name;	/* 'n' for -n, or 0 */
	const char	*arg;		/* "NAME" if it takes a value, else NULL */
	const char	*help;
};

/*
 * One command: a verb (status) or a verb group (token) whose subcommands
 * live in their own NULL-terminated table. The dispatcher parses the
 * options and checks the number of arguments before calling exec, which
 * gets the remaining arguments only.
 */
struct ctl_command {
	const char			 *name;
	const char			 *alias;	/* or NULL */
	const char			 *args_usage;	/* "ID", or NULL */
	const char			 *summary;	/* one line, for lists */
	const char			 *help;		/* paragraphs for --help */
	const struct ctl_flag		 *flags;	/* ends with { NULL }, or NULL */
	int				  args_min;
	int				  args_max;
	const struct ctl_command *const	 *subcommands;	/* a verb group */
	int (*exec)(struct ctl_context *, int argc, char **argv);
};

/* What a command runs with: the global options and the client. */
struct ctl_context {
	const char			*socket_path;
	const char			*url;		/* TCP instead of the socket */
	const char			*token;
	int				 json;
	const struct ctl_command	*command;	/* being run */
	char				*command_name;	/* "token create" */
	const char			*flag_values[CTL_FLAGS_MAX];
	struct ctl_client		*client;	/* created by the first call */
};

/* akctl.c */
const char	*ctl_flag_value(struct ctl_context *, const char *name);
void		 ctl_print_json(json_t *);
void		 ctl_print_label(const char *label, const char *fmt, ...)
		    AK_PRINTFLIKE(2, 3);
void		 ctl_format_value(json_t *, char *buf, size_t size);

/* ctl-client.c */
int	ctl_call(struct ctl_context *, const char *method_path, json_t *request,
	    json_t **response);
int	ctl_call_quiet(struct ctl_context *, const char *method_path,
	    json_t *request, json_t **response);
void	ctl_client_free(struct ctl_context *);

/* ctl-status.c */
extern const struct ctl_command ctl_status_command;

/* ctl-version.c */
extern const struct ctl_command ctl_version_command;

/* ctl-config.c */
extern const struct ctl_command ctl_config_command;

/* ctl-token.c */
extern const struct ctl_command ctl_token_command;

#endif
