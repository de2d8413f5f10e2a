/*
 * check-cel.c: unit tests for src/cel.c, the CEL subset of trigger and
 * subscription filters: a table of expressions over a fixed, kittehub-like
 * event with the value or the error each gives, every parse error with its
 * column, the limits, and cel_filter_matches().
 */
#include "autokittehd.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>

static const char event_data[] =
    "{\"url\": {\"path\": \"/api/meow\", \"query\": {\"q\": \"x\"}},"
    " \"type\": \"view_submission\","
    " \"text\": \"roomstatus 42 open\","
    " \"body\": {\"json\": {\"n\": 5, \"f\": 2.5, \"list\": [1, 2, 3],"
    "   \"name\": \"Kitteh\"}},"
    " \"items\": [\"a\", \"b\"],"
    " \"headers\": {\"Content-Type\": \"application/json; charset=utf-8\"},"
    " \"method\": \"POST\","
    " \"n\": 7,"
    " \"big\": 9223372036854775807,"
    " \"small\": -9223372036854775808,"
    " \"nothing\": null,"
    " \"flag\": true,"
    " \"uni\": \"h\\u00e9llo w\\u00f6rld\","
    " \"empty\": \"\","
    " \"spaced\": \"  a b \\t\\n\"}";

static json_t *data;

static void
setup(void)
{
	json_error_t err;

	data = json_loads(event_data, 0, &err);
	ck_assert_msg(data != NULL, "%s", err.text);
}

static void
teardown(void)
{
	json_decref(data);
}

/* An expression and either its value (JSON) or its error sentence. */
struct row {
	const char	*expr;
	const char	*value;
	const char	*error;
};

