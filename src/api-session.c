/*
 * api-session.c: autokitteh.sessions.v1.SessionsService: Start, List,
 * Get, GetLog, GetPrints, Stop, Delete.
 *
 * Start runs an entry point by hand: on the project's ACTIVE deployment,
 * or a named deployment or build. Its inputs become the data of a new
 * event (destination the deployment, type session_start), which the
 * handler gets as event.data, as if a trigger had fired. Stop is graceful
 * unless terminate; with terminate and termination_delay it is graceful
 * first and forced when the delay ends (a timer here).
 *
 * Sessions and their logs are written by session.c; this file reads them,
 * turns session_logs rows into SessionLogRecords, and asks session.c to
 * stop a session. Pages: page_size (default 50, clamped to 1..1000), skip,
 * and page_token, an opaque string (the offset of the next page).
 */
#include "autokittehd.h"

#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE_DEFAULT	50
#define PAGE_SIZE_MAX		1000
#define PAGE_OFFSET_MAX		1000000000

const char *const api_session_list_fields[] = { "deployment_id", "project_id",
    "event_id", "build_id", "state_type", "org_id", "count_only",
    "page_size", "skip", "page_token", NULL };
const char *const api_session_get_fields[] = { "session_id", "json_values",
    NULL };
const char *const api_session_get_log_fields[] = { "session_id",
    "json_values", "types", "ascending", "page_size", "skip", "page_token",
    NULL };
const char *const api_session_get_prints_fields[] = { "session_id",
    "ascending", "page_size", "skip", "page_token", NULL };
const char *const api_session_stop_fields[] = { "session_id", "reason",
    "terminate", "termination_delay", NULL };
const char *const api_session_delete_fields[] = { "session_id", NULL };
const char *const api_session_start_fields[] = { "session", "json_inputs",
    "json_object_input", "json_values", NULL };

static const char *const start_session_fields[] = { "session_id",
    "build_id", "project_id", "deployment_id", "event_id", "entrypoint",
    "inputs", "parent_session_id", "memo", "created_at", "updated_at",
    "state", "is_durable", NULL };
static const char *const start_entrypoint_fields[] = { "path", "row", "col",
    "name", NULL };

static const char *const session_states[] = {
	"", "created", "running", "error", "completed", "stopped",
};
static const char *const session_state_names[] = {
	"SESSION_STATE_TYPE_UNSPECIFIED", "SESSION_STATE_TYPE_CREATED",
	"SESSION_STATE_TYPE_RUNNING", "SESSION_STATE_TYPE_ERROR",
	"SESSION_STATE_TYPE_COMPLETED", "SESSION_STATE_TYPE_STOPPED",
};

/* SessionLogRecord.Type bits of the record types we render. */
#define LOG_TYPE_PRINT		1
#define LOG_TYPE_CALL_SPEC	2
#define LOG_TYPE_CALL_START	4
#define LOG_TYPE_CALL_COMPLETE	8
#define LOG_TYPE_STATE		16
#define LOG_TYPE_STOP_REQUEST	32
#define LOG_NTYPES		6

#define SESSION_COLUMNS "session_id, build_id, project_id, deployment_id, " \
	"event_id, parent_session_id, entrypoint, memo, state, created_at, " \
	"updated_at, is_durable, inputs"

/* "completed" -> "SESSION_STATE_TYPE_COMPLETED"; unknown -> UNSPECIFIED. */
const char *
session_state_enum(const char *stored)
{
	for (size_t i = 1; i < nitems(session_states); i++) {
		if (strcmp(session_states[i], stored) == 0)
			return session_state_names[i];
	}
	return session_state_names[0];
}

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

/* ---- paging ---- */

struct page {
	int64_t	 size;
	int64_t	 offset;
};

static int
page_fields(struct api_call *call, json_t *req, struct page *p)
{
	const char *token;
	int64_t skip;
	char *end;
	long long n = 0;

	if (api_int_field(call, req, "page_size", INT32_MIN, INT32_MAX, 0,
	    &p->size) != 0 || api_int_field(call, req, "skip", 0, INT32_MAX,
	    0, &skip) != 0 || api_string_field(call, req, "page_token",
	    &token) != 0)
		return -1;
	if (p->size <= 0 || p->size > PAGE_SIZE_MAX)
		p->size = p->size <= 0 ? PAGE_SIZE_DEFAULT : PAGE_SIZE_MAX;
	if (token != NULL && *token != '\0') {
		errno = 0;
		n = strtoll(token, &end, 10);
		if (*end != '\0' || errno != 0 || n < 0 || n > PAGE_OFFSET_MAX) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "page_token "
			    "is not one this server gave out");
			return -1;
		}
	}
	p->offset = n + skip;
	return 0;
}

