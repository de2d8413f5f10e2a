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
 * Durable sessions (docs/DURABILITY.md) record every activity's result
 * and every syscall in session_calls; a worker that starts or resumes a
 * session gets that history and replays to where it was. A worker lost
 * without DONE (crash, kill -9, the daemon's own death) does not end the
 * session: it resumes on a fresh worker after a backoff, a bounded number
 * of times. Non-durable sessions start again from the top. Limits we
 * enforce (timeout, CPU, a stop) are final, and so is a worker killed for
 * breaking the protocol: only the session's code can make it do that. When
 * the disk holding the store is full, a session whose write fails is
 * parked: its worker goes (nothing it did past the last commit was
 * acknowledged), no attempt is counted, and it resumes like after a crash
 * once a write succeeds again.
 */
#include "autokittehd.h"
#include "failpoint.h"
#include "frame.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define SESSION_MAX_ATTEMPTS	5

struct session_run {
	char			 id[64];
	char			 deployment_id[64];
	struct worker		*worker;
	struct event		*timeout;
	uint64_t		 generation;	/* tells late commits apart */
	int			 durable;
	uint64_t		 last_seq;	/* the worker's last call */
	uint64_t		 pending_call;	/* activity awaiting RESULT */
	uint64_t		 waiting_seq;	/* a wait with the worker kept */
	struct event		*evict;		/* workers.evict_after */
	int			 done;		/* DONE received */
	int			 timed_out;
	int			 suspended;	/* SUSPEND sent */
	int			 parked;	/* the store's disk is full */
	char			*stop_reason;	/* a stop was requested */
	TAILQ_ENTRY(session_run) entry;
};
static uint64_t run_generation;
static struct event *wake_ev;

static void session_wake_rearm(void);
static void session_store_failed(struct session_run *, const char *);
static void session_write_done(int, const char *, void *);
struct run_ref;
static struct run_ref *run_ref_new(struct session_run *, const char *);
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
	    "updated_at = ?, result = ?, error = ?, traceback = ?, on_worker = "
	    "0, wake_at = NULL WHERE session_id = ?");
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
	if (rc == 0)
		session_child_ended(s, f->id, f->state, f->result);
	return rc;
}

static int session_release_write(struct store *, void *, char **);
static void session_release_cb(evutil_socket_t, short, void *);

static void
session_release_done(int ok, const char *cause, void *arg)
{
	char *id = arg;

	if (!ok) {
		log_warning("session %s: %s; trying again in 1s", id, cause);
		event_base_once(controller->base, -1, EV_TIMEOUT,
		    session_release_cb, id, &(struct timeval){ 1, 0 });
		return;
	}
	free(id);
	session_schedule();
}

/* Until the store takes it: on_worker = 0, so the session runs again. */
static void
session_release_cb(evutil_socket_t fd, short events, void *arg)
{
	char *id = arg, *cause = NULL;

	if (store_write(controller->store, session_release_write, id,
	    session_release_done, id, &cause) != 0) {
		session_release_done(0, cause, id);
		free(cause);
	}
}

/* In a second: on_worker = 0 in a new batch, so the session runs again. */
static void
session_release_later(const char *id)
{
	event_base_once(controller->base, -1, EV_TIMEOUT, session_release_cb,
	    xstrdup(id), &(struct timeval){ 1, 0 });
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
	if (ok) {
		if (*f->deployment_id != '\0')
			deployment_session_ended(f->deployment_id);
		webhook_sync_session_ended(f->id, f->state);
	} else
		/* Not ended in the store: let it run again from its row. */
		session_release_later(f->id);
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
		session_final_done(0, cause != NULL ? cause : "no store", f);
		free(cause);
	}
}

