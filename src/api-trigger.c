/*
 * api-trigger.c: autokitteh.triggers.v1.TriggersService: Create, Update,
 * Delete, Get, List.
 *
 * Triggers are written by the manifest (manifest-apply.c, "akctl manifest
 * apply") and by Create/Update/Delete here ("akctl trigger create").
 * Webhook triggers get a random slug on creation; schedules are checked
 * with cron.c and the scheduler is rearmed after the commit; filters must
 * parse (cel.c). A trigger's source type cannot change. Our addition to
 * AutoKitteh's Trigger: webhook_url, the address to call.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

#define TRIGGERS_LIST_MAX	1000

const char *const api_trigger_get_fields[] = { "trigger_id", NULL };
const char *const api_trigger_list_fields[] = { "project_id",
    "connection_id", "source_type", NULL };
const char *const api_trigger_write_fields[] = { "trigger", NULL };
const char *const api_trigger_delete_fields[] = { "trigger_id", NULL };

static const char *const trigger_fields[] = { "trigger_id", "name",
    "source_type", "project_id", "event_type", "code_location", "filter",
    "is_durable", "is_sync", "webhook_slug", "schedule", "timezone",
    "connection_id", "webhook_url", NULL };
static const char *const code_location_fields[] = { "path", "row", "col",
    "name", NULL };

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

/* ---- Create, Update, Delete ---- */

struct trigger_spec {
	char		 id[64];
	char		 slug[64];
	const char	*project_id;
	const char	*name;
	int		 type;		/* index in source_types */
	const char	*event_type;
	const char	*code_path;
	const char	*code_name;
	const char	*filter;
	int		 is_durable;
	int		 is_sync;
	const char	*schedule;
	const char	*timezone;
	const char	*connection_id;
	int		 update;
	int		 schedule_touched;
};

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* A field of a nested message as the top-level field of a new object. */
static json_t *
lift(json_t *obj, const char *name)
{
	json_t *v = api_object_get(obj, name), *out = json_object();

	if (v != NULL)
		json_object_set(out, name, v);
	return out;
}

static int
nested_enum(struct api_call *call, json_t *obj, const char *name,
    const char *const *names, size_t n, int *value)
{
	json_t *o = lift(obj, name);
	int rc = api_enum_field(call, o, name, names, n, value);

	json_decref(o);
	return rc;
}

static int
nested_bool(struct api_call *call, json_t *obj, const char *name, int *value)
{
	json_t *o = lift(obj, name);
	int rc = api_bool_field(call, o, name, value);

	json_decref(o);
	return rc;
}

static int
nested_string(struct api_call *call, json_t *obj, const char *what,
    const char *name, const char **value)
{
	json_t *v = api_object_get(obj, name);

	*value = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s.%s must be a "
		    "string", what, name);
		return -1;
	}
	*value = *json_string_value(v) != '\0' ? json_string_value(v) : NULL;
	return 0;
}

