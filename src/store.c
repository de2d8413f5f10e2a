/*
 * store.c: the SQLite store.
 *
 * autokittehd alone opens the database (data_dir/autokitteh.db). It runs in
 * WAL mode with synchronous FULL by default (an acknowledged commit survives
 * power loss) or NORMAL (survives a crash of the process), foreign keys on,
 * and a busy timeout in case an operator opens it with sqlite3 meanwhile.
 * At open we run PRAGMA quick_check when the last stop was not clean (see
 * store_left_wal()) or [store] check = always, and apply migrations
 * (store-migrate.c); any failure refuses to start with a sentence saying
 * how to recover.
 * Writes go through group commit (store-commit.c).
 */
#include "autokittehd.h"

#undef sqlite3_finalize		/* the real one, here */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Prepared statements are cached by their SQL text: an activity runs about
 * a dozen statements, and compiling them each time was a fifth of the
 * daemon's time. store_prepare() hands out the cached statement when it is
 * free (a second, nested user of the same text gets a fresh one), and
 * store_finalize() -- what sqlite3_finalize() means everywhere else, see
 * autokittehd.h -- resets a cached statement instead of destroying it.
 */
#define STMT_CACHE_SIZE	1024	/* a power of two */

struct stmt_entry {
	char		*sql;
	sqlite3_stmt	*st;
	int		 in_use;
};

struct store {
	sqlite3			*db;
	char			*path;
	int			 synchronous;
	struct stmt_entry	 cache[STMT_CACHE_SIZE];
	size_t			 ncached;
	struct store		*next_open;
	struct store_commit	*commit;
};

static struct store *open_stores;	/* for store_finalize */