static void
session_run_free(struct session_run *run)
{
	TAILQ_REMOVE(&runs, run, entry);
	if (run->timeout != NULL)
		event_free(run->timeout);
	if (run->evict != NULL)
		event_free(run->evict);
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
session_on_print(struct session_run *run, struct frame_msg *msg,
    char **cause)
{
	struct print_arg p = { run->id, NULL, 0 };
	struct run_ref *ref;
	char *text = NULL, *why = NULL;
	json_t *check;

	if (frame_get_str(msg, "text", 1, &text, &why) != 0 ||
	    frame_msg_end(msg, &why) != 0) {
		xasprintf(cause, "bad PRINT: %s", why);
		free(why);
		free(text);
		return -1;
	}
	/* The log is JSON: keep only valid UTF-8 text. */
	check = json_string(text);
	if (check == NULL) {
		xasprintf(cause, "a PRINT whose text is not UTF-8");
		free(text);
		return -1;
	}
	json_decref(check);
	p.text = text;
	p.len = strlen(text);
	ref = run_ref_new(run, "a print");
	if (store_write(controller->store, session_print_write, &p,
	    session_write_done, ref, &why) != 0) {
		free(ref);
		log_error("session %s: %s", run->id, why);
		free(why);
		if (store_is_full(controller->store))
			session_store_failed(run, "a print");
	}
	free(text);
	return 0;
}

static int
session_on_done(struct session_run *run, struct frame_msg *msg, char **cause)
{
	char *value = NULL, *error = NULL, *traceback = NULL, *why = NULL;
	int ok = 0;

	if (run->done || frame_get_bool(msg, "ok", 1, &ok, &why) != 0 ||
	    frame_get_str(msg, "value", 0, &value, &why) != 0 ||
	    frame_get_str(msg, "error", 0, &error, &why) != 0 ||
	    frame_get_str(msg, "traceback", 0, &traceback, &why) != 0 ||
	    frame_msg_end(msg, &why) != 0) {
		xasprintf(cause, "bad DONE: %s", why != NULL ? why :
		    "a second DONE");
		free(why);
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

/* ---- durable calls (docs/DURABILITY.md) ---- */

static struct session_run *
session_run_find(const char *id, uint64_t generation)
{
	struct session_run *run;

	TAILQ_FOREACH(run, &runs, entry) {
		if (strcmp(run->id, id) == 0 && (generation == 0 ||
		    run->generation == generation))
			return run;
	}
	return NULL;
}

/*
 * A write of run's could not be saved. With the disk full, park it: its
 * worker goes and it resumes from its last commit once the store takes
 * writes again (session_gone). Otherwise end the worker as before (a lost
 * worker: retried a bounded number of times). run may be gone after.
 */
static void
session_store_failed(struct session_run *run, const char *what)
{
	char *reason;

	if (run->worker == NULL)
		return;
	if (store_is_full(controller->store)) {
		if (!run->parked)
			log_warning("session %s: %s could not be saved: the "
			    "disk holding the store is full; it waits and "
			    "resumes when space is freed", run->id, what);
		run->parked = 1;
	}
	xasprintf(&reason, "%s could not be recorded", what);
	worker_kill(run->worker, run->parked ? "the disk holding the store "
	    "is full" : reason);
	free(reason);
}

/* After the commit of a write whose failure parks the session. */
struct run_ref {
	char		 id[64];
	uint64_t	 generation;
	const char	*what;
};

static struct run_ref *
run_ref_new(struct session_run *run, const char *what)
{
	struct run_ref *r = xmalloc(sizeof *r);

	snprintf(r->id, sizeof r->id, "%s", run->id);
	r->generation = run->generation;
	r->what = what;
	return r;
}

static void
session_write_done(int ok, const char *cause, void *arg)
{
	struct run_ref *r = arg;
	struct session_run *run;

	if (!ok && (run = session_run_find(r->id, r->generation)) != NULL)
		session_store_failed(run, r->what);
	free(r);
}

static void
session_send_seq(struct session_run *run, uint16_t type, uint64_t seq,
    const char *result)
{
	struct frame_builder fb;
	const uint8_t *frame;
	size_t len;

	if (run->worker == NULL)
		return;
	frame_begin(&fb, type, 0, result != NULL ? 2 : 1);
	frame_pack_uint(&fb, "seq", seq);
	if (result != NULL)
		frame_pack_str(&fb, "result", result);
	frame = frame_finish(&fb, &len);
	worker_send(run->worker, frame, len);
	frame_builder_free(&fb);
}

static int
session_log_call(struct store *s, const char *id, const char *type,
    json_t *data)
{
	int rc = session_log_append(s, id, type, data);

	json_decref(data);
	return rc;
}

struct call_arg {
	char		 id[64];
	uint64_t	 generation;
	uint64_t	 seq;
	const char	*name;
	const char	*args;
	const char	*summary;
	const uint8_t	*value, *error;
	size_t		 value_len, error_len;
	int64_t		 wake_at;
};

static int
session_call_start_write(struct store *s, void *arg, char **cause)
{
	struct call_arg *c = arg;
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO session_calls "
	    "(session_id, seq, name, kind, state, attempts, args, started_at) "
	    "VALUES (?1, ?2, ?3, 'activity', 'started', 1, ?4, ?5) ON "
	    "CONFLICT (session_id, seq) DO UPDATE SET attempts = attempts + 1, "
	    "state = 'started', name = ?3, args = ?4, started_at = ?5 "
	    "RETURNING attempts");
	int64_t attempts = 0;
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)c->seq);
	sqlite3_bind_text(st, 3, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->args, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now_us());
	/* RETURNING: the change is made by the first step. */
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		attempts = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE || attempts < 1) {
		xasprintf(cause, "recording call #%llu: %s",
		    (unsigned long long)c->seq, sqlite3_errmsg(store_db(s)));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (attempts == 1 && session_log_call(s, c->id, "CALL_SPEC",
	    json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)c->seq, "name",
	    c->name, "args", c->args)) != 0)
		return -1;
	return session_log_call(s, c->id, "CALL_ATTEMPT_START", json_pack(
	    "{s:I, s:I}", "seq", (json_int_t)c->seq, "attempt",
	    (json_int_t)attempts));
}

static int
session_call_complete_write(struct store *s, void *arg, char **cause)
{
	struct call_arg *c = arg;
	sqlite3_stmt *st = store_prepare(s, "UPDATE session_calls SET state "
	    "= 'completed', value = ?, error = ?, summary = ?, completed_at = "
	    "? WHERE session_id = ? AND seq = ? AND state = 'started' "
	    "RETURNING attempts, completed_at - started_at");
	int64_t attempts = 0, duration = 0;
	int rc, rows = 0;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	if (c->value != NULL)
		sqlite3_bind_blob(st, 1, c->value, (int)c->value_len,
		    SQLITE_STATIC);
	if (c->error != NULL)
		sqlite3_bind_blob(st, 2, c->error, (int)c->error_len,
		    SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->summary, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_us());
	sqlite3_bind_text(st, 5, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)c->seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		attempts = sqlite3_column_int64(st, 0);
		duration = sqlite3_column_int64(st, 1);
		rows++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || rows != 1) {
		xasprintf(cause, "recording the result of call #%llu failed",
		    (unsigned long long)c->seq);
		return -1;
	}
	return session_log_call(s, c->id, "CALL_ATTEMPT_COMPLETE", json_pack(
	    "{s:I, s:I, s:s, s:b, s:I}", "seq", (json_int_t)c->seq, "attempt",
	    (json_int_t)attempts, "summary", c->summary, "error",
	    c->error != NULL, "duration_us", (json_int_t)duration));
}

/* The result is committed: let the worker go on. */
static void
session_ack_done(int ok, const char *cause, void *arg)
{
	struct call_arg *c = arg;
	struct session_run *run = session_run_find(c->id, c->generation);

	if (run != NULL && run->pending_call == c->seq) {
		run->pending_call = 0;
		if (!ok)
			session_store_failed(run, "an activity's result");
		else {
			FAILPOINT("after-commit-before-ack");
			session_send_seq(run, FRAME_ACK, c->seq, NULL);
		}
	}
	free(c);
}

