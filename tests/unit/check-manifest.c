/*
 * check-manifest.c: unit tests for lib/manifest.c and src/manifest-apply.c.
 *
 * Parsing: the shapes AutoKitteh accepts (the kittehub v2 example, the
 * hello example, type inference and defaults), then every malformed case
 * with the exact message a user sees. Plan and apply: against a fresh store
 * in a temporary directory, written through store_write() and committed by
 * turning the event loop, as the daemon does.
 */
#include "autokittehd.h"
#include "manifest.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>

static const char kittehub[] =
    "version: v2\n"
    "project:\n"
    "  name: my_proj\n"
    "  display_name: My project\n"
    "  vars:\n"
    "    - name: CHANNEL\n"
    "      value: \"#alerts\"\n"
    "    - name: API_TOKEN\n"
    "      value: \"\"\n"
    "      secret: true\n"
    "  connections:\n"
    "    - name: slack_conn\n"
    "      integration: slack\n"
    "      vars:\n"
    "        - name: BOT_NAME\n"
    "          value: kitteh\n"
    "          description: shown in Slack\n"
    "  triggers:\n"
    "    - name: on_mention\n"
    "      connection: slack_conn\n"
    "      event_type: app_mention\n"
    "      call: program.py:on_mention\n"
    "    - name: hook\n"
    "      type: webhook\n"
    "      event_type: post\n"
    "      filter: data.url.path.endsWith(\"/meow\")\n"
    "      is_sync: true\n"
    "      call: program.py:on_hook\n"
    "    - name: nightly\n"
    "      schedule: \"0 6 * * *\"     # also \"@every 15m\", \"@daily\"\n"
    "      is_durable: true\n"
    "      call: program.py:nightly\n";

static const char hello[] =
    "version: v1\n"
    "project:\n"
    "  name: hello\n"
    "  vars:\n"
    "    - name: GREETING\n"
    "      value: hi\n"
    "  triggers:\n"
    "    - name: hook\n"
    "      webhook: {}\n"
    "      call: program.py:on_hook\n";

static struct manifest *
parse_ok(const char *text)
{
	char *cause = NULL;
	struct manifest *m = manifest_parse(text, strlen(text),
	    "autokitteh.yaml", &cause);

	ck_assert_msg(m != NULL, "manifest_parse: %s", cause);
	ck_assert_ptr_null(cause);
	return m;
}

/* ---- valid manifests ---- */

START_TEST(parse_kittehub)
{
	struct manifest *m = parse_ok(kittehub);
	const struct manifest_trigger *t;

	ck_assert_int_eq(m->version, 2);
	ck_assert_str_eq(m->filename, "autokitteh.yaml");
	ck_assert_str_eq(m->project_name, "my_proj");
	ck_assert_str_eq(m->display_name, "My project");
	ck_assert_uint_eq(m->project_line, 3);
	ck_assert_uint_eq(m->project_column, 3);

	ck_assert_uint_eq(m->nvars, 2);
	ck_assert_str_eq(m->vars[0].name, "CHANNEL");
	ck_assert_str_eq(m->vars[0].value, "#alerts");
	ck_assert_str_eq(m->vars[0].description, "");
	ck_assert_int_eq(m->vars[0].secret, 0);
	ck_assert_str_eq(m->vars[1].name, "API_TOKEN");
	ck_assert_str_eq(m->vars[1].value, "");
	ck_assert_int_eq(m->vars[1].secret, 1);
	ck_assert_uint_eq(m->vars[1].line, 8);
	ck_assert_uint_eq(m->vars[1].column, 7);

	ck_assert_uint_eq(m->nconnections, 1);
	ck_assert_str_eq(m->connections[0].name, "slack_conn");
	ck_assert_str_eq(m->connections[0].integration, "slack");
	ck_assert_uint_eq(m->connections[0].nvars, 1);
	ck_assert_str_eq(m->connections[0].vars[0].name, "BOT_NAME");
	ck_assert_str_eq(m->connections[0].vars[0].value, "kitteh");
	ck_assert_str_eq(m->connections[0].vars[0].description,
	    "shown in Slack");

	ck_assert_uint_eq(m->ntriggers, 3);
	t = &m->triggers[0];
	ck_assert_str_eq(t->name, "on_mention");
	ck_assert_int_eq(t->type, MANIFEST_TRIGGER_CONNECTION);
	ck_assert_str_eq(t->connection, "slack_conn");
	ck_assert_str_eq(t->event_type, "app_mention");
	ck_assert_str_eq(t->code_path, "program.py");
	ck_assert_str_eq(t->code_name, "on_mention");
	ck_assert_int_eq(t->is_durable, 0);		/* v2 default */
	t = &m->triggers[1];
	ck_assert_int_eq(t->type, MANIFEST_TRIGGER_WEBHOOK);
	ck_assert_str_eq(t->event_type, "post");
	ck_assert_str_eq(t->filter, "data.url.path.endsWith(\"/meow\")");
	ck_assert_int_eq(t->is_sync, 1);
	ck_assert_int_eq(t->is_durable, 0);
	ck_assert_str_eq(t->call, "program.py:on_hook");
	ck_assert_str_eq(t->schedule, "");
	ck_assert_str_eq(t->connection, "");
	t = &m->triggers[2];
	ck_assert_int_eq(t->type, MANIFEST_TRIGGER_SCHEDULE);
	ck_assert_str_eq(t->schedule, "0 6 * * *");
	ck_assert_int_eq(t->is_durable, 1);
	ck_assert_int_eq(t->is_sync, 0);
	ck_assert_str_eq(manifest_trigger_type_name(t->type), "schedule");
	manifest_free(m);
}
END_TEST

START_TEST(parse_hello)
{
	struct manifest *m = parse_ok(hello);
	const struct manifest_trigger *t;

	ck_assert_int_eq(m->version, 1);
	ck_assert_str_eq(m->project_name, "hello");
	ck_assert_str_eq(m->display_name, "");
	ck_assert_uint_eq(m->nvars, 1);
	ck_assert_str_eq(m->vars[0].name, "GREETING");
	ck_assert_str_eq(m->vars[0].value, "hi");
	ck_assert_uint_eq(m->nconnections, 0);
	ck_assert_uint_eq(m->ntriggers, 1);
	t = &m->triggers[0];
	ck_assert_str_eq(t->name, "hook");
	ck_assert_int_eq(t->type, MANIFEST_TRIGGER_WEBHOOK);
	ck_assert_int_eq(t->is_durable, 1);		/* v1 default */
	ck_assert_int_eq(t->is_sync, 0);
	ck_assert_str_eq(t->event_type, "");
	ck_assert_str_eq(t->filter, "");
	ck_assert_str_eq(t->code_path, "program.py");
	ck_assert_str_eq(t->code_name, "on_hook");
	ck_assert_uint_eq(t->line, 8);
	ck_assert_uint_eq(t->column, 7);
	manifest_free(m);
}
END_TEST

