/*
 * check-store.c: unit tests for src/store.c, store-migrate.c and
 * store-commit.c.
 *
 * Opening: a fresh store gets the schema, a re-opened one keeps its data, a
 * newer, foreign or corrupt file is refused with a sentence and left alone.
 * Group commit: nothing is acknowledged before COMMIT, one failing write
 * rolls back alone, a failed COMMIT fails the whole batch, and what other
 * connections see changes only at COMMIT. A second sqlite3 connection to
 * the same file plays the operator's `sqlite3` shell. Retention: a prune
 * write deletes only final sessions ended before the cutoff, with their
 * rows, in batches, and gives the pages back.
 */
#include "autokittehd.h"
#include "unit-sqlite.h"

#include <check.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[64];
static char *db_path;

static void
tmpdir_teardown(void)
{
	char cmd[128];

	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	tmpdir[0] = '\0';
	free(db_path);
	db_path = NULL;
}

static void
tmpdir_setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&db_path, "%s/autokitteh.db", tmpdir);
}



/* A second connection, as an operator's sqlite3 shell would be. */
static sqlite3 *
other_connection(void)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void *
read_file(const char *path, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	p = xmalloc((size_t)st.st_size);
	ck_assert_int_eq(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}


/* ---- opening ---- */

START_TEST(fresh_schema)
{
	struct store *s = open_store_at(db_path, NULL);
	struct store_stats stats;
	int version = -1;
	int64_t n;

	ck_assert_int_ge(store_latest_schema(), 1);
	ck_assert_int_eq(store_schema_version(store_db(s), &version), 0);
	ck_assert_int_eq(version, store_latest_schema());
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM "
	    "sqlite_master WHERE type = 'table' AND name IN ('tokens', "
	    "'projects', 'deployments', 'sessions')"), 4);
	ck_assert_int_eq(store_count(s, "SELECT count(*) FROM tokens", &n), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(store_count(s, "SELECT nope FROM nowhere", &n), -1);
	ck_assert_str_eq(store_path(s), db_path);
	ck_assert_int_eq(store_synchronous(s), STORE_SYNC_FULL);
	ck_assert_ptr_null(store_get_commit(s));
	ck_assert_uint_eq(store_pending(s), 0);

	/* session_schedule()'s query reads only startable sessions. */
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM "
	    "sqlite_master WHERE type = 'index' AND name = "
	    "'sessions_startable'"), 1);

	/* The pragmas store_open promises. */
	ck_assert_int_eq(count_rows(store_db(s), "PRAGMA foreign_keys"), 1);
	ck_assert_int_eq(count_rows(store_db(s), "PRAGMA synchronous"), 2);
	/* A new store can give pruned pages back (session-prune.c). */
	ck_assert_int_eq(count_rows(store_db(s), "PRAGMA auto_vacuum"), 2);

	ck_assert_int_eq(store_stats(s, &stats), 0);
	ck_assert_uint_gt(stats.size_bytes, 0);
	ck_assert_int_eq(stats.schema_version, store_latest_schema());
	store_close(s);
	store_close(NULL);
}
END_TEST

START_TEST(sync_normal)
{
	char *cause = NULL;
	struct store *s = store_open(db_path, STORE_SYNC_NORMAL,
	    STORE_CHECK_ALWAYS, NULL, &cause);
	sqlite3_stmt *st;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(store_synchronous(s), STORE_SYNC_NORMAL);
	ck_assert_int_eq(count_rows(store_db(s), "PRAGMA synchronous"), 1);
	ck_assert_int_eq(sqlite3_prepare_v2(store_db(s), "PRAGMA journal_mode",
	    -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	store_close(s);
}
END_TEST

START_TEST(reopen_keeps_data)
{
	struct store *s = open_store_at(db_path, NULL);
	int version = -1;

	exec_ok(store_db(s), "INSERT INTO projects VALUES ('prj_1', 'p', 1)");
	store_close(s);

	s = open_store_at(db_path, NULL);
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM projects "
	    "WHERE project_id = 'prj_1'"), 1);
	ck_assert_int_eq(store_schema_version(store_db(s), &version), 0);
	ck_assert_int_eq(version, store_latest_schema());
	store_close(s);
}
END_TEST

START_TEST(newer_schema_refused)
{
	struct store *s = open_store_at(db_path, NULL);
	char *cause = NULL, *sql, *want;
	void *before, *after;
	size_t before_len, after_len;
	sqlite3 *db;

	exec_ok(store_db(s), "INSERT INTO projects VALUES ('prj_1', 'p', 1)");
	xasprintf(&sql, "PRAGMA user_version = %d", store_latest_schema() + 1);
	exec_ok(store_db(s), sql);
	free(sql);
	store_close(s);
	before = read_file(db_path, &before_len);

	ck_assert_ptr_null(store_open(db_path, STORE_SYNC_FULL,
	    STORE_CHECK_ALWAYS, NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	xasprintf(&want, "the store has schema version %d but this "
	    "autokittehd (" PACKAGE_VERSION ") knows versions up to %d: it was "
	    "written by a newer autokittehd; run that version or restore a "
	    "backup made for this one", store_latest_schema() + 1,
	    store_latest_schema());
	ck_assert_str_eq(cause, want);
	ck_assert_ptr_nonnull(strstr(cause, "newer autokittehd"));
	free(want);
	free(cause);

	after = read_file(db_path, &after_len);
	ck_assert_uint_eq(before_len, after_len);
	ck_assert_msg(memcmp(before, after, before_len) == 0,
	    "the refused store was modified");
	free(before);
	free(after);

	db = other_connection();
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"),
	    store_latest_schema() + 1);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM projects"), 1);
	sqlite3_close(db);
}
END_TEST

/* An older store (here: version 0 with other tables) is migrated. */
START_TEST(migrate_from_empty)
{
	sqlite3 *db;
	struct store *s;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	exec_ok(db, "CREATE TABLE unrelated (x); INSERT INTO unrelated "
	    "VALUES (1)");
	sqlite3_close(db);
	s = open_store_at(db_path, NULL);
	ck_assert_int_eq(count_rows(store_db(s), "PRAGMA user_version"),
	    store_latest_schema());
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM unrelated"),
	    1);
	store_close(s);
}
END_TEST

