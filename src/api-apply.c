/*
 * api-apply.c: autokitteh.apply.v1.ApplyService/Apply.
 *
 * Takes the text of an autokitteh.yaml, parses it, plans it against the
 * store and, unless dry_run is set, applies the plan in one write. The
 * reply (project ids, one log line per action, the actions) is sent only
 * after that write has committed. The plan runs first, outside the write,
 * so that a manifest we cannot apply is answered as invalid_argument with
 * its file:line:column message; both run in the same turn of the loop, so
 * nothing can change the store between them.
 */
#include "autokittehd.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

const char *const api_apply_fields[] = {
	"manifest", "path", "project_name", "dry_run", NULL
};

struct apply_arg {
	struct manifest	*m;
	json_t		*response;
};

static void
response_add_actions(json_t *response, json_t *actions)
{
	json_t *logs = json_object_get(response, "logs"), *action;
	size_t i;

	json_array_foreach(actions, i, action) {
		json_array_append(logs, json_object_get(action,
		    "description"));
	}
	json_array_extend(json_object_get(response, "actions"), actions);
}

/* Runs inside the batch, before api_write returns. */
static int
apply_write(struct store *s, void *arg, char **cause)
{
	struct apply_arg *a = arg;
	json_t *actions = json_array();
	char *project_id;

	if (manifest_apply(s, a->m, actions, &project_id, cause) != 0) {
		json_decref(actions);
		return -1;
	}
	json_array_append_new(json_object_get(a->response, "project_ids"),
	    json_string(project_id));
	response_add_actions(a->response, actions);
	json_decref(actions);
	free(project_id);
	return 0;
}

static int
apply_request(struct api_call *call, json_t *req, const char **text,
    const char **path, const char **project_name, int *dry_run)
{
	json_t *v;

	if (api_string_field(call, req, "manifest", text) != 0 ||
	    api_string_field(call, req, "path", path) != 0 ||
	    api_string_field(call, req, "project_name", project_name) != 0)
		return -1;
	if (*text == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "manifest is "
		    "required: the text of autokitteh.yaml");
		return -1;
	}
	if (*path == NULL || **path == '\0')
		*path = "autokitteh.yaml";
	if (*project_name != NULL && **project_name != '\0' &&
	    !manifest_name_valid(*project_name)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "project_name must "
		    "match ^\\w+$ (letters, digits and _)");
		return -1;
	}
	*dry_run = 0;
	if ((v = json_object_get(req, "dry_run")) != NULL) {
		if (!json_is_boolean(v)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "field "
			    "\"dry_run\" must be true or false");
			return -1;
		}
		*dry_run = json_is_true(v);
	}
	return 0;
}

void
api_apply(struct api_call *call, json_t *req)
{
	struct store *s = server_store(api_server(call));
	const char *text, *path, *project_name;
	struct apply_arg a;
	json_t *plan, *response;
	char *cause = NULL;
	int dry_run;

	if (apply_request(call, req, &text, &path, &project_name,
	    &dry_run) != 0)
		return;
	if ((a.m = manifest_parse(text, strlen(text), path, &cause)) == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s", cause);
		free(cause);
		return;
	}
	if (project_name != NULL && *project_name != '\0') {
		free(a.m->project_name);
		a.m->project_name = xstrdup(project_name);
	}
	if ((plan = manifest_plan(s, a.m, &cause)) == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s", cause);
		free(cause);
		manifest_free(a.m);
		return;
	}
	response = json_pack("{s:[], s:[], s:[]}", "project_ids", "logs",
	    "actions");
	if (dry_run) {
		/* The plan is the answer; nothing is written. */
		response_add_actions(response, plan);
		api_reply(call, response);
	} else {
		a.response = response;
		if (api_write(call, apply_write, &a, response) == 0)
			log_notice("manifest %s applied to project %s: %zu "
			    "actions", path, a.m->project_name,
			    json_array_size(plan));
	}
	json_decref(plan);
	manifest_free(a.m);
}
