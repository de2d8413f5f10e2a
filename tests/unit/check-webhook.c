/*
 * check-webhook.c: webhook request -> event data shaping.
 *
 * A real evhttp server on 127.0.0.1 (port chosen by the kernel) receives
 * requests sent by a real client in the same event loop; its handler runs
 * webhook_request_to_data() and we compare the JSON with AutoKitteh's
 * shape: method, raw_url, url{path, query, path_suffix}, headers,
 * trailers, body{bytes (base64), text, form, json}.
 */
#include "autokittehd.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#define SLUG "0123456789abcdefghjkmnpqrs"

static struct event_base *base;
static struct evhttp *server;
static ev_uint16_t port;
static json_t *captured;
static char *captured_cause;

static void
handler(struct evhttp_request *req, void *arg)
{
	json_decref(captured);
	free(captured_cause);
	captured_cause = NULL;
	captured = webhook_request_to_data(req, &captured_cause);
	evhttp_send_reply(req, 202, "Accepted", NULL);
}

static void
client_done(struct evhttp_request *req, void *arg)
{
	event_base_loopexit(base, NULL);
}

static void
setup(void)
{
	struct evhttp_bound_socket *bound;
	struct sockaddr_storage ss;
	ev_socklen_t len = sizeof ss;

	base = event_base_new();
	server = evhttp_new(base);
	evhttp_set_allowed_methods(server, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(server, handler, NULL);
	bound = evhttp_bind_socket_with_handle(server, "127.0.0.1", 0);
	ck_assert_ptr_nonnull(bound);
	getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&ss,
	    &len);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	captured = NULL;
}

static void
teardown(void)
{
	json_decref(captured);
	captured = NULL;
	free(captured_cause);
	captured_cause = NULL;
	evhttp_free(server);
	event_base_free(base);
}

/* Send one request; extra headers are "Name: value" strings. */
static json_t *
send_request(enum evhttp_cmd_type cmd, const char *uri, const char *body,
    size_t body_len, const char *const *headers)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct evkeyvalq *out;

	conn = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
	req = evhttp_request_new(client_done, NULL);
	out = evhttp_request_get_output_headers(req);
	evhttp_add_header(out, "Host", "localhost");
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		char *name = xstrdup(headers[i]), *colon = strchr(name, ':');

		*colon = '\0';
		evhttp_add_header(out, name, colon + 2);
		free(name);
	}
	if (body != NULL)
		evbuffer_add(evhttp_request_get_output_buffer(req), body,
		    body_len);
	ck_assert_int_eq(evhttp_make_request(conn, req, cmd, uri), 0);
	event_base_dispatch(base);
	evhttp_connection_free(conn);
	ck_assert_ptr_nonnull(captured);
	return captured;
}

static const char *
str_at(json_t *root, const char *path)
{
	json_t *v = json_object_get(root, path);

	return json_string_value(v);
}

START_TEST(post_json)
{
	const char *hdrs[] = { "Content-Type: application/json",
	    "X-Multi: a", "X-Multi: b", "x-lower-case: v", NULL };
	const char *body = "{\"name\":\"cat\",\"n\":3}";
	json_t *d = send_request(EVHTTP_REQ_POST, "/webhooks/" SLUG
	    "/a/b?x=1&y=2&x=3", body, strlen(body), hdrs);
	json_t *url = json_object_get(d, "url"), *b = json_object_get(d,
	    "body"), *h = json_object_get(d, "headers");

	ck_assert_str_eq(str_at(d, "method"), "POST");
	ck_assert_str_eq(str_at(d, "raw_url"), "/webhooks/" SLUG
	    "/a/b?x=1&y=2&x=3");
	ck_assert_str_eq(str_at(url, "path"), "/webhooks/" SLUG "/a/b");
	ck_assert_str_eq(str_at(url, "path_suffix"), "/a/b");
	ck_assert_str_eq(str_at(json_object_get(url, "query"), "x"), "1, 3");
	ck_assert_str_eq(str_at(json_object_get(url, "query"), "y"), "2");
	ck_assert_str_eq(str_at(h, "Content-Type"), "application/json");
	ck_assert_str_eq(str_at(h, "X-Multi"), "a, b");
	ck_assert_str_eq(str_at(h, "X-Lower-Case"), "v");
	ck_assert(json_is_object(json_object_get(d, "trailers")));
	ck_assert_str_eq(str_at(b, "text"), body);
	/* base64 of the body */
	ck_assert_str_eq(str_at(b, "bytes"),
	    "eyJuYW1lIjoiY2F0IiwibiI6M30=");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b,
	    "json"), "name")), "cat");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(b,
	    "json"), "n")), 3);
	ck_assert(json_is_null(json_object_get(b, "form")));
}
END_TEST

