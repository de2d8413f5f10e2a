/*
 * api-project.c: autokitteh.projects.v1.ProjectsService: Create, Get, List,
 * Delete, SetResources, DownloadResources, Build.
 *
 * Also the small request and row helpers that every AutoKitteh service
 * file (api-build.c ... api-session.c) shares: id fields, nested message
 * fields, integers given as numbers or strings, enums given as names or
 * numbers, base64, and existence checks with bound parameters.
 */
#include "autokittehd.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PROJECTS_MAX		1000
#define PROJECT_NAME_MAX	100
#define RESOURCES_MAX_FILES	1000
#define RESOURCE_PATH_MAX	1024

/* ---- helpers shared by the api-*.c files ---- */

static const struct {
	const char	*prefix;
	const char	*what;
} id_kinds[] = {
	{ "prj", "project" }, { "bld", "build" }, { "dep", "deployment" },
	{ "trg", "trigger" }, { "evt", "event" }, { "ses", "session" },
	{ "con", "connection" },
};

static const char *
id_kind_name(const char *prefix)
{
	for (size_t i = 0; i < nitems(id_kinds); i++) {
		if (strcmp(id_kinds[i].prefix, prefix) == 0)
			return id_kinds[i].what;
	}
	return prefix;
}

/*
 * Fetch the id field name (top-level, already mapped from camelCase) and
 * check it is a TypeID with prefix. An absent or empty field is an error
 * when required, else *id = NULL. Returns -1 after answering.
 */
int
api_id_field(struct api_call *call, json_t *req, const char *name,
    const char *prefix, int required, const char **id)
{
	if (api_string_field(call, req, name, id) != 0)
		return -1;
	if (*id != NULL && **id == '\0')
		*id = NULL;
	return api_id_check(call, name, *id, prefix, required);
}

/* The checks of api_id_field, for an id found elsewhere. */
int
api_id_check(struct api_call *call, const char *name, const char *id,
    const char *prefix, int required)
{
	if (id == NULL) {
		if (!required)
			return 0;
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s is required",
		    name);
		return -1;
	}
	if (typeid_check(id, prefix) != 0) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s \"%.80s\" is not "
		    "a %s id (%s_ followed by 26 characters)", name, id,
		    id_kind_name(prefix), prefix);
		return -1;
	}
	return 0;
}

/* A field of a nested message, by proto name or lowerCamelCase name. */
json_t *
api_object_get(json_t *obj, const char *proto_name)
{
	char camel[128];
	size_t o = 0;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	if ((v = json_object_get(obj, proto_name)) != NULL)
		return v;
	for (const char *p = proto_name; *p != '\0' && o + 1 < sizeof camel;
	    p++) {
		if (*p == '_' && p[1] != '\0')
			camel[o++] = (char)toupper((unsigned char)*++p);
		else
			camel[o++] = *p;
	}
	camel[o] = '\0';
	return json_object_get(obj, camel);
}

/* A string field of a nested message; NULL when absent, empty or no string. */
const char *
api_object_string(json_t *obj, const char *proto_name)
{
	const char *s = json_string_value(api_object_get(obj, proto_name));

	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * Reject a nested message (named what) that is not an object or has a field
 * not in fields (proto names; camelCase accepted). -1 after answering.
 */
int
api_object_check(struct api_call *call, json_t *obj, const char *what,
    const char *const *fields)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s must be an "
		    "object", what);
		return -1;
	}
	json_object_foreach(obj, key, v) {
		int known = 0;

		for (size_t i = 0; fields[i] != NULL && !known; i++)
			known = api_object_get(obj, fields[i]) == v;
		if (!known) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "unknown field "
			    "\"%.64s\" in %s", key, what);
			return -1;
		}
	}
	return 0;
}

int
api_bool_field(struct api_call *call, json_t *req, const char *name,
    int *value)
{
	json_t *v = json_object_get(req, name);

	*value = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "%s must be true or "
		    "false", name);
		return -1;
	}
	*value = json_is_true(v);
	return 0;
}

/*
 * An integer field, as a JSON number or a decimal string (proto3 JSON
 * allows both), within [min, max]; def when absent. -1 after answering.
 */
int
api_int_field(struct api_call *call, json_t *req, const char *name,
    int64_t min, int64_t max, int64_t def, int64_t *value)
{
	json_t *v = json_object_get(req, name);
	const char *s;
	char *end;
	long long n;

	*value = def;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if ((s = json_string_value(v)) != NULL) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0' || errno != 0)
			goto bad;
	} else
		goto bad;
	if (n < min || n > max)
		goto bad;
	*value = n;
	return 0;