/* The stored source type and project of a trigger: 1, 0 none, -1 error. */
static int
trigger_stored(struct store *s, const char *id, int *type, char *project,
    size_t psize, char *name, size_t nsize)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT source_type, project_id, "
	    "name FROM triggers WHERE trigger_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*type = 0;
		for (size_t i = 1; i < nitems(source_types); i++) {
			if (strcmp(source_types[i], api_column_text(st, 0)) == 0)
				*type = (int)i;
		}
		snprintf(project, psize, "%s", api_column_text(st, 1));
		snprintf(name, nsize, "%s", api_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* trigger_stored() of the trigger id: 0, or -1 after answering. */
static int
trigger_find(struct api_call *call, const char *id, int *type, char *project,
    size_t psize, char *name, size_t nsize)
{
	int rc = trigger_stored(server_store(api_server(call)), id, type,
	    project, psize, name, nsize);

	if (rc == 1)
		return 0;
	if (rc == 0)
		api_error(call, CONNECT_NOT_FOUND, "no trigger %s: see 'akctl "
		    "trigger list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the triggers");
	return -1;
}

/* The Trigger message of Create and Update: 0, or -1 after answering. */
static int
trigger_spec_parse(struct api_call *call, json_t *t, struct trigger_spec *x,
    char *stored_project, size_t psize, char *stored_name, size_t nsize)
{
	struct store *s = server_store(api_server(call));
	json_t *loc;
	const char *id, *slug;
	char *cause = NULL;
	int rc, stored_type = 0;

	if (t == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "trigger is required");
		return -1;
	}
	if (api_object_check(call, t, "trigger", trigger_fields) != 0 ||
	    nested_string(call, t, "trigger", "trigger_id", &id) != 0 ||
	    nested_string(call, t, "trigger", "project_id", &x->project_id) !=
	    0 || nested_string(call, t, "trigger", "name", &x->name) != 0 ||
	    nested_string(call, t, "trigger", "event_type", &x->event_type) !=
	    0 || nested_string(call, t, "trigger", "filter", &x->filter) != 0 ||
	    nested_string(call, t, "trigger", "schedule", &x->schedule) != 0 ||
	    nested_string(call, t, "trigger", "timezone", &x->timezone) != 0 ||
	    nested_string(call, t, "trigger", "connection_id",
	    &x->connection_id) != 0 ||
	    nested_string(call, t, "trigger", "webhook_slug", &slug) != 0 ||
	    nested_enum(call, t, "source_type", source_type_names,
	    nitems(source_type_names), &x->type) != 0 ||
	    nested_bool(call, t, "is_durable", &x->is_durable) != 0 ||
	    nested_bool(call, t, "is_sync", &x->is_sync) != 0)
		return -1;
	if (!x->update && id != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "trigger.trigger_id "
		    "must be empty: the server assigns it");
		return -1;
	}
	if (x->update) {
		if (api_id_check(call, "trigger.trigger_id", id, "trg", 1) != 0)
			return -1;
		snprintf(x->id, sizeof x->id, "%s", id);
		if (trigger_find(call, id, &stored_type, stored_project, psize,
		    stored_name, nsize) != 0)
			return -1;
		if (x->type != 0 && x->type != stored_type) {
			api_error(call, CONNECT_FAILED_PRECONDITION, "a "
			    "trigger's source type cannot change; delete and "
			    "re-create it");
			return -1;
		}
		x->type = stored_type;
		if (x->project_id != NULL && strcmp(x->project_id,
		    stored_project) != 0) {
			api_error(call, CONNECT_FAILED_PRECONDITION, "trigger "
			    "%s belongs to project %s; a trigger cannot move "
			    "to another project", id, stored_project);
			return -1;
		}
		x->project_id = stored_project;
		if (x->name == NULL)
			x->name = stored_name;
	} else {
		if (api_id_check(call, "trigger.project_id", x->project_id,
		    "prj", 1) != 0 || api_project_exists(call, x->project_id) !=
		    0)
			return -1;
		if (x->type == 0) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "trigger."
			    "source_type is required: SOURCE_TYPE_WEBHOOK, "
			    "SOURCE_TYPE_SCHEDULE or SOURCE_TYPE_CONNECTION");
			return -1;
		}
	}
	if (x->name == NULL || !api_name_valid(x->name, 100)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "trigger.name is "
		    "required: 1 to 100 letters, digits and underscores");
		return -1;
	}
	loc = api_object_get(t, "code_location");
	if (loc != NULL && !json_is_null(loc)) {
		if (api_object_check(call, loc, "trigger.code_location",
		    code_location_fields) != 0 || nested_string(call, loc,
		    "trigger.code_location", "path", &x->code_path) != 0 ||
		    nested_string(call, loc, "trigger.code_location", "name",
		    &x->code_name) != 0)
			return -1;
		if ((x->code_path == NULL) != (x->code_name == NULL)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "trigger."
			    "code_location needs both path and name "
			    "(program.py:on_event)");
			return -1;
		}
	}
	if (x->filter != NULL) {
		struct cel_expr *e = cel_parse(x->filter, &cause);

		if (e == NULL) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "trigger.filter "
			    "is not a valid filter: %s", cause != NULL ? cause :
			    "it does not parse");
			free(cause);
			return -1;
		}
		cel_free(e);
	}
	if (x->is_sync && strcmp(source_types[x->type], "webhook") != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "trigger.is_sync "
		    "applies to webhook triggers only");
		return -1;
	}
	if (strcmp(source_types[x->type], "schedule") == 0) {
		struct cron *c;

		if (x->schedule == NULL) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "trigger."
			    "schedule is required for a schedule trigger (a "
			    "cron expression such as \"*/5 * * * *\", @daily "
			    "or @every 10m)");
			return -1;
		}
		if ((c = cron_parse(x->schedule, &cause)) == NULL) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "trigger."
			    "schedule \"%.100s\" is not valid: %s", x->schedule,
			    cause != NULL ? cause : "it does not parse");
			free(cause);
			return -1;
		}
		cron_free(c);
		if (x->timezone != NULL && !cron_timezone_valid(x->timezone)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "trigger."
			    "timezone \"%.100s\" is not a known time zone (such "
			    "as UTC or Europe/Paris)", x->timezone);
			return -1;
		}
		x->schedule_touched = 1;
	} else if (x->schedule != NULL || x->timezone != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "trigger.schedule and "
		    "trigger.timezone apply to schedule triggers only");
		return -1;
	}
	if (strcmp(source_types[x->type], "connection") == 0) {
		char project[64];

		if (api_id_check(call, "trigger.connection_id",
		    x->connection_id, "con", 1) != 0)
			return -1;
		rc = api_destination_project(s, x->connection_id, project,
		    sizeof project);
		if (rc != 1) {
			if (rc == 0)
				api_error(call, CONNECT_NOT_FOUND, "no "
				    "connection %s", x->connection_id);
			else
				api_error(call, CONNECT_INTERNAL, "cannot read "
				    "the connections");
			return -1;
		}
		/* Dispatch matches triggers by connection alone: another
		 * project's connection would hand its events to this one. */
		if (strcmp(project, x->project_id) != 0) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "connection "
			    "%s belongs to another project (%s): a trigger can "
			    "use only a connection of its own project; create "
			    "one in %s", x->connection_id, project,
			    x->project_id);
			return -1;
		}
	} else if (x->connection_id != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "trigger.connection_id "
		    "applies to connection triggers only");
		return -1;
	}
	/* The name is unique in the project. */
	{
		sqlite3_stmt *st = store_prepare(s, "SELECT trigger_id FROM "
		    "triggers WHERE project_id = ? AND name = ? AND trigger_id "
		    "<> ?");

		if (st == NULL) {
			api_error(call, CONNECT_INTERNAL, "cannot read the "
			    "triggers");
			return -1;
		}
		sqlite3_bind_text(st, 1, x->project_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, x->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, x->id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW) {
			api_error(call, CONNECT_ALREADY_EXISTS, "the project "
			    "already has a trigger named %s", x->name);
			return -1;
		}
	}
	return 0;
}

