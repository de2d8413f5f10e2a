/*
 * ctl-session.c: "akctl session list|get|log|prints|stop|delete|watch|
 * start|restart" (SessionsService), the runs of a project's code.
 *
 * As with "ak", where a session ID is expected a project name (or ID) may
 * be given instead: it stands for that project's latest session. Values
 * are asked for with json_values=true, so each is a string of native
 * JSON. AutoKitteh's API lists logs newest first by default; akctl asks
 * for ascending order, since a log is read from the top.
 */
#include "akctl.h"

#include <string.h>
#include <time.h>

#define CTL_SESSION_STATE	"SESSION_STATE_TYPE_"
#define CTL_SESSION_POLL_MS	100
#define CTL_SESSION_TIMEOUT	"1m"
#define CTL_SESSION_PAGES_MAX	1000

static int ctl_session_list_exec(struct ctl_context *, int, char **);
static int ctl_session_get_exec(struct ctl_context *, int, char **);
static int ctl_session_log_exec(struct ctl_context *, int, char **);
static int ctl_session_prints_exec(struct ctl_context *, int, char **);
static int ctl_session_stop_exec(struct ctl_context *, int, char **);
static int ctl_session_delete_exec(struct ctl_context *, int, char **);
static int ctl_session_watch_exec(struct ctl_context *, int, char **);
static int ctl_session_start_exec(struct ctl_context *, int, char **);
static int ctl_session_restart_exec(struct ctl_context *, int, char **);
static int ctl_session_wait(struct ctl_context *, const char *, const char *);

static const char *const ctl_session_states[] = {
	"created", "running", "completed", "error", "stopped", NULL
};

static const struct ctl_flag ctl_session_list_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "only the sessions of PROJECT (a name or an ID)" },
	{ .name = "deployment", .short_name = 'd', .arg = "DEPLOYMENT",
	  .help = "only the sessions of DEPLOYMENT (dep_...)" },
	{ .name = "state", .short_name = 's', .arg = "STATE",
	  .help = "only those in STATE: created, running, completed, error "
	  "or stopped" },
	{ .name = "page-size", .short_name = 'n', .arg = "N",
	  .help = "one page of at most N sessions" },
	{ .name = "next-page-token", .arg = "TOKEN",
	  .help = "the page that TOKEN (from the previous page) names" },
	{ .name = "event-id", .arg = "EVENT_ID",
	  .help = "only the sessions started by the event EVENT_ID" },
	{ .name = NULL }
};

static const struct ctl_command ctl_session_list_command = {
	.name = "list",
	.alias = "ls",
	.summary = "list sessions, newest first",
	.help = "List the sessions, newest first, as a table of ID, STATE,\n"
	    "ENTRYPOINT (file:function) and CREATED. Without --page-size or\n"
	    "--next-page-token every page is fetched; with them one page is,\n"
	    "and the token of the next one is printed to standard error.\n",
	.flags = ctl_session_list_flags,
	.exec = ctl_session_list_exec,
};

static const struct ctl_command ctl_session_get_command = {
	.name = "get",
	.args_usage = "SESSION",
	.summary = "show a session",
	.help = "Show the session SESSION (ses_..., or a project's name or ID\n"
	    "for its latest session): state, entry point, project, deployment,\n"
	    "build, event, times and inputs.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_get_exec,
};

static const struct ctl_flag ctl_session_log_flags[] = {
	{ .name = "asc", .help = "oldest first (the default)" },
	{ .name = "desc", .help = "newest first" },
	{ .name = NULL }
};

static const struct ctl_command ctl_session_log_command = {
	.name = "log",
	.args_usage = "SESSION",
	.summary = "print a session's log",
	.help =
	    "Print the log of SESSION, one record a line: TIMESTAMP TYPE TEXT.\n"
	    "PRINT records show the printed text; STATE records the new state\n"
	    "(\"completed: return value JSON\", \"error: MESSAGE\" followed by\n"
	    "the traceback, \"stopped: REASON\"); STOP_REQUEST records the\n"
	    "reason; CALL_* records the calls made for the session.\n",
	.flags = ctl_session_log_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_log_exec,
};

static const struct ctl_command ctl_session_prints_command = {
	.name = "prints",
	.args_usage = "SESSION",
	.summary = "print what a session printed",
	.help = "Print the text that SESSION printed, oldest first, one print a\n"
	    "line.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_prints_exec,
};

static const struct ctl_flag ctl_session_stop_flags[] = {
	{ .name = "force", .short_name = 'f',
	  .help = "terminate it now if it does not stop" },
	{ .name = "reason", .short_name = 'r', .arg = "REASON",
	  .help = "why, for the session's log" },
	{ .name = "delay", .arg = "DURATION",
	  .help = "with --force: ask now, terminate after DURATION" },
	{ .name = NULL }
};