bad:
	api_error(call, CONNECT_INVALID_ARGUMENT, "%s must be an integer from "
	    "%" PRId64 " to %" PRId64, name, min, max);
	return -1;
}

/*
 * An enum field, as its full name or its number; names[i] is the name of
 * value i (names[0] the UNSPECIFIED one). 0 when absent.
 */
int
api_enum_field(struct api_call *call, json_t *req, const char *name,
    const char *const *names, size_t n, int *value)
{
	json_t *v = json_object_get(req, name);
	const char *s;

	*value = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < (json_int_t)n) {
		*value = (int)json_integer_value(v);
		return 0;
	}
	if ((s = json_string_value(v)) != NULL) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(s, names[i]) == 0) {
				*value = (int)i;
				return 0;
			}
		}
	}
	api_error(call, CONNECT_INVALID_ARGUMENT, "%s must be one of %s ... %s",
	    name, names[0], names[n - 1]);
	return -1;
}

/* int64 as proto3 JSON: a string. */
json_t *
api_int64_json(int64_t n)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRId64, n);
	return json_string(buf);
}

/* A TEXT column; "" for NULL. */
const char *
api_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s != NULL ? (const char *)s : "";
}

/* Set key to s unless s is NULL or empty (proto3 JSON omits defaults). */
void
api_set_nonempty(json_t *obj, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		json_object_set_new(obj, key, json_string(s));
}

/*
 * Run a one-parameter query; 1 if it returns a row, 0 if not, -1 on a store
 * error. For "SELECT 1 FROM t WHERE id = ?" existence checks.
 */
int
api_row_exists(struct store *s, const char *sql, const char *param)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* "SELECT count(*) ... WHERE x = ?" with one parameter; -1 on error. */
int64_t
api_row_count(struct store *s, const char *sql, const char *param)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Execute a write statement with one text parameter, inside a store_write. */
int
api_exec1(struct store *s, const char *sql, const char *param, char **cause)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable: %s",
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "writing to the store: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

json_t *
api_base64_json(const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1);
	size_t o = 0, i;
	json_t *j;

	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = tab[p[i] >> 2];
		out[o++] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		out[o++] = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		out[o++] = tab[p[i + 2] & 63];
	}
	if (i < len) {
		out[o++] = tab[p[i] >> 2];
		if (i + 1 < len) {
			out[o++] = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			out[o++] = tab[(p[i + 1] & 15) << 2];
		} else
			out[o++] = tab[(p[i] & 3) << 4];
		out[o++] = '=';
		if (i + 1 >= len)
			out[o++] = '=';
	}
	out[o] = '\0';
	j = json_stringn(out, o);
	free(out);
	return j;
}

static int
base64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/*
 * Standard or URL-safe base64, padded or not (proto3 JSON accepts all
 * four). 0 and a malloc'd *out, or -1.
 */
int
api_base64_decode(const char *s, size_t slen, unsigned char **out,
    size_t *len)
{
	unsigned char *buf;
	uint32_t acc = 0;
	size_t o = 0, n = 0;
	int d;

	while (slen > 0 && s[slen - 1] == '=')
		slen--;
	if (slen % 4 == 1)
		return -1;
	buf = xmalloc(slen / 4 * 3 + 3);
	for (size_t i = 0; i < slen; i++) {
		if ((d = base64_digit((unsigned char)s[i])) < 0) {
			free(buf);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)d;
		if (++n == 4) {
			buf[o++] = (unsigned char)(acc >> 16);
			buf[o++] = (unsigned char)(acc >> 8);
			buf[o++] = (unsigned char)acc;
			acc = 0;
			n = 0;
		}
	}
	if (n == 2)
		buf[o++] = (unsigned char)(acc >> 4);
	else if (n == 3) {
		buf[o++] = (unsigned char)(acc >> 10);
		buf[o++] = (unsigned char)(acc >> 2);
	}
	*out = buf;
	*len = o;
	return 0;
}

/* ^\w+$ as Go's RE2 reads it (ASCII letters, digits, underscore). */
int
api_name_valid(const char *name, size_t max)
{
	size_t len = strlen(name);

	if (len == 0 || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return 0;
	}
	return 1;
}

