/*
 * check-token.c: unit tests for src/auth-token.c, API tokens.
 *
 * The secret's shape, its hash (a known SHA-256 vector), and the life of a
 * token in a real store: insert, verify, list, revoke.
 */
#include "autokittehd.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789-_"

START_TEST(generate_format)
{
	char a[64], b[64];

	ck_assert_int_eq(token_generate(a, sizeof a), 0);
	ck_assert_uint_eq(strlen(a), 47);
	ck_assert(strncmp(a, "akt_", 4) == 0);
	ck_assert_uint_eq(strspn(a + 4, B64URL), 43);
	ck_assert_int_eq(token_format_valid(a), 1);
	ck_assert_int_eq(token_generate(b, sizeof b), 0);
	ck_assert_str_ne(a, b);

	/* 32 random bytes: the last character carries 4 bits, low 2 zero. */
	ck_assert_ptr_nonnull(strchr("AEIMQUYcgkosw048", a[46]));
}
END_TEST

START_TEST(generate_buffer_size)
{
	char buf[64];

	/* 47 characters and the NUL need 48 bytes. */
	memset(buf, 'x', sizeof buf);
	ck_assert_int_eq(token_generate(buf, 48), 0);
	ck_assert_uint_eq(strlen(buf), 47);
	ck_assert_int_eq(token_generate(buf, 47), -1);
	ck_assert_int_eq(token_generate(buf, 0), -1);
}
END_TEST

START_TEST(format_valid)
{
	char good[64], bad[80];

	ck_assert_int_eq(token_generate(good, sizeof good), 0);
	ck_assert_int_eq(token_format_valid(
	    "akt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 1);
	ck_assert_int_eq(token_format_valid(
	    "akt_-_0123456789abcdefghijklmnopqrstuvwxyzABCDE"), 1);
	ck_assert_int_eq(token_format_valid(""), 0);
	ck_assert_int_eq(token_format_valid("akt_"), 0);

	snprintf(bad, sizeof bad, "akx_%s", good + 4);
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "AKT_%s", good + 4);
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%.46s", good);		/* short */
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%sA", good);			/* long */
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%.46s=", good);		/* padding */
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%.20s+%s", good, good + 21);
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%.20s/%s", good, good + 21);
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%.20s %s", good, good + 21);
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%.20s\xc3%s", good, good + 21);
	ck_assert_int_eq(token_format_valid(bad), 0);
	snprintf(bad, sizeof bad, "%s", good + 4);		/* no prefix */
	ck_assert_int_eq(token_format_valid(bad), 0);
}
END_TEST

START_TEST(hash_vector)
{
	char hex[TOKEN_HASH_LEN + 1];

	/* printf %s akt_test | sha256sum */
	token_hash("akt_test", hex);
	ck_assert_str_eq(hex, "3da836fb90972ff87d79e9b761875e976cf794a3d6ded4"
	    "0ad5ce853f37894e2b");
	/* sha256 of the empty string */
	token_hash("", hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
	    "4ca495991b7852b855");
}
END_TEST

/* ---- in a store ---- */

static char tmpdir[64];
static struct store *store;

static void
store_teardown(void)
{
	char cmd[128];

	store_close(store);
	store = NULL;
	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	tmpdir[0] = '\0';
}

static void
store_setup(void)
{
	char *path, *cause = NULL;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/check-token.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&path, "%s/autokitteh.db", tmpdir);
	store = store_open(path, STORE_SYNC_NORMAL, STORE_CHECK_ALWAYS,
	    NULL, &cause);
	ck_assert_msg(store != NULL, "store_open: %s", cause);
	free(path);
}

/* Make a token; secret gets its secret. */
static void
make_token(const char *id, const char *name, int64_t created_at,
    char secret[64])
{
	char hash[TOKEN_HASH_LEN + 1], *cause = NULL;

	ck_assert_int_eq(token_generate(secret, 64), 0);
	token_hash(secret, hash);
	ck_assert_msg(token_insert(store, id, name, hash, created_at,
	    &cause) == 0, "token_insert: %s", cause);
}

