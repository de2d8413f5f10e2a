/*
 * store-commit.c: group commit.
 *
 * Every write to the store goes through store_write(). The first write of
 * a batch opens a transaction and activates the commit event; each write
 * runs inside its own SAVEPOINT, so one failing write rolls back alone and
 * the batch goes on. The commit event runs after every callback already
 * active in this turn of the loop, that is, just before the loop would
 * sleep again: all writes made meanwhile commit in one transaction and one
 * fsync. Only after COMMIT returns do we call the completion callbacks, in
 * the order the writes were made; these send the replies that depend on the
 * write ("persist before replying"). If COMMIT fails, the whole batch is
 * rolled back and every callback hears so. So does every callback of a
 * batch SQLite rolled back itself (it may, on SQLITE_FULL or an I/O
 * error inside a write), at the end of the turn.
 *
 * Disk full (SQLITE_FULL, in a write or at COMMIT): the store is "full"
 * until a commit succeeds. Writes are still tried (each is a probe), their
 * callers hear a cause naming the full disk and answer 503 or wait
 * (sessions park, session.c); /readyz and Status say so, and once a second
 * a one-page write tries whether space has come back, so the store leaves
 * that state by itself when it has.
 */
#include "autokittehd.h"
#include "failpoint.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store_waiter {
	store_done_fn	 fn;
	void		*arg;
};

struct store_commit {
	struct store		*store;
	struct event		*ev;
	int			 open;
	struct store_waiter	*waiters;
	size_t			 nwaiters, cap;
	struct timespec		 begun;
	struct store_waiter	*doomed;	/* of a batch SQLite rolled back */
	size_t			 ndoomed;
	char			*doomed_cause;
	int			 full;		/* SQLITE_FULL since the last commit */
	struct event		*probe;		/* while full, each second */
};

#define STORE_FULL_CAUSE	"the disk holding the store is full"

static void store_commit_run(struct store_commit *);
static void store_probe_cb(evutil_socket_t, short, void *);

static int
exec_sql(sqlite3 *db, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	if (cause != NULL)
		xasprintf(cause, "%s", err != NULL ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return -1;
}

static void
store_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	store_commit_run(arg);
}

struct store_commit *
store_commit_new(struct store *s, struct event_base *base)
{
	struct store_commit *c = xcalloc(1, sizeof *c);

	c->store = s;
	c->ev = event_new(base, -1, 0, store_commit_cb, c);
	c->probe = evtimer_new(base, store_probe_cb, c);
	return c;
}

void
store_commit_free(struct store_commit *c)
{
	if (c == NULL)
		return;
	event_free(c->ev);
	event_free(c->probe);
	free(c->waiters);
	free(c->doomed);
	free(c->doomed_cause);
	free(c);
}

/* Did the last statement fail because the disk is full? */
static int
errcode_full(sqlite3 *db)
{
	return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL;
}

static void
store_set_full(struct store_commit *c, int full, const char *why)
{
	if (full)
		metrics_store_full_error();
	if (full == c->full)
		return;
	c->full = full;
	metrics_store_full(full);
	if (full) {
		log_error("store: %s: changes to %s are refused until space "
		    "is freed; trying again every second", why,
		    store_path(c->store));
		notify_status("disk full: the store cannot save changes");
		event_add(c->probe, &(struct timeval){ 1, 0 });
	} else {
		log_notice("store: space is available again: changes are "
		    "saved");
		notify_status("ready");
		event_del(c->probe);
	}
}

int
store_is_full(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	return c != NULL && c->full;
}

/* The probe: a one-page write (the schema version, unchanged). */
static int
store_probe_write(struct store *s, void *arg, char **cause)
{
	char *sql;
	int version, rc;

	if (store_schema_version(store_db(s), &version) != 0) {
		xasprintf(cause, "%s", sqlite3_errmsg(store_db(s)));
		return -1;
	}
	xasprintf(&sql, "PRAGMA user_version = %d", version);
	rc = exec_sql(store_db(s), sql, cause);
	free(sql);
	return rc;
}

static void
store_probe_done(int ok, const char *cause, void *arg)
{
	struct store_commit *c = arg;

	if (c->full)
		event_add(c->probe, &(struct timeval){ 1, 0 });
}

static void
store_probe_cb(evutil_socket_t fd, short events, void *arg)
{
	struct store_commit *c = arg;
	char *cause = NULL;

	if (store_write(c->store, store_probe_write, NULL, store_probe_done, c,
	    &cause) != 0) {
		free(cause);
		if (c->full)
			event_add(c->probe, &(struct timeval){ 1, 0 });
	}
}

/*
 * SQLite rolled the open batch back by itself: its callbacks hear so at
 * the end of this turn (not now: our caller may be one of theirs), and
 * the next write opens a new batch.
 */
static void
store_doom_batch(struct store_commit *c, const char *why)
{
	log_error("store: a batch of %zu writes was rolled back: %s",
	    c->nwaiters, why);
	if (c->ndoomed == 0) {
		free(c->doomed_cause);
		c->doomed_cause = xstrdup(why);
	}
	c->doomed = xreallocarray(c->doomed, c->ndoomed + c->nwaiters,
	    sizeof *c->doomed);
	memcpy(c->doomed + c->ndoomed, c->waiters, c->nwaiters *
	    sizeof *c->waiters);
	c->ndoomed += c->nwaiters;
	metrics_commit(elapsed_us(&c->begun), c->nwaiters, 0);
	c->nwaiters = 0;
	c->open = 0;
	event_active(c->ev, 0, 0);
}

