/*
 * server-http.c: the HTTP listeners, their limits, and request dispatch.
 *
 * Two evhttp servers share one dispatch function: one on the TCP address
 * (bearer tokens) and one on the Unix socket (peer credentials). Both bind
 * while we may still be root; they start accepting once the store is open.
 *
 * evhttp enforces the body limit (413) itself. What it does not do we add
 * per connection, from the bufferevent we create for it (evhttp_set_bevcb):
 *  - a deadline: a request must arrive whole within request_timeout of its
 *    first byte, or the client gets 408 and the connection is closed. A
 *    client trickling one byte a second never trips a read timeout, so this
 *    is a separate timer that only the dispatch of a complete request stops;
 *  - the head's checks (http-head.c), fed the head's bytes as they arrive:
 *    its size (431 past max_header_size, or 414 while still in the
 *    request line; evhttp's own, larger limit stays as a backstop) and the
 *    framing rules evhttp is lax about, which a client could use to
 *    smuggle a request past a proxy (400, or 501);
 *  - a connection limit per listener: past max_connections a new TCP
 *    connection gets 503, and a flood on the TCP port cannot lock akctl
 *    out of the admin socket.
 * Early answers are written straight to the socket, which is then shut
 * down; evhttp sees EOF and frees the connection as it would for any
 * client that went away. A request evhttp had already buffered whole on
 * such a connection is never dispatched.
 *
 * API replies that depend on a write are sent from the group-commit
 * callback, after the commit (store-commit.c).
 */
#include "autokittehd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

enum conn_phase { CONN_HEAD, CONN_BODY, CONN_BUSY };

struct listener {
	struct server			*server;
	int				 is_unix;
	int				 fd;
	size_t				 nconns;
	char				 address[128];
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
};

struct conn {
	struct listener		*listener;
	struct bufferevent	*bev;
	struct evhttp_connection *evcon;
	struct evbuffer_cb_entry *input_cb;
	struct event		*deadline;
	int			 fd;		/* -1 until attached */
	int			 attached;
	int			 over_limit;
	int			 aborted;	/* answered early, shut down */
	enum conn_phase		 phase;
	struct http_head	 head;		/* the request arriving */
	int			 have_peer;
	struct peer		 peer;
	struct conn		*next_pending;	/* created, not yet attached */
};

struct api_call {
	struct server		*server;
	struct evhttp_request	*req;
	const char		*route;
	struct peer		 peer;
	char			 token_id[64];
	json_t			*response;	/* sent after the commit */
};

struct server {
	struct event_base	*base;
	const struct config	*config;
	struct store		*store;
	struct listener		 listeners[2];
	size_t			 nlisteners;
	struct conn		**conns;	/* by fd */
	size_t			 nconns_slots;
	struct conn		*pending;
	size_t			 nconns;
	size_t			 inflight;
	int			 ready;
	int			 stopping;
	gid_t			 group;		/* group autokitteh or -1 */
	time_t			 started;
};

static const char ROUTE_HEALTHZ[] = "/healthz";
static const char ROUTE_READYZ[] = "/readyz";
static const char ROUTE_METRICS[] = "/metrics";
static const char ROUTE_OTHER[] = "other";

static void conn_free(struct conn *);

/* ---- early answers written straight to the socket ---- */

