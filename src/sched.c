/*
 * sched.c: schedule triggers fire from the store, with one timer.
 *
 * schedule_state holds, per schedule trigger, when it fires next (next_at)
 * and when it last fired (last_at), in Unix microseconds, with the schedule
 * and time zone next_at was computed from. sched_start() (at start, after
 * session recovery) and sched_rearm() (after a commit that may have changed
 * a schedule trigger) bring that table in line with the triggers table:
 * a new trigger, or one whose schedule or time zone changed, gets a fresh
 * next_at; then one libevent timer is armed for the earliest next_at.
 *
 * When the timer fires, one store_write handles every due trigger: if the
 * trigger's project has an ACTIVE deployment, a "tick" event (empty data)
 * is saved and dispatched (dispatch_event starts the sessions); otherwise
 * the tick is skipped. Either way next_at becomes the first fire time
 * after NOW, so the ticks missed while the daemon was down (or busy) fire
 * once, not one per missed tick.
 *
 * A cron expression is matched in the trigger's time zone (triggers.
 * timezone, "" is UTC; cron.c has the daylight saving rules). "@every D"
 * fires every D from the trigger's creation: its fire times stay on that
 * grid, however late the timer runs. An expression or time zone that does
 * not parse leaves next_at NULL (logged): such a trigger never fires.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SCHED_RETRY_S	1	/* after a failed write */

static struct event *sched_ev;

static void sched_arm(void);

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? (const char *)s : "";
}

static int
is_every(const char *expr)
{
	while (*expr == ' ' || *expr == '\t')
		expr++;
	return strncasecmp(expr, "@every", 6) == 0;
}

/*
 * The first fire time after after_us of expr in tz: for @every, on the
 * grid anchor_us + k * interval. -1 with *cause.
 */
static int64_t
sched_next(const char *expr, const char *tz, int64_t anchor_us,
    int64_t after_us, char **cause)
{
	struct cron *c;
	int64_t t, period_us, k;

	if ((c = cron_parse(expr, cause)) == NULL)
		return -1;
	if (!cron_timezone_valid(tz)) {
		cron_free(c);
		xasprintf(cause, "unknown time zone \"%s\"", tz);
		return -1;
	}
	if (is_every(expr)) {
		t = cron_next(c, 0, NULL, cause);	/* the interval, s */
		cron_free(c);
		if (t <= 0)
			return -1;
		period_us = t * 1000000;
		if (anchor_us > after_us)
			return anchor_us;
		k = (after_us - anchor_us) / period_us + 1;
		return anchor_us + k * period_us;
	}
	t = cron_next(c, after_us >= 0 ? after_us / 1000000 : 0, tz, cause);
	cron_free(c);
	return t < 0 ? -1 : t * 1000000;
}

static int
sched_save(struct store *s, const char *trigger_id, int64_t next_at,
    const char *schedule, const char *tz, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO schedule_state "
	    "(trigger_id, next_at, schedule, timezone) VALUES (?, ?, ?, ?) "
	    "ON CONFLICT (trigger_id) DO UPDATE SET next_at = "
	    "excluded.next_at, schedule = excluded.schedule, timezone = "
	    "excluded.timezone");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, trigger_id, -1, SQLITE_STATIC);
	if (next_at >= 0)
		sqlite3_bind_int64(st, 2, next_at);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, schedule, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, tz, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "saving a schedule: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return 0;
}

/* ---- bringing schedule_state in line with the triggers ---- */

