/*
 * manifest.c: read autokitteh.yaml into a struct manifest.
 *
 * Two steps. First libyaml's event parser builds a small tree of mappings,
 * lists and scalars, refusing what a manifest never needs and an attacker
 * would love: anchors and aliases (the "billion laughs"), custom tags, more
 * than one document, deep nesting and files over 1 MiB. Then the tree is
 * checked against the same rules as AutoKitteh's JSON schema (unknown keys
 * rejected everywhere, names ^\w+$, trigger types) and copied into plain C
 * structs. The first problem found is reported as
 * "file:line:column: key.path: what is wrong", so a user can go straight to
 * it. Nothing here touches the store or the daemon: akctl links it too.
 */
#include "common.h"
#include "manifest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define PATH_SIZE 256

enum ynode_kind { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

/* A YAML node. A mapping's children alternate key, value. */
struct ynode {
	enum ynode_kind	  kind;
	unsigned	  line, column;
	char		 *value;	/* scalar */
	int		  plain;	/* an unquoted, untagged scalar */
	struct ynode	**child;
	size_t		  n;
};

struct parse {
	const char	*filename;
	const char	*text;
	size_t		 len;
	yaml_parser_t	 parser;
	char		*error;
};

static void
ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->child[i]);
	free(n->child);
	free(n->value);
	free(n);
}