static const struct ctl_command ctl_session_stop_command = {
	.name = "stop",
	.args_usage = "SESSION",
	.summary = "stop a running session",
	.help = "Ask SESSION to stop: a durable session stops at its next call\n"
	    "or wait, a non-durable one at once. With --force, terminate it at\n"
	    "once; with --force --delay DURATION (10s, 1m), ask now and\n"
	    "terminate it when DURATION has passed if it has not stopped.\n"
	    "'akctl session watch' tells when it has stopped.\n",
	.flags = ctl_session_stop_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_stop_exec,
};

static const struct ctl_command ctl_session_delete_command = {
	.name = "delete",
	.args_usage = "ID",
	.summary = "delete a session and its log",
	.help = "Delete the session with ID (ses_...; a project name is not\n"
	    "accepted here) and its log.\n",
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_delete_exec,
};

static const struct ctl_flag ctl_session_watch_flags[] = {
	{ .name = "timeout", .short_name = 't', .arg = "DURATION",
	  .help = "give up after DURATION (default: " CTL_SESSION_TIMEOUT ")" },
	{ .name = "end-state", .short_name = 'e', .arg = "STATE",
	  .help = "wait for STATE (created, running, completed, error or "
	  "stopped) instead of any final state" },
	{ .name = NULL }
};

static const struct ctl_command ctl_session_watch_command = {
	.name = "watch",
	.args_usage = "SESSION",
	.summary = "wait for a session to finish",
	.help =
	    "Wait until SESSION is completed, in error or stopped, and print\n"
	    "its ID and final state. Exit 0 if it completed, 1 if it ended in\n"
	    "error, was stopped, or did not finish within DURATION (250ms, 30s,\n"
	    "5m, 1h30m). With --end-state, wait for STATE instead: exit 0 once\n"
	    "the session is in STATE, 1 if it ends in another state.\n",
	.flags = ctl_session_watch_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_watch_exec,
};

static const struct ctl_flag ctl_session_start_flags[] = {
	{ .name = "project", .short_name = 'p', .arg = "PROJECT",
	  .help = "start on PROJECT's active deployment (a name or an ID)" },
	{ .name = "deployment", .short_name = 'd', .arg = "DEPLOYMENT",
	  .help = "start on DEPLOYMENT (dep_..., ACTIVE or TESTING)" },
	{ .name = "build", .short_name = 'b', .arg = "BUILD",
	  .help = "start from BUILD (bld_...)" },
	{ .name = "entrypoint", .short_name = 'e', .arg = "FILE:FUNC",
	  .help = "the function to call (required)" },
	{ .name = "input", .short_name = 'I', .arg = "KEY=JSON",
	  .help = "an input, the handler's event.data.KEY; more KEY=JSON may "
	  "follow as arguments" },
	{ .name = "durable", .short_name = 'D', .help = "a durable session" },
	{ .name = "watch", .short_name = 'w',
	  .help = "wait until it finishes, as 'akctl session watch'" },
	{ .name = "timeout", .short_name = 't', .arg = "DURATION",
	  .help = "with --watch, give up after DURATION (default: "
	  CTL_SESSION_TIMEOUT ")" },
	{ .name = NULL }
};

static const struct ctl_command ctl_session_start_command = {
	.name = "start",
	.args_usage = "[KEY=JSON ...]",
	.summary = "start a session by hand",
	.help = "Start a session that calls FILE:FUNC on the project's active\n"
	    "deployment (or the given deployment or build) and print its ID.\n"
	    "The inputs (-I KEY=JSON, and KEY=JSON arguments) are the data of\n"
	    "the handler's event. With --watch, wait for it to finish.\n",
	.flags = ctl_session_start_flags,
	.args_max = 64,
	.exec = ctl_session_start_exec,
};

static const struct ctl_flag ctl_session_restart_flags[] = {
	{ .name = "watch", .short_name = 'w',
	  .help = "wait until it finishes, as 'akctl session watch'" },
	{ .name = "timeout", .short_name = 't', .arg = "DURATION",
	  .help = "with --watch, give up after DURATION (default: "
	  CTL_SESSION_TIMEOUT ")" },
	{ .name = NULL }
};

static const struct ctl_command ctl_session_restart_command = {
	.name = "restart",
	.args_usage = "SESSION",
	.summary = "start a session again, as a new session",
	.help = "Start a new session with SESSION's project, deployment, entry\n"
	    "point, inputs (its event's data) and durability, and print its ID.\n"
	    "With --watch, wait for it to finish.\n",
	.flags = ctl_session_restart_flags,
	.args_min = 1,
	.args_max = 1,
	.exec = ctl_session_restart_exec,
};