static int
store_exec(sqlite3 *db, const char *sql, char **cause)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		xasprintf(cause, "%s: %s", sql, err != NULL ? err :
		    sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* The refusal for a damaged store, with the way out. */
static void
store_corrupt_cause(const char *path, const char *detail, char **cause)
{
	xasprintf(cause, "the store %s failed its integrity check (%s). "
	    "Stop here: back up the data directory, then try "
	    "'sqlite3 %s .recover | sqlite3 recovered.db' and move "
	    "recovered.db into place, or restore a backup", path, detail,
	    path);
}

/* PRAGMA quick_check: "ok", or the first problem found. */
static int
store_quick_check(sqlite3 *db, const char *path, char **cause)
{
	sqlite3_stmt *st;
	const char *row;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) !=
	    SQLITE_OK) {
		xasprintf(cause, "the store %s cannot be checked: %s", path,
		    sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	row = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (row == NULL || strcmp(row, "ok") != 0) {
		store_corrupt_cause(path, row != NULL ? row :
		    sqlite3_errmsg(db), cause);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * Did the last process to use the store stop without closing it? The last
 * connection to close a WAL database checkpoints it and deletes the -wal
 * file; a process killed, or a machine that lost power, leaves it behind.
 * Checked before we open it, since opening makes one. A stop that could
 * not checkpoint (a reader held it) also leaves it: checked then too.
 */
static int
store_left_wal(const char *path)
{
	struct stat sb;
	char *wal;
	int left;

	xasprintf(&wal, "%s-wal", path);
	left = lstat(wal, &sb) == 0 || errno != ENOENT;
	free(wal);
	return left;
}

/*
 * quick_check reads the whole file (5 ms per MB here): after a clean stop
 * SQLite left nothing to recover, so by default only a crash pays for it.
 */
static int
store_check(sqlite3 *db, const char *path, int check, int unclean,
    char **cause)
{
	struct timespec t0;

	if (!unclean && check != STORE_CHECK_ALWAYS) {
		log_info("store: the last stop was clean (no -wal file left): "
		    "not checked ([store] check = always checks at every "
		    "start)");
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (store_quick_check(db, path, cause) != 0)
		return -1;
	log_info("store: %s: quick_check ok in %.0f ms", unclean ? "the last "
	    "stop was not clean (a -wal file was left)" : "[store] check = "
	    "always", elapsed_us(&t0) / 1000.0);
	return 0;
}

/* A store written by a newer autokittehd is refused, untouched. */
static int
store_check_not_newer(sqlite3 *db, const char *path, char **cause)
{
	int version;

	if (store_schema_version(db, &version) != 0) {
		xasprintf(cause, "cannot open the store %s: %s (is it an "
		    "SQLite database?)", path, sqlite3_errmsg(db));
		return -1;
	}
	if (version > store_latest_schema())
		return store_migrate(db, cause);	/* says why it refuses */
	return 0;
}

/* An empty database: no schema version, no table yet. */
static int
store_fresh(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version, fresh = 0;

	if (store_schema_version(db, &version) != 0 || version != 0)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1,
	    &st, NULL) != SQLITE_OK)
		return 0;
	fresh = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0;
	sqlite3_finalize(st);
	return fresh;
}

struct store *
store_open(const char *path, int synchronous, int check,
    struct event_base *base, char **cause)
{
	struct store *s;
	sqlite3 *db = NULL;
	int rc, unclean = store_left_wal(path);

	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		xasprintf(cause, "cannot open the store %s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	/* Refuse a newer schema before changing anything (WAL persists). */
	if (store_check_not_newer(db, path, cause) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	/*
	 * A new store frees the pages of pruned sessions back to the file
	 * system on request (session-prune.c). auto_vacuum can only be set
	 * before the first table; an older store keeps its free pages for
	 * reuse (a VACUUM converts it, offline: see autokitteh.conf(5)).
	 */
	if (store_fresh(db) &&
	    store_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", cause) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	if (store_exec(db, "PRAGMA journal_mode = WAL", cause) != 0 ||
	    store_exec(db, synchronous == STORE_SYNC_FULL ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	    cause) != 0 ||
	    store_exec(db, "PRAGMA foreign_keys = ON", cause) != 0) {
		char *why = *cause;

		if ((sqlite3_errcode(db) & 0xff) == SQLITE_CORRUPT)
			store_corrupt_cause(path, sqlite3_errmsg(db), cause);
		else
			xasprintf(cause, "cannot open the store %s: %s (is it "
			    "an SQLite database?)", path, sqlite3_errmsg(db));
		free(why);
		sqlite3_close(db);
		return NULL;
	}
	if (store_check(db, path, check, unclean, cause) != 0 ||
	    store_migrate(db, cause) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->db = db;
	s->path = xstrdup(path);
	s->next_open = open_stores;
	open_stores = s;
	s->synchronous = synchronous;
	if (base != NULL)
		s->commit = store_commit_new(s, base);
	return s;
}

/* Commit what is pending, then close. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->commit != NULL) {
		/* A done callback may write again: flush until quiet. */
		do
			store_flush(s);
		while (store_pending(s) > 0);
		store_commit_free(s->commit);
	}
	for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
		if (s->cache[i].sql != NULL) {
			sqlite3_finalize(s->cache[i].st);
			free(s->cache[i].sql);
		}
	}
	for (struct store **p = &open_stores; *p != NULL; p = &(*p)->next_open) {
		if (*p == s) {
			*p = s->next_open;
			break;
		}
	}
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_warning("closing the store: %s", sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

const char *
store_path(struct store *s)
{
	return s->path;
}

int
store_synchronous(struct store *s)
{
	return s->synchronous;
}

struct store_commit *
store_get_commit(struct store *s)
{
	return s->commit;
}

static uint64_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int
store_stats(struct store *s, struct store_stats *stats)
{
	char *wal;

	xasprintf(&wal, "%s-wal", s->path);
	stats->size_bytes = file_size(s->path);
	stats->wal_size_bytes = file_size(wal);
	free(wal);
	return store_schema_version(s->db, &stats->schema_version);
}

static int
fsync_path(const char *path, char **cause)
{
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		xasprintf(cause, "cannot open %s to sync it: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fsync(fd) == -1) {
		xasprintf(cause, "cannot sync %s: %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

/*
 * Make what has committed durable now, whatever synchronous says: with
 * NORMAL a WAL commit is written but not synced. fsync reaches the pages
 * SQLite wrote through its own descriptors. For the rare step that must
 * not be undone by a power cut, such as a key rotation (secrets-rotate.c).
 */
int
store_sync(struct store *s, char **cause)
{
	char *wal;
	int rc;

	xasprintf(&wal, "%s-wal", s->path);
	rc = fsync_path(wal, cause);
	free(wal);
	if (rc == 0)
		rc = fsync_path(s->path, cause);
	return rc;
}

static size_t
stmt_hash(const char *sql)
{
	size_t h = 5381;

	for (; *sql != '\0'; sql++)
		h = h * 33 + (unsigned char)*sql;
	return h & (STMT_CACHE_SIZE - 1);
}

/* The entry for sql: its own slot, or the empty slot where it would go. */
static struct stmt_entry *
stmt_slot(struct store *s, const char *sql)
{
	size_t i = stmt_hash(sql);

	for (size_t n = 0; n < STMT_CACHE_SIZE; n++) {
		struct stmt_entry *e = &s->cache[(i + n) & (STMT_CACHE_SIZE - 1)];

		if (e->sql == NULL || strcmp(e->sql, sql) == 0)
			return e;
	}
	return NULL;
}

sqlite3_stmt *
store_prepare(struct store *s, const char *sql)
{
	struct stmt_entry *e = stmt_slot(s, sql);
	sqlite3_stmt *st;

	if (e != NULL && e->sql != NULL && !e->in_use) {
		e->in_use = 1;
		return e->st;
	}
	if (e != NULL && e->sql == NULL && s->ncached < STMT_CACHE_SIZE / 2) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &st, NULL) != SQLITE_OK) {
			log_error("store: preparing \"%s\": %s", sql,
			    sqlite3_errmsg(s->db));
			return NULL;
		}
		e->sql = xstrdup(sql);
		e->st = st;
		e->in_use = 1;
		s->ncached++;
		return st;
	}

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("store: preparing \"%s\": %s", sql,
		    sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

/* Run a "SELECT count(*) ..." style query. */
int
store_count(struct store *s, const char *sql, int64_t *count)
{
	return store_count_arg(s, sql, NULL, count);
}

/* The same with one "?" bound to arg (if not NULL). */
int
store_count_arg(struct store *s, const char *sql, const char *arg,
    int64_t *count)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int rc;

	*count = 0;
	if (st == NULL)
		return -1;
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	store_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Sessions in one state, from the counts the store's triggers keep
 * (migration 9): a constant cost however many sessions are kept. A state
 * no session has been in counts 0.
 */
int
store_count_sessions(struct store *s, const char *state, int64_t *count)
{
	return store_count_arg(s, "SELECT coalesce(sum(n), 0) FROM "
	    "session_counts WHERE state = ?", state, count);
}

/*
 * sqlite3_finalize() for statements from store_prepare(): a cached one is
 * reset for its next user, any other finalized.
 */
int
store_finalize(sqlite3_stmt *st)
{
	sqlite3 *db;
	const char *sql;

	if (st == NULL)
		return SQLITE_OK;
	db = sqlite3_db_handle(st);
	sql = sqlite3_sql(st);
	for (struct store *s = open_stores; s != NULL && sql != NULL;
	    s = s->next_open) {
		struct stmt_entry *e;

		if (s->db != db)
			continue;
		e = stmt_slot(s, sql);
		if (e != NULL && e->st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			e->in_use = 0;
			return SQLITE_OK;
		}
		break;
	}
	return sqlite3_finalize(st);
}