START_TEST(parse_inference_and_defaults)
{
	struct manifest *m = parse_ok(
	    "version: v2\n"
	    "project:\n"
	    "  name: p_1\n"
	    "  triggers:\n"
	    "  - {name: a, webhook: {}}\n"
	    "  - {name: b, schedule: \"@every 15m\"}\n"
	    "  - {name: c, connection: gh}\n"
	    "  - {name: d, type: webhook, is_durable: True, is_sync: FALSE}\n"
	    "  - {name: e, type: schedule, schedule: \"@daily\"}\n"
	    "  - {name: f, type: connection, connection: gh}\n"
	    "  - {name: g, type: webhook, webhook: {}, call: a/b/c.py:run}\n");

	ck_assert_uint_eq(m->ntriggers, 7);
	ck_assert_int_eq(m->triggers[0].type, MANIFEST_TRIGGER_WEBHOOK);
	ck_assert_int_eq(m->triggers[1].type, MANIFEST_TRIGGER_SCHEDULE);
	ck_assert_str_eq(m->triggers[1].schedule, "@every 15m");
	ck_assert_int_eq(m->triggers[2].type, MANIFEST_TRIGGER_CONNECTION);
	ck_assert_str_eq(m->triggers[2].connection, "gh");
	ck_assert_int_eq(m->triggers[3].type, MANIFEST_TRIGGER_WEBHOOK);
	ck_assert_int_eq(m->triggers[3].is_durable, 1);
	ck_assert_int_eq(m->triggers[3].is_sync, 0);
	ck_assert_int_eq(m->triggers[4].type, MANIFEST_TRIGGER_SCHEDULE);
	ck_assert_int_eq(m->triggers[5].type, MANIFEST_TRIGGER_CONNECTION);
	ck_assert_int_eq(m->triggers[6].type, MANIFEST_TRIGGER_WEBHOOK);
	ck_assert_str_eq(m->triggers[6].code_path, "a/b/c.py");
	ck_assert_str_eq(m->triggers[6].code_name, "run");
	for (size_t i = 0; i < m->ntriggers; i++) {
		if (i != 3)
			ck_assert_int_eq(m->triggers[i].is_durable, 0);
		if (i != 6)
			ck_assert_str_eq(m->triggers[i].call, "");
	}
	manifest_free(m);

	/* v1: durable unless told otherwise. */
	m = parse_ok("version: v1\nproject:\n  name: x\n  triggers:\n"
	    "  - {name: a, webhook: {}}\n"
	    "  - {name: b, webhook: {}, is_durable: false}\n");
	ck_assert_int_eq(m->triggers[0].is_durable, 1);
	ck_assert_int_eq(m->triggers[1].is_durable, 0);
	manifest_free(m);
}
END_TEST

START_TEST(parse_scalars_as_text)
{
	struct manifest *m = parse_ok(
	    "%YAML 1.1\n"
	    "---\n"
	    "version: \"v2\"\n"
	    "project:\n"
	    "  name: '42'\n"
	    "  vars:\n"
	    "  - {name: N, value: 8080}\n"
	    "  - {name: B, value: true}\n"
	    "  - {name: F, value: 1.5, description: 10}\n"
	    "  - {name: S, value: !!str 7, secret: false}\n"
	    "  - {name: Q, value: \"null\"}\n"
	    "  - name: M\n"
	    "    value: |\n"
	    "      two\n"
	    "      lines\n"
	    "...\n");

	ck_assert_str_eq(m->project_name, "42");
	ck_assert_uint_eq(m->nvars, 6);
	ck_assert_str_eq(m->vars[0].value, "8080");
	ck_assert_str_eq(m->vars[1].value, "true");
	ck_assert_str_eq(m->vars[2].value, "1.5");
	ck_assert_str_eq(m->vars[2].description, "10");
	ck_assert_str_eq(m->vars[3].value, "7");
	ck_assert_str_eq(m->vars[4].value, "null");
	ck_assert_str_eq(m->vars[5].value, "two\nlines\n");
	manifest_free(m);
	manifest_free(NULL);
}
END_TEST

START_TEST(parse_names)
{
	ck_assert_int_eq(manifest_name_valid("a"), 1);
	ck_assert_int_eq(manifest_name_valid("A_b_9"), 1);
	ck_assert_int_eq(manifest_name_valid("_"), 1);
	ck_assert_int_eq(manifest_name_valid(""), 0);
	ck_assert_int_eq(manifest_name_valid("a-b"), 0);
	ck_assert_int_eq(manifest_name_valid("a b"), 0);
	ck_assert_int_eq(manifest_name_valid("caf\xc3\xa9"), 0);
}
END_TEST

START_TEST(parse_default_filename)
{
	char *cause = NULL;

	ck_assert_ptr_null(manifest_parse("version: v9", 11, NULL, &cause));
	ck_assert_str_eq(cause, "autokitteh.yaml:1:10: version: \"v9\" is "
	    "not a manifest version; use v1 or v2");
	free(cause);
	ck_assert_ptr_null(manifest_parse("version: v9", 11, "dir/ak.yaml",
	    &cause));
	ck_assert_str_eq(cause, "dir/ak.yaml:1:10: version: \"v9\" is not a "
	    "manifest version; use v1 or v2");
	free(cause);
}
END_TEST

/* ---- malformed manifests: one row per case, with its message ---- */

