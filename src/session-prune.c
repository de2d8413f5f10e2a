/*
 * session-prune.c: [sessions] retention: finished sessions are deleted.
 *
 * Shortly after start, then every minute (every half retention when that is
 * shorter, at least a second apart), a pass deletes the sessions in a final
 * state (completed, error, stopped) that ended more than the retention ago,
 * with everything that refers to them: their log, their calls, their
 * subscriptions and signals (ON DELETE CASCADE). A finished session whose
 * child is still running is kept until the child ends, so that a child's
 * parent_session_id names a session while it runs. Then the events older
 * than the retention that no remaining session started from and no
 * subscription of a live session has yet to read go too, and the GitHub
 * deliveries remembered for longer than the retention.
 *
 * A pass is a series of small writes through group commit (store_write),
 * each in its own turn of the loop: PRUNE_BATCH sessions per write until
 * none is left, then windows of four times as many events examined, and
 * PRUNE_BATCH deliveries, so the loop is never held for long and every
 * other write keeps its ordering and its disk-full handling. Only final sessions are touched, and
 * inside the write that deletes them, so a session cannot end or start
 * between the choice and the deletion. In a store made with auto_vacuum =
 * INCREMENTAL (every store created by this version, see store.c), the last
 * writes of a pass give the free pages beyond an eighth of the pages in use
 * back to the file system; an older store reuses them, so its file stops
 * growing.
 * One info line per pass that deleted something; totals for akctl status
 * and /metrics.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRUNE_INTERVAL_US	(60 * 1000000LL)
#define PRUNE_FIRST_US		(10 * 1000000LL)
#define PRUNE_MIN_INTERVAL_US	1000000LL
#define PRUNE_RETRY_US		(10 * 1000000LL)

#define FINAL_STATES	"('completed', 'error', 'stopped')"

static const char prune_sessions_sql[] =
    "DELETE FROM sessions WHERE session_id IN (SELECT p.session_id FROM "
    "sessions p WHERE p.state IN " FINAL_STATES " AND p.updated_at < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM sessions c WHERE c.parent_session_id = "
    "p.session_id AND c.state NOT IN " FINAL_STATES ") LIMIT ?2)";

/*
 * Events are examined in (created_at, seq) order, a window at a time from
 * where the last write of the pass stopped, so that old events that must
 * stay (a live subscriber has yet to read them) are not examined again by
 * every write.
 */
static const char prune_events_window_sql[] =
    "SELECT created_at, seq FROM events WHERE created_at < ?1 AND "
    "(created_at, seq) > (?2, ?3) ORDER BY created_at, seq LIMIT 1 "
    "OFFSET ?4";

static const char prune_events_sql[] =
    "DELETE FROM events WHERE seq IN (SELECT e.seq FROM events e WHERE "
    "e.created_at < ?1 AND (e.created_at, e.seq) > (?2, ?3) AND "
    "(e.created_at, e.seq) <= (?4, ?5) AND NOT EXISTS (SELECT 1 FROM "
    "sessions s WHERE s.event_id = e.event_id) AND NOT EXISTS (SELECT 1 "
    "FROM subscriptions u JOIN sessions s ON s.session_id = u.session_id "
    "WHERE u.destination_id = e.destination_id AND u.active = 1 AND "
    "u.cursor < e.seq AND s.state NOT IN " FINAL_STATES "))";

static const char prune_deliveries_sql[] =
    "DELETE FROM github_deliveries WHERE delivery_id IN (SELECT "
    "delivery_id FROM github_deliveries WHERE received_at < ?1 LIMIT ?2)";

static struct {
	struct event		*ev;
	int64_t			 retention_us;
	struct prune_batch	 batch;		/* the write in flight */
	int			 in_pass;
	int			 batches;
	int64_t			 pass_sessions, pass_events, pass_deliveries;
	int64_t			 pass_pages;
	struct timespec		 pass_begun;
	uint64_t		 total_sessions, total_events;
	uint64_t		 total_deliveries, passes;
	int64_t			 last_at;	/* wall clock, µs; 0: never */
	int64_t			 last_sessions;
	char			*last_error;
} prune;

static int
prune_delete(struct store *s, const char *sql, int64_t cutoff, int limit,
    int64_t *deleted, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_int64(st, 1, cutoff);
	sqlite3_bind_int(st, 2, limit);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		xasprintf(cause, "pruning: %s", sqlite3_errmsg(store_db(s)));
		store_finalize(st);
		return -1;
	}
	*deleted = sqlite3_changes(store_db(s));
	store_finalize(st);
	return 0;
}

