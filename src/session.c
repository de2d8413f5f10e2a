/*
 * session.c: sessions: the state machine, the log, running on workers.
 *
 * A session is created CREATED (by a webhook, in the same commit as its
 * event). session_schedule() hands CREATED sessions to READY workers, as
 * many as workers.max allows, oldest first: RUN{artifact, entrypoint,
 * event, env} goes out and the session becomes RUNNING. The worker streams
 * PRINT records and ends with DONE{ok, value | error, traceback}: the
 * session becomes COMPLETED or ERROR. A worker that dies first ends its
 * session in ERROR naming the signal or exit status; one that outlives
 * workers.session_timeout is killed ("timed out"); a stop request kills it
 * and the session ends STOPPED. States are AutoKitteh's; CREATED, RUNNING
 * and the final COMPLETED, ERROR, STOPPED.
 *
 * Sessions run non-durably in this release: a session that was RUNNING
 * when autokittehd died ends in ERROR at the next start (replay comes with
 * durable sessions).
 */
#include "autokittehd.h"
#include "frame.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

struct session_run {
	char			 id[64];
	char			 deployment_id[64];
	struct worker		*worker;
	struct event		*timeout;
	int			 done;		/* DONE received */
	int			 timed_out;
	char			*stop_reason;	/* a stop was requested */
	TAILQ_ENTRY(session_run) entry;
};
TAILQ_HEAD(session_runs, session_run);
static struct session_runs runs = TAILQ_HEAD_INITIALIZER(runs);

struct session_final {
	char		 id[64];
	char		 deployment_id[64];
	const char	*state;		/* completed | error | stopped */
	char		*result;	/* JSON text or NULL */
	char		*error;
	char		*traceback;
	char		*reason;	/* stopped */
};

/* ---- the log ---- */

int
session_log_append(struct store *s, const char *session_id, const char *type,
    json_t *data)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO session_logs "
	    "(session_id, seq, t, type, data) VALUES (?1, (SELECT "
	    "coalesce(max(seq), 0) + 1 FROM session_logs WHERE session_id = "
	    "?1), ?2, ?3, ?4)");
	char *text = json_dumps(data, JSON_COMPACT);
	int rc;

	if (st == NULL || text == NULL) {
		sqlite3_finalize(st);
		free(text);
		return -1;
	}
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_us());
	sqlite3_bind_text(st, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(text);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
session_set_state(struct store *s, const char *id, const char *state,
    json_t *log_data)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE sessions SET state = ?, "
	    "updated_at = ? WHERE session_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_us());
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return session_log_append(s, id, "STATE", log_data);
}