/* Session counts by state follow inserts, state changes and deletes. */
static void
assert_counts_match(struct store *s)
{
	static const char *const states[] = {
		"created", "running", "completed", "error", "stopped", "none",
	};

	for (size_t i = 0; i < nitems(states); i++) {
		char *sql;
		int64_t kept = -1;

		xasprintf(&sql, "SELECT count(*) FROM sessions WHERE state = "
		    "'%s'", states[i]);
		ck_assert_int_eq(store_count_sessions(s, states[i], &kept), 0);
		ck_assert_msg(kept == count_rows(store_db(s), sql),
		    "%s: counted %lld", states[i], (long long)kept);
		free(sql);
	}
}

START_TEST(session_counts)
{
	struct store *s = open_store_at(db_path, NULL);
	sqlite3 *db = store_db(s);
	int64_t n = -1;

	exec_ok(db, "INSERT INTO projects VALUES ('prj_1', 'p', 1)");
	ck_assert_int_eq(store_count_sessions(s, "created", &n), 0);
	ck_assert_int_eq(n, 0);
	for (int i = 0; i < 30; i++) {
		char *sql;

		xasprintf(&sql, "INSERT INTO sessions (session_id, project_id, "
		    "state, created_at) VALUES ('ses_%d', 'prj_1', 'created', "
		    "%d)", i, i);
		exec_ok(db, sql);
		free(sql);
	}
	assert_counts_match(s);
	exec_ok(db, "UPDATE sessions SET state = 'running' WHERE created_at "
	    "< 20");
	exec_ok(db, "UPDATE sessions SET state = 'completed' WHERE created_at "
	    "< 12");
	exec_ok(db, "UPDATE sessions SET state = 'error' WHERE created_at = 12");
	/* Not a change of state, and a change of another column. */
	exec_ok(db, "UPDATE sessions SET state = state, attempts = 3");
	assert_counts_match(s);
	ck_assert_int_eq(store_count_sessions(s, "completed", &n), 0);
	ck_assert_int_eq(n, 12);
	exec_ok(db, "DELETE FROM sessions WHERE created_at < 5 OR "
	    "created_at = 12");
	assert_counts_match(s);
	/* A rolled back change leaves the counts as they were. */
	exec_ok(db, "BEGIN; UPDATE sessions SET state = 'stopped'; ROLLBACK");
	assert_counts_match(s);
	ck_assert_int_eq(store_count_sessions(s, "running", &n), 0);
	ck_assert_int_eq(n, 7);
	store_close(s);
}
END_TEST

/* A store made before the counts gets them from its rows. */
START_TEST(session_counts_migrated)
{
	struct store *s = open_store_at(db_path, NULL);
	sqlite3 *db = store_db(s);
	int64_t n = -1;
	char *sql;

	/* Back to schema 8, before the counts (9), sessions_startable (10)
	 * and the list indexes (12, 13). */
	xasprintf(&sql, "DROP TRIGGER session_counts_insert; DROP TRIGGER "
	    "session_counts_update; DROP TRIGGER session_counts_delete; "
	    "DROP TABLE session_counts; DROP INDEX sessions_startable; "
	    "DROP INDEX sessions_by_state_created; PRAGMA user_version = %d",
	    8);
	exec_ok(db, sql);
	free(sql);
	exec_ok(db, "INSERT INTO projects VALUES ('prj_1', 'p', 1);"
	    "INSERT INTO sessions (session_id, project_id, state, created_at) "
	    "VALUES ('ses_1', 'prj_1', 'completed', 1), ('ses_2', 'prj_1', "
	    "'completed', 2), ('ses_3', 'prj_1', 'running', 3)");
	store_close(s);
	s = open_store_at(db_path, NULL);
	ck_assert_int_eq(count_rows(store_db(s), "PRAGMA user_version"),
	    store_latest_schema());
	assert_counts_match(s);
	ck_assert_int_eq(store_count_sessions(s, "completed", &n), 0);
	ck_assert_int_eq(n, 2);
	store_close(s);
}
END_TEST

/* A migration that fails leaves the store as it was. */
START_TEST(migrate_failure_rolls_back)
{
	sqlite3 *db;
	char *cause = NULL;

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	exec_ok(db, "CREATE TABLE sessions (x)");	/* clashes with v1 */
	sqlite3_close(db);
	ck_assert_ptr_null(store_open(db_path, STORE_SYNC_FULL,
	    STORE_CHECK_ALWAYS, NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	{
		char *want;

		xasprintf(&want, "migrating the store from schema 0 to %d "
		    "failed: table sessions already exists; the store was "
		    "left unchanged", store_latest_schema());
		ck_assert_str_eq(cause, want);
		free(want);
	}
	free(cause);
	db = other_connection();
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"), 0);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM sqlite_master WHERE "
	    "name = 'tokens'"), 0);
	sqlite3_close(db);
}
END_TEST

