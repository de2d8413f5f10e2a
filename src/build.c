/*
 * build.c: turn a project's uploaded resources into a build.
 *
 * A build is compiled in a sandboxed worker like any session: we send
 * BUILD{files} and get BUILT{ok, artifact, exports, errors} back. The
 * artifact (sources and code objects tied to the worker's Python) is
 * opaque to us; we store it with the list of exported functions, which
 * deployments check trigger calls against. Syntax errors come back as
 * "file:line:col: message" lines. Builds wait in a queue for a worker and
 * go before sessions.
 */
#include "autokittehd.h"
#include "frame.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define BUILD_MAX_FILES	1000

struct build_job {
	char			 project_id[64];
	build_done_fn		 done;
	void			*arg;
	struct worker		*worker;
	int			 answered;
	/* the result, kept until the commit */
	char			 build_id[64];
	uint8_t			*artifact;
	size_t			 artifact_len;
	char			*exports;	/* JSON text */
	TAILQ_ENTRY(build_job)	 entry;
};
TAILQ_HEAD(build_queue, build_job);
static struct build_queue build_queue = TAILQ_HEAD_INITIALIZER(build_queue);

static void
build_job_free(struct build_job *job)
{
	free(job->artifact);
	free(job->exports);
	free(job);
}

static void
build_finish(struct build_job *job, const char *build_id, const char *error)
{
	if (job->answered)
		return;
	job->answered = 1;
	job->done(build_id, error, job->arg);
}

static int
build_insert(struct store *s, void *arg, char **cause)
{
	struct build_job *job = arg;
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO builds (build_id, "
	    "project_id, created_at, artifact, exports) VALUES (?, ?, ?, ?, ?)");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, job->build_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job->project_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_us());
	sqlite3_bind_blob(st, 4, job->artifact, (int)job->artifact_len,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 5, job->exports, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the build: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
build_committed(int ok, const char *cause, void *arg)
{
	struct build_job *job = arg;
	char *why;

	if (ok)
		build_finish(job, job->build_id, NULL);
	else {
		xasprintf(&why, "the build could not be saved: %s", cause);
		build_finish(job, NULL, why);
		free(why);
	}
	build_job_free(job);
}

/* exports: [{file, name, line}] -> JSON text. */
static char *
build_exports_json(struct frame_msg *msg, char **cause)
{
	const msgpack_object *arr;
	json_t *list;
	char *text;

	if (frame_get_object(msg, "exports", 1, MSGPACK_OBJECT_ARRAY, &arr,
	    cause) != 0)
		return NULL;
	list = json_array();
	for (uint32_t i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *o = &arr->via.array.ptr[i];
		const char *keys[3] = { "file", "name", "line" };
		json_t *e = json_object();

		if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != 3)
			goto bad;
		for (uint32_t k = 0; k < 3; k++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[k];
			size_t j;

			if (kv->key.type != MSGPACK_OBJECT_STR)
				goto bad;
			for (j = 0; j < 3; j++) {
				if (kv->key.via.str.size == strlen(keys[j]) &&
				    memcmp(kv->key.via.str.ptr, keys[j],
				    strlen(keys[j])) == 0)
					break;
			}
			if (j == 2 && kv->val.type ==
			    MSGPACK_OBJECT_POSITIVE_INTEGER)
				json_object_set_new(e, "line", json_integer(
				    (json_int_t)kv->val.via.u64));
			else if (j < 2 && kv->val.type == MSGPACK_OBJECT_STR)
				json_object_set_new(e, keys[j], json_stringn(
				    kv->val.via.str.ptr, kv->val.via.str.size));
			else
				goto bad;
		}
		if (json_object_size(e) != 3 ||
		    json_object_get(e, "file") == NULL ||
		    json_object_get(e, "name") == NULL) {
bad:
			json_decref(e);
			json_decref(list);
			xasprintf(cause, "BUILT exports[%u] is not {file, name, "
			    "line}", i);
			return NULL;
		}
		json_array_append_new(list, e);
	}
	text = json_dumps(list, JSON_COMPACT);
	json_decref(list);
	return text;
}

/* errors: [str] -> one string, a line each. */
static char *
build_errors_text(struct frame_msg *msg, char **cause)
{
	const msgpack_object *arr;
	char *text = xstrdup(""), *next;

	if (frame_get_object(msg, "errors", 1, MSGPACK_OBJECT_ARRAY, &arr,
	    cause) != 0) {
		free(text);
		return NULL;
	}
	for (uint32_t i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *o = &arr->via.array.ptr[i];

		if (o->type != MSGPACK_OBJECT_STR) {
			xasprintf(cause, "BUILT errors[%u] is not a string", i);
			free(text);
			return NULL;
		}
		xasprintf(&next, "%s%s%.*s", text, *text ? "\n" : "",
		    (int)o->via.str.size, o->via.str.ptr);
		free(text);
		text = next;
	}
	return text;
}

