/*
 * store-commit.c: group commit.
 *
 * Every write to the store goes through store_write(). The first write of
 * a batch opens a transaction and activates the commit event; each write
 * runs inside its own SAVEPOINT, so one failing write rolls back alone and
 * the batch goes on. The commit event runs after every callback already
 * active in this turn of the loop, that is, just before the loop would
 * sleep again: all writes made meanwhile commit in one transaction. Only
 * once the batch is durable do we call the completion callbacks, in the
 * order the writes were made (and batches in the order they committed);
 * these send the replies that depend on the write ("persist before
 * replying"). If COMMIT fails, the whole batch is rolled back and every
 * callback hears so.
 *
 * With [store] synchronous = full the batch is durable only once the WAL
 * is on the disk, and that flush is most of a commit's time (an fdatasync
 * of 0.3 to several ms on our virtual disks). It used to run inside COMMIT
 * on the loop thread, so the whole daemon stopped for it. Now the
 * connection runs with SQLite's synchronous = NORMAL (in WAL mode: commits
 * do not sync, checkpoints sync the WAL before copying it into the
 * database and the database before the WAL is reused, so the file is
 * always consistent) and a thread of ours fdatasyncs the WAL after each
 * COMMIT: this is exactly the sync FULL would have made, moved off the
 * loop. The callbacks of a batch run only after an fdatasync that began
 * after its COMMIT returned, so nothing is acknowledged before it is on
 * the disk, as before. While a flush is in flight the loop goes on and
 * the next batch stays open, gathering writes (its readers on this one
 * connection see them, as they always saw the open batch's), and commits
 * as soon as the flush returns: one flush in flight, one batch filling.
 * A failed fdatasync leaves committed data of unknown durability, which
 * we can neither acknowledge nor take back: the daemon exits at once, and
 * recovery at the next start works from what is on the disk.
 *
 * A commit that did not come through here (none should) still gets its
 * flush before sqlite3_step returns, from the WAL hook, which also runs
 * the automatic checkpoints SQLite's default hook would have run.
 */
#include "autokittehd.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STORE_CHECKPOINT_PAGES	1000	/* SQLite's default auto-checkpoint */

struct store_waiter {
	store_done_fn	 fn;
	void		*arg;
};

/* A committed batch whose callbacks wait for its flush. */
struct store_batch {
	TAILQ_ENTRY(store_batch) entry;
	uint64_t		 gen;	/* the flush that makes it durable */
	int			 ok;
	char			*why;
	struct store_waiter	*waiters;
	size_t			 nwaiters;
	struct timespec		 begun;
};
TAILQ_HEAD(store_batches, store_batch);

struct store_commit {
	struct store		*store;
	struct event		*ev;
	int			 open;
	int			 committing;	/* inside our COMMIT */
	struct store_waiter	*waiters;
	size_t			 nwaiters, cap;
	struct timespec		 begun;

	/* Batches committed, in order, whose callbacks have not run. */
	struct store_batches	 batches;
	size_t			 queued_waiters;

	/* The flush thread (synchronous = full only). */
	int			 sync_wal;
	int			 wal_fd;
	dev_t			 wal_dev;
	ino_t			 wal_ino;
	uint64_t		 gen;		/* last flush asked for */
	uint64_t		 synced;	/* last flush done (loop's copy) */
	int			 thread_started;
	pthread_t		 thread;
	pthread_mutex_t		 mtx;
	pthread_cond_t		 cond;
	uint64_t		 t_requested;	/* under mtx */
	uint64_t		 t_synced;	/* under mtx */
	int			 t_errno;	/* under mtx */
	int			 t_quit;	/* under mtx */
	int			 pipe[2];	/* thread -> loop: "flushed" */
	struct event		*ev_synced;
};

static void store_commit_run(struct store_commit *);
static void store_commit_deliver(struct store_commit *);
static void store_commit_synced(struct store_commit *);

static void
store_commit_cb(evutil_socket_t fd, short events, void *arg)
{
	store_commit_run(arg);
}

static void
store_synced_cb(evutil_socket_t fd, short events, void *arg)
{
	struct store_commit *c = arg;
	char buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		;
	store_commit_synced(c);
}

