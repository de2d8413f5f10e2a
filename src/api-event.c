/*
 * api-event.c: autokitteh.events.v1.EventsService: Save, Get, List; and
 * autokitteh.system.v1.SystemService/VerifyFilter (our own: akctl event
 * verify-filter compiles a filter with the daemon's CEL).
 *
 * Events come from webhooks (webhook.c), schedules, connections, Save
 * (stored, not dispatched) and DispatcherService (api-dispatcher.c). Data
 * is stored as a native JSON object and answered as a map of Values
 * (value.c); List leaves the data out, as AutoKitteh does. A request's
 * data is a map of Values; with json_values: true (our addition, as Get
 * has it) each is a String Value holding native JSON.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

#define EVENTS_LIST_DEFAULT	100
#define EVENTS_LIST_MAX		1000

const char *const api_event_get_fields[] = { "event_id", "json_values", NULL };
const char *const api_event_list_fields[] = { "destination_id", "event_type",
    "max_results", "order", "json_values", "project_id", "org_id", NULL };
const char *const api_event_save_fields[] = { "event", "json_values", NULL };
const char *const api_event_verify_filter_fields[] = { "filter", NULL };

static const char *const event_fields[] = { "event_id", "destination_id",
    "event_type", "data", "memo", "created_at", "seq", "deduplication_key",
    NULL };

#define EVENT_COLUMNS "event_id, destination_id, event_type, memo, " \
	"created_at, seq, data"

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

/* with_data 0: leave data out (List does, as in AutoKitteh). */
static json_t *
event_row_json(sqlite3_stmt *st, int with_data, int json_values)
{
	json_t *e = json_pack("{s:s, s:s, s:s}", "event_id",
	    api_column_text(st, 0), "destination_id", api_column_text(st, 1),
	    "event_type", api_column_text(st, 2));

	if (with_data)
		json_object_set_new(e, "data", value_map_from_json_text(
		    api_column_text(st, 6), json_values));
	json_object_set_new(e, "memo", value_string_map_from_json_text(
	    api_column_text(st, 3)));
	json_object_set_new(e, "created_at",
	    timestamp_us_json(sqlite3_column_int64(st, 4)));
	json_object_set_new(e, "seq", api_int64_json(sqlite3_column_int64(st,
	    5)));
	return e;
}

void
api_event_get(struct api_call *call, json_t *req)
{
	const char *id;
	sqlite3_stmt *st;
	int json_values, rc;

	if (api_id_field(call, req, "event_id", "evt", 1, &id) != 0 ||
	    api_bool_field(call, req, "json_values", &json_values) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT " EVENT_COLUMNS " FROM "
	    "events WHERE event_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the events");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		api_reply(call, json_pack("{s:o}", "event", event_row_json(st, 1,
		    json_values)));
	else if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no event %s", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the events");
	sqlite3_finalize(st);
}

void
api_event_list(struct api_call *call, json_t *req)
{
	const char *dest, *type, *order, *project, *org;
	sqlite3_stmt *st;
	int64_t max;
	json_t *list;
	char *sql;
	int asc, json_values, rc;

	if (api_string_field(call, req, "destination_id", &dest) != 0 ||
	    api_string_field(call, req, "event_type", &type) != 0 ||
	    api_string_field(call, req, "order", &order) != 0 ||
	    api_string_field(call, req, "org_id", &org) != 0 ||
	    api_id_field(call, req, "project_id", "prj", 0, &project) != 0 ||
	    api_int_field(call, req, "max_results", 0, UINT32_MAX, 0, &max) != 0 ||
	    api_bool_field(call, req, "json_values", &json_values) != 0)
		return;
	if (dest != NULL && *dest == '\0')
		dest = NULL;
	if (type != NULL && *type == '\0')
		type = NULL;
	if (dest != NULL && typeid_check(dest, "trg") != 0 &&
	    typeid_check(dest, "con") != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "destination_id "
		    "\"%.80s\" is not a trigger or connection id (trg_ or con_ "
		    "followed by 26 characters)", dest);
		return;
	}
	if (order != NULL && *order != '\0' && strcmp(order, "ASC") != 0 &&
	    strcmp(order, "DESC") != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "order is \"ASC\" or "
		    "\"DESC\"");
		return;
	}
	asc = order != NULL && strcmp(order, "ASC") == 0;
	if (max == 0 || max > EVENTS_LIST_MAX)
		max = max == 0 ? EVENTS_LIST_DEFAULT : EVENTS_LIST_MAX;
	/*
	 * Only the filters given, so that a destination's events come off
	 * events_by_destination in order: "(?1 IS NULL OR destination_id =
	 * ?1)" can use no index, and read every event kept to find a rare
	 * destination's few.
	 */
	xasprintf(&sql, "SELECT " EVENT_COLUMNS " FROM events WHERE 1%s%s%s "
	    "ORDER BY seq %s LIMIT ?4", dest != NULL ? " AND destination_id = "
	    "?1" : "", type != NULL ? " AND event_type = ?2" : "", project !=
	    NULL ? " AND project_id = ?3" : "", asc ? "ASC" : "DESC");
	st = store_prepare(call_store(call), sql);
	free(sql);
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the events");
		return;
	}
	if (dest != NULL)
		sqlite3_bind_text(st, 1, dest, -1, SQLITE_STATIC);
	if (type != NULL)
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	if (project != NULL)
		sqlite3_bind_text(st, 3, project, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, max);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, event_row_json(st, 0, json_values));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the events");
		return;
	}
	api_reply(call, json_pack("{s:o}", "events", list));
}

