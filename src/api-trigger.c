/*
 * api-trigger.c: autokitteh.triggers.v1.TriggersService: Get, List.
 *
 * Triggers are written by the manifest (manifest-apply.c, "akctl manifest
 * apply"); Create, Update and Delete answer unimplemented in this release.
 * Our addition to AutoKitteh's Trigger: webhook_url, the address to call.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

#define TRIGGERS_LIST_MAX	1000

const char *const api_trigger_get_fields[] = { "trigger_id", NULL };
const char *const api_trigger_list_fields[] = { "project_id",
    "connection_id", "source_type", NULL };
const char *const api_trigger_write_fields[] = { "trigger", "trigger_id",
    NULL };

static const char *const source_types[] = {
	"", "connection", "webhook", "schedule",
};
static const char *const source_type_names[] = {
	"SOURCE_TYPE_UNSPECIFIED", "SOURCE_TYPE_CONNECTION",
	"SOURCE_TYPE_WEBHOOK", "SOURCE_TYPE_SCHEDULE",
};

#define TRIGGER_COLUMNS "trigger_id, name, project_id, source_type, " \
	"event_type, code_path, code_name, filter, is_durable, is_sync, " \
	"webhook_slug, schedule, timezone, connection_id"

static const char *
source_type_enum(const char *stored)
{
	for (size_t i = 1; i < nitems(source_types); i++) {
		if (strcmp(source_types[i], stored) == 0)
			return source_type_names[i];
	}
	return source_type_names[0];
}

static json_t *
trigger_row_json(sqlite3_stmt *st, const struct config *cf)
{
	const char *type = api_column_text(st, 3), *slug;
	json_t *t;
	char *base;

	t = json_pack("{s:s, s:s, s:s, s:s}", "trigger_id",
	    api_column_text(st, 0), "name", api_column_text(st, 1),
	    "project_id", api_column_text(st, 2), "source_type",
	    source_type_enum(type));
	api_set_nonempty(t, "event_type", api_column_text(st, 4));
	if (*api_column_text(st, 5) != '\0')
		json_object_set_new(t, "code_location", json_pack("{s:s, s:s}",
		    "path", api_column_text(st, 5), "name",
		    api_column_text(st, 6)));
	api_set_nonempty(t, "filter", api_column_text(st, 7));
	json_object_set_new(t, "is_durable",
	    json_boolean(sqlite3_column_int(st, 8)));
	json_object_set_new(t, "is_sync", json_boolean(sqlite3_column_int(st, 9)));
	slug = api_column_text(st, 10);
	api_set_nonempty(t, "webhook_slug", slug);
	api_set_nonempty(t, "schedule", api_column_text(st, 11));
	api_set_nonempty(t, "timezone", api_column_text(st, 12));
	api_set_nonempty(t, "connection_id", api_column_text(st, 13));
	if (strcmp(type, "webhook") == 0 && *slug != '\0') {
		base = public_base_url(cf);
		json_object_set_new(t, "webhook_url", json_sprintf(
		    "%s/webhooks/%s", base != NULL ? base : "", slug));
		free(base);
	}
	return t;
}

void
api_trigger_get(struct api_call *call, json_t *req)
{
	struct server *srv = api_server(call);
	const char *id;
	sqlite3_stmt *st;
	int rc;

	if (api_id_field(call, req, "trigger_id", "trg", 1, &id) != 0)
		return;
	st = store_prepare(server_store(srv), "SELECT " TRIGGER_COLUMNS
	    " FROM triggers WHERE trigger_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the triggers");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		api_reply(call, json_pack("{s:o}", "trigger", trigger_row_json(st,
		    server_config(srv))));
	else if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no trigger %s: see 'akctl "
		    "trigger list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the triggers");
	sqlite3_finalize(st);
}

void
api_trigger_list(struct api_call *call, json_t *req)
{
	struct server *srv = api_server(call);
	const char *project, *conn;
	sqlite3_stmt *st;
	json_t *list;
	int type, rc;

	if (api_id_field(call, req, "project_id", "prj", 0, &project) != 0 ||
	    api_id_field(call, req, "connection_id", "con", 0, &conn) != 0 ||
	    api_enum_field(call, req, "source_type", source_type_names,
	    nitems(source_type_names), &type) != 0)
		return;
	st = store_prepare(server_store(srv), "SELECT " TRIGGER_COLUMNS
	    " FROM triggers WHERE (?1 IS NULL OR project_id = ?1) AND (?2 IS "
	    "NULL OR connection_id = ?2) AND (?3 IS NULL OR source_type = ?3) "
	    "ORDER BY project_id, name LIMIT ?4");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the triggers");
		return;
	}
	if (project != NULL)
		sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	if (conn != NULL)
		sqlite3_bind_text(st, 2, conn, -1, SQLITE_STATIC);
	if (type != 0)
		sqlite3_bind_text(st, 3, source_types[type], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, TRIGGERS_LIST_MAX);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, trigger_row_json(st,
		    server_config(srv)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the triggers");
		return;
	}
	api_reply(call, json_pack("{s:o}", "triggers", list));
}

/* Create, Update, Delete. */
void
api_trigger_write(struct api_call *call, json_t *req)
{
	api_error(call, CONNECT_UNIMPLEMENTED, "triggers are managed by the "
	    "manifest in this release; use akctl manifest apply");
}
