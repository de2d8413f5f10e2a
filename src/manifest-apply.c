/*
 * manifest-apply.c: plan and apply a manifest against the store.
 *
 * The manifest is declarative (reference section 2): the project is
 * created if it is missing; project vars are set when new or changed and
 * deleted when the manifest no longer has them; triggers are matched by
 * name, then created, updated or deleted. Planning and applying are the
 * same walk over the manifest, so what `--dry-run` shows is what apply
 * does: manifest_plan() only reads, manifest_apply() also writes and must
 * run inside a store_write(), so that the whole manifest lands in one
 * transaction or not at all.
 *
 * Connections are created by name, their vars set when new or changed
 * (vars the manifest omits are kept), and connections the manifest no
 * longer has are deleted with their vars. What we cannot run yet is
 * refused with a sentence rather than stored and silently ignored.
 */
#include "autokittehd.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

struct diff {
	struct store		*store;
	const struct manifest	*m;
	json_t			*actions;
	int			 execute;
	int			 project_found;
	char			 project_id[64];
	char			**cause;
};

static void AK_PRINTFLIKE(4, 5)
action_add(struct diff *d, const char *action, const char *key,
    const char *fmt, ...)
{
	va_list ap;
	char *description;

	va_start(ap, fmt);
	xvasprintf(&description, fmt, ap);
	va_end(ap);
	json_array_append_new(d->actions, json_pack("{s:s, s:s, s:s}",
	    "action", action, "key", key, "description", description));
	free(description);
}