static int
session_on_call(struct session_run *run, struct frame_msg *msg, char **cause)
{
	struct call_arg c = { .generation = run->generation };
	struct run_ref *ref;
	char *name = NULL, *args = NULL, *why = NULL;
	uint64_t seq = 0;
	int rc = -1;

	if (frame_get_uint(msg, "seq", 1, &seq, &why) != 0 ||
	    frame_get_str(msg, "name", 1, &name, &why) != 0 ||
	    frame_get_str(msg, "args", 1, &args, &why) != 0 ||
	    frame_msg_end(msg, &why) != 0)
		goto out;
	if (!run->durable || seq != run->last_seq + 1 ||
	    run->pending_call != 0 || run->waiting_seq != 0) {
		xasprintf(&why, "CALL #%llu out of order (last #%llu)",
		    (unsigned long long)seq, (unsigned long long)run->last_seq);
		goto out;
	}
	snprintf(c.id, sizeof c.id, "%s", run->id);
	c.seq = seq;
	c.name = name;
	c.args = args;
	rc = 0;
	ref = run_ref_new(run, "an activity's start");
	if (store_write(controller->store, session_call_start_write, &c,
	    session_write_done, ref, &why) != 0) {
		/* Not the worker's fault: lost (or parked), so it resumes. */
		free(ref);
		log_error("session %s: %s", run->id, why);
		session_store_failed(run, "an activity's start");
		goto out;
	}
	run->last_seq = seq;
	run->pending_call = seq;
out:
	if (rc != 0)
		xasprintf(cause, "bad CALL: %s", why);
	free(why);
	free(name);
	free(args);
	return rc;
}

static int
session_on_result(struct session_run *run, struct frame_msg *msg,
    char **cause)
{
	struct call_arg *c = xcalloc(1, sizeof *c);
	char *name = NULL, *summary = NULL, *why = NULL;
	uint64_t limit = controller->config->workers_max_result_size + 65536;
	int rc = -1;

	if (frame_get_uint(msg, "seq", 1, &c->seq, &why) != 0 ||
	    frame_get_str(msg, "name", 1, &name, &why) != 0 ||
	    frame_get_str(msg, "summary", 1, &summary, &why) != 0 ||
	    frame_get_bin(msg, "value", 0, &c->value, &c->value_len,
	    &why) != 0 ||
	    frame_get_bin(msg, "error", 0, &c->error, &c->error_len,
	    &why) != 0 || frame_msg_end(msg, &why) != 0)
		goto out;
	if (c->seq != run->pending_call || (c->value == NULL) ==
	    (c->error == NULL) || c->value_len + c->error_len > limit) {
		xasprintf(&why, "RESULT #%llu is not the awaited result, or "
		    "has not exactly one of value and error, or is too large",
		    (unsigned long long)c->seq);
		goto out;
	}
	snprintf(c->id, sizeof c->id, "%s", run->id);
	c->generation = run->generation;
	c->name = name;
	c->summary = summary;
	rc = 0;
	if (store_write(controller->store, session_call_complete_write, c,
	    session_ack_done, c, &why) != 0) {
		/* Not the worker's fault: lost (or parked), so it resumes. */
		log_error("session %s: %s", run->id, why);
		free(c);
		c = NULL;
		session_store_failed(run, "an activity's result");
		goto out;
	}
	c = NULL;	/* session_ack_done frees it */
	FAILPOINT("after-result-before-commit");
out:
	if (rc != 0) {
		xasprintf(cause, "bad RESULT: %s", why);
		free(c);
	}
	free(why);
	free(name);
	free(summary);
	return rc;
}

/*
 * Syscalls (docs/DURABILITY.md): executed here, inside the batch that
 * records them. A handler either answers at once (SYSCALL_DONE, *result is
 * {"value": X} or {"error": "sentence"}) or makes the session wait
 * (SYSCALL_WAIT, until *wake_at; the answer comes from
 * session_wait_complete() or, at wake_at, {"value": null}).
 */
#define WAIT_FOREVER	SYSCALL_WAIT_FOREVER

static enum syscall_rc
syscall_sleep(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	json_t *secs = json_object_get(x->args, "seconds");

	if (!json_is_number(secs) || json_number_value(secs) < 0 ||
	    json_number_value(secs) > 10 * 365 * 86400.0) {
		xasprintf(cause, "sleep needs a number of seconds");
		return SYSCALL_FAIL;
	}
	*wake_at = now_us() + (int64_t)(json_number_value(secs) * 1e6);
	return SYSCALL_WAIT;
}

static const struct syscall_def syscall_sleep_def = { "sleep", syscall_sleep };

/* A timeout argument (seconds or null) -> when to give up; -1 if bad. */
int64_t
syscall_timeout_wake(json_t *timeout)
{
	double t;

	if (timeout == NULL || json_is_null(timeout))
		return WAIT_FOREVER;
	if (!json_is_number(timeout) || (t = json_number_value(timeout)) < 0 ||
	    t > 10 * 365 * 86400.0)
		return -1;
	return now_us() + (int64_t)(t * 1e6);
}

/* A syscall's {error: message} result, for Python to raise. */
json_t *
syscall_error(const char *fmt, ...)
{
	va_list ap;
	char *msg;
	json_t *r;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	r = json_pack("{s:s}", "error", msg);
	free(msg);
	return r;
}

/*
 * The end of a next_* call: {value: taken} when it took one, {value:
 * None} once wake (from syscall_timeout_wake) has passed, else wait.
 */
enum syscall_rc
syscall_taken_or_wait(json_t *taken, int64_t wake, json_t **result,
    int64_t *wake_at)
{
	if (taken != NULL) {
		*result = json_pack("{s:o}", "value", taken);
		return SYSCALL_DONE;
	}
	if (wake <= now_us()) {
		*result = json_pack("{s:n}", "value");
		return SYSCALL_DONE;
	}
	*wake_at = wake;
	return SYSCALL_WAIT;
}

/* The project a session belongs to. */
int
session_project(struct store *s, const char *session_id, char *project,
    size_t size)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT project_id FROM sessions "
	    "WHERE session_id = ?");
	int rc = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(project, size, "%s", sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}
static const struct syscall_def *const syscall_table[] = {
	&syscall_sleep_def,
	SESSION_SYSCALLS
};

static const struct syscall_def *
syscall_find(const char *name)
{
	for (size_t i = 0; i < nitems(syscall_table); i++) {
		if (syscall_table[i] != NULL &&
		    strcmp(syscall_table[i]->name, name) == 0)
			return syscall_table[i];
	}
	return NULL;
}

struct syscall_arg {
	struct syscall_ctx	 ctx;
	const struct syscall_def *def;
	uint64_t		 generation;
	char			*args_text;
	char			*result;	/* JSON text when done */
	int64_t			 wake_at;	/* when waiting */
	int64_t			 received_at;
	int			 waiting;
};