/* Text from the file for a message: quoted, escaped, shortened. */
static char *
quote(const char *s)
{
	size_t len = strlen(s), max = 60, o = 0;
	char *out = xmalloc(max * 4 + 8);

	out[o++] = '"';
	for (size_t i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			o += (size_t)sprintf(out + o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (len > max)
		o += (size_t)sprintf(out + o, "...");
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* Record the first error: "file:line:col: path: message". Returns -1. */
static int AK_PRINTFLIKE(5, 6)
fail_at(struct parse *p, unsigned line, unsigned column, const char *path,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (p->error != NULL)
		return -1;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (path != NULL && *path != '\0')
		xasprintf(&p->error, "%s:%u:%u: %s: %s", p->filename, line,
		    column, path, msg);
	else
		xasprintf(&p->error, "%s:%u:%u: %s", p->filename, line, column,
		    msg);
	free(msg);
	return -1;
}

#define fail(p, node, path, ...) \
	fail_at((p), (node)->line, (node)->column, (path), __VA_ARGS__)

/* Key paths are short: they are made of our own keys and indexes. */
static void AK_PRINTFLIKE(2, 3)
path_format(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, PATH_SIZE, fmt, ap);
	va_end(ap);
}

static void
child_path(char *out, const char *path, const char *key)
{
	if (*path == '\0')
		path_format(out, "%s", key);
	else
		path_format(out, "%s.%s", path, key);
}

/* ---- YAML events to a tree ---- */

static int
next_event(struct parse *p, yaml_event_t *ev)
{
	yaml_parser_t *y = &p->parser;

	if (yaml_parser_parse(y, ev))
		return 0;
	if (y->error == YAML_READER_ERROR) {
		/* The reader knows only the byte offset. */
		unsigned line = 1, column = 1;

		for (size_t i = 0; i < y->problem_offset && i < p->len; i++) {
			column++;
			if (p->text[i] == '\n') {
				line++;
				column = 1;
			}
		}
		return fail_at(p, line, column, NULL, "not valid YAML: %s "
		    "(byte %zu)", y->problem != NULL ? y->problem :
		    "cannot read the text", y->problem_offset);
	}
	if (y->error == YAML_MEMORY_ERROR)
		fatalx("%s: out of memory parsing YAML", __func__);
	if (y->context != NULL)
		return fail_at(p, (unsigned)y->problem_mark.line + 1,
		    (unsigned)y->problem_mark.column + 1, NULL,
		    "not valid YAML: %s (%s that started at %u:%u)",
		    y->problem != NULL ? y->problem : "syntax error",
		    y->context,
		    (unsigned)y->context_mark.line + 1,
		    (unsigned)y->context_mark.column + 1);
	return fail_at(p, (unsigned)y->problem_mark.line + 1,
	    (unsigned)y->problem_mark.column + 1, NULL, "not valid YAML: %s",
	    y->problem != NULL ? y->problem : "syntax error");
}

static int
tag_allowed(const char *tag)
{
	static const char *const standard[] = {
		"str", "int", "float", "bool", "null", "map", "seq",
	};
	const char *prefix = "tag:yaml.org,2002:";

	if (strncmp(tag, prefix, strlen(prefix)) != 0)
		return 0;
	for (size_t i = 0; i < nitems(standard); i++) {
		if (strcmp(tag + strlen(prefix), standard[i]) == 0)
			return 1;
	}
	return 0;
}

/* Anchors and custom tags are refused on every node. */
static int
check_properties(struct parse *p, struct ynode *n, const char *path,
    const yaml_char_t *anchor, const yaml_char_t *tag)
{
	char *q;

	if (anchor != NULL)
		return fail(p, n, path, "anchors (&%s) and aliases are not "
		    "allowed in a manifest; write the value out",
		    (const char *)anchor);
	if (tag != NULL && !tag_allowed((const char *)tag)) {
		q = quote((const char *)tag);
		fail(p, n, path, "the tag %s is not allowed in a manifest; "
		    "only the standard ones (!!str, !!int, !!bool, ...) are", q);
		free(q);
		return -1;
	}
	return 0;
}

static void
ynode_append(struct ynode *parent, struct ynode *child)
{
	parent->child = xreallocarray(parent->child, parent->n + 1,
	    sizeof *parent->child);
	parent->child[parent->n++] = child;
}

/* Duplicate keys are invalid YAML; libyaml leaves them to us. */
static int
check_duplicate_key(struct parse *p, struct ynode *map, const char *path,
    struct ynode *key)
{
	char *q;

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (strcmp(map->child[i]->value, key->value) != 0)
			continue;
		q = quote(key->value);
		fail(p, key, path, "the key %s is given twice (first at %u:%u)",
		    q, map->child[i]->line, map->child[i]->column);
		free(q);
		return -1;
	}
	return 0;
}

/* Build the node ev starts, consuming ev. */
static struct ynode *
load_node(struct parse *p, yaml_event_t *ev, int depth, const char *path)
{
	struct ynode *n = xcalloc(1, sizeof *n), *child;
	char sub[PATH_SIZE];
	yaml_event_t next;
	yaml_event_type_t end;
	const yaml_char_t *anchor = NULL, *tag = NULL;

	n->line = (unsigned)ev->start_mark.line + 1;
	n->column = (unsigned)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		fail(p, n, path, "aliases (*%s) and anchors are not allowed in "
		    "a manifest; write the value out",
		    (const char *)ev->data.alias.anchor);
		goto bad;
	case YAML_SCALAR_EVENT:
		n->kind = YNODE_SCALAR;
		if (check_properties(p, n, path, ev->data.scalar.anchor,
		    ev->data.scalar.tag) != 0)
			goto bad;
		if (memchr(ev->data.scalar.value, '\0',
		    ev->data.scalar.length) != NULL) {
			fail(p, n, path, "contains a NUL character");
			goto bad;
		}
		n->value = xstrndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    ev->data.scalar.tag == NULL;
		yaml_event_delete(ev);
		return n;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = YNODE_SEQUENCE;
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		end = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		n->kind = YNODE_MAPPING;
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		end = YAML_MAPPING_END_EVENT;
		break;
	default:
		fail(p, n, NULL, "unexpected YAML event %d", (int)ev->type);
		goto bad;
	}
	if (check_properties(p, n, path, anchor, tag) != 0)
		goto bad;
	if (depth >= MANIFEST_MAX_DEPTH) {
		fail(p, n, path, "the manifest nests mappings and lists more "
		    "than %d levels deep", MANIFEST_MAX_DEPTH);
		goto bad;
	}
	yaml_event_delete(ev);
	for (;;) {
		if (next_event(p, &next) != 0)
			goto bad_done;
		if (next.type == end) {
			yaml_event_delete(&next);
			return n;
		}
		if (n->kind == YNODE_SEQUENCE)
			path_format(sub, "%s[%zu]", path, n->n);
		else if (n->n % 2 == 1)
			child_path(sub, path, n->child[n->n - 1]->value);
		else
			path_format(sub, "%s", path);
		if ((child = load_node(p, &next, depth + 1, sub)) == NULL)
			goto bad_done;
		if (n->kind == YNODE_MAPPING && n->n % 2 == 0) {
			if (child->kind != YNODE_SCALAR) {
				fail(p, child, path, "a key must be a plain "
				    "word, not a %s", child->kind ==
				    YNODE_MAPPING ? "mapping" : "list");
				ynode_free(child);
				goto bad_done;
			}
			if (check_duplicate_key(p, n, path, child) != 0) {
				ynode_free(child);
				goto bad_done;
			}
		}
		ynode_append(n, child);
	}

bad:
	yaml_event_delete(ev);
bad_done:
	ynode_free(n);
	return NULL;
}