static const struct row rows[] = {
	/* kittehub-style filters */
	{ "data.url.path.endsWith(\"/meow\")", "true", NULL },
	{ "data.type == \"view_submission\"", "true", NULL },
	{ "data.text.startsWith(\"roomstatus \")", "true", NULL },
	{ "event_type == \"post\"", "true", NULL },
	{ "event_type == 'get'", "false", NULL },
	{ "has(data.body.json) && data.body.json.n > 3", "true", NULL },
	{ "has(data.body.xml) && data.body.xml.n > 3", "false", NULL },
	{ "\"x\" in [\"x\",\"y\"]", "true", NULL },
	{ "size(data.items) == 2", "true", NULL },
	{ "data.items.size()", "2", NULL },
	{ "data.headers[\"Content-Type\"].contains(\"json\")", "true", NULL },
	{ "int(\"42\") + 1 == 43", "true", NULL },
	{ "data.method == \"POST\" && event_type == \"post\"", "true", NULL },
	{ "data.text.matches(\"^roomstatus [0-9]+\")", "true", NULL },
	{ "matches(data.text, \"open$\")", "true", NULL },
	{ "data.text.split(\" \")[1] == \"42\"", "true", NULL },
	/* literals */
	{ "42", "42", NULL },
	{ "0x1F", "31", NULL },
	{ "-7", "-7", NULL },
	{ "2.5", "2.5", NULL },
	{ ".5", "0.5", NULL },
	{ "1e3", "1000.0", NULL },
	{ "'single'", "\"single\"", NULL },
	{ "\"a\\n\\t\\\"\\'\\\\b\"", "\"a\\n\\t\\\"'\\\\b\"", NULL },
	{ "\"\\u00e9\\x41\\101\"", "\"\\u00e9AA\"", NULL },
	{ "r\"a\\d\"", "\"a\\\\d\"", NULL },
	{ "'''x'y'''", "\"x'y\"", NULL },
	{ "true", "true", NULL },
	{ "null", "null", NULL },
	{ "[1, 'a', [true]]", "[1, \"a\", [true]]", NULL },
	{ "[1, 2,]", "[1, 2]", NULL },
	{ "{'a': 1, 'b': [2]}", "{\"a\": 1, \"b\": [2]}", NULL },
	{ "{}", "{}", NULL },
	{ "-9223372036854775808", "-9223372036854775808", NULL },
	{ "1 // a comment\n + 1", "2", NULL },
	/* field access */
	{ "data.url.query.q", "\"x\"", NULL },
	{ "data['url']['path']", "\"/api/meow\"", NULL },
	{ "data.body.json.list[2]", "3", NULL },
	{ "data.body.json.list[1.0]", "2", NULL },
	{ "data.nothing", "null", NULL },
	{ "data.missing", NULL, "no such key: missing" },
	{ "data.url.host", NULL, "no such key: host" },
	{ "data['nope']", NULL, "no such key: nope" },
	{ "data.items[2]", NULL,
	  "index out of range: 2 (the list has 2 elements)" },
	{ "data.items[-1]", NULL,
	  "index out of range: -1 (the list has 2 elements)" },
	{ "data.text.x", NULL, "cannot select field 'x' from a string" },
	{ "data.nothing.x", NULL, "cannot select field 'x' from null" },
	{ "data.items['a']", NULL, "no such overload: list[string]" },
	{ "has(data.nothing)", "true", NULL },
	{ "has(data.missing)", "false", NULL },
	{ "has(data.missing.x)", NULL, "no such key: missing" },
	{ "has(data.text.x)", NULL, "has() needs a map, not a string" },
	/* comparisons */
	{ "1 == 1.0", "true", NULL },
	{ "2 < 2.5", "true", NULL },
	{ "data.body.json.f >= 2", "true", NULL },
	{ "data.big > 9.2e18", "true", NULL },
	{ "data.big == 9223372036854775807.0", "false", NULL },
	{ "'abc' < 'abd'", "true", NULL },
	{ "'b' > 'abc'", "true", NULL },
	{ "false < true", "true", NULL },
	{ "1 == '1'", "false", NULL },
	{ "null == null", "true", NULL },
	{ "[1, [2]] == [1.0, [2]]", "true", NULL },
	{ "{'a': [1]} == {'a': [1]}", "true", NULL },
	{ "{'a': 1} != {'a': 2}", "true", NULL },
	{ "data.body.json == {'n': 5, 'f': 2.5, 'list': [1, 2, 3], "
	  "'name': 'Kitteh'}", "true", NULL },
	{ "1 < 'a'", NULL, "no such overload: int < string" },
	{ "[1] < [2]", NULL, "no such overload: list < list" },
	/* in */
	{ "'q' in data.url.query", "true", NULL },
	{ "'z' in data.url.query", "false", NULL },
	{ "2.0 in data.body.json.list", "true", NULL },
	{ "1 in {'a': 1}", "false", NULL },
	{ "'a' in 'abc'", NULL,
	  "no such overload: string in string (in needs a list or a map)" },
	/* logic */
	{ "!false", "true", NULL },
	{ "!!true", "true", NULL },
	{ "false && data.missing", "false", NULL },
	{ "true || data.missing", "true", NULL },
	{ "data.missing || true", "true", NULL },
	{ "data.missing && false", "false", NULL },
	{ "data.missing && true", NULL, "no such key: missing" },
	{ "1 && true", NULL, "no such overload: && needs bools, not an int" },
	{ "!1", NULL, "no such overload: !int" },
	{ "true ? 'y' : 'n'", "\"y\"", NULL },
	{ "data.n > 10 ? 'big' : data.n > 5 ? 'mid' : 'small'", "\"mid\"",
	  NULL },
	{ "false ? data.missing : 1", "1", NULL },
	{ "1 ? 2 : 3", NULL, "the condition of ?: is an int, not a bool" },
	/* arithmetic */
	{ "1 + 2 * 3", "7", NULL },
	{ "(1 + 2) * 3", "9", NULL },
	{ "7 / 2", "3", NULL },
	{ "-7 / 2", "-3", NULL },
	{ "-7 % 3", "-1", NULL },
	{ "7.0 / 2", "3.5", NULL },
	{ "data.n - 0.5", "6.5", NULL },
	{ "1 - -1", "2", NULL },
	{ "'meow' + 'meow'", "\"meowmeow\"", NULL },
	{ "[1] + [2, 3]", "[1, 2, 3]", NULL },
	{ "1 / 0", NULL, "division by zero" },
	{ "1 % 0", NULL, "modulus by zero" },
	{ "1.0 / 0", NULL, "/: the result is not a finite double" },
	{ "data.big + 1", NULL, "integer overflow" },
	{ "data.small - 1", NULL, "integer overflow" },
	{ "data.big * 2", NULL, "integer overflow" },
	{ "data.small / -1", NULL, "integer overflow" },
	{ "-data.small", NULL, "integer overflow" },
	{ "2.5 % 2", NULL, "no such overload: double % int" },
	{ "'a' + 1", NULL, "no such overload: string + int" },
	{ "'a' - 'b'", NULL, "no such overload: string - string" },
	{ "-'a'", NULL, "no such overload: -string" },
	/* functions */
	{ "size('héllo')", "5", NULL },
	{ "data.uni.size()", "11", NULL },
	{ "size(data.url)", "2", NULL },
	{ "size(data.empty)", "0", NULL },
	{ "size(1)", NULL, "no such overload: size(int)" },
	{ "int('-12')", "-12", NULL },
	{ "int(2.9)", "2", NULL },
	{ "int(-2.9)", "-2", NULL },
	{ "int(1e19)", NULL, "int() out of range: 1e+19" },
	{ "int('12x')", NULL, "cannot convert \"12x\" to int" },
	{ "int(' 1')", NULL, "cannot convert \" 1\" to int" },
	{ "int('99999999999999999999')", NULL,
	  "cannot convert \"99999999999999999999\" to int" },
	{ "int(true)", NULL, "no such overload: int(bool)" },
	{ "double(3)", "3.0", NULL },
	{ "double('2.5')", "2.5", NULL },
	{ "double('x')", NULL, "cannot convert \"x\" to double" },
	{ "string(42)", "\"42\"", NULL },
	{ "string(2.5)", "\"2.5\"", NULL },
	{ "string(0.1)", "\"0.1\"", NULL },
	{ "string(true)", "\"true\"", NULL },
	{ "string([1])", NULL, "no such overload: string(list)" },
	{ "data.url.path.startsWith('/api')", "true", NULL },
	{ "data.url.path.endsWith('')", "true", NULL },
	{ "data.type.contains('sub')", "true", NULL },
	{ "data.type.contains('SUB')", "false", NULL },
	{ "data.method.lowerAscii() == 'post'", "true", NULL },
	{ "'Straße'.upperAscii()", "\"STRAßE\"", NULL },
	{ "data.spaced.trim()", "\"a b\"", NULL },
	{ "'a,b,,c'.split(',')", "[\"a\", \"b\", \"\", \"c\"]", NULL },
	{ "'hé'.split('')", "[\"h\", \"\\u00e9\"]", NULL },
	{ "''.split(',')", "[\"\"]", NULL },
	{ "data.uni.matches('w.rld')", "true", NULL },
	{ "data.text.matches('^[a-z]+ [0-9]{2} (open|closed)$')", "true",
	  NULL },
	{ "data.text.matches(data.url.query.q)", "false", NULL },
	{ "data.text.matches(data.text + '(')", NULL,
	  "invalid regular expression \"roomstatus 42 open(\": "
	  "Unmatched ( or \\(" },
	{ "1.startsWith('a')", NULL, "no such overload: int.startsWith(string)" },
	{ "'a'.startsWith(1)", NULL, "no such overload: string.startsWith(int)" },
	{ "data.items.trim()", NULL, "no such overload: list.trim()" },
	/* maps built from expressions */
	{ "{data.type: 1}", "{\"view_submission\": 1}", NULL },
	{ "{1 + 1: 2}", NULL, "map keys must be strings, not an int" },
	{ "{'a': 1, 'a': 2}", NULL, "duplicate map key \"a\"" },
	/* the match-all forms */
	{ "", "true", NULL },
	{ " . ", "true", NULL },

	/* parse errors, each with its column */
	{ "(1 + 2", NULL, "column 7: expected ')'" },
	{ "size(data.items", NULL, "column 16: expected ')'" },
	{ "[1, 2", NULL, "column 6: expected ',' or ']'" },
	{ "{'a' 1}", NULL, "column 6: expected ':'" },
	{ "{'a': 1 'b': 2}", NULL, "column 9: expected ',' or '}'" },
	{ "data.items[0", NULL, "column 13: expected ']'" },
	{ "true ? 1", NULL, "column 9: expected ':'" },
	{ "1 +", NULL, "column 4: unexpected end of the expression" },
	{ "1 2", NULL, "column 3: unexpected number" },
	{ "data.url 'x'", NULL, "column 10: unexpected string" },
	{ ")", NULL, "column 1: unexpected ')'" },
	{ "data.", NULL, "column 6: expected a field name after '.'" },
	{ "data.1", NULL, "column 5: unexpected number" },
	{ "a == 1", NULL, "column 1: undeclared reference to 'a' (the "
	  "variables are data and event_type)" },
	{ "data.x == 1 && if", NULL, "column 16: 'if' is a reserved word" },
	{ "data = 1", NULL, "column 6: unexpected '=' (compare with ==)" },
	{ "true & false", NULL, "column 6: unexpected '&' (use &&)" },
	{ "true | false", NULL, "column 6: unexpected '|' (use ||)" },
	{ "1 # 2", NULL, "column 3: unexpected character '#'" },
	{ "'é' == é", NULL, "column 8: unexpected byte 0xc3" },
	{ "'abc", NULL, "column 1: unterminated string" },
	{ "size(\"ab\ncd\")", NULL, "column 6: unterminated string" },
	{ "'''abc''", NULL, "column 1: unterminated string" },
	{ "'a\\qb'", NULL, "column 3: invalid escape '\\q'" },
	{ "'\\u12'", NULL, "column 2: '\\u' needs 4 hex digits" },
	{ "'\\uD800'", NULL,
	  "column 2: invalid escape: U+D800 is not a character" },
	{ "'\\U00110000'", NULL,
	  "column 2: invalid escape: U+110000 is not a character" },
	{ "'\\18'", NULL, "column 2: an octal escape needs three digits" },
	{ "9223372036854775808", NULL,
	  "column 1: integer literal out of range" },
	{ "99999999999999999999", NULL,
	  "column 1: integer literal out of range" },
	{ "0x10000000000000000", NULL,
	  "column 1: integer literal out of range" },
	{ "1e999", NULL, "column 1: double literal out of range" },
	{ "1u", NULL, "column 1: unsigned integers are not supported" },
	{ "b'abc'", NULL, "column 1: bytes literals are not supported" },
	{ "foo(1)", NULL, "column 1: unknown function 'foo'" },
	{ "data.items.exists(x, x == 'a')", NULL,
	  "column 12: the exists() macro is not supported" },
	{ "data.items.all(x, x == 'a')", NULL,
	  "column 12: the all() macro is not supported" },
	{ "data.x.bar()", NULL, "column 8: unknown function 'bar'" },
	{ "data.n.int()", NULL, "column 8: int() is not a method: write int(x)" },
	{ "startsWith('a', 'b')", NULL,
	  "column 1: startsWith() is a method: write x.startsWith(...)" },
	{ "size(1, 2)", NULL, "column 1: size() takes 1 argument, not 2" },
	{ "size()", NULL, "column 1: size() takes 1 argument, not 0" },
	{ "'a'.contains()", NULL,
	  "column 5: contains() takes 1 argument, not 0" },
	{ "'a'.trim(1)", NULL, "column 5: trim() takes 0 arguments, not 1" },
	{ "has(data)", NULL,
	  "column 1: has() needs a field selection, as in has(data.x)" },
	{ "has(data.a, data.b)", NULL,
	  "column 1: has() needs a field selection, as in has(data.x)" },
	{ "data.text.matches('(')", NULL,
	  "column 11: invalid regular expression \"(\": Unmatched ( or \\(" },
	{ "data.text.matches('(a)\\\\1')", NULL,
	  "column 11: back-references (\\1) are not supported in regular "
	  "expressions" },
	{ "data.text.matches('((a{30}){30}){30}')", NULL,
	  "column 11: the regular expression repeats too much (it expands "
	  "to more than 1000 atoms)" },
	{ "data.text.matches('a{1001}')", NULL,
	  "column 11: the regular expression repeats too much (more than "
	  "1000 times)" },
	{ "data.text.matches('^r.st+++ito$')", NULL,
	  "column 11: stacked repetitions (as in a** or a+?) are not "
	  "supported in regular expressions" },
	{ "data.text.matches('a+?')", NULL,
	  "column 11: stacked repetitions (as in a** or a+?) are not "
	  "supported in regular expressions" },
	{ "data.text.matches('((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)')",
	  NULL, "column 11: the regular expression repeats too much (it "
	  "expands to more than 1000 atoms)" },
	{ "data.text.matches('^[a-z]+ [0-9]+ [a-z]+$')", "true", NULL },
	{ "data.text.matches('[+*]')", "false", NULL },
	{ "data.text.matches('(open|closed){1,2}$')", "true", NULL },
	{ "data.text.matches(data.type + '+*')", NULL,
	  "stacked repetitions (as in a** or a+?) are not supported in "
	  "regular expressions" },
	{ "'h\\u00e9' == 'x' &&", NULL,
	  "column 20: unexpected end of the expression" },
	{ "'é' + é", NULL, "column 7: unexpected byte 0xc3" },
	{ "{'a': 1, 2: 'b'}", NULL, "column 10: map keys must be strings" },
	{ "data.text.matches('\\\\d+')", NULL,
	  "column 11: \\d is RE2, not POSIX: write [0-9]" },
	{ "data.text.matches('[[:digit:]]+ open')", "true", NULL },
};