/* next_page_token when rows past this page remain. */
static void
page_next(json_t *out, const struct page *p, size_t got, int64_t count)
{
	char buf[32];

	if (p->offset + (int64_t)got < count && got > 0) {
		snprintf(buf, sizeof buf, "%" PRId64, p->offset + (int64_t)got);
		json_object_set_new(out, "next_page_token", json_string(buf));
	}
}

/* ---- rows ---- */

static json_t *
code_location_json(const char *entrypoint)
{
	const char *colon = strrchr(entrypoint, ':');

	if (colon == NULL)
		return json_pack("{s:s}", "path", entrypoint);
	return json_pack("{s:s%, s:s}", "path", entrypoint,
	    (size_t)(colon - entrypoint), "name", colon + 1);
}

static json_t *
session_row_json(sqlite3_stmt *st, int with_inputs, int json_values)
{
	int64_t created = sqlite3_column_int64(st, 9);
	json_t *s = json_pack("{s:s}", "session_id", api_column_text(st, 0));

	api_set_nonempty(s, "build_id", api_column_text(st, 1));
	api_set_nonempty(s, "project_id", api_column_text(st, 2));
	api_set_nonempty(s, "deployment_id", api_column_text(st, 3));
	api_set_nonempty(s, "event_id", api_column_text(st, 4));
	api_set_nonempty(s, "parent_session_id", api_column_text(st, 5));
	json_object_set_new(s, "entrypoint",
	    code_location_json(api_column_text(st, 6)));
	if (with_inputs)
		json_object_set_new(s, "inputs", value_map_from_json_text(
		    api_column_text(st, 12), json_values));
	json_object_set_new(s, "memo", value_string_map_from_json_text(
	    api_column_text(st, 7)));
	json_object_set_new(s, "state", json_string(session_state_enum(
	    api_column_text(st, 8))));
	json_object_set_new(s, "created_at", timestamp_us_json(created));
	json_object_set_new(s, "updated_at", timestamp_us_json(
	    sqlite3_column_type(st, 10) == SQLITE_NULL ? created :
	    sqlite3_column_int64(st, 10)));
	json_object_set_new(s, "is_durable",
	    json_boolean(sqlite3_column_int(st, 11)));
	return s;
}

