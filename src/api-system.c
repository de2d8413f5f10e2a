/*
 * api-system.c: autokitteh.system.v1.SystemService, our own service for
 * akctl: Status (what `akctl status` prints) and Config (the effective
 * configuration, secrets masked).
 */
#include "autokittehd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const api_system_status_fields[] = { NULL };
const char *const api_system_config_fields[] = { NULL };

static const char *const deployment_states[] = {
	"active", "testing", "draining", "inactive",
};
static const char *const session_states[] = {
	"created", "running", "completed", "error", "stopped",
};

/* Deployments in one state: a few rows, counted. */
static int
count_deployments(struct store *st, const char *state, int64_t *count)
{
	return store_count_arg(st, "SELECT count(*) FROM deployments WHERE "
	    "state = ?", state, count);
}

/* {"state": count, ...} over every state, zeros included. */
static json_t *
count_by_state(struct store *st, int (*count)(struct store *, const char *,
    int64_t *), const char *const *states, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++) {
		int64_t c = 0;

		count(st, states[i], &c);
		json_object_set_new(o, states[i], json_integer(c));
	}
	return o;
}

void
api_system_status(struct api_call *call, json_t *req)
{
	struct server *s = api_server(call);
	struct store *st = server_store(s);
	struct store_stats stats = { 0 };
	int64_t projects = 0;
	json_t *out;

	store_stats(st, &stats);
	store_count(st, "SELECT count(*) FROM projects", &projects);
	out = json_object();
	json_object_set_new(out, "version", json_string(PACKAGE_VERSION));
	json_object_set_new(out, "pid", json_integer(getpid()));
	json_object_set_new(out, "uptime_seconds",
	    json_integer((json_int_t)server_uptime_seconds(s)));
	json_object_set_new(out, "ready", json_boolean(server_is_ready(s)));
	json_object_set_new(out, "store", json_pack("{s:s, s:I, s:I, s:i, s:s, "
	    "s:b}",
	    "path", store_path(st),
	    "size_bytes", (json_int_t)stats.size_bytes,
	    "wal_size_bytes", (json_int_t)stats.wal_size_bytes,
	    "schema_version", stats.schema_version,
	    "synchronous", store_synchronous(st) == STORE_SYNC_FULL ?
	    "full" : "normal",
	    "disk_full", store_is_full(st)));
	json_object_set_new(out, "listeners", server_listeners_json(s));
	json_object_set_new(out, "projects", json_integer(projects));
	json_object_set_new(out, "deployments", count_by_state(st,
	    count_deployments, deployment_states, nitems(deployment_states)));
	json_object_set_new(out, "sessions", count_by_state(st,
	    store_count_sessions, session_states, nitems(session_states)));
	json_object_set_new(out, "workers", session_pool_json());
	json_object_set_new(out, "sandbox", controller != NULL &&
	    controller->pool != NULL ? pool_sandbox_json(controller->pool) :
	    json_object());
	json_object_set_new(out, "retention", session_prune_json());
	api_reply(call, out);
}

void
api_system_config(struct api_call *call, json_t *req)
{
	const struct config *cf = server_config(api_server(call));
	json_t *out = json_object(), *options = json_array();

	if (cf->file != NULL)
		json_object_set_new(out, "file", json_string(cf->file));
	for (size_t i = 0; i < config_option_count(); i++) {
		const struct config_option *o = config_option_at(i);
		char *value = config_value_string(cf, o);
		struct config defaults;
		char *def;

		config_init(&defaults);
		def = config_value_string(&defaults, o);
		json_array_append_new(options, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:b, s:b}", "section", o->section, "key", o->key,
		    "value", o->secret ? "********" : value,
		    "default", o->secret ? "********" : def,
		    "is_default", strcmp(value, def) == 0,
		    "secret", o->secret));
		free(value);
		free(def);
		config_free(&defaults);
	}
	json_object_set_new(out, "options", options);
	api_reply(call, out);
}
