/*
 * check-github.c: X-Hub-Signature-256 verification (integration-github.c):
 * "sha256=" + the hex HMAC-SHA256 of the raw body keyed with the webhook
 * secret. The expected digests were computed independently with
 * `printf %s BODY | openssl dgst -sha256 -hmac SECRET`, and the test also
 * computes them with OpenSSL's HMAC to check random bodies.
 */
#include "autokittehd.h"

#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/keyvalq_struct.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define SECRET	"s3cret"
#define BODY	"{\"ref\":\"refs/heads/main\"}"
/* printf %s '{"ref":"refs/heads/main"}' | openssl dgst -sha256 -hmac s3cret */
#define DIGEST	"232a5e067b6a5aa567ed5a1d21a0dffaf6ef0eeecb6bd9bcf43b3d5ef3fc4f43"

/* "sha256=<hex>" of body under secret, computed here. */
static void
sign(const char *secret, const void *body, size_t len, char out[7 + 64 + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    body, len, mac, &n));
	ck_assert_uint_eq(n, 32);
	strcpy(out, "sha256=");
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
}

static int
valid(const char *header, const char *body, const char *secret)
{
	return github_signature_valid(header, body, strlen(body), secret);
}

START_TEST(valid_signature)
{
	char sig[72];

	sign(SECRET, BODY, strlen(BODY), sig);
	ck_assert_int_eq(valid(sig, BODY, SECRET), 1);
}
END_TEST