START_TEST(get_empty_body)
{
	json_t *d = send_request(EVHTTP_REQ_GET, "/webhooks/" SLUG, NULL, 0,
	    NULL);
	json_t *b = json_object_get(d, "body");

	ck_assert_str_eq(str_at(d, "method"), "GET");
	ck_assert_str_eq(str_at(json_object_get(d, "url"), "path_suffix"), "");
	ck_assert_int_eq(json_object_size(json_object_get(json_object_get(d,
	    "url"), "query")), 0);
	ck_assert(json_is_null(json_object_get(b, "bytes")));
	ck_assert(json_is_null(json_object_get(b, "text")));
	ck_assert(json_is_null(json_object_get(b, "form")));
	ck_assert(json_is_null(json_object_get(b, "json")));
}
END_TEST

START_TEST(form_body)
{
	const char *hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL };
	const char *body = "a=1&b=hello+world&a=2";
	json_t *d = send_request(EVHTTP_REQ_POST, "/webhooks/" SLUG, body,
	    strlen(body), hdrs);
	json_t *form = json_object_get(json_object_get(d, "body"), "form");

	ck_assert(json_is_object(form));
	ck_assert_str_eq(str_at(form, "a"), "1, 2");
	ck_assert_str_eq(str_at(form, "b"), "hello world");
	/* not JSON */
	ck_assert(json_is_null(json_object_get(json_object_get(d, "body"),
	    "json")));
}
END_TEST

START_TEST(form_ignored_for_get_and_other_types)
{
	const char *hdrs[] = { "Content-Type: text/plain", NULL };
	const char *body = "a=1";
	json_t *d = send_request(EVHTTP_REQ_PUT, "/webhooks/" SLUG, body,
	    strlen(body), hdrs);

	ck_assert(json_is_null(json_object_get(json_object_get(d, "body"),
	    "form")));
	ck_assert_str_eq(str_at(json_object_get(d, "body"), "text"), "a=1");
}
END_TEST

START_TEST(binary_body)
{
	const char body[] = { 'a', '\xff', '\0', 'b' };
	json_t *d = send_request(EVHTTP_REQ_POST, "/webhooks/" SLUG, body,
	    sizeof body, NULL);
	json_t *b = json_object_get(d, "body");

	/* not UTF-8: no text, but the bytes survive */
	ck_assert(json_is_null(json_object_get(b, "text")));
	ck_assert_str_eq(str_at(b, "bytes"), "Yf8AYg==");
	ck_assert(json_is_null(json_object_get(b, "json")));
}
END_TEST

START_TEST(json_scalar_body)
{
	json_t *d = send_request(EVHTTP_REQ_POST, "/webhooks/" SLUG, "42", 2,
	    NULL);

	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(d,
	    "body"), "json")), 42);
}
END_TEST

