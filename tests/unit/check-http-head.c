/*
 * check-http-head.c: unit tests for src/http-head.c: heads it lets
 * through (and where it says they end), every refusal with its status and
 * sentence, the size limit in the request line and after it, and the same
 * answers whether the bytes come at once or one at a time.
 */
#include "autokittehd.h"

#include <check.h>

#include <stdlib.h>
#include <string.h>

#define LIMIT	2048

/* Feed text whole, then byte by byte; both must agree. */
static int
feed(const char *text, size_t *used, int *status, const char **cause)
{
	struct http_head whole, bytes;
	size_t n = strlen(text), u1 = 0, u2 = 0, u;
	int rc1, rc2 = HTTP_HEAD_MORE;

	http_head_reset(&whole);
	rc1 = http_head_feed(&whole, text, n, LIMIT, &u1);
	http_head_reset(&bytes);
	for (size_t i = 0; i < n && rc2 == HTTP_HEAD_MORE; i++) {
		rc2 = http_head_feed(&bytes, text + i, 1, LIMIT, &u);
		u2 += u;
	}
	ck_assert_msg(rc1 == rc2, "\"%s\": %d whole, %d byte by byte", text,
	    rc1, rc2);
	ck_assert_uint_eq(u1, u2);
	ck_assert_int_eq(whole.status, bytes.status);
	*used = u1;
	*status = whole.status;
	*cause = whole.cause;
	return rc1;
}

static void
accepted(const char *head, const char *rest)
{
	char *text;
	size_t used;
	int status;
	const char *cause;

	xasprintf(&text, "%s%s", head, rest);
	ck_assert_msg(feed(text, &used, &status, &cause) == HTTP_HEAD_DONE,
	    "not accepted: \"%s\": %d %s", head, status, cause);
	ck_assert_uint_eq(used, strlen(head));
	free(text);
}

static void
refused(const char *head, int want_status, const char *want_cause)
{
	size_t used;
	int status;
	const char *cause;

	ck_assert_msg(feed(head, &used, &status, &cause) == HTTP_HEAD_BAD,
	    "not refused: \"%s\"", head);
	ck_assert_int_eq(status, want_status);
	ck_assert_msg(strstr(cause, want_cause) != NULL, "\"%s\": \"%s\" "
	    "does not say \"%s\"", head, cause, want_cause);
}

START_TEST(good_heads)
{
	accepted("GET / HTTP/1.1\r\n\r\n", "");
	accepted("GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n", "");
	/* The body and the next request are not the head's. */
	accepted("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "hello"
	    "GET / HTTP/1.1\r\n\r\n");
	/* One empty line before the request line (RFC 9112 2.2). */
	accepted("\r\nGET / HTTP/1.1\r\n\r\n", "");
	accepted("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "0\r\n\r\n");
	accepted("POST /x HTTP/1.1\r\ntransfer-encoding:  Chunked \r\n\r\n",
	    "");
	accepted("POST /x HTTP/1.1\r\ncontent-length:\t5\t\r\n"
	    "CONTENT-LENGTH: 5\r\n\r\n", "hello");
	accepted("POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "");
	/* Other headers may be empty, long, or have colons in the value. */
	accepted("GET / HTTP/1.1\r\nX-Empty:\r\nX-Url: http://a:1/b\r\n\r\n",
	    "");
	accepted("GET / HTTP/1.1\r\nX-Long: "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\r\n\r\n", "");
	/* A name longer than what is kept is left to evhttp. */
	accepted("GET / HTTP/1.1\r\nX-"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    ": v\r\n\r\n", "");
}
END_TEST

START_TEST(line_endings)
{
	refused("GET / HTTP/1.1\rHost: x\r\r", 400, "a bare CR");
	refused("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400, "a bare CR");
	refused("GET / HTTP/1.1\nHost: x\n\n", 400, "a bare LF");
	refused("GET / HTTP/1.1\r\nX-A: a\nContent-Length: 2\r\n\r\n", 400,
	    "a bare LF");
	refused("GET / HTTP/1.1\r\n\n", 400, "a bare LF");
}
END_TEST

START_TEST(nul_bytes)
{
	struct http_head h;
	static const char path[] = "GET /a\0b HTTP/1.1\r\n\r\n";
	static const char value[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";

	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, path, sizeof path - 1, LIMIT,
	    NULL), HTTP_HEAD_BAD);
	ck_assert_int_eq(h.status, 400);
	ck_assert_str_eq(h.cause, "a NUL byte in the request head");
	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, value, sizeof value - 1, LIMIT,
	    NULL), HTTP_HEAD_BAD);
	ck_assert_int_eq(h.status, 400);
}
END_TEST

START_TEST(request_line)
{
	refused("GET / HTTP/1.99999999999\r\n\r\n", 400, "does not end with "
	    "HTTP/1.1 or HTTP/1.0");
	refused("GET / HTTP/2.0\r\n\r\n", 400, "HTTP/1.1 or HTTP/1.0");
	refused("GET /\r\n\r\n", 400, "HTTP/1.1 or HTTP/1.0");
	refused("GET / http/1.1\r\n\r\n", 400, "HTTP/1.1 or HTTP/1.0");
	refused("x\r\n\r\n", 400, "HTTP/1.1 or HTTP/1.0");
}
END_TEST

START_TEST(header_names)
{
	refused("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400,
	    "whitespace before its colon");
	refused("GET / HTTP/1.1\r\nX A: b\r\n\r\n", 400, "whitespace before");
	refused("GET / HTTP/1.1\r\n: b\r\n\r\n", 400, "a header name is empty");
	refused("GET / HTTP/1.1\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n"
	    "\r\n", 400, "obsolete line folding");
	refused("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 400,
	    "obsolete line folding");
}
END_TEST

START_TEST(framing)
{
	refused("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", 400, "both Content-Length and "
	    "Transfer-Encoding");
	refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 400, "both");
	refused("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 41"
	    "\r\n\r\n", 400, "Content-Length headers with different values");
	refused("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 05"
	    "\r\n\r\n", 400, "different values");
	refused("POST / HTTP/1.1\r\nContent-Length: 2, 41\r\n\r\n", 400,
	    "Content-Length is not a decimal number");
	refused("POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n", 400,
	    "not a decimal number");
	refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400,
	    "not a decimal number");
	refused("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400,
	    "not a decimal number");
	refused("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400,
	    "not a decimal number");
	refused("POST / HTTP/1.1\r\nContent-Length: "
	    "123456789012345678901234\r\n\r\n", 400, "not a decimal number");
	refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
	    "the only Transfer-Encoding accepted is \"chunked\"");
	refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    501, "\"chunked\"");
	refused("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 501,
	    "\"chunked\"");
	refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 501, "once");
}
END_TEST