static void
conn_abort(struct conn *c, int status, const char *reason, const char *text)
{
	char buf[512];
	int n, fd = bufferevent_getfd(c->bev);

	n = snprintf(buf, sizeof buf, "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    status, reason, strlen(text), text);
	if (fd != -1) {
		ssize_t rc = send(fd, buf, (size_t)n, MSG_NOSIGNAL |
		    MSG_DONTWAIT);

		(void)rc;
		shutdown(fd, SHUT_RDWR);
	}
	metrics_http_request(ROUTE_OTHER, status);
	c->aborted = 1;
	c->phase = CONN_BUSY;
	if (c->deadline != NULL)
		event_del(c->deadline);
}

static void
conn_deadline_cb(evutil_socket_t fd, short events, void *arg)
{
	struct conn *c = arg;
	char text[128], d[32];

	if (c->phase == CONN_BUSY)
		return;
	format_duration_ms(c->listener->server->config->request_timeout_ms, d,
	    sizeof d);
	snprintf(text, sizeof text, "the request did not arrive within "
	    "http.request_timeout (%s)\n", d);
	log_debug("http: %s: closing a connection: %s", c->listener->address,
	    text);
	conn_abort(c, 408, "Request Timeout", text);
}

/* The head broke a rule of http-head.c: answer why and close. */
static void
conn_refuse(struct conn *c)
{
	const struct http_head *h = &c->head;
	char text[256], size[32];
	const char *reason;

	switch (h->status) {
	case 414:
		reason = "URI Too Long";
		break;
	case 431:
		reason = "Request Header Fields Too Large";
		break;
	case 501:
		reason = "Not Implemented";
		break;
	default:
		reason = "Bad Request";
		break;
	}
	if (h->status == 414 || h->status == 431) {
		format_size_bytes(c->listener->server->config->max_header_size,
		    size, sizeof size);
		snprintf(text, sizeof text, "%s (%s)\n", h->cause, size);
	} else
		snprintf(text, sizeof text, "malformed request: %s\n",
		    h->cause);
	log_debug("http: %s: refusing a request: %d %s",
	    c->listener->address, h->status, h->cause);
	conn_abort(c, h->status, reason, text);
}

static void
conn_arm_deadline(struct conn *c)
{
	uint64_t ms = c->listener->server->config->request_timeout_ms;
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	event_add(c->deadline, &tv);
}

/*
 * Feed the head of the request in CONN_HEAD to its checks (http-head.c)
 * as it arrives: n bytes of buf from at. The head's end starts the body.
 */
static void
conn_head_scan(struct conn *c, struct evbuffer *buf, struct evbuffer_ptr at,
    size_t n)
{
	size_t limit = c->listener->server->config->max_header_size;
	struct evbuffer_iovec v[8];

	while (n > 0 && c->phase == CONN_HEAD) {
		int nv = evbuffer_peek(buf, (ev_ssize_t)n, &at, v, 8);
		size_t done = 0;

		if (nv <= 0)
			return;
		for (int i = 0; i < nv && i < 8 && done < n; i++) {
			size_t len = v[i].iov_len < n - done ? v[i].iov_len :
			    n - done;

			switch (http_head_feed(&c->head, v[i].iov_base, len,
			    limit, NULL)) {
			case HTTP_HEAD_DONE:
				c->phase = CONN_BODY;
				return;
			case HTTP_HEAD_BAD:
				conn_refuse(c);
				return;
			}
			done += len;
		}
		n -= done;
		if (evbuffer_ptr_set(buf, &at, done, EVBUFFER_PTR_ADD) != 0)
			return;
	}
}

static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct conn *c = arg;
	struct evbuffer_ptr at;

	if (c->phase != CONN_HEAD || info->n_added == 0)
		return;
	if (evbuffer_ptr_set(buf, &at, info->orig_size - info->n_deleted,
	    EVBUFFER_PTR_SET) != 0)
		return;
	conn_head_scan(c, buf, at, info->n_added);
}

/* ---- connection lifetime ---- */

static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	conn_free(arg);
}

static void
conn_slot_set(struct server *s, int fd, struct conn *c)
{
	if ((size_t)fd >= s->nconns_slots) {
		size_t n = (size_t)fd * 2 + 16;

		s->conns = xreallocarray(s->conns, n, sizeof *s->conns);
		memset(s->conns + s->nconns_slots, 0,
		    (n - s->nconns_slots) * sizeof *s->conns);
		s->nconns_slots = n;
	}
	s->conns[fd] = c;
}

static void
conn_unpend(struct server *s, struct conn *c)
{
	for (struct conn **p = &s->pending; *p != NULL;
	    p = &(*p)->next_pending) {
		if (*p == c) {
			*p = c->next_pending;
			return;
		}
	}
}

/*
 * Learn the connection's evhttp_connection and fd, once evhttp has set
 * them up. evhttp makes the connection its bufferevent's callback argument.
 * If it is already gone (bufferevent_free clears the callbacks), drop ours.
 */