int
session_insert(struct store *s, const struct session_new *n, char *id,
    size_t size, char **cause)
{
	sqlite3_stmt *st;
	int64_t now = now_us();
	int rc;

	if (typeid_new("ses", id, size) != 0) {
		xasprintf(cause, "cannot make a session id");
		return -1;
	}
	st = store_prepare(s, "INSERT INTO sessions (session_id, project_id, "
	    "deployment_id, build_id, event_id, trigger_id, entrypoint, "
	    "is_durable, inputs, memo, state, created_at, updated_at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->project_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->deployment_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->build_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->trigger_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, n->entrypoint, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, n->is_durable);
	sqlite3_bind_text(st, 9, n->inputs_json != NULL ? n->inputs_json :
	    "{}", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, n->memo_json != NULL ? n->memo_json : "{}",
	    -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, now);
	sqlite3_bind_int64(st, 12, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "saving the session: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	{
		json_t *data = json_pack("{s:s}", "state", "created");
		int lrc = session_log_append(s, id, "STATE", data);

		json_decref(data);
		if (lrc != 0) {
			xasprintf(cause, "saving the session log");
			return -1;
		}
	}
	return 0;
}

/* ---- finishing ---- */

static int
session_final_write(struct store *s, void *arg, char **cause)
{
	struct session_final *f = arg;
	sqlite3_stmt *st = store_prepare(s, "UPDATE sessions SET state = ?, "
	    "updated_at = ?, result = ?, error = ?, traceback = ? WHERE "
	    "session_id = ?");
	json_t *data;
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, f->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_us());
	sqlite3_bind_text(st, 3, f->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->traceback, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, f->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "saving the session's end: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	data = json_pack("{s:s}", "state", f->state);
	if (f->result != NULL) {
		json_t *v = json_loads(f->result, JSON_DECODE_ANY, NULL);

		json_object_set_new(data, "result", v != NULL ? v :
		    json_string(f->result));
	}
	if (f->error != NULL)
		json_object_set_new(data, "error", json_string(f->error));
	if (f->traceback != NULL)
		json_object_set_new(data, "traceback",
		    json_string(f->traceback));
	if (f->reason != NULL)
		json_object_set_new(data, "reason", json_string(f->reason));
	rc = session_log_append(s, f->id, "STATE", data);
	json_decref(data);
	return rc;
}

static void
session_final_done(int ok, const char *cause, void *arg)
{
	struct session_final *f = arg;

	if (!ok)
		log_error("session %s: its end (%s) could not be saved: %s",
		    f->id, f->state, cause);
	else
		log_info("session %s %s%s%s", f->id, f->state,
		    f->error != NULL ? ": " : "", f->error != NULL ? f->error :
		    "");
	if (*f->deployment_id != '\0')
		deployment_session_ended(f->deployment_id);
	free(f->result);
	free(f->error);
	free(f->traceback);
	free(f->reason);
	free(f);
}

static void
session_end(const char *id, const char *deployment_id, const char *state,
    char *result, char *error, char *traceback, char *reason)
{
	struct session_final *f = xcalloc(1, sizeof *f);
	char *cause = NULL;

	snprintf(f->id, sizeof f->id, "%s", id);
	snprintf(f->deployment_id, sizeof f->deployment_id, "%s",
	    deployment_id != NULL ? deployment_id : "");
	f->state = state;
	f->result = result;
	f->error = error;
	f->traceback = traceback;
	f->reason = reason;
	if (store_write(controller->store, session_final_write, f,
	    session_final_done, f, &cause) != 0) {
		log_error("session %s: cannot record its end: %s", id, cause);
		free(cause);
		session_final_done(1, NULL, f);
	}
}

static void
session_run_free(struct session_run *run)
{
	TAILQ_REMOVE(&runs, run, entry);
	if (run->timeout != NULL)
		event_free(run->timeout);
	free(run->stop_reason);
	free(run);
}

/* ---- worker messages ---- */

struct print_arg {
	const char	*id;
	const char	*text;
	size_t		 len;
};

static int
session_print_write(struct store *s, void *arg, char **cause)
{
	struct print_arg *p = arg;
	json_t *data = json_object();
	int rc;

	json_object_set_new(data, "text", json_stringn_nocheck(p->text,
	    p->len));
	rc = session_log_append(s, p->id, "PRINT", data);
	json_decref(data);
	if (rc != 0)
		xasprintf(cause, "saving a print");
	return rc;
}

static int
session_on_print(struct session_run *run, struct frame_msg *msg)
{
	struct print_arg p = { run->id, NULL, 0 };
	char *text = NULL, *cause = NULL;
	json_t *check;

	if (frame_get_str(msg, "text", 1, &text, &cause) != 0 ||
	    frame_msg_end(msg, &cause) != 0) {
		log_warning("session %s: bad PRINT: %s", run->id, cause);
		free(cause);
		free(text);
		return -1;
	}
	/* The log is JSON: keep only valid UTF-8 text. */
	check = json_string(text);
	if (check == NULL) {
		log_warning("session %s: a print is not UTF-8", run->id);
		free(text);
		return -1;
	}
	json_decref(check);
	p.text = text;
	p.len = strlen(text);
	if (store_write(controller->store, session_print_write, &p, NULL, NULL,
	    &cause) != 0) {
		log_error("session %s: %s", run->id, cause);
		free(cause);
	}
	free(text);
	return 0;
}

static int
session_on_done(struct session_run *run, struct frame_msg *msg)
{
	char *value = NULL, *error = NULL, *traceback = NULL, *cause = NULL;
	int ok = 0;

	if (run->done || frame_get_bool(msg, "ok", 1, &ok, &cause) != 0 ||
	    frame_get_str(msg, "value", 0, &value, &cause) != 0 ||
	    frame_get_str(msg, "error", 0, &error, &cause) != 0 ||
	    frame_get_str(msg, "traceback", 0, &traceback, &cause) != 0 ||
	    frame_msg_end(msg, &cause) != 0) {
		log_warning("session %s: bad DONE: %s", run->id,
		    cause != NULL ? cause : "a second DONE");
		free(cause);
		free(value);
		free(error);
		free(traceback);
		return -1;
	}
	if (value != NULL) {
		json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);

		if (v == NULL) {	/* not JSON: keep it as a string */
			json_t *sv = json_string(value);

			free(value);
			value = sv != NULL ? json_dumps(sv, JSON_ENCODE_ANY) :
			    xstrdup("null");
			json_decref(sv);
		} else
			json_decref(v);
	}
	run->done = 1;
	if (ok) {
		free(error);
		free(traceback);
		session_end(run->id, run->deployment_id, "completed", value,
		    NULL, NULL, NULL);
	} else {
		free(value);
		session_end(run->id, run->deployment_id, "error", NULL,
		    error != NULL ? error : xstrdup("the session failed"),
		    traceback, NULL);
	}
	return 0;
}

