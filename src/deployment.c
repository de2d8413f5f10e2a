/*
 * deployment.c: deployment state rules (reference section 1.4).
 *
 * States are stored lowercase (active, testing, draining, inactive) and
 * shown as DEPLOYMENT_STATE_*. A DRAINING deployment becomes INACTIVE once
 * its last non-final session ends: session.c calls
 * deployment_session_ended() when a session reaches a final state.
 *
 * What a build must have for the project's triggers (every call a file and
 * function it exports) is checked here too, for DeploymentsService/Create
 * against the stored triggers and for ApplyService/Apply's build_id
 * against the manifest's, so that both say the same sentence.
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>

static const char *const deployment_states[] = {
	"", "active", "testing", "draining", "inactive",
};
const char *const deployment_state_names[DEPLOYMENT_STATE_COUNT] = {
	"DEPLOYMENT_STATE_UNSPECIFIED", "DEPLOYMENT_STATE_ACTIVE",
	"DEPLOYMENT_STATE_TESTING", "DEPLOYMENT_STATE_DRAINING",
	"DEPLOYMENT_STATE_INACTIVE",
};

/* "active" -> "DEPLOYMENT_STATE_ACTIVE"; unknown -> UNSPECIFIED. */
const char *
deployment_state_enum(const char *stored)
{
	for (size_t i = 1; i < nitems(deployment_states); i++) {
		if (strcmp(deployment_states[i], stored) == 0)
			return deployment_state_names[i];
	}
	return deployment_state_names[0];
}

/* Proto number -> stored word; NULL for UNSPECIFIED or out of range. */
const char *
deployment_state_stored(int state)
{
	if (state <= 0 || state >= (int)nitems(deployment_states))
		return NULL;
	return deployment_states[state];
}

/* Sessions of the deployment not yet final; -1 on a store error. */
int64_t
deployment_live_sessions(struct store *s, const char *deployment_id)
{
	return api_row_count(s, "SELECT count(*) FROM sessions WHERE "
	    "deployment_id = ? AND state IN ('created', 'running')",
	    deployment_id);
}

/* Does exports ([{file, name, line}]) have file (and name, if given)? */
static int
exports_have(json_t *exports, const char *file, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(exports, i, e) {
		const char *f = json_string_value(json_object_get(e, "file"));
		const char *n = json_string_value(json_object_get(e, "name"));

		if (f != NULL && strcmp(f, file) == 0 && (name == NULL ||
		    (n != NULL && strcmp(n, name) == 0)))
			return 1;
	}
	return 0;
}

/*
 * Trigger calls path:fn (fn "" for no function): does the build whose
 * exports these are have them? 0, or -1 with *cause saying what it lacks.
 */
int
deployment_check_call(json_t *exports, const char *trigger, const char *path,
    const char *fn, char **cause)
{
	if (!exports_have(exports, path, NULL))
		xasprintf(cause, "trigger %s calls %s:%s, but the build has no "
		    "file %s", trigger, path, fn, path);
	else if (*fn != '\0' && !exports_have(exports, path, fn))
		xasprintf(cause, "trigger %s calls %s:%s, but the build has no "
		    "function %s in %s", trigger, path, fn, fn, path);
	else
		return 0;
	return -1;
}

/*
 * The exports of build_id, which must belong to project_id: a new JSON
 * array, or NULL with *code (a CONNECT_* code) and *cause.
 */
json_t *
deployment_build_exports(struct store *s, const char *build_id,
    const char *project_id, enum connect_code *code, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT project_id, exports FROM "
	    "builds WHERE build_id = ?");
	json_t *exports = NULL;
	char owner[80] = "";
	int rc;

	if (st == NULL) {
		*code = CONNECT_INTERNAL;
		xasprintf(cause, "cannot read the builds");
		return NULL;
	}
	sqlite3_bind_text(st, 1, build_id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(owner, sizeof owner, "%s", api_column_text(st, 0));
		exports = json_loads(api_column_text(st, 1), 0, NULL);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		*code = CONNECT_NOT_FOUND;
		xasprintf(cause, "no build %s", build_id);
	} else if (rc != SQLITE_ROW) {
		*code = CONNECT_INTERNAL;
		xasprintf(cause, "cannot read the builds");
	} else if (strcmp(owner, project_id) != 0) {
		*code = CONNECT_INVALID_ARGUMENT;
		xasprintf(cause, "build %s belongs to project %s, not %s",
		    build_id, owner, project_id);
	} else if (!json_is_array(exports)) {
		*code = CONNECT_INTERNAL;
		xasprintf(cause, "cannot read the build's exports");
	} else
		return exports;
	json_decref(exports);
	return NULL;
}

struct drained {
	char	 id[80];
	int	 changed;
};

static int
deployment_drained_write(struct store *s, void *arg, char **cause)
{
	struct drained *d = arg;
	sqlite3_stmt *st = store_prepare(s, "UPDATE deployments SET state = "
	    "'inactive', updated_at = ?1 WHERE deployment_id = ?2 AND state = "
	    "'draining' AND NOT EXISTS (SELECT 1 FROM sessions WHERE "
	    "deployment_id = ?2 AND state IN ('created', 'running'))");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_int64(st, 1, now_us());
	sqlite3_bind_text(st, 2, d->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "updating the deployment: %s",
		    sqlite3_errmsg(store_db(s)));
	else
		d->changed = sqlite3_changes(store_db(s)) > 0;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
deployment_drained_done(int ok, const char *cause, void *arg)
{
	char *id = arg;

	if (!ok)
		log_warning("deployment %s: cannot mark it inactive after "
		    "draining: %s; it stays draining", id,
		    cause != NULL ? cause : "commit failed");
	else
		log_notice("deployment %s drained: now inactive", id);
	free(id);
}

/* If the deployment is DRAINING and has no session left, make it INACTIVE. */
void
deployment_session_ended(const char *deployment_id)
{
	struct store *s = controller->store;
	struct drained d;
	char *cause = NULL, *done_id;
	int rc;

	if (deployment_id == NULL || *deployment_id == '\0')
		return;
	rc = api_row_exists(s, "SELECT 1 FROM deployments WHERE deployment_id "
	    "= ? AND state = 'draining'", deployment_id);
	if (rc != 1 || deployment_live_sessions(s, deployment_id) != 0)
		return;
	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%s", deployment_id);
	/* The write runs now, inside the batch: d may live on our stack. */
	done_id = xstrdup(deployment_id);
	if (store_write(s, deployment_drained_write, &d,
	    deployment_drained_done, done_id, &cause) != 0) {
		log_warning("deployment %s: cannot mark it inactive after "
		    "draining: %s", deployment_id, cause);
		free(cause);
		free(done_id);
	}
}
