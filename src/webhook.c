/*
 * webhook.c: /webhooks/<slug>[/sub/path]: an HTTP request becomes an event
 * and the event starts sessions.
 *
 * No authentication: the slug (26 random base32 characters) is the secret.
 * The request is shaped exactly as AutoKitteh shapes it (method, raw_url,
 * url{path, query, path_suffix}, headers, trailers, body{bytes, text,
 * form, json}); the event type is the lowercased method. The event (its
 * destination the trigger) is saved and dispatched (dispatch.c) in one
 * write: the sessions it starts on the ACTIVE deployment are committed
 * before we answer 202 with AutoKitteh-Event-ID; then they are scheduled. Unknown slug: 404. Body over
 * webhooks.max_body_size: 413. A synchronous trigger (is_sync) answers
 * with the session's outcome instead of 202 (webhook-sync.c).
 */
#include "autokittehd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#define SLUG_LEN 26

struct webhook_target {
	char	 trigger_id[64];
	char	 name[128];
	char	 project_id[64];
	int	 is_sync;
};

struct webhook_request {
	struct evhttp_request	*req;
	struct webhook_target	 target;
	int			 start_session;
	char			 event_id[64];
	char			 session_id[64];	/* when started */
	char			*data;		/* JSON text */
	char			*memo;
	const char		*event_type;
};

/* Go's canonical header name: "content-type" -> "Content-Type". */
static void
canonical_header(const char *in, char *out, size_t size)
{
	size_t i;
	int upper = 1;

	for (i = 0; in[i] != '\0' && i + 1 < size; i++) {
		out[i] = upper ? (char)toupper((unsigned char)in[i]) :
		    (char)tolower((unsigned char)in[i]);
		upper = in[i] == '-';
	}
	out[i] = '\0';
}

/* Can s be a JSON string (valid UTF-8)? */
static int
is_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* obj[key] = value, or "old, value" when key is there already. */
static void
join_value(json_t *obj, const char *key, const char *value)
{
	json_t *old = json_object_get(obj, key);
	char *joined;

	if (old == NULL) {
		json_object_set_new(obj, key, json_string(value));
		return;
	}
	xasprintf(&joined, "%s, %s", json_string_value(old), value);
	json_object_set_new(obj, key, json_string(joined));
	free(joined);
}

static json_t *
parse_pairs(const char *text)
{
	struct evkeyvalq kv;
	struct evkeyval *e;
	json_t *out = json_object();

	TAILQ_INIT(&kv);
	if (text == NULL || evhttp_parse_query_str(text, &kv) != 0) {
		evhttp_clear_headers(&kv);
		return out;
	}
	TAILQ_FOREACH(e, &kv, next) {
		if (!is_utf8(e->key) || !is_utf8(e->value))
			continue;	/* not UTF-8: not representable */
		join_value(out, e->key, e->value);
	}
	evhttp_clear_headers(&kv);
	return out;
}

static json_t *
body_json(const uint8_t *body, size_t len, const char *content_type,
    const char *method)
{
	json_t *b = json_object(), *form = NULL, *parsed, *text;

	if (len == 0) {
		json_object_set_new(b, "bytes", json_null());
		json_object_set_new(b, "text", json_null());
		json_object_set_new(b, "form", json_null());
		json_object_set_new(b, "json", json_null());
		return b;
	}
	{
		char *enc = xmalloc(4 * ((len + 2) / 3) + 1);

		EVP_EncodeBlock((unsigned char *)enc, body, (int)len);
		json_object_set_new(b, "bytes", json_string(enc));
		free(enc);
	}
	/* Data is stored as JSON text and read back without JSON_ALLOW_NUL:
	 * a body with a NUL byte has no text (its bytes keep it), or the
	 * whole event would read back as no data. */
	text = memchr(body, '\0', len) == NULL ?
	    json_stringn((const char *)body, len) : NULL;
	json_object_set_new(b, "text", text != NULL ? text : json_null());
	if (content_type != NULL && strncasecmp(content_type,
	    "application/x-www-form-urlencoded", 33) == 0 &&
	    (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0)) {
		char *copy = xstrndup((const char *)body, len);

		form = parse_pairs(copy);
		free(copy);
		if (json_object_size(form) == 0) {
			json_decref(form);
			form = NULL;
		}
	}
	json_object_set_new(b, "form", form != NULL ? form : json_null());
	/* No JSON_ALLOW_NUL: data is stored as JSON text and read back
	 * without it; a body with \u0000 keeps its bytes and text only. */
	parsed = json_loadb((const char *)body, len, JSON_DECODE_ANY, NULL);
	json_object_set_new(b, "json", parsed != NULL ? parsed : json_null());
	return b;
}

static const char *
method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "GET";
}

static int slug_valid(const char *, size_t);

