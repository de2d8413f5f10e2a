/*
 * webhook-sync.c: synchronous webhooks (triggers with is_sync: true).
 *
 * webhook.c commits the event and its session as for any webhook but,
 * instead of answering 202, hands the request to webhook_sync_begin(): it
 * waits here, keyed by its event id, until the session answers with the
 * "outcome" syscall (autokitteh.http_outcome), the session ends, or
 * webhooks.sync_timeout passes. The shapes are AutoKitteh's
 * (docs/autokitteh-interfaces.md, webhooks):
 *  - the first outcome sets the status and headers (Content-Type:
 *    application/json when json= is used and no Content-Type is given); a
 *    string or bytes body is written raw, any other body and json= are
 *    JSON-encoded with a trailing newline;
 *  - more=True opens a chunked reply: that outcome and later ones are
 *    chunks, and the first with more=False ends it;
 *  - the session ends before any outcome: COMPLETED 200 with an empty body,
 *    ERROR or STOPPED 502;
 *  - the event started no session (its method does not match the
 *    trigger's event_type): 502 "No session was created for event";
 *  - webhooks.sync_timeout: 504; daemon shutdown: 503.
 *
 * The outcome syscall runs inside the batch that records it (session.c);
 * the reply goes out from store_on_commit, after the commit. A replayed
 * session gets the recorded result and sends nothing again. An outcome
 * nobody waits for (not a sync webhook, already answered, timed out) is
 * ignored, as AutoKitteh does: it returns None and we log a line.
 *
 * A client that goes away leaves evhttp's request orphaned (no
 * connection): evhttp frees it when we reply, so every path ends with a
 * reply call, and we never start or write a chunk without a connection.
 */
#include "autokittehd.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

struct sync_req {
	struct evhttp_request	*req;
	char			 event_id[64];
	char			 session_id[64];
	struct event		*timer;
	int			 chunked;	/* a chunked reply is open */
	int			 outcomes;	/* outcomes sent */
	TAILQ_ENTRY(sync_req)	 entry;
};
TAILQ_HEAD(sync_reqs, sync_req);
static struct sync_reqs pending = TAILQ_HEAD_INITIALIZER(pending);

/* One outcome, from the syscall (inside the batch) to the reply. */
struct sync_outcome {
	char		 event_id[64];
	char		 session_id[64];
	int		 status;
	json_t		*headers;	/* {name: value} */
	int		 is_json;
	int		 more;
	unsigned char	*body;
	size_t		 body_len;
};

static struct sync_req *
sync_find_event(const char *event_id)
{
	struct sync_req *r;

	TAILQ_FOREACH(r, &pending, entry) {
		if (strcmp(r->event_id, event_id) == 0)
			return r;
	}
	return NULL;
}

static struct sync_req *
sync_find_session(const char *session_id)
{
	struct sync_req *r;

	TAILQ_FOREACH(r, &pending, entry) {
		if (*r->session_id != '\0' &&
		    strcmp(r->session_id, session_id) == 0)
			return r;
	}
	return NULL;
}


/*
 * While a streamed reply is open, evhttp watches the connection for reads
 * and would close it after http.request_timeout without any: a stream may
 * pause longer, up to webhooks.sync_timeout. Back to normal at its end.
 */
static void
sync_conn_timeout(struct evhttp_request *req, uint64_t ms)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct timeval tv;

	if (evcon == NULL)
		return;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(evcon, &tv);
}

static void
sync_free(struct sync_req *r)
{
	TAILQ_REMOVE(&pending, r, entry);
	if (r->timer != NULL)
		event_free(r->timer);
	free(r);
}

/*
 * Answer with a plain-text status, or end the chunked reply already under
 * way; either way the request is done (and freed by evhttp if orphaned).
 */
