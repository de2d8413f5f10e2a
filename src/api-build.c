/*
 * api-build.c: autokitteh.builds.v1.BuildsService: Get, List, Delete,
 * Download (Save is refused: builds come from ProjectsService.Build).
 *
 * A build is an immutable artifact made by build.c; this file only reads
 * and deletes them.
 */
#include "autokittehd.h"

#include <stdlib.h>

#define BUILDS_LIST_DEFAULT	100
#define BUILDS_LIST_MAX		1000

const char *const api_build_get_fields[] = { "build_id", NULL };
const char *const api_build_list_fields[] = { "project_id", "limit",
    "org_id", NULL };
const char *const api_build_delete_fields[] = { "build_id", NULL };
const char *const api_build_download_fields[] = { "build_id", NULL };
const char *const api_build_save_fields[] = { "build", "data", NULL };

#define BUILD_COLUMNS "build_id, project_id, created_at"

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

static json_t *
build_row_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:o}", "build_id", api_column_text(st, 0),
	    "project_id", api_column_text(st, 1), "created_at",
	    timestamp_us_json(sqlite3_column_int64(st, 2)));
}

void
api_build_get(struct api_call *call, json_t *req)
{
	const char *id;
	sqlite3_stmt *st;
	int rc;

	if (api_id_field(call, req, "build_id", "bld", 1, &id) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT " BUILD_COLUMNS " FROM "
	    "builds WHERE build_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		api_reply(call, json_pack("{s:o}", "build", build_row_json(st)));
	else if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no build %s", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
	sqlite3_finalize(st);
}

/* The newest `limit` builds, answered oldest first (AutoKitteh's order). */
void
api_build_list(struct api_call *call, json_t *req)
{
	const char *project, *org;
	sqlite3_stmt *st;
	int64_t limit;
	json_t *list;
	int rc;

	if (api_id_field(call, req, "project_id", "prj", 0, &project) != 0 ||
	    api_string_field(call, req, "org_id", &org) != 0 ||
	    api_int_field(call, req, "limit", 0, UINT32_MAX, 0, &limit) != 0)
		return;
	if (limit == 0 || limit > BUILDS_LIST_MAX)
		limit = limit == 0 ? BUILDS_LIST_DEFAULT : BUILDS_LIST_MAX;
	st = store_prepare(call_store(call), "SELECT * FROM (SELECT "
	    BUILD_COLUMNS ", rowid AS r FROM builds WHERE ?1 IS NULL OR "
	    "project_id = ?1 ORDER BY created_at DESC, r DESC LIMIT ?2) "
	    "ORDER BY created_at, r");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
		return;
	}
	if (project != NULL)
		sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, build_row_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
		return;
	}
	api_reply(call, json_pack("{s:o}", "builds", list));
}

static int
build_delete_write(struct store *s, void *arg, char **cause)
{
	return api_exec1(s, "DELETE FROM builds WHERE build_id = ?", arg,
	    cause);
}

void
api_build_delete(struct api_call *call, json_t *req)
{
	struct store *s = call_store(call);
	const char *id;
	int64_t used;
	int rc;

	if (api_id_field(call, req, "build_id", "bld", 1, &id) != 0)
		return;
	rc = api_row_exists(s, "SELECT 1 FROM builds WHERE build_id = ?", id);
	used = api_row_count(s, "SELECT count(*) FROM deployments WHERE "
	    "build_id = ?", id);
	if (rc < 0 || used < 0) {
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
		return;
	}
	if (rc == 0) {
		api_error(call, CONNECT_NOT_FOUND, "no build %s", id);
		return;
	}
	if (used > 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "build %s is used "
		    "by %lld deployment(s): delete them first", id,
		    (long long)used);
		return;
	}
	if (api_write(call, build_delete_write, (void *)id, json_object()) == 0)
		log_notice("build %s deleted", id);
}

void
api_build_download(struct api_call *call, json_t *req)
{
	const char *id;
	sqlite3_stmt *st;
	int rc;

	if (api_id_field(call, req, "build_id", "bld", 1, &id) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT artifact FROM builds "
	    "WHERE build_id = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		api_reply(call, json_pack("{s:o}", "data", api_base64_json(
		    sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0))));
	else if (rc == SQLITE_DONE)
		api_error(call, CONNECT_NOT_FOUND, "no build %s", id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the builds");
	sqlite3_finalize(st);
}

void
api_build_save(struct api_call *call, json_t *req)
{
	api_error(call, CONNECT_UNIMPLEMENTED, "builds are made with "
	    "ProjectsService.Build");
}