/* The project must exist: -1 after answering not_found (or internal). */
int
api_project_exists(struct api_call *call, const char *project_id)
{
	int rc = api_row_exists(server_store(api_server(call)),
	    "SELECT 1 FROM projects WHERE project_id = ?", project_id);

	if (rc == 1)
		return 0;
	if (rc == 0)
		api_error(call, CONNECT_NOT_FOUND, "no project %s: see 'akctl "
		    "project list'", project_id);
	else
		api_error(call, CONNECT_INTERNAL, "cannot read the projects");
	return -1;
}

/* ---- ProjectsService ---- */

const char *const api_project_create_fields[] = { "project", NULL };
const char *const api_project_get_fields[] = { "project_id", "name",
    "owner_id", NULL };
const char *const api_project_list_fields[] = { NULL };
const char *const api_project_delete_fields[] = { "project_id", NULL };
const char *const api_project_set_resources_fields[] = { "project_id",
    "resources", NULL };
const char *const api_project_download_resources_fields[] = { "project_id",
    NULL };
const char *const api_project_build_fields[] = { "project_id", NULL };

static const char *const project_msg_fields[] = { "project_id", "name",
    "display_name", "org_id", NULL };

static struct store *
call_store(struct api_call *call)
{
	return server_store(api_server(call));
}

static json_t *
project_row_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s}", "project_id", api_column_text(st, 0),
	    "name", api_column_text(st, 1));
}

struct project_new {
	char		 id[80];
	const char	*name;
	int64_t		 created_at;
};

static int
project_create_write(struct store *s, void *arg, char **cause)
{
	struct project_new *p = arg;
	sqlite3_stmt *st = store_prepare(s, "INSERT INTO projects (project_id,"
	    " name, created_at) VALUES (?, ?, ?)");
	int rc;

	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->created_at);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the project: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
api_project_create(struct api_call *call, json_t *req)
{
	json_t *msg = json_object_get(req, "project");
	struct project_new p;
	int rc;

	if (msg == NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "project is required");
		return;
	}
	if (api_object_check(call, msg, "project", project_msg_fields) != 0)
		return;
	if (api_object_string(msg, "project_id") != NULL) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "project.project_id "
		    "must not be specified");
		return;
	}
	memset(&p, 0, sizeof p);
	p.name = api_object_string(msg, "name");
	if (p.name == NULL || !api_name_valid(p.name, PROJECT_NAME_MAX)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "project.name is "
		    "required: 1 to %d letters, digits or underscores "
		    "(^\\w+$)", PROJECT_NAME_MAX);
		return;
	}
	rc = api_row_exists(call_store(call), "SELECT 1 FROM projects WHERE "
	    "name = ?", p.name);
	if (rc != 0) {
		if (rc == 1)
			api_error(call, CONNECT_ALREADY_EXISTS, "a project named "
			    "%s already exists", p.name);
		else
			api_error(call, CONNECT_INTERNAL, "cannot read the "
			    "projects");
		return;
	}
	if (typeid_new("prj", p.id, sizeof p.id) != 0) {
		api_error(call, CONNECT_INTERNAL, "cannot make a project id");
		return;
	}
	p.created_at = now_us();
	if (api_write(call, project_create_write, &p, json_pack("{s:s}",
	    "project_id", p.id)) == 0)
		log_notice("project %s (%s) created", p.id, p.name);
}

void
api_project_get(struct api_call *call, json_t *req)
{
	const char *id, *name, *owner;
	sqlite3_stmt *st;
	json_t *out;
	int rc;

	if (api_id_field(call, req, "project_id", "prj", 0, &id) != 0 ||
	    api_string_field(call, req, "name", &name) != 0 ||
	    api_string_field(call, req, "owner_id", &owner) != 0)
		return;
	if (name != NULL && *name == '\0')
		name = NULL;
	if ((id == NULL) == (name == NULL)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "give exactly one of "
		    "project_id and name");
		return;
	}
	st = store_prepare(call_store(call), id != NULL ? "SELECT project_id, "
	    "name FROM projects WHERE project_id = ?" : "SELECT project_id, "
	    "name FROM projects WHERE name = ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the projects");
		return;
	}
	sqlite3_bind_text(st, 1, id != NULL ? id : name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	out = json_object();
	if (rc == SQLITE_ROW)
		json_object_set_new(out, "project", project_row_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(out);
		api_error(call, CONNECT_INTERNAL, "cannot read the projects");
		return;
	}
	api_reply(call, out);	/* {} when not found, as AutoKitteh does */
}

