/*
 * dispatch.c: an event -> matching triggers -> sessions (reference 1.6).
 *
 * dispatch_event runs inside the store_write that saved the event (or, for
 * Redispatch, a copy of it), so the event, its sessions and the deliveries
 * to waiting subscribers commit together:
 *
 *   1. candidates: the trigger when the destination is a trigger id, or
 *      every trigger on the connection when it is a connection id;
 *   2. a trigger without a call (code_path '') starts nothing;
 *   3. a trigger whose event_type is set, is not "*" and differs from the
 *      event's is dropped;
 *   4. so is one whose CEL filter is false; an invalid filter is logged
 *      and the trigger skipped;
 *   5. each remaining trigger starts one session per ACTIVE deployment of
 *      its project, or, when a deployment is named (Dispatch's
 *      deployment_id), on that deployment only: TESTING deployments get
 *      events only when named;
 *   6. sessions waiting in next_event on the destination get the event
 *      (session_events_deliver).
 *
 * New sessions are CREATED rows; they are scheduled on the loop's next turn
 * after the commit, so that replies written by the commit's callbacks go
 * out first.
 *
 * Also here: event_insert, and value_map_native, which turns a request's
 * map of Values into the native JSON object the events table holds.
 */
#include "autokittehd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct dispatch_trigger {
	char	 id[64];
	char	 name[128];
	char	 project_id[64];
	char	 event_type[128];
	char	*filter;
	char	*entrypoint;
	int	 is_durable;
};

int
event_insert(struct store *s, const char *event_id, const char *destination_id,
    const char *project_id, const char *event_type, const char *data_json,
    const char *memo_json, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO events (event_id, "
	    "destination_id, project_id, event_type, data, memo, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, destination_id, -1, SQLITE_STATIC);
	if (project_id != NULL && *project_id != '\0')
		sqlite3_bind_text(st, 3, project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, event_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, data_json != NULL ? data_json : "{}", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 6, memo_json != NULL ? memo_json : "{}", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now_us());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "saving the event: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return 0;
}

/*
 * A map of Values ({key: Value}) -> a native JSON object, or NULL with
 * *cause naming the field and key.
 */
json_t *
value_map_native(json_t *map, const char *field, int json_values,
    char **cause)
{
	json_t *out = json_object(), *value, *native;
	const char *key;
	char *why = NULL;

	if (map == NULL || json_is_null(map))
		return out;
	if (!json_is_object(map)) {
		json_decref(out);
		xasprintf(cause, "%s is a map of Values: a JSON object", field);
		return NULL;
	}
	json_object_foreach(map, key, value) {
		if ((native = value_to_native(value, json_values, &why)) == NULL) {
			xasprintf(cause, "%s[\"%.64s\"] %s", field, key,
			    why != NULL ? why : "is not a Value");
			free(why);
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, key, native);
	}
	return out;
}

static void
dispatch_schedule_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	session_schedule();
}

static void
dispatch_committed(int ok, const char *cause, void *arg)
{
	(void)cause;
	(void)arg;
	/* Next turn: the replies of this commit go out first. */
	if (ok)
		event_base_once(controller->base, -1, EV_TIMEOUT,
		    dispatch_schedule_cb, NULL, &(struct timeval){ 0, 0 });
}

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

/* The candidate triggers for the destination (step 1), in name order. */
static struct dispatch_trigger *
dispatch_candidates(struct store *s, const char *destination, size_t *n)
{
	sqlite3_stmt *st;
	struct dispatch_trigger *t = NULL, *x;
	size_t cap = 0;

	*n = 0;
	st = store_prepare(s, "SELECT trigger_id, name, project_id, event_type, "
	    "filter, code_path, code_name, is_durable FROM triggers WHERE "
	    "(?1 LIKE 'trg\\_%' ESCAPE '\\' AND trigger_id = ?1) OR "
	    "(?1 LIKE 'con\\_%' ESCAPE '\\' AND connection_id = ?1) "
	    "ORDER BY project_id, name");
	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, destination, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			t = xreallocarray(t, cap, sizeof *t);
		}
		x = &t[(*n)++];
		memset(x, 0, sizeof *x);
		snprintf(x->id, sizeof x->id, "%s", col(st, 0));
		snprintf(x->name, sizeof x->name, "%s", col(st, 1));
		snprintf(x->project_id, sizeof x->project_id, "%s", col(st, 2));
		snprintf(x->event_type, sizeof x->event_type, "%s", col(st, 3));
		x->filter = xstrdup(col(st, 4));
		if (*col(st, 5) != '\0')
			xasprintf(&x->entrypoint, "%s:%s", col(st, 5),
			    col(st, 6));
		x->is_durable = sqlite3_column_int(st, 7);
	}
	sqlite3_finalize(st);
	return t;
}