START_TEST(not_sqlite_refused)
{
	char buf[8192], *cause = NULL, *want;
	unsigned int seed = 7;
	int fd;

	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (char)rand_r(&seed);
	fd = open(db_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);
	close(fd);

	ck_assert_ptr_null(store_open(db_path, STORE_SYNC_FULL,
	    STORE_CHECK_ALWAYS, NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	xasprintf(&want, "cannot open the store %s: file is not a database "
	    "(is it an SQLite database?)", db_path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
}
END_TEST

START_TEST(unopenable_refused)
{
	char *path, *cause = NULL, *want;

	xasprintf(&path, "%s/no/such/dir/ak.db", tmpdir);
	ck_assert_ptr_null(store_open(path, STORE_SYNC_FULL, STORE_CHECK_ALWAYS,
	    NULL, &cause));
	xasprintf(&want, "cannot open the store %s: unable to open database "
	    "file", path);
	ck_assert_str_eq(cause, want);
	free(want);
	free(cause);
	free(path);
}
END_TEST

/*
 * A process that writes to the store and dies without closing it, as
 * kill -9 would: it leaves the -wal file (in another table than the one
 * corrupt_and_open() damages, whose pages the WAL would otherwise mask).
 */
static void
crash_writer(void)
{
	char *wal;
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		sqlite3 *db;

		if (sqlite3_open(db_path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "PRAGMA journal_mode = WAL; CREATE TABLE "
		    "crashed (x); INSERT INTO crashed VALUES (1)", NULL, NULL,
		    NULL) != SQLITE_OK)
			_exit(1);
		_exit(0);	/* no sqlite3_close(): the -wal file stays */
	}
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the crashing writer failed");
	xasprintf(&wal, "%s-wal", db_path);
	ck_assert_msg(access(wal, F_OK) == 0, "no %s after the crash", wal);
	free(wal);
}

/*
 * Corrupt the store's b-tree and make sure the quick_check at open notices.
 * We fill a table, then overwrite pages of it (never page 1, which holds
 * the schema) with garbage; several strategies, since SQLite tolerates
 * some damage that quick_check does not read.
 */
static int
corrupt_and_open(int strategy, int check, int crash, char **cause)
{
	sqlite3 *db;
	struct store *s;
	int64_t page_size, root, pages;
	char garbage[4096];
	char *side;
	int fd;

	unlink(db_path);
	for (int i = 0; i < 2; i++) {
		xasprintf(&side, "%s%s", db_path, i == 0 ? "-wal" : "-shm");
		unlink(side);
		free(side);
	}
	s = open_store_at(db_path, NULL);
	exec_ok(store_db(s), "CREATE TABLE filler (id INTEGER PRIMARY KEY, "
	    "v TEXT); CREATE INDEX filler_v ON filler(v);"
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 2000) INSERT INTO filler SELECT i, hex(randomblob(40)) "
	    "FROM n");
	store_close(s);

	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	page_size = count_rows(db, "PRAGMA page_size");
	pages = count_rows(db, "PRAGMA page_count");
	root = count_rows(db, "SELECT rootpage FROM sqlite_master WHERE name = "
	    "'filler'");
	sqlite3_close(db);
	ck_assert_int_le(page_size, (int64_t)sizeof garbage);

	memset(garbage, 0xa5, sizeof garbage);
	fd = open(db_path, O_WRONLY);
	ck_assert_int_ne(fd, -1);
	switch (strategy) {
	case 0:		/* the table's root page, after its header byte */
		ck_assert_int_eq(pwrite(fd, garbage, (size_t)page_size - 8,
		    (root - 1) * page_size + 8), page_size - 8);
		break;
	case 1:		/* a page in the middle of the file */
		ck_assert_int_eq(pwrite(fd, garbage, (size_t)page_size,
		    (pages / 2) * page_size), page_size);
		break;
	default:	/* every page from 2 on, half of each */
		for (int64_t p = 1; p < pages; p++)
			ck_assert_int_eq(pwrite(fd, garbage,
			    (size_t)page_size / 2, p * page_size +
			    page_size / 4), page_size / 2);
		break;
	}
	close(fd);
	if (crash)
		crash_writer();

	*cause = NULL;
	s = store_open(db_path, STORE_SYNC_FULL, check, NULL, cause);
	if (s != NULL) {
		store_close(s);
		return 0;
	}
	return -1;
}

START_TEST(corrupt_refused)
{
	char *cause, *prefix;

	xasprintf(&prefix, "the store %s failed its integrity check (",
	    db_path);
	for (int strategy = 0; strategy < 3; strategy++) {
		ck_assert_msg(corrupt_and_open(strategy, STORE_CHECK_ALWAYS, 0,
		    &cause) == -1,
		    "strategy %d: the corrupt store was opened", strategy);
		ck_assert_msg(strncmp(cause, prefix, strlen(prefix)) == 0,
		    "strategy %d: %s", strategy, cause);
		ck_assert_ptr_nonnull(strstr(cause, ".recover"));
		free(cause);
	}
	free(prefix);
}
END_TEST

/*
 * [store] check = after_crash, the default: a store closed cleanly is not
 * read through at open (quick_check costs 5 ms per MB), one left with its
 * -wal file by a process that died is.
 */
START_TEST(check_after_crash)
{
	char *cause, *prefix;

	ck_assert_msg(corrupt_and_open(0, STORE_CHECK_AFTER_CRASH, 0,
	    &cause) == 0, "a store closed cleanly was checked: %s", cause);
	ck_assert_int_eq(corrupt_and_open(0, STORE_CHECK_AFTER_CRASH, 1,
	    &cause), -1);
	xasprintf(&prefix, "the store %s failed its integrity check (",
	    db_path);
	ck_assert_msg(strncmp(cause, prefix, strlen(prefix)) == 0, "%s",
	    cause);
	free(cause);
	free(prefix);
}
END_TEST

/* ---- group commit ---- */

struct done_log {
	int	 calls[16];
	int	 ok[16];
	char	*cause[16];
	int	 n;
};

struct write_arg {
	const char	*sql;
	const char	*fail;		/* fail with this cause after sql */
};

struct done_arg {
	struct done_log	*log;
	int		 id;
};

static int
write_sql(struct store *s, void *arg, char **cause)
{
	struct write_arg *w = arg;
	char *err = NULL;

	if (w->sql != NULL && sqlite3_exec(store_db(s), w->sql, NULL, NULL,
	    &err) != SQLITE_OK) {
		xasprintf(cause, "%s", err);
		sqlite3_free(err);
		return -1;
	}
	if (w->fail != NULL) {
		xasprintf(cause, "%s", w->fail);
		return -1;
	}
	return 0;
}

static void
record_done(int ok, const char *cause, void *arg)
{
	struct done_arg *d = arg;
	struct done_log *l = d->log;

	ck_assert_int_lt(l->n, 16);
	l->calls[l->n] = d->id;
	l->ok[l->n] = ok;
	l->cause[l->n] = cause != NULL ? xstrdup(cause) : NULL;
	l->n++;
}

static void
done_log_free(struct done_log *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->cause[i]);
}

static void
setup_table(struct store *s)
{
	exec_ok(store_db(s), "CREATE TABLE t (v INTEGER);"
	    "CREATE TABLE parent (id PRIMARY KEY);"
	    "CREATE TABLE child (pid REFERENCES parent(id) DEFERRABLE "
	    "INITIALLY DEFERRED)");
}