/* The project of a trigger or connection: 1 found, 0 not, -1 error. */
int
api_destination_project(struct store *s, const char *destination,
    char *project_id, size_t size)
{
	sqlite3_stmt *st;
	int rc;

	*project_id = '\0';
	if (typeid_check(destination, "trg") == 0)
		st = store_prepare(s, "SELECT project_id FROM triggers WHERE "
		    "trigger_id = ?");
	else if (typeid_check(destination, "con") == 0) {
		/* The connections table arrives with the connections work. */
		if (api_row_exists(s, "SELECT 1 FROM sqlite_master WHERE type = "
		    "'table' AND name = ?", "connections") != 1)
			return 0;
		st = store_prepare(s, "SELECT coalesce(project_id, '') FROM "
		    "connections WHERE connection_id = ?");
	} else
		return 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(project_id, size, "%s", api_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

void
api_event_request_free(struct event_request *e)
{
	free(e->event_type);
	free(e->data_json);
	free(e->memo_json);
	memset(e, 0, sizeof *e);
}

/*
 * The Event message of Save and Dispatch: destination_id (an existing
 * trigger or connection), event_type, data, memo. -1 after answering.
 */
int
api_event_request(struct api_call *call, json_t *event, int json_values,
    struct event_request *e)
{
	const char *dest, *type, *key;
	json_t *data, *memo, *v;
	char *cause = NULL;
	int rc;

	memset(e, 0, sizeof *e);
	if (event == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "event is required");
		return -1;
	}
	if (api_object_check(call, event, "event", event_fields) != 0)
		return -1;
	if (api_object_string(event, "event_id") != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "event.event_id must "
		    "be empty: the server assigns it");
		return -1;
	}
	dest = api_object_string(event, "destination_id");
	if (dest == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "event.destination_id "
		    "is required (a trigger or connection id)");
		return -1;
	}
	if (typeid_check(dest, "trg") != 0 && typeid_check(dest, "con") != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "event.destination_id "
		    "\"%.80s\" is not a trigger or connection id (trg_ or con_ "
		    "followed by 26 characters)", dest);
		return -1;
	}
	rc = api_destination_project(call_store(call), dest, e->project_id,
	    sizeof e->project_id);
	if (rc != 1) {
		if (rc == 0)
			api_error(call, CONNECT_NOT_FOUND, "no %s %s", strncmp(
			    dest, "trg_", 4) == 0 ? "trigger" : "connection",
			    dest);
		else
			api_error(call, CONNECT_INTERNAL, "cannot read the "
			    "triggers");
		return -1;
	}
	snprintf(e->destination_id, sizeof e->destination_id, "%s", dest);
	type = api_object_string(event, "event_type");
	if (type == NULL || strlen(type) > 256) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "event.event_type is "
		    "required (1 to 256 characters)");
		return -1;
	}
	data = value_map_native(api_object_get(event, "data"), "event.data",
	    json_values, &cause);
	if (data == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s", cause);
		free(cause);
		return -1;
	}
	memo = api_object_get(event, "memo");
	if (memo != NULL && !json_is_null(memo)) {
		if (!json_is_object(memo)) {
			json_decref(data);
			api_error(call, CONNECT_INVALID_ARGUMENT, "event.memo is "
			    "a map of strings");
			return -1;
		}
		json_object_foreach(memo, key, v) {
			if (!json_is_string(v)) {
				json_decref(data);
				api_error(call, CONNECT_INVALID_ARGUMENT,
				    "event.memo[\"%.64s\"] is not a string",
				    key);
				return -1;
			}
		}
	}
	e->event_type = xstrdup(type);
	e->data_json = json_dumps(data, JSON_COMPACT);
	e->memo_json = memo != NULL && json_is_object(memo) ?
	    json_dumps(memo, JSON_COMPACT) : xstrdup("{}");
	json_decref(data);
	return 0;
}

struct event_save {
	char			 event_id[64];
	struct event_request	 e;
};

static int
event_save_write(struct store *s, void *arg, char **cause)
{
	struct event_save *w = arg;

	return event_insert(s, w->event_id, w->e.destination_id,
	    w->e.project_id, w->e.event_type, w->e.data_json, w->e.memo_json,
	    cause);
}

/* Save: stored, not dispatched (reference 1.6). */
void
api_event_save(struct api_call *call, json_t *req)
{
	struct event_save w;
	int json_values;

	if (api_bool_field(call, req, "json_values", &json_values) != 0 ||
	    api_event_request(call, json_object_get(req, "event"), json_values,
	    &w.e) != 0)
		return;
	if (typeid_new("evt", w.event_id, sizeof w.event_id) != 0) {
		api_event_request_free(&w.e);
		api_error(call, CONNECT_INTERNAL, "cannot make an event id");
		return;
	}
	/* The write runs now, inside the batch: w may live on our stack. */
	if (api_write(call, event_save_write, &w, json_pack("{s:s}",
	    "event_id", w.event_id)) == 0)
		log_info("event %s saved for %s", w.event_id,
		    w.e.destination_id);
	api_event_request_free(&w.e);
}

/* SystemService/VerifyFilter {filter} -> {ok: true}, or the parse error. */
void
api_event_verify_filter(struct api_call *call, json_t *req)
{
	const char *filter;
	struct cel_expr *e;
	char *cause = NULL;

	if (api_string_field(call, req, "filter", &filter) != 0)
		return;
	if (filter == NULL || *filter == '\0') {
		api_error(call, CONNECT_INVALID_ARGUMENT, "filter is required");
		return;
	}
	if ((e = cel_parse(filter, &cause)) == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s", cause != NULL ?
		    cause : "the filter does not parse");
		free(cause);
		return;
	}
	cel_free(e);
	api_reply(call, json_pack("{s:b}", "ok", 1));
}