/* The one document of the stream, or NULL with p->error. */
static struct ynode *
load_document(struct parse *p)
{
	yaml_event_t ev;
	struct ynode *root;

	if (next_event(p, &ev) != 0)
		return NULL;
	if (ev.type != YAML_STREAM_START_EVENT) {
		yaml_event_delete(&ev);
		fail_at(p, 1, 1, NULL, "not valid YAML: no stream start");
		return NULL;
	}
	yaml_event_delete(&ev);
	if (next_event(p, &ev) != 0)
		return NULL;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		fail_at(p, 1, 1, NULL, "the manifest is empty; it needs at "
		    "least \"version: v2\" and a project with a name");
		return NULL;
	}
	yaml_event_delete(&ev);		/* DOCUMENT-START */
	if (next_event(p, &ev) != 0)
		return NULL;
	if ((root = load_node(p, &ev, 0, "")) == NULL)
		return NULL;
	if (next_event(p, &ev) != 0)	/* DOCUMENT-END */
		goto bad;
	yaml_event_delete(&ev);
	if (next_event(p, &ev) != 0)
		goto bad;
	if (ev.type != YAML_STREAM_END_EVENT) {
		fail_at(p, (unsigned)ev.start_mark.line + 1,
		    (unsigned)ev.start_mark.column + 1, NULL, "a second YAML "
		    "document (---) starts here; a manifest is one document");
		yaml_event_delete(&ev);
		goto bad;
	}
	yaml_event_delete(&ev);
	return root;

bad:
	ynode_free(root);
	return NULL;
}

/* ---- the schema ---- */

static int
is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->kind != YNODE_SCALAR || !n->plain)
		return 0;
	for (size_t i = 0; i < nitems(nulls); i++) {
		if (strcmp(n->value, nulls[i]) == 0)
			return 1;
	}
	return 0;
}

static const char *
kind_name(const struct ynode *n)
{
	if (n->kind == YNODE_MAPPING)
		return "a mapping";
	if (n->kind == YNODE_SEQUENCE)
		return "a list";
	return is_null(n) ? "empty (null)" : "a single value";
}

int
manifest_name_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isascii((unsigned char)*s) ||
		    (!isalnum((unsigned char)*s) && *s != '_'))
			return 0;
	}
	return 1;
}

const char *
manifest_trigger_type_name(enum manifest_trigger_type type)
{
	switch (type) {
	case MANIFEST_TRIGGER_WEBHOOK:
		return "webhook";
	case MANIFEST_TRIGGER_SCHEDULE:
		return "schedule";
	case MANIFEST_TRIGGER_CONNECTION:
		return "connection";
	}
	return "unknown";
}

