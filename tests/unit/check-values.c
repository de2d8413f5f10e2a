/*
 * check-values.c: unit tests for src/store-values.c, the per-project value
 * store: every operation, the limits (64 KiB a value, 64 values a project,
 * keys of 1 to 256 printable characters) with the sentences users see, and
 * the "store" syscall. Against a fresh store in a temporary directory,
 * written through store_write() and committed by turning the event loop,
 * as the daemon does.
 */
#include "autokittehd.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>

#define P1	"prj_00000000000000000000000001"
#define P2	"prj_00000000000000000000000002"
#define S1	"ses_00000000000000000000000001"

static char tmpdir[64];
static struct event_base *base;
static struct store *store;

static void
exec_ok(const char *sql)
{
	char *err = NULL;

	ck_assert_msg(sqlite3_exec(store_db(store), sql, NULL, NULL, &err) ==
	    SQLITE_OK, "%s: %s", sql, err);
}

static void
store_setup(void)
{
	char *path, *cause = NULL;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-values.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&path, "%s/autokitteh.db", tmpdir);
	base = event_base_new();
	store = store_open(path, STORE_SYNC_NORMAL, STORE_CHECK_ALWAYS,
	    base, &cause);
	ck_assert_msg(store != NULL, "store_open: %s", cause);
	free(path);
	exec_ok("INSERT INTO projects (project_id, name, created_at) VALUES "
	    "('" P1 "', 'vals', 0), ('" P2 "', 'other', 0);"
	    "INSERT INTO sessions (session_id, project_id, state, created_at) "
	    "VALUES ('" S1 "', '" P1 "', 'running', 0)");
}