static void
trigger_sched_rearm(int ok, const char *cause, void *arg)
{
	(void)cause;
	(void)arg;
	if (ok)
		sched_rearm();
}

/*
 * Run st, an INSERT or UPDATE whose parameters 1 to 10 are the fields
 * Create and Update both write, in this order (the caller has bound the
 * others), then finalize it. NULL st: the store is unavailable.
 */
static int
trigger_write(struct store *s, sqlite3_stmt *st, struct trigger_spec *x,
    const char *doing, char **cause)
{
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, x->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, nz(x->event_type), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, nz(x->filter), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, nz(x->code_path), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, nz(x->code_name), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, x->is_durable);
	sqlite3_bind_int(st, 7, x->is_sync);
	sqlite3_bind_text(st, 8, nz(x->schedule), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, nz(x->timezone), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, nz(x->connection_id), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "%s the trigger: %s", doing,
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	if (x->schedule_touched)
		store_on_commit(s, trigger_sched_rearm, NULL);
	return 0;
}

static int
trigger_create_write(struct store *s, void *arg, char **cause)
{
	struct trigger_spec *x = arg;
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO triggers (name, "
	    "event_type, filter, code_path, code_name, is_durable, is_sync, "
	    "schedule, timezone, connection_id, trigger_id, project_id, "
	    "source_type, webhook_slug, created_at) VALUES (?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (st != NULL) {
		sqlite3_bind_text(st, 11, x->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 12, x->project_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 13, source_types[x->type], -1,
		    SQLITE_STATIC);
		if (*x->slug != '\0')
			sqlite3_bind_text(st, 14, x->slug, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 15, now_us());
	}
	return trigger_write(s, st, x, "creating", cause);
}