static const struct {
	const char	*name;
	const char	*text;
	const char	*error;
} malformed[] = {
	{ "empty",
	    "",
	    "autokitteh.yaml:1:1: the manifest is empty; it needs at "
	    "least \"version: v2\" and a project with a name" },
	{ "comment_only",
	    "# nothing here\n",
	    "autokitteh.yaml:1:1: the manifest is empty; it needs at "
	    "least \"version: v2\" and a project with a name" },
	{ "null_document",
	    "---\n",
	    "autokitteh.yaml:2:1: the manifest must be a mapping with "
	    "version: and project:, not empty (null)" },
	{ "scalar_document",
	    "hello\n",
	    "autokitteh.yaml:1:1: the manifest must be a mapping with "
	    "version: and project:, not a single value" },
	{ "list_document",
	    "- a\n"
	    "- b\n",
	    "autokitteh.yaml:1:1: the manifest must be a mapping with "
	    "version: and project:, not a list" },
	{ "missing_version",
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:1: version: required" },
	{ "bad_version",
	    "version: v3\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:10: version: \"v3\" is not a manifest "
	    "version; use v1 or v2" },
	{ "version_number",
	    "version: 1\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:10: version: \"1\" is not a manifest "
	    "version; use v1 or v2" },
	{ "version_mapping",
	    "version: {a: b}\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:10: version: must be a single value, "
	    "not a mapping" },
	{ "missing_project",
	    "version: v1\n",
	    "autokitteh.yaml:1:1: project: required" },
	{ "project_null",
	    "version: v1\n"
	    "project:\n",
	    "autokitteh.yaml:2:9: project: must be a mapping (key: "
	    "value lines), not empty (null)" },
	{ "project_scalar",
	    "version: v1\n"
	    "project: hello\n",
	    "autokitteh.yaml:2:10: project: must be a mapping (key: "
	    "value lines), not a single value" },
	{ "missing_name",
	    "version: v1\n"
	    "project:\n"
	    "  display_name: Hello\n",
	    "autokitteh.yaml:3:3: project.name: required" },
	{ "bad_name",
	    "version: v1\n"
	    "project:\n"
	    "  name: my-proj\n",
	    "autokitteh.yaml:3:9: project.name: \"my-proj\" does not "
	    "match ^\\w+$ (use only letters, digits and _)" },
	{ "empty_name",
	    "version: v1\n"
	    "project:\n"
	    "  name: \"\"\n",
	    "autokitteh.yaml:3:9: project.name: \"\" does not match "
	    "^\\w+$ (use only letters, digits and _)" },
	{ "name_null",
	    "version: v1\n"
	    "project:\n"
	    "  name:\n",
	    "autokitteh.yaml:3:8: project.name: is empty (null); "
	    "write name: \"\" for an empty string, or remove the key" },
	{ "unknown_root_key",
	    "version: v1\n"
	    "projects:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:2:1: unknown key \"projects\" (the keys "
	    "here are: version, project)" },
	{ "unknown_project_key",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  varz: []\n",
	    "autokitteh.yaml:4:3: project: unknown key \"varz\" (the "
	    "keys here are: name, display_name, vars, connections, "
	    "triggers)" },
	{ "unknown_var_key",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n"
	    "      value: x\n"
	    "    - name: B\n"
	    "      valu: y\n",
	    "autokitteh.yaml:8:7: project.vars[1]: unknown key \"valu\" "
	    "(the keys here are: name, value, description, secret)" },
	{ "unknown_trigger_key",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    cal: program.py:f\n",
	    "autokitteh.yaml:7:5: project.triggers[0]: unknown key "
	    "\"cal\" (the keys here are: name, type, event_type, "
	    "filter, is_durable, is_sync, schedule, webhook, "
	    "connection, call)" },
	{ "unknown_connection_key",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  connections:\n"
	    "    - name: c\n"
	    "      integration: slack\n"
	    "      token: x\n",
	    "autokitteh.yaml:7:7: project.connections[0]: unknown key "
	    "\"token\" (the keys here are: name, integration, vars)" },
	{ "unknown_webhook_key",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {path: /x}\n",
	    "autokitteh.yaml:6:15: project.triggers[0].webhook: "
	    "unknown key \"path\" (no keys are allowed here)" },
	{ "unknown_connection_var_key",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  connections:\n"
	    "    - name: c\n"
	    "      integration: slack\n"
	    "      vars:\n"
	    "        - name: A\n"
	    "          val: 1\n",
	    "autokitteh.yaml:9:11: project.connections[0].vars[0]: "
	    "unknown key \"val\" (the keys here are: name, value, "
	    "description, secret)" },
	{ "var_missing_name",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - value: x\n",
	    "autokitteh.yaml:5:7: project.vars[0].name: required" },
	{ "var_missing_value",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n",
	    "autokitteh.yaml:5:7: project.vars[0].value: required" },
	{ "var_value_null",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n"
	    "      value:\n",
	    "autokitteh.yaml:6:13: project.vars[0].value: is empty "
	    "(null); write value: \"\" for an empty string, or remove "
	    "the key" },
	{ "var_value_list",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n"
	    "      value: [1]\n",
	    "autokitteh.yaml:6:14: project.vars[0].value: must be a "
	    "single value, not a list" },
	{ "var_bad_name",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: MY VAR\n"
	    "      value: x\n",
	    "autokitteh.yaml:5:13: project.vars[0].name: \"MY VAR\" "
	    "does not match ^\\w+$ (use only letters, digits and _)" },
	{ "var_secret_not_bool",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n"
	    "      value: x\n"
	    "      secret: yes\n",
	    "autokitteh.yaml:7:15: project.vars[0].secret: must be "
	    "true or false (unquoted), not \"yes\"" },
	{ "var_secret_quoted",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n"
	    "      value: x\n"
	    "      secret: \"true\"\n",
	    "autokitteh.yaml:7:15: project.vars[0].secret: must be "
	    "true or false (unquoted), not \"true\"" },
	{ "duplicate_var",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: A\n"
	    "      value: x\n"
	    "    - name: A\n"
	    "      value: y\n",
	    "autokitteh.yaml:7:13: project.vars[1].name: \"A\" is "
	    "already used by project.vars[0]" },
	{ "duplicate_trigger",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "  - name: hook\n"
	    "    webhook: {}\n",
	    "autokitteh.yaml:7:11: project.triggers[1].name: \"hook\" "
	    "is already used by project.triggers[0]" },
	{ "duplicate_connection",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  connections:\n"
	    "    - name: c\n"
	    "      integration: slack\n"
	    "    - name: c\n"
	    "      integration: github\n",
	    "autokitteh.yaml:7:13: project.connections[1].name: \"c\" "
	    "is already used by project.connections[0]" },
	{ "connection_missing_integration",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  connections:\n"
	    "    - name: c\n",
	    "autokitteh.yaml:5:7: project.connections[0].integration: "
	    "required" },
	{ "connection_empty_integration",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  connections:\n"
	    "    - name: c\n"
	    "      integration: \"\"\n",
	    "autokitteh.yaml:6:20: "
	    "project.connections[0].integration: must name an "
	    "integration, such as slack or github" },
	{ "trigger_missing_name",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "    - webhook: {}\n",
	    "autokitteh.yaml:5:7: project.triggers[0].name: required" },
	{ "trigger_bad_name",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "    - name: my-hook\n"
	    "      webhook: {}\n",
	    "autokitteh.yaml:5:13: project.triggers[0].name: "
	    "\"my-hook\" does not match ^\\w+$ (use only letters, digits "
	    "and _)" },
	{ "trigger_no_type",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    call: program.py:f\n",
	    "autokitteh.yaml:5:5: project.triggers[0]: the trigger "
	    "has no type; add webhook: {}, schedule: \"<cron>\", "
	    "connection: <name> or type:" },
	{ "trigger_bad_type",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: http\n",
	    "autokitteh.yaml:6:11: project.triggers[0].type: \"http\" "
	    "is not a trigger type; use webhook, schedule or "
	    "connection" },
	{ "trigger_conflicting_type",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: webhook\n"
	    "    schedule: \"@daily\"\n",
	    "autokitteh.yaml:5:5: project.triggers[0]: type is "
	    "webhook but the trigger has a schedule: key; keep one "
	    "source" },
	{ "trigger_two_sources",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    connection: slack\n",
	    "autokitteh.yaml:5:5: project.triggers[0]: the trigger "
	    "has both webhook: and connection:; a trigger has one "
	    "source" },
	{ "trigger_schedule_empty",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: schedule\n",
	    "autokitteh.yaml:5:5: project.triggers[0].schedule: a "
	    "schedule trigger needs a cron expression, e.g. schedule: "
	    "\"0 6 * * *\"" },
	{ "trigger_connection_missing",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: connection\n",
	    "autokitteh.yaml:5:5: project.triggers[0].connection: a "
	    "connection trigger needs the name of a connection" },
	{ "trigger_webhook_null",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook:\n",
	    "autokitteh.yaml:6:13: project.triggers[0].webhook: must "
	    "be an empty mapping: write webhook: {}" },
	{ "trigger_webhook_scalar",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: yes\n",
	    "autokitteh.yaml:6:14: project.triggers[0].webhook: must "
	    "be an empty mapping: write webhook: {}" },
	{ "trigger_is_durable_bad",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    is_durable: 1\n",
	    "autokitteh.yaml:7:17: project.triggers[0].is_durable: "
	    "must be true or false (unquoted), not \"1\"" },
	{ "trigger_is_sync_bad",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    is_sync: maybe\n",
	    "autokitteh.yaml:7:14: project.triggers[0].is_sync: must "
	    "be true or false (unquoted), not \"maybe\"" },
	{ "call_no_colon",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: program.py\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\"program.py\" is not a code location; write it as "
	    "file.py:function, e.g. program.py:on_event" },
	{ "call_no_file",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: \":on_hook\"\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\":on_hook\" is not a code location; write it as "
	    "file.py:function, e.g. program.py:on_event" },
	{ "call_bad_function",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: program.py:on-hook\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\"program.py:on-hook\": the function name must match "
	    "^\\w+$; write it as file.py:function, e.g. "
	    "program.py:on_event" },
	{ "call_empty_function",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: \"program.py:\"\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\"program.py:\": the function name must match ^\\w+$; write "
	    "it as file.py:function, e.g. program.py:on_event" },
	{ "call_not_python",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: program.js:on_hook\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\"program.js:on_hook\": only Python files (.py) can be "
	    "called; write it as file.py:function, e.g. "
	    "program.py:on_event" },
	{ "call_absolute",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: /etc/program.py:on_hook\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\"/etc/program.py:on_hook\": the file must be relative to "
	    "the project directory" },
	{ "call_dotdot",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: lib/../../program.py:on_hook\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: "
	    "\"lib/../../program.py:on_hook\": the file must be inside "
	    "the project directory (no \"..\")" },
	{ "call_list",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    call: [program.py, on_hook]\n",
	    "autokitteh.yaml:7:11: project.triggers[0].call: must be "
	    "a single value, not a list" },
	{ "vars_not_list",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    A: x\n",
	    "autokitteh.yaml:5:5: project.vars: must be a list (lines "
	    "starting with \"- \"), not a mapping" },
	{ "vars_null",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n",
	    "autokitteh.yaml:4:8: project.vars: must be a list (lines "
	    "starting with \"- \"), not empty (null)" },
	{ "triggers_scalar",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers: hook\n",
	    "autokitteh.yaml:4:13: project.triggers: must be a list "
	    "(lines starting with \"- \"), not a single value" },
	{ "connections_mapping",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  connections: {c: slack}\n",
	    "autokitteh.yaml:4:16: project.connections: must be a "
	    "list (lines starting with \"- \"), not a mapping" },
	{ "var_not_mapping",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - A=x\n",
	    "autokitteh.yaml:5:7: project.vars[0]: must be a mapping "
	    "(key: value lines), not a single value" },
	{ "trigger_not_mapping",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  triggers:\n"
	    "    - [hook]\n",
	    "autokitteh.yaml:5:7: project.triggers[0]: must be a "
	    "mapping (key: value lines), not a list" },
	{ "syntax_error",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "   vars: []\n",
	    "autokitteh.yaml:4:8: not valid YAML: mapping values are "
	    "not allowed in this context" },
	{ "syntax_unclosed",
	    "version: \"v1\n"
	    "project:\n",
	    "autokitteh.yaml:3:1: not valid YAML: found unexpected "
	    "end of stream (while scanning a quoted scalar that "
	    "started at 1:10)" },
	{ "syntax_tab",
	    "version: v1\n"
	    "project:\n"
	    "\tname: hello\n",
	    "autokitteh.yaml:3:1: not valid YAML: found character "
	    "that cannot start any token (while scanning for the next "
	    "token that started at 3:1)" },
	{ "invalid_utf8",
	    "version: v1\n"
	    "project:\n"
	    "  name: h\xff""llo\n",
	    "autokitteh.yaml:3:10: not valid YAML: invalid leading "
	    "UTF-8 octet (byte 30)" },
	{ "alias",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - &v {name: A, value: x}\n"
	    "    - *v\n",
	    "autokitteh.yaml:5:7: project.vars[0]: anchors (&v) and "
	    "aliases are not allowed in a manifest; write the value "
	    "out" },
	{ "alias_only",
	    "version: v1\n"
	    "project: *p\n",
	    "autokitteh.yaml:2:10: project: aliases (*p) and anchors "
	    "are not allowed in a manifest; write the value out" },
	{ "anchor_on_scalar",
	    "version: &v v1\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:10: version: anchors (&v) and aliases "
	    "are not allowed in a manifest; write the value out" },
	{ "custom_tag",
	    "version: !custom v1\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:10: version: the tag \"!custom\" is not "
	    "allowed in a manifest; only the standard ones (!!str, "
	    "!!int, !!bool, ...) are" },
	{ "python_tag",
	    "version: v1\n"
	    "project: !!python/object:os.system {name: x}\n",
	    "autokitteh.yaml:2:10: project: the tag "
	    "\"tag:yaml.org,2002:python/object:os.system\" is not "
	    "allowed in a manifest; only the standard ones (!!str, "
	    "!!int, !!bool, ...) are" },
	{ "multiple_documents",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "---\n"
	    "version: v2\n",
	    "autokitteh.yaml:4:1: a second YAML document (---) starts "
	    "here; a manifest is one document" },
	{ "duplicate_key",
	    "version: v1\n"
	    "version: v2\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:2:1: the key \"version\" is given twice "
	    "(first at 1:1)" },
	{ "complex_key",
	    "version: v1\n"
	    "? [a]\n"
	    ": b\n",
	    "autokitteh.yaml:2:3: a key must be a plain word, not a "
	    "list" },
	{ "nul_in_value",
	    "version: \"v1\\0\"\n"
	    "project:\n"
	    "  name: hello\n",
	    "autokitteh.yaml:1:10: version: contains a NUL character" },
	{ "too_deep",
	    "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars: [[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]\n",
	    "autokitteh.yaml:4:23: "
	    "project.vars[0][0][0][0][0][0][0][0][0][0][0][0][0][0]: "
	    "the manifest nests mappings and lists more than 16 "
	    "levels deep" },
};

START_TEST(parse_malformed)
{
	char *cause = NULL;
	struct manifest *m;

	m = manifest_parse(malformed[_i].text, strlen(malformed[_i].text),
	    "autokitteh.yaml", &cause);
	ck_assert_msg(m == NULL, "%s: accepted", malformed[_i].name);
	ck_assert_msg(cause != NULL && strcmp(cause, malformed[_i].error) == 0,
	    "%s:\n  got      %s\n  expected %s", malformed[_i].name,
	    cause != NULL ? cause : "(null)", malformed[_i].error);
	free(cause);
}
END_TEST

START_TEST(parse_too_large)
{
	size_t len = MANIFEST_MAX_SIZE + 1;
	char *text = xmalloc(len), *cause = NULL;

	memset(text, '#', len);
	text[len - 1] = '\n';
	ck_assert_ptr_null(manifest_parse(text, len, "autokitteh.yaml",
	    &cause));
	ck_assert_str_eq(cause, "autokitteh.yaml: the manifest is 1048577 "
	    "bytes, more than the limit of 1 MiB");
	free(cause);

	/* Exactly at the limit is read (and here found empty). */
	ck_assert_ptr_null(manifest_parse(text, len - 1, "autokitteh.yaml",
	    &cause));
	ck_assert_str_eq(cause, "autokitteh.yaml:1:1: the manifest is empty; "
	    "it needs at least \"version: v2\" and a project with a name");
	free(cause);
	free(text);
}
END_TEST

/* A billion laughs needs aliases; the first one is refused. */
START_TEST(parse_billion_laughs)
{
	const char *text =
	    "a: &a [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
	char *cause = NULL;

	ck_assert_ptr_null(manifest_parse(text, strlen(text), "x.yaml",
	    &cause));
	ck_assert_str_eq(cause, "x.yaml:1:4: a: anchors (&a) and aliases are "
	    "not allowed in a manifest; write the value out");
	free(cause);
}
END_TEST

/* The length is respected: text need not be NUL-terminated. */
START_TEST(parse_length_respected)
{
	const char text[] = "version: v1\nproject:\n  name: hello\nJUNK";
	struct manifest *m;
	char *cause = NULL;

	m = manifest_parse(text, sizeof text - 5, "autokitteh.yaml", &cause);
	ck_assert_msg(m != NULL, "%s", cause);
	ck_assert_str_eq(m->project_name, "hello");
	manifest_free(m);
}
END_TEST

/* ---- plan and apply ---- */

static char tmpdir[64];
static struct event_base *base;
static struct store *store;

static void
store_setup(void)
{
	char *path, *cause = NULL;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-manifest.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&path, "%s/autokitteh.db", tmpdir);
	base = event_base_new();
	store = store_open(path, STORE_SYNC_FULL, STORE_CHECK_ALWAYS,
	    base, &cause);
	ck_assert_msg(store != NULL, "store_open: %s", cause);
	free(path);
	/* Secret vars and connection vars are sealed with its data key. */
	xasprintf(&path, "%s/secrets.key", tmpdir);
	ck_assert_msg(secrets_start(store, path, &cause) == 0,
	    "secrets_start: %s", cause);
	free(path);
}