static void
store_teardown(void)
{
	char cmd[128];

	store_close(store);
	store = NULL;
	event_base_free(base);
	base = NULL;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* ---- running an operation inside a store_write ---- */

struct op_arg {
	const char	*project;
	const char	*op;
	const char	*key;
	json_t		*args;
	json_t		*result;
	int		 rc;
	int		 done;
};

static int
op_write(struct store *s, void *arg, char **cause)
{
	struct op_arg *a = arg;

	a->rc = values_mutate(s, a->project, a->op, a->key, a->args,
	    &a->result, cause);
	return a->rc == 0 ? 0 : -1;
}

static void
op_done(int ok, const char *cause, void *arg)
{
	struct op_arg *a = arg;

	(void)cause;
	a->done = ok ? 1 : -1;
}

static void
commit(void)
{
	for (int turn = 0; turn < 5 && store_pending(store) != 0; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(store_pending(store), 0);
}

/*
 * Run op on key of project with args (JSON text of a list, or NULL) and
 * commit. Returns values_mutate's code; *result (JSON text) or *cause.
 */
static int
run_op(const char *project, const char *op, const char *key,
    const char *args, char **result, char **cause)
{
	struct op_arg a;
	char *why = NULL;

	memset(&a, 0, sizeof a);
	a.project = project;
	a.op = op;
	a.key = key;
	if (args != NULL) {
		a.args = json_loads(args, 0, NULL);
		ck_assert_msg(a.args != NULL, "bad test arguments %s", args);
	}
	*result = NULL;
	if (store_write(store, op_write, &a, op_done, &a, &why) != 0) {
		ck_assert_int_ne(a.rc, 0);
		ck_assert_ptr_null(a.result);
		ck_assert_ptr_nonnull(why);
		if (cause != NULL)
			*cause = why;
		else
			free(why);
	} else {
		ck_assert_int_eq(a.rc, 0);
		ck_assert_ptr_nonnull(a.result);
		*result = json_dumps(a.result, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_SORT_KEYS);
		json_decref(a.result);
		commit();
		ck_assert_int_eq(a.done, 1);
	}
	json_decref(a.args);
	return a.rc;
}

/* op must succeed with result (JSON text). */
static void
op_ok(const char *op, const char *key, const char *args, const char *want)
{
	char *got, *cause = NULL;
	int rc = run_op(P1, op, key, args, &got, &cause);

	ck_assert_msg(rc == 0, "%s %s %s: %s", op, key, args ? args : "",
	    cause);
	ck_assert_msg(strcmp(got, want) == 0, "%s %s %s: got %s, want %s",
	    op, key, args ? args : "", got, want);
	free(got);
}

/* op must fail with code and the sentence want. */
static void
op_fails(const char *project, const char *op, const char *key,
    const char *args, int code, const char *want)
{
	char *got = NULL, *cause = NULL;
	int rc = run_op(project, op, key, args, &got, &cause);

	ck_assert_msg(rc == code, "%s %s: rc %d (want %d), result %s", op,
	    key, rc, code, got);
	ck_assert_str_eq(cause, want);
	free(cause);
}

/* The committed value of key in P1, as JSON text; NULL if absent. */
static char *
stored(const char *key)
{
	json_t *v = values_get(store, P1, key);
	char *text;

	if (v == NULL)
		return NULL;
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	json_decref(v);
	return text;
}

static void
assert_stored(const char *key, const char *want)
{
	char *got = stored(key);

	if (want == NULL)
		ck_assert_msg(got == NULL, "%s is %s, want it absent", key, got);
	else {
		ck_assert_msg(got != NULL, "%s is absent, want %s", key, want);
		ck_assert_str_eq(got, want);
	}
	free(got);
}

static char *
keys_of(const char *project)
{
	json_t *keys = values_list_keys(store, project);
	char *text;

	ck_assert_ptr_nonnull(keys);
	text = json_dumps(keys, JSON_COMPACT);
	json_decref(keys);
	return text;
}

/* ---- get, set, del ---- */

START_TEST(get_set_del)
{
	char *k;

	op_ok("get", "a", NULL, "null");
	op_ok("get", "a", "[]", "null");
	assert_stored("a", NULL);

	op_ok("set", "a", "[5]", "null");
	assert_stored("a", "5");
	op_ok("get", "a", NULL, "5");
	op_ok("set", "a", "[{\"x\":[1,2.5,\"s\",true,null]}]", "null");
	op_ok("get", "a", NULL, "{\"x\":[1,2.5,\"s\",true,null]}");
	op_ok("set", "a", "[\"text\"]", "null");
	assert_stored("a", "\"text\"");

	/* null is a value: the key is set, and listed */
	op_ok("set", "n", "[null]", "null");
	k = keys_of(P1);
	ck_assert_str_eq(k, "[\"a\",\"n\"]");
	free(k);

	op_ok("del", "a", NULL, "null");
	assert_stored("a", NULL);
	op_ok("del", "a", NULL, "null");		/* nothing to delete: fine */
	op_ok("get", "a", NULL, "null");
	k = keys_of(P1);
	ck_assert_str_eq(k, "[\"n\"]");
	free(k);
}
END_TEST

START_TEST(projects_apart)
{
	char *got, *k;

	op_ok("set", "shared", "[1]", "null");
	ck_assert_int_eq(run_op(P2, "set", "shared", "[2]", &got, NULL), 0);
	free(got);
	assert_stored("shared", "1");
	ck_assert_int_eq(run_op(P2, "get", "shared", NULL, &got, NULL), 0);
	ck_assert_str_eq(got, "2");
	free(got);
	ck_assert_int_eq(run_op(P2, "del", "shared", NULL, &got, NULL), 0);
	free(got);
	assert_stored("shared", "1");
	k = keys_of(P2);
	ck_assert_str_eq(k, "[]");
	free(k);
}
END_TEST

START_TEST(list_sorted)
{
	char *got;

	op_ok("set", "b", "[1]", "null");
	op_ok("set", "a", "[1]", "null");
	op_ok("set", "C", "[1]", "null");
	ck_assert_int_eq(run_op(P1, "list", NULL, NULL, &got, NULL), 0);
	ck_assert_str_eq(got, "[\"C\",\"a\",\"b\"]");
	free(got);
	op_fails(P1, "list", NULL, "[1]", -1, "list takes no arguments, "
	    "not 1");
}
END_TEST

/* ---- add ---- */

START_TEST(add)
{
	op_ok("add", "n", "[3]", "3");		/* absent is 0 */
	assert_stored("n", "3");
	op_ok("add", "n", "[-5]", "-2");
	assert_stored("n", "-2");
	op_ok("add", "n", "[0.5]", "-1.5");		/* a float makes a float */
	op_ok("add", "n", "[1.5]", "0.0");
	op_ok("add", "f", "[2.25]", "2.25");

	op_ok("set", "s", "[\"text\"]", "null");
	op_fails(P1, "add", "s", "[1]", -1, "the value of \"s\" is not a "
	    "number; add works on numbers");
	assert_stored("s", "\"text\"");
	op_fails(P1, "add", "n", "[\"1\"]", -1, "add takes a number to add");
	op_fails(P1, "add", "n", "[]", -1, "add takes one number, not 0 "
	    "arguments");
	op_fails(P1, "add", "n", "[1, 2]", -1, "add takes one number, not 2 "
	    "arguments");

	op_ok("set", "big", "[9223372036854775807]", "null");
	op_fails(P1, "add", "big", "[1]", -1, "adding 1 to the value of "
	    "\"big\" overflows a 64-bit integer");
	assert_stored("big", "9223372036854775807");
}
END_TEST

/* ---- check_and_set ---- */

START_TEST(check_and_set)
{
	/* absent is null */
	op_ok("check_and_set", "k", "[null, 1]", "true");
	assert_stored("k", "1");
	op_ok("check_and_set", "k", "[null, 2]", "false");
	assert_stored("k", "1");
	op_ok("check_and_set", "k", "[2, 3]", "false");
	assert_stored("k", "1");
	op_ok("check_and_set", "k", "[1, 2]", "true");
	assert_stored("k", "2");
	op_ok("check_and_set", "k", "[2.0, \"two\"]", "true");	/* 2 == 2.0 */
	assert_stored("k", "\"two\"");

	/* structures compare by content, objects regardless of order */
	op_ok("set", "o", "[{\"a\":1,\"b\":[1,{\"c\":null}]}]", "null");
	op_ok("check_and_set", "o", "[{\"b\":[1,{\"c\":null}],\"a\":1}, "
	    "\"x\"]", "true");
	op_ok("check_and_set", "o", "[{\"b\":[1],\"a\":1}, \"y\"]", "false");
	assert_stored("o", "\"x\"");

	op_fails(P1, "check_and_set", "k", "[1]", -1, "check_and_set takes "
	    "two values, expected and new, not 1 argument");
}
END_TEST

/* ---- mutate: the SDK's mutate_value(key, op, *args) ---- */

START_TEST(mutate)
{
	char *got;

	op_ok("mutate", "m", "[\"set\", 10]", "null");
	op_ok("mutate", "m", "[\"add\", 5]", "15");
	op_ok("mutate", "m", "[\"get\"]", "15");
	op_ok("mutate", "m", "[\"check_and_set\", 15, 0]", "true");
	assert_stored("m", "0");
	op_ok("mutate", "m", "[\"del\"]", "null");
	assert_stored("m", NULL);

	op_fails(P1, "mutate", "m", "[]", -1, "mutate takes the name of an "
	    "operation, then its arguments");
	op_fails(P1, "mutate", "m", "[\"list\"]", -1, "unknown value "
	    "operation \"list\": one of get, set, del, add, check_and_set");
	op_fails(P1, "mutate", "m", "[\"mutate\", \"get\"]", -1, "unknown "
	    "value operation \"mutate\": one of get, set, del, add, "
	    "check_and_set");
	op_fails(P1, "frob", "m", NULL, -1, "unknown value operation "
	    "\"frob\": one of get, set, del, add, check_and_set, mutate, list");
	op_fails(P1, NULL, "m", NULL, -1, "a value operation needs a name");
	ck_assert_int_eq(run_op(P1, "list", NULL, NULL, &got, NULL), 0);
	ck_assert_str_eq(got, "[]");
	free(got);
}
END_TEST

START_TEST(arguments)
{
	op_fails(P1, "set", "k", "[]", -1, "set takes one value, not 0 "
	    "arguments");
	op_fails(P1, "set", "k", "[1, 2]", -1, "set takes one value, not 2 "
	    "arguments");
	op_fails(P1, "get", "k", "[1]", -1, "get takes no arguments, not 1");
	op_fails(P1, "del", "k", "[1, 2]", -1, "del takes no arguments, not "
	    "2");
	op_fails(P1, "set", "k", "{\"v\":1}", -1, "the arguments of set are "
	    "a list");
	assert_stored("k", NULL);
}
END_TEST

/* ---- keys ---- */

START_TEST(key_rules)
{
	const char *want = "a value's key is 1 to 256 printable characters";
	char key[600];

	op_fails(P1, "set", NULL, "[1]", -1, want);
	op_fails(P1, "set", "", "[1]", -1, want);
	op_fails(P1, "get", "", NULL, -1, want);
	op_fails(P1, "set", "a\nb", "[1]", -1, want);
	op_fails(P1, "set", "tab\there", "[1]", -1, want);
	op_fails(P1, "set", "del\x7f", "[1]", -1, want);
	op_fails(P1, "set", "c1\xc2\x85", "[1]", -1, want);	/* U+0085 */

	memset(key, 'k', 256);
	key[256] = '\0';
	op_ok("set", key, "[1]", "null");
	key[256] = 'k';
	key[257] = '\0';
	op_fails(P1, "set", key, "[1]", -1, want);

	/* characters, not bytes: 256 of "é" are 512 bytes */
	for (int i = 0; i < 256; i++)
		memcpy(key + 2 * i, "\xc3\xa9", 2);
	key[512] = '\0';
	op_ok("set", key, "[1]", "null");
	memcpy(key + 512, "\xc3\xa9", 3);
	op_fails(P1, "set", key, "[1]", -1, want);

	op_ok("set", "with spaces / and: punctuation!", "[1]", "null");
	op_ok("set", "ünïcødé ☃", "[2]", "null");
	op_ok("get", "ünïcødé ☃", NULL, "2");
}
END_TEST

/* ---- limits ---- */

/* ["aaa...a"]: a string whose JSON is len bytes (quotes included). */
static char *
string_arg(size_t len)
{
	char *s = xmalloc(len + 3);

	s[0] = '[';
	s[1] = '"';
	memset(s + 2, 'a', len - 2);
	s[len] = '"';
	s[len + 1] = ']';
	s[len + 2] = '\0';
	return s;
}

START_TEST(value_size)
{
	char *arg, *got;

	arg = string_arg(65536);
	op_ok("set", "big", arg, "null");
	free(arg);
	got = stored("big");
	ck_assert_uint_eq(strlen(got), 65536);
	free(got);

	arg = string_arg(65537);
	op_fails(P1, "set", "big", arg, -1, "the value of \"big\" is 65537 "
	    "bytes; a value holds at most 64 KiB");
	op_fails(P1, "set", "new", arg, -1, "the value of \"new\" is 65537 "
	    "bytes; a value holds at most 64 KiB");
	free(arg);
}
END_TEST

START_TEST(value_size_cas)
{
	char *arg = string_arg(70000), *cas;

	/* check_and_set writes only on a match; a match must fit */
	xasprintf(&cas, "[null, %.*s]", 70000, arg + 1);
	op_fails(P1, "check_and_set", "c", cas, -1, "the value of \"c\" is "
	    "70000 bytes; a value holds at most 64 KiB");
	assert_stored("c", NULL);
	free(cas);
	free(arg);
}
END_TEST

START_TEST(values_per_project)
{
	char key[16], *got;
	json_t *keys;

	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "k%02d", i);
		op_ok("set", key, "[0]", "null");
	}
	op_fails(P1, "set", "one_more", "[1]", -2, "project vals has 64 "
	    "values; delete one first");
	op_fails(P1, "add", "one_more", "[1]", -2, "project vals has 64 "
	    "values; delete one first");
	op_fails(P1, "check_and_set", "one_more", "[null, 1]", -2, "project "
	    "vals has 64 values; delete one first");
	op_fails(P1, "mutate", "one_more", "[\"set\", 1]", -2, "project vals "
	    "has 64 values; delete one first");
	assert_stored("one_more", NULL);

	/* existing keys still change; other projects are not affected */
	op_ok("set", "k00", "[\"changed\"]", "null");
	op_ok("add", "k01", "[1]", "1");
	ck_assert_int_eq(run_op(P2, "set", "elsewhere", "[1]", &got, NULL), 0);
	free(got);

	op_ok("del", "k63", NULL, "null");
	op_ok("set", "one_more", "[1]", "null");
	keys = values_list_keys(store, P1);
	ck_assert_uint_eq(json_array_size(keys), 64);
	ck_assert_str_eq(json_string_value(json_array_get(keys, 63)),
	    "one_more");
	json_decref(keys);
}
END_TEST