/* The next window of old events; b->events_at/seq move past it. */
static int
prune_events(struct store *s, struct prune_batch *b, char **cause)
{
	int64_t end_at = INT64_MAX, end_seq = INT64_MAX;
	sqlite3_stmt *st = store_prepare(s, prune_events_window_sql);
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_int64(st, 1, b->cutoff);
	sqlite3_bind_int64(st, 2, b->events_at);
	sqlite3_bind_int64(st, 3, b->events_seq);
	sqlite3_bind_int64(st, 4, (int64_t)b->limit * PRUNE_EVENT_WINDOW - 1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		end_at = sqlite3_column_int64(st, 0);
		end_seq = sqlite3_column_int64(st, 1);
	}
	store_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		xasprintf(cause, "pruning: %s", sqlite3_errmsg(store_db(s)));
		return -1;
	}
	if ((st = store_prepare(s, prune_events_sql)) == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_int64(st, 1, b->cutoff);
	sqlite3_bind_int64(st, 2, b->events_at);
	sqlite3_bind_int64(st, 3, b->events_seq);
	sqlite3_bind_int64(st, 4, end_at);
	sqlite3_bind_int64(st, 5, end_seq);
	if (sqlite3_step(st) != SQLITE_DONE) {
		xasprintf(cause, "pruning: %s", sqlite3_errmsg(store_db(s)));
		store_finalize(st);
		return -1;
	}
	b->events = sqlite3_changes(store_db(s));
	store_finalize(st);
	/* A full window: more may follow it. */
	b->more_events = rc == SQLITE_ROW;
	if (b->more_events) {
		b->events_at = end_at;
		b->events_seq = end_seq;
	}
	return 0;
}

/*
 * In an auto_vacuum = INCREMENTAL store, give up to b->vacuum_pages free
 * pages back to the file system, keeping free an eighth of what is in
 * use, for the writes to come.
 */