static void
conn_attach(struct conn *c)
{
	struct server *s = c->listener->server;
	void *cbarg = NULL;
	int fd;

	if (c->attached)
		return;
	conn_unpend(s, c);
	c->attached = 1;
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
	fd = bufferevent_getfd(c->bev);
	if (cbarg == NULL || fd == -1 || evhttp_connection_get_bufferevent(
	    cbarg) != c->bev) {
		bufferevent_decref(c->bev);
		c->bev = NULL;
		conn_free(c);
		return;
	}
	c->evcon = cbarg;
	c->fd = fd;
	if ((size_t)fd < s->nconns_slots && s->conns[fd] != NULL) {
		/* A connection evhttp freed without telling us. */
		conn_free(s->conns[fd]);
	}
	conn_slot_set(s, fd, c);
	evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
	bufferevent_decref(c->bev);
	if (c->over_limit) {
		log_warning("http: %s: more than http.max_connections (%llu) "
		    "connections; refusing one", c->listener->address,
		    (unsigned long long)s->config->max_connections);
		conn_abort(c, 503, "Service Unavailable", "too many "
		    "connections (http.max_connections); retry shortly\n");
	}
}

static void
conn_attach_cb(evutil_socket_t fd, short events, void *arg)
{
	conn_attach(arg);
}

static struct bufferevent *
conn_new_cb(struct event_base *base, void *arg)
{
	struct listener *l = arg;
	struct server *s = l->server;
	struct conn *c = xcalloc(1, sizeof *c);
	struct timeval zero = { 0, 0 };

	c->listener = l;
	c->fd = -1;
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("http: cannot allocate a bufferevent");
	bufferevent_incref(c->bev);	/* until conn_attach */
	c->input_cb = evbuffer_add_cb(bufferevent_get_input(c->bev),
	    conn_input_cb, c);
	c->deadline = evtimer_new(base, conn_deadline_cb, c);
	conn_arm_deadline(c);
	c->next_pending = s->pending;
	s->pending = c;
	s->nconns++;
	l->nconns++;
	metrics_http_connections(1);
	if (l->nconns > s->config->max_connections)
		c->over_limit = 1;
	event_base_once(base, -1, EV_TIMEOUT, conn_attach_cb, c, &zero);
	return c->bev;
}

static void
conn_free(struct conn *c)
{
	struct server *s = c->listener->server;

	if (!c->attached) {
		/* Still pending: conn_attach_cb will run and free it. */
		return;
	}
	if (c->fd != -1 && (size_t)c->fd < s->nconns_slots &&
	    s->conns[c->fd] == c)
		s->conns[c->fd] = NULL;
	if (c->bev != NULL && c->input_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev),
		    c->input_cb);
	if (c->evcon != NULL)
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
	if (c->deadline != NULL)
		event_free(c->deadline);
	s->nconns--;
	c->listener->nconns--;
	metrics_http_connections(-1);
	free(c);
}

/* The connection a request arrived on, attaching it if need be. */
static struct conn *
conn_of_request(struct server *s, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	int fd;

	if (evcon == NULL)
		return NULL;
	bev = evhttp_connection_get_bufferevent(evcon);
	fd = bufferevent_getfd(bev);
	if (fd >= 0 && (size_t)fd < s->nconns_slots && s->conns[fd] != NULL &&
	    s->conns[fd]->bev == bev)
		return s->conns[fd];
	for (struct conn *c = s->pending; c != NULL; c = c->next_pending) {
		if (c->bev == bev) {
			conn_attach(c);
			return c->attached && c->fd == fd ? c : NULL;
		}
	}
	return NULL;
}

/* A request is done (answered or abandoned): wait for the next one. */
static void request_complete_cb(struct evhttp_request *req, void *arg);

/* ---- replies ---- */

static void
reply_text(struct evhttp_request *req, const char *route, int status,
    const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add(body, text, strlen(text));
	evhttp_send_reply(req, status, reason, body);
	evbuffer_free(body);
	metrics_http_request(route, status);
}

/* A text/plain reply of text and a newline, counted for route. */
void
server_reply_line(struct evhttp_request *req, const char *route, int status,
    const char *reason, const char *text)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(body, "%s\n", text);
	evhttp_send_reply(req, status, reason, body);
	evbuffer_free(body);
	metrics_http_request(route, status);
}

static const char *
status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 499: return "Client Closed Request";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Internal Server Error";
	}
}

static void
reply_json(struct evhttp_request *req, const char *route, int status,
    const char *json)
{
	struct evbuffer *body = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(body, json, strlen(json));
	evbuffer_add(body, "\n", 1);
	evhttp_send_reply(req, status, status_reason(status), body);
	evbuffer_free(body);
	metrics_http_request(route, status);
}

static void
reply_connect_error(struct evhttp_request *req, const char *route,
    enum connect_code code, int http_status, const char *message)
{
	char *body = connect_error_body(code, message);