START_TEST(insert_verify)
{
	char secret[64], other[64], id[64], small[8];

	make_token("tok_a", "ci", 1700000000, secret);
	memset(id, 0, sizeof id);
	ck_assert_int_eq(token_verify(store, secret, id, sizeof id), 0);
	ck_assert_str_eq(id, "tok_a");

	/* The id is cut to fit, always terminated. */
	ck_assert_int_eq(token_verify(store, secret, small, sizeof small), 0);
	ck_assert_str_eq(small, "tok_a");
	ck_assert_int_eq(token_verify(store, secret, small, 4), 0);
	ck_assert_str_eq(small, "tok");

	ck_assert_int_eq(token_generate(other, sizeof other), 0);
	ck_assert_int_eq(token_verify(store, other, id, sizeof id), -1);
	ck_assert_int_eq(token_verify(store, "", id, sizeof id), -1);
	ck_assert_int_eq(token_verify(store, "akt_test", id, sizeof id), -1);

	/* The store keeps the hash, never the secret. */
	{
		sqlite3_stmt *st;
		char hash[TOKEN_HASH_LEN + 1];

		token_hash(secret, hash);
		ck_assert_int_eq(sqlite3_prepare_v2(store_db(store), "SELECT "
		    "hash FROM tokens WHERE token_id = 'tok_a'", -1, &st, NULL),
		    SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(st, 0),
		    hash);
		sqlite3_finalize(st);
	}
}
END_TEST

START_TEST(insert_duplicate)
{
	char hash[TOKEN_HASH_LEN + 1], secret[64], *cause = NULL;

	make_token("tok_a", "one", 1, secret);
	token_hash(secret, hash);
	/* Same hash under another id: UNIQUE(hash). */
	ck_assert_int_eq(token_insert(store, "tok_b", "two", hash, 2, &cause),
	    -1);
	ck_assert_str_eq(cause, "saving the token: UNIQUE constraint failed: "
	    "tokens.hash");
	free(cause);
	cause = NULL;
	token_hash("akt_other", hash);
	ck_assert_int_eq(token_insert(store, "tok_a", "three", hash, 3, &cause),
	    -1);
	ck_assert_str_eq(cause, "saving the token: UNIQUE constraint failed: "
	    "tokens.token_id");
	free(cause);
}
END_TEST

static int64_t
count_revoked(void)
{
	int64_t n = -1;

	ck_assert_int_eq(store_count(store, "SELECT count(*) FROM tokens WHERE "
	    "revoked_at IS NOT NULL", &n), 0);
	return n;
}

START_TEST(revoke_token)
{
	char secret[64], id[64], *cause = NULL;

	make_token("tok_a", "ci", 1700000000, secret);
	ck_assert_int_eq(token_exists(store, "tok_a"), 1);
	ck_assert_int_eq(token_exists(store, "tok_nope"), 0);
	ck_assert_int_eq(token_revoke(store, "tok_nope", &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_int_eq(token_revoke(store, "tok_a", &cause), 1);
	ck_assert_ptr_null(cause);
	ck_assert_int_eq(token_exists(store, "tok_a"), 0);
	ck_assert_int_eq(token_verify(store, secret, id, sizeof id), -1);
	/* Revoking twice: nothing left to revoke. */
	ck_assert_int_eq(token_revoke(store, "tok_a", &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_int_eq(count_revoked(), 1);
}
END_TEST

START_TEST(list_tokens)
{
	char secret[64], *dump;
	json_t *l;

	l = token_list(store);
	ck_assert_ptr_nonnull(l);
	ck_assert(json_is_array(l));
	ck_assert_uint_eq(json_array_size(l), 0);
	json_decref(l);

	make_token("tok_b", "second", 1700000001, secret);
	make_token("tok_a", "first", 1700000000, secret);
	make_token("tok_c", "gone", 1600000000, secret);
	make_token("tok_d", "", 0, secret);
	ck_assert_int_eq(token_revoke(store, "tok_c", NULL), 1);

	l = token_list(store);
	ck_assert_ptr_nonnull(l);
	dump = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
	ck_assert_str_eq(dump,
	    "[{\"created_at\":\"1970-01-01T00:00:00Z\",\"name\":\"\","
	    "\"token_id\":\"tok_d\"},"
	    "{\"created_at\":\"2023-11-14T22:13:20Z\",\"name\":\"first\","
	    "\"token_id\":\"tok_a\"},"
	    "{\"created_at\":\"2023-11-14T22:13:21Z\",\"name\":\"second\","
	    "\"token_id\":\"tok_b\"}]");
	free(dump);
	json_decref(l);
}
END_TEST

START_TEST(timestamps)
{
	static const struct {
		int64_t		 t;
		const char	*s;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },
		{ 1700000000, "2023-11-14T22:13:20Z" },
		{ 4102444799, "2099-12-31T23:59:59Z" },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		json_t *j = timestamp_json(cases[i].t);

		ck_assert_str_eq(json_string_value(j), cases[i].s);
		json_decref(j);
	}
}
END_TEST

static Suite *
token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("secret");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, generate_format);
	tcase_add_test(tc, generate_buffer_size);
	tcase_add_test(tc, format_valid);
	tcase_add_test(tc, hash_vector);
	tcase_add_test(tc, timestamps);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, insert_verify);
	tcase_add_test(tc, insert_duplicate);
	tcase_add_test(tc, revoke_token);
	tcase_add_test(tc, list_tokens);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(token_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
