/*
 * session-signal.c: start (child sessions), signal and next_signal.
 *
 * start(loc, data, memo, project) creates a child session that inherits
 * its parent's durability: in the same project it runs the parent's build
 * (loc must be one of its functions); in another project, that project's
 * ACTIVE deployment. Its event is a "start" event carrying data. When a
 * durable child ends, it signals its parent with the child's id as the
 * signal name and {completed, value} as the payload, so the parent waits
 * for it with next_signal(child_id) (reference 1.5).
 *
 * Signals queue per session, oldest first; next_signal(names) takes the
 * oldest with one of the names, or waits for one (up to a timeout).
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

struct parent {
	char	project[64];
	char	deployment[64];
	char	build[64];
	int	durable;
};

/*
 * Step st, a query of one parameter, key, whose columns are a project,
 * deployment and build id (and, in a fourth, is_durable), into p, then
 * finalize it: 0, or -1 when there is no row.
 */
static int
parent_read(sqlite3_stmt *st, const char *key, struct parent *p)
{
	int rc = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(p->project, sizeof p->project, "%s",
		    sqlite3_column_text(st, 0));
		snprintf(p->deployment, sizeof p->deployment, "%s",
		    sqlite3_column_text(st, 1));
		snprintf(p->build, sizeof p->build, "%s",
		    sqlite3_column_text(st, 2));
		if (sqlite3_column_count(st) > 3)
			p->durable = sqlite3_column_int(st, 3);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int
parent_lookup(struct store *s, const char *id, struct parent *p)
{
	return parent_read(store_prepare(s, "SELECT project_id, "
	    "coalesce(deployment_id, ''), coalesce(build_id, ''), is_durable "
	    "FROM sessions WHERE session_id = ?"), id, p);
}

/* Another project, by name: its ACTIVE deployment and build. */
static int
project_active(struct store *s, const char *name, struct parent *p)
{
	return parent_read(store_prepare(s, "SELECT p.project_id, "
	    "d.deployment_id, d.build_id FROM projects p JOIN deployments d ON "
	    "d.project_id = p.project_id AND d.state = 'active' WHERE p.name = "
	    "?"), name, p);
}

static void
schedule_after_commit(int ok, const char *cause, void *arg)
{
	if (ok)
		session_schedule();
}

static enum syscall_rc
start(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	const char *loc = json_string_value(json_object_get(x->args, "loc"));
	const char *project = json_string_value(json_object_get(x->args,
	    "project"));
	json_t *data = json_object_get(x->args, "data");
	json_t *memo = json_object_get(x->args, "memo"), *exports;
	struct parent p;
	enum connect_code code;
	char child[64], event_id[64], *path, *colon, *why = NULL;
	char *data_text, *memo_text;
	sqlite3_stmt *st;
	int durable;

	if (loc == NULL || (colon = strrchr(loc, ':')) == NULL ||
	    parent_lookup(s, x->session_id, &p) != 0) {
		*result = syscall_error("start needs a location such as "
		    "program.py:function, not \"%s\"", loc != NULL ? loc : "");
		return SYSCALL_DONE;
	}
	durable = p.durable;
	if (project != NULL && *project != '\0' &&
	    project_active(s, project, &p) != 0) {
		*result = syscall_error("start: project \"%s\" does not exist "
		    "or has no active deployment", project);
		return SYSCALL_DONE;
	}
	exports = deployment_build_exports(s, p.build, p.project, &code, &why);
	path = xstrndup(loc, (size_t)(colon - loc));
	if (exports == NULL || deployment_check_call(exports, "start", path,
	    colon + 1, &why) != 0) {
		*result = json_pack("{s:s}", "error", why != NULL ? why :
		    "start: the build is missing");
		free(why);
		free(path);
		json_decref(exports);
		return SYSCALL_DONE;
	}
	free(path);
	json_decref(exports);
	if (data != NULL && !json_is_null(data) && !json_is_object(data)) {
		*result = json_pack("{s:s}", "error", "start: data must be a "
		    "dict (or None)");
		return SYSCALL_DONE;
	}
	data_text = json_is_object(data) ? json_dumps(data, JSON_COMPACT) :
	    xstrdup("{}");
	memo_text = json_is_object(memo) ? json_dumps(memo, JSON_COMPACT) :
	    xstrdup("{}");
	if (typeid_new("evt", event_id, sizeof event_id) != 0 ||
	    (st = store_prepare(s, "INSERT INTO events (event_id, "
	    "destination_id, project_id, event_type, data, memo, created_at) "
	    "VALUES (?, ?, ?, 'start', ?, ?, ?)")) == NULL) {
		free(data_text);
		free(memo_text);
		xasprintf(cause, "cannot record the child's event");
		return SYSCALL_FAIL;
	}
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p.project, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, data_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, memo_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_us());
	sqlite3_step(st);
	sqlite3_finalize(st);
	{
		struct session_new n = {
			.project_id = p.project, .deployment_id = p.deployment,
			.build_id = p.build, .event_id = event_id,
			.entrypoint = loc, .is_durable = durable,
			.inputs_json = data_text, .memo_json = memo_text,
		};

		if (session_insert(s, &n, child, sizeof child, cause) != 0) {
			free(data_text);
			free(memo_text);
			return SYSCALL_FAIL;
		}
	}
	free(data_text);
	free(memo_text);
	if ((st = store_prepare(s, "UPDATE sessions SET parent_session_id = ? "
	    "WHERE session_id = ?")) != NULL) {
		sqlite3_bind_text(st, 1, x->session_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, child, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	store_on_commit(s, schedule_after_commit, NULL);
	*result = json_pack("{s:s}", "value", child);
	return SYSCALL_DONE;
}

/*
 * The oldest unconsumed signal of session with one of names; consumed.
 * Returns {name, payload} or NULL.
 */
static json_t *
signal_take(struct store *s, const char *session, json_t *names)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT seq, name, payload FROM "
	    "signals WHERE session_id = ? AND consumed = 0 AND name IN (SELECT "
	    "value FROM json_each(?)) ORDER BY seq LIMIT 1");
	char *names_text = json_dumps(names, JSON_COMPACT);
	json_t *out = NULL;
	int64_t seq = 0;

	if (st == NULL || names_text == NULL) {
		sqlite3_finalize(st);
		free(names_text);
		return NULL;
	}
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, names_text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		json_t *payload = json_loads((const char *)sqlite3_column_text(st,
		    2), JSON_DECODE_ANY, NULL);

		seq = sqlite3_column_int64(st, 0);
		out = json_pack("{s:s, s:o}", "name", (const char *)
		    sqlite3_column_text(st, 1), "payload", payload != NULL ?
		    payload : json_null());
	}
	sqlite3_finalize(st);
	free(names_text);
	if (out != NULL && (st = store_prepare(s, "UPDATE signals SET consumed "
	    "= 1 WHERE seq = ?")) != NULL) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return out;
}