/*
 * The event data of a request, from its parts as they came in: method
 * ("POST"), uri (the request target as sent: "/webhooks/<slug>/a%20b?x=1",
 * or an absolute URI), headers and body. The URI is split the way evhttp
 * splits a request line (EVHTTP_URI_NONCONFORMANT), so this is what the
 * server sees. NULL with *cause when the request cannot be represented:
 * a URI that does not parse, a path that is not /webhooks/<slug>..., or
 * one that does not decode to text.
 */
json_t *
webhook_event_data(const char *method, const char *uri,
    const struct evkeyvalq *headers, const void *body, size_t len,
    char **cause)
{
	struct evhttp_uri *u;
	const char *raw_path;
	size_t prefix = strlen("/webhooks/") + SLUG_LEN, plen;
	json_t *data, *url, *hdrs, *p, *r;
	struct evkeyval *h;
	char name[256], *path;

	if ((u = evhttp_uri_parse_with_flags(uri,
	    EVHTTP_URI_NONCONFORMANT)) == NULL) {
		xasprintf(cause, "the request URI cannot be parsed");
		return NULL;
	}
	raw_path = evhttp_uri_get_path(u);
	if (raw_path == NULL || strncmp(raw_path, "/webhooks/", 10) != 0 ||
	    !slug_valid(raw_path + 10, strcspn(raw_path + 10, "/"))) {
		evhttp_uri_free(u);
		xasprintf(cause, "the request path is not /webhooks/<slug>");
		return NULL;
	}
	path = evhttp_uridecode(raw_path, 0, &plen);
	if (path == NULL || strlen(path) != plen) {
		free(path);
		evhttp_uri_free(u);
		xasprintf(cause, "the request path does not decode to text");
		return NULL;
	}
	p = json_string(path);
	r = json_string(uri);
	if (p == NULL || r == NULL) {
		json_decref(p);
		json_decref(r);
		free(path);
		evhttp_uri_free(u);
		xasprintf(cause, "the request path is not valid UTF-8");
		return NULL;
	}
	url = json_pack("{s:o, s:o, s:s}", "path", p, "query",
	    parse_pairs(evhttp_uri_get_query(u)),
	    "path_suffix", strlen(path) > prefix ? path + prefix : "");
	free(path);
	evhttp_uri_free(u);
	hdrs = json_object();
	TAILQ_FOREACH(h, headers, next) {
		if (!is_utf8(h->key) || !is_utf8(h->value))
			continue;
		canonical_header(h->key, name, sizeof name);
		join_value(hdrs, name, h->value);
	}
	data = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}",
	    "method", method,
	    "raw_url", r,
	    "url", url,
	    "headers", hdrs,
	    "trailers", json_object(),
	    "body", body_json(body, len, evhttp_find_header(headers,
	    "Content-Type"), method));
	return data;
}

/* The event data of a live request: webhook_event_data() on its parts. */
json_t *
webhook_request_to_data(struct evhttp_request *req, char **cause)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);

	return webhook_event_data(method_name(evhttp_request_get_command(req)),
	    evhttp_request_get_uri(req), evhttp_request_get_input_headers(req),
	    evbuffer_pullup(in, -1), len, cause);
}

/* The trigger with this slug, if its project has an ACTIVE deployment. */
static int
webhook_find(const char *slug, struct webhook_target *t)
{
	sqlite3_stmt *st = store_prepare(controller->store, "SELECT "
	    "t.trigger_id, t.name, t.project_id, t.is_sync FROM triggers t "
	    "WHERE t.webhook_slug = ? AND t.source_type = 'webhook' AND EXISTS "
	    "(SELECT 1 FROM deployments d WHERE d.project_id = t.project_id "
	    "AND d.state = 'active')");
	int found = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(t->trigger_id, sizeof t->trigger_id, "%s",
		    sqlite3_column_text(st, 0));
		snprintf(t->name, sizeof t->name, "%s",
		    sqlite3_column_text(st, 1));
		snprintf(t->project_id, sizeof t->project_id, "%s",
		    sqlite3_column_text(st, 2));
		t->is_sync = sqlite3_column_int(st, 3);
		found = 1;
	}
	sqlite3_finalize(st);
	return found;
}

static int
webhook_write(struct store *s, void *arg, char **cause)
{
	struct webhook_request *w = arg;
	struct webhook_target *t = &w->target;
	json_t *sessions = json_array();
	int n;

	if (event_insert(s, w->event_id, t->trigger_id, t->project_id,
	    w->event_type, w->data, w->memo, cause) != 0 ||
	    (n = dispatch_event(s, w->event_id, NULL, sessions, cause)) < 0) {
		json_decref(sessions);
		return -1;
	}
	/* A slug is one trigger: a sync webhook waits for its session. */
	w->start_session = n > 0;
	if (n > 0)
		snprintf(w->session_id, sizeof w->session_id, "%s",
		    json_string_value(json_array_get(sessions, 0)));
	if (n > 1)
		log_warning("webhook: event %s started %d sessions; a sync "
		    "answer follows the first, %s", w->event_id, n,
		    w->session_id);
	json_decref(sessions);
	return 0;
}

