/*
 * check-units.c: unit tests for lib/units.c (durations, sizes, booleans)
 * and lib/typeid.c (TypeIDs).
 *
 * Every syntax the config file and the command line accept has a table of
 * good and bad inputs here; formatting is checked by round-tripping through
 * the parser, since that is the property `akctl config` relies on.
 */
#include "autokittehd.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>

/* ---- durations ---- */

START_TEST(duration_valid)
{
	static const struct {
		const char	*in;
		uint64_t	 ms;
	} cases[] = {
		{ "250ms", 250 },
		{ "10s", 10000 },
		{ "5m", 300000 },
		{ "1h", 3600000 },
		{ "1h30m", 5400000 },
		{ "1m30s", 90000 },
		{ "1s500ms", 1500 },
		{ "0", 0 },
		{ "0s", 0 },
		{ "18446744073709551615ms", UINT64_MAX },
		{ "1d", 86400000 },
		{ "30d", 2592000000 },
		{ "1d12h", 129600000 },
		{ "2d1s", 172801000 },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		uint64_t ms = 12345;

		ck_assert_msg(parse_duration_ms(cases[i].in, &ms) == 0,
		    "\"%s\" was rejected", cases[i].in);
		ck_assert_msg(ms == cases[i].ms, "\"%s\" gave %llu", cases[i].in,
		    (unsigned long long)ms);
	}
}
END_TEST

START_TEST(duration_invalid)
{
	static const char *const cases[] = {
		"", "10", "ms", "-1s", "+1s", "1x", "1.5s", "1h30", " 1s", "1s ",
		"1 s", "1S", "1sec", "1hx", "h", "99999999999999999999h",
		"18446744073709551616ms", "5124095576030432h",
		"18446744073709551615ms1ms", "1D", "1day", "d",
		"213503982335d",
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		uint64_t ms = 777;

		ck_assert_msg(parse_duration_ms(cases[i], &ms) == -1,
		    "\"%s\" was accepted as %llu", cases[i],
		    (unsigned long long)ms);
		ck_assert_msg(ms == 777, "\"%s\" changed the output", cases[i]);
	}
}
END_TEST

START_TEST(duration_round_trip)
{
	static const uint64_t values[] = {
		0, 1, 999, 1000, 1500, 60000, 61000, 90000, 3600000, 3601000,
		3601500, 5400000, 86400000, 123456789, UINT64_MAX,
	};

	for (size_t i = 0; i < nitems(values); i++) {
		char buf[64];
		uint64_t back = 0;

		format_duration_ms(values[i], buf, sizeof buf);
		ck_assert_msg(parse_duration_ms(buf, &back) == 0,
		    "%llu formatted as \"%s\", which does not parse",
		    (unsigned long long)values[i], buf);
		ck_assert_msg(back == values[i], "%llu -> \"%s\" -> %llu",
		    (unsigned long long)values[i], buf,
		    (unsigned long long)back);
	}
}
END_TEST

START_TEST(duration_format_exact)
{
	static const struct {
		uint64_t	 ms;
		const char	*out;
	} cases[] = {
		{ 0, "0" }, { 250, "250ms" }, { 1500, "1500ms" },
		{ 30000, "30s" }, { 90000, "1m30s" }, { 3600000, "1h" },
		{ 5400000, "1h30m" }, { 100, "100ms" }, { 86400000, "1d" },
		{ 90000000, "1d1h" }, { 2592000000, "30d" },
		{ 86400500, "86400500ms" },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		char buf[64];

		format_duration_ms(cases[i].ms, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].out);
	}
}
END_TEST

/* ---- sizes ---- */