/* Hand a new signal to its session if it waits in next_signal for it. */
static void
signal_deliver(struct store *s, const char *session)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT args FROM session_calls "
	    "WHERE session_id = ? AND state = 'waiting' AND name = "
	    "'next_signal'");
	json_t *args = NULL, *sig;

	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		args = json_loads((const char *)sqlite3_column_text(st, 0), 0,
		    NULL);
	sqlite3_finalize(st);
	if (args == NULL)
		return;
	if ((sig = signal_take(s, session, json_object_get(args, "names"))) !=
	    NULL) {
		json_t *r = json_pack("{s:o}", "value", sig);

		session_wait_complete(s, session, r);
		json_decref(r);
	}
	json_decref(args);
}

static int
signal_insert(struct store *s, const char *session, const char *name,
    json_t *payload)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO signals (session_id, "
	    "name, payload, created_at) VALUES (?, ?, ?, ?)");
	char *text = json_dumps(payload != NULL ? payload : json_null(),
	    JSON_COMPACT | JSON_ENCODE_ANY);
	int rc;

	if (st == NULL || text == NULL) {
		sqlite3_finalize(st);
		free(text);
		return -1;
	}
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_us());
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	free(text);
	if (rc == 0)
		signal_deliver(s, session);
	return rc;
}

static enum syscall_rc
signal_syscall(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	const char *target = json_string_value(json_object_get(x->args,
	    "session_id"));
	const char *name = json_string_value(json_object_get(x->args, "name"));
	sqlite3_stmt *st;
	char state[32] = "";

	if (target == NULL || name == NULL || *name == '\0') {
		xasprintf(cause, "signal needs a session id and a name");
		return SYSCALL_FAIL;
	}
	if ((st = store_prepare(s, "SELECT state FROM sessions WHERE "
	    "session_id = ?")) != NULL) {
		sqlite3_bind_text(st, 1, target, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(state, sizeof state, "%s",
			    sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (*state == '\0') {
		*result = syscall_error("signal: there is no session %s",
		    target);
		return SYSCALL_DONE;
	}
	if (strcmp(state, "created") != 0 && strcmp(state, "running") != 0) {
		*result = syscall_error("signal: session %s has ended", target);
		return SYSCALL_DONE;
	}
	if (signal_insert(s, target, name, json_object_get(x->args,
	    "payload")) != 0) {
		xasprintf(cause, "cannot record the signal");
		return SYSCALL_FAIL;
	}
	*result = json_pack("{s:n}", "value");
	return SYSCALL_DONE;
}

static enum syscall_rc
next_signal(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	json_t *names = json_object_get(x->args, "names");
	int64_t wake = syscall_timeout_wake(json_object_get(x->args,
	    "timeout"));

	if (!json_is_array(names) || json_array_size(names) == 0 || wake < 0) {
		xasprintf(cause, "next_signal needs signal names and a timeout "
		    "in seconds or None");
		return SYSCALL_FAIL;
	}
	return syscall_taken_or_wait(signal_take(s, x->session_id, names),
	    wake, result, wake_at);
}

const struct syscall_def syscall_start = { "start", start };
const struct syscall_def syscall_signal = { "signal", signal_syscall };
const struct syscall_def syscall_next_signal = { "next_signal", next_signal };

/*
 * Inside the write that ends session_id: a durable child tells its parent,
 * with a signal named after itself: {completed, value}.
 */
void
session_child_ended(struct store *s, const char *session_id,
    const char *state, const char *result_json)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT parent_session_id, "
	    "is_durable FROM sessions WHERE session_id = ?");
	char parent[64] = "";
	json_t *payload, *value;

	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) !=
	    NULL && sqlite3_column_int(st, 1) != 0)
		snprintf(parent, sizeof parent, "%s",
		    sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (*parent == '\0')
		return;
	payload = json_pack("{s:b}", "completed", strcmp(state, "completed") ==
	    0);
	if (result_json != NULL && (value = json_loads(result_json,
	    JSON_DECODE_ANY, NULL)) != NULL)
		json_object_set_new(payload, "value", value);
	signal_insert(s, parent, session_id, payload);
	json_decref(payload);
}
