/*
 * api-session.c: autokitteh.sessions.v1.SessionsService: List, Get,
 * GetLog, GetPrints, Stop, Delete (Start answers unimplemented in this
 * release: sessions start from triggers).
 *
 * Sessions and their logs are written by session.c; this file reads them,
 * turns session_logs rows into SessionLogRecords, and asks session.c to
 * stop a session. Pages: page_size (default 50, clamped to 1..1000), skip,
 * and page_token, an opaque string (the offset of the next page).
 */
#include "autokittehd.h"

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
    "json_object_input", NULL };

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

#define SESSION_FILTER " FROM sessions WHERE (?1 IS NULL OR deployment_id = " \
	"?1) AND (?2 IS NULL OR project_id = ?2) AND (?3 IS NULL OR event_id " \
	"= ?3) AND (?4 IS NULL OR build_id = ?4) AND (?5 IS NULL OR state = " \
	"?5)"

static void
session_bind_filter(sqlite3_stmt *st, const char *const f[5])
{
	for (int i = 0; i < 5; i++) {
		if (f[i] != NULL)
			sqlite3_bind_text(st, i + 1, f[i], -1, SQLITE_STATIC);
	}
}

void
api_session_list(struct api_call *call, json_t *req)
{
	const char *f[5], *org;
	int state, count_only, rc = SQLITE_DONE;
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
	if ((st = store_prepare(call_store(call), "SELECT count(*)"
	    SESSION_FILTER)) != NULL) {
		session_bind_filter(st, f);
		rc = sqlite3_step(st);
		count = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (st == NULL || rc != SQLITE_ROW) {
		api_error(call, CONNECT_INTERNAL, "cannot read the sessions");
		return;
	}
	out = json_pack("{s:o}", "count", api_int64_json(count));
	if (count_only) {
		api_reply(call, out);
		return;
	}
	st = store_prepare(call_store(call), "SELECT " SESSION_COLUMNS
	    SESSION_FILTER " ORDER BY created_at DESC, rowid DESC LIMIT ?6 "
	    "OFFSET ?7");
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

void
api_session_stop(struct api_call *call, json_t *req)
{
	const char *id, *reason;
	char *cause = NULL;
	int terminate, rc;

	if (api_id_field(call, req, "session_id", "ses", 1, &id) != 0 ||
	    api_string_field(call, req, "reason", &reason) != 0 ||
	    api_bool_field(call, req, "terminate", &terminate) != 0)
		return;
	if (reason == NULL || *reason == '\0')
		reason = "stopped through the API";
	rc = session_stop(id, terminate, reason, &cause);
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

void
api_session_start(struct api_call *call, json_t *req)
{
	api_error(call, CONNECT_UNIMPLEMENTED, "manual session start arrives "
	    "with the triggers work");
}
