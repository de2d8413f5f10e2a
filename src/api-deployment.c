/*
 * api-deployment.c: autokitteh.deployments.v1.DeploymentsService: Create,
 * Activate, Deactivate, Test, Get, List, Delete.
 *
 * The transitions follow AutoKitteh (reference section 1.4): Create makes
 * an INACTIVE deployment; Activate drains or deactivates every other ACTIVE
 * deployment of the project in the same write; Deactivate drains while
 * sessions are unfinished; only an INACTIVE deployment can be deleted.
 * The rules shared with the session code are in deployment.c.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

#define DEPLOYMENTS_LIST_DEFAULT	100
#define DEPLOYMENTS_LIST_MAX		1000

const char *const api_deployment_create_fields[] = { "deployment", NULL };
const char *const api_deployment_id_fields[] = { "deployment_id", NULL };
const char *const api_deployment_list_fields[] = { "project_id", "build_id",
    "state", "limit", "include_session_stats", "org_id", NULL };

static const char *const deployment_msg_fields[] = { "project_id",
    "deployment_id", "build_id", "state", "created_at", "updated_at",
    "sessions_stats", NULL };

#define DEPLOYMENT_COLUMNS "deployment_id, project_id, build_id, state, " \
	"created_at, updated_at"

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

static json_t *
deployment_row_json(sqlite3_stmt *st)
{
	int64_t created = sqlite3_column_int64(st, 4);

	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}",
	    "deployment_id", api_column_text(st, 0),
	    "project_id", api_column_text(st, 1),
	    "build_id", api_column_text(st, 2),
	    "state", deployment_state_enum(api_column_text(st, 3)),
	    "created_at", timestamp_us_json(created),
	    "updated_at", timestamp_us_json(sqlite3_column_type(st, 5) ==
	    SQLITE_NULL ? created : sqlite3_column_int64(st, 5)));
}

/* [{state, count}] of the deployment's sessions; NULL on a store error. */
static json_t *
deployment_session_stats(struct store *s, const char *id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT state, count(*) FROM "
	    "sessions WHERE deployment_id = ? GROUP BY state ORDER BY state");
	json_t *list;
	int rc;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:s, s:I}", "state",
		    session_state_enum(api_column_text(st, 0)), "count",
		    (json_int_t)sqlite3_column_int64(st, 1)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return NULL;
	}
	return list;
}

/*
 * The deployment's project and stored state into the caller's buffers:
 * 0, or -1 after answering (not_found / internal).
 */
static int
deployment_lookup(struct api_call *call, const char *id, char *project,
    size_t psize, char *state, size_t ssize)
{
	sqlite3_stmt *st = store_prepare(call_store(call), "SELECT project_id, "
	    "state FROM deployments WHERE deployment_id = ?");
	int rc;

	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(project, psize, "%s", api_column_text(st, 0));
		snprintf(state, ssize, "%s", api_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no deployment %s: see "
		    "'akctl deployment list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
	return -1;
}

/* ---- Create ---- */

struct deployment_new {
	char		 id[80];
	const char	*project_id;
	const char	*build_id;
	int64_t		 now;
};

static int
deployment_create_write(struct store *s, void *arg, char **cause)
{
	struct deployment_new *d = arg;
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO deployments "
	    "(deployment_id, project_id, build_id, state, created_at, "
	    "updated_at) VALUES (?, ?, ?, 'inactive', ?, ?)");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->build_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, d->now);
	sqlite3_bind_int64(st, 5, d->now);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the deployment: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Every trigger of the project with a code location must name a function
 * the build exports. 0, or -1 after answering.
 */
static int
deployment_check_triggers(struct api_call *call, const char *project_id,
    json_t *exports)
{
	sqlite3_stmt *st;
	char *cause = NULL;
	int rc = SQLITE_DONE, failed = 0;

	st = store_prepare(call_store(call), "SELECT name, code_path, "
	    "code_name FROM triggers WHERE project_id = ? AND code_path != '' "
	    "ORDER BY name");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the project's "
		    "triggers");
		return -1;
	}
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (deployment_check_call(exports, api_column_text(st, 0),
		    api_column_text(st, 1), api_column_text(st, 2),
		    &cause) != 0) {
			api_error(call, CONNECT_FAILED_PRECONDITION, "%s",
			    cause);
			free(cause);
			failed = 1;
		}
	}
	if (!failed && rc != SQLITE_DONE) {
		api_error(call, CONNECT_INTERNAL, "cannot read the triggers");
		failed = 1;
	}
	sqlite3_finalize(st);
	return failed ? -1 : 0;
}