static int
session_message(struct worker *w, struct frame_msg *msg, void *arg)
{
	struct session_run *run = arg;

	switch (msg->header.type) {
	case FRAME_PRINT:
		return run->done ? -1 : session_on_print(run, msg);
	case FRAME_DONE:
		return session_on_done(run, msg);
	default:
		log_warning("session %s: unexpected %s from its worker",
		    run->id, frame_type_name(msg->header.type));
		return -1;
	}
}

static void
session_gone(struct worker *w, int code, int sig, const char *reason,
    void *arg)
{
	struct session_run *run = arg;
	char *error;

	if (!run->done) {
		if (run->stop_reason != NULL)
			session_end(run->id, run->deployment_id, "stopped",
			    NULL, NULL, NULL, xstrdup(run->stop_reason));
		else {
			if (run->timed_out) {
				char d[32];

				format_duration_ms(controller->config->
				    workers_session_timeout_ms, d, sizeof d);
				xasprintf(&error, "timed out after %s "
				    "(workers.session_timeout)", d);
			} else if (sig == SIGXCPU || (sig == SIGKILL &&
			    reason != NULL && strstr(reason, "CPU") != NULL))
				xasprintf(&error, "%s: the session used up its "
				    "CPU limit (workers.cpu_limit)", reason);
			else
				xasprintf(&error, "%s before the session "
				    "finished", reason);
			session_end(run->id, run->deployment_id, "error", NULL,
			    error, NULL, NULL);
		}
	}
	run->worker = NULL;
	session_run_free(run);
}

static void
session_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session_run *run = arg;

	run->timed_out = 1;
	if (run->worker != NULL)
		worker_kill(run->worker, "timed out");
}

/* ---- starting ---- */

/* env: project vars, then <trigger>__webhook_url for its webhooks. */
static void
pack_env(struct frame_builder *fb, const char *project_id)
{
	sqlite3_stmt *st;
	char *base = public_base_url(controller->config);
	json_t *env = json_object();
	const char *k;
	json_t *v;

	st = store_prepare(controller->store, "SELECT name, value FROM vars "
	    "WHERE scope_id = ?");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(env, (const char *)
			    sqlite3_column_text(st, 0), json_string((const char *)
			    sqlite3_column_text(st, 1)));
		sqlite3_finalize(st);
	}
	st = store_prepare(controller->store, "SELECT name, webhook_slug "
	    "FROM triggers WHERE project_id = ? AND source_type = 'webhook'");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char *key, *url;

			xasprintf(&key, "%s__webhook_url",
			    sqlite3_column_text(st, 0));
			xasprintf(&url, "%s/webhooks/%s", base,
			    sqlite3_column_text(st, 1));
			json_object_set_new(env, key, json_string(url));
			free(key);
			free(url);
		}
		sqlite3_finalize(st);
	}
	frame_pack_key(fb, "env");
	msgpack_pack_map(&fb->pk, json_object_size(env));
	json_object_foreach(env, k, v)
		frame_pack_str(fb, k, json_string_value(v));
	json_decref(env);
	free(base);
}