static int
syscall_row(struct store *s, struct syscall_arg *a, const char *state)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT OR REPLACE INTO "
	    "session_calls (session_id, seq, name, kind, state, attempts, "
	    "args, result, summary, started_at, completed_at) VALUES (?1, ?2, "
	    "?3, 'syscall', ?4, 1, ?5, ?6, '', ?7, CASE WHEN ?4 = 'completed' "
	    "THEN ?7 END)");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, a->ctx.session_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)a->ctx.seq);
	sqlite3_bind_text(st, 3, a->def->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->args_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->result, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now_us());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
session_syscall_write(struct store *s, void *arg, char **cause)
{
	struct syscall_arg *a = arg;
	json_t *result = NULL;
	enum syscall_rc rc;
	sqlite3_stmt *st;
	char *why = NULL;

	rc = a->def->fn(s, &a->ctx, &result, &a->wake_at, &why);
	if (rc == SYSCALL_FAIL) {
		result = json_pack("{s:s}", "error", why != NULL ? why :
		    "the call failed");
		rc = SYSCALL_DONE;
	}
	free(why);
	if (rc == SYSCALL_DONE) {
		a->result = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(result);
		if (a->result == NULL || syscall_row(s, a, "completed") != 0) {
			xasprintf(cause, "recording %s failed", a->def->name);
			return -1;
		}
	} else {
		a->waiting = 1;
		if (syscall_row(s, a, "waiting") != 0 ||
		    (st = store_prepare(s, "UPDATE sessions SET wake_at = ? "
		    "WHERE session_id = ?")) == NULL) {
			xasprintf(cause, "recording %s failed", a->def->name);
			return -1;
		}
		sqlite3_bind_int64(st, 1, a->wake_at);
		sqlite3_bind_text(st, 2, a->ctx.session_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SYSCALL_WAIT :
		    SYSCALL_FAIL;
		sqlite3_finalize(st);
		if (rc == SYSCALL_FAIL) {
			xasprintf(cause, "recording %s failed", a->def->name);
			return -1;
		}
	}
	return session_log_call(s, a->ctx.session_id, "CALL_SPEC", json_pack(
	    "{s:I, s:s, s:s}", "seq", (json_int_t)a->ctx.seq, "name",
	    a->def->name, "args", a->args_text));
}

static void
session_evict_cb(evutil_socket_t fd, short events, void *arg)
{
	struct session_run *run = arg;
	uint64_t seq;

	if (run->waiting_seq == 0 || run->worker == NULL)
		return;
	seq = run->waiting_seq;

	log_info("session %s has waited workers.evict_after: its worker "
	    "exits", run->id);
	run->suspended = 1;
	run->waiting_seq = 0;
	/* Last: a failed send may end the worker and free run. */
	session_send_seq(run, FRAME_SUSPEND, seq, NULL);
}

/* Recorded: answer now, keep the worker waiting, or let it go. */
static void
session_syscall_done(int ok, const char *cause, void *arg)
{
	struct syscall_arg *a = arg;
	struct session_run *run = session_run_find(a->ctx.session_id,
	    a->generation);
	uint64_t evict = controller->config->workers_evict_after_ms * 1000;

	if (run != NULL && run->worker != NULL) {
		if (!ok)
			session_store_failed(run, "a call");
		else if (!a->waiting)
			session_send_seq(run, FRAME_SYSCALL_RESULT, a->ctx.seq,
			    a->result);
		else if (a->wake_at - a->received_at >= (int64_t)evict &&
		    a->wake_at != WAIT_FOREVER) {
			run->suspended = 1;
			log_info("session %s waits %.1fs: its worker exits",
			    run->id, (double)(a->wake_at - a->received_at) /
			    1e6);
			session_send_seq(run, FRAME_SUSPEND, a->ctx.seq, NULL);
		} else {
			run->waiting_seq = a->ctx.seq;
			if (run->evict == NULL)
				run->evict = evtimer_new(controller->base,
				    session_evict_cb, run);
			timer_add_us(run->evict, evict);
		}
	}
	if (a->waiting)
		session_wake_rearm();
	json_decref(a->ctx.args);
	free(a->args_text);
	free(a->result);
	free(a);
}

static int
session_on_syscall(struct session_run *run, struct frame_msg *msg,
    char **cause)
{
	struct syscall_arg *a = xcalloc(1, sizeof *a);
	char *name = NULL, *why = NULL;
	int rc = -1;

	if (frame_get_uint(msg, "seq", 1, &a->ctx.seq, &why) != 0 ||
	    frame_get_str(msg, "name", 1, &name, &why) != 0 ||
	    frame_get_str(msg, "args", 1, &a->args_text, &why) != 0 ||
	    frame_msg_end(msg, &why) != 0)
		goto out;
	/* Not inside json_is_object(): the macro evaluates it twice. */
	a->ctx.args = json_loads(a->args_text, 0, NULL);
	if (a->ctx.seq != run->last_seq + 1 || run->pending_call != 0 ||
	    run->waiting_seq != 0 || (a->def = syscall_find(name)) == NULL ||
	    !json_is_object(a->ctx.args)) {
		xasprintf(&why, "SYSCALL %s #%llu is unknown, out of order or "
		    "has no JSON object of arguments", name,
		    (unsigned long long)a->ctx.seq);
		goto out;
	}
	snprintf(a->ctx.session_id, sizeof a->ctx.session_id, "%s", run->id);
	a->generation = run->generation;
	a->received_at = now_us();
	if (store_write(controller->store, session_syscall_write, a,
	    session_syscall_done, a, &why) != 0) {
		/* Not the worker's fault: lost (or parked), so it resumes. */
		log_error("session %s: %s", run->id, why);
		session_store_failed(run, "a call");
		rc = 0;
		goto fail;
	}
	run->last_seq = a->ctx.seq;
	a = NULL;
	rc = 0;
out:
	if (rc != 0)
		xasprintf(cause, "bad SYSCALL: %s", why);
fail:
	if (a != NULL) {
		json_decref(a->ctx.args);
		free(a->args_text);
		free(a->result);
		free(a);
	}
	free(why);
	free(name);
	return rc;
}

/* After the commit: the waiting worker gets its answer, or the session
 * resumes on a new one. */
static void
session_wait_notify(int ok, const char *cause, void *arg)
{
	char *id = arg;
	struct session_run *run = session_run_find(id, 0);

	if (ok && run != NULL && run->waiting_seq != 0) {
		sqlite3_stmt *st = store_prepare(controller->store, "SELECT "
		    "result FROM session_calls WHERE session_id = ? AND seq = ? "
		    "AND state = 'completed'");
		uint64_t seq = run->waiting_seq;

		if (st != NULL) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, (int64_t)seq);
			if (sqlite3_step(st) == SQLITE_ROW) {
				run->waiting_seq = 0;
				if (run->evict != NULL)
					event_del(run->evict);
				session_send_seq(run, FRAME_SYSCALL_RESULT, seq,
				    (const char *)sqlite3_column_text(st, 0));
			}
			sqlite3_finalize(st);
		}
	} else if (ok)
		session_schedule();
	free(id);
}

