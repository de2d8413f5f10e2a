/*
 * integration-github.c: the "github" integration (reference section 6).
 *
 * Incoming events: POST /github/webhook, unauthenticated like AutoKitteh's
 * route: the request proves itself with X-Hub-Signature-256, the
 * HMAC-SHA256 of the raw body keyed with a connection's webhook_secret
 * var. Every github connection whose secret verifies the signature gets
 * the event (AutoKitteh's FindActiveConnectionIDs); none, or no signature:
 * 401 and nothing is stored. The event type is X-GitHub-Event ("push",
 * "issues"), the event data is the JSON payload itself, the destination
 * is the connection, and dispatch_event() starts the sessions of the
 * connection's triggers in the same transaction. X-GitHub-Delivery is
 * remembered in github_deliveries: GitHub redelivers on timeouts and on
 * request, and a delivery we have seen answers 200 "duplicate delivery"
 * without a new event. 202 once the event is committed.
 *
 * Status: OK when the connection has a pat or a webhook_secret var, else
 * init required. Test checks that the pat var is present and looks like a
 * GitHub token; autokittehd makes no outgoing calls, so it is not tried
 * against api.github.com.
 */
#include "autokittehd.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define GITHUB_ROUTE		"/github/webhook"
#define GITHUB_SIG_PREFIX	"sha256="

struct github_request {
	struct evhttp_request	*req;
	json_t			*connections;	/* [[connection_id, project_id]] */
	char			 event_type[GITHUB_MAX_EVENT_TYPE + 1];
	char			 delivery[GITHUB_MAX_DELIVERY + 1];
	char			*data;		/* JSON text of the payload */
	int			 duplicate;
	json_t			*event_ids;
	size_t			 sessions;
};

/*
 * Does header ("sha256=<64 hex digits>") carry the HMAC-SHA256 of body
 * keyed with secret? An empty secret verifies nothing. Constant time in
 * the digest comparison.
 */
int
github_signature_valid(const char *header, const void *body, size_t len,
    const char *secret)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	const char *hex;
	size_t plen = strlen(GITHUB_SIG_PREFIX);

	if (header == NULL || secret == NULL || *secret == '\0')
		return 0;
	if (strncmp(header, GITHUB_SIG_PREFIX, plen) != 0)
		return 0;
	hex = header + plen;
	if (strlen(hex) != 2 * sizeof want)
		return 0;
	for (size_t i = 0; i < sizeof want; i++) {
		int hi = OPENSSL_hexchar2int((unsigned char)hex[2 * i]);
		int lo = OPENSSL_hexchar2int((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    body != NULL ? body : (const void *)"", len, got, &got_len) ==
	    NULL || got_len != sizeof want)
		return 0;
	return CRYPTO_memcmp(want, got, sizeof want) == 0;
}

static void
github_reply(struct evhttp_request *req, int status, const char *reason,
    const char *text)
{
	server_reply_line(req, integration_github.route, status, reason, text);
}

/* The github connections whose webhook_secret verifies the signature. */
static json_t *
github_connections(const char *signature, const void *body, size_t len)
{
	sqlite3_stmt *st = store_prepare(controller->store, "SELECT "
	    "c.connection_id, c.project_id, v.value, v.sealed FROM connections "
	    "c JOIN vars v ON v.scope_id = c.connection_id AND v.name = "
	    "'webhook_secret' WHERE c.integration = 'github' ORDER BY "
	    "c.created_at, c.connection_id");
	json_t *found;
	char *secret, *why = NULL;

	if (st == NULL)
		return NULL;
	found = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		/* One that cannot be decrypted verifies nothing. */
		if ((secret = vars_column_value(st, 2, 3, id, "webhook_secret",
		    &why)) == NULL) {
			log_error("github: %s", why);
			free(why);
			why = NULL;
			continue;
		}
		if (github_signature_valid(signature, body, len, secret))
			json_array_append_new(found, json_pack("[s, s]", id,
			    (const char *)sqlite3_column_text(st, 1)));
		vars_value_free(secret);
	}
	sqlite3_finalize(st);
	return found;
}