static int
build_message(struct worker *w, struct frame_msg *msg, void *arg,
    char **cause)
{
	struct build_job *job = arg;
	const uint8_t *artifact = NULL;
	size_t len = 0;
	char *why = NULL, *errors;
	int ok = 0;

	if (msg->header.type != FRAME_BUILT || job->artifact != NULL ||
	    job->answered) {
		xasprintf(cause, "unexpected %s from a build worker",
		    frame_type_name(msg->header.type));
		return -1;
	}
	if (frame_get_bool(msg, "ok", 1, &ok, &why) != 0 ||
	    frame_get_bin(msg, "artifact", ok, &artifact, &len, &why) != 0 ||
	    (job->exports = build_exports_json(msg, &why)) == NULL ||
	    (errors = build_errors_text(msg, &why)) == NULL ||
	    frame_msg_end(msg, &why) != 0) {
		xasprintf(cause, "bad BUILT: %s", why);
		free(why);
		return -1;
	}
	if (!ok) {
		build_finish(job, NULL, *errors ? errors : "the build failed");
		free(errors);
		return 0;
	}
	free(errors);
	job->artifact = xmalloc(len);
	memcpy(job->artifact, artifact, len);
	job->artifact_len = len;
	return 0;
}

static void
build_gone(struct worker *w, int code, int sig, const char *reason, void *arg)
{
	struct build_job *job = arg;
	char *why, *cause = NULL;

	if (job->answered) {
		build_job_free(job);
		return;
	}
	if (job->artifact == NULL) {
		xasprintf(&why, "the build worker ended before answering: %s",
		    reason);
		build_finish(job, NULL, why);
		free(why);
		build_job_free(job);
		return;
	}
	if (typeid_new("bld", job->build_id, sizeof job->build_id) != 0 ||
	    store_write(controller->store, build_insert, job, build_committed,
	    job, &cause) != 0) {
		build_finish(job, NULL, cause != NULL ? cause :
		    "cannot make a build id");
		free(cause);
		build_job_free(job);
	}
}

/* Frame BUILD{files} from the project's resources. */
static int
build_frame(struct build_job *job, struct frame_builder *fb, char **cause)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	st = store_prepare(controller->store, "SELECT count(*) FROM "
	    "project_resources WHERE project_id = ?");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, job->project_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n == 0) {
		xasprintf(cause, "project %s has no files to build: upload "
		    "them first (akctl deploy does)", job->project_id);
		return -1;
	}
	if (n > BUILD_MAX_FILES) {
		xasprintf(cause, "project %s has %lld files; a build takes at "
		    "most %d", job->project_id, (long long)n, BUILD_MAX_FILES);
		return -1;
	}
	st = store_prepare(controller->store, "SELECT path, content FROM "
	    "project_resources WHERE project_id = ? ORDER BY path");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, job->project_id, -1, SQLITE_STATIC);
	frame_begin(fb, FRAME_BUILD, 0, 1);
	frame_pack_key(fb, "files");
	msgpack_pack_map(&fb->pk, (size_t)n);
	for (int64_t i = 0; i < n && sqlite3_step(st) == SQLITE_ROW; i++) {
		const char *path = (const char *)sqlite3_column_text(st, 0);

		frame_pack_bin(fb, path, sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
	}
	sqlite3_finalize(st);
	return 0;
}

/* Start queued builds on READY workers. */
void
build_schedule(void)
{
	struct build_job *job;
	const char *why;

	if (controller != NULL && controller->pool != NULL &&
	    (why = pool_unavailable(controller->pool)) != NULL) {
		while ((job = TAILQ_FIRST(&build_queue)) != NULL) {
			char *msg;

			TAILQ_REMOVE(&build_queue, job, entry);
			xasprintf(&msg, "no worker can build now: the worker "
			    "zygote failed (%s) and is being restarted; see "
			    "the server log", why);
			build_finish(job, NULL, msg);
			free(msg);
			build_job_free(job);
		}
		return;
	}

	while ((job = TAILQ_FIRST(&build_queue)) != NULL &&
	    controller->pool != NULL && pool_can_take(controller->pool)) {
		struct pool_client client = { build_message, build_gone, job };
		struct frame_builder fb;
		const uint8_t *frame;
		size_t len;
		char *cause = NULL;

		TAILQ_REMOVE(&build_queue, job, entry);
		if (build_frame(job, &fb, &cause) != 0) {
			build_finish(job, NULL, cause);
			free(cause);
			build_job_free(job);
			continue;
		}
		job->worker = pool_take(controller->pool, &client);
		frame = frame_finish(&fb, &len);
		if (len > FRAME_DEFAULT_LIMIT) {
			frame_builder_free(&fb);
			worker_kill(job->worker, "the project is larger than a "
			    "frame may be");
			continue;
		}
		worker_send(job->worker, frame, len);
		frame_builder_free(&fb);
	}
}

int
build_start(const char *project_id, build_done_fn done, void *arg,
    char **cause)
{
	struct build_job *job;
	const char *why;

	if (controller == NULL || controller->pool == NULL) {
		xasprintf(cause, "builds need the worker pool, which is not "
		    "running");
		return -1;
	}
	if ((why = pool_unavailable(controller->pool)) != NULL) {
		xasprintf(cause, "no worker can build now: the worker zygote "
		    "failed (%s) and is being restarted; see the server log",
		    why);
		return -1;
	}
	job = xcalloc(1, sizeof *job);
	snprintf(job->project_id, sizeof job->project_id, "%s", project_id);
	job->done = done;
	job->arg = arg;
	TAILQ_INSERT_TAIL(&build_queue, job, entry);
	build_schedule();
	return 0;
}