/* Loop until the log has n entries (or 50 turns pass). */
static void
loop_until(struct event_base *base, struct done_log *l, int n)
{
	for (int turn = 0; turn < 50 && l->n < n; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

struct ordering {
	struct store	*store;
	sqlite3		*other;
	struct done_log	 log;
	struct write_arg w[3];
	struct done_arg	 d[3];
	int		 ran;
};

static void
ordering_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ordering *o = arg;
	char *cause = NULL;

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(store_write(o->store, write_sql, &o->w[i],
		    record_done, &o->d[i], &cause), 0);
		ck_assert_uint_eq(store_pending(o->store), (size_t)i + 1);
	}
	/* Nothing acknowledged, nothing visible, before COMMIT. */
	ck_assert_int_eq(o->log.n, 0);
	ck_assert_int_eq(count_rows(o->other, "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(count_rows(store_db(o->store), "SELECT count(*) FROM t"),
	    3);
	o->ran = 1;
}

START_TEST(commit_ordering)
{
	struct event_base *base = event_base_new();
	struct ordering o;
	struct timeval now = { 0, 0 };

	memset(&o, 0, sizeof o);
	o.store = open_store_at(db_path, base);
	ck_assert_ptr_nonnull(store_get_commit(o.store));
	setup_table(o.store);
	o.other = other_connection();
	o.w[0].sql = "INSERT INTO t VALUES (1)";
	o.w[1].sql = "INSERT INTO t VALUES (2)";
	o.w[2].sql = "INSERT INTO t VALUES (3)";
	for (int i = 0; i < 3; i++) {
		o.d[i].log = &o.log;
		o.d[i].id = i + 1;
	}
	event_base_once(base, -1, EV_TIMEOUT, ordering_cb, &o, &now);
	for (int turn = 0; turn < 50 && o.log.n < 3; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(o.ran, 1);
	ck_assert_int_eq(o.log.n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(o.log.calls[i], i + 1);
		ck_assert_int_eq(o.log.ok[i], 1);
		ck_assert_ptr_null(o.log.cause[i]);
	}
	ck_assert_uint_eq(store_pending(o.store), 0);
	ck_assert_int_eq(count_rows(o.other, "SELECT count(*) FROM t"), 3);
	ck_assert_int_eq(count_rows(o.other, "SELECT group_concat(v, '') FROM "
	    "(SELECT v FROM t ORDER BY rowid)"), 123);
	sqlite3_close(o.other);
	done_log_free(&o.log);
	store_close(o.store);
	event_base_free(base);
}
END_TEST

START_TEST(commit_one_write_fails)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	struct done_log l;
	struct write_arg w[3] = {
		{ "INSERT INTO t VALUES (1)", NULL },
		{ "INSERT INTO t VALUES (2)", "the second write says no" },
		{ "INSERT INTO t VALUES (3)", NULL },
	};
	struct write_arg bad_sql = { "INSERT INTO nowhere VALUES (4)", NULL };
	struct done_arg d[4];
	sqlite3 *other;
	char *cause = NULL;

	memset(&l, 0, sizeof l);
	setup_table(s);
	other = other_connection();
	for (int i = 0; i < 4; i++) {
		d[i].log = &l;
		d[i].id = i + 1;
	}
	ck_assert_int_eq(store_write(s, write_sql, &w[0], record_done, &d[0],
	    &cause), 0);
	ck_assert_int_eq(store_write(s, write_sql, &w[1], record_done, &d[1],
	    &cause), -1);
	ck_assert_str_eq(cause, "the second write says no");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_write(s, write_sql, &bad_sql, record_done,
	    &d[3], &cause), -1);
	ck_assert_str_eq(cause, "no such table: nowhere");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_write(s, write_sql, &w[2], record_done, &d[2],
	    &cause), 0);
	ck_assert_uint_eq(store_pending(s), 2);
	/* The failed write's row is gone already, inside the batch. */
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM t WHERE "
	    "v = 2"), 0);

	loop_until(base, &l, 2);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.calls[0], 1);
	ck_assert_int_eq(l.calls[1], 3);
	ck_assert_int_eq(l.ok[0], 1);
	ck_assert_int_eq(l.ok[1], 1);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t"), 2);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t WHERE v = 2"), 0);
	sqlite3_close(other);
	done_log_free(&l);
	store_close(s);
	event_base_free(base);
}
END_TEST

START_TEST(commit_fails)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	struct done_log l;
	struct write_arg w[3] = {
		{ "INSERT INTO t VALUES (1)", NULL },
		{ "INSERT INTO child VALUES ('no such parent')", NULL },
		{ "INSERT INTO parent VALUES ('p')", NULL },
	};
	struct done_arg d[3];
	sqlite3 *other;
	char *cause = NULL;

	memset(&l, 0, sizeof l);
	setup_table(s);
	other = other_connection();
	for (int i = 0; i < 3; i++) {
		d[i].log = &l;
		d[i].id = i + 1;
		ck_assert_int_eq(store_write(s, write_sql, &w[i], record_done,
		    &d[i], &cause), 0);
	}
	loop_until(base, &l, 3);
	ck_assert_int_eq(l.n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(l.calls[i], i + 1);
		ck_assert_int_eq(l.ok[i], 0);
		ck_assert_ptr_nonnull(l.cause[i]);
		ck_assert_msg(strstr(l.cause[i], "FOREIGN KEY") != NULL,
		    "cause: %s", l.cause[i]);
	}
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM child"), 0);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM parent"), 0);
	ck_assert_int_eq(count_rows(store_db(s), "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(sqlite3_get_autocommit(store_db(s)), 1);

	/* The store works again afterwards. */
	d[0].id = 9;
	ck_assert_int_eq(store_write(s, write_sql, &w[0], record_done, &d[0],
	    &cause), 0);
	loop_until(base, &l, 4);
	ck_assert_int_eq(l.n, 4);
	ck_assert_int_eq(l.ok[3], 1);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t"), 1);
	sqlite3_close(other);
	done_log_free(&l);
	store_close(s);
	event_base_free(base);
}
END_TEST

struct rewrite {
	struct store	*store;
	sqlite3		*other;
	struct done_log	 log;
	struct write_arg first, second;
	struct done_arg	 d2;
	int		 visible_in_done;
	int		 second_rc;
};

static void
rewrite_done(int ok, const char *cause, void *arg)
{
	struct rewrite *r = arg;
	char *why = NULL;

	ck_assert_int_eq(ok, 1);
	/* Our own write is durable when we hear of it. */
	r->visible_in_done = (int)count_rows(r->other, "SELECT count(*) FROM t");
	r->second_rc = store_write(r->store, write_sql, &r->second,
	    record_done, &r->d2, &why);
	ck_assert_uint_eq(store_pending(r->store), 1);
	/* The new batch is not committed yet. */
	ck_assert_int_eq(count_rows(r->other, "SELECT count(*) FROM t"), 1);
	ck_assert_int_eq(r->log.n, 0);
}

START_TEST(commit_done_writes_again)
{
	struct event_base *base = event_base_new();
	struct rewrite r;
	char *cause = NULL;

	memset(&r, 0, sizeof r);
	r.store = open_store_at(db_path, base);
	setup_table(r.store);
	r.other = other_connection();
	r.first.sql = "INSERT INTO t VALUES (1)";
	r.second.sql = "INSERT INTO t VALUES (2)";
	r.d2.log = &r.log;
	r.d2.id = 2;
	ck_assert_int_eq(store_write(r.store, write_sql, &r.first, rewrite_done,
	    &r, &cause), 0);
	loop_until(base, &r.log, 1);
	ck_assert_int_eq(r.visible_in_done, 1);
	ck_assert_int_eq(r.second_rc, 0);
	ck_assert_int_eq(r.log.n, 1);
	ck_assert_int_eq(r.log.ok[0], 1);
	ck_assert_int_eq(count_rows(r.other, "SELECT count(*) FROM t"), 2);
	ck_assert_uint_eq(store_pending(r.store), 0);
	sqlite3_close(r.other);
	done_log_free(&r.log);
	store_close(r.store);
	event_base_free(base);
}
END_TEST

START_TEST(close_flushes)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	struct done_log l;
	struct write_arg w = { "INSERT INTO t VALUES (42)", NULL };
	struct done_arg d = { &l, 1 };
	sqlite3 *other;
	char *cause = NULL;

	memset(&l, 0, sizeof l);
	setup_table(s);
	ck_assert_int_eq(store_write(s, write_sql, &w, record_done, &d,
	    &cause), 0);
	ck_assert_uint_eq(store_pending(s), 1);
	store_close(s);		/* the loop never ran */
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.ok[0], 1);
	other = other_connection();
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t WHERE v = 42"),
	    1);
	sqlite3_close(other);
	done_log_free(&l);
	event_base_free(base);
}
END_TEST