void
api_project_list(struct api_call *call, json_t *req)
{
	sqlite3_stmt *st = store_prepare(call_store(call), "SELECT project_id,"
	    " name FROM projects ORDER BY name LIMIT ?");
	json_t *list;
	int rc;

	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the projects");
		return;
	}
	sqlite3_bind_int(st, 1, PROJECTS_MAX);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, project_row_json(st));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		api_error(call, CONNECT_INTERNAL, "cannot read the projects");
		return;
	}
	api_reply(call, json_pack("{s:o}", "projects", list));
}

/* Everything a project owns, children first (foreign keys are on). */
static const char *const project_delete_sql[] = {
	"DELETE FROM session_logs WHERE session_id IN (SELECT session_id "
	    "FROM sessions WHERE project_id = ?1)",
	"DELETE FROM sessions WHERE project_id = ?1",
	"DELETE FROM events WHERE project_id = ?1 OR destination_id IN "
	    "(SELECT trigger_id FROM triggers WHERE project_id = ?1)",
	"DELETE FROM vars WHERE scope_id = ?1 OR scope_id IN (SELECT "
	    "trigger_id FROM triggers WHERE project_id = ?1)",
	"DELETE FROM triggers WHERE project_id = ?1",
	"DELETE FROM deployments WHERE project_id = ?1",
	"DELETE FROM builds WHERE project_id = ?1",
	"DELETE FROM project_resources WHERE project_id = ?1",
	"DELETE FROM projects WHERE project_id = ?1",
};

static int
project_delete_write(struct store *s, void *arg, char **cause)
{
	for (size_t i = 0; i < nitems(project_delete_sql); i++) {
		if (api_exec1(s, project_delete_sql[i], arg, cause) != 0)
			return -1;
	}
	return 0;
}

void
api_project_delete(struct api_call *call, json_t *req)
{
	struct store *s = call_store(call);
	const char *id;
	int64_t live, deps;

	if (api_id_field(call, req, "project_id", "prj", 1, &id) != 0 ||
	    api_project_exists(call, id) != 0)
		return;
	live = api_row_count(s, "SELECT count(*) FROM sessions WHERE "
	    "project_id = ? AND state IN ('created', 'running')", id);
	deps = api_row_count(s, "SELECT count(*) FROM deployments WHERE "
	    "project_id = ? AND state != 'inactive'", id);
	if (live < 0 || deps < 0) {
		api_error(call, CONNECT_INTERNAL, "cannot read the project");
		return;
	}
	if (live > 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "project %s has "
		    "%" PRId64 " session(s) not yet finished: stop them first",
		    id, live);
		return;
	}
	if (deps > 0) {
		api_error(call, CONNECT_FAILED_PRECONDITION, "project %s has "
		    "%" PRId64 " deployment(s) not inactive: deactivate them "
		    "first", id, deps);
		return;
	}
	if (api_write(call, project_delete_write, (void *)id,
	    json_object()) == 0)
		log_notice("project %s deleted", id);
}

/* A resource path: relative, no "." / ".." / empty parts, printable. */
static int
resource_path_valid(const char *path)
{
	const char *p = path, *slash;
	size_t n;

	if (*path == '\0' || strlen(path) > RESOURCE_PATH_MAX || *path == '/')
		return 0;
	for (const char *c = path; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return 0;
	}
	for (;;) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 &&
		    p[0] == '.' && p[1] == '.'))
			return 0;
		if (slash == NULL)
			return 1;
		p = slash + 1;
	}
}

struct resource {
	const char	*path;
	unsigned char	*data;
	size_t		 len;
};

struct resources_set {
	const char	*project_id;
	struct resource	*files;
	size_t		 n;
};