void
api_trigger_create(struct api_call *call, json_t *req)
{
	struct trigger_spec x;
	char project[64], name[128];

	memset(&x, 0, sizeof x);
	if (trigger_spec_parse(call, json_object_get(req, "trigger"), &x,
	    project, sizeof project, name, sizeof name) != 0)
		return;
	if (typeid_new("trg", x.id, sizeof x.id) != 0 ||
	    typeid_new("trg", x.slug, sizeof x.slug) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot get random bytes for "
		    "a trigger id");
		return;
	}
	/* The slug: the random part of a second TypeID, as the manifest's. */
	if (strcmp(source_types[x.type], "webhook") == 0)
		memmove(x.slug, strchr(x.slug, '_') + 1,
		    strlen(strchr(x.slug, '_') + 1) + 1);
	else
		*x.slug = '\0';
	/* The write runs now, inside the batch: x may live on our stack. */
	if (api_write(call, trigger_create_write, &x, json_pack("{s:s}",
	    "trigger_id", x.id)) == 0)
		log_info("trigger %s (%s) created in %s", x.name, x.id,
		    x.project_id);
}

static int
trigger_update_write(struct store *s, void *arg, char **cause)
{
	struct trigger_spec *x = arg;
	sqlite3_stmt *st = store_prepare(s, "UPDATE triggers SET name = ?, "
	    "event_type = ?, filter = ?, code_path = ?, code_name = ?, "
	    "is_durable = ?, is_sync = ?, schedule = ?, timezone = ?, "
	    "connection_id = ? WHERE trigger_id = ?");

	if (st != NULL)
		sqlite3_bind_text(st, 11, x->id, -1, SQLITE_STATIC);
	return trigger_write(s, st, x, "updating", cause);
}

/* Update replaces the trigger's fields; the slug and source type stay. */
void
api_trigger_update(struct api_call *call, json_t *req)
{
	struct trigger_spec x;
	char project[64], name[128];

	memset(&x, 0, sizeof x);
	x.update = 1;
	if (trigger_spec_parse(call, json_object_get(req, "trigger"), &x,
	    project, sizeof project, name, sizeof name) != 0)
		return;
	if (api_write(call, trigger_update_write, &x, json_object()) == 0)
		log_info("trigger %s (%s) updated", x.name, x.id);
}

static int
trigger_delete_write(struct store *s, void *arg, char **cause)
{
	if (api_exec1(s, "DELETE FROM vars WHERE scope_id = ?", arg,
	    cause) != 0 || api_exec1(s, "DELETE FROM triggers WHERE "
	    "trigger_id = ?", arg, cause) != 0)
		return -1;
	store_on_commit(s, trigger_sched_rearm, NULL);
	return 0;
}

/* Delete takes the trigger's vars along; its events and sessions stay. */
void
api_trigger_delete(struct api_call *call, json_t *req)
{
	const char *id;
	char project[64], name[128];
	int type;

	if (api_id_field(call, req, "trigger_id", "trg", 1, &id) != 0 ||
	    trigger_find(call, id, &type, project, sizeof project, name,
	    sizeof name) != 0)
		return;
	if (api_write(call, trigger_delete_write, (void *)id,
	    json_object()) == 0)
		log_info("trigger %s (%s) deleted", name, id);
}
