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

	/*
	 * 2: projects, builds, deployments, triggers, vars, events, sessions
	 * and their logs. Times in these tables are Unix microseconds.
	 * States are stored as lowercase words ("active", "completed").
	 */
	"CREATE TABLE project_resources ("
	"  project_id TEXT NOT NULL REFERENCES projects(project_id) ON DELETE CASCADE,"
	"  path TEXT NOT NULL,"
	"  content BLOB NOT NULL,"
	"  PRIMARY KEY (project_id, path)"
	");"
	"CREATE TABLE builds ("
	"  build_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL REFERENCES projects(project_id),"
	"  created_at INTEGER NOT NULL,"
	"  artifact BLOB NOT NULL,"		/* opaque to the controller */
	"  exports TEXT NOT NULL DEFAULT '[]'"	/* [{file, name, line}] */
	");"
	"CREATE INDEX builds_by_project ON builds(project_id, created_at);"
	"ALTER TABLE deployments ADD COLUMN build_id TEXT REFERENCES builds(build_id);"
	"ALTER TABLE deployments ADD COLUMN updated_at INTEGER;"
	"CREATE TABLE triggers ("
	"  trigger_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL REFERENCES projects(project_id),"
	"  name TEXT NOT NULL,"
	"  source_type TEXT NOT NULL,"		/* webhook | schedule | connection */
	"  event_type TEXT NOT NULL DEFAULT '',"
	"  filter TEXT NOT NULL DEFAULT '',"
	"  code_path TEXT NOT NULL DEFAULT '',"	/* program.py */
	"  code_name TEXT NOT NULL DEFAULT '',"	/* on_hook */
	"  is_durable INTEGER NOT NULL DEFAULT 0,"
	"  is_sync INTEGER NOT NULL DEFAULT 0,"
	"  webhook_slug TEXT UNIQUE,"
	"  schedule TEXT NOT NULL DEFAULT '',"
	"  timezone TEXT NOT NULL DEFAULT '',"
	"  connection_id TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (project_id, name)"
	");"
	"CREATE TABLE vars ("
	"  scope_id TEXT NOT NULL,"		/* project, connection or trigger id */
	"  name TEXT NOT NULL,"
	"  value TEXT NOT NULL DEFAULT '',"
	"  is_secret INTEGER NOT NULL DEFAULT 0,"
	"  description TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (scope_id, name)"
	");"
	"CREATE TABLE events ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  event_id TEXT NOT NULL UNIQUE,"
	"  destination_id TEXT NOT NULL,"	/* trigger or connection id */
	"  project_id TEXT,"
	"  event_type TEXT NOT NULL,"
	"  data TEXT NOT NULL,"			/* JSON object */
	"  memo TEXT NOT NULL DEFAULT '{}',"	/* JSON object of strings */
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX events_by_destination ON events(destination_id, seq);"
	"ALTER TABLE sessions ADD COLUMN build_id TEXT;"
	"ALTER TABLE sessions ADD COLUMN event_id TEXT;"
	"ALTER TABLE sessions ADD COLUMN trigger_id TEXT;"
	"ALTER TABLE sessions ADD COLUMN parent_session_id TEXT;"
	"ALTER TABLE sessions ADD COLUMN entrypoint TEXT NOT NULL DEFAULT '';"	/* file.py:function */
	"ALTER TABLE sessions ADD COLUMN inputs TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE sessions ADD COLUMN memo TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE sessions ADD COLUMN is_durable INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN updated_at INTEGER;"
	"ALTER TABLE sessions ADD COLUMN result TEXT;"		/* JSON of the return value */
	"ALTER TABLE sessions ADD COLUMN error TEXT;"		/* message */
	"ALTER TABLE sessions ADD COLUMN traceback TEXT;"
	"CREATE INDEX sessions_by_project ON sessions(project_id, created_at);"
	"CREATE INDEX sessions_by_deployment ON sessions(deployment_id, state);"
	"CREATE TABLE session_logs ("
	"  session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  t INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"			/* PRINT STATE CALL_SPEC ... STOP_REQUEST */
	"  data TEXT NOT NULL,"			/* JSON: {text} / {state, ...} */
	"  PRIMARY KEY (session_id, seq)"
	");",

	/*
	 * 3: durable sessions (docs/DURABILITY.md): the history of calls,
	 * and when a sleeping session wakes up.
	 */
	"CREATE TABLE session_calls ("
	"  session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"			/* activity | syscall */
	"  state TEXT NOT NULL,"			/* started | waiting | completed */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  args TEXT NOT NULL DEFAULT '',"	/* display summary */
	"  value BLOB,"				/* activity: pickle of the result */
	"  error BLOB,"				/* activity: pickle of the exception */
	"  result TEXT,"			/* syscall: JSON */
	"  summary TEXT NOT NULL DEFAULT '',"
	"  started_at INTEGER,"
	"  completed_at INTEGER,"
	"  PRIMARY KEY (session_id, seq)"
	");"
	"ALTER TABLE sessions ADD COLUMN wake_at INTEGER;"
	"ALTER TABLE sessions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sessions ADD COLUMN on_worker INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX sessions_by_wake ON sessions(wake_at) WHERE wake_at IS NOT NULL;",

	/*
	 * 4: what sessions wait for: subscriptions to events, signals; and
	 * the per-project value store.
	 */
	"CREATE TABLE subscriptions ("
	"  subscription_id TEXT PRIMARY KEY,"
	"  session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,"
	"  destination_id TEXT NOT NULL,"	/* trigger or connection id */
	"  source TEXT NOT NULL,"		/* its name, as the code gave it */
	"  filter TEXT NOT NULL DEFAULT '',"
	"  cursor INTEGER NOT NULL,"		/* last events.seq delivered */
	"  active INTEGER NOT NULL DEFAULT 1,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX subscriptions_by_destination ON subscriptions(destination_id, active);"
	"CREATE INDEX subscriptions_by_session ON subscriptions(session_id);"
	"CREATE TABLE signals ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  session_id TEXT NOT NULL REFERENCES sessions(session_id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL,"
	"  payload TEXT NOT NULL DEFAULT 'null',"	/* JSON */
	"  consumed INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE INDEX signals_by_session ON signals(session_id, consumed, seq);"
	"CREATE TABLE store_values ("
	"  project_id TEXT NOT NULL REFERENCES projects(project_id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"			/* JSON */
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (project_id, key)"
	");",

	/*
	 * 5: connections (reference 1.8; their settings are vars scoped to
	 * the connection id) and the GitHub deliveries already received.
	 */
	"CREATE TABLE connections ("
	"  connection_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL REFERENCES projects(project_id) ON DELETE CASCADE,"
	"  integration TEXT NOT NULL,"		/* its unique name: github */
	"  name TEXT NOT NULL,"
	"  status TEXT NOT NULL DEFAULT 'init_required',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (project_id, name)"
	");"
	"CREATE INDEX connections_by_integration ON connections(integration);"
	/* A connection's vars go with it, however it is deleted. */
	"CREATE TRIGGER connections_delete_vars AFTER DELETE ON connections "
	"BEGIN DELETE FROM vars WHERE scope_id = OLD.connection_id; END;"
	"CREATE INDEX triggers_by_connection ON triggers(connection_id);"
	"CREATE TABLE github_deliveries ("
	"  delivery_id TEXT PRIMARY KEY,"	/* X-GitHub-Delivery */
	"  received_at INTEGER NOT NULL"
	");",

	/*
	 * 6: schedule triggers (sched.c): when each fires next, when it last
	 * fired (Unix microseconds), and the schedule and time zone next_at
	 * was computed from, so that a changed trigger is recomputed.
	 */
	"CREATE TABLE schedule_state ("
	"  trigger_id TEXT PRIMARY KEY REFERENCES triggers(trigger_id) ON DELETE CASCADE,"
	"  next_at INTEGER,"			/* NULL: never (invalid) */
	"  last_at INTEGER,"
	"  schedule TEXT NOT NULL DEFAULT '',"
	"  timezone TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX schedule_state_by_next ON schedule_state(next_at) "
	"WHERE next_at IS NOT NULL;",

	/*
	 * 7: secrets at rest (secrets.c): the data key, wrapped by the master
	 * key of [secrets] key_file, and each sealed var's AES-256-GCM value
	 * (its value column is then ''). Vars that an older autokittehd kept
	 * in the clear are sealed at the first start, once the key is loaded.
	 */
	"CREATE TABLE secret_keys ("
	"  key_id INTEGER PRIMARY KEY,"
	"  wrapped BLOB NOT NULL,"		/* sealed by the master key */
	"  created_at INTEGER NOT NULL,"		/* the data key made */
	"  wrapped_at INTEGER NOT NULL"		/* last master key rotation */
	");"
	"ALTER TABLE vars ADD COLUMN sealed BLOB;",

	/*
	 * 8: session retention (session-prune.c) finds finished sessions by
	 * their end, their children by parent, the events no session refers
	 * to, and old events and deliveries by time. sessions_by_end serves
	 * the counts by state too.
	 */
	"CREATE INDEX sessions_by_end ON sessions(state, updated_at);"
	"DROP INDEX sessions_by_state;"
	"CREATE INDEX sessions_by_parent ON sessions(parent_session_id) "
	"WHERE parent_session_id IS NOT NULL;"
	"CREATE INDEX sessions_by_event ON sessions(event_id);"
	"CREATE INDEX events_by_time ON events(created_at);"
	"CREATE INDEX github_deliveries_by_time ON "
	"github_deliveries(received_at);",

	/*
	 * 9: sessions by state, kept by triggers in the transaction that
	 * changes them, so that Status and /metrics read five rows instead
	 * of counting every session ever kept (186 ms with a million).
	 * Never REPLACE a sessions row: without recursive_triggers its
	 * implicit delete would not reach session_counts_delete.
	 */
	"CREATE TABLE session_counts ("
	"  state TEXT PRIMARY KEY,"
	"  n INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO session_counts (state, n) "
	"  SELECT state, count(*) FROM sessions GROUP BY state;"
	"CREATE TRIGGER session_counts_insert AFTER INSERT ON sessions BEGIN "
	"  INSERT OR IGNORE INTO session_counts (state, n) VALUES (NEW.state, 0);"
	"  UPDATE session_counts SET n = n + 1 WHERE state = NEW.state; "
	"END;"
	"CREATE TRIGGER session_counts_delete AFTER DELETE ON sessions BEGIN "
	"  UPDATE session_counts SET n = n - 1 WHERE state = OLD.state; "
	"END;"
	"CREATE TRIGGER session_counts_update AFTER UPDATE OF state ON sessions "
	"  WHEN OLD.state IS NOT NEW.state BEGIN "
	"  UPDATE session_counts SET n = n - 1 WHERE state = OLD.state;"
	"  INSERT OR IGNORE INTO session_counts (state, n) VALUES (NEW.state, 0);"
	"  UPDATE session_counts SET n = n + 1 WHERE state = NEW.state; "
	"END;",

	/*
	 * 10: the sessions session_schedule() may start, oldest first. Its
	 * query went through the state index and sorted: every RUNNING
	 * sleeper was read at each start (17 ms with 44,000 sleepers).
	 */
	"CREATE INDEX sessions_startable ON sessions(created_at, session_id) "
	"WHERE state IN ('created', 'running') AND on_worker = 0 AND "
	"wake_at IS NULL;",

	/*
	 * 11: the sessions on a worker, at most workers.max of them. Recovery
	 * at start clears on_worker, and found them by reading every session
	 * ever kept (300 ms with 620,000), before READY.
	 */
	"CREATE INDEX sessions_on_worker ON sessions(session_id) "
	"WHERE on_worker != 0;",

	/*
	 * 12: SessionsService/List, newest first, of all sessions or of one
	 * state, without reading and sorting every session kept (230 ms with
	 * 620,000). And the wake index holds only live sessions by its own
	 * definition, not only because finishing clears wake_at.
	 */
	"CREATE INDEX sessions_by_created ON sessions(created_at);"
	"CREATE INDEX sessions_by_state_created ON sessions(state, created_at);"
	"DROP INDEX sessions_by_wake;"
	"CREATE INDEX sessions_by_wake ON sessions(wake_at) WHERE wake_at IS "
	"NOT NULL AND state IN ('created', 'running');",

	/*
	 * 13: no index written in a webhook's first commit, on the way to
	 * its session's first line, that 10 did not write: 11 and 12 had put
	 * that line 0.3 ms later (median of 7 interleaved runs). Recovery
	 * finds the sessions on a worker among the live ones
	 * (sessions_by_end); List of all sessions goes newest first by rowid,
	 * the order they were made in; and the list index by state holds only
	 * finished sessions, written once, at the end (a list of the created
	 * or the running sorts those few).
	 */
	"DROP INDEX sessions_on_worker;"
	"DROP INDEX sessions_by_created;"
	"DROP INDEX sessions_by_state_created;"
	"CREATE INDEX sessions_by_state_created ON sessions(state, created_at) "
	"WHERE state IN ('completed', 'error', 'stopped');",
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