static int
sched_sync_write(struct store *s, void *arg, char **cause)
{
	sqlite3_stmt *st;
	json_t *rows = json_array(), *row;
	int64_t now = now_us();
	size_t i;
	int rc;

	(void)arg;
	st = store_prepare(s, "DELETE FROM schedule_state WHERE trigger_id "
	    "NOT IN (SELECT trigger_id FROM triggers WHERE source_type = "
	    "'schedule')");
	if (st == NULL || sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		json_decref(rows);
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_finalize(st);
	/* New triggers, changed ones, and ones that could not be computed. */
	st = store_prepare(s, "SELECT t.trigger_id, t.name, t.schedule, "
	    "t.timezone, t.created_at, s.trigger_id IS NULL FROM triggers t "
	    "LEFT JOIN schedule_state s ON s.trigger_id = t.trigger_id WHERE "
	    "t.source_type = 'schedule' AND (s.trigger_id IS NULL OR "
	    "s.next_at IS NULL OR s.schedule != t.schedule OR s.timezone != "
	    "t.timezone)");
	if (st == NULL) {
		json_decref(rows);
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(rows, json_pack("[s, s, s, s, I, b]",
		    col(st, 0), col(st, 1), col(st, 2), col(st, 3),
		    (json_int_t)sqlite3_column_int64(st, 4),
		    sqlite3_column_int(st, 5)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(rows);
		xasprintf(cause, "reading the schedules: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_array_get(row, 0));
		const char *name = json_string_value(json_array_get(row, 1));
		const char *expr = json_string_value(json_array_get(row, 2));
		const char *tz = json_string_value(json_array_get(row, 3));
		int64_t created = json_integer_value(json_array_get(row, 4));
		int fresh = json_is_true(json_array_get(row, 5));
		int64_t next;
		char *why = NULL;

		/* A new trigger counts from its creation, a changed one now. */
		next = sched_next(expr, tz, fresh ? created : now,
		    fresh ? created : now, &why);
		if (next < 0) {
			log_warning("schedule trigger %s (%s): \"%s\"%s%s: %s; "
			    "it will not fire", name, id, expr, *tz != '\0' ?
			    " in " : "", tz, why != NULL ? why : "no fire time");
			free(why);
		} else
			log_debug("schedule trigger %s (%s): \"%s\" next fires "
			    "at %lld", name, id, expr, (long long)next);
		if (sched_save(s, id, next, expr, tz, cause) != 0) {
			json_decref(rows);
			return -1;
		}
	}
	json_decref(rows);
	return 0;
}

static void
sched_sync_done(int ok, const char *cause, void *arg)
{
	(void)arg;
	if (!ok)
		log_error("schedules: %s", cause != NULL ? cause : "not saved");
	sched_arm();
}

static void
sched_sync(void)
{
	char *cause = NULL;

	if (controller == NULL || controller->store == NULL)
		return;
	if (store_write(controller->store, sched_sync_write, NULL,
	    sched_sync_done, NULL, &cause) != 0) {
		log_error("schedules: %s", cause);
		free(cause);
		sched_arm();
	}
}

void
sched_start(void)
{
	sched_sync();
}

void
sched_rearm(void)
{
	sched_sync();
}

/* ---- firing ---- */

static int
sched_has_active(struct store *s, const char *project_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT 1 FROM deployments WHERE "
	    "project_id = ? AND state = 'active' LIMIT 1");
	int found;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, project_id, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

static int
sched_fire_one(struct store *s, const char *id, const char *name,
    const char *project_id, int64_t now, char **cause)
{
	char event_id[64];
	sqlite3_stmt *st;
	char *why = NULL;
	int started;

	if (!sched_has_active(s, project_id)) {
		log_debug("schedule trigger %s (%s): project %s has no active "
		    "deployment; tick skipped", name, id, project_id);
		return 0;
	}
	if (typeid_new("evt", event_id, sizeof event_id) != 0) {
		xasprintf(cause, "cannot get random bytes for an event id");
		return -1;
	}
	if (event_insert(s, event_id, id, project_id, "tick", "{}", "{}",
	    cause) != 0)
		return -1;
	started = dispatch_event(s, event_id, NULL, NULL, &why);
	if (started < 0) {
		log_error("schedule trigger %s (%s): tick %s: %s", name, id,
		    event_id, why != NULL ? why : "not dispatched");
		free(why);
	} else
		log_debug("schedule trigger %s (%s): tick %s started %d "
		    "session%s", name, id, event_id, started,
		    started == 1 ? "" : "s");
	st = store_prepare(s, "UPDATE schedule_state SET last_at = ? WHERE "
	    "trigger_id = ?");
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return 0;
}

static int
sched_fire_write(struct store *s, void *arg, char **cause)
{
	int64_t now = now_us();
	json_t *due = json_array(), *row;
	sqlite3_stmt *st;
	size_t i;
	int rc;

	(void)arg;
	st = store_prepare(s, "SELECT s.trigger_id, t.name, t.project_id, "
	    "t.schedule, t.timezone, s.next_at FROM schedule_state s JOIN "
	    "triggers t ON t.trigger_id = s.trigger_id WHERE t.source_type = "
	    "'schedule' AND s.next_at IS NOT NULL AND s.next_at <= ? "
	    "ORDER BY s.next_at");
	if (st == NULL) {
		json_decref(due);
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(due, json_pack("[s, s, s, s, s, I]",
		    col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4),
		    (json_int_t)sqlite3_column_int64(st, 5)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(due);
		xasprintf(cause, "reading the schedules: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	json_array_foreach(due, i, row) {
		const char *id = json_string_value(json_array_get(row, 0));
		const char *name = json_string_value(json_array_get(row, 1));
		const char *project = json_string_value(json_array_get(row, 2));
		const char *expr = json_string_value(json_array_get(row, 3));
		const char *tz = json_string_value(json_array_get(row, 4));
		int64_t was = json_integer_value(json_array_get(row, 5)), next;
		char *why = NULL;

		if (sched_fire_one(s, id, name, project, now, cause) != 0) {
			json_decref(due);
			return -1;
		}
		/* The next fire time after now: missed ticks fire once. */
		if ((next = sched_next(expr, tz, was, now, &why)) < 0) {
			log_warning("schedule trigger %s (%s): %s; it will not "
			    "fire again", name, id, why != NULL ? why :
			    "no fire time");
			free(why);
		}
		if (sched_save(s, id, next, expr, tz, cause) != 0) {
			json_decref(due);
			return -1;
		}
	}
	json_decref(due);
	return 0;
}

static void
sched_fire_done(int ok, const char *cause, void *arg)
{
	(void)arg;
	if (!ok) {
		log_error("schedules: the ticks could not be saved: %s; "
		    "retrying in %ds", cause != NULL ? cause : "", SCHED_RETRY_S);
		event_add(sched_ev, &(struct timeval){ SCHED_RETRY_S, 0 });
		return;
	}
	session_schedule();
	sched_arm();
}

static void
sched_fire_cb(evutil_socket_t fd, short events, void *arg)
{
	char *cause = NULL;

	(void)fd;
	(void)events;
	(void)arg;
	if (store_write(controller->store, sched_fire_write, NULL,
	    sched_fire_done, NULL, &cause) != 0) {
		log_error("schedules: %s; retrying in %ds", cause,
		    SCHED_RETRY_S);
		free(cause);
		event_add(sched_ev, &(struct timeval){ SCHED_RETRY_S, 0 });
	}
}

/* One timer for the earliest next_at in the store. */
static void
sched_arm(void)
{
	if (controller == NULL || controller->base == NULL ||
	    controller->store == NULL)
		return;
	if (sched_ev == NULL)
		sched_ev = evtimer_new(controller->base, sched_fire_cb, NULL);
	timer_arm_earliest(sched_ev, "SELECT min(next_at) FROM "
	    "schedule_state WHERE next_at IS NOT NULL");
}