/*
 * Inside a store_write: answer session_id's waiting syscall with result
 * ({"value": X}). 1 if it was waiting, 0 if not.
 */
int
session_wait_complete(struct store *s, const char *session_id,
    json_t *result)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE session_calls SET state = "
	    "'completed', result = ?, completed_at = ? WHERE session_id = ? AND "
	    "state = 'waiting'");
	char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
	int changed = 0;

	if (st != NULL && text != NULL) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_us());
		sqlite3_bind_text(st, 3, session_id, -1, SQLITE_STATIC);
		changed = sqlite3_step(st) == SQLITE_DONE &&
		    sqlite3_changes(store_db(s)) > 0;
	}
	sqlite3_finalize(st);
	free(text);
	if (!changed)
		return 0;
	st = store_prepare(s, "UPDATE sessions SET wake_at = NULL WHERE "
	    "session_id = ?");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	store_on_commit(s, session_wait_notify, xstrdup(session_id));
	return 1;
}

/* ---- waking sleepers ---- */

static int
session_wake_write(struct store *s, void *arg, char **cause)
{
	json_t *due = json_array(), *timeout = json_pack("{s:n}", "value");
	/* Through the wake index: see session_wake_rearm(). */
	sqlite3_stmt *st = store_prepare(s, "SELECT session_id FROM sessions "
	    "INDEXED BY sessions_by_wake WHERE wake_at IS NOT NULL AND "
	    "wake_at <= ? AND state IN ('created', 'running')");

	if (st == NULL) {
		json_decref(due);
		json_decref(timeout);
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_int64(st, 1, now_us());
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(due, json_string((const char *)
		    sqlite3_column_text(st, 0)));
	sqlite3_finalize(st);
	for (size_t i = 0; i < json_array_size(due); i++) {
		const char *id = json_string_value(json_array_get(due, i));

		/* A wait times out with None; a retry's backoff just ends. */
		if (session_wait_complete(s, id, timeout))
			continue;
		st = store_prepare(s, "UPDATE sessions SET wake_at = NULL "
		    "WHERE session_id = ?");
		if (st == NULL)
			break;
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	json_decref(due);
	json_decref(timeout);
	return 0;
}

static void
session_wake_done(int ok, const char *cause, void *arg)
{
	if (!ok) {
		/* Not saved (a full disk?): again in a second, not at once. */
		log_error("waking sessions: %s; trying again in 1s", cause);
		event_add(wake_ev, &(struct timeval){ 1, 0 });
		return;
	}
	session_schedule();
	session_wake_rearm();
}

static void
session_wake_cb(evutil_socket_t fd, short events, void *arg)
{
	char *cause = NULL;

	if (store_write(controller->store, session_wake_write, NULL,
	    session_wake_done, NULL, &cause) != 0) {
		log_error("waking sessions: %s", cause);
		free(cause);
		event_add(wake_ev, &(struct timeval){ 1, 0 });
	}
}

/*
 * One timer for the earliest wake_at in the store. This runs each time a
 * session goes to sleep. The planner, without statistics, would take the
 * state index and read every sleeper (12 ms with 50,000 of them); the
 * wake index holds only live sessions (finishing clears wake_at), so its
 * first row is the answer.
 */
static void
session_wake_rearm(void)
{
	if (controller == NULL || controller->base == NULL)
		return;
	if (wake_ev == NULL)
		wake_ev = evtimer_new(controller->base, session_wake_cb, NULL);
	timer_arm_earliest(wake_ev, "SELECT min(wake_at) FROM sessions "
	    "INDEXED BY sessions_by_wake WHERE wake_at IS NOT NULL AND "
	    "state IN ('created', 'running')");
}

static int
session_message(struct worker *w, struct frame_msg *msg, void *arg,
    char **cause)
{
	struct session_run *run = arg;

	if (run->done) {
		xasprintf(cause, "a %s after DONE",
		    frame_type_name(msg->header.type));
		return -1;
	}
	if (run->stop_reason != NULL && (msg->header.type == FRAME_CALL ||
	    msg->header.type == FRAME_RESULT ||
	    msg->header.type == FRAME_SYSCALL)) {
		/* A graceful stop takes effect at a call boundary. */
		worker_kill(w, run->stop_reason);
		return 0;
	}
	switch (msg->header.type) {
	case FRAME_PRINT:
		return session_on_print(run, msg, cause);
	case FRAME_DONE:
		return session_on_done(run, msg, cause);
	case FRAME_CALL:
		return session_on_call(run, msg, cause);
	case FRAME_RESULT:
		return session_on_result(run, msg, cause);
	case FRAME_SYSCALL:
		return session_on_syscall(run, msg, cause);
	default:
		xasprintf(cause, "unexpected %s from a session worker",
		    frame_type_name(msg->header.type));
		return -1;
	}
}

/* ---- a worker lost ---- */

struct retry_arg {
	char	 id[64];
	char	*reason;
	int64_t	 wake_at;
};

static int
session_retry_write(struct store *s, void *arg, char **cause)
{
	struct retry_arg *r = arg;
	/* attempts counts lost workers only, not starts or resumes. */
	sqlite3_stmt *st = store_prepare(s, "UPDATE sessions SET on_worker = "
	    "0, attempts = attempts + 1, error = ?, wake_at = "
	    "max(coalesce(wake_at, 0), ?) WHERE session_id = ?");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->wake_at);
	sqlite3_bind_text(st, 3, r->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "recording the retry failed");
		return -1;
	}
	return session_log_call(s, r->id, "STATE", json_pack("{s:s, s:s}",
	    "state", "running", "note", r->reason));
}