/* The value of row i, or the error sentence. */
static void
check_row(const struct row *r)
{
	struct cel_expr *e;
	char *cause = NULL;
	json_t *got, *want;
	char *text;

	if ((e = cel_parse(r->expr, &cause)) == NULL) {
		ck_assert_msg(r->error != NULL, "%s: does not parse: %s",
		    r->expr, cause);
		ck_assert_msg(strcmp(cause, r->error) == 0,
		    "%s: parse error \"%s\", want \"%s\"", r->expr, cause,
		    r->error);
		free(cause);
		return;
	}
	got = cel_eval(e, data, "post", &cause);
	cel_free(e);
	if (got == NULL) {
		ck_assert_msg(r->error != NULL, "%s: fails: %s", r->expr,
		    cause);
		ck_assert_msg(strcmp(cause, r->error) == 0,
		    "%s: error \"%s\", want \"%s\"", r->expr, cause, r->error);
		free(cause);
		return;
	}
	text = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
	ck_assert_msg(r->value != NULL, "%s: gives %s, want error \"%s\"",
	    r->expr, text, r->error);
	want = json_loads(r->value, JSON_DECODE_ANY, NULL);
	ck_assert_msg(want != NULL, "bad expected value %s", r->value);
	/* json_equal() tells 1 from 1.0, as we want here. */
	ck_assert_msg(json_equal(got, want), "%s: gives %s, want %s", r->expr,
	    text, r->value);
	free(text);
	json_decref(got);
	json_decref(want);
}