/* The stored state of a session into state: 0, or -1 after answering. */
static int
session_lookup(struct api_call *call, const char *id, char *state,
    size_t size)
{
	sqlite3_stmt *st = store_prepare(call_store(call), "SELECT state FROM "
	    "sessions WHERE session_id = ?");
	int rc;

	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(state, size, "%s", api_column_text(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no session %s: see 'akctl "
		    "session list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
	return -1;
}

/* ---- List ---- */

/*
 * " FROM sessions WHERE ..." with only the filters given, f[i] as ?(i+1)
 * but the state, one of session_states[], written out: the list index by
 * state holds only the finished (migration 13), and the planner can use
 * a partial index only for a value it sees. A clause such as "(?1 IS NULL
 * OR project_id = ?1)" would let one statement serve every combination,
 * but no index can serve it: each List read every session ever kept
 * (280 ms of the loop with 620,000).
 */
static void
session_filter_sql(char *buf, size_t len, const char *const f[5])
{
	static const char *const column[5] = { "deployment_id", "project_id",
	    "event_id", "build_id", "state" };
	int n = 0;

	snprintf(buf, len, " FROM sessions");
	for (int i = 0; i < 4; i++) {
		if (f[i] != NULL)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s %s "
			    "= ?%d", n++ == 0 ? " WHERE" : " AND", column[i],
			    i + 1);
	}
	/*
	 * The state alone, a finished one: name the condition of the partial
	 * index by state (migration 13) too, since SQLite uses a partial index
	 * only for a query whose WHERE has that very term. With a deployment,
	 * sessions_by_deployment(deployment_id, state) serves both. With
	 * another filter, "+state" keeps the planner off the state indexes,
	 * which it would otherwise prefer without statistics, walking every
	 * session in that state to find the few of one event or project.
	 */
	if (f[4] != NULL && n > 0)
		snprintf(buf + strlen(buf), len - strlen(buf), " AND %sstate = "
		    "'%s'", f[0] != NULL ? "" : "+", f[4]);
	else if (f[4] != NULL)
		snprintf(buf + strlen(buf), len - strlen(buf), " WHERE%s state = "
		    "'%s'", strcmp(f[4], "created") != 0 && strcmp(f[4],
		    "running") != 0 ? " state IN ('completed', 'error', "
		    "'stopped') AND" : "", f[4]);
}

/* No id filter (f[0..3]): at most the state. */
static int
session_by_state_only(const char *const f[5])
{
	return f[0] == NULL && f[1] == NULL && f[2] == NULL && f[3] == NULL;
}

static void
session_bind_filter(sqlite3_stmt *st, const char *const f[5])
{
	for (int i = 0; i < 4; i++) {	/* the state is written out */
		if (f[i] != NULL)
			sqlite3_bind_text(st, i + 1, f[i], -1, SQLITE_STATIC);
	}
}

/* How many sessions match: from session_counts when only the state, if
 * any, is given. -1 if the store could not say. */
static int
session_count_matching(struct store *s, const char *const f[5],
    int64_t *count)
{
	char from[384], *sql;
	sqlite3_stmt *st;
	int rc;

	if (session_by_state_only(f)) {
		if (f[4] != NULL)
			return store_count_sessions(s, f[4], count);
		return store_count(s, "SELECT coalesce(sum(n), 0) FROM "
		    "session_counts", count);
	}
	session_filter_sql(from, sizeof from, f);
	xasprintf(&sql, "SELECT count(*)%s", from);
	st = store_prepare(s, sql);
	free(sql);
	if (st == NULL)
		return -1;
	session_bind_filter(st, f);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

void
api_session_list(struct api_call *call, json_t *req)
{
	const char *f[5], *org;
	char from[384], *sql;
	int state, count_only, rc;
	sqlite3_stmt *st;
	int64_t count = 0;
	struct page p;
	json_t *out, *list;

	if (api_id_field(call, req, "deployment_id", "dep", 0, &f[0]) != 0 ||
	    api_id_field(call, req, "project_id", "prj", 0, &f[1]) != 0 ||
	    api_id_field(call, req, "event_id", "evt", 0, &f[2]) != 0 ||
	    api_id_field(call, req, "build_id", "bld", 0, &f[3]) != 0 ||
	    api_string_field(call, req, "org_id", &org) != 0 ||
	    api_enum_field(call, req, "state_type", session_state_names,
	    nitems(session_state_names), &state) != 0 ||
	    api_bool_field(call, req, "count_only", &count_only) != 0 ||
	    page_fields(call, req, &p) != 0)
		return;
	f[4] = state != 0 ? session_states[state] : NULL;
	if (session_count_matching(call_store(call), f, &count) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
		return;
	}
	out = json_pack("{s:o}", "count", api_int64_json(count));
	if (count_only) {
		api_reply(call, out);
		return;
	}
	/*
	 * Newest first. Unfiltered, by rowid: session_insert() is the one
	 * insert, with created_at = now, and a new rowid is above every live
	 * one, so the table itself is the index; the two orders differ only
	 * if the wall clock stepped back between two sessions. Filtered, by
	 * created_at, through sessions_by_project, or
	 * sessions_by_state_created for a finished state (migration 13).
	 */
	session_filter_sql(from, sizeof from, f);
	xasprintf(&sql, "SELECT " SESSION_COLUMNS "%s ORDER BY %s LIMIT ?6 "
	    "OFFSET ?7", from, session_by_state_only(f) && f[4] == NULL ?
	    "rowid DESC" : "created_at DESC, rowid DESC");
	st = store_prepare(call_store(call), sql);
	free(sql);
	if (st == NULL) {
		json_decref(out);
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
		return;
	}
	session_bind_filter(st, f);
	sqlite3_bind_int64(st, 6, p.size);
	sqlite3_bind_int64(st, 7, p.offset);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, session_row_json(st, 0, 0));
	sqlite3_finalize(st);
	page_next(out, &p, json_array_size(list), count);
	json_object_set_new(out, "sessions", list);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
		return;
	}
	api_reply(call, out);
}

/* ---- Get ---- */

void
api_session_get(struct api_call *call, json_t *req)
{
	const char *id;
	sqlite3_stmt *st;
	int json_values, rc;

	if (api_id_field(call, req, "session_id", "ses", 1, &id) != 0 ||
	    api_bool_field(call, req, "json_values", &json_values) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT " SESSION_COLUMNS
	    " FROM sessions WHERE session_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		api_reply(call, json_pack("{s:o}", "session",
		    session_row_json(st, 1, json_values)));
	else if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no session %s: see 'akctl "
		    "session list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
	sqlite3_finalize(st);
}

/* ---- GetLog, GetPrints ---- */

static json_t *
value_native(json_t *native, int json_values)
{
	return json_values ? value_json_string(native) :
	    value_from_json(native);
}