static struct ynode *
lookup(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		if (strcmp(map->child[i]->value, key) == 0)
			return map->child[i + 1];
	}
	return NULL;
}

static int
expect_mapping(struct parse *p, const struct ynode *n, const char *path)
{
	if (n->kind == YNODE_MAPPING)
		return 0;
	return fail(p, n, path, "must be a mapping (key: value lines), not %s",
	    kind_name(n));
}

/* Refuse keys not in allowed (NULL-terminated). */
static int
check_keys(struct parse *p, const struct ynode *map, const char *path,
    const char *const *allowed)
{
	char list[PATH_SIZE] = "", *q;
	size_t i, k, o;

	for (i = 0; i + 1 < map->n; i += 2) {
		for (k = 0; allowed[k] != NULL; k++) {
			if (strcmp(map->child[i]->value, allowed[k]) == 0)
				break;
		}
		if (allowed[k] != NULL)
			continue;
		for (k = 0, o = 0; allowed[k] != NULL && o < sizeof list; k++)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
			    k == 0 ? "" : ", ", allowed[k]);
		q = quote(map->child[i]->value);
		if (allowed[0] == NULL)
			fail(p, map->child[i], path, "unknown key %s (no keys "
			    "are allowed here)", q);
		else
			fail(p, map->child[i], path, "unknown key %s (the keys "
			    "here are: %s)", q, list);
		free(q);
		return -1;
	}
	return 0;
}

/* A string value: any scalar but null is taken as its text. */
static int
get_string(struct parse *p, const struct ynode *map, const char *path,
    const char *key, int required, char **out)
{
	struct ynode *n = lookup(map, key);
	char sub[PATH_SIZE];

	child_path(sub, path, key);
	*out = NULL;
	if (n == NULL) {
		if (required)
			return fail(p, map, sub, "required");
		*out = xstrdup("");
		return 0;
	}
	if (n->kind != YNODE_SCALAR)
		return fail(p, n, sub, "must be a single value, not %s",
		    kind_name(n));
	if (is_null(n))
		return fail(p, n, sub, "is empty (null); write %s: \"\" for an "
		    "empty string, or remove the key", key);
	*out = xstrdup(n->value);
	return 0;
}

static int
get_name(struct parse *p, const struct ynode *map, const char *path,
    char **out)
{
	char sub[PATH_SIZE], *q;
	int rc;

	if (get_string(p, map, path, "name", 1, out) != 0)
		return -1;
	if (manifest_name_valid(*out))
		return 0;
	child_path(sub, path, "name");
	q = quote(*out);
	rc = fail(p, lookup(map, "name"), sub, "%s does not match ^\\w+$ "
	    "(use only letters, digits and _)", q);
	free(q);
	return rc;
}