static void
store_teardown(void)
{
	char cmd[128];

	store_close(store);
	store = NULL;
	secrets_stop();
	event_base_free(base);
	base = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

struct apply_arg {
	struct manifest	*m;
	json_t		*actions;
	char		*project_id;
	int		 done;		/* 1 committed, -1 failed */
};

static int
apply_write(struct store *s, void *arg, char **cause)
{
	struct apply_arg *a = arg;

	return manifest_apply(s, a->m, a->actions, &a->project_id, cause);
}

static void
apply_done(int ok, const char *cause, void *arg)
{
	struct apply_arg *a = arg;

	a->done = ok ? 1 : -1;
}

/* Apply text and commit; returns the actions, *project_id if wanted. */
static json_t *
apply_ok(const char *text, char **project_id)
{
	struct apply_arg a;
	char *cause = NULL;

	memset(&a, 0, sizeof a);
	a.m = parse_ok(text);
	a.actions = json_array();
	ck_assert_msg(store_write(store, apply_write, &a, apply_done, &a,
	    &cause) == 0, "apply: %s", cause);
	for (int turn = 0; turn < 50 && a.done == 0; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(a.done, 1);
	ck_assert_ptr_nonnull(a.project_id);
	if (project_id != NULL)
		*project_id = a.project_id;
	else
		free(a.project_id);
	manifest_free(a.m);
	return a.actions;
}

/* Apply text, expecting the write to fail with error. */
static void
apply_fails(const char *text, const char *error)
{
	struct apply_arg a;
	char *cause = NULL;

	memset(&a, 0, sizeof a);
	a.m = parse_ok(text);
	a.actions = json_array();
	ck_assert_int_eq(store_write(store, apply_write, &a, apply_done, &a,
	    &cause), -1);
	ck_assert_str_eq(cause, error);
	ck_assert_ptr_null(a.project_id);
	free(cause);
	for (int turn = 0; turn < 5; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(a.done, 0);
	json_decref(a.actions);
	manifest_free(a.m);
}

static json_t *
plan_ok(const char *text)
{
	struct manifest *m = parse_ok(text);
	char *cause = NULL;
	json_t *plan = manifest_plan(store, m, &cause);

	ck_assert_msg(plan != NULL, "plan: %s", cause);
	manifest_free(m);
	return plan;
}

static void
plan_fails(const char *text, const char *error)
{
	struct manifest *m = parse_ok(text);
	char *cause = NULL;

	ck_assert_ptr_null(manifest_plan(store, m, &cause));
	ck_assert_str_eq(cause, error);
	free(cause);
	manifest_free(m);
}

static void
action_is(json_t *actions, size_t i, const char *action, const char *key,
    const char *description)
{
	json_t *a = json_array_get(actions, i);

	ck_assert_msg(a != NULL, "no action %zu", i);
	ck_assert_str_eq(json_string_value(json_object_get(a, "action")),
	    action);
	ck_assert_str_eq(json_string_value(json_object_get(a, "key")), key);
	ck_assert_str_eq(json_string_value(json_object_get(a,
	    "description")), description);
	ck_assert_uint_eq(json_object_size(a), 3);
}

static char *
query_text(const char *sql)
{
	sqlite3_stmt *st;
	char *out = NULL;

	ck_assert_int_eq(sqlite3_prepare_v2(store_db(store), sql, -1, &st,
	    NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		out = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static int64_t
query_int(const char *sql)
{
	int64_t n = -1;

	ck_assert_int_eq(store_count(store, sql, &n), 0);
	return n;
}

static void
exec_sql(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(store_db(store), sql, NULL, NULL, &err) != SQLITE_OK)
		ck_abort_msg("%s: %s", sql, err);
}

START_TEST(plan_empty_store)
{
	json_t *plan = plan_ok(hello);

	ck_assert_uint_eq(json_array_size(plan), 3);
	action_is(plan, 0, "create_project", "project hello",
	    "create project hello");
	action_is(plan, 1, "set_var", "var hello/GREETING",
	    "set var GREETING of project hello: new");
	action_is(plan, 2, "create_trigger", "trigger hello/hook",
	    "create webhook trigger hook in project hello, calling "
	    "program.py:on_hook");
	json_decref(plan);
	/* A plan writes nothing. */
	ck_assert_int_eq(query_int("SELECT count(*) FROM projects"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers"), 0);
}
END_TEST

START_TEST(apply_creates_then_idempotent)
{
	char *id = NULL, *again = NULL, *slug, *slug2, *trigger_id, *sql;
	json_t *actions = apply_ok(hello, &id);

	ck_assert_uint_eq(json_array_size(actions), 3);
	action_is(actions, 0, "create_project", "project hello",
	    "create project hello");
	json_decref(actions);
	ck_assert_int_eq(typeid_check(id, "prj"), 0);

	xasprintf(&sql, "SELECT count(*) FROM projects WHERE project_id = '%s' "
	    "AND name = 'hello' AND created_at > 1000000000000000", id);
	ck_assert_int_eq(query_int(sql), 1);
	free(sql);
	xasprintf(&sql, "SELECT count(*) FROM vars WHERE scope_id = '%s' AND "
	    "name = 'GREETING' AND value = 'hi' AND is_secret = 0 AND "
	    "description = ''", id);
	ck_assert_int_eq(query_int(sql), 1);
	free(sql);
	xasprintf(&sql, "SELECT count(*) FROM triggers WHERE project_id = '%s' "
	    "AND name = 'hook' AND source_type = 'webhook' AND event_type = '' "
	    "AND filter = '' AND code_path = 'program.py' AND code_name = "
	    "'on_hook' AND is_durable = 1 AND is_sync = 0 AND schedule = '' "
	    "AND connection_id = '' AND created_at > 1000000000000000", id);
	ck_assert_int_eq(query_int(sql), 1);
	free(sql);

	trigger_id = query_text("SELECT trigger_id FROM triggers");
	ck_assert_int_eq(typeid_check(trigger_id, "trg"), 0);
	slug = query_text("SELECT webhook_slug FROM triggers");
	ck_assert_ptr_nonnull(slug);
	ck_assert_uint_eq(strlen(slug), TYPEID_SUFFIX_LEN);
	ck_assert_uint_eq(strspn(slug, "0123456789abcdefghjkmnpqrstvwxyz"),
	    TYPEID_SUFFIX_LEN);
	ck_assert_str_ne(slug, strchr(trigger_id, '_') + 1);

	/* The same manifest again: nothing to do, nothing changes. */
	actions = plan_ok(hello);
	ck_assert_uint_eq(json_array_size(actions), 0);
	json_decref(actions);
	actions = apply_ok(hello, &again);
	ck_assert_uint_eq(json_array_size(actions), 0);
	json_decref(actions);
	ck_assert_str_eq(again, id);
	slug2 = query_text("SELECT webhook_slug FROM triggers");
	ck_assert_str_eq(slug2, slug);
	free(slug2);
	slug2 = query_text("SELECT trigger_id FROM triggers");
	ck_assert_str_eq(slug2, trigger_id);
	free(slug2);
	ck_assert_int_eq(query_int("SELECT count(*) FROM projects"), 1);

	/* An update keeps the slug too. */
	actions = apply_ok("version: v1\nproject:\n  name: hello\n  vars:\n"
	    "  - {name: GREETING, value: hi}\n  triggers:\n"
	    "  - {name: hook, webhook: {}, call: program.py:other}\n", NULL);
	ck_assert_uint_eq(json_array_size(actions), 1);
	action_is(actions, 0, "update_trigger", "trigger hello/hook",
	    "update trigger hook of project hello: call changed");
	json_decref(actions);
	slug2 = query_text("SELECT webhook_slug FROM triggers");
	ck_assert_str_eq(slug2, slug);
	free(slug2);
	free(slug);
	free(trigger_id);
	free(id);
	free(again);
}
END_TEST

START_TEST(apply_vars)
{
	json_t *actions;
	char *project_id, *value;

	json_decref(apply_ok(hello, NULL));

	/* Changed value, new secret var. */
	actions = apply_ok("version: v1\nproject:\n  name: hello\n  vars:\n"
	    "  - {name: GREETING, value: hello}\n"
	    "  - {name: TOKEN, value: s3cret, secret: true}\n"
	    "  triggers:\n  - {name: hook, webhook: {}, "
	    "call: program.py:on_hook}\n", &project_id);
	ck_assert_uint_eq(json_array_size(actions), 2);
	action_is(actions, 0, "set_var", "var hello/GREETING",
	    "set var GREETING of project hello: value changed");
	action_is(actions, 1, "set_var", "var hello/TOKEN",
	    "set var TOKEN of project hello: new");
	json_decref(actions);
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars WHERE name = "
	    "'GREETING' AND value = 'hello'"), 1);
	/* The secret is stored sealed (store-vars.c), not as it is. */
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars WHERE name = "
	    "'TOKEN' AND value = '' AND sealed IS NOT NULL AND is_secret = 1"),
	    1);
	value = vars_get(store, project_id, "TOKEN", NULL);
	ck_assert_str_eq(value, "s3cret");
	vars_value_free(value);
	free(project_id);
	/* The same manifest again: the sealed value compares equal. */
	actions = plan_ok("version: v1\nproject:\n  name: hello\n  vars:\n"
	    "  - {name: GREETING, value: hello}\n"
	    "  - {name: TOKEN, value: s3cret, secret: true}\n"
	    "  triggers:\n  - {name: hook, webhook: {}, "
	    "call: program.py:on_hook}\n");
	ck_assert_uint_eq(json_array_size(actions), 0);
	json_decref(actions);
	actions = plan_ok("version: v1\nproject:\n  name: hello\n  vars:\n"
	    "  - {name: GREETING, value: hello}\n"
	    "  - {name: TOKEN, value: s3cret2, secret: true}\n"
	    "  triggers:\n  - {name: hook, webhook: {}, "
	    "call: program.py:on_hook}\n");
	ck_assert_uint_eq(json_array_size(actions), 1);
	action_is(actions, 0, "set_var", "var hello/TOKEN",
	    "set var TOKEN of project hello: value changed");
	json_decref(actions);

	/* Secret flag and description; GREETING removed. */
	actions = apply_ok("version: v1\nproject:\n  name: hello\n  vars:\n"
	    "  - {name: TOKEN, value: s3cret, description: the API token}\n"
	    "  triggers:\n  - {name: hook, webhook: {}, "
	    "call: program.py:on_hook}\n", NULL);
	ck_assert_uint_eq(json_array_size(actions), 2);
	action_is(actions, 0, "set_var", "var hello/TOKEN",
	    "set var TOKEN of project hello: secret flag, description "
	    "changed");
	action_is(actions, 1, "delete_var", "var hello/GREETING",
	    "delete var GREETING of project hello: not in the manifest");
	json_decref(actions);
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars"), 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars WHERE name = "
	    "'TOKEN' AND is_secret = 0 AND description = 'the API token'"), 1);
	/* No longer secret: as it is. */
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars WHERE name = "
	    "'TOKEN' AND value = 's3cret' AND sealed IS NULL"), 1);

	/* A second project's vars are its own. */
	json_decref(apply_ok("version: v2\nproject:\n  name: other\n  vars:\n"
	    "  - {name: TOKEN, value: x}\n", NULL));
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars"), 2);
	ck_assert_int_eq(query_int("SELECT count(*) FROM projects"), 2);
	actions = plan_ok("version: v1\nproject:\n  name: hello\n"
	    "  vars:\n  - {name: TOKEN, value: s3cret, description: the API "
	    "token}\n  triggers:\n  - {name: hook, webhook: {}, "
	    "call: program.py:on_hook}\n");
	ck_assert_uint_eq(json_array_size(actions), 0);
	json_decref(actions);
}
END_TEST

