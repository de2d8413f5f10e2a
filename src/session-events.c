/*
 * session-events.c: subscribe / next_event / unsubscribe.
 *
 * A session subscribes to a source (a trigger of its project, by name);
 * from then on every event for that trigger is queued for it, in order,
 * until it unsubscribes. next_event returns the oldest event not yet
 * delivered on any of the given subscriptions, or waits for one (up to a
 * timeout). The queue is the events table itself: a subscription keeps a
 * cursor, the last events.seq it delivered. An event saved for a trigger
 * is offered, in the same commit, to sessions waiting in next_event on it
 * (reference 1.6, step 6).
 *
 * Filters are CEL expressions over data and event_type (cel.c); empty or
 * "." takes every event. A filter that does not parse is refused at
 * subscribe; an event on which it fails to evaluate (say, "no such key")
 * is skipped, as one on which it is false.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

static enum syscall_rc
subscribe(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	const char *source = json_string_value(json_object_get(x->args,
	    "source"));
	const char *filter = json_string_value(json_object_get(x->args,
	    "filter"));
	char project[64], id[80], *why = NULL;
	struct cel_expr *expr;
	sqlite3_stmt *st;
	char trigger[64] = "";
	int64_t cursor = 0;

	if (source == NULL || session_project(s, x->session_id, project,
	    sizeof project) != 0) {
		xasprintf(cause, "subscribe needs a source name");
		return SYSCALL_FAIL;
	}
	if ((expr = cel_parse(filter, &why)) == NULL) {
		char *msg;

		xasprintf(&msg, "the filter \"%s\" is not valid: %s", filter,
		    why);
		*result = json_pack("{s:s}", "error", msg);
		free(msg);
		free(why);
		return SYSCALL_DONE;
	}
	cel_free(expr);
	st = store_prepare(s, "SELECT trigger_id FROM triggers WHERE "
	    "project_id = ? AND name = ?");
	if (st != NULL) {
		sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(trigger, sizeof trigger, "%s",
			    sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (*trigger == '\0') {
		*result = syscall_error("the project has no trigger named "
		    "\"%s\" to subscribe to (connections come later)", source);
		return SYSCALL_DONE;
	}
	store_count(s, "SELECT coalesce(max(seq), 0) FROM events", &cursor);
	if (typeid_new("sub", id, sizeof id) != 0 ||
	    (st = store_prepare(s, "INSERT INTO subscriptions (subscription_id, "
	    "session_id, destination_id, source, filter, cursor, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)")) == NULL) {
		xasprintf(cause, "cannot record the subscription");
		return SYSCALL_FAIL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, trigger, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, filter != NULL ? filter : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, cursor);
	sqlite3_bind_int64(st, 7, now_us());
	sqlite3_step(st);
	sqlite3_finalize(st);
	*result = json_pack("{s:s}", "value", id);
	return SYSCALL_DONE;
}

/*
 * The oldest undelivered event on subscription sub (of session), newer
 * than its cursor and matching its filter; it is marked delivered.
 * Returns {data, event_id, event_type} or NULL.
 */