/* A failed operation leaves the batch as it was. */
START_TEST(failure_writes_nothing)
{
	op_ok("set", "s", "[\"x\"]", "null");
	op_fails(P1, "add", "s", "[1]", -1, "the value of \"s\" is not a "
	    "number; add works on numbers");
	assert_stored("s", "\"x\"");
}
END_TEST

/* ---- the "store" syscall ---- */

struct sys_arg {
	struct syscall_ctx	 ctx;
	json_t			*result;
	char			*cause;
	enum syscall_rc		 rc;
};

static int
sys_write(struct store *s, void *arg, char **cause)
{
	struct sys_arg *a = arg;
	int64_t wake_at = 0;

	(void)cause;
	a->rc = syscall_store.fn(s, &a->ctx, &a->result, &wake_at, &a->cause);
	return 0;
}

/* Run the syscall with args (JSON text); the result or "FAIL: cause". */
static char *
sys(const char *session, const char *args)
{
	struct sys_arg a;
	char *why = NULL, *out;

	memset(&a, 0, sizeof a);
	snprintf(a.ctx.session_id, sizeof a.ctx.session_id, "%s", session);
	a.ctx.seq = 1;
	a.ctx.args = json_loads(args, 0, NULL);
	ck_assert_ptr_nonnull(a.ctx.args);
	ck_assert_msg(store_write(store, sys_write, &a, NULL, NULL, &why) ==
	    0, "%s", why);
	commit();
	json_decref(a.ctx.args);
	if (a.rc == SYSCALL_FAIL) {
		ck_assert_ptr_null(a.result);
		xasprintf(&out, "FAIL: %s", a.cause);
		free(a.cause);
		return out;
	}
	ck_assert_int_eq(a.rc, SYSCALL_DONE);
	ck_assert_ptr_null(a.cause);
	out = json_dumps(a.result, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(a.result);
	return out;
}

static void
sys_is(const char *session, const char *args, const char *want)
{
	char *got = sys(session, args);

	ck_assert_msg(strcmp(got, want) == 0, "store %s: got %s, want %s",
	    args, got, want);
	free(got);
}

START_TEST(store_syscall)
{
	ck_assert_str_eq(syscall_store.name, "store");

	sys_is(S1, "{\"op\":\"set\",\"key\":\"counter\",\"args\":[1]}",
	    "{\"value\":null}");
	assert_stored("counter", "1");		/* the session's project */
	sys_is(S1, "{\"op\":\"add\",\"key\":\"counter\",\"args\":[2]}",
	    "{\"value\":3}");
	sys_is(S1, "{\"op\":\"get\",\"key\":\"counter\"}", "{\"value\":3}");
	sys_is(S1, "{\"op\":\"get\",\"key\":\"counter\",\"args\":null}",
	    "{\"value\":3}");
	sys_is(S1, "{\"op\":\"check_and_set\",\"key\":\"counter\","
	    "\"args\":[3,[\"done\"]]}", "{\"value\":true}");
	sys_is(S1, "{\"op\":\"mutate\",\"key\":\"counter\",\"args\":[\"get\"]}",
	    "{\"value\":[\"done\"]}");
	sys_is(S1, "{\"op\":\"list\"}", "{\"value\":[\"counter\"]}");
	sys_is(S1, "{\"op\":\"del\",\"key\":\"counter\"}", "{\"value\":null}");
	sys_is(S1, "{\"op\":\"get\",\"key\":\"counter\"}", "{\"value\":null}");

	sys_is(S1, "{\"op\":\"add\",\"key\":\"s\",\"args\":[\"x\"]}",
	    "FAIL: add takes a number to add");
	sys_is(S1, "{\"op\":\"get\",\"key\":\"\"}", "FAIL: a value's key is 1 "
	    "to 256 printable characters");
	sys_is(S1, "{\"key\":\"k\"}", "FAIL: the store call takes op (a "
	    "string), key (a string) and args (a list)");
	sys_is(S1, "{\"op\":\"set\",\"key\":\"k\",\"args\":5}", "FAIL: the "
	    "store call takes op (a string), key (a string) and args (a list)");
	sys_is(S1, "{\"op\":\"set\",\"key\":7,\"args\":[1]}", "FAIL: the "
	    "store call takes op (a string), key (a string) and args (a list)");
	sys_is("ses_0000000000000000000000000z", "{\"op\":\"list\"}", "FAIL: "
	    "the project of session ses_0000000000000000000000000z is unknown");
}
END_TEST

/* values_get of an unknown project or key: NULL; list: empty. */
START_TEST(reads)
{
	char *k;

	ck_assert_ptr_null(values_get(store, P1, "nope"));
	ck_assert_ptr_null(values_get(store, "prj_nope", "nope"));
	k = keys_of("prj_nope");
	ck_assert_str_eq(k, "[]");
	free(k);
}
END_TEST

static Suite *
values_suite(void)
{
	Suite *s = suite_create("values");
	TCase *tc = tcase_create("values");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, get_set_del);
	tcase_add_test(tc, projects_apart);
	tcase_add_test(tc, list_sorted);
	tcase_add_test(tc, add);
	tcase_add_test(tc, check_and_set);
	tcase_add_test(tc, mutate);
	tcase_add_test(tc, arguments);
	tcase_add_test(tc, key_rules);
	tcase_add_test(tc, value_size);
	tcase_add_test(tc, value_size_cas);
	tcase_add_test(tc, values_per_project);
	tcase_add_test(tc, failure_writes_nothing);
	tcase_add_test(tc, store_syscall);
	tcase_add_test(tc, reads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(values_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