/*
 * Run fn inside the current batch. Returns -1 with *cause when fn (or the
 * savepoint around it) fails; its changes are then rolled back and done is
 * never called. Otherwise done is called once the batch has committed.
 */
int
store_write(struct store *s, store_write_fn fn, void *arg, store_done_fn done,
    void *done_arg, char **cause)
{
	struct store_commit *c = store_get_commit(s);
	sqlite3 *db = store_db(s);
	char *why = NULL;
	size_t mark;

	if (c == NULL) {
		xasprintf(cause, "the store was opened without an event loop "
		    "and cannot take writes");
		return -1;
	}
	if (c->open && sqlite3_get_autocommit(db))
		store_doom_batch(c, "the transaction ended early");
	if (!c->open) {
		if (exec_sql(db, "BEGIN IMMEDIATE", &why) != 0) {
			xasprintf(cause, "the store is unavailable: %s", why);
			free(why);
			return -1;
		}
		c->open = 1;
		clock_gettime(CLOCK_MONOTONIC, &c->begun);
		event_active(c->ev, 0, 0);
	}
	if (exec_sql(db, "SAVEPOINT w", &why) != 0) {
		xasprintf(cause, "the store is unavailable: %s", why);
		free(why);
		return -1;
	}
	mark = c->nwaiters;
	if (fn(s, arg, cause) != 0 || exec_sql(db, "RELEASE w", &why) != 0) {
		int full = errcode_full(db);

		/* Its store_on_commit callbacks go with its changes. */
		c->nwaiters = mark;
		if (why != NULL) {
			xasprintf(cause, "the store is unavailable: %s", why);
			free(why);
		}
		if (full) {
			why = *cause;
			xasprintf(cause, STORE_FULL_CAUSE ": %s", why != NULL ?
			    why : sqlite3_errmsg(db));
			free(why);
			store_set_full(c, 1, *cause);
		}
		if (sqlite3_get_autocommit(db))
			store_doom_batch(c, *cause != NULL ? *cause :
			    sqlite3_errmsg(db));
		else {
			exec_sql(db, "ROLLBACK TO w", NULL);
			exec_sql(db, "RELEASE w", NULL);
		}
		return -1;
	}
	if (c->nwaiters == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->waiters = xreallocarray(c->waiters, c->cap,
		    sizeof *c->waiters);
	}
	c->waiters[c->nwaiters].fn = done;
	c->waiters[c->nwaiters].arg = done_arg;
	c->nwaiters++;
	return 0;
}

static void
store_commit_run(struct store_commit *c)
{
	sqlite3 *db = store_db(c->store);
	struct store_waiter *waiters;
	size_t n;
	char *why = NULL;
	int ok, was_full = c->full;

	/* A batch SQLite rolled back earlier in this turn. */
	if (c->ndoomed > 0) {
		waiters = c->doomed;
		n = c->ndoomed;
		why = c->doomed_cause;
		c->doomed = NULL;
		c->ndoomed = 0;
		c->doomed_cause = NULL;
		for (size_t i = 0; i < n; i++) {
			if (waiters[i].fn != NULL)
				waiters[i].fn(0, why, waiters[i].arg);
		}
		free(waiters);
		free(why);
		why = NULL;
	}
	if (!c->open)
		return;
	FAILPOINT("before-commit");
	ok = exec_sql(db, "COMMIT", &why) == 0;
	if (!ok) {
		int full = errcode_full(db);

		if (full) {
			char *detail = why;

			xasprintf(&why, STORE_FULL_CAUSE ": %s", detail);
			free(detail);
		}
		log_error("store: commit of %zu writes failed: %s; they were "
		    "rolled back", c->nwaiters, why);
		exec_sql(db, "ROLLBACK", NULL);
		if (full)
			store_set_full(c, 1, why);
	} else
		store_set_full(c, 0, NULL);
	metrics_commit(elapsed_us(&c->begun), c->nwaiters, ok);

	/* Callbacks may write again: that starts a new batch. */
	waiters = c->waiters;
	n = c->nwaiters;
	c->waiters = NULL;
	c->nwaiters = c->cap = 0;
	c->open = 0;
	for (size_t i = 0; i < n; i++) {
		if (waiters[i].fn != NULL)
			waiters[i].fn(ok, ok ? NULL : why, waiters[i].arg);
	}
	free(waiters);
	free(why);
	/* Sessions that could not start while the disk was full. */
	if (ok && was_full)
		session_schedule();
}

/* Commit the open batch now (shutdown, tests). */
void
store_flush(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	if (c != NULL && (c->open || c->ndoomed > 0)) {
		event_del(c->ev);
		store_commit_run(c);
	}
}

size_t
store_pending(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	return c != NULL ? c->nwaiters + c->ndoomed : 0;
}

/*
 * Run fn after the current batch commits (or at once, with ok = 1, when no
 * batch is open). For code inside a write function whose effects others
 * must act on only once they are durable.
 */
void
store_on_commit(struct store *s, store_done_fn fn, void *arg)
{
	struct store_commit *c = store_get_commit(s);

	if (c == NULL || !c->open) {
		fn(1, NULL, arg);
		return;
	}
	if (c->nwaiters == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->waiters = xreallocarray(c->waiters, c->cap,
		    sizeof *c->waiters);
	}
	c->waiters[c->nwaiters].fn = fn;
	c->waiters[c->nwaiters].arg = arg;
	c->nwaiters++;
}