static json_t *
subscription_take(struct store *s, const char *session, const char *sub,
    int64_t max_seq)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT e.seq, e.event_id, "
	    "e.event_type, e.data, u.filter FROM subscriptions u JOIN events e "
	    "ON e.destination_id = u.destination_id AND e.seq > u.cursor "
	    "WHERE u.subscription_id = ? AND u.session_id = ? AND u.active = 1 "
	    "AND e.seq <= ? ORDER BY e.seq");
	json_t *out = NULL;
	int64_t seq = 0;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, sub, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, max_seq);
	while (out == NULL && sqlite3_step(st) == SQLITE_ROW) {
		const char *etype = (const char *)sqlite3_column_text(st, 2);
		const char *filter = (const char *)sqlite3_column_text(st, 4);
		json_t *data = json_loads((const char *)
		    sqlite3_column_text(st, 3), 0, NULL);
		char *why = NULL;
		int match;

		seq = sqlite3_column_int64(st, 0);
		if (data == NULL)
			data = json_object();
		if ((match = cel_filter_matches(filter, data, etype,
		    &why)) == -1) {
			log_debug("subscription %s: event %s skipped: the "
			    "filter \"%s\" failed: %s", sub, (const char *)
			    sqlite3_column_text(st, 1), filter, why);
			free(why);
		}
		if (match == 1)
			out = json_pack("{s:o, s:s, s:s}", "data", data,
			    "event_id", (const char *)sqlite3_column_text(st, 1),
			    "event_type", etype);
		else
			json_decref(data);
	}
	sqlite3_finalize(st);
	if (seq > 0 && (st = store_prepare(s, "UPDATE subscriptions SET "
	    "cursor = ? WHERE subscription_id = ?")) != NULL) {
		/* Skipped (filtered) events are consumed too. */
		sqlite3_bind_int64(st, 1, out != NULL ? seq : max_seq);
		sqlite3_bind_text(st, 2, sub, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return out;
}

/* The next event on the first of ids that has one (each queue in order). */
static json_t *
next_event_take(struct store *s, const char *session, json_t *ids)
{
	int64_t max_seq = 0;
	json_t *best = NULL, *id;
	size_t i;

	store_count(s, "SELECT coalesce(max(seq), 0) FROM events", &max_seq);
	json_array_foreach(ids, i, id) {
		if (json_is_string(id) && (best = subscription_take(s, session,
		    json_string_value(id), max_seq)) != NULL)
			break;
	}
	return best;
}

static int
subscriptions_valid(struct store *s, const char *session, json_t *ids)
{
	json_t *id;
	size_t i;

	if (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > 64)
		return 0;
	json_array_foreach(ids, i, id) {
		sqlite3_stmt *st = store_prepare(s, "SELECT 1 FROM "
		    "subscriptions WHERE subscription_id = ? AND session_id = ? "
		    "AND active = 1");
		int ok;

		if (!json_is_string(id) || st == NULL) {
			sqlite3_finalize(st);
			return 0;
		}
		sqlite3_bind_text(st, 1, json_string_value(id), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 2, session, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!ok)
			return 0;
	}
	return 1;
}

static enum syscall_rc
next_event(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	json_t *ids = json_object_get(x->args, "ids");
	int64_t wake = syscall_timeout_wake(json_object_get(x->args,
	    "timeout"));

	if (wake < 0) {
		xasprintf(cause, "next_event: timeout must be a number of "
		    "seconds or None");
		return SYSCALL_FAIL;
	}
	if (!subscriptions_valid(s, x->session_id, ids)) {
		*result = json_pack("{s:s}", "error", "next_event needs the ids "
		    "of this session's active subscriptions (from subscribe)");
		return SYSCALL_DONE;
	}
	return syscall_taken_or_wait(next_event_take(s, x->session_id, ids),
	    wake, result, wake_at);
}

static enum syscall_rc
unsubscribe(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	const char *id = json_string_value(json_object_get(x->args, "id"));
	sqlite3_stmt *st = store_prepare(s, "UPDATE subscriptions SET active = "
	    "0 WHERE subscription_id = ? AND session_id = ?");

	if (st == NULL || id == NULL) {
		sqlite3_finalize(st);
		xasprintf(cause, "unsubscribe needs a subscription id");
		return SYSCALL_FAIL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->session_id, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	*result = json_pack("{s:n}", "value");
	return SYSCALL_DONE;
}

const struct syscall_def syscall_subscribe = { "subscribe", subscribe };
const struct syscall_def syscall_next_event = { "next_event", next_event };
const struct syscall_def syscall_unsubscribe = { "unsubscribe", unsubscribe };

/*
 * Inside the write that saved an event for destination_id: hand it to the
 * sessions waiting in next_event on a subscription to it.
 */
void
session_events_deliver(struct store *s, const char *destination_id,
    const char *event_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT DISTINCT c.session_id, "
	    "c.args FROM session_calls c JOIN subscriptions u ON u.session_id = "
	    "c.session_id AND u.destination_id = ? AND u.active = 1 WHERE "
	    "c.state = 'waiting' AND c.name = 'next_event'");
	json_t *waiting = json_array(), *w;
	size_t i;

	if (st == NULL) {
		json_decref(waiting);
		return;
	}
	sqlite3_bind_text(st, 1, destination_id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(waiting, json_pack("{s:s, s:s}",
		    "session", (const char *)sqlite3_column_text(st, 0), "args",
		    (const char *)sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	json_array_foreach(waiting, i, w) {
		const char *session = json_string_value(json_object_get(w,
		    "session"));
		json_t *args = json_loads(json_string_value(json_object_get(w,
		    "args")), 0, NULL);
		json_t *ev = next_event_take(s, session, json_object_get(args,
		    "ids"));

		if (ev != NULL) {
			json_t *r = json_pack("{s:o}", "value", ev);

			session_wait_complete(s, session, r);
			json_decref(r);
		}
		json_decref(args);
	}
	json_decref(waiting);
	(void)event_id;
}