START_TEST(apply_triggers)
{
	json_t *actions;

	json_decref(apply_ok("version: v2\nproject:\n  name: hello\n"
	    "  triggers:\n"
	    "  - {name: hook, webhook: {}, call: program.py:on_hook}\n"
	    "  - {name: old, webhook: {}, call: program.py:on_old}\n", NULL));
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers WHERE "
	    "is_durable = 0"), 2);
	ck_assert_int_eq(query_int("SELECT count(DISTINCT webhook_slug) FROM "
	    "triggers"), 2);
	exec_sql("INSERT INTO vars (scope_id, name, value) SELECT trigger_id, "
	    "'X', 'y' FROM triggers WHERE name = 'old'");

	actions = apply_ok("version: v2\nproject:\n  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: webhook\n"
	    "    event_type: post\n"
	    "    is_durable: true\n"
	    "    call: program.py:on_hook\n"
	    "  - {name: new, webhook: {}}\n", NULL);
	ck_assert_uint_eq(json_array_size(actions), 3);
	action_is(actions, 0, "update_trigger", "trigger hello/hook",
	    "update trigger hook of project hello: event_type, is_durable "
	    "changed");
	action_is(actions, 1, "create_trigger", "trigger hello/new",
	    "create webhook trigger new in project hello");
	action_is(actions, 2, "delete_trigger", "trigger hello/old",
	    "delete webhook trigger old of project hello: not in the "
	    "manifest");
	json_decref(actions);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers WHERE name = "
	    "'hook' AND event_type = 'post' AND is_durable = 1"), 1);

	/* A filter must parse (CEL subset); one that does is planned. */
	apply_fails("version: v2\nproject:\n  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    webhook: {}\n"
	    "    filter: data.method = \"POST\"\n",
	    "autokitteh.yaml:5:5: project.triggers[0]: trigger hook: the "
	    "filter \"data.method = \"POST\"\" does not parse: column 13: "
	    "unexpected '=' (compare with ==)");
	actions = plan_ok("version: v2\nproject:\n  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: webhook\n"
	    "    event_type: post\n"
	    "    is_durable: true\n"
	    "    call: program.py:on_hook\n"
	    "    filter: data.method == \"POST\" && has(data.body.json)\n"
	    "  - {name: new, webhook: {}}\n");
	ck_assert_uint_eq(json_array_size(actions), 1);
	action_is(actions, 0, "update_trigger", "trigger hello/hook",
	    "update trigger hook of project hello: filter changed");
	json_decref(actions);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers WHERE name = "
	    "'new' AND code_path = '' AND code_name = ''"), 1);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers WHERE name = "
	    "'old'"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars"), 0);

	/* Synchronous webhooks are accepted and recorded. */
	actions = apply_ok("version: v2\nproject:\n  name: hello\n"
	    "  triggers:\n"
	    "  - name: hook\n"
	    "    type: webhook\n"
	    "    event_type: post\n"
	    "    is_durable: true\n"
	    "    is_sync: true\n"
	    "    call: program.py:on_hook\n"
	    "  - {name: new, webhook: {}}\n", NULL);
	ck_assert_uint_eq(json_array_size(actions), 1);
	action_is(actions, 0, "update_trigger", "trigger hello/hook",
	    "update trigger hook of project hello: is_sync changed");
	json_decref(actions);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers WHERE name = "
	    "'hook' AND is_sync = 1"), 1);

	/* No triggers in the manifest: all go. */
	actions = apply_ok("version: v2\nproject:\n  name: hello\n", NULL);
	ck_assert_uint_eq(json_array_size(actions), 2);
	action_is(actions, 0, "delete_trigger", "trigger hello/hook",
	    "delete webhook trigger hook of project hello: not in the "
	    "manifest");
	json_decref(actions);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers"), 0);
}
END_TEST

