/*
 * api-dispatcher.c: autokitteh.dispatcher.v1.DispatcherService: Dispatch,
 * Redispatch.
 *
 * Dispatch saves an event (the Event message of EventsService.Save) and
 * dispatches it (dispatch.c) in the same write: the answer, {event_id},
 * comes after the event and its sessions have committed. Redispatch sends
 * an existing event again as a new event row with the same destination,
 * type, data and memo, and answers the new event's ID. Both take an
 * optional deployment_id: a TESTING or ACTIVE deployment of the
 * destination's project, which then alone gets the event; TESTING
 * deployments get events only this way.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

const char *const api_dispatcher_dispatch_fields[] = { "event",
    "deployment_id", "json_values", NULL };
const char *const api_dispatcher_redispatch_fields[] = { "event_id",
    "deployment_id", NULL };

struct dispatch_write {
	char			 event_id[64];
	const char		*deployment_id;	/* or NULL */
	struct event_request	 e;
};

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

/* The named deployment may take the event: 0, or -1 after answering. */
static int
dispatch_deployment_check(struct api_call *call, const char *deployment_id,
    const char *project_id)
{
	sqlite3_stmt *st = store_prepare(call_store(call), "SELECT project_id, "
	    "state FROM deployments WHERE deployment_id = ?");
	char project[64] = "", state[32] = "";
	int rc;

	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
		return -1;
	}
	sqlite3_bind_text(st, 1, deployment_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(project, sizeof project, "%s", api_column_text(st, 0));
		snprintf(state, sizeof state, "%s", api_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		api_error(call, CONNECT_NOT_FOUND, "no deployment %s: see "
		    "'akctl deployment list'", deployment_id);
		return -1;
	}
	if (rc != SQLITE_ROW) {
		api_error(call, CONNECT_INTERNAL, "cannot read the deployments");
		return -1;
	}
	if (*project_id != '\0' && strcmp(project, project_id) != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "deployment %s belongs "
		    "to project %s, not to the event's project %s",
		    deployment_id, project, project_id);
		return -1;
	}
	if (strcmp(state, "testing") != 0 && strcmp(state, "active") != 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "deployment %s is "
		    "%s: events go to ACTIVE or TESTING deployments only",
		    deployment_id, state);
		return -1;
	}
	return 0;
}

static int
dispatch_write(struct store *s, void *arg, char **cause)
{
	struct dispatch_write *w = arg;
	int n;

	if (event_insert(s, w->event_id, w->e.destination_id, w->e.project_id,
	    w->e.event_type, w->e.data_json, w->e.memo_json, cause) != 0)
		return -1;
	if ((n = dispatch_event(s, w->event_id, w->deployment_id, NULL,
	    cause)) < 0)
		return -1;
	log_info("event %s for %s dispatched: %d session%s", w->event_id,
	    w->e.destination_id, n, n == 1 ? "" : "s");
	return 0;
}

static void
dispatch_run(struct api_call *call, struct dispatch_write *w)
{
	if (w->deployment_id != NULL && dispatch_deployment_check(call,
	    w->deployment_id, w->e.project_id) != 0)
		return;
	if (typeid_new("evt", w->event_id, sizeof w->event_id) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot make an event id");
		return;
	}
	/* The write runs now, inside the batch: w may live on our stack. */
	api_write(call, dispatch_write, w, json_pack("{s:s}", "event_id",
	    w->event_id));
}

void
api_dispatcher_dispatch(struct api_call *call, json_t *req)
{
	struct dispatch_write w;
	int json_values;

	memset(&w, 0, sizeof w);
	if (api_id_field(call, req, "deployment_id", "dep", 0,
	    &w.deployment_id) != 0 ||
	    api_bool_field(call, req, "json_values", &json_values) != 0 ||
	    api_event_request(call, json_object_get(req, "event"), json_values,
	    &w.e) != 0)
		return;
	dispatch_run(call, &w);
	api_event_request_free(&w.e);
}

void
api_dispatcher_redispatch(struct api_call *call, json_t *req)
{
	struct dispatch_write w;
	const char *id;
	sqlite3_stmt *st;
	int rc;

	memset(&w, 0, sizeof w);
	if (api_id_field(call, req, "event_id", "evt", 1, &id) != 0 ||
	    api_id_field(call, req, "deployment_id", "dep", 0,
	    &w.deployment_id) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT destination_id, "
	    "coalesce(project_id, ''), event_type, data, memo FROM events "
	    "WHERE event_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the events");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(w.e.destination_id, sizeof w.e.destination_id, "%s",
		    api_column_text(st, 0));
		snprintf(w.e.project_id, sizeof w.e.project_id, "%s",
		    api_column_text(st, 1));
		w.e.event_type = xstrdup(api_column_text(st, 2));
		w.e.data_json = xstrdup(api_column_text(st, 3));
		w.e.memo_json = xstrdup(api_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no event %s: see 'akctl "
		    "event list'", id);
	else if (rc != SQLITE_ROW)
		api_error(call, CONNECT_INTERNAL, "cannot read the events");
	else
		dispatch_run(call, &w);
	api_event_request_free(&w.e);
}
