/*
 * ctl-status.c: "akctl status", the state of the daemon in a few lines.
 *
 * It calls SystemService/Status and prints its answer as aligned
 * "label  value" lines, or as JSON with -j. The exit code is for scripts
 * that wait for the daemon: 0 ready, 1 running but not ready, 2 not
 * reachable.
 */
#include "akctl.h"

#include <string.h>

static int ctl_status_exec(struct ctl_context *, int, char **);

const struct ctl_command ctl_status_command = {
	.name = "status",
	.summary = "show whether the daemon is up and ready, and what it holds",
	.help =
	    "Show the daemon's version, process ID, uptime and readiness; its\n"
	    "store (path, size, WAL size, schema version, synchronous mode);\n"
	    "its listeners; and counts of projects, of deployments and\n"
	    "sessions by state, and of workers; session retention (what was\n"
	    "pruned since start and when the last pass ran); and the session\n"
	    "sandbox: its mode ([workers] sandbox), whether sessions have the\n"
	    "network, and each mechanism as enforced, missing (with why, and\n"
	    "what that means) or off (by configuration).\n"
	    "\n"
	    "Exit status: 0 when the daemon is ready, 1 when it is running but\n"
	    "not ready (starting or stopping), 2 when it cannot be reached; so\n"
	    "a script may wait with: until akctl status >/dev/null; do sleep 1;"
	    " done\n",
	.exec = ctl_status_exec,
};

/* "3m12s", from whole seconds. */
static void
ctl_status_uptime(json_t *status, char *buf, size_t size)
{
	json_int_t seconds = ctl_integer(status, "uptime_seconds");

	if (seconds <= 0)
		snprintf(buf, size, "0s");
	else
		format_duration_ms((uint64_t)seconds * 1000, buf, size);
}

static void
ctl_status_daemon(json_t *status)
{
	char uptime[64];
	json_t *ready = json_object_get(status, "ready");

	ctl_status_uptime(status, uptime, sizeof uptime);
	ctl_print_label("autokittehd", "%s, pid %" JSON_INTEGER_FORMAT
	    ", up %s, %s",
	    json_string_value(json_object_get(status, "version")) ?: "?",
	    ctl_integer(status, "pid"), uptime,
	    json_is_true(ready) ? "ready" : "not ready");
}

static void
ctl_status_store(json_t *status)
{
	json_t *store = json_object_get(status, "store");
	json_int_t size = ctl_integer(store, "size_bytes");
	json_int_t wal = ctl_integer(store, "wal_size_bytes");
	char size_text[32], wal_text[32];

	if (!json_is_object(store)) {
		ctl_print_label("store", "unknown");
		return;
	}
	format_size_human(size > 0 ? (uint64_t)size : 0, size_text,
	    sizeof size_text);
	format_size_human(wal > 0 ? (uint64_t)wal : 0, wal_text,
	    sizeof wal_text);
	ctl_print_label("store", "%s (%s, WAL %s, schema %" JSON_INTEGER_FORMAT
	    ", synchronous %s)%s",
	    json_string_value(json_object_get(store, "path")) ?: "?",
	    size_text, wal_text, ctl_integer(store, "schema_version"),
	    json_string_value(json_object_get(store, "synchronous")) ?: "?",
	    json_is_true(json_object_get(store, "disk_full")) ? " DISK FULL: "
	    "changes are refused until space is freed" : "");
}

static void
ctl_status_listeners(json_t *status)
{
	json_t *listeners = json_object_get(status, "listeners"), *l;
	char line[1024];
	size_t i, off = 0;

	line[0] = '\0';
	json_array_foreach(listeners, i, l) {
		off += (size_t)snprintf(line + off, off < sizeof line ?
		    sizeof line - off : 0, "%s%s %s", i > 0 ? ", " : "",
		    json_string_value(json_object_get(l, "kind")) ?: "?",
		    json_string_value(json_object_get(l, "address")) ?: "?");
	}
	ctl_print_label("listeners", "%s", off > 0 ? line : "none");
}