/* The flush thread: fdatasync the WAL for every generation asked for. */
static void *
store_sync_main(void *arg)
{
	struct store_commit *c = arg;
	uint64_t want;
	int rc, err;

	pthread_mutex_lock(&c->mtx);
	for (;;) {
		while (!c->t_quit && c->t_requested == c->t_synced)
			pthread_cond_wait(&c->cond, &c->mtx);
		if (c->t_requested == c->t_synced)
			break;		/* quitting, nothing left to flush */
		want = c->t_requested;
		pthread_mutex_unlock(&c->mtx);
		rc = fdatasync(c->wal_fd);
		err = errno;
		pthread_mutex_lock(&c->mtx);
		if (rc != 0 && c->t_errno == 0)
			c->t_errno = err;
		c->t_synced = want;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->mtx);
		if (write(c->pipe[1], "", 1) == -1) {
			/* Full (EAGAIN): a wakeup is due anyway. */
		}
		pthread_mutex_lock(&c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

/*
 * Open the WAL (again, if it is not the file we hold: SQLite removes it
 * only when the last connection closes, so this is a safeguard) and make
 * its directory entry durable.
 */
static void
store_wal_open(struct store_commit *c)
{
	char *path, *dir, *slash;
	struct stat sb;
	int dfd;

	xasprintf(&path, "%s-wal", store_path(c->store));
	if (c->wal_fd != -1 && stat(path, &sb) == 0 &&
	    sb.st_dev == c->wal_dev && sb.st_ino == c->wal_ino) {
		free(path);
		return;
	}
	if (c->wal_fd != -1) {
		/* Let the thread finish with the old file first. */
		pthread_mutex_lock(&c->mtx);
		while (c->t_requested != c->t_synced)
			pthread_cond_wait(&c->cond, &c->mtx);
		pthread_mutex_unlock(&c->mtx);
		close(c->wal_fd);
	}
	if ((c->wal_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(c->wal_fd, &sb) == -1)
		fatal("store: cannot open %s to flush it", path);
	c->wal_dev = sb.st_dev;
	c->wal_ino = sb.st_ino;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		fatal("store: cannot flush the directory %s", dir);
	close(dfd);
	free(dir);
	free(path);
}

/* Ask the thread for a flush covering every COMMIT made so far. */
static uint64_t
store_sync_request(struct store_commit *c)
{
	sigset_t all, old;

	store_wal_open(c);
	if (!c->thread_started) {
		/* Signals are for the loop thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&c->thread, NULL, store_sync_main, c) != 0)
			fatalx("store: cannot start the flush thread");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		c->thread_started = 1;
	}
	c->gen++;
	pthread_mutex_lock(&c->mtx);
	c->t_requested = c->gen;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mtx);
	return c->gen;
}

/*
 * The WAL hook runs after every commit. A commit of ours is flushed by
 * the thread; any other is flushed here before sqlite3_step returns, as
 * synchronous = FULL would have. Then the automatic checkpoint.
 */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_commit *c = arg;

	if (!c->committing) {
		store_wal_open(c);
		if (fdatasync(c->wal_fd) != 0)
			fatal("store: flushing the WAL failed; exiting with "
			    "what is on the disk");
	}
	if (pages >= STORE_CHECKPOINT_PAGES)
		sqlite3_wal_checkpoint(db, name);
	return SQLITE_OK;
}

struct store_commit *
store_commit_new(struct store *s, struct event_base *base, int sync_wal)
{
	struct store_commit *c = xcalloc(1, sizeof *c);

	c->store = s;
	c->ev = event_new(base, -1, 0, store_commit_cb, c);
	TAILQ_INIT(&c->batches);
	c->wal_fd = -1;
	c->pipe[0] = c->pipe[1] = -1;
	c->sync_wal = sync_wal;
	if (sync_wal) {
		if (pipe2(c->pipe, O_CLOEXEC | O_NONBLOCK) == -1)
			fatal("store: pipe");
		pthread_mutex_init(&c->mtx, NULL);
		pthread_cond_init(&c->cond, NULL);
		c->ev_synced = event_new(base, c->pipe[0], EV_READ | EV_PERSIST,
		    store_synced_cb, c);
		event_add(c->ev_synced, NULL);
		sqlite3_wal_hook(store_db(s), store_wal_hook, c);
	}
	return c;
}

void
store_commit_free(struct store_commit *c)
{
	struct store_batch *b;

	if (c == NULL)
		return;
	if (c->sync_wal) {
		sqlite3_wal_autocheckpoint(store_db(c->store),
		    STORE_CHECKPOINT_PAGES);	/* drops our hook */
		if (c->thread_started) {
			pthread_mutex_lock(&c->mtx);
			c->t_quit = 1;
			pthread_cond_signal(&c->cond);
			pthread_mutex_unlock(&c->mtx);
			pthread_join(c->thread, NULL);
		}
		event_free(c->ev_synced);
		close(c->pipe[0]);
		close(c->pipe[1]);
		if (c->wal_fd != -1)
			close(c->wal_fd);
		pthread_mutex_destroy(&c->mtx);
		pthread_cond_destroy(&c->cond);
	}
	while ((b = TAILQ_FIRST(&c->batches)) != NULL) {
		TAILQ_REMOVE(&c->batches, b, entry);
		free(b->waiters);
		free(b->why);
		free(b);
	}
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

static void
add_waiter(struct store_commit *c, store_done_fn fn, void *arg)
{
	if (c->nwaiters == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->waiters = xreallocarray(c->waiters, c->cap,
		    sizeof *c->waiters);
	}
	c->waiters[c->nwaiters].fn = fn;
	c->waiters[c->nwaiters].arg = arg;
	c->nwaiters++;
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
	add_waiter(c, done, done_arg);
	return 0;
}

/* COMMIT the open batch and queue its callbacks behind its flush. */
static void
store_commit_now(struct store_commit *c)
{
	sqlite3 *db = store_db(c->store);
	struct store_batch *b = xcalloc(1, sizeof *b);

	c->committing = 1;
	b->ok = exec_sql(db, "COMMIT", &b->why) == 0;
	c->committing = 0;
	if (!b->ok) {
		log_error("store: commit of %zu writes failed: %s; they were "
		    "rolled back", c->nwaiters, b->why);
		exec_sql(db, "ROLLBACK", NULL);
	}
	/* A failed batch waits only for the batches before it. */
	b->gen = b->ok && c->sync_wal ? store_sync_request(c) : c->gen;
	b->waiters = c->waiters;
	b->nwaiters = c->nwaiters;
	b->begun = c->begun;
	TAILQ_INSERT_TAIL(&c->batches, b, entry);
	c->queued_waiters += b->nwaiters;
	c->waiters = NULL;
	c->nwaiters = c->cap = 0;
	c->open = 0;
}

/* Call back every batch whose flush is done, in commit order. */
static void
store_commit_deliver(struct store_commit *c)
{
	struct store_batch *b;

	while ((b = TAILQ_FIRST(&c->batches)) != NULL && b->gen <= c->synced) {
		TAILQ_REMOVE(&c->batches, b, entry);
		c->queued_waiters -= b->nwaiters;
		metrics_commit(elapsed_us(&b->begun), b->nwaiters, b->ok);
		/* Callbacks may write again: that starts a new batch. */
		for (size_t i = 0; i < b->nwaiters; i++) {
			if (b->waiters[i].fn != NULL)
				b->waiters[i].fn(b->ok, b->ok ? NULL : b->why,
				    b->waiters[i].arg);
		}
		free(b->waiters);
		free(b->why);
		free(b);
	}
}

/* The thread flushed: take its word, call back, commit what gathered. */
static void
store_commit_synced(struct store_commit *c)
{
	uint64_t synced;
	int err;

	pthread_mutex_lock(&c->mtx);
	synced = c->t_synced;
	err = c->t_errno;
	pthread_mutex_unlock(&c->mtx);
	if (err != 0) {
		errno = err;
		fatal("store: flushing the WAL failed; exiting with what is "
		    "on the disk");
	}
	c->synced = synced;
	store_commit_deliver(c);
	if (c->open && c->synced == c->gen)
		event_active(c->ev, 0, 0);
}

/*
 * End of the loop turn. Without our own flush, commit and call back now.
 * With it, commit unless a flush is in flight: then the batch stays open
 * and commits when that flush returns (store_commit_synced).
 */
static void
store_commit_run(struct store_commit *c)
{
	if (!c->open)
		return;
	if (c->sync_wal && c->synced != c->gen)
		return;
	store_commit_now(c);
	if (!c->sync_wal)
		c->synced = c->gen;
	store_commit_deliver(c);
}

/* Commit the open batch now and wait until it is durable (shutdown, tests). */
void
store_flush(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	if (c == NULL)
		return;
	if (c->open) {
		event_del(c->ev);
		store_commit_now(c);
	}
	if (c->sync_wal) {
		pthread_mutex_lock(&c->mtx);
		while (c->t_synced != c->t_requested)
			pthread_cond_wait(&c->cond, &c->mtx);
		pthread_mutex_unlock(&c->mtx);
		store_commit_synced(c);
	} else {
		c->synced = c->gen;
		store_commit_deliver(c);
	}
}

/* Writes whose callbacks have not run yet: open or awaiting a flush. */
size_t
store_pending(struct store *s)
{
	struct store_commit *c = store_get_commit(s);

	return c != NULL ? c->nwaiters + c->queued_waiters : 0;
}

/*
 * Run fn after the current batch commits (or, when no batch is open, once
 * every batch committed so far is durable: at once if none waits). For
 * code inside a write function whose effects others must act on only once
 * they are durable.
 */
void
store_on_commit(struct store *s, store_done_fn fn, void *arg)
{
	struct store_commit *c = store_get_commit(s);
	struct store_batch *b;

	if (c == NULL) {
		fn(1, NULL, arg);
		return;
	}
	if (c->open) {
		add_waiter(c, fn, arg);
		return;
	}
	if (TAILQ_EMPTY(&c->batches)) {
		fn(1, NULL, arg);
		return;
	}
	/* An empty batch behind the others, already committed. */
	b = xcalloc(1, sizeof *b);
	b->gen = c->gen;
	b->ok = 1;
	b->waiters = xcalloc(1, sizeof *b->waiters);
	b->waiters[0].fn = fn;
	b->waiters[0].arg = arg;
	b->nwaiters = 1;
	clock_gettime(CLOCK_MONOTONIC, &b->begun);
	TAILQ_INSERT_TAIL(&c->batches, b, entry);
	c->queued_waiters++;
}