START_TEST(known_digest)
{
	char sig[72];

	/* Our own HMAC agrees with the one verification uses... */
	sign(SECRET, BODY, strlen(BODY), sig);
	/* ...and upper-case hex is accepted too. */
	for (char *c = sig + 7; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	ck_assert_int_eq(valid(sig, BODY, SECRET), 1);
}
END_TEST

START_TEST(openssl_cli_digest)
{
	/* A digest computed by openssl dgst, not by this test. */
	const char *hdr = "sha256=" DIGEST;
	char sig[72];

	sign(SECRET, BODY, strlen(BODY), sig);
	ck_assert_str_eq(sig, hdr);
	ck_assert_int_eq(valid(hdr, BODY, SECRET), 1);
}
END_TEST

START_TEST(missing_signature)
{
	ck_assert_int_eq(valid(NULL, BODY, SECRET), 0);
	ck_assert_int_eq(valid("", BODY, SECRET), 0);
	ck_assert_int_eq(valid("sha256=", BODY, SECRET), 0);
}
END_TEST

START_TEST(wrong_signature)
{
	char sig[72];

	sign("another", BODY, strlen(BODY), sig);
	ck_assert_int_eq(valid(sig, BODY, SECRET), 0);
	sign(SECRET, BODY, strlen(BODY), sig);
	sig[20] = sig[20] == '0' ? '1' : '0';	/* one hex digit off */
	ck_assert_int_eq(valid(sig, BODY, SECRET), 0);
}
END_TEST

START_TEST(body_byte_changed)
{
	char sig[72], body[] = BODY;

	sign(SECRET, body, strlen(body), sig);
	for (size_t i = 0; i < strlen(body); i++) {
		body[i] ^= 1;
		ck_assert_msg(valid(sig, body, SECRET) == 0, "byte %zu", i);
		body[i] ^= 1;
	}
	ck_assert_int_eq(valid(sig, body, SECRET), 1);
	/* A body one byte shorter or longer. */
	ck_assert_int_eq(github_signature_valid(sig, body, strlen(body) - 1,
	    SECRET), 0);
	ck_assert_int_eq(github_signature_valid(sig, BODY "x",
	    strlen(body) + 1, SECRET), 0);
}
END_TEST

START_TEST(wrong_prefix)
{
	char sig[72], alt[80];

	sign(SECRET, BODY, strlen(BODY), sig);
	snprintf(alt, sizeof alt, "sha1=%s", sig + 7);
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
	snprintf(alt, sizeof alt, "SHA256=%s", sig + 7);
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
	ck_assert_int_eq(valid(sig + 7, BODY, SECRET), 0);	/* bare hex */
	snprintf(alt, sizeof alt, " %s", sig);
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
}
END_TEST

START_TEST(bad_hex)
{
	char sig[72], alt[80];

	sign(SECRET, BODY, strlen(BODY), sig);
	/* Odd length: one digit missing, one extra. */
	snprintf(alt, sizeof alt, "%.*s", (int)strlen(sig) - 1, sig);
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
	snprintf(alt, sizeof alt, "%s0", sig);
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
	/* Even but too long, and a non-hex digit. */
	snprintf(alt, sizeof alt, "%s00", sig);
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
	strcpy(alt, sig);
	alt[9] = 'g';
	ck_assert_int_eq(valid(alt, BODY, SECRET), 0);
}
END_TEST

START_TEST(empty_secret)
{
	char sig[72];

	sign("x", BODY, strlen(BODY), sig);
	ck_assert_int_eq(valid(sig, BODY, ""), 0);
	ck_assert_int_eq(valid(sig, BODY, NULL), 0);
}
END_TEST

START_TEST(empty_and_binary_bodies)
{
	unsigned char body[512];
	char sig[72];

	sign(SECRET, "", 0, sig);
	ck_assert_int_eq(github_signature_valid(sig, "", 0, SECRET), 1);
	ck_assert_int_eq(github_signature_valid(sig, NULL, 0, SECRET), 1);
	for (int round = 0; round < 20; round++) {
		ck_assert_int_eq(RAND_bytes(body, sizeof body), 1);
		sign(SECRET, body, sizeof body, sig);
		ck_assert_int_eq(github_signature_valid(sig, body, sizeof body,
		    SECRET), 1);
	}
}
END_TEST

/* The event of a verified delivery: type, delivery id, payload object. */
START_TEST(delivery_parse)
{
	struct evkeyvalq h;
	char type[GITHUB_MAX_EVENT_TYPE + 1], id[GITHUB_MAX_DELIVERY + 1];
	char *cause = NULL;
	const char *form = "payload=%7B%22action%22%3A%22opened%22%7D";
	json_t *d;

	TAILQ_INIT(&h);
	evhttp_add_header(&h, "X-GitHub-Event", "issues");
	evhttp_add_header(&h, "X-GitHub-Delivery", "72d3162e-cc78");
	d = github_delivery_parse(&h, BODY, strlen(BODY), type, id, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(type, "issues");
	ck_assert_str_eq(id, "72d3162e-cc78");
	ck_assert_str_eq(json_string_value(json_object_get(d, "ref")),
	    "refs/heads/main");
	json_decref(d);
	evhttp_add_header(&h, "Content-Type",
	    "application/x-www-form-urlencoded");
	d = github_delivery_parse(&h, form, strlen(form), type, id, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "action")),
	    "opened");
	json_decref(d);
	ck_assert_ptr_null(github_delivery_parse(&h, "[]", 2, type, id,
	    &cause));
	ck_assert_str_eq(cause, "the payload is not a JSON object");
	free(cause);
	cause = NULL;
	evhttp_remove_header(&h, "X-GitHub-Event");
	evhttp_add_header(&h, "X-GitHub-Event", "two words");
	ck_assert_ptr_null(github_delivery_parse(&h, BODY, strlen(BODY), type,
	    id, &cause));
	ck_assert_str_eq(cause, "X-GitHub-Event and X-GitHub-Delivery are "
	    "required and must be short words");
	free(cause);
	evhttp_clear_headers(&h);
}
END_TEST

static Suite *
github_suite(void)
{
	Suite *s = suite_create("github");
	TCase *tc = tcase_create("signature");

	tcase_add_test(tc, valid_signature);
	tcase_add_test(tc, known_digest);
	tcase_add_test(tc, openssl_cli_digest);
	tcase_add_test(tc, missing_signature);
	tcase_add_test(tc, wrong_signature);
	tcase_add_test(tc, body_byte_changed);
	tcase_add_test(tc, wrong_prefix);
	tcase_add_test(tc, bad_hex);
	tcase_add_test(tc, empty_secret);
	tcase_add_test(tc, empty_and_binary_bodies);
	tcase_add_test(tc, delivery_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(github_suite());
	int failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
