/*
 * api-event.c: autokitteh.events.v1.EventsService: Get, List.
 *
 * Events are written by the trigger code (webhook.c); Save answers
 * unimplemented in this release. Data is stored as a native JSON object
 * and answered as a map of Values (value.c); List leaves the data out, as
 * AutoKitteh does.
 */
#include "autokittehd.h"

#include <string.h>

#define EVENTS_LIST_DEFAULT	100
#define EVENTS_LIST_MAX		1000

const char *const api_event_get_fields[] = { "event_id", "json_values", NULL };
const char *const api_event_list_fields[] = { "destination_id", "event_type",
    "max_results", "order", "json_values", "project_id", "org_id", NULL };
const char *const api_event_save_fields[] = { "event", NULL };

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
#define EVENT_LIST_SQL(dir) "SELECT " EVENT_COLUMNS " FROM events WHERE " \
	"(?1 IS NULL OR destination_id = ?1) AND (?2 IS NULL OR event_type = " \
	"?2) AND (?3 IS NULL OR project_id = ?3) ORDER BY seq " dir " LIMIT ?4"
	st = store_prepare(call_store(call), asc ? EVENT_LIST_SQL("ASC") :
	    EVENT_LIST_SQL("DESC"));
#undef EVENT_LIST_SQL
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

void
api_event_save(struct api_call *call, json_t *req)
{
	api_error(call, CONNECT_UNIMPLEMENTED, "events come from triggers in "
	    "this release");
}