/* A STATE row's data -> SessionState. */
static json_t *
log_state_json(json_t *data, int json_values)
{
	const char *state = json_string_value(json_object_get(data, "state"));
	const char *s;
	json_t *result, *err;

	if (state == NULL)
		state = "";
	if (strcmp(state, "completed") == 0) {
		result = json_object();
		if (json_object_get(data, "result") != NULL)
			json_object_set_new(result, "return_value", value_native(
			    json_object_get(data, "result"), json_values));
		return json_pack("{s:o}", "completed", result);
	}
	if (strcmp(state, "error") == 0) {
		s = json_string_value(json_object_get(data, "error"));
		err = json_pack("{s:{s:{s:s}}}", "value", "string", "v",
		    s != NULL ? s : "");
		if ((s = json_string_value(json_object_get(data,
		    "traceback"))) != NULL)
			json_object_set_new(err, "extra", json_pack("{s:s}",
			    "traceback", s));
		return json_pack("{s:{s:o}}", "error", "error", err);
	}
	if (strcmp(state, "stopped") == 0) {
		s = json_string_value(json_object_get(data, "reason"));
		return json_pack("{s:{s:s}}", "stopped", "reason",
		    s != NULL ? s : "");
	}
	return json_pack("{s:{}}", strcmp(state, "running") == 0 ?
	    "running" : "created");
}

static json_t *
string_value(const char *s)
{
	return json_pack("{s:{s:s}}", "string", "v", s != NULL ? s : "");
}

/*
 * CALL_SPEC {seq, name, args}, CALL_ATTEMPT_START {seq, attempt} and
 * CALL_ATTEMPT_COMPLETE {seq, attempt, summary, error} rows -> AutoKitteh's
 * Call.Spec, Call.Attempt.Start and Call.Attempt.Complete (values are the
 * display summaries: the pickles stay in the worker's world).
 */
static void
log_call_json(json_t *r, const char *type, json_t *data, int64_t t)
{
	json_int_t seq = json_integer_value(json_object_get(data, "seq"));
	json_int_t attempt = json_integer_value(json_object_get(data,
	    "attempt"));
	const char *summary = json_string_value(json_object_get(data,
	    "summary"));

	if (strcmp(type, "CALL_SPEC") == 0)
		json_object_set_new(r, "call_spec", json_pack("{s:I, s:o, s:[o]}",
		    "seq", seq, "function", string_value(json_string_value(
		    json_object_get(data, "name"))), "args", string_value(
		    json_string_value(json_object_get(data, "args")))));
	else if (strcmp(type, "CALL_ATTEMPT_START") == 0)
		json_object_set_new(r, "call_attempt_start", json_pack("{s:o, "
		    "s:I}", "started_at", timestamp_us_json(t), "num",
		    attempt));
	else
		json_object_set_new(r, "call_attempt_complete", json_pack("{s:o, "
		    "s:b, s:{s:o}}", "completed_at", timestamp_us_json(t),
		    "is_last", 1, "result", json_is_true(json_object_get(data,
		    "error")) ? "error" : "value",
		    json_is_true(json_object_get(data, "error")) ?
		    json_pack("{s:o}", "value", string_value(summary)) :
		    string_value(summary)));
}

/* A session_logs row (t, type, data) -> SessionLogRecord. */
static json_t *
log_record_json(sqlite3_stmt *st, int json_values)
{
	const char *type = api_column_text(st, 1), *s;
	json_t *data = json_loads(api_column_text(st, 2), 0, NULL);
	json_t *r = json_pack("{s:o}", "t",
	    timestamp_us_json(sqlite3_column_int64(st, 0)));

	s = json_string_value(json_object_get(data, strcmp(type, "PRINT") ==
	    0 ? "text" : "reason"));
	if (strcmp(type, "PRINT") == 0)
		json_object_set_new(r, "print", json_pack("{s:s}", "text",
		    s != NULL ? s : ""));
	else if (strncmp(type, "CALL_", 5) == 0)
		log_call_json(r, type, data, sqlite3_column_int64(st, 0));
	else if (strcmp(type, "STATE") == 0)
		json_object_set_new(r, "state", log_state_json(data,
		    json_values));
	else
		json_object_set_new(r, "stop_request", json_pack("{s:s}",
		    "reason", s != NULL ? s : ""));
	json_decref(data);
	return r;
}

/*
 * Run a log query over the session's rows whose type is one of types[3]
 * (NULL entries match nothing): count and one page of (t, type, data).
 */
#define LOG_FILTER " FROM session_logs WHERE session_id = ?1 AND type IN " \
	"(?2, ?3, ?4, ?5, ?6, ?7)"