START_TEST(apply_source_type_change)
{
	const char *error = "autokitteh.yaml:8:7: project.triggers[0]: "
	    "trigger hook: the source type cannot change from schedule to "
	    "webhook; delete and re-create it";
	char *id = NULL, *sql;
	const char *text = "version: v1\n"
	    "project:\n"
	    "  name: hello\n"
	    "  vars:\n"
	    "    - name: NEW\n"
	    "      value: v\n"
	    "  triggers:\n"
	    "    - name: hook\n"
	    "      webhook: {}\n";

	json_decref(apply_ok("version: v1\nproject:\n  name: hello\n", &id));
	/* A schedule trigger made through the API, not the manifest. */
	xasprintf(&sql, "INSERT INTO triggers (trigger_id, project_id, name, "
	    "source_type, schedule, created_at) VALUES ('trg_x', '%s', "
	    "'hook', 'schedule', '@daily', 1)", id);
	exec_sql(sql);
	free(sql);

	plan_fails(text, error);
	apply_fails(text, error);
	/* The failed apply left nothing behind. */
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars"), 0);
	ck_assert_int_eq(query_int("SELECT count(*) FROM triggers WHERE "
	    "source_type = 'schedule'"), 1);
	free(id);
}
END_TEST

START_TEST(apply_unsupported)
{
	plan_fails(kittehub, "autokitteh.yaml:12:7: project.connections[0]: "
	    "connection slack_conn: no integration \"slack\" (this autokittehd "
	    "has github and http)");
	plan_fails("version: v2\nproject:\n  name: p\n  triggers:\n"
	    "  - {name: m, connection: slack_conn, call: program.py:f}\n",
	    "autokitteh.yaml:5:5: project.triggers[0]: trigger m: connection "
	    "slack_conn is not one of the manifest's project.connections");
	ck_assert_int_eq(query_int("SELECT count(*) FROM projects"), 0);
	/* A github connection applies. */
	json_decref(apply_ok("version: v2\nproject:\n  name: p\n"
	    "  connections:\n  - {name: c, integration: github}\n", NULL));
	ck_assert_int_eq(query_int("SELECT count(*) FROM connections WHERE "
	    "name = 'c' AND integration = 'github'"), 1);
}
END_TEST