/* The limit: 414 in the request line, 431 after; a head of exactly the
 * limit passes. */
START_TEST(size_limit)
{
	struct http_head h;
	char *text;
	size_t used;
	int status;
	const char *cause;
	size_t n;

	text = xmalloc(LIMIT + 100);
	memset(text, 'a', LIMIT + 99);
	memcpy(text, "GET /", 5);
	text[LIMIT + 99] = '\0';
	ck_assert_int_eq(feed(text, &used, &status, &cause), HTTP_HEAD_BAD);
	ck_assert_int_eq(status, 414);
	ck_assert_uint_eq(used, LIMIT + 1);
	ck_assert_str_eq(cause, "the request line is longer than "
	    "http.max_header_size");

	memcpy(text, "GET / HTTP/1.1\r\nX-Pad: ", 23);
	ck_assert_int_eq(feed(text, &used, &status, &cause), HTTP_HEAD_BAD);
	ck_assert_int_eq(status, 431);
	ck_assert_str_eq(cause, "the request headers are larger than "
	    "http.max_header_size");

	/* Exactly LIMIT bytes, the last two the final CRLF. */
	n = LIMIT;
	memcpy(text + n - 4, "\r\n\r\n", 4);
	text[n] = '\0';
	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, text, n, LIMIT, &used),
	    HTTP_HEAD_DONE);
	ck_assert_uint_eq(used, n);
	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, text, n, LIMIT - 1, &used),
	    HTTP_HEAD_BAD);
	ck_assert_int_eq(h.status, 431);
	free(text);
}
END_TEST

/* Once finished, a head stays as it ended; reset starts the next one. */
START_TEST(sticky_and_reset)
{
	struct http_head h;
	size_t used;

	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, "GET / HTTP/1.1\n", 15, LIMIT,
	    &used), HTTP_HEAD_BAD);
	ck_assert_int_eq(http_head_feed(&h, "\r\n\r\n", 4, LIMIT, &used),
	    HTTP_HEAD_BAD);
	ck_assert_uint_eq(used, 0);
	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, "GET / HTTP/1.1\r\n\r\nxyz", 21,
	    LIMIT, &used), HTTP_HEAD_DONE);
	ck_assert_uint_eq(used, 18);
	ck_assert_int_eq(http_head_feed(&h, "\n\n", 2, LIMIT, &used),
	    HTTP_HEAD_DONE);
	ck_assert_uint_eq(used, 0);
	http_head_reset(&h);
	ck_assert_int_eq(http_head_feed(&h, "POST / HTTP/1.1\r\n", 17, LIMIT,
	    &used), HTTP_HEAD_MORE);
	ck_assert_uint_eq(used, 17);
}
END_TEST

static Suite *
http_head_suite(void)
{
	Suite *s = suite_create("http-head");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, good_heads);
	tcase_add_test(tc, line_endings);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, request_line);
	tcase_add_test(tc, header_names);
	tcase_add_test(tc, framing);
	tcase_add_test(tc, size_limit);
	tcase_add_test(tc, sticky_and_reset);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_head_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
