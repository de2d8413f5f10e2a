/*
 * unit-sqlite.h: the SQLite helpers that the unit tests of the store and
 * of what it keeps (check-store.c, check-secrets.c) share.
 */
#ifndef UNIT_SQLITE_H
#define UNIT_SQLITE_H

#include <check.h>
#include <sqlite3.h>
#include <stdint.h>

/* Run sql, which must succeed. */
static inline void
exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		ck_abort_msg("%s: %s", sql, err);
}

/* The one integer sql (a SELECT count(*) ...) answers. */
static inline int64_t
count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* store_open() with synchronous = full, which must succeed. */
static inline struct store *
open_store_at(const char *path, struct event_base *base)
{
	char *cause = NULL;
	struct store *s = store_open(path, STORE_SYNC_FULL, STORE_CHECK_ALWAYS,
	    base, &cause);

	ck_assert_msg(s != NULL, "store_open: %s", cause);
	return s;
}

#endif