START_TEST(table)
{
	check_row(&rows[_i]);
}
END_TEST

START_TEST(limits)
{
	char *src = xmalloc(5000), *cause = NULL;
	struct cel_expr *e;
	json_t *v;

	/* 4 KiB of source. */
	memset(src, ' ', 4096);
	src[4095] = '1';
	src[4096] = '\0';
	ck_assert_ptr_nonnull(e = cel_parse(src, &cause));
	cel_free(e);
	src[4096] = ' ';
	src[4097] = '\0';
	ck_assert_ptr_null(cel_parse(src, &cause));
	ck_assert_str_eq(cause, "the expression is longer than 4096 bytes");
	free(cause);

	/* 64 levels of parentheses, but not 65. */
	memset(src, '(', 63);
	src[63] = '1';
	memset(src + 64, ')', 63);
	src[127] = '\0';
	ck_assert_ptr_nonnull(e = cel_parse(src, &cause));
	cel_free(e);
	memset(src, '(', 64);
	src[64] = '1';
	memset(src + 65, ')', 64);
	src[129] = '\0';
	ck_assert_ptr_null(cel_parse(src, &cause));
	ck_assert_str_eq(cause, "column 65: the expression nests too deeply "
	    "(more than 64 levels)");
	free(cause);

	/* Unary operators nest too. */
	memset(src, '!', 100);
	strcpy(src + 100, "true");
	ck_assert_ptr_null(cel_parse(src, &cause));
	ck_assert_str_eq(cause, "column 64: the expression nests too deeply "
	    "(more than 64 levels)");
	free(cause);

	/* A long chain of || is a deep tree: bounded as well. */
	src[0] = '\0';
	for (int i = 0; i < 70; i++)
		strcat(src, "false || ");
	strcat(src, "true");
	ck_assert_ptr_null(cel_parse(src, &cause));
	ck_assert_str_eq(cause, "column 574: the expression nests too deeply "
	    "(more than 64 levels)");
	free(cause);

	/* 60 of them are fine, and evaluate. */
	src[0] = '\0';
	for (int i = 0; i < 60; i++)
		strcat(src, "false || ");
	strcat(src, "true");
	ck_assert_ptr_nonnull(e = cel_parse(src, &cause));
	ck_assert_ptr_nonnull(v = cel_eval(e, NULL, NULL, &cause));
	ck_assert(json_is_true(v));
	json_decref(v);
	cel_free(e);
	free(src);
}
END_TEST

