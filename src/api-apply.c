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
 *
 * build_id (our addition, for akctl deploy) names a build of the project
 * that the manifest's triggers will run: before anything is planned, every
 * trigger's call must be a file and function the build exports, so that a
 * deploy whose new build lacks one fails before the running project's
 * triggers change. A dry run answers project_ids too when the project
 * exists already (empty when the plan creates it).
 */
#include "autokittehd.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

const char *const api_apply_fields[] = {
	"manifest", "path", "project_name", "dry_run", "build_id", NULL
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

struct apply_request {
	const char	*text;
	const char	*path;
	const char	*project_name;
	const char	*build_id;	/* NULL: none */
	int		 dry_run;
};

static int
apply_request(struct api_call *call, json_t *req, struct apply_request *r)
{
	json_t *v;

	if (api_string_field(call, req, "manifest", &r->text) != 0 ||
	    api_string_field(call, req, "path", &r->path) != 0 ||
	    api_string_field(call, req, "project_name",
	    &r->project_name) != 0 ||
	    api_id_field(call, req, "build_id", "bld", 0, &r->build_id) != 0)
		return -1;
	if (r->text == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "manifest is "
		    "required: the text of autokitteh.yaml");
		return -1;
	}
	if (r->path == NULL || *r->path == '\0')
		r->path = "autokitteh.yaml";
	if (r->project_name != NULL && *r->project_name != '\0' &&
	    !manifest_name_valid(r->project_name)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "project_name must "
		    "match ^\\w+$ (letters, digits and _)");
		return -1;
	}
	r->dry_run = 0;
	if ((v = json_object_get(req, "dry_run")) != NULL) {
		if (!json_is_boolean(v)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "field "
			    "\"dry_run\" must be true or false");
			return -1;
		}
		r->dry_run = json_is_true(v);
	}
	return 0;
}

/* The dry run's project_ids: the project's ID if it exists. */
static int
apply_dry_run_ids(struct store *s, const struct manifest *m,
    json_t *response, char **cause)
{
	char id[64];
	int rc;

	if ((rc = manifest_project_id(s, m, id, sizeof id, cause)) > 0)
		json_array_append_new(json_object_get(response,
		    "project_ids"), json_string(id));
	return rc < 0 ? -1 : 0;
}

void
api_apply(struct api_call *call, json_t *req)
{
	struct store *s = server_store(api_server(call));
	struct apply_request r;
	struct apply_arg a;
	json_t *plan, *response;
	enum connect_code code = CONNECT_INVALID_ARGUMENT;
	char *cause = NULL;

	memset(&r, 0, sizeof r);
	if (apply_request(call, req, &r) != 0)
		return;
	if ((a.m = manifest_parse(r.text, strlen(r.text), r.path,
	    &cause)) == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s", cause);
		free(cause);
		return;
	}
	if (r.project_name != NULL && *r.project_name != '\0') {
		free(a.m->project_name);
		a.m->project_name = xstrdup(r.project_name);
	}
	if ((r.build_id != NULL && manifest_check_build(s, a.m, r.build_id,
	    &code, &cause) != 0) ||
	    (plan = manifest_plan(s, a.m, &cause)) == NULL) {
		api_error(call, code, "%s", cause);
		free(cause);
		manifest_free(a.m);
		return;
	}
	response = json_pack("{s:[], s:[], s:[]}", "project_ids", "logs",
	    "actions");
	if (r.dry_run) {
		/* The plan is the answer; nothing is written. */
		if (apply_dry_run_ids(s, a.m, response, &cause) != 0) {
			api_error(call, CONNECT_INTERNAL, "%s", cause);
			free(cause);
			json_decref(response);
		} else {
			response_add_actions(response, plan);
			api_reply(call, response);
		}
	} else {
		a.response = response;
		if (api_write(call, apply_write, &a, response) == 0)
			log_notice("manifest %s applied to project %s%s%s: "
			    "%zu actions", r.path, a.m->project_name,
			    r.build_id != NULL ? " for build " : "",
			    r.build_id != NULL ? r.build_id : "",
			    json_array_size(plan));
	}
	json_decref(plan);
	manifest_free(a.m);
}