static int
prune_vacuum(struct store *s, struct prune_batch *b, char **cause)
{
	int64_t mode = 0, free_pages = 0, pages = 0, keep, n;
	char *sql;
	int rc;

	if (store_count(s, "PRAGMA auto_vacuum", &mode) != 0 || mode != 2 ||
	    store_count(s, "PRAGMA freelist_count", &free_pages) != 0 ||
	    store_count(s, "PRAGMA page_count", &pages) != 0)
		return 0;
	keep = (pages - free_pages) / 8;
	n = free_pages - keep;
	if (n <= 0)
		return 0;
	if (n > b->vacuum_pages)
		n = b->vacuum_pages;
	xasprintf(&sql, "PRAGMA incremental_vacuum(%lld)", (long long)n);
	rc = sqlite3_exec(store_db(s), sql, NULL, NULL, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "freeing pages: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	b->pages = n;
	b->more_pages = free_pages - n > keep;
	return 0;
}

/* Does another batch have work left at the same cutoff? */
int
session_prune_more(const struct prune_batch *b)
{
	return b->sessions >= b->limit || b->more_events ||
	    b->deliveries >= b->limit || b->more_pages;
}

/*
 * One batch: up to b->limit sessions that ended before b->cutoff (Unix
 * µs); once fewer are left, the events of the next window of b->limit *
 * PRUNE_EVENT_WINDOW and up to b->limit deliveries older than it, and,
 * with b->vacuum_pages, free pages. A store_write() function; the counts
 * are of this write. The next batch of a pass passes b back, events_at/seq
 * as this one left them.
 */
int
session_prune_write(struct store *s, void *arg, char **cause)
{
	struct prune_batch *b = arg;
	int64_t events_at = b->events_at, events_seq = b->events_seq;

	b->sessions = b->events = b->deliveries = b->pages = 0;
	b->more_events = b->more_pages = 0;
	if (prune_delete(s, prune_sessions_sql, b->cutoff, b->limit,
	    &b->sessions, cause) != 0)
		goto fail;
	/* The events once the sessions are gone, which frees theirs. */
	if (b->sessions >= b->limit)
		return 0;
	if (prune_events(s, b, cause) != 0 ||
	    prune_delete(s, prune_deliveries_sql, b->cutoff, b->limit,
	    &b->deliveries, cause) != 0)
		goto fail;
	/* Pages once nothing is left to delete: the pass's last write. */
	if (b->vacuum_pages > 0 && !session_prune_more(b) &&
	    prune_vacuum(s, b, cause) != 0)
		goto fail;
	return 0;

fail:
	/* Rolled back: the next try examines the same events. */
	b->events_at = events_at;
	b->events_seq = events_seq;
	return -1;
}

static int64_t
prune_interval_us(void)
{
	int64_t half = prune.retention_us / 2;

	if (half >= PRUNE_INTERVAL_US)
		return PRUNE_INTERVAL_US;
	return half > PRUNE_MIN_INTERVAL_US ? half : PRUNE_MIN_INTERVAL_US;
}

static void
prune_arm(int64_t us)
{
	if (prune.ev == NULL)	/* stopped: a write done at shutdown */
		return;
	timer_add_us(prune.ev, (uint64_t)us);
}

static void
prune_pass_end(const char *error)
{
	char retention[32];

	prune.in_pass = 0;
	free(prune.last_error);
	prune.last_error = error != NULL ? xstrdup(error) : NULL;
	if (error != NULL) {
		log_warning("session retention: a prune failed: %s; trying "
		    "again in %llds", error, (long long)(PRUNE_RETRY_US /
		    1000000));
		prune_arm(PRUNE_RETRY_US);
		return;
	}
	/*
	 * The file shrinks at the next checkpoint: now, unless a write is
	 * already open (a passive one, which waits for no one).
	 */
	if (prune.pass_pages > 0 && controller != NULL &&
	    sqlite3_get_autocommit(store_db(controller->store)))
		sqlite3_wal_checkpoint_v2(store_db(controller->store), NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	prune.passes++;
	prune.last_at = now_us();
	prune.last_sessions = prune.pass_sessions;
	metrics_prune_pass(prune.last_at);
	if (prune.pass_sessions + prune.pass_events + prune.pass_deliveries >
	    0) {
		format_duration_ms((uint64_t)prune.retention_us / 1000,
		    retention, sizeof retention);
		log_info("session retention: deleted %lld sessions, %lld "
		    "events and %lld deliveries older than %s in %d writes "
		    "(%llums)%s", (long long)prune.pass_sessions,
		    (long long)prune.pass_events,
		    (long long)prune.pass_deliveries, retention,
		    prune.batches, (unsigned long long)(elapsed_us(
		    &prune.pass_begun) / 1000), prune.pass_pages > 0 ?
		    ", freed pages returned to the file system" : "");
	}
	prune_arm(prune_interval_us());
}

static void
prune_done(int ok, const char *cause, void *arg)
{
	struct prune_batch *b = arg;

	if (!ok) {
		prune_pass_end(cause != NULL ? cause : "not saved");
		return;
	}
	prune.batches++;
	prune.pass_sessions += b->sessions;
	prune.pass_events += b->events;
	prune.pass_deliveries += b->deliveries;
	prune.pass_pages += b->pages;
	prune.total_sessions += (uint64_t)b->sessions;
	prune.total_events += (uint64_t)b->events;
	prune.total_deliveries += (uint64_t)b->deliveries;
	metrics_pruned((uint64_t)b->sessions, (uint64_t)b->events);
	if (session_prune_more(b))
		prune_arm(0);	/* the next batch, in a turn of its own */
	else
		prune_pass_end(NULL);
}

static void
prune_cb(evutil_socket_t fd, short events, void *arg)
{
	char *cause = NULL;

	if (!prune.in_pass) {
		prune.in_pass = 1;
		prune.batches = 0;
		prune.pass_sessions = prune.pass_events = 0;
		prune.pass_deliveries = prune.pass_pages = 0;
		clock_gettime(CLOCK_MONOTONIC, &prune.pass_begun);
		memset(&prune.batch, 0, sizeof prune.batch);
		prune.batch.cutoff = now_us() - prune.retention_us;
		prune.batch.limit = PRUNE_BATCH;
		prune.batch.vacuum_pages = PRUNE_VACUUM_PAGES;
	}
	if (store_write(controller->store, session_prune_write, &prune.batch,
	    prune_done, &prune.batch, &cause) != 0) {
		prune_pass_end(cause != NULL ? cause : "the store is "
		    "unavailable");
		free(cause);
	}
}

/* At start: arm the first pass, unless sessions are kept forever. */
void
session_prune_start(void)
{
	int64_t first;

	prune.retention_us = (int64_t)controller->config->
	    sessions_retention_ms * 1000;
	if (prune.retention_us == 0) {
		log_info("session retention: off, finished sessions are kept");
		return;
	}
	if (prune.ev == NULL)
		prune.ev = evtimer_new(controller->base, prune_cb, NULL);
	first = prune_interval_us();
	prune_arm(first < PRUNE_FIRST_US ? first : PRUNE_FIRST_US);
}

void
session_prune_stop(void)
{
	if (prune.ev != NULL)
		event_free(prune.ev);
	prune.ev = NULL;
	free(prune.last_error);
	prune.last_error = NULL;
}

/* For Status: the retention, what was deleted since start, and when. */
json_t *
session_prune_json(void)
{
	json_t *o = json_object();
	char retention[32];

	if (prune.retention_us == 0)
		snprintf(retention, sizeof retention, "off");
	else
		format_duration_ms((uint64_t)prune.retention_us / 1000,
		    retention, sizeof retention);
	json_object_set_new(o, "retention", json_string(retention));
	json_object_set_new(o, "passes", json_integer((json_int_t)
	    prune.passes));
	json_object_set_new(o, "pruned_sessions", json_integer((json_int_t)
	    prune.total_sessions));
	json_object_set_new(o, "pruned_events", json_integer((json_int_t)
	    prune.total_events));
	json_object_set_new(o, "pruned_deliveries", json_integer((json_int_t)
	    prune.total_deliveries));
	if (prune.last_at != 0) {
		json_object_set_new(o, "last_pass_at",
		    timestamp_us_json(prune.last_at));
		json_object_set_new(o, "last_pass_sessions", json_integer(
		    (json_int_t)prune.last_sessions));
	}
	if (prune.last_error != NULL)
		json_object_set_new(o, "last_error",
		    json_string(prune.last_error));
	return o;
}
