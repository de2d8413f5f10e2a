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
 * rolled back and every callback hears so.
 */
#include "autokittehd.h"

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
};

static void store_commit_run(struct store_commit *);

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
	return c;
}

void
store_commit_free(struct store_commit *c)
{
	if (c == NULL)
		return;
	event_free(c->ev);
	free(c->waiters);
	free(c);
}

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

static uint64_t
elapsed_us(const struct timespec *from)
{
	struct timespec now;

	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - from->tv_sec) * 1000000 +
	    (int64_t)(now.tv_nsec - from->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
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
	if (fn(s, arg, cause) != 0) {
		/* Its store_on_commit callbacks go with its changes. */
		c->nwaiters = mark;
		exec_sql(db, "ROLLBACK TO w", NULL);
		exec_sql(db, "RELEASE w", NULL);
		return -1;
	}
	if (exec_sql(db, "RELEASE w", &why) != 0) {
		c->nwaiters = mark;
		exec_sql(db, "ROLLBACK TO w", NULL);
		exec_sql(db, "RELEASE w", NULL);
		xasprintf(cause, "the store is unavailable: %s", why);
		free(why);
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
	int ok;

	if (!c->open)
		return;
	ok = exec_sql(db, "COMMIT", &why) == 0;
	if (!ok) {
		log_error("store: commit of %zu writes failed: %s; they were "
		    "rolled back", c->nwaiters, why);
		exec_sql(db, "ROLLBACK", NULL);
	}
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
}

/* Commit the open batch now (shutdown, tests). */
void
store_flush(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	if (c != NULL && c->open) {
		event_del(c->ev);
		store_commit_run(c);
	}
}

size_t
store_pending(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	return c != NULL ? c->nwaiters : 0;
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