START_TEST(flush_commits_now)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	struct done_log l;
	struct write_arg w = { "INSERT INTO t VALUES (7)", NULL };
	struct done_arg d = { &l, 1 };
	sqlite3 *other;
	char *cause = NULL;

	memset(&l, 0, sizeof l);
	setup_table(s);
	other = other_connection();
	store_flush(s);		/* nothing open: a no-op */
	ck_assert_int_eq(store_write(s, write_sql, &w, record_done, &d,
	    &cause), 0);
	store_flush(s);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t"), 1);
	/* The commit event was cancelled: the loop has nothing to run. */
	loop_until(base, &l, 2);
	ck_assert_int_eq(l.n, 1);
	sqlite3_close(other);
	done_log_free(&l);
	store_close(s);
	event_base_free(base);
}
END_TEST

/* A writer holding the lock: the batch cannot begin. */
START_TEST(write_store_busy)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	struct write_arg w = { "INSERT INTO t VALUES (1)", NULL };
	sqlite3 *other;
	char *cause = NULL;

	setup_table(s);
	other = other_connection();
	sqlite3_busy_timeout(store_db(s), 10);
	exec_ok(other, "BEGIN IMMEDIATE");
	ck_assert_int_eq(store_write(s, write_sql, &w, NULL, NULL, &cause), -1);
	ck_assert_str_eq(cause, "the store is unavailable: database is locked");
	free(cause);
	ck_assert_uint_eq(store_pending(s), 0);
	exec_ok(other, "ROLLBACK");
	cause = NULL;
	ck_assert_int_eq(store_write(s, write_sql, &w, NULL, NULL, &cause), 0);
	store_flush(s);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t"), 1);
	sqlite3_close(other);
	store_close(s);
	event_base_free(base);
}
END_TEST

/*
 * Disk full: SQLITE_FULL (here from PRAGMA max_page_count, which SQLite
 * reports exactly as a full disk) fails the write with a cause naming the
 * full disk and puts the store in the "full" state; SQLite may roll the
 * whole transaction back, and then the batch's earlier writes hear so at
 * the end of the turn: what is acknowledged is exactly what is saved.
 * Once space is back, the probe (a write each second) leaves the state.
 */
START_TEST(write_disk_full)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	struct done_log l;
	struct write_arg small = { "INSERT INTO t VALUES (1)", NULL };
	struct write_arg big = { "INSERT INTO t VALUES (zeroblob(200000))",
	    NULL };
	struct done_arg d[3] = { { &l, 1 }, { &l, 2 }, { &l, 3 } };
	sqlite3 *other;
	char *cause = NULL, *sql;
	time_t t0;

	memset(&l, 0, sizeof l);
	setup_table(s);
	other = other_connection();
	xasprintf(&sql, "PRAGMA max_page_count = %lld", (long long)count_rows(
	    store_db(s), "PRAGMA page_count") + 2);
	exec_ok(store_db(s), sql);
	free(sql);
	ck_assert_int_eq(store_is_full(s), 0);

	ck_assert_int_eq(store_write(s, write_sql, &small, record_done, &d[0],
	    &cause), 0);
	ck_assert_int_eq(store_write(s, write_sql, &big, record_done, &d[1],
	    &cause), -1);
	ck_assert_msg(strstr(cause, "the disk holding the store is full") !=
	    NULL, "cause: %s", cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(store_is_full(s), 1);
	loop_until(base, &l, 1);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(l.calls[0], 1);
	/* Acknowledged exactly when saved. */
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t"), l.ok[0]);
	if (!l.ok[0])
		ck_assert_msg(strstr(l.cause[0], "full") != NULL, "cause: %s",
		    l.cause[0]);

	/* Space comes back: the probe notices within a few seconds. */
	exec_ok(store_db(s), "PRAGMA max_page_count = 1000000");
	t0 = time(NULL);
	while (store_is_full(s) && time(NULL) - t0 < 5)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(store_is_full(s), 0);
	ck_assert_int_eq(store_write(s, write_sql, &big, record_done, &d[2],
	    &cause), 0);
	loop_until(base, &l, 2);
	ck_assert_int_eq(l.n, 2);
	ck_assert_int_eq(l.ok[1], 1);
	ck_assert_int_eq(count_rows(other, "SELECT count(*) FROM t WHERE "
	    "length(v) = 200000"), 1);
	sqlite3_close(other);
	done_log_free(&l);
	store_close(s);
	event_base_free(base);
}
END_TEST

/*
 * Regression (fixed): a write made by a done callback while store_close() flushes is
 * lost. store_close() runs store_flush() once; the callback's store_write()
 * returns 0 and opens a new batch, then store_commit_free() drops its
 * event and sqlite3_close() rolls the transaction back: the write was
 * accepted but is neither committed nor reported (its done callback never
 * runs). Fix: in store_close(), flush until nothing is open
 * (`while (store_pending(s) > 0 || c->open) store_flush(s);`), or make
 * store_write() fail once closing has begun.
 */
struct close_rewrite {
	struct store	*store;
	struct done_log	 log;
	struct write_arg second;
	struct done_arg	 d2;
	int		 second_rc;
};