	reply_json(req, route, http_status != 0 ? http_status :
	    connect_code_http_status(code), body);
	free(body);
}

static void
api_call_free(struct api_call *call)
{
	call->server->inflight--;
	json_decref(call->response);
	free(call);
}

void
api_reply(struct api_call *call, json_t *response)
{
	char *s = response != NULL ? json_dumps(response, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;

	if (s == NULL) {
		/* A handler's json_pack failed (bad stored data?): not fatal. */
		json_decref(response);
		api_error(call, CONNECT_INTERNAL, "the answer could not be "
		    "encoded as JSON; see the server log");
		return;
	}
	reply_json(call->req, call->route, 200, s);
	free(s);
	json_decref(response);
	api_call_free(call);
}

void
api_error(struct api_call *call, enum connect_code code, const char *fmt, ...)
{
	char *message;
	va_list ap;

	va_start(ap, fmt);
	xvasprintf(&message, fmt, ap);
	va_end(ap);
	/* Failing while the store's disk is full: retry later, not a bug. */
	if (code == CONNECT_INTERNAL && call->server->store != NULL &&
	    store_is_full(call->server->store))
		code = CONNECT_UNAVAILABLE;
	if (code == CONNECT_INTERNAL || code == CONNECT_UNAVAILABLE)
		log_error("%s: %s", call->route, message);
	reply_connect_error(call->req, call->route, code, 0, message);
	free(message);
	api_call_free(call);
}

static void
api_write_done(int ok, const char *cause, void *arg)
{
	struct api_call *call = arg;
	json_t *response = call->response;

	if (!ok) {
		api_error(call, CONNECT_UNAVAILABLE, "the store could not "
		    "commit the change (%s); nothing was saved, retry later",
		    cause != NULL ? cause : "unknown error");
		return;
	}
	call->response = NULL;
	api_reply(call, response);
}

/*
 * Run fn in the current group-commit batch and send response once it has
 * committed. Takes the reference to response. On failure the caller's
 * request has been answered with an error.
 */
int
api_write(struct api_call *call, store_write_fn fn, void *arg,
    json_t *response)
{
	char *cause = NULL;

	call->response = response;
	if (store_write(call->server->store, fn, arg, api_write_done, call,
	    &cause) != 0) {
		/* A full disk is the server's state, not the request's fault. */
		if (store_is_full(call->server->store))
			api_error(call, CONNECT_UNAVAILABLE, "%s; nothing was "
			    "saved, retry later", cause);
		else
			api_error(call, CONNECT_INTERNAL, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Fetch an optional string field, answering invalid_argument on a non-string. */
int
api_string_field(struct api_call *call, json_t *req, const char *name,
    const char **value)
{
	json_t *v = json_object_get(req, name);

	*value = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		api_error(call, CONNECT_INVALID_ARGUMENT, "field \"%s\" must be "
		    "a string", name);
		return -1;
	}
	*value = json_string_value(v);
	return 0;
}

struct server *
api_server(struct api_call *call)
{
	return call->server;
}

/* ---- dispatch ---- */

static int
request_authorized(struct server *s, struct conn *c, struct evhttp_request *req,
    struct api_call *call, const char *route)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *secret;
	char id[64];

	if (c->listener->is_unix) {
		if (!c->have_peer) {
			if (auth_unix_peer(c->fd, &c->peer) != 0) {
				reply_connect_error(req, route,
				    CONNECT_PERMISSION_DENIED, 0, "cannot "
				    "identify the peer of this connection");
				return 0;
			}
			c->have_peer = 1;
		}
		if (!auth_unix_admit(&c->peer, c->fd, s->group, geteuid())) {
			reply_connect_error(req, route,
			    CONNECT_PERMISSION_DENIED, 0, "permission denied: "
			    "the admin socket admits root, the daemon's user "
			    "and members of group autokitteh");
			return 0;
		}
		if (call != NULL)
			call->peer = c->peer;
		return 1;
	}
	if (auth_bearer_parse(evhttp_find_header(h, "Authorization"),
	    &secret) != 0) {
		reply_connect_error(req, route, CONNECT_UNAUTHENTICATED, 0,
		    "this request needs an API token: create one on the "
		    "server with 'akctl token create' and send it as "
		    "'Authorization: Bearer TOKEN' (akctl: --token or "
		    "AKCTL_TOKEN)");
		return 0;
	}
	if (token_verify(s->store, secret, id, sizeof id) != 0) {
		reply_connect_error(req, route, CONNECT_UNAUTHENTICATED, 0,
		    "the API token is not valid (unknown or revoked): create "
		    "a new one on the server with 'akctl token create'");
		return 0;
	}
	if (call != NULL)
		snprintf(call->token_id, sizeof call->token_id, "%s", id);
	return 1;
}

static int
content_type_is_json(const char *ct)
{
	size_t n = strlen("application/json");

	return ct != NULL && strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void
dispatch_api(struct server *s, struct conn *c, struct evhttp_request *req,
    const char *path)
{
	const struct api_method *m = route_find_method(path);
	const char *route = m != NULL ? m->path : ROUTE_OTHER;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct api_call *call;
	json_t *request;
	char *cause = NULL;
	size_t len;

	if (m == NULL) {
		if (!request_authorized(s, c, req, NULL, route))
			return;
		reply_connect_error(req, route, CONNECT_UNIMPLEMENTED, 404,
		    "no such method; see docs/API.md for the methods this "
		    "server has");
		return;
	}
	/* Authorise first: no answer tells a stranger which methods exist. */
	call = xcalloc(1, sizeof *call);
	call->server = s;
	call->req = req;
	call->route = route;
	if (!request_authorized(s, c, req, call, route)) {
		free(call);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		reply_connect_error(req, route, CONNECT_UNIMPLEMENTED, 405,
		    "connect methods are called with POST");
		free(call);
		return;
	}
	if (!content_type_is_json(evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type"))) {
		reply_connect_error(req, route, CONNECT_INVALID_ARGUMENT, 415,
		    "send the request as Content-Type: application/json");
		free(call);
		return;
	}
	if (s->stopping) {
		reply_connect_error(req, route, CONNECT_UNAVAILABLE, 0,
		    "autokittehd is shutting down; retry when it is back");
		free(call);
		return;
	}
	len = evbuffer_get_length(in);
	request = connect_parse_request((const char *)evbuffer_pullup(in, -1),
	    len, m->fields, &cause);
	if (request == NULL) {
		reply_connect_error(req, route, CONNECT_INVALID_ARGUMENT, 0,
		    cause);
		free(cause);
		free(call);
		return;
	}
	s->inflight++;
	m->handler(call, request);
	json_decref(request);
}

static void
dispatch_cb(struct evhttp_request *req, void *arg)
{
	struct server *s = ((struct listener *)arg)->server;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct conn *c = conn_of_request(s, req);

	if (c == NULL) {
		evhttp_send_error(req, 500, "connection state lost");
		return;
	}
	if (c->aborted) {
		/* Answered early and shut down: evhttp had the request whole
		 * already. This reply goes nowhere; it lets evhttp free it. */
		evhttp_send_error(req, 400, NULL);
		return;
	}
	c->phase = CONN_BUSY;
	event_del(c->deadline);
	evhttp_request_set_on_complete_cb(req, request_complete_cb, c);
	if (c->over_limit) {
		reply_text(req, ROUTE_OTHER, 503, "Service Unavailable",
		    "too many connections (http.max_connections)\n");
		return;
	}
	if (path == NULL || *path == '\0')
		path = "/";
	if (strcmp(path, ROUTE_HEALTHZ) == 0) {
		ops_healthz(req, s);
		metrics_http_request(ROUTE_HEALTHZ, 200);
	} else if (strcmp(path, ROUTE_READYZ) == 0) {
		ops_readyz(req, s);
		metrics_http_request(ROUTE_READYZ, server_is_ready(s) ? 200 :
		    503);
	} else if (strcmp(path, ROUTE_METRICS) == 0) {
		if (request_authorized(s, c, req, NULL, ROUTE_METRICS)) {
			metrics_http_request(ROUTE_METRICS, 200);
			ops_metrics(req, s);
		}
	} else if (strncmp(path, "/autokitteh.", 12) == 0)
		dispatch_api(s, c, req, path);
	else if (strncmp(path, "/webhooks/", 10) == 0) {
		if (s->stopping)
			reply_text(req, "/webhooks", 503, "Service Unavailable",
			    "autokittehd is shutting down; retry shortly\n");
		else
			webhook_handle(req, path);
	} else if (integration_for_path(path) != NULL) {
		/* Unauthenticated: integrations verify their own requests. */
		if (s->stopping)
			reply_text(req, integration_for_path(path)->route, 503,
			    "Service Unavailable", "autokittehd is shutting "
			    "down; retry shortly\n");
		else
			integration_for_path(path)->handle(req, path);
	} else
		reply_text(req, ROUTE_OTHER, 404, "Not Found", "not found\n");
}

static void
request_complete_cb(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;

	struct evbuffer *in;
	struct evbuffer_ptr at;

	if (c->aborted)
		return;
	/* Keep-alive: the next request gets a fresh deadline and head, and
	 * what a pipelining client sent of it already is checked now. */
	c->phase = CONN_HEAD;
	http_head_reset(&c->head);
	if (c->deadline != NULL)
		conn_arm_deadline(c);
	in = bufferevent_get_input(c->bev);
	if (evbuffer_get_length(in) > 0 && evbuffer_ptr_set(in, &at, 0,
	    EVBUFFER_PTR_SET) == 0)
		conn_head_scan(c, in, at, evbuffer_get_length(in));
}

/* ---- listeners ---- */

static int
bind_tcp(struct server *s, struct listener *l, char **cause)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE |
	    AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc;

	if (config_split_address(s->config->listen, &host, &port) != 0) {
		xasprintf(cause, "server.listen \"%s\" is not host:port",
		    s->config->listen);
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		xasprintf(cause, "server.listen %s: %s", s->config->listen,
		    gai_strerror(rc));
		goto out;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof one) == -1 || bind(fd, res->ai_addr, res->ai_addrlen) ==
	    -1 || listen(fd, 511) == -1) {
		xasprintf(cause, "cannot listen on %s: %s%s", s->config->listen,
		    strerror(errno), errno == EADDRINUSE ? " (is another "
		    "autokittehd running? change server.listen or stop it)" :
		    "");
		if (fd != -1)
			close(fd);
		fd = -1;
		goto out;
	}
	l->fd = fd;
	snprintf(l->address, sizeof l->address, "%s", s->config->listen);
out:
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	free(port);
	return fd == -1 ? -1 : 0;
}

/* Is something accepting connections on this Unix socket path? */
static int
unix_socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), live;

	if (fd == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	close(fd);
	return live;
}

static int
bind_unix(struct server *s, struct listener *l, const struct privilege *priv,
    char **cause)
{
	const char *path = s->config->socket_path;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	char *dir, *slash;
	mode_t old;
	int fd;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0750) == 0 && priv->drop &&
		    chown(dir, priv->uid, s->group != (gid_t)-1 ? s->group :
		    priv->gid) == -1)
			log_warning("chown %s: %s", dir, strerror(errno));
	}
	free(dir);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			xasprintf(cause, "server.socket %s exists and is not a "
			    "socket: remove it or choose another path", path);
			return -1;
		}
		if (unix_socket_live(&sun)) {
			xasprintf(cause, "server.socket %s is in use by another "
			    "process (another autokittehd?): stop it or "
			    "choose another server.socket", path);
			return -1;
		}
		unlink(path);	/* stale, from a process that died */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		xasprintf(cause, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		xasprintf(cause, "cannot create server.socket %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (geteuid() == 0 && chown(path, priv->uid, s->group != (gid_t)-1 ?
	    s->group : priv->gid) == -1)
		log_warning("chown %s: %s", path, strerror(errno));
	else if (geteuid() != 0 && s->group != (gid_t)-1 &&
	    chown(path, (uid_t)-1, s->group) == -1)
		log_debug("chgrp %s: %s", path, strerror(errno));
	if (listen(fd, 511) == -1) {
		xasprintf(cause, "listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->is_unix = 1;
	snprintf(l->address, sizeof l->address, "%s", path);
	return 0;
}

struct server *
server_new(struct event_base *base, const struct config *cf,
    struct store *store, char **cause)
{
	struct server *s = xcalloc(1, sizeof *s);
	struct group *gr = getgrnam("autokitteh");

	s->base = base;
	s->config = cf;
	s->store = store;
	s->group = gr != NULL ? gr->gr_gid : (gid_t)-1;
	s->started = time(NULL);
	for (size_t i = 0; i < nitems(s->listeners); i++) {
		s->listeners[i].fd = -1;
		s->listeners[i].server = s;
	}
	return s;
}

/* Bind both listeners (as root, if we are): before dropping privileges. */
int
server_bind(struct server *s, const struct privilege *priv, char **cause)
{
	if (bind_tcp(s, &s->listeners[0], cause) != 0)
		return -1;
	s->nlisteners = 1;
	if (bind_unix(s, &s->listeners[1], priv, cause) != 0)
		return -1;
	s->nlisteners = 2;
	return 0;
}

static void
listener_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	evconnlistener_enable(arg);
}