/* The payload: the body, or its payload= field when form-encoded. */
static json_t *
github_payload(const char *content_type, const char *body, size_t len)
{
	json_t *data = NULL;

	if (content_type != NULL && strncasecmp(content_type,
	    "application/x-www-form-urlencoded", 33) == 0) {
		struct evkeyvalq kv;
		char *copy = xstrndup(body, len);
		const char *payload;

		TAILQ_INIT(&kv);
		if (strlen(copy) == len && evhttp_parse_query_str(copy, &kv) ==
		    0 && (payload = evhttp_find_header(&kv, "payload")) != NULL)
			data = json_loads(payload, 0, NULL);
		evhttp_clear_headers(&kv);
		free(copy);
	} else
		data = json_loadb(body, len, 0, NULL);
	if (data != NULL && !json_is_object(data)) {
		json_decref(data);
		data = NULL;
	}
	return data;
}

static int
github_write(struct store *s, void *arg, char **cause)
{
	struct github_request *g = arg;
	sqlite3_stmt *st;
	json_t *c, *sessions;
	size_t i;
	int rc;

	if (*g->delivery != '\0') {
		st = store_prepare(s, "INSERT OR IGNORE INTO github_deliveries "
		    "(delivery_id, received_at) VALUES (?, ?)");
		if (st == NULL) {
			xasprintf(cause, "the store is unavailable");
			return -1;
		}
		sqlite3_bind_text(st, 1, g->delivery, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_us());
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			xasprintf(cause, "saving the delivery: %s",
			    sqlite3_errmsg(store_db(s)));
			return -1;
		}
		if (sqlite3_changes(store_db(s)) == 0) {
			g->duplicate = 1;
			return 0;
		}
	}
	sessions = json_array();
	json_array_foreach(g->connections, i, c) {
		const char *conn = json_string_value(json_array_get(c, 0));
		const char *project = json_string_value(json_array_get(c, 1));
		char event_id[64], *memo;

		if (typeid_new("evt", event_id, sizeof event_id) != 0) {
			xasprintf(cause, "cannot get random bytes for an "
			    "event id");
			goto fail;
		}
		{
			json_t *m = json_pack("{s:s, s:s, s:s}", "integration",
			    "github", "connection_id", conn, "delivery_id",
			    g->delivery);

			memo = json_dumps(m, JSON_COMPACT);
			json_decref(m);
		}
		st = store_prepare(s, "INSERT INTO events (event_id, "
		    "destination_id, project_id, event_type, data, memo, "
		    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
		if (st == NULL) {
			free(memo);
			xasprintf(cause, "the store is unavailable");
			goto fail;
		}
		sqlite3_bind_text(st, 1, event_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, conn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, project, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, g->event_type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, g->data, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, memo, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 7, now_us());
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		free(memo);
		if (rc != SQLITE_DONE) {
			xasprintf(cause, "saving the event: %s",
			    sqlite3_errmsg(store_db(s)));
			goto fail;
		}
		json_array_append_new(g->event_ids, json_string(event_id));
		session_events_deliver(s, conn, event_id);
		if (dispatch_event(s, event_id, NULL, sessions, cause) < 0)
			goto fail;
	}
	g->sessions = json_array_size(sessions);
	json_decref(sessions);
	return 0;
fail:
	json_decref(sessions);
	return -1;
}

static void
github_free(struct github_request *g)
{
	json_decref(g->connections);
	json_decref(g->event_ids);
	free(g->data);
	free(g);
}

static void
github_schedule_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	session_schedule();
}