static int
get_bool(struct parse *p, const struct ynode *map, const char *path,
    const char *key, int dflt, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	struct ynode *n = lookup(map, key);
	char sub[PATH_SIZE], *q;

	*out = dflt;
	if (n == NULL)
		return 0;
	if (n->kind == YNODE_SCALAR && n->plain) {
		for (size_t i = 0; i < nitems(yes); i++) {
			if (strcmp(n->value, yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcmp(n->value, no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	}
	child_path(sub, path, key);
	if (n->kind != YNODE_SCALAR)
		return fail(p, n, sub, "must be true or false, not %s",
		    kind_name(n));
	q = quote(n->value);
	fail(p, n, sub, "must be true or false (unquoted), not %s", q);
	free(q);
	return -1;
}

/* An optional list: NULL when absent. */
static int
get_list(struct parse *p, const struct ynode *map, const char *path,
    const char *key, struct ynode **out)
{
	struct ynode *n = lookup(map, key);
	char sub[PATH_SIZE];

	*out = n;
	if (n == NULL || n->kind == YNODE_SEQUENCE)
		return 0;
	child_path(sub, path, key);
	return fail(p, n, sub, "must be a list (lines starting with \"- \"), "
	    "not %s", kind_name(n));
}

/* Names must be unique within a list. */
static int
check_unique(struct parse *p, const struct ynode *list, size_t index,
    const char *path, const char *item_path, const char *name,
    const char *const *earlier)
{
	char sub[PATH_SIZE], *q;

	for (size_t i = 0; i < index; i++) {
		if (strcmp(earlier[i], name) != 0)
			continue;
		child_path(sub, item_path, "name");
		q = quote(name);
		fail(p, lookup(list->child[index], "name"), sub, "%s is "
		    "already used by %s[%zu]", q, path, i);
		free(q);
		return -1;
	}
	return 0;
}

static const char *const var_keys[] = {
	"name", "value", "description", "secret", NULL
};

static int
parse_vars(struct parse *p, const struct ynode *list, const char *path,
    struct manifest_var **out, size_t *nout)
{
	struct manifest_var *vars;
	const char **names;
	char sub[PATH_SIZE];
	int rc = -1;

	*out = NULL;
	*nout = 0;
	if (list == NULL || list->n == 0)
		return 0;
	vars = xcalloc(list->n, sizeof *vars);
	names = xcalloc(list->n, sizeof *names);
	*out = vars;
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *n = list->child[i];
		struct manifest_var *v = &vars[i];

		path_format(sub, "%s[%zu]", path, i);
		*nout = i + 1;
		v->line = n->line;
		v->column = n->column;
		if (expect_mapping(p, n, sub) != 0 ||
		    check_keys(p, n, sub, var_keys) != 0 ||
		    get_name(p, n, sub, &v->name) != 0 ||
		    check_unique(p, list, i, path, sub, v->name, names) != 0 ||
		    get_string(p, n, sub, "value", 1, &v->value) != 0 ||
		    get_string(p, n, sub, "description", 0,
		    &v->description) != 0 ||
		    get_bool(p, n, sub, "secret", 0, &v->secret) != 0)
			goto out;
		names[i] = v->name;
	}
	rc = 0;
out:
	free(names);
	return rc;
}

static const char *const connection_keys[] = {
	"name", "integration", "vars", NULL
};

static int
parse_connections(struct parse *p, const struct ynode *list, const char *path,
    struct manifest *m)
{
	const char **names;
	char sub[PATH_SIZE], varpath[PATH_SIZE];
	struct ynode *vars;
	int rc = -1;

	if (list == NULL || list->n == 0)
		return 0;
	m->connections = xcalloc(list->n, sizeof *m->connections);
	names = xcalloc(list->n, sizeof *names);
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *n = list->child[i];
		struct manifest_connection *c = &m->connections[i];

		path_format(sub, "%s[%zu]", path, i);
		m->nconnections = i + 1;
		c->line = n->line;
		c->column = n->column;
		if (expect_mapping(p, n, sub) != 0 ||
		    check_keys(p, n, sub, connection_keys) != 0 ||
		    get_name(p, n, sub, &c->name) != 0 ||
		    check_unique(p, list, i, path, sub, c->name, names) != 0 ||
		    get_string(p, n, sub, "integration", 1,
		    &c->integration) != 0)
			goto out;
		names[i] = c->name;
		if (*c->integration == '\0') {
			child_path(varpath, sub, "integration");
			fail(p, lookup(n, "integration"), varpath, "must name "
			    "an integration, such as slack or github");
			goto out;
		}
		child_path(varpath, sub, "vars");
		if (get_list(p, n, sub, "vars", &vars) != 0 ||
		    parse_vars(p, vars, varpath, &c->vars, &c->nvars) != 0)
			goto out;
	}
	rc = 0;
out:
	free(names);
	return rc;
}

/* "dir/program.py:on_hook" -> code_path, code_name. */
static int
parse_call(struct parse *p, const struct ynode *n, const char *path,
    struct manifest_trigger *t)
{
	const char *colon = strrchr(t->call, ':'), *s, *hint;
	char *q;
	size_t plen;

	hint = "write it as file.py:function, e.g. program.py:on_event";
	q = quote(t->call);
	if (colon == NULL || colon == t->call) {
		fail(p, n, path, "%s is not a code location; %s", q, hint);
		goto bad;
	}
	if (!manifest_name_valid(colon + 1)) {
		fail(p, n, path, "%s: the function name must match ^\\w+$; %s",
		    q, hint);
		goto bad;
	}
	plen = (size_t)(colon - t->call);
	if (plen < 4 || strncmp(colon - 3, ".py", 3) != 0) {
		fail(p, n, path, "%s: only Python files (.py) can be called; "
		    "%s", q, hint);
		goto bad;
	}
	if (t->call[0] == '/') {
		fail(p, n, path, "%s: the file must be relative to the "
		    "project directory", q);
		goto bad;
	}
	for (s = t->call; s < colon; s++) {
		if (*s == ':' || *s == '\\' || iscntrl((unsigned char)*s)) {
			fail(p, n, path, "%s: the file name may not contain "
			    "':', '\\' or control characters", q);
			goto bad;
		}
		if ((s == t->call || s[-1] == '/') && s[0] == '.' &&
		    s[1] == '.' && (s + 2 == colon || s[2] == '/')) {
			fail(p, n, path, "%s: the file must be inside the "
			    "project directory (no \"..\")", q);
			goto bad;
		}
	}
	free(q);
	t->code_path = xstrndup(t->call, plen);
	t->code_name = xstrdup(colon + 1);
	return 0;
bad:
	free(q);
	return -1;
}

static const char *const trigger_keys[] = {
	"name", "type", "event_type", "filter", "is_durable", "is_sync",
	"schedule", "webhook", "connection", "call", NULL
};


/* The source type: from type:, or implied by webhook/schedule/connection. */
static int
trigger_type(struct parse *p, const struct ynode *n, const char *path,
    struct manifest_trigger *t)
{
	static const char *const sources[] = {
		"webhook", "schedule", "connection"
	};
	const struct ynode *type = lookup(n, "type");
	const char *given[3];
	size_t ngiven = 0, i;
	char sub[PATH_SIZE], *q;

	for (i = 0; i < nitems(sources); i++) {
		if (lookup(n, sources[i]) != NULL)
			given[ngiven++] = sources[i];
	}
	if (type != NULL) {
		child_path(sub, path, "type");
		if (type->kind != YNODE_SCALAR || is_null(type))
			return fail(p, type, sub, "must be webhook, schedule "
			    "or connection, not %s", kind_name(type));
		for (i = 0; i < nitems(sources); i++) {
			if (strcmp(type->value, sources[i]) == 0)
				break;
		}
		if (i == nitems(sources)) {
			q = quote(type->value);
			fail(p, type, sub, "%s is not a trigger type; use "
			    "webhook, schedule or connection", q);
			free(q);
			return -1;
		}
		for (size_t k = 0; k < ngiven; k++) {
			if (strcmp(given[k], type->value) != 0)
				return fail(p, n, path, "type is %s but the "
				    "trigger has a %s: key; keep one source",
				    type->value, given[k]);
		}
		t->type = (enum manifest_trigger_type)i;
	} else {
		if (ngiven == 0)
			return fail(p, n, path, "the trigger has no type; add "
			    "webhook: {}, schedule: \"<cron>\", connection: "
			    "<name> or type:");
		if (ngiven > 1)
			return fail(p, n, path, "the trigger has both %s: and "
			    "%s:; a trigger has one source", given[0],
			    given[1]);
		for (i = 0; strcmp(sources[i], given[0]) != 0; i++)
			;
		t->type = (enum manifest_trigger_type)i;
	}
	return 0;
}

static int
parse_trigger_source(struct parse *p, const struct ynode *n, const char *path,
    struct manifest_trigger *t)
{
	const struct ynode *webhook = lookup(n, "webhook");
	char sub[PATH_SIZE];

	if (webhook != NULL) {
		child_path(sub, path, "webhook");
		if (webhook->kind != YNODE_MAPPING)
			return fail(p, webhook, sub, "must be an empty "
			    "mapping: write webhook: {}");
		if (check_keys(p, webhook, sub, (const char *const[]){ NULL })
		    != 0)
			return -1;
	}
	if (get_string(p, n, path, "schedule", 0, &t->schedule) != 0 ||
	    get_string(p, n, path, "connection", 0, &t->connection) != 0)
		return -1;
	if (t->type == MANIFEST_TRIGGER_SCHEDULE && *t->schedule == '\0') {
		child_path(sub, path, "schedule");
		return fail(p, lookup(n, "schedule") != NULL ?
		    lookup(n, "schedule") : n, sub, "a schedule trigger needs "
		    "a cron expression, e.g. schedule: \"0 6 * * *\"");
	}
	if (t->type == MANIFEST_TRIGGER_CONNECTION) {
		child_path(sub, path, "connection");
		if (*t->connection == '\0')
			return fail(p, lookup(n, "connection") != NULL ?
			    lookup(n, "connection") : n, sub, "a connection "
			    "trigger needs the name of a connection");
		if (!manifest_name_valid(t->connection))
			return fail(p, lookup(n, "connection"), sub, "must be "
			    "a connection name (^\\w+$)");
	}
	return 0;
}

static int
parse_trigger(struct parse *p, const struct ynode *n, const char *path,
    int version, struct manifest_trigger *t)
{
	char sub[PATH_SIZE];

	if (trigger_type(p, n, path, t) != 0 ||
	    parse_trigger_source(p, n, path, t) != 0 ||
	    get_string(p, n, path, "event_type", 0, &t->event_type) != 0 ||
	    get_string(p, n, path, "filter", 0, &t->filter) != 0 ||
	    get_bool(p, n, path, "is_durable", version == 1,
	    &t->is_durable) != 0 ||
	    get_bool(p, n, path, "is_sync", 0, &t->is_sync) != 0 ||
	    get_string(p, n, path, "call", 0, &t->call) != 0)
		return -1;
	if (*t->call == '\0') {
		t->code_path = xstrdup("");
		t->code_name = xstrdup("");
		return 0;
	}
	child_path(sub, path, "call");
	return parse_call(p, lookup(n, "call"), sub, t);
}

static int
parse_triggers(struct parse *p, const struct ynode *list, const char *path,
    struct manifest *m)
{
	const char **names;
	char sub[PATH_SIZE];
	int rc = -1;

	if (list == NULL || list->n == 0)
		return 0;
	m->triggers = xcalloc(list->n, sizeof *m->triggers);
	names = xcalloc(list->n, sizeof *names);
	for (size_t i = 0; i < list->n; i++) {
		struct manifest_trigger *t = &m->triggers[i];

		path_format(sub, "%s[%zu]", path, i);
		m->ntriggers = i + 1;
		t->line = list->child[i]->line;
		t->column = list->child[i]->column;
		if (expect_mapping(p, list->child[i], sub) != 0 ||
		    check_keys(p, list->child[i], sub, trigger_keys) != 0 ||
		    get_name(p, list->child[i], sub, &t->name) != 0 ||
		    check_unique(p, list, i, path, sub, t->name, names) != 0 ||
		    parse_trigger(p, list->child[i], sub, m->version, t) != 0)
			goto out;
		names[i] = t->name;
	}
	rc = 0;
out:
	free(names);
	return rc;
}

static const char *const project_keys[] = {
	"name", "display_name", "vars", "connections", "triggers", NULL
};

static int
parse_project(struct parse *p, const struct ynode *n, struct manifest *m)
{
	struct ynode *vars, *connections, *triggers;

	m->project_line = n->line;
	m->project_column = n->column;
	if (expect_mapping(p, n, "project") != 0 ||
	    check_keys(p, n, "project", project_keys) != 0 ||
	    get_name(p, n, "project", &m->project_name) != 0 ||
	    get_string(p, n, "project", "display_name", 0,
	    &m->display_name) != 0 ||
	    get_list(p, n, "project", "vars", &vars) != 0 ||
	    get_list(p, n, "project", "connections", &connections) != 0 ||
	    get_list(p, n, "project", "triggers", &triggers) != 0)
		return -1;
	if (parse_vars(p, vars, "project.vars", &m->vars, &m->nvars) != 0 ||
	    parse_connections(p, connections, "project.connections", m) != 0 ||
	    parse_triggers(p, triggers, "project.triggers", m) != 0)
		return -1;
	return 0;
}

static const char *const root_keys[] = { "version", "project", NULL };

static int
parse_root(struct parse *p, const struct ynode *root, struct manifest *m)
{
	const struct ynode *project;
	char *version, *q;

	if (root->kind != YNODE_MAPPING)
		return fail(p, root, NULL, "the manifest must be a mapping "
		    "with version: and project:, not %s", kind_name(root));
	if (check_keys(p, root, "", root_keys) != 0 ||
	    get_string(p, root, "", "version", 1, &version) != 0)
		return -1;
	if (strcmp(version, "v1") == 0 || strcmp(version, "v2") == 0)
		m->version = version[1] - '0';
	else {
		q = quote(version);
		fail(p, lookup(root, "version"), "version", "%s is not a "
		    "manifest version; use v1 or v2", q);
		free(q);
	}
	free(version);
	if (m->version == 0)
		return -1;
	if ((project = lookup(root, "project")) == NULL)
		return fail(p, root, "project", "required");
	return parse_project(p, project, m);
}

struct manifest *
manifest_parse(const char *text, size_t len, const char *filename,
    char **cause)
{
	struct parse p;
	struct manifest *m;
	struct ynode *root;

	memset(&p, 0, sizeof p);
	p.filename = filename != NULL ? filename : "autokitteh.yaml";
	p.text = text;
	p.len = len;
	*cause = NULL;
	if (len > MANIFEST_MAX_SIZE) {
		xasprintf(cause, "%s: the manifest is %zu bytes, more than the "
		    "limit of 1 MiB", p.filename, len);
		return NULL;
	}
	if (!yaml_parser_initialize(&p.parser))
		fatalx("%s: cannot initialize the YAML parser", __func__);
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text,
	    len);
	root = load_document(&p);
	yaml_parser_delete(&p.parser);
	if (root == NULL) {
		*cause = p.error;
		return NULL;
	}
	m = xcalloc(1, sizeof *m);
	m->filename = xstrdup(p.filename);
	if (parse_root(&p, root, m) != 0) {
		ynode_free(root);
		manifest_free(m);
		*cause = p.error;
		return NULL;
	}
	ynode_free(root);
	return m;
}

static void
vars_free(struct manifest_var *vars, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(vars[i].name);
		free(vars[i].value);
		free(vars[i].description);
	}
	free(vars);
}

void
manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	vars_free(m->vars, m->nvars);
	for (size_t i = 0; i < m->nconnections; i++) {
		free(m->connections[i].name);
		free(m->connections[i].integration);
		vars_free(m->connections[i].vars, m->connections[i].nvars);
	}
	free(m->connections);
	for (size_t i = 0; i < m->ntriggers; i++) {
		struct manifest_trigger *t = &m->triggers[i];

		free(t->name);
		free(t->event_type);
		free(t->filter);
		free(t->schedule);
		free(t->connection);
		free(t->call);
		free(t->code_path);
		free(t->code_name);
	}
	free(m->triggers);
	free(m->filename);
	free(m->project_name);
	free(m->display_name);
	free(m);
}