START_TEST(filter_matches)
{
	char *cause = NULL;

	ck_assert_int_eq(cel_filter_matches("", data, "post", &cause), 1);
	ck_assert_int_eq(cel_filter_matches(".", data, "post", &cause), 1);
	ck_assert_int_eq(cel_filter_matches(NULL, data, "post", &cause), 1);
	ck_assert_int_eq(cel_filter_matches("event_type == 'post'", data,
	    "post", &cause), 1);
	ck_assert_int_eq(cel_filter_matches("event_type == 'post'", data,
	    "get", &cause), 0);
	ck_assert_int_eq(cel_filter_matches("data.url.path.endsWith(\"/meow\")",
	    data, "post", &cause), 1);
	ck_assert_ptr_null(cause);

	ck_assert_int_eq(cel_filter_matches("data.type", data, "post",
	    &cause), -1);
	ck_assert_str_eq(cause, "the filter evaluated to a string, not a bool");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(cel_filter_matches("data.n", data, "post", &cause),
	    -1);
	ck_assert_str_eq(cause, "the filter evaluated to an int, not a bool");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(cel_filter_matches("data.nothing", data, "post",
	    &cause), -1);
	ck_assert_str_eq(cause, "the filter evaluated to null, not a bool");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(cel_filter_matches("data.missing == 1", data, "post",
	    &cause), -1);
	ck_assert_str_eq(cause, "no such key: missing");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(cel_filter_matches("(1", data, "post", &cause), -1);
	ck_assert_str_eq(cause, "column 3: expected ')'");
	free(cause);
	cause = NULL;

	/* No data: an empty map; no event type: "". */
	ck_assert_int_eq(cel_filter_matches("size(data) == 0 && event_type "
	    "== ''", NULL, NULL, &cause), 1);
	ck_assert_int_eq(cel_filter_matches("has(data.x)", NULL, NULL,
	    &cause), 0);
}
END_TEST

/* A tree evaluates the same way twice, and on other data. */
START_TEST(reuse)
{
	struct cel_expr *e;
	char *cause = NULL;
	json_t *other = json_pack("{s:i}", "n", 1), *v;

	ck_assert_ptr_nonnull(e = cel_parse("data.n > 3 && "
	    "'x'.matches('^x$')", &cause));
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(v = cel_eval(e, data, "post", &cause));
		ck_assert(json_is_true(v));
		json_decref(v);
		ck_assert_ptr_nonnull(v = cel_eval(e, other, "post", &cause));
		ck_assert(json_is_false(v));
		json_decref(v);
	}
	cel_free(e);
	json_decref(other);
}
END_TEST

static Suite *
cel_suite(void)
{
	Suite *s = suite_create("cel");
	TCase *tc = tcase_create("cel");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, table, 0, (int)nitems(rows));
	tcase_add_test(tc, limits);
	tcase_add_test(tc, filter_matches);
	tcase_add_test(tc, reuse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cel_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