static void
sync_finish(struct sync_req *r, int status, const char *reason,
    const char *text)
{
	if (r->chunked) {
		sync_conn_timeout(r->req, controller->config->request_timeout_ms);
		/* evhttp frees an orphaned request here too. */
		evhttp_send_reply_end(r->req);
		log_info("webhook: event %s: the streamed reply ends (%s)",
		    r->event_id, text != NULL ? text : "done");
	} else {
		struct evbuffer *body = evbuffer_new();

		if (text != NULL) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->req), "Content-Type",
			    "text/plain; charset=utf-8");
			evbuffer_add_printf(body, "%s\n", text);
		}
		evhttp_send_reply(r->req, status, reason, body);
		evbuffer_free(body);
		metrics_http_request("/webhooks", status);
		if (text != NULL)
			log_info("webhook: event %s: %d %s", r->event_id,
			    status, text);
	}
	sync_free(r);
}

static void
sync_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sync_req *r = arg;
	char d[32], text[128];

	format_duration_ms(controller->config->webhooks_sync_timeout_ms, d,
	    sizeof d);
	snprintf(text, sizeof text, "the session did not answer within "
	    "webhooks.sync_timeout (%s)", d);
	sync_finish(r, 504, "Gateway Timeout", text);
}

/*
 * Shutdown (autokittehd's SIGTERM/SIGINT handler calls this before it
 * stops accepting): every waiting request gets 503 (a streamed reply just
 * ends); the loop turns at least once more, which writes them.
 */
void
webhook_sync_shutdown(void)
{
	struct sync_req *r;

	while ((r = TAILQ_FIRST(&pending)) != NULL)
		sync_finish(r, 503, "Service Unavailable", "autokittehd is "
		    "shutting down");
}

int
webhook_sync_begin(struct evhttp_request *req, const char *event_id)
{
	struct sync_req *r = xcalloc(1, sizeof *r);
	uint64_t ms = controller->config->webhooks_sync_timeout_ms;
	struct timeval tv;

	r->req = req;
	snprintf(r->event_id, sizeof r->event_id, "%s", event_id);
	r->timer = evtimer_new(controller->base, sync_timeout_cb, r);
	if (r->timer == NULL) {
		free(r);
		return -1;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
	TAILQ_INSERT_TAIL(&pending, r, entry);
	return 0;
}

void
webhook_sync_session_started(const char *event_id, const char *session_id)
{
	struct sync_req *r = sync_find_event(event_id);

	if (r == NULL || *r->session_id != '\0')
		return;
	snprintf(r->session_id, sizeof r->session_id, "%s", session_id);
	if (!r->outcomes)
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "AutoKitteh-Session-ID", session_id);
}

void
webhook_sync_no_session(const char *event_id)
{
	struct sync_req *r = sync_find_event(event_id);

	if (r != NULL)
		sync_finish(r, 502, "Bad Gateway", "No session was created for "
		    "event");
}

void
webhook_sync_session_ended(const char *session_id, const char *state)
{
	struct sync_req *r = sync_find_session(session_id);
	char text[64];

	if (r == NULL)
		return;
	if (r->chunked || strcasecmp(state, "completed") == 0) {
		sync_finish(r, 200, "OK", r->chunked ? "the session ended" :
		    NULL);
		return;
	}
	snprintf(text, sizeof text, "the session ended in %s",
	    strcasecmp(state, "error") == 0 ? "ERROR" :
	    strcasecmp(state, "stopped") == 0 ? "STOPPED" : state);
	sync_finish(r, 502, "Bad Gateway", text);
}

/* ---- the outcome syscall ---- */

static void
sync_outcome_free(struct sync_outcome *o)
{
	json_decref(o->headers);
	free(o->body);
	free(o);
}