/* "active 0, testing 0", in the daemon's order; "none" when empty. */
static void
ctl_status_counts(json_t *status, const char *label)
{
	json_t *counts = json_object_get(status, label), *value;
	const char *key;
	char line[1024], text[256];
	size_t off = 0;

	line[0] = '\0';
	json_object_foreach(counts, key, value) {
		ctl_format_value(value, text, sizeof text);
		off += (size_t)snprintf(line + off, off < sizeof line ?
		    sizeof line - off : 0, "%s%s %s", off > 0 ? ", " : "",
		    key, text);
	}
	ctl_print_label(label, "%s", off > 0 ? line : "none");
}

/*
 * "retention  30d, 1234 sessions and 1300 events pruned since start, last
 * pass 2026-11-27T03:00:00.000000Z (12 sessions)".
 */
static void
ctl_status_retention(json_t *status)
{
	json_t *r = json_object_get(status, "retention");
	const char *retention, *last, *error;

	if (!json_is_object(r))
		return;
	retention = json_string_value(json_object_get(r, "retention")) ?: "?";
	if (strcmp(retention, "off") == 0) {
		ctl_print_label("retention", "off (finished sessions are kept)");
		return;
	}
	last = json_string_value(json_object_get(r, "last_pass_at"));
	error = json_string_value(json_object_get(r, "last_error"));
	ctl_print_label("retention", "%s, %" JSON_INTEGER_FORMAT " sessions and "
	    "%" JSON_INTEGER_FORMAT " events pruned since start, last pass "
	    "%s%s%s%s", retention, ctl_integer(r, "pruned_sessions"),
	    ctl_integer(r, "pruned_events"), last != NULL ? last :
	    "not yet", error != NULL ? " (failing: " : "", error != NULL ?
	    error : "", error != NULL ? ")" : "");
}

/* "sandbox  best-effort, network on", then a line per mechanism. */
static void
ctl_status_sandbox(json_t *status)
{
	json_t *sandbox = json_object_get(status, "sandbox"), *m;
	const char *detail;
	size_t i;

	if (!json_is_object(sandbox) || json_object_size(sandbox) == 0)
		return;
	ctl_print_label("sandbox", "%s, network %s",
	    json_string_value(json_object_get(sandbox, "mode")) ?: "?",
	    json_string_value(json_object_get(sandbox, "network")) ?: "?");
	json_array_foreach(json_object_get(sandbox, "mechanisms"), i, m) {
		char label[64];

		detail = json_string_value(json_object_get(m, "detail"));
		snprintf(label, sizeof label, "  %s",
		    json_string_value(json_object_get(m, "name")) ?: "?");
		ctl_print_label(label, "%s%s%s%s",
		    json_string_value(json_object_get(m, "state")) ?: "?",
		    detail != NULL ? " (" : "", detail != NULL ? detail : "",
		    detail != NULL ? ")" : "");
	}
}

static int
ctl_status_exec(struct ctl_context *ctx, int argc, char **argv)
{
	json_t *status;
	int ret, ready;

	(void)argc;
	(void)argv;
	if ((ret = ctl_call(ctx, CTL_SYSTEM_STATUS, NULL, &status)) != 0)
		return ret;
	ready = json_is_true(json_object_get(status, "ready"));
	if (ctx->json)
		ctl_print_json(status);
	else {
		ctl_status_daemon(status);
		ctl_status_store(status);
		ctl_status_listeners(status);
		ctl_print_label("projects", "%" JSON_INTEGER_FORMAT,
		    ctl_integer(status, "projects"));
		ctl_status_counts(status, "deployments");
		ctl_status_counts(status, "sessions");
		ctl_status_counts(status, "workers");
		ctl_status_retention(status);
		ctl_status_sandbox(status);
	}
	json_decref(status);
	return ready ? CTL_EXIT_OK : CTL_EXIT_ERROR;
}