static void
close_rewrite_done(int ok, const char *cause, void *arg)
{
	struct close_rewrite *r = arg;
	char *why = NULL;

	r->second_rc = store_write(r->store, write_sql, &r->second,
	    record_done, &r->d2, &why);
	free(why);
}

START_TEST(close_loses_write_from_done)
{
	struct event_base *base = event_base_new();
	struct close_rewrite r;
	struct write_arg first = { "INSERT INTO t VALUES (1)", NULL };
	sqlite3 *other;
	char *cause = NULL;
	int64_t first_kept, second_kept;
	int acknowledged;

	memset(&r, 0, sizeof r);
	r.store = open_store_at(db_path, base);
	setup_table(r.store);
	r.second.sql = "INSERT INTO t VALUES (2)";
	r.d2.log = &r.log;
	r.d2.id = 2;
	ck_assert_int_eq(store_write(r.store, write_sql, &first,
	    close_rewrite_done, &r, &cause), 0);
	store_close(r.store);
	other = other_connection();
	first_kept = count_rows(other, "SELECT count(*) FROM t WHERE v = 1");
	second_kept = count_rows(other, "SELECT count(*) FROM t WHERE v = 2");
	acknowledged = r.log.n;
	sqlite3_close(other);
	done_log_free(&r.log);
	event_base_free(base);
	/* A failed assertion skips the teardown: clean up first. */
	tmpdir_teardown();

	ck_assert_int_eq(first_kept, 1);
	if (r.second_rc == 0) {
		/* Accepted: it must be committed and acknowledged. */
		ck_assert_msg(acknowledged == 1, "an accepted write was never "
		    "acknowledged");
		ck_assert_msg(second_kept == 1, "an accepted write was lost");
	}
}
END_TEST


/* ---- retention (session-prune.c) ---- */

struct prune_run {
	int	calls, ok;
};

static void
prune_run_done(int ok, const char *cause, void *arg)
{
	struct prune_run *r = arg;

	r->calls++;
	r->ok = ok;
	ck_assert_msg(ok, "a prune write failed: %s", cause);
}

/* One prune write of the pass b through group commit, committed now. */
static void
prune_write(struct store *s, struct prune_batch *b)
{
	struct prune_run r = { 0, 0 };
	char *cause = NULL;

	ck_assert_msg(store_write(s, session_prune_write, b, prune_run_done,
	    &r, &cause) == 0, "store_write: %s", cause);
	store_flush(s);
	ck_assert_int_eq(r.calls, 1);
}

/* A pass of one write (from the first event on). */
static struct prune_batch
prune_once(struct store *s, int64_t cutoff, int limit, int64_t vacuum_pages)
{
	struct prune_batch b = { .cutoff = cutoff, .limit = limit,
	    .vacuum_pages = vacuum_pages };

	prune_write(s, &b);
	return b;
}

static void
exec_fmt(sqlite3 *db, const char *fmt, ...)
{
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	sql = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	exec_ok(db, sql);
	sqlite3_free(sql);
}

/*
 * A session with the rows that refer to it: two log lines, a call, a
 * subscription to trg_hook (with cursor), a signal; its event evt_<id>
 * at event_at unless event_at < 0.
 */
static void
add_session(sqlite3 *db, const char *id, const char *state, int64_t ended,
    const char *parent, int64_t cursor, int64_t event_at)
{
	if (event_at >= 0)
		exec_fmt(db, "INSERT INTO events (event_id, destination_id, "
		    "project_id, event_type, data, created_at) VALUES "
		    "('evt_%s', 'trg_hook', 'prj_1', 'post', '{}', %lld)", id,
		    (long long)event_at);
	exec_fmt(db, "INSERT INTO sessions (session_id, project_id, state, "
	    "created_at, updated_at, parent_session_id, event_id) VALUES "
	    "('%s', 'prj_1', '%s', 1, %lld, %Q, %Q)", id, state,
	    (long long)ended, parent, event_at >= 0 ? "" : NULL);
	if (event_at >= 0)
		exec_fmt(db, "UPDATE sessions SET event_id = 'evt_%s' WHERE "
		    "session_id = '%s'", id, id);
	exec_fmt(db, "INSERT INTO session_logs VALUES ('%s', 1, 1, 'STATE', "
	    "'{}'), ('%s', 2, 2, 'PRINT', '{\"text\":\"hi\"}');"
	    "INSERT INTO session_calls (session_id, seq, name, kind, state) "
	    "VALUES ('%s', 1, 'sleep', 'syscall', 'completed');"
	    "INSERT INTO subscriptions (subscription_id, session_id, "
	    "destination_id, source, cursor, created_at) VALUES ('sub_%s', "
	    "'%s', 'trg_hook', 'hook', %lld, 1);"
	    "INSERT INTO signals (session_id, name, created_at) VALUES ('%s', "
	    "'go', 1)", id, id, id, id, id, (long long)cursor, id);
}

static int64_t
rows_of(sqlite3 *db, const char *id)
{
	char *sql = sqlite3_mprintf("SELECT (SELECT count(*) FROM sessions "
	    "WHERE session_id = '%q') + (SELECT count(*) FROM session_logs "
	    "WHERE session_id = '%q') + (SELECT count(*) FROM session_calls "
	    "WHERE session_id = '%q') + (SELECT count(*) FROM subscriptions "
	    "WHERE session_id = '%q') + (SELECT count(*) FROM signals WHERE "
	    "session_id = '%q')", id, id, id, id, id);
	int64_t n = count_rows(db, sql);

	sqlite3_free(sql);
	return n;
}

static int
event_exists(sqlite3 *db, const char *event_id)
{
	char *sql = sqlite3_mprintf("SELECT count(*) FROM events WHERE "
	    "event_id = '%q'", event_id);
	int64_t n = count_rows(db, sql);

	sqlite3_free(sql);
	return n == 1;
}

/*
 * Final sessions that ended before the cutoff go with every row that
 * refers to them; live and recent ones, a finished parent of a running
 * child, the events live sessions need, and recent rows stay.
 */