static const struct ctl_command *const ctl_session_commands[] = {
	&ctl_session_list_command,
	&ctl_session_get_command,
	&ctl_session_log_command,
	&ctl_session_prints_command,
	&ctl_session_stop_command,
	&ctl_session_delete_command,
	&ctl_session_watch_command,
	&ctl_session_start_command,
	&ctl_session_restart_command,
	NULL
};

const struct ctl_command ctl_session_command = {
	.name = "session",
	.alias = "ses",
	.summary = "list, show, log, start, stop and watch sessions",
	.help = "Manage sessions, named by their IDs (ses_...). Where SESSION is\n"
	    "expected, a project's name or ID stands for its latest session.\n",
	.subcommands = ctl_session_commands,
};

/* The newest session of sessions: TypeIDs of UUIDv7 sort by time. */
static const char *
ctl_session_newest(json_t *sessions)
{
	const char *newest = NULL, *id;
	json_t *session;
	size_t i;

	json_array_foreach(sessions, i, session) {
		id = ctl_string(session, "session_id");
		if (newest == NULL || strcmp(id, newest) > 0)
			newest = id;
	}
	return newest;
}

/* A project's name or ID -> the ID of its latest session. */
static int
ctl_session_latest(struct ctl_context *ctx, const char *project,
    char **session_id)
{
	json_t *request = json_object(), *answer;
	const char *newest;
	char *project_id;
	int ret;

	if ((ret = ctl_project_resolve(ctx, project, &project_id)) != 0) {
		json_decref(request);
		return ret;
	}
	json_object_set_new(request, "project_id", json_string(project_id));
	free(project_id);
	ret = ctl_call(ctx, CTL_SESSIONS("List"), request, &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if ((newest = ctl_session_newest(json_object_get(answer,
	    "sessions"))) == NULL) {
		fprintf(stderr, "akctl: project \"%s\" has no sessions\n",
		    project);
		ret = CTL_EXIT_ERROR;
	} else
		*session_id = xstrdup(newest);
	json_decref(answer);
	return ret;
}

/* SESSION: a ses_ ID, or a project standing for its latest session. */
static int
ctl_session_target(struct ctl_context *ctx, const char *word,
    char **session_id)
{
	int ret;

	*session_id = NULL;
	if (!ctl_looks_like_id(word, CTL_PREFIX_SESSION))
		return ctl_session_latest(ctx, word, session_id);
	if ((ret = ctl_check_id(ctx, word, CTL_PREFIX_SESSION)) != 0)
		return ret;
	*session_id = xstrdup(word);
	return 0;
}

/*
 * Call a paged method (GetLog, GetPrints) until next_page_token is empty,
 * appending each page's array key to the first answer's.
 */
static int
ctl_session_fetch_all(struct ctl_context *ctx, const char *method,
    json_t *request, const char *key, json_t **answer)
{
	json_t *page = NULL;
	const char *token;
	int ret, pages = 1;

	if ((ret = ctl_call(ctx, method, request, answer)) != 0)
		return ret;
	token = ctl_string(*answer, "next_page_token");
	while (*token != '\0' && pages++ < CTL_SESSION_PAGES_MAX) {
		json_object_set_new(request, "page_token", json_string(token));
		json_decref(page);
		if ((ret = ctl_call(ctx, method, request, &page)) != 0) {
			json_decref(*answer);
			*answer = NULL;
			return ret;
		}
		json_array_extend(json_object_get(*answer, key),
		    json_object_get(page, key));
		token = ctl_string(page, "next_page_token");
		if (strcmp(token, ctl_string(request, "page_token")) == 0)
			break;	/* the same page again: do not loop */
	}
	json_decref(page);
	json_object_del(*answer, "next_page_token");
	return 0;
}

static int
ctl_session_list_request(struct ctl_context *ctx, json_t *request)
{
	const char *deployment = ctl_flag_value(ctx, "deployment");
	const char *state = ctl_flag_value(ctx, "state");
	const char *size = ctl_flag_value(ctx, "page-size");
	const char *token = ctl_flag_value(ctx, "next-page-token");
	const char *event = ctl_flag_value(ctx, "event-id");
	json_int_t n;
	char *full;
	int ret;

	if (event != NULL) {
		if ((ret = ctl_check_id(ctx, event, CTL_PREFIX_EVENT)) != 0)
			return ret;
		json_object_set_new(request, "event_id", json_string(event));
	}
	if (token != NULL && (ret = ctl_set_string(ctx, request, "page_token",
	    token)) != 0)
		return ret;

	if (deployment != NULL) {
		if ((ret = ctl_check_id(ctx, deployment,
		    CTL_PREFIX_DEPLOYMENT)) != 0)
			return ret;
		json_object_set_new(request, "deployment_id",
		    json_string(deployment));
	}
	if (state != NULL) {
		if ((full = ctl_enum_parse(state, CTL_SESSION_STATE,
		    ctl_session_states)) == NULL)
			return ctl_usage_error(ctx, "unknown state \"%s\": "
			    "expected created, running, completed, error or "
			    "stopped", state);
		json_object_set_new(request, "state_type", json_string(full));
		free(full);
	}
	if (size != NULL) {
		if ((ret = ctl_parse_count(ctx, "--page-size", size, &n)) != 0)
			return ret;
		json_object_set_new(request, "page_size", json_integer(n));
	}
	return ctl_project_flag(ctx, request, "project_id");
}

static int
ctl_session_compare(const void *a, const void *b)
{
	json_t *const *sa = a, *const *sb = b;

	return strcmp(ctl_string(*sb, "session_id"),
	    ctl_string(*sa, "session_id"));
}

static void
ctl_session_table(json_t *sessions)
{
	size_t n = json_array_size(sessions), i;
	json_t **sorted = xcalloc(n, sizeof *sorted);
	struct ctl_table *table;
	char state[64], *entrypoint;

	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(sessions, i);
	qsort(sorted, n, sizeof *sorted, ctl_session_compare);
	table = ctl_table_new(4, "ID", "STATE", "ENTRYPOINT", "CREATED");
	for (i = 0; i < n; i++) {
		ctl_enum_short(ctl_string(sorted[i], "state"),
		    CTL_SESSION_STATE, state, sizeof state);
		entrypoint = ctl_code_location(json_object_get(sorted[i],
		    "entrypoint"));
		ctl_table_add(table, ctl_string(sorted[i], "session_id"), state,
		    entrypoint, ctl_string(sorted[i], "created_at"));
		free(entrypoint);
	}
	ctl_table_print(table);
	free(sorted);
}

static int
ctl_session_list_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request = json_object(), *answer;
	int ret;

	int one_page = ctl_flag_value(ctx, "page-size") != NULL ||
	    ctl_flag_value(ctx, "next-page-token") != NULL;

	(void)argc;
	(void)argv;
	if ((ret = ctl_session_list_request(ctx, request)) == 0)
		ret = one_page ? ctl_call(ctx, CTL_SESSIONS("List"), request,
		    &answer) : ctl_session_fetch_all(ctx, CTL_SESSIONS("List"),
		    request, "sessions", &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (one_page && !ctx->json && *ctl_string(answer,
	    "next_page_token") != '\0')
		fprintf(stderr, "next page: --next-page-token %s\n",
		    ctl_string(answer, "next_page_token"));
	return ctl_print_list(ctx, answer, "sessions", "sessions",
	    ctl_session_table);
}

/* SessionsService/Get {session_id, json_values}. */
static int
ctl_session_get(struct ctl_context *ctx, const char *session_id,
    json_t **answer)
{
	json_t *request = json_pack("{s:s, s:b}", "session_id", session_id,
	    "json_values", 1);
	int ret;

	ret = ctl_call(ctx, CTL_SESSIONS("Get"), request, answer);
	json_decref(request);
	return ret;
}

static void
ctl_session_print_inputs(json_t *inputs)
{
	json_t *native = json_object(), *value;
	const char *key;
	char *text;

	if (json_object_size(inputs) == 0) {
		json_decref(native);
		return;
	}
	json_object_foreach(inputs, key, value)
		json_object_set_new(native, key, ctl_value_json(value));
	text = json_dumps(native, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("inputs\n");
	ctl_print_indented(text != NULL ? text : "?", 2);
	free(text);
	json_decref(native);
}

static void
ctl_session_print(json_t *session)
{
	static const struct {
		const char *label, *key;
	} ids[] = {
		{ "project", "project_id" }, { "deployment", "deployment_id" },
		{ "build", "build_id" }, { "event", "event_id" },
		{ "parent", "parent_session_id" }, { "created", "created_at" },
		{ "updated", "updated_at" },
	};
	char state[64], *entrypoint;

	ctl_enum_short(ctl_string(session, "state"), CTL_SESSION_STATE, state,
	    sizeof state);
	entrypoint = ctl_code_location(json_object_get(session, "entrypoint"));
	ctl_print_label("id", "%s", ctl_dash(ctl_string(session,
	    "session_id")));
	ctl_print_label("state", "%s", state);
	ctl_print_label("entrypoint", "%s", entrypoint);
	for (size_t i = 0; i < nitems(ids); i++) {
		if (*ctl_string(session, ids[i].key) != '\0')
			ctl_print_label(ids[i].label, "%s",
			    ctl_string(session, ids[i].key));
	}
	if (json_object_get(session, "is_durable") != NULL)
		ctl_print_label("durable", "%s", json_is_true(
		    json_object_get(session, "is_durable")) ? "yes" : "no");
	ctl_session_print_inputs(json_object_get(session, "inputs"));
	free(entrypoint);
}

static int
ctl_session_get_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	char *session_id;
	int ret;

	(void)argc;
	if ((ret = ctl_session_target(ctx, argv[0], &session_id)) != 0)
		return ret;
	ret = ctl_session_get(ctx, session_id, &answer);
	free(session_id);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		ctl_session_print(json_object_get(answer, "session"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

/* A program.v1.Error's message: a JSON string unquoted, else JSON. */
static char *
ctl_session_error_message(json_t *error)
{
	json_t *value = ctl_value_json(json_object_get(error, "value"));
	char *text;

	if (json_is_string(value))
		text = xstrdup(json_string_value(value));
	else
		text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
	return text != NULL ? text : xstrdup("?");
}

/*
 * "error: MESSAGE" and the traceback: the call stack's frames, outermost
 * first, or the text the runtime formatted (extra.traceback).
 */
static char *
ctl_session_error_text(json_t *error)
{
	char *message = ctl_session_error_message(error), *text, *longer;
	json_t *frame, *location;
	const char *traceback;
	size_t i;

	xasprintf(&text, "error: %s", message);
	free(message);
	json_array_foreach(json_object_get(error, "callstack"), i, frame) {
		location = json_object_get(frame, "location");
		xasprintf(&longer, "%s\n%s:%" JSON_INTEGER_FORMAT ", in %s",
		    text, ctl_dash(ctl_string(location, "path")),
		    json_integer_value(json_object_get(location, "row")),
		    ctl_dash(ctl_string(frame, "name")));
		free(text);
		text = longer;
	}
	traceback = ctl_string(json_object_get(error, "extra"), "traceback");
	if (*traceback != '\0') {
		xasprintf(&longer, "%s\n%s", text, traceback);
		free(text);
		text = longer;
	}
	return text;
}

/* A STATE record's text: "running", "completed: return value 42"... */
static char *
ctl_session_state_text(json_t *state)
{
	json_t *completed = json_object_get(state, "completed");
	json_t *stopped = json_object_get(state, "stopped");
	json_t *error = json_object_get(state, "error"), *value;
	const char *key;
	char *text, *json;

	if (error != NULL)
		return ctl_session_error_text(json_object_get(error, "error"));
	if (completed != NULL &&
	    (value = json_object_get(completed, "return_value")) != NULL) {
		json = ctl_value_text(value);
		xasprintf(&text, "completed: return value %s", json);
		free(json);
		return text;
	}
	if (stopped != NULL && *ctl_string(stopped, "reason") != '\0') {
		xasprintf(&text, "stopped: %s", ctl_string(stopped, "reason"));
		return text;
	}
	json_object_foreach(state, key, value)
		return xstrdup(key);
	return xstrdup("unspecified");
}

/* A CALL_ATTEMPT_COMPLETE record's text: the result or the error. */
static char *
ctl_session_result_text(json_t *complete)
{
	json_t *result = json_object_get(complete, "result");
	char *value, *text;

	if (json_object_get(result, "error") != NULL)
		return ctl_session_error_text(json_object_get(result, "error"));
	value = ctl_value_text(json_object_get(result, "value"));
	xasprintf(&text, "returned %s", value);
	free(value);
	return text;
}

/* The TYPE and text of a log record. */
static char *
ctl_session_record_text(json_t *record, const char **type)
{
	json_t *part;
	char *text, *function;

	if ((part = json_object_get(record, "print")) != NULL) {
		*type = "PRINT";
		return xstrdup(ctl_string(part, "text"));
	}
	if ((part = json_object_get(record, "state")) != NULL) {
		*type = "STATE";
		return ctl_session_state_text(part);
	}
	if ((part = json_object_get(record, "stop_request")) != NULL) {
		*type = "STOP_REQUEST";
		return xstrdup(ctl_string(part, "reason"));
	}
	if ((part = json_object_get(record, "call_spec")) != NULL) {
		*type = "CALL_SPEC";
		return ctl_value_text(json_object_get(part, "function"));
	}
	if ((part = json_object_get(record, "call_attempt_start")) != NULL) {
		*type = "CALL_ATTEMPT_START";
		function = json_dumps(json_object_get(part, "num"),
		    JSON_ENCODE_ANY);
		xasprintf(&text, "attempt %s", function != NULL ? function :
		    "1");
		free(function);
		return text;
	}
	if ((part = json_object_get(record, "call_attempt_complete")) != NULL) {
		*type = "CALL_ATTEMPT_COMPLETE";
		return ctl_session_result_text(part);
	}
	*type = "UNKNOWN";
	return ctl_value_text(record);
}

/* The text's first line after the prefix, the others indented. */
static void
ctl_session_print_record(json_t *record, int width)
{
	const char *type, *rest;
	char *text = ctl_session_record_text(record, &type);
	size_t len;

	for (char *p = text; *p != '\0'; p++) {
		if (*p != '\n' && (unsigned char)*p < 0x20)
			*p = ' ';
	}
	len = strcspn(text, "\n");
	printf("%s  %-*s  %.*s\n", ctl_dash(ctl_string(record, "t")), width,
	    type, (int)len, text);
	rest = text + len;
	if (*rest == '\n')
		ctl_print_indented(rest + 1, 4);
	free(text);
}

static void
ctl_session_print_log(json_t *records)
{
	json_t *record;
	const char *type;
	char *text;
	int width = 0;
	size_t i;

	json_array_foreach(records, i, record) {
		text = ctl_session_record_text(record, &type);
		if ((int)strlen(type) > width)
			width = (int)strlen(type);
		free(text);
	}
	json_array_foreach(records, i, record)
		ctl_session_print_record(record, width);
}

static int
ctl_session_log_exec(struct ctl_context *ctx, int argc, char **argv)
{
	int desc = ctl_flag_value(ctx, "desc") != NULL, ret;
	json_t *request, *answer;
	char *session_id;

	(void)argc;
	if (desc && ctl_flag_value(ctx, "asc") != NULL)
		return ctl_usage_error(ctx, "--asc and --desc exclude each "
		    "other");
	if ((ret = ctl_session_target(ctx, argv[0], &session_id)) != 0)
		return ret;
	request = json_pack("{s:s, s:b, s:b}", "session_id", session_id,
	    "json_values", 1, "ascending", !desc);
	free(session_id);
	ret = ctl_session_fetch_all(ctx, CTL_SESSIONS("GetLog"), request,
	    "records", &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else
		ctl_session_print_log(json_object_get(answer, "records"));
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_session_prints_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *request, *answer, *print;
	char *session_id, *text;
	size_t i;
	int ret;

	(void)argc;
	if ((ret = ctl_session_target(ctx, argv[0], &session_id)) != 0)
		return ret;
	request = json_pack("{s:s, s:b}", "session_id", session_id,
	    "ascending", 1);
	free(session_id);
	ret = ctl_session_fetch_all(ctx, CTL_SESSIONS("GetPrints"), request,
	    "prints", &answer);
	json_decref(request);
	if (ret != 0)
		return ret;
	if (ctx->json)
		ctl_print_json(answer);
	else {
		json_array_foreach(json_object_get(answer, "prints"), i,
		    print) {
			text = ctl_value_text(json_object_get(print, "v"));
			printf("%s\n", text);
			free(text);
		}
	}
	json_decref(answer);
	return CTL_EXIT_OK;
}

static int
ctl_session_stop_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *reason = ctl_flag_value(ctx, "reason");
	const char *delay = ctl_flag_value(ctx, "delay");
	int force = ctl_flag_value(ctx, "force") != NULL, ret;
	json_t *request, *answer;
	char *session_id = NULL, text[32];
	uint64_t ms = 0;

	(void)argc;
	if (delay != NULL && (!force || parse_duration_ms(delay, &ms) != 0))
		return ctl_usage_error(ctx, force ? "--delay needs a duration "
		    "such as 10s or 1m" : "--delay goes with --force");
	request = json_object();
	if (ms > 0) {
		snprintf(text, sizeof text, "%llu.%03llus",
		    (unsigned long long)(ms / 1000),
		    (unsigned long long)(ms % 1000));
		json_object_set_new(request, "termination_delay",
		    json_string(text));
	}
	if ((reason == NULL ||
	    (ret = ctl_set_string(ctx, request, "reason", reason)) == 0) &&
	    (ret = ctl_session_target(ctx, argv[0], &session_id)) == 0) {
		json_object_set_new(request, "session_id",
		    json_string(session_id));
		json_object_set_new(request, "terminate", json_boolean(force));
		ret = ctl_call(ctx, CTL_SESSIONS("Stop"), request, &answer);
	}
	json_decref(request);
	if (ret == 0 && ctx->json)
		ctl_print_json(answer);
	else if (ret == 0)
		printf("%s %s\n", force ? "terminating" : "stopping",
		    session_id);
	if (ret == 0)
		json_decref(answer);
	free(session_id);
	return ret;
}

static int
ctl_session_delete_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer;
	int ret;

	(void)argc;
	if ((ret = ctl_call_id(ctx, CTL_SESSIONS("Delete"), "session_id",
	    CTL_PREFIX_SESSION, argv[0], &answer)) != 0)
		return ret;
	return ctl_print_done(ctx, answer, "deleted", argv[0]);
}

static uint64_t
ctl_session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
ctl_session_final(const char *state)
{
	return strcmp(state, CTL_SESSION_STATE "COMPLETED") == 0 ||
	    strcmp(state, CTL_SESSION_STATE "ERROR") == 0 ||
	    strcmp(state, CTL_SESSION_STATE "STOPPED") == 0;
}

/*
 * Poll Get until the state is final, or is end_state (a full name) when
 * given: 0 with *answer, else the exit code.
 */
static int
ctl_session_poll(struct ctl_context *ctx, const char *session_id,
    const char *end_state, uint64_t timeout_ms, json_t **answer)
{
	struct timespec pause = { 0, CTL_SESSION_POLL_MS * 1000000L };
	uint64_t deadline = ctl_session_now_ms() + timeout_ms;
	char timeout[64];
	int ret;

	for (;;) {
		if ((ret = ctl_session_get(ctx, session_id, answer)) != 0)
			return ret;
		const char *now = ctl_string(json_object_get(*answer,
		    "session"), "state");

		if (ctl_session_final(now) || (end_state != NULL &&
		    strcmp(now, end_state) == 0))
			return 0;
		json_decref(*answer);
		*answer = NULL;
		if (ctl_session_now_ms() >= deadline)
			break;
		nanosleep(&pause, NULL);
	}
	format_duration_ms(timeout_ms, timeout, sizeof timeout);
	fprintf(stderr, "akctl: session %s did not finish within %s\n",
	    session_id, timeout);
	return CTL_EXIT_ERROR;
}

static int
ctl_session_watch_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *end = ctl_flag_value(ctx, "end-state");
	char *session_id, *end_state = NULL;
	int ret;

	(void)argc;
	if (end != NULL && (end_state = ctl_enum_parse(end, CTL_SESSION_STATE,
	    ctl_session_states)) == NULL)
		return ctl_usage_error(ctx, "unknown state \"%s\": expected "
		    "created, running, completed, error or stopped", end);
	if ((ret = ctl_session_target(ctx, argv[0], &session_id)) == 0)
		ret = ctl_session_wait(ctx, session_id, end_state);
	free(session_id);
	free(end_state);
	return ret;
}

/*
 * Wait for session_id to be final (or in end_state) and print its state:
 * exit 0 if it completed (or reached end_state).
 */
static int
ctl_session_wait(struct ctl_context *ctx, const char *session_id,
    const char *end_state)
{
	const char *timeout = ctl_flag_value(ctx, "timeout");
	const char *state_name;
	json_t *answer;
	char state[64];
	uint64_t timeout_ms;
	int ret;

	if (timeout == NULL)
		timeout = CTL_SESSION_TIMEOUT;
	if (parse_duration_ms(timeout, &timeout_ms) != 0)
		return ctl_usage_error(ctx, "--timeout wants a duration such "
		    "as 30s, 5m or 1h30m, not \"%s\"", timeout);
	ret = ctl_session_poll(ctx, session_id, end_state, timeout_ms,
	    &answer);
	if (ret != 0)
		return ret;
	state_name = ctl_string(json_object_get(answer, "session"), "state");
	ctl_enum_short(state_name, CTL_SESSION_STATE, state, sizeof state);
	if (ctx->json)
		ctl_print_json(answer);
	else
		printf("%s %s\n", session_id, state);
	if (strcmp(state_name, end_state != NULL ? end_state :
	    CTL_SESSION_STATE "COMPLETED") != 0)
		ret = CTL_EXIT_ERROR;
	json_decref(answer);
	return ret;
}

/* KEY=JSON into json_inputs {KEY: "JSON"}. */
static int
ctl_session_input(struct ctl_context *ctx, json_t *inputs, const char *pair)
{
	const char *eq = strchr(pair, '=');
	json_t *check;
	char *key;

	if (eq == NULL || eq == pair)
		return ctl_usage_error(ctx, "an input is KEY=JSON, not \"%s\"",
		    pair);
	if ((check = json_loads(eq + 1, JSON_DECODE_ANY, NULL)) == NULL)
		return ctl_usage_error(ctx, "the input %.*s is not JSON: \"%s\" "
		    "(a string is quoted: %.*s='\"cat\"')", (int)(eq - pair),
		    pair, eq + 1, (int)(eq - pair), pair);
	json_decref(check);
	key = xstrndup(pair, (size_t)(eq - pair));
	json_object_set_new(inputs, key, json_string(eq + 1));
	free(key);
	return 0;
}

/* Start {session, json_inputs?, json_values}, then print or watch. */
static int
ctl_session_start_call(struct ctl_context *ctx, json_t *request)
{
	json_t *answer;
	char *session_id;
	int ret;

	if ((ret = ctl_call(ctx, CTL_SESSIONS("Start"), request, &answer)) != 0)
		return ret;
	session_id = xstrdup(ctl_string(answer, "session_id"));
	if (ctx->json && ctl_flag_value(ctx, "watch") == NULL)
		ctl_print_json(answer);
	else if (!ctx->json)
		printf("%s\n", session_id);
	json_decref(answer);
	if (ctl_flag_value(ctx, "watch") != NULL)
		ret = ctl_session_wait(ctx, session_id, NULL);
	free(session_id);
	return ret;
}

static int
ctl_session_start_exec(struct ctl_context *ctx, int argc, char **argv)
{
	const char *entry = ctl_flag_value(ctx, "entrypoint");
	const char *deployment = ctl_flag_value(ctx, "deployment");
	const char *build = ctl_flag_value(ctx, "build");
	const char *input = ctl_flag_value(ctx, "input");
	json_t *session = json_object(), *inputs = json_object(), *request;
	const char *colon;
	char *path;
	int ret = 0;

	request = json_pack("{s:o, s:o}", "session", session, "json_inputs",
	    inputs);
	colon = entry != NULL ? strrchr(entry, ':') : NULL;
	if (entry == NULL)
		ret = ctl_usage_error(ctx, "give the entry point: -e FILE:FUNC");
	else if (colon == NULL || colon == entry || colon[1] == '\0')
		ret = ctl_usage_error(ctx, "--entrypoint is FILE:FUNC, such as "
		    "program.py:on_event, not \"%s\"", entry);
	else if (ctl_flag_value(ctx, "project") == NULL && deployment == NULL &&
	    build == NULL)
		ret = ctl_usage_error(ctx, "give -p PROJECT, -d DEPLOYMENT or -b "
		    "BUILD");
	if (ret == 0 && deployment != NULL && (ret = ctl_check_id(ctx,
	    deployment, CTL_PREFIX_DEPLOYMENT)) == 0)
		json_object_set_new(session, "deployment_id",
		    json_string(deployment));
	if (ret == 0 && build != NULL && (ret = ctl_check_id(ctx, build,
	    CTL_PREFIX_BUILD)) == 0)
		json_object_set_new(session, "build_id", json_string(build));
	if (ret == 0)
		ret = ctl_project_flag(ctx, session, "project_id");
	if (ret == 0 && input != NULL)
		ret = ctl_session_input(ctx, inputs, input);
	for (int i = 0; ret == 0 && i < argc; i++)
		ret = ctl_session_input(ctx, inputs, argv[i]);
	if (ret == 0) {
		path = xstrndup(entry, (size_t)(colon - entry));
		json_object_set_new(session, "entrypoint", json_pack("{s:s, "
		    "s:s}", "path", path, "name", colon + 1));
		free(path);
		json_object_set_new(session, "is_durable", json_boolean(
		    ctl_flag_value(ctx, "durable") != NULL));
		ret = ctl_session_start_call(ctx, request);
	}
	json_decref(request);
	return ret;
}

/* The data of the session's event, as json_values Values, or NULL. */
static json_t *
ctl_session_event_data(struct ctl_context *ctx, const char *event_id)
{
	json_t *request, *answer, *data = NULL;

	if (*event_id == '\0')
		return NULL;
	request = json_pack("{s:s, s:b}", "event_id", event_id, "json_values",
	    1);
	if (ctl_call_quiet(ctx, CTL_EVENTS_GET, request, &answer) == 0) {
		data = json_incref(json_object_get(json_object_get(answer,
		    "event"), "data"));
		json_decref(answer);
	}
	json_decref(request);
	return data;
}

static int
ctl_session_restart_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *answer, *old, *session, *inputs, *request;
	char *session_id;
	const char *dep;
	int ret;

	(void)argc;
	if ((ret = ctl_session_target(ctx, argv[0], &session_id)) != 0)
		return ret;
	ret = ctl_session_get(ctx, session_id, &answer);
	free(session_id);
	if (ret != 0)
		return ret;
	old = json_object_get(answer, "session");
	session = json_pack("{s:s, s:O, s:O}", "project_id", ctl_string(old,
	    "project_id"), "entrypoint", json_object_get(old, "entrypoint"),
	    "is_durable", json_object_get(old, "is_durable") != NULL ?
	    json_object_get(old, "is_durable") : json_false());
	dep = ctl_string(old, "deployment_id");
	if (*dep != '\0')
		json_object_set_new(session, "deployment_id", json_string(dep));
	else if (*ctl_string(old, "build_id") != '\0')
		json_object_set_new(session, "build_id", json_string(
		    ctl_string(old, "build_id")));
	/* A trigger's session has its inputs in its event. */
	inputs = ctl_session_event_data(ctx, ctl_string(old, "event_id"));
	if (inputs == NULL)
		inputs = json_incref(json_object_get(old, "inputs"));
	if (inputs != NULL)
		json_object_set_new(session, "inputs", inputs);
	request = json_pack("{s:o, s:b}", "session", session, "json_values", 1);
	ret = ctl_session_start_call(ctx, request);
	json_decref(request);
	json_decref(answer);
	return ret;
}