static int
store_failed(struct diff *d, const char *what)
{
	xasprintf(d->cause, "cannot %s: %s", what,
	    sqlite3_errmsg(store_db(d->store)));
	return -1;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Run a statement that returns no rows, then finalize it. */
static int
exec_done(struct diff *d, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_failed(d, what);
	return 0;
}

/* The index of the manifest's connection named name, or -1. */
static int
manifest_connection_index(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nconnections; i++) {
		if (strcmp(m->connections[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* ---- what we cannot run yet ---- */

/* A schedule trigger's expression must parse (cron.c). */
static int
check_schedule(const struct manifest *m, size_t i, char **cause)
{
	const struct manifest_trigger *t = &m->triggers[i];
	struct cron *c;
	char *why = NULL;

	if ((c = cron_parse(t->schedule, &why)) != NULL) {
		cron_free(c);
		return 0;
	}
	xasprintf(cause, "%s:%u:%u: project.triggers[%zu].schedule: trigger "
	    "%s: invalid schedule \"%s\": %s", m->filename, t->line,
	    t->column, i, t->name, t->schedule, why);
	free(why);
	return -1;
}

/* A trigger's filter must parse as the CEL subset (cel.c). */
static int
check_filter(const struct manifest *m, size_t i, char **cause)
{
	const struct manifest_trigger *t = &m->triggers[i];
	struct cel_expr *expr;
	char *why = NULL;

	if ((expr = cel_parse(t->filter, &why)) == NULL) {
		xasprintf(cause, "%s:%u:%u: project.triggers[%zu]: trigger %s: "
		    "the filter \"%s\" does not parse: %s", m->filename,
		    t->line, t->column, i, t->name, t->filter, why);
		free(why);
		return -1;
	}
	cel_free(expr);
	return 0;
}

static int
check_supported(const struct manifest *m, char **cause)
{
	const struct manifest_connection *c;
	const struct manifest_trigger *t;

	for (size_t i = 0; i < m->nconnections; i++) {
		c = &m->connections[i];
		if (integration_find(c->integration) == NULL) {
			xasprintf(cause, "%s:%u:%u: project.connections[%zu]: "
			    "connection %s: no integration \"%s\" (this "
			    "autokittehd has github and http)", m->filename,
			    c->line, c->column, i, c->name, c->integration);
			return -1;
		}
	}
	for (size_t i = 0; i < m->ntriggers; i++) {
		t = &m->triggers[i];
		if (t->type == MANIFEST_TRIGGER_CONNECTION &&
		    manifest_connection_index(m, t->connection) < 0) {
			xasprintf(cause, "%s:%u:%u: project.triggers[%zu]: "
			    "trigger %s: connection %s is not one of the "
			    "manifest's project.connections", m->filename,
			    t->line, t->column, i, t->name, t->connection);
			return -1;
		}
		if (t->type == MANIFEST_TRIGGER_SCHEDULE &&
		    check_schedule(m, i, cause) != 0)
			return -1;
		if (check_filter(m, i, cause) != 0)
			return -1;
	}
	return 0;
}

/* ---- project ---- */

/* The ID of the project named name: 1 found, 0 not, -1 with *cause. */
static int
project_lookup(struct store *s, const char *name, char *id, size_t size,
    char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT project_id FROM projects "
	    "WHERE name = ?");
	int rc;

	if (st != NULL) {
		bind_text(st, 1, name);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			snprintf(id, size, "%s",
			    (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			return rc == SQLITE_ROW;
	}
	xasprintf(cause, "cannot look up the project: %s",
	    sqlite3_errmsg(store_db(s)));
	return -1;
}

static int
diff_project(struct diff *d)
{
	const char *name = d->m->project_name;
	sqlite3_stmt *st;
	char *key;
	int rc;

	if ((rc = project_lookup(d->store, name, d->project_id,
	    sizeof d->project_id, d->cause)) < 0)
		return -1;
	if ((d->project_found = rc) != 0)
		return 0;

	xasprintf(&key, "project %s", name);
	action_add(d, "create_project", key, "create project %s", name);
	free(key);
	if (!d->execute)
		return 0;
	if (typeid_new("prj", d->project_id, sizeof d->project_id) != 0) {
		xasprintf(d->cause, "cannot get random bytes for a project id");
		return -1;
	}
	st = store_prepare(d->store, "INSERT INTO projects (project_id, name, "
	    "created_at) VALUES (?, ?, ?)");
	if (st == NULL)
		return store_failed(d, "create the project");
	bind_text(st, 1, d->project_id);
	bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, now_us());
	return exec_done(d, st, "create the project");
}

/* ---- vars ---- */

/* Set var v of scope (a project or a connection), sealed if it must be. */
static int
vars_write(struct diff *d, const char *scope, const struct manifest_var *v,
    const char *what)
{
	sqlite3_stmt *st = store_prepare(d->store, "INSERT INTO vars "
	    "(scope_id, name, value, is_secret, description, sealed) "
	    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope_id, name) DO UPDATE "
	    "SET value = excluded.value, is_secret = excluded.is_secret, "
	    "description = excluded.description, sealed = excluded.sealed");

	if (st == NULL)
		return store_failed(d, what);
	bind_text(st, 1, scope);
	bind_text(st, 2, v->name);
	if (vars_bind_value(st, 3, 6, scope, v->name, v->value, v->secret != 0,
	    d->cause) != 0) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_bind_int(st, 4, v->secret != 0);
	bind_text(st, 5, v->description);
	return exec_done(d, st, what);
}

static int
var_set(struct diff *d, const struct manifest_var *v)
{
	return vars_write(d, d->project_id, v, "set a var");
}

/*
 * Does the value of the row of st (value column, sealed column) differ
 * from want? 1 or 0, or -1 with *d->cause when it cannot be decrypted.
 */
static int
var_value_differs(struct diff *d, sqlite3_stmt *st, const char *scope,
    const char *name, const char *want)
{
	char *value = vars_column_value(st, 0, 3, scope, name, d->cause);
	int differs;

	if (value == NULL)
		return -1;
	differs = strcmp(value, want) != 0;
	vars_value_free(value);
	return differs;
}

/* "" when v matches the stored var, else what differs. */
static int
var_changes(struct diff *d, const struct manifest_var *v, char *out,
    size_t size)
{
	sqlite3_stmt *st;
	int rc;

	snprintf(out, size, "new");
	st = store_prepare(d->store, "SELECT value, is_secret, description, "
	    "sealed FROM vars WHERE scope_id = ? AND name = ?");
	if (st == NULL)
		return store_failed(d, "read the vars");
	bind_text(st, 1, d->project_id);
	bind_text(st, 2, v->name);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int value = var_value_differs(d, st, d->project_id, v->name,
		    v->value);
		int secret = (sqlite3_column_int(st, 1) != 0) !=
		    (v->secret != 0);
		int description = strcmp((const char *)sqlite3_column_text(st,
		    2), v->description) != 0;

		if (value < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		snprintf(out, size, "%s%s%s%s%s%s", value ? "value" : "",
		    value && (secret || description) ? ", " : "",
		    secret ? "secret flag" : "",
		    secret && description ? ", " : "",
		    description ? "description" : "",
		    value || secret || description ? " changed" : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_failed(d, "read the vars");
	return 0;
}

static int
in_manifest_vars(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nvars; i++) {
		if (strcmp(m->vars[i].name, name) == 0)
			return 1;
	}
	return 0;
}

static int
var_delete(struct diff *d, const char *name)
{
	sqlite3_stmt *st = store_prepare(d->store, "DELETE FROM vars WHERE "
	    "scope_id = ? AND name = ?");

	if (st == NULL)
		return store_failed(d, "delete a var");
	bind_text(st, 1, d->project_id);
	bind_text(st, 2, name);
	return exec_done(d, st, "delete a var");
}

/*
 * The rows of sql (id, name, type; bound to the project id) whose name is
 * not in the manifest, read in full before anything is deleted.
 */
static json_t *
stale_names(struct diff *d, const char *sql,
    int (*in_manifest)(const struct manifest *, const char *))
{
	sqlite3_stmt *st = store_prepare(d->store, sql);
	json_t *rows = json_array();
	int rc;

	if (st == NULL) {
		store_failed(d, "read the project");
		json_decref(rows);
		return NULL;
	}
	bind_text(st, 1, d->project_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (in_manifest(d->m, name))
			continue;
		json_array_append_new(rows, json_pack("[s, s, s]",
		    sqlite3_column_text(st, 0), name,
		    sqlite3_column_text(st, 2)));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_failed(d, "read the project");
		json_decref(rows);
		return NULL;
	}
	return rows;
}

static int
diff_vars(struct diff *d)
{
	const char *project = d->m->project_name;
	char changes[80], *key;

	for (size_t i = 0; i < d->m->nvars; i++) {
		const struct manifest_var *v = &d->m->vars[i];

		if (var_changes(d, v, changes, sizeof changes) != 0)
			return -1;
		if (*changes == '\0')
			continue;
		xasprintf(&key, "var %s/%s", project, v->name);
		action_add(d, "set_var", key, "set var %s of project %s: %s",
		    v->name, project, changes);
		free(key);
		if (d->execute && var_set(d, v) != 0)
			return -1;
	}
	return 0;
}

/* ---- connections (reference 1.8) ---- */

static void changed(char *, size_t, int, const char *);
static int column_differs(sqlite3_stmt *, int, const char *);

/*
 * The id of the project's connection named name, and its integration:
 * 1 found, 0 not (or no project yet), -1 with *d->cause.
 */
static int
connection_lookup(struct diff *d, const char *name, char *id, size_t size,
    char *integration, size_t isize)
{
	sqlite3_stmt *st;
	int rc;

	*id = '\0';
	if (!d->project_found && *d->project_id == '\0')
		return 0;
	st = store_prepare(d->store, "SELECT connection_id, integration FROM "
	    "connections WHERE project_id = ? AND name = ?");
	if (st == NULL)
		return store_failed(d, "read the connections");
	bind_text(st, 1, d->project_id);
	bind_text(st, 2, name);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(id, size, "%s", sqlite3_column_text(st, 0));
		if (integration != NULL)
			snprintf(integration, isize, "%s",
			    sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_failed(d, "read the connections");
	return rc == SQLITE_ROW;
}

static int
connection_insert(struct diff *d, const struct manifest_connection *c,
    char *id, size_t size)
{
	sqlite3_stmt *st;
	char *message = NULL;
	enum connection_status status;

	if (typeid_new("con", id, size) != 0) {
		xasprintf(d->cause, "cannot get random bytes for a connection "
		    "id");
		return -1;
	}
	st = store_prepare(d->store, "INSERT INTO connections (connection_id, "
	    "project_id, integration, name, status, created_at) VALUES "
	    "(?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return store_failed(d, "create a connection");
	/* Its vars are set next; RefreshStatus recomputes this. */
	status = c->nvars > 0 ? CONNECTION_OK : integration_status(
	    integration_find(c->integration), id, &message);
	free(message);
	bind_text(st, 1, id);
	bind_text(st, 2, d->project_id);
	bind_text(st, 3, c->integration);
	bind_text(st, 4, c->name);
	bind_text(st, 5, connection_status_stored(status));
	sqlite3_bind_int64(st, 6, now_us());
	return exec_done(d, st, "create a connection");
}

/* "" when v matches the var of scope, else what differs. */
static int
cvar_changes(struct diff *d, const char *scope, const struct manifest_var *v,
    char *out, size_t size)
{
	sqlite3_stmt *st;
	int rc;

	snprintf(out, size, "new");
	if (*scope == '\0')
		return 0;
	st = store_prepare(d->store, "SELECT value, is_secret, description, "
	    "sealed FROM vars WHERE scope_id = ? AND name = ?");
	if (st == NULL)
		return store_failed(d, "read the vars");
	bind_text(st, 1, scope);
	bind_text(st, 2, v->name);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int value = var_value_differs(d, st, scope, v->name, v->value);
		int secret = (sqlite3_column_int(st, 1) != 0) !=
		    (v->secret != 0);
		int description = strcmp((const char *)sqlite3_column_text(st,
		    2), v->description) != 0;

		if (value < 0) {
			sqlite3_finalize(st);
			return -1;
		}
		*out = '\0';
		changed(out, size, value, "value");
		changed(out, size, secret, "secret flag");
		changed(out, size, description, "description");
		if (*out != '\0')
			snprintf(out + strlen(out), size - strlen(out),
			    " changed");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_failed(d, "read the vars");
	return 0;
}

static int
cvar_set(struct diff *d, const char *scope, const struct manifest_var *v)
{
	return vars_write(d, scope, v, "set a connection var");
}

/*
 * Create the manifest's connections that are missing, then set their
 * vars when new or changed. Vars the manifest does not list are kept:
 * a connection's pat or secret is often set outside the manifest (akctl
 * var set --connection), as AutoKitteh keeps them without
 * --rm-unused-cvars.
 */
static int
diff_connections(struct diff *d)
{
	const char *project = d->m->project_name;
	char id[64], integration[64], changes[80], *key;
	int rc;

	for (size_t i = 0; i < d->m->nconnections; i++) {
		const struct manifest_connection *c = &d->m->connections[i];

		if ((rc = connection_lookup(d, c->name, id, sizeof id,
		    integration, sizeof integration)) < 0)
			return -1;
		if (rc == 1 && strcmp(integration, c->integration) != 0) {
			xasprintf(d->cause, "%s:%u:%u: project.connections"
			    "[%zu]: connection %s: the integration cannot "
			    "change from %s to %s; rename the connection or "
			    "delete it first", d->m->filename, c->line,
			    c->column, i, c->name, integration,
			    c->integration);
			return -1;
		}
		if (rc == 0) {
			xasprintf(&key, "connection %s/%s", project, c->name);
			action_add(d, "create_connection", key, "create %s "
			    "connection %s in project %s", c->integration,
			    c->name, project);
			free(key);
			if (d->execute && connection_insert(d, c, id,
			    sizeof id) != 0)
				return -1;
		}
		for (size_t j = 0; j < c->nvars; j++) {
			const struct manifest_var *v = &c->vars[j];

			if (cvar_changes(d, id, v, changes,
			    sizeof changes) != 0)
				return -1;
			if (*changes == '\0')
				continue;
			xasprintf(&key, "var %s/%s/%s", project, c->name,
			    v->name);
			action_add(d, "set_var", key, "set var %s of "
			    "connection %s: %s", v->name, c->name, changes);
			free(key);
			if (d->execute && cvar_set(d, id, v) != 0)
				return -1;
		}
	}
	return 0;
}

static int
in_manifest_connections(const struct manifest *m, const char *name)
{
	return manifest_connection_index(m, name) >= 0;
}

/* A stale connection goes with its vars and the triggers that use it. */
static int
stale_connection_delete(struct diff *d, const char *id)
{
	return connection_delete(d->store, id, d->cause);
}

/*
 * A connection trigger's connection_id: the id of the connection it
 * names ("" in a plan, before the connection is created).
 */
static int
trigger_connection_id(struct diff *d, const struct manifest_trigger *t,
    char *id, size_t size)
{
	*id = '\0';
	if (t->type != MANIFEST_TRIGGER_CONNECTION)
		return 0;
	return connection_lookup(d, t->connection, id, size, NULL, 0) < 0 ?
	    -1 : 0;
}

/* Store t's connection_id on the project's trigger named t->name. */
static int
trigger_set_connection(struct diff *d, const struct manifest_trigger *t)
{
	char conn[64];
	sqlite3_stmt *st;

	if (trigger_connection_id(d, t, conn, sizeof conn) != 0)
		return -1;
	st = store_prepare(d->store, "UPDATE triggers SET connection_id = ? "
	    "WHERE project_id = ? AND name = ?");
	if (st == NULL)
		return store_failed(d, "set a trigger's connection");
	bind_text(st, 1, conn);
	bind_text(st, 2, d->project_id);
	bind_text(st, 3, t->name);
	return exec_done(d, st, "set a trigger's connection");
}

/* Does the stored trigger id use another connection than t names? */
static int
trigger_connection_differs(struct diff *d, const char *id,
    const struct manifest_trigger *t)
{
	char conn[64];
	sqlite3_stmt *st;
	int differs = 0;

	if (trigger_connection_id(d, t, conn, sizeof conn) != 0)
		return -1;
	st = store_prepare(d->store, "SELECT connection_id FROM triggers "
	    "WHERE trigger_id = ?");
	if (st == NULL)
		return store_failed(d, "read the triggers");
	bind_text(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		differs = column_differs(st, 0, conn);
	sqlite3_finalize(st);
	return differs;
}

/* ---- triggers ---- */

static int
trigger_insert(struct diff *d, const struct manifest_trigger *t)
{
	char id[64], slug[64];
	sqlite3_stmt *st;

	if (typeid_new("trg", id, sizeof id) != 0 ||
	    typeid_new("trg", slug, sizeof slug) != 0) {
		xasprintf(d->cause, "cannot get random bytes for a trigger id");
		return -1;
	}
	st = store_prepare(d->store, "INSERT INTO triggers (trigger_id, "
	    "project_id, name, source_type, event_type, filter, code_path, "
	    "code_name, is_durable, is_sync, webhook_slug, schedule, "
	    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return store_failed(d, "create a trigger");
	bind_text(st, 1, id);
	bind_text(st, 2, d->project_id);
	bind_text(st, 3, t->name);
	bind_text(st, 4, manifest_trigger_type_name(t->type));
	bind_text(st, 5, t->event_type);
	bind_text(st, 6, t->filter);
	bind_text(st, 7, t->code_path);
	bind_text(st, 8, t->code_name);
	sqlite3_bind_int(st, 9, t->is_durable != 0);
	sqlite3_bind_int(st, 10, t->is_sync != 0);
	if (t->type == MANIFEST_TRIGGER_WEBHOOK)	/* the part after '_' */
		bind_text(st, 11, strchr(slug, '_') + 1);
	bind_text(st, 12, t->schedule);
	sqlite3_bind_int64(st, 13, now_us());
	if (exec_done(d, st, "create a trigger") != 0)
		return -1;
	return t->type == MANIFEST_TRIGGER_CONNECTION ?
	    trigger_set_connection(d, t) : 0;
}

static int
trigger_update(struct diff *d, const char *id, const struct manifest_trigger *t)
{
	sqlite3_stmt *st = store_prepare(d->store, "UPDATE triggers SET "
	    "event_type = ?, filter = ?, code_path = ?, code_name = ?, "
	    "is_durable = ?, is_sync = ?, schedule = ? WHERE trigger_id = ?");

	if (st == NULL)
		return store_failed(d, "update a trigger");
	bind_text(st, 1, t->event_type);
	bind_text(st, 2, t->filter);
	bind_text(st, 3, t->code_path);
	bind_text(st, 4, t->code_name);
	sqlite3_bind_int(st, 5, t->is_durable != 0);
	sqlite3_bind_int(st, 6, t->is_sync != 0);
	bind_text(st, 7, t->schedule);
	bind_text(st, 8, id);
	if (exec_done(d, st, "update a trigger") != 0)
		return -1;
	return t->type == MANIFEST_TRIGGER_CONNECTION ?
	    trigger_set_connection(d, t) : 0;
}

static void
changed(char *out, size_t size, int differs, const char *field)
{
	size_t len = strlen(out);

	if (differs)
		snprintf(out + len, size - len, "%s%s", len > 0 ? ", " : "",
		    field);
}

static int
column_differs(sqlite3_stmt *st, int i, const char *want)
{
	const unsigned char *have = sqlite3_column_text(st, i);

	return strcmp(have != NULL ? (const char *)have : "", want) != 0;
}

static int
diff_trigger(struct diff *d, size_t index)
{
	const struct manifest_trigger *t = &d->m->triggers[index];
	const char *project = d->m->project_name, *type;
	char id[64] = "", fields[160] = "", *key;
	sqlite3_stmt *st;
	int rc, ret = 0;

	type = manifest_trigger_type_name(t->type);
	st = store_prepare(d->store, "SELECT trigger_id, source_type, "
	    "event_type, filter, code_path, code_name, is_durable, is_sync, "
	    "schedule FROM triggers WHERE project_id = ? AND name = ?");
	if (st == NULL)
		return store_failed(d, "read the triggers");
	bind_text(st, 1, d->project_id);
	bind_text(st, 2, t->name);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(id, sizeof id, "%s", sqlite3_column_text(st, 0));
		if (column_differs(st, 1, type)) {
			xasprintf(d->cause, "%s:%u:%u: project.triggers[%zu]: "
			    "trigger %s: the source type cannot change from "
			    "%s to %s; delete and re-create it",
			    d->m->filename, t->line, t->column, index, t->name,
			    sqlite3_column_text(st, 1), type);
			ret = -1;
		}
		changed(fields, sizeof fields, column_differs(st, 2,
		    t->event_type), "event_type");
		changed(fields, sizeof fields, column_differs(st, 3, t->filter),
		    "filter");
		changed(fields, sizeof fields, column_differs(st, 4,
		    t->code_path) || column_differs(st, 5, t->code_name),
		    "call");
		changed(fields, sizeof fields, (sqlite3_column_int(st, 6) != 0)
		    != (t->is_durable != 0), "is_durable");
		changed(fields, sizeof fields, (sqlite3_column_int(st, 7) != 0)
		    != (t->is_sync != 0), "is_sync");
		changed(fields, sizeof fields, column_differs(st, 8,
		    t->schedule), "schedule");
	}
	sqlite3_finalize(st);
	if (ret == 0 && *id != '\0') {
		int c = trigger_connection_differs(d, id, t);

		if (c < 0)
			return -1;
		changed(fields, sizeof fields, c, "connection");
	}
	if (ret != 0)
		return -1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_failed(d, "read the triggers");

	xasprintf(&key, "trigger %s/%s", project, t->name);
	if (*id == '\0') {
		action_add(d, "create_trigger", key, "create %s trigger %s in "
		    "project %s%s%s", type, t->name, project,
		    *t->call != '\0' ? ", calling " : "", t->call);
		ret = d->execute ? trigger_insert(d, t) : 0;
	} else if (*fields != '\0') {
		action_add(d, "update_trigger", key, "update trigger %s of "
		    "project %s: %s changed", t->name, project, fields);
		ret = d->execute ? trigger_update(d, id, t) : 0;
	}
	free(key);
	return ret;
}

static int
in_manifest_triggers(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->ntriggers; i++) {
		if (strcmp(m->triggers[i].name, name) == 0)
			return 1;
	}
	return 0;
}

/* A deleted trigger takes the vars scoped to it along. */
static int
trigger_delete(struct diff *d, const char *id)
{
	sqlite3_stmt *st;

	st = store_prepare(d->store, "DELETE FROM vars WHERE scope_id = ?");
	if (st == NULL)
		return store_failed(d, "delete a trigger");
	bind_text(st, 1, id);
	if (exec_done(d, st, "delete a trigger's vars") != 0)
		return -1;
	st = store_prepare(d->store, "DELETE FROM triggers WHERE "
	    "trigger_id = ?");
	if (st == NULL)
		return store_failed(d, "delete a trigger");
	bind_text(st, 1, id);
	return exec_done(d, st, "delete a trigger");
}

static int
diff_triggers(struct diff *d)
{
	for (size_t i = 0; i < d->m->ntriggers; i++) {
		if (diff_trigger(d, i) != 0)
			return -1;
	}
	return 0;
}

/* ---- what the manifest no longer has ---- */

/*
 * A kind of thing of the project that is deleted when the manifest drops
 * it. sql reads (id, name, type) bound to the project id; the plan line
 * is "delete [TYPE ]NOUN NAME of project P[ALSO]: not in the manifest".
 */
struct stale_kind {
	const char	 *sql;
	int		(*in_manifest)(const struct manifest *, const char *);
	const char	 *action;
	const char	 *noun;
	const char	 *also;
	int		(*delete)(struct diff *, const char *id);
};

static const struct stale_kind stale_vars = {
	"SELECT name, name, '' FROM vars WHERE scope_id = ? ORDER BY name",
	in_manifest_vars, "delete_var", "var", "", var_delete
};
static const struct stale_kind stale_triggers = {
	"SELECT trigger_id, name, source_type FROM triggers WHERE "
	"project_id = ? ORDER BY name",
	in_manifest_triggers, "delete_trigger", "trigger", "", trigger_delete
};
static const struct stale_kind stale_connections = {
	"SELECT connection_id, name, integration FROM connections WHERE "
	"project_id = ? ORDER BY name",
	in_manifest_connections, "delete_connection", "connection",
	" and its vars", stale_connection_delete
};

/* Plan (and with d->execute, do) the deletes of kind's stale rows. */
static int
diff_stale(struct diff *d, const struct stale_kind *kind)
{
	const char *project = d->m->project_name;
	json_t *gone, *row;
	char *key;
	size_t i;

	if (*d->project_id == '\0')
		return 0;
	if ((gone = stale_names(d, kind->sql, kind->in_manifest)) == NULL)
		return -1;
	json_array_foreach(gone, i, row) {
		const char *id = json_string_value(json_array_get(row, 0));
		const char *name = json_string_value(json_array_get(row, 1));
		const char *type = json_string_value(json_array_get(row, 2));

		xasprintf(&key, "%s %s/%s", kind->noun, project, name);
		action_add(d, kind->action, key, "delete %s%s%s %s of project "
		    "%s%s: not in the manifest", type, *type != '\0' ? " " : "",
		    kind->noun, name, project, kind->also);
		free(key);
		if (d->execute && kind->delete(d, id) != 0) {
			json_decref(gone);
			return -1;
		}
	}
	json_decref(gone);
	return 0;
}

/* ---- the build the manifest is applied with ---- */

/* The ID of m's project: 1 found, 0 not (yet), -1 with *cause. */
int
manifest_project_id(struct store *s, const struct manifest *m, char *id,
    size_t size, char **cause)
{
	return project_lookup(s, m->project_name, id, size, cause);
}

/*
 * ApplyService/Apply's build_id, checked before m is planned: the build
 * must be one of m's project's, and every trigger of m with a call must
 * name a file and function it exports (the sentences DeploymentsService/
 * Create would say later), so that a manifest the build cannot run is not
 * applied. 0, or -1 with *code and *cause.
 */
int
manifest_check_build(struct store *s, const struct manifest *m,
    const char *build_id, enum connect_code *code, char **cause)
{
	const struct manifest_trigger *t;
	char project_id[64];
	json_t *exports;
	int rc, ret = 0;

	if ((rc = manifest_project_id(s, m, project_id, sizeof project_id,
	    cause)) <= 0) {
		*code = rc < 0 ? CONNECT_INTERNAL : CONNECT_INVALID_ARGUMENT;
		if (rc == 0)
			xasprintf(cause, "build %s cannot be a build of "
			    "project %s: there is no project %s yet",
			    build_id, m->project_name, m->project_name);
		return -1;
	}
	if ((exports = deployment_build_exports(s, build_id, project_id, code,
	    cause)) == NULL)
		return -1;
	for (size_t i = 0; ret == 0 && i < m->ntriggers; i++) {
		t = &m->triggers[i];
		if (*t->code_path != '\0' && deployment_check_call(exports,
		    t->name, t->code_path, t->code_name, cause) != 0) {
			*code = CONNECT_FAILED_PRECONDITION;
			ret = -1;
		}
	}
	json_decref(exports);
	return ret;
}

/* ---- plan and apply ---- */

static int
diff_run(struct diff *d)
{
	if (check_supported(d->m, d->cause) != 0)
		return -1;
	/*
	 * Stale connections go after the triggers, as the triggers may move
	 * off them: deleting a connection deletes the triggers that use it.
	 */
	if (diff_project(d) != 0 || diff_vars(d) != 0 ||
	    diff_stale(d, &stale_vars) != 0 || diff_connections(d) != 0 ||
	    diff_triggers(d) != 0 || diff_stale(d, &stale_triggers) != 0 ||
	    diff_stale(d, &stale_connections) != 0)
		return -1;
	return 0;
}

/* The actions apply would take, as a new JSON array; NULL with *cause. */
json_t *
manifest_plan(struct store *s, const struct manifest *m, char **cause)
{
	struct diff d;

	memset(&d, 0, sizeof d);
	d.store = s;
	d.m = m;
	d.actions = json_array();
	d.cause = cause;
	if (diff_run(&d) != 0) {
		json_decref(d.actions);
		return NULL;
	}
	return d.actions;
}

static void
schedules_changed(int ok, const char *cause, void *arg)
{
	(void)cause;
	(void)arg;
	if (ok)
		sched_rearm();
}

/*
 * Apply m, appending the actions taken to actions_out (may be NULL). Runs
 * inside a store_write(): on failure the caller's savepoint undoes the
 * actions already taken. *project_id_out (may be NULL) gets the project id.
 */
int
manifest_apply(struct store *s, const struct manifest *m, json_t *actions_out,
    char **project_id_out, char **cause)
{
	struct diff d;
	int rc;

	memset(&d, 0, sizeof d);
	d.store = s;
	d.m = m;
	d.actions = actions_out != NULL ? json_incref(actions_out) :
	    json_array();
	d.execute = 1;
	d.cause = cause;
	rc = diff_run(&d);
	json_decref(d.actions);
	if (rc != 0)
		return -1;
	/* Schedule triggers may have changed: recompute when committed. */
	store_on_commit(s, schedules_changed, NULL);
	if (project_id_out != NULL)
		*project_id_out = xstrdup(d.project_id);
	return 0;
}