START_TEST(encoded_path)
{
	json_t *d = send_request(EVHTTP_REQ_PATCH, "/webhooks/" SLUG
	    "/a%20b/c", NULL, 0, NULL);

	ck_assert_str_eq(str_at(d, "method"), "PATCH");
	ck_assert_str_eq(str_at(json_object_get(d, "url"), "path"),
	    "/webhooks/" SLUG "/a b/c");
	ck_assert_str_eq(str_at(json_object_get(d, "url"), "path_suffix"),
	    "/a b/c");
	ck_assert_str_eq(str_at(d, "raw_url"), "/webhooks/" SLUG "/a%20b/c");
}
END_TEST

START_TEST(invalid_utf8_path)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;

	conn = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
	req = evhttp_request_new(client_done, NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "x");
	evhttp_make_request(conn, req, EVHTTP_REQ_GET, "/webhooks/" SLUG
	    "/%ff");
	event_base_dispatch(base);
	evhttp_connection_free(conn);
	ck_assert_ptr_null(captured);
	ck_assert_str_eq(captured_cause, "the request path is not valid UTF-8");
}
END_TEST

/* A NUL byte in the body: no text, else the stored event reads back as
 * no data at all (found by tests/fuzz/fuzz-webhook.c). */
START_TEST(nul_in_body)
{
	struct evkeyvalq hdrs;
	char *cause = NULL, *text;
	json_t *d, *back, *b;

	TAILQ_INIT(&hdrs);
	d = webhook_event_data("POST", "/webhooks/" SLUG, &hdrs, "a\0b", 3,
	    &cause);
	ck_assert_ptr_nonnull(d);
	b = json_object_get(d, "body");
	ck_assert_str_eq(str_at(b, "bytes"), "YQBi");
	ck_assert(json_is_null(json_object_get(b, "text")));
	text = json_dumps(d, JSON_COMPACT);
	back = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_equal(back, d));
	json_decref(back);
	free(text);
	json_decref(d);
}
END_TEST

/* The parts as sent: an absolute URI, and what cannot be an event. */
START_TEST(event_data_parts)
{
	struct evkeyvalq hdrs;
	char *cause = NULL;
	json_t *d;

	TAILQ_INIT(&hdrs);
	evhttp_add_header(&hdrs, "x-one", "1");
	evhttp_add_header(&hdrs, "X-ONE", "2");
	d = webhook_event_data("GET", "http://h:1/webhooks/" SLUG "/p?q=1",
	    &hdrs, NULL, 0, &cause);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(str_at(d, "raw_url"), "http://h:1/webhooks/" SLUG
	    "/p?q=1");
	ck_assert_str_eq(str_at(json_object_get(d, "url"), "path_suffix"),
	    "/p");
	ck_assert_str_eq(str_at(json_object_get(json_object_get(d, "url"),
	    "query"), "q"), "1");
	ck_assert_str_eq(str_at(json_object_get(d, "headers"), "X-One"),
	    "1, 2");
	json_decref(d);
	ck_assert_ptr_null(webhook_event_data("GET", "/webhooks/" SLUG "/%00",
	    &hdrs, NULL, 0, &cause));
	ck_assert_str_eq(cause, "the request path does not decode to text");
	free(cause);
	cause = NULL;
	ck_assert_ptr_null(webhook_event_data("GET", "/other", &hdrs, NULL, 0,
	    &cause));
	ck_assert_str_eq(cause, "the request path is not /webhooks/<slug>");
	free(cause);
	evhttp_clear_headers(&hdrs);
}
END_TEST

static Suite *
webhook_suite(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("shape");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, post_json);
	tcase_add_test(tc, get_empty_body);
	tcase_add_test(tc, form_body);
	tcase_add_test(tc, nul_in_body);
	tcase_add_test(tc, event_data_parts);
	tcase_add_test(tc, form_ignored_for_get_and_other_types);
	tcase_add_test(tc, binary_body);
	tcase_add_test(tc, json_scalar_body);
	tcase_add_test(tc, encoded_path);
	tcase_add_test(tc, invalid_utf8_path);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(webhook_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed != 0;
}