static int
log_page(struct store *s, const char *id, const char *const types[LOG_NTYPES],
    int ascending, const struct page *p, int64_t *count, json_t *list,
    json_t *(*row)(sqlite3_stmt *, int), int json_values)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_prepare(s, "SELECT count(*)" LOG_FILTER)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	for (int i = 0; i < LOG_NTYPES; i++)
		sqlite3_bind_text(st, i + 2, types[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*count = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return -1;
	st = store_prepare(s, ascending ? "SELECT t, type, data" LOG_FILTER
	    " ORDER BY seq ASC LIMIT ?8 OFFSET ?9" : "SELECT t, type, data"
	    LOG_FILTER " ORDER BY seq DESC LIMIT ?8 OFFSET ?9");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	for (int i = 0; i < LOG_NTYPES; i++)
		sqlite3_bind_text(st, i + 2, types[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, p->size);
	sqlite3_bind_int64(st, 9, p->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, row(st, json_values));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static json_t *
print_json(sqlite3_stmt *st, int json_values)
{
	json_t *data = json_loads(api_column_text(st, 2), 0, NULL);
	const char *text = json_string_value(json_object_get(data, "text"));
	json_t *r;

	r = json_pack("{s:{s:{s:s}}, s:o}", "v", "string", "v", text != NULL ?
	    text : "", "t", timestamp_us_json(sqlite3_column_int64(st, 0)));
	json_decref(data);
	return r;
}

/* GetLog and GetPrints share everything but the record shape. */
static void
session_log(struct api_call *call, json_t *req, int prints)
{
	const char *id, *types[LOG_NTYPES] = { NULL };
	int json_values = 0, ascending;
	int64_t mask = 0, count;
	struct page p;
	char state[32];
	json_t *out, *list;

	if (api_id_field(call, req, "session_id", "ses", 1, &id) != 0 ||
	    (!prints && (api_bool_field(call, req, "json_values",
	    &json_values) != 0 || api_int_field(call, req, "types", 0,
	    UINT32_MAX, 0, &mask) != 0)) ||
	    api_bool_field(call, req, "ascending", &ascending) != 0 ||
	    page_fields(call, req, &p) != 0 ||
	    session_lookup(call, id, state, sizeof state) != 0)
		return;
	if (prints)
		mask = LOG_TYPE_PRINT;
	if (mask == 0)
		mask = 0xff;
	if (mask & LOG_TYPE_PRINT)
		types[0] = "PRINT";
	if (mask & LOG_TYPE_STATE)
		types[1] = "STATE";
	if (mask & LOG_TYPE_STOP_REQUEST)
		types[2] = "STOP_REQUEST";
	if (mask & LOG_TYPE_CALL_SPEC)
		types[3] = "CALL_SPEC";
	if (mask & LOG_TYPE_CALL_START)
		types[4] = "CALL_ATTEMPT_START";
	if (mask & LOG_TYPE_CALL_COMPLETE)
		types[5] = "CALL_ATTEMPT_COMPLETE";
	list = json_array();
	if (log_page(call_store(call), id, types, ascending, &p, &count, list,
	    prints ? print_json : log_record_json, json_values) != 0) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the session log");
		return;
	}
	out = json_object();
	page_next(out, &p, json_array_size(list), count);
	if (!prints)
		json_object_set_new(out, "count", api_int64_json(count));
	json_object_set_new(out, prints ? "prints" : "records", list);
	api_reply(call, out);
}

void
api_session_get_log(struct api_call *call, json_t *req)
{
	session_log(call, req, 0);
}

void
api_session_get_prints(struct api_call *call, json_t *req)
{
	session_log(call, req, 1);
}

/* ---- Stop, Delete, Start ---- */

/* termination_delay: a proto3 JSON Duration ("1.5s"), in ms; -1 bad. */
static int64_t
duration_ms(json_t *v)
{
	const char *s;
	char *end;
	double d;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_object(v)) {	/* {seconds, nanos}, as some clients send */
		json_t *sec = json_object_get(v, "seconds");
		json_t *ns = json_object_get(v, "nanos");

		d = json_is_string(sec) ? strtod(json_string_value(sec), NULL) :
		    json_number_value(sec);
		d += json_number_value(ns) / 1e9;
	} else if ((s = json_string_value(v)) != NULL) {
		errno = 0;
		d = strtod(s, &end);
		if (end == s || strcmp(end, "s") != 0 || errno != 0)
			return -1;
	} else
		return -1;
	if (!(d >= 0) || d > 315576000000.0)
		return -1;
	return (int64_t)(d * 1000 + 0.5);
}

struct stop_later {
	struct event		*ev;
	char			 id[64];
	char			*reason;
	TAILQ_ENTRY(stop_later)	 entry;
};
TAILQ_HEAD(stop_later_list, stop_later);
static struct stop_later_list stops_later =
    TAILQ_HEAD_INITIALIZER(stops_later);

static void
stop_later_free(struct stop_later *l)
{
	TAILQ_REMOVE(&stops_later, l, entry);
	event_free(l->ev);
	free(l->reason);
	free(l);
}

/* Shutdown: forget pending forced stops (the sessions end anyway). */
void
api_session_shutdown(void)
{
	while (!TAILQ_EMPTY(&stops_later))
		stop_later_free(TAILQ_FIRST(&stops_later));
}

static void
stop_later_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stop_later *l = arg;
	char *cause = NULL;

	(void)fd;
	(void)events;
	if (session_stop(l->id, 1, l->reason, &cause) == 1)
		log_info("session %s: forced to stop after its termination "
		    "delay", l->id);
	free(cause);	/* already final: nothing to force */
	stop_later_free(l);
}