/* After the commit that recorded the outcome: send it. */
static void
sync_outcome_send(int ok, const char *cause, void *arg)
{
	struct sync_outcome *o = arg;
	struct sync_req *r = ok ? sync_find_event(o->event_id) : NULL;
	struct evkeyvalq *out;
	struct evbuffer *body;
	const char *name;
	json_t *v;
	int has_type = 0;

	if (r == NULL) {
		if (ok)
			log_info("session %s: outcome for event %s ignored: "
			    "its request was answered meanwhile",
			    o->session_id, o->event_id);
		sync_outcome_free(o);
		return;
	}
	body = evbuffer_new();
	if (o->body_len > 0)
		evbuffer_add(body, o->body, o->body_len);
	if (r->chunked) {
		if (evhttp_request_get_connection(r->req) == NULL) {
			/* The client went away: end (and free) the request. */
			sync_finish(r, 0, NULL, "the client went away");
		} else {
			if (evbuffer_get_length(body) > 0)
				evhttp_send_reply_chunk(r->req, body);
			r->outcomes++;
			if (!o->more)
				sync_finish(r, 0, NULL, NULL);
		}
		evbuffer_free(body);
		sync_outcome_free(o);
		return;
	}
	out = evhttp_request_get_output_headers(r->req);
	json_object_foreach(o->headers, name, v) {
		if (strcasecmp(name, "Content-Type") == 0)
			has_type = 1;
		evhttp_remove_header(out, name);
		evhttp_add_header(out, name, json_string_value(v));
	}
	if (o->is_json && !has_type)
		evhttp_add_header(out, "Content-Type", "application/json");
	r->outcomes++;
	if (!o->more || evhttp_request_get_connection(r->req) == NULL) {
		/* Complete, or orphaned: evhttp_send_reply frees it. */
		evhttp_send_reply(r->req, o->status, NULL, body);
		metrics_http_request("/webhooks", o->status);
		log_info("webhook: event %s: session %s answered %d",
		    r->event_id, o->session_id, o->status);
		sync_free(r);
	} else {
		sync_conn_timeout(r->req,
		    controller->config->webhooks_sync_timeout_ms + 1000);
		evhttp_send_reply_start(r->req, o->status, NULL);
		metrics_http_request("/webhooks", o->status);
		log_info("webhook: event %s: session %s answered %d, streaming",
		    r->event_id, o->session_id, o->status);
		r->chunked = 1;
		if (evbuffer_get_length(body) > 0)
			evhttp_send_reply_chunk(r->req, body);
	}
	evbuffer_free(body);
	sync_outcome_free(o);
}

/* Is event_id an event of the same project as session_id? */
static int
event_in_session_project(struct store *s, const char *event_id,
    const char *session_id)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT 1 FROM events e JOIN "
	    "sessions x ON x.project_id = e.project_id WHERE e.event_id = ? "
	    "AND x.session_id = ?");
	int ok;

	if (st == NULL)
		return 0;
	sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, session_id, -1, SQLITE_STATIC);
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

static enum syscall_rc
outcome_fail(struct sync_outcome *o, char **cause, const char *text)
{
	sync_outcome_free(o);
	*cause = xstrdup(text);
	return SYSCALL_FAIL;
}

/* A JSON-encoded body: t and a newline, as Go's json.Encoder writes. */
static void
set_text_body(struct sync_outcome *o, char *t)
{
	char *b;

	xasprintf(&b, "%s\n", t);
	free(t);
	o->body = (unsigned char *)b;
	o->body_len = strlen(b);
}