static void
github_committed(int ok, const char *cause, void *arg)
{
	struct github_request *g = arg;
	struct evkeyvalq *out = evhttp_request_get_output_headers(g->req);
	json_t *id;
	size_t i;

	if (!ok) {
		log_error("github: delivery %s could not be saved: %s",
		    g->delivery, cause);
		github_reply(g->req, 503, "Service Unavailable", "the event "
		    "could not be saved; retry later");
	} else if (g->duplicate) {
		log_info("github: delivery %s seen before: ignored",
		    g->delivery);
		github_reply(g->req, 200, "OK", "duplicate delivery");
	} else {
		json_array_foreach(g->event_ids, i, id)
			evhttp_add_header(out, "AutoKitteh-Event-ID",
			    json_string_value(id));
		evhttp_add_header(out, "Cache-Control", "no-cache");
		log_info("github: %s delivery %s: %zu event(s), %zu "
		    "session(s)", g->event_type, *g->delivery != '\0' ?
		    g->delivery : "(no id)", json_array_size(g->event_ids),
		    g->sessions);
		evhttp_send_reply(g->req, 202, "Accepted", NULL);
		metrics_http_request(integration_github.route, 202);
		if (g->sessions > 0)
			event_base_once(controller->base, -1, EV_TIMEOUT,
			    github_schedule_cb, NULL, &(struct timeval){ 0, 0 });
	}
	github_free(g);
}

static int
header_token_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr("-_.",
		    s[i]) == NULL)
			return 0;
	}
	return 1;
}

/*
 * A delivery whose signature verified -> its event: the type from
 * X-GitHub-Event into event_type[GITHUB_MAX_EVENT_TYPE + 1], the id from
 * X-GitHub-Delivery into delivery[GITHUB_MAX_DELIVERY + 1], and the data,
 * the payload object (new reference). NULL with *cause, the 400 answer.
 */
json_t *
github_delivery_parse(const struct evkeyvalq *hdrs, const void *body,
    size_t len, char *event_type, char *delivery, char **cause)
{
	const char *type, *id;
	json_t *data;

	type = evhttp_find_header(hdrs, "X-GitHub-Event");
	id = evhttp_find_header(hdrs, "X-GitHub-Delivery");
	/* GitHub always sends a delivery id; without one a signed body
	 * could be replayed past the de-duplication. */
	if (type == NULL || !header_token_valid(type, GITHUB_MAX_EVENT_TYPE) ||
	    id == NULL || *id == '\0' ||
	    !header_token_valid(id, GITHUB_MAX_DELIVERY)) {
		xasprintf(cause, "X-GitHub-Event and X-GitHub-Delivery are "
		    "required and must be short words");
		return NULL;
	}
	if ((data = github_payload(evhttp_find_header(hdrs, "Content-Type"),
	    body != NULL ? body : "", len)) == NULL) {
		xasprintf(cause, "the payload is not a JSON object");
		return NULL;
	}
	snprintf(event_type, GITHUB_MAX_EVENT_TYPE + 1, "%s", type);
	snprintf(delivery, GITHUB_MAX_DELIVERY + 1, "%s", id);
	return data;
}