static int
resources_set_write(struct store *s, void *arg, char **cause)
{
	struct resources_set *r = arg;
	sqlite3_stmt *st;
	int rc = SQLITE_DONE;

	if (api_exec1(s, "DELETE FROM project_resources WHERE project_id = ?",
	    r->project_id, cause) != 0)
		return -1;
	st = store_prepare(s, "INSERT INTO project_resources (project_id, "
	    "path, content) VALUES (?, ?, ?)");
	if (st == NULL) {
		xasprintf(cause, "the store is unavailable");
		return -1;
	}
	for (size_t i = 0; i < r->n && rc == SQLITE_DONE; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, r->project_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, r->files[i].path, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 3, r->files[i].len != 0 ?
		    (const void *)r->files[i].data : "", r->files[i].len,
		    SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		xasprintf(cause, "saving the resources: %s",
		    sqlite3_errmsg(store_db(s)));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
resources_free(struct resources_set *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->files[i].data);
	free(r->files);
}

void
api_project_set_resources(struct api_call *call, json_t *req)
{
	uint64_t max = server_config(api_server(call))->max_body_size, total = 0;
	json_t *map = json_object_get(req, "resources"), *v;
	struct resources_set r = { NULL, NULL, 0 };
	const char *path;

	if (api_id_field(call, req, "project_id", "prj", 1, &r.project_id) != 0)
		return;
	if (map != NULL && !json_is_object(map)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "resources must be an "
		    "object of path: base64 content");
		return;
	}
	if (json_object_size(map) > RESOURCES_MAX_FILES) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "a project has at most "
		    "%d resource files; this request has %zu",
		    RESOURCES_MAX_FILES, json_object_size(map));
		return;
	}
	if (api_project_exists(call, r.project_id) != 0)
		return;
	r.files = xcalloc(json_object_size(map) + 1, sizeof *r.files);
	json_object_foreach(map, path, v) {
		struct resource *f = &r.files[r.n];

		if (!resource_path_valid(path)) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "resource path "
			    "\"%.200s\" is not valid: paths are relative, "
			    "without \"..\", \".\" or empty parts", path);
			goto out;
		}
		if (!json_is_string(v) || api_base64_decode(json_string_value(v),
		    json_string_length(v), &f->data, &f->len) != 0) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "resources"
			    "[\"%.200s\"] must be base64", path);
			goto out;
		}
		f->path = path;
		r.n++;
		if ((total += f->len) > max) {
			api_error(call, CONNECT_INVALID_ARGUMENT, "the resources "
			    "add up to more than server.max_body_size (%" PRIu64
			    " bytes)", max);
			goto out;
		}
	}
	if (api_write(call, resources_set_write, &r, json_object()) == 0)
		log_info("project %s: %zu resource file(s) set, %" PRIu64
		    " bytes", r.project_id, r.n, total);
out:
	resources_free(&r);
}

void
api_project_download_resources(struct api_call *call, json_t *req)
{
	const char *id;
	sqlite3_stmt *st;
	json_t *map;
	int rc;

	if (api_id_field(call, req, "project_id", "prj", 1, &id) != 0 ||
	    api_project_exists(call, id) != 0)
		return;
	st = store_prepare(call_store(call), "SELECT path, content FROM "
	    "project_resources WHERE project_id = ? ORDER BY path LIMIT ?");
	if (st == NULL) {
		api_error(call, CONNECT_INTERNAL, "cannot read the resources");
		return;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, RESOURCES_MAX_FILES);
	map = json_object();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_object_set_new(map, api_column_text(st, 0),
		    api_base64_json(sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1)));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(map);
		api_error(call, CONNECT_INTERNAL, "cannot read the resources");
		return;
	}
	api_reply(call, json_pack("{s:o}", "resources", map));
}

/*
 * Build: build_start() calls done once, either later or before it
 * returns (an immediate failure such as "no resources"). A build failure
 * is an answer with "error", as in AutoKitteh, not an RPC error. The
 * state is on the heap because done may come after we return.
 */
struct project_build {
	struct api_call	*call;
	int		 done;		/* done was called */
	int		 returned;	/* build_start returned */
};

static void
project_build_done(const char *build_id, const char *error, void *arg)
{
	struct project_build *b = arg;

	if (b->done)
		return;
	b->done = 1;
	if (error != NULL || build_id == NULL)
		api_reply(b->call, json_pack("{s:{s:{s:{s:s}}}}", "error",
		    "value", "string", "v", error != NULL ? error :
		    "the build failed"));
	else
		api_reply(b->call, json_pack("{s:s}", "build_id", build_id));
	if (b->returned)
		free(b);
}

void
api_project_build(struct api_call *call, json_t *req)
{
	struct project_build *b;
	const char *id;
	char *cause = NULL;
	int rc;

	if (api_id_field(call, req, "project_id", "prj", 1, &id) != 0 ||
	    api_project_exists(call, id) != 0)
		return;
	b = xcalloc(1, sizeof *b);
	b->call = call;
	rc = build_start(id, project_build_done, b, &cause);
	b->returned = 1;
	if (rc != 0 && !b->done) {
		b->done = 1;
		api_error(call, CONNECT_UNAVAILABLE, "cannot start a build of "
		    "%s: %s", id, cause != NULL ? cause : "unknown error");
	}
	free(cause);
	if (b->done)
		free(b);
}