/* manifest_check_build(text, build): code and cause, or 0 and NULL. */
static void
check_build(const char *text, const char *build_id, int want,
    const char *error)
{
	struct manifest *m = parse_ok(text);
	enum connect_code code = CONNECT_OK;
	char *cause = NULL;

	ck_assert_int_eq(manifest_check_build(store, m, build_id, &code,
	    &cause), error != NULL ? -1 : 0);
	ck_assert_int_eq(code, want);
	if (error != NULL)
		ck_assert_str_eq(cause, error);
	else
		ck_assert_ptr_null(cause);
	free(cause);
	manifest_free(m);
}

START_TEST(apply_with_build)
{
	const char *nope = "version: v1\nproject:\n  name: hello\n  vars:\n"
	    "  - {name: ADDED, value: x}\n  triggers:\n"
	    "  - {name: hook, webhook: {}, call: program.py:nope}\n";
	char *id = NULL, *sql, *before, *after;

	/* No project yet: no build can be one of its builds. */
	check_build(hello, "bld_one", CONNECT_INVALID_ARGUMENT, "build bld_one "
	    "cannot be a build of project hello: there is no project hello "
	    "yet");
	json_decref(apply_ok(hello, &id));
	xasprintf(&sql, "INSERT INTO projects (project_id, name, created_at) "
	    "VALUES ('prj_other', 'other', 1);"
	    "INSERT INTO builds (build_id, project_id, created_at, artifact, "
	    "exports) VALUES ('bld_one', '%s', 1, x'00', '[{\"file\": "
	    "\"program.py\", \"name\": \"on_hook\", \"line\": 1}]'), "
	    "('bld_two', 'prj_other', 1, x'00', '[]')", id);
	exec_sql(sql);
	free(sql);
	before = query_text("SELECT group_concat(name || '=' || code_path || "
	    "':' || code_name) FROM triggers");

	/* The build has every call; a trigger without one needs nothing. */
	check_build(hello, "bld_one", CONNECT_OK, NULL);
	check_build("version: v1\nproject:\n  name: hello\n  triggers:\n"
	    "  - {name: hook, webhook: {}, call: program.py:on_hook}\n"
	    "  - {name: bare, webhook: {}}\n", "bld_one", CONNECT_OK, NULL);

	/* What deploying with it would refuse, said before it is applied. */
	check_build(nope, "bld_one", CONNECT_FAILED_PRECONDITION, "trigger "
	    "hook calls program.py:nope, but the build has no function nope "
	    "in program.py");
	check_build("version: v1\nproject:\n  name: hello\n  triggers:\n"
	    "  - {name: hook, webhook: {}, call: program.py:on_hook}\n"
	    "  - {name: other, webhook: {}, call: other.py:on_hook}\n",
	    "bld_one", CONNECT_FAILED_PRECONDITION, "trigger other calls "
	    "other.py:on_hook, but the build has no file other.py");
	xasprintf(&sql, "build bld_two belongs to project prj_other, not %s",
	    id);
	check_build(hello, "bld_two", CONNECT_INVALID_ARGUMENT, sql);
	free(sql);
	check_build(hello, "bld_none", CONNECT_NOT_FOUND, "no build bld_none");

	/* A refused check applies nothing: the project is as it was. */
	after = query_text("SELECT group_concat(name || '=' || code_path || "
	    "':' || code_name) FROM triggers");
	ck_assert_str_eq(after, before);
	ck_assert_str_eq(after, "hook=program.py:on_hook");
	ck_assert_int_eq(query_int("SELECT count(*) FROM vars WHERE name = "
	    "'ADDED'"), 0);
	free(before);
	free(after);
	free(id);
}
END_TEST

static Suite *
manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, parse_kittehub);
	tcase_add_test(tc, parse_hello);
	tcase_add_test(tc, parse_inference_and_defaults);
	tcase_add_test(tc, parse_scalars_as_text);
	tcase_add_test(tc, parse_names);
	tcase_add_test(tc, parse_default_filename);
	tcase_add_loop_test(tc, parse_malformed, 0, (int)nitems(malformed));
	tcase_add_test(tc, parse_too_large);
	tcase_add_test(tc, parse_billion_laughs);
	tcase_add_test(tc, parse_length_respected);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, plan_empty_store);
	tcase_add_test(tc, apply_creates_then_idempotent);
	tcase_add_test(tc, apply_vars);
	tcase_add_test(tc, apply_triggers);
	tcase_add_test(tc, apply_source_type_change);
	tcase_add_test(tc, apply_unsupported);
	tcase_add_test(tc, apply_with_build);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