static void
webhook_reply(struct evhttp_request *req, int status, const char *reason,
    const char *text)
{
	server_reply_line(req, "/webhooks", status, reason, text);
}

static void
webhook_committed(int ok, const char *cause, void *arg)
{
	struct webhook_request *w = arg;

	if (!ok) {
		log_error("webhook: the event could not be saved: %s", cause);
		webhook_reply(w->req, 503, "Service Unavailable",
		    store_is_full(controller->store) ? "the event could not "
		    "be saved: the disk holding the store is full; retry "
		    "later" : "the event could not be saved; retry later");
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(w->req),
		    "AutoKitteh-Event-ID", w->event_id);
		evhttp_add_header(evhttp_request_get_output_headers(w->req),
		    "Cache-Control", "no-cache");
		log_info("webhook: event %s for trigger %s (%s)", w->event_id,
		    w->target.name, w->target.project_id);
		if (!w->target.is_sync) {
			evhttp_send_reply(w->req, 202, "Accepted", NULL);
			metrics_http_request("/webhooks", 202);
		} else if (webhook_sync_begin(w->req, w->event_id) != 0)
			webhook_reply(w->req, 503, "Service Unavailable", "the "
			    "request cannot wait for its session; retry later");
		else if (w->start_session)
			webhook_sync_session_started(w->event_id,
			    w->session_id);
		else
			webhook_sync_no_session(w->event_id);
		/*
		 * dispatch.c schedules the sessions on the next turn: the 202
		 * is written before the RUNNING record's commit (and its
		 * fsync) can delay it.
		 */
	}
	free(w->data);
	free(w->memo);
	free(w);
}

static int
slug_valid(const char *s, size_t len)
{
	if (len != SLUG_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) &&
		    !(s[i] >= 'a' && s[i] <= 'z'))
			return 0;
	}
	return 1;
}

void
webhook_handle(struct evhttp_request *req, const char *raw_path)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct webhook_request *w;
	char slug[SLUG_LEN + 1], *cause = NULL, *lower, peer[64] = "";
	const char *rest = raw_path + strlen("/webhooks/"), *addr = NULL;
	size_t slen = strcspn(rest, "/");
	json_t *data, *memo;
	ev_uint16_t port = 0;

	if (!slug_valid(rest, slen)) {
		webhook_reply(req, 404, "Not Found", "no such webhook");
		return;
	}
	memcpy(slug, rest, SLUG_LEN);
	slug[SLUG_LEN] = '\0';
	w = xcalloc(1, sizeof *w);
	w->req = req;
	if (webhook_find(slug, &w->target) != 1) {
		free(w);
		webhook_reply(req, 404, "Not Found", "no active deployment has "
		    "a webhook trigger at this address");
		return;
	}
	if (evbuffer_get_length(in) > controller->config->webhooks_max_body_size) {
		char size[32], text[128];

		free(w);
		format_size_bytes(controller->config->webhooks_max_body_size,
		    size, sizeof size);
		snprintf(text, sizeof text, "the body is larger than "
		    "webhooks.max_body_size (%s)", size);
		webhook_reply(req, 413, "Payload Too Large", text);
		return;
	}
	if ((data = webhook_request_to_data(req, &cause)) == NULL) {
		free(w);
		webhook_reply(req, 400, "Bad Request", cause);
		free(cause);
		return;
	}
	w->event_type = lower = xstrdup(json_string_value(json_object_get(data,
	    "method")));
	for (char *c = lower; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	evhttp_connection_get_peer(evhttp_request_get_connection(req),
	    (char **)&addr, &port);
	if (addr != NULL)
		snprintf(peer, sizeof peer, "%s:%u", addr, (unsigned)port);
	memo = json_pack("{s:s, s:s, s:s, s:s}", "method",
	    json_string_value(json_object_get(data, "method")), "webhook_slug",
	    slug, "remote_addr", peer, "trigger_id", w->target.trigger_id);
	w->data = json_dumps(data, JSON_COMPACT);
	w->memo = json_dumps(memo, JSON_COMPACT);
	json_decref(data);
	json_decref(memo);
	if (typeid_new("evt", w->event_id, sizeof w->event_id) != 0 ||
	    store_write(controller->store, webhook_write, w, webhook_committed,
	    w, &cause) != 0) {
		webhook_reply(req, 503, "Service Unavailable",
		    store_is_full(controller->store) ? "the event could not "
		    "be saved: the disk holding the store is full; retry "
		    "later" : "the event could not be saved; retry later");
		log_error("webhook: %s", cause != NULL ? cause : "no event id");
		free(cause);
		free(w->data);
		free(w->memo);
		free(lower);
		free(w);
		return;
	}
	/* event_type is bound during the write, which ran already. */
	free(lower);
	w->event_type = NULL;
	/*
	 * Its worker prepares while the commit syncs; the project's code
	 * waits for GO, sent once the event and session are committed
	 * (docs/DURABILITY.md). w is freed only by the commit's callback.
	 */
	if (w->start_session)
		session_start_early(w->session_id);
}