void
api_deployment_create(struct api_call *call, json_t *req)
{
	json_t *msg = json_object_get(req, "deployment"), *state;
	struct deployment_new d;
	json_t *exports;
	enum connect_code code;
	char *cause = NULL;

	if (msg == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "deployment is "
		    "required");
		return;
	}
	if (api_object_check(call, msg, "deployment",
	    deployment_msg_fields) != 0)
		return;
	state = api_object_get(msg, "state");
	if (api_object_string(msg, "deployment_id") != NULL || (state != NULL &&
	    !json_is_null(state) && !(json_is_integer(state) &&
	    json_integer_value(state) == 0) && !(json_is_string(state) &&
	    strcmp(json_string_value(state), deployment_state_names[0]) == 0))) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "deployment."
		    "deployment_id and deployment.state must not be specified");
		return;
	}
	memset(&d, 0, sizeof d);
	d.project_id = api_object_string(msg, "project_id");
	d.build_id = api_object_string(msg, "build_id");
	if (api_id_check(call, "deployment.project_id", d.project_id, "prj",
	    1) != 0 || api_id_check(call, "deployment.build_id", d.build_id,
	    "bld", 1) != 0 || api_project_exists(call, d.project_id) != 0)
		return;
	if ((exports = deployment_build_exports(call_store(call), d.build_id,
	    d.project_id, &code, &cause)) == NULL) {
		api_error(call, code, "%s", cause);
		free(cause);
		return;
	}
	if (deployment_check_triggers(call, d.project_id, exports) != 0)
		goto out;
	if (typeid_new("dep", d.id, sizeof d.id) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot make a deployment id");
		goto out;
	}
	d.now = now_us();
	if (api_write(call, deployment_create_write, &d, json_pack("{s:s}",
	    "deployment_id", d.id)) == 0)
		log_notice("deployment %s of project %s (build %s) created",
		    d.id, d.project_id, d.build_id);
out:
	json_decref(exports);
}

/* ---- state changes ---- */

struct deployment_change {
	const char	*id;
	const char	*project_id;
	const char	*state;		/* the target's new state */
	int		 activate;	/* also retire the other ACTIVE ones */
};

static int
deployment_set_state(struct store *s, const char *id, const char *state,
    int64_t now, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE deployments SET state = ?, "
	    "updated_at = ? WHERE deployment_id = ?");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "updating the deployment: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
deployment_change_write(struct store *s, void *arg, char **cause)
{
	struct deployment_change *c = arg;
	int64_t now = now_us();
	sqlite3_stmt *st;
	int rc;

	if (c->activate) {
		/* Others with unfinished sessions drain; the rest stop now. */
		st = store_prepare(s, "UPDATE deployments SET updated_at = ?1, "
		    "state = CASE WHEN EXISTS (SELECT 1 FROM sessions WHERE "
		    "sessions.deployment_id = deployments.deployment_id AND "
		    "sessions.state IN ('created', 'running')) THEN 'draining' "
		    "ELSE 'inactive' END WHERE project_id = ?2 AND state = "
		    "'active' AND deployment_id != ?3");
		if (st == NULL) {
			xasprintf(cause, "the store is unavailable");
			return -1;
		}
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_text(st, 2, c->project_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			xasprintf(cause, "updating the deployments: %s",
			    sqlite3_errmsg(store_db(s)));
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -1;
	}
	return deployment_set_state(s, c->id, c->state, now, cause);
}

/* Activate, Deactivate, Test: new_state NULL = deactivate (drain or stop). */
static void
deployment_change(struct api_call *call, json_t *req, const char *new_state)
{
	struct deployment_change c;
	char project[80], state[32];
	int64_t live;

	memset(&c, 0, sizeof c);
	if (api_id_field(call, req, "deployment_id", "dep", 1, &c.id) != 0 ||
	    deployment_lookup(call, c.id, project, sizeof project, state,
	    sizeof state) != 0)
		return;
	c.project_id = project;
	c.state = new_state;
	c.activate = new_state != NULL && strcmp(new_state, "active") == 0;
	if (new_state == NULL) {
		if (strcmp(state, "inactive") == 0) {
			api_reply(call, json_object());
			return;
		}
		live = deployment_live_sessions(call_store(call), c.id);
		if (live < 0) {
			api_error(call, CONNECT_INTERNAL, "cannot read the "
			    "sessions");
			return;
		}
		c.state = live > 0 ? "draining" : "inactive";
	}
	if (api_write(call, deployment_change_write, &c, json_object()) == 0)
		log_notice("deployment %s: %s -> %s", c.id, state, c.state);
}

void
api_deployment_activate(struct api_call *call, json_t *req)
{
	deployment_change(call, req, "active");
}

void
api_deployment_deactivate(struct api_call *call, json_t *req)
{
	deployment_change(call, req, NULL);
}

void
api_deployment_test(struct api_call *call, json_t *req)
{
	deployment_change(call, req, "testing");
}

/* ---- Get, List, Delete ---- */

void
api_deployment_get(struct api_call *call, json_t *req)
{
	const char *id;
	sqlite3_stmt *st;
	int rc;

	if (api_id_field(call, req, "deployment_id", "dep", 1, &id) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT " DEPLOYMENT_COLUMNS
	    " FROM deployments WHERE deployment_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		api_reply(call, json_pack("{s:o}", "deployment",
		    deployment_row_json(st)));
	else if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no deployment %s: see "
		    "'akctl deployment list'", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
	sqlite3_finalize(st);
}