static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct timeval pause = { 0, 100000 };

	/* EMFILE and friends: pause rather than spin. */
	log_warning("http: accepting connections: %s; pausing for 100ms",
	    strerror(errno));
	evconnlistener_disable(lev);
	event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT,
	    listener_resume_cb, lev, &pause);
}

int
server_start(struct server *s, char **cause)
{
	const struct config *cf = s->config;
	struct timeval tv = { (time_t)(cf->request_timeout_ms / 1000),
	    (suseconds_t)(cf->request_timeout_ms % 1000) * 1000 };

	for (size_t i = 0; i < s->nlisteners; i++) {
		struct listener *l = &s->listeners[i];

		l->http = evhttp_new(s->base);
		evhttp_set_max_body_size(l->http, (ev_ssize_t)cf->max_body_size);
		/* Our own count answers 431 first; this is the backstop. */
		evhttp_set_max_headers_size(l->http,
		    (ev_ssize_t)cf->max_header_size * 2 + 4096);
		evhttp_set_timeout_tv(l->http, &tv);
		evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
		evhttp_set_default_content_type(l->http, "text/plain");
		evhttp_set_bevcb(l->http, conn_new_cb, l);
		evhttp_set_gencb(l->http, dispatch_cb, l);
		l->bound = evhttp_accept_socket_with_handle(l->http, l->fd);
		if (l->bound == NULL) {
			xasprintf(cause, "cannot accept on %s", l->address);
			return -1;
		}
		evconnlistener_set_error_cb(evhttp_bound_socket_get_listener(
		    l->bound), listener_error_cb);
		log_info("listening on %s %s", l->is_unix ? "unix" : "tcp",
		    l->address);
	}
	return 0;
}