static void
session_retry_done(int ok, const char *cause, void *arg)
{
	struct retry_arg *r = arg;

	if (!ok)	/* still on_worker in the store: release it */
		session_release_later(r->id);
	session_wake_rearm();
	free(r->reason);
	free(r);
}

static int64_t
session_attempts(const char *id)
{
	sqlite3_stmt *st = store_prepare(controller->store, "SELECT attempts "
	    "FROM sessions WHERE session_id = ?");
	int64_t n = 0;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Resume later on a fresh worker, or give up after too many attempts. */
static void
session_retry(struct session_run *run, const char *reason)
{
	int64_t attempts = session_attempts(run->id);
	struct retry_arg *r;
	char *cause = NULL, *error;

	if (attempts + 1 >= SESSION_MAX_ATTEMPTS) {
		xasprintf(&error, "%s before the session finished; gave up "
		    "after %lld attempts", reason, (long long)attempts + 1);
		session_end(run->id, run->deployment_id, "error", NULL, error,
		    NULL, NULL);
		return;
	}
	r = xcalloc(1, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", run->id);
	xasprintf(&r->reason, "%s; resuming on a new worker in %ds (attempt "
	    "%lld of %d)", reason, 1 << attempts, (long long)attempts + 2,
	    SESSION_MAX_ATTEMPTS);
	r->wake_at = now_us() + (int64_t)(1 << attempts) * 1000000;
	log_warning("session %s: %s", run->id, r->reason);
	if (store_write(controller->store, session_retry_write, r,
	    session_retry_done, r, &cause) != 0) {
		log_error("session %s: %s", run->id, cause);
		free(cause);
		free(r->reason);
		free(r);
	}
}

static int
session_release_write(struct store *s, void *arg, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE sessions SET on_worker = "
	    "0 WHERE session_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
session_gone(struct worker *w, int code, int sig, const char *reason,
    void *arg)
{
	struct session_run *run = arg;
	char *error, *cause = NULL;

	if (run->done)
		;
	else if (run->stop_reason != NULL)
		session_end(run->id, run->deployment_id, "stopped", NULL, NULL,
		    NULL, xstrdup(run->stop_reason));
	else if (run->parked)
		/* No attempt counted: the store failed, not the session. */
		session_release_later(run->id);
	else if (run->timed_out) {
		char d[32];

		format_duration_ms(controller->config->
		    workers_session_timeout_ms, d, sizeof d);
		xasprintf(&error, "timed out after %s "
		    "(workers.session_timeout)", d);
		session_end(run->id, run->deployment_id, "error", NULL, error,
		    NULL, NULL);
	} else if (sig == SIGXCPU) {
		xasprintf(&error, "%s: the session used up its CPU limit "
		    "(workers.cpu_limit)", reason);
		session_end(run->id, run->deployment_id, "error", NULL, error,
		    NULL, NULL);
	} else if (worker_violated(w)) {
		/*
		 * Only code in the session can make the runtime break the
		 * protocol (it can write to fd 3): running it again would do
		 * it again, so this is final.
		 */
		session_end(run->id, run->deployment_id, "error", NULL,
		    xstrdup(reason), NULL, NULL);
	} else if (sig == SIGSYS || sig == SIGXFSZ) {
		/* The sandbox stopped it; it would do the same again. */
		xasprintf(&error, "%s: %s", reason, sig == SIGSYS ?
		    "the sandbox forbids a system call the session made" :
		    "the session wrote past the file size limit");
		session_end(run->id, run->deployment_id, "error", NULL, error,
		    NULL, NULL);
	} else if (run->suspended) {
		if (store_write(controller->store, session_release_write,
		    run->id, NULL, NULL, &cause) != 0) {
			log_error("session %s: %s", run->id, cause);
			free(cause);
		}
	} else
		session_retry(run, reason);
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

/* env[key] = the value of the var of the current row of st, decrypted. */
static int
env_set_var(json_t *env, const char *key, sqlite3_stmt *st, int value_col,
    int sealed_col, const char *scope, const char *name, char **cause)
{
	char *value = vars_column_value(st, value_col, sealed_col, scope, name,
	    cause);
	json_t *s;

	if (value == NULL)
		return -1;
	s = json_string(value);
	vars_value_free(value);
	if (s == NULL) {
		xasprintf(cause, "var %s of %s is not valid UTF-8", name,
		    scope);
		return -1;
	}
	json_object_set_new(env, key, s);
	return 0;
}

/*
 * env: project vars, <trigger>__webhook_url for its webhooks, then each
 * connection's vars as <conn>__<key> and its id as <conn>__connection_id.
 * Sealed values are decrypted here: a session gets its secrets. NULL with
 * *cause when one cannot be decrypted (the session then fails, rather
 * than run without it).
 */
static json_t *
session_env(const char *project_id, char **cause)
{
	sqlite3_stmt *st;
	char *base = public_base_url(controller->config);
	json_t *env = json_object();
	int rc = 0;

	st = store_prepare(controller->store, "SELECT name, value, sealed "
	    "FROM vars WHERE scope_id = ?");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st,
			    0);

			rc = env_set_var(env, name, st, 1, 2, project_id, name,
			    cause);
		}
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
	/* Connections: <conn>__<key> for each var, <conn>__connection_id. */
	st = store_prepare(controller->store, "SELECT c.name, c.connection_id, "
	    "v.name, v.value, v.sealed FROM connections c LEFT JOIN vars v ON "
	    "v.scope_id = c.connection_id WHERE c.project_id = ?");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
		while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
			const char *conn = (const char *)sqlite3_column_text(st,
			    0);
			const char *id = (const char *)sqlite3_column_text(st,
			    1);
			const char *name = (const char *)sqlite3_column_text(st,
			    2);
			char *key;

			xasprintf(&key, "%s__connection_id", conn);
			json_object_set_new(env, key, json_string(id));
			free(key);
			if (name == NULL)
				continue;
			xasprintf(&key, "%s__%s", conn, name);
			rc = env_set_var(env, key, st, 3, 4, id, name, cause);
			free(key);
		}
		sqlite3_finalize(st);
	}
	free(base);
	if (rc != 0) {
		json_decref(env);
		return NULL;
	}
	return env;
}