void
api_session_stop(struct api_call *call, json_t *req)
{
	const char *id, *reason;
	char *cause = NULL;
	int terminate, rc;
	int64_t delay;

	if (api_id_field(call, req, "session_id", "ses", 1, &id) != 0 ||
	    api_string_field(call, req, "reason", &reason) != 0 ||
	    api_bool_field(call, req, "terminate", &terminate) != 0)
		return;
	if ((delay = duration_ms(json_object_get(req,
	    "termination_delay"))) < 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "termination_delay is "
		    "a duration such as \"30s\" or \"1.5s\"");
		return;
	}
	if (reason == NULL || *reason == '\0')
		reason = "stopped through the API";
	/* terminate with a delay: graceful now, forced when it ends. */
	rc = session_stop(id, terminate && delay == 0, reason, &cause);
	if (rc == 1 && terminate && delay > 0) {
		struct stop_later *l = xcalloc(1, sizeof *l);
		struct timeval tv = { delay / 1000, (delay % 1000) * 1000 };

		snprintf(l->id, sizeof l->id, "%s", id);
		l->reason = xstrdup(reason);
		l->ev = evtimer_new(controller->base, stop_later_cb, l);
		evtimer_add(l->ev, &tv);
		TAILQ_INSERT_TAIL(&stops_later, l, entry);
	}
	if (rc == 1)
		api_reply(call, json_object());
	else if (rc == 0)
		api_error(call, CONNECT_NOT_FOUND, "no session %s: see 'akctl "
		    "session list'", id);
	else
		api_error(call, CONNECT_FAILED_PRECONDITION, "%s",
		    cause != NULL ? cause : "the session cannot be stopped");
	free(cause);
}

static int
session_delete_write(struct store *s, void *arg, char **cause)
{
	if (api_exec1(s, "DELETE FROM session_logs WHERE session_id = ?", arg,
	    cause) != 0)
		return -1;
	return api_exec1(s, "DELETE FROM sessions WHERE session_id = ?", arg,
	    cause);
}

void
api_session_delete(struct api_call *call, json_t *req)
{
	const char *id;
	char state[32];

	if (api_id_field(call, req, "session_id", "ses", 1, &id) != 0 ||
	    session_lookup(call, id, state, sizeof state) != 0)
		return;
	if (strcmp(state, "created") == 0 || strcmp(state, "running") == 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "session %s is %s: "
		    "only a finished session can be deleted; stop it first",
		    id, state);
		return;
	}
	if (api_write(call, session_delete_write, (void *)id,
	    json_object()) == 0)
		log_info("session %s deleted", id);
}

/* ---- Start ---- */

struct session_start {
	char		 session_id[64];
	char		 event_id[64];
	char		 project_id[64];
	char		 deployment_id[64];
	char		 build_id[64];
	char		*entrypoint;
	char		*inputs_json;
	char		*memo_json;
	int		 is_durable;
	json_t		*response;	/* borrowed: {session_id} */
};

static void
start_schedule_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	session_schedule();
}

static void
start_committed(int ok, const char *cause, void *arg)
{
	(void)cause;
	(void)arg;
	if (ok)	/* next turn: the answer goes out first */
		event_base_once(controller->base, -1, EV_TIMEOUT,
		    start_schedule_cb, NULL, &(struct timeval){ 0, 0 });
}

