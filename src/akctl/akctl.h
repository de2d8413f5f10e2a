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
#define CTL_SYSTEM_VERIFY_FILTER "/autokitteh.system.v1.SystemService/VerifyFilter"

/* AutoKitteh's services (docs/autokitteh-interfaces.md). */
#define CTL_AK(pkg, svc, method) "/autokitteh." pkg ".v1." svc "/" method
#define CTL_APPLY		CTL_AK("apply", "ApplyService", "Apply")
#define CTL_PROJECTS_CREATE	CTL_AK("projects", "ProjectsService", "Create")
#define CTL_PROJECTS_GET	CTL_AK("projects", "ProjectsService", "Get")
#define CTL_PROJECTS_LIST	CTL_AK("projects", "ProjectsService", "List")
#define CTL_PROJECTS_DELETE	CTL_AK("projects", "ProjectsService", "Delete")
#define CTL_PROJECTS_BUILD	CTL_AK("projects", "ProjectsService", "Build")
#define CTL_PROJECTS_SET_RESOURCES \
	CTL_AK("projects", "ProjectsService", "SetResources")
#define CTL_PROJECTS_DOWNLOAD_RESOURCES \
	CTL_AK("projects", "ProjectsService", "DownloadResources")
#define CTL_BUILDS_GET		CTL_AK("builds", "BuildsService", "Get")
#define CTL_BUILDS_LIST		CTL_AK("builds", "BuildsService", "List")
#define CTL_BUILDS_DELETE	CTL_AK("builds", "BuildsService", "Delete")
#define CTL_BUILDS_DOWNLOAD	CTL_AK("builds", "BuildsService", "Download")
#define CTL_DEPLOYMENTS(method)	CTL_AK("deployments", "DeploymentsService", \
				    method)
#define CTL_TRIGGERS_GET	CTL_AK("triggers", "TriggersService", "Get")
#define CTL_TRIGGERS_LIST	CTL_AK("triggers", "TriggersService", "List")
#define CTL_TRIGGERS_CREATE	CTL_AK("triggers", "TriggersService", "Create")
#define CTL_TRIGGERS_DELETE	CTL_AK("triggers", "TriggersService", "Delete")
#define CTL_VARS_SET		CTL_AK("vars", "VarsService", "Set")
#define CTL_VARS_GET		CTL_AK("vars", "VarsService", "Get")
#define CTL_VARS_DELETE		CTL_AK("vars", "VarsService", "Delete")
#define CTL_EVENTS_GET		CTL_AK("events", "EventsService", "Get")
#define CTL_EVENTS_LIST		CTL_AK("events", "EventsService", "List")
#define CTL_EVENTS_SAVE		CTL_AK("events", "EventsService", "Save")
#define CTL_DISPATCHER(method)	CTL_AK("dispatcher", "DispatcherService", \
				    method)
#define CTL_SESSIONS(method)	CTL_AK("sessions", "SessionsService", method)

/* TypeID prefixes of the objects akctl names. */
#define CTL_PREFIX_PROJECT	"prj"
#define CTL_PREFIX_BUILD	"bld"
#define CTL_PREFIX_DEPLOYMENT	"dep"
#define CTL_PREFIX_TRIGGER	"trg"
#define CTL_PREFIX_EVENT	"evt"
#define CTL_PREFIX_SESSION	"ses"
#define CTL_PREFIX_CONNECTION	"con"

#define CTL_DEFAULT_MANIFEST	"autokitteh.yaml"

/* Most options a command may declare besides -j and -h. */
#define CTL_FLAGS_MAX		12

struct ctl_client;
struct ctl_context;
struct ctl_table;

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
int		 ctl_usage_error(struct ctl_context *, const char *fmt, ...)
		    AK_PRINTFLIKE(2, 3);
int		 ctl_call_id(struct ctl_context *, const char *method,
		    const char *field, const char *prefix, const char *id,
		    json_t **answer);
int		 ctl_print_done(struct ctl_context *, json_t *answer,
		    const char *verb, const char *id);
int		 ctl_print_list(struct ctl_context *, json_t *answer,
		    const char *key, const char *what,
		    void (*print)(json_t *list));
int		 ctl_check_id(struct ctl_context *, const char *id,
		    const char *prefix);
int		 ctl_looks_like_id(const char *word, const char *prefix);
int		 ctl_set_string(struct ctl_context *, json_t *, const char *key,
		    const char *value);
const char	*ctl_string(json_t *object, const char *key);
json_int_t	 ctl_integer(json_t *object, const char *key);
const char	*ctl_dash(const char *);
void		 ctl_enum_short(const char *full, const char *prefix, char *buf,
		    size_t size);
char		*ctl_enum_parse(const char *word, const char *prefix,
		    const char *const *short_names);
char		*ctl_code_location(json_t *location);
char		*ctl_value_text(json_t *value);
json_t		*ctl_value_json(json_t *value);
void		 ctl_print_indented(const char *text, int indent);
char		*ctl_base64_encode(const void *data, size_t len);
void		*ctl_base64_decode(const char *text, size_t *len);
int		 ctl_write_file(const char *path, const void *data, size_t len,
		    int force);
int		 ctl_parse_count(struct ctl_context *, const char *option,
		    const char *text, json_int_t *count);
struct ctl_table *ctl_table_new(size_t columns, ...);
void		 ctl_table_add(struct ctl_table *, ...);
void		 ctl_table_print(struct ctl_table *);

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

/* ctl-secrets.c */
extern const struct ctl_command ctl_secrets_command;

/* ctl-manifest.c */
extern const struct ctl_command ctl_manifest_command;
char	*ctl_manifest_read(struct ctl_context *, const char *path);
int	ctl_manifest_apply(struct ctl_context *, const char *path,
	    const char *text, int dry_run, const char *build_id,
	    json_t **answer);
void	ctl_manifest_print_lines(FILE *, json_t *answer, const char *key);

/* ctl-deploy.c */
extern const struct ctl_command ctl_deploy_command;

/* ctl-project.c */
extern const struct ctl_command ctl_project_command;
int	ctl_project_resolve(struct ctl_context *, const char *name_or_id,
	    char **project_id);
int	ctl_project_flag(struct ctl_context *, json_t *request,
	    const char *key);
int	ctl_project_create(struct ctl_context *, const char *name,
	    json_t **answer);
int	ctl_project_build(struct ctl_context *, const char *project_id,
	    json_t **answer);

/* ctl-build.c */
extern const struct ctl_command ctl_build_command;

/* ctl-deployment.c */
extern const struct ctl_command ctl_deployment_command;
int	ctl_deployment_activate(struct ctl_context *, const char *id);

/* ctl-trigger.c */
extern const struct ctl_command ctl_trigger_command;

/* ctl-connection.c */
extern const struct ctl_command ctl_connection_command;

/* ctl-var.c */
extern const struct ctl_command ctl_var_command;

/* ctl-value.c */
extern const struct ctl_command ctl_value_command;

/* ctl-event.c */
extern const struct ctl_command ctl_event_command;

/* ctl-session.c */
extern const struct ctl_command ctl_session_command;

#endif