static void
pack_env(struct frame_builder *fb, json_t *env)
{
	const char *k;
	json_t *v;

	frame_pack_key(fb, "env");
	msgpack_pack_map(&fb->pk, json_object_size(env));
	json_object_foreach(env, k, v)
		frame_pack_str(fb, k, json_string_value(v));
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
	sqlite3_stmt *st;
	int rc = session_set_state(s, arg, "running", data);

	json_decref(data);
	if (rc == 0 && (st = store_prepare(s, "UPDATE sessions SET on_worker = "
	    "1 WHERE session_id = ?")) != NULL) {
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	}
	if (rc != 0)
		xasprintf(cause, "marking the session running failed");
	return rc;
}

/*
 * history: the completed calls, a contiguous prefix from seq 1, as
 * [{seq, name, value | error | result}]. Returns its length.
 */
static uint64_t
pack_history(struct frame_builder *fb, const char *id, int durable)
{
	sqlite3_stmt *st = NULL;
	uint64_t n = 0;

	if (durable)
		st = store_prepare(controller->store, "SELECT seq, name, value, "
		    "error, result FROM session_calls WHERE session_id = ? AND "
		    "state = 'completed' ORDER BY seq");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW &&
		    (uint64_t)sqlite3_column_int64(st, 0) == n + 1)
			n++;
		sqlite3_reset(st);
	}
	frame_pack_key(fb, "history");
	msgpack_pack_array(&fb->pk, (size_t)n);
	for (uint64_t i = 0; i < n && sqlite3_step(st) == SQLITE_ROW; i++) {
		msgpack_pack_map(&fb->pk, 3);
		frame_pack_uint(fb, "seq", i + 1);
		frame_pack_str(fb, "name", (const char *)sqlite3_column_text(st,
		    1));
		if (sqlite3_column_type(st, 2) == SQLITE_BLOB)
			frame_pack_bin(fb, "value", sqlite3_column_blob(st, 2),
			    (size_t)sqlite3_column_bytes(st, 2));
		else if (sqlite3_column_type(st, 3) == SQLITE_BLOB)
			frame_pack_bin(fb, "error", sqlite3_column_blob(st, 3),
			    (size_t)sqlite3_column_bytes(st, 3));
		else
			frame_pack_str(fb, "result", sqlite3_column_type(st, 4)
			    == SQLITE_TEXT ? (const char *)sqlite3_column_text(
			    st, 4) : "null");
	}
	sqlite3_finalize(st);
	return n;
}

/* After the commit of an early start's RUNNING: run its code now. */
static void
session_go_done(int ok, const char *cause, void *arg)
{
	struct run_ref *r = arg;
	struct session_run *run = session_run_find(r->id, r->generation);
	struct frame_builder fb;
	const uint8_t *frame;
	size_t len;

	if (ok && run != NULL && run->worker != NULL) {
		FAILPOINT("after-commit-before-go");
		frame_begin(&fb, FRAME_GO, 0, 0);
		frame = frame_finish(&fb, &len);
		worker_send(run->worker, frame, len);
		frame_builder_free(&fb);
	}
	session_write_done(ok, cause, r);	/* a failure, and frees r */
}

/*
 * Start one CREATED session on a READY worker. The row is read here, the
 * RUN frame sent, and RUNNING recorded in the current batch. early: the
 * session's own row is in that batch too (a webhook's, session_start_early),
 * so RUN says go: the worker prepares but runs none of the project's code
 * until GO, which the batch's commit sends.
 */