static int
session_start_write(struct store *s, void *arg, char **cause)
{
	struct session_start *x = arg;
	const char *dest = *x->deployment_id != '\0' ? x->deployment_id :
	    x->build_id;
	json_t *memo = json_loads(x->memo_json, 0, NULL);
	char *memo_json;
	struct session_new n = {
		.project_id = x->project_id,
		.deployment_id = *x->deployment_id != '\0' ? x->deployment_id :
		    NULL,
		.build_id = x->build_id,
		.event_id = x->event_id,
		.entrypoint = x->entrypoint,
		.is_durable = x->is_durable,
		.inputs_json = x->inputs_json,
	};
	int rc;

	if (event_insert(s, x->event_id, dest, x->project_id, "session_start",
	    x->inputs_json, "{}", cause) != 0) {
		json_decref(memo);
		return -1;
	}
	if (memo == NULL)
		memo = json_object();
	json_object_set_new(memo, "event_id", json_string(x->event_id));
	json_object_set_new(memo, "event_type", json_string("session_start"));
	json_object_set_new(memo, "project_id", json_string(x->project_id));
	memo_json = json_dumps(memo, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(memo);
	n.memo_json = memo_json;
	rc = session_insert(s, &n, x->session_id, sizeof x->session_id, cause);
	free(memo_json);
	if (rc == 0) {
		json_object_set_new(x->response, "session_id",
		    json_string(x->session_id));
		store_on_commit(s, start_committed, NULL);
	}
	return rc;
}

/* The deployment (or build) a session starts on: 0, or -1 answered. */
static int
start_target(struct api_call *call, json_t *sess, struct session_start *x)
{
	struct store *s = call_store(call);
	const char *project, *deployment, *build;
	sqlite3_stmt *st;
	int rc;

	project = api_object_string(sess, "project_id");
	deployment = api_object_string(sess, "deployment_id");
	build = api_object_string(sess, "build_id");
	if (api_id_check(call, "session.project_id", project, "prj", 0) != 0 ||
	    api_id_check(call, "session.deployment_id", deployment, "dep",
	    0) != 0 || api_id_check(call, "session.build_id", build, "bld",
	    0) != 0)
		return -1;
	if (project == NULL && deployment == NULL && build == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "a session starts in a "
		    "project (project_id), on a deployment (deployment_id) or "
		    "from a build (build_id)");
		return -1;
	}
	if (deployment != NULL) {
		st = store_prepare(s, "SELECT project_id, coalesce(build_id, ''), "
		    "state FROM deployments WHERE deployment_id = ?");
		if (st == NULL)
			goto internal;
		sqlite3_bind_text(st, 1, deployment, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			snprintf(x->project_id, sizeof x->project_id, "%s",
			    api_column_text(st, 0));
			snprintf(x->build_id, sizeof x->build_id, "%s",
			    api_column_text(st, 1));
			snprintf(x->deployment_id, sizeof x->deployment_id,
			    "%s", deployment);
			rc = strcmp(api_column_text(st, 2), "active") == 0 ||
			    strcmp(api_column_text(st, 2), "testing") == 0 ?
			    SQLITE_ROW : SQLITE_MISUSE;
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			api_error(call, CONNECT_NOT_FOUND, "no deployment %s: "
			    "see 'akctl deployment list'", deployment);
			return -1;
		}
		if (rc == SQLITE_MISUSE) {
			api_error(call, CONNECT_FAILED_PRECONDITION, "deployment "
			    "%s is neither ACTIVE nor TESTING: sessions start "
			    "on live deployments", deployment);
			return -1;
		}
		if (rc != SQLITE_ROW)
			goto internal;
		if (build != NULL && strcmp(build, x->build_id) != 0) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "deployment %s "
			    "runs build %s, not %s", deployment, x->build_id,
			    build);
			return -1;
		}
	} else if (build != NULL) {
		st = store_prepare(s, "SELECT project_id FROM builds WHERE "
		    "build_id = ?");
		if (st == NULL)
			goto internal;
		sqlite3_bind_text(st, 1, build, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			snprintf(x->project_id, sizeof x->project_id, "%s",
			    api_column_text(st, 0));
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			api_error(call, CONNECT_NOT_FOUND, "no build %s", build);
			return -1;
		}
		if (rc != SQLITE_ROW)
			goto internal;
		snprintf(x->build_id, sizeof x->build_id, "%s", build);
	} else {
		if (api_project_exists(call, project) != 0)
			return -1;
		st = store_prepare(s, "SELECT deployment_id, coalesce(build_id, "
		    "'') FROM deployments WHERE project_id = ? AND state = "
		    "'active' ORDER BY created_at DESC LIMIT 1");
		if (st == NULL)
			goto internal;
		sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			snprintf(x->deployment_id, sizeof x->deployment_id,
			    "%s", api_column_text(st, 0));
			snprintf(x->build_id, sizeof x->build_id, "%s",
			    api_column_text(st, 1));
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE) {
			api_error(call, CONNECT_FAILED_PRECONDITION, "project %s "
			    "has no active deployment: deploy it first, or name "
			    "a deployment or build", project);
			return -1;
		}
		if (rc != SQLITE_ROW)
			goto internal;
		snprintf(x->project_id, sizeof x->project_id, "%s", project);
	}
	if (project != NULL && strcmp(project, x->project_id) != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s %s belongs to "
		    "project %s, not %s", deployment != NULL ? "deployment" :
		    "build", deployment != NULL ? deployment : build,
		    x->project_id, project);
		return -1;
	}
	return 0;
internal:
	api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
	return -1;
}