/* The event as the worker gets it: {data, event_id, event_type, session_id}. */
static char *
session_event_json(const char *event_id, const char *session_id)
{
	sqlite3_stmt *st;
	json_t *ev = json_object(), *data = NULL;
	char *text;

	json_object_set_new(ev, "session_id", json_string(session_id));
	st = store_prepare(controller->store, "SELECT event_type, data FROM "
	    "events WHERE event_id = ?");
	if (st != NULL && event_id != NULL) {
		sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_object_set_new(ev, "event_type", json_string(
			    (const char *)sqlite3_column_text(st, 0)));
			data = json_loads((const char *)sqlite3_column_text(st,
			    1), 0, NULL);
		}
		json_object_set_new(ev, "event_id", json_string(event_id));
	}
	sqlite3_finalize(st);
	json_object_set_new(ev, "data", data != NULL ? data : json_object());
	text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return text;
}

static int
session_running_write(struct store *s, void *arg, char **cause)
{
	json_t *data = json_pack("{s:s}", "state", "running");
	int rc = session_set_state(s, arg, "running", data);

	json_decref(data);
	if (rc != 0)
		xasprintf(cause, "marking the session running failed");
	return rc;
}

/*
 * Start one CREATED session on a READY worker. The row is read here, the
 * RUN frame sent, and RUNNING recorded in the current batch.
 */
static void
session_start_one(const char *id)
{
	sqlite3_stmt *st;
	struct session_run *run;
	struct pool_client client;
	struct frame_builder fb;
	const uint8_t *frame;
	char *cause = NULL, *event, *project_id = NULL, *entry = NULL,
	    *event_id = NULL;
	size_t len;
	uint64_t ms;

	st = store_prepare(controller->store, "SELECT s.project_id, "
	    "s.deployment_id, s.entrypoint, s.event_id, b.artifact FROM "
	    "sessions s LEFT JOIN builds b ON b.build_id = s.build_id WHERE "
	    "s.session_id = ?");
	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return;
	}
	run = xcalloc(1, sizeof *run);
	snprintf(run->id, sizeof run->id, "%s", id);
	snprintf(run->deployment_id, sizeof run->deployment_id, "%s",
	    sqlite3_column_text(st, 1) != NULL ? (const char *)
	    sqlite3_column_text(st, 1) : "");
	TAILQ_INSERT_TAIL(&runs, run, entry);
	if (store_write(controller->store, session_running_write, run->id,
	    NULL, NULL, &cause) != 0) {
		log_error("session %s: %s", id, cause);
		free(cause);
		sqlite3_finalize(st);
		session_run_free(run);
		return;
	}
	if (sqlite3_column_type(st, 4) != SQLITE_BLOB) {
		sqlite3_finalize(st);
		session_end(id, run->deployment_id, "error", NULL,
		    xstrdup("the session's build is missing"), NULL, NULL);
		session_run_free(run);
		return;
	}
	project_id = xstrdup((const char *)sqlite3_column_text(st, 0));
	entry = xstrdup((const char *)sqlite3_column_text(st, 2));
	if (sqlite3_column_text(st, 3) != NULL)
		event_id = xstrdup((const char *)sqlite3_column_text(st, 3));
	event = session_event_json(event_id, id);

	frame_begin(&fb, FRAME_RUN, 0, 5);
	frame_pack_str(&fb, "session_id", id);
	frame_pack_bin(&fb, "artifact", sqlite3_column_blob(st, 4),
	    (size_t)sqlite3_column_bytes(st, 4));
	frame_pack_str(&fb, "entrypoint", entry);
	frame_pack_str(&fb, "event", event);
	pack_env(&fb, project_id);
	sqlite3_finalize(st);
	frame = frame_finish(&fb, &len);

	client = (struct pool_client){ session_message, session_gone, run };
	run->worker = pool_take(controller->pool, &client);
	run->timeout = evtimer_new(controller->base, session_timeout_cb, run);
	ms = controller->config->workers_session_timeout_ms;
	event_add(run->timeout, &(struct timeval){ (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 });
	log_info("session %s running %s on worker %d", id, entry,
	    (int)worker_pid(run->worker));
	if (len > FRAME_DEFAULT_LIMIT)
		worker_kill(run->worker, "the build is larger than a frame may "
		    "be");
	else
		worker_send(run->worker, frame, len);
	frame_builder_free(&fb);
	free(project_id);
	free(entry);
	free(event_id);
	free(event);
}