static int
session_start_one(const char *id, int early)
{
	sqlite3_stmt *st;
	struct session_run *run;
	struct pool_client client;
	struct frame_builder fb;
	struct run_ref *ref;
	const uint8_t *frame;
	char *cause = NULL, *event, *project_id = NULL, *entry = NULL,
	    *event_id = NULL;
	json_t *env;
	size_t len;

	st = store_prepare(controller->store, "SELECT s.project_id, "
	    "s.deployment_id, s.entrypoint, s.event_id, b.artifact, "
	    "s.is_durable FROM sessions s LEFT JOIN builds b ON b.build_id = "
	    "s.build_id WHERE s.session_id = ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	run = xcalloc(1, sizeof *run);
	snprintf(run->id, sizeof run->id, "%s", id);
	run->generation = ++run_generation;
	run->durable = sqlite3_column_int(st, 5) != 0;
	snprintf(run->deployment_id, sizeof run->deployment_id, "%s",
	    sqlite3_column_text(st, 1) != NULL ? (const char *)
	    sqlite3_column_text(st, 1) : "");
	TAILQ_INSERT_TAIL(&runs, run, entry);
	ref = run_ref_new(run, "the session's start");
	if (store_write(controller->store, session_running_write, run->id,
	    early ? session_go_done : session_write_done, ref, &cause) != 0) {
		free(ref);
		log_error("session %s: %s", id, cause);
		free(cause);
		sqlite3_finalize(st);
		session_run_free(run);
		return -1;
	}
	if (sqlite3_column_type(st, 4) != SQLITE_BLOB) {
		sqlite3_finalize(st);
		session_end(id, run->deployment_id, "error", NULL,
		    xstrdup("the session's build is missing"), NULL, NULL);
		session_run_free(run);
		return -1;
	}
	env = session_env((const char *)sqlite3_column_text(st, 0), &cause);
	if (env == NULL) {
		sqlite3_finalize(st);
		log_error("session %s: %s", id, cause);
		session_end(id, run->deployment_id, "error", NULL, cause, NULL,
		    NULL);
		session_run_free(run);
		return -1;
	}
	project_id = xstrdup((const char *)sqlite3_column_text(st, 0));
	entry = xstrdup((const char *)sqlite3_column_text(st, 2));
	if (sqlite3_column_text(st, 3) != NULL)
		event_id = xstrdup((const char *)sqlite3_column_text(st, 3));
	event = session_event_json(event_id, id);

	frame_begin(&fb, FRAME_RUN, 0, early ? 9 : 8);
	frame_pack_str(&fb, "session_id", id);
	frame_pack_bin(&fb, "artifact", sqlite3_column_blob(st, 4),
	    (size_t)sqlite3_column_bytes(st, 4));
	frame_pack_str(&fb, "entrypoint", entry);
	frame_pack_str(&fb, "event", event);
	pack_env(&fb, env);
	json_decref(env);
	sqlite3_finalize(st);
	frame_pack_bool(&fb, "durable", run->durable);
	frame_pack_uint(&fb, "max_result_size",
	    controller->config->workers_max_result_size);
	run->last_seq = pack_history(&fb, id, run->durable);
	if (early)
		frame_pack_bool(&fb, "go", 1);
	frame = frame_finish(&fb, &len);

	client = (struct pool_client){ session_message, session_gone, run };
	run->worker = pool_take(controller->pool, &client);
	run->timeout = evtimer_new(controller->base, session_timeout_cb, run);
	timer_add_us(run->timeout,
	    controller->config->workers_session_timeout_ms * 1000);
	log_info("session %s running %s on worker %d%s", id, entry,
	    (int)worker_pid(run->worker), run->last_seq > 0 ?
	    " (replaying its history)" : "");
	if (len > FRAME_DEFAULT_LIMIT)
		worker_kill(run->worker, "the build is larger than a frame may "
		    "be");
	else {
		if (worker_send(run->worker, frame, len) == 0) {
			if (run->last_seq > 0)
				FAILPOINT("replay");
			if (early)
				FAILPOINT("early-run-before-commit");
		}
	}
	frame_builder_free(&fb);
	free(project_id);
	free(entry);
	free(event_id);
	free(event);
	return 0;
}

/* Start CREATED sessions, oldest first, while workers are ready. */
void
session_schedule(void)
{
	static int scheduling;

	if (controller == NULL || controller->pool == NULL || scheduling)
		return;
	/* A start could not be saved: wait for space (store-commit.c). */
	if (store_is_full(controller->store))
		return;
	scheduling = 1;
	while (pool_can_take(controller->pool)) {
		/* The planner, without statistics, prefers the state
		 * index, which holds every sleeper (migration 10). */
		sqlite3_stmt *st = store_prepare(controller->store, "SELECT "
		    "session_id FROM sessions INDEXED BY sessions_startable "
		    "WHERE state IN ('created', 'running') AND on_worker = 0 "
		    "AND wake_at IS NULL ORDER BY created_at, session_id "
		    "LIMIT 1");
		char id[64] = "";

		if (st == NULL)
			break;
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(id, sizeof id, "%s", sqlite3_column_text(st,
			    0));
		sqlite3_finalize(st);
		/*
		 * A session that cannot start (the store refuses the write)
		 * stays where it is: stop here rather than pick it forever;
		 * the next event that schedules tries again.
		 */
		if (*id == '\0' || session_start_one(id, 0) != 0)
			break;
	}
	scheduling = 0;
}

/*
 * Start session id, just made in the open batch (a webhook's), before that
 * batch commits: its worker unpacks the build and the event while the
 * store syncs, and runs the project's code only on GO, after the commit.
 * Only this session: session_schedule() would also start sessions whose
 * history (a completed wait) is not committed yet. No READY worker: it
 * waits for session_schedule() like any other.
 */
void
session_start_early(const char *id)
{
	sqlite3_stmt *st;
	int created = 0;

	if (controller == NULL || controller->pool == NULL ||
	    store_is_full(controller->store) ||
	    !pool_can_take(controller->pool))
		return;
	st = store_prepare(controller->store, "SELECT 1 FROM sessions WHERE "
	    "session_id = ? AND state = 'created' AND on_worker = 0 AND "
	    "wake_at IS NULL AND attempts = 0");
	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	created = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (created)
		(void)session_start_one(id, 1);
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
	if (run == NULL) {
		/* No worker (CREATED, or sleeping): it ends now. */
		char deployment[64] = "";

		st = store_prepare(controller->store, "SELECT deployment_id "
		    "FROM sessions WHERE session_id = ?");
		if (st != NULL) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_text(st, 0) != NULL)
				snprintf(deployment, sizeof deployment, "%s",
				    sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		session_end(id, deployment, "stopped", NULL, NULL, NULL,
		    xstrdup(full));
	}
	if (run != NULL && (run->stop_reason == NULL || force)) {
		/* A forced stop's reason replaces a graceful one's. */
		free(run->stop_reason);
		run->stop_reason = xstrdup(full);
		/*
		 * Forced, not durable (no checkpoints to respect), or waiting
		 * (a boundary already): now. Otherwise the durable session
		 * stops at its next call or wait, so nothing runs past a
		 * checkpoint (session_message).
		 */
		if (run->worker != NULL && (force || !run->durable ||
		    run->waiting_seq != 0 || run->suspended))
			worker_kill(run->worker, full);
	}
	free(full);
	return 1;
}

/* ---- start-up ---- */

static int
session_recover_write(struct store *s, void *arg, char **cause)
{
	int64_t n = 0;
	sqlite3_stmt *st;

	store_count_sessions(s, "running", &n);
	/*
	 * Nothing runs on a worker yet: whatever said so is from before.
	 * Only a live session can say so: through the state index, not
	 * every session kept (migration 13).
	 */
	st = store_prepare(s, "UPDATE sessions INDEXED BY sessions_by_end SET "
	    "on_worker = 0 WHERE state IN ('created', 'running') AND "
	    "on_worker != 0");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_step(st);
	sqlite3_finalize(st);
	FAILPOINT("recovery");
	if (n > 0)
		log_notice("%lld sessions were running when autokittehd last "
		    "stopped; they resume (durable ones replay their history, "
		    "others start again)", (long long)n);
	return 0;
}

/* At start, before READY: re-arm sleepers; running sessions resume. */
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
	session_wake_rearm();
}

json_t *
session_pool_json(void)
{
	if (controller == NULL || controller->pool == NULL)
		return json_object();
	return pool_status_json(controller->pool);
}