/* Graceful stop, step one: no new connections; /readyz says stopping. */
void
server_stop_accepting(struct server *s)
{
	s->stopping = 1;
	for (size_t i = 0; i < s->nlisteners; i++) {
		struct listener *l = &s->listeners[i];

		if (l->bound != NULL) {
			evhttp_del_accept_socket(l->http, l->bound);
			l->bound = NULL;
			l->fd = -1;
		}
		if (l->is_unix)
			unlink(l->address);
	}
}

size_t
server_inflight(struct server *s)
{
	return s->inflight;
}

void
server_free(struct server *s)
{
	if (s == NULL)
		return;
	server_stop_accepting(s);
	for (size_t i = 0; i < s->nlisteners; i++) {
		if (s->listeners[i].http != NULL)
			evhttp_free(s->listeners[i].http);
		if (s->listeners[i].fd != -1)
			close(s->listeners[i].fd);
	}
	/* Connections evhttp freed without a close callback. */
	for (size_t i = 0; i < s->nconns_slots; i++) {
		if (s->conns[i] != NULL)
			conn_free(s->conns[i]);
	}
	while (s->pending != NULL)
		conn_attach(s->pending);
	free(s->conns);
	free(s);
}

void
server_set_store(struct server *s, struct store *store)
{
	s->store = store;
}

void
server_set_ready(struct server *s, int ready)
{
	s->ready = ready;
}

/* Serving, and able to save changes (the store's disk is not full). */
int
server_is_ready(struct server *s)
{
	return s->ready && !s->stopping && (s->store == NULL ||
	    !store_is_full(s->store));
}

int
server_is_stopping(struct server *s)
{
	return s->stopping;
}

json_t *
server_listeners_json(struct server *s)
{
	json_t *list = json_array();

	for (size_t i = 0; i < s->nlisteners; i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "kind",
		    s->listeners[i].is_unix ? "unix" : "tcp", "address",
		    s->listeners[i].address));
	return list;
}

uint64_t
server_uptime_seconds(struct server *s)
{
	time_t now = time(NULL);

	return now > s->started ? (uint64_t)(now - s->started) : 0;
}

const struct config *
server_config(struct server *s)
{
	return s->config;
}

struct store *
server_store(struct server *s)
{
	return s->store;
}