START_TEST(prune_final_old_only)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	sqlite3 *db = store_db(s);
	const int64_t old = 1000, cutoff = 5000, recent = 9000;
	struct prune_batch b;

	exec_ok(db, "INSERT INTO projects VALUES ('prj_1', 'p', 1)");
	add_session(db, "ses_done", "completed", old, NULL, 0, old);
	add_session(db, "ses_failed", "error", old, NULL, 0, old);
	add_session(db, "ses_stopped", "stopped", old, NULL, 0, -1);
	add_session(db, "ses_recent", "completed", recent, NULL, 0, old);
	add_session(db, "ses_running", "running", old, NULL, 1000000, old);
	add_session(db, "ses_created", "created", old, NULL, 1000000, -1);
	add_session(db, "ses_parent", "completed", old, NULL, 0, -1);
	add_session(db, "ses_child", "running", old, "ses_parent", 1000000,
	    -1);
	/* Its subscription has not read past seq 0: this one it needs. */
	add_session(db, "ses_waiting", "running", recent, NULL, 0, -1);
	exec_ok(db, "INSERT INTO events (event_id, destination_id, event_type, "
	    "data, created_at) VALUES ('evt_unread', 'trg_hook', 'post', '{}', "
	    "1000), ('evt_orphan', 'trg_other', 'post', '{}', 1000), "
	    "('evt_new', 'trg_other', 'post', '{}', 9000);"
	    "INSERT INTO github_deliveries VALUES ('d-old', 1000), "
	    "('d-new', 9000)");

	b = prune_once(s, cutoff, 100, 0);
	ck_assert_int_eq(b.sessions, 3);
	ck_assert_int_eq(b.events, 1);	/* the orphan: no one reads it */
	ck_assert_int_eq(b.deliveries, 1);
	ck_assert(!session_prune_more(&b));

	ck_assert_int_eq(rows_of(db, "ses_done"), 0);
	ck_assert_int_eq(rows_of(db, "ses_failed"), 0);
	ck_assert_int_eq(rows_of(db, "ses_stopped"), 0);
	ck_assert(!event_exists(db, "evt_orphan"));
	/* ses_waiting has yet to read the old events of trg_hook. */
	ck_assert(event_exists(db, "evt_ses_done"));
	ck_assert(event_exists(db, "evt_ses_failed"));
	/* Each kept session has its 6 rows: itself, 2 logs, call, sub, signal. */
	ck_assert_int_eq(rows_of(db, "ses_recent"), 6);
	ck_assert_int_eq(rows_of(db, "ses_running"), 6);
	ck_assert_int_eq(rows_of(db, "ses_created"), 6);
	ck_assert_int_eq(rows_of(db, "ses_parent"), 6);
	ck_assert_int_eq(rows_of(db, "ses_child"), 6);
	ck_assert_int_eq(rows_of(db, "ses_waiting"), 6);
	ck_assert(event_exists(db, "evt_ses_recent"));	/* its session stays */
	ck_assert(event_exists(db, "evt_ses_running"));
	ck_assert(event_exists(db, "evt_unread"));	/* ses_waiting's */
	ck_assert(event_exists(db, "evt_new"));
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM "
	    "github_deliveries WHERE delivery_id = 'd-new'"), 1);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

	/* Nothing more at the same cutoff. */
	b = prune_once(s, cutoff, 100, 0);
	ck_assert_int_eq(b.sessions + b.events + b.deliveries, 0);

	/*
	 * The child ends: it and its parent go. The waiter has read its
	 * queue: the old events no session refers to go.
	 */
	exec_ok(db, "UPDATE sessions SET state = 'completed' WHERE "
	    "session_id = 'ses_child';"
	    "UPDATE subscriptions SET cursor = (SELECT max(seq) FROM events) "
	    "WHERE session_id = 'ses_waiting'");
	b = prune_once(s, cutoff, 100, 0);
	ck_assert_int_eq(b.sessions, 2);
	ck_assert_int_eq(b.events, 3);
	ck_assert(!event_exists(db, "evt_ses_done"));
	ck_assert(!event_exists(db, "evt_ses_failed"));
	ck_assert(event_exists(db, "evt_ses_running"));
	ck_assert_int_eq(rows_of(db, "ses_parent"), 0);
	ck_assert_int_eq(rows_of(db, "ses_child"), 0);
	ck_assert(!event_exists(db, "evt_unread"));
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM sessions"), 4);
	store_close(s);
	event_base_free(base);
}
END_TEST

/* More sessions than a batch: several writes, each at most the limit. */
START_TEST(prune_batches)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	sqlite3 *db = store_db(s);
	struct prune_batch b;
	int64_t total = 0, writes = 0, pages_before, pages_after, free_after;

	exec_ok(db, "INSERT INTO projects VALUES ('prj_1', 'p', 1)");
	exec_ok(db, "BEGIN");
	for (int i = 0; i < 600; i++) {
		char id[32];

		snprintf(id, sizeof id, "ses_%03d", i);
		add_session(db, id, i % 3 == 0 ? "completed" : i % 3 == 1 ?
		    "error" : "stopped", 1000 + i, NULL, 0, 1000 + i);
		exec_fmt(db, "UPDATE session_logs SET data = '%s' WHERE "
		    "session_id = '%s'", "{\"text\":\"" "0123456789abcdef"
		    "0123456789abcdef0123456789abcdef0123456789abcdef\"}", id);
	}
	add_session(db, "ses_live", "running", 1000, NULL, 1000000, -1);
	exec_ok(db, "COMMIT");
	ck_assert_int_eq(count_rows(db, "PRAGMA auto_vacuum"), 2);
	pages_before = count_rows(db, "PRAGMA page_count");

	b = (struct prune_batch){ .cutoff = 100000, .limit = 256,
	    .vacuum_pages = PRUNE_VACUUM_PAGES };
	do {
		prune_write(s, &b);
		ck_assert_int_le(b.sessions, 256);
		/* Events once the sessions are gone, and theirs with them. */
		ck_assert_int_eq(b.events, b.sessions == 256 ? 0 : 600);
		total += b.sessions;
		writes++;
		ck_assert_int_lt(writes, 10);
	} while (session_prune_more(&b));
	ck_assert_int_eq(total, 600);
	ck_assert_int_eq(writes, 3);	/* 256 + 256 + 88 and the events */
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM sessions"), 1);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM session_logs"),
	    2);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM events"), 0);
	ck_assert_int_eq(rows_of(db, "ses_live"), 6);
	/* The last write gave the free pages back but an eighth of the rest. */
	pages_after = count_rows(db, "PRAGMA page_count");
	free_after = count_rows(db, "PRAGMA freelist_count");
	ck_assert_int_lt(pages_after, pages_before / 2);
	ck_assert_int_le(free_after, (pages_after - free_after) / 8 + 1);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	store_close(s);
	event_base_free(base);
}
END_TEST