/* Add sessions_stats to each deployment of list; -1 on a store error. */
static int
deployment_add_stats(struct store *s, json_t *list)
{
	json_t *d, *stats;
	size_t i;

	json_array_foreach(list, i, d) {
		stats = deployment_session_stats(s, json_string_value(
		    json_object_get(d, "deployment_id")));
		if (stats == NULL)
			return -1;
		json_object_set_new(d, "sessions_stats", stats);
	}
	return 0;
}

/* The newest `limit` deployments matching, answered oldest first. */
void
api_deployment_list(struct api_call *call, json_t *req)
{
	const char *project, *build, *org;
	int state, stats, rc;
	sqlite3_stmt *st;
	int64_t limit;
	json_t *list;

	if (api_id_field(call, req, "project_id", "prj", 0, &project) != 0 ||
	    api_id_field(call, req, "build_id", "bld", 0, &build) != 0 ||
	    api_string_field(call, req, "org_id", &org) != 0 ||
	    api_enum_field(call, req, "state", deployment_state_names,
	    DEPLOYMENT_STATE_COUNT, &state) != 0 ||
	    api_int_field(call, req, "limit", 0, UINT32_MAX, 0, &limit) != 0 ||
	    api_bool_field(call, req, "include_session_stats", &stats) != 0)
		return;
	if (limit == 0 || limit > DEPLOYMENTS_LIST_MAX)
		limit = limit == 0 ? DEPLOYMENTS_LIST_DEFAULT :
		    DEPLOYMENTS_LIST_MAX;
	st = store_prepare(call_store(call), "SELECT * FROM (SELECT "
	    DEPLOYMENT_COLUMNS ", rowid AS r FROM deployments WHERE (?1 IS "
	    "NULL OR project_id = ?1) AND (?2 IS NULL OR build_id = ?2) AND "
	    "(?3 IS NULL OR state = ?3) ORDER BY created_at DESC, r DESC "
	    "LIMIT ?4) ORDER BY created_at, r");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
		return;
	}
	if (project != NULL)
		sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	if (build != NULL)
		sqlite3_bind_text(st, 2, build, -1, SQLITE_STATIC);
	if (deployment_state_stored(state) != NULL)
		sqlite3_bind_text(st, 3, deployment_state_stored(state), -1,
		    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, limit);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, deployment_row_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || (stats && deployment_add_stats(
	    call_store(call), list) != 0)) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
		return;
	}
	api_reply(call, json_pack("{s:o}", "deployments", list));
}

static int
deployment_delete_write(struct store *s, void *arg, char **cause)
{
	return api_exec1(s, "DELETE FROM deployments WHERE deployment_id = ?",
	    arg, cause);
}

void
api_deployment_delete(struct api_call *call, json_t *req)
{
	char project[80], state[32];
	const char *id;
	int64_t n;

	if (api_id_field(call, req, "deployment_id", "dep", 1, &id) != 0 ||
	    deployment_lookup(call, id, project, sizeof project, state,
	    sizeof state) != 0)
		return;
	if (strcmp(state, "inactive") != 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "deployment %s is "
		    "%s: %s", id, state, strcmp(state, "draining") == 0 ?
		    "wait for its sessions to finish, or stop them" :
		    "deactivate it first");
		return;
	}
	n = api_row_count(call_store(call), "SELECT count(*) FROM sessions "
	    "WHERE deployment_id = ?", id);
	if (n != 0) {
		if (n < 0)
			api_error(call, CONNECT_INTERNAL, "cannot read the "
			    "sessions");
		else
			api_error(call, CONNECT_FAILED_PRECONDITION, "deployment "
			    "%s still has %lld session(s) on record: delete "
			    "them first", id, (long long)n);
		return;
	}
	if (api_write(call, deployment_delete_write, (void *)id,
	    json_object()) == 0)
		log_notice("deployment %s deleted", id);
}
