/*
 * store-migrate.c: the schema, as an ordered list of migrations.
 *
 * PRAGMA user_version holds the number of migrations applied. At start we
 * apply the missing ones, all in one transaction: either the store moves to
 * the latest schema or it stays as it was. A store whose version is newer
 * than this binary knows was written by a newer autokittehd; we refuse it
 * rather than guess. Migrations are append-only: never edit a shipped one.
 */
#include "autokittehd.h"

#include <stdlib.h>

static const char *const migrations[] = {
	/* 1: API tokens (hashes only) and the objects status counts. */
	"CREATE TABLE tokens ("
	"  token_id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER"
	");"
	"CREATE TABLE projects ("
	"  project_id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE deployments ("
	"  deployment_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL REFERENCES projects(project_id),"
	"  state TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX deployments_by_project ON deployments(project_id, state);"
	"CREATE TABLE sessions ("
	"  session_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL REFERENCES projects(project_id),"
	"  deployment_id TEXT REFERENCES deployments(deployment_id),"
	"  state TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX sessions_by_state ON sessions(state);",
};

int
store_latest_schema(void)
{
	return (int)nitems(migrations);
}

int
store_schema_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_migrate(sqlite3 *db, char **cause)
{
	int version, latest = store_latest_schema();
	char *err = NULL, *sql;

	if (store_schema_version(db, &version) != 0) {
		xasprintf(cause, "cannot read the store's schema version: %s",
		    sqlite3_errmsg(db));
		return -1;
	}
	if (version > latest) {
		xasprintf(cause, "the store has schema version %d but this "
		    "autokittehd (" PACKAGE_VERSION ") knows versions up to %d: "
		    "it was written by a newer autokittehd; run that version "
		    "or restore a backup made for this one", version, latest);
		return -1;
	}
	if (version == latest)
		return 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &err) != SQLITE_OK)
		goto fail;
	for (int i = version; i < latest; i++) {
		if (sqlite3_exec(db, migrations[i], NULL, NULL, &err) !=
		    SQLITE_OK)
			goto rollback;
	}
	xasprintf(&sql, "PRAGMA user_version = %d", latest);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		free(sql);
		goto rollback;
	}
	free(sql);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)
		goto rollback;
	log_info("store schema migrated from version %d to %d", version,
	    latest);
	return 0;

rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
fail:
	xasprintf(cause, "migrating the store from schema %d to %d failed: "
	    "%s; the store was left unchanged", version, latest,
	    err != NULL ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return -1;
}