static void
github_handle(struct evhttp_request *req, const char *path)
{
	struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *sig;
	struct github_request *g;
	size_t len = evbuffer_get_length(in);
	const char *body;
	json_t *conns, *data;
	char *cause = NULL;

	if (strcmp(path, GITHUB_ROUTE) != 0) {
		github_reply(req, 404, "Not Found", "not found");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		github_reply(req, 405, "Method Not Allowed", "GitHub webhooks "
		    "are POSTed");
		return;
	}
	if (len > controller->config->webhooks_max_body_size) {
		github_reply(req, 413, "Payload Too Large", "the body is "
		    "larger than webhooks.max_body_size");
		return;
	}
	body = (const char *)evbuffer_pullup(in, -1);
	if ((sig = evhttp_find_header(hdrs, "X-Hub-Signature-256")) == NULL) {
		github_reply(req, 401, "Unauthorized", "missing "
		    "X-Hub-Signature-256: set the webhook's secret in GitHub "
		    "to the connection's webhook_secret var");
		return;
	}
	if ((conns = github_connections(sig, body, len)) == NULL) {
		github_reply(req, 503, "Service Unavailable", "the store is "
		    "unavailable; retry later");
		return;
	}
	if (json_array_size(conns) == 0) {
		json_decref(conns);
		log_info("github: a delivery whose signature no connection's "
		    "webhook_secret verifies: refused");
		github_reply(req, 401, "Unauthorized", "invalid "
		    "X-Hub-Signature-256: no github connection's "
		    "webhook_secret verifies it");
		return;
	}
	g = xcalloc(1, sizeof *g);
	if ((data = github_delivery_parse(hdrs, body, len, g->event_type,
	    g->delivery, &cause)) == NULL) {
		json_decref(conns);
		free(g);
		github_reply(req, 400, "Bad Request", cause);
		free(cause);
		return;
	}
	g->req = req;
	g->connections = conns;
	g->event_ids = json_array();
	g->data = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	if (store_write(controller->store, github_write, g, github_committed,
	    g, &cause) != 0) {
		log_error("github: %s", cause);
		free(cause);
		github_reply(req, 503, "Service Unavailable", "the event could "
		    "not be saved; retry later");
		github_free(g);
	}
}

static enum connection_status
github_status(const char *connection_id, char **message)
{
	if (integration_var_set(connection_id, "pat") ||
	    integration_var_set(connection_id, "webhook_secret")) {
		*message = xstrdup("");
		return CONNECTION_OK;
	}
	*message = xstrdup("init required: set the connection's pat var (to "
	    "call GitHub) or webhook_secret var (to receive its webhooks)");
	return CONNECTION_INIT_REQUIRED;
}

/* ghp_/gho_/ghu_/ghs_/ghr_ + 36, github_pat_ + 82, or 40 hex digits. */
static int
github_pat_well_formed(const char *pat)
{
	static const char *const prefixes[] = { "github_pat_", "ghp_", "gho_",
	    "ghu_", "ghs_", "ghr_" };
	size_t n = strlen(pat);

	for (size_t i = 0; i < nitems(prefixes); i++) {
		size_t p = strlen(prefixes[i]);

		if (strncmp(pat, prefixes[i], p) != 0)
			continue;
		if (n - p < 20 || n > 255)
			return 0;
		for (size_t j = p; j < n; j++) {
			if (!isalnum((unsigned char)pat[j]) && pat[j] != '_')
				return 0;
		}
		return 1;
	}
	if (n != 40)
		return 0;
	for (size_t j = 0; j < n; j++) {
		if (!isxdigit((unsigned char)pat[j]))
			return 0;
	}
	return 1;
}

/* 0 with a note in *cause, or -1 with *cause. */
static int
github_test(const char *connection_id, char **cause)
{
	char *pat = integration_var(connection_id, "pat");
	int ok;

	if (pat == NULL || *pat == '\0') {
		vars_value_free(pat);
		xasprintf(cause, "the connection has no pat var: set it to a "
		    "GitHub personal access token to call GitHub");
		return -1;
	}
	ok = github_pat_well_formed(pat);
	vars_value_free(pat);
	if (!ok) {
		xasprintf(cause, "the pat var does not look like a GitHub "
		    "token (ghp_..., github_pat_..., or 40 hex digits)");
		return -1;
	}
	xasprintf(cause, "the pat var is set and well-formed; it was not "
	    "tried against GitHub: autokittehd makes no outgoing calls");
	return 0;
}

const struct integration integration_github = {
	.name = "github",
	.route = GITHUB_ROUTE,
	.handle = github_handle,
	.test = github_test,
	.status = github_status,
	.description = "GitHub: webhook events (push, issues, ...) and, in "
	    "sessions, autokitteh.github.github_client()",
};