/* Start CREATED sessions, oldest first, while workers are ready. */
void
session_schedule(void)
{
	static int scheduling;

	if (controller == NULL || controller->pool == NULL || scheduling)
		return;
	scheduling = 1;
	while (pool_can_take(controller->pool)) {
		sqlite3_stmt *st = store_prepare(controller->store, "SELECT "
		    "session_id FROM sessions WHERE state = 'created' ORDER BY "
		    "created_at, session_id LIMIT 1");
		char id[64] = "";

		if (st == NULL)
			break;
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(id, sizeof id, "%s", sqlite3_column_text(st,
			    0));
		sqlite3_finalize(st);
		if (*id == '\0')
			break;
		session_start_one(id);
	}
	scheduling = 0;
}

/* ---- stopping ---- */

struct stop_arg {
	const char	*id;
	const char	*reason;
	int		 created;	/* stop it now: it never ran */
};

static int
session_stop_write(struct store *s, void *arg, char **cause)
{
	struct stop_arg *a = arg;
	json_t *data = json_pack("{s:s}", "reason", a->reason);
	int rc = session_log_append(s, a->id, "STOP_REQUEST", data);

	json_decref(data);
	if (rc == 0 && a->created) {
		data = json_pack("{s:s, s:s}", "state", "stopped", "reason",
		    a->reason);
		rc = session_set_state(s, a->id, "stopped", data);
		json_decref(data);
	}
	if (rc != 0)
		xasprintf(cause, "recording the stop failed");
	return rc;
}

int
session_stop(const char *id, int force, const char *reason, char **cause)
{
	struct stop_arg a = { id, NULL, 0 };
	struct session_run *run;
	sqlite3_stmt *st;
	char state[32] = "", *full;

	st = store_prepare(controller->store, "SELECT state FROM sessions "
	    "WHERE session_id = ?");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(state, sizeof state, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (*state == '\0')
		return 0;
	if (strcmp(state, "created") != 0 && strcmp(state, "running") != 0) {
		xasprintf(cause, "session %s is already %s", id, state);
		return -1;
	}
	xasprintf(&full, "%s%s", force ? "[forced] " : "",
	    reason != NULL && *reason != '\0' ? reason : "stopped by request");
	a.reason = full;
	TAILQ_FOREACH(run, &runs, entry) {
		if (strcmp(run->id, id) == 0)
			break;
	}
	a.created = run == NULL;
	if (store_write(controller->store, session_stop_write, &a, NULL, NULL,
	    cause) != 0) {
		free(full);
		return -1;
	}
	if (run != NULL && run->stop_reason == NULL) {
		run->stop_reason = xstrdup(full);
		if (run->worker != NULL)
			worker_kill(run->worker, full);
	}
	free(full);
	return 1;
}

/* ---- start-up ---- */

static int
session_recover_write(struct store *s, void *arg, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT session_id FROM sessions "
	    "WHERE state = 'running'");
	const char *why = "autokittehd stopped while the session was running; "
	    "non-durable sessions do not resume";
	int n = 0;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char id[64];
		json_t *data;
		sqlite3_stmt *up;

		snprintf(id, sizeof id, "%s", sqlite3_column_text(st, 0));
		up = store_prepare(s, "UPDATE sessions SET state = 'error', "
		    "error = ?, updated_at = ? WHERE session_id = ?");
		if (up == NULL)
			continue;
		sqlite3_bind_text(up, 1, why, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, now_us());
		sqlite3_bind_text(up, 3, id, -1, SQLITE_STATIC);
		sqlite3_step(up);
		sqlite3_finalize(up);
		data = json_pack("{s:s, s:s}", "state", "error", "error", why);
		session_log_append(s, id, "STATE", data);
		json_decref(data);
		n++;
	}
	sqlite3_finalize(st);
	if (n > 0)
		log_warning("%d sessions were running when autokittehd last "
		    "stopped; they end in ERROR", n);
	return 0;
}

void
session_recover(void)
{
	char *cause = NULL;

	if (store_write(controller->store, session_recover_write, NULL, NULL,
	    NULL, &cause) != 0) {
		log_error("recovering sessions: %s", cause);
		free(cause);
	}
	store_flush(controller->store);
}

json_t *
session_pool_json(void)
{
	if (controller == NULL || controller->pool == NULL)
		return json_object();
	return pool_status_json(controller->pool);
}