/* The session's own event, or "" (a session no event started). */
static void
session_event_id(struct store *s, const char *session_id, char *out,
    size_t size)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT event_id FROM sessions "
	    "WHERE session_id = ?");

	*out = '\0';
	if (st == NULL)
		return;
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		snprintf(out, size, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static enum syscall_rc
syscall_outcome_fn(struct store *s, struct syscall_ctx *x, json_t **result,
    int64_t *wake_at, char **cause)
{
	struct sync_outcome *o = xcalloc(1, sizeof *o);
	json_t *a = x->args, *v, *hv;
	const char *hk;

	(void)wake_at;
	snprintf(o->session_id, sizeof o->session_id, "%s", x->session_id);
	v = json_object_get(a, "status_code");
	if (v == NULL || json_is_null(v))
		o->status = 200;
	else if (!json_is_integer(v) || (json_integer_value(v) != 0 &&
	    (json_integer_value(v) < 100 || json_integer_value(v) > 599)))
		return outcome_fail(o, cause, "http_outcome: status_code must "
		    "be an integer from 100 to 599");
	else
		o->status = json_integer_value(v) == 0 ? 200 :
		    (int)json_integer_value(v);

	v = json_object_get(a, "more");
	if (v != NULL && !json_is_null(v) && !json_is_boolean(v))
		return outcome_fail(o, cause, "http_outcome: more must be a "
		    "bool");
	o->more = json_is_true(v);

	v = json_object_get(a, "headers");
	o->headers = json_object();
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_object(v))
			return outcome_fail(o, cause, "http_outcome: headers "
			    "must be a dict of str to str");
		json_object_foreach(v, hk, hv) {
			if (!json_is_string(hv) || *hk == '\0' ||
			    strpbrk(hk, "\r\n:") != NULL ||
			    strpbrk(json_string_value(hv), "\r\n") != NULL)
				return outcome_fail(o, cause, "http_outcome: "
				    "headers must be a dict of str to str, "
				    "without line breaks");
			json_object_set(o->headers, hk, hv);
		}
	}

	o->is_json = json_is_true(json_object_get(a, "json_set"));
	v = json_object_get(a, "body_b64");
	hv = json_object_get(a, "body");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || api_base64_decode(json_string_value(v),
		    json_string_length(v), &o->body, &o->body_len) != 0)
			return outcome_fail(o, cause, "http_outcome: body_b64 "
			    "must be base64");
		if (hv != NULL && !json_is_null(hv))
			return outcome_fail(o, cause, "http_outcome: give body "
			    "or body_b64, not both");
	} else if (hv != NULL && !json_is_null(hv)) {
		if (json_is_string(hv)) {
			o->body_len = json_string_length(hv);
			o->body = xmalloc(o->body_len + 1);
			memcpy(o->body, json_string_value(hv), o->body_len);
		} else {
			char *t = json_dumps(hv, JSON_COMPACT |
			    JSON_ENCODE_ANY);

			if (t == NULL)
				return outcome_fail(o, cause, "http_outcome: "
				    "the body cannot be encoded");
			set_text_body(o, t);
		}
	}
	if (o->is_json) {
		char *t;

		if (o->body != NULL)
			return outcome_fail(o, cause, "http_outcome: give body "
			    "or json, not both");
		t = json_dumps(json_object_get(a, "json") != NULL ?
		    json_object_get(a, "json") : json_null(), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		if (t == NULL)
			return outcome_fail(o, cause, "http_outcome: json "
			    "cannot be encoded");
		set_text_body(o, t);
	}

	v = json_object_get(a, "event_id");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v))
			return outcome_fail(o, cause, "http_outcome: event_id "
			    "must be a str");
		snprintf(o->event_id, sizeof o->event_id, "%s",
		    json_string_value(v));
	}
	if (*o->event_id == '\0')
		session_event_id(s, x->session_id, o->event_id,
		    sizeof o->event_id);
	else if (!event_in_session_project(s, o->event_id, x->session_id))
		return outcome_fail(o, cause, "http_outcome: event_id is not "
		    "an event of this session's project");

	/* AutoKitteh's OUTCOME log record. */
	v = json_pack("{s:i, s:b, s:s}", "status_code", o->status, "more",
	    o->more, "event_id", o->event_id);
	if (session_log_append(s, x->session_id, "OUTCOME", v) != 0) {
		json_decref(v);
		sync_outcome_free(o);
		*cause = xstrdup("http_outcome: the outcome could not be "
		    "recorded");
		return SYSCALL_FAIL;
	}
	json_decref(v);

	*result = json_pack("{s:n}", "value");
	if (*o->event_id == '\0' || sync_find_event(o->event_id) == NULL) {
		log_info("session %s: outcome (%d) ignored: no request waits "
		    "for event %s", x->session_id, o->status,
		    *o->event_id != '\0' ? o->event_id : "(none)");
		sync_outcome_free(o);
		return SYSCALL_DONE;
	}
	store_on_commit(s, sync_outcome_send, o);
	return SYSCALL_DONE;
}

const struct syscall_def syscall_outcome = { "outcome", syscall_outcome_fn };