START_TEST(size_valid)
{
	static const struct {
		const char	*in;
		uint64_t	 bytes;
	} cases[] = {
		{ "512KiB", 512ULL << 10 },
		{ "16MiB", 16ULL << 20 },
		{ "1GiB", 1ULL << 30 },
		{ "2TiB", 2ULL << 40 },
		{ "1000", 1000 },
		{ "7B", 7 },
		{ "0", 0 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215TiB", 16777215ULL << 40 },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		uint64_t n = 12345;

		ck_assert_msg(parse_size_bytes(cases[i].in, &n) == 0,
		    "\"%s\" was rejected", cases[i].in);
		ck_assert_msg(n == cases[i].bytes, "\"%s\" gave %llu",
		    cases[i].in, (unsigned long long)n);
	}
}
END_TEST

START_TEST(size_invalid)
{
	static const char *const cases[] = {
		"", "1K", "1KB", "1kib", "1 MiB", "-1", "+1", "1.5MiB", "MiB",
		" 1", "1 ", "1MiBx", "18446744073709551616", "16777216TiB",
		"99999999999999999999GiB",
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		uint64_t n = 777;

		ck_assert_msg(parse_size_bytes(cases[i], &n) == -1,
		    "\"%s\" was accepted as %llu", cases[i],
		    (unsigned long long)n);
		ck_assert_msg(n == 777, "\"%s\" changed the output", cases[i]);
	}
}
END_TEST

START_TEST(size_round_trip)
{
	static const uint64_t values[] = {
		0, 1, 7, 1000, 1023, 1024, 1536, 16ULL << 10, 8ULL << 20,
		1ULL << 30, 3ULL << 40, (1ULL << 40) + 1, UINT64_MAX,
	};
	static const struct {
		uint64_t	 bytes;
		const char	*out;
	} exact[] = {
		{ 0, "0" }, { 1000, "1000" }, { 1024, "1KiB" },
		{ 8ULL << 20, "8MiB" }, { 16ULL << 10, "16KiB" },
		{ 1ULL << 30, "1GiB" }, { 1ULL << 40, "1TiB" }, { 1536, "1536" },
	};

	for (size_t i = 0; i < nitems(values); i++) {
		char buf[64];
		uint64_t back = 0;

		format_size_bytes(values[i], buf, sizeof buf);
		ck_assert_msg(parse_size_bytes(buf, &back) == 0,
		    "%llu formatted as \"%s\", which does not parse",
		    (unsigned long long)values[i], buf);
		ck_assert_msg(back == values[i], "%llu -> \"%s\" -> %llu",
		    (unsigned long long)values[i], buf,
		    (unsigned long long)back);
	}
	for (size_t i = 0; i < nitems(exact); i++) {
		char buf[64];

		format_size_bytes(exact[i].bytes, buf, sizeof buf);
		ck_assert_str_eq(buf, exact[i].out);
	}
}
END_TEST

/* ---- booleans ---- */

START_TEST(bool_values)
{
	static const char *const yes[] = { "yes", "true", "on", "YES", "True" };
	static const char *const no[] = { "no", "false", "off", "NO", "Off" };
	static const char *const bad[] = { "", "1", "0", "y", "n", "yes ",
	    "enable" };
	int v;

	for (size_t i = 0; i < nitems(yes); i++) {
		v = -1;
		ck_assert_int_eq(parse_bool(yes[i], &v), 0);
		ck_assert_int_eq(v, 1);
	}
	for (size_t i = 0; i < nitems(no); i++) {
		v = -1;
		ck_assert_int_eq(parse_bool(no[i], &v), 0);
		ck_assert_int_eq(v, 0);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		v = -1;
		ck_assert_msg(parse_bool(bad[i], &v) == -1, "\"%s\" accepted",
		    bad[i]);
		ck_assert_int_eq(v, -1);
	}
}
END_TEST

/* ---- TypeIDs ---- */

static const uint8_t spec_uuid[16] = {
	0x01, 0x88, 0xba, 0xc7, 0x4a, 0xfa, 0x78, 0xaa,
	0xbc, 0x3b, 0xbd, 0x1e, 0xef, 0x28, 0xd8, 0x81,
};

START_TEST(typeid_spec_example)
{
	char suffix[TYPEID_SUFFIX_LEN + 1];
	uint8_t uuid[16];

	typeid_encode(spec_uuid, suffix);
	ck_assert_str_eq(suffix, "01h2xcejqtf2nbrexx3vqjhp41");
	ck_assert_int_eq(typeid_decode("01h2xcejqtf2nbrexx3vqjhp41", uuid), 0);
	ck_assert_mem_eq(uuid, spec_uuid, 16);
	ck_assert_int_eq(typeid_check("prefix_01h2xcejqtf2nbrexx3vqjhp41",
	    "prefix"), 0);
}
END_TEST

START_TEST(typeid_edges)
{
	uint8_t zero[16], ones[16], uuid[16];
	char suffix[TYPEID_SUFFIX_LEN + 1];

	memset(zero, 0, sizeof zero);
	memset(ones, 0xff, sizeof ones);
	typeid_encode(zero, suffix);
	ck_assert_str_eq(suffix, "00000000000000000000000000");
	typeid_encode(ones, suffix);
	ck_assert_str_eq(suffix, "7zzzzzzzzzzzzzzzzzzzzzzzzz");
	ck_assert_int_eq(typeid_decode("00000000000000000000000000", uuid), 0);
	ck_assert_mem_eq(uuid, zero, 16);
	ck_assert_int_eq(typeid_decode("7zzzzzzzzzzzzzzzzzzzzzzzzz", uuid), 0);
	ck_assert_mem_eq(uuid, ones, 16);
}
END_TEST

START_TEST(typeid_round_trip_random)
{
	unsigned int seed = 12345;

	for (int n = 0; n < 1000; n++) {
		uint8_t in[16], out[16];
		char suffix[TYPEID_SUFFIX_LEN + 1];

		for (int i = 0; i < 16; i++)
			in[i] = (uint8_t)rand_r(&seed);
		typeid_encode(in, suffix);
		ck_assert_uint_eq(strlen(suffix), TYPEID_SUFFIX_LEN);
		ck_assert(suffix[0] >= '0' && suffix[0] <= '7');
		ck_assert_int_eq(typeid_decode(suffix, out), 0);
		ck_assert_mem_eq(in, out, 16);
	}
}
END_TEST

START_TEST(typeid_decode_rejects)
{
	static const char *const cases[] = {
		"8zzzzzzzzzzzzzzzzzzzzzzzzz",	/* > 128 bits */
		"zzzzzzzzzzzzzzzzzzzzzzzzzz",
		"",
		"0000000000000000000000000",	/* 25 */
		"000000000000000000000000000",	/* 27 */
		"0000000000000000000000000u",
		"0000000000000000000000000i",
		"0000000000000000000000000l",
		"0000000000000000000000000o",
		"01H2XCEJQTF2NBREXX3VQJHP41",	/* uppercase */
		"01h2xcejqtf2nbrexx3vqjhp4A",
		"01h2xcejqtf2nbrexx3vqjhp4-",
		"01h2xcejqtf2nbrexx3vqjhp4 ",
	};
	uint8_t uuid[16];

	for (size_t i = 0; i < nitems(cases); i++)
		ck_assert_msg(typeid_decode(cases[i], uuid) == -1,
		    "\"%s\" was accepted", cases[i]);
}
END_TEST

START_TEST(typeid_new_format)
{
	char a[96], b[96], small[8];
	uint8_t uuid[16];

	ck_assert_int_eq(typeid_new("tok", a, sizeof a), 0);
	ck_assert_uint_eq(strlen(a), strlen("tok") + 1 + TYPEID_SUFFIX_LEN);
	ck_assert(strncmp(a, "tok_", 4) == 0);
	ck_assert(a[4] <= '7');
	ck_assert_int_eq(typeid_check(a, "tok"), 0);
	ck_assert_int_eq(typeid_check(a, NULL), 0);
	ck_assert_int_eq(typeid_check(a, "prj"), -1);
	ck_assert_int_eq(typeid_check(a, "to"), -1);
	ck_assert_int_eq(typeid_check(a, "toke"), -1);

	/* A UUIDv7 with the RFC 4122 variant. */
	ck_assert_int_eq(typeid_decode(a + 4, uuid), 0);
	ck_assert_uint_eq(uuid[6] >> 4, 7);
	ck_assert_uint_eq(uuid[8] >> 6, 2);

	/* IDs made later sort after (same millisecond: random order). */
	ck_assert_int_eq(typeid_new("tok", b, sizeof b), 0);
	ck_assert_str_ne(a, b);
	ck_assert(strncmp(a, b, 4 + 9) <= 0);

	ck_assert_int_eq(typeid_new("tok", small, sizeof small), -1);
	ck_assert_int_eq(typeid_new("tok", a, 4 + TYPEID_SUFFIX_LEN), -1);
	ck_assert_int_eq(typeid_new("tok", a, 4 + TYPEID_SUFFIX_LEN + 1), 0);
}
END_TEST

START_TEST(typeid_check_rejects)
{
	static const char *const cases[] = {
		"01h2xcejqtf2nbrexx3vqjhp41",		/* no prefix */
		"_01h2xcejqtf2nbrexx3vqjhp41",		/* empty prefix */
		"Tok_01h2xcejqtf2nbrexx3vqjhp41",
		"t0k_01h2xcejqtf2nbrexx3vqjhp41",
		"tok-01h2xcejqtf2nbrexx3vqjhp41",
		"tok_81h2xcejqtf2nbrexx3vqjhp41",
		"tok_01h2xcejqtf2nbrexx3vqjhp4",
		"tok_",
		"",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"_01h2xcejqtf2nbrexx3vqjhp41",		/* 64-char prefix */
	};

	for (size_t i = 0; i < nitems(cases); i++)
		ck_assert_msg(typeid_check(cases[i], NULL) == -1,
		    "\"%s\" was accepted", cases[i]);
	ck_assert_int_eq(typeid_check("with_under_01h2xcejqtf2nbrexx3vqjhp41",
	    "with_under"), 0);
}
END_TEST

START_TEST(size_human)
{
	char buf[32];

	format_size_human(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "0 bytes");
	format_size_human(1023, buf, sizeof buf);
	ck_assert_str_eq(buf, "1023 bytes");
	format_size_human(4096, buf, sizeof buf);
	ck_assert_str_eq(buf, "4KiB");
	format_size_human(580952, buf, sizeof buf);
	ck_assert_str_eq(buf, "567.3KiB");
	format_size_human(3ULL << 30, buf, sizeof buf);
	ck_assert_str_eq(buf, "3GiB");
}
END_TEST

static Suite *
units_suite(void)
{
	Suite *s = suite_create("units");
	TCase *tc = tcase_create("durations");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, size_human);
	tcase_add_test(tc, duration_valid);
	tcase_add_test(tc, duration_invalid);
	tcase_add_test(tc, duration_round_trip);
	tcase_add_test(tc, duration_format_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("sizes");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, size_valid);
	tcase_add_test(tc, size_invalid);
	tcase_add_test(tc, size_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("booleans");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bool_values);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *
typeid_suite(void)
{
	Suite *s = suite_create("typeid");
	TCase *tc = tcase_create("codec");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, typeid_spec_example);
	tcase_add_test(tc, typeid_edges);
	tcase_add_test(tc, typeid_round_trip_random);
	tcase_add_test(tc, typeid_decode_rejects);
	tcase_add_test(tc, typeid_new_format);
	tcase_add_test(tc, typeid_check_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(units_suite());
	int failures;

	srunner_add_suite(sr, typeid_suite());
	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