/* Steps 2-4: does the trigger want this event? */
static int
dispatch_wants(const struct dispatch_trigger *t, const char *event_id,
    const char *event_type, json_t *data)
{
	char *why = NULL;
	int rc;

	if (t->entrypoint == NULL)
		return 0;
	if (t->event_type[0] != '\0' && strcmp(t->event_type, "*") != 0 &&
	    strcmp(t->event_type, event_type) != 0)
		return 0;
	if (t->filter[0] == '\0')
		return 1;
	rc = cel_filter_matches(t->filter, data, event_type, &why);
	if (rc < 0)
		log_warning("event %s: trigger %s (%s) has an invalid filter, "
		    "skipped: %s", event_id, t->name, t->id,
		    why != NULL ? why : "cannot evaluate it");
	free(why);
	return rc == 1;
}

/* Step 5: sessions for one trigger. Returns how many, or -1 (*cause). */
static int
dispatch_trigger_sessions(struct store *s, const struct dispatch_trigger *t,
    const char *event_id, const char *event_type, const char *destination,
    const char *named_deployment, json_t *sessions_out, char **cause)
{
	sqlite3_stmt *st;
	json_t *deps = json_array(), *d, *memo;
	char session_id[64], *memo_json;
	int started = 0;
	size_t i;

	if (named_deployment != NULL && *named_deployment != '\0')
		st = store_prepare(s, "SELECT deployment_id, build_id FROM "
		    "deployments WHERE deployment_id = ?2 AND project_id = ?1 "
		    "AND state IN ('testing', 'active')");
	else
		st = store_prepare(s, "SELECT deployment_id, build_id FROM "
		    "deployments WHERE project_id = ?1 AND state = 'active' "
		    "ORDER BY created_at");
	if (st == NULL) {
		json_decref(deps);
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, t->project_id, -1, SQLITE_STATIC);
	if (named_deployment != NULL && *named_deployment != '\0')
		sqlite3_bind_text(st, 2, named_deployment, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(deps, json_pack("{s:s, s:s}", "id",
		    col(st, 0), "build", col(st, 1)));
	sqlite3_finalize(st);

	memo = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event_id", event_id,
	    "event_type", event_type, "trigger_id", t->id, "trigger_name",
	    t->name, "project_id", t->project_id);
	if (strncmp(destination, "con_", 4) == 0)
		json_object_set_new(memo, "connection_id",
		    json_string(destination));
	memo_json = json_dumps(memo, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(memo);
	json_array_foreach(deps, i, d) {
		struct session_new n = {
			.project_id = t->project_id,
			.deployment_id = json_string_value(json_object_get(d,
			    "id")),
			.build_id = json_string_value(json_object_get(d,
			    "build")),
			.event_id = event_id,
			.trigger_id = t->id,
			.entrypoint = t->entrypoint,
			.is_durable = t->is_durable,
			.memo_json = memo_json,
		};

		if (session_insert(s, &n, session_id, sizeof session_id,
		    cause) != 0) {
			free(memo_json);
			json_decref(deps);
			return -1;
		}
		if (sessions_out != NULL)
			json_array_append_new(sessions_out,
			    json_string(session_id));
		log_info("event %s: trigger %s (%s) started session %s on %s",
		    event_id, t->name, t->id, session_id, n.deployment_id);
		started++;
	}
	free(memo_json);
	json_decref(deps);
	return started;
}

int
dispatch_event(struct store *s, const char *event_id,
    const char *testing_deployment_id, json_t *sessions_out, char **cause)
{
	sqlite3_stmt *st;
	char *destination = NULL, *event_type = NULL;
	struct dispatch_trigger *t;
	json_t *data = NULL;
	size_t n = 0, i;
	int total = 0, rc;

	st = store_prepare(s, "SELECT destination_id, event_type, data FROM "
	    "events WHERE event_id = ?");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		destination = xstrdup(col(st, 0));
		event_type = xstrdup(col(st, 1));
		data = json_loads(col(st, 2), 0, NULL);
	}
	sqlite3_finalize(st);
	if (destination == NULL) {
		xasprintf(cause, "no event %s", event_id);
		return -1;
	}
	if (data == NULL)
		data = json_object();

	t = dispatch_candidates(s, destination, &n);
	for (i = 0; i < n && total >= 0; i++) {
		if (!dispatch_wants(&t[i], event_id, event_type, data))
			continue;
		rc = dispatch_trigger_sessions(s, &t[i], event_id, event_type,
		    destination, testing_deployment_id, sessions_out, cause);
		total = rc < 0 ? -1 : total + rc;
	}
	for (i = 0; i < n; i++) {
		free(t[i].filter);
		free(t[i].entrypoint);
	}
	free(t);
	if (total >= 0) {
		/* Step 6. */
		session_events_deliver(s, destination, event_id);
		if (total > 0)
			store_on_commit(s, dispatch_committed, NULL);
	}
	free(destination);
	free(event_type);
	json_decref(data);
	return total;
}