/* inputs (Values), json_inputs ({k: JSON text}), json_object_input. */
static json_t *
start_inputs(struct api_call *call, json_t *req, json_t *sess,
    int json_values)
{
	json_t *inputs, *v, *obj;
	const char *key, *text;
	char *cause = NULL;

	inputs = value_map_native(api_object_get(sess, "inputs"),
	    "session.inputs", json_values, &cause);
	if (inputs == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s", cause);
		free(cause);
		return NULL;
	}
	v = json_object_get(req, "json_inputs");
	if (v != NULL && !json_is_null(v) && !json_is_object(v)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "json_inputs is a map "
		    "of JSON texts");
		json_decref(inputs);
		return NULL;
	}
	json_object_foreach(v, key, obj) {
		json_t *parsed = json_is_string(obj) ? json_loads(
		    json_string_value(obj), JSON_DECODE_ANY, NULL) : NULL;

		if (parsed == NULL) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "json_inputs"
			    "[\"%.64s\"] is not JSON text", key);
			json_decref(inputs);
			return NULL;
		}
		json_object_set_new(inputs, key, parsed);
	}
	text = json_string_value(json_object_get(req, "json_object_input"));
	if (text != NULL && *text != '\0') {
		obj = json_loads(text, 0, NULL);
		if (!json_is_object(obj)) {
			json_decref(obj);
			json_decref(inputs);
			api_error(call, CONNECT_INVALID_ARGUMENT,
			    "json_object_input must be a JSON object");
			return NULL;
		}
		json_object_update(inputs, obj);
		json_decref(obj);
	}
	return inputs;
}

void
api_session_start(struct api_call *call, json_t *req)
{
	struct session_start x;
	json_t *sess = json_object_get(req, "session"), *loc, *inputs, *memo;
	json_t *exports, *d;
	const char *path, *name, *key;
	enum connect_code code;
	char *cause = NULL;
	int json_values;

	memset(&x, 0, sizeof x);
	if (api_bool_field(call, req, "json_values", &json_values) != 0)
		return;
	if (sess == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "session is required");
		return;
	}
	if (api_object_check(call, sess, "session", start_session_fields) != 0)
		return;
	if (api_object_string(sess, "session_id") != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "session.session_id "
		    "must be empty: the server assigns it");
		return;
	}
	loc = api_object_get(sess, "entrypoint");
	if (loc == NULL || api_object_check(call, loc, "session.entrypoint",
	    start_entrypoint_fields) != 0) {
		if (loc == NULL)
			api_error(call, CONNECT_INVALID_ARGUMENT, "session."
			    "entrypoint is required: {path, name}, such as "
			    "program.py and on_event");
		return;
	}
	path = api_object_string(loc, "path");
	name = api_object_string(loc, "name");
	if (path == NULL || name == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "session.entrypoint "
		    "needs a path and a name (program.py, on_event)");
		return;
	}
	d = api_object_get(sess, "is_durable");
	if (d != NULL && !json_is_null(d) && !json_is_boolean(d)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "session.is_durable "
		    "must be a boolean");
		return;
	}
	x.is_durable = json_is_true(d);
	memo = api_object_get(sess, "memo");
	if (memo != NULL && !json_is_null(memo)) {
		json_t *v;

		if (!json_is_object(memo)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "session.memo "
			    "is a map of strings");
			return;
		}
		json_object_foreach(memo, key, v) {
			if (!json_is_string(v)) {
				api_error(call, CONNECT_INVALID_ARGUMENT,
				    "session.memo[\"%.64s\"] is not a string",
				    key);
				return;
			}
		}
	}
	if (start_target(call, sess, &x) != 0)
		return;
	exports = deployment_build_exports(call_store(call), x.build_id,
	    x.project_id, &code, &cause);
	if (exports == NULL) {
		api_error(call, code, "%s", cause);
		free(cause);
		return;
	}
	if (deployment_check_call(exports, "start", path, name, &cause) != 0) {
		const char *why = strstr(cause, "but the build");

		api_error(call, CONNECT_FAILED_PRECONDITION, "cannot start "
		    "%s:%s: %s", path, name, why != NULL ? why + 4 : cause);
		free(cause);
		json_decref(exports);
		return;
	}
	json_decref(exports);
	if ((inputs = start_inputs(call, req, sess, json_values)) == NULL)
		return;
	xasprintf(&x.entrypoint, "%s:%s", path, name);
	x.inputs_json = json_dumps(inputs, JSON_COMPACT);
	x.memo_json = memo != NULL && json_is_object(memo) ? json_dumps(memo,
	    JSON_COMPACT) : xstrdup("{}");
	json_decref(inputs);
	x.response = json_object();
	if (typeid_new("evt", x.event_id, sizeof x.event_id) != 0) {
		json_decref(x.response);
		api_error(call, CONNECT_INTERNAL, "cannot make an event id");
	/* The write runs now: it fills in the answer's session_id. */
	} else if (api_write(call, session_start_write, &x, x.response) == 0)
		log_info("session %s started by hand: %s in %s", x.session_id,
		    x.entrypoint, x.project_id);
	free(x.entrypoint);
	free(x.inputs_json);
	free(x.memo_json);
}