/*
 * Events are examined a window at a time: old events that a live
 * subscriber still needs are passed over once per pass, not by every
 * write, and every deletable one goes.
 */
START_TEST(prune_events_window)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	sqlite3 *db = store_db(s);
	struct prune_batch b = { .cutoff = 100000, .limit = 4 };
	int64_t deleted = 0, writes = 0;

	exec_ok(db, "INSERT INTO projects VALUES ('prj_1', 'p', 1)");
	/* A live session subscribed to trg_hook before any event. */
	add_session(db, "ses_reader", "running", 1000, NULL, 0, -1);
	exec_ok(db, "BEGIN");
	for (int i = 0; i < 100; i++)
		exec_fmt(db, "INSERT INTO events (event_id, destination_id, "
		    "event_type, data, created_at) VALUES ('evt_%03d', '%s', "
		    "'post', '{}', %d)", i, i < 50 ? "trg_hook" : "trg_other",
		    1000 + i);
	exec_ok(db, "INSERT INTO events (event_id, destination_id, event_type, "
	    "data, created_at) VALUES ('evt_new', 'trg_other', 'post', '{}', "
	    "200000); COMMIT");

	do {
		prune_write(s, &b);
		ck_assert_int_le(b.events, 4 * PRUNE_EVENT_WINDOW);
		deleted += b.events;
		writes++;
		ck_assert_int_lt(writes, 20);
	} while (session_prune_more(&b));
	/* 101 old events, 16 examined per write, the last window short. */
	ck_assert_int_eq(writes, 7);
	ck_assert_int_eq(deleted, 50);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM events WHERE "
	    "destination_id = 'trg_hook'"), 50);
	ck_assert(event_exists(db, "evt_new"));

	/* A new pass, once the reader has read them all: they go. */
	exec_ok(db, "UPDATE subscriptions SET cursor = (SELECT max(seq) FROM "
	    "events)");
	b = (struct prune_batch){ .cutoff = 100000, .limit = 4 };
	deleted = 0;
	do {
		prune_write(s, &b);
		deleted += b.events;
	} while (session_prune_more(&b));
	ck_assert_int_eq(deleted, 50);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM events"), 1);
	store_close(s);
	event_base_free(base);
}
END_TEST

/*
 * A store from before schema 8 (no auto_vacuum, the old index): it
 * migrates, prunes the same, and keeps the freed pages for reuse.
 */
START_TEST(prune_old_store)
{
	struct event_base *base = event_base_new();
	struct store *s = open_store_at(db_path, base);
	sqlite3 *db = store_db(s);
	struct prune_batch b;
	int64_t pages, total = 0;

	/* Make it what schema 7 left, without auto_vacuum. */
	exec_ok(db, "DROP INDEX sessions_by_end; DROP INDEX sessions_by_parent;"
	    "DROP INDEX sessions_by_event; DROP INDEX events_by_time;"
	    "DROP INDEX github_deliveries_by_time;"
	    "DROP TRIGGER session_counts_insert; DROP TRIGGER "
	    "session_counts_update; DROP TRIGGER session_counts_delete; "
	    "DROP TABLE session_counts; DROP INDEX sessions_startable;"
	    "DROP INDEX sessions_by_state_created;"
	    "CREATE INDEX sessions_by_state ON sessions(state);"
	    "PRAGMA user_version = 7; PRAGMA auto_vacuum = NONE; VACUUM");
	store_close(s);
	s = open_store_at(db_path, base);
	db = store_db(s);
	ck_assert_int_eq(count_rows(db, "PRAGMA user_version"),
	    store_latest_schema());
	ck_assert_int_eq(count_rows(db, "PRAGMA auto_vacuum"), 0);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name IN ('sessions_by_end', 'sessions_by_parent', "
	    "'sessions_by_event', 'events_by_time', "
	    "'github_deliveries_by_time')"), 5);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'sessions_by_state'"), 0);

	exec_ok(db, "INSERT INTO projects VALUES ('prj_1', 'p', 1); BEGIN");
	for (int i = 0; i < 300; i++) {
		char id[32];

		snprintf(id, sizeof id, "ses_%03d", i);
		add_session(db, id, "completed", 1000, NULL, 0, 1000);
	}
	exec_ok(db, "COMMIT");
	pages = count_rows(db, "PRAGMA page_count");
	b = (struct prune_batch){ .cutoff = 5000, .limit = 256,
	    .vacuum_pages = PRUNE_VACUUM_PAGES };
	do {
		prune_write(s, &b);
		total += b.sessions;
		ck_assert_int_eq(b.pages, 0);
	} while (session_prune_more(&b));
	ck_assert_int_eq(total, 300);
	ck_assert_int_eq(count_rows(db, "SELECT count(*) FROM session_logs"),
	    0);
	/* The file keeps its pages; they are free for what comes next. */
	ck_assert_int_eq(count_rows(db, "PRAGMA page_count"), pages);
	ck_assert_int_gt(count_rows(db, "PRAGMA freelist_count"), 0);
	store_close(s);
	event_base_free(base);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("open");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, fresh_schema);
	tcase_add_test(tc, sync_normal);
	tcase_add_test(tc, reopen_keeps_data);
	tcase_add_test(tc, newer_schema_refused);
	tcase_add_test(tc, migrate_from_empty);
	tcase_add_test(tc, migrate_failure_rolls_back);
	tcase_add_test(tc, session_counts);
	tcase_add_test(tc, session_counts_migrated);
	tcase_add_test(tc, not_sqlite_refused);
	tcase_add_test(tc, unopenable_refused);
	tcase_add_test(tc, corrupt_refused);
	tcase_add_test(tc, check_after_crash);
	suite_add_tcase(s, tc);

	tc = tcase_create("group_commit");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, commit_ordering);
	tcase_add_test(tc, commit_one_write_fails);
	tcase_add_test(tc, commit_fails);
	tcase_add_test(tc, commit_done_writes_again);
	tcase_add_test(tc, close_flushes);
	tcase_add_test(tc, flush_commits_now);
	tcase_add_test(tc, write_store_busy);
	tcase_add_test(tc, write_disk_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("retention");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, prune_final_old_only);
	tcase_add_test(tc, prune_batches);
	tcase_add_test(tc, prune_old_store);
	tcase_add_test(tc, prune_events_window);
	suite_add_tcase(s, tc);

	/* Tests that expose bugs in the code under test: see each comment. */
	tc = tcase_create("regressions");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
	tcase_add_test(tc, close_loses_write_from_done);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
